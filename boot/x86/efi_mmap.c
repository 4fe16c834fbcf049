// SPDX-License-Identifier: MIT
/*
 * The EFI memory map of multiboot2 tag 17 to RAM ranges. The map has a
 * hundred or more descriptors on real firmware, most of them runs of the
 * same kinds of memory side by side, and struct platform holds 32 RAM
 * ranges: usable descriptors are merged into sorted ranges first (the
 * smallest dropped if there are too many), then
 * every descriptor that is not usable is cut out again, so that a map
 * whose descriptors overlap can lose RAM but never hand out runtime
 * services, ACPI or MMIO memory. Everything comes from the loader and is
 * checked before use.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>

#include "multiboot2.h"

#define EFI_RAM_MAX	64	/* merged ranges kept while building */

struct efi_ram {
	struct {
		uint64_t base, end;	/* [base, end), page aligned */
	} r[EFI_RAM_MAX];
	unsigned int nr;
	unsigned int dropped;		/* ranges lost to a full array */
};

/*
 * What may become RAM: free memory, and once boot services are gone what
 * GRUB (loader) and the firmware (boot services) allocated for themselves.
 */
static bool efi_desc_usable(const struct efi_memory_desc *d, bool bs_exited)
{
	if (d->attribute & (EFI_MEMORY_RUNTIME | EFI_MEMORY_SP)) {
		return false;
	}
	switch (d->type) {
	case EFI_CONVENTIONAL_MEMORY:
		return true;
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
		return bs_exited;
	default:
		return false;
	}
}

/* The end of @d, or 0 if it is empty or wraps past the address space. */
static uint64_t efi_desc_end(const struct efi_memory_desc *d)
{
	uint64_t max_pages = (~0ULL - d->phys_start) >> EFI_PAGE_SHIFT;

	if (!d->num_pages || d->num_pages > max_pages) {
		return 0;
	}
	return d->phys_start + (d->num_pages << EFI_PAGE_SHIFT);
}

/* The index of the smallest range; there is at least one. */
static unsigned int efi_ram_smallest(const struct efi_ram *ram)
{
	unsigned int s = 0;

	for (unsigned int i = 1; i < ram->nr; i++) {
		if (ram->r[i].end - ram->r[i].base <
		    ram->r[s].end - ram->r[s].base) {
			s = i;
		}
	}
	return s;
}

static void efi_ram_remove(struct efi_ram *ram, unsigned int i)
{
	memmove(&ram->r[i], &ram->r[i + 1],
		(ram->nr - i - 1) * sizeof(ram->r[0]));
	ram->nr--;
}

/*
 * Merge [base, end) into the sorted, disjoint, non-adjacent ranges. When
 * they are full, the smallest range (maybe the new one) is dropped: real
 * maps fragment in low memory, and the big ranges come last.
 */
static void efi_ram_add(struct efi_ram *ram, uint64_t base, uint64_t end)
{
	unsigned int i = 0, j;

	while (i < ram->nr && ram->r[i].end < base) {
		i++;
	}
	for (j = i; j < ram->nr && ram->r[j].base <= end; j++) {
		base = MIN(base, ram->r[j].base);
		end = MAX(end, ram->r[j].end);
	}
	if (j > i) {
		ram->r[i].base = base;
		ram->r[i].end = end;
		memmove(&ram->r[i + 1], &ram->r[j],
			(ram->nr - j) * sizeof(ram->r[0]));
		ram->nr -= j - i - 1;
		return;
	}
	if (ram->nr == EFI_RAM_MAX) {
		unsigned int s = efi_ram_smallest(ram);

		ram->dropped++;
		if (ram->r[s].end - ram->r[s].base >= end - base) {
			return;
		}
		efi_ram_remove(ram, s);
		i -= s < i;
	}
	memmove(&ram->r[i + 1], &ram->r[i], (ram->nr - i) * sizeof(ram->r[0]));
	ram->r[i].base = base;
	ram->r[i].end = end;
	ram->nr++;
}

/*
 * Remove [base, end) from the ranges. A range split in two needs a slot;
 * without one the upper part is dropped (less RAM, never a wrong page).
 */
