// SPDX-License-Identifier: MIT
/*
 * Randomized differential tests of the roots, views and memslots (issue 9)
 * against a reference model. Built twice, like test_diff.c: -DDIFF_EPT with
 * arch/x86/ept.c as diff_roots_ept and -DDIFF_STAGE2 with arch/arm64/stage2.c
 * as diff_roots_stage2. The code under test is the real one: mm/roots.c and
 * the stage-2 core, vmm/memslot.c, vmm/mmu.c, vmm/fault.c and the
 * hypercalls, on the scripted fake architecture of tests/unit/vmm.
 *
 * One VM with three vCPUs, each with its own root cache, goes through long
 * seeded random sequences of guest faults (reads, writes, fetches, MMIO first
 * touches) in random views, memslot add / delete / move / flag changes (RO,
 * LOG_DIRTY, EAGER_SPLIT), view create / protect / switch / destroy,
 * invalidate-all, ZAP and WRPROTECT of ranges and guest accesses that fill
 * a simulated TLB per vCPU. The model keeps its own memslots (GPA, size, PA,
 * flags, which pages were written since logging began, one byte of data per
 * page), its own view limits and each vCPU's view, and predicts the result
 * of every operation. After EVERY step, for every root in the pool (listed,
 * or invalid and still referenced):
 *  - every table page reachable is one the host allocator has live, the
 *    tables reachable equal the core's count, and all roots together hold
 *    exactly the pages the host handed out (nothing leaked, nothing freed
 *    while reachable);
 *  - every leaf (decoded here, independently of the encoders) lies in one
 *    memslot of the model, outputs that slot's PA for its GPA, is normal
 *    memory, and its pages are allocated in the page allocator; in a valid
 *    root it allows no more than the slot (RO) and the view allow, and in
 *    a logged slot it is writable only as a 4 KiB page written since
 *    logging began;
 *  - no MMIO SPTE of the current generation in a valid root covers a GPA
 *    a memslot backs;
 *  - s2_mmu_audit() passes; no invalid root outlives the operation that
 *    invalidated it; each root's reference count is its list reference plus
 *    the caches holding it; no listed root belongs to a destroyed view;
 *  - no simulated TLB or walk-cache entry of any vCPU is stale, and no table
 *    page was freed while a walk cache held it.
 * Each fault is also walked by the reference translator (tests/unit/ref)
 * through the vCPU's root: a fixed fault must translate there, to the
 * slot's page holding the model's data.
 *
 * The yield variant zaps in 1 GiB chunks and runs random operations in the
 * zapper's gaps (faults, view changes, zaps, invalidations, and memslot
 * updates when none is in progress), checking after each of them too.
 *
 * Options: --seed N, --steps N (per test), --long (10x), --only TEST,
 * --host-writes: also Strata's writes on the guest's behalf
 * (vm_prepare_host_write(), x86 INS). Off by default: today it gives a
 * view's root write and execute rights beyond the view's limits
 * (vmm/fault.c sets S2_PROT_RWX in every listed root), which this test
 * reports, e.g. --seed 2 --steps 6000 --host-writes --only
 * random_roots_views_memslots.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/palloc.h>
#include <mm/s2_walk.h>
#include <vmm/devices.h>
#include <vmm/vm.h>

#include "core/host_hooks.h"
#include "harness.h"
#include "ref_ept.h"
#include "ref_stage2.h"
#include "sim_tlb.h"

#if defined(DIFF_EPT) == defined(DIFF_STAGE2)
#error "build with exactly one of -DDIFF_EPT and -DDIFF_STAGE2"
#endif

#ifdef DIFF_EPT
#define SUITE		"diff_roots_ept"
#else
#define SUITE		"diff_roots_stage2"
#endif

#define IA_BITS		36
#define HOST_RAM	(64 * SZ_2M)	/* what the page allocator manages */
#define RAM_SIZE	(8 * SZ_2M)	/* slot 0 */
#define EXTRA_RAM	(12 * SZ_2M)	/* what run-time slots may add */
#define MAX_SLOT_PAGES	(RAM_SIZE >> PAGE_SHIFT)
#define NR_VCPUS	3
#define DEV_GPA		0xfe000000ULL
#define TLB_LEAVES	24
#define TLB_WALKS	16

/* Where run-time slots go: above RAM, some near the device. */
static const gpa_t spots[] = {
	SZ_1G, SZ_1G + 4 * SZ_2M, 3 * SZ_1G, 5 * SZ_1G + SZ_2M,
	9 * SZ_1G, DEV_GPA - SZ_2M, 0x1000000, 14 * SZ_1G,
};

/* (EPT refuses the last three: write or execute without read) */
static const unsigned int view_prots[] = {
	0, S2_PROT_R, S2_PROT_R | S2_PROT_X, S2_PROT_R | S2_PROT_W,
	S2_PROT_RWX, S2_PROT_X, S2_PROT_W, S2_PROT_W | S2_PROT_X,
};

/* ---- The model ----------------------------------------------------------- */

struct mslot {
	bool used;
	gpa_t gpa;
	uint64_t size;
	paddr_t pa;
	unsigned int flags;		/* MEMSLOT_RO | MEMSLOT_LOG_DIRTY */
	bool owned;			/* pages go back on delete */
	uint8_t dirty[MAX_SLOT_PAGES];	/* written since logging began */
	uint8_t data[MAX_SLOT_PAGES];	/* first byte of each page */
};

struct mview {
	bool used;
	unsigned int nr;
	struct {
		gpa_t gpa;
		uint64_t size;
		unsigned int prot;
	} r[VM_VIEW_RANGES];
};

static struct vm vm;
static struct vm_config cfg = { .name = "diff", .cpus = NR_VCPUS };
static uint8_t *host_ram;
static struct mslot mslots[VM_MAX_MEMSLOTS];
static struct mview mviews[S2_MAX_VIEWS];
static unsigned int mview_of[NR_VCPUS];
static uint64_t mem_used;

/* ---- State of one run ---------------------------------------------------- */

static uint64_t rng_state;
static unsigned long step;
static const char *op_name = "setup";
static char fail_msg[1536];
static unsigned int yield_depth;
static const char *gap_of = "";		/* the operation that yielded */
static unsigned int yield_odds;		/* 1 in N yields runs operations */
static bool host_writes;
static unsigned long steps_arg;

static struct sim_tlb tlbs[NR_VCPUS];

static struct {
	unsigned long ops, op_err, fixed, mmio, violations, wp_faults;
	unsigned long invalidations, yield_ops, adds, deletes, moves;
	unsigned long flag_changes, view_destroys, fills, max_roots;
	unsigned long checked_leaves, gen_wraps, enomem;
} st;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (fail_msg[0]) {
		return;
	}
	n = snprintf(fail_msg, sizeof(fail_msg), "step %lu%s%s op %s: ", step,
		     yield_depth ? " in the zapper's gap of " : "",
		     yield_depth ? gap_of : "", op_name);
	va_start(ap, fmt);
	vsnprintf(fail_msg + n, sizeof(fail_msg) - n, fmt, ap);
	va_end(ap);
}

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return n ? (rng_state * 0x2545F4914F6CDD1Dull >> 11) % n : 0;
}

static struct vcpu *vcpu(unsigned int i)
{
	return &vm.vcpus[i];
}

static unsigned int slot_prot(const struct mslot *s)
{
	return (s->flags & MEMSLOT_RO) ? S2_PROT_R | S2_PROT_X : S2_PROT_RWX;
}

