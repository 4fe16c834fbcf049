#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: the vGICv3 of arm64 VMs as the GIC architecture says.

Boots the test Image (build/test/arm64/strata.bin, `make TEST=1
ARCH=arm64`) under QEMU virt (GICv3) on -cpu max with two physical CPUs
and -cpu cortex-a57 with one, with a bundle of:

- vgic3 (tests/guests/arm64/vgic3.c, 4 vCPUs): priority bytes as wide as
  the virtual CPU interface, more pending interrupts than list registers
  taken highest priority first, ICC_PMR/RPR/BPR1 and preemption of an
  active interrupt, ICC_SGI1R_EL1 with target lists, Aff1, RS and IRM,
  ICC_SGI0R_EL1 / ICC_ASGI1R_EL1 for Group 0 only, ISPENDR0 with the timer
  line and latches, ISACTIVER in the handler, a redistributor put to
  sleep through GICR_WAKER that keeps its interrupts and delivers them on
  wake, interrupts already in a list register that are disabled, lose
  their group, their redistributor or get a new priority (held, or taken
  with it), pended twice while listed (taken once), GICD_IROUTER's RES0
  bits and Interrupt_Routing_Mode 1 with vCPU 0 asleep, pending set for
  vCPU 1 in WFI through GICD_ISPENDR and its GICR_ISPENDR0 (a kick each
  when it runs on another physical CPU), and cleared from an SPI and an
  SGI listed on running vCPU 1 (never taken after the clear);
