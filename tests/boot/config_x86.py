#!/usr/bin/env python3
"""Boot test: Strata reads the boot bundle and strata.cfg from multiboot2
modules and reports each VM, or each configuration error with file, line and
reason, and keeps going. Runs the x86 test image under QEMU TCG (the config
is read before the VMX check, so no VMX is needed to see it)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, tail, private_dir, make_iso, run_qemu_x86)

CFG = """# one good VM, three bad ones
[vm good]
kernel  = hello.elf
memory  = 16M
cmdline = console=ttyS0 quiet # kept
[vm badcpus]
kernel = hello.elf
cpus = 0
[vm notimage]
kernel = strata.cfg
[vm missing]
kernel = nothere.elf
"""

EXPECT = [
    "bundle: 2 files",
    "  strata.cfg (%d bytes)" % len(CFG),
    "error: strata.cfg:8: bad cpus '0' (expected 1..8)",
    "error: vm badcpus: never ran: strata.cfg:8: bad cpus '0' (expected 1..8)",
    "error: strata.cfg:12: kernel file 'nothere.elf' is not in the bundle "
    "(expected one of its file names)",
    "error: vm missing: never ran: strata.cfg:12: kernel file 'nothere.elf' "
    "is not in the bundle (expected one of its file names)",
    "vm good: kernel hello.elf (elf64, %d bytes), memory 16 MiB, 1 cpu",
    "vm good: cmdline 'console=ttyS0 quiet # kept'",
    "error: vm notimage: never ran: strata.cfg:9: kernel 'strata.cfg' is not "
    "an ELF64, a multiboot kernel or a bzImage for x86_64 (expected one, or "
    "'load = ADDR' for a raw binary)",
    "strata.cfg: 1 VM configured, 3 errors",
    "Strata: stopped (status 2)",
]


def main():
    name = "x86/config-errors-reported"
    if not os.path.exists(ELF):
        print(f"FAIL: {name}: {ELF} is missing (make TEST=1 ARCH=x86_64)")
        return 1
    with private_dir("cfg-") as tmp:
        try:
            iso = make_iso(tmp, "t", "loglevel=info", [
                ("strata.cfg", CFG.encode(), "strata.cfg"),
                ("hello.elf", ELF, "hello.elf")])
        except Fail as e:
            print(f"FAIL: {name}: {e}")
            return 1
        _, out = run_qemu_x86(tmp, "t", iso)
    size = os.path.getsize(ELF)
    missing = [e % size if "%d" in e else e for e in EXPECT]
    missing = [e for e in missing if e not in out]
    if missing:
        print(f"FAIL: {name}: missing {missing!r}\n    {tail(out, 20)}")
        return 1
    print(f"PASS: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
