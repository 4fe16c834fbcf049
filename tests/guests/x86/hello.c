// SPDX-License-Identifier: MIT
/*
 * hello: the first guest. Greets over COM1, then probes the emulated 16550
 * the way drivers do (scratch register, divisor latch, LSR, IIR and FIFO
 * bits, loopback with MSR and RBR), and checks CPUID says a hypervisor is
 * present. The harness looks for its greeting and its result line.
 */
#include "guest.h"

#define COM1	GUEST_COM1_PORT

static void probe_uart(void)
{
	uint8_t lcr = inb(COM1 + 3), mcr = inb(COM1 + 4);
	uint8_t msr_a, msr_b, lsr_a, lsr_b, rbr;

	EXPECT(lcr == 0x03, "uart: LCR reads 0x%x after 8N1", lcr);
	outb(COM1 + 7, 0xa5);
	EXPECT(inb(COM1 + 7) == 0xa5, "uart: scratch register kept 0xa5");
	outb(COM1 + 7, 0x5a);
	EXPECT(inb(COM1 + 7) == 0x5a, "uart: scratch register kept 0x5a");

	/* divisor latch behind DLAB, IER in front of it */
	outb(COM1 + 1, 0x05);
	outb(COM1 + 3, 0x83);
	outb(COM1 + 0, 0x34);
	outb(COM1 + 1, 0x12);
	EXPECT(inb(COM1 + 0) == 0x34 && inb(COM1 + 1) == 0x12,
	       "uart: divisor latch reads back 0x1234");
	outb(COM1 + 3, 0x03);
	EXPECT(inb(COM1 + 1) == 0x05, "uart: IER kept 0x05 behind DLAB");
	outb(COM1 + 1, 0x00);

	EXPECT((inb(COM1 + 5) & 0x60) == 0x60, "uart: LSR says THR empty");
	EXPECT(inb(COM1 + 0) == 0, "uart: RBR reads 0 with no data");
	EXPECT(!(inb(COM1 + 5) & 0x01), "uart: LSR has no data ready");
	EXPECT(inb(COM1 + 2) == 0xc1, "uart: IIR 0xc1 (FIFOs, none pending)");
	outb(COM1 + 2, 0x00);
	EXPECT(inb(COM1 + 2) == 0x01, "uart: IIR 0x01 with FIFOs off");
	outb(COM1 + 2, 0xc7);

	/*
	 * Loopback: MCR outputs come back in MSR, THR comes back in RBR.
	 * Nothing is printed until MCR is restored: it would loop back too.
	 */
	outb(COM1 + 4, 0x1a);
	msr_a = inb(COM1 + 6);
	outb(COM1 + 4, 0x15);
	msr_b = inb(COM1 + 6);
	outb(COM1 + 0, 'Z');
	lsr_a = inb(COM1 + 5);
	rbr = inb(COM1 + 0);
	lsr_b = inb(COM1 + 5);
	outb(COM1 + 4, mcr);
	EXPECT((msr_a & 0xf0) == 0x90,
	       "uart: loopback MSR 0x%x for RTS+OUT2, expected 0x9X", msr_a);
	EXPECT((msr_b & 0xf0) == 0x60,
	       "uart: loopback MSR 0x%x for DTR+OUT1, expected 0x6X", msr_b);
	EXPECT(lsr_a & 0x01, "uart: loopback byte not ready in LSR");
	EXPECT(rbr == 'Z', "uart: loopback byte read back as 0x%x", rbr);
	EXPECT(!(lsr_b & 0x01), "uart: loopback byte not consumed");
}

static void check_cpuid(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(1), "c"(0));
	EXPECT(c & (1u << 31), "cpuid: hypervisor bit clear (ecx 0x%x)", c);
	EXPECT(!(c & (1u << 5)), "cpuid: VMX visible to the guest");
}

int guest_main(void)
{
	gprintf("hello: hello from a 64-bit guest, %lu MiB of RAM\n",
		(unsigned long)(boot_info.ram_size >> 20));
	probe_uart();
	check_cpuid();
	return checks_result("hello");
}
