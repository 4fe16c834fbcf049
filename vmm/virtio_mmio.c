// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport and split virtqueues (include/vmm/virtio.h).
 *
 * Register layout: virtio 1.2, 4.2.2 "MMIO Device Register Layout" (the
 * version 2, non-legacy interface). All registers are 32 bits wide and must
 * be accessed with 32-bit loads and stores; the configuration space at
 * 0x100 may be accessed with any naturally aligned width of 1, 2 or 4 bytes
 * (8-byte fields are read as two 4-byte halves, as Linux does). Other widths,
 * offsets that are not registers, reads of write-only and writes of
 * read-only registers are refused, which the bus turns into its unclaimed
 * semantics (vmm/iobus.c).
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/virtio.h>

#define R_MAGIC			0x000
#define R_VERSION		0x004
#define R_DEVICE_ID		0x008
#define R_VENDOR_ID		0x00c
#define R_DEVICE_FEATURES	0x010
#define R_DEVICE_FEATURES_SEL	0x014
#define R_DRIVER_FEATURES	0x020
#define R_DRIVER_FEATURES_SEL	0x024
#define R_QUEUE_SEL		0x030
#define R_QUEUE_NUM_MAX		0x034
#define R_QUEUE_NUM		0x038
#define R_QUEUE_READY		0x044
#define R_QUEUE_NOTIFY		0x050
#define R_INTERRUPT_STATUS	0x060
#define R_INTERRUPT_ACK		0x064
#define R_STATUS		0x070
#define R_QUEUE_DESC_LOW	0x080
#define R_QUEUE_DESC_HIGH	0x084
#define R_QUEUE_DRIVER_LOW	0x090
#define R_QUEUE_DRIVER_HIGH	0x094
#define R_QUEUE_DEVICE_LOW	0x0a0
#define R_QUEUE_DEVICE_HIGH	0x0a4
#define R_SHM_SEL		0x0ac
#define R_SHM_LEN_LOW		0x0b0
#define R_SHM_LEN_HIGH		0x0b4
#define R_SHM_BASE_LOW		0x0b8
#define R_SHM_BASE_HIGH		0x0bc
#define R_CONFIG_GENERATION	0x0fc
#define R_CONFIG		0x100

#define VIRTIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_VENDOR		0x41525453	/* "STRA" */

#define ISR_USED		BIT(0)
#define ISR_CONFIG		BIT(1)

/* Split ring layout (spec 2.7). */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static void update_irq(struct virtio_dev *d)
{
	arch_vm_irq_line(d->vm, d->line, d->isr != 0);
}

bool virtio_live(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       (d->status & VIRTIO_STATUS_FEATURES_OK) &&
	       !(d->status & (VIRTIO_STATUS_NEEDS_RESET |
			      VIRTIO_STATUS_FAILED));
}

void virtio_device_error(struct virtio_dev *d, const char *fmt, ...)
{
	char msg[120];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->status & VIRTIO_STATUS_NEEDS_RESET) {
		return;
	}
	/* A guest can repeat this at will: the first few are shown. */
	if (d->errors++ < VIRTIO_ERROR_REPORTS) {
		pr_warn("vm %s: virtio-%s at 0x%llx: %s; the device needs a reset%s\n",
			d->vm->name, d->ops->name, (unsigned long long)d->base,
			msg, d->errors == VIRTIO_ERROR_REPORTS ?
			" (further ones not shown)" : "");
	}
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (d->status & VIRTIO_STATUS_DRIVER_OK) {
		d->isr |= ISR_CONFIG;
		update_irq(d);
	}
}

static void device_reset(struct virtio_dev *d)
{
	d->status = 0;
	d->isr = 0;
	d->driver_features = 0;
	d->dev_features_sel = 0;
	d->drv_features_sel = 0;
	d->queue_sel = 0;
	memset(d->q, 0, sizeof(d->q));
	if (d->ops->reset) {
		d->ops->reset(d);
	}
	update_irq(d);
}

/* Guest memory of @len bytes at @gpa, or NULL when RAM does not hold it. */
static void *guest_ptr(struct virtio_dev *d, gpa_t gpa, uint64_t len)
{
	if (gpa + len < gpa) {
		return NULL;
	}
	return vm_gpa_to_host(d->vm, gpa, len);
}

static bool is_pow2(uint32_t n)
{
	return n && !(n & (n - 1));
}

