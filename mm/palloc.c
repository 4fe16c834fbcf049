// SPDX-License-Identifier: MIT
/*
 * Physical page allocator: a bitmap per free range, first fit with an
 * alignment, a next-fit hint for single pages. Set bit = page in use.
 * Allocation, free and the statistics run under one spinlock (several CPUs
 * fault and build tables at once, docs/smp.md); the set-up functions run
 * on the boot CPU before any other CPU starts.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/spinlock.h>
#include <lib/string.h>
#include <mm/palloc.h>

static struct spinlock palloc_lock = SPINLOCK_INIT;

struct prange {
	paddr_t base;
	uint64_t npages;
};

struct region {
	paddr_t base;		/* first page under management */
	uint64_t npages;
	uint64_t *bitmap;	/* lives in the region's first pages */
	uint64_t nfree;
	uint64_t hint;		/* next index to try for one page */
};

static struct prange ram[PALLOC_MAX_RANGES], resv[PALLOC_MAX_RANGES];
static unsigned int nr_ram, nr_resv;
static struct region regions[PALLOC_MAX_RANGES];
static unsigned int nr_regions;

void palloc_reset(void)
{
	nr_ram = 0;
	nr_resv = 0;
	nr_regions = 0;
}

int palloc_add_ram(paddr_t base, uint64_t size)
{
	paddr_t start = ALIGN_UP(base, PAGE_SIZE);
	paddr_t end = ALIGN_DOWN(base + size, PAGE_SIZE);

	if (base + size < base) {
		return -EINVAL;
	}
	if (start < PAGE_SIZE) {
		start = PAGE_SIZE;	/* never hand out page 0 */
	}
	if (end <= start) {
		return 0;
	}
	if (nr_ram == PALLOC_MAX_RANGES) {
		return -ENOSPC;
	}
	ram[nr_ram++] = (struct prange){ start, (end - start) >> PAGE_SHIFT };
	return 0;
}

int palloc_reserve(paddr_t base, uint64_t size)
{
	paddr_t start = ALIGN_DOWN(base, PAGE_SIZE);
	paddr_t end = ALIGN_UP(base + size, PAGE_SIZE);

	if (base + size < base) {
		return -EINVAL;
	}
	if (end <= start) {
		return 0;
	}
	if (nr_resv == PALLOC_MAX_RANGES) {
		return -ENOSPC;
	}
	resv[nr_resv++] = (struct prange){ start, (end - start) >> PAGE_SHIFT };
	return 0;
}

static inline paddr_t prange_end(const struct prange *r)
{
	return r->base + (r->npages << PAGE_SHIFT);
}

/* The lowest reserved range that overlaps [start, end), or NULL. */
static const struct prange *first_overlap(paddr_t start, paddr_t end)
{
	const struct prange *best = NULL;

	for (unsigned int i = 0; i < nr_resv; i++) {
		const struct prange *r = &resv[i];

		if (r->base < end && prange_end(r) > start &&
		    (!best || r->base < best->base)) {
			best = r;
		}
	}
	return best;
}

static int add_region(paddr_t start, paddr_t end)
{
	uint64_t npages = (end - start) >> PAGE_SHIFT;
	uint64_t words = (npages + 63) / 64;
	uint64_t bm_pages = (words * 8 + PAGE_SIZE - 1) >> PAGE_SHIFT;
	struct region *rg;

	if (npages <= bm_pages) {
		return 0;	/* too small to be worth a bitmap */
	}
	if (nr_regions == PALLOC_MAX_RANGES) {
		return -ENOSPC;
	}
	rg = &regions[nr_regions++];
	rg->base = start;
	rg->npages = npages;
	rg->bitmap = (uint64_t *)(uintptr_t)start;
	memset(rg->bitmap, 0, words * 8);
	/* The bitmap's own pages and the tail bits past npages are in use. */
	for (uint64_t i = 0; i < bm_pages; i++) {
		rg->bitmap[i / 64] |= 1ULL << (i % 64);
	}
	for (uint64_t i = npages; i < words * 64; i++) {
		rg->bitmap[i / 64] |= 1ULL << (i % 64);
	}
	rg->nfree = npages - bm_pages;
	rg->hint = bm_pages;
	return 0;
}

int palloc_finalize(void)
{
	nr_regions = 0;
	for (unsigned int i = 0; i < nr_ram; i++) {
		paddr_t cur = ram[i].base, end = prange_end(&ram[i]);

		while (cur < end) {
			const struct prange *r = first_overlap(cur, end);
			paddr_t stop = r ? MAX(r->base, cur) : end;
			int ret = 0;

			if (stop > cur) {
				ret = add_region(cur, stop);
			}
			if (ret) {
				return ret;
			}
			cur = r ? MAX(prange_end(r), cur) : end;
		}
	}
	for (unsigned int i = 0; i < nr_regions; i++) {
		if (regions[i].nfree) {
			return 0;
		}
	}
	return -ENOMEM;
}

static inline bool bit_test(const struct region *rg, uint64_t i)
{
	return rg->bitmap[i / 64] & (1ULL << (i % 64));
}

static void bits_set(struct region *rg, uint64_t first, uint64_t n, bool used)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (used) {
			rg->bitmap[i / 64] |= 1ULL << (i % 64);
		} else {
			rg->bitmap[i / 64] &= ~(1ULL << (i % 64));
		}
	}
	rg->nfree = used ? rg->nfree - n : rg->nfree + n;
}

