// SPDX-License-Identifier: MIT
/*
 * The 8250/16550 UART on MMIO as the console (drivers/uart8250_mmio.h):
 * polled output only. A DesignWare APB UART is a 16550 with a busy-detect
 * quirk on LCR writes while it transmits; LCR is written at most once,
 * before the first byte and only when the firmware left DLAB set, so it
 * needs nothing of its own.
 */
#include <core/console.h>
#include <drivers/uart8250_mmio.h>

#define UART_THR	0	/* transmit holding (DLAB = 0) */
#define UART_IER	1	/* interrupt enable (DLAB = 0) */
#define UART_LCR	3	/* line control */
#define UART_LSR	5	/* line status */

#define LCR_DLAB	0x80
#define LSR_THRE	0x20	/* transmit holding register empty */

/* Give up on a dead UART rather than hang. */
#define TX_SPIN_MAX	100000

static struct uart8250_mmio console_uart;

static uint32_t reg_read(const struct uart8250_mmio *u, unsigned int reg)
{
	uintptr_t a = u->base + ((uintptr_t)reg << u->shift);

	switch (u->width) {
	case 4:
		return *(volatile uint32_t *)a;
	case 2:
		return *(volatile uint16_t *)a;
	default:
		return *(volatile uint8_t *)a;
	}
}

static void reg_write(const struct uart8250_mmio *u, unsigned int reg,
		      uint32_t v)
{
	uintptr_t a = u->base + ((uintptr_t)reg << u->shift);

	switch (u->width) {
	case 4:
		*(volatile uint32_t *)a = v;
		break;
	case 2:
		*(volatile uint16_t *)a = (uint16_t)v;
		break;
	default:
		*(volatile uint8_t *)a = (uint8_t)v;
		break;
	}
}

void uart8250_mmio_putc_at(const struct uart8250_mmio *u, char c)
{
	for (unsigned int i = 0; i < TX_SPIN_MAX; i++) {
		if (reg_read(u, UART_LSR) & LSR_THRE) {
			break;
		}
	}
	reg_write(u, UART_THR, (uint8_t)c);
}

static void uart8250_mmio_putc(char c)
{
	uart8250_mmio_putc_at(&console_uart, c);
}

static const struct console uart8250_mmio_console = {
	.name = "uart8250-mmio",
	.putc = uart8250_mmio_putc,
};

void uart8250_mmio_console_init(const struct uart8250_mmio *u)
{
	console_uart = *u;
	/* THR and IER are only reachable with DLAB clear. */
	if (reg_read(u, UART_LCR) & LCR_DLAB) {
		reg_write(u, UART_LCR, reg_read(u, UART_LCR) & ~LCR_DLAB);
	}
	reg_write(u, UART_IER, 0);
	console_register(&uart8250_mmio_console);
}
