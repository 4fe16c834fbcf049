/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio devices (virtio 1.2, "Virtio Over MMIO", version 2 register
 * layout; split virtqueues only).
 *
 * The transport (vmm/virtio_mmio.c) owns the registers, the status and
 * feature negotiation, the queues' addresses and the interrupt; a device
 * (vmm/dev_virtio_*.c) supplies its ID, features, configuration space and
 * what to do when a queue is notified. Each device is one 4 KiB window on
 * the VM's MMIO bus, of which the first 0x200 bytes are registers and
 * configuration (the DTB node says 0x200, as QEMU's virt does), and one
 * level-triggered interrupt line: asserted while InterruptStatus is not
 * zero, dropped by InterruptACK, as the spec's "Notifications" describe.
 *
 * The guest is not trusted. A descriptor chain that points outside the
 * VM's RAM, loops, is longer than the queue, mixes device-readable after
 * device-writable buffers, or uses a feature that was not negotiated
 * (indirect descriptors), and a queue whose rings do not fit in RAM, put the
 * device in DEVICE_NEEDS_RESET (spec 2.1.2): it stops processing, says why
 * once on the console, and raises a configuration-change interrupt; the
 * guest must reset it (write 0 to Status). The VM and Strata keep running.
 *
 * Queues are processed synchronously, in the exit of the vCPU that wrote
 * QueueNotify, within a budget per notify (ops->budget bytes, each chain
 * also costing VIRTIO_CHAIN_COST): what is left waits for the run loop's
 * next round (vm_virtio_round()), so a driver that makes the same huge
 * chain available 256 times cannot hold the CPU that every VM shares. The
 * network switch delivers to other VMs' receive queues from there too. Everything runs on one physical CPU today (vmm/run.c);
 * when vCPUs run on several, each device takes its own lock around queue
 * processing and the switch one around delivery.
 *
 * Per VM, in this order when configured (strata.cfg, include/vmm/bundle.h):
 * block (`disk`), entropy (`rng`), network (`net`), console
 * (`virtio_console`). Where they are in guest-physical memory and which
 * interrupt line each uses is the architecture's (arm64:
 * arch/arm64/include/arch/guest_layout.h; x86 has no interrupt controller
 * yet, so x86 VMs refuse virtio devices with a message).
 */
#ifndef STRATA_VMM_VIRTIO_H
#define STRATA_VMM_VIRTIO_H

#include <vmm/vm.h>

#define VIRTIO_MMIO_WINDOW	0x1000	/* bus window per device */
#define VIRTIO_MMIO_REGS	0x200	/* registers + config, in the DTB */
#define VIRTIO_MAX_QUEUES	2
#define VIRTIO_QUEUE_MAX	256	/* QueueNumMax of every queue */
#define VIRTIO_CONFIG_MAX	32	/* bytes of device configuration */

/* Device IDs (spec 5). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

/* Feature bits common to all devices (spec 6). */
#define VIRTIO_F_VERSION_1	32

/* Device status (spec 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* Descriptor flags (spec 2.7.5). */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1

#define VIRTIO_MAX_SEGS		VIRTIO_QUEUE_MAX
/* Largest chain (sum of its buffers); a bigger one is a driver error. */
#define VIRTIO_CHAIN_MAX	(4U << 20)
/* What one chain costs in a notify's budget besides its bytes. */
#define VIRTIO_CHAIN_COST	512
#define VIRTIO_ERROR_REPORTS	8	/* device-error messages shown per device */

struct virtio_dev;

/* One buffer of a descriptor chain, already checked to lie in guest RAM. */
struct virtio_seg {
	gpa_t gpa;
	uint32_t len;
	bool write;		/* device-writable */
};

/* A descriptor chain taken from the available ring. */
struct virtio_chain {
	uint16_t head;
	unsigned int nr;	/* segments */
	unsigned int nr_out;	/* the first nr_out are device-readable */
	struct virtio_seg seg[VIRTIO_MAX_SEGS];
};

struct virtio_queue {
	uint32_t num;		/* QueueNum */
	bool ready;
	gpa_t desc, avail, used;
	uint16_t last_avail;	/* next available entry the device takes */
	uint16_t used_idx;	/* the device's copy of used->idx */
	bool more;		/* the budget ran out with chains left */
};

struct virtio_dev_ops {
	const char *name;	/* "blk", "rng", "net", "console" */
	uint32_t device_id;
	unsigned int nr_queues;
	uint64_t budget;	/* bytes one notify may process */
	/* Called when the driver notifies queue @q (and the device is live). */
	void (*notify)(struct virtio_dev *d, unsigned int q);
	/* Back to the reset state (Status written 0, or VM reset). */
	void (*reset)(struct virtio_dev *d);
};

/**
 * struct virtio_dev - one virtio-mmio device of a VM.
 * @features: what the device offers (VIRTIO_F_VERSION_1 always).
 * @config: the device configuration space (little-endian, @config_len).
 * @priv: the device's own state.
 */
