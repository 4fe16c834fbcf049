// SPDX-License-Identifier: MIT
/*
 * Host tests of MMIO SPTEs in the stage-2 core (mm/s2_mmio.c), built once per
 * format with the real encoder: set/get, generation truncation, refusal over
 * any entry, every other operation treating one as a software entry, no
 * partial update under allocation failure, the audit, the dump line and the
 * validation of a mask/value pair.
 */
#include <stdio.h>
#include <string.h>

#include "core_util.h"

static struct s2pt pt;

/* Tables below the root that one isolated 4 KiB entry needs. */
static unsigned int tables_for_one_page(void)
{
	return pt.fmt.levels - 1;
}

/* A set MMIO SPTE reads back with its generation; nothing else does. */
static void mmio_set_then_get_returns_generation(void)
{
	struct s2_translation t;
	uint64_t gen = 99;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, 0x40003000, &gen), -ENOENT);
	CHECK_EQ(gen, 99);
	CHECK_EQ(s2pt_set_mmio(&pt, 0x40003000, 7), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, 0x40003000, &gen), 0);
	CHECK_EQ(gen, 7);
	/* Any address inside the page finds it; the neighbours do not. */
	CHECK_EQ(s2pt_get_mmio(&pt, 0x40003ffc, &gen), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, 0x40002000, &gen), -ENOENT);
	CHECK_EQ(s2pt_get_mmio(&pt, 0x40004000, &gen), -ENOENT);
	/* Not a translation. */
	CHECK_EQ(s2pt_lookup(&pt, 0x40003000, &t), -ENOENT);
	CHECK_EQ(pt.counters.tables_in_use, tables_for_one_page());
	CHECK_EQ(pt.counters.flushes, 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* The raw entry is (pte & mask) == value with the GPA and generation. */
static void mmio_entry_layout(void)
{
	s2pte_t mask, pte;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	mask = pt.fmt.mmio_mask;
	pte = s2pt_make_mmio(&pt, 0x123456789000ULL, S2_MMIO_GEN_MAX);
	/* Both formats: mask bits 2:0 and 63, value 0b110. */
	CHECK_EQ(mask, 0x8000000000000007ULL);
	CHECK_EQ(pt.mmio_value, 6);
	/* Generation: low 9 bits in 11:3, high 10 bits in 61:52. */
	CHECK_EQ(pte, 0x3ff0123456789ffeULL);
	CHECK(s2pt_is_mmio(&pt, pte));
	CHECK_EQ(s2pt_mmio_gpa(&pt, pte), 0x123456789000ULL);
	CHECK_EQ(s2pt_mmio_gen(pte), S2_MMIO_GEN_MAX);
	CHECK_EQ(s2pt_mmio_gen(s2pt_make_mmio(&pt, 0, 0x201)), 0x201);
	CHECK_EQ(arch_s2_pte_kind(pte, 0), S2_PTE_INVALID_SW);
	CHECK_EQ(s2pt_pte_kind(&pt, pte, 0), S2_PTE_INVALID_SW);
	/* No valid leaf or table is ever taken for an MMIO SPTE. */
	CHECK(!s2pt_is_mmio(&pt, arch_s2_make_leaf(&pt, TEST_PA(0),
						   S2_PROT_RWX, 0)));
	CHECK(!s2pt_is_mmio(&pt, arch_s2_make_leaf(&pt, TEST_PA(0),
						   S2_PROT_R, 1)));
	CHECK(!s2pt_is_mmio(&pt, arch_s2_make_table(&pt, TEST_PA(0), 6)));
	CHECK(!s2pt_is_mmio(&pt, arch_s2_pte_absent(&pt)));
	CHECK(core_teardown(&pt));
}

/* Only the low S2_MMIO_GEN_BITS of the generation are kept. */
static void mmio_generation_is_truncated(void)
{
	uint64_t gen;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 0, (1ULL << S2_MMIO_GEN_BITS) + 5), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, 0, &gen), 0);
	CHECK_EQ(gen, 5);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_4K, ~0ULL), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_4K, &gen), 0);
	CHECK_EQ(gen, S2_MMIO_GEN_MAX);
	/* The GPA bits are untouched by a wide generation. */
	CHECK_EQ(s2pt_audit(&pt), 0);
	CHECK(core_teardown(&pt));
}

