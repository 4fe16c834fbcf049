// SPDX-License-Identifier: MIT
/*
 * pcpit: the 8254 PIT and port 0x61 of a PC (docs/x86-pc-devices.md),
 * measured against the guest's own TSC at the rate CPUID tells it
 * (leaf 0x15, else 0x16), as Linux's pit_calibrate_tsc() does:
 *   - counter 2, mode 0, gated by port 0x61 bit 0: OUT2 (port 0x61 bit 5)
 *     low after the count is written, high only once the count has
 *     elapsed in TSC time (both bounds), for LSB+MSB, LSB-only and
 *     MSB-only counts and a BCD count (read back as BCD digits);
 *   - gate low holds a mode 0 count, gate high resumes it;
 *   - the counter latch freezes the count until it is read, a second
 *     latch before that is ignored; the read-back command latches status
 *     (OUT, null count, access, mode, BCD) and count together;
 *   - mode 3 on counter 2: OUT2 high and low for half the count each, the
 *     count read even;
 *   - port 0x61: writable bits read back, bit 4 (refresh) toggles;
 *   - counter 0 in mode 2 drives ISA IRQ 0 through IOAPIC pin 2 (the
 *     MADT's override) at its period, then in mode 3 through the 8259 and
 *     LINT0 (ExtINT), and stops when counter 0 is reprogrammed.
 * Every time bound is in PIT ticks converted from TSC cycles.
 */
#include "guest.h"
#include "x86.h"

#define PIT_HZ		1193182ULL
#define IOAPIC		0xfec00000UL
#define RTE_MASKED	(1U << 16)
#define VEC_PIT		0x40
#define PIC_BASE	0x20
#define APIC_LVT0	0x350

static uint64_t tsc_hz;

static uint64_t told_tsc_hz(void)
{
	uint32_t r[4];

	cpuid2(0, 0, r);
	if (r[0] >= 0x15) {
		uint32_t l[4];

		cpuid2(0x15, 0, l);
		if (l[0] && l[1] && l[2]) {
			return (uint64_t)l[2] * l[1] / l[0];
		}
	}
	if (r[0] >= 0x16) {
		uint32_t l[4];

		cpuid2(0x16, 0, l);
		if (l[0] & 0xffff) {
			return (uint64_t)(l[0] & 0xffff) * 1000000;
		}
	}
	return 0;
}

/* TSC cycles to PIT ticks. */
static uint64_t ticks(uint64_t cycles)
{
	return cycles * PIT_HZ / tsc_hz;
}

static void spin_ticks(uint64_t t)
{
	uint64_t t0 = rdtsc();

	while (ticks(rdtsc() - t0) < t) {
	}
}

static bool out2(void)
{
	return inb(0x61) & 0x20;
}

/*
 * A gap this long between two reads of a polling loop means the VM was
 * not running (another VM's slice): such a measurement is taken again.
 */
#define GAP_CYCLES	50000
static bool gap_seen;

/* Wait for OUT2 high; the PIT ticks it took, or ~0 after @limit ticks. */
static uint64_t wait_out2(uint64_t t0, uint64_t limit)
{
	uint64_t last = rdtsc();

	for (;;) {
		uint64_t now = rdtsc(), t = ticks(now - t0);

		gap_seen |= now - last > GAP_CYCLES;
		last = now;
		if (out2()) {
			return t;
		}
		if (t > limit) {
			return ~0ULL;
		}
	}
}

static uint16_t read16(uint16_t port)
{
	uint8_t lo = inb(port);

	return (uint16_t)(lo | inb(port) << 8);
}

