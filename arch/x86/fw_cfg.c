// SPDX-License-Identifier: MIT
/*
 * QEMU's fw_cfg device, the traditional I/O port interface (QEMU
 * docs/specs/fw_cfg.rst), on by default in every x86 VM so that guests
 * built for QEMU (kvm-unit-tests among them) learn the machine's shape:
 *   port 0x510  selector, 16 bits, write only: selects an item and
 *               rewinds its read offset to 0 (reads return 0);
 *   port 0x511  data, 8 bits: each read returns the item's next byte, 0
 *               past its end or for an item that does not exist; writes
 *               are ignored (as QEMU has done since 2.4).
 * There is no DMA interface (FW_CFG_ID says so: bit 0 only) and the file
 * directory is empty. Items, all little-endian as QEMU gives them:
 *   0x00 SIGNATURE "QEMU"      0x01 ID 1           0x02 UUID (16 zeros)
 *   0x03 RAM_SIZE (u64)        0x04 NOGRAPHIC 1    0x05 NB_CPUS (u16)
 *   0x0f MAX_CPUS (u16)        0x08 KERNEL_SIZE    0x11 KERNEL_DATA
 *   0x0a INITRD_ADDR           0x0b INITRD_SIZE    0x12 INITRD_DATA
 *   0x14 CMDLINE_SIZE (with its NUL)               0x15 CMDLINE_DATA
 *   0x19 FILE_DIR (count 0, big-endian)
 * KERNEL_* and INITRD_* are the VM's files from the bundle, CMDLINE_* its
 * strata.cfg `cmdline`; the ones for a file the VM has not are size 0.
 */
#include <arch/vmx_run.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define FW_CFG_PORT		0x510
#define FW_CFG_PORTS		2

#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_UUID		0x02
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NOGRAPHIC	0x04
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_KERNEL_SIZE	0x08
#define FW_CFG_INITRD_ADDR	0x0a
#define FW_CFG_INITRD_SIZE	0x0b
#define FW_CFG_MAX_CPUS		0x0f
#define FW_CFG_KERNEL_DATA	0x11
#define FW_CFG_INITRD_DATA	0x12
#define FW_CFG_CMDLINE_SIZE	0x14
#define FW_CFG_CMDLINE_DATA	0x15
#define FW_CFG_FILE_DIR		0x19

struct fw_cfg {
	const struct vm *vm;
	const struct bundle_file *kernel, *initrd;	/* NULL: none */
	uint16_t select;
	uint32_t offset;
	uint8_t word[16];	/* the selected item when it is a number */
};

static struct fw_cfg fw_cfgs[VM_MAX_VMS];

static uint32_t put_le(uint8_t *b, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		b[i] = (uint8_t)(v >> (8 * i));
	}
	return n;
}

/* The bytes of item @key: *@data and the length (0: no such item). */
static uint32_t item(struct fw_cfg *f, uint16_t key, const uint8_t **data)
{
	const struct vm *vm = f->vm;
	const struct bundle_file *k = f->kernel, *i = f->initrd;
	unsigned int cpus = vm->nr_vcpus;

	*data = f->word;
	memset(f->word, 0, sizeof(f->word));
	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(f->word, "QEMU", 4);
		return 4;
	case FW_CFG_ID:
		return put_le(f->word, 1, 4);	/* traditional, no DMA */
	case FW_CFG_UUID:
		return 16;
	case FW_CFG_RAM_SIZE:
		return put_le(f->word, vm->ram_size, 8);
	case FW_CFG_NOGRAPHIC:
		return put_le(f->word, 1, 2);
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		return put_le(f->word, cpus, 2);
	case FW_CFG_KERNEL_SIZE:
		return put_le(f->word, k ? k->size : 0, 4);
	case FW_CFG_KERNEL_DATA:
		*data = k ? k->data : NULL;
		return k ? (uint32_t)k->size : 0;
	case FW_CFG_INITRD_ADDR:
		return put_le(f->word, i ? vm->initrd_gpa : 0, 4);
	case FW_CFG_INITRD_SIZE:
		return put_le(f->word, i ? i->size : 0, 4);
	case FW_CFG_INITRD_DATA:
		*data = i ? i->data : NULL;
		return i ? (uint32_t)i->size : 0;
	case FW_CFG_CMDLINE_SIZE:
		return put_le(f->word, strlen(vm->cfg->cmdline) + 1, 4);
	case FW_CFG_CMDLINE_DATA:
		*data = (const uint8_t *)vm->cfg->cmdline;
		return (uint32_t)strlen(vm->cfg->cmdline) + 1;
	case FW_CFG_FILE_DIR:
		return 4;	/* count 0 */
	default:
		return 0;
	}
}

static int fw_cfg_read(struct vcpu *v, struct io_device *d, uint64_t off,
		       unsigned int size, uint64_t *val)
{
	struct fw_cfg *f = d->priv;
	const uint8_t *data;
	uint32_t len;

	(void)v;
	*val = 0;
	if (off != 1) {
		return 0;	/* the selector reads as 0 */
	}
	/* The data register is one byte; a wider read takes one byte too. */
	(void)size;
	len = item(f, f->select, &data);
	if (f->offset < len && data) {
		*val = data[f->offset];
	}
	if (f->offset < len) {
		f->offset++;
	}
	return 0;
}

static int fw_cfg_write(struct vcpu *v, struct io_device *d, uint64_t off,
			unsigned int size, uint64_t val)
{
	struct fw_cfg *f = d->priv;

	(void)v;
	if (off == 0 && size >= 2) {
		f->select = (uint16_t)val;
		f->offset = 0;
	}
	/* Data writes, and byte writes to half the selector, are ignored. */
	return 0;
}

static const struct io_device_ops fw_cfg_ops = {
	.read = fw_cfg_read,
	.write = fw_cfg_write,
};

int x86_fw_cfg_add(struct vm *vm)
{
	struct io_device d = {
		.name = "fw_cfg",
		.space = IO_PIO,
		.base = FW_CFG_PORT,
		.size = FW_CFG_PORTS,
		.ops = &fw_cfg_ops,
	};

	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	/* The files are looked up once: the data port is read byte by byte. */
	fw_cfgs[vm->index] = (struct fw_cfg){
		.vm = vm,
		.kernel = bundle_find(vm->bundle, vm->cfg->kernel),
		.initrd = vm->cfg->initrd[0] ?
			bundle_find(vm->bundle, vm->cfg->initrd) : NULL,
	};
	d.priv = &fw_cfgs[vm->index];
	return vm_add_device(vm, &d);
}
