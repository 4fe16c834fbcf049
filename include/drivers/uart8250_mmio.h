/* SPDX-License-Identifier: MIT */
/*
 * An 8250/16550-compatible UART on MMIO (DTB "ns16550a", "ns16550",
 * "snps,dw-apb-uart") as the console: the sibling of uart16550.c, which
 * drives the PC's port-I/O UART. Register n sits at base + (n << shift) and
 * is accessed @width bytes wide (the DTB's reg-shift and reg-io-width).
 */
#ifndef STRATA_DRIVERS_UART8250_MMIO_H
#define STRATA_DRIVERS_UART8250_MMIO_H

#include <types.h>

/**
 * struct uart8250_mmio - where and how the UART's registers are reached.
 * @base: the registers' physical (identity-mapped) address.
 * @shift: register n is at @base + (n << @shift).
 * @width: access width in bytes: 1, 2 or 4.
 */
struct uart8250_mmio {
	uintptr_t base;
	unsigned int shift;
	unsigned int width;
};

/*
 * Make the UART described by @u (copied) the console. The line settings
 * (baud rate, 8N1) stay as the firmware left them, as Linux's earlycon does
 * without options: the UART's input clock is board-specific. Interrupts are
 * switched off. Polled output; a UART that never drains does not hang.
 */
void uart8250_mmio_console_init(const struct uart8250_mmio *u);

/* One byte to @u, waiting (bounded) for room in its transmitter. */
void uart8250_mmio_putc_at(const struct uart8250_mmio *u, char c);

#endif
