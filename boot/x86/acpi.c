// SPDX-License-Identifier: MIT
/*
 * ACPI discovery on x86 (drivers/acpi.c does the parsing): the RSDP from
 * multiboot2 tag 15 or 14, else from a scan of the BIOS areas, and table
 * reads through the hypervisor's own identity map.
 *
 * entry.S identity-maps the first 4 GiB, so a table there is read in
 * place. Above 4 GiB, paging.c maps a range on request (x86_idmap_range(),
 * from a small pool); an address beyond the CPU's physical address width,
 * or a range the pool cannot map, is refused, never touched. This runs
 * after the RAM is mapped, so ACPI tables cannot take the pool from RAM.
 */
#include <arch/cpu.h>
#include <arch/x86.h>
#include <drivers/acpi.h>
#include <lib/printk.h>

#include "acpi.h"

#define LOW_IDMAP_END	(4ULL * SZ_1G)
#define EBDA_SEG_PTR	0x40e	/* BIOS data area: EBDA segment */
#define EBDA_SCAN_LEN	1024
#define BIOS_ROM_BASE	0xe0000
#define BIOS_ROM_LEN	0x20000

/* The CPU's physical address width (CPUID 0x80000008), 36 if unknown. */
static unsigned int phys_addr_bits(void)
{
	if (cpuid(0x80000000, 0).eax < 0x80000008) {
		return 36;
	}
	return cpuid(0x80000008, 0).eax & 0xff;
}

static const void *x86_acpi_map(void *ctx, uint64_t pa, uint64_t len)
{
	uint64_t end = pa + len;

	(void)ctx;
	if (end < pa || pa < PAGE_SIZE) {
		return NULL;	/* wraps, or the zero page (a NULL pointer) */
	}
	if (end <= LOW_IDMAP_END) {
		return (const void *)(uintptr_t)pa;
	}
	if (end > BIT(phys_addr_bits())) {
		return NULL;
	}
	if (x86_idmap_range(pa, len)) {
		pr_warn("acpi: cannot map 0x%llx+0x%llx\n",
			(unsigned long long)pa, (unsigned long long)len);
		return NULL;
	}
	return (const void *)(uintptr_t)pa;
}

static const struct acpi_mem x86_acpi_mem = { x86_acpi_map, NULL };

/*
 * A 16-bit value of the BIOS data area. The address goes through an empty
 * asm so that GCC does not treat a constant near 0 as a NULL dereference
 * (-Warray-bounds); entry.S maps the first 2 MiB, page 0 included.
 */
static uint16_t bda_read16(uintptr_t pa)
{
	const volatile uint16_t *p;

	__asm__("" : "=r"(p) : "0"(pa));
	return *p;
}

/* The RSDP in the EBDA's first KiB or the BIOS ROM area, or 0. */
static uint64_t scan_bios(void)
{
	uint64_t ebda = (uint64_t)bda_read16(EBDA_SEG_PTR) << 4;
	uint64_t pa = 0;

	/* Only where an EBDA can be: below the 640 KiB line. */
	if (ebda >= 0x80000 && ebda < 0xa0000) {
		pa = acpi_scan_rsdp(&x86_acpi_mem, ebda, EBDA_SCAN_LEN);
	}
	if (!pa) {
		pa = acpi_scan_rsdp(&x86_acpi_mem, BIOS_ROM_BASE, BIOS_ROM_LEN);
	}
	return pa;
}

void x86_acpi_init(const struct mb2_boot *boot)
{
	uint64_t rsdp = boot->acpi_rsdp;
	uint64_t avail = boot->acpi_rsdp_len;

	if (rsdp) {
		pr_info("acpi: RSDP from multiboot2 tag %u (ACPI %s)\n",
			boot->acpi_tag,
			boot->acpi_tag == MB2_TAG_ACPI_NEW ? "2.0+" : "1.0");
	} else if (boot->efi) {
		/* The BIOS areas mean nothing on UEFI: no tag, no ACPI. */
		pr_info("acpi: no ACPI: GRUB passed no RSDP tag on UEFI\n");
		return;
	} else {
		rsdp = scan_bios();
		if (!rsdp) {
			pr_info("acpi: no ACPI: no RSDP tag and none in the "
				"BIOS areas\n");
			return;
		}
		/* A scan proves only 20 bytes; the RSDP itself says more. */
		avail = ACPI_RSDP_V2_LEN;
		pr_info("acpi: RSDP found by scanning the BIOS areas\n");
	}
	if (acpi_discover(&acpi_boot, &x86_acpi_mem, rsdp, avail)) {
		pr_warn("acpi: no ACPI: the tables are unusable\n");
	}
}
