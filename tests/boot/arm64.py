#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot tests of the arm64 Image under QEMU virt.

Uses build/test/arm64/strata.bin (built by `make TEST=1 ARCH=arm64`). Every
test boots the real Image, reads the serial console and passes only on the
expected lines: an exit status alone never passes a test. Test builds end the
run with semihosting SYS_EXIT, so QEMU's exit status is Strata's stop status.
Prints one line per test (PASS/FAIL) and exits 1 if any test failed.

The guest tests build small EL1 programs (GUEST_SRC, with the cross
compiler) and boot them as VMs from a bundle: exceptions Strata injects,
PSCI and unknown calls, a second vCPU, FP/SIMD state across other VMs'
slices, a write-protect fault, an exception storm that stops only its own
VM and a reset request that ends it (on_reset = stop; tests/boot/reset.py
has the restart), a guest spinning with no exits that must not keep
another VM from finishing (time slicing by the EL2 timer), guests running
tens of thousands of stray instructions (seeded, so a failure replays)
that must neither stop Strata nor the VM beside them, and virtual timer
interrupts and an SGI through the virtual GIC.
"""
import gzip
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _bootlib import (  # noqa: E402
    ROOT, ARM_IMAGE as IMAGE, UBOOT, private_dir, write, newc,
    make_bundle, run_qemu_arm64 as qemu, unpack_debian_kernel)

TIMEOUT = 30            # seconds per QEMU run
LINUX_TIMEOUT = 120     # ... booting Linux (about 6-10 s when idle)
LINK_ADDR = 0x40200000
UBOOT_ADDR = 0x40400000  # booti address: not the link address
UBOOT_INITRD = 0x46000000  # where the guest bundle waits for booti

CROSS_CC = "aarch64-linux-gnu-gcc"

# Strata's stop statuses (arch/arm64): 0 clean, 3 exception, 4 wrong EL.
STOP_OK, STOP_EXCEPTION, STOP_WRONG_EL = 0, 3, 4
MAX = "max,pauth-impdef=on"


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
            self.errors.append("timed out")
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


# With no bundle (or none that holds a strata.cfg) no VM is configured:
# Strata says so and stops with status 1 (README, "Exit status").
NO_VM_LINES = [r"^error: bundle: no strata\.cfg \(expected the VM configuration "
               r"file in the bundle\), so no VMs$",
               r"^error: Strata: no VM is configured; stopping$",
               r"^Strata: stopped \(status 1\)$"]


def check_no_vms(c, allowed=()):
    """Strata stopped with status 1 because no VM is configured, and printed
    no error line but those and the ones matching @allowed."""
    for pattern in NO_VM_LINES:
        c.line(pattern, "line %r" % pattern)
    c.no_line(r"^error: (?!%s)" % "|".join(
        [r"bundle: no strata\.cfg ", r"Strata: no VM is configured"] +
        list(allowed)), "another error line")
    c.status(1)


def check_boot(c, cpu_has_new_features, load_addr, allowed=()):
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
    check_no_vms(c, allowed)


def test_qemu_kernel():
    args = "loglevel=info foo=strata-test-42"
    with private_dir("arm64-initrd-") as tmp:
        initrd = write(os.path.join(tmp, "initrd"),
                       b"NOTCPIO" + os.urandom(12345 - 7))
        run = qemu(MAX, ["-kernel", IMAGE, "-initrd", initrd, "-append",
                         args], timeout=TIMEOUT)
    c = Check(run)
    # random bytes as the initrd: named, and no VM is configured
    not_newc = (r"bundle: not a cpio newc archive \(no cpio magic at offset "
                r"0\); expected the 070701 magic of `cpio -H newc`$")
    check_boot(c, True, LINK_ADDR, [not_newc])
    c.line(r"^error: " + not_newc, "the initrd named as not a newc archive")
    c.line(r"^command line: '%s'$" % re.escape(args), "echoed command line")
    c.line(r"^modules: 1$", "one module")
    c.line(r"^  module 0: 0x[0-9a-f]{16} 12345 bytes 'initrd'$",
           "initrd module of 12345 bytes")
    return c.report("arm64/qemu-kernel")


def test_qemu_cortex_a57():
    run = qemu("cortex-a57", ["-kernel", IMAGE, "-append", "loglevel=info"],
               timeout=TIMEOUT)
    c = Check(run)
    check_boot(c, False, LINK_ADDR)
    c.line(r"^arm64: VMID bits 8$", "8-bit VMIDs")
    c.line(r"^arm64: 1 of 1 CPUs online$", "1 of 1 CPUs online")
    return c.report("arm64/qemu-cortex-a57")


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


def test_uboot_booti():
    if not os.path.exists(UBOOT):
        print("FAIL: arm64/uboot-booti: %s missing (u-boot-qemu)" % UBOOT)
        return False
    args = "loglevel=info via=uboot"
    run = qemu(MAX, ["-bios", UBOOT, "-device",
                     "loader,file=%s,addr=0x%x,force-raw=on"
                     % (IMAGE, UBOOT_ADDR)], timeout=TIMEOUT,
               on_output=uboot_driver(
                   "setenv bootargs '%s'; booti 0x%x - ${fdtcontroladdr}"
                   % (args, UBOOT_ADDR)))
    c = Check(run)
    check_boot(c, True, UBOOT_ADDR)
    c.line(r"^command line: '%s'$" % re.escape(args),
           "command line from U-Boot's bootargs")
    return c.report("arm64/uboot-booti")


def test_no_dtb():
    # QEMU's generic loader starts the CPU at the Image with x0 = 0: no DTB.
    run = qemu(MAX, ["-device", "loader,file=%s,addr=0x40600000,"
                     "force-raw=on,cpu-num=0" % IMAGE], timeout=TIMEOUT)
    c = Check(run)
    c.line(r"^error: boot: no valid DTB at 0x0 \(x0 at entry\); stopping$",
           "missing-DTB error")
    c.line(r"^Strata: stopped \(status 1\)$", "stop line")
    c.no_line(r"^Strata \S+ \(arm64\)$", "banner (must stop before it)")
    c.status(1)
    return c.report("arm64/no-dtb")


def test_smp_psci():
    # The secondaries come up through PSCI CPU_ON (SMC to QEMU's firmware).
    run = qemu(MAX, ["-smp", "2", "-kernel", IMAGE, "-append",
                     "loglevel=info"], timeout=TIMEOUT)
    c = Check(run)
    c.line(r"^arm64: CPU 1 online at EL2 \(MPIDR 0x0000000080000001\)$",
           "CPU 1 report with its MPIDR")
    c.line(r"^arm64: 2 of 2 CPUs online$", "2 of 2 CPUs online")
    c.line(r"^Strata: virtualization ready$", "virtualization ready")
    c.no_line(r"^warning: ", "warning line")
    check_no_vms(c)
    return c.report("arm64/smp-psci")


def test_el1_refusal():
    run = qemu(MAX, ["-kernel", IMAGE], timeout=TIMEOUT,
               machine="virt,gic-version=3")
    c = Check(run)
    c.line(r"^error: Strata must be entered at EL2 \(entered at EL1\); "
           r"stopping$", "EL1 refusal")
    c.line(r"^Strata: stopped \(status %d\)$" % STOP_WRONG_EL, "stop line")
    c.no_line(r"^Strata \S+ \(arm64\)$", "banner (must stop before it)")
    c.status(STOP_WRONG_EL)
    return c.report("arm64/el1-refusal")


def test_exception_dump():
    run = qemu(MAX, ["-kernel", IMAGE, "-append",
                     "loglevel=info selftest=fault"], timeout=TIMEOUT)
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


# ---- guests ----------------------------------------------------------------

GUEST_SRC = r"""
/*
 * The guests of tests/boot/arm64.py, one source built once per MODE. They
 * run at EL1 with the MMU off, print over the PL011 and end with
 * STRATA_HC_POWER_OFF, whose status is a bit mask of the failed checks.
 */
