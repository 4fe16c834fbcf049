/* SPDX-License-Identifier: MIT */
/*
 * The virtual ITS of a VM's vGICv3 (arch/arm64/vits.c, docs/vgic.md): a
 * GICv3 ITS at GUEST_ITS_BASE that maps (DeviceID, EventID) to LPIs through
 * the commands of its command queue in guest memory, and LPIs delivered by
 * the vGIC's list registers with the priority and enable of the LPI
 * configuration table, also in guest memory.
 *
 * The translation state (devices, their event mappings, collections) lives
 * in Strata, as KVM keeps it at run time: the device table and the ITTs the
 * guest provides are never read nor written, so no guest address but the
 * command queue's and the configuration table's is ever followed, each
 * through vm_gpa_to_host() with its bounds. That bounds the mappings too:
 * VITS_MAX_DEVICES devices and VITS_MAX_ITES events per VM; a MAPD or MAPTI
 * beyond them is a command error (ignored, and said).
 */
#ifndef STRATA_ARCH_ARM64_VITS_H
#define STRATA_ARCH_ARM64_VITS_H

#include <arch/guest_layout.h>
#include <types.h>

#define VITS_LPI_BASE		8192U
#define VITS_ID_BITS		14	/* INTIDs < 16384: 8192 LPIs */
#define VITS_NR_LPIS		((1U << VITS_ID_BITS) - VITS_LPI_BASE)
#define VITS_DEV_BITS		16	/* DeviceIDs < 65536 */
#define VITS_EVENT_BITS		16	/* EventIDs < 65536 */
#define VITS_NR_COLL		16	/* GITS_TYPER.HCC: no collection table */
#define VITS_MAX_DEVICES	32
#define VITS_MAX_ITES		128
/*
 * The DeviceID of GITS_TRANSLATER writes made by a vCPU itself (not by a
 * device): Strata's VMs have no MSI-capable device of their own, so a
 * guest that wants an LPI from a translation maps this DeviceID (the last
 * one GITS_TYPER.Devbits allows) and writes the EventID to TRANSLATER.
 */
#define VITS_CPU_DEVICE_ID	GUEST_ITS_CPU_DEVID
_Static_assert(VITS_CPU_DEVICE_ID == (1U << VITS_DEV_BITS) - 1,
	       "the last DeviceID");

#define VITS_NONE		0xff
#define VITS_MAX_VCPUS		8	/* VM_MAX_CPUS (checked in vits.c) */
#define VITS_RETIRE_DROP	0xfe

/**
 * struct vits_ite - one event's mapping (an ITT entry).
 * @eventid: the EventID of device @dev.
 * @dev: index in struct vits.devs.
 * @lpi: INTID - VITS_LPI_BASE.
 * @icid: the collection.
 * @cfg: the LPI's configuration byte as last read (MAPTI, INV, INVALL):
 *	priority in bits 7:2, enable in bit 0.
 * @pend: the vCPU the LPI is pending on (not yet listed), or VITS_NONE.
 * @valid: the entry is in use.
 * @retire: per vCPU, what that vCPU does with the LPI if it finds it pending
 *	in its list registers at its next scan (vgic.c, "Requests to a vCPU on
 *	another CPU"): 0 keep, VITS_RETIRE_DROP, or 1 + the vCPU to move the
 *	pending state to (MOVI, MOVALL).
 */
struct vits_ite {
	uint32_t eventid;
	uint8_t dev;
	uint16_t lpi;
	uint16_t icid;
	uint8_t cfg;
	uint8_t pend;
	bool valid;
	uint8_t retire[VITS_MAX_VCPUS];
};

/**
 * struct vits_dev - one mapped device (MAPD).
 * @devid: its DeviceID.
 * @bits: EventIDs it may use (MAPD Size + 1).
 * @valid: the entry is in use.
 */
struct vits_dev {
	uint32_t devid;
	uint8_t bits;
	bool valid;
};

/**
 * struct vits - a VM's ITS and LPI state (per VM; docs/vgic.md).
 * @ctlr_enabled: GITS_CTLR.Enabled.
 * @cbaser: GITS_CBASER.
 * @cwriter: GITS_CWRITER's offset.
 * @creadr: GITS_CREADR's offset.
 * @baser0: GITS_BASER0 (the device table, never used: see above).
 * @propbaser: GICR_PROPBASER, one for all redistributors
 *	(GICR_TYPER.CommonLPIAff 0).
 * @coll: the vCPU each collection targets, VITS_NONE when unmapped.
 * @devs: the mapped devices.
 * @ites: the event mappings.
 * @errors: command and translation errors so far (the first few are said).
 */
struct vits {
	bool ctlr_enabled;
	uint64_t cbaser;
	uint32_t cwriter;
	uint32_t creadr;
	uint64_t baser0;
	uint64_t propbaser;
	uint8_t coll[VITS_NR_COLL];
	struct vits_dev devs[VITS_MAX_DEVICES];
	struct vits_ite ites[VITS_MAX_ITES];
	uint32_t errors;
};

struct vm;
struct vcpu;

int vits_init(struct vm *vm);
/*
 * Go on with the command queue that @v's last ITS access left unfinished
 * (vgic_cpu.its_work): run_queue() does a bounded part per trap.
 */
void vits_work(struct vcpu *v);
/* The LPI @intid, listed in @v's list registers, is no longer pending. */
void vits_listed(struct vcpu *v, uint32_t intid);
/*
 * Whether LPI @intid, listed on @v, may still be signalled by its
 * configuration (mapped, enabled), and its priority byte in @prio.
 */
bool vits_lpi_due(struct vcpu *v, uint32_t intid, uint8_t *prio);
/* The LPI @intid was taken back from @v's list registers: pending again. */
void vits_unlisted(struct vcpu *v, uint32_t intid);
/*
 * Remote list registers (vgic.c): @t runs on another CPU, so whether it
 * holds LPI @intid pending in a list register is only known to it. Record
 * that, if it does, the pending state goes (@dest VITS_NONE: CLEAR,
 * DISCARD) or moves to vCPU @dest (MOVI, MOVALL); a drop recorded before or
 * after a move wins, of two moves the later.
 */
void vits_retire_mark(struct vcpu *t, uint32_t intid, unsigned int dest);
/*
 * @v found LPI @intid pending in its list register @lr during its scan:
 * true when it must take the pending state out (then, for a move, the LPI
 * is pending at the destination, which is kicked).
 */
bool vits_retire_listed(struct vcpu *v, uint32_t intid);
/* @v's scan is over: what was recorded for it is done. */
void vits_retire_done(struct vcpu *v);

#endif
