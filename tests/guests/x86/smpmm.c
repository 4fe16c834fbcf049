// SPDX-License-Identifier: MIT
/*
 * smpmm (x86): stage 2 under two vCPUs that run on different physical
 * CPUs at once (docs/smp.md), the x86 counterpart of
 * tests/guests/arm64/smpmm.c. vCPU 0 starts vCPU 1 (the worker) with
 * INIT-SIPI-SIPI and drives phases; Strata says on its console which
 * physical CPU each vCPU runs on, and the boot test checks that they
 * differ.
 *
 * 1. stress: both vCPUs write and read back their own word of every page
 *    of an 8 MiB range, ROUNDS times, while vCPU 0 also zaps 2 MiB blocks
 *    and 4 KiB pages of the same range between its passes and now and
 *    then invalidates all roots. Every readback must hold, and at the end
 *    of each round every word must hold its writer's last value.
 * 2. write protection: the worker writes its pages once and keeps reading
 *    them (its CPU's TLB holds writable translations) while vCPU 0
 *    write-protects the range; then the worker writes each page once
 *    more. Every one of those writes must fault: STRATA_CTR_WP_FAULTS
 *    must move by exactly the number of pages. A write through a
 *    translation the worker's CPU still held would not fault.
 * 3. freed pages: the worker fills a run-time memslot; vCPU 0 deletes it
 *    (its pages go back to Strata); the worker reads it: everything must
 *    read as zero (unbacked, emulated): data would come from a stale
 *    translation to a freed page. vCPU 0 adds the slot again (fresh
 *    pages); the worker reads zeroes again, then writes and reads back.
 * 4. cost: vCPU 0 zaps a page it just touched, BENCH_ZAPS times with the
 *    worker spinning in the guest on the other CPU (the remote flush kicks
 *    it and waits for its exit) and as often with the worker halted (the
 *    flush is only posted), and prints the TSC cycles of a zap hypercall
 *    in both (under Bochs `clock: sync=none` the TSC counts instructions)
 *    and the remote flushes counted meanwhile.
 * Bochs flushes TLBs more often than hardware does, so this is a smoke
 * test; the proof of the remote invalidation protocol is the host stress
 * test (tests/unit/xflush/).
 */
#include "guest.h"
#include "x86.h"

#define STACK		8192
#define PAGE		0x1000UL
#define SZ_2M		0x200000UL
#define REGION		0x800000UL	/* 8 MiB at GPA 4 MiB */
#define REGION_BASE	0x400000UL
#define NPAGES		(REGION / PAGE)
#define ROUNDS		4
#define SLOT_GPA	0x80000000UL	/* 2 GiB: far above RAM */
#define SLOT_SIZE	SZ_2M
#define SLOT_PAGES	(SLOT_SIZE / PAGE)
#define SPIN_LIMIT	4000000000UL

enum phase {
	PH_NONE, PH_STRESS, PH_WP_PREP, PH_WP_WRITE, PH_SLOT_FILL,
	PH_SLOT_GONE, PH_SLOT_NEW, PH_BENCH_SPIN, PH_BENCH_HLT, PH_OFF,
};

#define BENCH_ZAPS	200
#define WAKE_VECTOR	0x40

static uint8_t stack1[STACK] __attribute__((aligned(16)));
static volatile uint64_t phase, round_no, done;
static volatile uint64_t errors, stale, bad_addr, bad_val;
static uint64_t zaps, invalidations;

#define check(ok, ...)							\
	({								\
		bool __ok = (ok);					\
		EXPECT(__ok, __VA_ARGS__);				\
		__ok;							\
	})

static inline void relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static volatile uint64_t *word(uint64_t page_base, unsigned int id)
{
	return (volatile uint64_t *)(uintptr_t)(page_base + 8 * id);
}

static uint64_t tag(uint64_t ph, uint64_t r, unsigned int id)
{
	return 0x5a00000000000000UL | ph << 40 | r << 16 | id;
}

static void bad(uint64_t a, uint64_t v)
{
	if (!errors++) {
		bad_addr = a;
		bad_val = v;
	}
}

static long hc(unsigned long fn, unsigned long a0, unsigned long a1,
	       unsigned long *val)
{
	return hypercall(fn, a0, a1, 0, val);
}

