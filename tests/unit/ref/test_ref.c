// SPDX-License-Identifier: MIT
/*
 * Tests of the reference MMU models and the simulated TLB on hand-built
 * tables. Entry values are typed from the manuals' bit layouts (Intel SDM
 * Vol. 3C EPT entry tables; Arm ARM VMSAv8-64 stage-2 descriptors), not
 * produced by any encoder of Strata.
 *
 * The tables live in a simulated physical memory (an arena at PA 0x80000000)
 * so that stage-2 output-size limits can be exercised.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ref_ept.h"
#include "ref_stage2.h"
#include "sim_tlb.h"

#define ARENA_BASE	0x80000000ull
#define ARENA_PAGES	128

static uint8_t *arena;
static unsigned int arena_next;
static unsigned int arena_oob;
static uint64_t freed_page;	/* a page the "freed" callback reports */

static uint64_t mem_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (pa < ARENA_BASE || pa + 8 > ARENA_BASE + ARENA_PAGES * 4096ull ||
	    (pa & 7)) {
		arena_oob++;
		return 0;
	}
	return *(uint64_t *)(arena + (pa - ARENA_BASE));
}

static void mem_reset(void)
{
	if (!arena) {
		arena = aligned_alloc(4096, ARENA_PAGES * 4096);
	}
	memset(arena, 0, ARENA_PAGES * 4096);
	arena_next = 0;
	arena_oob = 0;
	freed_page = 0;
}

/* @n contiguous zeroed pages aligned to @n pages (n a power of two). */
static uint64_t mem_pages(unsigned int n)
{
	arena_next = (arena_next + n - 1) & ~(n - 1);
	arena_next += n;
	return ARENA_BASE + (arena_next - n) * 4096ull;
}

static void set(uint64_t table, unsigned int idx, uint64_t e)
{
	*(uint64_t *)(arena + (table - ARENA_BASE) + 8ull * idx) = e;
}

/* ---- EPT ------------------------------------------------------------- */

#define EPT_TABLE(pa)	((pa) | 0x7)		/* RWX table entry */
#define EPT_WB		(6ull << 3)
#define EPT_PS		(1ull << 7)
#define EPT_SVE		(1ull << 63)
#define EPTP(pml4)	((pml4) | 6 | (3 << 3))	/* WB, 4-level walk */

static const struct ref_ept_opts ept_opts = { .maxphyaddr = 46 };

struct ept_tables {
	uint64_t pml4, pdpt, pd, pt;
};

/* GPA 0x40201000 -> PML4[0] PDPT[1] PD[1] PT[1]. */
#define GPA_4K	0x40201000ull

static struct ept_tables ept_build(void)
{
	struct ept_tables t;

	mem_reset();
	t.pml4 = mem_pages(1);
	t.pdpt = mem_pages(1);
	t.pd = mem_pages(1);
	t.pt = mem_pages(1);
	set(t.pml4, 0, EPT_TABLE(t.pdpt));
	set(t.pdpt, 1, EPT_TABLE(t.pd));
	set(t.pd, 1, EPT_TABLE(t.pt));
	return t;
}

static enum ref_ept_result ept_walk(const struct ept_tables *t, uint64_t gpa,
				    unsigned int acc, struct ref_ept_walk *w)
{
	return ref_ept_walk(EPTP(t->pml4), gpa, acc, &ept_opts, mem_read64,
			    NULL, w);
}

/* A 4 KiB EPT page: output address, RWX, WB, ignore-PAT, tables walked. */
static void ept_4k_page(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	set(t.pt, 1, 0x123456000ull | EPT_WB | (1 << 6) | 0x7);
	CHECK_EQ(ept_walk(&t, GPA_4K + 0xabc, REF_WRITE, &w), REF_EPT_OK);
	CHECK_EQ(w.pa, 0x123456abcull);
	CHECK_EQ(w.leaf_level, 0);
	CHECK_EQ(w.perms, 7);
	CHECK_EQ(w.memtype, 6);
	CHECK(w.ipat);
	CHECK_EQ(w.nr_tables, 4);
	CHECK_EQ(w.tables[0], t.pml4);
	CHECK_EQ(w.tables[3], t.pt);
	CHECK_EQ(w.table_level[3], 0);
	CHECK_EQ(arena_oob, 0);
}

/* A 2 MiB EPT block (PDE bit 7) translates the offset inside it. */
static void ept_2m_block(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	set(t.pd, 2, 0x80000000ull | EPT_PS | EPT_WB | 0x3);
	CHECK_EQ(ept_walk(&t, 0x40400000ull + 0x12345, REF_READ, &w),
		 REF_EPT_OK);
	CHECK_EQ(w.pa, 0x80012345ull);
	CHECK_EQ(w.leaf_level, 1);
	CHECK_EQ(w.leaf_gpa_base, 0x40400000ull);
	CHECK_EQ(w.nr_tables, 3);
	CHECK_EQ(ept_walk(&t, 0x40400000ull, REF_FETCH, &w), REF_EPT_VIOLATION);
	CHECK_EQ(w.why, REF_EPT_WHY_PERMISSION);
	CHECK_EQ(w.exit_qual, REF_FETCH | (3 << 3));
}

/* A 1 GiB EPT block (PDPTE bit 7). */
static void ept_1g_block(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	set(t.pdpt, 3, 0x1c0000000ull | EPT_PS | 0x7);
	CHECK_EQ(ept_walk(&t, 0xc0000000ull + 0x3456789, REF_READ, &w),
		 REF_EPT_OK);
	CHECK_EQ(w.pa, 0x1c3456789ull);
	CHECK_EQ(w.leaf_level, 2);
	CHECK_EQ(w.memtype, 0);
	CHECK_EQ(w.nr_tables, 2);
}