/* Counter 2 in mode 0 from a count @n written as @cw's access says. */
static void mode0_case(const char *what, uint8_t cw, unsigned int n,
		       unsigned int lsb, unsigned int msb)
{
	uint64_t t0, t;
	unsigned int tries = 0;

again:
	gap_seen = false;
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);	/* gate on, speaker off */
	outb(0x43, cw);
	EXPECT(!out2(), "PIT %s: OUT2 high after the control word", what);
	if ((cw & 0x30) != 0x20) {
		outb(0x42, (uint8_t)lsb);
	}
	if ((cw & 0x30) != 0x10) {
		outb(0x42, (uint8_t)msb);
	}
	t0 = rdtsc();
	EXPECT(!out2(), "PIT %s: OUT2 high at once", what);
	t = wait_out2(t0, n * 3ULL);
	if (gap_seen && ++tries < 4) {
		goto again;
	}
	/* The count takes n + 1 clocks; allow 3% + 8 ticks of exits. */
	EXPECT(t != ~0ULL && t + 8 >= n - n / 33 && t <= n + n / 33 + 8,
	       "PIT %s: OUT2 rose after %lu ticks, count %u", what,
	       (unsigned long)t, n);
	gprintf("pit: %s: OUT2 after %lu ticks (count %u)\n", what,
		(unsigned long)t, n);
}

static void check_mode0(void)
{
	uint16_t v;

	mode0_case("mode 0 LSB+MSB", 0xb0, 2000, 2000 & 0xff, 2000 >> 8);
	mode0_case("mode 0 LSB only", 0x90, 200, 200, 0);
	mode0_case("mode 0 MSB only", 0xa0, 0x0c00, 0, 0x0c);
	/* BCD 1500: 1500 ticks, not 0x1500. */
	mode0_case("mode 0 BCD", 0xb1, 1500, 0x00, 0x15);
	outb(0x43, 0xb1);
	outb(0x42, 0x99);
	outb(0x42, 0x99);
	spin_ticks(50);
	outb(0x43, 0x80);
	v = read16(0x42);
	EXPECT((v & 0xf) <= 9 && (v >> 4 & 0xf) <= 9 && (v >> 8 & 0xf) <= 9 &&
	       (v >> 12) <= 9 && v < 0x9999 && v > 0x9000,
	       "PIT BCD count 0x%x is not BCD below 9999", v);
}

static void check_gate_and_latch(void)
{
	uint16_t a, b, c;
	uint8_t st;

	/* Gate low holds a mode 0 count; OUT2 does not rise meanwhile. */
	outb(0x61, 0x00);
	outb(0x43, 0xb0);
	outb(0x42, 0x00);
	outb(0x42, 0x10);	/* 4096 */
	spin_ticks(20);
	outb(0x43, 0x80);
	a = read16(0x42);
	spin_ticks(600);
	outb(0x43, 0x80);
	b = read16(0x42);
	EXPECT(a == b, "PIT gate low: count moved 0x%x -> 0x%x", a, b);
	outb(0x61, 0x01);
	spin_ticks(600);
	outb(0x43, 0x80);
	c = read16(0x42);
	EXPECT(b > c && b - c >= 500 && b - c <= 700,
	       "PIT gate high: count 0x%x -> 0x%x in 600 ticks", b, c);

	/* A latch holds; a second latch before the read is ignored. */
	outb(0x43, 0x80);
	spin_ticks(400);
	outb(0x43, 0x80);
	a = read16(0x42);
	outb(0x43, 0x80);
	b = read16(0x42);
	EXPECT(a > b && a - b >= 350 && a - b <= 480,
	       "PIT latch: latched 0x%x, later 0x%x (400 ticks apart)", a, b);
	/* Reading live (no latch): it keeps counting down. */
	a = read16(0x42);
	spin_ticks(100);
	b = read16(0x42);
	EXPECT(a > b, "PIT live count 0x%x then 0x%x", a, b);

	/* Read-back: status after the control word (null count, OUT low). */
	outb(0x43, 0xb0);
	outb(0x43, 0xe8);	/* status of counter 2 */
	st = inb(0x42);
	EXPECT(st == 0x70, "PIT status after control word 0x%x (want 0x70)",
	       st);
	outb(0x42, 50);
	outb(0x42, 0);
	EXPECT(wait_out2(rdtsc(), 1000) != ~0ULL, "PIT: count 50 never ended");
	outb(0x43, 0xc8);	/* status and count of counter 2 */
	st = inb(0x42);
	a = read16(0x42);
	EXPECT(st == 0xb0, "PIT status after the count 0x%x (want 0xb0)", st);
	/* Mode 0 counts on past 0: 0, 0xffff, ... */
	EXPECT(a == 0 || a > 0xff00,
	       "PIT read-back count 0x%x past terminal count", a);
	/* Mode 2 (written as 6), LSB only: status says so. */
	outb(0x43, 0x9c);
	outb(0x42, 100);
	spin_ticks(5);
	outb(0x43, 0xe8);
	st = inb(0x42);
	EXPECT(st == 0x9c, "PIT mode 6 status 0x%x (want 0x9c)", st);
}

