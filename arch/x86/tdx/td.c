// SPDX-License-Identifier: MIT
/*
 * A TD's lifecycle in the secure module: creation with its TDR and root
 * S-EPT page, vCPUs, MR.FINALIZE, and the teardown order KVM follows
 * (tdx_mmu_release_hkid, seed 000): VP.FLUSH every vCPU, VPFLUSHDONE,
 * CACHE.WB, KEY.FREEID, then RECLAIM every page, the TDR last, and
 * PHYMEM.PAGE.WBINVD of each before the core may reuse it.
 */
#include <lib/string.h>

#include "sm_internal.h"

static bool td_params_valid(const struct sm_td_params *p)
{
	if (!p || (p->levels != 4 && p->levels != 5)) {
		return false;
	}
	/* TDX allows 48 and 52; 40 is Bochs' MAXPHYADDR (docs). */
	return p->gpaw >= 32 && p->gpaw <= 12 + 9 * p->levels;
}

static void sept_page_init(paddr_t page)
{
	uint64_t *e = sm_pa_va(page);

	for (unsigned int i = 0; i < SM_SEPT_ENTRIES; i++) {
		e[i] = SM_SEPTE_INIT;
	}
}

static sm_status_t td_create(paddr_t tdr, paddr_t root,
			     const struct sm_td_params *p)
{
	struct sm_td *td;
	sm_status_t s;

	if (!td_params_valid(p)) {
		return SM_OPERAND_INVALID | SM_OPERAND_RCX;
	}
	if (tdr == root) {
		return SM_OPERAND_INVALID | SM_OPERAND_R8;
	}
	s = sm_pages_claim(tdr, 1, SM_OPERAND_RDX);
	if (s) {
		return s;
	}
	s = sm_pages_claim(root, 1, SM_OPERAND_R8);
	if (s) {
		sm_pages_unclaim(tdr, 1);
		return s;
	}
	td = sm_pa_va(tdr);
	memset(td, 0, PAGE_SIZE);
	td->magic = SM_TDR_MAGIC;
	td->state = SM_TD_BUILD;
	td->levels = p->levels;
	td->gpaw = p->gpaw;
	td->self = tdr;
	td->root = root;
	td->child_pages = 1;
	sept_page_init(root);
	sm_pages_commit(root, 1, SM_PT_SEPT, tdr, p->levels - 1);
	sm_pages_commit(tdr, 1, SM_PT_TDR, tdr, 0);
	return SM_SUCCESS;
}

sm_status_t sm_td_create(paddr_t tdr, paddr_t root,
			 const struct sm_td_params *p)
{
	return SM_CALL(SM_LEAF_MNG_CREATE, td_create(tdr, root, p));
}

static sm_status_t vp_create_locked(struct sm_td *td, paddr_t tdvpr)
{
	struct sm_vp *vp;
	sm_status_t s;

	s = sm_td_state_error(td, SM_IN(SM_TD_BUILD));
	if (s) {
		return s;
	}
	if (td->nr_vcpus >= SM_MAX_VCPUS) {
		return SM_MAX_VCPUS_EXCEEDED | SM_OPERAND_TDR;
	}
	s = sm_pages_claim(tdvpr, 1, SM_OPERAND_RCX);
	if (s) {
		return s;
	}
	vp = sm_pa_va(tdvpr);
	memset(vp, 0, PAGE_SIZE);
	vp->magic = SM_TDVPR_MAGIC;
	vp->tdr = td->self;
	sm_pages_commit(tdvpr, 1, SM_PT_TDVPR, td->self, 0);
	td->nr_vcpus++;
	td->child_pages++;
	return SM_SUCCESS;
}

static sm_status_t vp_create(paddr_t tdr, paddr_t tdvpr)
{
	struct sm_td *td;
	sm_status_t s = sm_td_acquire(tdr, &td);

	if (s) {
		return s;
	}
	s = vp_create_locked(td, tdvpr);
	sm_td_release(td);
	return s;
}

sm_status_t sm_vp_create(paddr_t tdr, paddr_t tdvpr)
{
	return SM_CALL(SM_LEAF_VP_CREATE, vp_create(tdr, tdvpr));
}

/*
 * The lifecycle steps that only check the TD's state and move it on: one
 * table of (allowed states, extra check, next state) instead of four
 * copies of the same locking.
 */
