/* SPDX-License-Identifier: MIT */
/*
 * The multiboot2 boot information as the loader hands it over.
 *
 * On BIOS, GRUB gives a memory map (tag 6) built from E820. On UEFI it also
 * gives the EFI system table (tag 11 or 12), the firmware's own memory map
 * as it was when GRUB exited boot services (tag 17) and the image handle
 * (tag 19 or 20); tag 18 says that boot services were NOT exited, which
 * GRUB does only for kernels that ask for it (Strata does not). When a
 * usable EFI memory map is present, RAM comes from it and not from tag 6:
 * EfiConventionalMemory always, and once boot services are gone also
 * EfiLoaderCode/Data and EfiBootServicesCode/Data (what GRUB and the
 * firmware used and no longer need; Strata's image, the boot information
 * and the modules are reserved ranges, so the page allocator steps around
 * them). Runtime services, ACPI, MMIO, reserved, persistent, unaccepted
 * and specific-purpose memory never become RAM, even where a broken map
 * lets a usable descriptor overlap them. See docs/x86-uefi.md.
 */
#ifndef STRATA_BOOT_X86_MULTIBOOT2_H
#define STRATA_BOOT_X86_MULTIBOOT2_H

#include <core/platform.h>
#include <types.h>

#define MB2_BOOT_MAGIC		0x36d76289

#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_LOADER_NAME	2
#define MB2_TAG_MODULE		3
#define MB2_TAG_MMAP		6
#define MB2_TAG_EFI32		11	/* EFI 32-bit system table pointer */
#define MB2_TAG_EFI64		12	/* EFI 64-bit system table pointer */
#define MB2_TAG_ACPI_OLD	14	/* a copy of the ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW	15	/* a copy of the ACPI 2.0+ RSDP */
#define MB2_TAG_EFI_MMAP	17
#define MB2_TAG_EFI_BS		18	/* EFI boot services not terminated */
#define MB2_TAG_EFI32_IH	19	/* EFI 32-bit image handle pointer */
#define MB2_TAG_EFI64_IH	20	/* EFI 64-bit image handle pointer */

#define MB2_MEM_AVAILABLE	1

/* UEFI memory types (UEFI 2.10, 7.2 EFI_MEMORY_TYPE). */
#define EFI_RESERVED_MEMORY		0
#define EFI_LOADER_CODE			1
#define EFI_LOADER_DATA			2
#define EFI_BOOT_SERVICES_CODE		3
#define EFI_BOOT_SERVICES_DATA		4
#define EFI_RUNTIME_SERVICES_CODE	5
#define EFI_RUNTIME_SERVICES_DATA	6
#define EFI_CONVENTIONAL_MEMORY		7

#define EFI_MEMORY_SP		(1ULL << 18)	/* specific-purpose memory */
#define EFI_MEMORY_RUNTIME	(1ULL << 63)
#define EFI_PAGE_SHIFT		12

struct mb2_info_header {
	uint32_t total_size;
	uint32_t reserved;
};

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start;
	uint32_t mod_end;	/* exclusive */
	char cmdline[];
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size;
	uint32_t entry_version;
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_tag_efi32 {		/* also the 32-bit image handle, tag 19 */
	struct mb2_tag tag;
	uint32_t pointer;
};

struct mb2_tag_efi64 {		/* also the 64-bit image handle, tag 20 */
	struct mb2_tag tag;
	uint64_t pointer;
};

struct mb2_tag_efi_mmap {
	struct mb2_tag tag;
	uint32_t desc_size;	/* stride; at least sizeof(efi_memory_desc) */
	uint32_t desc_version;
	/* then the descriptors, as GetMemoryMap() returned them */
};

struct efi_memory_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages;	/* 4 KiB pages */
	uint64_t attribute;
};

_Static_assert(sizeof(struct mb2_tag_module) == 16, "module tag layout");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mmap tag layout");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mmap entry layout");
_Static_assert(sizeof(struct mb2_tag_efi32) == 12, "efi32 tag layout");
_Static_assert(sizeof(struct mb2_tag_efi64) == 16, "efi64 tag layout");
_Static_assert(sizeof(struct mb2_tag_efi_mmap) == 16, "efi mmap tag layout");
_Static_assert(sizeof(struct efi_memory_desc) == 40, "EFI descriptor layout");

/* Where the page allocator's RAM came from. */
enum mb2_ram_source {
	MB2_RAM_NONE,		/* neither map usable: no RAM */
	MB2_RAM_MMAP,		/* the multiboot2 memory map, tag 6 */
	MB2_RAM_EFI_MMAP,	/* the EFI memory map, tag 17 */
};

/* What the firmware and the loader handed over, for the report. */
struct mb2_boot {
	const char *loader;		/* boot loader name; NULL if none */
	bool efi;			/* any EFI tag was seen */
	unsigned int efi_bits;		/* 32 or 64: system table width */
	uint64_t efi_system_table;	/* 0 if no (valid) tag */
	uint64_t efi_image_handle;	/* 0 if no (valid) tag */
	bool efi_bs_active;		/* tag 18: boot services still up */
	bool efi_mmap_seen;		/* tag 17 present, usable or not */
	unsigned int efi_mmap_entries;	/* descriptors in a usable tag 17 */
	unsigned int mmap_entries;	/* entries in a usable tag 6 */
	uint64_t mmap_bytes;		/* what tag 6 calls available */
	enum mb2_ram_source ram_source;
	uint64_t ram_bytes;		/* RAM handed to the platform */
	unsigned int ram_dropped;	/* ranges that did not fit */
	/*
	 * The RSDP copy of tag 15 (ACPI 2.0+) or else of tag 14 (ACPI 1.0),
	 * inside the boot information: its address and the bytes the tag
	 * holds. 0 and 0 if no tag; the ACPI code checks the contents.
	 */
	uint64_t acpi_rsdp;
	uint32_t acpi_rsdp_len;
	unsigned int acpi_tag;		/* 14, 15, or 0 */
};

/*
 * Fill @p from the boot information at @info: usable RAM (from the EFI
 * memory map when there is a usable one, else from the multiboot2 memory
 * map), the command line, the modules, and the boot information itself as
 * a reserved range; and @boot with what the firmware handed over.
 * Malformed tags are reported and skipped. 0, or -EINVAL if the block
 * itself is unusable. Pure parsing (the host unit tests run it): mapping
 * the RAM is the caller's business.
 */
int mb2_parse(paddr_t info, struct platform *p, struct mb2_boot *boot);

/*
 * Add the RAM of the EFI memory map tag @t to @p (boot-services and loader
 * memory only if @bs_exited) and count it in @boot. 0, or -EINVAL (with a
 * message) if the tag is unusable and nothing was added.
 */
int efi_mmap_to_ram(const struct mb2_tag_efi_mmap *t, bool bs_exited,
		    struct platform *p, struct mb2_boot *boot);

/* One line on the console saying what firmware and loader handed over. */
void mb2_report(const struct mb2_boot *boot);

#endif
