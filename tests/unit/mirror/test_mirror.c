// SPDX-License-Identifier: MIT
/*
 * Host tests of mirror tables (mm/s2_mirror.c, include/mm/s2_ext.h) on the
 * emulated secure module (arch/x86/tdx/, through arch/x86/tdx/mirror.c):
 * the real core with the real EPT encoder keeps a secure VM's mirror, the
 * real module keeps the S-EPT, and after every step of a random sequence
 * both describe the same mappings, the reference EPT translator agrees with
 * each, and the module calls per operation are as the contract says.
 */
#include <string.h>

#include <arch/tdx_mirror.h>
#include <lib/errno.h>
#include <mm/roots.h>
#include <mm/s2_ext.h>
#include <mm/s2_walk.h>

#include "host_hooks.h"
#include "ref_ept.h"
#include "tdx_util.h"

/* ---- Fixture ------------------------------------------------------------ */

struct kick_state {
	paddr_t vp;
	unsigned int kicks;
	bool in_guest;
};

static struct kick_state kick;
static struct tdx_mirror tm;
static struct s2_ext ext;
static struct s2pt pt;
static paddr_t tdr, vp;
static unsigned int stops;
static const char *stop_reason;
static unsigned long live_base;	/* host pages live before the table */
static uint64_t child_base;	/* module pages of the TD besides tables
				 * and guest pages (root, vCPU) */

static void kick_vcpus(void *arg)
{
	struct kick_state *k = arg;

	k->kicks++;
	if (k->in_guest) {
		sm_vp_exit(k->vp);
		k->in_guest = false;
	}
}

static void vcpu_enter(void)
{
	if (!kick.in_guest && sm_vp_enter(vp) == SM_SUCCESS) {
		kick.in_guest = true;
	}
}

static int page_alloc(void *arg, paddr_t *pa)
{
	(void)arg;
	*pa = t_alloc();
	return *pa ? 0 : -ENOMEM;
}

static void page_free(void *arg, paddr_t pa)
{
	(void)arg;
	t_free(pa);
}

static void vm_stop(void *arg, const char *reason)
{
	(void)arg;
	stops++;
	stop_reason = reason;
}

static uint64_t td_child_pages(void)
{
	struct sm_td_info info;

	if (sm_td_info(tdr, &info) != SM_SUCCESS) {
		return ~0ULL;
	}
	return info.child_pages;
}

/* A runnable TD with one vCPU (not in guest mode), no S-EPT tables, and a
 * mirror table attached to it. */
static bool setup(bool runnable)
{
	t_setup();
	host_alloc_reset();
	memset(&kick, 0, sizeof(kick));
	live_base = host_alloc_live;
	stops = 0;
	stop_reason = NULL;
	tdr = t_td();
	vp = tdr ? t_vp(tdr) : 0;
	if (!vp || (runnable && sm_mr_finalize(tdr) != SM_SUCCESS)) {
		return false;
	}
	kick.vp = vp;
	tm = (struct tdx_mirror){
		.tdr = tdr,
		.kick = { kick_vcpus, &kick },
		.page_alloc = page_alloc,
		.page_free = page_free,
	};
	ext = (struct s2_ext){
		.ops = &tdx_mirror_ops, .ctx = &tm, .stop = vm_stop,
	};
	if (s2pt_init(&pt, 48, S2PT_F_SECURE, 0) ||
	    s2pt_attach_ext(&pt, &ext)) {
		return false;
	}
	child_base = td_child_pages();
	return true;
}

/* VM teardown in KVM's order: the TD first (key freed), then the mirror. */
static void teardown(void)
{
	struct sm_reflect_result res;

	if (kick.in_guest) {
		sm_vp_exit(vp);
		kick.in_guest = false;
	}
	sm_td_teardown(tdr, &vp, 1, &res);
	s2pt_destroy(&pt);
}

static uint64_t sm_total_calls(void)
{
	struct sm_stats st;
	uint64_t n = 0;

	sm_get_stats(&st);
	for (unsigned int i = 0; i < SM_NR_LEAVES; i++) {
		n += st.calls[i];
	}
	return n;
}

static uint64_t host_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	return *(const uint64_t *)(uintptr_t)pa;
}

static uint64_t window_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	return *(const uint64_t *)t_va(pa);
}

static const struct ref_ept_opts ref_opts = { .ve = true, .maxphyaddr = 52 };

static uint64_t module_eptp(void)
{
	struct sm_td_info info;

	sm_td_info(tdr, &info);
	return info.root | 6 | (3 << 3);	/* WB, 4-level walk */
}

/* ---- The model and the differential check ------------------------------- */

#define NR_SLOTS	32
#define RUN		8	/* consecutive pages per region */

static const gpa_t region[NR_SLOTS / RUN] = {
	0x0, 0x600000, 0x40000000 + 0x200000, 0x8000000000ULL,
};

struct slot {
	paddr_t pa;		/* mapped page, 0: not mapped */
	bool accepted;
};

