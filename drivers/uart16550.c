// SPDX-License-Identifier: MIT
/*
 * The 16550 UART as the console, polled both ways, no interrupts: the run
 * loop reads input between time slices (vmm/vconsole.c). The
 * line is programmed to 115200 8N1 before the first byte (Bochs shows
 * earlier bytes as 5-bit garbage).
 */
#include <arch/cpu.h>
#include <core/console.h>
#include <drivers/uart16550.h>

#define UART_THR	0	/* transmit holding (DLAB = 0) */
#define UART_RBR	0	/* receive buffer (DLAB = 0) */
#define UART_DLL	0	/* divisor latch low (DLAB = 1) */
#define UART_IER	1	/* interrupt enable (DLAB = 0) */
#define UART_DLM	1	/* divisor latch high (DLAB = 1) */
#define UART_FCR	2	/* FIFO control */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status */
#define UART_SCR	7	/* scratch */

#define LCR_8N1		0x03
#define LCR_DLAB	0x80
#define FCR_ENABLE_CLEAR 0x07	/* enable FIFOs, clear both */
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_DR		0x01	/* data ready */
#define LSR_THRE	0x20	/* transmit holding register empty */
#define LSR_TEMT	0x40	/* transmitter (FIFO and shifter) empty */

#define UART_CLOCK	115200	/* the divisor base of a PC UART */
/* Give up on a dead UART rather than hang. */
#define TX_SPIN_MAX	100000

static uint16_t uart_base;

static void wait_lsr(uint8_t bits)
{
	for (unsigned int i = 0; i < TX_SPIN_MAX; i++) {
		if ((inb(uart_base + UART_LSR) & bits) == bits) {
			return;
		}
		cpu_relax();
	}
}

static void uart16550_putc(char c)
{
	wait_lsr(LSR_THRE);
	outb(uart_base + UART_THR, (uint8_t)c);
}

void uart16550_drain(void)
{
	if (uart_base) {
		wait_lsr(LSR_TEMT);
	}
}

static int uart16550_getc(void)
{
	if (!(inb(uart_base + UART_LSR) & LSR_DR)) {
		return -1;
	}
	return inb(uart_base + UART_RBR);
}

static const struct console uart16550_console = {
	.name = "uart16550",
	.putc = uart16550_putc,
};

bool uart16550_present(uint16_t base)
{
	/* The scratch register keeps what is written; an empty port reads
	 * 0xff whatever was written to it. */
	static const uint8_t pattern[] = { 0x5a, 0xa5 };

	for (unsigned int i = 0; i < ARRAY_SIZE(pattern); i++) {
		outb(base + UART_SCR, pattern[i]);
		if (inb(base + UART_SCR) != pattern[i]) {
			return false;
		}
	}
	return true;
}

void uart16550_console_init(uint16_t base)
{
	uart16550_console_init_baud(base, UART16550_BAUD);
}

void uart16550_console_init_baud(uint16_t base, uint32_t baud)
{
	uint16_t div;

	if (!baud || baud > UART_CLOCK || UART_CLOCK % baud) {
		baud = UART16550_BAUD;
	}
	div = (uint16_t)(UART_CLOCK / baud);
	uart_base = base;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, (uint8_t)div);
	outb(base + UART_DLM, (uint8_t)(div >> 8));
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
	console_register(&uart16550_console);
	console_register_input(uart16550_getc);
}
