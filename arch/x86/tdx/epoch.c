// SPDX-License-Identifier: MIT
/*
 * TLB tracking in the secure module (docs/secure-module.md, "The epoch
 * rule"). A TD has an epoch; a vCPU entering guest mode is counted in the
 * epoch current at its entry until it exits. RANGE.BLOCK samples the epoch
 * into the page's BEPOCH; MEM.TRACK advances the epoch, and is refused while
 * a vCPU still runs in the epoch before the current one; PAGE.REMOVE of a
 * blocked page is allowed once no vCPU can still hold a translation made
 * before the block: BLOCK -> TRACK -> kick (every vCPU exits) -> REMOVE.
 * The two counters alternate by epoch parity, as in the TDX module.
 */
#include <lib/string.h>

#include "sm_internal.h"

/*
 * The real module's INVEPT of the TD's EPT on this CPU, at VP.ENTER in a
 * new epoch and at VP.FLUSH. Counted in td->tlb_flushes; host tests have
 * no TLB, only the count.
 */
void sm_flush_td_tlb(struct sm_td *td)
{
	td->tlb_flushes++;
#ifndef HOST_TEST
	struct {
		uint64_t eptp;
		uint64_t rsvd;
	} desc = { sm_td_eptp(td->root, td->levels), 0 };

	__asm__ volatile("invept %0, %1"
			 : : "m"(desc), "r"(1ULL) : "cc", "memory");
#else
	(void)td;
#endif
}

bool sm_root_index_shared(const struct sm_td *td, unsigned int i)
{
	uint64_t gpa = (uint64_t)i << (PAGE_SHIFT + 9 * (td->levels - 1));

	/* Inside GPAW, shared bit set (GPAW >= 40 with 4 levels: checked). */
	return gpa < BIT(td->gpaw) && (gpa & BIT(td->gpaw - 1));
}

void sm_shared_half_install(struct sm_td *td)
{
	uint64_t *mine = sm_pa_va(td->root);
	const uint64_t *core = td->shared_root ? sm_pa_va(td->shared_root) :
				NULL;
	bool changed = false;

	for (unsigned int i = 0; i < SM_SEPT_ENTRIES; i++) {
		uint64_t e = SM_SEPTE_INIT;

		if (!sm_root_index_shared(td, i)) {
			continue;
		}
		/* Only the table address and presence: no core bits. */
		if (core && (core[i] & EPT_RWX)) {
			e = (core[i] & EPT_PA_MASK) | EPT_RWX;
		}
		if (mine[i] != e) {
			mine[i] = e;
			changed = true;
		}
	}
	td->shared_installs += changed;
}

void sm_shared_half_clear(struct sm_td *td)
{
	uint64_t *mine = sm_pa_va(td->root);

	td->shared_root = 0;
	for (unsigned int i = 0; i < SM_SEPT_ENTRIES; i++) {
		if (sm_root_index_shared(td, i)) {
			mine[i] = SM_SEPTE_INIT;
		}
	}
}

static sm_status_t set_shared_root(paddr_t tdr, paddr_t root)
{
	struct sm_td *td;
	sm_status_t s = sm_td_acquire(tdr, &td);

	if (s) {
		return s;
	}
	s = sm_td_state_error(td, SM_IN(SM_TD_BUILD) | SM_IN(SM_TD_RUNNABLE));
	/* The root's entries must tell the halves apart (GPAW >= 40). */
	if (!s && td->gpaw - 1 < PAGE_SHIFT + 9 * (td->levels - 1)) {
		s = SM_OPERAND_INVALID | SM_OPERAND_RCX;
	}
	if (!s && root && !sm_pa_in_window(root, 1)) {
		s = SM_OPERAND_INVALID | SM_OPERAND_R8;
	}
	/* The shared half is the core's: never a page the module owns. */
	if (!s && root && (sm_pamt(root)->type != SM_PT_NDA ||
			   sm_pamt(root)->lock)) {
		s = SM_PAGE_METADATA_INCORRECT | SM_OPERAND_R8;
	}
	if (!s) {
		td->shared_root = root;
	}
	sm_td_release(td);
	return s;
}

sm_status_t sm_td_set_shared_root(paddr_t tdr, paddr_t root)
{
	return SM_CALL(SM_LEAF_VP_WR_SHARED, set_shared_root(tdr, root));
}

