// SPDX-License-Identifier: MIT
/*
 * Host tests of the virtio-mmio transport and devices (vmm/virtio_mmio.c,
 * vmm/dev_virtio_*.c), driven as a guest driver would drive them: through
 * the VM's MMIO bus, with the rings in the VM's RAM (a host buffer). A
 * hostile driver's bad rings and chains must put only that device in
 * DEVICE_NEEDS_RESET; the block device's writes must stay in the VM's copy.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <mm/palloc.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>

#include "harness.h"
#include "host_hooks.h"

#include "fake_arch.h"

#define RAM_SIZE	(4 * SZ_2M)
#define POOL_SIZE	(8 * SZ_2M)
#define BASE0		FAKE_VIRTIO_BASE
#define QN		8

/* Where the test driver puts things in guest RAM (GPA = offset). */
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define BUF		0x10000

static struct vm vm;
static struct vm_config cfg;
static struct bundle bundle;
static uint8_t *ram, *pool;
static uint8_t disk[64 * 512];

static bool setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(fake_irq_level, 0, sizeof(fake_irq_level));
	host_alloc_reset();
	ram = aligned_alloc(SZ_2M, RAM_SIZE);
	pool = aligned_alloc(SZ_2M, POOL_SIZE);
	if (!ram || !pool) {
		return false;
	}
	memset(ram, 0, RAM_SIZE);
	palloc_reset();
	if (palloc_add_ram((paddr_t)(uintptr_t)pool, POOL_SIZE) ||
	    palloc_finalize()) {
		return false;
	}
	for (unsigned int i = 0; i < sizeof(disk); i++) {
		disk[i] = (uint8_t)(i / 512 + 1);
	}
	memset(&bundle, 0, sizeof(bundle));
	if (bundle_add(&bundle, "d.img", disk, sizeof(disk))) {
		return false;
	}
	cfg = (struct vm_config){ .name = "t", .cpus = 1 };
	strcpy(cfg.disk, "d.img");
	vm.cfg = &cfg;
	vm.name = "t";
	vm.bundle = &bundle;
	vm.state = VM_RUNNING;
	vm.memslots[0] = (struct memslot){ .gpa = 0, .size = RAM_SIZE,
					   .pa = (paddr_t)(uintptr_t)ram };
	vm.nr_memslots = 1;
	vm.memslot_gen = 2;
	vm.nr_vcpus = 1;
	vm.vcpus[0] = (struct vcpu){ .vm = &vm, .state = VCPU_RUNNABLE };
	return vm_mmu_init(&vm, 40, 0) == 0;
}

static void teardown(void)
{
	vm_virtio_destroy(&vm);
	vm_mmu_destroy(&vm);
	free(ram);
	free(pool);
}

static uint32_t rd(gpa_t base, uint64_t off)
{
	uint64_t v = 0;

	vm_io_access(&vm.vcpus[0], IO_MMIO, base + off, 4, false, &v);
	return (uint32_t)v;
}

static void wr(gpa_t base, uint64_t off, uint32_t v)
{
	uint64_t val = v;

	vm_io_access(&vm.vcpus[0], IO_MMIO, base + off, 4, true, &val);
}

