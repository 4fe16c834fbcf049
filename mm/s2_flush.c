// SPDX-License-Identifier: MIT
/*
 * Flush plans: the leaf and table changes of one operation are collected and
 * invalidated once, before any page taken from the table or the guest is
 * touched again: first the TLB invalidation, then the cache maintenance of
 * the guest pages (without FWB), then the freeing of table pages.
 */
#include <lib/string.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

void s2_op_init(struct s2_op *op, struct s2pt *pt)
{
	memset(&op->plan, 0, sizeof(op->plan));
	op->pt = pt;
	op->nr_cmo = 0;
	op->nr_defer = 0;
	memset(op->more, 0, sizeof(op->more));
}

/* Where deferred-free entry @i lives (its overflow page exists). */
static paddr_t *defer_slot(struct s2_op *op, unsigned int i)
{
	if (i < S2_DEFER_INLINE) {
		return &op->defer[i];
	}
	i -= S2_DEFER_INLINE;
	return (paddr_t *)s2_table_va(op->more[i / S2_DEFER_PER_PAGE]) +
	       i % S2_DEFER_PER_PAGE;
}

/* Make room for entry op->nr_defer; false when no page could be had. */
static bool defer_room(struct s2_op *op)
{
	unsigned int i = op->nr_defer;
	unsigned int page;

	if (i < S2_DEFER_INLINE) {
		return true;
	}
	page = (i - S2_DEFER_INLINE) / S2_DEFER_PER_PAGE;
	return op->more[page] || !s2_table_page_alloc(&op->more[page]);
}

static void defer_pages_free(struct s2_op *op)
{
	for (unsigned int i = 0; i < S2_DEFER_PAGES; i++) {
		if (op->more[i]) {
			s2_table_page_free(op->more[i]);
			op->more[i] = 0;
		}
	}
}

static void plan_extend(struct s2_flush_plan *p, gpa_t start, gpa_t end)
{
	if (p->kind == S2_FLUSH_NONE) {
		p->kind = S2_FLUSH_ALL;	/* decided at commit */
		p->start = start;
		p->end = end;
		return;
	}
	p->start = MIN(p->start, start);
	p->end = MAX(p->end, end);
}

static void plan_ipa(struct s2_flush_plan *p, gpa_t addr, uint8_t level)
{
	if (p->nr_ipa < S2_FLUSH_MAX_IPA) {
		p->ipa[p->nr_ipa].addr = addr;
		p->ipa[p->nr_ipa].level = level;
	}
	p->nr_ipa++;	/* past the array means: not expressible by IPA */
}

/* A leaf (page or block) was removed or narrowed: one TLBI by address. */
void s2_plan_leaf(struct s2_op *op, gpa_t addr, unsigned int level)
{
	struct s2_flush_plan *p = &op->plan;

	plan_extend(p, addr, addr + S2_LEVEL_SIZE(level));
	p->pages++;
	plan_ipa(p, addr, (uint8_t)level);
}

/*
 * An empty table's entry was cleared: its leaves were already planned, only
 * the walk-cache entry for the table remains (a non-leaf TLBI by any address
 * in its range).
 */
void s2_plan_empty_table(struct s2_op *op, gpa_t addr, unsigned int level)
{
	struct s2_flush_plan *p = &op->plan;

	plan_extend(p, addr, addr + S2_LEVEL_SIZE(level));
	p->walk = true;
	p->pages++;
	plan_ipa(p, addr, S2_LEVEL_ANY);
}

/* A whole subtree was detached: every page of its range may be cached. */
void s2_plan_detached(struct s2_op *op, gpa_t addr, unsigned int level)
{
	struct s2_flush_plan *p = &op->plan;

	plan_extend(p, addr, addr + S2_LEVEL_SIZE(level));
	p->walk = true;
	p->pages += S2_LEVEL_SIZE(level) >> PAGE_SHIFT;
	p->nr_ipa = S2_FLUSH_MAX_IPA + 1;
}

/*
 * A valid entry was replaced by one of the same translation without
 * break-before-make (S2_FMT_NO_BBM): until the plan runs the CPU may use the
 * old entry. A leaf is invalidated like a removed leaf; a table like a
 * detached subtree (its walk-cache entries, and every translation cached
 * through it), so its pages may be freed after the plan.
 */
