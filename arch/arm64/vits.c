// SPDX-License-Identifier: MIT
/*
 * The virtual ITS (what it offers and keeps: arch/vits.h, docs/vgic.md):
 * the GITS_* registers, the command queue and GITS_TRANSLATER of a VM on a
 * GICv3 host. Everything the guest hands over is hostile input: command
 * fields are range-checked against what GITS_TYPER advertises and what
 * Strata holds, the queue and the LPI configuration table are read only
 * through vm_gpa_to_host() with their sizes, and a command that fails a
 * check is a command error: ignored (the queue moves on, IHI 0069 allows
 * "ignore" as the ITS's response), counted and said for the first few.
 */
#include <stdarg.h>
#include <arch/gic_regs.h>
#include <arch/guest.h>
#include <arch/vgic.h>
#include <arch/vits.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define GITS_CTLR		0x0000
#define GITS_CTLR_ENABLED	BIT(0)
#define GITS_CTLR_QUIESCENT	BIT(31)
#define GITS_IIDR		0x0004
#define GITS_TYPER		0x0008
#define GITS_CBASER		0x0080
#define GITS_CWRITER		0x0088
#define GITS_CREADR		0x0090
#define GITS_BASER		0x0100	/* 8 of them, 8 bytes each */
#define GITS_PIDR2		0xffe8
#define GITS_TRANSLATER		0x10040

#define CBASER_VALID		BIT(63)
/* Valid, InnerCache, OuterCache, PA 51:12, Shareability, Size. */
#define CBASER_MASK		0xb8effffffffffcffULL
#define CMD_OFFSET_MASK		0xfffe0U	/* CWRITER/CREADR 19:5 */

#define BASER_TYPE_DEVICE	1ULL
#define BASER_ENTRY_SIZE	8
/* Valid, InnerCache, OuterCache, PA 47:12, Shareability, Page_Size, Size
 * (Indirect RAZ/WI: flat tables only). */
#define BASER_RW_MASK		0xb8e0ffffffffffffULL

#define ITS_SAY_ERRORS		8	/* per VM */
#define ITS_BUDGET		64	/* commands per trap (run_queue()) */
#define ITS_INVALL_COST		8

enum {
	CMD_MOVI = 0x01, CMD_INT = 0x03, CMD_CLEAR = 0x04, CMD_SYNC = 0x05,
	CMD_MAPD = 0x08, CMD_MAPC = 0x09, CMD_MAPTI = 0x0a, CMD_MAPI = 0x0b,
	CMD_INV = 0x0c, CMD_INVALL = 0x0d, CMD_MOVALL = 0x0e,
	CMD_DISCARD = 0x0f,
};

static struct vits *its_of(struct vm *vm)
{
	return &vm->arch.vgic.its;
}

static void __attribute__((format(printf, 3, 4)))
its_error(struct vm *vm, unsigned int cmd, const char *fmt, ...)
{
	struct vits *its = its_of(vm);
	char why[96];
	va_list ap;

	if (its->errors++ >= ITS_SAY_ERRORS) {
		return;
	}
	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_warn("vm %s: its: %s 0x%02x ignored: %s%s\n", vm->name,
		cmd < 0x100 ? "command" : "translation", cmd & 0xff, why,
		its->errors == ITS_SAY_ERRORS ? " (no more are said)" : "");
}

/* ---- LPI state ------------------------------------------------------- */

/* Make @e pending on vCPU @cpu (moving it from another vCPU). */
static void ite_pend(struct vm *vm, struct vits_ite *e, unsigned int cpu)
{
	if (e->pend == cpu) {
		return;
	}
	if (e->pend != VITS_NONE) {
		vm->vcpus[e->pend].arch.vgic.lpis--;
	}
	e->pend = (uint8_t)cpu;
	vm->vcpus[cpu].arch.vgic.lpis++;
	vm->vcpus[cpu].arch.vgic.lpis_parked = false;	/* look again */
}

static void ite_unpend(struct vm *vm, struct vits_ite *e)
{
	if (e->pend != VITS_NONE) {
		vm->vcpus[e->pend].arch.vgic.lpis--;
		e->pend = VITS_NONE;
	}
}

