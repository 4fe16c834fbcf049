// SPDX-License-Identifier: MIT
/*
 * Host tests of the stage-2 core, built once per format with the real
 * encoder: counts as contracts (tables, invalidations, writes, CMOs), no
 * partial updates under injected allocation failures, error paths, the fast
 * block-level unmap and its three traps, split/collapse, golden dumps.
 */
#include <stdio.h>
#include <string.h>

#include "core_util.h"

static struct s2pt pt;

/* Levels of tables below the root: the root holds level r entries. */
static unsigned int root_level(void)
{
	return pt.fmt.levels - 1;
}

/* 1 GiB of 4 KiB pages needs 512 last-level tables plus one per level above. */
static void map_1g_of_pages_uses_minimum_tables(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_4K), SZ_1G, S2_PROT_RWX), 0);
	CHECK_EQ(pt.counters.tables_in_use, 512 + root_level() - 1);
	CHECK_EQ(host_alloc_live,
		 pt.counters.tables_in_use + pt.fmt.root_pages);
	CHECK_EQ(s2pt_lookup(&pt, SZ_1G + 0x12345, &t), 0);
	CHECK_EQ(t.pa, TEST_PA(SZ_4K) + 0x12345);
	CHECK_EQ(t.level, 0);
	CHECK_EQ(pt.counters.flushes, 0);
	CHECK(core_teardown(&pt));
}

/* A 1 GiB-aligned 1 GiB range maps as one block: no last-level table. */
static void map_1g_aligned_is_one_block(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_1G), SZ_1G, S2_PROT_R), 0);
	CHECK_EQ(pt.counters.tables_in_use, root_level() - 2);
	CHECK_EQ(s2pt_lookup(&pt, 2 * SZ_1G - 1, &t), 0);
	CHECK_EQ(t.level, 2);
	CHECK_EQ(t.pa, TEST_PA(2 * SZ_1G) - 1);
	CHECK_EQ(t.prot, S2_PROT_R);
	CHECK(core_teardown(&pt));
}

/* 2 MiB alignment gives 2 MiB blocks, and 4 KiB pages at unaligned ends. */
static void map_uses_largest_block_alignment_allows(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M - SZ_4K, TEST_PA(SZ_2M - SZ_4K),
			  2 * SZ_2M + 2 * SZ_4K, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_lookup(&pt, SZ_2M - SZ_4K, &t), 0);
	CHECK_EQ(t.level, 0);
	CHECK_EQ(s2pt_lookup(&pt, SZ_2M, &t), 0);
	CHECK_EQ(t.level, 1);
	CHECK_EQ(s2pt_lookup(&pt, 3 * SZ_2M - 1, &t), 0);
	CHECK_EQ(t.level, 1);
	CHECK_EQ(s2pt_lookup(&pt, 3 * SZ_2M, &t), 0);
	CHECK_EQ(t.level, 0);
	CHECK_EQ(s2pt_lookup(&pt, 3 * SZ_2M + SZ_4K, &t), -ENOENT);
	/* Two last-level tables, one 2 MiB-level table and those above. */
	CHECK_EQ(pt.counters.tables_in_use, 2 + root_level() - 1);
	CHECK(core_teardown(&pt));
}

