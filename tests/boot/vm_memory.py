#!/usr/bin/env python3
"""Boot tests: each configured VM's memory is built through the shared
stage-2 core on the real hypervisor image, and the core's unmap / re-map /
write-protect run with the real TLB maintenance of the CPU:

- arm64 `-cpu max` (FEAT_TLBIRANGE, FWB): range invalidations, no CMO;
- arm64 `-cpu cortex-a57` (neither): per-address invalidations and
  clean+invalidate of the unmapped pages;
- x86 under Bochs (VMX, EPT): single-context INVEPT only.

Each also checks that a VM too large (for memory; on x86, for the RAM below
the MMIO window) is refused with a message
while the other is built, and that teardown gives every page back (the page
allocator's free count after teardown equals the one before the VMs).
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as ARM_BIN, X86_ELF, tail, need, with_tail, private_dir,
    make_bundle, make_iso, run_qemu_arm64, run_bochs)

CFG = "[vm one]\nkernel = %s\nmemory = %s\n[vm big]\nkernel = %s\nmemory = 60G\n"


NO_MEMORY = r"^error: vm big: not enough free memory for 61440 MiB$"
# x86 RAM ends below the first MMIO window (docs/x86-linux-boot.md): the
# 60G VM is refused before any memory is looked for.
X86_TOO_BIG = (r"^error: vm big: memory 61440 MiB would reach the MMIO "
               r"window at 0xfe000000: at most 4064 MiB")


def check_common(log, mib, gpa, refusal=NO_MEMORY):
    need(log, rf"^vm one: {mib} MiB at GPA {gpa} -> PA 0x[0-9a-f]+, "
         r"stage-2 \d+ table pages$", "the VM's stage-2 line")
    need(log, r"^vm one: \S+ kernel at 0x[0-9a-f]+-0x[0-9a-f]+, entry",
         "the loaded kernel line")
    need(log, refusal, "the refusal of the 60G VM")
    need(log, r"^vm one: torn down: \d+ table pages freed, 1 whole-VMID "
         r"invalidations$", "the teardown line")
    need(log, r"^Strata: stopped \(status 3\)$", "the stop line")
    pages = re.findall(r"^page allocator: (\d+) of (\d+) pages free", log,
                       re.M)
    # the last two: before the VMs are built, and after their teardown
    if len(pages) < 2 or pages[-2] != pages[-1]:
        raise Fail(f"page allocator not balanced after teardown: {pages}")


def selftest(log):
    m = need(log, r"^vm one: stage-2 self-test passed: (\d+) flushes "
             r"\((\d+) per-address, (\d+) range with (\d+) instructions, "
             r"(\d+) whole-VMID\), (\d+) barriers, (\d+) CMO pages$",
             "the passed stage-2 self-test line")
    return [int(x) for x in m.groups()]


def run_arm64(tmp, cpu):
    cpio = make_bundle(os.path.join(tmp, cpu.split(",")[0] + ".cpio"),
                       CFG % ("Image", "64M", "Image"), [("Image", ARM_BIN)])
    run = run_qemu_arm64(cpu, ["-kernel", ARM_BIN, "-initrd", cpio,
                               "-append", "loglevel=info selftest=s2"],
                         timeout=60)
    if run.timed_out:
        raise Fail("timed out: " + tail(run.out, 14))
    return run.out


def t_arm64_max(tmp):
    log = run_arm64(tmp, "max,pauth-impdef=on")
    with with_tail(log):
        check_common(log, 64, "0x40000000")
        flushes, ipa, rng, insns, vmid, bar, cmo = selftest(log)
    if not (rng == flushes and ipa == 0 and insns >= 1 and cmo == 0):
        raise Fail(f"expected range invalidations only and no CMO with "
                   f"FEAT_TLBIRANGE+FWB: {flushes=} {ipa=} {rng=} {cmo=}")


def t_arm64_cortex_a57(tmp):
    log = run_arm64(tmp, "cortex-a57")
    with with_tail(log):
        check_common(log, 64, "0x40000000")
        flushes, ipa, rng, insns, vmid, bar, cmo = selftest(log)
    if not (rng == 0 and insns == 0 and ipa + vmid >= flushes and
            cmo == 512):
        raise Fail(f"expected per-IPA/VMID fallback and 512 CMO pages "
                   f"without TLBIRANGE/FWB: {ipa=} {rng=} {vmid=} {cmo=}")


def t_x86_bochs(tmp):
    iso = make_iso(tmp, "vm", "loglevel=info selftest=s2", [
        ("strata.cfg", (CFG % ("hello.elf", "16M", "hello.elf")).encode(),
         "strata.cfg"), ("hello.elf", X86_ELF, "hello.elf")])
    status, log = run_bochs(tmp, "vm", iso)
    with with_tail(log):
        check_common(log, 16, "0x0", X86_TOO_BIG)
        flushes, ipa, rng, insns, vmid, bar, cmo = selftest(log)
    if not (flushes >= 1 and vmid == flushes and ipa == 0 and rng == 0):
        raise Fail(f"expected one single-context INVEPT per flush: "
                   f"{flushes=} {vmid=} {ipa=} {rng=}")


TESTS = [("vm/arm64-max-stage2", t_arm64_max, ARM_BIN),
         ("vm/arm64-cortex-a57-stage2", t_arm64_cortex_a57, ARM_BIN),
         ("vm/x86-bochs-ept", t_x86_bochs, X86_ELF)]


def main():
    failed = 0
    for name, fn, need_file in TESTS:
        with private_dir("vm-") as tmp:
            try:
                if not os.path.exists(need_file):
                    raise Fail(f"{need_file} is missing (make TEST=1)")
                fn(tmp)
                print(f"PASS: {name}", flush=True)
            except (Fail, subprocess.CalledProcessError) as e:
                failed += 1
                print(f"FAIL: {name}: {e}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
