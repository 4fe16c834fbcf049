// SPDX-License-Identifier: MIT
/*
 * The stage-2 core on many CPUs (issue 11, docs/mmu.md "Many CPUs"): host
 * threads run the REAL core (walker, s2pt_map_fault() under the MMU lock
 * shared, unmap/zap, protect, split, collapse under it exclusive,
 * invalidate-all of the real mm/roots.c with its zapper yielding the lock
 * between chunks, per-thread root caches) on one VM's roots at once, built
 * with ThreadSanitizer (any report fails the run: TSAN_OPTIONS exitcode).
 *
 * Every thread is a CPU with its own simulated TLB (tests/unit/ref): its
 * accesses walk its current root with the reference translator and cache
 * what the walk found (leaf and walk-cache entries); only the invalidations
 * the core issues empty it (arch_s2_flush() in smp_hooks.c reaches every
 * CPU's TLB, waiting for a walk that CPU has in flight).
 *
 * Checks:
 *  - after every operation that removes or narrows translations, with the
 *    MMU lock still held exclusive: no CPU's TLB holds a leaf the tables no
 *    longer back, nor a walk-cache entry for a table page that is freed or
 *    no longer linked there, on the operation's range (check_tlbs());
 *  - every fault returns the translation of its memslot (installed or
 *    found), whatever other CPUs did at the same time;
 *  - at quiescent points (every thread stopped at a barrier): the roots'
 *    and tables' audits (counts, no table reachable twice or leaked), the
 *    reference walk of every page of the window through every valid root
 *    equals the flat model (output, permissions, or nothing), every
 *    invalid root is fully zapped, the live table pages equal what the
 *    roots account for (nothing leaked by a fault that lost a race), and
 *    the TLBs again;
 *  - at the end every page is back.
 * The operations of each thread come from the seed (printed); the
 * interleaving does not, so a failure replays with the same seed most of
 * the time, not always.
 *
 * Options: --seed N, --ops N (all threads together, default 100000),
 * --threads N (default 4), --break-remote (the seeded bug: flushes reach
 * only the calling CPU; the run must FAIL).
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mm/roots.h>
#include <mm/s2_walk.h>
#include <lib/bug.h>
#include <lib/errno.h>
#include "harness.h"
#include "smp_hooks.h"

#define IA_BITS		34
/* 32 MiB straddling a 1 GiB boundary: tables at every level are shared. */
#define WIN_BASE	(SZ_1G - 8 * SZ_2M)
#define WIN_SIZE	(16 * SZ_2M)
#define WIN_PAGES	(WIN_SIZE >> PAGE_SHIFT)
#define WIN_REGIONS	(WIN_SIZE / SZ_2M)
/* gpa + PA_OFF backs gpa: 1 GiB aligned, so blocks stay possible. */
#define PA_OFF		0x100000000ULL
#define TLB_LEAVES	32
#define TLB_WALKS	16
#define OPS_PER_PHASE	500
#define STORM_FAULTS	128
#define STORM_SHARED	32
#define PROGRESS_S	5

struct stats {
	unsigned long ops, faults, installed, found, accesses, hits;
	unsigned long unmaps, protects, splits, collapses, invalidations;
	unsigned long reloads;
};

struct cpu_thread {
	unsigned int cpu;
	uint64_t rng;
	struct s2_root_cache cache;
	struct stats st;
	pthread_t tid;
};

static struct s2_mmu mmu;
/* S2_PROT_* each page of the window has in each pool slot's root, 0: none. */
static uint8_t model[S2_MMU_MAX_ROOTS][WIN_PAGES];
static struct cpu_thread cpus[SMP_MAX_CPUS];
static unsigned int nr_threads = 4;
static unsigned long total_ops = 100000;
static unsigned int nr_phases;
static pthread_barrier_t barrier;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static int failed;
static char fail_text[2048];
static unsigned int phase;
static time_t last_progress;

