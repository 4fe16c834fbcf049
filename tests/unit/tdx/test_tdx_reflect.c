// SPDX-License-Identifier: MIT
/*
 * Host tests of the four operations the core's mirror tables call
 * (arch/x86/tdx/reflect.c): link a table, set a leaf, zap a leaf, free a
 * table, with KVM's retry and leak policy, and randomized sequences of
 * module calls checked against invariants after every step.
 */
#include <string.h>

#include <lib/bug.h>
#include <lib/errno.h>
#include "tdx_util.h"

/* The kick of the core: every vCPU of the TD exits guest mode. */
struct kick_state {
	paddr_t vp[4];
	unsigned int nr;
	unsigned int kicks;
	bool works;
};

static void kick_vcpus(void *arg)
{
	struct kick_state *k = arg;

	k->kicks++;
	for (unsigned int i = 0; k->works && i < k->nr; i++) {
		sm_vp_exit(k->vp[i]);
	}
}

/* A runtime zap is one block, one track, one remove, one wbinvd, and the
 * page is the core's again. */
static void zap_leaf_one_call_each(void)
{
	struct kick_state k = { .nr = 1, .works = true };
	struct sm_reflect_result res;
	const struct sm_kick kick = { kick_vcpus, &k };
	paddr_t tdr, vp, p;
	uint64_t b, t, r, w;

	t_setup();
	tdr = t_runnable(&vp);
	k.vp[0] = vp;
	p = t_alloc();
	CHECK_EQ(sm_set_leaf(tdr, 0, 0, p, &res), 0);
	CHECK_EQ(t_state_at(tdr, 0, NULL), SM_SEPT_PENDING);
	CHECK_OK(sm_vp_enter(vp));
	b = t_calls(SM_LEAF_RANGE_BLOCK);
	t = t_calls(SM_LEAF_MEM_TRACK);
	r = t_calls(SM_LEAF_PAGE_REMOVE);
	w = t_calls(SM_LEAF_PAGE_WBINVD);
	CHECK_EQ(sm_zap_leaf(tdr, 0, 0, p, &kick, &res), 0);
	CHECK_EQ(t_calls(SM_LEAF_RANGE_BLOCK) - b, 1);
	CHECK_EQ(t_calls(SM_LEAF_MEM_TRACK) - t, 1);
	CHECK_EQ(t_calls(SM_LEAF_PAGE_REMOVE) - r, 1);
	CHECK_EQ(t_calls(SM_LEAF_PAGE_WBINVD) - w, 1);
	CHECK_EQ(k.kicks, 1);
	CHECK(!res.leak);
	CHECK(sm_page_releasable(p));
	CHECK_EQ(t_state_at(tdr, 0, NULL), SM_SEPT_FREE);
}

/* At build time set_leaf is PAGE.ADD in place: contents kept, measured. */
static void set_leaf_build_adds_in_place(void)
{
	struct sm_reflect_result res;
	struct sm_td_info info;
	paddr_t tdr, p;

	t_setup();
	tdr = t_td();
	CHECK_EQ(sm_link_table(tdr, 0, 3, t_alloc(), &res), 0);
	CHECK_EQ(sm_link_table(tdr, 0, 2, t_alloc(), &res), 0);
	CHECK_EQ(sm_link_table(tdr, 0, 1, t_alloc(), &res), 0);
	p = t_alloc();
	memset(t_va(p), 0x42, PAGE_SIZE);
	CHECK_EQ(sm_set_leaf(tdr, 0, 0, p, &res), 0);
	CHECK_EQ(((uint8_t *)t_va(p))[4095], 0x42);
	CHECK_EQ(t_state_at(tdr, 0, NULL), SM_SEPT_MAPPED);
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK(info.mrtd != 0);
	CHECK_EQ(sm_set_leaf(tdr, 0, 1, t_alloc(), &res), -EIO);
}

/* A kick that does not get the vCPU out: REMOVE stays refused, the zap
 * fails with leak set, and the page is never handed out again. */
static void zap_refused_leaks_page(void)
{
	struct kick_state k = { .nr = 1, .works = false };
	struct sm_reflect_result res;
	const struct sm_kick kick = { kick_vcpus, &k };
	paddr_t tdr, vp, p;

	t_setup();
	tdr = t_runnable(&vp);
	k.vp[0] = vp;
	p = t_alloc();
	CHECK_EQ(sm_set_leaf(tdr, 0, 0, p, &res), 0);
	CHECK_OK(sm_vp_enter(vp));
	CHECK_EQ(sm_zap_leaf(tdr, 0, 0, p, &kick, &res), -EIO);
	CHECK(res.leak);
	CHECK_EQ(res.leaf, SM_LEAF_PAGE_REMOVE);
	CHECK_EQ(sm_status_code(res.status), SM_TLB_TRACKING_NOT_DONE);
	t_free(p);
	CHECK_EQ(t_leaked, 1);
	CHECK(t_is_leaked(p));
	for (paddr_t q = t_alloc(); q; q = t_alloc()) {
		CHECK(q != p);
	}
}

