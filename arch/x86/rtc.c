// SPDX-License-Identifier: MIT
/*
 * The MC146818A real-time clock and CMOS RAM of a PC, per VM
 * (docs/x86-pc-devices.md; Motorola MC146818A datasheet):
 *   0x70  index, write only: bits 6:0 select one of 128 bytes, bit 7 is
 *         the chipset's NMI mask (kept; reads of 0x70 return all ones);
 *   0x71  the selected byte.
 * Bytes 0x00-0x09 are the clock (seconds, alarm, minutes, alarm, hours,
 * alarm, day of week, date, month, year), 0x0a-0x0d registers A-D, 0x0e-0x7f
 * RAM (0x32 the century, which the FADT names). The clock keeps time from a
 * fixed epoch (RTC_EPOCH, set at VM creation) plus the time the VM has
 * existed, counted in the TSC at the rate the guest is told (as pit.c
 * does): Strata reads no host clock. Its 32.768 kHz divider chain runs from
 * the VM's creation or the end of a divider reset; the update cycles, the
 * periodic rate and UIP are derived from it.
 */
#include <arch/cpu.h>
#include <arch/guest_acpi.h>
#include <arch/irqchip.h>
#include <arch/pcdev.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define RTC_PORT		0x70
#define RTC_PORTS		2
#define RTC_IRQ			8

#define RTC_SEC			0x00
#define RTC_SEC_ALARM		0x01
#define RTC_MIN			0x02
#define RTC_MIN_ALARM		0x03
#define RTC_HOUR		0x04
#define RTC_HOUR_ALARM		0x05
#define RTC_DOW			0x06
#define RTC_DAY			0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09
#define RTC_A			0x0a
#define RTC_B			0x0b
#define RTC_C			0x0c
#define RTC_D			0x0d
#define RTC_CENTURY		0x32

#define A_UIP			BIT(7)
#define A_DV_SHIFT		4
#define A_DV_NORMAL		2	/* 32.768 kHz time base */
#define B_SET			BIT(7)
#define B_PIE			BIT(6)
#define B_AIE			BIT(5)
#define B_UIE			BIT(4)
#define B_DM_BINARY		BIT(2)
#define B_24H			BIT(1)
#define C_IRQF			BIT(7)
#define C_PF			BIT(6)
#define C_AF			BIT(5)
#define C_UF			BIT(4)
#define D_VRT			BIT(7)

#define RTC_HZ			32768ULL
/* One update every second, 0.5 s after the divider starts. */
#define UPDATE_FIRST		(RTC_HZ / 2)
/* UIP: 244 us before the update, then its 1984 us (32.768 kHz base). */
#define UIP_TICKS		73

/* 2026-01-01 00:00:00 (a Thursday), seconds since 1970-01-01. */
#define RTC_EPOCH		1767225600ULL

struct rtc {
	struct vm *vm;
	uint8_t index, nmi_mask;
	uint8_t cmos[128];
	bool running;		/* divider 010: the chain counts */
	uint64_t div_tsc;	/* host TSC where the chain (re)started */
	uint64_t updates;	/* update cycles done since then */
	uint64_t periods;	/* periodic flags accounted since then */
	bool line;
	bool kept;		/* the VM was torn down for a reset */
};

static struct rtc rtcs[VM_MAX_VMS];

/* ---- Calendar ------------------------------------------------------------- */

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian, m 1-12). */
static int64_t days_of(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void date_of(int64_t days, int64_t *y, unsigned int *m,
		    unsigned int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ---- Register formats ---------------------------------------------------- */

static bool binary(const struct rtc *r)
{
	return r->cmos[RTC_B] & B_DM_BINARY;
}

static unsigned int from_reg(const struct rtc *r, uint8_t v)
{
	return binary(r) ? v : (v >> 4) * 10U + (v & 0xf);
}

static uint8_t to_reg(const struct rtc *r, unsigned int v)
{
	return (uint8_t)(binary(r) ? v : (v / 10) << 4 | v % 10);
}

static unsigned int hour_from(const struct rtc *r, uint8_t v)
{
	unsigned int h;

	if (r->cmos[RTC_B] & B_24H) {
		return from_reg(r, v);
	}
	h = from_reg(r, v & 0x7f) % 12;	/* 12 AM is 0 */
	return v & 0x80 ? h + 12 : h;
}

static uint8_t hour_to(const struct rtc *r, unsigned int h)
{
	if (r->cmos[RTC_B] & B_24H) {
		return to_reg(r, h);
	}
	return (uint8_t)(to_reg(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

/* The clock registers as seconds since 1970 (fields out of range wrap). */
static int64_t clock_secs(const struct rtc *r)
{
	unsigned int m = from_reg(r, r->cmos[RTC_MONTH]);
	unsigned int d = from_reg(r, r->cmos[RTC_DAY]);
	int64_t y = from_reg(r, r->cmos[RTC_YEAR]) % 100 +
		    100 * (int64_t)from_reg(r, r->cmos[RTC_CENTURY]);

	m = m < 1 ? 1 : m > 12 ? 12 : m;
	d = d < 1 ? 1 : d;
	return days_of(y, m, 1) * 86400 + (int64_t)(d - 1) * 86400 +
	       hour_from(r, r->cmos[RTC_HOUR]) * 3600LL +
	       from_reg(r, r->cmos[RTC_MIN]) * 60LL +
	       from_reg(r, r->cmos[RTC_SEC]);
}

static void set_clock(struct rtc *r, int64_t s)
{
	int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400, y;
	int64_t rem = s - days * 86400;
	int64_t old_days;
	unsigned int m, d, dow;

	old_days = clock_secs(r);
	old_days = old_days >= 0 ? old_days / 86400 : (old_days - 86399) / 86400;
	date_of(days, &y, &m, &d);
	r->cmos[RTC_SEC] = to_reg(r, (unsigned int)(rem % 60));
	r->cmos[RTC_MIN] = to_reg(r, (unsigned int)(rem / 60 % 60));
	r->cmos[RTC_HOUR] = hour_to(r, (unsigned int)(rem / 3600));
	r->cmos[RTC_DAY] = to_reg(r, d);
	r->cmos[RTC_MONTH] = to_reg(r, m);
	r->cmos[RTC_YEAR] = to_reg(r, (unsigned int)(y % 100));
	r->cmos[RTC_CENTURY] = to_reg(r, (unsigned int)(y / 100));
	/* The day of week register counts on from its own value. */
	dow = from_reg(r, r->cmos[RTC_DOW]);
	dow = (unsigned int)(((dow ? dow - 1 : 0) + (uint64_t)(days - old_days)) % 7);
	r->cmos[RTC_DOW] = to_reg(r, dow + 1);
}

/* ---- The divider chain, updates and flags ---------------------------------- */

static uint64_t chain_ticks(const struct rtc *r, uint64_t tsc)
{
	uint64_t hz = x86_tsc_hz(NULL), d = tsc - r->div_tsc;

	return d / hz * RTC_HZ + d % hz * RTC_HZ / hz;
}

static uint64_t ticks_tsc(const struct rtc *r, uint64_t t)
{
	uint64_t hz = x86_tsc_hz(NULL);

	return r->div_tsc + t / RTC_HZ * hz + (t % RTC_HZ * hz + RTC_HZ - 1) / RTC_HZ;
}

/* Update cycles completed by chain tick @t. */
static uint64_t updates_by(uint64_t t)
{
	return t < UPDATE_FIRST ? 0 : (t - UPDATE_FIRST) / RTC_HZ + 1;
}

/* The periodic rate's period in chain ticks, 0 when off. */
static uint64_t period_ticks(const struct rtc *r)
{
	unsigned int rs = r->cmos[RTC_A] & 0xf;

	if (!rs) {
		return 0;
	}
	if (rs <= 2) {
		rs += 7;	/* 256 and 128 Hz, as rates 8 and 9 */
	}
	return 1ULL << (rs - 1);
}

static bool alarm_match(const struct rtc *r)
{
	static const uint8_t pairs[3][2] = {
		{ RTC_SEC, RTC_SEC_ALARM }, { RTC_MIN, RTC_MIN_ALARM },
		{ RTC_HOUR, RTC_HOUR_ALARM },
	};

	for (unsigned int i = 0; i < 3; i++) {
		uint8_t a = r->cmos[pairs[i][1]];

		if ((a & 0xc0) != 0xc0 && a != r->cmos[pairs[i][0]]) {
			return false;	/* 11xxxxxx: don't care */
		}
	}
	return true;
}

static void update_irq(struct rtc *r)
{
	uint8_t c = r->cmos[RTC_C] & (C_PF | C_AF | C_UF);
	uint8_t en = r->cmos[RTC_B] & (B_PIE | B_AIE | B_UIE);
	bool irqf = (c & en) != 0;	/* PF/PIE, AF/AIE, UF/UIE: same bits */

	if (irqf) {
		r->cmos[RTC_C] |= C_IRQF;
	} else {
		r->cmos[RTC_C] &= (uint8_t)~C_IRQF;
	}
	if (irqf != r->line) {
		r->line = irqf;
		x86_irq_line(r->vm, RTC_IRQ, irqf);
	}
}

/* Bring the clock and the flags up to host TSC @now. */
static void catch_up(struct rtc *r, uint64_t now)
{
	uint64_t t, n, p;

	if (!r->running) {
		return;
	}
	t = chain_ticks(r, now);
	p = period_ticks(r);
	if (p && t / p > r->periods) {
		r->cmos[RTC_C] |= C_PF;
	}
	r->periods = p ? t / p : 0;
	n = updates_by(t) - r->updates;
	if (n) {
		r->updates += n;
		if (!(r->cmos[RTC_B] & B_SET)) {
			/* The alarm is checked at each update: the last day's. */
			uint64_t from = n > 86400 ? n - 86400 : 0;
			int64_t s = clock_secs(r);
			bool alarm = false;

			set_clock(r, s + (int64_t)from);
			for (uint64_t i = from; i < n; i++) {
				set_clock(r, s + (int64_t)i + 1);
				alarm |= alarm_match(r);
			}
			r->cmos[RTC_C] |= C_UF | (alarm ? C_AF : 0);
		}
	}
	update_irq(r);
}

static bool uip(const struct rtc *r, uint64_t now)
{
	uint64_t t, next;

	if (!r->running || (r->cmos[RTC_B] & B_SET)) {
		return false;
	}
	t = chain_ticks(r, now);
	next = UPDATE_FIRST + updates_by(t) * RTC_HZ;	/* next update's end */
	return next - t <= UIP_TICKS;
}

/* Periods and updates since the chain (re)start are counted from @now. */
static void restart_chain(struct rtc *r, uint64_t now)
{
	r->div_tsc = now;
	r->updates = 0;
	r->periods = 0;
}

void x86_rtc_poll(struct vm *vm)
{
	struct rtc *r = &rtcs[vm->index];

	if (r->vm == vm && (r->cmos[RTC_B] & (B_PIE | B_AIE | B_UIE))) {
		catch_up(r, x86_pcdev_tsc());
	}
}

uint64_t x86_rtc_next_tsc(struct vm *vm)
{
	struct rtc *r = &rtcs[vm->index];
	const struct x86_pic *pic = &vm->arch.pic;
	uint8_t en;
	uint64_t t, p, next = 0;

	if (r->vm != vm || !r->running || r->line) {
		return 0;	/* a raised line changes at a read of C only */
	}
	en = r->cmos[RTC_B] & (B_PIE | B_AIE | B_UIE);
	if (!en || ((pic->chip[1].imr & 1) &&
		    (vm->arch.ioapic.redir[RTC_IRQ] & BIT(16)))) {
		return 0;
	}
	t = chain_ticks(r, x86_pcdev_tsc());
	p = period_ticks(r);
	if ((en & B_PIE) && p) {
		next = (t / p + 1) * p;
	}
	if (en & (B_AIE | B_UIE)) {
		uint64_t u = UPDATE_FIRST + updates_by(t) * RTC_HZ;

		next = next && next < u ? next : u;
	}
	return next ? ticks_tsc(r, next) : 0;
}

/* ---- The ports ------------------------------------------------------------ */

static uint8_t rtc_reg_read(struct rtc *r, uint64_t now)
{
	uint8_t i = r->index, v;

	catch_up(r, now);
	switch (i) {
	case RTC_A:
		return (uint8_t)((r->cmos[RTC_A] & 0x7f) | (uip(r, now) ? A_UIP : 0));
	case RTC_C:
		v = r->cmos[RTC_C];
		r->cmos[RTC_C] = 0;	/* read clears every flag */
		update_irq(r);
		return v;
	case RTC_D:
		return D_VRT;
	default:
		return r->cmos[i];
	}
}

static void rtc_reg_write(struct rtc *r, uint8_t v, uint64_t now)
{
	uint8_t i = r->index;

	catch_up(r, now);
	switch (i) {
	case RTC_A: {
		unsigned int dv = (v >> A_DV_SHIFT) & 7;
		bool run = dv == A_DV_NORMAL;

		/* Leaving a divider reset: the first update 0.5 s later. */
		if (run && !r->running) {
			restart_chain(r, now);
		}
		r->running = run;
		r->cmos[RTC_A] = v & 0x7f;
		/* Periods count from here at the new rate. */
		r->periods = run && period_ticks(r) ?
			     chain_ticks(r, now) / period_ticks(r) : 0;
		break;
	}
	case RTC_B:
		if (v & B_SET) {
			v &= (uint8_t)~B_UIE;	/* SET clears UIE */
		}
		r->cmos[RTC_B] = v;
		break;
	case RTC_C:
	case RTC_D:
		break;		/* read only */
	default:
		r->cmos[i] = v;
		break;
	}
	update_irq(r);
}

static int rtc_read(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t *val)
{
	struct rtc *r = d->priv;

	(void)v;
	if (size != 1) {
		return -EINVAL;
	}
	*val = off == 0 ? 0xff : rtc_reg_read(r, x86_pcdev_tsc());
	return 0;
}

static int rtc_write(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t val)
{
	struct rtc *r = d->priv;

	(void)v;
	if (size != 1) {
		return -EINVAL;
	}
	if (off == 0) {
		r->index = val & 0x7f;
		r->nmi_mask = val & 0x80;
	} else {
		rtc_reg_write(r, (uint8_t)val, x86_pcdev_tsc());
	}
	return 0;
}

static const struct io_device_ops rtc_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

/* CMOS bytes a PC BIOS leaves (the layout QEMU's and Bochs's use). */
static void cmos_memory(struct rtc *r, uint64_t ram)
{
	uint64_t kb = ram >> 10, ext = kb > 1024 ? kb - 1024 : 0;
	uint64_t above16 = ram > (16ULL << 20) ? (ram - (16ULL << 20)) >> 16 : 0;

	r->cmos[0x15] = 640 & 0xff;		/* base memory, KiB */
	r->cmos[0x16] = 640 >> 8;
	ext = ext > 0xfc00 ? 0xfc00 : ext;	/* above 1 MiB, KiB */
	r->cmos[0x17] = r->cmos[0x30] = (uint8_t)ext;
	r->cmos[0x18] = r->cmos[0x31] = (uint8_t)(ext >> 8);
	above16 = above16 > 0xffff ? 0xffff : above16;	/* 64 KiB units */
	r->cmos[0x34] = (uint8_t)above16;
	r->cmos[0x35] = (uint8_t)(above16 >> 8);
}

int x86_rtc_add(struct vm *vm)
{
	struct rtc *r;
	struct io_device d = {
		.name = "mc146818-rtc",
		.space = IO_PIO,
		.base = RTC_PORT,
		.size = RTC_PORTS,
		.ops = &rtc_ops,
	};

	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	r = &rtcs[vm->index];
	d.priv = r;
	if (r->vm == vm && r->kept) {
		/*
		 * A reset: the battery kept the clock, its registers and the
		 * CMOS RAM; the interrupt controllers are new, so IRQ 8 is
		 * driven afresh from IRQF.
		 */
		r->kept = false;
		r->line = false;
		update_irq(r);
		return vm_add_device(vm, &d);
	}
	memset(r, 0, sizeof(*r));
	r->vm = vm;
	/* As a BIOS leaves it: 32.768 kHz, 1024 Hz rate, 24 h, BCD. */
	r->cmos[RTC_A] = A_DV_NORMAL << A_DV_SHIFT | 6;
	r->cmos[RTC_B] = B_24H;
	r->running = true;
	restart_chain(r, x86_pcdev_tsc());
	set_clock(r, (int64_t)RTC_EPOCH);
	r->cmos[RTC_DOW] = 5;	/* the epoch is a Thursday (1: Sunday) */
	cmos_memory(r, vm->ram_size);
	return vm_add_device(vm, &d);
}

void x86_rtc_power_off(struct vm *vm)
{
	if (vm->index < VM_MAX_VMS && rtcs[vm->index].vm == vm) {
		rtcs[vm->index].kept = true;
	}
}
