/* SPDX-License-Identifier: MIT */
/*
 * Hooks of the stage-2 core for the many-CPU stress test (stress.c): a
 * thread-safe table-page provider and a flush executor that invalidates the
 * simulated TLB of every CPU (host thread), each behind its own lock.
 */
#ifndef STRATA_TESTS_SMP_HOOKS_H
#define STRATA_TESTS_SMP_HOOKS_H

#include <pthread.h>

#include <mm/s2_arch.h>
#include "sim_tlb.h"

#define SMP_MAX_CPUS	8

/*
 * One simulated CPU. @tlb is filled only by that CPU's accesses (the
 * reference translator walking the tables, @tlb_lock held for the whole
 * walk) and emptied only by arch_s2_flush(), which takes @tlb_lock.
 */
struct smp_cpu {
	pthread_mutex_t tlb_lock;
	struct sim_tlb tlb;
	uint64_t flushes;	/* plans executed on this TLB */
};

extern struct smp_cpu smp_cpus[SMP_MAX_CPUS];
extern unsigned int smp_nr_cpus;
/* The CPU the calling thread is (-1: none). */
extern __thread int smp_this_cpu;
/*
 * Seeded bug for the proof that the test catches a missing remote
 * invalidation: flushes reach only the calling CPU's TLB (--break-remote).
 */
extern bool smp_break_remote;
/* Plans executed on other CPUs' TLBs / on the caller's own. */
extern uint64_t smp_remote_flushes;
extern uint64_t smp_local_flushes;

/* The TLB tag of a table's entries: EPTP (x86) or VMID (arm64). */
uint64_t smp_tlb_tag(const struct s2pt *pt);
bool smp_page_live(paddr_t pa);
unsigned long smp_pages_live(void);

#endif
