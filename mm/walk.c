// SPDX-License-Identifier: MIT
/*
 * The one walker of the stage-2 core, and the one function that writes
 * entries. See s2pt_walk() in include/mm/s2pt.h.
 */
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct walk_data {
	struct s2pt *pt;
	const struct s2_walker *w;
	gpa_t start;
	gpa_t end;
};

static int walk_table(struct walk_data *d, s2pte_t *table, unsigned int level,
		      unsigned int nr, gpa_t base, unsigned int present,
		      int *delta);

/*
 * Every write of an entry goes through here: one release store (a table's
 * contents are visible before the entry that links it) and the observer.
 */
static void s2_pte_write(s2pte_t *ptep, s2pte_t old, s2pte_t new,
			 unsigned int level)
{
	__atomic_store_n(ptep, new, __ATOMIC_RELEASE);
	s2_pte_written(ptep, old, new, level);
}

void s2_walk_set(struct s2_walk_ctx *ctx, s2pte_t new)
{
	bool was = s2_kind(ctx->pt, ctx->old, ctx->level) != S2_PTE_ABSENT;
	bool is = s2_kind(ctx->pt, new, ctx->level) != S2_PTE_ABSENT;

	s2_pte_write(ctx->ptep, ctx->old, new, ctx->level);
	ctx->pt->counters.entries_written++;
	if (was != is) {
		*ctx->delta += is ? 1 : -1;
	}
	ctx->old = new;
}

/*
 * A valid entry replaced by a valid one of another output address, size
 * (kind) or memory type: break-before-make, unless the format allows the
 * replacement in one write (S2_FMT_NO_BBM).
 */
static bool s2_needs_break(const struct s2pt *pt, s2pte_t old, s2pte_t new,
			   unsigned int level)
{
	enum s2_pte_kind ko = s2_kind(pt, old, level), kn = s2_kind(pt, new, level);

	if (!s2_kind_valid(ko) || !s2_kind_valid(kn)) {
		return false;
	}
	if (ko != kn ||
	    arch_s2_pte_pa(old, level) != arch_s2_pte_pa(new, level)) {
		return true;
	}
	return ko == S2_PTE_LEAF &&
	       ((arch_s2_pte_prot(pt, old) ^ arch_s2_pte_prot(pt, new)) &
		S2_PROT_DEVICE);
}

/*
 * The one place that decides about break-before-make. On S2_FMT_NO_BBM
 * formats the new value goes in directly and the old entry's range joins the
 * operation's plan (executed before the operation returns and before any
 * deferred table page is freed); elsewhere the old entry is broken and
 * invalidated at once.
 */
void s2_walk_replace(struct s2_walk_ctx *ctx, s2pte_t new)
{
	s2pte_t old = ctx->old;
	bool table = s2_kind(ctx->pt, old, ctx->level) == S2_PTE_TABLE;

	if (!s2_needs_break(ctx->pt, old, new, ctx->level)) {
		s2_walk_set(ctx, new);
		return;
	}
	if (ctx->pt->fmt.caps & S2_FMT_NO_BBM) {
		s2_walk_set(ctx, new);
		s2_plan_replaced(ctx->op, ctx->addr, ctx->level, table);
		return;
	}
	s2_walk_set(ctx, arch_s2_pte_absent(ctx->pt));
	s2_flush_now(ctx->pt, ctx->addr, ctx->level, table);
	s2_walk_set(ctx, new);
}

/* Write a table entry's child count back after its children changed. */
void s2_walk_add_count(struct s2_walk_ctx *ctx, int delta)
{
	unsigned int count = arch_s2_table_count(ctx->old) + delta;
	s2pte_t new = arch_s2_table_set_count(ctx->old, count);

	s2_pte_write(ctx->ptep, ctx->old, new, ctx->level);
	ctx->pt->counters.count_writes++;
	ctx->old = new;
}

/* Write @new over the absent entry @ptep of a table not yet linked. */
void s2_fill_new(struct s2pt *pt, s2pte_t *ptep, unsigned int level,
		 s2pte_t new)
{
	int delta = 0;
	struct s2_walk_ctx ctx = {
		.pt = pt, .ptep = ptep, .old = *ptep, .level = level,
		.delta = &delta,
	};

	/* The new table's count is set by its parent entry (1). */
	s2_walk_set(&ctx, new);
}

void s2_fill_unlinked(struct s2pt *pt, s2pte_t *ptep, unsigned int level,
		      s2pte_t new)
{
	s2pte_t old = *ptep;

	(void)pt;
	*ptep = new;	/* nothing walks a table that is not linked */
	s2_pte_written(ptep, old, new, level);
}