#include <stdint.h>

#define PL011		0x09000000UL
#define TESTDEV		0x0a000000UL
#define HC_WRPROTECT	0xc6000003UL
#define HC_COUNTER	0xc6000004UL
#define HC_POWER_OFF	0xc6000005UL
#define BIT32(n)	((uint32_t)1 << (n))
#define CTR_EXITS	0
#define CTR_WP_FAULTS	5
#define CTR_MMIO	6
#define CTR_HYPERCALLS	9
#define CTR_HC_UNKNOWN	10
#define CTR_INJECTED	11
#define PSCI_VERSION	0x84000000UL
#define PSCI_CPU_OFF	0x84000002UL
#define PSCI_CPU_ON	0xc4000003UL
#define PSCI_AFF_INFO	0xc4000004UL
#define PSCI_SYS_RESET	0x84000009UL
#define PSCI_FEATURES	0x8400000aUL

struct res {
	long x0;
	uint64_t x1;
};

int main(void);
void exc_c(uint64_t kind);
void secondary_c(uint64_t ctx);

__asm__(".section .text.start, \"ax\"\n"
	".global _start\n_start:\n"
	"	adrp x1, stack_top\n	add x1, x1, :lo12:stack_top\n	mov sp, x1\n"
	"	adrp x1, vectors\n	add x1, x1, :lo12:vectors\n"
	"	msr vbar_el1, x1\n	isb\n"
	"	bl main\n	mov x1, x0\n"
	"	movz x0, #0x0005\n	movk x0, #0xc600, lsl #16\n	hvc #0\n"
	"1:	b 1b\n"
	"secondary:\n"
	"	adrp x1, vectors\n	add x1, x1, :lo12:vectors\n"
	"	msr vbar_el1, x1\n	isb\n"
	"	adrp x1, sec_stack_top\n	add x1, x1, :lo12:sec_stack_top\n"
	"	mov sp, x1\n	bl secondary_c\n"
	"2:	b 2b\n"
	".text\n.balign 2048\nvectors:\n"
	".irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	".balign 128\n	sub sp, sp, #176\n	stp x0, x1, [sp]\n"
	"	mov x0, #\\k\n	b exc_entry\n.endr\n"
	"exc_entry:\n"
	"	stp x2, x3, [sp, #16]\n"
	"	stp x4, x5, [sp, #32]\n	stp x6, x7, [sp, #48]\n"
	"	stp x8, x9, [sp, #64]\n	stp x10, x11, [sp, #80]\n"
	"	stp x12, x13, [sp, #96]\n	stp x14, x15, [sp, #112]\n"
	"	stp x16, x17, [sp, #128]\n	stp x18, x29, [sp, #144]\n"
	"	str x30, [sp, #160]\n	bl exc_c\n"
	"	ldp x2, x3, [sp, #16]\n	ldp x4, x5, [sp, #32]\n"
	"	ldp x6, x7, [sp, #48]\n	ldp x8, x9, [sp, #64]\n"
	"	ldp x10, x11, [sp, #80]\n	ldp x12, x13, [sp, #96]\n"
	"	ldp x14, x15, [sp, #112]\n	ldp x16, x17, [sp, #128]\n"
	"	ldp x18, x29, [sp, #144]\n	ldr x30, [sp, #160]\n"
	"	ldp x0, x1, [sp], #176\n	eret\n"

	/* run_junk(base, sp): one instruction at junk_slot, at EL1t. */
	".global run_junk\nrun_junk:\n"
	"	stp x29, x30, [sp, #-96]!\n	stp x19, x20, [sp, #16]\n"
	"	stp x21, x22, [sp, #32]\n	stp x23, x24, [sp, #48]\n"
	"	stp x25, x26, [sp, #64]\n	stp x27, x28, [sp, #80]\n"
	"	msr spsel, #0\n	mov sp, x1\n"
	"	.irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
	"21,22,23,24,25,26,27,28,29,30\n"
	"	add x\\n, x0, #(\\n * 64)\n	.endr\n"
	"	b junk_slot\n"
	".balign 16\n.global junk_slot\njunk_slot:\n	nop\n	b junk_back\n"
	"junk_back:\n	msr spsel, #1\n"
	"	ldp x19, x20, [sp, #16]\n	ldp x21, x22, [sp, #32]\n"
	"	ldp x23, x24, [sp, #48]\n	ldp x25, x26, [sp, #64]\n"
	"	ldp x27, x28, [sp, #80]\n	ldp x29, x30, [sp], #96\n"
	"	ret\n"
	".bss\n.balign 16\n.space 8192\nstack_top:\n"
	".space 4096\nsec_stack_top:\n.text\n");

extern char secondary[], junk_slot[];
void run_junk(uint64_t base, uint64_t sp);
static volatile uint64_t exc_esr, exc_far, exc_elr, exc_count, sec_ctx;
static volatile uint64_t wp_page[512] __attribute__((aligned(4096)));

#define sysreg(r) ({						\
	uint64_t __v;							\
	__asm__ volatile("mrs %0, " #r : "=r"(__v));			\
	__v;								\
})

static void putc(char c)
{
	*(volatile uint32_t *)PL011 = (uint32_t)c;
}

static void puts(const char *s)
{
	while (*s) {
		putc(*s++);
	}
}

static void puthex(uint64_t v)
{
	puts("0x");
	for (int i = 60; i >= 0; i -= 4) {
		putc("0123456789abcdef"[(v >> i) & 0xf]);
	}
}

static struct res call(int smc, uint64_t fn, uint64_t a1, uint64_t a2,
		       uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	if (smc) {
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2),
				 "+r"(x3) : : "memory");
	} else {
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2),
				 "+r"(x3) : : "memory");
	}
	return (struct res){ (long)x0, x1 };
}

static uint64_t counter(unsigned int id)
{
	return call(0, HC_COUNTER, id, 0, 0).x1;
}

static volatile uint64_t irq_count, irq_id, irq_late_max, sgi_count;
static volatile uint64_t spurious, sec_ready, ptimer_irqs, iabt_resume;

/* IRQs: acknowledge, note, quiet the timer, end. */
static void irq_c(void)
{
	uint64_t iar = sysreg(s3_0_c12_c12_0);	/* ICC_IAR1_EL1 */
	uint64_t id = iar & 0xffffff, late;

	if (id == 27) {
		late = sysreg(cntvct_el0) - sysreg(cntv_cval_el0);
		if (late > irq_late_max) {
			irq_late_max = late;
		}
		__asm__ volatile("msr cntv_ctl_el0, xzr\nisb");
		irq_count++;
	} else if (id == 30) {
		__asm__ volatile("msr cntp_ctl_el0, xzr\nisb");
		ptimer_irqs++;
	} else if (id < 16) {
		sgi_count++;
	} else if (id >= 1020) {
		spurious++;
		return;
	}
	irq_id = id;
	__asm__ volatile("msr s3_0_c12_c12_1, %0\nisb" : : "r"(iar));
}

/* Every exception: record it and step over the instruction. */
void exc_c(uint64_t kind)
{
	uint64_t elr = sysreg(elr_el1);

	if ((kind & 3) == 1) {
		irq_c();
		return;
	}
	exc_esr = sysreg(esr_el1);
	exc_far = sysreg(far_el1);
	exc_elr = elr;
	exc_count++;
	if ((exc_esr >> 26) == 0x21 && iabt_resume) {
		/* A prefetch abort the test asked for: back to its caller. */
		elr = iabt_resume - 4;
		iabt_resume = 0;
	}
	__asm__ volatile("msr elr_el1, %0" : : "r"(elr + 4));
}

