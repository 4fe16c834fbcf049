// SPDX-License-Identifier: MIT
/*
 * smpmm: stage 2 under vCPUs that run on different physical CPUs at once
 * (docs/smp.md). vCPU 0 starts the others with PSCI CPU_ON and drives
 * phases; vCPUs 1..n-1 (the workers) work through each phase at the same
 * time and report back. Strata says on its console which physical CPU each
 * vCPU runs on; the boot test checks that they differ.
 *
 * 1. stress: every worker writes and reads back its own word of every page
 *    of an 8 MiB range, ROUNDS times, while vCPU 0 zaps 2 MiB blocks and
 *    4 KiB pages of the same range and now and then invalidates all roots.
 *    Every worker's readback must hold, and at the end of each round every
 *    word must hold its worker's last value: a fault installing the wrong
 *    page, or a zap that lost data, shows.
 * 2. write protection: each worker keeps writing its own pages
 *    (interleaved, so that the workers share every 2 MiB block), so
 *    writable translations sit in its CPU's TLB; meanwhile vCPU 0
 *    write-protects the range; then each worker writes each of its pages
 *    once more. The first write to each page after the write protection
 *    must fault: STRATA_CTR_WP_FAULTS must move by exactly the number of
 *    pages. A write through a translation another CPU still held would
 *    not fault.
 * 3. freed pages: the workers fill a run-time memslot; vCPU 0 deletes it
 *    (its pages go back to Strata); the workers read it: everything must
 *    read as zero (unbacked, emulated): data would come from a stale
 *    translation to a freed page. vCPU 0 adds the slot again (fresh
 *    pages); the workers read zeroes again, then write and read back.
 * The emulator flushes TLBs more often than hardware does, so this is a
 * smoke test; the proof of remote invalidation is the host stress test
 * (tests/unit/smp/).
 */
#include "guest.h"

#define MAX_CPUS	8
#define STACK		4096
#define PAGE		0x1000UL
#define SZ_2M		0x200000UL
#define REGION_OFF	0x400000UL	/* from the start of RAM */
#define REGION		0x800000UL
#define NPAGES		(REGION / PAGE)
#define ROUNDS		6
#define SLOT_GPA	0x100000000UL
#define SLOT_SIZE	SZ_2M
#define SLOT_PAGES	(SLOT_SIZE / PAGE)
#define TIMEOUT_S	60

enum phase {
	PH_NONE, PH_STRESS, PH_WP_PREP, PH_WP_WRITE, PH_SLOT_FILL,
	PH_SLOT_GONE, PH_SLOT_NEW, PH_OFF,
};

static struct cpu_boot boot[MAX_CPUS];
static uint8_t stacks[MAX_CPUS][STACK] __attribute__((aligned(16)));
static volatile uint64_t phase, round_no;
static volatile uint64_t done[MAX_CPUS];
static volatile uint64_t errors[MAX_CPUS], stale[MAX_CPUS];
static volatile uint64_t bad_addr[MAX_CPUS], bad_val[MAX_CPUS];
static uint64_t region;
static unsigned int ncpus;

static inline void mb(void)
{
	__asm__ volatile("dmb ish" ::: "memory");
}

static inline void relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

static volatile uint64_t *word(uint64_t page_base, unsigned int id)
{
	return (volatile uint64_t *)(page_base + 8 * id);
}

static uint64_t tag(uint64_t ph, uint64_t r, unsigned int id)
{
	return 0x5a00000000000000UL | ph << 40 | r << 16 | id;
}

static void bad(unsigned int id, uint64_t a, uint64_t v)
{
	if (!errors[id]++) {
		bad_addr[id] = a;
		bad_val[id] = v;
	}
}

/* ---- workers ---------------------------------------------------------- */

static void stress(unsigned int id, uint64_t r)
{
	uint64_t t = tag(PH_STRESS, r, id);

	for (uint64_t p = 0; p < NPAGES; p++) {
		volatile uint64_t *w = word(region + p * PAGE, id);
		uint64_t v;

		*w = t;
		v = *w;
		if (v != t) {
			bad(id, (uint64_t)w, v);
		}
	}
}

/* The pages of worker @id: every (ncpus - 1)-th, from its own offset. */
static void write_own(unsigned int id, uint64_t ph)
{
	for (uint64_t p = id - 1; p < NPAGES; p += ncpus - 1) {
		*word(region + p * PAGE, id) = tag(ph, 0, id);
	}
}

/* Read the pages write_own() writes (their translations stay hot). */
static void read_own(unsigned int id)
{
	for (uint64_t p = id - 1; p < NPAGES; p += ncpus - 1) {
		(void)*word(region + p * PAGE, id);
	}
}

static void slot_fill(unsigned int id)
{
	for (uint64_t p = 0; p < SLOT_PAGES; p++) {
		*word(SLOT_GPA + p * PAGE, id) = tag(PH_SLOT_FILL, 0, id);
	}
}

