/* SPDX-License-Identifier: MIT */
/*
 * MMIO from 16-bit protected-mode code, for the 32-bit multiboot guest:
 * run16() loads a GDT with a 16-bit code segment whose base is code16 (so
 * Strata must add CS.base to fetch the instruction, and decode it with
 * 16-bit operand and address sizes), jumps there, stores to and loads from
 * the test device with 32-bit addressing (67 prefix), and comes back to
 * 32-bit code, leaving the loaded registers in res16[].
 */
#define TESTDEV		0xfe000000
#define SEL_CODE16	0x18

	.data
	.balign 8
gdt16:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: flat 32-bit code, as Strata's */
	.quad	0x00cf92000000ffff	/* 0x10: flat data, as Strata's */
	.quad	0x00009a000000ffff	/* 0x18: 16-bit code, base patched */
gdtr16:
	.word	4 * 8 - 1
	.long	gdt16

	.globl	res16
res16:
	.long	0, 0, 0, 0, 0

	.text
	.code32
	.globl	run16
run16:
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	pushl	%ebp
	movl	$code16, %eax
	movw	%ax, gdt16 + SEL_CODE16 + 2
	shrl	$16, %eax
	movb	%al, gdt16 + SEL_CODE16 + 4
	movb	%ah, gdt16 + SEL_CODE16 + 7
	lgdt	gdtr16
	movl	$TESTDEV + 0xc0, %edi
	movl	$0x12345678, %eax
	movl	$0xbbbbbbbb, %edx
	ljmp	$SEL_CODE16, $0
back32:
	movl	%ebx, res16 + 0
	movl	%ecx, res16 + 4
	movl	%edx, res16 + 8
	movl	%esi, res16 + 12
	movl	%ebp, res16 + 16
	popl	%ebp
	popl	%edi
	popl	%esi
	popl	%ebx
	ret

	.balign 16
code16:
	.code16
	addr32 movw	%ax, (%edi)		/* 0xc0: 0x5678 */
	addr32 movl	%eax, 4(%edi)		/* 0xc4: 0x12345678 */
	addr32 movb	%ah, 8(%edi)		/* 0xc8: 0x56 */
	addr32 movw	$0x1616, 10(%edi)	/* 0xca: imm16, not imm32 */
	movl	$0xaaaaaaaa, %ebx
	addr32 movw	(%edi), %bx		/* ebx = 0xaaaa5678 */
	addr32 movl	4(%edi), %ecx		/* ecx = 0x12345678 */
	addr32 movzbw	8(%edi), %dx		/* edx = 0xbbbb0056 */
	addr32 movswl	10(%edi), %esi		/* esi = 0x00001616 */
	movl	$0xcccccccc, %eax
	.byte	0x67, 0xa1			/* addr32 mov moffs32, %ax */
	.long	TESTDEV + 0xc4
	movl	%eax, %ebp			/* ebp = 0xcccc5678 */
	ljmpl	$0x08, $back32
	.code32
