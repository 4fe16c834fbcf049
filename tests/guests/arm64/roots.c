// SPDX-License-Identifier: MIT
/*
 * roots: the MMU on the core from a guest (include/vmm/hypercall.h). While
 * vCPU 1 keeps writing and checking a region of RAM, vCPU 0
 *  - invalidates all roots and checks that memory kept its contents and
 *    faulted back in;
 *  - adds, moves and deletes memslots over and over: data follows a move,
 *    and every access to a deleted range faults into Strata (MMIO);
 *  - switches between two views thousands of times by HVC, counting the
 *    root-cache hits, and shows what a view violation does;
 *  - executes every form of TLBI with one root (not trapped) and with two
 *    (each trapped and replayed under both roots' VMIDs);
 *  - shrinks the MMIO generation (test build) and reaches its wrap, with
 *    the test device still answering through MMIO SPTEs.
 * Then vCPU 1 stops and reports its rounds and errors.
 */
#include "guest.h"

#define SLOT_GPA	0x100000000UL	/* 4 GiB: far above RAM */
#define SLOT_MOVED	0x140000000UL
#define SLOT_SIZE	0x200000UL
#define CHURN		64
#define SWITCHES	2000
#define TD(off)		(GUEST_TESTDEV_BASE + (off))

static uint8_t region[16][4096] __attribute__((aligned(4096)));
static uint8_t viewpage[4096] __attribute__((aligned(4096)));
static uint8_t stack1[4096] __attribute__((aligned(16)));
static struct cpu_boot boot1;
static volatile uint64_t stop, rounds, errors;

static volatile uint64_t *word(uint64_t a)
{
	return (volatile uint64_t *)a;
}

static uint64_t tag(uint64_t a, uint64_t round)
{
	return a ^ (round << 40) ^ 0x5a5a00000000UL;
}

/* vCPU 1: write a tag in every page, read it back, forever. */
void secondary_main(struct cpu_boot *b)
{
	(void)b;
	for (uint64_t r = 1; !stop; r++) {
		for (unsigned int i = 0; i < 16; i++) {
			*word((uint64_t)region[i]) = tag((uint64_t)region[i], r);
		}
		for (unsigned int i = 0; i < 16; i++) {
			if (*word((uint64_t)region[i]) !=
			    tag((uint64_t)region[i], r)) {
				errors++;
			}
		}
		rounds = r;
	}
	hvc(PSCI_CPU_OFF, 0, 0, 0);
}

static struct hvc_res call(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return hvc(fn, a0, a1, a2);
}

static void invalidate_all(void)
{
	static uint64_t data[8][512] __attribute__((aligned(4096)));
	uint64_t faults, bad = 0;
	struct hvc_res r;

	for (unsigned int i = 0; i < 8; i++) {
		data[i][7] = 0x1234000 + i;
	}
	faults = counter(STRATA_CTR_S2_FAULTS);
	r = call(STRATA_HC_INVALIDATE_ROOTS, 0, 0, 0);
	check(r.status == 0 && r.value >= 1,
	      "roots: INVALIDATE_ROOTS returned %ld, %lu roots", r.status,
	      r.value);
	for (unsigned int i = 0; i < 8; i++) {
		bad += data[i][7] != 0x1234000 + i;
	}
	check(bad == 0, "roots: %lu words changed across invalidate-all", bad);
	check(counter(STRATA_CTR_S2_FAULTS) > faults,
	      "roots: no fault after invalidate-all");
	check(counter(STRATA_CTR_ROOTS_INVALIDATED) >= 1,
	      "roots: ROOTS_INVALIDATED is 0");
	printf("roots: invalidate-all: %lu roots, data intact, %lu faults\n",
	       r.value, counter(STRATA_CTR_S2_FAULTS) - faults);
}

