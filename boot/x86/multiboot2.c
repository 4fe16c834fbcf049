// SPDX-License-Identifier: MIT
/*
 * Multiboot2 boot information to struct platform. Every length comes from
 * the loader, so each is checked against the block before it is used.
 * Tags come in any order: one walk notes the two memory maps and the EFI
 * facts, and the RAM is chosen once the walk has seen every tag (the EFI
 * memory map wins when it is usable, see multiboot2.h).
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>

#include "multiboot2.h"

#define MB2_INFO_MAX	(16UL << 20)	/* sanity bound on total_size */

/* The tags whose meaning depends on others, kept until the walk ends. */
struct mb2_seen {
	const struct mb2_tag_mmap *mmap;
	const struct mb2_tag_efi_mmap *efi_mmap;
};

/* The string in [s, s + max), or NULL if it is not NUL-terminated there. */
static const char *tag_string(const char *s, size_t max)
{
	return memchr(s, '\0', max) ? s : NULL;
}

static void parse_cmdline(const struct mb2_tag *tag, struct platform *p)
{
	const char *s = tag_string((const char *)(tag + 1),
				   tag->size - sizeof(*tag));

	if (!s) {
		pr_warn("multiboot2: command line not terminated; ignored\n");
		return;
	}
	p->cmdline = s;
}

static void parse_loader_name(const struct mb2_tag *tag, struct mb2_boot *boot)
{
	const char *s = tag_string((const char *)(tag + 1),
				   tag->size - sizeof(*tag));

	if (!s) {
		pr_warn("multiboot2: boot loader name not terminated; "
			"ignored\n");
		return;
	}
	boot->loader = s;
}

static void parse_module(const struct mb2_tag *tag, struct platform *p)
{
	const struct mb2_tag_module *m = (const void *)tag;
	const char *name;

	if (tag->size < sizeof(*m)) {
		pr_warn("multiboot2: short module tag; ignored\n");
		return;
	}
	name = tag_string(m->cmdline, tag->size - sizeof(*m));
	if (!name || m->mod_end < m->mod_start) {
		pr_warn("multiboot2: malformed module tag; ignored\n");
		return;
	}
	platform_add_module(p, m->mod_start, m->mod_end - m->mod_start, name);
}

/*
 * The multiboot2 memory map (E820 on BIOS, GRUB's rendering of the EFI map
 * on UEFI): count its entries and available bytes in @boot, and with @p
 * also add its available entries to @p as RAM.
 */
static int mmap_walk(const struct mb2_tag_mmap *mm, struct platform *p,
		     struct mb2_boot *boot)
{
	const uint8_t *e, *end = (const uint8_t *)mm + mm->tag.size;

	if (mm->tag.size < sizeof(*mm) ||
	    mm->entry_size < sizeof(struct mb2_mmap_entry) ||
	    !IS_ALIGNED(mm->entry_size, 8)) {
		pr_warn("multiboot2: malformed memory map tag; ignored\n");
		return -EINVAL;
	}
	boot->mmap_entries = 0;
	boot->mmap_bytes = 0;
	for (e = (const uint8_t *)(mm + 1);
	     e + sizeof(struct mb2_mmap_entry) <= end; e += mm->entry_size) {
		const struct mb2_mmap_entry *ent = (const void *)e;

		boot->mmap_entries++;
		if (ent->type != MB2_MEM_AVAILABLE || !ent->len ||
		    ent->base + ent->len <= ent->base) {
			continue;
		}
		boot->mmap_bytes += ent->len;
		if (p) {
			platform_add_ram(p, ent->base, ent->len);
			boot->ram_bytes += ent->len;
		}
	}
	return 0;
}

