// SPDX-License-Identifier: MIT
/*
 * s2pt_collapse(): replace a table by a block where the block translates
 * every address exactly as the subtree does. Largest blocks first: the walker
 * offers each table entry before its children (TABLE_PRE).
 */
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct collapse_data {
	gpa_t gpa;
	int made;
};

struct uniform {
	paddr_t pa;		/* expected output of the next leaf */
	unsigned int prot;
	bool first;
};

/* Whether a subtree maps its whole range contiguously with one prot. */
static bool subtree_uniform(const struct s2pt *pt, paddr_t table,
			    unsigned int level, struct uniform *u)
{
	const s2pte_t *t = s2_table_va(table);

	for (unsigned int i = 0; i < S2_PTRS_PER_TABLE; i++) {
		enum s2_pte_kind k = s2_kind(t[i], level);

		if (k == S2_PTE_TABLE && level > 0) {
			if (!subtree_uniform(pt, s2_table_pa(t[i]), level - 1,
					     u)) {
				return false;
			}
			continue;
		}
		if (k != S2_PTE_LEAF) {
			return false;
		}
		if (u->first) {
			u->first = false;
			u->pa = arch_s2_pte_pa(t[i], level);
			u->prot = arch_s2_pte_prot(pt, t[i]);
		}
		if (arch_s2_pte_pa(t[i], level) != u->pa ||
		    arch_s2_pte_prot(pt, t[i]) != u->prot) {
			return false;
		}
		u->pa += S2_LEVEL_SIZE(level);
	}
	return true;
}

static int collapse_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct collapse_data *d = ctx->arg;
	struct s2pt *pt = ctx->pt;
	uint64_t size = S2_LEVEL_SIZE(ctx->level);
	paddr_t table = s2_table_pa(ctx->old);
	struct uniform u = { .first = true };
	paddr_t base;

	(void)visit;
	if (!s2_level_has_blocks(pt, ctx->level) ||
	    !s2_entry_inside(ctx, d->gpa) ||
	    !subtree_uniform(pt, table, ctx->level - 1, &u)) {
		return 0;
	}
	base = u.pa - size;
	if (!IS_ALIGNED(base, size)) {
		return 0;
	}
	/*
	 * Table to block (s2_walk_replace()): the walk caches may hold the
	 * subtree until it is invalidated (at once on stage-2, by the plan on
	 * EPT), so its pages are freed after the plan.
	 */
	s2_walk_replace(ctx, arch_s2_make_leaf(pt, base, u.prot, ctx->level));
	s2_defer_free(pt, table, ctx->level - 1, false);
	d->made++;
	return 0;
}

int s2pt_collapse(struct s2pt *pt, gpa_t gpa, uint64_t size)
{
	struct collapse_data d = { .gpa = gpa };
	struct s2_walker w = {
		.cb = collapse_walker, .arg = &d, .flags = S2_WALK_TABLE_PRE,
	};
	int ret;

	ret = s2_check_range(pt, gpa, size);
	if (ret) {
		return ret;
	}
	ret = s2pt_walk(pt, gpa, size, &w);
	s2_plan_commit(pt);
	s2_op_done(pt, "collapse");
	return ret ? ret : d.made;
}
