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
are informative only; the counts are deterministic. Also s2pt_map_fault()
against the path it replaces (get_mmio + lookup + map tried at 1G/2M/4K).

Then the emulator measurement (skipped with --host-only): the faultbench
guests (tests/guests/*/faultbench.c) under the real Strata images, built
with CONFIG_TEST (the emulator exit) and without the MMU audit, and with
--audit once more with it (`audit` rows: the test build's cost,
informative; not by default: the audit walks the whole table after every
operation, which the 10^4 MMIO SPTEs of the first-touch rows make
quadratic, about 10^6 instructions per touch on x86, past the emulator
timeout): arm64
under QEMU `-icount shift=0` (CNTVCT counts instructions), x86 under Bochs
`clock: sync=none` (the TSC counts instructions). Each prints instructions
per 4 KiB and per 2 MiB stage-2 fault, from the faulting access to its
completed retry, averaged over more than 10^4 faults minus the loop's own
cost, and per null hypercall (the exit round trip alone). Also per first
touch of an unbacked page (it installs an MMIO SPTE; the access is
emulated), per later touch of such a page (through its MMIO SPTE: the
steady state), per first touch one per 2 MiB (each needs a table page)
and past the VM's budget of table pages for MMIO SPTEs (no SPTE), and per
STRATA_HC_ZAP of one 4 KiB page plus its refault,
each with its ratio to the null hypercall of the same run (targets: first
touch <= 5x, zap + refault <= 10x). On arm64 also an emulated MMIO load of
a test-device register (mmio-dev: target <= 300 instructions), and then
Debian's arm64 Linux booted to /init under Strata against directly on
bare QEMU (tests/bench/linux_boot.py: target ratio <= 1.05), and the same
with 2 vCPUs on 2 physical CPUs against bare QEMU -smp 2 (target <= 1.10;
with the wall times of a multi-threaded TCG pair for information). `--arch`
limits the emulator measurement to one architecture.

Many CPUs (docs/smp.md): on the host, instructions (with perf counters;
without them, from Valgrind's callgrind, which runs the threads one at a
time; ns informative) per stage-2 fault with 1, 2 and 4 threads
faulting disjoint ranges of one table, with the lock waits and lost races
(tests/bench/bench_smp.c); under QEMU -smp 4 the counters KICKS,
LOCK_WAITS, FAULT_RETRIES and REMOTE_FLUSHES of the smpmm guest; under
Bochs `cpu: count=2` the cost of a remote EPT flush in instructions (a zap
hypercall of the x86 smpmm guest with the other vCPU in the guest, halted,
and on one CPU) and its counters.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "build", "host", "bench")
GENERIC = ["mm/walk.c", "mm/s2_init.c", "mm/s2_cache.c", "mm/s2_flush.c",
           "mm/s2_map.c", "mm/s2_unmap.c", "mm/s2_protect.c",
           "mm/s2_split.c", "mm/s2_collapse.c", "mm/s2_lookup.c",
           "mm/s2_dump.c", "mm/audit.c", "mm/s2_mmio.c", "mm/s2_fault.c",
           "mm/s2_mirror.c",
           "lib/printk.c", "lib/bug.c",
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


# ---- the emulator measurement ---------------------------------------------

sys.path.insert(0, os.path.join(ROOT, "tests", "boot"))
sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
EMU_TIMEOUT = 600
EMU_TIMEOUT_AUDIT = 3600
KINDS = ("4K", "2M", "hypercall", "mmio-first", "mmio-again", "mmio-dev",
         "mmio-sparse", "mmio-nobudget", "zap-refault")
FB_RE = re.compile(r"^\[faultbench\] faultbench: (%s) "
                   r"(?:faults|calls|ops)=(\d+) "
                   r".*insns_per_(?:fault|call|op)=(\d+)$" % "|".join(KINDS),
                   re.M)
# Rows shown as a ratio to the null hypercall of the same run, and targets.
RATIOS = (("mmio-first", "first touch of an unbacked page", 5),
          ("mmio-again", "later touch (MMIO SPTE hit)", None),
          ("mmio-sparse", "first touch needing a table page", None),
          ("mmio-nobudget", "first touch past the MMIO budget", None),
          ("zap-refault", "zap of one 4 KiB page + refault", 10))
# Instructions of an emulated MMIO load on arm64 (issue 14).
MMIO_LOAD_TARGET = 300


def build_strata(arch, audit):
    out = os.path.join("build", "bench" + ("-audit" if audit else ""), arch)
    subprocess.run(["make", "-s", "-j2", "ARCH=" + arch, "TEST=1",
                    "AUDIT=%d" % audit, "BUILD=" + out], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(ROOT, out)


def run_arm64(tmp, tag, guests, image, timeout):
    from _bootlib import make_bundle, run_qemu_arm64
    cfg = ("[vm faultbench]\nkernel = faultbench.elf\nmemory = 128M\n"
           "cpus = 1\ncmdline = faultbench\n")
    cpio = make_bundle(os.path.join(tmp, tag + ".cpio"), cfg,
                       [("faultbench.elf",
                         os.path.join(guests, "arm64", "faultbench.elf"))])
    r = run_qemu_arm64("max,pauth-impdef=on",
                       ["-icount", "shift=0", "-kernel",
                        os.path.join(image, "strata.bin"), "-initrd", cpio,
                        "-append", "loglevel=info"], mem="1G",
                       timeout=timeout)
    return r.out


def run_x86(tmp, tag, guests, image, timeout):
    from _bootlib import make_iso, vm_modules, run_bochs
    cfg = "[vm faultbench]\nkernel = faultbench.elf\nmemory = 128M\n"
    iso = make_iso(tmp, tag, "loglevel=info", vm_modules(
        cfg, [os.path.join(guests, "x86_64", "faultbench.elf")]),
        elf=os.path.join(image, "strata.elf"))
    _, log = run_bochs(tmp, tag, iso, megs=256, timeout=timeout)
    return log


def emulator_bench(audits=(0, 1), arches=("arm64", "x86_64"), linux=True):
    from _bootlib import private_dir, build_guests
    rows, ratios, mmio_loads = [], [], []
    with private_dir("bench-") as tmp:
        guests = os.path.join(tmp, "guests")
        for arch in arches:
            build_guests(arch, os.path.join(guests, arch), ["faultbench"])
        for audit in audits:
            for arch, runner, emu in (("arm64", run_arm64, "QEMU icount"),
                                      ("x86_64", run_x86, "Bochs TSC")):
                if arch not in arches:
                    continue
                tag = "%s-%d" % (arch, audit)
                log = runner(tmp, tag, guests, build_strata(arch, audit),
                             EMU_TIMEOUT_AUDIT if audit else EMU_TIMEOUT)
                found = {m.group(1): (m.group(2), m.group(3))
                         for m in FB_RE.finditer(log)}
                if "faultbench: PASS" not in log and \
                        "RESULT: PASS" not in log:
                    print("bench: faultbench on %s failed: %s" %
                          (arch, " | ".join(log.splitlines()[-6:])))
                    return 1
                build = "test, audit" if audit else "test, no audit"
                if arch == "arm64" and not audit:
                    mmio_loads.append(
                        (arch, found.get("mmio-dev", ("-", "-"))[1]))
                for kind in KINDS:
                    n, ins = found.get(kind, ("-", "-"))
                    rows.append([arch, emu, build, kind, n, ins])
                hc = int(found.get("hypercall", ("0", "0"))[1])
                for kind, what, target in RATIOS:
                    ins = int(found.get(kind, ("0", "0"))[1])
                    x = "%.2fx" % (ins / hc) if hc and ins else "-"
                    if target is None or audit:
                        verdict = "(informative)"
                    else:
                        ok = hc and ins and ins <= target * hc
                        verdict = "target <= %dx: %s" % (
                            target, "met" if ok else "MISSED")
                    ratios.append([arch, build, what, x, verdict])
    head = ["arch", "counter", "build", "what", "count", "insns each"]
    width = [max(len(str(r[i])) for r in rows + [head])
             for i in range(len(head))]
    fmt_row = "  ".join("{:<%d}" % w for w in width)
    print()
    print("Stage-2 faults under the emulators (guest access to completed "
          "retry, minus the loop;")
    print("targets for a 4K fault: arm64 <= 1000, x86 <= 1200)")
    print(fmt_row.format(*head))
    print(fmt_row.format(*["-" * w for w in width]))
    for r in rows:
        print(fmt_row.format(*r))
    print()
    print("Against the null hypercall of the same run (instructions each)")
    head = ["arch", "build", "what", "ratio", "target"]
    width = [max(len(str(r[i])) for r in ratios + [head])
             for i in range(len(head))]
    fmt_row = "  ".join("{:<%d}" % w for w in width)
    print(fmt_row.format(*head))
    print(fmt_row.format(*["-" * w for w in width]))
    for r in ratios:
        print(fmt_row.format(*r))
    for arch, ins in mmio_loads:
        print("%s: an emulated MMIO load (test-device register, guest load "
              "to value in its register): %s instructions, target <= %d: %s"
              % (arch, ins, MMIO_LOAD_TARGET,
                 "met" if ins.isdigit() and int(ins) <= MMIO_LOAD_TARGET
                 else "MISSED"))
    if "arm64" in arches:
        smp_counters()
    if "x86_64" in arches:
        x86_remote_flush()
    if "arm64" in arches and linux:
        from linux_boot import linux_bench
        linux_bench()
        linux_bench(2)
    return 0


SMP_CTR_RE = re.compile(r"^\[smpmm\] smpmm: counters: kicks (\d+), lock "
                        r"waits (\d+), fault retries (\d+), remote flushes "
                        r"(\d+), stage-2 faults (\d+)$", re.M)


X86_ZAP_RE = re.compile(r"^\[smpmm\] smpmm: zap of a touched page: (\d+) TSC "
                        r"with the worker in the guest on the other CPU "
                        r"\((\d+) remote flushes\), (\d+) with it halted "
                        r"\((\d+) remote flushes\)$", re.M)
X86_SMP_CTR_RE = re.compile(r"^\[smpmm\] smpmm: counters: kicks (\d+), lock "
                            r"waits (\d+), remote flushes (\d+), stage-2 "
                            r"faults (\d+)$", re.M)


def x86_remote_flush():
    """The cost of a remote EPT flush (docs/smp.md): the x86 smpmm guest
    (tests/guests/x86/smpmm.c) on Bochs `cpu: count=2`, `clock: sync=none`
    (the TSC counts instructions), without the MMU audit: a zap hypercall
    of a touched page with the other vCPU in the guest on the other CPU
    (the flush is posted, the CPU kicked and waited for) and halted (only
    posted); the same guest with `cpus=1` (no remote CPU) is the base."""
    from _bootlib import private_dir, build_guests, make_iso, vm_modules, \
        run_bochs
    image = build_strata("x86_64", 0)
    cfg = ("[vm smpmm]\nkernel = smpmm.elf\nmemory = 16M\n"
           "memory_max = 18M\ncpus = 2\n")
    res = {}
    with private_dir("bench-xflush-") as tmp:
        guests = os.path.join(tmp, "guests")
        build_guests("x86", guests, ["smpmm"])
        for tag, extra in (("2cpu", ""), ("1cpu", " cpus=1")):
            iso = make_iso(tmp, tag, "loglevel=info audit=off" + extra,
                           vm_modules(cfg, [os.path.join(guests,
                                                         "smpmm.elf")]),
                           elf=os.path.join(image, "strata.elf"))
            _, log = run_bochs(tmp, tag, iso, count=2, timeout=EMU_TIMEOUT)
            res[tag] = (X86_ZAP_RE.search(log), X86_SMP_CTR_RE.search(log))
    two, one = res["2cpu"][0], res["1cpu"][0]
    print()
    if not two or not one or int(two.group(2)) == 0:
        print("bench: x86 remote flush: the smpmm runs failed")
        return
    spin, hlt, base = int(two.group(1)), int(two.group(3)), int(one.group(3))
    print("x86 remote EPT flush (smpmm on Bochs count=2, instructions per "
          "zap hypercall of a touched page): one CPU %d; two CPUs, other "
          "vCPU halted (flush posted) %d (+%d); other vCPU in the guest "
          "(posted, kicked, waited for) %d (+%d)"
          % (base, hlt, hlt - base, spin, spin - base))
    if res["2cpu"][1]:
        print("Many CPUs (x86 smpmm, 2 vCPUs on Bochs count=2, "
              "informative): KICKS %s  LOCK_WAITS %s  REMOTE_FLUSHES %s  "
              "(stage-2 faults %s)" % res["2cpu"][1].groups())


def smp_counters():
    """The many-CPU counters of the smpmm guest (tests/guests/arm64/smpmm.c)
    on QEMU -smp 4 under Strata: STRATA_CTR_KICKS, LOCK_WAITS,
    FAULT_RETRIES, REMOTE_FLUSHES (docs/smp.md). Counts, not times; they
    depend on how the emulator interleaves the CPUs (informative)."""
    from _bootlib import private_dir, build_guests, make_bundle, \
        run_qemu_arm64, ARM_IMAGE
    with private_dir("bench-smp-") as tmp:
        guests = os.path.join(tmp, "guests")
        build_guests("arm64", guests, ["smpmm"])
        cfg = ("[vm smpmm]\nkernel = smpmm.elf\nmemory = 16M\n"
               "memory_max = 18M\ncpus = 4\ncmdline = smpmm\n")
        cpio = make_bundle(os.path.join(tmp, "smp.cpio"), cfg,
                           [("smpmm.elf", os.path.join(guests, "smpmm.elf"))])
        subprocess.run(["make", "-s", "-j2", "ARCH=arm64", "TEST=1"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        r = run_qemu_arm64("max", ["-smp", "4", "-kernel", ARM_IMAGE,
                                   "-initrd", cpio, "-append",
                                   "loglevel=info"], mem="1G", timeout=600)
    m = SMP_CTR_RE.search(r.out)
    print()
    if not m or "smpmm: PASS" not in r.out:
        print("bench: smpmm on -smp 4 failed: %s"
              % " | ".join(r.out.splitlines()[-6:]))
        return
    print("Many CPUs (smpmm guest, 4 vCPUs on QEMU -smp 4, informative): "
          "KICKS %s  LOCK_WAITS %s  FAULT_RETRIES %s  REMOTE_FLUSHES %s  "
          "(stage-2 faults %s)" % m.groups())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host-only", action="store_true",
                    help="only the host microbenchmarks")
    ap.add_argument("--emu-only", action="store_true",
                    help="only the emulator measurement")
    ap.add_argument("--audit", action="store_true",
                    help="also run the emulator measurement on the audit "
                    "build (slow: tens of minutes)")
    ap.add_argument("--arch", choices=("arm64", "x86_64"),
                    help="the emulator measurement of one architecture only")
    ap.add_argument("--no-linux", action="store_true",
                    help="skip the Linux boot comparison (the faultbench "
                    "rows alone)")
    args = ap.parse_args()
    if not args.emu_only:
        host_bench()
    if args.host_only:
        return 0
    return emulator_bench((0, 1) if args.audit else (0,),
                          (args.arch,) if args.arch else ("arm64", "x86_64"),
                          not args.no_linux)


def host_bench():
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
    smp_fault_bench()


def smp_fault_bench():
    """Faults of 1, 2 and 4 host threads in disjoint ranges of one table,
    under the MMU lock shared (tests/bench/bench_smp.c, docs/smp.md)."""
    exe = os.path.join(OUT, "bench_smp")
    srcs = [g for g in GENERIC if not g.startswith("tests/")]
    cmd = [os.environ.get("HOST_CC", "gcc"), "-std=c11", "-D_DEFAULT_SOURCE",
           "-DHOST_TEST", "-DSMP_STAGE2", "-O2", "-Wall", "-Wextra",
           "-Werror", "-pthread", "-Iinclude", "-Itests", "-Itests/unit",
           "-Itests/unit/smp", "-Itests/unit/ref", "-Iarch/arm64/include",
           "-o", exe, "tests/bench/bench_smp.c", "tests/unit/smp/smp_hooks.c",
           "tests/unit/ref/sim_tlb.c", "arch/arm64/stage2.c"] + srcs
    subprocess.run(cmd, cwd=ROOT, check=True)
    out = subprocess.run([exe], cwd=ROOT, check=True, text=True,
                         stdout=subprocess.PIPE).stdout
    print()
    print("Stage-2 faults from several host threads at once, disjoint "
          "ranges, MMU lock shared")
    print("(best of 5; instructions need perf counters; ns informative, "
          "threads may outnumber host CPUs)")
    for line in out.splitlines():
        print("  " + line)
    if "insns unavailable" in out:
        smp_fault_callgrind(exe)


def smp_fault_callgrind(exe):
    """No perf counters: instructions per fault from Valgrind's callgrind,
    counted inside fault_loop() only (bench_smp.c), one run per thread
    count."""
    if not shutil.which("valgrind"):
        print("  (no valgrind: sh tools/install-deps.sh installs it)")
        return
    ipf = {}
    for n in (1, 2, 4):
        cg = os.path.join(OUT, "callgrind.smp%d" % n)
        p = subprocess.run(["valgrind", "--tool=callgrind", "-q",
                            "--toggle-collect=fault_loop",
                            "--callgrind-out-file=" + cg, exe, "--one",
                            str(n)], cwd=ROOT, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        m = re.search(r"smp-faults-one threads=\d+ faults=(\d+) "
                      r"lock_waits=(\d+) fault_retries=(\d+)", p.stdout)
        total = None
        if m and os.path.exists(cg):
            with open(cg) as f:
                for line in f:
                    if line.startswith(("summary:", "totals:")):
                        total = int(line.split()[1])
        if p.returncode or not m or not total:
            print("  callgrind run with %d threads failed: %s"
                  % (n, p.stdout.strip()[-200:]))
            return
        ipf[n] = total / int(m.group(1))
        print("  smp-faults (callgrind) threads=%d faults=%s "
              "insns_per_fault=%.0f lock_waits=%s fault_retries=%s"
              % (n, m.group(1), ipf[n], m.group(2), m.group(3)))
    print("  smp-faults ratio insns (callgrind) 2/1=%.2f 4/1=%.2f "
          "(target <= 1.20: %s)"
          % (ipf[2] / ipf[1], ipf[4] / ipf[1],
             "met" if max(ipf[2], ipf[4]) <= 1.2 * ipf[1] else "MISSED"))


if __name__ == "__main__":
    sys.exit(main())
