/* SPDX-License-Identifier: MIT */
/*
 * Entry of the 32-bit multiboot (v1) test guest: the header (an ELF32
 * kernel, so no load addresses; bit 1 asks for memory information), a
 * stack of its own, and mb_main(magic, info) with what the loader left in
 * EAX and EBX. Its result powers the VM off by VMCALL.
 */
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000002

	.section .multiboot, "a"
	.balign 4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.text
	.globl	_start
_start:
	movl	$stack_top, %esp
	pushl	%ebx
	pushl	%eax
	call	serial_init
	call	mb_main
	pushl	%eax
	call	power_off
1:	cli
	hlt
	jmp	1b

	.bss
	.balign 16
	.space	16384
stack_top:
