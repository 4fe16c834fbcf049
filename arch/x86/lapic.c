// SPDX-License-Identifier: MIT
/*
 * The local APIC of each vCPU, emulated in software as the SDM (vol. 3A,
 * chapter 11 "Advanced Programmable Interrupt Controller") describes it:
 * one register file served through two front ends, the xAPIC MMIO page at
 * the APIC base (reached through the EPT MMIO path, vmx_mmio.c) and the
 * x2APIC MSRs (vmx_exit.c). IPIs are delivered at once to the target's
 * IRR (every vCPU runs on this CPU, so there is nothing to kick); INIT and
 * SIPI change the target's run state and leave its register reset for its
 * next entry (vmx_run.c), since only the running vCPU's VMCS is loaded.
 * The timer counts the guest's TSC (one APIC clock per TSC cycle before
 * the divider). Design and limits: docs/x86-lapic.md.
 */
#include <arch/cpu.h>
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <arch/vmx_run.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define APIC_BASE_BSP		BIT(8)
#define APIC_BASE_EXTD		BIT(10)
#define APIC_BASE_EN		BIT(11)

/* Version 0x14 (integrated APIC), max LVT entry 5, no EOI suppression. */
#define LAPIC_VERSION		0x00050014

/* Register indices: xAPIC offset / 16, x2APIC MSR - 0x800. */
#define REG_ID			0x02
#define REG_VER			0x03
#define REG_TPR			0x08
#define REG_APR			0x09
#define REG_PPR			0x0a
#define REG_EOI			0x0b
#define REG_RRD			0x0c
#define REG_LDR			0x0d
#define REG_DFR			0x0e
#define REG_SVR			0x0f
#define REG_ISR			0x10
#define REG_TMR			0x18
#define REG_IRR			0x20
#define REG_ESR			0x28
#define REG_ICR			0x30
#define REG_ICR_HI		0x31
#define REG_LVT			0x32	/* timer; the others follow */
#define REG_TIMER_ICR		0x38
#define REG_TIMER_CCR		0x39
#define REG_TIMER_DCR		0x3e
#define REG_SELF_IPI		0x3f

#define SVR_ENABLE		BIT(8)
#define LVT_MASKED		BIT(16)
#define LVT_TIMER_MODE(l)	(((l) >> 17) & 3)
#define TIMER_ONESHOT		0
#define TIMER_PERIODIC		1
#define TIMER_DEADLINE		2

#define ESR_SEND_ILLEGAL	BIT(5)
#define ESR_RECV_ILLEGAL	BIT(6)
#define ESR_ILLEGAL_REG		BIT(7)

#define ICR_VECTOR(l)		((l) & 0xff)
#define ICR_MODE(l)		(((l) >> 8) & 7)
#define ICR_LOGICAL		BIT(11)
#define ICR_LEVEL_ASSERT	BIT(14)
#define ICR_TRIGGER_LEVEL	BIT(15)
#define ICR_SHORTHAND(l)	(((l) >> 18) & 3)
#define ICR_LO_BITS		0x000ccfffU

enum { DM_FIXED, DM_LOWEST, DM_SMI, DM_REMOTE, DM_NMI, DM_INIT, DM_SIPI,
       DM_EXTINT };
enum { SH_NONE, SH_SELF, SH_ALL, SH_OTHERS };

/* Writable bits of each LVT entry (timer, thermal, perf, LINT0/1, error). */
static const uint32_t lvt_bits[LAPIC_LVT_NR] = {
	0x000700ff, 0x000107ff, 0x000107ff, 0x0001a7ff, 0x0001a7ff, 0x000100ff,
};

static struct lapic *apic(struct vcpu *v)
{
	return &v->arch.lapic;
}

bool lapic_enabled(const struct vcpu *v)
{
	return v->arch.lapic.base & APIC_BASE_EN;
}