static struct vits_ite *ite_of_lpi(struct vm *vm, uint32_t intid)
{
	struct vits *its = its_of(vm);

	for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
		struct vits_ite *e = &its->ites[i];

		if (e->valid && VITS_LPI_BASE + e->lpi == intid) {
			return e;
		}
	}
	return NULL;
}

void vits_listed(struct vcpu *v, uint32_t intid)
{
	struct vits_ite *e = ite_of_lpi(v->vm, intid);

	if (e && e->pend == v->id) {
		ite_unpend(v->vm, e);
	}
}

void vits_unlisted(struct vcpu *v, uint32_t intid)
{
	struct vits_ite *e = ite_of_lpi(v->vm, intid);

	if (e) {
		ite_pend(v->vm, e, v->id);
	}
}

_Static_assert(VITS_MAX_VCPUS == VM_MAX_CPUS, "retire[] per vCPU");

void vits_retire_mark(struct vcpu *t, uint32_t intid, unsigned int dest)
{
	struct vits_ite *e = ite_of_lpi(t->vm, intid);
	uint8_t *r;

	if (!e) {
		return;		/* unmapped: the scan drops it anyway */
	}
	r = &e->retire[t->id];
	if (dest == VITS_NONE || *r == VITS_RETIRE_DROP) {
		*r = VITS_RETIRE_DROP;
	} else {
		*r = (uint8_t)(dest + 1);
	}
}

bool vits_retire_listed(struct vcpu *v, uint32_t intid)
{
	struct vits_ite *e = ite_of_lpi(v->vm, intid);
	unsigned int fate, dest;

	if (!e) {
		return true;	/* discarded while listed here */
	}
	fate = e->retire[v->id];
	if (!fate) {
		return false;
	}
	if (fate != VITS_RETIRE_DROP) {
		dest = fate - 1;
		ite_pend(v->vm, e, dest);
		if (dest != v->id) {
			vcpu_kick(&v->vm->vcpus[dest]);
		}
	}
	return true;
}

void vits_retire_done(struct vcpu *v)
{
	struct vits *its = its_of(v->vm);

	for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
		its->ites[i].retire[v->id] = 0;
	}
}

bool vits_lpi_due(struct vcpu *v, uint32_t intid, uint8_t *prio)
{
	const struct vits_ite *e = ite_of_lpi(v->vm, intid);

	if (!e || !(e->cfg & 1)) {
		return false;
	}
	*prio = e->cfg & 0xfc;
	return true;
}

/*
 * The configuration byte of LPI @intid from the table GICR_PROPBASER names:
 * 0 (disabled) when the table is too small for it or not in RAM.
 */
static uint8_t lpi_config(struct vm *vm, uint32_t intid)
{
	uint64_t pb = its_of(vm)->propbaser;
	unsigned int bits = (unsigned int)(pb & 0x1f) + 1;
	gpa_t gpa = (pb & GENMASK(51, 12)) + (intid - VITS_LPI_BASE);
	const volatile uint8_t *p;

	if (bits < 14 || intid >= (1ULL << MIN(bits, 32U))) {
		return 0;
	}
	p = vm_gpa_to_host(vm, gpa, 1);
	if (!p) {
		its_error(vm, CMD_INV, "LPI %u's configuration at 0x%llx is "
			  "not in RAM", intid, (unsigned long long)gpa);
		return 0;
	}
	return *p;
}

/* ---- commands -------------------------------------------------------- */

static struct vits_dev *dev_find(struct vits *its, uint32_t devid)
{
	for (unsigned int i = 0; i < VITS_MAX_DEVICES; i++) {
		if (its->devs[i].valid && its->devs[i].devid == devid) {
			return &its->devs[i];
		}
	}
	return NULL;
}

static struct vits_ite *ite_find(struct vits *its, const struct vits_dev *d,
				 uint32_t eventid)
{
	unsigned int dev = (unsigned int)(d - its->devs);

	for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
		struct vits_ite *e = &its->ites[i];

		if (e->valid && e->dev == dev && e->eventid == eventid) {
			return e;
		}
	}
	return NULL;
}

