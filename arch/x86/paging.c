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
#include <mm/palloc.h>

#define PTE_PRESENT	BIT(0)
#define PTE_WRITE	BIT(1)
#define PTE_LARGE	BIT(7)
#define PTE_PAT_LARGE	BIT(12)	/* PAT bit of a 2 MiB / 1 GiB page */
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

/* ---- The secure module's memory (arch/x86/tdx/window.c) ---------------- */

/*
 * The alias of the module's window: PML4 slot ALIAS_SLOT (the first of the
 * upper half) maps the window writable with 2 MiB pages, and is present
 * only between x86_alias_open() and x86_alias_close().
 */
#define ALIAS_SLOT	256
#define ALIAS_BASE	0xffff800000000000ULL

static uint64_t alias_pml4e;
static bool alias_on;

static void flush_tlb(void)
{
	write_cr3(read_cr3());
}

int x86_alias_setup(paddr_t lo, paddr_t hi, void **va)
{
	paddr_t base = ALIGN_DOWN(lo, SZ_2M);
	uint64_t *pdpt = palloc_page_zeroed();

	if (!pdpt || hi <= lo || hi - base > SZ_512G) {
		return -ENOMEM;
	}
	for (paddr_t pa = base; pa < hi; pa += SZ_2M) {
		uint64_t off = pa - base;
		uint64_t *pdpte = &pdpt[off >> 30];
		uint64_t *pd;

		if (!(*pdpte & PTE_PRESENT)) {
			pd = palloc_page_zeroed();
			if (!pd) {
				return -ENOMEM;
			}
			*pdpte = (uint64_t)(uintptr_t)pd | PTE_PRESENT |
				 PTE_WRITE;
		}
		pd = (uint64_t *)(uintptr_t)(*pdpte & PTE_ADDR_MASK);
		pd[index_of(off, 21)] = pa | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
	}
	alias_pml4e = (uint64_t)(uintptr_t)pdpt | PTE_PRESENT | PTE_WRITE;
	*va = (void *)(uintptr_t)(ALIAS_BASE + (lo - base));
	return 0;
}

void x86_alias_open(void)
{
	if (alias_pml4e && !alias_on) {
		boot_pml4[ALIAS_SLOT] = alias_pml4e;	/* was absent: no flush */
		alias_on = true;
	}
}

void x86_alias_close(void)
{
	if (alias_on) {
		boot_pml4[ALIAS_SLOT] = 0;
		alias_on = false;
		flush_tlb();	/* no alias translation survives the call */
	}
}

/* Whether the alias slot holds anything: it must not outside a call. */
bool x86_alias_present(void)
{
	return boot_pml4[ALIAS_SLOT] != 0;
}

/* Split the large page @entry maps at @level (1: 2 MiB, 2: 1 GiB). */
static int split_large(uint64_t *entry, unsigned int level)
{
	uint64_t *t = palloc_page_zeroed();
	paddr_t pa = *entry & PTE_ADDR_MASK & ~(PTE_PAT_LARGE);
	uint64_t step = level == 2 ? SZ_2M : PAGE_SIZE;
	uint64_t flags = *entry & (PTE_PRESENT | PTE_WRITE);

	if (!t) {
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < PTES_PER_TABLE; i++) {
		t[i] = (pa + i * step) | flags | (level == 2 ? PTE_LARGE : 0);
	}
	*entry = (uint64_t)(uintptr_t)t | PTE_PRESENT | PTE_WRITE;
	return 0;
}

/* The 4 KiB PTE mapping @pa, splitting large pages when @split. */
static uint64_t *idmap_pte(paddr_t pa, bool split, bool *large)
{
	uint64_t *e = &boot_pml4[index_of(pa, 39)];
	static const unsigned int shift[] = { 30, 21, 12 };

	*large = false;
	for (unsigned int l = 0; l < 3; l++) {
		uint64_t *t;

		if (!(*e & PTE_PRESENT)) {
			return NULL;
		}
		t = (uint64_t *)(uintptr_t)(*e & PTE_ADDR_MASK);
		e = &t[index_of(pa, shift[l])];
		if (l < 2 && (*e & PTE_PRESENT) && (*e & PTE_LARGE)) {
			if (!split) {
				*large = true;
				return e;
			}
			if (split_large(e, 2 - l)) {
				return NULL;
			}
			flush_tlb();	/* the large entry may be cached */
		}
	}
	return e;
}

int x86_idmap_set_writable(paddr_t pa, bool writable)
{
	bool large;
	uint64_t *pte = idmap_pte(pa, true, &large);

	if (!pte) {
		return -ENOMEM;
	}
	if (!!(*pte & PTE_WRITE) == writable) {
		return 0;
	}
	if (writable) {
		*pte |= PTE_WRITE;
	} else {
		*pte &= ~PTE_WRITE;
	}
	__asm__ volatile("invlpg (%0)" : : "r"(pa) : "memory");
	return 0;
}

bool x86_idmap_writable(paddr_t pa)
{
	bool large;
	uint64_t *pte = idmap_pte(pa, false, &large);

	/* The walk's tables are all writable: the leaf decides. */
	return pte && (*pte & PTE_PRESENT) && (*pte & PTE_WRITE);
}
