// SPDX-License-Identifier: MIT
/*
 * msr: CPUID and the MSRs agree. Each feature CPUID shows has its MSRs
 * served, each MSR of a hidden feature raises #GP; IA32_MISC_ENABLE reads
 * sane bits and refuses changes to the fixed ones; writes of IA32_TSC and
 * IA32_TSC_ADJUST move the guest's TSC (and each other); RDTSCP returns
 * IA32_TSC_AUX when CPUID shows it and raises #UD when not; and the faults
 * Strata injects for refused instructions push RFLAGS.RF = 1, as the CPU
 * does for every fault-class exception. And PCID as CPUID shows it: CR4.PCIDE
 * refused (#GP) while CR3[11:0] is not 0, two roots under PCIDs 1 and 2
 * switched with the no-flush bit each translating a page their own way,
 * INVPCID (when shown) making a changed translation of PCID 1 visible and
 * refusing an invalid type with #GP, or #UD when hidden.
 */
#include "guest.h"
#include "x86.h"

#define RFLAGS_RF		(1UL << 16)
#define MSR_PERF_CAPABILITIES	0x345
#define MSR_DS_AREA		0x600
#define MSR_MTRRCAP		0xfe
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MPERF		0xe7
#define MSR_BIOS_SIGN_ID	0x8b
#define MSR_MTRR_BASE(n)	(0x200 + 2 * (n))
#define MSR_MTRR_MASK(n)	(0x201 + 2 * (n))
#define MSR_MTRR_FIX64K		0x250
#define MSR_MTRR_FIX16K_A0000	0x259
#define MSR_MTRR_FIX4K_F8000	0x26f
#define MTRR_WB_BYTES		0x0606060606060606UL

static volatile uint64_t fault_rflags;
static volatile unsigned int fault_skip;

static void record_fault(struct exc_frame *f)
{
	fault_rflags = f->rflags;
	f->rip += fault_skip;
}

/* MSR @msr is served exactly when CPUID says feature @shown. */
static void expect_msr_iff(uint32_t msr, bool shown, const char *feature)
{
	bool faults = rdmsr_faults(msr, NULL);

	EXPECT(faults != shown, "CPUID %s %s but MSR 0x%x %s", feature,
	       shown ? "shown" : "hidden", msr, faults ? "faults" : "reads");
}

static void check_cpuid_msrs(void)
{
	uint32_t r1[4], r6[4], r7[4], r0[4];
	uint64_t v;

	cpuid2(0, 0, r0);
	cpuid2(1, 0, r1);
	cpuid2(6, 0, r6);
	cpuid2(7, 0, r7);
	/* Hidden: nothing serves PERF_CAPABILITIES or the debug store. */
	EXPECT(!(r1[2] & (1U << 15)), "CPUID.1:ECX.PDCM shown");
	EXPECT(!(r1[3] & (1U << 21)), "CPUID.1:EDX.DS shown");
	expect_msr_iff(MSR_PERF_CAPABILITIES, r1[2] & (1U << 15), "PDCM");
	expect_msr_iff(MSR_DS_AREA, r1[3] & (1U << 21), "DS");
	expect_msr_iff(MSR_TSC, r1[3] & (1U << 4), "TSC");
	expect_msr_iff(MSR_APIC_BASE, r1[3] & (1U << 9), "APIC");
	expect_msr_iff(MSR_MTRRCAP, r1[3] & (1U << 12), "MTRR");
	expect_msr_iff(MSR_MCG_CAP, r1[3] & (1U << 14), "MCA");
	expect_msr_iff(MSR_TSC_DEADLINE, r1[2] & (1U << 24), "TSC-deadline");
	expect_msr_iff(MSR_TSC_ADJUST, r7[1] & (1U << 1), "TSC_ADJUST");
	if (r0[0] >= 6) {
		expect_msr_iff(MSR_MPERF, r6[2] & 1, "APERF/MPERF");
	}
	if (r1[3] & (1U << 12)) {
		v = rdmsr(MSR_MTRRCAP);
		EXPECT(rdmsr(MSR_MTRR_DEF_TYPE) == 0xc06,
		       "MTRR_DEF_TYPE 0x%lx at power-on, not E|FE|WB",
		       (unsigned long)rdmsr(MSR_MTRR_DEF_TYPE));
		EXPECT(!wrmsr_faults(MSR_MTRR_DEF_TYPE, 0x806),
		       "MTRR_DEF_TYPE = E|WB refused");
		EXPECT(rdmsr(MSR_MTRR_DEF_TYPE) == 0x806,
		       "MTRR_DEF_TYPE reads 0x%lx",
		       (unsigned long)rdmsr(MSR_MTRR_DEF_TYPE));
		EXPECT(wrmsr_faults(MSR_MTRR_DEF_TYPE, 0x802),
		       "MTRR_DEF_TYPE type 2 (reserved) accepted");
		wrmsr(MSR_MTRR_DEF_TYPE, 0xc06);
		EXPECT((v & 0xff) == 0 || !rdmsr_faults(0x200, NULL),
		       "MTRRCAP 0x%lx shows variable ranges it does not serve",
		       (unsigned long)v);
	}
	if (r1[3] & (1U << 14)) {
		EXPECT(!wrmsr_faults(MSR_MCG_STATUS, 0), "MCG_STATUS = 0 refused");
	}
}

