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
 */
#include "guest.h"

#define PAGE		0x1000UL
#define SZ_2M		0x200000UL
#define ROUNDS_4K	20		/* 20 x 511 = 10220 faults */
#define BLOCKS_2M	32
#define ROUNDS_2M	313		/* 313 x 32 = 10016 faults */

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
	bench_hypercall();
	if (failures) {
		printf("faultbench: %u failures\n", failures);
		return 1;
	}
	puts("faultbench: PASS\n");
	return 0;
}
