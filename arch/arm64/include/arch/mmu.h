/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's own EL2 stage-1 translation: an identity map (virtual ==
 * physical) of RAM as normal write-back memory and of the devices Strata
 * touches as Device-nGnRE. 4 KiB granule, 48-bit addresses, four levels;
 * table pages come from a fixed pool in BSS, so this works before the page
 * allocator exists.
 */
#ifndef STRATA_ARCH_MMU_H
#define STRATA_ARCH_MMU_H

#include <types.h>

enum el2_mem {
	EL2_MEM_NORMAL,		/* RAM: write-back, inner shareable */
	EL2_MEM_DEVICE,		/* MMIO: Device-nGnRE, not executable */
};

/* Highest address + 1 the identity map can cover (48-bit VA). */
#define EL2_VA_LIMIT	BIT(48)

/*
 * Identity map [base, base + size), widened to whole pages, with @type.
 * Uses 1 GiB and 2 MiB blocks where alignment allows. Only ever fills
 * invalid entries, so it is safe on the live tables: a range that is already
 * mapped with the same type is accepted as is. Returns 0, -EINVAL for a range
 * beyond EL2_VA_LIMIT, -EEXIST when part of the range is mapped with another
 * type (that would need break-before-make on a live mapping), or -ENOMEM
 * when the table pool is exhausted. After an error the part of the range
 * before the failure may stay mapped (only boot code maps, and it stops or
 * leaves the range unused).
 */
int el2_map(paddr_t base, uint64_t size, enum el2_mem type);

/* The TTBR0_EL2 value: the root table's address. */
paddr_t el2_root(void);

/* Table pages used out of the pool, for the boot report. */
unsigned int el2_tables_used(void);

#endif
