// SPDX-License-Identifier: MIT
/*
 * The arm64 part of a VM: its emulated devices where the guest memory map
 * (arch/guest_layout.h) puts them, and the DTB its vCPU 0 finds in x0.
 */
#include <arch/guest.h>
#include <arch/guest_dtb.h>
#include <arch/guest_layout.h>
#include <arch/sysreg.h>
#include <lib/printk.h>
#include <vmm/devices.h>
#include <vmm/vm.h>

/*
 * Strata wrote the guest's RAM (zeroes, kernel, initrd, DTB) through its
 * cacheable mapping, but a guest starts with its MMU and caches off: without
 * FWB forcing its accesses cacheable, clean and invalidate those lines to
 * the point of coherency so that it reads what was written (and no line Strata
 * holds hides what it writes), and drop stale instructions.
 */
static void ram_clean_to_poc(const struct vm *vm)
{
	uint64_t line = 4ULL << ((read_sysreg(ctr_el0) >> 16) & 0xf);
	uint64_t end = vm->ram_pa + vm->ram_size;

	for (uint64_t a = ALIGN_DOWN(vm->ram_pa, line); a < end; a += line) {
		__asm__ volatile("dc civac, %0" : : "r"(a) : "memory");
	}
	dsb(ish);
	__asm__ volatile("ic ialluis" : : : "memory");
	dsb(ish);
	isb();
}

int arch_vm_init(struct vm *vm)
{
	int ret;

	ret = dev_pl011_add(vm, GUEST_PL011_BASE, GUEST_PL011_INTID);
	if (!ret) {
		ret = dev_testdev_add(vm, IO_MMIO, GUEST_TESTDEV_BASE);
	}
	if (!ret) {
		ret = vgic_init(vm);
	}
	if (ret) {
		pr_err("vm %s: cannot add its devices (%d)\n", vm->name, ret);
		return ret;
	}
	/* The virtual counter starts at the physical one (CNTVOFF_EL2 0). */
	vm->arch.cntvoff = 0;
	ret = guest_dtb_build(vm);
	if (!ret && !(vm->mmu.flags & S2PT_F_FWB)) {
		ram_clean_to_poc(vm);
	}
	return ret;
}

int arch_vm_irq_line(struct vm *vm, unsigned int line, bool level)
{
	return vgic_set_spi_level(vm, line, level);
}

void arch_vm_destroy(struct vm *vm)
{
	/* Devices and DTB live in the VM's struct and RAM: nothing to free. */
	vm->arch.dtb_gpa = 0;
	vm->arch.dtb_size = 0;
}
