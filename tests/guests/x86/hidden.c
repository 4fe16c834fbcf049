// SPDX-License-Identifier: MIT
/*
 * hidden: what a guest sees of VMX features the host hid from Strata (the
 * test-build word x86_vmx_hide=, as nested KVM may hide them). It only
 * reports; tests/boot/nested_x86.py compares with what Strata said it
 * lacks:
 *  - the first touch of a 1 GiB VM's RAM (on 1 GiB-aligned host memory):
 *    which block size Strata mapped;
 *  - VMFUNC leaf 0: #UD or not;
 *  - CPUID.80000001H:EDX.RDTSCP, and RDTSCP itself: #UD or not;
 *  - a view created and switched to by hypercall, which must work always.
 */
#include "guest.h"
#include "x86.h"

#define TOUCH	(512UL * 1024 * 1024)	/* in the middle of the 1 GiB */

static bool ud_from(void (*fn)(void), unsigned int len)
{
	unsigned long ud = exc_count[6];

	exc_skip = len;
	fn();
	exc_skip = 0;
	return exc_count[6] != ud;
}

static void do_vmfunc(void)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xd4"	/* vmfunc */
			 : : "a"(0UL), "c"(0UL) : "memory");
}

static void do_rdtscp(void)
{
	unsigned int lo, hi, aux;

	__asm__ volatile(".byte 0x0f, 0x01, 0xf9"	/* rdtscp */
			 : "=a"(lo), "=d"(hi), "=c"(aux));
}

int guest_main(void)
{
	unsigned long m4k, m2m, m1g, v = 0;
	unsigned int edx;
	long st;

	gprintf("hidden: start\n");
	idt_init();
	m4k = counter(STRATA_CTR_MAPS_4K);
	m2m = counter(STRATA_CTR_MAPS_2M);
	m1g = counter(STRATA_CTR_MAPS_1G);
	*(volatile unsigned long *)TOUCH = 0x1234;
	gprintf("hidden: first touch at 512 MiB: maps 4K %lu 2M %lu 1G %lu\n",
		counter(STRATA_CTR_MAPS_4K) - m4k,
		counter(STRATA_CTR_MAPS_2M) - m2m,
		counter(STRATA_CTR_MAPS_1G) - m1g);
	gprintf("hidden: VMFUNC %s\n", ud_from(do_vmfunc, 3) ? "#UD" : "ran");
	__asm__ volatile("cpuid" : "=d"(edx) : "a"(0x80000001U), "c"(0U)
			 : "ebx");
	gprintf("hidden: CPUID RDTSCP %u, RDTSCP %s\n", (edx >> 27) & 1,
		ud_from(do_rdtscp, 3) ? "#UD" : "ran");
	st = hypercall(STRATA_HC_VIEW_CREATE, 0, 0, 0, &v);
	EXPECT(st == 0, "hidden: VIEW_CREATE returned %ld", st);
	st = hypercall(STRATA_HC_VIEW_SWITCH, v, 0, 0, &v);
	EXPECT(st == 0, "hidden: VIEW_SWITCH returned %ld", st);
	st = hypercall(STRATA_HC_VIEW_CURRENT, 0, 0, 0, &v);
	EXPECT(st == 0 && v == 1, "hidden: in view %lu (%ld)", v, st);
	gprintf("hidden: view 1 by hypercall: %s\n",
		st == 0 && v == 1 ? "ok" : "failed");
	return checks_result("hidden");
}
