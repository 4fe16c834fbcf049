// SPDX-License-Identifier: MIT
/*
 * The simulated TLB (see sim_tlb.h). Entries are kept in two small arrays
 * with random replacement: hardware may drop an entry at any time, but it
 * may also keep it until it is invalidated, and the checks assume the worst
 * case for every entry still present.
 *
 * A fill never overwrites an entry with the same key: hardware would have
 * used the cached entry instead of walking, so an old entry is what it
 * would still hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_tlb.h"

int sim_tlb_init(struct sim_tlb *t, unsigned int nr_leaf, unsigned int nr_walk,
		 sim_walk_fn walk_fn, sim_freed_fn freed_fn, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->leaf = calloc(nr_leaf, sizeof(*t->leaf));
	t->walk = calloc(nr_walk, sizeof(*t->walk));
	if (!t->leaf || !t->walk) {
		sim_tlb_destroy(t);
		return -1;
	}
	t->nr_leaf = nr_leaf;
	t->nr_walk = nr_walk;
	t->rng = 0x9e3779b97f4a7c15ull;
	t->walk_fn = walk_fn;
	t->freed_fn = freed_fn;
	t->ctx = ctx;
	return 0;
}

void sim_tlb_destroy(struct sim_tlb *t)
{
	free(t->leaf);
	free(t->walk);
	t->leaf = NULL;
	t->walk = NULL;
	t->nr_leaf = t->nr_walk = 0;
}

static unsigned int victim(struct sim_tlb *t, unsigned int n)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return (unsigned int)(t->rng % n);
}

static void fill_walk(struct sim_tlb *t, uint64_t tag, int level,
		      uint64_t ia, uint64_t table)
{
	uint64_t span = 512ull << (12 + 9 * level);
	uint64_t base = ia & ~(span - 1);
	int free_slot = -1;

	for (unsigned int i = 0; i < t->nr_walk; i++) {
		struct sim_tlb_walk *w = &t->walk[i];

		if (!w->valid) {
			free_slot = free_slot < 0 ? (int)i : free_slot;
		} else if (w->tag == tag && w->level == level &&
			   w->ia_base == base) {
			return;
		}
	}
	if (free_slot < 0) {
		free_slot = (int)victim(t, t->nr_walk);
	}
	t->walk[free_slot] = (struct sim_tlb_walk){
		.valid = true, .tag = tag, .level = level, .ia_base = base,
		.span = span, .table = table,
	};
}

static void fill_leaf(struct sim_tlb *t, uint64_t tag,
		      const struct sim_xlate *x)
{
	int free_slot = -1;

	for (unsigned int i = 0; i < t->nr_leaf; i++) {
		struct sim_tlb_leaf *l = &t->leaf[i];

		if (!l->valid) {
			free_slot = free_slot < 0 ? (int)i : free_slot;
		} else if (l->tag == tag && l->ia_base == x->ia_base &&
			   l->size == x->size) {
			return;
		}
	}
	if (free_slot < 0) {
		free_slot = (int)victim(t, t->nr_leaf);
	}
	t->leaf[free_slot] = (struct sim_tlb_leaf){
		.valid = true, .tag = tag, .ia_base = x->ia_base,
		.size = x->size, .pa_base = x->pa_base, .perms = x->perms,
		.attr = x->attr,
	};
}

void sim_tlb_fill(struct sim_tlb *t, uint64_t tag, const struct sim_xlate *x)
{
	for (unsigned int i = 0; i < x->nr_tables && t->nr_walk; i++) {
		fill_walk(t, tag, x->table_level[i], x->ia, x->table[i]);
	}
	if (x->leaf && t->nr_leaf) {
		fill_leaf(t, tag, x);
	}
}

const struct sim_tlb_leaf *sim_tlb_lookup(const struct sim_tlb *t,
					  uint64_t tag, uint64_t ia)
{
	for (unsigned int i = 0; i < t->nr_leaf; i++) {
		const struct sim_tlb_leaf *l = &t->leaf[i];

		if (l->valid && l->tag == tag && ia >= l->ia_base &&
		    ia - l->ia_base < l->size) {
			return l;
		}
	}
	return NULL;
}

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a < b + bsize && b < a + asize;
}

static void inv_range(struct sim_tlb *t, uint64_t tag, uint64_t base,
		      uint64_t npages, bool last_level_only, uint64_t leaf_size)
{
	uint64_t size = npages * 4096;

	for (unsigned int i = 0; i < t->nr_leaf; i++) {
		struct sim_tlb_leaf *l = &t->leaf[i];

		if (l->valid && l->tag == tag &&
		    overlaps(l->ia_base, l->size, base, size) &&
		    (!leaf_size || l->size == leaf_size)) {
			l->valid = false;
		}
	}
	if (last_level_only) {
		return;
	}
	for (unsigned int i = 0; i < t->nr_walk; i++) {
		struct sim_tlb_walk *w = &t->walk[i];

		if (w->valid && w->tag == tag &&
		    overlaps(w->ia_base, w->span, base, size)) {
			w->valid = false;
		}
	}
}

void sim_tlb_inv_range(struct sim_tlb *t, uint64_t tag, uint64_t base,
		       uint64_t npages, bool last_level_only)
{
	inv_range(t, tag, base, npages, last_level_only, 0);
}

void sim_tlb_inv_ipa(struct sim_tlb *t, uint64_t tag, uint64_t ia,
		     bool last_level_only)
{
	inv_range(t, tag, ia & ~4095ull, 1, last_level_only, 0);
}

void sim_tlb_inv_ipa_ttl(struct sim_tlb *t, uint64_t tag, uint64_t ia,
			 bool last_level_only, uint64_t leaf_size)
{
	inv_range(t, tag, ia & ~4095ull, 1, last_level_only, leaf_size);
}

void sim_tlb_inv_tag(struct sim_tlb *t, uint64_t tag)
{
	for (unsigned int i = 0; i < t->nr_leaf; i++) {
		if (t->leaf[i].tag == tag) {
			t->leaf[i].valid = false;
		}
	}
	for (unsigned int i = 0; i < t->nr_walk; i++) {
		if (t->walk[i].tag == tag) {
			t->walk[i].valid = false;
		}
	}
}

void sim_tlb_inv_all(struct sim_tlb *t)
{
	for (unsigned int i = 0; i < t->nr_leaf; i++) {
		t->leaf[i].valid = false;
	}
	for (unsigned int i = 0; i < t->nr_walk; i++) {
		t->walk[i].valid = false;
	}
}

unsigned int sim_tlb_count(const struct sim_tlb *t, bool walk_cache)
{
	unsigned int n = 0;

	if (walk_cache) {
		for (unsigned int i = 0; i < t->nr_walk; i++) {
			n += t->walk[i].valid;
		}
	} else {
		for (unsigned int i = 0; i < t->nr_leaf; i++) {
			n += t->leaf[i].valid;
		}
	}
	return n;
}

static void report(struct sim_stale_report *rep, const char *fmt,
		   unsigned long long a, unsigned long long b,
		   unsigned long long c)
{
	size_t len;

	if (!rep) {
		return;
	}
	len = strlen(rep->text);
	if (len + 1 < sizeof(rep->text)) {
		snprintf(rep->text + len, sizeof(rep->text) - len, fmt, a, b,
			 c);
	}
}

/* Does the current translation of [ia, end) back the cached leaf @l? */
static bool leaf_backed(const struct sim_tlb *t, const struct sim_tlb_leaf *l)
{
	uint64_t ia = l->ia_base, end = l->ia_base + l->size;

	while (ia < end) {
		struct sim_xlate x;
		uint64_t want;

		t->walk_fn(t->ctx, l->tag, ia, &x);
		if (!x.leaf || x.ia_base > ia) {
			return false;
		}
		want = l->pa_base + (ia - l->ia_base);
		if (x.pa_base + (ia - x.ia_base) != want ||
		    (l->perms & ~x.perms) || l->attr != x.attr) {
			return false;
		}
		ia = x.ia_base + x.size;
	}
	return true;
}

