/* SPDX-License-Identifier: MIT */
/*
 * Reading the flattened device tree the loader passed (arm64: x0 at entry),
 * on top of libfdt. Every function checks what it reads against the blob's
 * bounds and the node's #address-cells/#size-cells: a broken DTB gives an
 * error return, never a wild access.
 *
 * Addresses are used as found in `reg`: a node whose parent buses translate
 * addresses (a non-empty `ranges`) is refused with -ENOTSUP rather than
 * misread.
 */
#ifndef STRATA_DRIVERS_FDT_H
#define STRATA_DRIVERS_FDT_H

#include <types.h>

struct dtb_reg {
	paddr_t base;
	uint64_t size;
};

/* Largest DTB accepted (the Linux arm64 boot protocol's limit). */
#define DTB_MAX_SIZE	SZ_2M

/*
 * Check the header of the blob at @fdt (libfdt's fdt_check_header and the
 * size limit); on success store its total size in @size. -EINVAL otherwise.
 */
int dtb_check(const void *fdt, uint64_t *size);
/* A short reason for the last dtb_check() failure. */
const char *dtb_strerror(int fdt_err);

typedef void (*dtb_range_fn)(void *arg, paddr_t base, uint64_t size,
			     const char *what);

/* Call @fn for every reg range of every enabled memory node. Returns the
 * number of ranges, or -errno when a memory node is malformed. */
int dtb_for_each_memory(const void *fdt, dtb_range_fn fn, void *arg);
/* Call @fn for every /memreserve/ entry ("memreserve") and every static
 * /reserved-memory region ("reserved-memory"). Returns the count or -errno. */
int dtb_for_each_reserved(const void *fdt, dtb_range_fn fn, void *arg);

/* /chosen/bootargs, or "" when absent; -EINVAL if not a proper string. */
int dtb_bootargs(const void *fdt, const char **args);
/* /chosen linux,initrd-start/end. -ENOENT if absent, -EINVAL if bad. */
int dtb_initrd(const void *fdt, paddr_t *start, paddr_t *end);

/* The console PL011: /chosen/stdout-path, else the first enabled
 * "arm,pl011" node. -ENOENT when there is none. */
int dtb_find_pl011(const void *fdt, struct dtb_reg *reg);

/*
 * The interrupt controller: version 3 (arm,gic-v3) with its distributor and
 * first redistributor region, or version 2 (arm,cortex-a15-gic, arm,gic-400)
 * with its distributor and CPU interface. -ENOENT if none.
 */
int dtb_find_gic(const void *fdt, unsigned int *version, struct dtb_reg *r0,
		 struct dtb_reg *r1);

/**
 * struct dtb_gicv2 - a GICv2 (arm,cortex-a15-gic, arm,gic-400) node.
 * @dist: GICD, reg entry 0.
 * @cpu: GICC, reg entry 1.
 * @hyp: GICH, reg entry 2 (size 0 without the virtualization extensions).
 * @vcpu: GICV, reg entry 3 (likewise).
 * @maint_intid: the maintenance interrupt's INTID from the node's first
 *	interrupt specifier (PPI n is 16 + n), 0 when there is none.
 */
struct dtb_gicv2 {
	struct dtb_reg dist;
	struct dtb_reg cpu;
	struct dtb_reg hyp;
	struct dtb_reg vcpu;
	unsigned int maint_intid;
};

/*
 * The first enabled GICv2 node. -ENOENT when there is none, -EINVAL when
 * its reg lacks the distributor or the CPU interface or its interrupts
 * property is malformed.
 */
int dtb_find_gicv2(const void *fdt, struct dtb_gicv2 *gic);

/* The console UART /chosen/stdout-path names (dtb_find_console()). */
enum dtb_uart_kind {
	DTB_UART_PL011,		/* arm,pl011 */
	DTB_UART_16550,		/* ns16550a, ns16550, snps,dw-apb-uart */
};

/**
 * struct dtb_uart - the console UART.
 * @kind: its register model.
 * @reg: its first reg entry.
 * @reg_shift: 16550: register n is at @reg.base + (n << @reg_shift).
 * @io_width: 16550: access width in bytes (1 or 4, "reg-io-width").
 * @node_name: the node's name (for messages).
 */
struct dtb_uart {
	enum dtb_uart_kind kind;
	struct dtb_reg reg;
	unsigned int reg_shift;
	unsigned int io_width;
	const char *node_name;
};

/*
 * The console named by /chosen/stdout-path (a path or an alias, then
 * ":options"). -ENOENT when there is no stdout-path; -ENODEV when it names
 * no node; -ENOTSUP when the node is no UART Strata drives (its name is in
 * @uart->node_name); -EINVAL for a bad reg, reg-shift or reg-io-width.
 */
int dtb_find_console(const void *fdt, struct dtb_uart *uart);

/* Call @fn with the MPIDR (the reg value) of every enabled /cpus node whose
 * enable-method is "psci". Returns the number of CPUs or -errno. */
int dtb_for_each_psci_cpu(const void *fdt,
			  void (*fn)(void *arg, uint64_t mpidr), void *arg);

/* /psci's method ("smc" or "hvc"). -ENOENT if there is no PSCI node. */
int dtb_psci_method(const void *fdt, const char **method);

#endif
