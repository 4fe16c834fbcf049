// SPDX-License-Identifier: MIT
/*
 * echo: reads what is typed at Strata's console for this VM from its
 * emulated 16550 (COM1). Built as echo.elf it polls LSR.DR; built with
 * ECHO_IRQ=1 (echoirq.elf) or ECHO_IRQ=2 (echopic.elf) it halts and takes
 * the 16550's receive interrupt (IRQ 4: IER.ERBFI, MCR.OUT2) through the
 * IOAPIC (pin 4, edge, vector 0x44) or through the 8259 and LINT0 in
 * ExtINT mode (vector 0x24), draining the FIFO in the handler while
 * LSR.DR is set (docs/console.md, docs/x86-irq.md).
 *
 * It prints "echo> " without a newline (a prompt), echoes each key as it
 * arrives, and answers every line with
 *
 *   echo: line 'TEXT' (N bytes)
 *
 * where control characters in TEXT are shown as ^A .. ^_. The line "quit"
 * ends the VM with "echo: PASS (L lines, B bytes)" (status 0), after
 * "echo: R receive interrupts (D data, T timeout), K keys each" in the
 * interrupt builds.
 */
#include "guest.h"
#ifdef ECHO_IRQ
#include "x86.h"
#endif

#define COM1		GUEST_COM1_PORT
#define LSR_DR		0x01
#define LINE_MAX	80

static char line[LINE_MAX];
static unsigned int line_len, bytes, lines;

#ifndef ECHO_IRQ
static char next_key(void)
{
	while (!(inb(COM1 + 5) & LSR_DR)) {
		__asm__ volatile("pause");
	}
	bytes++;
	return (char)inb(COM1);
}
#else
#define IOAPIC		0xfec00000UL
#define VEC_IOAPIC	0x44
#define VEC_PIC		0x24

static volatile char ring[256];
static volatile unsigned int head, tail;
static volatile unsigned int irqs, irq_data, irq_timeout, irq_other;

/* The receive interrupt: drain the FIFO, then end the interrupt. */
static void rx_hook(struct exc_frame *f)
{
	uint8_t iir = inb(COM1 + 2) & 0x0f;

	irqs++;
	if (iir == 0x04) {
		irq_data++;
	} else if (iir == 0x0c) {
		irq_timeout++;
	} else {
		irq_other++;
	}
	while (inb(COM1 + 5) & LSR_DR) {
		ring[head++ & 255] = (char)inb(COM1);
	}
	if (f->vector == VEC_PIC) {
		outb(0x20, 0x20);
	} else {
		apic_write(APIC_EOI, 0);
	}
}

static void irq_setup(void)
{
	idt_init();
	apic_write(APIC_SVR, 0x1ff);
#if ECHO_IRQ == 1
	idt_hook(VEC_IOAPIC, rx_hook);
	*(volatile uint32_t *)IOAPIC = 0x11 + 2 * 4;
	*(volatile uint32_t *)(IOAPIC + 0x10) = 0;	/* APIC 0 */
	*(volatile uint32_t *)IOAPIC = 0x10 + 2 * 4;
	*(volatile uint32_t *)(IOAPIC + 0x10) = VEC_IOAPIC;
#else
	idt_hook(VEC_PIC, rx_hook);
	outb(0x20, 0x11);
	outb(0x21, 0x20);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, 0x28);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0x21, 0xef);		/* IRQ 4 only */
	outb(0xa1, 0xff);
	apic_write(0x350, 0x700);	/* LVT LINT0: ExtINT */
#endif
	outb(COM1 + 4, 0x0b);		/* DTR, RTS, OUT2 */
	outb(COM1 + 1, 0x01);		/* ERBFI */
}

/* Wait, halted, for the receive interrupt to bring a key. */
static char next_key(void)
{
	while (head == tail) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	bytes++;
	return ring[tail++ & 255];
}
#endif

static void read_line(void)
{
	line_len = 0;
	for (;;) {
		char c = next_key();

		if (c == '\r' || c == '\n') {
			serial_putc('\n');
			line[line_len] = '\0';
			return;
		}
		serial_putc(c);
		if (line_len < LINE_MAX - 1) {
			line[line_len++] = c;
		}
	}
}

static bool is_quit(void)
{
	return line_len == 4 && line[0] == 'q' && line[1] == 'u' &&
	       line[2] == 'i' && line[3] == 't';
}

int guest_main(void)
{
	char shown[2 * LINE_MAX + 1];

#ifdef ECHO_IRQ
	irq_setup();
	gprintf("echo: ready, COM1 receive interrupt through the %s\n",
		ECHO_IRQ == 1 ? "IOAPIC" : "8259");
#else
	gprintf("echo: ready, polling COM1\n");
#endif
	for (;;) {
		unsigned int n = 0;

		gputs("echo> ");
		read_line();
		lines++;
		if (is_quit()) {
			break;
		}
		for (unsigned int i = 0; i < line_len; i++) {
			if ((unsigned char)line[i] < 0x20) {
				shown[n++] = '^';
				shown[n++] = (char)(line[i] + '@');
			} else {
				shown[n++] = line[i];
			}
		}
		shown[n] = '\0';
		gprintf("echo: line '%s' (%u bytes)\n", shown, line_len);
	}
#ifdef ECHO_IRQ
	gprintf("echo: %u receive interrupts (%u data, %u timeout, %u other)\n",
		irqs, irq_data, irq_timeout, irq_other);
	if (irq_other || !irqs) {
		gprintf("echo: FAIL: interrupts without received data\n");
		power_off(1);
	}
#endif
	gprintf("echo: PASS (%u lines, %u bytes)\n", lines, bytes);
	power_off(0);
}
