/* SPDX-License-Identifier: MIT */
/* The arm64 part of a vCPU and a VM (embedded in include/vmm/vm.h). */
#ifndef STRATA_ARCH_ARM64_VCPU_H
#define STRATA_ARCH_ARM64_VCPU_H

#include <types.h>

/* Guest state saved while the vCPU is not running. */
struct arch_vcpu {
	uint64_t x[31];		/* general registers */
	uint64_t sp_el1;
	uint64_t elr_el2;	/* guest PC */
	uint64_t spsr_el2;	/* guest PSTATE */
};

struct arch_vm {
	gpa_t dtb_gpa;		/* the generated DTB, passed in x0 */
	uint64_t dtb_size;
};

#endif
