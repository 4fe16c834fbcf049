// SPDX-License-Identifier: MIT
/*
 * virtio-blk (virtio 1.2, 5.2) backed by a disk image from the bundle.
 *
 * The image in the bundle is never written: it may back the disks of
 * several VMs and a VM reset reloads from the same bundle. A VM's writes go
 * to its own copy, kept a 4 KiB page at a time (copy on first write, pages
 * from the hypervisor's allocator): what a VM wrote it reads back, across
 * its resets too (a disk keeps its contents when the machine reboots), and
 * no other VM sees it. The copy is given back when the VM is destroyed.
 * `disk_ro = on` makes the disk read-only: VIRTIO_BLK_F_RO is offered and
 * writes fail with VIRTIO_BLK_S_IOERR. A writable disk's copy can grow to
 * the disk's size, so it is refused at build when the allocator does not
 * have that much free; when a later write finds no page (other VMs took
 * them), that write fails with IOERR, as a full backing store would.
 *
 * Requests: IN, OUT, FLUSH (nothing is cached, so it completes at once) and
 * GET_ID; any other type gets UNSUPP. A request past the disk's end, or
 * whose buffers are too short for its header, data and status byte, gets
 * IOERR (or, when there is no status byte to write, the device goes to
 * NEEDS_RESET: the driver broke the protocol). Rejected alternative: a
 * full private copy at VM build, which costs the whole image in RAM per VM
 * before the guest reads a byte.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <vmm/virtio.h>

#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8

#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define SECTOR			512
#define BLK_SEG_MAX		126
#define BLK_ID_BYTES		20

struct vdisk {
	struct virtio_dev dev;
	const uint8_t *image;		/* the bundle's file */
	uint64_t size;			/* bytes, whole sectors */
	bool ro;
	uint64_t npages;		/* 4 KiB pages of the disk */
	uint8_t **copy;			/* per page: the VM's copy, or NULL */
	paddr_t copy_pa;		/* the pointer array's pages */
	uint64_t copy_array_pages;
	uint64_t pages_copied;
	struct virtio_chain chain;
	uint8_t bounce[PAGE_SIZE];
};

static struct vdisk disks[VM_MAX_VMS];

static void disk_read(struct vdisk *k, uint64_t pos, uint8_t *dst, uint32_t n)
{
	while (n) {
		uint64_t page = pos >> PAGE_SHIFT;
		uint32_t off = pos & (PAGE_SIZE - 1);
		uint32_t len = MIN(n, PAGE_SIZE - off);

		if (k->copy[page]) {
			memcpy(dst, k->copy[page] + off, len);
		} else {
			uint64_t end = MIN(k->size, (page + 1) << PAGE_SHIFT);
			uint64_t avail = end - pos;

			memcpy(dst, k->image + pos, MIN(len, avail));
		}
		pos += len;
		dst += len;
		n -= len;
	}
}

static int disk_write(struct vdisk *k, uint64_t pos, const uint8_t *src,
		      uint32_t n)
{
	while (n) {
		uint64_t page = pos >> PAGE_SHIFT;
		uint32_t off = pos & (PAGE_SIZE - 1);
		uint32_t len = MIN(n, PAGE_SIZE - off);

		if (!k->copy[page]) {
			uint64_t start = page << PAGE_SHIFT;
			uint8_t *p = palloc_page_zeroed();

			if (!p) {
				return -ENOMEM;
			}
			memcpy(p, k->image + start,
			       MIN(PAGE_SIZE, k->size - start));
			k->copy[page] = p;
			k->pages_copied++;
		}
		memcpy(k->copy[page] + off, src, len);
		pos += len;
		src += len;
		n -= len;
	}
	return 0;
}

