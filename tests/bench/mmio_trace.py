#!/usr/bin/env python3
"""Where the instructions of one emulated MMIO load on arm64 go: a profile
of the mmio-dev row of `make bench` (tests/bench/run.py), one load traced
instruction by instruction.

Builds Strata as the bench does (TEST=1, no audit) and a tiny guest that
stores to the test device's scratch register, loads it twice (the first
installs the MMIO SPTE) and then loads it once more between two calls of
an empty function mark(). QEMU runs with -singlestep and `-d exec,nochain`,
so that its log names every executed instruction's PC; the PCs between the
two calls of mark() are the whole emulated load (guest load, exit, handling,
entry). Prints the total and the instructions per function of Strata (and
the guest), in the order they first ran. A tool for people, not a test:
the bench's mmio-dev row is the figure that counts.

    python3 tests/bench/mmio_trace.py [--pcs FILE]
"""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "boot"))
from _bootlib import ARM_MACHINE, make_bundle, private_dir  # noqa: E402

GUEST = r"""
#include "guest.h"

uint64_t sink;

__attribute__((noinline)) void mark(void)
{
	__asm__ volatile("nop");
}

int guest_main(void *dtb)
{
	uint64_t reg = GUEST_TESTDEV_BASE + 8, s = 0;

	(void)dtb;
	mmio_write64(reg, 0x1234);
	s |= mmio_read64(reg);
	s |= mmio_read64(reg);
	mark();
	s |= mmio_read64(reg);
	mark();
	sink = s;
	puts("mmiotrace: done\n");
	return 0;
}
"""
CROSS = "aarch64-linux-gnu-"
GUESTS = os.path.join(ROOT, "tests", "guests", "arm64")
CFLAGS = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
          "-ffreestanding", "-fno-builtin", "-fno-stack-protector",
          "-fno-pie", "-fno-common", "-mgeneral-regs-only", "-mstrict-align",
          "-fno-asynchronous-unwind-tables", "-I" + os.path.join(ROOT, "include"),
          "-I" + os.path.join(ROOT, "arch", "arm64", "include"),
          "-I" + os.path.join(ROOT, "tests", "guests", "common"),
          "-I" + GUESTS]
LDFLAGS = ["-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none",
           "-Wl,-z,max-page-size=0x1000", "-Wl,--no-warn-rwx-segments",
           "-T", os.path.join(GUESTS, "guest.ld")]
PC_RE = re.compile(rb"\[[0-9a-f]+/([0-9a-f]{16})/")


def build_guest(tmp):
    """The guest above, linked with the test guests' start and library."""
    subprocess.run(["make", "-s", "-C", GUESTS, "OUT=" + tmp,
                    os.path.join(tmp, "hello.elf")], check=True,
                   stdout=subprocess.DEVNULL)
    src = os.path.join(tmp, "mmiotrace.c")
    with open(src, "w") as f:
        f.write(GUEST)
    obj = os.path.join(tmp, "mmiotrace.o")
    elf = os.path.join(tmp, "mmiotrace.elf")
    subprocess.run([CROSS + "gcc"] + CFLAGS + ["-c", src, "-o", obj],
                   check=True)
    subprocess.run([CROSS + "gcc"] + LDFLAGS + ["-o", elf, obj] +
                   [os.path.join(tmp, "obj", o) for o in
                    ("start.o", "lib.o", "format.o")] + ["-lgcc"],
                   check=True)
    return elf


def symbols(elf, prefix=""):
    out = subprocess.run([CROSS + "nm", "-n", elf], check=True, text=True,
                         stdout=subprocess.PIPE).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            syms.append((int(f[0], 16), prefix + f[2]))
    return syms


def trace(tmp, image, elf, mark):
    """The PCs executed between the first two calls of mark()."""
    cpio = make_bundle(os.path.join(tmp, "t.cpio"),
                       "[vm t]\nkernel = mmiotrace.elf\nmemory = 16M\n"
                       "cpus = 1\n", [("mmiotrace.elf", elf)])
    fifo = os.path.join(tmp, "log.fifo")
    os.mkfifo(fifo)
    q = subprocess.Popen(
        ["qemu-system-aarch64", "-M", ARM_MACHINE,
         "-cpu", "max,pauth-impdef=on", "-m", "1G", "-nographic",
         "-semihosting", "-no-reboot", "-icount", "shift=0", "-singlestep",
         "-d", "exec,nochain", "-D", fifo,
         "-kernel", os.path.join(image, "strata.bin"), "-initrd", cpio,
         "-append", "loglevel=info"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen, pcs = 0, []
    try:
        with open(fifo, "rb") as f:
            for line in f:
                m = PC_RE.search(line)
                if not m:
                    continue
                pc = int(m.group(1), 16)
                if pc == mark:
                    seen += 1
                    if seen == 2:
                        break
                elif seen == 1:
                    pcs.append(pc)
    finally:
        q.kill()
        q.wait()
    return pcs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcs", help="also write every PC to this file")
    args = ap.parse_args()
    out = os.path.join("build", "bench", "arm64")
    subprocess.run(["make", "-s", "-j2", "ARCH=arm64", "TEST=1", "AUDIT=0",
                    "BUILD=" + out], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    image = os.path.join(ROOT, out)
    with private_dir("mmiotrace-") as tmp:
        elf = build_guest(tmp)
        gsyms = symbols(elf, "guest:")
        mark = [a for a, n in gsyms if n == "guest:mark"][0]
        pcs = trace(tmp, image, elf, mark)
    syms = sorted(symbols(os.path.join(image, "strata.elf")) + gsyms)
    keys = [a for a, _ in syms]
    count, order = collections.Counter(), []
    for pc in pcs:
        i = bisect.bisect_right(keys, pc) - 1
        name = syms[i][1] if i >= 0 else "?"
        if name not in count:
            order.append(name)
        count[name] += 1
    print("one emulated MMIO load: %d instructions" % len(pcs))
    for name in order:
        print("%6d  %s" % (count[name], name))
    if args.pcs:
        with open(args.pcs, "w") as f:
            f.write("".join("%x\n" % pc for pc in pcs))
    return 0 if pcs else 1


if __name__ == "__main__":
    sys.exit(main())
