#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests: the arm64 console /chosen/stdout-path names.

Uses build/test/arm64/strata.bin (`make TEST=1 ARCH=arm64`). QEMU virt has
no 16550 of its own, so each test takes QEMU's DTB for the machine it runs
(`-machine dumpdtb=`), edits it with dtc and hands it over:

- 16550: QEMU's PCI 16550 (`-device pci-serial`, the 8250 model of
  QEMU's serial.c) behind virt's PCI I/O window. U-Boot enumerates PCI,
  which puts the UART's I/O BAR at 0x1000 of the window (0x3eff0000), and
  boots Strata with `booti` and a DTB whose stdout-path names an ns16550a
  node there ("/serial@3eff1000:115200n8"). Strata's whole boot must come
  out of that UART (a file chardev), and none of it on the PL011, which
  shows U-Boot only.
- stdout-path naming no node, naming a node that is no UART (/pmu), and
  naming an ns16550a with reg-io-width 3: Strata must say so on the PL011
  and boot on it.

Every verdict rests on console lines. What is not proven here: reg-shift
and reg-io-width other than 0 and 1 on a real device (QEMU has no MMIO
16550 with 32-bit registers on virt; tests/unit/arm64guest/test_fdt.c
checks that they are read), and a DesignWare UART.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    ARM_IMAGE as IMAGE, ARM_MACHINE, UBOOT, private_dir, read_log,
    run_qemu_arm64)

TIMEOUT = 60
MEM = "512M"
CPU = "max"
LOAD = 0x40400000       # booti address
DTB_AT = 0x48000000     # where QEMU's loader puts the edited DTB
UART = 0x3eff1000       # the PCI 16550's I/O BAR 0x1000 in virt's window
UART_EXTRA = ["-nic", "none", "-device", "pci-serial,chardev=s1"]


def dump_dts(tmp, extra=()):
    dtb = os.path.join(tmp, "qemu.dtb")
    subprocess.run(["qemu-system-aarch64", "-M", ARM_MACHINE + ",dumpdtb=" +
                    dtb, "-cpu", CPU, "-m", MEM, "-nographic"] + list(extra),
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)
    return subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", dtb],
                          check=True, stdout=subprocess.PIPE, text=True,
                          timeout=60).stdout


def make_dtb(tmp, name, dts, stdout_path, node=""):
    """@dts with /chosen/stdout-path @stdout_path and @node added."""
    new, n = re.subn(r'stdout-path = "[^"]*";',
                     'stdout-path = "%s";' % stdout_path, dts, count=1)
    if n != 1:
        raise RuntimeError("no stdout-path in QEMU's DTB")
    end = new.rindex("};")
    new = new[:end] + node + new[end:]
    out = os.path.join(tmp, name + ".dtb")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, "-"],
                   input=new, check=True, text=True, timeout=60)
    return out


def uart_node(width):
    return ("\tserial@%x {\n\t\tcompatible = \"ns16550a\";\n"
            "\t\treg = <0x00 0x%x 0x00 0x08>;\n\t\treg-io-width = <%d>;\n"
            "\t\tclock-frequency = <1843200>;\n\t};\n" % (UART, UART, width))


def uboot(commands):
    """Stop U-Boot's autoboot, then type @commands one prompt at a time."""
    state = {"started": False, "sent": 0}

    def feed(text):
        if not state["started"]:
            if "autoboot" in text or "=>" in text:
                state["started"] = True
                return b" "
            return None
        if (state["sent"] < len(commands) and text.rstrip().endswith("=>")
                and text.count("=>") > state["sent"]):
            state["sent"] += 1
            return (commands[state["sent"] - 1] + "\n").encode()
        return None
    return feed


class Check:
    def __init__(self):
        self.errors = []

    def line(self, text, pattern, what):
        if not re.search(pattern, text, re.M):
            self.errors.append("missing " + what)

    def no_line(self, text, pattern, what):
        if re.search(pattern, text, re.M):
            self.errors.append("unexpected " + what)

    def report(self, name, text):
        if not self.errors:
            print("PASS: " + name, flush=True)
            return True
        tail = " | ".join(text.strip().split("\n")[-6:])
        print("FAIL: %s: %s (last lines: %s)"
              % (name, "; ".join(self.errors), tail), flush=True)
        return False


