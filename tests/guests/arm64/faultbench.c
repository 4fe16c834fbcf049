// SPDX-License-Identifier: MIT
/*
 * faultbench: the cost of a stage-2 fault, for `make bench` (tests/bench/
 * run.py boots it under QEMU -icount shift=0, where the virtual counter
 * advances with executed instructions, EL2's included).
 *
 * 4 KiB faults: one page of a 2 MiB block stays mapped, STRATA_HC_ZAP
 * removes the other 511 (the block is split once, its table stays), then
 * one read per page faults each back in as a page. 2 MiB faults: a zap of
 * 32 whole blocks, then one read per block. The timed window holds only the
 * reads (the zap is outside it); the same reads of mapped memory, timed the
 * same way, are the loop's own cost and are subtracted. Prints one line per
 * kind:
 *   faultbench: <4K|2M> faults=N loop_ticks=T base_ticks=B cntfrq=F
 *	insns_per_fault=I
 * with I = (T - B) * (1e9 / F) / N (icount shift=0: 1 ns per instruction).
 *
 * Unbacked memory: one read of each of 20 x 512 pages no memslot backs
 * (from 4 GiB up, far above RAM and the devices), each touched for the first
 * time, so each installs an MMIO SPTE and is emulated (an unclaimed read:
 * 0); then the same reads again, which hit those SPTEs (the steady state).
 * Zap and refault: per page of the 4K block, a STRATA_HC_ZAP of that one page
 * and a read that faults it back in, both inside the timed window. The
 * loop's own cost is the same loop reading mapped memory (and no zap).
 * Device register: 10^4 64-bit loads of a scratch register of the MMIO test
 * device that a store set before (the whole emulated load: the guest's
 * load, the exit, the decode, the device's read and the value written to
 * the load's register), the base the same loads of mapped RAM.
 * These print
 *   faultbench: <mmio-first|mmio-again|mmio-dev|zap-refault> ops=N loop_ticks=T
 *	base_ticks=B cntfrq=F insns_per_op=I
 */
#include "guest.h"

#define PAGE		0x1000UL
#define SZ_2M		0x200000UL
#define ROUNDS_4K	20		/* 20 x 511 = 10220 faults */
#define BLOCKS_2M	32
#define ROUNDS_2M	313		/* 313 x 32 = 10016 faults */
#define MMIO_LO		0x100000000UL	/* 4 GiB: nothing backs it */
#define ROUNDS_MMIO	20		/* 20 x 512 = 10240 new pages */
#define ROUNDS_ZAP	20		/* 20 x 511 = 10220 zaps */
#define SPARSE_LO	0x800000000UL	/* 32 GiB: one touch per 2 MiB */
#define SPARSE_TABLES	32		/* touches that each need a table */
#define SPARSE_PAST	10000		/* ... past the VM's MMIO budget */

static uint64_t ram_base;

static uint64_t rd(uint64_t a)
{
	return *(volatile uint64_t *)a;
}

/* One read per @stride in [@from, @to): the timed loop, ticks it took. */
static uint64_t touch(uint64_t from, uint64_t to, uint64_t stride)
{
	uint64_t t0, t1, sum = 0;

	t0 = read_cntvct();
	for (uint64_t a = from; a < to; a += stride) {
		sum += rd(a);
	}
	t1 = read_cntvct();
	__asm__ volatile("" : : "r"(sum));
	return t1 - t0;
}

/*
 * The same with the one load form Strata can emulate (mmio_read64()), the
 * OR of what was read in *@got.
 */
static uint64_t touch_mmio(uint64_t from, uint64_t stride, uint64_t n,
			   uint64_t *got)
{
	uint64_t t0, t1, sum = 0;

	t0 = read_cntvct();
	for (uint64_t i = 0, a = from; i < n; i++, a += stride) {
		sum |= mmio_read64(a);
	}
	t1 = read_cntvct();
	*got |= sum;
	return t1 - t0;
}

