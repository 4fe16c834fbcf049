#!/usr/bin/env python3
"""Boot tests: the ACPI tables and fixed hardware of x86 VMs
(docs/x86-acpi.md), on Strata's test image under Bochs corei7_skylake_x.
One boot, two VMs running tests/guests/x86/acpitab.c, one with two vCPUs
and one with three:

  rsdp-scan     the RSDP found by the 16-byte scan of 0xe0000-0xfffff,
                revision 2, both checksums; XSDT and RSDT list the same
                FADT and MADT, every checksum good;
  madt-cpus     the MADT lists as many enabled CPUs as CPUID.1 says, the
                first is the boot CPU, each other one is started at its
                MADT APIC ID through the local APIC and reports that ID;
                IOAPIC entry = the IOAPIC's ID register, overrides IRQ 0 ->
                GSI 2 and the SCI, the LINT1 NMI entry;
  fadt-pm       FADT blocks, FACS, DSDT with \\_S5, SCI_EN; the PM timer
                advances 3.579545 MHz worth of ticks per TSC cycles at the
                TSC rate Strata states (the ratio of the guest's own two
                readings). This checks Strata's TSC-to-PM-timer
                conversion only, not the timer's rate in real time: the
                PM timer is derived from that same stated TSC rate, and
                the VM has no clock independent of the TSC to compare it
                with (no PIT or RTC yet);
  s5-poweroff   an unknown sleep type is ignored with a message, \\_S5's
                SLP_TYP with SLP_EN in PM1a_CNT ends the VM with status 0
                and nothing after it runs.

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
CFG = """# ACPI tables and PM registers
[vm two]
kernel = acpitab.elf
memory = 8M
cpus = 2
[vm three]
kernel = acpitab.elf
memory = 8M
cpus = 3
"""
GUESTS = ["acpitab"]
VMS = {"two": 2, "three": 3}


def no_fails(log, vm):
    bad = re.findall(r"^\[%s\] FAIL: (.*)$" % vm, log, re.M)
    if bad:
        raise Fail("VM %s: %s" % (vm, " | ".join(bad[:6])))


def c_rsdp(log, status):
    for vm in VMS:
        need(log, r"^\[%s\] acpi: RSDP at 0xe0000, revision 2, OEM STRATA$"
             % vm, "VM %s's RSDP line" % vm)
        need(log, r"^vm %s: ACPI tables at 0xe0000-0x[0-9a-f]+, PM timer "
             r"at ports 0x600-0x60b" % vm, "Strata's ACPI line for %s" % vm)
        no_fails(log, vm)


def c_madt(log, status):
    for vm, n in VMS.items():
        need(log, r"^\[%s\] acpi: MADT: %d CPUs, CPUID.1 count %d$"
             % (vm, n, n), "VM %s's MADT line" % vm)
        for i in range(1, n):
            need(log, r"^\[%s\] acpi: MADT CPU %d: APIC ID %d started, "
                 r"reports %d$" % (vm, i, i, i),
                 "VM %s's AP %d" % (vm, i))
        no_fails(log, vm)


def c_fadt_pm(log, status):
    hz = {}
    for vm in VMS:
        m = need(log, r"^vm %s: ACPI tables at .* from a TSC of (\d+) Hz"
                 % vm, "the TSC rate Strata states for %s" % vm)
        hz[vm] = int(m.group(1))
        m = need(log, r"^\[%s\] acpi: PM timer (\d+) ticks in (\d+) TSC "
                 r"cycles$" % vm, "VM %s's PM timer line" % vm)
        ticks, cycles = int(m.group(1)), int(m.group(2))
        want = cycles * 3579545 / hz[vm]
        # The two timer reads lie inside the two TSC reads.
        if not (0.8 * want <= ticks <= want * 1.01 + 2):
            raise Fail("VM %s: %d PM ticks in %d TSC cycles at %d Hz: "
                       "want about %.0f" % (vm, ticks, cycles, hz[vm], want))
        need(log, r"^\[%s\] acpi: \\_S5 SLP_TYPa 5, PM1a_CNT at 0x604$"
             % vm, "VM %s's \\_S5 line" % vm)
        no_fails(log, vm)


def c_s5(log, status):
    for vm in VMS:
        need(log, r"^\[%s\] acpi: RESULT: PASS \((\d+) checks\)$" % vm,
             "VM %s's PASS" % vm)
        need(log, r"^vm %s: ACPI: PM1a_CNT asks for sleep type 7, which "
             r"this machine does not have" % vm,
             "the ignored sleep type of %s" % vm)
        need(log, r"^\[%s\] acpi: sleep type 7 ignored, still here$" % vm,
             "VM %s going on after it" % vm)
        need(log, r"^vm %s: ACPI: sleep type 5 \(\\_S5, soft off\) written "
             r"to PM1a_CNT: powered off$" % vm, "VM %s's S5 line" % vm)
        need(log, r"^vm %s: ended: powered off \(status 0\)$" % vm,
             "'vm %s: ended: powered off (status 0)'" % vm)
        if re.search(r"^\[%s\] acpi: still running" % vm, log, re.M):
            raise Fail("VM %s ran on after S5" % vm)
    need(log, r"^Strata: all 2 VMs ended: 2 ok, 0 failed$",
         "'Strata: all 2 VMs ended: 2 ok, 0 failed'")
    check_no_exception(log)
    check_status(status, 0, "bochs")


TESTS = [
    ("guest_acpi_x86/rsdp-scan", c_rsdp),
    ("guest_acpi_x86/madt-cpus", c_madt),
    ("guest_acpi_x86/fadt-pm", c_fadt_pm),
    ("guest_acpi_x86/s5-poweroff", c_s5),
]


def main():
    tests = select_tests(TESTS, ELF)
    if tests is None:
        return 1
    with private_dir("guest-acpi-x86-") as tmp:
        gdir = os.path.join(tmp, "guests")
        try:
            paths = build_guests("x86_64", gdir, GUESTS)
            iso = make_iso(tmp, "gacpi", "loglevel=info",
                           vm_modules(CFG, paths))
            status, log = run_bochs(tmp, "gacpi", iso, megs=256,
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