struct virtio_dev {
	struct vm *vm;
	const struct virtio_dev_ops *ops;
	gpa_t base;
	unsigned int line;		/* arch_vm_irq_line() number */
	uint64_t features;
	uint64_t driver_features;
	uint32_t dev_features_sel, drv_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t isr;			/* InterruptStatus */
	uint32_t config_gen;
	unsigned int config_len;
	uint8_t config[VIRTIO_CONFIG_MAX];
	struct virtio_queue q[VIRTIO_MAX_QUEUES];
	uint64_t budget;		/* left in the current notify */
	void *priv;
	unsigned long errors;
};

/*
 * Register @d (ops, features, config and priv filled by the device) as a
 * virtio-mmio window at @base with interrupt @line on @vm's bus.
 */
int virtio_mmio_add(struct vm *vm, struct virtio_dev *d, gpa_t base,
		    unsigned int line);

/* The device is live: DRIVER_OK set and NEEDS_RESET/FAILED clear. */
bool virtio_live(const struct virtio_dev *d);

/*
 * Take the next available chain of queue @q into @c. Returns 1 when one
 * was taken, 0 when the ring is empty, or -EINVAL after putting the device
 * in NEEDS_RESET (the chain or the ring is bad; reason printed).
 */
int virtio_pop(struct virtio_dev *d, unsigned int q, struct virtio_chain *c);

/* Give back the chain virtio_pop() just took (it is taken again later). */
void virtio_unpop(struct virtio_dev *d, unsigned int q);

/*
 * Charge @bytes for the chain just popped from @q to the notify's budget.
 * False when it does not fit: the caller virtio_unpop()s it and returns;
 * the queue runs again at the next round (vm_virtio_round()).
 */
bool virtio_spend(struct virtio_dev *d, unsigned int q, uint64_t bytes);

/* Process queue @q now (a notify), with a fresh budget. */
void virtio_run_queue(struct virtio_dev *d, unsigned int q);

/* The run loop, once per round of @vm: queues whose budget ran out go on. */
void vm_virtio_round(struct vm *vm);

/* Return chain @c with @written bytes written to its writable buffers. */
void virtio_push(struct virtio_dev *d, unsigned int q,
		 const struct virtio_chain *c, uint32_t written);

/*
 * Raise the used-buffer interrupt of queue @q unless the driver asked for
 * none (VIRTQ_AVAIL_F_NO_INTERRUPT). Call once after a batch of pushes.
 */
void virtio_notify_used(struct virtio_dev *d, unsigned int q);

/*
 * Copy between a chain's readable (out) or writable (in) buffers and the
 * hypervisor: @off is an offset into the concatenation of those buffers.
 * Return the bytes copied (less than @len when the buffers end).
 */
uint32_t virtio_chain_read(struct virtio_dev *d, const struct virtio_chain *c,
			   uint32_t off, void *dst, uint32_t len);
uint32_t virtio_chain_write(struct virtio_dev *d, const struct virtio_chain *c,
			    uint32_t off, const void *src, uint32_t len);
/* Total bytes of the readable / writable buffers. */
uint32_t virtio_chain_out_len(const struct virtio_chain *c);
uint32_t virtio_chain_in_len(const struct virtio_chain *c);

/* Stop the device for a guest error (NEEDS_RESET, message once). */
void virtio_device_error(struct virtio_dev *d, const char *fmt, ...)
	__printf(2, 3);

/* ---- The devices (vmm/dev_virtio_*.c) and their set-up ------------------ */

/*
 * Add @vm's configured virtio devices (vm->cfg) at the places the
 * architecture gives (arch_virtio_slot()); recorded in @vm->virtio for the
 * guest's DTB. Called by arch_vm_init().
 */
int vm_virtio_add(struct vm *vm);
/* Give back what the devices of @vm hold across resets (the disk copy). */
void vm_virtio_destroy(struct vm *vm);

int dev_virtio_blk_add(struct vm *vm, gpa_t base, unsigned int line);
int dev_virtio_rng_add(struct vm *vm, gpa_t base, unsigned int line);
int dev_virtio_net_add(struct vm *vm, gpa_t base, unsigned int line);
int dev_virtio_console_add(struct vm *vm, gpa_t base, unsigned int line);
void dev_virtio_blk_destroy(struct vm *vm);
void dev_virtio_net_destroy(struct vm *vm);
#ifdef CONFIG_TEST
/* Destination locks that stayed busy for DEST_LOCK_TRIES (host tests). */
extern uint64_t virtio_net_busy_giveups;
#endif

/*
 * The architecture's place for the @n-th virtio device of a VM: its
 * window's guest-physical base and its interrupt line. -EOPNOTSUPP when the
 * architecture cannot give a VM virtio devices (message printed by caller).
 */
int arch_virtio_slot(struct vm *vm, unsigned int n, gpa_t *base,
		     unsigned int *line);

/*
 * The CPU's hardware random number generator (arm64 RNDR, x86 RDRAND):
 * whether it has one, and one 64-bit value from it (false when the
 * generator says it has none ready; callers retry a few times).
 */
bool arch_has_random(void);
bool arch_random_u64(uint64_t *v);
/*
 * Fill @buf with @len bytes from arch_random_u64() (each value retried up to
 * ten times, the SDM's advice for RDRAND). False when the CPU has no
 * generator or it keeps failing; then nothing is claimed to be random.
 */
bool virtio_random_bytes(void *buf, size_t len);

#endif
