// SPDX-License-Identifier: MIT
/*
 * The vGICv2 guest (tests/boot/gicv2_arm64.py): on a GICv2 host Strata's
 * guest DTB must describe an arm,cortex-a15-gic, and the distributor and
 * CPU interface at its addresses must behave as the GICv2 architecture
 * says: ID and type registers, five priority bits, read-only SGI/PPI
 * targets, the virtual timer (PPI 27) and the EL1 physical timer (PPI 30)
 * as level interrupts whose lines show in ISPENDR0, SGIs through GICD_SGIR
 * with each target-list filter and the requester's CPUID in GICC_IAR,
 * SGIs pended and unpended per requester through GICD_[SC]PENDSGIR, more
 * pending interrupts than the CPU interface has list registers, the active
 * state in ISACTIVER0, a software-pended SPI routed by ITARGETSR, and
 * GICD_ICPENDR1 from vCPU 0 taking back an SPI listed on vCPU 1 while
 * vCPU 1 runs (on another physical CPU, with interrupts masked).
 * Needs 3 vCPUs. Prints "gicv2: PASS" when every check held.
 */
#include "guest.h"

#define GICD			GUEST_GICD_BASE
#define GICC			GUEST_GICC_BASE
#define REG32(a)		(*(volatile uint32_t *)(uintptr_t)(a))
#define REG8(a)			(*(volatile uint8_t *)(uintptr_t)(a))

#define GICD_CTLR		0x000
#define GICD_TYPER		0x004
#define GICD_IIDR		0x008
#define GICD_IGROUPR		0x080
#define GICD_ISENABLER		0x100
#define GICD_ICENABLER		0x180
#define GICD_ISPENDR		0x200
#define GICD_ICPENDR		0x280
#define GICD_ISACTIVER		0x300
#define GICD_IPRIORITYR		0x400
#define GICD_ITARGETSR		0x800
#define GICD_SGIR		0xf00
#define GICD_CPENDSGIR		0xf10
#define GICD_SPENDSGIR		0xf20
#define GICD_PIDR2		0xfe8
#define GICC_CTLR		0x00
#define GICC_PMR		0x04
#define GICC_IAR		0x0c
#define GICC_EOIR		0x10

#define VTIMER			27
#define PTIMER			30
#define SPI			40
#define NCPUS			3
#define STACK			4096

static struct cpu_boot boot[NCPUS];
static uint8_t stacks[NCPUS][STACK] __attribute__((aligned(16)));

/* What each vCPU's interrupt handler saw. */
static volatile uint32_t sgis[NCPUS][16];	/* count per SGI */
static volatile uint32_t sgi_from[NCPUS][16];	/* requesters' CPUIDs */
static volatile uint32_t vtimer_irqs, ptimer_irqs, spi_irqs, spurious;
static volatile uint32_t last_id, active_seen, order[16], norder;
static volatile uint64_t ready[NCPUS], done[NCPUS];

/*
 * check_remote_clear(): round r of vCPU 0's GICD_ICPENDR1 of an SPI listed
 * on vCPU 1 (x_go, x_listed, x_cleared, x_fin: the round each reached);
 * x_took[r]: how often vCPU 1 took the SPI in round r.
 */
#define XROUNDS			24	/* then one round without the clear */
static volatile uint32_t x_arm, x_armed, x_go, x_listed, x_cleared, x_fin;
static volatile uint32_t x_took[XROUNDS + 2];

#define sysreg(r) ({							\
	uint64_t __v;							\
	__asm__ volatile("mrs %0, " #r : "=r"(__v));			\
	__v;								\
})

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

/*
 * Wait (in WFI or spinning) until @cond holds; false after ~20 s. The
 * bound is only a safety net against a hang: the other vCPUs may run on
 * other physical CPUs of a loaded host, so it is far above what the wait
 * takes (the verdict is the condition, not the time).
 */
#define WAIT_FOR(cond, wfi)						\
	({								\
		uint64_t __end = read_cntvct() + 20 * read_cntfrq();	\
		while (!(cond) && read_cntvct() < __end) {		\
			if (wfi) {					\
				__asm__ volatile("wfi");		\
			}						\
		}							\
		(bool)(cond);						\
	})

