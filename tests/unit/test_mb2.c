// SPDX-License-Identifier: MIT
/*
 * The multiboot2 boot-information parser (boot/x86/multiboot2.c and
 * efi_mmap.c) on the host: well-formed blocks, from GRUB on BIOS and on
 * UEFI, give the expected platform and firmware facts, and malformed ones
 * (the loader's lengths are not trusted) are refused or skipped without
 * reading outside the block, which ASan checks.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../../boot/x86/multiboot2.c"
#include "../../boot/x86/efi_mmap.c"

/* The platform helpers of vmm/main.c, reduced to bounded appends. */
void platform_add_ram(struct platform *p, paddr_t base, uint64_t size)
{
	if (p->nr_ram < PLAT_MAX_RANGES) {
		p->ram[p->nr_ram++] = (struct mem_range){ base, size, "usable" };
	}
}

void platform_add_reserved(struct platform *p, paddr_t base, uint64_t size,
			   const char *what)
{
	if (p->nr_reserved < PLAT_MAX_RANGES) {
		p->reserved[p->nr_reserved++] =
			(struct mem_range){ base, size, what };
	}
}

void platform_add_module(struct platform *p, paddr_t base, uint64_t size,
			 const char *name)
{
	if (p->nr_modules < PLAT_MAX_MODULES) {
		p->modules[p->nr_modules++] =
			(struct boot_module){ base, size, name };
	}
	platform_add_reserved(p, base, size, "module");
}

/* A boot information block under construction, 8-byte aligned. */
struct mb2_buf {
	uint64_t words[2048];
	size_t len;
};

static uint8_t *buf_bytes(struct mb2_buf *b)
{
	return (uint8_t *)b->words;
}

static void buf_init(struct mb2_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->len = sizeof(struct mb2_info_header);
}

/* Append a tag with @payload; returns its offset. */
static size_t buf_tag(struct mb2_buf *b, uint32_t type, const void *payload,
		      uint32_t plen)
{
	size_t off = b->len;
	struct mb2_tag tag = { type, (uint32_t)sizeof(tag) + plen };

	memcpy(buf_bytes(b) + off, &tag, sizeof(tag));
	if (plen) {
		memcpy(buf_bytes(b) + off + sizeof(tag), payload, plen);
	}
	b->len = ALIGN_UP(off + tag.size, 8);
	return off;
}

static void buf_end(struct mb2_buf *b)
{
	buf_tag(b, MB2_TAG_END, NULL, 0);
	((struct mb2_info_header *)b->words)->total_size = (uint32_t)b->len;
}

static void buf_cmdline(struct mb2_buf *b, const char *s)
{
	buf_tag(b, MB2_TAG_CMDLINE, s, (uint32_t)strlen(s) + 1);
}

static void buf_module(struct mb2_buf *b, uint32_t start, uint32_t end,
		       const char *name)
{
	uint8_t payload[128];
	size_t n = strlen(name) + 1;

	memcpy(payload, &start, 4);
	memcpy(payload + 4, &end, 4);
	memcpy(payload + 8, name, n);
	buf_tag(b, MB2_TAG_MODULE, payload, (uint32_t)(8 + n));
}

static void buf_mmap(struct mb2_buf *b, const struct mb2_mmap_entry *e,
		     unsigned int n, uint32_t entry_size)
{
	uint8_t payload[1024] = { 0 };
	uint32_t version = 0;

	memcpy(payload, &entry_size, 4);
	memcpy(payload + 4, &version, 4);
	for (unsigned int i = 0; i < n; i++) {
		memcpy(payload + 8 + i * entry_size, &e[i], sizeof(e[i]));
	}
	buf_tag(b, MB2_TAG_MMAP, payload, 8 + n * entry_size);
}

static struct mb2_boot boot;	/* what the last parse() found */

static int parse(struct mb2_buf *b, struct platform *p)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->cmdline = "";
	ret = mb2_parse((paddr_t)(uintptr_t)b->words, p, &boot);
	mb2_report(&boot);	/* quiet, but it must not fault either */
	return ret;
}

