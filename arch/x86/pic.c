// SPDX-License-Identifier: MIT
/*
 * The dual 8259A programmable interrupt controller of a PC, as the 8259A
 * datasheet describes one chip and a PC cascades two: master at ports
 * 0x20-0x21, slave at 0xa0-0xa1 with its INT on master IR2, and the PIIX
 * edge/level control registers (ELCR) at 0x4d0-0x4d1. The master's INTR
 * goes to every vCPU's LINT0 and to IOAPIC pin 0 (arch/x86/ioapic.c); the
 * vCPU that takes it runs the INTA cycle (x86_pic_ack()). Design, reset
 * state and limits: docs/x86-irq.md.
 */
#include <arch/irqchip.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define PIC_MASTER_PORT		0x20
#define PIC_SLAVE_PORT		0xa0
#define PIC_ELCR_PORT		0x4d0
#define PIC_CASCADE_IRQ		2

#define ICW1			BIT(4)
#define ICW1_IC4		BIT(0)
#define ICW1_SNGL		BIT(1)
#define ICW1_LTIM		BIT(3)
#define OCW3			BIT(3)
#define OCW3_RIS		BIT(0)
#define OCW3_RR			BIT(1)
#define OCW3_P			BIT(2)
#define OCW3_SMM		BIT(5)
#define OCW3_ESMM		BIT(6)
#define ICW4_AEOI		BIT(1)
#define ICW4_SFNM		BIT(4)

/* ELCR bits a PIIX lets software set: IRQ 0, 1, 2, 8 and 13 are edge. */
static const uint8_t elcr_writable[2] = { 0xf8, 0xde };

static struct x86_pic *pic_of(struct vm *vm)
{
	return &vm->arch.pic;
}

/* Priority rank of @irq: 0 is the highest. */
static unsigned int rank(const struct x86_8259 *c, unsigned int irq)
{
	return (irq - c->lowest - 1) & 7;
}

/* The highest-priority IR set in @bits, or -1. */
static int highest(const struct x86_8259 *c, uint8_t bits)
{
	for (unsigned int r = 0; r < 8; r++) {
		unsigned int irq = (c->lowest + 1 + r) & 7;

		if (bits & (1U << irq)) {
			return (int)irq;
		}
	}
	return -1;
}

static bool is_level(const struct x86_8259 *c, unsigned int irq)
{
	return c->ltim || (c->elcr & (1U << irq));
}

/*
 * The request the chip would raise INT for, or -1: the highest unmasked
 * request above every IR in service (fully nested mode). In special mask
 * mode an IR in service inhibits only itself; the master in special fully
 * nested mode lets the slave (IR2) interrupt again while IR2 is in service
 * (the slave raises it only for a request above its own in service), and
 * nothing of lower priority than IR2.
 */
static int chip_request(const struct x86_8259 *c, bool master)
{
	int req = highest(c, c->irr & ~c->imr), in;
	uint8_t isr = c->isr;

	if (req < 0) {
		return -1;
	}
	if (c->smm) {
		isr &= ~c->imr;
	}
	if (master && c->sfnm && req == PIC_CASCADE_IRQ) {
		isr &= ~(1U << PIC_CASCADE_IRQ);
	}
	in = highest(c, isr);
	if (in >= 0 && rank(c, (unsigned int)in) <= rank(c, (unsigned int)req)) {
		return -1;
	}
	return req;
}

static bool cascaded(const struct x86_pic *p)
{
	const struct x86_8259 *m = &p->chip[0];

	return !m->single && (m->icw3 & (1U << PIC_CASCADE_IRQ));
}

/* INTR fell: an ExtINT message no vCPU took has no vector left to fetch. */
static void intr_dropped(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].arch.extint_msg = false;
	}
}

/*
 * Recompute the slave's INT into master IR2 (a level as long as the slave
 * has a request), then the master's INTR, and tell IOAPIC pin 0.
 */