/* Permissions are the AND of bits 2:0 of every entry used. */
static void ept_perms_anded(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	set(t.pdpt, 1, t.pd | 0x5);	/* R+X only at the PDPTE */
	set(t.pt, 1, 0x5000 | EPT_WB | 0x7);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_OK);
	CHECK_EQ(w.perms, 5);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_WRITE, &w), REF_EPT_VIOLATION);
	CHECK_EQ(w.why, REF_EPT_WHY_PERMISSION);
	CHECK_EQ(w.exit_qual, REF_WRITE | (5 << 3));
	set(t.pml4, 0, t.pdpt | 0x3);	/* R+W at the PML4E */
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_FETCH, &w), REF_EPT_VIOLATION);
	CHECK_EQ(w.perms, 1);
}

/* An entry with bits 2:0 clear stops the walk with a violation. */
static void ept_not_present_each_level(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_VIOLATION);
	CHECK_EQ(w.why, REF_EPT_WHY_NOT_PRESENT);
	CHECK_EQ(w.fault_level, 0);
	CHECK_EQ(w.exit_qual, REF_READ);
	/* Bits 63:3 of a not-present entry are ignored. */
	set(t.pd, 1, 0x7ffff000ull | EPT_PS | (3 << 3));
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_VIOLATION);
	CHECK_EQ(w.fault_level, 1);
	set(t.pdpt, 1, 0);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_VIOLATION);
	CHECK_EQ(w.fault_level, 2);
	CHECK_EQ(w.nr_tables, 2);
	CHECK_EQ(ept_walk(&t, 1ull << 39, REF_READ, &w), REF_EPT_VIOLATION);
	CHECK_EQ(w.fault_level, 3);
}

/* Write without read (010b, 110b) misconfigures at any level. */
static void ept_misconfig_write_no_read(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	set(t.pt, 1, 0x5000 | EPT_WB | 0x2);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.why, REF_EPT_WHY_WRITE_NO_READ);
	set(t.pt, 1, 0x5000 | EPT_WB | 0x6);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_FETCH, &w), REF_EPT_MISCONFIG);
	set(t.pt, 1, 0x5000 | EPT_WB | 0x7);
	set(t.pdpt, 1, t.pd | 0x6);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.fault_level, 2);
}

/* Execute-only (100b) misconfigures only without execute-only support. */
static void ept_misconfig_xonly(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_opts xo = ept_opts;
	struct ref_ept_walk w;

	set(t.pt, 1, 0x5000 | EPT_WB | 0x4);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_FETCH, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.why, REF_EPT_WHY_XONLY);
	xo.xonly = true;
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), GPA_4K, REF_FETCH, &xo, mem_read64,
			      NULL, &w), REF_EPT_OK);
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), GPA_4K, REF_READ, &xo, mem_read64,
			      NULL, &w), REF_EPT_VIOLATION);
}

/* Memory types 2, 3 and 7 misconfigure on the entry that maps the page. */
static void ept_misconfig_memtype(void)
{
	static const unsigned int bad[] = { 2, 3, 7 };
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	for (unsigned int i = 0; i < 3; i++) {
		set(t.pt, 1, 0x5000 | ((uint64_t)bad[i] << 3) | 0x7);
		CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_MISCONFIG);
		CHECK_EQ(w.why, REF_EPT_WHY_MEMTYPE);
	}
	for (unsigned int mt = 0; mt < 8; mt++) {
		if (mt == 2 || mt == 3 || mt == 7) {
			continue;
		}
		set(t.pt, 1, 0x5000 | ((uint64_t)mt << 3) | 0x7);
		CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_OK);
		CHECK_EQ(w.memtype, mt);
	}
	/* In a table entry bits 5:3 are reserved, whatever their value. */
	set(t.pt, 1, 0x5000 | EPT_WB | 0x7);
	set(t.pd, 1, t.pt | (6ull << 3) | 0x7);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.why, REF_EPT_WHY_RSVD);
}

/* Bit 7 of a PML4E is reserved. */
static void ept_misconfig_large_pml4(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_walk w;

	set(t.pml4, 0, EPT_TABLE(t.pdpt) | EPT_PS);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.why, REF_EPT_WHY_LARGE_PML4);
	CHECK_EQ(w.fault_level, 3);
}

/* Address bits at or above MAXPHYADDR are reserved in every present entry. */
static void ept_misconfig_addr_bits(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_opts o = ept_opts;
	struct ref_ept_walk w;

	o.maxphyaddr = 39;
	set(t.pt, 1, (1ull << 39) | EPT_WB | 0x7);
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), GPA_4K, REF_READ, &o, mem_read64,
			      NULL, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.why, REF_EPT_WHY_ADDR_BITS);
	set(t.pt, 1, (1ull << 38) | EPT_WB | 0x7);
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), GPA_4K, REF_READ, &o, mem_read64,
			      NULL, &w), REF_EPT_OK);
	CHECK_EQ(w.pa, (1ull << 38));
	/* Bits 62:52 are ignored. */
	set(t.pt, 1, (0x7ffull << 52) | 0x5000 | EPT_WB | 0x7);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_OK);
	CHECK_EQ(w.pa, 0x5000);
}