static const struct mb2_mmap_entry sample_map[] = {
	{ 0x0, 0x9fc00, MB2_MEM_AVAILABLE, 0 },
	{ 0xf0000, 0x10000, 2, 0 },
	{ 0x100000, 0xfee0000, MB2_MEM_AVAILABLE, 0 },
	{ 0x100000000ULL, 0x40000000ULL, MB2_MEM_AVAILABLE, 0 },
};

/* A block like GRUB's gives the command line, RAM, modules, reserved. */
static void test_wellformed(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_cmdline(&b, "loglevel=debug config=x.cfg");
	buf_module(&b, 0x200000, 0x201388, "alpha.bin role=first");
	buf_mmap(&b, sample_map, ARRAY_SIZE(sample_map), 24);
	buf_module(&b, 0x202000, 0x205039, "beta.bin");
	buf_end(&b);

	CHECK_EQ(parse(&b, &p), 0);
	CHECK(!strcmp(p.cmdline, "loglevel=debug config=x.cfg"));
	CHECK_EQ(p.nr_ram, 3);
	CHECK_EQ(p.ram[0].base, 0);
	CHECK_EQ(p.ram[0].size, 0x9fc00);
	CHECK_EQ(p.ram[1].base, 0x100000);
	CHECK_EQ(p.ram[2].base, 0x100000000ULL);
	CHECK_EQ(p.ram[2].size, 0x40000000ULL);
	CHECK_EQ(p.nr_modules, 2);
	CHECK_EQ(p.modules[0].base, 0x200000);
	CHECK_EQ(p.modules[0].size, 5000);
	CHECK(!strcmp(p.modules[0].name, "alpha.bin role=first"));
	CHECK_EQ(p.modules[1].size, 0x3039);
	CHECK(!strcmp(p.modules[1].name, "beta.bin"));
	CHECK_EQ(p.nr_reserved, 3);
	CHECK_EQ(p.reserved[0].base, (uintptr_t)b.words);
	CHECK_EQ(p.reserved[0].size, b.len);
	CHECK(!strcmp(p.reserved[0].what, "boot info"));
}

/* Memory-map entries larger than 24 bytes are stepped over by entry_size. */
static void test_mmap_entry_stride(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_mmap(&b, sample_map, ARRAY_SIZE(sample_map), 32);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(p.nr_ram, 3);
	CHECK_EQ(p.ram[2].base, 0x100000000ULL);
}

/* An entry size that is too small or unaligned drops the whole map. */
static void test_mmap_bad_entry_size(void)
{
	static const uint32_t sizes[] = { 0, 8, 20, 25 };

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct mb2_buf b;
		struct platform p;

		buf_init(&b);
		buf_mmap(&b, sample_map, 1, 24);
		memcpy(buf_bytes(&b) + 8 + 8, &sizes[i], 4);
		buf_end(&b);
		CHECK_EQ(parse(&b, &p), 0);
		CHECK_EQ(p.nr_ram, 0);
	}
}

/* Empty and wrapping RAM ranges are not reported. */
static void test_mmap_empty_and_wrapping(void)
{
	static const struct mb2_mmap_entry map[] = {
		{ 0x100000, 0, MB2_MEM_AVAILABLE, 0 },
		{ ~0ULL - 0xfff, 0x2000, MB2_MEM_AVAILABLE, 0 },
		{ 0x200000, 0x1000, MB2_MEM_AVAILABLE, 0 },
	};
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_mmap(&b, map, ARRAY_SIZE(map), 24);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(p.nr_ram, 1);
	CHECK_EQ(p.ram[0].base, 0x200000);
}

