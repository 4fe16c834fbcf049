#!/usr/bin/env python3
"""Boot tests: the MMU on the core (docs/mmu.md) on the real test images.

One boot per architecture, the two side by side: QEMU arm64 (-cpu max) and
Bochs corei7_skylake_x, each with three VMs:

  roots    tests/guests/<arch>/roots.c: invalidate-all-roots with memory
           intact, 64 rounds of memslot add / move / delete at run time
           (within its memory_max; data follows a move, every access after
           a delete is MMIO), 4000 view switches by hypercall served by the
           root cache without an allocation, a view violation that sends
           the vCPU back to view 0, and the wrap of a shrunk MMIO generation
           (test build). vCPU 1 (arm64: PSCI CPU_ON; x86: INIT-SIPI-SIPI
           through the local APIC) writes and checks RAM all along. On
           arm64 every TLBI form is untrapped with one root and replayed
           under both roots' VMIDs with two.
  badrole  corrupts its vCPU's role after the root lookup (test build): the
           entry audit must stop exactly this VM with an internal-bug
           warning before it runs another instruction.
  hello    must run to its end beside them.
"""
import concurrent.futures
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE, X86_ELF, need, tail, private_dir, build_guests,
    make_bundle, make_iso, vm_modules, run_qemu_arm64, run_bochs)

ARM_CFG = """[vm roots]
kernel = roots.elf
memory = 32M
memory_max = 40M
cpus = 2
[vm badrole]
kernel = badrole.elf
memory = 16M
[vm hello]
kernel = hello.elf
memory = 16M
"""
X86_CFG = """[vm roots]
kernel = roots.elf
memory = 16M
memory_max = 24M
cpus = 2
[vm badrole]
kernel = badrole.elf
memory = 8M
[vm hello]
kernel = hello.elf
memory = 8M
"""
ARM_TIMEOUT = 300
X86_TIMEOUT = 600


def boot_arm64(tmp):
    elves = build_guests("arm64", os.path.join(tmp, "arm64"),
                         ["roots", "badrole", "hello"])
    cpio = make_bundle(os.path.join(tmp, "roots.cpio"), ARM_CFG, elves)
    r = run_qemu_arm64("max,pauth-impdef=on",
                       ["-kernel", ARM_IMAGE, "-initrd", cpio, "-append",
                        "loglevel=info"], timeout=ARM_TIMEOUT)
    return r.status, r.out


def boot_x86(tmp):
    elves = build_guests("x86_64", os.path.join(tmp, "x86"),
                         ["roots", "badrole", "hello"])
    iso = make_iso(tmp, "roots", "loglevel=info", vm_modules(X86_CFG, elves))
    return run_bochs(tmp, "roots", iso, megs=256, timeout=X86_TIMEOUT)


def guest_lines(log, vm):
    pre = "[%s] " % vm
    return [l[len(pre):] for l in log.splitlines() if l.startswith(pre)]


