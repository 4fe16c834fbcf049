#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The two-way console on x86 under Bochs (docs/console.md), driven through
a pseudo-terminal as a person at a terminal would drive it.

`tools/strata run --arch x86_64` on a terminal puts Bochs's COM1 on a pty
in its term mode and relays it (tools/strata, BochsRelay): Bochs's file mode
has no input and its stdin belongs to its debugger. Keys reach Strata's own
16550 driver, Strata's console gives them to the VM with the focus, and the
VM's emulated 16550 hands them to the guest (tests/guests/x86/echo.c,
which polls LSR.DR, or in its interrupt builds halts and takes the receive
interrupt, IRQ 4, through the IOAPIC or the 8259: docs/x86-irq.md).

  console-x86/echo-one-vm    the prompt appears before any newline, a typed
                             line is echoed and answered, "quit" ends it
  console-x86/focus-two-vms  two echo guests: keys reach the focused VM
                             only, Ctrl-a 2 moves the focus, Ctrl-a x ends
  console-x86/echo-irq       two interrupt-driven echo guests, one through
                             the IOAPIC, one through the 8259 and LINT0:
                             each answers its line, counts its receive
                             interrupts and ends well

Verdicts rest on console events only (waits for text, bounded; no sleeps).
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import X86_ELF, Fail, private_dir, build_guests  # noqa: E402
from console_arm64 import Term, CTRL_A  # noqa: E402

WAIT = 240      # Bochs boots more slowly than QEMU


def launch(vms):
    argv = ["run", "--arch", "x86_64", "--strata", X86_ELF,
            "--timeout", "900"]
    for v in vms:
        argv += ["--vm", v]
    return Term(argv)


def echo_one_vm(elf):
    t = launch(["kernel=%s,name=solo,memory=16M" % elf])
    try:
        t.expect(r"^strata: interactive console: keys go to the VM with "
                 r"the focus", "the launcher's interactive line", WAIT)
        t.expect(r"^Strata: console: keys go to vm solo \(1 of 1; ",
                 "Strata's focus line", WAIT)
        t.expect(r"^\[solo\] echo: ready, polling COM1$", "ready", WAIT)
        t.expect(r"^\[solo\] echo> \Z", "the prompt before any newline",
                 WAIT, keep=True)
        t.type(b"hello x86\r")
        t.expect(r"^\[solo\] echo> hello x86$", "the echo", WAIT)
        t.expect(r"^\[solo\] echo: line 'hello x86' \(9 bytes\)$",
                 "the guest's answer", WAIT)
        t.type(b"quit\r")
        t.expect(r"^\[solo\] echo: PASS \(2 lines, 15 bytes\)$",
                 "the guest's PASS", WAIT)
        t.expect(r"all 1 VMs ended normally", "the launcher's verdict",
                 WAIT)
        rc = t.finish(WAIT)
        if rc != 0:
            raise Fail("launcher exit %s, want 0 (%s)" % (rc, t.tail()))
    finally:
        t.close()


def focus_two_vms(elf):
    t = launch(["kernel=%s,name=left,memory=16M" % elf,
                "kernel=%s,name=right,memory=16M" % elf])
    try:
        t.expect(r"^Strata: console: keys go to vm left \(1 of 2; ",
                 "the first VM's focus", WAIT)
        for vm in ("left", "right"):
            t.expect(r"^\[%s\] echo: ready" % vm, "%s ready" % vm, WAIT)
            t.pos = 0
        t.type(b"one\r")
        t.expect(r"^\[left\] echo: line 'one' ", "left's answer", WAIT)
        t.type(CTRL_A + b"2")
        t.expect(r"^Strata: console: keys go to vm right \(2 of 2; ",
                 "the focus on right", WAIT)
        t.type(b"two\r")
        t.expect(r"^\[right\] echo: line 'two' ", "right's answer", WAIT)
        if re.search(r"^\[right\] echo: line 'one'", t.out, re.M) or \
                re.search(r"^\[left\] echo: line 'two'", t.out, re.M):
            raise Fail("keys reached the VM without the focus")
        t.type(b"quit\r")
        t.expect(r"^vm right: ended: powered off \(status 0\)$",
                 "right's end", WAIT)
        t.type(CTRL_A + b"x")
        t.expect(r"^vm left: ended: stopped: at the console \(Ctrl-a x\)$",
                 "left stopped at the console", WAIT)
        t.expect(r"^Strata: all 2 VMs ended: 1 ok, 1 failed$",
                 "Strata's summary", WAIT)
        rc = t.finish(WAIT)
        if rc != 1:
            raise Fail("launcher exit %s, want 1 (%s)" % (rc, t.tail()))
    finally:
        t.close()


