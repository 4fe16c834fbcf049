#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: the arm64 test guests (tests/guests/arm64/) under Strata.

Builds the guests, packs them with a strata.cfg into a cpio (newc) bundle
passed as the initrd, and boots the test Image (build/test/arm64/strata.bin,
`make TEST=1 ARCH=arm64`) under QEMU virt at EL2 on two CPU models:

- `-cpu max`: FEAT_TLBIRANGE and FEAT_S2FWB, so zaps must use range
  invalidations and no cache maintenance;
- `-cpu cortex-a57`: neither, so zaps must use the per-IPA / whole-VMID
  fallback and clean the unmapped pages to the point of coherency.

One boot per CPU runs eight VMs at once: zap (2 GiB, for its 1 GiB case),
hello, memtest, mmio, misbehave, two tickers (well-behaved guests that
must finish beside misbehave, and whose lines must interleave) and smp
(four vCPUs started and stopped through PSCI). A third
boot (-cpu max) runs a guest that jumps to an unbacked address beside hello:
Strata must stop that VM only, finish hello, and exit with a failure status.
A fourth boot (-cpu max, `audit=off`) runs mmio beside hello without the
entry audit, so that repeated MMIO accesses re-enter the guest straight from
the exit (arch/arm64/exit.c) and its register test checks that path.

Every verdict rests on positive evidence on the console: the guests' own
result lines (each guest checks its answers and prints `NAME: PASS`), the
values they report, Strata's `vm NAME: ended: ...` lines and its summary.
Prints one PASS/FAIL line per guest and boot; exits 1 if any failed.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as IMAGE, need, private_dir, build_guests, make_bundle,
    run_qemu_arm64)

GUESTS = None           # the guests' build directory, inside the temporary one
TIMEOUT = 150           # seconds per QEMU run (a run takes ~10-30 s)
CPUS = [("max", "max,pauth-impdef=on"), ("cortex-a57", "cortex-a57")]

# The VMs of the main boot: name, ELF, memory, cmdline. zap comes first so
# that its 2 GiB (1 GiB aligned) is taken before smaller VMs split memory.
MAIN_VMS = [
    ("zap", "zap.elf", "2G", 1, "zap"),
    ("hello", "hello.elf", "64M", 1, "console=ttyAMA0 strata-demo=42"),
    ("memtest", "memtest.elf", "48M", 1, "memtest"),
    ("mmio", "mmio.elf", "16M", 1, "mmio"),
    ("misbehave", "misbehave.elf", "16M", 1, "misbehave"),
    ("ticka", "ticker.elf", "16M", 1, "A"),
    ("tickb", "ticker.elf", "16M", 1, "B"),
    ("smp", "smp.elf", "16M", 4, "smp"),
]
NOAUDIT_VMS = [
    ("mmio", "mmio.elf", "16M", 1, "mmio"),
    ("hello", "hello.elf", "32M", 1, "hello beside mmio"),
]
WILD_VMS = [
    ("wild", "wild.elf", "16M", 1, "wild"),
    ("hello", "hello.elf", "32M", 1, "hello beside wild"),
]


# Initrds: the hello VM of the main boot gets one, found through its DTB.
INITRD_TEXT = b"strata-initrd: the hello guest reads this first line\n"
INITRDS = {"hello": ("hello.initrd", INITRD_TEXT * 100)}


def boot(tmp, tag, cpu, vms, mem="3G", initrds=None, append="loglevel=info"):
    cfg = ""
    files = {}
    for name, elf, vmmem, cpus, cmdline in vms:
        cfg += (f"[vm {name}]\nkernel = {elf}\nmemory = {vmmem}\n"
                f"cpus = {cpus}\n")
        if initrds and name in initrds:
            cfg += f"initrd = {initrds[name][0]}\n"
            files[initrds[name][0]] = initrds[name][1]
        cfg += f"cmdline = {cmdline}\n"
        files[elf] = os.path.join(GUESTS, elf)
    cpio = make_bundle(os.path.join(tmp, tag + ".cpio"), cfg,
                       sorted(files.items()))
    return run_qemu_arm64(cpu, ["-kernel", IMAGE, "-initrd", cpio,
                                "-append", append], mem=mem,
                          timeout=TIMEOUT)


