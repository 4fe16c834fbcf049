// SPDX-License-Identifier: MIT
/* A small vsnprintf and the leveled logger on top of the console. */
#include <core/console.h>
#include <lib/printk.h>
#include <lib/spinlock.h>
#include <lib/string.h>

#include <core/percpu.h>

int log_level = LOG_INFO;

/*
 * The console lock: one CPU writes at a time, so lines of different CPUs
 * do not mix (docs/smp.md). The CPU that holds it may take it again (a
 * report from an exception taken while printing must not spin forever).
 */
static struct spinlock con_lock = SPINLOCK_INIT;
static int con_owner = -1;

/*
 * Programs without per-CPU data (host tests and benchmarks that link this
 * file alone) are one CPU: the architecture's this_pcpu() overrides this.
 */
__attribute__((weak)) struct pcpu *this_pcpu(void)
{
	return NULL;
}

static int console_cpu(void)
{
	const struct pcpu *c = this_pcpu();

	return c ? (int)c->id : 0;
}

static bool con_enter(void)
{
	int me = console_cpu();

	if (__atomic_load_n(&con_owner, __ATOMIC_RELAXED) == me) {
		return false;
	}
	spin_lock(&con_lock);
	__atomic_store_n(&con_owner, me, __ATOMIC_RELAXED);
	return true;
}

static void con_leave(bool taken)
{
	if (taken) {
		__atomic_store_n(&con_owner, -1, __ATOMIC_RELAXED);
		spin_unlock(&con_lock);
	}
}

static const struct console *cur_console;
/* Whose unfinished line the console shows (console_write_owned()). */
static const void *open_owner;
static int (*cur_getc)(void);

struct outbuf {
	char *buf;
	size_t size;
	size_t len;	/* characters produced, even past size */
};

static void out_char(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size) {
		o->buf[o->len] = c;
	}
	o->len++;
}

static void out_pad(struct outbuf *o, char c, int n)
{
	while (n-- > 0) {
		out_char(o, c);
	}
}

struct spec {
	bool left;
	bool zero;
	int width;
	int prec;	/* -1: none */
	int len;	/* -2 hh, -1 h, 0 int, 1 long, 2 long long / size_t */
};

static void out_str(struct outbuf *o, const struct spec *sp, const char *s)
{
	int n;

	if (!s) {
		s = "(null)";
	}
	n = (int)strnlen(s, sp->prec >= 0 ? (size_t)sp->prec : (size_t)-1);
	if (!sp->left) {
		out_pad(o, ' ', sp->width - n);
	}
	for (int i = 0; i < n; i++) {
		out_char(o, s[i]);
	}
	if (sp->left) {
		out_pad(o, ' ', sp->width - n);
	}
}

static void out_num(struct outbuf *o, const struct spec *sp, uint64_t v,
		    unsigned int base, bool neg, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, total;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	total = n + (neg ? 1 : 0);
	if (!sp->left && !sp->zero) {
		out_pad(o, ' ', sp->width - total);
	}
	if (neg) {
		out_char(o, '-');
	}
	if (!sp->left && sp->zero) {
		out_pad(o, '0', sp->width - total);
	}
	while (n) {
		out_char(o, tmp[--n]);
	}
	if (sp->left) {
		out_pad(o, ' ', sp->width - total);
	}
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-') {
			sp->left = true;
		} else if (*f == '0') {
			sp->zero = true;
		} else {
			break;
		}
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9') {
		sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9') {
			sp->prec = sp->prec * 10 + (*f++ - '0');
		}
	}
	for (;; f++) {
		if (*f == 'h') {
			sp->len--;
		} else if (*f == 'l') {
			sp->len++;
		} else if (*f == 'z') {
			sp->len = 2;
		} else {
			return f;
		}
	}
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->len >= 2) {
		return va_arg(*ap, unsigned long long);
	}
	if (sp->len == 1) {
		return va_arg(*ap, unsigned long);
	}
	unsigned int v = va_arg(*ap, unsigned int);

	if (sp->len == -1) {
		return (unsigned short)v;
	}
	if (sp->len <= -2) {
		return (unsigned char)v;
	}
	return v;
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->len >= 2) {
		return va_arg(*ap, long long);
	}
	if (sp->len == 1) {
		return va_arg(*ap, long);
	}
	int v = va_arg(*ap, int);

	if (sp->len == -1) {
		return (short)v;
	}
	if (sp->len <= -2) {
		return (signed char)v;
	}
	return v;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct outbuf o = { .buf = buf, .size = size };
	struct spec sp;
	va_list ap;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			out_char(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = arg_signed(&sp, &ap);

			out_num(&o, &sp, v < 0 ? -(uint64_t)v : (uint64_t)v,
				10, v < 0, false);
			break;
		}
		case 'u':
			out_num(&o, &sp, arg_unsigned(&sp, &ap), 10, false, false);
			break;
		case 'x':
		case 'X':
			out_num(&o, &sp, arg_unsigned(&sp, &ap), 16, false,
				*f == 'X');
			break;
		case 'o':
			out_num(&o, &sp, arg_unsigned(&sp, &ap), 8, false, false);
			break;
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			sp.len = 2;
			out_num(&o, &sp, (uintptr_t)va_arg(ap, void *), 16,
				false, false);
			break;
		case 's':
			out_str(&o, &sp, va_arg(ap, const char *));
			break;
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *f);
			break;
		}
	}
	va_end(ap);
	if (size) {
		buf[o.len < size ? o.len : size - 1] = '\0';
	}
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void console_register(const struct console *con)
{
	cur_console = con;
	cur_getc = NULL;
}

static void console_raw_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			cur_console->putc('\r');
		}
		cur_console->putc(s[i]);
	}
}

void console_write(const char *s, size_t n)
{
	bool taken;

	if (!cur_console) {
		return;
	}
	taken = con_enter();
	if (open_owner && n) {
		open_owner = NULL;
		console_raw_write("\n", 1);
	}
	console_raw_write(s, n);
	con_leave(taken);
}

void console_write_owned(const void *owner, const char *prefix,
			 const char *s, size_t n)
{
	bool taken;

	if (!cur_console || !n) {
		return;
	}
	taken = con_enter();
	if (open_owner != owner) {
		if (!prefix) {
			con_leave(taken);	/* its line was ended already */
			return;
		}
		if (open_owner) {
			console_raw_write("\n", 1);
		}
		console_raw_write(prefix, strlen(prefix));
	}
	console_raw_write(s, n);
	open_owner = s[n - 1] == '\n' ? NULL : owner;
	con_leave(taken);
}

bool console_line_open_by(const void *owner)
{
	return open_owner && open_owner == owner;
}

void console_register_input(int (*getc)(void))
{
	cur_getc = getc;
}

bool console_can_read(void)
{
	return cur_getc;
}

int console_getc(void)
{
	return cur_getc ? cur_getc() : -1;
}

void vprintk(int level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "", "error: ", "warning: ", "",
					      "" };
	char buf[512];
	int n;

	if (level > log_level) {
		return;
	}
	n = ksnprintf(buf, sizeof(buf), "%s", prefix[level < LOG_OUT ? 0 :
		level > LOG_DEBUG ? LOG_DEBUG + 1 : level + 1]);
	n += kvsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}
