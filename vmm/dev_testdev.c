// SPDX-License-Identifier: MIT
/*
 * The MMIO test device (register layout in include/vmm/devices.h): scratch
 * device memory plus registers that report how the previous access arrived,
 * so a guest can check that Strata decoded its size, direction and value.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/devices.h>

struct testdev {
	uint8_t scratch[TESTDEV_SCRATCH_SIZE];
	uint64_t last;
	uint64_t wval;
	uint32_t count;
};

static struct testdev testdevs[VM_MAX_VMS];

static int scratch_ok(uint64_t off, unsigned int size)
{
	return off < TESTDEV_SCRATCH + TESTDEV_SCRATCH_SIZE &&
	       IS_ALIGNED(off, size) ? 0 : -EINVAL;
}

static void note(struct testdev *t, uint64_t off, unsigned int size,
		 bool write)
{
	t->count++;
	t->last = size | (write ? BIT(8) : 0) | (off << 16) |
		  ((uint64_t)t->count << 32);
}

static int testdev_read(struct vcpu *v, struct io_device *d, uint64_t off,
			unsigned int size, uint64_t *val)
{
	struct testdev *t = d->priv;
	uint64_t x = 0;

	(void)v;
	if (off == TESTDEV_LAST || off == TESTDEV_WVAL) {
		if (size != 8) {
			return -EINVAL;
		}
		*val = off == TESTDEV_LAST ? t->last : t->wval;
		return 0;
	}
	if (scratch_ok(off, size)) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < size; i++) {
		x |= (uint64_t)t->scratch[off + i] << (8 * i);
	}
	*val = x;
	note(t, off, size, false);
	return 0;
}

static int testdev_write(struct vcpu *v, struct io_device *d, uint64_t off,
			 unsigned int size, uint64_t val)
{
	struct testdev *t = d->priv;

	(void)v;
	if (scratch_ok(off, size)) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < size; i++) {
		t->scratch[off + i] = (uint8_t)(val >> (8 * i));
	}
	t->wval = val;
	note(t, off, size, true);
	return 0;
}

static const struct io_device_ops testdev_ops = {
	.read = testdev_read,
	.write = testdev_write,
};

int dev_testdev_add(struct vm *vm, enum io_space space, uint64_t base)
{
	struct testdev *t = &testdevs[vm->index];
	struct io_device d = {
		.name = "testdev",
		.space = space,
		.base = base,
		.size = TESTDEV_SIZE,
		.ops = &testdev_ops,
		.priv = t,
	};

	memset(t, 0, sizeof(*t));
	return vm_add_device(vm, &d);
}
