// SPDX-License-Identifier: MIT
/*
 * The arm64 boot in C with the MMU on: read the DTB into a struct platform,
 * map RAM and the devices Strata uses, switch to the DTB's UART, and hand
 * over to strata_main().
 */
#include <arch/board.h>
#include <arch/mmu.h>
#include <arch/psci.h>
#include <core/arch.h>
#include <core/platform.h>
#include <drivers/acpi.h>
#include <drivers/fdt.h>
#include <drivers/pl011.h>
#include <drivers/uart8250_mmio.h>
#include <lib/errno.h>
#include <lib/printk.h>

#include "acpi.h"
#include "boot.h"
#include "efi.h"

extern char __image_start[], __image_end[];
extern uintptr_t __stack_chk_guard;

void boot_main(paddr_t dtb, paddr_t load, paddr_t link, bool efi) __noreturn;

struct arm64_board arm64_board;
static struct platform boot_platform;

/* RAM goes to the platform only if it could be mapped: the page allocator
 * hands out identity-mapped pointers. */
void boot_add_ram(struct platform *p, paddr_t base, uint64_t size,
		  const char *what)
{
	int ret = el2_map(base, size, EL2_MEM_NORMAL);

	if (ret) {
		pr_warn("boot: cannot map %s RAM 0x%llx+0x%llx (%d); not used\n",
			what, (unsigned long long)base,
			(unsigned long long)size, ret);
		return;
	}
	platform_add_ram(p, base, size);
}

static void add_memory(void *arg, paddr_t base, uint64_t size,
		       const char *what)
{
	boot_add_ram(arg, base, size, what);
}

static void add_reserved(void *arg, paddr_t base, uint64_t size,
			 const char *what)
{
	platform_add_reserved(arg, base, size, what);
}

static void map_device(const char *what, paddr_t base, uint64_t size)
{
	int ret = el2_map(base, size, EL2_MEM_DEVICE);

	if (ret) {
		pr_warn("boot: cannot map the %s at 0x%llx (%d)\n", what,
			(unsigned long long)base, ret);
	}
}

/* The first enabled PL011, else QEMU virt's: the console of last resort. */
static void fallback_console(const void *fdt)
{
	struct dtb_reg uart;

	if (dtb_find_pl011(fdt, &uart) ||
	    el2_map(uart.base, PL011_MMIO_SIZE, EL2_MEM_DEVICE)) {
		boot_early_console();
		pr_warn("boot: no usable PL011 in the DTB; using 0x%lx\n",
			PL011_QEMU_VIRT_BASE);
		return;
	}
	pl011_console_init(uart.base);
}

/*
 * The UART /chosen/stdout-path names (a PL011 or an 8250/16550 on MMIO);
 * without stdout-path the first enabled PL011. A stdout-path Strata cannot
 * use is reported on the fallback console.
 */
static void setup_console(const void *fdt)
{
	struct dtb_uart u;
	int ret = dtb_find_console(fdt, &u);
	const char *name = u.node_name ? u.node_name : "?";

	if (!ret && u.kind == DTB_UART_PL011 &&
	    !el2_map(u.reg.base, PL011_MMIO_SIZE, EL2_MEM_DEVICE)) {
		pl011_console_init(u.reg.base);
		return;
	}
	if (!ret && u.kind == DTB_UART_16550 &&
	    !el2_map(u.reg.base, u.reg.size, EL2_MEM_DEVICE)) {
		struct uart8250_mmio mmio = {
			.base = (uintptr_t)u.reg.base, .shift = u.reg_shift,
			.width = u.io_width,
		};

		uart8250_mmio_console_init(&mmio);
		pr_info("boot: console %s: 16550 at 0x%llx, reg-shift %u, reg-io-width %u\n",
			name, (unsigned long long)u.reg.base, u.reg_shift,
			u.io_width);
		return;
	}
	fallback_console(fdt);
	switch (ret) {
	case 0:
		pr_warn("boot: cannot map the console %s at 0x%llx\n", name,
			(unsigned long long)u.reg.base);
		break;
	case -ENOENT:
		break;		/* no stdout-path: the first PL011 is it */
	case -ENODEV:
		pr_warn("boot: /chosen/stdout-path names no node of the DTB; console on the first PL011\n");
		break;
	case -ENOTSUP:
		pr_warn("boot: /chosen/stdout-path names %s, which is no UART Strata drives (arm,pl011, ns16550a, ns16550, snps,dw-apb-uart); console on the first PL011\n",
			name);
		break;
	default:
		pr_warn("boot: the console %s has a bad reg, reg-shift or reg-io-width; console on the first PL011\n",
			name);
		break;
	}
}

