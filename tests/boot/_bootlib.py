# SPDX-License-Identifier: MIT
"""What the boot test scripts of tests/boot/ share: failures, log checks,
private temporary directories, the test guests built into them, GRUB ISOs
with multiboot2 modules, cpio (newc) bundles, and QEMU and Bochs runs with
timeouts.

tests/run.py runs every tests/boot/*.py but the ones whose name starts
with "_": this file is a library, not a test script. The scripts import it
with `sys.path.insert(0, HERE)` first.
"""
import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TEST_BUILD = os.path.join(ROOT, "build", "test")
X86_ELF = os.path.join(TEST_BUILD, "x86_64", "strata.elf")
ARM_IMAGE = os.path.join(TEST_BUILD, "arm64", "strata.bin")
UBOOT = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
ARM_MACHINE = "virt,virtualization=on,gic-version=3"

MKRESCUE_TIMEOUT = 60
GUEST_BUILD_TIMEOUT = 300


class Fail(Exception):
    """A test failed; the message says why."""


class Skip(Exception):
    """A test cannot run here; the message says why."""


# ---- checks on a console log ------------------------------------------------

def tail(log, n=12):
    """The last @n non-empty lines of @log on one line."""
    lines = [l for l in log.splitlines() if l.strip()]
    return " | ".join(lines[-n:]) if lines else "(empty log)"


def need(log, pattern, what):
    """The match of @pattern (multi-line mode) in @log, a text or a list of
    lines; Fail with "no @what" when there is none."""
    if not isinstance(log, str):
        log = "\n".join(log)
    m = re.search(pattern, log, re.M)
    if not m:
        raise Fail("no %s" % what)
    return m


def need_line(log, line):
    """Fail unless @line is a whole line of @log."""
    if line not in log.splitlines():
        raise Fail("missing line '%s'" % line)


def check_status(status, want, emulator):
    """Fail unless the emulator exited (not timed out) with @want."""
    if status is None:
        raise Fail("%s timed out" % emulator)
    if status != want:
        raise Fail("%s exit status %d, expected %d" % (emulator, status, want))


@contextlib.contextmanager
def with_tail(log, n=14):
    """Add the last @n lines of @log to a Fail raised inside."""
    try:
        yield
    except Fail as e:
        raise Fail("%s (%s)" % (e, tail(log, n))) from None


def check_no_exception(log):
    """Fail if Strata (x86) printed an exception dump."""
    if re.search(r"^error: exception", log, re.M):
        raise Fail("unexpected exception dump")


# ---- temporary directories and files ----------------------------------------

@contextlib.contextmanager
def private_dir(prefix):
    """A new directory under build/test/, removed afterwards unless the
    environment sets STRATA_KEEP=1 (then its path goes to stderr)."""
    os.makedirs(TEST_BUILD, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=prefix, dir=TEST_BUILD)
    try:
        yield tmp
    finally:
        if os.environ.get("STRATA_KEEP"):
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    """Write @data (bytes or text) to @path; returns @path."""
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def read_log(path):
    """A serial log file as text with CRs removed; "" if it is missing."""
    try:
        return read(path).decode("latin-1").replace("\r", "")
    except FileNotFoundError:
        return ""


# ---- the test guests ----------------------------------------------------------

def build_guests(arch, out, names=()):
    """Build the test guests @names (all when empty) of tests/guests/@arch/
    into @out, a directory private to this run: other boot scripts build
    the same guests at the same time. Returns the paths of @names."""
    paths = [os.path.join(out, n + ".elf") for n in names]
    if arch == "arm64":
        argv = ["make", "-s", "-C", os.path.join(ROOT, "tests", "guests",
                                                 "arm64"), "OUT=" + out]
    else:
        argv = ["make", "-s", "-f", os.path.join(ROOT, "tests", "guests",
                                                 "x86", "Makefile"),
                "O=" + out]
    p = subprocess.run(argv + paths, cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace",
                       timeout=GUEST_BUILD_TIMEOUT)
    if p.returncode or not all(os.path.exists(x) for x in paths):
        raise Fail("building the %s guests failed: %s"
                   % (arch, p.stdout.strip()[-400:]))
    return paths


# ---- boot media -------------------------------------------------------------

def vm_modules(cfg, kernels):
    """The modules of a VM bundle: strata.cfg with the text @cfg, then the
    files @kernels under their own names."""
    return [("strata.cfg", cfg.encode(), "strata.cfg")] + [
        (os.path.basename(k), k, os.path.basename(k)) for k in kernels]