/* Drop an event mapping: its LPI is pending nowhere any more. */
static void ite_drop(struct vcpu *self, struct vits_ite *e)
{
	struct vm *vm = self->vm;

	ite_unpend(vm, e);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vgic_lr_unpend(self, &vm->vcpus[i], VITS_LPI_BASE + e->lpi,
			       VITS_NONE);
	}
	e->valid = false;
}

/*
 * The mapping of (@devid, @eventid) for command @cmd, or NULL after saying
 * why there is none.
 */
static struct vits_ite *translate(struct vm *vm, unsigned int cmd,
				  uint32_t devid, uint32_t eventid)
{
	struct vits *its = its_of(vm);
	struct vits_dev *d = dev_find(its, devid);
	struct vits_ite *e;

	if (!d) {
		its_error(vm, cmd, "DeviceID 0x%x is not mapped", devid);
		return NULL;
	}
	e = ite_find(its, d, eventid);
	if (!e) {
		its_error(vm, cmd, "EventID 0x%x of DeviceID 0x%x is not "
			  "mapped", eventid, devid);
	}
	return e;
}

/* The LPI of @e made pending where its collection points (INT, MSIs). */
static void lpi_raise(struct vm *vm, unsigned int cmd, struct vits_ite *e)
{
	unsigned int cpu = its_of(vm)->coll[e->icid];

	if (cpu == VITS_NONE) {
		its_error(vm, cmd, "collection %u is not mapped", e->icid);
		return;
	}
	ite_pend(vm, e, cpu);
}

/* Move @e's pending state to vCPU @to, out of a list register too. */
static void lpi_move(struct vcpu *self, struct vits_ite *e, unsigned int to)
{
	struct vm *vm = self->vm;
	bool pending = e->pend != VITS_NONE;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (i != to) {
			pending |= vgic_lr_unpend(self, &vm->vcpus[i],
						  VITS_LPI_BASE + e->lpi, to);
		}
	}
	if (pending) {
		ite_pend(vm, e, to);
	}
}

static bool icid_ok(struct vm *vm, unsigned int cmd, uint64_t icid)
{
	if (icid < VITS_NR_COLL) {
		return true;
	}
	its_error(vm, cmd, "ICID %llu beyond the %u collections",
		  (unsigned long long)icid, VITS_NR_COLL);
	return false;
}

/* GITS_TYPER.PTA 0: RDbase is the target's GICR_TYPER.Processor_Number. */
static int rd_target(struct vm *vm, unsigned int cmd, uint64_t dw)
{
	uint64_t rd = (dw >> 16) & GENMASK(34, 0);

	if (rd < vm->nr_vcpus) {
		return (int)rd;
	}
	its_error(vm, cmd, "RDbase %llu names no redistributor",
		  (unsigned long long)rd);
	return -1;
}

static void cmd_mapd(struct vcpu *self, uint32_t devid, const uint64_t *c)
{
	struct vm *vm = self->vm;
	struct vits *its = its_of(vm);
	unsigned int bits = (unsigned int)(c[1] & 0x1f) + 1;
	struct vits_dev *d = dev_find(its, devid);

	if (devid >= BIT(VITS_DEV_BITS)) {
		its_error(vm, CMD_MAPD, "DeviceID 0x%x beyond Devbits", devid);
		return;
	}
	if ((c[2] & BIT(63)) && bits > VITS_EVENT_BITS) {
		its_error(vm, CMD_MAPD, "%u EventID bits, more than %u", bits,
			  VITS_EVENT_BITS);
		return;
	}
	if (d) {
		/* Unmapped or given a new ITT: its old mappings are gone. */
		unsigned int dev = (unsigned int)(d - its->devs);

		for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
			if (its->ites[i].valid && its->ites[i].dev == dev) {
				ite_drop(self, &its->ites[i]);
			}
		}
		d->valid = false;
	}
	if (!(c[2] & BIT(63))) {
		return;
	}
	for (unsigned int i = 0; i < VITS_MAX_DEVICES; i++) {
		if (!its->devs[i].valid) {
			its->devs[i] = (struct vits_dev){
				.devid = devid, .bits = (uint8_t)bits,
				.valid = true,
			};
			return;
		}
	}
	its_error(vm, CMD_MAPD, "Strata holds %u devices per VM",
		  VITS_MAX_DEVICES);
}

static void cmd_mapti(struct vcpu *self, unsigned int cmd, uint32_t devid,
		      const uint64_t *c)
{
	struct vm *vm = self->vm;
	struct vits *its = its_of(vm);
	uint32_t eventid = (uint32_t)c[1];
	uint32_t intid = cmd == CMD_MAPI ? eventid : (uint32_t)(c[1] >> 32);
	uint64_t icid = c[2] & 0xffff;
	struct vits_dev *d = dev_find(its, devid);

	if (!d) {
		its_error(vm, cmd, "DeviceID 0x%x is not mapped", devid);
		return;
	}
	if (eventid >= BIT(d->bits)) {
		its_error(vm, cmd, "EventID 0x%x beyond the device's %u bits",
			  eventid, d->bits);
		return;
	}
	if (intid < VITS_LPI_BASE || intid >= BIT(VITS_ID_BITS)) {
		its_error(vm, cmd, "pINTID %u is not an LPI (8192-%u)", intid,
			  (unsigned int)BIT(VITS_ID_BITS) - 1);
		return;
	}
	if (!icid_ok(vm, cmd, icid)) {
		return;
	}
	if (ite_find(its, d, eventid)) {
		its_error(vm, cmd, "EventID 0x%x of DeviceID 0x%x is mapped "
			  "already", eventid, devid);
		return;
	}
	if (ite_of_lpi(vm, intid)) {
		its_error(vm, cmd, "LPI %u is mapped to another event", intid);
		return;
	}
	for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
		struct vits_ite *e = &its->ites[i];

		if (!e->valid) {
			*e = (struct vits_ite){
				.eventid = eventid,
				.dev = (uint8_t)(d - its->devs),
				.lpi = (uint16_t)(intid - VITS_LPI_BASE),
				.icid = (uint16_t)icid,
				.cfg = lpi_config(vm, intid),
				.pend = VITS_NONE, .valid = true,
			};
			return;
		}
	}
	its_error(vm, cmd, "Strata holds %u event mappings per VM",
		  VITS_MAX_ITES);
}

static void run_command(struct vcpu *self, const uint64_t *c)
{
	struct vm *vm = self->vm;
	struct vits *its = its_of(vm);
	unsigned int cmd = (unsigned int)(c[0] & 0xff);
	uint32_t devid = (uint32_t)(c[0] >> 32);
	uint32_t eventid = (uint32_t)c[1];
	struct vits_ite *e;
	int to, from;

	switch (cmd) {
	case CMD_MAPD:
		cmd_mapd(self, devid, c);
		return;
	case CMD_MAPC:
		if (!icid_ok(vm, cmd, c[2] & 0xffff)) {
			return;
		}
		if (!(c[2] & BIT(63))) {
			its->coll[c[2] & 0xffff] = VITS_NONE;
			return;
		}
		to = rd_target(vm, cmd, c[2]);
		if (to >= 0) {
			its->coll[c[2] & 0xffff] = (uint8_t)to;
		}
		return;
	case CMD_MAPTI:
	case CMD_MAPI:
		cmd_mapti(self, cmd, devid, c);
		return;
	case CMD_INT:
		e = translate(vm, cmd, devid, eventid);
		if (e) {
			lpi_raise(vm, cmd, e);
		}
		return;
	case CMD_CLEAR:
		e = translate(vm, cmd, devid, eventid);
		if (e) {
			ite_unpend(vm, e);
			for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
				vgic_lr_unpend(self, &vm->vcpus[i],
					       VITS_LPI_BASE + e->lpi,
					       VITS_NONE);
			}
		}
		return;
	case CMD_DISCARD:
		e = translate(vm, cmd, devid, eventid);
		if (e) {
			ite_drop(self, e);
		}
		return;
	case CMD_INV:
		e = translate(vm, cmd, devid, eventid);
		if (e) {
			e->cfg = lpi_config(vm, VITS_LPI_BASE + e->lpi);
			vgic_mark_prune(vm);	/* it may be listed */
		}
		return;
	case CMD_INVALL:
		if (!icid_ok(vm, cmd, c[2] & 0xffff)) {
			return;
		}
		for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
			e = &its->ites[i];
			if (e->valid && e->icid == (c[2] & 0xffff)) {
				e->cfg = lpi_config(vm, VITS_LPI_BASE + e->lpi);
			}
		}
		vgic_mark_prune(vm);
		return;
	case CMD_SYNC:
		/* Every command's effects are visible when it returns. */
		(void)rd_target(vm, cmd, c[2]);
		return;
	case CMD_MOVI:
		e = translate(vm, cmd, devid, eventid);
		if (!e || !icid_ok(vm, cmd, c[2] & 0xffff)) {
			return;
		}
		if (its->coll[c[2] & 0xffff] == VITS_NONE) {
			its_error(vm, cmd, "collection %llu is not mapped",
				  (unsigned long long)(c[2] & 0xffff));
			return;
		}
		e->icid = (uint16_t)(c[2] & 0xffff);
		lpi_move(self, e, its->coll[e->icid]);
		return;
	case CMD_MOVALL:
		from = rd_target(vm, cmd, c[2]);
		to = rd_target(vm, cmd, c[3]);
		if (from < 0 || to < 0 || from == to) {
			return;
		}
		for (unsigned int i = 0; i < VITS_MAX_ITES; i++) {
			e = &its->ites[i];
			if (!e->valid) {
				continue;
			}
			if (e->pend == from ||
			    vgic_lr_unpend(self, &vm->vcpus[from],
					   VITS_LPI_BASE + e->lpi,
					   (unsigned int)to)) {
				ite_pend(vm, e, (unsigned int)to);
			}
		}
		return;
	default:
		its_error(vm, cmd, "not a command of this ITS");
		return;
	}
}

