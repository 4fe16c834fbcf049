// SPDX-License-Identifier: MIT
/*
 * Host tests of the x86 8259 pair (arch/x86/pic.c) and IOAPIC
 * (arch/x86/ioapic.c) with the real local APICs (arch/x86/lapic.c) on the
 * real device bus: what the 8259A and 82093AA datasheets say each
 * programming step does, one behaviour per test. The boot test
 * (tests/boot/irq_x86.py) drives the same code from a guest under Bochs;
 * here the cases a guest has no line for (the slave, spurious IR7,
 * rotation, special mask mode, polarity, lowest priority, INIT) are
 * driven directly.
 */
#include <string.h>

#include <arch/cpu.h>
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <lib/errno.h>
#include <vmm/vm.h>
#include "harness.h"

static struct vm vm;
static struct vm_config cfg = { .name = "irq", .cpus = 2 };

/* vmm/run.c's kick: which vCPUs an interrupt woke. */
static unsigned int kicked[8];

void vcpu_kick(struct vcpu *v)
{
	kicked[v->id]++;
}

uint64_t vmx_guest_tsc(const struct vcpu *v)
{
	(void)v;
	return 1000;
}

static struct vcpu *setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.cfg = &cfg;
	vm.name = "irq";
	vm.state = VM_RUNNING;
	vm.nr_vcpus = 2;
	for (unsigned int i = 0; i < 2; i++) {
		struct vcpu *v = &vm.vcpus[i];

		v->vm = &vm;
		v->id = i;
		v->state = VCPU_RUNNABLE;
		lapic_power_on(v);
	}
	if (x86_pic_add(&vm) || x86_ioapic_add(&vm)) {
		return NULL;
	}
	return &vm.vcpus[0];
}

static uint64_t in(struct vcpu *v, uint16_t port)
{
	uint64_t val = 0;

	vm_io_access(v, IO_PIO, port, 1, false, &val);
	return val;
}

static void out(struct vcpu *v, uint16_t port, uint8_t val)
{
	uint64_t x = val;

	vm_io_access(v, IO_PIO, port, 1, true, &x);
}

static uint32_t apic_rd(struct vcpu *v, uint32_t reg)
{
	uint64_t val = 0;

	lapic_mmio_access(v, LAPIC_DEFAULT_BASE + reg, 4, false, &val);
	return (uint32_t)val;
}

static void apic_wr(struct vcpu *v, uint32_t reg, uint32_t val)
{
	uint64_t x = val;

	lapic_mmio_access(v, LAPIC_DEFAULT_BASE + reg, 4, true, &x);
}

static void io_wr(struct vcpu *v, uint32_t reg, uint32_t val)
{
	uint64_t sel = reg, x = val;

	vm_io_access(v, IO_MMIO, X86_IOAPIC_BASE, 4, true, &sel);
	vm_io_access(v, IO_MMIO, X86_IOAPIC_BASE + 0x10, 4, true, &x);
}

static uint32_t io_rd(struct vcpu *v, uint32_t reg)
{
	uint64_t sel = reg, x = 0;

	vm_io_access(v, IO_MMIO, X86_IOAPIC_BASE, 4, true, &sel);
	vm_io_access(v, IO_MMIO, X86_IOAPIC_BASE + 0x10, 4, false, &x);
	return (uint32_t)x;
}

static void route(struct vcpu *v, unsigned int pin, uint32_t lo,
		  uint8_t dest)
{
	io_wr(v, 0x11 + 2 * pin, (uint32_t)dest << 24);
	io_wr(v, 0x10 + 2 * pin, lo);
}

/* ICW1-4 on both chips: vectors 0x20 / 0x28, slave on IR2, all open. */
static void pic_init(struct vcpu *v, uint8_t icw4)
{
	out(v, 0x20, 0x11);
	out(v, 0x21, 0x20);
	out(v, 0x21, 0x04);
	out(v, 0x21, icw4);
	out(v, 0xa0, 0x11);
	out(v, 0xa1, 0x28);
	out(v, 0xa1, 0x02);
	out(v, 0xa1, icw4);
}

static uint8_t isr(struct vcpu *v, uint16_t port)
{
	out(v, port, 0x0b);
	return (uint8_t)in(v, port);
}

