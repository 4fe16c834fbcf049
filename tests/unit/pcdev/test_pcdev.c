// SPDX-License-Identifier: MIT
/*
 * Host tests of the legacy PC devices (arch/x86/pit.c, rtc.c, i8042.c) on
 * the real device bus with a TSC the test moves: the cases a guest under
 * Bochs could only reach by waiting (calendar roll-overs, leap years, the
 * slow RTC rates, divider reset and SET over seconds) or that need exact
 * clocks (each PIT mode's OUT and count clock by clock, the reload at the
 * period's end, gate triggers). tests/boot/pcdev_x86.py drives the same
 * code from guests.
 */
#include <string.h>

#include <arch/pcdev.h>
#include <lib/errno.h>
#include <vmm/vm.h>
#include "harness.h"

/* 1000 TSC cycles per PIT clock. */
#define HZ		(X86_PIT_HZ * 1000)

static struct vm vm;
static struct vm_config cfg = { .name = "pc", .cpus = 1 };
static uint64_t tsc = 1000000;
static bool lines[24];
static unsigned int rises[24];
static unsigned int resets;

uint64_t x86_pcdev_tsc(void)
{
	return tsc;
}

uint64_t x86_tsc_hz(const char **source)
{
	if (source) {
		*source = "test";
	}
	return HZ;
}

int x86_irq_line(struct vm *m, unsigned int line, bool level)
{
	(void)m;
	if (level && !lines[line]) {
		rises[line]++;
	}
	lines[line] = level;
	return 0;
}

void vm_request_reset(struct vm *m, const char *why)
{
	(void)m;
	(void)why;
	resets++;
}

static struct vcpu *setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(lines, 0, sizeof(lines));
	memset(rises, 0, sizeof(rises));
	resets = 0;
	vm.cfg = &cfg;
	vm.name = "pc";
	vm.state = VM_RUNNING;
	vm.nr_vcpus = 1;
	vm.ram_size = 64ULL << 20;
	vm.vcpus[0].vm = &vm;
	vm.vcpus[0].state = VCPU_RUNNABLE;
	if (x86_pit_add(&vm) || x86_rtc_add(&vm) || x86_i8042_add(&vm)) {
		return NULL;
	}
	return &vm.vcpus[0];
}

static uint8_t in(struct vcpu *v, uint16_t port)
{
	uint64_t val = 0;

	vm_io_access(v, IO_PIO, port, 1, false, &val);
	return (uint8_t)val;
}

static void out(struct vcpu *v, uint16_t port, uint8_t val)
{
	uint64_t x = val;

	vm_io_access(v, IO_PIO, port, 1, true, &x);
}

/* ---- PIT --------------------------------------------------------------- */

/* PIT clock @t since the VM was made (the TSC at its start). */
static uint64_t base;

static void pit_at(uint64_t t)
{
	tsc = base + t * 1000;
}

static void pit_setup(struct vcpu **v)
{
	tsc = 5000000;
	base = tsc;
	*v = setup();
}

/* LSB, then MSB (two reads in this order). */
static uint16_t read16(struct vcpu *v, uint16_t port)
{
	uint8_t lo = in(v, port);

	return (uint16_t)(lo | in(v, port) << 8);
}

static uint16_t latch16(struct vcpu *v, unsigned int ctr)
{
	out(v, 0x43, (uint8_t)(ctr << 6));
	return read16(v, (uint16_t)(0x40 + ctr));
}

static uint8_t status(struct vcpu *v, unsigned int ctr)
{
	out(v, 0x43, (uint8_t)(0xe0 | 2 << ctr));
	return in(v, 0x40 + ctr);
}

static bool out2(struct vcpu *v)
{
	return in(v, 0x61) & 0x20;
}

static void pit_mode2_irq0(void)
{
	struct vcpu *v;

	pit_setup(&v);
	CHECK(v);
	pit_at(10);
	out(v, 0x43, 0x34);
	out(v, 0x40, 100);
	out(v, 0x40, 0);
	/* The control word set OUT high: one edge. */
	CHECK_EQ(rises[0], 1);
	/* Loaded at clock 11: 100 at 11, 1 at 110 (OUT low), reload at 111. */
	pit_at(11);
	CHECK_EQ(latch16(v, 0), 100);
	pit_at(109);
	CHECK_EQ(latch16(v, 0), 2);
	CHECK(status(v, 0) & 0x80);
	pit_at(110);
	CHECK_EQ(latch16(v, 0), 1);
	CHECK(!(status(v, 0) & 0x80));
	x86_pit_poll(&vm);
	CHECK(!lines[0]);
	pit_at(111);
	CHECK_EQ(latch16(v, 0), 100);
	x86_pit_poll(&vm);
	CHECK_EQ(rises[0], 2);
	CHECK(lines[0]);
	/* The next edge is due at 211, in TSC. */
	CHECK_EQ(x86_pit_next_tsc(&vm), base + 211 * 1000);
	/* Five periods at once coalesce into one edge. */
	pit_at(711);
	x86_pit_poll(&vm);
	CHECK_EQ(rises[0], 3);
	/* A new count waits for the end of the period: 50 from 811. */
	pit_at(750);
	out(v, 0x40, 50);
	out(v, 0x40, 0);
	CHECK(status(v, 0) & 0x40);		/* null count */
	pit_at(800);
	CHECK_EQ(latch16(v, 0), 11);		/* 100 at 711 */
	pit_at(811);
	CHECK_EQ(latch16(v, 0), 50);
	CHECK(!(status(v, 0) & 0x40));
	x86_pit_poll(&vm);
	CHECK_EQ(rises[0], 4);			/* the edge at 811 */
	pit_at(861);
	CHECK_EQ(latch16(v, 0), 50);
	x86_pit_poll(&vm);
	CHECK_EQ(rises[0], 5);
	/* Masked on both paths: no timer is asked for. */
	vm.arch.pic.chip[0].imr = 0xff;
	vm.arch.ioapic.redir[2] = 1ULL << 16;
	CHECK_EQ(x86_pit_next_tsc(&vm), 0);
}

/* A count of 1, illegal in modes 2 and 3: OUT stays put, so no edges. */
static void pit_count_one(void)
{
	struct vcpu *v;

	pit_setup(&v);
	CHECK(v);
	for (unsigned int mode = 2; mode <= 3; mode++) {
		unsigned int before;

		pit_at(10);
		out(v, 0x43, (uint8_t)(0x30 | mode << 1));
		out(v, 0x40, 1);
		out(v, 0x40, 0);
		x86_pit_poll(&vm);
		before = rises[0];
		pit_at(1000);
		x86_pit_poll(&vm);
		CHECK_EQ(rises[0], before);
		CHECK_EQ(x86_pit_next_tsc(&vm), 0);
		base = tsc;
	}
}

static void pit_mode3_odd(void)
{
	struct vcpu *v;
	unsigned int high = 0, low = 0;

	pit_setup(&v);
	CHECK(v);
	out(v, 0x61, 0x01);		/* gate 2 high */
	out(v, 0x43, 0xb6);
	out(v, 0x42, 7);
	out(v, 0x42, 0);
	for (uint64_t t = 1; t < 1 + 7 * 4; t++) {
		pit_at(t);
		if (out2(v)) {
			high++;
		} else {
			low++;
		}
		CHECK(!(latch16(v, 2) & 1));
	}
	/* Odd count 7: high 4 clocks, low 3, each period. */
	CHECK_EQ(high, 16);
	CHECK_EQ(low, 12);
	/* Gate low: counting stops, OUT high; high again reloads. */
	pit_at(30);
	out(v, 0x61, 0x00);
	pit_at(33);
	CHECK(out2(v));
	out(v, 0x61, 0x01);
	pit_at(34);
	CHECK_EQ(latch16(v, 2), 6);	/* 7 loaded, drops its odd one */
}

