// SPDX-License-Identifier: MIT
/*
 * Host tests of the emulated 16550 (vmm/dev_uart16550.c) through the real
 * port bus and guest console: what a driver writes and probes, register by
 * register, as a guest would see it.
 */
#include <string.h>

#include <core/console.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/devices.h>
#include <vmm/vm.h>

#include "harness.h"

#define COM1	0x3f8

static struct vm vms[2];

/* Ctrl-a x ends VMs through vm_fail() (vmm/run.c, not linked here). */
void vm_fail(struct vm *vm, const char *fmt, ...)
{
	(void)fmt;
	vm->state = VM_ENDED_ERROR;
}

/* What Strata's console printed, and the keys it will read. */
static char printed[2048];
static size_t printed_len;
static const char *keys;

static void capture_putc(char c)
{
	if (c != '\r' && printed_len < sizeof(printed) - 1) {
		printed[printed_len++] = c;
		printed[printed_len] = '\0';
	}
}

static const struct console capture = { "capture", capture_putc };

static int fake_getc(void)
{
	return keys && *keys ? (unsigned char)*keys++ : -1;
}

static void capture_console(const char *input)
{
	console_register(&capture);
	console_register_input(fake_getc);
	printed_len = 0;
	printed[0] = '\0';
	keys = input;
}

/*
 * Ctrl-a d prints a VM's roots with the core's s2pt_dump(); these VMs
 * have no roots (no stage-2 core is linked), so it is never reached.
 */
int s2pt_dump(const struct s2pt *pt, s2_dump_fn emit, void *arg)
{
	(void)pt;
	(void)emit;
	(void)arg;
	return -ENOSYS;
}

/* x86 has no interrupt controller for devices yet. */
/* The interrupt line as the 16550 last drove it, per VM (IRQ 4 only). */
static int irq_level[2] = { -1, -1 };
static unsigned int irq_calls;
static bool irq_refuse;

int arch_vm_irq_line(struct vm *vm, unsigned int line, bool level)
{
	irq_calls++;
	if (irq_refuse) {
		return -ENODEV;
	}
	if (line != 4) {
		return -EINVAL;
	}
	irq_level[vm - vms] = level;
	return 0;
}
static struct vm_config cfg = { .name = "u", .cpus = 1 };

static struct vcpu *setup(unsigned int i)
{
	struct vm *vm = &vms[i];

	memset(vm, 0, sizeof(*vm));
	vm->cfg = &cfg;
	vm->name = i ? "u1" : "u0";
	vm->index = i;
	vm->state = VM_RUNNING;
	vm->nr_vcpus = 1;
	vm->vcpus[0] = (struct vcpu){ .vm = vm, .state = VCPU_RUNNABLE };
	if (dev_uart16550_add(vm, COM1)) {
		return NULL;
	}
	return &vm->vcpus[0];
}

static uint64_t in(struct vcpu *v, unsigned int reg)
{
	uint64_t val = 0xdead;

	if (vm_io_access(v, IO_PIO, COM1 + reg, 1, false, &val)) {
		return 0xbad;
	}
	return val;
}

static int out(struct vcpu *v, unsigned int reg, uint8_t b)
{
	uint64_t val = b;

	return vm_io_access(v, IO_PIO, COM1 + reg, 1, true, &val);
}

/* THR bytes go to the VM's console line; LSR always says THR empty. */
static void thr_goes_to_console(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	CHECK_EQ(in(v, 5) & 0x60, 0x60);
	CHECK_EQ(out(v, 0, 'h'), 0);
	CHECK_EQ(out(v, 0, 'i'), 0);
	CHECK_EQ(vms[0].con_len, 2);
	CHECK(!memcmp(vms[0].con_line, "hi", 2));
	CHECK_EQ(in(v, 5) & 0x61, 0x60);
	CHECK_EQ(out(v, 0, '\n'), 0);
	CHECK_EQ(vms[0].con_len, 0);
}

