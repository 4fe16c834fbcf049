#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot test: UEFI firmware (edk2 AAVMF, Debian's qemu-efi-aarch64) starts
the real arm64 Image as an EFI application (docs/arm64-efi.md).

  arm64/efi-loadfile2   AAVMF at EL2 with a DTB (acpi=off); QEMU's -kernel,
                        -initrd and -append go through the firmware, which
                        starts the Image with the command line as its
                        LoadOptions and the bundle behind the initrd
                        LoadFile2 protocol. The stub's lines on ConOut, then
                        Strata's: UEFI boot, the DTB from the configuration
                        table, the command line, the bundle, RAM from the
                        EFI memory map; the hello guest runs to its PASS and
                        Strata stops with status 0. Two CPUs: the second
                        comes up by PSCI from the firmware's DTB. The test
                        word arm64_efi_stale_key=2 makes the stub pass two
                        wrong map keys: edk2 refuses them
                        (EFI_INVALID_PARAMETER) and the third exit, with a
                        fresh map, works.
  arm64/efi-shell-file  the Image and the bundle on a FAT drive, started by
                        the UEFI shell from startup.nsh with initrd=\\FILE
                        (read through the Simple File System protocol); the
                        shell's argv[0] and initrd= are not in Strata's
                        command line; the shell's own `memmap` printed just
                        before is the independent witness: none of its
                        runtime-services, ACPI, reserved or MMIO ranges may
                        be RAM in Strata's memory map, and Strata's RAM must
                        lie in ranges the firmware calls Available or
                        boot-services/loader memory.
  arm64/efi-uboot       U-Boot's UEFI (`bootefi`), at EL2: the Image loaded
                        from a FAT drive on virtio, bootargs as the
                        LoadOptions with initrd=/FILE read through U-Boot's
                        Simple File System, U-Boot's DTB; the guest's PASS.
  arm64/efi-acpi        AAVMF with ACPI on and -smp 2 (edk2 then hands over
                        no DTB): the stub finds the RSDP, Strata takes RAM
                        from the EFI memory map, the CPUs and the GICv3
                        from the MADT, its console from the SPCR, starts
                        both CPUs and runs the guest to its PASS.
  arm64/efi-el1         AAVMF without virtualization=on runs at EL1 and
                        starts the Image there: the refusal on the
                        firmware's console, no Strata start, and the shell
                        goes on to its next command (`reset -s`).

Each run is bounded; the verdict comes only from the console lines (the
test build ends with semihosting SYS_EXIT, so QEMU's status is Strata's
stop status; in efi-el1 the shell powers off).
"""
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    Fail, ARM_IMAGE as IMAGE, UBOOT, private_dir, build_guests, make_bundle,
    run_qemu_arm64, write, need, need_line, check_status, with_tail)

AAVMF_CODE = "/usr/share/AAVMF/AAVMF_CODE.fd"
AAVMF_VARS = "/usr/share/AAVMF/AAVMF_VARS.fd"
TIMEOUT = 180           # edk2 under TCG takes 10-20 s to the shell
CPU = "max,pauth-impdef=on"
CFG = "[vm demo]\nkernel = hello.elf\nmemory = 64M\ncmdline = efi demo\n"
CMDLINE = "loglevel=info"

STUB_LINE = (r"^Strata EFI stub: firmware '%s' revision 0x[0-9a-f]+, "
             r"UEFI \d+\.\d+, EL2, image loaded at 0x([0-9a-f]+)$")
EDK2, UBOOT_VENDOR = "EDK II", "Das U-Boot"
RAM_LINE = r"^  0x([0-9a-f]{16})-0x([0-9a-f]{16}) +(\d+) KiB usable$"
# The UEFI shell's memmap: type, start-end, pages, attributes.
MEMMAP_LINE = (r"^(\S+) +([0-9A-F]{16})-([0-9A-F]{16}) +[0-9A-F]{16} "
               r"+[0-9A-F]{16}$")
# memmap types the page allocator may use after ExitBootServices.
USABLE_TYPES = {"Available", "LoaderCode", "LoaderData", "BS_Code",
                "BS_Data"}


def machine(virt=True, acpi=False):
    return "virt,virtualization=%s,gic-version=3%s" % (
        "on" if virt else "off", "" if acpi else ",acpi=off")


def firmware(tmp):
    """The pflash pair: AAVMF's code read-only and a private copy of its
    variable store."""
    for f in (AAVMF_CODE, AAVMF_VARS):
        if not os.path.exists(f):
            raise Fail("%s is missing (make deps installs "
                       "qemu-efi-aarch64)" % f)
    vars_fd = os.path.join(tmp, "vars-%d.fd" % len(os.listdir(tmp)))
    shutil.copy(AAVMF_VARS, vars_fd)
    return ["-drive", "if=pflash,format=raw,readonly=on,file=" + AAVMF_CODE,
            "-drive", "if=pflash,format=raw,file=" + vars_fd, "-nic", "none"]


def fat_drive(tmp, name, script, bundle=None):
    """A FAT directory with the Image as strata.efi, the bundle and a
    startup.nsh of @script lines; returns QEMU's arguments for it."""
    d = os.path.join(tmp, name)
    os.makedirs(d)
    shutil.copy(IMAGE, os.path.join(d, "strata.efi"))
    if bundle:
        shutil.copy(bundle, os.path.join(d, "bundle.cpio"))
    write(os.path.join(d, "startup.nsh"), "\r\n".join(script) + "\r\n")
    return ["-drive", "file=fat:rw:%s,format=raw,media=disk" % d]


