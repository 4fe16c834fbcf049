/* SPDX-License-Identifier: MIT */
/*
 * The world switch. vmx_enter(gprs, launched) saves the host's callee-saved
 * registers and the gprs pointer on its stack, points the VMCS host RSP at
 * them, loads the guest's general registers (all but RSP, which the VMCS
 * holds) from gprs[16] (encoding order: RAX, RCX, RDX, RBX, RSP, RBP, RSI,
 * RDI, R8..R15) and executes VMRESUME, or VMLAUNCH when @launched is 0.
 *
 * A VM exit arrives at vmx_exit_point (the VMCS host RIP) on that stack: the
 * guest's registers are stored back into gprs and vmx_enter returns 0. When
 * VMLAUNCH/VMRESUME itself fails, execution falls through and vmx_enter
 * returns 1 (the caller reads the VM-instruction error field). Host RFLAGS
 * after an exit is 0x2, the interrupt flag stays clear as it is in Strata.
 */
#define VMCS_HOST_RSP	0x6c14

#define G_RAX	0
#define G_RCX	8
#define G_RDX	16
#define G_RBX	24
#define G_RBP	40
#define G_RSI	48
#define G_RDI	56
#define G_R8	64
#define G_R9	72
#define G_R10	80
#define G_R11	88
#define G_R12	96
#define G_R13	104
#define G_R14	112
#define G_R15	120

	.text
	.globl	vmx_enter
	.type	vmx_enter, @function
vmx_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdi
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lfail

	cmp	$0, %esi
	mov	G_RAX(%rdi), %rax
	mov	G_RCX(%rdi), %rcx
	mov	G_RDX(%rdi), %rdx
	mov	G_RBX(%rdi), %rbx
	mov	G_RBP(%rdi), %rbp
	mov	G_RSI(%rdi), %rsi
	mov	G_R8(%rdi), %r8
	mov	G_R9(%rdi), %r9
	mov	G_R10(%rdi), %r10
	mov	G_R11(%rdi), %r11
	mov	G_R12(%rdi), %r12
	mov	G_R13(%rdi), %r13
	mov	G_R14(%rdi), %r14
	mov	G_R15(%rdi), %r15
	mov	G_RDI(%rdi), %rdi
	/* MOVs leave the flags of the CMP above intact. */
	jne	1f
	vmlaunch
	jmp	.Lfail
1:	vmresume

.Lfail:
	pop	%rdi
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	mov	$1, %eax
	ret
	.size	vmx_enter, . - vmx_enter

	.globl	vmx_exit_point
	.type	vmx_exit_point, @function
vmx_exit_point:
	push	%rdi
	mov	8(%rsp), %rdi
	mov	%rax, G_RAX(%rdi)
	mov	%rcx, G_RCX(%rdi)
	mov	%rdx, G_RDX(%rdi)
	mov	%rbx, G_RBX(%rdi)
	mov	%rbp, G_RBP(%rdi)
	mov	%rsi, G_RSI(%rdi)
	mov	%r8, G_R8(%rdi)
	mov	%r9, G_R9(%rdi)
	mov	%r10, G_R10(%rdi)
	mov	%r11, G_R11(%rdi)
	mov	%r12, G_R12(%rdi)
	mov	%r13, G_R13(%rdi)
	mov	%r14, G_R14(%rdi)
	mov	%r15, G_R15(%rdi)
	pop	%rax
	mov	%rax, G_RDI(%rdi)
	pop	%rdi
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	xor	%eax, %eax
	ret
	.size	vmx_exit_point, . - vmx_exit_point
