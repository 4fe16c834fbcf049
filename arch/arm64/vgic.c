// SPDX-License-Identifier: MIT
/*
 * The virtual GICv3 (what it offers: arch/vgic.h): MMIO emulation of the
 * distributor and the redistributors, SGI generation from trapped
 * ICC_SGI*R_EL1 writes, and the list registers that deliver pending
 * interrupts to the guest's virtual CPU interface before each entry. A VM
 * on a GICv2 host gets the vGICv2 of vgic_v2.c instead: each entry point
 * hands over to it first.
 */
#include <arch/board.h>
#include <arch/gic_regs.h>
#include <arch/guest.h>
#include <arch/guest_layout.h>
#include <arch/sysreg.h>
#include <arch/vgic.h>
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define GICD_SIZE		0x10000

/* ICH_LR<n>_EL2. */
#define LR_STATE_MASK		(3ULL << 62)
#define LR_PENDING		(1ULL << 62)
#define LR_GROUP1		(1ULL << 60)
#define LR_PRIO_SHIFT		48
#define LR_VINTID_MASK		0xffffffffULL
#define ICH_HCR_EN		BIT(0)

/* ICC_SGI*R_EL1 fields. */
#define SGIR_TARGETS		0xffffULL
#define SGIR_AFF1_SHIFT		16
#define SGIR_INTID_SHIFT	24
#define SGIR_AFF2_SHIFT		32
#define SGIR_IRM		BIT(40)
#define SGIR_RS_SHIFT		44
#define SGIR_AFF3_SHIFT		48

/* ---- list registers -------------------------------------------------- */

static uint64_t lr_read(unsigned int n)
{
	switch (n) {
	case 0: return read_sysreg(s3_4_c12_c12_0);
	case 1: return read_sysreg(s3_4_c12_c12_1);
	case 2: return read_sysreg(s3_4_c12_c12_2);
	default: return read_sysreg(s3_4_c12_c12_3);
	}
}

static void lr_write(unsigned int n, uint64_t v)
{
	switch (n) {
	case 0: write_sysreg(v, s3_4_c12_c12_0); break;
	case 1: write_sysreg(v, s3_4_c12_c12_1); break;
	case 2: write_sysreg(v, s3_4_c12_c12_2); break;
	default: write_sysreg(v, s3_4_c12_c12_3); break;
	}
}

/* List registers this CPU has, at most VGIC_NR_LRS. */
static unsigned int nr_lrs(void)
{
	static unsigned int n;

	if (!n) {
		n = (unsigned int)(read_sysreg(s3_4_c12_c11_1) & 0x1f) + 1;
		n = MIN(n, (unsigned int)VGIC_NR_LRS);
	}
	return n;
}

void vgic_load(struct vcpu *v)
{
	struct vgic_cpu *c = &v->arch.vgic;

	if (v->vm->arch.vgic.v2.on) {
		vgic_v2_load(v);
		return;
	}
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		lr_write(i, c->lr[i]);
	}
	write_sysreg(c->ap0r0, s3_4_c12_c8_0);
	write_sysreg(c->ap1r0, s3_4_c12_c9_0);
	write_sysreg(ICH_HCR_EN, SYS_ICH_HCR_EL2);
}

void vgic_after_exit(struct vcpu *v)
{
	if (v->vm->arch.vgic.v2.on) {
		vgic_v2_sync(v);
	}
}

void vgic_put(struct vcpu *v)
{
	struct vgic_cpu *c = &v->arch.vgic;

	if (v->vm->arch.vgic.v2.on) {
		vgic_v2_put(v);
		return;
	}
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		c->lr[i] = lr_read(i);
		lr_write(i, 0);
	}
	c->ap0r0 = read_sysreg(s3_4_c12_c8_0);
	c->ap1r0 = read_sysreg(s3_4_c12_c9_0);
	write_sysreg(0, s3_4_c12_c8_0);
	write_sysreg(0, s3_4_c12_c9_0);
	write_sysreg(0, SYS_ICH_HCR_EL2);
}