- its (tests/guests/arm64/its.c, 2 vCPUs): the ITS in the DTB and its
  registers, LPIs through the configuration table and the command queue
  (MAPC, MAPD, MAPTI, MAPI, INT, CLEAR, DISCARD, INV, INVALL, SYNC, MOVI,
  MOVALL of an LPI in vCPU 1's list registers), in priority order, a
  listed LPI disabled by INV, and from GITS_TRANSLATER writes of the vCPU;
- its-bad (the same guest): undefined and out-of-range commands, a queue
  and a configuration table outside RAM (GICR_PROPBASER refused while any
  vCPU has LPIs on), random commands; the VM must go
  on with a working ITS, Strata must say what it ignored and the other VMs
  must not notice;
- hello beside them, which must end well too.

Every verdict rests on the console: vgic3's own check lines (`vgic3:
PASS`, no `FAIL:` line, the counts it prints), `vm NAME: ended: powered
off (status 0)` and Strata's summary. Cases: max, cortex-a57 (default:
both). Prints PASS/FAIL lines; exits 1 if any failed.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as IMAGE, need, private_dir, build_guests, make_bundle,
    run_qemu_arm64)

TIMEOUT = 150           # seconds per QEMU run (a run takes ~5-20 s)
# (case, -cpu, -smp): max on two physical CPUs (vgic3's vCPUs 0 and 1 on
# different ones), cortex-a57 on one.
CPUS = [("max", "max,pauth-impdef=on", 2), ("cortex-a57", "cortex-a57", 1)]
VMS = [
    ("vgic3", "vgic3.elf", "16M", 4, "vgic3"),
    ("its", "its.elf", "16M", 2, "its"),
    ("itsbad", "its.elf", "16M", 2, "its-bad"),
    ("hello", "hello.elf", "16M", 1, "hello beside vgic3"),
]


def boot(tmp, guests, tag, cpu, smp=1, vms=VMS):
    cfg = ""
    files = {}
    for name, elf, mem, cpus, cmdline in vms:
        cfg += (f"[vm {name}]\nkernel = {elf}\nmemory = {mem}\n"
                f"cpus = {cpus}\ncmdline = {cmdline}\n")
        files[elf] = os.path.join(guests, elf)
    cpio = make_bundle(os.path.join(tmp, tag + ".cpio"), cfg,
                       sorted(files.items()))
    return run_qemu_arm64(cpu, ["-smp", str(smp), "-kernel", IMAGE,
                                "-initrd", cpio, "-append", "loglevel=info"],
                          mem="1G", timeout=TIMEOUT)


def ended_ok(run, vm, label=None):
    lines = run.guest(vm)
    bad = [l for l in lines if l.startswith("FAIL")]
    if bad:
        raise Fail(f"{vm} says: " + " / ".join(bad[:6]))
    need(lines, rf"^{label or vm}: PASS$", f"the '{vm}: PASS' line")
    if not re.search(rf"^vm {vm}: ended: powered off \(status 0\)$",
                     run.out, re.M):
        raise Fail(f"no 'vm {vm}: ended: powered off (status 0)' line")
    return lines


def t_vgic3(run, tag):
    lines = ended_ok(run, "vgic3")
    m = need(lines, r"^vgic3: (\d+) of 9 interrupts in priority order, "
             r"(\d+) vtimer irqs, (\d+) FIQs$", "the counts")
    order, vt, fiq = map(int, m.groups())
    # One timer interrupt (the sleeping redistributor's, on wake) and SGI
    # 7 as a Group 0 FIQ on vCPUs 1, 2 (SGI0R), 0, 3 (ASGI1R), 0, 1
    # (SGI1R): six.
    if (order, vt, fiq) != (9, 1, 6):
        raise Fail(f"counts {order}/{vt}/{fiq}, want 9/1/6")
    need(lines, r"^vgic3: ICPENDR took back an SPI and an SGI from running "
         r"vCPU 1 in \d+ rounds each$", "the remote clear line")
    # Pending set for vCPU 1 in WFI: a kick each when it runs on another
    # physical CPU than vCPU 0 (Strata's placement line says where), none
    # when they share one.
    m = need(lines, r"^vgic3: kicks for pending set for vCPU 1: SPI (\d+), "
             r"SGI (\d+)$", "the kick counts")
    spi, sgi = map(int, m.groups())
    on = dict(re.findall(r"^vm vgic3: vCPU (\d) runs on CPU (\d+)$",
                         run.out, re.M))
    if "0" not in on or "1" not in on:
        raise Fail("no placement lines for vgic3's vCPUs 0 and 1")
    if on["0"] != on["1"] and (spi < 1 or sgi < 1):
        raise Fail(f"vCPU 1 on CPU {on['1']}, vCPU 0 on CPU {on['0']}: "
                   f"kicks SPI {spi}, SGI {sgi}, want at least 1 each")
    if on["0"] == on["1"] and (spi, sgi) != (0, 0):
        raise Fail(f"vCPUs 0 and 1 share CPU {on['0']}: kicks SPI {spi}, "
                   f"SGI {sgi}, want none")


def t_its(run, tag):
    lines = ended_ok(run, "its")
    m = need(lines, r"^its: LPIs taken on vCPU 0: (\d+), on vCPU 1: (\d+), "
             r"other (\d+)$", "the LPI counts")
    # its.c takes 10 LPIs on vCPU 0 (three by INT, the one enabled by INV
    # twice, once before it was listed and once after INV disabled it in
    # its list register, the TRANSLATER one, 8192 and 8193 again after INVALL and INV, the
    # MOVALL one, the last after wrapping the queue) and the MOVI one on
    # vCPU 1.
    if tuple(map(int, m.groups())) != (10, 1, 0):
        raise Fail("LPI counts %s/%s/%s, want 10/1/0" % m.groups())
    # What it did wrong on purpose, said by Strata: an unmapped EventID
    # written to TRANSLATER, an INT of a discarded event.
    need(run.out.splitlines(), r"^warning: vm its: its: translation 0x03 ignored: "
         r"EventID 0x9 of DeviceID 0xffff is not mapped$",
         "the unmapped TRANSLATER write")
    need(run.out.splitlines(), r"^warning: vm its: its: command 0x03 ignored: "
         r"EventID 0x0 of DeviceID 0x5 is not mapped$",
         "the INT of a discarded event")


def t_its_bad(run, tag):
    lines = ended_ok(run, "itsbad", "its-bad")
    m = need(lines, r"^its-bad: LPIs taken on vCPU 0: (\d+), on vCPU 1: "
             r"(\d+), other (\d+)$", "the LPI counts")
    if tuple(map(int, m.groups())) != (1, 0, 0):
        raise Fail("LPI counts %s/%s/%s, want 1/0/0" % m.groups())
    said = [l for l in run.out.splitlines()
            if l.startswith("warning: vm itsbad: its: ")]
    if len(said) != 8 or not said[-1].endswith("(no more are said)"):
        raise Fail(f"{len(said)} ITS error lines, want 8 ending with "
                   "'(no more are said)'")
    need(said, r"^warning: vm itsbad: its: command 0x00 ignored: not a command of "
         r"this ITS$", "the undefined command")


def t_others(run, tag):
    ended_ok(run, "hello")
    if not re.search(rf"^Strata: all {len(VMS)} VMs ended: {len(VMS)} ok, "
                     r"0 failed$", run.out, re.M):
        raise Fail("no 'all VMs ended ok' summary")
    if run.status != 0:
        raise Fail(f"QEMU exit status {run.status}, want 0")


def report(name, fn, *args):
    try:
        fn(*args)
        print(f"PASS: {name}", flush=True)
        return True
    except Fail as e:
        print(f"FAIL: {name}: {e}", flush=True)
        return False


def main(argv):
    want = argv or [c[0] for c in CPUS]
    unknown = [w for w in want if w not in [c[0] for c in CPUS]]
    if unknown:
        print(f"FAIL: vgic-arm64: unknown case {unknown[0]} (cases: "
              + ", ".join(c[0] for c in CPUS) + ")")
        return 1
    if not os.path.exists(IMAGE):
        print(f"FAIL: vgic-arm64/build: {IMAGE} is missing "
              "(make TEST=1 ARCH=arm64)")
        return 1
    ok = True
    with private_dir("vgic-arm64-") as tmp:
        guests = os.path.join(tmp, "guests")
        try:
            build_guests("arm64", guests, ["vgic3", "its", "hello"])
        except Fail as e:
            print("FAIL: vgic-arm64/build: %s" % e)
            return 1
        for tag, cpu, smp in CPUS:
            if tag not in want:
                continue
            run = boot(tmp, guests, tag, cpu, smp)
            if run.status is None:
                print(f"FAIL: vgic-arm64/{tag}/boot: timed out after "
                      f"{TIMEOUT} s ({run.tail()})")
                ok = False
                continue
            good = True
            for name, fn in [("vgic3", t_vgic3), ("its", t_its),
                             ("its-hostile", t_its_bad),
                             ("beside", t_others)]:
                good &= report(f"vgic-arm64/{tag}/{name}", fn, run, tag)
            if not good:
                print(f"  ({tag}: {run.secs:.0f} s; last lines: "
                      f"{run.tail(16)})")
            ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
