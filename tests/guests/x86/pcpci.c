// SPDX-License-Identifier: MIT
/*
 * pcpci: PCI configuration mechanism #1 (ports 0xcf8, 0xcfc-0xcff) with
 * the i440FX-like host bridge at 00:00.0 and nothing else
 * (docs/x86-pc-devices.md):
 *   - Linux's pci_check_type1(): a byte to 0xcfb, then 0x80000000 written
 *     to CONFIG_ADDRESS reads back; its pci_sanity_check() finds a host
 *     bridge class on bus 0;
 *   - CONFIG_ADDRESS keeps only enable, bus, device, function, register;
 *     a word access at 0xcf8 is not the register;
 *   - 00:00.0's IDs, class, header type by dword, word and byte reads at
 *     every CONFIG_DATA offset; read-only registers ignore writes, the
 *     writable bits (command 6 and 8, latency timer 7:3, interrupt line)
 *     take them; the status register's bits stay;
 *   - every other function of bus 0, and bus 1, reads all ones and
 *     ignores writes; with the enable bit clear CONFIG_DATA reads all
 *     ones;
 *   - 0xcf9 inside the range is still the reset control register.
 */
#include "guest.h"
#include "x86.h"

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint32_t addr(unsigned int bus, unsigned int devfn, unsigned int reg)
{
	return 0x80000000U | bus << 16 | devfn << 8 | (reg & 0xfc);
}

static uint32_t cfg32(unsigned int bus, unsigned int devfn, unsigned int reg)
{
	outl(0xcf8, addr(bus, devfn, reg));
	return inl(0xcfc);
}

static uint16_t cfg16(unsigned int devfn, unsigned int reg)
{
	outl(0xcf8, addr(0, devfn, reg));
	return inw((uint16_t)(0xcfc + (reg & 2)));
}

static uint8_t cfg8(unsigned int devfn, unsigned int reg)
{
	outl(0xcf8, addr(0, devfn, reg));
	return inb((uint16_t)(0xcfc + (reg & 3)));
}

static void wcfg32(unsigned int bus, unsigned int devfn, unsigned int reg,
		   uint32_t v)
{
	outl(0xcf8, addr(bus, devfn, reg));
	outl(0xcfc, v);
}

static void wcfg16(unsigned int reg, uint16_t v)
{
	outl(0xcf8, addr(0, 0, reg));
	outw((uint16_t)(0xcfc + (reg & 2)), v);
}

static void wcfg8(unsigned int reg, uint8_t v)
{
	outl(0xcf8, addr(0, 0, reg));
	outb((uint16_t)(0xcfc + (reg & 3)), v);
}

static void check_type1(void)
{
	uint32_t tmp, v;
	bool sane = false;

	/* pci_check_type1() */
	outb(0xcfb, 0x01);
	tmp = inl(0xcf8);
	outl(0xcf8, 0x80000000);
	v = inl(0xcf8);
	EXPECT(v == 0x80000000, "pci: CONFIG_ADDRESS read 0x%x after 0x80000000",
	       v);
	/* pci_sanity_check(): a host bridge or Intel/Compaq on bus 0 */
	for (unsigned int devfn = 0; devfn < 0x100 && !sane; devfn++) {
		uint16_t class = cfg16(devfn, 0x0a), vendor = cfg16(devfn, 0);

		sane = class == 0x0600 || class == 0x0300 ||
		       vendor == 0x8086 || vendor == 0x0e11;
	}
	EXPECT(sane, "pci: no host bridge found on bus 0");
	outl(0xcf8, tmp);
	EXPECT(inl(0xcf8) == tmp, "pci: CONFIG_ADDRESS not restored");

	outl(0xcf8, 0xffffffff);
	v = inl(0xcf8);
	EXPECT(v == 0x80fffffc, "pci: CONFIG_ADDRESS 0x%x after all ones", v);
	outl(0xcf8, 0x80000010);
	EXPECT(inw(0xcf8) == 0xffff, "pci: a word at 0xcf8 read 0x%x",
	       inw(0xcf8));
	outw(0xcf8, 0x1234);
	EXPECT(inl(0xcf8) == 0x80000010,
	       "pci: a word write changed CONFIG_ADDRESS to 0x%x", inl(0xcf8));
}

