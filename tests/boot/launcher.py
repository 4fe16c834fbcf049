#!/usr/bin/env python3
"""Tests of the host launcher tools/strata (tests/run.py runs this file).

  launcher/usage-errors       bad arguments: exit 2 and the reason on stderr,
                              before any emulator starts
  launcher/image-arm64        the image directory: bundle.cpio parsed back
                              (strata.cfg text exact, guest files identical),
                              strata.bin, boot.scr a valid U-Boot script image
                              of boot.cmd, and the .tar.gz form
  launcher/image-arm64-uboot  the .img disk (MBR + FAT) booted by QEMU's
                              U-Boot: distro boot runs boot.scr, Strata
                              starts with its bootargs and the bundle
  launcher/image-x86          the GRUB ISO: ISO 9660, the multiboot2 and
                              module2 lines and strata.cfg inside
  launcher/run-timeout        an image that never prints: exit 3, message
  launcher/run-emulator-fails QEMU refuses the CPU model: exit 4, its reason
  launcher/run-arm64          a real run (make, QEMU arm64) of a guest: exit 0
                              and the guest's output once the arm64 run loop
                              is on main; until then Strata's refusal to enter
                              guests, reported as exit 1 with its reason
  launcher/run-arm64-uboot    run --uboot: QEMU's U-Boot boots the .img
                              disk, boot.scr starts Strata, hello passes
  launcher/run-arm64-failures hello beside a guest Strata stops and an image
                              it refuses: exit 1 naming both with reasons
  launcher/run-x86-bochs      a real run of the x86 hello guest under Bochs
  launcher/gdb-stub           run --gdb for real: QEMU's stub answers the
                              GDB remote protocol (qSupported, ?, g) with
                              the CPUs stopped; after `c` the guest passes
  launcher/make-debug         make debug starts the demo guest under --gdb

Every verdict rests on the launcher's exit status AND its output.
"""
import os
import re
import struct
import subprocess
import sys
import tarfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    ROOT, Fail, Skip, ARM_IMAGE as ARM_BIN, X86_ELF, UBOOT, read, write,
    private_dir, build_guests as build_into, run_qemu_arm64)

STRATA = os.path.join(ROOT, "tools", "strata")
NOT_READY = r"this build cannot enter (?:\S+ )?guests yet"


