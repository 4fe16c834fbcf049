// SPDX-License-Identifier: MIT
/*
 * Fast host tests for two bugs that only the long differential run (or one
 * stage-2 test) used to catch (issue 9): the fast detach writing 0 instead
 * of the format's absent entry (on a #VE EPT VM that loses SUPPRESS_VE), and
 * a table emptied by an unmap whose entry is cleared without an invalidation
 * of the walk caches that may still hold it. Built once per format with the
 * real encoder; tests/unit/ref/mutants.py --core shows they catch both.
 *
 * The "hardware" is the reference walker of that format feeding the
 * simulated TLB of tests/unit/ref/sim_tlb.c; the executed flush plans are
 * applied to it the way the format's executor invalidates.
 */
#include <string.h>

#include "core_util.h"
#include "sim_tlb.h"
#ifdef SEEDED_EPT
#include <arch/ept.h>
#define SEEDED_IA_BITS	48
#define SEEDED_SUITE	"core_seeded_ept"
#else
#include <arch/stage2.h>
#define SEEDED_IA_BITS	40
#define SEEDED_SUITE	"core_seeded_stage2"
#endif

static struct s2pt pt;
static struct sim_tlb tlb;
static uint64_t tag;
#ifdef SEEDED_EPT
static struct ref_ept_opts eopts;
#else
static struct ref_s2_cfg scfg;
#endif

/* What the executed plans did, for the tests to assert. */
static struct s2_flush_plan last_plan;
static unsigned int nr_plans;
/* Table pages freed while a simulated walk cache still held them. */
static unsigned int freed_while_cached;

static uint64_t table_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (!host_page_live(pa & ~(uint64_t)(PAGE_SIZE - 1))) {
		return 0;	/* freed: reported by the TLB checks */
	}
	return *(const uint64_t *)(uintptr_t)pa;
}

static void hw_walk(void *ctx, uint64_t t, uint64_t ia, struct sim_xlate *x)
{
#ifdef SEEDED_EPT
	struct ref_ept_walk w;

	ref_ept_walk(t, ia, REF_READ, &eopts, table_read64, NULL, &w);
	sim_xlate_from_ept(&w, x);
#else
	struct ref_s2_walk w;

	(void)t;
	ref_s2_walk(&scfg, ia, REF_READ, table_read64, NULL, &w);
	sim_xlate_from_s2(&w, x);
#endif
	(void)ctx;
}

static bool hw_freed(void *ctx, uint64_t pa)
{
	(void)ctx;
	return !host_page_live(pa);
}

/* The guest touches @gpa: the CPU walks it and may cache what it used. */
static void hw_touch(gpa_t gpa)
{
	struct sim_xlate x;

	hw_walk(NULL, tag, gpa, &x);
	sim_tlb_fill(&tlb, tag, &x);
}

/* The format's executor, on the simulated TLB (as tests/unit/ref/test_diff.c). */
static void on_flush(struct s2pt *p, const struct s2_flush_plan *plan)
{
	(void)p;
	last_plan = *plan;
	nr_plans++;
#ifdef SEEDED_EPT
	sim_tlb_inv_tag(&tlb, tag);	/* INVEPT single-context */
#else
	switch (plan->kind) {
	case S2_FLUSH_IPA:
		for (unsigned int i = 0; i < plan->nr_ipa &&
		     i < S2_FLUSH_MAX_IPA; i++) {
			uint8_t l = plan->ipa[i].level;

			sim_tlb_inv_ipa_ttl(&tlb, tag, plan->ipa[i].addr,
					    !plan->walk,
					    l == S2_LEVEL_ANY ? 0 :
					    S2_LEVEL_SIZE(l));
		}
		break;
	case S2_FLUSH_RANGE:
		sim_tlb_inv_range(&tlb, tag, plan->start,
				  (plan->end - plan->start) >> PAGE_SHIFT,
				  !plan->walk);
		break;
	default:
		sim_tlb_inv_tag(&tlb, tag);
		break;
	}
#endif
}

static void on_free(paddr_t pa)
{
	for (unsigned int i = 0; i < tlb.nr_walk; i++) {
		freed_while_cached += tlb.walk[i].valid &&
				      tlb.walk[i].table == pa;
	}
}

