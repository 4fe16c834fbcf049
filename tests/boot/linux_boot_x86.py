#!/usr/bin/env python3
"""Boot tests: the Linux x86 boot protocol (docs/x86-linux-boot.md) on
Strata's test image under Bochs corei7_skylake_x. tests/guests/x86/bzboot.c
is linked as a bzImage's protected-mode code (64-bit entry at 0x200) and
wrapped here in a setup header (boot protocol 2.15, one setup sector,
LOADED_HIGH, XLF_KERNEL_64), as the kernel build's tools/build does. One
boot, three VMs:

  bzimage-entry   the bzImage is recognised and loaded at 1 MiB, entered in
                  long mode at 1 MiB + 0x200 with CS 0x10, DS/SS 0x18,
                  interrupts off and RSI = boot_params;
  boot-params     boot_params holds its setup header with type_of_loader
                  0xff, the command line, the initrd (its text read back),
                  acpi_rsdp_addr at the RSDP, an e820 map that is sorted,
                  has the image in RAM and boot_params and the ACPI area
                  reserved;
  tiny-e820       a 2 MiB VM whose image fills RAM from 1 MiB: Strata's
                  boot area lands below 1 MiB and the e820 map stays
                  sorted without overlaps (bzboot's own check);
  old-protocol    a bzImage of protocol 2.05 (no 64-bit entry) is refused
                  with a clear message, and the other VM still runs.

Every verdict rests on lines on the serial console. STRATA_KEEP=1 keeps
the temporary directory.
"""
import os
import re
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, tail, need, check_no_exception,
    private_dir, build_guests, make_iso, vm_modules, run_bochs,
    select_tests)

BOOT_TIMEOUT = 480
CMDLINE = "console=ttyS0 bz says hello"
INITRD = b"strata initrd for a bzImage\nmore\n"
CFG = """# the Linux boot protocol
[vm bz]
kernel = bzboot.bzImage
memory = 8M
initrd = bzrd.txt
cmdline = %s
[vm old]
kernel = old.bzImage
memory = 8M
[vm tiny]
kernel = bzboot.bzImage
memory = 2M
cmdline = tiny
""" % CMDLINE


def bzimage(code, version=0x020f, xloadflags=1):
    """@code (the protected-mode part) behind one setup sector whose
    header says what a bzImage's does (Documentation/arch/x86/boot.rst)."""
    setup = bytearray(1024)
    setup[0x1f1] = 1                                # setup_sects
    struct.pack_into("<H", setup, 0x1fe, 0xaa55)    # boot_flag
    setup[0x200:0x202] = b"\xeb\x66"                # jmp: header to 0x268
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, version)
    setup[0x211] = 0x01                             # LOADED_HIGH
    struct.pack_into("<I", setup, 0x214, 0x100000)  # code32_start
    struct.pack_into("<I", setup, 0x22c, 0x37ffffff)  # initrd_addr_max
    struct.pack_into("<I", setup, 0x230, 0x200000)  # kernel_alignment
    struct.pack_into("<H", setup, 0x236, xloadflags)
    struct.pack_into("<I", setup, 0x238, 2047)      # cmdline_size
    struct.pack_into("<Q", setup, 0x258, 0x100000)  # pref_address
    struct.pack_into("<I", setup, 0x260, 0x100000)  # init_size
    return bytes(setup) + code


def c_entry(log, status):
    need(log, r"^vm bz: 64-bit Linux boot protocol guest, boot state at ",
         "Strata's boot-protocol line for bz")
    need(log, r"^vm bz: bzimage kernel at 0x0*100000-0x0*200000, entry "
         r"0x0*100200, 1 vCPU$", "the bzImage load line")
    bad = [f for f in re.findall(r"^\[bz\] FAIL: (.*)$", log, re.M)
           if "CS" in f or "interrupts" in f or "RSI" in f]
    if bad:
        raise Fail(" | ".join(bad))


