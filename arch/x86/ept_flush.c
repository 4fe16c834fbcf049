// SPDX-License-Identifier: MIT
/*
 * The x86 flush executor of the stage-2 core: EPT has no per-address
 * invalidation, so every plan is one single-context INVEPT (by EPTP), which
 * also drops the paging-structure (walk) caches of that context. x86 caches
 * are coherent: no cache maintenance of guest pages is needed.
 */
#include <mm/s2_arch.h>
#include <arch/ept_flush.h>

bool ept_invept_ready;

void arch_s2_flush(struct s2pt *pt, const struct s2_flush_plan *plan)
{
	if (plan->kind == S2_FLUSH_NONE) {
		return;
	}
	/* Entry stores are ordered before INVEPT (x86 TSO, "memory"). */
	/*
	 * A secure VM's CPU walks the module's root, not this one: its
	 * shared-half translations are tagged with the module's EPTP, which
	 * the core does not name. Like KVM for TDX (ept_sync_global()),
	 * all contexts then.
	 */
	if (ept_invept_ready && (pt->flags & S2PT_F_SECURE)) {
		x86_invept(INVEPT_ALL_CONTEXTS, 0);
	} else if (ept_invept_ready) {
		x86_invept(INVEPT_SINGLE_CONTEXT, s2pt_root_desc(pt));
	}
	/* The other CPUs that may cache it (arch/x86/xflush.c). */
	if (ept_invept_ready) {
		x86_ept_remote_flush(pt);
	}
	pt->counters.barriers++;
}

void arch_s2_cmo(struct s2pt *pt, const struct s2_cmo_range *r,
		 unsigned int nr)
{
	/* Never asked for: EPT does not set S2_FMT_CMO. */
	(void)pt;
	(void)r;
	(void)nr;
}

unsigned int arch_s2_cpu_flags(void)
{
	return 0;
}