/* Over a page, inside a block or over another MMIO SPTE: -EEXIST. */
static void mmio_set_over_any_entry_is_eexist(void)
{
	uint64_t writes;
	char *before, *after;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(SZ_2M), SZ_2M, S2_PROT_R), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 2 * SZ_4K, 1), 0);
	before = core_dump(&pt);
	writes = pt.counters.entries_written;
	CHECK_EQ(s2pt_set_mmio(&pt, 0, 1), -EEXIST);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_2M + 5 * SZ_4K, 1), -EEXIST);
	CHECK_EQ(s2pt_set_mmio(&pt, 2 * SZ_4K, 2), -EEXIST);
	after = core_dump(&pt);
	CHECK(strcmp(before, after) == 0);
	CHECK_EQ(pt.counters.entries_written, writes);
	free(before);
	free(after);
	CHECK(core_teardown(&pt));
}

/* A map overlapping an MMIO SPTE writes nothing; beside it, it works. */
static void mmio_map_over_is_eexist(void)
{
	uint64_t gen;
	char *before, *after;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_2M + SZ_4K, 3), 0);
	before = core_dump(&pt);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(0), 4 * SZ_4K, S2_PROT_R),
		 -EEXIST);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_1G, S2_PROT_R), -EEXIST);
	after = core_dump(&pt);
	CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_2M + SZ_4K, &gen), 0);
	CHECK_EQ(gen, 3);
	CHECK(core_teardown(&pt));
}

/* Unmapping an MMIO SPTE clears it with no TLB maintenance. */
static void mmio_unmap_clears_without_flush(void)
{
	uint64_t gen;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_1G, 1), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_1G + SZ_4K, 1), 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G, SZ_4K), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_1G, &gen), -ENOENT);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_1G + SZ_4K, &gen), 0);
	CHECK_EQ(pt.counters.flushes, 0);
	CHECK_EQ(pt.counters.tlbi_ipa + pt.counters.tlbi_range +
		 pt.counters.tlbi_vmid, 0);
	/* The last one empties its table, which is freed. */
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G + SZ_4K, SZ_4K), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_1G + SZ_4K, &gen), -ENOENT);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* A detached subtree of MMIO SPTEs has no guest page to clean. */
static void mmio_fast_unmap_cleans_nothing(void)
{
	uint64_t gen;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	for (unsigned int i = 0; i < 8; i++) {
		CHECK_EQ(s2pt_set_mmio(&pt, SZ_1G + i * SZ_2M, i), 0);
	}
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G, SZ_1G), 0);
	CHECK_EQ(pt.counters.detaches, 1);
	CHECK_EQ(pt.counters.cmo_pages, 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_1G, &gen), -ENOENT);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* Protect, split and collapse leave an MMIO SPTE as it was. */
static void mmio_survives_protect_split_collapse(void)
{
	uint64_t gen;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	/* A 2 MiB range of pages, one of them MMIO: never a block. */
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(SZ_2M), 17 * SZ_4K,
			  S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_2M + 17 * SZ_4K, 4), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M + 18 * SZ_4K, TEST_PA(SZ_2M + 18 * SZ_4K),
			  SZ_2M - 18 * SZ_4K, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_protect(&pt, SZ_2M, SZ_2M, S2_PROT_R), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_2M + 17 * SZ_4K, &gen), 0);
	CHECK_EQ(gen, 4);
	CHECK_EQ(s2pt_collapse(&pt, 0, SZ_1G), 0);
	CHECK_EQ(s2pt_split(&pt, 0, SZ_1G, 0), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_2M + 17 * SZ_4K, &gen), 0);
	CHECK_EQ(gen, 4);
	/* Once it is gone the range collapses. */
	CHECK_EQ(s2pt_unmap(&pt, SZ_2M + 17 * SZ_4K, SZ_4K), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M + 17 * SZ_4K, TEST_PA(SZ_2M + 17 * SZ_4K),
			  SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_collapse(&pt, 0, SZ_1G), 1);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* An allocation failure at any point leaves the table byte-identical. */
