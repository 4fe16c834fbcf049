// SPDX-License-Identifier: MIT
/*
 * xsave: XSAVE as the SDM describes it, with each vCPU's own XCR0 and
 * XSAVE-managed registers. CPUID shows XSAVE, and OSXSAVE exactly while
 * CR4.OSXSAVE is set; XSETBV without it is #UD; XCR0 starts at 1 on every
 * vCPU; XSETBV refuses (#GP, XCR0 unchanged) ECX != 0, bit 0 clear, AVX
 * without SSE, a component not offered and AVX-512's components not all
 * together; CPUID.(0xD,0).EBX follows XCR0. Then the two vCPUs hand the
 * CPU to each other in turns: vCPU 1 finds XCR0 = 1 (not vCPU 0's) and,
 * once it enables AVX, YMM registers in their initial state (not vCPU 0's
 * values); each finds its own YMM (and, with AVX-512, ZMM16 and k1) values
 * after the other ran, and its own XCR0. The guest's own XSAVE / XRSTOR
 * round trip and XSTATE_BV agree.
 */
#include "guest.h"
#include "x86.h"

#define CR4_OSXSAVE	(1UL << 18)
#define XF_X87		1UL
#define XF_SSE		2UL
#define XF_AVX		4UL
#define XF_AVX512	0xe0UL
#define XF_PKRU		(1UL << 9)

static uint8_t ap_stack[16384] __attribute__((aligned(16)));
static volatile unsigned int step;
static volatile uint64_t ap_xcr0_first = ~0UL, ap_xcr0_later = ~0UL;
static volatile unsigned int ap_fails;
static volatile bool ap_init_ymm_zero;
static uint8_t xarea[4096] __attribute__((aligned(64)));

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* XSETBV (3 bytes); the vector it raised, or -1. */
static int xsetbv_vec(uint32_t ecx, uint64_t v)
{
	unsigned long gp = exc_count[13], ud = exc_count[6];

	exc_skip = 3;
	__asm__ volatile("xsetbv" : : "c"(ecx), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)) : "memory");
	exc_skip = 0;
	return exc_count[13] != gp ? 13 : exc_count[6] != ud ? 6 : -1;
}

/* YMM0-3 from / to 128 bytes. */
static void ymm_load(const uint8_t *p)
{
	__asm__ volatile("vmovdqu (%0), %%ymm0\n\tvmovdqu 32(%0), %%ymm1\n\t"
			 "vmovdqu 64(%0), %%ymm2\n\tvmovdqu 96(%0), %%ymm3"
			 : : "r"(p) : "memory");
}

static void ymm_store(uint8_t *p)
{
	__asm__ volatile("vmovdqu %%ymm0, (%0)\n\tvmovdqu %%ymm1, 32(%0)\n\t"
			 "vmovdqu %%ymm2, 64(%0)\n\tvmovdqu %%ymm3, 96(%0)"
			 : : "r"(p) : "memory");
}

/* ZMM16 (64 bytes, a Hi16_ZMM register) and k1 (16 bits). */
static void zmm_load(const uint8_t *p, const uint16_t *k)
{
	__asm__ volatile("vmovdqu64 (%0), %%zmm16\n\tkmovw (%1), %%k1"
			 : : "r"(p), "r"(k) : "memory");
}

static void zmm_store(uint8_t *p, uint16_t *k)
{
	__asm__ volatile("vmovdqu64 %%zmm16, (%0)\n\tkmovw %%k1, (%1)"
			 : : "r"(p), "r"(k) : "memory");
}

static void fill(uint8_t *p, unsigned int n, uint8_t seed)
{
	for (unsigned int i = 0; i < n; i++) {
		p[i] = (uint8_t)(seed + i * 7);
	}
}

static bool same(const uint8_t *a, const uint8_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			return false;
		}
	}
	return true;
}

static bool all_zero(const uint8_t *a, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (a[i]) {
			return false;
		}
	}
	return true;
}

static void wait_step(unsigned int want)
{
	while (step != want) {
		__asm__ volatile("pause" ::: "memory");
	}
}

