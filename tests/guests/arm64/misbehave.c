// SPDX-License-Identifier: MIT
/*
 * misbehave: everything a guest should not do, run beside a well-behaved
 * guest that must still finish. In order: accesses to wild addresses (no
 * memslot, no device: they read as zero and writes vanish; beyond the
 * guest-physical space), accesses whose syndrome cannot be emulated
 * (ISV=0: load/store pair, pre- and post-indexed forms on the test device:
 * Strata injects a synchronous external abort, which this guest's own
 * vector table catches), unknown HVC and SMC function IDs (they must return
 * NOT_SUPPORTED, -1), bad Strata hypercall arguments, a storm of unknown
 * hypercalls, an exception storm at EL1 (thousands of SVC and UDF its
 * vectors handle), WFI with interrupts masked and a long spin with
 * interrupts masked (time slicing must still run the other VM). With the
 * command line "misbehave hog" it first spins 5 s with interrupts masked,
 * between two lines, for a guest pinned to another CPU to show that it
 * keeps running meanwhile (tests/boot/smp_arm64.py). It reports what it
 * saw and powers off; it passes only when every documented answer
 * was the one it got.
 */
#include "guest.h"

#define STORM		3000
#define HVC_STORM	2000

static unsigned int svcs, udfs, dabts;
static uint64_t dabt_far, dabt_esr;

bool exception_hook(struct exc_frame *f)
{
	switch (ESR_EC(f->esr)) {
	case EC_SVC64:			/* ELR is already past the SVC */
		svcs++;
		return true;
	case EC_UNKNOWN:		/* UDF: skip it */
		udfs++;
		f->elr += 4;
		return true;
	case EC_DABT_CUR:		/* an abort Strata injected */
		dabts++;
		dabt_far = f->far;
		dabt_esr = f->esr;
		f->elr += 4;
		return true;
	}
	return false;
}

static void wild_addresses(void)
{
	static const uint64_t wild[] = {
		0x0, 0x1000, 0x3ffff000, 0x20000000000UL >> 4,
	};
	uint64_t unclaimed = counter(STRATA_CTR_MMIO_UNCLAIMED);
	unsigned int n = 0;

	for (unsigned int i = 0; i < sizeof(wild) / sizeof(wild[0]); i++) {
		uint64_t v;

		mmio_write64(wild[i], 0x1122334455667788UL);
		v = mmio_read64(wild[i]);
		n += 2;
		check(v == 0, "wild: 0x%lx read 0x%lx after a write, want 0",
		      wild[i], v);
	}
	check(counter(STRATA_CTR_MMIO_UNCLAIMED) - unclaimed == n,
	      "wild: %lu unclaimed accesses counted, want %u",
	      counter(STRATA_CTR_MMIO_UNCLAIMED) - unclaimed, n);
	check(dabts == 0, "wild: %u aborts for unclaimed accesses", dabts);
	printf("misbehave: %u wild accesses read as zero and were counted\n",
	       n);
}

/* Beyond the guest-physical space: Strata's answer is reported, not judged. */
static void beyond_ipa(void)
{
	uint64_t a = 1UL << 44;
	uint64_t v;

	dabts = 0;
	v = mmio_read64(a);
	printf("misbehave: read at 0x%lx gave 0x%lx, %u aborts (ESR 0x%lx)\n",
	       a, v, dabts, dabts ? dabt_esr : 0);
}

/* One ISV=0 access: it must come back as one injected external abort. */
#define ISV0(what, insn, ...)						\
	do {								\
		uint64_t __a = GUEST_TESTDEV_BASE + 0x40, __x = __a;	\
		uint64_t __v0 = 0, __v1 = 0;				\
									\
		dabts = 0;						\
		dabt_far = 0;						\
		__asm__ volatile(insn : __VA_ARGS__);			\
		check(dabts == 1 && (dabt_far & ~0xfUL) == __a &&	\
		      (dabt_esr & 0x3f) == 0x10,			\
		      "isv0: %s: %u aborts, FAR 0x%lx ESR 0x%lx", what,	\
		      dabts, dabt_far, dabt_esr);			\
		(void)__v0; (void)__v1; (void)__x;			\
	} while (0)

static void isv0_accesses(void)
{
	uint64_t injected = counter(STRATA_CTR_INJECTED);

	ISV0("ldp", "ldp %0, %1, [%2]", "=r"(__v0), "=r"(__v1) : "r"(__a)
	     : "memory");
	ISV0("stp", "stp %0, %1, [%2]", : "r"(__v0), "r"(__v1), "r"(__a)
	     : "memory");
	ISV0("ldr post-indexed", "ldr %0, [%1], #8", "=r"(__v0), "+r"(__x)
	     : : "memory");
	ISV0("str pre-indexed", "str %1, [%0, #0]!", "+r"(__x) : "r"(__v0)
	     : "memory");
	check(counter(STRATA_CTR_INJECTED) - injected == 4,
	      "isv0: %lu injected exceptions counted, want 4",
	      counter(STRATA_CTR_INJECTED) - injected);
	printf("misbehave: 4 ISV=0 accesses came back as external aborts\n");
}

