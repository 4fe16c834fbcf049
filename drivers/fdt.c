// SPDX-License-Identifier: MIT
/* DTB access on top of libfdt (see drivers/fdt.h). */
#include <drivers/fdt.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <libfdt.h>

#define MAX_ADDR_CELLS	2	/* 64-bit addresses and sizes at most */

int dtb_check(const void *fdt, uint64_t *size)
{
	if (!fdt || !IS_ALIGNED((uintptr_t)fdt, 8)) {
		return -EINVAL;
	}
	if (fdt_check_header(fdt)) {
		return -EINVAL;
	}
	if (fdt_totalsize(fdt) > DTB_MAX_SIZE) {
		return -EINVAL;
	}
	*size = fdt_totalsize(fdt);
	return 0;
}

const char *dtb_strerror(int fdt_err)
{
	return fdt_strerror(fdt_err);
}

static bool node_enabled(const void *fdt, int node)
{
	int len;
	const char *status = fdt_getprop(fdt, node, "status", &len);

	if (!status) {
		return true;
	}
	return (len == 5 && !memcmp(status, "okay", 5)) ||
	       (len == 3 && !memcmp(status, "ok", 3));
}

/* Addresses of @node's children are CPU addresses only if no bus between
 * @node and the root translates them. */
static int check_untranslated(const void *fdt, int node)
{
	while (node > 0) {
		int len;

		if (!fdt_getprop(fdt, node, "ranges", &len) || len != 0) {
			return -ENOTSUP;
		}
		node = fdt_parent_offset(fdt, node);
	}
	return node < 0 ? -EINVAL : 0;
}

static uint64_t read_cells(const fdt32_t *p, int cells)
{
	uint64_t v = 0;

	for (int i = 0; i < cells; i++) {
		v = (v << 32) | fdt32_ld(&p[i]);
	}
	return v;
}

/*
 * The number of (address, size) entries in @node's reg, or -errno. Unless
 * @raw (a reg that is no bus address, such as a CPU's MPIDR), the addresses
 * must be CPU physical addresses.
 */
static int reg_count(const void *fdt, int node, bool raw, int *ac, int *sc,
		     const fdt32_t **cells)
{
	int parent = fdt_parent_offset(fdt, node);
	int len, ret;

	if (parent < 0) {
		return -EINVAL;
	}
	ret = raw ? 0 : check_untranslated(fdt, parent);
	if (ret) {
		return ret;
	}
	*ac = fdt_address_cells(fdt, parent);
	*sc = fdt_size_cells(fdt, parent);
	if (*ac < 1 || *ac > MAX_ADDR_CELLS || *sc < 0 ||
	    *sc > MAX_ADDR_CELLS) {
		return -EINVAL;
	}
	*cells = fdt_getprop(fdt, node, "reg", &len);
	if (!*cells) {
		return -ENOENT;
	}
	if (len % ((*ac + *sc) * 4)) {
		return -EINVAL;
	}
	return len / ((*ac + *sc) * 4);
}

static int __read_reg(const void *fdt, int node, bool raw, int idx,
		      struct dtb_reg *reg)
{
	const fdt32_t *cells;
	int ac, sc;
	int n = reg_count(fdt, node, raw, &ac, &sc, &cells);

	if (n < 0) {
		return n;
	}
	if (idx >= n) {
		return -ENOENT;
	}
	cells += idx * (ac + sc);
	reg->base = read_cells(cells, ac);
	reg->size = read_cells(cells + ac, sc);
	return 0;
}

static int read_reg(const void *fdt, int node, int idx, struct dtb_reg *reg)
{
	return __read_reg(fdt, node, false, idx, reg);
}

static int for_each_reg(const void *fdt, int node, dtb_range_fn fn, void *arg,
			const char *what)
{
	const fdt32_t *cells;
	int ac, sc;
	int n = reg_count(fdt, node, false, &ac, &sc, &cells);

	for (int i = 0; i < n; i++, cells += ac + sc) {
		fn(arg, read_cells(cells, ac), read_cells(cells + ac, sc),
		   what);
	}
	return n;
}

int dtb_for_each_memory(const void *fdt, dtb_range_fn fn, void *arg)
{
	int node = -1, total = 0;

	for (;;) {
		int n;

		node = fdt_node_offset_by_prop_value(fdt, node,
						     "device_type", "memory",
						     sizeof("memory"));
		if (node < 0) {
			break;
		}
		if (!node_enabled(fdt, node)) {
			continue;
		}
		n = for_each_reg(fdt, node, fn, arg, "usable");
		if (n < 0) {
			return n;
		}
		total += n;
	}
	return node == -FDT_ERR_NOTFOUND ? total : -EINVAL;
}

