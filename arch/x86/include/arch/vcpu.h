/* SPDX-License-Identifier: MIT */
/* The x86-64 part of a vCPU and a VM (embedded in include/vmm/vm.h). */
#ifndef STRATA_ARCH_X86_VCPU_H
#define STRATA_ARCH_X86_VCPU_H

#include <types.h>

struct s2_root;

/* MSRs VMX does not switch that a guest may own (loaded while it runs). */
enum x86_guest_msr {
	GUEST_MSR_STAR,
	GUEST_MSR_LSTAR,
	GUEST_MSR_CSTAR,
	GUEST_MSR_SFMASK,
	GUEST_MSR_KERNEL_GS_BASE,
	GUEST_MSR_NR,
};

/*
 * Guest general registers in encoding order (RAX=0 ... R15=15, see
 * arch/x86_decode.h); RSP (4) mirrors the VMCS guest RSP around exits.
 * Between slices the registers VMX does not switch are kept here: CR2,
 * DR0-DR3 and DR6, the MSRs of enum x86_guest_msr, and the x87/SSE state
 * (@fxsave, an FXSAVE image).
 */
struct arch_vcpu {
	uint64_t gprs[16];
	paddr_t vmcs;		/* this vCPU's VMCS page (0 before init) */
	bool launched;		/* VMLAUNCH done since the last VMCLEAR */
	uint64_t cr8;		/* the guest's TPR (CR8 accesses exit) */
	uint64_t cr2;
	uint64_t dr[4];
	uint64_t dr6;
	uint64_t msrs[GUEST_MSR_NR];
	unsigned int storm;	/* exits in a row that injected an exception */
	uint64_t eptp;		/* EPT pointer in the VMCS (0: none yet) */
	/*
	 * VM functions (arch/x86/vmx_views.c): the EPTP list page, the root
	 * of each entry (a reference held on each: every entry is live
	 * without an exit), and the views generation it was built for.
	 */
	uint64_t *eptp_list;
	struct s2_root *eptp_roots[8];
	uint64_t eptp_gen;
	uint8_t fxsave[512] __aligned(16);
};

/*
 * @boot_info: start of the area Strata set aside in guest RAM (page tables,
 *	GDT, stack, multiboot information), 0 if none.
 * @boot_size: bytes reserved at @boot_info.
 * @cr3: the 64-bit boot page tables (PML4), 0 for 32-bit guests.
 * @gdt: the guest's boot GDT (0x08 code, 0x10 data).
 * @stack_top: initial RSP of a 64-bit guest.
 * @mbi: the multiboot information structure (multiboot guests).
 * @ve_info: GPA of the #VE information page (0 when #VE is off).
 * @refusals: refused guest actions reported on the console so far (capped).
 */
struct arch_vm {
	gpa_t boot_info;
	uint64_t boot_size;
	gpa_t cr3;
	gpa_t gdt;
	gpa_t stack_top;
	gpa_t mbi;
	gpa_t ve_info;
	unsigned int refusals;
};

#endif
