/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables and fixed hardware Strata gives an x86 guest
 * (docs/x86-acpi.md): RSDP in the BIOS area (found by the scan of
 * 0xe0000-0xfffff), RSDT and XSDT, FADT with FACS and DSDT, MADT; the PM1a
 * event and control blocks and the PM timer at ports 0x600-0x60b.
 * arch/x86/guest_acpi_tables.c builds the tables (no VM state: the host
 * test builds them too), arch/x86/guest_acpi.c places them and emulates
 * the registers.
 */
#ifndef STRATA_ARCH_X86_GUEST_ACPI_H
#define STRATA_ARCH_X86_GUEST_ACPI_H

#include <types.h>

struct vm;

#define X86_ACPI_AREA		0xe0000ULL	/* the BIOS area: 128 KiB */
#define X86_ACPI_AREA_SIZE	0x20000ULL
#define X86_ACPI_TABLES_MAX	0x1000		/* what the tables may take */

#define X86_ACPI_PM_BASE	0x600
#define X86_ACPI_PM1A_EVT	(X86_ACPI_PM_BASE + 0)	/* PM1_STS, PM1_EN */
#define X86_ACPI_PM1A_CNT	(X86_ACPI_PM_BASE + 4)
#define X86_ACPI_PM_TMR		(X86_ACPI_PM_BASE + 8)
#define X86_ACPI_PM_SIZE	12
#define X86_ACPI_SCI_IRQ	9
#define X86_ACPI_PM_TIMER_HZ	3579545ULL
/* The SLP_TYP the DSDT's \_S5 names (soft off). */
#define X86_ACPI_SLP_TYP_S5	5

/* What the tables describe. */
struct x86_acpi_machine {
	unsigned int nr_cpus;		/* APIC IDs 0 .. nr_cpus - 1 */
	unsigned int ioapic_id;
	uint64_t ram_end;		/* RAM is [0, ram_end) */
};

/*
 * Build the tables into @buf (X86_ACPI_TABLES_MAX bytes, zeroed by the
 * caller) as they will lie at guest-physical @gpa: the RSDP first (16-byte
 * aligned @gpa). Return: bytes used, 0 if they do not fit.
 */
size_t x86_acpi_build_tables(uint8_t *buf, uint64_t gpa,
			     const struct x86_acpi_machine *m);

/*
 * PM1 state of a VM (arch/x86/guest_acpi.c).
 * @en: PM1_EN; @cnt: PM1_CNT's stored bits (BM_RLD, SLP_TYP).
 * @tsc_base: host TSC at which the PM timer read 0.
 * @tmr_cleared: the PM timer count (64-bit) at the last TMR_STS clear.
 * @told: an unsupported sleep type was reported.
 */
struct x86_acpi_pm {
	uint16_t en, cnt;
	uint64_t tsc_base;
	uint64_t tmr_cleared;
	bool told;
};

/* Place the tables in @vm's RAM and add the PM registers. 0 or -errno. */
int x86_acpi_add(struct vm *vm);

/* The host TSC's frequency (Hz) and where it was learnt. */
uint64_t x86_tsc_hz(const char **source);

#endif
