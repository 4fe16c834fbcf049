// SPDX-License-Identifier: MIT
/*
 * dbtrap: RFLAGS.RF and the #DB / DR6 state a guest sees across the exits
 * Strata handles, as the SDM has them (vol. 3, "Interrupt and exception
 * handling" and "Debug, branch profile, TSC and resource monitoring"):
 *
 *   rf-inject    the faults Strata injects (#GP for a refused RDMSR, #UD
 *                for VMXOFF) push RFLAGS.RF = 1, as the CPU does for every
 *                fault-class exception;
 *   rf-cleared   an instruction Strata emulates completes, so it clears RF:
 *                entered by IRET with RF = 1, CPUID is followed by an
 *                instruction breakpoint that must hit;
 *   ss-emulated  single-stepping over CPUID, IN, RDMSR and an MMIO store
 *                (all emulated by Strata) gives one #DB after each, at the
 *                next instruction, with DR6 = BS only; so does a store that
 *                is the first touch of a 2 MiB chunk of RAM (an EPT
 *                violation Strata fixes, then the store runs again: no
 *                #DB before it);
 *   gd-movss     DR7.GD set, then an exit, then MOV SS and MOV to DR6 with
 *                RFLAGS.TF: the general-detect #DB (BD) is not held back by
 *                the MOV SS, single steps follow (Bochs 2.7 also reports,
 *                in DR6.BS, the single step MOV SS held back, which
 *                hardware drops: BS is allowed in that one DR6 value);
 *   wp-no-bs     a data watchpoint hit after an exit reports B1 and never
 *                sets DR6.BS (nor clears it when software set it);
 *   movss-int1   MOV SS from a watched word, then NOP: the watchpoint's #DB
 *                waits for the NOP (B1); then MOV SS from it and INT $1:
 *                INT 1 reaches the handler once, the watchpoint's #DB at
 *                the handler's first instruction (hardware) or not at all
 *                (Bochs 2.7 drops a trap MOV SS held when INT n follows;
 *                no exit is involved, so Strata cannot change that);
 *   movss-int3   the same with INT3: one #BP, the #DB as for INT $1;
 *   bp-emulated  breakpoints on accesses Strata emulates: a 4-byte write
 *                watchpoint on the MMIO test device is not hit by a read,
 *                is hit by a write (#DB after it, B0); with CR4.DE an I/O
 *                breakpoint on port 0x3fd is hit by IN (B1), not by an
 *                OUT to 0x3ff (the UART scratch register).
 *
 * Each case prints a line and sets its bit in the final mask (set = failed).
 * Every case places a CPUID (which always exits) between arming the debug
 * registers and the event it checks, so a hypervisor that loses DR7 or
 * RFLAGS.RF over an exit fails it.
 */
#include "guest.h"
#include "x86.h"

#define RFLAGS_TF		(1UL << 8)
#define RFLAGS_RF		(1UL << 16)
#define DR6_ACTIVE_LOW		0xffff0ff0UL
#define DR6_B0			(1UL << 0)
#define DR6_B1			(1UL << 1)
#define DR6_BD			(1UL << 13)
#define DR6_BS			(1UL << 14)
#define DR7_FIXED		0x400UL
#define DR7_G0			(1UL << 1)
#define DR7_G1			(1UL << 3)
#define DR7_GD			(1UL << 13)
/* DR1: 4 bytes, written (RW1 = 01) or read and written (RW1 = 11). */
#define DR7_DR1_W4		(0xdUL << 20)
#define DR7_DR1_RW4		(0xfUL << 20)
/* DR0: 4 bytes written; DR1: one I/O port (CR4.DE). */
#define DR7_DR0_W4		(0xdUL << 16)
#define DR7_DR1_IO1		(0x2UL << 20)
#define CR4_DE			(1UL << 3)
#define BP_MMIO			(GUEST_TESTDEV_BASE + 8)