static const unsigned int prots[] = {
	S2_PROT_RWX, S2_PROT_R | S2_PROT_W, S2_PROT_R | S2_PROT_X, S2_PROT_R,
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!__atomic_load_n(&failed, __ATOMIC_RELAXED)) {
		int n = snprintf(fail_text, sizeof(fail_text), "phase %u: ",
				 phase);

		va_start(ap, fmt);
		vsnprintf(fail_text + n, sizeof(fail_text) - (size_t)n, fmt,
			  ap);
		va_end(ap);
		__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&fail_lock);
}

static bool has_failed(void)
{
	return __atomic_load_n(&failed, __ATOMIC_RELAXED);
}

static uint64_t rnd(struct cpu_thread *t, uint64_t n)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return (t->rng * 0x2545F4914F6CDD1DULL) % n;
}

static unsigned int slot_of(const struct s2_root *r)
{
	return (unsigned int)(r - mmu.pool);
}

static void model_set(unsigned int slot, gpa_t gpa, uint64_t size,
		      uint8_t prot)
{
	gpa_t lo = MAX(gpa, (gpa_t)WIN_BASE);
	gpa_t hi = MIN(gpa + size, (gpa_t)(WIN_BASE + WIN_SIZE));

	for (gpa_t a = lo; a < hi; a += PAGE_SIZE) {
		__atomic_store_n(&model[slot][(a - WIN_BASE) >> PAGE_SHIFT],
				 prot, __ATOMIC_RELAXED);
	}
}

static uint8_t model_get(unsigned int slot, gpa_t gpa)
{
	return __atomic_load_n(&model[slot][(gpa - WIN_BASE) >> PAGE_SHIFT],
			       __ATOMIC_RELAXED);
}

/* ---- The hardware: reference walks and per-CPU TLBs --------------------- */

/*
 * A hardware walker's read: acquire, as the walker sees a table only
 * through the entry that links it (the core links it with a release).
 */
static uint64_t table_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	return __atomic_load_n((const uint64_t *)(uintptr_t)pa,
			       __ATOMIC_ACQUIRE);
}

static void ref_walk(const struct s2pt *pt, gpa_t ia, struct sim_xlate *x)
{
#ifdef SMP_EPT
	struct ref_ept_opts o = {
		.ve = pt->flags & S2PT_F_VE, .maxphyaddr = 52,
	};
	struct ref_ept_walk w;

	ref_ept_walk(s2pt_root_desc(pt), ia, REF_READ, &o, table_read64,
		     NULL, &w);
	sim_xlate_from_ept(&w, x);
#else
	static const unsigned int sl0[5] = { 0, 0, 0, 1, 2 };
	struct ref_s2_cfg c = {
		.vtcr = (1ull << 31) | (5ull << 16) | (3ull << 12) |
			(1ull << 10) | (1ull << 8) |
			((uint64_t)sl0[pt->fmt.levels] << 6) |
			(64 - pt->fmt.ia_bits),
		.vttbr = s2pt_root_desc(pt),
		.fwb = pt->flags & S2PT_F_FWB,
		.parange_bits = 48,
	};
	struct ref_s2_walk w;

	ref_s2_walk(&c, ia, REF_READ, table_read64, NULL, &w);
	sim_xlate_from_s2(&w, x);
#endif
}

/* The TLBs' re-walk (stale checks, MMU lock held exclusive). */
static void tlb_walk(void *ctx, uint64_t tag, uint64_t ia,
		     struct sim_xlate *x)
{
	(void)ctx;
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		const struct s2_root *r = &mmu.pool[i];

		if (r->in_use && smp_tlb_tag(&r->pt) == tag) {
			ref_walk(&r->pt, ia, x);
			return;
		}
	}
	memset(x, 0, sizeof(*x));	/* no such root: nothing backs it */
	x->ia = ia;
}

