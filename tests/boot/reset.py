#!/usr/bin/env python3
"""Boot tests: a guest's reset request restarts its VM (docs/mmu.md, "VM
reset"), on the real test images, the two architectures side by side.

  arm64  QEMU -cpu max, two boots:
         1. VM rst alone (tests/guests/arm64/reset.c, 2 vCPUs): three
            PSCI SYSTEM_RESETs, each with vCPU 1 writing RAM, a run-time
            memslot added and vCPU 0 in a second view. Every boot checks
            that nothing of the one before survived (RAM, memslot, view,
            vCPU 1 on); Strata reports each reset with the roots it
            invalidated and the memslot memory it got back, and the page
            allocator holds as many free pages after each reset as after
            the first (nothing leaks per reset).
         2. the same guest with `on_reset = stop`, beside hello: the reset
            request ends the VM well, after one boot; hello is unharmed.
  x86    Bochs corei7_skylake_x, VM rst alone (tests/guests/x86/reset.c):
         two resets through the reset control register at port 0xcf9,
         with vCPU 1 started by INIT-SIPI-SIPI on every boot.
"""
import concurrent.futures
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE, need, tail, private_dir, build_guests, make_bundle,
    make_iso, vm_modules, run_qemu_arm64, run_bochs)

ARM_RESTART = """[vm rst]
kernel = reset.elf
memory = 32M
memory_max = 34M
cpus = 2
"""
ARM_STOP = """[vm rststop]
kernel = reset.elf
memory = 32M
memory_max = 34M
cpus = 2
on_reset = stop
[vm hello]
kernel = hello.elf
memory = 16M
"""
X86_RESTART = """[vm rst]
kernel = reset.elf
memory = 16M
memory_max = 18M
cpus = 2
"""
ARM_TIMEOUT = 120
X86_TIMEOUT = 600
RESET_LINE = (r"^vm rst: reset (\d+) \((.*)\): (\d+) roots? invalidated, "
              r"(\d+) KiB of run-time memslots returned, kernel reloaded, "
              r"(\d+) pages free$")


def boot_arm64(tmp):
    elves = build_guests("arm64", os.path.join(tmp, "arm64"),
                         ["reset", "hello"])
    runs = []
    # The third run: the same restarts with the VM's two vCPUs on two
    # physical CPUs (docs/smp.md: a reset waits until no vCPU is on a CPU).
    for name, cfg, smp in (("restart", ARM_RESTART, 1),
                           ("stop", ARM_STOP, 1),
                           ("restart-smp", ARM_RESTART, 2)):
        cpio = make_bundle(os.path.join(tmp, name + ".cpio"), cfg, elves)
        r = run_qemu_arm64("max,pauth-impdef=on",
                           ["-smp", str(smp), "-kernel", ARM_IMAGE,
                            "-initrd", cpio, "-append", "loglevel=info"],
                           timeout=ARM_TIMEOUT)
        runs.append((r.status, r.out))
    return runs


def check_restart_smp(log):
    check_restart(log, 3, "PSCI SYSTEM_RESET")
    need(log, r"^vm rst: vCPUs on CPUs 0,1$", "vCPUs on two CPUs")
    if not re.search(r"^vm rst: vCPU 1 runs on CPU 1$", log, re.M):
        raise Fail("vCPU 1 did not run on CPU 1")


def boot_x86(tmp):
    elves = build_guests("x86_64", os.path.join(tmp, "x86"), ["reset"])
    iso = make_iso(tmp, "reset", "loglevel=info",
                   vm_modules(X86_RESTART, elves))
    return [run_bochs(tmp, "reset", iso, megs=256, timeout=X86_TIMEOUT)]


def guest_lines(log, vm):
    pre = "[%s] " % vm
    return [l[len(pre):] for l in log.splitlines() if l.startswith(pre)]


def check_restart(log, resets, why):
    lines = guest_lines(log, "rst")
    fails = [l for l in lines if l.startswith("FAIL")]
    if fails:
        raise Fail("the guest found: %s" % "; ".join(fails[:3]))
    boots = [int(m.group(1)) for m in
             (re.match(r"^reset: boot (\d+)$", l) for l in lines) if m]
    if boots != list(range(resets + 1)):
        raise Fail("boots %s, expected 0..%d in order" % (boots, resets))
    need(lines, r"^reset: %d resets, every boot was fresh$" % resets,
         "the last boot's verdict")
    if any("returned" in l or "did not reset" in l for l in lines):
        raise Fail("a reset request returned to the guest")
    events = [m for m in (re.match(RESET_LINE, l) for l in log.splitlines())
              if m]
    if [int(m.group(1)) for m in events] != list(range(1, resets + 1)):
        raise Fail("Strata reported resets %s"
                   % [m.group(1) for m in events])
    for m in events:
        if m.group(2) != why:
            raise Fail("reset reason '%s', expected '%s'" % (m.group(2), why))
        if int(m.group(3)) < 1:
            raise Fail("reset %s invalidated no root" % m.group(1))
        if int(m.group(4)) != 2048:
            raise Fail("reset %s returned %s KiB of memslots, not 2048"
                       % (m.group(1), m.group(4)))
    free = {int(m.group(5)) for m in events}
    if len(free) != 1:
        raise Fail("free pages after each reset differ: %s (a leak)"
                   % [int(m.group(5)) for m in events])
    # Every boot line comes after the reset report that started it.
    order = [l for l in log.splitlines()
             if re.match(RESET_LINE, l) or re.match(r"^\[rst\] reset: boot "
                                                    r"\d+$", l)]
    for i, l in enumerate(order):
        want_report = i % 2 == 1
        if bool(re.match(RESET_LINE, l)) != want_report:
            raise Fail("boots and reset reports out of order: %s"
                       % " | ".join(order[:8]))
    need(log, r"^vm rst: ended: powered off \(status 0\)$",
         "the VM's good end after its last boot")
    need(log, r"^Strata: all 1 VMs ended: 1 ok, 0 failed$", "the summary")
    if "s2pt audit" in log or "roots audit" in log or "WARNING" in log:
        raise Fail("an audit or a warning fired")


def check_stop(log):
    lines = guest_lines(log, "rststop")
    boots = [l for l in lines if re.match(r"^reset: boot \d+$", l)]
    if boots != ["reset: boot 0"]:
        raise Fail("boots %s, expected exactly boot 0" % boots)
    need(lines, r"^reset: boot 0: vCPU 1 at round \d+, asking for a reset$",
         "the reset request")
    need(log, r"^vm rststop: ended: reset requested \(PSCI SYSTEM_RESET\); "
         r"on_reset = stop$", "the VM ending on its reset request")
    if re.search(r"^vm rststop: reset \d", log, re.M):
        raise Fail("the VM was restarted despite on_reset = stop")
    need(log, r"^vm hello: ended: powered off \(status 0\)$",
         "hello ending well beside it")
    need(log, r"^Strata: all 2 VMs ended: 2 ok, 0 failed$",
         "the summary: 2 ok")


def main():
    failed = 0
    with private_dir("reset-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = {"arm64": ex.submit(boot_arm64, tmp),
                    "x86": ex.submit(boot_x86, tmp)}
            runs = {}
            for arch, f in futs.items():
                try:
                    runs[arch] = f.result()
                except Exception as e:  # a harness error fails its tests
                    runs[arch] = e
        tests = [
            ("reset/arm64/restart", "arm64", 0,
             lambda log: check_restart(log, 3, "PSCI SYSTEM_RESET")),
            ("reset/arm64/on-reset-stop", "arm64", 1, check_stop),
            ("reset/arm64/restart-two-cpus", "arm64", 2, check_restart_smp),
            ("reset/x86/restart", "x86", 0,
             lambda log: check_restart(log, 2, "hard reset through port "
                                       "0xcf9")),
        ]
        for label, arch, idx, fn in tests:
            run = runs[arch]
            if isinstance(run, Exception):
                print("FAIL: %s: %r" % (label, run), flush=True)
                failed += 1
                continue
            status, log = run[idx]
            try:
                if status is None:
                    raise Fail("timed out")
                fn(log)
                print("PASS: %s" % label, flush=True)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (console: %s)"
                      % (label, e, tail(log, 10)), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