static void update(struct vm *vm)
{
	struct x86_pic *p = pic_of(vm);
	struct x86_8259 *m = &p->chip[0];
	bool intr;

	if (cascaded(p)) {
		if (chip_request(&p->chip[1], false) >= 0) {
			m->irr |= 1U << PIC_CASCADE_IRQ;
		} else {
			m->irr &= ~(1U << PIC_CASCADE_IRQ);
		}
	}
	intr = chip_request(m, true) >= 0;
	if (intr != p->intr) {
		p->intr = intr;
		if (!intr) {
			intr_dropped(vm);
		}
		x86_ioapic_set_pin(vm, 0, intr);
		/*
		 * INTR rose: a vCPU whose LINT0 takes ExtINT looks at once,
		 * out of its HLT wait or its guest on another CPU.
		 */
		for (unsigned int i = 0; intr && i < vm->nr_vcpus; i++) {
			if (lapic_lint0_extint(&vm->vcpus[i])) {
				vcpu_kick(&vm->vcpus[i]);
			}
		}
	}
}

/* Drive IR @irq of @c: level inputs follow the line, edges latch. */
static void chip_set(struct x86_8259 *c, unsigned int irq, bool level)
{
	uint8_t bit = 1U << irq;

	if (is_level(c, irq)) {
		c->irr = level ? c->irr | bit : c->irr & ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;
	}
	c->lines = level ? c->lines | bit : c->lines & ~bit;
}

void x86_pic_set_irq(struct vm *vm, unsigned int irq, bool level)
{
	struct x86_pic *p = pic_of(vm);

	if (irq >= X86_ISA_IRQS || (irq == PIC_CASCADE_IRQ && cascaded(p))) {
		return;		/* IR2 is the slave's; ISA IRQ 2 is IRQ 9 */
	}
	chip_set(&p->chip[irq / 8], irq % 8, level);
	update(vm);
}

bool x86_pic_intr(const struct vm *vm)
{
	return vm->arch.pic.intr;
}

/* The chip acknowledges @irq: into the ISR (unless AEOI), edge IRR off. */
static void chip_ack(struct x86_8259 *c, unsigned int irq)
{
	if (!is_level(c, irq)) {
		c->irr &= ~(1U << irq);
	}
	if (c->aeoi) {
		if (c->rotate_aeoi) {
			c->lowest = (uint8_t)irq;
		}
	} else {
		c->isr |= 1U << irq;
	}
}

uint8_t x86_pic_ack(struct vm *vm)
{
	struct x86_pic *p = pic_of(vm);
	struct x86_8259 *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_request(m, true), sirq;
	uint8_t vec;

	if (irq < 0) {
		/* The request went away before INTA: the default IR7. */
		vec = m->base | 7;
	} else if (irq == PIC_CASCADE_IRQ && cascaded(p)) {
		sirq = chip_request(s, false);
		chip_ack(m, (unsigned int)irq);
		if (sirq < 0) {
			vec = s->base | 7;
		} else {
			chip_ack(s, (unsigned int)sirq);
			vec = s->base | (uint8_t)sirq;
		}
	} else {
		chip_ack(m, (unsigned int)irq);
		vec = m->base | (uint8_t)irq;
	}
	/* INT drops during the INTA cycle and rises again for the next. */
	if (p->intr) {
		p->intr = false;
		intr_dropped(vm);
		x86_ioapic_set_pin(vm, 0, false);
	}
	update(vm);
	return vec;
}

/* ICW1: the initialisation sequence starts (8259A datasheet). */
static void icw1(struct x86_8259 *c, uint8_t val)
{
	c->icw4_wanted = val & ICW1_IC4;
	c->single = val & ICW1_SNGL;
	c->ltim = val & ICW1_LTIM;
	/* Edge sense reset: an input must go low and high again. */
	c->irr = 0;
	c->isr = 0;
	c->imr = 0;
	c->lowest = 7;
	c->smm = false;
	c->read_isr = false;
	c->poll = false;
	/* Without ICW4 its functions are zero. */
	c->aeoi = false;
	c->sfnm = false;
	c->rotate_aeoi = false;
	for (unsigned int i = 0; i < 8; i++) {
		if (is_level(c, i) && (c->lines & (1U << i))) {
			c->irr |= 1U << i;
		}
	}
	c->init = 2;
}

