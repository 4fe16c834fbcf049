// SPDX-License-Identifier: MIT
/*
 * The four operations the core's mirror tables call (KVM's
 * link_external_spt, set_external_spte, remove_external_spte and
 * free_external_spt; docs/secure-module.md, "The core's four operations"),
 * plus the teardown helpers. Each is a short sequence of module calls with
 * KVM's policy for refusals:
 *  - A recoverable refusal (class 0x8..., e.g. OPERAND_BUSY, a vCPU still
 *    in guest mode) is -EBUSY; while installing nothing changed, nothing changed; the core puts
 *    its frozen mirror entry back and retries the fault.
 *  - BUSY (or a vCPU still in the old epoch) while zapping: kick every vCPU
 *    out of guest mode and retry once (tdx_sept_remove_private_spte).
 *  - Anything else: -EIO; the VM must stop. If the module may still hold the
 *    page, res->leak is set and the page must never return to the page
 *    allocator (seed 000: "intentionally leak the page").
 */
#include <lib/bug.h>
#include <lib/errno.h>

#include "sm_internal.h"

static int refuse(struct sm_reflect_result *res, enum sm_leaf leaf,
		  sm_status_t s, bool leak)
{
	res->status = s;
	res->leaf = leaf;
	res->leak = leak;
	/* 0x8...: the recoverable class (busy, vCPU still associated). */
	return (s >> 62) == 2 ? -EBUSY : -EIO;
}

static void result_init(struct sm_reflect_result *res)
{
	res->status = SM_SUCCESS;
	res->leaf = SM_NR_LEAVES;
	res->leak = false;
}

static void kick_all(const struct sm_kick *kick)
{
	if (kick && kick->kick) {
		kick->kick(kick->arg);
	}
}

static bool retry_after_kick(sm_status_t s)
{
	return sm_status_code(s) == SM_OPERAND_BUSY ||
	       sm_status_code(s) == SM_PREVIOUS_TLB_EPOCH_BUSY ||
	       sm_status_code(s) == SM_TLB_TRACKING_NOT_DONE;
}

int sm_link_table(paddr_t tdr, gpa_t gpa, unsigned int level,
		  paddr_t table, struct sm_reflect_result *res)
{
	sm_status_t s;

	result_init(res);
	s = sm_sept_add(tdr, gpa, level, table, NULL);
	/* A refused SEPT.ADD leaves the page NDA: the core may free it. */
	return s ? refuse(res, SM_LEAF_SEPT_ADD, s, false) : 0;
}

int sm_set_leaf(paddr_t tdr, gpa_t gpa, unsigned int level, paddr_t pa,
		struct sm_reflect_result *res)
{
	sm_status_t s;

	result_init(res);
	s = sm_page_aug(tdr, gpa, level, pa, NULL);
	if (sm_status_code(s) == SM_TD_NOT_FINALIZED) {
		/* Build time: the core wrote the contents; add in place. */
		if (level != 0) {
			return refuse(res, SM_LEAF_PAGE_ADD,
				      SM_OPERAND_INVALID | SM_OPERAND_RCX,
				      false);
		}
		s = sm_page_add(tdr, gpa, pa, pa, NULL);
		return s ? refuse(res, SM_LEAF_PAGE_ADD, s, false) : 0;
	}
	return s ? refuse(res, SM_LEAF_PAGE_AUG, s, false) : 0;
}

/* Every page of a removed leaf: RECLAIMED -> NDA. */
static sm_status_t wbinvd_range(paddr_t pa, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		sm_status_t s = sm_page_wbinvd(pa + i * PAGE_SIZE);

		if (s) {
			return s;
		}
	}
	return SM_SUCCESS;
}