/* A CPU's access to @gpa through its current root: a TLB hit or a walk. */
static void cpu_access(struct cpu_thread *t, gpa_t gpa)
{
	struct smp_cpu *c = &smp_cpus[t->cpu];
	struct s2_root *r = t->cache.cur;
	struct sim_xlate x;
	uint64_t tag;

	if (!r) {
		return;
	}
	t->st.accesses++;
	pthread_mutex_lock(&c->tlb_lock);
	tag = smp_tlb_tag(&r->pt);
	if (sim_tlb_lookup(&c->tlb, tag, gpa)) {
		t->st.hits++;
	} else {
		ref_walk(&r->pt, gpa, &x);
		sim_tlb_fill(&c->tlb, tag, &x);
	}
	pthread_mutex_unlock(&c->tlb_lock);
}

/*
 * Whether the tables still back @l on [@lo, @hi) (its part an operation
 * changed): same output, no permission it lacks, same attributes.
 */
static bool leaf_backed(const struct sim_tlb_leaf *l, gpa_t lo, gpa_t hi)
{
	gpa_t ia = MAX(lo, (gpa_t)l->ia_base);
	gpa_t end = MIN(hi, (gpa_t)(l->ia_base + l->size));

	while (ia < end) {
		struct sim_xlate x;

		tlb_walk(NULL, l->tag, ia, &x);
		if (!x.leaf ||
		    x.pa_base + (ia - x.ia_base) != l->pa_base + (ia - l->ia_base) ||
		    (l->perms & ~x.perms) || l->attr != x.attr) {
			return false;
		}
		ia = x.ia_base + x.size;
	}
	return true;
}

/* A walk-cache entry: its table page is live and still linked there. */
static bool walk_backed(const struct sim_tlb_walk *w)
{
	struct sim_xlate x;

	if (!smp_page_live(w->table)) {
		return false;
	}
	tlb_walk(NULL, w->tag, w->ia_base, &x);
	for (unsigned int i = 0; i < x.nr_tables; i++) {
		if (x.table_level[i] == w->level) {
			return x.table[i] == w->table;
		}
	}
	return false;
}

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a < b + bsize && b < a + asize;
}

/*
 * With the MMU lock held exclusive, after an operation on [@gpa, +@size)
 * returned: no CPU's TLB holds a leaf or walk-cache entry there that the
 * tables no longer back. (What lies outside was checked after the
 * operation that changed it; faults only add translations.)
 */
static void check_tlbs(const char *after, gpa_t gpa, uint64_t size)
{
	for (unsigned int i = 0; i < nr_threads; i++) {
		struct smp_cpu *c = &smp_cpus[i];
		const struct sim_tlb *t = &c->tlb;
		const struct sim_tlb_leaf *bad_leaf = NULL;
		const struct sim_tlb_walk *bad_walk = NULL;

		pthread_mutex_lock(&c->tlb_lock);
		for (unsigned int j = 0; j < t->nr_leaf && !bad_leaf; j++) {
			const struct sim_tlb_leaf *l = &t->leaf[j];

			if (l->valid && overlaps(l->ia_base, l->size, gpa, size) &&
			    !leaf_backed(l, gpa, gpa + size)) {
				bad_leaf = l;
			}
		}
		for (unsigned int j = 0; j < t->nr_walk && !bad_walk; j++) {
			const struct sim_tlb_walk *w = &t->walk[j];

			if (w->valid && overlaps(w->ia_base, w->span, gpa, size) &&
			    !walk_backed(w)) {
				bad_walk = w;
			}
		}
		pthread_mutex_unlock(&c->tlb_lock);
		if (bad_leaf) {
			fail("after %s [0x%llx, +0x%llx): cpu %u holds a stale TLB leaf: ia 0x%llx size 0x%llx -> pa 0x%llx perms %u",
			     after, (unsigned long long)gpa,
			     (unsigned long long)size, i,
			     (unsigned long long)bad_leaf->ia_base,
			     (unsigned long long)bad_leaf->size,
			     (unsigned long long)bad_leaf->pa_base,
			     bad_leaf->perms);
			return;
		}
		if (bad_walk) {
			fail("after %s [0x%llx, +0x%llx): cpu %u holds a stale walk-cache entry: ia 0x%llx level %d table 0x%llx",
			     after, (unsigned long long)gpa,
			     (unsigned long long)size, i,
			     (unsigned long long)bad_walk->ia_base,
			     bad_walk->level,
			     (unsigned long long)bad_walk->table);
			return;
		}
	}
}

