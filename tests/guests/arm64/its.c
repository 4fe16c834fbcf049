// SPDX-License-Identifier: MIT
/*
 * its: the virtual GICv3 ITS and LPIs (tests/boot/vgic_arm64.py). Needs 2
 * vCPUs. Bootargs "its" runs the good path, "its-bad" the hostile one.
 *
 * Good path: the DTB's msi-controller node under the GIC, GICD_TYPER.LPIS
 * and IDbits, GICR_TYPER.PLPIS, GITS_TYPER/PIDR2/CTLR/BASER0; then the LPI
 * configuration table, GICR_PROPBASER/PENDBASER/CTLR.EnableLPIs, the
 * command queue (CBASER/CWRITER/CREADR, wrapping round it) and MAPC, MAPD,
 * MAPTI, MAPI, SYNC; LPIs raised by INT taken in priority order (the
 * priority of the configuration byte); a disabled LPI
 * held until enabled by INV; CLEAR; GITS_TRANSLATER writes from the vCPU
 * (DeviceID GUEST_ITS_CPU_DEVID); INVALL with new priorities and enables;
 * DISCARD; MOVI to the other vCPU; MOVALL of an LPI pending on a vCPU
 * with interrupts masked.
 *
 * Hostile path: undefined commands, every field out of range, mappings
 * beyond what Strata holds, a CWRITER beyond the queue, a queue and a
 * configuration table outside RAM, two thousand random commands; then a
 * fresh mapping must still deliver its LPI.
 * Each prints "its: PASS" (or "its-bad: PASS") when every check held.
 */
#include "guest.h"

#define GICD			GUEST_GICD_BASE
#define GICR(cpu)		(GUEST_GICR_BASE + 0x20000UL * (cpu))
#define GITS			GUEST_ITS_BASE
#define w32(a, v)		mmio_write32((uint64_t)(a), (uint32_t)(v))
#define r32(a)			mmio_read32((uint64_t)(a))
#define w64(a, v)		mmio_write64((uint64_t)(a), (uint64_t)(v))
#define r64(a)			mmio_read64((uint64_t)(a))

#define GICD_CTLR		0x000
#define GICD_TYPER		0x004
#define GICR_CTLR		0x000
#define GICR_TYPER		0x008
#define GICR_PROPBASER		0x070
#define GICR_PENDBASER		0x078
#define GITS_CTLR		0x000
#define GITS_TYPER		0x008
#define GITS_CBASER		0x080
#define GITS_CWRITER		0x088
#define GITS_CREADR		0x090
#define GITS_BASER(n)		(0x100 + 8 * (n))
#define GITS_PIDR2		0xffe8
#define GITS_TRANSLATER		0x10040

#define LPI			8192
#define NCPUS			2
#define STACK			4096
#define NLPIS			8192		/* 14 ID bits */
#define QSIZE			4096		/* one page of commands */

/* Tables in guest RAM. */
static uint8_t prop[NLPIS] __attribute__((aligned(4096)));
static uint8_t pend[NCPUS][65536] __attribute__((aligned(65536)));
static uint64_t queue[QSIZE / 8] __attribute__((aligned(65536)));
static uint64_t devtab[512] __attribute__((aligned(4096)));

static struct cpu_boot boot[NCPUS];
static uint8_t stacks[NCPUS][STACK] __attribute__((aligned(16)));
static volatile uint32_t got[NCPUS][64];	/* LPI - 8192 < 64 */
static volatile uint32_t order[16], norder, other;
static volatile uint64_t ready1, hold1, held1, int1, done;
static uint32_t cw;				/* our CWRITER */

