// SPDX-License-Identifier: MIT
/*
 * echo: reads what is typed at Strata's console for this VM from its
 * PL011, interrupt-driven as a real driver is: the receive and receive
 * timeout interrupts (UARTIMSC RXIM | RTIM) on the SPI its device tree
 * names, enabled at the virtual GIC's distributor and taken through the
 * GICv3 CPU interface. Everything is read in the interrupt handler into
 * a ring; the main loop waits (WFI) for keys there.
 *
 * It prints "NAME> " without a newline (a prompt), echoes each key as it
 * arrives, and answers every line with
 *
 *   echo NAME: line 'TEXT' (N bytes, M interrupts so far)
 *
 * where control characters in TEXT are shown as ^A .. ^_. The line "quit"
 * ends the VM with "echo NAME: PASS" (status 0); NAME is the bootargs.
 */
#include "guest.h"

#define UARTDR		0x000
#define UARTFR		0x018
#define UARTLCR_H	0x02c
#define UARTCR		0x030
#define UARTIFLS	0x034
#define UARTIMSC	0x038
#define UARTMIS		0x040
#define UARTICR		0x044
#define FR_RXFE		(1U << 4)
#define INT_RX		(1U << 4)
#define INT_RT		(1U << 6)

#define GICD_CTLR	0x0000
#define GICD_IGROUPR	0x0080
#define GICD_ISENABLER	0x0100
#define GICD_IPRIORITYR	0x0400
#define GICD_ICFGR	0x0c00
#define GICD_IROUTER	0x6000

#define LINE_MAX	80

#define RING		256

static unsigned int spi;
static volatile unsigned int irqs, rx_bytes, lost;
static volatile uint8_t ring[RING];
static volatile unsigned int ring_head, ring_tail;
static char line[LINE_MAX];
static unsigned int line_len;

static uint64_t uart(unsigned int reg)
{
	return GUEST_PL011_BASE + reg;
}

static uint64_t gicd(unsigned int reg)
{
	return GUEST_GICD_BASE + reg;
}

static void key(char c)
{
	rx_bytes++;
	if (ring_head - ring_tail == RING) {
		lost++;
		return;
	}
	ring[ring_head % RING] = (uint8_t)c;
	ring_head++;
}

/* The next key, waiting for the interrupt that brings it. */
static char next_key(void)
{
	char c;

	__asm__ volatile("msr daifset, #2" ::: "memory");
	while (ring_head == ring_tail) {
		/* WFI wakes on a pending interrupt even masked */
		__asm__ volatile("wfi; msr daifclr, #2; isb; "
				 "msr daifset, #2" ::: "memory");
	}
	c = (char)ring[ring_tail % RING];
	ring_tail++;
	__asm__ volatile("msr daifclr, #2" ::: "memory");
	return c;
}

/* Echo keys until a line ends (CR or LF). */
static void read_line(void)
{
	line_len = 0;
	for (;;) {
		char c = next_key();

		if (c == '\r' || c == '\n') {
			putc('\n');
			line[line_len] = '\0';
			return;
		}
		putc(c);
		if (line_len < LINE_MAX - 1) {
			line[line_len++] = c;
		}
	}
}

bool exception_hook(struct exc_frame *f)
{
	uint64_t iar;

	if (f->vector != 0x280 && f->vector != 0x080) {
		return false;	/* not an IRQ */
	}
	__asm__ volatile("mrs %0, s3_0_c12_c12_0" : "=r"(iar));	/* IAR1 */
	if ((iar & 0xffffff) == 1023) {
		return true;	/* spurious */
	}
	if ((iar & 0xffffff) == spi) {
		uint32_t mis = mmio_read32(uart(UARTMIS));

		irqs++;
		mmio_write32(uart(UARTICR), mis & (INT_RX | INT_RT));
		while (!(mmio_read32(uart(UARTFR)) & FR_RXFE)) {
			key((char)(mmio_read32(uart(UARTDR)) & 0xff));
		}
	} else {
		printf("FAIL: unexpected interrupt %lu\n",
		       (unsigned long)(iar & 0xffffff));
		failures++;
	}
	__asm__ volatile("msr s3_0_c12_c12_1, %0" : : "r"(iar));	/* EOIR1 */
	return true;
}