/* QueueReady set: the rings must be where RAM is, aligned (spec 2.7). */
static bool queue_check(struct virtio_dev *d, struct virtio_queue *q)
{
	uint64_t n = q->num;

	if (!is_pow2(q->num) || q->num > VIRTIO_QUEUE_MAX) {
		virtio_device_error(d, "queue size %u is not a power of 2 up to %u",
				    q->num, VIRTIO_QUEUE_MAX);
		return false;
	}
	if (!IS_ALIGNED(q->desc, 16) || !IS_ALIGNED(q->avail, 2) ||
	    !IS_ALIGNED(q->used, 4)) {
		virtio_device_error(d, "misaligned rings (desc 0x%llx avail 0x%llx used 0x%llx)",
				    (unsigned long long)q->desc,
				    (unsigned long long)q->avail,
				    (unsigned long long)q->used);
		return false;
	}
	if (!guest_ptr(d, q->desc, 16 * n) ||
	    !guest_ptr(d, q->avail, 6 + 2 * n) ||
	    !guest_ptr(d, q->used, 6 + 8 * n) ||
	    vm_prepare_host_write(d->vm, q->used, 6 + 8 * n)) {
		virtio_device_error(d, "rings outside the VM's RAM");
		return false;
	}
	return true;
}

int virtio_pop(struct virtio_dev *d, unsigned int qi, struct virtio_chain *c)
{
	struct virtio_queue *q = &d->q[qi];
	const volatile uint16_t *avail;
	const volatile struct vring_desc *desc;
	uint64_t total = 0;
	uint16_t idx, head, i;
	unsigned int n = 0;

	if (!virtio_live(d) || qi >= d->ops->nr_queues || !q->ready) {
		return 0;
	}
	avail = guest_ptr(d, q->avail, 6 + 2ULL * q->num);
	desc = guest_ptr(d, q->desc, 16ULL * q->num);
	if (!avail || !desc) {
		virtio_device_error(d, "queue %u: rings no longer in RAM", qi);
		return -EINVAL;
	}
	idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
	if (idx == q->last_avail) {
		return 0;
	}
	if ((uint16_t)(idx - q->last_avail) > q->num) {
		virtio_device_error(d, "queue %u: available index %u is %u entries ahead",
				    qi, idx, (uint16_t)(idx - q->last_avail));
		return -EINVAL;
	}
	head = avail[2 + q->last_avail % q->num];
	if (head >= q->num) {
		virtio_device_error(d, "queue %u: head %u past the queue size %u",
				    qi, head, q->num);
		return -EINVAL;
	}
	c->head = head;
	c->nr_out = 0;
	for (i = head;;) {
		/* One read of each field: the guest may change them meanwhile. */
		struct vring_desc e = {
			.addr = desc[i].addr, .len = desc[i].len,
			.flags = desc[i].flags, .next = desc[i].next,
		};
		struct virtio_seg *s;

		if (n == q->num || n == VIRTIO_MAX_SEGS) {
			virtio_device_error(d, "queue %u: chain from %u is longer than the queue (a loop?)",
					    qi, head);
			return -EINVAL;
		}
		if (e.flags & VIRTQ_DESC_F_INDIRECT) {
			virtio_device_error(d, "queue %u: indirect descriptor, not negotiated",
					    qi);
			return -EINVAL;
		}
		if (!(e.flags & VIRTQ_DESC_F_WRITE) && n != c->nr_out) {
			virtio_device_error(d, "queue %u: readable descriptor %u after a writable one",
					    qi, i);
			return -EINVAL;
		}
		if (e.len && !guest_ptr(d, e.addr, e.len)) {
			virtio_device_error(d, "queue %u: descriptor %u: 0x%llx+%u is not the VM's RAM",
					    qi, i, (unsigned long long)e.addr,
					    e.len);
			return -EINVAL;
		}
		total += e.len;
		if (total > VIRTIO_CHAIN_MAX) {
			virtio_device_error(d, "queue %u: chain from %u holds more than %u bytes",
					    qi, head, VIRTIO_CHAIN_MAX);
			return -EINVAL;
		}
		s = &c->seg[n++];
		s->gpa = e.addr;
		s->len = e.len;
		s->write = e.flags & VIRTQ_DESC_F_WRITE;
		if (!s->write) {
			c->nr_out = n;
		}
		if (!(e.flags & VIRTQ_DESC_F_NEXT)) {
			break;
		}
		if (e.next >= q->num) {
			virtio_device_error(d, "queue %u: descriptor %u: next %u past the queue",
					    qi, i, e.next);
			return -EINVAL;
		}
		i = e.next;
	}
	c->nr = n;
	q->last_avail++;
	return 1;
}