/* Every word of the slot this worker reads must be 0. */
static void slot_read_zero(unsigned int id)
{
	for (uint64_t p = 0; p < SLOT_PAGES; p++) {
		uint64_t a = SLOT_GPA + p * PAGE;
		uint64_t v = *word(a, id);

		if (v) {
			if (!stale[id]++) {
				bad_addr[id] = a;
				bad_val[id] = v;
			}
		}
	}
}

static void slot_write_read(unsigned int id)
{
	for (uint64_t p = 0; p < SLOT_PAGES; p++) {
		volatile uint64_t *w = word(SLOT_GPA + p * PAGE, id);
		uint64_t t = tag(PH_SLOT_NEW, p, id);

		*w = t;
		if (*w != t) {
			bad(id, (uint64_t)w, *w);
		}
	}
}

void secondary_main(struct cpu_boot *b)
{
	unsigned int id = (unsigned int)b->id;
	uint64_t seen = PH_NONE, seen_round = 0;

	done[id] = 0;
	mb();
	for (;;) {
		uint64_t ph = phase, r;

		mb();
		r = round_no;
		if (ph == seen && (ph != PH_STRESS || r == seen_round)) {
			relax();
			continue;
		}
		seen = ph;
		seen_round = r;
		switch (ph) {
		case PH_STRESS:
			stress(id, r);
			break;
		case PH_WP_PREP:
			/*
			 * Write once (the pages become writable), then keep
			 * reading until vCPU 0 moves on: the writable
			 * translations stay hot in this CPU's TLB up to the
			 * moment another CPU write-protects the pages, and no
			 * write happens between the protection and the one
			 * write per page of PH_WP_WRITE, which must therefore
			 * each fault (a write through a stale entry would not,
			 * and nothing later would make up for it).
			 */
			write_own(id, PH_WP_PREP);
			mb();
			done[id] = ph << 32 | r;
			while (phase == PH_WP_PREP) {
				read_own(id);
			}
			continue;
		case PH_WP_WRITE:
			write_own(id, PH_WP_WRITE);
			break;
		case PH_SLOT_FILL:
			slot_fill(id);
			break;
		case PH_SLOT_GONE:
			slot_read_zero(id);
			break;
		case PH_SLOT_NEW:
			slot_read_zero(id);
			slot_write_read(id);
			break;
		case PH_OFF:
			hvc(PSCI_CPU_OFF, 0, 0, 0);
			return;
		default:
			break;
		}
		mb();
		done[id] = ph << 32 | r;
	}
}

/* ---- vCPU 0 ------------------------------------------------------------ */

static bool all_done(uint64_t ph, uint64_t r)
{
	for (unsigned int i = 1; i < ncpus; i++) {
		if (done[i] != (ph << 32 | r)) {
			return false;
		}
	}
	return true;
}

/* Start phase @ph (round @r); with @work, call it until all are done. */
static bool run_phase(uint64_t ph, uint64_t r, void (*work)(unsigned int),
		      const char *what)
{
	uint64_t end = read_cntvct() + TIMEOUT_S * read_cntfrq();
	unsigned int n = 0;

	round_no = r;
	mb();
	phase = ph;
	mb();
	while (!all_done(ph, r)) {
		if (work) {
			work(n++);
		} else {
			relax();
		}
		if (read_cntvct() > end) {
			return check(false, "smpmm: %s: the workers did not finish in %u s",
				     what, TIMEOUT_S);
		}
	}
	mb();
	return true;
}

static uint64_t zaps, invalidations;

/* Zap a 2 MiB block, then a 4 KiB page, of the range; sometimes all roots. */
static void zapper(unsigned int n)
{
	uint64_t blk = region + (n % (REGION / SZ_2M)) * SZ_2M;
	uint64_t pg = region + ((n * 2654435761UL) % NPAGES) * PAGE;

	check(zap(blk, SZ_2M) == 0, "smpmm: zap of 0x%lx failed", blk);
	check(zap(pg, PAGE) == 0, "smpmm: zap of 0x%lx failed", pg);
	zaps += 2;
	if (n % 16 == 15) {
		check(hvc(STRATA_HC_INVALIDATE_ROOTS, 0, 0, 0).status == 0,
		      "smpmm: INVALIDATE_ROOTS failed");
		invalidations++;
	}
}

static bool worker_errors(const char *what)
{
	bool ok = true;

	for (unsigned int i = 1; i < ncpus; i++) {
		ok &= check(!errors[i] && !stale[i],
			    "smpmm: %s: vCPU %u saw %lu wrong and %lu stale values (first at 0x%lx: 0x%lx)",
			    what, i, errors[i], stale[i], bad_addr[i],
			    bad_val[i]);
	}
	return ok;
}

static bool phase_stress(void)
{
	for (uint64_t r = 1; r <= ROUNDS; r++) {
		if (!run_phase(PH_STRESS, r, zapper, "stress")) {
			return false;
		}
		for (uint64_t p = 0; p < NPAGES; p++) {
			for (unsigned int i = 1; i < ncpus; i++) {
				uint64_t v = *word(region + p * PAGE, i);

				if (v != tag(PH_STRESS, r, i)) {
					return check(false, "smpmm: round %lu: page 0x%lx word %u holds 0x%lx",
						     r, region + p * PAGE, i, v);
				}
			}
		}
	}
	if (!worker_errors("stress")) {
		return false;
	}
	printf("smpmm: %u workers x %lu pages x %u rounds beside %lu zaps and %lu root invalidations: data intact\n",
	       ncpus - 1, NPAGES, ROUNDS, zaps, invalidations);
	return true;
}