static uint8_t irr(struct vcpu *v, uint16_t port)
{
	out(v, port, 0x0a);
	return (uint8_t)in(v, port);
}

/* As a PC BIOS leaves it: bases 0x08 / 0x70, only the cascade open. */
static void pic_reset_state(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	CHECK_EQ(in(v, 0x21), 0xfb);
	CHECK_EQ(in(v, 0xa1), 0xff);
	CHECK_EQ(in(v, 0x4d0), 0);
	CHECK_EQ(in(v, 0x4d1), 0);
	out(v, 0x21, 0xfe);		/* open IRQ 0 */
	x86_irq_line(&vm, 0, true);
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x08);
}

/* ICW1 clears IMR; an edge latches in IRR; INTA moves it to ISR. */
static void pic_edge_ack_eoi(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	CHECK_EQ(in(v, 0x21), 0);
	x86_irq_line(&vm, 3, true);
	x86_irq_line(&vm, 3, false);	/* an edge stays latched */
	CHECK_EQ(irr(v, 0x20), 0x08);
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x23);
	CHECK_EQ(irr(v, 0x20), 0);
	CHECK_EQ(isr(v, 0x20), 0x08);
	CHECK(!x86_pic_intr(&vm));
	out(v, 0x20, 0x20);		/* non-specific EOI */
	CHECK_EQ(isr(v, 0x20), 0);
	/* A line held high makes no second edge. */
	x86_irq_line(&vm, 3, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x23);
	out(v, 0x20, 0x20);
	x86_irq_line(&vm, 3, true);
	CHECK(!x86_pic_intr(&vm));
}

/* Fully nested: a higher IR interrupts one in service, a lower waits. */
static void pic_nesting(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	x86_irq_line(&vm, 5, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x25);
	x86_irq_line(&vm, 6, true);
	CHECK(!x86_pic_intr(&vm));
	x86_irq_line(&vm, 3, true);
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x23);
	CHECK_EQ(isr(v, 0x20), 0x28);
	out(v, 0x20, 0x20);		/* ends IR3, the highest */
	CHECK_EQ(isr(v, 0x20), 0x20);
	CHECK(!x86_pic_intr(&vm));
	out(v, 0x20, 0x65);		/* specific EOI, IR5 */
	CHECK_EQ(isr(v, 0x20), 0);
	CHECK_EQ(x86_pic_ack(&vm), 0x26);
}

/* IRQ 8-15 through the slave on master IR2; both chips need an EOI. */
static void pic_cascade(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	x86_irq_line(&vm, 10, true);
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x2a);
	CHECK_EQ(isr(v, 0x20), 0x04);
	CHECK_EQ(isr(v, 0xa0), 0x04);
	x86_irq_line(&vm, 9, true);	/* higher on the slave, IR2 in service */
	CHECK(!x86_pic_intr(&vm));
	out(v, 0xa0, 0x20);
	out(v, 0x20, 0x20);
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x29);
	/* Masking IR2 on the master closes every slave input. */
	out(v, 0xa0, 0x20);
	out(v, 0x20, 0x20);
	out(v, 0x21, 0x04);
	x86_irq_line(&vm, 12, true);
	CHECK(!x86_pic_intr(&vm));
	CHECK_EQ(irr(v, 0xa0), 0x10);
	out(v, 0x21, 0x00);
	CHECK_EQ(x86_pic_ack(&vm), 0x2c);
	/* Special fully nested: the slave may interrupt its own service. */
	pic_init(v, 0x11);
	x86_irq_line(&vm, 12, false);
	x86_irq_line(&vm, 12, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x2c);
	x86_irq_line(&vm, 9, false);
	x86_irq_line(&vm, 9, true);
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x29);
	/* ... but a master IR below IR2 waits while IR2 is in service. */
	x86_irq_line(&vm, 5, true);
	CHECK(!x86_pic_intr(&vm));
	out(v, 0xa0, 0x20);
	out(v, 0xa0, 0x20);		/* the slave's two EOIs */
	out(v, 0x20, 0x20);		/* the master's EOI for IR2 */
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x25);
}

