#!/usr/bin/env python3
"""Boot tests: the IOAPIC and the 8259 pair of x86 VMs (docs/x86-irq.md),
on Strata's test image under Bochs corei7_skylake_x. One boot, one VM of
two vCPUs running tests/guests/x86/irqchip.c, whose interrupt source is
COM1's real IRQ 4 line (the 16550's THR-empty interrupt, raised and
served by the guest):

  ioapic-registers  ID (2: after the two APIC IDs), version 0x11 with 24
                    entries, arbitration ID, entries masked at reset,
                    delivery status and Remote IRR read-only;
  ioapic-edge       one interrupt per rising edge, held back by IF = 0
                    until the STI window and while the TPR holds its
                    class, none while the line stays high, an edge on a
                    masked pin lost;
  ioapic-level      routed to vCPU 1 (physical, logical flat): Remote IRR
                    and TMR seen in the handler, the EOI with the line
                    high delivers again, Remote IRR clear after the last
                    EOI, a masked asserted entry sends when unmasked; NMI
                    delivery mode;
  pic-extint        the 8259 through LINT0 (ExtINT) and through IOAPIC pin
                    0: ICW1-4, IRR/ISR reads, non-specific and specific
                    EOI, a TPR that does not hold ExtINT back, LINT0 mask,
                    poll, automatic EOI, ELCR level mode.

Every verdict rests on lines on the serial console. STRATA_KEEP=1 keeps
the temporary directory.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, tail, need, check_status, check_no_exception,
    private_dir, build_guests, make_iso, vm_modules, run_bochs,
    select_tests)

BOOT_TIMEOUT = 480
CFG = """# the IOAPIC and the 8259 pair
[vm irq]
kernel = irqchip.elf
memory = 8M
cpus = 2
"""
GUESTS = ["irqchip"]


def fails(log, words):
    """The guest's FAIL lines that mention one of @words."""
    return [f for f in re.findall(r"^\[irq\] FAIL: (.*)$", log, re.M)
            if any(w in f for w in words)]


def no_fails(log, words, what):
    need(log, r"^\[irq\] irqchip: RESULT: ", "irqchip's result line")
    bad = fails(log, words)
    if bad:
        raise Fail("%s: %s" % (what, " | ".join(bad[:6])))


def c_registers(log, status):
    no_fails(log, ["IOAPIC", "IOREGSEL", "entry 5", "reset"],
             "IOAPIC registers")


def c_edge(log, status):
    need(log, r"^\[irq\] irqchip: edge 3, ", "the edge count")
    no_fails(log, ["edge", "TPR"], "edge entries")


def c_level(log, status):
    need(log, r"^\[irq\] irqchip: edge \d+, level 5 on APIC 1, ",
         "the level count and the vCPU that took it")
    no_fails(log, ["physical", "logical", "level", "NMI"],
             "level entries")


def c_pic(log, status):
    need(log, r"^\[irq\] irqchip: .*, PIC 10$", "the PIC count")
    no_fails(log, ["PIC", "IRQ 4", "ISR", "IRR", "IMR", "ExtINT", "LINT0",
                   "poll", "AEOI", "ELCR", "EOI"], "the 8259")


def c_summary(log, status):
    m = need(log, r"^\[irq\] irqchip: RESULT: (PASS \((\d+) checks\)|FAIL.*)$",
             "irqchip's result line")
    if not m.group(1).startswith("PASS"):
        raise Fail("%s: %s" % (m.group(1), " | ".join(fails(log, [""])[:6])))
    if int(m.group(2)) < 45:
        raise Fail("irqchip ran only %s checks" % m.group(2))
    need(log, r"^vm irq: ended: powered off \(status 0\)$",
         "'vm irq: ended: powered off (status 0)'")
    check_no_exception(log)
    check_status(status, 0, "bochs")


TESTS = [
    ("irq_x86/ioapic-registers", c_registers),
    ("irq_x86/ioapic-edge", c_edge),
    ("irq_x86/ioapic-level", c_level),
    ("irq_x86/pic-extint", c_pic),
    ("irq_x86/summary", c_summary),
]


def main():
    tests = select_tests(TESTS, ELF)
    if tests is None:
        return 1
    with private_dir("irq-x86-") as tmp:
        gdir = os.path.join(tmp, "guests")
        try:
            paths = build_guests("x86_64", gdir, GUESTS)
            iso = make_iso(tmp, "irq", "loglevel=info",
                           vm_modules(CFG, paths))
            status, log = run_bochs(tmp, "irq", iso, megs=256,
                                    timeout=BOOT_TIMEOUT)
        except (Fail, subprocess.TimeoutExpired) as e:
            for name, _ in tests:
                print("FAIL: %s: %s" % (name, e))
            return 1
        failed = 0
        for name, check in tests:
            try:
                check(log, status)
                print("PASS: %s" % name)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (serial: %s)" % (name, e, tail(log, 8)))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