/* BUSY while installing is -EBUSY with the page untouched; BUSY while
 * zapping is retried once after a kick, twice is a leak. */
static void busy_retry_policy(void)
{
	struct kick_state k = { .nr = 0, .works = true };
	struct sm_reflect_result res;
	const struct sm_kick kick = { kick_vcpus, &k };
	paddr_t tdr, vp, p, t;

	t_setup();
	tdr = t_runnable(&vp);
	t = t_alloc();
	sm_test_inject(SM_LEAF_SEPT_ADD, SM_OPERAND_BUSY | SM_OPERAND_SEPT, 1);
	CHECK_EQ(sm_link_table(tdr, SZ_1G, 2, t, &res), -EBUSY);
	CHECK(!res.leak);
	CHECK(sm_page_releasable(t));
	CHECK_EQ(sm_link_table(tdr, SZ_1G, 2, t, &res), 0);
	p = t_alloc();
	CHECK_EQ(sm_set_leaf(tdr, 0, 0, p, &res), 0);
	sm_test_inject(SM_LEAF_PAGE_REMOVE, SM_OPERAND_BUSY | SM_OPERAND_RCX, 1);
	CHECK_EQ(sm_zap_leaf(tdr, 0, 0, p, &kick, &res), 0);
	CHECK_EQ(k.kicks, 2);
	CHECK_EQ(sm_set_leaf(tdr, 0, 0, p, &res), 0);
	sm_test_inject(SM_LEAF_PAGE_REMOVE, SM_OPERAND_BUSY | SM_OPERAND_RCX, 2);
	CHECK_EQ(sm_zap_leaf(tdr, 0, 0, p, &kick, &res), -EBUSY);
	CHECK(res.leak);
	CHECK(!sm_page_releasable(p));
}

/* free_table while the TD runs is refused by the module (runtime zaps
 * touch leaves only): the table is leaked. */
static void free_table_at_runtime_leaks(void)
{
	struct sm_reflect_result res;
	struct sm_out out = { 0 };
	paddr_t tdr, vp;

	t_setup();
	tdr = t_runnable(&vp);
	sm_sept_rd(tdr, 0, &out);
	CHECK_EQ(sm_free_table(tdr, 0, 1, T_BASE + 11 * PAGE_SIZE, &res),
		 -EIO);
	CHECK(res.leak);
	CHECK_EQ(sm_status_code(res.status), SM_OP_STATE_INCORRECT);
	CHECK_EQ(t_state_at(tdr, 0, NULL), SM_SEPT_FREE);
	CHECK_EQ(t_type(T_BASE + 11 * PAGE_SIZE), SM_PT_SEPT);
}

/* Teardown: free_table by SEPT.REMOVE when flushed, by RECLAIM after the
 * key is freed; every page ends releasable, nothing leaked. */
static void teardown_releases_everything(void)
{
	struct kick_state k = { .nr = 1, .works = true };
	struct sm_reflect_result res;
	const struct sm_kick kick = { kick_vcpus, &k };
	struct sm_td_info info;
	paddr_t tdr, vp, p, t3, t2, t1;

	t_setup();
	tdr = t_td();
	vp = t_vp(tdr);
	t3 = t_alloc();
	t2 = t_alloc();
	t1 = t_alloc();
	CHECK_EQ(sm_link_table(tdr, 0, 3, t3, &res), 0);
	CHECK_EQ(sm_link_table(tdr, 0, 2, t2, &res), 0);
	CHECK_EQ(sm_link_table(tdr, 0, 1, t1, &res), 0);
	CHECK_OK(sm_mr_finalize(tdr));
	k.vp[0] = vp;
	p = t_alloc();
	CHECK_EQ(sm_set_leaf(tdr, 0, 0, p, &res), 0);
	CHECK_OK(sm_vp_enter(vp));
	CHECK_EQ(sm_td_teardown(tdr, &vp, 1, &res), -EBUSY);
	CHECK_OK(sm_vp_exit(vp));
	CHECK_OK(sm_vp_flush(vp));
	CHECK_OK(sm_vpflush_done(tdr));
	CHECK_EQ(sm_zap_leaf(tdr, 0, 0, p, &kick, &res), 0);
	CHECK_EQ(sm_free_table(tdr, 0, 1, t1, &res), 0);
	CHECK_OK(sm_cache_wb(tdr));
	CHECK_OK(sm_key_freeid(tdr));
	CHECK_EQ(sm_free_table(tdr, 0, 2, t2, &res), 0);
	CHECK_EQ(sm_free_table(tdr, 0, 3, t3, &res), 0);
	CHECK_OK(sm_td_info(tdr, &info));
	CHECK_EQ(sm_release_page(info.root, &res), 0);
	CHECK_EQ(sm_release_page(tdr, &res), -EIO);	/* vCPU still there */
	CHECK_EQ(sm_release_page(vp, &res), 0);
	CHECK_EQ(sm_release_page(tdr, &res), 0);
	for (paddr_t pa = tdr; pa <= p; pa += PAGE_SIZE) {
		t_free(pa);
	}
	CHECK_EQ(t_leaked, 0);
}