/* A level request that goes away before INTA: the default IR7 vector. */
static void pic_spurious_ir7(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	out(v, 0x4d0, 0x20);		/* IRQ 5 level */
	x86_irq_line(&vm, 5, true);
	CHECK(x86_pic_intr(&vm));
	x86_irq_line(&vm, 5, false);
	CHECK(!x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x27);
	CHECK_EQ(isr(v, 0x20), 0);
	/* ...and on the slave: master IR2 in service, the slave's IR7. */
	out(v, 0x4d1, 0x02);		/* IRQ 9 level */
	x86_irq_line(&vm, 9, true);
	CHECK(x86_pic_intr(&vm));
	x86_irq_line(&vm, 9, false);
	CHECK_EQ(x86_pic_ack(&vm), 0x27);
}

/* ELCR: only bits the PIIX allows; a level IR follows its line. */
static void pic_elcr_level(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	out(v, 0x4d0, 0xff);
	out(v, 0x4d1, 0xff);
	CHECK_EQ(in(v, 0x4d0), 0xf8);
	CHECK_EQ(in(v, 0x4d1), 0xde);
	out(v, 0x4d0, 0x10);
	out(v, 0x4d1, 0x00);
	x86_irq_line(&vm, 4, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x24);
	CHECK_EQ(irr(v, 0x20), 0x10);	/* level: IRR still shows it */
	out(v, 0x20, 0x20);
	CHECK(x86_pic_intr(&vm));	/* EOI with the line high: again */
	x86_irq_line(&vm, 4, false);
	CHECK(!x86_pic_intr(&vm));
	CHECK_EQ(irr(v, 0x20), 0);
	/* ICW1.LTIM: every input level-triggered. */
	out(v, 0x20, 0x19);
	out(v, 0x21, 0x20);
	out(v, 0x21, 0x04);
	out(v, 0x21, 0x01);
	x86_irq_line(&vm, 3, true);
	x86_irq_line(&vm, 3, false);
	CHECK_EQ(irr(v, 0x20), 0);
}

/* Rotation on EOI and set priority move the lowest-priority IR. */
static void pic_rotation(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	x86_irq_line(&vm, 3, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x23);
	out(v, 0x20, 0xa0);		/* rotate on non-specific EOI */
	/* IR3 is now the lowest: IR4 is above IR1. */
	x86_irq_line(&vm, 1, true);
	x86_irq_line(&vm, 4, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x24);
	out(v, 0x20, 0x20);
	out(v, 0x20, 0xc0);		/* set priority: IR0 lowest */
	x86_irq_line(&vm, 0, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x21);
	out(v, 0x20, 0x20);
	CHECK_EQ(x86_pic_ack(&vm), 0x20);
	out(v, 0x20, 0x20);
	/* Rotate in AEOI mode: each acknowledged IR becomes the lowest. */
	pic_init(v, 0x03);
	out(v, 0x20, 0x80);
	x86_irq_line(&vm, 1, false);
	x86_irq_line(&vm, 1, true);
	x86_irq_line(&vm, 6, false);
	x86_irq_line(&vm, 6, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x21);
	CHECK_EQ(isr(v, 0x20), 0);
	x86_irq_line(&vm, 1, false);
	x86_irq_line(&vm, 1, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x26);
}

/* Special mask mode: an IR in service holds back only itself. */
static void pic_special_mask(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	x86_irq_line(&vm, 3, true);
	CHECK_EQ(x86_pic_ack(&vm), 0x23);
	x86_irq_line(&vm, 6, true);
	CHECK(!x86_pic_intr(&vm));
	out(v, 0x21, 0x08);		/* mask IR3 ... */
	out(v, 0x20, 0x68);		/* ... and OCW3 set SMM */
	CHECK(x86_pic_intr(&vm));
	CHECK_EQ(x86_pic_ack(&vm), 0x26);
	out(v, 0x20, 0x48);		/* reset SMM */
	CHECK_EQ(isr(v, 0x20), 0x48);
}

/* OCW3 poll: the level in bits 2:0 with bit 7, acknowledged. */
static void pic_poll(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	out(v, 0x20, 0x0c);
	CHECK_EQ(in(v, 0x20), 0);
	x86_irq_line(&vm, 5, true);
	out(v, 0x20, 0x0c);
	CHECK_EQ(in(v, 0x20), 0x85);
	CHECK_EQ(isr(v, 0x20), 0x20);
	CHECK(!x86_pic_intr(&vm));
}

