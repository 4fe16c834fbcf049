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

#endif
