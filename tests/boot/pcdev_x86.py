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
  pci   pcpci.c: configuration mechanism #1 as Linux's pci_check_type1()
        and pci_sanity_check() probe it, the i440FX host bridge's IDs,
        class and writable bits by dword/word/byte, every other function
        all ones, enable bit clear, 0xcf9 still the reset control.
  kbc   pckbc.c: the 8042's status, command byte, self and interface
        tests, enables, the keyboard's replies (reset fa aa, identify,
        echo, LEDs, scan set), bytes held by a disabled interface, the
        0xd2/0xd3/0xd4 paths (aux loopback, no mouse: time-out), IRQ 1
        and 12 per byte, and 0xfe restarting the VM into a fresh 8042
        (with the CMOS RAM the RTC's battery keeps).
  rtc   pcrtc.c (a boot of its own): registers A-D as a BIOS leaves them,
        the epoch date, CMOS RAM, the 8192 Hz periodic interrupt on IRQ 8,
        SET, a divider reset's first update 0.5 s later with UIP before
        it, the 12-hour BCD rollover into 2100-01-01 with century and day
        of week, update-ended and alarm flags and their interrupt.

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
# Two boots: the RTC's guest waits half a second of guest time for an
# update cycle, and the PIT's timings must not share the CPU with it
# (a time slice of another VM would land inside a measurement). The PCI
# and 8042 guests end within their first slices and share the PIT's boot.
BOOTS = [
    ("pcdev", [("pit", "pcpit"), ("pci", "pcpci"), ("kbc", "pckbc")]),
    ("pcrtc", [("rtc", "pcrtc")]),
]


def cfg(vms):
    out = ["# the legacy PC devices, one VM each"]
    for vm, guest in vms:
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


def c_pci(log, status):
    guest_result(log, "pci", 30)
    need(log, r"^\[pci\] pci: host bridge 8086:1237 class 0600 at 00:00.0, "
         r"alone$", "the host bridge line")
    bad = re.findall(r"^vm pci: unclaimed port .*0xc[f][89a-f]$", log, re.M)
    if bad:
        raise Fail("mechanism #1 ports unclaimed: %s" % bad[:3])


def c_rtc(log, status):
    guest_result(log, "rtc", 25)
    need(log, r"^\[rtc\] rtc: start 2026-01-01 00:00:0\d$", "the epoch")
    need(log, r"^\[rtc\] rtc: periodic 8192 Hz: 8 periods in \d+ us$",
         "the periodic interrupt")
    need(log, r"^\[rtc\] rtc: update \d+ us after the divider reset, "
         r"UIP \d+ us: 2100-01-01 12:00:00$", "the update cycle")


def c_kbc(log, status):
    m = need(log, r"^\[kbc\] kbc: 0 of (\d+) checks failed before the "
             r"reset; pulsing the reset line$", "the first boot's checks")
    if int(m.group(1)) < 35:
        raise Fail("kbc ran only %s checks before the reset" % m.group(1))
    fails = re.findall(r"^\[kbc\] FAIL: (.*)$", log, re.M)
    if fails:
        raise Fail(" | ".join(fails[:6]))
    need(log, r"^vm kbc: reset 1 \(reset line pulsed by 8042 command "
         r"0xfe\)", "the reset")
    need(log, r"^\[kbc\] kbc: boot 1 after the 8042 reset$", "the second boot")
    guest_result(log, "kbc", 3)


def c_summary(logs):
    for name, (status, log) in logs.items():
        check_no_exception(log)
        check_status(status, 0, "bochs (%s)" % name)


TESTS = [
    ("pcdev_x86/pit", "pcdev", c_pit),
    ("pcdev_x86/pci", "pcdev", c_pci),
    ("pcdev_x86/kbc", "pcdev", c_kbc),
    ("pcdev_x86/rtc", "pcrtc", c_rtc),
    ("pcdev_x86/summary", None, c_summary),
]


def main():
    tests = select_tests(TESTS, ELF)
    if tests is None:
        return 1
    wanted = set(t[1] for t in tests if t[1])
    if any(t[1] is None for t in tests):
        wanted = set(b for b, _ in BOOTS) if not sys.argv[1:] or \
            all(t[1] is None for t in tests) else wanted
    logs = {}
    with private_dir("pcdev-x86-") as tmp:
        gdir = os.path.join(tmp, "guests")
        try:
            for boot, vms in BOOTS:
                if boot not in wanted:
                    continue
                paths = build_guests("x86_64", gdir, [g for _, g in vms])
                iso = make_iso(tmp, boot, "loglevel=info",
                               vm_modules(cfg(vms), paths))
                logs[boot] = run_bochs(tmp, boot, iso, megs=256,
                                       timeout=BOOT_TIMEOUT)
        except (Fail, subprocess.TimeoutExpired) as e:
            for name, _, _ in tests:
                print("FAIL: %s: %s" % (name, e))
            return 1
        failed = 0
        for name, boot, check in tests:
            try:
                if boot is None:
                    check(logs)
                else:
                    check(logs[boot][1], logs[boot][0])
                print("PASS: %s" % name)
            except Fail as e:
                failed += 1
                log = logs[boot][1] if boot else ""
                print("FAIL: %s: %s (serial: %s)" % (name, e, tail(log, 8)))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