/* The PIC's INTR reaches a vCPU through LINT0 only when it says ExtINT. */
static void pic_lint0_extint(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	pic_init(v, 0x01);
	apic_wr(v, 0xf0, 0x1ff);
	x86_irq_line(&vm, 4, true);
	CHECK(!x86_extint_pending(v));		/* LINT0 masked at reset */
	apic_wr(v, 0x350, 0x700);
	CHECK(x86_extint_pending(v));
	CHECK(!x86_extint_pending(&vm.vcpus[1]));
	CHECK_EQ(x86_extint_ack(v), 0x24);
	CHECK(!x86_extint_pending(v));
	/* LINT0 is the INTR pin of a disabled APIC. */
	CHECK(lapic_msr_write(&vm.vcpus[1], MSR_IA32_APIC_BASE,
			      LAPIC_DEFAULT_BASE));
	out(v, 0x20, 0x20);
	x86_irq_line(&vm, 4, false);
	memset(kicked, 0, sizeof(kicked));
	x86_irq_line(&vm, 4, true);
	CHECK(x86_extint_pending(&vm.vcpus[1]));
	/* INTR rose: the vCPUs taking ExtINT on LINT0 are kicked. */
	CHECK_EQ(kicked[1], 1);
	CHECK_EQ(kicked[0], 1);
}

/* ---- IOAPIC ------------------------------------------------------------ */

static void ioapic_registers(void)
{
	struct vcpu *v = setup();
	uint64_t x = 0;

	CHECK(v);
	CHECK_EQ(io_rd(v, 0), 2U << 24);
	CHECK_EQ(io_rd(v, 1), 0x00170011);
	CHECK_EQ(io_rd(v, 2), 2U << 24);
	io_wr(v, 0, 0x0f000000);
	CHECK_EQ(io_rd(v, 0), 0x0f000000);
	io_wr(v, 1, 0);
	CHECK_EQ(io_rd(v, 1), 0x00170011);
	for (unsigned int i = 0; i < 24; i++) {
		CHECK_EQ(io_rd(v, 0x10 + 2 * i), 0x10000);
	}
	CHECK_EQ(io_rd(v, 0x40), 0);	/* past entry 23 */
	/* Only 32-bit accesses: a byte read is not the register. */
	CHECK_EQ(vm_io_access(v, IO_MMIO, X86_IOAPIC_BASE + 0x10, 1, false,
			      &x), -ENODEV);
}

/* Edge: one message per rising edge, none on a masked pin. */
static void ioapic_edge(void)
{
	struct vcpu *v = setup();
	struct lapic *a = &v->arch.lapic;

	CHECK(v);
	apic_wr(v, 0xf0, 0x1ff);
	route(v, 4, 0x41, 0);
	x86_irq_line(&vm, 4, true);
	CHECK_EQ(lapic_pending_vector(v), 0x41);
	CHECK(!(a->tmr[2] & 2));
	lapic_ack(v, 0x41);
	apic_wr(v, 0xb0, 0);
	x86_irq_line(&vm, 4, true);
	CHECK_EQ(lapic_pending_vector(v), -1);
	x86_irq_line(&vm, 4, false);
	route(v, 4, 0x41 | 0x10000, 0);
	x86_irq_line(&vm, 4, true);
	route(v, 4, 0x41, 0);
	CHECK_EQ(lapic_pending_vector(v), -1);
	/* ISA IRQ 0 is pin 2. */
	route(v, 2, 0x42, 0);
	x86_irq_line(&vm, 0, true);
	CHECK_EQ(lapic_pending_vector(v), 0x42);
}

