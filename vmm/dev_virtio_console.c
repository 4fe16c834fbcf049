// SPDX-License-Identifier: MIT
/*
 * virtio-console (virtio 1.2, 5.3) with one port and no feature bits: the
 * transmit queue's bytes go to the VM's console like its UART's (printed a
 * line at a time as "[name] ..."), and the keys typed on Strata's console
 * while the VM has the focus fill the buffers of the receive queue. With
 * `virtio_console = on` this device, not the UART, is the VM's console
 * input (Linux: console=hvc0); the UART still prints what it is given.
 * Keys wait in the VM's console queue (vmm/vconsole.c) while the driver has
 * no receive buffer posted, as they do for a UART with a full FIFO. A
 * transmit buffer prints at most TX_MAX bytes (the rest is dropped).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/virtio.h>

#define Q_RX	0
#define Q_TX	1
#define TX_CHUNK	128
#define TX_MAX		4096	/* bytes printed per buffer; the rest dropped */

struct vcon {
	struct virtio_dev dev;
	struct virtio_chain chain;
	uint8_t buf[TX_CHUNK];
};

static struct vcon cons[VM_MAX_VMS];

static void tx(struct vcon *k)
{
	struct virtio_dev *d = &k->dev;
	struct virtio_chain *c = &k->chain;
	bool pushed = false;

	while (virtio_pop(d, Q_TX, c) > 0) {
		uint32_t len = MIN(virtio_chain_out_len(c), TX_MAX);

		if (!virtio_spend(d, Q_TX, len)) {
			virtio_unpop(d, Q_TX);
			break;
		}
		for (uint32_t off = 0; off < len;) {
			uint32_t n = virtio_chain_read(d, c, off, k->buf,
						       MIN(len - off, TX_CHUNK));

			if (!n) {
				break;
			}
			for (uint32_t i = 0; i < n; i++) {
				vm_console_putc(d->vm, (char)k->buf[i]);
			}
			off += n;
		}
		if (!virtio_live(d)) {
			break;
		}
		virtio_push(d, Q_TX, c, 0);
		pushed = true;
	}
	if (pushed) {
		virtio_notify_used(d, Q_TX);
	}
}

/* The VM's console input: one receive buffer per call, as many keys as fit. */
static unsigned int con_rx(struct vm *vm, void *priv, const uint8_t *b,
			   unsigned int n)
{
	struct vcon *k = priv;
	struct virtio_dev *d = &k->dev;
	unsigned int taken = 0;

	(void)vm;
	while (taken < n && virtio_pop(d, Q_RX, &k->chain) > 0) {
		uint32_t room = virtio_chain_in_len(&k->chain);
		uint32_t w = virtio_chain_write(d, &k->chain, 0, b + taken,
						MIN(room, n - taken));

		if (!virtio_live(d)) {
			break;
		}
		virtio_push(d, Q_RX, &k->chain, w);
		taken += w;
		if (!w) {
			break;
		}
	}
	if (taken) {
		virtio_notify_used(d, Q_RX);
	}
	return taken;
}

static void con_notify(struct virtio_dev *d, unsigned int q)
{
	if (q == Q_TX) {
		tx(d->priv);
	}
	/* Receive buffers are filled when keys come (con_rx()). */
}

static const struct virtio_dev_ops con_ops = {
	.name = "console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.budget = 16U << 10,
	.notify = con_notify,
};

int dev_virtio_console_add(struct vm *vm, gpa_t base, unsigned int line)
{
	struct vcon *k = &cons[vm->index];
	int ret;

	memset(k, 0, sizeof(*k));
	k->dev.ops = &con_ops;
	k->dev.priv = k;
	/* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr. */
	k->dev.config_len = 12;
	ret = virtio_mmio_add(vm, &k->dev, base, line);
	if (!ret) {
		vm_console_attach_input(vm, con_rx, k);
	}
	return ret;
}