int sm_zap_leaf(paddr_t tdr, gpa_t gpa, unsigned int level, paddr_t pa,
		const struct sm_kick *kick, struct sm_reflect_result *res)
{
	struct sm_out out = { 0 };
	sm_status_t s;

	result_init(res);
	s = sm_range_block(tdr, gpa, level, NULL);
	if (sm_status_code(s) == SM_OPERAND_BUSY) {
		kick_all(kick);
		s = sm_range_block(tdr, gpa, level, NULL);
	}
	/* FLUSHED: no vCPU can run any more, REMOVE needs no block. */
	if (sm_status_code(s) != SM_OP_STATE_INCORRECT) {
		if (sm_is_error(s)) {
			return refuse(res, SM_LEAF_RANGE_BLOCK, s, true);
		}
		s = sm_mem_track(tdr);
		if (retry_after_kick(s)) {
			kick_all(kick);
			s = sm_mem_track(tdr);
		}
		if (s) {
			return refuse(res, SM_LEAF_MEM_TRACK, s, true);
		}
		kick_all(kick);
	}
	s = sm_page_remove(tdr, gpa, level, &out);
	if (retry_after_kick(s)) {
		kick_all(kick);
		s = sm_page_remove(tdr, gpa, level, &out);
	}
	if (s) {
		return refuse(res, SM_LEAF_PAGE_REMOVE, s, true);
	}
	if (WARN_ON_ONCE(out.pa != pa)) {
		/* The mirror named another page than the module mapped. */
		return refuse(res, SM_LEAF_PAGE_REMOVE,
			      SM_OPERAND_INVALID | SM_OPERAND_R8, true);
	}
	s = wbinvd_range(pa, sm_level_pages(level));
	return s ? refuse(res, SM_LEAF_PAGE_WBINVD, s, true) : 0;
}

int sm_free_table(paddr_t tdr, gpa_t gpa, unsigned int level, paddr_t table,
		  struct sm_reflect_result *res)
{
	struct sm_td_info info;
	struct sm_out out = { 0 };
	enum sm_leaf leaf = SM_LEAF_SEPT_REMOVE;
	sm_status_t s;

	result_init(res);
	s = sm_td_info(tdr, &info);
	if (s) {
		return refuse(res, SM_LEAF_MNG_RD, s, true);
	}
	if (info.state == SM_TD_TEARDOWN) {
		leaf = SM_LEAF_PAGE_RECLAIM;
		s = sm_page_reclaim(table, &out);
		if (!s && WARN_ON_ONCE(out.type != SM_PT_SEPT)) {
			s = SM_PAGE_METADATA_INCORRECT | SM_OPERAND_RCX;
		}
	} else {
		/* Refused unless FLUSHED: runtime zaps touch leaves only. */
		s = sm_sept_remove(tdr, gpa, level, &out);
		if (!s && WARN_ON_ONCE(out.pa != table)) {
			s = SM_OPERAND_INVALID | SM_OPERAND_R8;
		}
	}
	if (s) {
		return refuse(res, leaf, s, true);
	}
	s = sm_page_wbinvd(table);
	return s ? refuse(res, SM_LEAF_PAGE_WBINVD, s, true) : 0;
}

int sm_release_page(paddr_t page, struct sm_reflect_result *res)
{
	struct sm_out out = { 0 };
	sm_status_t s;

	result_init(res);
	s = sm_page_reclaim(page, &out);
	if (s) {
		return refuse(res, SM_LEAF_PAGE_RECLAIM, s, true);
	}
	s = wbinvd_range(page, (out.level_state & 0xff) ? sm_level_pages(1) : 1);
	return s ? refuse(res, SM_LEAF_PAGE_WBINVD, s, true) : 0;
}

int sm_td_teardown(paddr_t tdr, const paddr_t *tdvpr, unsigned int nr,
		   struct sm_reflect_result *res)
{
	sm_status_t s;

	result_init(res);
	for (unsigned int i = 0; i < nr; i++) {
		s = sm_vp_flush(tdvpr[i]);
		if (s) {
			return refuse(res, SM_LEAF_VP_FLUSH, s, false);
		}
	}
	s = sm_vpflush_done(tdr);
	if (s) {
		return refuse(res, SM_LEAF_VPFLUSHDONE, s, false);
	}
	s = sm_cache_wb(tdr);
	if (s) {
		return refuse(res, SM_LEAF_CACHE_WB, s, false);
	}
	s = sm_key_freeid(tdr);
	return s ? refuse(res, SM_LEAF_KEY_FREEID, s, false) : 0;
}
