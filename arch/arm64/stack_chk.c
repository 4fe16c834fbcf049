// SPDX-License-Identifier: MIT
/*
 * The stack protector's symbols. Strata itself is built without it, but
 * Debian's libfdt.a was compiled with -fstack-protector-strong and refers to
 * them. A smashed stack inside libfdt means memory is already corrupted:
 * report it and stop.
 */
#include <core/arch.h>
#include <lib/printk.h>

/* A fixed canary: there is no entropy source this early. */
uintptr_t __stack_chk_guard = 0x5d2f8e17c64b09a3UL;

void __stack_chk_fail(void) __noreturn;

void __stack_chk_fail(void)
{
	pr_err("stack protector: stack corrupted in libfdt; stopping\n");
	arch_stop(5);
}