/* Unmapping a range costs one invalidation and frees every table. */
static void unmap_range_is_one_invalidation(void)
{
	unsigned int flags[] = { 0, S2PT_F_TLBIRANGE };

	for (unsigned int i = 0; i < ARRAY_SIZE(flags); i++) {
		CHECK_EQ(core_setup(&pt, fmt_ia_bits, flags[i]), 0);
		CHECK_EQ(s2pt_map(&pt, SZ_1G + SZ_2M, TEST_PA(SZ_4K), SZ_1G,
				  S2_PROT_RWX), 0);
		CHECK_EQ(s2pt_unmap(&pt, SZ_1G + SZ_2M, SZ_1G), 0);
		CHECK_EQ(pt.counters.flushes, 1);
		CHECK_EQ(pt.counters.tlbi_ipa, 0);
		CHECK_EQ(pt.counters.early_flushes, 0);
		if ((pt.fmt.caps & S2_FMT_TLBI_IPA) &&
		    (flags[i] & S2PT_F_TLBIRANGE)) {
			CHECK_EQ(pt.counters.tlbi_range, 1);
			CHECK_EQ(pt.counters.tlbi_vmid, 0);
		} else {
			CHECK_EQ(pt.counters.tlbi_range, 0);
			CHECK_EQ(pt.counters.tlbi_vmid, 1);
		}
		CHECK_EQ(pt.counters.tables_in_use, 0);
		CHECK_EQ(host_alloc_live, pt.fmt.root_pages);
		CHECK_EQ(pt.root_count, 0);
		CHECK(core_teardown(&pt));
	}
}

/* Without range TLBI a small unmap is per-IPA, one per leaf, once. */
static void unmap_few_pages_is_per_ipa(void)
{
	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), 16 * SZ_4K, S2_PROT_RW_TEST), 0);
	CHECK_EQ(s2pt_unmap(&pt, 4 * SZ_4K, 4 * SZ_4K), 0);
	CHECK_EQ(pt.counters.flushes, 1);
	if (pt.fmt.caps & S2_FMT_TLBI_IPA) {
		CHECK_EQ(pt.counters.tlbi_ipa, 4);
		CHECK_EQ(pt.counters.tlbi_vmid, 0);
	} else {
		CHECK_EQ(pt.counters.tlbi_vmid, 1);
	}
	CHECK_EQ(pt.counters.tlbi_walk, 0);
	CHECK(core_teardown(&pt));
}

/* The fast unmap: one detach write, one invalidation, subtree freed after. */
static void fast_unmap_detaches_in_one_write(void)
{
	uint64_t written, cmo_pages;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	/* A neighbour keeps the parent table alive. */
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_4K), SZ_1G, S2_PROT_RWX), 0);
	written = pt.counters.entries_written;
	host_nr_events = 0;
	CHECK_EQ(s2pt_unmap(&pt, SZ_1G, SZ_1G), 0);
	CHECK_EQ(pt.counters.detaches, 1);
	CHECK_EQ(pt.counters.entries_written - written, 1);
	CHECK_EQ(pt.counters.flushes, 1);
	CHECK_EQ(pt.counters.tlbi_walk, 1);
	CHECK_EQ(pt.counters.tables_freed, 513);
	CHECK_EQ(core_events(HOST_EV_FLUSH), 1);
	/* Trap 1 and 3: nothing freed before the one invalidation. */
	CHECK(core_first_event(HOST_EV_FREE) > core_first_event(HOST_EV_FLUSH));
	cmo_pages = (pt.fmt.caps & S2_FMT_CMO) ? SZ_1G >> PAGE_SHIFT : 0;
	CHECK_EQ(pt.counters.cmo_pages, cmo_pages);
	if (cmo_pages) {
		/* Trap 2: CMOs of the guest pages only after the TLBI. */
		CHECK(core_first_event(HOST_EV_CMO) >
		      core_first_event(HOST_EV_FLUSH));
	}
	/* The neighbour's tables remain. */
	CHECK_EQ(pt.counters.tables_in_use, root_level());
	CHECK(core_teardown(&pt));
}

/*
 * More detached and emptied tables than the deferred-free list holds: the
 * plan is flushed early (counted) and nothing is freed before a flush.
 */