static void memslot_churn(void)
{
	uint64_t gen0 = counter(STRATA_CTR_MEMSLOT_GEN);
	uint64_t mmio, bad = 0, after_delete = 0;
	struct hvc_res r;

	for (unsigned int i = 0; i < CHURN; i++) {
		uint64_t id;

		r = call(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, 0);
		if (!check(r.status == 0, "roots: MEMSLOT_ADD returned %ld",
			   r.status)) {
			return;
		}
		id = r.value;
		/* Fresh memory reads as zero, then holds what is written. */
		bad += *word(SLOT_GPA + 0x1000) != 0;
		*word(SLOT_GPA + 0x1000) = 0xfeed0000 + i;
		*word(SLOT_GPA + 0x1ff000) = 0xbeef0000 + i;
		r = call(STRATA_HC_MEMSLOT_MOVE, id, SLOT_MOVED, 0);
		check(r.status == 0, "roots: MEMSLOT_MOVE returned %ld",
		      r.status);
		bad += *word(SLOT_MOVED + 0x1000) != 0xfeed0000 + i;
		bad += *word(SLOT_MOVED + 0x1ff000) != 0xbeef0000 + i;
		r = call(STRATA_HC_MEMSLOT_DELETE, id, 0, 0);
		check(r.status == 0, "roots: MEMSLOT_DELETE returned %ld",
		      r.status);
		/* Every access after the delete faults into Strata. */
		mmio = counter(STRATA_CTR_MMIO);
		bad += *word(SLOT_MOVED + 0x1000) != 0;
		bad += *word(SLOT_GPA + 0x1000) != 0;
		after_delete += counter(STRATA_CTR_MMIO) - mmio;
	}
	check(bad == 0, "roots: %lu wrong words in memslot churn", bad);
	check(after_delete == 2 * CHURN,
	      "roots: %lu of %u accesses after a delete were MMIO",
	      after_delete, 2 * CHURN);
	r = call(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, 64 * SLOT_SIZE, 0);
	check(r.status == STRATA_HC_ENOSPC,
	      "roots: a slot past memory_max returned %ld", r.status);
	r = call(STRATA_HC_MEMSLOT_ADD, GUEST_RAM_BASE, SLOT_SIZE, 0);
	check(r.status == STRATA_HC_EBUSY,
	      "roots: a slot over RAM returned %ld", r.status);
	printf("roots: memslot churn: %u add/move/delete, %lu generations, %lu MMIO after delete\n",
	       CHURN, counter(STRATA_CTR_MEMSLOT_GEN) - gen0, after_delete);
}

static void views(void)
{
	uint64_t hits0 = counter(STRATA_CTR_ROOT_CACHE_HITS);
	uint64_t allocs0, hits, sum = 0;
	struct hvc_res r;
	uint64_t view;

	viewpage[0] = 7;
	r = call(STRATA_HC_VIEW_CREATE, 0, 0, 0);
	if (!check(r.status == 0, "roots: VIEW_CREATE returned %ld",
		   r.status)) {
		return;
	}
	view = r.value;
	/* In the new view the page is read + execute only. */
	r = call(STRATA_HC_VIEW_PROTECT, view | (5UL << 8),
		 (uint64_t)viewpage, 4096);
	check(r.status == 0, "roots: VIEW_PROTECT returned %ld", r.status);
	/* Warm up both roots, then count. */
	call(STRATA_HC_VIEW_SWITCH, view, 0, 0);
	sum += viewpage[0];
	call(STRATA_HC_VIEW_SWITCH, 0, 0, 0);
	allocs0 = counter(STRATA_CTR_ROOT_ALLOCS);
	hits0 = counter(STRATA_CTR_ROOT_CACHE_HITS);
	for (unsigned int i = 0; i < SWITCHES; i++) {
		call(STRATA_HC_VIEW_SWITCH, view, 0, 0);
		sum += viewpage[0];
		call(STRATA_HC_VIEW_SWITCH, 0, 0, 0);
	}
	hits = counter(STRATA_CTR_ROOT_CACHE_HITS) - hits0;
	check(sum == 7 * (SWITCHES + 1), "roots: reads in the view gave %lu",
	      sum);
	check(hits >= 2 * SWITCHES, "roots: %lu cache hits for %u switches",
	      hits, 2 * SWITCHES);
	check(counter(STRATA_CTR_ROOT_ALLOCS) == allocs0,
	      "roots: switches allocated roots");
	/* A write the view forbids: back in view 0, where it lands. */
	call(STRATA_HC_VIEW_SWITCH, view, 0, 0);
	viewpage[0] = 9;
	r = call(STRATA_HC_VIEW_CURRENT, 0, 0, 0);
	check(r.value == 0, "roots: still in view %lu after a violation",
	      r.value);
	check(viewpage[0] == 9, "roots: the violating write was lost");
	check(counter(STRATA_CTR_VIEW_VIOLATIONS) == 1,
	      "roots: %lu view violations counted",
	      counter(STRATA_CTR_VIEW_VIOLATIONS));
	r = call(STRATA_HC_VIEW_DESTROY, view, 0, 0);
	check(r.status == 0, "roots: VIEW_DESTROY returned %ld", r.status);
	printf("roots: views: %u switches by HVC, %lu root-cache hits, 0 allocations, violation back to view 0\n",
	       2 * SWITCHES, hits);
}

/* ID_AA64ISAR0_EL1.TLB: 1 FEAT_TLBIOS, 2 and FEAT_TLBIRANGE. */
static unsigned int isar0_tlb(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, id_aa64isar0_el1" : "=r"(v));
	return (unsigned int)(v >> 56) & 0xf;
}

#define SYS(crn, crm, op2, x)						\
	__asm__ volatile("sys #0, " #crn ", " #crm ", #" #op2 ", %0"	\
			 : : "r"(x) : "memory")

/*
 * Every op1-0 TLBI the CPU has: VMALLE1, VAE1, ASIDE1, VAAE1, VALE1, VAALE1
 * for this PE, Inner and (FEAT_TLBIOS) Outer Shareable, and (FEAT_TLBIRANGE)
 * the RVA* forms. The operands name nothing mapped (the guest runs with its
 * MMU off); each is still a TLBI the hypervisor must see when it traps them.
 * Returns how many were executed.
 */
static unsigned int all_tlbis(void)
{
	unsigned int tlb = isar0_tlb(), n = 0;
	uint64_t va = 0x12345, rng = 0x12345;	/* range: NUM 0, SCALE 0 */

#define PLAIN(crm)							\
	do {								\
		SYS(c8, crm, 0, 0); SYS(c8, crm, 1, va);		\
		SYS(c8, crm, 2, 1UL << 48); SYS(c8, crm, 3, va);	\
		SYS(c8, crm, 5, va); SYS(c8, crm, 7, va);		\
		n += 6;							\
	} while (0)
#define RANGE(crm)							\
	do {								\
		SYS(c8, crm, 1, rng); SYS(c8, crm, 3, rng);		\
		SYS(c8, crm, 5, rng); SYS(c8, crm, 7, rng);		\
		n += 4;							\
	} while (0)
	PLAIN(c7);
	PLAIN(c1);		/* Inner Shareable */
	if (tlb >= 1) {
		PLAIN(c3);
	}
	if (tlb >= 2) {
		RANGE(c2);
		RANGE(c5);
		RANGE(c6);
	}
#undef PLAIN
#undef RANGE
	__asm__ volatile("dsb ish; isb" : : : "memory");
	return n;
}