static int for_each_memreserve(const void *fdt, dtb_range_fn fn, void *arg)
{
	int n = fdt_num_mem_rsv(fdt);

	if (n < 0) {
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		uint64_t base, size;

		if (fdt_get_mem_rsv(fdt, i, &base, &size)) {
			return -EINVAL;
		}
		fn(arg, base, size, "memreserve");
	}
	return n;
}

int dtb_for_each_reserved(const void *fdt, dtb_range_fn fn, void *arg)
{
	int total = for_each_memreserve(fdt, fn, arg);
	int parent, node;

	if (total < 0) {
		return total;
	}
	parent = fdt_path_offset(fdt, "/reserved-memory");
	if (parent < 0) {
		return total;
	}
	fdt_for_each_subnode(node, fdt, parent) {
		int n;

		if (!node_enabled(fdt, node)) {
			continue;
		}
		/* Regions without reg are allocated dynamically by an OS. */
		n = for_each_reg(fdt, node, fn, arg, "reserved-memory");
		if (n == -ENOENT) {
			continue;
		}
		if (n < 0) {
			return n;
		}
		total += n;
	}
	return total;
}

int dtb_bootargs(const void *fdt, const char **args)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	const char *s;
	int len;

	*args = "";
	if (chosen < 0) {
		return 0;
	}
	s = fdt_getprop(fdt, chosen, "bootargs", &len);
	if (!s) {
		return 0;
	}
	if (len < 1 || s[len - 1] != '\0') {
		return -EINVAL;
	}
	*args = s;
	return 0;
}

static int read_addr_prop(const void *fdt, int node, const char *name,
			  paddr_t *val)
{
	const void *p;
	int len;

	p = fdt_getprop(fdt, node, name, &len);
	if (!p) {
		return -ENOENT;
	}
	if (len == 4) {
		*val = fdt32_ld(p);
	} else if (len == 8) {
		*val = fdt64_ld(p);
	} else {
		return -EINVAL;
	}
	return 0;
}

int dtb_initrd(const void *fdt, paddr_t *start, paddr_t *end)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	int ret;

	if (chosen < 0) {
		return -ENOENT;
	}
	ret = read_addr_prop(fdt, chosen, "linux,initrd-start", start);
	if (!ret) {
		ret = read_addr_prop(fdt, chosen, "linux,initrd-end", end);
	}
	if (!ret && *end < *start) {
		ret = -EINVAL;
	}
	return ret;
}

/* The node /chosen/stdout-path names (a path or an alias, then ":options"). */
static int stdout_node(const void *fdt)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	const char *path, *colon;
	int len;

	if (chosen < 0) {
		return chosen;
	}
	path = fdt_getprop(fdt, chosen, "stdout-path", &len);
	if (!path || len < 1 || path[len - 1] != '\0') {
		return -FDT_ERR_NOTFOUND;
	}
	colon = strchr(path, ':');
	return fdt_path_offset_namelen(fdt, path,
				       colon ? (int)(colon - path) : len - 1);
}

int dtb_find_pl011(const void *fdt, struct dtb_reg *reg)
{
	int node = stdout_node(fdt);

	if (node < 0 || fdt_node_check_compatible(fdt, node, "arm,pl011")) {
		node = -1;
		do {
			node = fdt_node_offset_by_compatible(fdt, node,
							     "arm,pl011");
		} while (node >= 0 && !node_enabled(fdt, node));
	}
	if (node < 0) {
		return -ENOENT;
	}
	return read_reg(fdt, node, 0, reg);
}

static int find_enabled_compatible(const void *fdt, const char *compat)
{
	int node = -1;

	do {
		node = fdt_node_offset_by_compatible(fdt, node, compat);
	} while (node >= 0 && !node_enabled(fdt, node));
	return node;
}

int dtb_find_gic(const void *fdt, unsigned int *version, struct dtb_reg *r0,
		 struct dtb_reg *r1)
{
	static const char *const v2[] = { "arm,gic-400", "arm,cortex-a15-gic" };
	int node = find_enabled_compatible(fdt, "arm,gic-v3");
	int ret;

	*version = 3;
	for (unsigned int i = 0; node < 0 && i < ARRAY_SIZE(v2); i++) {
		node = find_enabled_compatible(fdt, v2[i]);
		*version = 2;
	}
	if (node < 0) {
		*version = 0;
		return -ENOENT;
	}
	ret = read_reg(fdt, node, 0, r0);
	if (!ret) {
		ret = read_reg(fdt, node, 1, r1);
	}
	return ret;
}

/* The INTID of @node's first interrupt (three-cell GIC specifier). */
static int first_gic_intid(const void *fdt, int node, unsigned int *intid)
{
	const fdt32_t *p = fdt_getprop(fdt, node, "#interrupt-cells", NULL);
	const fdt32_t *irq;
	int len;

	*intid = 0;
	irq = fdt_getprop(fdt, node, "interrupts", &len);
	if (!irq) {
		return 0;
	}
	if ((p && fdt32_ld(p) != 3) || len < 12) {
		return -EINVAL;
	}
	switch (fdt32_ld(&irq[0])) {
	case 0:			/* SPI */
		*intid = 32 + fdt32_ld(&irq[1]);
		break;
	case 1:			/* PPI */
		*intid = 16 + fdt32_ld(&irq[1]);
		break;
	default:
		return -EINVAL;
	}
	return *intid < 1020 ? 0 : -EINVAL;
}

