// SPDX-License-Identifier: MIT
/*
 * The UEFI part of boot_main(): what the EFI stub (efi_stub.c) handed over,
 * read with the MMU on once the image runs where the stub put it.
 *
 * RAM comes from the EFI memory map, not from the DTB's /memory nodes (edk2
 * leaves them in, but only the map knows what the firmware keeps). Usable
 * are free memory and, boot services being gone, what the loader and the
 * boot services had, all only if write-back cacheable and neither runtime
 * nor specific-purpose. Usable descriptors are merged into sorted ranges
 * first, then every other descriptor is cut out again: a map whose
 * descriptors overlap can lose RAM but never give runtime-services, ACPI or
 * MMIO memory to the page allocator. Everything is checked before use.
 */
#include <core/arch.h>
#include <core/platform.h>
#include <lib/printk.h>
#include <lib/string.h>

#include "boot.h"
#include "efi.h"

#define EFI_MEMORY_WB	BIT(3)
#define RAM_MAX		64	/* merged ranges kept while building */

struct ram_ranges {
	struct {
		uint64_t base, end;
	} r[RAM_MAX];
	unsigned int nr;
	unsigned int dropped;
};

/* What the page allocator keeps out, for the report. */
struct kept_out {
	unsigned int nr;
	uint64_t bytes;
};

enum { KEPT_RUNTIME, KEPT_ACPI, KEPT_MMIO, KEPT_OTHER, KEPT_NR };

static const char *const kept_name[KEPT_NR] = {
	"runtime services", "ACPI", "MMIO", "reserved or unusable",
};

static struct ram_ranges efi_ram;

static bool desc_usable(const struct efi_memory_desc *d)
{
	if (d->attribute & (EFI_MEMORY_RUNTIME | EFI_MEMORY_SP) ||
	    !(d->attribute & EFI_MEMORY_WB)) {
		return false;
	}
	switch (d->type) {
	case EFI_CONVENTIONAL_MEMORY:
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
		return true;
	default:
		return false;
	}
}

static unsigned int desc_kept(const struct efi_memory_desc *d)
{
	if (d->attribute & EFI_MEMORY_RUNTIME ||
	    d->type == EFI_RUNTIME_SERVICES_CODE ||
	    d->type == EFI_RUNTIME_SERVICES_DATA) {
		return KEPT_RUNTIME;
	}
	switch (d->type) {
	case EFI_ACPI_RECLAIM_MEMORY:
	case EFI_ACPI_MEMORY_NVS:
		return KEPT_ACPI;
	case EFI_MEMORY_MAPPED_IO:
	case EFI_MEMORY_MAPPED_IO_PORT_SPACE:
		return KEPT_MMIO;
	default:
		return KEPT_OTHER;
	}
}

/* [base, end) of @d, 0 for end if it is empty or wraps. */
static uint64_t desc_end(const struct efi_memory_desc *d)
{
	if (!d->num_pages ||
	    d->num_pages > (~0ULL - d->phys_start) >> EFI_PAGE_SHIFT) {
		return 0;
	}
	return d->phys_start + (d->num_pages << EFI_PAGE_SHIFT);
}

static void ram_remove(struct ram_ranges *rr, unsigned int i)
{
	memmove(&rr->r[i], &rr->r[i + 1], (rr->nr - i - 1) * sizeof(rr->r[0]));
	rr->nr--;
}

static unsigned int ram_smallest(const struct ram_ranges *rr)
{
	unsigned int s = 0;

	for (unsigned int i = 1; i < rr->nr; i++) {
		if (rr->r[i].end - rr->r[i].base < rr->r[s].end - rr->r[s].base) {
			s = i;
		}
	}
	return s;
}

/* Merge [base, end) in; when full, the smallest range goes. */
static void ram_add(struct ram_ranges *rr, uint64_t base, uint64_t end)
{
	unsigned int i = 0, j;

	while (i < rr->nr && rr->r[i].end < base) {
		i++;
	}
	for (j = i; j < rr->nr && rr->r[j].base <= end; j++) {
		base = MIN(base, rr->r[j].base);
		end = MAX(end, rr->r[j].end);
	}
	if (j > i) {
		rr->r[i].base = base;
		rr->r[i].end = end;
		memmove(&rr->r[i + 1], &rr->r[j], (rr->nr - j) * sizeof(rr->r[0]));
		rr->nr -= j - i - 1;
		return;
	}
	if (rr->nr == RAM_MAX) {
		unsigned int s = ram_smallest(rr);

		rr->dropped++;
		if (rr->r[s].end - rr->r[s].base >= end - base) {
			return;
		}
		ram_remove(rr, s);
		i -= s < i;
	}
	memmove(&rr->r[i + 1], &rr->r[i], (rr->nr - i) * sizeof(rr->r[0]));
	rr->r[i].base = base;
	rr->r[i].end = end;
	rr->nr++;
}

/* Take [base, end) out; a split without a free slot loses the upper part. */
static void ram_cut(struct ram_ranges *rr, uint64_t base, uint64_t end)
{
	for (unsigned int i = 0; i < rr->nr; i++) {
		uint64_t rb = rr->r[i].base, re = rr->r[i].end;

		if (re <= base || rb >= end) {
			continue;
		}
		if (rb < base && re > end) {
			if (rr->nr == RAM_MAX) {
				rr->r[i].end = base;
				rr->dropped++;
				continue;
			}
			memmove(&rr->r[i + 1], &rr->r[i],
				(rr->nr - i) * sizeof(rr->r[0]));
			rr->nr++;
			rr->r[i].end = base;
			rr->r[i + 1].base = end;
			i++;
		} else if (rb < base) {
			rr->r[i].end = base;
		} else if (re > end) {
			rr->r[i].base = end;
		} else {
			ram_remove(rr, i);
			i--;
		}
	}
}

