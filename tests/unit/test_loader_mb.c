// SPDX-License-Identifier: MIT
/* Host tests of the multiboot v1 loader (vmm/loader.c). */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/loader.h>
#include "harness.h"

#define RAM_SIZE	(4ULL << 20)
#define GUARD		4096
#define MB_MAGIC	0x1BADB002u

static uint8_t *mem;		/* GUARD | RAM_SIZE | GUARD */
static struct guest_ram ram;
static uint8_t img[16384];

static void reset_ram(void)
{
	memset(mem, 0xAA, RAM_SIZE + 2 * GUARD);
	ram = (struct guest_ram){ .base = 0, .size = RAM_SIZE,
				  .host = mem + GUARD };
}

static bool ram_untouched(void)
{
	for (size_t i = 0; i < RAM_SIZE + 2 * GUARD; i++) {
		if (mem[i] != 0xAA) {
			return false;
		}
	}
	return true;
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

static void put_header(size_t off, uint32_t flags)
{
	put32(img + off, MB_MAGIC);
	put32(img + off + 4, flags);
	put32(img + off + 8, -(MB_MAGIC + flags));
}

/*
 * An a.out-kludge kernel: 0x40 bytes of code-ish filler, the header at
 * file offset 0x40, the file loaded at 0x100000 (so the header lands at
 * 0x100040), @len bytes in all, BSS to 0x102000, entry 0x100080.
 */
static size_t make_kludge(size_t len, uint32_t load_end)
{
	memset(img, 0, sizeof(img));
	for (size_t i = 0; i < len; i++) {
		img[i] = (uint8_t)(i * 13 + 1);
	}
	put_header(0x40, BIT(16) | BIT(1));
	put32(img + 0x4c, 0x100040);	/* header_addr */
	put32(img + 0x50, 0x100000);	/* load_addr */
	put32(img + 0x54, load_end);	/* load_end_addr */
	put32(img + 0x58, 0x102000);	/* bss_end_addr */
	put32(img + 0x5c, 0x100080);	/* entry_addr */
	return len;
}

/* The a.out kludge places the file by the header's addresses, BSS zeroed. */
static void kludge_loads(void)
{
	struct loaded_image li;
	size_t n = make_kludge(0x900, 0x100800);

	reset_ram();
	CHECK(is_multiboot(img, n));
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), 0);
	CHECK(!strcmp(li.format, "multiboot"));
	CHECK_EQ(li.entry, 0x100080);
	CHECK_EQ(li.start, 0x100000);
	CHECK_EQ(li.end, 0x102000);
	CHECK(!memcmp(ram.host + 0x100000, img, 0x800));
	for (size_t i = 0x100800; i < 0x102000; i++) {
		CHECK_EQ(ram.host[i], 0);
	}
	CHECK_EQ(ram.host[0x102000], 0xAA);
	CHECK_EQ(ram.host[0xfffff], 0xAA);
	CHECK(guards_intact());
}

/* load_end_addr 0 loads the rest of the file. */
static void kludge_load_end_zero_loads_whole_file(void)
{
	struct loaded_image li;
	size_t n = make_kludge(0x1234, 0);

	reset_ram();
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), 0);
	CHECK(!memcmp(ram.host + 0x100000, img, n));
	CHECK_EQ(ram.host[0x100000 + n], 0);
	CHECK_EQ(li.end, 0x102000);
}

/* A header may sit anywhere 4-byte aligned in the first 8 KiB, not beyond. */
static void header_search_window(void)
{
	memset(img, 0, sizeof(img));
	put_header(8192 - 12, 0);
	CHECK(is_multiboot(img, sizeof(img)));
	CHECK(!is_multiboot(img, 8192 - 1));
	memset(img, 0, sizeof(img));
	put_header(8192, 0);
	CHECK(!is_multiboot(img, sizeof(img)));
	memset(img, 0, sizeof(img));
	put_header(0x42, 0);		/* not 4-byte aligned */
	CHECK(!is_multiboot(img, sizeof(img)));
}