/* The virtual timer's line: ENABLE, not IMASK, condition met. */
static bool vtimer_level(void)
{
	uint64_t ctl = read_sysreg(cntv_ctl_el0);

	return (ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS)) ==
	       (CNT_CTL_ENABLE | CNT_CTL_ISTATUS);
}

/*
 * Once the condition is met the interrupt is the list registers' business:
 * an EL2 timer set for a deadline already past would only take every entry
 * straight back out.
 */
uint64_t vgic_vtimer_deadline(struct vcpu *v)
{
	uint64_t ctl = read_sysreg(cntv_ctl_el0);
	uint64_t pt = ~0ULL;

	if (v->vm->arch.vgic.v2.on) {
		return vgic_v2_vtimer_deadline(v);
	}
	if (v->arch.vgic.enabled & BIT(VGIC_INTID_PTIMER)) {
		pt = ptimer_deadline(v);
	}
	if (!(v->arch.vgic.enabled & BIT(VGIC_INTID_VTIMER)) ||
	    (ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS)) !=
	    CNT_CTL_ENABLE) {
		return pt;
	}
	return MIN(pt, read_sysreg(cntv_cval_el0) + v->vm->arch.cntvoff);
}

static bool group_enabled(const struct vm *vm, bool group1)
{
	return vm->arch.vgic.ctlr & (group1 ? BIT(1) : BIT(0));
}

/* Put @intid in a free list register; false when there is none. */
static bool lr_add(unsigned int intid, bool group1, uint8_t prio)
{
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		if (lr_read(i) & LR_STATE_MASK) {
			continue;
		}
		lr_write(i, LR_PENDING | (group1 ? LR_GROUP1 : 0) |
			 ((uint64_t)prio << LR_PRIO_SHIFT) | intid);
		return true;
	}
	return false;
}

static bool in_lr(unsigned int intid)
{
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint64_t lr = lr_read(i);

		if ((lr & LR_STATE_MASK) && (lr & LR_VINTID_MASK) == intid) {
			return true;
		}
	}
	return false;
}

/*
 * A timer line that dropped while its interrupt was listed but not yet
 * acknowledged: the level is gone, so is the pending state (an active one
 * stays for the guest to end).
 */
static void lr_retire_timer(struct vgic_cpu *c, unsigned int intid)
{
	if (!(c->timers_listed & BIT(intid))) {
		return;		/* the common case: no LR to look at */
	}
	c->timers_listed &= ~(uint32_t)BIT(intid);
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint64_t lr = lr_read(i);

		if ((lr & LR_VINTID_MASK) == intid &&
		    (lr & LR_STATE_MASK) == LR_PENDING) {
			lr_write(i, 0);
		}
	}
}

/* ---- SPIs ------------------------------------------------------------ */

#define SPI_BIT(intid)		((uint32_t)BIT((intid) - 32))

static bool spi_is_edge(const struct vgic_dist *d, unsigned int n)
{
	return d->icfgr[n / 16] & BIT((n % 16) * 2 + 1);
}

/* SPIs (bit n: INTID 32 + n) pending outside the list registers. */
static uint32_t spi_pending(const struct vgic_dist *d)
{
	uint32_t level_cfg = 0;

	for (unsigned int n = 0; n < VGIC_NR_SPIS; n++) {
		level_cfg |= spi_is_edge(d, n) ? 0 : (uint32_t)BIT(n);
	}
	return d->pending | (d->level & level_cfg);
}

/*
 * The vCPU index SPI 32 + @n is routed to, or -1: Interrupt_Routing_Mode
 * "any" picks vCPU 0; otherwise the affinity must name a vCPU (MPIDR is
 * the vCPU's index in Aff0), or the SPI is not delivered (GICv3 spec,
 * "Routing SPIs").
 */
static int spi_target(const struct vm *vm, unsigned int n)
{
	uint64_t r = vm->arch.vgic.irouter[n];

	if (r & BIT(31)) {
		return 0;
	}
	if (r & ~0xffULL) {
		return -1;
	}
	return (unsigned int)r < vm->nr_vcpus ? (int)r : -1;
}

/* INTID @intid in a list register of any vCPU of @v's VM (@v's live). */
static bool in_any_lr(const struct vcpu *v, unsigned int intid)
{
	const struct vm *vm = v->vm;

	if (in_lr(intid)) {
		return true;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct vgic_cpu *c = &vm->vcpus[i].arch.vgic;

		if (&vm->vcpus[i] == v) {
			continue;
		}
		for (unsigned int k = 0; k < nr_lrs(); k++) {
			if ((c->lr[k] & LR_STATE_MASK) &&
			    (c->lr[k] & LR_VINTID_MASK) == intid) {
				return true;
			}
		}
	}
	return false;
}

static void vgic_kick_spi_target(struct vm *vm, unsigned int n);

int vgic_set_spi_level(struct vm *vm, unsigned int intid, bool level)
{
	struct vgic_dist *d = &vm->arch.vgic;
	uint32_t bit;

	if (WARN_ON_ONCE(intid < 32 || intid >= 32 + VGIC_NR_SPIS)) {
		return -EINVAL;
	}
	bit = SPI_BIT(intid);
	if (level && !(d->level & bit) && spi_is_edge(d, intid - 32)) {
		d->pending |= bit;	/* a rising edge */
	}
	if (level) {
		d->level |= bit;
	} else {
		d->level &= ~bit;
	}
	if (level) {
		vgic_kick_spi_target(vm, intid - 32);
	}
	return 0;
}

/*
 * Cross-CPU delivery (docs/smp.md): the vCPU SPI 32 + @n is routed to may
 * run on another physical CPU, or wait in WFI: make it look.
 */
static void vgic_kick_spi_target(struct vm *vm, unsigned int n)
{
	int t = spi_target(vm, n);

	if (t >= 0) {
		vcpu_kick(&vm->vcpus[t]);
	}
}

bool vgic_wakeup_pending(struct vcpu *v)
{
	const struct vgic_cpu *c = &v->arch.vgic;
	const struct vgic_dist *d = &v->vm->arch.vgic;
	uint32_t spis;

	if (v->vm->arch.vgic.v2.on) {
		return vgic_v2_wakeup_pending(v);
	}
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		if (lr_read(i) & LR_PENDING) {
			return true;
		}
	}
	if ((c->pending & c->enabled) ||
	    ((c->enabled & BIT(VGIC_INTID_VTIMER)) && vtimer_level()) ||
	    ((c->enabled & BIT(VGIC_INTID_PTIMER)) && ptimer_level(v))) {
		return true;
	}
	spis = spi_pending(d) & d->enabled;
	for (unsigned int n = 0; spis; n++, spis >>= 1) {
		if ((spis & 1) && spi_target(v->vm, n) == (int)v->id) {
			return true;
		}
	}
	return false;
}

/*
 * Take back @v's pending-only list registers of level-sensitive SPIs whose
 * line dropped (the device was serviced before the guest took them).
 */
static void spi_retire(struct vcpu *v)
{
	struct vgic_dist *d = &v->vm->arch.vgic;

	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint64_t lr = lr_read(i);
		unsigned int intid = (unsigned int)(lr & LR_VINTID_MASK);

		if (intid < 32 || intid >= 32 + VGIC_NR_SPIS ||
		    (lr & LR_STATE_MASK) != LR_PENDING) {
			continue;
		}
		if (spi_is_edge(d, intid - 32) ||
		    (d->soft_listed & SPI_BIT(intid)) ||
		    (spi_pending(d) & SPI_BIT(intid))) {
			continue;
		}
		lr_write(i, 0);
	}
}

