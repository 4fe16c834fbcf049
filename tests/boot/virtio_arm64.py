#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""virtio-mmio devices under unmodified Debian arm64 Linux (issue 14).

Two Linux VMs on one Strata under QEMU virt, each with a busybox initramfs
that loads the virtio drivers from the same kernel package (Debian builds
them as modules):

- vm a: a virtio-blk disk (an ext2 image made here, holding a file with a
  token chosen for this run), mounted read-write; it reads the token, writes
  a second file, remounts and reads it back. It reads 32 bytes from
  /dev/hwrng (virtio-rng) and writes a line to /dev/hvc0 (virtio-console).
- vm b: the same disk image read-only (disk_ro = on): it reads the token,
  and after a has written (it waits for a's message over the network), it
  remounts and must not see a's file (a's writes stay in a's copy), and a
  raw write to its disk must fail.
- Both: virtio-net on Strata's switch; each pings the other, then they
  exchange messages with busybox nc, so neither powers off before the
  other is done (order by events, never by time).

arm64/virtio-hostile: a bare-metal driver (tests/guests/arm64/virtio.c)
on the real image: good block and entropy requests, then a descriptor
loop, a buffer outside RAM, an indirect descriptor and an index far ahead,
each of which must stop only that device (DEVICE_NEEDS_RESET, Strata's
message) until the driver resets it, beside another VM that keeps running.

Passes only on the guests' own lines on the console and Strata's summary.
"""
import os
import secrets
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import arm64  # noqa: E402
from arm64 import Check, MAX, STOP_OK, IMAGE  # noqa: E402
from _bootlib import private_dir, newc, make_bundle, write  # noqa: E402
from _bootlib import run_qemu_arm64 as qemu  # noqa: E402

TIMEOUT = 600    # generous: two Linux boots time-sliced on one CPU

INIT_COMMON = """#!/bin/busybox sh
export PATH=/bin
busybox mkdir -p /proc /sys /dev /mnt /tmp
busybox mount -t proc proc /proc
busybox mount -t sysfs sys /sys
busybox mount -t devtmpfs dev /dev
for m in %(modules)s; do busybox insmod /lib/modules/$m.ko || echo "MODULE-FAILED $m"; done
n=0
while [ ! -b /dev/vda ] && [ $n -lt 1000 ]; do n=$((n + 1)); busybox usleep 10000; done
busybox ip link set lo up
busybox ip link set eth0 up
busybox ip addr add %(ip)s/24 dev eth0
"""

INIT_A = INIT_COMMON + """
busybox mount -t ext4 /dev/vda /mnt && echo "A-DISK: $(busybox cat /mnt/token.txt)"
echo "written-by-a" > /mnt/from-a.txt
busybox sync
busybox umount /mnt
busybox mount -t ext4 /dev/vda /mnt && echo "A-REREAD: $(busybox cat /mnt/from-a.txt)"
echo "A-RNG-SOURCE: $(busybox cat /sys/class/misc/hw_random/rng_current)"
echo "A-RNG: $(busybox dd if=/dev/hwrng bs=32 count=1 2>/dev/null | busybox hexdump -v -e '/1 "%%02x"')"
n=0
while [ ! -c /dev/hvc0 ] && [ $n -lt 1000 ]; do n=$((n + 1)); busybox usleep 10000; done
echo "HVC-LINE from a" > /dev/hvc0
until busybox ping -c 1 -W 2 10.0.2.2 >/dev/null 2>&1; do :; done
busybox ping -c 3 10.0.2.2 | busybox grep -q " 0%% packet loss" && echo "A-PING: ok"
until echo written | busybox nc 10.0.2.2 7000; do busybox sleep 1; done
busybox nc -l -p 7001 | while read w; do echo "A-GOT: $w"; done
busybox umount /mnt
busybox poweroff -f
"""

INIT_B = INIT_COMMON + """
busybox mount -t ext4 -o ro /dev/vda /mnt && echo "B-DISK: $(busybox cat /mnt/token.txt)"
until busybox ping -c 1 -W 2 10.0.2.1 >/dev/null 2>&1; do :; done
busybox ping -c 3 10.0.2.1 | busybox grep -q " 0%% packet loss" && echo "B-PING: ok"
busybox nc -l -p 7000 | while read w; do echo "B-GOT: $w"; done
busybox umount /mnt
busybox mount -t ext4 -o ro /dev/vda /mnt
if [ -e /mnt/from-a.txt ]; then echo "B-SEES-A: yes"; else echo "B-SEES-A: no"; fi
if busybox dd if=/dev/zero of=/dev/vda bs=512 count=1 conv=fsync 2>/dev/null; then echo "B-RAW-WRITE: accepted"; else echo "B-RAW-WRITE: refused"; fi
until echo bye | busybox nc 10.0.2.1 7001; do busybox sleep 1; done
busybox poweroff -f
"""


def make_initrd(tmp, name, script, busybox, ip):
    modules = arm64.LINUX_MODULES
    mdir = arm64.linux_modules_dir()
    text = script % {"modules": " ".join(modules), "ip": ip}
    entries = [("init", text.encode(), 0o100755),
               ("bin", b"", 0o040755),
               ("bin/busybox", open(busybox, "rb").read(), 0o100755),
               ("bin/sh", open(busybox, "rb").read(), 0o100755),
               ("lib", b"", 0o040755), ("lib/modules", b"", 0o040755)]
    for m in modules:
        with open(os.path.join(mdir, m + ".ko"), "rb") as f:
            entries.append(("lib/modules/%s.ko" % m, f.read(), 0o100644))
    import gzip
    out = os.path.join(tmp, name)
    with gzip.open(out, "wb") as f:
        f.write(newc(entries))
    return out


def make_disk(tmp, token):
    """An 8 MiB ext2 image holding token.txt, made with mke2fs -d."""
    root = os.path.join(tmp, "diskroot")
    os.makedirs(root)
    write(os.path.join(root, "token.txt"), token + "\n")
    img = os.path.join(tmp, "disk.img")
    p = subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024",
                        "-d", root, img, "8M"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode:
        raise RuntimeError("mke2fs failed: %s" % p.stdout.decode()[-200:])
    return img


def test_linux_virtio():
    name = "arm64/linux-virtio"
    try:
        deps = arm64.linux_deps()
    except (OSError, subprocess.SubprocessError) as e:
        deps = "cannot fetch the kernel: %s" % e
    if isinstance(deps, str):
        print("FAIL: %s: %s" % (name, deps))
        return False
    image, busybox = deps
    token = "STRATA-DISK-" + secrets.token_hex(6)
    with private_dir("arm64-virtio-") as tmp:
        ia = make_initrd(tmp, "a.gz", INIT_A, busybox, "10.0.2.1")
        ib = make_initrd(tmp, "b.gz", INIT_B, busybox, "10.0.2.2")
        disk = make_disk(tmp, token)
        cfg = ("[vm a]\nkernel = Image\ninitrd = a.gz\nmemory = 192M\n"
               "disk = disk.img\nrng = on\nnet = on\nvirtio_console = on\n"
               "cmdline = console=ttyAMA0 panic=-1 quiet\n"
               "[vm b]\nkernel = Image\ninitrd = b.gz\nmemory = 192M\n"
               "disk = disk.img\ndisk_ro = on\nnet = on\n"
               "cmdline = console=ttyAMA0 panic=-1 quiet\n")
        cpio = make_bundle(os.path.join(tmp, "virtio.cpio"), cfg,
                           [image, ia, ib, disk])
        run = qemu(MAX, ["-kernel", IMAGE, "-initrd", cpio, "-append",
                         "loglevel=info"], mem="1G", timeout=TIMEOUT)
    c = Check(run)
    c.line(r"^vm a: virtio-blk disk disk\.img, 16384 sectors$",
           "a's disk")
    c.line(r"^vm b: virtio-blk disk disk\.img, 16384 sectors, read-only$",
           "b's read-only disk")
    c.line(r"^\[a\] A-DISK: %s$" % token, "a read the token from its disk")
    c.line(r"^\[a\] A-REREAD: written-by-a$", "a read back what it wrote")
    c.line(r"^\[a\] A-RNG-SOURCE: virtio_rng\.\d+$",
           "Linux uses virtio-rng as its hardware RNG")
    m = c.line(r"^\[a\] A-RNG: ([0-9a-f]{64})$", "32 bytes from /dev/hwrng")
    if m and m.group(1) == "0" * 64:
        c.errors.append("the entropy device gave zeroes")
    c.line(r"^\[a\] HVC-LINE from a$", "a line through virtio-console")
    c.line(r"^\[a\] A-PING: ok$", "a pinged b")
    c.line(r"^\[b\] B-PING: ok$", "b pinged a")
    c.line(r"^\[b\] B-DISK: %s$" % token, "b read the token")
    c.line(r"^\[b\] B-GOT: written$", "b heard from a after a wrote")
    c.line(r"^\[b\] B-SEES-A: no$", "a's writes stay in a's copy")
    c.line(r"^\[b\] B-RAW-WRITE: refused$", "the read-only disk refuses")
    c.line(r"^\[a\] A-GOT: bye$", "a heard from b")
    c.no_line(r"MODULE-FAILED", "a module that did not load")
    c.no_line(r"needs a reset", "a virtio device error")
    c.line(r"^vm a: ended: powered off \(status 0\)$", "a ended")
    c.line(r"^vm b: ended: powered off \(status 0\)$", "b ended")
    c.line(r"^Strata: all 2 VMs ended: 2 ok, 0 failed$", "summary")
    c.no_line(r"Internal error|Kernel panic|Unable to handle",
              "a Linux oops or panic")
    c.status(STOP_OK)
    return c.report(name)


def test_virtio_hostile():
    name = "arm64/virtio-hostile"
    from _bootlib import build_guests
    with private_dir("arm64-virtio-bad-") as tmp:
        elves = build_guests("arm64", os.path.join(tmp, "g"),
                             ["virtio", "hello"])
        disk = write(os.path.join(tmp, "d.img"),
                     b"STRATA-VIRTIO-DISK".ljust(4096, b"\0"))
        cfg = ("[vm bad]\nkernel = virtio.elf\nmemory = 16M\n"
               "disk = d.img\nrng = on\n"
               "[vm calm]\nkernel = hello.elf\nmemory = 16M\n"
               "cmdline = calm\n")
        cpio = make_bundle(os.path.join(tmp, "b.cpio"), cfg,
                           elves + [disk])
        run = qemu(MAX, ["-kernel", IMAGE, "-initrd", cpio],
                   timeout=arm64.TIMEOUT)
    c = Check(run)
    c.line(r"^\[bad\] virtio: blk: good requests done$", "good requests")
    for what, why in (("loop", r"chain from 0 is longer than the queue "
                       r"\(a loop\?\)"),
                      ("outside RAM", r"descriptor 0: 0x1000000000\+16 is "
                       r"not the VM's RAM"),
                      ("indirect", r"indirect descriptor, not negotiated"),
                      ("index far ahead", r"available index 500 is 500 "
                       r"entries ahead")):
        c.line(r"^warning: vm bad: virtio-blk at 0xa100000: queue 0: %s; "
               r"the device needs a reset$" % why, "Strata's %s message" % what)
        c.line(r"^\[bad\] virtio: %s: device stopped, then reset and "
               r"working$" % what, "the %s case" % what)
    c.line(r"^\[bad\] virtio: rng: 128 bytes$", "entropy")
    c.line(r"^\[bad\] virtio: 0 checks failed$", "every check passed")
    c.no_line(r"^\[bad\] FAIL", "a failed check")
    c.line(r"^vm bad: ended: powered off \(status 0\)$", "bad ended well")
    c.line(r"^\[calm\] hello: PASS", "the other VM ran")
    c.line(r"^Strata: all 2 VMs ended: 2 ok, 0 failed$", "summary")
    c.status(STOP_OK)
    return c.report(name)


TESTS = [test_virtio_hostile, test_linux_virtio]


def main():
    if not os.path.exists(IMAGE):
        print("FAIL: arm64/linux-virtio: %s missing (run make TEST=1 "
              "ARCH=arm64)" % IMAGE)
        return 1
    ok = True
    for t in TESTS:
        try:
            ok = t() and ok
        except (OSError, RuntimeError, subprocess.SubprocessError) as e:
            print("FAIL: arm64/%s: %s" % (t.__name__[5:].replace("_", "-"),
                                          e))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