/* ---- Operations ------------------------------------------------------------- */

/* Load the default view's root (exclusive: root references, the cache). */
static void cpu_reload(struct cpu_thread *t)
{
	uint64_t allocs;
	int ret;

	s2_mmu_write_lock(&mmu);
	allocs = mmu.stats.root_allocs;
	ret = s2_root_cache_load(&t->cache, &mmu, s2_mmu_role(&mmu, 0));
	if (ret) {
		fail("cpu %u: root load: %d", t->cpu, ret);
	} else if (mmu.stats.root_allocs != allocs) {
		/* A new root in a slot: nothing mapped in it yet. */
		model_set(slot_of(t->cache.cur), WIN_BASE, WIN_SIZE, 0);
	}
	t->st.reloads++;
	s2_mmu_write_unlock(&mmu);
}

static gpa_t pick_page(struct cpu_thread *t)
{
	/* Half the time the phase's hot 2 MiB region: faults collide. */
	if (rnd(t, 2)) {
		gpa_t region = WIN_BASE + (phase % WIN_REGIONS) * SZ_2M;

		return region + rnd(t, SZ_2M >> PAGE_SHIFT) * PAGE_SIZE;
	}
	return WIN_BASE + rnd(t, WIN_PAGES) * PAGE_SIZE;
}

/* A fault at @gpa in a memslot of the window, or of its page when @small. */
static void cpu_fault(struct cpu_thread *t, gpa_t gpa, bool small)
{
	unsigned int prot = prots[rnd(t, 4)];
	struct s2_fault_result res;
	struct s2_root *r;
	gpa_t lo, hi;
	int ret;

	if (!small) {
		lo = WIN_BASE;			/* the memslot: blocks */
		hi = WIN_BASE + WIN_SIZE;
	} else {
		lo = gpa;			/* a 4 KiB slot: tables */
		hi = gpa + PAGE_SIZE;
	}
	for (;;) {
		s2_mmu_read_lock(&mmu);
		r = t->cache.cur;
		if (r && !r->role.invalid) {
			break;
		}
		/* Invalidated under us: the next guest entry loads anew. */
		s2_mmu_read_unlock(&mmu);
		cpu_reload(t);
		if (has_failed()) {
			return;
		}
	}
	t->st.faults++;
	ret = s2pt_map_fault(&r->pt, gpa, lo, hi, lo + PA_OFF, prot, &res);
	if (ret == 0) {
		uint64_t size = S2_LEVEL_SIZE(res.t.level);

		t->st.installed++;
		model_set(slot_of(r), ALIGN_DOWN(gpa, size), size,
			  (uint8_t)prot);
		if (res.t.pa != gpa + PA_OFF || res.t.prot != prot) {
			fail("fault at 0x%llx installed pa 0x%llx prot %u",
			     (unsigned long long)gpa,
			     (unsigned long long)res.t.pa, res.t.prot);
		}
	} else if (ret == -EEXIST && res.found == S2_FAULT_LEAF) {
		t->st.found++;
		if (res.t.pa != gpa + PA_OFF) {
			fail("fault at 0x%llx found pa 0x%llx",
			     (unsigned long long)gpa,
			     (unsigned long long)res.t.pa);
		}
	} else {
		fail("fault at 0x%llx: %d (found %d)", (unsigned long long)gpa,
		     ret, ret == -EEXIST ? (int)res.found : -1);
	}
	s2_mmu_read_unlock(&mmu);
}

