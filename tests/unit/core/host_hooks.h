/* SPDX-License-Identifier: MIT */
/*
 * Host implementations of the stage-2 core's link-time hooks (table-page
 * provider, flush executor, CMO executor, write observer), with a tracking
 * allocator that can inject failures and optional observers the tests set.
 */
#ifndef STRATA_TESTS_CORE_HOST_HOOKS_H
#define STRATA_TESTS_CORE_HOST_HOOKS_H

#include <mm/s2_arch.h>

/* Observers (NULL by default); called after the hook did its own work. */
extern void (*host_flush_observer)(struct s2pt *pt,
				   const struct s2_flush_plan *plan);
extern void (*host_pte_write_observer)(const s2pte_t *ptep, s2pte_t old,
				       s2pte_t new, unsigned int level);
/* Called just before a table page (or root page) goes back to the host. */
extern void (*host_table_free_observer)(paddr_t pa);
extern void (*host_cmo_observer)(struct s2pt *pt,
				 const struct s2_cmo_range *r,
				 unsigned int nr);

/* What arch_s2_cpu_flags() returns on the host (default 0). */
extern unsigned int host_cpu_flags;

/* Event log: every flush, CMO batch and table free, in order. */
enum host_event_kind {
	HOST_EV_FLUSH,		/* a = plan kind, b = plan->walk */
	HOST_EV_CMO,		/* a = first pa, b = number of ranges */
	HOST_EV_FREE,		/* a = page freed */
	HOST_EV_ALLOC,		/* a = page allocated */
};

struct host_event {
	enum host_event_kind kind;
	uint64_t a;
	uint64_t b;
};

#define HOST_EVENTS_MAX		4096
extern struct host_event host_events[HOST_EVENTS_MAX];
extern unsigned int host_nr_events;	/* saturates at HOST_EVENTS_MAX */

/* Tracking allocator. */
void host_alloc_reset(void);		/* forget failures and the log */
/* Fail the @n-th allocation from now (0 = the next one); -1 = never. */
void host_alloc_fail_nth(long n);
extern unsigned long host_alloc_calls;	/* allocation attempts */
extern unsigned long host_alloc_live;	/* pages currently allocated */
/* True if @pa is a page the host allocator currently has handed out. */
bool host_page_live(paddr_t pa);

#endif