static void handle_irq(void)
{
	uint32_t iar = REG32(GICC + GICC_IAR);
	unsigned int id = iar & 0x3ff, src = (iar >> 10) & 7;
	unsigned int me = cpu_id();

	if (id >= 1020) {
		spurious++;
		return;
	}
	if (id == VTIMER) {
		__asm__ volatile("msr cntv_ctl_el0, xzr\nisb");
		vtimer_irqs++;
	} else if (id == PTIMER) {
		__asm__ volatile("msr cntp_ctl_el0, xzr\nisb");
		ptimer_irqs++;
	} else if (id == SPI) {
		spi_irqs++;
	} else if (id < 16 && me < NCPUS) {
		if (id == 5) {
			active_seen = REG32(GICD + GICD_ISACTIVER) & (1U << 5);
		}
		if (me == 0 && norder < 16) {
			order[norder++] = id;
		}
		sgi_from[me][id] |= 1U << src;
		sgis[me][id]++;
	}
	last_id = id;
	REG32(GICC + GICC_EOIR) = iar;
}

bool exception_hook(struct exc_frame *f)
{
	if (f->vector == 0x280) {	/* IRQ, current EL with SP_ELx */
		handle_irq();
		return true;
	}
	return false;
}

/* This vCPU's banked distributor state and its CPU interface. */
static void cpu_setup(void)
{
	REG32(GICD + GICD_IGROUPR) = 0;			/* group 0 */
	for (unsigned int i = 0; i < 32; i += 4) {
		REG32(GICD + GICD_IPRIORITYR + i) = 0xa0a0a0a0;
	}
	REG32(GICD + GICD_ISENABLER) = 0xffff | (1U << VTIMER) |
				       (1U << PTIMER);
	REG32(GICC + GICC_PMR) = 0xff;
	REG32(GICC + GICC_CTLR) = 1;			/* EnableGrp0 */
}

/* Until @cond holds; false after ~20 s (vCPU 0 runs its checks meanwhile). */
#define WAIT_LONG(cond)							\
	({								\
		uint64_t __end = read_cntvct() + 20 * read_cntfrq();	\
		while (!(cond) && read_cntvct() < __end) {		\
		}							\
		(bool)(cond);						\
	})

/*
 * vCPU 1's side of check_remote_clear(), with interrupts masked: an exit
 * (a distributor read) lists the SPI pending for it at its re-entry, then
 * it stays in the guest while vCPU 0 clears it, and only then unmasks.
 */
static void remote_clear_target(void)
{
	if (!WAIT_LONG(x_arm)) {	/* SGIs still to take until then */
		return;
	}
	irq_off();
	x_armed = 1;
	for (uint32_t r = 1; r <= XROUNDS + 1; r++) {
		uint32_t before;

		if (!WAIT_LONG(x_go == r)) {
			break;
		}
		(void)REG32(GICD + GICD_ISENABLER + 4);
		x_listed = r;
		if (!WAIT_LONG(x_cleared == r)) {
			break;
		}
		before = spi_irqs;
		irq_on();
		for (uint64_t end = read_cntvct() + read_cntfrq() / 1000;
		     read_cntvct() < end;) {
		}
		irq_off();
		x_took[r] = spi_irqs - before;
		x_fin = r;
	}
}

void secondary_main(struct cpu_boot *b)
{
	unsigned int me = (unsigned int)b->id;

	cpu_setup();
	irq_on();
	ready[me] = 1;
	if (me == 1) {
		/* Wait for SGI 1, then send SGI 6 back to vCPU 0 by list. */
		WAIT_FOR(sgis[1][1] == 1, true);
		REG32(GICD + GICD_SGIR) = (1U << 16) | 6;
		remote_clear_target();
		irq_on();
	}
	WAIT_FOR(done[me], true);
	irq_off();
	hvc(PSCI_CPU_OFF, 0, 0, 0);
}

