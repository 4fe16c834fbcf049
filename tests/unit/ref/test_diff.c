// SPDX-License-Identifier: MIT
/*
 * Randomized differential tests of the stage-2 core against the reference
 * translators and the simulated TLB. Built twice: with -DDIFF_EPT (mm core +
 * arch/x86/ept.c) as diff_ept and with -DDIFF_STAGE2 (arch/arm64/stage2.c) as
 * diff_stage2.
 *
 * Each test drives a long random sequence of map / unmap / protect / split /
 * collapse / fast unmap / remap over a 4 GiB window of guest-physical space
 * against a flat model (4 KiB page -> PA, prot), fills the simulated TLB
 * with random guest accesses between operations, and after EVERY step
 * checks: the reference walk of the real tables agrees with the model over
 * the operation's range and its edges; no cached leaf or walk-cache entry
 * survives a removed or narrowed translation; no freed table page is
 * reachable or cached; break-before-make held; the operation cost at most
 * one invalidation besides break-before-make. Periodically (and at the end)
 * the whole table is scanned: tables reachable once, all live, none empty,
 * their number equal to the core's counters and, after a collapse of the
 * window, to the minimum the format allows. Allocation failures are injected
 * at every allocation of map, split, protect and unmap of some steps: the
 * table must stay byte-for-byte the same with -ENOMEM. Teardown must free
 * every page.
 *
 * Options: --seed N (replay), --long (10x the operations), --ops N.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <mm/s2_walk.h>
#include "core/host_hooks.h"
#include "harness.h"
#include "ref_ept.h"
#include "ref_stage2.h"
#include "sim_tlb.h"

#if defined(DIFF_EPT) == defined(DIFF_STAGE2)
#error "build with exactly one of -DDIFF_EPT and -DDIFF_STAGE2"
#endif

#define WIN_SIZE	(4ull << 30)
#define WIN_PAGES	(WIN_SIZE >> 12)
#define NR_2M		(WIN_SIZE >> 21)
#define NR_1G		(WIN_SIZE >> 30)
#define PA_LIMIT	pa_limit
#define SCAN_EVERY	512
#define COLLAPSE_EVERY	2000

enum op_kind {
	OP_MAP, OP_UNMAP, OP_PROTECT, OP_SPLIT, OP_COLLAPSE, OP_FAST_UNMAP,
	OP_REMAP, NR_OP_KINDS
};

static const char *const op_names[NR_OP_KINDS] = {
	"map", "unmap", "protect", "split", "collapse", "fast_unmap", "remap",
};

struct op {
	enum op_kind kind;
	gpa_t gpa;
	uint64_t size;
	paddr_t pa;
	unsigned int prot;
	unsigned int level;
};

/* ---- State of one run ---------------------------------------------------- */

static struct s2pt pt;
static struct sim_tlb tlb;
static uint64_t tag;		/* EPTP or VTTBR_EL2 */
static gpa_t win;		/* window base, 1 GiB aligned */
static uint64_t *m_pa;		/* model: PA of each 4 KiB page */
static uint8_t *m_prot;		/* model: S2_PROT_* (0 = unmapped) */
static uint64_t step;
static struct op cur;
static char fail_msg[2048];	/* first failure of the run */
static unsigned long nr_ops_default = 100000;
static uint64_t pa_limit;	/* 2^(output bits), at most 2^48 */

/* Coverage of a run, printed at its end. */
static struct {
	unsigned long ok[NR_OP_KINDS];
	unsigned long err[NR_OP_KINDS];
	unsigned long erange, injected, leaves[3], stale_max;
	unsigned long collapsed, replaced;
} stats;

#ifdef DIFF_EPT
static struct ref_ept_opts eopts;
#else
static struct ref_s2_cfg scfg;
#endif

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (fail_msg[0]) {
		return;
	}
	n = snprintf(fail_msg, sizeof(fail_msg),
		     "step %llu op %s gpa 0x%llx size 0x%llx pa 0x%llx prot %u level %u: ",
		     (unsigned long long)step, op_names[cur.kind],
		     (unsigned long long)cur.gpa, (unsigned long long)cur.size,
		     (unsigned long long)cur.pa, cur.prot, cur.level);
	va_start(ap, fmt);
	vsnprintf(fail_msg + n, sizeof(fail_msg) - n, fmt, ap);
	va_end(ap);
}

static uint64_t rng_state;	/* per test, so --only replays too */

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return n ? (rng_state * 0x2545F4914F6CDD1Dull >> 11) % n : 0;
}

/* ---- Reading the real tables --------------------------------------------- */

static uint64_t table_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (!host_page_live(pa & ~0xfffull)) {
		fail("reference walk reads 0x%llx, not a live table page",
		     (unsigned long long)pa);
		return 0;
	}
	return *(const uint64_t *)(uintptr_t)pa;
}

/* What the reference translator says about one address, format-neutral. */
struct xl {
	bool leaf;		/* a translation (maybe without permission) */
	bool bad;		/* misconfiguration or attribute error */
	const char *why;
	uint64_t ia_base, size, pa_base;
	unsigned int prot;	/* S2_PROT_* incl. DEVICE */
	uint64_t absent_span;	/* !leaf: span of the not-present entry */
	struct sim_xlate sx;
};

#ifdef DIFF_EPT
static void ref_translate(uint64_t ia, struct xl *x)
{
	struct ref_ept_walk w;

	memset(x, 0, sizeof(*x));
	ref_ept_walk(tag, ia, REF_READ, &eopts, table_read64, NULL, &w);
	sim_xlate_from_ept(&w, &x->sx);
	if (w.result == REF_EPT_BAD_EPTP || w.result == REF_EPT_MISCONFIG) {
		x->bad = true;
		x->why = w.result == REF_EPT_BAD_EPTP ? "bad EPTP" :
			 "EPT misconfiguration";
		return;
	}
	if (w.result == REF_EPT_VIOLATION && w.why == REF_EPT_WHY_NOT_PRESENT) {
		x->absent_span = 1ull << (12 + 9 * w.fault_level);
		if (eopts.ve && w.ve) {
			x->bad = true;
			x->why = "not-present entry without SUPPRESS_VE";
		}
		return;
	}
	x->leaf = true;
	x->ia_base = w.leaf_gpa_base;
	x->size = 1ull << (12 + 9 * w.leaf_level);
	x->pa_base = w.leaf_pa_base;
	x->prot = w.perms;
	if (w.memtype == 0) {
		x->prot |= S2_PROT_DEVICE;
	} else if (w.memtype != 6) {
		x->bad = true;
		x->why = "memory type neither UC nor WB";
	}
}
#else
static void ref_translate(uint64_t ia, struct xl *x)
{
	struct ref_s2_walk w;

	memset(x, 0, sizeof(*x));
	ref_s2_walk(&scfg, ia, REF_READ, table_read64, NULL, &w);
	sim_xlate_from_s2(&w, &x->sx);
	if (w.bad_config || w.fault == REF_S2_ADDR_SIZE ||
	    w.fault == REF_S2_ACCESS_FLAG) {
		x->bad = true;
		x->why = w.bad_config ? "bad VTCR/VTTBR" :
			 w.fault == REF_S2_ADDR_SIZE ? "address size fault" :
			 "access flag fault";
		return;
	}
	if (w.fault == REF_S2_TRANSLATION) {
		x->absent_span = 1ull << (12 + 9 * (3 - w.fault_arm_level));
		return;
	}
	x->leaf = true;
	x->ia_base = w.leaf_ipa_base;
	x->size = 1ull << (12 + 9 * w.leaf_level);
	x->pa_base = w.leaf_pa_base;
	x->prot = w.perms & (REF_READ | REF_WRITE | REF_FETCH);
	if (!!(w.perms & REF_FETCH) != !!(w.perms & REF_FETCH_EL0)) {
		x->bad = true;
		x->why = "EL0 and EL1 execute permissions differ";
	}
	if (w.res0_set) {
		x->bad = true;
		x->why = "RES0 bit set in a leaf";
	}
	if (w.attr.kind == REF_S2_MEM_DEVICE && w.attr.dev == 1) {
		x->prot |= S2_PROT_DEVICE;
	} else if (w.attr.kind != REF_S2_MEM_NORMAL ||
		   w.attr.inner != REF_S2_WB || w.attr.outer != REF_S2_WB ||
		   w.attr.forced != scfg.fwb || w.sh != 3) {
		x->bad = true;
		x->why = "MemAttr/SH neither normal WB inner-shareable nor Device-nGnRE";
	}
}
#endif

