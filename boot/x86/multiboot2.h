/* SPDX-License-Identifier: MIT */
/* The multiboot2 boot information as the loader hands it over. */
#ifndef STRATA_BOOT_X86_MULTIBOOT2_H
#define STRATA_BOOT_X86_MULTIBOOT2_H

#include <core/platform.h>
#include <types.h>

#define MB2_BOOT_MAGIC		0x36d76289

#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_MODULE		3
#define MB2_TAG_MMAP		6

#define MB2_MEM_AVAILABLE	1

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

_Static_assert(sizeof(struct mb2_tag_module) == 16, "module tag layout");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mmap tag layout");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mmap entry layout");

/*
 * Fill @p from the boot information at @info: usable RAM, the command line,
 * the modules, and the boot information itself as a reserved range.
 * Malformed tags are reported and skipped. 0, or -EINVAL if the block
 * itself is unusable. Pure parsing (the host unit tests run it): mapping
 * the RAM is the caller's business.
 */
int mb2_parse(paddr_t info, struct platform *p);

#endif
