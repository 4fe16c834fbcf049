// SPDX-License-Identifier: MIT
// FUZZ-SOURCES: vmm/cpio.c lib/printk.c lib/strlcpy.c
/*
 * libFuzzer target: the cpio newc reader must stay inside the archive for any
 * input, and every file it returns must lie inside it.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/printk.h>
#include <vmm/bundle.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle b = { 0 };
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		return 0;
	}
	memcpy(copy, data, size);	/* exact-size buffer: ASan sees overreads */
	log_level = -1;
	bundle_from_cpio(&b, copy, size);
	for (unsigned int i = 0; i < b.nr_files; i++) {
		const uint8_t *p = b.files[i].data;

		if (p < copy || p + b.files[i].size > copy + size) {
			abort();
		}
	}
	free(copy);
	return 0;
}
