#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests of the two-way console (docs/console.md), driven through a
pseudo-terminal as a person at a terminal would drive it.

Each case runs `tools/strata run` on the test build (build/test/arm64/
strata.bin, `make TEST=1 ARCH=arm64`) with its standard input and output
the slave side of a pty (Python's pty module), so the launcher takes its
interactive path (QEMU's serial port on the terminal, raw), and types keys
on the master side:

  console-arm64/echo-one-vm    the echo guest (tests/guests/arm64/echo.c)
                               reads its PL011 with the receive interrupts
                               through the vGIC: its prompt appears before
                               any newline, the typed line is echoed on the
                               prompt's line and answered, "quit" ends it
  console-arm64/focus-two-vms  two echo guests: keys reach the VM with the
                               focus only; Ctrl-a 2 and Ctrl-a n move the
                               focus (Strata says where), Ctrl-a ? lists
                               the VMs, Ctrl-a Ctrl-a sends a literal
                               Ctrl-a, the focus moves on when its VM ends,
                               Ctrl-a d dumps the focused VM's roots,
                               Ctrl-a x stops the rest and ends the run
  console-arm64/linux-shell    two Debian arm64 Linux VMs with busybox
                               shells on ttyAMA0, one disk image (b's
                               read-only) and the virtual network: typed
                               into a, `cat` reads the disk; Ctrl-a 2, then
                               b pings a and answers `echo b-$((6*7))`;
                               each powers off from its shell (skipped
                               when the kernel cannot be fetched)

Verdicts rest on console events only: every wait is for a line or text to
appear (a failure when it has not after a generous bound), never a sleep
before typing.
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    ROOT, Fail, ARM_IMAGE, private_dir, build_guests)

STRATA = os.path.join(ROOT, "tools", "strata")
WAIT = 120              # seconds any one console event may take at most
CTRL_A = b"\x01"


class Term:
    """tools/strata run on a pty: what it printed so far, and keys."""

    def __init__(self, argv):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, STRATA] + argv, cwd=ROOT, stdin=slave,
            stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.out = ""
        self.pos = 0            # where the next expect() starts looking

    def _read(self, until):
        left = until - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.master], [], [], min(left, 1.0))
        if r:
            try:
                data = os.read(self.master, 4096)
            except OSError:     # EIO: the other side closed
                data = b""
            if not data:
                return None
            self.out += data.decode("latin-1").replace("\r", "")
        return True

    def expect(self, pattern, what, timeout=WAIT, keep=False):
        """The match of @pattern (multi-line) in what appeared after the
        previous match (@keep: the next search starts at this match, for a
        line that will go on); Fail after @timeout without it."""
        until = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.start() if keep else m.end()
                return m
            got = self._read(until)
            if got is None and self.proc.poll() is not None:
                raise Fail("the run ended before %s (%s)" %
                           (what, self.tail()))
            if got is False:
                raise Fail("no %s within %d s (%s)" %
                           (what, timeout, self.tail()))

    def type(self, keys):
        os.write(self.master, keys)

    def finish(self, timeout=WAIT):
        """Read to the end; the launcher's exit status."""
        until = time.monotonic() + timeout
        while self._read(until):
            pass
        try:
            return self.proc.wait(max(1, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)

    def tail(self, n=8):
        lines = [l for l in self.out.splitlines() if l.strip()]
        return " | ".join(lines[-n:])[-1200:]


def launch(vms, timeout=WAIT):
    argv = ["run", "--arch", "arm64", "--strata", ARM_IMAGE,
            "--timeout", "600"]
    for v in vms:
        argv += ["--vm", v]
    return Term(argv)


def case(name, fn, *args):
    try:
        fn(*args)
        print("PASS: %s" % name, flush=True)
        return True
    except Fail as e:
        print("FAIL: %s: %s" % (name, e), flush=True)
        return False


def echo_one_vm(elf):
    t = launch(["kernel=%s,name=solo,memory=16M,cmdline=solo" % elf])
    try:
        t.expect(r"interactive console: keys go to the VM with the focus",
                 "the launcher's interactive-console note")
        t.expect(r"^Strata: console: keys go to vm solo \(1 of 1; Ctrl-a \? "
                 r"for help\)$", "Strata's focus line")
        t.expect(r"^\[solo\] echo solo: ready, PL011 on INTID 33$",
                 "the guest's ready line (INTID from its DTB)")
        # the prompt has no newline: it must show on its own
        t.expect(r"^\[solo\] solo> \Z", "the prompt before any newline",
                 keep=True)
        t.type(b"hello there\r")
        t.expect(r"^\[solo\] solo> hello there$",
                 "the typed keys echoed on the prompt's line")
        m = t.expect(r"^\[solo\] echo solo: line 'hello there' \(11 bytes, "
                     r"(\d+) interrupts so far\)$", "the guest's answer")
        if int(m.group(1)) < 1:
            raise Fail("the keys arrived without a receive interrupt")
        t.expect(r"^\[solo\] solo> \Z", "the next prompt", keep=True)
        t.type(b"quit\r")
        t.expect(r"^\[solo\] echo solo: PASS \(2 lines, 17 bytes, \d+ "
                 r"interrupts\)$", "the guest's PASS")
        t.expect(r"^vm solo: ended: powered off \(status 0\)$",
                 "the VM's end")
        t.expect(r"all 1 VMs ended normally", "the launcher's verdict")
        rc = t.finish()
        if rc != 0:
            raise Fail("launcher exit %s, want 0 (%s)" % (rc, t.tail()))
    finally:
        t.close()


def focus_two_vms(elf):
    t = launch(["kernel=%s,name=left,memory=16M,cmdline=left" % elf,
                "kernel=%s,name=right,memory=16M,cmdline=right" % elf])
    try:
        t.expect(r"^Strata: console: keys go to vm left \(1 of 2; ",
                 "the first VM's focus")
        for vm in ("left", "right"):
            t.expect(r"^\[%s\] echo %s: ready" % (vm, vm),
                     "%s ready" % vm, )
            t.pos = 0
        t.type(b"one\r")
        t.expect(r"^\[left\] echo left: line 'one' ", "left's answer")
        t.type(CTRL_A + b"2")
        t.expect(r"^Strata: console: keys go to vm right \(2 of 2; ",
                 "the focus on right after Ctrl-a 2")
        t.type(b"two" + CTRL_A + CTRL_A + b"\r")
        t.expect(r"^\[right\] echo right: line 'two\^A' \(4 bytes",
                 "right's answer with the literal Ctrl-a")
        t.type(CTRL_A + b"?")
        t.expect(r"^Strata: console keys: Ctrl-a 1\.\.2 focus that VM",
                 "the help")
        t.expect(r"^Strata: console:  1 left$", "left in the list")
        t.expect(r"^Strata: console: \*2 right$", "right marked focused")
        t.type(CTRL_A + b"n")
        t.expect(r"^Strata: console: keys go to vm left \(1 of 2; ",
                 "the focus back on left after Ctrl-a n")
        t.type(b"three\r")
        t.expect(r"^\[left\] echo left: line 'three' ", "left's answer")
        # Ctrl-a d: the focused VM's roots in the canonical dump; left's
        # RAM at 0x40000000 is mapped (it ran), so a leaf line shows it.
        t.type(CTRL_A + b"d")
        t.expect(r"^Strata: dump: vm left root 0: view 0, \d+ references?$",
                 "the dump's root header")
        t.expect(r"^Strata: dump: vm left:   .*0x0*4[0-9a-f]{7}\b",
                 "a dump line of left's RAM")
        t.expect(r"^Strata: dump: vm left: [1-9]\d* roots?$",
                 "the dump's end")
        if re.search(r"^\[right\] echo right: line '(one|three)'", t.out,
                     re.M) or re.search(r"^\[left\] echo left: line 'two",
                                        t.out, re.M):
            raise Fail("keys reached the VM without the focus")
        t.type(CTRL_A + b"2" + b"quit\r")
        t.expect(r"^\[right\] echo right: PASS \(2 lines, ",
                 "right's PASS")
        t.expect(r"^vm right: ended: powered off \(status 0\)$",
                 "right's end")
        t.expect(r"^Strata: console: keys go to vm left \(1 of 2; ",
                 "the focus moving on when right ended")
        t.type(CTRL_A + b"x")
        t.expect(r"^Strata: console: stopping every VM \(Ctrl-a x\)$",
                 "Ctrl-a x")
        t.expect(r"^vm left: ended: stopped: at the console \(Ctrl-a x\)$",
                 "left stopped at the console")
        t.expect(r"^Strata: all 2 VMs ended: 1 ok, 1 failed$",
                 "Strata's summary")
        rc = t.finish()
        if rc != 1:
            raise Fail("launcher exit %s, want 1 (a VM was stopped) (%s)" %
                       (rc, t.tail()))
    finally:
        t.close()


# The Linux guests' /init: the virtio drivers, the disk on /mnt, the
# network up (virtio_arm64.py's INIT_COMMON), then a busybox shell on the
# console (ttyAMA0).
SHELL_INIT = """
busybox mount -t ext4 %(mount)s /dev/vda /mnt
echo "STRATA-SHELL on $(busybox uname -m)"
exec busybox sh
"""


ASK = r"(?:\?\[6n)?"


def linux_shell(tmp):
    """Two Debian Linux VMs, each with a busybox shell, the same disk
    image (b's read-only) and the virtual network: typed commands reach
    the VM with the focus; a reads the disk, b pings a; each powers off
    from its shell."""
    import virtio_arm64
    from arm64 import linux_deps
    deps = linux_deps()
    if isinstance(deps, str):
        return "SKIP: " + deps
    image, busybox = deps
    token = "SHELL-DISK-%d" % os.getpid()
    disk = virtio_arm64.make_disk(tmp, token)
    rds = {}
    for vm, ip, mount in (("a", "10.0.2.1", ""), ("b", "10.0.2.2", "-o ro")):
        script = virtio_arm64.INIT_COMMON + \
            SHELL_INIT.replace("%(mount)s", mount)
        rds[vm] = virtio_arm64.make_initrd(tmp, vm + ".gz", script, busybox,
                                           ip)
    t = launch(["kernel=%s,initrd=%s,name=a,memory=192M,disk=%s,net=on,"
                "cmdline=console=ttyAMA0 panic=-1 quiet" %
                (image, rds["a"], disk),
                "kernel=%s,initrd=%s,name=b,memory=192M,disk=%s,disk_ro=on,"
                "net=on,cmdline=console=ttyAMA0 panic=-1 quiet" %
                (image, rds["b"], disk)])
    try:
        t.expect(r"^Strata: console: keys go to vm a \(1 of 2; ",
                 "the focus on a")
        for vm in ("a", "b"):
            t.expect(r"^\[%s\] STRATA-SHELL on aarch64$" % vm,
                     "%s's /init line" % vm, timeout=300)
            t.expect(r"^\[%s\] / # " % vm, "%s's shell prompt" % vm,
                     timeout=300)
            t.pos = 0
        t.type(b"cat /mnt/token.txt\r")
        t.expect(r"^\[a\] (?:/ # )?%scat /mnt/token.txt$" % ASK,
                 "the command echoed on a's prompt line")
        t.expect(r"^\[a\] %s$" % token, "a's shell read the disk")
        t.type(CTRL_A + b"2")
        t.expect(r"^Strata: console: keys go to vm b \(2 of 2; ",
                 "the focus on b after Ctrl-a 2")
        t.type(b"ping -c 2 10.0.2.1 | grep -c 'bytes from'\r")
        t.expect(r"^\[b\] 2$", "b's two ping replies from a")
        t.type(b"echo hello-$((6*7)) > /dev/null; echo b-$((6*7))\r")
        t.expect(r"^\[b\] b-42$", "b's shell answering")
        if re.search(r"^\[b\] %s$" % token, t.out, re.M) or \
                re.search(r"^\[a\] b-42$", t.out, re.M):
            raise Fail("keys reached the VM without the focus")
        t.type(b"poweroff -f\r")
        t.expect(r"^vm b: ended: powered off \(status 0\)$",
                 "b powered off from its shell")
        t.expect(r"^Strata: console: keys go to vm a \(1 of 2; ",
                 "the focus back on a when b ended")
        t.type(b"poweroff -f\r")
        t.expect(r"^vm a: ended: powered off \(status 0\)$",
                 "a powered off from its shell")
        rc = t.finish()
        if rc != 0:
            raise Fail("launcher exit %s, want 0 (%s)" % (rc, t.tail()))
    finally:
        t.close()
    if re.search(r"Internal error|Kernel panic|Unable to handle", t.out):
        raise Fail("a Linux oops or panic")
    return None


def main():
    if not os.path.exists(ARM_IMAGE):
        print("FAIL: console-arm64/build: %s is missing (make TEST=1 "
              "ARCH=arm64)" % ARM_IMAGE)
        return 1
    ok = True
    with private_dir("console-arm64-") as tmp:
        try:
            elf, = build_guests("arm64", os.path.join(tmp, "guests"),
                                ["echo"])
        except Fail as e:
            print("FAIL: console-arm64/build: %s" % e)
            return 1
        ok &= case("console-arm64/echo-one-vm", echo_one_vm, elf)
        ok &= case("console-arm64/focus-two-vms", focus_two_vms, elf)
        try:
            skip = linux_shell(tmp)
            if skip:
                print("%s: console-arm64/linux-shell" % skip)
            else:
                print("PASS: console-arm64/linux-shell", flush=True)
        except Fail as e:
            print("FAIL: console-arm64/linux-shell: %s" % e, flush=True)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