static const struct efi_memory_desc *desc_at(const struct efi_handover *h,
					     unsigned int i)
{
	return (const void *)(h->mmap + (size_t)i * h->desc_size);
}

void efi_boot_memory(const struct efi_handover *h, struct platform *p)
{
	struct ram_ranges *rr = &efi_ram;
	struct kept_out kept[KEPT_NR] = { { 0, 0 } };
	uint64_t total = 0;
	unsigned int n;

	if (h->desc_size < sizeof(struct efi_memory_desc) ||
	    !IS_ALIGNED(h->desc_size, 8) || h->mmap_size > sizeof(h->mmap)) {
		pr_err("efi: memory map with %llu-byte descriptors in %llu bytes "
		       "is unusable; stopping\n",
		       (unsigned long long)h->desc_size,
		       (unsigned long long)h->mmap_size);
		arch_stop(1);
	}
	n = (unsigned int)(h->mmap_size / h->desc_size);
	rr->nr = 0;
	rr->dropped = 0;
	for (unsigned int i = 0; i < n; i++) {
		const struct efi_memory_desc *d = desc_at(h, i);
		uint64_t base = ALIGN_UP(d->phys_start, PAGE_SIZE);
		uint64_t end = ALIGN_DOWN(desc_end(d), PAGE_SIZE);

		if (desc_usable(d) && end > base) {
			ram_add(rr, base, end);
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct efi_memory_desc *d = desc_at(h, i);
		uint64_t end = desc_end(d);
		struct kept_out *k;

		if (desc_usable(d) || !d->num_pages) {
			continue;
		}
		k = &kept[desc_kept(d)];
		k->nr++;
		k->bytes += end ? end - d->phys_start : 0;
		end = (!end || ALIGN_UP(end, PAGE_SIZE) < end) ?
			      ~0ULL : ALIGN_UP(end, PAGE_SIZE);
		ram_cut(rr, ALIGN_DOWN(d->phys_start, PAGE_SIZE), end);
	}
	while (rr->nr > PLAT_MAX_RANGES - MIN(p->nr_ram, PLAT_MAX_RANGES)) {
		ram_remove(rr, ram_smallest(rr));
		rr->dropped++;
	}
	for (unsigned int i = 0; i < rr->nr; i++) {
		total += rr->r[i].end - rr->r[i].base;
	}
	pr_info("efi: memory map: %u descriptor%s of %llu bytes (version %u), "
		"boot services exited after %u attempt%s\n", n,
		n == 1 ? "" : "s", (unsigned long long)h->desc_size,
		h->desc_version, h->exit_attempts,
		h->exit_attempts == 1 ? "" : "s");
	pr_info("efi: RAM from the EFI memory map: %u range%s, %llu MiB\n",
		rr->nr, rr->nr == 1 ? "" : "s",
		(unsigned long long)(total >> 20));
	for (unsigned int k = 0; k < KEPT_NR; k++) {
		if (kept[k].nr) {
			pr_info("efi: kept out of the page allocator: %s, %u "
				"descriptor%s, %llu KiB\n", kept_name[k],
				kept[k].nr, kept[k].nr == 1 ? "" : "s",
				(unsigned long long)(kept[k].bytes >> 10));
		}
	}
	if (rr->dropped) {
		pr_warn("efi: %u RAM ranges dropped (too many ranges)\n",
			rr->dropped);
	}
	if (!rr->nr) {
		pr_err("efi: no usable RAM in the EFI memory map; stopping\n");
		arch_stop(1);
	}
	for (unsigned int i = 0; i < rr->nr; i++) {
		boot_add_ram(p, rr->r[i].base, rr->r[i].end - rr->r[i].base,
			     "EFI");
	}
}

static const char *bundle_source(const struct efi_handover *h)
{
	switch (h->bundle_source) {
	case EFI_BUNDLE_LOAD_FILE2:
		return "the initrd LoadFile2 protocol";
	case EFI_BUNDLE_FILE:
		return "the file named by initrd=";
	default:
		return "nowhere";
	}
}

void efi_boot_report(const struct efi_handover *h)
{
	pr_info("efi: started by UEFI firmware '%s' revision 0x%x, system "
		"table at 0x%llx, image loaded at 0x%llx\n",
		h->firmware_vendor, h->firmware_revision,
		(unsigned long long)h->system_table,
		(unsigned long long)h->loaded_at);
	if (h->dtb) {
		pr_info("efi: device tree from the EFI configuration table at "
			"0x%llx\n", (unsigned long long)h->dtb);
	}
	if (h->acpi_rsdp) {
		pr_info("efi: ACPI 2.0 RSDP at 0x%llx\n",
			(unsigned long long)h->acpi_rsdp);
	}
	pr_info("efi: command line from LoadOptions: '%s'\n", h->cmdline);
	if (h->bundle_source == EFI_BUNDLE_NONE) {
		pr_info("efi: no boot bundle\n");
	} else {
		pr_info("efi: boot bundle from %s%s%s: %llu bytes at 0x%llx\n",
			bundle_source(h),
			h->bundle_source == EFI_BUNDLE_FILE ? " " : "",
			h->bundle_source == EFI_BUNDLE_FILE ? h->bundle_path :
							      "",
			(unsigned long long)h->bundle_size,
			(unsigned long long)h->bundle);
	}
}