def clean(out):
    """The console without the firmware's escape sequences."""
    return re.sub(r"\x1b\[[0-9;=?]*[A-Za-z]", "", out)


def check_strata_run(out, bundle_size, source_line, vendor=EDK2,
                     cmdline=CMDLINE, attempts=1):
    """The lines every good UEFI boot to the guest's end must show."""
    need(out, STUB_LINE % vendor, "EFI stub banner on ConOut")
    need(out, r"^efi: started by UEFI firmware '%s' revision 0x[0-9a-f]+, "
         r"system table at 0x[0-9a-f]+, image loaded at 0x[0-9a-f]+$"
         % vendor, "Strata's UEFI line")
    need_line(out, "Strata: command line '%s'" % cmdline)
    dtb = need(out, r"^Strata: device tree at 0x([0-9a-f]+) \((\d+) bytes\)$",
               "stub's DTB line").group(1)
    need(out, r"^Strata: exiting boot services; the image runs at "
         r"0x[0-9a-f]*[02468ace]00000$", "2 MiB-aligned image line")
    need(out, r"^arm64: EL2, image at 0x[0-9a-f]+ \(linked at 0x40200000\), "
         r"DTB at 0x%s$" % dtb, "Strata's EL2 line with the stub's DTB")
    need_line(out, "efi: device tree from the EFI configuration table at "
              "0x%s" % dtb)
    need_line(out, "efi: command line from LoadOptions: '%s'" % cmdline)
    need(out, source_line % bundle_size, "bundle line")
    n = int(need(out, r"^efi: memory map: (\d+) descriptors of \d+ bytes "
                 r"\(version 1\), boot services exited after %d attempts?$"
                 % attempts, "EFI memory map line (%d ExitBootServices "
                 "calls)" % attempts).group(1))
    if n < 4:
        raise Fail("only %d EFI memory map descriptors" % n)
    need(out, r"^efi: kept out of the page allocator: runtime services, "
         r"\d+ descriptors?, \d+ KiB$", "runtime services kept out")
    need(out, r"^Strata \S+ \(arm64\)$", "Strata banner")
    need_line(out, "boot: uefi")
    need_line(out, "command line: '%s'" % cmdline)
    need(out, r"^  module 0: 0x[0-9a-f]+ %d bytes 'initrd'$" % bundle_size,
         "the bundle as module 0")
    need_line(out, "[demo] hello: bootargs 'efi demo'")
    need_line(out, "[demo] hello: PASS")
    need_line(out, "vm demo: ended: powered off (status 0)")
    need_line(out, "Strata: all 1 VMs ended: 1 ok, 0 failed")
    need_line(out, "Strata: stopped (status 0)")
    ram = [(int(a, 16), int(b, 16)) for a, b, _ in
           re.findall(RAM_LINE, out, re.M)]
    if not ram:
        raise Fail("no usable RAM lines")
    return ram


