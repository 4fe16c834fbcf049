// SPDX-License-Identifier: MIT
// FUZZ-SOURCES: vmm/config.c vmm/cpio.c lib/printk.c lib/strlcpy.c
/*
 * libFuzzer target: strata.cfg parsing of any bytes must not crash, and every
 * VM it accepts must satisfy the documented limits.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/printk.h>
#include <vmm/bundle.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config vms[VM_MAX_VMS];
	struct cfg_result res;
	unsigned int n;

	log_level = -1;
	n = vm_config_parse((const char *)data, size, "fuzz.cfg", NULL, vms,
			    VM_MAX_VMS, &res);
	for (unsigned int i = 0; i < n; i++) {
		const struct vm_config *vm = &vms[i];

		if (!vm->kernel[0] || vm->cpus < 1 || vm->cpus > VM_MAX_CPUS ||
		    vm->memory < VM_MIN_MEMORY || vm->memory > VM_MAX_MEMORY ||
		    strnlen(vm->cmdline, VM_CMDLINE_MAX) == VM_CMDLINE_MAX ||
		    strchr(vm->name, ' ')) {
			abort();
		}
	}
	return 0;
}
