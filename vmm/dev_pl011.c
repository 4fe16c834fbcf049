// SPDX-License-Identifier: MIT
/*
 * An emulated ARM PL011 UART (PrimeCell r1p5), one per VM, on its MMIO bus.
 *
 * What a guest driver sees: transmitted bytes go to the VM's console
 * (vm_console_putc(), printed a line at a time as "[name] ..."); the
 * transmitter is always idle and empty. Received bytes are the keys typed
 * on Strata's console while the VM has the focus (vmm/vconsole.c): they
 * enter a 32-entry receive FIFO (one entry with UARTLCR_H.FEN clear, as on
 * the real part) while UARTCR has UARTEN and RXE set; keys that do not fit
 * wait in the VM's console queue instead of overrunning, as if the line
 * were flow-controlled, so UARTRSR never reports an error. UARTFR shows
 * RXFE and RXFF; UARTDR reads pop the FIFO (0 when empty).
 *
 * Interrupts, as the TRM's "Interrupts" section describes them: the
 * receive interrupt (RXRIS) is raised when the FIFO fill reaches the
 * UARTIFLS.RXIFLSEL level (any byte with the FIFO off) and falls when
 * reads take it below; the receive timeout (RTRIS) is raised when data
 * sits in the FIFO and no more arrives, which here is when Strata has
 * passed on every key it had for the VM (an event, not 32 bit periods),
 * and falls when the FIFO is emptied. The transmit interrupt (TXRIS) shows
 * "transmit done" once a byte was written. UARTICR clears any of them.
 * UARTINTR, the OR of UARTMIS, drives the VM's interrupt line (the GIC SPI
 * of the guest DTB) as a level through arch_vm_irq_line().
 *
 * The configuration registers (baud divisors, line control, control, FIFO
 * levels, DMA control) keep what the guest writes, and the identification
 * registers hold the PL011's real values, which Linux's AMBA bus checks
 * before it binds the pl011 driver.
 *
 * Registers are 32 bits wide (only the low 16 bits are used). Byte and
 * halfword accesses inside one register are allowed (early consoles write
 * UARTDR with strb); 8-byte and register-straddling accesses, offsets that
 * are not registers, and writes to read-only registers are refused, which
 * the bus turns into its unclaimed-access semantics.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/devices.h>

#define PL011_SIZE	0x1000

#define UARTDR		0x000	/* data */
#define UARTRSR		0x004	/* receive status / error clear */
#define UARTFR		0x018	/* flags (read-only) */
#define UARTILPR	0x020	/* IrDA low-power counter */
#define UARTIBRD	0x024	/* integer baud divisor */
#define UARTFBRD	0x028	/* fractional baud divisor */
#define UARTLCR_H	0x02c	/* line control */
#define UARTCR		0x030	/* control */
#define UARTIFLS	0x034	/* FIFO interrupt levels */
#define UARTIMSC	0x038	/* interrupt mask */
#define UARTRIS		0x03c	/* raw interrupt status (RO) */
#define UARTMIS		0x040	/* masked interrupt status (RO) */
#define UARTICR		0x044	/* interrupt clear (write-only) */
#define UARTDMACR	0x048	/* DMA control */
#define UARTPERIPHID0	0xfe0	/* to 0xffc: PeriphID0-3, PCellID0-3 */

#define FR_RXFE		BIT(4)	/* receive FIFO empty */
#define FR_RXFF		BIT(6)	/* receive FIFO full */
#define FR_TXFE		BIT(7)	/* transmit FIFO empty */
#define INT_RX		BIT(4)	/* receive interrupt */
#define INT_TX		BIT(5)	/* transmit interrupt */
#define INT_RT		BIT(6)	/* receive timeout interrupt */
#define INT_ALL		GENMASK(10, 0)
#define LCR_H_FEN	BIT(4)	/* FIFOs enabled */
#define CR_UARTEN	BIT(0)
#define CR_RXE		BIT(9)

#define PL011_FIFO	32	/* r1p5: 32-entry FIFOs */

/* Reset values (PL011 TRM, "Register descriptions"). */
#define CR_RESET	0x300	/* TXE | RXE */
#define IFLS_RESET	0x12	/* both FIFOs at half */

/* PeriphID0-3 (part 0x011, designer ARM, revision r1p5) then PrimeCellID0-3. */
static const uint8_t pl011_id[8] = {
	0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
};

