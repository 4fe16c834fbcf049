// SPDX-License-Identifier: MIT
/*
 * The hypervisor's own identity map beyond the first 4 GiB (entry.S maps
 * those with 2 MiB pages). RAM above is mapped with 1 GiB pages where a
 * whole aligned GiB is RAM and the CPU has them, 2 MiB pages otherwise.
 * Table pages come from a small static pool: this runs before the page
 * allocator exists, and it is what decides which RAM the allocator gets.
 */
#include <arch/cpu.h>
#include <arch/x86.h>
#include <lib/errno.h>
#include <lib/string.h>

#define PTE_PRESENT	BIT(0)
#define PTE_WRITE	BIT(1)
#define PTE_LARGE	BIT(7)
#define PTE_ADDR_MASK	GENMASK(51, 12)
#define PTES_PER_TABLE	512
#define POOL_PAGES	16
#define SZ_512G		(512ULL * SZ_1G)
#define PHYS_LIMIT	BIT(46)	/* 64 TiB, far beyond any RAM here */

#define CPUID_EXT_FEATURES	0x80000001
#define CPUID_EDX_PDPE1GB	BIT(26)

extern uint64_t boot_pml4[PTES_PER_TABLE];

static uint64_t table_pool[POOL_PAGES][PTES_PER_TABLE] __aligned(PAGE_SIZE);
static unsigned int pool_used;

static bool cpu_has_1g_pages(void)
{
	if (cpuid(0x80000000, 0).eax < CPUID_EXT_FEATURES) {
		return false;
	}
	return cpuid(CPUID_EXT_FEATURES, 0).edx & CPUID_EDX_PDPE1GB;
}

/* The table @entry points to, allocating it if the entry is empty. */
static uint64_t *next_table(uint64_t *entry)
{
	uint64_t *t;

	if (*entry & PTE_PRESENT) {
		return (uint64_t *)(uintptr_t)(*entry & PTE_ADDR_MASK);
	}
	if (pool_used == POOL_PAGES) {
		return NULL;
	}
	t = table_pool[pool_used++];
	memset(t, 0, PAGE_SIZE);
	*entry = (uint64_t)(uintptr_t)t | PTE_PRESENT | PTE_WRITE;
	return t;
}

static unsigned int index_of(uint64_t pa, unsigned int shift)
{
	return (pa >> shift) % PTES_PER_TABLE;
}

/* Map the 2 MiB or 1 GiB page at @pa (aligned); 0 or -ENOMEM. */
static int map_page(uint64_t pa, bool gib)
{
	uint64_t *pdpt, *pd, *pdpte;

	pdpt = next_table(&boot_pml4[index_of(pa, 39)]);
	if (!pdpt) {
		return -ENOMEM;
	}
	pdpte = &pdpt[index_of(pa, 30)];
	if ((*pdpte & PTE_PRESENT) && (*pdpte & PTE_LARGE)) {
		return 0;
	}
	if (gib && !(*pdpte & PTE_PRESENT)) {
		*pdpte = pa | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
		return 0;
	}
	pd = next_table(pdpte);
	if (!pd) {
		return -ENOMEM;
	}
	pd[index_of(pa, 21)] = pa | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	return 0;
}

int x86_idmap_range(paddr_t base, uint64_t size)
{
	bool gib_ok = cpu_has_1g_pages();
	uint64_t pa, end = base + size;
	int ret = 0;

	if (end < base || end > PHYS_LIMIT) {
		return -ENOMEM;
	}
	for (pa = ALIGN_DOWN(base, SZ_2M); pa < end && !ret;) {
		bool gib = gib_ok && IS_ALIGNED(pa, SZ_1G) && end - pa >= SZ_1G;

		if (pa < 4 * SZ_1G) {
			pa += SZ_2M;
			continue;
		}
		ret = map_page(pa, gib);
		pa += gib ? SZ_1G : SZ_2M;
	}
	write_cr3(read_cr3());
	return ret;
}
