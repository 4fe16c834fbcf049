/* SPDX-License-Identifier: MIT */
/* The x86-64 part of a vCPU and a VM (embedded in include/vmm/vm.h). */
#ifndef STRATA_ARCH_X86_VCPU_H
#define STRATA_ARCH_X86_VCPU_H

#include <types.h>

/*
 * Guest general registers in encoding order (RAX=0 ... R15=15, see
 * arch/x86_decode.h); RSP (4) mirrors the VMCS guest RSP around exits.
 */
struct arch_vcpu {
	uint64_t gprs[16];
	paddr_t vmcs;		/* this vCPU's VMCS page (0 before init) */
};

struct arch_vm {
	gpa_t boot_info;	/* multiboot info / boot page tables, 0 if none */
};

#endif
