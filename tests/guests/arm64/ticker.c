// SPDX-License-Identifier: MIT
/*
 * ticker: prints a numbered line every 20 ms of the virtual counter for
 * about half a second, then powers off. Two of them in one boot show
 * several VMs time-sliced on one CPU: their lines interleave and both end.
 */
#include "guest.h"

#define TICKS	25

int guest_main(void *dtb)
{
	uint32_t len;
	const char *args = dt_prop(dtb, "/chosen", "bootargs", &len);

	for (unsigned int i = 1; i <= TICKS; i++) {
		printf("ticker %s: tick %u of %u\n", args ? args : "?", i,
		       TICKS);
		udelay(20000);
	}
	printf("ticker %s: PASS\n", args ? args : "?");
	return 0;
}
