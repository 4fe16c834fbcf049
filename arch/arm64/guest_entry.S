/* SPDX-License-Identifier: MIT */
/*
 * The world switch between Strata at EL2 and a guest at EL1.
 *
 * guest_enter(ctx) keeps Strata's callee-saved registers on its own stack,
 * puts @ctx in TPIDR_EL2, loads the guest's x0-x30, PC and PSTATE and ERETs.
 * An exception from the guest lands in the lower-EL entries of el2_vectors
 * (vectors.S), which branch to guest_exit with the vector number; SP is then
 * Strata's stack exactly as guest_enter left it. guest_exit stores the
 * guest's registers and the syndrome registers in @ctx, takes Strata's
 * registers back and returns the vector number from guest_enter.
 * Before that it offers the exit to arm64_exit_inplace() (exit.c), still on
 * guest_enter's frame: an exit that one handles completely (a repeated MMIO
 * access) goes straight back into the guest from here, through guest_load,
 * (or guest_reload) without unwinding to the run loop; otherwise
 * guest_enter returns what arm64_exit_inplace() said (the vector, or
 * EXIT_INPLACE).
 *
 * Everything else (EL1 system registers, FP/SIMD, timer, stage 2) is loaded
 * and saved in C around the whole time slice (arch/arm64/vcpu.c): Strata
 * itself uses none of it while a guest runs.
 */
#include <arch/vcpu.h>

#define HOST_FRAME	(12 * 8)

	.text
	.globl	guest_enter
