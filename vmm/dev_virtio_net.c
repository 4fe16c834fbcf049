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
 * The switch knows every port's MAC (it gave them out), so it needs no
 * learning: a unicast frame goes to the port with that destination MAC,
 * a group (broadcast, multicast) frame to every other port, and a frame to
 * a MAC no port has is dropped. A frame whose source is not its own port's
 * MAC is dropped and counted: a VM can neither pose as another one nor fill
 * a table to make the switch flood others' traffic to it (rejected: a
 * learning switch, which lets any VM take over another's address). The
 * device does not offer VIRTIO_NET_F_CTRL_MAC_ADDR, so a driver has no way
 * to change its MAC that the switch would not see.
 *
 * A frame is copied into the first receive buffer the destination's driver
 * posted, in the transmitting vCPU's exit. A destination with no buffer, a
 * buffer too small for the frame, or a device that is not live drops the
 * frame, as a NIC with a full ring does (counted; shown at VM end when not
 * zero). A frame larger than 1518 bytes or shorter than an Ethernet header
 * is dropped and counted too.
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

struct vnet {
	struct virtio_dev dev;
	bool on;
	struct virtio_chain chain;
	uint64_t tx_frames, rx_frames, dropped, bad, spoofed, unknown;
};

static struct vnet ports[VM_MAX_VMS];
static uint8_t frame[NET_HDR + FRAME_MAX];
static struct virtio_chain rx_chain;

static const uint8_t mac_prefix[5] = { 0x02, 0x53, 0x54, 0x00, 0x00 };

/* The port whose MAC is @mac, or -1. */
static int port_of(const uint8_t *mac)
{
	unsigned int i = mac[5] - 1u;

	if (memcmp(mac, mac_prefix, 5) || i >= VM_MAX_VMS || !ports[i].on) {
		return -1;
	}
	return (int)i;
}

/*
 * Many CPUs (docs/smp.md): the switch lock keeps frame[] and rx_chain to
 * one sender at a time, taken for one frame at a time so that senders on
 * other CPUs take turns frame by frame, and a frame goes into the
 * destination's queue under the destination VM's lock too. The sender
 * already holds its own VM's lock, so it only tries the destination's, a
 * bounded number of times: the destination may itself be waiting for the
 * switch lock (then waiting longer could never succeed), and the frame is
 * dropped and counted, as a NIC drops it when its ring is busy. Once a
 * destination's lock stayed busy, it counts as busy for the rest of that
 * notify's batch (@busy: bit n for port n): its frames are dropped at once,
 * so that a VM flooding the switch spins at most once per destination and
 * notify, not once per frame. Rejected: always spinning (that wait is a
 * deadlock), and per-port queues drained by the destination's own exits
 * (a second copy of every frame).
 */
static struct spinlock switch_lock = SPINLOCK_INIT;
#define DEST_LOCK_TRIES		20000

_Static_assert(VM_MAX_VMS <= 32, "a port's bit in a batch's busy mask");

static bool lock_dest(struct vm *vm)
{
	for (unsigned int i = 0; i < DEST_LOCK_TRIES; i++) {
		if (spin_trylock(&vm->lock)) {
			return true;
		}
		rwlock_relax();
	}
	return false;
}

static void __deliver(struct vnet *p, uint32_t len);

/* Put the frame in frame[] (header zeroed, @len bytes after it) into @p. */
static void deliver(struct vnet *p, uint32_t len, uint32_t *busy)
{
	struct vm *vm = p->dev.vm;
	uint32_t bit = BIT(vm->index);

	if ((*busy & bit) || !lock_dest(vm)) {
		*busy |= bit;
		p->dropped++;
		return;
	}
	__deliver(p, len);
	vm_unlock(vm);
}

static void __deliver(struct vnet *p, uint32_t len)
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
	} else if (virtio_chain_write(d, &rx_chain, 0, frame, NET_HDR + len) !=
		   NET_HDR + len || !virtio_live(d)) {
		p->dropped++;	/* its buffer was bad: that device stopped */
		return;
	} else {
		virtio_push(d, Q_RX, &rx_chain, NET_HDR + len);
		p->rx_frames++;
	}
	virtio_notify_used(d, Q_RX);
}

static void switch_frame(unsigned int from, uint32_t len, uint32_t *busy)
{
	const uint8_t *eth = frame + NET_HDR;
	int to;

	if (port_of(eth + 6) != (int)from) {
		ports[from].spoofed++;
		return;
	}
	memset(frame, 0, NET_HDR);
	frame[NET_HDR - 2] = 1;		/* num_buffers */
	if (!(eth[0] & 1)) {
		to = port_of(eth);
		if (to >= 0 && (unsigned int)to != from) {
			deliver(&ports[to], len, busy);
		} else {
			ports[from].unknown++;
		}
		return;
	}
	for (unsigned int i = 0; i < VM_MAX_VMS; i++) {
		if (i != from && ports[i].on) {
			deliver(&ports[i], len, busy);
		}
	}
}

static void net_tx(struct vnet *p)
{
	struct virtio_dev *d = &p->dev;
	struct virtio_chain *c = &p->chain;
	bool pushed = false;
	uint32_t busy = 0;

	while (virtio_pop(d, Q_TX, c) > 0) {
		uint32_t len = virtio_chain_out_len(c);

		if (!virtio_spend(d, Q_TX, MIN(len, NET_HDR + FRAME_MAX))) {
			virtio_unpop(d, Q_TX);
			break;
		}
		spin_lock(&switch_lock);	/* frame[], rx_chain */
		if (len < NET_HDR + ETH_HDR || len > NET_HDR + FRAME_MAX ||
		    virtio_chain_read(d, c, 0, frame, len) != len) {
			p->bad++;
		} else {
			p->tx_frames++;
			switch_frame(d->vm->index, len - NET_HDR, &busy);
		}
		spin_unlock(&switch_lock);
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
	.budget = 256U << 10,
	.notify = net_notify,
};

int dev_virtio_net_add(struct vm *vm, gpa_t base, unsigned int line)
{
	struct vnet *p = &ports[vm->index];

	memset(p, 0, sizeof(*p));
	p->dev.ops = &net_ops;
	p->dev.priv = p;
	p->dev.features = BIT(VIRTIO_NET_F_MAC);
	p->dev.config_len = 6;
	memcpy(p->dev.config, mac_prefix, 5);
	p->dev.config[5] = (uint8_t)(vm->index + 1);
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
	if (p->dropped || p->bad || p->spoofed || p->unknown) {
		pr_info("vm %s: virtio-net: %llu frames sent, %llu received, %llu not received (no buffer, device stopped), %llu malformed, %llu with another source MAC, %llu to no VM\n",
			vm->name, (unsigned long long)p->tx_frames,
			(unsigned long long)p->rx_frames,
			(unsigned long long)p->dropped,
			(unsigned long long)p->bad,
			(unsigned long long)p->spoofed,
			(unsigned long long)p->unknown);
	}
}
