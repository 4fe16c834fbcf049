// SPDX-License-Identifier: MIT
/*
 * s2pt_collapse(): replace a table by a block where the block translates
 * every address exactly as the subtree does. Largest blocks first: the walker
 * offers each table entry before its children (TABLE_PRE).
 *
 * EPT (S2_FMT_NO_BBM) writes each block over its table at once and the
 * operation's one plan invalidates them all. Formats that need
 * break-before-make would pay one invalidation per block if each were
 * broken and made in turn; instead every collapsible table entry is first
 * BROKEN into a collapse marker (an invalid entry, so the hardware never
 * uses it, holding the block it becomes), then ONE plan invalidates all of
 * them with their walk caches and frees the subtrees, then a second walk
 * MAKES each marker into its block. Break, invalidate, make: for every
 * entry, with one invalidation for the operation.
 */
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct collapse_data {
	gpa_t gpa;
	int made;
};

/*
 * A collapse marker's software data: the block's output address (aligned
 * to 2 MiB at least, so bits 20:0 are free), its S2_PROT_* in bits 5:2 and
 * S2_COLLAPSE_MARK. Bits 1:0 stay clear, so no marker is an MMIO SPTE.
 */
#define S2_COLLAPSE_MARK	BIT(60)

static uint64_t collapse_marker(paddr_t pa, unsigned int prot)
{
	return S2_COLLAPSE_MARK | pa | ((uint64_t)prot << 2);
}

bool s2_is_collapse_marker(const struct s2pt *pt, s2pte_t pte,
			   unsigned int level)
{
	return level > 0 && s2_kind(pt, pte, level) == S2_PTE_INVALID_SW &&
	       (arch_s2_pte_sw(pte) & S2_COLLAPSE_MARK);
}

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
		enum s2_pte_kind k = s2_kind(pt, t[i], level);

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
	paddr_t ref = s2_table_ref(pt, ctx->old);	/* before any write */
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
	if (!(pt->fmt.caps & S2_FMT_NO_BBM)) {
		/* Break now; the plan invalidates, make_walker() makes. */
		s2_walk_set(ctx, arch_s2_make_sw(pt, collapse_marker(base,
								      u.prot)));
		s2_plan_detached(ctx->op, ctx->addr, ctx->level);
		s2_defer_free(ctx->op, ref, ctx->level - 1, false);
		d->made++;
		return 0;
	}
	/*
	 * Table to block (s2_walk_replace()): the walk caches may hold the
	 * subtree until it is invalidated (at once on stage-2, by the plan on
	 * EPT), so its pages are freed after the plan.
	 */
	s2_walk_replace(ctx, arch_s2_make_leaf(pt, base, u.prot, ctx->level));
	s2_defer_free(ctx->op, ref, ctx->level - 1, false);
	d->made++;
	return 0;
}

/* The make half: every marker becomes the block it holds. */
static int make_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	uint64_t data;

	(void)visit;
	if (!s2_is_collapse_marker(ctx->pt, ctx->old, ctx->level)) {
		return 0;
	}
	data = arch_s2_pte_sw(ctx->old);
	s2_walk_set(ctx, arch_s2_make_leaf(ctx->pt,
					   data & ~(S2_COLLAPSE_MARK |
						    GENMASK(20, 0)),
					   (unsigned int)(data >> 2) & 0xf,
					   ctx->level));
	return 0;
}

int s2pt_collapse(struct s2pt *pt, gpa_t gpa, uint64_t size)
{
	struct collapse_data d = { .gpa = gpa };
	struct s2_op op;
	struct s2_walker w = {
		.cb = collapse_walker, .arg = &d, .flags = S2_WALK_TABLE_PRE,
		.op = &op,
	};
	int ret;

	ret = s2_check_range(pt, gpa, size);
	if (ret) {
		return ret;
	}
	s2_assert_write(pt);
	if (pt->ext) {
		return s2_mirror_refuse(pt);	/* no PROMOTE */
	}
	s2_op_init(&op, pt);
	ret = s2pt_walk(pt, gpa, size, &w);
	s2_plan_commit(&op);
	if (d.made && !(pt->fmt.caps & S2_FMT_NO_BBM)) {
		struct s2_walker make = {
			.cb = make_walker, .flags = S2_WALK_LEAF,
		};

		/* After the invalidation: nothing can use a broken entry. */
		s2pt_walk(pt, gpa, size, &make);
	}
	s2_op_done(pt, "collapse");
	return ret ? ret : d.made;
}
