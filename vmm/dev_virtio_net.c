// SPDX-License-Identifier: MIT
/*
 * virtio-net (virtio 1.2, 5.1) on a virtual switch that joins the VMs of
 * one Strata that have `net = on`.
 *
 * Offered: VIRTIO_NET_F_MAC only, so every frame is a plain Ethernet frame
 * of at most 1518 bytes (no checksum offload, no segmentation, no mergeable
 * receive buffers) behind the 12-byte struct virtio_net_hdr of a 1.x
 * device. Each VM gets the locally administered MAC 02:53:54:00:00:NN (NN
 * its index + 1).
 *
 * The switch learns which port a source MAC lives behind and sends a frame
 * to that port only; broadcast, multicast and unknown destinations are
 * flooded to every other port. A frame is copied into the first receive
 * buffer the destination's driver posted, in the transmitting vCPU's exit.
 * A destination with no buffer, a buffer too small for the frame, or a
 * device that is not live drops the frame, as a NIC with a full ring does
 * (counted; shown at VM end when not zero). A frame larger than 1518
 * bytes or shorter than an Ethernet header is dropped and counted too. A
 * frame never goes back to the port it came from.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/virtio.h>

#define VIRTIO_NET_F_MAC	5

#define Q_RX		0
#define Q_TX		1
#define NET_HDR		12		/* struct virtio_net_hdr, 1.x */
#define ETH_HDR		14
#define FRAME_MAX	1518
#define LEARN_SLOTS	32

struct vnet {
	struct virtio_dev dev;
	bool on;
	struct virtio_chain chain;
	uint64_t tx_frames, rx_frames, dropped, bad;
};

static struct vnet ports[VM_MAX_VMS];
static struct {
	uint8_t mac[6];
	unsigned int port;
	bool used;
} learned[LEARN_SLOTS];
static unsigned int learn_next;
static uint8_t frame[NET_HDR + FRAME_MAX];
static struct virtio_chain rx_chain;

static void learn(const uint8_t *mac, unsigned int port)
{
	unsigned int i;

	if (mac[0] & 1) {
		return;		/* a group address is never a source */
	}
	for (i = 0; i < LEARN_SLOTS; i++) {
		if (learned[i].used && !memcmp(learned[i].mac, mac, 6)) {
			learned[i].port = port;
			return;
		}
	}
	i = learn_next++ % LEARN_SLOTS;
	memcpy(learned[i].mac, mac, 6);
	learned[i].port = port;
	learned[i].used = true;
}

static int lookup(const uint8_t *mac)
{
	if (mac[0] & 1) {
		return -1;
	}
	for (unsigned int i = 0; i < LEARN_SLOTS; i++) {
		if (learned[i].used && !memcmp(learned[i].mac, mac, 6)) {
			return (int)learned[i].port;
		}
	}
	return -1;
}

/* Put the frame in frame[] (header zeroed, @len bytes after it) into @p. */
static void deliver(struct vnet *p, uint32_t len)
{
	struct virtio_dev *d = &p->dev;

	if (!p->on || !vm_running(d->vm) || !virtio_live(d) ||
	    virtio_pop(d, Q_RX, &rx_chain) <= 0) {
		p->dropped++;
		return;
	}
	if (virtio_chain_in_len(&rx_chain) < NET_HDR + len) {
		p->dropped++;
		virtio_push(d, Q_RX, &rx_chain, 0);
	} else {
		virtio_chain_write(d, &rx_chain, 0, frame, NET_HDR + len);
		virtio_push(d, Q_RX, &rx_chain, NET_HDR + len);
		p->rx_frames++;
	}
	virtio_notify_used(d, Q_RX);
}

static void switch_frame(unsigned int from, uint32_t len)
{
	const uint8_t *eth = frame + NET_HDR;
	int to;

	learn(eth + 6, from);
	to = lookup(eth);
	memset(frame, 0, NET_HDR);
	frame[NET_HDR - 2] = 1;		/* num_buffers */
	if (to >= 0) {
		if ((unsigned int)to != from) {
			deliver(&ports[to], len);
		}
		return;
	}
	for (unsigned int i = 0; i < VM_MAX_VMS; i++) {
		if (i != from && ports[i].on) {
			deliver(&ports[i], len);
		}
	}
}

static void net_tx(struct vnet *p)
{
	struct virtio_dev *d = &p->dev;
	struct virtio_chain *c = &p->chain;
	bool pushed = false;

	while (virtio_pop(d, Q_TX, c) > 0) {
		uint32_t len = virtio_chain_out_len(c);

		if (len < NET_HDR + ETH_HDR || len > NET_HDR + FRAME_MAX ||
		    virtio_chain_read(d, c, 0, frame, len) != len) {
			p->bad++;
		} else {
			p->tx_frames++;
			switch_frame(d->vm->index, len - NET_HDR);
		}
		virtio_push(d, Q_TX, c, 0);
		pushed = true;
	}
	if (pushed) {
		virtio_notify_used(d, Q_TX);
	}
}

static void net_notify(struct virtio_dev *d, unsigned int q)
{
	if (q == Q_TX) {
		net_tx(d->priv);
	}
	/* Receive buffers are used as frames arrive. */
}

static const struct virtio_dev_ops net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.notify = net_notify,
};

int dev_virtio_net_add(struct vm *vm, gpa_t base, unsigned int line)
{
	struct vnet *p = &ports[vm->index];
	static const uint8_t mac[5] = { 0x02, 0x53, 0x54, 0x00, 0x00 };

	memset(p, 0, sizeof(*p));
	p->dev.ops = &net_ops;
	p->dev.priv = p;
	p->dev.features = BIT(VIRTIO_NET_F_MAC);
	p->dev.config_len = 6;
	memcpy(p->dev.config, mac, 5);
	p->dev.config[5] = (uint8_t)(vm->index + 1);
	/* A port's old addresses are forgotten when its VM is built again. */
	for (unsigned int i = 0; i < LEARN_SLOTS; i++) {
		if (learned[i].port == vm->index) {
			learned[i].used = false;
		}
	}
	p->on = true;
	return virtio_mmio_add(vm, &p->dev, base, line);
}

void dev_virtio_net_destroy(struct vm *vm)
{
	struct vnet *p = &ports[vm->index];

	if (!p->on) {
		return;
	}
	p->on = false;
	if (p->dropped || p->bad) {
		pr_info("vm %s: virtio-net: %llu frames sent, %llu received, %llu dropped for want of a receive buffer, %llu malformed\n",
			vm->name, (unsigned long long)p->tx_frames,
			(unsigned long long)p->rx_frames,
			(unsigned long long)p->dropped,
			(unsigned long long)p->bad);
	}
}
