// SPDX-License-Identifier: MIT
/*
 * The virtual GICv2 (what it offers: arch/vgic_v2.h; why it is built this
 * way: docs/gicv2.md): MMIO emulation of the distributor, the guest's CPU
 * interface forwarded to this CPU's GICV frame, and the GICH list
 * registers that carry pending interrupts to that virtual CPU interface
 * before each entry.
 */
#include <arch/board.h>
#include <arch/gic_regs.h>
#include <arch/gic_v2_regs.h>
#include <arch/guest.h>
#include <arch/guest_layout.h>
#include <arch/sysreg.h>
#include <arch/vgic.h>
#include <arch/vgic_v2.h>
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define GICD_WINDOW		0x10000	/* what the guest DTB gives it */
#define GICD_IIDR_GIC400	0x0200143bU
#define PRIO_MASK		0xf8	/* five bits, as the list registers */
#define PPI_MASK		0xffff0000U

static inline uint32_t mmio_read32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static inline void mmio_write32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static uintptr_t gich(void)
{
	return (uintptr_t)arm64_board.gic_hyp;
}

/* ---- list registers -------------------------------------------------- */

/* List registers this CPU has, at most VGIC_V2_NR_LRS. */
static unsigned int nr_lrs(void)
{
	static unsigned int n;

	if (!n) {
		n = (mmio_read32(gich() + GICH_VTR) & GICH_VTR_LISTREGS) + 1;
		n = MIN(n, (unsigned int)VGIC_V2_NR_LRS);
	}
	return n;
}

static uint32_t lr_read(unsigned int i)
{
	return mmio_read32(gich() + GICH_LR0 + 4 * i);
}

static void lr_write(unsigned int i, uint32_t v)
{
	mmio_write32(gich() + GICH_LR0 + 4 * i, v);
}

/*
 * List register @i of @t as seen while @self is on the CPU: the live one
 * for @self, the saved copy for the others (Strata runs a VM's vCPUs one
 * at a time on this CPU).
 */
static uint32_t lr_get(const struct vcpu *self, const struct vcpu *t,
		       unsigned int i)
{
	return t == self ? lr_read(i) : t->arch.vgic.v2.lr[i];
}

static void lr_set(const struct vcpu *self, struct vcpu *t, unsigned int i,
		   uint32_t v)
{
	if (t == self) {
		lr_write(i, v);
	} else {
		t->arch.vgic.v2.lr[i] = v;
	}
}

void vgic_v2_load(struct vcpu *v)
{
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;

	for (unsigned int i = 0; i < nr_lrs(); i++) {
		lr_write(i, c->lr[i]);
	}
	mmio_write32(gich() + GICH_APR, c->apr);
	mmio_write32(gich() + GICH_VMCR, c->vmcr);
	mmio_write32(gich() + GICH_HCR, GICH_HCR_EN);
}

void vgic_v2_put(struct vcpu *v)
{
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;

	vgic_v2_sync(v);
	c->vmcr = mmio_read32(gich() + GICH_VMCR);
	c->apr = mmio_read32(gich() + GICH_APR);
	mmio_write32(gich() + GICH_HCR, 0);
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		c->lr[i] = lr_read(i);
		lr_write(i, 0);
	}
	mmio_write32(gich() + GICH_APR, 0);
}

void vgic_v2_vcpu_reset(struct vgic_v2_cpu *c)
{
	memset(c->lr, 0, sizeof(c->lr));
	c->lr_req = 0;
	c->apr = 0;
	c->vmcr = 0;
	c->timers_listed = 0;
}

void vgic_v2_maintenance(void)
{
	/* Underflow is the only condition asked for; flush decides again. */
	mmio_write32(gich() + GICH_HCR,
		     mmio_read32(gich() + GICH_HCR) & ~GICH_HCR_UIE);
}

/* The virtual timer's line: ENABLE, not IMASK, condition met. */
static bool vtimer_level(void)
{
	uint64_t ctl = read_sysreg(cntv_ctl_el0);

	return (ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS)) ==
	       (CNT_CTL_ENABLE | CNT_CTL_ISTATUS);
}

uint64_t vgic_v2_vtimer_deadline(struct vcpu *v)
{
	uint64_t ctl = read_sysreg(cntv_ctl_el0);
	uint64_t pt = ~0ULL;

	if (v->arch.vgic.v2.enabled & BIT(VGIC_INTID_PTIMER)) {
		pt = ptimer_deadline(v);
	}
	if (!(v->arch.vgic.v2.enabled & BIT(VGIC_INTID_VTIMER)) ||
	    (ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS)) !=
	    CNT_CTL_ENABLE) {
		return pt;
	}
	return MIN(pt, read_sysreg(cntv_cval_el0) + v->vm->arch.cntvoff);
}