def check_roots(log, arch):
    lines = guest_lines(log, "roots")
    fails = [l for l in lines if l.startswith("FAIL")]
    if fails:
        raise Fail("roots says: " + " / ".join(fails[:4]))
    m = need(lines, r"^roots: invalidate-all: (\d+) roots, data intact, "
             r"(\d+) faults$", "the invalidate-all line")
    if int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise Fail("invalidate-all took %s roots, %s faults after it"
                   % m.groups())
    m = need(lines, r"^roots: memslot churn: 64 add/move/delete, (\d+) "
             r"generations, (\d+) MMIO after delete$", "the churn line")
    if int(m.group(1)) < 3 * 64 or int(m.group(2)) != 128:
        raise Fail("churn: %s generations, %s MMIO accesses after delete"
                   % m.groups())
    m = need(lines, r"^roots: views: 4000 switches by (HVC|VMCALL), (\d+) "
             r"root-cache hits, 0 allocations, violation back to view 0$",
             "the views line")
    if int(m.group(2)) < 4000:
        raise Fail("only %s root-cache hits for 4000 switches" % m.group(2))
    if arch == "arm64":
        # Untrapped with one root; with two, every TLBI replayed under
        # both roots' VMIDs (arch/arm64/tlbi.c).
        m = need(lines, r"^roots: TLBIs: (\d+) forms untrapped with one "
                 r"root, replayed (\d+) times with two$", "the TLBI line")
        if int(m.group(1)) < 12 or int(m.group(2)) != 2 * int(m.group(1)):
            raise Fail("TLBI replays: %s forms, %s replays" % m.groups())
    m = need(lines, r"^roots: generation wrap: (\d+) wraps, (\d+) stale "
             r"MMIO SPTEs$", "the generation-wrap line")
    if int(m.group(1)) < 3:
        raise Fail("only %s generation wraps" % m.group(1))
    m = need(lines, r"^roots: vCPU 1: (\d+) rounds, 0 errors$",
             "vCPU 1's report")
    if int(m.group(1)) < 1:
        raise Fail("vCPU 1 never completed a round")
    if arch == "arm64":
        need(lines, r"^roots: PASS$", "roots: PASS")
    else:
        # Bochs corei7_skylake_x has VM functions: losing them fails.
        need(log, r"^vmx: VM functions yes \(EPTP switching yes\)",
             "VMFUNC EPTP switching on the Bochs CPU")
        m = need(lines, r"^roots: views: 4000 switches by VMFUNC, (\d+) "
                 r"exits$", "the VMFUNC line")
        if int(m.group(1)) >= 16:
            raise Fail("%s exits for 4000 VMFUNC switches" % m.group(1))
        need(lines, r"^roots: RESULT: PASS \(\d+ checks\)$",
             "roots: RESULT: PASS")
    need(log, r"^vm roots: ended: powered off \(status 0\)$",
         "'vm roots: ended: powered off (status 0)'")


def check_badrole(log, arch):
    lines = guest_lines(log, "badrole")
    need(lines, r"^badrole: corrupting my role$", "badrole's first line")
    if any("still running" in l for l in lines):
        raise Fail("badrole ran on after its role was corrupted")
    need(log, r"^(error: )?WARNING: vm badrole: internal bug: vCPU 0 role "
         r"0x[0-9a-f]+ "
         r"differs from its root's 0x[0-9a-f]+$", "the internal-bug warning")
    need(log, r"^vm badrole: ended: stopped: internal bug: vCPU 0 role ",
         "badrole stopped by the entry audit")


def check_others(log, arch):
    need(log, r"^vm hello: ended: powered off \(status 0\)$",
         "hello ending well beside them")
    need(log, r"^Strata: all 3 VMs ended: 2 ok, 1 failed$",
         "the summary: 2 ok, 1 failed")
    if "s2pt audit" in log or "roots audit" in log:
        raise Fail("an MMU audit failed")


def main():
    checks = [("roots", check_roots), ("badrole-stopped", check_badrole),
              ("others-unharmed", check_others)]
    failed = 0
    with private_dir("roots-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = {"arm64": ex.submit(boot_arm64, tmp),
                    "x86": ex.submit(boot_x86, tmp)}
            runs = {}
            for arch, f in futs.items():
                try:
                    runs[arch] = f.result()
                except Exception as e:  # a harness error fails its tests
                    runs[arch] = e
        for arch in ("arm64", "x86"):
            run = runs[arch]
            for name, fn in checks:
                label = "roots/%s/%s" % (arch, name)
                if isinstance(run, Exception):
                    print("FAIL: %s: %r" % (label, run), flush=True)
                    failed += 1
                    continue
                status, log = run
                try:
                    if status is None:
                        raise Fail("timed out")
                    fn(log, arch)
                    print("PASS: %s" % label, flush=True)
                except Fail as e:
                    failed += 1
                    print("FAIL: %s: %s (console: %s)"
                          % (label, e, tail(log, 8)), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
