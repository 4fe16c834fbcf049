// SPDX-License-Identifier: MIT
/*
 * faultbench: the cost of an EPT violation, for `make bench` (tests/bench/
 * run.py boots it under Bochs with `clock: sync=none`, where the TSC counts
 * retired instructions, VMX root's included; Strata leaves RDTSC unexited
 * with a TSC offset of 0).
 *
 * 4 KiB faults: one page of a 2 MiB block stays mapped, STRATA_HC_ZAP
 * removes the other 511 (the block is split once, its table stays), then
 * one read per page faults each back in as a page. 2 MiB faults: a zap of
 * 32 whole blocks, then one read per block. The timed window holds only the
 * reads (the zap is outside it); the same reads of mapped memory, timed the
 * same way, are the loop's own cost and are subtracted. Prints one line per
 * kind:
 *   faultbench: <4K|2M> faults=N loop_tsc=T base_tsc=B insns_per_fault=I
 * with I = (T - B) / N.
 *
 * Unbacked memory: one read of each of 20 x 512 pages no memslot backs
 * (from 2 GiB up: above RAM, below the devices, inside the 4 GiB the boot
 * tables map), each touched for the first time, so each installs an MMIO
 * SPTE and is emulated (an unclaimed read: 0); then the same reads again,
 * which hit those SPTEs (the steady state). Zap and refault: per page of the
 * 4K block, a STRATA_HC_ZAP of that one page and a read that faults it back
 * in, both inside the timed window. The loop's own cost is the same loop
 * reading mapped memory (and no zap). These print
 *   faultbench: <mmio-first|mmio-again|zap-refault> ops=N loop_tsc=T
 *	base_tsc=B insns_per_op=I
 */
#include "guest.h"

#define MiB		(1024UL * 1024)
#define PAGE		4096UL
#define SZ_2M		(2 * MiB)
#define ROUNDS_4K	20		/* 20 x 511 = 10220 faults */
#define BLOCKS_2M	32
#define ROUNDS_2M	313		/* 313 x 32 = 10016 faults */
#define MMIO_LO		0x80000000UL	/* 2 GiB: nothing backs it */
#define ROUNDS_MMIO	20		/* 20 x 512 = 10240 new pages */
#define ROUNDS_ZAP	20		/* 20 x 511 = 10220 zaps */
#define SPARSE_LO	0x84000000UL	/* one touch per 2 MiB from here */
#define SPARSE_TABLES	32		/* touches that each need a table */
#define SPARSE_PAST	900		/* ... past the VM's MMIO budget (the */
					/* boot tables end at 4 GiB) */
#define BENCH_LO	(32 * MiB)
#define BENCH_HI	(32 * MiB + (BLOCKS_2M + 1) * SZ_2M)

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t rd(uint64_t a)
{
	return *(volatile uint64_t *)(uintptr_t)a;
}

/* One read per @stride in [@from, @to): the timed loop, TSC it took. */
static uint64_t touch(uint64_t from, uint64_t to, uint64_t stride)
{
	uint64_t t0, t1, sum = 0;

	t0 = rdtsc();
	for (uint64_t a = from; a < to; a += stride) {
		sum += rd(a);
	}
	t1 = rdtsc();
	__asm__ volatile("" : : "r"(sum));
	return t1 - t0;
}

/* The same, the OR of what was read in *@got. */
static uint64_t touch_or(uint64_t from, uint64_t stride, uint64_t n,
			 uint64_t *got)
{
	uint64_t t0, t1, sum = 0;

	t0 = rdtsc();
	for (uint64_t i = 0, a = from; i < n; i++, a += stride) {
		sum |= rd(a);
	}
	t1 = rdtsc();
	*got |= sum;
	return t1 - t0;
}

