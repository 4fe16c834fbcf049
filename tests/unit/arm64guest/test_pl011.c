// SPDX-License-Identifier: MIT
/*
 * Host tests of the emulated PL011 (vmm/dev_pl011.c, included here so that
 * its static register logic is reachable), with the VM's bus and console
 * replaced by recorders.
 */
#include "../../../vmm/dev_pl011.c"

#include <string.h>

#include "harness.h"

static struct io_device added;
static char console[64];
static unsigned int con_len;

int vm_add_device(struct vm *vm, const struct io_device *d)
{
	(void)vm;
	added = *d;
	return 0;
}

void vm_console_putc(struct vm *vm, char c)
{
	(void)vm;
	if (con_len < sizeof(console) - 1) {
		console[con_len++] = c;
	}
}

/* The interrupt line and console input, recorded. */
static int irq_level = -1;
static unsigned int irq_line;
static unsigned int irq_changes;
static unsigned int (*rx_fn)(struct vm *, void *, const uint8_t *,
			     unsigned int);
static void *rx_priv;

int arch_vm_irq_line(struct vm *vm, unsigned int line, bool level)
{
	(void)vm;
	irq_line = line;
	irq_level = level;
	irq_changes++;
	return 0;
}

void vm_console_attach_input(struct vm *vm,
			     unsigned int (*rx)(struct vm *, void *,
						const uint8_t *, unsigned int),
			     void *priv)
{
	(void)vm;
	rx_fn = rx;
	rx_priv = priv;
}

static struct vm the_vm;
static struct vcpu the_vcpu = { .vm = &the_vm };

static void fresh(void)
{
	memset(&added, 0, sizeof(added));
	memset(console, 0, sizeof(console));
	con_len = 0;
	irq_level = -1;
	irq_changes = 0;
	rx_fn = NULL;
	the_vm.index = 3;
	dev_pl011_add(&the_vm, 0x09000000, 33);
}

static int rd(uint64_t off, unsigned int size, uint64_t *v)
{
	*v = 0xdeadbeef;
	return added.ops->read(&the_vcpu, &added, off, size, v);
}

static int wr(uint64_t off, unsigned int size, uint64_t v)
{
	return added.ops->write(&the_vcpu, &added, off, size, v);
}

/* The device is a 4 KiB MMIO window at the given base. */
static void test_registers_on_the_bus(void)
{
	fresh();
	CHECK_EQ(added.space, IO_MMIO);
	CHECK_EQ(added.base, 0x09000000);
	CHECK_EQ(added.size, 0x1000);
	CHECK(added.priv == &pl011_state[3]);
}

/* PeriphID0-3 and PrimeCellID0-3 read as a PL011's (Linux's AMBA probe). */
static void test_ids(void)
{
	static const uint8_t want[8] = { 0x11, 0x10, 0x34, 0x00,
					 0x0d, 0xf0, 0x05, 0xb1 };
	uint64_t v;

	fresh();
	for (unsigned int i = 0; i < 8; i++) {
		CHECK_EQ(rd(0xfe0 + 4 * i, 4, &v), 0);
		CHECK_EQ(v, want[i]);
	}
}

/* The flags say: transmitter empty, receiver empty, never busy or full. */
static void test_flags(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(rd(0x018, 4, &v), 0);
	CHECK_EQ(v, 0x90);
	CHECK_EQ(rd(0x000, 4, &v), 0);		/* nothing to receive */
	CHECK_EQ(v, 0);
	CHECK(wr(0x018, 4, 0) != 0);		/* FR is read-only */
}

/* UARTDR writes go to the console, 32-bit and byte-wide alike. */
static void test_data_to_console(void)
{
	fresh();
	CHECK_EQ(wr(0x000, 4, 0x148), 0);	/* bits above 7:0 dropped */
	CHECK_EQ(wr(0x000, 1, 'i'), 0);
	CHECK_EQ(wr(0x000, 2, '\n'), 0);
	CHECK_EQ(wr(0x001, 1, 'X'), 0);	/* not the data byte: ignored */
	CHECK(strcmp(console, "Hi\n") == 0);
}

