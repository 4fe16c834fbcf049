/* SPDX-License-Identifier: MIT */
/* The guest-physical and port map of an x86-64 VM. */
#ifndef STRATA_ARCH_X86_GUEST_LAYOUT_H
#define STRATA_ARCH_X86_GUEST_LAYOUT_H

#define GUEST_RAM_BASE		0x00000000UL	/* RAM (arch_guest_ram_base) */
#define GUEST_TESTDEV_BASE	0xfe000000UL	/* MMIO test device (4 KiB) */
#define GUEST_COM1_PORT		0x3f8		/* emulated 16550 */

#endif