/* An unusable header (NULL, unaligned, too small, huge) is refused. */
static void test_bad_header(void)
{
	struct mb2_buf b;
	struct platform p;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(mb2_parse(0, &p, &boot), -EINVAL);
	buf_init(&b);
	buf_end(&b);
	CHECK_EQ(mb2_parse((paddr_t)(uintptr_t)b.words + 4, &p, &boot), -EINVAL);
	((struct mb2_info_header *)b.words)->total_size = 4;
	CHECK_EQ(parse(&b, &p), -EINVAL);
	((struct mb2_info_header *)b.words)->total_size = 64u << 20;
	CHECK_EQ(parse(&b, &p), -EINVAL);
	CHECK_EQ(p.nr_reserved, 0);
}

/* A tag whose size runs past the block stops the parse; earlier tags stay. */
static void test_tag_past_end(void)
{
	struct mb2_buf b;
	struct platform p;
	size_t off;

	buf_init(&b);
	buf_cmdline(&b, "first");
	off = buf_tag(&b, MB2_TAG_CMDLINE, "second", 7);
	buf_end(&b);
	((struct mb2_tag *)(buf_bytes(&b) + off))->size = 4096;
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(!strcmp(p.cmdline, "first"));
}

/* A tag of size 0 (or below 8) cannot make the parser loop. */
static void test_tag_too_small(void)
{
	static const uint32_t sizes[] = { 0, 1, 7 };

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct mb2_buf b;
		struct platform p;
		size_t off;

		buf_init(&b);
		off = buf_tag(&b, MB2_TAG_MODULE, "xxxxxxxxxxxx", 12);
		buf_end(&b);
		((struct mb2_tag *)(buf_bytes(&b) + off))->size = sizes[i];
		CHECK_EQ(parse(&b, &p), 0);
		CHECK_EQ(p.nr_modules, 0);
	}
}

/* A command line without its NUL inside the tag is ignored. */
static void test_cmdline_unterminated(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_tag(&b, MB2_TAG_CMDLINE, "abcdefgh", 8);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(!strcmp(p.cmdline, ""));
}

/* Modules that end before they start, or lack a name, are ignored. */
static void test_module_malformed(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_module(&b, 0x300000, 0x200000, "backwards");
	buf_tag(&b, MB2_TAG_MODULE, "\0\0\x30\0\0\0\x31\0nonul", 13);
	buf_module(&b, 0x400000, 0x400000, "empty");
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(p.nr_modules, 1);
	CHECK(!strcmp(p.modules[0].name, "empty"));
	CHECK_EQ(p.modules[0].size, 0);
}

/* A block without an end tag is parsed up to total_size. */
static void test_no_end_tag(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_cmdline(&b, "no-end");
	((struct mb2_info_header *)b.words)->total_size = (uint32_t)b.len;
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(!strcmp(p.cmdline, "no-end"));
}


/* ---- GRUB on UEFI: the EFI tags ------------------------------------------ */

#define EFI_ACPI_RECLAIM	9
#define EFI_ACPI_NVS		10
#define EFI_MMIO		11
#define OVMF_DESC_SIZE		48	/* what OVMF's GetMemoryMap() uses */

static void buf_efi_ptr(struct mb2_buf *b, uint32_t type, uint64_t ptr)
{
	if (type == MB2_TAG_EFI32 || type == MB2_TAG_EFI32_IH) {
		uint32_t p32 = (uint32_t)ptr;

		buf_tag(b, type, &p32, 4);
	} else {
		buf_tag(b, type, &ptr, 8);
	}
}

/* An EFI memory map tag of @n descriptors @desc_size bytes apart. */
static size_t buf_efi_mmap(struct mb2_buf *b, const struct efi_memory_desc *d,
			   unsigned int n, uint32_t desc_size)
{
	size_t off = b->len;
	struct mb2_tag_efi_mmap t = {
		{ MB2_TAG_EFI_MMAP, (uint32_t)(sizeof(t) + n * desc_size) },
		desc_size, 1,
	};
	uint8_t *pos = buf_bytes(b) + off + sizeof(t);

	if (off + t.tag.size + 8 > sizeof(b->words)) {
		abort();	/* the test's own buffer is too small */
	}
	memcpy(buf_bytes(b) + off, &t, sizeof(t));
	for (unsigned int i = 0; i < n; i++) {
		memset(pos + i * desc_size, 0, desc_size);
		memcpy(pos + i * desc_size, &d[i],
		       MIN(desc_size, sizeof(d[i])));
	}
	b->len = ALIGN_UP(off + t.tag.size, 8);
	return off;
}

