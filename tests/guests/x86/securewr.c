// SPDX-License-Identifier: MIT
/*
 * securewr: a secure VM's guest (secure = on) that asks a test build of
 * Strata to write to one of its private pages from the core
 * (STRATA_HC_TEST_CORE_WRITE, a deliberate bug). The module's pages are
 * read-only in the hypervisor's own page tables: the write must fault and
 * stop Strata; the guest must never get to its next line.
 */
#include "guest.h"

static volatile uint64_t target = 0x1234;

int guest_main(void)
{
	unsigned long bit = 0;
	long st;

	st = hypercall(STRATA_HC_TD_INFO, 0, 0, 0, &bit);
	EXPECT(st == 0 && bit == 39, "securewr: TD_INFO: %ld, bit %lu", st,
	       bit);
	gprintf("securewr: asking the core to write to private GPA 0x%lx\n",
		(unsigned long)(uintptr_t)&target & ~0xfffUL);
	st = hypercall(STRATA_HC_TEST_CORE_WRITE,
		       (uintptr_t)&target & ~0xfffUL, 0, 0, NULL);
	gprintf("FAIL: securewr: still running after the core's write (%ld, 0x%lx)\n",
		st, (unsigned long)target);
	return checks_result("securewr") + 1;
}