/*
 * Run the commands from CREADR towards CWRITER, ITS_BUDGET of them at
 * most (an INVALL, which reads the configuration of every mapping, counts
 * ITS_INVALL_COST): a real ITS works through its queue on its own and the
 * guest polls CREADR, so a long queue is worked off over several traps
 * (each CWRITER write, CREADR read, and entry of @self while work is left:
 * vgic_cpu.its_work) and no single trap holds the CPU for long. @write: a
 * CWRITER write or an enable, which says when CWRITER is beyond the queue.
 */
static void run_queue(struct vcpu *self, bool write)
{
	struct vm *vm = self->vm;
	struct vits *its = its_of(vm);
	uint32_t size = (uint32_t)((its->cbaser & 0xff) + 1) * 4096;
	gpa_t base = its->cbaser & GENMASK(51, 12);
	unsigned int budget = ITS_BUDGET;

	self->arch.vgic.its_work = false;
	if (!its->ctlr_enabled || !(its->cbaser & CBASER_VALID)) {
		return;
	}
	if (its->cwriter >= size) {
		if (write) {
			its_error(vm, 0, "GITS_CWRITER 0x%x beyond the %u-byte "
				  "queue: nothing run", its->cwriter, size);
		}
		return;
	}
	while (its->creadr != its->cwriter) {
		if (!budget) {
			/* The rest at the next trap or entry. */
			self->arch.vgic.its_work = true;
			return;
		}
		const volatile uint64_t *p = vm_gpa_to_host(vm, base +
							    its->creadr, 32);
		uint64_t c[4] = { 0 };

		if (!p) {
			its_error(vm, 0, "the command at 0x%llx is not in RAM",
				  (unsigned long long)(base + its->creadr));
		} else {
			/* One read of each word: the guest may change them. */
			for (unsigned int i = 0; i < 4; i++) {
				c[i] = p[i];
			}
			run_command(self, c);
		}
		budget -= MIN(budget, (c[0] & 0xff) == CMD_INVALL && p ?
				      ITS_INVALL_COST : 1U);
		its->creadr = (its->creadr + 32) % size;
	}
}

/* ---- registers ------------------------------------------------------- */

static uint64_t its_typer(void)
{
	return 1 |					/* Physical */
	       ((uint64_t)(BASER_ENTRY_SIZE - 1) << 4) |	/* ITT entry */
	       ((uint64_t)(VITS_EVENT_BITS - 1) << 8) |
	       ((uint64_t)(VITS_DEV_BITS - 1) << 13) |
	       ((uint64_t)VITS_NR_COLL << 24);		/* HCC */
}

