/* SPDX-License-Identifier: MIT */
/*
 * The guest-physical memory map of an arm64 VM (close to QEMU virt's, so
 * guests written for virt find their devices where they expect them).
 */
#ifndef STRATA_ARCH_ARM64_GUEST_LAYOUT_H
#define STRATA_ARCH_ARM64_GUEST_LAYOUT_H

#define GUEST_GICD_BASE		0x08000000UL	/* GICv3 distributor (64 KiB) */
#define GUEST_GICC_BASE		0x08010000UL	/* GICv2 CPU interface (8 KiB) */
#define GUEST_ITS_BASE		0x08080000UL	/* GICv3 ITS (128 KiB) */
#define GUEST_ITS_SIZE		0x20000UL
/* The DeviceID of a vCPU's own GITS_TRANSLATER writes (arch/vits.h). */
#define GUEST_ITS_CPU_DEVID	0xffffU
#define GUEST_GICR_BASE		0x080a0000UL	/* redistributors, 128 KiB each */
#define GUEST_PL011_BASE	0x09000000UL	/* emulated PL011 (4 KiB) */
#define GUEST_PL011_INTID	33		/* its interrupt: GIC SPI 1 */
#define GUEST_TESTDEV_BASE	0x0a000000UL	/* MMIO test device (4 KiB) */
/* virtio-mmio devices: 4 KiB windows from here, SPI 16 + n (INTID 48 + n). */
#define GUEST_VIRTIO_BASE	0x0a100000UL
#define GUEST_VIRTIO_INTID	48
#define GUEST_RAM_BASE		0x40000000UL	/* RAM (arch_guest_ram_base) */

#endif
