/* SPDX-License-Identifier: MIT */
/*
 * XSAVE for guests (Intel SDM vol. 1 ch. 13, vol. 3A 2.6 and 13): CPUID
 * shows XSAVE, XSAVEOPT, XSAVEC and XGETBV1 with the state components
 * Strata switches, each vCPU has its own XCR0 and its own XSAVE area.
 *
 * The model (docs/x86-xsave.md):
 * - Strata sets CR4.OSXSAVE on each CPU it runs guests on and keeps XCR0 at
 *   the host mask (every component a guest may have: x87, SSE, AVX and,
 *   where the CPU has them and the area fits, AVX-512's opmask, ZMM_Hi256
 *   and Hi16_ZMM) whenever it saves or restores a vCPU's state.
 * - A vCPU's state is restored with XRSTOR (the host mask) when its slice
 *   starts and saved with XSAVE when it ends; in between XCR0 holds the
 *   vCPU's own value, since Strata's own code uses no XSAVE-managed state
 *   (-mgeneral-regs-only): no XSETBV on the exit path.
 * - XSETBV always exits; Strata checks the value as the SDM's XSETBV page
 *   does and loads it.
 * Rejected: switching XCR0 around every VM entry and exit as KVM does (it
 *   needs the host's XCR0 for its own FPU use between exits; Strata has
 *   none, so the switch would be two XSETBVs per exit for nothing), and
 *   XSAVES with IA32_XSS (no supervisor component is offered: PT, CET and
 *   the rest are hidden), so XSAVES stays hidden.
 */
#ifndef ARCH_XSAVE_H
#define ARCH_XSAVE_H

#include <types.h>

#define XFEATURE_X87		BIT(0)
#define XFEATURE_SSE		BIT(1)
#define XFEATURE_AVX		BIT(2)
#define XFEATURE_OPMASK		BIT(5)
#define XFEATURE_ZMM_HI256	BIT(6)
#define XFEATURE_HI16_ZMM	BIT(7)
#define XFEATURE_AVX512		(XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | \
				 XFEATURE_HI16_ZMM)
/* The components Strata may give a guest (those it saves and restores). */
#define XFEATURE_GUEST_MAX	(XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | \
				 XFEATURE_AVX512)

/* A vCPU's XSAVE area: the legacy region, the header, the components. */
#define XSAVE_AREA_SIZE		4096
#define XSAVE_HDR_OFFSET	512

struct vcpu;

/*
 * Once per CPU before its first VMCS: CR4.OSXSAVE and the host mask in
 * XCR0. The first call decides the mask (the CPU's XSAVE leaf, limited to
 * XFEATURE_GUEST_MAX and to what fits XSAVE_AREA_SIZE); 0 without XSAVE.
 */
void xsave_cpu_init(void);

/* The XCR0 bits a guest may set (0: XSAVE hidden, FXSAVE is used). */
uint64_t xsave_guest_mask(void);

/* The bytes XSAVE writes for @xcr0's components, standard or compacted. */
uint32_t xsave_size(uint64_t xcr0, bool compacted);

/* A vCPU's state at power-on: x87 after FNINIT, MXCSR 0x1f80, XCR0 1. */
void xsave_vcpu_reset(struct vcpu *v);

/* Start and end of a slice: restore (then XCR0 := the vCPU's) / save. */
void xsave_load(struct vcpu *v);
void xsave_save(struct vcpu *v);

/*
 * XSETBV by the guest: false when the SDM raises #GP(0) (ECX not 0, bit 0
 * clear, a component not offered, AVX without SSE, AVX-512's three not
 * together or without AVX); otherwise the vCPU's XCR0 is @val, loaded.
 */
bool xsave_setbv(struct vcpu *v, uint32_t ecx, uint64_t val);

#endif