/* The model of the randomized test: what each TD maps, by GPA slot. */
#define R_TDS	2
#define R_SLOTS	64	/* GPA slot i = i * 4K, all under one level-1 table */

struct r_td {
	paddr_t tdr, vp;
	bool in_guest;
	uint64_t epoch, vp_epoch;
	paddr_t pa[R_SLOTS];
	unsigned int st[R_SLOTS];
	uint64_t bepoch[R_SLOTS];
};

/* The model's view of the tracked rule (a single vCPU per TD). */
static bool r_tracked(const struct r_td *t, unsigned int i)
{
	uint64_t b = t->bepoch[i];

	return b + 1 < t->epoch ||
	       (b + 1 == t->epoch && !(t->in_guest && t->vp_epoch == b));
}

/* After every step: each mapped GPA's page is that TD's REG page in the
 * model's state; each unmapped slot is FREE; no page is both mapped and
 * free; the PAMT's owned count equals each TD's child count. */
static bool r_invariants(struct r_td *r)
{
	uint64_t owned[R_TDS] = { 0 };

	for (unsigned int d = 0; d < R_TDS; d++) {
		struct sm_td_info info;

		for (unsigned int i = 0; i < R_SLOTS; i++) {
			struct sm_out out = { 0 };

			if (sm_sept_rd(r[d].tdr, i * SZ_4K, &out) ||
			    (out.level_state >> 8) != r[d].st[i]) {
				return false;
			}
			if (r[d].st[i] == SM_SEPT_FREE) {
				continue;
			}
			if ((out.entry & GENMASK(51, 12)) != r[d].pa[i] ||
			    t_type(r[d].pa[i]) != SM_PT_REG ||
			    t_owner(r[d].pa[i]) != r[d].tdr ||
			    sm_page_releasable(r[d].pa[i])) {
				return false;
			}
		}
		if (sm_td_info(r[d].tdr, &info)) {
			return false;
		}
		for (paddr_t pa = T_BASE; pa < T_BASE + T_PAGES * PAGE_SIZE;
		     pa += PAGE_SIZE) {
			uint64_t ty = t_type(pa);

			if (t_owner(pa) == r[d].tdr && ty != SM_PT_NDA &&
			    ty != SM_PT_RECLAIMED && ty != SM_PT_TDR) {
				owned[d]++;
			}
		}
		if (owned[d] != info.child_pages) {
			return false;
		}
	}
	return true;
}

static unsigned int r_blocked(unsigned int st)
{
	return st == SM_SEPT_MAPPED ? SM_SEPT_BLOCKED : SM_SEPT_PENDING_BLOCKED;
}

/* Random AUG/ACCEPT/BLOCK/TRACK/REMOVE/WBINVD/enter/exit on two TDs, with
 * the module's answer predicted from the model at every step. */