static void pit_mode0_gate_and_first_byte(void)
{
	struct vcpu *v;

	pit_setup(&v);
	CHECK(v);
	out(v, 0x61, 0x01);
	out(v, 0x43, 0xb0);
	CHECK(!out2(v));
	CHECK_EQ(status(v, 2), 0x70);
	out(v, 0x42, 10);
	out(v, 0x42, 0);
	pit_at(5);		/* 10 at clock 1: 6 at 5 */
	CHECK_EQ(latch16(v, 2), 6);
	out(v, 0x61, 0x00);	/* held */
	pit_at(50);
	CHECK_EQ(latch16(v, 2), 6);
	CHECK(!out2(v));
	out(v, 0x61, 0x01);
	pit_at(55);
	CHECK_EQ(latch16(v, 2), 1);
	CHECK(!out2(v));
	pit_at(56);
	CHECK(out2(v));
	CHECK_EQ(status(v, 2), 0xb0);
	pit_at(57);
	CHECK_EQ(latch16(v, 2), 0xffff);	/* counts on past 0 */
	/* The first byte of a new count stops it and drops OUT. */
	out(v, 0x42, 20);
	CHECK(!out2(v));
	pit_at(80);
	CHECK_EQ(latch16(v, 2), 0xffff);	/* stopped where it was */
	pit_at(100);
	out(v, 0x42, 0);
	pit_at(120);
	CHECK(!out2(v));
	pit_at(121);
	CHECK(out2(v));
}

static void pit_modes_1_4_5(void)
{
	struct vcpu *v;

	pit_setup(&v);
	CHECK(v);
	/* Mode 1: one-shot from the gate's rising edge. */
	out(v, 0x43, 0xb2);
	out(v, 0x42, 5);
	out(v, 0x42, 0);
	pit_at(20);
	CHECK(out2(v));			/* no trigger yet */
	out(v, 0x61, 0x01);		/* trigger at 20: 5 at 21 */
	pit_at(21);
	CHECK(!out2(v));
	pit_at(25);
	CHECK(!out2(v));
	pit_at(26);
	CHECK(out2(v));
	out(v, 0x61, 0x00);
	pit_at(30);
	out(v, 0x61, 0x01);		/* retrigger */
	pit_at(31);
	CHECK(!out2(v));
	/* Mode 4: low for the one clock at terminal count. */
	out(v, 0x43, 0xb8);
	CHECK(out2(v));
	out(v, 0x42, 3);
	out(v, 0x42, 0);
	pit_at(34);			/* 3 at 32, 0 at 35 */
	CHECK(out2(v));
	pit_at(35);
	CHECK(!out2(v));
	pit_at(36);
	CHECK(out2(v));
	/* Mode 5: the same from a gate trigger. */
	out(v, 0x61, 0x00);
	out(v, 0x43, 0xba);
	out(v, 0x42, 4);
	out(v, 0x42, 0);
	pit_at(40);
	CHECK(out2(v));
	out(v, 0x61, 0x01);		/* trigger at 40: 4 at 41, 0 at 45 */
	pit_at(45);
	CHECK(!out2(v));
	pit_at(46);
	CHECK(out2(v));
}

static void pit_bcd_latch_readback(void)
{
	struct vcpu *v;
	uint8_t s0, s2;

	pit_setup(&v);
	CHECK(v);
	out(v, 0x61, 0x01);
	out(v, 0x43, 0xb1);		/* counter 2, mode 0, BCD */
	out(v, 0x42, 0);
	out(v, 0x42, 0);		/* 0: 10000 */
	pit_at(2);
	CHECK_EQ(latch16(v, 2), 0x9999);
	pit_at(10001);
	CHECK_EQ(latch16(v, 2), 0x0000);
	pit_at(10002);
	CHECK_EQ(latch16(v, 2), 0x9999);
	/* LSB-only latch: one byte, then live reads again. */
	out(v, 0x43, 0x50);		/* counter 1, LSB, mode 0 */
	out(v, 0x41, 200);
	pit_at(10012);
	out(v, 0x43, 0x40);
	pit_at(10052);
	CHECK_EQ(in(v, 0x41), 191);	/* 200 at 10003, latched at 10012 */
	CHECK_EQ(in(v, 0x41), 151);
	/* Read-back of status and count of counters 0 and 2 at once. */
	out(v, 0x43, 0x34);
	out(v, 0x40, 0x10);
	out(v, 0x40, 0x27);		/* 10000 binary */
	pit_at(10100);
	out(v, 0x43, 0xca);		/* count and status, counters 0, 2 */
	pit_at(10200);
	s0 = in(v, 0x40);
	CHECK_EQ(s0, 0xb4);		/* OUT, both, mode 2 */
	CHECK_EQ(read16(v, 0x40), 10000 - 47);	/* 10000 at 10053 */
	s2 = in(v, 0x42);
	CHECK_EQ(s2, 0xb1);		/* OUT, both, mode 0, BCD */
	/* A second read-back before the first is read changes nothing. */
	CHECK_EQ(read16(v, 0x42), 0x9901);
	/* Wider accesses are not the PIT's. */
	{
		uint64_t x = 0;

		CHECK(vm_io_access(v, IO_PIO, 0x40, 2, false, &x) == -ENODEV);
		CHECK_EQ(x, 0xffff);
	}
}

