// SPDX-License-Identifier: MIT
/*
 * badrole: asks a test build to corrupt its vCPU's role after the next root
 * lookup (STRATA_HC_TEST_CORRUPT_ROLE, the seed-003 ordering bug). The
 * entry audit must stop this VM before it runs another instruction; the
 * line after the call must never appear.
 */
#include "guest.h"

int guest_main(void)
{
	unsigned long v;
	long st;

	gprintf("badrole: corrupting my role\n");
	st = hypercall(STRATA_HC_TEST_CORRUPT_ROLE, 0, 0, 0, &v);
	gprintf("badrole: still running after the corruption (status %ld)\n",
		st);
	return 1;
}