/* Tags 11/12 (system table) and 19/20 (image handle): one pointer each. */
static void parse_efi_pointer(const struct mb2_tag *tag, struct mb2_boot *boot)
{
	bool wide = tag->type == MB2_TAG_EFI64 || tag->type == MB2_TAG_EFI64_IH;
	bool table = tag->type == MB2_TAG_EFI32 || tag->type == MB2_TAG_EFI64;
	size_t need = wide ? sizeof(struct mb2_tag_efi64) :
			     sizeof(struct mb2_tag_efi32);
	uint64_t ptr;

	boot->efi = true;
	if (tag->size < need) {
		pr_warn("multiboot2: EFI %s tag %u truncated (%u bytes, "
			"expected %zu); ignored\n",
			table ? "system table" : "image handle", tag->type,
			tag->size, need);
		return;
	}
	ptr = wide ? ((const struct mb2_tag_efi64 *)tag)->pointer :
		     ((const struct mb2_tag_efi32 *)tag)->pointer;
	if (table) {
		/* GRUB gives both on x86-64 only if asked; 64-bit wins. */
		if (wide || !boot->efi_system_table) {
			boot->efi_system_table = ptr;
			boot->efi_bits = wide ? 64 : 32;
		}
	} else if (wide || !boot->efi_image_handle) {
		boot->efi_image_handle = ptr;
	}
}

/* Tags 14 and 15: the RSDP copy; the ACPI 2.0+ one wins. */
static void parse_acpi(const struct mb2_tag *tag, struct mb2_boot *boot)
{
	if (tag->size <= sizeof(*tag)) {
		pr_warn("multiboot2: empty ACPI tag %u; ignored\n", tag->type);
		return;
	}
	if (boot->acpi_tag == MB2_TAG_ACPI_NEW &&
	    tag->type == MB2_TAG_ACPI_OLD) {
		return;
	}
	boot->acpi_rsdp = (uint64_t)(uintptr_t)(tag + 1);
	boot->acpi_rsdp_len = tag->size - sizeof(*tag);
	boot->acpi_tag = tag->type;
}

static void parse_tag(const struct mb2_tag *tag, struct platform *p,
		      struct mb2_boot *boot, struct mb2_seen *seen)
{
	switch (tag->type) {
	case MB2_TAG_CMDLINE:
		parse_cmdline(tag, p);
		break;
	case MB2_TAG_LOADER_NAME:
		parse_loader_name(tag, boot);
		break;
	case MB2_TAG_MODULE:
		parse_module(tag, p);
		break;
	case MB2_TAG_MMAP:
		seen->mmap = (const void *)tag;
		break;
	case MB2_TAG_EFI32:
	case MB2_TAG_EFI64:
	case MB2_TAG_EFI32_IH:
	case MB2_TAG_EFI64_IH:
		parse_efi_pointer(tag, boot);
		break;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		parse_acpi(tag, boot);
		break;
	case MB2_TAG_EFI_MMAP:
		boot->efi = true;
		boot->efi_mmap_seen = true;
		seen->efi_mmap = (const void *)tag;
		break;
	case MB2_TAG_EFI_BS:
		boot->efi = true;
		boot->efi_bs_active = true;
		break;
	default:
		break;
	}
}

/* Walk the tags after the header up to the end tag or the first bad one. */
static void walk_tags(const struct mb2_info_header *hdr, struct platform *p,
		      struct mb2_boot *boot, struct mb2_seen *seen)
{
	const uint8_t *pos, *end = (const uint8_t *)hdr + hdr->total_size;

	for (pos = (const uint8_t *)(hdr + 1);
	     pos + sizeof(struct mb2_tag) <= end;
	     pos += ALIGN_UP(((const struct mb2_tag *)pos)->size, 8)) {
		const struct mb2_tag *tag = (const void *)pos;

		if (tag->type == MB2_TAG_END) {
			return;
		}
		if (tag->size < sizeof(*tag) ||
		    tag->size > (size_t)(end - pos)) {
			pr_warn("multiboot2: tag %u has bad size %u; stopping\n",
				tag->type, tag->size);
			return;
		}
		parse_tag(tag, p, boot, seen);
	}
	pr_warn("multiboot2: no end tag\n");
}