static void mmio_alloc_failure_leaves_table_unchanged(void)
{
	int ret = -ENOMEM;
	uint64_t gen;
	long n;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	for (n = 0; ret == -ENOMEM; n++) {
		char *before = core_dump(&pt);
		unsigned long live = host_alloc_live;
		uint64_t writes = pt.counters.entries_written;
		char *after;

		host_alloc_fail_nth(n);
		ret = s2pt_set_mmio(&pt, (1ULL << fmt_ia_bits) - SZ_4K, 9);
		host_alloc_fail_nth(-1);
		after = core_dump(&pt);
		if (ret == -ENOMEM) {
			CHECK(strcmp(before, after) == 0);
			CHECK_EQ(host_alloc_live, live);
			CHECK_EQ(pt.counters.entries_written, writes);
		}
		free(before);
		free(after);
	}
	CHECK_EQ(ret, 0);
	/* Failed at each of its tables, then made exactly that many. */
	CHECK_EQ(n - 1, tables_for_one_page());
	CHECK_EQ(s2pt_get_mmio(&pt, (1ULL << fmt_ia_bits) - SZ_4K, &gen), 0);
	CHECK_EQ(gen, 9);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* Misaligned and out-of-range addresses: errors, nothing written. */
static void mmio_bad_arguments_are_refused(void)
{
	uint64_t top = 1ULL << fmt_ia_bits;
	uint64_t gen;
	char *before, *after;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	before = core_dump(&pt);
	CHECK_EQ(s2pt_set_mmio(&pt, 0x1800, 1), -EINVAL);
	CHECK_EQ(s2pt_set_mmio(&pt, top, 1), -ERANGE);
	CHECK_EQ(s2pt_set_mmio(&pt, ~0ULL << 12, 1), -ERANGE);
	CHECK_EQ(s2pt_get_mmio(&pt, top, &gen), -ERANGE);
	after = core_dump(&pt);
	CHECK(strcmp(before, after) == 0);
	CHECK_EQ(pt.counters.tables_alloc, 0);
	free(before);
	free(after);
	CHECK(core_teardown(&pt));
}

/* The audit accepts MMIO SPTEs and catches one naming another page. */
static void mmio_audit_checks_gpa(void)
{
	s2pte_t *ptep = NULL;
	const s2pte_t *t;
	s2pte_t saved;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 5 * SZ_4K, 2), 0);
	CHECK_EQ(s2pt_audit(&pt), 0);
	/* Find the level-0 entry of page 5 (every table index is 0 above). */
	t = s2_table_va(pt.root);
	for (unsigned int level = pt.fmt.levels - 1; level > 0; level--) {
		t = s2_table_va(arch_s2_pte_pa(t[0], 0));
	}
	ptep = (s2pte_t *)&t[5];
	CHECK(s2pt_is_mmio(&pt, *ptep));
	saved = *ptep;
	*ptep = s2pt_make_mmio(&pt, 6 * SZ_4K, 2);
	CHECK_EQ(s2pt_audit(&pt), -EIO);
	*ptep = saved;
	CHECK_EQ(s2pt_audit(&pt), 0);
	CHECK(core_teardown(&pt));
}