static void efi_ram_cut(struct efi_ram *ram, uint64_t base, uint64_t end)
{
	for (unsigned int i = 0; i < ram->nr; i++) {
		uint64_t rb = ram->r[i].base, re = ram->r[i].end;

		if (re <= base || rb >= end) {
			continue;
		}
		if (rb < base && re > end) {
			if (ram->nr == EFI_RAM_MAX) {
				ram->r[i].end = base;
				ram->dropped++;
				continue;
			}
			memmove(&ram->r[i + 1], &ram->r[i],
				(ram->nr - i) * sizeof(ram->r[0]));
			ram->nr++;
			ram->r[i].end = base;
			ram->r[i + 1].base = end;
			i++;
		} else if (rb < base) {
			ram->r[i].end = base;
		} else if (re > end) {
			ram->r[i].base = end;
		} else {
			efi_ram_remove(ram, i);
			i--;
		}
	}
}

static const struct efi_memory_desc *efi_desc(const struct mb2_tag_efi_mmap *t,
					      unsigned int i)
{
	return (const void *)((const uint8_t *)(t + 1) + (size_t)i * t->desc_size);
}

/* The number of whole descriptors in @t, or 0 if @t is unusable. */
static unsigned int efi_mmap_count(const struct mb2_tag_efi_mmap *t)
{
	size_t bytes;

	if (t->tag.size < sizeof(*t)) {
		pr_warn("multiboot2: EFI memory map tag truncated (%u bytes); "
			"ignored\n", t->tag.size);
		return 0;
	}
	if (t->desc_size < sizeof(struct efi_memory_desc) ||
	    !IS_ALIGNED(t->desc_size, 8)) {
		pr_warn("multiboot2: EFI memory map descriptor size %u (expected "
			"a multiple of 8, at least %zu); ignored\n",
			t->desc_size, sizeof(struct efi_memory_desc));
		return 0;
	}
	bytes = t->tag.size - sizeof(*t);
	if (bytes % t->desc_size) {
		pr_warn("multiboot2: EFI memory map ends in a partial "
			"descriptor; its %zu bytes ignored\n",
			bytes % t->desc_size);
	}
	if (bytes / t->desc_size == 0) {
		pr_warn("multiboot2: EFI memory map has no descriptor; "
			"ignored\n");
	}
	return (unsigned int)(bytes / t->desc_size);
}

int efi_mmap_to_ram(const struct mb2_tag_efi_mmap *t, bool bs_exited,
		    struct platform *p, struct mb2_boot *boot)
{
	unsigned int n = efi_mmap_count(t);
	struct efi_ram ram = { .nr = 0 };

	if (!n) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct efi_memory_desc *d = efi_desc(t, i);
		uint64_t end = efi_desc_end(d);
		uint64_t base = ALIGN_UP(d->phys_start, PAGE_SIZE);

		end = ALIGN_DOWN(end, PAGE_SIZE);
		if (efi_desc_usable(d, bs_exited) && end > base) {
			efi_ram_add(&ram, base, end);
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct efi_memory_desc *d = efi_desc(t, i);
		uint64_t end = efi_desc_end(d);

		if (efi_desc_usable(d, bs_exited)) {
			continue;
		}
		if (!d->num_pages) {
			continue;
		}
		/* A wrapping descriptor, or one ending in the top page. */
		if (!end || ALIGN_UP(end, PAGE_SIZE) < end) {
			end = ~0ULL;
		} else {
			end = ALIGN_UP(end, PAGE_SIZE);
		}
		efi_ram_cut(&ram, ALIGN_DOWN(d->phys_start, PAGE_SIZE), end);
	}
	boot->efi_mmap_entries = n;
	/* struct platform has room for fewer: keep the largest. */
	while (ram.nr && ram.nr > PLAT_MAX_RANGES - MIN(p->nr_ram,
							PLAT_MAX_RANGES)) {
		efi_ram_remove(&ram, efi_ram_smallest(&ram));
		ram.dropped++;
	}
	boot->ram_dropped += ram.dropped;
	for (unsigned int i = 0; i < ram.nr; i++) {
		platform_add_ram(p, ram.r[i].base, ram.r[i].end - ram.r[i].base);
		boot->ram_bytes += ram.r[i].end - ram.r[i].base;
	}
	return 0;
}
