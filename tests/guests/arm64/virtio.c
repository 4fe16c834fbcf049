// SPDX-License-Identifier: MIT
/*
 * virtio: a bare-metal virtio-mmio driver that behaves well and then badly
 * (include/vmm/virtio.h, docs/virtio.md). With `disk = ...` and `rng = on`
 * the VM has a block device and an entropy device, found in its DTB.
 *
 * Good requests: read sector 0 (the test writes "STRATA-VIRTIO-DISK" there),
 * write sector 1 and read it back, fill 64 bytes from the entropy device
 * twice (not all zeroes, not equal). Bad ones, each on a freshly reset
 * device: a descriptor loop, a buffer outside RAM, an indirect descriptor,
 * an available index far ahead. Each must put the device in
 * DEVICE_NEEDS_RESET with a configuration-change interrupt status and no
 * used entry, and after a reset the device must serve a good request
 * again. Prints "virtio: N checks failed" and powers off with status 0
 * when all passed (1 otherwise).
 */
#include "guest.h"

#define R_MAGIC		0x000
#define R_VERSION	0x004
#define R_DEVICE_ID	0x008
#define R_DRV_FEAT	0x020
#define R_DRV_FEAT_SEL	0x024
#define R_QUEUE_SEL	0x030
#define R_QUEUE_NUM	0x038
#define R_QUEUE_READY	0x044
#define R_NOTIFY	0x050
#define R_ISR		0x060
#define R_ACK		0x064
#define R_STATUS	0x070
#define R_DESC		0x080
#define R_DRIVER	0x090
#define R_DEVICE	0x0a0

#define S_NEEDS_RESET	64
#define F_NEXT		1
#define F_WRITE		2
#define F_INDIRECT	4
#define QN		8

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static struct desc descs[QN] __attribute__((aligned(4096)));
static volatile uint16_t avail[2 + QN + 1] __attribute__((aligned(4096)));
static volatile uint32_t used[1 + 2 * QN + 1] __attribute__((aligned(4096)));
static volatile uint8_t buf[4096] __attribute__((aligned(4096)));

static uint64_t base;

static uint32_t rd(uint32_t off)
{
	return mmio_read32(base + off);
}

static void wr(uint32_t off, uint32_t v)
{
	mmio_write32(base + off, v);
}

static uint16_t used_idx(void)
{
	return ((volatile uint16_t *)used)[1];
}

static bool init(void)
{
	memset(descs, 0, sizeof(descs));
	memset((void *)avail, 0, sizeof(avail));
	memset((void *)used, 0, sizeof(used));
	__asm__ volatile("dsb sy" ::: "memory");
	wr(R_STATUS, 0);
	wr(R_STATUS, 3);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1);		/* VIRTIO_F_VERSION_1 */
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 0);
	wr(R_STATUS, 0xb);
	if (!(rd(R_STATUS) & 8)) {
		return false;
	}
	wr(R_QUEUE_SEL, 0);
	wr(R_QUEUE_NUM, QN);
	wr(R_DESC, (uint32_t)(uint64_t)descs);
	wr(R_DESC + 4, (uint32_t)((uint64_t)descs >> 32));
	wr(R_DRIVER, (uint32_t)(uint64_t)avail);
	wr(R_DRIVER + 4, (uint32_t)((uint64_t)avail >> 32));
	wr(R_DEVICE, (uint32_t)(uint64_t)used);
	wr(R_DEVICE + 4, (uint32_t)((uint64_t)used >> 32));
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, 0xf);
	return rd(R_QUEUE_READY) == 1 && rd(R_STATUS) == 0xf;
}

static void set(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		uint16_t next)
{
	descs[i] = (struct desc){ addr, len, flags, next };
}

static void kick(uint16_t head)
{
	avail[2 + avail[1] % QN] = head;
	__asm__ volatile("dsb sy" ::: "memory");
	avail[1] = avail[1] + 1;
	__asm__ volatile("dsb sy" ::: "memory");
	wr(R_NOTIFY, 0);
}

/* A block request: header in buf[0..15], data at buf+512, status buf[16]. */
static uint8_t blk(uint32_t type, uint64_t sector, bool in)
{
	uint32_t *h = (uint32_t *)buf;

	h[0] = type;
	h[1] = 0;
	h[2] = (uint32_t)sector;
	h[3] = 0;
	buf[16] = 0xee;
	set(0, (uint64_t)buf, 16, F_NEXT, 1);
	set(1, (uint64_t)buf + 512, 512, F_NEXT | (in ? F_WRITE : 0), 2);
	set(2, (uint64_t)buf + 16, 1, F_WRITE, 0);
	kick(0);
	return buf[16];
}

