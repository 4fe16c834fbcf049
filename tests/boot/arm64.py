#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests of the arm64 Image under QEMU virt.

Uses build/test/arm64/strata.bin (built by `make TEST=1 ARCH=arm64`). Every
test boots the real Image, reads the serial console and passes only on the
expected lines: an exit status alone never passes a test. Test builds end the
run with semihosting SYS_EXIT, so QEMU's exit status is Strata's stop status.
Prints one line per test (PASS/FAIL) and exits 1 if any test failed.
"""
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
IMAGE = os.path.join(ROOT, "build", "test", "arm64", "strata.bin")
UBOOT = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"
QEMU = "qemu-system-aarch64"
TIMEOUT = 30            # seconds per QEMU run
LINK_ADDR = 0x40200000
UBOOT_ADDR = 0x40400000  # booti address: not the link address

# Strata's stop statuses (arch/arm64): 0 clean, 3 exception, 4 wrong EL.
STOP_OK, STOP_EXCEPTION, STOP_WRONG_EL = 0, 3, 4


class Run:
    """The console output and exit status of one QEMU run."""

    def __init__(self, out, status, timed_out):
        self.out = out
        self.status = status
        self.timed_out = timed_out


def qemu_cmd(machine, cpu, extra):
    return ["timeout", "-k", "5", str(TIMEOUT + 5), QEMU,
            "-M", machine, "-cpu", cpu, "-m", "512M", "-nographic",
            "-semihosting", "-no-reboot"] + extra


def run_qemu(cmd, on_output=None):
    """Run @cmd, feeding its stdin through on_output(text_so_far) -> bytes."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    deadline = time.monotonic() + TIMEOUT
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            proc.kill()
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
    rest = proc.stdout.read() if proc.poll() is not None else None
    if rest:
        buf += rest
    proc.wait()
    sel.close()
    text = buf.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    return Run(text, proc.returncode, timed_out)


class Check:
    """Collects the reasons a run fails its expectations."""

    def __init__(self, run):
        self.run = run
        self.errors = []

    def line(self, pattern, what=None):
        if not re.search(pattern, self.run.out, re.M):
            self.errors.append("missing %s" % (what or repr(pattern)))
            return None
        return re.search(pattern, self.run.out, re.M)

    def no_line(self, pattern, what=None):
        if re.search(pattern, self.run.out, re.M):
            self.errors.append("unexpected %s" % (what or repr(pattern)))

    def status(self, expected):
        if self.run.timed_out:
            self.errors.append("timed out after %d s" % TIMEOUT)
        elif self.run.status != expected:
            self.errors.append("exit status %s, expected %d"
                               % (self.run.status, expected))

    def report(self, name):
        if not self.errors:
            print("PASS: %s" % name)
            return True
        tail = " | ".join(self.run.out.strip().split("\n")[-8:])
        print("FAIL: %s: %s (last lines: %s)"
              % (name, "; ".join(self.errors), tail))
        return False


def check_boot(c, cpu_has_new_features, load_addr):
    c.line(r"^Strata \S+ \(arm64\)$", "banner")
    c.line(r"^arm64: EL2, image at 0x%x \(linked at 0x%x\)"
           % (load_addr, LINK_ADDR), "load address line")
    c.line(r"^memory map:$", "memory map")
    c.line(r"^  0x0000000040000000-0x000000005fffffff +524288 KiB usable$",
           "512 MiB of RAM at 0x40000000")
    c.line(r"^  0x%016x-0x[0-9a-f]{16} +\d+ KiB image$" % load_addr,
           "image reservation")
    c.line(r"^page allocator: \d+ of \d+ pages free", "page allocator")
    c.line(r"^arm64: PARange \d+ bits$", "PARange")
    c.line(r"^arm64: VMID bits (8|16)$", "VMID bits")
    yes = "yes" if cpu_has_new_features else "no"
    c.line(r"^arm64: FEAT_S2FWB %s$" % yes, "FEAT_S2FWB %s" % yes)
    c.line(r"^arm64: FEAT_TLBIRANGE %s$" % yes, "FEAT_TLBIRANGE %s" % yes)
    c.line(r"^arm64: GIC version 3 ", "GIC version 3")
    c.line(r"^arm64: EL2 ready", "EL2 ready")
    c.line(r"^Strata: virtualization ready$", "virtualization ready")
    c.line(r"^Strata: stopped \(status 0\)$", "clean stop")
    c.no_line(r"^error: ", "error line")
    c.status(STOP_OK)