/* The dump prints an MMIO SPTE with its generation and raw value. */
static void mmio_dump_line(void)
{
	unsigned int depth;
	char want[160];
	char *text;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	depth = pt.fmt.levels - 1;
	CHECK_EQ(s2pt_set_mmio(&pt, 0x40003000, 5), 0);
	snprintf(want, sizeof(want),
		 "\n%*sL0 0x0000000040003000-0x0000000040003fff mmio gen=5 "
		 "pte=0x000000004000302e\n", (int)depth * 2, "");
	text = core_dump(&pt);
	CHECK(strstr(text, want) != NULL);
	/* The last line of the dump. */
	CHECK(strcmp(text + strlen(text) - strlen(want) + 1, want + 1) == 0);
	free(text);
	CHECK(core_teardown(&pt));
}

/* A mask/value pair is refused unless MMIO SPTEs stay software entries. */
static void mmio_value_validation(void)
{
	s2pte_t mask, value;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	mask = pt.fmt.mmio_mask;
	value = pt.mmio_value;
	CHECK(s2pt_mmio_value_valid(&pt, mask, value));
	/* Value outside the mask. */
	CHECK(!s2pt_mmio_value_valid(&pt, mask, value | BIT(3)));
	/* Mask overlapping the GPA or generation bits. */
	CHECK(!s2pt_mmio_value_valid(&pt, mask | BIT(12), value));
	CHECK(!s2pt_mmio_value_valid(&pt, mask | BIT(55), value));
	CHECK(!s2pt_mmio_value_valid(&pt, 0, 0));
	/* Value 0: the SPTE of page 0, generation 0 would be absent. */
	CHECK(!s2pt_mmio_value_valid(&pt, mask, 0));
	/* All of bits 2:0: a usable page on both formats. */
	CHECK(!s2pt_mmio_value_valid(&pt, mask, 7));
	CHECK(core_teardown(&pt));
}

/* ---- VM types: the secure VMs' value 0 (S2PT_F_SECURE) ----------------- */

/* Whether the format has a secure VM type whose MMIO value is 0 (EPT). */
static bool secure_value_is_zero(void)
{
	return arch_s2_mmio_value(S2PT_F_SECURE) == 0;
}

/*
 * With the secure VMs' value, an entry of 0 is an MMIO SPTE (GPA 0,
 * generation 0) and the format's absent entry (SUPPRESS_VE) is absent; on
 * an ordinary VM 0 stays absent.
 */
static void mmio_secure_zero_is_mmio_and_absent_is_absent(void)
{
	s2pte_t absent;
	uint64_t gen = 99;
	char *text;

	if (!secure_value_is_zero()) {
		return;	/* stage-2: one value for every VM type */
	}
	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_pte_kind(&pt, 0, 0), S2_PTE_ABSENT);
	CHECK(!s2pt_is_mmio(&pt, 0));
	CHECK(core_teardown(&pt));

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, S2PT_F_SECURE), 0);
	absent = arch_s2_pte_absent(&pt);
	CHECK(s2pt_mmio_enabled(&pt));
	CHECK_EQ(pt.mmio_value, 0);
	CHECK(absent != 0);
	CHECK_EQ(s2pt_pte_kind(&pt, 0, 0), S2_PTE_INVALID_SW);
	CHECK(s2pt_is_mmio(&pt, 0));
	CHECK_EQ(s2pt_pte_kind(&pt, absent, 0), S2_PTE_ABSENT);
	CHECK(!s2pt_is_mmio(&pt, absent));
	/* Software data (SUPPRESS_VE set) is never taken for MMIO. */
	CHECK(!s2pt_is_mmio(&pt, arch_s2_make_sw(&pt, 0x10)));
	/* The SPTE of page 0, generation 0, is the entry 0. */
	CHECK_EQ(s2pt_make_mmio(&pt, 0, 0), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, 0, &gen), -ENOENT);
	CHECK_EQ(s2pt_set_mmio(&pt, 0, 0), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, 0, &gen), 0);
	CHECK_EQ(gen, 0);
	CHECK_EQ(s2pt_set_mmio(&pt, 0, 1), -EEXIST);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_4K, 5), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_4K, &gen), 0);
	CHECK_EQ(gen, 5);
	text = core_dump(&pt);
	CHECK(strstr(text, "L0 0x0000000000000000-0x0000000000000fff mmio "
			   "gen=0 pte=0x0000000000000000") != NULL);
	free(text);
	CHECK_EQ(s2pt_audit(&pt), 0);
	CHECK_EQ(pt.audit_failures, 0);
	/* Unmapping the SPTE of page 0 writes the absent entry back. */
	CHECK_EQ(s2pt_unmap(&pt, 0, SZ_4K), 0);
	CHECK_EQ(s2pt_get_mmio(&pt, 0, &gen), -ENOENT);
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_4K, &gen), 0);
	CHECK(core_teardown(&pt));
}