static bool match(const volatile uint8_t *p, const char *s)
{
	for (; *s; s++, p++) {
		if (*p != (uint8_t)*s) {
			return false;
		}
	}
	return true;
}

static void bad(const char *what, void (*make)(void))
{
	uint16_t before;

	check(init(), "%s: device set-up", what);
	before = used_idx();
	make();
	check(rd(R_STATUS) & S_NEEDS_RESET, "%s: DEVICE_NEEDS_RESET (status 0x%x)",
	      what, rd(R_STATUS));
	check(rd(R_ISR) & 2, "%s: configuration-change interrupt status", what);
	check(used_idx() == before, "%s: no used entry", what);
	wr(R_ACK, rd(R_ISR));
	/* A reset brings it back. */
	check(init(), "%s: set-up after the reset", what);
	check(blk(0, 0, true) == 0 && match(buf + 512, "STRATA-VIRTIO-DISK"),
	      "%s: a good read after the reset", what);
	printf("virtio: %s: device stopped, then reset and working\n", what);
}

static void make_loop(void)
{
	set(0, (uint64_t)buf, 16, F_NEXT, 1);
	set(1, (uint64_t)buf, 16, F_NEXT, 0);
	kick(0);
}

static void make_outside(void)
{
	set(0, 0x1000000000ULL, 16, F_NEXT, 1);
	set(1, (uint64_t)buf + 16, 1, F_WRITE, 0);
	kick(0);
}

static void make_indirect(void)
{
	set(0, (uint64_t)buf, 32, F_INDIRECT, 0);
	kick(0);
}

static void make_far_index(void)
{
	avail[1] = 500;
	__asm__ volatile("dsb sy" ::: "memory");
	wr(R_NOTIFY, 0);
}

static void entropy(uint8_t out[64])
{
	set(0, (uint64_t)buf + 1024, 64, F_WRITE, 0);
	memset((void *)(buf + 1024), 0, 64);
	kick(0);
	check(used_idx() == avail[1], "rng: the buffer came back");
	check(used[2] == 64, "rng: 64 bytes written (%u)", (unsigned)used[2]);
	memcpy(out, (const void *)(buf + 1024), 64);
}

int guest_main(void *dtb)
{
	uint8_t a[64], b[64];
	bool zero = true, same = true;
	uint32_t len;
	const void *reg = dt_prop(dtb, "/virtio_mmio@a100000", "reg", &len);

	if (!check(reg && len == 16, "DTB: /virtio_mmio@a100000 reg")) {
		power_off(1);
	}
	base = dt_u64(reg);
	check(rd(R_MAGIC) == 0x74726976 && rd(R_VERSION) == 2 &&
	      rd(R_DEVICE_ID) == 2, "blk: magic 0x%x version %u device %u",
	      rd(R_MAGIC), rd(R_VERSION), rd(R_DEVICE_ID));
	check(init(), "blk: set-up");
	check(blk(0, 0, true) == 0, "blk: read sector 0 status");
	check(match(buf + 512, "STRATA-VIRTIO-DISK"), "blk: sector 0 contents");
	for (unsigned int i = 0; i < 512; i++) {
		buf[512 + i] = (uint8_t)(i * 7);
	}
	check(blk(1, 1, false) == 0, "blk: write sector 1");
	memset((void *)(buf + 512), 0, 512);
	check(blk(0, 1, true) == 0, "blk: read sector 1 back");
	for (unsigned int i = 0; i < 512; i++) {
		if (buf[512 + i] != (uint8_t)(i * 7)) {
			check(false, "blk: sector 1 byte %u", i);
			break;
		}
	}
	check(blk(0, 1u << 30, true) == 1, "blk: past the end is IOERR");
	printf("virtio: blk: good requests done\n");

	bad("loop", make_loop);
	bad("outside RAM", make_outside);
	bad("indirect", make_indirect);
	bad("index far ahead", make_far_index);

	reg = dt_prop(dtb, "/virtio_mmio@a101000", "reg", &len);
	if (check(reg && len == 16, "DTB: /virtio_mmio@a101000 reg")) {
		base = dt_u64(reg);
		check(rd(R_DEVICE_ID) == 4, "rng: device %u", rd(R_DEVICE_ID));
		check(init(), "rng: set-up");
		entropy(a);
		entropy(b);
		for (unsigned int i = 0; i < 64; i++) {
			zero &= a[i] == 0;
			same &= a[i] == b[i];
		}
		check(!zero && !same, "rng: bytes random-looking");
		printf("virtio: rng: 128 bytes\n");
	}
	printf("virtio: %u checks failed\n", failures);
	power_off(failures ? 1 : 0);
}