/*
 * The MTRRs as firmware leaves them (MTRRcap's 8 variable ranges, fixed
 * ranges, WC): RAM write-back, the video hole and the MMIO window from
 * 0xfe000000 uncached; each register's reserved bits and types refused.
 */
static void check_mtrrs(void)
{
	uint32_t r1[4], r8[4];
	uint64_t cap, addr, v;
	unsigned int maxpa;

	cpuid2(1, 0, r1);
	if (!(r1[3] & (1U << 12))) {
		EXPECT(rdmsr_faults(MSR_MTRR_BASE(0), NULL),
		       "PHYSBASE0 served without CPUID MTRR");
		return;
	}
	cpuid2(0x80000008, 0, r8);
	maxpa = r8[0] & 0xff;
	addr = ((1UL << maxpa) - 1) & ~0xfffUL;
	cap = rdmsr(MSR_MTRRCAP);
	EXPECT((cap & 0xff) == 8 && (cap & (1UL << 8)) && (cap & (1UL << 10)),
	       "MTRRcap 0x%lx: want VCNT 8, FIX, WC", (unsigned long)cap);
	EXPECT(wrmsr_faults(MSR_MTRRCAP, cap), "MTRRcap written");
	EXPECT(rdmsr(MSR_MTRR_FIX64K) == MTRR_WB_BYTES,
	       "MTRRfix64K_00000 0x%lx, not WB", (unsigned long)
	       rdmsr(MSR_MTRR_FIX64K));
	EXPECT(rdmsr(MSR_MTRR_FIX16K_A0000) == 0,
	       "MTRRfix16K_A0000 0x%lx, not UC", (unsigned long)
	       rdmsr(MSR_MTRR_FIX16K_A0000));
	EXPECT(rdmsr(MSR_MTRR_FIX4K_F8000) == MTRR_WB_BYTES,
	       "MTRRfix4K_F8000 0x%lx, not WB", (unsigned long)
	       rdmsr(MSR_MTRR_FIX4K_F8000));
	EXPECT(rdmsr(MSR_MTRR_BASE(0)) == 0xfe000000UL,
	       "PHYSBASE0 0x%lx: want 0xfe000000 UC",
	       (unsigned long)rdmsr(MSR_MTRR_BASE(0)));
	v = rdmsr(MSR_MTRR_MASK(0));
	EXPECT(v == ((addr & ~0x1ffffffUL) | (1UL << 11)),
	       "PHYSMASK0 0x%lx: want 32 MiB, valid", (unsigned long)v);
	for (unsigned int i = 1; i < 8; i++) {
		EXPECT(!(rdmsr(MSR_MTRR_MASK(i)) & (1UL << 11)),
		       "variable range %u valid at power-on", i);
	}
	EXPECT(rdmsr_faults(MSR_MTRR_BASE(8), NULL),
	       "PHYSBASE8 beyond VCNT readable");
	/* Writes: kept when valid, #GP for reserved bits and types. */
	EXPECT(!wrmsr_faults(MSR_MTRR_BASE(3), 0x40000000UL | 1),
	       "PHYSBASE3 = 1 GiB WC refused");
	EXPECT(!wrmsr_faults(MSR_MTRR_MASK(3), (addr & ~0xfffffffUL) |
			     (1UL << 11)), "PHYSMASK3 = 256 MiB refused");
	EXPECT(rdmsr(MSR_MTRR_BASE(3)) == 0x40000001UL &&
	       rdmsr(MSR_MTRR_MASK(3)) == ((addr & ~0xfffffffUL) |
					   (1UL << 11)),
	       "PHYSBASE3/MASK3 not kept");
	EXPECT(wrmsr_faults(MSR_MTRR_BASE(3), 0x40000000UL | 2),
	       "PHYSBASE type 2 (reserved) accepted");
	EXPECT(wrmsr_faults(MSR_MTRR_BASE(3), 0x40000100UL | 6),
	       "PHYSBASE bit 8 (reserved) accepted");
	EXPECT(wrmsr_faults(MSR_MTRR_MASK(3), 1UL << maxpa),
	       "PHYSMASK bit MAXPHYADDR accepted");
	EXPECT(wrmsr_faults(MSR_MTRR_MASK(3), (1UL << 11) | 1),
	       "PHYSMASK bit 0 (reserved) accepted");
	wrmsr(MSR_MTRR_MASK(3), 0);
	wrmsr(MSR_MTRR_BASE(3), 0);
	EXPECT(wrmsr_faults(MSR_MTRR_FIX16K_A0000, 0x0300000000000000UL),
	       "fixed range type 3 (reserved) accepted");
	EXPECT(!wrmsr_faults(MSR_MTRR_FIX16K_A0000, 0x0101010101010101UL) &&
	       rdmsr(MSR_MTRR_FIX16K_A0000) == 0x0101010101010101UL,
	       "MTRRfix16K_A0000 = WC not kept");
	wrmsr(MSR_MTRR_FIX16K_A0000, 0);
	EXPECT(wrmsr_faults(MSR_MTRR_DEF_TYPE, 0xc06 | (1UL << 12)),
	       "MTRR_DEF_TYPE bit 12 (reserved) accepted");
}