static void do_zap(uint64_t gpa, uint64_t len)
{
	long st = hypercall(STRATA_HC_ZAP, gpa, len, 0, NULL);

	EXPECT(st == 0, "faultbench: zap(0x%lx, 0x%lx) returned %ld",
	       (unsigned long)gpa, (unsigned long)len, st);
}

static void report(const char *kind, unsigned long faults, uint64_t loop,
		   uint64_t base, unsigned long counted)
{
	EXPECT(counted == faults,
	       "faultbench: %s: %lu stage-2 faults counted, %lu expected",
	       kind, counted, faults);
	gprintf("faultbench: %s faults=%lu loop_tsc=%lu base_tsc=%lu insns_per_fault=%lu\n",
		kind, faults, (unsigned long)loop, (unsigned long)base,
		(unsigned long)(loop > base ? (loop - base) / faults : 0));
}

static void bench_4k(void)
{
	uint64_t b = BENCH_LO;
	uint64_t loop = 0, base = 0;
	unsigned long f0, m0, n = ROUNDS_4K * (SZ_2M / PAGE - 1);

	rd(b);			/* the block, then split by the first zap */
	f0 = counter(STRATA_CTR_S2_FAULTS);
	m0 = counter(STRATA_CTR_MAPS_4K);
	for (unsigned int r = 0; r < ROUNDS_4K; r++) {
		do_zap(b + PAGE, SZ_2M - PAGE);
		loop += touch(b + PAGE, b + SZ_2M, PAGE);
		base += touch(b + PAGE, b + SZ_2M, PAGE);
	}
	EXPECT(counter(STRATA_CTR_MAPS_4K) - m0 == n,
	       "faultbench: 4K: %lu pages mapped, %lu expected",
	       counter(STRATA_CTR_MAPS_4K) - m0, n);
	report("4K", n, loop, base, counter(STRATA_CTR_S2_FAULTS) - f0);
}

static void bench_2m(void)
{
	uint64_t from = BENCH_LO + SZ_2M;
	uint64_t to = from + BLOCKS_2M * SZ_2M;
	uint64_t loop = 0, base = 0;
	unsigned long f0, m0, n = ROUNDS_2M * BLOCKS_2M;

	touch(from, to, SZ_2M);
	f0 = counter(STRATA_CTR_S2_FAULTS);
	m0 = counter(STRATA_CTR_MAPS_2M);
	for (unsigned int r = 0; r < ROUNDS_2M; r++) {
		do_zap(from, to - from);
		loop += touch(from + 0x800, to, SZ_2M);
		base += touch(from + 0x800, to, SZ_2M);
	}
	EXPECT(counter(STRATA_CTR_MAPS_2M) - m0 == n,
	       "faultbench: 2M: %lu blocks mapped, %lu expected",
	       counter(STRATA_CTR_MAPS_2M) - m0, n);
	report("2M", n, loop, base, counter(STRATA_CTR_S2_FAULTS) - f0);
}

static void report_ops(const char *kind, unsigned long n, uint64_t loop,
		       uint64_t base)
{
	gprintf("faultbench: %s ops=%lu loop_tsc=%lu base_tsc=%lu insns_per_op=%lu\n",
		kind, n, (unsigned long)loop, (unsigned long)base,
		(unsigned long)(loop > base ? (loop - base) / n : 0));
}

/*
 * First touches of unbacked pages, then the same touches again. The base is
 * the same loop over the (mapped) 4K block. The first VM_UNCLAIMED_REPORTS
 * unclaimed accesses are printed by Strata: they are spent before, on a page
 * outside the range, so the timed loop measures the per-page path alone.
 */
