/* SPDX-License-Identifier: MIT */
/*
 * arm64 system registers: accessors and the fields Strata uses at EL2
 * (non-VHE, HCR_EL2.E2H = 0). Field positions are from the Arm ARM.
 */
#ifndef STRATA_ARCH_SYSREG_H
#define STRATA_ARCH_SYSREG_H

#ifndef __ASSEMBLY__
#include <types.h>
#endif

/* ID registers by encoding: older assemblers lack some of the names. */
#define SYS_ID_AA64PFR0_EL1	s3_0_c0_c4_0
#define SYS_ID_AA64PFR1_EL1	s3_0_c0_c4_1
#define SYS_ID_AA64ISAR0_EL1	s3_0_c0_c6_0
#define SYS_ID_AA64ISAR1_EL1	s3_0_c0_c6_1
#define SYS_ID_AA64ISAR2_EL1	s3_0_c0_c6_2
#define SYS_ID_AA64DFR0_EL1	s3_0_c0_c5_0
#define SYS_ID_AA64MMFR0_EL1	s3_0_c0_c7_0
#define SYS_ID_AA64MMFR1_EL1	s3_0_c0_c7_1
#define SYS_ID_AA64MMFR2_EL1	s3_0_c0_c7_2

/* SCTLR_EL2 (E2H = 0): RES1 bits, then the controls we set. */
#define SCTLR_EL2_RES1		0x30c50830
#define SCTLR_EL2_M		(1 << 0)
#define SCTLR_EL2_A		(1 << 1)
#define SCTLR_EL2_C		(1 << 2)
#define SCTLR_EL2_SA		(1 << 3)
#define SCTLR_EL2_I		(1 << 12)
#define SCTLR_EL2_ATA		(1UL << 43)	/* EL2 allocation tag access */

/* MTE's EL1 registers (FEAT_MTE2), switched per vCPU (arch/arm64/mte.c). */
#define SYS_RGSR_EL1		s3_0_c1_c0_5
#define SYS_GCR_EL1		s3_0_c1_c0_6
#define SYS_TFSR_EL1		s3_0_c5_c6_0
#define SYS_TFSRE0_EL1		s3_0_c5_c6_1

/* HCR_EL2 (boot: only RW; guests: see arch/arm64/vcpu.c). */
#define HCR_EL2_VM		(1 << 0)
#define HCR_EL2_SWIO		(1 << 1)
#define HCR_EL2_FMO		(1 << 3)
#define HCR_EL2_IMO		(1 << 4)
#define HCR_EL2_AMO		(1 << 5)
#define HCR_EL2_TWI		(1 << 13)
#define HCR_EL2_TWE		(1 << 14)
#define HCR_EL2_TID3		(1 << 18)
#define HCR_EL2_TSC		(1 << 19)
#define HCR_EL2_TTLB		(1 << 25)
#define HCR_EL2_RW		0x80000000
#define HCR_EL2_E2H		0x400000000
#define HCR_EL2_ATA		(1UL << 56)	/* EL1/EL0 allocation tags */
#define HCR_EL2_APK		0x10000000000
#define HCR_EL2_API		0x20000000000
#define HCR_EL2_FWB		0x400000000000

/* CNTHCTL_EL2 (E2H = 0): EL1 may read the physical counter / use the timer. */
#define CNTHCTL_EL1PCTEN	(1 << 0)
#define CNTHCTL_EL1PCEN		(1 << 1)

/* CNT*_CTL: enable, interrupt masked, condition met. */
#define CNT_CTL_ENABLE		(1 << 0)
#define CNT_CTL_IMASK		(1 << 1)
#define CNT_CTL_ISTATUS		(1 << 2)

/* EL2 timer and GICv3 CPU interface registers, by encoding. */
#define SYS_CNTHP_TVAL_EL2	s3_4_c14_c2_0
#define SYS_CNTHP_CTL_EL2	s3_4_c14_c2_1
#define SYS_CNTHP_CVAL_EL2	s3_4_c14_c2_2
#define SYS_ICC_PMR_EL1		s3_0_c4_c6_0
#define SYS_ICC_IAR1_EL1	s3_0_c12_c12_0
#define SYS_ICC_HPPIR1_EL1	s3_0_c12_c12_2
#define SYS_ICC_SGI1R_EL1	s3_0_c12_c11_5
#define SYS_ICC_EOIR1_EL1	s3_0_c12_c12_1
#define SYS_ICC_BPR1_EL1	s3_0_c12_c12_3
#define SYS_ICC_CTLR_EL1	s3_0_c12_c12_4
#define SYS_ICC_IGRPEN1_EL1	s3_0_c12_c12_7
#define SYS_ICC_IAR0_EL1	s3_0_c12_c8_0
#define SYS_ICC_EOIR0_EL1	s3_0_c12_c8_1
#define SYS_ICC_SRE_EL2		s3_4_c12_c9_5
#define SYS_ICH_HCR_EL2		s3_4_c12_c11_0
#define SYS_ICH_VMCR_EL2	s3_4_c12_c11_7

