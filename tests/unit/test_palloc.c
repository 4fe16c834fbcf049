// SPDX-License-Identifier: MIT
/* Host tests of the physical page allocator (mm/palloc.c). */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <mm/palloc.h>
#include "harness.h"

#define ARENA_PAGES	4096	/* 16 MiB */

static uint8_t *arena;

static paddr_t at(uint64_t page)
{
	return (paddr_t)(uintptr_t)arena + page * PAGE_SIZE;
}

/* A fresh allocator over the whole arena. */
static void setup_one_range(void)
{
	palloc_reset();
	palloc_add_ram(at(0), ARENA_PAGES * PAGE_SIZE);
	palloc_finalize();
}

/* Every page handed out lies inside RAM, is page aligned and is distinct. */
static void alloc_all_pages_distinct(void)
{
	struct palloc_stats st;
	static uint8_t seen[ARENA_PAGES];
	uint64_t n = 0;
	paddr_t pa;

	setup_one_range();
	palloc_get_stats(&st);
	memset(seen, 0, sizeof(seen));
	while (!palloc_alloc(1, 1, &pa)) {
		uint64_t idx = (pa - at(0)) / PAGE_SIZE;

		CHECK(pa >= at(0) && pa < at(ARENA_PAGES));
		CHECK((pa & (PAGE_SIZE - 1)) == 0);
		CHECK(!seen[idx]);
		seen[idx] = 1;
		n++;
	}
	CHECK_EQ(n, st.free_pages);
	palloc_get_stats(&st);
	CHECK_EQ(st.free_pages, 0);
	/* The bitmap page (first of the range) is never handed out. */
	CHECK(!seen[0]);
}

/* Reserved ranges are never allocated, even partially overlapping pages. */
static void reserved_ranges_are_skipped(void)
{
	paddr_t pa;

	palloc_reset();
	palloc_add_ram(at(0), ARENA_PAGES * PAGE_SIZE);
	/* Unaligned reservation: pages 100 and 101 must both be kept out. */
	palloc_reserve(at(100) + 10, PAGE_SIZE);
	palloc_reserve(at(2000), 500 * PAGE_SIZE);
	CHECK_EQ(palloc_finalize(), 0);
	while (!palloc_alloc(1, 1, &pa)) {
		CHECK(pa != at(100) && pa != at(101));
		CHECK(pa < at(2000) || pa >= at(2500));
	}
}

/* Contiguous allocations honour the alignment and do not overlap. */
static void contiguous_aligned(void)
{
	paddr_t a, b, c;

	setup_one_range();
	CHECK_EQ(palloc_alloc(3, 1, &a), 0);
	CHECK_EQ(palloc_alloc(512, 512, &b), 0);
	CHECK_EQ(b & (SZ_2M - 1), 0);
	CHECK_EQ(palloc_alloc(16, 16, &c), 0);
	CHECK_EQ(c & (16 * PAGE_SIZE - 1), 0);
	CHECK(c + 16 * PAGE_SIZE <= b || c >= b + 512 * PAGE_SIZE);
	CHECK(a + 3 * PAGE_SIZE <= c || a >= c + 16 * PAGE_SIZE);
	CHECK(palloc_is_allocated(b, 512));
}

/* A request larger than any free run fails with -ENOMEM and changes nothing. */
static void too_large_fails_cleanly(void)
{
	struct palloc_stats before, after;
	paddr_t pa;

	setup_one_range();
	palloc_get_stats(&before);
	CHECK_EQ(palloc_alloc(ARENA_PAGES, 1, &pa), -ENOMEM);
	CHECK_EQ(palloc_alloc(0, 1, &pa), -EINVAL);
	CHECK_EQ(palloc_alloc(1, 3, &pa), -EINVAL);
	palloc_get_stats(&after);
	CHECK_EQ(before.free_pages, after.free_pages);
}

/* Freed pages come back, and double or foreign frees are refused. */
static void free_and_refuse_bad_free(void)
{
	struct palloc_stats before, after;
	paddr_t pa;

	setup_one_range();
	palloc_get_stats(&before);
	CHECK_EQ(palloc_alloc(64, 1, &pa), 0);
	CHECK_EQ(palloc_free(pa, 64), 0);
	palloc_get_stats(&after);
	CHECK_EQ(before.free_pages, after.free_pages);
	CHECK_EQ(palloc_free(pa, 1), -EINVAL);
	CHECK_EQ(palloc_free(0x1000, 1), -EINVAL);
	/* the range's bitmap page is in use but was never handed out */
	CHECK_EQ(palloc_free(at(ARENA_PAGES), 1), -EINVAL);
	palloc_get_stats(&after);
	CHECK_EQ(before.free_pages, after.free_pages);
}

/* After freeing everything, a run as large as the range fits again. */
static void fragmentation_recovers(void)
{
	static paddr_t pages[ARENA_PAGES];
	struct palloc_stats st;
	uint64_t n = 0;
	paddr_t pa;

	setup_one_range();
	palloc_get_stats(&st);
	while (!palloc_alloc(1, 1, &pages[n])) {
		n++;
	}
	/* free odd pages first, then even: fragmentation in between */
	for (uint64_t i = 1; i < n; i += 2) {
		CHECK_EQ(palloc_free(pages[i], 1), 0);
	}
	CHECK_EQ(palloc_alloc(2, 1, &pa), -ENOMEM);
	for (uint64_t i = 0; i < n; i += 2) {
		CHECK_EQ(palloc_free(pages[i], 1), 0);
	}
	CHECK_EQ(palloc_alloc(st.free_pages, 1, &pa), 0);
}

/* Page 0 is never handed out even when the firmware calls it usable. */
static void page_zero_never_used(void)
{
	palloc_reset();
	CHECK_EQ(palloc_add_ram(0, PAGE_SIZE), 0);
	CHECK_EQ(palloc_finalize(), -ENOMEM);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "palloc");
	arena = aligned_alloc(SZ_2M, ARENA_PAGES * PAGE_SIZE);
	if (!arena) {
		return 2;
	}
	RUN_TEST(alloc_all_pages_distinct);
	RUN_TEST(reserved_ranges_are_skipped);
	RUN_TEST(contiguous_aligned);
	RUN_TEST(too_large_fails_cleanly);
	RUN_TEST(free_and_refuse_bad_free);
	RUN_TEST(fragmentation_recovers);
	RUN_TEST(page_zero_never_used);
	free(arena);
	return test_done();
}
