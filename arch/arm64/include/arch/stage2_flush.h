/* SPDX-License-Identifier: MIT */
/* The arm64 stage-2 flush executor (arch/arm64/stage2_flush.c). */
#ifndef STRATA_ARCH_ARM64_STAGE2_FLUSH_H
#define STRATA_ARCH_ARM64_STAGE2_FLUSH_H

#include <types.h>

/* ID_AA64ISAR0_EL1.TLB (bits 59:56) == 2: FEAT_TLBIRANGE. */
#define ID_AA64ISAR0_TLB_SHIFT	56
#define ID_AA64ISAR0_TLB_RANGE	2
/* ID_AA64MMFR2_EL1.FWB (bits 43:40) != 0: FEAT_S2FWB. */
#define ID_AA64MMFR2_FWB_SHIFT	40

/* TLBI RIPAS2E1IS operand fields (4 KiB granule). */
#define TLBIR_TG_4K		(1ULL << 46)
#define TLBIR_SCALE_SHIFT	44
#define TLBIR_NUM_SHIFT		39
#define TLBIR_BADDR_MASK	GENMASK(36, 0)
/* Most pages one range instruction sequence can cover (scales 0..3). */
#define TLBIR_MAX_PAGES		((1ULL << 21) - 1)

/*
 * Encode the range instructions covering @pages pages from @ipa into @ops
 * (at most 5: an odd first page as a per-IPA TLBI, marked with bit 63, then
 * one per scale). Returns the number of operands.
 */
unsigned int stage2_tlbi_range_ops(uint64_t ipa, uint64_t pages,
				   uint64_t ops[5]);

#endif
