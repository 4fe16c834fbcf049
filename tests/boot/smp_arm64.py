#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: Strata on many physical CPUs (docs/smp.md), QEMU virt -smp 4.

Cases (all on the test Image, build/test/arm64/strata.bin):

- `mm`: GICv3, -cpu max. The smpmm guest (4 vCPUs, tests/guests/arm64/
  smpmm.c) faults, touches, zaps, write-protects and frees the same ranges
  from vCPUs that Strata reports on four different physical CPUs, and
  checks for stale translations and lost data; beside it ticker (pinned to
  CPU 0) must print at least 5 lines between the two lines misbehave
  (pinned to CPU 2) prints around a spin with interrupts masked, then
  both finish; a VM
  pinned to a CPU Strata does not use is stopped with a clear reason.
- `gicv2`: the same smpmm guest on a GICv2 host (-M virt,gic-version=2),
  where the kicks between CPUs are GICD_SGIR writes.
- `cpus`: `cpus=2` on the command line of a 4-CPU machine: only two CPUs
  start, the four vCPUs of the smp guest share them, and a `pin` list that
  does not match the vCPU count is a configuration error.

Every verdict rests on lines on the console: the guests' own PASS lines and
values, Strata's `vm NAME: vCPU N runs on CPU M` lines (printed by the CPU
that runs the vCPU, from its own per-CPU data), its end lines and summary.
Prints one PASS/FAIL line per case; exits 1 if any failed.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as IMAGE, need, private_dir, build_guests, make_bundle,
    run_qemu_arm64)

TIMEOUT = 300
HOG_TICKS = 5   # ticker lines (20 ms apart) within misbehave's 5 s hog
GICV2 = "virt,virtualization=on,gic-version=2"
GUESTS = None


def boot(tmp, tag, vms, smp=4, append="loglevel=info", machine=None,
         cpu="max"):
    cfg, files = "", {}
    for name, elf, mem, extra in vms:
        cfg += f"[vm {name}]\nkernel = {elf}\nmemory = {mem}\n"
        for k, v in extra.items():
            cfg += f"{k} = {v}\n"
        files[elf] = os.path.join(GUESTS, elf)
    cpio = make_bundle(os.path.join(tmp, tag + ".cpio"), cfg,
                       sorted(files.items()))
    kw = {"machine": machine} if machine else {}
    return run_qemu_arm64(cpu, ["-smp", str(smp), "-kernel", IMAGE,
                                "-initrd", cpio, "-append", append],
                          mem="1G", timeout=TIMEOUT, **kw)


def check_no_exception(out):
    """No EL2 exception dump and no internal-bug warning from Strata."""
    m = re.search(r"^(EL2 exception|WARNING: ).*$", out, re.M)
    if m:
        raise Fail(f"Strata printed '{m.group(0)}'")


def ended(run, vm, how=r"powered off \(status 0\)"):
    if not re.search(rf"^vm {vm}: ended: {how}$", run.out, re.M):
        raise Fail(f"no 'vm {vm}: ended: {how}' line")


def passed(run, vm, prefix=None):
    lines = run.guest(vm)
    bad = [l for l in lines if l.startswith("FAIL")]
    if bad:
        raise Fail(f"{vm} says: " + " / ".join(bad[:4]))
    need(lines, rf"^{prefix or vm}( \w+)?: PASS$", f"the '{vm}: PASS' line")
    ended(run, vm)
    return lines


def cpus_of(run, vm, n):
    """The physical CPU each of @vm's @n vCPUs ran on, from Strata's lines."""
    cpus = {}
    for m in re.finditer(rf"^vm {vm}: vCPU (\d+) runs on CPU (\d+)$",
                         run.out, re.M):
        cpus.setdefault(int(m.group(1)), int(m.group(2)))
    if sorted(cpus) != list(range(n)):
        raise Fail(f"vm {vm}: 'runs on CPU' lines for vCPUs {sorted(cpus)}, "
                   f"want 0-{n - 1}")
    return [cpus[i] for i in range(n)]


def smpmm_checks(run):
    lines = passed(run, "smpmm")
    need(lines, r"^smpmm: 3 workers x 2048 pages x 6 rounds beside \d+ zaps "
         r"and \d+ root invalidations: data intact$", "the stress summary")
    need(lines, r"^smpmm: write protection: 2048 faults for 2048 pages, one "
         r"per write$", "one write-protection fault per page")
    need(lines, r"^smpmm: a deleted memslot read as zero on every worker, "
         r"and so did the fresh one$", "no data from freed pages")
    m = need(lines, r"^smpmm: counters: kicks (\d+), lock waits (\d+), "
             r"fault retries (\d+), remote flushes (\d+), stage-2 faults "
             r"(\d+)$", "the counters")
    if int(m.group(1)) == 0:
        raise Fail("no kick between CPUs was counted")
    cpus = cpus_of(run, "smpmm", 4)
    if len(set(cpus)) != 4:
        raise Fail(f"smpmm's vCPUs ran on CPUs {cpus}, not on four")
    return cpus, m