#define GICD		0x08000000UL
#define GICR(cpu)	(0x080a0000UL + (cpu) * 0x20000UL)
#define REG32(a)	(*(volatile uint32_t *)(a))

/* This vCPU's side of the virtual GIC: group 1, the timer and SGI 1. */
static int gic_setup(unsigned int cpu)
{
	uint64_t rd = GICR(cpu), sgi = rd + 0x10000;
	int ok = REG32(GICD + 0xffe8) == 0x3b && REG32(rd + 0xffe8) == 0x3b &&
		 (REG32(rd + 0x8) & 0xffff00) == cpu << 8;

	REG32(GICD) = 2;				/* EnableGrp1 */
	REG32(rd + 0x14) = 0;				/* awake */
	ok = ok && !(REG32(rd + 0x14) & 4);
	REG32(sgi + 0x80) = ~0U;			/* group 1 */
	*(volatile uint8_t *)(sgi + 0x400 + 27) = 0xa0;
	*(volatile uint8_t *)(sgi + 0x400 + 1) = 0x90;
	REG32(sgi + 0x100) = (1U << 27) | (1U << 1);	/* enable */
	ok = ok && REG32(sgi + 0x100) == ((1U << 27) | (1U << 1)) &&
	     (REG32(sgi + 0x418) >> 24) == 0xa0;
	__asm__ volatile("mrs x0, s3_0_c12_c12_5\norr x0, x0, #1\n"
			 "msr s3_0_c12_c12_5, x0\nisb\n"	/* SRE */
			 "mov x0, #0xff\nmsr s3_0_c4_c6_0, x0\n"	/* PMR */
			 "mov x0, #1\nmsr s3_0_c12_c12_7, x0\nisb"	/* IGRPEN1 */
			 : : : "x0");
	return ok;
}

void secondary_c(uint64_t ctx)
{
	sec_ctx = ctx;
#if MODE == 9
	gic_setup(1);
	__asm__ volatile("msr daifclr, #2");
	sec_ready = 1;
	while (!sgi_count) {
		__asm__ volatile("wfi");
	}
	__asm__ volatile("msr daifset, #2");
#endif
	call(0, PSCI_CPU_OFF, 0, 0, 0);
}

static unsigned int failed;

static void check(unsigned int bit, int ok, const char *what)
{
	if (!ok) {
		failed |= 1U << bit;
		puts("FAIL: ");
		puts(what);
		puts(" ESR ");
		puthex(exc_esr);
		puts("\n");
	}
}

/* Loads/stores the syndrome cannot describe, and trapped registers. */
static void check_injected(void)
{
	uint64_t inj = counter(CTR_INJECTED), a, b;
	uint64_t n = exc_count;

	__asm__ volatile("ldp %0, %1, [%2]" : "=r"(a), "=r"(b)
			 : "r"(TESTDEV) : "memory");
	check(0, exc_count == n + 1 && (exc_esr >> 26) == 0x25 &&
	      (exc_esr & 0x3f) == 0x10 && (exc_esr & (1 << 25)) &&
	      !(exc_esr & (1 << 6)) && exc_far == TESTDEV,
	      "ldp on MMIO: no external abort");
	__asm__ volatile("stp xzr, xzr, [%0]" : : "r"(TESTDEV + 16)
			 : "memory");
	check(1, exc_count == n + 2 && (exc_esr >> 26) == 0x25 &&
	      (exc_esr & (1 << 6)) && exc_far == TESTDEV + 16,
	      "stp on MMIO: no external abort with WnR");
	/* The EL1 physical timer is emulated: a read, no exception. */
	a = ~0UL;
	__asm__ volatile("mrs %0, cntp_ctl_el0" : "+r"(a));
	check(2, exc_count == n + 2 && (a & ~7UL) == 0,
	      "CNTP_CTL_EL0: not emulated");
	__asm__ volatile("ldr %0, [%1]" : "=r"(a) : "r"(1UL << 41)
			 : "memory");
	check(3, exc_count == n + 3 && (exc_esr >> 26) == 0x25 &&
	      exc_far == 1UL << 41, "beyond the IPA space: no abort");
	check(4, counter(CTR_INJECTED) - inj == 3, "INJECTED counter");
}

/* Feature ID registers: SME is hidden (its state is not switched), SVE
 * shown with its feature register where the CPU has it (tests/boot/
 * sve_arm64.py checks which), the rest is the CPU's. */
static void check_id_regs(void)
{
	uint64_t pfr0 = sysreg(id_aa64pfr0_el1), pfr1 = sysreg(id_aa64pfr1_el1);
	uint64_t zfr0 = sysreg(s3_0_c0_c4_4), smfr0 = sysreg(s3_0_c0_c4_5);

	check(20, (((pfr0 >> 32) & 0xf) || !zfr0) && !((pfr1 >> 24) & 0xf) &&
	      !smfr0 && ((pfr0 >> 4) & 0xf) != 0 && exc_count == 0,
	      "ID registers");
}

static void check_calls(void)
{
	uint64_t hcs = counter(CTR_HYPERCALLS), unk = counter(CTR_HC_UNKNOWN);

	check(5, call(0, 0x12345, 0, 0, 0).x0 == -1, "unknown HVC");
	check(6, call(1, 0xc2000000, 0, 0, 0).x0 == -1, "unknown SMC");
	check(7, call(1, PSCI_VERSION, 0, 0, 0).x0 == 0x10000,
	      "PSCI_VERSION by SMC");
	check(8, call(0, PSCI_FEATURES, PSCI_CPU_ON, 0, 0).x0 == 0 &&
	      call(0, PSCI_FEATURES, 0xc4000001, 0, 0).x0 == -1,
	      "PSCI_FEATURES");
	check(9, call(0, 0x8400001f, 0, 0, 0).x0 == -1, "unknown PSCI");
	/* 6 calls above and 3 counter reads after hcs */
	check(10, counter(CTR_HC_UNKNOWN) - unk == 3, "HC_UNKNOWN counter");
	check(10, counter(CTR_HYPERCALLS) - hcs == 9, "HYPERCALLS counter");
}

static void check_cpu_on(void)
{
	uint64_t entry = (uint64_t)secondary;

	check(11, call(0, PSCI_AFF_INFO, 1, 0, 0).x0 == 1 &&
	      call(0, PSCI_CPU_ON, 7, entry, 1).x0 == -2 &&
	      call(0, PSCI_CPU_ON, 1, 0x1000, 1).x0 == -9 &&
	      call(0, PSCI_CPU_ON, 0, entry, 1).x0 == -4,
	      "PSCI CPU_ON / AFFINITY_INFO errors");
	check(12, call(0, PSCI_CPU_ON, 1, entry, 0x5eed).x0 == 0,
	      "PSCI CPU_ON");
	for (int i = 0; i < 1000000 &&
	     call(0, PSCI_AFF_INFO, 1, 0, 0).x0 != 1; i++) {
	}
	check(12, sec_ctx == 0x5eed, "the secondary vCPU did not run");
}

static void fp_fill(uint64_t seed)
{
	__asm__ volatile(".arch_extension fp\n.arch_extension simd\n"
			 "mrs x1, cpacr_el1\norr x1, x1, #(3 << 20)\n"
			 "msr cpacr_el1, x1\nisb\n"
			 "dup v0.2d, %0\nadd x2, %0, #1\ndup v7.2d, x2\n"
			 "add x2, %0, #2\ndup v31.2d, x2\nmsr fpcr, %1\n"
			 : : "r"(seed), "r"(0x3000000UL)
			 : "x1", "x2", "memory");
}

