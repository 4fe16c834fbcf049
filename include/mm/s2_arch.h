/* SPDX-License-Identifier: MIT */
/*
 * The architecture contract of the stage-2 core: what each table format
 * provides as plain link-time functions (no function pointers), and what
 * the environment provides. Implemented by arch/x86/ept.c and ept_flush.c
 * (Intel EPT), arch/arm64/stage2.c and stage2_flush.c (VMSAv8-64 stage 2),
 * mm/s2_pages.c (the hypervisor's table pages) and, on the host, by
 * tests/unit/core/host_hooks.c. Only mm/, the architectures' stage-2 code
 * and tests include it.
 *
 * Rules every format must keep (pinned by static_assert next to it):
 *  - an entry is classified by arch_s2_pte_kind() from its bits and level
 *    alone; the table's MMIO SPTE value is applied on top by the core;
 *  - the absent entry (arch_s2_pte_absent()) classifies as S2_PTE_ABSENT;
 *    software entries (arch_s2_make_sw()) as S2_PTE_INVALID_SW;
 *  - a table entry's child count lives in bits the hardware ignores, and
 *    arch_s2_table_set_count() changes nothing else;
 *  - arch_s2_flush() returns only when no TLB or walk-cache entry the plan
 *    covers survives on any CPU.
 */
#ifndef STRATA_MM_S2_ARCH_H
#define STRATA_MM_S2_ARCH_H

#include <mm/s2pt.h>

/* Flush plan kinds. */
enum s2_flush_kind {
	S2_FLUSH_NONE,
	S2_FLUSH_IPA,	/* invalidate each address in ipa[] */
	S2_FLUSH_RANGE,	/* invalidate [start, end) (FEAT_TLBIRANGE) */
	S2_FLUSH_ALL,	/* whole VMID / single-context INVEPT */
};

#define S2_FLUSH_MAX_IPA	32
#define S2_LEVEL_ANY		0xff	/* no level hint (TTL) */

/**
 * struct s2_flush_plan - the invalidation an operation needs.
 * @kind: what the executor does.
 * @walk: table entries were cleared: walk-cache (non-leaf) entries for the
 *	covered addresses must be invalidated too (no last-level-only TLBI).
 * @start: start of the hull of every changed range.
 * @end: end (exclusive) of that hull.
 * @pages: 4 KiB granules an IPA-by-IPA invalidation would have to cover
 *	(leaves count one each, a detached subtree its size in pages).
 * @nr_ipa: entries used in @ipa (kind S2_FLUSH_IPA).
 * @ipa: addresses to invalidate, each with the level of the leaf that was
 *	changed there (S2_LEVEL_ANY when a table was cleared).
 *
 * After the executor returns, no TLB or walk-cache entry of the VM that
 * translates an address the plan covers may survive: IPA covers each listed
 * address (an entry for a block is removed by any address in it), RANGE covers
 * [start, end), ALL covers the whole VMID (or EPTP context).
 */
struct s2_flush_plan {
	enum s2_flush_kind kind;
	bool walk;
	gpa_t start;
	gpa_t end;
	uint64_t pages;
	unsigned int nr_ipa;
	struct {
		gpa_t addr;
		uint8_t level;
	} ipa[S2_FLUSH_MAX_IPA];
};

/* A physical range whose cache lines are cleaned+invalidated to PoC. */
struct s2_cmo_range {
	paddr_t pa;
	uint64_t size;
};


/* Kinds of an entry (arch_s2_pte_kind()). */
enum s2_pte_kind {
	S2_PTE_ABSENT,		/* not present, no software data */
	S2_PTE_INVALID_SW,	/* unusable by hardware, holds software data */
	S2_PTE_LEAF,		/* valid page or block */
	S2_PTE_TABLE,		/* valid table entry */
};

/* ---- MMIO SPTE constants (arch/x86/ept.c, arch/arm64/stage2.c) -------- */

/*
 * The MMIO SPTE value for a VM with S2PT_F_* @flags. The mask and GPA bits
 * are struct s2_format data (arch_s2_format_init()); the encoding itself is
 * generic (mm/s2_mmio.c).
 */