void virtio_unpop(struct virtio_dev *d, unsigned int qi)
{
	d->q[qi].last_avail--;
}

void virtio_push(struct virtio_dev *d, unsigned int qi,
		 const struct virtio_chain *c, uint32_t written)
{
	struct virtio_queue *q = &d->q[qi];
	volatile uint32_t *used = guest_ptr(d, q->used, 6 + 8ULL * q->num);
	volatile uint16_t *idx;
	unsigned int slot;

	if (!used || vm_prepare_host_write(d->vm, q->used, 6 + 8ULL * q->num)) {
		virtio_device_error(d, "queue %u: used ring no longer writable RAM",
				    qi);
		return;
	}
	slot = q->used_idx % q->num;
	used[1 + 2 * slot] = c->head;
	used[2 + 2 * slot] = written;
	q->used_idx++;
	idx = (volatile uint16_t *)used + 1;
	__atomic_store_n(idx, q->used_idx, __ATOMIC_RELEASE);
}

void virtio_notify_used(struct virtio_dev *d, unsigned int qi)
{
	struct virtio_queue *q = &d->q[qi];
	const volatile uint16_t *avail = guest_ptr(d, q->avail, 2);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (avail && (avail[0] & VIRTQ_AVAIL_F_NO_INTERRUPT)) {
		return;
	}
	d->isr |= ISR_USED;
	update_irq(d);
}

static uint32_t chain_copy(struct virtio_dev *d, const struct virtio_chain *c,
			   bool to_guest, uint32_t off, void *buf, uint32_t len)
{
	uint32_t done = 0;
	unsigned int first = to_guest ? c->nr_out : 0;
	unsigned int end = to_guest ? c->nr : c->nr_out;

	for (unsigned int i = first; i < end && done < len; i++) {
		const struct virtio_seg *s = &c->seg[i];
		uint32_t n;
		uint8_t *p;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = MIN(s->len - off, len - done);
		p = guest_ptr(d, s->gpa + off, n);
		if (!p || (to_guest &&
			   vm_prepare_host_write(d->vm, s->gpa + off, n))) {
			virtio_device_error(d, "buffer at 0x%llx no longer writable RAM",
					    (unsigned long long)s->gpa);
			break;
		}
		if (to_guest) {
			memcpy(p, (uint8_t *)buf + done, n);
		} else {
			memcpy((uint8_t *)buf + done, p, n);
		}
		done += n;
		off = 0;
	}
	return done;
}

uint32_t virtio_chain_read(struct virtio_dev *d, const struct virtio_chain *c,
			   uint32_t off, void *dst, uint32_t len)
{
	return chain_copy(d, c, false, off, dst, len);
}

uint32_t virtio_chain_write(struct virtio_dev *d, const struct virtio_chain *c,
			    uint32_t off, const void *src, uint32_t len)
{
	return chain_copy(d, c, true, off, (void *)src, len);
}

uint32_t virtio_chain_out_len(const struct virtio_chain *c)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < c->nr_out; i++) {
		n += c->seg[i].len;
	}
	return (uint32_t)MIN(n, 0xffffffffULL);
}

uint32_t virtio_chain_in_len(const struct virtio_chain *c)
{
	uint64_t n = 0;

	for (unsigned int i = c->nr_out; i < c->nr; i++) {
		n += c->seg[i].len;
	}
	return (uint32_t)MIN(n, 0xffffffffULL);
}

/* ---- registers ---------------------------------------------------------- */

static struct virtio_queue *cur_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->ops->nr_queues ? &d->q[d->queue_sel] : NULL;
}

static int config_read(struct virtio_dev *d, uint64_t off, unsigned int size,
		       uint64_t *val)
{
	uint64_t v = 0;

	if (size > 4 || !IS_ALIGNED(off, size) || off + size > d->config_len) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < size; i++) {
		v |= (uint64_t)d->config[off + i] << (8 * i);
	}
	*val = v;
	return 0;
}

