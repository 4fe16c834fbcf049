// SPDX-License-Identifier: MIT
/*
 * Host tests of the virtual ITS (arch/arm64/vits.c, included here so that
 * its static command logic is reachable), under ASan/UBSan: guest RAM is a
 * host buffer that vm_gpa_to_host() hands out only within bounds, and each
 * vCPU's list registers are modelled here (vgic_lr_unpend() works on that
 * state, and the tests check what it took back). The commands of the good path leave the mapping
 * and pending state the spec says; then long seeded runs of random
 * register writes and random commands (every command number, random
 * fields, queues and tables anywhere) must keep the state consistent: each
 * vCPU's count of pending LPIs matches the mappings, every mapping names a
 * live device and a collection in range, CREADR stays inside the queue.
 */
#include "../../../arch/arm64/vits.c"

#include <string.h>

#include "harness.h"

#define RAM_BASE	0x40000000ULL
#define RAM_SIZE	(1ULL << 20)

static uint8_t ram[RAM_SIZE] __attribute__((aligned(65536)));
static struct io_device added;
static struct vm the_vm;
static unsigned int unpends;

int vm_add_device(struct vm *vm, const struct io_device *d)
{
	(void)vm;
	added = *d;
	return 0;
}

void *vm_gpa_to_host(struct vm *vm, gpa_t gpa, uint64_t len)
{
	(void)vm;
	if (gpa < RAM_BASE || len > RAM_SIZE || gpa - RAM_BASE > RAM_SIZE - len) {
		return NULL;
	}
	return &ram[gpa - RAM_BASE];
}

/* The list registers as the ITS sees them: the LPIs listed per vCPU. */
static uint32_t listed[VM_MAX_CPUS][VGIC_NR_LRS];

/* vCPUs "on another CPU": their list registers are theirs (vgic.c). */
static bool remote[VM_MAX_CPUS];
static unsigned int kicks;

void vcpu_kick(struct vcpu *v)
{
	(void)v;
	kicks++;
}

bool vgic_lr_unpend(const struct vcpu *self, struct vcpu *t, uint32_t intid,
		    unsigned int dest)
{
	bool had = false;

	(void)self;
	if (remote[t->id]) {
		vits_retire_mark(t, intid, dest);
		return false;
	}
	for (unsigned int k = 0; k < VGIC_NR_LRS; k++) {
		if (listed[t->id][k] == intid) {
			listed[t->id][k] = 0;
			unpends++;
			had = true;
		}
	}
	return had;
}

/* What vCPU @cpu's flush does with LPI @intid pending on it: list it. */
static bool list_lpi(unsigned int cpu, uint32_t intid)
{
	for (unsigned int k = 0; k < VGIC_NR_LRS; k++) {
		if (!listed[cpu][k]) {
			listed[cpu][k] = intid;
			vits_listed(&the_vm.vcpus[cpu], intid);
			return true;
		}
	}
	return false;
}

static unsigned int prunes;

void vgic_mark_prune(struct vm *vm)
{
	(void)vm;
	prunes++;
}

static int wr(uint64_t off, unsigned int size, uint64_t v)
{
	return its_write(&the_vm.vcpus[0], &added, off, size, v);
}

static uint64_t rd(uint64_t off)
{
	uint64_t v = ~0ULL;

	if (its_read(&the_vm.vcpus[0], &added, off, 8, &v)) {
		return ~0ULL;
	}
	return v;
}

#define QUEUE		(RAM_BASE + 0x10000)	/* one page of commands */
#define PROP		(RAM_BASE + 0x20000)
static uint32_t cw;

static void cmd(uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3)
{
	uint64_t c[4] = { d0, d1, d2, d3 };

	memcpy(&ram[QUEUE - RAM_BASE + cw], c, 32);
	cw = (cw + 32) % 4096;
}

/* Hand the queue over and poll CREADR as a guest does. */
static void go(void)
{
	wr(GITS_CWRITER, 8, cw);
	for (int i = 0; i < 1024 && rd(GITS_CREADR) != cw; i++) {
	}
}

