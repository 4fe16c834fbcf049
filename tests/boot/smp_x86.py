#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: Strata on two physical CPUs under Bochs `cpu: count=2`
(docs/smp.md, "x86"), on the test image build/test/x86_64/strata.elf.

Cases:

- `mm`: the ACPI MADT lists both CPUs and the application processor comes
  up with VMX on. The smpmm guest (2 vCPUs, tests/guests/x86/smpmm.c),
  whose vCPUs Strata reports on CPUs 0 and 1, faults, touches, zaps,
  write-protects and frees the same ranges from both and checks for stale
  translations (a write after WRPROTECT that did not fault, data from a
  deleted memslot) and lost data; remote flushes are counted, and the
  kicks CPU 0 sends CPU 1 for them are taken there (Strata's per-CPU
  counts at the end). Beside it
  misbehave, pinned to CPU 1, does everything a guest should not and is
  stopped for its triple fault, while calm (hello), pinned to CPU 0, runs
  to its PASS and powers off well.
- `mptable`: `x86_acpi=off`: no ACPI, so the CPUs come from the MP
  floating-pointer table; the smp guest's two vCPUs run on CPUs 0 and 1
  and its INIT-SIPI-SIPI and IPI checks pass across them.
- `cpus`: `cpus=1`: one CPU in use, the other stays off; the smp guest's
  two vCPUs share CPU 0 and pass.
- `apfail`: `x86_ap_fail=1` (test builds): CPU 1 fails its VMX checks,
  says so and is parked; Strata goes on with CPU 0 alone and hello passes.

Every verdict rests on console lines: Strata's `x86: ...` bring-up lines,
`vm NAME: vCPU N runs on CPU M` (printed by the CPU that runs the vCPU,
from its own per-CPU data), the guests' RESULT lines and the end lines.
STRATA_KEEP=1 keeps the temporary directory.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, need, check_no_exception, private_dir,
    build_guests, make_iso, vm_modules, run_bochs,
    guest_result, ended_ok)

TIMEOUT = 240
GUESTS = ["smpmm", "misbehave", "hello", "smp"]
KERNELS = {}

MM_CFG = """[vm smpmm]
kernel = smpmm.elf
memory = 16M
memory_max = 18M
cpus = 2
[vm misbehave]
kernel = misbehave.elf
memory = 8M
pin = 1
[vm calm]
kernel = hello.elf
memory = 8M
pin = 0
"""
SMP_CFG = """[vm smp]
kernel = smp.elf
memory = 8M
cpus = 2
"""
HELLO_CFG = """[vm hello]
kernel = hello.elf
memory = 8M
"""


def boot(tmp, name, cfg, kernels, cmdline="loglevel=info"):
    iso = make_iso(tmp, name, cmdline,
                   vm_modules(cfg, [KERNELS[k] for k in kernels]), elf=ELF)
    status, log = run_bochs(tmp, name, iso, count=2, timeout=TIMEOUT)
    if status is None:
        raise Fail("timed out: " + " | ".join(log.splitlines()[-5:]))
    check_no_exception(log)
    return log


def cpus_of(log, vm, n):
    cpus = []
    for i in range(n):
        m = need(log, r"^vm %s: vCPU %d runs on CPU (\d+)$" % (vm, i),
                 "where vCPU %d of %s runs" % (i, vm))
        cpus.append(int(m.group(1)))
    return cpus


def online(log, n, listed, source):
    need(log, r"^x86: %d CPUs listed by the %s$" % (listed, re.escape(source)),
         "the CPU list from the %s" % source)
    need(log, r"^x86: %d of %d CPUs online$" % (n, listed),
         "'x86: %d of %d CPUs online'" % (n, listed))