/* Bits 20:12 of a 2 MiB PDE and 29:12 of a 1 GiB PDPTE are reserved. */
static void ept_misconfig_block_rsvd(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_opts no1g = ept_opts;
	struct ref_ept_walk w;

	set(t.pd, 2, 0x80000000ull | (1ull << 12) | EPT_PS | EPT_WB | 0x7);
	CHECK_EQ(ept_walk(&t, 0x40400000ull, REF_READ, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.why, REF_EPT_WHY_RSVD);
	set(t.pdpt, 3, 0xc0000000ull | (1ull << 21) | EPT_PS | EPT_WB | 0x7);
	CHECK_EQ(ept_walk(&t, 0xc0000000ull, REF_READ, &w), REF_EPT_MISCONFIG);
	CHECK_EQ(w.why, REF_EPT_WHY_RSVD);
	set(t.pdpt, 3, 0xc0000000ull | EPT_PS | EPT_WB | 0x7);
	CHECK_EQ(ept_walk(&t, 0xc0000000ull, REF_READ, &w), REF_EPT_OK);
	no1g.no_1g = true;
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), 0xc0000000ull, REF_READ, &no1g,
			      mem_read64, NULL, &w), REF_EPT_MISCONFIG);
	/* Bit 7 of a PTE is ignored. */
	set(t.pt, 1, 0x5000 | EPT_PS | EPT_WB | 0x7);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_READ, &w), REF_EPT_OK);
}

/* With #VE on, a violation is a #VE exactly when bit 63 of its entry is 0. */
static void ept_ve_vs_exit(void)
{
	struct ept_tables t = ept_build();
	struct ref_ept_opts ve = ept_opts;
	struct ref_ept_walk w;

	ve.ve = true;
	/* All-zero PDPTE: #VE (bit 63 clear). */
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), 0x80000000ull, REF_READ, &ve,
			      mem_read64, NULL, &w), REF_EPT_VIOLATION);
	CHECK(w.ve);
	CHECK_EQ(w.fault_level, 2);
	set(t.pdpt, 2, EPT_SVE);
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), 0x80000000ull, REF_READ, &ve,
			      mem_read64, NULL, &w), REF_EPT_VIOLATION);
	CHECK(!w.ve);
	/* Permission violation: the leaf's bit 63 decides. */
	set(t.pt, 1, 0x5000 | EPT_WB | 0x1);
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), GPA_4K, REF_WRITE, &ve, mem_read64,
			      NULL, &w), REF_EPT_VIOLATION);
	CHECK(w.ve);
	set(t.pt, 1, EPT_SVE | 0x5000 | EPT_WB | 0x1);
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), GPA_4K, REF_WRITE, &ve, mem_read64,
			      NULL, &w), REF_EPT_VIOLATION);
	CHECK(!w.ve);
	/* #VE off: always an exit. A misconfiguration is never a #VE. */
	set(t.pt, 1, 0x5000 | EPT_WB | 0x1);
	CHECK_EQ(ept_walk(&t, GPA_4K, REF_WRITE, &w), REF_EPT_VIOLATION);
	CHECK(!w.ve);
	set(t.pt, 1, 0x5000 | EPT_WB | 0x2);
	CHECK_EQ(ref_ept_walk(EPTP(t.pml4), GPA_4K, REF_READ, &ve, mem_read64,
			      NULL, &w), REF_EPT_MISCONFIG);
	CHECK(!w.ve);
}

/* EPTP: memory type UC or WB, walk length 4, bits 11:7 clear. */
static void ept_eptp_checks(void)
{
	struct ref_ept_walk w;

	CHECK(ref_eptp_valid(0x1000 | 6 | (3 << 3), &ept_opts));
	CHECK(ref_eptp_valid(0x1000 | 0 | (3 << 3) | (1 << 6), &ept_opts));
	CHECK(!ref_eptp_valid(0x1000 | 2 | (3 << 3), &ept_opts));
	CHECK(!ref_eptp_valid(0x1000 | 6 | (4 << 3), &ept_opts));
	CHECK(!ref_eptp_valid(0x1000 | 6 | (3 << 3) | (1 << 8), &ept_opts));
	CHECK(!ref_eptp_valid((1ull << 46) | 6 | (3 << 3), &ept_opts));
	CHECK_EQ(ref_ept_walk(0x1000 | 7 | (3 << 3), 0, REF_READ, &ept_opts,
			      mem_read64, NULL, &w), REF_EPT_BAD_EPTP);
}

/* ---- Stage 2 ---------------------------------------------------------- */

#define S2_TABLE(pa)	((pa) | 0x3)
#define S2_PAGE		0x3ull
#define S2_BLOCK	0x1ull
#define S2_AF		(1ull << 10)
#define S2_RW		(3ull << 6)
#define S2_RO		(1ull << 6)
#define S2_WO		(2ull << 6)
#define S2_ISH		(3ull << 8)
#define S2_NORMAL	(0xfull << 2)
#define S2_XN		(1ull << 54)
#define S2_LEAF_RW	(S2_AF | S2_ISH | S2_RW | S2_NORMAL)

/* VTCR_EL2 with T0SZ for @ipa_bits, SL0, TG0 4K, PS 48 bits, bit 31. */
static uint64_t vtcr(unsigned int ipa_bits, unsigned int sl0)
{
	return (1ull << 31) | (5ull << 16) | (3ull << 12) | (1ull << 10) |
	       (1ull << 8) | ((uint64_t)sl0 << 6) | (64 - ipa_bits);
}

static struct ref_s2_cfg s2_cfg(unsigned int ipa_bits, unsigned int sl0,
				uint64_t root)
{
	return (struct ref_s2_cfg){
		.vtcr = vtcr(ipa_bits, sl0),
		.vttbr = root | (5ull << 48),
		.parange_bits = 48,
	};
}