static void ap_main(void)
{
	uint8_t b[128], got[128];

	idt_load();
	write_cr4(read_cr4() | CR4_OSXSAVE);
	ap_xcr0_first = xgetbv0();
	if (xsetbv_vec(0, XF_X87 | XF_SSE) != -1) {
		ap_fails++;
	}
	step = 1;
	wait_step(2);
	/* vCPU 0 has loaded its YMM values and run; now it is our turn. */
	if (xgetbv0() != (XF_X87 | XF_SSE)) {
		ap_fails++;
	}
	if (xsetbv_vec(0, XF_X87 | XF_SSE | XF_AVX) != -1) {
		ap_fails++;
	}
	ymm_store(got);
	ap_init_ymm_zero = all_zero(got, sizeof(got));
	fill(b, sizeof(b), 0xb0);
	ymm_load(b);
	step = 3;
	wait_step(4);
	ymm_store(got);
	if (!same(b, got, sizeof(b))) {
		ap_fails++;
	}
	ap_xcr0_later = xgetbv0();
	step = 5;
	for (;;) {
		__asm__ volatile("cli; hlt" ::: "memory");
	}
}

int guest_main(void)
{
	uint32_t r1[4], r7[4], d0[4], d1[4], d2[4];
	uint64_t mask, full;
	uint8_t a[128], got[128], z[64], zgot[64];
	uint16_t k = 0x5a3c, kgot = 0;
	bool avx512;

	idt_init();
	cpuid2(1, 0, r1);
	cpuid2(7, 0, r7);
	EXPECT(r1[2] & (1U << 26), "CPUID.1:ECX.XSAVE hidden");
	if (!(r1[2] & (1U << 26))) {
		return checks_result("xsave");
	}
	EXPECT(!(r1[2] & (1U << 27)), "CPUID.1:ECX.OSXSAVE shown before CR4.OSXSAVE");
	EXPECT(xsetbv_vec(0, XF_X87) == 6, "XSETBV without CR4.OSXSAVE: no #UD");
	write_cr4(read_cr4() | CR4_OSXSAVE);
	cpuid2(1, 0, r1);
	EXPECT(r1[2] & (1U << 27), "CPUID.1:ECX.OSXSAVE hidden after CR4.OSXSAVE");
	EXPECT(xgetbv0() == XF_X87, "XCR0 0x%lx at reset", (unsigned long)xgetbv0());
	cpuid2(0xd, 0, d0);
	cpuid2(0xd, 1, d1);
	cpuid2(0xd, 2, d2);
	mask = d0[0] | ((uint64_t)d0[3] << 32);
	avx512 = (mask & XF_AVX512) == XF_AVX512;
	EXPECT((mask & 7) == 7, "CPUID.(0xD,0) offers 0x%lx", (unsigned long)mask);
	EXPECT(!(mask & XF_PKRU), "PKRU offered");
	EXPECT(d0[1] == 576, "CPUID.(0xD,0).EBX %u with XCR0 1", d0[1]);
	EXPECT(d0[2] >= d2[0] + d2[1], "CPUID.(0xD,0).ECX %u below AVX's end %u",
	       d0[2], d2[0] + d2[1]);
	EXPECT(!(d1[0] & (1U << 3)), "XSAVES shown without IA32_XSS");
	EXPECT(d2[0] == 256 && d2[1] == 576, "AVX component %u bytes at %u",
	       d2[0], d2[1]);
	EXPECT(((r1[2] >> 28) & 1) == 1, "CPUID.1:ECX.AVX hidden with AVX offered");
	EXPECT(!avx512 || (r7[1] & (1U << 16)), "AVX-512 state offered but AVX512F hidden");
	EXPECT(avx512 || !(r7[1] & (1U << 16)), "AVX512F shown without its state");

	/* Refusals: #GP and XCR0 unchanged. */
	EXPECT(xsetbv_vec(1, XF_X87) == 13, "XSETBV ECX 1 accepted");
	EXPECT(xsetbv_vec(0, 0) == 13, "XSETBV 0 (no x87) accepted");
	EXPECT(xsetbv_vec(0, XF_X87 | XF_AVX) == 13, "XSETBV AVX without SSE accepted");
	EXPECT(xsetbv_vec(0, 7 | XF_PKRU) == 13, "XSETBV with PKRU (not offered) accepted");
	if (avx512) {
		EXPECT(xsetbv_vec(0, 7 | 0x20) == 13, "XSETBV opmask alone accepted");
		EXPECT(xsetbv_vec(0, XF_X87 | XF_SSE | XF_AVX512) == 13,
		       "XSETBV AVX-512 without AVX accepted");
	}
	EXPECT(xgetbv0() == XF_X87, "XCR0 0x%lx after refusals", (unsigned long)xgetbv0());

	full = avx512 ? 7 | XF_AVX512 : 7;
	EXPECT(xsetbv_vec(0, full) == -1, "XSETBV 0x%lx refused", (unsigned long)full);
	EXPECT(xgetbv0() == full, "XCR0 0x%lx after XSETBV 0x%lx",
	       (unsigned long)xgetbv0(), (unsigned long)full);
	cpuid2(0xd, 0, d0);
	EXPECT(d0[1] == d0[2] || !avx512, "CPUID.(0xD,0).EBX %u, ECX %u with every component",
	       d0[1], d0[2]);
	EXPECT(d0[1] >= d2[0] + d2[1], "CPUID.(0xD,0).EBX %u with AVX on", d0[1]);

	fill(a, sizeof(a), 0xa0);
	ymm_load(a);
	fill(z, sizeof(z), 0x30);
	if (avx512) {
		zmm_load(z, &k);
	}
	ap_start(1, ap_main, ap_stack + sizeof(ap_stack));
	wait_step(1);
	EXPECT(ap_xcr0_first == XF_X87, "vCPU 1 started with XCR0 0x%lx",
	       (unsigned long)ap_xcr0_first);
	step = 2;
	wait_step(3);
	EXPECT(ap_init_ymm_zero, "vCPU 1 saw YMM values it never wrote");
	ymm_store(got);
	EXPECT(same(a, got, sizeof(a)), "YMM0-3 changed while vCPU 1 ran");
	if (avx512) {
		zmm_store(zgot, &kgot);
		EXPECT(same(z, zgot, sizeof(z)), "ZMM16 changed while vCPU 1 ran");
		EXPECT(kgot == k, "k1 0x%x, wrote 0x%x", kgot, k);
	}
	EXPECT(xgetbv0() == full, "XCR0 0x%lx after vCPU 1 ran", (unsigned long)xgetbv0());

	/* The guest's own XSAVE: YMM state is not in its initial state. */
	for (unsigned int i = 0; i < sizeof(xarea); i++) {
		xarea[i] = 0;
	}
	__asm__ volatile("xsave64 (%0)" : : "r"(xarea), "a"((uint32_t)full),
			 "d"(0) : "memory");
	EXPECT(xarea[512] & XF_AVX, "XSTATE_BV 0x%x after YMM writes", xarea[512]);
	EXPECT(same(xarea + 160, a, 16), "XSAVE's XMM0 is not what was loaded");
	EXPECT(same(xarea + 576, a + 16, 16), "XSAVE's YMM0 upper half is not what was loaded");
	fill(got, sizeof(got), 0x11);
	ymm_load(got);
	__asm__ volatile("xrstor64 (%0)" : : "r"(xarea), "a"((uint32_t)full),
			 "d"(0) : "memory");
	ymm_store(got);
	EXPECT(same(a, got, sizeof(a)), "XRSTOR did not bring YMM0-3 back");

	step = 4;
	wait_step(5);
	EXPECT(ap_fails == 0, "vCPU 1: %u failed checks (XCR0 or YMM)", ap_fails);
	EXPECT(ap_xcr0_later == 7, "vCPU 1's XCR0 0x%lx at the end",
	       (unsigned long)ap_xcr0_later);
	gprintf("xsave: mask 0x%lx, area %u bytes, AVX-512 %u\n",
		(unsigned long)mask, d0[2], avx512);
	return checks_result("xsave");
}
