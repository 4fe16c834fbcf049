// SPDX-License-Identifier: MIT
/*
 * The private S-EPT of a TD (docs/secure-module.md, "S-EPT entries"). The
 * tables are EPT-format pages the module alone writes; each entry's TDX
 * state sits in its ignored bits 55:52. Every call walks from the root to
 * the entry of the level it names; a table on the way that is not linked is
 * EPT_WALK_FAILED, an entry in a state the call does not allow is
 * EPT_ENTRY_STATE_INCORRECT, and both return the entry and its level and
 * state as TDX does in RCX/RDX.
 */
#include <lib/string.h>

#include "sm_internal.h"

static unsigned int septe_state(uint64_t e)
{
	return (unsigned int)((e & SM_SEPT_STATE_MASK) >> SM_SEPT_STATE_SHIFT);
}

static paddr_t septe_pa(uint64_t e)
{
	return e & EPT_PA_MASK;
}

static bool state_is_leaf(unsigned int st)
{
	return st == SM_SEPT_MAPPED || st == SM_SEPT_BLOCKED ||
	       st == SM_SEPT_PENDING || st == SM_SEPT_PENDING_BLOCKED;
}

static bool state_is_table(unsigned int st)
{
	return st == SM_SEPT_NL_MAPPED || st == SM_SEPT_NL_BLOCKED;
}

static bool state_is_blocked(unsigned int st)
{
	return st == SM_SEPT_BLOCKED || st == SM_SEPT_PENDING_BLOCKED ||
	       st == SM_SEPT_NL_BLOCKED;
}

/*
 * The hardware view of each state: only MAPPED and NL_MAPPED grant access;
 * PENDING is the one not-present entry with SUPPRESS_VE clear, so a guest
 * touching a page it has not accepted takes #VE.
 */
static uint64_t make_septe(paddr_t pa, unsigned int level, unsigned int st)
{
	uint64_t e = pa | ((uint64_t)st << SM_SEPT_STATE_SHIFT);

	if (st == SM_SEPT_FREE) {
		return SM_SEPTE_INIT;
	}
	if (state_is_leaf(st)) {
		e |= EPT_MT_WB << EPT_MT_SHIFT | EPT_IGNORE_PAT;
		if (level > 0) {
			e |= EPT_LARGE;
		}
	}
	if (st == SM_SEPT_MAPPED || st == SM_SEPT_NL_MAPPED) {
		e |= EPT_RWX;
	}
	if (st != SM_SEPT_PENDING) {
		e |= EPT_SUPPRESS_VE;
	}
	return e;
}

static void set_out(struct sm_out *out, uint64_t e, unsigned int level)
{
	if (out) {
		out->entry = e;
		out->level_state = sm_level_state(level, septe_state(e));
	}
}

static sm_status_t entry_error(struct sm_out *out, uint64_t e,
			       unsigned int level)
{
	set_out(out, e, level);
	return SM_EPT_ENTRY_STATE_INCORRECT | SM_OPERAND_RCX;
}

/* A private GPA of @level: aligned, below the shared bit. */
static sm_status_t check_gpa(const struct sm_td *td, gpa_t gpa,
			     unsigned int level, unsigned int min,
			     unsigned int max)
{
	if (level < min || level > max || level >= td->levels ||
	    !IS_ALIGNED(gpa, sm_level_pages(level) * PAGE_SIZE) ||
	    gpa >= BIT(td->gpaw - 1)) {
		return SM_OPERAND_INVALID | SM_OPERAND_RCX;
	}
	return SM_SUCCESS;
}

/*
 * Find the entry of @level for @gpa. Tables on the way must be linked
 * (NL_MAPPED; NL_BLOCKED too when @through_blocked).
 */
static sm_status_t walk(const struct sm_td *td, gpa_t gpa, unsigned int level,
			bool through_blocked, uint64_t **ep, struct sm_out *out)
{
	uint64_t *table = sm_pa_va(td->root);

	for (unsigned int l = td->levels - 1;; l--) {
		uint64_t *e = &table[(gpa >> (PAGE_SHIFT + 9 * l)) & 511];
		unsigned int st = septe_state(*e);

		if (l == level) {
			*ep = e;
			return SM_SUCCESS;
		}
		if (st != SM_SEPT_NL_MAPPED &&
		    !(through_blocked && st == SM_SEPT_NL_BLOCKED)) {
			set_out(out, *e, l);
			return SM_EPT_WALK_FAILED | SM_OPERAND_RCX;
		}
		table = sm_pa_va(septe_pa(*e));
	}
}

/*
 * The common front of the calls that install an entry: TD state, GPA and
 * level, a walk to a FREE entry, then the pages claimed last so a refusal
 * leaves every page as it was.
 */
