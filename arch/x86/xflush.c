// SPDX-License-Identifier: MIT
/*
 * Remote EPT invalidation (docs/smp.md): INVEPT reaches only the CPU that
 * executes it, so a change of a table that another CPU may cache
 * translations of is posted to that CPU as a pending flush, and the CPUs
 * in a guest are kicked and waited for (include/lib/xflush.h, whose
 * guarantee this implements). A CPU with a flush pending executes INVEPT
 * all-context before its next VM entry: it does not know which tables
 * changed, and all-context costs no more than one single-context INVEPT.
 * Which CPUs may cache a table: those that entered a guest on it
 * (s2pt.cpus_entered); a CPU's first entry on a table drops whatever it
 * cached for that EPTP before (a root page freed and reused).
 */
#include <arch/cpu.h>
#include <arch/ept_flush.h>
#include <arch/vmx_run.h>
#include <core/percpu.h>
#include <lib/xflush.h>
#include <mm/s2_arch.h>

static struct xflush_cpu xflush_cpus[PCPU_MAX];

static void kick(unsigned int cpu, void *ctx)
{
	(void)ctx;
	arch_kick_cpu(&pcpus[cpu]);
	this_pcpu()->kicks_sent++;
}

static void relax(void)
{
	cpu_relax();
}

void x86_ept_remote_flush(struct s2pt *pt)
{
	unsigned int self = this_pcpu()->id;
	uint64_t mask;

	if (nr_pcpus < 2) {
		return;
	}
	/* The entries written (and INVEPT here) before the mask is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	mask = __atomic_load_n(&pt->cpus_entered, __ATOMIC_ACQUIRE) &
	       ~(1ULL << self);
	if (!mask) {
		return;
	}
	xflush_request(xflush_cpus, nr_pcpus, self, mask, kick, NULL, relax);
	pt->counters.remote_flushes += (uint64_t)__builtin_popcountll(mask);
}

void x86_ept_mark_cpu(struct s2pt *pt)
{
	uint64_t bit = 1ULL << this_pcpu()->id;

	if (__atomic_load_n(&pt->cpus_entered, __ATOMIC_ACQUIRE) & bit) {
		return;
	}
	__atomic_fetch_or(&pt->cpus_entered, bit, __ATOMIC_SEQ_CST);
	x86_invept(INVEPT_SINGLE_CONTEXT, s2pt_root_desc(pt));
}

void x86_xflush_enter(void)
{
	if (xflush_enter(&xflush_cpus[this_pcpu()->id])) {
		x86_invept(INVEPT_ALL_CONTEXTS, 0);
	}
}

void x86_xflush_exit(void)
{
	xflush_exit(&xflush_cpus[this_pcpu()->id]);
}

uint64_t x86_xflush_executed(unsigned int cpu)
{
	return __atomic_load_n(&xflush_cpus[cpu].flushes, __ATOMIC_RELAXED);
}
