// SPDX-License-Identifier: MIT
/*
 * viewbench (make bench, not make test): the cost of a stage-2 view switch
 * by HVC against a null HVC, and of invalidate-all-roots against zapping
 * the same 1 GiB, mapped with 4 KiB pages and with 2 MiB blocks. Times
 * are CNTVCT ticks over whole loops; tests/bench/roots_bench.py runs this
 * under QEMU -icount shift=0 and turns ticks into instructions.
 */
#include "guest.h"

#define N		10000
/* All of the VM's 1 GiB of RAM, its code and stack included: a zap of it
 * and an invalidate-all drop the same translations, and both refault the
 * code and stack pages on the way back. */
#define REGION		GUEST_RAM_BASE
#define REGION_SIZE	0x40000000UL

static void touch(uint64_t step)
{
	for (uint64_t a = REGION; a < REGION + REGION_SIZE; a += step) {
		(void)*(volatile uint64_t *)a;
	}
}

/* Ticks to drop the region's translations with @fn. */
static uint64_t drop(uint64_t fn)
{
	uint64_t t0 = read_cntvct();

	if (fn == STRATA_HC_ZAP) {
		hvc(fn, REGION, REGION_SIZE, 0);
	} else {
		hvc(fn, 0, 0, 0);
	}
	return read_cntvct() - t0;
}

int guest_main(void *dtb)
{
	uint64_t t0, null, sw, view, z4, i4, z2, i2;

	(void)dtb;
	t0 = read_cntvct();
	for (unsigned int i = 0; i < N; i++) {
		hvc(STRATA_HC_BASE + 0x7f, 0, 0, 0);	/* unknown: null */
	}
	null = read_cntvct() - t0;
	view = hvc(STRATA_HC_VIEW_CREATE, 0, 0, 0).value;
	hvc(STRATA_HC_VIEW_SWITCH, view, 0, 0);
	hvc(STRATA_HC_VIEW_SWITCH, 0, 0, 0);
	t0 = read_cntvct();
	for (unsigned int i = 0; i < N; i++) {
		hvc(STRATA_HC_VIEW_SWITCH, view, 0, 0);
		hvc(STRATA_HC_VIEW_SWITCH, 0, 0, 0);
	}
	sw = read_cntvct() - t0;
	printf("viewbench: cntfrq=%lu n=%u null=%lu switch2=%lu hits=%lu\n",
	       read_cntfrq(), N, null, sw,
	       counter(STRATA_CTR_ROOT_CACHE_HITS));
	/* One root from here on: the zap and invalidate-all see the same. */
	hvc(STRATA_HC_VIEW_DESTROY, view, 0, 0);
	/* 2 MiB blocks. */
	touch(0x200000);
	z2 = drop(STRATA_HC_ZAP);
	touch(0x200000);
	i2 = drop(STRATA_HC_INVALIDATE_ROOTS);
	/* 4 KiB pages: dirty logging maps pages only. */
	hvc(STRATA_HC_MEMSLOT_FLAGS, 0, STRATA_MEMSLOT_LOG_DIRTY, 0);
	touch(0x1000);
	z4 = drop(STRATA_HC_ZAP);
	touch(0x1000);
	i4 = drop(STRATA_HC_INVALIDATE_ROOTS);
	printf("viewbench: region=%lu zap2m=%lu inv2m=%lu zap4k=%lu inv4k=%lu\n",
	       REGION_SIZE, z2, i2, z4, i4);
	return 0;
}