/* The PL011's SPI from the device tree: <GIC_SPI n flags> is INTID 32+n. */
static bool find_spi(const void *dtb)
{
	uint32_t len;
	const uint32_t *irq = dt_prop(dtb, "/pl011", "interrupts", &len);

	if (!irq || len != 12 || dt_u32(&irq[0]) != 0) {
		return false;
	}
	spi = 32 + dt_u32(&irq[1]);
	return spi < 64;
}

static void gic_enable_spi(void)
{
	uint32_t w = spi / 32, b = spi % 32;
	uint64_t one = 1;

	mmio_write32(gicd(GICD_IGROUPR + 4 * w),
		     mmio_read32(gicd(GICD_IGROUPR + 4 * w)) | (1U << b));
	mmio_write32(gicd(GICD_IPRIORITYR + (spi & ~3U)),
		     0xa0a0a0a0);
	/* level-sensitive: ICFGR bit 2n+1 clear */
	mmio_write32(gicd(GICD_ICFGR + 4 * (spi / 16)),
		     mmio_read32(gicd(GICD_ICFGR + 4 * (spi / 16))) &
		     ~(2U << 2 * (spi % 16)));
	mmio_write64(gicd(GICD_IROUTER + 8 * spi), 0);	/* vCPU 0 */
	mmio_write32(gicd(GICD_CTLR), 2 | (1U << 4));	/* Grp1, ARE */
	mmio_write32(gicd(GICD_ISENABLER + 4 * w), 1U << b);
	__asm__ volatile("msr s3_0_c12_c12_5, %0; isb" : : "r"(one | 6));
	__asm__ volatile("msr s3_0_c4_c6_0, %0" : : "r"(0xffUL));	/* PMR */
	__asm__ volatile("msr s3_0_c12_c12_7, %0; isb" : : "r"(one));
}

static void show_line(const char *name)
{
	char shown[2 * LINE_MAX];
	unsigned int n = 0;

	for (unsigned int i = 0; i < line_len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20) {
			shown[n++] = '^';
			shown[n++] = (char)(c + '@');
		} else {
			shown[n++] = (char)c;
		}
	}
	shown[n] = '\0';
	printf("echo %s: line '%s' (%u bytes, %u interrupts so far)\n", name,
	       shown, line_len, irqs);
}

int guest_main(void *dtb)
{
	uint32_t len;
	const char *name = dt_prop(dtb, "/chosen", "bootargs", &len);
	unsigned int lines = 0;

	if (!name || !*name) {
		name = "?";
	}
	if (!check(find_spi(dtb), "the PL011 has a GIC SPI in the DTB")) {
		return 1;
	}
	gic_enable_spi();
	mmio_write32(uart(UARTLCR_H), 0x70);		/* 8N1, FIFOs on */
	mmio_write32(uart(UARTIFLS), 0x00);		/* RX at 1/8 */
	mmio_write32(uart(UARTCR), 0x301);		/* UARTEN, TXE, RXE */
	mmio_write32(uart(UARTICR), 0x7ff);
	mmio_write32(uart(UARTIMSC), INT_RX | INT_RT);
	printf("echo %s: ready, PL011 on INTID %u\n", name, spi);
	for (;;) {
		printf("%s> ", name);
		read_line();
		lines++;
		show_line(name);
		if (!strcmp(line, "quit")) {
			break;
		}
	}
	if (!irqs || lost || failures) {
		printf("FAIL: %u interrupts, %u keys lost, %u failures\n",
		       irqs, lost, failures);
		return 1;
	}
	printf("echo %s: PASS (%u lines, %u bytes, %u interrupts)\n", name,
	       lines, rx_bytes, irqs);
	return 0;
}