#define DESC(type, base, pages, attr) { type, 0, base, 0, pages, attr }

/* Shaped like OVMF's map under QEMU: usable kinds side by side. */
static const struct efi_memory_desc ovmf_map[] = {
	DESC(EFI_BOOT_SERVICES_CODE, 0x0, 1, 0xf),
	DESC(EFI_CONVENTIONAL_MEMORY, 0x1000, 0x9f, 0xf),
	DESC(EFI_CONVENTIONAL_MEMORY, 0x100000, 0x700, 0xf),
	DESC(EFI_ACPI_NVS, 0x800000, 8, 0xf),
	DESC(EFI_CONVENTIONAL_MEMORY, 0x808000, 3, 0xf),
	DESC(EFI_ACPI_NVS, 0x80b000, 1, 0xf),
	DESC(EFI_LOADER_DATA, 0x80c000, 4, 0xf),
	DESC(EFI_ACPI_NVS, 0x810000, 0xf0, 0xf),
	DESC(EFI_LOADER_CODE, 0x900000, 0x100, 0xf),
	DESC(EFI_BOOT_SERVICES_DATA, 0xa00000, 0x600, 0xf),
	DESC(EFI_RUNTIME_SERVICES_DATA, 0x1000000, 0x10,
	     EFI_MEMORY_RUNTIME | 0xf),
	DESC(EFI_CONVENTIONAL_MEMORY, 0x1010000, 0x10, 0xf),
	DESC(EFI_ACPI_RECLAIM, 0x1020000, 0x10, 0xf),
	DESC(EFI_RESERVED_MEMORY, 0x1030000, 0x10, 0xf),
	DESC(EFI_MMIO, 0xffc00000, 0x400, EFI_MEMORY_RUNTIME),
	DESC(EFI_CONVENTIONAL_MEMORY, 0x100000000ULL, 0x40000, 0xf),
};

static void check_ram(const struct platform *p, unsigned int i, uint64_t base,
		      uint64_t end)
{
	CHECK(i < p->nr_ram);
	if (i < p->nr_ram) {
		CHECK_EQ(p->ram[i].base, base);
		CHECK_EQ(p->ram[i].base + p->ram[i].size, end);
	}
}

/* A block like GRUB's on UEFI: the facts, and RAM from the EFI map. */
static void efi_block(struct mb2_buf *b, bool bs_active)
{
	buf_init(b);
	buf_cmdline(b, "loglevel=info");
	buf_tag(b, MB2_TAG_LOADER_NAME, "GRUB 2.06", 10);
	buf_module(b, 0x200000, 0x201000, "strata.cfg");
	buf_mmap(b, sample_map, ARRAY_SIZE(sample_map), 24);
	buf_efi_ptr(b, MB2_TAG_EFI64, 0xf9ec018);
	buf_efi_ptr(b, MB2_TAG_EFI64_IH, 0xe5f1a98);
	buf_efi_mmap(b, ovmf_map, ARRAY_SIZE(ovmf_map), OVMF_DESC_SIZE);
	if (bs_active) {
		buf_tag(b, MB2_TAG_EFI_BS, NULL, 0);	/* after the map */
	}
	buf_end(b);
}

