// SPDX-License-Identifier: MIT
/*
 * The guests' consoles: every byte a guest writes (emulated UART or the
 * console hypercall) is collected per VM and printed a line at a time on
 * Strata's console as "[name] text", so lines of VMs running at once never
 * mix inside a line.
 */
#include <lib/printk.h>
#include <vmm/vm.h>

void vm_console_flush(struct vm *vm)
{
	if (!vm->con_len) {
		return;
	}
	vm->con_line[vm->con_len] = '\0';
	printk(LOG_OUT, "[%s] %s\n", vm->name, vm->con_line);
	vm->con_len = 0;
}

void vm_console_putc(struct vm *vm, char c)
{
	if (c == '\n') {
		/* An empty line is still a line. */
		if (!vm->con_len) {
			printk(LOG_OUT, "[%s]\n", vm->name);
			return;
		}
		vm_console_flush(vm);
		return;
	}
	if (c == '\r') {
		return;
	}
	/*
	 * Control characters other than tab, DEL and the C1 controls (0x9b
	 * is an 8-bit CSI to some terminals) are shown as '?': a guest must
	 * not drive the operator's terminal.
	 */
	if (((unsigned char)c < 0x20 && c != '\t') ||
	    ((unsigned char)c >= 0x7f && (unsigned char)c <= 0x9f)) {
		c = '?';
	}
	vm->con_line[vm->con_len++] = c;
	if (vm->con_len == VM_CONSOLE_LINE - 1) {
		vm_console_flush(vm);
	}
}
