#!/usr/bin/env python3
"""Boot tests: ACPI discovery on x86 (docs/acpi.md), on the test image's
strata.elf booted by GRUB under QEMU TCG. QEMU builds the ACPI tables
from its own command line, so each verdict compares what Strata prints
with what QEMU was told:

  x86/acpi-bios-smp2      SeaBIOS, -smp 2: RSDP from multiboot2 tag 14,
                          the RSDT's tables, 2 CPUs with APIC IDs 0 1, the
                          IOAPIC and 5 overrides, no SPCR
  x86/acpi-topology       -smp 6,sockets=2,cores=3: QEMU gives each socket
                          4 APIC IDs, so the IDs are 0 1 2 4 5 6
  x86/acpi-uefi           OVMF on q35, -smp 4: tag 15 (ACPI 2.0+), the
                          XSDT, 4 CPUs with APIC IDs 0-3
  x86/acpi-scan           x86_acpi=scan, -smp 3: the RSDP found in the BIOS
                          ROM area (not the tag's copy), 3 CPUs
  x86/acpi-spcr-com2      an SPCR (-acpitable) naming a 16550 at I/O port
                          0x2f8: COM1 says the console moves, COM2 carries
                          the rest of the boot, COM1 none of it
  x86/acpi-spcr-absent    an SPCR naming port 0x3e8 where QEMU has no UART:
                          the console stays on COM1, with the reason

QEMU TCG has no VMX, so each boot ends with Strata's clear no-VMX stop
(status 2). STRATA_KEEP=1 keeps the temporary directory.
"""
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, tail, need, need_line, check_no_exception,
    private_dir, make_iso, read_log, run)

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"
BOOT_TIMEOUT = 60
STOP_STATUS = (2 << 1) | 1      # isa-debug-exit: Strata's stop 2 (no VMX)
STOPPED = "Strata: stopped (status 2)"
IOAPIC = ("acpi: MADT: local APIC at 0xfee00000; IOAPIC id 0 at 0xfec00000 "
          "GSI 0; 5 interrupt overrides")


def spcr(port, baud_code=7):
    """An 80-byte SPCR (revision 2) naming a 16550 at I/O port @port."""
    t = bytearray(80)
    t[0:4] = b"SPCR"
    struct.pack_into("<I", t, 4, len(t))
    t[8] = 2
    t[10:16] = b"STRATA"
    t[16:24] = b"TESTSPCR"
    struct.pack_into("<I", t, 24, 1)
    t[28:32] = b"STRA"
    struct.pack_into("<I", t, 32, 1)
    t[36] = 0                           # full 16550
    # Generic Address Structure: I/O space, 8 bits, byte access.
    struct.pack_into("<BBBBQ", t, 40, 1, 8, 0, 1, port)
    t[52] = 1                           # PC-AT IRQ
    t[53] = 3
    t[58] = baud_code                   # 7: 115200
    t[60] = 1                           # 1 stop bit
    struct.pack_into("<HH", t, 64, 0xffff, 0xffff)  # not a PCI device
    t[9] = (-sum(t)) & 0xff
    return bytes(t)


