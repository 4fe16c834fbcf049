/* SPDX-License-Identifier: MIT */
/* PSCI calls from EL2 to the firmware (EL3), with the conduit from the DTB. */
#ifndef STRATA_ARCH_PSCI_H
#define STRATA_ARCH_PSCI_H

#include <types.h>

#define PSCI_VERSION		0x84000000
#define PSCI_CPU_ON		0xC4000003
#define PSCI_SYSTEM_OFF		0x84000008

#define PSCI_NOT_SUPPORTED	(-1)

/*
 * Choose the conduit from the DTB's /psci method: only "smc" reaches the
 * firmware from EL2 (an "hvc" would trap to Strata itself). Returns 0 or
 * -ENOTSUP, leaving PSCI unusable.
 */
int psci_set_method(const char *method);
bool psci_available(void);
/* One PSCI call; PSCI_NOT_SUPPORTED without a conduit. */
int64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3);

#endif
