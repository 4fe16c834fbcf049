// SPDX-License-Identifier: MIT
/*
 * Host microbenchmarks of the stage-2 core for one format (built per format
 * by tests/bench/run.py, -O2, no sanitizers, no audit). Prints one line per
 * measurement:
 *   RESULT <fmt> <op> <granule> ns_per_page=<n> tables=<n> flushes=<n>
 *          tlbi=<ipa>/<range>/<vmid> cmo_pages=<n> writes=<n>
 *   RATIO <fmt> <what> <x>
 * Each figure is the best of several rounds; ratios are measured in one run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lib/errno.h>
#include <mm/s2_walk.h>
#include "unit/core/host_hooks.h"

#define ROUNDS		3
#define BASE_GPA	(4 * SZ_1G)
#define BASE_PA		0x100000000ULL

extern const char bench_fmt[];
extern const unsigned int bench_ia_bits;

static struct s2pt pt;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "bench: %s failed: %d\n", what, ret);
	exit(1);
}

static void report(const char *op, const char *gran, double ns, uint64_t pages,
		   const struct s2_counters *c)
{
	printf("RESULT %s %s %s ns_per_page=%.2f tables=%llu flushes=%llu "
	       "tlbi=%llu/%llu/%llu cmo_pages=%llu writes=%llu\n",
	       bench_fmt, op, gran, ns / pages,
	       (unsigned long long)c->tables_in_use,
	       (unsigned long long)c->flushes,
	       (unsigned long long)c->tlbi_ipa,
	       (unsigned long long)c->tlbi_range,
	       (unsigned long long)c->tlbi_vmid,
	       (unsigned long long)c->cmo_pages,
	       (unsigned long long)c->entries_written);
}

/* The counters an operation added (tables: in use after it). */
static struct s2_counters diff(const struct s2_counters *a,
			       const struct s2_counters *b)
{
	struct s2_counters d = *b;

	d.flushes -= a->flushes;
	d.tlbi_ipa -= a->tlbi_ipa;
	d.tlbi_range -= a->tlbi_range;
	d.tlbi_vmid -= a->tlbi_vmid;
	d.cmo_pages -= a->cmo_pages;
	d.entries_written -= a->entries_written;
	return d;
}

struct timing {
	double map, protect, unmap;
	struct s2_counters cmap, cprot, cunmap;
};

/* Map, write-protect and unmap 1 GiB with leaves of @gran. */
static void round_trip(uint64_t gran, unsigned int flags, struct timing *t)
{
	/* PA offset by the granule: no larger block is possible. */
	paddr_t pa = BASE_PA + gran;
	struct s2_counters c0;
	double t0;
	int ret;

	ret = s2pt_init(&pt, bench_ia_bits, flags, 1);
	if (ret) {
		die("init", ret);
	}
	c0 = pt.counters;
	t0 = now_ns();
	ret = s2pt_map(&pt, BASE_GPA, pa, SZ_1G, S2_PROT_RWX);
	t->map = now_ns() - t0;
	if (ret) {
		die("map", ret);
	}
	t->cmap = diff(&c0, &pt.counters);
	c0 = pt.counters;
	t0 = now_ns();
	ret = s2pt_protect(&pt, BASE_GPA, SZ_1G, S2_PROT_R);
	t->protect = now_ns() - t0;
	if (ret) {
		die("protect", ret);
	}
	t->cprot = diff(&c0, &pt.counters);
	c0 = pt.counters;
	t0 = now_ns();
	ret = s2pt_unmap(&pt, BASE_GPA, SZ_1G);
	t->unmap = now_ns() - t0;
	if (ret) {
		die("unmap", ret);
	}
	t->cunmap = diff(&c0, &pt.counters);
	s2pt_destroy(&pt);
}

