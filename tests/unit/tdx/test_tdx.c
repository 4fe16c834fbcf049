// SPDX-License-Identifier: MIT
/*
 * Host tests of the emulated secure module (arch/x86/tdx/), one behaviour
 * per test: every call's success path, every refusal with its code and the
 * window (S-EPT, PAMT, TDR, pages) unchanged after it, the lifecycle, the
 * epoch rule and the teardown order. The four core-facing operations and
 * the randomized sequences are in test_tdx_reflect.c.
 */
#include <string.h>

#include <arch/ept.h>
#include <lib/bug.h>
#include "../tdx/sm_internal.h"
#include "tdx_util.h"

void tdx_reflect_tests(void);

static uint64_t entry_at(paddr_t tdr, gpa_t gpa)
{
	struct sm_out out = { 0 };

	sm_sept_rd(tdr, gpa, &out);
	return out.entry;
}

/* Before sm_init every call is SYS_NOT_READY; a bad window is refused. */
static void init_refuses_bad_window(void)
{
	t_setup();
	CHECK_EQ(sm_init(T_BASE + 1, T_PAGES, t_mem, T_BASE),
		 SM_OPERAND_INVALID | SM_OPERAND_RCX);
	CHECK_EQ(sm_status_code(sm_mem_track(T_BASE)), SM_SYS_NOT_READY);
	CHECK_EQ(sm_init(T_BASE, T_PAGES, t_mem, T_BASE + T_PAGES * PAGE_SIZE),
		 SM_OPERAND_INVALID | SM_OPERAND_R8);
	CHECK_EQ(sm_init(T_BASE, 0, t_mem, T_BASE),
		 SM_OPERAND_INVALID | SM_OPERAND_RCX);
	t_setup();
	CHECK_EQ(t_type(T_BASE), SM_PT_PAMT);
	CHECK_EQ(t_type(T_BASE + SM_PAMT_PAGES(T_PAGES) * PAGE_SIZE), SM_PT_NDA);
	CHECK(!sm_page_releasable(T_BASE));
}

/* MNG.CREATE makes the TDR and the root S-EPT page the TD's. */
static void create_takes_tdr_and_root(void)
{
	struct sm_td_info info;
	paddr_t tdr;

	t_setup();
	tdr = t_td();
	CHECK(tdr);
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.state, SM_TD_BUILD);
	CHECK_EQ(info.child_pages, 1);
	CHECK_EQ(info.shared_bit, BIT(47));
	CHECK_EQ(t_type(tdr), SM_PT_TDR);
	CHECK_EQ(t_type(info.root), SM_PT_SEPT);
	CHECK_EQ(t_owner(info.root), tdr);
	CHECK(!sm_page_releasable(tdr));
	CHECK_EQ(((uint64_t *)t_va(info.root))[7], SM_SEPTE_INIT);
	CHECK_EQ(entry_at(tdr, 0), SM_SEPTE_INIT);
}

/* Bad parameters and pages are refused; no page changes hands. */
static void create_refuses_bad_operands(void)
{
	struct sm_td_params p = { .levels = 3, .gpaw = 48 };
	paddr_t a, b, tdr;

	t_setup();
	a = t_alloc();
	b = t_alloc();
	CHECK_REFUSED(sm_td_create(a, b, &p), SM_OPERAND_INVALID);
	p.levels = 4;
	p.gpaw = 49;
	CHECK_REFUSED(sm_td_create(a, b, &p), SM_OPERAND_INVALID);
	p.gpaw = 48;
	CHECK_REFUSED(sm_td_create(a, b, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_td_create(a, a, &p), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_td_create(a, b + 8, &p), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_td_create(0x1000, b, &p), SM_OPERAND_INVALID);
	tdr = t_td();
	CHECK_REFUSED(sm_td_create(a, tdr, &p), SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_td_create(T_BASE, b, &p), SM_PAGE_METADATA_INCORRECT);
	CHECK_EQ(t_type(a), SM_PT_NDA);
	p.gpaw = 40;	/* Bochs: shared bit 39 */
	CHECK_OK(sm_td_create(a, b, &p));
}

/* SEPT.ADD links a zero-filled (FREE|SVE) table and marks it NL_MAPPED. */
static void sept_add_links_table(void)
{
	struct sm_td_info info;
	paddr_t tdr, t3;
	unsigned int level;

	t_setup();
	tdr = t_td();
	t3 = t_alloc();
	CHECK_OK(sm_sept_add(tdr, 0, 3, t3, NULL));
	CHECK_EQ(t_type(t3), SM_PT_SEPT);
	CHECK_EQ(t_owner(t3), tdr);
	CHECK_EQ(((uint64_t *)t_va(t3))[511], SM_SEPTE_INIT);
	CHECK_EQ(t_state_at(tdr, 0, &level), SM_SEPT_FREE);
	CHECK_EQ(level, 2);
	CHECK(t_tables(tdr, 0));
	CHECK_EQ(t_state_at(tdr, 0, &level), SM_SEPT_FREE);
	CHECK_EQ(level, 0);
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.child_pages, 4);
	CHECK_EQ(entry_at(tdr, 0), SM_SEPTE_INIT);
}

/* A level whose parent is not linked: EPT_WALK_FAILED with where it
 * stopped (level 3, FREE) in the extended error. */
