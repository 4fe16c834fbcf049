/* SPDX-License-Identifier: MIT */
/*
 * A small virtual GICv3 per VM (arch/arm64/vgic.c): the distributor and
 * redistributors are emulated MMIO at the addresses of the guest DTB
 * (arch/guest_layout.h), and interrupts reach the guest through the CPU's
 * virtual CPU interface (ICH_LR<n>_EL2), which the guest drives with its
 * own ICC_* registers without exits.
 *
 * What is there (the full statement, and what is per vCPU or per VM:
 * docs/vgic.md): SGIs (ICC_SGI1R_EL1 / ICC_SGI0R_EL1 / ICC_ASGI1R_EL1
 * writes, trapped and emulated, with every targeting mode and the group
 * rules of one security state) and PPIs per vCPU, the virtual timer as
 * PPI 27 (level: pending while CNTV_CTL_EL0 says ENABLE, not IMASK,
 * ISTATUS) and the emulated EL1 physical timer as PPI 30 (likewise; both
 * levels show in GICR_ISPENDR0), redistributors that start awake (a
 * sleeping one keeps its interrupts pending), 32 SPIs (INTIDs 32-63) with
 * group, enable, pending, active, priority, configuration and routing
 * registers, driven by devices through vgic_set_spi_level() (the emulated
 * PL011), affinity routing only (GICD_CTLR.ARE reads as one), LPIs from
 * the ITS of arch/vits.h. Pending interrupts are listed highest priority
 * first. Active state lives in the list registers only.
 *
 * A level-sensitive SPI is pending while its line is high and it is not
 * in a list register; a pending-only list register whose line drops is
 * taken back before the next entry. After the guest deactivates one whose
 * line is still high, it is listed again at the vCPU's next exit (at the
 * latest when its slice ends), where hardware would signal it again at
 * once: KVM resamples with the EOI maintenance interrupt, which Strata does
 * not take at EL2. Drivers that empty their device in the handler (Linux's
 * pl011) never see the difference.
 */
#ifndef STRATA_ARCH_ARM64_VGIC_H
#define STRATA_ARCH_ARM64_VGIC_H

#include <arch/vgic_v2.h>
#include <arch/vits.h>
#include <types.h>

#define VGIC_NR_LRS		4	/* list registers Strata uses at most */
#define VGIC_NR_SPIS		32
#define VGIC_INTID_VTIMER	27
#define VGIC_INTID_PTIMER	30	/* EL1 physical timer (ptimer.c) */
#define VGIC_GICR_FRAME		0x20000	/* RD_base + SGI_base per vCPU */

/**
 * struct vgic_cpu - one vCPU's redistributor and virtual CPU interface.
 * @group: IGROUPR0 (1 = group 1).
 * @enabled: ISENABLER0.
 * @pending: SGIs and PPIs pending and not yet in a list register.
 * @icfgr1: ICFGR1 (PPI trigger modes; SGIs are edge).
 * @prio: IPRIORITYR bytes of INTIDs 0-31.
 * @sleep: GICR_WAKER.ProcessorSleep.
 * @timers_listed: timer INTIDs put in a list register since their line was
 *	last seen low (only those LRs are looked at when it drops).
 * @lr: ICH_LR<n>_EL2 while the vCPU is not on the CPU.
 * @ap0r0: ICH_AP0R0_EL2.
 * @ap1r0: ICH_AP1R0_EL2.
 * @lpis: LPIs pending on this vCPU and not listed (struct vits_ite.pend).
 * @lpis_parked: none of @lpis can be listed (disabled, LPIs or Group 1
 *	off, asleep) until something changes: entries do not look.
 * @lpi_enabled: GICR_CTLR.EnableLPIs.
 * @pendbaser: GICR_PENDBASER (the pending table is not used: docs/vgic.md).
 * @prune: a register write may have made a listed interrupt undeliverable
 *	here or changed its priority or group: the next flush looks at the
 *	pending-only list registers (vgic_mark_prune()).
 * @its_work: commands this vCPU queued are left to run (vits_work()).
 * @req: changes other vCPUs asked of this vCPU's list registers while it
 *	ran on its CPU (vgic.c, "Requests to a vCPU on another CPU"); it
 *	applies them after its next exit (vgic_after_exit()). @req.any says
 *	there are some; @req.mask holds INTIDs 0-63 with a change, composed
 *	per INTID in @req.fn (a map of the LR state, pending = 1, active = 2,
 *	old to new, two bits per old state), @req.g1 / @req.prio the group
 *	and priority for one made active from nothing; @req.lpis: LPIs are
 *	to be looked at (struct vits_ite.retire).
 * @v2: the vCPU's side of a vGICv2 instead (arch/vgic_v2.h).
 */
