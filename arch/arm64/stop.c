// SPDX-License-Identifier: MIT
/*
 * Stopping for good. Test builds end the QEMU run with the status through
 * semihosting SYS_EXIT (QEMU must run with -semihosting); other builds power
 * off through PSCI SYSTEM_OFF after a clean stop and otherwise park the CPU.
 * This code also runs at EL1, when Strata refuses to start there.
 */
#include <arch/psci.h>
#include <core/arch.h>
#include <lib/printk.h>

#define SEMIHOSTING_SYS_EXIT		0x18
#define ADP_STOPPED_APPLICATION_EXIT	0x20026

static void __unused semihosting_exit(int status)
{
	/* The 64-bit SYS_EXIT parameter block: reason, then the exit code. */
	uint64_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint64_t)status };
	register uint64_t x0 __asm__("x0") = SEMIHOSTING_SYS_EXIT;
	register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;

	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
}

static void __noreturn park(void)
{
	for (;;) {
		__asm__ volatile("wfi");
	}
}

void arch_stop(int status)
{
	static volatile bool stopping;

	__asm__ volatile("msr daifset, #0xf");
	if (stopping) {
		/* Stopping itself faulted (no semihosting?): just park. */
		park();
	}
	stopping = true;
	pr_info("Strata: stopped (status %d)\n", status);
#ifdef CONFIG_TEST
	semihosting_exit(status);
#endif
	if (status == 0 && psci_available()) {
		psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	}
	park();
}