/* With DLAB the first two ports are the divisor latch, not THR/IER. */
static void divisor_latch_behind_dlab(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	CHECK_EQ(out(v, 1, 0x03), 0);
	CHECK_EQ(out(v, 3, 0x83), 0);
	CHECK_EQ(out(v, 0, 0x01), 0);
	CHECK_EQ(out(v, 1, 0x00), 0);
	CHECK_EQ(vms[0].con_len, 0);		/* DLL write printed nothing */
	CHECK_EQ(in(v, 0), 0x01);
	CHECK_EQ(in(v, 1), 0x00);
	CHECK_EQ(in(v, 3), 0x83);
	CHECK_EQ(out(v, 3, 0x03), 0);
	CHECK_EQ(in(v, 1), 0x03);		/* IER kept */
	CHECK_EQ(in(v, 0), 0);			/* RBR, no data */
}

/* IIR: FIFO bits follow FCR; a THR-empty source is raised and acked. */
static void iir_fifo_and_thr_empty(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	CHECK_EQ(in(v, 2), 0x01);
	CHECK_EQ(out(v, 2, 0xc7), 0);
	CHECK_EQ(in(v, 2), 0xc1);
	CHECK_EQ(out(v, 1, 0x02), 0);		/* enable THR-empty */
	CHECK_EQ(in(v, 2), 0xc2);
	CHECK_EQ(in(v, 2), 0xc1);		/* reading IIR acked it */
	CHECK_EQ(out(v, 0, 'x'), 0);
	CHECK_EQ(in(v, 2), 0xc2);		/* THR empty again */
	CHECK_EQ(out(v, 2, 0x00), 0);
	CHECK_EQ(in(v, 2), 0x01);
}

/* Loopback: MCR outputs appear in MSR, THR bytes in RBR, not the console. */
static void loopback(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	CHECK_EQ(in(v, 6) & 0xf0, 0xb0);	/* DCD, DSR, CTS */
	CHECK_EQ(out(v, 4, 0x1a), 0);
	CHECK_EQ(in(v, 4), 0x1a);
	CHECK_EQ(in(v, 6) & 0xf0, 0x90);
	CHECK_EQ(out(v, 4, 0x15), 0);
	CHECK_EQ(in(v, 6) & 0xf0, 0x60);
	CHECK_EQ(out(v, 0, 'A'), 0);
	CHECK_EQ(out(v, 0, 'B'), 0);
	CHECK_EQ(vms[0].con_len, 0);
	CHECK_EQ(in(v, 5) & 0x01, 0x01);
	CHECK_EQ(in(v, 0), 'A');
	CHECK_EQ(in(v, 0), 'B');
	CHECK_EQ(in(v, 5) & 0x01, 0);
	CHECK_EQ(in(v, 0), 0);
	CHECK_EQ(out(v, 4, 0x0b), 0);
	CHECK_EQ(out(v, 0, 'C'), 0);
	CHECK_EQ(vms[0].con_len, 1);
}

/* Scratch keeps a byte; LSR/MSR writes are ignored. */
static void scratch_and_read_only(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	CHECK_EQ(out(v, 7, 0xa5), 0);
	CHECK_EQ(in(v, 7), 0xa5);
	CHECK_EQ(out(v, 5, 0x00), 0);
	CHECK_EQ(in(v, 5) & 0x60, 0x60);
	CHECK_EQ(out(v, 6, 0x00), 0);
	CHECK_EQ(in(v, 6) & 0xf0, 0xb0);
}

/* Wider accesses are refused: the bus reads them as unclaimed. */
static void wide_access_refused(void)
{
	struct vcpu *v = setup(0);
	uint64_t val = 0x4142;

	CHECK(v);
	CHECK_EQ(vm_io_access(v, IO_PIO, COM1, 2, true, &val), -ENODEV);
	CHECK_EQ(vms[0].con_len, 0);
	CHECK_EQ(vm_io_access(v, IO_PIO, COM1 + 4, 4, false, &val), -ENODEV);
}

/* Two VMs have two UARTs: state does not leak between them. */
static void per_vm_state(void)
{
	struct vcpu *a = setup(0), *b = setup(1);

	CHECK(a && b);
	CHECK_EQ(out(a, 7, 0x11), 0);
	CHECK_EQ(out(b, 7, 0x22), 0);
	CHECK_EQ(in(a, 7), 0x11);
	CHECK_EQ(in(b, 7), 0x22);
	CHECK_EQ(out(b, 0, 'b'), 0);
	CHECK_EQ(vms[0].con_len, 0);
	CHECK_EQ(vms[1].con_len, 1);
}