/*
 * IA32_BIOS_SIGN_ID as the SDM's "Microcode Update Signature" reads it:
 * write 0, CPUID leaf 1, the revision in bits 63:32. Printed for the
 * test to compare with the host's revision Strata states.
 */
static void check_ucode(void)
{
	uint32_t r[4];
	uint64_t v;

	EXPECT(!wrmsr_faults(MSR_BIOS_SIGN_ID, 0), "WRMSR 0x8b = 0 refused");
	EXPECT(rdmsr(MSR_BIOS_SIGN_ID) == 0,
	       "0x8b reads 0x%lx after 0 written, before CPUID",
	       (unsigned long)rdmsr(MSR_BIOS_SIGN_ID));
	cpuid2(1, 0, r);
	v = rdmsr(MSR_BIOS_SIGN_ID);
	EXPECT(!(uint32_t)v, "0x8b bits 31:0 0x%x", (uint32_t)v);
	gprintf("msr: microcode revision 0x%x\n", (uint32_t)(v >> 32));
}

static void check_misc_enable(void)
{
	uint64_t me;
	uint32_t r[4], max;
	bool faults = rdmsr_faults(MSR_MISC_ENABLE, &me);

	EXPECT(!faults, "IA32_MISC_ENABLE refused");
	if (faults) {
		return;
	}
	EXPECT(me & 1, "IA32_MISC_ENABLE 0x%lx: fast strings off",
	       (unsigned long)me);
	EXPECT(!(me & (1UL << 18)), "MONITOR enabled while CPUID hides it");
	EXPECT(!(me & (1UL << 22)), "CPUID limited at reset");
	EXPECT(!wrmsr_faults(MSR_MISC_ENABLE, me),
	       "writing IA32_MISC_ENABLE back refused");
	cpuid2(0, 0, r);
	max = r[0];
	wrmsr(MSR_MISC_ENABLE, me | (1UL << 22));
	cpuid2(0, 0, r);
	EXPECT(r[0] == (max < 2 ? max : 2), "limit CPUID: max leaf %u", r[0]);
	wrmsr(MSR_MISC_ENABLE, me);
	cpuid2(0, 0, r);
	EXPECT(r[0] == max, "max leaf %u after the limit is lifted", r[0]);
	EXPECT(wrmsr_faults(MSR_MISC_ENABLE, me ^ (1UL << 18)),
	       "MONITOR enable accepted");
	EXPECT(wrmsr_faults(MSR_MISC_ENABLE, me | (1UL << 40)),
	       "reserved bit 40 accepted");
}