static bool phase_wp(void)
{
	uint64_t before;

	if (!run_phase(PH_WP_PREP, 0, NULL, "write protection")) {
		return false;
	}
	before = counter(STRATA_CTR_WP_FAULTS);
	if (!check(wrprotect(region, REGION) == 0,
		   "smpmm: WRPROTECT failed") ||
	    !run_phase(PH_WP_WRITE, 0, NULL, "write protection")) {
		return false;
	}
	for (uint64_t p = 0; p < NPAGES; p++) {
		unsigned int i = 1 + p % (ncpus - 1);	/* its writer */
		uint64_t v = *word(region + p * PAGE, i);

		if (v != tag(PH_WP_WRITE, 0, i)) {
			return check(false, "smpmm: write protection: page 0x%lx word %u holds 0x%lx",
				     region + p * PAGE, i, v);
		}
	}
	/* One write per page after WRPROTECT: each one a fault. */
	return check(counter(STRATA_CTR_WP_FAULTS) - before == NPAGES,
		     "smpmm: %lu write-protection faults for %lu pages written once after WRPROTECT (%ld writes did not fault)",
		     counter(STRATA_CTR_WP_FAULTS) - before, NPAGES,
		     (long)(NPAGES - (counter(STRATA_CTR_WP_FAULTS) - before))) &&
	       worker_errors("write protection");
}

static bool phase_slot(void)
{
	struct hvc_res r = hvc(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, 0);
	uint64_t id = r.value;

	if (!check(r.status == 0, "smpmm: MEMSLOT_ADD returned %ld",
		   r.status) ||
	    !run_phase(PH_SLOT_FILL, 0, NULL, "slot fill")) {
		return false;
	}
	r = hvc(STRATA_HC_MEMSLOT_DELETE, id, 0, 0);
	if (!check(r.status == 0, "smpmm: MEMSLOT_DELETE returned %ld",
		   r.status) ||
	    !run_phase(PH_SLOT_GONE, 0, NULL, "deleted slot") ||
	    !worker_errors("reads of the deleted slot")) {
		return false;
	}
	r = hvc(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, 0);
	if (!check(r.status == 0, "smpmm: MEMSLOT_ADD again returned %ld",
		   r.status) ||
	    !run_phase(PH_SLOT_NEW, 0, NULL, "new slot") ||
	    !worker_errors("the slot added again")) {
		return false;
	}
	printf("smpmm: a deleted memslot read as zero on every worker, and so did the fresh one\n");
	return true;
}

static int64_t affinity(uint64_t cpu)
{
	return hvc(PSCI_AFFINITY_INFO, cpu, 0, 0).status;
}

int guest_main(void *dtb)
{
	uint64_t base, size;

	ncpus = dt_count_cpus(dtb);
	if (!check(ncpus >= 2 && ncpus <= MAX_CPUS,
		   "smpmm: %u vCPUs in the DTB", ncpus) ||
	    !check(dt_memory(dtb, &base, &size) &&
		   size >= REGION_OFF + REGION, "smpmm: not enough RAM")) {
		return 1;
	}
	region = base + REGION_OFF;
	for (unsigned int i = 1; i < ncpus; i++) {
		boot[i].sp = (uint64_t)&stacks[i][STACK];
		boot[i].id = i;
		if (!check(hvc(PSCI_CPU_ON, i, (uint64_t)secondary_start,
			       (uint64_t)&boot[i]).status == 0,
			   "smpmm: CPU_ON(%u) failed", i)) {
			return 1;
		}
	}
	printf("smpmm: %u workers started\n", ncpus - 1);
	if (phase_stress()) {
		if (phase_wp()) {
			printf("smpmm: write protection: %lu faults for %lu pages, one per write\n",
			       NPAGES, NPAGES);
		}
		phase_slot();
	}
	phase = PH_OFF;
	mb();
	for (unsigned int i = 1; i < ncpus; i++) {
		uint64_t end = read_cntvct() + 5 * read_cntfrq();

		while (affinity(i) != 1 && read_cntvct() < end) {
			relax();
		}
	}
	printf("smpmm: counters: kicks %lu, lock waits %lu, fault retries %lu, remote flushes %lu, stage-2 faults %lu\n",
	       counter(STRATA_CTR_KICKS), counter(STRATA_CTR_LOCK_WAITS),
	       counter(STRATA_CTR_FAULT_RETRIES),
	       counter(STRATA_CTR_REMOTE_FLUSHES),
	       counter(STRATA_CTR_S2_FAULTS));
	if (!failures) {
		printf("smpmm: PASS\n");
	}
	return failures ? 1 : 0;
}
