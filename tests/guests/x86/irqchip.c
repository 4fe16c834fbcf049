// SPDX-License-Identifier: MIT
/*
 * irqchip: the IOAPIC and the 8259 pair of a PC (docs/x86-irq.md), driven
 * by a real device line: COM1's interrupt (ISA IRQ 4), raised by enabling
 * the 16550's THR-empty interrupt (IER.ETBEI, MCR.OUT2 set) and lowered by
 * reading IIR, which serves that source. Two vCPUs; the AP is started
 * through the local APIC and halts, answering interrupts.
 *
 *   - IOAPIC registers: ID, version, arbitration, entries masked at reset,
 *     read-only delivery status and Remote IRR;
 *   - an edge entry: one interrupt per rising edge, none while the line
 *     stays high, an edge on a masked pin lost; not taken with IF = 0
 *     until the interrupt window opens (STI shadow), nor while the TPR
 *     holds its priority class;
 *   - a level entry routed to vCPU 1 (physical, then logical flat): the
 *     AP sees Remote IRR and its TMR bit, an EOI with the line still high
 *     delivers again, the EOI after the line dropped clears Remote IRR; a
 *     masked asserted level entry sends when unmasked;
 *   - NMI delivery mode;
 *   - the 8259 through LINT0 (ExtINT, virtual wire): initialised with
 *     ICW1-4, IRR latched while masked, ISR during the handler, specific
 *     and non-specific EOI, not held back by the TPR, LINT0 masked holds
 *     it back, the poll command, automatic EOI, ELCR level mode;
 *   - the 8259 through IOAPIC pin 0 in ExtINT mode (virtual wire B).
 * Every wait is for an interrupt; nothing depends on time.
 */
#include "guest.h"
#include "x86.h"

#define COM1		GUEST_COM1_PORT
#define IOAPIC		0xfec00000UL
#define RTE_MASKED	(1U << 16)
#define RTE_LEVEL	(1U << 15)
#define RTE_RIRR	(1U << 14)
#define RTE_LOGICAL	(1U << 11)
#define RTE_NMI		(4U << 8)
#define RTE_EXTINT	(7U << 8)
#define UART_PIN	4

#define VEC_HELLO	0x30
#define VEC_DONE	0x31
#define VEC_EDGE	0x40
#define VEC_LEVEL	0x50
#define PIC_BASE	0x20	/* master 0x20-0x27, slave 0x28-0x2f */
#define VEC_PIC_UART	(PIC_BASE + 4)

static uint8_t ap_stack[16384] __attribute__((aligned(16)));

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC = reg;
	return *(volatile uint32_t *)(IOAPIC + 0x10);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static void route(unsigned int pin, uint32_t lo, uint32_t dest)
{
	ioapic_write(0x10 + 2 * pin, RTE_MASKED);
	ioapic_write(0x11 + 2 * pin, dest << 24);
	ioapic_write(0x10 + 2 * pin, lo);
}

static uint32_t rte(unsigned int pin)
{
	return ioapic_read(0x10 + 2 * pin);
}

/* COM1's IRQ line: up by enabling THR empty, down by serving it. */
static void line_up(void)
{
	outb(COM1 + 1, 0x00);
	outb(COM1 + 1, 0x02);
}

static void line_down(void)
{
	(void)inb(COM1 + 2);	/* IIR reports THR empty: served */
	outb(COM1 + 1, 0x00);
}

/* ---- The AP ------------------------------------------------------------ */

static void nmi_hook(struct exc_frame *f)
{
	(void)f;
}

static void eoi_hook(struct exc_frame *f)
{
	(void)f;
	apic_write(APIC_EOI, 0);
}

static void ap_main(void)
{
	idt_load();
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_LDR, 0x02000000);	/* flat, bit 1 */
	apic_send_ipi(0, VEC_HELLO);
	for (;;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}

/* The level interrupt: what the CPU that took it saw. */
static volatile unsigned long lvl_hits;
static volatile unsigned int lvl_cpu, lvl_drop_at;
static volatile bool lvl_rirr, lvl_tmr;

static void level_hook(struct exc_frame *f)
{
	(void)f;
	lvl_hits++;
	lvl_cpu = apic_read(APIC_ID) >> 24;
	lvl_rirr = rte(UART_PIN) & RTE_RIRR;
	lvl_tmr = apic_bit(APIC_TMR, VEC_LEVEL);
	if (lvl_hits >= lvl_drop_at) {
		line_down();
	}
	apic_write(APIC_EOI, 0);
	if (lvl_hits >= lvl_drop_at) {
		apic_send_ipi(0, VEC_DONE);
	}
}