def t_mm(tmp):
    vms = [("smpmm", "smpmm.elf", "16M",
            {"cpus": 4, "memory_max": "18M", "cmdline": "smpmm"}),
           ("ticka", "ticker.elf", "16M", {"pin": 0, "cmdline": "A"}),
           ("misbehave", "misbehave.elf", "16M",
            {"pin": 2, "cmdline": "misbehave hog"}),
           ("lost", "hello.elf", "16M", {"pin": 5, "cmdline": "lost"})]
    run = boot(tmp, "mm", vms)
    if run.status is None:
        raise Fail(f"timed out ({run.tail()})")
    check_no_exception(run.out)
    need(run.out.splitlines(), r"^arm64: 4 of 4 CPUs online$", "4 CPUs")
    need(run.out.splitlines(), r"^Strata: scheduling on 4 physical CPUs$",
         "the scheduler on 4 CPUs")
    cpus, m = smpmm_checks(run)
    passed(run, "ticka", "ticker")
    passed(run, "misbehave")
    if cpus_of(run, "ticka", 1) != [0] or cpus_of(run, "misbehave", 1) != [2]:
        raise Fail("the pinned VMs ran elsewhere than their pin")
    # ticker (CPU 0) printed lines while misbehave (CPU 2) spun with its
    # interrupts masked: between misbehave's two hog lines, by the order
    # of the console's lines.
    out = run.out
    s, e = out.find("[misbehave] misbehave: hog: 5 s with interrupts "
                    "masked from here"), \
        out.find("[misbehave] misbehave: hog: done")
    if s < 0 or e < s:
        raise Fail("no misbehave hog lines")
    ticks = len(re.findall(r"^\[ticka\] ticker A: tick \d+ of 25$",
                           out[s:e], re.M))
    if ticks < HOG_TICKS:
        raise Fail(f"{ticks} ticker lines while misbehave hogged CPU 2 "
                   f"with interrupts masked, want at least {HOG_TICKS}")
    ended(run, "lost", r"stopped: pin puts vCPU 0 on CPU 5, but Strata uses "
          r"CPUs 0-3")
    need(out.splitlines(), r"^Strata: all 4 VMs ended: 3 ok, 1 failed$",
         "the summary")
    if run.status != 1:
        raise Fail(f"exit status {run.status}, want 1 (one VM stopped)")
    return (f"smpmm vCPUs on CPUs {cpus}, kicks {m.group(1)}, lock waits "
            f"{m.group(2)}, fault retries {m.group(3)}")


def t_gicv2(tmp):
    vms = [("smpmm", "smpmm.elf", "16M",
            {"cpus": 4, "memory_max": "18M", "cmdline": "smpmm"})]
    run = boot(tmp, "gicv2", vms, machine=GICV2)
    if run.status is None:
        raise Fail(f"timed out ({run.tail()})")
    check_no_exception(run.out)
    need(run.out.splitlines(), r"^arm64: GICv2 CPU interface", "a GICv2")
    cpus, m = smpmm_checks(run)
    if run.status != 0:
        raise Fail(f"exit status {run.status}, want 0")
    return f"smpmm vCPUs on CPUs {cpus}, kicks {m.group(1)}"


def t_cpus(tmp):
    vms = [("smp", "smp.elf", "16M", {"cpus": 4, "cmdline": "smp"}),
           ("hello", "hello.elf", "16M", {"pin": 1, "cmdline": "hello"}),
           ("badpin", "hello.elf", "16M",
            {"cpus": 4, "pin": "0,1", "cmdline": "x"})]
    run = boot(tmp, "cpus", vms, append="loglevel=info cpus=2")
    if run.status is None:
        raise Fail(f"timed out ({run.tail()})")
    check_no_exception(run.out)
    lines = run.out.splitlines()
    need(lines, r"^arm64: 2 of 4 CPUs online$", "only 2 CPUs started")
    need(lines, r"^Strata: scheduling on 2 physical CPUs$",
         "the scheduler on 2 CPUs")
    need(lines, r"^error: vm badpin: never ran: strata\.cfg:\d+: VM 'badpin' pins "
         r"2 vCPUs but has 4 \(expected one CPU for all, or one per vCPU\)$",
         "the pin list error")
    passed(run, "smp")
    passed(run, "hello", "hello|Hello")
    cpus = cpus_of(run, "smp", 4)
    if sorted(set(cpus)) != [0, 1]:
        raise Fail(f"smp's vCPUs ran on CPUs {cpus}, want both of 0 and 1")
    if cpus_of(run, "hello", 1) != [1]:
        raise Fail("hello did not run on CPU 1, its pin")
    if run.status != 1:
        raise Fail(f"exit status {run.status}, want 1 (a config error)")
    return f"smp vCPUs on CPUs {cpus}"


CASES = {"mm": t_mm, "gicv2": t_gicv2, "cpus": t_cpus}


def main():
    if not os.path.exists(IMAGE):
        print(f"FAIL: smp-arm64: {IMAGE} missing (make TEST=1 ARCH=arm64)")
        return 1
    want = sys.argv[1:] or list(CASES)
    global GUESTS
    ok = True
    with private_dir("smp-arm64-") as tmp:
        GUESTS = os.path.join(tmp, "guests")
        try:
            build_guests("arm64", GUESTS)
        except Exception as e:
            print(f"FAIL: smp-arm64/build: {e}")
            return 1
        for name in want:
            try:
                what = CASES[name](tmp)
                print(f"PASS: smp-arm64/{name} ({what})")
            except Fail as e:
                print(f"FAIL: smp-arm64/{name}: {e}")
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
