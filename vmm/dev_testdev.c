// SPDX-License-Identifier: MIT
/*
 * The MMIO test device (register layout in include/vmm/devices.h): scratch
 * device memory plus registers that report how the previous access arrived,
 * so a guest can check that Strata decoded its size, direction and value.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/devices.h>

/*
 * Scratch bytes are kept in guest order, little-endian, and accessed a
 * whole naturally aligned unit at a time (what the host's loads and stores
 * do in one instruction): both hosts are little-endian.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "scratch accesses assume a little-endian host");

struct testdev {
	uint8_t scratch[TESTDEV_SCRATCH_SIZE] __attribute__((aligned(8)));
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

/* Units of the scratch memory (aligned: scratch_ok()). */
typedef uint16_t __attribute__((may_alias)) scratch16_t;
typedef uint32_t __attribute__((may_alias)) scratch32_t;
typedef uint64_t __attribute__((may_alias)) scratch64_t;

static uint64_t scratch_load(const uint8_t *p, unsigned int size)
{
	switch (size) {
	case 8:
		return *(const scratch64_t *)p;
	case 4:
		return *(const scratch32_t *)p;
	case 2:
		return *(const scratch16_t *)p;
	default:
		return *p;
	}
}

static void scratch_store(uint8_t *p, unsigned int size, uint64_t val)
{
	switch (size) {
	case 8:
		*(scratch64_t *)p = val;
		break;
	case 4:
		*(scratch32_t *)p = (uint32_t)val;
		break;
	case 2:
		*(scratch16_t *)p = (uint16_t)val;
		break;
	default:
		*p = (uint8_t)val;
		break;
	}
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
	*val = scratch_load(&t->scratch[off], size);
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
	scratch_store(&t->scratch[off], size, val);
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
