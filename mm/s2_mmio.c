// SPDX-License-Identifier: MIT
/*
 * MMIO SPTEs (DESIGN.md "Memslots and MMIO SPTEs", seed 004): a level-0
 * entry the hardware cannot use, holding the page's GPA and the memslot
 * generation, recognised as (pte & mask) == value, with the format's mask
 * and the table's value (its VM type). The encoding is the same for every
 * format; the format gives the constants. s2pt_set_mmio() installs
 * one in a single descent, like s2pt_map_fault() installs a page.
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

/* The generation bits of an MMIO SPTE for @gen (truncated). */
static s2pte_t mmio_gen_to_pte(uint64_t gen)
{
	uint64_t lo = gen & (BIT(S2_MMIO_GEN_LO_BITS) - 1);
	uint64_t hi = (gen >> S2_MMIO_GEN_LO_BITS) &
		      (BIT(S2_MMIO_GEN_HI_BITS) - 1);

	return (lo << S2_MMIO_GEN_LO_SHIFT) | (hi << S2_MMIO_GEN_HI_SHIFT);
}

s2pte_t s2pt_make_mmio(const struct s2pt *pt, gpa_t gpa, uint64_t gen)
{
	return pt->mmio_value | (gpa & pt->fmt.mmio_gpa_mask) |
	       mmio_gen_to_pte(gen);
}

uint64_t s2pt_mmio_gen(s2pte_t pte)
{
	uint64_t lo = (pte >> S2_MMIO_GEN_LO_SHIFT) &
		      (BIT(S2_MMIO_GEN_LO_BITS) - 1);
	uint64_t hi = (pte >> S2_MMIO_GEN_HI_SHIFT) &
		      (BIT(S2_MMIO_GEN_HI_BITS) - 1);

	return lo | (hi << S2_MMIO_GEN_LO_BITS);
}

gpa_t s2pt_mmio_gpa(const struct s2pt *pt, s2pte_t pte)
{
	return pte & pt->fmt.mmio_gpa_mask;
}

/*
 * An MMIO SPTE must stay a software entry whatever GPA and generation it
 * holds: never a usable translation for the hardware and never equal to the
 * VM's absent entry. (The format may call it absent, as EPT does an entry of
 * 0: the core classifies it with the table's value, s2pt_pte_kind().)
 */
static bool mmio_probe_ok(const struct s2pt *pt, s2pte_t pte)
{
	enum s2_pte_kind k = arch_s2_pte_kind(pte, 0);

	return k != S2_PTE_LEAF && k != S2_PTE_TABLE &&
	       pte != arch_s2_pte_absent(pt);
}

bool s2pt_mmio_value_valid(const struct s2pt *pt, s2pte_t mask,
			   s2pte_t value)
{
	s2pte_t data = pt->fmt.mmio_gpa_mask | S2PT_MMIO_GEN_MASK;

	if (!mask || (value & ~mask) || (mask & data)) {
		return false;
	}
	/* Every empty entry would be "MMIO" (value 0 on an ordinary VM). */
	if ((arch_s2_pte_absent(pt) & mask) == value) {
		return false;
	}
	/* The emptiest and the fullest entry of this value. */
	return mmio_probe_ok(pt, value) && mmio_probe_ok(pt, value | data);
}

/* Take @value for @pt if the validator accepts it; else no MMIO SPTEs. */
bool s2_mmio_value_take(struct s2pt *pt, s2pte_t value)
{
	pt->mmio_on = false;
	pt->mmio_value = value;
	pt->mmio_on = s2pt_mmio_value_valid(pt, pt->fmt.mmio_mask, value);
	return pt->mmio_on;
}

int s2pt_set_mmio_value(struct s2pt *pt, s2pte_t value)
{
	if (!pt->root || pt->root_count) {
		return -EBUSY;
	}
	return s2_mmio_value_take(pt, value) ? 0 : -EINVAL;
}