void s2_plan_replaced(struct s2_op *op, gpa_t addr, unsigned int level,
		      bool table)
{
	if (table) {
		s2_plan_detached(op, addr, level);
	} else {
		s2_plan_leaf(op, addr, level);
	}
}

/*
 * Without per-address invalidation (EPT) a single-context flush; with
 * FEAT_TLBIRANGE one range; else per-IPA when few, whole VMID when many.
 * A plan covering the whole input space is always a whole-VMID flush.
 */
static void plan_choose(const struct s2pt *pt, struct s2_flush_plan *p)
{
	bool everything = p->start == 0 && p->end >= (1ULL << pt->fmt.ia_bits);

	if (!(pt->fmt.caps & S2_FMT_TLBI_IPA) || everything) {
		p->kind = S2_FLUSH_ALL;
	} else if (pt->flags & S2PT_F_TLBIRANGE) {
		p->kind = S2_FLUSH_RANGE;
	} else if (p->nr_ipa <= S2_FLUSH_MAX_IPA) {
		p->kind = S2_FLUSH_IPA;
	} else {
		p->kind = S2_FLUSH_ALL;
	}
	if (p->kind != S2_FLUSH_IPA) {
		p->nr_ipa = 0;
	}
}

static void plan_execute(struct s2pt *pt, struct s2_flush_plan *p)
{
	struct s2_counters *c = &pt->counters;

	plan_choose(pt, p);
	c->flushes++;
	if (p->kind == S2_FLUSH_IPA) {
		c->tlbi_ipa += p->nr_ipa;
	} else if (p->kind == S2_FLUSH_RANGE) {
		c->tlbi_range++;
	} else {
		c->tlbi_vmid++;
	}
	if (p->walk) {
		c->tlbi_walk++;
	}
	arch_s2_flush(pt, p);
}

static void cmo_flush(struct s2_op *op)
{
	uint64_t pages = 0;

	if (!op->nr_cmo) {
		return;
	}
	for (unsigned int i = 0; i < op->nr_cmo; i++) {
		pages += op->cmo[i].size >> PAGE_SHIFT;
	}
	arch_s2_cmo(op->pt, op->cmo, op->nr_cmo);
	op->pt->counters.cmo_pages += pages;
	op->nr_cmo = 0;
}

static struct s2_cmo_range *cmo_last(struct s2_op *op)
{
	return op->nr_cmo ? &op->cmo[op->nr_cmo - 1] : NULL;
}

/* Queue a CMO; must only be executed after the plan covering it. */
static void cmo_queue(struct s2_op *op, paddr_t pa, uint64_t size)
{
	struct s2_cmo_range *last = cmo_last(op);

	if (last && last->pa + last->size == pa) {
		last->size += size;
		return;
	}
	op->cmo[op->nr_cmo].pa = pa;
	op->cmo[op->nr_cmo].size = size;
	op->nr_cmo++;
}

/*
 * A full CMO or deferred-free list forces the plan out early: correct (the
 * changes so far are invalidated before their pages are touched), only
 * slower, and counted.
 */
static void commit_early(struct s2_op *op)
{
	op->pt->counters.early_flushes++;
	s2_plan_commit(op);
}

void s2_cmo_add(struct s2_op *op, paddr_t pa, uint64_t size)
{
	struct s2_cmo_range *last = cmo_last(op);

	if (op->nr_cmo == S2_CMO_MAX && last->pa + last->size != pa) {
		commit_early(op);
	}
	cmo_queue(op, pa, size);
}

void s2_defer_free(struct s2_op *op, paddr_t table, unsigned int level,
		   bool cmo)
{
	if (op->nr_defer == S2_DEFER_MAX || !defer_room(op)) {
		commit_early(op);
	}
	*defer_slot(op, op->nr_defer++) = table | level |
					  (cmo ? S2_DEFER_CMO : 0);
}

/* CMOs issued after the invalidation, in batches, while freeing a subtree. */
static void subtree_cmo(struct s2_op *op, paddr_t pa, uint64_t size)
{
	struct s2_cmo_range *last = cmo_last(op);

	if (op->nr_cmo == S2_CMO_MAX && last->pa + last->size != pa) {
		cmo_flush(op);
	}
	cmo_queue(op, pa, size);
}