/* Bad headers are refused with a reason and write nothing. */
static void bad_headers_refused(void)
{
	struct loaded_image li;
	size_t n;

	reset_ram();
	n = make_kludge(0x900, 0x100800);
	put32(img + 0x48, 0);			/* checksum */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100800);
	put_header(0x40, BIT(16) | BIT(2));	/* video mode */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100800);
	put_header(0x40, BIT(16) | BIT(9));	/* unknown required */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100800);
	put32(img + 0x4c, 0x100000);		/* header before load_addr+0x40 */
	put32(img + 0x50, 0x100010);
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100800);
	put32(img + 0x4c, 0x200040);		/* header 1 MiB past the file */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100a00);	/* load_end past the file */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100800);
	put32(img + 0x5c, 0x100800);		/* entry in BSS */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100800);
	put32(img + 0x58, 0x100700);		/* bss_end below load_end */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ENOEXEC);
	n = make_kludge(0x900, 0x100800);
	put32(img + 0x58, RAM_SIZE + 1);	/* BSS past RAM */
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ERANGE);
	n = make_kludge(0x900, 0);
	put32(img + 0x4c, 0xfffff040);		/* wraps nothing, outside RAM */
	put32(img + 0x50, 0xfffff000);
	put32(img + 0x58, 0);
	put32(img + 0x5c, 0xfffff080);
	CHECK_EQ(load_multiboot("mb.bin", img, n, &ram, &li), -ERANGE);
	memset(img, 0, sizeof(img));
	CHECK_EQ(load_multiboot("mb.bin", img, 4096, &ram, &li), -ENOEXEC);
	CHECK(ram_untouched());
}

/*
 * An ELF32 multiboot kernel linked higher-half: segments at p_paddr, the
 * entry translated from its virtual address.
 */
static size_t make_elf32(uint16_t machine, uint32_t paddr, uint32_t vaddr,
			 uint32_t entry)
{
	uint8_t *ph;

	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 1;
	img[5] = 1;
	img[6] = 1;
	put16(img + 16, 2);
	put16(img + 18, machine);
	put32(img + 20, 1);
	put32(img + 24, entry);
	put32(img + 28, 52);
	put16(img + 40, 52);
	put16(img + 42, 32);
	put16(img + 44, 2);
	ph = img + 52;
	put32(ph, 1);
	put32(ph + 4, 0x1000);
	put32(ph + 8, vaddr);
	put32(ph + 12, paddr);
	put32(ph + 16, 0x100);
	put32(ph + 20, 0x100);
	ph += 32;
	put32(ph, 1);
	put32(ph + 4, 0x1100);
	put32(ph + 8, vaddr + 0x1000);
	put32(ph + 12, paddr + 0x1000);
	put32(ph + 16, 0x10);
	put32(ph + 20, 0x800);
	put_header(0x1000, BIT(0) | BIT(1));
	memcpy(img + 0x1100, "DATADATADATADATA", 16);
	return 0x1110;
}

static void elf32_loads(void)
{
	struct loaded_image li;
	size_t n = make_elf32(3, 0x200000, 0xc0200000, 0xc0200010);

	reset_ram();
	CHECK_EQ(load_multiboot("mb.elf", img, n, &ram, &li), 0);
	CHECK_EQ(li.entry, 0x200010);
	CHECK_EQ(li.start, 0x200000);
	CHECK_EQ(li.end, 0x201800);
	CHECK(!memcmp(ram.host + 0x200000, img + 0x1000, 0x100));
	CHECK(!memcmp(ram.host + 0x201000, "DATADATADATADATA", 16));
	CHECK_EQ(ram.host[0x201010], 0);
	CHECK_EQ(ram.host[0x2017ff], 0);
	CHECK_EQ(ram.host[0x201800], 0xAA);
	CHECK(guards_intact());
}

