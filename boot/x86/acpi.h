/* SPDX-License-Identifier: MIT */
/* ACPI discovery at x86 boot; the results are in acpi_boot (drivers/acpi.h). */
#ifndef STRATA_BOOT_X86_ACPI_H
#define STRATA_BOOT_X86_ACPI_H

#include "multiboot2.h"

/*
 * Find the RSDP (multiboot2 tag 15, then 14, then on BIOS a scan of the
 * EBDA and 0xE0000-0xFFFFF), read the tables into acpi_boot and print what
 * was found; if the SPCR names a 16550 on another I/O port than COM1 and a
 * UART answers there, the console moves to it. @cmdline may hold
 * x86_acpi=scan (skip the tag) or x86_acpi=off. Never fails the boot:
 * without usable ACPI it says so.
 */
void x86_acpi_init(const struct mb2_boot *boot, const char *cmdline);

#endif