static bool group_enabled(const struct vm *vm, bool group1)
{
	return vm->arch.vgic.v2.ctlr & (group1 ? BIT(1) : BIT(0));
}

/* An interrupt waiting for a list register (flush). */
struct cand {
	uint16_t key;		/* virtual ID, and an SGI's requester CPUID */
	uint8_t prio;
	bool group1;
	bool level;		/* a timer line: listed once, never queued */
};

#define NR_CANDS	(16 * VGIC_V2_MAX_CPUS + 16 + VGIC_V2_NR_SPIS)

static bool in_lr(unsigned int intid)
{
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_read(i);

		if ((lr & GICH_LR_STATE_MASK) &&
		    (lr & GICH_LR_VIRTID_MASK) == intid) {
			return true;
		}
	}
	return false;
}

/* A timer line that dropped: a listed, unacknowledged interrupt goes. */
static void lr_retire_timer(struct vgic_v2_cpu *c, unsigned int intid)
{
	if (!(c->timers_listed & BIT(intid))) {
		return;
	}
	c->timers_listed &= ~(uint32_t)BIT(intid);
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_read(i);

		if ((lr & GICH_LR_VIRTID_MASK) == intid &&
		    (lr & GICH_LR_STATE_MASK) == GICH_LR_PENDING) {
			lr_write(i, 0);
		}
	}
}

/* SPI @intid sits in a list register of another vCPU than @v. */
static bool spi_listed_elsewhere(const struct vcpu *v, unsigned int intid)
{
	const struct vm *vm = v->vm;

	for (unsigned int n = 0; n < vm->nr_vcpus; n++) {
		const struct vcpu *t = &vm->vcpus[n];

		if (t == v) {
			continue;
		}
		for (unsigned int i = 0; i < nr_lrs(); i++) {
			uint32_t lr = t->arch.vgic.v2.lr[i];

			if ((lr & GICH_LR_STATE_MASK) &&
			    (lr & GICH_LR_VIRTID_MASK) == intid) {
				return true;
			}
		}
	}
	return false;
}

static void add_cand(struct cand *c, unsigned int *n, unsigned int key,
		     uint8_t prio, bool group1, bool level)
{
	if (WARN_ON_ONCE(*n == NR_CANDS)) {
		return;
	}
	c[(*n)++] = (struct cand){
		.key = (uint16_t)key, .prio = prio, .group1 = group1,
		.level = level,
	};
}

/* Everything @v could take that waits for a list register. */
static unsigned int gather(struct vcpu *v, uint32_t levels, struct cand *cs)
{
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;
	struct vgic_v2_dist *d = &v->vm->arch.vgic.v2;
	uint32_t ppis = (c->ppi_pending | levels) & c->enabled & PPI_MASK;
	uint32_t spis = d->pending & d->enabled;
	unsigned int n = 0;

	for (unsigned int id = 0; id < 16; id++) {
		bool g1 = c->group & BIT(id);

		if (!c->sgi_src[id] || !(c->enabled & BIT(id)) ||
		    !group_enabled(v->vm, g1)) {
			continue;
		}
		for (unsigned int src = 0; src < VGIC_V2_MAX_CPUS; src++) {
			if (c->sgi_src[id] & BIT(src)) {
				add_cand(cs, &n,
					 id | src << GICH_LR_CPUID_SHIFT,
					 c->prio[id], g1, false);
			}
		}
	}
	for (unsigned int id = 16; id < 32; id++) {
		bool g1 = c->group & BIT(id);
		bool level = levels & BIT(id);

		/* A level interrupt is listed once; its LR goes at EOI. */
		if (!(ppis & BIT(id)) || !group_enabled(v->vm, g1) ||
		    (level && in_lr(id))) {
			continue;
		}
		add_cand(cs, &n, id, c->prio[id], g1, level);
	}
	/* SPIs go to the first vCPU in their ITARGETSR to enter. */
	for (unsigned int i = 0; i < VGIC_V2_NR_SPIS; i++) {
		bool g1 = d->group & BIT(i);

		if (!(spis & BIT(i)) || !(d->targets[i] & BIT(v->id)) ||
		    !group_enabled(v->vm, g1) ||
		    spi_listed_elsewhere(v, 32 + i)) {
			continue;
		}
		add_cand(cs, &n, 32 + i, d->prio[i], g1, false);
	}
	return n;
}

/* Highest priority (lowest value) first, then lowest INTID. */
static void sort_cands(struct cand *cs, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		struct cand x = cs[i];
		unsigned int j = i;

		while (j > 0 && (cs[j - 1].prio > x.prio ||
				 (cs[j - 1].prio == x.prio &&
				  cs[j - 1].key > x.key))) {
			cs[j] = cs[j - 1];
			j--;
		}
		cs[j] = x;
	}
}

/* @key is listed now: it no longer waits. */
static void taken(struct vcpu *v, const struct cand *x)
{
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;
	unsigned int id = x->key & GICH_LR_VIRTID_MASK;

	if (id < 16) {
		c->sgi_src[id] &= (uint8_t)~BIT(x->key >> GICH_LR_CPUID_SHIFT);
	} else if (id < 32) {
		c->ppi_pending &= ~(uint32_t)BIT(id);
		if (x->level) {
			c->timers_listed |= (uint32_t)BIT(id);
		}
	} else {
		v->vm->arch.vgic.v2.pending &= ~(uint32_t)BIT(id - 32);
	}
}

/* A pending-only LR given up for a higher priority: it waits again. */
static void requeue(struct vcpu *v, uint32_t lr)
{
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;
	unsigned int id = lr & GICH_LR_VIRTID_MASK;

	if (id < 16) {
		c->sgi_src[id] |= (uint8_t)BIT((lr & GICH_LR_CPUID_MASK) >>
					       GICH_LR_CPUID_SHIFT);
	} else if (id == VGIC_INTID_VTIMER || id == VGIC_INTID_PTIMER) {
		c->timers_listed &= ~(uint32_t)BIT(id);	/* level: re-read */
	} else if (id < 32) {
		c->ppi_pending |= (uint32_t)BIT(id);
	} else {
		v->vm->arch.vgic.v2.pending |= (uint32_t)BIT(id - 32);
	}
}

static uint32_t make_lr(const struct cand *x)
{
	return GICH_LR_PENDING | (x->group1 ? GICH_LR_GROUP1 : 0) |
	       ((uint32_t)(x->prio >> 3) << GICH_LR_PRIO_SHIFT) | x->key;
}

/*
 * Put @x in the live list registers: merged into an LR that holds it
 * (pending stays pending, active becomes active and pending), else in a
 * free LR, else in place of the lowest-priority LR that is only pending
 * and lower in priority than @x. False when it must wait.
 */
static bool lr_list(struct vcpu *v, const struct cand *x)
{
	int free = -1, victim = -1;
	uint32_t victim_prio = x->prio >> 3;

	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_read(i);
		uint32_t prio = (lr >> GICH_LR_PRIO_SHIFT) & 0x1f;

		if (!(lr & GICH_LR_STATE_MASK)) {
			if (free < 0) {
				free = (int)i;
			}
			continue;
		}
		if ((lr & (GICH_LR_VIRTID_MASK | GICH_LR_CPUID_MASK)) ==
		    x->key) {
			lr_write(i, lr | GICH_LR_PENDING);
			return true;
		}
		if ((lr & GICH_LR_STATE_MASK) == GICH_LR_PENDING &&
		    prio > victim_prio) {
			victim = (int)i;
			victim_prio = prio;
		}
	}
	if (free < 0 && victim >= 0) {
		requeue(v, lr_read((unsigned int)victim));
		free = victim;
	}
	if (free < 0) {
		return false;
	}
	lr_write((unsigned int)free, make_lr(x));
	return true;
}

void vgic_v2_flush(struct vcpu *v)
{
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;
	struct cand cs[NR_CANDS];
	uint32_t levels = 0, hcr = GICH_HCR_EN;
	unsigned int n;

	vgic_v2_sync(v);
	if (vtimer_level()) {
		levels |= BIT(VGIC_INTID_VTIMER);
	} else {
		lr_retire_timer(c, VGIC_INTID_VTIMER);
	}
	if (ptimer_level(v)) {
		levels |= BIT(VGIC_INTID_PTIMER);
	} else {
		lr_retire_timer(c, VGIC_INTID_PTIMER);
	}
	n = gather(v, levels, cs);
	sort_cands(cs, n);
	for (unsigned int i = 0; i < n; i++) {
		if (!lr_list(v, &cs[i])) {
			/*
			 * The rest waits; with more than one LR the
			 * maintenance interrupt (underflow) brings Strata
			 * back once the guest has ended most of what is
			 * listed.
			 */
			if (nr_lrs() > 1) {
				hcr |= GICH_HCR_UIE;
			}
			break;
		}
		taken(v, &cs[i]);
	}
	mmio_write32(gich() + GICH_HCR, hcr);
}