static struct slot model[NR_SLOTS];

static gpa_t slot_gpa(unsigned int i)
{
	return region[i / RUN] + (gpa_t)(i % RUN) * PAGE_SIZE;
}

static int count_leaf(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	(void)visit;
	if (s2pt_pte_kind(ctx->pt, ctx->old, ctx->level) == S2_PTE_LEAF) {
		++*(unsigned int *)ctx->arg;
	}
	return 0;
}

static unsigned int mirror_leaves(void)
{
	unsigned int n = 0;
	struct s2_walker w = {
		.cb = count_leaf, .arg = &n,
		.flags = S2_WALK_LEAF | S2_WALK_PRESENT,
	};

	s2pt_walk(&pt, 0, 1ULL << 48, &w);
	return n;
}

/*
 * Mirror, module and reference translator agree with the model for every
 * slot; nothing else is mapped on either side; no audit failed.
 */
static bool same_mappings(const char **why)
{
	unsigned int mapped = 0;

	for (unsigned int i = 0; i < NR_SLOTS; i++) {
		gpa_t gpa = slot_gpa(i);
		struct s2_translation t;
		struct sm_out out = { 0 };
		struct ref_ept_walk w;
		int ret = s2pt_lookup(&pt, gpa, &t);
		unsigned int st;

		if (sm_sept_rd(tdr, gpa, &out) != SM_SUCCESS) {
			*why = "SEPT.RD failed";
			return false;
		}
		st = (unsigned int)(out.level_state >> 8) & 0xff;
		if (!model[i].pa) {
			ref_ept_walk(s2pt_root_desc(&pt), gpa, REF_READ,
				     &ref_opts, host_read64, NULL, &w);
			if (ret != -ENOENT || st != SM_SEPT_FREE ||
			    w.result != REF_EPT_VIOLATION || w.ve) {
				*why = "an unmapped slot is mapped somewhere";
				return false;
			}
			ref_ept_walk(module_eptp(), gpa, REF_READ, &ref_opts,
				     window_read64, NULL, &w);
			if (w.result != REF_EPT_VIOLATION || w.ve) {
				*why = "the S-EPT translates an unmapped slot";
				return false;
			}
			continue;
		}
		mapped++;
		if (ret || t.pa != model[i].pa || t.level != 0 ||
		    t.prot != S2_PROT_RWX) {
			*why = "the mirror lost a mapping";
			return false;
		}
		if ((out.level_state & 0xff) != 0 ||
		    (out.entry & GENMASK(51, 12)) != model[i].pa ||
		    st != (model[i].accepted ? SM_SEPT_MAPPED :
					       SM_SEPT_PENDING)) {
			*why = "the S-EPT entry differs from the mirror";
			return false;
		}
		/* The hardware view: mirror RWX; S-EPT #VE until accepted. */
		ref_ept_walk(s2pt_root_desc(&pt), gpa, REF_WRITE, &ref_opts,
			     host_read64, NULL, &w);
		if (w.result != REF_EPT_OK || w.pa != model[i].pa) {
			*why = "the reference walk of the mirror disagrees";
			return false;
		}
		ref_ept_walk(module_eptp(), gpa, REF_WRITE, &ref_opts,
			     window_read64, NULL, &w);
		if (model[i].accepted ?
		    (w.result != REF_EPT_OK || w.pa != model[i].pa) :
		    (w.result != REF_EPT_VIOLATION || !w.ve)) {
			*why = "the reference walk of the S-EPT disagrees";
			return false;
		}
	}
	if (mirror_leaves() != mapped) {
		*why = "the mirror maps more than the model";
		return false;
	}
	/* Every page the module holds for the TD is a table or a slot. */
	if (td_child_pages() !=
	    child_base + pt.counters.tables_in_use + mapped) {
		*why = "the module holds pages the mirror does not name";
		return false;
	}
	if (pt.audit_failures) {
		*why = "the core's audit failed";
		return false;
	}
	return true;
}

#define CHECK_SAME()							\
	do {								\
		const char *__why = "";					\
									\
		if (!same_mappings(&__why)) {				\
			test_fail(__FILE__, __LINE__, "%s", __why);	\
			return;						\
		}							\
	} while (0)

/* ---- Directed tests ------------------------------------------------------- */

/* A fault links the three tables top down, then AUGs the page; a zap is
 * one block, one track, one remove, one wbinvd and the tables stay. */
