// SPDX-License-Identifier: MIT
/*
 * zap1g: stale translations of a 1 GiB block. The VM has 1 GiB of RAM on
 * a 1 GiB-aligned host range, so its first fault maps one 1 GiB block.
 * Zapping all of it must cost one INVEPT and the next access (the fetch
 * after VMCALL) must fault the block back in whole; zapping 2 MiB of it
 * splits it once and faults back a 2 MiB block; zapping 4 KiB of that
 * splits a 2 MiB block and faults back one page; a last 1 GiB zap detaches
 * the table below the block in one write. Data must survive every step.
 */
#include "guest.h"

#define MiB		(1024UL * 1024)
#define GiB		(1024 * MiB)
#define STEP		(32 * MiB)

struct snap {
	unsigned long faults, m4k, m2m, m1g, invept, detach;
};

static void snap(struct snap *s)
{
	s->faults = counter(STRATA_CTR_S2_FAULTS);
	s->m4k = counter(STRATA_CTR_MAPS_4K);
	s->m2m = counter(STRATA_CTR_MAPS_2M);
	s->m1g = counter(STRATA_CTR_MAPS_1G);
	s->invept = counter(STRATA_CTR_TLBI_VMID);
	s->detach = counter(STRATA_CTR_DETACHES);
}

static bool skipped(uint64_t a)
{
	return a < 2 * MiB || (a >= boot_info.area &&
			       a < boot_info.area + boot_info.area_size);
}

/* Tag one word every STEP (and one in each test page); count bad ones. */
static unsigned long tags(bool write)
{
	unsigned long bad = 0;

	for (uint64_t a = 0; a < GiB; a += STEP) {
		for (uint64_t o = 0; o < 3 * 4096; o += 4096) {
			volatile uint64_t *p =
				(volatile uint64_t *)(uintptr_t)(a + 8 * MiB + o);

			if (skipped(a + 8 * MiB + o)) {
				continue;
			}
			if (write) {
				*p = a + o + 0x1111;
			} else if (*p != a + o + 0x1111) {
				bad++;
			}
		}
	}
	return bad;
}

/*
 * Zap [@gpa, +@len) and touch: the deltas of faults, maps by size, INVEPTs
 * and detaches between before the zap and after the touches must be these.
 */
static void zap_step(const char *what, uint64_t gpa, uint64_t len,
		     uint64_t touch, const struct snap *want)
{
	struct snap a, b;
	long st;

	snap(&a);
	st = hypercall(STRATA_HC_ZAP, gpa, len, 0, NULL);
	(void)*(volatile uint64_t *)(uintptr_t)touch;
	snap(&b);
	EXPECT(st == 0, "%s: zap status %ld", what, st);
	EXPECT(b.faults - a.faults == want->faults &&
	       b.m4k - a.m4k == want->m4k && b.m2m - a.m2m == want->m2m &&
	       b.m1g - a.m1g == want->m1g &&
	       b.invept - a.invept == want->invept &&
	       b.detach - a.detach == want->detach,
	       "%s: got faults %lu maps 4K %lu 2M %lu 1G %lu, INVEPT %lu, detaches %lu",
	       what, b.faults - a.faults, b.m4k - a.m4k, b.m2m - a.m2m,
	       b.m1g - a.m1g, b.invept - a.invept, b.detach - a.detach);
	EXPECT(tags(false) == 0, "%s: data changed", what);
	gprintf("zap1g: %s: faults %lu, maps 4K %lu 2M %lu 1G %lu, INVEPT %lu, detaches %lu\n",
		what, b.faults - a.faults, b.m4k - a.m4k, b.m2m - a.m2m,
		b.m1g - a.m1g, b.invept - a.invept, b.detach - a.detach);
}

int guest_main(void)
{
	/* expected deltas: faults, 4K, 2M, 1G, INVEPTs, detaches */
	static const struct snap whole = { 1, 0, 0, 1, 1, 0 };
	/* a split joins the zap's one INVEPT (no break-before-make on EPT) */
	static const struct snap split_1g = { 1, 0, 1, 0, 1, 0 };
	static const struct snap split_2m = { 1, 1, 0, 0, 1, 0 };
	static const struct snap detach = { 1, 0, 0, 1, 1, 1 };

	EXPECT(boot_info.ram_size == GiB, "zap1g: RAM is %lu MiB, not 1 GiB",
	       (unsigned long)(boot_info.ram_size >> 20));
	EXPECT(counter(STRATA_CTR_MAPS_1G) >= 1,
	       "zap1g: RAM was not mapped with a 1 GiB block");
	if (checks_failed) {
		return checks_result("zap1g");
	}
	tags(true);
	/* the fetch after the VMCALL faults the whole block back */
	zap_step("1G block", 0, GiB, 3 * MiB, &whole);
	zap_step("2M of the 1G block", 64 * MiB, 2 * MiB, 65 * MiB, &split_1g);
	zap_step("4K of a 2M block", 96 * MiB + 4096, 4096, 96 * MiB + 4096,
		 &split_2m);
	zap_step("1G over tables", 0, GiB, 3 * MiB, &detach);
	return checks_result("zap1g");
}