/* ---- both vCPUs ------------------------------------------------------- */

/* Write and read back word @id of pages [@lo, @hi); true if all held. */
static bool stress_range(unsigned int id, uint64_t r, uint64_t lo,
			 uint64_t hi)
{
	uint64_t t = tag(PH_STRESS, r, id);
	bool ok = true;

	for (uint64_t p = lo; p < hi; p++) {
		volatile uint64_t *w = word(REGION_BASE + p * PAGE, id);
		uint64_t v;

		*w = t;
		v = *w;
		if (v != t) {
			bad((uint64_t)(uintptr_t)w, v);
			ok = false;
		}
	}
	return ok;
}

static bool stress(unsigned int id, uint64_t r)
{
	return stress_range(id, r, 0, NPAGES);
}

/* ---- the worker (vCPU 1) ----------------------------------------------- */

static void write_all(uint64_t ph)
{
	for (uint64_t p = 0; p < NPAGES; p++) {
		*word(REGION_BASE + p * PAGE, 1) = tag(ph, 0, 1);
	}
}

static void read_all(void)
{
	for (uint64_t p = 0; p < NPAGES; p++) {
		(void)*word(REGION_BASE + p * PAGE, 1);
	}
}

static void slot_read_zero(void)
{
	for (uint64_t p = 0; p < SLOT_PAGES; p++) {
		uint64_t a = SLOT_GPA + p * PAGE;
		uint64_t v = *word(a, 1);

		if (v && !stale++) {
			bad_addr = a;
			bad_val = v;
		}
	}
}

static void secondary_main(void)
{
	uint64_t seen = PH_NONE, seen_round = 0;

	idt_load();
	apic_write(APIC_SVR, 0x1ff);
	/*
	 * Interrupts on (none is sent to it but vCPU 0's wake-up IPI): Bochs
	 * turns the hypervisor's kicks into exits only while the guest has
	 * IF set (docs/smp.md), and the remote flushes of the zaps should
	 * go through the kick, not wait for the end of a slice.
	 */
	__asm__ volatile("sti");
	for (;;) {
		uint64_t ph = phase, r = round_no;

		if (ph == seen && (ph != PH_STRESS || r == seen_round)) {
			relax();
			continue;
		}
		seen = ph;
		seen_round = r;
		switch (ph) {
		case PH_STRESS:
			stress(1, r);
			break;
		case PH_WP_PREP:
			/*
			 * Writable translations stay hot in this CPU's TLB up
			 * to the moment the other CPU write-protects the
			 * pages; no write happens between the protection and
			 * the one write per page of PH_WP_WRITE.
			 */
			write_all(PH_WP_PREP);
			done = ph << 32 | r;
			while (phase == PH_WP_PREP) {
				read_all();
			}
			continue;
		case PH_WP_WRITE:
			write_all(PH_WP_WRITE);
			break;
		case PH_SLOT_FILL:
			for (uint64_t p = 0; p < SLOT_PAGES; p++) {
				*word(SLOT_GPA + p * PAGE, 1) =
					tag(PH_SLOT_FILL, 0, 1);
			}
			break;
		case PH_SLOT_GONE:
			slot_read_zero();
			break;
		case PH_SLOT_NEW:
			slot_read_zero();
			for (uint64_t p = 0; p < SLOT_PAGES; p++) {
				volatile uint64_t *w = word(SLOT_GPA + p * PAGE,
							    1);
				uint64_t t = tag(PH_SLOT_NEW, p, 1);

				*w = t;
				if (*w != t) {
					bad((uint64_t)(uintptr_t)w, *w);
				}
			}
			break;
		case PH_BENCH_SPIN:
			done = ph << 32 | r;
			while (phase == PH_BENCH_SPIN) {
				relax();
			}
			continue;
		case PH_BENCH_HLT:
			/* Halted, out of the guest, until vCPU 0's IPI. */
			done = ph << 32 | r;
			while (phase == PH_BENCH_HLT) {
				__asm__ volatile("hlt" ::: "memory");
			}
			continue;
		case PH_OFF:
			done = ph << 32;
			for (;;) {
				__asm__ volatile("cli; hlt");
			}
		default:
			break;
		}
		done = ph << 32 | r;
	}
}