/* List the SPIs routed to @v that are pending, enabled and not listed. */
static void spi_flush(struct vcpu *v)
{
	struct vgic_dist *d = &v->vm->arch.vgic;
	uint32_t want;

	if (!d->level && !d->pending) {
		return;		/* the common case: no SPI at all */
	}
	spi_retire(v);
	want = spi_pending(d) & d->enabled;
	for (unsigned int n = 0; want; n++, want >>= 1) {
		unsigned int intid = 32 + n;
		bool g1 = d->group & BIT(n);

		if (!(want & 1) || spi_target(v->vm, n) != (int)v->id ||
		    !group_enabled(v->vm, g1) || in_any_lr(v, intid)) {
			continue;
		}
		if (!lr_add(intid, g1, d->prio[n])) {
			break;
		}
		if (d->pending & BIT(n)) {
			d->soft_listed |= (uint32_t)BIT(n);
		} else {
			d->soft_listed &= ~(uint32_t)BIT(n);
		}
		d->pending &= ~(uint32_t)BIT(n);
	}
}

static void __vgic_flush(struct vcpu *v, bool vt);

/*
 * The common entry (a guest exit that raised nothing): no PPI or SGI
 * pending, no timer listed, no SPI line or edge, neither timer's line up
 * (@vctl: CNTV_CTL_EL0's ENABLE, IMASK, ISTATUS; ptimer_level() needs
 * ENABLE without IMASK). Then a flush would list nothing and retire
 * nothing.
 */
static bool nothing_to_flush(const struct vcpu *v, uint64_t vctl)
{
	const struct vgic_cpu *c = &v->arch.vgic;
	const struct vgic_dist *d = &v->vm->arch.vgic;

	return !(c->pending | c->timers_listed | d->level | d->pending) &&
	       vctl != (CNT_CTL_ENABLE | CNT_CTL_ISTATUS) &&
	       (v->arch.ptimer_ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) !=
	       CNT_CTL_ENABLE;
}

void vgic_flush(struct vcpu *v)
{
	uint64_t vctl;

	if (v->vm->arch.vgic.v2.on) {
		vgic_v2_flush(v);
		return;
	}
	vctl = read_sysreg(cntv_ctl_el0) &
	       (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS);
	if (!nothing_to_flush(v, vctl)) {
		__vgic_flush(v, vctl == (CNT_CTL_ENABLE | CNT_CTL_ISTATUS));
	}
}

/*
 * With nothing to flush the EL1 physical timer is off or masked (no
 * deadline, ptimer_deadline()), and the virtual one's deadline is read
 * from the same CNTV_CTL_EL0 value as the flush's decision.
 */
uint64_t vgic_prepare_entry(struct vcpu *v)
{
	uint64_t vctl;

	if (v->vm->arch.vgic.v2.on) {
		vgic_v2_flush(v);
		return vgic_v2_vtimer_deadline(v);
	}
	vctl = read_sysreg(cntv_ctl_el0) &
	       (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS);
	if (!nothing_to_flush(v, vctl)) {
		__vgic_flush(v, vctl == (CNT_CTL_ENABLE | CNT_CTL_ISTATUS));
		return vgic_vtimer_deadline(v);
	}
	if (!(v->arch.vgic.enabled & BIT(VGIC_INTID_VTIMER)) ||
	    vctl != CNT_CTL_ENABLE) {
		return ~0ULL;
	}
	return read_sysreg(cntv_cval_el0) + v->vm->arch.cntvoff;
}

