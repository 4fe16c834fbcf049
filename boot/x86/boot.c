// SPDX-License-Identifier: MIT
/*
 * The first C code on x86-64 (called from entry.S in long mode with the
 * first 4 GiB identity mapped): console, CPU tables, platform discovery,
 * then the generic start.
 */
#include <arch/multiboot2.h>
#include <arch/x86.h>
#include <core/arch.h>
#include <core/platform.h>
#include <drivers/uart16550.h>
#include <lib/printk.h>

extern char __image_start[], __image_end[];

static struct platform boot_platform;

void x86_boot_main(uint32_t magic, uint32_t info) __noreturn;

void x86_boot_main(uint32_t magic, uint32_t info)
{
	struct platform *p = &boot_platform;

	uart16550_console_init(UART16550_COM1);
	x86_cpu_tables_init();

	/* entry.S checked it already; this guards a future second entry. */
	if (magic != MB2_BOOT_MAGIC) {
		pr_err("boot: bad multiboot2 magic 0x%x\n", magic);
		arch_stop(1);
	}
	p->boot_protocol = "multiboot2";
	p->cmdline = "";
	platform_add_reserved(p, (paddr_t)(uintptr_t)__image_start,
			      (uint64_t)(__image_end - __image_start), "image");
	if (mb2_parse(info, p)) {
		arch_stop(1);
	}
	x86_selftest_parse(p->cmdline);
	strata_main(p);
}