static void bench_mmio(void)
{
	uint64_t blk = BENCH_LO;
	uint64_t first = 0, again = 0, base = 0, got = 0, ram = 0;
	unsigned long h0, h1, m0, t0, t1;
	unsigned long n = ROUNDS_MMIO * (SZ_2M / PAGE);

	touch_or(MMIO_LO - PAGE, 0, 8, &got);
	touch_or(blk, PAGE, SZ_2M / PAGE, &ram);	/* all mapped (bench_4k) */
	h0 = counter(STRATA_CTR_MMIO_SPTE_HITS);
	m0 = counter(STRATA_CTR_MMIO);
	t0 = counter(STRATA_CTR_TABLES_IN_USE);
	for (unsigned int r = 0; r < ROUNDS_MMIO; r++) {
		uint64_t lo = MMIO_LO + r * SZ_2M;

		first += touch_or(lo, PAGE, SZ_2M / PAGE, &got);
		base += touch_or(blk, PAGE, SZ_2M / PAGE, &ram);
	}
	h1 = counter(STRATA_CTR_MMIO_SPTE_HITS);
	t1 = counter(STRATA_CTR_TABLES_IN_USE);
	for (unsigned int r = 0; r < ROUNDS_MMIO; r++) {
		uint64_t lo = MMIO_LO + r * SZ_2M;

		again += touch_or(lo, PAGE, SZ_2M / PAGE, &got);
	}
	EXPECT(got == 0, "faultbench: mmio: unbacked reads gave 0x%lx, not 0",
	       (unsigned long)got);
	EXPECT(counter(STRATA_CTR_MMIO) - m0 == 2 * n,
	       "faultbench: mmio: %lu accesses emulated, %lu expected",
	       counter(STRATA_CTR_MMIO) - m0, 2 * n);
	EXPECT(h1 == h0 && counter(STRATA_CTR_MMIO_SPTE_HITS) - h1 == n,
	       "faultbench: mmio: SPTE hits %lu on first touch (0 expected), %lu after (%lu expected)",
	       h1 - h0, counter(STRATA_CTR_MMIO_SPTE_HITS) - h1, n);
	EXPECT(t1 - t0 >= ROUNDS_MMIO,
	       "faultbench: mmio: %lu table pages for %u MiB of MMIO SPTEs",
	       t1 - t0, ROUNDS_MMIO * 2);
	report_ops("mmio-first", n, first, base);
	report_ops("mmio-again", n, again, base);
}

/*
 * First touches one per 2 MiB, so that each needs a table page for its
 * MMIO SPTE: SPARSE_TABLES of them, then SPARSE_PAST more, which exhaust
 * the VM's budget of table pages for MMIO SPTEs (VM_MMIO_TABLE_BUDGET,
 * 64): past it the accesses are emulated without an SPTE, and a second
 * touch of such a page is no SPTE hit. Informative rows; the base is the
 * same number of reads of one mapped page.
 */
static void bench_mmio_sparse(void)
{
	uint64_t blk = BENCH_LO, past = SPARSE_LO + SPARSE_TABLES * SZ_2M;
	uint64_t loop, base, got = 0, ram = 0;
	unsigned long t0, t1, h0;

	t0 = counter(STRATA_CTR_TABLES_IN_USE);
	loop = touch_or(SPARSE_LO, SZ_2M, SPARSE_TABLES, &got);
	base = touch_or(blk, 0, SPARSE_TABLES, &ram);
	t1 = counter(STRATA_CTR_TABLES_IN_USE);
	EXPECT(t1 - t0 >= SPARSE_TABLES,
	       "faultbench: mmio-sparse: %lu table pages for %u touches, one per 2 MiB",
	       (unsigned long)(t1 - t0), SPARSE_TABLES);
	report_ops("mmio-sparse", SPARSE_TABLES, loop, base);
	loop = touch_or(past, SZ_2M, SPARSE_PAST, &got);
	base = touch_or(blk, 0, SPARSE_PAST, &ram);
	t1 = counter(STRATA_CTR_TABLES_IN_USE);
	h0 = counter(STRATA_CTR_MMIO_SPTE_HITS);
	touch_or(past + (SPARSE_PAST - 1) * SZ_2M, 0, 1, &got);
	EXPECT(counter(STRATA_CTR_MMIO_SPTE_HITS) == h0 && t1 - t0 <= 64,
	       "faultbench: mmio-sparse: past the budget: %lu SPTE hits, %lu table pages",
	       (unsigned long)(counter(STRATA_CTR_MMIO_SPTE_HITS) - h0),
	       (unsigned long)(t1 - t0));
	EXPECT(got == 0, "faultbench: mmio-sparse: unbacked reads gave 0x%lx",
	       (unsigned long)got);
	report_ops("mmio-nobudget", SPARSE_PAST, loop, base);
}