/* ---- distributor: pending and active state --------------------------- */

/* Bits of INTIDs @base..@base+31 that @t's list registers hold in @state. */
static uint32_t lr_bits(const struct vcpu *self, const struct vcpu *t,
			unsigned int base, uint32_t state)
{
	uint32_t bits = 0;

	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_get(self, t, i);
		unsigned int id = lr & GICH_LR_VIRTID_MASK;

		if ((lr & state) && id >= base && id < base + 32) {
			bits |= (uint32_t)BIT(id - base);
		}
	}
	return bits;
}

/* The same over every vCPU (SPIs). */
static uint32_t lr_bits_all(const struct vcpu *self, unsigned int base,
			    uint32_t state)
{
	const struct vm *vm = self->vm;
	uint32_t bits = 0;

	for (unsigned int n = 0; n < vm->nr_vcpus; n++) {
		bits |= lr_bits(self, &vm->vcpus[n], base, state);
	}
	return bits;
}

/*
 * Clear @state from the list registers of @t that hold an INTID of @mask
 * (bit n: INTID @base + n); an LR left with no state is free again.
 */
static void lr_clear(const struct vcpu *self, struct vcpu *t,
		     unsigned int base, uint32_t mask, uint32_t state)
{
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_get(self, t, i);
		unsigned int id = lr & GICH_LR_VIRTID_MASK;

		if ((lr & state) && id >= base && id < base + 32 &&
		    (mask & BIT(id - base))) {
			lr &= ~state;
			lr_set(self, t, i,
			       (lr & GICH_LR_STATE_MASK) ? lr : 0);
		}
	}
}

/*
 * ---- SPI list register changes for vCPUs on other CPUs ----
 * A vCPU in its slice on another CPU has its list registers live in that
 * CPU's GICH; its saved copy is overwritten by its vgic_v2_put(). So a
 * change another vCPU's distributor write makes to them is left to it as
 * a request (@lr_req), which it applies before it next reads or saves them:
 * after its exit, at its entry preparation and at its put. Several
 * requests for one SPI compose: each is a map of the LR's state (bit 0
 * pending, bit 1 active), kept per SPI as four 2-bit outputs.
 */
#define LR_FN_ID	0xe4	/* 3 -> 3, 2 -> 2, 1 -> 1, 0 -> 0 */

enum lr_op { LR_CLEAR_PENDING, LR_CLEAR_ACTIVE, LR_SET_ACTIVE };

static unsigned int lr_op_apply(enum lr_op op, unsigned int st)
{
	switch (op) {
	case LR_CLEAR_PENDING:
		return st & ~1u;
	case LR_CLEAR_ACTIVE:
		return st & ~2u;
	case LR_SET_ACTIVE:
		return (st & 1) ? st | 2 : st;	/* only a pending one */
	}
	return st;
}

static unsigned int lr_fn_apply(uint8_t fn, unsigned int st)
{
	return (fn >> (2 * st)) & 3;
}

/* @op after @fn. */
static uint8_t lr_fn_then(uint8_t fn, enum lr_op op)
{
	uint8_t out = 0;

	for (unsigned int st = 0; st < 4; st++) {
		out |= lr_op_apply(op, lr_fn_apply(fn, st)) << (2 * st);
	}
	return out;
}

/* Apply @fn[n] to @t's LRs holding SPI 32 + n, for each n of @mask. */
static void lr_apply_spis(const struct vcpu *self, struct vcpu *t,
			  uint32_t mask, const uint8_t *fn)
{
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_get(self, t, i);
		unsigned int id = lr & GICH_LR_VIRTID_MASK;
		unsigned int st = (lr & GICH_LR_STATE_MASK) >> 28;

		if (!st || id < 32 || id >= 64 || !(mask & BIT(id - 32))) {
			continue;
		}
		st = lr_fn_apply(fn[id - 32], st);
		lr = (lr & ~GICH_LR_STATE_MASK) | (st << 28);
		lr_set(self, t, i, st ? lr : 0);
	}
}

