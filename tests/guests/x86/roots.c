// SPDX-License-Identifier: MIT
/*
 * roots: the MMU on the core from an x86 guest (include/vmm/hypercall.h),
 * the same program as tests/guests/arm64/roots.c. vCPU 1, started through
 * the local APIC with INIT-SIPI-SIPI (lib/ap64.c), writes a tag in each of
 * 16 pages of RAM and reads it back, round after round, while vCPU 0:
 *  - invalidates all roots and checks that memory kept its contents and
 *    faulted back in;
 *  - adds, moves and deletes memslots over and over: data follows a move,
 *    and every access to a deleted range faults into Strata (MMIO);
 *  - switches between two views thousands of times by VMCALL, counting the
 *    root-cache hits, and shows what a view violation does;
 *  - shrinks the MMIO generation (test build) and reaches its wrap, with
 *    the test device still answering through MMIO SPTEs.
 * Views are switched by VMCALL and, where the CPU has VM functions, by
 * VMFUNC without an exit.
 */
#include "guest.h"
#include "x86.h"

#define TESTDEV_BASE	0xfe000000UL

#define SLOT_GPA	0x80000000UL	/* 2 GiB: far above RAM, below */
#define SLOT_MOVED	0xc0000000UL	/* the 4 GiB the boot tables map */
#define SLOT_SIZE	0x200000UL
#define CHURN		64
#define SWITCHES	2000
#define TD(off)		(TESTDEV_BASE + (off))

static uint8_t viewpage[4096] __attribute__((aligned(4096)));
static uint8_t region[16][4096] __attribute__((aligned(4096)));
static uint8_t stack1[16384] __attribute__((aligned(16)));
static volatile uint64_t stop, rounds, errors, ap_done;

static volatile uint64_t *word(uint64_t a)
{
	return (volatile uint64_t *)(uintptr_t)a;
}

struct hvc_res {
	long status;
	unsigned long value;
};

static struct hvc_res call(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct hvc_res r;

	r.status = hypercall(fn, a0, a1, a2, &r.value);
	return r;
}

/* As the arm64 library's check(): count, report, and return @ok. */
#define check(ok, ...)							\
	({								\
		bool __ok = (ok);					\
		EXPECT(__ok, __VA_ARGS__);				\
		__ok;							\
	})
#define printf		gprintf

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
	r = call(STRATA_HC_MEMSLOT_ADD, 0UL, SLOT_SIZE, 0);
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
	printf("roots: views: %u switches by VMCALL, %lu root-cache hits, 0 allocations, violation back to view 0\n",
	       2 * SWITCHES, hits);
}

/* VMFUNC leaf 0, EPTP switching: the view index in ECX. */
static void vmfunc_switch(unsigned long view)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xd4"	/* vmfunc */
			 : : "a"(0UL), "c"(view) : "memory");
}

/* Whether VMFUNC exists for this guest (#UD when it does not). */
static bool vmfunc_offered(void)
{
	unsigned long ud = exc_count[6];

	exc_skip = 3;
	vmfunc_switch(0);
	exc_skip = 0;
	return exc_count[6] == ud;
}

/*
 * Views switched by VMFUNC: no exit per switch; Strata follows the switch
 * at the next exit (VIEW_CURRENT), and a violation in a view entered by
 * VMFUNC sends the vCPU back to view 0 as well. Invalid list entries #UD.
 */
static void views_by_vmfunc(void)
{
	uint64_t exits, sum = 0, ud;
	struct hvc_res r;
	uint64_t view;

	if (!vmfunc_offered()) {
		printf("roots: VMFUNC not offered\n");
		return;
	}
	viewpage[0] = 3;
	r = call(STRATA_HC_VIEW_CREATE, 0, 0, 0);
	if (!check(r.status == 0, "roots: VIEW_CREATE returned %ld",
		   r.status)) {
		return;
	}
	view = r.value;
	call(STRATA_HC_VIEW_PROTECT, view | (5UL << 8), (uint64_t)viewpage,
	     4096);
	vmfunc_switch(view);
	r = call(STRATA_HC_VIEW_CURRENT, 0, 0, 0);
	check(r.value == view, "roots: in view %lu after VMFUNC to %lu",
	      r.value, view);
	sum += viewpage[0];
	vmfunc_switch(0);
	exits = counter(STRATA_CTR_EXITS);
	for (unsigned int i = 0; i < SWITCHES; i++) {
		vmfunc_switch(view);
		sum += viewpage[0];
		vmfunc_switch(0);
	}
	exits = counter(STRATA_CTR_EXITS) - exits;
	check(sum == 3 * (SWITCHES + 1), "roots: VMFUNC reads gave %lu", sum);
	check(exits < 16, "roots: %lu exits for %u VMFUNC switches", exits,
	      2 * SWITCHES);
	vmfunc_switch(view);
	viewpage[0] = 4;	/* forbidden in the view: back to view 0 */
	r = call(STRATA_HC_VIEW_CURRENT, 0, 0, 0);
	check(r.value == 0 && viewpage[0] == 4,
	      "roots: VMFUNC violation left view %lu, page %u", r.value,
	      viewpage[0]);
	/* An entry no view uses: #UD, still in view 0. */
	ud = exc_count[6];
	exc_skip = 3;
	vmfunc_switch(7);
	exc_skip = 0;
	check(exc_count[6] == ud + 1, "roots: VMFUNC to no view did not #UD");
	call(STRATA_HC_VIEW_DESTROY, view, 0, 0);
	printf("roots: views: %u switches by VMFUNC, %lu exits\n",
	       2 * SWITCHES, exits);
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

static uint64_t tag(uint64_t a, uint64_t round)
{
	return a ^ (round << 40) ^ 0x5a5a00000000UL;
}

/* vCPU 1: write a tag in every page, read it back, until told to stop. */
static void secondary_main(void)
{
	for (uint64_t r = 1; !stop; r++) {
		for (unsigned int i = 0; i < 16; i++) {
			*word((uint64_t)(uintptr_t)region[i]) =
				tag((uint64_t)(uintptr_t)region[i], r);
		}
		for (unsigned int i = 0; i < 16; i++) {
			if (*word((uint64_t)(uintptr_t)region[i]) !=
			    tag((uint64_t)(uintptr_t)region[i], r)) {
				errors++;
			}
		}
		rounds = r;
	}
	ap_done = 1;
	for (;;) {
		__asm__ volatile("cli; hlt" ::: "memory");
	}
}

int guest_main(void)
{
	gprintf("roots: start\n");
	idt_init();
	apic_write(APIC_SVR, 0x1ff);
	ap_start(1, secondary_main, stack1 + sizeof(stack1));
	invalidate_all();
	memslot_churn();
	views();
	views_by_vmfunc();
	generation_wrap();
	stop = 1;
	while (!ap_done) {
		__asm__ volatile("pause" ::: "memory");
	}
	check(ap_entries() == 1 && rounds > 0 && errors == 0,
	      "roots: vCPU 1 started %u times, ran %lu rounds with %lu errors",
	      ap_entries(), rounds, errors);
	printf("roots: vCPU 1: %lu rounds, %lu errors\n", rounds, errors);
	return checks_result("roots");
}
