// SPDX-License-Identifier: MIT
/*
 * Host tests of s2pt_map_fault() (mm/s2_fault.c), one binary per format
 * with the real encoder (-DFAULT_EPT or -DFAULT_STAGE2): the largest block
 * at every memslot edge and alignment, smaller ones beside what is mapped,
 * existing leaves and MMIO SPTEs reported without a write, no partial update
 * under allocation failure, bad arguments refused, and random faults judged
 * three ways: a brute-force choice of the level, s2pt_map() of the same block
 * in a twin table (the same dump), and the format's reference translator.
 */
#include <stdio.h>
#include <string.h>

#include "core_util.h"
#ifdef FAULT_EPT
#include "ref_ept.h"
const unsigned int fmt_ia_bits = 48;
#else
#include <arch/stage2.h>
#include "ref_stage2.h"
const unsigned int fmt_ia_bits = 40;
#endif

static struct s2pt pt, twin;

static uint64_t ref_read(void *ctx, uint64_t pa)
{
	(void)ctx;
	return *(const uint64_t *)(uintptr_t)pa;
}

/* What the format's reference walker says about a read of @gpa. */
static bool ref_translate(const struct s2pt *p, gpa_t gpa, uint64_t *pa,
			  int *level)
{
#ifdef FAULT_EPT
	struct ref_ept_opts o = {
		.ve = p->flags & S2PT_F_VE, .maxphyaddr = 52,
	};
	struct ref_ept_walk w;

	if (ref_ept_walk(s2pt_root_desc(p), gpa, REF_READ, &o, ref_read, NULL,
			 &w) != REF_EPT_OK) {
		return false;
	}
	*pa = w.pa;
	*level = w.leaf_level;
	return true;
#else
	struct ref_s2_cfg cfg = {
		.vtcr = stage2_vtcr(p, 5),
		.vttbr = s2pt_root_desc(p),
		.parange_bits = 48,
	};
	struct ref_s2_walk w;

	if (ref_s2_walk(&cfg, gpa, REF_READ, ref_read, NULL, &w) != REF_S2_OK) {
		return false;
	}
	*pa = w.pa;
	*level = w.leaf_level;
	return true;
#endif
}

/* The level the contract asks for, by brute force over every level. */
static unsigned int want_level(const struct s2pt *p, gpa_t gpa, gpa_t lo,
			       gpa_t hi, paddr_t pa_lo, unsigned int at)
{
	for (int l = (int)at; l >= 0; l--) {
		uint64_t size = S2_LEVEL_SIZE(l);
		gpa_t base = gpa & ~(size - 1);

		if (l == 0 || (s2_level_has_blocks(p, l) && base >= lo &&
			       base + size <= hi &&
			       ((pa_lo + base - lo) & (size - 1)) == 0)) {
			return (unsigned int)l;
		}
	}
	return 0;
}

/*
 * Fault @gpa in the empty slot [@lo, @hi) of a fresh table and check the
 * installed leaf against the contract, the twin and the reference.
 */
static bool fault_once(gpa_t gpa, gpa_t lo, gpa_t hi, paddr_t pa_lo,
		       unsigned int *level)
{
	struct s2_fault_result r;
	struct s2_translation t;
	unsigned int want = want_level(&pt, gpa, lo, hi, pa_lo, 2);
	uint64_t size = S2_LEVEL_SIZE(want), flushes = pt.counters.flushes;
	gpa_t base = gpa & ~(size - 1);
	char *a, *b;
	uint64_t rpa;
	int rlevel;
	bool ok;

	if (s2pt_map_fault(&pt, gpa, lo, hi, pa_lo, S2_PROT_RWX, &r) ||
	    r.found != S2_FAULT_INSTALLED || r.t.level != want ||
	    r.t.pa != pa_lo + (gpa - lo) || pt.counters.flushes != flushes) {
		return false;
	}
	if (s2pt_lookup(&pt, gpa, &t) || t.pa != r.t.pa || t.pte != r.t.pte ||
	    t.level != want || t.prot != S2_PROT_RWX) {
		return false;
	}
	if (!ref_translate(&pt, gpa, &rpa, &rlevel) || rpa != r.t.pa ||
	    rlevel != (int)want) {
		return false;
	}
	/* The twin: the same block by s2pt_map() in an empty table. */
	if (s2pt_init(&twin, pt.fmt.ia_bits, pt.flags, 1) ||
	    s2pt_map(&twin, base, pa_lo + (base - lo), size, S2_PROT_RWX)) {
		return false;
	}
	a = core_dump(&pt);
	b = core_dump(&twin);
	ok = strcmp(a, b) == 0 && twin.counters.tables_in_use ==
				  pt.counters.tables_in_use;
	free(a);
	free(b);
	s2pt_destroy(&twin);
	*level = want;
	return ok && pt.audit_failures == 0;
}

/* Every memslot edge and output alignment case picks the largest block. */
static void fault_largest_block_at_edges(void)
{
	static const struct {
		gpa_t gpa, lo, hi;
		paddr_t pa_lo;
		unsigned int level;
	} c[] = {
		/* 1 GiB aligned both sides. */
		{ 0x12345678, 0, 2 * SZ_1G, TEST_PA(0), 2 },
		/* Output only 2 MiB / 4 KiB aligned. */
		{ 0x12345678, 0, 2 * SZ_1G, TEST_PA(SZ_2M), 1 },
		{ 0x12345678, 0, 2 * SZ_1G, TEST_PA(SZ_4K), 0 },
		/* Slot starts 2 MiB into a GiB: no 1 GiB block in that GiB. */
		{ SZ_1G + 5 * SZ_2M + 8, SZ_1G + SZ_2M, 3 * SZ_1G, TEST_PA(0),
		  1 },
		/* Next GiB is inside but its output is 1G - 2M off. */
		{ 2 * SZ_1G + 0x777, SZ_1G + SZ_2M, 3 * SZ_1G, TEST_PA(0), 1 },
		/* Slot ends inside a GiB, then inside a 2 MiB block. */
		{ SZ_1G + 0x2000, 0, SZ_1G + SZ_2M + 3 * SZ_4K, TEST_PA(0), 1 },
		{ SZ_1G + SZ_2M + 0x1008, 0, SZ_1G + SZ_2M + 3 * SZ_4K,
		  TEST_PA(0), 0 },
		/* The last page of a slot; a one-page slot. */
		{ SZ_1G + SZ_2M + 3 * SZ_4K - 1, 0, SZ_1G + SZ_2M + 3 * SZ_4K,
		  TEST_PA(0), 0 },
		{ 0x40003000, 0x40003000, 0x40004000, TEST_PA(SZ_1G), 0 },
		/* Exactly one block of each size. */
		{ 3 * SZ_1G + SZ_2M - 1, 3 * SZ_1G, 3 * SZ_1G + SZ_2M,
		  TEST_PA(SZ_2M), 1 },
		{ 3 * SZ_1G, 3 * SZ_1G, 4 * SZ_1G, TEST_PA(SZ_1G), 2 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(c); i++) {
		unsigned int level = 99;

		CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
		if (!fault_once(c[i].gpa, c[i].lo, c[i].hi, c[i].pa_lo,
				&level)) {
			test_fail(__FILE__, __LINE__, "case %u", i);
			return;
		}
		CHECK_EQ(level, c[i].level);
		CHECK_EQ(pt.counters.tables_in_use,
			 pt.fmt.levels - 1 - c[i].level);
		CHECK(core_teardown(&pt));
	}
}

/* Beside what is mapped, the largest block that still fits the hole. */
static void fault_smaller_when_part_mapped(void)
{
	struct s2_fault_result r;
	uint64_t tables;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G + SZ_4K, TEST_PA(SZ_4K), SZ_4K,
			  S2_PROT_R), 0);
	tables = pt.counters.tables_in_use;
	/* Same 2 MiB block: a page; same GiB: a 2 MiB block; else 1 GiB. */
	CHECK_EQ(s2pt_map_fault(&pt, SZ_1G + 0x2010, 0, 4 * SZ_1G, TEST_PA(0),
				S2_PROT_RWX, &r), 0);
	CHECK_EQ(r.t.level, 0);
	CHECK_EQ(r.t.pa, TEST_PA(SZ_1G + 0x2010));
	CHECK_EQ(s2pt_map_fault(&pt, SZ_1G + 7 * SZ_2M, 0, 4 * SZ_1G,
				TEST_PA(0), S2_PROT_RWX, &r), 0);
	CHECK_EQ(r.t.level, 1);
	CHECK_EQ(s2pt_map_fault(&pt, 3 * SZ_1G + 5, 0, 4 * SZ_1G, TEST_PA(0),
				S2_PROT_RWX, &r), 0);
	CHECK_EQ(r.t.level, 2);
	CHECK_EQ(r.t.pa, TEST_PA(3 * SZ_1G + 5));
	/* No new table: the first two reused the existing ones. */
	CHECK_EQ(pt.counters.tables_in_use, tables);
	CHECK_EQ(pt.counters.flushes, 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* A valid leaf is reported like s2pt_lookup() does, and nothing written. */
static void fault_existing_leaf_reported(void)
{
	struct s2_fault_result r;
	struct s2_translation t;
	uint64_t writes, counts;
	char *before, *after;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(0), SZ_2M, S2_PROT_R), 0);
	CHECK_EQ(s2pt_map(&pt, 3 * SZ_1G, TEST_PA(SZ_1G), SZ_4K,
			  S2_PROT_RWX), 0);
	before = core_dump(&pt);
	writes = pt.counters.entries_written;
	counts = pt.counters.count_writes;
	CHECK_EQ(s2pt_map_fault(&pt, SZ_2M + 0x1234, 0, SZ_1G, TEST_PA(0),
				S2_PROT_RWX, &r), -EEXIST);
	CHECK_EQ(r.found, S2_FAULT_LEAF);
	CHECK_EQ(s2pt_lookup(&pt, SZ_2M + 0x1234, &t), 0);
	CHECK_EQ(r.t.pa, t.pa);
	CHECK_EQ(r.t.prot, S2_PROT_R);
	CHECK_EQ(r.t.level, 1);
	CHECK_EQ(r.t.pte, t.pte);
	CHECK_EQ(r.level, 1);
	CHECK_EQ(s2pt_map_fault(&pt, 3 * SZ_1G + 0xfff, 3 * SZ_1G,
				4 * SZ_1G, TEST_PA(0), S2_PROT_RWX, &r),
		 -EEXIST);
	CHECK_EQ(r.found, S2_FAULT_LEAF);
	CHECK_EQ(r.t.pa, TEST_PA(SZ_1G + 0xfff));
	CHECK_EQ(r.t.level, 0);
	after = core_dump(&pt);
	CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
	CHECK_EQ(pt.counters.entries_written, writes);
	CHECK_EQ(pt.counters.count_writes, counts);
	CHECK(core_teardown(&pt));
}

