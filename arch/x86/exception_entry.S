/* SPDX-License-Identifier: MIT */
/*
 * Entry stubs of the 32 exception vectors. Each pushes a zero error code
 * where the CPU pushes none, then the vector number, then every general
 * register, so that the stack holds a struct x86_regs (arch/x86.h) for
 * x86_exception(). The CPU aligned RSP to 16 before its pushes, and the
 * 22 quadwords keep it aligned for the call.
 */

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERROR_CODE(v) \
	((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
	 (v) == 29 || (v) == 30)

	.text
	.balign 16
exception_stubs_start:
	.set	vec, 0
	.rept	32
	.balign 16
	.if	(HAS_ERROR_CODE(vec)) == 0
	pushq	$0
	.endif
	pushq	$vec
	jmp	exception_common
	.set	vec, vec + 1
	.endr

exception_common:
	cld
	pushq	%r15
	pushq	%r14
	pushq	%r13
	pushq	%r12
	pushq	%r11
	pushq	%r10
	pushq	%r9
	pushq	%r8
	pushq	%rbp
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%rbx
	pushq	%rax
	mov	%rsp, %rdi
	xor	%ebp, %ebp
	call	x86_exception
1:	cli
	hlt
	jmp	1b

	.section .rodata
	.balign 8
	.globl	x86_exception_stubs
x86_exception_stubs:
	.set	vec, 0
	.rept	32
	.quad	exception_stubs_start + vec * 16
	.set	vec, vec + 1
	.endr

/*
 * The vectors Strata takes itself (arch/smp.h), only while a CPU waits in
 * arch_cpu_idle() with interrupts enabled: save the registers the C ABI
 * lets x86_irq() clobber (-mgeneral-regs-only: no vector registers), call
 * it with the vector, return. The CPU's 5 pushes leave RSP 8 off 16; the
 * 9 below realign it for the call.
 */
	.text
	.balign 16
	.globl	x86_irq_kick_stub, x86_irq_timer_stub, x86_irq_spurious_stub
x86_irq_kick_stub:
	pushq	%rdi
	mov	$0xf0, %edi
	jmp	irq_common
x86_irq_timer_stub:
	pushq	%rdi
	mov	$0xf1, %edi
	jmp	irq_common
/* Spurious: no EOI (SDM "Spurious Interrupt"). */
x86_irq_spurious_stub:
	iretq

irq_common:
	cld
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	call	x86_irq
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	popq	%rdi
	iretq