#define MAX_EVENTS		16
/* RAM nothing else touches (8 MiB VM; Strata's area is in the last 2 MiB). */
#define DBTRAP_FRESH_RAM_S	"0x400000"
#define DBTRAP_BP_MMIO_S	"0xfe000008"

enum dbtrap_case {
	CASE_RF_INJECT,
	CASE_RF_CLEARED,
	CASE_SS_EMULATED,
	CASE_GD_MOVSS,
	CASE_WP_NO_BS,
	CASE_MOVSS_INT1,
	CASE_MOVSS_INT3,
	CASE_BP_EMULATED,
	CASE_NR,
};

static const char *const case_names[CASE_NR] = {
	"rf-inject", "rf-cleared", "ss-emulated", "gd-movss", "wp-no-bs",
	"movss-int1", "movss-int3", "bp-emulated",
};

/* What each #DB (and #BP) delivered: the frame's RIP and RFLAGS, DR6. */
static volatile unsigned int n_db, n_bp;
static volatile uint64_t db_rip[MAX_EVENTS], db_dr6[MAX_EVENTS];
static volatile uint64_t db_rflags[MAX_EVENTS];
static volatile uint64_t bp_rip;
static volatile uint64_t fault_rflags;
static volatile unsigned int fault_skip;

/* Watched by DR1; nothing else reads or writes it. */
volatile uint32_t dbtrap_watch __attribute__((aligned(8)));

/* The sequences under test (the asm below) and their labels. */
void rf_run(void);
void ss_emul_run(void);
void gd_run(void);
void wp_run(uint64_t dr6);
void movss_nop_run(void);
void bp_mmio_run(void);
void bp_io_run(void);
void movss_int1_run(void);
void movss_int3_run(void);
extern const char rf_after[], ss_emul_l[], ss_emul_end[], gd_l[], gd_end[];
extern const char wp_after[], movss_nop_after[], movss_int1_after[];
extern const char movss_int3_after[], bp_mmio_after[], bp_io_after[];
extern const char isr_1[], isr_3[];
extern const uint64_t ss_emul_labels[], gd_labels[];
extern const unsigned int ss_emul_nlabels, gd_nlabels;

__asm__(
	"	.text\n"
	/* IRET with RF = 1 onto CPUID; DR0 is an instruction breakpoint
	 * on the instruction after it. */
	"	.globl rf_run\n"
	"rf_run:\n"
	"	push %rbx\n"
	"	mov %rsp, %rax\n"
	"	xor %ecx, %ecx\n"
	"	mov %ss, %cx\n"
	"	push %rcx\n"
	"	push %rax\n"
	"	pushfq\n"
	"	orq $0x10000, (%rsp)\n"
	"	mov %cs, %cx\n"
	"	push %rcx\n"
	"	lea rf_cpuid(%rip), %rcx\n"
	"	push %rcx\n"
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	iretq\n"
	"rf_cpuid:\n"
	"	cpuid\n"
	"	.globl rf_after\n"
	"rf_after:\n"
	"	nop\n"
	"	pop %rbx\n"
	"	ret\n"

	/* TF over instructions Strata emulates: a #DB at each label. */
	"	.globl ss_emul_run\n"
	"ss_emul_run:\n"
	"	push %rbx\n"
	"	mov $0xfe000000, %esi\n"
	"	mov $" DBTRAP_FRESH_RAM_S ", %edi\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"	nop\n"
	"1:	xor %eax, %eax\n"
	"2:	cpuid\n"
	"3:	mov $0x3fd, %edx\n"
	"4:	inb %dx, %al\n"
	"5:	mov $0x1b, %ecx\n"
	"6:	rdmsr\n"
	"7:	movl $0x5a5a, (%rsi)\n"
	"8:	movl $0x5a5a, (%rdi)\n"
	"9:	pushfq\n"
	"10:	andq $~0x100, (%rsp)\n"
	"11:	popfq\n"
	"12:	pop %rbx\n"
	"	ret\n"
	"	.section .rodata\n"
	"	.balign 8\n"
	"	.globl ss_emul_labels\n"
	"ss_emul_labels:\n"
	"	.quad 1b, 2b, 3b, 4b, 5b, 6b, 7b, 8b, 9b, 10b, 11b, 12b\n"
	"	.globl ss_emul_nlabels\n"
	"ss_emul_nlabels:\n"
	"	.long 12\n"
	"	.text\n"

	/* DR7.GD, an exit, then TF with MOV SS and MOV to DR6. */
	"	.globl gd_run\n"
	"gd_run:\n"
	"	push %rbx\n"
	"	mov $0x2400, %eax\n"
	"	mov %rax, %dr7\n"
	"	xor %eax, %eax\n"
	"	cpuid\n"
	"	xor %ecx, %ecx\n"
	"	pushfq\n"
	"	pop %rax\n"
	"	or $0x100, %rax\n"
	"	push %rax\n"
	"	mov %ss, %dx\n"
	"	popfq\n"
	"	mov %dx, %ss\n"
	"1:	mov %rcx, %dr6\n"
	"2:	and $~0x100, %rax\n"
	"3:	push %rax\n"
	"4:	popfq\n"
	"5:	pop %rbx\n"
	"	ret\n"
	"	.section .rodata\n"
	"	.balign 8\n"
	"	.globl gd_labels\n"
	"gd_labels:\n"
	"	.quad 1b, 2b, 3b, 4b, 5b\n"
	"	.globl gd_nlabels\n"
	"gd_nlabels:\n"
	"	.long 5\n"
	"	.text\n"

	/* DR6 = @rdi, an exit, then a write to the watched word. */
	"	.globl wp_run\n"
	"wp_run:\n"
	"	push %rbx\n"
	"	mov %rdi, %dr6\n"
	"	xor %eax, %eax\n"
	"	cpuid\n"
	"	movl $42, dbtrap_watch(%rip)\n"
	"	.globl wp_after\n"
	"wp_after:\n"
	"	pop %rbx\n"
	"	ret\n"

	/* A read of the watched MMIO word, then a write; then IN and OUT. */
	"	.globl bp_mmio_run\n"
	"bp_mmio_run:\n"
	"	mov $" DBTRAP_BP_MMIO_S ", %edi\n"
	"	mov (%rdi), %eax\n"
	"	mov %eax, (%rdi)\n"
	"	.globl bp_mmio_after\n"
	"bp_mmio_after:\n"
	"	ret\n"
	"	.globl bp_io_run\n"
	"bp_io_run:\n"
	"	mov $0x3ff, %edx\n"
	"	xor %eax, %eax\n"
	"	outb %al, %dx\n"
	"	mov $0x3fd, %edx\n"
	"	inb %dx, %al\n"
	"	.globl bp_io_after\n"
	"bp_io_after:\n"
	"	ret\n"

	/* An exit, then MOV SS from the watched word and NOP / INT $1 / INT3. */
	"	.globl movss_nop_run\n"
	"movss_nop_run:\n"
	"	push %rbx\n"
	"	xor %eax, %eax\n"
	"	cpuid\n"
	"	mov dbtrap_watch(%rip), %ss\n"
	"	nop\n"
	"	.globl movss_nop_after\n"
	"movss_nop_after:\n"
	"	pop %rbx\n"
	"	ret\n"
	"	.globl movss_int1_run\n"
	"movss_int1_run:\n"
	"	push %rbx\n"
	"	xor %eax, %eax\n"
	"	cpuid\n"
	"	mov dbtrap_watch(%rip), %ss\n"
	"	int $1\n"
	"	.globl movss_int1_after\n"
	"movss_int1_after:\n"
	"	pop %rbx\n"
	"	ret\n"
	"	.globl movss_int3_run\n"
	"movss_int3_run:\n"
	"	push %rbx\n"
	"	xor %eax, %eax\n"
	"	cpuid\n"
	"	mov dbtrap_watch(%rip), %ss\n"
	"	int3\n"
	"	.globl movss_int3_after\n"
	"movss_int3_after:\n"
	"	pop %rbx\n"
	"	ret\n");