static void sept_add_walk_failed(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, t;

	t_setup();
	tdr = t_td();
	t = t_alloc();
	t_snap();
	CHECK_EQ(sm_sept_add(tdr, 0, 1, t, &out),
		 SM_EPT_WALK_FAILED | SM_OPERAND_RCX);
	CHECK(t_same());
	CHECK_EQ(out.level_state, sm_level_state(3, SM_SEPT_FREE));
	CHECK_EQ(out.entry, SM_SEPTE_INIT);
	CHECK_EQ(t_type(t), SM_PT_NDA);
}

/* SEPT.ADD over a linked entry: EPT_ENTRY_STATE_INCORRECT, NL_MAPPED. */
static void sept_add_entry_state_incorrect(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr;

	t_setup();
	tdr = t_td();
	CHECK_OK(sm_sept_add(tdr, 0, 3, t_alloc(), NULL));
	t_snap();
	CHECK_EQ(sm_sept_add(tdr, 0, 3, t_alloc(), &out),
		 SM_EPT_ENTRY_STATE_INCORRECT | SM_OPERAND_RCX);
	CHECK(t_same());
	CHECK_EQ(out.level_state, sm_level_state(3, SM_SEPT_NL_MAPPED));
}

/* Level 0, the root level, an unaligned or shared GPA, a page outside the
 * window: OPERAND_INVALID. */
