// SPDX-License-Identifier: MIT
/*
 * s2pt_map(): fill absent entries with the largest leaves the alignment
 * allows. A first walk checks for overlaps and counts the table pages the
 * change needs; they are reserved; a second walk writes.
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct map_data {
	gpa_t gpa;
	gpa_t end;
	paddr_t pa;
	unsigned int prot;
	unsigned long pages;		/* counting walk: pages needed */
	struct s2_page_cache cache;	/* writing walk */
};

/* Whether [addr, addr + size(level)) can be one leaf of this mapping. */
static bool map_block_fits(const struct s2pt *pt, const struct map_data *m,
			   gpa_t addr, unsigned int level)
{
	uint64_t size = S2_LEVEL_SIZE(level);

	if (!s2_level_has_blocks(pt, level)) {
		return false;
	}
	if (addr < m->gpa || addr + size > m->end) {
		return false;
	}
	return IS_ALIGNED(m->pa + (addr - m->gpa), size);
}

/*
 * Tables a fresh subtree needs below an absent entry at @level at @addr:
 * one for the entry, plus those of its children that cannot be leaves.
 */
static unsigned long map_fresh_tables(const struct s2pt *pt,
				      const struct map_data *m, gpa_t addr,
				      unsigned int level)
{
	uint64_t csize = S2_LEVEL_SIZE(level - 1);
	gpa_t from = MAX(addr, ALIGN_DOWN(m->gpa, csize));
	gpa_t to = MIN(addr + S2_LEVEL_SIZE(level), m->end);
	unsigned long n = 1;

	if (level - 1 == 0) {
		return n;
	}
	for (gpa_t a = from; a < to; a += csize) {
		if (!map_block_fits(pt, m, a, level - 1)) {
			n += map_fresh_tables(pt, m, a, level - 1);
		}
	}
	return n;
}

static int map_count_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct map_data *m = ctx->arg;

	(void)visit;
	if (s2_kind(ctx->pt, ctx->old, ctx->level) != S2_PTE_ABSENT) {
		return -EEXIST;
	}
	if (!map_block_fits(ctx->pt, m, ctx->addr, ctx->level)) {
		m->pages += map_fresh_tables(ctx->pt, m, ctx->addr, ctx->level);
	}
	return 0;
}

static int map_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct map_data *m = ctx->arg;
	struct s2pt *pt = ctx->pt;
	paddr_t table;

	(void)visit;
	if (map_block_fits(pt, m, ctx->addr, ctx->level)) {
		paddr_t pa = m->pa + (ctx->addr - m->gpa);
		unsigned int level = ctx->level;

		s2_walk_set(ctx, arch_s2_make_leaf(pt, pa, m->prot, level));
		return 0;
	}
	/* The walker descends into the new table. */
	table = s2_cache_take(pt, &m->cache);
	if (WARN_ON_ONCE(!table)) {
		return -EIO;	/* fewer pages than counted: a core bug */
	}
	s2_walk_set(ctx, arch_s2_make_table(pt, table, 0));
	return 0;
}

static int map_check(const struct s2pt *pt, gpa_t gpa, paddr_t pa,
		     uint64_t size, unsigned int prot)
{
	int ret = s2_check_range(pt, gpa, size);

	if (ret) {
		return ret;
	}
	if (!IS_ALIGNED(pa, PAGE_SIZE) || !arch_s2_prot_valid(prot)) {
		return -EINVAL;
	}
	if (pa + size < pa || pa + size > (1ULL << arch_s2_pa_bits())) {
		return -ERANGE;
	}
	return 0;
}

int s2pt_map(struct s2pt *pt, gpa_t gpa, paddr_t pa, uint64_t size,
	     unsigned int prot)
{
	struct map_data m = {
		.gpa = gpa, .end = gpa + size, .pa = pa, .prot = prot,
	};
	struct s2_walker count = {
		.cb = map_count_walker, .arg = &m, .flags = S2_WALK_LEAF,
	};
	struct s2_walker write = {
		.cb = map_walker, .arg = &m, .flags = S2_WALK_LEAF,
	};
	int ret;

	ret = map_check(pt, gpa, pa, size, prot);
	if (ret) {
		return ret;
	}
	s2_assert_write(pt);
	if (pt->ext) {
		return s2_mirror_map(pt, gpa, pa, size, prot);
	}
	return s2_count_reserve_write(pt, gpa, size, &count, &write, &m.pages,
				      &m.cache, "map");
}
