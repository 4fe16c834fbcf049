// SPDX-License-Identifier: MIT
/*
 * The PC's reset control register, one byte at I/O port 0xcf9, as Intel's
 * PCH datasheets describe it and QEMU's PIIX/ICH9 models have it:
 *   bit 1 SYS_RST   hard (1) or soft (0) reset,
 *   bit 2 RST_CPU   a write that takes it from 0 to 1 starts the reset,
 *   bit 3 FULL_RST  power cycle on a hard reset.
 * The other bits read as 0 and ignore writes. Every kind of reset is the
 * same for a VM: vm_request_reset(), which restarts the VM from its
 * configuration (or ends it, `on_reset = stop`); the register is 0 again
 * after it. Linux's `reboot=pci` writes SYS_RST, then SYS_RST | RST_CPU.
 * The register is always there: on a PC it is part of the chipset. Its
 * port lies inside PCI configuration mechanism #1's CONFIG_ADDRESS
 * (0xcf8-0xcfb), so pci.c owns the range and hands this register its byte
 * accesses at 0xcf9 (x86_reset_ctl_read/write).
 */
#include <arch/pcdev.h>
#include <arch/vmx_run.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/vm.h>

#define RESET_CTL_SYS_RST	(1U << 1)
#define RESET_CTL_RST_CPU	(1U << 2)
#define RESET_CTL_FULL_RST	(1U << 3)
#define RESET_CTL_BITS		(RESET_CTL_SYS_RST | RESET_CTL_RST_CPU | \
				 RESET_CTL_FULL_RST)

static uint8_t reset_ctl[VM_MAX_VMS];

uint8_t x86_reset_ctl_read(struct vm *vm)
{
	return reset_ctl[vm->index];
}

void x86_reset_ctl_write(struct vcpu *v, uint8_t val)
{
	uint8_t *reg = &reset_ctl[v->vm->index], old = *reg;

	*reg = val & RESET_CTL_BITS;
	if (!(old & RESET_CTL_RST_CPU) && (*reg & RESET_CTL_RST_CPU)) {
		vm_request_reset(v->vm, *reg & RESET_CTL_SYS_RST ?
				 "hard reset through port 0xcf9" :
				 "soft reset through port 0xcf9");
	}
}

/* The register's reset value; its port is pci.c's (x86_pci_add()). */
int x86_reset_ctl_add(struct vm *vm)
{
	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	reset_ctl[vm->index] = 0;
	return 0;
}