static void pick_range(struct cpu_thread *t, gpa_t *gpa, uint64_t *size)
{
	gpa_t end = WIN_BASE + WIN_SIZE;

	if (rnd(t, 4) == 0) {
		/* Whole 2 MiB regions: the fast detach, blocks kept whole. */
		*gpa = WIN_BASE + rnd(t, WIN_REGIONS) * SZ_2M;
		*size = (1 + rnd(t, 3)) * SZ_2M;
	} else {
		*gpa = pick_page(t);
		*size = (1 + rnd(t, rnd(t, 2) ? 16 : 1024)) * PAGE_SIZE;
	}
	*size = MIN(*size, end - *gpa);
}

static void cpu_unmap(struct cpu_thread *t, gpa_t gpa, uint64_t size)
{
	int ret = s2_mmu_unmap_everywhere(&mmu, gpa, size);

	t->st.unmaps++;
	if (ret) {
		fail("unmap [0x%llx, +0x%llx): %d", (unsigned long long)gpa,
		     (unsigned long long)size, ret);
	}
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		model_set(i, gpa, size, 0);
	}
}

static void cpu_protect(struct cpu_thread *t, gpa_t gpa, uint64_t size)
{
	unsigned int prot = prots[rnd(t, 4)];

	t->st.protects++;
	for (struct s2_root *r = mmu.list; r; r = r->next) {
		unsigned int s = slot_of(r);
		int ret = s2pt_protect(&r->pt, gpa, size, prot);

		if (ret) {
			fail("protect [0x%llx, +0x%llx): %d",
			     (unsigned long long)gpa,
			     (unsigned long long)size, ret);
			return;
		}
		for (gpa_t a = gpa; a < gpa + size; a += PAGE_SIZE) {
			if (model_get(s, a)) {
				model_set(s, a, PAGE_SIZE, (uint8_t)prot);
			}
		}
	}
}

/* Splits and collapses keep every translation: the model stays. */
static void cpu_reshape(struct cpu_thread *t, gpa_t gpa, uint64_t size,
			bool split)
{
	for (struct s2_root *r = mmu.list; r; r = r->next) {
		int ret = split ? s2pt_split(&r->pt, gpa, size, 0) :
				  s2pt_collapse(&r->pt, gpa, size);

		if (ret < 0) {
			fail("%s [0x%llx, +0x%llx): %d",
			     split ? "split" : "collapse",
			     (unsigned long long)gpa,
			     (unsigned long long)size, ret);
			return;
		}
	}
	if (split) {
		t->st.splits++;
	} else {
		t->st.collapses++;
	}
}

static void cpu_write_op(struct cpu_thread *t, unsigned int kind)
{
	static const char *const names[] = {
		"unmap", "protect", "split", "collapse",
	};
	uint64_t size;
	gpa_t gpa;

	pick_range(t, &gpa, &size);
	s2_mmu_write_lock(&mmu);
	switch (kind) {
	case 0:
		cpu_unmap(t, gpa, size);
		break;
	case 1:
		cpu_protect(t, gpa, size);
		break;
	default:
		cpu_reshape(t, gpa, size, kind == 2);
		break;
	}
	check_tlbs(names[kind], gpa, size);
	s2_mmu_write_unlock(&mmu);
}

static void zap_yield(struct s2_mmu *m, void *arg)
{
	(void)m;
	(void)arg;
	sched_yield();	/* let faults and other writers into the gap */
}

static void cpu_invalidate(struct cpu_thread *t)
{
	s2_mmu_invalidate_all(&mmu);
	t->st.invalidations++;
	s2_mmu_write_lock(&mmu);
	check_tlbs("invalidate-all", 0, BIT(IA_BITS));
	s2_mmu_write_unlock(&mmu);
}

