// SPDX-License-Identifier: MIT
/*
 * Host tests of what the loaders refuse besides malformed files (vmm/loader.c):
 * overlapping PT_LOAD segments, misaligned arm64 entry points, and the
 * precise reason each refusal prints and keeps for loader_error().
 */
#include <stdlib.h>
#include <string.h>

#include <core/console.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/loader.h>
#include "harness.h"

#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(4ULL << 20)

static uint8_t *mem;
static struct guest_ram ram;
static uint8_t img[8192];
static char captured[4096];
static size_t cap_len;

static void capture_putc(char c)
{
	if (cap_len + 1 < sizeof(captured)) {
		captured[cap_len++] = c;
		captured[cap_len] = '\0';
	}
}

static const struct console capture_console = { "capture", capture_putc };

static void reset(void)
{
	memset(mem, 0xAA, RAM_SIZE);
	ram = (struct guest_ram){ .base = RAM_BASE, .size = RAM_SIZE,
				  .host = mem };
	cap_len = 0;
	captured[0] = '\0';
	loader_clear_error();
}

static bool ram_untouched(void)
{
	for (size_t i = 0; i < RAM_SIZE; i++) {
		if (mem[i] != 0xAA) {
			return false;
		}
	}
	return true;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* An ELF64 for @machine with @nr PT_LOAD segments of 0x100 bytes each. */
static size_t make_elf(uint16_t machine, uint64_t entry, unsigned int nr,
		       const uint64_t *paddr)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 2;
	img[5] = 1;
	img[6] = 1;
	put16(img + 16, 2);
	put16(img + 18, machine);
	put32(img + 20, 1);
	put64(img + 24, entry);
	put64(img + 32, 64);
	put16(img + 52, 64);
	put16(img + 54, 56);
	put16(img + 56, (uint16_t)nr);
	for (unsigned int i = 0; i < nr; i++) {
		uint8_t *ph = img + 64 + 56 * i;

		put32(ph, 1);
		put64(ph + 8, 0x1000);
		put64(ph + 16, paddr[i]);
		put64(ph + 24, paddr[i]);
		put64(ph + 32, 0x100);
		put64(ph + 40, 0x100);
	}
	memset(img + 0x1000, 0x5A, 0x100);
	return 0x1100;
}

/* Two identical segments, or two that share one byte, are refused. */
static void elf_overlapping_segments_refused(void)
{
	struct loaded_image li;
	const uint64_t same[2] = { RAM_BASE + 0x10000, RAM_BASE + 0x10000 };
	const uint64_t touch[3] = { RAM_BASE + 0x10000, RAM_BASE + 0x20000,
				    RAM_BASE + 0x100ff };
	const uint64_t apart[2] = { RAM_BASE + 0x10000, RAM_BASE + 0x10100 };
	size_t n;

	console_register(&capture_console);
	reset();
	n = make_elf(62, RAM_BASE + 0x10000, 2, same);
	CHECK_EQ(load_elf64("twin.elf", img, n, 62, &ram, &li), -ENOEXEC);
	CHECK(strstr(captured, "error: twin.elf: ELF segments 0 and 1 overlap at 0x40010000 (expected disjoint PT_LOAD ranges)\r\n"));
	CHECK(!strcmp(loader_error(), "twin.elf: ELF segments 0 and 1 overlap at 0x40010000 (expected disjoint PT_LOAD ranges)"));
	CHECK(ram_untouched());
	reset();
	n = make_elf(62, RAM_BASE + 0x10000, 3, touch);
	CHECK_EQ(load_elf64("touch.elf", img, n, 62, &ram, &li), -ENOEXEC);
	CHECK(strstr(captured, "touch.elf: ELF segments 0 and 2 overlap at 0x400100ff"));
	CHECK(ram_untouched());
	/* adjacent segments are fine, and so is the same ELF on x86 */
	reset();
	n = make_elf(183, RAM_BASE + 0x10000, 2, apart);
	CHECK_EQ(load_elf64("apart.elf", img, n, 183, &ram, &li), 0);
	CHECK_EQ(li.end, RAM_BASE + 0x10200);
	CHECK_EQ(mem[0x10000], 0x5A);
	CHECK_EQ(mem[0x101ff], 0x5A);
	CHECK_EQ(loader_error()[0], '\0');
}

/* More segments than the loader tracks are refused, not skipped. */
static void elf_too_many_segments_refused(void)
{
	struct loaded_image li;
	uint64_t pa[65];
	size_t n;

	for (unsigned int i = 0; i < 65; i++) {
		pa[i] = RAM_BASE + 0x1000 * i;
	}
	reset();
	n = make_elf(62, RAM_BASE, 65, pa);
	CHECK_EQ(load_elf64("many.elf", img, n, 62, &ram, &li), -ENOEXEC);
	CHECK(strstr(captured, "many.elf: ELF has more than 64 loadable segments (expected at most 64)"));
	reset();
	n = make_elf(62, RAM_BASE, 64, pa);
	CHECK_EQ(load_elf64("many.elf", img, n, 62, &ram, &li), 0);
}