static unsigned long zero_writes;

static void count_zero_writes(const s2pte_t *ptep, s2pte_t old, s2pte_t new,
			      unsigned int level)
{
	(void)ptep;
	(void)old;
	(void)level;
	if (new == 0) {
		zero_writes++;
	}
}

/* Entries equal to 0 anywhere in the table below @t. */
static unsigned long count_zero_entries(const s2pte_t *t, unsigned int nr,
					unsigned int level)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < nr; i++) {
		if (t[i] == 0) {
			n++;
		} else if (level > 0 && arch_s2_pte_kind(t[i], level) ==
			   S2_PTE_TABLE) {
			n += count_zero_entries(s2_table_va(arch_s2_pte_pa(t[i],
									   0)),
						S2_PTRS_PER_TABLE, level - 1);
		}
	}
	return n;
}

/* No entry of the table is 0 and none was written as 0; audit clean. */
static bool no_zero_anywhere(void)
{
	return zero_writes == 0 && pt.audit_failures == 0 &&
	       count_zero_entries(s2_table_va(pt.root), pt.fmt.root_entries,
				  pt.fmt.levels - 1) == 0 &&
	       s2pt_audit(&pt) == 0;
}

/*
 * On a secure VM every core operation writes the format's absent entry,
 * never 0 (which is an MMIO SPTE there): map, the one-walk fault, MMIO
 * SPTEs, protect, split, collapse, the leaf-by-leaf and the fast unmap
 * (detach), emptied tables and the teardown.
 */
static void mmio_secure_ops_write_absent_never_zero(void)
{
	unsigned int flags[] = { S2PT_F_SECURE,
				 S2PT_F_SECURE | S2PT_F_NO_FAST_UNMAP };
	struct s2_fault_result res;

	if (!secure_value_is_zero()) {
		return;	/* stage-2: the absent entry is 0 on every VM */
	}
	for (unsigned int f = 0; f < ARRAY_SIZE(flags); f++) {
		CHECK_EQ(core_setup(&pt, fmt_ia_bits, flags[f]), 0);
		zero_writes = 0;
		host_pte_write_observer = count_zero_writes;
		CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_1G), SZ_1G,
				  S2_PROT_RWX), 0);
		CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(SZ_2M), SZ_2M + 3 * SZ_4K,
				  S2_PROT_RWX), 0);
		CHECK_EQ(s2pt_map_fault(&pt, 4 * SZ_1G + SZ_4K, 4 * SZ_1G,
					4 * SZ_1G + 8 * SZ_4K, TEST_PA(0),
					S2_PROT_RWX, &res), 0);
		CHECK_EQ(s2pt_set_mmio(&pt, 8 * SZ_1G + 5 * SZ_4K, 1), 0);
		CHECK_EQ(s2pt_set_mmio(&pt, 8 * SZ_1G + SZ_2M, 2), 0);
		CHECK(no_zero_anywhere());
		CHECK_EQ(s2pt_protect(&pt, SZ_1G + SZ_4K, SZ_2M, S2_PROT_R), 0);
		CHECK_EQ(s2pt_split(&pt, SZ_1G, SZ_1G, 0), 0);
		CHECK(no_zero_anywhere());
		CHECK_EQ(s2pt_protect(&pt, SZ_1G, SZ_1G, S2_PROT_RWX), 0);
		CHECK(s2pt_collapse(&pt, SZ_1G, SZ_1G) > 0);
		CHECK(no_zero_anywhere());
		/* Partial (emptied tables), whole-table (detach), MMIO. */
		CHECK_EQ(s2pt_unmap(&pt, 2 * SZ_2M, 3 * SZ_4K), 0);
		CHECK_EQ(s2pt_unmap(&pt, SZ_1G, SZ_1G), 0);
		CHECK_EQ(s2pt_unmap(&pt, 8 * SZ_1G, SZ_1G), 0);
		CHECK(no_zero_anywhere());
		CHECK_EQ(s2pt_unmap(&pt, 0, 1ULL << fmt_ia_bits), 0);
		CHECK_EQ(pt.counters.tables_in_use, 0);
		CHECK(no_zero_anywhere());
		CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), 3 * SZ_4K, S2_PROT_R), 0);
		CHECK(core_teardown(&pt));
		CHECK_EQ(zero_writes, 0);
	}
}

