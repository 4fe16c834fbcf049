// SPDX-License-Identifier: MIT
// FUZZ-SOURCES: vmm/loader.c lib/printk.c lib/strlcpy.c
/*
 * libFuzzer target: the ELF64, raw, arm64 Image and multiboot loaders must
 * never write outside guest RAM nor read outside the image, whatever the
 * bytes are.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/printk.h>
#include <vmm/loader.h>

#define RAM_SIZE	(4u << 20)

static uint8_t *ram_buf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_ram ram;
	struct loaded_image li;
	uint8_t *img = malloc(size ? size : 1);

	if (!ram_buf) {
		ram_buf = malloc(RAM_SIZE);	/* exact size: ASan guards it */
	}
	if (!img || !ram_buf) {
		abort();
	}
	memcpy(img, data, size);
	log_level = -1;
	ram = (struct guest_ram){ .base = 0x40000000, .size = RAM_SIZE,
				  .host = ram_buf };
	if (!load_elf64("f", img, size, 62, &ram, &li) &&
	    (li.entry < li.start || li.entry >= li.end)) {
		abort();
	}
	load_elf64("f", img, size, 183, &ram, &li);
	load_arm64_image("f", img, size, &ram, &li);
	ram.base = 0;
	if (!load_multiboot("f", img, size, &ram, &li) &&
	    (li.entry < li.start || li.entry >= li.end)) {
		abort();
	}
	ram.base = 0x40000000;
	if (size >= 8) {
		uint64_t at;

		memcpy(&at, data, 8);
		load_raw("f", img, size, at, &ram, &li);
	}
	free(img);
	return 0;
}
