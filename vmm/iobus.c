// SPDX-License-Identifier: MIT
/*
 * A VM's device bus: MMIO ranges and (x86) I/O ports, each claimed by one
 * emulated device.
 *
 * Semantics of an access no device claims (or that the claiming device
 * refuses): an MMIO read returns 0 and an I/O port read returns all ones (what
 * an empty bus gives on real machines); writes are dropped. The access is
 * counted in STRATA_CTR_MMIO_UNCLAIMED and the first VM_UNCLAIMED_REPORTS of
 * each VM are printed. The guest keeps running: a wild access never stops the
 * hypervisor or the VM.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/vm.h>

#define VM_UNCLAIMED_REPORTS	8

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int vm_add_device(struct vm *vm, const struct io_device *d)
{
	if (!d->size || d->base + d->size < d->base) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		const struct io_device *o = &vm->devices[i];

		if (o->space == d->space &&
		    overlaps(o->base, o->size, d->base, d->size)) {
			pr_err("vm %s: device %s at 0x%llx overlaps %s\n",
			       vm->name, d->name, (unsigned long long)d->base,
			       o->name);
			return -EBUSY;
		}
	}
	if (vm->nr_devices == VM_MAX_DEVICES) {
		pr_err("vm %s: no room for device %s\n", vm->name, d->name);
		return -ENOSPC;
	}
	vm->devices[vm->nr_devices++] = *d;
	return 0;
}

static bool claims(const struct io_device *d, enum io_space space,
		   uint64_t addr, unsigned int size)
{
	return io_device_claims(d, space, addr, size);
}

/*
 * The device of each VM that claimed its last access: a driver polling one
 * register asks the same device again and again. Ranges never overlap
 * (vm_add_device()), so the hint, checked like any other device, finds
 * what the search would; a stale index (the devices changed) only misses.
 * Rejected: a field in struct vm (its header is shared with other work).
 */
static unsigned int last_device[VM_MAX_VMS];

static struct io_device *find_device(struct vm *vm, enum io_space space,
				     uint64_t addr, unsigned int size)
{
	unsigned int *hint = &last_device[vm->index];

	if (*hint < vm->nr_devices &&
	    claims(&vm->devices[*hint], space, addr, size)) {
		return &vm->devices[*hint];
	}
	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		if (claims(&vm->devices[i], space, addr, size)) {
			*hint = i;
			return &vm->devices[i];
		}
	}
	return NULL;
}

/* An access no device took (see the top): its answer, count and report. */
static __attribute__((noinline)) int unclaimed(struct vm *vm,
						 enum io_space space,
						 uint64_t addr,
						 unsigned int size, bool write,
						 uint64_t *val, uint64_t mask)
{
	if (!write) {
		*val = space == IO_PIO ? mask : 0;
	}
	if (vm->ctr[STRATA_CTR_MMIO_UNCLAIMED]++ < VM_UNCLAIMED_REPORTS) {
		pr_warn("vm %s: unclaimed %s %s of %u bytes at 0x%llx%s\n",
			vm->name, space == IO_PIO ? "port" : "MMIO",
			write ? "write" : "read", size,
			(unsigned long long)addr,
			vm->ctr[STRATA_CTR_MMIO_UNCLAIMED] ==
				VM_UNCLAIMED_REPORTS ? " (further ones not shown)" : "");
	}
	return -ENODEV;
}

static bool valid_size(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t size_mask(unsigned int size)
{
	return size == 8 ? ~0ULL : BIT(size * 8) - 1;
}

int vm_io_access(struct vcpu *v, enum io_space space, uint64_t addr,
		 unsigned int size, bool write, uint64_t *val)
{
	struct vm *vm = v->vm;
	struct io_device *d;

	if (!valid_size(size)) {
		vm->ctr[STRATA_CTR_MMIO] += space == IO_MMIO;
		return unclaimed(vm, space, addr, size, write, val, 0);
	}
	d = find_device(vm, space, addr, size);
	if (d) {
		return vm_io_device_access(v, d, space, addr, size, write, val);
	}
	vm->ctr[STRATA_CTR_MMIO] += space == IO_MMIO;
	return unclaimed(vm, space, addr, size, write, val, size_mask(size));
}

struct io_device *vm_io_device(struct vm *vm, enum io_space space,
			       uint64_t addr, unsigned int size)
{
	return valid_size(size) ? find_device(vm, space, addr, size) : NULL;
}

int vm_io_refused(struct vcpu *v, enum io_space space, uint64_t addr,
		  unsigned int size, bool write, uint64_t *val)
{
	return unclaimed(v->vm, space, addr, size, write, val,
			 size_mask(size));
}