static int fp_same(uint64_t seed)
{
	uint64_t a, b, c, d, fpcr;

	__asm__ volatile(".arch_extension fp\n.arch_extension simd\n"
			 "mov %0, v0.d[0]\nmov %1, v0.d[1]\nmov %2, v7.d[1]\n"
			 "mov %3, v31.d[0]\nmrs %4, fpcr\n"
			 : "=r"(a), "=r"(b), "=r"(c), "=r"(d), "=r"(fpcr));
	return a == seed && b == seed && c == seed + 1 && d == seed + 2 &&
	       fpcr == 0x3000000;
}

/* PACGA x0, x1, x2 with the generic key (FEAT_PAuth), or 0 without. */
static uint64_t pacga(uint64_t v, uint64_t mod)
{
	register uint64_t x0 __asm__("x0");
	register uint64_t x1 __asm__("x1") = v;
	register uint64_t x2 __asm__("x2") = mod;

	if (!((sysreg(id_aa64isar1_el1) >> 24) & 0xff)) {
		return 0;
	}
	__asm__ volatile(".inst 0x9ac23020" : "=r"(x0) : "r"(x1), "r"(x2));
	return x0;
}

static void pac_key(uint64_t seed)
{
	if ((sysreg(id_aa64isar1_el1) >> 24) & 0xff) {
		__asm__ volatile("msr s3_0_c2_c3_0, %0\nmsr s3_0_c2_c3_1, %1\n"
				 "isb" : : "r"(seed), "r"(~seed));
	}
}

/*
 * FP/SIMD registers and the pointer authentication key survive exits and
 * the other VMs' slices (the other VM uses other values).
 */
static void check_fp(uint64_t seed)
{
	uint64_t mac;
	int ok = 1;

	fp_fill(seed);
	pac_key(seed);
	mac = pacga(seed, 42);
	for (int i = 0; i < 40 && ok; i++) {
		uint64_t end = sysreg(cntvct_el0) + sysreg(cntfrq_el0) / 100;

		call(0, PSCI_VERSION, 0, 0, 0);
		while (sysreg(cntvct_el0) < end) {
		}
		ok = fp_same(seed);
		check(15, pacga(seed, 42) == mac, "PACGA changed");
	}
	check(13, ok, "FP/SIMD registers changed");
}

static void check_wfi_and_wp(void)
{
	uint64_t wp;

	__asm__ volatile("wfi");
	wp_page[0] = 1;
	wp = counter(CTR_WP_FAULTS);
	check(14, call(0, HC_WRPROTECT, (uint64_t)wp_page, 4096, 0).x0 == 0,
	      "WRPROTECT");
	wp_page[1] = 2;
	check(14, counter(CTR_WP_FAULTS) - wp == 1 && wp_page[0] == 1 &&
	      wp_page[1] == 2, "write to a protected page");
}

/*
 * Whether @w may run as one stray instruction: no branches (it must fall
 * through to junk_back), no writes to system registers or PSTATE (they
 * could take the guest's own exception handling away), no HLT (semihosting
 * would end QEMU). Everything else goes, loads and stores with registers
 * pointing at scratch memory, HVC/SMC with junk IDs, WFI, cache and TLB
 * maintenance, system register reads, undefined encodings.
 */
static int junk_ok(uint32_t w)
{
	if ((w & 0x7c000000) == 0x14000000 || (w & 0xff000010) == 0x54000000 ||
	    (w & 0x7e000000) == 0x34000000 || (w & 0x7e000000) == 0x36000000 ||
	    (w & 0xfe000000) == 0xd6000000 || (w & 0xffe00000) == 0xd4400000) {
		return 0;
	}
	if ((w >> 24) == 0xd5) {
		return (w & 0xfffff01f) == 0xd503201f ||	/* hints */
		       (w & 0xfffff01f) == 0xd503301f ||	/* barriers */
		       (w & 0xfff80000) == 0xd5080000 ||	/* SYS */
		       (w & 0xfff00000) == 0xd5300000;		/* MRS */
	}
	return 1;
}

/*
 * Run @n stray instructions from @seed; Strata must survive them all. Half
 * are forced into the load/store class, and every other one runs with its
 * registers pointing at the test device instead of RAM, so that many reach
 * Strata's MMIO decoding (and its injected aborts for ISV = 0).
 */
static void chaos(uint64_t seed, unsigned int n)
{
	uint64_t scratch = 0x40800000UL, s = seed;
	uint64_t exits = counter(CTR_EXITS), inj = counter(CTR_INJECTED);
	uint64_t mmio = counter(CTR_MMIO), unk = counter(CTR_HC_UNKNOWN);

	for (unsigned int i = 0; i < n; i++) {
		uint32_t w;

		do {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			w = (uint32_t)(s >> 16);
			if (s & 1) {
				w = (w | BIT32(27)) & ~BIT32(25);
			}
		} while (!junk_ok(w));
		*(volatile uint32_t *)junk_slot = w;
		__asm__ volatile("dsb sy\nic iallu\ndsb sy\nisb" : : : "memory");
		run_junk(i & 1 ? TESTDEV : scratch, scratch + 0x8000);
	}
	puts("chaos: done: exits ");
	puthex(counter(CTR_EXITS) - exits);
	puts(" injected ");
	puthex(counter(CTR_INJECTED) - inj);
	puts(" mmio ");
	puthex(counter(CTR_MMIO) - mmio);
	puts(" unknown calls ");
	puthex(counter(CTR_HC_UNKNOWN) - unk);
	puts(" EL1 exceptions ");
	puthex(exc_count);
	puts("\n");
}

/* Arm the virtual timer @us from now and wait for its interrupt. */
static void timer_round(uint64_t us, int use_wfi)
{
	uint64_t want = irq_count + 1;
	uint64_t end = sysreg(cntvct_el0) + sysreg(cntfrq_el0);

	__asm__ volatile("msr cntv_tval_el0, %0\nmov x0, #1\n"
			 "msr cntv_ctl_el0, x0\nisb\nmsr daifclr, #2"
			 : : "r"(sysreg(cntfrq_el0) / 1000000 * us) : "x0");
	while (irq_count < want && sysreg(cntvct_el0) < end) {
		if (use_wfi) {
			__asm__ volatile("wfi");
		}
	}
	__asm__ volatile("msr daifset, #2");
}

/*
 * The virtual timer through the virtual GIC, waiting in WFI and spinning,
 * a masked timer that must stay quiet, and an SGI to the second vCPU.
 */
static void check_timer(void)
{
	uint64_t freq = sysreg(cntfrq_el0), n, end, late;

	check(16, gic_setup(0), "virtual GIC registers");
	for (int i = 0; i < 3; i++) {
		timer_round(5000, 1);
	}
	for (int i = 0; i < 3; i++) {
		timer_round(5000, 0);
	}
	check(17, irq_count == 6 && irq_id == 27, "timer interrupts");
	late = irq_late_max;
	/* IMASK set: condition met, no interrupt; cleared: at once. */
	n = irq_count;
	__asm__ volatile("msr cntv_tval_el0, xzr\nmov x0, #3\n"
			 "msr cntv_ctl_el0, x0\nisb\nmsr daifclr, #2" : : : "x0");
	for (end = sysreg(cntvct_el0) + freq / 200; sysreg(cntvct_el0) < end;) {
	}
	check(18, irq_count == n, "a masked timer interrupted");
	__asm__ volatile("mov x0, #1\nmsr cntv_ctl_el0, x0\nisb" : : : "x0");
	for (end = sysreg(cntvct_el0) + freq; irq_count == n &&
	     sysreg(cntvct_el0) < end;) {
	}
	__asm__ volatile("msr daifset, #2");
	check(18, irq_count == n + 1, "the unmasked timer did not interrupt");
	/* SGI 1 to vCPU 1, which waits for it in WFI. */
	check(19, call(0, PSCI_CPU_ON, 1, (uint64_t)secondary, 0).x0 == 0,
	      "CPU_ON");
	for (end = sysreg(cntvct_el0) + freq; !sec_ready &&
	     sysreg(cntvct_el0) < end;) {
	}
	__asm__ volatile("msr s3_0_c12_c11_5, %0\nisb"	/* ICC_SGI1R_EL1 */
			 : : "r"((1UL << 24) | (1UL << 1)));
	for (end = sysreg(cntvct_el0) + freq;
	     call(0, PSCI_AFF_INFO, 1, 0, 0).x0 != 1 &&
	     sysreg(cntvct_el0) < end;) {
	}
	check(19, sgi_count == 1 && irq_id == 1, "SGI 1 to vCPU 1");
	puts("timer: irqs ");
	puthex(irq_count);
	puts(" sgis ");
	puthex(sgi_count);
	puts(" spurious ");
	puthex(spurious);
	puts(" late max (us) ");
	puthex(late * 1000000 / freq);
	puts("\n");
}