static void tlb_walk(void *ctx, uint64_t t, uint64_t ia, struct sim_xlate *sx)
{
	struct xl x;

	(void)ctx;
	(void)t;
	ref_translate(ia, &x);
	*sx = x.sx;
}

static bool tlb_freed(void *ctx, uint64_t pa)
{
	(void)ctx;
	return !host_page_live(pa);
}

/* ---- The model --------------------------------------------------------- */

static uint64_t pidx(gpa_t gpa)
{
	return (gpa - win) >> 12;
}

/* The model over [lo, hi) agrees with one reference answer @x at @base. */
static void check_model(const struct xl *x, gpa_t base, gpa_t lo, gpa_t hi)
{
	for (gpa_t g = lo; g < hi; g += 4096) {
		uint64_t k = pidx(g);
		uint64_t pa = x->pa_base + (g - base);

		if (!x->leaf && m_prot[k]) {
			fail("gpa 0x%llx: model maps it to 0x%llx, tables do not",
			     (unsigned long long)g,
			     (unsigned long long)m_pa[k]);
			return;
		}
		if (x->leaf && (m_prot[k] != x->prot || m_pa[k] != pa)) {
			fail("gpa 0x%llx: model pa 0x%llx prot %u, tables pa 0x%llx prot %u (leaf size 0x%llx)",
			     (unsigned long long)g,
			     (unsigned long long)m_pa[k], m_prot[k],
			     (unsigned long long)pa, x->prot,
			     (unsigned long long)x->size);
			return;
		}
	}
}

/*
 * Check the tables against the model for every page of [a, end), clipped to
 * the window: one reference walk per leaf or not-present entry met.
 */
static void check_range(gpa_t a, gpa_t end)
{
	gpa_t lo = a < win ? win : a;
	gpa_t hi = end > win + WIN_SIZE ? win + WIN_SIZE : end;

	for (a = lo; a < hi && !fail_msg[0];) {
		struct xl x;
		uint64_t span;
		gpa_t base, next;

		ref_translate(a, &x);
		if (x.bad) {
			fail("gpa 0x%llx: %s", (unsigned long long)a, x.why);
			return;
		}
		span = x.leaf ? x.size : x.absent_span;
		base = a & ~(span - 1);
		if (x.leaf && span <= (1ull << 30)) {
			stats.leaves[span == 4096 ? 0 :
				     span == (1ull << 21) ? 1 : 2]++;
		}
		if (x.leaf && (base < win || base + span > win + WIN_SIZE)) {
			fail("leaf 0x%llx size 0x%llx reaches outside the window",
			     (unsigned long long)base,
			     (unsigned long long)span);
			return;
		}
		next = base + span;
		check_model(&x, base, a, next < hi ? next : hi);
		a = next;
	}
}

static bool model_any_mapped(gpa_t gpa, uint64_t size)
{
	for (uint64_t i = pidx(gpa); i < pidx(gpa + size); i++) {
		if (m_prot[i]) {
			return true;
		}
	}
	return false;
}

static uint64_t model_normal_pages(gpa_t gpa, uint64_t size)
{
	uint64_t n = 0;

	for (uint64_t i = pidx(gpa); i < pidx(gpa + size); i++) {
		n += m_prot[i] && !(m_prot[i] & S2_PROT_DEVICE);
	}
	return n;
}

/* ---- Observers --------------------------------------------------------- */

#ifdef DIFF_EPT
static bool hw_valid(s2pte_t e)
{
	return e & 7;
}

static uint64_t bbm_sig(s2pte_t e)
{
	return e & (GENMASK(51, 12) | BIT(7));
}

/* An EPT entry maps a page or block: a PTE, or bit 7 in a PDE / PDPTE. */
static bool ept_is_leaf(s2pte_t e, unsigned int level)
{
	return level == 0 || (level < 3 && (e & BIT(7)));
}

/*
 * Whether every address under the present entry @e at @level translates,
 * with the rights @perms granted by the entries above, to @pa + its offset
 * with exactly the rights @want and the memory type / ignore-PAT @attr.
 */
static bool ept_maps_as(s2pte_t e, unsigned int level, unsigned int perms,
			uint64_t pa, unsigned int want, uint64_t attr)
{
	const s2pte_t *t;

	perms &= e & 7;
	if (!(e & 7)) {
		return false;
	}
	if (ept_is_leaf(e, level)) {
		return (e & GENMASK(51, 12 + 9 * level)) == pa &&
		       perms == want && (e & 0x78) == attr;
	}
	t = (const s2pte_t *)(uintptr_t)(e & GENMASK(51, 12));
	for (unsigned int i = 0; i < 512; i++) {
		if (!ept_maps_as(t[i], level - 1, perms,
				 pa + i * S2_LEVEL_SIZE(level - 1), want,
				 attr)) {
			return false;
		}
	}
	return true;
}

/*
 * EPT needs no break-before-make when a present entry is replaced by one of
 * the same translation (Intel SDM Vol. 3A 4.10.4.2: only a write changing
 * both the page size and the frame, rights or attributes of some address
 * leaves the CPU a choice between different translations): a block by a
 * table of the same pages, a table by the same block. The CPU may use the
 * old or the new entry until the invalidation; the stale-TLB checks then
 * demand that invalidation before the operation returns and before a
 * replaced table is freed. At least one side must be a leaf here.
 */
static bool ept_same_translation(s2pte_t old, s2pte_t new, unsigned int level)
{
	if (ept_is_leaf(old, level)) {
		return ept_maps_as(new, level, 7,
				   old & GENMASK(51, 12 + 9 * level),
				   old & 7, old & 0x78);
	}
	if (ept_is_leaf(new, level)) {
		return ept_maps_as(old, level, 7,
				   new & GENMASK(51, 12 + 9 * level),
				   new & 7, new & 0x78);
	}
	return false;
}
#else
static bool hw_valid(s2pte_t e)
{
	return e & 1;
}

static uint64_t bbm_sig(s2pte_t e)
{
	return e & (GENMASK(47, 12) | 3);
}
#endif

#define BBM_SLOTS	(1u << 20)

struct bbm_slot {
	const s2pte_t *ptep;
	uint64_t gen;
	uint64_t epoch;
	s2pte_t old;
};

static struct bbm_slot *bbm;
static uint64_t bbm_gen, flush_epoch;
static unsigned long op_flushes, op_bbm_makes, op_cmo_pages, op_breaks;
static unsigned long op_replaced;	/* EPT: valid to valid, one write */
static bool in_op;

static struct bbm_slot *bbm_find(const s2pte_t *ptep)
{
	size_t i = ((uintptr_t)ptep >> 3) * 0x9E3779B97F4A7C15ull >> 44;

	for (;; i = (i + 1) & (BBM_SLOTS - 1)) {
		struct bbm_slot *s = &bbm[i & (BBM_SLOTS - 1)];

		if (s->gen != bbm_gen || s->ptep == ptep) {
			return s;
		}
	}
}