/* The model slot backing @gpa, or NULL. */
static struct mslot *mslot_at(gpa_t gpa)
{
	for (unsigned int i = 0; i < VM_MAX_MEMSLOTS; i++) {
		struct mslot *s = &mslots[i];

		if (s->used && gpa >= s->gpa && gpa - s->gpa < s->size) {
			return s;
		}
	}
	return NULL;
}

/* What view @w allows on the page @gpa: the last range covering it. */
static unsigned int mview_page_prot(unsigned int w, gpa_t gpa)
{
	unsigned int prot = S2_PROT_RWX;

	if (w == 0 || !mviews[w].used) {
		return prot;
	}
	for (unsigned int i = 0; i < mviews[w].nr; i++) {
		if (gpa >= mviews[w].r[i].gpa &&
		    gpa - mviews[w].r[i].gpa < mviews[w].r[i].size) {
			prot = mviews[w].r[i].prot;
		}
	}
	return prot;
}

static bool ranges_overlap(uint64_t a, uint64_t asize, uint64_t b,
			   uint64_t bsize)
{
	return a < b + bsize && b < a + asize;
}

/* No model slot but @skip and no device overlaps [@gpa, +@size). */
static bool mrange_free(gpa_t gpa, uint64_t size, const struct mslot *skip)
{
	for (unsigned int i = 0; i < VM_MAX_MEMSLOTS; i++) {
		const struct mslot *s = &mslots[i];

		if (s != skip && s->used &&
		    ranges_overlap(gpa, size, s->gpa, s->size)) {
			return false;
		}
	}
	return !ranges_overlap(gpa, size, DEV_GPA, TESTDEV_SIZE);
}

/* ---- An independent decoder of the real tables --------------------------- */

#ifdef DIFF_EPT
static bool pte_present(s2pte_t e)
{
	return e & 7;
}

static bool pte_table(s2pte_t e, unsigned int level)
{
	return level == 3 || (level > 0 && !(e & BIT(7)));
}

static bool pte_leaf_ok(s2pte_t e, unsigned int level)
{
	(void)e;
	return level <= 2;
}

static paddr_t pte_out(s2pte_t e, unsigned int level)
{
	return e & GENMASK(51, S2_LEVEL_SHIFT(level));
}

static unsigned int pte_prot(s2pte_t e)
{
	return (unsigned int)(e & 7);	/* R, W, X in the S2_PROT_* bits */
}

static bool pte_normal(s2pte_t e)
{
	return ((e >> 3) & 7) == 6;	/* write-back */
}

static s2pte_t pte_absent(void)
{
	return (vm.mmu.flags & S2PT_F_VE) ? BIT(63) : 0;
}
#else
static bool pte_present(s2pte_t e)
{
	return e & 1;
}

static bool pte_table(s2pte_t e, unsigned int level)
{
	return level > 0 && (e & 3) == 3;
}

/* Pages at the last level, blocks above it (4 KiB granule). */
static bool pte_leaf_ok(s2pte_t e, unsigned int level)
{
	return level == 0 ? (e & 3) == 3 : level <= 2 && (e & 3) == 1;
}

static paddr_t pte_out(s2pte_t e, unsigned int level)
{
	return e & GENMASK(47, S2_LEVEL_SHIFT(level));
}

/* S2AP[0] read, S2AP[1] write, XN[1:0] == 0 execute at EL1 and EL0. */
static unsigned int pte_prot(s2pte_t e)
{
	return ((e & BIT(6)) ? S2_PROT_R : 0) | ((e & BIT(7)) ? S2_PROT_W : 0) |
	       (((e >> 53) & 3) == 0 ? S2_PROT_X : 0);
}

/* Normal write-back (MemAttr 0b1111, FWB 0b0110) with the access flag. */
static bool pte_normal(s2pte_t e)
{
	unsigned int memattr = (e >> 2) & 0xf;

	return (e & BIT(10)) &&
	       memattr == ((vm.mmu.flags & S2PT_F_FWB) ? 0x6 : 0xf);
}

static s2pte_t pte_absent(void)
{
	return 0;
}
#endif

/* An MMIO SPTE: the same recognition on both formats (bits 2:0, 63). */
static bool pte_mmio(s2pte_t e)
{
	return (e & (GENMASK(2, 0) | BIT(63))) == (BIT(2) | BIT(1));
}

/* ---- Reference walks ------------------------------------------------------ */

static uint64_t table_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (!host_page_live(pa & ~0xfffull)) {
		fail("a walk reads 0x%llx, not a live table page",
		     (unsigned long long)pa);
		return 0;
	}
	return *(const uint64_t *)(uintptr_t)pa;
}

static uint64_t tlb_tag(const struct s2pt *pt)
{
#ifdef DIFF_EPT
	return s2pt_root_desc(pt);	/* EPTP: entries are tagged per root */
#else
	return pt->vmid;		/* every root has its own VMID */
#endif
}

/* Reference walk of @ia in @pt for @access (REF_*); false: no leaf. */
static bool ref_walk(const struct s2pt *pt, gpa_t ia, unsigned int access,
		     struct sim_xlate *x, bool *allowed, paddr_t *pa)
{
#ifdef DIFF_EPT
	struct ref_ept_opts o = {
		.ve = pt->flags & S2PT_F_VE, .maxphyaddr = 52,
	};
	struct ref_ept_walk w;

	ref_ept_walk(s2pt_root_desc(pt), ia, access, &o, table_read64, NULL,
		     &w);
	sim_xlate_from_ept(&w, x);
	*allowed = w.result == REF_EPT_OK;
	*pa = w.pa;
#else
	static const unsigned int sl0[5] = { 0, 0, 0, 1, 2 };
	struct ref_s2_cfg c = {
		.vtcr = (1ull << 31) | (5ull << 16) | (3ull << 12) |
			(1ull << 10) | (1ull << 8) |
			((uint64_t)sl0[pt->fmt.levels] << 6) |
			(64 - pt->fmt.ia_bits),
		.vttbr = s2pt_root_desc(pt),
		.fwb = pt->flags & S2PT_F_FWB,
		.parange_bits = 48,
	};
	struct ref_s2_walk w;

	ref_s2_walk(&c, ia, access, table_read64, NULL, &w);
	sim_xlate_from_s2(&w, x);
	*allowed = w.fault == REF_S2_OK;
	*pa = w.pa;
#endif
	return x->leaf;
}

/* ---- The simulated TLBs (one per vCPU) ---------------------------------- */

static const struct s2_root *root_by_tag(unsigned int cpu, uint64_t tag)
{
	(void)cpu;
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		const struct s2_root *r = &vm.mmu.pool[i];

		if (r->in_use && tlb_tag(&r->pt) == tag) {
			return r;
		}
	}
	return NULL;
}

static void tlb_walk(void *ctx, uint64_t tag, uint64_t ia,
		     struct sim_xlate *x)
{
	unsigned int cpu = (unsigned int)(uintptr_t)ctx;
	const struct s2_root *r = root_by_tag(cpu, tag);
	bool allowed;
	paddr_t pa;

	if (!r) {
		memset(x, 0, sizeof(*x));
		x->ia = ia;
		return;
	}
	ref_walk(&r->pt, ia, REF_READ, x, &allowed, &pa);
}

static bool tlb_freed(void *ctx, uint64_t pa)
{
	(void)ctx;
	return !host_page_live(pa);
}

