// SPDX-License-Identifier: MIT
/*
 * The multiboot2 boot-information parser (boot/x86/multiboot2.c) on the
 * host: well-formed blocks give the expected platform, and malformed ones
 * (the loader's lengths are not trusted) are refused or skipped without
 * reading outside the block, which ASan checks.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../../boot/x86/multiboot2.c"

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
	uint64_t words[512];
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

static int parse(struct mb2_buf *b, struct platform *p)
{
	memset(p, 0, sizeof(*p));
	p->cmdline = "";
	return mb2_parse((paddr_t)(uintptr_t)b->words, p);
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
	CHECK_EQ(mb2_parse(0, &p), -EINVAL);
	buf_init(&b);
	buf_end(&b);
	CHECK_EQ(mb2_parse((paddr_t)(uintptr_t)b.words + 4, &p), -EINVAL);
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

static uint32_t rand_tag_type(void)
{
	static const uint32_t types[] = {
		MB2_TAG_CMDLINE, MB2_TAG_MODULE, MB2_TAG_MMAP, MB2_TAG_END, 8,
	};
	uint64_t r = test_rand();

	return (r & 7) == 7 ? (uint32_t)(r >> 8) : types[(r >> 3) % 5];
}

static uint32_t rand_tag_size(void)
{
	uint64_t r = test_rand();

	return (r & 15) == 15 ? (uint32_t)(r >> 8) : (uint32_t)(r >> 8) % 80;
}

/* Fill @bytes[8, total) with plausible-looking but random tags. */
static void rand_tags(uint8_t *bytes, uint32_t total)
{
	static const uint32_t entry_sizes[] = { 24, 32, 0, 20, 25 };
	uint32_t off = 8;

	for (uint32_t i = 8; i < total; i++) {
		bytes[i] = (uint8_t)test_rand();
	}
	while (off + 16 <= total) {
		uint32_t type = rand_tag_type(), size = rand_tag_size();
		uint32_t esize = entry_sizes[test_rand() % 5];

		memcpy(bytes + off, &type, 4);
		memcpy(bytes + off + 4, &size, 4);
		if (type == MB2_TAG_MMAP) {
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
		CHECK_EQ(mb2_parse((paddr_t)(uintptr_t)mem, &p), 0);
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
	RUN_TEST(test_random_blocks);
	return test_done();
}
