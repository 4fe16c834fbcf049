/* SPDX-License-Identifier: MIT */
/*
 * A scripted fake architecture for the host tests of vmm/: VMs get the MMIO
 * test device at 0xfe000000, vCPUs do what fake_script[] says for their VM
 * each slice, and the hooks count their calls.
 */
#ifndef STRATA_TESTS_VMM_FAKE_ARCH_H
#define STRATA_TESTS_VMM_FAKE_ARCH_H

#include <vmm/vm.h>

/* What arch_vcpu_run() does for the VM with that index, slice by slice. */
enum fake_script {
	FAKE_SPIN,		/* never ends by itself */
	FAKE_OFF_AFTER_3,	/* powers off with status 0 in its 3rd slice */
	FAKE_FAIL_AFTER_2,	/* is stopped for an error in its 2nd slice */
	FAKE_CPU_OFF,		/* its only vCPU turns itself off */
};

extern enum fake_script fake_script[VM_MAX_VMS];
extern unsigned int fake_vm_inits, fake_vm_destroys;
extern unsigned int fake_vcpu_inits, fake_vcpu_destroys;

/* Interrupt lines as the devices set them (arch_vm_irq_line()). */
extern bool fake_irq_level[64];
extern unsigned int fake_irq_changes;
/* virtio places (arch_virtio_slot()) and the RNG (arch_random_u64()). */
#define FAKE_VIRTIO_BASE	0xfe100000ULL
#define FAKE_VIRTIO_LINE	16
extern bool fake_has_rng;
extern uint8_t fake_rng_byte;

#endif
