#!/usr/bin/env python3
"""Boot tests: the local APIC, SMP start-up and the CPUID/MSR rules of
x86 VMs (docs/x86-lapic.md), on Strata's test image under Bochs
corei7_skylake_x. One boot, seven VMs:

  apic      one vCPU: IA32_APIC_BASE, IDs vs CPUID, self-IPIs with IRR/ISR/
            PPR and EOI, priority order, TPR and CR8, ESR and LVT error,
            the timer one-shot / periodic / TSC-deadline waking HLT, a
            masked timer, relocation, x2APIC and the base MSR transitions;
  smp       two vCPUs: the boot vCPU starts vCPU 1 with INIT-SIPI-SIPI
            through a real-mode trampoline; the AP reports its APIC IDs,
            answers fixed IPIs (physical, logical flat and cluster,
            broadcast, lowest priority) and an NMI, is put back in
            wait-for-SIPI by INIT and started again, then both switch to
            x2APIC mode and IPIs go through the ICR MSR;
  msr       CPUID and the MSRs it implies agree; the MTRRs as firmware
            leaves them (write-back RAM, uncached MMIO window) and their
            checks; IA32_BIOS_SIGN_ID; IA32_MISC_ENABLE; TSC
            writes, TSC_ADJUST, RDTSCP/TSC_AUX; RFLAGS.RF in the frame of
            injected faults; PCID (CR4.PCIDE's rule, two PCIDs with the
            no-flush bit) and INVPCID;
  exit0     isa-debug-exit written 0: a good end (exit status 1);
  exit3     isa-debug-exit written 3: ended as failed (exit status 7);
  fwcfg     QEMU's fw_cfg (ports 0x510/0x511) read as a guest built for
            QEMU reads it: signature, ID, CPU count, RAM size, command
            line, kernel and initrd, zeros past an item's end;
  xsave     two vCPUs: XSAVE shown with the state Strata switches; XSETBV's
            checks; each vCPU its own XCR0, YMM (ZMM16, k1) values across
            the other's turns; the guest's own XSAVE/XRSTOR.

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
    select_tests, guest_result, ended_ok)

BOOT_TIMEOUT = 480
CFG = """# the local APIC, SMP start-up, MSRs, isa-debug-exit
[vm apic]
kernel = apic.elf
memory = 8M
[vm smp]
kernel = smp.elf
memory = 8M
cpus = 2
[vm msr]
kernel = msr.elf
memory = 8M
[vm exit0]
kernel = debugexit.elf
memory = 8M
[vm exit3]
kernel = debugexit3.elf
memory = 8M
[vm fwcfg]
kernel = fwcfg.elf
memory = 8M
cpus = 2
initrd = fwmod.txt
cmdline = fw_cfg says hello
[vm xsave]
kernel = xsave.elf
memory = 8M
cpus = 2
"""
GUESTS = ["apic", "smp", "msr", "debugexit", "debugexit3", "fwcfg",
          "xsave"]
FWMOD = b"strata multiboot module\n"


def c_apic(log, status):
    m = need(log, r"^\[apic\] apic: periodic timer gave (\d+) interrupts$",
             "apic's timer line")
    if int(m.group(1)) < 5:
        raise Fail("only %s timer interrupts" % m.group(1))
    guest_result(log, "apic", "apic", 60)
    ended_ok(log, "apic")


def c_smp(log, status):
    need(log, r"^\[smp\] smp: AP started 2 times, APIC ID 1, "
         r"CPUID.1 ID 1, x2APIC ID 1$", "smp's AP report")
    guest_result(log, "smp", "smp", 26)
    ended_ok(log, "smp")


def c_msr(log, status):
    guest_result(log, "msr", "msr", 70)
    m = need(log, r"^cpu: microcode revision (0x[0-9a-f]+)$",
             "Strata's microcode revision line")
    need(log, r"^\[msr\] msr: microcode revision %s$" % m.group(1),
         "the host's microcode revision through IA32_BIOS_SIGN_ID")
    # Bochs' corei7_skylake_x has both, and VMX lets INVPCID run
    need(log, r"^\[msr\] msr: CPUID PCID 1 INVPCID 1$",
         "PCID and INVPCID shown (and then checked)")
    ended_ok(log, "msr")


def c_exit0(log, status):
    need(log, r"^vm exit0: isa-debug-exit: 0x0 written, exit status 1$",
         "the isa-debug-exit line of exit0")
    ended_ok(log, "exit0")


def c_exit3(log, status):
    need(log, r"^vm exit3: isa-debug-exit: 0x3 written, exit status 7$",
         "the isa-debug-exit line of exit3")
    need(log, r"^vm exit3: ended: powered off \(status 7\)$",
         "'vm exit3: ended: powered off (status 7)'")
    if re.search(r"^\[exit3\] debugexit: still running", log, re.M):
        raise Fail("exit3 ran on after its exit")


def c_fwcfg(log, status):
    need(log, r"^\[fwcfg\] fwcfg: QEMU, 2 CPUs, 8 MiB, kernel \d+ bytes, "
         r"initrd 24 bytes, cmdline 'fw_cfg says hello'$",
         "fwcfg's summary of what it read")
    guest_result(log, "fwcfg", "fwcfg", 14)
    ended_ok(log, "fwcfg")


def c_xsave(log, status):
    # Bochs' corei7_skylake_x has AVX-512: the mask and the area say so
    need(log, r"^\[xsave\] xsave: mask 0xe7, area 2688 bytes, AVX-512 1$",
         "xsave's summary (x87, SSE, AVX and AVX-512 offered)")
    guest_result(log, "xsave", "xsave", 30)
    ended_ok(log, "xsave")


def c_summary(log, status):
    need(log, r"^Strata: all 7 VMs ended: 6 ok, 1 failed$",
         "'Strata: all 7 VMs ended: 6 ok, 1 failed'")
    check_no_exception(log)
    check_status(status, 1, "bochs (exit3 failed by design)")


TESTS = [
    ("apic_x86/apic-one-vcpu", c_apic),
    ("apic_x86/smp-init-sipi", c_smp),
    ("apic_x86/msr-cpuid-agree", c_msr),
    ("apic_x86/debug-exit-0-good", c_exit0),
    ("apic_x86/debug-exit-3-failed", c_exit3),
    ("apic_x86/fw-cfg", c_fwcfg),
    ("apic_x86/xsave-per-vcpu", c_xsave),
    ("apic_x86/summary", c_summary),
]


def main():
    tests = select_tests(TESTS, ELF)
    if tests is None:
        return 1
    with private_dir("apic-x86-") as tmp:
        gdir = os.path.join(tmp, "guests")
        try:
            paths = build_guests("x86_64", gdir, GUESTS)
            iso = make_iso(tmp, "apic", "loglevel=info",
                           vm_modules(CFG, paths) +
                           [("fwmod.txt", FWMOD, "fwmod.txt")])
            status, log = run_bochs(tmp, "apic", iso, megs=256,
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
