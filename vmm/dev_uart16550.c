// SPDX-License-Identifier: MIT
/*
 * An emulated 16550 UART on the I/O port bus (x86 COM1). What a guest
 * driver writes to THR goes to the VM's console; the registers behave as a
 * real 16550's do where drivers probe them: the divisor latch behind
 * LCR.DLAB, IER, IIR with the FIFO bits and its sources, LCR, MCR with
 * loopback (THR looped to RBR, MCR outputs seen in MSR), LSR always ready
 * to transmit, MSR and the scratch register.
 *
 * Received bytes are the keys typed on Strata's console while the VM has
 * the focus (vmm/vconsole.c): they enter the 16-byte receive FIFO (one byte
 * with FCR's FIFO enable clear), LSR.DR says data is ready and RBR reads
 * pop it; keys that do not fit wait in the VM's console queue (no overrun,
 * as on a flow-controlled line). In loopback the receiver hears only THR.
 * IIR reports received data (FIFO at its FCR trigger level) before the
 * character timeout (data below the level, the line quiet, as it always is
 * once Strata has passed on every key it had) before THR empty.
 *
 * The interrupt output goes to ISA IRQ 4 through arch_vm_irq_line() (on
 * x86 the 8259 pair and the IOAPIC, docs/x86-irq.md) as a PC wires it: a
 * level, high while IIR has an interrupt pending and MCR.OUT2 is set; in
 * loopback the OUT pins are forced inactive (16550 datasheet, MCR bit 4),
 * so the line stays low. IIR reports the highest-priority source: received
 * data at the trigger level, then the character timeout, then THR empty
 * (no line-status or modem-status interrupts: no errors, no modem lines
 * change). Reading IIR while it reports THR empty, or writing THR,
 * acknowledges that source, as on the part.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/devices.h>

/* Register offsets. */
#define UART_RBR_THR	0	/* DLL with DLAB */
#define UART_IER	1	/* DLM with DLAB */
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		BIT(0)	/* received data available */
#define IER_THRI	BIT(1)	/* THR empty */
#define IER_MASK	0x0f

#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_CTI		0x0c	/* character timeout (FIFO mode) */
#define IIR_FIFO	0xc0

#define FCR_ENABLE	BIT(0)
#define FCR_CLEAR_RX	BIT(1)
#define FCR_TRIGGER_SHIFT 6

#define LCR_DLAB	BIT(7)

#define MCR_DTR		BIT(0)
#define MCR_RTS		BIT(1)
#define MCR_OUT1	BIT(2)
#define MCR_OUT2	BIT(3)
#define MCR_LOOP	BIT(4)
#define MCR_MASK	0x1f

#define LSR_DR		BIT(0)
#define LSR_THRE	BIT(5)
#define LSR_TEMT	BIT(6)

#define MSR_CTS		BIT(4)
#define MSR_DSR		BIT(5)
#define MSR_RI		BIT(6)
#define MSR_DCD		BIT(7)

#define UART_RX_FIFO	16
#define UART_IRQ	4	/* COM1's ISA interrupt */

struct uart16550 {
	struct vm *vm;
	uint8_t dll, dlm, ier, lcr, mcr, scr;
	bool fifo_on;
	uint8_t trigger;	/* FCR receive trigger level, in bytes */
	bool thri_pending;	/* THR-empty interrupt not yet acknowledged */
	bool line;		/* the interrupt output as last driven */
	bool told_no_irq;	/* arch_vm_irq_line() refused: said once */
	uint8_t rx[UART_RX_FIFO];
	unsigned int rx_len;
};

static struct uart16550 uarts[VM_MAX_VMS];

static uint8_t uart_iir(const struct uart16550 *u)
{
	uint8_t fifo = u->fifo_on ? IIR_FIFO : 0;

	if ((u->ier & IER_RDI) && u->rx_len) {
		if (u->fifo_on && u->rx_len < u->trigger) {
			return fifo | IIR_CTI;
		}
		return fifo | IIR_RDI;
	}
	if ((u->ier & IER_THRI) && u->thri_pending) {
		return fifo | IIR_THRI;
	}
	return fifo | IIR_NO_INT;
}

/* Modem status: loopback shows MCR's outputs, else a connected line. */
static uint8_t uart_msr(const struct uart16550 *u)
{
	uint8_t m = 0;

	if (!(u->mcr & MCR_LOOP)) {
		return MSR_DCD | MSR_DSR | MSR_CTS;
	}
	m |= (u->mcr & MCR_RTS) ? MSR_CTS : 0;
	m |= (u->mcr & MCR_DTR) ? MSR_DSR : 0;
	m |= (u->mcr & MCR_OUT1) ? MSR_RI : 0;
	m |= (u->mcr & MCR_OUT2) ? MSR_DCD : 0;
	return m;
}

/*
 * Drive the interrupt output when it changes: gated by OUT2 as on a PC,
 * low in loopback (the OUT pins are forced inactive there).
 */
static void uart_update_irq(struct uart16550 *u)
{
	bool level = (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2 &&
		     (uart_iir(u) & 0x0f) != IIR_NO_INT;

	if (level == u->line || !u->vm) {
		return;
	}
	u->line = level;
	if (arch_vm_irq_line(u->vm, UART_IRQ, level) && !u->told_no_irq) {
		u->told_no_irq = true;
		pr_warn("vm %s: the 16550's interrupt (IRQ %u) has no "
			"interrupt controller to go to\n", u->vm->name,
			UART_IRQ);
	}
}

/* The VM's console input (vm_console_attach_input()): fill the FIFO. */
static unsigned int uart_rx(struct vm *vm, void *priv, const uint8_t *b,
			    unsigned int n)
{
	struct uart16550 *u = priv;
	unsigned int depth = u->fifo_on ? UART_RX_FIFO : 1;
	unsigned int took = 0;

	(void)vm;
	if (u->mcr & MCR_LOOP) {
		return 0;	/* the receiver hears only THR: keys wait */
	}
	while (took < n && u->rx_len < depth) {
		u->rx[u->rx_len++] = b[took++];
	}
	uart_update_irq(u);
	return took;
}

static uint8_t uart_rx_pop(struct uart16550 *u)
{
	uint8_t c;

	if (!u->rx_len) {
		return 0;
	}
	c = u->rx[0];
	memmove(u->rx, u->rx + 1, --u->rx_len);
	return c;
}

static uint8_t uart_read_reg(struct uart16550 *u, unsigned int reg)
{
	uint8_t iir;

	switch (reg) {
	case UART_RBR_THR:
		return (u->lcr & LCR_DLAB) ? u->dll : uart_rx_pop(u);
	case UART_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR_FCR:
		iir = uart_iir(u);
		/* reading IIR acknowledges a THR-empty interrupt it reports */
		if ((iir & 0x0f) == IIR_THRI) {
			u->thri_pending = false;
		}
		return iir;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
	case UART_MSR:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write_reg(struct vm *vm, struct uart16550 *u,
			   unsigned int reg, uint8_t val)
{
	switch (reg) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = val;
		} else if (u->mcr & MCR_LOOP) {
			if (u->rx_len < UART_RX_FIFO) {
				u->rx[u->rx_len++] = val;
			}
			u->thri_pending = true;
		} else {
			vm_console_putc(vm, (char)val);
			u->thri_pending = true;
		}
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
			break;
		}
		/* enabling the THR-empty source with THR empty raises it */
		if ((val & IER_THRI) && !(u->ier & IER_THRI)) {
			u->thri_pending = true;
		}
		u->ier = val & IER_MASK;
		break;
	case UART_IIR_FCR: {
		static const uint8_t trigger[4] = { 1, 4, 8, 14 };

		u->fifo_on = val & FCR_ENABLE;
		u->trigger = trigger[val >> FCR_TRIGGER_SHIFT];
		if (val & FCR_CLEAR_RX) {
			u->rx_len = 0;
		}
		break;
	}
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & MCR_MASK;
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR are read-only: writes are ignored */
		break;
	}
}

/* Byte accesses only, like the real part; wider ones are refused. */
static int uart_read(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t *val)
{
	(void)v;
	if (size != 1 || off > UART_SCR) {
		return -EINVAL;
	}
	*val = uart_read_reg(d->priv, off);
	uart_update_irq(d->priv);
	return 0;
}

static int uart_write(struct vcpu *v, struct io_device *d, uint64_t off,
		      unsigned int size, uint64_t val)
{
	if (size != 1 || off > UART_SCR) {
		return -EINVAL;
	}
	uart_write_reg(v->vm, d->priv, off, (uint8_t)val);
	uart_update_irq(d->priv);
	return 0;
}

static const struct io_device_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
};

int dev_uart16550_add(struct vm *vm, uint16_t port)
{
	struct uart16550 *u;
	struct io_device d;
	int ret;

	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	u = &uarts[vm->index];
	/* reset values: divisor 12 (9600 baud), every other register 0 */
	*u = (struct uart16550){ .vm = vm, .dll = 12, .trigger = 1 };
	d = (struct io_device){
		.name = "uart16550",
		.space = IO_PIO,
		.base = port,
		.size = 8,
		.ops = &uart_ops,
		.priv = u,
	};
	ret = vm_add_device(vm, &d);
	if (!ret) {
		vm_console_attach_input(vm, uart_rx, u);
	}
	return ret;
}