static void check_dtb(const void *dtb)
{
	uint32_t len;
	const char *compat = dt_prop(dtb, "/intc@8000000", "compatible",
				     &len);
	const uint8_t *reg = dt_prop(dtb, "/intc@8000000", "reg", &len);

	check(compat && !strcmp(compat, "arm,cortex-a15-gic"),
	      "gicv2: the DTB's GIC is '%s', not arm,cortex-a15-gic",
	      compat ? compat : "(none)");
	check(reg && len == 32 && dt_u64(reg) == GICD &&
	      dt_u64(reg + 16) == GICC && dt_u64(reg + 24) == 0x2000,
	      "gicv2: the GIC's reg is not GICD 0x%lx, GICC 0x%lx (8 KiB)",
	      GICD, GICC);
	check(!dt_prop(dtb, "/intc@8000000", "#redistributor-regions", NULL),
	      "gicv2: GICv3 properties in a GICv2 node");
}

static void check_registers(void)
{
	uint32_t typer = REG32(GICD + GICD_TYPER);

	check(REG32(GICD + GICD_PIDR2) == 0x2b, "gicv2: GICD_PIDR2 0x%x",
	      REG32(GICD + GICD_PIDR2));
	check((typer & 0x1f) == 1 && ((typer >> 5) & 7) == NCPUS - 1 &&
	      !(typer & (1U << 10)),
	      "gicv2: GICD_TYPER 0x%x (want 64 INTIDs, %u CPUs, no security)",
	      typer, NCPUS);
	check((REG32(GICD + GICD_IIDR) & 0xfff) == 0x43b,
	      "gicv2: GICD_IIDR 0x%x is not Arm's", REG32(GICD + GICD_IIDR));
	REG8(GICD + GICD_IPRIORITYR + VTIMER) = 0xff;
	check(REG8(GICD + GICD_IPRIORITYR + VTIMER) == 0xf8,
	      "gicv2: priority 0xff reads back 0x%x, want five bits 0xf8",
	      REG8(GICD + GICD_IPRIORITYR + VTIMER));
	check(REG32(GICD + GICD_ITARGETSR) == 0x01010101 &&
	      REG32(GICD + GICD_ITARGETSR + 28) == 0x01010101,
	      "gicv2: ITARGETSR0/7 of vCPU 0 read 0x%x/0x%x",
	      REG32(GICD + GICD_ITARGETSR),
	      REG32(GICD + GICD_ITARGETSR + 28));
	REG32(GICD + GICD_ITARGETSR) = 0x02020202;	/* read-only */
	check(REG32(GICD + GICD_ITARGETSR) == 0x01010101,
	      "gicv2: ITARGETSR0 took a write");
	/* SPI targets: only implemented CPU interfaces stick. */
	REG8(GICD + GICD_ITARGETSR + SPI) = 0xff;
	check(REG8(GICD + GICD_ITARGETSR + SPI) == (1U << NCPUS) - 1,
	      "gicv2: ITARGETSR of SPI %u reads 0x%x", SPI,
	      REG8(GICD + GICD_ITARGETSR + SPI));
	REG32(GICD + GICD_CTLR) = 1;			/* EnableGrp0 */
	cpu_setup();
	check(REG32(GICD + GICD_ISENABLER) ==
	      (0xffffU | (1U << VTIMER) | (1U << PTIMER)),
	      "gicv2: ISENABLER0 reads 0x%x", REG32(GICD + GICD_ISENABLER));
}

/* Arm the virtual timer @us from now and wait for its interrupt. */
static bool timer_round(uint64_t us, bool wfi)
{
	uint32_t want = vtimer_irqs + 1;

	__asm__ volatile("msr cntv_tval_el0, %0\nmov x0, #1\n"
			 "msr cntv_ctl_el0, x0\nisb"
			 : : "r"(read_cntfrq() / 1000000 * us) : "x0");
	irq_on();
	WAIT_FOR(vtimer_irqs >= want, wfi);
	irq_off();
	return vtimer_irqs == want;
}