static void random_sequences_keep_invariants(void)
{
	struct r_td r[R_TDS];
	paddr_t retired[512];
	unsigned int nr_retired = 0, steps = test_long ? 20000 : 3000;
	unsigned int nr_removed = 0;

	t_setup();
	memset(r, 0, sizeof(r));
	for (unsigned int d = 0; d < R_TDS; d++) {
		r[d].tdr = t_runnable(&r[d].vp);
		CHECK(r[d].tdr);
	}
	for (unsigned int n = 0; n < steps; n++) {
		struct r_td *t = &r[test_rand() % R_TDS];
		struct r_td *o = &r[(t - r + 1) % R_TDS];
		unsigned int i = (unsigned int)(test_rand() % R_SLOTS);
		sm_status_t s;
		paddr_t p;

		switch (test_rand() % 8) {
		case 0:	/* AUG a fresh page, or the other TD's page */
			p = test_rand() % 4 || !o->st[i] ? t_alloc() : o->pa[i];
			if (!p) {
				break;
			}
			s = sm_page_aug(t->tdr, i * SZ_4K, 0, p, NULL);
			if (t->st[i] == SM_SEPT_FREE && p != o->pa[i]) {
				CHECK_OK(s);
				t->st[i] = SM_SEPT_PENDING;
				t->pa[i] = p;
			} else {
				CHECK(sm_is_error(s));
				if (p != o->pa[i]) {
					t_free(p);
				}
			}
			break;
		case 1:	/* ACCEPT */
			if (!t->in_guest) {
				break;
			}
			s = sm_guest_accept(t->vp, i * SZ_4K, 0, NULL);
			if (t->st[i] == SM_SEPT_PENDING) {
				CHECK_OK(s);
				t->st[i] = SM_SEPT_MAPPED;
			} else {
				CHECK(s != SM_SUCCESS);
			}
			break;
		case 2:	/* BLOCK */
			s = sm_range_block(t->tdr, i * SZ_4K, 0, NULL);
			if (t->st[i] == SM_SEPT_MAPPED ||
			    t->st[i] == SM_SEPT_PENDING) {
				CHECK_OK(s);
				t->st[i] = r_blocked(t->st[i]);
				t->bepoch[i] = t->epoch;
			} else {
				CHECK(s != SM_SUCCESS);
			}
			break;
		case 3:	/* TRACK: refused while the vCPU runs in epoch - 1 */
			s = sm_mem_track(t->tdr);
			if (t->in_guest && t->vp_epoch + 1 == t->epoch) {
				CHECK_EQ(sm_status_code(s),
					 SM_PREVIOUS_TLB_EPOCH_BUSY);
			} else {
				CHECK_OK(s);
				t->epoch++;
			}
			break;
		case 4:	/* enter / exit */
			s = t->in_guest ? sm_vp_exit(t->vp) : sm_vp_enter(t->vp);
			CHECK_OK(s);
			t->in_guest = !t->in_guest;
			t->vp_epoch = t->epoch;
			break;
		case 5:	/* REMOVE: succeeds only blocked and tracked */
			s = sm_page_remove(t->tdr, i * SZ_4K, 0, NULL);
			if (t->st[i] == SM_SEPT_MAPPED ||
			    t->st[i] == SM_SEPT_PENDING) {
				CHECK_EQ(sm_status_code(s),
					 SM_GPA_RANGE_NOT_BLOCKED);
			} else if (t->st[i] != SM_SEPT_FREE && !r_tracked(t, i)) {
				CHECK_EQ(sm_status_code(s),
					 SM_TLB_TRACKING_NOT_DONE);
			}
			if (t->st[i] == SM_SEPT_BLOCKED ||
			    t->st[i] == SM_SEPT_PENDING_BLOCKED) {
				CHECK_EQ(s == SM_SUCCESS, r_tracked(t, i));
			}
			if (s == SM_SUCCESS) {
				nr_removed++;
				retired[nr_retired++ % 512] = t->pa[i];
				t->st[i] = SM_SEPT_FREE;
				t->pa[i] = 0;
			}
			break;
		case 6:	/* WBINVD the oldest retired page, then free it */
			if (nr_retired) {
				p = retired[--nr_retired % 512];
				CHECK_OK(sm_page_wbinvd(p));
				t_free(p);
			}
			break;
		default:	/* garbage: a REMOVE of the other TD's page */
			if (o->st[i] && !t->st[i]) {
				CHECK(sm_is_error(sm_page_remove(t->tdr,
						i * SZ_4K, 0, NULL)));
			}
			break;
		}
		if (!r_invariants(r)) {
			test_fail(__FILE__, __LINE__,
				  "invariant broken at step %u (seed %llu)", n,
				  (unsigned long long)test_seed);
			return;
		}
	}
	CHECK_EQ(t_leaked, 0);
	CHECK(nr_removed > 10);	/* the sequence reached the interesting part */
	CHECK_EQ(warn_count, 0);
}

void tdx_reflect_tests(void)
{
	RUN_TEST(zap_leaf_one_call_each);
	RUN_TEST(set_leaf_build_adds_in_place);
	RUN_TEST(zap_refused_leaks_page);
	RUN_TEST(busy_retry_policy);
	RUN_TEST(free_table_at_runtime_leaks);
	RUN_TEST(teardown_releases_everything);
	RUN_TEST(random_sequences_keep_invariants);
}
