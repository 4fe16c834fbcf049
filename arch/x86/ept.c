// SPDX-License-Identifier: MIT
/*
 * The EPT encoding backend of the stage-2 core: 4-level walk, 4 KiB pages,
 * 2 MiB and 1 GiB leaves, R/W/X, memory type (WB or UC) with ignore-PAT, and
 * SUPPRESS_VE on every not-present entry of a VM that enables #VE. Built both
 * into the hypervisor and into the host tests.
 */
#include <lib/errno.h>
#include <mm/s2_arch.h>
#include <arch/ept.h>

_Static_assert(EPT_COUNT_MASK >> EPT_COUNT_SHIFT >= S2_PTRS_PER_TABLE,
	       "EPT count field holds 0..512");
_Static_assert((EPT_COUNT_MASK & (EPT_PA_MASK | EPT_SUPPRESS_VE)) == 0,
	       "EPT count bits overlap the address or SUPPRESS_VE");
_Static_assert((EPT_TABLE_MMIO & (EPT_COUNT_MASK | EPT_PA_MASK |
				  EPT_SUPPRESS_VE | EPT_RWX)) == 0,
	       "EPT MMIO table mark overlaps the count, address or RWX");
_Static_assert(EPT_SW_SHIFT + EPT_SW_BITS == 63,
	       "EPT software data stops below SUPPRESS_VE");

/* MMIO SPTE layout facts. */
_Static_assert((EPT_MMIO_VALUE & ~EPT_MMIO_MASK) == 0,
	       "EPT MMIO value lies inside the mask");
_Static_assert((EPT_MMIO_MASK & (EPT_MMIO_GPA_MASK | EPT_MMIO_GEN_MASK)) == 0,
	       "EPT MMIO mask overlaps the GPA or generation bits");
_Static_assert((EPT_MMIO_GPA_MASK & EPT_MMIO_GEN_MASK) == 0,
	       "EPT MMIO GPA and generation bits overlap");
_Static_assert((EPT_MMIO_VALUE & EPT_R) == 0 && (EPT_MMIO_VALUE & EPT_W),
	       "EPT MMIO value is write without read: a misconfiguration");
_Static_assert((EPT_MMIO_VALUE & EPT_SUPPRESS_VE) == 0,
	       "EPT MMIO value leaves SUPPRESS_VE clear");
_Static_assert((EPT_MMIO_VALUE_SECURE & ~EPT_MMIO_MASK) == 0 &&
	       (EPT_MMIO_VALUE_SECURE & (EPT_RWX | EPT_SUPPRESS_VE)) == 0,
	       "EPT secure MMIO value: not present, SUPPRESS_VE clear (#VE)");
_Static_assert((EPT_MMIO_MASK & EPT_SUPPRESS_VE) != 0,
	       "EPT MMIO mask tells a secure VM's absent entry from its value");
_Static_assert(EPT_MMIO_GPA_MASK == GENMASK(EPT_PA_BITS - 1, PAGE_SHIFT),
	       "EPT MMIO GPA field holds any 4 KiB page below 2^52");

unsigned int ept_block_levels = BIT(0) | BIT(1) | BIT(2);

int arch_s2_format_init(struct s2_format *fmt, unsigned int ia_bits)
{
	if (ia_bits < 32 || ia_bits > 48) {
		return -EINVAL;
	}
	*fmt = (struct s2_format){
		.name = "ept",
		.ia_bits = ia_bits,
		.levels = EPT_LEVELS,
		.root_pages = 1,
		.root_entries = S2_PTRS_PER_TABLE,
		.block_levels = ept_block_levels,
		/* Split and collapse need no break-before-make on EPT. */
		.caps = S2_FMT_NO_BBM,
		.mmio_mask = EPT_MMIO_MASK,
		.mmio_gpa_mask = EPT_MMIO_GPA_MASK,
		.table_mmio_bit = EPT_TABLE_MMIO,
	};
	return 0;
}

unsigned int arch_s2_pa_bits(void)
{
	return EPT_PA_BITS;
}

/* Write or execute without read is a misconfiguration (no execute-only). */
bool arch_s2_prot_valid(unsigned int prot)
{
	if (prot & ~S2_PROT_MASK) {
		return false;
	}
	return (prot & S2_PROT_R) != 0;
}

/* #VE and secure VMs: a not-present entry must not raise #VE. */
static bool ept_suppress_ve(const struct s2pt *pt)
{
	return (pt->flags & (S2PT_F_VE | S2PT_F_SECURE)) != 0;
}