/* ---- The IOAPIC -------------------------------------------------------- */

static void check_registers(void)
{
	bool all_masked = true;

	EXPECT(ioapic_read(1) == 0x00170011, "IOAPIC version 0x%x",
	       ioapic_read(1));
	EXPECT(ioapic_read(0) == 2U << 24, "IOAPIC ID 0x%x (want 2)",
	       ioapic_read(0));
	EXPECT(ioapic_read(2) == 2U << 24, "IOAPIC arbitration 0x%x",
	       ioapic_read(2));
	*(volatile uint32_t *)IOAPIC = 0x17;
	EXPECT(*(volatile uint32_t *)IOAPIC == 0x17, "IOREGSEL 0x%x",
	       *(volatile uint32_t *)IOAPIC);
	for (unsigned int i = 0; i < 24; i++) {
		all_masked &= (rte(i) & RTE_MASKED) && !(rte(i) & ~RTE_MASKED);
	}
	EXPECT(all_masked, "redirection entries not masked at reset");
	ioapic_write(0x10 + 2 * 5, 0xffffffff);
	ioapic_write(0x11 + 2 * 5, 0xffffffff);
	EXPECT(rte(5) == 0x0001afff, "entry 5 low 0x%x after all ones (want "
	       "delivery status and Remote IRR read-only)", rte(5));
	EXPECT(ioapic_read(0x11 + 2 * 5) == 0xff000000, "entry 5 high 0x%x",
	       ioapic_read(0x11 + 2 * 5));
	route(5, RTE_MASKED, 0);
}

static void check_edge(void)
{
	route(UART_PIN, VEC_EDGE, 0);
	irq_disable();
	line_up();
	for (volatile int i = 0; i < 10; i++) {
	}
	EXPECT(irq_count[VEC_EDGE] == 0, "edge taken with IF = 0");
	EXPECT(apic_bit(APIC_IRR, VEC_EDGE), "edge not in the IRR");
	irq_window();
	EXPECT(irq_count[VEC_EDGE] == 1, "edge: %lu interrupts after the "
	       "window", irq_count[VEC_EDGE]);
	EXPECT(!apic_bit(APIC_TMR, VEC_EDGE), "TMR set for an edge");
	irq_window();
	irq_window();
	EXPECT(irq_count[VEC_EDGE] == 1, "edge: %lu interrupts while the "
	       "line stayed high", irq_count[VEC_EDGE]);
	line_down();
	line_up();
	irq_window();
	EXPECT(irq_count[VEC_EDGE] == 2, "second edge: %lu interrupts",
	       irq_count[VEC_EDGE]);
	line_down();
	/* The TPR holds an IOAPIC vector of its class back (unlike ExtINT). */
	apic_write(APIC_TPR, VEC_EDGE & 0xf0);
	line_up();
	irq_window();
	EXPECT(irq_count[VEC_EDGE] == 2 && apic_bit(APIC_IRR, VEC_EDGE),
	       "TPR 0x%x: %lu interrupts, IRR %d", VEC_EDGE & 0xf0,
	       irq_count[VEC_EDGE], apic_bit(APIC_IRR, VEC_EDGE));
	apic_write(APIC_TPR, 0);
	irq_window();
	EXPECT(irq_count[VEC_EDGE] == 3, "TPR lowered: %lu interrupts",
	       irq_count[VEC_EDGE]);
	line_down();
	/* An edge on a masked pin is lost. */
	route(UART_PIN, VEC_EDGE | RTE_MASKED, 0);
	line_up();
	route(UART_PIN, VEC_EDGE, 0);
	irq_window();
	EXPECT(irq_count[VEC_EDGE] == 3, "masked edge delivered (%lu)",
	       irq_count[VEC_EDGE]);
	line_down();
}

static void level_to_ap(uint32_t lo, uint32_t dest, const char *how)
{
	unsigned long done = irq_count[VEC_DONE];

	lvl_hits = 0;
	lvl_cpu = ~0U;
	lvl_drop_at = 2;	/* the first EOI leaves the line high */
	route(UART_PIN, VEC_LEVEL | RTE_LEVEL | lo, dest);
	line_up();
	wait_irq(&irq_count[VEC_DONE], done + 1);
	EXPECT(lvl_hits == 2, "%s: %lu level interrupts (want 2: the EOI "
	       "with the line high delivers again)", how, lvl_hits);
	EXPECT(lvl_cpu == 1, "%s: taken on APIC %u", how, lvl_cpu);
	EXPECT(lvl_rirr, "%s: Remote IRR clear in the handler", how);
	EXPECT(lvl_tmr, "%s: TMR clear in the handler", how);
	EXPECT(!(rte(UART_PIN) & RTE_RIRR), "%s: Remote IRR 0x%x after the "
	       "EOI", how, rte(UART_PIN));
}

