// SPDX-License-Identifier: MIT
/* Creation and teardown of a stage-2 table, and the checks every op shares. */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

unsigned int s2_root_level(const struct s2pt *pt)
{
	return pt->fmt.levels - 1;
}

int s2pt_init(struct s2pt *pt, unsigned int ia_bits, unsigned int flags,
	      uint16_t vmid)
{
	return s2pt_init_on(pt, ia_bits, flags, vmid, 0);
}

int s2pt_init_on(struct s2pt *pt, unsigned int ia_bits, unsigned int flags,
		 uint16_t vmid, paddr_t clean_root)
{
	s2pte_t *root;
	unsigned int n;
	int ret;

	memset(pt, 0, sizeof(*pt));
	if (flags & ~S2PT_F_MASK) {
		return -EINVAL;
	}
	ret = arch_s2_format_init(&pt->fmt, ia_bits);
	if (ret) {
		return ret;
	}
	pt->flags = flags;
	pt->vmid = vmid;
	/* Refused: the table has no MMIO SPTEs; the VM code says so. */
	s2_mmio_value_take(pt, arch_s2_mmio_value(flags));
	if (clean_root) {
		pt->root = clean_root;	/* already all absent */
		return 0;
	}
	ret = s2_root_alloc(pt->fmt.root_pages, &pt->root);
	if (ret) {
		return ret;
	}
	root = s2_table_va(pt->root);
	n = pt->fmt.root_pages * S2_PTRS_PER_TABLE;
	s2_fill_absent(pt, root, n);
	return 0;
}

/* Tables and leaves directly in the root, after the whole-VMID flush. */
static void destroy_root_entries(struct s2_op *op, bool cmo)
{
	struct s2pt *pt = op->pt;
	s2pte_t *root = s2_table_va(pt->root);
	unsigned int level = s2_root_level(pt);

	for (unsigned int i = 0; i < pt->fmt.root_entries; i++) {
		enum s2_pte_kind k = s2_kind(pt, root[i], level);

		if (k == S2_PTE_TABLE) {
			s2_free_subtree(op, s2_table_ref(pt, root[i]),
					level - 1, cmo);
		} else if (k == S2_PTE_LEAF && cmo &&
			   !(arch_s2_pte_prot(pt, root[i]) & S2_PROT_DEVICE)) {
			s2_cmo_add(op, arch_s2_pte_pa(root[i], level),
				   S2_LEVEL_SIZE(level));
		}
	}
}

void s2pt_destroy(struct s2pt *pt)
{
	struct s2_op op;

	if (!pt->root) {
		return;
	}
	if (pt->ext) {
		s2_mirror_teardown(pt);	/* through the module, leaves first */
	}
	if (pt->root_count) {
		/* A whole-VMID flush, walk caches included, before any free. */
		s2_op_init(&op, pt);
		op.plan.start = 0;
		op.plan.end = 1ULL << pt->fmt.ia_bits;
		op.plan.walk = true;
		op.plan.pages = ~0ULL;
		op.plan.nr_ipa = S2_FLUSH_MAX_IPA + 1;
		op.plan.kind = S2_FLUSH_ALL;
		s2_plan_commit(&op);
		destroy_root_entries(&op, s2_needs_cmo(pt));
		s2_plan_commit(&op);
	}
	s2_root_free(pt->root, pt->fmt.root_pages);
	pt->root = 0;
	pt->root_count = 0;
}

paddr_t s2pt_take_clean_root(struct s2pt *pt)
{
	paddr_t root = pt->root;

	if (!root || pt->root_count) {
		return 0;
	}
	pt->root = 0;
	return root;
}

uint64_t s2pt_root_desc(const struct s2pt *pt)
{
	return arch_s2_root_desc(pt);
}

int s2_check_range(const struct s2pt *pt, gpa_t gpa, uint64_t size)
{
	if (!pt->root) {
		return -EINVAL;
	}
	if (!size || !IS_ALIGNED(gpa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE)) {
		return -EINVAL;
	}
	if (gpa + size < gpa || gpa + size > (1ULL << pt->fmt.ia_bits)) {
		return -ERANGE;
	}
	return 0;
}

bool s2_audit_on = true;

void s2_op_done_shared(struct s2pt *pt, const char *op)
{
	/* Other CPUs may be half way through their own installs. */
	if (!pt->lock) {
		s2_op_done(pt, op);
	}
}

void s2_op_done(struct s2pt *pt, const char *op)
{
#ifdef CONFIG_MMU_AUDIT
	if (s2_audit_on && s2pt_audit(pt)) {
		pt->audit_failures++;
		pr_err("s2pt: audit failed after %s\n", op);
	}
#else
	(void)pt;
	(void)op;
#endif
}