static void read_gicv2(const void *fdt)
{
	struct dtb_gicv2 g;
	int ret = dtb_find_gicv2(fdt, &g);

	if (ret) {
		pr_warn("boot: unusable GICv2 node in the DTB (%d)\n", ret);
		return;
	}
	arm64_board.gic_version = 2;
	arm64_board.gic_dist = g.dist.base;
	arm64_board.gic_cpu = g.cpu.base;
	map_device("GIC distributor", g.dist.base, g.dist.size);
	map_device("GIC CPU interface", g.cpu.base, g.cpu.size);
	if (g.hyp.size && g.vcpu.size) {
		arm64_board.gic_hyp = g.hyp.base;
		arm64_board.gic_vcpu = g.vcpu.base;
		arm64_board.gic_maint_intid = g.maint_intid;
		map_device("GIC hypervisor interface", g.hyp.base, g.hyp.size);
		map_device("GIC virtual CPU interface", g.vcpu.base,
			   g.vcpu.size);
	}
}

static void read_gic(const void *fdt)
{
	struct dtb_reg r0, r1;
	unsigned int version;

	if (dtb_find_gic(fdt, &version, &r0, &r1)) {
		pr_warn("boot: no usable GIC node in the DTB\n");
		return;
	}
	if (version == 2) {
		read_gicv2(fdt);
		return;
	}
	arm64_board.gic_version = version;
	arm64_board.gic_dist = r0.base;
	arm64_board.gic_redist = r1.base;
	map_device("GIC distributor", r0.base, r0.size);
	map_device("GIC redistributors", r1.base, r1.size);
}

static void read_chosen(const void *fdt, struct platform *p)
{
	paddr_t start, end;
	int ret;

	if (dtb_bootargs(fdt, &p->cmdline)) {
		pr_warn("boot: /chosen/bootargs is not a string; ignored\n");
	}
	ret = dtb_initrd(fdt, &start, &end);
	if (!ret) {
		platform_add_module(p, start, end - start, "initrd");
	} else if (ret != -ENOENT) {
		pr_warn("boot: bad linux,initrd-start/end in /chosen\n");
	}
}

static void add_cpu(void *arg, uint64_t mpidr)
{
	struct arm64_board *b = arg;

	if (b->nr_cpus == ARM64_MAX_CPUS) {
		pr_warn("boot: more than %u CPUs; MPIDR 0x%llx not used\n",
			ARM64_MAX_CPUS, (unsigned long long)mpidr);
		return;
	}
	b->cpu_mpidr[b->nr_cpus++] = mpidr;
}

static void read_psci(const void *fdt)
{
	const char *method;

	if (dtb_psci_method(fdt, &method)) {
		pr_warn("boot: no PSCI in the DTB\n");
		return;
	}
	if (psci_set_method(method)) {
		pr_warn("boot: PSCI method '%s' unusable from EL2\n", method);
	}
	if (dtb_for_each_psci_cpu(fdt, add_cpu, &arm64_board) < 0) {
		pr_warn("boot: bad /cpus in the DTB\n");
	}
}

/*
 * From UEFI the EFI memory map, the LoadOptions and the bundle the stub
 * loaded replace the DTB's /memory and /chosen, as with Linux's stub.
 */
static void read_platform(const void *fdt, uint64_t dtb_size,
			  const struct efi_handover *efi, struct platform *p)
{
	int n;

	if (efi) {
		p->boot_protocol = "uefi";
		efi_boot_memory(efi, p);
	} else {
		p->boot_protocol = "linux-image";
		n = dtb_for_each_memory(fdt, add_memory, p);
		if (n <= 0) {
			pr_err("boot: no usable /memory in the DTB (%d); "
			       "stopping\n", n);
			arch_stop(1);
		}
	}
	platform_add_reserved(p, arm64_board.load_addr,
			      (uint64_t)(__image_end - __image_start),
			      "image");
	platform_add_reserved(p, arm64_board.dtb, dtb_size, "dtb");
	n = dtb_for_each_reserved(fdt, add_reserved, p);
	if (n < 0) {
		pr_warn("boot: bad reserved memory in the DTB (%d)\n", n);
	}
	if (!efi) {
		read_chosen(fdt, p);
		return;
	}
	p->cmdline = efi->cmdline;
	p->acpi_rsdp = efi->acpi_rsdp;
	if (efi->bundle_source != EFI_BUNDLE_NONE) {
		platform_add_module(p, efi->bundle, efi->bundle_size,
				    "initrd");
	}
}

