#!/usr/bin/env python3
"""Boot test: an unmodified Debian x86-64 Linux kernel (linux-image-amd64,
fetched with `apt-get download` into build/deps/linux-x86/, as the arm64
Linux test fetches its kernel) with a busybox initramfs boots under
Strata in Bochs corei7_skylake_x with 2 physical CPUs (count=2), in a VM of
2 vCPUs (one on each), to its /init, which
prints a marker and powers off through ACPI \\_S5.

One boot; the verdicts all rest on lines of the serial console:

  boot       Linux's first line, the command line, and the e820 map Strata
             gave it through boot_params;
  acpi       Linux read the RSDP, XSDT, FADT, MADT and DSDT, took the
             local APIC and the IOAPIC from the MADT, and found 2 CPUs;
             the DSDT's PCI0 root bridge with its memory window, and its
             COM1, KBD and RTC found by ACPI PnP and bound by their
             drivers;
  smp        the vCPUs were placed on physical CPUs 0 and 1, the second
             was started by INIT/SIPI from real mode and
             Linux brought up 2 CPUs;
  time       the TSC's frequency Linux detects and the one it refines
             against the PM timer agree with the rate Strata states, the
             TSC clocksource, PAT on (the MTRRs as firmware leaves them),
             and local APIC timer interrupts on both CPUs;
  uart       the 8250 PnP driver found COM1 at 0x3f8 on IRQ 4 with a 16550A,
             and its interrupt reached Linux through the IOAPIC (counted
             in /proc/interrupts by /init);
  init       /init ran and printed the marker, no oops, no panic;
  poweroff   Linux powered off through PM1a_CNT with the DSDT's \\_S5
             sleep type and Strata stopped the VM with status 0.

Without Debian's package registry the test is skipped (SKIP line).
STRATA_KEEP=1 keeps the temporary directory with the serial log.
"""
import fcntl
import gzip
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ROOT, X86_ELF as ELF, tail, need, newc, write, check_no_exception,
    private_dir, make_iso, make_bundle, run_bochs, unpack_debian_kernel,
    select_tests)

BOOT_TIMEOUT = 720
DEPS = os.path.join(ROOT, "build", "deps", "linux-x86")
CPUS = 2
# Small on purpose (Bochs time): the console, no reboot on a panic.
CMDLINE = "console=ttyS0 panic=-1 nokaslr"
INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc
/bin/busybox mount -t proc proc /proc
/bin/busybox mkdir -p /sys
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox echo "STRATA-LINUX-$((6 * 7)) on $(/bin/busybox uname -m) \
cpus $(/bin/busybox grep -c ^processor /proc/cpuinfo)"
/bin/busybox grep -E 'ttyS|LOC|timer' /proc/interrupts | \
  /bin/busybox sed 's/^/STRATA-IRQ:/'
# Linux refines its TSC calibration against the PM timer a second after
# boot and then switches to the TSC: wait for it (10 s at most).
cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
for i in 1 2 3 4 5 6 7 8 9 10; do
  [ "$(/bin/busybox cat $cs)" = tsc ] && break
  /bin/busybox sleep 1