/*
 * The machine as firmware and KVM leave it (MODE 10): redistributors
 * awake without a GICR_WAKER write, timer levels in GICR_ISPENDR0, the EL1
 * physical timer and its PPI 30, and a prefetch abort for a fetch from an
 * address nothing backs.
 */
#define UNBACKED_IPA	0x20000000UL	/* below RAM, no device */

static void check_machine(void)
{
	uint64_t rd = GICR(0), sgi = rd + 0x10000, freq = sysreg(cntfrq_el0);
	uint64_t end, v, n;

	check(20, REG32(rd + 0x14) == 0, "GICR_WAKER not awake at start");
	REG32(GICD) = 2;				/* EnableGrp1 */
	REG32(sgi + 0x80) = ~0U;			/* group 1 */
	*(volatile uint8_t *)(sgi + 0x400 + 27) = 0xa0;
	*(volatile uint8_t *)(sgi + 0x400 + 30) = 0xa0;
	REG32(sgi + 0x100) = (1U << 27) | (1U << 30);	/* enable */
	__asm__ volatile("mrs x0, s3_0_c12_c12_5\norr x0, x0, #1\n"
			 "msr s3_0_c12_c12_5, x0\nisb\n"	/* SRE */
			 "mov x0, #0xff\nmsr s3_0_c4_c6_0, x0\n"	/* PMR */
			 "mov x0, #1\nmsr s3_0_c12_c12_7, x0\nisb"	/* IGRPEN1 */
			 : : : "x0");
	/* The virtual timer's interrupt with the redistributor untouched. */
	timer_round(2000, 1);
	check(20, irq_count == 1 && irq_id == 27,
	      "no timer interrupt without a GICR_WAKER write");
	/* Its level shows in ISPENDR0 while asserted, and goes with it. */
	__asm__ volatile("msr cntv_tval_el0, xzr\nmov x0, #1\n"
			 "msr cntv_ctl_el0, x0\nisb" : : : "x0");
	for (end = sysreg(cntvct_el0) + freq / 1000; sysreg(cntvct_el0) < end;) {
	}
	check(21, REG32(sgi + 0x200) & (1U << 27),
	      "GICR_ISPENDR0 without the asserted virtual timer");
	__asm__ volatile("msr cntv_ctl_el0, xzr\nisb");
	check(21, !(REG32(sgi + 0x200) & (1U << 27)),
	      "GICR_ISPENDR0 kept the virtual timer after its line dropped");
	/* The EL1 physical timer: registers, level, interrupt. */
	__asm__ volatile("msr cntp_cval_el0, %0\nisb" : : "r"(0x123456789UL));
	check(22, sysreg(cntp_cval_el0) == 0x123456789UL, "CNTP_CVAL readback");
	/*
	 * Before the deadline: 1 s away, so that no descheduling of this
	 * vCPU (or of QEMU on a loaded host) can pass it between the write
	 * and the reads. Then 1 ms away, and 2 ms of waiting passes it.
	 */
	__asm__ volatile("msr cntp_tval_el0, %0\nmov x0, #3\n"
			 "msr cntp_ctl_el0, x0\nisb"
			 : : "r"(freq) : "x0");	/* 1 s, masked */
	v = sysreg(cntp_ctl_el0);
	check(22, (v & 7) == 3 && (int32_t)sysreg(cntp_tval_el0) > 0 &&
	      (uint32_t)sysreg(cntp_tval_el0) <= freq,
	      "CNTP_CTL/TVAL before the deadline");
	__asm__ volatile("msr cntp_tval_el0, %0\nisb"
			 : : "r"(freq / 1000));	/* 1 ms, masked */
	for (end = sysreg(cntpct_el0) + freq / 500; sysreg(cntpct_el0) < end;) {
	}
	v = sysreg(cntp_ctl_el0);
	check(22, (v & 7) == 7 && (int32_t)sysreg(cntp_tval_el0) < 0,
	      "CNTP_CTL.ISTATUS / negative TVAL after the deadline");
	check(22, REG32(sgi + 0x200) & (1U << 30) ? 0 : 1,
	      "a masked physical timer is pending");
	n = ptimer_irqs;
	__asm__ volatile("mov x0, #1\nmsr cntp_ctl_el0, x0\nisb\n"
			 "msr daifclr, #2" : : : "x0");
	for (end = sysreg(cntpct_el0) + freq; ptimer_irqs == n &&
	     sysreg(cntpct_el0) < end;) {
		__asm__ volatile("wfi");
	}
	__asm__ volatile("msr daifset, #2");
	check(22, ptimer_irqs == n + 1 && irq_id == 30,
	      "no interrupt from the physical timer");
	__asm__ volatile("msr cntp_tval_el0, %0\nmov x0, #1\n"
			 "msr cntp_ctl_el0, x0\nisb\nmsr daifclr, #2"
			 : : "r"(freq / 500) : "x0");
	for (end = sysreg(cntpct_el0) + freq; ptimer_irqs == n + 1 &&
	     sysreg(cntpct_el0) < end;) {
		__asm__ volatile("wfi");
	}
	__asm__ volatile("msr daifset, #2");
	check(22, ptimer_irqs == n + 2, "no second physical timer interrupt");
	/* A fetch from nothing: a prefetch abort, the VM goes on. */
	n = exc_count;
	__asm__ volatile("adr x1, 1f\nstr x1, %0\nblr %1\n1:"
			 : "=m"(iabt_resume) : "r"(UNBACKED_IPA)
			 : "x1", "x30", "memory");
	check(23, exc_count == n + 1 && (exc_esr >> 26) == 0x21 &&
	      exc_far == UNBACKED_IPA && exc_elr == UNBACKED_IPA,
	      "no prefetch abort for a fetch from an unbacked IPA");
	puts("machine: ptimer irqs ");
	puthex(ptimer_irqs);
	puts(" prefetch abort ESR ");
	puthex(exc_esr);
	puts("\n");
}