/*
 * One descent, as s2pt_map_fault() does: down to the first entry that is
 * not a table, which must be absent; the tables below it are built bottom
 * up in reserved pages (each marked as the MMIO SPTEs', so that freeing it
 * gives it back to counters.mmio_tables) and linked by one write.
 */
int s2pt_set_mmio(struct s2pt *pt, gpa_t gpa, uint64_t gen)
{
	unsigned int level = s2_root_level(pt);
	s2pte_t *table = s2_table_va(pt->root);
	s2pte_t *parent = NULL;		/* the table entry above @level */
	struct s2_page_cache cache;
	s2pte_t *ptep, e, new;
	int ret;

	ret = s2_check_range(pt, gpa, PAGE_SIZE);
	if (ret) {
		return ret;
	}
	if (!s2pt_mmio_enabled(pt)) {
		return -EOPNOTSUPP;
	}
	if (pt->ext) {
		return s2_mirror_refuse(pt);	/* MMIO is on the shared half */
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
	if (s2_kind(pt, e, level) != S2_PTE_ABSENT) {
		return -EEXIST;
	}
	if (level) {
		ret = s2_cache_reserve(pt, &cache, level);
		if (ret) {
			return ret;
		}
	}
	new = s2pt_make_mmio(pt, gpa, gen & S2_MMIO_GEN_MAX);
	for (unsigned int i = 0; i < level; i++) {
		paddr_t page = s2_cache_take(pt, &cache);
		s2pte_t *t = s2_table_va(page);

		s2_fill_new(pt, &t[s2_entry_index(pt, gpa, i)], i, new);
		pt->counters.mmio_tables++;
		new = arch_s2_make_table(pt, page, 1) | pt->fmt.table_mmio_bit;
	}
	s2_link_new(pt, ptep, e, level, parent, new);
	if (level) {
		s2_cache_release(pt, &cache);
	}
	s2_op_done(pt, "set_mmio");
	return 0;
}

int s2pt_get_mmio(const struct s2pt *pt, gpa_t gpa, uint64_t *gen)
{
	unsigned int level;
	s2pte_t pte;
	int ret = s2_find_entry(pt, gpa, &pte, &level);

	if (ret) {
		return ret;
	}
	if (level != 0 || !s2pt_is_mmio(pt, pte)) {
		return -ENOENT;
	}
	*gen = s2pt_mmio_gen(pte);
	return 0;
}

int s2pt_mmio_hint_fill(const struct s2pt *pt, gpa_t gpa,
			struct s2_mmio_hint *h, uint64_t *gen)
{
	unsigned int level = s2_root_level(pt);
	const s2pte_t *table, *ptep;
	s2pte_t e;
	int ret;

	*h = (struct s2_mmio_hint){ 0 };
	ret = s2_check_range(pt, ALIGN_DOWN(gpa, PAGE_SIZE), PAGE_SIZE);
	if (ret) {
		return ret;
	}
	if (!s2pt_mmio_enabled(pt) || pt->ext) {
		return -ENOENT;
	}
	h->tables_freed = __atomic_load_n(&pt->counters.tables_freed,
					  __ATOMIC_ACQUIRE);
	h->detaches = __atomic_load_n(&pt->counters.detaches,
				      __ATOMIC_ACQUIRE);
	table = s2_table_va(pt->root);
	for (;;) {
		ptep = &table[s2_entry_index(pt, gpa, level)];
		e = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
		if (level == 0 || s2_kind(pt, e, level) != S2_PTE_TABLE) {
			break;
		}
		table = s2_table_va(s2_table_pa(e));
		level--;
	}
	if (level != 0 || !s2pt_is_mmio(pt, e)) {
		*h = (struct s2_mmio_hint){ 0 };
		return -ENOENT;
	}
	h->pt = pt;
	h->ptep = ptep;
	h->pte = e;
	h->page = ALIGN_DOWN(gpa, PAGE_SIZE);
	*gen = s2pt_mmio_gen(e);
	return 0;
}
