// SPDX-License-Identifier: MIT
/*
 * The per-operation page cache: every table page an operation may need is
 * taken from the provider before the operation's first write, so running out
 * of memory leaves the table as it was. Reserved pages are chained through
 * their first word (they are not tables yet, nothing walks them).
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/s2pt.h>
#include "s2_internal.h"

uint64_t s2_table_hash(paddr_t pa)
{
	return (pa >> PAGE_SHIFT) * 0x9E3779B97F4A7C15ULL + 1;
}

void s2_table_account_new(struct s2pt *pt, paddr_t pa)
{
	/* Concurrent faults account their new tables at once. */
	s2_counter_add(&pt->counters.tables_alloc, 1);
	s2_counter_add(&pt->counters.tables_in_use, 1);
	s2_counter_add(&pt->table_sum, s2_table_hash(pa));
}

void s2_table_free(struct s2pt *pt, paddr_t table)
{
	paddr_t pa = ALIGN_DOWN(table, PAGE_SIZE);

	if (table & S2_TABLE_MMIO) {
		pt->counters.mmio_tables--;
	}
	pt->counters.tables_freed++;
	pt->counters.tables_in_use--;
	pt->table_sum -= s2_table_hash(pa);
	s2_table_page_free(pa);
}

int s2_cache_reserve(struct s2pt *pt, struct s2_page_cache *c,
		     unsigned long n)
{
	c->head = 0;
	c->nr = 0;
	while (c->nr < n) {
		paddr_t pa;

		if (s2_table_page_alloc(&pa)) {
			s2_cache_release(pt, c);
			return -ENOMEM;
		}
		*(paddr_t *)s2_table_va(pa) = c->head;
		c->head = pa;
		c->nr++;
	}
	return 0;
}

void s2_fill_absent(const struct s2pt *pt, s2pte_t *table, unsigned int n)
{
	s2pte_t absent = arch_s2_pte_absent(pt);

	/* A table nobody walks yet: plain stores, whole words at a time. */
	if (!absent) {
		memset(table, 0, n * sizeof(*table));
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		table[i] = absent;
	}
}

/*
 * A page from the cache, filled with absent entries and accounted; 0 if the
 * reservation was too small (a core bug, reported; the caller fails).
 */
paddr_t s2_cache_take(struct s2pt *pt, struct s2_page_cache *c)
{
	paddr_t pa = c->head;
	s2pte_t *t;

	if (!c->nr) {
		pr_err("s2pt: page reservation exhausted (core bug)\n");
		return 0;
	}
	t = s2_table_va(pa);
	c->head = *(paddr_t *)t;
	c->nr--;
	s2_fill_absent(pt, t, S2_PTRS_PER_TABLE);
	s2_table_account_new(pt, pa);
	return pa;
}

void s2_cache_release(struct s2pt *pt, struct s2_page_cache *c)
{
	(void)pt;
	while (c->nr) {
		paddr_t pa = c->head;

		c->head = *(paddr_t *)s2_table_va(pa);
		c->nr--;
		s2_table_page_free(pa);
	}
}

int s2_count_reserve_write(struct s2pt *pt, gpa_t gpa, uint64_t size,
			   const struct s2_walker *count,
			   const struct s2_walker *write,
			   const unsigned long *pages,
			   struct s2_page_cache *cache, const char *op)
{
	int ret = s2pt_walk(pt, gpa, size, count);

	if (ret) {
		return ret;
	}
	ret = s2_cache_reserve(pt, cache, *pages);
	if (ret) {
		return ret;
	}
	ret = s2pt_walk(pt, gpa, size, write);
	s2_cache_release(pt, cache);
	s2_op_done(pt, op);
	return ret;
}
