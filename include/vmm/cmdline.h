/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's own command line (multiboot2 command line on x86,
 * /chosen/bootargs on arm64): space-separated `key=value` words.
 *
 *   loglevel=err|warn|info|debug   console verbosity (default info)
 *   audit=on|off                   MMU audit after each operation (default on
 *                                  in test builds)
 *   config=NAME                    the bundle file with the VM configuration
 *                                  (default strata.cfg)
 *   cpus=N                         use at most N physical CPUs, the boot CPU
 *                                  included (default: all the firmware
 *                                  lists; docs/smp.md)
 *   selftest=fault                 take a deliberate exception (test builds)
 *   selftest=s2                    build the VMs, exercise their stage-2
 *                                  tables on this CPU, tear them down and
 *                                  stop (status 3) instead of running them
 *
 * Words whose key starts with `x86_` or `arm64_` belong to that
 * architecture's code (for example `x86_fault=`) and are left to it here.
 *
 * Unknown words and bad values are reported and ignored: a typo on the
 * command line never stops the hypervisor.
 */
#ifndef STRATA_VMM_CMDLINE_H
#define STRATA_VMM_CMDLINE_H

#include <types.h>

#define CMDLINE_VALUE_MAX	64

struct hv_options {
	int loglevel;
	bool audit;
	bool selftest_fault;
	bool selftest_s2;
	unsigned int max_cpus;		/* cpus=N; 0: no limit */
	char config[CMDLINE_VALUE_MAX];
	unsigned int nr_errors;		/* words reported and ignored */
};

/* Fill @o with defaults, then apply @s; returns the number of bad words. */
unsigned int hv_parse_cmdline(const char *s, struct hv_options *o);

#endif
