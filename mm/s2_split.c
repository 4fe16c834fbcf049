// SPDX-License-Identifier: MIT
/*
 * s2pt_split(): replace blocks by tables of smaller leaves with the same
 * translation, through s2_walk_replace() (break-before-make where the format
 * needs it), pages reserved first. Also splits the blocks that straddle the
 * ends of an unmap or protect range; their invalidation then joins that
 * operation's plan on EPT.
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct split_data {
	gpa_t gpa;
	gpa_t end;
	unsigned int level;		/* target leaf level */
	unsigned long pages;		/* counting walk */
	struct s2_page_cache *cache;	/* writing walk */
};

/* Tables needed to split a block at @level at @addr down to the target. */
static unsigned long split_tables(const struct split_data *s, gpa_t addr,
				  unsigned int level)
{
	uint64_t csize = S2_LEVEL_SIZE(level - 1);
	gpa_t from = MAX(addr, ALIGN_DOWN(s->gpa, csize));
	gpa_t to = MIN(addr + S2_LEVEL_SIZE(level), s->end);
	unsigned long n = 1;

	if (level - 1 <= s->level) {
		return n;
	}
	for (gpa_t a = from; a < to; a += csize) {
		n += split_tables(s, a, level - 1);
	}
	return n;
}

static int split_count_walker(struct s2_walk_ctx *ctx,
			      enum s2_walk_visit visit)
{
	struct split_data *s = ctx->arg;

	(void)visit;
	if (s2_kind(ctx->pt, ctx->old, ctx->level) == S2_PTE_LEAF &&
	    ctx->level > s->level) {
		s->pages += split_tables(s, ctx->addr, ctx->level);
	}
	return 0;
}

/* A new table holding the block's translation as 512 smaller leaves. */
static paddr_t split_make_table(struct s2_walk_ctx *ctx,
				struct s2_page_cache *c)
{
	struct s2pt *pt = ctx->pt;
	unsigned int clevel = ctx->level - 1;
	paddr_t pa = arch_s2_pte_pa(ctx->old, ctx->level);
	unsigned int prot = arch_s2_pte_prot(pt, ctx->old);
	paddr_t table = s2_cache_take(pt, c);
	s2pte_t *t = s2_table_va(table);

	if (!table) {
		return 0;
	}
	/* Not linked yet: nothing can walk it, plain stores are enough. */
	for (unsigned int i = 0; i < S2_PTRS_PER_TABLE; i++) {
		t[i] = arch_s2_make_leaf(pt, pa + i * S2_LEVEL_SIZE(clevel),
					 prot, clevel);
	}
	return table;
}

static int split_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct split_data *s = ctx->arg;
	paddr_t table;

	(void)visit;
	if (s2_kind(ctx->pt, ctx->old, ctx->level) != S2_PTE_LEAF ||
	    ctx->level <= s->level) {
		return 0;
	}
	table = split_make_table(ctx, s->cache);
	if (WARN_ON_ONCE(!table)) {
		return -EIO;	/* fewer pages than counted: a core bug */
	}
	/* Block to table (s2_walk_replace()); the walker then descends. */
	s2_walk_replace(ctx, arch_s2_make_table(ctx->pt, table,
						S2_PTRS_PER_TABLE));
	return 0;
}

int s2_split_count(struct s2pt *pt, gpa_t gpa, uint64_t size,
		   unsigned int level, unsigned long *pages)
{
	struct split_data s = { .gpa = gpa, .end = gpa + size, .level = level };
	struct s2_walker w = {
		.cb = split_count_walker, .arg = &s, .flags = S2_WALK_LEAF,
	};
	int ret = s2pt_walk(pt, gpa, size, &w);

	*pages += s.pages;
	return ret;
}

int s2_split_commit(struct s2_op *op, gpa_t gpa, uint64_t size,
		    unsigned int level, struct s2_page_cache *c)
{
	struct split_data s = {
		.gpa = gpa, .end = gpa + size, .level = level, .cache = c,
	};
	struct s2_walker w = {
		.cb = split_walker, .arg = &s, .flags = S2_WALK_LEAF, .op = op,
	};

	return s2pt_walk(op->pt, gpa, size, &w);
}

int s2pt_split(struct s2pt *pt, gpa_t gpa, uint64_t size, unsigned int level)
{
	struct s2_page_cache c;
	struct s2_op op;
	unsigned long pages = 0;
	int ret;

	ret = s2_check_range(pt, gpa, size);
	if (ret) {
		return ret;
	}
	if (level >= pt->fmt.levels) {
		return -EINVAL;
	}
	s2_assert_write(pt);
	if (pt->ext) {
		return s2_mirror_refuse(pt);	/* no DEMOTE */
	}
	s2_split_count(pt, gpa, size, level, &pages);
	ret = s2_cache_reserve(pt, &c, pages);
	if (ret) {
		return ret;
	}
	s2_op_init(&op, pt);
	ret = s2_split_commit(&op, gpa, size, level, &c);
	s2_cache_release(pt, &c);
	/* EPT: the replaced blocks, invalidated once. */
	s2_plan_commit(&op);
	s2_op_done(pt, "split");
	return ret;
}

/* The level a block must be split to so that @b is one of its ends. */
static unsigned int split_edge_level(gpa_t b)
{
	unsigned int level = 0;

	while (level < S2_MAX_LEVELS - 1 &&
	       IS_ALIGNED(b, S2_LEVEL_SIZE(level + 1))) {
		level++;
	}
	return level;
}

static bool split_edge_needed(const struct s2pt *pt, gpa_t b)
{
	return b && b < (1ULL << pt->fmt.ia_bits) &&
	       split_edge_level(b) < S2_MAX_LEVELS - 2;
}

int s2_split_edges(struct s2_op *op, gpa_t gpa, uint64_t size)
{
	struct s2pt *pt = op->pt;
	gpa_t edge[2] = { gpa, gpa + size };
	struct s2_page_cache c;
	unsigned long pages = 0;
	int ret;

	for (int i = 0; i < 2; i++) {
		if (split_edge_needed(pt, edge[i])) {
			s2_split_count(pt, edge[i], PAGE_SIZE,
				       split_edge_level(edge[i]), &pages);
		}
	}
	if (!pages) {
		return 0;
	}
	ret = s2_cache_reserve(pt, &c, pages);
	if (ret) {
		return ret;
	}
	for (int i = 0; i < 2; i++) {
		if (split_edge_needed(pt, edge[i])) {
			s2_split_commit(op, edge[i], PAGE_SIZE,
					split_edge_level(edge[i]), &c);
		}
	}
	s2_cache_release(pt, &c);
	return 0;
}
