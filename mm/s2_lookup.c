// SPDX-License-Identifier: MIT
/* s2pt_lookup(): one address through the table, as the hardware walks it. */
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

int s2_find_entry(const struct s2pt *pt, gpa_t gpa, s2pte_t *pte,
		  unsigned int *level)
{
	unsigned int l = s2_root_level(pt);
	const s2pte_t *table = s2_table_va(pt->root);
	uint64_t idx;
	s2pte_t e;

	if (!pt->root || gpa >= (1ULL << pt->fmt.ia_bits)) {
		return -ERANGE;
	}
	idx = gpa >> S2_LEVEL_SHIFT(l);
	for (;;) {
		/* Acquire: a table another CPU's fault just linked. */
		e = __atomic_load_n(&table[idx], __ATOMIC_ACQUIRE);
		if (l == 0 || s2_kind(pt, e, l) != S2_PTE_TABLE) {
			break;
		}
		table = s2_table_va(s2_table_pa(e));
		l--;
		idx = (gpa >> S2_LEVEL_SHIFT(l)) & (S2_PTRS_PER_TABLE - 1);
	}
	*pte = e;
	*level = l;
	return 0;
}

int s2pt_walk_level(const struct s2pt *pt, gpa_t gpa, unsigned int *level)
{
	s2pte_t pte;

	return s2_find_entry(pt, gpa, &pte, level);
}

int s2pt_lookup(const struct s2pt *pt, gpa_t gpa, struct s2_translation *out)
{
	unsigned int level;
	s2pte_t pte;
	int ret = s2_find_entry(pt, gpa, &pte, &level);

	if (ret) {
		return ret;
	}
	if (s2_kind(pt, pte, level) != S2_PTE_LEAF) {
		return -ENOENT;
	}
	out->pa = arch_s2_pte_pa(pte, level) +
		  (gpa & (S2_LEVEL_SIZE(level) - 1));
	out->prot = arch_s2_pte_prot(pt, pte);
	out->level = level;
	out->pte = pte;
	return 0;
}
