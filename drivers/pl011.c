// SPDX-License-Identifier: MIT
/* The PL011 as the console: polled output only, no interrupts. */
#include <core/console.h>
#include <drivers/pl011.h>

#define UARTDR		0x000	/* data */
#define UARTFR		0x018	/* flags */

#define FR_TXFF		(1U << 5)	/* transmit FIFO full */

#define TX_SPIN_MAX	100000	/* a dead UART must not hang Strata */

static paddr_t pl011_base;

static uint32_t pl011_read(paddr_t base, unsigned int reg)
{
	return *(volatile uint32_t *)(uintptr_t)(base + reg);
}

static void pl011_write(paddr_t base, unsigned int reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(base + reg) = v;
}

void pl011_putc_at(paddr_t base, char c)
{
	for (unsigned int i = 0; i < TX_SPIN_MAX; i++) {
		if (!(pl011_read(base, UARTFR) & FR_TXFF)) {
			break;
		}
	}
	pl011_write(base, UARTDR, (uint8_t)c);
}

static void pl011_putc(char c)
{
	pl011_putc_at(pl011_base, c);
}

static const struct console pl011_console = {
	.name = "pl011",
	.putc = pl011_putc,
};

void pl011_console_init(paddr_t base)
{
	pl011_base = base;
	console_register(&pl011_console);
}