static void do_zap(uint64_t gpa, uint64_t len)
{
	int64_t st = zap(gpa, len);

	check(st == 0, "faultbench: zap(0x%lx, 0x%lx) returned %ld", gpa, len,
	      st);
}

static void report(const char *kind, uint64_t faults, uint64_t loop,
		   uint64_t base, uint64_t counted)
{
	uint64_t frq = read_cntfrq();
	uint64_t insns = loop > base ?
		(loop - base) * (1000000000UL / frq) / faults : 0;

	check(counted == faults,
	      "faultbench: %s: %lu stage-2 faults counted, %lu expected",
	      kind, counted, faults);
	printf("faultbench: %s faults=%lu loop_ticks=%lu base_ticks=%lu cntfrq=%lu insns_per_fault=%lu\n",
	       kind, faults, loop, base, frq, insns);
}

static void bench_4k(void)
{
	uint64_t b = ram_base + 16 * SZ_2M;
	uint64_t loop = 0, base = 0, f0, m0;
	uint64_t n = ROUNDS_4K * (SZ_2M / PAGE - 1);

	rd(b);			/* the block, then split by the first zap */
	f0 = counter(STRATA_CTR_S2_FAULTS);
	m0 = counter(STRATA_CTR_MAPS_4K);
	for (unsigned int r = 0; r < ROUNDS_4K; r++) {
		do_zap(b + PAGE, SZ_2M - PAGE);
		loop += touch(b + PAGE, b + SZ_2M, PAGE);
		base += touch(b + PAGE, b + SZ_2M, PAGE);
	}
	check(counter(STRATA_CTR_MAPS_4K) - m0 == n,
	      "faultbench: 4K: %lu pages mapped, %lu expected",
	      counter(STRATA_CTR_MAPS_4K) - m0, n);
	report("4K", n, loop, base, counter(STRATA_CTR_S2_FAULTS) - f0);
}

static void bench_2m(void)
{
	uint64_t from = ram_base + 32 * SZ_2M;
	uint64_t to = from + BLOCKS_2M * SZ_2M;
	uint64_t loop = 0, base = 0, f0, m0;
	uint64_t n = ROUNDS_2M * BLOCKS_2M;

	touch(from, to, SZ_2M);
	f0 = counter(STRATA_CTR_S2_FAULTS);
	m0 = counter(STRATA_CTR_MAPS_2M);
	for (unsigned int r = 0; r < ROUNDS_2M; r++) {
		do_zap(from, to - from);
		loop += touch(from + 0x800, to, SZ_2M);
		base += touch(from + 0x800, to, SZ_2M);
	}
	check(counter(STRATA_CTR_MAPS_2M) - m0 == n,
	      "faultbench: 2M: %lu blocks mapped, %lu expected",
	      counter(STRATA_CTR_MAPS_2M) - m0, n);
	report("2M", n, loop, base, counter(STRATA_CTR_S2_FAULTS) - f0);
}

static void report_ops(const char *kind, uint64_t n, uint64_t loop,
		       uint64_t base)
{
	uint64_t frq = read_cntfrq();

	printf("faultbench: %s ops=%lu loop_ticks=%lu base_ticks=%lu cntfrq=%lu insns_per_op=%lu\n",
	       kind, n, loop, base, frq,
	       loop > base ? (loop - base) * (1000000000UL / frq) / n : 0);
}

/*
 * First touches of unbacked pages, then the same touches again. The base is
 * the same loop over the (mapped) 4K block. The first VM_UNCLAIMED_REPORTS
 * unclaimed accesses are printed by Strata: they are spent before, on a page
 * outside the range, so the timed loop measures the per-page path alone.
 */
