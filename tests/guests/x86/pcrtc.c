// SPDX-License-Identifier: MIT
/*
 * pcrtc: the MC146818 RTC and CMOS RAM of a PC (docs/x86-pc-devices.md):
 *   - registers A-D as a BIOS leaves them (A 0x26, B 0x02, C 0, D VRT),
 *     D read-only, port 0x70 write-only;
 *   - the date at the VM's start: the fixed epoch 2026-01-01, a Thursday,
 *     in BCD, with the century byte 0x32;
 *   - CMOS RAM 0x0e-0x7f readable and writable, the index's bit 7 (NMI
 *     mask) not part of it, the BIOS memory bytes;
 *   - the periodic interrupt at 8192 Hz on IRQ 8 (IOAPIC pin 8), PF and
 *     IRQF in C, C cleared by its read, PF without PIE raising nothing;
 *   - an update cycle: SET holds the clock and UIP, a divider reset ends
 *     with the first update 0.5 s later, UIP high for its 244 + 1984 us
 *     before, the time registers rolling over 11:59:59 PM (12-hour BCD)
 *     on 2099-12-31 to 12:00:00 AM 2100-01-01 with the century and day of
 *     week, the update-ended and alarm flags and their interrupt;
 *   - binary and 24-hour registers written and read back.
 * Times are in TSC cycles at the rate CPUID tells.
 */
#include "guest.h"
#include "x86.h"

#define IOAPIC		0xfec00000UL
#define VEC_RTC		0x48

static uint64_t tsc_hz;

static uint64_t told_tsc_hz(void)
{
	uint32_t r[4], l[4];

	cpuid2(0, 0, r);
	if (r[0] >= 0x15) {
		cpuid2(0x15, 0, l);
		if (l[0] && l[1] && l[2]) {
			return (uint64_t)l[2] * l[1] / l[0];
		}
	}
	if (r[0] >= 0x16) {
		cpuid2(0x16, 0, l);
		if (l[0] & 0xffff) {
			return (uint64_t)(l[0] & 0xffff) * 1000000;
		}
	}
	return 0;
}

/* TSC cycles to microseconds. */
static uint64_t us(uint64_t cycles)
{
	return cycles * 1000 / (tsc_hz / 1000);
}

static uint8_t rd(uint8_t i)
{
	outb(0x70, i);
	return inb(0x71);
}