static __attribute__((noinline)) void __vgic_flush(struct vcpu *v, bool vt)
{
	struct vgic_cpu *c = &v->arch.vgic;
	uint32_t want = c->pending;

	if (vt) {
		want |= BIT(VGIC_INTID_VTIMER);
	} else {
		lr_retire_timer(c, VGIC_INTID_VTIMER);
	}
	if (ptimer_level(v)) {
		want |= BIT(VGIC_INTID_PTIMER);
	} else {
		lr_retire_timer(c, VGIC_INTID_PTIMER);
	}
	want &= c->enabled;
	if (c->sleep) {
		want = 0;	/* asleep: everything stays pending */
	}
	for (unsigned int intid = 0; want; intid++, want >>= 1) {
		bool g1 = c->group & BIT(intid);

		if (!(want & 1) || !group_enabled(v->vm, g1) || in_lr(intid)) {
			continue;
		}
		if (!lr_add(intid, g1, c->prio[intid])) {
			break;	/* the rest waits for a free list register */
		}
		if (intid == VGIC_INTID_VTIMER || intid == VGIC_INTID_PTIMER) {
			c->timers_listed |= (uint32_t)BIT(intid);
		}
		c->pending &= ~(uint32_t)BIT(intid);
	}
	if (!c->sleep) {
		spi_flush(v);
	}
}

/* ---- SGIs ------------------------------------------------------------ */

bool vgic_is_sgi_reg(uint64_t esr)
{
	/* ISS of EC 0x18: Op0 21:20, Op2 19:17, Op1 16:14, CRn 13:10, CRm 4:1,
	 * direction bit 0 (0: write). SGI1R, ASGI1R, SGI0R: 3, 0, c12, c11,
	 * op2 5, 6, 7. */
	uint64_t iss = esr & ESR_ISS_MASK;
	unsigned int op2 = (unsigned int)(iss >> 17) & 7;

	return (iss & 1) == 0 && ((iss >> 20) & 3) == 3 &&
	       ((iss >> 14) & 7) == 0 && ((iss >> 10) & 0xf) == 12 &&
	       ((iss >> 1) & 0xf) == 11 && op2 >= 5;
}

void vgic_send_sgi(struct vcpu *v, uint64_t val)
{
	struct vm *vm = v->vm;
	unsigned int intid = (unsigned int)(val >> SGIR_INTID_SHIFT) & 0xf;
	bool aff_zero = !((val >> SGIR_AFF1_SHIFT) & 0xff) &&
			!((val >> SGIR_AFF2_SHIFT) & 0xff) &&
			!((val >> SGIR_AFF3_SHIFT) & 0xff) &&
			!((val >> SGIR_RS_SHIFT) & 0xf);

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		bool hit = (val & SGIR_IRM) ? i != v->id :
			   aff_zero && i < 16 && (val & BIT(i));

		if (hit) {
			vm->vcpus[i].arch.vgic.pending |= (uint32_t)BIT(intid);
			if (i != v->id) {
				vcpu_kick(&vm->vcpus[i]);	/* docs/smp.md */
			}
		}
	}
}

/* ---- distributor ----------------------------------------------------- */

static uint32_t bytes_read(const uint8_t *b, uint64_t off)
{
	return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 |
	       (uint32_t)b[off + 2] << 16 | (uint32_t)b[off + 3] << 24;
}

static void bytes_write(uint8_t *b, uint64_t off, uint64_t val,
			unsigned int size)
{
	for (unsigned int i = 0; i < size; i++) {
		b[off + i] = (uint8_t)(val >> (8 * i));
	}
}

/* SPIs pending in a list register of some vCPU (@self's are live). */
static uint32_t spi_listed_pending(const struct vcpu *self,
				   const struct vm *vm)
{
	uint32_t p = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *t = &vm->vcpus[i];

		for (unsigned int k = 0; k < nr_lrs(); k++) {
			uint64_t lr = t == self ? lr_read(k) :
					  t->arch.vgic.lr[k];
			uint64_t id = lr & LR_VINTID_MASK;

			if ((lr & LR_PENDING) && id >= 32 &&
			    id < 32 + VGIC_NR_SPIS) {
				p |= SPI_BIT(id);
			}
		}
	}
	return p;
}

