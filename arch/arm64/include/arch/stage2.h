/* SPDX-License-Identifier: MIT */
/*
 * VMSAv8-64 stage-2 descriptor layout, 4 KiB granule (Arm ARM D8, "Stage 2
 * translation table descriptors").
 */
#ifndef STRATA_ARCH_ARM64_STAGE2_H
#define STRATA_ARCH_ARM64_STAGE2_H

#include <types.h>

struct s2pt;

#define S2_DESC_VALID		BIT(0)
#define S2_DESC_TABLE		BIT(1)	/* table, or page at the last level */
#define S2_DESC_TYPE_MASK	GENMASK(1, 0)
#define S2_DESC_BLOCK		1ULL
#define S2_DESC_PAGE		3ULL
#define S2_MEMATTR_SHIFT	2
#define S2_MEMATTR_MASK		GENMASK(5, 2)
#define S2_MEMATTR_NORMAL	0xfULL	/* outer and inner write-back */
#define S2_MEMATTR_DEVICE	0x1ULL	/* Device-nGnRE */
#define S2_MEMATTR_FWB_NORMAL	0x6ULL	/* FWB: forced write-back */
#define S2_MEMATTR_FWB_DEVICE	0x1ULL	/* FWB: Device-nGnRE */
#define S2_AP_R			BIT(6)
#define S2_AP_W			BIT(7)
#define S2_SH_SHIFT		8
#define S2_SH_IS		3ULL
#define S2_AF			BIT(10)
#define S2_PA_MASK		GENMASK(47, 12)
#define S2_XN			BIT(54)	/* XN[1]: no execution at EL1/EL0 */
/*
 * A table descriptor's child count: bits 11:2 of a stage-2 table descriptor
 * are ignored by the walker (VTCR_EL2.HAFT is never set).
 */
#define S2_COUNT_SHIFT		2
#define S2_COUNT_MASK		GENMASK(11, 2)
/* A table allocated for MMIO SPTEs: bit 58, ignored in table descriptors. */
#define S2_TABLE_MMIO		BIT(58)
/* Software data of an invalid descriptor: bits 63:1. */
#define S2_SW_SHIFT		1
#define S2_SW_BITS		63

/*
 * MMIO SPTE (DESIGN.md "Memslots and MMIO SPTEs"): an invalid descriptor
 * (bit 0 clear, bits 63:1 ignored by the walker) recognised by bits 2:0 and
 * 63 holding 0b110, the same mask and value as EPT. The page address sits in
 * the output-address bits, the generation in bits 11:3 and 61:52
 * (include/mm/s2pt.h). Software data of
 * other invalid entries must not match (arch_s2_make_sw() data with bits 1:0
 * set and bit 62 clear is reserved for MMIO SPTEs).
 */
#define S2_MMIO_MASK		(GENMASK(2, 0) | BIT(63))
#define S2_MMIO_VALUE		(BIT(2) | BIT(1))
#define S2_MMIO_GPA_MASK	S2_PA_MASK
#define S2_MMIO_GEN_MASK	S2PT_MMIO_GEN_MASK

#define S2_PA_BITS		48

/* VTCR_EL2 for @pt with physical address size code @ps (PARange). */
uint64_t stage2_vtcr(const struct s2pt *pt, unsigned int ps);

#endif