s2pte_t arch_s2_pte_absent(const struct s2pt *pt)
{
	return ept_suppress_ve(pt) ? EPT_SUPPRESS_VE : 0;
}

enum s2_pte_kind arch_s2_pte_kind(s2pte_t pte, unsigned int level)
{
	if (!(pte & EPT_RWX)) {
		if ((pte & ~EPT_SUPPRESS_VE) == 0) {
			return S2_PTE_ABSENT;
		}
		return S2_PTE_INVALID_SW;
	}
	/* Write or execute without read: never written as a valid entry. */
	if (!(pte & EPT_R)) {
		return S2_PTE_INVALID_SW;
	}
	if (level == 0) {
		return S2_PTE_LEAF;
	}
	if (pte & EPT_LARGE) {
		return level < 3 ? S2_PTE_LEAF : S2_PTE_INVALID_SW;
	}
	return S2_PTE_TABLE;
}

s2pte_t arch_s2_make_table(const struct s2pt *pt, paddr_t pa,
			   unsigned int count)
{
	(void)pt;
	return (pa & EPT_PA_MASK) | EPT_RWX |
	       ((s2pte_t)count << EPT_COUNT_SHIFT);
}

unsigned int arch_s2_table_count(s2pte_t pte)
{
	return (unsigned int)((pte & EPT_COUNT_MASK) >> EPT_COUNT_SHIFT);
}

s2pte_t arch_s2_table_set_count(s2pte_t pte, unsigned int count)
{
	return (pte & ~EPT_COUNT_MASK) | ((s2pte_t)count << EPT_COUNT_SHIFT);
}

s2pte_t arch_s2_make_leaf(const struct s2pt *pt, paddr_t pa,
			  unsigned int prot, unsigned int level)
{
	s2pte_t pte = (pa & EPT_PA_MASK) | EPT_IGNORE_PAT;
	s2pte_t mt = (prot & S2_PROT_DEVICE) ? EPT_MT_UC : EPT_MT_WB;

	(void)pt;
	if (prot & S2_PROT_R) {
		pte |= EPT_R;
	}
	if (prot & S2_PROT_W) {
		pte |= EPT_W;
	}
	if (prot & S2_PROT_X) {
		pte |= EPT_X;
	}
	if (level > 0) {
		pte |= EPT_LARGE;
	}
	return pte | (mt << EPT_MT_SHIFT);
}

paddr_t arch_s2_pte_pa(s2pte_t pte, unsigned int level)
{
	return pte & EPT_PA_MASK & ~(S2_LEVEL_SIZE(level) - 1);
}

unsigned int arch_s2_pte_prot(const struct s2pt *pt, s2pte_t pte)
{
	unsigned int prot = 0;

	(void)pt;
	if (pte & EPT_R) {
		prot |= S2_PROT_R;
	}
	if (pte & EPT_W) {
		prot |= S2_PROT_W;
	}
	if (pte & EPT_X) {
		prot |= S2_PROT_X;
	}
	if (((pte & EPT_MT_MASK) >> EPT_MT_SHIFT) == EPT_MT_UC) {
		prot |= S2_PROT_DEVICE;
	}
	return prot;
}

s2pte_t arch_s2_make_sw(const struct s2pt *pt, uint64_t data)
{
	return (data << EPT_SW_SHIFT) | arch_s2_pte_absent(pt);
}

uint64_t arch_s2_pte_sw(s2pte_t pte)
{
	return (pte & ~EPT_SUPPRESS_VE) >> EPT_SW_SHIFT;
}

unsigned int arch_s2_sw_bits(void)
{
	return EPT_SW_BITS;
}

/*
 * With #VE on, a not-present entry without SUPPRESS_VE delivers #VE: only
 * a secure VM's MMIO SPTEs may (the audit checks those separately).
 */
bool arch_s2_absent_ok(const struct s2pt *pt, s2pte_t pte)
{
	if (!ept_suppress_ve(pt) || (pte & EPT_RWX)) {
		return true;
	}
	return (pte & EPT_SUPPRESS_VE) != 0;
}

/* Secure VMs take #VE on an MMIO SPTE, the others a misconfiguration. */
s2pte_t arch_s2_mmio_value(unsigned int flags)
{
	return (flags & S2PT_F_SECURE) ? EPT_MMIO_VALUE_SECURE : EPT_MMIO_VALUE;
}

uint64_t arch_s2_root_desc(const struct s2pt *pt)
{
	return (pt->root & EPT_PA_MASK) | EPTP_MT_WB |
	       ((uint64_t)(EPT_LEVELS - 1) << EPTP_WALK_SHIFT);
}
