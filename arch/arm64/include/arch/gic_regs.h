/* SPDX-License-Identifier: MIT */
/*
 * GICv3 distributor and redistributor register layout (Arm IHI 0069), used
 * by the physical GIC set-up (gic.c) and the emulated one (vgic.c).
 */
#ifndef STRATA_ARCH_ARM64_GIC_REGS_H
#define STRATA_ARCH_ARM64_GIC_REGS_H

#include <types.h>

#define GICD_CTLR		0x0000
#define GICD_CTLR_EN_MASK	0x3	/* EnableGrp0, EnableGrp1 */
#define GICD_CTLR_GRP1		BIT(1)
#define GICD_CTLR_ARE		BIT(4)
#define GICD_CTLR_DS		BIT(6)
#define GICD_CTLR_RWP		BIT(31)
#define GICD_TYPER		0x0004
#define GICD_TYPER_LINES	0x1f
#define GICD_IIDR		0x0008
#define GICD_IGROUPR		0x0080
#define GICD_ISENABLER		0x0100
#define GICD_ICENABLER		0x0180
#define GICD_ISPENDR		0x0200
#define GICD_ICPENDR		0x0280
#define GICD_ISACTIVER		0x0300
#define GICD_ICACTIVER		0x0380
#define GICD_IPRIORITYR		0x0400
#define GICD_ICFGR		0x0c00
#define GICD_IROUTER		0x6000
#define GICx_PIDR2		0xffe8
#define GIC_PIDR2_V3		0x3b	/* ArchRev 3 */
#define GIC_IIDR_ARM		0x43b	/* GICx_IIDR: implementer Arm */

#define GICR_FRAME_SIZE		0x20000	/* RD_base + SGI_base */
#define GICR_VLPI_FRAMES	0x20000	/* two more with GICR_TYPER.VLPIS */
#define GICR_CTLR		0x0000
#define GICR_CTLR_ENABLE_LPIS	BIT(0)
#define GICR_IIDR		0x0004
#define GICR_TYPER		0x0008
#define GICR_TYPER_PLPIS	BIT(0)
#define GICR_TYPER_VLPIS	BIT(1)
#define GICR_TYPER_LAST		BIT(4)
#define GICR_WAKER		0x0014
#define GICR_WAKER_SLEEP	BIT(1)
#define GICR_WAKER_ASLEEP	BIT(2)
#define GICR_PROPBASER		0x0070
#define GICR_PENDBASER		0x0078
/* Their fields (IHI 0069 12.11.x): PA, caches, shareability, IDbits. */
#define GICR_PROPBASER_MASK	0x070fffffffffff9fULL
#define GICR_PENDBASER_MASK	0x070fffffffff0f80ULL
#define GICR_SGI_BASE		0x10000
#define GICR_IGROUPR0		0x0080
#define GICR_ISENABLER0		0x0100
#define GICR_ICENABLER0		0x0180
#define GICR_ISPENDR0		0x0200
#define GICR_ICPENDR0		0x0280
#define GICR_ISACTIVER0		0x0300
#define GICR_ICACTIVER0		0x0380
#define GICR_IPRIORITYR		0x0400
#define GICR_ICFGR0		0x0c00
#define GICR_ICFGR1		0x0c04

#endif