static unsigned int type(unsigned int i, const char *k)
{
	return vms[i].con_rx(&vms[i], vms[i].con_rx_priv, (const uint8_t *)k,
			     (unsigned int)strlen(k));
}

/* Received bytes: LSR.DR while any wait, RBR pops them in order. */
static void rx_to_rbr(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	CHECK_EQ(out(v, 2, 0x01), 0);		/* FIFOs on */
	CHECK_EQ(type(0, "ab"), 2);
	CHECK_EQ(in(v, 5) & 0x01, 0x01);
	CHECK_EQ(in(v, 0), 'a');
	CHECK_EQ(in(v, 0), 'b');
	CHECK_EQ(in(v, 5) & 0x01, 0);
	CHECK_EQ(out(v, 2, 0x00), 0);		/* 16450 mode: one byte */
	CHECK_EQ(type(0, "cd"), 1);
	CHECK_EQ(out(v, 4, 0x10), 0);		/* loopback: deaf outside */
	CHECK_EQ(in(v, 0), 'c');
	CHECK_EQ(type(0, "d"), 0);
}

/* IIR: character timeout below the trigger level, data at it. */
static void iir_rx_sources(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	CHECK_EQ(out(v, 2, 0x41), 0);		/* FIFO, trigger 4 */
	CHECK_EQ(out(v, 1, 0x01), 0);		/* ERBFI */
	CHECK_EQ(in(v, 2), 0xc1);
	CHECK_EQ(type(0, "ab"), 2);
	CHECK_EQ(in(v, 2), 0xcc);
	CHECK_EQ(type(0, "cd"), 2);
	CHECK_EQ(in(v, 2), 0xc4);
	for (int i = 0; i < 4; i++) {
		in(v, 0);
	}
	CHECK_EQ(in(v, 2), 0xc1);
}

/*
 * The IRQ 4 line: high while IIR has a source and MCR.OUT2 is set, low in
 * loopback (the OUT pins forced inactive), low again once the source is
 * served (RBR read, IIR read for THR empty).
 */
static void irq_line_follows_iir(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	irq_level[0] = -1;
	CHECK_EQ(out(v, 1, 0x01), 0);		/* ERBFI, OUT2 still clear */
	CHECK_EQ(type(0, "a"), 1);
	CHECK(irq_level[0] != 1);
	CHECK_EQ(out(v, 4, 0x08), 0);		/* OUT2: the line rises */
	CHECK_EQ(irq_level[0], 1);
	CHECK_EQ(in(v, 2), 0x04);		/* received data */
	CHECK_EQ(in(v, 0), 'a');
	CHECK_EQ(irq_level[0], 0);
	CHECK_EQ(out(v, 1, 0x02), 0);		/* ETBEI: THR empty at once */
	CHECK_EQ(irq_level[0], 1);
	CHECK_EQ(in(v, 2), 0x02);		/* reading IIR serves it */
	CHECK_EQ(irq_level[0], 0);
	CHECK_EQ(out(v, 0, 'x'), 0);		/* THR empties again */
	CHECK_EQ(irq_level[0], 1);
	CHECK_EQ(out(v, 4, 0x18), 0);		/* loopback: OUT2 inactive */
	CHECK_EQ(irq_level[0], 0);
	CHECK_EQ(out(v, 4, 0x08), 0);
	CHECK_EQ(irq_level[0], 1);
	CHECK_EQ(out(v, 1, 0x00), 0);
	CHECK_EQ(irq_level[0], 0);
}

/* A refused line (no interrupt controller) is said once. */
static void no_irq_said_once(void)
{
	struct vcpu *v = setup(0);

	CHECK(v);
	capture_console(NULL);
	log_level = LOG_WARN;
	irq_refuse = true;
	CHECK_EQ(out(v, 4, 0x08), 0);
	CHECK_EQ(out(v, 1, 0x02), 0);
	CHECK(strstr(printed, "vm u0: the 16550's interrupt (IRQ 4) has no "
		     "interrupt controller to go to") != NULL);
	printed_len = 0;
	CHECK_EQ(out(v, 1, 0x00), 0);
	CHECK_EQ(out(v, 1, 0x02), 0);
	irq_refuse = false;
	log_level = LOG_ERR - 1;
	CHECK_EQ(printed_len, 0);
}