def test_loadfile2(tmp, bundle):
    # Two stale map keys: the firmware refuses two ExitBootServices calls.
    cmdline = CMDLINE + " arm64_efi_stale_key=2"
    r = run_qemu_arm64(CPU, firmware(tmp) + [
        "-smp", "2", "-kernel", IMAGE, "-initrd", bundle, "-append",
        cmdline], timeout=TIMEOUT, machine=machine())
    out = clean(r.out)
    with with_tail(out):
        check_status(r.status, 0, "QEMU")
        need_line(out, "Strata: test: the first 2 ExitBootServices calls "
                  "get a stale map key")
        check_strata_run(out, os.path.getsize(bundle),
                         r"^efi: boot bundle from the initrd LoadFile2 "
                         r"protocol: %d bytes at 0x[0-9a-f]+$",
                         cmdline=cmdline, attempts=3)
        need_line(out, "arm64: 2 of 2 CPUs online")


def uboot_driver(command):
    """Stop U-Boot's autoboot, then type @command at its prompt."""
    state = {"step": 0}

    def feed(text):
        if state["step"] == 0 and ("autoboot" in text or "=>" in text):
            state["step"] = 1
            return b" "
        if state["step"] == 1 and text.rstrip().endswith("=>"):
            state["step"] = 2
            return (command + "\n").encode()
        return None
    return feed


def test_uboot(tmp, bundle):
    if not os.path.exists(UBOOT):
        raise Fail("%s is missing (u-boot-qemu)" % UBOOT)
    d = os.path.join(tmp, "fat-uboot")
    os.makedirs(d)
    shutil.copy(IMAGE, os.path.join(d, "strata.efi"))
    shutil.copy(bundle, os.path.join(d, "bundle.cpio"))
    r = run_qemu_arm64(CPU, [
        "-bios", UBOOT, "-nic", "none",
        "-drive", "file=fat:rw:%s,format=raw,if=none,id=d0" % d,
        "-device", "virtio-blk-device,drive=d0"], timeout=TIMEOUT,
        on_output=uboot_driver(
            "virtio scan; load virtio 0:1 ${kernel_addr_r} strata.efi; "
            "setenv bootargs 'initrd=/bundle.cpio %s'; "
            "bootefi ${kernel_addr_r} ${fdtcontroladdr}" % CMDLINE))
    out = clean(r.out)
    with with_tail(out):
        check_status(r.status, 0, "QEMU")
        check_strata_run(out, os.path.getsize(bundle),
                         r"^efi: boot bundle from the file named by "
                         r"initrd= /bundle\.cpio: %d bytes at 0x[0-9a-f]+$",
                         UBOOT_VENDOR)


def overlaps(a, b):
    return a[0] <= b[1] and b[0] <= a[1]


def test_shell_file(tmp, bundle):
    drive = fat_drive(tmp, "fat-file", [
        "fs0:", "memmap",
        "strata.efi initrd=\\bundle.cpio " + CMDLINE, "reset -s"], bundle)
    r = run_qemu_arm64(CPU, firmware(tmp) + drive, timeout=TIMEOUT,
                       machine=machine())
    out = clean(r.out)
    with with_tail(out):
        check_status(r.status, 0, "QEMU")
        ram = check_strata_run(out, os.path.getsize(bundle),
                               r"^efi: boot bundle from the file named by "
                               r"initrd= \\bundle\.cpio: %d bytes at "
                               r"0x[0-9a-f]+$")
        need_line(out, "Strata: boot bundle from file \\bundle.cpio: %d "
                  "bytes at %s" % (os.path.getsize(bundle), need(
                      out, r"^efi: boot bundle from .*bytes at (0x[0-9a-f]+)$",
                      "bundle address").group(1)))
        fw = [(t, int(a, 16), int(b, 16)) for t, a, b in
              re.findall(MEMMAP_LINE, out, re.M)]
        kept = [m for m in fw if m[0] not in USABLE_TYPES]
        if len(fw) < 4 or not any(t.startswith("RT_") for t, _, _ in kept):
            raise Fail("no shell memmap with runtime-services ranges "
                       "(%d lines)" % len(fw))
        for t, a, b in kept:
            for r0, r1 in ram:
                if overlaps((a, b), (r0, r1)):
                    raise Fail("Strata's RAM 0x%x-0x%x overlaps the "
                               "firmware's %s 0x%x-0x%x" % (r0, r1, t, a, b))
        usable = [(a, b) for t, a, b in fw if t in USABLE_TYPES]
        for r0, r1 in ram:
            covered = sum(min(b, r1) - max(a, r0) + 1 for a, b in usable
                          if overlaps((a, b), (r0, r1)))
            if covered != r1 - r0 + 1:
                raise Fail("Strata's RAM 0x%x-0x%x is not all usable in "
                           "the firmware's map" % (r0, r1))


