#!/usr/bin/env python3
"""Boot tests: the legacy PC devices of x86 VMs (docs/x86-pc-devices.md),
on Strata's test image under Bochs corei7_skylake_x. One boot, one VM per
device, each running its own guest from tests/guests/x86/:

  pit   pcpit.c: the 8254 and port 0x61 against the guest's TSC: counter 2
        mode 0 (LSB+MSB, LSB, MSB, BCD) with OUT2 rising only after the
        count, the gate holding a count, the counter latch and read-back
        (status), mode 3's square wave, counter 1, the refresh bit, and
        counter 0 driving IRQ 0 at its period through IOAPIC pin 2 (mode
        2) and through the 8259 (mode 3), silent once stopped.

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
    private_dir, build_guests, make_iso, vm_modules, run_bochs)

BOOT_TIMEOUT = 480
# (VM name, guest, minimum number of checks)
VMS = [
    ("pit", "pcpit", 20),
]


def cfg():
    out = ["# the legacy PC devices, one VM each"]
    for vm, guest, _ in VMS:
        out += ["[vm %s]" % vm, "kernel = %s.elf" % guest, "memory = 8M",
                "cpus = 1", ""]
    return "\n".join(out)


def guest_result(log, vm, minimum):
    m = need(log, r"^\[%s\] %s: RESULT: (PASS \((\d+) checks\)|FAIL.*)$"
             % (vm, vm), "%s's result line" % vm)
    if not m.group(1).startswith("PASS"):
        fails = re.findall(r"^\[%s\] FAIL: (.*)$" % vm, log, re.M)
        raise Fail("%s: %s" % (m.group(1), " | ".join(fails[:6])))
    if int(m.group(2)) < minimum:
        raise Fail("%s ran only %s checks" % (vm, m.group(2)))
    need(log, r"^vm %s: ended: powered off \(status 0\)$" % vm,
         "'vm %s: ended: powered off (status 0)'" % vm)


def c_pit(log, status):
    guest_result(log, "pit", 20)
    for what in ("mode 0 LSB\\+MSB", "mode 0 LSB only", "mode 0 MSB only",
                 "mode 0 BCD"):
        need(log, r"^\[pit\] pit: %s: OUT2 after \d+ ticks" % what,
             "the %s measurement" % what)
    need(log, r"^\[pit\] pit: IRQ 0 via IOAPIC pin 2: 6 periods in \d+ ticks",
         "IRQ 0 through the IOAPIC")
    need(log, r"^\[pit\] pit: IRQ 0 via the 8259: 6 periods in \d+ ticks",
         "IRQ 0 through the 8259")


def c_summary(log, status):
    check_no_exception(log)
    check_status(status, 0, "bochs")


TESTS = [
    ("pcdev_x86/pit", c_pit),
    ("pcdev_x86/summary", c_summary),
]


def main():
    only = sys.argv[1:]
    tests = [t for t in TESTS if not only or any(o in t[0] for o in only)]
    if not os.path.exists(ELF):
        for name, _ in tests:
            print("FAIL: %s: %s missing; run 'make TEST=1 ARCH=x86_64'"
                  % (name, ELF))
        return 1
    with private_dir("pcdev-x86-") as tmp:
        gdir = os.path.join(tmp, "guests")
        try:
            paths = build_guests("x86_64", gdir, [g for _, g, _ in VMS])
            iso = make_iso(tmp, "pcdev", "loglevel=info",
                           vm_modules(cfg(), paths))
            status, log = run_bochs(tmp, "pcdev", iso, megs=256,
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
