/* SPDX-License-Identifier: MIT */
/*
 * Private helpers shared by the stage-2 core's files (mm/s2_*.c, walk.c,
 * audit.c); nothing outside mm/ includes this. It holds what an operation
 * keeps while it runs (struct s2_op: its flush plan, cache maintenance and
 * deferred frees, on the operation's stack), the page reservation every
 * writer makes before its first write, table-page accounting (including the
 * MMIO SPTE table mark) and the entry helpers the operations share.
 *
 * Rules: an operation reserves every page it may need before it writes
 * (s2_count_reserve_write(), s2_cache_reserve()); it frees a table page only
 * through s2_defer_free() / s2_plan_commit(), after the invalidation that
 * covers every cleared entry pointing to it; it classifies entries with
 * s2_kind() (the table's MMIO value applied), never with the format alone.
 */
#ifndef STRATA_MM_S2_INTERNAL_H
#define STRATA_MM_S2_INTERNAL_H

#include <lib/bug.h>
#include <lib/rwlock.h>
#include <mm/s2_walk.h>

/*
 * Lock modes (docs/mmu.md "Many CPUs"): a table with a lock (struct
 * s2pt.lock) is changed by s2pt_map_fault() under the lock held shared and
 * by every other writer under it held exclusive; each writer asserts the
 * mode it needs at its top. A table without one is serialized by its caller.
 */
static inline void s2_assert_write(const struct s2pt *pt)
{
	if (pt->lock) {
		WARN_ON_ONCE(!rwlock_held_write(pt->lock));
	}
}

static inline void s2_assert_shared(const struct s2pt *pt)
{
	if (pt->lock) {
		WARN_ON_ONCE(!rwlock_held(pt->lock));
	}
}

/*
 * A counter of struct s2pt that concurrent faults update: relaxed atomic
 * adds (exclusive holders may use plain updates: the lock orders them).
 */
static inline void s2_counter_add(uint64_t *ctr, uint64_t n)
{
	__atomic_fetch_add(ctr, n, __ATOMIC_RELAXED);
}

/* Pages reserved before an operation's first write (a linked list). */
struct s2_page_cache {
	paddr_t head;
	unsigned long nr;
};

int s2_cache_reserve(struct s2pt *pt, struct s2_page_cache *c,
		     unsigned long n);
paddr_t s2_cache_take(struct s2pt *pt, struct s2_page_cache *c);
void s2_cache_release(struct s2pt *pt, struct s2_page_cache *c);
/* Fill @n entries of a table not yet linked with the absent entry. */
void s2_fill_absent(const struct s2pt *pt, s2pte_t *table, unsigned int n);

/*
 * The shape of an operation that only fills entries: walk [@gpa, +@size)
 * with @count (which sets *@pages to the table pages it will need), reserve
 * them in @cache, walk again with @write (which takes from @cache), give the
 * unused pages back and run the audit under the name @op. Nothing is written
 * when the count fails or the reservation runs out of memory.
 */
int s2_count_reserve_write(struct s2pt *pt, gpa_t gpa, uint64_t size,
			   const struct s2_walker *count,
			   const struct s2_walker *write,
			   const unsigned long *pages,
			   struct s2_page_cache *cache, const char *op);

/*
 * The entry the hardware would end its walk for @gpa on: the first one that
 * is not a table, or the level-0 entry. 0 with *@pte and *@level filled, or
 * -ERANGE beyond ia_bits (or no root).
 */
int s2_find_entry(const struct s2pt *pt, gpa_t gpa, s2pte_t *pte,
		  unsigned int *level);

/*
 * Add @delta to the child count of the table entry @ctx (a count-only write:
 * counted in count_writes, seen by the observer, no translation changes).
 */
void s2_walk_add_count(struct s2_walk_ctx *ctx, int delta);

/*
 * A table page as the free paths carry it: its address, with S2_TABLE_MMIO
 * when s2pt_set_mmio() allocated it (the mark of its table entry), so that
 * freeing it gives it back to counters.mmio_tables.
 */
#define S2_TABLE_MMIO		BIT(3)

static inline paddr_t s2_table_ref(const struct s2pt *pt, s2pte_t pte)
{
	return arch_s2_pte_pa(pte, 0) |
	       ((pte & pt->fmt.table_mmio_bit) ? S2_TABLE_MMIO : 0);
}

