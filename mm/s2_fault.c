// SPDX-License-Identifier: MIT
/*
 * s2pt_map_fault(): one walk per stage-2 fault, under the MMU lock held
 * SHARED (docs/mmu.md "Many CPUs"): other CPUs may fault into the same table
 * at once. A dedicated descent (no visitor, no counting pass: the entry it
 * ends on decides everything) finds the entry covering the faulting
 * address; when it is absent, the largest leaf the memslot and the alignment
 * allow is built bottom-up in reserved pages that nothing can reach yet and
 * linked with one compare-and-exchange. A fault that loses the race walks
 * again with the pages it already holds (counters.fault_retries); the count
 * of the table it installed into is raised by a compare-and-exchange loop.
 */
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

static int fault_check(const struct s2pt *pt, gpa_t gpa, gpa_t lo, gpa_t hi,
		       paddr_t pa_lo, unsigned int prot)
{
	if (!IS_ALIGNED(lo, PAGE_SIZE) || !IS_ALIGNED(hi, PAGE_SIZE) ||
	    !IS_ALIGNED(pa_lo, PAGE_SIZE) || gpa < lo || gpa >= hi ||
	    !arch_s2_prot_valid(prot)) {
		return -EINVAL;
	}
	if (!pt->root || gpa >= (1ULL << pt->fmt.ia_bits)) {
		return -ERANGE;
	}
	if (pa_lo + (hi - lo) < pa_lo ||
	    pa_lo + (hi - lo) > (1ULL << arch_s2_pa_bits())) {
		return -ERANGE;
	}
	return 0;
}

/* The largest level <= @top whose block around @gpa can be one leaf. */
static unsigned int fault_leaf_level(const struct s2pt *pt, gpa_t gpa,
				     gpa_t lo, gpa_t hi, paddr_t pa_lo,
				     unsigned int top)
{
	for (unsigned int l = MIN(top, 2U); l > 0; l--) {
		uint64_t size = S2_LEVEL_SIZE(l);
		gpa_t base = ALIGN_DOWN(gpa, size);

		if (s2_level_has_blocks(pt, l) && base >= lo &&
		    hi - base >= size && IS_ALIGNED(pa_lo + (base - lo), size)) {
			return l;
		}
	}
	return 0;
}

static void fault_report_leaf(const struct s2pt *pt, gpa_t gpa, s2pte_t pte,
			      unsigned int level, struct s2_translation *t)
{
	t->pa = arch_s2_pte_pa(pte, level) + (gpa & (S2_LEVEL_SIZE(level) - 1));
	t->prot = arch_s2_pte_prot(pt, pte);
	t->level = level;
	t->pte = pte;
}

/* Where the descent for @gpa ended. */
struct fault_walk {
	s2pte_t *ptep;		/* the entry the hardware would end on */
	s2pte_t e;		/* its value */
	unsigned int level;
	s2pte_t *parent;	/* the table entry above it (NULL: the root) */
};

/*
 * Acquire loads: a table linked by another CPU's compare-and-exchange
 * (a release) is read with the contents that CPU wrote before linking it.
 */
static void fault_descend(const struct s2pt *pt, gpa_t gpa,
			  struct fault_walk *fw)
{
	unsigned int level = s2_root_level(pt);
	s2pte_t *table = s2_table_va(pt->root);
	s2pte_t *parent = NULL;
	s2pte_t *ptep, e;

	for (;;) {
		ptep = &table[s2_entry_index(pt, gpa, level)];
		e = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
		if (level == 0 || s2_kind(pt, e, level) != S2_PTE_TABLE) {
			break;
		}
		parent = ptep;
		table = s2_table_va(s2_table_pa(e));
		level--;
	}
	*fw = (struct fault_walk){
		.ptep = ptep, .e = e, .level = level, .parent = parent,
	};
}

/* -EEXIST and @res when the entry the descent ended on is not absent. */
static int fault_found(const struct s2pt *pt, gpa_t gpa,
		       const struct fault_walk *fw,
		       struct s2_fault_result *res)
{
	res->pte = fw->e;
	res->level = fw->level;
	switch (s2_kind(pt, fw->e, fw->level)) {
	case S2_PTE_ABSENT:
		return 0;
	case S2_PTE_LEAF:
		res->found = S2_FAULT_LEAF;
		fault_report_leaf(pt, gpa, fw->e, fw->level, &res->t);
		return -EEXIST;
	default:
		if (fw->level == 0 && s2pt_is_mmio(pt, fw->e)) {
			res->found = S2_FAULT_MMIO;
			res->gen = s2pt_mmio_gen(fw->e);
		} else {
			res->found = S2_FAULT_SW;
		}
		return -EEXIST;
	}
}

/* Top the reservation up to @n pages; the pages a lost race left are kept. */
static int fault_reserve(struct s2pt *pt, struct s2_page_cache *c,
			 unsigned long n)
{
	struct s2_page_cache more;
	int ret;

	if (c->nr >= n) {
		return 0;
	}
	ret = s2_cache_reserve(pt, &more, n - c->nr);
	if (ret) {
		return ret;
	}
	while (more.nr) {
		paddr_t pa = more.head;

		more.head = *(paddr_t *)s2_table_va(pa);
		more.nr--;
		*(paddr_t *)s2_table_va(pa) = c->head;
		c->head = pa;
		c->nr++;
	}
	return 0;
}

