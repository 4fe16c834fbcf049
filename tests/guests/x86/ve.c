// SPDX-License-Identifier: MIT
/*
 * ve: a guest of a VM with `ve = on` (EPT-violation #VE enabled). It installs
 * an IDT whose vector-20 handler counts #VEs and re-arms the information
 * page, then touches unbacked guest-physical addresses and freshly zapped
 * RAM more than 10,000 times. Every not-present entry Strata writes carries
 * SUPPRESS_VE, so each access must exit to Strata (counted as MMIO or as
 * stage-2 faults) and the guest must receive no #VE at all.
 */
#include "guest.h"

#define KiB4		4096UL
#define MiB		(1024UL * 1024)
#define UNBACKED	0xc0000000UL	/* no RAM, no device */
#define ROUNDS		5200

static volatile unsigned long ve_seen;

static void on_ve(struct exc_frame *f)
{
	volatile uint32_t *busy =
		(volatile uint32_t *)(uintptr_t)(boot_info.ve_page + 4);

	ve_seen++;
	if (ve_seen <= 3) {
		uint64_t gpa = *(volatile uint64_t *)(uintptr_t)
			       (boot_info.ve_page + 24);

		gprintf("FAIL: ve: #VE at RIP 0x%lx for GPA 0x%lx\n",
			(unsigned long)f->rip, (unsigned long)gpa);
	}
	*busy = 0;
}

int guest_main(void)
{
	unsigned long f0, u0, touches = 0, zeros = 0;
	volatile uint32_t *busy;

	EXPECT(boot_info.ve_page != 0, "ve: no #VE information page in RSI");
	if (checks_failed) {
		return checks_result("ve");
	}
	busy = (volatile uint32_t *)(uintptr_t)(boot_info.ve_page + 4);
	idt_init();
	idt_hook(20, on_ve);
	gprintf("ve: #VE information page at 0x%lx, IDT with a vector-20 handler\n",
		(unsigned long)boot_info.ve_page);
	for (uint64_t a = 8 * MiB; a < 12 * MiB; a += KiB4) {
		*(volatile uint64_t *)(uintptr_t)a = a;
	}
	f0 = counter(STRATA_CTR_S2_FAULTS);
	u0 = counter(STRATA_CTR_MMIO_UNCLAIMED);
	for (unsigned int i = 0; i < ROUNDS; i++) {
		uint64_t u = UNBACKED + (uint64_t)(i % 1024) * KiB4;
		uint64_t z = 8 * MiB + (uint64_t)(i % 1024) * KiB4;

		/* unbacked: the first access installs an MMIO SPTE */
		zeros += *(volatile uint64_t *)(uintptr_t)u == 0;
		/* zapped RAM: not present again, with SUPPRESS_VE */
		if (hypercall(STRATA_HC_ZAP, z, KiB4, 0, NULL)) {
			EXPECT(0, "ve: zap of 0x%lx failed", (unsigned long)z);
			break;
		}
		EXPECT(*(volatile uint64_t *)(uintptr_t)z == z,
		       "ve: data at 0x%lx lost", (unsigned long)z);
		touches += 2;
	}
	EXPECT(zeros == ROUNDS, "ve: unbacked reads returned non-zero");
	EXPECT(ve_seen == 0, "ve: %lu #VEs delivered", ve_seen);
	EXPECT(*busy == 0, "ve: information page busy word 0x%x", *busy);
	for (unsigned int v = 0; v < 32; v++) {
		EXPECT(exc_count[v] == 0, "ve: %lu exceptions of vector %u",
		       exc_count[v], v);
	}
	EXPECT(counter(STRATA_CTR_S2_FAULTS) - f0 >= ROUNDS,
	       "ve: zapped touches did not all fault");
	EXPECT(counter(STRATA_CTR_MMIO_UNCLAIMED) - u0 >= ROUNDS,
	       "ve: unbacked touches did not all exit");
	gprintf("ve: %lu touches of unbacked and zapped memory, %lu #VE; s2 faults %lu, unclaimed MMIO %lu\n",
		touches, ve_seen, counter(STRATA_CTR_S2_FAULTS) - f0,
		counter(STRATA_CTR_MMIO_UNCLAIMED) - u0);
	return checks_result("ve");
}