def make_iso(tmp, name, cmdline, modules=(), elf=X86_ELF):
    """A GRUB ISO booting @elf with @cmdline and multiboot2 @modules, a
    list of (file name, contents, module command line) where contents are
    bytes or the path of a file to copy. Returns the ISO's path."""
    root = os.path.join(tmp, name + ".d")
    boot = os.path.join(root, "boot")
    os.makedirs(os.path.join(boot, "grub"))
    shutil.copy(elf, os.path.join(boot, "strata.elf"))
    cfg = ["set timeout=0", "set default=0", 'menuentry "Strata" {',
           "  multiboot2 /boot/strata.elf " + cmdline]
    for fname, data, mcmd in modules:
        if isinstance(data, bytes):
            write(os.path.join(boot, fname), data)
        else:
            shutil.copy(data, os.path.join(boot, fname))
        cfg.append("  module2 /boot/%s %s" % (fname, mcmd))
    cfg += ["  boot", "}"]
    write(os.path.join(boot, "grub", "grub.cfg"), "\n".join(cfg) + "\n")
    iso = os.path.join(tmp, name + ".iso")
    p = subprocess.run(["grub-mkrescue", "-o", iso, root],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", timeout=MKRESCUE_TIMEOUT)
    if p.returncode != 0 or not os.path.exists(iso):
        raise Fail("grub-mkrescue failed: " + p.stdout.strip()[-300:])
    return iso


def newc(entries):
    """A cpio newc archive of @entries: (name, bytes) for a 0644 file or
    (name, bytes, mode) with the full st_mode (0o040755 for a directory)."""
    out = bytearray()

    def entry(ino, name, data, mode):
        nb = name.encode() + b"\0"
        nlink = 2 if mode & 0o170000 == 0o040000 else 1
        fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
                  len(nb), 0]
        out.extend(b"070701" + b"".join(b"%08X" % f for f in fields))
        out.extend(nb)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for i, e in enumerate(entries):
        entry(i + 1, e[0], e[1], e[2] if len(e) > 2 else 0o100644)
    entry(0, "TRAILER!!!", b"", 0)
    return bytes(out)


def make_bundle(path, cfg, files):
    """Write a Strata boot bundle to @path: strata.cfg with the text @cfg,
    then @files, each a path (stored under its own name) or a pair (name,
    bytes or path). Returns @path."""
    entries = [("strata.cfg", cfg.encode())]
    for f in files:
        name, data = f if isinstance(f, tuple) else (os.path.basename(f), f)
        entries.append((name, data if isinstance(data, bytes) else read(data)))
    return write(path, newc(entries))


# ---- running emulators --------------------------------------------------------

class Run:
    """The console output, exit status (None after a timeout) and wall time
    of one emulator run."""

    def __init__(self, out, status, timed_out, secs):
        self.out = out
        self.status = None if timed_out else status
        self.timed_out = timed_out
        self.secs = secs

    def tail(self, n=10):
        return tail(self.out, n)

    def guest(self, vm):
        """The lines guest @vm printed, without the "[vm] " prefix."""
        pre = "[%s] " % vm
        return [l[len(pre):] for l in self.out.splitlines()
                if l.startswith(pre)]