def ended_ok(run, vm):
    lines = run.guest(vm)
    bad = [l for l in lines if l.startswith("FAIL")]
    if bad:
        raise Fail(f"{vm} says: " + " / ".join(bad[:4]))
    need(lines, rf"^{vm if not vm.startswith('tick') else 'ticker'}"
         r"( \w+)?: PASS$", f"the '{vm}: PASS' line")
    if not re.search(rf"^vm {vm}: ended: powered off \(status 0\)$",
                     run.out, re.M):
        raise Fail(f"no 'vm {vm}: ended: powered off (status 0)' line")
    return lines


def t_hello(run, cpu):
    lines = ended_ok(run, "hello")
    need(lines, r"^Hello from a Strata arm64 guest at EL1$", "the greeting")
    need(lines, r"^hello: memory 0x40000000-0x44000000 \(64 MiB\), 1 vCPUs, "
         r"dtb at 0x[0-9a-f]+ \(\d+ bytes\)$", "RAM and vCPUs from the DTB")
    need(lines, r"^hello: bootargs 'console=ttyAMA0 strata-demo=42'$",
         "the cmdline as /chosen/bootargs")
    need(lines, r"^hello: PSCI version 1\.\d+$", "PSCI 1.x")
    m = need(lines, r"^hello: initrd 0x([0-9a-f]+)-0x([0-9a-f]+) \((\d+) "
             r"bytes\) starts '(.*)'$", "the initrd from /chosen")
    if int(m.group(3)) != len(INITRDS["hello"][1]):
        raise Fail(f"initrd of {m.group(3)} bytes, want "
                   f"{len(INITRDS['hello'][1])}")
    if m.group(4) != INITRD_TEXT[:32].decode():
        raise Fail(f"the initrd starts '{m.group(4)}', not with its file")


def t_memtest(run, cpu):
    lines = ended_ok(run, "memtest")
    need(lines, r"^memtest: RAM 0x40000000-0x43000000 \(48 MiB\)",
         "48 MiB of RAM from the DTB")
    m = need(lines, r"^memtest: (\d+) MiB written and checked twice, "
             r"(\d+) stage-2 faults", "the summary")
    if int(m.group(1)) < 46:
        raise Fail(f"only {m.group(1)} MiB checked")
    if int(m.group(2)) < 1:
        raise Fail("RAM was not faulted in lazily (no stage-2 faults)")
    m = need(lines, r"stage-2 faults \((\d+) 4K, (\d+) 2M, (\d+) 1G maps\)$",
             "the map sizes")
    if int(m.group(2)) < 1:
        raise Fail("no 2 MiB block mapped for 48 MiB of 2 MiB-aligned RAM")


def t_mmio(run, cpu, audit=True):
    lines = ended_ok(run, "mmio")
    m = need(lines, r"^mmio: (\d+) checks of (\d+) scratch accesses done; "
             r"(\d+) MMIO exits, (\d+) through MMIO SPTEs, "
             r"(\d+) re-entered in place$", "the summary")
    checks, accesses, exits, hits, inplace = map(int, m.groups())
    # mmio.c makes 42 scratch accesses with a check each, then 93 accesses
    # with 62 checks of every register as a load's destination and a
    # store's source; the count is the device's own (LAST)
    if checks != 104 or accesses != 135:
        raise Fail(f"{checks} checks of {accesses} accesses, "
                   "want 104 of 135")
    if exits < accesses:
        raise Fail(f"{exits} MMIO exits for {accesses} device accesses")
    if hits < 1:
        raise Fail("no access went through an MMIO SPTE")
    # The entry audit wants every entry prepared by the run loop; without
    # it, repeated accesses to the device's page go straight back into the
    # guest (arch/arm64/exit.c): at least the 93 of the register test, a
    # page already hinted.
    if audit and inplace:
        raise Fail(f"{inplace} exits re-entered in place with the audit on")
    if not audit and inplace < 93:
        raise Fail(f"only {inplace} exits re-entered in place, want >= 93")