/* The plan's invalidation, broadcast to every vCPU (TLBI IS / INVEPT). */
static void on_flush(struct s2pt *pt, const struct s2_flush_plan *plan)
{
	uint64_t tag = tlb_tag(pt);

	for (unsigned int c = 0; c < NR_VCPUS; c++) {
		struct sim_tlb *t = &tlbs[c];

		switch (plan->kind) {
		case S2_FLUSH_NONE:
			break;
		case S2_FLUSH_IPA:
			for (unsigned int i = 0; i < plan->nr_ipa &&
			     i < S2_FLUSH_MAX_IPA; i++) {
				uint8_t l = plan->ipa[i].level;

				sim_tlb_inv_ipa_ttl(t, tag, plan->ipa[i].addr,
						    !plan->walk,
						    l == S2_LEVEL_ANY ? 0 :
						    S2_LEVEL_SIZE(l));
			}
			break;
		case S2_FLUSH_RANGE:
			sim_tlb_inv_range(t, tag, plan->start,
					  (plan->end - plan->start) >> 12,
					  !plan->walk);
			break;
		case S2_FLUSH_ALL:
			sim_tlb_inv_tag(t, tag);
			break;
		}
	}
}

static void on_table_free(paddr_t pa)
{
	for (unsigned int c = 0; c < NR_VCPUS; c++) {
		for (unsigned int i = 0; i < tlbs[c].nr_walk; i++) {
			const struct sim_tlb_walk *w = &tlbs[c].walk[i];

			if (w->valid && w->table == pa) {
				fail("table page 0x%llx freed while vCPU %u's walk cache holds it (ia 0x%llx)",
				     (unsigned long long)pa, c,
				     (unsigned long long)w->ia_base);
			}
		}
	}
}

/* The vCPU enters on the root its view asks for. */
static bool enter(unsigned int cpu)
{
	struct vcpu *v = vcpu(cpu);

	if (!vm_vcpu_prepare_entry(v)) {
		fail("vCPU %u cannot enter: %s", cpu, vm.end_reason);
		return false;
	}
	if (v->roots.cur->role.word != s2_mmu_role(&vm.mmu,
						    mview_of[cpu]).word ||
	    v->roots.cur->role.invalid) {
		fail("vCPU %u enters on root role 0x%x, view %u wants 0x%x",
		     cpu, v->roots.cur->role.word, mview_of[cpu],
		     s2_mmu_role(&vm.mmu, mview_of[cpu]).word);
		return false;
	}
	/* Tags per root (EPTP, VMID): a move to another root flushes nothing. */
	return true;
}

/* The vCPU's hardware walks @gpa and caches what it found. */
static void tlb_fill(unsigned int cpu, gpa_t gpa)
{
	struct sim_xlate x;
	bool allowed;
	paddr_t pa;

	ref_walk(&vcpu(cpu)->roots.cur->pt, gpa, REF_READ, &x, &allowed, &pa);
	sim_tlb_fill(&tlbs[cpu], tlb_tag(&vcpu(cpu)->roots.cur->pt), &x);
	st.fills++;
}

/* ---- Checks after every step --------------------------------------------- */

struct scan {
	const struct s2_root *root;
	bool strict;		/* a valid root: rights and MMIO SPTEs too */
	unsigned long tables;
	gpa_t clear_lo, clear_hi;	/* nothing may be mapped here */
	gpa_t wp_lo, wp_hi;		/* nothing writable here */
	const struct mslot *small;	/* only 4 KiB leaves in this slot */
};

static void check_leaf(struct scan *s, s2pte_t e, gpa_t gpa,
		       unsigned int level)
{
	uint64_t size = S2_LEVEL_SIZE(level);
	paddr_t pa = pte_out(e, level);
	unsigned int prot = pte_prot(e), view = s->root->role.view;
	const struct mslot *ms = mslot_at(gpa);
	unsigned int slot = (unsigned int)(ms - mslots);

	st.checked_leaves++;
	if (!ms || gpa + size > ms->gpa + ms->size) {
		fail("root %u (view %u%s) maps gpa 0x%llx size 0x%llx, which no memslot backs",
		     (unsigned int)(s->root - vm.mmu.pool), view,
		     s->root->role.invalid ? ", invalid" : "",
		     (unsigned long long)gpa, (unsigned long long)size);
		return;
	}
	if (pa != ms->pa + (gpa - ms->gpa)) {
		fail("root %u maps gpa 0x%llx to 0x%llx, slot %u says 0x%llx",
		     (unsigned int)(s->root - vm.mmu.pool),
		     (unsigned long long)gpa, (unsigned long long)pa, slot,
		     (unsigned long long)(ms->pa + (gpa - ms->gpa)));
		return;
	}
	if (!palloc_is_allocated(pa, size >> PAGE_SHIFT)) {
		fail("root %u maps gpa 0x%llx to freed page 0x%llx",
		     (unsigned int)(s->root - vm.mmu.pool),
		     (unsigned long long)gpa, (unsigned long long)pa);
		return;
	}
	if (!pte_normal(e) || !prot) {
		fail("leaf 0x%llx at gpa 0x%llx: not normal memory or no rights",
		     (unsigned long long)e, (unsigned long long)gpa);
		return;
	}
	if (ranges_overlap(gpa, size, s->clear_lo, s->clear_hi - s->clear_lo)) {
		fail("root %u still maps gpa 0x%llx after the zap",
		     (unsigned int)(s->root - vm.mmu.pool),
		     (unsigned long long)gpa);
		return;
	}
	if (!s->strict) {
		return;
	}
	if ((prot & S2_PROT_W) &&
	    ranges_overlap(gpa, size, s->wp_lo, s->wp_hi - s->wp_lo)) {
		fail("root %u (view %u): gpa 0x%llx writable after the write-protect",
		     (unsigned int)(s->root - vm.mmu.pool), view,
		     (unsigned long long)gpa);
		return;
	}
	if (ms == s->small && level) {
		fail("root %u: gpa 0x%llx is a level-%u block after an eager split",
		     (unsigned int)(s->root - vm.mmu.pool),
		     (unsigned long long)gpa, level);
		return;
	}
	if (prot & ~slot_prot(ms)) {
		fail("root %u (view %u): gpa 0x%llx prot %u in read-only slot %u",
		     (unsigned int)(s->root - vm.mmu.pool), view,
		     (unsigned long long)gpa, prot, slot);
		return;
	}
	if ((prot & S2_PROT_W) && (ms->flags & MEMSLOT_LOG_DIRTY)) {
		uint64_t page = (gpa - ms->gpa) >> PAGE_SHIFT;

		if (level || !ms->dirty[page]) {
			fail("root %u (view %u): gpa 0x%llx (level %u) writable in logged slot %u but never written since logging began",
			     (unsigned int)(s->root - vm.mmu.pool), view,
			     (unsigned long long)gpa, level, slot);
			return;
		}
	}
	for (gpa_t g = gpa; g < gpa + size; g += PAGE_SIZE) {
		unsigned int vp = mview_page_prot(view, g);

		if (prot & ~vp) {
			fail("root %u (view %u): gpa 0x%llx prot %u, the view allows %u",
			     (unsigned int)(s->root - vm.mmu.pool), view,
			     (unsigned long long)g, prot, vp);
			return;
		}
	}
}

static void check_sw(struct scan *s, s2pte_t e, gpa_t gpa,
		     unsigned int level)
{
	uint64_t gen;

	if (!pte_mmio(e) || level != 0 ||
	    (e & GENMASK(47, 12)) != gpa) {
		fail("root %u: unexpected entry 0x%llx at gpa 0x%llx level %u",
		     (unsigned int)(s->root - vm.mmu.pool),
		     (unsigned long long)e, (unsigned long long)gpa, level);
		return;
	}
	if (ranges_overlap(gpa, PAGE_SIZE, s->clear_lo,
			   s->clear_hi - s->clear_lo)) {
		fail("root %u: MMIO SPTE at 0x%llx survived the zap",
		     (unsigned int)(s->root - vm.mmu.pool),
		     (unsigned long long)gpa);
		return;
	}
	gen = s2pt_mmio_gen(e);
	if (s->strict && !vm_memslot_update_in_progress(&vm) &&
	    gen == vm_mmio_gen(&vm) && mslot_at(gpa)) {
		fail("root %u: MMIO SPTE of the current generation %llu at 0x%llx, which a memslot backs",
		     (unsigned int)(s->root - vm.mmu.pool),
		     (unsigned long long)gen, (unsigned long long)gpa);
	}
}

