// SPDX-License-Identifier: MIT
/*
 * viewbench (make bench, not make test): the cost of a stage-2 view switch
 * by VMCALL and by VMFUNC against a null VMCALL, and of invalidate-all-roots
 * against zapping the same memory, mapped with 4 KiB pages and with 2 MiB
 * blocks, in TSC cycles over whole loops (Bochs with `clock: sync=none`;
 * tests/bench/roots_bench.py runs it).
 */
#include "guest.h"

#define N		2000
/* All of the VM's 1 GiB of RAM, its code and stack included: a zap of it
 * and an invalidate-all drop the same translations, and both refault the
 * code and stack pages on the way back. */
#define REGION		0UL
#define REGION_SIZE	0x40000000UL

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void vmfunc_switch(unsigned long view)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xd4"	/* vmfunc */
			 : : "a"(0UL), "c"(view) : "memory");
}

static void touch(uint64_t step)
{
	for (uint64_t a = REGION; a < REGION + REGION_SIZE; a += step) {
		(void)*(volatile uint64_t *)(uintptr_t)a;
	}
}

static uint64_t drop(unsigned long fn)
{
	unsigned long v;
	uint64_t t0 = rdtsc();

	if (fn == STRATA_HC_ZAP) {
		hypercall(fn, REGION, REGION_SIZE, 0, &v);
	} else {
		hypercall(fn, 0, 0, 0, &v);
	}
	return rdtsc() - t0;
}

int guest_main(void)
{
	uint64_t t0, null, sw, vf = 0, z4, i4, z2, i2;
	unsigned long view, v;

	idt_init();
	t0 = rdtsc();
	for (unsigned int i = 0; i < N; i++) {
		hypercall(STRATA_HC_BASE + 0x7f, 0, 0, 0, &v);	/* null */
	}
	null = rdtsc() - t0;
	hypercall(STRATA_HC_VIEW_CREATE, 0, 0, 0, &view);
	hypercall(STRATA_HC_VIEW_SWITCH, view, 0, 0, &v);
	hypercall(STRATA_HC_VIEW_SWITCH, 0, 0, 0, &v);
	t0 = rdtsc();
	for (unsigned int i = 0; i < N; i++) {
		hypercall(STRATA_HC_VIEW_SWITCH, view, 0, 0, &v);
		hypercall(STRATA_HC_VIEW_SWITCH, 0, 0, 0, &v);
	}
	sw = rdtsc() - t0;
	exc_skip = 3;
	vmfunc_switch(0);
	if (exc_skip) {		/* no #UD: VMFUNC is there */
		exc_skip = 0;
		t0 = rdtsc();
		for (unsigned int i = 0; i < N; i++) {
			vmfunc_switch(view);
			vmfunc_switch(0);
		}
		vf = rdtsc() - t0;
	}
	exc_skip = 0;
	gprintf("viewbench: n=%u null=%lu switch2=%lu vmfunc2=%lu\n", N,
		(unsigned long)null, (unsigned long)sw, (unsigned long)vf);
	/* One root from here on: the zap and invalidate-all see the same. */
	hypercall(STRATA_HC_VIEW_DESTROY, view, 0, 0, &v);
	touch(0x200000);
	z2 = drop(STRATA_HC_ZAP);
	touch(0x200000);
	i2 = drop(STRATA_HC_INVALIDATE_ROOTS);
	hypercall(STRATA_HC_MEMSLOT_FLAGS, 0, STRATA_MEMSLOT_LOG_DIRTY, 0, &v);
	touch(0x1000);
	z4 = drop(STRATA_HC_ZAP);
	touch(0x1000);
	i4 = drop(STRATA_HC_INVALIDATE_ROOTS);
	gprintf("viewbench: region=%lu zap2m=%lu inv2m=%lu zap4k=%lu inv4k=%lu\n",
		REGION_SIZE, (unsigned long)z2, (unsigned long)i2,
		(unsigned long)z4, (unsigned long)i4);
	return 0;
}