def test_qemu_kernel():
    with tempfile.NamedTemporaryFile(prefix="strata-initrd-") as initrd:
        initrd.write(os.urandom(12345))
        initrd.flush()
        args = "loglevel=info foo=strata-test-42"
        run = run_qemu(qemu_cmd("virt,virtualization=on,gic-version=3",
                                "max,pauth-impdef=on",
                                ["-kernel", IMAGE, "-initrd", initrd.name,
                                 "-append", args]))
    c = Check(run)
    check_boot(c, True, LINK_ADDR)
    c.line(r"^command line: '%s'$" % re.escape(args), "echoed command line")
    c.line(r"^modules: 1$", "one module")
    c.line(r"^  module 0: 0x[0-9a-f]{16} 12345 bytes 'initrd'$",
           "initrd module of 12345 bytes")
    return c.report("arm64/qemu-kernel")


def test_qemu_cortex_a57():
    run = run_qemu(qemu_cmd("virt,virtualization=on,gic-version=3",
                            "cortex-a57",
                            ["-kernel", IMAGE, "-append", "loglevel=info"]))
    c = Check(run)
    check_boot(c, False, LINK_ADDR)
    c.line(r"^arm64: VMID bits 8$", "8-bit VMIDs")
    c.line(r"^arm64: 1 of 1 CPUs online$", "1 of 1 CPUs online")
    return c.report("arm64/qemu-cortex-a57")


def uboot_driver(args):
    """Stop U-Boot's autoboot, then boot Strata with booti from its prompt."""
    state = {"step": 0}
    command = ("setenv bootargs '%s'; booti 0x%x - ${fdtcontroladdr}"
               % (args, UBOOT_ADDR))

    def feed(text):
        if state["step"] == 0 and ("autoboot" in text or "=>" in text):
            state["step"] = 1
            return b" "
        if state["step"] == 1 and text.rstrip().endswith("=>"):
            state["step"] = 2
            return (command + "\n").encode()
        return None
    return feed


def test_uboot_booti():
    if not os.path.exists(UBOOT):
        print("FAIL: arm64/uboot-booti: %s missing (u-boot-qemu)" % UBOOT)
        return False
    args = "loglevel=info via=uboot"
    run = run_qemu(qemu_cmd("virt,virtualization=on,gic-version=3",
                            "max,pauth-impdef=on",
                            ["-bios", UBOOT, "-device",
                             "loader,file=%s,addr=0x%x,force-raw=on"
                             % (IMAGE, UBOOT_ADDR)]),
                   uboot_driver(args))
    c = Check(run)
    check_boot(c, True, UBOOT_ADDR)
    c.line(r"^command line: '%s'$" % re.escape(args),
           "command line from U-Boot's bootargs")
    return c.report("arm64/uboot-booti")


def test_no_dtb():
    # QEMU's generic loader starts the CPU at the Image with x0 = 0: no DTB.
    run = run_qemu(qemu_cmd("virt,virtualization=on,gic-version=3",
                            "max,pauth-impdef=on",
                            ["-device",
                             "loader,file=%s,addr=0x40600000,force-raw=on,"
                             "cpu-num=0" % IMAGE]))
    c = Check(run)
    c.line(r"^error: boot: no valid DTB at 0x0 \(x0 at entry\); stopping$",
           "missing-DTB error")
    c.line(r"^Strata: stopped \(status 1\)$", "stop line")
    c.no_line(r"^Strata \S+ \(arm64\)$", "banner (must stop before it)")
    c.status(1)
    return c.report("arm64/no-dtb")