/* Start level and concatenated roots for IPA sizes 32..48 and each SL0. */
static void s2_start_levels(void)
{
	static const struct {
		unsigned int ipa, sl0;
		bool ok;
		int start;
		unsigned int concat;
	} c[] = {
		{ 32, 0, true, 2, 4 }, { 32, 1, true, 1, 1 },
		{ 32, 2, false, 0, 0 }, { 34, 0, true, 2, 16 },
		{ 35, 0, false, 0, 0 }, { 36, 0, false, 0, 0 },
		{ 36, 1, true, 1, 1 }, { 39, 1, true, 1, 1 },
		{ 39, 2, false, 0, 0 }, { 40, 1, true, 1, 2 },
		{ 40, 2, true, 0, 1 }, { 42, 1, true, 1, 8 },
		{ 42, 2, true, 0, 1 }, { 43, 1, true, 1, 16 },
		{ 44, 1, false, 0, 0 }, { 44, 2, true, 0, 1 },
		{ 48, 2, true, 0, 1 }, { 48, 1, false, 0, 0 },
		{ 48, 3, false, 0, 0 }, { 30, 1, false, 0, 0 },
	};
	int start;
	unsigned int concat;

	for (unsigned int i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		bool ok = ref_s2_geometry(vtcr(c[i].ipa, c[i].sl0), &start,
					  &concat);

		CHECK_EQ(ok, c[i].ok);
		if (ok) {
			CHECK_EQ(start, c[i].start);
			CHECK_EQ(concat, c[i].concat);
		}
	}
	/* The value seen working under QEMU: 40-bit IPA, level 1, 2 roots. */
	CHECK(ref_s2_geometry(0x80023558ull, &start, &concat));
	CHECK_EQ(start, 1);
	CHECK_EQ(concat, 2);
	/* TG0 other than 4 KiB is outside this model. */
	CHECK(!ref_s2_geometry(vtcr(40, 1) | (1ull << 14), &start, &concat));
}

/* 40-bit IPA: the second concatenated root table serves IPA bit 39 set. */
static void s2_concatenated_root(void)
{
	uint64_t root, l2, l3;
	struct ref_s2_cfg cfg;
	struct ref_s2_walk w;
	uint64_t ipa = (1ull << 39) | (5ull << 30) | (7ull << 21) | (9 << 12);

	mem_reset();
	root = mem_pages(2);
	l2 = mem_pages(1);
	l3 = mem_pages(1);
	cfg = s2_cfg(40, 1, root);
	set(root, 512 + 5, S2_TABLE(l2));
	set(l2, 7, S2_TABLE(l3));
	set(l3, 9, 0x87654000ull | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, ipa | 0x321, REF_WRITE, mem_read64, NULL,
			     &w), REF_S2_OK);
	CHECK_EQ(w.pa, 0x87654321ull);
	CHECK_EQ(w.start_arm_level, 1);
	CHECK_EQ(w.concat, 2);
	CHECK_EQ(w.leaf_level, 0);
	CHECK_EQ(w.nr_tables, 3);
	CHECK_EQ(w.tables[0], root + 4096);
	CHECK_EQ(w.tables[1], l2);
	CHECK_EQ(w.tables[2], l3);
	CHECK_EQ(w.attr.kind, REF_S2_MEM_NORMAL);
	CHECK_EQ(w.attr.inner, REF_S2_WB);
	CHECK_EQ(w.sh, 3);
	/* Beyond 2^40: Translation fault at level 0. */
	CHECK_EQ(ref_s2_walk(&cfg, 1ull << 40, REF_READ, mem_read64, NULL, &w),
		 REF_S2_TRANSLATION);
	CHECK_EQ(w.fault_arm_level, 0);
	CHECK(!w.bad_config);
	CHECK_EQ(arena_oob, 0);
}

/* 48-bit IPA from level 0: a page, a 2 MiB and a 1 GiB block. */
static void s2_page_and_blocks(void)
{
	uint64_t l0, l1, l2, l3;
	struct ref_s2_cfg cfg;
	struct ref_s2_walk w;
	uint64_t base = 3ull << 39;

	mem_reset();
	l0 = mem_pages(1);
	l1 = mem_pages(1);
	l2 = mem_pages(1);
	l3 = mem_pages(1);
	cfg = s2_cfg(48, 2, l0);
	set(l0, 3, S2_TABLE(l1));
	set(l1, 0, S2_TABLE(l2));
	set(l1, 1, 0x40000000ull | S2_BLOCK | S2_LEAF_RW);
	set(l2, 0, S2_TABLE(l3));
	set(l2, 1, 0x00600000ull | S2_BLOCK | S2_LEAF_RW);
	set(l3, 2, 0x00abc000ull | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, base + 0x2008, REF_READ, mem_read64, NULL,
			     &w), REF_S2_OK);
	CHECK_EQ(w.pa, 0xabc008ull);
	CHECK_EQ(w.leaf_level, 0);
	CHECK_EQ(w.nr_tables, 4);
	CHECK_EQ(ref_s2_walk(&cfg, base + 0x212345, REF_READ, mem_read64, NULL,
			     &w), REF_S2_OK);
	CHECK_EQ(w.pa, 0x612345ull);
	CHECK_EQ(w.leaf_level, 1);
	CHECK_EQ(w.leaf_ipa_base, base + 0x200000);
	CHECK_EQ(ref_s2_walk(&cfg, base + 0x7654321ull + (1ull << 30),
			     REF_READ, mem_read64, NULL, &w), REF_S2_OK);
	CHECK_EQ(w.pa, 0x47654321ull);
	CHECK_EQ(w.leaf_level, 2);
	CHECK_EQ(w.nr_tables, 2);
	/* Invalid descriptor: Translation fault at that level. */
	CHECK_EQ(ref_s2_walk(&cfg, base + 0x3000, REF_READ, mem_read64, NULL,
			     &w), REF_S2_TRANSLATION);
	CHECK_EQ(w.fault_arm_level, 3);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_TRANSLATION);
	CHECK_EQ(w.fault_arm_level, 0);
}