done
/bin/busybox echo "STRATA-CLOCKSOURCE: $(/bin/busybox cat $cs)"
/bin/busybox poweroff -f
"""


def linux_deps():
    """Debian's amd64 kernel (a bzImage) and busybox, fetched once into
    build/deps/linux-x86/ under a lock. Returns (bzImage, busybox) or an
    error text."""
    os.makedirs(DEPS, exist_ok=True)
    with open(os.path.join(DEPS, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kernel = os.path.join(DEPS, "vmlinuz")
        busybox = os.path.join(DEPS, "busybox")
        if os.path.exists(kernel) and os.path.exists(busybox):
            return kernel, busybox
        unpacked = os.path.join(DEPS, "pkgs")
        got = unpack_debian_kernel(
            "amd64", "", unpacked,
            "no linux-image-amd64 in apt (apt-get update)")
        if isinstance(got, str):
            return got
        shutil.copy(os.path.join(unpacked, "bin", "busybox"), busybox)
        shutil.copy(got[1], kernel + ".tmp")
        os.rename(kernel + ".tmp", kernel)
        shutil.rmtree(unpacked, ignore_errors=True)
        return kernel, busybox


def make_initramfs(tmp, busybox):
    out = os.path.join(tmp, "initrd.gz")
    with open(busybox, "rb") as f:
        bb = f.read()
    with gzip.open(out, "wb", compresslevel=6) as f:
        f.write(newc([("init", INIT.encode(), 0o100755),
                      ("bin", b"", 0o040755),
                      ("bin/busybox", bb, 0o100755),
                      ("dev", b"", 0o040755),
                      ("proc", b"", 0o040755),
                      ("sys", b"", 0o040755)]))
    return out


L = r"^\[linux\] \[ *[0-9.]+\] "


def c_boot(log):
    need(log, L + r"Linux version \S+-amd64 ", "Linux's first line")
    need(log, L + r"Command line: " + re.escape(CMDLINE) + "$",
         "the command line through boot_params")
    need(log, L + r"BIOS-e820: \[mem 0x0000000000000000-0x000000000009ffff\]"
         r" usable$", "the e820 map (RAM below 640 KiB)")
    need(log, L + r"BIOS-e820: \[mem 0x00000000000e0000-0x00000000000fffff\]"
         r" reserved$", "the e820 map (the ACPI area reserved)")


def c_acpi(log):
    for t in ("RSDP", "XSDT", "FACP", "DSDT", "APIC"):
        need(log, L + r"ACPI: %s 0x[0-9A-F]+ .*STRATA" % t,
             "Linux's line for the ACPI %s" % t)
    need(log, L + r"IOAPIC\[0\]: apic_id 2, version 17, address 0xfec00000,"
         r" GSI 0-23$", "Linux's IOAPIC")
    need(log, L + r"ACPI: INT_SRC_OVR \(bus 0 bus_irq 0 global_irq 2 dfl "
         r"dfl\)$", "the IRQ 0 override")
    need(log, L + r"smpboot: Allowing %d CPUs, 0 hotplug CPUs$" % CPUS,
         "Linux's count of %d CPUs from the MADT" % CPUS)
    need(log, L + r"ACPI: Interpreter enabled$", "the ACPI interpreter on")
    need(log, L + r"ACPI: PM-Timer IO Port: 0x608$", "the PM timer")
    need(log, L + r"ACPI: PCI Root Bridge \[PCI0\] \(domain 0000 \[bus "
         r"00-ff\]\)$", "the DSDT's PCI0 root bridge")
    need(log, L + r"pci_bus 0000:00: root bus resource \[mem "
         r"0x08000000-0xfdffffff window\]$",
         "PCI0's MMIO window from the end of RAM")
    m = need(log, L + r"pnp: PnP ACPI: found (\d+) devices$",
             "Linux's ACPI PnP count")
    if int(m.group(1)) < 3:
        raise Fail("ACPI PnP found %s devices in the DSDT, want COM1, KBD "
                   "and RTC" % m.group(1))
    need(log, L + r"i8042: PNP: PS/2 Controller \[PNP0303:KBD\] at "
         r"0x60,0x64 irq 1$", "the DSDT's 8042 bound by the i8042 driver")
    need(log, L + r"rtc_cmos 00:0\d: registered as rtc0$",
         "the DSDT's RTC bound by rtc_cmos")


def c_smp(log):
    need(log, L + r"smp: Bringing up secondary CPUs \.\.\.$",
         "the start of the AP bring-up")
    need(log, L + r"x86: Booting SMP configuration:$", "the SMP bring-up")
    need(log, L + r".*#1$|" + L + r"\.\.\.\. node +#0, CPUs: +#1",
         "CPU 1 booted")
    # Bochs count=2: each vCPU on its own physical CPU (docs/smp.md).
    need(log, r"^vm linux: vCPUs on CPUs 0,1$",
         "Strata's placement of the two vCPUs on CPUs 0 and 1")
    need(log, r"^vm linux: vCPU 1 runs on CPU 1$",
         "vCPU 1 running on physical CPU 1")
    need(log, r"^vm linux: vCPU 1 started by SIPI at [0-9a-f]{2}00:0000 "
         r"\(real mode\)$", "Strata's line for vCPU 1 started by SIPI")
    need(log, L + r"smp: Brought up 1 node, %d CPUs$" % CPUS,
         "Linux brought up %d CPUs" % CPUS)
    need(log, r"^\[linux\] STRATA-LINUX-42 on x86_64 cpus %d$" % CPUS,
         "/init's count of %d CPUs" % CPUS)


def c_time(log):
    m = need(log, r"^vm linux: ACPI tables at .* from a TSC of (\d+) Hz ",
             "Strata's TSC rate")
    hz = int(m.group(1))
    # Linux measures the TSC against the PIT or the PM timer (tsc.c) and
    # refines it against the PM timer later: each must find the rate the
    # CPU declares, which both timers are derived from.
    for what in (r"Detected (\d+\.\d+) MHz TSC",
                 r"Refined TSC clocksource calibration: (\d+\.\d+) MHz"):
        m = need(log, L + r"tsc: " + what + "$", "Linux's TSC calibration")
        if abs(float(m.group(1)) * 1e6 - hz) > hz / 1000:
            raise Fail("Linux calibrated the TSC at %s MHz, Strata states "
                       "%d Hz" % (m.group(1), hz))
    need(log, L + r"clocksource: Switched to clocksource tsc$",
         "the TSC as clocksource")
    need(log, r"^\[linux\] STRATA-CLOCKSOURCE: tsc$",
         "/init's current clocksource tsc")
    need(log, L + r"x86/PAT: Configuration \[0-7\]: WB  WC  UC- UC  WB  WP"
         r"  UC- WT  $", "PAT set up (the MTRRs on)")
    if re.search(r"MTRRs disabled|unchecked MSR access", log):
        raise Fail("MTRRs disabled or an unchecked MSR access")
    need(log, r"^\[linux\] STRATA-IRQ: *LOC: +[1-9]\d* +[1-9]\d* +",
         "local timer interrupts on both CPUs")


def c_uart(log):
    # The DSDT's COM1 (PNP0501), bound by the 8250's PnP driver.
    need(log, L + r"00:0\d: ttyS0 at I/O 0x3f8 \(irq = 4, base_baud = "
         r"115200\) is a 16550A$", "the 8250 PnP driver's COM1")
    need(log, r"^\[linux\] STRATA-IRQ: *4: +(\d+ +)*[1-9]\d* .*IO-APIC +"
         r"4-edge +ttyS0$", "COM1's interrupts through the IOAPIC")


def c_init(log):
    need(log, L + r"Run /init as init process$", "Linux ran /init")
    need(log, r"^\[linux\] STRATA-LINUX-42 on x86_64 ", "the marker of /init")
    if re.search(r"Kernel panic|Oops|BUG:|Call Trace", log):
        raise Fail("a Linux oops or panic")


def c_off(log):
    need(log, r"^vm linux: ACPI: sleep type 5 \(\\_S5, soft off\) written to "
         r"PM1a_CNT: powered off$", "the \\_S5 power-off")
    need(log, r"^vm linux: ended: powered off \(status 0\)$",
         "'vm linux: ended: powered off (status 0)'")
    check_no_exception(log)


TESTS = [
    ("linux_x86/boot", c_boot),
    ("linux_x86/acpi", c_acpi),
    ("linux_x86/smp", c_smp),
    ("linux_x86/time", c_time),
    ("linux_x86/uart", c_uart),
    ("linux_x86/init", c_init),
    ("linux_x86/poweroff", c_off),
]


def main():
    tests = select_tests(TESTS, ELF)
    if tests is None:
        return 1
    try:
        deps = linux_deps()
    except (OSError, subprocess.SubprocessError) as e:
        deps = "cannot fetch the kernel: %s" % e
    if isinstance(deps, str):
        for name, _ in tests:
            print("SKIP: %s: %s" % (name, deps))
        return 0
    kernel, busybox = deps
    with private_dir("linux-x86-") as tmp:
        try:
            initrd = make_initramfs(tmp, busybox)
            cfg = ("[vm linux]\nkernel = vmlinuz\ninitrd = initrd.gz\n"
                   "memory = 128M\ncpus = %d\ncmdline = %s\n" % (CPUS, CMDLINE))
            # One bundle (docs/console.md): GRUB would unpack a gzipped
            # module itself, and Linux wants the initrd as it is.
            bundle = make_bundle(os.path.join(tmp, "linux.cpio"), cfg,
                                 [kernel, initrd])
            iso = make_iso(tmp, "linux", "loglevel=info",
                           [("linux.cpio", bundle, "linux.cpio")])
            start = time.monotonic()
            status, log = run_bochs(tmp, "linux", iso, megs=512, count=2,
                                    timeout=BOOT_TIMEOUT)
            secs = time.monotonic() - start
        except (Fail, subprocess.TimeoutExpired,
                subprocess.CalledProcessError) as e:
            for name, _ in tests:
                print("FAIL: %s: %s" % (name, e))
            return 1
        write(os.path.join(tmp, "wall.txt"), "%.1f s\n" % secs)
        print("linux_x86: Bochs ran %.0f s%s" % (
            secs, " (timed out)" if status is None else ""), file=sys.stderr)
        failed = 0
        for name, check in tests:
            try:
                check(log)
                print("PASS: %s" % name)
            except Fail as e:
                failed += 1
                print("FAIL: %s: %s (serial: %s)" % (name, e, tail(log, 8)))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