struct install {
	uint32_t allowed;
	unsigned int min_level, max_level;
	uint64_t npages;
};

static sm_status_t prepare_install(struct sm_td *td, const struct install *in,
				   gpa_t gpa, unsigned int level, paddr_t page,
				   uint64_t **ep, struct sm_out *out)
{
	sm_status_t s = sm_td_state_error(td, in->allowed);

	if (!s) {
		s = check_gpa(td, gpa, level, in->min_level, in->max_level);
	}
	if (!s && !sm_pa_in_window(page, in->npages)) {
		s = SM_OPERAND_INVALID | SM_OPERAND_R8;
	}
	if (!s) {
		s = walk(td, gpa, level, false, ep, out);
	}
	if (!s && septe_state(**ep) != SM_SEPT_FREE) {
		s = entry_error(out, **ep, level);
	}
	if (!s) {
		s = sm_pages_claim(page, in->npages, SM_OPERAND_R8);
	}
	return s;
}

static sm_status_t sept_add_locked(struct sm_td *td, gpa_t gpa,
				   unsigned int level, paddr_t page,
				   struct sm_out *out)
{
	const struct install in = {
		.allowed = SM_IN(SM_TD_BUILD) | SM_IN(SM_TD_RUNNABLE),
		.min_level = 1, .max_level = td->levels - 1, .npages = 1,
	};
	uint64_t *e, *t;
	sm_status_t s = prepare_install(td, &in, gpa, level, page, &e, out);

	if (s) {
		return s;
	}
	t = sm_pa_va(page);
	for (unsigned int i = 0; i < SM_SEPT_ENTRIES; i++) {
		t[i] = SM_SEPTE_INIT;
	}
	sm_pages_commit(page, 1, SM_PT_SEPT, td->self, level - 1);
	td->child_pages++;
	*e = make_septe(page, level, SM_SEPT_NL_MAPPED);
	return SM_SUCCESS;
}