static uint32_t gicd_read32(const struct vcpu *self, struct vm *vm,
			    uint64_t off)
{
	struct vgic_dist *d = &vm->arch.vgic;

	switch (off) {
	case GICD_CTLR:
		return d->ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
	case GICD_TYPER:
		return (9U << 19) | 1;	/* 10 ID bits, 64 INTIDs */
	case GICD_IGROUPR + 4:
		return d->group;
	case GICD_ISENABLER + 4:
	case GICD_ICENABLER + 4:
		return d->enabled;
	case GICD_ISPENDR + 4:
	case GICD_ICPENDR + 4:
		return spi_pending(d) | spi_listed_pending(self, vm);
	case GICD_ICFGR + 8:
	case GICD_ICFGR + 12:
		return d->icfgr[(off - GICD_ICFGR - 8) / 4];
	case GICx_PIDR2:
		return GIC_PIDR2_V3;
	}
	if (off >= GICD_IPRIORITYR + 32 && off < GICD_IPRIORITYR + 64) {
		return bytes_read(d->prio, off - GICD_IPRIORITYR - 32);
	}
	if (off >= GICD_IROUTER + 32 * 8 && off < GICD_IROUTER + 64 * 8) {
		uint64_t r = d->irouter[(off - GICD_IROUTER - 256) / 8];

		return (uint32_t)(off & 4 ? r >> 32 : r);
	}
	return 0;	/* RAZ: banked SGI/PPI copies, SPIs beyond 63 */
}

static void gicd_write32(struct vm *vm, uint64_t off, uint32_t val)
{
	struct vgic_dist *d = &vm->arch.vgic;

	switch (off) {
	case GICD_CTLR:
		d->ctlr = val & GICD_CTLR_EN_MASK;
		return;
	case GICD_IGROUPR + 4:
		d->group = val;
		return;
	case GICD_ISENABLER + 4:
		d->enabled |= val;
		return;
	case GICD_ICENABLER + 4:
		d->enabled &= ~val;
		return;
	case GICD_ISPENDR + 4:
		d->pending |= val;
		return;
	case GICD_ICPENDR + 4:
		d->pending &= ~val;
		return;
	case GICD_ICFGR + 8:
	case GICD_ICFGR + 12:
		d->icfgr[(off - GICD_ICFGR - 8) / 4] = val & 0xaaaaaaaa;
		return;
	}
	if (off >= GICD_IPRIORITYR + 32 && off < GICD_IPRIORITYR + 64) {
		bytes_write(d->prio, off - GICD_IPRIORITYR - 32, val, 4);
	} else if (off >= GICD_IROUTER + 32 * 8 &&
		   off < GICD_IROUTER + 64 * 8) {
		uint64_t *r = &d->irouter[(off - GICD_IROUTER - 256) / 8];

		*r = off & 4 ? (*r & 0xffffffff) | (uint64_t)val << 32 :
			       (*r & ~0xffffffffULL) | val;
	}
}

/* ---- redistributors -------------------------------------------------- */

/*
 * GICR_ISPENDR0/ICPENDR0 of vCPU @t as vCPU @self reads it: what waits to
 * be listed, what sits pending in a list register (live for @self, saved
 * for the others), and the levels of the timer lines (level-sensitive:
 * pending while asserted).
 */
static uint32_t ppi_pending(const struct vcpu *self, const struct vcpu *t)
{
	const struct vgic_cpu *c = &t->arch.vgic;
	uint32_t p = c->pending;

	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint64_t lr = t == self ? lr_read(i) : c->lr[i];
		uint64_t id = lr & LR_VINTID_MASK;

		if ((lr & LR_PENDING) && id < 32) {
			p |= (uint32_t)BIT(id);
		}
	}
	/* The timers are level-sensitive: pending exactly while asserted. */
	p &= ~(uint32_t)(BIT(VGIC_INTID_VTIMER) | BIT(VGIC_INTID_PTIMER));
	if (t == self ? vtimer_level() :
	    (t->arch.el1.cntv_ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK |
				     CNT_CTL_ISTATUS)) ==
	    (CNT_CTL_ENABLE | CNT_CTL_ISTATUS)) {
		p |= BIT(VGIC_INTID_VTIMER);
	}
	if (ptimer_level(t)) {
		p |= BIT(VGIC_INTID_PTIMER);
	}
	return p;
}