/* First index >= from whose run of n pages is free and aligned, or npages. */
static uint64_t find_run(const struct region *rg, uint64_t from, uint64_t n,
			 uint64_t align)
{
	uint64_t i = from;

	for (;;) {
		paddr_t pa = rg->base + (i << PAGE_SHIFT);
		uint64_t run = 0;

		i += (ALIGN_UP(pa, align << PAGE_SHIFT) - pa) >> PAGE_SHIFT;
		if (i + n > rg->npages || i + n < i) {
			return rg->npages;
		}
		while (run < n && !bit_test(rg, i + run)) {
			run++;
		}
		if (run == n) {
			return i;
		}
		i += run + 1;
	}
}

static int __palloc_alloc(uint64_t npages, uint64_t align_pages,
			  paddr_t *pa);

int palloc_alloc(uint64_t npages, uint64_t align_pages, paddr_t *pa)
{
	int ret;

	spin_lock(&palloc_lock);
	ret = __palloc_alloc(npages, align_pages, pa);
	spin_unlock(&palloc_lock);
	return ret;
}

static int __palloc_alloc(uint64_t npages, uint64_t align_pages,
			  paddr_t *pa)
{
	if (!npages || !align_pages || (align_pages & (align_pages - 1))) {
		return -EINVAL;
	}
	for (unsigned int r = 0; r < nr_regions; r++) {
		struct region *rg = &regions[r];
		bool single = npages == 1 && align_pages == 1;
		uint64_t i;

		if (rg->nfree < npages) {
			continue;
		}
		i = find_run(rg, single ? rg->hint : 0, npages, align_pages);
		if (i == rg->npages && single && rg->hint) {
			i = find_run(rg, 0, npages, align_pages);
		}
		if (i == rg->npages) {
			continue;
		}
		bits_set(rg, i, npages, true);
		if (single) {
			rg->hint = i + 1 < rg->npages ? i + 1 : 0;
		}
		*pa = rg->base + (i << PAGE_SHIFT);
		return 0;
	}
	return -ENOMEM;
}

void *palloc_page_zeroed(void)
{
	paddr_t pa;

	if (palloc_alloc(1, 1, &pa)) {
		return NULL;
	}
	return memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
}

static struct region *find_region(paddr_t pa, uint64_t npages)
{
	for (unsigned int r = 0; r < nr_regions; r++) {
		struct region *rg = &regions[r];
		paddr_t end = rg->base + (rg->npages << PAGE_SHIFT);

		if (pa >= rg->base && pa < end &&
		    npages <= (end - pa) >> PAGE_SHIFT) {
			return rg;
		}
	}
	return NULL;
}

bool palloc_is_allocated(paddr_t pa, uint64_t npages)
{
	struct region *rg = find_region(pa, npages);
	uint64_t first;

	if (!rg || !IS_ALIGNED(pa, PAGE_SIZE)) {
		return false;
	}
	first = (pa - rg->base) >> PAGE_SHIFT;
	for (uint64_t i = first; i < first + npages; i++) {
		if (!bit_test(rg, i)) {
			return false;
		}
	}
	return true;
}

int palloc_free(paddr_t pa, uint64_t npages)
{
	struct region *rg = find_region(pa, npages);

	spin_lock(&palloc_lock);
	if (!npages || !rg || !palloc_is_allocated(pa, npages)) {
		spin_unlock(&palloc_lock);
		pr_err("palloc: bad free of %llu pages at 0x%llx\n",
		       (unsigned long long)npages, (unsigned long long)pa);
		return -EINVAL;
	}
	bits_set(rg, (pa - rg->base) >> PAGE_SHIFT, npages, false);
	spin_unlock(&palloc_lock);
	return 0;
}

void palloc_get_stats(struct palloc_stats *st)
{
	spin_lock(&palloc_lock);
	*st = (struct palloc_stats){ .nr_regions = nr_regions };
	for (unsigned int r = 0; r < nr_regions; r++) {
		st->total_pages += regions[r].npages;
		st->free_pages += regions[r].nfree;
	}
	spin_unlock(&palloc_lock);
}

void palloc_span(paddr_t *lo, paddr_t *hi)
{
	*lo = 0;
	*hi = 0;
	for (unsigned int r = 0; r < nr_regions; r++) {
		paddr_t end = regions[r].base +
			      (regions[r].npages << PAGE_SHIFT);

		if (!*hi || regions[r].base < *lo) {
			*lo = regions[r].base;
		}
		*hi = MAX(*hi, end);
	}
}

void palloc_dump(void)
{
	struct palloc_stats st;

	for (unsigned int r = 0; r < nr_regions; r++) {
		const struct region *rg = &regions[r];

		pr_info("  free range 0x%016llx-0x%016llx %llu pages free\n",
			(unsigned long long)rg->base,
			(unsigned long long)(rg->base + (rg->npages << PAGE_SHIFT) - 1),
			(unsigned long long)rg->nfree);
	}
	palloc_get_stats(&st);
	pr_info("page allocator: %llu of %llu pages free (%llu MiB) in %u ranges\n",
		(unsigned long long)st.free_pages,
		(unsigned long long)st.total_pages,
		(unsigned long long)(st.free_pages >> (20 - PAGE_SHIFT)),
		st.nr_regions);
}
