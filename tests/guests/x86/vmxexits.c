// SPDX-License-Identifier: MIT
/*
 * vmxexits: what Strata's VMX exit handlers do with the instructions a
 * kernel executes (arch/x86/vmx_exit.c, arch/guest_layout.h). It checks the
 * hypervisor CPUID leaves and the features Strata hides, the MSR allow-list
 * (allowed MSRs keep what is written, refused values fault), CR0/CR4/CR8
 * writes (VMXE and PKE refused, OSXSAVE taken exactly when CPUID shows
 * XSAVE, NE under the guest's control as it sees it), REP INSB / OUTSB (forwards and backwards) emulated and OUTSB
 * from MMIO refused, VMX instructions refused with #UD, INVD continuing,
 * HLT with interrupts on woken by the local APIC timer, VMCALL from CPL 3 (reached with SYSRET, left
 * with SYSCALL through the LSTAR it set) denied, and that every exception
 * it provoked was counted as injected. Then it spins, printing ticks, so
 * that two copies of it side by side show time slicing on the console,
 * and checks that CR2, DR0 and LSTAR, which VMX does not switch, kept
 * values unique to its VM across the slices of the others. A VM given exactly 6 MiB of RAM ends with CLI; HLT
 * instead of powering off, one given 5 MiB by pointing its page tables at
 * unbacked memory and touching an address they map, one given 7 MiB by
 * returning from its #GP handler to a refused RDMSR forever; Strata must
 * report all three as stopped VMs.
 */
#include "guest.h"

#define HLT_RAM_SIZE	(6UL << 20)
#define BADPT_RAM_SIZE	(5UL << 20)
#define STORM_RAM_SIZE	(7UL << 20)
#define BADPT_TABLE	0xd0000000UL	/* unbacked */
#define BADPT_ADDR	(512UL << 30)	/* what PML4 entry 1 maps */
#define TICKS		6
#define TICK_LOOPS	400000UL

#define MSR_EFER	0xc0000080
#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define MSR_SFMASK	0xc0000084
#define MSR_FS_BASE	0xc0000100
#define MSR_KGS_BASE	0xc0000102
#define MSR_PAT		0x277
#define EFER_SCE	(1UL << 0)
#define EFER_NXE	(1UL << 11)
#define EFER_LME	(1UL << 8)
#define EFER_LMA	(1UL << 10)
#define CR0_NE		(1UL << 5)
#define CR4_VMXE	(1UL << 13)
#define CR4_OSXSAVE	(1UL << 18)
#define CR4_PKE		(1UL << 22)

static unsigned long injected;	/* exceptions this guest provoked */
static bool xsave_shown;	/* CPUID.1:ECX.XSAVE */

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]),
			 "=d"(r[3]) : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)) : "memory");
}

/* WRMSR that must raise #GP (the 2-byte instruction is skipped). */
static bool wrmsr_faults(uint32_t msr, uint64_t v)
{
	unsigned long gp = exc_count[13];

	exc_skip = 2;
	wrmsr(msr, v);
	exc_skip = 0;
	injected++;
	return exc_count[13] == gp + 1;
}

static void check_cpuid(void)
{
	static const char want[] = "StrataStrata";
	uint32_t r[4];
	char sig[13];
	bool same = true;

	cpuid(0x40000000, r);
	for (unsigned int i = 0; i < 12; i++) {
		sig[i] = (char)(r[1 + i / 4] >> (8 * (i % 4)));
		same = same && sig[i] == want[i];
	}
	sig[12] = '\0';
	EXPECT(r[0] >= 0x40000001, "cpuid 0x40000000: max leaf 0x%x", r[0]);
	EXPECT(same, "cpuid 0x40000000: signature '%s'", sig);
	cpuid(0x40000001, r);
	EXPECT(r[0] == STRATA_HC_BASE, "cpuid 0x40000001: eax 0x%x", r[0]);
	cpuid(1, r);
	xsave_shown = r[2] & (1u << 26);
	EXPECT(!(r[2] & (1u << 27)),
	       "cpuid 1: OSXSAVE visible with CR4.OSXSAVE clear (ecx 0x%x)",
	       r[2]);
	EXPECT(xsave_shown || !(r[2] & (1u << 28)),
	       "cpuid 1: AVX visible without XSAVE (ecx 0x%x)", r[2]);
	cpuid(0xd, r);
	EXPECT(xsave_shown == ((r[0] & 3) == 3),
	       "cpuid 0xd: mask 0x%x with XSAVE %s", r[0],
	       xsave_shown ? "shown" : "hidden");
}

static void check_msrs(void)
{
	uint64_t efer = rdmsr(MSR_EFER);
	uint64_t pat = rdmsr(MSR_PAT);

	EXPECT((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	       "EFER 0x%lx without LME|LMA", (unsigned long)efer);
	wrmsr(MSR_EFER, efer | EFER_NXE);
	EXPECT(rdmsr(MSR_EFER) & EFER_NXE, "EFER.NXE did not stick");
	EXPECT(wrmsr_faults(MSR_EFER, efer | (1UL << 20)),
	       "EFER reserved bit accepted");
	wrmsr(MSR_LSTAR, 0xffffffff81000000UL);
	EXPECT(rdmsr(MSR_LSTAR) == 0xffffffff81000000UL, "LSTAR not kept");
	EXPECT(wrmsr_faults(MSR_LSTAR, 0x0000800000000000UL),
	       "non-canonical LSTAR accepted");
	wrmsr(MSR_KGS_BASE, 0x123456789000UL);
	EXPECT(rdmsr(MSR_KGS_BASE) == 0x123456789000UL,
	       "KERNEL_GS_BASE not kept");
	wrmsr(MSR_FS_BASE, 0x5000UL);
	EXPECT(rdmsr(MSR_FS_BASE) == 0x5000UL, "FS base not kept");
	wrmsr(MSR_FS_BASE, 0);
	wrmsr(MSR_PAT, 0x0007010600070106UL);
	EXPECT(rdmsr(MSR_PAT) == 0x0007010600070106UL, "PAT not kept");
	EXPECT(wrmsr_faults(MSR_PAT, 0x0000000000000002UL),
	       "PAT with reserved type 2 accepted");
	wrmsr(MSR_PAT, pat);
}

static uint64_t read_cr(int n)
{
	uint64_t v = 0;

	if (n == 0) {
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	} else if (n == 4) {
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	} else {
		__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	}
	return v;
}

/* MOV to CR4 / CR8 that must raise #GP (3- or 4-byte instruction). */
static bool mov_cr4_faults(uint64_t v)
{
	unsigned long gp = exc_count[13];

	exc_skip = 3;
	__asm__ volatile("mov %0, %%cr4" : : "a"(v) : "memory");
	exc_skip = 0;
	injected++;
	return exc_count[13] == gp + 1;
}

static void check_crs(void)
{
	uint64_t cr0 = read_cr(0), cr4 = read_cr(4);

	EXPECT(!(cr4 & CR4_VMXE), "CR4 shows VMXE (0x%lx)", (unsigned long)cr4);
	EXPECT(mov_cr4_faults(cr4 | CR4_VMXE), "CR4.VMXE accepted");
	EXPECT(mov_cr4_faults(cr4 | CR4_PKE), "CR4.PKE accepted");
	EXPECT(read_cr(4) == cr4, "CR4 changed by refused writes");
	if (xsave_shown) {
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_OSXSAVE)
				 : "memory");
		EXPECT(read_cr(4) == (cr4 | CR4_OSXSAVE),
		       "CR4.OSXSAVE not taken with XSAVE shown");
		__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
	}
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~CR0_NE) : "memory");
	EXPECT(!(read_cr(0) & CR0_NE), "CR0.NE clear did not show");
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	EXPECT(read_cr(0) == cr0, "CR0 not restored");
	__asm__ volatile("mov %0, %%cr8" : : "r"(5UL) : "memory");
	EXPECT(read_cr(8) == 5, "CR8 not kept");
	__asm__ volatile("mov %0, %%cr8" : : "r"(0UL) : "memory");
}