/* ---- RTC --------------------------------------------------------------- */

static uint8_t rd(struct vcpu *v, uint8_t i)
{
	out(v, 0x70, i);
	return in(v, 0x71);
}

static void wr(struct vcpu *v, uint8_t i, uint8_t val)
{
	out(v, 0x70, i);
	out(v, 0x71, val);
}

/* Seconds of the chain after the VM's start at tsc0. */
static uint64_t tsc0;

static void rtc_at_ms(uint64_t ms)
{
	tsc = tsc0 + ms * (HZ / 1000);
}

static struct vcpu *rtc_setup(void)
{
	tsc = 7000000;
	tsc0 = tsc;
	return setup();
}

/* Set the clock with SET, let one update happen, return nothing. */
static void set_time(struct vcpu *v, uint8_t b, const uint8_t t[7],
		     uint8_t century)
{
	static const uint8_t regs[7] = { 0, 2, 4, 6, 7, 8, 9 };

	wr(v, 0x0b, b | 0x80);
	for (unsigned int i = 0; i < 7; i++) {
		wr(v, regs[i], t[i]);
	}
	wr(v, 0x32, century);
	wr(v, 0x0b, b);
}

static bool time_is(struct vcpu *v, const uint8_t t[7], uint8_t century)
{
	static const uint8_t regs[7] = { 0, 2, 4, 6, 7, 8, 9 };

	for (unsigned int i = 0; i < 7; i++) {
		if (rd(v, regs[i]) != t[i]) {
			fprintf(stderr, "  reg %u: 0x%x, want 0x%x\n", regs[i],
				rd(v, regs[i]), t[i]);
			return false;
		}
	}
	return rd(v, 0x32) == century;
}

static void rtc_calendar(void)
{
	/* sec, min, hour, dow, day, month, year; before and after 1 s */
	static const struct {
		uint8_t b, c0, c1;
		uint8_t t0[7], t1[7];
	} cases[] = {
		/* BCD 24 h: 2000 is a leap year */
		{ 0x02, 0x20, 0x20, { 0x59, 0x59, 0x23, 2, 0x28, 0x02, 0x00 },
		  { 0x00, 0x00, 0x00, 3, 0x29, 0x02, 0x00 } },
		/* 2100 is not */
		{ 0x02, 0x21, 0x21, { 0x59, 0x59, 0x23, 1, 0x28, 0x02, 0x00 },
		  { 0x00, 0x00, 0x00, 2, 0x01, 0x03, 0x00 } },
		/* 2024-02-29 exists and ends */
		{ 0x02, 0x20, 0x20, { 0x59, 0x59, 0x23, 5, 0x29, 0x02, 0x24 },
		  { 0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24 } },
		/* the year and the week end together: Saturday to Sunday */
		{ 0x02, 0x20, 0x20, { 0x59, 0x59, 0x23, 7, 0x31, 0x12, 0x22 },
		  { 0x00, 0x00, 0x00, 1, 0x01, 0x01, 0x23 } },
		/* binary 24 h, a 30-day month */
		{ 0x06, 20, 20, { 59, 59, 23, 4, 30, 4, 25 },
		  { 0, 0, 0, 5, 1, 5, 25 } },
		/* 12 h BCD: 11:59:59 AM to 12:00:00 PM */
		{ 0x00, 0x20, 0x20, { 0x59, 0x59, 0x11, 3, 0x10, 0x06, 0x25 },
		  { 0x00, 0x00, 0x92, 3, 0x10, 0x06, 0x25 } },
		/* 12:59:59 PM to 1:00:00 PM */
		{ 0x00, 0x20, 0x20, { 0x59, 0x59, 0x92, 3, 0x10, 0x06, 0x25 },
		  { 0x00, 0x00, 0x81, 3, 0x10, 0x06, 0x25 } },
		/* 12 h binary: 12:59:59 AM to 1:00:00 AM */
		{ 0x04, 20, 20, { 59, 59, 12, 3, 10, 6, 25 },
		  { 0, 0, 1, 3, 10, 6, 25 } },
		/* a minute carry only */
		{ 0x02, 0x20, 0x20, { 0x59, 0x41, 0x09, 3, 0x10, 0x06, 0x25 },
		  { 0x00, 0x42, 0x09, 3, 0x10, 0x06, 0x25 } },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vcpu *v = rtc_setup();

		CHECK(v);
		/* The first update ends 500 ms after the start. */
		rtc_at_ms(100);
		set_time(v, cases[i].b, cases[i].t0, cases[i].c0);
		rtc_at_ms(499);
		if (!time_is(v, cases[i].t0, cases[i].c0)) {
			test_fail(__FILE__, __LINE__, "case %u moved early", i);
			return;
		}
		rtc_at_ms(500);
		if (!time_is(v, cases[i].t1, cases[i].c1)) {
			test_fail(__FILE__, __LINE__, "case %u after 1 s", i);
			return;
		}
	}
}

static void rtc_set_divider_uip(void)
{
	struct vcpu *v = rtc_setup();

	CHECK(v);
	/* UIP in the 73 chain ticks (2228 us) before each update's end. */
	tsc = tsc0 + (16384 - 74) * (HZ / 32768) + HZ / 32768 / 2;
	CHECK(!(rd(v, 0x0a) & 0x80));
	tsc = tsc0 + (16384 - 73) * (HZ / 32768) + HZ / 32768 / 2;
	CHECK(rd(v, 0x0a) & 0x80);
	CHECK_EQ(rd(v, 0x00), 0x00);
	rtc_at_ms(500);
	CHECK(!(rd(v, 0x0a) & 0x80));
	CHECK_EQ(rd(v, 0x00), 0x01);
	/* SET: frozen, no UIP; updates go on at the same phase after. */
	wr(v, 0x0b, 0x82);
	rtc_at_ms(3400);
	CHECK_EQ(rd(v, 0x00), 0x01);
	CHECK(!(rd(v, 0x0a) & 0x80));
	wr(v, 0x0b, 0x02);
	rtc_at_ms(3499);
	CHECK_EQ(rd(v, 0x00), 0x01);
	rtc_at_ms(3500);
	CHECK_EQ(rd(v, 0x00), 0x02);
	/* A divider reset holds it; the first update 500 ms after it ends. */
	wr(v, 0x0a, 0x66);
	rtc_at_ms(9000);
	CHECK_EQ(rd(v, 0x00), 0x02);
	CHECK(!(rd(v, 0x0a) & 0x80));
	wr(v, 0x0a, 0x26);
	rtc_at_ms(9499);
	CHECK_EQ(rd(v, 0x00), 0x02);
	rtc_at_ms(9500);
	CHECK_EQ(rd(v, 0x00), 0x03);
	/* A day later (a gap with no access): the clock caught up. */
	rtc_at_ms(9500 + 86400ULL * 1000);
	CHECK_EQ(rd(v, 0x07), 0x02);
	CHECK_EQ(rd(v, 0x00), 0x03);
	CHECK_EQ(rd(v, 0x06), 6);
	/* D is VRT, read only; 0x70 reads all ones. */
	wr(v, 0x0d, 0);
	CHECK_EQ(rd(v, 0x0d), 0x80);
	CHECK_EQ(in(v, 0x70), 0xff);
	/* BIOS memory bytes for 64 MiB. */
	CHECK_EQ(rd(v, 0x17) | rd(v, 0x18) << 8, 63 * 1024);
	CHECK_EQ(rd(v, 0x34) | rd(v, 0x35) << 8, 48 * 16);
}

static void rtc_flags_irq8(void)
{
	struct vcpu *v = rtc_setup();

	CHECK(v);
	/* Rate 15: 2 Hz, PF every 500 ms, with or without PIE. */
	wr(v, 0x0a, 0x2f);
	(void)rd(v, 0x0c);
	rtc_at_ms(499);
	CHECK_EQ(rd(v, 0x0c), 0x00);		/* nothing yet */
	rtc_at_ms(500);
	CHECK_EQ(rd(v, 0x0c), 0x50);		/* PF and UF, no IRQF */
	CHECK(!lines[8]);
	CHECK_EQ(x86_rtc_next_tsc(&vm), 0);	/* nothing enabled */
	/* PIE: IRQ 8 at the next period; the read of C drops it. */
	wr(v, 0x0b, 0x42);
	CHECK_EQ(x86_rtc_next_tsc(&vm), tsc0 + HZ);
	rtc_at_ms(1000);
	x86_rtc_poll(&vm);
	CHECK(lines[8]);
	CHECK_EQ(rises[8], 1);
	CHECK_EQ(x86_rtc_next_tsc(&vm), 0);	/* up until C is read */
	CHECK_EQ(rd(v, 0x0c), 0xc0);		/* IRQF, PF; no update at 1 s */
	CHECK(!lines[8]);
	CHECK_EQ(rd(v, 0x0c), 0x00);
	/* The alarm with don't-care hours and minutes: each :30. */
	wr(v, 0x0a, 0x20);
	wr(v, 0x0b, 0x22);			/* AIE */
	wr(v, 0x01, 0x30);
	wr(v, 0x03, 0xc0);
	wr(v, 0x05, 0xff);
	rtc_at_ms(1500 + 27000);		/* :28 */
	x86_rtc_poll(&vm);
	CHECK(!lines[8]);
	rtc_at_ms(1500 + 29000);		/* :30 */
	x86_rtc_poll(&vm);
	CHECK(lines[8]);
	CHECK_EQ(rd(v, 0x0c), 0xb0);
	/* SET clears UIE. */
	wr(v, 0x0b, 0x92);
	CHECK_EQ(rd(v, 0x0b), 0x82);
}

static void rtc_kept_across_reset(void)
{
	static const uint8_t t0[7] = { 0x58, 0x59, 0x23, 7, 0x31, 0x12, 0x30 };
	static const uint8_t t1[7] = { 0x01, 0x00, 0x00, 1, 0x01, 0x01, 0x31 };
	struct vcpu *v = rtc_setup();

	CHECK(v);
	rtc_at_ms(100);
	set_time(v, 0x02, t0, 0x20);
	wr(v, 0x50, 0xa5);
	wr(v, 0x0b, 0x12);			/* UIE */
	rtc_at_ms(1500);
	x86_rtc_poll(&vm);
	CHECK(lines[8]);
	/* The VM is torn down and built again, as vm_reset() does. */
	x86_rtc_power_off(&vm);
	vm.nr_devices = 0;
	lines[8] = false;
	CHECK(x86_rtc_add(&vm) == 0);
	CHECK(lines[8]);			/* IRQF still set: driven again */
	rtc_at_ms(2500);
	CHECK(time_is(v, t1, 0x20));
	CHECK_EQ(rd(v, 0x50), 0xa5);
	CHECK_EQ(rd(v, 0x0b), 0x12);
	/* A VM built anew (no teardown before) starts at the epoch. */
	v = rtc_setup();
	CHECK(v);
	CHECK_EQ(rd(v, 0x09), 0x26);
	CHECK_EQ(rd(v, 0x50), 0x00);
}

/* ---- 8042 -------------------------------------------------------------- */

static void kbc_queue_and_reset(void)
{
	struct vcpu *v = setup();

	CHECK(v);
	/* Held keyboard bytes keep their order behind a controller byte. */
	out(v, 0x64, 0xad);
	out(v, 0x60, 0xf2);		/* identify: fa ab 41, held */
	out(v, 0x64, 0xaa);		/* 0x55 goes first */
	CHECK_EQ(in(v, 0x64) & 1, 1);
	CHECK_EQ(in(v, 0x60), 0x55);
	CHECK_EQ(in(v, 0x64) & 1, 0);
	out(v, 0x64, 0xae);
	CHECK_EQ(in(v, 0x60), 0xfa);
	CHECK_EQ(in(v, 0x60), 0xab);
	CHECK_EQ(in(v, 0x60), 0x41);
	/* Without XLATE the ID is untranslated. */
	out(v, 0x64, 0x60);
	out(v, 0x60, 0x05);
	out(v, 0x60, 0xf2);
	CHECK_EQ(in(v, 0x60), 0xfa);
	CHECK_EQ(in(v, 0x60), 0xab);
	CHECK_EQ(in(v, 0x60), 0x83);
	/* IRQ 1: one rise per byte. */
	rises[1] = 0;
	out(v, 0x64, 0x60);
	out(v, 0x60, 0x01);
	out(v, 0x60, 0xff);
	CHECK(lines[1]);
	(void)in(v, 0x60);
	CHECK(lines[1]);
	CHECK_EQ(rises[1], 2);
	(void)in(v, 0x60);
	CHECK(!lines[1]);
	/* Output port bit 0 low and pulse commands reset; 0xff does not. */
	out(v, 0x64, 0xff);
	CHECK_EQ(resets, 0);
	out(v, 0x64, 0xfe);
	CHECK_EQ(resets, 1);
	out(v, 0x64, 0xd1);
	out(v, 0x60, 0xfe);
	CHECK_EQ(resets, 2);
	/* 0x62 and 0x63 are nobody's; 0x61 is port B. */
	{
		uint64_t x = 0;

		CHECK(vm_io_access(v, IO_PIO, 0x62, 1, false, &x) == -ENODEV);
	}
	out(v, 0x61, 0x03);
	CHECK_EQ(in(v, 0x61) & 0x0f, 0x03);
}

/* ---- Anything a guest may do ------------------------------------------- */

/*
 * Random accesses of every size to every port of the three devices, with
 * the TSC moving by random steps (some of them days): nothing may crash or
 * divide by zero, and a deadline asked for after a poll lies in the
 * future.
 */
static void random_accesses(void)
{
	static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x60, 0x61,
					  0x62, 0x63, 0x64, 0x70, 0x71 };
	struct vcpu *v;
	unsigned int n = test_long ? 2000000 : 200000;

	pit_setup(&v);
	CHECK(v);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t r = test_rand(), x = test_rand() & 0xffffffff;
		uint16_t port = ports[r % (sizeof(ports) / sizeof(ports[0]))];
		unsigned int size = 1U << ((r >> 8) % 3);
		uint64_t next;

		if ((r >> 12) % 4 == 0) {
			tsc += (r >> 16) % 5000;
		} else if ((r >> 12) % 4000 == 1) {
			tsc += (r >> 20) % (HZ * 86400 * 2);
		}
		/* Mostly bytes; commands that reset are fine (counted). */
		vm_io_access(v, IO_PIO, port, (r >> 40) % 4 ? 1 : size,
			     (r >> 44) & 1, &x);
		x86_pit_poll(&vm);
		x86_rtc_poll(&vm);
		next = x86_pit_next_tsc(&vm);
		if (next && next <= tsc) {
			test_fail(__FILE__, __LINE__,
				  "PIT deadline 0x%llx not after 0x%llx (step %u)",
				  (unsigned long long)next,
				  (unsigned long long)tsc, i);
			return;
		}
		next = x86_rtc_next_tsc(&vm);
		if (next && next <= tsc) {
			test_fail(__FILE__, __LINE__,
				  "RTC deadline 0x%llx not after 0x%llx (step %u)",
				  (unsigned long long)next,
				  (unsigned long long)tsc, i);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "pcdev");
	RUN_TEST(pit_mode2_irq0);
	RUN_TEST(pit_count_one);
	RUN_TEST(pit_mode3_odd);
	RUN_TEST(pit_mode0_gate_and_first_byte);
	RUN_TEST(pit_modes_1_4_5);
	RUN_TEST(pit_bcd_latch_readback);
	RUN_TEST(rtc_calendar);
	RUN_TEST(rtc_set_divider_uip);
	RUN_TEST(rtc_flags_irq8);
	RUN_TEST(rtc_kept_across_reset);
	RUN_TEST(kbc_queue_and_reset);
	RUN_TEST(random_accesses);
	return test_done();
}