/* The ACPI reclaim and NVS ranges of the EFI memory map: the tables. */
static void add_acpi_ranges(const struct efi_handover *efi,
			    struct platform *p)
{
	uint64_t n = efi->desc_size ? efi->mmap_size / efi->desc_size : 0;

	for (uint64_t i = 0; i < n; i++) {
		const struct efi_memory_desc *d = (const void *)
			(efi->mmap + i * efi->desc_size);

		if ((d->type == EFI_ACPI_RECLAIM_MEMORY ||
		     d->type == EFI_ACPI_MEMORY_NVS) && d->num_pages &&
		    d->num_pages < (1ULL << (64 - PAGE_SHIFT))) {
			platform_add_reserved(p, d->phys_start,
					      d->num_pages << PAGE_SHIFT,
					      "acpi");
		}
	}
}

/* The SPCR's console, when it is a PL011 in memory space. */
static void acpi_console(const struct acpi_info *a)
{
	char type[16];

	if (!a->has_spcr) {
		pr_warn("boot: no SPCR in the ACPI tables; console stays at 0x%lx\n",
			PL011_QEMU_VIRT_BASE);
		return;
	}
	if (a->spcr.interface_type != ACPI_SPCR_PL011 ||
	    a->spcr.base.space_id != ACPI_GAS_MEMORY || !a->spcr.base.address) {
		pr_warn("boot: SPCR console is a %s in address space %u, which Strata does not drive on arm64; console stays at 0x%lx\n",
			acpi_spcr_interface(a->spcr.interface_type, type,
					    sizeof(type)),
			a->spcr.base.space_id, PL011_QEMU_VIRT_BASE);
		return;
	}
	if (el2_map(a->spcr.base.address, PL011_MMIO_SIZE, EL2_MEM_DEVICE)) {
		pr_warn("boot: cannot map the SPCR's PL011 at 0x%llx; console stays at 0x%lx\n",
			(unsigned long long)a->spcr.base.address,
			PL011_QEMU_VIRT_BASE);
		return;
	}
	pl011_console_init(a->spcr.base.address);
	pr_info("boot: console: the SPCR's PL011 at 0x%llx\n",
		(unsigned long long)a->spcr.base.address);
}

/* GIC and CPUs from the MADT; false (with a message) when unusable. */
static bool acpi_gic_cpus(const struct acpi_info *a)
{
	const struct acpi_madt *m = &a->madt;
	uint64_t redist = 0, redist_size = 0;

	if (!a->has_madt || !m->has_gicd) {
		pr_err("boot: the ACPI tables have no MADT with a GIC distributor\n");
		return false;
	}
	if (m->nr_gicrs) {
		redist = m->gicrs[0].base;
		redist_size = m->gicrs[0].length;
	}
	for (unsigned int i = 0; i < m->nr_cpus; i++) {
		const struct acpi_cpu *c = &m->cpus[i];

		if (c->kind != ACPI_CPU_GICC || !c->enabled) {
			continue;
		}
		if (!redist && c->gicr_base) {
			redist = c->gicr_base;	/* per-CPU GICR, frames in order */
		}
		add_cpu(&arm64_board, c->mpidr);
	}
	if (!arm64_board.nr_cpus) {
		pr_err("boot: the MADT lists no enabled GICC (CPU)\n");
		return false;
	}
	if (m->gic_version == 2 || (!m->gic_version && !redist)) {
		pr_err("boot: the MADT describes a GICv2; booting a GICv2 machine from ACPI is not supported yet\n");
		return false;
	}
	if (!redist) {
		pr_err("boot: the MADT gives no GIC redistributor\n");
		return false;
	}
	if (!redist_size) {
		redist_size = (uint64_t)arm64_board.nr_cpus * 0x20000;
	}
	arm64_board.gic_version = 3;
	arm64_board.gic_dist = m->gicd_base;
	arm64_board.gic_redist = redist;
	map_device("GIC distributor", m->gicd_base, 0x10000);
	map_device("GIC redistributors", redist, redist_size);
	return true;
}

