// SPDX-License-Identifier: MIT
/*
 * The PL011 as the console, polled both ways: no interrupts. Input is read
 * by the run loop between time slices (vmm/vconsole.c), which never sleeps
 * (a guest's WFI only ends its slice), so a key waits at most one round of
 * slices; the host UART's interrupt would need an EL2 interrupt handler for
 * SPIs that Strata does not have, for no gain in latency.
 */
#include <core/console.h>
#include <drivers/pl011.h>

#define UARTDR		0x000	/* data */
#define UARTFR		0x018	/* flags */
#define UARTCR		0x030	/* control */

#define FR_RXFE		(1U << 4)	/* receive FIFO empty */
#define FR_TXFF		(1U << 5)	/* transmit FIFO full */
#define CR_UARTEN	(1U << 0)
#define CR_TXE		(1U << 8)
#define CR_RXE		(1U << 9)

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

static int pl011_getc(void)
{
	if (pl011_read(pl011_base, UARTFR) & FR_RXFE) {
		return -1;
	}
	return (int)(pl011_read(pl011_base, UARTDR) & 0xff);
}

static const struct console pl011_console = {
	.name = "pl011",
	.putc = pl011_putc,
};

void pl011_console_init(paddr_t base)
{
	uint32_t cr = pl011_read(base, UARTCR);

	pl011_base = base;
	/*
	 * The line (divisors, format) is the firmware's; only make sure the
	 * receiver is on too, which firmware that only prints may leave off.
	 */
	if ((cr & (CR_UARTEN | CR_TXE | CR_RXE)) !=
	    (CR_UARTEN | CR_TXE | CR_RXE)) {
		pl011_write(base, UARTCR, cr | CR_UARTEN | CR_TXE | CR_RXE);
	}
	console_register(&pl011_console);
	console_register_input(pl011_getc);
}