/* One request; returns the status byte's value and sets *@written. */
static uint8_t blk_request(struct vdisk *k, const struct virtio_chain *c,
			   uint32_t in_data, uint32_t *written)
{
	uint32_t hdr[4];
	uint64_t sector, pos;
	uint32_t out_data, n;

	if (virtio_chain_read(&k->dev, c, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		return VIRTIO_BLK_S_IOERR;
	}
	sector = hdr[2] | ((uint64_t)hdr[3] << 32);
	out_data = virtio_chain_out_len(c) - sizeof(hdr);
	switch (hdr[0]) {
	case VIRTIO_BLK_T_IN:
		if (in_data % SECTOR || sector > k->size / SECTOR ||
		    in_data > k->size - sector * SECTOR) {
			return VIRTIO_BLK_S_IOERR;
		}
		pos = sector * SECTOR;
		for (uint32_t off = 0; off < in_data; off += n) {
			n = MIN(in_data - off, PAGE_SIZE);
			disk_read(k, pos + off, k->bounce, n);
			if (virtio_chain_write(&k->dev, c, off, k->bounce, n) != n) {
				return VIRTIO_BLK_S_IOERR;
			}
		}
		*written = in_data;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (k->ro || out_data % SECTOR ||
		    sector > k->size / SECTOR ||
		    out_data > k->size - sector * SECTOR) {
			return VIRTIO_BLK_S_IOERR;
		}
		pos = sector * SECTOR;
		for (uint32_t off = 0; off < out_data; off += n) {
			n = MIN(out_data - off, PAGE_SIZE);
			if (virtio_chain_read(&k->dev, c, sizeof(hdr) + off,
					      k->bounce, n) != n ||
			    disk_write(k, pos + off, k->bounce, n)) {
				return VIRTIO_BLK_S_IOERR;
			}
		}
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[BLK_ID_BYTES + 1] = { 0 };

		ksnprintf(id, sizeof(id), "strata-%s", k->dev.vm->name);
		n = MIN(in_data, BLK_ID_BYTES);
		*written = virtio_chain_write(&k->dev, c, 0, id, n);
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_notify(struct virtio_dev *d, unsigned int q)
{
	struct vdisk *k = d->priv;
	struct virtio_chain *c = &k->chain;
	bool pushed = false;

	while (virtio_pop(d, q, c) > 0) {
		uint32_t in = virtio_chain_in_len(c), written = 0;
		uint8_t status;

		if (!virtio_spend(d, q, (uint64_t)in + virtio_chain_out_len(c))) {
			virtio_unpop(d, q);
			break;
		}
		if (!in) {
			virtio_device_error(d, "request %u has no status byte",
					    c->head);
			break;
		}
		status = blk_request(k, c, in - 1, &written);
		if (status != VIRTIO_BLK_S_OK) {
			written = 0;
		}
		if (virtio_chain_write(d, c, in - 1, &status, 1) != 1 ||
		    !virtio_live(d)) {
			break;	/* the device stopped: nothing goes back */
		}
		virtio_push(d, q, c, written + 1);
		pushed = true;
	}
	if (pushed) {
		virtio_notify_used(d, q);
	}
}

static const struct virtio_dev_ops blk_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.budget = 16U << 20,
	.notify = blk_notify,
};

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

/* Take the disk image and set up the VM's copy, once per VM (not at reset). */
static int disk_open(struct vm *vm, struct vdisk *k)
{
	const struct bundle_file *f = bundle_find(vm->bundle, vm->cfg->disk);
	uint64_t bytes;

	if (!f) {
		pr_err("vm %s: disk %s is not in the bundle\n", vm->name,
		       vm->cfg->disk);
		return -ENOENT;
	}
	if (f->size < SECTOR) {
		pr_err("vm %s: disk %s has %zu bytes, less than one 512-byte sector\n",
		       vm->name, f->name, f->size);
		return -EINVAL;
	}
	if (f->size % SECTOR) {
		pr_warn("vm %s: disk %s: %zu bytes is not whole sectors; the last %zu bytes are not on the disk\n",
			vm->name, f->name, f->size, f->size % SECTOR);
	}
	*k = (struct vdisk){ .image = f->data, .size = f->size / SECTOR * SECTOR,
			     .ro = vm->cfg->disk_ro };
	k->npages = ALIGN_UP(k->size, PAGE_SIZE) >> PAGE_SHIFT;
	if (!k->ro) {
		struct palloc_stats st;

		/*
		 * The copy grows to at most the disk's size; refuse now, with
		 * the fix, when the host could not hold that.
		 */
		palloc_get_stats(&st);
		if (st.free_pages < k->npages + 2 * (k->npages >> 9) + 16) {
			pr_err("vm %s: disk %s (%llu KiB): the VM's writes could need that much memory and only %llu KiB are free (make it read-only, disk_ro = on, or smaller)\n",
			       vm->name, f->name,
			       (unsigned long long)(k->size >> 10),
			       (unsigned long long)(st.free_pages << 2));
			return -ENOMEM;
		}
	}
	bytes = k->npages * sizeof(*k->copy);
	k->copy_array_pages = ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT;
	if (palloc_alloc(k->copy_array_pages, 1, &k->copy_pa)) {
		pr_err("vm %s: no memory to track writes to disk %s\n",
		       vm->name, f->name);
		k->copy_array_pages = 0;
		return -ENOMEM;
	}
	k->copy = (uint8_t **)(uintptr_t)k->copy_pa;
	memset(k->copy, 0, k->copy_array_pages * PAGE_SIZE);
	pr_info("vm %s: virtio-blk disk %s, %llu sectors%s\n", vm->name,
		f->name, (unsigned long long)(k->size / SECTOR),
		k->ro ? ", read-only" : "");
	return 0;
}

int dev_virtio_blk_add(struct vm *vm, gpa_t base, unsigned int line)
{
	struct vdisk *k = &disks[vm->index];
	struct virtio_dev *d = &k->dev;
	int ret;

	if (!k->copy) {
		ret = disk_open(vm, k);
		if (ret) {
			return ret;
		}
	}
	memset(d, 0, sizeof(*d));
	d->ops = &blk_ops;
	d->priv = k;
	d->features = BIT(VIRTIO_BLK_F_SEG_MAX) |
		      BIT(VIRTIO_BLK_F_BLK_SIZE) |
		      BIT(VIRTIO_BLK_F_FLUSH) |
		      (k->ro ? BIT(VIRTIO_BLK_F_RO) : 0);
	/* struct virtio_blk_config: capacity, size_max, seg_max, geometry,
	 * blk_size. */
	d->config_len = 24;
	put_le(&d->config[0], k->size / SECTOR, 8);
	put_le(&d->config[12], BLK_SEG_MAX, 4);
	put_le(&d->config[20], SECTOR, 4);
	return virtio_mmio_add(vm, d, base, line);
}

void dev_virtio_blk_destroy(struct vm *vm)
{
	struct vdisk *k = &disks[vm->index];

	if (!k->copy) {
		return;
	}
	for (uint64_t i = 0; i < k->npages; i++) {
		if (k->copy[i]) {
			palloc_free((paddr_t)(uintptr_t)k->copy[i], 1);
		}
	}
	palloc_free(k->copy_pa, k->copy_array_pages);
	k->copy = NULL;
}
