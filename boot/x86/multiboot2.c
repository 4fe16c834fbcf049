// SPDX-License-Identifier: MIT
/*
 * Multiboot2 boot information to struct platform. Every length comes from
 * the loader, so each is checked against the block before it is used.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>

#include "multiboot2.h"

#define MB2_INFO_MAX	(16UL << 20)	/* sanity bound on total_size */

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

static void parse_mmap(const struct mb2_tag *tag, struct platform *p)
{
	const struct mb2_tag_mmap *mm = (const void *)tag;
	const uint8_t *e, *end = (const uint8_t *)tag + tag->size;

	if (tag->size < sizeof(*mm) ||
	    mm->entry_size < sizeof(struct mb2_mmap_entry) ||
	    !IS_ALIGNED(mm->entry_size, 8)) {
		pr_warn("multiboot2: malformed memory map tag; ignored\n");
		return;
	}
	for (e = (const uint8_t *)(mm + 1);
	     e + sizeof(struct mb2_mmap_entry) <= end; e += mm->entry_size) {
		const struct mb2_mmap_entry *ent = (const void *)e;

		if (ent->type == MB2_MEM_AVAILABLE && ent->len &&
		    ent->base + ent->len > ent->base) {
			platform_add_ram(p, ent->base, ent->len);
		}
	}
}

static void parse_tag(const struct mb2_tag *tag, struct platform *p)
{
	switch (tag->type) {
	case MB2_TAG_CMDLINE:
		parse_cmdline(tag, p);
		break;
	case MB2_TAG_MODULE:
		parse_module(tag, p);
		break;
	case MB2_TAG_MMAP:
		parse_mmap(tag, p);
		break;
	default:
		break;
	}
}

int mb2_parse(paddr_t info, struct platform *p)
{
	const struct mb2_info_header *hdr = (const void *)(uintptr_t)info;
	const uint8_t *pos, *end;

	if (!info || !IS_ALIGNED(info, 8) || hdr->total_size < sizeof(*hdr) ||
	    hdr->total_size > MB2_INFO_MAX) {
		pr_err("multiboot2: bad boot information at 0x%llx\n",
		       (unsigned long long)info);
		return -EINVAL;
	}
	platform_add_reserved(p, info, hdr->total_size, "boot info");
	end = (const uint8_t *)hdr + hdr->total_size;
	for (pos = (const uint8_t *)(hdr + 1);
	     pos + sizeof(struct mb2_tag) <= end;
	     pos += ALIGN_UP(((const struct mb2_tag *)pos)->size, 8)) {
		const struct mb2_tag *tag = (const void *)pos;

		if (tag->type == MB2_TAG_END) {
			return 0;
		}
		if (tag->size < sizeof(*tag) ||
		    tag->size > (size_t)(end - pos)) {
			pr_warn("multiboot2: tag %u has bad size %u; stopping\n",
				tag->type, tag->size);
			return 0;
		}
		parse_tag(tag, p);
	}
	pr_warn("multiboot2: no end tag\n");
	return 0;
}