static void bench_mmio(void)
{
	uint64_t blk = ram_base + 16 * SZ_2M;
	uint64_t first = 0, again = 0, base = 0, h0, h1, m0, t0, t1;
	uint64_t n = ROUNDS_MMIO * (SZ_2M / PAGE), got = 0, ram = 0;

	touch_mmio(MMIO_LO - PAGE, 0, 8, &got);
	touch_mmio(blk, PAGE, SZ_2M / PAGE, &ram);	/* all mapped (bench_4k) */
	h0 = counter(STRATA_CTR_MMIO_SPTE_HITS);
	m0 = counter(STRATA_CTR_MMIO);
	t0 = counter(STRATA_CTR_TABLES_IN_USE);
	for (unsigned int r = 0; r < ROUNDS_MMIO; r++) {
		uint64_t lo = MMIO_LO + r * SZ_2M;

		first += touch_mmio(lo, PAGE, SZ_2M / PAGE, &got);
		base += touch_mmio(blk, PAGE, SZ_2M / PAGE, &ram);
	}
	h1 = counter(STRATA_CTR_MMIO_SPTE_HITS);
	t1 = counter(STRATA_CTR_TABLES_IN_USE);
	for (unsigned int r = 0; r < ROUNDS_MMIO; r++) {
		uint64_t lo = MMIO_LO + r * SZ_2M;

		again += touch_mmio(lo, PAGE, SZ_2M / PAGE, &got);
	}
	check(got == 0, "faultbench: mmio: unbacked reads gave 0x%lx, not 0",
	      got);
	check(counter(STRATA_CTR_MMIO) - m0 == 2 * n,
	      "faultbench: mmio: %lu accesses emulated, %lu expected",
	      counter(STRATA_CTR_MMIO) - m0, 2 * n);
	check(h1 == h0 && counter(STRATA_CTR_MMIO_SPTE_HITS) - h1 == n,
	      "faultbench: mmio: SPTE hits %lu on first touch (0 expected), %lu after (%lu expected)",
	      h1 - h0, counter(STRATA_CTR_MMIO_SPTE_HITS) - h1, n);
	check(t1 - t0 >= ROUNDS_MMIO,
	      "faultbench: mmio: %lu table pages for %u MiB of MMIO SPTEs",
	      t1 - t0, ROUNDS_MMIO * 2);
	report_ops("mmio-first", n, first, base);
	report_ops("mmio-again", n, again, base);
}

/* Loads of one test-device register: the emulated MMIO load. */
static void bench_mmio_dev(void)
{
	uint64_t blk = ram_base + 16 * SZ_2M, reg = GUEST_TESTDEV_BASE + 8;
	uint64_t n = 10000, loop, base, got = 0, ram = 0, m0;
	uint64_t want = 0x5eed0000cafe1234UL;

	mmio_write64(reg, want);
	touch_mmio(reg, 0, 1, &got);	/* its MMIO SPTE is in place */
	m0 = counter(STRATA_CTR_MMIO);
	loop = touch_mmio(reg, 0, n, &got);
	base = touch_mmio(blk, 0, n, &ram);
	check(got == want,
	      "faultbench: mmio-dev: the register read 0x%lx, not 0x%lx", got,
	      want);
	check(counter(STRATA_CTR_MMIO) - m0 == n,
	      "faultbench: mmio-dev: %lu accesses emulated, %lu expected",
	      counter(STRATA_CTR_MMIO) - m0, n);
	report_ops("mmio-dev", n, loop, base);
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
	uint64_t blk = ram_base + 16 * SZ_2M, past = SPARSE_LO + SPARSE_TABLES * SZ_2M;
	uint64_t loop, base, got = 0, ram = 0;
	uint64_t t0, t1, h0;

	t0 = counter(STRATA_CTR_TABLES_IN_USE);
	loop = touch_mmio(SPARSE_LO, SZ_2M, SPARSE_TABLES, &got);
	base = touch_mmio(blk, 0, SPARSE_TABLES, &ram);
	t1 = counter(STRATA_CTR_TABLES_IN_USE);
	check(t1 - t0 >= SPARSE_TABLES,
	      "faultbench: mmio-sparse: %lu table pages for %u touches, one per 2 MiB",
	      (uint64_t)(t1 - t0), SPARSE_TABLES);
	report_ops("mmio-sparse", SPARSE_TABLES, loop, base);
	loop = touch_mmio(past, SZ_2M, SPARSE_PAST, &got);
	base = touch_mmio(blk, 0, SPARSE_PAST, &ram);
	t1 = counter(STRATA_CTR_TABLES_IN_USE);
	h0 = counter(STRATA_CTR_MMIO_SPTE_HITS);
	touch_mmio(past + (SPARSE_PAST - 1) * SZ_2M, 0, 1, &got);
	check(counter(STRATA_CTR_MMIO_SPTE_HITS) == h0 && t1 - t0 <= 64,
	      "faultbench: mmio-sparse: past the budget: %lu SPTE hits, %lu table pages",
	      (uint64_t)(counter(STRATA_CTR_MMIO_SPTE_HITS) - h0),
	      (uint64_t)(t1 - t0));
	check(got == 0, "faultbench: mmio-sparse: unbacked reads gave 0x%lx",
	      (uint64_t)got);
	report_ops("mmio-nobudget", SPARSE_PAST, loop, base);
}