def t_zap(run, cpu):
    lines = ended_ok(run, "zap")
    need(lines, r"^zap 4K: done$", "the 4K case")
    # a whole zapped block faults back in as one block of that size
    need(lines, r"^zap 2M: done, the rest of the block took 0 more faults, "
         r"1 2M maps$", "the 2M case refaulted as one 2 MiB block")
    need(lines, r"^zap 1G: done, [1-9]\d* detaches, 1 1G maps$",
         "the 1G case: a detach, refaulted as one 1 GiB block")
    need(lines, r"^zap span 0x[0-9a-f]+-0x[0-9a-f]+: done$", "the span case")
    need(lines, r"^wrprotect: done", "the write-protect case")
    need(lines, r"^zap: bad ranges refused$", "the bad-range checks")
    m = need(lines, r"^zap: core counters: (.*)$", "the core counters")
    c = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1)))
    want = ["TLBI_RANGE", "TLBI_RANGE_INSNS", "TLBI_IPA", "TLBI_VMID",
            "CMO_PAGES", "DETACHES"]
    if any(k not in c for k in want):
        raise Fail(f"counters missing in '{m.group(1)}'")
    if c["DETACHES"] < 1:
        raise Fail("no fast block-level detach: " + m.group(1))
    if cpu == "max":
        if c["TLBI_RANGE"] < 1 or c["TLBI_RANGE_INSNS"] < 1:
            raise Fail("FEAT_TLBIRANGE present but no range TLBI: " +
                       m.group(1))
        if c["TLBI_IPA"] != 0:
            raise Fail("per-IPA TLBI despite FEAT_TLBIRANGE: " + m.group(1))
        if c["CMO_PAGES"] != 0:
            raise Fail("cache maintenance despite FEAT_S2FWB: " + m.group(1))
    else:
        if c["TLBI_RANGE"] or c["TLBI_RANGE_INSNS"]:
            raise Fail("range TLBI on a CPU without it: " + m.group(1))
        if c["TLBI_IPA"] + c["TLBI_VMID"] < 1:
            raise Fail("no per-IPA or whole-VMID fallback: " + m.group(1))
        # every page the zaps took away: at least the 4 KiB page, the
        # 2 MiB block and the whole GiB, cleaned to PoC
        if c["CMO_PAGES"] < 1 + 512 + 262144:
            raise Fail("too few pages cleaned without FWB: " + m.group(1))


def t_misbehave(run, cpu):
    lines = ended_ok(run, "misbehave")
    for pat, what in [
            (r"^misbehave: \d+ wild accesses read as zero", "wild accesses"),
            (r"^misbehave: 4 ISV=0 accesses came back as external aborts$",
             "ISV=0 aborts"),
            (r"^misbehave: \d+ unknown HVC/SMC calls returned -1$",
             "unknown calls"),
            (r"^misbehave: a line through STRATA_HC_CONSOLE_WRITE$",
             "the console-write hypercall"),
            (r"^misbehave: exception storm: 3000 SVC and 3000 UDF handled",
             "the exception storm"),
            (r"^misbehave: spun 300 ms with interrupts masked", "the spin")]:
        need(lines, pat, what)
    m = need(lines, r"^misbehave: spun 300 ms with interrupts masked "
             r"\((\d+) exits meanwhile\)$", "the spin's exits")
    if int(m.group(1)) < 1:
        raise Fail("a guest spinning with interrupts masked was never "
                   "preempted")


def t_tickers(run, cpu):
    for vm in ("ticka", "tickb"):
        lines = ended_ok(run, vm)
        label = "A" if vm == "ticka" else "B"
        ticks = [l for l in lines if l.startswith(f"ticker {label}: tick ")]
        if len(ticks) != 25:
            raise Fail(f"{vm} printed {len(ticks)} of 25 ticks")
    order = [l[1:6] for l in run.out.splitlines()
             if re.match(r"^\[tick[ab]\] ticker [AB]: tick ", l)]
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    if switches < 2:
        raise Fail(f"the tickers did not interleave ({switches} switches): "
                   "no time slicing between VMs")