/* Two ELF32 segments at one physical address are refused. */
static void elf32_overlap_refused(void)
{
	struct loaded_image li;
	size_t n = make_elf32(3, 0x200000, 0xc0200000, 0xc0200010);

	put32(img + 52 + 32 + 12, 0x2000f0);	/* 2nd p_paddr into the 1st */
	reset_ram();
	CHECK_EQ(load_multiboot("mb.elf", img, n, &ram, &li), -ENOEXEC);
	CHECK(strstr(loader_error(), "ELF segments 0 and 1 overlap at 0x2000f0"));
	CHECK(ram_untouched());
}

/* ELF32 refusals: wrong machine, outside RAM, entry in no segment. */
static void elf32_refusals_write_nothing(void)
{
	struct loaded_image li;
	size_t n;

	reset_ram();
	n = make_elf32(62, 0x200000, 0x200000, 0x200000);
	CHECK_EQ(load_multiboot("mb.elf", img, n, &ram, &li), -ENOEXEC);
	n = make_elf32(3, RAM_SIZE - 0x1000, RAM_SIZE - 0x1000,
		       RAM_SIZE - 0x1000);
	CHECK_EQ(load_multiboot("mb.elf", img, n, &ram, &li), -ERANGE);
	n = make_elf32(3, 0x200000, 0x200000, 0x300000);
	CHECK_EQ(load_multiboot("mb.elf", img, n, &ram, &li), -ENOEXEC);
	n = make_elf32(3, 0x200000, 0x200000, 0x200000);
	put16(img + 44, 400);			/* phnum past the file */
	CHECK_EQ(load_multiboot("mb.elf", img, n, &ram, &li), -ENOEXEC);
	CHECK(ram_untouched());
}

/* Load a copy of the first @len bytes of img, in a buffer of exactly @len. */
static int load_prefix(size_t len)
{
	struct loaded_image li;
	uint8_t *t = malloc(len ? len : 1);
	int ret;

	memcpy(t, img, len);
	ret = load_multiboot("mb", t, len, &ram, &li);
	free(t);
	return ret;
}

/* Truncations that cut into what must be loaded are refused. */
static void truncations_refused(void)
{
	size_t n;

	reset_ram();
	n = make_elf32(3, 0x200000, 0x200000, 0x200000);
	for (size_t len = 0; len < n; len++) {
		CHECK(load_prefix(len) < 0);
	}
	/* the kludge image needs its first 0x800 bytes (load_end_addr) */
	make_kludge(0x900, 0x100800);
	for (size_t len = 0; len < 0x800; len++) {
		CHECK(load_prefix(len) < 0);
	}
	CHECK(ram_untouched());
}

/* load_guest_kernel() takes multiboot images on x86 only. */
static void guest_kernel_picks_multiboot_on_x86(void)
{
	struct loaded_image li;
	size_t n = make_kludge(0x900, 0x100800);

	reset_ram();
	CHECK_EQ(load_guest_kernel("mb.bin", img, n, 62, false, 0, &ram, &li),
		 0);
	CHECK(!strcmp(li.format, "multiboot"));
	CHECK_EQ(load_guest_kernel("mb.bin", img, n, 183, false, 0, &ram, &li),
		 -ENOEXEC);
	CHECK_EQ(load_guest_kernel("mb.bin", img, n, 183, true, 0x1000, &ram,
				   &li), 0);
	CHECK(!strcmp(li.format, "raw"));
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "loader_mb");
	log_level = LOG_ERR - 1;
	mem = malloc(RAM_SIZE + 2 * GUARD);
	RUN_TEST(kludge_loads);
	RUN_TEST(kludge_load_end_zero_loads_whole_file);
	RUN_TEST(header_search_window);
	RUN_TEST(bad_headers_refused);
	RUN_TEST(elf32_loads);
	RUN_TEST(elf32_overlap_refused);
	RUN_TEST(elf32_refusals_write_nothing);
	RUN_TEST(truncations_refused);
	RUN_TEST(guest_kernel_picks_multiboot_on_x86);
	free(mem);
	return test_done();
}