/*
 * REP INSB into a page that is write-protected in stage 2: Strata stores the
 * bytes itself, and must count that as the guest's write to the page, as a
 * MOV to it would have been (one write-protect fault, page writable again).
 */
static void check_ins_into_protected_page(void)
{
	static uint8_t page[4096] __attribute__((aligned(4096)));
	unsigned long wp, faults;
	uint64_t rdi = (uint64_t)(uintptr_t)page, rcx = 64;
	unsigned int bad = 0;
	long st;

	page[0] = 1;	/* mapped (and writable) before it is protected */
	st = hypercall(STRATA_HC_WRPROTECT, (uintptr_t)page, sizeof(page), 0,
		       NULL);
	EXPECT(st == 0, "WRPROTECT of the INS page: %ld", st);
	wp = counter(STRATA_CTR_WP_FAULTS);
	faults = counter(STRATA_CTR_S2_FAULTS);
	outb(0x3ff, 0x3c);
	__asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(0x3ff)
			 : "memory");
	for (unsigned int i = 0; i < 64; i++) {
		bad += page[i] != 0x3c;
	}
	EXPECT(!bad && rcx == 0, "rep insb into a protected page: %u wrong",
	       bad);
	EXPECT(counter(STRATA_CTR_WP_FAULTS) == wp + 1,
	       "rep insb into a protected page: %lu write-protect faults",
	       counter(STRATA_CTR_WP_FAULTS) - wp);
	/* Writable again: a plain store takes no fault at all. */
	page[100] = 7;
	EXPECT(counter(STRATA_CTR_WP_FAULTS) == wp + 1 &&
	       counter(STRATA_CTR_S2_FAULTS) == faults,
	       "store after rep insb faulted");
}

/*
 * INS / OUTS with and without REP, both directions: the console shows what
 * REP OUTSB sent, REP INSB fills a buffer from the UART's scratch register
 * and moves RDI and RCX, and memory that is not RAM faults.
 */
static void check_string_io(void)
{
	static const char fwd[] = "vmxexits: rep outsb\n";
	static const char bwd[] = "\nsdrawkcab :stixexmv";
	unsigned long gp = exc_count[13];
	static uint8_t big[3000];
	uint8_t in[4] = { 0, 0, 0, 0 };
	unsigned int bad = 0;
	const char *rsi = fwd;
	uint64_t rdi = (uint64_t)(uintptr_t)in, rcx = sizeof(fwd) - 1;

	__asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(0x3f8)
			 : "memory");
	rsi = bwd + sizeof(bwd) - 2;
	rcx = sizeof(bwd) - 1;
	__asm__ volatile("std; rep outsb; cld" : "+S"(rsi), "+c"(rcx)
			 : "d"(0x3f8) : "memory");
	EXPECT((uintptr_t)rsi + 1 == (uintptr_t)bwd && rcx == 0,
	       "backwards rep outsb left RSI %ld, RCX %lu",
	       (long)((uintptr_t)rsi - (uintptr_t)bwd), (unsigned long)rcx);
	rcx = 0;
	__asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(0x3f8)
			 : "memory");
	outb(0x3ff, 0x5a);
	rcx = 3;
	__asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(0x3ff)
			 : "memory");
	EXPECT(in[0] == 0x5a && in[1] == 0x5a && in[2] == 0x5a && !in[3],
	       "rep insb read %x %x %x %x", in[0], in[1], in[2], in[3]);
	EXPECT(rdi == (uint64_t)(uintptr_t)in + 3 && rcx == 0,
	       "rep insb left RDI +%ld, RCX %lu",
	       (long)(rdi - (uint64_t)(uintptr_t)in), (unsigned long)rcx);
	/* Longer than one exit's batch: the instruction resumes. */
	outb(0x3ff, 0xa7);
	rdi = (uint64_t)(uintptr_t)big;
	rcx = sizeof(big);
	__asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(0x3ff)
			 : "memory");
	for (unsigned int i = 0; i < sizeof(big); i++) {
		bad += big[i] != 0xa7;
	}
	rdi -= (uint64_t)(uintptr_t)big;
	EXPECT(!bad && rcx == 0 && rdi == sizeof(big),
	       "rep insb of %u bytes: %u wrong, RCX %lu, RDI +%lu",
	       (unsigned int)sizeof(big), bad, (unsigned long)rcx,
	       (unsigned long)rdi);
	check_ins_into_protected_page();
	exc_skip = 1;	/* outsb from the MMIO test device */
	__asm__ volatile("outsb" : : "S"(GUEST_TESTDEV_BASE), "d"(0x3f8)
			 : "memory");
	exc_skip = 0;
	injected++;
	EXPECT(exc_count[13] == gp + 1, "outsb from MMIO did not raise #GP");
}