/* ---- vCPU 0 ------------------------------------------------------------ */

/* Zap a 2 MiB block and a 4 KiB page of the range; sometimes all roots. */
static void zapper(unsigned int n)
{
	uint64_t blk = REGION_BASE + (n % (REGION / SZ_2M)) * SZ_2M;
	uint64_t pg = REGION_BASE + ((n * 2654435761UL) % NPAGES) * PAGE;

	check(hc(STRATA_HC_ZAP, blk, SZ_2M, NULL) == 0,
	      "smpmm: zap of 0x%lx failed", (unsigned long)blk);
	check(hc(STRATA_HC_ZAP, pg, PAGE, NULL) == 0,
	      "smpmm: zap of 0x%lx failed", (unsigned long)pg);
	zaps += 2;
	if (n % 8 == 7) {
		check(hc(STRATA_HC_INVALIDATE_ROOTS, 0, 0, NULL) == 0,
		      "smpmm: INVALIDATE_ROOTS failed");
		invalidations++;
	}
}

/*
 * Start phase @ph (round @r); while the worker is at it, vCPU 0 runs
 * @work (its own passes and zaps in the stress phase).
 */
static bool run_phase(uint64_t ph, uint64_t r, bool work, const char *what)
{
	unsigned int n = 0;
	uint64_t spins = 0;

	round_no = r;
	phase = ph;
	while (done != (ph << 32 | r)) {
		if (work) {
			/* A pass of its own, a zap after every 256 pages. */
			for (uint64_t p = 0; p < NPAGES; p += 256) {
				if (!stress_range(0, r, p, p + 256)) {
					return check(false, "smpmm: %s: vCPU 0's readback failed",
						     what);
				}
				zapper(n++);
			}
		} else {
			relax();
		}
		if (++spins > SPIN_LIMIT) {
			return check(false, "smpmm: %s: the worker did not finish",
				     what);
		}
	}
	return true;
}

static bool worker_errors(const char *what)
{
	return check(!errors && !stale,
		     "smpmm: %s: %lu wrong and %lu stale values (first at 0x%lx: 0x%lx)",
		     what, (unsigned long)errors, (unsigned long)stale,
		     (unsigned long)bad_addr, (unsigned long)bad_val);
}

static bool phase_stress(void)
{
	for (uint64_t r = 1; r <= ROUNDS; r++) {
		if (!run_phase(PH_STRESS, r, true, "stress")) {
			return false;
		}
		/* vCPU 0 once more after the worker's pass, then compare. */
		stress(0, r);
		for (uint64_t p = 0; p < NPAGES; p++) {
			for (unsigned int i = 0; i < 2; i++) {
				uint64_t v = *word(REGION_BASE + p * PAGE, i);

				if (v != tag(PH_STRESS, r, i)) {
					return check(false, "smpmm: round %lu: page 0x%lx word %u holds 0x%lx",
						     (unsigned long)r,
						     (unsigned long)(REGION_BASE + p * PAGE),
						     i, (unsigned long)v);
				}
			}
		}
	}
	if (!worker_errors("stress")) {
		return false;
	}
	gprintf("smpmm: 2 vCPUs x %lu pages x %u rounds beside %lu zaps and %lu root invalidations: data intact\n",
		NPAGES, ROUNDS, (unsigned long)zaps,
		(unsigned long)invalidations);
	return true;
}

static bool phase_wp(void)
{
	uint64_t before, got;

	if (!run_phase(PH_WP_PREP, 0, false, "write protection")) {
		return false;
	}
	before = counter(STRATA_CTR_WP_FAULTS);
	if (!check(hc(STRATA_HC_WRPROTECT, REGION_BASE, REGION, NULL) == 0,
		   "smpmm: WRPROTECT failed") ||
	    !run_phase(PH_WP_WRITE, 0, false, "write protection")) {
		return false;
	}
	for (uint64_t p = 0; p < NPAGES; p++) {
		uint64_t v = *word(REGION_BASE + p * PAGE, 1);

		if (v != tag(PH_WP_WRITE, 0, 1)) {
			return check(false, "smpmm: write protection: page 0x%lx holds 0x%lx",
				     (unsigned long)(REGION_BASE + p * PAGE),
				     (unsigned long)v);
		}
	}
	got = counter(STRATA_CTR_WP_FAULTS) - before;
	if (!check(got == NPAGES,
		   "smpmm: %lu write-protection faults for %lu pages written once after WRPROTECT",
		   (unsigned long)got, NPAGES) ||
	    !worker_errors("write protection")) {
		return false;
	}
	gprintf("smpmm: write protection: %lu faults for %lu pages, one per write\n",
		(unsigned long)got, NPAGES);
	return true;
}

