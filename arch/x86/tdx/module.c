// SPDX-License-Identifier: MIT
/*
 * The secure module's frame (docs/secure-module.md): set-up, the bracket
 * every call runs in, the PAMT (one entry per page of the window) and the
 * validation of the handles the core passes. Every check here turns a bad
 * input into a status code; nothing the core passes is trusted.
 */
#include <lib/bug.h>
#include <lib/string.h>

#include "sm_internal.h"

struct sm_module sm;

#if defined(CONFIG_TEST) || defined(HOST_TEST)
/*
 * An injection for any TD fires at the call's start (sm_begin()); one for
 * one TD (@tdr non-zero) when the call names that TD (sm_td_acquire(),
 * before the call changes anything), so another TD's calls are untouched.
 */
static struct {
	sm_status_t status;
	unsigned int count;
	paddr_t tdr;
} inject[SM_NR_LEAVES];
static enum sm_leaf cur_leaf = SM_NR_LEAVES;

void sm_test_inject_td(paddr_t tdr, enum sm_leaf leaf, sm_status_t status,
		       unsigned int count)
{
	if (leaf < SM_NR_LEAVES) {
		inject[leaf].status = status;
		inject[leaf].count = count;
		inject[leaf].tdr = tdr;
	}
}

void sm_test_inject(enum sm_leaf leaf, sm_status_t status,
		    unsigned int count)
{
	sm_test_inject_td(0, leaf, status, count);
}

static sm_status_t injected(enum sm_leaf leaf, paddr_t tdr)
{
	if (inject[leaf].count == 0 || inject[leaf].tdr != tdr) {
		return SM_SUCCESS;
	}
	inject[leaf].count--;
	return inject[leaf].status;
}
#else
static sm_status_t injected(enum sm_leaf leaf, paddr_t tdr)
{
	(void)leaf;
	(void)tdr;
	return SM_SUCCESS;
}
#endif

sm_status_t sm_begin(enum sm_leaf leaf)
{
	sm_window_open();
	sm.stats.calls[leaf]++;
	if (!sm.ready) {
		return SM_SYS_NOT_READY;
	}
#if defined(CONFIG_TEST) || defined(HOST_TEST)
	cur_leaf = leaf;
#endif
	return injected(leaf, 0);
}

sm_status_t sm_end(enum sm_leaf leaf, sm_status_t s)
{
	if (s != SM_SUCCESS) {
		sm.stats.refusals[leaf]++;
	}
#if defined(CONFIG_TEST) || defined(HOST_TEST)
	cur_leaf = SM_NR_LEAVES;
#endif
	sm_window_close();
	return s;
}

bool sm_pa_in_window(paddr_t pa, uint64_t npages)
{
	uint64_t idx;

	if (!IS_ALIGNED(pa, PAGE_SIZE) || pa < sm.base || npages == 0) {
		return false;
	}
	idx = (pa - sm.base) >> PAGE_SHIFT;
	return idx < sm.nr_pages && npages <= sm.nr_pages - idx;
}

void *sm_pa_va(paddr_t pa)
{
	WARN_ON_ONCE(sm_window_depth() == 0);
	return sm.va + (pa - sm.base);
}

struct sm_pamt_entry *sm_pamt(paddr_t pa)
{
	return &sm.pamt[(pa - sm.base) >> PAGE_SHIFT];
}

sm_status_t sm_init(paddr_t pa_base, uint64_t nr_pages, void *va_base,
		    paddr_t pamt_pa)
{
	uint64_t pamt_pages = SM_PAMT_PAGES(nr_pages);

	sm_window_open();
	memset(&sm, 0, sizeof(sm));
	if (!IS_ALIGNED(pa_base, PAGE_SIZE) || nr_pages == 0 ||
	    nr_pages > (1ULL << 40) || !va_base ||
	    !IS_ALIGNED((uintptr_t)va_base, PAGE_SIZE)) {
		sm_window_close();
		return SM_OPERAND_INVALID | SM_OPERAND_RCX;
	}
	sm.base = pa_base;
	sm.nr_pages = nr_pages;
	sm.va = va_base;
	if (!sm_pa_in_window(pamt_pa, pamt_pages)) {
		memset(&sm, 0, sizeof(sm));
		sm_window_close();
		return SM_OPERAND_INVALID | SM_OPERAND_R8;
	}
	sm.pamt = sm_pa_va(pamt_pa);
	memset(sm.pamt, 0, nr_pages * sizeof(*sm.pamt));
	for (uint64_t i = 0; i < pamt_pages; i++) {
		sm_pamt(pamt_pa + i * PAGE_SIZE)->type = SM_PT_PAMT;
	}
	sm_protect(pamt_pa, pamt_pages, true);
#if defined(CONFIG_TEST) || defined(HOST_TEST)
	memset(inject, 0, sizeof(inject));
#endif
	sm.ready = true;
	sm_window_close();
	return SM_SUCCESS;
}

sm_status_t sm_pages_claim(paddr_t pa, uint64_t npages, uint64_t operand)
{
	uint64_t i;

	if (!sm_pa_in_window(pa, npages) ||
	    !IS_ALIGNED(pa, npages * PAGE_SIZE)) {
		return SM_OPERAND_INVALID | operand;
	}
	for (i = 0; i < npages; i++) {
		struct sm_pamt_entry *pe = sm_pamt(pa + i * PAGE_SIZE);

		if (pe->type != SM_PT_NDA) {
			sm_pages_unclaim(pa, i);
			return SM_PAGE_METADATA_INCORRECT | operand;
		}
		if (__atomic_exchange_n(&pe->lock, 1, __ATOMIC_ACQUIRE)) {
			sm_pages_unclaim(pa, i);
			return SM_OPERAND_BUSY | operand;
		}
	}
	return SM_SUCCESS;
}