/* After ExitBootServices, loader and boot-services memory is RAM too. */
static void test_efi_wellformed(void)
{
	struct mb2_buf b;
	struct platform p;

	efi_block(&b, false);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(boot.efi);
	CHECK(!strcmp(boot.loader, "GRUB 2.06"));
	CHECK_EQ(boot.efi_system_table, 0xf9ec018);
	CHECK_EQ(boot.efi_bits, 64);
	CHECK_EQ(boot.efi_image_handle, 0xe5f1a98);
	CHECK(!boot.efi_bs_active);
	CHECK_EQ(boot.efi_mmap_entries, ARRAY_SIZE(ovmf_map));
	CHECK_EQ(boot.ram_source, MB2_RAM_EFI_MMAP);
	/* tag 6 counted for the report, not used */
	CHECK_EQ(boot.mmap_entries, ARRAY_SIZE(sample_map));
	CHECK_EQ(boot.mmap_bytes, 0x9fc00 + 0xfee0000 + 0x40000000ULL);
	CHECK_EQ(p.nr_ram, 7);
	check_ram(&p, 0, 0x0, 0xa0000);
	check_ram(&p, 1, 0x100000, 0x800000);
	check_ram(&p, 2, 0x808000, 0x80b000);
	check_ram(&p, 3, 0x80c000, 0x810000);
	check_ram(&p, 4, 0x900000, 0x1000000);
	check_ram(&p, 5, 0x1010000, 0x1020000);
	check_ram(&p, 6, 0x100000000ULL, 0x140000000ULL);
	CHECK_EQ(boot.ram_bytes, 0xa0000 + 0x700000 + 0x3000 + 0x4000 +
		 0x700000 + 0x10000 + 0x40000000ULL);
	CHECK_EQ(p.nr_modules, 1);
	CHECK(!strcmp(p.cmdline, "loglevel=info"));
}

/* Tag 18 (boot services still up): only EfiConventionalMemory is RAM. */
static void test_efi_bs_active(void)
{
	struct mb2_buf b;
	struct platform p;

	efi_block(&b, true);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(boot.efi_bs_active);
	CHECK_EQ(boot.ram_source, MB2_RAM_EFI_MMAP);
	CHECK_EQ(p.nr_ram, 5);
	check_ram(&p, 0, 0x1000, 0xa0000);
	check_ram(&p, 1, 0x100000, 0x800000);
	check_ram(&p, 2, 0x808000, 0x80b000);
	check_ram(&p, 3, 0x1010000, 0x1020000);
	check_ram(&p, 4, 0x100000000ULL, 0x140000000ULL);
}

/* A BIOS block has no EFI facts, and RAM from the multiboot2 map. */
static void test_bios_no_efi(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_tag(&b, MB2_TAG_LOADER_NAME, "GRUB 2.06", 10);
	buf_mmap(&b, sample_map, ARRAY_SIZE(sample_map), 24);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(!boot.efi);
	CHECK_EQ(boot.efi_system_table, 0);
	CHECK_EQ(boot.ram_source, MB2_RAM_MMAP);
	CHECK_EQ(boot.mmap_entries, ARRAY_SIZE(sample_map));
	CHECK_EQ(boot.ram_bytes, 0x9fc00 + 0xfee0000 + 0x40000000ULL);
	CHECK_EQ(p.nr_ram, 3);
}

/* An unusable descriptor size drops the EFI map for the multiboot2 one. */
static void test_efi_mmap_bad_desc_size(void)
{
	static const uint32_t sizes[] = { 0, 8, 39, 44, 4096 };

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct mb2_buf b;
		struct platform p;
		size_t off;

		buf_init(&b);
		buf_mmap(&b, sample_map, ARRAY_SIZE(sample_map), 24);
		off = buf_efi_mmap(&b, ovmf_map, 4, 40);
		buf_end(&b);
		memcpy(buf_bytes(&b) + off + 8, &sizes[i], 4);
		CHECK_EQ(parse(&b, &p), 0);
		CHECK(boot.efi_mmap_seen);
		CHECK_EQ(boot.efi_mmap_entries, 0);
		CHECK_EQ(boot.ram_source, MB2_RAM_MMAP);
		CHECK_EQ(p.nr_ram, 3);
	}
}

/* An EFI map tag too short for its own header is ignored. */
static void test_efi_mmap_truncated_header(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_tag(&b, MB2_TAG_EFI_MMAP, "\x30\0\0\0", 4);
	buf_mmap(&b, sample_map, ARRAY_SIZE(sample_map), 24);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(boot.efi);
	CHECK_EQ(boot.ram_source, MB2_RAM_MMAP);
	CHECK_EQ(p.nr_ram, 3);
}