/*
 * The validator refuses a value that collides with the mask, the data bits
 * or a usable leaf; the table then has no MMIO SPTEs (set is -EOPNOTSUPP,
 * nothing classifies as one) until an accepted value is given.
 */
static void mmio_refused_value_means_no_mmio_sptes(void)
{
	s2pte_t ordinary;
	uint64_t gen;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	ordinary = pt.mmio_value;
	/* All of bits 2:0: a usable page on both formats. */
	CHECK_EQ(s2pt_set_mmio_value(&pt, 7), -EINVAL);
	CHECK(!s2pt_mmio_enabled(&pt));
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_4K, 1), -EOPNOTSUPP);
	CHECK(!s2pt_is_mmio(&pt, 7));
	CHECK(!s2pt_is_mmio(&pt, s2pt_make_mmio(&pt, SZ_4K, 1)));
	CHECK_EQ(s2pt_get_mmio(&pt, SZ_4K, &gen), -ENOENT);
	/* Outside the mask, in the generation bits. */
	CHECK_EQ(s2pt_set_mmio_value(&pt, ordinary | BIT(3)), -EINVAL);
	CHECK(!s2pt_mmio_enabled(&pt));
	/* 0 on an ordinary VM: its absent entry would match. */
	CHECK_EQ(s2pt_set_mmio_value(&pt, 0), -EINVAL);
	CHECK(!s2pt_mmio_enabled(&pt));
	/* The table works as ever without them. */
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_unmap(&pt, 0, SZ_4K), 0);
	CHECK_EQ(s2pt_set_mmio_value(&pt, ordinary), 0);
	CHECK(s2pt_mmio_enabled(&pt));
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_4K, 1), 0);
	/* A table in use keeps its value. */
	CHECK_EQ(s2pt_set_mmio_value(&pt, 7), -EBUSY);
	CHECK(s2pt_mmio_enabled(&pt));
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* ---- The MMIO SPTE table budget (counters.mmio_tables) ----------------- */

#define TEST_MMIO_BUDGET	64

/*
 * A guest that installs MMIO SPTEs all over its IPA space, has them zapped
 * and installs them again, many times: every table page taken for them goes
 * back when it is freed, so a budget of 64 pages is never exhausted.
 */
