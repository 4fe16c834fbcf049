// SPDX-License-Identifier: MIT
/* EPT-specific host tests of the stage-2 core (arch/x86/ept.c). */
#include <string.h>

#include <arch/ept.h>
#include "core_util.h"
#include "ref_ept.h"

const unsigned int fmt_ia_bits = 48;

static struct s2pt pt;

/* Leaves carry R/W/X in 2:0, WB or UC in 5:3, ignore-PAT, bit 7 if large. */
static void ept_leaf_encoding(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, 48, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R | S2_PROT_X),
		 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(SZ_2M), SZ_2M,
			  S2_PROT_RWX | S2_PROT_DEVICE), 0);
	CHECK_EQ(s2pt_lookup(&pt, 0, &t), 0);
	CHECK_EQ(t.pte, TEST_PA(0) | EPT_R | EPT_X | (6ULL << 3) |
			EPT_IGNORE_PAT);
	CHECK_EQ(s2pt_lookup(&pt, SZ_2M, &t), 0);
	CHECK_EQ(t.pte, TEST_PA(SZ_2M) | EPT_RWX | EPT_IGNORE_PAT | EPT_LARGE);
	CHECK_EQ(t.prot, S2_PROT_RWX | S2_PROT_DEVICE);
	CHECK(core_teardown(&pt));
}

/* Write-only and execute-only would misconfigure: refused. */
static void ept_refuses_prot_without_read(void)
{
	CHECK_EQ(core_setup(&pt, 48, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, 0, SZ_4K, S2_PROT_W), -EINVAL);
	CHECK_EQ(s2pt_map(&pt, 0, 0, SZ_4K, S2_PROT_X), -EINVAL);
	CHECK_EQ(s2pt_map(&pt, 0, 0, SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_protect(&pt, 0, SZ_4K, S2_PROT_W | S2_PROT_X), -EINVAL);
	CHECK(core_teardown(&pt));
}

static bool table_all_suppress_ve(paddr_t table, unsigned int level)
{
	const s2pte_t *t = s2_table_va(table);

	for (unsigned int i = 0; i < S2_PTRS_PER_TABLE; i++) {
		if (!(t[i] & EPT_RWX) && !(t[i] & EPT_SUPPRESS_VE)) {
			return false;
		}
		if (level && arch_s2_pte_kind(t[i], level) == S2_PTE_TABLE &&
		    !table_all_suppress_ve(t[i] & EPT_PA_MASK, level - 1)) {
			return false;
		}
	}
	return true;
}

/* With #VE on, every not-present entry at every level has SUPPRESS_VE. */
static void ept_ve_sets_suppress_ve_everywhere(void)
{
	CHECK_EQ(core_setup(&pt, 48, S2PT_F_VE), 0);
	CHECK(table_all_suppress_ve(pt.root, 3));
	CHECK_EQ(s2pt_map(&pt, SZ_1G + SZ_4K, TEST_PA(SZ_4K), 3 * SZ_2M,
			  S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_split(&pt, 0, 4 * SZ_1G, 0), 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G + SZ_2M, SZ_4K), 0);
	CHECK(table_all_suppress_ve(pt.root, 3));
	CHECK_EQ(pt.audit_failures, 0);
	/* The audit sees a cleared bit. */
	((s2pte_t *)s2_table_va(pt.root))[511] = 0;
	CHECK_EQ(s2pt_audit(&pt), -EIO);
	((s2pte_t *)s2_table_va(pt.root))[511] = EPT_SUPPRESS_VE;
	CHECK_EQ(s2pt_audit(&pt), 0);
	CHECK(core_teardown(&pt));
}

/* EPTP: WB, 4-level walk, root address. */
static void ept_root_desc_is_eptp(void)
{
	CHECK_EQ(core_setup(&pt, 48, 0), 0);
	CHECK_EQ(s2pt_root_desc(&pt), pt.root | 6 | (3 << 3));
	CHECK_EQ(pt.fmt.levels, 4);
	CHECK_EQ(pt.fmt.root_pages, 1);
	CHECK(core_teardown(&pt));
}

/* Table entries keep the child count in ignored bits 61:52. */
static void ept_table_count_in_ignored_bits(void)
{
	const s2pte_t *root;

	CHECK_EQ(core_setup(&pt, 48, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), 3 * SZ_4K, S2_PROT_R), 0);
	root = s2_table_va(pt.root);
	CHECK_EQ(root[0] & EPT_RWX, EPT_RWX);
	CHECK_EQ((root[0] & EPT_COUNT_MASK) >> EPT_COUNT_SHIFT, 1);
	CHECK_EQ(pt.root_count, 1);
	CHECK(core_teardown(&pt));
}