static void on_write(const s2pte_t *ptep, s2pte_t old, s2pte_t new,
		     unsigned int level)
{
	struct bbm_slot *s;

	if (!hw_valid(new)) {
		if (hw_valid(old)) {
			s = bbm_find(ptep);
			*s = (struct bbm_slot){ ptep, bbm_gen, flush_epoch,
						old };
			op_breaks++;
		}
		return;
	}
	if (hw_valid(old)) {
		if (bbm_sig(old) == bbm_sig(new)) {
			return;
		}
#ifdef DIFF_EPT
		if (ept_same_translation(old, new, level)) {
			op_replaced++;
			return;
		}
		fail("entry %p (level %u) changed 0x%llx -> 0x%llx in one write, not to the same translation",
		     (const void *)ptep, level, (unsigned long long)old,
		     (unsigned long long)new);
#else
		(void)level;
		fail("break-before-make: entry %p changed 0x%llx -> 0x%llx in one write",
		     (const void *)ptep, (unsigned long long)old,
		     (unsigned long long)new);
#endif
		return;
	}
	if (!op_breaks) {
		return;		/* nothing was broken in this op */
	}
	s = bbm_find(ptep);
	if (s->gen == bbm_gen && s->ptep == ptep) {
		if (s->epoch == flush_epoch &&
		    bbm_sig(s->old) != bbm_sig(new)) {
			fail("break-before-make: entry %p 0x%llx -> invalid -> 0x%llx without an invalidation",
			     (const void *)ptep, (unsigned long long)s->old,
			     (unsigned long long)new);
		}
		op_bbm_makes++;
		s->ptep = NULL;	/* tombstone: keeps probe chains */
	}
}

static void on_flush(struct s2pt *p, const struct s2_flush_plan *plan)
{
	(void)p;
	if (plan->kind == S2_FLUSH_NONE) {
		return;
	}
	flush_epoch++;
	op_flushes++;
#ifdef DIFF_EPT
	if (plan->kind != S2_FLUSH_ALL) {
		fail("EPT flush plan of kind %d (only single-context exists)",
		     plan->kind);
	}
	sim_tlb_inv_tag(&tlb, tag);	/* INVEPT single-context */
#else
	if (plan->kind == S2_FLUSH_IPA &&
	    (plan->nr_ipa > S2_FLUSH_MAX_IPA ||
	     (pt.flags & S2PT_F_TLBIRANGE))) {
		fail("per-IPA plan of %u addresses%s", plan->nr_ipa,
		     (pt.flags & S2PT_F_TLBIRANGE) ?
		     " although FEAT_TLBIRANGE is there" : "");
	}
	if (plan->kind == S2_FLUSH_RANGE && !(pt.flags & S2PT_F_TLBIRANGE)) {
		fail("range plan without FEAT_TLBIRANGE");
	}
	switch (plan->kind) {
	case S2_FLUSH_IPA:
		/* The level is the TTL hint: a wrong one misses the entry. */
		for (unsigned int i = 0; i < plan->nr_ipa &&
		     i < S2_FLUSH_MAX_IPA; i++) {
			uint8_t l = plan->ipa[i].level;

			sim_tlb_inv_ipa_ttl(&tlb, tag, plan->ipa[i].addr,
					    !plan->walk,
					    l == S2_LEVEL_ANY ? 0 :
					    S2_LEVEL_SIZE(l));
		}
		break;
	case S2_FLUSH_RANGE:
		sim_tlb_inv_range(&tlb, tag, plan->start,
				  (plan->end - plan->start) >> 12,
				  !plan->walk);
		break;
	default:
		sim_tlb_inv_tag(&tlb, tag);
		break;
	}
#endif
}

static void on_free(paddr_t pa)
{
	for (unsigned int i = 0; i < tlb.nr_walk; i++) {
		if (tlb.walk[i].valid && tlb.walk[i].table == pa) {
			fail("table page 0x%llx freed while a walk cache holds it (ia 0x%llx level %d)",
			     (unsigned long long)pa,
			     (unsigned long long)tlb.walk[i].ia_base,
			     tlb.walk[i].level);
		}
	}
}

static void on_cmo(struct s2pt *p, const struct s2_cmo_range *r,
		   unsigned int nr)
{
	struct sim_stale_report rep;

	(void)p;
	for (unsigned int i = 0; i < nr; i++) {
		op_cmo_pages += r[i].size >> 12;
	}
	if (in_op && sim_tlb_stale(&tlb, &rep)) {
		fail("cache maintenance before the TLB invalidation: %s",
		     rep.text);
	}
}

/* ---- Table scans (an independent decoder of table entries) --------------- */

#ifdef DIFF_EPT
static bool is_table(s2pte_t e, unsigned int level)
{
	return (e & 7) && (level == 3 || (level > 0 && !(e & BIT(7))));
}

static paddr_t table_pa(s2pte_t e)
{
	return e & GENMASK(51, 12);
}
#else
static bool is_table(s2pte_t e, unsigned int level)
{
	return level > 0 && (e & 3) == 3;
}

static paddr_t table_pa(s2pte_t e)
{
	return e & GENMASK(47, 12);
}
#endif

struct scan {
	gpa_t lo, hi;		/* only entries overlapping [lo, hi) */
	unsigned long nr;
	paddr_t *pages;		/* when collecting */
	unsigned long cap;
	uint8_t *copy;		/* snapshots: cap pages of bytes */
	uint8_t *root_copy;	/* when snapshotting: the root's entries */
	s2pte_t absent;
};

static void scan_table(struct scan *s, paddr_t t, unsigned int level,
		       gpa_t base, unsigned int nent, bool root)
{
	const s2pte_t *e = (const s2pte_t *)(uintptr_t)t;
	uint64_t esz = S2_LEVEL_SIZE(level);
	unsigned int used = 0;

	if (!host_page_live(t)) {
		fail("reachable table page 0x%llx is not allocated (freed?)",
		     (unsigned long long)t);
		return;
	}
	if (root && s->root_copy) {
		memcpy(s->root_copy, e, 8ull * nent);
	} else if (s->nr < s->cap) {
		s->pages[s->nr] = t;
		if (s->copy) {
			memcpy(s->copy + s->nr * 4096ull, e, 4096);
		}
	}
	s->nr++;
	for (unsigned int i = 0; i < nent && !fail_msg[0]; i++) {
		gpa_t a = base + i * esz;

		used += e[i] != s->absent;
		if (a + esz <= s->lo || a >= s->hi) {
			continue;
		}
		if (is_table(e[i], level)) {
			scan_table(s, table_pa(e[i]), level - 1, a, 512, false);
		}
	}
	if (!root && !used) {
		fail("empty table page 0x%llx at level %u is still linked",
		     (unsigned long long)t, level);
	}
}

static void scan_root(struct scan *s)
{
	s->absent = arch_s2_pte_absent(&pt);
	scan_table(s, pt.root, pt.fmt.levels - 1, 0, pt.fmt.root_entries,
		   true);
}

/* ---- Whole-table checks ------------------------------------------------- */