def echo_irq(elfs):
    apic, pic = elfs
    t = launch(["kernel=%s,name=apic,memory=16M" % apic,
                "kernel=%s,name=pic,memory=16M" % pic])
    try:
        t.expect(r"^Strata: console: keys go to vm apic \(1 of 2; ",
                 "the first VM's focus", WAIT)
        t.expect(r"^\[apic\] echo: ready, COM1 receive interrupt through "
                 r"the IOAPIC$", "apic ready", WAIT)
        t.pos = 0
        t.expect(r"^\[pic\] echo: ready, COM1 receive interrupt through "
                 r"the 8259$", "pic ready", WAIT)
        t.pos = 0
        t.type(b"by ioapic\r")
        t.expect(r"^\[apic\] echo: line 'by ioapic' \(9 bytes\)$",
                 "apic's answer", WAIT)
        t.type(b"quit\r")
        m = t.expect(r"^\[apic\] echo: (\d+) receive interrupts \((\d+) "
                     r"data, (\d+) timeout, 0 other\)$",
                     "apic's interrupt count", WAIT)
        t.expect(r"^\[apic\] echo: PASS \(2 lines, 15 bytes\)$",
                 "apic's PASS", WAIT)
        t.expect(r"^vm apic: ended: powered off \(status 0\)$",
                 "apic's end", WAIT)
        if int(m.group(1)) < 1:
            raise Fail("apic took no receive interrupt")
        t.type(CTRL_A + b"2")
        t.expect(r"^Strata: console: keys go to vm pic \(2 of 2; ",
                 "the focus on pic", WAIT)
        t.type(b"by 8259\r")
        t.expect(r"^\[pic\] echo: line 'by 8259' \(7 bytes\)$",
                 "pic's answer", WAIT)
        t.type(b"quit\r")
        m = t.expect(r"^\[pic\] echo: (\d+) receive interrupts \((\d+) "
                     r"data, (\d+) timeout, 0 other\)$",
                     "pic's interrupt count", WAIT)
        t.expect(r"^\[pic\] echo: PASS \(2 lines, 13 bytes\)$",
                 "pic's PASS", WAIT)
        if int(m.group(1)) < 1:
            raise Fail("pic took no receive interrupt")
        t.expect(r"^Strata: all 2 VMs ended: 2 ok, 0 failed$",
                 "Strata's summary", WAIT)
        if "has no interrupt controller" in t.out:
            raise Fail("a 16550 said its interrupt goes nowhere")
        rc = t.finish(WAIT)
        if rc != 0:
            raise Fail("launcher exit %s, want 0 (%s)" % (rc, t.tail()))
    finally:
        t.close()


def main():
    if not os.path.exists(X86_ELF):
        print("FAIL: console-x86/build: %s is missing (make TEST=1 "
              "ARCH=x86_64)" % X86_ELF)
        return 1
    ok = True
    with private_dir("console-x86-") as tmp:
        try:
            elf, irq, pic = build_guests("x86", os.path.join(tmp, "guests"),
                                         ["echo", "echoirq", "echopic"])
        except Fail as e:
            print("FAIL: console-x86/build: %s" % e)
            return 1
        only = sys.argv[1:]
        for name, fn, arg in (
                ("console-x86/echo-one-vm", echo_one_vm, elf),
                ("console-x86/focus-two-vms", focus_two_vms, elf),
                ("console-x86/echo-irq", echo_irq, (irq, pic))):
            if only and not any(o in name for o in only):
                continue
            try:
                fn(arg)
                print("PASS: %s" % name, flush=True)
            except Fail as e:
                print("FAIL: %s: %s" % (name, e), flush=True)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