static void check_timers(void)
{
	uint64_t freq = read_cntfrq(), end;
	uint32_t n;
	bool ok = true;

	for (int i = 0; i < 6; i++) {
		ok = timer_round(3000, i < 3) && ok;
	}
	check(ok && last_id == VTIMER, "gicv2: %u virtual timer interrupts "
	      "of 6", vtimer_irqs);
	/* IMASK: the condition is met, no interrupt; cleared: at once. */
	n = vtimer_irqs;
	__asm__ volatile("msr cntv_tval_el0, xzr\nmov x0, #3\n"
			 "msr cntv_ctl_el0, x0\nisb" : : : "x0");
	irq_on();
	for (end = read_cntvct() + freq / 200; read_cntvct() < end;) {
	}
	check(vtimer_irqs == n, "gicv2: a masked timer interrupted");
	__asm__ volatile("mov x0, #1\nmsr cntv_ctl_el0, x0\nisb" : : : "x0");
	WAIT_FOR(vtimer_irqs == n + 1, false);
	irq_off();
	check(vtimer_irqs == n + 1, "gicv2: the unmasked timer did not "
	      "interrupt");
	/* The asserted line shows in ISPENDR0 and goes with it. */
	__asm__ volatile("msr cntv_tval_el0, xzr\nmov x0, #1\n"
			 "msr cntv_ctl_el0, x0\nisb" : : : "x0");
	for (end = read_cntvct() + freq / 1000; read_cntvct() < end;) {
	}
	check(REG32(GICD + GICD_ISPENDR) & (1U << VTIMER),
	      "gicv2: ISPENDR0 without the asserted virtual timer");
	__asm__ volatile("msr cntv_ctl_el0, xzr\nisb");
	check(!(REG32(GICD + GICD_ISPENDR) & (1U << VTIMER)),
	      "gicv2: ISPENDR0 kept the virtual timer after its line dropped");
	/* The EL1 physical timer: PPI 30, twice. */
	for (int i = 0; i < 2; i++) {
		n = ptimer_irqs;
		__asm__ volatile("msr cntp_tval_el0, %0\nmov x0, #1\n"
				 "msr cntp_ctl_el0, x0\nisb"
				 : : "r"(freq / 1000) : "x0");
		irq_on();
		WAIT_FOR(ptimer_irqs == n + 1, true);
		irq_off();
		check(ptimer_irqs == n + 1 && last_id == PTIMER,
		      "gicv2: physical timer interrupt %d missing", i + 1);
	}
}

static void check_sgis(void)
{
	bool up = true;

	for (unsigned int i = 1; i < NCPUS; i++) {
		boot[i].sp = (uint64_t)&stacks[i][STACK];
		boot[i].id = i;
		check(hvc(PSCI_CPU_ON, i, (uint64_t)secondary_start,
			  (uint64_t)&boot[i]).status == 0,
		      "gicv2: CPU_ON(%u)", i);
	}
	for (unsigned int i = 1; i < NCPUS; i++) {
		up = WAIT_FOR(ready[i], true) && up;
	}
	if (!check(up, "gicv2: the secondary vCPUs did not come up")) {
		return;
	}
	irq_on();
	/* Filter 0, target list {1}: SGI 1; vCPU 1 answers with SGI 6. */
	REG32(GICD + GICD_SGIR) = (0U << 24) | (1U << 17) | 1;
	WAIT_FOR(sgis[0][6] == 1, true);
	check(sgis[1][1] == 1 && sgi_from[1][1] == 1 && !sgis[2][1] &&
	      !sgis[0][1], "gicv2: SGI 1 by target list reached %u/%u/%u",
	      sgis[0][1], sgis[1][1], sgis[2][1]);
	check(sgis[0][6] == 1 && sgi_from[0][6] == 1U << 1,
	      "gicv2: SGI 6 from vCPU 1: %u, CPUIDs 0x%x", sgis[0][6],
	      sgi_from[0][6]);
	/* Filter 1, all but the sender: SGI 2. */
	REG32(GICD + GICD_SGIR) = (1U << 24) | 2;
	WAIT_FOR(sgis[1][2] && sgis[2][2], true);
	check(sgis[1][2] == 1 && sgis[2][2] == 1 && !sgis[0][2] &&
	      sgi_from[2][2] == 1,
	      "gicv2: SGI 2 to all but self reached %u/%u/%u", sgis[0][2],
	      sgis[1][2], sgis[2][2]);
	/* Filter 2, the sender only: SGI 3, whatever the list says. */
	REG32(GICD + GICD_SGIR) = (2U << 24) | (6U << 16) | 3;
	WAIT_FOR(sgis[0][3], true);
	check(sgis[0][3] == 1 && !sgis[1][3] && !sgis[2][3] &&
	      sgi_from[0][3] == 1,
	      "gicv2: SGI 3 to self reached %u/%u/%u", sgis[0][3], sgis[1][3],
	      sgis[2][3]);
	/* Filter 3 is reserved: nothing. */
	REG32(GICD + GICD_SGIR) = (3U << 24) | (7U << 16) | 7;
	for (uint64_t end = read_cntvct() + read_cntfrq() / 100;
	     read_cntvct() < end;) {
	}
	check(!sgis[0][7] && !sgis[1][7] && !sgis[2][7],
	      "gicv2: the reserved filter sent SGI 7");
	irq_off();
}