def boot(tmp, name, iso, smp, machine="pc", extra=(), serials=1):
    """Boot @iso; returns (status, [log of COM1, COM2...])."""
    logs = [os.path.join(tmp, "%s.com%d" % (name, i + 1))
            for i in range(serials)]
    argv = ["qemu-system-x86_64", "-machine", machine, "-cpu", "max",
            "-accel", "tcg", "-m", "256", "-smp", smp, "-nic", "none",
            "-display", "none", "-monitor", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-cdrom", iso, "-boot", "d"]
    for path in logs:
        argv += ["-serial", "file:" + path]
    r = run(argv + list(extra), BOOT_TIMEOUT)
    return r.status, [read_log(p) for p in logs]


def ended(status, log):
    check_no_exception(log)
    need_line(log, STOPPED)
    if status != STOP_STATUS:
        raise Fail("exit status %s, expected %d" % (status, STOP_STATUS))


def no_acpi_warning(log):
    bad = [l for l in log.splitlines()
           if l.startswith("warning: acpi") or l.startswith("error: acpi")]
    if bad:
        raise Fail("ACPI warnings: %s" % " | ".join(bad[:4]))


def cpus(log, n, ids):
    need_line(log, "acpi: MADT: %d CPUs, APIC IDs %s" %
              (n, " ".join(str(i) for i in ids)))


def c_bios_smp2(status, logs):
    log = logs[0]
    need_line(log, "acpi: RSDP from multiboot2 tag 14 (ACPI 1.0)")
    need(log, r"^acpi: RSDP v1 at 0x[0-9a-f]+, RSDT at 0x[0-9a-f]+ with 4 "
         r"tables: FACP APIC HPET WAET$", "the RSDT line")
    cpus(log, 2, [0, 1])
    need_line(log, IOAPIC)
    need_line(log, "acpi: no SPCR: the firmware names no serial console")
    no_acpi_warning(log)
    ended(status, log)


def c_topology(status, logs):
    cpus(logs[0], 6, [0, 1, 2, 4, 5, 6])
    no_acpi_warning(logs[0])
    ended(status, logs[0])


def c_uefi(status, logs):
    log = logs[0]
    need_line(log, "acpi: RSDP from multiboot2 tag 15 (ACPI 2.0+)")
    need(log, r"^acpi: RSDP v2 at 0x[0-9a-f]+, XSDT at 0x[0-9a-f]+ with \d+ "
         r"tables: FACP APIC .*MCFG", "the XSDT line")
    cpus(log, 4, [0, 1, 2, 3])
    need_line(log, IOAPIC)
    no_acpi_warning(log)
    ended(status, log)


def c_scan(status, logs):
    log = logs[0]
    need_line(log, "acpi: RSDP found by scanning the BIOS areas "
              "(x86_acpi=scan)")
    m = need(log, r"^acpi: RSDP v1 at 0x([0-9a-f]+), RSDT", "the RSDT line")
    pa = int(m.group(1), 16)
    if not 0xe0000 <= pa < 0x100000 or pa % 16:
        raise Fail("RSDP at 0x%x: not from the BIOS ROM area" % pa)
    cpus(log, 3, [0, 1, 2])
    no_acpi_warning(log)
    ended(status, log)


def c_spcr_com2(status, logs):
    com1, com2 = logs
    need_line(com1, "acpi: SPCR: 16550 console at I/O port 0x2f8, 115200 "
              "baud")
    need_line(com1, "acpi: console moves to the SPCR's 16550 at I/O port "
              "0x2f8, 115200 baud")
    first = com2.splitlines()[:1]
    if first != ["acpi: console on the SPCR's 16550 at I/O port 0x2f8, "
                 "115200 baud (was 0x3f8)"]:
        raise Fail("COM2 starts with %r" % first)
    need(com2, r"^Strata \S+ \(x86_64\)$", "the banner on COM2")
    for line in ("Strata ", STOPPED):
        if any(l.startswith(line) for l in com1.splitlines()):
            raise Fail("COM1 still has %r after the move" % line)
    ended(status, com2)


def c_spcr_absent(status, logs):
    log = logs[0]
    need_line(log, "warning: acpi: no UART answers at the SPCR's I/O port "
              "0x3e8; the console stays at 0x3f8")
    need(log, r"^Strata \S+ \(x86_64\)$", "the banner on COM1")
    ended(status, log)


def main():
    if not os.path.exists(ELF):
        print("FAIL: x86/acpi-bios-smp2: %s missing "
              "(make TEST=1 ARCH=x86_64)" % ELF)
        return 1
    failed = 0

    def report(name, fn, status, logs):
        nonlocal failed
        try:
            fn(status, logs)
            print("PASS: %s" % name)
        except Fail as e:
            failed += 1
            print("FAIL: %s: %s (%s)" % (name, e, " || ".join(
                tail(l, 8) for l in logs)))

    with private_dir("acpi-") as tmp:
        try:
            iso = make_iso(tmp, "plain", "")
            iso_scan = make_iso(tmp, "scan", "x86_acpi=scan")
        except Fail as e:
            print("FAIL: x86/acpi-bios-smp2: %s" % e)
            return 1
        com2 = os.path.join(tmp, "com2.spcr")
        with open(com2, "wb") as f:
            f.write(spcr(0x2f8))
        com3 = os.path.join(tmp, "com3.spcr")
        with open(com3, "wb") as f:
            f.write(spcr(0x3e8))
        vars_copy = os.path.join(tmp, "vars.fd")
        shutil.copy(OVMF_VARS, vars_copy)
        ovmf = ["-drive", "if=pflash,format=raw,readonly=on,file=" +
                OVMF_CODE, "-drive", "if=pflash,format=raw,file=" + vars_copy]
        boots = [
            ("x86/acpi-bios-smp2", c_bios_smp2, iso, "2", "pc", [], 1),
            ("x86/acpi-topology", c_topology, iso, "6,sockets=2,cores=3",
             "pc", [], 1),
            ("x86/acpi-uefi", c_uefi, iso, "4", "q35", ovmf, 1),
            ("x86/acpi-scan", c_scan, iso_scan, "3", "pc", [], 1),
            ("x86/acpi-spcr-com2", c_spcr_com2, iso, "2", "pc",
             ["-acpitable", "file=" + com2], 2),
            ("x86/acpi-spcr-absent", c_spcr_absent, iso, "2", "pc",
             ["-acpitable", "file=" + com3], 1),
        ]
        for name, check, image, smp, machine, extra, serials in boots:
            status, logs = boot(tmp, name.split("/")[1], image, smp,
                                machine, extra, serials)
            report(name, check, status, logs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