static bool walk_backed(const struct sim_tlb *t, const struct sim_tlb_walk *w)
{
	struct sim_xlate x;

	if (t->freed_fn && t->freed_fn(t->ctx, w->table)) {
		return false;
	}
	t->walk_fn(t->ctx, w->tag, w->ia_base, &x);
	for (unsigned int i = 0; i < x.nr_tables; i++) {
		if (x.table_level[i] == w->level) {
			return x.table[i] == w->table;
		}
	}
	return false;
}

unsigned int sim_tlb_stale(const struct sim_tlb *t,
			   struct sim_stale_report *rep)
{
	unsigned int n = 0;

	if (rep) {
		memset(rep, 0, sizeof(*rep));
	}
	for (unsigned int i = 0; i < t->nr_leaf; i++) {
		const struct sim_tlb_leaf *l = &t->leaf[i];

		if (l->valid && !leaf_backed(t, l)) {
			report(rep, "stale leaf: ia 0x%llx size 0x%llx -> pa 0x%llx\n",
			       l->ia_base, l->size, l->pa_base);
			n++;
			if (rep) {
				rep->nr_leaf++;
			}
		}
	}
	for (unsigned int i = 0; i < t->nr_walk; i++) {
		const struct sim_tlb_walk *w = &t->walk[i];

		if (w->valid && !walk_backed(t, w)) {
			report(rep, "stale walk-cache: ia 0x%llx level %llu table 0x%llx\n",
			       w->ia_base, (unsigned long long)w->level,
			       w->table);
			n++;
			if (rep) {
				rep->nr_walk++;
			}
		}
	}
	return n;
}