/* SPENDSGIR / CPENDSGIR per requester, ISACTIVER, overflowing LRs. */
static void check_pending(void)
{
	uint32_t v;
	bool ok = true;

	/* SGI 4 pended as if from vCPUs 1 and 2, then 1's request cleared. */
	REG8(GICD + GICD_SPENDSGIR + 4) = 0x06;
	v = REG32(GICD + GICD_SPENDSGIR + 4);
	check((v & 0xff) == 0x06 && (REG32(GICD + GICD_ISPENDR) & (1U << 4)),
	      "gicv2: SPENDSGIR1 reads 0x%x after pending SGI 4 from 1, 2",
	      v);
	REG8(GICD + GICD_CPENDSGIR + 4) = 0x02;
	v = REG8(GICD + GICD_SPENDSGIR + 4);
	check(v == 0x04, "gicv2: SGI 4 sources 0x%x after CPENDSGIR", v);
	irq_on();
	WAIT_FOR(sgis[0][4], false);
	irq_off();
	check(sgis[0][4] == 1 && sgi_from[0][4] == 1U << 2,
	      "gicv2: SGI 4 taken %u times, CPUIDs 0x%x", sgis[0][4],
	      sgi_from[0][4]);
	/* The active state while the handler runs. */
	REG32(GICD + GICD_SGIR) = (2U << 24) | 5;
	irq_on();
	WAIT_FOR(sgis[0][5], false);
	irq_off();
	check(sgis[0][5] == 1 && active_seen,
	      "gicv2: SGI 5 not active in ISACTIVER0 in its handler");
	check(!(REG32(GICD + GICD_ISACTIVER) & (1U << 5)),
	      "gicv2: SGI 5 still active after its EOI");
	/* Eight SGIs at once, more than the list registers: all arrive,
	 * highest priority (lowest value) first. */
	norder = 0;
	for (unsigned int id = 8; id < 16; id++) {
		REG8(GICD + GICD_IPRIORITYR + id) = (uint8_t)(0x80 - 8 * id);
		REG8(GICD + GICD_SPENDSGIR + id) = 0x01;
	}
	irq_on();
	WAIT_FOR(norder == 8, false);
	irq_off();
	for (unsigned int i = 0; i < 8; i++) {
		ok = ok && order[i] == 15 - i;
	}
	check(norder == 8 && ok, "gicv2: %u of 8 pended SGIs taken, first "
	      "%u, last %u", norder, order[0], norder ? order[norder - 1] : 0);
	/* A software-pended SPI goes where ITARGETSR sends it. */
	REG8(GICD + GICD_IPRIORITYR + SPI) = 0xa0;
	REG8(GICD + GICD_ITARGETSR + SPI) = 0x01;
	REG32(GICD + GICD_ISENABLER + 4) = 1U << (SPI - 32);
	REG32(GICD + GICD_ISPENDR + 4) = 1U << (SPI - 32);
	check(REG32(GICD + GICD_ISPENDR + 4) & (1U << (SPI - 32)),
	      "gicv2: SPI %u not pending in ISPENDR1", SPI);
	irq_on();
	WAIT_FOR(spi_irqs, false);
	irq_off();
	check(spi_irqs == 1 && !(REG32(GICD + GICD_ISPENDR + 4) &
				 (1U << (SPI - 32))),
	      "gicv2: SPI %u taken %u times", SPI, spi_irqs);
	/* Disabled in the distributor: pended, not taken. */
	REG32(GICD + GICD_ICENABLER + 4) = 1U << (SPI - 32);
	REG32(GICD + GICD_ISPENDR + 4) = 1U << (SPI - 32);
	irq_on();
	for (uint64_t end = read_cntvct() + read_cntfrq() / 100;
	     read_cntvct() < end;) {
	}
	irq_off();
	check(spi_irqs == 1, "gicv2: a disabled SPI was taken");
	REG32(GICD + GICD_ICPENDR + 4) = 1U << (SPI - 32);
	check(!(REG32(GICD + GICD_ISPENDR + 4) & (1U << (SPI - 32))),
	      "gicv2: ICPENDR1 left SPI %u pending", SPI);
}

