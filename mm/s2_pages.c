// SPDX-License-Identifier: MIT
/*
 * The hypervisor's table-page provider for the stage-2 core: pages from the
 * physical page allocator (identity mapped). The host tests provide their own.
 */
#include <mm/palloc.h>
#include <mm/s2_arch.h>

int s2_table_page_alloc(paddr_t *pa)
{
	return palloc_alloc(1, 1, pa);
}

void s2_table_page_free(paddr_t pa)
{
	palloc_free(pa, 1);
}

int s2_root_alloc(unsigned int npages, paddr_t *pa)
{
	return palloc_alloc(npages, npages, pa);
}

void s2_root_free(paddr_t pa, unsigned int npages)
{
	palloc_free(pa, npages);
}

bool s2_table_page_live(paddr_t pa)
{
	return palloc_is_allocated(pa, 1);
}

void s2_pte_written(const s2pte_t *ptep, s2pte_t old, s2pte_t new,
		    unsigned int level)
{
	(void)ptep;
	(void)old;
	(void)new;
	(void)level;
}