/* OCW2: EOI, rotation, set priority. */
static void ocw2(struct x86_8259 *c, uint8_t val)
{
	unsigned int cmd = val >> 5, level = val & 7;
	int in = highest(c, c->isr);

	switch (cmd) {
	case 1:		/* non-specific EOI */
	case 5:		/* rotate on non-specific EOI */
		if (in >= 0) {
			c->isr &= ~(1U << in);
			if (cmd == 5) {
				c->lowest = (uint8_t)in;
			}
		}
		break;
	case 3:		/* specific EOI */
	case 7:		/* rotate on specific EOI */
		c->isr &= ~(1U << level);
		if (cmd == 7) {
			c->lowest = (uint8_t)level;
		}
		break;
	case 4:		/* rotate in automatic EOI mode: set */
	case 0:		/* ... clear */
		c->rotate_aeoi = cmd == 4;
		break;
	case 6:		/* set priority: @level becomes the lowest */
		c->lowest = (uint8_t)level;
		break;
	default:	/* 2: no operation */
		break;
	}
}

static void ocw3(struct x86_8259 *c, uint8_t val)
{
	if (val & OCW3_RR) {
		c->read_isr = val & OCW3_RIS;
	}
	c->poll = val & OCW3_P;
	if (val & OCW3_ESMM) {
		c->smm = val & OCW3_SMM;
	}
}

static void write_cmd(struct x86_8259 *c, uint8_t val)
{
	if (val & ICW1) {
		icw1(c, val);
	} else if (val & OCW3) {
		ocw3(c, val);
	} else {
		ocw2(c, val);
	}
}

