// SPDX-License-Identifier: MIT
/*
 * MMIO SPTEs (DESIGN.md "Memslots and MMIO SPTEs", seed 004): a level-0
 * entry the hardware cannot use, holding the page's GPA and the memslot
 * generation, recognised as (pte & mask) == value, with the format's mask
 * and the table's value (its VM type). The encoding is the same for every
 * format; the format gives the constants. s2pt_set_mmio() installs
 * one like s2pt_map() installs a page: a counting walk checks the entry is
 * absent and counts the tables needed, they are reserved, a second walk
 * writes.
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

struct mmio_data {
	gpa_t gpa;
	uint64_t gen;
	unsigned long pages;		/* counting walk: tables needed */
	struct s2_page_cache cache;	/* writing walk */
};

/* The generation bits of an MMIO SPTE for @gen (truncated). */
static s2pte_t mmio_gen_to_pte(uint64_t gen)
{
	uint64_t lo = gen & (BIT(S2_MMIO_GEN_LO_BITS) - 1);
	uint64_t hi = (gen >> S2_MMIO_GEN_LO_BITS) &
		      (BIT(S2_MMIO_GEN_HI_BITS) - 1);

	return (lo << S2_MMIO_GEN_LO_SHIFT) | (hi << S2_MMIO_GEN_HI_SHIFT);
}

s2pte_t s2pt_make_mmio(const struct s2pt *pt, gpa_t gpa, uint64_t gen)
{
	return pt->mmio_value | (gpa & pt->fmt.mmio_gpa_mask) |
	       mmio_gen_to_pte(gen);
}

uint64_t s2pt_mmio_gen(s2pte_t pte)
{
	uint64_t lo = (pte >> S2_MMIO_GEN_LO_SHIFT) &
		      (BIT(S2_MMIO_GEN_LO_BITS) - 1);
	uint64_t hi = (pte >> S2_MMIO_GEN_HI_SHIFT) &
		      (BIT(S2_MMIO_GEN_HI_BITS) - 1);

	return lo | (hi << S2_MMIO_GEN_LO_BITS);
}

gpa_t s2pt_mmio_gpa(const struct s2pt *pt, s2pte_t pte)
{
	return pte & pt->fmt.mmio_gpa_mask;
}

/*
 * An MMIO SPTE must stay a software entry whatever GPA and generation it
 * holds: never a usable translation for the hardware and never equal to the
 * VM's absent entry. (The format may call it absent, as EPT does an entry of
 * 0: the core classifies it with the table's value, s2pt_pte_kind().)
 */
static bool mmio_probe_ok(const struct s2pt *pt, s2pte_t pte)
{
	enum s2_pte_kind k = arch_s2_pte_kind(pte, 0);

	return k != S2_PTE_LEAF && k != S2_PTE_TABLE &&
	       pte != arch_s2_pte_absent(pt);
}

bool s2pt_mmio_value_valid(const struct s2pt *pt, s2pte_t mask,
			   s2pte_t value)
{
	s2pte_t data = pt->fmt.mmio_gpa_mask | S2PT_MMIO_GEN_MASK;

	if (!mask || (value & ~mask) || (mask & data)) {
		return false;
	}
	/* Every empty entry would be "MMIO" (value 0 on an ordinary VM). */
	if ((arch_s2_pte_absent(pt) & mask) == value) {
		return false;
	}
	/* The emptiest and the fullest entry of this value. */
	return mmio_probe_ok(pt, value) && mmio_probe_ok(pt, value | data);
}

/* Take @value for @pt if the validator accepts it; else no MMIO SPTEs. */
bool s2_mmio_value_take(struct s2pt *pt, s2pte_t value)
{
	pt->mmio_on = false;
	pt->mmio_value = value;
	pt->mmio_on = s2pt_mmio_value_valid(pt, pt->fmt.mmio_mask, value);
	return pt->mmio_on;
}

int s2pt_set_mmio_value(struct s2pt *pt, s2pte_t value)
{
	if (!pt->root || pt->root_count) {
		return -EBUSY;
	}
	return s2_mmio_value_take(pt, value) ? 0 : -EINVAL;
}

static int mmio_count_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct mmio_data *m = ctx->arg;

	(void)visit;
	if (s2_kind(ctx->pt, ctx->old, ctx->level) != S2_PTE_ABSENT) {
		return -EEXIST;
	}
	/* One new table for each level between this entry and the page. */
	m->pages += ctx->level;
	return 0;
}

static int mmio_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct mmio_data *m = ctx->arg;
	struct s2pt *pt = ctx->pt;
	paddr_t table;

	(void)visit;
	if (ctx->level == 0) {
		s2_walk_set(ctx, s2pt_make_mmio(pt, m->gpa, m->gen));
		return 0;
	}
	/* The walker descends into the new table. */
	table = s2_cache_take(pt, &m->cache);
	if (WARN_ON_ONCE(!table)) {
		return -EIO;	/* fewer pages than counted: a core bug */
	}
	/* Marked: freeing it gives it back to counters.mmio_tables. */
	pt->counters.mmio_tables++;
	s2_walk_set(ctx, arch_s2_make_table(pt, table, 0) |
			 pt->fmt.table_mmio_bit);
	return 0;
}

int s2pt_set_mmio(struct s2pt *pt, gpa_t gpa, uint64_t gen)
{
	struct mmio_data m = { .gpa = gpa, .gen = gen & S2_MMIO_GEN_MAX };
	struct s2_walker count = {
		.cb = mmio_count_walker, .arg = &m, .flags = S2_WALK_LEAF,
	};
	struct s2_walker write = {
		.cb = mmio_walker, .arg = &m, .flags = S2_WALK_LEAF,
	};
	int ret;

	ret = s2_check_range(pt, gpa, PAGE_SIZE);
	if (ret) {
		return ret;
	}
	if (!s2pt_mmio_enabled(pt)) {
		return -EOPNOTSUPP;
	}
	return s2_count_reserve_write(pt, gpa, PAGE_SIZE, &count, &write, &m.pages,
				      &m.cache, "set_mmio");
}

int s2pt_get_mmio(const struct s2pt *pt, gpa_t gpa, uint64_t *gen)
{
	unsigned int level;
	s2pte_t pte;
	int ret = s2_find_entry(pt, gpa, &pte, &level);

	if (ret) {
		return ret;
	}
	if (level != 0 || !s2pt_is_mmio(pt, pte)) {
		return -ENOENT;
	}
	*gen = s2pt_mmio_gen(pte);
	return 0;
}
