// SPDX-License-Identifier: MIT
/*
 * The first C code, called by head.S with the MMU and caches off: refuse any
 * exception level but EL2, and build the initial EL2 identity map.
 *
 * Everything here runs before the DTB is parsed, so the only console is the
 * early PL011 at QEMU virt's address (PL011_QEMU_VIRT_BASE). It is used only
 * to report why Strata cannot start, and mapped only then: on another board
 * that address may be anything.
 */
#include <arch/mmu.h>
#include <core/arch.h>
#include <drivers/fdt.h>
#include <drivers/pl011.h>
#include <lib/printk.h>

#include "boot.h"

/* Status for arch_stop() when Strata was not entered at EL2. */
#define STOP_WRONG_EL	4

#define FDT_MAGIC_BE	0xd00dfeedU

extern char __image_start[], __image_end[];

void boot_refuse_el(unsigned long el) __noreturn;
uint64_t boot_early_mmu(paddr_t dtb, paddr_t load);

uint64_t boot_dtb_size;

void boot_early_console(void)
{
	/* Needed with the MMU on, harmless before: only tables are written. */
	if (el2_map(PL011_QEMU_VIRT_BASE, PL011_MMIO_SIZE, EL2_MEM_DEVICE)) {
		return;
	}
	pl011_console_init(PL011_QEMU_VIRT_BASE);
}

void boot_refuse_el(unsigned long el)
{
	pl011_console_init(PL011_QEMU_VIRT_BASE);
	pr_err("Strata must be entered at EL2 (entered at EL%lu); stopping\n",
	       el);
	arch_stop(STOP_WRONG_EL);
}

static uint32_t be32_at(paddr_t pa)
{
	return __builtin_bswap32(*(const volatile uint32_t *)(uintptr_t)pa);
}

/*
 * The DTB's size from its header, read with aligned loads (the MMU is off,
 * so memory is Device and unaligned accesses fault). 0 if it is no DTB:
 * boot_main() then reports why with libfdt's checks.
 */
static uint64_t early_dtb_size(paddr_t dtb)
{
	uint32_t size;

	if (!dtb || !IS_ALIGNED(dtb, 8) || dtb >= EL2_VA_LIMIT) {
		return 0;
	}
	if (be32_at(dtb) != FDT_MAGIC_BE) {
		return 0;
	}
	size = be32_at(dtb + 4);
	return size <= DTB_MAX_SIZE ? size : 0;
}

/* Throw away any cache lines for [start, end): the data there was written
 * with the caches off and memory holds the only current copy. */
static void dcache_inval_range(paddr_t start, paddr_t end)
{
	uint64_t ctr;
	uint64_t line;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ULL << ((ctr >> 16) & 0xf);
	for (paddr_t a = ALIGN_DOWN(start, line); a < end; a += line) {
		__asm__ volatile("dc ivac, %0" : : "r"(a) : "memory");
	}
	__asm__ volatile("dsb sy" : : : "memory");
}

static void early_map(paddr_t base, uint64_t size, enum el2_mem type,
		      const char *what)
{
	int ret = el2_map(base, size, type);

	if (ret) {
		/* The MMU is off: no mapping needed. */
		pl011_console_init(PL011_QEMU_VIRT_BASE);
		pr_err("boot: cannot map the %s at 0x%llx (%d); stopping\n",
		       what, (unsigned long long)base, ret);
		arch_stop(1);
	}
}

/*
 * Map what Strata touches before it knows the memory map: its own image and
 * the DTB. boot_main() adds RAM and the devices from the DTB. Returns the
 * value for TTBR0_EL2.
 */
uint64_t boot_early_mmu(paddr_t dtb, paddr_t load)
{
	uint64_t image_size = (uint64_t)(__image_end - __image_start);
	uint64_t dtb_size = early_dtb_size(dtb);

	early_map(load, image_size, EL2_MEM_NORMAL, "image");
	if (dtb_size) {
		early_map(dtb, dtb_size, EL2_MEM_NORMAL, "DTB");
		boot_dtb_size = dtb_size;
	}
	dcache_inval_range(load, load + image_size);
	return el2_root();
}
