// SPDX-License-Identifier: MIT
/*
 * wild: jumps to an address no memslot backs. As on KVM, the fetch is a
 * synchronous external abort injected into the guest (a prefetch abort from
 * the current EL, FAR the jump target): the guest must see it at its
 * vector, report it and end (with status 3: a jump like that is its bug);
 * the line after the jump must never appear, and every other VM runs on.
 */
#include "guest.h"

#define TARGET	0x1000UL

bool exception_hook(struct exc_frame *f)
{
	if (ESR_EC(f->esr) == 0x21 && f->far == TARGET && f->elr == TARGET) {
		printf("wild: prefetch abort at 0x%lx (ESR 0x%lx)\n", f->far,
		       f->esr);
		power_off(3);
	}
	return false;
}

int guest_main(void *dtb)
{
	void (*wild)(void) = (void (*)(void))TARGET;

	(void)dtb;
	puts("wild: jumping to 0x1000\n");
	wild();
	puts("wild: still running after the jump\n");
	return 1;
}