static void unmap_overflowing_defer_list_flushes_early_quirk(void)
{
	gpa_t end = 3 * SZ_1G - SZ_2M;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(SZ_4K), end - SZ_2M,
			  S2_PROT_RWX), 0);
	host_nr_events = 0;
	CHECK_EQ(s2pt_unmap(&pt, SZ_2M, end - SZ_2M), 0);
	/* 511 + 1 + 1 + 511 + 1 entries to free: one more than fit. */
	CHECK_EQ(pt.counters.early_flushes, 1);
	/* The early one, and one for what was cleared after it, if any. */
	CHECK(pt.counters.flushes == 1 || pt.counters.flushes == 2);
	CHECK(core_first_event(HOST_EV_FREE) > core_first_event(HOST_EV_FLUSH));
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* With FWB no CMO is needed; without the fast path the result is equal. */
static void unmap_leaf_by_leaf_matches_fast(void)
{
	char *fast, *slow;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, S2PT_F_FWB), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(SZ_4K), SZ_1G + SZ_2M,
			  S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_4K, SZ_1G), 0);
	CHECK_EQ(pt.counters.cmo_pages, 0);
	fast = core_dump(&pt);
	CHECK(core_teardown(&pt));

	CHECK_EQ(core_setup(&pt, fmt_ia_bits,
			    S2PT_F_FWB | S2PT_F_NO_FAST_UNMAP), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(SZ_4K), SZ_1G + SZ_2M,
			  S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_unmap(&pt, SZ_4K, SZ_1G), 0);
	CHECK_EQ(pt.counters.detaches, 0);
	CHECK_EQ(pt.counters.flushes, 1);
	slow = core_dump(&pt);
	/* Same table apart from the flags line. */
	CHECK(strcmp(strchr(fast, '\n'), strchr(slow, '\n')) == 0);
	free(fast);
	free(slow);
	CHECK(core_teardown(&pt));
}

/* An allocation failure at any point of map leaves the table unchanged. */
static void map_alloc_failure_leaves_table_unchanged(void)
{
	int ret = -ENOMEM;
	uint64_t tables;
	long n;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G - SZ_2M, TEST_PA(0), SZ_4K, S2_PROT_R), 0);
	tables = pt.counters.tables_in_use;
	for (n = 0; ret == -ENOMEM; n++) {
		char *before = core_dump(&pt);
		unsigned long live = host_alloc_live;
		uint64_t writes = pt.counters.entries_written;
		char *after;

		host_alloc_fail_nth(n);
		ret = s2pt_map(&pt, SZ_1G - SZ_2M + SZ_4K, TEST_PA(SZ_4K),
			       SZ_1G + 3 * SZ_2M, S2_PROT_RWX);
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
	/* Failed at each of its allocations, then made exactly that many. */
	CHECK_EQ(pt.counters.tables_in_use - tables, n - 1);
	CHECK(n - 1 >= 3);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

/* An allocation failure at any point of split leaves the table unchanged. */
static void split_alloc_failure_leaves_table_unchanged(void)
{
	int ret = -ENOMEM;
	long n;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_1G), SZ_1G, S2_PROT_RWX), 0);
	for (n = 0; ret == -ENOMEM; n++) {
		char *before = core_dump(&pt);
		unsigned long live = host_alloc_live;
		char *after;

		host_alloc_fail_nth(n);
		ret = s2pt_split(&pt, SZ_1G, 4 * SZ_2M, 0);
		host_alloc_fail_nth(-1);
		after = core_dump(&pt);
		if (ret == -ENOMEM) {
			CHECK(strcmp(before, after) == 0);
			CHECK_EQ(host_alloc_live, live);
		}
		free(before);
		free(after);
	}
	CHECK_EQ(ret, 0);
	/* One 2 MiB-level table and four last-level tables. */
	CHECK_EQ(n, 5 + 1);
	CHECK_EQ(pt.audit_failures, 0);
	CHECK(core_teardown(&pt));
}

static void check_einval_unchanged(int ret, int want, const char *before)
{
	char *after = core_dump(&pt);

	CHECK_EQ(ret, want);
	CHECK(strcmp(before, after) == 0);
	free(after);
}