static void setup(unsigned int cpus)
{
	memset(&the_vm, 0, sizeof(the_vm));
	memset(ram, 0, sizeof(ram));
	memset(listed, 0, sizeof(listed));
	unpends = 0;
	the_vm.name = "t";
	the_vm.nr_vcpus = cpus;
	for (unsigned int i = 0; i < cpus; i++) {
		the_vm.vcpus[i].vm = &the_vm;
		the_vm.vcpus[i].id = i;
	}
	vits_init(&the_vm);
	its_of(&the_vm)->propbaser = PROP | 13;
	wr(GITS_CBASER, 8, CBASER_VALID | QUEUE);
	wr(GITS_CTLR, 4, 1);
	cw = 0;
}

/* The invariants every command sequence must keep. */
static bool consistent(void)
{
	struct vits *its = its_of(&the_vm);
	uint32_t count[VM_MAX_CPUS] = { 0 };
	uint32_t size = (uint32_t)((its->cbaser & 0xff) + 1) * 4096;

	if (its->creadr >= size || (its->creadr & 31)) {
		return false;
	}
	for (unsigned int i = 0; i < VITS_NR_COLL; i++) {
		if (its->coll[i] != VITS_NONE && its->coll[i] >= the_vm.nr_vcpus) {
			return false;
		}
	}
	for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
		const struct vits_ite *e = &its->ites[i];

		if (!e->valid) {
			continue;
		}
		if (e->dev >= VITS_MAX_DEVICES || !its->devs[e->dev].valid ||
		    e->icid >= VITS_NR_COLL || e->lpi >= VITS_NR_LPIS ||
		    e->eventid >= (1U << its->devs[e->dev].bits)) {
			return false;
		}
		for (unsigned int k = 0; k < i; k++) {
			if (its->ites[k].valid && its->ites[k].lpi == e->lpi) {
				return false;	/* one mapping per LPI */
			}
		}
		if (e->pend != VITS_NONE) {
			if (e->pend >= the_vm.nr_vcpus) {
				return false;
			}
			count[e->pend]++;
		}
	}
	for (unsigned int c = 0; c < the_vm.nr_vcpus; c++) {
		if (count[c] != the_vm.vcpus[c].arch.vgic.lpis) {
			return false;
		}
		for (unsigned int k = 0; k < VGIC_NR_LRS; k++) {
			const struct vits_ite *e = listed[c][k] ?
				ite_of_lpi(&the_vm, listed[c][k]) : NULL;

			/*
			 * A listed LPI pending again on the same vCPU (an
			 * INT, a MOVALL onto it) is a state its next flush
			 * merges into the list register (lpi_cands()), not a
			 * second pending state; only a mapping gone while
			 * listed would be.
			 */
			if (listed[c][k] && !e) {
				return false;	/* listed: gone */
			}
		}
	}
	return true;
}

static void test_registers(void)
{
	setup(2);
	CHECK_EQ(added.base, 0x08080000);
	CHECK_EQ(added.size, 0x20000);
	CHECK_EQ(rd(GITS_TYPER) & 1, 1);			/* Physical */
	CHECK_EQ((rd(GITS_TYPER) >> 13) & 0x1f, 15);		/* Devbits */
	CHECK_EQ((rd(GITS_TYPER) >> 24) & 0xff, VITS_NR_COLL);	/* HCC */
	CHECK_EQ(rd(GITS_PIDR2) & 0xff, 0x3b);
	CHECK_EQ(rd(GITS_CTLR) & 0xffffffff, GITS_CTLR_QUIESCENT | 1);
	CHECK_EQ(rd(GITS_CTLR) >> 32, 0x43b);			/* IIDR */
	CHECK_EQ((rd(GITS_BASER) >> 56) & 7, 1);		/* device */
	CHECK_EQ(rd(GITS_BASER + 8), 0);
	/* CBASER and BASER only while disabled; CBASER resets CREADR. */
	wr(GITS_CBASER, 8, CBASER_VALID | 0x12345000);
	CHECK_EQ(rd(GITS_CBASER), CBASER_VALID | QUEUE);
	wr(GITS_CTLR + 4, 4, 0);				/* IIDR: RO */
	CHECK_EQ(rd(GITS_CTLR) & 1, 1);
	wr(GITS_CTLR, 4, 0);
	wr(GITS_BASER, 8, ~0ULL);
	CHECK_EQ(rd(GITS_BASER) & BIT(62), 0);			/* Indirect */
	CHECK_EQ((rd(GITS_BASER) >> 48) & 0x1f, 7);		/* 8 bytes */
	CHECK_EQ(wr(GITS_TRANSLATER + 1, 1, 0), -1);
}

