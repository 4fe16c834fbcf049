// SPDX-License-Identifier: MIT
/*
 * XSAVE state of the vCPUs: the host mask, each vCPU's XCR0 and XSAVE
 * area, XSETBV's checks. The model and the rejected alternatives are in
 * arch/xsave.h; CPUID's view of it is in vmx_exit.c (cpuid_filter()).
 */
#include <arch/cpu.h>
#include <arch/xsave.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define CPUID_1_ECX_XSAVE	BIT(26)
#define XSAVE_CPUID_LEAF	0xd
#define XSAVE_HDR_SIZE		64
#define XSAVE_LEGACY_SIZE	512
/* CPUID.(0xD, i).ECX bit 1: the component is 64-byte aligned if compacted. */
#define XSAVE_COMP_ALIGN64	BIT(1)

static uint64_t host_mask;	/* 0 until decided; XFEATURE_X87 at least */
static bool decided;

/* Standard-format offset and size of component @i (>= 2) from CPUID. */
static void component(unsigned int i, uint32_t *off, uint32_t *size,
		      bool *align64)
{
	struct cpuid_regs r = cpuid(XSAVE_CPUID_LEAF, i);

	*size = r.eax;
	*off = r.ebx;
	*align64 = r.ecx & XSAVE_COMP_ALIGN64;
}

uint32_t xsave_size(uint64_t xcr0, bool compacted)
{
	uint32_t end = XSAVE_LEGACY_SIZE + XSAVE_HDR_SIZE;

	for (unsigned int i = 2; i < 64; i++) {
		uint32_t off, size;
		bool align64;

		if (!(xcr0 & BIT(i))) {
			continue;
		}
		component(i, &off, &size, &align64);
		if (compacted) {
			if (align64) {
				end = (end + 63) & ~63U;
			}
			end += size;
		} else if (off + size > end) {
			end = off + size;
		}
	}
	return end;
}

/* The mask: what the CPU has of XFEATURE_GUEST_MAX, AVX-512 as a whole. */
static uint64_t decide_mask(void)
{
	struct cpuid_regs r;
	uint64_t m;

	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE) ||
	    cpuid(0, 0).eax < XSAVE_CPUID_LEAF) {
		return 0;
	}
	r = cpuid(XSAVE_CPUID_LEAF, 0);
	m = (((uint64_t)r.edx << 32) | r.eax) & XFEATURE_GUEST_MAX;
	if ((m & (XFEATURE_X87 | XFEATURE_SSE)) !=
	    (XFEATURE_X87 | XFEATURE_SSE)) {
		pr_warn("xsave: the CPU's XCR0 mask 0x%llx lacks x87 or SSE; XSAVE hidden from guests\n",
			(unsigned long long)m);
		return 0;
	}
	if (!(m & XFEATURE_AVX)) {
		m &= ~XFEATURE_AVX512;
	}
	if ((m & XFEATURE_AVX512) != XFEATURE_AVX512) {
		m &= ~XFEATURE_AVX512;
	}
	if (xsave_size(m, false) > XSAVE_AREA_SIZE) {
		m &= ~XFEATURE_AVX512;
	}
	if (xsave_size(m, false) > XSAVE_AREA_SIZE) {
		m &= ~XFEATURE_AVX;
	}
	return m;
}

void xsave_cpu_init(void)
{
	if (!decided) {
		host_mask = decide_mask();
		decided = true;
		if (host_mask) {
			pr_info("xsave: guests get XCR0 components 0x%llx (%u-byte area)\n",
				(unsigned long long)host_mask,
				xsave_size(host_mask, false));
		} else {
			pr_info("xsave: not available; guests get FXSAVE state only\n");
		}
	}
	if (!host_mask) {
		return;
	}
	write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	xsetbv(0, host_mask);
}

uint64_t xsave_guest_mask(void)
{
	return host_mask;
}

void xsave_vcpu_reset(struct vcpu *v)
{
	uint8_t *a = v->arch.xsave;
	uint16_t fcw = 0x037f;
	uint32_t mxcsr = 0x1f80;
	uint64_t xstate_bv = XFEATURE_X87 | XFEATURE_SSE;

	/* The legacy region as FNINIT leaves it; every other component init. */
	memset(a, 0, XSAVE_AREA_SIZE);
	memcpy(a, &fcw, sizeof(fcw));
	memcpy(a + 24, &mxcsr, sizeof(mxcsr));
	memcpy(a + XSAVE_HDR_OFFSET, &xstate_bv, sizeof(xstate_bv));
	v->arch.xcr0 = XFEATURE_X87;
}

void xsave_load(struct vcpu *v)
{
	uint8_t *a = v->arch.xsave;

	if (!host_mask) {
		__asm__ volatile("fxrstor64 %0" : : "m"(*(uint8_t(*)[512])a)
				 : "memory");
		return;
	}
	__asm__ volatile("xrstor64 %0"
			 : : "m"(*(uint8_t(*)[XSAVE_AREA_SIZE])a),
			     "a"((uint32_t)host_mask),
			     "d"((uint32_t)(host_mask >> 32))
			 : "memory");
	if (v->arch.xcr0 != host_mask) {
		xsetbv(0, v->arch.xcr0);
	}
}

void xsave_save(struct vcpu *v)
{
	uint8_t *a = v->arch.xsave;

	if (!host_mask) {
		__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])a)
				 : : "memory");
		return;
	}
	if (v->arch.xcr0 != host_mask) {
		xsetbv(0, host_mask);
	}
	__asm__ volatile("xsave64 %0"
			 : "+m"(*(uint8_t(*)[XSAVE_AREA_SIZE])a)
			 : "a"((uint32_t)host_mask),
			   "d"((uint32_t)(host_mask >> 32))
			 : "memory");
}

bool xsave_setbv(struct vcpu *v, uint32_t ecx, uint64_t val)
{
	if (ecx != 0 || !host_mask || !(val & XFEATURE_X87) ||
	    (val & ~host_mask)) {
		return false;
	}
	if ((val & XFEATURE_AVX) && !(val & XFEATURE_SSE)) {
		return false;
	}
	if ((val & XFEATURE_AVX512) &&
	    ((val & XFEATURE_AVX512) != XFEATURE_AVX512 ||
	     !(val & XFEATURE_AVX))) {
		return false;
	}
	v->arch.xcr0 = val;
	xsetbv(0, val);		/* inside the vCPU's slice: XCR0 is its own */
	return true;
}
