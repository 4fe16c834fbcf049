// SPDX-License-Identifier: MIT
/*
 * The stage-2 core's link-time hooks for the many-CPU stress test: a
 * thread-safe table-page provider and a flush executor that reaches every
 * simulated CPU's TLB (tests/unit/smp/smp_hooks.h). Unlike
 * tests/unit/core/host_hooks.c nothing here is a single-threaded global.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include "smp_hooks.h"

struct smp_cpu smp_cpus[SMP_MAX_CPUS];
unsigned int smp_nr_cpus;
__thread int smp_this_cpu = -1;
bool smp_break_remote;
uint64_t smp_remote_flushes;
uint64_t smp_local_flushes;

/* ---- Live pages: a mutex-protected open-addressed set ------------------- */

#define LIVE_SLOTS	(1U << 20)
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static paddr_t *live;
static unsigned long live_nr;

static size_t live_hash(paddr_t pa)
{
	return (size_t)((pa >> PAGE_SHIFT) * 0x9E3779B97F4A7C15ULL >> 44) &
	       (LIVE_SLOTS - 1);
}

/* With live_lock held. */
static paddr_t *live_slot(paddr_t pa, bool insert)
{
	size_t i = live_hash(pa);

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
		if (!live[i]) {
			return insert ? &live[i] : NULL;
		}
		i = (i + 1) & (LIVE_SLOTS - 1);
	}
}

/* Backward-shift deletion, with live_lock held. */
static void live_del(paddr_t pa)
{
	paddr_t *slot = live_slot(pa, false);
	size_t i, j;

	if (!slot) {
		abort();	/* a page freed that was never handed out */
	}
	i = j = (size_t)(slot - live);
	for (;;) {
		size_t k;

		live[i] = 0;
		for (;;) {
			j = (j + 1) & (LIVE_SLOTS - 1);
			if (!live[j]) {
				return;
			}
			k = live_hash(live[j]);
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) {
				continue;
			}
			break;
		}
		live[i] = live[j];
		i = j;
	}
}

bool smp_page_live(paddr_t pa)
{
	bool ret;

	pthread_mutex_lock(&live_lock);
	ret = live_slot(pa & ~(paddr_t)(PAGE_SIZE - 1), false) != NULL;
	pthread_mutex_unlock(&live_lock);
	return ret;
}

unsigned long smp_pages_live(void)
{
	unsigned long n;

	pthread_mutex_lock(&live_lock);
	n = live_nr;
	pthread_mutex_unlock(&live_lock);
	return n;
}

static int pages_alloc(unsigned int npages, paddr_t *pa)
{
	void *p = aligned_alloc(npages * PAGE_SIZE, npages * PAGE_SIZE);

	if (!p) {
		return -ENOMEM;
	}
	/* Garbage, so that the core must initialize what it takes. */
	memset(p, 0xa5, npages * PAGE_SIZE);
	*pa = (paddr_t)(uintptr_t)p;
	pthread_mutex_lock(&live_lock);
	for (unsigned int i = 0; i < npages; i++) {
		*live_slot(*pa + i * PAGE_SIZE, true) = *pa + i * PAGE_SIZE;
	}
	live_nr += npages;
	pthread_mutex_unlock(&live_lock);
	return 0;
}

static void pages_free(paddr_t pa, unsigned int npages)
{
	pthread_mutex_lock(&live_lock);
	for (unsigned int i = 0; i < npages; i++) {
		live_del(pa + i * PAGE_SIZE);
	}
	live_nr -= npages;
	pthread_mutex_unlock(&live_lock);
	/* A walk through a freed table is a use after free for TSan. */
	free((void *)(uintptr_t)pa);
}

int s2_table_page_alloc(paddr_t *pa)
{
	return pages_alloc(1, pa);
}

void s2_table_page_free(paddr_t pa)
{
	pages_free(pa, 1);
}

int s2_root_alloc(unsigned int npages, paddr_t *pa)
{
	return pages_alloc(npages, pa);
}

void s2_root_free(paddr_t pa, unsigned int npages)
{
	pages_free(pa, npages);
}

bool s2_table_page_live(paddr_t pa)
{
	return smp_page_live(pa);
}

void s2_pte_written(const s2pte_t *ptep, s2pte_t old, s2pte_t new,
		    unsigned int level)
{
	(void)ptep;
	(void)old;
	(void)new;
	(void)level;
}

/* ---- The flush executor: every CPU's TLB ---------------------------------- */

uint64_t smp_tlb_tag(const struct s2pt *pt)
{
#ifdef SMP_EPT
	return s2pt_root_desc(pt);	/* EPTP: entries are tagged per root */
#else
	return pt->vmid;		/* every root has its own VMID */
#endif
}

/*
 * What one CPU does for @plan. Taking the CPU's TLB lock waits for a walk
 * it has in flight, as the completion of a broadcast TLBI (DSB) or of an
 * INVEPT answered by IPI waits for the walks of the CPUs it reaches.
 */
static void flush_cpu(struct smp_cpu *c, uint64_t tag,
		      const struct s2_flush_plan *p)
{
	pthread_mutex_lock(&c->tlb_lock);
	switch (p->kind) {
	case S2_FLUSH_IPA:
		for (unsigned int i = 0; i < p->nr_ipa; i++) {
			sim_tlb_inv_ipa(&c->tlb, tag, p->ipa[i].addr, !p->walk);
		}
		break;
	case S2_FLUSH_RANGE:
		sim_tlb_inv_range(&c->tlb, tag, p->start,
				  (p->end - p->start) >> PAGE_SHIFT, !p->walk);
		break;
	default:
		sim_tlb_inv_tag(&c->tlb, tag);
		break;
	}
	c->flushes++;
	pthread_mutex_unlock(&c->tlb_lock);
}

/*
 * The contract of arch_s2_flush(): no CPU keeps a covered entry. Called
 * only by exclusive holders of the MMU lock (the core's writers), so the
 * counters below need no atomics.
 */
void arch_s2_flush(struct s2pt *pt, const struct s2_flush_plan *plan)
{
	uint64_t tag = smp_tlb_tag(pt);

	pt->counters.barriers += 2;
	if (plan->kind == S2_FLUSH_RANGE) {
		pt->counters.tlbi_range_insns++;
	}
	for (unsigned int i = 0; i < smp_nr_cpus; i++) {
		bool local = (int)i == smp_this_cpu;

		if (!local && smp_break_remote) {
			continue;	/* the seeded bug: a local-only INVEPT */
		}
		flush_cpu(&smp_cpus[i], tag, plan);
		if (local) {
			smp_local_flushes++;
		} else {
			smp_remote_flushes++;
		}
	}
}

void arch_s2_cmo(struct s2pt *pt, const struct s2_cmo_range *r,
		 unsigned int nr)
{
	(void)r;
	(void)nr;
	pt->counters.barriers++;
}

unsigned int arch_s2_cpu_flags(void)
{
	return 0;
}
