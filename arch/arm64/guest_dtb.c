// SPDX-License-Identifier: MIT
/*
 * The guest device tree (see arch/guest_dtb.h), written with libfdt's
 * sequential-write functions. The layout follows QEMU virt's, so that a
 * Linux kernel built for virt binds its usual drivers: PSCI over HVC, the
 * armv8 timer's four PPIs, a GICv3 whose redistributors are 128 KiB per
 * vCPU (or on a GICv2 host a GICv2, arm,cortex-a15-gic, with the 8 KiB CPU
 * interface and the PPIs' CPU masks), and the PL011 with its APB clock.
 */
#include <arch/guest_dtb.h>
#include <arch/guest_layout.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <libfdt.h>
#include <vmm/devices.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>

#define GIC_PHANDLE		1
#define CLK_PHANDLE		2
#define ITS_PHANDLE		3

#define GICD_SIZE		0x10000UL
#define GICR_SIZE_PER_CPU	0x20000UL
#define GICC_SIZE		0x2000UL
#define PL011_SIZE		0x1000UL

/* Interrupt specifiers of arm,gic-v3: type, number, flags. */
#define GIC_SPI			0
#define GIC_PPI			1
#define IRQ_LEVEL_HIGH		4
#define PL011_SPI		(GUEST_PL011_INTID - 32)
#define GIC_MAINT_PPI		9
#define TIMER_PPI_SEC		13
#define TIMER_PPI_PHYS		14
#define TIMER_PPI_VIRT		11
#define TIMER_PPI_HYP		10

/* The writer: the first libfdt error sticks and makes the rest no-ops. */
struct dtb_writer {
	void *fdt;
	int err;
};

static void w_begin(struct dtb_writer *w, const char *name)
{
	if (!w->err) {
		w->err = fdt_begin_node(w->fdt, name);
	}
}

static void w_end(struct dtb_writer *w)
{
	if (!w->err) {
		w->err = fdt_end_node(w->fdt);
	}
}

static void w_prop(struct dtb_writer *w, const char *name, const void *val,
		   int len)
{
	if (!w->err) {
		w->err = fdt_property(w->fdt, name, val, len);
	}
}

static void w_str(struct dtb_writer *w, const char *name, const char *s)
{
	w_prop(w, name, s, strlen(s) + 1);
}

/* A string list: @s holds NUL-separated strings, @len bytes in all. */
static void w_strs(struct dtb_writer *w, const char *name, const char *s,
		   int len)
{
	w_prop(w, name, s, len);
}

static void w_cells(struct dtb_writer *w, const char *name,
		    const uint32_t *cells, unsigned int n)
{
	fdt32_t be[12];

	if (n > ARRAY_SIZE(be)) {
		w->err = -FDT_ERR_INTERNAL;
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		be[i] = cpu_to_fdt32(cells[i]);
	}
	w_prop(w, name, be, n * sizeof(be[0]));
}

static void w_u32(struct dtb_writer *w, const char *name, uint32_t v)
{
	w_cells(w, name, &v, 1);
}

static void w_u64(struct dtb_writer *w, const char *name, uint64_t v)
{
	fdt64_t be = cpu_to_fdt64(v);

	w_prop(w, name, &be, sizeof(be));
}

/* `reg` with #address-cells = #size-cells = 2. */
static void w_reg(struct dtb_writer *w, uint64_t base, uint64_t size)
{
	uint32_t c[4] = { base >> 32, (uint32_t)base, size >> 32,
			  (uint32_t)size };

	w_cells(w, "reg", c, 4);
}

static void w_node_at(struct dtb_writer *w, const char *what, uint64_t addr)
{
	char name[48];

	ksnprintf(name, sizeof(name), "%s@%llx", what,
		  (unsigned long long)addr);
	w_begin(w, name);
}

static void write_cpus(struct dtb_writer *w, unsigned int cpus)
{
	w_begin(w, "cpus");
	w_u32(w, "#address-cells", 1);
	w_u32(w, "#size-cells", 0);
	for (unsigned int i = 0; i < cpus; i++) {
		w_node_at(w, "cpu", i);
		w_str(w, "device_type", "cpu");
		w_str(w, "compatible", "arm,armv8");
		w_u32(w, "reg", i);	/* MPIDR Aff0 */
		w_str(w, "enable-method", "psci");
		w_end(w);
	}
	w_end(w);
}

static void write_psci(struct dtb_writer *w)
{
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2";

	w_begin(w, "psci");
	w_strs(w, "compatible", compat, sizeof(compat));
	w_str(w, "method", "hvc");
	w_end(w);
}

static void write_gic(struct dtb_writer *w, unsigned int cpus)
{
	uint32_t reg[8] = {
		0, GUEST_GICD_BASE, 0, GICD_SIZE,
		0, GUEST_GICR_BASE, 0, GICR_SIZE_PER_CPU * cpus,
	};
	uint32_t maint[3] = { GIC_PPI, GIC_MAINT_PPI, IRQ_LEVEL_HIGH };

	w_node_at(w, "intc", GUEST_GICD_BASE);
	w_str(w, "compatible", "arm,gic-v3");
	w_prop(w, "interrupt-controller", NULL, 0);
	w_u32(w, "#interrupt-cells", 3);
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 2);
	w_prop(w, "ranges", NULL, 0);
	w_u32(w, "#redistributor-regions", 1);
	w_cells(w, "reg", reg, 8);
	w_cells(w, "interrupts", maint, 3);
	w_u32(w, "phandle", GIC_PHANDLE);
	/* The ITS (arch/vits.h), as QEMU virt describes its own. */
	w_node_at(w, "its", GUEST_ITS_BASE);
	w_str(w, "compatible", "arm,gic-v3-its");
	w_prop(w, "msi-controller", NULL, 0);
	w_u32(w, "#msi-cells", 1);
	w_reg(w, GUEST_ITS_BASE, GUEST_ITS_SIZE);
	w_u32(w, "phandle", ITS_PHANDLE);
	w_end(w);
	w_end(w);
}

/* No maintenance interrupt: the guest's GICv2 has no GICH or GICV. */
static void write_gicv2(struct dtb_writer *w)
{
	uint32_t reg[8] = {
		0, GUEST_GICD_BASE, 0, GICD_SIZE,
		0, GUEST_GICC_BASE, 0, GICC_SIZE,
	};

	w_node_at(w, "intc", GUEST_GICD_BASE);
	w_str(w, "compatible", "arm,cortex-a15-gic");
	w_prop(w, "interrupt-controller", NULL, 0);
	w_u32(w, "#interrupt-cells", 3);
	w_u32(w, "#address-cells", 2);
	w_u32(w, "#size-cells", 2);
	w_prop(w, "ranges", NULL, 0);
	w_cells(w, "reg", reg, 8);
	w_u32(w, "phandle", GIC_PHANDLE);
	w_end(w);
}

/* GICv2 PPI specifiers carry the mask of the CPUs wired (bits 15:8). */
static void write_timer(struct dtb_writer *w, const struct guest_dtb_desc *d)
{
	static const uint32_t ppis[4] = {
		TIMER_PPI_SEC, TIMER_PPI_PHYS, TIMER_PPI_VIRT, TIMER_PPI_HYP,
	};
	uint32_t f = IRQ_LEVEL_HIGH;
	uint32_t irqs[12];

	if (d->gic_version == 2) {
		f |= (uint32_t)(BIT(d->cpus) - 1) << 8;
	}
	for (unsigned int i = 0; i < 4; i++) {
		irqs[3 * i] = GIC_PPI;
		irqs[3 * i + 1] = ppis[i];
		irqs[3 * i + 2] = f;
	}

	w_begin(w, "timer");
	w_str(w, "compatible", "arm,armv8-timer");
	w_cells(w, "interrupts", irqs, 12);
	w_prop(w, "always-on", NULL, 0);
	w_end(w);
}

static void write_uart(struct dtb_writer *w)
{
	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char clk_names[] = "uartclk\0apb_pclk";
	uint32_t clocks[2] = { CLK_PHANDLE, CLK_PHANDLE };
	uint32_t irq[3] = { GIC_SPI, PL011_SPI, IRQ_LEVEL_HIGH };

	w_begin(w, "apb-pclk");
	w_str(w, "compatible", "fixed-clock");
	w_u32(w, "#clock-cells", 0);
	w_u32(w, "clock-frequency", 24000000);
	w_str(w, "clock-output-names", "clk24mhz");
	w_u32(w, "phandle", CLK_PHANDLE);
	w_end(w);

	w_node_at(w, "pl011", GUEST_PL011_BASE);
	w_strs(w, "compatible", compat, sizeof(compat));
	w_reg(w, GUEST_PL011_BASE, PL011_SIZE);
	w_cells(w, "interrupts", irq, 3);
	w_cells(w, "clocks", clocks, 2);
	w_strs(w, "clock-names", clk_names, sizeof(clk_names));
	w_end(w);
}