static void cpu_op(struct cpu_thread *t)
{
	unsigned int r = (unsigned int)rnd(t, 1000);
	gpa_t gpa = pick_page(t);

	t->st.ops++;
	if (r < 550) {
		cpu_fault(t, gpa, rnd(t, 2));
		cpu_access(t, gpa);
	} else if (r < 750) {
		cpu_access(t, gpa);
	} else if (r < 840) {
		cpu_write_op(t, 0);
	} else if (r < 900) {
		cpu_write_op(t, 1);
	} else if (r < 930) {
		cpu_write_op(t, 2);
	} else if (r < 960) {
		cpu_write_op(t, 3);
	} else if (r < 990) {
		cpu_reload(t);
	} else {
		cpu_invalidate(t);
	}
}

/*
 * Every CPU leaves the barrier into the same burst: 4 KiB faults over the
 * phase's hot 2 MiB region, which the quiescent point emptied. Their first
 * STORM_SHARED faults go to the same pages in the same order, so they race
 * to link the same tables and leaves (fault retries); then each fills its
 * own part of the region, so they raise the same table's count at once.
 */
static void cpu_storm(struct cpu_thread *t)
{
	gpa_t region = WIN_BASE + (phase % WIN_REGIONS) * SZ_2M;
	unsigned int first = t->cpu * (512 / SMP_MAX_CPUS) * 2;

	for (unsigned int i = 0; i < STORM_FAULTS && !has_failed(); i++) {
		unsigned int page = i < STORM_SHARED ? (i * 67) % 512 :
				    (first + i) % 512;
		gpa_t gpa = region + page * PAGE_SIZE;

		t->st.ops++;
		cpu_fault(t, gpa, true);
		cpu_access(t, gpa);
	}
}

/* Empty the next phase's hot region for its storm (cpu 0, quiescent). */
static void prepare_storm(void)
{
	gpa_t region = WIN_BASE + (phase % WIN_REGIONS) * SZ_2M;

	s2_mmu_write_lock(&mmu);
	if (s2_mmu_unmap_everywhere(&mmu, region, SZ_2M)) {
		fail("unmap of the storm region failed");
	}
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		model_set(i, region, SZ_2M, 0);
	}
	check_tlbs("storm unmap", region, SZ_2M);
	s2_mmu_write_unlock(&mmu);
}

/* ---- Quiescent points ------------------------------------------------------- */

static void check_root(const struct s2_root *r)
{
	unsigned int s = slot_of(r);

	if (r->role.invalid) {
		/* Its zap is over and nothing faults into an invalid root. */
		if (r->pt.root_count || r->pt.counters.tables_in_use) {
			fail("invalid root %u still maps (%u entries, %llu tables)",
			     s, r->pt.root_count,
			     (unsigned long long)r->pt.counters.tables_in_use);
		}
		return;
	}
	for (gpa_t a = WIN_BASE; a < WIN_BASE + WIN_SIZE; a += PAGE_SIZE) {
		uint8_t want = model_get(s, a);
		struct sim_xlate x;

		ref_walk(&r->pt, a, &x);
		if (!want && !x.leaf) {
			continue;
		}
		if (!want || !x.leaf ||
		    x.pa_base + (a - x.ia_base) != a + PA_OFF ||
		    (x.perms & S2_PROT_RWX) != want) {
			fail("root %u at 0x%llx: model prot %u, tables %s pa 0x%llx perms %u",
			     s, (unsigned long long)a, want,
			     x.leaf ? "map" : "do not map",
			     (unsigned long long)(x.pa_base + (a - x.ia_base)),
			     x.perms);
			return;
		}
	}
}