/*
 * On a #VE VM an MMIO SPTE is write-without-read with SUPPRESS_VE clear: a
 * misconfiguration exit, never a #VE, and the audit accepts it.
 */
static void ept_mmio_spte_is_misconfiguration(void)
{
	const s2pte_t *t;

	CHECK_EQ(core_setup(&pt, 48, S2PT_F_VE), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_4K, 3), 0);
	t = s2_table_va(pt.root);
	for (unsigned int level = 3; level > 0; level--) {
		t = s2_table_va(t[0] & EPT_PA_MASK);
	}
	CHECK_EQ(t[1] & EPT_RWX, EPT_W | EPT_X);
	CHECK_EQ(t[1] & EPT_SUPPRESS_VE, 0);
	CHECK_EQ(t[1] & EPT_PA_MASK, SZ_4K);
	/* Its neighbours are still absent with SUPPRESS_VE. */
	CHECK_EQ(t[0], EPT_SUPPRESS_VE);
	CHECK_EQ(t[2], EPT_SUPPRESS_VE);
	CHECK(arch_s2_absent_ok(&pt, t[1]));
	CHECK(table_all_suppress_ve(pt.root, 3));
	CHECK_EQ(s2pt_audit(&pt), 0);
	/* Unmapped, it becomes absent with SUPPRESS_VE again. */
	CHECK_EQ(s2pt_set_mmio(&pt, 2 * SZ_4K, 3), 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_4K, SZ_4K), 0);
	CHECK_EQ(t[1], EPT_SUPPRESS_VE);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

static uint64_t ref_read(void *ctx, uint64_t pa)
{
	(void)ctx;
	return *(const uint64_t *)(uintptr_t)pa;
}

/*
 * The reference EPT walker (written from the SDM, not from our encoder)
 * takes every access to an MMIO SPTE as a misconfiguration, with or without
 * #VE, while an absent neighbour is a violation.
 */
static void ept_mmio_spte_misconfigures_in_reference(void)
{
	static const unsigned int access[] = { REF_READ, REF_WRITE, REF_FETCH };
	unsigned int flags[] = { 0, S2PT_F_VE };
	struct ref_ept_walk w;

	for (unsigned int f = 0; f < ARRAY_SIZE(flags); f++) {
		struct ref_ept_opts o = {
			.ve = flags[f] & S2PT_F_VE, .maxphyaddr = 52,
		};
		uint64_t eptp;

		CHECK_EQ(core_setup(&pt, 48, flags[f]), 0);
		CHECK_EQ(s2pt_set_mmio(&pt, 0x12345000, 0x2a5), 0);
		eptp = s2pt_root_desc(&pt);
		for (unsigned int a = 0; a < ARRAY_SIZE(access); a++) {
			ref_ept_walk(eptp, 0x12345678, access[a], &o, ref_read,
				     NULL, &w);
			CHECK_EQ(w.result, REF_EPT_MISCONFIG);
			CHECK_EQ(w.why, REF_EPT_WHY_WRITE_NO_READ);
			CHECK_EQ(w.fault_level, 0);
			CHECK(!w.ve);
		}
		ref_ept_walk(eptp, 0x12346000, REF_READ, &o, ref_read, NULL,
			     &w);
		/* Absent entries carry SUPPRESS_VE: an exit, never a #VE. */
		CHECK_EQ(w.result, REF_EPT_VIOLATION);
		CHECK(!w.ve);
		CHECK(core_teardown(&pt));
	}
}

void run_format_tests(void)
{
	RUN_TEST(ept_leaf_encoding);
	RUN_TEST(ept_refuses_prot_without_read);
	RUN_TEST(ept_ve_sets_suppress_ve_everywhere);
	RUN_TEST(ept_root_desc_is_eptp);
	RUN_TEST(ept_table_count_in_ignored_bits);
	RUN_TEST(ept_mmio_spte_is_misconfiguration);
	RUN_TEST(ept_mmio_spte_misconfigures_in_reference);
}
