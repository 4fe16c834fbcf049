#!/usr/bin/env python3
"""Boot test: Strata reads the boot bundle and strata.cfg from multiboot2
modules and reports each VM, or each configuration error with file, line and
reason, and keeps going. Runs the x86 test image under QEMU TCG (the config
is read before the VMX check, so no VMX is needed to see it)."""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ELF = os.path.join(ROOT, "build/test/x86_64/strata.elf")

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
    "error: strata.cfg:8: bad cpus '0' (1..8)",
    "error: strata.cfg:6: VM 'badcpus' skipped",
    "error: strata.cfg:12: file 'nothere.elf' is not in the bundle",
    "vm good: kernel hello.elf (elf64, %d bytes), memory 16 MiB, 1 cpu",
    "vm good: cmdline 'console=ttyS0 quiet # kept'",
    "error: strata.cfg:9: VM 'notimage': kernel 'strata.cfg' is not an ELF64",
    "strata.cfg: 1 VM configured, 3 errors",
    "Strata: stopped (status 2)",
]


def main():
    name = "x86/config-errors-reported"
    if not os.path.exists(ELF):
        print(f"FAIL: {name}: {ELF} is missing (make TEST=1 ARCH=x86_64)")
        return 1
    tmp = tempfile.mkdtemp(prefix="cfg-", dir=os.path.join(ROOT, "build/test"))
    try:
        boot = os.path.join(tmp, "iso/boot")
        os.makedirs(os.path.join(boot, "grub"))
        shutil.copy(ELF, os.path.join(boot, "strata.elf"))
        shutil.copy(ELF, os.path.join(boot, "hello.elf"))
        with open(os.path.join(boot, "strata.cfg"), "w") as f:
            f.write(CFG)
        with open(os.path.join(boot, "grub/grub.cfg"), "w") as f:
            f.write("set timeout=0\nmenuentry \"Strata\" {\n"
                    "  multiboot2 /boot/strata.elf loglevel=info\n"
                    "  module2 /boot/strata.cfg strata.cfg\n"
                    "  module2 /boot/hello.elf hello.elf\n  boot\n}\n")
        iso = os.path.join(tmp, "t.iso")
        subprocess.run(["grub-mkrescue", "-o", iso, os.path.join(tmp, "iso")],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        log = os.path.join(tmp, "serial.log")
        try:
            subprocess.run(["qemu-system-x86_64", "-machine", "pc", "-cpu",
                            "max", "-accel", "tcg", "-m", "256", "-cdrom", iso,
                            "-boot", "d", "-display", "none", "-serial",
                            "file:" + log, "-device",
                            "isa-debug-exit,iobase=0xf4,iosize=4",
                            "-no-reboot"], timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass
        out = open(log, errors="replace").read().replace("\r", "") \
            if os.path.exists(log) else ""
        size = os.path.getsize(ELF)
        missing = [e % size if "%d" in e else e for e in EXPECT]
        missing = [e for e in missing if e not in out]
        if missing:
            tail = "\n    ".join(out.splitlines()[-20:])
            print(f"FAIL: {name}: missing {missing!r}\n    {tail}")
            return 1
        print(f"PASS: {name}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
