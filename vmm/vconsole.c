// SPDX-License-Identifier: MIT
/*
 * The guests' consoles, both ways (docs/console.md).
 *
 * Output: every byte a guest writes (emulated UART or the console
 * hypercall) is collected per VM and printed a line at a time on Strata's
 * console as "[name] text", so lines of VMs running at once never mix
 * inside a line. A line the guest leaves unfinished (a shell prompt) is
 * printed once the VM went a whole round of its slices without adding to
 * it; what the guest adds later continues that line on the terminal while
 * nothing else was printed, else starts a new "[name] " line.
 *
 * Input: the run loop polls Strata's console between rounds of slices;
 * keys go to the VM that has the focus, through the receiver its UART
 * attached (vm_console_attach_input()), and wait in the VM's queue while
 * the UART's FIFO is full or its receiver off. Ctrl-a starts an escape
 * sequence in the manner of QEMU's: Ctrl-a 1..8 or n moves the focus,
 * Ctrl-a ? prints help, Ctrl-a x stops every VM, Ctrl-a Ctrl-a sends a
 * literal Ctrl-a.
 *
 * Polled rather than interrupt-driven: the run loop never sleeps (WFI only
 * ends a slice), so a key waits at most one round, and Strata has no
 * handler for the host UART's interrupt at EL2 or on x86.
 */
#include <core/console.h>
#include <lib/bug.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define ESC_KEY		0x01	/* Ctrl-a */
#define POLL_MAX	64	/* host bytes read per round */

static struct {
	struct vm *vms;
	unsigned int nr;
	unsigned int focus;	/* index in vms */
	bool started;
	bool escape;		/* Ctrl-a seen, command key next */
} con;

/*
 * Print @vm's buffered bytes, with the prefix unless they continue its
 * line (console_write_owned() decides that under the console lock, so a
 * line another CPU printed in between cannot take it away). With nothing
 * buffered, @newline only ends @vm's open line: an empty line of its own
 * when @empty_line, else nothing once other output ended that line.
 */
static void con_emit(struct vm *vm, bool newline, bool empty_line)
{
	char prefix[48];
	char buf[VM_CONSOLE_LINE + 1];
	size_t len = vm->con_len, n = len;

	ksnprintf(prefix, sizeof(prefix), n || !newline ? "[%s] " : "[%s]",
		  vm->name);
	memcpy(buf, vm->con_line, n);
	if (newline) {
		buf[n++] = '\n';
	}
	vm->con_len = 0;
	console_write_owned(vm, len || empty_line ? prefix : NULL, buf, n);
}

void vm_console_flush(struct vm *vm)
{
	con_emit(vm, true, false);
}

void vm_console_round_end(struct vm *vm)
{
	if (vm->con_fresh) {
		vm->con_fresh = false;
	} else if (vm->con_len) {
		con_emit(vm, false, false);
	}
}

void vm_console_putc(struct vm *vm, char c)
{
	if (c == '\n') {
		/* An empty line is still a line. */
		con_emit(vm, true, true);
		return;
	}
	if (c == '\r') {
		return;
	}
	/*
	 * Control characters other than tab, DEL and the C1 controls (0x9b
	 * is an 8-bit CSI to some terminals) are shown as '?': a guest must
	 * not drive the operator's terminal. Backspace too: a shell erasing
	 * a key would erase the "[name] " prefix of a continued line.
	 */
	if (((unsigned char)c < 0x20 && c != '\t') ||
	    ((unsigned char)c >= 0x7f && (unsigned char)c <= 0x9f)) {
		c = '?';
	}
	vm->con_fresh = true;
	vm->con_line[vm->con_len++] = c;
	if (vm->con_len == VM_CONSOLE_LINE - 1) {
		con_emit(vm, false, false);
	}
}

void vm_console_attach_input(struct vm *vm,
			     unsigned int (*rx)(struct vm *vm, void *priv,
						const uint8_t *b,
						unsigned int n),
			     void *priv)
{
	vm->con_rx = rx;
	vm->con_rx_priv = priv;
	vm->con_in_len = 0;
	vm->con_dropped = 0;
}

/* ---- focus and escape keys ------------------------------------------- */

static struct vm *focused(void)
{
	if (con.focus < con.nr && vm_running(&con.vms[con.focus])) {
		return &con.vms[con.focus];
	}
	return NULL;
}

static void say_focus(void)
{
	struct vm *vm = focused();

	if (vm) {
		printk(LOG_OUT, "Strata: console: keys go to vm %s (%u of %u; "
		       "Ctrl-a ? for help)\n", vm->name, con.focus + 1, con.nr);
	}
}

/* The first running VM from index @from on, wrapping; false if none. */
static bool focus_from(unsigned int from)
{
	for (unsigned int i = 0; i < con.nr; i++) {
		unsigned int k = (from + i) % con.nr;

		if (vm_running(&con.vms[k])) {
			con.focus = k;
			return true;
		}
	}
	return false;
}

