#!/usr/bin/env python3
"""Boot tests: the x86 test guests (tests/guests/x86/) run under Strata's
test image (build/test/x86_64/strata.elf, `make TEST=1 ARCH=x86_64`) on
Bochs corei7_skylake_x (VMX, EPT, #VE). The guests are built here, into the
run's temporary directory (tests/guests/x86/Makefile O=...), and travel as
multiboot2 modules with a strata.cfg, two boots running at once:

  boot "guests"  six VMs at once: hello (COM1, 16550 probing, CPUID),
                 memtest (all of its RAM), mmio (every decoded form against
                 the test device), zap (stale translations through the
                 counters), mb32 (a 32-bit multiboot v1 ELF32 guest, with
                 MMIO from 32-bit and 16-bit code) and
                 mb32k (the same as a flat binary with the a.out kludge);
  boot "unruly"  zap1g (a 1 GiB VM: 1 GiB blocks zapped, split and
                 detached, counted), ve (`ve = on`: over 10,000 touches of
                 unbacked and zapped memory, no #VE), misbehave (wild
                 addresses, undecodable MMIO, bad hypercalls, forbidden MSRs,
                 then a triple fault) and calm, a well-behaved guest that
                 must finish beside it. Bochs gets 2.25 GiB of RAM here, so
                 that GiB 1, below the BIOS tables at the top, is free.

Every verdict rests on lines on the serial console: each guest's own
result line (`[VM] NAME: RESULT: PASS (N checks)`), the values it printed,
Strata's `vm NAME: ended: ...` lines and its final summary. Set
STRATA_KEEP=1 to keep the temporary directory.
"""
import concurrent.futures
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, X86_ELF as ELF, tail, need, check_status, check_no_exception,
    private_dir, build_guests, make_iso, vm_modules, run_bochs,
    guest_result, ended_ok)

GUESTS = None		# the guests' build directory, inside the temporary one
# Each boot takes about 1.5 minutes with the machine otherwise idle; make test
# runs two boot scripts at once on two cores, next to this script's own two
# Bochs runs, so the limit leaves room for a slowdown of three or more.
BOOT_TIMEOUT = 480

# name: (strata.cfg, Bochs RAM in MiB)
BOOTS = {
    "guests": ("""# six VMs at once
[vm hello]
kernel = hello.elf
memory = 8M
[vm memtest]
kernel = memtest.elf
memory = 16M
[vm mmio]
kernel = mmio.elf
memory = 8M
[vm zap]
kernel = zap.elf
memory = 64M
[vm mb32]
kernel = mb32.elf
initrd = mb32mod.txt
memory = 8M
cmdline = mb32 says hello
[vm mb32k]
kernel = mb32k.bin
memory = 8M
""", 256),
    "unruly": ("""# a 1 GiB VM first (on 1 GiB-aligned host memory), a #VE guest,
# a misbehaving guest and a calm one beside them
[vm zap1g]
kernel = zap1g.elf
memory = 1G
[vm ve]
kernel = ve.elf
memory = 16M
ve = on
[vm misbehave]
kernel = misbehave.elf
memory = 8M
[vm calm]
kernel = hello.elf
memory = 8M
""", 2304),
}


def kernels(cfg):
    return sorted(set(re.findall(r"^kernel = (\S+)$", cfg, re.M)))


# Files the configurations name as initrd, by name.
INITRDS = {"mb32mod.txt": b"strata multiboot module\nsecond line\n"}


def boot(tmp, name):
    cfg, megs = BOOTS[name]
    mods = vm_modules(cfg, [os.path.join(GUESTS, k) for k in kernels(cfg)])
    for f in sorted(set(re.findall(r"^initrd = (\S+)$", cfg, re.M))):
        mods.append((f, INITRDS[f], f))
    iso = make_iso(tmp, name, "loglevel=info", mods)
    return run_bochs(tmp, name, iso, megs=megs, timeout=BOOT_TIMEOUT)


# ---- checks, one function per reported test --------------------------------

def c_hello(log, status):
    need(log, r"^\[hello\] hello: hello from a 64-bit guest, 8 MiB of RAM$",
         "greeting of the 64-bit guest")
    guest_result(log, "hello", "hello", 17)
    ended_ok(log, "hello")