#define sysreg(r) ({							\
	uint64_t __v;							\
	__asm__ volatile("mrs %0, " #r : "=r"(__v));			\
	__v;								\
})
#define set_sysreg(r, v)						\
	__asm__ volatile("msr " #r ", %0\nisb" : : "r"((uint64_t)(v)))

static unsigned int cpu_id(void)
{
	return (unsigned int)(sysreg(mpidr_el1) & 0xff);
}

static void irq_on(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}

static void irq_off(void)
{
	__asm__ volatile("msr daifset, #2" ::: "memory");
}

#define WAIT_FOR(cond, wfi)						\
	({								\
		uint64_t __end = read_cntvct() + 10 * read_cntfrq();	\
		while (!(cond) && read_cntvct() < __end) {		\
			if (wfi) {					\
				__asm__ volatile("wfi");		\
			}						\
		}							\
		(bool)(cond);						\
	})

/* One exit and entry: the vGIC lists what is pending before it. */
static void exit_once(void)
{
	(void)r32(GICD + GICD_CTLR);
}

bool exception_hook(struct exc_frame *f)
{
	uint32_t id;
	unsigned int me = cpu_id();

	if (f->vector != 0x280) {
		return false;
	}
	id = (uint32_t)sysreg(icc_iar1_el1) & 0xffffff;
	if (id >= LPI && id < LPI + 64 && me < NCPUS) {
		got[me][id - LPI]++;
		if (me == 0 && norder < 16) {
			order[norder++] = id;
		}
	} else if (id < 1020) {
		other++;
	}
	if (id < 1020) {
		set_sysreg(icc_eoir1_el1, id);
	}
	return true;
}

/* ---- the command queue ---- */

static void cmd(uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3)
{
	uint64_t *c = &queue[cw / 8];

	c[0] = d0;
	c[1] = d1;
	c[2] = d2;
	c[3] = d3;
	cw = (cw + 32) % QSIZE;
}

/* Hand the queued commands to the ITS; true when it read them all. */
static bool go(void)
{
	w64(GITS + GITS_CWRITER, cw);
	return WAIT_FOR(r64(GITS + GITS_CREADR) == cw, false);
}

#define DEV(d)			((uint64_t)(d) << 32)
static void mapc(unsigned int icid, unsigned int rd)
{
	cmd(0x09, 0, (1UL << 63) | ((uint64_t)rd << 16) | icid, 0);
}

static void mapd(uint32_t dev, unsigned int bits, bool valid)
{
	cmd(0x08 | DEV(dev), bits - 1,
	    (valid ? 1UL << 63 : 0) | (uint64_t)(uintptr_t)devtab, 0);
}

static void mapti(uint32_t dev, uint32_t ev, uint32_t lpi, unsigned int icid)
{
	cmd(0x0a | DEV(dev), ev | ((uint64_t)lpi << 32), icid, 0);
}

static void mapi(uint32_t dev, uint32_t ev, unsigned int icid)
{
	cmd(0x0b | DEV(dev), ev, icid, 0);
}

static void ev_cmd(unsigned int op, uint32_t dev, uint32_t ev)
{
	cmd(op | DEV(dev), ev, 0, 0);
}

#define INT(d, e)		ev_cmd(0x03, d, e)
#define CLEAR(d, e)		ev_cmd(0x04, d, e)
#define INV(d, e)		ev_cmd(0x0c, d, e)
#define DISCARD(d, e)		ev_cmd(0x0f, d, e)

static void sync_cmd(unsigned int rd)
{
	cmd(0x05, 0, (uint64_t)rd << 16, 0);
}

static void invall(unsigned int icid)
{
	cmd(0x0d, 0, icid, 0);
}

static void movi(uint32_t dev, uint32_t ev, unsigned int icid)
{
	cmd(0x01 | DEV(dev), ev, icid, 0);
}

static void movall(unsigned int from, unsigned int to)
{
	cmd(0x0e, 0, (uint64_t)from << 16, (uint64_t)to << 16);
}

/* ---- set-up ---- */

static void cpu_setup(void)
{
	set_sysreg(icc_pmr_el1, 0xff);
	set_sysreg(icc_bpr1_el1, 0);
	set_sysreg(icc_igrpen1_el1, 1);
}

void secondary_main(struct cpu_boot *b)
{
	(void)b;
	cpu_setup();
	irq_on();
	ready1 = 1;
	while (!done) {
		if (hold1) {
			irq_off();
			held1 = 1;
			while (hold1) {
				if (int1) {
					/* INT from here: the LPI goes
					 * into our list registers. */
					INT(5, 5);
					go();
					__asm__ volatile("dmb ish" :::
							 "memory");
					int1 = 0;
				}
				exit_once();	/* exits, flushes, masked */
			}
			held1 = 0;
			irq_on();
		}
		__asm__ volatile("wfi");
	}
	irq_off();
	hvc(PSCI_CPU_OFF, 0, 0, 0);
}

static void check_dtb(const void *dtb)
{
	uint32_t len, rlen, mlen;
	const char *compat = dt_prop(dtb, "/intc/its", "compatible", &len);
	const uint8_t *reg = dt_prop(dtb, "/intc/its", "reg", &rlen);

	check(compat && !strcmp(compat, "arm,gic-v3-its"),
	      "its: the DTB's ITS node says '%s'", compat ? compat : "(none)");
	check(dt_prop(dtb, "/intc/its", "msi-controller", &mlen) != NULL,
	      "its: no msi-controller property");
	check(reg && rlen == 16 && dt_u64(reg) == GITS &&
	      dt_u64(reg + 8) == 0x20000, "its: the ITS's reg is wrong");
}

static void check_registers(void)
{
	uint32_t typer = r32(GICD + GICD_TYPER);
	uint64_t gits = r64(GITS + GITS_TYPER);

	check((typer & (1U << 17)) && ((typer >> 19) & 0x1f) >= 13,
	      "its: GICD_TYPER 0x%x without LPIs or 14 ID bits", typer);
	check(r64(GICR(0) + GICR_TYPER) & 1, "its: GICR_TYPER.PLPIS clear");
	check((gits & 1) && !(gits & (1UL << 19)) &&
	      ((gits >> 13) & 0x1f) + 1 >= 16 && ((gits >> 8) & 0x1f) + 1 >= 5 &&
	      ((gits >> 24) & 0xff) >= NCPUS,
	      "its: GITS_TYPER 0x%lx", gits);
	check(((r32(GITS + GITS_PIDR2) >> 4) & 0xf) == 3,
	      "its: GITS_PIDR2 0x%x", r32(GITS + GITS_PIDR2));
	check(r32(GITS + GITS_CTLR) == (1U << 31),
	      "its: GITS_CTLR 0x%x at start", r32(GITS + GITS_CTLR));
	check(((r64(GITS + GITS_BASER(0)) >> 56) & 7) == 1 &&
	      ((r64(GITS + GITS_BASER(1)) >> 56) & 7) == 0,
	      "its: BASER0/1 types %lu/%lu", (r64(GITS + GITS_BASER(0)) >> 56) & 7,
	      (r64(GITS + GITS_BASER(1)) >> 56) & 7);
}

/* Tables, LPIs on for both vCPUs, the ITS on with an empty queue. */
static void its_setup(void)
{
	for (unsigned int c = 0; c < NCPUS; c++) {
		w64(GICR(c) + GICR_PROPBASER, (uint64_t)(uintptr_t)prop | 13);
		w64(GICR(c) + GICR_PENDBASER, (uint64_t)(uintptr_t)pend[c]);
		w32(GICR(c) + GICR_CTLR, 1);
	}
	check(r64(GICR(1) + GICR_PROPBASER) == ((uint64_t)(uintptr_t)prop | 13),
	      "its: GICR_PROPBASER reads 0x%lx",
	      r64(GICR(1) + GICR_PROPBASER));
	check(r32(GICR(0) + GICR_CTLR) & 1, "its: EnableLPIs did not stick");
	w64(GITS + GITS_BASER(0), (1UL << 63) | (uint64_t)(uintptr_t)devtab);
	w64(GITS + GITS_CBASER, (1UL << 63) | (uint64_t)(uintptr_t)queue);
	cw = 0;
	w64(GITS + GITS_CWRITER, 0);
	w32(GITS + GITS_CTLR, 1);
	check(r32(GITS + GITS_CTLR) == ((1U << 31) | 1) &&
	      r64(GITS + GITS_CREADR) == 0,
	      "its: GITS_CTLR 0x%x / CREADR 0x%lx after enabling",
	      r32(GITS + GITS_CTLR), r64(GITS + GITS_CREADR));
}

static void start_cpu1(void)
{
	boot[1].sp = (uint64_t)&stacks[1][STACK];
	boot[1].id = 1;
	check(hvc(PSCI_CPU_ON, 1, (uint64_t)secondary_start,
		  (uint64_t)&boot[1]).status == 0, "its: CPU_ON(1)");
	check(WAIT_FOR(ready1, true), "its: vCPU 1 did not come up");
}

/* LPI @n (offset) taken @want times on vCPU @cpu, after an exit. */
static bool taken(unsigned int cpu, unsigned int n, uint32_t want)
{
	irq_on();
	WAIT_FOR(got[cpu][n] >= want, false);
	exit_once();
	irq_off();
	return got[cpu][n] == want;
}

/* ---- the good path ---- */

static void good(void)
{
	bool ok = true;
	uint32_t n;

	prop[0] = 0xa0 | 1;		/* dev 5 ev 0 */
	prop[1] = 0x40 | 1;		/* dev 5 ev 1 */
	prop[2] = 0x80;			/* dev 5 ev 2: disabled */
	prop[3] = 0x60 | 1;		/* TRANSLATER ev 3 */
	prop[4] = 0xa0 | 1;		/* dev 5 ev 4: MOVI */
	prop[5] = 0xa0 | 1;		/* dev 5 ev 5: MOVALL */
	prop[8] = 0x20 | 1;		/* dev 6 ev 8200 by MAPI */
	mapc(0, 0);
	mapc(1, 1);
	sync_cmd(0);
	mapd(5, 5, true);
	for (unsigned int e = 0; e < 6; e++) {
		if (e != 3) {		/* LPI 8195 is TRANSLATER's */
			mapti(5, e, LPI + e, e == 5 ? 1 : 0);
		}
	}
	mapd(6, 14, true);
	mapi(6, LPI + 8, 0);
	mapd(GUEST_ITS_CPU_DEVID, 4, true);
	mapti(GUEST_ITS_CPU_DEVID, 3, LPI + 3, 0);
	sync_cmd(1);
	check(go(), "its: CREADR 0x%lx did not reach CWRITER 0x%x",
	      r64(GITS + GITS_CREADR), cw);

	/* INT, three at once: highest priority of the configuration first. */
	INT(5, 0);
	INT(5, 1);
	INT(6, LPI + 8);
	go();
	irq_on();
	WAIT_FOR(norder == 3, false);
	irq_off();
	check(norder == 3 && order[0] == LPI + 8 && order[1] == LPI + 1 &&
	      order[2] == LPI, "its: %u LPIs by INT, order %u %u %u", norder,
	      order[0], order[1], order[2]);

	/* Disabled in its configuration: held until enabled and INV. */
	INT(5, 2);
	go();
	ok = taken(0, 2, 0);
	prop[2] = 0x80 | 1;
	INV(5, 2);
	go();
	check(ok && taken(0, 2, 1), "its: disabled LPI taken %u times",
	      got[0][2]);

	/* Listed (IRQs masked), then disabled by INV: held, still pending. */
	INT(5, 2);
	go();
	prop[2] = 0x80;
	INV(5, 2);
	go();
	ok = taken(0, 2, 1);
	n = got[0][2];
	prop[2] = 0x80 | 1;
	INV(5, 2);
	go();
	check(ok && taken(0, 2, 2), "its: a listed LPI disabled by INV: "
	      "taken %u times in all before re-enabling, %u after", n,
	      got[0][2]);

	/* CLEAR takes the pending state back. */
	INT(5, 0);
	CLEAR(5, 0);
	go();
	check(taken(0, 0, 1), "its: LPI 8192 taken after CLEAR");

	/* GITS_TRANSLATER from the vCPU: DeviceID GUEST_ITS_CPU_DEVID. */
	w32(GITS + GITS_TRANSLATER, 3);
	check(taken(0, 3, 1), "its: TRANSLATER EventID 3: LPI 8195 taken %u "
	      "times", got[0][3]);
	w32(GITS + GITS_TRANSLATER, 9);		/* not mapped: nothing */
	check(taken(0, 3, 1), "its: an unmapped EventID raised an LPI");

	/* INVALL: 8192 now 0x10, 8193 disabled. */
	prop[0] = 0x10 | 1;
	prop[1] = 0x40;
	invall(0);
	INT(5, 1);
	INT(5, 0);
	go();
	check(taken(0, 0, 2) && got[0][1] == 1,
	      "its: after INVALL 8192 %u, 8193 %u", got[0][0], got[0][1]);
	prop[1] = 0x40 | 1;
	INV(5, 1);
	go();
	check(taken(0, 1, 2), "its: 8193 not taken once re-enabled");

	/* DISCARD: the event is gone. */
	DISCARD(5, 0);
	INT(5, 0);
	go();
	check(taken(0, 0, 2), "its: a discarded event raised its LPI");

	/* MOVI to collection 1 (vCPU 1). */
	movi(5, 4, 1);
	INT(5, 4);
	go();
	check(WAIT_FOR(got[1][4] == 1, true) && got[0][4] == 0,
	      "its: after MOVI 8196 on vCPU 0 %u, vCPU 1 %u", got[0][4],
	      got[1][4]);

	/*
	 * MOVALL: raised by masked vCPU 1 itself, so that the LPI sits in
	 * its list registers (its INT's exit listed it), then moved to vCPU
	 * 0 from there.
	 */
	hold1 = 1;
	WAIT_FOR(held1, true);
	int1 = 1;
	WAIT_FOR(!int1, true);
	__asm__ volatile("dmb ish" ::: "memory");
	movall(1, 0);
	go();
	check(taken(0, 5, 1), "its: MOVALL: 8197 not taken on vCPU 0");
	hold1 = 0;
	WAIT_FOR(!held1, true);
	for (int i = 0; i < 4; i++) {
		exit_once();
	}
	check(got[1][5] == 0, "its: MOVALL: 8197 also on vCPU 1");

	/* Round the queue: 200 SYNCs in batches of 50. */
	for (int b = 0; b < 4; b++) {
		for (int i = 0; i < 50; i++) {
			sync_cmd((unsigned int)i & 1);
		}
		ok = go() && ok;
	}
	INT(6, LPI + 8);
	go();
	check(ok && taken(0, 8, 2), "its: after wrapping the queue");
}

/* ---- the hostile path ---- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15UL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void bad(void)
{
	uint64_t qpa = (uint64_t)(uintptr_t)queue;

	prop[0] = 0xa0 | 1;
	mapc(0, 0);
	mapd(5, 5, true);
	mapti(5, 0, LPI, 0);
	cmd(0x00, 0, 0, 0);			/* undefined commands */
	cmd(0x20, ~0UL, ~0UL, ~0UL);
	cmd(0xff, 0, 0, 0);
	mapd(0x10000, 4, true);			/* DeviceID beyond Devbits */
	mapd(7, 32, true);			/* 32 EventID bits */
	mapti(8, 0, LPI + 1, 0);		/* unmapped device */
	mapti(5, 32, LPI + 1, 0);		/* EventID beyond 5 bits */
	mapti(5, 1, 100, 0);			/* not LPIs */
	mapti(5, 1, 20000, 0);
	mapti(5, 1, 0xffffffff, 0);
	mapti(5, 1, LPI + 1, 0xffff);		/* ICID beyond HCC */
	mapti(5, 0, LPI + 2, 0);		/* event mapped already */
	mapti(5, 2, LPI, 0);			/* LPI mapped already */
	cmd(0x09, 0, (1UL << 63) | (99UL << 16), 0);	/* RDbase 99 */
	cmd(0x09, 0, (1UL << 63) | 500, 0);		/* ICID 500 */
	INT(9, 0);
	movi(5, 0, 7);				/* unmapped collection */
	movall(0, 77);
	for (uint32_t d = 100; d < 140; d++) {	/* more devices than held */
		mapd(d, 8, true);
	}
	check(go(), "its-bad: CREADR stuck after bad commands");
	/* More event mappings than held: one device, 200 events. */
	for (uint32_t e = 0; e < 100; e++) {
		mapti(100, e, LPI + 100 + e, 0);
	}
	check(go(), "its-bad: CREADR stuck after many MAPTIs");
	for (uint32_t e = 100; e < 200; e++) {
		mapti(100, e, LPI + 100 + e, 0);
	}
	check(go(), "its-bad: CREADR stuck after more MAPTIs");

	/* CWRITER beyond the queue: nothing runs. */
	w64(GITS + GITS_CWRITER, 0x2000);
	check(r64(GITS + GITS_CREADR) == cw,
	      "its-bad: CREADR moved to 0x%lx for a CWRITER beyond the queue",
	      r64(GITS + GITS_CREADR));
	w64(GITS + GITS_CWRITER, cw);

	/* A queue outside RAM: the commands cannot be read. */
	w32(GITS + GITS_CTLR, 0);
	w64(GITS + GITS_CBASER, (1UL << 63) | 0x7fff0000UL | 15);
	w32(GITS + GITS_CTLR, 1);
	w64(GITS + GITS_CWRITER, 0x1000);
	check(WAIT_FOR(r64(GITS + GITS_CREADR) == 0x1000, false),
	      "its-bad: CREADR 0x%lx with a queue outside RAM",
	      r64(GITS + GITS_CREADR));
	w32(GITS + GITS_CTLR, 0);
	w64(GITS + GITS_CBASER, (1UL << 63) | 0xfffffffff000UL | 255);
	w64(GITS + GITS_CWRITER, 0xfffe0);
	w32(GITS + GITS_CTLR, 1);
	check(WAIT_FOR(r64(GITS + GITS_CREADR) == 0xfffe0, false),
	      "its-bad: CREADR 0x%lx at the top of the address space",
	      r64(GITS + GITS_CREADR));
	w32(GITS + GITS_CTLR, 0);
	w64(GITS + GITS_CBASER, (1UL << 63) | qpa);
	cw = 0;
	w64(GITS + GITS_CWRITER, 0);
	w32(GITS + GITS_CTLR, 1);

	/*
	 * GICR_PROPBASER is one per VM: refused while any redistributor has
	 * LPIs on (vCPU 1's here). Then a configuration table outside RAM,
	 * and INV.
	 */
	w32(GICR(0) + GICR_CTLR, 0);
	w64(GICR(0) + GICR_PROPBASER, 0x7ff00000UL | 13);
	check(r64(GICR(0) + GICR_PROPBASER) ==
	      ((uint64_t)(uintptr_t)prop | 13), "its-bad: GICR_PROPBASER "
	      "0x%lx written while vCPU 1 has LPIs on",
	      r64(GICR(0) + GICR_PROPBASER));
	w32(GICR(1) + GICR_CTLR, 0);
	w64(GICR(0) + GICR_PROPBASER, 0x7ff00000UL | 13);
	check(r64(GICR(1) + GICR_PROPBASER) == (0x7ff00000UL | 13),
	      "its-bad: GICR_PROPBASER 0x%lx with LPIs off everywhere",
	      r64(GICR(1) + GICR_PROPBASER));
	INV(5, 0);
	go();
	w64(GICR(0) + GICR_PROPBASER, (uint64_t)(uintptr_t)prop | 13);
	w32(GICR(0) + GICR_CTLR, 1);
	w32(GICR(1) + GICR_CTLR, 1);

	/* Two thousand random commands, undefined and defined alike. */
	for (int b = 0; b < 20; b++) {
		for (int i = 0; i < 100; i++) {
			uint64_t r = rnd();

			cmd((r & 0x0f) | (rnd() & ~0xffUL), rnd() >> (r & 63),
			    rnd() >> ((r >> 8) & 63), rnd());
		}
		check(go(), "its-bad: CREADR stuck in the random batch %d", b);
	}
	/* TRANSLATER with the ITS disabled: nothing. */
	w32(GITS + GITS_CTLR, 0);
	w32(GITS + GITS_TRANSLATER, 0);
	w32(GITS + GITS_CTLR, 1);

	/* Still an ITS: a fresh mapping delivers its LPI. */
	prop[40] = 0x30 | 1;
	mapc(0, 0);
	mapd(5, 5, false);
	mapd(5, 5, true);
	mapti(5, 1, LPI + 40, 0);
	INT(5, 1);
	check(go(), "its-bad: CREADR stuck at the end");
	check(taken(0, 40, 1), "its-bad: a fresh mapping's LPI taken %u times",
	      got[0][40]);
}

int guest_main(void *dtb)
{
	uint32_t len;
	const char *args = dt_prop(dtb, "/chosen", "bootargs", &len);
	bool hostile = args && !strcmp(args, "its-bad");
	const char *me = hostile ? "its-bad" : "its";

	printf("%s: start\n", me);
	w32(GICD + GICD_CTLR, 2);		/* EnableGrp1 */
	cpu_setup();
	check_dtb(dtb);
	check_registers();
	its_setup();
	start_cpu1();
	if (hostile) {
		bad();
	} else {
		good();
	}
	done = 1;
	WAIT_FOR(hvc(PSCI_AFFINITY_INFO, 1, 0, 0).status == 1, true);
	printf("%s: LPIs taken on vCPU 0: %u, on vCPU 1: %u, other %u\n", me,
	       got[0][0] + got[0][1] + got[0][2] + got[0][3] + got[0][5] +
	       got[0][8] + got[0][40], got[1][4], other);
	if (!failures) {
		printf("%s: PASS\n", me);
	}
	return (int)failures;
}
