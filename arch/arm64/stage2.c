// SPDX-License-Identifier: MIT
/*
 * The arm64 stage-2 encoding backend of the core: 4 KiB granule, IPA sizes
 * 32..48 bits with the start level and concatenated roots VTCR_EL2 allows,
 * 4 KiB pages, 2 MiB and 1 GiB blocks, S2AP, XN, AF, SH, MemAttr in the normal
 * and FWB encodings, software data in invalid descriptors. Built both into
 * the hypervisor and into the host tests.
 */
#include <lib/errno.h>
#include <mm/s2_arch.h>
#include <arch/stage2.h>
#include <arch/stage2_flush.h>

_Static_assert(S2_COUNT_MASK >> S2_COUNT_SHIFT >= S2_PTRS_PER_TABLE,
	       "stage-2 count field holds 0..512");
_Static_assert((S2_COUNT_MASK & (S2_PA_MASK | S2_DESC_TYPE_MASK)) == 0,
	       "stage-2 count bits overlap the address or the type");
_Static_assert((S2_TABLE_MMIO & (S2_COUNT_MASK | GENMASK(51, 0) |
				 GENMASK(63, 59))) == 0,
	       "stage-2 MMIO table mark is outside the ignored bits 58:52");

/* MMIO SPTE layout facts. */
_Static_assert((S2_MMIO_VALUE & ~S2_MMIO_MASK) == 0,
	       "stage-2 MMIO value lies inside the mask");
_Static_assert((S2_MMIO_MASK & (S2_MMIO_GPA_MASK | S2_MMIO_GEN_MASK)) == 0,
	       "stage-2 MMIO mask overlaps the IPA or generation bits");
_Static_assert((S2_MMIO_GPA_MASK & S2_MMIO_GEN_MASK) == 0,
	       "stage-2 MMIO IPA and generation bits overlap");
_Static_assert((S2_MMIO_VALUE & S2_DESC_VALID) == 0 && S2_MMIO_VALUE != 0,
	       "stage-2 MMIO value is a non-zero invalid descriptor");
_Static_assert(S2_MMIO_GPA_MASK == GENMASK(S2_PA_BITS - 1, PAGE_SHIFT),
	       "stage-2 MMIO IPA field holds any 4 KiB page below 2^48");

/*
 * The fewest levels for @ia_bits when up to 16 tables may be concatenated at
 * the start level (Linux's stage2_pgtable_levels()).
 */
static unsigned int stage2_levels(unsigned int ia_bits)
{
	return (ia_bits - 8) / 9;
}

int arch_s2_format_init(struct s2_format *fmt, unsigned int ia_bits)
{
	unsigned int levels, entries;

	if (ia_bits < 32 || ia_bits > 48) {
		return -EINVAL;
	}
	levels = stage2_levels(ia_bits);
	entries = 1U << (ia_bits - S2_LEVEL_SHIFT(levels - 1));
	*fmt = (struct s2_format){
		.name = "stage2",
		.ia_bits = ia_bits,
		.levels = levels,
		.root_pages = MAX(entries / S2_PTRS_PER_TABLE, 1U),
		.root_entries = entries,
		.block_levels = (BIT(0) | BIT(1) | BIT(2)) & (BIT(levels) - 1),
		.caps = S2_FMT_TLBI_IPA | S2_FMT_CMO,
		.mmio_mask = S2_MMIO_MASK,
		.mmio_gpa_mask = S2_MMIO_GPA_MASK,
		.table_mmio_bit = S2_TABLE_MMIO,
	};
	return 0;
}

unsigned int arch_s2_pa_bits(void)
{
	return S2_PA_BITS;
}

bool arch_s2_prot_valid(unsigned int prot)
{
	return !(prot & ~S2_PROT_MASK) && (prot & S2_PROT_RWX);
}

s2pte_t arch_s2_pte_absent(const struct s2pt *pt)
{
	(void)pt;
	return 0;
}

enum s2_pte_kind arch_s2_pte_kind(s2pte_t pte, unsigned int level)
{
	if (!(pte & S2_DESC_VALID)) {
		return pte ? S2_PTE_INVALID_SW : S2_PTE_ABSENT;
	}
	if ((pte & S2_DESC_TYPE_MASK) == S2_DESC_PAGE) {
		return level ? S2_PTE_TABLE : S2_PTE_LEAF;
	}
	/* Blocks exist at 2 MiB and 1 GiB only; elsewhere they fault. */
	return (level == 1 || level == 2) ? S2_PTE_LEAF : S2_PTE_INVALID_SW;
}

s2pte_t arch_s2_make_table(const struct s2pt *pt, paddr_t pa,
			   unsigned int count)
{
	(void)pt;
	return (pa & S2_PA_MASK) | S2_DESC_PAGE |
	       ((s2pte_t)count << S2_COUNT_SHIFT);
}

unsigned int arch_s2_table_count(s2pte_t pte)
{
	return (unsigned int)((pte & S2_COUNT_MASK) >> S2_COUNT_SHIFT);
}

s2pte_t arch_s2_table_set_count(s2pte_t pte, unsigned int count)
{
	return (pte & ~S2_COUNT_MASK) | ((s2pte_t)count << S2_COUNT_SHIFT);
}