/* A fresh table with the simulated TLB and the observers attached. */
static int seeded_setup(unsigned int flags)
{
	int ret = core_setup(&pt, SEEDED_IA_BITS, flags);

	if (ret) {
		return ret;
	}
	tag = s2pt_root_desc(&pt);
#ifdef SEEDED_EPT
	eopts = (struct ref_ept_opts){
		.ve = flags & S2PT_F_VE, .maxphyaddr = 52,
	};
#else
	scfg = (struct ref_s2_cfg){
		.vtcr = stage2_vtcr(&pt, 5),
		.vttbr = tag,
		.fwb = flags & S2PT_F_FWB,
		.parange_bits = 48,
	};
#endif
	sim_tlb_destroy(&tlb);
	if (sim_tlb_init(&tlb, 64, 48, hw_walk, hw_freed, NULL)) {
		return -ENOMEM;
	}
	memset(&last_plan, 0, sizeof(last_plan));
	nr_plans = 0;
	freed_while_cached = 0;
	host_flush_observer = on_flush;
	host_table_free_observer = on_free;
	return 0;
}

static unsigned int tlb_stale(void)
{
	return sim_tlb_stale(&tlb, NULL);
}

/* The raw entry of @level on the walk to @gpa, or NULL if none is there. */
static s2pte_t *entry_at(gpa_t gpa, unsigned int level)
{
	unsigned int l = pt.fmt.levels - 1;
	s2pte_t *t = s2_table_va(pt.root);
	/* The root may be several concatenated pages (stage-2). */
	uint64_t idx = gpa >> S2_LEVEL_SHIFT(l);

	for (;;) {
		if (l == level) {
			return &t[idx];
		}
		if (arch_s2_pte_kind(t[idx], l) != S2_PTE_TABLE) {
			return NULL;
		}
		t = s2_table_va(arch_s2_pte_pa(t[idx], 0));
		l--;
		idx = (gpa >> S2_LEVEL_SHIFT(l)) & (S2_PTRS_PER_TABLE - 1);
	}
}

/* Every not-present entry under @table is one the format allows. */
static bool table_absent_ok(paddr_t table, unsigned int level,
			    unsigned int n)
{
	const s2pte_t *t = s2_table_va(table);

	for (unsigned int i = 0; i < n; i++) {
		enum s2_pte_kind k = arch_s2_pte_kind(t[i], level);

		if (k == S2_PTE_ABSENT && t[i] != arch_s2_pte_absent(&pt)) {
			return false;
		}
		if (!arch_s2_absent_ok(&pt, t[i])) {
			return false;
		}
		if (k == S2_PTE_TABLE && level > 0 &&
		    !table_absent_ok(arch_s2_pte_pa(t[i], 0), level - 1,
				     S2_PTRS_PER_TABLE)) {
			return false;
		}
	}
	return true;
}

/* A fast detach on a #VE VM writes the format's absent entry (SUPPRESS_VE). */
static void fast_detach_writes_absent_entry(void)
{
	gpa_t g2 = 4 * SZ_1G + SZ_2M;	/* a 2 MiB-level detach */
	s2pte_t *e1, *e2;

	CHECK_EQ(seeded_setup(S2PT_F_VE), 0);
	/* Neighbours keep the parents of the detached entries alive. */
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_4K), SZ_1G, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_map(&pt, 4 * SZ_1G, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_map(&pt, g2, TEST_PA(0), SZ_2M - SZ_4K, S2_PROT_RW_TEST),
		 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G, SZ_1G), 0);
	CHECK_EQ(s2pt_unmap(&pt, g2, SZ_2M), 0);
	CHECK_EQ(pt.counters.detaches, 2);
	e1 = entry_at(SZ_1G, 2);
	e2 = entry_at(g2, 1);
	CHECK(e1 && e2);
	CHECK_EQ(*e1, arch_s2_pte_absent(&pt));
	CHECK_EQ(*e2, arch_s2_pte_absent(&pt));
#ifdef SEEDED_EPT
	CHECK_EQ(*e1, EPT_SUPPRESS_VE);
	CHECK_EQ(*e2, EPT_SUPPRESS_VE);