int dtb_find_gicv2(const void *fdt, struct dtb_gicv2 *gic)
{
	static const char *const v2[] = { "arm,gic-400", "arm,cortex-a15-gic" };
	int node = -1;
	int ret;

	memset(gic, 0, sizeof(*gic));
	for (unsigned int i = 0; node < 0 && i < ARRAY_SIZE(v2); i++) {
		node = find_enabled_compatible(fdt, v2[i]);
	}
	if (node < 0) {
		return -ENOENT;
	}
	ret = read_reg(fdt, node, 0, &gic->dist);
	if (!ret) {
		ret = read_reg(fdt, node, 1, &gic->cpu);
	}
	if (ret) {
		return ret == -ENOTSUP ? ret : -EINVAL;
	}
	/* GICH and GICV only exist with the virtualization extensions. */
	if (read_reg(fdt, node, 2, &gic->hyp) ||
	    read_reg(fdt, node, 3, &gic->vcpu)) {
		gic->hyp.size = 0;
		gic->vcpu.size = 0;
	}
	return first_gic_intid(fdt, node, &gic->maint_intid);
}

static int read_u32_prop(const void *fdt, int node, const char *name,
			 uint32_t dflt, uint32_t *val)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p) {
		*val = dflt;
		return 0;
	}
	if (len != 4) {
		return -EINVAL;
	}
	*val = fdt32_ld(p);
	return 0;
}

int dtb_find_console(const void *fdt, struct dtb_uart *uart)
{
	static const char *const u16550[] = {
		"ns16550a", "ns16550", "snps,dw-apb-uart",
	};
	int chosen = fdt_path_offset(fdt, "/chosen");
	uint32_t shift, width;
	int node;

	memset(uart, 0, sizeof(*uart));
	if (chosen < 0 || !fdt_getprop(fdt, chosen, "stdout-path", NULL)) {
		return -ENOENT;
	}
	node = stdout_node(fdt);
	if (node < 0) {
		return -ENODEV;
	}
	uart->node_name = fdt_get_name(fdt, node, NULL);
	if (!fdt_node_check_compatible(fdt, node, "arm,pl011")) {
		uart->kind = DTB_UART_PL011;
		return read_reg(fdt, node, 0, &uart->reg) ? -EINVAL : 0;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(u16550); i++) {
		if (fdt_node_check_compatible(fdt, node, u16550[i])) {
			continue;
		}
		uart->kind = DTB_UART_16550;
		if (read_reg(fdt, node, 0, &uart->reg) ||
		    read_u32_prop(fdt, node, "reg-shift", 0, &shift) ||
		    read_u32_prop(fdt, node, "reg-io-width", 1, &width) ||
		    shift > 4 || (width != 1 && width != 2 && width != 4) ||
		    (8ULL << shift) > uart->reg.size) {
			return -EINVAL;
		}
		uart->reg_shift = shift;
		uart->io_width = width;
		return 0;
	}
	return -ENOTSUP;
}

static bool is_psci_cpu(const void *fdt, int node)
{
	const char *type, *method;
	int tlen, mlen;

	type = fdt_getprop(fdt, node, "device_type", &tlen);
	method = fdt_getprop(fdt, node, "enable-method", &mlen);
	return type && tlen == sizeof("cpu") && !memcmp(type, "cpu", tlen) &&
	       method && mlen == sizeof("psci") &&
	       !memcmp(method, "psci", mlen) && node_enabled(fdt, node);
}

int dtb_for_each_psci_cpu(const void *fdt,
			  void (*fn)(void *arg, uint64_t mpidr), void *arg)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	int node, total = 0;

	if (cpus < 0) {
		return -ENOENT;
	}
	fdt_for_each_subnode(node, fdt, cpus) {
		struct dtb_reg reg;

		if (!is_psci_cpu(fdt, node)) {
			continue;
		}
		/* A CPU's reg is its MPIDR, with #size-cells 0. */
		if (__read_reg(fdt, node, true, 0, &reg)) {
			return -EINVAL;
		}
		fn(arg, reg.base);
		total++;
	}
	return total;
}

int dtb_psci_method(const void *fdt, const char **method)
{
	int node = fdt_path_offset(fdt, "/psci");
	int len;

	if (node < 0) {
		return -ENOENT;
	}
	*method = fdt_getprop(fdt, node, "method", &len);
	if (!*method || len < 1 || (*method)[len - 1] != '\0') {
		*method = NULL;
		return -EINVAL;
	}
	return 0;
}