def test_acpi(tmp, bundle):
    r = run_qemu_arm64(CPU, firmware(tmp) + [
        "-smp", "2", "-kernel", IMAGE, "-initrd", bundle, "-append",
        CMDLINE], timeout=TIMEOUT, machine=machine(acpi=True))
    out = clean(r.out)
    with with_tail(out):
        check_status(r.status, 0, "QEMU")
        need(out, STUB_LINE % EDK2, "EFI stub banner on ConOut")
        rsdp = need(out, r"^Strata: ACPI 2\.0 RSDP at 0x([0-9a-f]+)$",
                    "stub's RSDP line").group(1)
        if re.search(r"^Strata: device tree at", out, re.M):
            raise Fail("the firmware handed over a DTB with ACPI on")
        need_line(out, "efi: ACPI 2.0 RSDP at 0x%s" % rsdp)
        need(out, r"^arm64: EL2, image at 0x[0-9a-f]+ \(linked at "
             r"0x40200000\), no device tree: ACPI \(RSDP at 0x%s\)$" % rsdp,
             "the EL2 line of a boot from ACPI")
        need(out, r"^efi: RAM from the EFI memory map: \d+ ranges",
             "RAM from the EFI memory map")
        # QEMU's -smp 2 and its virt memory map, read from the tables.
        need_line(out, "acpi: MADT: 2 CPUs, MPIDRs 0x0 0x1")
        need_line(out, "acpi: SPCR: PL011 console at MMIO 0x9000000, "
                  "9600 baud")
        need_line(out, "boot: console: the SPCR's PL011 at 0x9000000")
        need_line(out, "boot: ACPI: 2 CPUs, GICv3 distributor 0x8000000, "
                  "redistributors 0x80a0000, PSCI by SMC")
        need_line(out, "arm64: 2 of 2 CPUs online")
        need_line(out, "Strata: virtualization ready")
        need_line(out, "[demo] hello: bootargs 'efi demo'")
        need_line(out, "[demo] hello: PASS")
        need_line(out, "vm demo: ended: powered off (status 0)")
        need_line(out, "Strata: all 1 VMs ended: 1 ok, 0 failed")
        need_line(out, "Strata: stopped (status 0)")


def test_el1(tmp, bundle):
    drive = fat_drive(tmp, "fat-el1", [
        "fs0:", "strata.efi initrd=\\bundle.cpio " + CMDLINE,
        "echo shell-after-strata", "reset -s"], bundle)
    r = run_qemu_arm64(CPU, firmware(tmp) + drive, timeout=TIMEOUT,
                       machine=machine(virt=False))
    out = clean(r.out)
    with with_tail(out):
        check_status(r.status, 0, "QEMU")
        need(out, r"^Strata: UEFI started this image at EL1, but Strata is a "
             r"hypervisor and must be entered at EL2\. .*Not starting\.$",
             "EL1 refusal on ConOut")
        need(out, r"^shell-after-strata$", "the shell going on afterwards")
        for bad in (r"^Strata EFI stub:", r"^Strata: exiting boot services",
                    r"^arm64: EL2", r"^Strata \S+ \(arm64\)$"):
            if re.search(bad, out, re.M):
                raise Fail("started anyway: %r" % bad)


TESTS = [
    ("arm64/efi-loadfile2", test_loadfile2),
    ("arm64/efi-shell-file", test_shell_file),
    ("arm64/efi-uboot", test_uboot),
    ("arm64/efi-acpi", test_acpi),
    ("arm64/efi-el1", test_el1),
]


def main():
    if not os.path.exists(IMAGE):
        print("FAIL: efi-arm64: %s is missing (make TEST=1 ARCH=arm64)"
              % IMAGE)
        return 1
    failed = 0
    with private_dir("efi-arm64-") as tmp:
        try:
            hello, = build_guests("arm64", os.path.join(tmp, "guests"),
                                  ["hello"])
        except Fail as e:
            print("FAIL: efi-arm64: %s" % e)
            return 1
        bundle = make_bundle(os.path.join(tmp, "bundle.cpio"), CFG, [hello])
        for name, fn in TESTS:
            try:
                fn(tmp, bundle)
                print("PASS: %s" % name)
            except Fail as e:
                print("FAIL: %s: %s" % (name, e))
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