def run(argv, timeout, on_output=None):
    """Run @argv for at most @timeout seconds and return its Run: stdout
    and stderr together as text. @on_output(text so far) may return bytes
    to type on its stdin; without it stdin is /dev/null. A run that
    outlives @timeout is killed with its whole process group."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if on_output else
                            subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    timed_out = False
    while True:
        left = start + timeout - time.monotonic()
        if left <= 0:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            break
        if not sel.select(timeout=min(left, 0.2)):
            if proc.poll() is not None:
                break
            continue
        chunk = proc.stdout.read()
        if not chunk:
            if proc.poll() is not None or chunk == b"":
                break
            continue
        buf += chunk
        if on_output:
            data = on_output(buf.decode("latin-1"))
            if data:
                proc.stdin.write(data)
                proc.stdin.flush()
    proc.wait()
    rest = proc.stdout.read()
    if rest:
        buf += rest
    sel.close()
    proc.stdout.close()
    if proc.stdin:
        proc.stdin.close()
    text = buf.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    return Run(text, proc.returncode, timed_out, time.monotonic() - start)


def run_qemu_arm64(cpu, extra, mem="512M", timeout=30, on_output=None,
                   machine=ARM_MACHINE):
    """QEMU virt (EL2, GICv3 by default) on @cpu with @mem, console on
    stdio, semihosting on (test builds end with SYS_EXIT, so the exit
    status is Strata's stop status) and @extra arguments."""
    return run(["qemu-system-aarch64", "-M", machine, "-cpu", cpu,
                "-m", mem, "-nographic", "-semihosting", "-no-reboot"] +
               extra, timeout, on_output)


def run_qemu_x86(tmp, name, iso, mem="256", timeout=60):
    """Boot @iso under QEMU TCG -cpu max with isa-debug-exit; returns (exit
    status or None after a timeout, serial log)."""
    serial = os.path.join(tmp, name + ".serial")
    r = run(["qemu-system-x86_64", "-machine", "pc", "-cpu", "max",
             "-accel", "tcg", "-m", mem, "-cdrom", iso, "-boot", "d",
             "-display", "none", "-serial", "file:" + serial,
             "-monitor", "none", "-no-reboot",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=4"], timeout)
    return r.status, read_log(serial)


def run_bochs(tmp, name, iso, cpu="corei7_skylake_x", megs=256, timeout=90,
              count=1):
    """Boot @iso under Bochs (@cpu, @count physical CPUs, @megs MiB of
    RAM); returns (exit status or None after a timeout, serial log)."""
    serial = os.path.join(tmp, name + ".serial")
    rc = os.path.join(tmp, name + ".bochsrc")
    cont = write(os.path.join(tmp, name + ".cont"), "c\nq\n")
    write(rc, "\n".join([
        # host= may not exceed 2048 MiB, guest= may: Bochs backs the rest
        # itself.
        "memory: guest=%d, host=%d" % (megs, min(megs, 2048)),
        "cpu: model=%s, count=%d, reset_on_triple_fault=0" % (cpu, count),
        "romimage: file=/usr/share/bochs/BIOS-bochs-latest",
        "vgaromimage: file=/usr/share/vgabios/vgabios.bin",
        'display_library: rfb, options="timeout=0"',
        "ata0-master: type=cdrom, path=%s, status=inserted" % iso,
        "boot: cdrom",
        "com1: enabled=1, mode=file, dev=%s" % serial,
        "port_e9_hack: enabled=1",
        "magic_break: enabled=1",
        "clock: sync=none, time0=local",
        "speaker: enabled=0",
        "sound: driver=dummy",
        "log: %s" % os.path.join(tmp, name + ".bochs.log"),
    ]) + "\n")
    r = run(["bochs", "-f", rc, "-q", "-rc", cont], timeout)
    return r.status, read_log(serial)


def apt_unpack(pkg, dest):
    """apt-get download @pkg and unpack it into @dest; error text or None."""
    tmp = tempfile.mkdtemp(prefix="apt-", dir=os.path.dirname(dest))
    try:
        p = subprocess.run(["apt-get", "download", "-q", pkg], cwd=tmp,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if p.returncode or not debs:
            return "apt-get download %s failed: %s" % (
                pkg, p.stdout.decode(errors="replace").strip()[-200:])
        subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, debs[0]), dest],
                       check=True)
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def unpack_debian_kernel(flavor, qual, unpacked, missing_hint):
    """Debian's current linux-image-@flavor kernel package and
    busybox-static (@qual: "" or ":arm64", the package architecture),
    unpacked into @unpacked (emptied first). Returns (package name,
    vmlinuz path) or an error text; @missing_hint is the error when apt
    knows no such kernel."""
    p = subprocess.run(["apt-cache", "depends",
                        "linux-image-%s%s" % (flavor, qual)],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    m = re.search(r"Depends: (linux-image-\S+-%s)" % flavor,
                  p.stdout.decode(errors="replace"))
    if not m:
        return missing_hint
    shutil.rmtree(unpacked, ignore_errors=True)
    for pkg in (m.group(1) + qual, "busybox-static" + qual):
        err = apt_unpack(pkg, unpacked)
        if err:
            return err
    boot = os.path.join(unpacked, "boot")
    kernels = [f for f in os.listdir(boot) if f.startswith("vmlinuz-")]
    if not kernels:
        return "no vmlinuz in " + m.group(1)
    return m.group(1), os.path.join(boot, kernels[0])


def guest_result(log, vm, guest, min_checks):
    """A test guest's `GUEST: RESULT: PASS (N checks)` line from VM @vm,
    with at least @min_checks checks; its FAIL lines otherwise."""
    m = need(log, r"^\[%s\] %s: RESULT: (PASS \((\d+) checks\)|FAIL.*)$"
             % (vm, guest), "result line of VM %s" % vm)
    if not m.group(1).startswith("PASS"):
        fails = re.findall(r"^\[%s\] FAIL: .*$" % vm, log, re.M)
        raise Fail("%s: %s" % (m.group(1), " | ".join(fails[:6])))
    if int(m.group(2)) < min_checks:
        raise Fail("VM %s ran only %s checks" % (vm, m.group(2)))


def ended_ok(log, vm):
    need(log, r"^vm %s: ended: powered off \(status 0\)$" % vm,
         "'vm %s: ended: powered off (status 0)'" % vm)


def select_tests(tests, elf, argv=None):
    """The entries of @tests (name first) the command line names (all when
    it names none); None after a FAIL line for each when the test image
    @elf is missing."""
    only = sys.argv[1:] if argv is None else argv
    picked = [t for t in tests if not only or any(o in t[0] for o in only)]
    if not os.path.exists(elf):
        for t in picked:
            print("FAIL: %s: %s missing; run 'make TEST=1 ARCH=x86_64'"
                  % (t[0], elf))
        return None
    return picked