#define HLT_TIMER_VEC	0x50

static void check_refused_insns(void)
{
	volatile uint32_t *apic = (volatile uint32_t *)0xfee00000UL;
	unsigned long gp = exc_count[13], ud = exc_count[6];

	exc_skip = 3;	/* vmxoff */
	__asm__ volatile(".byte 0x0f, 0x01, 0xc4" ::: "memory");
	EXPECT(exc_count[6] == ud + 1, "VMXOFF did not raise #UD");
	exc_skip = 0;
	injected++;
	__asm__ volatile("invd" ::: "memory");
	/* HLT with IF set waits for an interrupt: a one-shot APIC timer's. */
	apic[0xf0 / 4] = 0x1ff;			/* SVR: enabled */
	apic[0x320 / 4] = HLT_TIMER_VEC;	/* LVT timer: one-shot */
	apic[0x3e0 / 4] = 0xb;			/* divide by 1 */
	apic[0x380 / 4] = 20000;
	while (!irq_count[HLT_TIMER_VEC]) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	apic[0xb0 / 4] = 0;			/* EOI */
	EXPECT(exc_count[13] == gp && exc_count[6] == ud + 1,
	       "INVD or HLT raised an exception");
	EXPECT(irq_count[HLT_TIMER_VEC] == 1, "HLT woken by %lu timer interrupts",
	       irq_count[HLT_TIMER_VEC]);
}

/*
 * user_vmcall(): drop to CPL 3 with SYSRET (user CS 0x2b, SS 0x23 from
 * STAR), make a COUNTER hypercall there, come back with SYSCALL to
 * syscall_entry (LSTAR) and return the hypercall's status.
 */
long user_vmcall(void);
void syscall_entry(void);
__asm__(".text\n"
	"user_vmcall:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	mov %rsp, user_saved_rsp(%rip)\n"
	"	lea 1f(%rip), %rcx\n"
	"	pushfq\n"
	"	pop %r11\n"
	"	sysretq\n"
	"1:	mov $0xC6000004, %eax\n"
	"	xor %ebx, %ebx\n"
	"	vmcall\n"
	"	mov %rax, %rdi\n"
	"	syscall\n"
	"syscall_entry:\n"
	"	mov user_saved_rsp(%rip), %rsp\n"
	"	mov %rdi, %rax\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n");
uint64_t user_saved_rsp;

/* GDT: kernel code/data as Strata's, then SYSRET's user data and code. */
static const uint64_t user_gdt[6] __attribute__((aligned(16))) = {
	0,
	0x00af9a000000ffffULL,	/* 0x08 kernel code, 64-bit */
	0x00cf92000000ffffULL,	/* 0x10 kernel data */
	0,			/* 0x18 (SYSRET's 32-bit code) */
	0x00cff2000000ffffULL,	/* 0x20 user data, DPL 3 */
	0x00affa000000ffffULL,	/* 0x28 user code, 64-bit, DPL 3 */
};

