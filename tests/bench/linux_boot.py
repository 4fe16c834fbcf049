#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The cost of booting Debian's arm64 Linux to /init under Strata against
booting it directly on bare QEMU (`make bench`; also runnable alone).

Both runs: QEMU virt, GICv3, -cpu max, one CPU, `-icount shift=0,sleep=off`
(every instruction advances the virtual clock by 1 ns, and an idle CPU skips
to its next timer deadline at once, so the figures are the same on a busy
and a quiet host), Debian's kernel Image and an initramfs whose /init is
tests/bench/bootstamp.c: its first instructions read the virtual counter,
which counts from QEMU's reset. Under Strata (the production image of
`make ARCH=arm64`, no test hooks, no MMU audit) the count holds Strata's own
start-up, building the VM (zeroing, loading the kernel) and every exit on
the way; directly it is Linux's boot alone. The direct run has no EL2
(virtualization=off): Linux runs at EL1 as it does under Strata, with the
guest's RAM size as QEMU's memory.

Counts are instructions (ticks x 1e9 / CNTFRQ) plus the idle time Linux
spends waiting for timers, which is the same virtual time in both runs.
Prints one table and returns the ratio Strata / direct (target <= 1.05).

With 2 vCPUs (issue 11, `linux_bench(2)`): QEMU -smp 2 in both runs, the VM
given cpus = 2 and Strata both physical CPUs, so each vCPU runs on its own
CPU. -icount needs single-threaded TCG (QEMU refuses it with thread=multi),
which runs the CPUs in turn: the virtual clock still counts every
instruction of both, so the ratio is in instructions (target <= 1.10). The
same pair is then timed with multi-threaded TCG and no -icount, for
information only: wall time on this host, never judged.
"""
import gzip
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "boot"))

from _bootlib import (  # noqa: E402
    ARM_MACHINE, private_dir, newc, make_bundle, run)

TARGETS = {1: 1.05, 2: 1.10}
GUEST_MEM = "256M"
TIMEOUT = 600
CMDLINE = "earlycon console=ttyAMA0 panic=-1"
STAMP_RE = re.compile(r"STRATA-BOOTSTAMP cntvct=(\d+) cntfrq=(\d+)")
ICOUNT = ["-icount", "shift=0,sleep=off"]


def qemu(ncpus, icount=True):
    return ["qemu-system-aarch64", "-cpu", "max", "-smp", str(ncpus),
            "-nographic", "-no-reboot"] + (ICOUNT if icount else
                                           ["-accel", "tcg,thread=multi"])


def build_stamp(tmp):
    exe = os.path.join(tmp, "bootstamp")
    subprocess.run(["aarch64-linux-gnu-gcc", "-static", "-nostdlib",
                    "-ffreestanding", "-fno-stack-protector", "-O2",
                    "-Wall", "-Wextra", "-Werror", "-o", exe,
                    os.path.join(HERE, "bootstamp.c")], check=True)
    return exe


def make_initrd(tmp, stamp):
    out = os.path.join(tmp, "initrd.gz")
    with open(stamp, "rb") as f:
        data = f.read()
    with gzip.open(out, "wb") as f:
        f.write(newc([("init", data, 0o100755)]))
    return out


def insns(r, what):
    m = STAMP_RE.search(r.out)
    if not m:
        raise RuntimeError("%s: no boot stamp (%s): %s" % (
            what, "timed out" if r.timed_out else "status %s" % r.status,
            " | ".join(r.out.splitlines()[-6:])))
    return int(m.group(1)) * 1000000000 // int(m.group(2))


def build_strata():
    subprocess.run(["make", "-s", "-j2", "ARCH=arm64"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(ROOT, "build", "arm64", "strata.bin")


def boot_pair(kernel, image, tmp, initrd, ncpus, icount=True):
    """Boot directly and under Strata; returns the two Runs."""
    direct = run(qemu(ncpus, icount) +
                 ["-M", "virt,gic-version=3", "-m", GUEST_MEM,
                  "-kernel", kernel, "-initrd", initrd, "-append", CMDLINE],
                 TIMEOUT)
    cfg = ("[vm linux]\nkernel = Image\ninitrd = initrd.gz\n"
           "memory = %s\ncpus = %d\ncmdline = %s\n" % (GUEST_MEM, ncpus,
                                                       CMDLINE))
    cpio = make_bundle(os.path.join(tmp, "linux%d.cpio" % ncpus), cfg,
                       [("Image", kernel), initrd])
    under = run(qemu(ncpus, icount) + ["-M", ARM_MACHINE, "-m", "1G",
                                       "-kernel", image, "-initrd", cpio],
                TIMEOUT)
    return direct, under


def linux_bench(ncpus=1):
    """Print the table; returns (direct, strata, ratio) or None to skip."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "boot"))
    from arm64 import linux_deps
    deps = linux_deps()
    if isinstance(deps, str):
        print("bench: Linux boot skipped: " + deps)
        return None
    kernel = deps[0]
    image = build_strata()
    target = TARGETS[ncpus]
    wall = None
    with private_dir("bench-linux-") as tmp:
        initrd = make_initrd(tmp, build_stamp(tmp))
        direct, under = boot_pair(kernel, image, tmp, initrd, ncpus)
        d = insns(direct, "direct boot")
        s = insns(under, "boot under Strata")
        for r, what in ((direct, "direct"), (under, "under Strata")):
            want = "smp: Brought up 1 node, %d CPU" % ncpus
            if want not in r.out:
                raise RuntimeError("%s: Linux did not report '%s'"
                                   % (what, want))
        if ncpus > 1:
            wd, wu = boot_pair(kernel, image, tmp, initrd, ncpus, False)
            if STAMP_RE.search(wd.out) and STAMP_RE.search(wu.out):
                wall = (wd.secs, wu.secs)
    ratio = s / d
    print()
    print("Debian arm64 Linux boot to /init, %d vCPU%s on %d physical CPU%s, "
          "%s (QEMU -smp %d -icount shift=0,sleep=off)" % (
              ncpus, "s" if ncpus > 1 else "", ncpus, "s" if ncpus > 1 else "",
              GUEST_MEM, ncpus))
    print("  direct on bare QEMU:  %13d instructions" % d)
    print("  under Strata:         %13d instructions (+%d)" % (s, s - d))
    print("  ratio Strata/direct:  %13.3f   target <= %.2f: %s" % (
        ratio, target, "met" if ratio <= target else "MISSED"))
    if wall:
        print("  multi-threaded TCG, no -icount (information): direct "
              "%.1f s, under Strata %.1f s wall time (includes QEMU's exit)"
              % wall)
    elif ncpus > 1:
        print("  multi-threaded TCG, no -icount (information): a boot "
              "gave no stamp")
    return d, s, ratio


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    sys.exit(0 if linux_bench(n) else 1)
