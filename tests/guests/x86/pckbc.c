// SPDX-License-Identifier: MIT
/*
 * pckbc: the 8042 keyboard controller (ports 0x60/0x64) with a keyboard
 * that never types and no mouse (docs/x86-pc-devices.md):
 *   - status and command byte as a BIOS leaves them, commands 0x20/0x60
 *     (reserved bit 7, the system flag following bit 2), the status's
 *     command/data bit;
 *   - 0xaa self test -> 0x55, 0xab and 0xa9 interface tests -> 0x00,
 *     0xad/0xae and 0xa7/0xa8 in the command byte, 0xd0 output port;
 *   - the keyboard: reset 0xff -> 0xfa 0xaa, identify (translated), echo,
 *     LEDs, scan set, an unknown command -> 0xfe; its bytes held while its
 *     interface is disabled and released when enabled;
 *   - 0xd2/0xd3 into the output buffer (aux flagged for 0xd3, Linux's aux
 *     loopback test), 0xd4 to the absent aux device: time-out and 0xfe;
 *   - IRQ 1 per keyboard byte with KBDINT, IRQ 12 for aux data with AUXINT
 *     (IOAPIC pins 1 and 12), none with the enables clear;
 *   - 0xfe pulses the reset line: the VM restarts (STRATA_CTR_RESETS) and
 *     the second boot finds the controller in its reset state again, and
 *     a CMOS RAM byte written before the reset kept (the RTC's battery).
 */
#include "guest.h"
#include "x86.h"

#define IOAPIC		0xfec00000UL
#define VEC_KBD		0x41
#define VEC_AUX		0x4c

static bool obf(void)
{
	return inb(0x64) & 0x01;
}

static void cmd(uint8_t c)
{
	outb(0x64, c);
}

/* The next byte of the output buffer, or -1 when there is none. */
static int get(void)
{
	if (!obf()) {
		return -1;
	}
	return inb(0x60);
}

static void flush(void)
{
	while (obf()) {
		(void)inb(0x60);
	}
}

static uint8_t ctr(void)
{
	cmd(0x20);
	return (uint8_t)get();
}