static void wr(uint8_t i, uint8_t v)
{
	outb(0x70, i);
	outb(0x71, v);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static volatile uint8_t last_c;
static volatile uint64_t irq_tsc[16];

static void rtc_hook(struct exc_frame *f)
{
	unsigned long n = irq_count[VEC_RTC];

	(void)f;
	last_c = rd(0x0c);
	if (n <= 16) {
		irq_tsc[n - 1] = rdtsc();
	}
	apic_write(APIC_EOI, 0);
}

static void check_registers(void)
{
	uint8_t s;

	EXPECT(rd(0x0d) == 0x80, "rtc: D 0x%x (want VRT 0x80)", rd(0x0d));
	wr(0x0d, 0x00);
	EXPECT(rd(0x0d) == 0x80, "rtc: D took a write: 0x%x", rd(0x0d));
	EXPECT((rd(0x0a) & 0x7f) == 0x26, "rtc: A 0x%x (want 0x26)", rd(0x0a));
	EXPECT(rd(0x0b) == 0x02, "rtc: B 0x%x (want 0x02)", rd(0x0b));
	(void)rd(0x0c);
	EXPECT(rd(0x0c) == 0, "rtc: C 0x%x after a read", rd(0x0c));
	EXPECT(inb(0x70) == 0xff, "rtc: port 0x70 read 0x%x", inb(0x70));

	/* The epoch, in BCD: 2026-01-01, Thursday, the first seconds. */
	EXPECT(rd(0x32) == 0x20 && rd(0x09) == 0x26 && rd(0x08) == 0x01 &&
	       rd(0x07) == 0x01, "rtc: date %02x%02x-%02x-%02x", rd(0x32),
	       rd(0x09), rd(0x08), rd(0x07));
	EXPECT(rd(0x06) == 5, "rtc: day of week %u (want 5)", rd(0x06));
	s = rd(0x00);
	EXPECT(rd(0x04) == 0 && rd(0x02) == 0 && s <= 0x09,
	       "rtc: time %02x:%02x:%02x at start", rd(0x04), rd(0x02), s);
	gprintf("rtc: start %02x%02x-%02x-%02x %02x:%02x:%02x\n", rd(0x32),
		rd(0x09), rd(0x08), rd(0x07), rd(0x04), rd(0x02), s);
}

static void check_ram(void)
{
	uint8_t save[0x80];
	unsigned int bad = 0;

	EXPECT(rd(0x15) == 0x80 && rd(0x16) == 0x02,
	       "rtc: base memory %u KiB", rd(0x15) | rd(0x16) << 8);
	EXPECT((rd(0x17) | rd(0x18) << 8) == 7 * 1024,
	       "rtc: extended memory %u KiB (want 7168)",
	       rd(0x17) | rd(0x18) << 8);
	for (unsigned int i = 0x0e; i < 0x80; i++) {
		save[i] = rd((uint8_t)i);
		wr((uint8_t)i, (uint8_t)(i ^ 0xa5));
	}
	for (unsigned int i = 0x0e; i < 0x80; i++) {
		bad += rd((uint8_t)i) != (uint8_t)(i ^ 0xa5);
		/* Bit 7 of the index is the NMI mask, not an address bit. */
		bad += rd((uint8_t)(i | 0x80)) != (uint8_t)(i ^ 0xa5);
	}
	EXPECT(bad == 0, "rtc: %u CMOS RAM bytes did not keep their value", bad);
	for (unsigned int i = 0x0e; i < 0x80; i++) {
		wr((uint8_t)i, save[i]);
	}
	EXPECT(rd(0x32) == 0x20, "rtc: century 0x%x after the restore",
	       rd(0x32));
}

static void check_periodic(void)
{
	uint64_t t0, span;
	uint8_t c;

	idt_hook(VEC_RTC, rtc_hook);
	ioapic_write(0x11 + 2 * 8, 0);
	ioapic_write(0x10 + 2 * 8, VEC_RTC);
	/* Rate 3: 8192 Hz, 122.07 us; PF without PIE: a flag, no IRQ. */
	wr(0x0a, 0x23);
	(void)rd(0x0c);
	t0 = rdtsc();
	while (us(rdtsc() - t0) < 400) {
	}
	c = rd(0x0c);
	EXPECT(c == 0x40, "rtc: C 0x%x with PF and no PIE (want 0x40)", c);
	EXPECT(irq_count[VEC_RTC] == 0, "rtc: an IRQ without PIE");
	wr(0x0b, 0x42);		/* PIE, 24 h, BCD */
	wait_irq(&irq_count[VEC_RTC], 10);
	wr(0x0b, 0x02);
	EXPECT((last_c & 0xc0) == 0xc0, "rtc: C 0x%x in the handler", last_c);
	span = irq_tsc[9] - irq_tsc[1];
	/* 8 periods of 122.07 us = 976.6 us */
	EXPECT(us(span) >= 950 && us(span) <= 1005,
	       "rtc: 8 periodic interrupts in %lu us (want 977)",
	       (unsigned long)us(span));
	gprintf("rtc: periodic 8192 Hz: 8 periods in %lu us\n",
		(unsigned long)us(span));
	wr(0x0a, 0x20);
	(void)rd(0x0c);
}

static void check_update(void)
{
	uint64_t t0, t_uip = 0, t_end = 0, t;
	unsigned long n;
	uint8_t a, sec_before = 0;

	/* SET: the clock stands; write 2099-12-31 11:59:59 PM, 12 h BCD. */
	wr(0x0b, 0x80);
	wr(0x00, 0x59);
	wr(0x02, 0x59);
	wr(0x04, 0x91);		/* 11 PM */
	wr(0x06, 5);		/* Thursday */
	wr(0x07, 0x31);
	wr(0x08, 0x12);
	wr(0x09, 0x99);
	wr(0x32, 0x20);
	wr(0x01, 0x00);		/* alarm 12:00:00 AM */
	wr(0x03, 0x00);
	wr(0x05, 0x12);
	EXPECT(!(rd(0x0a) & 0x80), "rtc: UIP with SET");
	wr(0x0a, 0x60);		/* divider reset */
	wr(0x0b, 0x30);		/* SET clear; UIE, AIE; 12 h BCD */
	(void)rd(0x0c);
	n = irq_count[VEC_RTC];
	t0 = rdtsc();
	wr(0x0a, 0x20);		/* the chain starts: update in 0.5 s */
	irq_enable();
	for (;;) {
		t = rdtsc();
		a = rd(0x0a);
		if ((a & 0x80) && !t_uip) {
			t_uip = t;
			sec_before = rd(0x00);
		}
		if (!(a & 0x80) && t_uip) {
			t_end = t;
			break;
		}
		if (us(t - t0) > 700000) {
			break;
		}
	}
	while (irq_count[VEC_RTC] == n && us(rdtsc() - t0) < 710000) {
	}
	irq_disable();
	EXPECT(t_uip && t_end, "rtc: no update cycle within 0.7 s");
	EXPECT(us(t_end - t0) >= 495000 && us(t_end - t0) <= 505000,
	       "rtc: first update %lu us after the divider reset (want 500000)",
	       (unsigned long)us(t_end - t0));
	EXPECT(us(t_end - t_uip) >= 2100 && us(t_end - t_uip) <= 2400,
	       "rtc: UIP high for %lu us (want 2228)",
	       (unsigned long)us(t_end - t_uip));
	EXPECT(sec_before == 0x59, "rtc: seconds 0x%x during UIP", sec_before);
	EXPECT(irq_count[VEC_RTC] == n + 1 && (last_c & 0xf0) == 0xb0,
	       "rtc: update interrupt: %lu, C 0x%x (want IRQF AF UF 0xb0)",
	       irq_count[VEC_RTC] - n, last_c);
	EXPECT(rd(0x00) == 0x00 && rd(0x02) == 0x00 && rd(0x04) == 0x12,
	       "rtc: time %02x:%02x:%02x after 11:59:59 PM (want 12:00:00 AM)",
	       rd(0x04), rd(0x02), rd(0x00));
	EXPECT(rd(0x32) == 0x21 && rd(0x09) == 0x00 && rd(0x08) == 0x01 &&
	       rd(0x07) == 0x01 && rd(0x06) == 6,
	       "rtc: date %02x%02x-%02x-%02x dow %u after 2099-12-31 (want 2100-01-01, 6)",
	       rd(0x32), rd(0x09), rd(0x08), rd(0x07), rd(0x06));
	gprintf("rtc: update %lu us after the divider reset, UIP %lu us: %02x%02x-%02x-%02x %02x:%02x:%02x\n",
		(unsigned long)us(t_end - t0), (unsigned long)us(t_end - t_uip),
		rd(0x32), rd(0x09), rd(0x08), rd(0x07), rd(0x04), rd(0x02),
		rd(0x00));
	wr(0x0b, 0x02);
	ioapic_write(0x10 + 2 * 8, 0x10000 | VEC_RTC);

	/* Binary, 24 h: written and read as is; SET clears UIE. */
	wr(0x0b, 0x96);
	EXPECT(rd(0x0b) == 0x86, "rtc: B 0x%x after SET|UIE (want 0x86)",
	       rd(0x0b));
	wr(0x04, 23);
	wr(0x02, 45);
	EXPECT(rd(0x04) == 23 && rd(0x02) == 45, "rtc: binary %u:%u", rd(0x04),
	       rd(0x02));
	wr(0x0b, 0x06);
}

int guest_main(void)
{
	idt_init();
	apic_write(APIC_SVR, 0x1ff);
	tsc_hz = told_tsc_hz();
	gprintf("rtc: start, TSC %lu Hz\n", (unsigned long)tsc_hz);
	if (!tsc_hz) {
		EXPECT(false, "no TSC rate in CPUID 0x15/0x16");
		return checks_result("rtc");
	}
	check_registers();
	check_ram();
	check_periodic();
	check_update();
	return checks_result("rtc");
}
