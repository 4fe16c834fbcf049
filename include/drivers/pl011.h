/* SPDX-License-Identifier: MIT */
/* The Arm PL011 UART, used as the arm64 console. */
#ifndef STRATA_DRIVERS_PL011_H
#define STRATA_DRIVERS_PL011_H

#include <types.h>

/*
 * The UART of QEMU's virt board. Only used as the early console: before the
 * DTB is parsed (to refuse a wrong exception level, or to report a missing
 * or broken DTB), Strata has no other way to know where a UART is.
 */
#define PL011_QEMU_VIRT_BASE	0x09000000UL
#define PL011_MMIO_SIZE		0x1000UL

/*
 * Make the PL011 at @base the console, for output and polled input. The
 * firmware programmed the line (Strata has no clock information to choose
 * a divisor); Strata only sets UARTCR's enable bits that are still clear
 * (UARTEN, TXE, RXE) so that the UART also receives.
 */
void pl011_console_init(paddr_t base);

/* Write one byte to the PL011 at @base without a console (MMU may be off). */
void pl011_putc_at(paddr_t base, char c);

#endif