enum td_step { STEP_FINALIZE, STEP_FLUSHDONE, STEP_CACHE_WB, STEP_FREEID };

static sm_status_t td_step_locked(struct sm_td *td, enum td_step step)
{
	static const uint32_t allowed[] = {
		[STEP_FINALIZE] = SM_IN(SM_TD_BUILD),
		[STEP_FLUSHDONE] = SM_IN(SM_TD_BUILD) | SM_IN(SM_TD_RUNNABLE),
		[STEP_CACHE_WB] = SM_IN(SM_TD_FLUSHED),
		[STEP_FREEID] = SM_IN(SM_TD_FLUSHED),
	};
	sm_status_t s = sm_td_state_error(td, allowed[step]);

	if (s) {
		return s;
	}
	switch (step) {
	case STEP_FINALIZE:
		td->state = SM_TD_RUNNABLE;
		break;
	case STEP_FLUSHDONE:
		if (td->nr_flushed != td->nr_vcpus) {
			return SM_FLUSHVP_NOT_DONE | SM_OPERAND_TDR;
		}
		/* No vCPU enters again: the core's tables leave the root. */
		sm_shared_half_clear(td);
		td->state = SM_TD_FLUSHED;
		break;
	case STEP_CACHE_WB:
		td->cache_wb = true;
		break;
	case STEP_FREEID:
		if (!td->cache_wb) {
			return SM_WBCACHE_NOT_COMPLETE | SM_OPERAND_TDR;
		}
		td->state = SM_TD_TEARDOWN;
		break;
	}
	return SM_SUCCESS;
}

static sm_status_t td_step(paddr_t tdr, enum td_step step)
{
	struct sm_td *td;
	sm_status_t s = sm_td_acquire(tdr, &td);

	if (s) {
		return s;
	}
	s = td_step_locked(td, step);
	sm_td_release(td);
	return s;
}

sm_status_t sm_mr_finalize(paddr_t tdr)
{
	return SM_CALL(SM_LEAF_MR_FINALIZE, td_step(tdr, STEP_FINALIZE));
}

sm_status_t sm_vpflush_done(paddr_t tdr)
{
	return SM_CALL(SM_LEAF_VPFLUSHDONE, td_step(tdr, STEP_FLUSHDONE));
}

sm_status_t sm_cache_wb(paddr_t tdr)
{
	return SM_CALL(SM_LEAF_CACHE_WB, td_step(tdr, STEP_CACHE_WB));
}

sm_status_t sm_key_freeid(paddr_t tdr)
{
	return SM_CALL(SM_LEAF_KEY_FREEID, td_step(tdr, STEP_FREEID));
}

static sm_status_t vp_flush(paddr_t tdvpr)
{
	struct sm_vp *vp;
	struct sm_td *td;
	sm_status_t s = sm_vp_get(tdvpr, &vp);

	if (s) {
		return s;
	}
	s = sm_td_acquire(vp->tdr, &td);
	if (s) {
		return s;
	}
	s = sm_td_state_error(td, SM_IN(SM_TD_BUILD) | SM_IN(SM_TD_RUNNABLE));
	if (!s && vp->entered) {
		s = SM_VCPU_ASSOCIATED | SM_OPERAND_TDVPR;
	}
	if (!s && !vp->flushed) {
		/*
		 * What lets teardown REMOVE without BLOCK/TRACK (sept.c): no
		 * translation of the TD survives its vCPUs' flushes. The
		 * INVEPT is of this CPU: as in TDX, VP.FLUSH belongs on the
		 * CPU the vCPU last ran on.
		 */
		sm_flush_td_tlb(td);
		vp->flushed = true;
		td->nr_flushed++;
	}
	sm_td_release(td);
	return s;
}

sm_status_t sm_vp_flush(paddr_t tdvpr)
{
	return SM_CALL(SM_LEAF_VP_FLUSH, vp_flush(tdvpr));
}

static bool reclaimable_type(unsigned int type)
{
	return type == SM_PT_SEPT || type == SM_PT_REG ||
	       type == SM_PT_TDR || type == SM_PT_TDVPR;
}