/* Misaligned, empty, out-of-range, overlapping, bad prot: clear errors. */
static void map_errors_leave_table_unchanged(void)
{
	uint64_t top = 1ULL << fmt_ia_bits;
	char *before;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, TEST_PA(0), SZ_2M, S2_PROT_RWX), 0);
	before = core_dump(&pt);
	check_einval_unchanged(s2pt_map(&pt, 0x800, TEST_PA(0), SZ_4K,
					S2_PROT_R), -EINVAL, before);
	check_einval_unchanged(s2pt_map(&pt, 0, TEST_PA(0x10), SZ_4K,
					S2_PROT_R), -EINVAL, before);
	check_einval_unchanged(s2pt_map(&pt, 0, TEST_PA(0), 0x1800,
					S2_PROT_R), -EINVAL, before);
	check_einval_unchanged(s2pt_map(&pt, 0, TEST_PA(0), 0, S2_PROT_R),
			       -EINVAL, before);
	check_einval_unchanged(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, 0),
			       -EINVAL, before);
	check_einval_unchanged(s2pt_map(&pt, 0, TEST_PA(0), SZ_4K, 0x40),
			       -EINVAL, before);
	check_einval_unchanged(s2pt_map(&pt, top - SZ_4K, TEST_PA(0),
					2 * SZ_4K, S2_PROT_R), -ERANGE,
			       before);
	check_einval_unchanged(s2pt_map(&pt, 0, ~0ULL << 12, 2 * SZ_4K,
					S2_PROT_R), -ERANGE, before);
	check_einval_unchanged(s2pt_map(&pt, ~0ULL << 12, TEST_PA(0),
					2 * SZ_4K, S2_PROT_R), -ERANGE,
			       before);
	/* Overlaps the tail of the 2 MiB block: nothing may be written. */
	check_einval_unchanged(s2pt_map(&pt, 0, TEST_PA(0), SZ_2M + SZ_4K,
					S2_PROT_R), -EEXIST, before);
	check_einval_unchanged(s2pt_unmap(&pt, 0x10, SZ_4K), -EINVAL, before);
	check_einval_unchanged(s2pt_protect(&pt, 0, SZ_4K, 0), -EINVAL,
			       before);
	check_einval_unchanged(s2pt_protect(&pt, 0, SZ_4K,
					    S2_PROT_R | S2_PROT_DEVICE),
			       -EINVAL, before);
	check_einval_unchanged(s2pt_split(&pt, 0, top + SZ_4K, 0), -ERANGE,
			       before);
	check_einval_unchanged(s2pt_collapse(&pt, 0x10, SZ_4K), -EINVAL,
			       before);
	free(before);
	CHECK(core_teardown(&pt));
}

/* Protect narrows with one invalidation; widening needs none. */
static void protect_narrow_flushes_once_widen_never(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), 8 * SZ_2M, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_protect(&pt, 0, 8 * SZ_2M, S2_PROT_R), 0);
	CHECK_EQ(pt.counters.flushes, 1);
	CHECK_EQ(s2pt_lookup(&pt, 5 * SZ_2M, &t), 0);
	CHECK_EQ(t.prot, S2_PROT_R);
	CHECK_EQ(s2pt_protect(&pt, 0, 8 * SZ_2M, S2_PROT_RWX), 0);
	CHECK_EQ(pt.counters.flushes, 1);
	CHECK_EQ(s2pt_lookup(&pt, 5 * SZ_2M, &t), 0);
	CHECK_EQ(t.prot, S2_PROT_RWX);
	CHECK(core_teardown(&pt));
}

/* Protecting inside a block splits it and keeps the rest of it. */
static void protect_inside_block_splits_edges(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_1G), SZ_1G, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_protect(&pt, SZ_1G + SZ_2M + SZ_4K, SZ_4K, S2_PROT_R),
		 0);
	CHECK_EQ(s2pt_lookup(&pt, SZ_1G + SZ_2M + SZ_4K, &t), 0);
	CHECK_EQ(t.prot, S2_PROT_R);
	CHECK_EQ(t.pa, TEST_PA(SZ_1G + SZ_2M + SZ_4K));
	CHECK_EQ(s2pt_lookup(&pt, SZ_1G + SZ_2M, &t), 0);
	CHECK_EQ(t.prot, S2_PROT_RWX);
	CHECK_EQ(t.level, 0);
	CHECK_EQ(s2pt_lookup(&pt, SZ_1G + 5 * SZ_2M, &t), 0);
	CHECK_EQ(t.level, 1);
	CHECK_EQ(t.pa, TEST_PA(SZ_1G + 5 * SZ_2M));
	CHECK(core_teardown(&pt));
}