/* @op on the LRs of every vCPU of the VM holding an SPI of @mask. */
static void lr_op_all(struct vcpu *self, uint32_t mask, enum lr_op op)
{
	struct vm *vm = self->vm;
	uint8_t fn[32];

	for (unsigned int n = 0; n < 32; n++) {
		fn[n] = lr_fn_then(LR_FN_ID, op);
	}
	for (unsigned int n = 0; n < vm->nr_vcpus; n++) {
		struct vcpu *t = &vm->vcpus[n];
		struct vgic_v2_cpu *c = &t->arch.vgic.v2;

		if (t == self || !t->on_cpu) {
			lr_apply_spis(self, t, mask, fn);
			continue;
		}
		for (unsigned int b = 0; b < 32; b++) {
			if (!(mask & BIT(b))) {
				continue;
			}
			if (!(c->lr_req & BIT(b))) {
				c->lr_req_fn[b] = LR_FN_ID;
			}
			c->lr_req_fn[b] = lr_fn_then(c->lr_req_fn[b], op);
		}
		c->lr_req |= mask;
		vcpu_kick(t);
	}
}

void vgic_v2_sync(struct vcpu *v)
{
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;
	uint32_t mask = c->lr_req;

	if (mask) {
		c->lr_req = 0;
		lr_apply_spis(v, v, mask, c->lr_req_fn);
	}
}

/* ISACTIVER0: an interrupt listed pending becomes active and pending. */
static void lr_set_active(struct vcpu *self, uint32_t mask)
{
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_read(i);
		unsigned int id = lr & GICH_LR_VIRTID_MASK;

		if ((lr & GICH_LR_PENDING) && id < 32 && (mask & BIT(id))) {
			lr_set(self, self, i, lr | GICH_LR_ACTIVE);
		}
	}
}

/*
 * With @v loaded: an interrupt that would end a WFI (docs/smp.md): a
 * pending list register, an SGI, PPI or timer line, or an SPI that
 * targets it, enabled. Masks and priorities are not looked at: a WFI
 * that ends early is allowed.
 */
bool vgic_v2_wakeup_pending(struct vcpu *v)
{
	const struct vgic_v2_cpu *c = &v->arch.vgic.v2;
	const struct vgic_v2_dist *d = &v->vm->arch.vgic.v2;
	uint32_t ppis = c->ppi_pending;
	uint32_t spis = d->pending & d->enabled;

	for (unsigned int i = 0; i < nr_lrs(); i++) {
		if (lr_read(i) & GICH_LR_PENDING) {
			return true;
		}
	}
	for (unsigned int id = 0; id < 16; id++) {
		if (c->sgi_src[id] && (c->enabled & BIT(id))) {
			return true;
		}
	}
	if (vtimer_level()) {
		ppis |= BIT(VGIC_INTID_VTIMER);
	}
	if (ptimer_level(v)) {
		ppis |= BIT(VGIC_INTID_PTIMER);
	}
	if (ppis & c->enabled & PPI_MASK) {
		return true;
	}
	for (unsigned int i = 0; i < VGIC_V2_NR_SPIS; i++) {
		if ((spis & BIT(i)) && (d->targets[i] & BIT(v->id))) {
			return true;
		}
	}
	return false;
}

/* GICD_ISPENDR0 of @v: waiting, listed pending, timer levels. */
static uint32_t pending0(struct vcpu *v)
{
	const struct vgic_v2_cpu *c = &v->arch.vgic.v2;
	uint32_t p = c->ppi_pending | lr_bits(v, v, 0, GICH_LR_PENDING);

	for (unsigned int id = 0; id < 16; id++) {
		if (c->sgi_src[id]) {
			p |= (uint32_t)BIT(id);
		}
	}
	/* The timers are level-sensitive: pending exactly while asserted. */
	p &= ~(uint32_t)(BIT(VGIC_INTID_VTIMER) | BIT(VGIC_INTID_PTIMER));
	if (vtimer_level()) {
		p |= BIT(VGIC_INTID_VTIMER);
	}
	if (ptimer_level(v)) {
		p |= BIT(VGIC_INTID_PTIMER);
	}
	return p;
}

/* GICD_SPENDSGIR byte of SGI @id: the requesters waiting or listed. */
static uint8_t sgi_sources(struct vcpu *v, unsigned int id)
{
	uint8_t src = v->arch.vgic.v2.sgi_src[id];

	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_read(i);

		if ((lr & GICH_LR_PENDING) &&
		    (lr & GICH_LR_VIRTID_MASK) == id) {
			src |= (uint8_t)BIT((lr & GICH_LR_CPUID_MASK) >>
					    GICH_LR_CPUID_SHIFT);
		}
	}
	return src;
}