#endif
	CHECK(table_absent_ok(pt.root, pt.fmt.levels - 1,
			      pt.fmt.root_pages * S2_PTRS_PER_TABLE));
	CHECK_EQ(s2pt_audit(&pt), 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

#ifdef SEEDED_EPT
/* A guest access to a fast-detached range of a #VE VM exits, never #VE. */
static void ept_fast_detached_range_is_violation_not_ve(void)
{
	static const gpa_t probe[] = {
		SZ_1G, SZ_1G + 0x12345000, 2 * SZ_1G - SZ_4K,
	};
	struct ref_ept_walk w;

	CHECK_EQ(seeded_setup(S2PT_F_VE), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_4K), SZ_1G, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G, SZ_1G), 0);
	CHECK_EQ(pt.counters.detaches, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(probe); i++) {
		ref_ept_walk(tag, probe[i], REF_WRITE, &eopts, table_read64,
			     NULL, &w);
		CHECK_EQ(w.result, REF_EPT_VIOLATION);
		CHECK_EQ(w.why, REF_EPT_WHY_NOT_PRESENT);
		CHECK(!w.ve);
	}
	CHECK(core_teardown(&pt));
}
#endif

/*
 * An unmap that empties a table of MMIO SPTEs (nothing the TLB caches as a
 * leaf) still invalidates the walk caches over it before freeing it.
 */
static void emptied_mmio_table_is_walk_invalidated(void)
{
	gpa_t gpa = SZ_1G + 5 * SZ_4K;

	CHECK_EQ(seeded_setup(0), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, gpa, 1), 0);
	hw_touch(gpa);
	CHECK(sim_tlb_count(&tlb, true) > 0);
	CHECK_EQ(s2pt_unmap(&pt, gpa, SZ_4K), 0);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	/* No freed table is still cached: what the hardware would see. */
	CHECK_EQ(freed_while_cached, 0);
	CHECK_EQ(tlb_stale(), 0);
	/* The one plan asked for the walk caches over the table. */
	CHECK_EQ(nr_plans, 1);
	CHECK_EQ(pt.counters.tlbi_walk, 1);
	CHECK(last_plan.walk);
	CHECK(last_plan.start <= gpa && gpa < last_plan.end);
	CHECK_EQ(sim_tlb_count(&tlb, true), 0);
	CHECK(core_teardown(&pt));
}

/* An unmap of a table's last page invalidates its walk-cache entry too. */
static void emptied_leaf_table_is_walk_invalidated(void)
{
	gpa_t gpa = SZ_1G + 7 * SZ_4K;

	CHECK_EQ(seeded_setup(0), 0);
	CHECK_EQ(s2pt_map(&pt, gpa, TEST_PA(0), SZ_4K, S2_PROT_RW_TEST), 0);
	hw_touch(gpa);
	CHECK(sim_tlb_lookup(&tlb, tag, gpa));
	CHECK_EQ(s2pt_unmap(&pt, gpa, SZ_4K), 0);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	/* No freed table is still cached: what the hardware would see. */
	CHECK_EQ(freed_while_cached, 0);
	CHECK_EQ(tlb_stale(), 0);
	/* The one plan asked for the walk caches over the table. */
	CHECK_EQ(nr_plans, 1);
	CHECK_EQ(pt.counters.tlbi_walk, 1);
	CHECK(last_plan.walk);
	CHECK(last_plan.start <= gpa && gpa < last_plan.end);
	CHECK(core_teardown(&pt));
}

/*
 * Leaf by leaf (no fast detach), a 1 GiB unmap empties 513 tables and
 * leaves no walk-cache entry for any of them.
 */
static void slow_unmap_invalidates_every_emptied_table(void)
{
	CHECK_EQ(seeded_setup(S2PT_F_NO_FAST_UNMAP), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_4K), SZ_1G, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 3 * SZ_1G, 1), 0);
	for (gpa_t g = SZ_1G; g < 2 * SZ_1G; g += 37 * SZ_2M) {
		hw_touch(g);
	}
	hw_touch(3 * SZ_1G);
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G, SZ_1G), 0);
	CHECK_EQ(s2pt_unmap(&pt, 3 * SZ_1G, SZ_4K), 0);
	CHECK_EQ(pt.counters.detaches, 0);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK_EQ(pt.counters.tlbi_walk, 2);
	CHECK_EQ(freed_while_cached, 0);
	CHECK_EQ(tlb_stale(), 0);
	CHECK(core_teardown(&pt));
}

int main(int argc, char **argv)
{
	test_init(argc, argv, SEEDED_SUITE);
	RUN_TEST(fast_detach_writes_absent_entry);
#ifdef SEEDED_EPT
	RUN_TEST(ept_fast_detached_range_is_violation_not_ve);
#endif
	RUN_TEST(emptied_mmio_table_is_walk_invalidated);
	RUN_TEST(emptied_leaf_table_is_walk_invalidated);
	RUN_TEST(slow_unmap_invalidates_every_emptied_table);
	sim_tlb_destroy(&tlb);
	return test_done();
}
