// SPDX-License-Identifier: MIT
/*
 * paging32: a 32-bit multiboot guest that turns on each paging mode a
 * 32-bit kernel can use and reaches the MMIO test device through a linear
 * address other than its guest-physical one (0x80000000), so that Strata
 * must translate the faulting instruction's address through the guest's own
 * tables to emulate it (arch/x86/vmx_mmio.c):
 *   - 32-bit paging, code in a 4 MiB (PSE) page;
 *   - 32-bit paging, code in 4 KiB pages;
 *   - PAE paging, code in a 2 MiB page, turned on by a CR0 write that also
 *     sets CR0.NE, which Strata emulates: it must load the four PDPTEs.
 * Each mode writes and reads back a value of the device's scratch area.
 */
#include "guest.h"

#define CR0_NE		(1u << 5)
#define CR0_PG		(1u << 31)
#define CR4_PSE		(1u << 4)
#define CR4_PAE		(1u << 5)
#define PTE_P		1u
#define PTE_RW		2u
#define PTE_PCD		0x10u
#define PTE_PS		0x80u
#define DEV_LINEAR	0x80000000u

static uint32_t pd32[1024] __attribute__((aligned(4096)));
static uint32_t pt32[1024] __attribute__((aligned(4096)));
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pd_lo[512] __attribute__((aligned(4096)));
static uint64_t pd_hi[512] __attribute__((aligned(4096)));

#define DEFINE_CR(n)							\
static __attribute__((unused)) uint32_t read_cr##n(void)		\
{									\
	uint32_t v;							\
									\
	__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));		\
	return v;							\
}									\
static void write_cr##n(uint32_t v)					\
{									\
	__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");	\
}

DEFINE_CR(0)
DEFINE_CR(3)
DEFINE_CR(4)

/* Write and read back the device's scratch word at 0x10 via DEV_LINEAR. */
static void mmio_check(const char *mode, uint32_t v)
{
	volatile uint32_t *dev = (volatile uint32_t *)DEV_LINEAR;
	uint32_t got;

	dev[4] = v;
	got = dev[4];
	EXPECT(got == v, "%s: scratch read back 0x%x, wrote 0x%x", mode, got,
	       v);
	gprintf("paging32: %s: device reached at 0x%x\n", mode, DEV_LINEAR);
}

static void pse_4m(void)
{
	pd32[0] = PTE_P | PTE_RW | PTE_PS;
	pd32[DEV_LINEAR >> 22] = GUEST_TESTDEV_BASE | PTE_P | PTE_RW |
				 PTE_PCD | PTE_PS;
	write_cr4(read_cr4() | CR4_PSE);
	write_cr3((uint32_t)(uintptr_t)pd32);
	write_cr0(read_cr0() | CR0_PG);
	mmio_check("32-bit paging, 4 MiB pages", 0x11223344);
}

static void pages_4k(void)
{
	for (uint32_t i = 0; i < 1024; i++) {
		pt32[i] = (i << 12) | PTE_P | PTE_RW;
	}
	pd32[0] = (uint32_t)(uintptr_t)pt32 | PTE_P | PTE_RW;
	write_cr3((uint32_t)(uintptr_t)pd32);	/* flushes the old PDE */
	mmio_check("32-bit paging, 4 KiB pages", 0x55667788);
}

static void pae(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
	pd_lo[0] = PTE_P | PTE_RW | PTE_PS;
	pd_lo[1] = (2u << 20) | PTE_P | PTE_RW | PTE_PS;
	pd_hi[0] = GUEST_TESTDEV_BASE | PTE_P | PTE_RW | PTE_PCD | PTE_PS;
	pdpt[0] = (uint32_t)(uintptr_t)pd_lo | PTE_P;
	pdpt[DEV_LINEAR >> 30] = (uint32_t)(uintptr_t)pd_hi | PTE_P;
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((uint32_t)(uintptr_t)pdpt);
	EXPECT(!(read_cr0() & CR0_NE), "CR0.NE set before the PAE switch");
	/* NE changes too: Strata emulates this write and loads the PDPTEs. */
	write_cr0(read_cr0() | CR0_PG | CR0_NE);
	EXPECT(read_cr0() & CR0_NE, "CR0.NE did not show after the write");
	mmio_check("PAE paging, 2 MiB pages", 0x99aabbcc);
}

int mb_main(uint32_t magic, uint32_t info);

int mb_main(uint32_t magic, uint32_t info)
{
	(void)info;
	EXPECT(magic == MULTIBOOT_BOOTLOADER_MAGIC, "magic 0x%x", magic);
	pse_4m();
	pages_4k();
	pae();
	return checks_result("paging32");
}
