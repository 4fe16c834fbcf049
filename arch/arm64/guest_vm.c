// SPDX-License-Identifier: MIT
/*
 * The arm64 part of a VM: its emulated devices where the guest memory map
 * (arch/guest_layout.h) puts them, and the DTB its vCPU 0 finds in x0.
 */
#include <arch/guest_dtb.h>
#include <arch/guest_layout.h>
#include <lib/printk.h>
#include <vmm/devices.h>
#include <vmm/vm.h>

int arch_vm_init(struct vm *vm)
{
	int ret;

	ret = dev_pl011_add(vm, GUEST_PL011_BASE);
	if (!ret) {
		ret = dev_testdev_add(vm, IO_MMIO, GUEST_TESTDEV_BASE);
	}
	if (ret) {
		pr_err("vm %s: cannot add its devices (%d)\n", vm->name, ret);
		return ret;
	}
	/* The virtual counter starts at the physical one (CNTVOFF_EL2 0). */
	vm->arch.cntvoff = 0;
	return guest_dtb_build(vm);
}

void arch_vm_destroy(struct vm *vm)
{
	/* Devices and DTB live in the VM's struct and RAM: nothing to free. */
	vm->arch.dtb_gpa = 0;
	vm->arch.dtb_size = 0;
}
