/* SPDX-License-Identifier: MIT */
/*
 * The physical page allocator. It manages the RAM the firmware reported minus
 * the ranges Strata must not hand out (its own image, the boot information or
 * DTB, modules or initrd). Pages are identity mapped in the hypervisor, so a
 * physical address is also a pointer. Page 0 is never handed out.
 *
 * Set-up is in two steps: palloc_add_ram() and palloc_reserve() in any order,
 * then palloc_finalize(). Each free range after finalization keeps its own
 * bitmap at its start.
 */
#ifndef STRATA_MM_PALLOC_H
#define STRATA_MM_PALLOC_H

#include <types.h>

#define PALLOC_MAX_RANGES	64

struct palloc_stats {
	uint64_t total_pages;	/* pages under management (bitmaps included) */
	uint64_t free_pages;
	unsigned int nr_regions;
};

/* Forget everything (host tests use this between cases). */
void palloc_reset(void);
/* Declare usable RAM; trimmed inward to whole pages. -ENOSPC when full. */
int palloc_add_ram(paddr_t base, uint64_t size);
/* Declare a range that must never be allocated; trimmed outward. */
int palloc_reserve(paddr_t base, uint64_t size);
/* Build the free ranges and their bitmaps; 0 or -ENOMEM if nothing is left. */
int palloc_finalize(void);

/*
 * Allocate @npages contiguous pages whose address is a multiple of
 * @align_pages pages (a power of two, 1 for any). On success stores the
 * address in @pa and returns 0; -ENOMEM when no such run is free.
 * The pages are not cleared.
 */
int palloc_alloc(uint64_t npages, uint64_t align_pages, paddr_t *pa);
/* One zeroed page, or NULL. */
void *palloc_page_zeroed(void);
/*
 * Return pages. Freeing a page that is not allocated, or outside the
 * allocator, is an internal bug: it is reported and -EINVAL returned with
 * nothing changed.
 */
int palloc_free(paddr_t pa, uint64_t npages);
/* True if every page of the range is currently allocated. */
bool palloc_is_allocated(paddr_t pa, uint64_t npages);

void palloc_get_stats(struct palloc_stats *st);
/* The lowest and highest (exclusive) address of all managed ranges;
 * both 0 before palloc_finalize(). */
void palloc_span(paddr_t *lo, paddr_t *hi);
/* Print the free ranges and counts on the console. */
void palloc_dump(void);

#endif
