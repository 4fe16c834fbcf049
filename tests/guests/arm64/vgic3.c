// SPDX-License-Identifier: MIT
/*
 * vgic3: the vGICv3 as the GIC architecture (IHI 0069) says, one check per
 * behaviour (tests/boot/vgic_arm64.py). Needs 4 vCPUs (MPIDR Aff0 0-3).
 *
 * - registers: GICD_CTLR.DS/ARE, IIDR, priority bytes as wide as the
 *   virtual CPU interface's (ICC_CTLR_EL1.PRIbits), byte writes that leave
 *   their neighbours alone, GICD_ICFGR/GICR_ICFGR0;
 * - priorities: eight SGIs and an SPI pended at once (more than the list
 *   registers) are taken highest priority first; ICC_PMR_EL1 holds back an
 *   interrupt of lower priority and lets it through when lowered;
 *   ICC_RPR_EL1 is idle (0xff) or the running priority; a higher-priority
 *   interrupt preempts an active one, an equal one does not, and one in the
 *   same group priority by ICC_BPR1_EL1 does not;
 * - SGIs: ICC_SGI1R_EL1 target lists with Aff1 and RS (no vCPU there: no
 *   SGI), IRM=1 (all but self), self; ICC_SGI0R_EL1 and ICC_ASGI1R_EL1 only
 *   for SGIs that are Group 0 at the target (as FIQs), ICC_SGI1R_EL1 for
 *   either group;
 * - state: GICR_ISPENDR0 shows an asserted timer line and a latch,
 *   GICR_ISACTIVER0/GICD_ISACTIVER the active state in the handler;
 * - GICD_ICFGR: the UART's SPI as level (pending while its line is up,
 *   taken again after each EOI) and as edge (once per rising edge, a
 *   latched edge pending after the line fell);
 * - GICR_WAKER: asleep, a redistributor keeps its SGI and its timer
 *   pending (shown in ISPENDR0, not taken) and delivers them on wake;
 * - an interrupt already in a list register: disabled (ICENABLER0/1), its
 *   group disabled, its redistributor asleep, it is not taken and stays
 *   pending; given a higher priority, it is taken with it; pended again
 *   (ISPENDR, an SGI) while listed, it is taken once;
 * - GICD_IROUTER: RES0 bits read as zero, Interrupt_Routing_Mode 1 routes
 *   to a vCPU whose redistributor is awake;
 * - pending set by vCPU 0 for vCPU 1 (GICD_ISPENDR, its GICR_ISPENDR0)
 *   wakes it from WFI with a kick when it runs on another physical CPU;
 * - pending cleared by vCPU 0 (GICD_ICPENDR1, vCPU 1's GICR_ICPENDR0)
 *   from an SPI and an SGI listed on vCPU 1 while it runs is never taken.
 * Prints "vgic3: PASS" when every check held.
 */
#include "guest.h"

#define GICD			GUEST_GICD_BASE
#define GICR(cpu)		(GUEST_GICR_BASE + 0x20000UL * (cpu))
#define SGI_BASE		0x10000

/* Device accesses in forms with a syndrome (guest.h). */
#define w32(a, v)		mmio_write32((uint64_t)(a), (uint32_t)(v))
#define r32(a)			mmio_read32((uint64_t)(a))