def c_params(log, status):
    need(log, r"^\[bz\] bzboot: protocol 2\.15, cmdline '%s'$" % CMDLINE,
         "the command line through boot_params")
    need(log, r"^\[bz\] bzboot: initrd %d bytes: 'strata initrd for a "
         r"bzImage'$" % len(INITRD), "the initrd through boot_params")
    m = need(log, r"^\[bz\] bzboot: (\d+) e820 entries, (\d+) KiB RAM, "
             r"RSDP at 0xe0000$", "bzboot's e820 summary")
    if int(m.group(2)) < 7 * 1024:
        raise Fail("only %s KiB of RAM in e820 of an 8 MiB VM" % m.group(2))
    m = need(log, r"^\[bz\] bzboot: RESULT: (PASS \((\d+) checks\)|FAIL.*)$",
             "bzboot's result")
    if not m.group(1).startswith("PASS"):
        raise Fail("%s: %s" % (m.group(1), " | ".join(
            re.findall(r"^\[bz\] FAIL: (.*)$", log, re.M)[:6])))
    if int(m.group(2)) < 10:
        raise Fail("bzboot ran only %s checks" % m.group(2))
    need(log, r"^vm bz: ended: powered off \(status 0\)$",
         "'vm bz: ended: powered off (status 0)'")


def c_old(log, status):
    need(log, r"old\.bzImage: bzImage boot protocol 2\.5: 2\.12 or later "
         r"needed \(64-bit entry\)", "the refusal of the old bzImage")
    if re.search(r"^\[old\]", log, re.M):
        raise Fail("the refused VM ran")
    need(log, r"^Strata: all 3 VMs ended: 2 ok, 1 failed",
         "Strata's summary with the refused VM")
    check_no_exception(log)


def c_tiny(log, status):
    need(log, r"^vm tiny: 64-bit Linux boot protocol guest, boot state at "
         r"0x0*[0-9a-f]{1,5}-0x0*[0-9a-f]{1,5}$",
         "tiny's boot area below 1 MiB")
    m = need(log, r"^\[tiny\] bzboot: RESULT: (PASS \((\d+) checks\)|FAIL.*)$",
             "tiny's bzboot result")
    if not m.group(1).startswith("PASS"):
        raise Fail("%s: %s" % (m.group(1), " | ".join(
            re.findall(r"^\[tiny\] FAIL: (.*)$", log, re.M)[:6])))
    need(log, r"^vm tiny: ended: powered off \(status 0\)$",
         "'vm tiny: ended: powered off (status 0)'")


TESTS = [
    ("linux_boot_x86/bzimage-entry", c_entry),
    ("linux_boot_x86/boot-params", c_params),
    ("linux_boot_x86/tiny-e820", c_tiny),
    ("linux_boot_x86/old-protocol", c_old),
]


def main():
    tests = select_tests(TESTS, ELF)
    if tests is None:
        return 1
    with private_dir("linux-boot-x86-") as tmp:
        gdir = os.path.join(tmp, "guests")
        try:
            elf, = build_guests("x86_64", gdir, ["bzboot"])
            flat = os.path.join(gdir, "bzboot.bin")
            subprocess.run(["objcopy", "-O", "binary", elf, flat],
                           check=True)
            with open(flat, "rb") as f:
                code = f.read()
            mods = vm_modules(CFG, []) + [
                ("bzboot.bzImage", bzimage(code), "bzboot.bzImage"),
                ("old.bzImage", bzimage(code, version=0x0205, xloadflags=0),
                 "old.bzImage"),
                ("bzrd.txt", INITRD, "bzrd.txt")]
            iso = make_iso(tmp, "bz", "loglevel=info", mods)
            status, log = run_bochs(tmp, "bz", iso, megs=256,
                                    timeout=BOOT_TIMEOUT)
        except (Fail, subprocess.TimeoutExpired,
                subprocess.CalledProcessError) as e:
            for name, _ in tests:
                print("FAIL: %s: %s" % (name, e))
            return 1
        failed = 0
        for name, check in tests:
            try:
                check(log, status)
                print("PASS: %s" % name)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (serial: %s)" % (name, e, tail(log, 8)))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