static void mmio_tables_return_to_budget_when_zapped(void)
{
	unsigned int per_round = 0;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	for (unsigned int round = 0; round < 1000; round++) {
		gpa_t base = (gpa_t)(round % 4) * SZ_1G;
		unsigned int set = 0;

		/* One access per 2 MiB: each needs a last-level table. */
		for (unsigned int i = 0; i < 16; i++) {
			if (pt.counters.mmio_tables >= TEST_MMIO_BUDGET) {
				break;
			}
			CHECK_EQ(s2pt_set_mmio(&pt, base + i * SZ_2M + SZ_4K,
					       round), 0);
			set++;
		}
		CHECK_EQ(set, 16);
		if (!per_round) {
			per_round = (unsigned int)pt.counters.mmio_tables;
		}
		CHECK_EQ(pt.counters.mmio_tables, per_round);
		/* The zap: one range, or page by page (emptied tables). */
		if (round & 1) {
			CHECK_EQ(s2pt_unmap(&pt, base, SZ_1G), 0);
		} else {
			for (unsigned int i = 0; i < 16; i++) {
				CHECK_EQ(s2pt_unmap(&pt, base + i * SZ_2M +
						    SZ_4K, SZ_4K), 0);
			}
		}
		CHECK_EQ(pt.counters.mmio_tables, 0);
		CHECK_EQ(pt.counters.tables_in_use, 0);
	}
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/*
 * A table taken for an MMIO SPTE stays counted while RAM shares it and
 * goes back with it; pages of RAM never count; teardown gives back all.
 */
static void mmio_tables_count_only_mmio_pages(void)
{
	struct s2_fault_result res;
	uint64_t mmio;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(pt.counters.mmio_tables, 0);
	/* Below the RAM's tables: only the new last-level table counts. */
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_4K, 1), 0);
	CHECK_EQ(pt.counters.mmio_tables, 0);
	CHECK_EQ(s2pt_set_mmio(&pt, SZ_2M, 1), 0);
	CHECK_EQ(pt.counters.mmio_tables, 1);
	/* RAM faulted in next to it shares that table. */
	CHECK_EQ(s2pt_map_fault(&pt, SZ_2M + SZ_4K, SZ_2M + SZ_4K,
				SZ_2M + 2 * SZ_4K, TEST_PA(SZ_4K),
				S2_PROT_R, &res), 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_2M, SZ_4K), 0);
	CHECK_EQ(pt.counters.mmio_tables, 1);
	CHECK_EQ(s2pt_unmap(&pt, SZ_2M + SZ_4K, SZ_4K), 0);
	CHECK_EQ(pt.counters.mmio_tables, 0);
	/* A fresh subtree of its own: every level counts; teardown. */
	CHECK_EQ(s2pt_set_mmio(&pt, (1ULL << fmt_ia_bits) - SZ_4K, 2), 0);
	mmio = pt.counters.mmio_tables;
	CHECK(mmio >= 2);
	CHECK_EQ(s2pt_audit(&pt), 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
	CHECK_EQ(pt.counters.mmio_tables, 0);
}

void run_mmio_tests(void)
{
	RUN_TEST(mmio_set_then_get_returns_generation);
	RUN_TEST(mmio_entry_layout);
	RUN_TEST(mmio_generation_is_truncated);
	RUN_TEST(mmio_set_over_any_entry_is_eexist);
	RUN_TEST(mmio_map_over_is_eexist);
	RUN_TEST(mmio_unmap_clears_without_flush);
	RUN_TEST(mmio_fast_unmap_cleans_nothing);
	RUN_TEST(mmio_survives_protect_split_collapse);
	RUN_TEST(mmio_alloc_failure_leaves_table_unchanged);
	RUN_TEST(mmio_bad_arguments_are_refused);
	RUN_TEST(mmio_audit_checks_gpa);
	RUN_TEST(mmio_dump_line);
	RUN_TEST(mmio_value_validation);
	RUN_TEST(mmio_secure_zero_is_mmio_and_absent_is_absent);
	RUN_TEST(mmio_secure_ops_write_absent_never_zero);
	RUN_TEST(mmio_refused_value_means_no_mmio_sptes);
	RUN_TEST(mmio_tables_return_to_budget_when_zapped);
	RUN_TEST(mmio_tables_count_only_mmio_pages);
}