static void test_commands(void)
{
	struct vits *its;

	setup(2);
	its = its_of(&the_vm);
	ram[PROP - RAM_BASE + 0] = 0xa1;
	ram[PROP - RAM_BASE + 1] = 0x40;	/* disabled */
	cmd(CMD_MAPC, 0, BIT(63) | (0ULL << 16) | 0, 0);
	cmd(CMD_MAPC, 0, BIT(63) | (1ULL << 16) | 1, 0);
	cmd(CMD_MAPD | (5ULL << 32), 4, BIT(63), 0);		/* 5 bits */
	cmd(CMD_MAPTI | (5ULL << 32), 0 | (8192ULL << 32), 0, 0);
	cmd(CMD_MAPTI | (5ULL << 32), 1 | (8193ULL << 32), 0, 0);
	cmd(CMD_INT | (5ULL << 32), 0, 0, 0);
	go();
	CHECK(consistent());
	CHECK_EQ(its->creadr, cw);
	CHECK_EQ(its->ites[0].cfg, 0xa1);
	CHECK_EQ(its->ites[1].cfg, 0x40);
	CHECK_EQ(its->ites[0].pend, 0);
	CHECK_EQ(the_vm.vcpus[0].arch.vgic.lpis, 1);
	/* MOVI moves the pending state with the mapping. */
	cmd(CMD_MOVI | (5ULL << 32), 0, 1, 0);
	go();
	CHECK_EQ(its->ites[0].pend, 1);
	CHECK_EQ(the_vm.vcpus[0].arch.vgic.lpis, 0);
	CHECK_EQ(the_vm.vcpus[1].arch.vgic.lpis, 1);
	/* MOVALL back; CLEAR; INV rereads the configuration. */
	cmd(CMD_MOVALL, 0, 1ULL << 16, 0ULL << 16);
	go();
	CHECK_EQ(its->ites[0].pend, 0);
	cmd(CMD_CLEAR | (5ULL << 32), 0, 0, 0);
	ram[PROP - RAM_BASE + 1] = 0x41;
	cmd(CMD_INV | (5ULL << 32), 1, 0, 0);
	go();
	CHECK_EQ(its->ites[0].pend, VITS_NONE);
	CHECK_EQ(its->ites[1].cfg, 0x41);
	/* TRANSLATER from the vCPU's DeviceID. */
	cmd(CMD_MAPD | ((uint64_t)VITS_CPU_DEVICE_ID << 32), 3, BIT(63), 0);
	cmd(CMD_MAPTI | ((uint64_t)VITS_CPU_DEVICE_ID << 32), 2 |
	    (8200ULL << 32), 1, 0);
	go();
	CHECK_EQ(wr(GITS_TRANSLATER, 4, 2), 0);
	CHECK_EQ(its->ites[2].pend, 1);		/* collection 1: vCPU 1 */
	CHECK(consistent());
	/* DISCARD and MAPD V=0 drop mappings and their pending state. */
	cmd(CMD_DISCARD | (5ULL << 32), 1, 0, 0);
	cmd(CMD_MAPD | ((uint64_t)VITS_CPU_DEVICE_ID << 32), 0, 0, 0);
	go();
	CHECK(!its->ites[1].valid && !its->ites[2].valid);
	CHECK(consistent());
	CHECK_EQ(the_vm.vcpus[0].arch.vgic.lpis +
		 the_vm.vcpus[1].arch.vgic.lpis, 0);
}

/*
 * An LPI in a list register: MOVALL and MOVI take it out and pend it on the
 * new vCPU, CLEAR and DISCARD take it out for good.
 */
