// SPDX-License-Identifier: MIT
/*
 * misbehave: everything a guest should not do, each refused for this VM
 * only: wild guest-physical addresses, test-device accesses it refuses,
 * MMIO instructions Strata cannot decode (an exception is injected; the
 * guest's own #UD/#GP handler steps over them), unknown and malformed
 * hypercalls, forbidden MSRs (#GP), and at last a triple fault, which
 * stops this VM while the others finish.
 */
#include "guest.h"

#define DEV		((uintptr_t)GUEST_TESTDEV_BASE)

static unsigned long faults(void)
{
	return exc_count[6] + exc_count[13];
}

static void wild_addresses(void)
{
	static const uint64_t wild[] = { 0xd0000000, 0xfebff000, 0xfffff000,
					 0x80000000 };
	unsigned long u0 = counter(STRATA_CTR_MMIO_UNCLAIMED);

	for (unsigned int i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
		volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)wild[i];

		*p = 0x12345678;
		EXPECT(*p == 0, "wild 0x%lx: read back non-zero",
		       (unsigned long)wild[i]);
	}
	EXPECT(counter(STRATA_CTR_MMIO_UNCLAIMED) - u0 == 8,
	       "wild: %lu unclaimed accesses counted, expected 8",
	       counter(STRATA_CTR_MMIO_UNCLAIMED) - u0);
}

static void refused_device_accesses(void)
{
	unsigned long u0 = counter(STRATA_CTR_MMIO_UNCLAIMED);

	*(volatile uint32_t *)(DEV + 2) = 1;		/* misaligned */
	*(volatile uint64_t *)(DEV + 0x100) = 1;	/* LAST is read-only */
	EXPECT(*(volatile uint32_t *)(DEV + 0x100) == 0,
	       "4-byte read of LAST not refused");
	EXPECT(*(volatile uint64_t *)(DEV + 0x800) == 0,
	       "read outside the registers not refused");
	EXPECT(counter(STRATA_CTR_MMIO_UNCLAIMED) - u0 == 4,
	       "refused device accesses: %lu counted, expected 4",
	       counter(STRATA_CTR_MMIO_UNCLAIMED) - u0);
}

/* Run @insn (of @len bytes) with RDI = the test device; it must fault. */
#define UNDECODABLE(insn, len, what)					\
	do {								\
		unsigned long f0 = faults();				\
		exc_skip = (len);					\
		__asm__ volatile(insn : : "D"(DEV), "S"(DEV + 8), "a"(1), \
				 "c"(1) : "memory", "cc");		\
		EXPECT(faults() - f0 == 1 && exc_skip == 0,		\
		       "undecodable %s: no exception injected", what);	\
		exc_skip = 0;						\
	} while (0)

static void undecodable_mmio(void)
{
	unsigned long inj0 = counter(STRATA_CTR_INJECTED);

	UNDECODABLE("shll $2, (%%rdi)", 3, "shl");
	UNDECODABLE("bsfl (%%rdi), %%eax", 3, "bsf");
	UNDECODABLE("lodsb", 1, "lodsb");
	UNDECODABLE("movnti %%eax, (%%rdi)", 3, "movnti");
	UNDECODABLE("rep cmpsb", 2, "rep cmpsb");
	UNDECODABLE("cmpxchg8b (%%rdi)", 3, "cmpxchg8b");
	EXPECT(counter(STRATA_CTR_INJECTED) - inj0 == 6,
	       "undecodable: %lu exceptions injected, expected 6",
	       counter(STRATA_CTR_INJECTED) - inj0);
	gprintf("misbehave: undecodable MMIO: #UD %lu, #GP %lu\n",
		exc_count[6], exc_count[13]);
}

static void bad_hypercalls(void)
{
	unsigned long k0 = counter(STRATA_CTR_HC_UNKNOWN);
	unsigned long v = 0;

	EXPECT(hypercall(STRATA_HC_BASE + 0x99, 1, 2, 3, NULL) ==
	       STRATA_HC_NOT_SUPPORTED, "unknown Strata ID not refused");
	EXPECT(hypercall(0, 0, 0, 0, NULL) == STRATA_HC_NOT_SUPPORTED,
	       "ID 0 not refused");
	EXPECT(hypercall(0xdeadbeefUL, 0, 0, 0, NULL) ==
	       STRATA_HC_NOT_SUPPORTED, "ID 0xdeadbeef not refused");
	EXPECT(counter(STRATA_CTR_HC_UNKNOWN) - k0 == 3,
	       "unknown hypercalls: %lu counted, expected 3",
	       counter(STRATA_CTR_HC_UNKNOWN) - k0);
	EXPECT(hypercall(STRATA_HC_COUNTER, 999, 0, 0, &v) == STRATA_HC_EINVAL,
	       "counter 999 not refused");
	EXPECT(hypercall(STRATA_HC_CONSOLE_WRITE, 0x100000, 5000, 0, NULL) ==
	       STRATA_HC_EINVAL, "console write of 5000 bytes not refused");
	EXPECT(hypercall(STRATA_HC_CONSOLE_WRITE, 0xd0000000, 16, 0, NULL) < 0,
	       "console write from unbacked memory not refused");
	EXPECT(hypercall(STRATA_HC_ZAP, 0x1001, 0x1000, 0, NULL) ==
	       STRATA_HC_EINVAL, "misaligned zap not refused");
	EXPECT(hypercall(STRATA_HC_WRPROTECT, 1ULL << 62, 0x1000, 0, NULL) ==
	       STRATA_HC_ERANGE, "write-protect far outside not refused");
}

static void forbidden_msrs(void)
{
	/* VMX_BASIC (VMX is hidden), FEATURE_CONTROL, one that does not exist */
	static const uint32_t rd[] = { 0x480, 0x12345678 };
	static const uint32_t wr[] = { 0x480, 0x3a, 0x12345678 };
	unsigned long g0 = exc_count[13];

	for (unsigned int i = 0; i < sizeof(rd) / sizeof(rd[0]); i++) {
		uint32_t lo, hi;

		exc_skip = 2;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(rd[i]));
		EXPECT(exc_skip == 0, "rdmsr 0x%x did not fault", rd[i]);
	}
	for (unsigned int i = 0; i < sizeof(wr) / sizeof(wr[0]); i++) {
		exc_skip = 2;
		__asm__ volatile("wrmsr" : : "a"(0), "d"(0), "c"(wr[i]));
		EXPECT(exc_skip == 0, "wrmsr 0x%x did not fault", wr[i]);
	}
	exc_skip = 0;
	EXPECT(exc_count[13] - g0 == 5, "forbidden MSRs: %lu #GP, expected 5",
	       exc_count[13] - g0);
}

static void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) none = { 0, 0 };

	gputs("misbehave: now a triple fault\n");
	__asm__ volatile("lidt %0\n\tud2" : : "m"(none));
	gputs("FAIL: misbehave: survived a triple fault\n");
}

int guest_main(void)
{
	idt_init();
	gputs("misbehave: starting\n");
	wild_addresses();
	refused_device_accesses();
	undecodable_mmio();
	bad_hypercalls();
	forbidden_msrs();
	checks_result("misbehave");
	triple_fault();
	return 1;
}