void s2_link_new(struct s2pt *pt, s2pte_t *ptep, s2pte_t old,
		 unsigned int level, s2pte_t *parent, s2pte_t new)
{
	int delta = 0;
	struct s2_walk_ctx ctx = {
		.pt = pt, .ptep = ptep, .old = old, .level = level,
		.delta = &delta,
	};

	s2_walk_set(&ctx, new);
	if (!parent) {
		pt->root_count += delta;
	} else {
		struct s2_walk_ctx pctx = {
			.pt = pt, .ptep = parent,
			.old = __atomic_load_n(parent, __ATOMIC_RELAXED),
			.level = level + 1,
		};

		s2_walk_add_count(&pctx, delta);
	}
}

static int walk_descend(struct walk_data *d, struct s2_walk_ctx *ctx)
{
	s2pte_t *child = s2_table_va(s2_table_pa(ctx->old));
	int delta = 0;
	int ret;

	ret = walk_table(d, child, ctx->level - 1, S2_PTRS_PER_TABLE,
			 ctx->addr, arch_s2_table_count(ctx->old), &delta);
	if (delta) {
		s2_walk_add_count(ctx, delta);
	}
	if (ret) {
		return ret;
	}
	if (d->w->flags & S2_WALK_TABLE_POST) {
		return d->w->cb(ctx, S2_WALK_TABLE_POST);
	}
	return 0;
}

static int walk_entry(struct walk_data *d, struct s2_walk_ctx *ctx)
{
	enum s2_walk_visit visit = S2_WALK_LEAF;
	int ret;

	if (s2_kind(ctx->pt, ctx->old, ctx->level) == S2_PTE_TABLE) {
		visit = S2_WALK_TABLE_PRE;
	}
	if (d->w->flags & visit) {
		ret = d->w->cb(ctx, visit);
		if (ret) {
			return ret;
		}
	}
	/* The callback may have detached a table or installed one. */
	if (ctx->level == 0 || s2_kind(ctx->pt, ctx->old, ctx->level) != S2_PTE_TABLE) {
		return 0;
	}
	return walk_descend(d, ctx);
}

/*
 * @present: how many entries of @table are not absent (its count), used by
 * S2_WALK_PRESENT walkers to skip absent entries and stop early. Entries
 * before the walk's start are not visited, so the count is only a bound
 * for a table the walk enters in the middle: the early stop then never
 * triggers before the table's last non-absent entry.
 */
static int walk_table(struct walk_data *d, s2pte_t *table, unsigned int level,
		      unsigned int nr, gpa_t base, unsigned int present,
		      int *delta)
{
	uint64_t size = S2_LEVEL_SIZE(level);
	gpa_t from = MAX(d->start, base);
	unsigned int i = (unsigned int)((from - base) >> S2_LEVEL_SHIFT(level));
	bool skip = d->w->flags & S2_WALK_PRESENT;
	s2pte_t absent = arch_s2_pte_absent(d->pt);
	int ret;

	if (skip && i) {
		/* Entries before @i count too: only a full scan may stop. */
		present = nr;
	}
	for (; i < nr; i++) {
		s2pte_t old = __atomic_load_n(&table[i], __ATOMIC_RELAXED);
		struct s2_walk_ctx ctx;

		if (skip && old == absent) {
			if (base + i * size >= d->end) {
				break;
			}
			continue;
		}
		ctx = (struct s2_walk_ctx){
			.pt = d->pt,
			.op = d->w->op,
			.ptep = &table[i],
			.old = old,
			.addr = base + i * size,
			.end = d->end,
			.level = level,
			.arg = d->w->arg,
			.delta = delta,
		};
		if (ctx.addr >= d->end) {
			break;
		}
		ret = walk_entry(d, &ctx);
		if (ret) {
			return ret;
		}
		if (skip && s2_kind(d->pt, old, level) != S2_PTE_ABSENT &&
		    --present == 0) {
			break;
		}
	}
	return 0;
}

int s2pt_walk(struct s2pt *pt, gpa_t addr, uint64_t size,
	      const struct s2_walker *w)
{
	struct walk_data d = {
		.pt = pt,
		.w = w,
		.start = ALIGN_DOWN(addr, PAGE_SIZE),
		.end = addr + size,
	};
	gpa_t limit = 1ULL << pt->fmt.ia_bits;
	int delta = 0;
	int ret;

	if (!pt->root) {
		return -EINVAL;
	}
	if (d.end > limit || d.end < addr) {
		d.end = limit;
	}
	ret = walk_table(&d, s2_table_va(pt->root), s2_root_level(pt),
			 pt->fmt.root_entries, 0, pt->root_count, &delta);
	pt->root_count += delta;
	return ret;
}