static void scan_table(struct scan *s, paddr_t t, unsigned int level,
		       gpa_t base, unsigned int nent)
{
	const s2pte_t *e = (const s2pte_t *)(uintptr_t)t;
	s2pte_t absent = pte_absent();

	for (unsigned int i = 0; i < nent && !fail_msg[0]; i++) {
		gpa_t a = base + i * S2_LEVEL_SIZE(level);

		if (e[i] == absent) {
			continue;
		}
		if (pte_mmio(e[i]) || !pte_present(e[i])) {
			check_sw(s, e[i], a, level);
		} else if (pte_table(e[i], level)) {
			paddr_t next = pte_out(e[i], 0);

			if (!host_page_live(next)) {
				fail("root %u reaches table page 0x%llx at gpa 0x%llx, which was freed",
				     (unsigned int)(s->root - vm.mmu.pool),
				     (unsigned long long)next,
				     (unsigned long long)a);
				return;
			}
			s->tables++;
			scan_table(s, next, level - 1, a, S2_PTRS_PER_TABLE);
		} else if (pte_leaf_ok(e[i], level)) {
			check_leaf(s, e[i], a, level);
		} else {
			fail("root %u: bad entry 0x%llx at gpa 0x%llx level %u",
			     (unsigned int)(s->root - vm.mmu.pool),
			     (unsigned long long)e[i], (unsigned long long)a,
			     level);
		}
	}
}

/* What the step just done promises besides the invariants. */
static struct {
	gpa_t clear_lo, clear_hi;
	gpa_t wp_lo, wp_hi;
	const struct mslot *small;
} promise;

static unsigned int cache_holds(const struct s2_root *r)
{
	unsigned int n = 0;

	for (unsigned int c = 0; c < NR_VCPUS; c++) {
		const struct s2_root_cache *rc = &vcpu(c)->roots;

		n += rc->cur == r;
		for (unsigned int i = 0; i < S2_ROOT_CACHE_PREV; i++) {
			n += rc->prev[i] == r;
		}
	}
	return n;
}

static bool listed(const struct s2_root *r)
{
	for (const struct s2_root *l = vm.mmu.list; l; l = l->next) {
		if (l == r) {
			return true;
		}
	}
	return false;
}

static void check_refs(void)
{
	union s2_role want = s2_mmu_role(&vm.mmu, 0);

	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS && !fail_msg[0]; i++) {
		const struct s2_root *r = &vm.mmu.pool[i];
		unsigned int refs;

		if (!r->in_use) {
			continue;
		}
		refs = listed(r) + cache_holds(r);
		if (r->role.levels != want.levels ||
		    r->role.ia_bits != want.ia_bits || r->role.mirror ||
		    r->role.ve != want.ve) {
			fail("root %u has role 0x%x, the VM's roles are 0x%x",
			     i, r->role.word, want.word);
		} else if (!yield_depth && r->role.invalid) {
			fail("invalid root %u (view %u, %u references) outlived its invalidation",
			     i, r->role.view, r->refcount);
		} else if (yield_depth ? r->refcount < refs :
			   r->refcount != refs) {
			fail("root %u: refcount %u, list + caches hold %u", i,
			     r->refcount, refs);
		} else if (!r->role.invalid && r->role.view &&
			   !mviews[r->role.view].used) {
			fail("valid root %u of destroyed view %u", i,
			     r->role.view);
		}
	}
	for (unsigned int c = 0; c < NR_VCPUS && !fail_msg[0]; c++) {
		const struct s2_root_cache *rc = &vcpu(c)->roots;
		const struct s2_root *all[1 + S2_ROOT_CACHE_PREV] = { rc->cur };

		for (unsigned int i = 0; i < S2_ROOT_CACHE_PREV; i++) {
			all[1 + i] = rc->prev[i];
		}
		for (unsigned int i = 0; i <= S2_ROOT_CACHE_PREV; i++) {
			if (all[i] && !all[i]->in_use) {
				fail("vCPU %u caches a freed root", c);
				return;
			}
			for (unsigned int j = 0; all[i] && j < i; j++) {
				if (all[j] && all[j]->role.word ==
				    all[i]->role.word) {
					fail("vCPU %u caches two roots of role 0x%x",
					     c, all[i]->role.word);
					return;
				}
			}
		}
	}
}

/* The model's memslots and views are the VM's. */
static void check_model_matches(void)
{
	for (unsigned int i = 0; i < VM_MAX_MEMSLOTS; i++) {
		const struct memslot *m = &vm.memslots[i];
		const struct mslot *s = &mslots[i];
		bool used = i < vm.nr_memslots && m->size;

		if (used != s->used || (used &&
		    (m->gpa != s->gpa || m->size != s->size || m->pa != s->pa ||
		     (m->flags & (MEMSLOT_RO | MEMSLOT_LOG_DIRTY)) !=
		     s->flags))) {
			fail("memslot %u: VM has %s gpa 0x%llx size 0x%llx flags 0x%x, model %s gpa 0x%llx size 0x%llx flags 0x%x",
			     i, used ? "used" : "free",
			     (unsigned long long)m->gpa,
			     (unsigned long long)m->size, m->flags,
			     s->used ? "used" : "free",
			     (unsigned long long)s->gpa,
			     (unsigned long long)s->size, s->flags);
			return;
		}
		if (used && !palloc_is_allocated(s->pa, s->size >> PAGE_SHIFT)) {
			fail("memslot %u's pages are free in the allocator", i);
			return;
		}
	}
	for (unsigned int i = 1; i < S2_MAX_VIEWS; i++) {
		if (vm.views[i].used != mviews[i].used) {
			fail("view %u: VM says %s", i,
			     vm.views[i].used ? "used" : "free");
			return;
		}
	}
	for (unsigned int c = 0; c < NR_VCPUS; c++) {
		if (vcpu(c)->view != mview_of[c]) {
			fail("vCPU %u is in view %u, model says %u", c,
			     vcpu(c)->view, mview_of[c]);
			return;
		}
	}
	if (vm.mem_used != mem_used) {
		fail("VM counts %llu bytes of memslots, model %llu",
		     (unsigned long long)vm.mem_used,
		     (unsigned long long)mem_used);
	}
}