/*
 * UEFI gave ACPI tables and no DTB (edk2 does unless told otherwise): RAM
 * from the EFI memory map, the GIC and the CPUs from the MADT, the console
 * from the SPCR; PSCI is called by SMC, the one conduit to firmware from
 * EL2. The device tree's other facts Strata does not need on this path.
 */
static void __noreturn boot_from_acpi(const struct efi_handover *efi,
				      paddr_t load, paddr_t link)
{
	struct platform *p = &boot_platform;

	arm64_board.load_addr = load;
	arm64_board.link_addr = link;
	boot_early_console();
	pr_info("arm64: EL2, image at 0x%llx (linked at 0x%llx), no device tree: ACPI (RSDP at 0x%llx)\n",
		(unsigned long long)load, (unsigned long long)link,
		(unsigned long long)efi->acpi_rsdp);
	efi_boot_report(efi);
	p->boot_protocol = "uefi";
	efi_boot_memory(efi, p);
	platform_add_reserved(p, load, (uint64_t)(__image_end - __image_start),
			      "image");
	add_acpi_ranges(efi, p);
	p->cmdline = efi->cmdline;
	p->acpi_rsdp = efi->acpi_rsdp;
	if (efi->bundle_source != EFI_BUNDLE_NONE) {
		platform_add_module(p, efi->bundle, efi->bundle_size,
				    "initrd");
	}
	if (arm64_acpi_discover(p, efi->acpi_rsdp, ACPI_RSDP_V2_LEN) ||
	    !acpi_gic_cpus(&acpi_boot)) {
		pr_err("boot: cannot boot from these ACPI tables; stopping\n");
		arch_stop(1);
	}
	acpi_console(&acpi_boot);
	if (psci_set_method("smc")) {
		pr_warn("boot: PSCI by SMC unusable\n");
	} else {
		pr_info("boot: ACPI: %u CPUs, GICv3 distributor 0x%llx, redistributors 0x%llx, PSCI by SMC\n",
			arm64_board.nr_cpus,
			(unsigned long long)arm64_board.gic_dist,
			(unsigned long long)arm64_board.gic_redist);
	}
	strata_main(p);
}

static void seed_stack_guard(void)
{
	uint64_t cnt;

	/* Before the first libfdt call: no frame holds the old value yet. */
	__asm__ volatile("mrs %0, cntpct_el0" : "=r"(cnt));
	__stack_chk_guard ^= cnt * 0x9e3779b97f4a7c15ULL;
}

void boot_main(paddr_t dtb, paddr_t load, paddr_t link, bool from_efi)
{
	const void *fdt = (const void *)(uintptr_t)dtb;
	const struct efi_handover *efi = NULL;
	uint64_t dtb_size;
	int ret;

	seed_stack_guard();
	if (from_efi) {
		efi = &efi_handover;
		if (efi->magic != EFI_HANDOVER_MAGIC) {
			boot_early_console();
			pr_err("boot: entered from the EFI stub without its "
			       "hand-over; stopping\n");
			arch_stop(1);
		}
		if (!dtb && efi->acpi_rsdp) {
			boot_from_acpi(efi, load, link);
		}
	}
	arm64_board.load_addr = load;
	arm64_board.link_addr = link;
	arm64_board.dtb = dtb;
	ret = boot_dtb_size ? dtb_check(fdt, &dtb_size) : -EINVAL;
	if (ret || dtb_size != boot_dtb_size) {
		boot_early_console();
		pr_err("boot: no valid DTB at 0x%llx (%s); stopping\n",
		       (unsigned long long)dtb,
		       efi ? "from the EFI stub" : "x0 at entry");
		arch_stop(1);
	}
	setup_console(fdt);
	pr_info("arm64: EL2, image at 0x%llx (linked at 0x%llx), DTB at 0x%llx\n",
		(unsigned long long)load,
		(unsigned long long)arm64_board.link_addr,
		(unsigned long long)dtb);
	if (efi) {
		efi_boot_report(efi);
	}
	read_platform(fdt, dtb_size, efi, &boot_platform);
	read_gic(fdt);
	read_psci(fdt);
	arm64_acpi_from_cmdline(&boot_platform);
	strata_main(&boot_platform);
}