/* Unmapping the middle of a block leaves both sides translated. */
static void unmap_inside_block_keeps_neighbours(void)
{
	struct s2_translation t;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_2M, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_unmap(&pt, 3 * SZ_4K, SZ_4K), 0);
	CHECK_EQ(s2pt_lookup(&pt, 3 * SZ_4K, &t), -ENOENT);
	CHECK_EQ(s2pt_lookup(&pt, 2 * SZ_4K, &t), 0);
	CHECK_EQ(t.pa, TEST_PA(2 * SZ_4K));
	CHECK_EQ(s2pt_lookup(&pt, 4 * SZ_4K, &t), 0);
	CHECK_EQ(t.pa, TEST_PA(4 * SZ_4K));
	CHECK_EQ(s2pt_lookup(&pt, SZ_2M - 1, &t), 0);
	CHECK(core_teardown(&pt));
}

/* Split to pages then collapse gives back the same block and no tables. */
static void split_then_collapse_round_trips(void)
{
	struct s2_translation t;
	char *before, *after;
	uint64_t tables;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_1G), SZ_1G, S2_PROT_RW_TEST),
		 0);
	before = core_dump(&pt);
	tables = pt.counters.tables_in_use;
	CHECK_EQ(s2pt_split(&pt, SZ_1G, SZ_1G, 0), 0);
	CHECK_EQ(pt.counters.tables_in_use, tables + 1 + 512);
	CHECK_EQ(s2pt_lookup(&pt, SZ_1G + 0x345678, &t), 0);
	CHECK_EQ(t.level, 0);
	CHECK_EQ(t.pa, TEST_PA(SZ_1G + 0x345678));
	CHECK_EQ(s2pt_collapse(&pt, 0, 4 * SZ_1G), 1);
	CHECK_EQ(pt.counters.tables_in_use, tables);
	after = core_dump(&pt);
	CHECK(strcmp(before, after) == 0);
	free(before);
	free(after);
	CHECK(core_teardown(&pt));
}

/* Collapse refuses a subtree with a hole or a different permission. */
static void collapse_refuses_non_uniform(void)
{
	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_2M - SZ_4K, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_collapse(&pt, 0, SZ_2M), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M - SZ_4K, TEST_PA(SZ_2M - SZ_4K), SZ_4K,
			  S2_PROT_R), 0);
	CHECK_EQ(s2pt_collapse(&pt, 0, SZ_2M), 0);
	CHECK_EQ(s2pt_protect(&pt, SZ_2M - SZ_4K, SZ_4K, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_collapse(&pt, 0, SZ_2M), 1);
	CHECK(core_teardown(&pt));
}

/*
 * Replacing blocks by tables (split) and back (collapse). Stage-2 keeps
 * break-before-make: no valid entry ever becomes one of another kind in one
 * write; each block a split replaces costs its own invalidation at once,
 * while a collapse breaks every table entry first and makes the blocks after
 * ONE invalidation. EPT (S2_FMT_NO_BBM) writes each entry once, straight
 * from block to table and back, and the whole operation costs ONE
 * invalidation (with walk caches for the collapse) before the collapsed
 * subtrees are freed.
 */
static unsigned int kind_changes, breaks;

static bool kind_valid(enum s2_pte_kind k)
{
	return k == S2_PTE_LEAF || k == S2_PTE_TABLE;
}