static void test_listed_lpis(void)
{
	struct vits *its;

	setup(2);
	its = its_of(&the_vm);
	ram[PROP - RAM_BASE + 0] = 0xa1;
	cmd(CMD_MAPC, 0, BIT(63) | (0ULL << 16) | 0, 0);
	cmd(CMD_MAPC, 0, BIT(63) | (1ULL << 16) | 1, 0);
	cmd(CMD_MAPD | (5ULL << 32), 4, BIT(63), 0);
	cmd(CMD_MAPTI | (5ULL << 32), 0 | (8192ULL << 32), 1, 0);
	cmd(CMD_INT | (5ULL << 32), 0, 0, 0);
	go();
	CHECK(list_lpi(1, 8192));
	CHECK_EQ(its->ites[0].pend, VITS_NONE);
	CHECK_EQ(the_vm.vcpus[1].arch.vgic.lpis, 0);
	cmd(CMD_MOVALL, 0, 1ULL << 16, 0ULL << 16);
	go();
	CHECK_EQ(unpends, 1);
	CHECK_EQ(listed[1][0], 0);
	CHECK_EQ(its->ites[0].pend, 0);
	CHECK_EQ(the_vm.vcpus[0].arch.vgic.lpis, 1);
	CHECK(consistent());
	CHECK(list_lpi(0, 8192));
	cmd(CMD_MOVI | (5ULL << 32), 0, 1, 0);
	go();
	CHECK_EQ(unpends, 2);
	CHECK_EQ(its->ites[0].pend, 1);
	CHECK(list_lpi(1, 8192));
	cmd(CMD_CLEAR | (5ULL << 32), 0, 0, 0);
	go();
	CHECK_EQ(unpends, 3);
	CHECK_EQ(its->ites[0].pend, VITS_NONE);
	cmd(CMD_INT | (5ULL << 32), 0, 0, 0);
	go();
	CHECK(list_lpi(1, 8192));
	cmd(CMD_DISCARD | (5ULL << 32), 0, 0, 0);
	go();
	CHECK_EQ(unpends, 4);
	CHECK(!its->ites[0].valid);
	CHECK_EQ(the_vm.vcpus[0].arch.vgic.lpis +
		 the_vm.vcpus[1].arch.vgic.lpis, 0);
	CHECK(consistent());
}

/* vCPU @cpu's scan of its list registers after an exit (vgic.c). */
static void scan(unsigned int cpu)
{
	struct vcpu *v = &the_vm.vcpus[cpu];

	for (unsigned int k = 0; k < VGIC_NR_LRS; k++) {
		if (listed[cpu][k] && vits_retire_listed(v, listed[cpu][k])) {
			listed[cpu][k] = 0;
		}
	}
	vits_retire_done(v);
}

/*
 * The same LPI listed on a vCPU running on another CPU: the commands only
 * record its fate, which that vCPU's scan carries out: MOVALL moves the
 * pending state (the destination kicked), a CLEAR after a MOVI drops it,
 * DISCARD drops it; an LPI with no fate recorded stays listed.
 */
