/* SPDX-License-Identifier: MIT */
/*
 * Entry and EL1 vector table of the arm64 test guests. Strata enters at
 * _start at EL1h with x0 = the DTB, the MMU off and interrupts masked.
 */
#define FRAME_SIZE	288	/* struct exc_frame, 16-byte aligned */

	.section .text.start, "ax"
	.global _start
_start:
	mov	x19, x0
	adrp	x1, stack_top
	add	x1, x1, :lo12:stack_top
	mov	sp, x1
	adrp	x1, vectors
	add	x1, x1, :lo12:vectors
	msr	vbar_el1, x1
	isb
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	mov	x0, x19
	bl	guest_main
	bl	guest_exit
3:	wfi
	b	3b

/*
 * Secondary vCPUs (PSCI CPU_ON with this entry): x0 = the context ID, the
 * address of a struct cpu_boot whose first word is the vCPU's stack top.
 */
	.global	secondary_start
secondary_start:
	ldr	x1, [x0]
	mov	sp, x1
	adrp	x1, vectors
	add	x1, x1, :lo12:vectors
	msr	vbar_el1, x1
	isb
	bl	secondary_main
4:	wfi
	b	4b

	.macro	ventry off
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp]
	mov	x0, #\off
	b	exc_common
	.endm

	.text
	.balign	0x800
	.global	vectors
vectors:
	ventry	0x000
	ventry	0x080
	ventry	0x100
	ventry	0x180
	ventry	0x200
	ventry	0x280
	ventry	0x300
	ventry	0x380
	ventry	0x400
	ventry	0x480
	ventry	0x500
	ventry	0x580
	ventry	0x600
	ventry	0x680
	ventry	0x700
	ventry	0x780

/* Save the interrupted context as a struct exc_frame and call C. */
exc_common:
	str	x0, [sp, #280]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	mrs	x1, elr_el1
	stp	x30, x1, [sp, #240]
	mrs	x1, spsr_el1
	mrs	x2, esr_el1
	stp	x1, x2, [sp, #256]
	mrs	x1, far_el1
	str	x1, [sp, #272]
	mov	x0, sp
	bl	exception_entry
	ldp	x30, x1, [sp, #240]
	msr	elr_el1, x1
	ldr	x1, [sp, #256]
	msr	spsr_el1, x1
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldp	x0, x1, [sp]
	add	sp, sp, #FRAME_SIZE
	eret

	.section .bss.stack, "aw", %nobits
	.balign	16
	.space	16384
stack_top:
