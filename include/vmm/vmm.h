/* SPDX-License-Identifier: MIT */
/* The VM manager: the boot bundle, the VM configurations, and the VMs. */
#ifndef STRATA_VMM_VMM_H
#define STRATA_VMM_VMM_H

#include <core/platform.h>
#include <vmm/bundle.h>

/*
 * What the configuration stage left for the verdict (README, "Exit
 * status"): Strata's status is 0 only when at least one VM was configured,
 * every configured VM ran and ended well, and no bundle or configuration
 * error was reported.
 */
struct vmm_tally {
	unsigned int configured;	/* [vm ...] sections in strata.cfg */
	unsigned int refused;		/* of those, refused before building */
	unsigned int errors;		/* bundle and configuration errors */
};

/* Set by vmm_read_config(), read by vmm_verdict(). */
extern struct vmm_tally vmm_tally;

/*
 * Build the bundle from the boot modules (a module that is a cpio newc
 * archive is expanded, any other is one file named by the first word of its
 * command line), read the configuration file @config_name from it and check
 * each VM's images. Reports every problem on the console (each VM refused
 * as `vm NAME: never ran: REASON`) and fills vmm_tally. Returns the number
 * of usable VMs, stored in @vms (at most VM_MAX_VMS).
 */
unsigned int vmm_read_config(const struct platform *p, const char *config_name,
			     struct bundle *b, struct vm_config *vms);

struct vm;

/*
 * The end of a run: print `Strata: all N VMs ended: K ok, M failed` (with
 * ` (J never ran)` and `; E configuration errors` when there are any),
 * where N counts every configured VM: the @nr of @vms (those that did not
 * reach VM_RUNNING never ran) and vmm_tally.refused. Returns Strata's
 * status: 0 or 1, by the rule of struct vmm_tally.
 */
int vmm_verdict(const struct vm *vms, unsigned int nr);

#endif