static void bench_granule(uint64_t gran, const char *name)
{
	struct timing best = { .map = 1e30, .protect = 1e30, .unmap = 1e30 };
	struct timing t;
	uint64_t pages = SZ_1G / PAGE_SIZE;

	for (int r = 0; r < ROUNDS; r++) {
		round_trip(gran, 0, &t);
		if (t.map < best.map) {
			best.map = t.map;
			best.cmap = t.cmap;
		}
		if (t.protect < best.protect) {
			best.protect = t.protect;
			best.cprot = t.cprot;
		}
		if (t.unmap < best.unmap) {
			best.unmap = t.unmap;
			best.cunmap = t.cunmap;
		}
	}
	report("map", name, best.map, pages, &best.cmap);
	report("protect", name, best.protect, pages, &best.cprot);
	report("unmap", name, best.unmap, pages, &best.cunmap);
}

/* Time to unmap 1 GiB of 4 KiB pages, one way. */
enum unmap_way { FAST, LEAF_BY_LEAF, PAGE_BY_PAGE };

static double unmap_1g(enum unmap_way way, struct s2_counters *out)
{
	unsigned int flags = way == LEAF_BY_LEAF ? S2PT_F_NO_FAST_UNMAP : 0;
	struct s2_counters c0;
	double t0, t;
	int ret;

	ret = s2pt_init(&pt, bench_ia_bits, flags, 1);
	if (ret || s2pt_map(&pt, BASE_GPA, BASE_PA + SZ_4K, SZ_1G,
			    S2_PROT_RWX)) {
		die("map", -1);
	}
	c0 = pt.counters;
	t0 = now_ns();
	if (way == PAGE_BY_PAGE) {
		for (gpa_t a = BASE_GPA; a < BASE_GPA + SZ_1G; a += SZ_4K) {
			ret |= s2pt_unmap(&pt, a, SZ_4K);
		}
	} else {
		ret = s2pt_unmap(&pt, BASE_GPA, SZ_1G);
	}
	t = now_ns() - t0;
	if (ret) {
		die("unmap", ret);
	}
	*out = diff(&c0, &pt.counters);
	s2pt_destroy(&pt);
	return t;
}

static void bench_fast_unmap(void)
{
	static const char *const names[] = { "fast", "leaf-by-leaf",
					     "page-by-page" };
	double best[3] = { 1e30, 1e30, 1e30 };
	struct s2_counters c[3];
	uint64_t pages = SZ_1G / PAGE_SIZE;

	for (int r = 0; r < ROUNDS; r++) {
		for (int w = 0; w < 3; w++) {
			struct s2_counters cw;
			double t = unmap_1g((enum unmap_way)w, &cw);

			if (t < best[w]) {
				best[w] = t;
				c[w] = cw;
			}
		}
	}
	for (int w = 0; w < 3; w++) {
		report(names[w], "unmap-4K", best[w], pages, &c[w]);
	}
	printf("RATIO %s leaf-by-leaf/fast %.2f\n", bench_fmt,
	       best[1] / best[0]);
	printf("RATIO %s page-by-page/fast %.2f\n", bench_fmt,
	       best[2] / best[0]);
}

/*
 * Split 1 GiB of 2 MiB blocks into 4 KiB pages and collapse it back: 512
 * blocks replaced each way, one invalidation per block with break-before-make
 * (stage-2), one per operation without (EPT).
 */
static void bench_split_collapse(void)
{
	double best[2] = { 1e30, 1e30 };
	struct s2_counters c[2], c0;
	uint64_t pages = SZ_1G / PAGE_SIZE;
	double t0, t;
	int ret;

	for (int r = 0; r < ROUNDS; r++) {
		ret = s2pt_init(&pt, bench_ia_bits, 0, 1);
		if (ret || s2pt_map(&pt, BASE_GPA, BASE_PA + SZ_2M, SZ_1G,
				    S2_PROT_RWX)) {
			die("map", -1);
		}
		c0 = pt.counters;
		t0 = now_ns();
		ret = s2pt_split(&pt, BASE_GPA, SZ_1G, 0);
		t = now_ns() - t0;
		if (ret) {
			die("split", ret);
		}
		if (t < best[0]) {
			best[0] = t;
			c[0] = diff(&c0, &pt.counters);
		}
		c0 = pt.counters;
		t0 = now_ns();
		ret = s2pt_collapse(&pt, BASE_GPA, SZ_1G);
		t = now_ns() - t0;
		if (ret != SZ_1G / SZ_2M) {
			die("collapse", ret);
		}
		if (t < best[1]) {
			best[1] = t;
			c[1] = diff(&c0, &pt.counters);
		}
		s2pt_destroy(&pt);
	}
	report("split", "2M-to-4K", best[0], pages, &c[0]);
	report("collapse", "4K-to-2M", best[1], pages, &c[1]);
}

