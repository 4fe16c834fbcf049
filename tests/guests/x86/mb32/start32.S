/* SPDX-License-Identifier: MIT */
/*
 * Entry of the 32-bit multiboot (v1) test guest: the header (bit 1 asks for
 * memory information; for the ELF32 kernel that is all, while with
 * AOUT_KLUDGE, for a flat binary, flag 16 and the load addresses follow),
 * a stack of its own, and mb_main(magic, info) with what the loader left
 * in EAX and EBX. Its result powers the VM off by VMCALL.
 */
#define MB_MAGIC	0x1BADB002
#ifdef AOUT_KLUDGE
#define MB_FLAGS	0x00010002	/* + load addresses in the header */
#else
#define MB_FLAGS	0x00000002
#endif

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
#ifdef AOUT_KLUDGE
	/* the flat binary (objcopy -O binary) is the image from 1 MiB */
	.long	mb_header	/* header_addr */
	.long	__load_start	/* load_addr */
	.long	__load_end	/* load_end_addr */
	.long	__bss_end	/* bss_end_addr */
	.long	_start		/* entry_addr */
#endif

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