def boot_lines(c, text, where):
    c.line(text, r"^Strata \S+ \(arm64\)$", "the banner on " + where)
    c.line(text, r"^Strata: virtualization ready$",
           "'virtualization ready' on " + where)
    c.line(text, r"^Strata: stopped \(status 1\)$",
           "the stop line (no VM configured) on " + where)


def test_16550(tmp):
    dtb = make_dtb(tmp, "uart", dump_dts(tmp, ["-nic", "none"]),
                   "/serial@%x:115200n8" % UART, uart_node(1))
    log = os.path.join(tmp, "uart.log")
    run = run_qemu_arm64(CPU, ["-bios", UBOOT, "-chardev",
                               "file,id=s1,path=" + log] + UART_EXTRA + [
        "-device", "loader,file=%s,addr=0x%x,force-raw=on" % (IMAGE, LOAD),
        "-device", "loader,file=%s,addr=0x%x,force-raw=on" % (dtb, DTB_AT)],
        mem=MEM, timeout=TIMEOUT,
        on_output=uboot(["pci enum", "booti 0x%x - 0x%x" % (LOAD, DTB_AT)]))
    uart = read_log(log)
    c = Check()
    c.line(uart, r"^boot: console serial@3eff1000: 16550 at 0x3eff1000, "
           r"reg-shift 0, reg-io-width 1$", "the 16550 console line")
    boot_lines(c, uart, "the 16550")
    c.line(run.out, r"^=> booti ", "U-Boot's booti on the PL011")
    c.no_line(run.out, r"^Strata \S+ \(arm64\)$",
              "Strata's banner on the PL011")
    if run.timed_out or run.status != 1:
        c.errors.append("exit status %s, want 1" % run.status)
    return c.report("stdout-arm64/ns16550a-from-stdout-path", uart)


def test_bad(tmp, name, path, node, pattern):
    dtb = make_dtb(tmp, name, dump_dts(tmp), path, node)
    run = run_qemu_arm64(CPU, ["-kernel", IMAGE, "-dtb", dtb], mem=MEM,
                         timeout=TIMEOUT)
    c = Check()
    c.line(run.out, pattern, "the warning")
    boot_lines(c, run.out, "the PL011")
    if run.timed_out or run.status != 1:
        c.errors.append("exit status %s, want 1" % run.status)
    return c.report("stdout-arm64/" + name, run.out)


def main():
    if not os.path.exists(IMAGE):
        print("FAIL: stdout-arm64/build: %s is missing "
              "(make TEST=1 ARCH=arm64)" % IMAGE)
        return 1
    ok = True
    with private_dir("stdout-arm64-") as tmp:
        if os.path.exists(UBOOT):
            ok &= test_16550(tmp)
        else:
            print("FAIL: stdout-arm64/ns16550a-from-stdout-path: %s "
                  "missing (u-boot-qemu)" % UBOOT)
            ok = False
        ok &= test_bad(tmp, "stdout-path-names-nothing", "/nothing@0", "",
                       r"^warning: boot: /chosen/stdout-path names no node "
                       r"of the DTB; console on the first PL011$")
        ok &= test_bad(tmp, "stdout-path-not-a-uart", "/pmu", "",
                       r"^warning: boot: /chosen/stdout-path names pmu, "
                       r"which is no UART Strata drives \(arm,pl011, "
                       r"ns16550a, ns16550, snps,dw-apb-uart\); console on "
                       r"the first PL011$")
        ok &= test_bad(tmp, "bad-reg-io-width", "/serial@%x" % UART,
                       uart_node(3),
                       r"^warning: boot: the console serial@3eff1000 has a "
                       r"bad reg, reg-shift or reg-io-width; console on the "
                       r"first PL011$")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
