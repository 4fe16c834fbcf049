// SPDX-License-Identifier: MIT
/*
 * echo: reads what is typed at Strata's console for this VM from its
 * emulated 16550 (COM1), polling LSR.DR as x86 guests must until x86 VMs
 * have an interrupt controller for devices (docs/console.md).
 *
 * It prints "echo> " without a newline (a prompt), echoes each key as it
 * arrives, and answers every line with
 *
 *   echo: line 'TEXT' (N bytes)
 *
 * where control characters in TEXT are shown as ^A .. ^_. The line "quit"
 * ends the VM with "echo: PASS (L lines, B bytes)" (status 0).
 */
#include "guest.h"

#define COM1		GUEST_COM1_PORT
#define LSR_DR		0x01
#define LINE_MAX	80

static char line[LINE_MAX];
static unsigned int line_len, bytes, lines;

static char next_key(void)
{
	while (!(inb(COM1 + 5) & LSR_DR)) {
		__asm__ volatile("pause");
	}
	bytes++;
	return (char)inb(COM1);
}

static void read_line(void)
{
	line_len = 0;
	for (;;) {
		char c = next_key();

		if (c == '\r' || c == '\n') {
			serial_putc('\n');
			line[line_len] = '\0';
			return;
		}
		serial_putc(c);
		if (line_len < LINE_MAX - 1) {
			line[line_len++] = c;
		}
	}
}

static bool is_quit(void)
{
	return line_len == 4 && line[0] == 'q' && line[1] == 'u' &&
	       line[2] == 'i' && line[3] == 't';
}

int guest_main(void)
{
	char shown[2 * LINE_MAX + 1];

	gprintf("echo: ready, polling COM1\n");
	for (;;) {
		unsigned int n = 0;

		gputs("echo> ");
		read_line();
		lines++;
		if (is_quit()) {
			break;
		}
		for (unsigned int i = 0; i < line_len; i++) {
			if ((unsigned char)line[i] < 0x20) {
				shown[n++] = '^';
				shown[n++] = (char)(line[i] + '@');
			} else {
				shown[n++] = line[i];
			}
		}
		shown[n] = '\0';
		gprintf("echo: line '%s' (%u bytes)\n", shown, line_len);
	}
	gprintf("echo: PASS (%u lines, %u bytes)\n", lines, bytes);
	power_off(0);
}
