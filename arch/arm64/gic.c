// SPDX-License-Identifier: MIT
/*
 * The least physical GICv3 that time slicing needs: the EL2 physical timer
 * (CNTHP, PPI 26) enabled as a group 1 interrupt in the distributor and
 * this CPU's redistributor, the CPU interface used through its system
 * registers at EL2, acknowledge and end of interrupt; every other interrupt
 * is disabled, except the kick SGI (INTID_KICK) other CPUs send to make
 * this one leave its guest or its idle wait (docs/smp.md): ICC_SGI1R_EL1
 * with the target's affinity. HCR_EL2.IMO/FMO send a physical interrupt that arrives while
 * a guest runs to EL2. Guests' own interrupts are virtual (vgic.c).
 * Addresses come from the host DTB (arm64_board). A GICv2 in the DTB is
 * gic_v2.c's.
 */
#include <arch/board.h>
#include <arch/gic_regs.h>
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <arch/vgic_v2.h>
#include <core/percpu.h>
#include <lib/errno.h>
#include <lib/printk.h>

#define INTID_HYP_TIMER		26
#define INTID_SPURIOUS		1020	/* 1020..1023 are special */
#define TIMER_PRIORITY		0xa0
#define GIC_POLL_LIMIT		1000000

/* Each CPU's SGI_base (pcpus[] index), 0 until set up. */
static uintptr_t gicr_sgi[PCPU_MAX];

