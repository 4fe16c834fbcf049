// SPDX-License-Identifier: MIT
/* s2pt_dump(): the canonical text form of a table (golden files, debug). */
#include <lib/printk.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct dump_state {
	const struct s2pt *pt;
	s2_dump_fn emit;
	void *arg;
	int lines;
};

static void dump_emit(struct dump_state *st, const char *line)
{
	st->emit(st->arg, line);
	st->lines++;
}

static void dump_prot(char *s, unsigned int prot)
{
	s[0] = (prot & S2_PROT_R) ? 'r' : '-';
	s[1] = (prot & S2_PROT_W) ? 'w' : '-';
	s[2] = (prot & S2_PROT_X) ? 'x' : '-';
	s[3] = '\0';
}

static void dump_entry(struct dump_state *st, s2pte_t pte, gpa_t addr,
		       unsigned int level, unsigned int depth)
{
	const struct s2pt *pt = st->pt;
	gpa_t last = addr + S2_LEVEL_SIZE(level) - 1;
	char line[160];
	char prot[4];
	int n;

	n = ksnprintf(line, sizeof(line), "%*sL%u 0x%016llx-0x%016llx ",
		      (int)depth * 2, "", level, (unsigned long long)addr,
		      (unsigned long long)last);
	switch (s2_kind(pt, pte, level)) {
	case S2_PTE_TABLE:
		ksnprintf(line + n, sizeof(line) - n, "table n=%u",
			  arch_s2_table_count(pte));
		break;
	case S2_PTE_LEAF:
		dump_prot(prot, arch_s2_pte_prot(pt, pte));
		ksnprintf(line + n, sizeof(line) - n,
			  "leaf pa=0x%016llx %s %s pte=0x%016llx",
			  (unsigned long long)arch_s2_pte_pa(pte, level), prot,
			  (arch_s2_pte_prot(pt, pte) & S2_PROT_DEVICE) ?
			  "device" : "normal", (unsigned long long)pte);
		break;
	default:
		if (s2pt_is_mmio(pt, pte)) {
			ksnprintf(line + n, sizeof(line) - n,
				  "mmio gen=%llu pte=0x%016llx",
				  (unsigned long long)s2pt_mmio_gen(pte),
				  (unsigned long long)pte);
			break;
		}
		ksnprintf(line + n, sizeof(line) - n, "sw pte=0x%016llx",
			  (unsigned long long)pte);
		break;
	}
	dump_emit(st, line);
}

static void dump_table(struct dump_state *st, const s2pte_t *t,
		       unsigned int nr, unsigned int level, gpa_t base,
		       unsigned int depth)
{
	for (unsigned int i = 0; i < nr; i++) {
		gpa_t addr = base + (uint64_t)i * S2_LEVEL_SIZE(level);
		enum s2_pte_kind k = s2_kind(st->pt, t[i], level);

		if (k == S2_PTE_ABSENT) {
			continue;
		}
		dump_entry(st, t[i], addr, level, depth);
		if (k == S2_PTE_TABLE && level > 0) {
			dump_table(st, s2_table_va(s2_table_pa(t[i])),
				   S2_PTRS_PER_TABLE, level - 1, addr,
				   depth + 1);
		}
	}
}

int s2pt_dump(const struct s2pt *pt, s2_dump_fn emit, void *arg)
{
	struct dump_state st = { .pt = pt, .emit = emit, .arg = arg };
	char line[96];

	if (!pt->root) {
		return 0;
	}
	ksnprintf(line, sizeof(line), "%s ia=%u levels=%u roots=%u flags=0x%x",
		  pt->fmt.name, pt->fmt.ia_bits, pt->fmt.levels,
		  pt->fmt.root_pages, pt->flags);
	dump_emit(&st, line);
	dump_table(&st, s2_table_va(pt->root), pt->fmt.root_entries,
		   s2_root_level(pt), 0, 0);
	return st.lines;
}
