// SPDX-License-Identifier: MIT
/*
 * The scripted fake architecture the host tests of vmm/ link with
 * (tests/unit/vmm/fake_arch.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/devices.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>

#include "fake_arch.h"

const uint16_t arch_elf_machine = 62;
const gpa_t arch_guest_ram_base = 0;
const unsigned int arch_guest_ia_bits = 40;
const bool arch_unbacked_fetch_aborts = false;

/* ---- The fake architecture ---------------------------------------------- */

enum fake_script fake_script[VM_MAX_VMS];
unsigned int fake_vm_inits, fake_vm_destroys;
unsigned int fake_vcpu_inits, fake_vcpu_destroys;

int arch_vm_init(struct vm *vm)
{
	fake_vm_inits++;
	return dev_testdev_add(vm, IO_MMIO, 0xfe000000);
}

void arch_ram_zeroed(struct vm *vm, paddr_t pa, uint64_t size)
{
	(void)vm;
	(void)pa;
	(void)size;
}

void arch_vm_destroy(struct vm *vm)
{
	(void)vm;
	fake_vm_destroys++;
}

int arch_vcpu_init(struct vcpu *v)
{
	(void)v;
	fake_vcpu_inits++;
	return 0;
}

void arch_vcpu_destroy(struct vcpu *v)
{
	(void)v;
	fake_vcpu_destroys++;
}

void arch_vcpu_drop_roots(struct vcpu *v)
{
	(void)v;
}

void arch_vcpu_run(struct vcpu *v)
{
	switch (fake_script[v->vm->index]) {
	case FAKE_SPIN:
		break;
	case FAKE_OFF_AFTER_3:
		if (v->slices == 3) {
			vm_power_off(v->vm, 0);
		}
		break;
	case FAKE_FAIL_AFTER_2:
		if (v->slices == 2) {
			vm_fail(v->vm, "scripted failure");
		}
		break;
	case FAKE_CPU_OFF:
		v->state = VCPU_STOPPED;
		break;
	}
}


/* ---- Devices: interrupt lines, virtio places, a scripted RNG ------------- */

bool fake_irq_level[64];
unsigned int fake_irq_changes;
bool fake_has_rng = true;
uint8_t fake_rng_byte;

int arch_vm_irq_line(struct vm *vm, unsigned int line, bool level)
{
	(void)vm;
	if (line >= 64) {
		return -EINVAL;
	}
	if (fake_irq_level[line] != level) {
		fake_irq_changes++;
	}
	fake_irq_level[line] = level;
	return 0;
}

int arch_virtio_slot(struct vm *vm, unsigned int n, gpa_t *base,
		     unsigned int *line)
{
	(void)vm;
	*base = FAKE_VIRTIO_BASE + n * VIRTIO_MMIO_WINDOW;
	*line = FAKE_VIRTIO_LINE + n;
	return 0;
}

bool arch_has_random(void)
{
	return fake_has_rng;
}

/* Counts up from fake_rng_byte, one byte of each value at a time. */
bool arch_random_u64(uint64_t *v)
{
	uint64_t x = 0;

	if (!fake_has_rng) {
		return false;
	}
	for (unsigned int i = 0; i < 8; i++) {
		x |= (uint64_t)++fake_rng_byte << (8 * i);
	}
	*v = x;
	return true;
}

/* No secure module in the fake architecture (arch_secure_*, vm.h). */
int arch_secure_vm_build(struct vm *vm)
{
	(void)vm;
	return -EOPNOTSUPP;
}

void arch_secure_vm_teardown(struct vm *vm)
{
	(void)vm;
}

void arch_secure_vm_release(struct vm *vm)
{
	(void)vm;
}

bool arch_secure_hypercall(struct vcpu *v, uint64_t fn, const uint64_t a[3],
			   uint64_t *value, long *status)
{
	(void)v;
	(void)fn;
	(void)a;
	(void)value;
	(void)status;
	return false;
}

bool arch_secure_host_access(struct vm *vm, gpa_t gpa, uint64_t len)
{
	(void)vm;
	(void)gpa;
	(void)len;
	return true;
}

/* The scheduler's per-CPU hooks (include/core/percpu.h): one host CPU. */
struct pcpu *this_pcpu(void)
{
	return &pcpus[0];
}

unsigned int arch_start_cpus(unsigned int max)
{
	(void)max;
	return 1;
}

void arch_kick_cpu(const struct pcpu *c)
{
	(void)c;
}

uint64_t arch_ticks(void)
{
	return 0;
}

uint64_t arch_ticks_hz(void)
{
	return 1000;
}

void arch_cpu_idle(uint64_t until)
{
	(void)until;
}