struct pl011 {
	struct vm *vm;
	unsigned int irq;	/* the VM's interrupt line (SPI INTID) */
	bool line;		/* UARTINTR as last driven */
	bool irq_refused;	/* arch_vm_irq_line() failed: said once */
	uint16_t ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, dmacr;
	uint16_t ris;
	uint8_t rx[PL011_FIFO];
	unsigned int rx_head, rx_len;
};

static struct pl011 pl011_state[VM_MAX_VMS];

static unsigned int rx_depth(const struct pl011 *u)
{
	return (u->lcr_h & LCR_H_FEN) ? PL011_FIFO : 1;
}

/* The fill that raises RXRIS: UARTIFLS.RXIFLSEL, 1/8 to 7/8 full. */
static unsigned int rx_level(const struct pl011 *u)
{
	static const uint8_t eighths[8] = { 1, 2, 4, 6, 7, 7, 7, 7 };

	if (!(u->lcr_h & LCR_H_FEN)) {
		return 1;
	}
	return PL011_FIFO * eighths[(u->ifls >> 3) & 7] / 8;
}

/* Drive UARTINTR (the OR of the masked interrupts) when it changes. */
static void pl011_update_irq(struct pl011 *u)
{
	bool level = u->ris & u->imsc;

	if (level == u->line || !u->vm) {
		return;
	}
	u->line = level;
	if (arch_vm_irq_line(u->vm, u->irq, level) && !u->irq_refused) {
		u->irq_refused = true;
		pr_warn("vm %s: the PL011's interrupt %u cannot be delivered; "
			"poll UARTFR\n", u->vm->name, u->irq);
	}
}

static uint8_t rx_pop(struct pl011 *u)
{
	uint8_t c;

	if (!u->rx_len) {
		return 0;
	}
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % PL011_FIFO;
	u->rx_len--;
	if (u->rx_len < rx_level(u)) {
		u->ris &= ~INT_RX;
	}
	if (!u->rx_len) {
		u->ris &= ~INT_RT;
	}
	return c;
}

/* The VM's console input (vm_console_attach_input()): fill the FIFO. */
static unsigned int pl011_rx(struct vm *vm, void *priv, const uint8_t *b,
			     unsigned int n)
{
	struct pl011 *u = priv;
	unsigned int took = 0;

	(void)vm;
	if ((u->cr & (CR_UARTEN | CR_RXE)) != (CR_UARTEN | CR_RXE)) {
		return 0;	/* receiver off: the keys wait */
	}
	while (took < n && u->rx_len < rx_depth(u)) {
		u->rx[(u->rx_head + u->rx_len) % PL011_FIFO] = b[took++];
		u->rx_len++;
	}
	if (u->rx_len >= rx_level(u)) {
		u->ris |= INT_RX;
	}
	if (took == n && u->rx_len) {
		u->ris |= INT_RT;	/* the line went quiet with data held */
	}
	pl011_update_irq(u);
	return took;
}

/*
 * The register at @reg (4-byte aligned) for a read; false if it is none.
 * @pop: the read is the guest's, so a UARTDR read takes the byte.
 */
static bool pl011_reg_read(struct pl011 *u, uint64_t reg, uint32_t *v,
			   bool pop)
{
	if (reg >= UARTPERIPHID0 && reg < PL011_SIZE) {
		*v = pl011_id[(reg - UARTPERIPHID0) / 4];
		return true;
	}
	switch (reg) {
	case UARTDR:		/* the data byte; error bits 11:8 stay 0 */
		*v = pop ? rx_pop(u) : 0;
		return true;
	case UARTRSR:		/* no receive errors: nothing overruns */
		*v = 0;
		return true;
	case UARTFR:
		*v = FR_TXFE | (u->rx_len ? 0 : FR_RXFE) |
		     (u->rx_len >= rx_depth(u) ? FR_RXFF : 0);
		return true;
	case UARTILPR:
		*v = u->ilpr;
		return true;
	case UARTIBRD:
		*v = u->ibrd;
		return true;
	case UARTFBRD:
		*v = u->fbrd;
		return true;
	case UARTLCR_H:
		*v = u->lcr_h;
		return true;
	case UARTCR:
		*v = u->cr;
		return true;
	case UARTIFLS:
		*v = u->ifls;
		return true;
	case UARTIMSC:
		*v = u->imsc;
		return true;
	case UARTRIS:
		*v = u->ris;
		return true;
	case UARTMIS:
		*v = u->ris & u->imsc;
		return true;
	case UARTDMACR:
		*v = u->dmacr;
		return true;
	}
	return false;
}

/*
 * Write @v to the register at @reg, sending a UARTDR byte through @vm.
 * Returns false for read-only registers and offsets that are no register.
 */
static bool pl011_reg_write(struct vm *vm, struct pl011 *u, uint64_t reg,
			    uint32_t v)
{
	switch (reg) {
	case UARTDR:
		vm_console_putc(vm, (char)(v & 0xff));
		u->ris |= INT_TX;
		return true;
	case UARTRSR:		/* error clear: there are no errors */
		return true;
	case UARTILPR:
		u->ilpr = v & 0xff;
		return true;
	case UARTIBRD:
		u->ibrd = v & 0xffff;
		return true;
	case UARTFBRD:
		u->fbrd = v & 0x3f;
		return true;
	case UARTLCR_H:
		u->lcr_h = v & 0xff;
		return true;
	case UARTCR:
		u->cr = v & 0xff87;	/* bits 6:3 are reserved */
		return true;
	case UARTIFLS:
		u->ifls = v & 0x3f;
		return true;
	case UARTIMSC:
		u->imsc = v & INT_ALL;
		return true;
	case UARTICR:
		u->ris &= ~(v & INT_ALL);
		return true;
	case UARTDMACR:
		u->dmacr = v & 0x7;
		return true;
	}
	return false;
}

/* An access must stay inside one 32-bit register and be naturally aligned. */
static bool pl011_access_ok(uint64_t off, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4) && off < PL011_SIZE &&
	       IS_ALIGNED(off, size);
}

static int pl011_read(struct vcpu *v, struct io_device *d, uint64_t off,
		      unsigned int size, uint64_t *val)
{
	uint64_t reg = ALIGN_DOWN(off, 4);
	unsigned int shift = (off - reg) * 8;
	struct pl011 *u = d->priv;
	uint32_t r;

	(void)v;
	/* Only a read of the data byte itself takes it from the FIFO. */
	if (!pl011_access_ok(off, size) ||
	    !pl011_reg_read(u, reg, &r, off == UARTDR)) {
		return -EINVAL;
	}
	pl011_update_irq(u);
	r >>= shift;
	*val = size == 4 ? r : r & ((1U << (size * 8)) - 1);
	return 0;
}

static int pl011_write(struct vcpu *v, struct io_device *d, uint64_t off,
		       unsigned int size, uint64_t val)
{
	uint64_t reg = ALIGN_DOWN(off, 4);
	uint32_t r;

	if (!pl011_access_ok(off, size)) {
		return -EINVAL;
	}
	if (size != 4 && reg != UARTDR) {
		/* A narrow write changes only its bytes of the register. */
		unsigned int shift = (off - reg) * 8;
		uint32_t mask = ((1U << (size * 8)) - 1) << shift;

		if (reg == UARTICR) {
			r = 0;	/* write-only: clear just these bits */
		} else if (!pl011_reg_read(d->priv, reg, &r, false)) {
			return -EINVAL;
		}
		val = (r & ~mask) | (((uint32_t)val << shift) & mask);
	} else if (reg == UARTDR && off != UARTDR) {
		/* The data byte is bits 7:0; the rest of UARTDR is status. */
		return 0;
	}
	if (!pl011_reg_write(v->vm, d->priv, reg, (uint32_t)val)) {
		return -EINVAL;
	}
	pl011_update_irq(d->priv);
	return 0;
}

static const struct io_device_ops pl011_ops = {
	.read = pl011_read,
	.write = pl011_write,
};

int dev_pl011_add(struct vm *vm, gpa_t base, unsigned int irq)
{
	struct pl011 *u;
	int ret;
	struct io_device d = {
		.name = "pl011",
		.space = IO_MMIO,
		.base = base,
		.size = PL011_SIZE,
		.ops = &pl011_ops,
	};

	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	u = &pl011_state[vm->index];
	*u = (struct pl011){ .vm = vm, .irq = irq, .cr = CR_RESET,
			     .ifls = IFLS_RESET };
	d.priv = u;
	ret = vm_add_device(vm, &d);
	if (!ret) {
		vm_console_attach_input(vm, pl011_rx, u);
	}
	return ret;
}
