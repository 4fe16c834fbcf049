// SPDX-License-Identifier: MIT
/*
 * The physical GICv2 (GIC-400 class, Arm IHI 0048B) as time slicing and the
 * vGICv2 need it: the EL2 physical timer (CNTHP, PPI 26) and the
 * virtualization extensions' maintenance interrupt enabled in the
 * distributor, every other interrupt disabled, the memory-mapped CPU
 * interface acknowledging and ending them. Interrupts are left in the
 * group firmware put them in (group 0 on a GIC without security
 * extensions, group 1 when a secure firmware owns group 0) and both groups
 * are enabled, so the CPU interface signals them as IRQs either way.
 * Addresses come from the host DTB (arm64_board); gic.c hands over here
 * when the DTB describes a GICv2.
 *
 * Physical CPUs kick each other with SGI INTID_KICK through GICD_SGIR
 * (docs/smp.md); each CPU enables it, the timer and the maintenance PPI in
 * its banked GICD_ISENABLER0 and sets up its banked CPU interface
 * (gic_v2_cpu_init()).
 */
#include <arch/board.h>
#include <arch/gic_regs.h>
#include <arch/gic_v2_regs.h>
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <arch/vgic_v2.h>
#include <core/percpu.h>
#include <lib/errno.h>
#include <lib/printk.h>

#define INTID_HYP_TIMER		26
#define INTID_SPURIOUS		1020	/* 1020..1023 are special */
#define TIMER_PRIORITY		0xa0
#define MAINT_PRIORITY		0xa0

static inline uint32_t mmio_read32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static inline void mmio_write8(uintptr_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

static uintptr_t gicd(void)
{
	return (uintptr_t)arm64_board.gic_dist;
}

static uintptr_t gicc(void)
{
	return (uintptr_t)arm64_board.gic_cpu;
}

static void enable_ppi(unsigned int intid, uint8_t prio)
{
	mmio_write8(gicd() + GICD_IPRIORITYR + intid, prio);
	mmio_write32(gicd() + GICD_ISENABLER, BIT(intid));
}

int gic_v2_init(void)
{
	unsigned int lines, maint = arm64_board.gic_maint_intid;

	if (!gicd() || !gicc()) {
		pr_err("arm64: no GICv2 distributor or CPU interface in the DTB\n");
		return -ENODEV;
	}
	if (!arm64_board.gic_hyp || !arm64_board.gic_vcpu) {
		pr_err("arm64: the GICv2 has no virtualization extensions (no GICH/GICV in the DTB): guests cannot get a GIC\n");
		return -ENODEV;
	}
	if (maint < 16 || maint >= 32) {
		pr_err("arm64: no GICv2 maintenance PPI in the DTB (interrupts of the GIC node)\n");
		return -ENODEV;
	}
	/* Nothing a loader enabled may interrupt guests. */
	lines = (mmio_read32(gicd() + GICD_TYPER) & GICD_TYPER_LINES) + 1;
	for (unsigned int i = 0; i < lines; i++) {
		mmio_write32(gicd() + GICD_ICENABLER + 4 * i, ~0U);
	}
	mmio_write32(gicd() + GICD_CTLR, 3);	/* both groups (or Grp1 NS) */
	gic_v2_cpu_init();
	pr_info("arm64: GICv2 CPU interface 0x%llx, hypervisor interface 0x%llx, virtual CPU interface 0x%llx, maintenance PPI %u, EL2 timer PPI %u at %llu Hz\n",
		(unsigned long long)arm64_board.gic_cpu,
		(unsigned long long)arm64_board.gic_hyp,
		(unsigned long long)arm64_board.gic_vcpu, maint,
		INTID_HYP_TIMER,
		(unsigned long long)read_sysreg(cntfrq_el0));
	return 0;
}

int gic_v2_cpu_init(void)
{
	/* Banked per CPU: GICD_I*ENABLER0, IPRIORITYR0-7, GICC_*, GICH_*. */
	mmio_write32(gicd() + GICD_ICENABLER, ~0U);
	mmio_write32((uintptr_t)arm64_board.gic_hyp + GICH_HCR, 0);
	enable_ppi(INTID_HYP_TIMER, TIMER_PRIORITY);
	enable_ppi(arm64_board.gic_maint_intid, MAINT_PRIORITY);
	enable_ppi(INTID_KICK, TIMER_PRIORITY);
	mmio_write32(gicc() + GICC_PMR, 0xff);
	mmio_write32(gicc() + GICC_BPR, 0);
	/* EOImode 0 (EOI also deactivates), FIQEn 0: all signalled as IRQ. */
	mmio_write32(gicc() + GICC_CTLR, GICC_CTLR_EN_MASK);
	slice_timer_stop();
	this_pcpu()->gic_mask = gic_v2_cpu_mask();
	return 0;
}

/* GICD_ITARGETSR0-7 read as this CPU's own bit (GIC v2 spec 4.3.12). */
uint32_t gic_v2_cpu_mask(void)
{
	return mmio_read32(gicd() + GICD_ITARGETSR) & 0xff;
}

void gic_v2_send_sgi(uint32_t mask, unsigned int intid)
{
	dsb(ish);
	/* TargetListFilter 0: the CPUs in the list. */
	mmio_write32(gicd() + GICD_SGIR,
		     (mask & 0xff) << GICD_SGIR_TARGETS_SHIFT | (intid & 0xf));
}

bool gic_v2_ack_one(void)
{
	if ((mmio_read32(gicc() + GICC_HPPIR) & GICC_IAR_ID_MASK) >=
	    INTID_SPURIOUS) {
		return false;
	}
	gic_v2_handle_irq();
	return true;
}

/* An interrupt Strata has no use for: report it and switch it off. */
static void gic_v2_disable(unsigned int intid)
{
	pr_warn("arm64: unexpected physical interrupt %u; disabled\n", intid);
	mmio_write32(gicd() + GICD_ICENABLER + 4 * (intid / 32),
		     (uint32_t)BIT(intid % 32));
}

bool gic_v2_handle_irq(void)
{
	uint32_t iar = mmio_read32(gicc() + GICC_IAR);
	unsigned int intid = iar & GICC_IAR_ID_MASK;

	if (intid >= INTID_SPURIOUS) {
		return false;
	}
	if (intid == INTID_HYP_TIMER) {
		/* The level interrupt must drop before its deactivation. */
		slice_timer_stop();
	} else if (intid == arm64_board.gic_maint_intid) {
		vgic_v2_maintenance();	/* likewise: the condition goes */
	} else if (intid == INTID_KICK) {
		this_pcpu()->kicks_taken++;	/* its work: the next entry */
	} else {
		gic_v2_disable(intid);
	}
	mmio_write32(gicc() + GICC_EOIR, iar);
	return intid == INTID_HYP_TIMER;
}
