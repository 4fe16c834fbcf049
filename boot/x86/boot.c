// SPDX-License-Identifier: MIT
/*
 * The first C code on x86-64 (called from entry.S in long mode with the
 * first 4 GiB identity mapped): console, CPU tables, platform discovery
 * (with one line saying whether GRUB came from BIOS or UEFI and what it
 * handed over), ACPI discovery, then the generic start.
 */
#include <arch/smp.h>
#include <arch/x86.h>
#include <core/arch.h>
#include <core/platform.h>
#include <drivers/uart16550.h>
#include <lib/printk.h>

#include "acpi.h"
#include "multiboot2.h"

extern char __image_start[], __image_end[];

static struct platform boot_platform;

/*
 * Identity-map the RAM above 4 GiB; a range that cannot be mapped is
 * dropped from the platform so that the page allocator never sees it.
 */
static void map_ram(struct platform *p)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < p->nr_ram; i++) {
		struct mem_range *r = &p->ram[i];

		if (x86_idmap_range(r->base, r->size)) {
			pr_warn("boot: cannot map RAM 0x%llx+0x%llx; unused\n",
				(unsigned long long)r->base,
				(unsigned long long)r->size);
			continue;
		}
		p->ram[kept++] = *r;
	}
	p->nr_ram = kept;
}

void x86_boot_main(uint32_t magic, uint32_t info) __noreturn;

void x86_boot_main(uint32_t magic, uint32_t info)
{
	struct platform *p = &boot_platform;
	struct mb2_boot boot;

	uart16550_console_init(UART16550_COM1);
	x86_cpu_tables_init(0);

	/* entry.S checked it already; this guards a future second entry. */
	if (magic != MB2_BOOT_MAGIC) {
		pr_err("boot: bad multiboot2 magic 0x%x\n", magic);
		arch_stop(1);
	}
	p->boot_protocol = "multiboot2";
	p->cmdline = "";
	platform_add_reserved(p, (paddr_t)(uintptr_t)__image_start,
			      (uint64_t)(__image_end - __image_start), "image");
	if (mb2_parse(info, p, &boot)) {
		arch_stop(1);
	}
	mb2_report(&boot);
	map_ram(p);
	x86_acpi_init(&boot, p->cmdline);
	x86_selftest_parse(p->cmdline);
	x86_reserve_trampoline(p);
	strata_main(p);
}