/* Per page of the 4K block: zap it, read it back in (one 4 KiB fault). */
static uint64_t zap_touch(uint64_t from, uint64_t to)
{
	uint64_t t0, t1, sum = 0;
	long bad = 0;

	t0 = rdtsc();
	for (uint64_t a = from; a < to; a += PAGE) {
		bad |= hypercall(STRATA_HC_ZAP, a, PAGE, 0, NULL);
		sum += rd(a);
	}
	t1 = rdtsc();
	__asm__ volatile("" : : "r"(sum));
	EXPECT(bad == 0, "faultbench: a zap of one page in [0x%lx, 0x%lx) failed",
	       (unsigned long)from, (unsigned long)to);
	return t1 - t0;
}

static void bench_zap_refault(void)
{
	uint64_t b = BENCH_LO;
	uint64_t loop = 0, base = 0;
	unsigned long f0, m0, n = ROUNDS_ZAP * (SZ_2M / PAGE - 1);

	touch(b, b + SZ_2M, PAGE);	/* all mapped (bench_4k) */
	f0 = counter(STRATA_CTR_S2_FAULTS);
	m0 = counter(STRATA_CTR_MAPS_4K);
	for (unsigned int r = 0; r < ROUNDS_ZAP; r++) {
		loop += zap_touch(b + PAGE, b + SZ_2M);
		base += touch(b + PAGE, b + SZ_2M, PAGE);
	}
	EXPECT(counter(STRATA_CTR_MAPS_4K) - m0 == n &&
	       counter(STRATA_CTR_S2_FAULTS) - f0 == n,
	       "faultbench: zap-refault: %lu faults, %lu pages mapped, %lu expected",
	       counter(STRATA_CTR_S2_FAULTS) - f0,
	       counter(STRATA_CTR_MAPS_4K) - m0, n);
	report_ops("zap-refault", n, loop, base);
}

/* A null hypercall (a counter read) 10^4 times: the exit round trip. */
static void bench_hypercall(void)
{
	uint64_t t0, t1, t2, n = 10000;
	unsigned long v;

	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		hypercall(STRATA_HC_COUNTER, STRATA_CTR_EXITS, 0, 0, &v);
	}
	t1 = rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		__asm__ volatile("" : : "r"(i) : "memory");
	}
	t2 = rdtsc();
	gprintf("faultbench: hypercall calls=%lu loop_tsc=%lu base_tsc=%lu insns_per_call=%lu\n",
		(unsigned long)n, (unsigned long)(t1 - t0),
		(unsigned long)(t2 - t1),
		(unsigned long)((t1 - t0 - (t2 - t1)) / n));
}

int guest_main(void)
{
	EXPECT(boot_info.ram_size >= 128 * MiB,
	       "faultbench: needs 128 MiB of RAM, has %lu MiB",
	       (unsigned long)(boot_info.ram_size >> 20));
	EXPECT(boot_info.area >= BENCH_HI &&
	       (uintptr_t)__image_end <= BENCH_LO,
	       "faultbench: Strata's area or the image in the bench range");
	if (checks_failed) {
		return checks_result("faultbench");
	}
	bench_4k();
	bench_2m();
	bench_zap_refault();	/* before the MMIO SPTEs grow the table */
	bench_mmio();
	bench_mmio_sparse();
	bench_hypercall();
	return checks_result("faultbench");
}