/* A partial last descriptor is left out; the whole ones are used. */
static void test_efi_mmap_partial_desc(void)
{
	struct mb2_buf b;
	struct platform p;
	size_t off;
	uint32_t size;

	buf_init(&b);
	off = buf_efi_mmap(&b, ovmf_map, 3, 40);
	buf_end(&b);
	size = 16 + 2 * 40 + 24;	/* the third cut short */
	memcpy(buf_bytes(&b) + off + 4, &size, 4);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(boot.efi_mmap_entries, 2);
	CHECK_EQ(p.nr_ram, 1);
	check_ram(&p, 0, 0x0, 0xa0000);
}

/* No EFI map and no multiboot2 map: no RAM, no fault. */
static void test_efi_no_maps(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_efi_ptr(&b, MB2_TAG_EFI64, 0x1234000);
	buf_efi_mmap(&b, ovmf_map, 0, 48);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(boot.ram_source, MB2_RAM_NONE);
	CHECK_EQ(p.nr_ram, 0);
}

/* Truncated pointer tags are ignored; a 32-bit table is kept as such. */
static void test_efi_pointer_tags(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_tag(&b, MB2_TAG_EFI64, "\x18\xc0\x9e", 3);
	buf_tag(&b, MB2_TAG_EFI64_IH, "abcd", 4);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(boot.efi);
	CHECK_EQ(boot.efi_system_table, 0);
	CHECK_EQ(boot.efi_image_handle, 0);

	buf_init(&b);
	buf_efi_ptr(&b, MB2_TAG_EFI32, 0x7f9ec018);
	buf_efi_ptr(&b, MB2_TAG_EFI32_IH, 0x7e000000);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(boot.efi_system_table, 0x7f9ec018);
	CHECK_EQ(boot.efi_bits, 32);
	CHECK_EQ(boot.efi_image_handle, 0x7e000000);

	/* Both widths: the 64-bit table wins whatever the order. */
	buf_init(&b);
	buf_efi_ptr(&b, MB2_TAG_EFI64, 0x100000000ULL);
	buf_efi_ptr(&b, MB2_TAG_EFI32, 0x1000);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(boot.efi_system_table, 0x100000000ULL);
	CHECK_EQ(boot.efi_bits, 64);
}

/* A boot loader name without its NUL is ignored. */
static void test_loader_name_unterminated(void)
{
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_tag(&b, MB2_TAG_LOADER_NAME, "GRUBGRUB", 8);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK(!boot.loader);
}

/* Usable descriptors overlapping runtime or ACPI memory lose the overlap. */
static void test_efi_mmap_overlap_cut(void)
{
	static const struct efi_memory_desc map[] = {
		DESC(EFI_CONVENTIONAL_MEMORY, 0x100000, 0x100, 0),
		DESC(EFI_RUNTIME_SERVICES_CODE, 0x140000, 0x10, 0),
		DESC(EFI_ACPI_NVS, 0x0f0000, 0x20, 0),
		DESC(EFI_MMIO, 0x1f0000, 0x20, 0),
		/* runtime attribute on free memory: not RAM either */
		DESC(EFI_CONVENTIONAL_MEMORY, 0x400000, 0x10,
		     EFI_MEMORY_RUNTIME),
		DESC(EFI_CONVENTIONAL_MEMORY, 0x500000, 0x10, EFI_MEMORY_SP),
	};
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_efi_mmap(&b, map, ARRAY_SIZE(map), 40);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(p.nr_ram, 2);
	check_ram(&p, 0, 0x110000, 0x140000);
	check_ram(&p, 1, 0x150000, 0x1f0000);
}