/* Configuration registers keep what is written (masked to their width). */
static void test_config_registers_keep_state(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(rd(0x030, 4, &v), 0);
	CHECK_EQ(v, 0x300);			/* CR reset: TXE | RXE */
	CHECK_EQ(wr(0x024, 4, 0x1234567), 0);
	CHECK_EQ(rd(0x024, 4, &v), 0);
	CHECK_EQ(v, 0x4567);
	CHECK_EQ(wr(0x028, 4, 0xff), 0);
	CHECK_EQ(rd(0x028, 4, &v), 0);
	CHECK_EQ(v, 0x3f);
	CHECK_EQ(wr(0x02c, 4, 0x70), 0);
	CHECK_EQ(rd(0x02c, 4, &v), 0);
	CHECK_EQ(v, 0x70);
	CHECK_EQ(wr(0x030, 4, 0x301), 0);
	CHECK_EQ(rd(0x030, 2, &v), 0);
	CHECK_EQ(v, 0x301);
	CHECK_EQ(wr(0x031, 1, 0x0), 0);	/* high byte of CR only */
	CHECK_EQ(rd(0x030, 4, &v), 0);
	CHECK_EQ(v, 0x001);
	CHECK_EQ(rd(0x030, 1, &v), 0);
	CHECK_EQ(v, 0x01);
}