static void sept_add_operand_invalid(void)
{
	paddr_t tdr, t;

	t_setup();
	tdr = t_td();
	t = t_alloc();
	CHECK_REFUSED(sm_sept_add(tdr, 0, 0, t, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_add(tdr, 0, 4, t, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_add(tdr, SZ_4K, 3, t, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_add(tdr, BIT(47), 3, t, NULL),
		      SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_add(tdr, 0, 3, 0x2000, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_add(tdr, 0, 3, t + 1, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_add(0x1000, 0, 3, t, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_add(t, 0, 3, t, NULL),
		      SM_PAGE_METADATA_INCORRECT);
}

/* A page another TD owns, or a private guest page, never becomes a table. */
static void sept_add_refuses_owned_page(void)
{
	paddr_t a, b, vp, reg;
	struct sm_td_info ia;

	t_setup();
	a = t_runnable(&vp);
	b = t_td();
	reg = t_alloc();
	CHECK_OK(sm_page_aug(a, 0, 0, reg, NULL));
	CHECK_OK(sm_td_info(a, &ia));
	CHECK_REFUSED(sm_sept_add(b, 0, 3, reg, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_sept_add(b, 0, 3, ia.root, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_sept_add(b, 0, 3, a, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_sept_add(b, 0, 3, vp, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	/* A TD's guest page cannot become its own table either. */
	CHECK_REFUSED(sm_sept_add(a, SZ_1G, 2, reg, NULL),
		      SM_PAGE_METADATA_INCORRECT);
}

/* PAGE.ADD copies the source, maps MAPPED and extends the measurement,
 * which depends on contents and GPA only. */
static void page_add_copies_and_measures(void)
{
	struct sm_td_info i1, i2;
	paddr_t a, b, src, p1, p2;

	t_setup();
	a = t_td();
	b = t_td();
	CHECK(t_tables(a, 0) && t_tables(b, 0));
	src = t_alloc();
	memset(t_va(src), 0x5c, PAGE_SIZE);
	p1 = t_alloc();
	p2 = t_alloc();
	CHECK_OK(sm_page_add(a, SZ_4K, p1, src, NULL));
	CHECK_OK(sm_page_add(b, SZ_4K, p2, src, NULL));
	CHECK(memcmp(t_va(p1), t_va(src), PAGE_SIZE) == 0);
	CHECK_EQ(t_state_at(a, SZ_4K, NULL), SM_SEPT_MAPPED);
	CHECK_EQ(entry_at(a, SZ_4K) & (EPT_PA_MASK | EPT_RWX), p1 | EPT_RWX);
	CHECK_EQ(t_type(p1), SM_PT_REG);
	CHECK_OK(sm_td_info(a, &i1));
	CHECK_OK(sm_td_info(b, &i2));
	CHECK(i1.mrtd != 0);
	CHECK_EQ(i1.mrtd, i2.mrtd);
	((uint8_t *)t_va(src))[9] ^= 1;
	CHECK_OK(sm_page_add(a, 2 * SZ_4K, t_alloc(), src, NULL));
	CHECK_OK(sm_page_add(b, 2 * SZ_4K, t_alloc(), t_alloc(), NULL));
	CHECK_OK(sm_td_info(a, &i1));
	CHECK_OK(sm_td_info(b, &i2));
	CHECK(i1.mrtd != i2.mrtd);
	/* In place: source == target keeps the contents. */
	p1 = t_alloc();
	memset(t_va(p1), 0x33, PAGE_SIZE);
	CHECK_OK(sm_page_add(a, 3 * SZ_4K, p1, p1, NULL));
	CHECK_EQ(((uint8_t *)t_va(p1))[100], 0x33);
}

/* PAGE.ADD after MR.FINALIZE: TD_FINALIZED. */
static void page_add_after_finalize_refused(void)
{
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	CHECK_REFUSED(sm_page_add(tdr, 0, t_alloc(), t_alloc(), NULL),
		      SM_TD_FINALIZED);
	CHECK_REFUSED(sm_mr_finalize(tdr), SM_TD_FINALIZED);
	CHECK_REFUSED(sm_vp_create(tdr, t_alloc()), SM_TD_FINALIZED);
}

/* The source of PAGE.ADD may not be another TD's private page. */
static void page_add_refuses_private_source(void)
{
	struct sm_td_info ia;
	paddr_t a, b, p;

	t_setup();
	a = t_td();
	b = t_td();
	CHECK(t_tables(a, 0) && t_tables(b, 0));
	p = t_alloc();
	CHECK_OK(sm_page_add(a, 0, p, p, NULL));
	CHECK_OK(sm_td_info(a, &ia));
	CHECK_REFUSED(sm_page_add(b, 0, t_alloc(), p, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_page_add(b, 0, t_alloc(), ia.root, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_page_add(b, 0, t_alloc(), 0x3000, NULL),
		      SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_page_add(b, 0, p, t_alloc(), NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_page_add(b, 0, t_alloc(), p, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_page_add(b, SZ_2M, t_alloc(), t_alloc(), NULL),
		      SM_EPT_WALK_FAILED);
}

/* PAGE.AUG before MR.FINALIZE: TD_NOT_FINALIZED. */
static void aug_before_finalize_refused(void)
{
	paddr_t tdr, vp;

	t_setup();
	tdr = t_td();
	CHECK(t_tables(tdr, 0));
	CHECK_REFUSED(sm_page_aug(tdr, 0, 0, t_alloc(), NULL),
		      SM_TD_NOT_FINALIZED);
	vp = t_vp(tdr);
	CHECK_REFUSED(sm_vp_enter(vp), SM_TD_NOT_FINALIZED);
}

/* AUG maps PENDING (no access, SUPPRESS_VE clear: #VE); the guest's ACCEPT
 * zeroes it and maps it; a second ACCEPT is a warning. */
static void aug_pending_until_accept(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, vp, p;
	uint64_t e;

	t_setup();
	tdr = t_runnable(&vp);
	p = t_alloc();
	CHECK_OK(sm_page_aug(tdr, SZ_4K, 0, p, NULL));
	e = entry_at(tdr, SZ_4K);
	CHECK_EQ(t_state_at(tdr, SZ_4K, NULL), SM_SEPT_PENDING);
	CHECK_EQ(e & (EPT_RWX | EPT_SUPPRESS_VE), 0);
	CHECK_EQ(t_owner(p), tdr);
	CHECK_REFUSED(sm_guest_accept(vp, SZ_4K, 0, NULL),
		      SM_VCPU_NOT_ASSOCIATED);
	CHECK_OK(sm_vp_enter(vp));
	CHECK_OK(sm_guest_accept(vp, SZ_4K, 0, NULL));
	CHECK_EQ(t_state_at(tdr, SZ_4K, NULL), SM_SEPT_MAPPED);
	CHECK_EQ(((uint8_t *)t_va(p))[17], 0);
	CHECK_EQ(entry_at(tdr, SZ_4K) & EPT_RWX, EPT_RWX);
	t_snap();
	CHECK_EQ(sm_guest_accept(vp, SZ_4K, 0, &out),
		 SM_PAGE_ALREADY_ACCEPTED | SM_OPERAND_RCX);
	CHECK(!sm_is_error(SM_PAGE_ALREADY_ACCEPTED));
	CHECK(t_same());
	CHECK_REFUSED(sm_guest_accept(vp, 2 * SZ_4K, 0, NULL),
		      SM_EPT_ENTRY_STATE_INCORRECT);
	CHECK_REFUSED(sm_guest_accept(tdr, SZ_4K, 0, NULL),
		      SM_PAGE_METADATA_INCORRECT);
}

/* AUG at 2M takes the 512 pages of an aligned block (the core stays 4K,
 * the module accepts what the real one does). */
static void aug_2m_takes_block(void)
{
	struct sm_td_info info;
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	CHECK_REFUSED(sm_page_aug(tdr, SZ_1G, 1, T_BLOCK2M, NULL),
		      SM_EPT_WALK_FAILED);
	CHECK_REFUSED(sm_page_aug(tdr, SZ_2M, 1, T_BLOCK2M + SZ_4K, NULL),
		      SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_page_aug(tdr, 0, 1, T_BLOCK2M, NULL),
		      SM_EPT_ENTRY_STATE_INCORRECT);	/* a table is there */
	CHECK_REFUSED(sm_page_aug(tdr, SZ_2M, 2, T_BLOCK2M, NULL),
		      SM_OPERAND_INVALID);
	CHECK_OK(sm_page_aug(tdr, SZ_2M, 1, T_BLOCK2M, NULL));
	CHECK_EQ(t_type(T_BLOCK2M + 511 * PAGE_SIZE), SM_PT_REG);
	CHECK_EQ(t_owner(T_BLOCK2M + 100 * PAGE_SIZE), tdr);
	CHECK_EQ(entry_at(tdr, SZ_2M) & EPT_LARGE, EPT_LARGE);
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.child_pages, 1 + 3 + 1 + 512);
	/* Blocked, tracked, removed as one 2M leaf. */
	CHECK_OK(sm_range_block(tdr, SZ_2M, 1, NULL));
	CHECK_OK(sm_mem_track(tdr));
	CHECK_REFUSED(sm_page_remove(tdr, SZ_2M, 0, NULL), SM_EPT_WALK_FAILED);
	CHECK_OK(sm_page_remove(tdr, SZ_2M, 1, NULL));
	CHECK_EQ(t_type(T_BLOCK2M + 511 * PAGE_SIZE), SM_PT_RECLAIMED);
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.child_pages, 1 + 3 + 1);
}

/* AUG over a mapped entry, or with a page already in use. */
static void aug_refusals(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, vp, p;

	t_setup();
	tdr = t_runnable(&vp);
	p = t_alloc();
	CHECK_OK(sm_page_aug(tdr, 0, 0, p, NULL));
	t_snap();
	CHECK_EQ(sm_page_aug(tdr, 0, 0, t_alloc(), &out),
		 SM_EPT_ENTRY_STATE_INCORRECT | SM_OPERAND_RCX);
	CHECK(t_same());
	CHECK_EQ(out.level_state, sm_level_state(0, SM_SEPT_PENDING));
	CHECK_REFUSED(sm_page_aug(tdr, SZ_4K, 0, p, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_page_aug(tdr, SZ_4K, 3, p, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_page_aug(tdr, SZ_4K + 8, 0, t_alloc(), NULL),
		      SM_OPERAND_INVALID);
}

/* BLOCK: MAPPED->BLOCKED, PENDING->PENDING_BLOCKED, NL_MAPPED->NL_BLOCKED,
 * access removed; again is ALREADY_BLOCKED (a warning); FREE refused. */
static void block_transitions(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, vp, p;

	t_setup();
	tdr = t_td();
	vp = t_vp(tdr);
	CHECK(t_tables(tdr, 0) && vp);
	p = t_alloc();
	CHECK_OK(sm_page_add(tdr, 0, p, p, NULL));
	CHECK_OK(sm_mr_finalize(tdr));
	CHECK_OK(sm_page_aug(tdr, SZ_4K, 0, t_alloc(), NULL));
	CHECK_OK(sm_range_block(tdr, 0, 0, NULL));
	CHECK_EQ(t_state_at(tdr, 0, NULL), SM_SEPT_BLOCKED);
	CHECK_EQ(entry_at(tdr, 0) & EPT_RWX, 0);
	CHECK_OK(sm_range_block(tdr, SZ_4K, 0, NULL));
	CHECK_EQ(t_state_at(tdr, SZ_4K, NULL), SM_SEPT_PENDING_BLOCKED);
	t_snap();
	CHECK_EQ(sm_range_block(tdr, 0, 0, &out),
		 SM_GPA_RANGE_ALREADY_BLOCKED | SM_OPERAND_RCX);
	CHECK(!sm_is_error(SM_GPA_RANGE_ALREADY_BLOCKED));
	CHECK(t_same());
	CHECK_REFUSED(sm_range_block(tdr, 2 * SZ_4K, 0, NULL),
		      SM_EPT_ENTRY_STATE_INCORRECT);
	CHECK_REFUSED(sm_range_block(tdr, SZ_2M, 0, NULL), SM_EPT_WALK_FAILED);
	CHECK_OK(sm_range_block(tdr, 0, 1, NULL));
	CHECK_EQ(entry_at(tdr, 0) & EPT_RWX, 0);
	t_snap();
	CHECK_EQ(sm_range_block(tdr, 0, 0, &out),
		 SM_EPT_WALK_FAILED | SM_OPERAND_RCX);
	CHECK(t_same());
	CHECK_EQ(out.level_state, sm_level_state(1, SM_SEPT_NL_BLOCKED));
	CHECK_REFUSED(sm_range_block(tdr, 0, 4, NULL), SM_OPERAND_INVALID);
}

/* REMOVE of a mapped page that was not blocked: GPA_RANGE_NOT_BLOCKED. */
static void remove_not_blocked(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	CHECK_OK(sm_page_aug(tdr, 0, 0, t_alloc(), NULL));
	t_snap();
	CHECK_EQ(sm_page_remove(tdr, 0, 0, &out),
		 SM_GPA_RANGE_NOT_BLOCKED | SM_OPERAND_RCX);
	CHECK(t_same());
	CHECK_EQ(out.level_state, sm_level_state(0, SM_SEPT_PENDING));
}

/* REMOVE after BLOCK but before TRACK: TLB_TRACKING_NOT_DONE. */
static void remove_before_track(void)
{
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	CHECK_OK(sm_page_aug(tdr, 0, 0, t_alloc(), NULL));
	CHECK_OK(sm_range_block(tdr, 0, 0, NULL));
	CHECK_REFUSED(sm_page_remove(tdr, 0, 0, NULL),
		      SM_TLB_TRACKING_NOT_DONE);
	CHECK_OK(sm_mem_track(tdr));
	CHECK_OK(sm_page_remove(tdr, 0, 0, NULL));
}

/* The epoch rule: a vCPU that entered before the TRACK keeps REMOVE
 * refused until it exits; then REMOVE succeeds. */
static void remove_waits_for_vcpu_exit(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, vp, p;

	t_setup();
	tdr = t_runnable(&vp);
	p = t_alloc();
	CHECK_OK(sm_page_aug(tdr, 0, 0, p, NULL));
	CHECK_OK(sm_vp_enter(vp));
	CHECK_OK(sm_range_block(tdr, 0, 0, NULL));
	CHECK_OK(sm_mem_track(tdr));
	CHECK_REFUSED(sm_page_remove(tdr, 0, 0, NULL),
		      SM_TLB_TRACKING_NOT_DONE);
	CHECK_OK(sm_vp_exit(vp));
	CHECK_OK(sm_page_remove(tdr, 0, 0, &out));
	CHECK_EQ(out.pa, p);
	CHECK_EQ(t_state_at(tdr, 0, NULL), SM_SEPT_FREE);
}

/* ... or re-enters: it then runs in the new epoch, with its TLB flushed. */
static void remove_allowed_after_reentry(void)
{
	struct sm_td_info info;
	paddr_t tdr, vp, vp2;

	t_setup();
	tdr = t_td();
	vp = t_vp(tdr);
	vp2 = t_vp(tdr);
	CHECK(t_tables(tdr, 0));
	CHECK_OK(sm_mr_finalize(tdr));
	CHECK_OK(sm_page_aug(tdr, 0, 0, t_alloc(), NULL));
	CHECK_OK(sm_vp_enter(vp));
	CHECK_OK(sm_vp_enter(vp2));
	CHECK_OK(sm_range_block(tdr, 0, 0, NULL));
	CHECK_OK(sm_mem_track(tdr));
	CHECK_OK(sm_vp_exit(vp));
	CHECK_OK(sm_vp_enter(vp));
	CHECK_REFUSED(sm_page_remove(tdr, 0, 0, NULL),
		      SM_TLB_TRACKING_NOT_DONE);	/* vp2 still old */
	CHECK_OK(sm_vp_exit(vp2));
	CHECK_OK(sm_vp_enter(vp2));
	CHECK_OK(sm_page_remove(tdr, 0, 0, NULL));
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.tlb_flushes, 2);
	CHECK_EQ(info.vcpus_in_epoch[1], 2);
	CHECK_EQ(info.vcpus_in_epoch[0], 0);
}

/* TRACK is refused while a vCPU still runs in the previous epoch. */
static void track_refused_while_previous_epoch_runs(void)
{
	struct sm_td_info info;
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	CHECK_OK(sm_vp_enter(vp));
	CHECK_OK(sm_mem_track(tdr));
	CHECK_REFUSED(sm_mem_track(tdr), SM_PREVIOUS_TLB_EPOCH_BUSY);
	CHECK_OK(sm_vp_exit(vp));
	CHECK_OK(sm_mem_track(tdr));
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.epoch, 2);
}

/* REMOVE of a table entry or a free entry: EPT_ENTRY_STATE_INCORRECT. */
static void remove_refuses_non_leaf(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	t_snap();
	CHECK_EQ(sm_page_remove(tdr, 0, 1, &out),
		 SM_EPT_ENTRY_STATE_INCORRECT | SM_OPERAND_RCX);
	CHECK(t_same());
	CHECK_EQ(out.level_state, sm_level_state(1, SM_SEPT_NL_MAPPED));
	CHECK_REFUSED(sm_page_remove(tdr, 0, 0, NULL),
		      SM_EPT_ENTRY_STATE_INCORRECT);
	CHECK_REFUSED(sm_page_remove(tdr, SZ_1G, 0, NULL), SM_EPT_WALK_FAILED);
	CHECK_REFUSED(sm_page_remove(tdr, 0, 3, NULL), SM_OPERAND_INVALID);
}

/* A removed page is RECLAIMED: not releasable, not reusable, until
 * WBINVD scrubs it back to NDA. */
static void removed_page_needs_wbinvd(void)
{
	paddr_t tdr, p;

	t_setup();
	tdr = t_td();
	CHECK(t_tables(tdr, 0));
	p = t_alloc();
	memset(t_va(p), 0x77, PAGE_SIZE);
	CHECK_OK(sm_page_add(tdr, 0, p, p, NULL));
	CHECK_OK(sm_page_remove(tdr, 0, 0, NULL));	/* build: no block */
	CHECK_EQ(t_type(p), SM_PT_RECLAIMED);
	CHECK(!sm_page_releasable(p));
	CHECK_REFUSED(sm_page_add(tdr, 0, p, p, NULL),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_OK(sm_page_wbinvd(p));
	CHECK_EQ(t_type(p), SM_PT_NDA);
	CHECK(sm_page_releasable(p));
	CHECK_EQ(((uint8_t *)t_va(p))[5], 0);
	CHECK_REFUSED(sm_page_wbinvd(p), SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_page_wbinvd(tdr), SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_page_wbinvd(p + 4), SM_OPERAND_INVALID);
}

/* SEPT.REMOVE: refused before teardown; in teardown only for an empty
 * table (EPT_ENTRY_NOT_FREE names the first busy entry). */
static void sept_remove_teardown_only_and_empty(void)
{
	struct sm_out out = { 0 };
	paddr_t tdr, vp, p, t1;

	t_setup();
	tdr = t_runnable(&vp);
	p = t_alloc();
	CHECK_OK(sm_page_aug(tdr, 5 * SZ_4K, 0, p, NULL));
	CHECK_REFUSED(sm_sept_remove(tdr, 0, 1, NULL), SM_OP_STATE_INCORRECT);
	CHECK_OK(sm_vp_flush(vp));
	CHECK_OK(sm_vpflush_done(tdr));
	t_snap();
	CHECK_EQ(sm_sept_remove(tdr, 0, 1, &out),
		 SM_EPT_ENTRY_NOT_FREE | SM_OPERAND_RCX);
	CHECK(t_same());
	CHECK_EQ(out.level_state, sm_level_state(0, SM_SEPT_PENDING));
	CHECK_REFUSED(sm_sept_remove(tdr, 0, 0, NULL), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_sept_remove(tdr, SZ_1G, 1, NULL), SM_EPT_WALK_FAILED);
	CHECK_REFUSED(sm_sept_remove(tdr, 5 * SZ_4K, 1, NULL),
		      SM_OPERAND_INVALID);
	/* Flushed: no vCPU runs, REMOVE needs no block. */
	CHECK_OK(sm_page_remove(tdr, 5 * SZ_4K, 0, NULL));
	CHECK_REFUSED(sm_sept_remove(tdr, 0, 2, NULL), SM_EPT_ENTRY_NOT_FREE);
	CHECK_OK(sm_sept_remove(tdr, 0, 1, &out));
	t1 = out.pa;
	CHECK_EQ(t_type(t1), SM_PT_RECLAIMED);
	CHECK_REFUSED(sm_sept_remove(tdr, 0, 1, NULL),
		      SM_EPT_ENTRY_STATE_INCORRECT);
	CHECK_OK(sm_sept_remove(tdr, 0, 2, NULL));
	CHECK_OK(sm_sept_remove(tdr, 0, 3, NULL));
}

/* Teardown refuses every step out of order, then reclaims every page. */
static void teardown_order(void)
{
	struct sm_td_info info;
	uint64_t flushes;
	struct sm_out out = { 0 };
	paddr_t tdr, vp, p;

	t_setup();
	tdr = t_runnable(&vp);
	p = t_alloc();
	CHECK_OK(sm_page_aug(tdr, 0, 0, p, NULL));
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_REFUSED(sm_cache_wb(tdr), SM_OP_STATE_INCORRECT);
	CHECK_REFUSED(sm_key_freeid(tdr), SM_OP_STATE_INCORRECT);
	CHECK_REFUSED(sm_page_reclaim(p, NULL), SM_HKID_NOT_FREE);
	CHECK_REFUSED(sm_vpflush_done(tdr), SM_FLUSHVP_NOT_DONE);
	CHECK_OK(sm_vp_enter(vp));
	CHECK_REFUSED(sm_vp_flush(vp), SM_VCPU_ASSOCIATED);
	CHECK_OK(sm_vp_exit(vp));
	CHECK_OK(sm_td_info(tdr, &info));
	flushes = info.tlb_flushes;
	CHECK_OK(sm_vp_flush(vp));
	/* VP.FLUSH really flushes the TD's TLB (INVEPT): teardown relies
	 * on it to REMOVE without BLOCK/TRACK. */
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.tlb_flushes, flushes + 1);
	CHECK_OK(sm_vp_flush(vp));
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.tlb_flushes, flushes + 1);
	CHECK_REFUSED(sm_vp_enter(vp), SM_VCPU_STATE_INCORRECT);
	CHECK_OK(sm_vpflush_done(tdr));
	CHECK_REFUSED(sm_vp_enter(vp), SM_OP_STATE_INCORRECT);
	CHECK_REFUSED(sm_page_aug(tdr, SZ_4K, 0, t_alloc(), NULL),
		      SM_OP_STATE_INCORRECT);
	CHECK_REFUSED(sm_mem_track(tdr), SM_OP_STATE_INCORRECT);
	CHECK_REFUSED(sm_key_freeid(tdr), SM_WBCACHE_NOT_COMPLETE);
	CHECK_REFUSED(sm_page_reclaim(p, NULL), SM_HKID_NOT_FREE);
	CHECK_OK(sm_cache_wb(tdr));
	CHECK_OK(sm_key_freeid(tdr));
	CHECK_REFUSED(sm_sept_rd(tdr, 0, NULL), SM_OP_STATE_INCORRECT);
	CHECK_REFUSED(sm_page_reclaim(tdr, NULL),
		      SM_TD_ASSOCIATED_PAGES_EXIST);
	CHECK_OK(sm_page_reclaim(p, &out));
	CHECK_EQ(out.type, SM_PT_REG);
	CHECK_EQ(out.owner, tdr);
	CHECK_REFUSED(sm_page_reclaim(p, NULL), SM_PAGE_METADATA_INCORRECT);
	CHECK_OK(sm_page_reclaim(vp, NULL));
	CHECK_OK(sm_page_reclaim(info.root, NULL));
	for (gpa_t l = 2; l <= 4; l++) {
		/* The three tables t_tables() linked follow the vCPU. */
		CHECK_OK(sm_page_reclaim(info.root + l * PAGE_SIZE, NULL));
	}
	CHECK_OK(sm_page_reclaim(tdr, &out));
	CHECK_EQ(out.type, SM_PT_TDR);
	CHECK_REFUSED(sm_mem_track(tdr), SM_PAGE_METADATA_INCORRECT);
	for (paddr_t pa = tdr; pa <= p; pa += PAGE_SIZE) {
		CHECK_OK(sm_page_wbinvd(pa));
		CHECK(sm_page_releasable(pa));
	}
}

/* vCPU accounting refusals: double entry, exit without entry, too many. */
static void vcpu_refusals(void)
{
	paddr_t tdr, vp;

	t_setup();
	tdr = t_td();
	for (unsigned int i = 0; i < SM_MAX_VCPUS; i++) {
		CHECK(t_vp(tdr));
	}
	CHECK_REFUSED(sm_vp_create(tdr, t_alloc()), SM_MAX_VCPUS_EXCEEDED);
	tdr = t_runnable(&vp);
	CHECK_REFUSED(sm_vp_exit(vp), SM_VCPU_NOT_ASSOCIATED);
	CHECK_OK(sm_vp_enter(vp));
	CHECK_REFUSED(sm_vp_enter(vp), SM_VCPU_ASSOCIATED);
	CHECK_REFUSED(sm_vp_enter(tdr), SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_vp_enter(0), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_vp_create(tdr, vp), SM_TD_FINALIZED);
}

/* Contention on the TD, its epoch or a page is OPERAND_BUSY with the
 * operand named, nothing changed (the real try-locks, held by hand). */
static void busy_on_contention(void)
{
	struct sm_td *td;
	paddr_t tdr, vp, p;

	t_setup();
	tdr = t_runnable(&vp);
	td = t_va(tdr);
	p = t_alloc();
	td->lock = 1;
	t_snap();
	CHECK_EQ(sm_page_aug(tdr, 0, 0, p, NULL),
		 SM_OPERAND_BUSY | SM_OPERAND_TDR);
	CHECK(t_same());
	td->lock = 0;
	td->epoch_lock = 1;
	t_snap();
	CHECK_EQ(sm_mem_track(tdr), SM_OPERAND_BUSY | SM_OPERAND_TD_EPOCH);
	CHECK_EQ(sm_vp_enter(vp), SM_OPERAND_BUSY | SM_OPERAND_TD_EPOCH);
	CHECK(t_same());
	td->epoch_lock = 0;
	((struct sm_pamt_entry *)t_va(T_BASE))[(p - T_BASE) >> 12].lock = 1;
	t_snap();
	CHECK_EQ(sm_page_aug(tdr, 0, 0, p, NULL),
		 SM_OPERAND_BUSY | SM_OPERAND_R8);
	CHECK(t_same());
	((struct sm_pamt_entry *)t_va(T_BASE))[(p - T_BASE) >> 12].lock = 0;
	CHECK_OK(sm_page_aug(tdr, 0, 0, p, NULL));
	/* Injection (for the core's retry tests) refuses with nothing done. */
	sm_test_inject(SM_LEAF_MEM_TRACK, SM_OPERAND_BUSY | SM_OPERAND_TD_EPOCH,
		       1);
	CHECK_REFUSED(sm_mem_track(tdr), SM_OPERAND_BUSY);
	CHECK_OK(sm_mem_track(tdr));
}

/* Garbage from the core never crashes the module nor changes anything. */
static void garbage_inputs_refused(void)
{
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	for (unsigned int i = 0; i < 3000; i++) {
		paddr_t h = test_rand() & 3 ? T_BASE + (test_rand() % (T_PAGES + 8)) *
			PAGE_SIZE + (test_rand() & 1 ? 0 : test_rand() % 4096) :
			test_rand();
		gpa_t g = test_rand() & 1 ? test_rand() : test_rand() & GENMASK(40, 12);
		unsigned int l = (unsigned int)(test_rand() % 7);
		struct sm_out out;
		sm_status_t s;

		if (h == tdr || h == vp) {
			continue;
		}
		t_snap();
		switch (i % 8) {
		case 0: s = sm_sept_add(h, g, l, h, &out); break;
		case 1: s = sm_page_aug(h, g, l, h, &out); break;
		case 2: s = sm_range_block(h, g, l, &out); break;
		case 3: s = sm_page_remove(h, g, l, &out); break;
		case 4: s = sm_page_reclaim(h, &out); break;
		case 5: s = sm_vp_enter(h); break;
		case 6: s = sm_page_remove(tdr, g | 1, l, &out); break;
		default: s = sm_guest_accept(h, g, l, &out); break;
		}
		CHECK(sm_is_error(s));
		CHECK(t_same());
		CHECK_EQ(sm_window_depth(), 0);
	}
	CHECK_EQ(warn_count, 0);	/* bad input is not an internal bug */
}

/* Every call is bracketed and counted; refusals are counted apart. */
static void calls_bracketed_and_counted(void)
{
	struct sm_stats st;
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	CHECK_EQ(sm_window_depth(), 0);
	sm_mem_track(tdr);
	sm_mem_track(0);
	sm_get_stats(&st);
	CHECK_EQ(st.calls[SM_LEAF_MEM_TRACK], 2);
	CHECK_EQ(st.refusals[SM_LEAF_MEM_TRACK], 1);
	CHECK_EQ(st.calls[SM_LEAF_SEPT_ADD], 3);
	CHECK_EQ(sm_window_depth(), 0);
}

/*
 * The shared EPT pointer: at VP.ENTER the root's shared-half entries (GPA
 * bit 47 set: entries 256..511) point where the core's root points, with
 * only the address and RWX taken; the private half is never touched;
 * VPFLUSHDONE clears the shared half again.
 */
static void shared_root_installed_at_entry(void)
{
	struct sm_td_info info;
	paddr_t tdr, vp, core, table;
	uint64_t *root, *c, private0;

	t_setup();
	tdr = t_runnable(&vp);
	core = t_alloc();
	table = t_alloc();
	CHECK_OK(sm_td_info(tdr, &info));
	root = t_va(info.root);
	c = t_va(core);
	memset(c, 0, PAGE_SIZE);
	c[0] = t_alloc() | 7;			/* private half: ignored */
	c[256] = table | 7 | (5ULL << 52);	/* the core's count bits */
	c[511] = BIT(63);			/* absent */
	private0 = root[0];
	CHECK_REFUSED(sm_td_set_shared_root(tdr, tdr),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_td_set_shared_root(tdr, info.root),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_REFUSED(sm_td_set_shared_root(tdr, 0x1000), SM_OPERAND_INVALID);
	CHECK_REFUSED(sm_td_set_shared_root(vp, core),
		      SM_PAGE_METADATA_INCORRECT);
	CHECK_OK(sm_td_set_shared_root(tdr, core));
	CHECK_EQ(root[256], SM_SEPTE_INIT);	/* only at entry */
	CHECK_OK(sm_vp_enter(vp));
	CHECK_EQ(root[256], table | 7);
	CHECK_EQ(root[0], private0);
	CHECK_EQ(root[511], SM_SEPTE_INIT);
	CHECK_EQ(root[300], SM_SEPTE_INIT);
	CHECK_OK(sm_vp_exit(vp));
	CHECK_OK(sm_vp_enter(vp));
	CHECK_OK(sm_vp_exit(vp));
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.shared_installs, 1);
	CHECK_EQ(info.shared_root, core);
	CHECK_OK(sm_vp_flush(vp));
	CHECK_OK(sm_vpflush_done(tdr));
	CHECK_EQ(root[256], SM_SEPTE_INIT);
	CHECK_EQ(root[0], private0);
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.shared_root, 0);
	CHECK_REFUSED(sm_td_set_shared_root(tdr, core), SM_OP_STATE_INCORRECT);
}

/* GPAW 40 (Bochs): root entry 1 is the shared half; below 40 no split. */
static void shared_root_gpaw40(void)
{
	struct sm_td_params p = { .levels = 4, .gpaw = 40 };
	struct sm_td_info info;
	paddr_t tdr, root, vp, core, table;
	uint64_t *c;

	t_setup();
	tdr = t_alloc();
	root = t_alloc();
	CHECK_OK(sm_td_create(tdr, root, &p));
	vp = t_vp(tdr);
	CHECK_OK(sm_mr_finalize(tdr));
	core = t_alloc();
	table = t_alloc();
	c = t_va(core);
	memset(c, 0, PAGE_SIZE);
	c[1] = table | 7;
	c[2] = t_alloc() | 7;	/* private half beyond GPAW */
	c[3] = t_alloc() | 7;	/* bit 39, but beyond GPAW */
	CHECK_OK(sm_td_set_shared_root(tdr, core));
	CHECK_OK(sm_vp_enter(vp));
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(info.shared_bit, BIT(39));
	CHECK_EQ(((uint64_t *)t_va(root))[1], table | 7);
	CHECK_EQ(((uint64_t *)t_va(root))[2], SM_SEPTE_INIT);
	CHECK_EQ(((uint64_t *)t_va(root))[3], SM_SEPTE_INIT);
	p.gpaw = 39;
	tdr = t_alloc();
	CHECK_OK(sm_td_create(tdr, t_alloc(), &p));
	CHECK_REFUSED(sm_td_set_shared_root(tdr, core), SM_OPERAND_INVALID);
}

/* An injection for one TD leaves another TD's calls alone. */
static void injection_per_td(void)
{
	paddr_t a, b, vpa, vpb;

	t_setup();
	a = t_runnable(&vpa);
	b = t_runnable(&vpb);
	CHECK_OK(sm_page_aug(a, 0, 0, t_alloc(), NULL));
	CHECK_OK(sm_page_aug(b, 0, 0, t_alloc(), NULL));
	sm_test_inject_td(a, SM_LEAF_RANGE_BLOCK, SM_OPERAND_BUSY, 1);
	CHECK_OK(sm_range_block(b, 0, 0, NULL));
	CHECK_EQ(sm_range_block(a, 0, 0, NULL), SM_OPERAND_BUSY);
	CHECK_OK(sm_range_block(a, 0, 0, NULL));
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "tdx");
	RUN_TEST(init_refuses_bad_window);
	RUN_TEST(create_takes_tdr_and_root);
	RUN_TEST(create_refuses_bad_operands);
	RUN_TEST(sept_add_links_table);
	RUN_TEST(sept_add_walk_failed);
	RUN_TEST(sept_add_entry_state_incorrect);
	RUN_TEST(sept_add_operand_invalid);
	RUN_TEST(sept_add_refuses_owned_page);
	RUN_TEST(page_add_copies_and_measures);
	RUN_TEST(page_add_after_finalize_refused);
	RUN_TEST(page_add_refuses_private_source);
	RUN_TEST(aug_before_finalize_refused);
	RUN_TEST(aug_pending_until_accept);
	RUN_TEST(aug_2m_takes_block);
	RUN_TEST(aug_refusals);
	RUN_TEST(block_transitions);
	RUN_TEST(remove_not_blocked);
	RUN_TEST(remove_before_track);
	RUN_TEST(remove_waits_for_vcpu_exit);
	RUN_TEST(remove_allowed_after_reentry);
	RUN_TEST(track_refused_while_previous_epoch_runs);
	RUN_TEST(remove_refuses_non_leaf);
	RUN_TEST(removed_page_needs_wbinvd);
	RUN_TEST(sept_remove_teardown_only_and_empty);
	RUN_TEST(teardown_order);
	RUN_TEST(injection_per_td);
	RUN_TEST(vcpu_refusals);
	RUN_TEST(busy_on_contention);
	RUN_TEST(garbage_inputs_refused);
	RUN_TEST(calls_bracketed_and_counted);
	RUN_TEST(shared_root_installed_at_entry);
	RUN_TEST(shared_root_gpaw40);
	tdx_reflect_tests();
	return test_done();
}
