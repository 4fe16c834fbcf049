/* SPDX-License-Identifier: MIT */
/*
 * Emulated devices (vmm/dev_*.c), generic: each registers itself on a VM's
 * bus with vm_add_device() and prints through the VM's console.
 */
#ifndef STRATA_VMM_DEVICES_H
#define STRATA_VMM_DEVICES_H

#include <vmm/vm.h>

/*
 * An ARM PL011 UART at @base (4 KiB window), its interrupt on the VM's line
 * @irq (arch_vm_irq_line()); output goes to the VM console, and it is the
 * VM's console input.
 */
int dev_pl011_add(struct vm *vm, gpa_t base, unsigned int irq);

/*
 * A 16550 UART at I/O port @port (8 ports); output goes to the VM console,
 * and it is the VM's console input (received bytes in RBR, polled through
 * LSR.DR; the interrupt goes to ISA IRQ 4 when the architecture has an
 * interrupt controller to deliver it, which x86 does not have yet).
 */
int dev_uart16550_add(struct vm *vm, uint16_t port);

/*
 * The MMIO test device (vmm/dev_testdev.c), a 4 KiB window at @base, used by
 * the test guests to check the MMIO paths:
 *
 *   0x000-0x0ff  scratch: 256 bytes of device memory. Reads and writes of 1,
 *                2, 4 or 8 bytes at offsets aligned to their size store and
 *                return little-endian bytes; a misaligned access is refused.
 *   0x100  LAST  (read-only, 8 bytes): the previous scratch access:
 *                bits 7:0 its size, bit 8 set for a write, bits 31:16 its
 *                offset, bits 63:32 the number of scratch accesses so far.
 *   0x108  WVAL  (read-only, 8 bytes): the value of the last scratch write
 *                as the device received it (zero-extended from its size).
 *
 * Reads of LAST and WVAL must be 8 bytes wide; they do not change LAST.
 * Everything else in the window is refused (unclaimed semantics).
 */
#define TESTDEV_SCRATCH		0x000
#define TESTDEV_SCRATCH_SIZE	0x100
#define TESTDEV_LAST		0x100
#define TESTDEV_WVAL		0x108
#define TESTDEV_SIZE		0x1000
int dev_testdev_add(struct vm *vm, enum io_space space, uint64_t base);

#endif