/* Level: Remote IRR until the APIC's EOI, which redelivers a high pin. */
static void ioapic_level_remote_irr(void)
{
	struct vcpu *v = setup();
	struct vcpu *v1 = &vm.vcpus[1];

	CHECK(v);
	apic_wr(v1, 0xf0, 0x1ff);
	route(v, 5, 0x8051, 1);		/* level, vector 0x51, APIC 1 */
	x86_irq_line(&vm, 5, true);
	CHECK_EQ(lapic_pending_vector(v1), 0x51);
	CHECK_EQ(lapic_pending_vector(v), -1);
	CHECK(io_rd(v, 0x10 + 10) & 0x4000);
	CHECK(apic_rd(v1, 0x180 + 0x20) & 0x20000);	/* TMR 0x51 */
	lapic_ack(v1, 0x51);
	apic_wr(v1, 0xb0, 0);		/* EOI, line still high */
	CHECK(io_rd(v, 0x10 + 10) & 0x4000);
	CHECK_EQ(lapic_pending_vector(v1), 0x51);
	lapic_ack(v1, 0x51);
	x86_irq_line(&vm, 5, false);
	apic_wr(v1, 0xb0, 0);
	CHECK(!(io_rd(v, 0x10 + 10) & 0x4000));
	CHECK_EQ(lapic_pending_vector(v1), -1);
	/* Remote IRR is read-only; an edge entry reads it as 0. */
	x86_irq_line(&vm, 5, true);
	CHECK(io_rd(v, 0x10 + 10) & 0x4000);
	io_wr(v, 0x10 + 10, 0x0051);
	CHECK_EQ(io_rd(v, 0x10 + 10), 0x0051);
	/* A software-disabled APIC refuses it: no Remote IRR. */
	apic_wr(v1, 0xf0, 0xff);
	x86_irq_line(&vm, 5, false);
	route(v, 5, 0x8051, 1);
	x86_irq_line(&vm, 5, true);
	CHECK(!(io_rd(v, 0x10 + 10) & 0x4000));
}

/* Polarity low: the pin is asserted while its line is low. */
static void ioapic_polarity(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	apic_wr(v, 0xf0, 0x1ff);
	x86_irq_line(&vm, 7, true);
	route(v, 7, 0xa061, 0);		/* level, active low */
	CHECK_EQ(lapic_pending_vector(v), -1);
	x86_irq_line(&vm, 7, false);
	CHECK_EQ(lapic_pending_vector(v), 0x61);
}

/* Logical flat, lowest priority (one target), NMI, INIT, ExtINT. */
static void ioapic_modes(void)
{
	struct vcpu *v = setup();
	struct vcpu *v1 = &vm.vcpus[1];

	CHECK(v);
	apic_wr(v, 0xf0, 0x1ff);
	apic_wr(v1, 0xf0, 0x1ff);
	apic_wr(v, 0xd0, 0x01000000);
	apic_wr(v1, 0xd0, 0x02000000);
	route(v, 8, 0x0870, 0x02);	/* logical, fixed, to bit 1 */
	x86_irq_line(&vm, 8, true);
	CHECK_EQ(lapic_pending_vector(v1), 0x70);
	CHECK_EQ(lapic_pending_vector(v), -1);
	route(v, 9, 0x0971, 0x03);	/* logical, lowest priority */
	x86_irq_line(&vm, 9, true);
	CHECK((lapic_pending_vector(v) == 0x71) !=
	      (lapic_pending_vector(v1) == 0x71));
	/* An illegal lowest-priority vector: the error on one APIC only. */
	route(v, 12, 0x0905, 0x03);
	x86_irq_line(&vm, 12, true);
	apic_wr(v, 0x280, 0);
	apic_wr(v1, 0x280, 0);
	CHECK_EQ(((apic_rd(v, 0x280) >> 6) & 1) +
		 ((apic_rd(v1, 0x280) >> 6) & 1), 1);
	route(v, 10, 0x0400, 1);	/* NMI */
	x86_irq_line(&vm, 10, true);
	CHECK(v1->arch.nmi_pending);
	CHECK(!v->arch.nmi_pending);
	route(v, 11, 0x0500, 1);	/* INIT */
	x86_irq_line(&vm, 11, true);
	CHECK_EQ(v1->arch.mp, X86_MP_WAIT_SIPI);
	/* ExtINT: the PIC's vector at the target's INTA. */
	pic_init(v, 0x01);
	route(v, 0, 0x0700, 0);
	CHECK(!x86_extint_pending(v));
	x86_irq_line(&vm, 3, true);
	CHECK(x86_extint_pending(v));
	CHECK_EQ(x86_extint_ack(v), 0x23);
	CHECK(!x86_extint_pending(v));
}

