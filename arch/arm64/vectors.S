/* SPDX-License-Identifier: MIT */
/*
 * The EL2 exception vectors. Exceptions from a lower EL are guest exits:
 * those entries push the guest's x0 and x1 and go to guest_exit
 * (guest_entry.S) with the vector number. Nothing at EL2 itself takes
 * exceptions on purpose: those entries save the registers in a frame on the
 * current stack and hand it to el2_unexpected_exception(), which reports and
 * stops.
 */
#include <arch/traps.h>

.macro	ventry	kind
	.balign	128
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #FRAME_X(0)]
	mov	x1, #\kind
	b	el2_vector_common
.endm

.macro	gentry	kind
	.balign	128
	stp	x0, x1, [sp, #-16]!
	mov	x1, #\kind
	b	guest_exit
.endm

	.text
	.balign	2048
	.globl	el2_vectors
el2_vectors:
	ventry	0	/* current EL, SP_EL0: sync, IRQ, FIQ, SError */
	ventry	1
	ventry	2
	ventry	3
	ventry	4	/* current EL, SP_EL2 */
	ventry	5
	ventry	6
	ventry	7
	gentry	8	/* lower EL, AArch64: guest exits */
	gentry	9
	gentry	10
	gentry	11
	gentry	12	/* lower EL, AArch32 (guest EL0) */
	gentry	13
	gentry	14
	gentry	15

el2_vector_common:
	stp	x2, x3, [sp, #FRAME_X(2)]
	stp	x4, x5, [sp, #FRAME_X(4)]
	stp	x6, x7, [sp, #FRAME_X(6)]
	stp	x8, x9, [sp, #FRAME_X(8)]
	stp	x10, x11, [sp, #FRAME_X(10)]
	stp	x12, x13, [sp, #FRAME_X(12)]
	stp	x14, x15, [sp, #FRAME_X(14)]
	stp	x16, x17, [sp, #FRAME_X(16)]
	stp	x18, x19, [sp, #FRAME_X(18)]
	stp	x20, x21, [sp, #FRAME_X(20)]
	stp	x22, x23, [sp, #FRAME_X(22)]
	stp	x24, x25, [sp, #FRAME_X(24)]
	stp	x26, x27, [sp, #FRAME_X(26)]
	stp	x28, x29, [sp, #FRAME_X(28)]
	add	x2, sp, #FRAME_SIZE		/* sp before the exception */
	stp	x30, x2, [sp, #FRAME_X(30)]
	mrs	x2, elr_el2
	mrs	x3, spsr_el2
	stp	x2, x3, [sp, #FRAME_ELR]
	mrs	x2, esr_el2
	mrs	x3, far_el2
	stp	x2, x3, [sp, #FRAME_ESR]
	mov	x0, sp
	bl	el2_unexpected_exception
1:	wfi
	b	1b