static uint32_t gicr_read32(const struct vcpu *self, struct vm *vm,
			    unsigned int idx, uint64_t off)
{
	struct vgic_cpu *c = &vm->vcpus[idx].arch.vgic;
	unsigned int nr = vm->nr_vcpus;
	uint64_t typer = ((uint64_t)idx << 32) | ((uint64_t)idx << 8) |
			 (idx + 1 == nr ? GICR_TYPER_LAST : 0);

	switch (off) {
	case GICR_TYPER:
		return (uint32_t)typer;
	case GICR_TYPER + 4:
		return (uint32_t)(typer >> 32);
	case GICR_WAKER:
		return c->sleep ? GICR_WAKER_SLEEP | GICR_WAKER_ASLEEP : 0;
	case GICx_PIDR2:
		return GIC_PIDR2_V3;
	case GICR_SGI_BASE + GICR_IGROUPR0:
		return c->group;
	case GICR_SGI_BASE + GICR_ISENABLER0:
	case GICR_SGI_BASE + GICR_ICENABLER0:
		return c->enabled;
	case GICR_SGI_BASE + GICR_ISPENDR0:
	case GICR_SGI_BASE + GICR_ICPENDR0:
		return ppi_pending(self, &vm->vcpus[idx]);
	case GICR_SGI_BASE + GICR_ICFGR0:
		return 0xaaaaaaaa;	/* SGIs are edge-triggered */
	case GICR_SGI_BASE + GICR_ICFGR1:
		return c->icfgr1;
	}
	if (off >= GICR_SGI_BASE + GICR_IPRIORITYR &&
	    off < GICR_SGI_BASE + GICR_IPRIORITYR + 32) {
		return bytes_read(c->prio, off - GICR_SGI_BASE -
				  GICR_IPRIORITYR);
	}
	return 0;
}

static void gicr_write32(struct vm *vm, unsigned int idx, uint64_t off,
			 uint32_t val)
{
	struct vgic_cpu *c = &vm->vcpus[idx].arch.vgic;

	switch (off) {
	case GICR_WAKER:
		c->sleep = val & GICR_WAKER_SLEEP;
		return;
	case GICR_SGI_BASE + GICR_IGROUPR0:
		c->group = val;
		return;
	case GICR_SGI_BASE + GICR_ISENABLER0:
		c->enabled |= val;
		return;
	case GICR_SGI_BASE + GICR_ICENABLER0:
		c->enabled &= ~val;
		return;
	case GICR_SGI_BASE + GICR_ISPENDR0:
		c->pending |= val;
		return;
	case GICR_SGI_BASE + GICR_ICPENDR0:
		c->pending &= ~val;
		return;
	case GICR_SGI_BASE + GICR_ICFGR1:
		c->icfgr1 = val & 0xaaaaaaaa;
		return;
	}
	if (off >= GICR_SGI_BASE + GICR_IPRIORITYR &&
	    off < GICR_SGI_BASE + GICR_IPRIORITYR + 32) {
		bytes_write(c->prio, off - GICR_SGI_BASE - GICR_IPRIORITYR,
			    val, 4);
	}
}

/* ---- MMIO glue ------------------------------------------------------- */

static bool is_prio(uint64_t off, bool redist)
{
	uint64_t base = redist ? GICR_SGI_BASE + GICR_IPRIORITYR :
				 GICD_IPRIORITYR;

	return off >= base && off < base + 64;
}