static s2pte_t stage2_memattr(const struct s2pt *pt, unsigned int prot)
{
	bool device = prot & S2_PROT_DEVICE;

	if (pt->flags & S2PT_F_FWB) {
		return device ? S2_MEMATTR_FWB_DEVICE : S2_MEMATTR_FWB_NORMAL;
	}
	return device ? S2_MEMATTR_DEVICE : S2_MEMATTR_NORMAL;
}

s2pte_t arch_s2_make_leaf(const struct s2pt *pt, paddr_t pa,
			  unsigned int prot, unsigned int level)
{
	s2pte_t pte = (pa & S2_PA_MASK) | S2_AF | (S2_SH_IS << S2_SH_SHIFT);

	pte |= stage2_memattr(pt, prot) << S2_MEMATTR_SHIFT;
	pte |= level ? S2_DESC_BLOCK : S2_DESC_PAGE;
	if (prot & S2_PROT_R) {
		pte |= S2_AP_R;
	}
	if (prot & S2_PROT_W) {
		pte |= S2_AP_W;
	}
	if (!(prot & S2_PROT_X)) {
		pte |= S2_XN;
	}
	return pte;
}

paddr_t arch_s2_pte_pa(s2pte_t pte, unsigned int level)
{
	return pte & S2_PA_MASK & ~(S2_LEVEL_SIZE(level) - 1);
}

/* MemAttr[3:2] == 0 is Device; with FWB, MemAttr[2] == 0 is Device. */
static bool stage2_is_device(const struct s2pt *pt, s2pte_t pte)
{
	s2pte_t attr = (pte & S2_MEMATTR_MASK) >> S2_MEMATTR_SHIFT;

	if (pt->flags & S2PT_F_FWB) {
		return !(attr & 0x4);
	}
	return !(attr & 0xc);
}

unsigned int arch_s2_pte_prot(const struct s2pt *pt, s2pte_t pte)
{
	unsigned int prot = 0;

	if (pte & S2_AP_R) {
		prot |= S2_PROT_R;
	}
	if (pte & S2_AP_W) {
		prot |= S2_PROT_W;
	}
	if (!(pte & S2_XN)) {
		prot |= S2_PROT_X;
	}
	if (stage2_is_device(pt, pte)) {
		prot |= S2_PROT_DEVICE;
	}
	return prot;
}

s2pte_t arch_s2_make_sw(const struct s2pt *pt, uint64_t data)
{
	(void)pt;
	return data << S2_SW_SHIFT;
}

uint64_t arch_s2_pte_sw(s2pte_t pte)
{
	return pte >> S2_SW_SHIFT;
}

unsigned int arch_s2_sw_bits(void)
{
	return S2_SW_BITS;
}

bool arch_s2_absent_ok(const struct s2pt *pt, s2pte_t pte)
{
	(void)pt;
	(void)pte;
	return true;
}

/* One value for every VM type: S2PT_F_SECURE means nothing here. */
s2pte_t arch_s2_mmio_value(unsigned int flags)
{
	(void)flags;
	return S2_MMIO_VALUE;
}

uint64_t arch_s2_root_desc(const struct s2pt *pt)
{
	return (pt->root & S2_PA_MASK) | ((uint64_t)pt->vmid << 48);
}

/*
 * T0SZ = 64 - IPA bits; SL0 = 2 - (Arm start level) = levels - 2 for 4 KiB;
 * inner/outer write-back cacheable walks, inner shareable, TG0 4 KiB,
 * 8-bit VMID, RES1 bit 31.
 */
uint64_t stage2_vtcr(const struct s2pt *pt, unsigned int ps)
{
	uint64_t vtcr = 64 - pt->fmt.ia_bits;

	vtcr |= (uint64_t)(pt->fmt.levels - 2) << 6;
	vtcr |= 1ULL << 8 | 1ULL << 10 | 3ULL << 12;
	vtcr |= (uint64_t)(ps & 7) << 16;
	vtcr |= BIT(31);
	return vtcr;
}

/*
 * Range invalidation operands (FEAT_TLBIRANGE): each covers (NUM + 1) <<
 * (5 * SCALE + 1) pages, so an odd page count starts with one per-IPA TLBI
 * and the rest is taken scale by scale, lowest first.
 */
unsigned int stage2_tlbi_range_ops(uint64_t ipa, uint64_t pages,
				   uint64_t ops[5])
{
	unsigned int n = 0;
	uint64_t page = ipa >> PAGE_SHIFT;

	if (pages & 1) {
		ops[n++] = BIT(63) | page;
		page++;
		pages--;
	}
	for (unsigned int scale = 0; scale < 4 && pages; scale++) {
		unsigned int shift = 5 * scale + 1;
		uint64_t num = (pages >> shift) & 31;

		if (!num) {
			continue;
		}
		/* NUM + 1 chunks of 2^shift pages, NUM encoded minus one. */
		ops[n++] = TLBIR_TG_4K |
			   ((uint64_t)scale << TLBIR_SCALE_SHIFT) |
			   ((num - 1) << TLBIR_NUM_SHIFT) |
			   (page & TLBIR_BADDR_MASK);
		page += num << shift;
		pages -= num << shift;
	}
	return n;
}