static void check_tsc_writes(void)
{
	const uint64_t t = 1ULL << 40, step = 1000000000ULL;
	uint64_t t0 = rdtsc(), t1, adj;

	EXPECT(!wrmsr_faults(MSR_TSC, t), "WRMSR IA32_TSC refused");
	t1 = rdtsc();
	EXPECT(t1 >= t && t1 - t < (1ULL << 32),
	       "TSC 0x%lx after writing 0x%lx", (unsigned long)t1,
	       (unsigned long)t);
	t1 = rdmsr(MSR_TSC);
	EXPECT(t1 >= t && t1 - t < (1ULL << 32), "RDMSR TSC 0x%lx",
	       (unsigned long)t1);
	adj = rdmsr(MSR_TSC_ADJUST);
	EXPECT(adj > t - t0 - (1ULL << 32) && adj <= t - t0,
	       "TSC_ADJUST 0x%lx after the TSC write", (unsigned long)adj);
	wrmsr(MSR_TSC_ADJUST, adj + step);
	t1 = rdtsc();
	EXPECT(t1 >= t + step && t1 - t - step < (1ULL << 32),
	       "TSC 0x%lx after TSC_ADJUST += %lu", (unsigned long)t1,
	       (unsigned long)step);
}

static void check_rdtscp(void)
{
	uint32_t r[4], aux = 0;
	unsigned long ud = exc_count[6];

	cpuid2(0x80000001, 0, r);
	if (!(r[3] & (1U << 27))) {
		exc_skip = 3;
		__asm__ volatile("rdtscp" : "=c"(aux) : : "rax", "rdx");
		exc_skip = 0;
		EXPECT(exc_count[6] == ud + 1, "hidden RDTSCP did not #UD");
		EXPECT(rdmsr_faults(MSR_TSC_AUX, NULL),
		       "TSC_AUX readable with RDTSCP hidden");
		gprintf("msr: RDTSCP hidden (the CPU lacks it)\n");
		return;
	}
	wrmsr(MSR_TSC_AUX, 0x1234);
	__asm__ volatile("rdtscp" : "=c"(aux) : : "rax", "rdx");
	EXPECT(aux == 0x1234, "RDTSCP gave TSC_AUX 0x%x", aux);
	EXPECT(rdmsr(MSR_TSC_AUX) == 0x1234, "TSC_AUX not kept");
	EXPECT(wrmsr_faults(MSR_TSC_AUX, 1ULL << 32),
	       "TSC_AUX bit 32 accepted");
	EXPECT(exc_count[6] == ud, "RDTSCP raised #UD");
	gprintf("msr: RDTSCP shown and works\n");
}

static void check_rf(void)
{
	uint32_t lo, hi;

	idt_hook(13, record_fault);
	fault_skip = 2;
	fault_rflags = 0;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x12345678));
	EXPECT(fault_rflags & RFLAGS_RF, "#GP frame RFLAGS 0x%lx: RF clear",
	       (unsigned long)fault_rflags);
	idt_hook(13, NULL);
	idt_hook(6, record_fault);
	fault_skip = 3;
	fault_rflags = 0;
	__asm__ volatile(".byte 0x0f, 0x01, 0xc4" ::: "memory");	/* VMXOFF */
	EXPECT(fault_rflags & RFLAGS_RF, "#UD frame RFLAGS 0x%lx: RF clear",
	       (unsigned long)fault_rflags);
	idt_hook(6, NULL);
}

#define CR4_PCIDE		(1UL << 17)
#define CR3_NOFLUSH		(1UL << 63)
#define PCID_VA			0x7f8000000000UL	/* PML4 slot 255 */
#define PCID_SLOT		255

/* Two roots for PCID_VA, each its own chain down to its own page. */
static uint64_t pml4[2][512] __attribute__((aligned(4096)));
static uint64_t pdpt[2][512] __attribute__((aligned(4096)));
static uint64_t pd[2][512] __attribute__((aligned(4096)));
static uint64_t pt[2][512] __attribute__((aligned(4096)));
static uint32_t pages[3][1024] __attribute__((aligned(4096)));

static uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* MOV RAX to CR4 (3 bytes): true when it raised #GP. */
static bool cr4_faults(uint64_t v)
{
	unsigned long gp = exc_count[13];

	exc_skip = 3;
	__asm__ volatile("mov %%rax, %%cr4" : : "a"(v) : "memory");
	exc_skip = 0;
	return exc_count[13] != gp;
}