/*
 * GICD_ICPENDR1 clears an SPI that is listed pending on another vCPU
 * while that vCPU runs: it must not be taken when that vCPU unmasks
 * (Strata used to change only the saved copy of the target's list
 * registers, which its save overwrote). The last round does not clear:
 * there vCPU 1 must take it once, which shows the SPI was listed.
 */
static void check_remote_clear(void)
{
	unsigned int taken = 0, lost = 0;
	uint32_t r;

	REG8(GICD + GICD_ITARGETSR + SPI) = 0x02;	/* vCPU 1 */
	REG32(GICD + GICD_ISENABLER + 4) = 1U << (SPI - 32);
	x_arm = 1;
	r = WAIT_LONG(x_armed) ? 1 : XROUNDS + 3;
	for (; r <= XROUNDS + 1; r++) {
		REG32(GICD + GICD_ISPENDR + 4) = 1U << (SPI - 32);
		x_go = r;
		if (!WAIT_LONG(x_listed == r)) {
			break;
		}
		if (r <= XROUNDS) {
			REG32(GICD + GICD_ICPENDR + 4) = 1U << (SPI - 32);
		}
		x_cleared = r;
		if (!WAIT_LONG(x_fin == r)) {
			break;
		}
		if (r <= XROUNDS) {
			taken += x_took[r];
		} else {
			lost = x_took[r] != 1;
		}
	}
	REG32(GICD + GICD_ICENABLER + 4) = 1U << (SPI - 32);
	REG32(GICD + GICD_ICPENDR + 4) = 1U << (SPI - 32);
	REG8(GICD + GICD_ITARGETSR + SPI) = 0x01;
	if (!check(r == XROUNDS + 2, "gicv2: vCPU 1 stopped in round %u of "
		   "the remote ICPENDR1", r)) {
		return;
	}
	check(!taken, "gicv2: SPI %u taken %u times by vCPU 1 in %u rounds "
	      "after vCPU 0 cleared it in ICPENDR1", SPI, taken, XROUNDS);
	check(!lost, "gicv2: SPI %u pended for vCPU 1 and not cleared was "
	      "taken %u times, want 1", SPI, x_took[XROUNDS + 1]);
	if (!taken && !lost) {
		printf("gicv2: ICPENDR1 took back SPI %u from running vCPU 1 "
		       "in %u rounds\n", SPI, XROUNDS);
	}
}

int guest_main(void *dtb)
{
	puts("gicv2: start\n");
	check_dtb(dtb);
	check_registers();
	check_timers();
	check_sgis();
	check_pending();
	check_remote_clear();
	for (unsigned int i = 1; i < NCPUS; i++) {
		done[i] = 1;
	}
	for (unsigned int i = 1; i < NCPUS; i++) {
		WAIT_FOR(hvc(PSCI_AFFINITY_INFO, i, 0, 0).status == 1, true);
	}
	printf("gicv2: vtimer irqs %u, ptimer irqs %u, SGIs to vCPU 0 %u, "
	       "SPI irqs %u, spurious %u\n", vtimer_irqs, ptimer_irqs,
	       norder + sgis[0][3] + sgis[0][4] + sgis[0][5] + sgis[0][6],
	       spi_irqs, spurious);
	if (!failures) {
		puts("gicv2: PASS\n");
	}
	return (int)failures;
}