static void tlbi_traps(void)
{
	uint64_t r0 = counter(STRATA_CTR_TLBI_REPLAYS), d1, d2;
	unsigned int n;
	struct hvc_res r;

	n = all_tlbis();
	d1 = counter(STRATA_CTR_TLBI_REPLAYS) - r0;
	check(d1 == 0, "roots: %lu TLBIs replayed with one root", d1);
	r = call(STRATA_HC_VIEW_CREATE, 0, 0, 0);
	if (!check(r.status == 0, "roots: VIEW_CREATE returned %ld",
		   r.status)) {
		return;
	}
	/* The view's root exists once a vCPU ran in it. */
	call(STRATA_HC_VIEW_SWITCH, r.value, 0, 0);
	r0 = counter(STRATA_CTR_TLBI_REPLAYS);
	all_tlbis();
	d2 = counter(STRATA_CTR_TLBI_REPLAYS) - r0;
	check(d2 == 2UL * n, "roots: %u TLBIs with two roots replayed %lu times",
	      n, d2);
	call(STRATA_HC_VIEW_SWITCH, 0, 0, 0);
	check(call(STRATA_HC_VIEW_DESTROY, r.value, 0, 0).status == 0,
	      "roots: VIEW_DESTROY failed");
	r0 = counter(STRATA_CTR_TLBI_REPLAYS);
	all_tlbis();
	d1 += counter(STRATA_CTR_TLBI_REPLAYS) - r0;
	check(d1 == 0, "roots: TLBIs replayed after the view was destroyed");
	printf("roots: TLBIs: %u forms untrapped with one root, replayed %lu times with two\n",
	       n, d2);
}

static void generation_wrap(void)
{
	uint64_t wraps0 = counter(STRATA_CTR_GEN_WRAPS), bad = 0;
	struct hvc_res r;

	r = call(STRATA_HC_TEST_MMIO_GEN, 2, 1, 0);
	if (!check(r.status == 0, "roots: TEST_MMIO_GEN returned %ld",
		   r.status)) {
		return;
	}
	/*
	 * Each round: the device is reached through an MMIO SPTE, an add
	 * moves the generation on (the SPTE is stale at the next access), a
	 * delete moves it again and invalidates all roots.
	 */
	for (unsigned int i = 0; i < 8; i++) {
		*word(TD(TESTDEV_SCRATCH)) = 0xabc0 + i;
		bad += *word(TD(TESTDEV_SCRATCH)) != 0xabc0 + i;
		r = call(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, 0);
		bad += *word(TD(TESTDEV_SCRATCH)) != 0xabc0 + i;
		if (r.status == 0) {
			call(STRATA_HC_MEMSLOT_DELETE, r.value, 0, 0);
		}
	}
	check(bad == 0, "roots: the test device misread %lu times", bad);
	check(counter(STRATA_CTR_GEN_WRAPS) - wraps0 >= 3,
	      "roots: %lu generation wraps in 16 updates of a 2-bit generation",
	      counter(STRATA_CTR_GEN_WRAPS) - wraps0);
	check(counter(STRATA_CTR_MMIO_SPTE_STALE) >= 1,
	      "roots: no stale MMIO SPTE seen");
	printf("roots: generation wrap: %lu wraps, %lu stale MMIO SPTEs\n",
	       counter(STRATA_CTR_GEN_WRAPS) - wraps0,
	       counter(STRATA_CTR_MMIO_SPTE_STALE));
}

int guest_main(void *dtb)
{
	int64_t st;

	(void)dtb;
	printf("roots: start\n");
	boot1.sp = (uint64_t)(stack1 + sizeof(stack1));
	boot1.id = 1;
	st = hvc(PSCI_CPU_ON, 1, (uint64_t)secondary_start,
		 (uint64_t)&boot1).status;
	check(st == 0, "roots: CPU_ON(1) returned %ld", st);
	invalidate_all();
	memslot_churn();
	views();
	tlbi_traps();
	generation_wrap();
	stop = 1;
	while (hvc(PSCI_AFFINITY_INFO, 1, 0, 0).status == 0) {
		__asm__ volatile("wfi");
	}
	check(rounds > 0 && errors == 0,
	      "roots: vCPU 1 ran %lu rounds with %lu errors", rounds, errors);
	printf("roots: vCPU 1: %lu rounds, %lu errors\n", rounds, errors);
	if (failures) {
		printf("roots: FAIL (%u)\n", failures);
		return 1;
	}
	printf("roots: PASS\n");
	return 0;
}
