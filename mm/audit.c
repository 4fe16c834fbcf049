// SPDX-License-Identifier: MIT
/*
 * The table audit (CONFIG_MMU_AUDIT runs it after every operation): stored
 * entry counts, reachable tables against those allocated (number and address
 * hash: a table reachable twice or leaked changes both), liveness of every
 * reachable table page, the tables taken for MMIO SPTEs against their count,
 * SUPPRESS_VE on the not-present entries of #VE VMs
 * (an MMIO SPTE is a misconfiguration, not a violation: it needs none),
 * leaves only at levels that may hold them, MMIO SPTEs only at level 0 and
 * holding their own GPA.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <mm/s2_ext.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct audit_state {
	const struct s2pt *pt;
	uint64_t tables;
	uint64_t mmio_tables;
	uint64_t sum;
	int errors;
};

static void audit_fail(struct audit_state *st, const char *what, gpa_t addr,
		       unsigned int level)
{
	if (st->errors++ < 8) {
		pr_err("s2pt audit: %s at 0x%llx level %u\n", what,
		       (unsigned long long)addr, level);
	}
}

static unsigned int audit_table(struct audit_state *st, const s2pte_t *t,
				unsigned int nr, unsigned int level,
				gpa_t base);

/* An MMIO SPTE is a 4 KiB entry that names its own page. */
static void audit_mmio(struct audit_state *st, s2pte_t pte, gpa_t addr,
		       unsigned int level)
{
	if (level != 0) {
		audit_fail(st, "MMIO SPTE above the last level", addr, level);
	} else if (s2pt_mmio_gpa(st->pt, pte) != addr) {
		audit_fail(st, "MMIO SPTE holds another GPA", addr, level);
	}
}

static void audit_entry(struct audit_state *st, s2pte_t pte, gpa_t addr,
			unsigned int level)
{
	const struct s2pt *pt = st->pt;
	enum s2_pte_kind k = s2_kind(pt, pte, level);
	bool mmio = k == S2_PTE_INVALID_SW && s2pt_is_mmio(pt, pte);
	paddr_t child;

	/* A secure VM's MMIO SPTEs raise #VE on purpose. */
	if (!mmio && !arch_s2_absent_ok(pt, pte)) {
		audit_fail(st, "not-present entry without SUPPRESS_VE", addr,
			   level);
	}
	if (k == S2_PTE_LEAF && !s2_level_has_blocks(pt, level)) {
		audit_fail(st, "leaf at a level without blocks", addr, level);
	}
	if (mmio) {
		audit_mmio(st, pte, addr, level);
	}
	if (s2_is_collapse_marker(pt, pte, level)) {
		audit_fail(st, "collapse marker left behind", addr, level);
	}
	if (pt->ext && s2pt_is_frozen(pt, pte, level)) {
		audit_fail(st, "frozen entry left behind", addr, level);
	}
	if (k != S2_PTE_TABLE || level == 0) {
		return;
	}
	child = s2_table_pa(pte);
	if (!s2_table_page_live(child)) {
		audit_fail(st, "table page not allocated", addr, level);
		return;
	}
	st->tables++;
	if (pte & pt->fmt.table_mmio_bit) {
		st->mmio_tables++;
	}
	st->sum += s2_table_hash(child);
	if (audit_table(st, s2_table_va(child), S2_PTRS_PER_TABLE, level - 1,
			addr) != arch_s2_table_count(pte)) {
		audit_fail(st, "entry count mismatch", addr, level);
	}
}

/* Returns the number of entries that are not absent. */
static unsigned int audit_table(struct audit_state *st, const s2pte_t *t,
				unsigned int nr, unsigned int level,
				gpa_t base)
{
	unsigned int used = 0;

	for (unsigned int i = 0; i < nr; i++) {
		gpa_t addr = base + (uint64_t)i * S2_LEVEL_SIZE(level);

		if (s2_kind(st->pt, t[i], level) != S2_PTE_ABSENT) {
			used++;
		}
		audit_entry(st, t[i], addr, level);
	}
	return used;
}

int s2pt_audit(const struct s2pt *pt)
{
	struct audit_state st = { .pt = pt };
	unsigned int used;

	if (!pt->root) {
		return 0;
	}
	used = audit_table(&st, s2_table_va(pt->root),
			   pt->fmt.root_pages * S2_PTRS_PER_TABLE,
			   s2_root_level(pt), 0);
	if (used != pt->root_count) {
		audit_fail(&st, "root entry count mismatch", 0,
			   s2_root_level(pt));
	}
	if (st.tables != pt->counters.tables_in_use ||
	    st.sum != pt->table_sum) {
		audit_fail(&st, "reachable tables differ from those allocated",
			   0, s2_root_level(pt));
	}
	if (st.mmio_tables != pt->counters.mmio_tables) {
		audit_fail(&st, "MMIO SPTE tables differ from those counted",
			   0, s2_root_level(pt));
	}
	return st.errors ? -EIO : 0;
}