/* Table page accounting (alloc/free of pages that are or were tables);
 * s2_table_free() takes a table reference (s2_table_ref()). */
void s2_table_account_new(struct s2pt *pt, paddr_t pa);
void s2_table_free(struct s2pt *pt, paddr_t table);
uint64_t s2_table_hash(paddr_t pa);

/* Entry helpers. */
static inline enum s2_pte_kind s2_kind(const struct s2pt *pt, s2pte_t pte,
					unsigned int level)
{
	return s2pt_pte_kind(pt, pte, level);
}

static inline bool s2_kind_valid(enum s2_pte_kind k)
{
	return k == S2_PTE_LEAF || k == S2_PTE_TABLE;
}

static inline paddr_t s2_table_pa(s2pte_t pte)
{
	return arch_s2_pte_pa(pte, 0);
}

static inline gpa_t s2_entry_end(const struct s2_walk_ctx *ctx)
{
	return ctx->addr + S2_LEVEL_SIZE(ctx->level);
}

/* The entry's whole range lies in [start, end). */
static inline bool s2_entry_inside(const struct s2_walk_ctx *ctx, gpa_t start)
{
	return ctx->addr >= start && s2_entry_end(ctx) <= ctx->end;
}

static inline bool s2_needs_cmo(const struct s2pt *pt)
{
	return (pt->fmt.caps & S2_FMT_CMO) && !(pt->flags & S2PT_F_FWB);
}

unsigned int s2_root_level(const struct s2pt *pt);

/* Argument checks shared by the operations. */
int s2_check_range(const struct s2pt *pt, gpa_t gpa, uint64_t size);
/* End of an operation: audit (CONFIG_MMU_AUDIT). */
void s2_op_done(struct s2pt *pt, const char *op);
/* The same for an operation that other CPUs may run at once on @pt
 * (s2pt_map_fault()): audits only a table without a lock. */
void s2_op_done_shared(struct s2pt *pt, const char *op);

/*
 * The state of one operation (mm/s2_flush.c): its pending invalidation, the
 * cache maintenance to do after it, and the table pages to free after both.
 * It lives on the operation's stack, never in struct s2pt, so the table
 * holds only persistent state. Every operation that may clear or replace a
 * valid entry starts with s2_op_init() and ends with s2_plan_commit().
 * @pt: the table operated on.
 * @plan: the pending invalidation.
 * @nr_cmo: used entries of @cmo.
 * @nr_defer: entries of the deferred-free list (at most S2_DEFER_MAX).
 * @cmo: cache maintenance to do after @plan.
 * @defer: the first S2_DEFER_INLINE entries of the deferred-free list: table
 *	pages to free once @plan is executed; each entry is the root of a
 *	detached subtree or an emptied table: its table reference
 *	(s2_table_ref()) with the level of its entries in bits 1:0 and
 *	S2_DEFER_CMO.
 * @more: pages holding the entries after the first S2_DEFER_INLINE, taken
 *	from the table-page provider when needed and given back at commit (a
 *	failed allocation forces an early flush instead), so an operation's
 *	stack stays small however many tables it frees.
 */
#define S2_DEFER_INLINE		64
#define S2_DEFER_PER_PAGE	(PAGE_SIZE / sizeof(paddr_t))
#define S2_DEFER_PAGES		((S2_DEFER_MAX - S2_DEFER_INLINE + \
				  S2_DEFER_PER_PAGE - 1) / S2_DEFER_PER_PAGE)

struct s2_op {
	struct s2pt *pt;
	struct s2_flush_plan plan;
	unsigned int nr_cmo;
	unsigned int nr_defer;
	struct s2_cmo_range cmo[S2_CMO_MAX];
	paddr_t defer[S2_DEFER_INLINE];
	paddr_t more[S2_DEFER_PAGES];
};

#define S2_DEFER_CMO		BIT(2)	/* clean its guest pages after flush */

void s2_op_init(struct s2_op *op, struct s2pt *pt);

/* Flush plan of the operation (mm/s2_flush.c). */
void s2_plan_leaf(struct s2_op *op, gpa_t addr, unsigned int level);
void s2_plan_empty_table(struct s2_op *op, gpa_t addr, unsigned int level);
void s2_plan_detached(struct s2_op *op, gpa_t addr, unsigned int level);
/* A valid entry was replaced in one write (S2_FMT_NO_BBM); @table: it was a
 * table entry (walk caches too). */