static inline uint32_t mmio_read32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static inline uint64_t mmio_read64(uintptr_t a)
{
	return *(volatile uint64_t *)a;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static inline void mmio_write8(uintptr_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

static int poll_clear(uintptr_t reg, uint32_t bits)
{
	for (unsigned int i = 0; i < GIC_POLL_LIMIT; i++) {
		if (!(mmio_read32(reg) & bits)) {
			return 0;
		}
	}
	return -EBUSY;
}

/* GICR_TYPER's affinity (bits 63:32) as Aff3.Aff2.Aff1.Aff0 of MPIDR_EL1. */
static uint32_t mpidr_to_typer_aff(uint64_t mpidr)
{
	return (uint32_t)((mpidr & 0xffffff) | ((mpidr >> 8) & 0xff000000));
}

/* This CPU's redistributor RD_base in the first region, or 0. */
static uintptr_t find_redist(void)
{
	uint32_t aff = mpidr_to_typer_aff(read_sysreg(mpidr_el1));
	uintptr_t rd = (uintptr_t)arm64_board.gic_redist;

	for (unsigned int i = 0; i < 4 * ARM64_MAX_CPUS; i++) {
		uint64_t typer = mmio_read64(rd + GICR_TYPER);

		if ((uint32_t)(typer >> 32) == aff) {
			return rd;
		}
		if (typer & GICR_TYPER_LAST) {
			break;
		}
		rd += GICR_FRAME_SIZE +
		      ((typer & GICR_TYPER_VLPIS) ? GICR_VLPI_FRAMES : 0);
	}
	return 0;
}

static void cpu_interface_init(void)
{
	/* System register interface at EL2, and EL1 may use its own. */
	write_sysreg(read_sysreg(SYS_ICC_SRE_EL2) | BIT(0) | BIT(3),
		     SYS_ICC_SRE_EL2);
	isb();
	write_sysreg(0, SYS_ICH_HCR_EL2);	/* no virtual CPU interface */
	write_sysreg(0xff, SYS_ICC_PMR_EL1);
	write_sysreg(0, SYS_ICC_BPR1_EL1);
	write_sysreg(0, SYS_ICC_CTLR_EL1);	/* EOI also deactivates */
	write_sysreg(1, SYS_ICC_IGRPEN1_EL1);
	isb();
}

/* This CPU's redistributor and CPU interface: the timer and the kick. */
static int redist_init(void)
{
	uintptr_t rd = find_redist(), sgi;
	uint32_t mine = BIT(INTID_HYP_TIMER) | BIT(INTID_KICK);

	if (!rd) {
		pr_err("arm64: no GICv3 redistributor for this CPU\n");
		return -ENODEV;
	}
	mmio_write32(rd + GICR_WAKER,
		     mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	if (poll_clear(rd + GICR_WAKER, GICR_WAKER_ASLEEP)) {
		pr_err("arm64: GIC redistributor does not wake up\n");
		return -ENODEV;
	}
	sgi = rd + GICR_SGI_BASE;
	mmio_write32(sgi + GICR_ICENABLER0, ~mine);
	mmio_write32(sgi + GICR_IGROUPR0, mmio_read32(sgi + GICR_IGROUPR0) |
		     mine);
	mmio_write8(sgi + GICR_IPRIORITYR + INTID_HYP_TIMER, TIMER_PRIORITY);
	mmio_write8(sgi + GICR_IPRIORITYR + INTID_KICK, TIMER_PRIORITY);
	mmio_write32(sgi + GICR_ISENABLER0, mine);
	cpu_interface_init();
	slice_timer_stop();
	gicr_sgi[this_pcpu()->id] = sgi;
	return 0;
}

int gic_init(void)
{
	uintptr_t dist = (uintptr_t)arm64_board.gic_dist;
	unsigned int lines;

	if (arm64_board.gic_version == 2) {
		return gic_v2_init();
	}
	if (arm64_board.gic_version != 3 || !dist ||
	    !arm64_board.gic_redist) {
		pr_err("arm64: no GICv3 or GICv2 in the DTB: guests cannot be time-sliced\n");
		return -ENODEV;
	}
	if (!find_redist()) {
		pr_err("arm64: no GICv3 redistributor for this CPU\n");
		return -ENODEV;
	}
	mmio_write32(dist + GICD_CTLR, mmio_read32(dist + GICD_CTLR) |
		     GICD_CTLR_ARE | GICD_CTLR_GRP1);
	if (poll_clear(dist + GICD_CTLR, GICD_CTLR_RWP)) {
		pr_err("arm64: GIC distributor does not settle\n");
		return -ENODEV;
	}
	/* Nothing a loader enabled may interrupt guests but the slice timer. */
	lines = (mmio_read32(dist + GICD_TYPER) & GICD_TYPER_LINES) + 1;
	for (unsigned int i = 1; i < lines; i++) {
		mmio_write32(dist + GICD_ICENABLER + 4 * i, ~0U);
	}
	if (redist_init()) {
		return -ENODEV;
	}
	pr_info("arm64: GICv3 redistributor 0x%llx, EL2 timer PPI %u at %llu Hz\n",
		(unsigned long long)find_redist(), INTID_HYP_TIMER,
		(unsigned long long)read_sysreg(cntfrq_el0));
	return 0;
}

int gic_cpu_init(void)
{
	if (arm64_board.gic_version == 2) {
		return gic_v2_cpu_init();
	}
	return redist_init();
}

uint32_t gic_cpu_mask(void)
{
	return arm64_board.gic_version == 2 ? gic_v2_cpu_mask() : 0;
}

void arch_kick_cpu(const struct pcpu *c)
{
	uint64_t mpidr = c->hw_id;
	uint64_t aff0 = mpidr & 0xff;

	if (arm64_board.gic_version == 2) {
		gic_v2_send_sgi(c->gic_mask, INTID_KICK);
		return;
	}
	/* ICC_SGI1R_EL1: Aff3 55:48, Aff2 39:32, Aff1 23:16, RS 47:44,
	 * INTID 27:24, TargetList 15:0 (Aff0 % 16). */
	dsb(ish);	/* what the target is to see is written first */
	write_sysreg(((mpidr >> 32) & 0xff) << 48 |
		     ((mpidr >> 16) & 0xff) << 32 |
		     ((mpidr >> 8) & 0xff) << 16 | (aff0 >> 4) << 44 |
		     (uint64_t)INTID_KICK << 24 | BIT(aff0 & 15),
		     SYS_ICC_SGI1R_EL1);
	isb();
}

void slice_timer_arm(uint64_t cval)
{
	write_sysreg(cval, SYS_CNTHP_CVAL_EL2);
	write_sysreg(CNT_CTL_ENABLE, SYS_CNTHP_CTL_EL2);
	isb();
}

void slice_timer_stop(void)
{
	write_sysreg(0, SYS_CNTHP_CTL_EL2);
	isb();
}

/* An interrupt Strata has no use for: report it and switch it off. */
static void gic_disable(uint64_t intid)
{
	pr_warn("arm64: unexpected physical interrupt %llu; disabled\n",
		(unsigned long long)intid);
	if (intid < 32 && gicr_sgi[this_pcpu()->id]) {
		mmio_write32(gicr_sgi[this_pcpu()->id] + GICR_ICENABLER0,
			     (uint32_t)BIT(intid));
	} else if (intid < 1020) {
		mmio_write32((uintptr_t)arm64_board.gic_dist + GICD_ICENABLER +
			     4 * (intid / 32), (uint32_t)BIT(intid % 32));
	}
}

bool gic_handle_irq(bool fiq)
{
	uint64_t intid;

	if (arm64_board.gic_version == 2) {
		return gic_v2_handle_irq();	/* IRQ and FIQ alike */
	}
	intid = fiq ? read_sysreg(SYS_ICC_IAR0_EL1) :
		      read_sysreg(SYS_ICC_IAR1_EL1);
	intid &= 0xffffff;
	if (intid >= INTID_SPURIOUS && intid < 1024) {
		return false;
	}
	if (intid == INTID_HYP_TIMER) {
		/* The level interrupt must drop before its deactivation. */
		slice_timer_stop();
	} else if (intid == INTID_KICK) {
		this_pcpu()->kicks_taken++;	/* its work: the next entry */
	} else {
		gic_disable(intid);
	}
	if (fiq) {
		write_sysreg(intid, SYS_ICC_EOIR0_EL1);
	} else {
		write_sysreg(intid, SYS_ICC_EOIR1_EL1);
	}
	isb();
	return intid == INTID_HYP_TIMER;
}

/*
 * Idle with interrupts masked: WFI wakes on a pending interrupt whatever
 * PSTATE.I says (Arm ARM, "Wait for Interrupt"); the EL2 timer bounds the
 * wait. What arrived is acknowledged here, the timer stopped.
 */
void arch_cpu_idle(uint64_t until)
{
	slice_timer_arm(until);
	dsb(sy);
	__asm__ volatile("wfi" ::: "memory");
	for (unsigned int i = 0; i < 8; i++) {
		uint64_t intid;

		if (arm64_board.gic_version == 2) {
			if (!gic_v2_ack_one()) {
				break;
			}
			continue;
		}
		intid = read_sysreg(SYS_ICC_HPPIR1_EL1) & 0xffffff;
		if (intid >= INTID_SPURIOUS && intid < 1024) {
			break;
		}
		gic_handle_irq(false);
	}
	slice_timer_stop();
}