/* An MMIO SPTE is reported with its generation, and left alone. */
static void fault_mmio_spte_reported(void)
{
	struct s2_fault_result r;
	uint64_t writes;
	char *before, *after;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 0x9000000, 0x2a5), 0);
	before = core_dump(&pt);
	writes = pt.counters.entries_written;
	CHECK_EQ(s2pt_map_fault(&pt, 0x9000ffc, 0x9000000, 0x9001000,
				TEST_PA(0), S2_PROT_RWX, &r), -EEXIST);
	CHECK_EQ(r.found, S2_FAULT_MMIO);
	CHECK_EQ(r.gen, 0x2a5);
	CHECK_EQ(r.level, 0);
	CHECK(s2pt_is_mmio(&pt, r.pte));
	after = core_dump(&pt);
	CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
	CHECK_EQ(pt.counters.entries_written, writes);
	/* Its neighbour, absent in the same table, maps as a page. */
	CHECK_EQ(s2pt_map_fault(&pt, 0x9001000, 0x9000000, 0xa000000,
				TEST_PA(0), S2_PROT_RWX, &r), 0);
	CHECK_EQ(r.t.level, 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* An allocation failure at any point leaves the table as it was. */
static void fault_alloc_failure_leaves_table_unchanged(void)
{
	int ret = -ENOMEM;
	uint64_t tables;
	long n;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	tables = pt.counters.tables_in_use;
	for (n = 0; ret == -ENOMEM; n++) {
		struct s2_counters c0 = pt.counters;
		char *before = core_dump(&pt);
		unsigned long live = host_alloc_live;
		unsigned int root_count = pt.root_count;
		struct s2_fault_result r;
		char *after;

		host_alloc_fail_nth(n);
		ret = s2pt_map_fault(&pt, SZ_1G + 0x5000, 0, 2 * SZ_1G,
				     TEST_PA(SZ_4K), S2_PROT_RWX, &r);
		host_alloc_fail_nth(-1);
		after = core_dump(&pt);
		if (ret == -ENOMEM) {
			CHECK(strcmp(before, after) == 0);
			CHECK(memcmp(&c0, &pt.counters, sizeof(c0)) == 0);
			CHECK_EQ(host_alloc_live, live);
			CHECK_EQ(pt.root_count, root_count);
		}
		free(before);
		free(after);
	}
	CHECK_EQ(ret, 0);
	/* Failed at each of its allocations, then made exactly that many. */
	CHECK_EQ(pt.counters.tables_in_use - tables, n - 1);
	CHECK_EQ(n - 1, pt.fmt.levels - 1);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* Bad arguments are refused before anything is read or written. */
static void fault_bad_arguments_refused(void)
{
	struct s2_fault_result r;
	uint64_t writes;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	writes = pt.counters.entries_written;
	CHECK_EQ(s2pt_map_fault(&pt, SZ_1G, 0, SZ_1G, TEST_PA(0),
				S2_PROT_RWX, &r), -EINVAL);
	CHECK_EQ(s2pt_map_fault(&pt, 0x1000, 0x2000, SZ_1G, TEST_PA(0),
				S2_PROT_RWX, &r), -EINVAL);
	CHECK_EQ(s2pt_map_fault(&pt, 0x1000, 0x800, SZ_1G, TEST_PA(0),
				S2_PROT_RWX, &r), -EINVAL);
	CHECK_EQ(s2pt_map_fault(&pt, 0x1000, 0, SZ_1G, TEST_PA(0) + 8,
				S2_PROT_RWX, &r), -EINVAL);
	CHECK_EQ(s2pt_map_fault(&pt, 0x1000, 0, SZ_1G, TEST_PA(0), 0, &r),
		 -EINVAL);
	CHECK_EQ(s2pt_map_fault(&pt, 1ULL << fmt_ia_bits, 0,
				(1ULL << fmt_ia_bits) + SZ_1G, TEST_PA(0),
				S2_PROT_RWX, &r), -ERANGE);
	CHECK_EQ(s2pt_map_fault(&pt, 0x1000, 0, SZ_1G, ~0ULL << 12,
				S2_PROT_RWX, &r), -ERANGE);
	CHECK_EQ(pt.counters.entries_written, writes);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK(core_teardown(&pt));
}

#ifdef FAULT_EPT
/* On a #VE VM the new tables' absent entries keep SUPPRESS_VE (audit). */
static void fault_ve_tables_suppress_ve(void)
{
	unsigned int level;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, S2PT_F_VE), 0);
	CHECK(fault_once(0x7000, 0, SZ_1G, TEST_PA(SZ_4K), &level));
	CHECK_EQ(level, 0);
	CHECK_EQ(s2pt_audit(&pt), 0);
	CHECK(core_teardown(&pt));
}
#endif