/* GICD_CPENDSGIR: the requests of @src for SGI @id go, listed or not. */
static void sgi_unpend(struct vcpu *v, unsigned int id, uint8_t src)
{
	v->arch.vgic.v2.sgi_src[id] &= (uint8_t)~src;
	for (unsigned int i = 0; i < nr_lrs(); i++) {
		uint32_t lr = lr_read(i);
		unsigned int cpu = (lr & GICH_LR_CPUID_MASK) >>
				   GICH_LR_CPUID_SHIFT;

		if ((lr & GICH_LR_PENDING) &&
		    (lr & GICH_LR_VIRTID_MASK) == id && (src & BIT(cpu))) {
			lr &= ~GICH_LR_PENDING;
			lr_write(i, (lr & GICH_LR_STATE_MASK) ? lr : 0);
		}
	}
}

/* GICD_SGIR: SGI to the target list, all but the sender, or itself. */
static void send_sgi(struct vcpu *v, uint32_t val)
{
	struct vm *vm = v->vm;
	unsigned int id = val & 0xf;
	unsigned int filter = (val >> GICD_SGIR_FILTER_SHIFT) & 3;
	uint32_t targets = (val >> GICD_SGIR_TARGETS_SHIFT) & 0xff;

	switch (filter) {
	case 0:
		break;
	case 1:
		targets = 0xff & ~(uint32_t)BIT(v->id);
		break;
	case 2:
		targets = BIT(v->id);
		break;
	default:
		return;		/* reserved: no SGI */
	}
	for (unsigned int n = 0; n < vm->nr_vcpus; n++) {
		if (targets & BIT(n)) {
			vm->vcpus[n].arch.vgic.v2.sgi_src[id] |=
				(uint8_t)BIT(v->id);
			if (n != v->id) {
				vcpu_kick(&vm->vcpus[n]);	/* docs/smp.md */
			}
		}
	}
}

/* ---- distributor: registers ------------------------------------------ */

static uint32_t bytes_read(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static uint32_t cpu_mask(const struct vm *vm)
{
	return (uint32_t)BIT(vm->nr_vcpus) - 1;
}

static uint32_t gicd_read32(struct vcpu *v, uint64_t off)
{
	struct vm *vm = v->vm;
	struct vgic_v2_dist *d = &vm->arch.vgic.v2;
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;

	switch (off) {
	case GICD_CTLR:
		return d->ctlr;
	case GICD_TYPER:
		/* 64 INTIDs, the vCPUs as CPU interfaces, no security. */
		return ((vm->nr_vcpus - 1) << 5) | 1;
	case GICD_IIDR:
		return GICD_IIDR_GIC400;
	case GICD_IGROUPR:
		return c->group;
	case GICD_IGROUPR + 4:
		return d->group;
	case GICD_ISENABLER:
	case GICD_ICENABLER:
		return c->enabled;
	case GICD_ISENABLER + 4:
	case GICD_ICENABLER + 4:
		return d->enabled;
	case GICD_ISPENDR:
	case GICD_ICPENDR:
		return pending0(v);
	case GICD_ISPENDR + 4:
	case GICD_ICPENDR + 4:
		return d->pending | lr_bits_all(v, 32, GICH_LR_PENDING);
	case GICD_ISACTIVER:
	case GICD_ICACTIVER:
		return lr_bits(v, v, 0, GICH_LR_ACTIVE);
	case GICD_ISACTIVER + 4:
	case GICD_ICACTIVER + 4:
		return lr_bits_all(v, 32, GICH_LR_ACTIVE);
	case GICD_ICFGR:
		return 0xaaaaaaaa;	/* SGIs are edge-triggered */
	case GICD_ICFGR + 4:
		return c->icfgr1;
	case GICD_ICFGR + 8:
	case GICD_ICFGR + 12:
		return d->icfgr[(off - GICD_ICFGR - 8) / 4];
	case GICx_PIDR2:
	case GICD_V2_SIZE - 0x18:	/* PIDR2 of the 4 KiB frame */
		return GIC_PIDR2_V2;
	}
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 32) {
		return bytes_read(&c->prio[off - GICD_IPRIORITYR]);
	}
	if (off >= GICD_IPRIORITYR + 32 && off < GICD_IPRIORITYR + 64) {
		return bytes_read(&d->prio[off - GICD_IPRIORITYR - 32]);
	}
	if (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 32) {
		/* SGIs and PPIs: the reading CPU's own bit. */
		return 0x01010101U * (uint32_t)BIT(v->id);
	}
	if (off >= GICD_ITARGETSR + 32 && off < GICD_ITARGETSR + 64) {
		return bytes_read(&d->targets[off - GICD_ITARGETSR - 32]);
	}
	if (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 16) {
		unsigned int id = (unsigned int)(off & 0xf);

		return (uint32_t)sgi_sources(v, id) |
		       (uint32_t)sgi_sources(v, id + 1) << 8 |
		       (uint32_t)sgi_sources(v, id + 2) << 16 |
		       (uint32_t)sgi_sources(v, id + 3) << 24;
	}
	return 0;	/* RAZ: SPIs beyond 63, reserved, ID registers */
}

