/* SPDX-License-Identifier: MIT */
/* VMX capabilities as the capability MSRs report them, and VMXON. */
#ifndef STRATA_ARCH_VMX_H
#define STRATA_ARCH_VMX_H

#include <types.h>

/* IA32_VMX_BASIC */
#define VMX_BASIC_REVISION_MASK		GENMASK(30, 0)
#define VMX_BASIC_PA_32BIT		BIT(48)
#define VMX_BASIC_TRUE_CTLS		BIT(55)

/* IA32_FEATURE_CONTROL */
#define FEATURE_CONTROL_LOCKED		BIT(0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX BIT(2)

/* Primary processor-based controls */
#define VMX_PROC_SECONDARY		BIT(31)

/* Secondary processor-based controls */
#define VMX_PROC2_EPT			BIT(1)
#define VMX_PROC2_VPID			BIT(5)
#define VMX_PROC2_UNRESTRICTED		BIT(7)
#define VMX_PROC2_VMFUNC		BIT(13)
#define VMX_PROC2_PML			BIT(17)
#define VMX_PROC2_EPT_VE		BIT(18)

/* IA32_VMX_EPT_VPID_CAP */
#define VMX_EPT_EXECUTE_ONLY		BIT(0)
#define VMX_EPT_WALK_4			BIT(6)
#define VMX_EPT_WB			BIT(14)
#define VMX_EPT_2M			BIT(16)
#define VMX_EPT_1G			BIT(17)
#define VMX_EPT_INVEPT			BIT(20)
#define VMX_EPT_AD			BIT(21)
#define VMX_EPT_INVEPT_SINGLE		BIT(25)
#define VMX_EPT_INVEPT_ALL		BIT(26)
#define VMX_VPID_INVVPID		BIT(32)

struct vmx_caps {
	bool present;			/* CPUID.1:ECX.VMX */
	uint64_t basic;
	uint64_t feature_control;
	uint32_t proc_allowed1;		/* primary controls allowed 1 */
	uint32_t proc2_allowed1;	/* secondary controls that may be 1 */
	uint64_t ept_vpid;		/* 0 when neither EPT nor VPID */
};

/*
 * Read the capability MSRs, touching only those that exist on this CPU
 * (RDMSR of an absent one faults).
 */
void vmx_read_caps(struct vmx_caps *c);

static inline bool vmx_has_proc2(const struct vmx_caps *c, uint32_t bit)
{
	return c->proc2_allowed1 & bit;
}

static inline bool vmx_has_ept_cap(const struct vmx_caps *c, uint64_t bit)
{
	return c->ept_vpid & bit;
}

#endif