void s2_plan_replaced(struct s2_op *op, gpa_t addr, unsigned int level,
		      bool table);
void s2_cmo_add(struct s2_op *op, paddr_t pa, uint64_t size);
/* @table: a table reference (s2_table_ref()). */
void s2_defer_free(struct s2_op *op, paddr_t table, unsigned int level,
		   bool cmo);
/* Execute the plan, then the CMOs, then free deferred tables. */
void s2_plan_commit(struct s2_op *op);
/* Invalidate one entry's range now (break-before-make). */
void s2_flush_now(struct s2pt *pt, gpa_t addr, unsigned int level,
		  bool table);
/* Free a detached subtree (entries at @level); CMO its normal leaves. */
void s2_free_subtree(struct s2_op *op, paddr_t table, unsigned int level,
		     bool cmo);
_Static_assert(S2_TABLE_MMIO != S2_DEFER_CMO && S2_TABLE_MMIO > 3 &&
	       S2_TABLE_MMIO < PAGE_SIZE, "a table reference's tag bits");

/* An entry s2pt_collapse() broke and has not made yet (a core bug after). */
/* Set @pt's MMIO value if s2pt_mmio_value_valid() accepts it (mm/s2_mmio.c);
 * otherwise the table has no MMIO SPTEs. Returns whether it was taken. */
bool s2_mmio_value_take(struct s2pt *pt, s2pte_t value);

bool s2_is_collapse_marker(const struct s2pt *pt, s2pte_t pte,
			   unsigned int level);

/* Mirror tables (mm/s2_mirror.c, <mm/s2_ext.h>): the operations of a table
 * with pt->ext set, and the refusal of those a module cannot reflect. */
int s2_mirror_map(struct s2pt *pt, gpa_t gpa, paddr_t pa, uint64_t size,
		  unsigned int prot);
int s2_mirror_fault(struct s2pt *pt, gpa_t gpa, gpa_t lo, gpa_t hi,
		    paddr_t pa_lo, unsigned int prot,
		    struct s2_fault_result *res);
int s2_mirror_unmap(struct s2pt *pt, gpa_t gpa, uint64_t size);
int s2_mirror_refuse(struct s2pt *pt);
void s2_mirror_teardown(struct s2pt *pt);

/* Split every block above @level overlapping a range (mm/s2_split.c). */
int s2_split_count(struct s2pt *pt, gpa_t gpa, uint64_t size,
		   unsigned int level, unsigned long *pages);
int s2_split_commit(struct s2_op *op, gpa_t gpa, uint64_t size,
		    unsigned int level, struct s2_page_cache *c);
/* Split the blocks straddling gpa and gpa + size; pages reserved first. */
int s2_split_edges(struct s2_op *op, gpa_t gpa, uint64_t size);

/* Index of @gpa's entry in its table at @level (the root level may span
 * several concatenated pages). */
static inline unsigned int s2_entry_index(const struct s2pt *pt, gpa_t gpa,
					  unsigned int level)
{
	uint64_t idx = gpa >> S2_LEVEL_SHIFT(level);

	if (level == s2_root_level(pt)) {
		return (unsigned int)idx;
	}
	return (unsigned int)(idx & (S2_PTRS_PER_TABLE - 1));
}

/*
 * A single-descent install (s2pt_map_fault(), s2pt_set_mmio()) builds its
 * new tables bottom up: s2_fill_new() writes an entry of a table not yet
 * linked; s2_link_new() writes @new over the absent entry @ptep (holding
 * @old) at @level and keeps the count of the table above it (@parent, or
 * the root's when NULL).
 */
void s2_fill_new(struct s2pt *pt, s2pte_t *ptep, unsigned int level,
		 s2pte_t new);
/* s2_fill_new() without counting it (the caller counts its writes at once). */
void s2_fill_unlinked(struct s2pt *pt, s2pte_t *ptep, unsigned int level,
		      s2pte_t new);
void s2_link_new(struct s2pt *pt, s2pte_t *ptep, s2pte_t old,
		 unsigned int level, s2pte_t *parent, s2pte_t new);

#endif