static void fault_and_zap_call_counts(void)
{
	struct s2_fault_result res;
	paddr_t p;
	uint64_t b, t, r, w, add, aug;

	CHECK(setup(true));
	memset(model, 0, sizeof(model));
	p = t_alloc();
	add = t_calls(SM_LEAF_SEPT_ADD);
	aug = t_calls(SM_LEAF_PAGE_AUG);
	CHECK_EQ(s2pt_map_fault(&pt, 0x1234, 0x1000, 0x2000, p, S2_PROT_RWX,
				&res), 0);
	CHECK_EQ(res.found, S2_FAULT_INSTALLED);
	CHECK_EQ(res.t.pa, p + 0x234);
	CHECK_EQ(t_calls(SM_LEAF_SEPT_ADD) - add, 3);
	CHECK_EQ(t_calls(SM_LEAF_PAGE_AUG) - aug, 1);
	CHECK_EQ(ext.stats.calls[S2_EXT_LINK], 3);
	CHECK_EQ(ext.stats.calls[S2_EXT_SET], 1);
	CHECK_EQ(pt.counters.tables_in_use, 3);
	model[1].pa = p;
	CHECK_SAME();
	/* A second fault on the same page finds the leaf, no call. */
	add = sm_total_calls();
	CHECK_EQ(s2pt_map_fault(&pt, 0x1000, 0x1000, 0x2000, p, S2_PROT_RWX,
				&res), -EEXIST);
	CHECK_EQ(res.found, S2_FAULT_LEAF);
	CHECK_EQ(sm_total_calls(), add);

	vcpu_enter();
	b = t_calls(SM_LEAF_RANGE_BLOCK);
	t = t_calls(SM_LEAF_MEM_TRACK);
	r = t_calls(SM_LEAF_PAGE_REMOVE);
	w = t_calls(SM_LEAF_PAGE_WBINVD);
	CHECK_EQ(s2pt_unmap(&pt, 0, SZ_2M), 0);
	CHECK_EQ(t_calls(SM_LEAF_RANGE_BLOCK) - b, 1);
	CHECK_EQ(t_calls(SM_LEAF_MEM_TRACK) - t, 1);
	CHECK_EQ(t_calls(SM_LEAF_PAGE_REMOVE) - r, 1);
	CHECK_EQ(t_calls(SM_LEAF_PAGE_WBINVD) - w, 1);
	CHECK_EQ(ext.stats.calls[S2_EXT_ZAP], 1);
	CHECK_EQ(kick.kicks, 1);
	CHECK(!kick.in_guest);
	/* Runtime zaps touch leaves only. */
	CHECK_EQ(pt.counters.tables_in_use, 3);
	CHECK_EQ(ext.stats.calls[S2_EXT_FREE], 0);
	CHECK(sm_page_releasable(p));
	CHECK(!s2_ext_page_leaked(&ext, p));
	model[1].pa = 0;
	CHECK_SAME();
	CHECK_EQ(stops, 0);
	teardown();
}

/* Five pages zapped by one unmap: five of each call. */
static void unmap_range_one_of_each_per_page(void)
{
	uint64_t b, t, r;

	CHECK(setup(true));
	memset(model, 0, sizeof(model));
	for (unsigned int i = 0; i < 5; i++) {
		model[i].pa = t_alloc();
		CHECK_EQ(s2pt_map(&pt, slot_gpa(i), model[i].pa, PAGE_SIZE,
				  S2_PROT_RWX), 0);
	}
	CHECK_SAME();
	b = t_calls(SM_LEAF_RANGE_BLOCK);
	t = t_calls(SM_LEAF_MEM_TRACK);
	r = t_calls(SM_LEAF_PAGE_REMOVE);
	CHECK_EQ(s2pt_unmap(&pt, 0, 5 * PAGE_SIZE), 0);
	CHECK_EQ(t_calls(SM_LEAF_RANGE_BLOCK) - b, 5);
	CHECK_EQ(t_calls(SM_LEAF_MEM_TRACK) - t, 5);
	CHECK_EQ(t_calls(SM_LEAF_PAGE_REMOVE) - r, 5);
	memset(model, 0, sizeof(model));
	CHECK_SAME();
	teardown();
}

/* protect, split, collapse, MMIO and non-RWX leaves: refused, no call,
 * nothing written. */
static void refusals_make_no_module_call(void)
{
	uint64_t calls, written;
	paddr_t p;

	CHECK(setup(true));
	memset(model, 0, sizeof(model));
	p = t_alloc();
	CHECK_EQ(s2pt_map(&pt, 0, p, PAGE_SIZE, S2_PROT_RWX), 0);
	model[0].pa = p;
	calls = sm_total_calls();
	written = pt.counters.entries_written + pt.counters.count_writes;
	CHECK_EQ(s2pt_protect(&pt, 0, SZ_2M, S2_PROT_R), -EPERM);
	CHECK_EQ(s2pt_split(&pt, 0, SZ_2M, 0), -EPERM);
	CHECK_EQ(s2pt_collapse(&pt, 0, SZ_2M), -EPERM);
	CHECK_EQ(s2pt_set_mmio(&pt, 0x10000, 1), -EPERM);
	CHECK_EQ(s2pt_map(&pt, PAGE_SIZE, p + PAGE_SIZE, PAGE_SIZE,
			  S2_PROT_R), -EINVAL);
	CHECK_EQ(s2pt_map(&pt, PAGE_SIZE, p + PAGE_SIZE, PAGE_SIZE,
			  S2_PROT_RWX | S2_PROT_DEVICE), -EINVAL);
	CHECK_EQ(ext.stats.refused_ops, 6);
	CHECK_EQ(sm_total_calls(), calls);
	CHECK_EQ(pt.counters.entries_written + pt.counters.count_writes,
		 written);
	CHECK_SAME();
	teardown();
}