/* An arm64 ELF entry must be 4-byte aligned; an x86 one need not be. */
static void elf_misaligned_entry(void)
{
	struct loaded_image li;
	const uint64_t pa[1] = { RAM_BASE + 0x80000 };
	size_t n;

	for (unsigned int off = 1; off < 4; off++) {
		reset();
		n = make_elf(183, RAM_BASE + 0x80000 + off, 1, pa);
		CHECK_EQ(load_elf64("mis.elf", img, n, 183, &ram, &li),
			 -ENOEXEC);
		CHECK(strstr(captured, "error: mis.elf: ELF entry point 0x4008000"));
		CHECK(strstr(captured, " is not 4-byte aligned (expected an AArch64 instruction address)\r\n"));
		CHECK(ram_untouched());
		reset();
		n = make_elf(62, RAM_BASE + 0x80000 + off, 1, pa);
		CHECK_EQ(load_elf64("x86.elf", img, n, 62, &ram, &li), 0);
		CHECK_EQ(li.entry, RAM_BASE + 0x80000 + off);
	}
	reset();
	n = make_elf(183, RAM_BASE + 0x80004, 1, pa);
	CHECK_EQ(load_elf64("ok.elf", img, n, 183, &ram, &li), 0);
}

static size_t make_image(uint64_t text_offset)
{
	memset(img, 0x11, 1024);
	put64(img + 8, text_offset);
	put64(img + 16, 0x10000);
	put64(img + 24, 0x2);
	memcpy(img + 0x38, "ARM\x64", 4);
	return 1024;
}

/* A text_offset that puts the entry off a 4-byte boundary is refused. */
static void image_misaligned_text_offset(void)
{
	struct loaded_image li;
	size_t n;

	reset();
	n = make_image(0x80001);
	CHECK_EQ(load_arm64_image("Image", img, n, &ram, &li), -ENOEXEC);
	CHECK(strstr(captured, "error: Image: Image header text_offset 0x80001 puts the entry point off a 4-byte boundary (expected a multiple of 4)\r\n"));
	CHECK(ram_untouched());
	reset();
	n = make_image(0x80002);
	CHECK_EQ(load_guest_kernel("Image", img, n, 183, false, 0, &ram, &li),
		 -ENOEXEC);
	CHECK(strstr(loader_error(), "text_offset 0x80002"));
	reset();
	n = make_image(0x80004);
	CHECK_EQ(load_arm64_image("Image", img, n, &ram, &li), 0);
	CHECK_EQ(li.entry, RAM_BASE + 0x80004);
}

/* The other refusals say which field and what was expected. */
static void refusal_messages_precise(void)
{
	struct loaded_image li;
	const uint64_t pa[1] = { RAM_BASE + RAM_SIZE - 0x80 };
	size_t n;

	reset();
	n = make_elf(62, RAM_BASE + RAM_SIZE - 0x80, 1, pa);
	CHECK_EQ(load_elf64("big.elf", img, n, 62, &ram, &li), -ERANGE);
	CHECK(strstr(captured, "big.elf: ELF segment 0 at 0x403fff80+0x100 lies outside the VM's memory 0x40000000+0x400000"));
	reset();
	n = make_elf(62, RAM_BASE, 1, pa);
	CHECK_EQ(load_elf64("cut.elf", img, 0x1080, 62, &ram, &li), -ENOEXEC);
	CHECK(strstr(captured, "cut.elf: ELF segment 0 (0x100 bytes at offset 0x1000) runs past the end of the file (0x1080 bytes)"));
	reset();
	CHECK_EQ(load_guest_kernel("junk.bin", "junkjunk", 8, 183, false, 0,
				   &ram, &li), -ENOEXEC);
	CHECK(strstr(captured, "junk.bin: unknown image format (expected an ELF64, a Linux arm64 Image, or a load address for a raw binary)"));
	reset();
	n = make_image(0x80000);
	put64(img + 16, 0x10);
	CHECK_EQ(load_arm64_image("small", img, n, &ram, &li), -ENOEXEC);
	CHECK(strstr(captured, "small: Image header image_size 0x10 is smaller than the file (0x400 bytes)"));
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "loader_checks");
	log_level = LOG_ERR;
	mem = malloc(RAM_SIZE);
	RUN_TEST(elf_overlapping_segments_refused);
	RUN_TEST(elf_too_many_segments_refused);
	RUN_TEST(elf_misaligned_entry);
	RUN_TEST(image_misaligned_text_offset);
	RUN_TEST(refusal_messages_precise);
	free(mem);
	return test_done();
}