static void check_user_vmcall(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(user_gdt) - 1,
					   (uint64_t)(uintptr_t)user_gdt };
	unsigned long hc = counter(STRATA_CTR_HYPERCALLS);
	long st;

	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, (0x18ULL << 48) | (0x08ULL << 32));
	wrmsr(MSR_SFMASK, 0);
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)syscall_entry);
	st = user_vmcall();
	EXPECT(st == STRATA_HC_DENIED, "VMCALL at CPL 3 returned %ld", st);
	/* Only the first COUNTER call of this check reached the VMM. */
	EXPECT(counter(STRATA_CTR_HYPERCALLS) == hc + 1,
	       "VMCALL at CPL 3 reached the hypercall handler");
}

/*
 * Busy ticks: copies of this guest interleave on the console. Registers
 * VMX leaves to the hypervisor hold values unique to this VM meanwhile.
 */
static void spin(void)
{
	uint32_t r[4];
	uint64_t mine, cr2, dr0;

	cpuid(0x40000001, r);
	mine = 0x5000UL * (r[2] + 1) + 0xabc;	/* ECX: the VM's slot */
	__asm__ volatile("mov %0, %%cr2; mov %0, %%db0" : : "r"(mine));
	wrmsr(MSR_LSTAR, mine);
	for (unsigned int t = 1; t <= TICKS; t++) {
		for (volatile unsigned long i = 0; i < TICK_LOOPS; i++) {
		}
		gprintf("vmxexits: tick %u\n", t);
	}
	__asm__ volatile("mov %%cr2, %0; mov %%db0, %1"
			 : "=r"(cr2), "=r"(dr0));
	EXPECT(cr2 == mine && dr0 == mine && rdmsr(MSR_LSTAR) == mine,
	       "CR2 0x%lx DR0 0x%lx LSTAR 0x%lx after the ticks, not 0x%lx",
	       (unsigned long)cr2, (unsigned long)dr0,
	       (unsigned long)rdmsr(MSR_LSTAR), (unsigned long)mine);
}

/* #GP handler of the storm: back to the faulting RDMSR, again and again. */
static void gp_retry(struct exc_frame *f)
{
	(void)f;
}

int guest_main(void)
{
	unsigned long inj0 = counter(STRATA_CTR_INJECTED);
	unsigned long exits0 = counter(STRATA_CTR_EXITS), n;

	idt_init();
	check_cpuid();
	check_msrs();
	check_crs();
	check_string_io();
	check_refused_insns();
	check_user_vmcall();
	n = counter(STRATA_CTR_INJECTED) - inj0;
	EXPECT(n == injected, "%lu exceptions injected, expected %lu", n,
	       injected);
	EXPECT(counter(STRATA_CTR_EXITS) > exits0 + 20, "exits not counted");
	gprintf("vmxexits: %lu exceptions injected\n", n);
	spin();
	if (boot_info.ram_size == HLT_RAM_SIZE) {
		gprintf("vmxexits: RESULT: %s; now HLT with interrupts off\n",
			checks_failed ? "FAIL" : "PASS");
		__asm__ volatile("cli; hlt" ::: "memory");
		gprintf("vmxexits: HLT returned\n");
	}
	if (boot_info.ram_size == STORM_RAM_SIZE) {
		gprintf("vmxexits: RESULT: %s; now an exception storm\n",
			checks_failed ? "FAIL" : "PASS");
		idt_hook(13, gp_retry);
		(void)rdmsr(0x12345678);
		gprintf("vmxexits: the storm ended\n");
	}
	if (boot_info.ram_size == BADPT_RAM_SIZE) {
		uint64_t cr3, *pml4;

		gprintf("vmxexits: RESULT: %s; now page tables in unbacked memory\n",
			checks_failed ? "FAIL" : "PASS");
		__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
		pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffUL);
		pml4[1] = BADPT_TABLE | 3;
		(void)*(volatile uint64_t *)BADPT_ADDR;
		gprintf("vmxexits: the walk through unbacked memory returned\n");
	}
	return checks_result("vmxexits");
}