/* Unaligned, empty and wrapping descriptors never give a partial page. */
static void test_efi_mmap_odd_descs(void)
{
	static const struct efi_memory_desc map[] = {
		DESC(EFI_CONVENTIONAL_MEMORY, 0x100800, 2, 0),
		DESC(EFI_CONVENTIONAL_MEMORY, 0x300000, 0, 0),
		DESC(EFI_CONVENTIONAL_MEMORY, ~0ULL - 0xfff, 2, 0),
		DESC(EFI_CONVENTIONAL_MEMORY, 0x400000, ~0ULL >> 8, 0),
		DESC(EFI_CONVENTIONAL_MEMORY, 0x10000000, 0x10, 0),
		/* a reserved descriptor that wraps cuts to the top */
		DESC(EFI_RESERVED_MEMORY, 0x10008000, ~0ULL >> 4, 0),
	};
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_efi_mmap(&b, map, ARRAY_SIZE(map), 40);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(p.nr_ram, 2);
	check_ram(&p, 0, 0x101000, 0x102000);
	check_ram(&p, 1, 0x10000000, 0x10008000);
}

/*
 * A map fragmented past what struct platform holds (and past the merge
 * array) drops the smallest ranges, never the big one at the end, and
 * never overflows.
 */
static void test_efi_mmap_fragmented(void)
{
	static struct efi_memory_desc map[301];
	struct mb2_buf b;
	struct platform p;
	unsigned int n = ARRAY_SIZE(map) - 1;

	for (unsigned int i = 0; i < n; i++) {
		map[i] = (struct efi_memory_desc)DESC(
			i & 1 ? EFI_RESERVED_MEMORY : EFI_CONVENTIONAL_MEMORY,
			0x100000 + i * 0x1000ULL, 1, 0);
	}
	map[n] = (struct efi_memory_desc)DESC(EFI_CONVENTIONAL_MEMORY,
					      0x100000000ULL, 0x40000, 0);
	buf_init(&b);
	buf_efi_mmap(&b, map, ARRAY_SIZE(map), 40);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(boot.efi_mmap_entries, ARRAY_SIZE(map));
	CHECK_EQ(p.nr_ram, PLAT_MAX_RANGES);
	CHECK_EQ(boot.ram_dropped, n / 2 + 1 - PLAT_MAX_RANGES);
	CHECK_EQ(boot.ram_bytes,
		 (PLAT_MAX_RANGES - 1) * 0x1000ULL + 0x40000000ULL);
	check_ram(&p, PLAT_MAX_RANGES - 1, 0x100000000ULL, 0x140000000ULL);
	for (unsigned int i = 0; i + 1 < p.nr_ram; i++) {
		CHECK_EQ(p.ram[i].size, 0x1000);
		CHECK(p.ram[i].base < p.ram[i + 1].base);
	}
}

/* Unsorted usable descriptors merge; cuts that split keep both sides. */
static void test_efi_mmap_unsorted(void)
{
	static const struct efi_memory_desc map[] = {
		DESC(EFI_CONVENTIONAL_MEMORY, 0x300000, 0x100, 0),
		DESC(EFI_CONVENTIONAL_MEMORY, 0x100000, 0x100, 0),
		DESC(EFI_CONVENTIONAL_MEMORY, 0x200000, 0x100, 0),
		DESC(EFI_ACPI_RECLAIM, 0x250000, 0x10, 0),
	};
	struct mb2_buf b;
	struct platform p;

	buf_init(&b);
	buf_efi_mmap(&b, map, ARRAY_SIZE(map), 40);
	buf_end(&b);
	CHECK_EQ(parse(&b, &p), 0);
	CHECK_EQ(p.nr_ram, 2);
	check_ram(&p, 0, 0x100000, 0x250000);
	check_ram(&p, 1, 0x260000, 0x400000);
}

static uint32_t rand_tag_type(void)
{
	static const uint32_t types[] = {
		MB2_TAG_CMDLINE, MB2_TAG_MODULE, MB2_TAG_MMAP, MB2_TAG_END, 8,
		MB2_TAG_LOADER_NAME, MB2_TAG_EFI32, MB2_TAG_EFI64,
		MB2_TAG_EFI_MMAP, MB2_TAG_EFI_BS, MB2_TAG_EFI32_IH,
		MB2_TAG_EFI64_IH,
	};
	uint64_t r = test_rand();

	return (r & 7) == 7 ? (uint32_t)(r >> 8) :
			      types[(r >> 3) % ARRAY_SIZE(types)];
}