/* A busy module: a fault restores the entry and asks for a refault; a map
 * retries; a zap retries once after a kick. Nothing leaks. */
static void busy_module_makes_the_core_retry(void)
{
	struct s2_fault_result res;
	paddr_t p = 0, q;
	uint64_t tables;

	CHECK(setup(true));
	memset(model, 0, sizeof(model));
	p = t_alloc();
	/* SEPT.ADD busy on the first table: nothing linked, refault. */
	sm_test_inject(SM_LEAF_SEPT_ADD, SM_OPERAND_BUSY | SM_OPERAND_SEPT, 1);
	CHECK_EQ(s2pt_map_fault(&pt, 0, 0, SZ_2M, p, S2_PROT_RWX, &res),
		 -EAGAIN);
	CHECK_EQ(ext.stats.busy[S2_EXT_LINK], 1);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK_EQ(pt.root_count, 0);
	/* The root and the page of (mirror, external) pairs; no table. */
	CHECK_EQ(host_alloc_live, live_base + 2);
	CHECK_SAME();
	/* AUG busy: the tables stay (linked on both sides), the leaf not. */
	sm_test_inject(SM_LEAF_PAGE_AUG, SM_OPERAND_BUSY | SM_OPERAND_RCX, 1);
	CHECK_EQ(s2pt_map_fault(&pt, 0, 0, SZ_2M, p, S2_PROT_RWX, &res),
		 -EAGAIN);
	CHECK_EQ(ext.stats.busy[S2_EXT_SET], 1);
	CHECK_EQ(pt.counters.tables_in_use, 3);
	CHECK_SAME();
	/* The refault succeeds. */
	CHECK_EQ(s2pt_map_fault(&pt, 0, 0, SZ_2M, p, S2_PROT_RWX, &res), 0);
	model[0].pa = p;
	CHECK_SAME();
	/* s2pt_map() retries a busy AUG itself. */
	q = t_alloc();
	sm_test_inject(SM_LEAF_PAGE_AUG, SM_OPERAND_BUSY | SM_OPERAND_RCX, 2);
	tables = pt.counters.tables_in_use;
	CHECK_EQ(s2pt_map(&pt, PAGE_SIZE, q, PAGE_SIZE, S2_PROT_RWX), 0);
	CHECK_EQ(ext.stats.retries, 2);
	CHECK_EQ(pt.counters.tables_in_use, tables);
	model[1].pa = q;
	CHECK_SAME();
	/* BLOCK busy once: kicked, retried, zapped. */
	vcpu_enter();
	sm_test_inject(SM_LEAF_RANGE_BLOCK, SM_OPERAND_BUSY | SM_OPERAND_TDR,
		       1);
	CHECK_EQ(s2pt_unmap(&pt, 0, PAGE_SIZE), 0);
	CHECK_EQ(kick.kicks, 2);	/* the retry's and TRACK's */
	model[0].pa = 0;
	CHECK_SAME();
	/* REMOVE busy once: the same. */
	vcpu_enter();
	sm_test_inject(SM_LEAF_PAGE_REMOVE, SM_OPERAND_BUSY | SM_OPERAND_RCX,
		       1);
	CHECK_EQ(s2pt_unmap(&pt, PAGE_SIZE, PAGE_SIZE), 0);
	model[1].pa = 0;
	CHECK_SAME();
	CHECK_EQ(ext.stats.leaked_pages, 0);
	CHECK_EQ(stops, 0);
	CHECK(sm_page_releasable(p) && sm_page_releasable(q));
	teardown();
}

static void release_page(paddr_t pa);

/* A removal the module refuses twice: the page is leaked (counted, never
 * handed out again), the mirror forgets it, the VM stops. */