static void check_host_bridge(void)
{
	static const uint8_t id[4] = { 0x86, 0x80, 0x37, 0x12 };
	uint32_t v;

	EXPECT(cfg32(0, 0, 0) == 0x12378086, "pci: 00:00.0 ID 0x%x",
	       cfg32(0, 0, 0));
	EXPECT(cfg32(0, 0, 8) == 0x06000002, "pci: 00:00.0 class/rev 0x%x",
	       cfg32(0, 0, 8));
	EXPECT(cfg16(0, 2) == 0x1237 && cfg16(0, 0) == 0x8086,
	       "pci: word reads 0x%x 0x%x", cfg16(0, 0), cfg16(0, 2));
	for (unsigned int i = 0; i < 4; i++) {
		EXPECT(cfg8(0, i) == id[i], "pci: byte %u reads 0x%x", i,
		       cfg8(0, i));
	}
	EXPECT(cfg8(0, 0x0e) == 0, "pci: header type 0x%x", cfg8(0, 0x0e));
	EXPECT(cfg16(0, 4) == 0x0006, "pci: command 0x%x", cfg16(0, 4));
	EXPECT(cfg16(0, 6) == 0x0280, "pci: status 0x%x", cfg16(0, 6));
	for (unsigned int bar = 0x10; bar < 0x28; bar += 4) {
		wcfg32(0, 0, bar, 0xffffffff);
		EXPECT(cfg32(0, 0, bar) == 0, "pci: BAR at 0x%x 0x%x", bar,
		       cfg32(0, 0, bar));
	}

	/* Read-only registers ignore writes. */
	wcfg32(0, 0, 0, 0);
	wcfg32(0, 0, 8, 0xffffffff);
	EXPECT(cfg32(0, 0, 0) == 0x12378086 && cfg32(0, 0, 8) == 0x06000002,
	       "pci: read-only IDs changed: 0x%x 0x%x", cfg32(0, 0, 0),
	       cfg32(0, 0, 8));
	/* Writable bits take writes, only those. */
	wcfg16(4, 0xffff);
	EXPECT(cfg16(0, 4) == 0x0146, "pci: command 0x%x after 0xffff (want 0x146)",
	       cfg16(0, 4));
	wcfg16(4, 0x0000);
	EXPECT(cfg16(0, 4) == 0x0006, "pci: command 0x%x after 0", cfg16(0, 4));
	wcfg16(6, 0xffff);
	EXPECT(cfg16(0, 6) == 0x0280, "pci: status 0x%x after 0xffff",
	       cfg16(0, 6));
	wcfg8(0x0d, 0xff);
	EXPECT(cfg8(0, 0x0d) == 0xf8, "pci: latency timer 0x%x after 0xff",
	       cfg8(0, 0x0d));
	wcfg8(0x3c, 0x0b);
	v = cfg32(0, 0, 0x3c);
	EXPECT(v == 0x0b, "pci: interrupt line/pin dword 0x%x (want 0xb)", v);
	wcfg32(0, 0, 0x3c, 0xffffffff);
	EXPECT(cfg32(0, 0, 0x3c) == 0xff, "pci: interrupt pin took a write: 0x%x",
	       cfg32(0, 0, 0x3c));
}

static void check_absent(void)
{
	unsigned int bad = 0;

	for (unsigned int devfn = 1; devfn < 0x100; devfn++) {
		wcfg32(0, devfn, 0x04, 0x7);
		if (cfg32(0, devfn, 0) != 0xffffffff ||
		    cfg32(0, devfn, 4) != 0xffffffff) {
			bad++;
		}
	}
	EXPECT(bad == 0, "pci: %u absent functions of bus 0 answered", bad);
	EXPECT(cfg32(1, 0, 0) == 0xffffffff, "pci: 01:00.0 reads 0x%x",
	       cfg32(1, 0, 0));
	EXPECT(cfg32(255, 0, 0) == 0xffffffff, "pci: ff:00.0 reads 0x%x",
	       cfg32(255, 0, 0));
	outl(0xcf8, addr(0, 1, 0));
	EXPECT(inw(0xcfe) == 0xffff && inb(0xcfd) == 0xff,
	       "pci: narrow reads of an absent function");
	/* Enable clear: no configuration cycle. */
	outl(0xcf8, 0x00000000);
	EXPECT(inl(0xcfc) == 0xffffffff, "pci: CONFIG_DATA with enable clear 0x%x",
	       inl(0xcfc));
	outl(0xcfc, 0);
	EXPECT(cfg32(0, 0, 0) == 0x12378086,
	       "pci: a write with enable clear reached 00:00.0");
}

int guest_main(void)
{
	gprintf("pci: start\n");
	check_type1();
	check_host_bridge();
	check_absent();
	/* 0xcf9: the reset control register (no reset: RST_CPU clear). */
	EXPECT(inb(0xcf9) == 0, "pci: reset control 0x%x at start", inb(0xcf9));
	outb(0xcf9, 0x0a);
	EXPECT(inb(0xcf9) == 0x0a, "pci: reset control 0x%x after 0x0a",
	       inb(0xcf9));
	outl(0xcf8, addr(0, 0, 8));
	outb(0xcf9, 0x00);
	EXPECT(inl(0xcf8) == addr(0, 0, 8) && inb(0xcf9) == 0,
	       "pci: 0xcf9 and CONFIG_ADDRESS mixed: 0x%x", inl(0xcf8));
	gprintf("pci: host bridge 8086:1237 class 0600 at 00:00.0, alone\n");
	return checks_result("pci");
}