/* FNV-1a over the GPA and the page: a stand-in for MRTD's SHA-384. */
static uint64_t measure(uint64_t h, gpa_t gpa, const uint8_t *p)
{
	for (unsigned int i = 0; i < 8; i++) {
		h = (h ^ ((gpa >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	}
	for (unsigned int i = 0; i < PAGE_SIZE; i++) {
		h = (h ^ p[i]) * 0x100000001b3ULL;
	}
	return h;
}

static sm_status_t page_add_locked(struct sm_td *td, gpa_t gpa, paddr_t page,
				   paddr_t src, struct sm_out *out)
{
	const struct install in = {
		.allowed = SM_IN(SM_TD_BUILD),
		.min_level = 0, .max_level = 0, .npages = 1,
	};
	uint64_t *e;
	sm_status_t s;

	/* The source may be the page itself, never another TD's page. */
	if (!sm_pa_in_window(src, 1)) {
		return SM_OPERAND_INVALID | SM_OPERAND_R9;
	}
	if (sm_pamt(src)->type != SM_PT_NDA) {
		return SM_PAGE_METADATA_INCORRECT | SM_OPERAND_R9;
	}
	s = prepare_install(td, &in, gpa, 0, page, &e, out);
	if (s) {
		return s;
	}
	memmove(sm_pa_va(page), sm_pa_va(src), PAGE_SIZE);
	if (td->mrtd == 0) {
		td->mrtd = 0xcbf29ce484222325ULL;
	}
	td->mrtd = measure(td->mrtd, gpa, sm_pa_va(page));
	sm_pages_commit(page, 1, SM_PT_REG, td->self, 0);
	td->child_pages++;
	*e = make_septe(page, 0, SM_SEPT_MAPPED);
	return SM_SUCCESS;
}

static sm_status_t page_aug_locked(struct sm_td *td, gpa_t gpa,
				   unsigned int level, paddr_t page,
				   struct sm_out *out)
{
	const struct install in = {
		.allowed = SM_IN(SM_TD_RUNNABLE),
		.min_level = 0, .max_level = 1,
		.npages = level <= 1 ? sm_level_pages(level) : 1,
	};
	uint64_t *e;
	sm_status_t s = prepare_install(td, &in, gpa, level, page, &e, out);

	if (s) {
		return s;
	}
	sm_pages_commit(page, in.npages, SM_PT_REG, td->self, level);
	td->child_pages += in.npages;
	*e = make_septe(page, level, SM_SEPT_PENDING);
	return SM_SUCCESS;
}

static sm_status_t range_block_locked(struct sm_td *td, gpa_t gpa,
				      unsigned int level, struct sm_out *out)
{
	uint64_t *e;
	unsigned int st, next;
	sm_status_t s;

	s = sm_td_state_error(td, SM_IN(SM_TD_BUILD) | SM_IN(SM_TD_RUNNABLE));
	if (!s) {
		s = check_gpa(td, gpa, level, 0, td->levels - 1);
	}
	if (!s) {
		s = walk(td, gpa, level, false, &e, out);
	}
	if (s) {
		return s;
	}
	st = septe_state(*e);
	if (state_is_blocked(st)) {
		set_out(out, *e, level);
		return SM_GPA_RANGE_ALREADY_BLOCKED | SM_OPERAND_RCX;
	}
	if (st == SM_SEPT_MAPPED) {
		next = SM_SEPT_BLOCKED;
	} else if (st == SM_SEPT_PENDING) {
		next = SM_SEPT_PENDING_BLOCKED;
	} else if (st == SM_SEPT_NL_MAPPED) {
		next = SM_SEPT_NL_BLOCKED;
	} else {
		return entry_error(out, *e, level);
	}
	*e = make_septe(septe_pa(*e), level, next);
	/* Sampled after the block: a vCPU entering later cannot cache it. */
	sm_pamt(septe_pa(*e))->bepoch = td->epoch;
	return SM_SUCCESS;
}

static sm_status_t page_remove_locked(struct sm_td *td, gpa_t gpa,
				      unsigned int level, struct sm_out *out)
{
	uint64_t *e;
	unsigned int st;
	paddr_t pa;
	sm_status_t s;

	s = sm_td_state_error(td, SM_IN(SM_TD_BUILD) | SM_IN(SM_TD_RUNNABLE) |
				  SM_IN(SM_TD_FLUSHED));
	if (!s) {
		s = check_gpa(td, gpa, level, 0, 2);
	}
	if (!s) {
		s = walk(td, gpa, level, true, &e, out);
	}
	if (s) {
		return s;
	}
	st = septe_state(*e);
	pa = septe_pa(*e);
	if (!state_is_leaf(st)) {
		return entry_error(out, *e, level);
	}
	/* Only a TD that may run needs the TLB argument (no vCPU runs in
	 * build; VP.FLUSH flushed every vCPU before FLUSHED). */
	if (td->state == SM_TD_RUNNABLE) {
		if (!state_is_blocked(st)) {
			set_out(out, *e, level);
			return SM_GPA_RANGE_NOT_BLOCKED | SM_OPERAND_RCX;
		}
		if (!sm_tlb_tracked(td, sm_pamt(pa)->bepoch)) {
			set_out(out, *e, level);
			return SM_TLB_TRACKING_NOT_DONE | SM_OPERAND_RCX;
		}
	}
	*e = SM_SEPTE_INIT;
	sm_pages_retire(pa, sm_level_pages(level));
	td->child_pages -= sm_level_pages(level);
	if (out) {
		out->pa = pa;
	}
	return SM_SUCCESS;
}

static sm_status_t sept_remove_locked(struct sm_td *td, gpa_t gpa,
				      unsigned int level, struct sm_out *out)
{
	uint64_t *e, *t;
	paddr_t pa;
	sm_status_t s;

	s = sm_td_state_error(td, SM_IN(SM_TD_FLUSHED));
	if (!s) {
		s = check_gpa(td, gpa, level, 1, td->levels - 1);
	}
	if (!s) {
		s = walk(td, gpa, level, true, &e, out);
	}
	if (s) {
		return s;
	}
	if (!state_is_table(septe_state(*e))) {
		return entry_error(out, *e, level);
	}
	pa = septe_pa(*e);
	t = sm_pa_va(pa);
	for (unsigned int i = 0; i < SM_SEPT_ENTRIES; i++) {
		if (septe_state(t[i]) != SM_SEPT_FREE) {
			set_out(out, t[i], level - 1);
			return SM_EPT_ENTRY_NOT_FREE | SM_OPERAND_RCX;
		}
	}
	*e = SM_SEPTE_INIT;
	sm_pages_retire(pa, 1);
	td->child_pages--;
	if (out) {
		out->pa = pa;
	}
	return SM_SUCCESS;
}

static sm_status_t sept_rd_locked(struct sm_td *td, gpa_t gpa,
				  struct sm_out *out)
{
	uint64_t *table = sm_pa_va(td->root);
	unsigned int l;
	/* After KEY.FREEID the tables may already be reclaimed. */
	sm_status_t s = sm_td_state_error(td, SM_IN(SM_TD_BUILD) |
					  SM_IN(SM_TD_RUNNABLE) |
					  SM_IN(SM_TD_FLUSHED));

	if (!s) {
		s = check_gpa(td, gpa, 0, 0, 0);
	}
	if (s) {
		return s;
	}
	for (l = td->levels - 1;; l--) {
		uint64_t e = table[(gpa >> (PAGE_SHIFT + 9 * l)) & 511];

		if (l == 0 || !state_is_table(septe_state(e))) {
			set_out(out, e, l);
			return SM_SUCCESS;
		}
		table = sm_pa_va(septe_pa(e));
	}
}

/*
 * The calls proper: each validates the TDR, holds the TD's try-lock for the
 * body and runs inside the window bracket (SM_CALL).
 */
#define LOCKED(tdr, body) ({						\
	struct sm_td *td;						\
	sm_status_t __r = sm_td_acquire(tdr, &td);			\
									\
	if (__r == SM_SUCCESS) {					\
		__r = (body);						\
		sm_td_release(td);					\
	}								\
	__r;								\
})

sm_status_t sm_sept_add(paddr_t tdr, gpa_t gpa, unsigned int level,
			paddr_t page, struct sm_out *out)
{
	return SM_CALL(SM_LEAF_SEPT_ADD,
		       LOCKED(tdr, sept_add_locked(td, gpa, level, page, out)));
}

sm_status_t sm_page_add(paddr_t tdr, gpa_t gpa, paddr_t page, paddr_t src,
			struct sm_out *out)
{
	return SM_CALL(SM_LEAF_PAGE_ADD,
		       LOCKED(tdr, page_add_locked(td, gpa, page, src, out)));
}

sm_status_t sm_page_aug(paddr_t tdr, gpa_t gpa, unsigned int level,
			paddr_t page, struct sm_out *out)
{
	return SM_CALL(SM_LEAF_PAGE_AUG,
		       LOCKED(tdr, page_aug_locked(td, gpa, level, page, out)));
}

sm_status_t sm_range_block(paddr_t tdr, gpa_t gpa, unsigned int level,
			   struct sm_out *out)
{
	return SM_CALL(SM_LEAF_RANGE_BLOCK,
		       LOCKED(tdr, range_block_locked(td, gpa, level, out)));
}

sm_status_t sm_page_remove(paddr_t tdr, gpa_t gpa, unsigned int level,
			   struct sm_out *out)
{
	return SM_CALL(SM_LEAF_PAGE_REMOVE,
		       LOCKED(tdr, page_remove_locked(td, gpa, level, out)));
}

sm_status_t sm_sept_remove(paddr_t tdr, gpa_t gpa, unsigned int level,
			   struct sm_out *out)
{
	return SM_CALL(SM_LEAF_SEPT_REMOVE,
		       LOCKED(tdr, sept_remove_locked(td, gpa, level, out)));
}

sm_status_t sm_sept_rd(paddr_t tdr, gpa_t gpa, struct sm_out *out)
{
	return SM_CALL(SM_LEAF_SEPT_RD,
		       LOCKED(tdr, sept_rd_locked(td, gpa, out)));
}

/* TDG.MEM.PAGE.ACCEPT: the guest, in guest mode, accepts a pending page. */
static sm_status_t accept_locked(struct sm_td *td, gpa_t gpa,
				 unsigned int level, struct sm_out *out)
{
	uint64_t *e;
	unsigned int st;
	sm_status_t s = check_gpa(td, gpa, level, 0, 1);

	if (!s) {
		s = walk(td, gpa, level, false, &e, out);
	}
	if (s) {
		return s;
	}
	st = septe_state(*e);
	if (st == SM_SEPT_MAPPED) {
		set_out(out, *e, level);
		return SM_PAGE_ALREADY_ACCEPTED | SM_OPERAND_RCX;
	}
	if (st != SM_SEPT_PENDING) {
		return entry_error(out, *e, level);
	}
	/* ACCEPT initialises the page: the host's old contents never show. */
	for (uint64_t i = 0; i < sm_level_pages(level); i++) {
		memset(sm_pa_va(septe_pa(*e) + i * PAGE_SIZE), 0, PAGE_SIZE);
	}
	*e = make_septe(septe_pa(*e), level, SM_SEPT_MAPPED);
	return SM_SUCCESS;
}

static sm_status_t guest_accept(paddr_t tdvpr, gpa_t gpa, unsigned int level,
				struct sm_out *out)
{
	struct sm_vp *vp;
	sm_status_t s = sm_vp_get(tdvpr, &vp);

	if (s) {
		return s;
	}
	if (!vp->entered) {
		return SM_VCPU_NOT_ASSOCIATED | SM_OPERAND_TDVPR;
	}
	return LOCKED(vp->tdr, accept_locked(td, gpa, level, out));
}

sm_status_t sm_guest_accept(paddr_t tdvpr, gpa_t gpa, unsigned int level,
			    struct sm_out *out)
{
	return SM_CALL(SM_LEAF_PAGE_ACCEPT, guest_accept(tdvpr, gpa, level,
							 out));
}
