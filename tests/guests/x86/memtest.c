// SPDX-License-Identifier: MIT
/*
 * memtest: writes and checks every 8-byte word of the guest's RAM (its size
 * in RDI at entry) except its own image and Strata's area (page tables,
 * GDT, stack), with two address-dependent patterns, then prints the fault
 * and mapping counters: RAM is faulted in lazily, in large blocks.
 */
#include "guest.h"

static bool skipped(uint64_t a)
{
	return (a >= (uint64_t)(uintptr_t)__image_start &&
		a < (uint64_t)(uintptr_t)__image_end) ||
	       (a >= boot_info.area &&
		a < boot_info.area + boot_info.area_size);
}

static uint64_t pattern(uint64_t a, unsigned int pass)
{
	uint64_t v = a * 0x9e3779b97f4a7c15ULL;

	return pass ? ~v : v ^ 0x5a5a5a5a5a5a5a5aULL;
}

/* One pass; returns how many words were wrong. */
static uint64_t run_pass(unsigned int pass, uint64_t *tested)
{
	uint64_t bad = 0, n = 0;

	for (uint64_t a = 0; a < boot_info.ram_size; a += 8) {
		if (!skipped(a)) {
			*(volatile uint64_t *)(uintptr_t)a = pattern(a, pass);
		}
	}
	for (uint64_t a = 0; a < boot_info.ram_size; a += 8) {
		uint64_t got;

		if (skipped(a)) {
			continue;
		}
		n++;
		got = *(volatile uint64_t *)(uintptr_t)a;
		if (got != pattern(a, pass) && bad++ < 4) {
			gprintf("FAIL: memtest: 0x%lx holds 0x%lx, wrote 0x%lx\n",
				(unsigned long)a, (unsigned long)got,
				(unsigned long)pattern(a, pass));
		}
	}
	*tested = n * 8;
	return bad;
}

int guest_main(void)
{
	unsigned long f0 = counter(STRATA_CTR_S2_FAULTS);
	uint64_t tested = 0, bad;

	gprintf("memtest: %lu MiB of RAM, skipping image 0x%lx-0x%lx and Strata's area 0x%lx+0x%lx\n",
		(unsigned long)(boot_info.ram_size >> 20),
		(unsigned long)(uintptr_t)__image_start,
		(unsigned long)(uintptr_t)__image_end,
		(unsigned long)boot_info.area,
		(unsigned long)boot_info.area_size);
	EXPECT(boot_info.ram_size >= (4u << 20),
	       "memtest: RAM size 0x%lx in RDI", (unsigned long)boot_info.ram_size);
	EXPECT(boot_info.area + boot_info.area_size <= boot_info.ram_size,
	       "memtest: Strata's area lies outside RAM");
	for (unsigned int pass = 0; pass < 2; pass++) {
		bad = run_pass(pass, &tested);
		EXPECT(bad == 0, "memtest: pass %u: %lu bad words", pass,
		       (unsigned long)bad);
	}
	EXPECT(tested + (boot_info.area_size) +
	       (uint64_t)(__image_end - __image_start) >= boot_info.ram_size,
	       "memtest: only 0x%lx bytes tested", (unsigned long)tested);
	gprintf("memtest: tested %lu KiB in 2 passes; s2 faults %lu, maps 4K %lu 2M %lu 1G %lu\n",
		(unsigned long)(tested >> 10),
		counter(STRATA_CTR_S2_FAULTS) - f0,
		counter(STRATA_CTR_MAPS_4K), counter(STRATA_CTR_MAPS_2M),
		counter(STRATA_CTR_MAPS_1G));
	return checks_result("memtest");
}
