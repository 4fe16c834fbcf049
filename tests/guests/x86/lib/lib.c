// SPDX-License-Identifier: MIT
/* The x86 test guests' library: COM1, printf, hypercalls, checks. */
#include "guest.h"
#include "format.h"

#define COM1		GUEST_COM1_PORT
#define UART_LSR_THRE	0x20

unsigned int checks_run, checks_failed;

void serial_init(void)
{
	outb(COM1 + 1, 0x00);		/* no interrupts */
	outb(COM1 + 3, 0x80);		/* DLAB */
	outb(COM1 + 0, 0x01);		/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);		/* 8N1 */
	outb(COM1 + 2, 0xc7);		/* FIFOs on and cleared */
	outb(COM1 + 4, 0x0b);		/* DTR, RTS, OUT2 */
}

void serial_putc(char c)
{
	while (!(inb(COM1 + 5) & UART_LSR_THRE)) {
	}
	outb(COM1, (uint8_t)c);
}

void gputs(const char *s)
{
	while (*s) {
		serial_putc(*s++);
	}
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vformat(serial_putc, fmt, ap);
	va_end(ap);
}

long hypercall(unsigned long fn, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long *val)
{
	unsigned long ax = fn, bx = a0, cx = a1, dx = a2;

	__asm__ volatile("vmcall"
			 : "+a"(ax), "+b"(bx), "+c"(cx), "+d"(dx)
			 : : "memory");
	if (val) {
		*val = bx;
	}
	return (long)ax;
}

unsigned long counter(unsigned int id)
{
	unsigned long v = 0;
	long st = hypercall(STRATA_HC_COUNTER, id, 0, 0, &v);

	if (st) {
		gprintf("FAIL: counter %u: status %ld\n", id, st);
		checks_failed++;
	}
	return v;
}

void power_off(long status)
{
	hypercall(STRATA_HC_POWER_OFF, (unsigned long)status, 0, 0, NULL);
	gputs("FAIL: STRATA_HC_POWER_OFF returned\n");
	for (;;) {
		__asm__ volatile("cli; hlt");
	}
}

int checks_result(const char *name)
{
	if (checks_failed) {
		gprintf("%s: RESULT: FAIL (%u of %u checks failed)\n", name,
			checks_failed, checks_run);
	} else {
		gprintf("%s: RESULT: PASS (%u checks)\n", name, checks_run);
	}
	return (int)checks_failed;
}