void sm_pages_unclaim(paddr_t pa, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		__atomic_store_n(&sm_pamt(pa + i * PAGE_SIZE)->lock, 0,
				 __ATOMIC_RELEASE);
	}
}

void sm_pages_commit(paddr_t pa, uint64_t npages, enum sm_page_type type,
		     paddr_t owner, unsigned int level)
{
	for (uint64_t i = 0; i < npages; i++) {
		struct sm_pamt_entry *pe = sm_pamt(pa + i * PAGE_SIZE);

		pe->type = type;
		pe->owner = owner;
		pe->level = i ? SM_PAMT_TAIL : level;
		pe->bepoch = 0;
	}
	sm_protect(pa, npages, type != SM_PT_NDA);
	sm_pages_unclaim(pa, npages);
}

void sm_pages_retire(paddr_t pa, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		struct sm_pamt_entry *pe = sm_pamt(pa + i * PAGE_SIZE);

		pe->type = SM_PT_RECLAIMED;
		pe->level = 0;
	}
}

sm_status_t sm_td_acquire(paddr_t tdr, struct sm_td **tdp)
{
	struct sm_td *td;

	if (!sm_pa_in_window(tdr, 1)) {
		return SM_OPERAND_INVALID | SM_OPERAND_RDX;
	}
	if (sm_pamt(tdr)->type != SM_PT_TDR) {
		return SM_PAGE_METADATA_INCORRECT | SM_OPERAND_RDX;
	}
	td = sm_pa_va(tdr);
	if (WARN_ON_ONCE(td->magic != SM_TDR_MAGIC || td->self != tdr)) {
		return SM_PAGE_METADATA_INCORRECT | SM_OPERAND_RDX;
	}
	if (!sm_trylock(&td->lock)) {
		return SM_OPERAND_BUSY | SM_OPERAND_TDR;
	}
#if defined(CONFIG_TEST) || defined(HOST_TEST)
	if (cur_leaf < SM_NR_LEAVES) {
		sm_status_t s = injected(cur_leaf, tdr);

		if (s) {
			sm_unlock(&td->lock);
			return s;
		}
	}
#endif
	*tdp = td;
	return SM_SUCCESS;
}

void sm_td_release(struct sm_td *td)
{
	sm_unlock(&td->lock);
}

sm_status_t sm_vp_get(paddr_t tdvpr, struct sm_vp **vpp)
{
	struct sm_vp *vp;

	if (!sm_pa_in_window(tdvpr, 1)) {
		return SM_OPERAND_INVALID | SM_OPERAND_TDVPR;
	}
	if (sm_pamt(tdvpr)->type != SM_PT_TDVPR) {
		return SM_PAGE_METADATA_INCORRECT | SM_OPERAND_TDVPR;
	}
	vp = sm_pa_va(tdvpr);
	if (WARN_ON_ONCE(vp->magic != SM_TDVPR_MAGIC)) {
		return SM_PAGE_METADATA_INCORRECT | SM_OPERAND_TDVPR;
	}
	*vpp = vp;
	return SM_SUCCESS;
}

sm_status_t sm_td_state_error(const struct sm_td *td, uint32_t allowed)
{
	if (allowed & SM_IN(td->state)) {
		return SM_SUCCESS;
	}
	if (td->state == SM_TD_BUILD && (allowed & SM_IN(SM_TD_RUNNABLE))) {
		return SM_TD_NOT_FINALIZED | SM_OPERAND_TDR;
	}
	if (td->state == SM_TD_RUNNABLE && (allowed & SM_IN(SM_TD_BUILD))) {
		return SM_TD_FINALIZED | SM_OPERAND_TDR;
	}
	return SM_OP_STATE_INCORRECT | SM_OPERAND_TDR;
}

static sm_status_t page_rdmd(paddr_t page, struct sm_out *out)
{
	struct sm_pamt_entry *pe;

	if (!sm_pa_in_window(page, 1)) {
		return SM_OPERAND_INVALID | SM_OPERAND_RCX;
	}
	pe = sm_pamt(page);
	if (out) {
		out->type = pe->type;
		out->owner = pe->owner;
	}
	return SM_SUCCESS;
}

sm_status_t sm_page_rdmd(paddr_t page, struct sm_out *out)
{
	return SM_CALL(SM_LEAF_PAGE_RDMD, page_rdmd(page, out));
}

static bool page_releasable(paddr_t page)
{
	struct sm_pamt_entry *pe;

	/* A page outside the window was never the module's. */
	if (!sm.ready || page < sm.base ||
	    (page - sm.base) >> PAGE_SHIFT >= sm.nr_pages) {
		return true;
	}
	if (!IS_ALIGNED(page, PAGE_SIZE)) {
		return false;
	}
	pe = sm_pamt(page);
	return pe->type == SM_PT_NDA && pe->lock == 0;
}

bool sm_page_releasable(paddr_t page)
{
	bool r;

	sm_window_open();
	r = page_releasable(page);
	sm_window_close();
	return r;
}

void sm_get_stats(struct sm_stats *st)
{
	*st = sm.stats;
}
