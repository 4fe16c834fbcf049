#!/usr/bin/env python3
"""Boot tests: each configured VM's memory is built through the shared
stage-2 core on the real hypervisor image, and the core's unmap / re-map /
write-protect run with the real TLB maintenance of the CPU:

- arm64 `-cpu max` (FEAT_TLBIRANGE, FWB): range invalidations, no CMO;
- arm64 `-cpu cortex-a57` (neither): per-address invalidations and
  clean+invalidate of the unmapped pages;
- x86 under Bochs (VMX, EPT): single-context INVEPT only.

Each also checks that a VM too large for memory is refused with a message
while the other is built, and that teardown gives every page back (the page
allocator's free count after teardown equals the one before the VMs).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import x86  # noqa: E402  (Bochs recipe shared with the x86 boot tests)

ARM_BIN = os.path.join(ROOT, "build/test/arm64/strata.bin")
X86_ELF = os.path.join(ROOT, "build/test/x86_64/strata.elf")
CFG = "[vm one]\nkernel = %s\nmemory = %s\n[vm big]\nkernel = %s\nmemory = 60G\n"


class Fail(Exception):
    pass


def tail(log, n=14):
    return " | ".join([l for l in log.splitlines() if l.strip()][-n:])


def need(log, pattern, what):
    m = re.search(pattern, log, re.M)
    if not m:
        raise Fail(f"missing {what} ({tail(log)})")
    return m


def check_common(log, mib, gpa):
    need(log, rf"^vm one: {mib} MiB at GPA {gpa} -> PA 0x[0-9a-f]+, "
         r"stage-2 \d+ table pages$", "the VM's stage-2 line")
    need(log, r"^vm one: \S+ kernel at 0x[0-9a-f]+-0x[0-9a-f]+, entry",
         "the loaded kernel line")
    need(log, r"^error: vm big: not enough free memory for 61440 MiB$",
         "the refusal of the 60G VM")
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
    d = os.path.join(tmp, "bundle-" + cpu.split(",")[0])
    os.makedirs(d)
    shutil.copy(ARM_BIN, os.path.join(d, "Image"))
    with open(os.path.join(d, "strata.cfg"), "w") as f:
        f.write(CFG % ("Image", "64M", "Image"))
    cpio = d + ".cpio"
    with open(cpio, "wb") as out:
        subprocess.run(["cpio", "-o", "-H", "newc"], cwd=d, check=True,
                       input=b"strata.cfg\nImage\n", stdout=out,
                       stderr=subprocess.DEVNULL)
    try:
        p = subprocess.run(
            ["qemu-system-aarch64", "-M", "virt,virtualization=on,"
             "gic-version=3", "-cpu", cpu, "-m", "512M", "-nographic",
             "-semihosting", "-kernel", ARM_BIN, "-initrd", cpio,
             "-append", "loglevel=info selftest=s2"], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        return p.stdout.decode(errors="replace").replace("\r", "")
    except subprocess.TimeoutExpired as e:
        raise Fail("timed out: " + tail((e.stdout or b"").decode(
            errors="replace")))


def t_arm64_max(tmp):
    log = run_arm64(tmp, "max,pauth-impdef=on")
    check_common(log, 64, "0x40000000")
    flushes, ipa, rng, insns, vmid, bar, cmo = selftest(log)
    if not (rng == flushes and ipa == 0 and insns >= 1 and cmo == 0):
        raise Fail(f"expected range invalidations only and no CMO with "
                   f"FEAT_TLBIRANGE+FWB: {flushes=} {ipa=} {rng=} {cmo=}")


def t_arm64_cortex_a57(tmp):
    log = run_arm64(tmp, "cortex-a57")
    check_common(log, 64, "0x40000000")
    flushes, ipa, rng, insns, vmid, bar, cmo = selftest(log)
    if not (rng == 0 and insns == 0 and ipa + vmid >= flushes and
            cmo == 512):
        raise Fail(f"expected per-IPA/VMID fallback and 512 CMO pages "
                   f"without TLBIRANGE/FWB: {ipa=} {rng=} {vmid=} {cmo=}")


def t_x86_bochs(tmp):
    root = os.path.join(tmp, "iso")
    os.makedirs(os.path.join(root, "boot/grub"))
    shutil.copy(X86_ELF, os.path.join(root, "boot/strata.elf"))
    shutil.copy(X86_ELF, os.path.join(root, "boot/hello.elf"))
    with open(os.path.join(root, "boot/strata.cfg"), "w") as f:
        f.write(CFG % ("hello.elf", "16M", "hello.elf"))
    with open(os.path.join(root, "boot/grub/grub.cfg"), "w") as f:
        f.write("set timeout=0\nmenuentry \"Strata\" {\n"
                "  multiboot2 /boot/strata.elf loglevel=info selftest=s2\n"
                "  module2 /boot/strata.cfg strata.cfg\n"
                "  module2 /boot/hello.elf hello.elf\n  boot\n}\n")
    iso = os.path.join(tmp, "vm.iso")
    subprocess.run(["grub-mkrescue", "-o", iso, root], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status, log = x86.run_bochs(tmp, "vm", iso)
    check_common(log, 16, "0x0")
    flushes, ipa, rng, insns, vmid, bar, cmo = selftest(log)
    if not (flushes >= 1 and vmid == flushes and ipa == 0 and rng == 0):
        raise Fail(f"expected one single-context INVEPT per flush: "
                   f"{flushes=} {vmid=} {ipa=} {rng=}")


TESTS = [("vm/arm64-max-stage2", t_arm64_max, ARM_BIN),
         ("vm/arm64-cortex-a57-stage2", t_arm64_cortex_a57, ARM_BIN),
         ("vm/x86-bochs-ept", t_x86_bochs, X86_ELF)]


def main():
    failed = 0
    base = os.path.join(ROOT, "build/test")
    os.makedirs(base, exist_ok=True)
    for name, fn, need_file in TESTS:
        tmp = tempfile.mkdtemp(prefix="vm-", dir=base)
        try:
            if not os.path.exists(need_file):
                raise Fail(f"{need_file} is missing (make TEST=1)")
            fn(tmp)
            print(f"PASS: {name}", flush=True)
        except (Fail, x86.Fail, subprocess.CalledProcessError) as e:
            failed += 1
            print(f"FAIL: {name}: {e}", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
