// SPDX-License-Identifier: MIT
/*
 * s2pt_protect(): change the permissions of the leaves in a range (write
 * protection for dirty logging, for example). Narrowed leaves are invalidated
 * once at the end; the memory type and output address stay, so no
 * break-before-make is needed.
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct protect_data {
	gpa_t gpa;
	unsigned int prot;
};

static int protect_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct protect_data *d = ctx->arg;
	struct s2pt *pt = ctx->pt;
	unsigned int old_prot, new_prot;
	s2pte_t new;

	(void)visit;
	if (s2_kind(ctx->pt, ctx->old, ctx->level) != S2_PTE_LEAF) {
		return 0;
	}
	if (WARN_ON_ONCE(!s2_entry_inside(ctx, d->gpa))) {
		return -EIO;	/* the edges were split: a core bug */
	}
	old_prot = arch_s2_pte_prot(pt, ctx->old);
	new_prot = d->prot | (old_prot & S2_PROT_DEVICE);
	new = arch_s2_make_leaf(pt, arch_s2_pte_pa(ctx->old, ctx->level),
				new_prot, ctx->level);
	if (new == ctx->old) {
		return 0;
	}
	s2_walk_replace(ctx, new);
	if (old_prot & ~new_prot & S2_PROT_RWX) {
		s2_plan_leaf(ctx->op, ctx->addr, ctx->level);
	}
	return 0;
}

int s2pt_protect(struct s2pt *pt, gpa_t gpa, uint64_t size,
		 unsigned int prot)
{
	struct protect_data d = { .gpa = gpa, .prot = prot };
	struct s2_op op;
	struct s2_walker w = {
		.cb = protect_walker, .arg = &d,
		.flags = S2_WALK_LEAF | S2_WALK_PRESENT,
		.op = &op,
	};
	int ret;

	ret = s2_check_range(pt, gpa, size);
	if (ret) {
		return ret;
	}
	if ((prot & S2_PROT_DEVICE) || !arch_s2_prot_valid(prot)) {
		return -EINVAL;
	}
	s2_assert_write(pt);
	if (pt->ext) {
		return s2_mirror_refuse(pt);	/* no write protection */
	}
	s2_op_init(&op, pt);
	ret = s2_split_edges(&op, gpa, size);
	if (ret) {
		return ret;
	}
	ret = s2pt_walk(pt, gpa, size, &w);
	s2_plan_commit(&op);
	s2_op_done(pt, "protect");
	return ret;
}
