// SPDX-License-Identifier: MIT
/*
 * Host implementations of the core's hooks: a tracking page allocator with
 * failure injection, a counting flush and CMO executor and the observers the
 * tests set.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include "host_hooks.h"

void (*host_flush_observer)(struct s2pt *, const struct s2_flush_plan *);
void (*host_pte_write_observer)(const s2pte_t *, s2pte_t, s2pte_t,
				unsigned int);
void (*host_table_free_observer)(paddr_t);
void (*host_cmo_observer)(struct s2pt *, const struct s2_cmo_range *,
			  unsigned int);
unsigned int host_cpu_flags;
struct host_event host_events[HOST_EVENTS_MAX];
unsigned int host_nr_events;
unsigned long host_alloc_calls;
unsigned long host_alloc_live;

static long fail_nth = -1;

/* Live pages, an open-addressed hash set keyed by address. */
#define LIVE_SLOTS	(1U << 21)
static paddr_t *live;

static void log_event(enum host_event_kind kind, uint64_t a, uint64_t b)
{
	if (host_nr_events < HOST_EVENTS_MAX) {
		host_events[host_nr_events++] =
			(struct host_event){ kind, a, b };
	}
}

static size_t live_slot(paddr_t pa)
{
	return (size_t)((pa >> PAGE_SHIFT) * 0x9E3779B97F4A7C15ULL >> 43) &
	       (LIVE_SLOTS - 1);
}

static paddr_t *live_find(paddr_t pa, bool for_insert)
{
	size_t i = live_slot(pa);

	if (!live) {
		live = calloc(LIVE_SLOTS, sizeof(*live));
		if (!live) {
			abort();
		}
	}
	for (;;) {
		if (live[i] == pa) {
			return &live[i];
		}
		if (live[i] == 0) {
			return for_insert ? &live[i] : NULL;
		}
		i = (i + 1) & (LIVE_SLOTS - 1);
	}
}

static void live_remove(paddr_t pa)
{
	paddr_t *slot = live_find(pa, false);
	size_t i, j;

	if (!slot) {
		abort();	/* freeing a page never handed out */
	}
	/* Backward-shift deletion keeps probe chains intact. */
	i = (size_t)(slot - live);
	j = i;
	for (;;) {
		size_t k;

		live[i] = 0;
		for (;;) {
			j = (j + 1) & (LIVE_SLOTS - 1);
			if (live[j] == 0) {
				return;
			}
			k = live_slot(live[j]);
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) {
				continue;
			}
			break;
		}
		live[i] = live[j];
		i = j;
	}
}

bool host_page_live(paddr_t pa)
{
	return live_find(pa, false) != NULL;
}

void host_alloc_reset(void)
{
	fail_nth = -1;
	host_nr_events = 0;
}

void host_alloc_fail_nth(long n)
{
	fail_nth = n;
}

static bool should_fail(void)
{
	host_alloc_calls++;
	if (fail_nth < 0) {
		return false;
	}
	return fail_nth-- == 0;
}

static int host_pages_alloc(unsigned int npages, paddr_t *pa)
{
	void *p;

	if (should_fail()) {
		return -ENOMEM;
	}
	p = aligned_alloc(npages * PAGE_SIZE, npages * PAGE_SIZE);
	if (!p) {
		return -ENOMEM;
	}
	/* Garbage, so that the core must initialize what it takes. */
	memset(p, 0xa5, npages * PAGE_SIZE);
	*pa = (paddr_t)(uintptr_t)p;
	for (unsigned int i = 0; i < npages; i++) {
		*live_find(*pa + i * PAGE_SIZE, true) = *pa + i * PAGE_SIZE;
		log_event(HOST_EV_ALLOC, *pa + i * PAGE_SIZE, 0);
	}
	host_alloc_live += npages;
	return 0;
}

static void host_pages_free(paddr_t pa, unsigned int npages)
{
	for (unsigned int i = 0; i < npages; i++) {
		if (host_table_free_observer) {
			host_table_free_observer(pa + i * PAGE_SIZE);
		}
		live_remove(pa + i * PAGE_SIZE);
		log_event(HOST_EV_FREE, pa + i * PAGE_SIZE, 0);
	}
	host_alloc_live -= npages;
	/* Poison, so that a walk through a freed table trips ASan. */
	free((void *)(uintptr_t)pa);
}

int s2_table_page_alloc(paddr_t *pa)
{
	return host_pages_alloc(1, pa);
}

void s2_table_page_free(paddr_t pa)
{
	host_pages_free(pa, 1);
}

int s2_root_alloc(unsigned int npages, paddr_t *pa)
{
	return host_pages_alloc(npages, pa);
}

void s2_root_free(paddr_t pa, unsigned int npages)
{
	host_pages_free(pa, npages);
}

bool s2_table_page_live(paddr_t pa)
{
	return host_page_live(pa);
}

void s2_pte_written(const s2pte_t *ptep, s2pte_t old, s2pte_t new,
		    unsigned int level)
{
	if (host_pte_write_observer) {
		host_pte_write_observer(ptep, old, new, level);
	}
}

/*
 * The host executor models the arm64 sequence for counting: a DSB before the
 * invalidation and one after it (the x86 INVEPT counts as one invalidation
 * and two barriers too, which keeps the two formats comparable).
 */
void arch_s2_flush(struct s2pt *pt, const struct s2_flush_plan *plan)
{
	pt->counters.barriers += 2;
	if (plan->kind == S2_FLUSH_RANGE) {
		pt->counters.tlbi_range_insns++;
	}
	log_event(HOST_EV_FLUSH, plan->kind, plan->walk);
	if (host_flush_observer) {
		host_flush_observer(pt, plan);
	}
}

void arch_s2_cmo(struct s2pt *pt, const struct s2_cmo_range *r,
		 unsigned int nr)
{
	pt->counters.barriers++;
	log_event(HOST_EV_CMO, nr ? r[0].pa : 0, nr);
	if (host_cmo_observer) {
		host_cmo_observer(pt, r, nr);
	}
}

unsigned int arch_s2_cpu_flags(void)
{
	return host_cpu_flags;
}