/* Pointer authentication keys (FEAT_PAuth), by encoding. */
#define SYS_APIAKEYLO_EL1	s3_0_c2_c1_0
#define SYS_APIAKEYHI_EL1	s3_0_c2_c1_1
#define SYS_APIBKEYLO_EL1	s3_0_c2_c1_2
#define SYS_APIBKEYHI_EL1	s3_0_c2_c1_3
#define SYS_APDAKEYLO_EL1	s3_0_c2_c2_0
#define SYS_APDAKEYHI_EL1	s3_0_c2_c2_1
#define SYS_APDBKEYLO_EL1	s3_0_c2_c2_2
#define SYS_APDBKEYHI_EL1	s3_0_c2_c2_3
#define SYS_APGAKEYLO_EL1	s3_0_c2_c3_0
#define SYS_APGAKEYHI_EL1	s3_0_c2_c3_1

/* CPTR_EL2 (E2H = 0): RES1 bits 13:12, 9:0 incl. TZ; TFP (10) clear. */
#define CPTR_EL2_DEFAULT	0x33ff
#define CPTR_EL2_TZ		(1 << 8)	/* trap SVE (at EL2 too) */

/* SVE's vector length controls: LEN, bits 3:0, is VL / 16 bytes - 1. */
#define SYS_ZCR_EL1		s3_0_c1_c2_0
#define SYS_ZCR_EL2		s3_4_c1_c2_0

/* MAIR_EL2 attribute indexes. */
#define MAIR_IDX_NORMAL		0	/* 0xff: write-back, RW-allocate */
#define MAIR_IDX_DEVICE		1	/* 0x04: Device-nGnRE */
#define MAIR_EL2_VALUE		0x04ff
/* ... with FEAT_MTE2: RAM is Tagged Normal write-back (0xf0), so that
 * Strata can clear a guest page's allocation tags (head.S, mte.c). */
#define MAIR_EL2_VALUE_MTE	0x04f0

/* TCR_EL2 (E2H = 0). */
#define TCR_EL2_RES1		0x80800000
#define TCR_EL2_T0SZ(bits)	(64 - (bits))
#define TCR_EL2_IRGN0_WBWA	(1 << 8)
#define TCR_EL2_ORGN0_WBWA	(1 << 10)
#define TCR_EL2_SH0_INNER	(3 << 12)
#define TCR_EL2_TG0_4K		(0 << 14)
#define TCR_EL2_PS_SHIFT	16

#define ESR_EC_SHIFT		26
#define ESR_EC_MASK		0x3f

#ifndef __ASSEMBLY__

#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

#define read_sysreg(r) ({						\
	uint64_t __v;							\
	__asm__ volatile("mrs %0, " __stringify(r) : "=r"(__v));	\
	__v;								\
})

#define write_sysreg(v, r) do {						\
	uint64_t __v = (uint64_t)(v);					\
	__asm__ volatile("msr " __stringify(r) ", %x0" : : "rZ"(__v));	\
} while (0)

#define isb()		__asm__ volatile("isb" : : : "memory")
#define dsb(opt)	__asm__ volatile("dsb " #opt : : : "memory")

/* A 4-bit ID register field. */
static inline unsigned int id_field(uint64_t reg, unsigned int shift)
{
	return (unsigned int)((reg >> shift) & 0xf);
}

static inline unsigned int current_el(void)
{
	return (unsigned int)((read_sysreg(CurrentEL) >> 2) & 3);
}

/* Physical address bits for an ID_AA64MMFR0_EL1.PARange value, 0 if unknown. */
static inline unsigned int parange_bits(unsigned int parange)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return parange < ARRAY_SIZE(bits) ? bits[parange] : 0;
}

#endif /* !__ASSEMBLY__ */
#endif
