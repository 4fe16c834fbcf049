// SPDX-License-Identifier: MIT
/*
 * EL2 stage-1 identity map (see arch/mmu.h). Descriptor format: VMSAv8-64,
 * 4 KiB granule, stage 1 of the EL2 (single VA range) regime.
 */
#include <arch/mmu.h>
#include <arch/sysreg.h>
#include <lib/errno.h>

#define PT_ENTRIES	512
#define PT_POOL_PAGES	32
#define PT_LEVELS	4

#define DESC_VALID	BIT(0)
#define DESC_TABLE	(BIT(1) | BIT(0))	/* levels 0-2 */
#define DESC_PAGE	(BIT(1) | BIT(0))	/* level 3 */
#define DESC_BLOCK	BIT(0)			/* levels 1-2 */
#define DESC_TYPE_MASK	(BIT(1) | BIT(0))
#define DESC_ATTRIDX(i)	((uint64_t)(i) << 2)
#define DESC_SH_INNER	(3ULL << 8)
#define DESC_AF		BIT(10)
#define DESC_XN		BIT(54)
#define DESC_ADDR_MASK	GENMASK(47, 12)

static uint64_t pt_pool[PT_POOL_PAGES][PT_ENTRIES] __aligned(PAGE_SIZE);
static unsigned int pt_used;

static unsigned int level_shift(int level)
{
	return 39 - 9 * level;
}

static uint64_t *pt_alloc(void)
{
	if (pt_used == PT_POOL_PAGES) {
		return NULL;
	}
	/* The pool is in BSS, which the entry code cleared. */
	return pt_pool[pt_used++];
}

static uint64_t leaf_attrs(enum el2_mem type)
{
	if (type == EL2_MEM_DEVICE) {
		return DESC_ATTRIDX(MAIR_IDX_DEVICE) | DESC_AF | DESC_XN;
	}
	return DESC_ATTRIDX(MAIR_IDX_NORMAL) | DESC_SH_INNER | DESC_AF;
}

static bool is_table(uint64_t desc, int level)
{
	return level < 3 && (desc & DESC_TYPE_MASK) == DESC_TABLE;
}

static int map_level(uint64_t *table, int level, uint64_t va, uint64_t end,
		     uint64_t attrs);

static int map_leaf(uint64_t *entry, int level, uint64_t va, uint64_t attrs)
{
	uint64_t desc = va | attrs | (level == 3 ? DESC_PAGE : DESC_BLOCK);

	if (*entry & DESC_VALID) {
		return *entry == desc ? 0 : -EEXIST;
	}
	*entry = desc;
	return 0;
}

static int map_table(uint64_t *entry, int level, uint64_t va, uint64_t end,
		     uint64_t attrs)
{
	uint64_t *next;

	if ((*entry & DESC_VALID) && !is_table(*entry, level)) {
		/* A block already covers this part: fine if it is the same. */
		return (*entry & ~DESC_ADDR_MASK & ~DESC_TYPE_MASK) == attrs ?
		       0 : -EEXIST;
	}
	if (!(*entry & DESC_VALID)) {
		next = pt_alloc();
		if (!next) {
			return -ENOMEM;
		}
		/* The zeroed table must be visible before the walker can
		 * reach it through the new descriptor. */
		dsb(ishst);
		*entry = (paddr_t)next | DESC_TABLE;
	}
	next = (uint64_t *)(uintptr_t)(*entry & DESC_ADDR_MASK);
	return map_level(next, level + 1, va, end, attrs);
}

static int map_level(uint64_t *table, int level, uint64_t va, uint64_t end,
		     uint64_t attrs)
{
	uint64_t bsize = 1ULL << level_shift(level);
	int ret = 0;

	while (va < end && !ret) {
		uint64_t next = MIN(ALIGN_DOWN(va, bsize) + bsize, end);
		uint64_t *entry = &table[(va >> level_shift(level)) &
					 (PT_ENTRIES - 1)];
		bool whole = IS_ALIGNED(va, bsize) && next - va == bsize;

		if (level == 3 ||
		    (level > 0 && whole && !is_table(*entry, level))) {
			ret = map_leaf(entry, level, va, attrs);
		} else {
			ret = map_table(entry, level, va, next, attrs);
		}
		va = next;
	}
	return ret;
}

static uint64_t *root_table(void)
{
	static uint64_t *root;

	if (!root) {
		root = pt_alloc();
	}
	return root;
}

int el2_map(paddr_t base, uint64_t size, enum el2_mem type)
{
	uint64_t start = ALIGN_DOWN(base, PAGE_SIZE);
	uint64_t end = ALIGN_UP(base + size, PAGE_SIZE);
	uint64_t *root = root_table();
	int ret;

	if (!size) {
		return 0;
	}
	if (end <= start || end > EL2_VA_LIMIT) {
		return -EINVAL;
	}
	if (!root) {
		return -ENOMEM;
	}
	ret = map_level(root, 0, start, end, leaf_attrs(type));
	dsb(ishst);
	isb();
	return ret;
}

paddr_t el2_root(void)
{
	return (paddr_t)(uintptr_t)root_table();
}

unsigned int el2_tables_used(void)
{
	return pt_used;
}
