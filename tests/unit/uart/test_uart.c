// SPDX-License-Identifier: MIT
/*
 * Host tests of the emulated 16550 (vmm/dev_uart16550.c) through the real
 * port bus and guest console: what a driver writes and probes, register by
 * register, as a guest would see it.
 */
#include <string.h>

#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/devices.h>
#include <vmm/vm.h>

#include "harness.h"

#define COM1	0x3f8

static struct vm vms[2];
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
	return test_done();
}