/*
 * One stage-2 fault resolved the way vmm/fault.c did before
 * s2pt_map_fault(): MMIO SPTE check, lookup, then map tried at 1 GiB, 2 MiB
 * and 4 KiB around the address (each try a counting and a writing walk).
 */
static int fault_old(gpa_t gpa, gpa_t lo, gpa_t hi, paddr_t pa_lo)
{
	struct s2_translation t;
	uint64_t gen;
	int ret = -EEXIST;

	if (!s2pt_get_mmio(&pt, gpa, &gen) || !s2pt_lookup(&pt, gpa, &t)) {
		return -EEXIST;
	}
	for (int level = 2; level >= 0; level--) {
		uint64_t size = S2_LEVEL_SIZE(level);
		gpa_t base = ALIGN_DOWN(gpa, size);
		paddr_t pa = pa_lo + (base - lo);

		if (!s2_level_has_blocks(&pt, level) || base < lo ||
		    base + size > hi || !IS_ALIGNED(pa, size)) {
			continue;
		}
		ret = s2pt_map(&pt, base, pa, size, S2_PROT_RWX);
		if (ret != -EEXIST) {
			return ret;
		}
	}
	return ret;
}

static int fault_new(gpa_t gpa, gpa_t lo, gpa_t hi, paddr_t pa_lo)
{
	struct s2_fault_result r;

	return s2pt_map_fault(&pt, gpa, lo, hi, pa_lo, S2_PROT_RWX, &r);
}

/*
 * Fault 1 GiB back in, as the faultbench guests do: one page of every
 * 2 MiB block is mapped first, then every other page faults (4K: 511 x 512
 * faults, each beside a table that exists); or one page of the GiB is
 * mapped and the first address of every other 2 MiB block faults (2M).
 */
static void bench_fault_kind(bool new, bool pages, const char *name)
{
	const gpa_t lo = BASE_GPA, hi = BASE_GPA + SZ_1G;
	const paddr_t pa_lo = BASE_PA;
	double best = 1e30;
	struct s2_counters c = { 0 };
	uint64_t n = 0;

	for (int r = 0; r < ROUNDS; r++) {
		struct s2_counters c0;
		double t0, t;
		int ret = s2pt_init(&pt, bench_ia_bits, 0, 1);

		for (gpa_t a = lo; !ret && a < (pages ? hi : lo + 1); a += SZ_2M) {
			ret = s2pt_map(&pt, a, pa_lo + (a - lo), SZ_4K,
				       S2_PROT_RWX);
		}
		if (ret) {
			die("fault setup", ret);
		}
		c0 = pt.counters;
		n = 0;
		t0 = now_ns();
		for (gpa_t b = lo; b < hi; b += SZ_2M) {
			gpa_t a = b + (pages ? SZ_4K : 0);
			gpa_t end = pages ? b + SZ_2M : b + SZ_4K;

			if (!pages && b == lo) {
				continue;
			}
			for (; a < end; a += SZ_4K, n++) {
				ret |= new ? fault_new(a + 8, lo, hi, pa_lo) :
					     fault_old(a + 8, lo, hi, pa_lo);
			}
		}
		t = now_ns() - t0;
		if (ret) {
			die("fault", ret);
		}
		if (t < best) {
			best = t;
			c = diff(&c0, &pt.counters);
		}
		s2pt_destroy(&pt);
	}
	report(new ? "fault-one-walk" : "fault-old-path", name, best, n, &c);
}

static void bench_fault(void)
{
	bench_fault_kind(false, true, "4K");
	bench_fault_kind(true, true, "4K");
	bench_fault_kind(false, false, "2M");
	bench_fault_kind(true, false, "2M");
}

int main(void)
{
	bench_granule(SZ_4K, "4K");
	bench_granule(SZ_2M, "2M");
	bench_split_collapse();
	bench_fast_unmap();
	bench_fault();
	return 0;
}