static void test_remote_listed_lpis(void)
{
	struct vits *its;

	setup(2);
	memset(remote, 0, sizeof(remote));
	remote[1] = true;
	its = its_of(&the_vm);
	ram[PROP - RAM_BASE + 0] = 0xa1;
	cmd(CMD_MAPC, 0, BIT(63) | (0ULL << 16) | 0, 0);
	cmd(CMD_MAPC, 0, BIT(63) | (1ULL << 16) | 1, 0);
	cmd(CMD_MAPD | (5ULL << 32), 4, BIT(63), 0);
	cmd(CMD_MAPTI | (5ULL << 32), 0 | (8192ULL << 32), 1, 0);
	cmd(CMD_INT | (5ULL << 32), 0, 0, 0);
	go();
	CHECK(list_lpi(1, 8192));
	scan(1);			/* nothing recorded: it stays */
	CHECK_EQ(listed[1][0], 8192);
	kicks = 0;
	cmd(CMD_MOVALL, 0, 1ULL << 16, 0ULL << 16);
	go();
	CHECK_EQ(listed[1][0], 8192);	/* only vCPU 1 knows */
	CHECK_EQ(its->ites[0].pend, VITS_NONE);
	scan(1);
	CHECK_EQ(listed[1][0], 0);
	CHECK_EQ(its->ites[0].pend, 0);
	CHECK_EQ(kicks, 1);
	CHECK(consistent());
	/* Listed on vCPU 1 again: MOVI to vCPU 0, then CLEAR: dropped. */
	ite_unpend(&the_vm, &its->ites[0]);
	cmd(CMD_MAPC, 0, BIT(63) | (1ULL << 16) | 2, 0);	/* icid 2: vCPU 1 */
	cmd(CMD_MOVI | (5ULL << 32), 0, 2, 0);
	cmd(CMD_INT | (5ULL << 32), 0, 0, 0);
	go();
	CHECK_EQ(its->ites[0].pend, 1);
	CHECK(list_lpi(1, 8192));
	cmd(CMD_MOVI | (5ULL << 32), 0, 0, 0);
	cmd(CMD_CLEAR | (5ULL << 32), 0, 0, 0);
	go();
	scan(1);
	CHECK_EQ(listed[1][0], 0);
	CHECK_EQ(its->ites[0].pend, VITS_NONE);
	CHECK_EQ(the_vm.vcpus[0].arch.vgic.lpis +
		 the_vm.vcpus[1].arch.vgic.lpis, 0);
	/* DISCARD while listed remotely: the scan drops it. */
	cmd(CMD_MOVI | (5ULL << 32), 0, 2, 0);
	cmd(CMD_INT | (5ULL << 32), 0, 0, 0);
	go();
	CHECK(list_lpi(1, 8192));
	cmd(CMD_DISCARD | (5ULL << 32), 0, 0, 0);
	go();
	CHECK_EQ(listed[1][0], 8192);
	scan(1);
	CHECK_EQ(listed[1][0], 0);
	CHECK(!its->ites[0].valid);
	CHECK(consistent());
	remote[1] = false;
}

/*
 * A vCPU whose pending LPIs cannot be listed is parked (its entries skip
 * the flush); an LPI made pending on it unparks it.
 */
static void test_new_lpi_unparks(void)
{
	setup(2);
	cmd(CMD_MAPC, 0, BIT(63) | (1ULL << 16) | 1, 0);
	cmd(CMD_MAPD | (5ULL << 32), 4, BIT(63), 0);
	cmd(CMD_MAPTI | (5ULL << 32), 0 | (8192ULL << 32), 1, 0);
	go();
	the_vm.vcpus[1].arch.vgic.lpis_parked = true;
	cmd(CMD_INT | (5ULL << 32), 0, 0, 0);
	go();
	CHECK_EQ(the_vm.vcpus[1].arch.vgic.lpis, 1);
	CHECK(!the_vm.vcpus[1].arch.vgic.lpis_parked);
}

static void test_collection_target(void)
{
	struct vits *its;

	setup(2);
	its = its_of(&the_vm);
	cmd(CMD_MAPC, 0, BIT(63) | (1ULL << 16) | 3, 0);	/* ICID 3 -> 1 */
	cmd(CMD_MAPD | (9ULL << 32), 0, BIT(63), 0);		/* 1 bit */
	cmd(CMD_MAPTI | (9ULL << 32), 1 | (9000ULL << 32), 3, 0);
	cmd(CMD_MAPTI | (9ULL << 32), 2 | (9001ULL << 32), 3, 0); /* > bits */
	cmd(CMD_INT | (9ULL << 32), 1, 0, 0);
	go();
	CHECK_EQ(its->ites[0].pend, 1);
	CHECK(!its->ites[1].valid);
	CHECK(its->errors >= 1);
	CHECK(consistent());
}

/* Random register writes and commands: nothing escapes the bounds. */
/*
 * A long queue is worked off in bounded steps: one CWRITER write runs
 * ITS_BUDGET commands (an INVALL counts ITS_INVALL_COST), GITS_CTLR is not
 * Quiescent meanwhile, and the guest's CREADR reads and its next entry
 * (its_work) go on from there.
 */