static void unknown_calls(void)
{
	static const uint64_t ids[] = {
		STRATA_HC_BASE, STRATA_HC_BASE + 0x99, 0xC600FFFFUL,
		0x8400FFFFUL, 0xC4000077UL, 0x12345678UL, 0x86000001UL,
		~0UL,
	};
	uint64_t unknown = counter(STRATA_CTR_HC_UNKNOWN);
	unsigned int n = 0;

	for (unsigned int i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		int64_t h = hvc(ids[i], 1, 2, 3).status;
		int64_t s = smc(ids[i], 1, 2, 3).status;

		n += 2;
		check(h == -1, "hvc 0x%lx returned %ld, want -1", ids[i], h);
		check(s == -1, "smc 0x%lx returned %ld, want -1", ids[i], s);
	}
	for (unsigned int i = 0; i < HVC_STORM; i++) {
		if (hvc(0xC6001000UL + i, i, 0, 0).status != -1) {
			check(false, "hvc storm: call %u did not return -1", i);
			break;
		}
		n++;
	}
	check(counter(STRATA_CTR_HC_UNKNOWN) - unknown == n,
	      "unknown calls: %lu counted, want %u",
	      counter(STRATA_CTR_HC_UNKNOWN) - unknown, n);
	printf("misbehave: %u unknown HVC/SMC calls returned -1\n", n);
}

static void bad_hypercalls(void)
{
	static const char msg[] = "misbehave: a line through STRATA_HC_CONSOLE_WRITE\n";
	int64_t st;

	st = hvc(STRATA_HC_CONSOLE_WRITE, (uint64_t)msg, sizeof(msg) - 1, 0)
		     .status;
	check(st == 0, "console write returned %ld", st);
	st = hvc(STRATA_HC_CONSOLE_WRITE, (uint64_t)msg, 8192, 0).status;
	check(st == STRATA_HC_EINVAL, "console write of 8192 bytes returned %ld",
	      st);
	st = hvc(STRATA_HC_CONSOLE_WRITE, 0x1000, 16, 0).status;
	check(st < 0, "console write from unbacked 0x1000 returned %ld", st);
	st = hvc(STRATA_HC_COUNTER, 12345, 0, 0).status;
	check(st == STRATA_HC_EINVAL, "counter 12345 returned %ld", st);
	printf("misbehave: bad hypercall arguments refused\n");
}

static void exception_storm(void)
{
	for (unsigned int i = 0; i < STORM; i++) {
		__asm__ volatile("svc #0x42" ::: "memory");
		__asm__ volatile("udf #7" ::: "memory");
	}
	check(svcs == STORM && udfs == STORM,
	      "storm: %u SVC and %u UDF handled, want %u each", svcs, udfs,
	      STORM);
	printf("misbehave: exception storm: %u SVC and %u UDF handled at EL1\n",
	       svcs, udfs);
}

/* Masked interrupts do not stop Strata's time slicing. */
static void hog(void)
{
	uint64_t exits;

	__asm__ volatile("msr daifset, #0xf; wfi" ::: "memory");
	exits = counter(STRATA_CTR_EXITS);
	udelay(300000);
	/* The exits in between are Strata's time slices ending. */
	printf("misbehave: spun 300 ms with interrupts masked (%lu exits meanwhile)\n",
	       counter(STRATA_CTR_EXITS) - exits - 1);
}

/* "misbehave hog": the CPU taken with interrupts masked, first of all. */
static void hog_first(void)
{
	puts("misbehave: hog: 5 s with interrupts masked from here\n");
	__asm__ volatile("msr daifset, #0xf" ::: "memory");
	udelay(5000000);
	puts("misbehave: hog: done\n");
}

int guest_main(void *dtb)
{
	uint32_t len;
	const char *args = dt_prop(dtb, "/chosen", "bootargs", &len);

	puts("misbehave: starting\n");
	if (args && !strcmp(args, "misbehave hog")) {
		hog_first();
	}
	wild_addresses();
	beyond_ipa();
	isv0_accesses();
	unknown_calls();
	bad_hypercalls();
	exception_storm();
	hog();
	if (failures) {
		printf("misbehave: %u answers were not the documented ones\n",
		       failures);
		return 1;
	}
	puts("misbehave: PASS\n");
	return 0;
}
