// SPDX-License-Identifier: MIT
/*
 * securelk: a secure VM's guest (secure = on) whose page the module refuses
 * to give back. It accepts a page, makes the module's next two REMOVEs busy
 * (STRATA_HC_TEST_SM_BUSY, test builds) and converts the page to shared:
 * the zap is retried once after a kick, refused again, the page is leaked
 * (never handed out again) and the VM stopped with the reason. The guest
 * must not run on after its MAP_GPA.
 */
#include "guest.h"

#define PAGE	(5UL << 20)

int guest_main(void)
{
	unsigned long bit = 0;
	long st;

	st = hypercall(STRATA_HC_TD_INFO, 0, 0, 0, &bit);
	EXPECT(st == 0 && bit == 39, "securelk: TD_INFO: %ld", st);
	EXPECT(hypercall(STRATA_HC_TD_ACCEPT, PAGE, 0, 0, NULL) == 0,
	       "securelk: accept");
	*(volatile uint64_t *)PAGE = 0x5ec7e7;
	EXPECT(hypercall(STRATA_HC_TEST_SM_BUSY, 0, 0, 2, NULL) == 0,
	       "securelk: busy injection");
	gprintf("securelk: converting page 0x%lx to shared with REMOVE busy twice\n",
		PAGE);
	st = hypercall(STRATA_HC_MAP_GPA, PAGE | (1UL << bit), 4096, 0, NULL);
	gprintf("FAIL: securelk: still running after the refused zap (%ld)\n",
		st);
	return checks_result("securelk") + 1;
}