/* 0b01 is not a block at level 0 nor a page at level 3. */
static void s2_block_not_at_level0_or_3(void)
{
	uint64_t l0, l1, l2, l3;
	struct ref_s2_cfg cfg;
	struct ref_s2_walk w;

	mem_reset();
	l0 = mem_pages(1);
	l1 = mem_pages(1);
	l2 = mem_pages(1);
	l3 = mem_pages(1);
	cfg = s2_cfg(48, 2, l0);
	set(l0, 0, S2_BLOCK | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, 0x1000, REF_READ, mem_read64, NULL, &w),
		 REF_S2_TRANSLATION);
	CHECK_EQ(w.fault_arm_level, 0);
	set(l0, 0, S2_TABLE(l1));
	set(l1, 0, S2_TABLE(l2));
	set(l2, 0, S2_TABLE(l3));
	set(l3, 1, 0x5000 | S2_BLOCK | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, 0x1000, REF_READ, mem_read64, NULL, &w),
		 REF_S2_TRANSLATION);
	CHECK_EQ(w.fault_arm_level, 3);
	set(l3, 1, 0x5000 | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, 0x1000, REF_READ, mem_read64, NULL, &w),
		 REF_S2_OK);
}

/* One level-3 table for IPA 0 of a 40-bit, level-1 start table. */
static struct ref_s2_cfg s2_small(uint64_t *l3_out)
{
	uint64_t root, l2, l3;

	mem_reset();
	root = mem_pages(2);
	l2 = mem_pages(1);
	l3 = mem_pages(1);
	set(root, 0, S2_TABLE(l2));
	set(l2, 0, S2_TABLE(l3));
	*l3_out = l3;
	return s2_cfg(40, 1, root);
}

/* AF clear: Access flag fault (before permissions) unless VTCR_EL2.HA. */
static void s2_access_flag(void)
{
	uint64_t l3;
	struct ref_s2_cfg cfg = s2_small(&l3);
	struct ref_s2_walk w;

	set(l3, 0, 0x5000 | S2_PAGE | S2_ISH | S2_RO | S2_NORMAL);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_WRITE, mem_read64, NULL, &w),
		 REF_S2_ACCESS_FLAG);
	CHECK_EQ(w.fault_arm_level, 3);
	cfg.vtcr |= 1ull << 21;
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_OK);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_WRITE, mem_read64, NULL, &w),
		 REF_S2_PERMISSION);
}

/* S2AP: 00 none, 01 read, 10 write, 11 read/write. */
static void s2_s2ap(void)
{
	static const struct {
		uint64_t ap;
		bool r, w;
	} c[] = { { 0, false, false }, { S2_RO, true, false },
		  { S2_WO, false, true }, { S2_RW, true, true } };
	uint64_t l3;
	struct ref_s2_cfg cfg = s2_small(&l3);
	struct ref_s2_walk w;

	for (unsigned int i = 0; i < 4; i++) {
		set(l3, 0, 0x5000 | S2_PAGE | S2_AF | S2_NORMAL | c[i].ap);
		CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
			 c[i].r ? REF_S2_OK : REF_S2_PERMISSION);
		CHECK_EQ(ref_s2_walk(&cfg, 0, REF_WRITE, mem_read64, NULL, &w),
			 c[i].w ? REF_S2_OK : REF_S2_PERMISSION);
		CHECK_EQ(w.fault_arm_level, c[i].w ? -1 : 3);
	}
}

/* XN (bit 54) forbids fetches; with FEAT_XNX bits 54:53 split EL1/EL0. */
static void s2_xn(void)
{
	uint64_t l3;
	struct ref_s2_cfg cfg = s2_small(&l3);
	struct ref_s2_walk w;
	const unsigned int el0 = REF_FETCH | REF_FETCH_EL0;

	set(l3, 0, 0x5000 | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_FETCH, mem_read64, NULL, &w),
		 REF_S2_OK);
	set(l3, 0, 0x5000 | S2_PAGE | S2_LEAF_RW | S2_XN);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_FETCH, mem_read64, NULL, &w),
		 REF_S2_PERMISSION);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_OK);
	/* Without FEAT_XNX bit 53 alone means nothing. */
	set(l3, 0, 0x5000 | S2_PAGE | S2_LEAF_RW | (1ull << 53));
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_FETCH, mem_read64, NULL, &w),
		 REF_S2_OK);
	cfg.xnx = true;
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_FETCH, mem_read64, NULL, &w),
		 REF_S2_PERMISSION);
	CHECK_EQ(ref_s2_walk(&cfg, 0, el0, mem_read64, NULL, &w), REF_S2_OK);
	set(l3, 0, 0x5000 | S2_PAGE | S2_LEAF_RW | (3ull << 53));
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_FETCH, mem_read64, NULL, &w),
		 REF_S2_OK);
	CHECK_EQ(ref_s2_walk(&cfg, 0, el0, mem_read64, NULL, &w),
		 REF_S2_PERMISSION);
}