/* A byte sent raises TX in RIS; MIS = RIS & IMSC; ICR clears. */
static void test_interrupt_status(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(rd(0x03c, 4, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(wr(0x000, 4, 'a'), 0);
	CHECK_EQ(rd(0x03c, 4, &v), 0);
	CHECK_EQ(v, 0x20);
	CHECK_EQ(rd(0x040, 4, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(wr(0x038, 4, 0x20), 0);
	CHECK_EQ(rd(0x040, 4, &v), 0);
	CHECK_EQ(v, 0x20);
	CHECK_EQ(wr(0x044, 4, 0x7ff), 0);
	CHECK_EQ(rd(0x03c, 4, &v), 0);
	CHECK_EQ(v, 0);
	CHECK(rd(0x044, 4, &v) != 0);		/* ICR is write-only */
	CHECK(wr(0x03c, 4, 0) != 0);		/* RIS is read-only */
}

/* 8-byte, misaligned and non-register accesses are refused. */
static void test_refused_accesses(void)
{
	uint64_t v;

	fresh();
	CHECK(rd(0x000, 8, &v) != 0);
	CHECK(wr(0x000, 8, 'x') != 0);
	CHECK(rd(0x002, 4, &v) != 0);
	CHECK(rd(0x019, 2, &v) != 0);
	CHECK(rd(0x008, 4, &v) != 0);		/* reserved offset */
	CHECK(wr(0x100, 4, 0) != 0);
	CHECK(rd(0x1000, 4, &v) != 0);		/* outside the window */
	CHECK(wr(0xfe0, 4, 0) != 0);		/* IDs are read-only */
	CHECK_EQ(con_len, 0);
}

/* Each VM has its own registers. */
static void test_state_per_vm(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(wr(0x024, 4, 7), 0);
	the_vm.index = 4;
	dev_pl011_add(&the_vm, 0x09000000, 33);
	CHECK_EQ(rd(0x024, 4, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(pl011_state[3].ibrd, 7);
	the_vm.index = VM_MAX_VMS;
	CHECK(dev_pl011_add(&the_vm, 0x09000000, 33) != 0);
}

static unsigned int type(const char *keys)
{
	return rx_fn(&the_vm, rx_priv, (const uint8_t *)keys,
		     (unsigned int)strlen(keys));
}

/* The device attaches itself as the VM's console input. */
static void test_attaches_console_input(void)
{
	fresh();
	CHECK(rx_fn != NULL);
	CHECK(rx_priv == &pl011_state[3]);
}

/* With the UART or its receiver off (the reset state), keys wait. */
static void test_receiver_off_takes_nothing(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(type("a"), 0);			/* CR reset: UARTEN clear */
	CHECK_EQ(wr(0x030, 4, 0x101), 0);	/* UARTEN, TXE, no RXE */
	CHECK_EQ(type("a"), 0);
	CHECK_EQ(rd(0x018, 4, &v), 0);
	CHECK(v & 0x10);			/* RXFE */
}

/* Received bytes come out of UARTDR in order; FR tracks RXFE and RXFF. */
static void test_fifo_order_and_flags(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(wr(0x02c, 4, 0x70), 0);	/* 8 bits, FEN */
	CHECK_EQ(wr(0x030, 4, 0x301), 0);
	CHECK_EQ(type("hi"), 2);
	CHECK_EQ(rd(0x018, 4, &v), 0);
	CHECK_EQ(v & 0x50, 0);			/* not empty, not full */
	CHECK_EQ(rd(0x000, 4, &v), 0);
	CHECK_EQ(v, 'h');
	CHECK_EQ(rd(0x000, 1, &v), 0);
	CHECK_EQ(v, 'i');
	CHECK_EQ(rd(0x018, 4, &v), 0);
	CHECK(v & 0x10);
	CHECK_EQ(rd(0x000, 4, &v), 0);		/* empty: reads 0 */
	CHECK_EQ(v, 0);
}

/* 32 entries with FEN, 1 without; the rest is left for later. */
static void test_fifo_depth_follows_fen(void)
{
	char many[41];
	uint64_t v;

	fresh();
	memset(many, 'x', 40);
	many[40] = '\0';
	CHECK_EQ(wr(0x030, 4, 0x301), 0);
	CHECK_EQ(type(many), 1);		/* FEN clear: holding register */
	CHECK_EQ(rd(0x018, 4, &v), 0);
	CHECK(v & 0x40);			/* RXFF */
	CHECK_EQ(rd(0x000, 4, &v), 0);
	CHECK_EQ(wr(0x02c, 4, 0x70), 0);
	CHECK_EQ(type(many), 32);
	CHECK_EQ(rd(0x018, 4, &v), 0);
	CHECK(v & 0x40);
	CHECK_EQ(type("y"), 0);			/* full: nothing overruns */
	CHECK_EQ(rd(0x004, 4, &v), 0);
	CHECK_EQ(v, 0);				/* no overrun error */
}

/* RXRIS at the IFLS level, RTRIS once the line is quiet with data held. */
static void test_rx_and_timeout_interrupts(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(wr(0x02c, 4, 0x70), 0);
	CHECK_EQ(wr(0x034, 4, 0x00), 0);	/* RX level 1/8: 4 bytes */
	CHECK_EQ(wr(0x030, 4, 0x301), 0);
	CHECK_EQ(type("ab"), 2);
	CHECK_EQ(rd(0x03c, 4, &v), 0);
	CHECK_EQ(v & 0x50, 0x40);		/* below the level: timeout */
	CHECK_EQ(type("cd"), 2);
	CHECK_EQ(rd(0x03c, 4, &v), 0);
	CHECK_EQ(v & 0x50, 0x50);
	CHECK_EQ(rd(0x000, 4, &v), 0);		/* 3 left: RX falls */
	CHECK_EQ(rd(0x03c, 4, &v), 0);
	CHECK_EQ(v & 0x50, 0x40);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(rd(0x000, 4, &v), 0);
	}
	CHECK_EQ(rd(0x03c, 4, &v), 0);		/* emptied: timeout falls */
	CHECK_EQ(v & 0x50, 0);
	CHECK_EQ(type("e"), 1);
	CHECK_EQ(wr(0x044, 4, 0x40), 0);	/* ICR clears RTRIS */
	CHECK_EQ(rd(0x03c, 4, &v), 0);
	CHECK_EQ(v & 0x50, 0);
	CHECK_EQ(rd(0x018, 4, &v), 0);
	CHECK_EQ(v & 0x10, 0);			/* the byte is still there */
}

/* UARTINTR follows MIS as a level on the VM's line, driven on change. */
static void test_interrupt_line_is_masked_level(void)
{
	uint64_t v;

	fresh();
	CHECK_EQ(wr(0x030, 4, 0x301), 0);
	CHECK_EQ(type("k"), 1);
	CHECK_EQ(irq_level, -1);		/* masked: never driven */
	CHECK_EQ(wr(0x038, 4, 0x50), 0);	/* RXIM | RTIM */
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(irq_line, 33);
	CHECK_EQ(rd(0x040, 4, &v), 0);
	CHECK_EQ(v & 0x50, 0x50);
	CHECK_EQ(rd(0x000, 4, &v), 0);
	CHECK_EQ(v, 'k');
	CHECK_EQ(irq_level, 0);			/* serviced: the line drops */
	CHECK_EQ(irq_changes, 2);
	CHECK_EQ(type("l"), 1);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(wr(0x038, 4, 0x00), 0);	/* masked again */
	CHECK_EQ(irq_level, 0);
	CHECK_EQ(irq_changes, 4);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "pl011");
	RUN_TEST(test_registers_on_the_bus);
	RUN_TEST(test_ids);
	RUN_TEST(test_flags);
	RUN_TEST(test_data_to_console);
	RUN_TEST(test_config_registers_keep_state);
	RUN_TEST(test_interrupt_status);
	RUN_TEST(test_refused_accesses);
	RUN_TEST(test_state_per_vm);
	RUN_TEST(test_attaches_console_input);
	RUN_TEST(test_receiver_off_takes_nothing);
	RUN_TEST(test_fifo_order_and_flags);
	RUN_TEST(test_fifo_depth_follows_fen);
	RUN_TEST(test_rx_and_timeout_interrupts);
	RUN_TEST(test_interrupt_line_is_masked_level);
	return test_done();
}
