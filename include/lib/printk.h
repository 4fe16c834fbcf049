/* SPDX-License-Identifier: MIT */
/*
 * Formatted output and the leveled logger. Formats: %d %i %u %x %X %o %p %s %c
 * %%, with flags '-' '0', a width (or '*'), a precision for %s, and the
 * length modifiers hh h l ll z.
 */
#ifndef STRATA_LIB_PRINTK_H
#define STRATA_LIB_PRINTK_H

#include <stdarg.h>
#include <types.h>

enum log_level {
	LOG_OUT = -1,	/* always printed, no prefix (guest console output) */
	LOG_ERR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/* Messages above this level are dropped; set by `loglevel=` on the command line. */
extern int log_level;

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
void printk(int level, const char *fmt, ...) __printf(2, 3);
void vprintk(int level, const char *fmt, va_list ap);

#define pr_err(...)	printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	printk(LOG_DEBUG, __VA_ARGS__)

#endif
