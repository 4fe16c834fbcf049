#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: Strata on a GICv2 host (QEMU virt, gic-version=2).

Boots the test Image (build/test/arm64/strata.bin, `make TEST=1
ARCH=arm64`) under `-M virt,virtualization=on,gic-version=2` with two
physical CPUs, on -cpu max and on -cpu cortex-a57, with a bundle of VMs:

- gicv2 (tests/guests/arm64/gicv2.c, 3 vCPUs): the guest DTB describes an
  arm,cortex-a15-gic, and the vGICv2 behaves as a GICv2: ID and type
  registers, priority bits, ITARGETSR, virtual and physical timer PPIs and
  their levels in ISPENDR0, SGIs through GICD_SGIR with every target-list
  filter and the requester's CPUID, GICD_[SC]PENDSGIR, more pending SGIs
  than list registers taken in priority order, ISACTIVER0, a software-
  pended SPI routed by ITARGETSR;
- the guests of guests_arm64.py that need no GICv3 of their own: hello,
  smp (4 vCPUs through PSCI), misbehave (spinning with interrupts masked,
  so only the host's GICv2 slice timer takes the CPU back) and two
  tickers, whose lines must interleave (VMs time-sliced by that timer).

A third boot hands Strata a DTB whose GICv2 node lacks GICH and GICV (the
QEMU DTB dumped and edited with dtc): Strata must say that the GIC has no
virtualization extensions and run no guest.

Every verdict rests on the console: Strata's GICv2 lines, the guests' own
check lines (`NAME: PASS`, and the counts gicv2 prints), `vm NAME: ended:
powered off (status 0)` and the summary. Prints PASS/FAIL lines; exits 1
if any failed.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as IMAGE, need, private_dir, build_guests, make_bundle,
    run_qemu_arm64)

MACHINE = "virt,virtualization=on,gic-version=2"
TIMEOUT = 120           # seconds per QEMU run (a run takes ~2-10 s)
CPUS = [("max", "max,pauth-impdef=on"), ("cortex-a57", "cortex-a57")]
VMS = [
    ("gicv2", "gicv2.elf", "16M", 3, "gicv2"),
    ("hello", "hello.elf", "16M", 1, "hello on a GICv2 host"),
    ("smp", "smp.elf", "16M", 4, "smp"),
    ("misbehave", "misbehave.elf", "16M", 1, "misbehave"),
    ("ticka", "ticker.elf", "16M", 1, "A"),
    ("tickb", "ticker.elf", "16M", 1, "B"),
]


def boot(tmp, guests, tag, cpu, extra=(), vms=VMS):
    cfg = ""
    files = {}
    for name, elf, mem, cpus, cmdline in vms:
        cfg += (f"[vm {name}]\nkernel = {elf}\nmemory = {mem}\n"
                f"cpus = {cpus}\ncmdline = {cmdline}\n")
        files[elf] = os.path.join(guests, elf)
    cpio = make_bundle(os.path.join(tmp, tag + ".cpio"), cfg,
                       sorted(files.items()))
    return run_qemu_arm64(cpu, ["-smp", "2", "-kernel", IMAGE, "-initrd",
                                cpio, "-append", "loglevel=info"] +
                          list(extra), mem="1G", timeout=TIMEOUT,
                          machine=MACHINE)


def ended_ok(run, vm, label=None):
    lines = run.guest(vm)
    bad = [l for l in lines if l.startswith("FAIL")]
    if bad:
        raise Fail(f"{vm} says: " + " / ".join(bad[:4]))
    need(lines, rf"^{label or vm}( \w+)?: PASS$", f"the '{vm}: PASS' line")
    if not re.search(rf"^vm {vm}: ended: powered off \(status 0\)$",
                     run.out, re.M):
        raise Fail(f"no 'vm {vm}: ended: powered off (status 0)' line")
    return lines


def t_host(run, cpu):
    need(run.out.splitlines(),
         r"^arm64: GIC version 2 \(distributor 0x8000000, CPU interface "
         r"0x8010000, virtualization extensions\)$", "the GICv2 report")
    need(run.out.splitlines(),
         r"^arm64: GICv2 CPU interface 0x8010000, hypervisor interface "
         r"0x8030000, virtual CPU interface 0x8040000, maintenance PPI 25, "
         r"EL2 timer PPI 26 at \d+ Hz$", "the GICv2 set-up line")
    need(run.out.splitlines(), r"^arm64: 2 of 2 CPUs online$",
         "both CPUs online")
    # misbehave's wild accesses are warned about; Strata's own GIC must not
    m = re.search(r"^.*(unexpected physical interrupt|^warning: (arm64|boot):"
                  r").*$", run.out, re.M)
    if m:
        raise Fail("a warning: " + m.group(0))


def t_gicv2(run, cpu):
    lines = ended_ok(run, "gicv2")
    m = need(lines, r"^gicv2: vtimer irqs (\d+), ptimer irqs (\d+), SGIs "
             r"to vCPU 0 (\d+), SPI irqs (\d+), spurious (\d+)$",
             "the interrupt counts")
    vt, pt, sgi, spi, _ = map(int, m.groups())
    # gicv2.c takes 7 virtual timer interrupts (6 rounds and the unmasked
    # one), 2 physical ones, 12 SGIs on vCPU 0 (SGIs 3, 4, 5, 6 and the
    # eight pended at once) and the SPI twice (on vCPU 0, then on vCPU 1
    # in the round of check_remote_clear() that does not clear it).
    if (vt, pt, sgi, spi) != (7, 2, 12, 2):
        raise Fail(f"counts {vt}/{pt}/{sgi}/{spi}, want 7/2/12/2")
    need(lines, r"^gicv2: ICPENDR1 took back SPI 40 from running vCPU 1 "
         r"in 24 rounds$", "the remote ICPENDR1 line")
    cpus = {}
    for m in re.finditer(r"^vm gicv2: vCPU (\d+) runs on CPU (\d+)$",
                         run.out, re.M):
        cpus.setdefault(int(m.group(1)), int(m.group(2)))
    if 0 not in cpus or 1 not in cpus or cpus[0] == cpus[1]:
        raise Fail(f"gicv2's vCPUs 0 and 1 on CPUs {cpus}, want two")


