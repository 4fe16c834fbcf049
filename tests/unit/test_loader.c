// SPDX-License-Identifier: MIT
/* Host tests of the guest image loaders (vmm/loader.c). */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/loader.h>
#include "harness.h"

#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(8ULL << 20)
#define GUARD		4096

static uint8_t *mem;		/* GUARD | RAM_SIZE | GUARD */
static struct guest_ram ram;
static uint8_t elf[4096];

static void reset_ram(void)
{
	memset(mem, 0xAA, RAM_SIZE + 2 * GUARD);
	ram = (struct guest_ram){ .base = RAM_BASE, .size = RAM_SIZE,
				  .host = mem + GUARD };
}

static bool guards_intact(void)
{
	for (size_t i = 0; i < GUARD; i++) {
		if (mem[i] != 0xAA || mem[GUARD + RAM_SIZE + i] != 0xAA) {
			return false;
		}
	}
	return true;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* An ELF64 with a text segment (16 bytes) and a data+bss segment. */
static size_t make_elf(uint16_t machine, uint64_t text_pa, uint64_t entry)
{
	uint8_t *ph;

	memset(elf, 0, sizeof(elf));
	memcpy(elf, "\x7f" "ELF", 4);
	elf[4] = 2;
	elf[5] = 1;
	elf[6] = 1;
	put16(elf + 16, 2);
	put16(elf + 18, machine);
	put32(elf + 20, 1);
	put64(elf + 24, entry);
	put64(elf + 32, 64);
	put16(elf + 52, 64);
	put16(elf + 54, 56);
	put16(elf + 56, 2);
	ph = elf + 64;
	put32(ph, 1);
	put64(ph + 8, 0x200);
	put64(ph + 24, text_pa);
	put64(ph + 32, 16);
	put64(ph + 40, 16);
	ph += 56;
	put32(ph, 1);
	put64(ph + 8, 0x300);
	put64(ph + 24, text_pa + 0x1000);
	put64(ph + 32, 8);
	put64(ph + 40, 0x100);
	memcpy(elf + 0x200, "TEXTTEXTTEXTTEXT", 16);
	memcpy(elf + 0x300, "DATADATA", 8);
	return 0x308;
}

/* Segments land at their physical addresses, BSS is zeroed, entry is kept. */
static void elf_loads_segments(void)
{
	struct loaded_image li;
	size_t n = make_elf(62, RAM_BASE + 0x100000, RAM_BASE + 0x100004);
	uint8_t *t;

	reset_ram();
	t = ram.host + 0x100000;
	CHECK_EQ(load_elf64("g.elf", elf, n, 62, &ram, &li), 0);
	CHECK_EQ(li.entry, RAM_BASE + 0x100004);
	CHECK_EQ(li.start, RAM_BASE + 0x100000);
	CHECK_EQ(li.end, RAM_BASE + 0x101100);
	CHECK(!memcmp(t, "TEXTTEXTTEXTTEXT", 16));
	CHECK(!memcmp(t + 0x1000, "DATADATA", 8));
	for (int i = 8; i < 0x100; i++) {
		CHECK_EQ(t[0x1000 + i], 0);
	}
	CHECK_EQ(t[0x1100], 0xAA);
	CHECK(guards_intact());
}

/* Refusals write nothing: wrong machine, outside RAM, wild entry. */
static void elf_refusals_write_nothing(void)
{
	struct loaded_image li;
	size_t n;

	reset_ram();
	n = make_elf(183, RAM_BASE, RAM_BASE);
	CHECK_EQ(load_elf64("g.elf", elf, n, 62, &ram, &li), -ENOEXEC);
	n = make_elf(62, RAM_BASE + RAM_SIZE - 0x800, RAM_BASE + RAM_SIZE - 0x800);
	CHECK_EQ(load_elf64("g.elf", elf, n, 62, &ram, &li), -ERANGE);
	n = make_elf(62, RAM_BASE - 0x1000, RAM_BASE);
	CHECK_EQ(load_elf64("g.elf", elf, n, 62, &ram, &li), -ERANGE);
	n = make_elf(62, RAM_BASE, RAM_BASE + 0x5000);
	CHECK_EQ(load_elf64("g.elf", elf, n, 62, &ram, &li), -ENOEXEC);
	n = make_elf(62, UINT64_MAX - 0x10, UINT64_MAX - 0x10);
	CHECK_EQ(load_elf64("g.elf", elf, n, 62, &ram, &li), -ERANGE);
	for (size_t i = 0; i < RAM_SIZE; i++) {
		CHECK_EQ(ram.host[i], 0xAA);
	}
	CHECK(guards_intact());
}

/* Every truncation of a good ELF is refused. */
static void elf_truncations_refused(void)
{
	struct loaded_image li;
	size_t n = make_elf(62, RAM_BASE, RAM_BASE);

	reset_ram();
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, elf, len);
		CHECK(load_elf64("g.elf", copy, len, 62, &ram, &li) < 0);
		free(copy);
	}
	CHECK(guards_intact());
}

