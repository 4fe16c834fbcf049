#!/usr/bin/env python3
"""`make bench`: build and run the stage-2 core's host microbenchmarks for
both formats (EPT and arm64 stage-2) and print them as a table.

Per format: map, write-protect and unmap of 1 GiB with 4 KiB and with 2 MiB
leaves (ns per 4 KiB page, table pages in use after the operation, flushes,
TLB invalidations per-IPA/range/VMID, CMO pages, entries written), split of
1 GiB of 2 MiB blocks into pages and its collapse back (break-before-make on
stage-2: one flush per block; EPT: one per operation), and the
fast block-level unmap against leaf-by-leaf and page-by-page unmap of the
same 1 GiB of 4 KiB pages, as ratios measured in one run. Wall-clock numbers
are informative only; the counts are deterministic.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "build", "host", "bench")
GENERIC = ["mm/walk.c", "mm/s2_init.c", "mm/s2_cache.c", "mm/s2_flush.c",
           "mm/s2_map.c", "mm/s2_unmap.c", "mm/s2_protect.c",
           "mm/s2_split.c", "mm/s2_collapse.c", "mm/s2_lookup.c",
           "mm/s2_dump.c", "mm/audit.c", "mm/s2_mmio.c", "mm/s2_fault.c",
           "lib/printk.c",
           "lib/strlcpy.c",
           "tests/unit/core/host_hooks.c", "tests/bench/bench_core.c"]
FORMATS = {
    "ept": ("arch/x86/include", "arch/x86/ept.c", "tests/bench/bench_fmt_ept.c"),
    "stage2": ("arch/arm64/include", "arch/arm64/stage2.c",
               "tests/bench/bench_fmt_stage2.c"),
}


def build(fmt):
    inc, enc, glue = FORMATS[fmt]
    exe = os.path.join(OUT, f"bench_core_{fmt}")
    cmd = [os.environ.get("HOST_CC", "gcc"), "-std=c11", "-D_DEFAULT_SOURCE",
           "-O2", "-Wall", "-Wextra", "-Werror", "-Iinclude", "-Itests",
           "-Itests/unit", "-I" + inc, "-o", exe] + GENERIC + [enc, glue]
    subprocess.run(cmd, cwd=ROOT, check=True)
    return exe


def main():
    os.makedirs(OUT, exist_ok=True)
    rows, ratios = [], []
    for fmt in FORMATS:
        exe = build(fmt)
        out = subprocess.run([exe], cwd=ROOT, check=True, text=True,
                             stdout=subprocess.PIPE).stdout
        for line in out.splitlines():
            f = line.split()
            if f and f[0] == "RESULT":
                kv = dict(x.split("=", 1) for x in f[4:])
                rows.append([f[1], f[2], f[3], kv["ns_per_page"],
                             kv["tables"], kv["flushes"], kv["tlbi"],
                             kv["cmo_pages"], kv["writes"]])
            elif f and f[0] == "RATIO":
                ratios.append(f[1:])
    head = ["format", "operation", "leaves", "ns/page", "tables", "flushes",
            "tlbi ipa/range/vmid", "cmo pages", "writes"]
    width = [max(len(str(r[i])) for r in rows + [head])
             for i in range(len(head))]
    fmt_row = "  ".join("{:<%d}" % w for w in width)
    print("Stage-2 core, 1 GiB per operation (best of 3 rounds)")
    print(fmt_row.format(*head))
    print(fmt_row.format(*["-" * w for w in width]))
    for r in rows:
        print(fmt_row.format(*r))
    print()
    for fmt, what, x in ratios:
        print(f"{fmt}: {what} unmap time ratio (same mapping, one run): {x}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