#define DEFINE_DR(n)							\
static inline uint64_t read_dr##n(void)					\
{									\
	uint64_t v;							\
									\
	__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));		\
	return v;							\
}									\
static inline void write_dr##n(uint64_t v)				\
{									\
	__asm__ volatile("mov %0, %%db" #n : : "r"(v) : "memory");	\
}

DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(6)
DEFINE_DR(7)

static void on_db(struct exc_frame *f)
{
	unsigned int i = n_db;
	uint64_t dr6 = read_dr6();

	if (i < MAX_EVENTS) {
		db_rip[i] = f->rip;
		db_dr6[i] = dr6;
		db_rflags[i] = f->rflags;
	}
	n_db = i + 1;
	/* An instruction breakpoint is a fault: resume past it. */
	if (dr6 & DR6_B0) {
		f->rflags |= RFLAGS_RF;
	}
	if (n_db >= MAX_EVENTS) {
		f->rflags &= ~RFLAGS_TF;
		write_dr7(DR7_FIXED);
	}
}

static void on_bp(struct exc_frame *f)
{
	n_bp++;
	bp_rip = f->rip;
}

static void on_fault(struct exc_frame *f)
{
	fault_rflags = f->rflags;
	f->rip += fault_skip;
}

static void reset_events(void)
{
	n_db = 0;
	n_bp = 0;
	bp_rip = 0;
	for (unsigned int i = 0; i < MAX_EVENTS; i++) {
		db_rip[i] = db_dr6[i] = db_rflags[i] = 0;
	}
}

static void disarm(void)
{
	write_dr7(DR7_FIXED);
	write_dr0(0);
	write_dr1(0);
	write_dr6(0);
}

/* Check #DB number @i: at @rip with DR6 @dr6. */
static bool expect_db(const char *name, unsigned int i, uint64_t rip,
		      uint64_t dr6)
{
	if (i >= n_db || i >= MAX_EVENTS) {
		gprintf("FAIL: %s: #DB %u missing (%u taken)\n", name, i,
			n_db);
		return false;
	}
	if (db_rip[i] != rip || db_dr6[i] != dr6) {
		gprintf("FAIL: %s: #DB %u at 0x%lx DR6 0x%lx, want 0x%lx DR6 0x%lx\n",
			name, i, (unsigned long)db_rip[i],
			(unsigned long)db_dr6[i], (unsigned long)rip,
			(unsigned long)dr6);
		return false;
	}
	return true;
}

static bool expect_count(const char *name, unsigned int want)
{
	if (n_db != want) {
		gprintf("FAIL: %s: %u #DB taken, want %u\n", name, n_db, want);
		return false;
	}
	return true;
}

static bool case_rf_inject(void)
{
	const char *name = case_names[CASE_RF_INJECT];
	uint32_t lo, hi;
	bool ok = true;

	idt_hook(13, on_fault);
	fault_skip = 2;
	fault_rflags = 0;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x12345678));
	if (!(fault_rflags & RFLAGS_RF)) {
		gprintf("FAIL: %s: #GP frame RFLAGS 0x%lx\n", name,
			(unsigned long)fault_rflags);
		ok = false;
	}
	idt_hook(13, NULL);
	idt_hook(6, on_fault);
	fault_skip = 3;
	fault_rflags = 0;
	__asm__ volatile(".byte 0x0f, 0x01, 0xc4" ::: "memory");	/* VMXOFF */
	if (!(fault_rflags & RFLAGS_RF)) {
		gprintf("FAIL: %s: #UD frame RFLAGS 0x%lx\n", name,
			(unsigned long)fault_rflags);
		ok = false;
	}
	idt_hook(6, NULL);
	return ok;
}