int main(void)
{
#if MODE == 1 || MODE == 2	/* faults: all the checks */
	puts("faults: start\n");
	check_id_regs();
	check_injected();
	check_calls();
	check_cpu_on();
	check_fp(MODE == 1 ? 0xaaaa5555aaaa0000UL : 0x5555aaaa55550000UL);
	check_wfi_and_wp();
	puts("faults: failed mask ");
	puthex(failed);
	puts("\n");
	return (int)failed;
#elif MODE == 3		/* spin: 2 s of the virtual counter, no exits */
	uint64_t end = sysreg(cntvct_el0) + 2 * sysreg(cntfrq_el0);

	puts("spin: start\n");
	while (sysreg(cntvct_el0) < end) {
	}
	puts("spin: done\n");
	return 0;
#elif MODE == 4		/* talk */
	puts("talk: hello\n");
	return 0;
#elif MODE == 5		/* storm: its vector aborts into EL2 itself */
	puts("storm: start\n");
	/* Vectors where nothing is: every entry is a prefetch abort. */
	__asm__ volatile("msr vbar_el1, %0\nisb\nudf #0"
			 : : "r"(0x20000000UL) : "x0");
	puts("storm: survived\n");
	return 1;
#elif MODE == 6		/* reset */
	puts("reset: start\n");
	call(0, PSCI_SYS_RESET, 0, 0, 0);
	puts("reset: returned\n");
	return 1;
#elif MODE == 7 || MODE == 8	/* chaos: stray instructions */
	puts("chaos: start\n");
	chaos(MODE == 7 ? 0x9e3779b97f4a7c15UL : 0xd1b54a32d192ed03UL, 50000);
	return 0;
#elif MODE == 10	/* machine: as firmware and KVM leave it */
	puts("machine: start\n");
	check_machine();
	puts("machine: failed mask ");
	puthex(failed);
	puts("\n");
	return (int)failed;
#elif MODE == 9		/* timer: interrupts through the virtual GIC */
	puts("timer: start\n");
	check_timer();
	puts("timer: failed mask ");
	puthex(failed);
	puts("\n");
	return (int)failed;
#endif
}
"""

GUEST_MODES = {"faults_a": 1, "faults_b": 2, "spin": 3, "talk": 4,
               "storm": 5, "reset": 6, "chaos_a": 7, "chaos_b": 8,
               "timer": 9, "machine": 10}
GUEST_CFLAGS = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror",
                "-Wno-unused-function", "-ffreestanding", "-fno-builtin",
                "-fno-stack-protector", "-fno-pie", "-fno-common",
                "-mgeneral-regs-only", "-mstrict-align", "-nostdlib",
                "-static", "-no-pie", "-Wl,--build-id=none",
                "-Wl,-Ttext=0x40080000", "-Wl,--no-warn-rwx-segments"]
# HCR_EL2 a guest must run with: VM, SWIO, FMO, IMO, AMO, TWI, TWE, TID3,
# TSC, RW; on -cpu max also FWB (46) and APK/API (40, 41), absent on
# cortex-a57.
HCR_GUEST = 0x800c603b
HCR_MAX_ONLY = (1 << 46) | (1 << 41) | (1 << 40)


SCRATCH = None          # this run's directory under build/test/
_elves = {}


def build_guests(tmp):
    """Compile every guest mode, once per run of this script, into a
    directory of its own under @tmp; returns {name: path}."""
    if _elves:
        return _elves
    out = os.path.join(tmp, "elves")
    os.makedirs(out)
    src = write(os.path.join(out, "guest.c"), GUEST_SRC)
    elves = {}
    for name, mode in GUEST_MODES.items():
        elf = os.path.join(out, name + ".elf")
        p = subprocess.run([CROSS_CC] + GUEST_CFLAGS +
                           ["-DMODE=%d" % mode, "-o", elf, src, "-lgcc"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode:
            raise RuntimeError("guest %s does not build: %s"
                               % (name, p.stdout.decode(errors="replace")))
        elves[name] = elf
    _elves.update(elves)
    return _elves


def run_guests(name, cpu, cfg, guests):
    """Boot Strata with VMs from @cfg, whose kernels are @guests."""
    elves = build_guests(SCRATCH)
    cpio = make_bundle(os.path.join(SCRATCH, name.replace("/", "-") +
                                    ".cpio"), cfg, [elves[g] for g in guests])
    return qemu(cpu, ["-kernel", IMAGE, "-initrd", cpio, "-append",
                      "loglevel=info"], timeout=TIMEOUT)


def check_el2_controls(c, vm, vmid, cpu_max):
    m = c.line(r"^vm %s: EL2 controls: HCR_EL2 (0x[0-9a-f]+) VTCR_EL2 "
               r"(0x[0-9a-f]+) VTTBR_EL2 (0x[0-9a-f]+)$" % vm,
               "EL2 controls of vm %s" % vm)
    if not m:
        return
    hcr, vttbr = int(m.group(1), 16), int(m.group(3), 16)
    want = HCR_GUEST | (HCR_MAX_ONLY if cpu_max else 0)
    if hcr != want:
        c.errors.append("vm %s: HCR_EL2 0x%x, expected 0x%x"
                        % (vm, hcr, want))
    if vttbr >> 48 != vmid:
        c.errors.append("vm %s: VMID %d in VTTBR_EL2, expected %d"
                        % (vm, vttbr >> 48, vmid))


FAULTS_CFG = """[vm fa]
kernel = faults_a.elf
memory = 16M
cpus = 2
[vm fb]
kernel = faults_b.elf
memory = 16M
cpus = 2
[vm storm]
kernel = storm.elf
memory = 16M
[vm reset]
kernel = reset.elf
memory = 16M
on_reset = stop
"""


def guest_faults(name, cpu, cpu_max):
    run = run_guests(name, cpu, FAULTS_CFG,
                     ["faults_a", "faults_b", "storm", "reset"])
    c = Check(run)
    # Every root has its own VMID: VM index i owns 12 from i * 12 + 1, and
    # its first root takes the first (include/mm/roots.h).
    for vm, vmid in (("fa", 1), ("fb", 13)):
        check_el2_controls(c, vm, vmid, cpu_max)
        c.line(r"^\[%s\] faults: start$" % vm, "vm %s started" % vm)
        c.line(r"^\[%s\] faults: failed mask 0x0{16}$" % vm,
               "vm %s: every check passed" % vm)
        c.line(r"^vm %s: ended: powered off \(status 0\)$" % vm,
               "vm %s powered off well" % vm)
    c.line(r"^\[storm\] storm: start$", "storm guest started")
    c.line(r"^vm storm: ended: stopped: exception storm at its vector "
           r"0x20000200 \(ESR 0x86000010\)$", "storm stopped")
    c.no_line(r"^\[storm\] storm: survived$", "storm guest survived")
    c.line(r"^\[reset\] reset: start$", "reset guest started")
    c.line(r"^vm reset: ended: reset requested \(PSCI SYSTEM_RESET\); "
           r"on_reset = stop$", "reset ending the VM (on_reset = stop)")
    c.no_line(r"^\[reset\] reset: returned$", "reset guest continued")
    c.line(r"^Strata: all 4 VMs ended: 3 ok, 1 failed$", "summary")
    c.no_line(r"EL2 exception", "hypervisor exception")
    c.status(1)
    return c.report(name)


def test_guest_faults_max():
    return guest_faults("arm64/guest-faults-max", MAX, True)


def test_guest_faults_cortex_a57():
    return guest_faults("arm64/guest-faults-cortex-a57", "cortex-a57",
                        False)


CHAOS_CFG = """[vm ca]
kernel = chaos_a.elf
memory = 16M
[vm cb]
kernel = chaos_b.elf
memory = 16M
[vm talk]
kernel = talk.elf
memory = 16M
"""


def chaos(name, cpu):
    # 50000 stray EL1 instructions per chaos VM beside a well-behaved one.
    run = run_guests(name, cpu, CHAOS_CFG, ["chaos_a", "chaos_b", "talk"])
    c = Check(run)
    for vm in ("ca", "cb"):
        m = c.line(r"^\[%s\] chaos: done: exits (0x[0-9a-f]+) injected "
                   r"(0x[0-9a-f]+) mmio (0x[0-9a-f]+) unknown calls "
                   r"0x[0-9a-f]+ EL1 exceptions 0x[0-9a-f]+$" % vm,
                   "vm %s's summary" % vm)
        if m and not all(int(x, 16) > 0 for x in m.groups()):
            c.errors.append("vm %s reached too little of Strata: %s"
                            % (vm, m.group(0)))
        c.line(r"^vm %s: ended: powered off \(status 0\)$" % vm,
               "vm %s powered off well" % vm)
    c.line(r"^\[talk\] talk: hello$", "talk's line")
    c.line(r"^vm talk: ended: powered off \(status 0\)$", "talk ended")
    c.line(r"^Strata: all 3 VMs ended: 3 ok, 0 failed$", "summary")
    c.no_line(r"EL2 exception", "hypervisor exception")
    c.status(STOP_OK)
    return c.report(name)


def test_chaos_max():
    return chaos("arm64/chaos-max", MAX)


def test_chaos_cortex_a57():
    return chaos("arm64/chaos-cortex-a57", "cortex-a57")


def test_virtual_timer():
    # Virtual timer interrupts and an SGI through the virtual GIC, while
    # another VM spins without exits.
    cfg = ("[vm tm]\nkernel = timer.elf\nmemory = 16M\ncpus = 2\n"
           "[vm spin]\nkernel = spin.elf\nmemory = 16M\n")
    run = run_guests("vtimer", MAX, cfg, ["timer", "spin"])
    c = Check(run)
    c.line(r"^\[tm\] timer: irqs 0x0{15}7 sgis 0x0{15}1 spurious 0x0{16} "
           r"late max \(us\) 0x[0-9a-f]{16}$",
           "7 timer interrupts and one SGI")
    c.line(r"^\[tm\] timer: failed mask 0x0{16}$", "every timer check passed")
    c.line(r"^vm tm: ended: powered off \(status 0\)$", "tm powered off")
    c.line(r"^vm spin: ended: powered off \(status 0\)$",
           "spin powered off")
    c.line(r"^Strata: all 2 VMs ended: 2 ok, 0 failed$", "summary")
    c.status(STOP_OK)
    return c.report("arm64/virtual-timer")


def test_machine():
    # The vGIC and timers as firmware and KVM leave a machine, on both CPU
    # models (the physical timer is trapped on both: QEMU has no FEAT_ECV).
    ok = True
    for cpu, tag in ((MAX, "max"), ("cortex-a57", "cortex-a57")):
        cfg = "[vm mc]\nkernel = machine.elf\nmemory = 16M\n"
        run = run_guests("machine-" + tag, cpu, cfg, ["machine"])
        c = Check(run)
        c.line(r"^\[mc\] machine: ptimer irqs 0x0{15}2 prefetch abort ESR "
               r"0x0{8}86000010$",
               "two physical-timer interrupts and the prefetch abort")
        c.line(r"^\[mc\] machine: failed mask 0x0{16}$",
               "every machine check passed")
        c.line(r"^vm mc: ended: powered off \(status 0\)$", "mc powered off")
        c.status(STOP_OK)
        ok = c.report("arm64/machine-" + tag) and ok
    return ok


# ---- a real Linux guest -----------------------------------------------------

LINUX_DEPS = os.path.join(ROOT, "build", "deps", "linux-arm64")
LINUX_INIT = """#!/bin/busybox sh
/bin/busybox echo "STRATA-LINUX-$((6 * 7)) on $(/bin/busybox uname -m)"
/bin/busybox poweroff -f
"""


# Modules of the same kernel package the virtio tests load (in this order),
# where Debian builds the drivers as modules: the transport, the block
# device and ext4 for its file system, the entropy device, the network
# device, the console.
LINUX_MODULES = ["virtio_mmio", "virtio_blk", "crc16", "mbcache", "jbd2",
                 "crc32c_generic", "ext4", "virtio-rng", "failover",
                 "net_failover", "virtio_net", "virtio_console"]


def linux_deps():
    """Debian's arm64 kernel Image, LINUX_MODULES from the same package and
    busybox, fetched once into build/deps/linux-arm64/ (under a lock: two
    boot scripts may ask at once). Returns (Image, busybox) or an error
    text; the modules are in linux_modules_dir()."""
    import fcntl
    os.makedirs(LINUX_DEPS, exist_ok=True)
    with open(os.path.join(LINUX_DEPS, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _linux_deps()


def linux_modules_dir():
    return os.path.join(LINUX_DEPS, "modules")


def _linux_deps():
    image = os.path.join(LINUX_DEPS, "Image")
    busybox = os.path.join(LINUX_DEPS, "busybox")
    mods = linux_modules_dir()
    if os.path.exists(image) and os.path.exists(busybox) and \
            os.path.isdir(mods):
        return image, busybox
    unpacked = os.path.join(LINUX_DEPS, "pkgs")
    got = unpack_debian_kernel(
        "arm64", ":arm64", unpacked,
        "no linux-image-arm64:arm64 in apt (dpkg --add-architecture "
        "arm64 && apt-get update)")
    if isinstance(got, str):
        return got
    pkg, vmlinuz = got
    found = {}
    for dirpath, _, files in os.walk(os.path.join(unpacked, "lib",
                                                  "modules")):
        for f in files:
            if f.endswith(".ko") and f[:-3] in LINUX_MODULES:
                found[f[:-3]] = os.path.join(dirpath, f)
    missing = [n for n in LINUX_MODULES if n not in found]
    if missing:
        return "%s has no module %s" % (pkg, ", ".join(missing))
    shutil.rmtree(mods + ".tmp", ignore_errors=True)
    os.makedirs(mods + ".tmp")
    for n, path in found.items():
        shutil.copy(path, os.path.join(mods + ".tmp", n + ".ko"))
    shutil.rmtree(mods, ignore_errors=True)
    os.rename(mods + ".tmp", mods)
    shutil.copy(vmlinuz, image + ".tmp")
    shutil.copy(os.path.join(unpacked, "bin", "busybox"), busybox)
    os.rename(image + ".tmp", image)
    shutil.rmtree(unpacked, ignore_errors=True)
    return image, busybox


def make_initramfs(tmp, busybox):
    """A gzipped cpio (newc) whose /init prints the marker and powers off."""
    out = os.path.join(tmp, "initrd.gz")
    with open(busybox, "rb") as f:
        bb = f.read()
    with gzip.open(out, "wb") as f:
        f.write(newc([("init", LINUX_INIT.encode(), 0o100755),
                      ("bin", b"", 0o040755),
                      ("bin/busybox", bb, 0o100755)]))
    return out


def linux_guest(name, cpu, cpus, smp=1):
    # Unmodified Debian Linux with a busybox initramfs on @cpus vCPUs,
    # beside a small guest: it must bring its vCPUs up (PSCI CPU_ON, SGIs),
    # boot to its /init, print the marker and power off. With @smp
    # physical CPUs (QEMU -smp) Strata spreads the vCPUs over them: each
    # vCPU must run on a CPU of its own (docs/smp.md).
    try:
        deps = linux_deps()
    except (OSError, subprocess.SubprocessError) as e:
        deps = "cannot fetch the kernel: %s" % e
    if isinstance(deps, str):
        print("SKIP: %s: %s" % (name, deps))
        return True
    image, busybox = deps
    elves = build_guests(SCRATCH)
    with private_dir("arm64-linux-") as tmp:
        initrd = make_initramfs(tmp, busybox)
        cfg = ("[vm linux]\nkernel = Image\ninitrd = initrd.gz\n"
               "memory = 256M\ncpus = %d\n"
               "cmdline = earlycon console=ttyAMA0 panic=-1\n"
               "[vm talk]\nkernel = talk.elf\nmemory = 16M\n") % cpus
        cpio = make_bundle(os.path.join(tmp, "linux.cpio"), cfg,
                           [image, initrd, elves["talk"]])
        run = qemu(cpu, ["-smp", str(smp), "-kernel", IMAGE, "-initrd",
                         cpio, "-append", "loglevel=info"], mem="1G",
                   timeout=LINUX_TIMEOUT)
    c = Check(run)
    if smp > 1:
        ran = dict(re.findall(r"^vm linux: vCPU (\d+) runs on CPU (\d+)$",
                              run.out, re.M))
        if len(ran) != cpus or len(set(ran.values())) != min(cpus, smp):
            c.errors.append("Linux's vCPUs ran on CPUs %s, want %d CPUs"
                            % (ran, min(cpus, smp)))
        c.line(r"^arm64: %d of %d CPUs online$" % (smp, smp),
               "%d physical CPUs online" % smp)
    c.line(r"^\[linux\] \[ *[0-9.]+\] Booting Linux on physical CPU",
           "Linux's first line")
    c.line(r"^\[linux\] \[ *[0-9.]+\] GICv3: CPU0: found redistributor 0",
           "Linux found the virtual GIC")
    # The ITS of the DTB (arch/vits.h): probed, tables given, LPIs on.
    c.line(r"^\[linux\] \[ *[0-9.]+\] ITS \[mem 0x08080000-0x0809ffff\]$",
           "Linux found the ITS")
    c.line(r"^\[linux\] \[ *[0-9.]+\] ITS@0x0000000008080000: allocated "
           r"\d+ Devices @[0-9a-f]+ \(flat, esz 8, psz \d+K, shr \d\)$",
           "Linux's ITS driver took its device table")
    c.line(r"^\[linux\] \[ *[0-9.]+\] GICv3: CPU0: using allocated LPI "
           r"pending table", "Linux enabled LPIs")
    c.no_line(r"^\[linux\] .*(ITS queue timeout|ITS.*[Ff]ail|No ITS|LPIs "
              r"already enabled)", "an ITS error from Linux")
    c.no_line(r"^warning: vm linux: its: ", "an ITS command error")
    c.line(r"^\[linux\] \[ *[0-9.]+\] arch_timer: cp15 timer\(s\) running "
           r"at [0-9.]+MHz \(virt\)", "Linux uses the virtual timer")
    c.line(r"^\[linux\] \[ *[0-9.]+\] smp: Brought up 1 node, %d CPUs?$"
           % cpus, "Linux brought up %d vCPUs" % cpus)
    c.line(r"^\[linux\] \[ *[0-9.]+\] Run /init as init process$",
           "Linux ran /init")
    c.line(r"^\[linux\] STRATA-LINUX-42 on aarch64$", "the marker of /init")
    if cpu == MAX:
        # SVE where the CPU has it, capped at 512 bits (arch/arm64/sve.c)
        c.line(r"^\[linux\] \[ *[0-9.]+\] SVE: maximum available vector "
               r"length 64 bytes per vector$", "Linux found SVE, 512 bits")
    else:
        c.no_line(r"SVE: maximum available", "SVE on a CPU without it")
    c.line(r"^vm linux: ended: powered off \(status 0\)$",
           "Linux powered off through PSCI")
    c.line(r"^vm talk: ended: powered off \(status 0\)$", "talk ended")
    c.line(r"^Strata: all 2 VMs ended: 2 ok, 0 failed$", "summary")
    c.no_line(r"Internal error|Kernel panic|Unable to handle",
              "a Linux oops or panic")
    c.status(STOP_OK)
    return c.report(name)


def test_linux_max():
    return linux_guest("arm64/linux-max", MAX, 4)


def test_linux_smp4():
    # 4 vCPUs on 4 physical CPUs, beside the talk VM.
    return linux_guest("arm64/linux-smp4", MAX, 4, smp=4)


def test_linux_cortex_a57():
    return linux_guest("arm64/linux-cortex-a57", "cortex-a57", 2)


def test_uboot_guests():
    # The board path: U-Boot's booti with the bundle as its initrd.
    if not os.path.exists(UBOOT):
        print("FAIL: arm64/uboot-guests: %s missing (u-boot-qemu)" % UBOOT)
        return False
    cfg = ("[vm fa]\nkernel = faults_a.elf\nmemory = 16M\ncpus = 2\n"
           "[vm talk]\nkernel = talk.elf\nmemory = 16M\n")
    elves = build_guests(SCRATCH)
    cpio = make_bundle(os.path.join(SCRATCH, "uboot.cpio"), cfg,
                       [elves["faults_a"], elves["talk"]])
    run = qemu(MAX, ["-bios", UBOOT,
                     "-device", "loader,file=%s,addr=0x%x,force-raw=on"
                     % (IMAGE, UBOOT_ADDR),
                     "-device", "loader,file=%s,addr=0x%x,force-raw=on"
                     % (cpio, UBOOT_INITRD)], timeout=TIMEOUT,
               on_output=uboot_driver(
                   "setenv bootargs loglevel=info; booti 0x%x 0x%x:0x%x "
                   "${fdtcontroladdr}" % (UBOOT_ADDR, UBOOT_INITRD,
                                          os.path.getsize(cpio))))
    c = Check(run)
    c.line(r"^arm64: EL2, image at 0x%x " % UBOOT_ADDR, "U-Boot load address")
    check_el2_controls(c, "fa", 1, True)
    c.line(r"^\[fa\] faults: failed mask 0x0{16}$",
           "vm fa: every check passed")
    c.line(r"^\[talk\] talk: hello$", "talk's line")
    c.line(r"^Strata: all 2 VMs ended: 2 ok, 0 failed$", "summary")
    c.status(STOP_OK)
    return c.report("arm64/uboot-guests")


def test_time_slicing():
    # spin runs first and never exits for 2 s: talk must end before it.
    # Under -icount the virtual counter, the slice timer with it, follows
    # executed instructions (8 ns each), so the order does not depend on
    # how fast or loaded the host is.
    cfg = ("[vm spin]\nkernel = spin.elf\nmemory = 16M\n"
           "[vm talk]\nkernel = talk.elf\nmemory = 16M\n")
    elves = build_guests(SCRATCH)
    cpio = make_bundle(os.path.join(SCRATCH, "slicing.cpio"), cfg,
                       [elves["spin"], elves["talk"]])
    run = qemu("cortex-a57", ["-icount", "shift=3", "-kernel", IMAGE,
                              "-initrd", cpio, "-append", "loglevel=info"],
               timeout=4 * TIMEOUT)
    c = Check(run)
    start = c.line(r"^\[spin\] spin: start$", "spin start")
    talk = c.line(r"^vm talk: ended: powered off \(status 0\)$",
                  "talk powered off")
    done = c.line(r"^\[spin\] spin: done$", "spin done")
    c.line(r"^vm spin: ended: powered off \(status 0\)$",
           "spin powered off")
    if start and talk and done and not (start.start() < talk.start() <
                                        done.start()):
        c.errors.append("talk did not end while spin was spinning")
    c.line(r"^Strata: all 2 VMs ended: 2 ok, 0 failed$", "summary")
    c.status(STOP_OK)
    return c.report("arm64/time-slicing")


TESTS = [test_qemu_kernel, test_qemu_cortex_a57, test_uboot_booti,
         test_no_dtb, test_smp_psci, test_el1_refusal, test_exception_dump,
         test_guest_faults_max, test_guest_faults_cortex_a57,
         test_time_slicing, test_uboot_guests, test_chaos_max,
         test_chaos_cortex_a57, test_virtual_timer, test_machine,
         test_linux_cortex_a57,
         test_linux_max, test_linux_smp4]


def main():
    global SCRATCH
    if not os.path.exists(IMAGE):
        for t in TESTS:
            name = "arm64/" + t.__name__[5:].replace("_", "-")
            print("FAIL: %s: %s missing (run make TEST=1 ARCH=arm64)"
                  % (name, IMAGE))
        return 1
    ok = True
    with private_dir("arm64-boot-") as SCRATCH:
        for t in TESTS:
            try:
                ok = t() and ok
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                print("FAIL: arm64/%s: %s"
                      % (t.__name__[5:].replace("_", "-"), e))
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