/*
 * Free the table @table of @level and every table below it; with @cmo,
 * clean the memory its leaves map. Without @cmo only child tables matter,
 * and the table-page count bounds the search: every counted table page of
 * @pt is linked or pending a free, and @above of them are this table's
 * ancestors still being freed, so when the count is @above + 1 this table
 * holds no child table and is freed unread. Without @cmo children are
 * freed from the highest address down, so the guest RAM's table (low)
 * comes last: a whole zap frees the MMIO SPTEs' small tables first and
 * the big one unread.
 */
static void free_subtree(struct s2_op *op, paddr_t table, unsigned int level,
			 bool cmo, uint64_t above)
{
	struct s2pt *pt = op->pt;
	s2pte_t *t = s2_table_va(ALIGN_DOWN(table, PAGE_SIZE));
	s2pte_t absent;

	if (!cmo && (level == 0 || pt->counters.tables_in_use <= above + 1)) {
		/* No entry needs reading: pages only, or no table below. */
		s2_table_free(pt, table);
		return;
	}
	absent = arch_s2_pte_absent(pt);
	if (!cmo) {
		/* Only child tables matter; downwards (see above). */
		for (unsigned int i = S2_PTRS_PER_TABLE; i-- > 0;) {
			s2pte_t pte = t[i];

			if (pte == absent ||
			    s2_kind(pt, pte, level) != S2_PTE_TABLE) {
				continue;
			}
			free_subtree(op, s2_table_ref(pt, pte), level - 1,
				     false, above + 1);
			if (pt->counters.tables_in_use <= above + 1) {
				break;	/* the rest are leaves */
			}
		}
		s2_table_free(pt, table);
		return;
	}
	for (unsigned int i = 0; i < S2_PTRS_PER_TABLE; i++) {
		s2pte_t pte = t[i];
		enum s2_pte_kind k;

		if (pte == absent) {
			continue;	/* most of a sparse table: no call */
		}
		k = s2_kind(pt, pte, level);
		if (k == S2_PTE_TABLE && level > 0) {
			free_subtree(op, s2_table_ref(pt, pte), level - 1, cmo,
				     above + 1);
		} else if (k == S2_PTE_LEAF &&
			   !(arch_s2_pte_prot(pt, pte) & S2_PROT_DEVICE)) {
			subtree_cmo(op, arch_s2_pte_pa(pte, level),
				    S2_LEVEL_SIZE(level));
		}
	}
	s2_table_free(pt, table);
}

void s2_free_subtree(struct s2_op *op, paddr_t table, unsigned int level,
		     bool cmo)
{
	free_subtree(op, table, level, cmo, 0);
}

void s2_plan_commit(struct s2_op *op)
{
	unsigned int n = op->nr_defer;

	if (op->plan.kind != S2_FLUSH_NONE) {
		plan_execute(op->pt, &op->plan);
	}
	cmo_flush(op);
	/* Detached subtrees' leaves are cleaned only now, after the TLBI. */
	op->nr_defer = 0;
	for (unsigned int i = 0; i < n; i++) {
		paddr_t d = *defer_slot(op, i);

		s2_free_subtree(op, d & ~(paddr_t)(3 | S2_DEFER_CMO), d & 3,
				d & S2_DEFER_CMO);
	}
	defer_pages_free(op);
	cmo_flush(op);
	memset(&op->plan, 0, sizeof(op->plan));
}

void s2_flush_now(struct s2pt *pt, gpa_t addr, unsigned int level,
		  bool table)
{
	struct s2_flush_plan p;

	memset(&p, 0, sizeof(p));
	p.start = addr;
	p.end = addr + S2_LEVEL_SIZE(level);
	p.walk = table;
	p.pages = table ? S2_LEVEL_SIZE(level) >> PAGE_SHIFT : 1;
	if (table) {
		p.nr_ipa = S2_FLUSH_MAX_IPA + 1;
	} else {
		p.nr_ipa = 1;
		p.ipa[0].addr = addr;
		p.ipa[0].level = (uint8_t)level;
	}
	plan_execute(pt, &p);
}
