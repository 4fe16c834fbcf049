// SPDX-License-Identifier: MIT
/*
 * The I/O APIC of an x86 VM, as the 82093AA datasheet describes it: the
 * IOREGSEL / IOWIN window at 0xfec00000 (32-bit accesses), the ID,
 * version and arbitration registers, and 24 redirection entries with
 * edge and level triggering, polarity, mask, Remote IRR, physical and
 * logical destinations and the fixed, lowest-priority, NMI, INIT and
 * ExtINT delivery modes. A message goes straight to the local APICs
 * (lapic_irq_message()); the EOI of a level-triggered vector comes back
 * from them (x86_ioapic_eoi()). ISA IRQ n drives pin n, IRQ 0 pin 2 (pin 0
 * is the 8259's INTR, as on a PC). Design and limits: docs/x86-irq.md.
 */
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/vm.h>

#define IOREGSEL		0x00
#define IOWIN			0x10

#define REG_ID			0x00
#define REG_VER			0x01
#define REG_ARB			0x02
#define REG_REDIR		0x10

/* 82093AA: version 0x11, maximum redirection entry 23. */
#define IOAPIC_VERSION		(0x11 | ((X86_IOAPIC_PINS - 1) << 16))

#define RTE_VECTOR(e)		((unsigned int)(e) & 0xff)
#define RTE_MODE(e)		(((unsigned int)(e) >> 8) & 7)
#define RTE_LOGICAL		BIT(11)
#define RTE_DELIVS		BIT(12)
#define RTE_POLARITY_LOW	BIT(13)
#define RTE_REMOTE_IRR		BIT(14)
#define RTE_LEVEL		BIT(15)
#define RTE_MASKED		BIT(16)
#define RTE_DEST(e)		((uint32_t)((e) >> 56))
/* Bits software writes: vector, mode, destination mode, polarity, trigger, mask, destination. */
#define RTE_WRITABLE		(0xffULL << 56 | 0x1afffULL)

enum { DM_FIXED, DM_LOWEST, DM_SMI, DM_RSVD3, DM_NMI, DM_INIT, DM_RSVD6,
       DM_EXTINT };

static struct x86_ioapic *ioapic_of(struct vm *vm)
{
	return &vm->arch.ioapic;
}

/* The pin is asserted: its line, as the polarity bit reads it. */
static bool asserted(const struct x86_ioapic *io, unsigned int pin)
{
	bool high = io->lines & (1U << pin);

	return (io->redir[pin] & RTE_POLARITY_LOW) ? !high : high;
}

/*
 * NMI, INIT and ExtINT are edge-triggered whatever the trigger bit says
 * (82093AA, delivery mode field); only fixed and lowest priority have a
 * Remote IRR.
 */
static bool level_entry(uint64_t e)
{
	return (e & RTE_LEVEL) &&
	       (RTE_MODE(e) == DM_FIXED || RTE_MODE(e) == DM_LOWEST);
}

/* Send pin @pin's interrupt message. */
static void send(struct vm *vm, unsigned int pin)
{
	struct x86_ioapic *io = ioapic_of(vm);
	uint64_t e = io->redir[pin];
	bool level = level_entry(e);
	unsigned int mode = RTE_MODE(e);
	int n;

	if (mode == DM_SMI || mode == DM_RSVD3 || mode == DM_RSVD6) {
		/* No SMM in a VM; reserved modes deliver nothing. */
		return;
	}
	n = lapic_irq_message(vm, RTE_DEST(e), e & RTE_LOGICAL, mode,
			      RTE_VECTOR(e), level);
	/* Remote IRR: a local APIC accepted the level interrupt. */
	if (level && n > 0) {
		io->redir[pin] |= RTE_REMOTE_IRR;
	}
}

/* Deliver a level entry whose pin is asserted and that may send now. */
static void service_level(struct vm *vm, unsigned int pin)
{
	struct x86_ioapic *io = ioapic_of(vm);
	uint64_t e = io->redir[pin];

	if (level_entry(e) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) &&
	    asserted(io, pin)) {
		send(vm, pin);
	}
}

void x86_ioapic_set_pin(struct vm *vm, unsigned int pin, bool level)
{
	struct x86_ioapic *io = ioapic_of(vm);
	bool was;

	if (pin >= X86_IOAPIC_PINS) {
		return;
	}
	was = asserted(io, pin);
	io->lines = level ? io->lines | (1U << pin) : io->lines & ~(1U << pin);
	if (level_entry(io->redir[pin])) {
		service_level(vm, pin);
	} else if (!was && asserted(io, pin) &&
		   !(io->redir[pin] & RTE_MASKED)) {
		/* An edge on a masked pin is lost (82093AA, mask bit). */
		send(vm, pin);
	}
}

