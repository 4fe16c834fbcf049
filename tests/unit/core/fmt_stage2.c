// SPDX-License-Identifier: MIT
/* arm64 stage-2-specific host tests of the core (arch/arm64/stage2.c). */
#include <string.h>

#include <arch/stage2.h>
#include <arch/stage2_flush.h>
#include "core_util.h"
#include "ref_stage2.h"

const unsigned int fmt_ia_bits = 40;

static struct s2pt pt;

/* Start level and concatenated roots follow the IPA size (VTCR_EL2 rules). */
static void stage2_geometry_per_ipa_size(void)
{
	static const struct {
		unsigned int bits, levels, roots, entries;
	} g[] = {
		{ 32, 2, 4, 2048 }, { 34, 2, 16, 8192 }, { 35, 3, 1, 32 },
		{ 39, 3, 1, 512 }, { 40, 3, 2, 1024 }, { 43, 3, 16, 8192 },
		{ 44, 4, 1, 32 }, { 48, 4, 1, 512 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(g); i++) {
		struct s2_translation t;
		gpa_t top = (1ULL << g[i].bits) - SZ_4K;

		CHECK_EQ(core_setup(&pt, g[i].bits, 0), 0);
		CHECK_EQ(pt.fmt.levels, g[i].levels);
		CHECK_EQ(pt.fmt.root_pages, g[i].roots);
		CHECK_EQ(pt.fmt.root_entries, g[i].entries);
		CHECK_EQ(s2pt_map(&pt, top, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
		CHECK_EQ(s2pt_lookup(&pt, top, &t), 0);
		CHECK_EQ(t.pa, TEST_PA(0));
		CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_2M, S2_PROT_R), 0);
		CHECK_EQ(s2pt_lookup(&pt, 0, &t), 0);
		CHECK_EQ(t.level, 1);
		CHECK_EQ(s2pt_map(&pt, top + SZ_4K, 0, SZ_4K, S2_PROT_R),
			 -ERANGE);
		/* Root alignment: concatenated tables are size aligned. */
		CHECK(IS_ALIGNED(pt.root, g[i].roots * PAGE_SIZE));
		CHECK(core_teardown(&pt));
	}
	CHECK_EQ(s2pt_init(&pt, 31, 0, 1), -EINVAL);
	CHECK_EQ(s2pt_init(&pt, 49, 0, 1), -EINVAL);
}

/* Leaves: AF, inner shareable, S2AP, XN, MemAttr normal/device, no FWB. */
static void stage2_leaf_encoding(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, 40, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_lookup(&pt, 0, &t), 0);
	CHECK_EQ(t.pte, TEST_PA(0) | 3 | (0xfULL << 2) | S2_AP_R |
			(3ULL << 8) | S2_AF | S2_XN);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(SZ_2M), SZ_2M,
			  S2_PROT_W | S2_PROT_X | S2_PROT_DEVICE), 0);
	CHECK_EQ(s2pt_lookup(&pt, SZ_2M, &t), 0);
	CHECK_EQ(t.pte, TEST_PA(SZ_2M) | 1 | (0x1ULL << 2) | S2_AP_W |
			(3ULL << 8) | S2_AF);
	CHECK_EQ(t.prot, S2_PROT_W | S2_PROT_X | S2_PROT_DEVICE);
	CHECK(core_teardown(&pt));
}

/* With FWB, normal memory is MemAttr 0b0110 and device 0b0001. */
static void stage2_fwb_memattr(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, 40, S2PT_F_FWB), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_4K, TEST_PA(0), SZ_4K,
			  S2_PROT_RWX | S2_PROT_DEVICE), 0);
	CHECK_EQ(s2pt_lookup(&pt, 0, &t), 0);
	CHECK_EQ((t.pte & S2_MEMATTR_MASK) >> 2, 0x6);
	CHECK_EQ(t.prot, S2_PROT_RWX);
	CHECK_EQ(s2pt_lookup(&pt, SZ_4K, &t), 0);
	CHECK_EQ((t.pte & S2_MEMATTR_MASK) >> 2, 0x1);
	CHECK_EQ(t.prot, S2_PROT_RWX | S2_PROT_DEVICE);
	CHECK(core_teardown(&pt));
}

/* Without FWB only normal memory is cleaned, after the TLBI; device not. */
static void stage2_cmo_only_normal_after_tlbi(void)
{
	CHECK_EQ(core_setup(&pt, 40, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), 4 * SZ_4K, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_map(&pt, 4 * SZ_4K, TEST_PA(SZ_2M), 4 * SZ_4K,
			  S2_PROT_RWX | S2_PROT_DEVICE), 0);
	host_nr_events = 0;
	CHECK_EQ(s2pt_unmap(&pt, 0, 8 * SZ_4K), 0);
	CHECK_EQ(pt.counters.cmo_pages, 4);
	CHECK_EQ(core_events(HOST_EV_CMO), 1);
	CHECK(core_first_event(HOST_EV_CMO) > core_last_event(HOST_EV_FLUSH));
	/* 8 leaves plus the emptied tables' walk-cache entries, one plan. */
	CHECK_EQ(pt.counters.flushes, 1);
	CHECK_EQ(pt.counters.tlbi_walk, 1);
	CHECK(core_teardown(&pt));
}

