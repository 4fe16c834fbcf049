#!/usr/bin/env python3
"""Boot tests: the arm64 ACPI entry point (boot/arm64/acpi.c,
docs/acpi.md) on the test image under QEMU virt. Without UEFI nobody
installs ACPI tables, so the tables QEMU's virt builds for AAVMF
(tests/unit/acpi/virt/, -smp 2, GICv3) are put back at their own
addresses with `-device loader` and the image is told where the RSDP is
with arm64_acpi_rsdp=. Strata boots from the DTB as always, so what it
reads from ACPI can be compared with what it found in the DTB:

  arm64/acpi-virt         the XSDT's tables; 2 GICC CPUs (MPIDRs 0 1) and
                          2 CPUs online by PSCI; GICD and GICR at the DTB's
                          addresses; the SPCR's PL011 is the console's; the
                          GTDT's EL2 timer is the PPI the DTB gives
  arm64/acpi-broken       the same tables with a zero-length MADT subtable
                          and an XSDT entry pointing at a hole (PCIe MMIO):
                          each named, the SPCR and GTDT still read, the
                          boot goes on
  arm64/acpi-hole         an RSDP address in a hole: refused before any
                          read (an access there would be an external
                          abort), the boot goes on

STRATA_KEEP=1 keeps the temporary directory.
"""
import glob
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ROOT, ARM_IMAGE as IMAGE, tail, need, need_line, private_dir,
    run_qemu_arm64)

BLOBS = os.path.join(ROOT, "tests", "unit", "acpi", "virt")
RSDP = 0x5c430018
TIMEOUT = 60
END = "Strata: stopped (status 1)"      # no VM configured


def blobs():
    """{address: bytes} of the virt dump."""
    out = {}
    for path in glob.glob(os.path.join(BLOBS, "virt-*-0x*.bin")):
        pa = int(re.search(r"-(0x[0-9a-f]+)\.bin$", path).group(1), 16)
        with open(path, "rb") as f:
            out[pa] = f.read()
    if len(out) != 10:
        raise Fail("expected 10 table dumps in %s, found %d" %
                   (BLOBS, len(out)))
    return out


def fix(t):
    t = bytearray(t)
    t[9] = 0
    t[9] = (-sum(t)) & 0xff
    return bytes(t)


def boot(tmp, name, tables, rsdp):
    extra = ["-smp", "2", "-kernel", IMAGE, "-append",
             "loglevel=info arm64_acpi_rsdp=0x%x" % rsdp]
    for pa, data in sorted(tables.items()):
        path = os.path.join(tmp, "%s-0x%x.bin" % (name, pa))
        with open(path, "wb") as f:
            f.write(data)
        extra += ["-device", "loader,file=%s,addr=0x%x,force-raw=on" %
                  (path, pa)]
    return run_qemu_arm64("max", extra, mem="1G", timeout=TIMEOUT)


def ended(run):
    log = run.out
    need_line(log, "Strata: virtualization ready")
    need_line(log, END)
    if run.status != 1:
        raise Fail("exit status %s, expected 1" % run.status)


def c_virt(run):
    log = run.out
    need_line(log, "acpi: RSDP at 0x%x from the command line" % RSDP)
    need_line(log, "acpi: RSDP v2 at 0x5c430018, XSDT at 0x5c43fe98 with 8 "
              "tables: FACP APIC PPTT GTDT MCFG SPCR DBG2 IORT")
    need_line(log, "acpi: MADT: 2 CPUs, MPIDRs 0x0 0x1")
    need_line(log, "arm64: 2 of 2 CPUs online")
    m = need(log, r"^arm64: GIC version 3 \(distributor 0x([0-9a-f]+), "
             r"redistributors 0x([0-9a-f]+)\)$", "the DTB's GIC line")
    need_line(log, "acpi: MADT: GICv3 GICD at 0x%s; GICR at 0x%s+0xf60000"
              % (m.group(1), m.group(2)))
    need_line(log, "acpi: SPCR: PL011 console at MMIO 0x9000000, 9600 baud")
    m = need(log, r"^arm64: GICv3 redistributor 0x[0-9a-f]+, EL2 timer PPI "
             r"(\d+) at", "the DTB's EL2 timer line")
    need(log, r"^acpi: GTDT: timer GSIVs secure EL1 29, EL1 30, virtual 27, "
         r"EL2 %s$" % m.group(1), "a GTDT line with EL2 timer %s" %
         m.group(1))
    if re.search(r"^warning: acpi", log, re.M):
        raise Fail("ACPI warnings on QEMU's own tables")
    ended(run)


def c_broken(run):
    log = run.out
    need_line(log, "warning: acpi: 0x30000000+0x4 is not in RAM or a "
              "reserved range; not read")
    need_line(log, "warning: acpi: root table entry 0 (0x30000000) cannot "
              "be read")
    need(log, r"^acpi: RSDP v2 at 0x5c430018, XSDT at 0x5c43fe98 with 8 "
         r"tables: \?\?\?\? APIC ", "the XSDT line with entry 0 unread")
    need_line(log, "warning: acpi: MADT: subtable type 11 at offset 68 has "
              "length 0")
    need_line(log, "acpi: no usable MADT")
    need_line(log, "acpi: SPCR: PL011 console at MMIO 0x9000000, 9600 baud")
    need(log, r"^acpi: GTDT: timer GSIVs ", "the GTDT line")
    ended(run)


def c_hole(run):
    log = run.out
    need_line(log, "warning: acpi: 0x20000000+0x14 is not in RAM or a "
              "reserved range; not read")
    need_line(log, "warning: acpi: no usable ACPI tables")
    ended(run)


def main():
    if not os.path.exists(IMAGE):
        print("FAIL: arm64/acpi-virt: %s missing (make TEST=1 ARCH=arm64)"
              % IMAGE)
        return 1
    failed = 0
    try:
        tables = blobs()
    except Fail as e:
        print("FAIL: arm64/acpi-virt: %s" % e)
        return 1

    broken = dict(tables)
    madt_pa = 0x5c43fc18
    madt = bytearray(broken[madt_pa])
    madt[68 + 1] = 0            # the second subtable (the first GICC)
    broken[madt_pa] = fix(madt)
    xsdt_pa = 0x5c43fe98
    xsdt = bytearray(broken[xsdt_pa])
    struct.pack_into("<Q", xsdt, 36, 0x30000000)    # FACP -> PCIe MMIO
    broken[xsdt_pa] = fix(xsdt)

    runs = [("arm64/acpi-virt", c_virt, tables, RSDP),
            ("arm64/acpi-broken", c_broken, broken, RSDP),
            ("arm64/acpi-hole", c_hole, tables, 0x20000000)]
    with private_dir("acpi-arm64-") as tmp:
        for name, check, tabs, rsdp in runs:
            run = boot(tmp, name.split("/")[1], tabs, rsdp)
            try:
                check(run)
                print("PASS: %s" % name)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (%s)" % (name, e, tail(run.out, 10)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
