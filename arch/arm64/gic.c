// SPDX-License-Identifier: MIT
/*
 * The least physical GICv3 that time slicing needs: the EL2 physical timer
 * (CNTHP, PPI 26) enabled as a group 1 interrupt in the distributor and
 * this CPU's redistributor, the CPU interface used through its system
 * registers at EL2, acknowledge and end of interrupt; every other interrupt
 * is disabled. HCR_EL2.IMO/FMO send a physical interrupt that arrives while
 * a guest runs to EL2. Guests' own interrupts are virtual (vgic.c).
 * Addresses come from the host DTB (arm64_board). A GICv2 in the DTB is
 * gic_v2.c's.
 */
#include <arch/board.h>
#include <arch/gic_regs.h>
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <arch/vgic_v2.h>
#include <lib/errno.h>
#include <lib/printk.h>

#define INTID_HYP_TIMER		26
#define INTID_SPURIOUS		1020	/* 1020..1023 are special */
#define TIMER_PRIORITY		0xa0
#define GIC_POLL_LIMIT		1000000

static uintptr_t gicr_sgi;	/* this CPU's SGI_base, 0 until set up */

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

int gic_init(void)
{
	uintptr_t dist = (uintptr_t)arm64_board.gic_dist;
	uintptr_t rd, sgi;
	unsigned int lines;

	if (arm64_board.gic_version == 2) {
		return gic_v2_init();
	}
	if (arm64_board.gic_version != 3 || !dist ||
	    !arm64_board.gic_redist) {
		pr_err("arm64: no GICv3 or GICv2 in the DTB: guests cannot be time-sliced\n");
		return -ENODEV;
	}
	rd = find_redist();
	if (!rd) {
		pr_err("arm64: no GICv3 redistributor for this CPU\n");
		return -ENODEV;
	}
	mmio_write32(dist + GICD_CTLR, mmio_read32(dist + GICD_CTLR) |
		     GICD_CTLR_ARE | GICD_CTLR_GRP1);
	if (poll_clear(dist + GICD_CTLR, GICD_CTLR_RWP)) {
		pr_err("arm64: GIC distributor does not settle\n");
		return -ENODEV;
	}
	mmio_write32(rd + GICR_WAKER,
		     mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	if (poll_clear(rd + GICR_WAKER, GICR_WAKER_ASLEEP)) {
		pr_err("arm64: GIC redistributor does not wake up\n");
		return -ENODEV;
	}
	/* Nothing a loader enabled may interrupt guests but the slice timer. */
	lines = (mmio_read32(dist + GICD_TYPER) & GICD_TYPER_LINES) + 1;
	for (unsigned int i = 1; i < lines; i++) {
		mmio_write32(dist + GICD_ICENABLER + 4 * i, ~0U);
	}
	sgi = rd + GICR_SGI_BASE;
	mmio_write32(sgi + GICR_ICENABLER0, ~(uint32_t)BIT(INTID_HYP_TIMER));
	mmio_write32(sgi + GICR_IGROUPR0, mmio_read32(sgi + GICR_IGROUPR0) |
		     BIT(INTID_HYP_TIMER));
	mmio_write8(sgi + GICR_IPRIORITYR + INTID_HYP_TIMER, TIMER_PRIORITY);
	mmio_write32(sgi + GICR_ISENABLER0, BIT(INTID_HYP_TIMER));
	cpu_interface_init();
	slice_timer_stop();
	gicr_sgi = sgi;
	pr_info("arm64: GICv3 redistributor 0x%llx, EL2 timer PPI %u at %llu Hz\n",
		(unsigned long long)rd, INTID_HYP_TIMER,
		(unsigned long long)read_sysreg(cntfrq_el0));
	return 0;
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
	if (intid < 32 && gicr_sgi) {
		mmio_write32(gicr_sgi + GICR_ICENABLER0, (uint32_t)BIT(intid));
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
