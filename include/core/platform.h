/* SPDX-License-Identifier: MIT */
/*
 * What the boot code found, in one architecture-neutral form: RAM, the ranges
 * that must stay untouched, the hypervisor command line and the boot modules
 * (multiboot2 modules on x86, the initrd on arm64). The boot code fills it and
 * hands it to strata_main().
 */
#ifndef STRATA_CORE_PLATFORM_H
#define STRATA_CORE_PLATFORM_H

#include <types.h>

#define PLAT_MAX_RANGES		32
#define PLAT_MAX_MODULES	16

struct mem_range {
	paddr_t base;
	uint64_t size;
	const char *what;	/* "usable", "image", "dtb", "module", ... */
};

struct boot_module {
	paddr_t base;
	uint64_t size;
	const char *name;	/* the module's command line, or "initrd" */
};

struct platform {
	const char *boot_protocol;	/* "multiboot2", "linux-image" */
	const char *cmdline;		/* never NULL */
	unsigned int nr_ram;
	struct mem_range ram[PLAT_MAX_RANGES];
	unsigned int nr_reserved;
	struct mem_range reserved[PLAT_MAX_RANGES];
	unsigned int nr_modules;
	struct boot_module modules[PLAT_MAX_MODULES];
	paddr_t acpi_rsdp;		/* ACPI RSDP from UEFI, 0 if none */
};

/* Append helpers for the boot code; they drop (and report) what does not fit. */
void platform_add_ram(struct platform *p, paddr_t base, uint64_t size);
void platform_add_reserved(struct platform *p, paddr_t base, uint64_t size,
			   const char *what);
void platform_add_module(struct platform *p, paddr_t base, uint64_t size,
			 const char *name);

/* The generic start of the hypervisor, called once on the boot CPU. */
void strata_main(struct platform *p) __noreturn;

#endif
