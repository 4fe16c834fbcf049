// SPDX-License-Identifier: MIT
/*
 * virtio-rng, the entropy device (virtio 1.2, 5.4): every device-writable
 * buffer the driver offers is filled from the CPU's hardware random number
 * generator (arch_random_u64(): arm64 RNDR, x86 RDRAND) and returned.
 *
 * A CPU without one gets no entropy device: `rng = on` is refused when the
 * VM is built, with the reason, rather than handing the guest numbers that
 * only look random (rejected alternative: a DRBG seeded from the counter,
 * which a guest cannot tell from real entropy and should not have to trust).
 * If the generator fails while running, the buffer is returned with the
 * bytes it got so far (the spec lets the device fill less than offered);
 * each buffer gets at most RNG_FILL_MAX bytes, so one notify cannot ask
 * for gigabytes.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/virtio.h>

#define RNG_CHUNK	256
#define RNG_FILL_MAX	4096	/* bytes per buffer (a short fill is allowed) */

struct vrng {
	struct virtio_dev dev;
	struct virtio_chain chain;
	uint8_t buf[RNG_CHUNK];
};

static struct vrng rngs[VM_MAX_VMS];

bool virtio_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (!arch_has_random()) {
		return false;
	}
	while (len) {
		uint64_t v;
		size_t n = MIN(len, sizeof(v));
		int tries = 0;

		while (!arch_random_u64(&v)) {
			if (++tries == 10) {
				return false;
			}
		}
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return true;
}

static void rng_notify(struct virtio_dev *d, unsigned int q)
{
	struct vrng *r = d->priv;
	struct virtio_chain *c = &r->chain;
	bool pushed = false;

	while (virtio_pop(d, q, c) > 0) {
		uint32_t want = MIN(virtio_chain_in_len(c), RNG_FILL_MAX);
		uint32_t done = 0;

		if (!virtio_spend(d, q, want)) {
			virtio_unpop(d, q);
			break;
		}
		while (done < want) {
			uint32_t n = MIN(want - done, RNG_CHUNK);

			if (!virtio_random_bytes(r->buf, n) ||
			    virtio_chain_write(d, c, done, r->buf, n) != n) {
				break;
			}
			done += n;
		}
		memset(r->buf, 0, sizeof(r->buf));
		if (!virtio_live(d)) {
			break;	/* a buffer was not writable: device stopped */
		}
		virtio_push(d, q, c, done);
		pushed = true;
	}
	if (pushed) {
		virtio_notify_used(d, q);
	}
}

static const struct virtio_dev_ops rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.budget = 64U << 10,
	.notify = rng_notify,
};

int dev_virtio_rng_add(struct vm *vm, gpa_t base, unsigned int line)
{
	struct vrng *r = &rngs[vm->index];

	if (!arch_has_random()) {
		pr_err("vm %s: rng = on, but this CPU has no hardware random number generator to back it (arm64 FEAT_RNG, x86 RDRAND)\n",
		       vm->name);
		return -EOPNOTSUPP;
	}
	memset(r, 0, sizeof(*r));
	r->dev.ops = &rng_ops;
	r->dev.priv = r;
	return virtio_mmio_add(vm, &r->dev, base, line);
}