static uint32_t rand_tag_size(void)
{
	uint64_t r = test_rand();

	return (r & 15) == 15 ? (uint32_t)(r >> 8) : (uint32_t)(r >> 8) % 80;
}

/* Fill @bytes[8, total) with plausible-looking but random tags. */
static void rand_tags(uint8_t *bytes, uint32_t total)
{
	static const uint32_t entry_sizes[] = { 24, 32, 0, 20, 25, 40, 48 };
	uint32_t off = 8;

	for (uint32_t i = 8; i < total; i++) {
		bytes[i] = (uint8_t)test_rand();
	}
	while (off + 16 <= total) {
		uint32_t type = rand_tag_type(), size = rand_tag_size();
		uint32_t esize = entry_sizes[test_rand() %
					     ARRAY_SIZE(entry_sizes)];

		memcpy(bytes + off, &type, 4);
		memcpy(bytes + off + 4, &size, 4);
		if (type == MB2_TAG_MMAP || type == MB2_TAG_EFI_MMAP) {
			memcpy(bytes + off + 8, &esize, 4);
		}
		if (size < 8 || size > total - off) {
			break;
		}
		off += ALIGN_UP(size, 8);
	}
}

/* Random tag chains never make the parser read outside the block. */
static void test_random_blocks(void)
{
	unsigned int rounds = test_long ? 200000 : 20000;

	for (unsigned int r = 0; r < rounds; r++) {
		uint32_t total = 8 + (uint32_t)(test_rand() % 256);
		uint64_t *mem = malloc(ALIGN_UP(total, 8));
		struct platform p;

		CHECK(mem);
		rand_tags((uint8_t *)mem, total);
		memcpy(mem, &total, 4);
		memset((uint8_t *)mem + 4, 0, 4);
		memset(&p, 0, sizeof(p));
		p.cmdline = "";
		CHECK_EQ(mb2_parse((paddr_t)(uintptr_t)mem, &p, &boot), 0);
		CHECK(p.nr_ram <= PLAT_MAX_RANGES);
		CHECK(p.nr_modules <= PLAT_MAX_MODULES);
		for (unsigned int i = 0; i < p.nr_modules; i++) {
			CHECK(strlen(p.modules[i].name) < total);
		}
		free(mem);
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "mb2");
	log_level = -1;	/* the malformed blocks are reported; keep quiet */
	RUN_TEST(test_wellformed);
	RUN_TEST(test_mmap_entry_stride);
	RUN_TEST(test_mmap_bad_entry_size);
	RUN_TEST(test_mmap_empty_and_wrapping);
	RUN_TEST(test_bad_header);
	RUN_TEST(test_tag_past_end);
	RUN_TEST(test_tag_too_small);
	RUN_TEST(test_cmdline_unterminated);
	RUN_TEST(test_module_malformed);
	RUN_TEST(test_no_end_tag);
	RUN_TEST(test_efi_wellformed);
	RUN_TEST(test_efi_bs_active);
	RUN_TEST(test_bios_no_efi);
	RUN_TEST(test_efi_mmap_bad_desc_size);
	RUN_TEST(test_efi_mmap_truncated_header);
	RUN_TEST(test_efi_mmap_partial_desc);
	RUN_TEST(test_efi_no_maps);
	RUN_TEST(test_efi_pointer_tags);
	RUN_TEST(test_loader_name_unterminated);
	RUN_TEST(test_efi_mmap_overlap_cut);
	RUN_TEST(test_efi_mmap_odd_descs);
	RUN_TEST(test_efi_mmap_fragmented);
	RUN_TEST(test_efi_mmap_unsorted);
	RUN_TEST(test_random_blocks);
	return test_done();
}