guest_enter:
	stp	x29, x30, [sp, #-HOST_FRAME]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	msr	tpidr_el2, x0

guest_load:					/* x0 = ctx */
	ldp	x19, x20, [x0, #VCPU_X(19)]
	ldp	x21, x22, [x0, #VCPU_X(21)]
	ldp	x23, x24, [x0, #VCPU_X(23)]
	ldp	x25, x26, [x0, #VCPU_X(25)]
	ldp	x27, x28, [x0, #VCPU_X(27)]
/* The rest; alone after an exit taken in place, x19-x28 still live. */
guest_reload:
	mrs	x0, tpidr_el2
	ldp	x1, x2, [x0, #VCPU_PC]		/* PC, PSTATE */
	msr	elr_el2, x1
	msr	spsr_el2, x2
	ldp	x2, x3, [x0, #VCPU_X(2)]
	ldp	x4, x5, [x0, #VCPU_X(4)]
	ldp	x6, x7, [x0, #VCPU_X(6)]
	ldp	x8, x9, [x0, #VCPU_X(8)]
	ldp	x10, x11, [x0, #VCPU_X(10)]
	ldp	x12, x13, [x0, #VCPU_X(12)]
	ldp	x14, x15, [x0, #VCPU_X(14)]
	ldp	x16, x17, [x0, #VCPU_X(16)]
	ldr	x18, [x0, #VCPU_X(18)]
	ldp	x29, x30, [x0, #VCPU_X(29)]
	ldp	x0, x1, [x0, #VCPU_X(0)]
	eret
	dsb	nsh				/* no speculation past the ERET */
	isb

/*
 * Entered from the vectors with the guest's x0 and x1 pushed on the stack
 * and x1 = the vector number.
 *
 * The guest's x19-x28 are saved only when they are needed: arm64_exit_inplace()
 * keeps them in their registers (they are callee-saved in the AAPCS64), and
 * what it reads or writes of the guest's registers is x[SRT] of the
 * syndrome's ISS alone, so when SRT is not one of them they are stored
 * after the call, and only if the exit goes on to the run loop; an exit
 * taken in place then reloads just the registers the call may have
 * clobbered (guest_reload, the second half of guest_load). When SRT (bits 20:16 of ESR_EL2, meaningful or
 * not) is one of x19-x28, everything is stored first and reloaded after.
 */
	.globl	guest_exit
guest_exit:
	mrs	x0, tpidr_el2
	stp	x2, x3, [x0, #VCPU_X(2)]
	stp	x4, x5, [x0, #VCPU_X(4)]
	stp	x6, x7, [x0, #VCPU_X(6)]
	stp	x8, x9, [x0, #VCPU_X(8)]
	stp	x10, x11, [x0, #VCPU_X(10)]
	stp	x12, x13, [x0, #VCPU_X(12)]
	stp	x14, x15, [x0, #VCPU_X(14)]
	stp	x16, x17, [x0, #VCPU_X(16)]
	str	x18, [x0, #VCPU_X(18)]
	stp	x29, x30, [x0, #VCPU_X(29)]
	ldp	x2, x3, [sp], #16		/* the guest's x0, x1 */
	stp	x2, x3, [x0, #VCPU_X(0)]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [x0, #VCPU_PC]
	mrs	x2, esr_el2
	mrs	x3, far_el2
	stp	x2, x3, [x0, #VCPU_ESR]
	mrs	x3, hpfar_el2
	str	x3, [x0, #VCPU_HPFAR]

	ubfx	x2, x2, #16, #5			/* SRT */
	sub	x2, x2, #19
	cmp	x2, #28 - 19
	b.ls	2f

	bl	arm64_exit_inplace		/* (ctx, vector) */
	cbz	x0, guest_reload
	mrs	x1, tpidr_el2
	stp	x19, x20, [x1, #VCPU_X(19)]
	stp	x21, x22, [x1, #VCPU_X(21)]
	stp	x23, x24, [x1, #VCPU_X(23)]
	stp	x25, x26, [x1, #VCPU_X(25)]
	stp	x27, x28, [x1, #VCPU_X(27)]
	b	3f

2:	stp	x19, x20, [x0, #VCPU_X(19)]
	stp	x21, x22, [x0, #VCPU_X(21)]
	stp	x23, x24, [x0, #VCPU_X(23)]
	stp	x25, x26, [x0, #VCPU_X(25)]
	stp	x27, x28, [x0, #VCPU_X(27)]
	bl	arm64_exit_inplace
	cbnz	x0, 3f
	mrs	x0, tpidr_el2			/* taken in place: enter again */
	b	guest_load

3:	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #HOST_FRAME
	ret

/* fpsimd_save(fp) / fpsimd_load(fp): q0-q31, FPSR, FPCR. */
	.arch_extension fp
	.arch_extension simd
	.globl	fpsimd_save
fpsimd_save:
	stp	q0, q1, [x0, #0 * 32]
	stp	q2, q3, [x0, #1 * 32]
	stp	q4, q5, [x0, #2 * 32]
	stp	q6, q7, [x0, #3 * 32]
	stp	q8, q9, [x0, #4 * 32]
	stp	q10, q11, [x0, #5 * 32]
	stp	q12, q13, [x0, #6 * 32]
	stp	q14, q15, [x0, #7 * 32]
	stp	q16, q17, [x0, #8 * 32]
	stp	q18, q19, [x0, #9 * 32]
	stp	q20, q21, [x0, #10 * 32]
	stp	q22, q23, [x0, #11 * 32]
	stp	q24, q25, [x0, #12 * 32]
	stp	q26, q27, [x0, #13 * 32]
	stp	q28, q29, [x0, #14 * 32]
	stp	q30, q31, [x0, #15 * 32]
	mrs	x1, fpsr
	mrs	x2, fpcr
	add	x0, x0, #FPSIMD_FPSR
	stp	x1, x2, [x0]
	ret

	.globl	fpsimd_load
fpsimd_load:
	ldp	q0, q1, [x0, #0 * 32]
	ldp	q2, q3, [x0, #1 * 32]
	ldp	q4, q5, [x0, #2 * 32]
	ldp	q6, q7, [x0, #3 * 32]
	ldp	q8, q9, [x0, #4 * 32]
	ldp	q10, q11, [x0, #5 * 32]
	ldp	q12, q13, [x0, #6 * 32]
	ldp	q14, q15, [x0, #7 * 32]
	ldp	q16, q17, [x0, #8 * 32]
	ldp	q18, q19, [x0, #9 * 32]
	ldp	q20, q21, [x0, #10 * 32]
	ldp	q22, q23, [x0, #11 * 32]
	ldp	q24, q25, [x0, #12 * 32]
	ldp	q26, q27, [x0, #13 * 32]
	ldp	q28, q29, [x0, #14 * 32]
	ldp	q30, q31, [x0, #15 * 32]
	add	x0, x0, #FPSIMD_FPSR
	ldp	x1, x2, [x0]
	msr	fpsr, x1
	msr	fpcr, x2
	ret