static bool case_rf_cleared(void)
{
	const char *name = case_names[CASE_RF_CLEARED];
	bool ok;

	reset_events();
	write_dr6(0);
	write_dr0((uint64_t)(uintptr_t)rf_after);
	write_dr7(DR7_FIXED | DR7_G0);
	rf_run();
	disarm();
	ok = expect_count(name, 1) &&
	     expect_db(name, 0, (uint64_t)(uintptr_t)rf_after,
		       DR6_ACTIVE_LOW | DR6_B0);
	/* A fault: the frame of an instruction breakpoint holds RF = 0. */
	if (ok && (db_rflags[0] & RFLAGS_RF)) {
		gprintf("FAIL: %s: breakpoint frame RFLAGS 0x%lx has RF\n",
			name, (unsigned long)db_rflags[0]);
		ok = false;
	}
	return ok;
}

static bool case_ss_emulated(void)
{
	const char *name = case_names[CASE_SS_EMULATED];
	bool ok;

	reset_events();
	write_dr6(0);
	ss_emul_run();
	ok = expect_count(name, ss_emul_nlabels);
	for (unsigned int i = 0; ok && i < ss_emul_nlabels; i++) {
		ok = expect_db(name, i, ss_emul_labels[i],
			       DR6_ACTIVE_LOW | DR6_BS);
	}
	return ok;
}

static bool case_gd_movss(void)
{
	const char *name = case_names[CASE_GD_MOVSS];
	bool ok;

	reset_events();
	write_dr6(0);
	gd_run();
	/* The CPU clears GD as it delivers the #DB; be sure for what follows. */
	disarm();
	ok = expect_count(name, gd_nlabels);
	if (ok && (db_rip[0] != gd_labels[0] ||
		   (db_dr6[0] & ~DR6_BS) != (DR6_ACTIVE_LOW | DR6_BD))) {
		gprintf("FAIL: %s: #DB 0 at 0x%lx DR6 0x%lx, want 0x%lx DR6 BD\n",
			name, (unsigned long)db_rip[0],
			(unsigned long)db_dr6[0], (unsigned long)gd_labels[0]);
		ok = false;
	}
	for (unsigned int i = 1; ok && i < gd_nlabels; i++) {
		ok = expect_db(name, i, gd_labels[i], DR6_ACTIVE_LOW | DR6_BS);
	}
	return ok;
}

static bool case_wp_no_bs(void)
{
	const char *name = case_names[CASE_WP_NO_BS];
	uint64_t start[2] = { 0, DR6_BS };
	bool ok = true;

	for (unsigned int i = 0; ok && i < 2; i++) {
		reset_events();
		write_dr1((uint64_t)(uintptr_t)&dbtrap_watch);
		write_dr7(DR7_FIXED | DR7_G1 | DR7_DR1_W4);
		wp_run(start[i]);
		disarm();
		ok = expect_count(name, 1) &&
		     expect_db(name, 0, (uint64_t)(uintptr_t)wp_after,
			       DR6_ACTIVE_LOW | DR6_B1 | start[i]);
	}
	return ok;
}

/* Arm DR1 on the watched word (reads and writes), holding SS's selector. */
static void arm_movss(void)
{
	uint16_t ss;

	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	dbtrap_watch = ss;
	reset_events();
	write_dr6(0);
	write_dr1((uint64_t)(uintptr_t)&dbtrap_watch);
	write_dr7(DR7_FIXED | DR7_G1 | DR7_DR1_RW4);
}

/* MOV SS + NOP: the watchpoint's #DB waits for the NOP, reports B1. */
static bool movss_held(const char *name)
{
	bool ok;

	arm_movss();
	movss_nop_run();
	disarm();
	ok = expect_count(name, 1) &&
	     expect_db(name, 0, (uint64_t)(uintptr_t)movss_nop_after,
		       DR6_ACTIVE_LOW | DR6_B1);
	arm_movss();
	return ok;
}

/*
 * The #DB events of MOV SS + INT: @n_int deliveries of vector 1 at
 * @after (INT $1) and the watchpoint's #DB, if the CPU delivers it, at
 * @isr with B1 (see the header about Bochs).
 */
static bool movss_int_events(const char *name, unsigned int n_int,
			     const char *isr, const char *after)
{
	unsigned int ints = 0, watch = 0;

	for (unsigned int i = 0; i < n_db && i < MAX_EVENTS; i++) {
		if (db_rip[i] == (uint64_t)(uintptr_t)after) {
			ints++;
		} else if (db_rip[i] == (uint64_t)(uintptr_t)isr &&
			   i == 0 && (db_dr6[i] & DR6_B1)) {
			watch++;
		} else {
			gprintf("FAIL: %s: #DB %u at 0x%lx DR6 0x%lx\n", name, i,
				(unsigned long)db_rip[i],
				(unsigned long)db_dr6[i]);
			return false;
		}
	}
	if (ints != n_int || n_db != ints + watch) {
		gprintf("FAIL: %s: %u #DB (%u by INT 1), want %u by INT 1\n",
			name, n_db, ints, n_int);
		return false;
	}
	return true;
}

static bool case_movss_int1(void)
{
	const char *name = case_names[CASE_MOVSS_INT1];
	bool ok = movss_held(name);

	movss_int1_run();
	disarm();
	return movss_int_events(name, 1, isr_1, movss_int1_after) && ok;
}

static bool case_movss_int3(void)
{
	const char *name = case_names[CASE_MOVSS_INT3];
	bool ok = movss_held(name);

	movss_int3_run();
	disarm();
	ok = movss_int_events(name, 0, isr_3, movss_int3_after) && ok;
	if (n_bp != 1 || bp_rip != (uint64_t)(uintptr_t)movss_int3_after) {
		gprintf("FAIL: %s: %u #BP, last at 0x%lx\n", name, n_bp,
			(unsigned long)bp_rip);
		ok = false;
	}
	return ok;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static bool case_bp_emulated(void)
{
	const char *name = case_names[CASE_BP_EMULATED];
	uint64_t cr4 = read_cr4();
	bool ok;

	reset_events();
	write_dr6(0);
	write_dr0(BP_MMIO);
	write_dr7(DR7_FIXED | DR7_G0 | DR7_DR0_W4);
	bp_mmio_run();
	disarm();
	ok = expect_count(name, 1) &&
	     expect_db(name, 0, (uint64_t)(uintptr_t)bp_mmio_after,
		       DR6_ACTIVE_LOW | DR6_B0);
	reset_events();
	write_cr4(cr4 | CR4_DE);
	write_dr1(0x3fd);
	write_dr7(DR7_FIXED | DR7_G1 | DR7_DR1_IO1);
	bp_io_run();
	disarm();
	write_cr4(cr4);
	return expect_count(name, 1) &&
	       expect_db(name, 0, (uint64_t)(uintptr_t)bp_io_after,
			 DR6_ACTIVE_LOW | DR6_B1) && ok;
}

int guest_main(void)
{
	static bool (*const cases[CASE_NR])(void) = {
		case_rf_inject, case_rf_cleared, case_ss_emulated,
		case_gd_movss, case_wp_no_bs, case_movss_int1,
		case_movss_int3, case_bp_emulated,
	};
	unsigned int failed = 0;

	idt_init();
	idt_hook(1, on_db);
	idt_hook(3, on_bp);
	disarm();
	for (unsigned int c = 0; c < CASE_NR; c++) {
		bool ok = cases[c]();

		EXPECT(ok, "case %s", case_names[c]);
		if (!ok) {
			failed |= 1U << c;
		}
		gprintf("dbtrap: case %s: %s\n", case_names[c],
			ok ? "pass" : "FAIL");
	}
	gprintf("dbtrap: failed mask 0x%x of 0x%x\n", failed,
		(1U << CASE_NR) - 1);
	return checks_result("dbtrap");
}