/* MemAttr without FWB: outer [3:2], inner [1:0], device when [3:2] = 0. */
static void s2_memattr_normal(void)
{
	struct ref_s2_memattr a;

	a = ref_s2_decode_memattr(0xf, false);
	CHECK_EQ(a.kind, REF_S2_MEM_NORMAL);
	CHECK_EQ(a.inner, REF_S2_WB);
	CHECK_EQ(a.outer, REF_S2_WB);
	CHECK(!a.forced);
	a = ref_s2_decode_memattr(0x5, false);
	CHECK_EQ(a.kind, REF_S2_MEM_NORMAL);
	CHECK_EQ(a.inner, REF_S2_NC);
	a = ref_s2_decode_memattr(0xa, false);
	CHECK_EQ(a.inner, REF_S2_WT);
	a = ref_s2_decode_memattr(0x1, false);
	CHECK_EQ(a.kind, REF_S2_MEM_DEVICE);
	CHECK_EQ(a.dev, 1);
	a = ref_s2_decode_memattr(0x0, false);
	CHECK_EQ(a.kind, REF_S2_MEM_DEVICE);
	CHECK_EQ(a.dev, 0);
	a = ref_s2_decode_memattr(0x4, false);
	CHECK_EQ(a.kind, REF_S2_MEM_RESERVED);
}

/* MemAttr with HCR_EL2.FWB: 0b0dd device, 101 NC, 110 WB, 111 stage 1. */
static void s2_memattr_fwb(void)
{
	struct ref_s2_memattr a;

	a = ref_s2_decode_memattr(0x6, true);
	CHECK_EQ(a.kind, REF_S2_MEM_NORMAL);
	CHECK_EQ(a.inner, REF_S2_WB);
	CHECK(a.forced);
	a = ref_s2_decode_memattr(0x5, true);
	CHECK_EQ(a.kind, REF_S2_MEM_NORMAL);
	CHECK_EQ(a.inner, REF_S2_NC);
	a = ref_s2_decode_memattr(0x7, true);
	CHECK_EQ(a.kind, REF_S2_MEM_S1);
	a = ref_s2_decode_memattr(0x1, true);
	CHECK_EQ(a.kind, REF_S2_MEM_DEVICE);
	CHECK_EQ(a.dev, 1);
	a = ref_s2_decode_memattr(0x3, true);
	CHECK_EQ(a.dev, 3);
	/* The normal-WB encoding without FWB means something else with it. */
	a = ref_s2_decode_memattr(0xf, true);
	CHECK_EQ(a.kind, REF_S2_MEM_RESERVED);
	a = ref_s2_decode_memattr(0x4, true);
	CHECK_EQ(a.kind, REF_S2_MEM_RESERVED);
}

/* Output or table address above the PS size: Address size fault. */
static void s2_address_size(void)
{
	uint64_t l3;
	struct ref_s2_cfg cfg = s2_small(&l3);
	struct ref_s2_walk w;
	uint64_t l2 = ARENA_BASE + 2 * 4096;

	/* PS = 40 bits */
	cfg.vtcr = (cfg.vtcr & ~(7ull << 16)) | (2ull << 16);
	set(l3, 0, (1ull << 40) | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_ADDR_SIZE);
	CHECK_EQ(w.fault_arm_level, 3);
	set(l3, 0, ((1ull << 40) - 4096) | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_OK);
	set(l2, 0, S2_TABLE(l3 | (1ull << 41)));
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_ADDR_SIZE);
	CHECK_EQ(w.fault_arm_level, 2);
	/* PS above PARange is capped to PARange. */
	set(l2, 0, S2_TABLE(l3));
	set(l3, 0, (1ull << 44) | S2_PAGE | S2_LEAF_RW);
	cfg.vtcr = (cfg.vtcr & ~(7ull << 16)) | (5ull << 16);
	cfg.parange_bits = 44;
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_ADDR_SIZE);
}

/* Inconsistent SL0/T0SZ: Translation fault at level 0, nothing read. */
static void s2_bad_config(void)
{
	struct ref_s2_cfg cfg;
	struct ref_s2_walk w;

	mem_reset();
	cfg = s2_cfg(44, 1, mem_pages(16));
	CHECK_EQ(ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w),
		 REF_S2_TRANSLATION);
	CHECK(w.bad_config);
	CHECK_EQ(w.fault_arm_level, 0);
	CHECK_EQ(w.nr_tables, 0);
	/* Root not aligned to its concatenated size. */
	cfg = s2_cfg(42, 1, ARENA_BASE + 4096);
	ref_s2_walk(&cfg, 0, REF_READ, mem_read64, NULL, &w);
	CHECK(w.bad_config);
}

/* ---- Simulated TLB ---------------------------------------------------- */

static struct ref_s2_cfg tlb_cfg;

static void s2_sim_walk(void *ctx, uint64_t tag, uint64_t ia,
			struct sim_xlate *x)
{
	struct ref_s2_walk w;

	(void)ctx;
	(void)tag;
	ref_s2_walk(&tlb_cfg, ia, REF_READ, mem_read64, NULL, &w);
	sim_xlate_from_s2(&w, x);
}

static bool test_freed(void *ctx, uint64_t pa)
{
	(void)ctx;
	return freed_page && pa == freed_page;
}

struct tlb_world {
	uint64_t root, l2, l3a, l3b;
	struct sim_tlb tlb;
};

