/* SPDX-License-Identifier: MIT */
/* The EPT flush executor's state (arch/x86/ept_flush.c). */
#ifndef STRATA_ARCH_X86_EPT_FLUSH_H
#define STRATA_ARCH_X86_EPT_FLUSH_H

#include <types.h>

/*
 * Set by the VMX code once VMXON succeeded on this CPU. Before that INVEPT
 * would fault, and no EPT translation can be cached, so flushes are skipped.
 */
extern bool ept_invept_ready;

#define INVEPT_SINGLE_CONTEXT	1
#define INVEPT_ALL_CONTEXTS	2

/* INVEPT of @type (the descriptor's EPTP is used by single-context only). */
static inline void x86_invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp;
		uint64_t reserved;
	} desc = { eptp, 0 };

	__asm__ volatile("invept %0, %1"
			 : : "m"(desc), "r"(type) : "cc", "memory");
}

struct s2pt;

/*
 * Remote invalidation (arch/x86/xflush.c, docs/smp.md). After the local
 * INVEPT of a change of @pt: post it to every other CPU that may cache
 * @pt and wait for those in a guest to leave it.
 */
void x86_ept_remote_flush(struct s2pt *pt);
/* Before a guest entry on @pt from this CPU: note that it may cache @pt. */
void x86_ept_mark_cpu(struct s2pt *pt);
/* Right before VM entry (INVEPT if a flush is pending), right after exit. */
void x86_xflush_enter(void);
void x86_xflush_exit(void);
/* Pending flushes CPU @cpu executed. */
uint64_t x86_xflush_executed(unsigned int cpu);

#endif
