/* SPDX-License-Identifier: MIT */
/* Functions shared by the arm64 boot files (head.S, early.c, start.c). */
#ifndef STRATA_BOOT_ARM64_BOOT_H
#define STRATA_BOOT_ARM64_BOOT_H

#include <types.h>

/*
 * The DTB size boot_early_mmu() found in the header at x0 and mapped; 0 if x0
 * held no DTB, which is then left unmapped and must not be read.
 */
extern uint64_t boot_dtb_size;

struct platform;

/* Map [base, base + size) and add it to @p's RAM; warns and skips on error. */
void boot_add_ram(struct platform *p, paddr_t base, uint64_t size,
		  const char *what);

/* Register the early PL011 (QEMU virt's) as the console, mapping it first. */
void boot_early_console(void);

#endif
