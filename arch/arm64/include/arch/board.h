/* SPDX-License-Identifier: MIT */
/*
 * What the arm64 boot code learned about the machine beyond struct platform:
 * where the Image really runs and what the DTB says about the interrupt
 * controller. Filled by boot/arm64/start.c before strata_main().
 */
#ifndef STRATA_ARCH_BOARD_H
#define STRATA_ARCH_BOARD_H

#include <types.h>

#define ARM64_MAX_CPUS	8

struct arm64_board {
	paddr_t load_addr;	/* where the loader put the Image */
	paddr_t link_addr;	/* where it was linked */
	paddr_t dtb;
	unsigned int gic_version;	/* from the DTB: 3, 2, or 0 (none) */
	paddr_t gic_dist;
	paddr_t gic_redist;	/* GICv3: first redistributor region */
	paddr_t gic_cpu;	/* GICv2: GICC */
	paddr_t gic_hyp;	/* GICv2: GICH, 0 without virtualization */
	paddr_t gic_vcpu;	/* GICv2: GICV, 0 without virtualization */
	unsigned int gic_maint_intid;	/* GICv2: maintenance INTID or 0 */
	unsigned int nr_cpus;	/* PSCI-enabled CPUs in the DTB */
	uint64_t cpu_mpidr[ARM64_MAX_CPUS];
};

extern struct arm64_board arm64_board;

#endif