/* Keys go to the focused VM; Ctrl-a 2 moves the focus, Ctrl-a Ctrl-a
 * sends a literal Ctrl-a. */
static void focus_and_escape(void)
{
	struct vcpu *a = setup(0), *b = setup(1);

	CHECK(a && b);
	capture_console("x\x01" "2y\x01\x01");
	vm_console_start(vms, 2);
	CHECK(strstr(printed, "keys go to vm u0 (1 of 2") != NULL);
	vm_console_poll(vms, 2);
	CHECK(strstr(printed, "keys go to vm u1 (2 of 2") != NULL);
	CHECK_EQ(in(a, 0), 'x');
	CHECK_EQ(in(a, 5) & 0x01, 0);
	CHECK_EQ(in(b, 0), 'y');
	vm_console_poll(vms, 2);		/* 16450 mode: one at a time */
	CHECK_EQ(in(b, 0), 0x01);
	CHECK_EQ(in(b, 5) & 0x01, 0);
}

/* Ctrl-a ? lists the VMs; unknown commands and absent VMs are said. */
static void help_and_bad_commands(void)
{
	CHECK(setup(0) && setup(1));
	capture_console("\x01?\x01z\x01" "7");
	vm_console_start(vms, 2);
	vm_console_poll(vms, 2);
	CHECK(strstr(printed, "Ctrl-a ? this help") != NULL);
	CHECK(strstr(printed, "*1 u0\n") != NULL);
	CHECK(strstr(printed, " 2 u1\n") != NULL);
	CHECK(strstr(printed, "Ctrl-a 0x7a is no command") != NULL);
	CHECK(strstr(printed, "no running VM 7") != NULL);
}

/* Keys wait while the receiver is full, and arrive once it has room. */
static void keys_wait_for_room(void)
{
	struct vcpu *v = setup(0);

	CHECK(v && setup(1));
	capture_console("pq");
	vm_console_start(vms, 2);
	vm_console_poll(vms, 2);		/* 16450 mode: 'p' only */
	CHECK_EQ(in(v, 0), 'p');
	CHECK_EQ(in(v, 5) & 0x01, 0);
	vm_console_poll(vms, 2);
	CHECK_EQ(in(v, 0), 'q');
}

/* A prompt is printed after a quiet round and later output continues
 * its line; any other output first ends that line. */
static void prompt_then_continued_line(void)
{
	struct vcpu *a = setup(0), *b = setup(1);

	CHECK(a && b);
	capture_console(NULL);
	out(a, 0, '$');
	out(a, 0, ' ');
	vm_console_round_end(&vms[0]);		/* it wrote this round */
	CHECK_EQ(printed_len, 0);
	vm_console_round_end(&vms[0]);		/* a quiet round */
	CHECK(!strcmp(printed, "[u0] $ "));
	out(a, 0, 'l');
	vm_console_round_end(&vms[0]);
	vm_console_round_end(&vms[0]);
	out(a, 0, 's');
	out(a, 0, '\n');
	CHECK(!strcmp(printed, "[u0] $ ls\n"));
	out(a, 0, '>');
	vm_console_round_end(&vms[0]);
	vm_console_round_end(&vms[0]);
	out(b, 0, 'B');
	out(b, 0, '\n');
	out(a, 0, '\n');
	CHECK(!strcmp(printed, "[u0] $ ls\n[u0] >\n[u1] B\n[u0]\n"));
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "uart");
	log_level = LOG_ERR - 1;
	RUN_TEST(thr_goes_to_console);
	RUN_TEST(divisor_latch_behind_dlab);
	RUN_TEST(iir_fifo_and_thr_empty);
	RUN_TEST(loopback);
	RUN_TEST(scratch_and_read_only);
	RUN_TEST(wide_access_refused);
	RUN_TEST(per_vm_state);
	RUN_TEST(rx_to_rbr);
	RUN_TEST(iir_rx_sources);
	RUN_TEST(irq_line_follows_iir);
	RUN_TEST(no_irq_said_once);
	RUN_TEST(focus_and_escape);
	RUN_TEST(help_and_bad_commands);
	RUN_TEST(keys_wait_for_room);
	RUN_TEST(prompt_then_continued_line);
	return test_done();
}