bool sm_tlb_tracked(const struct sm_td *td, uint64_t bepoch)
{
	if (bepoch + 1 < td->epoch) {
		return true;
	}
	return bepoch + 1 == td->epoch && td->refcount[bepoch & 1] == 0;
}

static sm_status_t mem_track_locked(struct sm_td *td)
{
	sm_status_t s;

	s = sm_td_state_error(td, SM_IN(SM_TD_BUILD) | SM_IN(SM_TD_RUNNABLE));
	if (s) {
		return s;
	}
	if (!sm_trylock(&td->epoch_lock)) {
		return SM_OPERAND_BUSY | SM_OPERAND_TD_EPOCH;
	}
	/* The slot epoch + 1 will use is epoch - 1's: it must be empty. */
	if (td->refcount[(td->epoch + 1) & 1] != 0) {
		s = SM_PREVIOUS_TLB_EPOCH_BUSY | SM_OPERAND_TD_EPOCH;
	} else {
		td->epoch++;
	}
	sm_unlock(&td->epoch_lock);
	return s;
}

static sm_status_t mem_track(paddr_t tdr)
{
	struct sm_td *td;
	sm_status_t s = sm_td_acquire(tdr, &td);

	if (s) {
		return s;
	}
	s = mem_track_locked(td);
	sm_td_release(td);
	return s;
}

sm_status_t sm_mem_track(paddr_t tdr)
{
	return SM_CALL(SM_LEAF_MEM_TRACK, mem_track(tdr));
}

/*
 * Entry and exit take only the epoch lock (TDX takes the TDR shared), so a
 * vCPU entering while the core maps pages makes neither side busy.
 */
static sm_status_t vp_td(paddr_t tdvpr, struct sm_vp **vpp,
			 struct sm_td **tdp)
{
	sm_status_t s = sm_vp_get(tdvpr, vpp);

	if (s) {
		return s;
	}
	/* A TDVPR's owner is a live TDR until the TDVPR is reclaimed. */
	*tdp = sm_pa_va((*vpp)->tdr);
	return SM_SUCCESS;
}

static sm_status_t vp_enter_locked(struct sm_td *td, struct sm_vp *vp)
{
	if (vp->flushed) {
		return SM_VCPU_STATE_INCORRECT | SM_OPERAND_TDVPR;
	}
	if (vp->entered) {
		return SM_VCPU_ASSOCIATED | SM_OPERAND_TDVPR;
	}
	if (vp->ever_entered && vp->epoch != td->epoch) {
		/* INVEPT of the TD's EPT on this CPU, as the real module. */
		sm_flush_td_tlb(td);
	}
	sm_shared_half_install(td);
	vp->ever_entered = true;
	vp->entered = true;
	vp->epoch = td->epoch;
	td->refcount[vp->epoch & 1]++;
	return SM_SUCCESS;
}

static sm_status_t vp_enter(paddr_t tdvpr)
{
	struct sm_vp *vp;
	struct sm_td *td;
	sm_status_t s = vp_td(tdvpr, &vp, &td);

	if (s) {
		return s;
	}
	s = sm_td_state_error(td, SM_IN(SM_TD_RUNNABLE));
	if (s) {
		return s;
	}
	if (!sm_trylock(&td->epoch_lock)) {
		return SM_OPERAND_BUSY | SM_OPERAND_TD_EPOCH;
	}
	s = vp_enter_locked(td, vp);
	sm_unlock(&td->epoch_lock);
	return s;
}

sm_status_t sm_vp_enter(paddr_t tdvpr)
{
	return SM_CALL(SM_LEAF_VP_ENTER, vp_enter(tdvpr));
}

static sm_status_t vp_exit(paddr_t tdvpr)
{
	struct sm_vp *vp;
	struct sm_td *td;
	sm_status_t s = vp_td(tdvpr, &vp, &td);

	if (s) {
		return s;
	}
	if (!vp->entered) {
		return SM_VCPU_NOT_ASSOCIATED | SM_OPERAND_TDVPR;
	}
	if (!sm_trylock(&td->epoch_lock)) {
		return SM_OPERAND_BUSY | SM_OPERAND_TD_EPOCH;
	}
	td->refcount[vp->epoch & 1]--;
	vp->entered = false;
	sm_unlock(&td->epoch_lock);
	return SM_SUCCESS;
}

sm_status_t sm_vp_exit(paddr_t tdvpr)
{
	return SM_CALL(SM_LEAF_VP_EXIT, vp_exit(tdvpr));
}