static inline void w8(uint64_t addr, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline uint8_t r8(uint64_t addr)
{
	uint8_t v;

	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

#define GICD_CTLR		0x000
#define GICD_IIDR		0x008
#define GICD_IGROUPR		0x080
#define GICD_ISENABLER		0x100
#define GICD_ICENABLER		0x180
#define GICD_ISPENDR		0x200
#define GICD_ICPENDR		0x280
#define GICD_ISACTIVER		0x300
#define GICD_IPRIORITYR		0x400
#define GICD_ICFGR		0xc00
#define GICD_IROUTER		0x6000
#define GICR_WAKER		0x014
#define GICR_IGROUPR0		(SGI_BASE + 0x080)
#define GICR_ISENABLER0		(SGI_BASE + 0x100)
#define GICR_ISPENDR0		(SGI_BASE + 0x200)
#define GICR_ICENABLER0		(SGI_BASE + 0x180)
#define GICR_ICPENDR0		(SGI_BASE + 0x280)
#define GICR_ISACTIVER0		(SGI_BASE + 0x300)
#define GICR_ICACTIVER0		(SGI_BASE + 0x380)
#define GICR_IPRIORITYR		(SGI_BASE + 0x400)
#define GICR_ICFGR0		(SGI_BASE + 0xc00)

#define UART_IMSC		(GUEST_PL011_BASE + 0x038)
#define UART_TX			(1U << 5)	/* TXRIS: set once we print */
#define UART			GUEST_PL011_INTID	/* SPI 33, level */
#define VTIMER			27
#define SPI			45
#define NCPUS			4
#define STACK			4096
#define NONE			0xffffffffU

static struct cpu_boot boot[NCPUS];
static uint8_t stacks[NCPUS][STACK] __attribute__((aligned(16)));

static volatile uint32_t sgis[NCPUS][16];	/* IRQs per SGI and vCPU */
static volatile uint32_t fiqs[NCPUS][16];	/* FIQs (Group 0) */
static volatile uint32_t order[16], norder, vtimer_irqs, in_order;
static volatile uint32_t rpr_in[16], active_in[16], nested_in[16];
static volatile uint64_t ready[NCPUS], done;
static volatile uint32_t uart_irqs, uart_mask_at;
static volatile uint32_t spi_on[NCPUS];	/* SPI 45 on vCPUs 1-3 */

/*
 * check_remote_clear(): round r (counted over both kinds) of vCPU 0
 * clearing an SPI (GICD_ICPENDR1) or SGI 12 (vCPU 1's GICR_ICPENDR0) listed
 * on vCPU 1, which stays in the guest with interrupts masked meanwhile
 * (x_go, x_listed, x_cleared, x_fin: the round each side reached; x_sgi:
 * the kind; x_took[r]: how often vCPU 1 took it in round r).
 */
#define XROUNDS			12	/* per kind; then one without the clear */
static volatile uint32_t x_arm, x_armed, x_go, x_listed, x_cleared, x_fin;
static volatile uint32_t x_sgi, x_took[2 * (XROUNDS + 1) + 2];

/* What the handler of an SGI on vCPU 0 does besides counting it. */
static volatile uint32_t pend_outer = NONE;	/* in this SGI's handler */
static volatile uint32_t pend_inside = NONE;	/* pend this SGI */
static volatile uint32_t in_handler = NONE;

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
	__asm__ volatile("msr daifclr, #3" ::: "memory");	/* I and F */
}

static void irq_off(void)
{
	__asm__ volatile("msr daifset, #3" ::: "memory");
}

/* Wait (in WFI or spinning) until @cond holds; false after ~10 s. */
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

static void handle_irq(void)
{
	uint32_t id = (uint32_t)sysreg(icc_iar1_el1) & 0xffffff;
	unsigned int me = cpu_id();

	if (id >= 1020) {
		return;
	}
	if (id == VTIMER) {
		__asm__ volatile("msr cntv_ctl_el0, xzr\nisb");
		vtimer_irqs++;
	} else if (id == UART) {
		/* The line stays up: the UART's TX interrupt is not cleared. */
		if (++uart_irqs == uart_mask_at) {
			w32(UART_IMSC, 0);
		}
	} else if ((id < 16 || id == SPI) && me == 0) {
		unsigned int slot = id < 16 ? id : 0;
		uint32_t outer = in_handler;

		if (norder < 16) {
			order[norder++] = id;
		}
		rpr_in[slot] = (uint32_t)sysreg(icc_rpr_el1);
		active_in[slot] = id < 16 ?
			r32(GICR(0) + GICR_ISACTIVER0) & (1U << id) :
			r32(GICD + GICD_ISACTIVER + 4) & (1U << (SPI - 32));
		nested_in[slot] = outer;
		if (id < 16) {
			sgis[0][id]++;
		}
		if (id == pend_outer && outer == NONE) {
			/* Pend another SGI and let it preempt us if its
			 * group priority is higher. */
			in_handler = id;
			w32(GICR(0) + GICR_ISPENDR0, 1U << pend_inside);
			__asm__ volatile("msr daifclr, #2" ::: "memory");
			exit_once();
			exit_once();
			__asm__ volatile("msr daifset, #2" ::: "memory");
			in_handler = NONE;
		}
	} else if (id < 16 && me < NCPUS) {
		sgis[me][id]++;
	} else if (id == SPI && me < NCPUS) {
		spi_on[me]++;
	}
	set_sysreg(icc_eoir1_el1, id);
}

static void handle_fiq(void)
{
	uint32_t id = (uint32_t)sysreg(icc_iar0_el1) & 0xffffff;
	unsigned int me = cpu_id();

	if (id >= 1020) {
		return;
	}
	if (id < 16 && me < NCPUS) {
		fiqs[me][id]++;
	}
	set_sysreg(icc_eoir0_el1, id);
}

bool exception_hook(struct exc_frame *f)
{
	if (f->vector == 0x280) {	/* IRQ, current EL with SP_ELx */
		handle_irq();
		return true;
	}
	if (f->vector == 0x300) {	/* FIQ */
		handle_fiq();
		return true;
	}
	return false;
}

/*
 * This vCPU's redistributor and CPU interface: SGIs and the timer Group 1
 * at 0xa0, SGI 7 Group 0 (FIQ), everything enabled.
 */
static void cpu_setup(unsigned int me)
{
	uint64_t r = GICR(me);

	w32(r + GICR_IGROUPR0, ~(1U << 7));
	for (unsigned int i = 0; i < 32; i += 4) {
		w32(r + GICR_IPRIORITYR + i, 0xa0a0a0a0);
	}
	w32(r + GICR_ISENABLER0, 0xffff | (1U << VTIMER));
	set_sysreg(icc_pmr_el1, 0xff);
	set_sysreg(icc_bpr1_el1, 0);		/* the minimum */
	set_sysreg(icc_igrpen1_el1, 1);
	set_sysreg(icc_igrpen0_el1, 1);
}

/*
 * vCPU 1's side of check_remote_clear(), interrupts masked: an exit lists
 * what vCPU 0 made pending at its re-entry, then it stays in the guest
 * while vCPU 0 clears it, and only then unmasks for a while.
 */
static void remote_clear_target(void)
{
	irq_off();
	x_armed = 1;
	for (uint32_t r = 1; r <= 2 * (XROUNDS + 1); r++) {
		uint32_t before;

		if (!WAIT_FOR(x_go == r, false)) {
			break;
		}
		exit_once();
		x_listed = r;
		if (!WAIT_FOR(x_cleared == r, false)) {
			break;
		}
		before = x_sgi ? sgis[1][12] : spi_on[1];
		irq_on();
		for (uint64_t end = read_cntvct() + read_cntfrq() / 1000;
		     read_cntvct() < end;) {
		}
		irq_off();
		x_took[r] = (x_sgi ? sgis[1][12] : spi_on[1]) - before;
		x_fin = r;
	}
	irq_on();
}

void secondary_main(struct cpu_boot *b)
{
	unsigned int me = (unsigned int)b->id;

	cpu_setup(me);
	irq_on();
	ready[me] = 1;
	if (me == 1) {
		WAIT_FOR(done || x_arm, true);
		if (x_arm) {
			remote_clear_target();
		}
	}
	WAIT_FOR(done, true);
	irq_off();
	hvc(PSCI_CPU_OFF, 0, 0, 0);
}

static void check_registers(void)
{
	unsigned int bits = (unsigned int)((sysreg(icc_ctlr_el1) >> 8) & 7) + 1;
	uint8_t mask = (uint8_t)(0xff00U >> bits);
	uint32_t v;

	check((r32(GICD + GICD_CTLR) & 0x50) == 0x50,
	      "vgic3: GICD_CTLR 0x%x without ARE and DS",
	      r32(GICD + GICD_CTLR));
	check((r32(GICD + GICD_IIDR) & 0xfff) == 0x43b,
	      "vgic3: GICD_IIDR 0x%x is not Arm's", r32(GICD + GICD_IIDR));
	/* Priority bytes: as many bits as the CPU interface, bytewise. */
	w32(GICR(0) + GICR_IPRIORITYR + 8, 0x11223344);
	w8(GICR(0) + GICR_IPRIORITYR + 9, 0xff);
	v = r32(GICR(0) + GICR_IPRIORITYR + 8);
	check(v == (((0x11223344U & ~0xff00U) | (uint32_t)mask << 8) &
		    (0x01010101U * mask)),
	      "vgic3: GICR_IPRIORITYR2 0x%x after a byte write (%u bits)", v,
	      bits);
	w8(GICD + GICD_IPRIORITYR + SPI, 0xff);
	check(r8(GICD + GICD_IPRIORITYR + SPI) == mask,
	      "vgic3: SPI priority 0xff reads 0x%x, want 0x%x",
	      r8(GICD + GICD_IPRIORITYR + SPI), mask);
	check(bits >= 4, "vgic3: only %u priority bits", bits);
	/* Trigger modes: SGIs are edge, SPIs take Int_config (odd bits). */
	check(r32(GICR(0) + GICR_ICFGR0) == 0xaaaaaaaa,
	      "vgic3: GICR_ICFGR0 0x%x", r32(GICR(0) + GICR_ICFGR0));
	w32(GICD + GICD_ICFGR + 8, 0xffffffff);
	check(r32(GICD + GICD_ICFGR + 8) == 0xaaaaaaaa,
	      "vgic3: GICD_ICFGR2 0x%x", r32(GICD + GICD_ICFGR + 8));
	w32(GICD + GICD_ICFGR + 8, 0);
}

/* More pending than list registers: highest priority first. */
static void check_priority_order(void)
{
	static const uint8_t prio[8] = { 0x90, 0x30, 0xe0, 0x50,
					 0x10, 0xc0, 0x70, 0x20 };
	/* SGIs 8-15 get prio[], SPI 45 0x60: the order by priority. */
	static const uint32_t want[9] = { 12, 15, 9, 11, SPI, 14, 8, 13,
					  10 };
	bool ok = true;

	for (unsigned int i = 0; i < 8; i++) {
		w8(GICR(0) + GICR_IPRIORITYR + 8 + i, prio[i]);
	}
	w8(GICD + GICD_IPRIORITYR + SPI, 0x60);
	w32(GICD + GICD_IROUTER + 8 * SPI, 0);	/* vCPU 0 */
	w32(GICD + GICD_IGROUPR + 4, 1U << (SPI - 32));
	w32(GICD + GICD_ISENABLER + 4, 1U << (SPI - 32));
	norder = 0;
	/* Lowest priority first, so that later ones must displace them. */
	w32(GICR(0) + GICR_ISPENDR0, 1U << 10);
	w32(GICR(0) + GICR_ISPENDR0, 1U << 13);
	w32(GICR(0) + GICR_ISPENDR0, 1U << 8);
	w32(GICR(0) + GICR_ISPENDR0, 1U << 14);
	w32(GICD + GICD_ISPENDR + 4, 1U << (SPI - 32));
	w32(GICR(0) + GICR_ISPENDR0, (1U << 11) | (1U << 9) |
					 (1U << 15) | (1U << 12));
	check((r32(GICR(0) + GICR_ISPENDR0) & 0xff00) == 0xff00 &&
	      (r32(GICD + GICD_ISPENDR + 4) & (1U << (SPI - 32))),
	      "vgic3: ISPENDR0 0x%x / ISPENDR1 0x%x with 9 pended",
	      r32(GICR(0) + GICR_ISPENDR0),
	      r32(GICD + GICD_ISPENDR + 4));
	irq_on();
	WAIT_FOR(norder == 9, true);
	irq_off();
	for (unsigned int i = 0; i < 9; i++) {
		ok = ok && order[i] == want[i];
		in_order += ok;
	}
	check(norder == 9 && ok, "vgic3: %u of 9 taken, in the order "
	      "%u %u %u %u %u %u %u %u %u", norder, order[0], order[1],
	      order[2], order[3], order[4], order[5], order[6], order[7],
	      order[8]);
	check(rpr_in[12] == 0x10 && rpr_in[10] == 0xe0 &&
	      rpr_in[0] == 0x60,
	      "vgic3: ICC_RPR_EL1 in the handlers 0x%x 0x%x 0x%x (want 0x10 "
	      "0xe0 0x60)", rpr_in[12], rpr_in[10], rpr_in[0]);
	check(active_in[12] && active_in[0],
	      "vgic3: not active in the handler: SGI 12 %u, SPI %u",
	      active_in[12], active_in[0]);
	check(!(r32(GICR(0) + GICR_ISACTIVER0) & 0xff00) &&
	      !(r32(GICD + GICD_ISACTIVER + 4) & (1U << (SPI - 32))),
	      "vgic3: still active after EOI: 0x%x",
	      r32(GICR(0) + GICR_ISACTIVER0));
	check(sysreg(icc_rpr_el1) == 0xff, "vgic3: idle ICC_RPR_EL1 0x%lx",
	      sysreg(icc_rpr_el1));
	w32(GICD + GICD_ICENABLER + 4, 1U << (SPI - 32));
}

/* ICC_PMR_EL1 masks what is not of higher priority than it. */
static void check_pmr(void)
{
	uint32_t n = sgis[0][3];

	w8(GICR(0) + GICR_IPRIORITYR + 3, 0xa0);
	set_sysreg(icc_pmr_el1, 0xa0);		/* 0xa0 is not below it */
	irq_on();
	w32(GICR(0) + GICR_ISPENDR0, 1U << 3);
	exit_once();
	check(sgis[0][3] == n && (r32(GICR(0) + GICR_ISPENDR0) & (1U << 3)),
	      "vgic3: SGI 3 (0xa0) taken under ICC_PMR_EL1 0xa0");
	set_sysreg(icc_pmr_el1, 0xa8);
	WAIT_FOR(sgis[0][3] == n + 1, false);
	irq_off();
	check(sgis[0][3] == n + 1, "vgic3: SGI 3 not taken under PMR 0xa8");
	set_sysreg(icc_pmr_el1, 0xff);
}

/*
 * In the handler of SGI @outer (priority @po) SGI @inner (@pi) is pended
 * with interrupts unmasked: true when it preempted.
 */
static bool preempts(unsigned int outer, uint8_t po, unsigned int inner,
		     uint8_t pi)
{
	uint32_t n = sgis[0][inner];

	w8(GICR(0) + GICR_IPRIORITYR + outer, po);
	w8(GICR(0) + GICR_IPRIORITYR + inner, pi);
	nested_in[inner] = NONE;
	pend_inside = inner;
	pend_outer = outer;
	irq_on();
	w32(GICR(0) + GICR_ISPENDR0, 1U << outer);
	WAIT_FOR(sgis[0][inner] == n + 1, false);
	irq_off();
	pend_outer = NONE;
	check(sgis[0][inner] == n + 1, "vgic3: SGI %u taken %u times, not "
	      "once (outer %u: %u)", inner, sgis[0][inner] - n, outer,
	      sgis[0][outer]);
	return nested_in[inner] == outer;
}

static void check_preemption(void)
{
	check(preempts(4, 0xa0, 5, 0x80),
	      "vgic3: 0x80 did not preempt an active 0xa0");
	check(rpr_in[5] == 0x80, "vgic3: ICC_RPR_EL1 0x%x when preempted",
	      rpr_in[5]);
	check(!preempts(4, 0xa0, 5, 0xa0),
	      "vgic3: an equal priority preempted");
	check(!preempts(4, 0x80, 5, 0xa0),
	      "vgic3: a lower priority preempted");
	/* BPR1 6: group priority bits [7:6], 0x80 and 0xa0 alike. */
	set_sysreg(icc_bpr1_el1, 6);
	check(sysreg(icc_bpr1_el1) == 6, "vgic3: ICC_BPR1_EL1 reads %lu",
	      sysreg(icc_bpr1_el1));
	check(!preempts(4, 0xa0, 5, 0x80),
	      "vgic3: 0x80 preempted 0xa0 of the same group priority");
	set_sysreg(icc_bpr1_el1, 0);
	check(preempts(4, 0xa0, 5, 0x80),
	      "vgic3: 0x80 did not preempt 0xa0 after BPR1 back to min");
}

/* No vCPU other than @cpus got SGI @id since @before (counts). */
static bool sgi_only(unsigned int id, unsigned int cpus,
		     const uint32_t before[NCPUS], bool fiq)
{
	bool ok = true;

	for (unsigned int c = 0; c < NCPUS; c++) {
		uint32_t got = (fiq ? fiqs[c][id] : sgis[c][id]) - before[c];
		uint32_t pend = r32(GICR(c) + GICR_ISPENDR0) & (1U << id);

		if (cpus & (1U << c)) {
			ok = ok && got == 1;
		} else if (got || pend) {
			printf("FAIL: vgic3: SGI %u reached vCPU %u\n", id, c);
			failures++;
			ok = false;
		}
	}
	return ok;
}

static void snap(unsigned int id, uint32_t b[NCPUS], bool fiq)
{
	for (unsigned int c = 0; c < NCPUS; c++) {
		b[c] = fiq ? fiqs[c][id] : sgis[c][id];
	}
}

#define SGI1R(id, aff1, rs, list) \
	(((uint64_t)(id) << 24) | ((uint64_t)(aff1) << 16) | \
	 ((uint64_t)(rs) << 44) | (list))
#define IRM			(1UL << 40)

static bool all_got(unsigned int id, unsigned int cpus,
		    const uint32_t b[NCPUS], bool fiq)
{
	for (unsigned int c = 0; c < NCPUS; c++) {
		uint32_t got = (fiq ? fiqs[c][id] : sgis[c][id]) - b[c];

		if ((cpus & (1U << c)) && !got) {
			return false;
		}
	}
	return true;
}

static void send_and_check(const char *what, unsigned int id, uint64_t val,
			   unsigned int cpus, int reg)
{
	uint32_t b[NCPUS];
	bool fiq = id == 7;

	snap(id, b, fiq);
	irq_on();
	if (reg == 0) {
		set_sysreg(icc_sgi1r_el1, val);
	} else if (reg == 1) {
		set_sysreg(icc_sgi0r_el1, val);
	} else {
		set_sysreg(icc_asgi1r_el1, val);
	}
	WAIT_FOR(all_got(id, cpus, b, fiq), true);
	exit_once();
	irq_off();
	check(sgi_only(id, cpus, b, fiq), "vgic3: %s: SGI %u not at 0x%x",
	      what, id, cpus);
}

static void check_sgis(void)
{
	bool up = true;

	for (unsigned int i = 1; i < NCPUS; i++) {
		boot[i].sp = (uint64_t)&stacks[i][STACK];
		boot[i].id = i;
		check(hvc(PSCI_CPU_ON, i, (uint64_t)secondary_start,
			  (uint64_t)&boot[i]).status == 0,
		      "vgic3: CPU_ON(%u)", i);
	}
	for (unsigned int i = 1; i < NCPUS; i++) {
		up = WAIT_FOR(ready[i], true) && up;
	}
	if (!check(up, "vgic3: the secondary vCPUs did not come up")) {
		return;
	}
	for (unsigned int i = 0; i < 16; i++) {
		w8(GICR(0) + GICR_IPRIORITYR + i, 0xa0);
	}
	send_and_check("list {1,3}", 1, SGI1R(1, 0, 0, 0xa), 0xa, 0);
	send_and_check("list {0}", 2, SGI1R(2, 0, 0, 0x1), 0x1, 0);
	send_and_check("Aff1 1", 3, SGI1R(3, 1, 0, 0xf), 0, 0);
	send_and_check("RS 1", 4, SGI1R(4, 0, 1, 0xf), 0, 0);
	send_and_check("IRM", 5, SGI1R(5, 0, 0, 0) | IRM, 0xe, 0);
	send_and_check("IRM with a list", 6, SGI1R(6, 0, 0, 1) | IRM, 0xe, 0);
	/* SGI 7 is Group 0 everywhere, the others Group 1. */
	send_and_check("SGI0R G0", 7, SGI1R(7, 0, 0, 0x6), 0x6, 1);
	send_and_check("SGI0R G1", 8, SGI1R(8, 0, 0, 0x6), 0, 1);
	send_and_check("ASGI1R G0", 7, SGI1R(7, 0, 0, 0x9), 0x9, 2);
	send_and_check("ASGI1R G1", 9, SGI1R(9, 0, 0, 0x9), 0, 2);
	send_and_check("SGI1R G0", 7, SGI1R(7, 0, 0, 0x3), 0x3, 0);
}

/* Take UART interrupts for a while: exits list what is pending again. */
static void uart_window(void)
{
	irq_on();
	for (int i = 0; i < 8; i++) {
		exit_once();
		__asm__ volatile("wfi");
	}
	irq_off();
}

/*
 * GICD_ICFGR: the UART's SPI (its line up while UARTIMSC unmasks TXRIS)
 * as level-sensitive is pending while the line is high, so it is taken
 * again after each EOI until the handler drops the line; as edge-triggered
 * it is taken once per rising edge, and a latched edge stays pending after
 * the line falls.
 */
static void check_trigger(void)
{
	uint32_t bit = 1U << (UART - 32);

	w8(GICD + GICD_IPRIORITYR + UART, 0x80);
	w32(GICD + GICD_IROUTER + 8 * UART, 0);
	w32(GICD + GICD_IGROUPR + 4, bit);
	w32(GICD + GICD_ICFGR + 8, 0);			/* level */
	w32(GICD + GICD_ISENABLER + 4, bit);
	w32(UART_IMSC, UART_TX);
	check(r32(GICD + GICD_ISPENDR + 4) & bit,
	      "vgic3: level SPI %u not pending with its line up", UART);
	w32(UART_IMSC, 0);
	check(!(r32(GICD + GICD_ISPENDR + 4) & bit),
	      "vgic3: level SPI %u pending after its line dropped", UART);
	uart_irqs = 0;
	uart_mask_at = 3;
	w32(UART_IMSC, UART_TX);
	WAIT_FOR(uart_irqs >= 3, true);
	uart_window();
	check(uart_irqs == 3, "vgic3: level SPI taken %u times, want 3 (the "
	      "handler drops the line at the third)", uart_irqs);

	w32(GICD + GICD_ICFGR + 8, 1U << ((UART - 32) * 2 + 1));	/* edge */
	uart_irqs = 0;
	uart_mask_at = 0;
	w32(UART_IMSC, UART_TX);			/* a rising edge */
	uart_window();
	check(uart_irqs == 1, "vgic3: edge SPI taken %u times for one edge",
	      uart_irqs);
	w32(UART_IMSC, 0);
	w32(UART_IMSC, UART_TX);			/* and another */
	uart_window();
	check(uart_irqs == 2, "vgic3: edge SPI taken %u times for two edges",
	      uart_irqs);
	w32(UART_IMSC, 0);
	w32(UART_IMSC, UART_TX);			/* latched ... */
	w32(UART_IMSC, 0);				/* ... then low */
	check(r32(GICD + GICD_ISPENDR + 4) & bit,
	      "vgic3: a latched edge SPI not pending after its line fell");
	uart_window();
	check(uart_irqs == 3, "vgic3: the latched edge taken %u times",
	      uart_irqs - 2);
	w32(GICD + GICD_ICENABLER + 4, bit);
	w32(GICD + GICD_ICFGR + 8, 0);
}

/* The timer line and a latch in ISPENDR0; a sleeping redistributor. */
static void check_sleep(void)
{
	uint32_t n = sgis[0][2], t = vtimer_irqs, w;

	/* The timer's condition met, interrupts masked: ISPENDR0 shows it. */
	__asm__ volatile("msr cntv_tval_el0, xzr\nmov x0, #1\n"
			 "msr cntv_ctl_el0, x0\nisb" : : : "x0");
	check(r32(GICR(0) + GICR_ISPENDR0) & (1U << VTIMER),
	      "vgic3: ISPENDR0 without the asserted timer line");
	__asm__ volatile("msr cntv_ctl_el0, xzr\nisb");
	check(!(r32(GICR(0) + GICR_ISPENDR0) & (1U << VTIMER)),
	      "vgic3: ISPENDR0 kept the timer after its line dropped");

	w32(GICR(0) + GICR_WAKER, 1U << 1);		/* ProcessorSleep */
	w = r32(GICR(0) + GICR_WAKER);
	check((w & 6) == 6, "vgic3: GICR_WAKER 0x%x asleep", w);
	irq_on();
	set_sysreg(icc_sgi1r_el1, SGI1R(2, 0, 0, 1));
	__asm__ volatile("msr cntv_tval_el0, xzr\nmov x0, #1\n"
			 "msr cntv_ctl_el0, x0\nisb" : : : "x0");
	exit_once();
	exit_once();
	check(sgis[0][2] == n && vtimer_irqs == t,
	      "vgic3: a sleeping redistributor delivered (SGI %u, timer %u)",
	      sgis[0][2] - n, vtimer_irqs - t);
	check((r32(GICR(0) + GICR_ISPENDR0) & ((1U << 2) | (1U << VTIMER)))
	      == ((1U << 2) | (1U << VTIMER)),
	      "vgic3: asleep, ISPENDR0 0x%x lost SGI 2 or the timer",
	      r32(GICR(0) + GICR_ISPENDR0));
	w32(GICR(0) + GICR_WAKER, 0);
	WAIT_FOR(sgis[0][2] == n + 1 && vtimer_irqs == t + 1, false);
	irq_off();
	check(sgis[0][2] == n + 1 && vtimer_irqs == t + 1,
	      "vgic3: after wake SGI 2 taken %u times, the timer %u",
	      sgis[0][2] - n, vtimer_irqs - t);
	check(!(r32(GICR(0) + GICR_WAKER) & 6), "vgic3: GICR_WAKER 0x%x "
	      "awake", r32(GICR(0) + GICR_WAKER));
	/* A latch: ICPENDR0 takes a pended SGI back before it is taken. */
	w32(GICR(0) + GICR_ISPENDR0, 1U << 6);
	check(r32(GICR(0) + GICR_ISPENDR0) & (1U << 6),
	      "vgic3: SGI 6 not pending after ISPENDR0");
	w32(GICR(0) + GICR_ICPENDR0, 1U << 6);
	n = sgis[0][6];
	irq_on();
	exit_once();
	irq_off();
	check(!(r32(GICR(0) + GICR_ISPENDR0) & (1U << 6)) &&
	      sgis[0][6] == n, "vgic3: SGI 6 survived ICPENDR0");
	/* The active state set and cleared by software. */
	w32(GICR(0) + GICR_ISACTIVER0, 1U << 11);
	check(r32(GICR(0) + GICR_ISACTIVER0) & (1U << 11),
	      "vgic3: ISACTIVER0 did not make SGI 11 active");
	w32(GICR(0) + GICR_ICACTIVER0, 1U << 11);
	check(!(r32(GICR(0) + GICR_ISACTIVER0) & (1U << 11)),
	      "vgic3: ICACTIVER0 left SGI 11 active");
}

/* SGI 5 listed on vCPU 0 (IRQs masked), not yet taken: its count. */
static uint32_t list_sgi5(void)
{
	w32(GICR(0) + GICR_ISPENDR0, 1U << 5);
	exit_once();
	return sgis[0][5];
}

/* Unmask for a few entries: true when SGI 5 was not taken meanwhile. */
static bool held(uint32_t n)
{
	irq_on();
	exit_once();
	exit_once();
	irq_off();
	return sgis[0][5] == n &&
	       (r32(GICR(0) + GICR_ISPENDR0) & (1U << 5));
}

/* Unmask until SGI 5 was taken once more than @n. */
static bool taken_once(uint32_t n)
{
	irq_on();
	WAIT_FOR(sgis[0][5] == n + 1, false);
	exit_once();
	irq_off();
	return sgis[0][5] == n + 1;
}

/*
 * What becomes undeliverable while it sits pending in a list register is
 * not signalled, and stays pending: disabled (GICR_ICENABLER0,
 * GICD_ICENABLER), its group disabled (GICD_CTLR), the redistributor put
 * to sleep; a new priority applies to a listed interrupt too.
 */
static void check_listed_changes(void)
{
	uint32_t n, spi = 1U << (SPI - 32);

	n = list_sgi5();
	w32(GICR(0) + GICR_ICENABLER0, 1U << 5);
	check(held(n), "vgic3: a listed SGI disabled by ICENABLER0 was taken "
	      "(%u) or lost", sgis[0][5] - n);
	w32(GICR(0) + GICR_ISENABLER0, 1U << 5);
	check(taken_once(n), "vgic3: re-enabled SGI 5 taken %u times",
	      sgis[0][5] - n);

	n = list_sgi5();
	w32(GICD + GICD_CTLR, 1);		/* Group 1 off */
	check(held(n), "vgic3: a listed SGI of a disabled group was taken "
	      "(%u) or lost", sgis[0][5] - n);
	w32(GICD + GICD_CTLR, 3);
	check(taken_once(n), "vgic3: SGI 5 taken %u times once Group 1 is "
	      "on", sgis[0][5] - n);

	n = list_sgi5();
	w32(GICR(0) + GICR_WAKER, 1U << 1);
	check(held(n), "vgic3: a listed SGI taken (%u) or lost on a sleeping "
	      "redistributor", sgis[0][5] - n);
	w32(GICR(0) + GICR_WAKER, 0);
	check(taken_once(n), "vgic3: SGI 5 taken %u times after wake",
	      sgis[0][5] - n);

	/* Listed at 0xa0, masked by PMR 0x80; raised to 0x40 it passes. */
	set_sysreg(icc_pmr_el1, 0x80);
	n = list_sgi5();
	w8(GICR(0) + GICR_IPRIORITYR + 5, 0x40);
	check(taken_once(n) && rpr_in[5] == 0x40, "vgic3: listed SGI 5 given "
	      "priority 0x40: taken %u times, running priority 0x%x",
	      sgis[0][5] - n, rpr_in[5]);
	set_sysreg(icc_pmr_el1, 0xff);
	w8(GICR(0) + GICR_IPRIORITYR + 5, 0xa0);

	/* An SPI disabled at the distributor while listed. */
	norder = 0;
	w32(GICD + GICD_IROUTER + 8 * SPI, 0);
	w32(GICD + GICD_IGROUPR + 4, spi);
	w32(GICD + GICD_ISENABLER + 4, spi);
	w32(GICD + GICD_ISPENDR + 4, spi);
	exit_once();
	w32(GICD + GICD_ICENABLER + 4, spi);
	irq_on();
	exit_once();
	exit_once();
	irq_off();
	check(norder == 0 && (r32(GICD + GICD_ISPENDR + 4) & spi),
	      "vgic3: a listed SPI disabled by ICENABLER1 taken %u times",
	      norder);
	w32(GICD + GICD_ISENABLER + 4, spi);
	irq_on();
	WAIT_FOR(norder == 1, false);
	exit_once();
	irq_off();
	check(norder == 1 && order[0] == SPI, "vgic3: re-enabled SPI taken "
	      "%u times", norder);
	w32(GICD + GICD_ICENABLER + 4, spi);
}

/*
 * An interrupt has one pending state: pended again while it sits pending
 * in a list register (ISPENDR0 twice, an SGI sent to self twice, ISPENDR1
 * twice) it is taken once.
 */
static void check_one_pending(void)
{
	uint32_t n, spi = 1U << (SPI - 32);

	n = list_sgi5();
	w32(GICR(0) + GICR_ISPENDR0, 1U << 5);
	exit_once();
	check(taken_once(n) && held(n + 1) == false &&
	      sgis[0][5] == n + 1, "vgic3: SGI 5 pended twice while listed: "
	      "taken %u times", sgis[0][5] - n);

	n = sgis[0][5];
	set_sysreg(icc_sgi1r_el1, SGI1R(5, 0, 0, 1));
	exit_once();
	set_sysreg(icc_sgi1r_el1, SGI1R(5, 0, 0, 1));
	exit_once();
	check(taken_once(n) && sgis[0][5] == n + 1, "vgic3: SGI 5 sent twice "
	      "while listed: taken %u times", sgis[0][5] - n);

	norder = 0;
	w32(GICD + GICD_IROUTER + 8 * SPI, 0);
	w32(GICD + GICD_ISENABLER + 4, spi);
	w32(GICD + GICD_ISPENDR + 4, spi);
	exit_once();
	w32(GICD + GICD_ISPENDR + 4, spi);
	exit_once();
	irq_on();
	WAIT_FOR(norder >= 1, false);
	exit_once();
	exit_once();
	irq_off();
	check(norder == 1, "vgic3: SPI pended twice while listed: taken %u "
	      "times", norder);
	w32(GICD + GICD_ICENABLER + 4, spi);
}

/*
 * Pending made by vCPU 0 for vCPU 1, which waits in WFI: an SPI routed to
 * it through GICD_ISPENDR and an SGI through its GICR_ISPENDR0. Each is
 * taken once; the kicks Strata counted meanwhile are printed, and the
 * script requires one for each when vCPU 1 runs on another physical CPU
 * (none when it shares vCPU 0's: a kick is an IPI to another CPU).
 */
static void check_remote_pend(void)
{
	uint64_t r = GICD + GICD_IROUTER + 8 * SPI;
	uint32_t spi = 1U << (SPI - 32), s0 = spi_on[1], g0 = sgis[1][12];
	uint64_t k0, k1, k2;

	w32(r, 1);				/* Aff0 1: vCPU 1 */
	w32(GICD + GICD_IGROUPR + 4, spi);
	w32(GICD + GICD_ISENABLER + 4, spi);
	k0 = counter(STRATA_CTR_KICKS);
	w32(GICD + GICD_ISPENDR + 4, spi);
	WAIT_FOR(spi_on[1] == s0 + 1, false);
	k1 = counter(STRATA_CTR_KICKS);
	check(spi_on[1] == s0 + 1, "vgic3: SPI pended for vCPU 1 taken %u "
	      "times", spi_on[1] - s0);
	w32(GICR(1) + GICR_ISPENDR0, 1U << 12);
	WAIT_FOR(sgis[1][12] == g0 + 1, false);
	k2 = counter(STRATA_CTR_KICKS);
	check(sgis[1][12] == g0 + 1, "vgic3: SGI 12 pended in vCPU 1's "
	      "GICR_ISPENDR0 taken %u times", sgis[1][12] - g0);
	printf("vgic3: kicks for pending set for vCPU 1: SPI %u, SGI %u\n",
	       (unsigned int)(k1 - k0), (unsigned int)(k2 - k1));
	w32(GICD + GICD_ICENABLER + 4, spi);
	w32(r, 0);
}

/* One kind of check_remote_clear(): rounds *@r onwards; taken, lost. */
static void remote_clear_rounds(uint32_t *r, bool sgi, unsigned int *taken,
				bool *lost)
{
	uint32_t spi = 1U << (SPI - 32);

	x_sgi = sgi;
	for (unsigned int i = 0; i <= XROUNDS; i++, (*r)++) {
		if (sgi) {
			w32(GICR(1) + GICR_ISPENDR0, 1U << 12);
		} else {
			w32(GICD + GICD_ISPENDR + 4, spi);
		}
		x_go = *r;
		if (!WAIT_FOR(x_listed == *r, false)) {
			return;
		}
		if (i < XROUNDS) {
			if (sgi) {
				w32(GICR(1) + GICR_ICPENDR0, 1U << 12);
			} else {
				w32(GICD + GICD_ICPENDR + 4, spi);
			}
		}
		x_cleared = *r;
		if (!WAIT_FOR(x_fin == *r, false)) {
			return;
		}
		if (i < XROUNDS) {
			*taken += x_took[*r];
		} else {
			*lost |= x_took[*r] != 1;
		}
	}
}

/*
 * Pending state cleared by vCPU 0 from interrupts listed on vCPU 1 while
 * vCPU 1 is in the guest (on another physical CPU in the -smp 2 run, where
 * its list registers are live there): an SPI through GICD_ICPENDR1 and an
 * SGI through vCPU 1's GICR_ICPENDR0. None may be taken after the clear;
 * the last round of each kind, not cleared, must be taken once.
 */
static void check_remote_clear(void)
{
	uint32_t spi = 1U << (SPI - 32), r = 1;
	unsigned int taken_spi = 0, taken_sgi = 0;
	bool lost = false;

	w32(GICD + GICD_IROUTER + 8 * SPI, 1);	/* vCPU 1 */
	w32(GICD + GICD_IGROUPR + 4, spi);
	w32(GICD + GICD_ISENABLER + 4, spi);
	x_arm = 1;
	if (!check(WAIT_FOR(x_armed, false), "vgic3: vCPU 1 not ready for "
		   "the remote clear")) {
		return;
	}
	remote_clear_rounds(&r, false, &taken_spi, &lost);
	remote_clear_rounds(&r, true, &taken_sgi, &lost);
	w32(GICD + GICD_ICENABLER + 4, spi);
	w32(GICD + GICD_ICPENDR + 4, spi);
	w32(GICD + GICD_IROUTER + 8 * SPI, 0);
	if (!check(r == 2 * (XROUNDS + 1) + 1, "vgic3: vCPU 1 stopped in "
		   "round %u of the remote clear", r)) {
		return;
	}
	check(!taken_spi && !taken_sgi, "vgic3: taken by vCPU 1 after vCPU 0 "
	      "cleared it: SPI %u, SGI %u times in %u rounds each", taken_spi,
	      taken_sgi, XROUNDS);
	check(!lost, "vgic3: a pending state not cleared was not taken once");
	if (!taken_spi && !taken_sgi && !lost) {
		printf("vgic3: ICPENDR took back an SPI and an SGI from running "
		       "vCPU 1 in %u rounds each\n", XROUNDS);
	}
}

/*
 * GICD_IROUTER: its RES0 bits read as zero and do not change the routing;
 * Interrupt_Routing_Mode 1 routes to a participating vCPU, not to one
 * whose redistributor sleeps.
 */
static void check_irouter(void)
{
	uint64_t r = GICD + GICD_IROUTER + 8 * SPI;
	uint32_t spi = 1U << (SPI - 32), lo, hi;

	w32(r + 4, 0xffffff00);			/* 63:40 RES0, Aff3 0 */
	w32(r, 0x7f000000);			/* 30:24 RES0, vCPU 0 */
	lo = r32(r);
	hi = r32(r + 4);
	check(lo == 0 && hi == 0, "vgic3: GICD_IROUTER RES0 bits read "
	      "0x%x%08x", hi, lo);
	norder = 0;
	w32(GICD + GICD_IGROUPR + 4, spi);
	w32(GICD + GICD_ISENABLER + 4, spi);
	w32(GICD + GICD_ISPENDR + 4, spi);
	irq_on();
	WAIT_FOR(norder == 1, false);
	exit_once();
	irq_off();
	check(norder == 1, "vgic3: SPI with RES0 IROUTER bits written taken "
	      "%u times on vCPU 0", norder);

	w32(GICR(0) + GICR_WAKER, 1U << 1);
	w32(r, 1U << 31);			/* any participating vCPU */
	w32(GICD + GICD_ISPENDR + 4, spi);
	WAIT_FOR(spi_on[1] + spi_on[2] + spi_on[3] == 1, false);
	check(spi_on[1] + spi_on[2] + spi_on[3] == 1 && norder == 1,
	      "vgic3: IRM SPI with vCPU 0 asleep taken on vCPUs 1-3 %u "
	      "times, on vCPU 0 %u", spi_on[1] + spi_on[2] + spi_on[3],
	      norder - 1);
	w32(GICR(0) + GICR_WAKER, 0);
	w32(r, 0);
	w32(GICD + GICD_ICENABLER + 4, spi);
}

int guest_main(void *dtb)
{
	(void)dtb;
	puts("vgic3: start\n");
	set_sysreg(icc_sre_el1, 7);
	w32(GICD + GICD_CTLR, 3);		/* EnableGrp0, EnableGrp1 */
	cpu_setup(0);
	check_registers();
	cpu_setup(0);
	check_priority_order();
	check_pmr();
	check_preemption();
	check_sgis();
	check_sleep();
	check_listed_changes();
	check_one_pending();
	check_irouter();
	check_remote_pend();
	check_remote_clear();
	check_trigger();
	done = 1;
	for (unsigned int i = 1; i < NCPUS; i++) {
		WAIT_FOR(hvc(PSCI_AFFINITY_INFO, i, 0, 0).status == 1, true);
	}
	printf("vgic3: %u of 9 interrupts in priority order, %u vtimer irqs, "
	       "%u FIQs\n", in_order, vtimer_irqs,
	       fiqs[0][7] + fiqs[1][7] + fiqs[2][7] + fiqs[3][7]);
	if (!failures) {
		puts("vgic3: PASS\n");
	}
	return (int)failures;
}