static uint64_t reg_read64(struct vits *its, uint64_t off)
{
	bool idle = !its->ctlr_enabled || its->creadr == its->cwriter ||
		    !(its->cbaser & CBASER_VALID);

	switch (off) {
	case GITS_CTLR:
		/* Quiescent: no command left to run (run_queue()). */
		return (idle ? GITS_CTLR_QUIESCENT : 0) |
		       (its->ctlr_enabled ? GITS_CTLR_ENABLED : 0) |
		       (uint64_t)GIC_IIDR_ARM << 32;
	case GITS_TYPER:
		return its_typer();
	case GITS_CBASER:
		return its->cbaser;
	case GITS_CWRITER:
		return its->cwriter;
	case GITS_CREADR:
		return its->creadr;	/* never Stalled */
	case GITS_BASER:
		return its->baser0 | BASER_TYPE_DEVICE << 56 |
		       (uint64_t)(BASER_ENTRY_SIZE - 1) << 48;
	case GITS_PIDR2 & ~7ULL:
		return GIC_PIDR2_V3;
	}
	return 0;	/* BASER1-7 (no table type), reserved: RAZ */
}

static int its_read(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t *val)
{
	struct vits *its = its_of(d->priv);

	if ((size != 4 && size != 8) || (off & (size - 1))) {
		return -1;
	}
	if ((off & ~7ULL) == GITS_CREADR && its->creadr != its->cwriter) {
		run_queue(v, false);	/* the guest polls: go on */
	}
	*val = reg_read64(its, off & ~7ULL) >> (8 * (off & 4));
	return 0;
}

static void reg_write64(struct vcpu *v, struct vits *its, uint64_t off,
			uint64_t val, uint64_t mask)
{
	switch (off) {
	case GITS_CTLR:
		if (mask & 0xffffffffULL) {	/* not GITS_IIDR (RO) */
			its->ctlr_enabled = val & GITS_CTLR_ENABLED;
			run_queue(v, true);
		}
		return;
	case GITS_CBASER:
		if (its->ctlr_enabled) {
			return;		/* UNPREDICTABLE while enabled: WI */
		}
		its->cbaser = ((its->cbaser & ~mask) | (val & mask)) &
			      CBASER_MASK;
		its->creadr = 0;	/* as the spec says for a write */
		return;
	case GITS_CWRITER:
		if (mask & 0xffffffffULL) {
			its->cwriter = (uint32_t)val & CMD_OFFSET_MASK;
			run_queue(v, true);
		}
		return;
	case GITS_BASER:
		if (!its->ctlr_enabled) {
			its->baser0 = ((its->baser0 & ~mask) | (val & mask)) &
				      BASER_RW_MASK;
		}
		return;
	}
}

static int its_write(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t val)
{
	struct vm *vm = d->priv;
	struct vits *its = its_of(vm);
	uint64_t shift = 8 * (off & 4);

	if (off == GITS_TRANSLATER && (size == 4 || size == 2)) {
		struct vits_ite *e;

		if (!its->ctlr_enabled) {
			return 0;	/* no translations while disabled */
		}
		e = translate(vm, 0x100 | CMD_INT, VITS_CPU_DEVICE_ID,
			      (uint32_t)val);
		if (e) {
			lpi_raise(vm, 0x100 | CMD_INT, e);
		}
		return 0;
	}
	if ((size != 4 && size != 8) || (off & (size - 1))) {
		return -1;
	}
	reg_write64(v, its, off & ~7ULL, val << shift,
		    (size == 8 ? ~0ULL : 0xffffffffULL) << shift);
	return 0;
}

static const struct io_device_ops its_ops = {
	.read = its_read,
	.write = its_write,
};

void vits_work(struct vcpu *v)
{
	run_queue(v, false);
}

int vits_init(struct vm *vm)
{
	struct vits *its = its_of(vm);
	struct io_device dev = {
		.name = "gits", .space = IO_MMIO, .base = GUEST_ITS_BASE,
		.size = GUEST_ITS_SIZE, .ops = &its_ops, .priv = vm,
	};

	memset(its, 0, sizeof(*its));
	memset(its->coll, VITS_NONE, sizeof(its->coll));
	return vm_add_device(vm, &dev);
}
