/* SPDX-License-Identifier: MIT */
/*
 * The application processors' start code (arch/x86/smp.c copies it to the
 * trampoline page below 1 MiB; the SIPI vector is that page's number). A
 * CPU starts here in real mode at VV00:0000 and goes through protected
 * mode into long mode on the boot CPU's page tables, then calls the C
 * entry with its Strata CPU number on the stack it was given. The boot CPU
 * fills the parameters at the end (tr_*) before each SIPI: the linear
 * addresses of the far jumps and the GDT, CR3, EFER, stack, entry, index.
 * Position-independent: 16- and 32-bit code address the copy through
 * CS << 4 (EBX), 64-bit code RIP-relative.
 */
#define CR0_PE		0x00000001
#define CR0_WP		0x00010000
#define CR0_NW		0x20000000
#define CR0_CD		0x40000000
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020
#define MSR_EFER	0xc0000080
#define SEL_CODE32	0x08
#define SEL_DATA	0x10
#define SEL_CODE64	0x18

	.section .rodata
	.balign 16
	.globl	x86_ap_tramp_start, x86_ap_tramp_end
	.globl	x86_ap_tr_gdtr, x86_ap_tr_pm, x86_ap_tr_lm, x86_ap_tr_cr3
	.globl	x86_ap_tr_efer, x86_ap_tr_stack, x86_ap_tr_index
	.globl	x86_ap_tr_entry, x86_ap_tr_gdt, x86_ap_tr_pm32, x86_ap_tr_lm64
	.code16
x86_ap_tramp_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	xor	%ebx, %ebx
	mov	%cs, %bx
	shl	$4, %ebx
	lgdtl	(x86_ap_tr_gdtr - x86_ap_tramp_start)
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	*(x86_ap_tr_pm - x86_ap_tramp_start)

	.code32
x86_ap_tr_pm32:
	mov	$SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	(x86_ap_tr_cr3 - x86_ap_tramp_start)(%ebx), %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	mov	(x86_ap_tr_efer - x86_ap_tramp_start)(%ebx), %eax
	xor	%edx, %edx
	wrmsr
	/*
	 * INIT leaves CR0.CD and NW as they were (SDM table 9-1, "INIT"): a
	 * BIOS that left them set would have this CPU run the hypervisor, and
	 * through HOST_CR0 every exit, uncached. Clear them here.
	 */
	mov	%cr0, %eax
	and	$~(CR0_CD | CR0_NW), %eax
	or	$(CR0_PG | CR0_WP | CR0_PE), %eax
	mov	%eax, %cr0
	ljmpl	*(x86_ap_tr_lm - x86_ap_tramp_start)(%ebx)

	.code64
x86_ap_tr_lm64:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	x86_ap_tr_stack(%rip), %rsp
	mov	x86_ap_tr_index(%rip), %rdi
	mov	x86_ap_tr_entry(%rip), %rax
	xor	%ebp, %ebp
	call	*%rax
1:	cli
	hlt
	jmp	1b

	.balign 8
x86_ap_tr_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: 32-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: data */
	.quad	0x00af9a000000ffff		/* 0x18: 64-bit code */
x86_ap_tr_gdtr:
	.short	31
	.long	0				/* linear base of tr_gdt */
	.balign 8
x86_ap_tr_pm:
	.long	0				/* linear tr_pm32 */
	.short	SEL_CODE32
	.balign 8
x86_ap_tr_lm:
	.long	0				/* linear tr_lm64 */
	.short	SEL_CODE64
	.balign 8
x86_ap_tr_cr3:
	.long	0
x86_ap_tr_efer:
	.long	0
	.balign 8
x86_ap_tr_stack:
	.quad	0
x86_ap_tr_index:
	.quad	0
x86_ap_tr_entry:
	.quad	0
x86_ap_tramp_end:
