// SPDX-License-Identifier: MIT
/*
 * Host tests of the host-DTB readers of drivers/fdt.c that pick Strata's
 * console (dtb_find_console()) and its GICv2 (dtb_find_gicv2()), on blobs
 * written here with libfdt the way boards and QEMU write them.
 */
#include <drivers/fdt.h>
#include <lib/errno.h>
#include <libfdt.h>
#include <string.h>

#include "harness.h"

static uint64_t blob[4096];

/* In the blob writers: a libfdt error gives NULL, which the tests check. */
#define TRY(x)								\
	do {								\
		if ((x) < 0) {						\
			return NULL;					\
		}							\
	} while (0)

struct uart_spec {
	const char *compat;		/* NULL: no UART node */
	int shift, width;		/* -1: property absent */
	int reg_len;			/* bytes of reg: 16 (one entry) */
	uint64_t size;
};

/* / with a serial@1c28000 (per @u), a pmu, aliases and @stdout. */
static void *make(const struct uart_spec *u, const char *stdout_path)
{
	void *f = blob;
	fdt64_t reg[2] = { cpu_to_fdt64(0x1c28000), cpu_to_fdt64(u->size) };

	TRY(fdt_create(f, sizeof(blob)));
	TRY(fdt_finish_reservemap(f));
	TRY(fdt_begin_node(f, ""));
	TRY(fdt_property_u32(f, "#address-cells", 2));
	TRY(fdt_property_u32(f, "#size-cells", 2));
	if (u->compat) {
		TRY(fdt_begin_node(f, "serial@1c28000"));
		TRY(fdt_property_string(f, "compatible", u->compat));
		TRY(fdt_property(f, "reg", reg, u->reg_len));
		if (u->shift >= 0) {
			TRY(fdt_property_u32(f, "reg-shift", u->shift));
		}
		if (u->width >= 0) {
			TRY(fdt_property_u32(f, "reg-io-width", u->width));
		}
		TRY(fdt_end_node(f));
	}
	TRY(fdt_begin_node(f, "pmu"));
	TRY(fdt_property_string(f, "compatible", "arm,armv8-pmuv3"));
	TRY(fdt_end_node(f));
	TRY(fdt_begin_node(f, "aliases"));
	TRY(fdt_property_string(f, "serial0", "/serial@1c28000"));
	TRY(fdt_end_node(f));
	TRY(fdt_begin_node(f, "chosen"));
	if (stdout_path) {
		TRY(fdt_property_string(f, "stdout-path", stdout_path));
	}
	TRY(fdt_end_node(f));
	TRY(fdt_end_node(f));
	TRY(fdt_finish(f));
	return f;
}

static const struct uart_spec dw = {
	"snps,dw-apb-uart", 2, 4, 16, 0x400,
};

/* A DesignWare UART by alias with options: shift and width as given. */
static void test_dw_apb_by_alias(void)
{
	struct dtb_uart u;

	CHECK_EQ(dtb_find_console(make(&dw, "serial0:115200n8"), &u), 0);
	CHECK_EQ(u.kind, DTB_UART_16550);
	CHECK_EQ(u.reg.base, 0x1c28000);
	CHECK_EQ(u.reg.size, 0x400);
	CHECK_EQ(u.reg_shift, 2);
	CHECK_EQ(u.io_width, 4);
	CHECK(!strcmp(u.node_name, "serial@1c28000"));
}

/* ns16550a by full path: reg-shift 0 and reg-io-width 1 by default. */
static void test_ns16550a_defaults(void)
{
	struct uart_spec s = { "ns16550a", -1, -1, 16, 8 };
	struct dtb_uart u;

	CHECK_EQ(dtb_find_console(make(&s, "/serial@1c28000"), &u), 0);
	CHECK_EQ(u.kind, DTB_UART_16550);
	CHECK_EQ(u.reg_shift, 0);
	CHECK_EQ(u.io_width, 1);
	s.compat = "ns16550";
	CHECK_EQ(dtb_find_console(make(&s, "/serial@1c28000"), &u), 0);
	CHECK_EQ(u.kind, DTB_UART_16550);
}

static void test_pl011(void)
{
	struct uart_spec s = { "arm,pl011", -1, -1, 16, 0x1000 };
	struct dtb_uart u;

	CHECK_EQ(dtb_find_console(make(&s, "serial0"), &u), 0);
	CHECK_EQ(u.kind, DTB_UART_PL011);
	CHECK_EQ(u.reg.base, 0x1c28000);
}

/* What the boot code reports and falls back from. */
static void test_refusals(void)
{
	struct uart_spec s = dw;
	struct dtb_uart u;

	CHECK_EQ(dtb_find_console(make(&dw, NULL), &u), -ENOENT);
	CHECK_EQ(dtb_find_console(make(&dw, "/nothing@0"), &u), -ENODEV);
	CHECK_EQ(dtb_find_console(make(&dw, "serial7"), &u), -ENODEV);
	CHECK_EQ(dtb_find_console(make(&dw, "/pmu"), &u), -ENOTSUP);
	CHECK(u.node_name && !strcmp(u.node_name, "pmu"));
	s.compat = "brcm,bcm2835-aux-uart";	/* not driven */
	CHECK_EQ(dtb_find_console(make(&s, "serial0"), &u), -ENOTSUP);
	s = dw;
	s.width = 3;
	CHECK_EQ(dtb_find_console(make(&s, "serial0"), &u), -EINVAL);
	s = dw;
	s.shift = 5;
	CHECK_EQ(dtb_find_console(make(&s, "serial0"), &u), -EINVAL);
	s = dw;
	s.size = 0x10;		/* 8 registers 4 bytes apart need 0x20 */
	CHECK_EQ(dtb_find_console(make(&s, "serial0"), &u), -EINVAL);
	s = dw;
	s.reg_len = 12;		/* not a whole (address, size) entry */
	CHECK_EQ(dtb_find_console(make(&s, "serial0"), &u), -EINVAL);
}

/* A GICv2 node as QEMU virt writes it with virtualization=on, or not. */
static void *make_gic(const char *compat, int nregs, const uint32_t *irq,
		      int nirq)
{
	void *f = blob;
	static const uint64_t base[4] = {
		0x8000000, 0x8010000, 0x8030000, 0x8040000,
	};
	fdt64_t reg[8];

	for (int i = 0; i < 4; i++) {
		reg[2 * i] = cpu_to_fdt64(base[i]);
		reg[2 * i + 1] = cpu_to_fdt64(0x10000);
	}
	TRY(fdt_create(f, sizeof(blob)));
	TRY(fdt_finish_reservemap(f));
	TRY(fdt_begin_node(f, ""));
	TRY(fdt_property_u32(f, "#address-cells", 2));
	TRY(fdt_property_u32(f, "#size-cells", 2));
	TRY(fdt_begin_node(f, "intc@8000000"));
	TRY(fdt_property_string(f, "compatible", compat));
	TRY(fdt_property_u32(f, "#interrupt-cells", 3));
	TRY(fdt_property(f, "reg", reg, nregs * 16));
	if (irq) {
		fdt32_t be[3];

		for (int i = 0; i < nirq; i++) {
			be[i] = cpu_to_fdt32(irq[i]);
		}
		TRY(fdt_property(f, "interrupts", be, nirq * 4));
	}
	TRY(fdt_end_node(f));
	TRY(fdt_end_node(f));
	TRY(fdt_finish(f));
	return f;
}

static void test_gicv2(void)
{
	static const uint32_t ppi9[3] = { 1, 9, 0xf04 };
	struct dtb_gicv2 g;
	struct dtb_reg r0, r1;
	unsigned int v;

	CHECK_EQ(dtb_find_gicv2(make_gic("arm,cortex-a15-gic", 4, ppi9, 3),
				&g), 0);
	CHECK_EQ(g.dist.base, 0x8000000);
	CHECK_EQ(g.cpu.base, 0x8010000);
	CHECK_EQ(g.hyp.base, 0x8030000);
	CHECK_EQ(g.vcpu.base, 0x8040000);
	CHECK_EQ(g.hyp.size, 0x10000);
	CHECK_EQ(g.maint_intid, 25);
	CHECK_EQ(dtb_find_gic(blob, &v, &r0, &r1), 0);
	CHECK_EQ(v, 2);
	/* gic-400, without the virtualization extensions */
	CHECK_EQ(dtb_find_gicv2(make_gic("arm,gic-400", 2, NULL, 0), &g), 0);
	CHECK_EQ(g.cpu.base, 0x8010000);
	CHECK_EQ(g.hyp.size, 0);
	CHECK_EQ(g.vcpu.size, 0);
	CHECK_EQ(g.maint_intid, 0);
	/* an SPI as maintenance interrupt, malformed ones */
	CHECK_EQ(dtb_find_gicv2(make_gic("arm,gic-400", 4,
					 (uint32_t[]){ 0, 5, 4 }, 3), &g), 0);
	CHECK_EQ(g.maint_intid, 37);
	CHECK_EQ(dtb_find_gicv2(make_gic("arm,gic-400", 4, ppi9, 2), &g),
		 -EINVAL);
	CHECK_EQ(dtb_find_gicv2(make_gic("arm,gic-400", 4,
					 (uint32_t[]){ 2, 5, 4 }, 3), &g),
		 -EINVAL);
	CHECK_EQ(dtb_find_gicv2(make_gic("arm,gic-400", 1, NULL, 0), &g),
		 -EINVAL);
	CHECK_EQ(dtb_find_gicv2(make_gic("arm,gic-v3", 4, ppi9, 3), &g),
		 -ENOENT);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "fdt");
	RUN_TEST(test_dw_apb_by_alias);
	RUN_TEST(test_ns16550a_defaults);
	RUN_TEST(test_pl011);
	RUN_TEST(test_refusals);
	RUN_TEST(test_gicv2);
	return test_done();
}
