// SPDX-License-Identifier: MIT
/*
 * debugexit: end the VM through QEMU's isa-debug-exit port (0xf4) with
 * the value DEBUG_EXIT_VALUE (0 by default; the Makefile builds
 * debugexit3.elf with 3). Strata must end the VM at the write: nothing
 * after it may run.
 */
#include "guest.h"

#ifndef DEBUG_EXIT_VALUE
#define DEBUG_EXIT_VALUE	0
#endif

int guest_main(void)
{
	gprintf("debugexit: writing %d to port 0xf4\n", DEBUG_EXIT_VALUE);
	__asm__ volatile("outl %0, %1" : : "a"((uint32_t)DEBUG_EXIT_VALUE),
			 "Nd"((uint16_t)0xf4));
	gprintf("debugexit: still running after the write\n");
	return 1;
}