static void write_chosen(struct dtb_writer *w, const struct guest_dtb_desc *d)
{
	char path[32];

	ksnprintf(path, sizeof(path), "/pl011@%lx", GUEST_PL011_BASE);
	w_begin(w, "chosen");
	w_str(w, "bootargs", d->bootargs ? d->bootargs : "");
	w_str(w, "stdout-path", path);
	if (d->initrd_start) {
		w_u64(w, "linux,initrd-start", d->initrd_start);
		w_u64(w, "linux,initrd-end", d->initrd_end);
	}
	w_end(w);
}

int guest_dtb_write(void *buf, size_t size, const struct guest_dtb_desc *d)
{
	struct dtb_writer w = { .fdt = buf };

	w.err = fdt_create(buf, size);
	if (!w.err) {
		w.err = fdt_finish_reservemap(buf);
	}
	w_begin(&w, "");
	w_u32(&w, "#address-cells", 2);
	w_u32(&w, "#size-cells", 2);
	w_str(&w, "compatible", "linux,dummy-virt");
	w_str(&w, "model", "Strata VM");
	w_u32(&w, "interrupt-parent", GIC_PHANDLE);

	w_node_at(&w, "memory", d->ram_base);
	w_str(&w, "device_type", "memory");
	w_reg(&w, d->ram_base, d->ram_size);
	w_end(&w);

	write_cpus(&w, d->cpus);
	write_psci(&w);
	if (d->gic_version == 2) {
		write_gicv2(&w);
	} else {
		write_gic(&w, d->cpus);
	}
	write_timer(&w, d);
	write_uart(&w);

	w_node_at(&w, "testdev", GUEST_TESTDEV_BASE);
	w_str(&w, "compatible", "strata,testdev");
	w_reg(&w, GUEST_TESTDEV_BASE, TESTDEV_SIZE);
	w_end(&w);

	for (unsigned int i = 0; i < d->nr_virtio; i++) {
		uint32_t irq[3] = { GIC_SPI, d->virtio_intid[i] - 32,
				    IRQ_LEVEL_HIGH };

		w_node_at(&w, "virtio_mmio", d->virtio_base[i]);
		w_str(&w, "compatible", "virtio,mmio");
		w_reg(&w, d->virtio_base[i], VIRTIO_MMIO_REGS);
		w_cells(&w, "interrupts", irq, 3);
		w_prop(&w, "dma-coherent", NULL, 0);
		w_end(&w);
	}

	write_chosen(&w, d);
	w_end(&w);
	if (!w.err) {
		w.err = fdt_finish(buf);
	}
	return w.err ? w.err : (int)fdt_totalsize(buf);
}

int guest_dtb_build(struct vm *vm)
{
	static uint64_t buf[GUEST_DTB_MAX / sizeof(uint64_t)];
	struct guest_dtb_desc d = {
		.ram_base = vm->ram_gpa,
		.ram_size = vm->ram_size,
		.cpus = vm->cfg->cpus,
		.bootargs = vm->cfg->cmdline,
		.gic_version = vm->arch.vgic.v2.on ? 2 : 3,
		.nr_virtio = MIN(vm->nr_virtio, 4u),
	};
	int size;
	gpa_t gpa;
	void *dst;

	for (unsigned int i = 0; i < d.nr_virtio; i++) {
		d.virtio_base[i] = vm->virtio[i].base;
		d.virtio_intid[i] = vm->virtio[i].line;
	}
	if (vm->initrd_size) {
		d.initrd_start = vm->initrd_gpa;
		d.initrd_end = vm->initrd_gpa + vm->initrd_size;
	}
	size = guest_dtb_write(buf, sizeof(buf), &d);
	if (size < 0) {
		pr_err("vm %s: cannot write its device tree: %s\n",
		       vm->cfg->name, fdt_strerror(size));
		return -EINVAL;
	}
	gpa = vm_place(vm, ALIGN_UP(size, PAGE_SIZE), PAGE_SIZE);
	dst = gpa ? vm_gpa_to_host(vm, gpa, size) : NULL;
	if (!dst) {
		pr_err("vm %s: no room in guest RAM for its %d-byte device tree\n",
		       vm->cfg->name, size);
		return -ENOMEM;
	}
	memcpy(dst, buf, size);
	vm->arch.dtb_gpa = gpa;
	vm->arch.dtb_size = size;
	pr_debug("vm %s: device tree at 0x%llx (%d bytes)\n", vm->cfg->name,
		 (unsigned long long)gpa, size);
	return 0;
}
