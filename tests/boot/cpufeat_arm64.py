#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: SVE and MTE for arm64 guests (arch/arm64/sve.c, mte.c).

The sve and mte guests (tests/guests/arm64/) run with two vCPUs on QEMU's
one physical CPU (-smp 1), so that Strata must switch their state:

- sve on `-cpu max` (SVE): the guest must see it in ID_AA64PFR0_EL1, get a
  vector length capped at 512 bits with ZCR_EL1.LEN = 15 and 256 bits with
  LEN = 1, and each vCPU must find its own Z, P and FFR registers after the
  other one ran with its own pattern loaded;
- sve on `-cpu cortex-a57` (none): the guest must see none (and no SVE
  feature register);
- mte on `-M virt,mte=on -cpu max` (tag storage): tags set and read, a
  synchronous tag-check fault at the guest's EL1, each vCPU's GCR_EL1,
  RGSR_EL1, TFSR_EL1, TFSRE0_EL1 kept while the other ran, and tags the
  guest set gone after a VM reset (Strata clears them with the RAM);
- mte on plain `-cpu max` (no tag storage): no MTE shown.

Every verdict rests on the guests' own lines (`sve: PASS`, what they read,
whether each vCPU kept its registers), Strata's SVE/MTE lines and its
`vm NAME: ended` lines. Prints one PASS/FAIL line per case; exits 1 if any
failed.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as IMAGE, ARM_MACHINE, need, private_dir, build_guests,
    make_bundle, run_qemu_arm64)

TIMEOUT = 120


def boot(tmp, guests, guest, tag, cpu, machine=ARM_MACHINE):
    cfg = (f"[vm {guest}]\nkernel = {guest}.elf\nmemory = 16M\ncpus = 2\n"
           f"cmdline = {guest}\n")
    cpio = make_bundle(os.path.join(tmp, tag + ".cpio"), cfg,
                       [(guest + ".elf", os.path.join(guests, guest + ".elf"))])
    return run_qemu_arm64(cpu, ["-kernel", IMAGE, "-initrd", cpio,
                                "-append", "loglevel=info"], mem="512M",
                          timeout=TIMEOUT, machine=machine)


def ended_ok(run, guest="sve"):
    if run.status is None:
        raise Fail(f"timed out ({run.tail()})")
    lines = run.guest(guest)
    bad = [l for l in lines if l.startswith("FAIL")]
    if bad:
        raise Fail(f"{guest} says: " + " / ".join(bad[:4]))
    need(lines, rf"^{guest}: PASS$", f"the '{guest}: PASS' line")
    if not re.search(rf"^vm {guest}: ended: powered off \(status 0\)$",
                     run.out, re.M):
        raise Fail(f"no 'vm {guest}: ended: powered off (status 0)' line")
    if run.status != 0:
        raise Fail(f"QEMU exit status {run.status}, want 0")
    return lines


def t_max(run):
    lines = ended_ok(run)
    if not re.search(r"arm64: SVE for guests, vector length up to 512 bits",
                     run.out):
        raise Fail("Strata did not say it gives guests SVE up to 512 bits")
    need(lines, r"^sve: present, vector length 512 bits "
         r"\(ZCR_EL1\.LEN 1: 256\)$", "the vector lengths")
    need(lines, r"^sve: vCPU 0 kept its registers while vCPU 1 ran: yes; "
         r"vCPU 1: yes$", "both vCPUs' registers kept")


def t_none(run):
    lines = ended_ok(run)
    need(lines, r"^sve: not present$", "'sve: not present'")
    if "SVE for guests" in run.out:
        raise Fail("Strata offers SVE on a CPU without it")


def t_mte(run):
    lines = ended_ok(run, "mte")
    if "arm64: MTE for guests" not in run.out:
        raise Fail("Strata did not say it gives guests MTE")
    need(lines, r"^mte: present \(ID_AA64PFR1_EL1\.MTE [23]\)$",
         "MTE in the ID register")
    need(lines, r"^mte: tags set and checked: yes$", "tags and a tag fault")
    need(lines, r"^mte: vCPU 0 kept its MTE registers while vCPU 1 ran: yes; "
         r"vCPU 1: yes$", "both vCPUs' MTE registers kept")
    need(lines, r"^mte: tagged 7 and 11 \(7, 11\), resetting$",
         "the tags set before the reset")
    need(lines, r"^mte: after the reset, tags 0 and 0$",
         "the tags cleared by the reset")


def t_mte_none(run):
    lines = ended_ok(run, "mte")
    need(lines, r"^mte: not present \(ID_AA64PFR1_EL1\.MTE 0\)$",
         "'mte: not present'")
    if "MTE for guests" in run.out:
        raise Fail("Strata offers MTE without tag storage")


def main():
    if not os.path.exists(IMAGE):
        print(f"FAIL: sve-arm64/build: {IMAGE} is missing "
              "(make TEST=1 ARCH=arm64)")
        return 1
    ok = True
    with private_dir("sve-arm64-") as tmp:
        guests = os.path.join(tmp, "guests")
        try:
            build_guests("arm64", guests, ["sve", "mte"])
        except Exception as e:
            print("FAIL: sve-arm64/build: %s" % e)
            return 1
        max_cpu = "max,pauth-impdef=on"
        for guest, tag, cpu, machine, fn in (
                ("sve", "max", max_cpu, ARM_MACHINE, t_max),
                ("sve", "cortex-a57", "cortex-a57", ARM_MACHINE, t_none),
                ("mte", "mte-on", max_cpu, ARM_MACHINE + ",mte=on", t_mte),
                ("mte", "no-tag-memory", max_cpu, ARM_MACHINE, t_mte_none)):
            run = boot(tmp, guests, guest, f"{guest}-{tag}", cpu, machine)
            try:
                fn(run)
                print(f"PASS: {guest}-arm64/{tag}", flush=True)
            except Fail as e:
                print(f"FAIL: {guest}-arm64/{tag}: {e}", flush=True)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
