#!/usr/bin/env python3
"""Boot test: x86 MMIO instruction emulation under Strata on Bochs
(corei7_skylake_x). One boot, four VMs: mmio_alu (every read-modify-write,
read-only and memory-to-memory class against the MMIO test device,
compared with the CPU running the same instruction on RAM), mmio (the MOV
forms) and misbehave (instructions still refused get an exception, then a
triple fault stops that VM only) and mb32 (MOV forms from 32- and 16-bit
code).

Verdicts rest on lines on the serial console only: each guest's own result
line with a minimum number of checks, mmio_alu's counts, Strata's
`vm NAME: ended: ...` lines and its summary. STRATA_KEEP=1 keeps the
temporary directory.
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
    guest_result, ended_ok)
from guests_x86 import c_mmio, c_mb32, INITRDS  # noqa: E402

BOOT_TIMEOUT = 480
CFG = """# MMIO emulation: the new classes, the MOV forms, the refusals
[vm mmio_alu]
kernel = mmio_alu.elf
memory = 8M
[vm mmio]
kernel = mmio.elf
memory = 8M
[vm misbehave]
kernel = misbehave.elf
memory = 8M
[vm mb32]
kernel = mb32.elf
initrd = mb32mod.txt
memory = 8M
cmdline = mb32 says hello
"""


def c_alu(log, status):
    m = need(log, r"^\[mmio_alu\] mmio_alu: (\d+) instructions compared "
             r"with the CPU on RAM$", "mmio_alu's comparison line")
    if int(m.group(1)) < 27 * 14:
        raise Fail("mmio_alu compared only %s instructions" % m.group(1))
    m = need(log, r"^\[mmio_alu\] mmio_alu: (\d+) scratch accesses checked, "
             r"(\d+) MMIO exits emulated$", "mmio_alu's summary line")
    if int(m.group(1)) < 1000 or int(m.group(2)) < int(m.group(1)) // 2:
        raise Fail("mmio_alu: %s accesses, %s exits" % m.groups())
    guest_result(log, "mmio_alu", "mmio_alu", 27 * 14 * 3)
    ended_ok(log, "mmio_alu")


def c_strings(log, status):
    need(log, r"^\[mmio_alu\] mmio_alu: string ops: movs RAM->MMIO, "
         r"MMIO->RAM \(DF\), MMIO->MMIO \(addr32\), stos checked$",
         "mmio_alu's string line")
    guest_result(log, "mmio_alu", "mmio_alu", 1)


def c_refused(log, status):
    guest_result(log, "misbehave", "misbehave", 25)
    need(log, r"^\[misbehave\] misbehave: undecodable MMIO: #UD 6, #GP 0$",
         "six #UD for the instructions still refused")
    need(log, r"^vm misbehave: MMIO at GPA 0x[0-9a-f]+ by an instruction "
         r"Strata cannot emulate \(RIP 0x[0-9a-f]+: c1 27 02",
         "the refusal message for shl")
    need(log, r"^vm misbehave: ended: stopped: .*triple fault",
         "'vm misbehave: ended: stopped: ...triple fault...'")


def c_summary(log, status):
    need(log, r"^Strata: all 4 VMs ended: 3 ok, 1 failed$",
         "'Strata: all 4 VMs ended: 3 ok, 1 failed'")
    check_no_exception(log)
    check_status(status, 1, "bochs (a VM failed)")


TESTS = [
    ("mmio_x86/alu-rmw-bt-xchg-vs-cpu", c_alu),
    ("mmio_x86/movs-stos-push-pop", c_strings),
    ("mmio_x86/mov-forms", c_mmio),
    ("mmio_x86/mb32-16-and-32-bit", c_mb32),
    ("mmio_x86/refused-still-ud", c_refused),
    ("mmio_x86/summary", c_summary),
]


def main():
    if not os.path.exists(ELF):
        for name, _ in TESTS:
            print("FAIL: %s: %s missing; run 'make TEST=1 ARCH=x86_64'"
                  % (name, ELF))
        return 1
    with private_dir("mmio-x86-") as tmp:
        guests = os.path.join(tmp, "guests")
        try:
            build_guests("x86_64", guests, ("mmio_alu", "mmio", "misbehave",
                                             "mb32"))
            kernels = sorted(set(re.findall(r"^kernel = (\S+)$", CFG, re.M)))
            iso = make_iso(tmp, "mmio", "loglevel=info", vm_modules(
                CFG, [os.path.join(guests, k) for k in kernels]) +
                [("mb32mod.txt", INITRDS["mb32mod.txt"], "mb32mod.txt")])
            status, log = run_bochs(tmp, "mmio", iso, megs=256,
                                    timeout=BOOT_TIMEOUT)
        except (Fail, subprocess.TimeoutExpired) as e:
            for name, _ in TESTS:
                print("FAIL: %s: %s" % (name, e))
            return 1
        failed = 0
        for name, check in TESTS:
            try:
                check(log, status)
                print("PASS: %s" % name)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (serial: %s)" % (name, e, tail(log, 8)))
            except Exception as e:  # a harness bug must still fail
                failed += 1
                print("FAIL: %s: harness error %r" % (name, e))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