static void replace_observer(const s2pte_t *ptep, s2pte_t old, s2pte_t new,
			     unsigned int level)
{
	enum s2_pte_kind ko = arch_s2_pte_kind(old, level);
	enum s2_pte_kind kn = arch_s2_pte_kind(new, level);

	(void)ptep;
	if (kind_valid(ko) && kind_valid(kn) && ko != kn) {
		kind_changes++;
	}
	if (kind_valid(ko) && !kind_valid(kn)) {
		breaks++;
	}
}

static void split_and_collapse_replace_blocks(void)
{
	bool no_bbm;
	uint64_t written, tables;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	no_bbm = pt.fmt.caps & S2_FMT_NO_BBM;
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), 4 * SZ_2M, S2_PROT_RWX), 0);
	tables = pt.counters.tables_in_use;
	kind_changes = breaks = 0;
	written = pt.counters.entries_written;
	host_pte_write_observer = replace_observer;
	CHECK_EQ(s2pt_split(&pt, 0, 4 * SZ_2M, 0), 0);
	host_pte_write_observer = NULL;
	CHECK_EQ(pt.counters.tables_in_use, tables + 4);
	CHECK_EQ(pt.counters.tlbi_walk, 0);
	if (no_bbm) {
		CHECK_EQ(kind_changes, 4);
		CHECK_EQ(breaks, 0);
		CHECK_EQ(pt.counters.entries_written - written, 4);
		CHECK_EQ(pt.counters.flushes, 1);
	} else {
		CHECK_EQ(kind_changes, 0);
		CHECK_EQ(breaks, 4);
		CHECK_EQ(pt.counters.entries_written - written, 8);
		CHECK_EQ(pt.counters.flushes, 4);
	}

	kind_changes = breaks = 0;
	written = pt.counters.entries_written;
	host_nr_events = 0;
	host_pte_write_observer = replace_observer;
	CHECK_EQ(s2pt_collapse(&pt, 0, 4 * SZ_2M), 4);
	host_pte_write_observer = NULL;
	CHECK_EQ(pt.counters.tables_in_use, tables);
	CHECK_EQ(core_events(HOST_EV_FREE), 4);
	/* No subtree is freed before the invalidation of its table entry. */
	CHECK(core_first_event(HOST_EV_FREE) > core_first_event(HOST_EV_FLUSH));
	if (no_bbm) {
		CHECK_EQ(kind_changes, 4);
		CHECK_EQ(breaks, 0);
		CHECK_EQ(pt.counters.entries_written - written, 4);
		CHECK_EQ(core_events(HOST_EV_FLUSH), 1);
		CHECK_EQ(pt.counters.flushes, 2);
		CHECK_EQ(pt.counters.tlbi_walk, 1);
	} else {
		CHECK_EQ(kind_changes, 0);
		CHECK_EQ(breaks, 4);
		CHECK_EQ(pt.counters.entries_written - written, 8);
		CHECK_EQ(core_events(HOST_EV_FLUSH), 1);
		CHECK_EQ(pt.counters.flushes, 5);
		CHECK_EQ(pt.counters.tlbi_walk, 1);
	}
	CHECK(core_teardown(&pt));
}

/*
 * A 4 KiB unmap inside a 2 MiB block: the block is split first. EPT: one
 * invalidation for the whole operation; stage-2: one for break-before-make
 * and one for the unmap.
 */
static void unmap_inside_block_flush_count(void)
{
	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0), SZ_2M, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_unmap(&pt, 5 * SZ_4K, SZ_4K), 0);
	if (pt.fmt.caps & S2_FMT_NO_BBM) {
		CHECK_EQ(pt.counters.flushes, 1);
		CHECK_EQ(pt.counters.tlbi_vmid, 1);
	} else {
		CHECK_EQ(pt.counters.flushes, 2);
	}
	CHECK_EQ(pt.counters.early_flushes, 0);
	CHECK(core_teardown(&pt));
}

