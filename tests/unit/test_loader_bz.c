// SPDX-License-Identifier: MIT
/* Host tests of the Linux x86 bzImage loader (vmm/loader.c). */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/loader.h>
#include "harness.h"

#define RAM_SIZE	(4ULL << 20)
#define GUARD		4096

static uint8_t *mem;		/* GUARD | RAM_SIZE | GUARD */
static struct guest_ram ram;
static uint8_t img[8192];

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

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/*
 * A bzImage with @sects setup sectors (0 means 4), protocol @version,
 * @xl xloadflags, init_size @init; the code after the setup is 0x5c
 * bytes from offset 0 and 0x64 at 0x200 (the 64-bit entry). Its size.
 */
static size_t make_bz(unsigned int sects, uint16_t version, uint16_t xl,
		      uint32_t init)
{
	size_t setup = ((sects ? sects : 4) + 1) * 512, code = 0x400;

	memset(img, 0, sizeof(img));
	img[0x1f1] = (uint8_t)sects;
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x66;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, version);
	img[0x211] = 0x01;
	put32(img + 0x214, 0x100000);
	put32(img + 0x22c, 0x37ffffff);
	put16(img + 0x236, xl);
	put32(img + 0x258, 0x100000);	/* pref_address, not relocatable */
	put32(img + 0x260, init);
	memset(img + setup, 0x5c, code);
	memset(img + setup + 0x200, 0x64, 0x10);
	return setup + code;
}

/* Loaded at 1 MiB, entry at +0x200, init_size zeroed past the code. */
static void bz_loads(void)
{
	struct loaded_image li;
	size_t n = make_bz(1, 0x020f, 1, 0x3000);
	uint8_t *at = mem + GUARD + 0x100000;

	reset_ram();
	CHECK(is_bzimage(img, n));
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), 0);
	CHECK_EQ(li.entry, 0x100200);
	CHECK_EQ(li.start, 0x100000);
	CHECK_EQ(li.end, 0x103000);
	CHECK(!strcmp(li.format, "bzimage"));
	CHECK_EQ(li.initrd_max, 0x38000000);
	CHECK_EQ(at[0], 0x5c);
	CHECK_EQ(at[0x200], 0x64);
	CHECK_EQ(at[0x3ff], 0x5c);
	CHECK_EQ(at[0x400], 0);
	CHECK_EQ(at[0x2fff], 0);
	CHECK_EQ(at[0x3000], 0xAA);
	CHECK_EQ(at[-1], 0xAA);
}

/*
 * A relocatable kernel runs at align_up(max(1 MiB, pref_address),
 * kernel_alignment) and needs init_size there: the image range covers it.
 */
static void bz_relocatable_runs_higher(void)
{
	struct loaded_image li;
	size_t n = make_bz(1, 0x020f, 1, 0x3000);

	reset_ram();
	img[0x234] = 1;
	put32(img + 0x230, 0x200000);
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), 0);
	CHECK_EQ(li.entry, 0x100200);
	CHECK_EQ(li.start, 0x100000);
	CHECK_EQ(li.end, 0x203000);
	CHECK_EQ(mem[GUARD + 0x100200], 0x64);
	CHECK_EQ(mem[GUARD + 0x200000], 0);
	CHECK_EQ(mem[GUARD + 0x202fff], 0);
	/* pref_address above the load address, rounded up. */
	put32(img + 0x258, 0x280000);
	put32(img + 0x230, 0x100000);
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), 0);
	CHECK_EQ(li.end, 0x303000);
	put32(img + 0x230, 0x200000);
	/* Too little RAM where it runs: refused, with where. */
	put32(img + 0x258, 0x300000);
	put32(img + 0x260, 0x200000);
	reset_ram();
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ERANGE);
	CHECK(strstr(loader_error(), "runs at 0x400000"));
	CHECK(strstr(loader_error(), "too small"));
	/* A bad kernel_alignment gives no run address. */
	put32(img + 0x230, 0x300000);
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ENOEXEC);
	CHECK(ram_untouched());
}

/* A fixed kernel runs at pref_address; XLF_CAN_BE_LOADED_ABOVE_4G. */
static void bz_fixed_runs_at_pref_address(void)
{
	struct loaded_image li;
	size_t n = make_bz(1, 0x020f, 3, 0x3000);

	reset_ram();
	put32(img + 0x258, 0x300000);
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), 0);
	CHECK_EQ(li.start, 0x100000);
	CHECK_EQ(li.end, 0x303000);
	CHECK_EQ(li.initrd_max, 0);
	put32(img + 0x258, 0x80000);
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ENOEXEC);
	CHECK(strstr(loader_error(), "not relocatable"));
}

/* setup_sects 0 means 4; an init_size below the code loads the code. */
static void bz_setup_sects_zero(void)
{
	struct loaded_image li;
	size_t n = make_bz(0, 0x020c, 1, 0);

	reset_ram();
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), 0);
	CHECK_EQ(li.end, 0x100400);
	CHECK_EQ(mem[GUARD + 0x100200], 0x64);
}

/* What the 64-bit protocol cannot take is refused, RAM untouched. */
static void bz_refusals(void)
{
	struct loaded_image li;
	size_t n;

	n = make_bz(1, 0x020b, 1, 0x1000);
	reset_ram();
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ENOEXEC);
	CHECK(strstr(loader_error(), "protocol 2.11"));
	n = make_bz(1, 0x020f, 0, 0x1000);
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ENOEXEC);
	CHECK(strstr(loader_error(), "XLF_KERNEL_64"));
	n = make_bz(1, 0x020f, 1, 0x1000);
	img[0x211] = 0;
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ENOEXEC);
	n = make_bz(1, 0x020f, 1, (uint32_t)RAM_SIZE);
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ERANGE);
	n = make_bz(1, 0x020f, 1, 0x1000);
	CHECK_EQ(load_bzimage("bz", img, 1024 + 0x100, &ram, &li), -ENOEXEC);
	img[0x202] = 'X';
	CHECK(!is_bzimage(img, n));
	CHECK_EQ(load_bzimage("bz", img, n, &ram, &li), -ENOEXEC);
	CHECK(!is_bzimage(img, 0x100));
	CHECK(ram_untouched());
}

/* load_guest_kernel() picks it on x86 only. */
static void guest_kernel_picks_bzimage_on_x86(void)
{
	struct loaded_image li;
	size_t n = make_bz(1, 0x020f, 1, 0x1000);

	reset_ram();
	CHECK_EQ(load_guest_kernel("bz", img, n, 62, false, 0, &ram, &li), 0);
	CHECK(!strcmp(li.format, "bzimage"));
	CHECK_EQ(load_guest_kernel("bz", img, n, 183, false, 0, &ram, &li),
		 -ENOEXEC);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "loader_bz");
	log_level = LOG_ERR - 1;
	mem = malloc(RAM_SIZE + 2 * GUARD);
	RUN_TEST(bz_loads);
	RUN_TEST(bz_relocatable_runs_higher);
	RUN_TEST(bz_fixed_runs_at_pref_address);
	RUN_TEST(bz_setup_sects_zero);
	RUN_TEST(bz_refusals);
	RUN_TEST(guest_kernel_picks_bzimage_on_x86);
	free(mem);
	return test_done();
}