static void test_queue_bounded(void)
{
	struct vits *its;

	setup(1);
	its = its_of(&the_vm);
	for (int i = 0; i < 100; i++) {
		cmd(CMD_SYNC, 0, 0, 0);
	}
	wr(GITS_CWRITER, 8, cw);
	CHECK_EQ(its->creadr, ITS_BUDGET * 32);
	CHECK(the_vm.vcpus[0].arch.vgic.its_work);
	CHECK(!(rd(GITS_CTLR) & GITS_CTLR_QUIESCENT));
	CHECK_EQ(rd(GITS_CREADR), 100 * 32);
	CHECK(!the_vm.vcpus[0].arch.vgic.its_work);
	CHECK(rd(GITS_CTLR) & GITS_CTLR_QUIESCENT);

	for (int i = 0; i < 20; i++) {
		cmd(CMD_INVALL, 0, 0, 0);
	}
	wr(GITS_CWRITER, 8, cw);
	CHECK_EQ(its->creadr, (100 + ITS_BUDGET / ITS_INVALL_COST) * 32);
	vits_work(&the_vm.vcpus[0]);	/* what the entry's flush does */
	CHECK_EQ(its->creadr, (100 + 2 * ITS_BUDGET / ITS_INVALL_COST) * 32);
	CHECK_EQ(rd(GITS_CREADR), 120 * 32);
}

static void test_random(void)
{
	for (int round = 0; round < 40; round++) {
		setup(1 + (unsigned int)(test_rand() % 4));
		for (int step = 0; step < 3000; step++) {
			uint64_t r = test_rand();

			switch (r % 16) {
			case 0:
				wr(GITS_CTLR, 4, test_rand() & 1);
				break;
			case 1: {
				uint64_t base = test_rand() & 1 ? QUEUE :
						test_rand() & GENMASK(51, 12);

				wr(GITS_CTLR, 4, 0);
				wr(GITS_CBASER, 8, (test_rand() & ~GENMASK(51, 12)) |
				   base);
				wr(GITS_CTLR, 4, 1);
				break;
			}
			case 2:
				wr(GITS_CWRITER, 8, test_rand() >> (r % 44));
				break;
			case 3:
				its_of(&the_vm)->propbaser = test_rand() & 1 ?
					PROP | (test_rand() & 0x1f) : test_rand();
				break;
			case 4:
				wr(GITS_TRANSLATER, 4, test_rand() & 0x3f);
				break;
			case 5: {
				/* A flush: list an LPI pending on a vCPU. */
				struct vits_ite *e = &its_of(&the_vm)->ites[
					test_rand() % VITS_MAX_ITES];

				if (e->valid && e->pend != VITS_NONE) {
					list_lpi(e->pend, VITS_LPI_BASE + e->lpi);
				}
				break;
			}
			default: {
				uint64_t d0 = (test_rand() & 0x0f) |
					      ((test_rand() & 3) << 32 |
					       (uint64_t)VITS_CPU_DEVICE_ID << 32) *
					      (test_rand() & 1);

				if (test_rand() & 1) {
					d0 = (d0 & 0xffffffffULL) |
					     ((test_rand() % 4) << 32);
				}
				cmd(d0, test_rand() & 1 ? test_rand() % 64 |
				    ((8192 + test_rand() % 256) << 32) : test_rand(),
				    test_rand() & 1 ? (test_rand() % 20) |
				    BIT(63) | ((test_rand() % 6) << 16) :
				    test_rand(),
				    (test_rand() % 6) << 16);
				if (r & 0x100) {
					go();
				}
				break;
			}
			}
			if (!consistent()) {
				test_fail(__FILE__, __LINE__, "inconsistent after "
					  "round %d step %d", round, step);
				return;
			}
		}
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "vits");
	RUN_TEST(test_registers);
	RUN_TEST(test_commands);
	RUN_TEST(test_listed_lpis);
	RUN_TEST(test_remote_listed_lpis);
	RUN_TEST(test_new_lpi_unparks);
	RUN_TEST(test_collection_target);
	RUN_TEST(test_queue_bounded);
	RUN_TEST(test_random);
	return test_done();
}