static void check_all(void)
{
	unsigned long pages = 0, nr = 0;

	if (fail_msg[0]) {
		return;
	}
	if (!vm_running(&vm) || warn_count) {
		fail("VM %s, %u warnings", vm_running(&vm) ? "running" :
		     vm.end_reason, warn_count);
		return;
	}
	/* (in a zapper's gap the outer update may be half done) */
	if (!yield_depth) {
		check_model_matches();
	}
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS && !fail_msg[0]; i++) {
		const struct s2_root *r = &vm.mmu.pool[i];
		struct scan s = {
			.root = r, .strict = !r->role.invalid,
			.clear_lo = promise.clear_lo,
			.clear_hi = promise.clear_hi,
			.wp_lo = promise.wp_lo, .wp_hi = promise.wp_hi,
			.small = promise.small,
		};

		if (!r->in_use) {
			continue;
		}
		nr++;
		if (!host_page_live(r->pt.root)) {
			fail("root %u's root page is freed", i);
			return;
		}
		scan_table(&s, r->pt.root, r->pt.fmt.levels - 1, 0,
			   r->pt.fmt.root_entries);
		if (!fail_msg[0] && s.tables != r->pt.counters.tables_in_use) {
			fail("root %u: %lu tables reachable, the core counts %llu",
			     i, s.tables,
			     (unsigned long long)r->pt.counters.tables_in_use);
		}
		pages += s.tables + r->pt.fmt.root_pages;
	}
	st.max_roots = MAX(st.max_roots, nr);
	if (vm.mmu.spare_root) {
		/* The clean root pages kept for the next root: all absent. */
		const s2pte_t *e = s2_table_va(vm.mmu.spare_root);
		struct s2pt like = { .flags = vm.mmu.flags };
		struct s2_format fmt;

		arch_s2_format_init(&fmt, vm.mmu.ia_bits);
		if (!host_page_live(vm.mmu.spare_root)) {
			fail("the spare root page is freed");
			return;
		}
		for (unsigned int j = 0; j < fmt.root_pages * S2_PTRS_PER_TABLE; j++) {
			if (e[j] != arch_s2_pte_absent(&like)) {
				fail("spare root entry %u is 0x%llx, not absent",
				     j, (unsigned long long)e[j]);
				return;
			}
		}
		pages += fmt.root_pages;
	}
	if (!fail_msg[0] && pages != host_alloc_live) {
		fail("the roots hold %lu table pages, the host handed out %lu",
		     pages, host_alloc_live);
	}
	if (!fail_msg[0] && s2_mmu_audit(&vm.mmu)) {
		fail("s2_mmu_audit() failed");
	}
	check_refs();
	for (unsigned int c = 0; c < NR_VCPUS && !fail_msg[0]; c++) {
		struct sim_stale_report rep;

		if (sim_tlb_stale(&tlbs[c], &rep)) {
			fail("vCPU %u's TLB: %s", c, rep.text);
		}
	}
}

/* ---- Operations ----------------------------------------------------------- */

/* Mostly a slot that exists, sometimes any id. */
static unsigned int random_slot_id(void)
{
	unsigned int id = (unsigned int)rnd(VM_MAX_MEMSLOTS);

	for (unsigned int i = 0; i < VM_MAX_MEMSLOTS && rnd(5); i++) {
		if (mslots[(id + i) % VM_MAX_MEMSLOTS].used) {
			return (id + i) % VM_MAX_MEMSLOTS;
		}
	}
	return id;
}

/* Mostly a view that exists (or 0), sometimes any id. */
static unsigned int random_view_id(void)
{
	unsigned int id = (unsigned int)rnd(S2_MAX_VIEWS);

	for (unsigned int i = 0; i < S2_MAX_VIEWS && rnd(5); i++) {
		if (mviews[(id + i) % S2_MAX_VIEWS].used) {
			return (id + i) % S2_MAX_VIEWS;
		}
	}
	return id;
}

static gpa_t random_gpa(void)
{
	unsigned int r = (unsigned int)rnd(10);

	if (r < 7) {
		const struct mslot *s = &mslots[random_slot_id()];

		if (s->used) {
			return s->gpa + rnd(s->size >> PAGE_SHIFT) * PAGE_SIZE;
		}
	}
	if (r < 9) {
		return spots[rnd(ARRAY_SIZE(spots))] + rnd(2048) * PAGE_SIZE;
	}
	return rnd(BIT(IA_BITS) >> PAGE_SHIFT) * PAGE_SIZE;
}

static void expect(int got, int want, const char *what)
{
	if (got != want) {
		fail("%s returned %d, the model expects %d", what, got, want);
	}
	st.op_err += got != 0;
}

static unsigned int acc_to_ref(unsigned int acc)
{
	return acc == VM_ACC_W ? REF_WRITE : acc == VM_ACC_X ? REF_FETCH :
	       REF_READ;
}

/* A guest access that faults: result and view as the model predicts. */
static void op_fault(unsigned int cpu)
{
	static const unsigned int accs[] = { VM_ACC_R, VM_ACC_R, VM_ACC_W,
					     VM_ACC_W, VM_ACC_X };
	unsigned int w = mview_of[cpu];
	gpa_t gpa = random_gpa();
	enum vm_fault_result want, got;
	bool violation = false;
	struct sim_xlate x;
	struct mslot *ms;
	unsigned int acc;
	bool allowed;
	paddr_t pa;

	op_name = "fault";
	/* Half the faults in a view hit a range the view limits. */
	if (w && mviews[w].nr && rnd(2)) {
		unsigned int i = (unsigned int)rnd(mviews[w].nr);

		gpa = mviews[w].r[i].gpa +
		      rnd(mviews[w].r[i].size >> PAGE_SHIFT) * PAGE_SIZE;
	}
	ms = mslot_at(gpa);
	acc = accs[rnd(ms ? 5 : 4)];
	if (!enter(cpu)) {
		return;
	}
	if (!ms || (acc & ~slot_prot(ms))) {
		want = VM_FAULT_MMIO;
	} else {
		want = VM_FAULT_FIXED;
		violation = acc & ~mview_page_prot(w, gpa);
	}
	got = vm_handle_s2_fault(vcpu(cpu), gpa, acc);
	if (got != want) {
		fail("vCPU %u view %u acc %u at 0x%llx: %d, the model expects %d",
		     cpu, w, acc, (unsigned long long)gpa, got, want);
		return;
	}
	if (violation) {
		mview_of[cpu] = 0;
		st.violations++;
		return;
	}
	if (want == VM_FAULT_MMIO) {
		st.mmio++;
		return;
	}
	st.fixed++;
	/* The access goes through now, to the slot's page and data. */
	if (!ref_walk(&vcpu(cpu)->roots.cur->pt, gpa, acc_to_ref(acc), &x,
		      &allowed, &pa) || !allowed) {
		fail("vCPU %u: fixed fault at 0x%llx (acc %u) does not translate",
		     cpu, (unsigned long long)gpa, acc);
		return;
	}
	{
		uint64_t page = (gpa - ms->gpa) >> PAGE_SHIFT;
		uint8_t *p = (uint8_t *)(uintptr_t)ALIGN_DOWN(pa, PAGE_SIZE);

		if (ALIGN_DOWN(pa, PAGE_SIZE) != ms->pa + page * PAGE_SIZE) {
			fail("gpa 0x%llx translates to 0x%llx, not its slot's page",
			     (unsigned long long)gpa, (unsigned long long)pa);
			return;
		}
		if (*p != ms->data[page]) {
			fail("gpa 0x%llx holds 0x%x, the guest wrote 0x%x",
			     (unsigned long long)gpa, *p, ms->data[page]);
			return;
		}
		if (acc == VM_ACC_W) {
			ms->data[page] = (uint8_t)(step | 1);
			*p = ms->data[page];
			ms->dirty[page] = 1;
			st.wp_faults += !!(ms->flags & MEMSLOT_LOG_DIRTY);
		}
	}
	sim_tlb_fill(&tlbs[cpu], tlb_tag(&vcpu(cpu)->roots.cur->pt), &x);
}

/* The vCPU touches memory that may be mapped: its TLB caches it. */
static void op_access(unsigned int cpu)
{
	op_name = "access";
	if (enter(cpu)) {
		for (unsigned int i = 0; i < 4; i++) {
			tlb_fill(cpu, random_gpa());
		}
	}
}

/*
 * A memslot add whose generation wraps invalidates all roots, and a zapper's
 * gap may come before it returns: the model takes the slot as soon as the
 * VM has it.
 */
