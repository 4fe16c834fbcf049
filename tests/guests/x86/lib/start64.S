/* SPDX-License-Identifier: MIT */
/*
 * Entry of the 64-bit test guests: Strata starts them in long mode with
 * paging, a GDT and a stack (arch/guest_layout.h). Keep what it passed in
 * RDI/RSI/RDX/RCX, run guest_main() and power off with its result.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	movq	%rdi, boot_info + 0(%rip)
	movq	%rsi, boot_info + 8(%rip)
	movq	%rdx, boot_info + 16(%rip)
	movq	%rcx, boot_info + 24(%rip)
	andq	$-16, %rsp
	call	serial_init
	call	guest_main
	movslq	%eax, %rdi
	call	power_off
1:	cli
	hlt
	jmp	1b

	.data
	.balign 8
	.globl boot_info
boot_info:
	.quad	0, 0, 0, 0
