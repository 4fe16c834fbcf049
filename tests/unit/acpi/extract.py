#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cut the ACPI tables out of a guest memory dump (see README.md here).

usage: extract.py MEM.bin BASE PREFIX

MEM.bin is guest RAM from physical address BASE (QEMU monitor: `pmemsave
BASE SIZE MEM.bin`). Finds the RSDP (on 16-byte boundaries in 0xE0000-
0xFFFFF when the dump holds them, else anywhere on a 4-byte boundary, as
UEFI may put it), follows the XSDT (revision 2+) or RSDT and writes
PREFIX-RSDP-0x<pa>.bin, PREFIX-<root>-0x<pa>.bin and PREFIX-<SIG>-0x<pa>.bin
for every listed table: each file is the table's exact bytes, named by the
address the parser will find it at.
"""
import struct
import sys


def valid_rsdp(mem, off):
    return (mem[off:off + 8] == b"RSD PTR " and
            sum(mem[off:off + 20]) % 256 == 0)


def find_rsdp(mem, base):
    if base <= 0xE0000 and base + len(mem) >= 0x100000:
        for pa in range(0xE0000, 0x100000, 16):
            if valid_rsdp(mem, pa - base):
                return pa
    off = mem.find(b"RSD PTR ")
    while off >= 0:
        if off % 4 == 0 and valid_rsdp(mem, off):
            return base + off
        off = mem.find(b"RSD PTR ", off + 1)
    sys.exit("no RSDP")


def main():
    mem = open(sys.argv[1], "rb").read()
    base = int(sys.argv[2], 0)
    prefix = sys.argv[3]

    def dump(name, pa, length):
        data = mem[pa - base:pa - base + length]
        open("%s-%s-0x%x.bin" % (prefix, name, pa), "wb").write(data)
        return data

    pa = find_rsdp(mem, base)
    rev = mem[pa - base + 15]
    rsdp = dump("RSDP", pa, 36 if rev >= 2 else 20)
    if rev >= 2:
        root_pa, esize, fmt = struct.unpack_from("<Q", rsdp, 24)[0], 8, "<Q"
    else:
        root_pa, esize, fmt = struct.unpack_from("<I", rsdp, 16)[0], 4, "<I"
    length = struct.unpack_from("<I", mem, root_pa - base + 4)[0]
    root = dump(mem[root_pa - base:root_pa - base + 4].decode(), root_pa,
                length)
    print("RSDP rev %d at 0x%x, root at 0x%x" % (rev, pa, root_pa))
    for i in range((len(root) - 36) // esize):
        t_pa = struct.unpack_from(fmt, root, 36 + esize * i)[0]
        sig = mem[t_pa - base:t_pa - base + 4].decode()
        length = struct.unpack_from("<I", mem, t_pa - base + 4)[0]
        dump(sig, t_pa, length)
        print("  %s at 0x%x, %d bytes" % (sig, t_pa, length))


main()
