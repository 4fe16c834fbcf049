#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot test: the bundle matrix. Every kind of bad bundle, strata.cfg and
guest image is booted on the arm64 test image (QEMU virt, -cpu max), each
with the exact message Strata must print and Strata's own exit status (the
semihosting SYS_EXIT status): 0 only when at least one VM was configured and
every configured VM ran and ended well (README, "Exit status"). When the
error is about one VM, or about the bundle or strata.cfg but not about the
good VM `hi` (hello.elf) beside it, `hi` must still run to its PASS line and
power off, while Strata's status is still 1. A control case with nothing
wrong must end with status 0, so the matrix cannot pass on a Strata that
fails everything."""
import os
import re
import struct
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE, read, write, newc, private_dir, build_guests,
    run_qemu_arm64, tail)

CPU = "max,pauth-impdef=on"
GOOD = "[vm hi]\nkernel = hello.elf\nmemory = 32M\ncmdline = hi\n"
NOT_NEWC = ("error: bundle: not a cpio newc archive (%s); expected the "
            "070701 magic of `cpio -H newc`")
NO_CFG = ("error: bundle: no strata.cfg (expected the VM configuration file "
          "in the bundle), so no VMs")
NO_VM = "error: Strata: no VM is configured; stopping"
NO_SECTION = ("error: strata.cfg: no [vm NAME] section (expected at least "
              "one VM)")
NOT_IMAGE = ("kernel 'strata.cfg' is not an ELF64 or a Linux arm64 Image for "
             "arm64 (expected one, or 'load = ADDR' for a raw binary)")


def R(pattern):
    """A line given as a regular expression rather than literally."""
    return re.compile(pattern)


def phdrs(elf):
    phoff, = struct.unpack_from("<Q", elf, 32)
    phnum, = struct.unpack_from("<H", elf, 56)
    return [elf[phoff + 56 * i:phoff + 56 * (i + 1)] for i in range(phnum)]


def first_load(elf):
    for ph in phdrs(elf):
        if struct.unpack_from("<I", ph)[0] == 1:
            return ph
    raise Fail("hello.elf has no PT_LOAD")


def twin_segments(elf):
    """@elf with its first PT_LOAD given twice (a new table at the end)."""
    table = b"".join(phdrs(elf)) + first_load(elf)
    base = len(elf) + (-len(elf) % 8)
    out = bytearray(elf + b"\0" * (base - len(elf)) + table)
    struct.pack_into("<Q", out, 32, base)
    struct.pack_into("<H", out, 56, len(table) // 56)
    return bytes(out)


def entry_plus_2(elf):
    out = bytearray(elf)
    entry, = struct.unpack_from("<Q", elf, 24)
    struct.pack_into("<Q", out, 24, entry + 2)
    return bytes(out), entry + 2


def truncated(elf):
    ph = first_load(elf)
    off, = struct.unpack_from("<Q", ph, 8)
    filesz, = struct.unpack_from("<Q", ph, 32)
    return elf[:off + filesz - 16]


def odd_image():
    """A Linux arm64 Image header whose text_offset is 0x80001."""
    hdr = struct.pack("<IIQQQQQQII", 0x14000000, 0, 0x80001, 0x10000, 2,
                      0, 0, 0, 0x644d5241, 0)
    return hdr + b"\0" * (4096 - len(hdr))


def cases(hello):
    """(name, initrd bytes, expected lines, status, hi runs)."""
    h = read(hello)
    twin = twin_segments(h)
    odd_entry, odd_at = entry_plus_2(h)
    cut = truncated(h)
    good = newc([("strata.cfg", GOOD.encode()), ("hello.elf", h)])
    no_trailer = good[:good.rindex(b"070701")]

    def bundle(cfg, *files):
        return newc([("strata.cfg", cfg.encode()), ("hello.elf", h)] +
                    list(files))

    one_ok = "Strata: all 1 VMs ended: 1 ok, 0 failed"
    two_1 = "Strata: all 2 VMs ended: 1 ok, 1 failed (1 never ran)"
    return [
        ("control", good, [one_ok, "Strata: stopped (status 0)"], 0, True),
        # the bundle itself
        ("random-bytes", b"NOTCPIO!" + bytes(range(256)) * 8,
         [NOT_NEWC % "no cpio magic at offset 0", NO_CFG, NO_VM,
          "Strata: stopped (status 1)"], 1, False),
        ("odc-archive", b"070707" + b"0" * 70 + b"strata.cfg\0" + b"x" * 64,
         [NOT_NEWC % "it is a cpio odc (070707)", NO_CFG, NO_VM,
          "Strata: stopped (status 1)"], 1, False),
        ("no-trailer", no_trailer,
         ["error: bundle: cpio archive damaged at offset %d: no TRAILER!!! "
          "entry (expected at the end)" % len(no_trailer),
          one_ok + "; 1 configuration error", "Strata: stopped (status 1)"],
         1, True),
        ("cut-in-a-file", good[:len(good) - 300],
         [R(r"^error: bundle: cpio archive damaged at offset \d+: file runs "
            r"past the archive$"),
          "error: strata.cfg:2: kernel file 'hello.elf' is not in the bundle "
          "(expected one of its file names)",
          "Strata: all 1 VMs ended: 0 ok, 1 failed (1 never ran); "
          "2 configuration errors", "Strata: stopped (status 1)"], 1, False),
        ("no-strata-cfg", newc([("hello.elf", h)]),
         [NO_CFG, NO_VM, "Strata: stopped (status 1)"], 1, False),
        ("duplicate-file", bundle(GOOD, ("./hello.elf", cut)),
         ["error: bundle: file 'hello.elf' appears twice (expected unique "
          "names); the first is kept", one_ok + "; 1 configuration error",
          "Strata: stopped (status 1)"], 1, True),
        # strata.cfg
        ("empty-cfg", bundle(""),
         [NO_SECTION, NO_VM, "Strata: stopped (status 1)"], 1, False),
        ("comments-only-cfg", bundle("# nothing\n\n   # here\n"),
         [NO_SECTION, NO_VM, "Strata: stopped (status 1)"], 1, False),
        ("every-section-bad",
         bundle("[vm a]\nkernel = hello.elf\ncpus = 0\n[vm b]\n"
                "kernel = nothere.elf\n"),
         ["error: vm a: never ran: strata.cfg:3: bad cpus '0' (expected "
          "1..8)",
          "error: vm b: never ran: strata.cfg:5: kernel file 'nothere.elf' "
          "is not in the bundle (expected one of its file names)",
          "error: Strata: none of the 2 configured VMs can run; stopping",
          "Strata: all 2 VMs ended: 0 ok, 2 failed (2 never ran); "
          "2 configuration errors", "Strata: stopped (status 1)"], 1, False),
        ("only-vm-not-an-image",
         bundle("[vm bad]\nkernel = strata.cfg\n"),
         ["error: vm bad: never ran: strata.cfg:1: " + NOT_IMAGE,
          "Strata: all 1 VMs ended: 0 ok, 1 failed (1 never ran); "
          "1 configuration error", "Strata: stopped (status 1)"], 1, False),
        ("key-before-section", bundle("memory = 64M\n" + GOOD),
         ["error: strata.cfg:1: key 'memory' before any [vm NAME] section "
          "(expected a [vm NAME] line first)",
          one_ok + "; 1 configuration error", "Strata: stopped (status 1)"],
         1, True),
        ("duplicate-key",
         bundle(GOOD + "[vm dup]\nkernel = hello.elf\nmemory = 16M\n"
                "memory = 32M\n"),
         ["error: strata.cfg:8: key 'memory' given twice in [vm dup] (first "
          "at line 7; expected once)",
          "error: vm dup: never ran: strata.cfg:8: key 'memory' given twice "
          "in [vm dup] (first at line 7; expected once)",
          two_1 + "; 1 configuration error", "Strata: stopped (status 1)"],
         1, True),
        ("bad-memory", bundle(GOOD + "[vm neg]\nkernel = hello.elf\n"
                              "memory = -1\n"),
         ["error: vm neg: never ran: strata.cfg:7: bad memory size '-1' "
          "(expected 1M..64G in whole 4 KiB pages)",
          two_1 + "; 1 configuration error", "Strata: stopped (status 1)"],
         1, True),
        ("not-an-image", bundle(GOOD + "[vm bad]\nkernel = strata.cfg\n"),
         ["error: vm bad: never ran: strata.cfg:5: " + NOT_IMAGE,
          two_1 + "; 1 configuration error", "Strata: stopped (status 1)"],
         1, True),
        # images the loaders refuse when the VM is built
        ("image-text-offset",
         bundle(GOOD + "[vm odd]\nkernel = odd.img\n", ("odd.img",
                                                        odd_image())),
         ["error: odd.img: Image header text_offset 0x80001 puts the entry "
          "point off a 4-byte boundary (expected a multiple of 4)",
          "error: vm odd: never ran: kernel odd.img: Image header "
          "text_offset 0x80001 puts the entry point off a 4-byte boundary "
          "(expected a multiple of 4)", two_1, "Strata: stopped (status 1)"],
         1, True),
        ("elf-entry-misaligned",
         bundle(GOOD + "[vm odd]\nkernel = odd.elf\n", ("odd.elf",
                                                        odd_entry)),
         ["error: vm odd: never ran: kernel odd.elf: ELF entry point 0x%x "
          "is not 4-byte aligned (expected an AArch64 instruction address)"
          % odd_at, two_1, "Strata: stopped (status 1)"], 1, True),
        ("elf-overlapping-segments",
         bundle(GOOD + "[vm twin]\nkernel = twin.elf\n", ("twin.elf", twin)),
         [R(r"^error: vm twin: never ran: kernel twin\.elf: ELF segments "
            r"\d+ and %d overlap at 0x%x \(expected disjoint PT_LOAD "
            r"ranges\)$" % (len(phdrs(twin)) - 1,
                             struct.unpack_from("<Q", first_load(h), 24)[0])),
          two_1, "Strata: stopped (status 1)"], 1, True),
        ("elf-truncated",
         bundle(GOOD + "[vm cut]\nkernel = cut.elf\n", ("cut.elf", cut)),
         [R(r"^error: vm cut: never ran: kernel cut\.elf: ELF segment \d+ "
            r"\(0x[0-9a-f]+ bytes at offset 0x[0-9a-f]+\) runs past the end "
            r"of the file \(0x%x bytes\)$" % len(cut)),
          two_1, "Strata: stopped (status 1)"], 1, True),
    ]


def check(case, tmp):
    name, initrd, lines, status, hi_runs = case
    path = write(os.path.join(tmp, name + ".cpio"), initrd)
    run = run_qemu_arm64(CPU, ["-kernel", ARM_IMAGE, "-initrd", path,
                               "-append", "loglevel=info"], timeout=90)
    out = run.out.splitlines()
    errors = []
    for want in lines:
        if isinstance(want, str):
            if want not in out:
                errors.append("missing line %r" % want)
        elif not any(want.match(line) for line in out):
            errors.append("no line like /%s/" % want.pattern)
    if run.timed_out:
        errors.append("timed out")
    elif run.status != status:
        errors.append("Strata's status %s, expected %d" % (run.status,
                                                           status))
    hi = run.guest("hi")
    if hi_runs:
        if "hello: PASS" not in hi:
            errors.append("the good VM hi did not reach 'hello: PASS'")
        if "vm hi: ended: powered off (status 0)" not in out:
            errors.append("the good VM hi did not power off with status 0")
    elif hi:
        errors.append("VM hi ran although nothing should have")
    if any(re.search(r"\(-\d+\)$", line) and "never ran" in line
           for line in out):
        errors.append("a never-ran reason is a raw errno")
    if errors:
        return "FAIL: bundle-matrix/%s: %s\n    %s" % (
            name, "; ".join(errors), tail(run.out, 14))
    return "PASS: bundle-matrix/%s" % name


def main():
    if not os.path.exists(ARM_IMAGE):
        print("FAIL: bundle-matrix: %s is missing (make TEST=1 ARCH=arm64)"
              % ARM_IMAGE)
        return 1
    with private_dir("bundle-matrix-") as tmp:
        try:
            hello, = build_guests("arm64", os.path.join(tmp, "guests"),
                                  ["hello"])
            todo = cases(hello)
        except Fail as e:
            print("FAIL: bundle-matrix: %s" % e)
            return 1
        results = [None] * len(todo)

        def worker(k):
            for i in range(k, len(todo), 2):
                results[i] = check(todo[i], tmp)

        threads = [threading.Thread(target=worker, args=(k,))
                   for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for r in results:
        print(r)
    return 0 if all(r.startswith("PASS") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
