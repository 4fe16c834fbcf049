#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: SVE for arm64 guests (arch/arm64/sve.c).

The sve guest (tests/guests/arm64/sve.c) runs with two vCPUs on QEMU's one
physical CPU (-smp 1), so that Strata must switch their SVE state:

- `-cpu max` has SVE: the guest must see it in ID_AA64PFR0_EL1, get a
  vector length capped at 512 bits with ZCR_EL1.LEN = 15 and 256 bits with
  LEN = 1, and each vCPU must find its own Z, P and FFR registers after the
  other one ran with its own pattern loaded;
- `-cpu cortex-a57` has none: the guest must see none (and no SVE feature
  register).

Every verdict rests on the guest's own lines (`sve: PASS`, the lengths it
read, whether each vCPU kept its registers), Strata's SVE line and its
`vm sve: ended` line. Prints one PASS/FAIL line per case; exits 1 if any
failed.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as IMAGE, need, private_dir, build_guests, make_bundle,
    run_qemu_arm64)

TIMEOUT = 120


def boot(tmp, guests, tag, cpu):
    cfg = ("[vm sve]\nkernel = sve.elf\nmemory = 16M\ncpus = 2\n"
           "cmdline = sve\n")
    cpio = make_bundle(os.path.join(tmp, tag + ".cpio"), cfg,
                       [("sve.elf", os.path.join(guests, "sve.elf"))])
    return run_qemu_arm64(cpu, ["-kernel", IMAGE, "-initrd", cpio,
                                "-append", "loglevel=info"], mem="512M",
                          timeout=TIMEOUT)


def ended_ok(run):
    if run.status is None:
        raise Fail(f"timed out ({run.tail()})")
    lines = run.guest("sve")
    bad = [l for l in lines if l.startswith("FAIL")]
    if bad:
        raise Fail("sve says: " + " / ".join(bad[:4]))
    need(lines, r"^sve: PASS$", "the 'sve: PASS' line")
    if not re.search(r"^vm sve: ended: powered off \(status 0\)$", run.out,
                     re.M):
        raise Fail("no 'vm sve: ended: powered off (status 0)' line")
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


def main():
    if not os.path.exists(IMAGE):
        print(f"FAIL: sve-arm64/build: {IMAGE} is missing "
              "(make TEST=1 ARCH=arm64)")
        return 1
    ok = True
    with private_dir("sve-arm64-") as tmp:
        guests = os.path.join(tmp, "guests")
        try:
            build_guests("arm64", guests, ["sve"])
        except Exception as e:
            print("FAIL: sve-arm64/build: %s" % e)
            return 1
        for tag, cpu, fn in (("max", "max,pauth-impdef=on", t_max),
                             ("cortex-a57", "cortex-a57", t_none)):
            run = boot(tmp, guests, tag, cpu)
            try:
                fn(run)
                print(f"PASS: sve-arm64/{tag}", flush=True)
            except Fail as e:
                print(f"FAIL: sve-arm64/{tag}: {e}", flush=True)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