s2pte_t arch_s2_mmio_value(unsigned int flags);

/* ---- Table-page provider (hypervisor: mm/s2_pages.c; host: tests) ------- */

/* One page for a table (contents undefined). 0 or -ENOMEM. */
int s2_table_page_alloc(paddr_t *pa);
/* Return a table page. Called only after any cleared entry pointing to it
 * was invalidated. */
void s2_table_page_free(paddr_t pa);
/* @npages contiguous pages aligned to @npages pages for a root. */
int s2_root_alloc(unsigned int npages, paddr_t *pa);
void s2_root_free(paddr_t pa, unsigned int npages);
/* True while @pa is an allocated table page (audit). */
bool s2_table_page_live(paddr_t pa);
/* Called after every write of an entry at @level (host: observer; else
 * no-op). */
void s2_pte_written(const s2pte_t *ptep, s2pte_t old, s2pte_t new,
		    unsigned int level);


/* ---- Flush executor (ept_flush.c, stage2_flush.c; host: tests/unit/core) - */

/*
 * Execute @plan: after return no TLB or walk-cache entry it covers survives
 * on any CPU. Adds to pt->counters.barriers and .tlbi_range_insns.
 */
void arch_s2_flush(struct s2pt *pt, const struct s2_flush_plan *plan);
/* Clean+invalidate to PoC each range, then one barrier. */
void arch_s2_cmo(struct s2pt *pt, const struct s2_cmo_range *r,
		 unsigned int nr);
/* S2PT_F_* this CPU supports and wants by default (FWB, TLBIRANGE). */
unsigned int arch_s2_cpu_flags(void);

/* ---- Encoding backend (arch/x86/ept.c, arch/arm64/stage2.c) ------------- */

/* Fill @fmt for @ia_bits; -EINVAL if the format cannot have that size. */
int arch_s2_format_init(struct s2_format *fmt, unsigned int ia_bits);
/* Highest physical address bit + 1 the format can output. */
unsigned int arch_s2_pa_bits(void);
/* Whether @prot (S2_PROT_*) can be encoded in a leaf. */
bool arch_s2_prot_valid(unsigned int prot);
/* The absent value (EPT #VE or secure VM: SUPPRESS_VE only). */
s2pte_t arch_s2_pte_absent(const struct s2pt *pt);
/*
 * The kind of @pte at @level as the format alone sees it. The core applies
 * the table's MMIO SPTE value on top (s2pt_pte_kind()): an entry this calls
 * absent may be an MMIO SPTE of the table's VM type.
 */
enum s2_pte_kind arch_s2_pte_kind(s2pte_t pte, unsigned int level);
s2pte_t arch_s2_make_table(const struct s2pt *pt, paddr_t pa,
			   unsigned int count);
unsigned int arch_s2_table_count(s2pte_t pte);
s2pte_t arch_s2_table_set_count(s2pte_t pte, unsigned int count);
s2pte_t arch_s2_make_leaf(const struct s2pt *pt, paddr_t pa,
			  unsigned int prot, unsigned int level);
/* Output address of a leaf or table entry (block offset bits excluded). */
paddr_t arch_s2_pte_pa(s2pte_t pte, unsigned int level);
/* S2_PROT_* of a leaf (R/W/X and DEVICE from its memory type). */
unsigned int arch_s2_pte_prot(const struct s2pt *pt, s2pte_t pte);
/* An invalid entry holding @data (non-zero, < BIT(arch_s2_sw_bits())). */
s2pte_t arch_s2_make_sw(const struct s2pt *pt, uint64_t data);
uint64_t arch_s2_pte_sw(s2pte_t pte);
unsigned int arch_s2_sw_bits(void);
/* Whether an entry is allowed as not-present for this VM (audit: #VE). */
bool arch_s2_absent_ok(const struct s2pt *pt, s2pte_t pte);
/* EPTP (WB, 4 levels) or VTTBR_EL2 (root | VMID << 48). */
uint64_t arch_s2_root_desc(const struct s2pt *pt);


#endif
