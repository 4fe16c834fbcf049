/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's MTRRs and its microcode signature register (SDM vol. 3
 * "Memory Type Range Registers", "Microcode Update Facilities"): the
 * registers a guest reads and writes; the memory type the CPU uses for the
 * guest is EPT's (docs/x86-lapic.md, "MTRRs").
 */
#ifndef STRATA_ARCH_X86_MTRR_H
#define STRATA_ARCH_X86_MTRR_H

#include <types.h>

#define MSR_IA32_BIOS_SIGN_ID		0x8b
#define MSR_IA32_MTRR_PHYSBASE0		0x200
#define MSR_IA32_MTRR_FIX64K_00000	0x250
#define MSR_IA32_MTRR_FIX16K_80000	0x258
#define MSR_IA32_MTRR_FIX16K_A0000	0x259
#define MSR_IA32_MTRR_FIX4K_C0000	0x268
#define MSR_IA32_MTRR_FIX4K_F8000	0x26f

#define MTRR_NR_VAR		8	/* MTRRcap.VCNT */
#define MTRR_NR_FIXED		11
#define MTRR_CAP_FIX		(1ULL << 8)
#define MTRR_CAP_WC		(1ULL << 10)
#define MTRR_DEF_FE		(1ULL << 10)
#define MTRR_DEF_E		(1ULL << 11)
#define MTRR_MASK_VALID		(1ULL << 11)
#define MTRR_UC			0
#define MTRR_WC			1
#define MTRR_WT			4
#define MTRR_WP			5
#define MTRR_WB			6

struct x86_mtrr {
	uint64_t def_type;		/* IA32_MTRR_DEF_TYPE */
	uint64_t fixed[MTRR_NR_FIXED];	/* 0x250, 0x258, 0x259, 0x268-0x26f */
	uint64_t base[MTRR_NR_VAR];	/* IA32_MTRR_PHYSBASEn */
	uint64_t mask[MTRR_NR_VAR];	/* IA32_MTRR_PHYSMASKn */
};

/* MAXPHYADDR: CPUID.80000008H:EAX[7:0], which guests see unchanged. */
unsigned int mtrr_maxphyaddr(void);

/*
 * The state firmware leaves at power-on: MTRRs on, write-back by default,
 * the legacy video hole 0xa0000-0xbffff and the MMIO window from
 * 0xfe000000 uncached; @maxphyaddr is the guest's CPUID.80000008H:EAX[7:0].
 */
void mtrr_power_on(struct x86_mtrr *m, unsigned int maxphyaddr);

/*
 * RDMSR / WRMSR of @msr when it is an MTRR of a CPU with MTRRs
 * (CPUID.1:EDX.MTRR, @has_mtrr). Return: 1 served (@val read or
 * written), 0 refused (#GP), -1 not an MTRR.
 */
int mtrr_msr_read(const struct x86_mtrr *m, bool has_mtrr,
		  uint32_t msr, uint64_t *val);
int mtrr_msr_write(struct x86_mtrr *m, bool has_mtrr,
		   unsigned int maxphyaddr, uint32_t msr, uint64_t val);

#endif
