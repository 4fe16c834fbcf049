/* SPDX-License-Identifier: MIT */
/*
 * A simulated TLB for EPT or stage-2: leaf entries (one per cached
 * translation, covering the leaf's whole page or block) and walk-cache
 * entries (for an address range and a level, the table page the walk used),
 * each tagged (VMID or EPTP). Hardware may keep any of these until they are
 * invalidated, so the tests fill it from reference walks and check after
 * each operation that nothing cached disagrees with the current tables.
 *
 * The TLB is format-neutral: it re-walks through a callback that returns a
 * struct sim_xlate (see sim_xlate_from_ept() / sim_xlate_from_s2()).
 */
#ifndef STRATA_TESTS_SIM_TLB_H
#define STRATA_TESTS_SIM_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "ref_ept.h"
#include "ref_stage2.h"

#define SIM_MAX_TABLES	4

/* One translation as the hardware would cache it. */
struct sim_xlate {
	uint64_t ia;		/* the address walked */
	bool leaf;		/* a valid leaf was reached (may be cached) */
	uint64_t ia_base;	/* input address of the leaf's start */
	uint64_t size;		/* leaf size */
	uint64_t pa_base;
	unsigned int perms;
	uint64_t attr;		/* format-specific attributes */
	/* Tables used below the root: address, level of its entries, span. */
	unsigned int nr_tables;
	uint64_t table[SIM_MAX_TABLES];
	int table_level[SIM_MAX_TABLES];
};

/* Walks @ia through the current tables of @tag. */
typedef void (*sim_walk_fn)(void *ctx, uint64_t tag, uint64_t ia,
			    struct sim_xlate *out);
/* True when @pa is a table page that has been freed. */
typedef bool (*sim_freed_fn)(void *ctx, uint64_t pa);

struct sim_tlb_leaf {
	bool valid;
	uint64_t tag;
	uint64_t ia_base;
	uint64_t size;
	uint64_t pa_base;
	unsigned int perms;
	uint64_t attr;
};

struct sim_tlb_walk {
	bool valid;
	uint64_t tag;
	int level;		/* level of the table's entries */
	uint64_t ia_base;	/* start of the range the table covers */
	uint64_t span;		/* 512 << (12 + 9 * level) */
	uint64_t table;		/* the table page */
};

struct sim_tlb {
	unsigned int nr_leaf, nr_walk;	/* capacities */
	struct sim_tlb_leaf *leaf;
	struct sim_tlb_walk *walk;
	uint64_t rng;			/* victim selection when full */
	sim_walk_fn walk_fn;
	sim_freed_fn freed_fn;
	void *ctx;
};

/* What sim_tlb_stale() found: one line per problem, up to a limit. */
struct sim_stale_report {
	unsigned int nr_leaf;
	unsigned int nr_walk;
	char text[1024];
};

int sim_tlb_init(struct sim_tlb *t, unsigned int nr_leaf, unsigned int nr_walk,
		 sim_walk_fn walk_fn, sim_freed_fn freed_fn, void *ctx);
void sim_tlb_destroy(struct sim_tlb *t);

/* Cache what a walk of @ia found: its walk-cache entries and its leaf. */
void sim_tlb_fill(struct sim_tlb *t, uint64_t tag, const struct sim_xlate *x);
/* The cached leaf for @ia, or NULL (a TLB hit uses it without walking). */
const struct sim_tlb_leaf *sim_tlb_lookup(const struct sim_tlb *t,
					  uint64_t tag, uint64_t ia);

/* TLBI IPAS2E1IS (last_level_only: IPAS2LE1IS): entries translating @ia. */
void sim_tlb_inv_ipa(struct sim_tlb *t, uint64_t tag, uint64_t ia,
		     bool last_level_only);
/*
 * TLBI IPAS2E1IS with a TTL hint (FEAT_TTL): the hint names the level of the
 * leaf; a leaf entry of another size need not be invalidated, so it is kept.
 * @leaf_size 0: no hint.
 */
void sim_tlb_inv_ipa_ttl(struct sim_tlb *t, uint64_t tag, uint64_t ia,
			 bool last_level_only, uint64_t leaf_size);
/* TLBI RIPAS2E1IS: entries for [base, base + npages * 4 KiB). */
void sim_tlb_inv_range(struct sim_tlb *t, uint64_t tag, uint64_t base,
		       uint64_t npages, bool last_level_only);
/* TLBI VMALLS12E1IS / INVEPT single-context: everything of @tag. */
void sim_tlb_inv_tag(struct sim_tlb *t, uint64_t tag);
/* INVEPT all-context / TLBI ALLE1IS. */
void sim_tlb_inv_all(struct sim_tlb *t);

unsigned int sim_tlb_count(const struct sim_tlb *t, bool walk_cache);

/*
 * sim_tlb_stale() - report every cached leaf that the current tables no
 * longer back (different output, smaller permissions or other attributes
 * anywhere in its range) and every walk-cache entry whose table page is
 * freed or no longer linked at that place. Returns the number of problems.
 */
unsigned int sim_tlb_stale(const struct sim_tlb *t,
			   struct sim_stale_report *rep);

/* Adapters from the reference walks. */
void sim_xlate_from_ept(const struct ref_ept_walk *w, struct sim_xlate *x);
void sim_xlate_from_s2(const struct ref_s2_walk *w, struct sim_xlate *x);

#endif
