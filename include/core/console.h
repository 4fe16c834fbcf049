/* SPDX-License-Identifier: MIT */
/* The hypervisor console: one output device, registered by the boot code. */
#ifndef STRATA_CORE_CONSOLE_H
#define STRATA_CORE_CONSOLE_H

#include <types.h>

struct console {
	const char *name;
	void (*putc)(char c);
};

/* Route all further output to @con. Earlier output is lost. */
void console_register(const struct console *con);
/* Write @n bytes; "\n" becomes "\r\n". Without a console this does nothing. */
void console_write(const char *s, size_t n);

#endif