static struct {
	bool active;
	unsigned int id;
	gpa_t gpa;
	uint64_t size;
	unsigned int flags;
} pending_add;

static void apply_pending_add(void)
{
	unsigned int id = pending_add.id;

	if (!pending_add.active || !vm.memslots[id].size) {
		return;
	}
	pending_add.active = false;
	mslots[id] = (struct mslot){
		.used = true, .gpa = pending_add.gpa, .size = pending_add.size,
		.pa = vm.memslots[id].pa, .flags = pending_add.flags,
		.owned = true,
	};
	mem_used += pending_add.size;
	st.adds++;
	/*
	 * Guest RAM is zeroed lazily (vmm/ramzero.c): a chunk the slot's
	 * bitmap marks zeroed (or every chunk, with no bitmap) must read 0;
	 * the others are zeroed before anything maps or reads them.
	 */
	for (uint64_t off = 0; off < pending_add.size; off++) {
		const struct memslot *ms = &vm.memslots[id];
		uint64_t c = off >> VM_ZERO_CHUNK_SHIFT;

		if (ms->zeroed && !(ms->zeroed[c / 64] & (1ULL << (c % 64)))) {
			continue;
		}
		if (((const uint8_t *)(uintptr_t)mslots[id].pa)[off]) {
			fail("new memslot %u is not zeroed at +0x%llx", id,
			     (unsigned long long)off);
			return;
		}
	}
}

static void op_memslot_add(void)
{
	gpa_t gpa = spots[rnd(ARRAY_SIZE(spots))] +
		    (rnd(4) ? 0 : rnd(512) * PAGE_SIZE);
	uint64_t size = (1 + rnd(4)) * (rnd(2) ? SZ_2M : 16 * PAGE_SIZE);
	unsigned int flags = rnd(4) ? 0 : (unsigned int)rnd(4);
	unsigned int id = VM_MAX_MEMSLOTS, want_id = VM_MAX_MEMSLOTS;
	int want = 0, ret;

	op_name = "memslot_add";
	for (unsigned int i = 0; i < VM_MAX_MEMSLOTS; i++) {
		if (!mslots[i].used) {
			want_id = i;
			break;
		}
	}
	if (!mrange_free(gpa, size, NULL)) {
		want = -EBUSY;
	} else if (size > vm.mem_limit - mem_used ||
		   want_id == VM_MAX_MEMSLOTS) {
		want = -ENOSPC;
	}
	pending_add.active = false;
	if (!want) {
		pending_add.active = true;
		pending_add.id = want_id;
		pending_add.gpa = gpa;
		pending_add.size = size;
		pending_add.flags = flags;
	}
	ret = vm_memslot_add(&vm, gpa, size, flags, &id);
	if (ret == -ENOMEM && !want) {
		pending_add.active = false;
		st.op_err++;	/* the allocator is fragmented: fine */
		return;
	}
	expect(ret, want, "memslot add");
	if (!ret && !want && id != want_id) {
		fail("memslot add gave id %u, the model expects %u", id,
		     want_id);
	}
	if (!ret && !want) {
		apply_pending_add();
	}
	pending_add.active = false;
}

/* Poison the pages of a deleted slot that are still free. */
static void poison_free_pages(paddr_t pa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		if (!palloc_is_allocated(pa + off, 1)) {
			memset((void *)(uintptr_t)(pa + off), 0x5a, PAGE_SIZE);
		}
	}
}

/*
 * Memslot updates change the model BEFORE the call when the model expects
 * success: operations in a zapper's gap see the update as made (a slot
 * being deleted or moved backs nothing until the update is over).
 */
static void op_memslot_delete(void)
{
	unsigned int id = random_slot_id();
	struct mslot old = mslots[id];
	unsigned long adds = st.adds;
	int ret;

	op_name = "memslot_delete";
	if (id == 0 && rnd(8)) {
		return;		/* RAM stays, mostly */
	}
	if (old.used) {
		mslots[id].used = false;
		mem_used -= old.owned ? old.size : 0;
	}
	ret = vm_memslot_delete(&vm, id);
	expect(ret, old.used ? 0 : -ENOENT, "memslot delete");
	if (ret || !old.used) {
		return;
	}
	st.deletes++;
	if (old.owned) {
		/* (unless an add in a zapper's gap took them again) */
		if (!fail_msg[0] && adds == st.adds &&
		    palloc_is_allocated(old.pa, 1)) {
			fail("deleted memslot %u's pages were not freed", id);
		}
		/* What the next owner of the pages must never see. */
		poison_free_pages(old.pa, old.size);
	}
}

/*
 * A moved slot is back once the update is over, which may be before the
 * move returns (a generation wrap's invalidation yields after it).
 */
static struct {
	bool active;
	unsigned int id;
	gpa_t gpa;
} pending_move;

static void apply_pending_move(void)
{
	if (pending_move.active && !vm_memslot_update_in_progress(&vm)) {
		pending_move.active = false;
		mslots[pending_move.id].used = true;
		mslots[pending_move.id].gpa = pending_move.gpa;
	}
}

static void op_memslot_move(void)
{
	unsigned int id = random_slot_id();
	struct mslot *s = &mslots[id];
	gpa_t gpa = spots[rnd(ARRAY_SIZE(spots))] +
		    (rnd(4) ? 0 : rnd(512) * PAGE_SIZE);
	gpa_t old = s->gpa;
	int want, ret;

	op_name = "memslot_move";
	want = !s->used ? -ENOENT :
	       gpa + s->size > BIT(IA_BITS) ? -ERANGE :
	       !mrange_free(gpa, s->size, s) ? -EBUSY : 0;
	if (!want) {
		s->used = false;	/* in flux: backs nothing */
		pending_move.active = true;
		pending_move.id = id;
		pending_move.gpa = gpa;
	}
	ret = vm_memslot_move(&vm, id, gpa);
	expect(ret, want, "memslot move");
	/* (unless a gap after the move saw it done, and maybe changed it) */
	if (pending_move.active) {
		pending_move.active = false;
		s->used = true;
		s->gpa = ret ? old : gpa;
	}
	st.moves += !want && !ret;
}

static void op_memslot_flags(void)
{
	unsigned int id = random_slot_id();
	unsigned int flags = (unsigned int)rnd(8);
	struct mslot *s = &mslots[id];
	unsigned int keep = MEMSLOT_RO | MEMSLOT_LOG_DIRTY;
	unsigned int old = s->flags;
	unsigned long gap_ops = st.yield_ops;
	bool used = s->used;
	int ret;

	op_name = "memslot_flags";
	if (used) {
		if ((flags & MEMSLOT_LOG_DIRTY) &&
		    !(old & MEMSLOT_LOG_DIRTY)) {
			memset(s->dirty, 0, sizeof(s->dirty));
		}
		s->flags = flags & keep;
	}
	ret = vm_memslot_set_flags(&vm, id, flags);
	expect(ret, used ? 0 : -ENOENT, "memslot flags");
	st.flag_changes += !ret && used;
	if (ret || !used || gap_ops != st.yield_ops) {
		return;	/* (faults in a gap may have undone the promise) */
	}
	if ((flags & MEMSLOT_LOG_DIRTY) && !(old & MEMSLOT_LOG_DIRTY) &&
	    (flags & STRATA_MEMSLOT_EAGER_SPLIT)) {
		promise.small = s;
	}
	if (flags & ~old & keep) {
		promise.wp_lo = s->gpa;
		promise.wp_hi = s->gpa + s->size;
	}
}

static unsigned int nr_listed_direct(void)
{
	unsigned int n = 0;

	for (const struct s2_root *r = vm.mmu.list; r; r = r->next) {
		n += !r->role.mirror;
	}
	return n;
}

