// SPDX-License-Identifier: MIT
/* The x86 test guests' library: COM1, printf, hypercalls, checks. */
#include "guest.h"

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

/* *@v /= @base, returning the remainder (no libgcc in the 32-bit build). */
static unsigned int divmod(unsigned long long *v, unsigned int base)
{
	unsigned long long q = 0, r = 0;

	for (int bit = 63; bit >= 0; bit--) {
		r = (r << 1) | ((*v >> bit) & 1);
		if (r >= base) {
			r -= base;
			q |= 1ULL << bit;
		}
	}
	*v = q;
	return (unsigned int)r;
}

static void put_num(unsigned long long v, unsigned int base, int width,
		    bool neg)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[divmod(&v, base)];
	} while (v);
	if (neg) {
		buf[n++] = '-';
	}
	while (width-- > n) {
		serial_putc(base == 16 ? '0' : ' ');
	}
	while (n) {
		serial_putc(buf[--n]);
	}
}

/* %s %c %d %u %x with optional l/ll and a width for %x/%u. */
void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		unsigned long long u;
		long long s;

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		fmt++;
		while (*fmt >= '0' && *fmt <= '9') {
			width = width * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			gputs(va_arg(ap, const char *));
			break;
		case 'c':
			serial_putc((char)va_arg(ap, int));
			break;
		case 'd':
			if (longs > 1 || (longs && sizeof(long) == 8)) {
				s = va_arg(ap, long long);
			} else {
				s = longs ? va_arg(ap, long) : va_arg(ap, int);
			}
			put_num(s < 0 ? -(unsigned long long)s : (unsigned long long)s,
				10, width, s < 0);
			break;
		case 'u':
		case 'x':
			if (longs > 1 || (longs && sizeof(long) == 8)) {
				u = va_arg(ap, unsigned long long);
			} else if (longs) {
				u = va_arg(ap, unsigned long);
			} else {
				u = va_arg(ap, unsigned int);
			}
			put_num(u, *fmt == 'x' ? 16 : 10, width, false);
			break;
		case '%':
			serial_putc('%');
			break;
		default:
			serial_putc('?');
			break;
		}
	}
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
