/* SPDX-License-Identifier: MIT */
/*
 * GICv2 register layout (Arm IHI 0048B): the distributor and CPU interface
 * of the physical GIC (gic_v2.c) and of the emulated one (vgic_v2.c), and
 * the virtualization extensions' hypervisor control interface (GICH) and
 * virtual CPU interface (GICV, laid out as GICC). Distributor offsets that
 * GICv3 shares (CTLR, TYPER, IGROUPR, I[SC]ENABLER, I[SC]PENDR, IPRIORITYR,
 * ICFGR) are in gic_regs.h.
 */
#ifndef STRATA_ARCH_ARM64_GIC_V2_REGS_H
#define STRATA_ARCH_ARM64_GIC_V2_REGS_H

#include <types.h>

#define GICD_ISACTIVER		0x0300
#define GICD_ICACTIVER		0x0380
#define GICD_ITARGETSR		0x0800
#define GICD_SGIR		0x0f00
#define GICD_SGIR_FILTER_SHIFT	24
#define GICD_SGIR_TARGETS_SHIFT	16
#define GICD_CPENDSGIR		0x0f10
#define GICD_SPENDSGIR		0x0f20
#define GIC_PIDR2_V2		0x2b	/* ArchRev 2 */
#define GICD_V2_SIZE		0x1000

#define GICC_CTLR		0x0000
#define GICC_CTLR_EN_MASK	0x3	/* EnableGrp0, EnableGrp1 */
#define GICC_PMR		0x0004
#define GICC_BPR		0x0008
#define GICC_IAR		0x000c
#define GICC_EOIR		0x0010
#define GICC_HPPIR		0x0018
#define GICC_IAR_ID_MASK	0x3ff
#define GICC_DIR		0x1000
#define GICC_SIZE		0x2000	/* the architected frame, DIR included */

#define GICH_HCR		0x0000
#define GICH_HCR_EN		BIT(0)
#define GICH_HCR_UIE		BIT(1)	/* underflow: at most one valid LR */
#define GICH_VTR		0x0004
#define GICH_VTR_LISTREGS	0x3f
#define GICH_VMCR		0x0008
#define GICH_MISR		0x0010
#define GICH_ELRSR0		0x0030
#define GICH_APR		0x00f0
#define GICH_LR0		0x0100

/* GICH_LR<n>. */
#define GICH_LR_HW		BIT(31)
#define GICH_LR_GROUP1		BIT(30)
#define GICH_LR_STATE_SHIFT	28
#define GICH_LR_PENDING		(1U << 28)
#define GICH_LR_ACTIVE		(2U << 28)
#define GICH_LR_STATE_MASK	(3U << 28)
#define GICH_LR_PRIO_SHIFT	23	/* the priority's top five bits */
#define GICH_LR_CPUID_SHIFT	10	/* SGIs: the requesting CPU */
#define GICH_LR_CPUID_MASK	(7U << 10)
#define GICH_LR_VIRTID_MASK	0x3ffU

#endif