static int cmp_pa(const void *a, const void *b)
{
	paddr_t x = *(const paddr_t *)a, y = *(const paddr_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned long min_tables(void);

static void full_scan(bool expect_min)
{
	static paddr_t pages[1 << 16];
	struct scan s = { .lo = 0, .hi = ~0ull, .pages = pages,
			  .cap = 1 << 16 };
	unsigned long tables;

	scan_root(&s);
	if (fail_msg[0]) {
		return;
	}
	if (s.nr > s.cap) {
		fail("too many tables to check (%lu)", s.nr);
		return;
	}
	qsort(pages, s.nr, sizeof(pages[0]), cmp_pa);
	for (unsigned long i = 1; i < s.nr; i++) {
		if (pages[i] == pages[i - 1]) {
			fail("table page 0x%llx reachable twice",
			     (unsigned long long)pages[i]);
			return;
		}
	}
	tables = s.nr - 1;
	if (tables != pt.counters.tables_in_use ||
	    tables + pt.fmt.root_pages != host_alloc_live) {
		fail("%lu tables reachable, core counts %llu in use, host has %lu pages live (+%u root)",
		     tables, (unsigned long long)pt.counters.tables_in_use,
		     host_alloc_live, pt.fmt.root_pages);
		return;
	}
	if (s2pt_audit(&pt)) {
		fail("s2pt_audit() failed");
		return;
	}
	if (expect_min && tables != min_tables()) {
		fail("after collapse: %lu table pages, the minimum is %lu",
		     tables, min_tables());
	}
}

/* ---- Minimum table count for the model ---------------------------------- */

enum { R_EMPTY, R_BLOCK, R_MIXED };

/* State of an aligned region of @n pages starting at page @first. */
static int region_state(uint64_t first, uint64_t n, const int *child,
			uint64_t nchild)
{
	uint64_t step = n / (child ? nchild : n);
	bool empty = true, block = true;

	for (uint64_t c = 0; c < (child ? nchild : n); c++) {
		uint64_t k = first + c * step;
		int st = child ? child[c] : (m_prot[k] ? R_BLOCK : R_EMPTY);

		empty &= st == R_EMPTY;
		block &= st == R_BLOCK && m_prot[k] == m_prot[first] &&
			 m_pa[k] == m_pa[first] + c * step * 4096;
	}
	if (empty) {
		return R_EMPTY;
	}
	return block && !(m_pa[first] & (n * 4096 - 1)) ? R_BLOCK : R_MIXED;
}

static unsigned long min_tables(void)
{
	static int st2m[NR_2M], st1g[NR_1G];
	unsigned long n = 0;
	bool any = false;

	for (uint64_t r = 0; r < NR_2M; r++) {
		st2m[r] = region_state(r * 512, 512, NULL, 0);
		if (st2m[r] == R_BLOCK && !s2_level_has_blocks(&pt, 1)) {
			st2m[r] = R_MIXED;
		}
		n += st2m[r] == R_MIXED;	/* needs a level-0 table */
	}
	for (uint64_t r = 0; r < NR_1G; r++) {
		st1g[r] = region_state(r * 512 * 512, 512 * 512, st2m + r * 512,
				       512);
		if (st1g[r] == R_BLOCK && !s2_level_has_blocks(&pt, 2)) {
			st1g[r] = R_MIXED;
		}
		any |= st1g[r] != R_EMPTY;
		/* A level-1 table, unless the root holds level-1 entries. */
		n += st1g[r] == R_MIXED && pt.fmt.levels > 2;
	}
	/* A level-2 table per 512 GiB touched, unless it is the root. The
	 * window is 1 GiB aligned and 4 GiB long: one or two regions. */
	if (any && pt.fmt.levels > 3) {
		uint64_t first = win >> 39, last = (win + WIN_SIZE - 1) >> 39;

		for (uint64_t g = first; g <= last; g++) {
			bool used = false;

			for (uint64_t r = 0; r < NR_1G; r++) {
				used |= st1g[r] != R_EMPTY &&
					((win + (r << 30)) >> 39) == g;
			}
			n += used;
		}
	}
	return n;
}

/* ---- Snapshots for failure injection ------------------------------------- */

#define SNAP_MAX	4096

#define ROOT_BYTES	(S2_MAX_ROOT_PAGES * 4096)

static paddr_t snap_pages[SNAP_MAX], snap2_pages[SNAP_MAX];
static uint8_t *snap_copy, *snap2_copy;
static uint8_t snap_root[ROOT_BYTES], snap2_root[ROOT_BYTES];

static unsigned long snapshot(gpa_t lo, gpa_t hi, paddr_t *pages,
			      uint8_t *copy, uint8_t *root_copy)
{
	struct scan s = { .lo = lo, .hi = hi, .pages = pages, .cap = SNAP_MAX,
			  .copy = copy, .root_copy = root_copy };

	scan_root(&s);
	return s.nr;
}

/* ---- Operations ---------------------------------------------------------- */

static int run_op(const struct op *o)
{
	switch (o->kind) {
	case OP_MAP:
	case OP_REMAP:
		return s2pt_map(&pt, o->gpa, o->pa, o->size, o->prot);
	case OP_UNMAP:
	case OP_FAST_UNMAP:
		return s2pt_unmap(&pt, o->gpa, o->size);
	case OP_PROTECT:
		return s2pt_protect(&pt, o->gpa, o->size, o->prot);
	case OP_SPLIT:
		return s2pt_split(&pt, o->gpa, o->size, o->level);
	default:
		return s2pt_collapse(&pt, o->gpa, o->size);
	}
}

static bool in_window(const struct op *o)
{
	return o->gpa >= win && o->gpa + o->size <= win + WIN_SIZE;
}

static int expected_ret(const struct op *o)
{
	if (o->gpa + o->size > (1ull << pt.fmt.ia_bits)) {
		return -ERANGE;
	}
	switch (o->kind) {
	case OP_MAP:
	case OP_REMAP:
		if (!arch_s2_prot_valid(o->prot)) {
			return -EINVAL;
		}
		if (o->pa + o->size > (1ull << arch_s2_pa_bits())) {
			return -ERANGE;
		}
		return model_any_mapped(o->gpa, o->size) ? -EEXIST : 0;
	case OP_PROTECT:
		return arch_s2_prot_valid(o->prot) ? 0 : -EINVAL;
	default:
		return 0;
	}
}

static void model_apply(const struct op *o)
{
	for (uint64_t i = 0; i < (o->size >> 12); i++) {
		uint64_t k = pidx(o->gpa) + i;

		switch (o->kind) {
		case OP_MAP:
		case OP_REMAP:
			m_pa[k] = o->pa + (i << 12);
			m_prot[k] = o->prot;
			break;
		case OP_UNMAP:
		case OP_FAST_UNMAP:
			m_prot[k] = 0;
			break;
		case OP_PROTECT:
			if (m_prot[k]) {
				m_prot[k] = o->prot |
					    (m_prot[k] & S2_PROT_DEVICE);
			}
			break;
		default:
			break;
		}
	}
}

/* A random size and an aligned start inside the window. */
static void gen_range(struct op *o)
{
	uint64_t r = rnd(100), align;

	if (r < 60) {
		o->size = (1 + rnd(32)) << 12;
		align = 1ull << 12;
	} else if (r < 94) {
		o->size = (1 + rnd(4)) << 21;
		align = 1ull << 21;
	} else if (r < 97) {
		o->size = (1 + rnd(2)) << 30;
		align = 1ull << 30;
	} else {
		o->size = (1 + rnd(1ull << 18)) << 12;
		align = 1ull << 12;
	}
	o->gpa = win + ((rnd(WIN_SIZE - o->size + 1) & ~(align - 1)));
	/* Sometimes shift by a few pages so blocks straddle the ends. */
	if (align > 4096 && rnd(4) == 0) {
		uint64_t shift = (1 + rnd(16)) << 12;

		if (o->gpa + shift + o->size <= win + WIN_SIZE) {
			o->gpa += shift;
		}
	}
}

static unsigned int gen_prot(bool with_type)
{
	unsigned int prot = 1 + rnd(7);

	if (with_type && rnd(8) == 0) {
		prot |= S2_PROT_DEVICE;
	}
	return prot;
}

/*
 * A PA congruent to the GPA modulo 1 GiB, 2 MiB or only 4 KiB, so that every
 * block size occurs; ranges of more than 64 MiB get 4 KiB pages only rarely
 * (each page is checked after the step).
 */
static paddr_t gen_pa(const struct op *o)
{
	uint64_t r = rnd(100), align;

	if (r < 55) {
		align = 1ull << 30;
	} else if (r < 90 || (o->size > (64ull << 20) && r < 99)) {
		align = 1ull << 21;
	} else {
		align = 1ull << 12;
	}
	/* Low PAs mostly, high ones (all address bits used) sometimes. */
	uint64_t lim = rnd(4) ? 1ull << 36 : PA_LIMIT;

	return (o->gpa & (align - 1)) + (rnd((lim >> 1) / align) * align);
}

/* An operation that crosses the top of the input address space. */
static void gen_beyond(struct op *o)
{
	uint64_t top = 1ull << pt.fmt.ia_bits;

	o->kind = rnd(2) ? OP_MAP : rnd(2) ? OP_UNMAP : OP_PROTECT;
	o->size = (2 + rnd(64)) << 12;
	o->gpa = top - ((1 + rnd((o->size >> 12) - 1)) << 12);
	o->prot = gen_prot(false);
	o->pa = rnd(PA_LIMIT >> 13) << 12;
	if (rnd(2)) {
		/* In the window, but the output crosses the PA limit. */
		o->kind = OP_MAP;
		o->gpa = win + (rnd(WIN_SIZE - o->size) & ~0xfffull);
		o->pa = (1ull << arch_s2_pa_bits()) - o->size + 4096;
	}
}

/*
 * The range of the last split, in whole 1 GiB regions: half the collapses
 * go there, so that subtrees the splits made are collapsed back often (a
 * random range is rarely uniform).
 */
static gpa_t last_split_lo, last_split_hi;

static void gen_op(struct op *o)
{
	uint64_t r = rnd(100);

	if (rnd(128) == 0) {
		memset(o, 0, sizeof(*o));
		gen_beyond(o);
		return;
	}
	memset(o, 0, sizeof(*o));
	o->kind = r < 35 ? OP_MAP : r < 50 ? OP_UNMAP : r < 62 ? OP_PROTECT :
		  r < 72 ? OP_SPLIT : r < 81 ? OP_COLLAPSE :
		  r < 84 ? OP_FAST_UNMAP : OP_REMAP;
	gen_range(o);
	if (o->kind == OP_FAST_UNMAP) {
		o->gpa &= ~((1ull << 30) - 1);
		o->size = (1ull + (rnd(4) == 0)) << 30;
		if (o->gpa + o->size > win + WIN_SIZE) {
			o->gpa = win + WIN_SIZE - o->size;
		}
	}
	if (o->kind == OP_MAP || o->kind == OP_REMAP) {
		o->prot = gen_prot(true);
		o->pa = gen_pa(o);
	} else if (o->kind == OP_PROTECT) {
		o->prot = gen_prot(false);
	} else if (o->kind == OP_SPLIT) {
		o->level = rnd(2);
		if (in_window(o)) {
			last_split_lo = ALIGN_DOWN(o->gpa, 1ull << 30);
			last_split_hi = ALIGN_UP(o->gpa + o->size, 1ull << 30);
		}
	} else if (o->kind == OP_COLLAPSE && last_split_hi && rnd(2)) {
		o->gpa = last_split_lo;
		o->size = last_split_hi - last_split_lo;
	}
}

/* ---- One step ------------------------------------------------------------ */

static void begin_op(void)
{
	bbm_gen++;
	op_flushes = op_bbm_makes = op_cmo_pages = op_breaks = 0;
	op_replaced = 0;
	in_op = true;
}

static uint64_t hull_lo(const struct op *o)
{
	return o->gpa & ~((1ull << 30) - 1);
}

static uint64_t hull_hi(const struct op *o)
{
	return ALIGN_UP(o->gpa + o->size, 1ull << 30);
}

/* Say where two snapshots differ; @what says what failed. */
static void snap_diff(const char *what, unsigned long n1, unsigned long n2)
{
	const uint64_t *a = (const uint64_t *)snap_root;
	const uint64_t *b = (const uint64_t *)snap2_root;
	unsigned long i;

	for (i = 0; i < pt.fmt.root_entries && a[i] == b[i]; i++) {
	}
	if (i < pt.fmt.root_entries) {
		fail("%s changed root entry %lu: 0x%llx -> 0x%llx", what, i, (unsigned long long)a[i],
		     (unsigned long long)b[i]);
		return;
	}
	a = (const uint64_t *)snap_copy;
	b = (const uint64_t *)snap2_copy;
	for (i = 0; i < MIN(n1, n2) * 512 && a[i] == b[i]; i++) {
	}
	if (n1 != n2 || i >= MIN(n1, n2) * 512) {
		fail("%s changed the set of tables (%lu -> %lu)", what, n1,
		     n2);
		return;
	}
	fail("%s changed entry %lu of table 0x%llx: 0x%llx -> 0x%llx",
	     what, i % 512, (unsigned long long)snap_pages[i / 512],
	     (unsigned long long)a[i], (unsigned long long)b[i]);
}

/* A failed operation must leave the table byte for byte as it was. */
static void check_unchanged(const struct op *o, unsigned long nsnap, int ret)
{
	unsigned long n2 = snapshot(hull_lo(o), hull_hi(o), snap2_pages,
				    snap2_copy, snap2_root);

	if (n2 != nsnap || nsnap > SNAP_MAX ||
	    memcmp(snap_root, snap2_root, 8ull * pt.fmt.root_entries) ||
	    memcmp(snap_pages, snap2_pages, nsnap * sizeof(paddr_t)) ||
	    memcmp(snap_copy, snap2_copy, nsnap * 4096ull)) {
		char what[64];

		snprintf(what, sizeof(what), "failing with %d", ret);
		snap_diff(what, nsnap, n2);
	}
	if (op_flushes || op_breaks || op_replaced) {
		fail("failed with %d after writing entries or invalidating",
		     ret);
	}
}

/* Run @o failing each allocation in turn; returns the final result. */
static int run_with_injection(const struct op *o)
{
	unsigned long nsnap, nsnap2, live = host_alloc_live;
	uint64_t in_use = pt.counters.tables_in_use;
	int ret;

	nsnap = snapshot(hull_lo(o), hull_hi(o), snap_pages, snap_copy,
			 snap_root);
	stats.injected++;
	for (long n = 0;; n++) {
		long nth = n < 16 ? n : 16 + (long)rnd(1024);

		host_alloc_fail_nth(nth);
		ret = run_op(o);
		host_alloc_fail_nth(-1);
		if (ret != -ENOMEM) {
			return ret;
		}
		if (n >= 24) {
			break;	/* enough points tried: run it for real */
		}
		nsnap2 = snapshot(hull_lo(o), hull_hi(o), snap2_pages,
				  snap2_copy, snap2_root);
		if (nsnap2 != nsnap || nsnap > SNAP_MAX ||
		    memcmp(snap_root, snap2_root, 8ull * pt.fmt.root_entries) ||
		    memcmp(snap_pages, snap2_pages, nsnap * sizeof(paddr_t)) ||
		    memcmp(snap_copy, snap2_copy, nsnap * 4096ull)) {
			char what[64];

			snprintf(what, sizeof(what),
				 "-ENOMEM at allocation %ld", nth);
			snap_diff(what, nsnap, nsnap2);
			return ret;
		}
		if (host_alloc_live != live ||
		    pt.counters.tables_in_use != in_use) {
			fail("-ENOMEM at allocation %ld leaked pages (%lu -> %lu live)",
			     nth, live, host_alloc_live);
			return ret;
		}
		if (op_flushes) {
			fail("-ENOMEM at allocation %ld after %lu invalidations",
			     nth, op_flushes);
			return ret;
		}
	}
	return run_op(o);
}

static bool injectable(const struct op *o)
{
	return o->kind == OP_MAP || o->kind == OP_REMAP ||
	       o->kind == OP_SPLIT || o->kind == OP_PROTECT ||
	       o->kind == OP_UNMAP;
}

static void check_costs(const struct op *o, bool had_mapping,
			uint64_t normal_pages, uint64_t early0)
{
	unsigned long early = pt.counters.early_flushes - early0;
#ifdef DIFF_EPT
	unsigned long plans = 1;	/* splits too: no break-before-make */
#else
	unsigned long plans = o->kind == OP_SPLIT ? 0 : 1;
#endif

	if ((o->kind == OP_MAP || o->kind == OP_REMAP) && op_flushes) {
		fail("map of absent entries invalidated %lu times", op_flushes);
	}
	if (op_flushes > plans + op_bbm_makes + early) {
		fail("%lu invalidations (%lu for break-before-make, %lu early)",
		     op_flushes, op_bbm_makes, early);
	}
#ifdef DIFF_EPT
	/* One INVEPT per operation: nothing is broken and made again. */
	if (op_bbm_makes) {
		fail("%lu entries broken and made again on EPT", op_bbm_makes);
	}
	/* Entries replaced in one write are invalidated before return. */
	if (op_replaced && !op_flushes) {
		fail("%lu entries replaced without an invalidation",
		     op_replaced);
	}
#endif
	if (o->kind != OP_UNMAP && o->kind != OP_FAST_UNMAP) {
		return;
	}
	if (had_mapping && !op_flushes) {
		fail("unmap removed translations without an invalidation");
	}
#ifdef DIFF_STAGE2
	if (!(pt.flags & S2PT_F_FWB) && op_cmo_pages != normal_pages) {
		fail("unmap cleaned %lu pages to PoC, %llu normal pages were removed",
		     op_cmo_pages, (unsigned long long)normal_pages);
	}
	if ((pt.flags & S2PT_F_FWB) && op_cmo_pages) {
		fail("cache maintenance with FWB");
	}
#else
	(void)normal_pages;
#endif
}

/* s2pt_lookup() answers what the hardware (the reference) does. */
static void check_lookup(uint64_t ia, const struct xl *x)
{
	struct s2_translation t;
	int ret = s2pt_lookup(&pt, ia, &t);

	if (!x->leaf) {
		if (ret != -ENOENT) {
			fail("lookup 0x%llx returned %d for a not-present address",
			     (unsigned long long)ia, ret);
		}
		return;
	}
	if (ret || t.pa != x->pa_base + (ia - x->ia_base) ||
	    t.prot != x->prot || S2_LEVEL_SIZE(t.level) != x->size) {
		fail("lookup 0x%llx: %d pa 0x%llx prot %u level %u; hardware: pa 0x%llx prot %u size 0x%llx",
		     (unsigned long long)ia, ret, (unsigned long long)t.pa,
		     t.prot, t.level,
		     (unsigned long long)(x->pa_base + (ia - x->ia_base)),
		     x->prot, (unsigned long long)x->size);
	}
}

/* Random guest accesses fill the TLB; each is also looked up. */
static void guest_accesses(const struct op *o)
{
	for (int i = 0; i < 6; i++) {
		uint64_t ia = i < 4 ? o->gpa + (rnd(o->size) & ~0xfffull) :
			      win + (rnd(WIN_SIZE) & ~0xfffull);
		struct xl x;

		ia = in_window(o) || i >= 4 ? ia : win;
		ia |= rnd(4096);
		ref_translate(ia, &x);
		check_lookup(ia, &x);
		if (!sim_tlb_lookup(&tlb, tag, ia)) {
			sim_tlb_fill(&tlb, tag, &x.sx);
		}
	}
}

/*
 * A map uses the largest block its alignment allows: no leaf inside the
 * range could have been one level larger.
 */
static void check_largest(const struct op *o)
{
	gpa_t a = o->gpa, end = o->gpa + o->size;

	while (a < end && !fail_msg[0]) {
		struct xl x;
		unsigned int l;
		uint64_t big;
		gpa_t base;

		ref_translate(a, &x);
		if (!x.leaf) {
			return;		/* check_range reports it */
		}
		l = x.size == 4096 ? 0 : x.size == (1ull << 21) ? 1 : 2;
		big = S2_LEVEL_SIZE(l + 1);
		base = x.ia_base & ~(big - 1);
		if (l + 1 < pt.fmt.levels && s2_level_has_blocks(&pt, l + 1) &&
		    base >= o->gpa && base + big <= end &&
		    !((o->pa + (base - o->gpa)) & (big - 1))) {
			fail("map left a 0x%llx leaf at 0x%llx where a 0x%llx block fits",
			     (unsigned long long)x.size,
			     (unsigned long long)x.ia_base,
			     (unsigned long long)big);
		}
		a = x.ia_base + x.size;
	}
}

/*
 * Check the operation's range and 2 MiB around each end (where straddling
 * blocks were split); one step in 16 checks the whole 1 GiB regions around
 * the ends instead, where a split 1 GiB block's other pages live.
 */
static void check_touched(const struct op *o)
{
	gpa_t end = o->gpa + o->size;
	uint64_t edge = rnd(16) && !op_bbm_makes && !op_replaced ?
			1ull << 21 : 1ull << 30;
	gpa_t lo = o->gpa > win ? ALIGN_DOWN(o->gpa - 1, edge) : win;

	if (o->size <= 2 * edge) {
		check_range(lo, ALIGN_UP(end + 1, edge));
		return;
	}
	check_range(lo, ALIGN_UP(o->gpa + 1, edge));
	check_range(o->gpa, end);
	check_range(ALIGN_DOWN(end - 1, edge), ALIGN_UP(end + 1, edge));
}

/* After a split to @level no leaf in the range is larger. */
static void check_split(const struct op *o)
{
	gpa_t a = o->gpa;

	while (a < o->gpa + o->size && !fail_msg[0]) {
		struct xl x;

		ref_translate(a, &x);
		if (x.leaf && x.size > S2_LEVEL_SIZE(o->level)) {
			fail("split left a 0x%llx leaf at 0x%llx",
			     (unsigned long long)x.size,
			     (unsigned long long)x.ia_base);
		}
		a = x.leaf ? x.ia_base + x.size :
		    (a & ~(x.absent_span - 1)) + x.absent_span;
	}
}

/*
 * The guest touches the operation's range just before it: the walk caches
 * then likely hold the tables the operation replaces, detaches or frees, so
 * a missing invalidation leaves a stale entry behind.
 */
static void pre_accesses(const struct op *o)
{
	if (!in_window(o)) {
		return;
	}
	for (int i = 0; i < 3; i++) {
		uint64_t ia = o->gpa + (rnd(o->size) & ~0xfffull);
		struct xl x;

		ref_translate(ia, &x);
		if (!sim_tlb_lookup(&tlb, tag, ia)) {
			sim_tlb_fill(&tlb, tag, &x.sx);
		}
	}
}

static void do_step(const struct op *o, bool inject)
{
	bool unmap = in_window(o) &&
		     (o->kind == OP_UNMAP || o->kind == OP_FAST_UNMAP);
	bool had = unmap && model_any_mapped(o->gpa, o->size);
	uint64_t normal = unmap && (pt.fmt.caps & S2_FMT_CMO) &&
			  !(pt.flags & S2PT_F_FWB) ?
			  model_normal_pages(o->gpa, o->size) : 0;
	uint64_t early0 = pt.counters.early_flushes;
	struct sim_stale_report rep;
	int want = expected_ret(o), ret;

	unsigned long nsnap = 0;

	cur = *o;
	if (want) {
		nsnap = snapshot(hull_lo(o), hull_hi(o), snap_pages, snap_copy,
				 snap_root);
	}
	pre_accesses(o);
	begin_op();
	ret = inject && injectable(o) && !want ? run_with_injection(o) :
	      run_op(o);
	in_op = false;
	if (fail_msg[0]) {
		return;
	}
	if (o->kind == OP_COLLAPSE && !want ? ret < 0 : ret != want) {
		fail("returned %d, expected %d", ret, want);
		return;
	}
	if (pt.audit_failures) {
		fail("the core's audit failed");
		return;
	}
	if (want) {
		stats.err[o->kind]++;
		stats.erange += want == -ERANGE;
		check_unchanged(o, nsnap, ret);
		return;
	}
	stats.ok[o->kind]++;
	stats.collapsed += o->kind == OP_COLLAPSE && ret > 0 ? ret : 0;
	stats.replaced += op_replaced;
	if (!ret || o->kind == OP_COLLAPSE) {
		model_apply(o);
	}
	if (host_alloc_live != pt.counters.tables_in_use + pt.fmt.root_pages) {
		fail("%lu pages allocated after the operation, core counts %llu tables + %u root pages",
		     host_alloc_live,
		     (unsigned long long)pt.counters.tables_in_use,
		     pt.fmt.root_pages);
		return;
	}
	if (sim_tlb_stale(&tlb, &rep)) {
		fail("TLB entries survived the operation:\n%s", rep.text);
		return;
	}
	check_touched(o);
	if (!ret || (o->kind == OP_COLLAPSE && ret > 0)) {
		check_costs(o, had, normal, early0);
	}
	if (!ret && o->kind == OP_SPLIT) {
		check_split(o);
	}
	if (!ret && (o->kind == OP_MAP || o->kind == OP_REMAP)) {
		check_largest(o);
	}
	if (!fail_msg[0]) {
		struct scan s = { .lo = hull_lo(o), .hi = hull_hi(o) };

		scan_root(&s);
	}
	guest_accesses(o);
}

/* ---- A whole run --------------------------------------------------------- */

static void setup_observers(void)
{
	host_flush_observer = on_flush;
	host_pte_write_observer = on_write;
	host_table_free_observer = on_free;
	host_cmo_observer = on_cmo;
}

static bool alloc_state(void)
{
	if (!m_pa) {
		m_pa = malloc(WIN_PAGES * sizeof(*m_pa));
		m_prot = malloc(WIN_PAGES);
		bbm = malloc(BBM_SLOTS * sizeof(*bbm));
		snap_copy = malloc(SNAP_MAX * 4096ull);
		snap2_copy = malloc(SNAP_MAX * 4096ull);
	}
	if (!m_pa || !m_prot || !bbm || !snap_copy || !snap2_copy) {
		return false;
	}
	memset(m_prot, 0, WIN_PAGES);
	memset(bbm, 0, BBM_SLOTS * sizeof(*bbm));
	bbm_gen = 1;
	return true;
}

#ifdef DIFF_EPT
static unsigned int pick_ia_bits(void)
{
	return rnd(2) ? 48 : 39;
}

static void setup_ref(void)
{
	unsigned int pa_bits = arch_s2_pa_bits();

	eopts = (struct ref_ept_opts){
		.ve = pt.flags & S2PT_F_VE,
		.maxphyaddr = pa_bits > 52 ? 52 : pa_bits,
	};
}
#else
static unsigned int pick_ia_bits(void)
{
	static const unsigned int bits[] = { 32, 36, 39, 40, 42, 44, 48 };

	return bits[rnd(7)];
}

static void setup_ref(void)
{
	static const unsigned int sl0[5] = { 0, 0, 0, 1, 2 };

	scfg = (struct ref_s2_cfg){
		.vtcr = (1ull << 31) | (5ull << 16) | (3ull << 12) |
			(1ull << 10) | (1ull << 8) |
			((uint64_t)sl0[pt.fmt.levels] << 6) |
			(64 - pt.fmt.ia_bits),
		.vttbr = tag,
		.fwb = pt.flags & S2PT_F_FWB,
		.parange_bits = 48,
	};
}
#endif

static void teardown_check(void)
{
	uint64_t normal = model_normal_pages(win, WIN_SIZE);

	cur = (struct op){ .kind = OP_UNMAP, .gpa = win, .size = WIN_SIZE };
	op_cmo_pages = 0;
	s2pt_destroy(&pt);
	if (host_alloc_live) {
		fail("teardown left %lu pages allocated", host_alloc_live);
	}
	if (sim_tlb_count(&tlb, false) || sim_tlb_count(&tlb, true)) {
		fail("teardown left TLB entries (no whole-VMID invalidation)");
	}
#ifdef DIFF_STAGE2
	if (!(pt.flags & S2PT_F_FWB) && op_cmo_pages != normal) {
		fail("teardown cleaned %lu pages, %llu normal pages were mapped",
		     op_cmo_pages, (unsigned long long)normal);
	}
#else
	(void)normal;
#endif
}

static void print_stats(unsigned long nr_ops)
{
	printf("# %lu operations checked:", nr_ops);
	for (int k = 0; k < NR_OP_KINDS; k++) {
		printf(" %s %lu/%lu", op_names[k], stats.ok[k], stats.err[k]);
	}
	printf(" (ok/error); %lu beyond the input size, %lu with failure injection;"
	       " leaves checked 4K %lu 2M %lu 1G %lu; %lu blocks collapsed;"
	       " %lu entries replaced in one write\n", stats.erange,
	       stats.injected, stats.leaves[0], stats.leaves[1],
	       stats.leaves[2], stats.collapsed, stats.replaced);
}

static void report_failure(void)
{
	test_fail(__FILE__, __LINE__, "%s", fail_msg);
}

/* @ia_bits 0: a random size. */
static void random_run(unsigned int flags, unsigned int ia_bits,
		       unsigned long nr_ops)
{
	struct op o;

	fail_msg[0] = 0;
	step = 0;
	memset(&stats, 0, sizeof(stats));
	rng_state = (test_seed ^ (0x9E3779B97F4A7C15ull *
				  (flags + 1 + 64 * ia_bits))) | 1;
	if (!ia_bits) {
		ia_bits = pick_ia_bits();
	}
	memset(&cur, 0, sizeof(cur));
	if (!alloc_state()) {
		test_fail(__FILE__, __LINE__, "out of host memory");
		return;
	}
	host_alloc_reset();
	setup_observers();
	if (s2pt_init(&pt, ia_bits, flags, 5)) {
		test_fail(__FILE__, __LINE__, "s2pt_init(%u, 0x%x) failed",
			  ia_bits, flags);
		return;
	}
	tag = s2pt_root_desc(&pt);
	setup_ref();
	pa_limit = 1ull << MIN(arch_s2_pa_bits(), 48);
	win = rnd(((1ull << ia_bits) - WIN_SIZE) >> 30) << 30;
	printf("# ia_bits %u levels %u roots %u flags 0x%x window 0x%llx\n",
	       ia_bits, pt.fmt.levels, pt.fmt.root_pages, flags,
	       (unsigned long long)win);
	if (sim_tlb_init(&tlb, 64, 48, tlb_walk, tlb_freed, NULL)) {
		test_fail(__FILE__, __LINE__, "out of host memory");
		return;
	}
	for (step = 0; step < nr_ops && !fail_msg[0]; step++) {
		gen_op(&o);
		if (o.kind == OP_REMAP) {
			struct op u = o;

			u.kind = OP_UNMAP;
			do_step(&u, false);
		}
		do_step(&o, rnd(16) == 0);
		if (step % SCAN_EVERY == SCAN_EVERY - 1 && !fail_msg[0]) {
			full_scan(false);
		}
		if (step % COLLAPSE_EVERY == COLLAPSE_EVERY - 1 &&
		    !fail_msg[0]) {
			o = (struct op){ .kind = OP_COLLAPSE, .gpa = win,
					 .size = WIN_SIZE };
			do_step(&o, false);
			full_scan(true);
		}
	}
	if (!fail_msg[0]) {
		full_scan(false);
	}
	if (!fail_msg[0]) {
		teardown_check();
	} else {
		s2pt_destroy(&pt);	/* free the pages for the next test */
	}
	sim_tlb_destroy(&tlb);
	host_flush_observer = NULL;
	host_pte_write_observer = NULL;
	host_table_free_observer = NULL;
	host_cmo_observer = NULL;
	if (fail_msg[0]) {
		report_failure();
	} else {
		print_stats(nr_ops);
	}
}

/* Map a page at @gpa to @pa and see the reference translate it. */
static void map_and_translate(gpa_t gpa, paddr_t pa, uint64_t size)
{
	struct xl x;
	int ret;

	cur = (struct op){ .kind = OP_MAP, .gpa = gpa, .size = size, .pa = pa,
			   .prot = S2_PROT_R | S2_PROT_W };
	ret = s2pt_map(&pt, gpa, pa, size, cur.prot);

	if (ret) {
		fail("map 0x%llx size 0x%llx: %d", (unsigned long long)gpa,
		     (unsigned long long)size, ret);
		return;
	}
	ref_translate(gpa + size - 4096, &x);
	if (x.bad || !x.leaf || x.pa_base + (gpa + size - 4096 - x.ia_base) !=
	    pa + size - 4096 || x.prot != (S2_PROT_R | S2_PROT_W)) {
		fail("gpa 0x%llx does not translate to 0x%llx (%s)",
		     (unsigned long long)(gpa + size - 4096),
		     (unsigned long long)(pa + size - 4096),
		     x.bad ? x.why : "wrong output");
	}
}

static void geometry_check_root(void)
{
#ifdef DIFF_STAGE2
	int start;
	unsigned int concat;

	if (!ref_s2_geometry(scfg.vtcr, &start, &concat) ||
	    start != 4 - (int)pt.fmt.levels || concat != pt.fmt.root_pages ||
	    pt.fmt.root_entries != 1u << (pt.fmt.ia_bits -
					  S2_LEVEL_SHIFT(pt.fmt.levels - 1))) {
		fail("ia_bits %u: %u levels, %u root pages, %u root entries is not a VTCR_EL2 geometry",
		     pt.fmt.ia_bits, pt.fmt.levels, pt.fmt.root_pages,
		     pt.fmt.root_entries);
	}
#else
	if (!ref_eptp_valid(tag, &eopts) || pt.fmt.levels != 4 ||
	    pt.fmt.root_pages != 1) {
		fail("ia_bits %u: EPTP 0x%llx, %u levels", pt.fmt.ia_bits,
		     (unsigned long long)tag, pt.fmt.levels);
	}
#endif
}

#ifdef DIFF_EPT
/* #VE on: the hardware walks all 48 bits whatever the VM's size. */
static unsigned int geometry_flags(void)
{
	return S2PT_F_VE;
}

/*
 * Addresses at and beyond the VM's input size, and in between its maps,
 * must exit (SUPPRESS_VE set on the not-present entry), not raise #VE.
 */
static void check_beyond(uint64_t top)
{
	static const uint64_t probe[] = { 0x5000, 1ull << 30, 1ull << 39,
					  1ull << 47, (1ull << 48) - 4096 };
	struct xl x;

	for (unsigned int i = 0; i < 5 && !fail_msg[0]; i++) {
		ref_translate(probe[i], &x);
		if (x.bad || (x.leaf && probe[i] >= top)) {
			fail("gpa 0x%llx: %s", (unsigned long long)probe[i],
			     x.bad ? x.why : "translates beyond the VM");
		}
	}
	if (top < (1ull << 48)) {
		ref_translate(top, &x);
		if (x.bad || x.leaf) {
			fail("gpa 2^%u: %s", pt.fmt.ia_bits,
			     x.bad ? x.why : "translates beyond the VM");
		}
	}
}
#else
static unsigned int geometry_flags(void)
{
	return 0;
}

static void check_beyond(uint64_t top)
{
	(void)top;	/* stage-2 faults at level 0 beyond T0SZ */
}
#endif

/* One IPA size: root geometry, the first and last page, a top block. */
static void geometry_one(unsigned int bits)
{
	uint64_t top = 1ull << bits;
	int ret;

	ret = s2pt_init(&pt, bits, geometry_flags(), 1);
	if (ret) {
		fail("s2pt_init(%u) = %d", bits, ret);
		return;
	}
	tag = s2pt_root_desc(&pt);
	setup_ref();
	geometry_check_root();
	map_and_translate(0, 0x1000, 4096);
	map_and_translate(top - 4096, 0x2000, 4096);
	map_and_translate(top - (3ull << 21), 7ull << 21, 2ull << 21);
	if (s2_level_has_blocks(&pt, 2) && pt.fmt.levels > 2) {
		map_and_translate(top - (2ull << 30), 5ull << 30, 1ull << 30);
	}
	ret = s2pt_map(&pt, top, 0x3000, 4096, S2_PROT_R);
	if (ret != -ERANGE) {
		fail("map at 2^%u returned %d, not -ERANGE", bits, ret);
	}
	check_beyond(top);
	s2pt_destroy(&pt);
	if (host_alloc_live) {
		fail("ia_bits %u: %lu pages left after destroy", bits,
		     host_alloc_live);
	}
}

/*
 * Every input size from 32 to 48 bits gives a root the reference walker
 * accepts (stage-2: a consistent start level and concatenation), and the
 * lowest and highest pages and blocks near the top translate.
 */
static void geometry_every_ipa_size(void)
{
	fail_msg[0] = 0;
	memset(&cur, 0, sizeof(cur));
	host_alloc_reset();
	for (unsigned int bits = 32; bits <= 48 && !fail_msg[0]; bits++) {
		geometry_one(bits);
	}
	if (!fail_msg[0] && (s2pt_init(&pt, 31, 0, 1) != -EINVAL ||
			     s2pt_init(&pt, 49, 0, 1) != -EINVAL)) {
		fail("s2pt_init accepts 31 or 49 bits");
	}
	host_alloc_fail_nth(0);
	if (!fail_msg[0] && s2pt_init(&pt, 40, 0, 1) != -ENOMEM) {
		fail("s2pt_init without memory did not return -ENOMEM");
	}
	host_alloc_fail_nth(-1);
	if (!fail_msg[0] && host_alloc_live) {
		fail("%lu pages left after the failed init", host_alloc_live);
	}
	if (fail_msg[0]) {
		report_failure();
	}
}

static unsigned long share(unsigned int percent)
{
	return nr_ops_default * percent / 100 * (test_long ? 10 : 1);
}

#ifdef DIFF_EPT
/* EPT without #VE: random operations checked after every step. */
static void ept_random_ops(void)
{
	random_run(0, 0, share(60));
}

/* EPT with #VE: also every not-present entry keeps SUPPRESS_VE. */
static void ept_random_ops_ve(void)
{
	random_run(S2PT_F_VE, 0, share(40));
}
#else
/* Stage-2 with FEAT_TLBIRANGE and FWB. */
static void stage2_random_ops_range_fwb(void)
{
	random_run(S2PT_F_TLBIRANGE | S2PT_F_FWB, 0, share(30));
}

/*
 * Stage-2 without range invalidation (per-IPA or whole-VMID fallback) and
 * with the leaf-by-leaf unmap instead of the fast one.
 */
static void stage2_random_ops_norange_fwb(void)
{
	random_run(S2PT_F_FWB | S2PT_F_NO_FAST_UNMAP, 0, share(30));
}

/* Stage-2 without FWB: removed pages are cleaned after the invalidation. */
static void stage2_random_ops_cmo(void)
{
	random_run(S2PT_F_TLBIRANGE, 0, share(30));
}

/* Every IPA size the format allows, a shorter run each. */
static void stage2_random_ops_each_ipa_size(void)
{
	static const unsigned int bits[] = { 32, 34, 36, 39, 40, 42, 44, 48 };

	for (unsigned int i = 0; i < 8 && !test_cur_failed; i++) {
		random_run(i & 1 ? S2PT_F_TLBIRANGE : S2PT_F_FWB, bits[i],
			   share(10) / 8);
	}
}
#endif

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--ops")) {
			nr_ops_default = strtoul(argv[i + 1], NULL, 0);
		}
	}
#ifdef DIFF_EPT
	test_init(argc, argv, "diff_ept");
	RUN_TEST(geometry_every_ipa_size);
	RUN_TEST(ept_random_ops);
	RUN_TEST(ept_random_ops_ve);
#else
	test_init(argc, argv, "diff_stage2");
	RUN_TEST(geometry_every_ipa_size);
	RUN_TEST(stage2_random_ops_range_fwb);
	RUN_TEST(stage2_random_ops_norange_fwb);
	RUN_TEST(stage2_random_ops_cmo);
	RUN_TEST(stage2_random_ops_each_ipa_size);
#endif
	return test_done();
}
