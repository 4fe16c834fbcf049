// SPDX-License-Identifier: MIT
/*
 * PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2)
 * with one device behind it, an i440FX-like host bridge at 00:00.0 (Intel
 * 82441FX PMC datasheet, 290549): docs/x86-pc-devices.md.
 *   0xcf8       CONFIG_ADDRESS, 32-bit accesses only: enable (31), bus
 *               (23:16), device (15:11), function (10:8), register (7:2);
 *               bits 30:24 and 1:0 read 0. Narrower accesses are not the
 *               register: the bridge ignores them (reads all ones,
 *               writes dropped, as QEMU's i440FX does; Linux's probe
 *               writes a byte to 0xcfb first), except
 *   0xcf9       a byte: the reset control register (reset_ctl.c);
 *   0xcfc-0xcff CONFIG_DATA, 1, 2 or 4 bytes at the register CONFIG_ADDRESS
 *               selects plus the port's offset. With enable clear it is
 *               no configuration cycle: reads all ones, writes dropped.
 * Any function but 00:00.0 (any bus but 0) does not answer: reads all
 * ones, writes dropped (a master abort). Writes to read-only registers
 * and bits are ignored.
 */
#include <arch/pcdev.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define PCI_PORT		0xcf8
#define PCI_PORTS		8
#define PCI_RESET_CTL		1	/* 0xcf9 */
#define PCI_DATA		4	/* 0xcfc */

#define CONFIG_ENABLE		BIT(31)
#define CONFIG_ADDR_BITS	(CONFIG_ENABLE | 0x00fffffcU)

/* The 82441FX's configuration space: values and writable bits. */
#define HB_VENDOR		0x8086
#define HB_DEVICE		0x1237
#define HB_REVISION		0x02
#define HB_CLASS		0x060000	/* host bridge */
#define HB_COMMAND		0x0006		/* memory space, bus master */
#define HB_STATUS		0x0280		/* fast back-to-back, medium */

struct pci_host {
	uint32_t addr;
	uint8_t cfg[256];
	uint8_t wmask[256];
	uint8_t w1c[256];	/* write-1-to-clear bits (status) */
};

static struct pci_host hosts[VM_MAX_VMS];

static void put16(uint8_t *b, unsigned int off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void host_bridge_reset(struct pci_host *h)
{
	memset(h, 0, sizeof(*h));
	put16(h->cfg, 0x00, HB_VENDOR);
	put16(h->cfg, 0x02, HB_DEVICE);
	put16(h->cfg, 0x04, HB_COMMAND);
	put16(h->cfg, 0x06, HB_STATUS);
	h->cfg[0x08] = HB_REVISION;
	h->cfg[0x09] = (uint8_t)HB_CLASS;
	h->cfg[0x0a] = (uint8_t)(HB_CLASS >> 8);
	h->cfg[0x0b] = (uint8_t)(HB_CLASS >> 16);
	/* PCICMD: PERR# and SERR# enables are the software's (6, 8). */
	put16(h->wmask, 0x04, BIT(6) | BIT(8));
	/* PCISTS: the error bits clear when written with 1 (15:11). */
	h->w1c[0x07] = 0xf8;
	/* MLT, the latency timer: bits 7:3. */
	h->wmask[0x0d] = 0xf8;
	/* Interrupt line: a byte for software (no INTx pin: 0x3d is 0). */
	h->wmask[0x3c] = 0xff;
}

/* The selected function is 00:00.0; @reg the register's byte offset. */
static bool selects_host(const struct pci_host *h)
{
	return (h->addr & CONFIG_ENABLE) && !(h->addr & 0x00ffff00U);
}

static uint64_t all_ones(unsigned int size)
{
	return size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1;
}

static int pci_read(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t *val)
{
	struct pci_host *h = d->priv;
	unsigned int reg;

	if (off < PCI_DATA) {
		if (off == 0 && size == 4) {
			*val = h->addr;
			return 0;
		}
		if (off == PCI_RESET_CTL && size == 1) {
			*val = x86_reset_ctl_read(v->vm);
			return 0;
		}
		*val = all_ones(size);	/* not a register */
		return 0;
	}
	if (off + size > PCI_PORTS || size > 4) {
		return -EINVAL;
	}
	if (!(h->addr & CONFIG_ENABLE) || !selects_host(h)) {
		*val = all_ones(size);	/* no cycle, or a master abort */
		return 0;
	}
	reg = (h->addr & 0xfc) + (unsigned int)(off - PCI_DATA);
	*val = 0;
	for (unsigned int i = 0; i < size; i++) {
		*val |= (uint64_t)h->cfg[reg + i] << (8 * i);
	}
	return 0;
}

static int pci_write(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t val)
{
	struct pci_host *h = d->priv;
	unsigned int reg;

	if (off < PCI_DATA) {
		if (off == 0 && size == 4) {
			h->addr = (uint32_t)val & CONFIG_ADDR_BITS;
			return 0;
		}
		if (off == PCI_RESET_CTL && size == 1) {
			x86_reset_ctl_write(v, (uint8_t)val);
			return 0;
		}
		return 0;	/* not a register: dropped */
	}
	if (off + size > PCI_PORTS || size > 4) {
		return -EINVAL;
	}
	if (!selects_host(h)) {
		return 0;
	}
	reg = (h->addr & 0xfc) + (unsigned int)(off - PCI_DATA);
	for (unsigned int i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), *c = &h->cfg[reg + i];

		*c = (uint8_t)((*c & ~h->wmask[reg + i]) |
			       (b & h->wmask[reg + i]));
		*c &= (uint8_t)~(b & h->w1c[reg + i]);
	}
	return 0;
}

static const struct io_device_ops pci_ops = {
	.read = pci_read,
	.write = pci_write,
};

int x86_pci_add(struct vm *vm)
{
	struct io_device d = {
		.name = "pci-conf1",
		.space = IO_PIO,
		.base = PCI_PORT,
		.size = PCI_PORTS,
		.ops = &pci_ops,
	};

	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	host_bridge_reset(&hosts[vm->index]);
	d.priv = &hosts[vm->index];
	return vm_add_device(vm, &d);
}
