/* SPDX-License-Identifier: MIT */
/* The 16550 UART on I/O ports (COM1 on PCs), used as the x86 console. */
#ifndef STRATA_DRIVERS_UART16550_H
#define STRATA_DRIVERS_UART16550_H

#include <types.h>

#define UART16550_COM1		0x3f8
#define UART16550_BAUD		115200

/*
 * Program the UART at I/O port @base for 115200 8N1 with FIFOs on, then make
 * it the console. Nothing is written to it before this.
 */
void uart16550_console_init(uint16_t base);
/* The same at @baud (a divisor of 115200; anything else gives 115200). */
void uart16550_console_init_baud(uint16_t base, uint32_t baud);

/* Whether a 16450/16550 answers at @base: its scratch register keeps a
 * value. Writes only that register. */
bool uart16550_present(uint16_t base);

/* Wait until every byte written so far has left the UART. */
void uart16550_drain(void);

#endif