static uint32_t reg_read32(const struct vcpu *v, struct io_device *d,
			   uint64_t off)
{
	struct vm *vm = d->priv;
	unsigned int idx = (unsigned int)(off / VGIC_GICR_FRAME);

	if (d->base == GUEST_GICD_BASE) {
		return gicd_read32(v, vm, off);
	}
	return idx < vm->nr_vcpus ?
	       gicr_read32(v, vm, idx, off % VGIC_GICR_FRAME) : 0;
}

static void reg_write32(struct io_device *d, uint64_t off, uint32_t val)
{
	struct vm *vm = d->priv;
	unsigned int idx = (unsigned int)(off / VGIC_GICR_FRAME);

	if (d->base == GUEST_GICD_BASE) {
		gicd_write32(vm, off, val);
	} else if (idx < vm->nr_vcpus) {
		gicr_write32(vm, idx, off % VGIC_GICR_FRAME, val);
	}
}

static int vgic_read(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t *val)
{
	uint64_t word = off & ~3ULL;

	if (off & (size - 1)) {
		return -1;	/* misaligned: refused */
	}
	if (size == 8) {
		*val = reg_read32(v, d, off) |
		       (uint64_t)reg_read32(v, d, off + 4) << 32;
	} else {
		*val = reg_read32(v, d, word) >> (8 * (off & 3));
	}
	return 0;
}

static int vgic_write(struct vcpu *v, struct io_device *d, uint64_t off,
		      unsigned int size, uint64_t val)
{
	uint64_t word = off & ~3ULL;
	bool redist = d->base != GUEST_GICD_BASE;
	uint64_t roff = redist ? off % VGIC_GICR_FRAME : off;
	uint32_t old, mask;

	(void)v;
	if (off & (size - 1)) {
		return -1;
	}
	if (size == 8) {
		reg_write32(d, off, (uint32_t)val);
		reg_write32(d, off + 4, (uint32_t)(val >> 32));
	} else if (size == 4) {
		reg_write32(d, off, (uint32_t)val);
	} else if (is_prio(roff, redist)) {
		/* Byte/halfword writes exist only for the priority bytes. */
		old = reg_read32(v, d, word);
		mask = (uint32_t)((BIT(size * 8) - 1) << (8 * (off & 3)));
		reg_write32(d, word, (old & ~mask) |
			    ((uint32_t)(val << (8 * (off & 3))) & mask));
	}
	return 0;
}

static const struct io_device_ops vgic_ops = {
	.read = vgic_read,
	.write = vgic_write,
};

int vgic_init(struct vm *vm)
{
	unsigned int cpus = vm->cfg->cpus ? vm->cfg->cpus : 1;
	struct io_device gicd = {
		.name = "gicd", .space = IO_MMIO, .base = GUEST_GICD_BASE,
		.size = GICD_SIZE, .ops = &vgic_ops, .priv = vm,
	};
	struct io_device gicr = {
		.name = "gicr", .space = IO_MMIO, .base = GUEST_GICR_BASE,
		.size = (uint64_t)VGIC_GICR_FRAME * cpus, .ops = &vgic_ops,
		.priv = vm,
	};
	int ret;

	if (arm64_board.gic_version == 2) {
		memset(&vm->arch.vgic, 0, sizeof(vm->arch.vgic));
		return vgic_v2_init(vm);
	}
	memset(&vm->arch.vgic, 0, sizeof(vm->arch.vgic));
	ret = vm_add_device(vm, &gicd);
	if (!ret) {
		ret = vm_add_device(vm, &gicr);
	}
	return ret;
}

void vgic_vcpu_init(struct vcpu *v)
{
	struct vgic_cpu *c = &v->arch.vgic;

	if (v->vm->arch.vgic.v2.on) {
		vgic_v2_vcpu_init(v);
		return;
	}
	memset(c, 0, sizeof(*c));
	/*
	 * Awake, as firmware (TF-A) leaves a real machine's redistributors
	 * before the OS runs and as KVM presents them: a guest that never
	 * writes GICR_WAKER still gets its interrupts.
	 */
	c->sleep = false;
}
