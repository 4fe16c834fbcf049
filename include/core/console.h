/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor console: one device, registered by the boot code. Output
 * always; input when the driver can receive (polled by the run loop, see
 * vmm/vconsole.c and docs/console.md).
 */
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

/*
 * Output that may stop inside a line (a guest's prompt), on behalf of
 * @owner: while the console's last line is unfinished and @owner's, the
 * next console_write_owned() by @owner continues it; any other output
 * (console_write(), another owner) first ends that line with a newline, so
 * no two writers ever share a line. @prefix is written before @s when the
 * current line is not @owner's (a new line of @owner's); decided under the
 * console lock, so another CPU's line landing in between cannot leave a
 * line without it. @prefix NULL: write nothing then (@s only continues or
 * ends @owner's line, which other output ended already).
 */
void console_write_owned(const void *owner, const char *prefix,
			 const char *s, size_t n);
/*
 * True when the console's current line is @owner's and unfinished; a hint
 * only, another CPU may write right after it.
 */
bool console_line_open_by(const void *owner);
/*
 * Input of the console device: @getc returns the next received byte or -1
 * when none waits. Without it the console is output only.
 */
void console_register_input(int (*getc)(void));
/* True when the console can receive. */
bool console_can_read(void);
/* The next byte received on the console, or -1 when none waits. */
int console_getc(void);

#endif