static void check_mode3(void)
{
	uint64_t t0, t1, t2, t3;
	uint16_t v;
	bool odd = false;

	outb(0x61, 0x01);
	outb(0x43, 0xb6);	/* counter 2, mode 3 */
	outb(0x42, 2000 & 0xff);
	outb(0x42, 2000 >> 8);
	for (unsigned int i = 0; i < 8; i++) {
		outb(0x43, 0x80);
		v = read16(0x42);
		odd |= v & 1;
	}
	EXPECT(!odd, "PIT mode 3: odd count read");
	t0 = rdtsc();
	while (out2() && ticks(rdtsc() - t0) < 5000) {
	}
	t1 = rdtsc();	/* falling */
	while (!out2() && ticks(rdtsc() - t0) < 5000) {
	}
	t2 = rdtsc();	/* rising */
	while (out2() && ticks(rdtsc() - t0) < 8000) {
	}
	t3 = rdtsc();	/* falling */
	EXPECT(ticks(t2 - t1) >= 950 && ticks(t2 - t1) <= 1050,
	       "PIT mode 3: low for %lu ticks (want 1000)",
	       (unsigned long)ticks(t2 - t1));
	EXPECT(ticks(t3 - t2) >= 950 && ticks(t3 - t2) <= 1050,
	       "PIT mode 3: high for %lu ticks (want 1000)",
	       (unsigned long)ticks(t3 - t2));
	outb(0x61, 0x00);
}

static void check_port61(void)
{
	unsigned int seen = 0;
	uint8_t v;

	outb(0x61, 0x0f);
	v = inb(0x61);
	EXPECT((v & 0xcf) == 0x0f, "port 0x61 read 0x%x after 0x0f", v);
	outb(0x61, 0xf0);
	v = inb(0x61);
	EXPECT((v & 0xcf) == 0x00, "port 0x61 read 0x%x after 0xf0", v);
	for (unsigned int i = 0; i < 2000 && seen != 3; i++) {
		seen |= inb(0x61) & 0x10 ? 2 : 1;
	}
	EXPECT(seen == 3, "port 0x61 refresh bit never toggled (%u)", seen);
}

/* ---- IRQ 0 ----------------------------------------------------------- */

static volatile uint64_t irq_tsc[16];

static void pit_hook(struct exc_frame *f)
{
	unsigned long n = irq_count[VEC_PIT];

	(void)f;
	if (n <= 16) {
		irq_tsc[n - 1] = rdtsc();
	}
	apic_write(APIC_EOI, 0);
}