def launch(argv, timeout=150, cwd=ROOT, env=None):
    p = subprocess.run([sys.executable, STRATA] + argv, cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, errors="replace",
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def expect(rc, out, err, want_rc, pattern, what):
    if rc != want_rc:
        raise Fail("%s: exit %d, expected %d (stderr: %s)" %
                   (what, rc, want_rc, err.strip()[-300:]))
    if not re.search(pattern, err, re.M):
        raise Fail("%s: stderr lacks /%s/: %s" % (what, pattern,
                                                  err.strip()[-300:]))


def parse_newc(data):
    """{name: bytes} of a cpio newc archive; Fail if malformed."""
    files, off = {}, 0
    while True:
        if data[off:off + 6] != b"070701":
            raise Fail("cpio: no newc magic at offset %d" % off)
        f = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16)
             for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[off + 110:off + 110 + namesize - 1].decode()
        doff = (off + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return files
        if mode & 0o170000 != 0o100000:
            raise Fail("cpio: %s is not a regular file" % name)
        files[name] = data[doff:doff + size]
        off = (doff + size + 3) & ~3



# ---- kernels of every format, made by hand ---------------------------------

EM_X86_64, EM_AARCH64, EM_386 = 62, 183, 3


def arm64_image(size):
    """@size random bytes with a Linux arm64 Image header's magic."""
    data = bytearray(os.urandom(size))
    data[0x38:0x3c] = b"ARM\x64"
    return bytes(data)


def elf64(machine, size, extra=b"", at=4096):
    """An ELF64 header for @machine, then zeros (@extra at offset @at)."""
    data = bytearray(max(size, at + len(extra)))
    data[:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
    struct.pack_into("<HH", data, 16, 2, machine)
    data[at:at + len(extra)] = extra
    return bytes(data)


def mb2_header():
    magic, arch, length = 0xE85250D6, 0, 24
    return struct.pack("<IIII", magic, arch, length,
                       -(magic + arch + length) & 0xffffffff) + \
        struct.pack("<HHI", 0, 0, 8)


def mb1_kernel():
    magic, flags = 0x1BADB002, 0x10003
    return bytes(64) + struct.pack("<III", magic, flags,
                                   -(magic + flags) & 0xffffffff) + \
        bytes(4000)


def bzimage():
    data = bytearray(os.urandom(8192))
    data[:2] = b"MZ"
    data[510:512] = b"\x55\xaa"
    data[0x202:0x206] = b"HdrS"
    return bytes(data)


def zboot():
    data = bytearray(4096)
    data[:8] = b"MZ\0\0zimg"
    struct.pack_into("<II", data, 8, 0x200, 0x800)
    data[24:28] = b"gzip"
    return bytes(data)


def gzipped(data):
    import gzip
    return gzip.compress(data)


def fake_emulators(tmp):
    """A PATH whose emulators (and grub-mkrescue) only leave a mark: the
    proof that a refused run started nothing. Returns (env, mark)."""
    bindir = os.path.join(tmp, "fakebin")
    os.makedirs(bindir)
    mark = os.path.join(tmp, "emulator-started")
    for tool in ("qemu-system-aarch64", "qemu-system-x86_64", "bochs",
                 "grub-mkrescue"):
        path = write(os.path.join(bindir, tool),
                     b"#!/bin/sh\necho \"$0\" >> '%s'\nexit 1\n" %
                     mark.encode())
        os.chmod(path, 0o755)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    return env, mark


# ---- tests -----------------------------------------------------------------

def t_usage_errors(tmp):
    k = write(os.path.join(tmp, "k.bin"), b"kernel")
    cases = [
        ([], r"give a command"),
        (["run"], r"give at least one --vm"),
        (["run", "--vm", "kernel=%s,colour=red" % k],
         r"--vm #1: unknown key 'colour'"),
        (["run", "--vm", "kernel=/nonexistent/Image"],
         r"kernel file '/nonexistent/Image' not found"),
        (["run", "--vm", "kernel=%s,initrd=%s.nope" % (k, k)],
         r"initrd file '.*\.nope' not found"),
        (["run", "--vm", "kernel=%s,memory=12Q" % k],
         r"--vm #1: bad memory size '12Q'"),
        (["run", "--vm", "kernel=%s,memory=-1" % k],
         r"--vm #1: bad memory size '-1' \(a number"),
        (["run", "--vm", "kernel=%s,memory=65G" % k],
         r"bad memory size '65G' \(1M\.\.64G"),
        (["run", "--vm", "kernel=%s,cpus=9" % k], r"bad cpus '9' \(1\.\.8\)"),
        (["run", "--vm", "kernel=%s,on_reset=reboot" % k],
         r"--vm #1: bad on_reset 'reboot' \(restart or stop\)"),
        (["run", "--vm", "kernel=%s,disk=%s.nope" % (k, k)],
         r"disk file '.*\.nope' not found"),
        (["run", "--vm", "kernel=%s,rng=maybe" % k],
         r"--vm #1: bad rng 'maybe' \(on or off\)"),
        (["run", "--vm", "kernel=%s,disk_ro=on" % k],
         r"--vm #1: disk_ro without a disk \(give disk=PATH\)"),
        (["run", "--vm", "cmdline=quiet,kernel=%s" % k],
         r"no kernel=PATH \(cmdline= must be the last key"),
        (["run", "--vm", "kernel=%s" % k, "--vm", "kernel=%s,memory" % k],
         r"--vm #2: 'memory' is not KEY=VALUE"),
        (["run", "--arch", "arm64", "--emulator", "bochs", "--vm",
          "kernel=" + k], r"--emulator bochs cannot run --arch arm64"),
        (["run", "--arch", "arm64", "--emulator", "kvm", "--vm",
          "kernel=" + k], r"kvm needs a aarch64 host|/dev/kvm"),
        (["run", "--arch", "x86_64", "--uboot", "--vm", "kernel=" + k],
         r"--uboot is for --arch arm64"),
        (["run", "--arch", "mips", "--vm", "kernel=" + k],
         r"invalid choice: 'mips'"),
        (["image", "--vm", "kernel=" + k], r"-o/--output"),
        (["image", "--strata", k, "--vm", "kernel=%s,load=0x80000" % k,
          "-o", "/dev/null/img"], r"Not a directory: '/dev/null/img'"),
        (["image", "--strata", k, "--vm", "kernel=%s,load=0x80000" % k,
          "-o", os.path.join(tmp, "x.iso")],
         r"-o x\.iso: arm64 has no ISO image .*or give --arch x86_64$"),
        (["run", "--vm", "kernel=%s,cmdline=quiet" % k, "memory=64"],
         r"'memory=64' is not a strata\.cfg but looks like a --vm key: "
         r".*quote it whole: --vm 'kernel=\.\.\.,cmdline=\.\.\. "
         r"memory=64'$"),
        (["run", os.path.join(tmp, "none.cfg")],
         r"config file '.*none\.cfg' not found$"),
    ]
    with open("/proc/cpuinfo") as f:
        vmx = any(l.startswith("flags") and " vmx" in l for l in f)
    if not vmx and os.path.exists("/dev/kvm"):
        cases.append((["run", "--arch", "x86_64", "--emulator", "kvm",
                       "--vm", "kernel=" + k],
                      r"--emulator kvm: this host's CPU shows no VMX"))
    elif not os.path.exists("/dev/kvm"):
        cases.append((["run", "--arch", "x86_64", "--emulator", "kvm",
                       "--vm", "kernel=" + k],
                      r"--emulator kvm: /dev/kvm does not exist"))
    for argv, pattern in cases:
        rc, out, err = launch(argv, timeout=30)
        expect(rc, out, err, 2, r"^strata: error: .*" + pattern,
               "strata " + " ".join(argv))
        if len(err.splitlines()) != 1:
            raise Fail("strata %s: the error is not one line: %s" %
                       (" ".join(argv), err[-300:]))
        if out or re.search(r"^strata: \S+ (qemu|bochs|kvm): ", err, re.M):
            raise Fail("strata %s started something: %s" %
                       (" ".join(argv), (out + err)[-200:]))


CFG_WANT = """\
# strata.cfg written by tools/strata
[vm web]
kernel = Image
initrd = rootfs.cpio.gz
memory = 128M
cpus = 2
disk = disk.img
disk_ro = on
rng = on
net = on
virtio_console = on
cmdline = console=ttyAMA0,115200 panic=-1 # not a comment
[vm Image]
kernel = Image-2
memory = 1536M
ve = on
"""


def image_arm64_files(tmp):
    """Three guest files, two of them called Image; returns paths."""
    os.makedirs(os.path.join(tmp, "a"))
    os.makedirs(os.path.join(tmp, "b"))
    k1 = write(os.path.join(tmp, "a", "Image"), arm64_image(5000))
    k2 = write(os.path.join(tmp, "b", "Image"), arm64_image(777))
    rd = write(os.path.join(tmp, "rootfs.cpio.gz"), os.urandom(333))
    write(os.path.join(tmp, "disk.img"), os.urandom(1024))
    return k1, k2, rd


def image_arm64_argv(k1, k2, rd, out):
    return ["image", "--arch", "arm64", "--strata", ARM_BIN,
            "--hv-cmdline", "loglevel=debug",
            "--vm", "kernel=%s,initrd=%s,name=web,memory=128M,cpus=2,"
            "disk=%s,disk_ro=on,rng=on,net=on,virtio_console=on,"
            "cmdline=console=ttyAMA0,115200 panic=-1 # not a comment"
            % (k1, rd, os.path.join(os.path.dirname(rd), "disk.img")),
            "--vm", "kernel=%s,memory=1536M,ve=on" % k2, "-o", out]


def check_arm64_dir(d, k1, k2, rd):
    names = sorted(os.listdir(d))
    want = ["README.txt", "boot.cmd", "boot.scr", "bundle.cpio", "strata.bin"]
    if names != want:
        raise Fail("image directory holds %s, expected %s" % (names, want))
    files = parse_newc(read(os.path.join(d, "bundle.cpio")))
    if sorted(files) != ["Image", "Image-2", "disk.img", "rootfs.cpio.gz",
                         "strata.cfg"]:
        raise Fail("bundle holds %s" % sorted(files))
    if files["strata.cfg"].decode() != CFG_WANT:
        raise Fail("strata.cfg differs:\n" + files["strata.cfg"].decode())
    for name, path in (("Image", k1), ("Image-2", k2),
                       ("rootfs.cpio.gz", rd),
                       ("disk.img", os.path.join(os.path.dirname(rd),
                                                 "disk.img"))):
        if files[name] != read(path):
            raise Fail("bundle file %s differs from %s" % (name, path))
    if read(os.path.join(d, "strata.bin")) != read(ARM_BIN):
        raise Fail("strata.bin is not the given image")
    check_boot_scr(read(os.path.join(d, "boot.scr")),
                   read(os.path.join(d, "boot.cmd")))


def check_boot_scr(scr, cmd):
    """A legacy U-Boot image of type script holding @cmd, CRCs right."""
    (magic, hcrc, _, size, _, _, dcrc, os_, arch, typ, comp,
     _) = struct.unpack(">7I4B32s", scr[:64])
    hdr = scr[:4] + b"\0\0\0\0" + scr[8:64]
    data = scr[64:]
    if magic != 0x27051956 or typ != 6 or arch != 22 or comp != 0:
        raise Fail("boot.scr header: magic 0x%x type %d arch %d comp %d" %
                   (magic, typ, arch, comp))
    if zlib.crc32(hdr) != hcrc or zlib.crc32(data) != dcrc or \
            size != len(data):
        raise Fail("boot.scr CRC or size wrong")
    length, zero = struct.unpack(">II", data[:8])
    if zero != 0 or data[8:8 + length] != cmd:
        raise Fail("boot.scr does not hold boot.cmd")
    text = cmd.decode()
    for line in ['setenv bootargs "loglevel=debug"',
                 "booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} "
                 "${fdtcontroladdr}"]:
        if line not in text.splitlines():
            raise Fail("boot.cmd lacks '%s'" % line)


def t_image_arm64(tmp):
    if not os.path.exists(ARM_BIN):
        raise Fail("%s is missing (make TEST=1 ARCH=arm64)" % ARM_BIN)
    k1, k2, rd = image_arm64_files(tmp)
    out = os.path.join(tmp, "img")
    rc, _, err = launch(image_arm64_argv(k1, k2, rd, out), timeout=60)
    expect(rc, "", err, 0, r"^strata: wrote ", "image arm64")
    check_arm64_dir(out, k1, k2, rd)
    tgz = os.path.join(tmp, "img.tar.gz")
    rc, _, err = launch(image_arm64_argv(k1, k2, rd, tgz), timeout=60)
    expect(rc, "", err, 0, r"^strata: wrote ", "image arm64 .tar.gz")
    with tarfile.open(tgz) as t:
        t.extractall(os.path.join(tmp, "x"))
    check_arm64_dir(os.path.join(tmp, "x", "strata"), k1, k2, rd)


def t_image_arm64_uboot(tmp):
    """The .img disk boots on QEMU's U-Boot: distro boot finds boot.scr,
    which loads Strata and the bundle and starts them with booti."""
    guest, = build_guests(tmp, "arm64", ["hello"])
    disk = os.path.join(tmp, "sd.img")
    rc, _, err = launch(["image", "--arch", "arm64", "--strata", ARM_BIN,
                         "--hv-cmdline", "loglevel=info", "--vm",
                         "kernel=%s,name=hello,memory=32M" % guest,
                         "-o", disk], timeout=60)
    expect(rc, "", err, 0, r"^strata: wrote ", "image arm64 .img")
    if read(disk)[510:512] != b"\x55\xaa":
        raise Fail("sd.img has no MBR signature")
    run = run_qemu_arm64("max,pauth-impdef=on", [
        "-nic", "none", "-bios", UBOOT,
        "-drive", "if=none,file=%s,format=raw,id=d0" % disk,
        "-device", "virtio-blk-device,drive=d0"], timeout=90)
    if run.timed_out:
        raise Fail("U-Boot boot timed out: " + run.out[-400:])
    log = run.out
    for pattern in [r"^Found U-Boot script /boot\.scr$",
                    r"^Strata \S+ \(arm64\)$",
                    r"^command line: 'loglevel=info'$",
                    r"^bundle: 2 files$",
                    r"^vm hello: kernel hello\.elf \(elf64, %d bytes\), "
                    r"memory 32 MiB" % os.path.getsize(guest),
                    r"^Strata: stopped \(status \d+\)$"]:
        if not re.search(pattern, log, re.M):
            raise Fail("U-Boot boot: console lacks /%s/ (%s)" %
                       (pattern, log[-300:]))
    if not re.search(NOT_READY, log) and not re.search(
            r"^\[hello\] hello: PASS$", log, re.M):
        raise Fail("U-Boot boot: the hello guest did not pass")


def t_image_x86(tmp):
    if not os.path.exists(X86_ELF):
        raise Fail("%s is missing (make TEST=1 ARCH=x86_64)" % X86_ELF)
    k = write(os.path.join(tmp, "guest.elf"), elf64(EM_X86_64, 3000))
    iso = os.path.join(tmp, "out.iso")
    rc, _, err = launch(["image", "--arch", "x86_64", "--strata", X86_ELF,
                         "--hv-cmdline", "loglevel=debug", "--vm",
                         "kernel=%s,name=g1,cmdline=a, b" % k, "-o", iso],
                        timeout=120)
    expect(rc, "", err, 0, r"^strata: wrote ", "image x86_64")
    data = read(iso)
    if data[0x8001:0x8006] != b"CD001":
        raise Fail("not an ISO 9660 image")
    for needle in [b"multiboot2 /boot/strata.elf loglevel=debug\n",
                   b"module2 /boot/strata/strata.cfg strata.cfg\n",
                   b"module2 /boot/strata/guest.elf guest.elf\n",
                   b"[vm g1]\nkernel = guest.elf\ncmdline = a, b\n",
                   read(k), read(X86_ELF)[:4096]]:
        if needle not in data:
            raise Fail("ISO lacks %r" % needle[:60])


def t_run_timeout(tmp):
    # Zeros are not code: Strata never prints, the launcher must give up.
    img = write(os.path.join(tmp, "zeros.bin"), bytes(65536))
    k = write(os.path.join(tmp, "k.bin"), b"k")
    rc, out, err = launch(["run", "--strata", img, "--timeout", "3", "--vm",
                           "kernel=%s,name=stuck,load=0x80000" % k],
                          timeout=60)
    expect(rc, out, err, 3, r"^strata: timed out after 3 s; still running: "
           r"stuck$", "run with a silent image")


def t_run_emulator_fails(tmp):
    # QEMU refuses an unknown CPU model: the launcher passes on its reason.
    k = write(os.path.join(tmp, "k.bin"), b"k")
    rc, out, err = launch(["run", "--strata", ARM_BIN, "--cpu", "nosuchcpu",
                           "--timeout", "30", "--vm",
                           "kernel=%s,load=0x80000" % k],
                          timeout=60)
    expect(rc, out, err, 4, r"^strata: the emulator ended \(status 1\) "
           r"before Strata finished: .*nosuchcpu", "run with a bad CPU")


def build_guests(tmp, arch, names):
    """The test guests @names of @arch, built into @tmp/guests/."""
    return build_into(arch, os.path.join(tmp, "guests"), names)


def check_run(rc, out, err, guest, markers, what):
    """A run of one guest VM called @guest: its output and exit 0, or, while
    the architecture cannot enter guests yet, Strata's refusal as exit 1."""
    if re.search(NOT_READY, out):
        expect(rc, out, err, 1, r"^strata: Strata stopped \(status 3\) "
               r"without running the VMs: .*" + NOT_READY, what)
        if not re.search(r"^vm %s: \S+ kernel at 0x" % guest, out, re.M):
            raise Fail("%s: the guest was not loaded" % what)
        raise Skip("Strata cannot enter guests on this architecture yet; "
                   "its refusal was reported as exit 1")
    expect(rc, out, err, 0, r"^strata: all 1 VMs ended normally$", what)
    for pattern in [r"^\[%s\] %s$" % (guest, m) for m in markers] + [
            r"^vm %s: ended: powered off \(status 0\)$" % guest,
            r"^Strata: all 1 VMs ended: 1 ok, 0 failed$"]:
        if not re.search(pattern, out, re.M):
            raise Fail("%s: console lacks /%s/" % (what, pattern))


def t_run_arm64(tmp):
    guest, = build_guests(tmp, "arm64", ["hello"])
    rd = write(os.path.join(tmp, "rd.bin"),
               b"STRATA-LAUNCHER-INITRD-0123456789" + bytes(4967))
    # Strata is built by the launcher (make); every key reaches the guest,
    # the cmdline with its commas.
    rc, out, err = launch(["run", "--timeout", "90", "--vm",
                           "kernel=%s,initrd=%s,name=hello,memory=48M,"
                           "cpus=2,cmdline=quiet,x=1 y" % (guest, rd)])
    if not re.search(r"^Strata \S+ \(arm64\)$", out, re.M):
        raise Fail("no Strata banner on the console: " + err[-300:])
    check_run(rc, out, err, "hello",
              [r"Hello from a Strata arm64 guest at EL1",
               r"hello: memory 0x[0-9a-f]+-0x[0-9a-f]+ \(48 MiB\), 2 vCPUs,"
               r" .*",
               r"hello: bootargs 'quiet,x=1 y'",
               r"hello: initrd 0x[0-9a-f]+-0x[0-9a-f]+ \(5000 bytes\) "
               r"starts 'STRATA-LAUNCHER-INITRD-012345678'",
               r"hello: PASS"],
              "run arm64")


def t_run_arm64_uboot(tmp):
    """run --uboot: the board path, U-Boot's distro boot from the .img."""
    guest, = build_guests(tmp, "arm64", ["hello"])
    rc, out, err = launch(["run", "--uboot", "--timeout", "90",
                           "--hv-cmdline", "loglevel=info", "--vm",
                           "kernel=%s,name=hello,cmdline=via,u-boot" % guest])
    if not re.search(r"^Found U-Boot script /boot\.scr$", out, re.M):
        raise Fail("U-Boot did not run boot.scr: " + out[-300:])
    if not re.search(r"^command line: 'loglevel=info'$", out, re.M):
        raise Fail("Strata did not get boot.scr's bootargs")
    check_run(rc, out, err, "hello", [r"hello: bootargs 'via,u-boot'",
                                      r"hello: PASS"], "run arm64 --uboot")


def truncated_elf(src, dst):
    """@src cut 16 bytes short of the end of its last PT_LOAD's file data."""
    data = read(src)
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    end = 0
    for i in range(phnum):
        ptype, = struct.unpack_from("<I", data, phoff + 56 * i)
        off, = struct.unpack_from("<Q", data, phoff + 56 * i + 8)
        filesz, = struct.unpack_from("<Q", data, phoff + 56 * i + 32)
        if ptype == 1 and filesz:
            end = max(end, off + filesz)
    return write(dst, data[:end - 16])


def t_run_arm64_failures(tmp):
    """Four VMs: hello ends well, wild takes a prefetch abort for its jump
    to nothing and powers off with status 3, junk is not an
    image and never runs, trunc is refused by the loader when it is built.
    Exit 1 naming the three with the reason lines (not a raw errno), hello's
    output intact."""
    hello, wild = build_guests(tmp, "arm64", ["hello", "wild"])
    junk = write(os.path.join(tmp, "junk.bin"), b"\x5a" * 3000)
    trunc = truncated_elf(hello, os.path.join(tmp, "trunc.elf"))
    # --no-kernel-check: junk reaches Strata, whose own refusal is tested.
    rc, out, err = launch(["run", "--timeout", "90", "--no-kernel-check",
                           "--vm", "kernel=%s" % hello,
                           "--vm", "kernel=%s,memory=16M" % wild,
                           "--vm", "kernel=%s" % junk,
                           "--vm", "kernel=%s" % trunc])
    if re.search(NOT_READY, out):
        raise Skip("Strata cannot enter arm64 guests yet")
    expect(rc, out, err, 1, r"^strata: 3 of 4 VMs did not end normally: "
           r"wild powered off \(status 3\); junk never ran \(strata\.cfg:\d+: "
           r"kernel '\S+' is not an ELF64 or a Linux arm64 Image for arm64 "
           r"\(expected one, or 'load = ADDR' for a raw binary\)\); "
           r"trunc never ran \(kernel \S+: ELF segment \d+ \(0x[0-9a-f]+ "
           r"bytes at offset 0x[0-9a-f]+\) runs past the end of the file "
           r"\(0x[0-9a-f]+ bytes\)\)$", "run hello, wild, junk and trunc")
    if re.search(r"^strata: .*\(-\d+\)", err, re.M):
        raise Fail("the launcher quoted a raw errno: " + err[-300:])
    for pattern in [r"^\[hello\] hello: PASS$",
                    r"^vm hello: ended: powered off \(status 0\)$",
                    r"^vm wild: ended: powered off \(status 3\)$",
                    r"^Strata: all 4 VMs ended: 1 ok, 3 failed \(2 never "
                    r"ran\); 1 configuration error$",
                    r"^Strata: stopped \(status 1\)$"]:
        if not re.search(pattern, out, re.M):
            raise Fail("console lacks /%s/" % pattern)


def t_run_x86_bochs(tmp):
    guest, = build_guests(tmp, "x86_64", ["hello"])
    rc, out, err = launch(["run", "--arch", "x86_64", "--timeout", "120",
                           "--vm", "kernel=%s,name=hello,memory=16M" % guest])
    if not re.search(r"^Strata \S+ \(x86_64\)$", out, re.M):
        raise Fail("no Strata banner on the console: " + err[-300:])
    check_run(rc, out, err, "hello",
              [r"hello: hello from a 64-bit guest, 16 MiB of RAM"],
              "run x86_64 bochs")


def t_kernel_formats(tmp):
    """Each kernel Strata cannot load for the --arch is refused before
    anything boots, with the fix in one line; the fake emulators on PATH
    prove none started, and do start for a good kernel."""
    env, mark = fake_emulators(tmp)
    image = arm64_image(8192)
    cases = [
        ("mb2.elf", elf64(EM_X86_64, 8192, mb2_header()), "arm64",
         r"kernel 'mb2\.elf': this is an x86-64 multiboot2 kernel; use "
         r"--arch x86_64$"),
        ("x86.elf", elf64(EM_X86_64, 8192), "arm64",
         r"kernel 'x86\.elf': this is an x86-64 ELF64 kernel; use --arch "
         r"x86_64$"),
        ("mb1.bin", mb1_kernel(), "arm64",
         r"kernel 'mb1\.bin': this is an x86 multiboot kernel; use --arch "
         r"x86_64$"),
        ("Image", image, "x86_64",
         r"kernel 'Image': this is an arm64 Linux Image; use --arch arm64$"),
        ("a64.elf", elf64(EM_AARCH64, 8192), "x86_64",
         r"kernel 'a64\.elf': this is an arm64 ELF64 kernel; use --arch "
         r"arm64$"),
        ("Image.gz", gzipped(image), "arm64",
         r"kernel 'Image\.gz' is gzip-compressed \(an Image\.gz\); Strata "
         r"loads kernels uncompressed: decompress it: gunzip -k "
         r"\S*/Image\.gz, then give kernel=\S*/Image$"),
        ("bzImage", bzimage(), "x86_64",
         r"kernel 'bzImage' is an x86 Linux bzImage: x86 Linux bzImage is "
         r"not supported yet$"),
        ("bzImage", bzimage(), "arm64",
         r"kernel 'bzImage' is an x86 Linux bzImage: x86 Linux bzImage is "
         r"not supported yet \(and it is not an arm64 "
         r"kernel\)$"),
        ("vmlinuz", zboot(), "arm64",
         r"kernel 'vmlinuz' is an EFI zboot kernel \(a gzip-compressed "
         r"Image .*skip=512 count=2048 \| gzip -d > Image$"),
        ("ppc.elf", elf64(21, 8192), "arm64",
         r"kernel 'ppc\.elf' is an ELF64 for machine 21, not an arm64 or "
         r"x86-64 kernel$"),
        ("junk", b"\x5a" * 3000, "arm64",
         r"kernel 'junk' is of an unknown format \(expected an ELF64 or a "
         r"Linux arm64 Image, or load=ADDR for a raw binary\)$"),
        ("junk", b"\x5a" * 3000, "x86_64",
         r"kernel 'junk' is of an unknown format \(expected an ELF64 or a "
         r"multiboot kernel, or load=ADDR for a raw binary\)$"),
    ]
    for name, data, arch, pattern in cases:
        d = os.path.join(tmp, "k-%s-%s" % (arch, name))
        os.makedirs(d)
        k = write(os.path.join(d, name), data)
        argv = ["run", "--arch", arch, "--strata", ARM_BIN, "--timeout",
                "30", "--vm", "kernel=" + k]
        rc, out, err = launch(argv, timeout=30, env=env)
        what = "%s kernel for %s" % (name, arch)
        expect(rc, out, err, 2, r"^strata: error: --vm #1: " + pattern, what)
        if len(err.splitlines()) != 1 or out:
            raise Fail("%s: more than the one error line: %s" %
                       (what, (out + err)[-300:]))
        if os.path.exists(mark):
            raise Fail("%s: an emulator was started: %s" %
                       (what, read(mark).decode()))
    # The same fake emulator does start for a loadable kernel (it fails at
    # once: exit 4), so the checks above would have seen a start.
    k = write(os.path.join(tmp, "Image"), image)
    rc, out, err = launch(["run", "--strata", ARM_BIN, "--timeout", "30",
                           "--vm", "kernel=" + k], timeout=30, env=env)
    expect(rc, out, err, 4, r"^strata: the emulator ended \(status 1\)",
           "a good kernel under the fake emulator")
    if b"qemu-system-aarch64" not in read(mark):
        raise Fail("the fake emulator did not record its start")


def t_cmdline_warning(tmp):
    """cmdline text that looks like a strata.cfg/--vm key gets a warning
    naming the key and where it belongs; Linux's own keys get none."""
    env, mark = fake_emulators(tmp)
    k = write(os.path.join(tmp, "Image"), arm64_image(4096))
    base = ["run", "--strata", ARM_BIN, "--dry-run", "--timeout", "9"]
    rc, out, err = launch(base + ["--vm", "kernel=%s,cmdline=quiet "
                                  "memory=64,cpus=2" % k], env=env)
    expect(rc, out, err, 0, r"^strata: warning: --vm #1: cmdline holds "
           r"'memory=64', and memory is a --vm key: the text after cmdline= "
           r"goes to the guest as it is; to set the VM's memory give "
           r"memory=64 before cmdline= \(--vm 'kernel=\.\.\.,memory=64,"
           r"cmdline=\.\.\.'\), quoting the whole --vm argument for the "
           r"shell$", "cmdline with memory=")
    expect(rc, out, err, 0, r"^strata: warning: --vm #1: cmdline holds "
           r"'cpus=2', and cpus is a --vm key", "cmdline with cpus=")
    expect(rc, out, err, 0, r"^strata: --dry-run: the emulator was not "
           r"started \(timeout: 9 s\)$", "dry run")
    rc, out, err = launch(base + ["--vm", "kernel=%s,cmdline=console="
                                  "ttyAMA0 mem=64M earlycon" % k], env=env)
    expect(rc, out, err, 0, r"^strata: --dry-run", "cmdline with mem=")
    if "warning" in err:
        raise Fail("a warning for Linux's own mem=: " + err[-300:])
    cfg = write(os.path.join(tmp, "vm.cfg"),
                b"# two VMs\n[vm a]\nkernel = Image\ncmdline = quiet "
                b"initrd=x.gz\n[vm b]\nkernel = Image\n")
    rc, out, err = launch(base + [cfg], env=env)
    expect(rc, out, err, 0, r"^strata: warning: vm\.cfg:4: cmdline holds "
           r"'initrd=x\.gz', and initrd is a strata\.cfg key: the text after "
           r"cmdline = goes to the guest as it is; to set the VM's initrd "
           r"write it on a line of its own \('initrd = x\.gz'\)$",
           "strata.cfg cmdline with initrd=")
    if os.path.exists(mark):
        raise Fail("--dry-run started an emulator")


def t_timeout_default(tmp):
    """No default timeout on a terminal; 600 s when not interactive."""
    import pty
    k = write(os.path.join(tmp, "Image"), arm64_image(4096))
    argv = ["run", "--strata", ARM_BIN, "--dry-run", "--vm", "kernel=" + k]
    rc, out, err = launch(argv)
    expect(rc, out, err, 0, r"\(timeout: 600 s\)$", "not interactive")
    master, slave = pty.openpty()
    try:
        p = subprocess.run([sys.executable, STRATA] + argv, cwd=ROOT,
                           stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    expect(p.returncode, "", p.stderr, 0, r"\(timeout: none\)$",
           "on a terminal")


def t_gdb(tmp):
    """--gdb: QEMU's stub on the port with the CPUs stopped, the one gdb
    command with Strata's symbols; Bochs: how to use its own debugger."""
    env, mark = fake_emulators(tmp)
    k = write(os.path.join(tmp, "Image"), arm64_image(4096))
    elf = os.path.relpath(os.path.join(os.path.dirname(ARM_BIN),
                                       "strata.elf"), ROOT)
    for port in ("1234", "4321"):
        argv = ["run", "--strata", ARM_BIN, "--gdb", "--dry-run", "--vm",
                "kernel=" + k]
        if port != "1234":
            argv += ["--gdb-port", port]
        rc, out, err = launch(argv, env=env)
        expect(rc, out, err, 0, r"^strata: arm64 qemu: qemu-system-aarch64 "
               r".* -kernel \S+strata\.bin .* -gdb tcp::%s -S$" % port,
               "--gdb port %s: QEMU's argv" % port)
        expect(rc, out, err, 0, r"^strata:   gdb(-multiarch)? -q %s -ex "
               r"'target remote :%s'$" % (re.escape(elf), port),
               "--gdb port %s: the gdb command" % port)
        expect(rc, out, err, 0, r"\(timeout: none\)$", "--gdb: no timeout")
    argv = ["run", "--arch", "x86_64", "--strata", ARM_BIN, "--gdb",
            "--dry-run", "--vm", "kernel=" + k]
    rc, out, err = launch(argv)
    if rc == 2 and "is not installed" in err:
        raise Skip("Bochs or grub-mkrescue missing: " + err.strip())
    expect(rc, out, err, 2, r"this is an arm64 Linux Image",
           "x86 kernel check")
    x86 = write(os.path.join(tmp, "x86.elf"), elf64(EM_X86_64, 4096))
    argv[-1] = "kernel=" + x86
    rc, out, err = launch(argv, timeout=120)
    expect(rc, out, err, 0, r"^strata: x86_64 bochs: bochs -f \S+bochsrc "
           r"-q$", "--gdb under Bochs: no continue file")
    expect(rc, out, err, 0, r"^strata: Debian's Bochs has no gdb stub; "
           r"--gdb starts Bochs's internal debugger on this terminal "
           r"instead: .*'lb ADDR'.*'c' to continue", "--gdb under Bochs")
    if os.path.exists(mark):
        raise Fail("--dry-run started an emulator")


def rsp_send(sock, body):
    """One GDB remote-protocol packet; returns the reply's body."""
    csum = sum(body.encode()) % 256
    sock.sendall(b"$%s#%02x" % (body.encode(), csum))
    buf = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise Fail("gdb stub closed the connection after %r" % body)
        buf += chunk
        m = re.search(rb"\$([^#]*)#[0-9a-fA-F]{2}", buf)
        if m:
            sock.sendall(b"+")
            return m.group(1).decode(errors="replace")


def t_gdb_stub(tmp):
    """--gdb for real: QEMU's stub answers the GDB remote protocol with the
    CPUs stopped (a SIGTRAP stop), then the run goes on to the guest's PASS. The protocol is spoken here, so gdb itself is not
    needed."""
    import socket
    guest, = build_guests(tmp, "arm64", ["hello"])
    with socket.socket() as s0:
        s0.bind(("127.0.0.1", 0))
        port = s0.getsockname()[1]
    p = subprocess.Popen([sys.executable, STRATA, "run", "--strata", ARM_BIN,
                          "--gdb", "--gdb-port", str(port), "--timeout",
                          "120", "--vm", "kernel=%s,name=hello,cmdline=gdb"
                          % guest], cwd=ROOT, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, errors="replace")
    try:
        sock = None
        for _ in range(600):        # until QEMU listens (bounded)
            try:
                sock = socket.create_connection(("127.0.0.1", port), 1)
                break
            except OSError:
                if p.poll() is not None:
                    break
                time.sleep(0.1)
        if sock is None:
            out, err = p.communicate(timeout=30)
            raise Fail("the gdb stub never listened on port %d (%s)" %
                       (port, err.strip()[-300:]))
        with sock:
            sock.settimeout(60)
            sup = rsp_send(sock, "qSupported:multiprocess+")
            if "PacketSize=" not in sup:
                raise Fail("qSupported answered %r" % sup[:100])
            why = rsp_send(sock, "?")
            if not re.match(r"[ST]05", why):
                raise Fail("stop reason %r, expected SIGTRAP (S05/T05)" %
                           why[:40])
            regs = rsp_send(sock, "g")
            if not re.fullmatch(r"[0-9a-fx]{64,}", regs):
                raise Fail("register read answered %r" % regs[:80])
            sock.sendall(b"$c#63")
            out, err = p.communicate(timeout=150)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check_run(p.returncode, out, err, "hello", [r"hello: PASS"],
              "run --gdb after continue")


def t_make_debug(tmp):
    """make debug: the demo guest under --gdb (shown with --dry-run, so
    nothing waits for a debugger)."""
    p = subprocess.run(["make", "-s", "debug", "DEBUG_ARGS=--dry-run"],
                       cwd=ROOT, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="replace", timeout=600)
    expect(p.returncode, p.stdout, p.stderr, 0,
           r"^strata: arm64 qemu: qemu-system-aarch64 .* -gdb tcp::1234 -S$",
           "make debug: QEMU's argv")
    expect(p.returncode, p.stdout, p.stderr, 0,
           r"^strata:   gdb(-multiarch)? -q build/arm64/strata\.elf -ex "
           r"'target remote :1234'$", "make debug: the gdb command")


def t_run_relative(tmp):
    """Every path relative to the caller's directory, not the emulator's:
    --strata, kernel=, initrd=, --keep; the guest's own lines prove it."""
    guest, = build_guests(tmp, "arm64", ["hello"])
    write(os.path.join(tmp, "rd.bin"), b"RELATIVE-INITRD-" + bytes(100))
    strata = os.path.relpath(ARM_BIN, tmp)
    rc, out, err = launch(["run", "--strata", strata, "--timeout", "90",
                           "--keep", "kept", "--vm",
                           "kernel=%s,initrd=rd.bin,name=hello,cmdline=rel" %
                           os.path.relpath(guest, tmp)], cwd=tmp)
    check_run(rc, out, err, "hello",
              [r"hello: bootargs 'rel'",
               r"hello: initrd 0x[0-9a-f]+-0x[0-9a-f]+ \(116 bytes\) starts "
               r"'RELATIVE-INITRD-.*'", r"hello: PASS"],
              "run with relative paths")
    if not os.path.isfile(os.path.join(tmp, "kept", "console.log")):
        raise Fail("--keep kept: no console.log in %s/kept" % tmp)


def t_run_cfg(tmp):
    """run CFG: an existing strata.cfg, its files found beside it (not in
    the caller's directory), two VMs from its two sections."""
    guest, = build_guests(tmp, "arm64", ["hello"])
    d = os.path.join(tmp, "vms")
    os.makedirs(os.path.join(d, "img"))
    write(os.path.join(d, "img", "hello.elf"), read(guest))
    write(os.path.join(d, "rd.bin"), b"FROM-A-CFG-" + bytes(50))
    write(os.path.join(d, "my.cfg"), b"""# an xl-style config
[vm one]
kernel = img/hello.elf   # beside the cfg
initrd = rd.bin
memory = 24M
cmdline = from a cfg # all of it
[vm two]
kernel = img/hello.elf
cpus = 2
""")
    rc, out, err = launch(["run", "vms/my.cfg", "--strata",
                           os.path.relpath(ARM_BIN, tmp), "--timeout", "90"],
                          cwd=tmp)
    expect(rc, out, err, 0, r"^strata: all 2 VMs ended normally$", "run CFG")
    for pattern in [r"^\[one\] hello: memory .* \(24 MiB\), 1 vCPUs",
                    r"^\[one\] hello: bootargs 'from a cfg # all of it'$",
                    r"^\[one\] hello: initrd .* \(61 bytes\) starts "
                    r"'FROM-A-CFG-",
                    r"^\[one\] hello: PASS$",
                    r"^\[two\] hello: memory .* \(64 MiB\), 2 vCPUs",
                    r"^\[two\] hello: PASS$",
                    r"^Strata: all 2 VMs ended: 2 ok, 0 failed$"]:
        if not re.search(pattern, out, re.M):
            raise Fail("run CFG: console lacks /%s/" % pattern)
    bad = write(os.path.join(d, "bad.cfg"),
                b"[vm x]\nkernel = img/hello.elf\nmemory = 12Q\n")
    rc, out, err = launch(["run", bad, "--strata", ARM_BIN], cwd=tmp)
    expect(rc, out, err, 2, r"^strata: error: bad\.cfg:3: bad memory size "
           r"'12Q'", "a bad cfg")


TESTS = [("launcher/usage-errors", t_usage_errors),
         ("launcher/image-arm64", t_image_arm64),
         ("launcher/image-arm64-uboot", t_image_arm64_uboot),
         ("launcher/image-x86", t_image_x86),
         ("launcher/kernel-formats", t_kernel_formats),
         ("launcher/cmdline-warning", t_cmdline_warning),
         ("launcher/timeout-default", t_timeout_default),
         ("launcher/gdb", t_gdb),
         ("launcher/gdb-stub", t_gdb_stub),
         ("launcher/make-debug", t_make_debug),
         ("launcher/run-timeout", t_run_timeout),
         ("launcher/run-emulator-fails", t_run_emulator_fails),
         ("launcher/run-arm64", t_run_arm64),
         ("launcher/run-relative", t_run_relative),
         ("launcher/run-cfg", t_run_cfg),
         ("launcher/run-arm64-uboot", t_run_arm64_uboot),
         ("launcher/run-arm64-failures", t_run_arm64_failures),
         ("launcher/run-x86-bochs", t_run_x86_bochs)]


def main():
    failed = 0
    only = sys.argv[1:]
    for name, fn in TESTS:
        if only and name.split("/")[1] not in only:
            continue
        with private_dir("launcher-") as tmp:
            try:
                fn(tmp)
                print("PASS: %s" % name, flush=True)
            except Skip as e:
                print("SKIP: %s: %s" % (name, e), flush=True)
            except (Fail, subprocess.TimeoutExpired) as e:
                failed += 1
                print("FAIL: %s: %s" % (name, e), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
