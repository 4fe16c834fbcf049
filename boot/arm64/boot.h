/* SPDX-License-Identifier: MIT */
/* Functions shared by the arm64 boot files (head.S, early.c, start.c). */
#ifndef STRATA_BOOT_ARM64_BOOT_H
#define STRATA_BOOT_ARM64_BOOT_H

#include <types.h>

/* Register the early PL011 (QEMU virt's) as the console, mapping it first. */
void boot_early_console(void);

#endif