static int virtio_read(struct vcpu *v, struct io_device *io, uint64_t off,
		       unsigned int size, uint64_t *val)
{
	struct virtio_dev *d = io->priv;
	struct virtio_queue *q = cur_queue(d);

	(void)v;
	if (off >= R_CONFIG) {
		return config_read(d, off - R_CONFIG, size, val);
	}
	if (size != 4) {
		return -EINVAL;
	}
	switch (off) {
	case R_MAGIC:
		*val = VIRTIO_MAGIC;
		break;
	case R_VERSION:
		*val = 2;
		break;
	case R_DEVICE_ID:
		*val = d->ops->device_id;
		break;
	case R_VENDOR_ID:
		*val = VIRTIO_VENDOR;
		break;
	case R_DEVICE_FEATURES:
		*val = d->dev_features_sel == 0 ? (uint32_t)d->features :
		       d->dev_features_sel == 1 ? d->features >> 32 : 0;
		break;
	case R_QUEUE_NUM_MAX:
		*val = q ? VIRTIO_QUEUE_MAX : 0;
		break;
	case R_QUEUE_READY:
		*val = q ? q->ready : 0;
		break;
	case R_INTERRUPT_STATUS:
		*val = d->isr;
		break;
	case R_STATUS:
		*val = d->status;
		break;
	case R_SHM_LEN_LOW:
	case R_SHM_LEN_HIGH:
	case R_SHM_BASE_LOW:
	case R_SHM_BASE_HIGH:
		*val = 0xffffffff;	/* no shared memory regions */
		break;
	case R_CONFIG_GENERATION:
		*val = d->config_gen;
		break;
	case R_QUEUE_NUM:
	case R_QUEUE_DESC_LOW:
	case R_QUEUE_DESC_HIGH:
	case R_QUEUE_DRIVER_LOW:
	case R_QUEUE_DRIVER_HIGH:
	case R_QUEUE_DEVICE_LOW:
	case R_QUEUE_DEVICE_HIGH: {
		/* Write-only in the spec; Linux never reads them. */
		return -EINVAL;
	}
	default:
		return -EINVAL;
	}
	return 0;
}

void virtio_run_queue(struct virtio_dev *d, unsigned int q)
{
	d->budget = d->ops->budget;
	d->q[q].more = false;
	d->ops->notify(d, q);
}

bool virtio_spend(struct virtio_dev *d, unsigned int q, uint64_t bytes)
{
	if (d->budget < bytes + VIRTIO_CHAIN_COST) {
		d->q[q].more = true;
		return false;
	}
	d->budget -= bytes + VIRTIO_CHAIN_COST;
	return true;
}

void vm_virtio_round(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_virtio; i++) {
		struct virtio_dev *d = vm->virtio[i].dev;

		for (unsigned int q = 0; d && q < d->ops->nr_queues; q++) {
			if (d->q[q].more && virtio_live(d) && d->q[q].ready) {
				virtio_run_queue(d, q);
			}
		}
	}
}

static void set_half(gpa_t *a, bool high, uint32_t v)
{
	*a = high ? (*a & 0xffffffffULL) | ((uint64_t)v << 32) :
		    (*a & ~0xffffffffULL) | v;
}

