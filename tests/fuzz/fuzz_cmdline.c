// SPDX-License-Identifier: MIT
// FUZZ-SOURCES: vmm/cmdline.c lib/printk.c lib/strlcpy.c
/*
 * libFuzzer target: the hypervisor command-line parser must accept any byte
 * string without crashing, and leave its options in their valid ranges.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/printk.h>
#include <vmm/cmdline.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_options o;
	char *s = malloc(size + 1);

	if (!s) {
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	log_level = -1;		/* keep the console quiet */
	hv_parse_cmdline(s, &o);
	if (o.loglevel < LOG_ERR || o.loglevel > LOG_DEBUG ||
	    strnlen(o.config, sizeof(o.config)) == sizeof(o.config)) {
		abort();
	}
	free(s);
	return 0;
}
