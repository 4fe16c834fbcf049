/* SPDX-License-Identifier: MIT */
/*
 * The device tree Strata generates for each arm64 guest: what the VM has
 * (RAM, vCPUs, PSCI through HVC, the emulated PL011, the generic timer, the
 * GICv3 or GICv2, the MMIO test device, its virtio-mmio devices) and its /chosen boot arguments. The guest
 * finds its address in x0 at entry (the Linux arm64 boot protocol).
 */
#ifndef STRATA_ARCH_ARM64_GUEST_DTB_H
#define STRATA_ARCH_ARM64_GUEST_DTB_H

#include <types.h>

struct vm;

/* Largest guest DTB Strata builds (ample for the nodes above). */
#define GUEST_DTB_MAX		(4 * SZ_4K)

/**
 * struct guest_dtb_desc - what the guest DTB describes.
 * @ram_base: guest-physical start of RAM.
 * @ram_size: bytes of RAM.
 * @cpus: number of vCPUs (MPIDR Aff0 0 .. @cpus - 1).
 * @bootargs: /chosen/bootargs ("" for none).
 * @initrd_start: guest-physical start of the initrd, 0 when none.
 * @initrd_end: its end (exclusive).
 * @gic_version: 2 for a GICv2 (vgic_v2.c), else a GICv3.
 * @nr_virtio: virtio-mmio devices ("virtio,mmio" nodes, include/vmm/virtio.h).
 * @virtio_base: their windows' guest-physical bases.
 * @virtio_intid: their interrupts (GIC INTIDs of SPIs, level-sensitive).
 */
struct guest_dtb_desc {
	gpa_t ram_base;
	uint64_t ram_size;
	unsigned int cpus;
	const char *bootargs;
	gpa_t initrd_start;
	gpa_t initrd_end;
	unsigned int gic_version;
	unsigned int nr_virtio;
	gpa_t virtio_base[4];
	unsigned int virtio_intid[4];
};

/**
 * guest_dtb_write() - write the DTB for @d into @buf.
 * @buf: 8-byte aligned buffer.
 * @size: its size in bytes.
 * @d: what to describe.
 *
 * Return: the DTB's total size, or a negative libfdt error (-FDT_ERR_*),
 * for example when @buf is too small.
 */
int guest_dtb_write(void *buf, size_t size, const struct guest_dtb_desc *d);

/**
 * guest_dtb_build() - generate @vm's DTB and place it in guest RAM.
 * @vm: a VM whose RAM, kernel and initrd are in place.
 *
 * The DTB goes to a page-aligned range that vm_place() finds (it overlaps
 * neither the kernel image nor the initrd); vm->arch.dtb_gpa and dtb_size
 * say where. Errors are printed.
 *
 * Return: 0, -EINVAL when the description does not fit in a DTB, -ENOMEM
 * when guest RAM has no room for it.
 */
int guest_dtb_build(struct vm *vm);

#endif
