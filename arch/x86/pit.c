// SPDX-License-Identifier: MIT
/*
 * The Intel 8254 programmable interval timer of a PC, per VM, and the
 * system control port B (0x61) that gates its counter 2
 * (docs/x86-pc-devices.md; the 8254 datasheet, 231164):
 *   0x40-0x42  counters 0-2 (count register writes, count/status reads);
 *   0x43       control word: mode / access / BCD per counter, the counter
 *              latch command (access 00) and the read-back command (11).
 * Counter 0's OUT is ISA IRQ 0 (the 8259's IR0 and IOAPIC pin 2, the
 * MADT's interrupt source override); counter 1 has no output (a PC's DRAM
 * refresh); counter 2's gate is port 0x61 bit 0 and its OUT reads in port
 * 0x61 bit 5 (the port lies inside the 8042's 0x60-0x64: i8042.c hands it
 * its accesses).
 *
 * Time base: the counters are not stepped; their state is computed from
 * the host TSC, which is the guest's TSC minus its VMCS offset (no TSC
 * scaling: the guest's TSC runs at the host's rate). One PIT tick is
 * x86_tsc_hz() / 1193182 TSC cycles, x86_tsc_hz() being the rate the
 * guest is told (CPUID leaf 0x15/0x16, as the ACPI PM timer uses), so a
 * guest calibrating its TSC against counter 2 finds that rate.
 */
#include <arch/cpu.h>
#include <arch/guest_acpi.h>
#include <arch/irqchip.h>
#include <arch/pcdev.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define PIT_PORT		0x40
#define PIT_PORTS		4
#define PIT_CTRL		3

#define PORT61_GATE2		BIT(0)
#define PORT61_SPEAKER		BIT(1)
#define PORT61_PARITY_DIS	BIT(2)
#define PORT61_IOCHK_DIS	BIT(3)
#define PORT61_REFRESH		BIT(4)
#define PORT61_OUT2		BIT(5)
#define PORT61_WRITABLE		(PORT61_GATE2 | PORT61_SPEAKER | \
				 PORT61_PARITY_DIS | PORT61_IOCHK_DIS)
/* DRAM refresh: counter 1 at count 18 on a PC, one toggle per period. */
#define REFRESH_TICKS		18

#define RW_LSB			1
#define RW_MSB			2
#define RW_BOTH			3

/*
 * One counter. Ticks are absolute: PIT clocks since the VM was created.
 * @mode_bits: the control word's M2-M0 as written (6 and 7 read back as
 *	written, behave as 2 and 3: @mode).
 * @cr: the count register (decoded: 1..65536, BCD 1..10000; 0 = 2^16 / 10^4).
 * @n: the count in effect (loaded into the counting element).
 * @armed: a count was loaded since the control word (the counter counts).
 * @start: tick at which the counting element held @n (modes 1, 5: the
 *	trigger; a count takes effect on the CLK after its write).
 * @held, @paused: gate low in modes 0/4 (count suspended: @held ticks
 *	were counted) and 2/3 (counting stopped, OUT high, @held ticks in).
 * @pend, @pend_n, @pend_at: modes 2/3: a count written while counting
 *	takes effect at the end of the current period, tick @pend_at.
 * @edges_base: rising edges of OUT before the current @start (IRQ 0).
 * @edges_seen: edges already sent to IRQ 0.
 */
struct pit_ctr {
	uint8_t mode, mode_bits, rw;
	bool bcd, armed, paused, triggered, gate, null_count;
	uint32_t cr, n;
	uint64_t start, held;
	bool pend;
	uint32_t pend_n;
	uint64_t pend_at;
	/* write and read flip-flops of access mode 3 */
	bool wmsb_next, rmsb_next;
	uint8_t wlsb;
	/* counter latch and status latch (read-back) */
	bool latched, latch_msb_next, st_latched;
	uint16_t latch;
	uint8_t status;
	uint64_t edges_base, edges_seen;
};

struct pit {
	struct vm *vm;
	uint64_t tsc_base;
	struct pit_ctr c[3];
	uint8_t port61;		/* the writable bits */
	bool line;		/* IRQ 0 as last driven */
};

static struct pit pits[VM_MAX_VMS];

static struct pit *pit_of(struct vm *vm)
{
	return &pits[vm->index];
}

uint64_t x86_pit_ticks(struct vm *vm)
{
	uint64_t hz = x86_tsc_hz(NULL);
	uint64_t d = x86_pcdev_tsc() - pit_of(vm)->tsc_base;

	return d / hz * X86_PIT_HZ + d % hz * X86_PIT_HZ / hz;
}

/* The host TSC at which tick @t begins (the first TSC at or after it). */
static uint64_t tick_tsc(struct pit *p, uint64_t t)
{
	uint64_t hz = x86_tsc_hz(NULL);

	return p->tsc_base + t / X86_PIT_HZ * hz +
	       (t % X86_PIT_HZ * hz + X86_PIT_HZ - 1) / X86_PIT_HZ;
}

static uint32_t modulus(const struct pit_ctr *c)
{
	return c->bcd ? 10000 : 65536;
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v % 10) | (v / 10 % 10) << 4 |
			  (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

/* A count as written; BCD digits above 9 are taken at their value. */
static uint32_t decode_count(const struct pit_ctr *c, uint16_t raw)
{
	uint32_t v = raw;

	if (c->bcd) {
		v = (raw & 0xf) + (raw >> 4 & 0xf) * 10 +
		    (raw >> 8 & 0xf) * 100 + (raw >> 12 & 0xf) * 1000;
	}
	return v ? v : modulus(c);
}

/* Ticks the counting element has counted since @start (or was held at). */
static uint64_t elapsed(const struct pit_ctr *c, uint64_t now)
{
	if (!c->armed || ((c->mode == 1 || c->mode == 5) && !c->triggered)) {
		return 0;
	}
	if (c->paused) {
		return c->held;
	}
	return c->held + (now > c->start ? now - c->start : 0);
}

/* Apply a mode 2/3 count whose period boundary has passed. */
static void settle(struct pit_ctr *c, uint64_t now)
{
	if (c->pend && !c->paused && now >= c->pend_at) {
		c->edges_base += (c->pend_at - c->start) / c->n;
		c->start = c->pend_at;
		c->held = 0;
		c->n = c->pend_n;
		c->pend = false;
	}
}

static bool counting(const struct pit_ctr *c)
{
	return c->armed && !c->paused &&
	       ((c->mode != 1 && c->mode != 5) || c->triggered);
}

static bool out(const struct pit_ctr *c, uint64_t now)
{
	uint64_t e = elapsed(c, now);

	if (!c->armed) {
		return c->mode != 0;	/* after the control word */
	}
	switch (c->mode) {
	case 0:
		return e >= c->n;
	case 1:
		return !c->triggered || e >= c->n;
	case 2:
		return c->paused || e % c->n != c->n - 1;
	case 3:
		return c->paused || e % c->n < (c->n + 1) / 2;
	case 4:
		return e != c->n;
	default:	/* 5 */
		return !c->triggered || e != c->n;
	}
}

/* Rising edges of OUT since @start. */
static uint64_t edges(const struct pit_ctr *c, uint64_t now)
{
	uint64_t e = elapsed(c, now);

	if (!c->armed) {
		return 0;
	}
	switch (c->mode) {
	case 0:
	case 1:
		return e >= c->n;
	case 2:
	case 3:
		/*
		 * Paused: what it did was moved to edges_base. A count of 1
		 * (illegal in both modes) leaves OUT constant, as out()
		 * says: no edges, rather than one per tick.
		 */
		return c->paused || c->n == 1 ? 0 : e / c->n;
	default:	/* 4, 5 */
		return e >= (uint64_t)c->n + 1;
	}
}

/* The tick of OUT's next rising edge, 0 if none is coming. */
static uint64_t next_edge(const struct pit_ctr *c, uint64_t now)
{
	uint64_t e = elapsed(c, now), base = c->start - c->held;

	if (!counting(c)) {
		return 0;
	}
	switch (c->mode) {
	case 0:
	case 1:
		return e < c->n ? base + c->n : 0;
	case 2:
	case 3:
		return c->n == 1 ? 0 : base + (e / c->n + 1) * c->n;
	default:
		return e < (uint64_t)c->n + 1 ? base + c->n + 1 : 0;
	}
}

/* The counting element's value (as the counter latch would take it). */
static uint32_t count_of(const struct pit_ctr *c, uint64_t now)
{
	uint64_t e = elapsed(c, now);
	uint32_t m = modulus(c), v;

	if (!c->armed) {
		return c->cr % m;	/* nothing loaded: what was written */
	}
	switch (c->mode) {
	case 2:
		v = c->n - (uint32_t)(e % c->n);
		break;
	case 3:
		/* Two per clock; an odd count drops its odd one first. */
		v = (c->n - (uint32_t)((2 * e) % c->n)) & ~1U;
		break;
	default:
		v = (uint32_t)((c->n + m - e % m) % m);
		break;
	}
	return v % m;
}

/* Everything OUT has done so far becomes history before a change. */
static void rebase(struct pit_ctr *c, uint64_t now)
{
	settle(c, now);
	c->edges_base += edges(c, now);
}

static void drive_irq0(struct pit *p, uint64_t now)
{
	struct pit_ctr *c = &p->c[0];
	uint64_t total;
	bool level;

	settle(c, now);
	total = c->edges_base + edges(c, now);
	level = out(c, now);
	if (total > c->edges_seen) {
		c->edges_seen = total;
		if (p->line) {
			x86_irq_line(p->vm, 0, false);
		}
		x86_irq_line(p->vm, 0, true);
		p->line = true;
	}
	if (level != p->line) {
		x86_irq_line(p->vm, 0, level);
		p->line = level;
	}
}

void x86_pit_poll(struct vm *vm)
{
	struct pit *p = pit_of(vm);

	/*
	 * A counter 0 that does not count changes OUT only at port writes,
	 * which drive IRQ 0 themselves: nothing to do at each entry.
	 */
	if (p->vm == vm && counting(&p->c[0])) {
		drive_irq0(p, x86_pit_ticks(vm));
	}
}

uint64_t x86_pit_next_tsc(struct vm *vm)
{
	struct pit *p = pit_of(vm);
	uint64_t now, t;

	if (p->vm != vm || !counting(&p->c[0]) ||
	    ((vm->arch.pic.chip[0].imr & 1) &&
	     (vm->arch.ioapic.redir[2] & BIT(16)))) {
		return 0;
	}
	now = x86_pit_ticks(vm);
	settle(&p->c[0], now);
	t = next_edge(&p->c[0], now);
	return t ? tick_tsc(p, t) : 0;
}

/* ---- Loading counts and the gate ---------------------------------------- */

static void load(struct pit *p, unsigned int i, uint64_t now)
{
	struct pit_ctr *c = &p->c[i];

	c->null_count = true;
	if ((c->mode == 2 || c->mode == 3) && c->armed && !c->paused) {
		/* Counting: the new count waits for the period's end. */
		settle(c, now);
		c->pend = true;
		c->pend_n = c->cr;
		c->pend_at = next_edge(c, now);
		return;
	}
	if (c->mode == 1 || c->mode == 5) {
		/* Waits for a trigger (a rising edge of the gate). */
		if (!c->armed) {
			rebase(c, now);
			c->armed = true;
			c->triggered = false;
			c->n = c->cr;
		}
		return;
	}
	rebase(c, now);
	c->armed = true;
	c->pend = false;
	c->n = c->cr;
	c->start = now + 1;
	c->held = 0;
	c->paused = !c->gate;
}

static void set_gate(struct pit *p, unsigned int i, bool gate, uint64_t now)
{
	struct pit_ctr *c = &p->c[i];

	settle(c, now);
	if (gate == c->gate) {
		return;
	}
	c->gate = gate;
	if (!c->armed) {
		return;
	}
	switch (c->mode) {
	case 0:
	case 4:
		/* Gate low suspends counting; high resumes it. */
		if (!gate) {
			c->held = elapsed(c, now);
			c->paused = true;
		} else {
			c->start = now;
			c->paused = false;
		}
		break;
	case 2:
	case 3:
		/* Low stops counting (OUT high); the rising edge reloads. */
		rebase(c, now);
		if (!gate) {
			c->held = elapsed(c, now);
			c->paused = true;
		} else {
			if (c->pend) {
				c->cr = c->pend_n;
				c->pend = false;
			}
			c->n = c->cr;
			c->start = now + 1;
			c->held = 0;
			c->paused = false;
		}
		break;
	default:
		/* Modes 1 and 5: the rising edge (re)triggers. */
		if (gate) {
			rebase(c, now);
			c->n = c->cr;
			c->start = now + 1;
			c->held = 0;
			c->triggered = true;
		}
		break;
	}
}

/* ---- The ports ----------------------------------------------------------- */

static uint8_t status_of(const struct pit_ctr *c, uint64_t now)
{
	bool null = c->null_count;

	/* Null count: set by a write until the count reaches the element. */
	if (null && c->armed && !c->pend &&
	    (c->mode == 1 || c->mode == 5 ? c->triggered : now >= c->start)) {
		null = false;
	}
	return (uint8_t)((out(c, now) ? 0x80 : 0) | (null ? 0x40 : 0) |
			 c->rw << 4 | c->mode_bits << 1 | (c->bcd ? 1 : 0));
}

static void latch_count(struct pit_ctr *c, uint64_t now)
{
	uint32_t v;

	if (c->latched) {
		return;		/* held until read */
	}
	settle(c, now);
	v = count_of(c, now);
	c->latch = c->bcd ? to_bcd(v) : (uint16_t)v;
	c->latched = true;
	c->latch_msb_next = c->rw == RW_MSB;
}

static uint8_t read_counter(struct pit *p, unsigned int i, uint64_t now)
{
	struct pit_ctr *c = &p->c[i];
	uint16_t v;
	uint8_t b;

	if (c->st_latched) {
		c->st_latched = false;
		return c->status;
	}
	if (c->latched) {
		b = (uint8_t)(c->latch_msb_next ? c->latch >> 8 : c->latch);
		if (c->rw == RW_BOTH && !c->latch_msb_next) {
			c->latch_msb_next = true;
		} else {
			c->latched = false;
		}
		return b;
	}
	settle(c, now);
	v = (uint16_t)count_of(c, now);
	if (c->bcd) {
		v = to_bcd(v);
	}
	switch (c->rw) {
	case RW_LSB:
		return (uint8_t)v;
	case RW_MSB:
		return (uint8_t)(v >> 8);
	default:
		b = (uint8_t)(c->rmsb_next ? v >> 8 : v);
		c->rmsb_next = !c->rmsb_next;
		return b;
	}
}

static void write_counter(struct pit *p, unsigned int i, uint8_t val,
			  uint64_t now)
{
	struct pit_ctr *c = &p->c[i];
	uint16_t raw;

	switch (c->rw) {
	case RW_LSB:
		raw = val;
		break;
	case RW_MSB:
		raw = (uint16_t)(val << 8);
		break;
	default:
		if (!c->wmsb_next) {
			c->wlsb = val;
			c->wmsb_next = true;
			/* Mode 0: writing the first byte stops the count. */
			if (c->mode == 0 && c->armed) {
				/* A read now gets the count it stopped at. */
				uint32_t left = count_of(c, now);

				rebase(c, now);
				c->held = elapsed(c, now);
				c->paused = true;
				c->armed = false;
				c->cr = left;
			}
			return;
		}
		raw = (uint16_t)(c->wlsb | val << 8);
		c->wmsb_next = false;
		break;
	}
	c->cr = decode_count(c, raw);
	load(p, i, now);
}

static void control_word(struct pit *p, uint8_t val, uint64_t now)
{
	unsigned int sc = val >> 6, rw = (val >> 4) & 3;
	struct pit_ctr *c;

	if (sc == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 status. */
		for (unsigned int i = 0; i < 3; i++) {
			if (!(val & BIT(1 + i))) {
				continue;
			}
			c = &p->c[i];
			if (!(val & BIT(4)) && !c->st_latched) {
				settle(c, now);
				c->status = status_of(c, now);
				c->st_latched = true;
			}
			if (!(val & BIT(5))) {
				latch_count(c, now);
			}
		}
		return;
	}
	c = &p->c[sc];
	if (!rw) {
		latch_count(c, now);
		return;
	}
	rebase(c, now);
	c->rw = (uint8_t)rw;
	c->mode_bits = (val >> 1) & 7;
	c->mode = c->mode_bits >= 6 ? c->mode_bits - 4 : c->mode_bits;
	c->bcd = val & 1;
	c->armed = false;
	c->paused = false;
	c->triggered = false;
	c->pend = false;
	c->held = 0;
	c->null_count = true;
	c->wmsb_next = false;
	c->rmsb_next = false;
	c->latched = false;
	c->st_latched = false;
}

static int pit_read(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t *val)
{
	struct pit *p = d->priv;
	uint64_t now = x86_pit_ticks(v->vm);

	if (size != 1) {
		return -EINVAL;	/* an 8-bit device: unclaimed, all ones */
	}
	/* The control word register cannot be read (the bus floats). */
	*val = off == PIT_CTRL ? 0xff : read_counter(p, (unsigned int)off, now);
	drive_irq0(p, now);
	return 0;
}

static int pit_write(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t val)
{
	struct pit *p = d->priv;
	uint64_t now = x86_pit_ticks(v->vm);

	if (size != 1) {
		return -EINVAL;
	}
	if (off == PIT_CTRL) {
		control_word(p, (uint8_t)val, now);
	} else {
		write_counter(p, (unsigned int)off, (uint8_t)val, now);
	}
	drive_irq0(p, now);
	return 0;
}

static const struct io_device_ops pit_ops = {
	.read = pit_read,
	.write = pit_write,
};

uint8_t x86_port61_read(struct vm *vm)
{
	struct pit *p = pit_of(vm);
	uint64_t now = x86_pit_ticks(vm);
	uint8_t r = p->port61;

	settle(&p->c[2], now);
	if ((now / REFRESH_TICKS) & 1) {
		r |= PORT61_REFRESH;
	}
	if (out(&p->c[2], now)) {
		r |= PORT61_OUT2;
	}
	return r;
}

void x86_port61_write(struct vm *vm, uint8_t val)
{
	struct pit *p = pit_of(vm);

	p->port61 = val & PORT61_WRITABLE;
	set_gate(p, 2, val & PORT61_GATE2, x86_pit_ticks(vm));
}

int x86_pit_add(struct vm *vm)
{
	struct pit *p;
	struct io_device d = {
		.name = "i8254-pit",
		.space = IO_PIO,
		.base = PIT_PORT,
		.size = PIT_PORTS,
		.ops = &pit_ops,
	};

	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	p = pit_of(vm);
	memset(p, 0, sizeof(*p));
	p->vm = vm;
	p->tsc_base = x86_pcdev_tsc();
	/*
	 * Power-up state (the datasheet leaves it undefined): no counter
	 * counts until it is programmed, control words as mode 0, binary,
	 * LSB-then-MSB; OUT low. Gates 0 and 1 are tied high on a PC;
	 * gate 2 is port 0x61 bit 0, clear.
	 */
	for (unsigned int i = 0; i < 3; i++) {
		p->c[i].rw = RW_BOTH;
		p->c[i].gate = i != 2;
	}
	d.priv = p;
	return vm_add_device(vm, &d);
}