/* IPA 0..2M through l3a, 1G..1G+2M through l3b (two level-2 tables). */
static bool tlb_world(struct tlb_world *tw)
{
	uint64_t l2b;

	mem_reset();
	tw->root = mem_pages(2);
	tw->l2 = mem_pages(1);
	l2b = mem_pages(1);
	tw->l3a = mem_pages(1);
	tw->l3b = mem_pages(1);
	set(tw->root, 0, S2_TABLE(tw->l2));
	set(tw->root, 1, S2_TABLE(l2b));
	set(tw->l2, 0, S2_TABLE(tw->l3a));
	set(l2b, 0, S2_TABLE(tw->l3b));
	for (unsigned int i = 0; i < 512; i++) {
		set(tw->l3a, i, (0x100000000ull + i * 4096ull) | S2_PAGE |
			       S2_LEAF_RW);
		set(tw->l3b, i, (0x200000000ull + i * 4096ull) | S2_PAGE |
			       S2_LEAF_RW);
	}
	tlb_cfg = s2_cfg(40, 1, tw->root);
	return !sim_tlb_init(&tw->tlb, 64, 32, s2_sim_walk, test_freed, NULL);
}

static void tlb_touch(struct tlb_world *tw, uint64_t ia)
{
	struct sim_xlate x;

	if (!sim_tlb_lookup(&tw->tlb, 1, ia)) {
		s2_sim_walk(NULL, 1, ia, &x);
		sim_tlb_fill(&tw->tlb, 1, &x);
	}
}

/* A changed leaf is reported stale until its IPA is invalidated. */
static void tlb_stale_leaf_until_invalidated(void)
{
	struct tlb_world tw;
	struct sim_stale_report rep;

	CHECK(tlb_world(&tw));
	tlb_touch(&tw, 0x3000);
	CHECK_EQ(sim_tlb_count(&tw.tlb, false), 1);
	CHECK_EQ(sim_tlb_count(&tw.tlb, true), 2);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, &rep), 0);
	set(tw.l3a, 3, 0x300000000ull | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, &rep), 1);
	CHECK_EQ(rep.nr_leaf, 1);
	sim_tlb_inv_ipa(&tw.tlb, 1, 0x4000, false);	/* another page */
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 1);
	sim_tlb_inv_ipa(&tw.tlb, 2, 0x3000, false);	/* another VMID */
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 1);
	sim_tlb_inv_ipa(&tw.tlb, 1, 0x3000, true);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 0);
	sim_tlb_destroy(&tw.tlb);
}

/* A walk-cache entry survives a per-IPA invalidation of another range. */
static void tlb_walk_cache_survives_other_range(void)
{
	struct tlb_world tw;
	struct sim_stale_report rep;

	CHECK(tlb_world(&tw));
	tlb_touch(&tw, 0x1000);
	tlb_touch(&tw, 0x40001000ull);
	CHECK_EQ(sim_tlb_count(&tw.tlb, true), 4);
	sim_tlb_inv_ipa(&tw.tlb, 1, 0x40001000ull, false);
	CHECK_EQ(sim_tlb_count(&tw.tlb, true), 2);
	CHECK_EQ(sim_tlb_count(&tw.tlb, false), 1);
	/* Unlink l3a: its walk-cache entry and leaf are now stale... */
	set(tw.l2, 0, 0);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, &rep), 2);
	CHECK_EQ(rep.nr_walk, 1);
	/* ...and a last-level-only invalidation does not remove the first. */
	sim_tlb_inv_ipa(&tw.tlb, 1, 0x1000, true);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, &rep), 1);
	CHECK_EQ(rep.nr_walk, 1);
	sim_tlb_inv_ipa(&tw.tlb, 1, 0x1000, false);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 0);
	sim_tlb_destroy(&tw.tlb);
}

/* A walk-cache entry pointing at a freed table page is stale. */
static void tlb_freed_table_is_stale(void)
{
	struct tlb_world tw;

	CHECK(tlb_world(&tw));
	tlb_touch(&tw, 0x1000);
	freed_page = tw.l3a;
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 1);
	sim_tlb_inv_tag(&tw.tlb, 1);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 0);
	CHECK_EQ(sim_tlb_count(&tw.tlb, true), 0);
	sim_tlb_destroy(&tw.tlb);
}

/* Narrowed permissions are stale; widened ones are not. */
static void tlb_narrowed_perms_stale_widened_not(void)
{
	struct tlb_world tw;

	CHECK(tlb_world(&tw));
	set(tw.l3a, 1, 0x100001000ull | S2_PAGE | S2_AF | S2_ISH | S2_NORMAL |
	    S2_RO);
	tlb_touch(&tw, 0x1000);
	set(tw.l3a, 1, 0x100001000ull | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 0);
	sim_tlb_inv_all(&tw.tlb);
	tlb_touch(&tw, 0x1000);
	set(tw.l3a, 1, 0x100001000ull | S2_PAGE | S2_AF | S2_ISH | S2_NORMAL |
	    S2_RO);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 1);
	sim_tlb_destroy(&tw.tlb);
}

/* A cached block stays valid when split into the same pages, until one of
 * them changes; a range invalidation covering it removes it. */
static void tlb_block_split_then_changed(void)
{
	struct tlb_world tw;

	CHECK(tlb_world(&tw));
	set(tw.l2, 1, 0x100200000ull | S2_BLOCK | S2_LEAF_RW);
	tlb_touch(&tw, 0x234000);
	CHECK_EQ(sim_tlb_lookup(&tw.tlb, 1, 0x3ff000)->size, 0x200000);
	for (unsigned int i = 0; i < 512; i++) {
		set(tw.l3b, i, (0x100200000ull + i * 4096ull) | S2_PAGE |
			       S2_LEAF_RW);
	}
	set(tw.l2, 1, S2_TABLE(tw.l3b));
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 0);
	set(tw.l3b, 511, 0x7000 | S2_PAGE | S2_LEAF_RW);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 1);
	sim_tlb_inv_range(&tw.tlb, 1, 0x3ff000, 1, true);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 0);
	sim_tlb_destroy(&tw.tlb);
}