static void write_status(struct virtio_dev *d, uint32_t v)
{
	if (!v) {
		device_reset(d);
		return;
	}
	/* FEATURES_OK sticks only for a subset of ours that has VERSION_1. */
	if ((v & VIRTIO_STATUS_FEATURES_OK) &&
	    !(d->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((d->driver_features & ~d->features) ||
	     !(d->driver_features & BIT(VIRTIO_F_VERSION_1)))) {
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	/*
	 * The driver sets bits and never clears one except by writing 0
	 * (spec 2.1.2): a write that would clear some keeps them, so features
	 * cannot be reopened under live queues. NEEDS_RESET is the device's.
	 */
	d->status |= v;
}

static int virtio_write(struct vcpu *v, struct io_device *io, uint64_t off,
			unsigned int size, uint64_t val)
{
	struct virtio_dev *d = io->priv;
	struct virtio_queue *q = cur_queue(d);
	uint32_t w = (uint32_t)val;
	bool setup = !(d->status & VIRTIO_STATUS_DRIVER_OK);

	(void)v;
	if (off >= R_CONFIG) {
		/* No device of ours has writable configuration fields. */
		return -EINVAL;
	}
	if (size != 4) {
		return -EINVAL;
	}
	switch (off) {
	case R_DEVICE_FEATURES_SEL:
		d->dev_features_sel = w;
		break;
	case R_DRIVER_FEATURES:
		if (d->status & VIRTIO_STATUS_FEATURES_OK) {
			break;	/* fixed once accepted (spec 3.1.1) */
		}
		if (d->drv_features_sel == 0) {
			d->driver_features = (d->driver_features &
					      ~0xffffffffULL) | w;
		} else if (d->drv_features_sel == 1) {
			d->driver_features = (d->driver_features &
					      0xffffffffULL) |
					     ((uint64_t)w << 32);
		} else if (w) {
			d->driver_features |= BIT(63);	/* not ours */
		}
		break;
	case R_DRIVER_FEATURES_SEL:
		d->drv_features_sel = w;
		break;
	case R_QUEUE_SEL:
		d->queue_sel = w;
		break;
	case R_QUEUE_NUM:
		if (q && !q->ready) {
			q->num = w;
		}
		break;
	case R_QUEUE_READY:
		if (!q) {
			break;
		}
		if (!(w & 1)) {
			q->ready = false;
		} else if (!q->ready && queue_check(d, q)) {
			q->ready = true;
			q->last_avail = 0;
			q->used_idx = 0;
		}
		break;
	case R_QUEUE_DESC_LOW:
	case R_QUEUE_DESC_HIGH:
		if (q && !q->ready) {
			set_half(&q->desc, off == R_QUEUE_DESC_HIGH, w);
		}
		break;
	case R_QUEUE_DRIVER_LOW:
	case R_QUEUE_DRIVER_HIGH:
		if (q && !q->ready) {
			set_half(&q->avail, off == R_QUEUE_DRIVER_HIGH, w);
		}
		break;
	case R_QUEUE_DEVICE_LOW:
	case R_QUEUE_DEVICE_HIGH:
		if (q && !q->ready) {
			set_half(&q->used, off == R_QUEUE_DEVICE_HIGH, w);
		}
		break;
	case R_QUEUE_NOTIFY:
		if (w < d->ops->nr_queues && virtio_live(d) && d->q[w].ready) {
			virtio_run_queue(d, w);
		}
		break;
	case R_INTERRUPT_ACK:
		d->isr &= ~w;
		update_irq(d);
		break;
	case R_STATUS:
		write_status(d, w);
		if (setup && virtio_live(d)) {
			/* Buffers made available before DRIVER_OK. */
			for (unsigned int i = 0; i < d->ops->nr_queues; i++) {
				if (d->q[i].ready) {
					virtio_run_queue(d, i);
				}
			}
		}
		break;
	case R_SHM_SEL:
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static const struct io_device_ops virtio_mmio_ops = {
	.read = virtio_read,
	.write = virtio_write,
};

int virtio_mmio_add(struct vm *vm, struct virtio_dev *d, gpa_t base,
		    unsigned int line)
{
	struct io_device io = {
		.name = d->ops->name,
		.space = IO_MMIO,
		.base = base,
		.size = VIRTIO_MMIO_WINDOW,
		.ops = &virtio_mmio_ops,
		.priv = d,
	};

	d->vm = vm;
	d->base = base;
	d->line = line;
	if (vm->nr_virtio < VM_MAX_VIRTIO) {
		vm->virtio[vm->nr_virtio].dev = d;
	}
	d->features |= BIT(VIRTIO_F_VERSION_1);
	d->errors = 0;
	device_reset(d);
	return vm_add_device(vm, &io);
}

/* ---- the devices a VM's configuration asks for -------------------------- */

int vm_virtio_add(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct {
		bool on;
		const char *what;
		int (*add)(struct vm *vm, gpa_t base, unsigned int line);
	} want[] = {
		{ cfg->disk[0] != 0, "disk", dev_virtio_blk_add },
		{ cfg->rng, "rng", dev_virtio_rng_add },
		{ cfg->net, "net", dev_virtio_net_add },
		{ cfg->virtio_console, "virtio_console", dev_virtio_console_add },
	};
	unsigned int n = 0;

	vm->nr_virtio = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		gpa_t base;
		unsigned int line;
		int ret;

		if (!want[i].on) {
			continue;
		}
		ret = arch_virtio_slot(vm, n, &base, &line);
		if (ret == -EOPNOTSUPP) {
			pr_err("vm %s: %s: this architecture cannot give a VM virtio devices yet (x86 has no interrupt controller to deliver their interrupts)\n",
			       vm->name, want[i].what);
			return ret;
		}
		if (!ret) {
			ret = want[i].add(vm, base, line);
		}
		if (ret) {
			pr_err("vm %s: cannot add its %s device (%d)\n",
			       vm->name, want[i].what, ret);
			return ret;
		}
		vm->virtio[n].base = base;
		vm->virtio[n].line = line;
		vm->nr_virtio = ++n;
	}
	return 0;
}

void vm_virtio_destroy(struct vm *vm)
{
	dev_virtio_blk_destroy(vm);
	dev_virtio_net_destroy(vm);
	vm->nr_virtio = 0;
}
