/* SPDX-License-Identifier: MIT */
/* The VM manager: the boot bundle, the VM configurations, and the VMs. */
#ifndef STRATA_VMM_VMM_H
#define STRATA_VMM_VMM_H

#include <core/platform.h>
#include <vmm/bundle.h>

/*
 * Build the bundle from the boot modules (a module that is a cpio newc
 * archive is expanded, any other is one file named by the first word of its
 * command line), read the configuration file @config_name from it and check
 * each VM's images. Reports every problem on the console. Returns the number
 * of usable VMs, stored in @vms (at most VM_MAX_VMS).
 */
unsigned int vmm_read_config(const struct platform *p, const char *config_name,
			     struct bundle *b, struct vm_config *vms);

#endif