/* An ExtINT message lasts while INTR is up and until INIT. */
static void ioapic_extint_msg_cleared(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	apic_wr(v, 0xf0, 0x1ff);
	pic_init(v, 0x01);
	route(v, 0, 0x0700, 0);
	x86_irq_line(&vm, 3, true);
	CHECK(v->arch.extint_msg);
	out(v, 0x21, 0x08);		/* INTR drops */
	CHECK(!x86_pic_intr(&vm));
	CHECK(!v->arch.extint_msg);
	route(v, 0, 0x10700, 0);	/* pin 0 masked: no new message */
	out(v, 0x21, 0x00);
	CHECK(x86_pic_intr(&vm));
	CHECK(!x86_extint_pending(v));
	route(v, 0, 0x0700, 0);
	out(v, 0x21, 0x08);
	out(v, 0x21, 0x00);		/* a new edge on pin 0 */
	CHECK(x86_extint_pending(v));
	route(v, 11, 0x0500, 0);	/* INIT to vCPU 0 */
	x86_irq_line(&vm, 11, true);
	CHECK(!v->arch.extint_msg);
}

/*
 * An x2APIC-mode APIC takes a physical message for its ID (and 0xff as a
 * broadcast); lowest priority skips an APIC that refuses fixed ones.
 */
static void ioapic_x2apic_and_refusing_lowest(void)
{
	struct vcpu *v = setup();
	struct vcpu *v1 = &vm.vcpus[1];

	CHECK(v);
	apic_wr(v1, 0xf0, 0x1ff);
	CHECK(lapic_msr_write(v1, MSR_IA32_APIC_BASE,
			      LAPIC_DEFAULT_BASE | BIT(11) | BIT(10)));
	route(v, 6, 0x0066, 1);
	x86_irq_line(&vm, 6, true);
	CHECK_EQ(lapic_pending_vector(v1), 0x66);
	route(v, 7, 0x0067, 0xff);	/* broadcast: v1 (v0 is disabled) */
	x86_irq_line(&vm, 7, true);
	CHECK_EQ(lapic_pending_vector(v1), 0x67);
	CHECK_EQ(lapic_pending_vector(v), -1);
	/* v0 software-disabled: the lowest-priority message goes to v1. */
	route(v, 8, 0x0968, 0xff);
	x86_irq_line(&vm, 8, true);
	CHECK(v1->arch.lapic.irr[3] & BIT(8));
}

/* An EOI goes to the IOAPIC only for a level-triggered (TMR) vector. */
static void eoi_broadcast_only_level(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	apic_wr(v, 0xf0, 0x1ff);
	route(v, 5, 0x8052, 0);
	x86_irq_line(&vm, 5, true);
	lapic_ack(v, 0x52);
	apic_wr(v, 0x300, 0x40062);	/* self-IPI 0x62, edge */
	lapic_ack(v, 0x62);
	apic_wr(v, 0xb0, 0);		/* EOI of 0x62: not broadcast */
	CHECK(io_rd(v, 0x10 + 10) & 0x4000);
	x86_irq_line(&vm, 5, false);
	apic_wr(v, 0xb0, 0);		/* EOI of 0x52 */
	CHECK(!(io_rd(v, 0x10 + 10) & 0x4000));
}

/* Lines a device cannot have are refused. */
static void bad_lines(void)
{
	CHECK(setup());
	CHECK_EQ(x86_irq_line(&vm, 2, true), -EINVAL);
	CHECK_EQ(x86_irq_line(&vm, 24, true), -EINVAL);
	CHECK_EQ(x86_irq_line(&vm, 23, true), 0);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "irqchip");
	RUN_TEST(pic_reset_state);
	RUN_TEST(pic_edge_ack_eoi);
	RUN_TEST(pic_nesting);
	RUN_TEST(pic_cascade);
	RUN_TEST(pic_spurious_ir7);
	RUN_TEST(pic_elcr_level);
	RUN_TEST(pic_rotation);
	RUN_TEST(pic_special_mask);
	RUN_TEST(pic_poll);
	RUN_TEST(pic_lint0_extint);
	RUN_TEST(ioapic_extint_msg_cleared);
	RUN_TEST(ioapic_registers);
	RUN_TEST(ioapic_edge);
	RUN_TEST(ioapic_level_remote_irr);
	RUN_TEST(ioapic_polarity);
	RUN_TEST(ioapic_modes);
	RUN_TEST(ioapic_x2apic_and_refusing_lowest);
	RUN_TEST(eoi_broadcast_only_level);
	RUN_TEST(bad_lines);
	return test_done();
}