static void pic_hook(struct exc_frame *f)
{
	unsigned long n = irq_count[PIC_BASE];

	(void)f;
	if (n <= 16) {
		irq_tsc[n - 1] = rdtsc();
	}
	outb(0x20, 0x20);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static void check_irq0(void)
{
	uint64_t span;
	unsigned long n;

	apic_write(APIC_SVR, 0x1ff);
	idt_hook(VEC_PIT, pit_hook);
	idt_hook(PIC_BASE, pic_hook);
	/* Mode 2, 500 ticks, through IOAPIC pin 2 (edge, to APIC 0). */
	ioapic_write(0x11 + 2 * 2, 0);
	ioapic_write(0x10 + 2 * 2, VEC_PIT);
	outb(0x43, 0x34);
	outb(0x40, 500 & 0xff);
	outb(0x40, 500 >> 8);
	wait_irq(&irq_count[VEC_PIT], 10);
	/*
	 * 6 periods of 500 ticks (the first interrupts may be the edge of
	 * the control word, OUT going high, and an edge from before).
	 */
	span = irq_tsc[9] - irq_tsc[3];
	EXPECT(ticks(span) >= 2900 && ticks(span) <= 3100,
	       "IRQ 0 (mode 2, IOAPIC pin 2): 6 periods in %lu ticks (want 3000)",
	       (unsigned long)ticks(span));
	gprintf("pit: IRQ 0 via IOAPIC pin 2: 6 periods in %lu ticks\n",
		(unsigned long)ticks(span));
	/* Stopped: a mode 0 control word without a count. */
	outb(0x43, 0x30);
	n = irq_count[VEC_PIT];
	irq_enable();
	spin_ticks(2000);
	irq_disable();
	EXPECT(irq_count[VEC_PIT] == n,
	       "IRQ 0 went on after the PIT stopped: %lu -> %lu", n,
	       irq_count[VEC_PIT]);
	ioapic_write(0x10 + 2 * 2, RTE_MASKED | VEC_PIT);

	/* Mode 3, 300 ticks, through the 8259 and LINT0 (ExtINT). */
	outb(0x20, 0x11);
	outb(0x21, PIC_BASE);
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0xa0, 0x11);
	outb(0xa1, PIC_BASE + 8);
	outb(0xa1, 0x02);
	outb(0xa1, 0x01);
	outb(0xa1, 0xff);
	outb(0x21, 0xfe);	/* IRQ 0 only */
	apic_write(APIC_LVT0, 0x700);
	outb(0x43, 0x36);
	outb(0x40, 300 & 0xff);
	outb(0x40, 300 >> 8);
	wait_irq(&irq_count[PIC_BASE], 10);
	span = irq_tsc[9] - irq_tsc[3];
	EXPECT(ticks(span) >= 1740 && ticks(span) <= 1860,
	       "IRQ 0 (mode 3, 8259): 6 periods in %lu ticks (want 1800)",
	       (unsigned long)ticks(span));
	gprintf("pit: IRQ 0 via the 8259: 6 periods in %lu ticks\n",
		(unsigned long)ticks(span));
	outb(0x43, 0x30);
	outb(0x21, 0xff);
	apic_write(APIC_LVT0, 0x10700);
}

int guest_main(void)
{
	uint16_t a, b;

	idt_init();
	tsc_hz = told_tsc_hz();
	gprintf("pit: start, TSC %lu Hz\n", (unsigned long)tsc_hz);
	if (!tsc_hz) {
		EXPECT(false, "no TSC rate in CPUID 0x15/0x16");
		return checks_result("pit");
	}
	/*
	 * The other VMs of the boot end within their first slices: let them
	 * (a slice is 2^21 TSC cycles), so that timings see this VM alone.
	 */
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < (1ULL << 24);) {
	}
	check_mode0();
	check_gate_and_latch();
	check_mode3();
	check_port61();
	/* Counter 1 counts too (mode 2, LSB+MSB). */
	outb(0x43, 0x74);
	outb(0x41, 0x00);
	outb(0x41, 0x40);
	spin_ticks(10);
	outb(0x43, 0x40);
	a = read16(0x41);
	spin_ticks(200);
	outb(0x43, 0x40);
	b = read16(0x41);
	EXPECT(a > b && a - b >= 150 && a - b <= 260,
	       "PIT counter 1: 0x%x then 0x%x in 200 ticks", a, b);
	check_irq0();
	return checks_result("pit");
}