/* A reserved page, off the list and not yet accounted as a table. */
static paddr_t fault_page_pop(struct s2_page_cache *c)
{
	paddr_t pa = c->head;

	c->head = *(paddr_t *)s2_table_va(pa);
	c->nr--;
	return pa;
}

static void fault_page_push(struct s2_page_cache *c, paddr_t pa)
{
	*(paddr_t *)s2_table_va(pa) = c->head;
	c->head = pa;
	c->nr++;
}

/* One more entry in the table @parent links (the root's when NULL). */
static void fault_count_add(struct s2pt *pt, s2pte_t *parent,
			    unsigned int level)
{
	s2pte_t old, new;

	if (!parent) {
		__atomic_fetch_add(&pt->root_count, 1, __ATOMIC_RELAXED);
		return;
	}
	/*
	 * Other faults add to the same count at once: a CAS loop on the bits
	 * the hardware ignores, which changes no translation (and keeps an
	 * accessed flag the walker may set in the entry meanwhile).
	 */
	old = __atomic_load_n(parent, __ATOMIC_RELAXED);
	do {
		new = arch_s2_table_set_count(old,
					      arch_s2_table_count(old) + 1);
	} while (!__atomic_compare_exchange_n(parent, &old, new, false,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	s2_pte_written(parent, old, new, level + 1);
	s2_counter_add(&pt->counters.count_writes, 1);
}

/*
 * Build the leaf for @gpa at @leaf and the tables from @leaf up to (not
 * including) @fw->level in pages from @c, bottom up, none of them linked
 * yet; the value to link at @fw->ptep is returned, @pages holds the
 * tables (@pages[@leaf] the lowest) and *@leaf_pte the leaf.
 */
static s2pte_t fault_build(struct s2pt *pt, gpa_t gpa, gpa_t lo,
			   paddr_t pa_lo, unsigned int prot,
			   unsigned int leaf, unsigned int level,
			   struct s2_page_cache *c, paddr_t *pages,
			   s2pte_t *leaf_pte)
{
	uint64_t size = S2_LEVEL_SIZE(leaf);
	gpa_t base = ALIGN_DOWN(gpa, size);
	s2pte_t new = arch_s2_make_leaf(pt, pa_lo + (base - lo), prot, leaf);

	*leaf_pte = new;
	for (unsigned int i = leaf; i < level; i++) {
		s2pte_t *t;

		pages[i] = fault_page_pop(c);
		t = s2_table_va(pages[i]);
		s2_fill_absent(pt, t, S2_PTRS_PER_TABLE);
		s2_fill_unlinked(pt, &t[s2_entry_index(pt, gpa, i)], i, new);
		new = arch_s2_make_table(pt, pages[i], 1);
	}
	return new;
}

/*
 * Link @new over the absent entry the descent found, by compare-and-exchange
 * (release: the subtree below is complete before anything can walk into it).
 * False when another fault changed the entry first.
 */
static bool fault_try_link(const struct fault_walk *fw, s2pte_t new)
{
	s2pte_t old = fw->e;

	if (!__atomic_compare_exchange_n(fw->ptep, &old, new, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
		return false;
	}
	s2_pte_written(fw->ptep, fw->e, new, fw->level);
	return true;
}

int s2pt_map_fault(struct s2pt *pt, gpa_t gpa, gpa_t lo, gpa_t hi,
		   paddr_t pa_lo, unsigned int prot,
		   struct s2_fault_result *res)
{
	struct s2_page_cache cache = { .head = 0, .nr = 0 };
	paddr_t pages[S2_MAX_LEVELS];
	struct fault_walk fw;
	unsigned int leaf;
	s2pte_t new, lpte;
	int ret;

	ret = fault_check(pt, gpa, lo, hi, pa_lo, prot);
	if (ret) {
		return ret;
	}
	if (pt->ext) {
		return s2_mirror_fault(pt, gpa, lo, hi, pa_lo, prot, res);
	}
	s2_assert_shared(pt);
	for (;;) {
		fault_descend(pt, gpa, &fw);
		ret = fault_found(pt, gpa, &fw, res);
		if (ret) {
			break;
		}
		leaf = fault_leaf_level(pt, gpa, lo, hi, pa_lo, fw.level);
		ret = fault_reserve(pt, &cache, fw.level - leaf);
		if (ret) {
			break;
		}
		new = fault_build(pt, gpa, lo, pa_lo, prot, leaf, fw.level,
				  &cache, pages, &lpte);
		if (fault_try_link(&fw, new)) {
			break;
		}
		/*
		 * Lost the race: another fault installed something here. Its
		 * pages go back to the reservation for the next try, which
		 * walks again. Under the lock shared entries only go from
		 * absent to present, so that walk ends at the same level or
		 * below and needs no page more than this try held: a retry
		 * never allocates.
		 */
		for (unsigned int i = leaf; i < fw.level; i++) {
			fault_page_push(&cache, pages[i]);
		}
		s2_counter_add(&pt->counters.fault_retries, 1);
	}
	if (ret) {
		s2_cache_release(pt, &cache);
		return ret;
	}
	for (unsigned int i = leaf; i < fw.level; i++) {
		s2_table_account_new(pt, pages[i]);
	}
	s2_counter_add(&pt->counters.entries_written, fw.level - leaf + 1);
	fault_count_add(pt, fw.parent, fw.level);
	s2_cache_release(pt, &cache);
	res->found = S2_FAULT_INSTALLED;
	fault_report_leaf(pt, gpa, lpte, leaf, &res->t);
	s2_op_done_shared(pt, "map_fault");
	return 0;
}
