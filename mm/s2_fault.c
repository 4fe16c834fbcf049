// SPDX-License-Identifier: MIT
/*
 * s2pt_map_fault(): one walk per stage-2 fault. A dedicated descent (no
 * visitor, no counting pass: the entry it ends on decides everything) finds
 * the entry covering the faulting address; when it is absent, the largest
 * leaf the memslot and the alignment allow is built bottom-up in reserved
 * pages and linked with one write. Every entry goes through s2_walk_set()
 * and every count change through s2_walk_add_count(), like the walker's.
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

int s2pt_map_fault(struct s2pt *pt, gpa_t gpa, gpa_t lo, gpa_t hi,
		   paddr_t pa_lo, unsigned int prot,
		   struct s2_fault_result *res)
{
	unsigned int top = s2_root_level(pt);
	unsigned int level = top, leaf, i;
	s2pte_t *table = s2_table_va(pt->root);
	s2pte_t *parent = NULL;		/* the table entry above @level */
	struct s2_page_cache cache;
	s2pte_t *ptep, e, new;
	paddr_t pages[S2_MAX_LEVELS];
	int ret;

	ret = fault_check(pt, gpa, lo, hi, pa_lo, prot);
	if (ret) {
		return ret;
	}
	if (pt->ext) {
		return s2_mirror_fault(pt, gpa, lo, hi, pa_lo, prot, res);
	}
	for (;;) {
		ptep = &table[s2_entry_index(pt, gpa, level)];
		e = __atomic_load_n(ptep, __ATOMIC_RELAXED);
		if (level == 0 || s2_kind(pt, e, level) != S2_PTE_TABLE) {
			break;
		}
		parent = ptep;
		table = s2_table_va(s2_table_pa(e));
		level--;
	}
	res->pte = e;
	res->level = level;
	switch (s2_kind(pt, e, level)) {
	case S2_PTE_ABSENT:
		break;
	case S2_PTE_LEAF:
		res->found = S2_FAULT_LEAF;
		fault_report_leaf(pt, gpa, e, level, &res->t);
		return -EEXIST;
	default:
		if (level == 0 && s2pt_is_mmio(pt, e)) {
			res->found = S2_FAULT_MMIO;
			res->gen = s2pt_mmio_gen(e);
		} else {
			res->found = S2_FAULT_SW;
		}
		return -EEXIST;
	}

	leaf = fault_leaf_level(pt, gpa, lo, hi, pa_lo, level);
	if (level > leaf) {
		ret = s2_cache_reserve(pt, &cache, level - leaf);
		if (ret) {
			return ret;
		}
	}
	/* The leaf, then each new table's entry in the one above it. */
	{
		uint64_t size = S2_LEVEL_SIZE(leaf);
		gpa_t base = ALIGN_DOWN(gpa, size);

		new = arch_s2_make_leaf(pt, pa_lo + (base - lo), prot, leaf);
	}
	for (i = leaf; i < level; i++) {
		s2pte_t *t;

		pages[i] = s2_cache_take(pt, &cache);
		t = s2_table_va(pages[i]);
		s2_fill_new(pt, &t[s2_entry_index(pt, gpa, i)], i, new);
		new = arch_s2_make_table(pt, pages[i], 1);
	}
	s2_link_new(pt, ptep, e, level, parent, new);
	if (level > leaf) {
		s2_cache_release(pt, &cache);
	}
	res->found = S2_FAULT_INSTALLED;
	{
		s2pte_t lpte = level > leaf ?
			s2_table_va(pages[leaf])[s2_entry_index(pt, gpa, leaf)] :
			new;

		fault_report_leaf(pt, gpa, lpte, leaf, &res->t);
	}
	s2_op_done(pt, "map_fault");
	return 0;
}
