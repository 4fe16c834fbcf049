#!/usr/bin/env python3
"""`make bench`, roots part: what a stage-2 view switch and
invalidate-all-roots cost on the real test images (docs/mmu.md).

arm64: QEMU -icount shift=0 (one instruction per ns of virtual time), the
viewbench guest reads CNTVCT, so instructions = ticks * 1e9 / CNTFRQ.
x86: Bochs with `clock: sync=none`; the guest reads the TSC (cycles of the
emulated CPU). Printed per operation: the cost and the ratios measured in
the same run (view switch / null hypercall; invalidate-all / zap of the same
1 GiB (all of the VM's RAM) mapped with 4 KiB pages and with 2 MiB
blocks; target: no slower than the zap). Informative only:
no verdict depends on these numbers.
"""
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "boot"))
from _bootlib import (  # noqa: E402
    ARM_IMAGE, X86_ELF, build_guests, make_bundle, make_iso, vm_modules,
    run_qemu_arm64, run_bochs)

CFG = """[vm viewbench]
kernel = viewbench.elf
memory = 1024M
"""


def fields(line):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def lines(log):
    return [l for l in log.splitlines() if l.startswith("[viewbench] ")]


def report(arch, unit, scale, f):
    n = f["n"]
    null = f["null"] * scale / n
    sw = f["switch2"] * scale / (2 * n)
    print(f"{arch:6} null hypercall         {null:10.0f} {unit}")
    print(f"{arch:6} view switch (hypercall) {sw:9.0f} {unit}  "
          f"ratio to null {sw / null:.2f}")
    if f.get("vmfunc2"):
        vf = f["vmfunc2"] * scale / (2 * n)
        print(f"{arch:6} view switch (VMFUNC)   {vf:10.0f} {unit}  "
              f"ratio to null {vf / null:.3f}")
    for size in ("2m", "4k"):
        z, i = f["zap" + size] * scale, f["inv" + size] * scale
        print(f"{arch:6} 1 GiB at {size.upper():2}: zap {z:10.0f}, "
              f"invalidate-all {i:10.0f} {unit}  ratio {i / max(z, 1):.2f}")


def main():
    with tempfile.TemporaryDirectory(prefix="roots-bench-") as tmp:
        elf = build_guests("arm64", os.path.join(tmp, "a"), ["viewbench"])
        cpio = make_bundle(os.path.join(tmp, "vb.cpio"), CFG, elf)
        r = run_qemu_arm64("max,pauth-impdef=on",
                           ["-icount", "shift=0", "-kernel", ARM_IMAGE,
                            "-initrd", cpio, "-append", "loglevel=warn audit=off"],
                           mem="1536M", timeout=600)
        ls = lines(r.out)
        if len(ls) >= 2:
            f = fields(ls[0])
            f.update(fields(ls[1]))
            report("arm64", "insns", 1e9 / f["cntfrq"], f)
        else:
            print("arm64 viewbench: no result (%s)" % r.tail(4))
        elf = build_guests("x86_64", os.path.join(tmp, "x"), ["viewbench"])
        iso = make_iso(tmp, "vb", "loglevel=warn audit=off", vm_modules(CFG, elf))
        status, log = run_bochs(tmp, "vb", iso, megs=1280, timeout=1200)
        ls = lines(log)
        if len(ls) >= 2:
            f = fields(ls[0])
            f.update(fields(ls[1]))
            report("x86", "cycles", 1, f)
        else:
            print("x86 viewbench: no result (status %s)" % status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
