#!/usr/bin/env python3
"""Boot tests: Strata on a CPU whose hypervisor hides VMX features, as
nested QEMU/KVM may (docs/x86-nested.md). A Bochs CPU model cannot drop
single VMX features, so the test build's `x86_vmx_hide=` word makes Strata
read them as absent. Two Bochs boots side by side:

  optional  x86_vmx_hide=ve,vmfunc,ept1g,rdtscp: Strata names each missing
            feature with what it does without it and runs on; a `ve = on`
            VM is refused with the reason, and tests/guests/x86/hidden.c in
            a 1 GiB VM sees the consequences: its first touch maps a 2 MiB
            block (not 1 GiB), VMFUNC and RDTSCP raise #UD, CPUID hides
            RDTSCP, and a view switch by hypercall still works.
  required  x86_vmx_hide=vpid: a required feature is missing, so Strata
            says which and stops with status 2 before any VM runs.
"""
import concurrent.futures
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, need, tail, private_dir, build_guests, make_iso, vm_modules,
    run_bochs)

OPTIONAL_CFG = """[vm hidden]
kernel = hidden.elf
memory = 1G
[vm ve]
kernel = ve.elf
memory = 16M
ve = on
"""
REQUIRED_CFG = """[vm hello]
kernel = hello.elf
memory = 8M
"""
MISSING = [
    ("EPT-violation #VE", "VMs with ve = on are refused"),
    ("VM functions with EPTP switching",
     "views switch by hypercall only; a guest's VMFUNC gets #UD"),
    ("EPT 1 GiB pages", "guest memory is mapped with 2 MiB blocks at most"),
    ("RDTSCP in VMX non-root operation",
     "RDTSCP is hidden from guests (CPUID) and gets #UD"),
]
TIMEOUT = 600


def boot(tmp, name, cmdline, cfg, guests, megs):
    elves = build_guests("x86_64", os.path.join(tmp, name), guests)
    iso = make_iso(tmp, name, cmdline, vm_modules(cfg, elves))
    return run_bochs(tmp, name, iso, megs=megs, timeout=TIMEOUT)


def check_optional(status, log):
    for feature, without in MISSING:
        need(log, r"^warning: vmx: optional feature missing: %s: %s$"
             % (re.escape(feature), re.escape(without)),
             "the line naming the missing %s" % feature)
    found = re.findall(r"^warning: vmx: optional feature missing: ([^:]*):",
                       log, re.M)
    if sorted(found) != sorted(f for f, _ in MISSING):
        raise Fail("missing features reported: %s" % found)
    need(log, r"^vmx: EPT 2M pages yes 1G pages no$",
         "the capability report agreeing")
    need(log, r"^Strata: virtualization ready$", "Strata running on")
    need(log, r"vm ve: ve = on, but this CPU has no EPT-violation #VE",
         "the ve = on VM refused with its reason")
    if re.search(r"^\[ve\] ", log, re.M):
        raise Fail("the ve = on VM ran")
    pre = "[hidden] "
    lines = [l[len(pre):] for l in log.splitlines() if l.startswith(pre)]
    for pattern, what in [
            (r"^hidden: first touch at 512 MiB: maps 4K 0 2M 1 1G 0$",
             "a 2 MiB block, not 1 GiB, for the first touch"),
            (r"^hidden: VMFUNC #UD$", "#UD for VMFUNC"),
            (r"^hidden: CPUID RDTSCP 0, RDTSCP #UD$",
             "RDTSCP hidden and #UD"),
            (r"^hidden: view 1 by hypercall: ok$", "a view by hypercall"),
            (r"^hidden: RESULT: PASS", "the guest's checks passing")]:
        need(lines, pattern, what)
    need(log, r"^vm hidden: ended: powered off \(status 0\)$",
         "the 1 GiB VM ending well")


def check_required(status, log):
    need(log, r"vmx: missing required feature: VPID with INVVPID$",
         "the missing required feature named")
    need(log, r"Strata: cannot run guests on this CPU; stopping$",
         "the refusal")
    # Bochs' own exit status does not carry Strata's: the console does.
    need(log, r"^Strata: stopped \(status 2\)$", "stop status 2")
    if "[hello]" in log:
        raise Fail("a VM ran without a required feature")


def main():
    runs = {}
    failed = 0
    with private_dir("nested-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = {
                "optional": ex.submit(
                    boot, tmp, "optional",
                    "loglevel=info x86_vmx_hide=ve,vmfunc,ept1g,rdtscp",
                    OPTIONAL_CFG, ["hidden", "ve"], 2304),
                "required": ex.submit(
                    boot, tmp, "required",
                    "loglevel=info x86_vmx_hide=vpid", REQUIRED_CFG,
                    ["hello"], 256),
            }
            for name, f in futs.items():
                try:
                    runs[name] = f.result()
                except Exception as e:  # a harness error fails its test
                    runs[name] = e
        for name, fn in (("optional", check_optional),
                         ("required", check_required)):
            label = "nested_x86/hidden-%s" % name
            run = runs[name]
            if isinstance(run, Exception):
                print("FAIL: %s: %r" % (label, run), flush=True)
                failed += 1
                continue
            status, log = run
            try:
                if status is None:
                    raise Fail("timed out")
                fn(status, log)
                print("PASS: %s" % label, flush=True)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (console: %s)"
                      % (label, e, tail(log, 10)), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
