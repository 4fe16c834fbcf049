// SPDX-License-Identifier: MIT
// FUZZ-SOURCES: drivers/acpi.c lib/printk.c lib/strlcpy.c
/*
 * libFuzzer target: ACPI discovery (drivers/acpi.c) on any bytes. The input
 * is physical memory from FUZZ_BASE up, in an exact-size buffer (ASan sees
 * every read past it), with the RSDP at its start; table addresses that
 * point into it are followed. The seeds (tests/fuzz/corpus/acpi/) are
 * QEMU's pc and virt tables moved into such an image.
 */
#include <stdlib.h>
#include <string.h>

#include <drivers/acpi.h>
#include <lib/printk.h>

#define FUZZ_BASE	0x1000

struct image {
	const uint8_t *buf;
	size_t size;
};

static const void *fuzz_map(void *ctx, uint64_t pa, uint64_t len)
{
	const struct image *im = ctx;

	if (pa < FUZZ_BASE || pa - FUZZ_BASE > im->size ||
	    len > im->size - (pa - FUZZ_BASE)) {
		return NULL;
	}
	return im->buf + (pa - FUZZ_BASE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acpi_info info;
	uint8_t *copy = malloc(size ? size : 1);
	struct image im = { copy, size };
	struct acpi_mem mem = { fuzz_map, &im };

	if (!copy) {
		return 0;
	}
	memcpy(copy, data, size);
	log_level = -1;
	acpi_discover(&info, &mem, FUZZ_BASE, size < 36 ? size : 36);
	if (info.madt.nr_cpus > ACPI_MAX_CPUS ||
	    info.tables.nr_tables > ACPI_MAX_TABLES) {
		abort();
	}
	free(copy);
	return 0;
}