bool lapic_x2apic_mode(const struct vcpu *v)
{
	return (v->arch.lapic.base & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
	       (APIC_BASE_EN | APIC_BASE_EXTD);
}

static bool sw_enabled(const struct lapic *a)
{
	return a->svr & SVR_ENABLE;
}

static void set_vec(uint32_t *bits, unsigned int vec)
{
	bits[vec / 32] |= 1U << (vec % 32);
}

static void clear_vec(uint32_t *bits, unsigned int vec)
{
	bits[vec / 32] &= ~(1U << (vec % 32));
}

/* The highest vector set in @bits, or -1. */
static int highest_vec(const uint32_t *bits)
{
	for (int i = 7; i >= 0; i--) {
		if (bits[i]) {
			return i * 32 + 31 - __builtin_clz(bits[i]);
		}
	}
	return -1;
}

static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1U << (id & 0xf));
}

static uint32_t ppr(const struct lapic *a)
{
	int isrv = highest_vec(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

/* Reset state of the register file (power-on, INIT, global disable). */
static void reset_registers(struct vcpu *v)
{
	struct lapic *a = apic(v);
	uint64_t base = a->base;

	memset(a, 0, sizeof(*a));
	a->base = base;
	a->id = v->id;
	a->dfr = 0xffffffff;
	a->svr = 0xff;
	for (unsigned int i = 0; i < LAPIC_LVT_NR; i++) {
		a->lvt[i] = LVT_MASKED;
	}
	if (lapic_x2apic_mode(v)) {
		a->ldr = x2apic_ldr(a->id);
	}
}

void lapic_power_on(struct vcpu *v)
{
	v->arch.lapic.base = LAPIC_DEFAULT_BASE | APIC_BASE_EN |
			     (v->id == 0 ? APIC_BASE_BSP : 0);
	reset_registers(v);
}

/* ---- Accepting interrupts --------------------------------------------- */

static void accept_fixed(struct vcpu *t, unsigned int vec, bool level);

/* Record error @bit and signal it through LVT error when unmasked. */
static void set_error(struct vcpu *v, uint32_t bit)
{
	struct lapic *a = apic(v);
	uint32_t lvt = a->lvt[LAPIC_LVT_ERROR];

	a->esr_pending |= bit;
	if (!(lvt & LVT_MASKED)) {
		if ((lvt & 0xff) < 16) {
			a->esr_pending |= ESR_RECV_ILLEGAL;
		} else {
			accept_fixed(v, lvt & 0xff, false);
		}
	}
}

static void accept_fixed(struct vcpu *t, unsigned int vec, bool level)
{
	struct lapic *a = apic(t);

	if (!lapic_enabled(t)) {
		return;
	}
	if (vec < 16) {
		set_error(t, ESR_RECV_ILLEGAL);
		return;
	}
	/* A software-disabled APIC discards fixed interrupts. */
	if (!sw_enabled(a)) {
		return;
	}
	set_vec(a->irr, vec);
	if (level) {
		set_vec(a->tmr, vec);
	} else {
		clear_vec(a->tmr, vec);
	}
}

/*
 * INIT: the APIC resets (ID and IA32_APIC_BASE kept); an AP waits for a
 * SIPI, the BSP restarts at the reset vector (F000:FFF0).
 */
static void deliver_init(struct vcpu *t)
{
	uint32_t id = apic(t)->id;

	if (t->state == VCPU_STOPPED) {
		return;
	}
	reset_registers(t);
	apic(t)->id = id;
	t->arch.extint_msg = false;	/* INIT drops a message not taken */
	if (apic(t)->base & APIC_BASE_BSP) {
		t->arch.reset = (struct x86_reset){ true, 0xf000, 0xffff0000,
						    0xfff0 };
		t->arch.mp = X86_MP_RUNNING;
		t->state = VCPU_RUNNABLE;
	} else {
		t->arch.reset.pending = false;
		t->arch.mp = X86_MP_WAIT_SIPI;
		t->state = VCPU_OFF;
	}
}

/* SIPI: a vCPU waiting for one starts in real mode at VV00:0000. */
static void deliver_sipi(struct vcpu *t, unsigned int vec)
{
	if (t->arch.mp != X86_MP_WAIT_SIPI || t->state == VCPU_STOPPED) {
		return;
	}
	t->arch.reset = (struct x86_reset){ true, (uint16_t)(vec << 8),
					    vec << 12, 0 };
	t->arch.mp = X86_MP_RUNNING;
	t->state = VCPU_RUNNABLE;
	/*
	 * The evidence the boot tests read that an AP was started so; once
	 * per vCPU, so that a guest looping INIT-SIPI cannot flood the
	 * console (held by every CPU that prints).
	 */
	if (!t->arch.sipi_told) {
		t->arch.sipi_told = true;
		pr_info("vm %s: vCPU %u started by SIPI at %04x:0000 "
			"(real mode)\n", t->vm->name, t->id, vec << 8);
	}
}

static void deliver(struct vcpu *t, unsigned int mode, unsigned int vec,
		    bool level)
{
	if (!lapic_enabled(t)) {
		return;
	}
	switch (mode) {
	case DM_FIXED:
	case DM_LOWEST:
		accept_fixed(t, vec, level);
		break;
	case DM_NMI:
		t->arch.nmi_pending = true;
		break;
	case DM_INIT:
		deliver_init(t);
		break;
	case DM_SIPI:
		deliver_sipi(t, vec);
		break;
	case DM_EXTINT:
		/*
		 * An IOAPIC ExtINT message: take the 8259's vector at INTA,
		 * while the PIC's INTR stays up (x86_pic_intr_dropped()).
		 */
		t->arch.extint_msg = x86_pic_intr(t->vm);
		break;
	default:
		/* SMI, remote read: no SMM, no remote read on this APIC. */
		return;
	}
	/*
	 * Out of its HLT wait or its guest on another CPU, so that it takes
	 * the interrupt now rather than at its next exit (docs/smp.md).
	 */
	vcpu_kick(t);
}

/* Does @t's APIC accept a message for @dest (physical or logical)? */
static bool dest_matches(bool x2, const struct vcpu *t, bool logical,
			 uint32_t dest)
{
	const struct lapic *ta = &t->arch.lapic;

	if (x2) {
		if (dest == 0xffffffff) {
			return true;
		}
		if (!logical) {
			return dest == ta->id;
		}
		return (dest >> 16) == (ta->ldr >> 16) &&
		       (dest & ta->ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff) {
		return true;
	}
	if (!logical) {
		return dest == (ta->id & 0xff);
	}
	if ((ta->dfr >> 28) == 0xf) {		/* flat model */
		return dest & (ta->ldr >> 24);
	}
	/* Cluster model: cluster in bits 7:4, member mask in 3:0. */
	return (dest >> 4) == (ta->ldr >> 28) &&
	       (dest & (ta->ldr >> 24) & 0xf);
}

/* The ICR was written: send the IPI it describes. */
static void send_ipi(struct vcpu *s, uint32_t lo, uint32_t dest)
{
	unsigned int vec = ICR_VECTOR(lo), mode = ICR_MODE(lo);
	unsigned int sh = ICR_SHORTHAND(lo);
	bool level = lo & ICR_TRIGGER_LEVEL;
	struct vm *vm = s->vm;

	/* INIT level de-assert: no effect on this APIC generation. */
	if (mode == DM_INIT && level && !(lo & ICR_LEVEL_ASSERT)) {
		return;
	}
	if ((mode == DM_FIXED || mode == DM_LOWEST) && vec < 16) {
		set_error(s, ESR_SEND_ILLEGAL);
		return;
	}
	/* ExtINT is not a mode the ICR can send (SDM, ICR delivery mode). */
	if (mode == DM_EXTINT) {
		return;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = &vm->vcpus[i];
		bool hit;

		switch (sh) {
		case SH_SELF:
			hit = t == s;
			break;
		case SH_ALL:
			hit = true;
			break;
		case SH_OTHERS:
			hit = t != s;
			break;
		default:
			hit = dest_matches(lapic_x2apic_mode(s), t,
					   lo & ICR_LOGICAL, dest);
			break;
		}
		if (!hit) {
			continue;
		}
		deliver(t, mode, vec, level);
		/* Lowest priority: one target (the lowest-numbered one). */
		if (mode == DM_LOWEST) {
			break;
		}
	}
}

int lapic_irq_message(struct vm *vm, uint32_t dest, bool logical,
		      unsigned int mode, unsigned int vec, bool level)
{
	int n = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = &vm->vcpus[i];
		const struct lapic *ta = &t->arch.lapic;
		bool took;

		if (!lapic_enabled(t) ||
		    !dest_matches(lapic_x2apic_mode(t), t, logical,
				  lapic_x2apic_mode(t) && dest == 0xff ?
				  0xffffffff : dest)) {
			continue;
		}
		took = mode != DM_FIXED && mode != DM_LOWEST;
		if (!took) {
			took = vec >= 16 && sw_enabled(ta);
		}
		deliver(t, mode, vec, level);
		n += took;
		/*
		 * Lowest priority: one target (the lowest-numbered one); an
		 * illegal vector is refused, with its error, by that one only.
		 */
		if (mode == DM_LOWEST && (took || vec < 16)) {
			break;
		}
	}
	return n;
}

bool lapic_lint0_extint(const struct vcpu *v)
{
	uint32_t lvt = v->arch.lapic.lvt[LAPIC_LVT_LINT0];

	if (!lapic_enabled(v)) {
		return true;	/* LINT0 is the INTR pin */
	}
	return !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == DM_EXTINT;
}

/* ---- The timer --------------------------------------------------------- */

static unsigned int timer_shift(const struct lapic *a)
{
	return (((a->timer_dcr & 3) | ((a->timer_dcr >> 1) & 4)) + 1) & 7;
}

static uint64_t timer_period(const struct lapic *a)
{
	return (uint64_t)a->timer_icr << timer_shift(a);
}

static unsigned int timer_mode(const struct lapic *a)
{
	return LVT_TIMER_MODE(a->lvt[LAPIC_LVT_TIMER]);
}

static void timer_fire(struct vcpu *v)
{
	uint32_t lvt = apic(v)->lvt[LAPIC_LVT_TIMER];

	if (!(lvt & LVT_MASKED)) {
		accept_fixed(v, lvt & 0xff, false);
	}
}

void lapic_update_timer(struct vcpu *v)
{
	struct lapic *a = apic(v);
	uint64_t now;

	if (!a->timer_expiry && !a->tsc_deadline) {
		return;
	}
	now = vmx_guest_tsc(v);
	if (timer_mode(a) == TIMER_DEADLINE) {
		if (a->tsc_deadline && now >= a->tsc_deadline) {
			a->tsc_deadline = 0;
			timer_fire(v);
		}
		return;
	}
	if (!a->timer_expiry || (int64_t)(now - a->timer_expiry) < 0) {
		return;
	}
	timer_fire(v);
	if (timer_mode(a) == TIMER_PERIODIC && timer_period(a)) {
		uint64_t p = timer_period(a);
		uint64_t n = (now - a->timer_start) / p;

		/* Periods missed while descheduled coalesce in the IRR. */
		a->timer_start += n * p;
		a->timer_expiry = a->timer_start + p;
	} else {
		a->timer_expiry = 0;
	}
}

uint64_t lapic_next_expiry(const struct vcpu *v)
{
	const struct lapic *a = &v->arch.lapic;
	uint32_t lvt = a->lvt[LAPIC_LVT_TIMER];
	unsigned int vec = lvt & 0xff;

	/*
	 * Masked, or its vector still pending: another expiry would change
	 * nothing (it coalesces in the IRR), so nobody needs to wake for it.
	 */
	if (!lapic_enabled(v) || (lvt & LVT_MASKED) ||
	    (a->irr[vec / 32] & (1U << (vec % 32)))) {
		return 0;
	}
	return timer_mode(a) == TIMER_DEADLINE ? a->tsc_deadline :
						 a->timer_expiry;
}

static uint32_t timer_current(struct vcpu *v)
{
	struct lapic *a = apic(v);
	uint64_t now, left;

	lapic_update_timer(v);
	if (timer_mode(a) == TIMER_DEADLINE || !a->timer_expiry) {
		return 0;
	}
	now = vmx_guest_tsc(v);
	left = (int64_t)(a->timer_expiry - now) > 0 ? a->timer_expiry - now : 0;
	return (uint32_t)MIN(left >> timer_shift(a), (uint64_t)a->timer_icr);
}

static void timer_start(struct vcpu *v, uint32_t count)
{
	struct lapic *a = apic(v);

	if (timer_mode(a) == TIMER_DEADLINE) {
		return;		/* the initial count is not used */
	}
	a->timer_icr = count;
	a->timer_start = vmx_guest_tsc(v);
	a->timer_expiry = count ? a->timer_start + timer_period(a) : 0;
	if (count && !a->timer_expiry) {
		a->timer_expiry = 1;
	}
}

static void write_lvt(struct vcpu *v, unsigned int i, uint32_t val)
{
	struct lapic *a = apic(v);

	val &= lvt_bits[i];
	if (i == LAPIC_LVT_TIMER && LVT_TIMER_MODE(val) == 3) {
		val &= ~(3U << 17);	/* reserved mode: one-shot */
	}
	if (!sw_enabled(a)) {
		val |= LVT_MASKED;
	}
	/* A write that changes the timer mode disarms the timer. */
	if (i == LAPIC_LVT_TIMER &&
	    LVT_TIMER_MODE(val) != LVT_TIMER_MODE(a->lvt[i])) {
		a->timer_icr = 0;
		a->timer_expiry = 0;
		a->tsc_deadline = 0;
	}
	a->lvt[i] = val;
}

/* ---- The register file ------------------------------------------------- */

uint64_t lapic_read_cr8(const struct vcpu *v)
{
	return (v->arch.lapic.tpr >> 4) & 0xf;
}

void lapic_write_cr8(struct vcpu *v, uint64_t val)
{
	apic(v)->tpr = (uint32_t)(val & 0xf) << 4;
}

int lapic_pending_vector(const struct vcpu *v)
{
	const struct lapic *a = &v->arch.lapic;
	int irrv;

	if (!lapic_enabled(v)) {
		return -1;
	}
	irrv = highest_vec(a->irr);
	if (irrv < 0 || ((uint32_t)irrv & 0xf0) <= (ppr(a) & 0xf0)) {
		return -1;
	}
	return irrv;
}

void lapic_ack(struct vcpu *v, unsigned int vector)
{
	clear_vec(apic(v)->irr, vector);
	set_vec(apic(v)->isr, vector);
}

static void eoi(struct vcpu *v)
{
	struct lapic *a = apic(v);
	int isrv = highest_vec(a->isr);

	if (isrv < 0) {
		return;
	}
	clear_vec(a->isr, (unsigned int)isrv);
	/* A level-triggered vector: the EOI is broadcast to the IOAPIC. */
	if (a->tmr[isrv / 32] & (1U << (isrv % 32))) {
		x86_ioapic_eoi(v->vm, (unsigned int)isrv);
	}
}

/*
 * Read register @idx. Return: false for a register that does not exist in
 * this mode (xAPIC: illegal register address; x2APIC: #GP).
 */
static bool reg_read(struct vcpu *v, unsigned int idx, bool x2, uint64_t *out)
{
	struct lapic *a = apic(v);

	lapic_update_timer(v);
	switch (idx) {
	case REG_ID:
		*out = x2 ? a->id : a->id << 24;
		return true;
	case REG_VER:
		*out = LAPIC_VERSION;
		return true;
	case REG_TPR:
		*out = a->tpr;
		return true;
	case REG_APR:
	case REG_RRD:
		*out = 0;
		return !x2;
	case REG_PPR:
		*out = ppr(a);
		return true;
	case REG_EOI:
		*out = 0;
		return !x2;	/* write-only */
	case REG_LDR:
		*out = a->ldr;
		return true;
	case REG_DFR:
		*out = a->dfr;
		return !x2;
	case REG_SVR:
		*out = a->svr;
		return true;
	case REG_ISR ... REG_ISR + 7:
		*out = a->isr[idx - REG_ISR];
		return true;
	case REG_TMR ... REG_TMR + 7:
		*out = a->tmr[idx - REG_TMR];
		return true;
	case REG_IRR ... REG_IRR + 7:
		*out = a->irr[idx - REG_IRR];
		return true;
	case REG_ESR:
		*out = a->esr;
		return true;
	case REG_ICR:
		*out = a->icr_lo;
		if (x2) {
			*out |= (uint64_t)a->icr_hi << 32;
		}
		return true;
	case REG_ICR_HI:
		*out = a->icr_hi;
		return !x2;
	case REG_LVT ... REG_LVT + LAPIC_LVT_NR - 1:
		*out = a->lvt[idx - REG_LVT];
		return true;
	case REG_TIMER_ICR:
		*out = a->timer_icr;
		return true;
	case REG_TIMER_CCR:
		*out = timer_current(v);
		return true;
	case REG_TIMER_DCR:
		*out = a->timer_dcr;
		return true;
	}
	*out = 0;
	return false;
}

/* Reserved bits of a value for @idx (x2APIC raises #GP when any is set). */
static uint64_t reg_reserved(unsigned int idx)
{
	switch (idx) {
	case REG_TPR:
		return ~0xffULL;
	case REG_SVR:
		return ~0x3ffULL;
	case REG_EOI:
	case REG_ESR:
		return ~0ULL;		/* only 0 may be written */
	case REG_ICR:
		return 0xffffffffULL & ~(uint64_t)ICR_LO_BITS;
	case REG_LVT ... REG_LVT + LAPIC_LVT_NR - 1:
		return ~(uint64_t)lvt_bits[idx - REG_LVT];
	case REG_TIMER_ICR:
		return ~0xffffffffULL;
	case REG_TIMER_DCR:
		return ~0xbULL;
	case REG_SELF_IPI:
		return ~0xffULL;
	}
	return 0;
}

static void write_svr(struct vcpu *v, uint32_t val)
{
	struct lapic *a = apic(v);

	a->svr = val & 0x3ff;
	if (!sw_enabled(a)) {
		for (unsigned int i = 0; i < LAPIC_LVT_NR; i++) {
			a->lvt[i] |= LVT_MASKED;
		}
	}
}

/*
 * Write register @idx. Return: 0, or -1 for a register that does not exist
 * or is read-only in this mode and for reserved bits set in x2APIC mode
 * (xAPIC: illegal register address; x2APIC: #GP).
 */
static int reg_write(struct vcpu *v, unsigned int idx, bool x2, uint64_t val)
{
	struct lapic *a = apic(v);

	if (x2 && (val & reg_reserved(idx))) {
		return -1;
	}
	switch (idx) {
	case REG_ID:
		if (x2) {
			return -1;
		}
		a->id = (uint32_t)val >> 24;
		return 0;
	case REG_TPR:
		a->tpr = val & 0xff;
		return 0;
	case REG_EOI:
		eoi(v);
		return 0;
	case REG_LDR:
		if (x2) {
			return -1;
		}
		a->ldr = (uint32_t)val & 0xff000000;
		return 0;
	case REG_DFR:
		if (x2) {
			return -1;
		}
		a->dfr = (uint32_t)val | 0x0fffffff;
		return 0;
	case REG_SVR:
		write_svr(v, (uint32_t)val);
		return 0;
	case REG_ESR:
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		return 0;
	case REG_ICR:
		a->icr_lo = (uint32_t)val & ICR_LO_BITS;
		if (x2) {
			a->icr_hi = val >> 32;
		}
		send_ipi(v, a->icr_lo, x2 ? a->icr_hi : a->icr_hi >> 24);
		return 0;
	case REG_ICR_HI:
		if (x2) {
			return -1;
		}
		a->icr_hi = (uint32_t)val & 0xff000000;
		return 0;
	case REG_LVT ... REG_LVT + LAPIC_LVT_NR - 1:
		write_lvt(v, idx - REG_LVT, (uint32_t)val);
		return 0;
	case REG_TIMER_ICR:
		timer_start(v, (uint32_t)val);
		return 0;
	case REG_TIMER_DCR:
		a->timer_dcr = (uint32_t)val & 0xb;
		return 0;
	case REG_SELF_IPI:
		if (!x2) {
			return -1;
		}
		accept_fixed(v, val & 0xff, false);
		return 0;
	case REG_VER:
	case REG_APR:
	case REG_PPR:
	case REG_RRD:
	case REG_ISR ... REG_ISR + 7:
	case REG_TMR ... REG_TMR + 7:
	case REG_IRR ... REG_IRR + 7:
	case REG_TIMER_CCR:
		/* Read-only: xAPIC ignores the write, x2APIC faults. */
		return x2 ? -1 : 0;
	}
	return -1;
}

/* ---- The xAPIC page ---------------------------------------------------- */

bool lapic_mmio_access(struct vcpu *v, uint64_t gpa, unsigned int size,
		       bool write, uint64_t *val)
{
	struct lapic *a = apic(v);
	uint64_t base = a->base & ~0xfffULL & GENMASK(51, 12);
	unsigned int off = gpa - base, idx = off >> 4, byte = off & 0xf;
	uint8_t slot[24] = { 0 };
	uint64_t r;

	/* In x2APIC mode the page is not decoded: it is plain MMIO. */
	if (!lapic_enabled(v) || lapic_x2apic_mode(v) || gpa < base ||
	    gpa >= base + LAPIC_SIZE) {
		return false;
	}
	if (write) {
		/* Only aligned 32-bit stores reach a register. */
		if (size == 4 && !byte && reg_write(v, idx, false, *val)) {
			set_error(v, ESR_ILLEGAL_REG);
		}
		return true;
	}
	if (!reg_read(v, idx, false, &r)) {
		set_error(v, ESR_ILLEGAL_REG);
	}
	memcpy(slot, &r, 4);
	*val = 0;
	memcpy(val, slot + byte, MIN(size, 16 - byte));
	return true;
}

/* ---- MSRs -------------------------------------------------------------- */

static uint64_t phys_addr_mask(void)
{
	unsigned int bits = 36;

	if (cpuid(0x80000000, 0).eax >= 0x80000008) {
		bits = cpuid(0x80000008, 0).eax & 0xff;
	}
	return GENMASK(bits - 1, 12);
}

static bool write_base(struct vcpu *v, uint64_t val)
{
	struct lapic *a = apic(v);
	bool was_en = a->base & APIC_BASE_EN;
	bool was_x2 = lapic_x2apic_mode(v);
	bool en = val & APIC_BASE_EN, x2 = val & APIC_BASE_EXTD;

	if (val & ~(phys_addr_mask() | APIC_BASE_BSP | APIC_BASE_EXTD |
		    APIC_BASE_EN)) {
		return false;
	}
	/* The transitions SDM 11.12.5 calls invalid. */
	if ((x2 && !en) || (was_x2 && en && !x2) || (!was_en && x2)) {
		return false;
	}
	a->base = val;
	if (was_en && !en) {
		reset_registers(v);
	} else if (!was_x2 && x2) {
		a->id = v->id;
		a->ldr = x2apic_ldr(a->id);
	}
	return true;
}

bool lapic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct lapic *a = apic(v);

	if (msr == MSR_IA32_APIC_BASE) {
		*val = a->base;
		return true;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_update_timer(v);
		*val = timer_mode(a) == TIMER_DEADLINE ? a->tsc_deadline : 0;
		return true;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST ||
	    !lapic_x2apic_mode(v) || msr - MSR_X2APIC_FIRST == REG_SELF_IPI) {
		return false;
	}
	return reg_read(v, msr - MSR_X2APIC_FIRST, true, val);
}

bool lapic_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct lapic *a = apic(v);

	if (msr == MSR_IA32_APIC_BASE) {
		return write_base(v, val);
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (timer_mode(a) == TIMER_DEADLINE) {
			a->tsc_deadline = val;
		}
		return true;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST ||
	    !lapic_x2apic_mode(v)) {
		return false;
	}
	return !reg_write(v, msr - MSR_X2APIC_FIRST, true, val);
}