/*
 * Random slots and faults, one table filling up: each fault installs the
 * brute-force level given what is mapped (a level <= the absent entry's),
 * or reports the leaf already there; the reference translator agrees with
 * s2pt_lookup() everywhere touched; the audit stays clean.
 */
static void fault_random_against_brute_force(void)
{
	unsigned int rounds = test_long ? 2000 : 300;

	for (unsigned int k = 0; k < rounds; k++) {
		gpa_t lo = (test_rand() % 8) * SZ_1G +
			   (test_rand() % 4) * (test_rand() % 2 ? SZ_2M : SZ_4K);
		gpa_t hi = lo + SZ_4K * (1 + test_rand() % (SZ_1G / SZ_4K)) +
			   (test_rand() % 3) * SZ_1G;
		paddr_t pa_lo = TEST_PA((test_rand() % 4) * SZ_1G) +
				(test_rand() % 3 == 0 ? 0 :
				 (test_rand() % 2 ? SZ_2M : SZ_4K));
		unsigned int level;

		CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
		for (unsigned int j = 0; j < 8; j++) {
			gpa_t gpa = lo + test_rand() % (hi - lo);
			struct s2_fault_result r;
			struct s2_translation t;
			uint64_t rpa;
			int rlevel, ret;

			if (j == 0) {
				CHECK(fault_once(gpa, lo, hi, pa_lo, &level));
				continue;
			}
			ret = s2pt_map_fault(&pt, gpa, lo, hi, pa_lo,
					     S2_PROT_RWX, &r);
			if (ret == -EEXIST) {
				CHECK_EQ(r.found, S2_FAULT_LEAF);
			} else {
				CHECK_EQ(ret, 0);
				CHECK_EQ(r.t.level,
					 want_level(&pt, gpa, lo, hi, pa_lo,
						    r.level));
				CHECK(r.t.level <= r.level);
			}
			CHECK_EQ(r.t.pa, pa_lo + (gpa - lo));
			CHECK_EQ(s2pt_lookup(&pt, gpa, &t), 0);
			CHECK_EQ(t.pa, r.t.pa);
			CHECK(ref_translate(&pt, gpa, &rpa, &rlevel));
			CHECK_EQ(rpa, t.pa);
			CHECK_EQ(rlevel, t.level);
		}
		CHECK_EQ(pt.counters.flushes, 0);
		CHECK_EQ(s2pt_audit(&pt), 0);
		CHECK(core_teardown(&pt));
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv, fmt_ia_bits == 48 ? "fault_ept" :
						  "fault_stage2");
	RUN_TEST(fault_largest_block_at_edges);
	RUN_TEST(fault_smaller_when_part_mapped);
	RUN_TEST(fault_existing_leaf_reported);
	RUN_TEST(fault_mmio_spte_reported);
	RUN_TEST(fault_alloc_failure_leaves_table_unchanged);
	RUN_TEST(fault_bad_arguments_refused);
#ifdef FAULT_EPT
	RUN_TEST(fault_ve_tables_suppress_ve);
#endif
	RUN_TEST(fault_random_against_brute_force);
	return test_done();
}
