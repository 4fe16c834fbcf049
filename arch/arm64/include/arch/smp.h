/* SPDX-License-Identifier: MIT */
/* Bringing up the secondary CPUs with PSCI CPU_ON (arch/arm64/smp.c). */
#ifndef STRATA_ARCH_SMP_H
#define STRATA_ARCH_SMP_H

/* Offsets in struct secondary_boot, for boot/arm64/head.S. */
#define SECONDARY_BOOT_STACK	0
#define SECONDARY_BOOT_TTBR	8

#ifndef __ASSEMBLY__
#include <types.h>

/* What a starting CPU needs before its MMU is on; read with the MMU off. */
struct secondary_boot {
	uint64_t stack_top;
	uint64_t ttbr;
	uint64_t index;		/* its pcpus[] index (Strata CPU number) */
	uint64_t mpidr;
	volatile uint64_t online;	/* set by the CPU once it runs C */
};

_Static_assert(__builtin_offsetof(struct secondary_boot, stack_top) ==
	       SECONDARY_BOOT_STACK, "secondary_boot layout");
_Static_assert(__builtin_offsetof(struct secondary_boot, ttbr) ==
	       SECONDARY_BOOT_TTBR, "secondary_boot layout");

/*
 * arch_start_cpus() (include/core/percpu.h) starts the other CPUs the DTB
 * lists, one at a time, and waits for each to report in. A CPU that fails
 * to start is reported and skipped.
 */

#endif
#endif
