// SPDX-License-Identifier: MIT
/* The test guests' printf core (see format.h). */
#include <stdbool.h>

#include "format.h"

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

static void put_num(void (*out)(char), unsigned long long v,
		    unsigned int base, int width, char pad, bool neg)
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
		out(pad);
	}
	while (n) {
		out(buf[--n]);
	}
}

static unsigned long long arg_unsigned(va_list *ap, int longs)
{
	if (longs > 1 || (longs && sizeof(long) == 8)) {
		return va_arg(*ap, unsigned long long);
	}
	return longs ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
}

static long long arg_signed(va_list *ap, int longs)
{
	if (longs > 1 || (longs && sizeof(long) == 8)) {
		return va_arg(*ap, long long);
	}
	return longs ? va_arg(*ap, long) : va_arg(*ap, int);
}

void guest_vformat(void (*out)(char c), const char *fmt, va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';
		long long s;

		if (*fmt != '%') {
			out(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9') {
			width = width * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			for (const char *p = va_arg(aq, const char *); *p; p++) {
				out(*p);
			}
			break;
		case 'c':
			out((char)va_arg(aq, int));
			break;
		case 'd':
			s = arg_signed(&aq, longs);
			put_num(out, s < 0 ? -(unsigned long long)s :
				(unsigned long long)s, 10, width, pad, s < 0);
			break;
		case 'u':
		case 'x':
			put_num(out, arg_unsigned(&aq, longs),
				*fmt == 'x' ? 16 : 10, width, pad, false);
			break;
		case '%':
			out('%');
			break;
		default:
			out('?');
			va_end(aq);
			return;
		}
	}
	va_end(aq);
}
