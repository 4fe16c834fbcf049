// SPDX-License-Identifier: MIT
/*
 * memtest: writes and checks all of its RAM (as /memory in the DTB says)
 * except its own image and stack, in two passes with different patterns
 * (the second the complement of the first, so every bit is seen both ways).
 * The DTB is read first and then overwritten like any other RAM. Prints the
 * stage-2 faults the test took: RAM is mapped lazily, on first touch.
 */
#include "guest.h"

#define PAGE		0x1000UL

static uint64_t pattern(uint64_t addr, uint64_t flip)
{
	return (addr * 0x9e3779b97f4a7c15UL) ^ (addr >> 7) ^ flip;
}

static uint64_t fill(uint64_t from, uint64_t to, uint64_t flip)
{
	for (uint64_t a = from; a < to; a += 8) {
		*(volatile uint64_t *)a = pattern(a, flip);
	}
	return (to - from) / 8;
}

static bool verify(uint64_t from, uint64_t to, uint64_t flip)
{
	for (uint64_t a = from; a < to; a += 8) {
		uint64_t got = *(volatile uint64_t *)a;

		if (got != pattern(a, flip)) {
			check(false, "memtest: at 0x%lx read 0x%lx, wrote 0x%lx",
			      a, got, pattern(a, flip));
			return false;
		}
	}
	return true;
}

int guest_main(void *dtb)
{
	uint64_t base, size, words = 0, faults, m4k, m2m, m1g;
	uint64_t lo = (uint64_t)_start & ~(PAGE - 1);
	uint64_t hi = ((uint64_t)_end + PAGE - 1) & ~(PAGE - 1);
	static const uint64_t flips[2] = { 0, ~0UL };

	if (!check(dt_memory(dtb, &base, &size), "memtest: no /memory")) {
		return 1;
	}
	printf("memtest: RAM 0x%lx-0x%lx (%lu MiB), skipping the image at 0x%lx-0x%lx\n",
	       base, base + size, size >> 20, lo, hi);
	if (!check(lo >= base && hi <= base + size,
		   "memtest: the image is not inside /memory")) {
		return 1;
	}
	faults = counter(STRATA_CTR_S2_FAULTS);
	m4k = counter(STRATA_CTR_MAPS_4K);
	m2m = counter(STRATA_CTR_MAPS_2M);
	m1g = counter(STRATA_CTR_MAPS_1G);
	for (unsigned int pass = 0; pass < 2; pass++) {
		words += fill(base, lo, flips[pass]);
		words += fill(hi, base + size, flips[pass]);
		if (!verify(base, lo, flips[pass]) ||
		    !verify(hi, base + size, flips[pass])) {
			return 1;
		}
		printf("memtest: pass %u of 2 good\n", pass + 1);
	}
	printf("memtest: %lu MiB written and checked twice, %lu stage-2 faults (%lu 4K, %lu 2M, %lu 1G maps)\n",
	       words * 8 / 2 >> 20, counter(STRATA_CTR_S2_FAULTS) - faults,
	       counter(STRATA_CTR_MAPS_4K) - m4k,
	       counter(STRATA_CTR_MAPS_2M) - m2m,
	       counter(STRATA_CTR_MAPS_1G) - m1g);
	puts("memtest: PASS\n");
	return 0;
}
