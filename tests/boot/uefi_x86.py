#!/usr/bin/env python3
"""Boot test: the x86 ISO boots by GRUB on UEFI and on BIOS, from a CD and
written raw to a USB stick, and Strata says what the firmware handed over.

  x86/iso-hybrid          the test build's strata.iso has El Torito entries
                          for BIOS and UEFI, an MBR and a GPT with an EFI
                          system partition (a USB stick image)
  x86/uefi-cd             OVMF, ISO as a CD: the UEFI line with the EFI
                          system table, the EFI memory map and boot services
                          exited; RAM from the EFI map, matching the memory
                          map Strata shows; config read; the clear stop
  x86/uefi-usb            OVMF, the same ISO as a USB mass-storage stick
  x86/uefi-disk           OVMF, the same ISO as a SATA hard disk
  x86/bios-cd             SeaBIOS, ISO as a CD: the BIOS line, RAM from the
                          multiboot2 map
  x86/bios-usb            SeaBIOS, the ISO as a USB stick (its MBR boots)

QEMU TCG has no VMX, so Strata stops after reading its configuration (as in
config_x86.py); each check needs positive evidence on COM1. Boots are
sequential, each bounded, about 15 s each under TCG.
"""
import os
import re
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, tail, private_dir, make_iso, read_log, run,
    check_no_exception, need, need_line)

BUILT_ISO = os.path.join(os.path.dirname(ELF), "strata.iso")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"
BOOT_TIMEOUT = 45
MEM_MIB = 256
# The isa-debug-exit status of Strata's stop 2 (no VMX): (2 << 1) | 1.
STOP_STATUS = 5

CFG = "[vm demo]\nkernel = demo.elf\nmemory = 16M\n"
CONFIG_LINES = [
    "bundle: 2 files",
    "vm demo: kernel demo.elf (elf64, %d bytes), memory 16 MiB, 1 cpu",
    "strata.cfg: 1 VM configured, 0 errors",
    "Strata: stopped (status 2)",
]

UEFI_LINE = (r"^x86: booted by (GRUB \S+) on UEFI: EFI system table at "
             r"0x([0-9a-f]+) \(64-bit\), EFI memory map with (\d+) entries, "
             r"boot services exited; RAM from the EFI memory map, (\d+) MiB$")
GRUB_MAP_LINE = (r"^x86: GRUB's multiboot2 memory map \(from the same "
                 r"firmware\) has (\d+) entries, (\d+) MiB available$")
BIOS_LINE = (r"^x86: booted by (GRUB \S+) on BIOS: memory map with (\d+) "
             r"entries; RAM from the multiboot2 memory map, (\d+) MiB$")
USABLE = (r"^  0x([0-9a-f]{16})-0x([0-9a-f]{16}) +(\d+) KiB usable$")

# The EFI System Partition type GUID as it lies in a GPT entry.
ESP_GUID = bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b")