/*
 * A distributor write by @v that may have made SPIs in @bits deliverable:
 * every other vCPU their ITARGETSR names looks at once (it may run on
 * another CPU or wait in WFI) instead of at its next entry.
 */
static void kick_spi_targets(struct vcpu *v, uint32_t bits)
{
	const struct vgic_v2_dist *d = &v->vm->arch.vgic.v2;
	uint32_t cpus = 0;

	for (unsigned int i = 0; i < VGIC_V2_NR_SPIS; i++) {
		if (bits & BIT(i)) {
			cpus |= d->targets[i];
		}
	}
	for (unsigned int n = 0; n < v->vm->nr_vcpus; n++) {
		if ((cpus & BIT(n)) && n != v->id) {
			vcpu_kick(&v->vm->vcpus[n]);
		}
	}
}

static void gicd_write32(struct vcpu *v, uint64_t off, uint32_t val)
{
	struct vgic_v2_dist *d = &v->vm->arch.vgic.v2;
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;

	switch (off) {
	case GICD_CTLR:
		if (val & ~d->ctlr & GICD_CTLR_EN_MASK) {
			vm_kick_all(v->vm, v);	/* a group turned on */
		}
		d->ctlr = val & GICD_CTLR_EN_MASK;
		return;
	case GICD_IGROUPR:
		c->group = val;
		return;
	case GICD_IGROUPR + 4:
		d->group = val;
		return;
	case GICD_ISENABLER:
		c->enabled |= val;
		return;
	case GICD_ICENABLER:
		c->enabled &= ~val;
		return;
	case GICD_ISENABLER + 4:
		d->enabled |= val;
		kick_spi_targets(v, val & d->pending);
		return;
	case GICD_ICENABLER + 4:
		d->enabled &= ~val;
		return;
	case GICD_ISPENDR:
		c->ppi_pending |= val & PPI_MASK;	/* SGIs: SPENDSGIR */
		return;
	case GICD_ICPENDR:
		c->ppi_pending &= ~(val & PPI_MASK);
		lr_clear(v, v, 0, val & PPI_MASK, GICH_LR_PENDING);
		return;
	case GICD_ISPENDR + 4:
		d->pending |= val;
		kick_spi_targets(v, val & d->enabled);
		return;
	case GICD_ICPENDR + 4:
		d->pending &= ~val;
		lr_op_all(v, val, LR_CLEAR_PENDING);
		return;
	case GICD_ISACTIVER:
		lr_set_active(v, val);
		return;
	case GICD_ISACTIVER + 4:
		lr_op_all(v, val, LR_SET_ACTIVE);
		return;
	case GICD_ICACTIVER:
		lr_clear(v, v, 0, val, GICH_LR_ACTIVE);
		return;
	case GICD_ICACTIVER + 4:
		lr_op_all(v, val, LR_CLEAR_ACTIVE);
		return;
	case GICD_ICFGR + 4:
		c->icfgr1 = val & 0xaaaaaaaa;
		return;
	case GICD_ICFGR + 8:
	case GICD_ICFGR + 12:
		d->icfgr[(off - GICD_ICFGR - 8) / 4] = val & 0xaaaaaaaa;
		return;
	case GICD_SGIR:
		send_sgi(v, val);
		return;
	}
}

/* The byte-accessible registers: priorities, targets, SGI pending. */
static bool byte_reg(uint64_t off)
{
	return (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 64) ||
	       (off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 64) ||
	       (off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 16);
}