static void quiescent_check(void)
{
	unsigned long pages = 0;
	struct s2_format fmt;

	arch_s2_format_init(&fmt, IA_BITS);
	if (s2_mmu_audit(&mmu)) {
		fail("s2_mmu_audit failed");
	}
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS && !has_failed(); i++) {
		const struct s2_root *r = &mmu.pool[i];

		if (!r->in_use) {
			continue;
		}
		if (r->pt.audit_failures) {
			fail("root %u: %u audit failures", i,
			     r->pt.audit_failures);
		}
		check_root(r);
		pages += r->pt.counters.tables_in_use + fmt.root_pages;
	}
	if (mmu.spare_root) {
		pages += fmt.root_pages;
	}
	if (!has_failed() && pages != smp_pages_live()) {
		fail("%lu pages live, the roots account for %lu",
		     smp_pages_live(), pages);
	}
	if (!has_failed()) {
		check_tlbs("quiescent point", 0, BIT(IA_BITS));
	}
}

static void progress(bool force)
{
	time_t now = time(NULL);
	struct s2_counters c;
	unsigned long ops = 0;

	if (!force && now - last_progress < PROGRESS_S) {
		return;
	}
	last_progress = now;
	s2_mmu_counters(&mmu, &c);
	for (unsigned int i = 0; i < nr_threads; i++) {
		ops += __atomic_load_n(&cpus[i].st.ops, __ATOMIC_RELAXED);
	}
	printf("# smp_stress: phase %u/%u: %lu ops, %llu fault retries, %llu remote flushes, %llu lock waits\n",
	       phase, nr_phases, ops, (unsigned long long)c.fault_retries,
	       (unsigned long long)smp_remote_flushes,
	       (unsigned long long)s2_mmu_lock_waits(&mmu));
	fflush(stdout);
}

static void *cpu_main(void *arg)
{
	struct cpu_thread *t = arg;

	smp_this_cpu = (int)t->cpu;
	cpu_reload(t);
	for (unsigned int p = 0; p < nr_phases; p++) {
		cpu_storm(t);
		for (unsigned int i = STORM_FAULTS;
		     i < OPS_PER_PHASE && !has_failed(); i++) {
			cpu_op(t);
		}
		pthread_barrier_wait(&barrier);
		if (t->cpu == 0) {
			if (!has_failed()) {
				quiescent_check();
			}
			progress(false);
			phase++;
			prepare_storm();
		}
		pthread_barrier_wait(&barrier);
		if (has_failed()) {
			break;
		}
	}
	return NULL;
}

/* ---- The test ----------------------------------------------------------------- */

static unsigned int pick_flags(uint64_t seed)
{
#ifdef SMP_EPT
	static const unsigned int f[] = { 0, S2PT_F_VE };
#else
	static const unsigned int f[] = {
		0, S2PT_F_FWB, S2PT_F_TLBIRANGE, S2PT_F_FWB | S2PT_F_TLBIRANGE,
	};
#endif
	return f[seed % (sizeof(f) / sizeof(f[0]))];
}