def test_smp_psci():
    # The secondaries come up through PSCI CPU_ON (SMC to QEMU's firmware).
    run = run_qemu(qemu_cmd("virt,virtualization=on,gic-version=3",
                            "max,pauth-impdef=on",
                            ["-smp", "2", "-kernel", IMAGE, "-append",
                             "loglevel=info"]))
    c = Check(run)
    c.line(r"^arm64: CPU 1 online at EL2 \(MPIDR 0x0000000080000001\)$",
           "CPU 1 report with its MPIDR")
    c.line(r"^arm64: 2 of 2 CPUs online$", "2 of 2 CPUs online")
    c.line(r"^Strata: virtualization ready$", "virtualization ready")
    c.line(r"^Strata: stopped \(status 0\)$", "clean stop")
    c.no_line(r"^(error|warning): ", "error or warning line")
    c.status(STOP_OK)
    return c.report("arm64/smp-psci")


def test_el1_refusal():
    run = run_qemu(qemu_cmd("virt,gic-version=3", "max,pauth-impdef=on",
                            ["-kernel", IMAGE]))
    c = Check(run)
    c.line(r"^error: Strata must be entered at EL2 \(entered at EL1\); "
           r"stopping$", "EL1 refusal")
    c.line(r"^Strata: stopped \(status %d\)$" % STOP_WRONG_EL, "stop line")
    c.no_line(r"^Strata \S+ \(arm64\)$", "banner (must stop before it)")
    c.status(STOP_WRONG_EL)
    return c.report("arm64/el1-refusal")


def test_exception_dump():
    run = run_qemu(qemu_cmd("virt,virtualization=on,gic-version=3",
                            "max,pauth-impdef=on",
                            ["-kernel", IMAGE, "-append",
                             "loglevel=info selftest=fault"]))
    c = Check(run)
    c.line(r"^selftest: taking a deliberate exception$", "selftest start")
    m = c.line(r"^selftest: loading from unmapped address (0x[0-9a-f]+)$",
               "fault address")
    c.line(r"^error: EL2 exception: synchronous from the current EL",
           "exception line")
    c.line(r"^error:   EC 0x25 \(data abort at EL2\)  ESR_EL2 0x[0-9a-f]{16}$",
           "EC/ESR line")
    if m:
        c.line(r"^error:   FAR_EL2  0x%016x$" % int(m.group(1), 16),
               "FAR_EL2 equal to the address loaded")
    elr = c.line(r"^error:   ELR_EL2  0x([0-9a-f]{16})$", "ELR_EL2")
    if elr and not LINK_ADDR <= int(elr.group(1), 16) < LINK_ADDR + 0x200000:
        c.errors.append("ELR_EL2 outside Strata's image")
    c.line(r"^error:   SPSR_EL2 0x[0-9a-f]{16}$", "SPSR_EL2")
    c.line(r"^error:   x0  [0-9a-f]{16}  x1  [0-9a-f]{16}$", "registers")
    c.line(r"^error:   x30 [0-9a-f]{16}  sp  [0-9a-f]{16}$", "x30 and sp")
    c.line(r"^error: Strata: halted on an unexpected EL2 exception$",
           "halted line")
    c.line(r"^Strata: stopped \(status %d\)$" % STOP_EXCEPTION, "stop line")
    c.no_line(r"^Strata: virtualization ready$", "run past the fault")
    c.status(STOP_EXCEPTION)
    return c.report("arm64/exception-dump")


TESTS = [test_qemu_kernel, test_qemu_cortex_a57, test_uboot_booti,
         test_no_dtb, test_smp_psci, test_el1_refusal, test_exception_dump]


def main():
    if not os.path.exists(IMAGE):
        for t in TESTS:
            name = "arm64/" + t.__name__[5:].replace("_", "-")
            print("FAIL: %s: %s missing (run make TEST=1 ARCH=arm64)"
                  % (name, IMAGE))
        return 1
    ok = True
    for t in TESTS:
        ok = t() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
