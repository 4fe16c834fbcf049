// SPDX-License-Identifier: MIT
/* s2pt_lookup(): one address through the table, as the hardware walks it. */
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

int s2pt_lookup(const struct s2pt *pt, gpa_t gpa, struct s2_translation *out)
{
	unsigned int level = s2_root_level(pt);
	const s2pte_t *table = s2_table_va(pt->root);
	uint64_t idx;

	if (!pt->root || gpa >= (1ULL << pt->fmt.ia_bits)) {
		return -ERANGE;
	}
	idx = gpa >> S2_LEVEL_SHIFT(level);
	for (;;) {
		s2pte_t pte = __atomic_load_n(&table[idx], __ATOMIC_RELAXED);
		enum s2_pte_kind k = s2_kind(pte, level);

		if (k == S2_PTE_LEAF) {
			out->pa = arch_s2_pte_pa(pte, level) +
				  (gpa & (S2_LEVEL_SIZE(level) - 1));
			out->prot = arch_s2_pte_prot(pt, pte);
			out->level = level;
			out->pte = pte;
			return 0;
		}
		if (k != S2_PTE_TABLE || level == 0) {
			return -ENOENT;
		}
		table = s2_table_va(s2_table_pa(pte));
		level--;
		idx = (gpa >> S2_LEVEL_SHIFT(level)) & (S2_PTRS_PER_TABLE - 1);
	}
}
