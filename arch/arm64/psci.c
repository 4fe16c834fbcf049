// SPDX-License-Identifier: MIT
/* PSCI calls to the firmware through SMC (see arch/psci.h). */
#include <arch/psci.h>
#include <lib/errno.h>
#include <lib/string.h>

static bool psci_smc;

int psci_set_method(const char *method)
{
	psci_smc = method && !strcmp(method, "smc");
	return psci_smc ? 0 : -ENOTSUP;
}

bool psci_available(void)
{
	return psci_smc;
}

int64_t psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	if (!psci_smc) {
		return PSCI_NOT_SUPPORTED;
	}
	/* SMC Calling Convention: x0-x17 may be clobbered by the callee. */
	__asm__ volatile("smc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			 :
			 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
			   "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	return (int64_t)x0;
}