static void set_ctr(uint8_t v)
{
	cmd(0x60);
	outb(0x60, v);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static volatile int irq_byte;
static volatile uint8_t irq_status;

static void kbc_hook(struct exc_frame *f)
{
	(void)f;
	irq_status = inb(0x64);
	irq_byte = inb(0x60);
	apic_write(APIC_EOI, 0);
}

static void check_controller(void)
{
	uint8_t s = inb(0x64);
	int b;

	EXPECT(s == 0x14, "kbc: status 0x%x at start (want SYS|INH 0x14)", s);
	EXPECT(ctr() == 0x65, "kbc: command byte 0x%x at start (want 0x65)",
	       ctr());
	cmd(0x20);
	EXPECT(inb(0x64) == 0x1d, "kbc: status 0x%x after command 0x20 (want 0x1d)",
	       inb(0x64));
	(void)inb(0x60);
	EXPECT(!obf(), "kbc: OBF after reading the byte");
	set_ctr(0xc5);
	EXPECT(ctr() == 0x45, "kbc: command byte 0x%x after 0xc5 (bit 7 reserved)",
	       ctr());
	EXPECT(inb(0x64) & 0x08, "kbc: status 0x%x after 0x20 (CMD clear)",
	       inb(0x64));
	set_ctr(0x41);
	EXPECT(!(inb(0x64) & 0x04), "kbc: SYS 1 with command byte bit 2 clear");
	set_ctr(0x45);
	EXPECT(inb(0x64) & 0x04, "kbc: SYS 0 with command byte bit 2 set");
	outb(0x60, 0xee);	/* a data write: CMD clear */
	EXPECT(!(inb(0x64) & 0x08), "kbc: CMD set after a write to 0x60");
	flush();

	cmd(0xaa);
	b = get();
	EXPECT(b == 0x55, "kbc: self test 0x%x (want 0x55)", b);
	cmd(0xab);
	b = get();
	EXPECT(b == 0x00, "kbc: keyboard interface test 0x%x", b);
	cmd(0xa9);
	b = get();
	EXPECT(b == 0x00, "kbc: aux interface test 0x%x", b);
	cmd(0xad);
	EXPECT(ctr() == 0x55, "kbc: command byte 0x%x after 0xad", ctr());
	cmd(0xae);
	EXPECT(ctr() == 0x45, "kbc: command byte 0x%x after 0xae", ctr());
	cmd(0xa7);
	EXPECT(ctr() == 0x65, "kbc: command byte 0x%x after 0xa7", ctr());
	cmd(0xa8);
	EXPECT(ctr() == 0x45, "kbc: command byte 0x%x after 0xa8", ctr());
	cmd(0xd0);
	b = get();
	EXPECT(b >= 0 && (b & 0x03) == 0x03,
	       "kbc: output port 0x%x (reset line and A20 high)", b);
	/* RAM bytes 0x21-0x3f through 0x61-0x7f */
	cmd(0x65);
	outb(0x60, 0x3c);
	cmd(0x25);
	b = get();
	EXPECT(b == 0x3c, "kbc: controller RAM byte 5 0x%x", b);
	/* An empty buffer reads its last byte again. */
	EXPECT(inb(0x60) == 0x3c && !obf(), "kbc: empty read");
}

static void check_keyboard(void)
{
	int a, b, c;

	flush();
	outb(0x60, 0xff);
	a = get();
	b = get();
	EXPECT(a == 0xfa && b == 0xaa, "kbc: keyboard reset 0x%x 0x%x (want fa aa)",
	       a, b);
	outb(0x60, 0xf2);
	a = get();
	b = get();
	c = get();
	EXPECT(a == 0xfa && b == 0xab && c == 0x41,
	       "kbc: identify %x %x %x (want fa ab 41, translated)", a, b, c);
	outb(0x60, 0xee);
	a = get();
	EXPECT(a == 0xee, "kbc: echo 0x%x", a);
	outb(0x60, 0xed);
	a = get();
	outb(0x60, 0x07);
	b = get();
	EXPECT(a == 0xfa && b == 0xfa, "kbc: LEDs %x %x", a, b);
	outb(0x60, 0xf0);
	a = get();
	outb(0x60, 0x00);
	b = get();
	c = get();
	EXPECT(a == 0xfa && b == 0xfa && c == 0x41,
	       "kbc: scan set %x %x %x (want fa fa 41)", a, b, c);
	outb(0x60, 0x01);
	a = get();
	EXPECT(a == 0xfe, "kbc: unknown keyboard command 0x%x (want fe)", a);
	EXPECT(get() == -1, "kbc: a byte nobody asked for");

	/* A disabled keyboard interface holds the keyboard's bytes. */
	cmd(0xad);
	outb(0x60, 0xff);
	EXPECT(!obf(), "kbc: keyboard byte through a disabled interface");
	cmd(0xae);
	a = get();
	b = get();
	EXPECT(a == 0xfa && b == 0xaa, "kbc: held reset reply %x %x", a, b);

	/* Into the output buffer, as from the keyboard or the aux device. */
	cmd(0xd2);
	outb(0x60, 0x12);
	EXPECT((inb(0x64) & 0x21) == 0x01 && inb(0x60) == 0x12,
	       "kbc: 0xd2 byte");
	cmd(0xd3);
	outb(0x60, 0x5a);
	EXPECT((inb(0x64) & 0x21) == 0x21 && inb(0x60) == 0x5a,
	       "kbc: 0xd3 aux loopback");
	EXPECT(!(inb(0x64) & 0x20), "kbc: AUXB after the read");
	/* To the aux device: nobody there. */
	cmd(0xd4);
	outb(0x60, 0xf2);
	a = inb(0x64);
	b = get();
	EXPECT((a & 0x61) == 0x61 && b == 0xfe,
	       "kbc: aux write: status 0x%x byte 0x%x (want time-out, fe)", a, b);
	EXPECT(!(inb(0x64) & 0x40), "kbc: time-out left after the read");
}

static void check_irqs(void)
{
	unsigned long n;

	idt_hook(VEC_KBD, kbc_hook);
	idt_hook(VEC_AUX, kbc_hook);
	apic_write(APIC_SVR, 0x1ff);
	ioapic_write(0x11 + 2 * 1, 0);
	ioapic_write(0x10 + 2 * 1, VEC_KBD);
	ioapic_write(0x11 + 2 * 12, 0);
	ioapic_write(0x10 + 2 * 12, VEC_AUX);
	flush();
	set_ctr(0x44);		/* no interrupts */
	outb(0x60, 0xee);
	irq_enable();
	__asm__ volatile("nop; nop" ::: "memory");
	irq_disable();
	EXPECT(irq_count[VEC_KBD] == 0 && obf(), "kbc: IRQ 1 with KBDINT clear");
	flush();
	set_ctr(0x47);		/* KBDINT and AUXINT */
	outb(0x60, 0xff);
	wait_irq(&irq_count[VEC_KBD], 2);
	EXPECT(irq_count[VEC_KBD] == 2 && irq_byte == 0xaa,
	       "kbc: IRQ 1 per byte: %lu, last 0x%x", irq_count[VEC_KBD],
	       irq_byte);
	n = irq_count[VEC_AUX];
	cmd(0xd3);
	outb(0x60, 0xa5);
	wait_irq(&irq_count[VEC_AUX], n + 1);
	EXPECT(irq_byte == 0xa5 && (irq_status & 0x21) == 0x21,
	       "kbc: IRQ 12: byte 0x%x status 0x%x", irq_byte, irq_status);
	EXPECT(irq_count[VEC_KBD] == 2, "kbc: aux data raised IRQ 1");
	set_ctr(0x65);
	ioapic_write(0x10 + 2 * 1, 0x10000 | VEC_KBD);
	ioapic_write(0x10 + 2 * 12, 0x10000 | VEC_AUX);
}

int guest_main(void)
{
	unsigned long boots = counter(STRATA_CTR_RESETS);

	idt_init();
	if (boots == 0) {
		gprintf("kbc: start\n");
		check_controller();
		check_keyboard();
		check_irqs();
		/* Leave a changed state behind: the reset must undo it. */
		set_ctr(0x00);
		outb(0x70, 0x50);	/* and CMOS RAM, which it must keep */
		outb(0x71, 0x5a);
		gprintf("kbc: %u of %u checks failed before the reset; pulsing the reset line\n",
			checks_failed, checks_run);
		if (checks_failed) {
			return checks_result("kbc");
		}
		cmd(0xfe);
		for (;;) {
			__asm__ volatile("pause");
		}
	}
	gprintf("kbc: boot %lu after the 8042 reset\n", boots);
	EXPECT(boots == 1, "kbc: %lu resets", boots);
	EXPECT(inb(0x64) == 0x14 && ctr() == 0x65,
	       "kbc: status 0x%x, command byte 0x%x after the reset",
	       inb(0x64), ctr());
	outb(0x70, 0x50);
	EXPECT(inb(0x71) == 0x5a, "kbc: CMOS RAM byte 0x50 lost in the reset");
	return checks_result("kbc");
}