static void refused_removal_leaks_and_stops(void)
{
	paddr_t p, q, seen;
	unsigned int leaked_before;

	CHECK(setup(true));
	memset(model, 0, sizeof(model));
	p = t_alloc();
	q = t_alloc();
	CHECK_EQ(s2pt_map(&pt, 0, p, PAGE_SIZE, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_map(&pt, PAGE_SIZE, q, PAGE_SIZE, S2_PROT_RWX), 0);
	sm_test_inject(SM_LEAF_PAGE_REMOVE, SM_OPERAND_BUSY | SM_OPERAND_RCX,
		       2);
	CHECK_EQ(s2pt_unmap(&pt, 0, PAGE_SIZE), -EIO);
	CHECK_EQ(ext.stats.refused[S2_EXT_ZAP], 1);
	CHECK_EQ(ext.stats.leaked_pages, 1);
	CHECK(s2_ext_page_leaked(&ext, p));
	CHECK(!s2_ext_page_leaked(&ext, q));
	CHECK(ext.stopped);
	CHECK_EQ(stops, 1);
	CHECK(stop_reason && strstr(stop_reason, "remove"));
	CHECK(!sm_page_releasable(p));	/* the module still holds it */
	CHECK_EQ(s2pt_lookup(&pt, 0, &(struct s2_translation){ 0 }), -ENOENT);
	/* A stopped VM gets no new leaves; no module call is made. */
	seen = sm_total_calls();
	CHECK_EQ(s2pt_map(&pt, 2 * PAGE_SIZE, t_alloc(), PAGE_SIZE,
			  S2_PROT_RWX), -EIO);
	CHECK_EQ(sm_total_calls(), seen);
	/* The other page still zaps normally. */
	CHECK_EQ(s2pt_unmap(&pt, PAGE_SIZE, PAGE_SIZE), 0);
	/* The owner's release (release_page()): the core's record keeps the
	 * leaked page from ever reaching the allocator. */
	leaked_before = t_leaked;
	release_page(p);
	release_page(q);
	CHECK_EQ(t_leaked, leaked_before);
	for (paddr_t a = t_alloc(); a; a = t_alloc()) {
		CHECK(a != p);
	}
	CHECK_EQ(stops, 1);
	teardown();
}

/* A fault that meets a frozen entry backs off: it runs inside the module
 * call that froze it (the nearest this one-CPU build has to a second CPU). */
struct nested_fault {
	bool armed;
	int ret;
	uint64_t calls_before, calls_after;
	unsigned long allocs_before, allocs_after;
	gpa_t gpa;
	paddr_t pa;
};

static struct nested_fault nested;

static int (*real_set_leaf)(void *, gpa_t, unsigned int, paddr_t,
			    unsigned int);
static int (*real_zap_leaf)(void *, gpa_t, unsigned int, paddr_t);
static int (*real_link)(void *, gpa_t, unsigned int, paddr_t *);

static void nested_fault(void)
{
	struct s2_fault_result res;

	if (!nested.armed) {
		return;
	}
	nested.armed = false;
	nested.calls_before = sm_total_calls();
	nested.allocs_before = host_alloc_calls;
	nested.ret = s2pt_map_fault(&pt, nested.gpa, 0, SZ_1G, nested.pa,
				    S2_PROT_RWX, &res);
	nested.calls_after = sm_total_calls();
	nested.allocs_after = host_alloc_calls;
}

static int set_leaf_nested(void *ctx, gpa_t gpa, unsigned int level,
			   paddr_t pa, unsigned int prot)
{
	nested_fault();
	return real_set_leaf(ctx, gpa, level, pa, prot);
}

static int zap_leaf_nested(void *ctx, gpa_t gpa, unsigned int level,
			   paddr_t pa)
{
	nested_fault();
	return real_zap_leaf(ctx, gpa, level, pa);
}

static int link_nested(void *ctx, gpa_t gpa, unsigned int level,
		       paddr_t *ext_table)
{
	nested_fault();
	return real_link(ctx, gpa, level, ext_table);
}

static void frozen_entry_makes_a_fault_back_off(void)
{
	static struct s2_ext_ops ops;
	paddr_t p;

	CHECK(setup(true));
	memset(model, 0, sizeof(model));
	ops = tdx_mirror_ops;
	real_set_leaf = ops.set_leaf;
	real_zap_leaf = ops.zap_leaf;
	real_link = ops.link_table;
	ops.set_leaf = set_leaf_nested;
	ops.zap_leaf = zap_leaf_nested;
	ops.link_table = link_nested;
	ext.ops = &ops;
	p = t_alloc();

	/* While the leaf is being set. */
	nested.armed = false;
	CHECK_EQ(s2pt_map(&pt, 0, p, PAGE_SIZE, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_unmap(&pt, 0, PAGE_SIZE), 0);
	nested = (struct nested_fault){ .armed = true, .gpa = 0, .pa = p };
	CHECK_EQ(s2pt_map(&pt, 0, p, PAGE_SIZE, S2_PROT_RWX), 0);
	CHECK_EQ(nested.ret, -EAGAIN);
	CHECK_EQ(nested.calls_after, nested.calls_before);
	CHECK_EQ(nested.allocs_after, nested.allocs_before);
	CHECK_EQ(ext.stats.frozen_backoffs, 1);
	model[0].pa = p;
	CHECK_SAME();

	/* While a table is being linked: a fault below it backs off too. */
	{
		paddr_t q = t_alloc();

		nested = (struct nested_fault){ .armed = true, .gpa = 0x200000,
					   .pa = q };
		CHECK_EQ(s2pt_map(&pt, 0x200000, q, PAGE_SIZE, S2_PROT_RWX),
			 0);
		CHECK_EQ(nested.ret, -EAGAIN);
		CHECK_EQ(nested.allocs_after, nested.allocs_before);
		CHECK_EQ(ext.stats.frozen_backoffs, 2);
		s2pt_unmap(&pt, 0x200000, PAGE_SIZE);
	}

	/* While the leaf is being zapped. */
	vcpu_enter();
	nested = (struct nested_fault){ .armed = true, .gpa = 0, .pa = p };
	CHECK_EQ(s2pt_unmap(&pt, 0, PAGE_SIZE), 0);
	CHECK_EQ(nested.ret, -EAGAIN);
	CHECK_EQ(nested.calls_after, nested.calls_before);
	CHECK_EQ(ext.stats.frozen_backoffs, 3);
	model[0].pa = 0;
	CHECK_SAME();
	ext.ops = &tdx_mirror_ops;
	teardown();
}

/* Teardown as KVM does it: the TD torn down (key freed), then the mirror:
 * every leaf reclaimed, every table freed after its children, every page
 * back with the allocator. */
static void teardown_frees_everything_through_the_module(void)
{
	paddr_t pages[NR_SLOTS];
	unsigned int leaked = t_leaked;
	struct sm_reflect_result res;

	CHECK(setup(true));
	for (unsigned int i = 0; i < NR_SLOTS; i += 3) {
		pages[i] = t_alloc();
		CHECK_EQ(s2pt_map(&pt, slot_gpa(i), pages[i], PAGE_SIZE,
				  S2_PROT_RWX), 0);
	}
	CHECK_EQ(sm_td_teardown(tdr, &vp, 1, &res), 0);
	s2pt_destroy(&pt);
	CHECK_EQ(ext.stats.calls[S2_EXT_ZAP], (NR_SLOTS + 2) / 3);
	CHECK_EQ(ext.stats.calls[S2_EXT_FREE], pt.counters.tables_alloc);
	CHECK_EQ(pt.counters.tables_in_use, 0);
	CHECK_EQ(ext.stats.leaked_pages + ext.stats.leaked_tables, 0);
	CHECK_EQ(tm.leaked_tables, 0);
	CHECK_EQ(stops, 0);
	CHECK_EQ(host_alloc_live, live_base);	/* mirror pages and the pair pages */
	for (unsigned int i = 0; i < NR_SLOTS; i += 3) {
		CHECK(sm_page_releasable(pages[i]));
	}
	CHECK_EQ(t_leaked, leaked);
}

/* A teardown while the TD may still run: the leaves go (block, track,
 * remove), the module refuses every table (SEPT.REMOVE is for a flushed
 * TD), so each is leaked, counted, and the VM is stopped. */
static void free_table_while_runnable_leaks_tables(void)
{
	CHECK(setup(true));
	CHECK_EQ(s2pt_map(&pt, 0, t_alloc(), PAGE_SIZE, S2_PROT_RWX), 0);
	s2pt_destroy(&pt);
	CHECK_EQ(ext.stats.calls[S2_EXT_ZAP], 1);
	CHECK_EQ(ext.stats.leaked_pages, 0);
	CHECK_EQ(ext.stats.calls[S2_EXT_FREE], 3);
	CHECK_EQ(ext.stats.refused[S2_EXT_FREE], 3);
	CHECK_EQ(ext.stats.leaked_tables, 3);
	CHECK_EQ(tm.leaked_tables, 3);
	CHECK_EQ(stops, 1);
	CHECK(strstr(stop_reason, "table"));
	CHECK_EQ(host_alloc_live, live_base);	/* the mirror's own pages are freed */
}

/* Build time: set_leaf is PAGE.ADD in place (contents kept, MAPPED). */
static void build_time_map_adds_in_place(void)
{
	paddr_t p;

	CHECK(setup(false));
	memset(model, 0, sizeof(model));
	p = t_alloc();
	memset(t_va(p), 0x5c, PAGE_SIZE);
	CHECK_EQ(s2pt_map(&pt, 0, p, PAGE_SIZE, S2_PROT_RWX), 0);
	CHECK_EQ(t_calls(SM_LEAF_PAGE_ADD), 1);
	CHECK_EQ(((uint8_t *)t_va(p))[100], 0x5c);
	model[0] = (struct slot){ .pa = p, .accepted = true };
	CHECK_SAME();
	teardown();
}

/* Roots: a mirror root mirrors the VM's module, the fast zap of all roots
 * skips it (no module call), s2_mmu_destroy() tears it down through it. */
static void mirror_root_survives_invalidate_all(void)
{
	struct s2_mmu mmu;
	struct s2_root *mr, *dr;
	uint64_t calls;
	paddr_t p;
	int err = 0;
	struct sm_reflect_result res;

	CHECK(setup(true));
	s2pt_destroy(&pt);	/* the fixture's table is not used here */
	CHECK_EQ(s2_mmu_init(&mmu, 48, S2PT_F_SECURE, 1), 0);
	mr = s2_mmu_get_root(&mmu, s2_mmu_mirror_role(&mmu), &err);
	CHECK(!mr && err == -EINVAL);	/* no module yet */
	mmu.ext = &ext;
	mr = s2_mmu_get_root(&mmu, s2_mmu_mirror_role(&mmu), &err);
	CHECK(mr && mr->role.mirror && s2pt_is_mirror(&mr->pt));
	dr = s2_mmu_get_root(&mmu, s2_mmu_role(&mmu, 0), &err);
	CHECK(dr && !s2pt_is_mirror(&dr->pt));
	p = t_alloc();
	CHECK_EQ(s2pt_map(&mr->pt, 0, p, PAGE_SIZE, S2_PROT_RWX), 0);
	CHECK_EQ(s2pt_map(&dr->pt, 1ULL << 47, 0x100000, PAGE_SIZE,
			  S2_PROT_RWX), 0);
	calls = sm_total_calls();
	s2_root_put(dr);
	CHECK_EQ(s2_mmu_invalidate_all(&mmu), 1);	/* the direct root */
	CHECK_EQ(sm_total_calls(), calls);
	CHECK(!mr->role.invalid);
	CHECK_EQ(s2pt_lookup(&mr->pt, 0, &(struct s2_translation){ 0 }), 0);
	CHECK_EQ(s2_mmu_audit(&mmu), 0);
	/* unmap_everywhere reaches the mirror, through the module. */
	s2_mmu_write_lock(&mmu);
	CHECK_EQ(s2_mmu_unmap_everywhere(&mmu, 0, SZ_2M), 0);
	s2_mmu_write_unlock(&mmu);
	CHECK_EQ(ext.stats.calls[S2_EXT_ZAP], 1);
	CHECK(sm_page_releasable(p));
	s2_root_put(mr);
	CHECK_EQ(sm_td_teardown(tdr, &vp, 1, &res), 0);
	s2_mmu_destroy(&mmu);
	CHECK_EQ(ext.stats.calls[S2_EXT_FREE], 3);
	CHECK_EQ(ext.stats.leaked_tables, 0);
	CHECK_EQ(host_alloc_live, live_base);
}

/* ---- The randomized differential test -------------------------------- */

static paddr_t guest_page(void)
{
	return t_alloc();
}

/* Give an unmapped page back, as the VMM would: never a leaked one. */
static void release_page(paddr_t pa)
{
	if (!s2_ext_page_leaked(&ext, pa)) {
		t_free(pa);
	}
}

static void random_sequences_on_a_mirror(void)
{
	unsigned int steps = test_long ? 20000 : 2500;
	unsigned int runs = test_long ? 40 : 6;

	for (unsigned int run = 0; run < runs; run++) {
		CHECK(setup(true));
		memset(model, 0, sizeof(model));
		for (unsigned int step = 0; step < steps; step++) {
			unsigned int op = (unsigned int)(test_rand() % 100);
			unsigned int i = (unsigned int)(test_rand() % NR_SLOTS);
			unsigned int n = 1 + (unsigned int)(test_rand() %
					     (RUN - i % RUN));
			uint64_t zap0 = ext.stats.calls[S2_EXT_ZAP];
			uint64_t b0 = t_calls(SM_LEAF_RANGE_BLOCK);
			uint64_t r0 = t_calls(SM_LEAF_PAGE_REMOVE);
			uint64_t a0 = t_calls(SM_LEAF_SEPT_ADD);
			uint64_t tab0 = pt.counters.tables_alloc;
			uint64_t calls0 = sm_total_calls();
			bool any = false, none = true;

			for (unsigned int j = 0; j < n; j++) {
				any |= model[i + j].pa != 0;
				none &= model[i + j].pa == 0;
			}
			if (op < 30) {
				/* Map a run of absent slots (page by page
				 * backing: the pages need not be
				 * contiguous, so map each). */
				if (!none) {
					CHECK_EQ(s2pt_map(&pt, slot_gpa(i),
							  0x1000, n * PAGE_SIZE,
							  S2_PROT_RWX),
						 -EEXIST);
					CHECK_EQ(sm_total_calls(), calls0);
				} else {
					for (unsigned int j = 0; j < n; j++) {
						paddr_t p = guest_page();

						CHECK(p);
						CHECK_EQ(s2pt_map(&pt,
							slot_gpa(i + j), p,
							PAGE_SIZE,
							S2_PROT_RWX), 0);
						model[i + j].pa = p;
					}
					CHECK_EQ(t_calls(SM_LEAF_SEPT_ADD) - a0,
						 pt.counters.tables_alloc -
						 tab0);
				}
			} else if (op < 50) {
				/* A fault, maybe with a busy module. */
				struct s2_fault_result res;
				paddr_t p = model[i].pa ? model[i].pa :
					    guest_page();
				int ret;

				if (test_rand() % 4 == 0) {
					sm_test_inject(test_rand() % 2 ?
						SM_LEAF_PAGE_AUG :
						SM_LEAF_SEPT_ADD,
						SM_OPERAND_BUSY |
						SM_OPERAND_RCX, 1);
				}
				ret = s2pt_map_fault(&pt, slot_gpa(i) + 8,
						     slot_gpa(i),
						     slot_gpa(i) + PAGE_SIZE,
						     p, S2_PROT_RWX, &res);
				if (model[i].pa) {
					CHECK_EQ(ret, -EEXIST);
					CHECK_EQ(res.t.pa, p + 8);
				} else {
					if (ret == -EAGAIN) {
						ret = s2pt_map_fault(&pt,
							slot_gpa(i),
							slot_gpa(i),
							slot_gpa(i) +
							PAGE_SIZE, p,
							S2_PROT_RWX, &res);
					}
					CHECK_EQ(ret, 0);
					model[i].pa = p;
				}
				sm_test_inject(SM_LEAF_PAGE_AUG, 0, 0);
				sm_test_inject(SM_LEAF_SEPT_ADD, 0, 0);
			} else if (op < 75) {
				/* Unmap a run: one zap per mapped page. */
				unsigned int m = 0;
				paddr_t gone[RUN];

				if (test_rand() % 5 == 0) {
					sm_test_inject(SM_LEAF_RANGE_BLOCK,
						SM_OPERAND_BUSY |
						SM_OPERAND_TDR, 1);
				}
				for (unsigned int j = 0; j < n; j++) {
					if (model[i + j].pa) {
						gone[m++] = model[i + j].pa;
					}
					model[i + j].pa = 0;
					model[i + j].accepted = false;
				}
				CHECK_EQ(s2pt_unmap(&pt, slot_gpa(i),
						    n * PAGE_SIZE), 0);
				sm_test_inject(SM_LEAF_RANGE_BLOCK, 0, 0);
				CHECK_EQ(ext.stats.calls[S2_EXT_ZAP] - zap0, m);
				CHECK_EQ(t_calls(SM_LEAF_PAGE_REMOVE) - r0, m);
				CHECK(t_calls(SM_LEAF_RANGE_BLOCK) - b0 >= m);
				CHECK(t_calls(SM_LEAF_RANGE_BLOCK) - b0 <=
				      m + 1);
				for (unsigned int j = 0; j < m; j++) {
					CHECK(sm_page_releasable(gone[j]));
					release_page(gone[j]);
				}
			} else if (op < 85) {
				/* The guest accepts a pending page. */
				vcpu_enter();
				if (model[i].pa && !model[i].accepted) {
					CHECK_EQ(sm_guest_accept(vp,
						slot_gpa(i), 0, NULL),
						SM_SUCCESS);
					model[i].accepted = true;
				}
			} else if (op < 92) {
				/* The vCPU leaves guest mode (or enters). */
				if (kick.in_guest) {
					sm_vp_exit(vp);
					kick.in_guest = false;
				} else {
					vcpu_enter();
				}
			} else {
				/* What the module cannot do: refused. */
				uint64_t w = pt.counters.entries_written;

				switch (op % 4) {
				case 0:
					CHECK_EQ(s2pt_protect(&pt, slot_gpa(i),
						n * PAGE_SIZE, S2_PROT_R),
						-EPERM);
					break;
				case 1:
					CHECK_EQ(s2pt_split(&pt,
						ALIGN_DOWN(slot_gpa(i), SZ_2M),
						SZ_2M, 0), -EPERM);
					break;
				case 2:
					CHECK_EQ(s2pt_collapse(&pt,
						ALIGN_DOWN(slot_gpa(i), SZ_2M),
						SZ_2M), -EPERM);
					break;
				default:
					CHECK_EQ(s2pt_set_mmio(&pt,
						slot_gpa(i), 7), -EPERM);
				}
				CHECK_EQ(sm_total_calls(), calls0);
				CHECK_EQ(pt.counters.entries_written, w);
			}
			(void)any;
			CHECK_SAME();
			CHECK_EQ(stops, 0);
		}
		{
			struct sm_reflect_result res;

			if (kick.in_guest) {
				sm_vp_exit(vp);
			}
			CHECK_EQ(sm_td_teardown(tdr, &vp, 1, &res), 0);
		}
		s2pt_destroy(&pt);
		CHECK_EQ(ext.stats.leaked_pages + ext.stats.leaked_tables, 0);
		CHECK_EQ(host_alloc_live, live_base);
		for (unsigned int i = 0; i < NR_SLOTS; i++) {
			CHECK(!model[i].pa || sm_page_releasable(model[i].pa));
		}
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "mirror");
	RUN_TEST(fault_and_zap_call_counts);
	RUN_TEST(unmap_range_one_of_each_per_page);
	RUN_TEST(refusals_make_no_module_call);
	RUN_TEST(busy_module_makes_the_core_retry);
	RUN_TEST(refused_removal_leaks_and_stops);
	RUN_TEST(frozen_entry_makes_a_fault_back_off);
	RUN_TEST(teardown_frees_everything_through_the_module);
	RUN_TEST(free_table_while_runnable_leaks_tables);
	RUN_TEST(build_time_map_adds_in_place);
	RUN_TEST(mirror_root_survives_invalidate_all);
	RUN_TEST(random_sequences_on_a_mirror);
	return test_done();
}