static bool phase_slot(void)
{
	unsigned long id = 0;

	if (!check(hc(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, &id) == 0,
		   "smpmm: MEMSLOT_ADD failed") ||
	    !run_phase(PH_SLOT_FILL, 0, false, "slot fill")) {
		return false;
	}
	if (!check(hc(STRATA_HC_MEMSLOT_DELETE, id, 0, NULL) == 0,
		   "smpmm: MEMSLOT_DELETE failed") ||
	    !run_phase(PH_SLOT_GONE, 0, false, "deleted slot") ||
	    !worker_errors("reads of the deleted slot")) {
		return false;
	}
	if (!check(hc(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, &id) == 0,
		   "smpmm: MEMSLOT_ADD again failed") ||
	    !run_phase(PH_SLOT_NEW, 0, false, "new slot") ||
	    !worker_errors("the slot added again")) {
		return false;
	}
	gprintf("smpmm: a deleted memslot read as zero on the worker, and so did the fresh one\n");
	return true;
}

/* Average TSC cycles of a zap of a page just touched. */
static uint64_t zap_cost(void)
{
	static uint64_t page[512] __attribute__((aligned(4096)));
	uint64_t total = 0;

	for (unsigned int i = 0; i < BENCH_ZAPS; i++) {
		uint64_t t0;

		page[1] = i;	/* mapped again: the zap has a flush to do */
		t0 = rdtsc();
		hc(STRATA_HC_ZAP, (uint64_t)(uintptr_t)page, PAGE, NULL);
		total += rdtsc() - t0;
	}
	return total / BENCH_ZAPS;
}

static bool phase_bench(void)
{
	uint64_t spin, hlt, f0, f1, f2;

	if (!run_phase(PH_BENCH_SPIN, 0, false, "bench (spinning)")) {
		return false;
	}
	f0 = counter(STRATA_CTR_REMOTE_FLUSHES);
	spin = zap_cost();
	f1 = counter(STRATA_CTR_REMOTE_FLUSHES);
	if (!run_phase(PH_BENCH_HLT, 0, false, "bench (halted)")) {
		return false;
	}
	hlt = zap_cost();
	f2 = counter(STRATA_CTR_REMOTE_FLUSHES);
	round_no = 1;
	phase = PH_NONE;
	apic_send_ipi(1, WAKE_VECTOR);	/* out of its HLT */
	gprintf("smpmm: zap of a touched page: %lu TSC with the worker in the guest on the other CPU (%lu remote flushes), %lu with it halted (%lu remote flushes)\n",
		(unsigned long)spin, (unsigned long)(f1 - f0),
		(unsigned long)hlt, (unsigned long)(f2 - f1));
	return check(f1 - f0 >= BENCH_ZAPS && f2 - f1 >= BENCH_ZAPS,
		     "smpmm: bench: %lu and %lu remote flushes for %u zaps each",
		     (unsigned long)(f1 - f0), (unsigned long)(f2 - f1),
		     BENCH_ZAPS);
}

int guest_main(void)
{
	idt_init();
	ap_start(1, secondary_main, stack1 + sizeof(stack1));
	gprintf("smpmm: worker started\n");
	if (phase_stress() && phase_wp() && phase_slot()) {
		phase_bench();
	}
	phase = PH_OFF;
	gprintf("smpmm: counters: kicks %lu, lock waits %lu, remote flushes %lu, stage-2 faults %lu\n",
		counter(STRATA_CTR_KICKS), counter(STRATA_CTR_LOCK_WAITS),
		counter(STRATA_CTR_REMOTE_FLUSHES),
		counter(STRATA_CTR_S2_FAULTS));
	return checks_result("smpmm");
}