struct vgic_cpu {
	uint32_t group;
	uint32_t enabled;
	uint32_t pending;
	uint32_t icfgr1;
	uint8_t prio[32];
	bool sleep;
	uint32_t timers_listed;
	uint64_t lr[VGIC_NR_LRS];
	uint64_t ap0r0;
	uint64_t ap1r0;
	uint32_t lpis;
	bool lpis_parked;
	bool lpi_enabled;
	uint64_t pendbaser;
	bool prune;
	bool its_work;
	struct {
		bool any;
		bool lpis;
		uint64_t mask;
		uint64_t g1;
		uint8_t fn[64];
		uint8_t prio[64];
	} req;
	struct vgic_v2_cpu v2;
};

/**
 * struct vgic_dist - a VM's distributor.
 * @ctlr: GICD_CTLR enable bits (EnableGrp0, EnableGrp1).
 * @group: IGROUPR1 (SPIs 32-63).
 * @enabled: ISENABLER1.
 * @pending: ISPENDR1.
 * @icfgr: ICFGR2 and ICFGR3.
 * @prio: IPRIORITYR bytes of SPIs 32-63.
 * @irouter: GICD_IROUTER<n> of SPIs 32-63.
 * @v2: the VM's vGICv2 distributor instead, on a GICv2 host (@v2.on).
 * @level: the SPIs' input lines (vgic_set_spi_level()).
 * @soft_listed: SPIs listed from @pending (software or edge), not only from
 *	their level: a dropping line must not take those back.
 * @dropped: level SPIs whose line fell since their target's last flush,
 *	which takes back a list register that still holds one pending.
 * @its: the ITS and the LPIs (arch/vits.h).
 */
struct vgic_dist {
	uint32_t ctlr;
	uint32_t group;
	uint32_t enabled;
	uint32_t pending;
	uint32_t icfgr[2];
	uint8_t prio[VGIC_NR_SPIS];
	uint64_t irouter[VGIC_NR_SPIS];
	struct vgic_v2_dist v2;
	uint32_t level;
	uint32_t soft_listed;
	uint32_t dropped;
	struct vits its;
};

struct vm;
struct vcpu;
/*
 * Take the pending state of LPI @intid out of @t's list registers (@self:
 * the vCPU on this CPU); true when one held it pending, and the caller
 * moves or drops that state. When @t runs on another CPU its list
 * registers are its own: the change is left to it (@dest: VITS_NONE to
 * drop the state, else the vCPU it moves to, which @t pends it on), it is
 * kicked, and the answer is false.
 */
bool vgic_lr_unpend(const struct vcpu *self, struct vcpu *t, uint32_t intid,
		    unsigned int dest);
/*
 * Have every vCPU of @vm look at its pending-only list registers at its
 * next flush: a change (here, an LPI's configuration by INV or INVALL) may
 * have made one undeliverable or changed its priority.
 */
void vgic_mark_prune(struct vm *vm);
/*
 * Emulate the trapped Group 1 CPU interface register access of @v's ESR
 * (trapped while LPIs are listed, vgic.c); false when it is not one.
 */
bool vgic_emulate_g1_reg(struct vcpu *v);

#endif
