// SPDX-License-Identifier: MIT
/*
 * msr: CPUID and the MSRs agree. Each feature CPUID shows has its MSRs
 * served, each MSR of a hidden feature raises #GP; IA32_MISC_ENABLE reads
 * sane bits and refuses changes to the fixed ones; writes of IA32_TSC and
 * IA32_TSC_ADJUST move the guest's TSC (and each other); RDTSCP returns
 * IA32_TSC_AUX when CPUID shows it and raises #UD when not; and the faults
 * Strata injects for refused instructions push RFLAGS.RF = 1, as the CPU
 * does for every fault-class exception.
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
		EXPECT(!wrmsr_faults(MSR_MTRR_DEF_TYPE, 0x806),
		       "MTRR_DEF_TYPE = E|WB refused");
		EXPECT(rdmsr(MSR_MTRR_DEF_TYPE) == 0x806,
		       "MTRR_DEF_TYPE reads 0x%lx",
		       (unsigned long)rdmsr(MSR_MTRR_DEF_TYPE));
		EXPECT(wrmsr_faults(MSR_MTRR_DEF_TYPE, 0x802),
		       "MTRR_DEF_TYPE type 2 (reserved) accepted");
		EXPECT((v & 0xff) == 0 || !rdmsr_faults(0x200, NULL),
		       "MTRRCAP 0x%lx shows variable ranges it does not serve",
		       (unsigned long)v);
	}
	if (r1[3] & (1U << 14)) {
		EXPECT(!wrmsr_faults(MSR_MCG_STATUS, 0), "MCG_STATUS = 0 refused");
	}
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

int guest_main(void)
{
	idt_init();
	check_cpuid_msrs();
	check_misc_enable();
	check_tsc_writes();
	check_rdtscp();
	check_rf();
	return checks_result("msr");
}
