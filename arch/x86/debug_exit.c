// SPDX-License-Identifier: MIT
/*
 * QEMU's isa-debug-exit device, on by default in every x86 VM at ports
 * 0xf4-0xf7 (QEMU's `iobase=0xf4,iosize=4`): a write of value V (of any
 * width) ends the VM with exit status (V << 1) | 1, which is what a test
 * kernel built for QEMU expects its harness to see. Strata's verdict
 * follows the convention of those harnesses (kvm-unit-tests among them):
 * status 1, a write of 0, is a good end; any other value ends the VM as
 * failed. Reads return all ones, like an unclaimed port.
 */
#include <arch/vmx_run.h>
#include <lib/printk.h>
#include <vmm/vm.h>

#define DEBUG_EXIT_PORT		0xf4
#define DEBUG_EXIT_SIZE		4

static int debug_exit_read(struct vcpu *v, struct io_device *d, uint64_t off,
			   unsigned int size, uint64_t *val)
{
	(void)v;
	(void)d;
	(void)off;
	*val = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	return 0;
}

static int debug_exit_write(struct vcpu *v, struct io_device *d, uint64_t off,
			    unsigned int size, uint64_t val)
{
	uint64_t status = (val << 1) | 1;

	(void)d;
	(void)off;
	(void)size;
	pr_info("vm %s: isa-debug-exit: 0x%llx written, exit status %llu\n",
		v->vm->name, (unsigned long long)val,
		(unsigned long long)status);
	vm_power_off(v->vm, status == 1 ? 0 : (long)status);
	return 0;
}

static const struct io_device_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

int x86_debug_exit_add(struct vm *vm)
{
	struct io_device d = {
		.name = "isa-debug-exit",
		.space = IO_PIO,
		.base = DEBUG_EXIT_PORT,
		.size = DEBUG_EXIT_SIZE,
		.ops = &debug_exit_ops,
	};

	return vm_add_device(vm, &d);
}
