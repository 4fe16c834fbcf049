/* SPDX-License-Identifier: MIT */
/* Intel EPT entry layout (SDM Vol. 3C, "EPT translation mechanism"). */
#ifndef STRATA_ARCH_X86_EPT_H
#define STRATA_ARCH_X86_EPT_H

#include <types.h>

#define EPT_R			BIT(0)
#define EPT_W			BIT(1)
#define EPT_X			BIT(2)
#define EPT_RWX			(EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT		3
#define EPT_MT_MASK		GENMASK(5, 3)
#define EPT_MT_UC		0ULL
#define EPT_MT_WB		6ULL
#define EPT_IGNORE_PAT		BIT(6)
#define EPT_LARGE		BIT(7)
#define EPT_PA_MASK		GENMASK(51, 12)
#define EPT_SUPPRESS_VE		BIT(63)
/*
 * A table entry's child count: bits 61:52 of a non-leaf entry are ignored by
 * the processor (bits 57/58/60/61 only have meanings in leaves).
 */
#define EPT_COUNT_SHIFT		52
#define EPT_COUNT_MASK		GENMASK(61, 52)
/* A table allocated for MMIO SPTEs: bit 62, ignored in non-leaf entries. */
#define EPT_TABLE_MMIO		BIT(62)
/* Software data of an invalid entry: bits 62:3 (bits 2:0 stay 0). */
#define EPT_SW_SHIFT		3
#define EPT_SW_BITS		60

/*
 * MMIO SPTE (DESIGN.md "Memslots and MMIO SPTEs"): recognised by RWX and
 * SUPPRESS_VE, for every VM. An ordinary or #VE VM's value is write without
 * read, an EPT misconfiguration whatever the other bits hold, with
 * SUPPRESS_VE clear (a misconfiguration exits to the hypervisor, it never
 * raises #VE). A secure VM's value is 0: not present with SUPPRESS_VE clear,
 * so the guest gets #VE (KVM's TDX value); its absent entries have
 * SUPPRESS_VE set, so they never match. The page address sits in the
 * address bits, the generation in bits 11:3 and 61:52 (include/mm/s2pt.h).
 */
#define EPT_MMIO_MASK		(EPT_RWX | EPT_SUPPRESS_VE)
#define EPT_MMIO_VALUE		(EPT_W | EPT_X)
#define EPT_MMIO_VALUE_SECURE	0ULL
#define EPT_MMIO_GPA_MASK	EPT_PA_MASK
#define EPT_MMIO_GEN_MASK	S2PT_MMIO_GEN_MASK

#define EPT_LEVELS		4
#define EPT_PA_BITS		52

/*
 * The levels whose entries may be leaves (bit 0: 4 KiB pages, bit 1: 2 MiB,
 * bit 2: 1 GiB), all three unless the CPU lacks the larger EPT pages
 * (vmx_report_optional() clears them at start-up, before any VM exists).
 */
extern unsigned int ept_block_levels;

/* EPTP: memory type WB, page-walk length - 1 in bits 5:3. */
#define EPTP_MT_WB		6ULL
#define EPTP_WALK_SHIFT		3

#endif