/* The RAM: the EFI memory map if usable, else the multiboot2 one. */
static void choose_ram(const struct mb2_seen *seen, struct platform *p,
		       struct mb2_boot *boot)
{
	/* Counted in any case: on UEFI the report compares both maps. */
	bool mmap_ok = seen->mmap && !mmap_walk(seen->mmap, NULL, boot);

	if (seen->efi_mmap &&
	    !efi_mmap_to_ram(seen->efi_mmap, !boot->efi_bs_active, p, boot)) {
		boot->ram_source = MB2_RAM_EFI_MMAP;
		return;
	}
	if (boot->efi) {
		pr_warn("multiboot2: %s; RAM from the multiboot2 memory map\n",
			seen->efi_mmap ? "EFI memory map unusable" :
					 "EFI boot without an EFI memory map");
	}
	if (mmap_ok && !mmap_walk(seen->mmap, p, boot)) {
		boot->ram_source = MB2_RAM_MMAP;
		return;
	}
	pr_err("multiboot2: no usable memory map\n");
}

int mb2_parse(paddr_t info, struct platform *p, struct mb2_boot *boot)
{
	const struct mb2_info_header *hdr = (const void *)(uintptr_t)info;
	struct mb2_seen seen = { NULL, NULL };

	memset(boot, 0, sizeof(*boot));
	if (!info || !IS_ALIGNED(info, 8) || hdr->total_size < sizeof(*hdr) ||
	    hdr->total_size > MB2_INFO_MAX) {
		pr_err("multiboot2: bad boot information at 0x%llx\n",
		       (unsigned long long)info);
		return -EINVAL;
	}
	platform_add_reserved(p, info, hdr->total_size, "boot info");
	walk_tags(hdr, p, boot, &seen);
	choose_ram(&seen, p, boot);
	return 0;
}

static const char *ram_source_name(enum mb2_ram_source s)
{
	switch (s) {
	case MB2_RAM_EFI_MMAP:
		return "the EFI memory map";
	case MB2_RAM_MMAP:
		return "the multiboot2 memory map";
	default:
		return "nowhere";
	}
}

void mb2_report(const struct mb2_boot *boot)
{
	const char *loader = boot->loader ? boot->loader : "a multiboot2 loader";
	unsigned long long mib = boot->ram_bytes >> 20;

	if (!boot->efi) {
		pr_info("x86: booted by %s on BIOS: memory map with %u entries; "
			"RAM from %s, %llu MiB\n", loader, boot->mmap_entries,
			ram_source_name(boot->ram_source), mib);
	} else {
		char table[48] = "no EFI system table";

		if (boot->efi_system_table) {
			ksnprintf(table, sizeof(table),
				 "EFI system table at 0x%llx (%u-bit)",
				 (unsigned long long)boot->efi_system_table,
				 boot->efi_bits);
		}
		pr_info("x86: booted by %s on UEFI: %s, EFI memory map with %u "
			"entries, boot services %s; RAM from %s, %llu MiB\n",
			loader, table, boot->efi_mmap_entries,
			boot->efi_bs_active ? "NOT exited" : "exited",
			ram_source_name(boot->ram_source), mib);
	}
	if (boot->efi && boot->ram_source == MB2_RAM_EFI_MMAP &&
	    boot->mmap_entries) {
		pr_info("x86: GRUB's multiboot2 memory map (from the same "
			"firmware) has %u entries, %llu MiB available\n",
			boot->mmap_entries,
			(unsigned long long)(boot->mmap_bytes >> 20));
	}
	if (boot->efi_bs_active) {
		pr_warn("x86: the loader left EFI boot services running; their "
			"memory and the loader's stay out of the page "
			"allocator\n");
	}
	if (boot->ram_dropped) {
		pr_warn("x86: %u RAM ranges did not fit and are unused\n",
			boot->ram_dropped);
	}
}
