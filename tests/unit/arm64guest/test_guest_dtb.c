// SPDX-License-Identifier: MIT
/*
 * Host tests of the generated arm64 guest DTB (arch/arm64/guest_dtb.c),
 * read back through the host's libfdt: every node a guest (or Linux) looks
 * for, with the values the VM has, and its placement in guest RAM through
 * vm_place() / vm_gpa_to_host() (recorded here).
 */
#include <arch/guest_dtb.h>
#include <arch/guest_layout.h>
#include <lib/errno.h>
#include <libfdt.h>
#include <string.h>
#include <vmm/vm.h>

#include "harness.h"

static uint64_t buf[GUEST_DTB_MAX / 8];

/* ---- the VM side, recorded ---- */

static uint8_t ram[64 * 1024];
static gpa_t place_at;
static uint64_t placed_size, placed_align;

gpa_t vm_place(struct vm *vm, uint64_t size, uint64_t align)
{
	(void)vm;
	placed_size = size;
	placed_align = align;
	return place_at;
}

void *vm_gpa_to_host(struct vm *vm, gpa_t gpa, uint64_t len)
{
	if (gpa < vm->ram_gpa || gpa + len > vm->ram_gpa + sizeof(ram)) {
		return NULL;
	}
	return ram + (gpa - vm->ram_gpa);
}

/* ---- helpers ---- */

static const struct guest_dtb_desc desc = {
	.ram_base = 0x40000000,
	.ram_size = 0x80000000,
	.cpus = 3,
	.bootargs = "console=ttyAMA0 root=/dev/ram",
	.initrd_start = 0x48000000,
	.initrd_end = 0x48123456,
};

static bool prop_is(const void *fdt, const char *path, const char *name,
		    const void *val, int len)
{
	int node = fdt_path_offset(fdt, path), got;
	const void *p = node < 0 ? NULL : fdt_getprop(fdt, node, name, &got);

	return p && got == len && !memcmp(p, val, len);
}

static bool str_is(const void *fdt, const char *path, const char *name,
		   const char *s)
{
	return prop_is(fdt, path, name, s, strlen(s) + 1);
}

static bool cells_are(const void *fdt, const char *path, const char *name,
		      const uint32_t *cells, int n)
{
	fdt32_t be[16];

	for (int i = 0; i < n; i++) {
		be[i] = cpu_to_fdt32(cells[i]);
	}
	return prop_is(fdt, path, name, be, n * 4);
}

static bool u64_is(const void *fdt, const char *path, const char *name,
		   uint64_t v)
{
	fdt64_t be = cpu_to_fdt64(v);

	return prop_is(fdt, path, name, &be, 8);
}

static bool written(const struct guest_dtb_desc *d)
{
	int size = guest_dtb_write(buf, sizeof(buf), d);

	return size > 0 && fdt_check_header(buf) == 0 &&
	       (int)fdt_totalsize(buf) == size;
}

/* ---- tests ---- */

/* The root is a 2-cell virt-like machine whose interrupts go to the GIC. */
static void test_root(void)
{
	uint32_t two = 2;
	int gic;

	CHECK(written(&desc));
	CHECK(cells_are(buf, "/", "#address-cells", &two, 1));
	CHECK(cells_are(buf, "/", "#size-cells", &two, 1));
	gic = fdt_node_offset_by_compatible(buf, -1, "arm,gic-v3");
	CHECK(gic > 0);
	CHECK(fdt_get_phandle(buf, gic) != 0);
	CHECK(cells_are(buf, "/", "interrupt-parent",
			(uint32_t[]){ fdt_get_phandle(buf, gic) }, 1));
}

/* /memory says where RAM is and how big. */
static void test_memory(void)
{
	CHECK(written(&desc));
	CHECK(str_is(buf, "/memory@40000000", "device_type", "memory"));
	CHECK(cells_are(buf, "/memory@40000000", "reg",
			(uint32_t[]){ 0, 0x40000000, 0, 0x80000000 }, 4));
}

/* One cpu node per vCPU, reg = MPIDR Aff0, started through PSCI. */
static void test_cpus(void)
{
	char path[32];
	int cpus;

	CHECK(written(&desc));
	cpus = fdt_path_offset(buf, "/cpus");
	CHECK(cpus > 0);
	CHECK_EQ(fdt_address_cells(buf, cpus), 1);
	CHECK_EQ(fdt_size_cells(buf, cpus), 0);
	for (uint32_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%u", i);
		CHECK(cells_are(buf, path, "reg", &i, 1));
		CHECK(str_is(buf, path, "device_type", "cpu"));
		CHECK(str_is(buf, path, "enable-method", "psci"));
	}
	CHECK(fdt_path_offset(buf, "/cpus/cpu@3") < 0);
}

/* PSCI 1.0 (and 0.2 for older kernels) through HVC. */
static void test_psci(void)
{
	static const char compat[] = "arm,psci-1.0\0arm,psci-0.2";

	CHECK(written(&desc));
	CHECK(prop_is(buf, "/psci", "compatible", compat, sizeof(compat)));
	CHECK(str_is(buf, "/psci", "method", "hvc"));
}

/* The GICv3 at the guest layout's addresses, redistributors per vCPU. */
static void test_gic(void)
{
	int gic;

	CHECK(written(&desc));
	gic = fdt_node_offset_by_compatible(buf, -1, "arm,gic-v3");
	CHECK(gic > 0);
	CHECK(fdt_getprop(buf, gic, "interrupt-controller", NULL));
	CHECK(cells_are(buf, "/intc@8000000", "#interrupt-cells",
			(uint32_t[]){ 3 }, 1));
	CHECK(cells_are(buf, "/intc@8000000", "reg",
			(uint32_t[]){ 0, GUEST_GICD_BASE, 0, 0x10000,
				      0, GUEST_GICR_BASE, 0, 3 * 0x20000 }, 8));
}

/*
 * On a GICv2 host: an arm,cortex-a15-gic with the distributor and the
 * 8 KiB CPU interface, no GICv3 properties, no maintenance interrupt (the
 * guest's GIC has no virtualization extensions), and timer PPIs carrying
 * the mask of the vCPUs (bits 15:8), as the GICv2 binding has them.
 */
static void test_gicv2(void)
{
	struct guest_dtb_desc d = desc;
	int gic;

	d.gic_version = 2;
	CHECK(written(&d));
	CHECK(fdt_node_offset_by_compatible(buf, -1, "arm,gic-v3") < 0);
	gic = fdt_node_offset_by_compatible(buf, -1, "arm,cortex-a15-gic");
	CHECK(gic > 0);
	CHECK(fdt_getprop(buf, gic, "interrupt-controller", NULL));
	CHECK(!fdt_getprop(buf, gic, "#redistributor-regions", NULL));
	CHECK(!fdt_getprop(buf, gic, "interrupts", NULL));
	CHECK(cells_are(buf, "/intc@8000000", "reg",
			(uint32_t[]){ 0, GUEST_GICD_BASE, 0, 0x10000,
				      0, GUEST_GICC_BASE, 0, 0x2000 }, 8));
	CHECK(fdt_get_phandle(buf, gic) != 0);
	CHECK(cells_are(buf, "/timer", "interrupts",
			(uint32_t[]){ 1, 13, 0x704, 1, 14, 0x704, 1, 11, 0x704,
				      1, 10, 0x704 }, 12));
}

/* The armv8 timer with its four PPIs (secure, non-secure, virtual, hyp). */
static void test_timer(void)
{
	CHECK(written(&desc));
	CHECK(str_is(buf, "/timer", "compatible", "arm,armv8-timer"));
	CHECK(cells_are(buf, "/timer", "interrupts",
			(uint32_t[]){ 1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4 },
			12));
}

/* The PL011: AMBA primecell with its clock, and the console path to it. */
static void test_uart(void)
{
	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char names[] = "uartclk\0apb_pclk";
	const fdt32_t *clk;
	int len, clknode;

	CHECK(written(&desc));
	CHECK(prop_is(buf, "/pl011@9000000", "compatible", compat,
		      sizeof(compat)));
	CHECK(cells_are(buf, "/pl011@9000000", "reg",
			(uint32_t[]){ 0, GUEST_PL011_BASE, 0, 0x1000 }, 4));
	CHECK(prop_is(buf, "/pl011@9000000", "clock-names", names,
		      sizeof(names)));
	clk = fdt_getprop(buf, fdt_path_offset(buf, "/pl011@9000000"),
			  "clocks", &len);
	CHECK(clk && len == 8);
	clknode = fdt_node_offset_by_phandle(buf, fdt32_to_cpu(clk[0]));
	CHECK(clknode > 0);
	CHECK(fdt_node_check_compatible(buf, clknode, "fixed-clock") == 0);
	CHECK(str_is(buf, "/chosen", "stdout-path", "/pl011@9000000"));
	/* the path names a node that exists */
	CHECK(fdt_path_offset(buf, "/pl011@9000000") > 0);
}

/* The MMIO test device is described for the test guests. */
static void test_testdev(void)
{
	int node;

	CHECK(written(&desc));
	node = fdt_node_offset_by_compatible(buf, -1, "strata,testdev");
	CHECK(node > 0);
	CHECK(cells_are(buf, "/testdev@a000000", "reg",
			(uint32_t[]){ 0, GUEST_TESTDEV_BASE, 0, 0x1000 }, 4));
}

/* virtio-mmio devices: one node each, with its window and level SPI. */
static void test_virtio_nodes(void)
{
	struct guest_dtb_desc d = desc;

	CHECK(written(&desc));
	CHECK(fdt_node_offset_by_compatible(buf, -1, "virtio,mmio") < 0);
	d.nr_virtio = 2;
	d.virtio_base[0] = 0x0a100000;
	d.virtio_intid[0] = 48;
	d.virtio_base[1] = 0x0a101000;
	d.virtio_intid[1] = 49;
	CHECK(written(&d));
	CHECK(cells_are(buf, "/virtio_mmio@a100000", "reg",
			(uint32_t[]){ 0, 0x0a100000, 0, 0x200 }, 4));
	CHECK(cells_are(buf, "/virtio_mmio@a101000", "interrupts",
			(uint32_t[]){ 0, 17, 4 }, 3));
	CHECK(fdt_node_check_compatible(buf,
		fdt_path_offset(buf, "/virtio_mmio@a101000"), "virtio,mmio") == 0);
}

/* /chosen carries the cmdline and, only when there is one, the initrd. */
static void test_chosen(void)
{
	struct guest_dtb_desc d = desc;

	CHECK(written(&desc));
	CHECK(str_is(buf, "/chosen", "bootargs", desc.bootargs));
	CHECK(u64_is(buf, "/chosen", "linux,initrd-start", 0x48000000));
	CHECK(u64_is(buf, "/chosen", "linux,initrd-end", 0x48123456));
	d.initrd_start = d.initrd_end = 0;
	d.bootargs = NULL;
	CHECK(written(&d));
	CHECK(str_is(buf, "/chosen", "bootargs", ""));
	CHECK(!fdt_getprop(buf, fdt_path_offset(buf, "/chosen"),
			   "linux,initrd-start", NULL));
}

/* A buffer too small is an error, not a truncated tree. */
static void test_too_small(void)
{
	static uint64_t small[64];

	CHECK(guest_dtb_write(small, sizeof(small), &desc) ==
	      -FDT_ERR_NOSPACE);
}

static struct vm_config cfg = { .name = "t", .cpus = 2,
				.cmdline = "hello there" };

static void fake_vm(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	memset(ram, 0, sizeof(ram));
	vm->cfg = &cfg;
	vm->name = cfg.name;
	vm->ram_gpa = 0x40000000;
	vm->ram_size = sizeof(ram);
}

/* guest_dtb_build() writes where vm_place() says and records it. */
static void test_build_places_the_dtb(void)
{
	struct vm vm;
	int cpus, n = 0;

	fake_vm(&vm);
	vm.initrd_gpa = 0x40001000;
	vm.initrd_size = 0x2000;
	place_at = 0x40008000;
	CHECK_EQ(guest_dtb_build(&vm), 0);
	CHECK_EQ(vm.arch.dtb_gpa, 0x40008000);
	CHECK_EQ(placed_align, 4096);
	CHECK(placed_size >= vm.arch.dtb_size && placed_size % 4096 == 0);
	CHECK(fdt_check_header(ram + 0x8000) == 0);
	CHECK_EQ(fdt_totalsize(ram + 0x8000), vm.arch.dtb_size);
	CHECK(str_is(ram + 0x8000, "/chosen", "bootargs", "hello there"));
	CHECK(u64_is(ram + 0x8000, "/chosen", "linux,initrd-start",
		     0x40001000));
	CHECK(u64_is(ram + 0x8000, "/chosen", "linux,initrd-end", 0x40003000));
	CHECK(cells_are(ram + 0x8000, "/memory@40000000", "reg",
			(uint32_t[]){ 0, 0x40000000, 0, sizeof(ram) }, 4));
	cpus = fdt_path_offset(ram + 0x8000, "/cpus");
	for (int c = fdt_first_subnode(ram + 0x8000, cpus); c >= 0;
	     c = fdt_next_subnode(ram + 0x8000, c)) {
		n++;
	}
	CHECK_EQ(n, 2);
}

/* No room in guest RAM: -ENOMEM, nothing recorded. */
static void test_build_without_room(void)
{
	struct vm vm;

	fake_vm(&vm);
	place_at = 0;
	CHECK_EQ(guest_dtb_build(&vm), -ENOMEM);
	CHECK_EQ(vm.arch.dtb_gpa, 0);
	CHECK_EQ(vm.arch.dtb_size, 0);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "guest_dtb");
	RUN_TEST(test_root);
	RUN_TEST(test_memory);
	RUN_TEST(test_cpus);
	RUN_TEST(test_psci);
	RUN_TEST(test_gic);
	RUN_TEST(test_gicv2);
	RUN_TEST(test_timer);
	RUN_TEST(test_uart);
	RUN_TEST(test_testdev);
	RUN_TEST(test_virtio_nodes);
	RUN_TEST(test_chosen);
	RUN_TEST(test_too_small);
	RUN_TEST(test_build_places_the_dtb);
	RUN_TEST(test_build_without_room);
	return test_done();
}
