// SPDX-License-Identifier: MIT
/*
 * s2pt_unmap(), with the fast block-level unmap of seed 002: a table entry
 * whose whole range is unmapped is detached in one write and its subtree is
 * never walked before the invalidation; the subtree's guest pages are cleaned
 * (without FWB) and its table pages freed only after the one invalidation of
 * the operation, in s2_plan_commit().
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct unmap_data {
	gpa_t gpa;
	bool cmo;
	bool fast;
};

static int unmap_table_pre(struct s2_walk_ctx *ctx, struct unmap_data *u)
{
	paddr_t table = s2_table_ref(ctx->pt, ctx->old);

	if (!u->fast || !s2_entry_inside(ctx, u->gpa)) {
		return 0;
	}
	/*
	 * Detach: the walker sees an absent entry and does not descend, so the
	 * detached pages stay allocated and unread until the plan is executed.
	 */
	s2_walk_set(ctx, arch_s2_pte_absent(ctx->pt));
	s2_plan_detached(ctx->op, ctx->addr, ctx->level);
	s2_defer_free(ctx->op, table, ctx->level - 1, u->cmo);
	ctx->pt->counters.detaches++;
	return 0;
}

static int unmap_leaf(struct s2_walk_ctx *ctx, struct unmap_data *u)
{
	struct s2pt *pt = ctx->pt;
	s2pte_t old = ctx->old;
	enum s2_pte_kind k = s2_kind(pt, old, ctx->level);

	if (k == S2_PTE_ABSENT) {
		return 0;
	}
	if (WARN_ON_ONCE(!s2_entry_inside(ctx, u->gpa))) {
		return -EIO;	/* the edges were split: a core bug */
	}
	s2_walk_set(ctx, arch_s2_pte_absent(pt));
	if (k != S2_PTE_LEAF) {
		return 0;	/* software data: never cached by hardware */
	}
	s2_plan_leaf(ctx->op, ctx->addr, ctx->level);
	if (u->cmo && !(arch_s2_pte_prot(pt, old) & S2_PROT_DEVICE)) {
		s2_cmo_add(ctx->op, arch_s2_pte_pa(old, ctx->level),
			   S2_LEVEL_SIZE(ctx->level));
	}
	return 0;
}

/* A table the unmap emptied is cleared now and freed after the flush. */
static int unmap_table_post(struct s2_walk_ctx *ctx)
{
	paddr_t table = s2_table_ref(ctx->pt, ctx->old);

	if (arch_s2_table_count(ctx->old)) {
		return 0;
	}
	s2_walk_set(ctx, arch_s2_pte_absent(ctx->pt));
	s2_plan_empty_table(ctx->op, ctx->addr, ctx->level);
	s2_defer_free(ctx->op, table, ctx->level - 1, false);
	return 0;
}

static int unmap_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct unmap_data *u = ctx->arg;

	switch (visit) {
	case S2_WALK_TABLE_PRE:
		return unmap_table_pre(ctx, u);
	case S2_WALK_LEAF:
		return unmap_leaf(ctx, u);
	case S2_WALK_TABLE_POST:
		return unmap_table_post(ctx);
	}
	return 0;
}

int s2pt_unmap(struct s2pt *pt, gpa_t gpa, uint64_t size)
{
	struct s2_op op;
	struct unmap_data u = {
		.gpa = gpa,
		.cmo = s2_needs_cmo(pt),
		.fast = !(pt->flags & S2PT_F_NO_FAST_UNMAP),
	};
	struct s2_walker w = {
		.cb = unmap_walker,
		.arg = &u,
		.flags = S2_WALK_LEAF | S2_WALK_TABLE_PRE | S2_WALK_TABLE_POST |
			 S2_WALK_PRESENT,
		.op = &op,
	};
	int ret;

	ret = s2_check_range(pt, gpa, size);
	if (ret) {
		return ret;
	}
	s2_assert_write(pt);
	if (pt->ext) {
		return s2_mirror_unmap(pt, gpa, size);
	}
	s2_op_init(&op, pt);
	ret = s2_split_edges(&op, gpa, size);
	if (ret) {
		return ret;
	}
	ret = s2pt_walk(pt, gpa, size, &w);
	/* Even after an internal error, what was changed is flushed. */
	s2_plan_commit(&op);
	s2_op_done(pt, "unmap");
	return ret;
}