/* INVPCID (%rax), %rcx (5 bytes): the exception vector it raised, or -1. */
static int invpcid(uint64_t type, uint64_t pcid, uint64_t addr)
{
	uint64_t desc[2] = { pcid, addr };
	unsigned long gp = exc_count[13], ud = exc_count[6];

	exc_skip = 5;
	__asm__ volatile(".byte 0x66, 0x0f, 0x38, 0x82, 0x08"
			 : : "a"(desc), "c"(type) : "memory");
	exc_skip = 0;
	return exc_count[13] != gp ? 13 : exc_count[6] != ud ? 6 : -1;
}

static uint32_t peek(void)
{
	return *(volatile uint32_t *)PCID_VA;
}

static void check_pcid(void)
{
	uint32_t r1[4], r7[4];
	uint64_t cr3 = read_cr3(), cr4 = read_cr4();
	const uint64_t *cur = (const uint64_t *)(cr3 & ~0xfffUL);
	bool pcid, inv;

	cpuid2(1, 0, r1);
	cpuid2(7, 0, r7);
	pcid = r1[2] & (1U << 17);
	inv = r7[1] & (1U << 10);
	gprintf("msr: CPUID PCID %u INVPCID %u\n", pcid, inv);
	EXPECT(!inv || pcid, "INVPCID shown without PCID");
	if (!pcid) {
		EXPECT(cr4_faults(cr4 | CR4_PCIDE), "CR4.PCIDE set without PCID");
		EXPECT(invpcid(0, 0, 0) == 6, "INVPCID without CPUID: no #UD");
		return;
	}
	EXPECT(!cur[PCID_SLOT], "PML4 slot %u in use", PCID_SLOT);
	for (unsigned int r = 0; r < 2; r++) {
		for (unsigned int i = 0; i < 512; i++) {
			pml4[r][i] = cur[i];
		}
		pml4[r][PCID_SLOT] = (uint64_t)pdpt[r] | 3;
		pdpt[r][0] = (uint64_t)pd[r] | 3;
		pd[r][0] = (uint64_t)pt[r] | 3;
		pt[r][0] = (uint64_t)pages[r] | 3;
	}
	for (unsigned int p = 0; p < 3; p++) {
		pages[p][0] = 0xa0 + p;
	}
	write_cr3((uint64_t)pml4[0] | 0x8);	/* PWT: CR3[11:0] != 0 */
	EXPECT(cr4_faults(cr4 | CR4_PCIDE), "CR4.PCIDE with CR3[11:0] 0x8");
	write_cr3((uint64_t)pml4[0]);
	EXPECT(!cr4_faults(cr4 | CR4_PCIDE), "CR4.PCIDE refused");
	write_cr3((uint64_t)pml4[0] | 1);
	EXPECT(peek() == 0xa0, "PCID 1 reads 0x%x", peek());
	write_cr3((uint64_t)pml4[1] | 2 | CR3_NOFLUSH);
	EXPECT(peek() == 0xa1, "PCID 2 reads 0x%x", peek());
	write_cr3((uint64_t)pml4[0] | 1 | CR3_NOFLUSH);
	EXPECT(peek() == 0xa0, "PCID 1 again reads 0x%x", peek());
	if (inv) {
		/* PCID 1 may still cache the old page until INVPCID. */
		pt[0][0] = (uint64_t)pages[2] | 3;
		EXPECT(invpcid(0, 1, PCID_VA) == -1, "INVPCID type 0 faulted");
		EXPECT(peek() == 0xa2, "after INVPCID PCID 1 reads 0x%x",
		       peek());
		EXPECT(invpcid(4, 0, 0) == 13, "INVPCID type 4: no #GP");
		EXPECT(invpcid(2, 0, 0) == -1 && invpcid(3, 0, 0) == -1,
		       "INVPCID types 2 and 3 faulted");
	} else {
		EXPECT(invpcid(2, 0, 0) == 6, "INVPCID hidden but no #UD");
	}
	write_cr3(cr3);
	EXPECT(!cr4_faults(cr4), "clearing CR4.PCIDE refused");
	write_cr3(cr3);
}

int guest_main(void)
{
	idt_init();
	check_cpuid_msrs();
	check_mtrrs();
	check_ucode();
	check_misc_enable();
	check_tsc_writes();
	check_rdtscp();
	check_rf();
	check_pcid();
	return checks_result("msr");
}