def t_mm(tmp):
    log = boot(tmp, "mm", MM_CFG, ["smpmm", "misbehave", "hello"])
    online(log, 2, 2, "ACPI MADT")
    need(log, r"^x86: CPU 1 online \(APIC ID 1\), VMX on$",
         "CPU 1's report, from CPU 1")
    need(log, r"^Strata: scheduling on 2 physical CPUs$",
         "the scheduler on 2 CPUs")
    if cpus_of(log, "smpmm", 2) != [0, 1]:
        raise Fail("smpmm's vCPUs did not run on CPUs 0 and 1")
    if cpus_of(log, "misbehave", 1) != [1]:
        raise Fail("misbehave did not run on CPU 1, its pin")
    if cpus_of(log, "calm", 1) != [0]:
        raise Fail("calm did not run on CPU 0, its pin")
    guest_result(log, "smpmm", "smpmm", 70)
    need(log, r"^\[smpmm\] smpmm: write protection: 2048 faults for 2048 "
         r"pages, one per write$", "one write fault per page")
    need(log, r"^\[smpmm\] smpmm: a deleted memslot read as zero on the "
         r"worker, and so did the fresh one$", "no data from freed pages")
    m = need(log, r"^\[smpmm\] smpmm: counters: kicks (\d+), lock waits "
             r"(\d+), remote flushes (\d+), stage-2 faults (\d+)$",
             "smpmm's counters")
    if int(m.group(3)) == 0:
        raise Fail("no remote flush counted with vCPUs on two CPUs")
    k0 = need(log, r"^Strata: CPU 0: (\d+) kicks sent, (\d+) taken",
              "CPU 0's kick counts")
    k1 = need(log, r"^Strata: CPU 1: (\d+) kicks sent, (\d+) taken",
              "CPU 1's kick counts")
    # The zaps' remote flushes kick CPU 1 out of smpmm's worker (IF set);
    # how many depends on where CPU 1 is each time, so only: some.
    if not int(k0.group(1)) or not int(k1.group(2)):
        raise Fail("CPU 0 sent %s kicks and CPU 1 took %s"
                   % (k0.group(1), k1.group(2)))
    ended_ok(log, "smpmm")
    need(log, r"^vm misbehave: ended: stopped: .*triple fault",
         "'vm misbehave: ended: stopped: ...triple fault...'")
    guest_result(log, "calm", "hello", 17)
    ended_ok(log, "calm")
    need(log, r"^Strata: all 3 VMs ended: 2 ok, 1 failed$",
         "'Strata: all 3 VMs ended: 2 ok, 1 failed'")
    return ("smpmm on CPUs 0,1, remote flushes %s, kicks CPU 0 -> 1 sent %s "
            "taken %s" % (m.group(3), k0.group(1), k1.group(2)))


def t_mptable(tmp):
    log = boot(tmp, "mptable", SMP_CFG, ["smp"],
               "loglevel=info x86_acpi=off")
    need(log, r"^acpi: off \(x86_acpi=off\)$", "ACPI off")
    online(log, 2, 2, "MP table")
    if cpus_of(log, "smp", 2) != [0, 1]:
        raise Fail("smp's vCPUs did not run on CPUs 0 and 1")
    need(log, r"^\[smp\] smp: AP started 2 times, APIC ID 1, "
         r"CPUID.1 ID 1, x2APIC ID 1$", "smp's AP report")
    guest_result(log, "smp", "smp", 26)
    ended_ok(log, "smp")
    return "CPUs from the MP table, smp on CPUs 0,1"


def t_cpus(tmp):
    log = boot(tmp, "cpus", SMP_CFG, ["smp"], "loglevel=info cpus=1")
    need(log, r"^x86: 1 of 2 CPUs online$", "'x86: 1 of 2 CPUs online'")
    need(log, r"^x86: cpus=1 on the command line: the other CPUs stay off$",
         "the cpus= notice")
    need(log, r"^Strata: scheduling on 1 physical CPU$",
         "the scheduler on 1 CPU")
    if re.search(r"^x86: CPU 1 online", log, re.M):
        raise Fail("CPU 1 was started despite cpus=1")
    if cpus_of(log, "smp", 2) != [0, 0]:
        raise Fail("smp's vCPUs did not share CPU 0")
    guest_result(log, "smp", "smp", 26)
    ended_ok(log, "smp")
    return "1 of 2 CPUs, smp on CPU 0"


def t_apfail(tmp):
    log = boot(tmp, "apfail", HELLO_CFG, ["hello"],
               "loglevel=info x86_ap_fail=1")
    need(log, r"^error: x86: CPU 1 \(APIC ID 1\) cannot run guests; parked$",
         "CPU 1's own report that it parked")
    need(log, r"^warning: x86: no more CPUs started after one that may still "
         r"run on slot 1$", "no CPU started after the parked one")
    need(log, r"^x86: 1 of 2 CPUs online$", "'x86: 1 of 2 CPUs online'")
    if cpus_of(log, "hello", 1) != [0]:
        raise Fail("hello did not run on CPU 0")
    guest_result(log, "hello", "hello", 17)
    ended_ok(log, "hello")
    return "CPU 1 parked, hello on CPU 0"


CASES = {"mm": t_mm, "mptable": t_mptable, "cpus": t_cpus,
         "apfail": t_apfail}


def main():
    if not os.path.exists(ELF):
        print("FAIL: smp_x86: %s missing (make TEST=1 ARCH=x86_64)" % ELF)
        return 1
    want = sys.argv[1:] or list(CASES)
    unknown = [n for n in want if n not in CASES]
    if unknown:
        print("FAIL: smp_x86: no case %s (cases: %s)"
              % (", ".join(unknown), ", ".join(CASES)))
        return 1
    ok = True
    with private_dir("smp-x86-") as tmp:
        try:
            for g, p in zip(GUESTS, build_guests(
                    "x86", os.path.join(tmp, "guests"), GUESTS)):
                KERNELS[g] = p
        except Fail as e:
            print("FAIL: smp_x86/build: %s" % e)
            return 1
        for name in want:
            try:
                what = CASES[name](tmp)
                print("PASS: smp_x86/%s (%s)" % (name, what))
            except Fail as e:
                print("FAIL: smp_x86/%s: %s" % (name, e))
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