/* The driver side of spec 3.1.1 up to DRIVER_OK, with one queue @q. */
static bool driver_init(gpa_t base, unsigned int q, uint32_t num)
{
	wr(base, 0x070, 0);
	wr(base, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(base, 0x024, 1);
	wr(base, 0x020, 1);			/* VERSION_1 */
	wr(base, 0x024, 0);
	wr(base, 0x020, 0);
	wr(base, 0x070, 3 | VIRTIO_STATUS_FEATURES_OK);
	if (!(rd(base, 0x070) & VIRTIO_STATUS_FEATURES_OK)) {
		return false;
	}
	wr(base, 0x030, q);
	wr(base, 0x038, num);
	wr(base, 0x080, DESC);
	wr(base, 0x084, 0);
	wr(base, 0x090, AVAIL);
	wr(base, 0x094, 0);
	wr(base, 0x0a0, USED);
	wr(base, 0x0a4, 0);
	wr(base, 0x044, 1);
	wr(base, 0x070, 0xf);
	return rd(base, 0x044) == 1;
}

static void desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t *d = ram + DESC + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Make @head available as entry idx and bump the index. */
static void avail(uint16_t head)
{
	uint16_t *a = (uint16_t *)(ram + AVAIL);

	a[2 + a[1] % QN] = head;
	a[1]++;
}

static uint16_t used_idx(void)
{
	return ((uint16_t *)(ram + USED))[1];
}

static uint32_t used_len(unsigned int slot)
{
	return ((uint32_t *)(ram + USED))[2 + 2 * slot];
}

/* A block request: header at BUF, data at BUF+0x100, status at BUF+0x80. */
static void blk_req(uint32_t type, uint64_t sector, uint32_t len, bool in)
{
	uint32_t hdr[4] = { type, 0, (uint32_t)sector,
			    (uint32_t)(sector >> 32) };

	memcpy(ram + BUF, hdr, sizeof(hdr));
	ram[BUF + 0x80] = 0xee;
	desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF + 0x100, len, VIRTQ_DESC_F_NEXT |
	     (in ? VIRTQ_DESC_F_WRITE : 0), 2);
	desc(2, BUF + 0x80, 1, VIRTQ_DESC_F_WRITE, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
}

/* TX frame @i at BUF + 0x100 * @i: 12-byte header, Ethernet to port @to. */
static void net_tx_frame(unsigned int i, unsigned int to)
{
	uint8_t *f = ram + BUF + 0x100 * i;
	static const uint8_t mac[5] = { 0x02, 0x53, 0x54, 0x00, 0x00 };

	memset(f, 0, 12 + 60);
	memcpy(f + 12, mac, 5);
	f[12 + 5] = (uint8_t)(to + 1);
	memcpy(f + 18, mac, 5);
	f[18 + 5] = 1;				/* port 0: this VM */
	f[12 + 12] = 0x08;			/* IPv4 */
	desc(i, BUF + 0x100 * i, 12 + 60, 0, 0);
	avail((uint16_t)i);
}

/*
 * A destination whose VM lock stays busy costs one bounded try per TX
 * notify, not one per frame: its further frames in the batch are dropped
 * at once (a VM flooding the switch must not stall others' CPUs).
 */
static void net_busy_port_is_tried_once_per_batch(void)
{
	static struct vm dst;
	static struct vm_config dcfg = { .name = "d", .cpus = 1 };

	CHECK(setup());
	memset(&dst, 0, sizeof(dst));
	dst.cfg = &dcfg;
	dst.name = "d";
	dst.index = 1;
	dst.state = VM_RUNNING;
	CHECK_EQ(dev_virtio_net_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK_EQ(dev_virtio_net_add(&dst, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK(driver_init(BASE0, 1, QN));
	spin_lock(&dst.lock);			/* busy on another CPU */
	virtio_net_busy_giveups = 0;
	for (unsigned int i = 0; i < 4; i++) {
		net_tx_frame(i, 1);
	}
	wr(BASE0, 0x050, 1);
	CHECK_EQ(used_idx(), 4);		/* all sent, all dropped */
	CHECK_EQ(virtio_net_busy_giveups, 1);
	net_tx_frame(4, 1);
	net_tx_frame(5, 1);
	wr(BASE0, 0x050, 1);			/* a new batch tries again */
	CHECK_EQ(used_idx(), 6);
	CHECK_EQ(virtio_net_busy_giveups, 2);
	spin_unlock(&dst.lock);
	dev_virtio_net_destroy(&dst);
	teardown();
}

static void identity_and_features(void)
{
	uint64_t v = 0;

	CHECK(setup());
	CHECK_EQ(dev_virtio_blk_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK_EQ(rd(BASE0, 0x000), 0x74726976);
	CHECK_EQ(rd(BASE0, 0x004), 2);
	CHECK_EQ(rd(BASE0, 0x008), VIRTIO_ID_BLOCK);
	wr(BASE0, 0x014, 1);
	CHECK_EQ(rd(BASE0, 0x010), 1);		/* VERSION_1 */
	CHECK_EQ(rd(BASE0, 0x100), 64);		/* capacity, sectors */
	/* Without VERSION_1 FEATURES_OK does not stick. */
	wr(BASE0, 0x070, 3);
	wr(BASE0, 0x024, 0);
	wr(BASE0, 0x020, 0);
	wr(BASE0, 0x070, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(rd(BASE0, 0x070) & VIRTIO_STATUS_FEATURES_OK));
	/* A feature we do not offer neither. */
	wr(BASE0, 0x024, 1);
	wr(BASE0, 0x020, 1 | 2);
	wr(BASE0, 0x070, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(rd(BASE0, 0x070) & VIRTIO_STATUS_FEATURES_OK));
	CHECK(driver_init(BASE0, 0, QN));
	/* Wrong widths and write-only registers are refused by the bus. */
	vm.ctr[STRATA_CTR_MMIO_UNCLAIMED] = 0;
	vm_io_access(&vm.vcpus[0], IO_MMIO, BASE0, 2, false, &v);
	vm_io_access(&vm.vcpus[0], IO_MMIO, BASE0 + 0x080, 4, false, &v);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_UNCLAIMED], 2);
	teardown();
}

static void blk_reads_writes_and_keeps_writes_private(void)
{
	CHECK(setup());
	CHECK_EQ(dev_virtio_blk_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK(driver_init(BASE0, 0, QN));
	blk_req(0, 3, 1024, true);		/* read sectors 3-4 */
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(used_len(0), 1025);
	CHECK_EQ(ram[BUF + 0x80], 0);
	CHECK(ram[BUF + 0x100] == 4 && ram[BUF + 0x100 + 1023] == 5);
	CHECK(fake_irq_level[FAKE_VIRTIO_LINE]);
	CHECK_EQ(rd(BASE0, 0x060), 1);
	wr(BASE0, 0x064, 1);
	CHECK(!fake_irq_level[FAKE_VIRTIO_LINE]);

	memset(ram + BUF + 0x100, 0x77, 512);
	blk_req(1, 9, 512, false);		/* write sector 9 */
	CHECK_EQ(ram[BUF + 0x80], 0);
	CHECK_EQ(used_len(1), 1);
	CHECK_EQ(disk[9 * 512], 10);		/* the bundle's image: untouched */
	memset(ram + BUF + 0x100, 0, 512);
	blk_req(0, 9, 512, true);
	CHECK(ram[BUF + 0x100] == 0x77 && ram[BUF + 0x100 + 511] == 0x77);

	blk_req(0, 63, 1024, true);		/* past the end */
	CHECK_EQ(ram[BUF + 0x80], 1);		/* IOERR */
	blk_req(0, 1, 100, true);		/* not whole sectors */
	CHECK_EQ(ram[BUF + 0x80], 1);
	blk_req(77, 0, 512, true);		/* unknown type */
	CHECK_EQ(ram[BUF + 0x80], 2);		/* UNSUPP */
	CHECK(!(rd(BASE0, 0x070) & VIRTIO_STATUS_NEEDS_RESET));

	teardown();
}

static void blk_read_only_refuses_writes(void)
{
	CHECK(setup());
	cfg.disk_ro = true;
	CHECK_EQ(dev_virtio_blk_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK(rd(BASE0, 0x010) & BIT(5));	/* VIRTIO_BLK_F_RO */
	CHECK(driver_init(BASE0, 0, QN));
	blk_req(1, 2, 512, false);
	CHECK_EQ(ram[BUF + 0x80], 1);
	blk_req(0, 2, 512, true);
	CHECK_EQ(ram[BUF + 0x80], 0);
	CHECK_EQ(ram[BUF + 0x100], 3);
	teardown();
}

/* After a bad chain: NEEDS_RESET, no used entry, later notifies ignored. */
static void check_stopped(uint16_t used_before)
{
	CHECK(rd(BASE0, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(used_idx(), used_before);
	CHECK(rd(BASE0, 0x060) & 2);		/* configuration change */
	CHECK(vm_running(&vm));
	/* The driver resets the device and it works again. */
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	CHECK(!(rd(BASE0, 0x070) & VIRTIO_STATUS_NEEDS_RESET));
	blk_req(0, 0, 512, true);
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(ram[BUF + 0x80], 0);
}

static void hostile_chains_stop_only_the_device(void)
{
	CHECK(setup());
	CHECK_EQ(dev_virtio_blk_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);

	/* A loop. */
	CHECK(driver_init(BASE0, 0, QN));
	desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	check_stopped(0);

	/* A buffer outside RAM. */
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	desc(0, RAM_SIZE - 8, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	check_stopped(0);

	/* An address that wraps. */
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	desc(0, ~0ULL - 4, 16, 0, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	check_stopped(0);

	/* Indirect, not negotiated. */
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	desc(0, BUF, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	check_stopped(0);

	/* Readable after writable. */
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	desc(0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 16, 0, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	check_stopped(0);

	/* A head and a next past the queue, an index far ahead. */
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	avail(QN + 3);
	wr(BASE0, 0x050, 0);
	check_stopped(0);
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 200);
	avail(0);
	wr(BASE0, 0x050, 0);
	check_stopped(0);
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	((uint16_t *)(ram + AVAIL))[1] = 1000;
	wr(BASE0, 0x050, 0);
	check_stopped(0);

	/* No status byte. */
	memset(ram + DESC, 0, 0x3000);
	CHECK(driver_init(BASE0, 0, QN));
	desc(0, BUF, 16, 0, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	check_stopped(0);
	teardown();
}

static void bad_queue_setup_is_refused(void)
{
	CHECK(setup());
	CHECK_EQ(dev_virtio_blk_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK(!driver_init(BASE0, 0, 6));		/* not a power of 2 */
	CHECK(rd(BASE0, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!driver_init(BASE0, 0, 512));		/* above QueueNumMax */
	wr(BASE0, 0x070, 0);
	CHECK_EQ(rd(BASE0, 0x070), 0);
	/* Rings outside RAM. */
	wr(BASE0, 0x070, 3);
	wr(BASE0, 0x024, 1);
	wr(BASE0, 0x020, 1);
	wr(BASE0, 0x070, 0xb);
	wr(BASE0, 0x030, 0);
	wr(BASE0, 0x038, QN);
	wr(BASE0, 0x080, DESC);
	wr(BASE0, 0x090, AVAIL);
	wr(BASE0, 0x0a0, RAM_SIZE - 8);
	wr(BASE0, 0x044, 1);
	CHECK_EQ(rd(BASE0, 0x044), 0);
	/* A queue that does not exist reads as size 0. */
	wr(BASE0, 0x030, 5);
	CHECK_EQ(rd(BASE0, 0x034), 0);
	teardown();
}

static void rng_fills_buffers_from_the_cpu(void)
{
	CHECK(setup());
	fake_has_rng = false;
	CHECK_EQ(dev_virtio_rng_add(&vm, BASE0, FAKE_VIRTIO_LINE), -EOPNOTSUPP);
	fake_has_rng = true;
	CHECK_EQ(dev_virtio_rng_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK(driver_init(BASE0, 0, QN));
	fake_rng_byte = 0;
	desc(0, BUF, 300, VIRTQ_DESC_F_WRITE, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(used_len(0), 300);
	CHECK(ram[BUF] == 1 && ram[BUF + 299] == (uint8_t)300);
	teardown();
}

/* A rng chain of @len bytes at BUF as head 0, made available @times. */
static void rng_offer(uint32_t len, unsigned int times, uint32_t num)
{
	uint16_t *a = (uint16_t *)(ram + AVAIL);

	desc(0, BUF, len, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned int i = 0; i < times; i++) {
		a[2 + a[1] % num] = 0;
		a[1]++;
	}
	wr(BASE0, 0x050, 0);
}

static void one_notify_has_a_budget(void)
{
	CHECK(setup());
	CHECK_EQ(dev_virtio_rng_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	vm.nr_virtio = 1;
	CHECK(driver_init(BASE0, 0, 32));
	/* A 1 MiB buffer gets the most one buffer gets. */
	rng_offer(SZ_2M / 2, 1, 32);
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(used_len(0), 4096);
	/* The same buffer 30 times: one notify does what its budget allows,
	 * the run loop's rounds do the rest. */
	rng_offer(SZ_2M / 2, 30, 32);
	CHECK(used_idx() > 1 && used_idx() < 31);
	for (unsigned int round = 0; round < 8 && used_idx() < 31; round++) {
		vm_virtio_round(&vm);
	}
	CHECK_EQ(used_idx(), 31);
	CHECK(!(rd(BASE0, 0x070) & VIRTIO_STATUS_NEEDS_RESET));
	/* A chain over VIRTIO_CHAIN_MAX is a driver error. */
	desc(0, BUF, 3 << 20, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUF, 3 << 20, VIRTQ_DESC_F_WRITE, 0);
	((uint16_t *)(ram + AVAIL))[2 + 31] = 0;
	((uint16_t *)(ram + AVAIL))[1]++;
	wr(BASE0, 0x050, 0);
	CHECK(rd(BASE0, 0x070) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK_EQ(used_idx(), 31);
	teardown();
}

static void no_driver_ok_without_features_ok(void)
{
	CHECK(setup());
	CHECK_EQ(dev_virtio_rng_add(&vm, BASE0, FAKE_VIRTIO_LINE), 0);
	CHECK(driver_init(BASE0, 0, QN));
	/* Again, but DRIVER_OK without FEATURES_OK: nothing is processed. */
	wr(BASE0, 0x070, 0);
	wr(BASE0, 0x070, 3);
	wr(BASE0, 0x030, 0);
	wr(BASE0, 0x038, QN);
	wr(BASE0, 0x080, DESC);
	wr(BASE0, 0x090, AVAIL);
	wr(BASE0, 0x0a0, USED);
	wr(BASE0, 0x044, 1);
	memset(ram + DESC, 0, 0x3000);
	wr(BASE0, 0x070, 7);
	desc(0, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	avail(0);
	wr(BASE0, 0x050, 0);
	CHECK_EQ(used_idx(), 0);
	/* A status write never clears a bit. */
	CHECK(driver_init(BASE0, 0, QN));
	wr(BASE0, 0x070, 1);
	CHECK_EQ(rd(BASE0, 0x070), 0xf);
	teardown();
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "virtio");
	RUN_TEST(identity_and_features);
	RUN_TEST(blk_reads_writes_and_keeps_writes_private);
	RUN_TEST(blk_read_only_refuses_writes);
	RUN_TEST(hostile_chains_stop_only_the_device);
	RUN_TEST(bad_queue_setup_is_refused);
	RUN_TEST(rng_fills_buffers_from_the_cpu);
	RUN_TEST(one_notify_has_a_budget);
	RUN_TEST(no_driver_ok_without_features_ok);
	RUN_TEST(net_busy_port_is_tried_once_per_batch);
	return test_done();
}
