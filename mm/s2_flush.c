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
void s2_plan_leaf(struct s2pt *pt, gpa_t addr, unsigned int level)
{
	struct s2_flush_plan *p = &pt->plan;

	plan_extend(p, addr, addr + S2_LEVEL_SIZE(level));
	p->pages++;
	plan_ipa(p, addr, (uint8_t)level);
}

/*
 * An empty table's entry was cleared: its leaves were already planned, only
 * the walk-cache entry for the table remains (a non-leaf TLBI by any address
 * in its range).
 */
void s2_plan_empty_table(struct s2pt *pt, gpa_t addr, unsigned int level)
{
	struct s2_flush_plan *p = &pt->plan;

	plan_extend(p, addr, addr + S2_LEVEL_SIZE(level));
	p->walk = true;
	p->pages++;
	plan_ipa(p, addr, S2_LEVEL_ANY);
}

/* A whole subtree was detached: every page of its range may be cached. */
void s2_plan_detached(struct s2pt *pt, gpa_t addr, unsigned int level)
{
	struct s2_flush_plan *p = &pt->plan;

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
void s2_plan_replaced(struct s2pt *pt, gpa_t addr, unsigned int level,
		      bool table)
{
	if (table) {
		s2_plan_detached(pt, addr, level);
	} else {
		s2_plan_leaf(pt, addr, level);
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

static void cmo_flush(struct s2pt *pt)
{
	uint64_t pages = 0;

	if (!pt->nr_cmo) {
		return;
	}
	for (unsigned int i = 0; i < pt->nr_cmo; i++) {
		pages += pt->cmo[i].size >> PAGE_SHIFT;
	}
	arch_s2_cmo(pt, pt->cmo, pt->nr_cmo);
	pt->counters.cmo_pages += pages;
	pt->nr_cmo = 0;
}

static struct s2_cmo_range *cmo_last(struct s2pt *pt)
{
	return pt->nr_cmo ? &pt->cmo[pt->nr_cmo - 1] : NULL;
}

/* Queue a CMO; must only be executed after the plan covering it. */
static void cmo_queue(struct s2pt *pt, paddr_t pa, uint64_t size)
{
	struct s2_cmo_range *last = cmo_last(pt);

	if (last && last->pa + last->size == pa) {
		last->size += size;
		return;
	}
	pt->cmo[pt->nr_cmo].pa = pa;
	pt->cmo[pt->nr_cmo].size = size;
	pt->nr_cmo++;
}

/*
 * A full CMO or deferred-free list forces the plan out early: correct (the
 * changes so far are invalidated before their pages are touched), only
 * slower, and counted.
 */
static void commit_early(struct s2pt *pt)
{
	pt->counters.early_flushes++;
	s2_plan_commit(pt);
}

void s2_cmo_add(struct s2pt *pt, paddr_t pa, uint64_t size)
{
	struct s2_cmo_range *last = cmo_last(pt);

	if (pt->nr_cmo == S2_CMO_MAX && last->pa + last->size != pa) {
		commit_early(pt);
	}
	cmo_queue(pt, pa, size);
}

void s2_defer_free(struct s2pt *pt, paddr_t table, unsigned int level,
		   bool cmo)
{
	if (pt->nr_defer == S2_DEFER_MAX) {
		commit_early(pt);
	}
	pt->defer[pt->nr_defer++] = table | level | (cmo ? S2_DEFER_CMO : 0);
}

/* CMOs issued after the invalidation, in batches, while freeing a subtree. */
static void subtree_cmo(struct s2pt *pt, paddr_t pa, uint64_t size)
{
	struct s2_cmo_range *last = cmo_last(pt);

	if (pt->nr_cmo == S2_CMO_MAX && last->pa + last->size != pa) {
		cmo_flush(pt);
	}
	cmo_queue(pt, pa, size);
}

void s2_free_subtree(struct s2pt *pt, paddr_t table, unsigned int level,
		     bool cmo)
{
	s2pte_t *t = s2_table_va(table);

	if (level == 0 && !cmo) {
		/* Pages only, nothing to clean: no entry needs reading. */
		s2_table_free(pt, table);
		return;
	}
	for (unsigned int i = 0; i < S2_PTRS_PER_TABLE; i++) {
		s2pte_t pte = t[i];
		enum s2_pte_kind k = s2_kind(pte, level);

		if (k == S2_PTE_TABLE && level > 0) {
			s2_free_subtree(pt, s2_table_pa(pte), level - 1, cmo);
		} else if (k == S2_PTE_LEAF && cmo &&
			   !(arch_s2_pte_prot(pt, pte) & S2_PROT_DEVICE)) {
			subtree_cmo(pt, arch_s2_pte_pa(pte, level),
				    S2_LEVEL_SIZE(level));
		}
	}
	s2_table_free(pt, table);
}

void s2_plan_commit(struct s2pt *pt)
{
	unsigned int n = pt->nr_defer;

	if (pt->plan.kind != S2_FLUSH_NONE) {
		plan_execute(pt, &pt->plan);
	}
	cmo_flush(pt);
	/* Detached subtrees' leaves are cleaned only now, after the TLBI. */
	pt->nr_defer = 0;
	for (unsigned int i = 0; i < n; i++) {
		paddr_t d = pt->defer[i];

		s2_free_subtree(pt, ALIGN_DOWN(d, PAGE_SIZE), d & 3,
				d & S2_DEFER_CMO);
	}
	cmo_flush(pt);
	memset(&pt->plan, 0, sizeof(pt->plan));
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