/* A TTL hint naming the wrong level leaves the cached block in place. */
static void tlb_ttl_hint_wrong_level_keeps_entry(void)
{
	struct tlb_world tw;

	CHECK(tlb_world(&tw));
	set(tw.l2, 1, 0x100200000ull | S2_BLOCK | S2_LEAF_RW);
	tlb_touch(&tw, 0x234000);
	set(tw.l2, 1, 0);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 1);
	sim_tlb_inv_ipa_ttl(&tw.tlb, 1, 0x234000, true, 4096);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 1);
	sim_tlb_inv_ipa_ttl(&tw.tlb, 1, 0x3ff000, true, 0x200000);
	CHECK_EQ(sim_tlb_stale(&tw.tlb, NULL), 0);
	sim_tlb_destroy(&tw.tlb);
}

/* A full TLB evicts rather than grows; lookups find what is cached. */
static void tlb_capacity_and_lookup(void)
{
	struct tlb_world tw;

	CHECK(tlb_world(&tw));
	for (unsigned int i = 0; i < 512; i++) {
		tlb_touch(&tw, i * 4096ull);
	}
	CHECK_EQ(sim_tlb_count(&tw.tlb, false), 64);
	CHECK(sim_tlb_lookup(&tw.tlb, 1, 511 * 4096ull));
	CHECK(!sim_tlb_lookup(&tw.tlb, 2, 511 * 4096ull));
	CHECK_EQ(sim_tlb_lookup(&tw.tlb, 1, 511 * 4096ull + 5)->pa_base,
		 0x100000000ull + 511 * 4096ull);
	sim_tlb_inv_range(&tw.tlb, 1, 0, 512, false);
	CHECK_EQ(sim_tlb_count(&tw.tlb, false), 0);
	CHECK_EQ(sim_tlb_count(&tw.tlb, true), 0);
	sim_tlb_destroy(&tw.tlb);
}

static struct ept_tables ept_tlb_t;

static void ept_sim_walk(void *ctx, uint64_t tag, uint64_t ia,
			 struct sim_xlate *x)
{
	struct ref_ept_walk w;

	(void)ctx;
	ref_ept_walk(tag, ia, REF_READ, &ept_opts, mem_read64, NULL, &w);
	sim_xlate_from_ept(&w, x);
}

/* EPT: entries are tagged by EPTP and removed by a single-context flush. */
static void tlb_ept_single_context(void)
{
	struct sim_tlb tlb;
	struct ref_ept_walk w;
	struct sim_xlate x;
	uint64_t eptp;

	ept_tlb_t = ept_build();
	eptp = EPTP(ept_tlb_t.pml4);
	set(ept_tlb_t.pt, 1, 0x5000 | EPT_WB | 0x7);
	CHECK(!sim_tlb_init(&tlb, 16, 16, ept_sim_walk, test_freed, NULL));
	ref_ept_walk(eptp, GPA_4K, REF_READ, &ept_opts, mem_read64, NULL, &w);
	sim_xlate_from_ept(&w, &x);
	sim_tlb_fill(&tlb, eptp, &x);
	CHECK_EQ(sim_tlb_count(&tlb, true), 3);
	set(ept_tlb_t.pt, 1, 0x5000 | EPT_WB | 0x1);
	CHECK_EQ(sim_tlb_stale(&tlb, NULL), 1);
	sim_tlb_inv_tag(&tlb, eptp + 4096);
	CHECK_EQ(sim_tlb_stale(&tlb, NULL), 1);
	sim_tlb_inv_tag(&tlb, eptp);
	CHECK_EQ(sim_tlb_stale(&tlb, NULL), 0);
	sim_tlb_destroy(&tlb);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "ref_model");
	RUN_TEST(ept_4k_page);
	RUN_TEST(ept_2m_block);
	RUN_TEST(ept_1g_block);
	RUN_TEST(ept_perms_anded);
	RUN_TEST(ept_not_present_each_level);
	RUN_TEST(ept_misconfig_write_no_read);
	RUN_TEST(ept_misconfig_xonly);
	RUN_TEST(ept_misconfig_memtype);
	RUN_TEST(ept_misconfig_large_pml4);
	RUN_TEST(ept_misconfig_addr_bits);
	RUN_TEST(ept_misconfig_block_rsvd);
	RUN_TEST(ept_ve_vs_exit);
	RUN_TEST(ept_eptp_checks);
	RUN_TEST(s2_start_levels);
	RUN_TEST(s2_concatenated_root);
	RUN_TEST(s2_page_and_blocks);
	RUN_TEST(s2_block_not_at_level0_or_3);
	RUN_TEST(s2_access_flag);
	RUN_TEST(s2_s2ap);
	RUN_TEST(s2_xn);
	RUN_TEST(s2_memattr_normal);
	RUN_TEST(s2_memattr_fwb);
	RUN_TEST(s2_address_size);
	RUN_TEST(s2_bad_config);
	RUN_TEST(tlb_stale_leaf_until_invalidated);
	RUN_TEST(tlb_walk_cache_survives_other_range);
	RUN_TEST(tlb_freed_table_is_stale);
	RUN_TEST(tlb_narrowed_perms_stale_widened_not);
	RUN_TEST(tlb_block_split_then_changed);
	RUN_TEST(tlb_ttl_hint_wrong_level_keeps_entry);
	RUN_TEST(tlb_capacity_and_lookup);
	RUN_TEST(tlb_ept_single_context);
	free(arena);
	return test_done();
}