/* Invalid descriptors keep software data in bits 63:1. */
static void stage2_software_bits_in_invalid(void)
{
	s2pte_t pte;

	CHECK_EQ(core_setup(&pt, 40, 0), 0);
	pte = arch_s2_make_sw(&pt, 0x2aaaaaaaaaaaaaaaULL);
	CHECK_EQ(pte & 1, 0);
	CHECK_EQ(arch_s2_pte_sw(pte), 0x2aaaaaaaaaaaaaaaULL);
	CHECK_EQ(arch_s2_pte_kind(pte, 0), S2_PTE_INVALID_SW);
	CHECK_EQ(arch_s2_pte_kind(0, 2), S2_PTE_ABSENT);
	/* A block descriptor at the last level is not a leaf. */
	CHECK_EQ(arch_s2_pte_kind(TEST_PA(0) | 1, 0), S2_PTE_INVALID_SW);
	CHECK_EQ(s2pt_root_desc(&pt), pt.root | (1ULL << 48));
	CHECK_EQ(stage2_vtcr(&pt, 2), 0x80023558);
	CHECK(core_teardown(&pt));
}

/* Decoded range operands cover exactly [ipa, ipa + pages) in order. */
static void stage2_tlbi_range_ops_cover_exactly(void)
{
	for (unsigned int k = 0; k < 20000; k++) {
		uint64_t ipa = (test_rand() % (1ULL << 28)) << PAGE_SHIFT;
		uint64_t max = k & 1 ? 64 : TLBIR_MAX_PAGES;
		uint64_t pages = 1 + test_rand() % max;
		uint64_t next = ipa >> PAGE_SHIFT;
		uint64_t ops[5];
		unsigned int n = stage2_tlbi_range_ops(ipa, pages, ops);

		CHECK(n >= 1 && n <= 5);
		for (unsigned int i = 0; i < n; i++) {
			uint64_t scale, num;

			if (ops[i] & BIT(63)) {
				CHECK_EQ(i, 0);
				CHECK_EQ(ops[i] & ~BIT(63), next);
				next++;
				continue;
			}
			CHECK_EQ(ops[i] & GENMASK(47, 46), TLBIR_TG_4K);
			CHECK_EQ(ops[i] & TLBIR_BADDR_MASK,
				 next & TLBIR_BADDR_MASK);
			scale = (ops[i] >> TLBIR_SCALE_SHIFT) & 3;
			num = (ops[i] >> TLBIR_NUM_SHIFT) & 31;
			next += (num + 1) << (5 * scale + 1);
		}
		CHECK_EQ(next, (ipa >> PAGE_SHIFT) + pages);
	}
}

/* An MMIO SPTE is an invalid descriptor, also after a 52-bit generation. */
static void stage2_mmio_spte_is_invalid_descriptor(void)
{
	const s2pte_t *t;

	CHECK_EQ(core_setup(&pt, 40, 0), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 0xfffff000, S2_MMIO_GEN_MAX), 0);
	t = s2_table_va(pt.root);
	t = s2_table_va(t[3] & S2_PA_MASK);
	t = s2_table_va(t[511] & S2_PA_MASK);
	CHECK_EQ(t[511] & S2_DESC_VALID, 0);
	CHECK_EQ(t[511], 0x3ff00000fffffffeULL);
	/* Other software data keeps clear of the marker. */
	CHECK(!s2pt_is_mmio(&pt, arch_s2_make_sw(&pt, 0x2aaaaaaaaaaaaaaaULL)));
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

static uint64_t ref_read(void *ctx, uint64_t pa)
{
	(void)ctx;
	return *(const uint64_t *)(uintptr_t)pa;
}

/*
 * The reference stage-2 walker (written from the Arm ARM) takes every
 * access to an MMIO SPTE as a level 3 translation fault, like an absent
 * entry: the exit carries the faulting IPA for the emulation.
 */
static void stage2_mmio_spte_faults_in_reference(void)
{
	static const unsigned int access[] = { REF_READ, REF_WRITE, REF_FETCH };
	struct ref_s2_walk w;
	struct ref_s2_cfg cfg;

	CHECK_EQ(core_setup(&pt, 40, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0x40000000, TEST_PA(0), SZ_4K, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 0x40001000, 0x3ff), 0);
	cfg = (struct ref_s2_cfg){
		.vtcr = stage2_vtcr(&pt, 5),
		.vttbr = s2pt_root_desc(&pt),
		.parange_bits = 48,
	};
	for (unsigned int a = 0; a < ARRAY_SIZE(access); a++) {
		ref_s2_walk(&cfg, 0x40001ff8, access[a], ref_read, NULL, &w);
		CHECK_EQ(w.fault, REF_S2_TRANSLATION);
		CHECK_EQ(w.fault_arm_level, 3);
	}
	/* The page beside it, in the same table, translates. */
	CHECK_EQ(ref_s2_walk(&cfg, 0x40000008, REF_WRITE, ref_read, NULL, &w),
		 REF_S2_OK);
	CHECK_EQ(w.pa, TEST_PA(8));
	CHECK(core_teardown(&pt));
}

void run_format_tests(void)
{
	RUN_TEST(stage2_geometry_per_ipa_size);
	RUN_TEST(stage2_leaf_encoding);
	RUN_TEST(stage2_fwb_memattr);
	RUN_TEST(stage2_cmo_only_normal_after_tlbi);
	RUN_TEST(stage2_software_bits_in_invalid);
	RUN_TEST(stage2_mmio_spte_is_invalid_descriptor);
	RUN_TEST(stage2_mmio_spte_faults_in_reference);
	RUN_TEST(stage2_tlbi_range_ops_cover_exactly);
}