static sm_status_t page_reclaim_locked(struct sm_td *td, paddr_t page,
				       struct sm_out *out)
{
	struct sm_pamt_entry *pe = sm_pamt(page);
	uint64_t n = 1;

	if (td->state != SM_TD_TEARDOWN) {
		return SM_HKID_NOT_FREE | SM_OPERAND_TDR;
	}
	if (pe->lock) {
		return SM_OPERAND_BUSY | SM_OPERAND_RCX;
	}
	if (pe->type == SM_PT_TDR) {
		if (td->child_pages != 0) {
			return SM_TD_ASSOCIATED_PAGES_EXIST | SM_OPERAND_TDR;
		}
		td->magic = 0;
	} else {
		if (pe->type == SM_PT_REG) {
			n = sm_level_pages(pe->level);
		}
		td->child_pages -= n;
	}
	if (out) {
		out->type = pe->type;
		out->owner = pe->owner;
		out->level_state = sm_level_state(n > 1 ? 1 : 0, 0);
	}
	sm_pages_retire(page, n);
	return SM_SUCCESS;
}

static sm_status_t page_reclaim(paddr_t page, struct sm_out *out)
{
	struct sm_pamt_entry *pe;
	struct sm_td *td;
	sm_status_t s;

	if (!sm_pa_in_window(page, 1)) {
		return SM_OPERAND_INVALID | SM_OPERAND_RCX;
	}
	pe = sm_pamt(page);
	if (!reclaimable_type(pe->type) || pe->level == SM_PAMT_TAIL) {
		return SM_PAGE_METADATA_INCORRECT | SM_OPERAND_RCX;
	}
	s = sm_td_acquire(pe->owner, &td);
	if (s) {
		return s;
	}
	s = page_reclaim_locked(td, page, out);
	/* A reclaimed TDR is no longer a TD: its lock dies with it. */
	sm_td_release(td);
	return s;
}

sm_status_t sm_page_reclaim(paddr_t page, struct sm_out *out)
{
	return SM_CALL(SM_LEAF_PAGE_RECLAIM, page_reclaim(page, out));
}

static sm_status_t page_wbinvd(paddr_t page)
{
	struct sm_pamt_entry *pe;

	if (!sm_pa_in_window(page, 1)) {
		return SM_OPERAND_INVALID | SM_OPERAND_RCX;
	}
	pe = sm_pamt(page);
	if (pe->type != SM_PT_RECLAIMED) {
		return SM_PAGE_METADATA_INCORRECT | SM_OPERAND_RCX;
	}
	if (__atomic_exchange_n(&pe->lock, 1, __ATOMIC_ACQUIRE)) {
		return SM_OPERAND_BUSY | SM_OPERAND_RCX;
	}
	/* Emulates write-back + the host's MOVDIR64B clear: no TD data
	 * ever reaches the core. */
	memset(sm_pa_va(page), 0, PAGE_SIZE);
	sm_pages_commit(page, 1, SM_PT_NDA, 0, 0);
	return SM_SUCCESS;
}

sm_status_t sm_page_wbinvd(paddr_t page)
{
	return SM_CALL(SM_LEAF_PAGE_WBINVD, page_wbinvd(page));
}

static sm_status_t td_info(paddr_t tdr, struct sm_td_info *info)
{
	struct sm_td *td;
	sm_status_t s;

	if (!info) {
		return SM_OPERAND_INVALID | SM_OPERAND_R8;
	}
	s = sm_td_acquire(tdr, &td);
	if (s) {
		return s;
	}
	info->state = td->state;
	info->epoch = td->epoch;
	info->vcpus_in_epoch[0] = td->refcount[0];
	info->vcpus_in_epoch[1] = td->refcount[1];
	info->nr_vcpus = td->nr_vcpus;
	info->child_pages = td->child_pages;
	info->mrtd = td->mrtd;
	info->tlb_flushes = td->tlb_flushes;
	info->root = td->root;
	info->shared_bit = BIT(td->gpaw - 1);
	info->shared_root = td->shared_root;
	info->shared_installs = td->shared_installs;
	sm_td_release(td);
	return SM_SUCCESS;
}

sm_status_t sm_td_info(paddr_t tdr, struct sm_td_info *info)
{
	return SM_CALL(SM_LEAF_MNG_RD, td_info(tdr, info));
}
