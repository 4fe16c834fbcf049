/* SPDX-License-Identifier: MIT */
/* VMX capabilities as the capability MSRs report them, and VMXON. */
#ifndef STRATA_ARCH_VMX_H
#define STRATA_ARCH_VMX_H

#include <types.h>

/* IA32_VMX_BASIC */
#define VMX_BASIC_REVISION_MASK		GENMASK(30, 0)
#define VMX_BASIC_PA_32BIT		BIT(48)
#define VMX_BASIC_INSOUTS_INFO		BIT(54)	/* INS/OUTS exit information */
#define VMX_BASIC_TRUE_CTLS		BIT(55)

/* IA32_FEATURE_CONTROL */
#define FEATURE_CONTROL_LOCKED		BIT(0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX BIT(2)

/* Primary processor-based controls */
#define VMX_PROC_SECONDARY		BIT(31)

/* Secondary processor-based controls */
#define VMX_PROC2_EPT			BIT(1)
#define VMX_PROC2_RDTSCP		BIT(3)
#define VMX_PROC2_VPID			BIT(5)
#define VMX_PROC2_UNRESTRICTED		BIT(7)
#define VMX_PROC2_INVPCID		BIT(12)
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
#define VMX_VPID_INVVPID_SINGLE		BIT(41)
#define VMX_VPID_INVVPID_ALL		BIT(42)

#define INVVPID_SINGLE_CONTEXT		1
#define INVVPID_ALL_CONTEXTS		2

/* IA32_VMX_MISC */
#define VMX_MISC_PREEMPT_SHIFT_MASK	GENMASK(4, 0)

/*
 * The control MSRs (@pin, @proc, @proc2, @exit, @entry) are the raw values
 * of the TRUE capability MSRs where the CPU has them: bits 31:0 are the
 * allowed-0 settings (a 1 there means the control must be 1), bits 63:32
 * the allowed-1 settings (a 0 there means it must be 0).
 */
struct vmx_caps {
	bool present;			/* CPUID.1:ECX.VMX */
	uint64_t basic;
	uint64_t feature_control;
	uint32_t proc_allowed1;		/* primary controls allowed 1 */
	uint32_t proc2_allowed1;	/* secondary controls that may be 1 */
	uint64_t ept_vpid;		/* 0 when neither EPT nor VPID */
	uint64_t pin, proc, proc2, exit, entry;
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t vmfunc;		/* VM functions allowed (0x491) */
	uint32_t ucode_rev;		/* IA32_BIOS_SIGN_ID[63:32] */
};

/* VM-function controls: EPTP switching (VMFUNC leaf 0). */
#define VMX_VMFUNC_EPTP_SWITCHING	BIT(0)
#define VMX_EPTP_LIST_ENTRIES		512

/* The capabilities of this CPU, filled by arch_virt_init(). */
extern struct vmx_caps vmx_caps;

/*
 * Read the capability MSRs, touching only those that exist on this CPU
 * (RDMSR of an absent one faults).
 */
void vmx_read_caps(struct vmx_caps *c);

/*
 * A control field's value from the capability MSR @cap: every bit of @want
 * (the error names @what when one cannot be 1), the bits of @optional that
 * the CPU allows, and the bits the CPU forces to 1. Return: 0 or -ENODEV.
 */
int vmx_adjust_controls(const char *what, uint64_t cap, uint32_t want,
			uint32_t optional, uint32_t *out);

/*
 * Test builds: `x86_vmx_hide=NAME[,NAME...]` on the command line makes
 * vmx_read_caps() report those features absent, as a nested hypervisor
 * that hides them would (docs/x86-nested.md lists the names). Parses the
 * value of the word; a bad name is reported and ignored.
 */
void vmx_hide_parse(const char *v, size_t len);

/*
 * Print one line per optional VMX feature Strata uses that @c lacks, with
 * what Strata does without it, and set what depends on them (the largest
 * EPT block). Never fails: every optional feature has a fallback.
 */
void vmx_report_optional(const struct vmx_caps *c);

/* Allocate the MSR bitmap every VMCS shares (after VMXON). 0 or -ENOMEM. */
int vmx_msr_bitmap_init(void);

static inline bool vmx_has_proc2(const struct vmx_caps *c, uint32_t bit)
{
	return c->proc2_allowed1 & bit;
}

static inline bool vmx_has_ept_cap(const struct vmx_caps *c, uint64_t bit)
{
	return c->ept_vpid & bit;
}

#endif
