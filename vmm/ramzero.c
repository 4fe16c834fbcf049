// SPDX-License-Identifier: MIT
/*
 * Lazy zeroing of guest RAM (the argument is in docs/boot-cost.md).
 *
 * A memslot's backing comes from the page allocator holding whatever it
 * held before: another VM's memory, a deleted memslot, pages of the
 * hypervisor's own. Zeroing all of it when the VM is built costs the
 * instructions of every byte of RAM, most of which a guest never touches
 * while it boots. So each slot keeps one bit per VM_ZERO_CHUNK (2 MiB) of
 * its backing, and a chunk is zeroed the first time anything could see it:
 *   - a stage-2 fault about to map any of it (vmm/fault.c zeroes the whole
 *     block it lets the core install, then maps inside that block only);
 *   - the hypervisor reading or writing it for the guest (vm_gpa_to_host(),
 *     the kernel loader through struct guest_ram's prepare hook).
 * Nothing else maps guest RAM or touches it, so no guest and no guest-visible
 * output can see a chunk before its bit is set, and the bit is set only after
 * the chunk is zeroed and made visible (arch_ram_zeroed()).
 */
#include <lib/bug.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <vmm/vm.h>

#define BITS_PER_WORD	64
#define BITMAP_CHUNKS	(PAGE_SIZE * 8)	/* chunks one bitmap page covers */

static uint64_t nr_chunks(const struct memslot *ms)
{
	return (ms->size + VM_ZERO_CHUNK - 1) >> VM_ZERO_CHUNK_SHIFT;
}

static bool chunk_zeroed(const struct memslot *ms, uint64_t c)
{
	return ms->zeroed[c / BITS_PER_WORD] & BIT(c % BITS_PER_WORD);
}

void vm_ram_track(struct vm *vm, struct memslot *ms)
{
	ms->zeroed = NULL;
	ms->unzeroed = 0;
	if (nr_chunks(ms) <= BITMAP_CHUNKS) {
		ms->zeroed = palloc_page_zeroed();
	}
	if (!ms->zeroed) {
		/* No page for the bitmap (or a slot past 64 GiB): now. */
		memset((void *)(uintptr_t)ms->pa, 0, ms->size);
		arch_ram_zeroed(vm, ms->pa, ms->size);
		return;
	}
	ms->unzeroed = nr_chunks(ms);
}

void vm_ram_untrack(struct memslot *ms)
{
	if (ms->zeroed) {
		palloc_free((paddr_t)(uintptr_t)ms->zeroed, 1);
	}
	ms->zeroed = NULL;
	ms->unzeroed = 0;
}

/* Bits [@lo, @hi] (inclusive) of a bitmap word; 0 <= lo <= hi < 64. */
static uint64_t word_mask(unsigned int lo, unsigned int hi)
{
	return (~0ULL >> (BITS_PER_WORD - 1 - hi)) & (~0ULL << lo);
}

bool vm_ram_is_zeroed(const struct memslot *ms, uint64_t off, uint64_t len)
{
	uint64_t first, last;

	if (!ms->unzeroed || !len) {
		return true;
	}
	if (off >= ms->size || len > ms->size - off) {
		return false;
	}
	first = off >> VM_ZERO_CHUNK_SHIFT;
	last = (off + len - 1) >> VM_ZERO_CHUNK_SHIFT;
	/* A word at a time: a 1 GiB block is 8 words. */
	for (uint64_t w = first / BITS_PER_WORD; w <= last / BITS_PER_WORD;
	     w++) {
		unsigned int lo = w == first / BITS_PER_WORD ?
				  first % BITS_PER_WORD : 0;
		unsigned int hi = w == last / BITS_PER_WORD ?
				  last % BITS_PER_WORD : BITS_PER_WORD - 1;
		uint64_t m = word_mask(lo, hi);

		if ((ms->zeroed[w] & m) != m) {
			return false;
		}
	}
	return true;
}

void vm_ram_prepare(struct vm *vm, struct memslot *ms, uint64_t off,
		    uint64_t len)
{
	uint64_t first, last;

	if (!ms->unzeroed || !len) {
		return;
	}
	if (WARN_ON_ONCE(off >= ms->size || len > ms->size - off)) {
		/* A caller's bug: zero what of it lies in the slot. */
		if (off >= ms->size) {
			return;
		}
		len = ms->size - off;
	}
	first = off >> VM_ZERO_CHUNK_SHIFT;
	last = (off + len - 1) >> VM_ZERO_CHUNK_SHIFT;
	for (uint64_t c = first; c <= last && ms->unzeroed; c++) {
		uint64_t start = c << VM_ZERO_CHUNK_SHIFT;
		uint64_t size = MIN(VM_ZERO_CHUNK, ms->size - start);

		if (chunk_zeroed(ms, c)) {
			continue;
		}
		memset((void *)(uintptr_t)(ms->pa + start), 0, size);
		arch_ram_zeroed(vm, ms->pa + start, size);
		ms->zeroed[c / BITS_PER_WORD] |= BIT(c % BITS_PER_WORD);
		ms->unzeroed--;
		vm->ctr[STRATA_CTR_ZEROED_CHUNKS]++;
	}
}