void sim_xlate_from_ept(const struct ref_ept_walk *w, struct sim_xlate *x)
{
	memset(x, 0, sizeof(*x));
	x->ia = w->gpa;
	x->leaf = w->result == REF_EPT_OK ||
		  (w->result == REF_EPT_VIOLATION &&
		   w->why == REF_EPT_WHY_PERMISSION);
	if (x->leaf) {
		x->ia_base = w->leaf_gpa_base;
		x->size = 1ull << (12 + 9 * w->leaf_level);
		x->pa_base = w->leaf_pa_base;
		x->perms = w->perms;
		x->attr = w->memtype | ((uint64_t)w->ipat << 3);
	}
	/* The root comes from the EPTP; only the tables below it are cached. */
	for (unsigned int i = 1; i < w->nr_tables; i++) {
		x->table[x->nr_tables] = w->tables[i];
		x->table_level[x->nr_tables++] = w->table_level[i];
	}
}

void sim_xlate_from_s2(const struct ref_s2_walk *w, struct sim_xlate *x)
{
	memset(x, 0, sizeof(*x));
	x->ia = w->ipa;
	x->leaf = w->fault == REF_S2_OK || w->fault == REF_S2_PERMISSION;
	if (x->leaf) {
		x->ia_base = w->leaf_ipa_base;
		x->size = 1ull << (12 + 9 * w->leaf_level);
		x->pa_base = w->leaf_pa_base;
		x->perms = w->perms;
		x->attr = ((w->desc >> 2) & 0xf) | ((uint64_t)w->sh << 4);
	}
	/* The root comes from VTTBR_EL2; tables below it are cached. */
	for (unsigned int i = 1; i < w->nr_tables; i++) {
		x->table[x->nr_tables] = w->tables[i];
		x->table_level[x->nr_tables++] = 3 - w->table_arm_level[i];
	}
}