def c_memtest(log, status):
    m = need(log, r"^\[memtest\] memtest: (\d+) MiB of RAM, skipping image "
             r"0x([0-9a-f]+)-0x([0-9a-f]+) and Strata's area "
             r"0x([0-9a-f]+)\+0x([0-9a-f]+)$", "memtest's layout line")
    ram = int(m.group(1)) << 20
    image = int(m.group(3), 16) - int(m.group(2), 16)
    area = int(m.group(5), 16)
    if ram != 16 << 20:
        raise Fail("memtest saw %d MiB, configured 16" % (ram >> 20))
    t = need(log, r"^\[memtest\] memtest: tested (\d+) KiB in 2 passes; "
             r"s2 faults (\d+),", "memtest's tested line")
    if int(t.group(1)) * 1024 != ram - image - area:
        raise Fail("memtest tested %s KiB, expected RAM minus image and "
                   "Strata's area = %d KiB"
                   % (t.group(1), (ram - image - area) // 1024))
    guest_result(log, "memtest", "memtest", 5)
    ended_ok(log, "memtest")


def c_mmio(log, status):
    m = need(log, r"^\[mmio\] mmio: (\d+) scratch accesses checked, (\d+) "
             r"MMIO exits emulated", "mmio's summary line")
    accesses, emulated = int(m.group(1)), int(m.group(2))
    if accesses < 80 or emulated < accesses:
        raise Fail("mmio: %d accesses checked, %d emulated"
                   % (accesses, emulated))
    guest_result(log, "mmio", "mmio", 150)
    ended_ok(log, "mmio")


def c_zap(log, status):
    # what, GPA, size, blocks split; then faults and maps after touching
    for what, gpa, size, splits in [("4K", 0x803000, 0x1000, 1),
                                    ("2M", 0x1000000, 0x200000, 0),
                                    ("3 blocks", 0x1400000, 0x600000, 0),
                                    ("parts of 2 blocks", 0x1b00000,
                                     0x200000, 2),
                                    ("1G", 0, 0x40000000, 0)]:
        # one INVEPT per zap: EPT splits without break-before-make
        need(log, r"^\[zap\] zap: %s: zap of 0x%x\+0x%x splitting %d "
             r"blocks: 1 INVEPTs$" % (re.escape(what), gpa, size, splits),
             "zap %s line with 1 INVEPT" % what)
    for what, faults, m4k, m2m in [("4K", 1, 1, 0), ("2M", 1, 0, 1),
                                   ("3 blocks", 3, 0, 3),
                                   ("parts of 2 blocks", 512, 512, 0),
                                   ("untouched halves", 0, 0, 0)]:
        need(log, r"^\[zap\] zap: %s: %d faults \(4K %d, 2M %d\)$"
             % (re.escape(what), faults, m4k, m2m),
             "zap %s line with %d faults" % (what, faults))
    need(log, r"^\[zap\] zap: 1G: (1[2-9]|[2-9]\d|\d{3,}) faults",
         "zap 1G line with at least 12 faults")
    need(log, r"^\[zap\] zap: wrprotect 16 pages: 1 INVEPTs, 0 write faults "
         r"on reads, 16 on first writes$", "zap's write-protect line")
    ctr = {}
    for line in re.findall(r"^\[zap\] zap: counters: (.*)$", log, re.M):
        ctr.update(kv.split("=", 1) for kv in line.split())
    if len(ctr) != 37:
        raise Fail("zap printed %d of 37 counters" % len(ctr))
    # 5 zaps and a write-protect: 6 INVEPTs; refaults 1 + 1 + 3 + 512 + 12
    if int(ctr["tlbi_vmid"]) < 6 or int(ctr["s2_faults"]) < 529:
        raise Fail("zap counters too low: tlbi_vmid=%s s2_faults=%s"
                   % (ctr["tlbi_vmid"], ctr["s2_faults"]))
    guest_result(log, "zap", "zap", 30)
    ended_ok(log, "zap")


def elf_symbol(path, name):
    out = subprocess.run(["nm", path], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] == name:
            return int(f[0], 16)
    raise Fail("symbol %s not in %s" % (name, path))


def c_mb32(log, status):
    need(log, r"^vm mb32: multiboot kernel at 0x0*100000-", "the multiboot "
         "load line for mb32")
    need(log, r"^\[mb32\] mb32: hello from a 32-bit multiboot guest$",
         "greeting of the 32-bit guest")
    need(log, r"^\[mb32\] mb32: cmdline 'mb32 says hello'$",
         "the cmdline in the multiboot information")
    need(log, r"^\[mb32\] mb32: 1 module$", "mb32's one boot module")
    need(log, r"^\[mb32\] mb32: module 0 'mb32mod.txt' 36 bytes: "
         r"'strata multiboot module'$", "the module's name, size and text")
    need(log, r"^\[mb32\] mb32: memory map of \d+ entries, BIOS area "
         r"reserved, RSDP there$", "mb32's memory map with the ACPI area")
    need(log, r"^\[mb32\] mb32: 16-bit code: MMIO ok$",
         "MMIO from 16-bit code")
    guest_result(log, "mb32", "mb32", 19)
    ended_ok(log, "mb32")


def c_mb32k(log, status):
    # placed by the header: from load_addr up to bss_end_addr
    end = elf_symbol(os.path.join(GUESTS, "mb32k.elf"), "__bss_end")
    need(log, r"^vm mb32k: multiboot kernel at 0x0*100000-0x0*%x\b" % end,
         "the a.out-kludge load line for mb32k (0x100000-0x%x)" % end)
    need(log, r"^\[mb32k\] mb32: hello from a 32-bit multiboot guest$",
         "greeting of the flat 32-bit guest")
    need(log, r"^\[mb32k\] mb32: no modules$",
         "no module flag for a VM without initrd")
    guest_result(log, "mb32k", "mb32", 19)
    ended_ok(log, "mb32k")


def c_six_vms(log, status):
    need(log, r"^Strata: all 6 VMs ended: 6 ok, 0 failed$",
         "'Strata: all 6 VMs ended: 6 ok, 0 failed'")
    check_no_exception(log)
    check_status(status, 0, "bochs")


def c_zap1g(log, status):
    need(log, r"^vm zap1g: 1024 MiB at GPA 0x0 -> PA 0x[0-9a-f]*[048c]0000000,",
         "zap1g's RAM on 1 GiB-aligned host memory")
    # what: faults, maps 4K, 2M, 1G, INVEPTs, detaches
    for what, want in [("1G block", (1, 0, 0, 1, 1, 0)),
                       ("2M of the 1G block", (1, 0, 1, 0, 1, 0)),
                       ("4K of a 2M block", (1, 1, 0, 0, 1, 0)),
                       ("1G over tables", (1, 0, 0, 1, 1, 1))]:
        need(log, r"^\[zap1g\] zap1g: %s: faults %d, maps 4K %d 2M %d 1G %d, "
             r"INVEPT %d, detaches %d$" % ((re.escape(what),) + want),
             "zap1g '%s' line with %s" % (what, want))
    guest_result(log, "zap1g", "zap1g", 14)
    ended_ok(log, "zap1g")


def c_ve(log, status):
    m = need(log, r"^\[ve\] ve: (\d+) touches of unbacked and zapped memory, "
             r"(\d+) #VE; s2 faults (\d+), unclaimed MMIO (\d+)$",
             "ve's summary line")
    touches, ves, faults, unclaimed = (int(x) for x in m.groups())
    if touches < 10000 or ves != 0:
        raise Fail("ve: %d touches, %d #VE" % (touches, ves))
    if faults + unclaimed < touches:
        raise Fail("ve: %d touches but only %d exits" % (touches,
                                                         faults + unclaimed))
    guest_result(log, "ve", "ve", 30)
    ended_ok(log, "ve")


def c_misbehave(log, status):
    guest_result(log, "misbehave", "misbehave", 25)
    need(log, r"^\[misbehave\] misbehave: now a triple fault$",
         "the announced triple fault")
    need(log, r"^vm misbehave: ended: stopped: .*triple fault",
         "'vm misbehave: ended: stopped: ...triple fault...'")
    if re.search(r"^\[misbehave\] FAIL: misbehave: survived", log, re.M):
        raise Fail("the guest ran on after its triple fault")


def c_calm(log, status):
    guest_result(log, "calm", "hello", 17)
    ended_ok(log, "calm")
    need(log, r"^Strata: all 4 VMs ended: 3 ok, 1 failed$",
         "'Strata: all 4 VMs ended: 3 ok, 1 failed'")
    check_no_exception(log)
    check_status(status, 1, "bochs (a VM failed)")


TESTS = [
    ("guests_x86/hello", "guests", c_hello),
    ("guests_x86/memtest", "guests", c_memtest),
    ("guests_x86/mmio", "guests", c_mmio),
    ("guests_x86/zap", "guests", c_zap),
    ("guests_x86/mb32-multiboot-elf32", "guests", c_mb32),
    ("guests_x86/mb32k-multiboot-aout-kludge", "guests", c_mb32k),
    ("guests_x86/six-vms-at-once", "guests", c_six_vms),
    ("guests_x86/zap1g-1g-blocks", "unruly", c_zap1g),
    ("guests_x86/ve-none-delivered", "unruly", c_ve),
    ("guests_x86/misbehave-stopped", "unruly", c_misbehave),
    ("guests_x86/calm-beside-misbehave", "unruly", c_calm),
]


def main():
    if not os.path.exists(ELF):
        for name, _, _ in TESTS:
            print("FAIL: %s: %s missing; run 'make TEST=1 ARCH=x86_64'"
                  % (name, ELF))
        return 1
    global GUESTS
    with private_dir("guests-x86-") as tmp:
        GUESTS = os.path.join(tmp, "guests")
        try:
            build_guests("x86_64", GUESTS)
        except (Fail, subprocess.TimeoutExpired) as e:
            for name, _, _ in TESTS:
                print("FAIL: %s: %s" % (name, e))
            return 1
        runs = {}
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            futs = {b: ex.submit(boot, tmp, b) for b in BOOTS}
            for b, f in futs.items():
                try:
                    runs[b] = f.result()
                except Exception as e:  # a harness error fails its tests
                    runs[b] = e
        failed = 0
        for name, b, check in TESTS:
            run = runs[b]
            if isinstance(run, Exception):
                print("FAIL: %s: boot %s: %r" % (name, b, run))
                failed += 1
                continue
            status, log = run
            try:
                check(log, status)
                print("PASS: %s" % name)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (serial: %s)" % (name, e, tail(log, 8)))
            except Exception as e:  # a harness bug must still fail
                failed += 1
                print("FAIL: %s: harness error %r" % (name, e))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
