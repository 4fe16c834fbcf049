/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 entry from a multiboot2 loader: 32-bit protected mode, paging
 * off, EAX = the multiboot2 magic, EBX = the boot information. Check the
 * magic and long-mode support (a clear message on COM1 and a halt if not),
 * clear BSS, identity-map the first 4 GiB with 2 MiB pages, enter long mode
 * and call x86_boot_main(magic, info) on the boot stack. The C code maps RAM
 * above 4 GiB and installs the final GDT, TSS and IDT.
 */
#define MB2_BOOT_MAGIC	0x36d76289
#define COM1		0x3f8
#define CR0_PE		0x00000001
#define CR0_PG		0x80000000
#define CR0_WP		0x00010000	/* read-only pages hold for Strata too */
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100
#define PTE_P_RW	0x003
#define PTE_P_RW_PS	0x083
#define BOOT_STACK_SIZE	0x4000
#define SEL_CODE64	0x08
#define SEL_DATA	0x10

	.section .text.boot, "ax"
	.code32
	.globl	_start
_start:
	cli
	cld
	mov	%eax, %ebp
	mov	%ebx, %esi

	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	xor	%eax, %eax
	rep stosl

	mov	$boot_stack_top, %esp
	mov	%ebp, boot_mb2_magic
	mov	%esi, boot_mb2_info

	cmp	$MB2_BOOT_MAGIC, %ebp
	jne	bad_magic
	call	check_long_mode
	call	build_page_tables

	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PG | CR0_WP | CR0_PE), %eax
	mov	%eax, %cr0

	lgdt	boot_gdt_ptr
	ljmp	$SEL_CODE64, $long_entry

/* CPUID 0x80000001 EDX bit 29: long mode. */
check_long_mode:
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x80000001, %eax
	jb	no_long_mode
	mov	$0x80000001, %eax
	cpuid
	bt	$29, %edx
	jnc	no_long_mode
	ret

/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 512 2 MiB pages each. */
build_page_tables:
	mov	$boot_pdpt, %eax
	or	$PTE_P_RW, %eax
	mov	%eax, boot_pml4

	mov	$boot_pd, %eax
	or	$PTE_P_RW, %eax
	xor	%ecx, %ecx
1:	mov	%eax, boot_pdpt(, %ecx, 8)
	add	$0x1000, %eax
	inc	%ecx
	cmp	$4, %ecx
	jb	1b

	mov	$PTE_P_RW_PS, %eax
	xor	%ecx, %ecx
2:	mov	%eax, boot_pd(, %ecx, 8)
	add	$0x200000, %eax
	inc	%ecx
	cmp	$2048, %ecx
	jb	2b
	ret

bad_magic:
	mov	$msg_bad_magic, %esi
	jmp	early_fail
no_long_mode:
	mov	$msg_no_long_mode, %esi
early_fail:
	call	early_uart_init
	call	early_puts
1:	cli
	hlt
	jmp	1b

/* COM1 at 115200 8N1, as drivers/uart16550.c does it later. */
early_uart_init:
	mov	$(COM1 + 1), %dx	/* IER: no interrupts */
	xor	%al, %al
	out	%al, %dx
	mov	$(COM1 + 3), %dx	/* LCR: DLAB */
	mov	$0x80, %al
	out	%al, %dx
	mov	$(COM1 + 0), %dx	/* DLL: divisor 1 */
	mov	$1, %al
	out	%al, %dx
	mov	$(COM1 + 1), %dx	/* DLM */
	xor	%al, %al
	out	%al, %dx
	mov	$(COM1 + 3), %dx	/* LCR: 8N1 */
	mov	$0x03, %al
	out	%al, %dx
	ret

/* Print the NUL-terminated string at %esi. */
early_puts:
1:	mov	$(COM1 + 5), %dx	/* LSR: wait for THRE */
2:	in	%dx, %al
	test	$0x20, %al
	jz	2b
	lodsb
	test	%al, %al
	jz	3f
	mov	$COM1, %dx
	out	%al, %dx
	jmp	1b
3:	ret

	.code64
long_entry:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$boot_stack_top, %rsp
	xor	%ebp, %ebp
	mov	boot_mb2_magic(%rip), %edi
	mov	boot_mb2_info(%rip), %esi
	call	x86_boot_main
1:	cli
	hlt
	jmp	1b

	.section .rodata
msg_bad_magic:
	.asciz	"\r\nerror: boot: not started by a multiboot2 loader (EAX is not 0x36d76289); halting\r\n"
msg_no_long_mode:
	.asciz	"\r\nerror: boot: this CPU has no 64-bit long mode; halting\r\n"

	.balign 8
boot_gdt:
	.quad	0				/* null */
	.quad	0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short	boot_gdt_end - boot_gdt - 1
	.long	boot_gdt

	.data
	.balign 4
	.globl	boot_mb2_magic, boot_mb2_info
boot_mb2_magic:
	.long	0
boot_mb2_info:
	.long	0

	.bss
	.balign 4096
	.globl	boot_pml4, boot_pdpt
boot_pml4:
	.skip	0x1000
boot_pdpt:
	.skip	0x1000
boot_pd:
	.skip	0x4000
boot_stack:
	.skip	BOOT_STACK_SIZE
boot_stack_top:
