// SPDX-License-Identifier: MIT
/*
 * The 8042 keyboard controller of a PC, per VM, with a keyboard that never
 * types and no auxiliary (mouse) device (docs/x86-pc-devices.md; IBM PC AT
 * Technical Reference, "Keyboard controller"):
 *   0x60  data: reads the output buffer; a write is the parameter of the
 *         last command that wants one, else a byte for the keyboard;
 *   0x64  reads the status register, a write is a controller command.
 * The device covers 0x60-0x64: port 0x61 inside it is the system control
 * port B (pit.c), 0x62 and 0x63 are nobody's (unclaimed).
 * Commands are done at once, so the input buffer is never full (IBF 0).
 * Bytes for the host wait in a queue behind the one-byte output buffer;
 * each is loaded when the buffer is read, raising IRQ 1 (keyboard) or
 * IRQ 12 (aux) when the command byte enables it: one edge per byte.
 */
#include <arch/irqchip.h>
#include <arch/pcdev.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define KBC_PORT		0x60
#define KBC_PORTS		5
#define KBC_DATA		0
#define KBC_PORT61		1
#define KBC_CMD			4

#define STS_OBF			BIT(0)
#define STS_IBF			BIT(1)
#define STS_SYS			BIT(2)
#define STS_CMD			BIT(3)	/* last write was to 0x64 */
#define STS_INH			BIT(4)	/* 1: keyboard not inhibited */
#define STS_AUXB		BIT(5)	/* output buffer holds aux data */
#define STS_TIMEOUT		BIT(6)

#define CTR_KBDINT		BIT(0)
#define CTR_AUXINT		BIT(1)
#define CTR_SYS			BIT(2)
#define CTR_KBDDIS		BIT(4)
#define CTR_AUXDIS		BIT(5)
#define CTR_XLATE		BIT(6)

#define OUT_RESET		BIT(0)	/* output port: low resets the CPU */

#define QUEUE_LEN		16
#define SRC_CTRL		0
#define SRC_KBD			1
#define SRC_AUX			2
#define SRC_CTRL_AUX		3	/* the controller's, as aux data */

struct kbc {
	struct vm *vm;
	uint8_t ram[32];	/* ram[0]: the command byte */
	uint8_t status;		/* SYS, CMD, TIMEOUT; the rest computed */
	uint8_t outport;
	uint8_t pending;	/* a command awaiting its parameter, or 0 */
	uint8_t out, out_src;	/* the output buffer */
	bool obf;
	uint8_t q[QUEUE_LEN], q_src[QUEUE_LEN];
	unsigned int q_head, q_len;
	/* the keyboard */
	uint8_t kbd_pending;	/* a keyboard command awaiting its parameter */
	uint8_t kbd_last;	/* for resend */
	uint8_t scan_set;
	bool line1, line12;
};

static struct kbc kbcs[VM_MAX_VMS];

static void update_irq(struct kbc *k)
{
	bool is_aux = k->out_src == SRC_AUX || k->out_src == SRC_CTRL_AUX;
	bool kbd = k->obf && !is_aux && (k->ram[0] & CTR_KBDINT);
	bool aux = k->obf && is_aux && (k->ram[0] & CTR_AUXINT);

	if (kbd != k->line1) {
		k->line1 = kbd;
		x86_irq_line(k->vm, 1, kbd);
	}
	if (aux != k->line12) {
		k->line12 = aux;
		x86_irq_line(k->vm, 12, aux);
	}
}

/*
 * Load the output buffer when it is free: the oldest byte whose source is
 * not held. A disabled interface holds its device's bytes (in their order)
 * until it is enabled again; the controller's own bytes are never held and
 * pass them, as they do not come through that interface.
 */
static bool held(const struct kbc *k, uint8_t src)
{
	return (src == SRC_KBD && (k->ram[0] & CTR_KBDDIS)) ||
	       (src == SRC_AUX && (k->ram[0] & CTR_AUXDIS));
}

static void refill(struct kbc *k)
{
	for (unsigned int i = 0; !k->obf && i < k->q_len; i++) {
		unsigned int at = (k->q_head + i) % QUEUE_LEN;

		if (held(k, k->q_src[at])) {
			continue;
		}
		k->out = k->q[at];
		k->out_src = k->q_src[at];
		k->obf = true;
		/* Close the gap: the entries before it move up by one. */
		for (unsigned int j = i; j > 0; j--) {
			unsigned int to = (k->q_head + j) % QUEUE_LEN;
			unsigned int from = (k->q_head + j - 1) % QUEUE_LEN;

			k->q[to] = k->q[from];
			k->q_src[to] = k->q_src[from];
		}
		k->q_head = (k->q_head + 1) % QUEUE_LEN;
		k->q_len--;
	}
	update_irq(k);
}

static void push(struct kbc *k, uint8_t b, uint8_t src)
{
	if (k->q_len < QUEUE_LEN) {
		unsigned int at = (k->q_head + k->q_len) % QUEUE_LEN;

		k->q[at] = b;
		k->q_src[at] = src;
		k->q_len++;
	}
	refill(k);
}

/* A byte from the keyboard (its replies: no key is ever pressed). */
static void kbd_send(struct kbc *k, uint8_t b)
{
	k->kbd_last = b;
	push(k, b, SRC_KBD);
}

static void kbd_write(struct kbc *k, uint8_t b)
{
	uint8_t cmd = k->kbd_pending;

	if (cmd) {
		k->kbd_pending = 0;
		if (cmd == 0xf0) {
			if (b == 0) {
				kbd_send(k, 0xfa);
				/* Set numbers as the 8042 translates them. */
				kbd_send(k, (k->ram[0] & CTR_XLATE) ?
					 (uint8_t)(k->scan_set == 1 ? 0x43 :
						   k->scan_set == 2 ? 0x41 :
						   0x3f) : k->scan_set);
			} else if (b <= 3) {
				k->scan_set = b;
				kbd_send(k, 0xfa);
			} else {
				kbd_send(k, 0xfe);
			}
			return;
		}
		kbd_send(k, 0xfa);	/* LEDs, typematic rate */
		return;
	}
	switch (b) {
	case 0xff:		/* reset: ACK, then the BAT passed */
		k->scan_set = 2;
		kbd_send(k, 0xfa);
		kbd_send(k, 0xaa);
		break;
	case 0xfe:		/* resend */
		push(k, k->kbd_last, SRC_KBD);
		break;
	case 0xf2:		/* identify: MF2 (0x83 translated to 0x41) */
		kbd_send(k, 0xfa);
		kbd_send(k, 0xab);
		kbd_send(k, (k->ram[0] & CTR_XLATE) ? 0x41 : 0x83);
		break;
	case 0xee:		/* echo */
		kbd_send(k, 0xee);
		break;
	case 0xed:		/* LEDs */
	case 0xf3:		/* typematic rate and delay */
	case 0xf0:		/* scan code set */
		k->kbd_pending = b;
		kbd_send(k, 0xfa);
		break;
	case 0xf4:		/* enable, disable, defaults, set 3 modes */
	case 0xf5:
	case 0xf6:
	case 0xf7:
	case 0xf8:
	case 0xf9:
	case 0xfa:
	case 0xfb:
	case 0xfc:
	case 0xfd:
		kbd_send(k, 0xfa);
		break;
	default:
		kbd_send(k, 0xfe);
		break;
	}
}

/* A byte written to 0x60: a command's parameter or the keyboard's. */
static void data_write(struct vcpu *v, struct kbc *k, uint8_t b)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd >= 0x60 && cmd <= 0x7f) {
		k->ram[cmd - 0x60] = b;
		if (cmd == 0x60) {
			k->ram[0] &= 0x7f;	/* bit 7 is reserved */
			k->status = (uint8_t)((k->status & ~STS_SYS) |
					      (b & CTR_SYS ? STS_SYS : 0));
		}
		refill(k);
		return;
	}
	switch (cmd) {
	case 0xd1:		/* write the output port */
		k->outport = b;
		if (!(b & OUT_RESET)) {
			vm_request_reset(v->vm, "reset line pulled through the 8042's output port");
		}
		return;
	case 0xd2:		/* into the output buffer, as from the keyboard */
		push(k, b, SRC_CTRL);
		return;
	case 0xd3:		/* as from the aux device */
		push(k, b, SRC_CTRL_AUX);
		return;
	case 0xd4:		/* to the aux device: there is none */
		k->status |= STS_TIMEOUT;
		push(k, 0xfe, SRC_CTRL_AUX);
		return;
	default:
		break;
	}
	kbd_write(k, b);
}

static void command(struct vcpu *v, struct kbc *k, uint8_t c)
{
	k->pending = 0;
	if (c >= 0x20 && c <= 0x3f) {
		push(k, k->ram[c - 0x20], SRC_CTRL);
		return;
	}
	if ((c >= 0x60 && c <= 0x7f) || (c >= 0xd1 && c <= 0xd4)) {
		k->pending = c;
		return;
	}
	if (c >= 0xf0) {
		/* Pulse output port bits 3:0 that are 0 in the command. */
		if (!(c & OUT_RESET)) {
			vm_request_reset(v->vm, "reset line pulsed by 8042 command 0xfe");
		}
		return;
	}
	switch (c) {
	case 0xa7:
		k->ram[0] |= CTR_AUXDIS;
		break;
	case 0xa8:
		k->ram[0] &= (uint8_t)~CTR_AUXDIS;
		break;
	case 0xa9:		/* aux interface test: no error */
	case 0xab:		/* keyboard interface test: no error */
		push(k, 0x00, SRC_CTRL);
		break;
	case 0xaa:		/* self test: passed; the system flag set */
		k->status |= STS_SYS;
		push(k, 0x55, SRC_CTRL);
		break;
	case 0xad:
		k->ram[0] |= CTR_KBDDIS;
		break;
	case 0xae:
		k->ram[0] &= (uint8_t)~CTR_KBDDIS;
		break;
	case 0xc0:		/* input port: keyboard not inhibited */
		push(k, 0x80, SRC_CTRL);
		break;
	case 0xd0:		/* output port */
		push(k, k->outport, SRC_CTRL);
		break;
	default:
		break;		/* not an 8042 command: ignored */
	}
	refill(k);
}

static uint8_t status_of(const struct kbc *k)
{
	uint8_t s = k->status | STS_INH;

	if (k->obf) {
		s |= STS_OBF;
		if (k->out_src == SRC_AUX || k->out_src == SRC_CTRL_AUX) {
			s |= STS_AUXB;
		}
	}
	return s;
}

static int kbc_read(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t *val)
{
	struct kbc *k = d->priv;

	if (size != 1) {
		return -EINVAL;
	}
	switch (off) {
	case KBC_DATA:
		/* An empty buffer reads its last byte again. */
		*val = k->out;
		if (k->obf) {
			/* The line drops; the next byte raises it again. */
			k->obf = false;
			k->status &= (uint8_t)~STS_TIMEOUT;
			update_irq(k);
			refill(k);
		}
		return 0;
	case KBC_PORT61:
		*val = x86_port61_read(v->vm);
		return 0;
	case KBC_CMD:
		*val = status_of(k);
		return 0;
	default:
		return -EINVAL;	/* 0x62, 0x63: nobody's */
	}
}

static int kbc_write(struct vcpu *v, struct io_device *d, uint64_t off,
		     unsigned int size, uint64_t val)
{
	struct kbc *k = d->priv;

	if (size != 1) {
		return -EINVAL;
	}
	switch (off) {
	case KBC_DATA:
		k->status &= (uint8_t)~STS_CMD;
		data_write(v, k, (uint8_t)val);
		return 0;
	case KBC_PORT61:
		x86_port61_write(v->vm, (uint8_t)val);
		return 0;
	case KBC_CMD:
		k->status |= STS_CMD;
		command(v, k, (uint8_t)val);
		return 0;
	default:
		return -EINVAL;
	}
}

static const struct io_device_ops kbc_ops = {
	.read = kbc_read,
	.write = kbc_write,
};

int x86_i8042_add(struct vm *vm)
{
	struct kbc *k;
	struct io_device d = {
		.name = "i8042",
		.space = IO_PIO,
		.base = KBC_PORT,
		.size = KBC_PORTS,
		.ops = &kbc_ops,
	};

	if (vm->index >= VM_MAX_VMS) {
		return -EINVAL;
	}
	k = &kbcs[vm->index];
	memset(k, 0, sizeof(*k));
	k->vm = vm;
	/*
	 * As a BIOS leaves it with a keyboard and no mouse (SeaBIOS does
	 * this): keyboard interrupt, system flag, translation, aux disabled;
	 * the output port with the reset line and A20 high.
	 */
	k->ram[0] = CTR_KBDINT | CTR_SYS | CTR_XLATE | CTR_AUXDIS;
	k->status = STS_SYS;
	k->outport = 0xcf | OUT_RESET | BIT(1);
	k->scan_set = 2;
	d.priv = k;
	return vm_add_device(vm, &d);
}
