/* SPDX-License-Identifier: MIT */
/*
 * The virtual GICv2 a VM gets on a GICv2 host (arch/arm64/vgic_v2.c; the
 * model, its choices and what differs from a GIC-400 are in docs/gicv2.md).
 *
 * The distributor is emulated MMIO at GUEST_GICD_BASE. The guest's CPU
 * interface at GUEST_GICC_BASE is trapped and each 32-bit access is made
 * on the guest's behalf to this CPU's GICV frame, the virtual CPU interface
 * of the GIC virtualization extensions, whose list registers (GICH_LR<n>)
 * Strata fills before each entry: acknowledge, priority masking, running
 * priority, end of interrupt and deactivation are the hardware's.
 *
 * What is there: SGIs from GICD_SGIR with the three target-list filters,
 * one pending bit per requesting vCPU (GICD_[SC]PENDSGIR, the CPUID of
 * GICC_IAR); PPIs with the virtual timer (27) and the emulated EL1
 * physical timer (30) as level interrupts; 32 SPIs (32-63) with ITARGETSR
 * routing that software pends through GICD_ISPENDR; group, enable,
 * pending, active, priority and configuration registers; up to 8 vCPUs.
 * No security extensions (both groups are the guest's).
 */
#ifndef STRATA_ARCH_ARM64_VGIC_V2_H
#define STRATA_ARCH_ARM64_VGIC_V2_H

#include <types.h>

struct vm;
struct vcpu;

#define VGIC_V2_NR_LRS		4	/* list registers used at most */
#define VGIC_V2_MAX_CPUS	8	/* GICv2 CPU interfaces */
#define VGIC_V2_NR_SPIS		32

/**
 * struct vgic_v2_cpu - one vCPU's banked distributor state and its virtual
 * CPU interface while it is off the CPU.
 * @sgi_src: per SGI, the vCPUs (bit n: vCPU n) whose request is pending and
 *	not yet in a list register.
 * @ppi_pending: PPIs pended by GICD_ISPENDR0 (bits 16-31), not yet listed.
 * @group: IGROUPR0 (1 = group 1).
 * @enabled: ISENABLER0.
 * @icfgr1: ICFGR1 (PPI trigger modes; SGIs are edge).
 * @prio: IPRIORITYR bytes of INTIDs 0-31.
 * @timers_listed: timer INTIDs put in a list register since their line was
 *	last seen low.
 * @lr: GICH_LR<n>.
 * @apr: GICH_APR (active priorities).
 * @vmcr: GICH_VMCR (the guest's GICC_CTLR, PMR, BPR, ABPR).
 * @lr_req: SPIs 32-63 (bit n: INTID 32 + n) whose list register state
 *	other vCPUs changed (GICD_ICPENDR1, ISACTIVER1, ICACTIVER1) while
 *	this vCPU was on another CPU with its list registers live; it applies
 *	@lr_req_fn[n] itself, before it next uses them (vgic_v2_sync()).
 * @lr_req_fn: per SPI, the composition of those changes as a map of the
 *	LR state (bit 0 pending, bit 1 active): 2 bits per input state.
 */
struct vgic_v2_cpu {
	uint8_t sgi_src[16];
	uint32_t ppi_pending;
	uint32_t group;
	uint32_t enabled;
	uint32_t icfgr1;
	uint8_t prio[32];
	uint32_t timers_listed;
	uint32_t lr[VGIC_V2_NR_LRS];
	uint32_t apr;
	uint32_t vmcr;
	uint32_t lr_req;
	uint8_t lr_req_fn[32];
};

/**
 * struct vgic_v2_dist - a VM's GICv2 distributor.
 * @on: the VM has a vGICv2 (not a vGICv3).
 * @ctlr: GICD_CTLR (EnableGrp0, EnableGrp1).
 * @group: IGROUPR1 (SPIs 32-63).
 * @enabled: ISENABLER1.
 * @pending: ISPENDR1, SPIs pending and not yet in a list register.
 * @icfgr: ICFGR2 and ICFGR3.
 * @prio: IPRIORITYR bytes of SPIs 32-63.
 * @targets: ITARGETSR bytes of SPIs 32-63.
 */
struct vgic_v2_dist {
	bool on;
	uint32_t ctlr;
	uint32_t group;
	uint32_t enabled;
	uint32_t pending;
	uint32_t icfgr[2];
	uint8_t prio[VGIC_V2_NR_SPIS];
	uint8_t targets[VGIC_V2_NR_SPIS];
};

/* The vGICv2 counterparts of the vgic_* calls of arch/guest.h. */
int vgic_v2_init(struct vm *vm);
void vgic_v2_vcpu_init(struct vcpu *v);
void vgic_v2_load(struct vcpu *v);
void vgic_v2_put(struct vcpu *v);
void vgic_v2_flush(struct vcpu *v);
uint64_t vgic_v2_vtimer_deadline(struct vcpu *v);
/* A vCPU reset (PSCI CPU_ON): its list registers and APR start empty. */
void vgic_v2_vcpu_reset(struct vgic_v2_cpu *c);
/*
 * Apply what other vCPUs asked of @v's list registers (@lr_req), to the
 * live ones when @v is loaded on this CPU; under the VM lock.
 */
void vgic_v2_sync(struct vcpu *v);
/* vgic_wakeup_pending() of a vGICv2 (arch/guest.h). */
bool vgic_v2_wakeup_pending(struct vcpu *v);
/* The maintenance interrupt fired (gic_v2.c): stop asking for it. */
void vgic_v2_maintenance(void);

/* The physical GICv2 (arch/arm64/gic_v2.c). */
int gic_v2_init(void);
bool gic_v2_handle_irq(void);
/* A secondary CPU's banked distributor and CPU interface registers. */
int gic_v2_cpu_init(void);
/* This CPU's GICD_ITARGETSR bit; GICD_SGIR to @mask with SGI @intid. */
uint32_t gic_v2_cpu_mask(void);
void gic_v2_send_sgi(uint32_t mask, unsigned int intid);
/* Acknowledge one pending interrupt as gic_v2_handle_irq(); false: none. */
bool gic_v2_ack_one(void);

#endif
