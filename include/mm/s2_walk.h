/* SPDX-License-Identifier: MIT */
/*
 * The walker of the stage-2 core (mm/walk.c): a visitor over the entries of
 * a range, in address order, with TABLE_PRE / LEAF / TABLE_POST visits, and
 * the functions through which every entry write goes (s2_walk_set(),
 * s2_walk_replace()). For mm/'s operations and for code that must visit the
 * entries of a table itself (audits, probes in mm/roots.c and tests);
 * everything else uses the operations of <mm/s2pt.h>.
 *
 * A walker callback may only change the entry it is given, through
 * s2_walk_set() or s2_walk_replace(); they keep the entry counts, the
 * counters and the observers right. Walks that clear or replace valid
 * entries belong to an operation and carry its flush state (s2_walker.op).
 * Tables are reached through their physical address (s2_table_va(): the
 * hypervisor identity-maps its memory).
 */
#ifndef STRATA_MM_S2_WALK_H
#define STRATA_MM_S2_WALK_H

#include <mm/s2_arch.h>

struct s2_op;

/*
 * The kind of @pte at @level in @pt: the format's classification, except
 * that an entry matching the table's MMIO SPTE value is S2_PTE_INVALID_SW
 * (on an EPT secure VM an entry of 0 is an MMIO SPTE, not absent). Only an
 * entry the format calls absent can need that: the validator refuses values
 * whose entries the hardware could use.
 */
static inline enum s2_pte_kind s2pt_pte_kind(const struct s2pt *pt,
					     s2pte_t pte, unsigned int level)
{
	enum s2_pte_kind k = arch_s2_pte_kind(pte, level);

	if (k == S2_PTE_ABSENT && s2pt_is_mmio(pt, pte)) {
		return S2_PTE_INVALID_SW;
	}
	return k;
}

static inline s2pte_t *s2_table_va(paddr_t pa)
{
	return (s2pte_t *)(uintptr_t)pa;	/* identity mapped */
}

enum s2_walk_visit {
	S2_WALK_LEAF = BIT(0),		/* leaves, software and absent */
	S2_WALK_TABLE_PRE = BIT(1),	/* tables before their children */
	S2_WALK_TABLE_POST = BIT(2),	/* tables after their children */
};

/*
 * Not a visit, a walker flag: absent entries are of no interest to this
 * walker. The walker skips them without a callback and leaves a table once
 * it has seen as many non-absent entries as the table's count says, so a
 * walk of a sparse range costs what is mapped, not the range's size.
 */
#define S2_WALK_PRESENT		BIT(3)

/**
 * struct s2_walk_ctx - what a walker callback sees.
 * @pt: the table.
 * @ptep: the entry.
 * @old: snapshot of the entry (updated by s2_walk_set()).
 * @addr: first address the entry maps (aligned to its level).
 * @end: end of the walked range (exclusive).
 * @level: level of the entry.
 * @arg: the walker's argument.
 * @op: the operation's flush state (s2_walker.op).
 * @delta: (internal) pending change of the containing table's count.
 */
struct s2_walk_ctx {
	struct s2pt *pt;
	struct s2_op *op;
	s2pte_t *ptep;
	s2pte_t old;
	gpa_t addr;
	gpa_t end;
	unsigned int level;
	void *arg;
	int *delta;
};

typedef int (*s2_walker_fn)(struct s2_walk_ctx *ctx,
			    enum s2_walk_visit visit);

/*
 * @op: the flush state of the operation the walk belongs to; needed by
 * walks that clear or replace valid entries (s2_walk_replace()), NULL for
 * walks that only read or fill absent entries.
 */
struct s2_walker {
	s2_walker_fn cb;
	void *arg;
	unsigned int flags;	/* S2_WALK_* visits wanted */
	struct s2_op *op;
};

/**
 * s2pt_walk() - visit every entry overlapping [@addr, @addr + @size).
 * @pt: the table.
 * @addr: start (rounded down to 4 KiB).
 * @size: bytes.
 * @w: callback, argument and visits.
 *
 * For each entry in address order: a table entry gets TABLE_PRE, then (if it
 * is still a table after the callback) its children are walked, the table's
 * count is written back to the entry if it changed, and TABLE_POST is called.
 * Any other entry gets LEAF; if the callback turned it into a table, the
 * walker descends into the new table (and calls TABLE_POST). A callback that
 * clears a table entry in TABLE_PRE (a detach) stops the descent: the walker
 * never reads a detached table. A non-zero return stops the walk and is
 * returned unchanged.
 */
int s2pt_walk(struct s2pt *pt, gpa_t addr, uint64_t size,
	      const struct s2_walker *w);

/**
 * s2_walk_set() - THE function that writes entries (during a walk).
 * @ctx: the entry's context; @ctx->old becomes @new.
 * @new: the new value.
 *
 * Keeps the containing table's count, the counters and the observers up to
 * date. The caller is responsible for break-before-make (s2_walk_replace()).
 */
void s2_walk_set(struct s2_walk_ctx *ctx, s2pte_t new);

/**
 * s2_walk_replace() - change an entry, with break-before-make when needed.
 * @ctx: the entry's context.
 * @new: the new value.
 *
 * When the old and new values are both valid and differ in output address,
 * size, kind or memory type:
 *  - formats without S2_FMT_NO_BBM (arm64 stage-2: break-before-make) write
 *    absent, invalidate the old entry's range at once (walk caches too when
 *    it was a table) and then write @new;
 *  - S2_FMT_NO_BBM formats (EPT) write @new at once and add the old entry's
 *    range to the operation's plan (walk caches too when it was a table).
 *    The caller must only use this for a replacement of the same
 *    translation (split, collapse): until the plan is executed the CPU may
 *    use the old or the new entry, and both translate alike (Intel SDM Vol.
 *    3A 4.10.4.2 "Recommended Invalidation", which EPT follows: a write that
 *    changes the page size but, for no address, the frame, access rights
 *    or attributes leaves only equivalent translations to choose from). A
 *    table whose entry was replaced this way must only be freed through
 *    s2_defer_free(), after the plan.
 * Otherwise a plain s2_walk_set(); the caller adds the change to the
 * operation's plan.
 */
void s2_walk_replace(struct s2_walk_ctx *ctx, s2pte_t new);


#endif