def t_smp(run, cpu):
    lines = ended_ok(run, "smp")
    need(lines, r"^smp: 4 vCPUs in the device tree$", "4 vCPUs in the DTB")
    need(lines, r"^smp: vCPUs 1-3 came up with their own MPIDR$",
         "the secondaries started by CPU_ON")
    need(lines, r"^smp: vCPUs 1-3 are OFF after CPU_OFF$",
         "AFFINITY_INFO OFF after CPU_OFF")
    need(lines, r"^smp: CPU_ON refuses non-affinity MPIDR bits \(-2\) and "
         r"misaligned entries \(-9\)$", "CPU_ON refusals of bad MPIDRs and "
         "misaligned entries")
    need(lines, r"^smp: vCPU 1 started again after CPU_OFF$",
         "a second CPU_ON of vCPU 1")


def t_summary(run, cpu, n):
    if not re.search(rf"^Strata: all {n} VMs ended: {n} ok, 0 failed$",
                     run.out, re.M):
        raise Fail(f"no 'all {n} VMs ended: {n} ok, 0 failed' line")
    if run.status != 0:
        raise Fail(f"QEMU exit status {run.status}, want 0")


def t_wild(run):
    # A fetch from nothing is a prefetch abort in the guest (as on KVM),
    # which the guest reports before it ends with status 3.
    need(run.guest("wild"), r"^wild: jumping to 0x1000$", "wild's jump")
    need(run.guest("wild"), r"^wild: prefetch abort at 0x1000 \(ESR "
         r"0x86000010\)$", "the prefetch abort in the guest")
    if not re.search(r"^vm wild: ended: powered off \(status 3\)$",
                     run.out, re.M):
        raise Fail("no 'vm wild: ended: powered off (status 3)' line")
    if any(l.startswith("wild: still running") for l in run.guest("wild")):
        raise Fail("the wild guest came back from its jump")
    ended_ok(run, "hello")
    if not re.search(r"^Strata: all 2 VMs ended: 1 ok, 1 failed$", run.out,
                     re.M):
        raise Fail("no 'all 2 VMs ended: 1 ok, 1 failed' line")
    if run.status in (0, None):
        raise Fail(f"QEMU exit status {run.status}: a failed VM must make "
                   "it non-zero")


def report(name, fn, *args):
    try:
        fn(*args)
        print(f"PASS: {name}", flush=True)
        return True
    except Fail as e:
        print(f"FAIL: {name}: {e}", flush=True)
        return False


def main():
    if not os.path.exists(IMAGE):
        print(f"FAIL: guests-arm64/build: {IMAGE} is missing "
              "(make TEST=1 ARCH=arm64)")
        return 1
    global GUESTS
    ok = True
    with private_dir("guests-arm64-") as tmp:
        GUESTS = os.path.join(tmp, "guests")
        try:
            build_guests("arm64", GUESTS)
        except Exception as e:
            print("FAIL: guests-arm64/build: %s" % e)
            return 1
        for tag, cpu in CPUS:
            run = boot(tmp, tag, cpu, MAIN_VMS, initrds=INITRDS)
            if run.status is None:
                print(f"FAIL: guests-arm64/{tag}/boot: timed out after "
                      f"{TIMEOUT} s ({run.tail()})")
                ok = False
                continue
            for name, fn in [("hello", t_hello), ("memtest", t_memtest),
                             ("mmio", t_mmio), ("zap", t_zap),
                             ("misbehave", t_misbehave),
                             ("two-vms-at-once", t_tickers),
                             ("smp-psci", t_smp)]:
                ok &= report(f"guests-arm64/{tag}/{name}", fn, run, tag)
            ok &= report(f"guests-arm64/{tag}/all-ended", t_summary, run,
                         tag, len(MAIN_VMS))
            if not ok:
                print(f"  ({tag}: {run.secs:.0f} s; last lines: "
                      f"{run.tail()})")
        # With `audit=off` (no entry audit), so that the MMIO exits taken
        # in place re-enter the guest directly.
        run = boot(tmp, "noaudit", CPUS[0][1], NOAUDIT_VMS, mem="512M",
                   append="loglevel=info audit=off")
        ok &= report("guests-arm64/max/mmio-audit-off", t_mmio, run, "max",
                     False)
        ok &= report("guests-arm64/max/audit-off-all-ended", t_summary, run,
                     "max", len(NOAUDIT_VMS))
        run = boot(tmp, "wild", CPUS[0][1], WILD_VMS, mem="512M")
        ok &= report("guests-arm64/max/wild-jump-aborts-only-its-vm", t_wild,
                     run)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