static void write_data(struct x86_8259 *c, uint8_t val)
{
	switch (c->init) {
	case 2:
		c->base = val & 0xf8;
		c->init = c->single ? (c->icw4_wanted ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = val;
		c->init = c->icw4_wanted ? 4 : 0;
		break;
	case 4:
		c->aeoi = val & ICW4_AEOI;
		c->sfnm = val & ICW4_SFNM;
		c->init = 0;
		break;
	default:
		c->imr = val;	/* OCW1 */
		break;
	}
}

/*
 * A poll (OCW3 P): the next command-port read is the poll word, bit 7 set
 * with the highest request's level in bits 2:0, and acknowledges it as
 * INTA would; 0 when there is none.
 */
static uint8_t poll(struct vm *vm, unsigned int idx)
{
	struct x86_pic *p = pic_of(vm);
	struct x86_8259 *c = &p->chip[idx];
	int irq = chip_request(c, idx == 0);

	c->poll = false;
	if (irq < 0) {
		return 0;
	}
	chip_ack(c, (unsigned int)irq);
	return 0x80 | (uint8_t)irq;
}

static int pic_read(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t *val)
{
	struct x86_pic *p = pic_of(v->vm);
	unsigned int idx = d->base == PIC_SLAVE_PORT;
	struct x86_8259 *c = &p->chip[idx];

	if (size != 1) {
		return -EINVAL;
	}
	if (off) {
		*val = c->imr;
	} else if (c->poll) {
		*val = poll(v->vm, idx);
		update(v->vm);
	} else {
		*val = c->read_isr ? c->isr : c->irr;
	}
	return 0;
}

static int pic_write(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t val)
{
	struct x86_pic *p = pic_of(v->vm);
	struct x86_8259 *c = &p->chip[d->base == PIC_SLAVE_PORT];

	if (size != 1) {
		return -EINVAL;
	}
	if (off) {
		write_data(c, (uint8_t)val);
	} else {
		write_cmd(c, (uint8_t)val);
	}
	update(v->vm);
	return 0;
}

static int elcr_read(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t *val)
{
	struct x86_pic *p = pic_of(v->vm);

	(void)d;
	if (size != 1) {
		return -EINVAL;
	}
	*val = p->chip[off].elcr;
	return 0;
}

static int elcr_write(struct vcpu *v, struct io_device *d, uint64_t off,
		      unsigned int size, uint64_t val)
{
	struct x86_pic *p = pic_of(v->vm);
	struct x86_8259 *c = &p->chip[off];

	(void)d;
	if (size != 1) {
		return -EINVAL;
	}
	c->elcr = (uint8_t)val & elcr_writable[off];
	/* An input that became level-triggered shows its level at once. */
	for (unsigned int i = 0; i < 8; i++) {
		if (is_level(c, i)) {
			c->irr = (c->lines & (1U << i)) ? c->irr | (1U << i) :
							  c->irr & ~(1U << i);
		}
	}
	update(v->vm);
	return 0;
}

static const struct io_device_ops pic_ops = {
	.read = pic_read,
	.write = pic_write,
};

static const struct io_device_ops elcr_ops = {
	.read = elcr_read,
	.write = elcr_write,
};

/*
 * The state a PC BIOS leaves (SeaBIOS, for one): both chips initialised
 * with ICW4 (8086 mode, normal EOI), vectors 0x08-0x0f and 0x70-0x77, the
 * slave on IR2, every input masked but the cascade, every input edge.
 */
static void reset_chip(struct x86_8259 *c, uint8_t base, uint8_t icw3,
		       uint8_t imr)
{
	memset(c, 0, sizeof(*c));
	c->base = base;
	c->icw3 = icw3;
	c->imr = imr;
	c->lowest = 7;
	c->icw4_wanted = true;
}

int x86_pic_add(struct vm *vm)
{
	struct x86_pic *p = pic_of(vm);
	struct io_device d[3] = {
		{ .name = "8259A master", .space = IO_PIO,
		  .base = PIC_MASTER_PORT, .size = 2, .ops = &pic_ops },
		{ .name = "8259A slave", .space = IO_PIO,
		  .base = PIC_SLAVE_PORT, .size = 2, .ops = &pic_ops },
		{ .name = "ELCR", .space = IO_PIO,
		  .base = PIC_ELCR_PORT, .size = 2, .ops = &elcr_ops },
	};
	int ret = 0;

	reset_chip(&p->chip[0], 0x08, 1U << PIC_CASCADE_IRQ,
		   (uint8_t)~(1U << PIC_CASCADE_IRQ));
	reset_chip(&p->chip[1], 0x70, PIC_CASCADE_IRQ, 0xff);
	p->intr = false;
	for (unsigned int i = 0; i < 3 && !ret; i++) {
		ret = vm_add_device(vm, &d[i]);
	}
	return ret;
}

/*
 * The PIC's INTR reaches @v's LINT0 when its LVT LINT0 is unmasked with
 * delivery mode ExtINT, or when its APIC is disabled (LINT0 is then the
 * INTR pin, SDM "Local APIC State After It Has Been Software Disabled" /
 * IA32_APIC_BASE.EN).
 */
bool x86_extint_pending(const struct vcpu *v)
{
	if (!x86_pic_intr(v->vm)) {
		return false;
	}
	return v->arch.extint_msg || lapic_lint0_extint(v);
}

uint8_t x86_extint_ack(struct vcpu *v)
{
	v->arch.extint_msg = false;
	return x86_pic_ack(v->vm);
}

bool x86_irq_may_arrive(const struct vcpu *v)
{
	const struct x86_pic *p = &v->vm->arch.pic;
	const struct x86_ioapic *io = &v->vm->arch.ioapic;
	uint8_t open = (uint8_t)~p->chip[0].imr;

	for (unsigned int i = 0; i < X86_IOAPIC_PINS; i++) {
		if (!(io->redir[i] & BIT(16))) {
			return true;
		}
	}
	if (!lapic_lint0_extint(v)) {
		return false;
	}
	if (cascaded(p)) {
		open &= ~(1U << PIC_CASCADE_IRQ);
		if (!(p->chip[0].imr & (1U << PIC_CASCADE_IRQ)) &&
		    p->chip[1].imr != 0xff) {
			return true;
		}
	}
	return open != 0;
}
