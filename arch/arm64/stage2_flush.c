// SPDX-License-Identifier: MIT
/*
 * The arm64 flush executor of the stage-2 core: TLBI by IPA, by range
 * (FEAT_TLBIRANGE, decided at run time from ID_AA64ISAR0_EL1) or by VMID,
 * with the stage-1 entries combined with the old stage-2 ones, and DC CIVAC
 * of guest pages to the point of coherency. Stage-2 TLBIs act on the VMID in
 * VTTBR_EL2, so the table's VTTBR is loaded around them.
 */
#include <mm/s2_arch.h>
#include <arch/stage2_flush.h>

#define sysreg_read(r) ({						\
	uint64_t _v;							\
	__asm__ volatile("mrs %0, " #r : "=r"(_v));			\
	_v;								\
})
#define sysreg_write(r, v)						\
	__asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)))

#define dsb(opt)	__asm__ volatile("dsb " #opt : : : "memory")
#define isb()		__asm__ volatile("isb" : : : "memory")
#define tlbi(op, arg)	__asm__ volatile("tlbi " #op ", %0" : : "r"(arg))
#define tlbi0(op)	__asm__ volatile("tlbi " #op)
/* TLBI RIPAS2E1IS (op1 4, CRn 8, CRm 0, op2 2), by encoding: the assembler
 * only knows the name with -march=armv8.4-a. */
#define tlbi_ripas2e1is(arg)						\
	__asm__ volatile("sys #4, c8, c0, #2, %0" : : "r"(arg))

static bool stage2_cpu_has_range(void)
{
	uint64_t isar0 = sysreg_read(id_aa64isar0_el1);

	return ((isar0 >> ID_AA64ISAR0_TLB_SHIFT) & 0xf) >=
	       ID_AA64ISAR0_TLB_RANGE;
}

static void stage2_flush_range(struct s2pt *pt, const struct s2_flush_plan *p)
{
	uint64_t pages = (p->end - p->start) >> PAGE_SHIFT;
	uint64_t ops[5];
	unsigned int n;

	n = stage2_tlbi_range_ops(p->start, pages, ops);
	for (unsigned int i = 0; i < n; i++) {
		if (ops[i] & BIT(63)) {
			tlbi(ipas2e1is, ops[i] & ~BIT(63));
		} else {
			tlbi_ripas2e1is(ops[i]);
			pt->counters.tlbi_range_insns++;
		}
	}
}

static void stage2_flush_ops(struct s2pt *pt, const struct s2_flush_plan *p)
{
	bool range = p->kind == S2_FLUSH_RANGE && stage2_cpu_has_range() &&
		     ((p->end - p->start) >> PAGE_SHIFT) <= TLBIR_MAX_PAGES;

	if (range) {
		stage2_flush_range(pt, p);
	} else if (p->kind == S2_FLUSH_IPA) {
		for (unsigned int i = 0; i < p->nr_ipa; i++) {
			tlbi(ipas2e1is, p->ipa[i].addr >> PAGE_SHIFT);
		}
	} else {
		tlbi0(vmalls12e1is);
		return;
	}
	/* Stage-1 entries built on the old stage-2 ones go too. */
	dsb(ish);
	pt->counters.barriers++;
	tlbi0(vmalle1is);
}

void arch_s2_flush(struct s2pt *pt, const struct s2_flush_plan *plan)
{
	uint64_t vttbr;

	if (plan->kind == S2_FLUSH_NONE) {
		return;
	}
	vttbr = sysreg_read(vttbr_el2);
	sysreg_write(vttbr_el2, s2pt_root_desc(pt));
	isb();
	/* The cleared entries are visible to walkers before the TLBI. */
	dsb(ishst);
	stage2_flush_ops(pt, plan);
	dsb(ish);
	isb();
	pt->counters.barriers += 2;
	sysreg_write(vttbr_el2, vttbr);
	isb();
}

void arch_s2_cmo(struct s2pt *pt, const struct s2_cmo_range *r,
		 unsigned int nr)
{
	uint64_t line = 4ULL << ((sysreg_read(ctr_el0) >> 16) & 0xf);

	for (unsigned int i = 0; i < nr; i++) {
		uint64_t end = r[i].pa + r[i].size;
		uint64_t a;

		for (a = ALIGN_DOWN(r[i].pa, line); a < end; a += line) {
			__asm__ volatile("dc civac, %0" : : "r"(a) : "memory");
		}
	}
	dsb(ish);
	pt->counters.barriers++;
}

unsigned int arch_s2_cpu_flags(void)
{
	unsigned int flags = 0;

	if (stage2_cpu_has_range()) {
		flags |= S2PT_F_TLBIRANGE;
	}
	if ((sysreg_read(id_aa64mmfr2_el1) >> ID_AA64MMFR2_FWB_SHIFT) & 0xf) {
		flags |= S2PT_F_FWB;
	}
	return flags;
}
