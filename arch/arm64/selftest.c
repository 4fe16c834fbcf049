// SPDX-License-Identifier: MIT
/* `selftest=fault`: a real data abort at EL2, to exercise the vectors. */
#include <arch/mmu.h>
#include <arch/sysreg.h>
#include <core/arch.h>
#include <lib/printk.h>

/* True if a read of @va at EL2 would fault (AT S1E2R reports in PAR_EL1). */
static bool el2_va_unmapped(uint64_t va)
{
	__asm__ volatile("at s1e2r, %0" : : "r"(va));
	isb();
	return read_sysreg(par_el1) & 1;
}

void arch_selftest_fault(void)
{
	/* The last page below the identity map's limit: no RAM or device
	 * Strata maps sits there on any machine it supports. */
	uint64_t va = EL2_VA_LIMIT - PAGE_SIZE;

	if (!el2_va_unmapped(va)) {
		va = EL2_VA_LIMIT;	/* outside TTBR0_EL2's range */
	}
	pr_info("selftest: loading from unmapped address 0x%llx\n",
		(unsigned long long)va);
	(void)*(volatile uint64_t *)(uintptr_t)va;
}