void x86_ioapic_eoi(struct vm *vm, unsigned int vector)
{
	struct x86_ioapic *io = ioapic_of(vm);

	for (unsigned int pin = 0; pin < X86_IOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];

		if (RTE_VECTOR(e) != vector || !level_entry(e) ||
		    !(e & RTE_REMOTE_IRR)) {
			continue;
		}
		io->redir[pin] &= ~RTE_REMOTE_IRR;
		service_level(vm, pin);
	}
}

static uint32_t read_reg(struct x86_ioapic *io)
{
	unsigned int idx = io->sel & 0xff;

	switch (idx) {
	case REG_ID:
		return io->id << 24;
	case REG_VER:
		return IOAPIC_VERSION;
	case REG_ARB:
		/* The arbitration ID is loaded from the ID. */
		return io->id << 24;
	}
	if (idx >= REG_REDIR && idx < REG_REDIR + 2 * X86_IOAPIC_PINS) {
		uint64_t e = io->redir[(idx - REG_REDIR) / 2];

		return (idx & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;	/* no register there */
}

static void write_reg(struct vm *vm, struct x86_ioapic *io, uint32_t val)
{
	unsigned int idx = io->sel & 0xff, pin;
	uint64_t e, keep;

	if (idx == REG_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (idx < REG_REDIR || idx >= REG_REDIR + 2 * X86_IOAPIC_PINS) {
		return;		/* version, arbitration: read-only */
	}
	pin = (idx - REG_REDIR) / 2;
	e = io->redir[pin];
	keep = e & ~RTE_WRITABLE;	/* delivery status, Remote IRR */
	if (idx & 1) {
		e = (e & 0xffffffffULL) | ((uint64_t)val << 32);
	} else {
		e = (e & ~0xffffffffULL) | val;
	}
	e = (e & RTE_WRITABLE) | keep;
	/* Remote IRR has no meaning for an edge entry: it reads 0. */
	if (!level_entry(e)) {
		e &= ~RTE_REMOTE_IRR;
	}
	io->redir[pin] = e;
	/* An unmasked level entry whose pin is asserted sends at once. */
	service_level(vm, pin);
}

static int ioapic_read(struct vcpu *v, struct io_device *d, uint64_t off,
		       unsigned int size, uint64_t *val)
{
	struct x86_ioapic *io = ioapic_of(v->vm);

	(void)d;
	if (size != 4) {
		return -EINVAL;	/* 82093AA: 32-bit accesses only */
	}
	if (off == IOREGSEL) {
		*val = io->sel;
	} else if (off == IOWIN) {
		*val = read_reg(io);
	} else {
		*val = 0;
	}
	return 0;
}

static int ioapic_write(struct vcpu *v, struct io_device *d, uint64_t off,
			unsigned int size, uint64_t val)
{
	struct x86_ioapic *io = ioapic_of(v->vm);

	(void)d;
	if (size != 4) {
		return -EINVAL;
	}
	if (off == IOREGSEL) {
		io->sel = (uint32_t)val & 0xff;
	} else if (off == IOWIN) {
		write_reg(v->vm, io, (uint32_t)val);
	}
	return 0;
}

static const struct io_device_ops ioapic_ops = {
	.read = ioapic_read,
	.write = ioapic_write,
};

/*
 * Reset: every entry masked, edge, fixed, vector 0 (82093AA). The ID is
 * the one firmware gives it on a PC, the first after the CPUs' APIC IDs,
 * and is what the MADT states.
 */
int x86_ioapic_add(struct vm *vm)
{
	struct x86_ioapic *io = ioapic_of(vm);
	struct io_device d = {
		.name = "ioapic",
		.space = IO_MMIO,
		.base = X86_IOAPIC_BASE,
		.size = X86_IOAPIC_SIZE,
		.ops = &ioapic_ops,
	};

	io->sel = 0;
	io->id = (vm->cfg->cpus ? vm->cfg->cpus : 1) & 0xf;
	io->lines = 0;
	for (unsigned int i = 0; i < X86_IOAPIC_PINS; i++) {
		io->redir[i] = RTE_MASKED;
	}
	return vm_add_device(vm, &d);
}

int x86_irq_line(struct vm *vm, unsigned int line, bool level)
{
	/* IRQ 2 is the cascade: no ISA device has it. */
	if (line >= X86_IOAPIC_PINS || line == 2) {
		return -EINVAL;
	}
	if (line < X86_ISA_IRQS) {
		x86_pic_set_irq(vm, line, level);
	}
	x86_ioapic_set_pin(vm, line == 0 ? 2 : line, level);
	return 0;
}