static void check_level(void)
{
	unsigned long done;

	level_to_ap(0, 1, "physical");
	level_to_ap(RTE_LOGICAL, 0x02, "logical");
	/* Asserted while masked: nothing; unmasking sends it. */
	lvl_hits = 0;
	lvl_drop_at = 1;
	done = irq_count[VEC_DONE];
	route(UART_PIN, VEC_LEVEL | RTE_LEVEL | RTE_MASKED, 1);
	line_up();
	EXPECT(!(rte(UART_PIN) & RTE_RIRR), "Remote IRR on a masked entry");
	route(UART_PIN, VEC_LEVEL | RTE_LEVEL, 1);
	wait_irq(&irq_count[VEC_DONE], done + 1);
	EXPECT(lvl_hits == 1 && lvl_cpu == 1, "unmasked level: %lu on %u",
	       lvl_hits, lvl_cpu);
	route(UART_PIN, RTE_MASKED, 0);
}

static void check_nmi(void)
{
	route(UART_PIN, RTE_NMI, 0);
	line_up();
	EXPECT(exc_count[2] == 1, "NMI mode: %lu NMIs", exc_count[2]);
	line_down();
	route(UART_PIN, RTE_MASKED, 0);
}

/* ---- The 8259 pair ----------------------------------------------------- */

static void pic_init(uint8_t icw4)
{
	outb(0x20, 0x11);		/* ICW1: edge, cascade, ICW4 */
	outb(0x21, PIC_BASE);		/* ICW2 */
	outb(0x21, 0x04);		/* ICW3: slave on IR2 */
	outb(0x21, icw4);		/* ICW4: 8086 mode (+AEOI) */
	outb(0xa0, 0x11);
	outb(0xa1, PIC_BASE + 8);
	outb(0xa1, 0x02);		/* slave ID 2 */
	outb(0xa1, icw4);
	outb(0x21, 0xef);		/* only IRQ 4 */
	outb(0xa1, 0xff);
}

static uint8_t pic_isr(void)
{
	outb(0x20, 0x0b);
	return inb(0x20);
}

static uint8_t pic_irr(void)
{
	outb(0x20, 0x0a);
	return inb(0x20);
}

static volatile uint8_t pic_isr_in;
static volatile unsigned int pic_eoi;	/* 0 none, 1 non-specific, 2 specific */
/* Interrupts the handler takes before it lowers the line. */
static volatile unsigned int pic_hold;

static void pic_hook(struct exc_frame *f)
{
	(void)f;
	pic_isr_in = pic_isr();
	if (pic_hold) {
		pic_hold--;
	} else {
		line_down();
	}
	if (pic_eoi == 1) {
		outb(0x20, 0x20);
	} else if (pic_eoi == 2) {
		outb(0x20, 0x64);	/* specific EOI, IR4 */
	}
}