static void op_invalidate(void)
{
	unsigned int want = nr_listed_direct();

	op_name = "invalidate_all";
	expect((int)vm_invalidate_roots(&vm), (int)want, "invalidate all");
	st.invalidations++;
}

static void op_zap(unsigned int cpu)
{
	gpa_t gpa = ALIGN_DOWN(random_gpa(), rnd(2) ? SZ_2M : PAGE_SIZE);
	uint64_t size = rnd(2) ? (1 + rnd(4)) * SZ_2M :
			(1 + rnd(64)) * PAGE_SIZE;
	uint64_t a[3] = { gpa, size, 0 }, v;
	bool zap = rnd(2), inject = !rnd(6);
	long ret;

	if (gpa + size > BIT(IA_BITS)) {
		size = BIT(IA_BITS) - gpa;
	}
	a[1] = size;
	op_name = zap ? "zap" : "wrprotect";
	if (inject) {
		host_alloc_fail_nth((long)rnd(3));
	}
	ret = vm_hypercall(vcpu(cpu), zap ? STRATA_HC_ZAP :
			   STRATA_HC_WRPROTECT, a, &v);
	host_alloc_fail_nth(-1);
	if (inject && ret == STRATA_HC_ENOMEM) {
		st.enomem++;
		return;	/* (blocks straddling an end could not be split) */
	}
	expect((int)ret, STRATA_HC_OK, op_name);
	if (zap) {
		promise.clear_lo = gpa;
		promise.clear_hi = gpa + size;
	} else {
		promise.wp_lo = gpa;
		promise.wp_hi = gpa + size;
	}
}

static void op_view_create(void)
{
	unsigned int id = 0, want_id = 0;
	int ret;

	op_name = "view_create";
	for (unsigned int i = 1; i < S2_MAX_VIEWS && !want_id; i++) {
		want_id = mviews[i].used ? 0 : i;
	}
	ret = vm_view_create(&vm, &id);
	expect(ret, want_id ? 0 : -ENOSPC, "view create");
	if (!ret && want_id) {
		if (id != want_id) {
			fail("view create gave %u, the model expects %u", id,
			     want_id);
		}
		mviews[id] = (struct mview){ .used = true };
	}
}

static void op_view_protect(void)
{
	unsigned int id = random_view_id();
	gpa_t gpa = ALIGN_DOWN(random_gpa(), rnd(2) ? SZ_2M : PAGE_SIZE);
	uint64_t size = (1 + rnd(rnd(2) ? 4 : 600)) * PAGE_SIZE;
	unsigned int prot = view_prots[rnd(ARRAY_SIZE(view_prots))];
	struct mview *w = &mviews[id];
	bool inject;
	int want, ret;

	op_name = "view_protect";
	if (gpa + size > BIT(IA_BITS)) {
		size = BIT(IA_BITS) - gpa;
	}
	want = (!id || !w->used) ? -ENOENT :
#ifdef DIFF_EPT
	       (prot && !(prot & S2_PROT_R)) ? -EINVAL :
#endif
	       w->nr == VM_VIEW_RANGES ? -ENOSPC : 0;
	inject = !want && !rnd(6);
	if (inject) {
		host_alloc_fail_nth((long)rnd(3));
	}
	ret = vm_view_protect(&vm, id, gpa, size, prot);
	host_alloc_fail_nth(-1);
	if (inject && ret == -ENOMEM) {
		/* The limit is recorded first: it must hold anyway. */
		op_name = "view_protect (-ENOMEM injected)";
		ret = 0;
		st.enomem++;
	}
	expect(ret, want, "view protect");
	if (!ret && !want) {
		w->r[w->nr].gpa = gpa;
		w->r[w->nr].size = size;
		w->r[w->nr].prot = prot;
		w->nr++;
	}
}

static void op_view_switch(unsigned int cpu)
{
	unsigned int id = random_view_id();
	int want = (id && !mviews[id].used) ? -ENOENT : 0;
	int ret;

	op_name = "view_switch";
	ret = vm_view_switch(vcpu(cpu), id);
	expect(ret, want, "view switch");
	if (!ret && !want) {
		mview_of[cpu] = id;
	}
}

static void op_view_destroy(void)
{
	unsigned int id = random_view_id();
	int want = (!id || !mviews[id].used) ? -ENOENT : 0;

	op_name = "view_destroy";
	for (unsigned int c = 0; c < NR_VCPUS && !want; c++) {
		want = mview_of[c] == id ? -EBUSY : 0;
	}
	if (!want) {
		mviews[id].used = false;	/* before: see op_memslot_delete */
	}
	expect(vm_view_destroy(&vm, id), want, "view destroy");
	st.view_destroys += !want;
}

/* Strata writes guest memory on the guest's behalf (x86 INS). */
static void op_host_write(void)
{
	unsigned int w = random_view_id();
	gpa_t gpa = random_gpa();
	struct mslot *ms;
	int want;

	op_name = "host_write";
	if (w && mviews[w].used && mviews[w].nr && rnd(2)) {
		unsigned int i = (unsigned int)rnd(mviews[w].nr);

		gpa = mviews[w].r[i].gpa +
		      rnd(mviews[w].r[i].size >> PAGE_SHIFT) * PAGE_SIZE;
	}
	ms = mslot_at(gpa);
	want = !ms ? -EFAULT : (ms->flags & MEMSLOT_RO) ? -EACCES : 0;
	expect(vm_prepare_host_write(&vm, gpa, 8), want, "host write");
	if (!want && ms) {
		ms->dirty[(gpa - ms->gpa) >> PAGE_SHIFT] = 1;
	}
}

/*
 * Whether a vCPU could get a root for its view now: in a zapper's gap the
 * pool may be full of invalid roots the zapper still holds.
 */
static bool pool_has_room(unsigned int cpu)
{
	union s2_role role = s2_mmu_role(&vm.mmu, mview_of[cpu]);

	for (const struct s2_root *r = vm.mmu.list; r; r = r->next) {
		if (r->role.word == role.word) {
			return true;
		}
	}
	return s2_mmu_nr_roots(&vm.mmu) < S2_MMU_MAX_ROOTS;
}

static void random_op(void)
{
	unsigned int cpu = (unsigned int)rnd(NR_VCPUS);
	unsigned int r = (unsigned int)rnd(100);
	/* Memslot updates are serialized: none inside another. */
	bool slots_ok = !vm_memslot_update_in_progress(&vm);

	st.ops++;
	if (r < 45) {
		if (pool_has_room(cpu)) {
			op_fault(cpu);
		}
	} else if (r < 52) {
		if (pool_has_room(cpu)) {
			op_access(cpu);
		}
	} else if (r < 56 && slots_ok) {
		op_memslot_add();
	} else if (r < 58 && slots_ok) {
		op_memslot_delete();
	} else if (r < 61 && slots_ok) {
		op_memslot_move();
	} else if (r < 66 && slots_ok) {
		op_memslot_flags();
	} else if (r < 67) {
		op_invalidate();
	} else if (r < 72) {
		op_zap(cpu);
	} else if (r < 75) {
		op_view_create();
	} else if (r < 82) {
		op_view_protect();
	} else if (r < 95) {
		op_view_switch(cpu);
	} else if (r < 97) {
		op_view_destroy();
	} else if (host_writes) {
		op_host_write();
	}
}

/* One step: an operation, then every check. */
static void do_step(void)
{
	memset(&promise, 0, sizeof(promise));
	random_op();
	check_all();
}