static void help(void)
{
	printk(LOG_OUT, "Strata: console keys: Ctrl-a 1..%u focus that VM, "
	       "Ctrl-a n the next one, Ctrl-a ? this help, Ctrl-a d dump its "
	       "stage-2 roots, Ctrl-a x stop every VM, Ctrl-a Ctrl-a send "
	       "Ctrl-a\n", con.nr);
	for (unsigned int i = 0; i < con.nr; i++) {
		printk(LOG_OUT, "Strata: console: %c%u %s%s\n",
		       i == con.focus ? '*' : ' ', i + 1, con.vms[i].name,
		       vm_running(&con.vms[i]) ? "" : " (ended)");
	}
}

static void queue_key(uint8_t c)
{
	struct vm *vm = focused();

	if (!vm) {
		return;
	}
	if (!vm->con_rx || vm->con_in_len == VM_CONSOLE_INPUT) {
		if (!vm->con_dropped++) {
			printk(LOG_OUT, "Strata: console: vm %s %s; keys for it "
			       "are dropped\n", vm->name, vm->con_rx ?
			       "does not read its UART" : "has no UART");
		}
		return;
	}
	vm->con_in[vm->con_in_len++] = c;
}

static void dump_line(void *arg, const char *line)
{
	struct vm *vm = arg;

	printk(LOG_OUT, "Strata: dump: vm %s:   %s\n", vm->name, line);
}

/*
 * Ctrl-a d: the canonical stage-2 dump (s2pt_dump(), the text the tests
 * compare) of every root of the focused VM, each headed by its role and
 * reference count. Read-only: nothing in the tables changes.
 */
static void dump_roots(void)
{
	struct vm *vm = focused();
	unsigned int n = 0;

	if (!vm) {
		printk(LOG_OUT, "Strata: console: no running VM to dump\n");
		return;
	}
	for (struct s2_root *r = vm->mmu.list; r; r = r->next, n++) {
		printk(LOG_OUT, "Strata: dump: vm %s root %u: view %u%s%s%s, %u reference%s\n",
		       vm->name, n, r->role.view,
		       r->role.mirror ? ", mirror" : "",
		       r->role.ve ? ", #VE" : "",
		       r->role.invalid ? ", invalid" : "", r->refcount,
		       r->refcount == 1 ? "" : "s");
		s2pt_dump(&r->pt, dump_line, vm);
	}
	printk(LOG_OUT, "Strata: dump: vm %s: %u root%s\n", vm->name, n,
	       n == 1 ? "" : "s");
}

static void escape_command(uint8_t c)
{
	switch (c) {
	case ESC_KEY:
		queue_key(ESC_KEY);
		return;
	case 'n':
		if (focus_from(con.focus + 1)) {
			say_focus();
		}
		return;
	case '?':
	case 'h':
		help();
		return;
	case 'd':
		dump_roots();
		return;
	case 'x':
		printk(LOG_OUT, "Strata: console: stopping every VM "
		       "(Ctrl-a x)\n");
		for (unsigned int i = 0; i < con.nr; i++) {
			if (vm_running(&con.vms[i])) {
				vm_fail(&con.vms[i], "at the console (Ctrl-a x)");
			}
		}
		return;
	}
	if (c >= '1' && c <= '9') {
		unsigned int k = c - '1';

		if (k < con.nr && vm_running(&con.vms[k])) {
			con.focus = k;
			say_focus();
		} else {
			printk(LOG_OUT, "Strata: console: there is no running "
			       "VM %c (Ctrl-a ? lists them)\n", c);
		}
		return;
	}
	printk(LOG_OUT, "Strata: console: Ctrl-a 0x%02x is no command "
	       "(Ctrl-a ? for help)\n", c);
}

static void key(uint8_t c)
{
	if (con.escape) {
		con.escape = false;
		escape_command(c);
	} else if (c == ESC_KEY) {
		con.escape = true;
	} else {
		queue_key(c);
	}
}

/* Give @vm's UART what it takes of the keys waiting for it. */
static void feed(struct vm *vm)
{
	unsigned int took;

	if (!vm->con_in_len || !vm->con_rx || !vm_running(vm)) {
		return;
	}
	took = vm->con_rx(vm, vm->con_rx_priv, vm->con_in, vm->con_in_len);
	if (took > vm->con_in_len) {
		WARN_ON_ONCE(1);
		took = vm->con_in_len;
	}
	vm->con_in_len -= took;
	memmove(vm->con_in, vm->con_in + took, vm->con_in_len);
	if (took) {
		vm->con_dropped = 0;
	}
}

void vm_console_start(struct vm *vms, unsigned int nr)
{
	con.vms = vms;
	con.nr = nr;
	con.escape = false;
	con.started = console_can_read() && focus_from(0);
	if (con.started) {
		say_focus();
	}
}

void vm_console_poll(struct vm *vms, unsigned int nr)
{
	int c;

	if (!con.started || vms != con.vms || nr != con.nr) {
		return;
	}
	if (!focused() && focus_from(con.focus + 1)) {
		say_focus();	/* the focused VM ended */
	}
	for (unsigned int i = 0; i < POLL_MAX && (c = console_getc()) >= 0;
	     i++) {
		key((uint8_t)c);
	}
	for (unsigned int i = 0; i < nr; i++) {
		feed(&vms[i]);
	}
}