static void check_pic(void)
{
	unsigned long n;

	apic_write(0x350, 0x700);	/* LVT LINT0: ExtINT, unmasked */
	pic_init(0x01);
	EXPECT(inb(0x21) == 0xef && inb(0xa1) == 0xff, "IMRs 0x%x 0x%x",
	       inb(0x21), inb(0xa1));
	irq_disable();
	/* IRR latches the edge while masked. */
	outb(0x21, 0xff);
	line_up();
	EXPECT(pic_irr() & 0x10, "IRR 0x%x with IRQ 4 masked", pic_irr());
	irq_window();
	EXPECT(irq_count[VEC_PIC_UART] == 0, "masked IRQ 4 delivered");
	/* Unmasked: delivered as vector base + 4, in service meanwhile. */
	pic_eoi = 1;
	outb(0x21, 0xef);
	irq_window();
	EXPECT(irq_count[VEC_PIC_UART] == 1, "PIC: %lu interrupts",
	       irq_count[VEC_PIC_UART]);
	EXPECT(pic_isr_in == 0x10, "ISR 0x%x in the handler", pic_isr_in);
	EXPECT(pic_isr() == 0 && pic_irr() == 0, "ISR 0x%x IRR 0x%x after "
	       "the non-specific EOI", pic_isr(), pic_irr());
	/* Specific EOI; the TPR does not hold an ExtINT back. */
	apic_write(APIC_TPR, 0xf0);
	pic_eoi = 2;
	line_up();
	irq_window();
	apic_write(APIC_TPR, 0);
	EXPECT(irq_count[VEC_PIC_UART] == 2, "ExtINT under TPR 0xf0: %lu",
	       irq_count[VEC_PIC_UART]);
	EXPECT(pic_isr() == 0, "ISR 0x%x after the specific EOI", pic_isr());
	/* No EOI: IR4 stays in service and blocks itself. */
	pic_eoi = 0;
	line_up();
	irq_window();
	line_up();
	irq_window();
	EXPECT(irq_count[VEC_PIC_UART] == 3 && pic_isr() == 0x10,
	       "without EOI: %lu interrupts, ISR 0x%x",
	       irq_count[VEC_PIC_UART], pic_isr());
	outb(0x20, 0x20);
	irq_window();		/* the request latched meanwhile */
	EXPECT(irq_count[VEC_PIC_UART] == 4, "after the EOI: %lu",
	       irq_count[VEC_PIC_UART]);
	outb(0x20, 0x20);
	/* LINT0 masked holds the PIC back. */
	pic_eoi = 1;
	apic_write(0x350, 0x10700);
	line_up();
	irq_window();
	n = irq_count[VEC_PIC_UART];
	apic_write(0x350, 0x700);
	irq_window();
	EXPECT(n == 4 && irq_count[VEC_PIC_UART] == 5,
	       "LINT0 masked: %lu, unmasked: %lu", n, irq_count[VEC_PIC_UART]);
	/* Poll: the request's level, acknowledged as INTA would. */
	line_up();
	outb(0x20, 0x0c);
	n = inb(0x20);
	EXPECT(n == 0x84, "poll word 0x%lx", n);
	EXPECT(pic_isr() == 0x10, "ISR 0x%x after the poll", pic_isr());
	outb(0x20, 0x20);
	line_down();
	outb(0x20, 0x0c);
	EXPECT(inb(0x20) == 0, "poll with nothing pending");
	/* Automatic EOI: nothing stays in service. */
	pic_init(0x03);
	pic_eoi = 0;
	line_up();
	irq_window();
	EXPECT(irq_count[VEC_PIC_UART] == 6 && pic_isr_in == 0,
	       "AEOI: %lu interrupts, ISR 0x%x in the handler",
	       irq_count[VEC_PIC_UART], pic_isr_in);
	pic_init(0x01);
	/* ELCR: IRQ 4 level-triggered; an EOI with the line high repeats. */
	outb(0x4d0, 0xff);
	EXPECT(inb(0x4d0) == 0xf8, "ELCR1 0x%x after 0xff", inb(0x4d0));
	outb(0x4d1, 0xff);
	EXPECT(inb(0x4d1) == 0xde, "ELCR2 0x%x after 0xff", inb(0x4d1));
	outb(0x4d1, 0);
	outb(0x4d0, 0x10);
	/*
	 * The handler EOIs with the line still high twice: each EOI lets
	 * the level request in again (at the IRET), the third lowers it.
	 */
	pic_eoi = 1;
	pic_hold = 2;
	line_up();
	irq_window();
	irq_window();
	EXPECT(irq_count[VEC_PIC_UART] == 9, "level IRQ 4: %lu interrupts "
	       "(want 3: twice with the line high, then lowered)",
	       irq_count[VEC_PIC_UART] - 6);
	EXPECT(!(pic_irr() & 0x10), "level IRR 0x%x after the line fell",
	       pic_irr());
	outb(0x4d0, 0);
	/* Virtual wire through IOAPIC pin 0 in ExtINT mode. */
	apic_write(0x350, 0x10700);
	route(0, RTE_EXTINT, 0);
	line_up();
	irq_window();
	EXPECT(irq_count[VEC_PIC_UART] == 10, "IOAPIC ExtINT: %lu",
	       irq_count[VEC_PIC_UART] - 9);
	route(0, RTE_MASKED, 0);
	outb(0x21, 0xff);
}

int guest_main(void)
{
	idt_init();
	idt_hook(VEC_HELLO, eoi_hook);
	idt_hook(VEC_DONE, eoi_hook);
	idt_hook(VEC_EDGE, eoi_hook);
	idt_hook(VEC_LEVEL, level_hook);
	idt_hook(VEC_PIC_UART, pic_hook);
	idt_hook(2, nmi_hook);
	apic_write(APIC_SVR, 0x1ff);
	ap_start(1, ap_main, ap_stack + sizeof(ap_stack));
	wait_irq(&irq_count[VEC_HELLO], 1);

	check_registers();
	check_edge();
	check_level();
	check_nmi();
	check_pic();
	gprintf("irqchip: edge %lu, level %lu on APIC %u, PIC %lu\n",
		irq_count[VEC_EDGE], irq_count[VEC_LEVEL], lvl_cpu,
		irq_count[VEC_PIC_UART]);
	return checks_result("irqchip");
}
