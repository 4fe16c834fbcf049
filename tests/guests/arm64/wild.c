// SPDX-License-Identifier: MIT
/*
 * wild: jumps to an address no memslot backs. An instruction fetch there
 * cannot be emulated: Strata must stop this VM (and only this one) with a
 * message. The line after the jump must never appear.
 */
#include "guest.h"

int guest_main(void *dtb)
{
	void (*wild)(void) = (void (*)(void))0x1000UL;

	(void)dtb;
	puts("wild: jumping to 0x1000\n");
	wild();
	puts("wild: still running after the jump\n");
	return 1;
}