static void gicd_write8(struct vcpu *v, uint64_t off, uint8_t val)
{
	struct vgic_v2_dist *d = &v->vm->arch.vgic.v2;
	struct vgic_v2_cpu *c = &v->arch.vgic.v2;

	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 32) {
		c->prio[off - GICD_IPRIORITYR] = val & PRIO_MASK;
	} else if (off >= GICD_IPRIORITYR + 32 && off < GICD_IPRIORITYR + 64) {
		d->prio[off - GICD_IPRIORITYR - 32] = val & PRIO_MASK;
	} else if (off >= GICD_ITARGETSR + 32 && off < GICD_ITARGETSR + 64) {
		unsigned int i = (unsigned int)(off - GICD_ITARGETSR - 32);

		d->targets[i] = (uint8_t)(val & cpu_mask(v->vm));
		kick_spi_targets(v, (uint32_t)BIT(i) & d->enabled &
				    d->pending);
	} else if (off >= GICD_SPENDSGIR && off < GICD_SPENDSGIR + 16) {
		c->sgi_src[off - GICD_SPENDSGIR] |=
			(uint8_t)(val & cpu_mask(v->vm));
	} else if (off >= GICD_CPENDSGIR && off < GICD_CPENDSGIR + 16) {
		sgi_unpend(v, (unsigned int)(off - GICD_CPENDSGIR), val);
	}
	/* ITARGETSR0-7 (SGIs, PPIs) are read-only. */
}

static int gicd_read(struct vcpu *v, struct io_device *dev, uint64_t off,
		     unsigned int size, uint64_t *val)
{
	(void)dev;
	if (off & (size - 1) || size == 8 ||
	    (size != 4 && !byte_reg(off))) {
		return -1;	/* misaligned or too wide: refused */
	}
	*val = gicd_read32(v, off & ~3ULL) >> (8 * (off & 3));
	if (size < 4) {
		*val &= BIT(8 * size) - 1;
	}
	return 0;
}

static int gicd_write(struct vcpu *v, struct io_device *dev, uint64_t off,
		      unsigned int size, uint64_t val)
{
	(void)dev;
	if (off & (size - 1) || size == 8 ||
	    (size != 4 && !byte_reg(off))) {
		return -1;
	}
	if (byte_reg(off)) {
		for (unsigned int i = 0; i < size; i++) {
			gicd_write8(v, off + i, (uint8_t)(val >> (8 * i)));
		}
	} else {
		gicd_write32(v, off, (uint32_t)val);
	}
	return 0;
}

static const struct io_device_ops gicd_ops = {
	.read = gicd_read,
	.write = gicd_write,
};

/* ---- the guest's CPU interface: this CPU's GICV frame ---------------- */

static int gicc_read(struct vcpu *v, struct io_device *dev, uint64_t off,
		     unsigned int size, uint64_t *val)
{
	(void)v;
	(void)dev;
	if (size != 4 || (off & 3)) {
		return -1;	/* GICC registers are 32-bit only */
	}
	*val = mmio_read32((uintptr_t)arm64_board.gic_vcpu + off);
	return 0;
}

static int gicc_write(struct vcpu *v, struct io_device *dev, uint64_t off,
		      unsigned int size, uint64_t val)
{
	(void)v;
	(void)dev;
	if (size != 4 || (off & 3)) {
		return -1;
	}
	mmio_write32((uintptr_t)arm64_board.gic_vcpu + off, (uint32_t)val);
	return 0;
}

static const struct io_device_ops gicc_ops = {
	.read = gicc_read,
	.write = gicc_write,
};

int vgic_v2_init(struct vm *vm)
{
	unsigned int cpus = vm->cfg->cpus ? vm->cfg->cpus : 1;
	struct io_device gicd = {
		.name = "gicd", .space = IO_MMIO, .base = GUEST_GICD_BASE,
		.size = GICD_WINDOW, .ops = &gicd_ops, .priv = vm,
	};
	struct io_device gicc = {
		.name = "gicc", .space = IO_MMIO, .base = GUEST_GICC_BASE,
		.size = GICC_SIZE, .ops = &gicc_ops, .priv = vm,
	};
	int ret;

	if (cpus > VGIC_V2_MAX_CPUS) {
		pr_err("vm %s: %u vCPUs, but a GICv2 has %u CPU interfaces\n",
		       vm->name, cpus, VGIC_V2_MAX_CPUS);
		return -EINVAL;
	}
	memset(&vm->arch.vgic.v2, 0, sizeof(vm->arch.vgic.v2));
	vm->arch.vgic.v2.on = true;
	ret = vm_add_device(vm, &gicd);
	if (!ret) {
		ret = vm_add_device(vm, &gicc);
	}
	return ret;
}

void vgic_v2_vcpu_init(struct vcpu *v)
{
	memset(&v->arch.vgic.v2, 0, sizeof(v->arch.vgic.v2));
}