/* A zapper yields between two chunks: sometimes run operations here. */
static void yield_ops(struct s2_mmu *mmu, void *arg)
{
	const char *outer = op_name;

	(void)mmu;
	(void)arg;
	if (yield_depth || fail_msg[0] || rnd(yield_odds)) {
		return;
	}
	yield_depth++;
	gap_of = outer;
	apply_pending_add();
	apply_pending_move();
	/* The invariants hold in the gap too, before anything runs. */
	check_all();
	for (unsigned int n = 1 + (unsigned int)rnd(3); n && !fail_msg[0];
	     n--) {
		do_step();
		st.yield_ops++;
	}
	yield_depth--;
	op_name = outer;
	memset(&promise, 0, sizeof(promise));
}

/* ---- Set-up and runs ------------------------------------------------------ */

static bool setup(unsigned int flags, uint64_t gen_max, bool yield)
{
	paddr_t ram;

	memset(&vm, 0, sizeof(vm));
	memset(mslots, 0, sizeof(mslots));
	memset(mviews, 0, sizeof(mviews));
	memset(mview_of, 0, sizeof(mview_of));
	memset(&st, 0, sizeof(st));
	fail_msg[0] = 0;
	step = 0;
	op_name = "setup";
	host_alloc_reset();
	palloc_reset();
	if (!host_ram) {
		host_ram = aligned_alloc(SZ_2M, HOST_RAM);
	}
	if (!host_ram || palloc_add_ram((paddr_t)(uintptr_t)host_ram,
					HOST_RAM) ||
	    palloc_finalize() || palloc_alloc(RAM_SIZE >> PAGE_SHIFT, 512,
					      &ram)) {
		return false;
	}
	memset((void *)(uintptr_t)ram, 0, RAM_SIZE);
	vm.cfg = &cfg;
	vm.name = "diff";
	vm.state = VM_RUNNING;
	vm.memslots[0] = (struct memslot){ .gpa = 0, .size = RAM_SIZE,
					   .pa = ram };
	vm.nr_memslots = 1;
	vm.memslot_gen = 2;
	vm.mmio_gen_max = gen_max;
	vm.mem_used = RAM_SIZE;
	vm.mem_limit = RAM_SIZE + EXTRA_RAM;
	vm.nr_vcpus = NR_VCPUS;
	mslots[0] = (struct mslot){ .used = true, .size = RAM_SIZE,
				    .pa = ram };
	mem_used = RAM_SIZE;
	for (unsigned int i = 0; i < NR_VCPUS; i++) {
		vm.vcpus[i] = (struct vcpu){ .vm = &vm, .id = i,
					     .state = VCPU_RUNNABLE };
		if (sim_tlb_init(&tlbs[i], TLB_LEAVES, TLB_WALKS, tlb_walk,
				 tlb_freed, (void *)(uintptr_t)i)) {
			return false;
		}
	}
	if (vm_mmu_init(&vm, IA_BITS, flags) ||
	    dev_testdev_add(&vm, IO_MMIO, DEV_GPA)) {
		return false;
	}
	warn_count = 0;
	vm_entry_audit_on = true;
	host_flush_observer = on_flush;
	host_table_free_observer = on_table_free;
	if (yield) {
		vm.mmu.zap_chunk = SZ_1G;
		vm.mmu.yield = yield_ops;
		yield_odds = 16;
	}
	return true;
}

static void teardown(void)
{
	uint64_t before_frees = vm.mmu.stats.root_frees;

	vm.mmu.yield = NULL;
	vm_mmu_destroy(&vm);
	host_flush_observer = NULL;
	host_table_free_observer = NULL;
	if (!fail_msg[0] && host_alloc_live) {
		fail("teardown left %lu table pages (roots freed: %llu)",
		     host_alloc_live,
		     (unsigned long long)(vm.mmu.stats.root_frees -
					  before_frees));
	}
	for (unsigned int i = 0; i < NR_VCPUS; i++) {
		if (!fail_msg[0] && (sim_tlb_count(&tlbs[i], false) ||
				     sim_tlb_count(&tlbs[i], true))) {
			fail("vCPU %u's TLB keeps entries of freed roots", i);
		}
		sim_tlb_destroy(&tlbs[i]);
	}
}

static void print_stats(const char *name)
{
	printf("# %s: %lu ops (%lu refused), faults %lu fixed %lu mmio %lu view violations, %lu logged writes, %lu invalidate-all, %lu in zapper gaps, memslots +%lu -%lu moved %lu flags %lu, %lu views destroyed, %lu TLB fills, up to %lu roots, %lu leaves checked, %llu generation wraps, %llu root allocs, %llu cache hits, %lu injected -ENOMEM\n",
	       name, st.ops, st.op_err, st.fixed, st.mmio, st.violations,
	       st.wp_faults, st.invalidations, st.yield_ops, st.adds,
	       st.deletes, st.moves, st.flag_changes, st.view_destroys,
	       st.fills, st.max_roots, st.checked_leaves,
	       (unsigned long long)vm.ctr[STRATA_CTR_GEN_WRAPS],
	       (unsigned long long)vm.mmu.stats.root_allocs,
	       (unsigned long long)vm.mmu.stats.cache_hits, st.enomem);
}

static void random_run(const char *name, uint64_t salt, unsigned int flags,
		       uint64_t gen_max, bool yield)
{
	unsigned long steps = steps_arg * (test_long ? 10 : 1);

	rng_state = test_seed * 0x9E3779B97F4A7C15ull + salt;
	if (!rng_state) {
		rng_state = 1;
	}
	if (!setup(flags, gen_max, yield)) {
		test_fail(__FILE__, __LINE__, "set-up failed");
		return;
	}
	check_all();
	for (step = 0; step < steps && !fail_msg[0]; step++) {
		do_step();
	}
	op_name = "teardown";
	if (!fail_msg[0]) {
		print_stats(name);
	}
	teardown();
	if (fail_msg[0]) {
		test_fail(__FILE__, __LINE__, "%s", fail_msg);
		return;
	}
	/* The run must have done what it is about. */
	CHECK(st.invalidations > 0 && st.violations > 0 && st.fixed > 0);
	CHECK(st.mmio > 0 && st.adds > 0 && st.deletes > 0 && st.moves > 0);
	CHECK(st.view_destroys > 0 && st.wp_faults > 0);
	CHECK(!yield || st.yield_ops > 0);
}

#ifdef DIFF_EPT
#define FLAGS_A		0
#define FLAGS_B		S2PT_F_VE
#else
#define FLAGS_A		(S2PT_F_FWB | S2PT_F_TLBIRANGE)
#define FLAGS_B		0
#endif

/*
 * Faults, memslot and view updates, zaps and invalidations on three vCPUs:
 * after every step every root translates only what the memslots back, with
 * no more rights than slot and view allow, and nothing freed is reachable.
 */
static void random_roots_views_memslots(void)
{
	random_run("random_roots_views_memslots", 1, FLAGS_A,
		   S2_MMIO_GEN_MAX, false);
}

/*
 * The same with zappers that yield every 1 GiB and random operations in
 * their gaps, and a 3-bit MMIO generation that wraps every 8 updates.
 */
static void random_with_ops_in_zapper_gaps(void)
{
	random_run("random_with_ops_in_zapper_gaps", 2, FLAGS_B, 7, true);
}

int main(int argc, char **argv)
{
	steps_arg = 3000;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
			steps_arg = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--host-writes")) {
			host_writes = true;
		}
	}
	test_init(argc, argv, SUITE);
	RUN_TEST(random_roots_views_memslots);
	RUN_TEST(random_with_ops_in_zapper_gaps);
	free(host_ram);
	return test_done();
}