/* Faults, zaps, protects and invalidate-all from several CPUs at once. */
static void concurrent_core_with_per_cpu_tlbs(void)
{
	struct s2_counters c;
	unsigned int flags = pick_flags(test_seed);
	struct stats sum = { 0 };

	CHECK(nr_threads >= 1 && nr_threads <= SMP_MAX_CPUS);
	nr_phases = (unsigned int)((total_ops + nr_threads * OPS_PER_PHASE - 1) /
				   (nr_threads * OPS_PER_PHASE));
	CHECK_EQ(s2_mmu_init(&mmu, IA_BITS, flags, 1), 0);
	mmu.lock_tables = true;
	/*
	 * The per-operation audit of every exclusive writer costs a full
	 * table scan under the lock; the quiescent points run it instead.
	 */
	s2_audit_on = false;
	mmu.zap_chunk = SZ_1G;
	mmu.yield = zap_yield;
	smp_nr_cpus = nr_threads;
	for (unsigned int i = 0; i < nr_threads; i++) {
		pthread_mutex_init(&smp_cpus[i].tlb_lock, NULL);
		CHECK_EQ(sim_tlb_init(&smp_cpus[i].tlb, TLB_LEAVES, TLB_WALKS,
				      tlb_walk, NULL, NULL), 0);
		cpus[i].cpu = i;
		cpus[i].rng = test_seed * 0x9E3779B97F4A7C15ULL + i + 1;
	}
	printf("# smp_stress: %u threads, %u phases of %u ops each, flags 0x%x%s\n",
	       nr_threads, nr_phases, OPS_PER_PHASE, flags,
	       smp_break_remote ? ", remote flushes broken (must fail)" : "");
	fflush(stdout);
	last_progress = time(NULL);
	prepare_storm();
	pthread_barrier_init(&barrier, NULL, nr_threads);
	for (unsigned int i = 0; i < nr_threads; i++) {
		CHECK_EQ(pthread_create(&cpus[i].tid, NULL, cpu_main, &cpus[i]),
			 0);
	}
	for (unsigned int i = 0; i < nr_threads; i++) {
		pthread_join(cpus[i].tid, NULL);
	}
	pthread_barrier_destroy(&barrier);
	progress(true);
	s2_mmu_counters(&mmu, &c);
	for (unsigned int i = 0; i < nr_threads; i++) {
		const struct stats *s = &cpus[i].st;

		sum.ops += s->ops;
		sum.faults += s->faults;
		sum.installed += s->installed;
		sum.found += s->found;
		sum.accesses += s->accesses;
		sum.hits += s->hits;
		sum.unmaps += s->unmaps;
		sum.protects += s->protects;
		sum.splits += s->splits;
		sum.collapses += s->collapses;
		sum.invalidations += s->invalidations;
		sum.reloads += s->reloads;
	}
	printf("# smp_stress: %lu operations: %lu faults (%lu installed, %lu found), %lu accesses (%lu TLB hits), %lu unmaps, %lu protects, %lu splits, %lu collapses, %lu invalidate-all, %lu root loads\n",
	       sum.ops, sum.faults, sum.installed, sum.found, sum.accesses, sum.hits,
	       sum.unmaps, sum.protects, sum.splits, sum.collapses,
	       sum.invalidations, sum.reloads);
	printf("# smp_stress: %llu fault retries, %llu flush plans (%llu local, %llu remote executions), %llu lock waits, %llu roots created\n",
	       (unsigned long long)c.fault_retries,
	       (unsigned long long)c.flushes,
	       (unsigned long long)smp_local_flushes,
	       (unsigned long long)smp_remote_flushes,
	       (unsigned long long)s2_mmu_lock_waits(&mmu),
	       (unsigned long long)mmu.stats.root_allocs);
	fflush(stdout);
	if (has_failed()) {
		test_fail(__FILE__, __LINE__, "%s", fail_text);
	}
	s2_mmu_write_lock(&mmu);
	for (unsigned int i = 0; i < nr_threads; i++) {
		s2_root_cache_clear(&cpus[i].cache);
	}
	s2_mmu_write_unlock(&mmu);
	s2_mmu_destroy(&mmu);
	for (unsigned int i = 0; i < nr_threads; i++) {
		sim_tlb_destroy(&smp_cpus[i].tlb);
	}
	s2_audit_on = true;
	CHECK_EQ(smp_pages_live(), 0);
	CHECK(!has_failed());
	CHECK_EQ(warn_count, 0);
	CHECK(sum.unmaps && sum.invalidations && sum.installed);
	CHECK(sum.ops >= total_ops);
}

/* A ThreadSanitizer report ends the run at once, as a failure. */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=1:exitcode=66";
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			total_ops = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			nr_threads = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--break-remote")) {
			smp_break_remote = true;
		}
	}
#ifdef SMP_EPT
	test_init(argc, argv, "smp_stress_ept");
#else
	test_init(argc, argv, "smp_stress_stage2");
#endif
	RUN_TEST(concurrent_core_with_per_cpu_tlbs);
	return test_done();
}