static void golden_compare(const char *name, const char *text)
{
	char path[256];
	FILE *f;
	char *want;
	long len;

	snprintf(path, sizeof(path), "%s/%s_%s.txt", GOLDEN_DIR, pt.fmt.name,
		 name);
	if (getenv("STRATA_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		CHECK(f != NULL);
		fputs(text, f);
		fclose(f);
		return;
	}
	f = fopen(path, "r");
	if (!f) {
		test_fail(__FILE__, __LINE__, "missing golden file %s", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	want = calloc(1, (size_t)len + 1);
	CHECK(fread(want, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	if (strcmp(want, text)) {
		test_fail(__FILE__, __LINE__, "dump differs from %s:\n%s", path,
			  text);
	}
	free(want);
}

/* The dump of a few mappings equals the golden file (encodings included). */
static void dump_matches_golden(void)
{
	char *text;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_1G, TEST_PA(SZ_1G), SZ_1G, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(0x40000000), SZ_2M, S2_PROT_R), 0);
	CHECK_EQ(s2pt_map(&pt, SZ_2M, 0xfe000000, 2 * SZ_4K,
			  S2_PROT_RW_TEST | S2_PROT_DEVICE), 0);
	CHECK_EQ(s2pt_map(&pt, 4 * SZ_2M - SZ_4K, TEST_PA(0x12345000),
			  SZ_4K, S2_PROT_RWX), 0);
	text = core_dump(&pt);
	golden_compare("mixed", text);
	free(text);
	CHECK(core_teardown(&pt));
}

/*
 * Random operations, MMIO SPTEs included, against a flat model of a small
 * window, audited.
 */
#define WIN_PAGES	2048	/* 8 MiB window at 1 GiB - 4 MiB */
#define WIN_BASE	(SZ_1G - 4 * SZ_2M / 2)

struct model_page {
	paddr_t pa;
	unsigned int prot;	/* 0 = unmapped */
	int mmio;		/* MMIO SPTE generation, -1 = none */
};

static struct model_page model[WIN_PAGES];

static void random_op(void)
{
	uint64_t first = test_rand() % WIN_PAGES;
	uint64_t max = WIN_PAGES - first;
	uint64_t n = 1 + test_rand() % (test_rand() % 4 ? MIN(max, 16) : max);
	gpa_t gpa = WIN_BASE + first * SZ_4K;
	unsigned int prot = S2_PROT_R | (test_rand() & 6);
	paddr_t pa = TEST_PA((test_rand() % 64) * SZ_2M + (test_rand() % 2) *
			     first * SZ_4K);
	uint64_t i;
	int gen;

	switch (test_rand() % 6) {
	case 0:
	case 1:
		if (s2pt_map(&pt, gpa, pa, n * SZ_4K, prot) == 0) {
			for (i = 0; i < n; i++) {
				/* Never over an MMIO SPTE. */
				CHECK(model[first + i].mmio < 0);
				model[first + i].pa = pa + i * SZ_4K;
				model[first + i].prot = prot;
			}
		}
		break;
	case 2:
		if (s2pt_unmap(&pt, gpa, n * SZ_4K) == 0) {
			for (i = 0; i < n; i++) {
				model[first + i].prot = 0;
				model[first + i].mmio = -1;
			}
		}
		break;
	case 5:
		/* Succeeds exactly on pages with neither mapping nor SPTE. */
		gen = (int)(test_rand() % (S2_MMIO_GEN_MAX + 1));
		if (model[first].prot || model[first].mmio >= 0) {
			CHECK_EQ(s2pt_set_mmio(&pt, gpa, gen), -EEXIST);
		} else {
			CHECK_EQ(s2pt_set_mmio(&pt, gpa, gen), 0);
			model[first].mmio = gen;
		}
		break;
	case 3:
		if (s2pt_protect(&pt, gpa, n * SZ_4K, prot) == 0) {
			for (i = 0; i < n; i++) {
				if (model[first + i].prot) {
					model[first + i].prot = prot;
				}
			}
		}
		break;
	default:
		if (test_rand() & 1) {
			s2pt_split(&pt, gpa, n * SZ_4K, test_rand() % 2);
		} else {
			s2pt_collapse(&pt, gpa, n * SZ_4K);
		}
		break;
	}
}

static void random_ops_match_flat_model(void)
{
	unsigned int ops = test_long ? 200000 : 5000;
	struct s2_translation t;
	uint64_t gen;

	memset(model, 0, sizeof(model));
	for (unsigned int p = 0; p < WIN_PAGES; p++) {
		model[p].mmio = -1;
	}
	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	for (unsigned int k = 0; k < ops; k++) {
		random_op();
		if (test_cur_failed) {
			return;
		}
		for (unsigned int j = 0; j < 8; j++) {
			uint64_t p = test_rand() % WIN_PAGES;
			gpa_t a = WIN_BASE + p * SZ_4K;
			int ret = s2pt_lookup(&pt, a, &t);

			if (model[p].prot) {
				CHECK_EQ(ret, 0);
				CHECK_EQ(t.pa, model[p].pa);
				CHECK_EQ(t.prot, model[p].prot);
			} else {
				CHECK_EQ(ret, -ENOENT);
			}
			ret = s2pt_get_mmio(&pt, a, &gen);
			if (model[p].mmio >= 0) {
				CHECK_EQ(ret, 0);
				CHECK_EQ(gen, model[p].mmio);
			} else {
				CHECK_EQ(ret, -ENOENT);
			}
		}
		CHECK_EQ(pt.audit_failures, 0);
	}
	CHECK_EQ(s2pt_unmap(&pt, WIN_BASE, WIN_PAGES * SZ_4K), 0);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK(core_teardown(&pt));
}

/* Teardown invalidates the whole VMID once before freeing any table. */
static void destroy_flushes_before_freeing(void)
{
	unsigned long live;

	CHECK_EQ(core_setup(&pt, fmt_ia_bits, 0), 0);
	CHECK_EQ(s2pt_map(&pt, 0, TEST_PA(SZ_4K), 4 * SZ_2M, S2_PROT_RWX), 0);
	live = host_alloc_live - pt.counters.tables_in_use - pt.fmt.root_pages;
	host_nr_events = 0;
	s2pt_destroy(&pt);
	CHECK_EQ(core_events(HOST_EV_FLUSH), 1);
	CHECK(core_first_event(HOST_EV_FREE) > core_first_event(HOST_EV_FLUSH));
	CHECK_EQ(pt.counters.tlbi_vmid, 1);
	CHECK_EQ(host_alloc_live, live);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, fmt_ia_bits == 48 ? "core_ept" : "core_stage2");
	RUN_TEST(map_1g_of_pages_uses_minimum_tables);
	RUN_TEST(map_1g_aligned_is_one_block);
	RUN_TEST(map_uses_largest_block_alignment_allows);
	RUN_TEST(unmap_range_is_one_invalidation);
	RUN_TEST(unmap_few_pages_is_per_ipa);
	RUN_TEST(fast_unmap_detaches_in_one_write);
	RUN_TEST(unmap_leaf_by_leaf_matches_fast);
	RUN_TEST(unmap_overflowing_defer_list_flushes_early_quirk);
	RUN_TEST(map_alloc_failure_leaves_table_unchanged);
	RUN_TEST(split_alloc_failure_leaves_table_unchanged);
	RUN_TEST(map_errors_leave_table_unchanged);
	RUN_TEST(protect_narrow_flushes_once_widen_never);
	RUN_TEST(protect_inside_block_splits_edges);
	RUN_TEST(unmap_inside_block_keeps_neighbours);
	RUN_TEST(split_then_collapse_round_trips);
	RUN_TEST(collapse_refuses_non_uniform);
	RUN_TEST(split_and_collapse_replace_blocks);
	RUN_TEST(unmap_inside_block_flush_count);
	RUN_TEST(dump_matches_golden);
	RUN_TEST(random_ops_match_flat_model);
	RUN_TEST(destroy_flushes_before_freeing);
	run_mmio_tests();
	run_format_tests();
	return test_done();
}
