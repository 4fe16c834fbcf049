// SPDX-License-Identifier: MIT
/*
 * The arm64 part of a VM: its emulated devices where the guest memory map
 * (arch/guest_layout.h) puts them, and the DTB its vCPU 0 finds in x0.
 */
#include <arch/guest.h>
#include <arch/guest_dtb.h>
#include <arch/guest_layout.h>
#include <arch/sysreg.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/devices.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>

static void clean_inval_to_poc(paddr_t pa, uint64_t size)
{
	uint64_t line = 4ULL << ((read_sysreg(ctr_el0) >> 16) & 0xf);

	for (uint64_t a = ALIGN_DOWN(pa, line); a < pa + size; a += line) {
		__asm__ volatile("dc civac, %0" : : "r"(a) : "memory");
	}
}

/*
 * Strata wrote the guest's RAM (zeroes, kernel, initrd, DTB) through its
 * cacheable mapping, but a guest starts with its MMU and caches off: without
 * FWB forcing its accesses cacheable, clean and invalidate those lines to
 * the point of coherency so that it reads what was written (and no line Strata
 * holds hides what it writes), and drop stale instructions. RAM is zeroed
 * lazily (vmm/ramzero.c): only the chunks zeroed so far hold anything Strata
 * wrote; arch_ram_zeroed() cleans each later one as it is zeroed.
 */
static void ram_clean_to_poc(const struct vm *vm)
{
	const struct memslot *ms = &vm->memslots[0];

	for (uint64_t off = 0; off < ms->size; off += VM_ZERO_CHUNK) {
		uint64_t size = MIN(VM_ZERO_CHUNK, ms->size - off);

		if (vm_ram_is_zeroed(ms, off, size)) {
			clean_inval_to_poc(ms->pa + off, size);
		}
	}
	dsb(ish);
	__asm__ volatile("ic ialluis" : : : "memory");
	dsb(ish);
	isb();
}

void arch_ram_zeroed(struct vm *vm, paddr_t pa, uint64_t size)
{
	if (arm64_mte()) {
		arm64_mte_clear_tags(pa, size);	/* mte.c: tags go with pages */
	}
	/* Before the VM is built, ram_clean_to_poc() covers the chunk. */
	if (!vm->arch_live || (vm->mmu.flags & S2PT_F_FWB)) {
		return;
	}
	clean_inval_to_poc(pa, size);
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
	/* After the vGIC: a device's reset sets its interrupt line. */
	ret = vm_virtio_add(vm);
	if (ret) {
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

int arch_virtio_slot(struct vm *vm, unsigned int n, gpa_t *base,
		     unsigned int *line)
{
	(void)vm;
	if (n >= VM_MAX_VIRTIO) {
		return -ENOSPC;
	}
	*base = GUEST_VIRTIO_BASE + n * VIRTIO_MMIO_WINDOW;
	*line = GUEST_VIRTIO_INTID + n;
	return 0;
}

/* ID_AA64ISAR0_EL1.RNDR, bits 63:60: FEAT_RNG. */
bool arch_has_random(void)
{
	return (read_sysreg(id_aa64isar0_el1) >> 60) & 0xf;
}

/* One RNDR read: false when it reports failure (PSTATE.Z set). */
bool arch_random_u64(uint64_t *v)
{
	uint64_t ok;

	__asm__ volatile("mrs %0, s3_3_c2_c4_0\n\tcset %1, ne"
			 : "=r"(*v), "=r"(ok) : : "cc");
	return ok;
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