def el_torito_platforms(iso):
    """The platforms of @iso's El Torito boot images ("BIOS", "UEFI")."""
    p = subprocess.run(["xorriso", "-indev", iso, "-report_el_torito",
                        "plain"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True, timeout=30)
    return re.findall(r"^El Torito boot img : +\d+ +(\S+) ", p.stdout, re.M)


def check_hybrid(iso):
    """Fail unless @iso is bootable as a CD on BIOS and UEFI and as a disk:
    El Torito BIOS and UEFI entries, an MBR boot signature, and a GPT with
    an EFI system partition inside the image."""
    plats = el_torito_platforms(iso)
    if "BIOS" not in plats or "UEFI" not in plats:
        raise Fail("El Torito entries %r, expected BIOS and UEFI" % plats)
    with open(iso, "rb") as f:
        head = f.read(512 * 34)
    if head[510:512] != b"\x55\xaa":
        raise Fail("no MBR boot signature")
    if head[512:520] != b"EFI PART":
        raise Fail("no GPT header at LBA 1")
    entries_lba, nr, esize = struct.unpack_from("<QII", head, 512 + 72)
    size = os.path.getsize(iso)
    with open(iso, "rb") as f:
        f.seek(entries_lba * 512)
        table = f.read(nr * esize)
    for i in range(nr):
        ent = table[i * esize:(i + 1) * esize]
        if ent[:16] == ESP_GUID:
            first, last = struct.unpack_from("<QQ", ent, 32)
            if first and first <= last and (last + 1) * 512 <= size:
                return
            raise Fail("EFI system partition %d-%d outside the image"
                       % (first, last))
    raise Fail("no EFI system partition in the GPT")


def qemu_x86(tmp, name, machine, media, firmware):
    """Boot under QEMU TCG with @firmware argv and @media argv; returns
    (exit status or None after a timeout, serial log)."""
    serial = os.path.join(tmp, name + ".serial")
    r = run(["qemu-system-x86_64", "-machine", machine, "-cpu", "max",
             "-accel", "tcg", "-m", str(MEM_MIB), "-nic", "none",
             "-display", "none", "-serial", "file:" + serial,
             "-monitor", "none", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=4"] +
            firmware + media, BOOT_TIMEOUT)
    return r.status, read_log(serial)


def ovmf(tmp, name):
    """OVMF as pflash: the firmware read-only, a private copy of its
    variable store."""
    vars_copy = os.path.join(tmp, name + ".vars.fd")
    shutil.copy(OVMF_VARS, vars_copy)
    return ["-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
            "-drive", "if=pflash,format=raw,file=" + vars_copy]


def cdrom(iso):
    return ["-cdrom", iso, "-boot", "d"]


def usb_stick(iso):
    """The ISO written raw to a USB stick (snapshot: never modified)."""
    return ["-device", "qemu-xhci,id=xhci",
            "-drive", "if=none,id=stick,format=raw,snapshot=on,file=" + iso,
            "-device", "usb-storage,bus=xhci.0,drive=stick,bootindex=0"]


def sata_disk(iso):
    """The ISO written raw to a hard disk on q35's AHCI controller."""
    return ["-drive", "if=none,id=hd,format=raw,snapshot=on,file=" + iso,
            "-device", "ide-hd,drive=hd,bootindex=0"]


def usable_ranges(log):
    """The usable ranges of the memory map Strata shows, (base, end)."""
    mm = need(log, r"^memory map:\n((?:  0x.*\n)+)", "memory map")
    return [(int(b, 16), int(e, 16) + 1)
            for b, e, _ in re.findall(USABLE, mm.group(1), re.M)]


def check_common(status, log):
    """What every boot shows: the config read and the stop on no VMX."""
    if status is None:
        raise Fail("QEMU timed out")
    need_line(log, "boot: multiboot2")
    size = os.path.getsize(ELF)
    for line in CONFIG_LINES:
        need_line(log, line % size if "%d" in line else line)
    check_no_exception(log)
    if status != STOP_STATUS:
        raise Fail("QEMU exit status %d, expected %d" % (status, STOP_STATUS))


def check_ram(ranges, mib):
    """The usable ranges add up to the reported MiB, lie inside the guest's
    RAM and stay out of the legacy hole at 640 KiB-1 MiB."""
    if not ranges:
        raise Fail("memory map without a usable range")
    total = sum(e - b for b, e in ranges)
    if total >> 20 != mib:
        raise Fail("usable ranges add up to %d MiB, the firmware line says "
                   "%d MiB" % (total >> 20, mib))
    if not MEM_MIB // 2 <= mib <= MEM_MIB:
        raise Fail("%d MiB usable of %d MiB" % (mib, MEM_MIB))
    for b, e in ranges:
        if e > MEM_MIB << 20 or (b < 0x100000 and e > 0xa0000):
            raise Fail("usable range 0x%x-0x%x is not RAM" % (b, e - 1))


def check_uefi(status, log):
    m = need(log, UEFI_LINE, "UEFI firmware line")
    table, entries, mib = int(m.group(2), 16), int(m.group(3)), \
        int(m.group(4))
    if not 0 < table < MEM_MIB << 20:
        raise Fail("EFI system table at 0x%x, outside RAM" % table)
    if entries < 8:
        raise Fail("EFI memory map with only %d entries" % entries)
    if "on BIOS" in log or "multiboot2:" in log:
        raise Fail("unexpected BIOS line or multiboot2 warning")
    ranges = usable_ranges(log)
    check_ram(ranges, mib)
    # Two oracles for the EFI map's parse: the system table lies in runtime
    # services memory, which must not be RAM; and GRUB's own rendering of
    # the same firmware map (taken just before ExitBootServices) counts
    # the same kinds as available.
    if any(b <= table < e for b, e in ranges):
        raise Fail("the EFI system table 0x%x lies in usable RAM" % table)
    g = need(log, GRUB_MAP_LINE, "GRUB memory map line")
    if abs(int(g.group(2)) - mib) > 2:
        raise Fail("EFI map gives %d MiB, GRUB's map %s MiB"
                   % (mib, g.group(2)))
    check_common(status, log)


def check_bios(status, log):
    m = need(log, BIOS_LINE, "BIOS firmware line")
    if re.search(r"^(x86|multiboot2): .*EFI", log, re.M):
        raise Fail("EFI facts on a BIOS boot")
    check_ram(usable_ranges(log), int(m.group(3)))
    check_common(status, log)


def main():
    if not os.path.exists(ELF) or not os.path.exists(BUILT_ISO):
        print("FAIL: x86/iso-hybrid: %s or its ISO is missing "
              "(make TEST=1 ARCH=x86_64)" % ELF)
        return 1
    missing = [f for f in (OVMF_CODE, OVMF_VARS) if not os.path.exists(f)]
    if missing:
        print("FAIL: x86/uefi-cd: %s missing (tools/install-deps.sh "
              "installs ovmf)" % missing)
        return 1
    failed = 0

    def report(name, fn, *args):
        nonlocal failed
        try:
            fn(*args)
            print("PASS: %s" % name)
        except Fail as e:
            failed += 1
            print("FAIL: %s: %s" % (name, e))

    report("x86/iso-hybrid", check_hybrid, BUILT_ISO)
    with private_dir("uefi-") as tmp:
        try:
            iso = make_iso(tmp, "u", "loglevel=info", [
                ("strata.cfg", CFG.encode(), "strata.cfg"),
                ("demo.elf", ELF, "demo.elf")])
            check_hybrid(iso)
        except Fail as e:
            print("FAIL: x86/uefi-cd: test ISO: %s" % e)
            return 1
        boots = [
            ("x86/uefi-cd", "q35", cdrom(iso), ovmf(tmp, "cd"), check_uefi),
            ("x86/uefi-usb", "q35", usb_stick(iso), ovmf(tmp, "usb"),
             check_uefi),
            ("x86/uefi-disk", "q35", sata_disk(iso), ovmf(tmp, "disk"),
             check_uefi),
            ("x86/bios-cd", "pc", cdrom(iso), [], check_bios),
            ("x86/bios-usb", "pc", usb_stick(iso), [], check_bios),
        ]
        for name, machine, media, fw, check in boots:
            status, log = qemu_x86(tmp, name.split("/")[1], machine, media,
                                   fw)

            def checked(check=check, status=status, log=log):
                try:
                    check(status, log)
                except Fail as e:
                    raise Fail("%s (%s)" % (e, tail(log, 8))) from None
            report(name, checked)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