/* A raw image goes to its load address; one that does not fit is refused. */
static void raw_load(void)
{
	struct loaded_image li;

	reset_ram();
	CHECK_EQ(load_raw("r.bin", "RAW!", 4, RAM_BASE + 0x80000, &ram, &li), 0);
	CHECK(!memcmp(ram.host + 0x80000, "RAW!", 4));
	CHECK_EQ(li.entry, RAM_BASE + 0x80000);
	CHECK_EQ(load_raw("r.bin", "RAW!", 4, RAM_BASE + RAM_SIZE - 2, &ram,
			  &li), -ERANGE);
	CHECK_EQ(load_raw("r.bin", "RAW!", 4, 0x1000, &ram, &li), -ERANGE);
	CHECK(guards_intact());
}

static size_t make_image(uint64_t text_offset, uint64_t image_size)
{
	memset(elf, 0x11, sizeof(elf));
	put64(elf + 8, text_offset);
	put64(elf + 16, image_size);
	put64(elf + 24, 0x2);		/* LE, 4K pages */
	memcpy(elf + 0x38, "ARM\x64", 4);
	return 1024;
}

/* An arm64 Image sits at a 2 MiB-aligned base plus text_offset; BSS zeroed. */
static void arm64_image_placement(void)
{
	struct loaded_image li;
	size_t n = make_image(0x80000, 0x10000);

	reset_ram();
	CHECK_EQ(load_arm64_image("Image", elf, n, &ram, &li), 0);
	CHECK_EQ(li.entry, RAM_BASE + 0x80000);
	CHECK_EQ(li.end, RAM_BASE + 0x90000);
	CHECK(!memcmp(ram.host + 0x80000, elf, n));
	CHECK_EQ(ram.host[0x80000 + n], 0);
	CHECK_EQ(ram.host[0x90000], 0xAA);
	/* image_size past the end of RAM */
	make_image(0, RAM_SIZE + 1);
	CHECK_EQ(load_arm64_image("Image", elf, n, &ram, &li), -ERANGE);
	/* big-endian flag */
	make_image(0, 0x10000);
	put64(elf + 24, 0x3);
	CHECK_EQ(load_arm64_image("Image", elf, n, &ram, &li), -ENOEXEC);
	/* no magic */
	make_image(0, 0x10000);
	elf[0x38] = 0;
	CHECK_EQ(load_arm64_image("Image", elf, n, &ram, &li), -ENOEXEC);
	CHECK(guards_intact());
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "loader");
	log_level = LOG_ERR - 1;
	mem = malloc(RAM_SIZE + 2 * GUARD);
	RUN_TEST(elf_loads_segments);
	RUN_TEST(elf_refusals_write_nothing);
	RUN_TEST(elf_truncations_refused);
	RUN_TEST(raw_load);
	RUN_TEST(arm64_image_placement);
	free(mem);
	return test_done();
}