def t_others(run, cpu):
    ended_ok(run, "hello")
    need(run.guest("hello"), r"^hello: bootargs 'hello on a GICv2 host'$",
         "hello's bootargs")
    ended_ok(run, "smp")
    need(run.guest("smp"), r"^smp: vCPUs 1-3 came up with their own MPIDR$",
         "the secondaries started by CPU_ON")
    ended_ok(run, "misbehave")
    m = need(run.guest("misbehave"), r"^misbehave: spun 300 ms with "
             r"interrupts masked \((\d+) exits meanwhile\)$", "the spin")
    if int(m.group(1)) < 1:
        raise Fail("a guest spinning with interrupts masked was never "
                   "preempted: no GICv2 slice timer")
    for vm in ("ticka", "tickb"):
        ended_ok(run, vm, "ticker")
    order = [l[1:6] for l in run.out.splitlines()
             if re.match(r"^\[tick[ab]\] ticker [AB]: tick ", l)]
    if len(order) != 50:
        raise Fail(f"{len(order)} ticks of 50")
    if sum(1 for a, b in zip(order, order[1:]) if a != b) < 2:
        raise Fail("the tickers did not interleave: no time slicing")
    if not re.search(rf"^Strata: all {len(VMS)} VMs ended: {len(VMS)} ok, "
                     r"0 failed$", run.out, re.M):
        raise Fail("no 'all VMs ended ok' summary")
    if run.status != 0:
        raise Fail(f"QEMU exit status {run.status}, want 0")


def no_virt_dtb(tmp):
    """QEMU's own GICv2 DTB with the GIC's reg cut to GICD and GICC."""
    dtb = os.path.join(tmp, "virt.dtb")
    subprocess.run(["qemu-system-aarch64", "-M", MACHINE + ",dumpdtb=" + dtb,
                    "-cpu", "max", "-smp", "2", "-m", "1G", "-nographic"],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", dtb],
                         check=True, stdout=subprocess.PIPE, text=True,
                         timeout=60).stdout
    cut, n = re.subn(r"(intc@8000000 \{[^}]*?reg = <0x00 0x8000000 0x00 "
                     r"0x10000 0x00 0x8010000 0x00 0x10000)[^>]*>",
                     r"\1>", dts, count=1)
    if n != 1:
        raise Fail("the GIC node of QEMU's DTB has an unexpected form")
    out = os.path.join(tmp, "novirt.dtb")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, "-"],
                   input=cut, check=True, text=True, timeout=60)
    return out


def t_no_virt(run):
    need(run.out.splitlines(),
         r"^arm64: GIC version 2 \(distributor 0x8000000, CPU interface "
         r"0x8010000, no virtualization extensions\)$",
         "the GICv2 report without virtualization extensions")
    need(run.out.splitlines(),
         r"^error: arm64: the GICv2 has no virtualization extensions \(no "
         r"GICH/GICV in the DTB\): guests cannot get a GIC$",
         "the refusal")
    if re.search(r"^vm \w+: ended: powered off", run.out, re.M) or \
            re.search(r"^Strata: virtualization ready$", run.out, re.M):
        raise Fail("guests ran without the virtualization extensions")
    if run.status in (0, None):
        raise Fail(f"exit status {run.status}, want a failure status")


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
        print(f"FAIL: gicv2-arm64/build: {IMAGE} is missing "
              "(make TEST=1 ARCH=arm64)")
        return 1
    ok = True
    with private_dir("gicv2-arm64-") as tmp:
        guests = os.path.join(tmp, "guests")
        try:
            build_guests("arm64", guests, ["gicv2", "hello", "smp",
                                           "misbehave", "ticker"])
        except Fail as e:
            print("FAIL: gicv2-arm64/build: %s" % e)
            return 1
        for tag, cpu in CPUS:
            run = boot(tmp, guests, tag, cpu)
            if run.status is None:
                print(f"FAIL: gicv2-arm64/{tag}/boot: timed out after "
                      f"{TIMEOUT} s ({run.tail()})")
                ok = False
                continue
            good = True
            for name, fn in [("host-gicv2", t_host), ("vgicv2", t_gicv2),
                             ("guests", t_others)]:
                good &= report(f"gicv2-arm64/{tag}/{name}", fn, run, tag)
            if not good:
                print(f"  ({tag}: {run.secs:.0f} s; last lines: "
                      f"{run.tail()})")
            ok &= good
        if not shutil.which("dtc"):
            print("FAIL: gicv2-arm64/no-virtualization: dtc missing "
                  "(device-tree-compiler)")
            return 1
        try:
            dtb = no_virt_dtb(tmp)
        except (Fail, subprocess.SubprocessError) as e:
            print(f"FAIL: gicv2-arm64/no-virtualization: {e}")
            return 1
        run = boot(tmp, guests, "novirt", CPUS[0][1], ["-dtb", dtb],
                   vms=VMS[1:2])
        ok &= report("gicv2-arm64/no-virtualization-refused", t_no_virt,
                     run)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