/* Per page of the 4K block: zap it, read it back in (one 4 KiB fault). */
static uint64_t zap_touch(uint64_t from, uint64_t to)
{
	uint64_t t0, t1, sum = 0;
	int64_t bad = 0;

	t0 = read_cntvct();
	for (uint64_t a = from; a < to; a += PAGE) {
		bad |= zap(a, PAGE);
		sum += rd(a);
	}
	t1 = read_cntvct();
	__asm__ volatile("" : : "r"(sum));
	check(bad == 0, "faultbench: a zap of one page in [0x%lx, 0x%lx) failed",
	      from, to);
	return t1 - t0;
}

static void bench_zap_refault(void)
{
	uint64_t b = ram_base + 16 * SZ_2M;
	uint64_t loop = 0, base = 0, f0, m0;
	uint64_t n = ROUNDS_ZAP * (SZ_2M / PAGE - 1);

	touch(b, b + SZ_2M, PAGE);	/* all mapped (bench_4k) */
	f0 = counter(STRATA_CTR_S2_FAULTS);
	m0 = counter(STRATA_CTR_MAPS_4K);
	for (unsigned int r = 0; r < ROUNDS_ZAP; r++) {
		loop += zap_touch(b + PAGE, b + SZ_2M);
		base += touch(b + PAGE, b + SZ_2M, PAGE);
	}
	check(counter(STRATA_CTR_MAPS_4K) - m0 == n &&
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

	t0 = read_cntvct();
	for (uint64_t i = 0; i < n; i++) {
		hvc(STRATA_HC_COUNTER, STRATA_CTR_EXITS, 0, 0);
	}
	t1 = read_cntvct();
	for (uint64_t i = 0; i < n; i++) {
		__asm__ volatile("" : : "r"(i) : "memory");
	}
	t2 = read_cntvct();
	printf("faultbench: hypercall calls=%lu loop_ticks=%lu base_ticks=%lu insns_per_call=%lu\n",
	       n, t1 - t0, t2 - t1,
	       (t1 - t0 - (t2 - t1)) * (1000000000UL / read_cntfrq()) / n);
}

int guest_main(void *dtb)
{
	uint64_t size;

	if (!check(dt_memory(dtb, &ram_base, &size), "faultbench: no /memory") ||
	    !check(size >= 64 * SZ_2M, "faultbench: needs 128 MiB of RAM")) {
		return 1;
	}
	bench_4k();
	bench_2m();
	bench_zap_refault();	/* before the MMIO SPTEs grow the table */
	bench_mmio();
	bench_mmio_dev();
	bench_mmio_sparse();
	bench_hypercall();
	if (failures) {
		printf("faultbench: %u failures\n", failures);
		return 1;
	}
	puts("faultbench: PASS\n");
	return 0;
}
