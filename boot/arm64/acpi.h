/* SPDX-License-Identifier: MIT */
/*
 * ACPI discovery on arm64 (drivers/acpi.c parses); the results are in
 * acpi_boot (drivers/acpi.h). See docs/acpi.md.
 */
#ifndef STRATA_BOOT_ARM64_ACPI_H
#define STRATA_BOOT_ARM64_ACPI_H

#include <types.h>

struct platform;

/*
 * Read the ACPI tables from the RSDP at @rsdp_pa (@avail bytes of it may
 * be read; ACPI_RSDP_V2_LEN for an RSDP from the EFI configuration table)
 * into acpi_boot and print the CPUs (GICC MPIDRs), GIC distributor and
 * redistributors, SPCR console and GTDT timer interrupts. Only ranges
 * inside @p's RAM or reserved ranges are read (the EFI stub should list
 * the ACPI reclaim and NVS memory as reserved): they are mapped into the
 * EL2 identity map as normal memory when first read; a range mapped as
 * device memory already, or beyond the VA range, is refused. For the EFI
 * stub: call it once the console is up and @p holds the memory map, before
 * strata_main(). 0, or an error with a message (then acpi_boot.present is
 * false). The results are copies: the tables are not read afterwards.
 */
int arm64_acpi_discover(const struct platform *p, uint64_t rsdp_pa,
			uint64_t avail);

/*
 * arm64_acpi_rsdp=ADDR on the command line: the RSDP of tables a loader
 * put in memory on a boot without EFI (like Linux's acpi_rsdp=); they are
 * read and reported, the DTB still describes the platform. Without the
 * word, nothing happens.
 */
void arm64_acpi_from_cmdline(const struct platform *p);

#endif
