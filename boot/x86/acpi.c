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
#include <drivers/uart16550.h>
#include <lib/printk.h>
#include <lib/string.h>

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

/*
 * x86_acpi=scan (ignore the multiboot2 tag and scan the BIOS areas, BIOS
 * boots only) or x86_acpi=off; anything else is reported and ignored.
 */
enum acpi_mode { ACPI_MODE_TAG, ACPI_MODE_SCAN, ACPI_MODE_OFF };

static enum acpi_mode parse_mode(const char *s)
{
	static const char key[] = "x86_acpi=";
	const size_t klen = sizeof(key) - 1;
	enum acpi_mode mode = ACPI_MODE_TAG;

	while (s && *s) {
		size_t len = 0;

		while (*s == ' ' || *s == '\t') {
			s++;
		}
		while (s[len] && s[len] != ' ' && s[len] != '\t') {
			len++;
		}
		if (len > klen && !memcmp(s, key, klen)) {
			const char *v = s + klen;
			size_t vlen = len - klen;

			if (vlen == 4 && !memcmp(v, "scan", 4)) {
				mode = ACPI_MODE_SCAN;
			} else if (vlen == 3 && !memcmp(v, "off", 3)) {
				mode = ACPI_MODE_OFF;
			} else {
				pr_warn("acpi: unknown x86_acpi=%.*s; ignored\n",
					(int)vlen, v);
			}
		}
		s += len;
	}
	return mode;
}

/*
 * Move the console to the 16550 the SPCR names if that is an I/O port
 * other than the current one and a UART answers there. SPCR's interrupt
 * fields are not used: the console is polled. An MMIO 16550 is not taken
 * (the x86 console driver is port-based) and said so.
 */
static void spcr_console(const struct acpi_spcr *s)
{
	uint64_t port = s->base.address;
	uint32_t baud = s->baud ? s->baud : UART16550_BAUD;

	if (s->interface_type != ACPI_SPCR_16550 &&
	    s->interface_type != ACPI_SPCR_16450 &&
	    s->interface_type != ACPI_SPCR_16550_GAS) {
		pr_info("acpi: SPCR console is not a 16550; the console stays "
			"at I/O port 0x%x\n", UART16550_COM1);
		return;
	}
	if (s->base.space_id != ACPI_GAS_IO) {
		pr_info("acpi: SPCR's 16550 is not on an I/O port; the console "
			"stays at I/O port 0x%x\n", UART16550_COM1);
		return;
	}
	if (!port || port > 0xfff8 || (s->base.bit_width &&
				       s->base.bit_width != 8)) {
		pr_warn("acpi: SPCR's 16550 at I/O port 0x%llx (%u-bit) is "
			"unusable; the console stays at 0x%x\n",
			(unsigned long long)port, s->base.bit_width,
			UART16550_COM1);
		return;
	}
	if (port == UART16550_COM1) {
		return;		/* already the console */
	}
	if (!uart16550_present((uint16_t)port)) {
		pr_warn("acpi: no UART answers at the SPCR's I/O port 0x%llx; "
			"the console stays at 0x%x\n", (unsigned long long)port,
			UART16550_COM1);
		return;
	}
	pr_info("acpi: console moves to the SPCR's 16550 at I/O port 0x%llx, "
		"%u baud\n", (unsigned long long)port, baud);
	uart16550_drain();
	uart16550_console_init_baud((uint16_t)port, baud);
	pr_info("acpi: console on the SPCR's 16550 at I/O port 0x%llx, %u "
		"baud (was 0x%x)\n", (unsigned long long)port, baud,
		UART16550_COM1);
}

void x86_acpi_init(const struct mb2_boot *boot, const char *cmdline)
{
	enum acpi_mode mode = parse_mode(cmdline);
	uint64_t rsdp = boot->acpi_rsdp;
	uint64_t avail = boot->acpi_rsdp_len;

	if (mode == ACPI_MODE_OFF) {
		pr_info("acpi: off (x86_acpi=off)\n");
		return;
	}
	if (rsdp && mode == ACPI_MODE_TAG) {
		pr_info("acpi: RSDP from multiboot2 tag %u (ACPI %s)\n",
			boot->acpi_tag,
			boot->acpi_tag == MB2_TAG_ACPI_NEW ? "2.0+" : "1.0");
	} else if (boot->efi) {
		/* The BIOS areas mean nothing on UEFI. */
		pr_info("acpi: no ACPI: %s on UEFI\n", rsdp ?
			"x86_acpi=scan asks for a BIOS scan" :
			"GRUB passed no RSDP tag");
		return;
	} else {
		rsdp = scan_bios();
		if (!rsdp) {
			pr_info("acpi: no ACPI: no RSDP %s the BIOS areas\n",
				mode == ACPI_MODE_SCAN ? "in" :
				"tag and none in");
			return;
		}
		/* A scan proves only 20 bytes; the RSDP itself says more. */
		avail = ACPI_RSDP_V2_LEN;
		pr_info("acpi: RSDP found by scanning the BIOS areas%s\n",
			mode == ACPI_MODE_SCAN ? " (x86_acpi=scan)" : "");
	}
	if (acpi_discover(&acpi_boot, &x86_acpi_mem, rsdp, avail)) {
		pr_warn("acpi: no ACPI: the tables are unusable\n");
		return;
	}
	if (acpi_boot.has_spcr) {
		spcr_console(&acpi_boot.spcr);
	}
}
