/* SPDX-License-Identifier: MIT */
/*
 * The arm64 entry: the Linux Image header, then the EL2 start-up.
 *
 * A loader (QEMU -kernel, U-Boot booti) places the Image at a 2 MiB-aligned
 * base and jumps to its first byte with x0 = DTB, MMU and D-cache off and
 * interrupts masked. The Image is also a PE/COFF EFI application
 * (efi_header.S, docs/arm64-efi.md): UEFI firmware calls efi_pe_entry, the
 * EFI stub (efi_stub.c) gathers what the firmware knows, exits boot
 * services and enters a 2 MiB-aligned copy at efi_handover_entry with the
 * MMU off, which then runs the same path as a Linux-Image boot. The base need not be the link address, so this code only
 * uses PC-relative addressing until it has applied the RELATIVE relocations.
 *
 * Order: relocate, clear BSS, take the boot stack, refuse anything but EL2,
 * put EL2 into a known state (SCTLR, HCR, CPTR, VBAR), build the EL2 stage-1
 * tables in C (boot_early_mmu), turn on the MMU and caches, and call
 * boot_main(dtb, load address, link address) which never returns.
 */
#include <arch/smp.h>
#include <arch/sysreg.h>

#define R_AARCH64_RELATIVE	1027
#define BOOT_STACK_SIZE		(16 * 1024)

/* Image flags: little-endian (bit 0 = 0), 4 KiB pages (bits 2:1 = 1), any
 * 2 MiB-aligned base (bit 3). */
#define IMAGE_FLAGS		((1 << 1) | (1 << 3))

	.section .head.text, "ax"
	.globl	_start
_start:
	/*
	 * code0: "MZ", the PE/COFF (DOS) magic, in its low halfword; as an
	 * instruction it only sets the flags, so a Linux-Image loader that
	 * jumps here runs straight into code1.
	 */
	ccmp	x18, #0, #0xd, pl		/* code0 */
	b	primary_entry			/* code1 */
	.quad	0				/* text_offset */
	.long	__strata_size_lo32		/* image_size, BSS included */
	.long	__strata_size_hi32
	.quad	IMAGE_FLAGS
	.quad	0, 0, 0				/* res2, res3, res4 */
	.ascii	"ARM\x64"			/* magic at 0x38 */
	.long	pe_header - _start		/* res5: PE header offset */

	.section .text.boot, "ax"
primary_entry:
	mov	x22, #0				/* not from the EFI stub */
entry_common:
	mov	x19, x0				/* DTB */
	bl	apply_relocs
	mov	x21, x0				/* delta */
	adrp	x20, _start			/* where we really are */
	add	x20, x20, :lo12:_start

2:	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
3:	cmp	x0, x1
	b.hs	4f
	str	xzr, [x0], #8
	b	3b

4:	bl	leave_loader_mmu
	msr	spsel, #1		/* exceptions use this stack too */
	adrp	x0, boot_stack_top
	add	x0, x0, :lo12:boot_stack_top
	mov	sp, x0

	mrs	x0, CurrentEL
	lsr	x0, x0, #2
	and	x0, x0, #3
	cmp	x0, #2
	b.ne	boot_refuse_el			/* x0 = EL; does not return */

	ldr	x0, =SCTLR_EL2_RES1		/* MMU, caches, alignment off */
	msr	sctlr_el2, x0
	mov	x0, #HCR_EL2_RW			/* E2H = 0, TGE = 0 */
	msr	hcr_el2, x0
	mov	x0, #CPTR_EL2_DEFAULT		/* FP/SIMD at EL2 (libfdt) */
	msr	cptr_el2, x0
	adrp	x0, el2_vectors
	add	x0, x0, :lo12:el2_vectors
	msr	vbar_el2, x0
	msr	daifset, #0xf
	isb

	mov	x0, x19
	mov	x1, x20
	bl	boot_early_mmu		/* returns the TTBR0_EL2 value */
	bl	el2_mmu_enable

	mov	x0, x19
	mov	x1, x20
	sub	x2, x20, x21			/* link address */
	mov	x3, x22				/* booted by the EFI stub */
	bl	boot_main
5:	wfi
	b	5b

/*
 * The EFI stub's way in (efi_enter_image() jumps here in the copy it made):
 * x0 = DTB or 0, MMU and caches off, interrupts masked, boot services gone.
 */
	.globl	efi_handover_entry
efi_handover_entry:
	mov	x22, #1
	b	entry_common

/*
 * apply_relocs: write every R_AARCH64_RELATIVE relocation for the address
 * this code runs at. Writing addend + delta (not adding to the old value)
 * makes it idempotent: the EFI stub applies them where the firmware loaded
 * the image, and the copy it starts applies them again for its own place.
 * Returns x0 = load address - link address. Clobbers x0-x6; no stack.
 */
apply_relocs:
	adrp	x5, _start
	add	x5, x5, :lo12:_start
	ldr	w1, link_lo32
	ldr	w2, link_hi32
	orr	x1, x1, x2, lsl #32
	sub	x6, x5, x1

	adrp	x0, __rela_start
	add	x0, x0, :lo12:__rela_start
	adrp	x1, __rela_end
	add	x1, x1, :lo12:__rela_end
1:	cmp	x0, x1
	b.hs	2f
	ldp	x2, x3, [x0], #16		/* r_offset, r_info */
	ldr	x4, [x0], #8			/* r_addend */
	cmp	w3, #R_AARCH64_RELATIVE
	b.ne	bad_reloc			/* the build rejects others */
	add	x4, x4, x6
	str	x4, [x2, x6]
	b	1b
2:	mov	x0, x6
	ret

/*
 * The PE/COFF entry point: UEFI calls it as efi_status_t fn(image handle,
 * system table) with the MMU and caches on (identity mapped). Relocate,
 * then run the C stub; it returns only with an error status for the
 * firmware.
 */
	.globl	efi_pe_entry
efi_pe_entry:
	stp	x29, x30, [sp, #-32]!
	mov	x29, sp
	stp	x0, x1, [sp, #16]
	bl	apply_relocs
	ldp	x0, x1, [sp, #16]
	bl	efi_stub_main
	ldp	x29, x30, [sp], #32
	ret

/*
 * efi_enter_image(dtb, entry): the stub's last step, after
 * ExitBootServices(). The caller has cleaned the copy of the image and the
 * data it hands over to the PoC; clean this code too (it runs on with the
 * caches off), turn the EL2 MMU and caches off, and jump to @entry with
 * x0 = @dtb. Does not return; no stack.
 */
	.globl	efi_enter_image
efi_enter_image:
	msr	daifset, #0xf
	mov	x19, x0
	mov	x20, x1
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4
	mov	x4, #4
	lsl	x3, x4, x3			/* D-cache line in bytes */
	sub	x4, x3, #1
	adr	x1, efi_enter_image
	bic	x1, x1, x4
	adr	x2, 3f
1:	dc	civac, x1
	add	x1, x1, x3
	cmp	x1, x2
	b.lo	1b
	dsb	sy
	mrs	x0, sctlr_el2
	mov	x1, #(SCTLR_EL2_M | SCTLR_EL2_C | SCTLR_EL2_I)
	bic	x0, x0, x1
	msr	sctlr_el2, x0
	isb
	ic	iallu
	tlbi	alle2
	dsb	nsh
	isb
	mov	x0, x19
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x20
3:

/*
 * The Image protocol wants the MMU and D-cache off at entry, but some loaders
 * (U-Boot's `go`) jump with their own identity-mapped MMU and caches on. Then
 * the relocations and the cleared BSS may still sit in dirty cache lines:
 * clean them to the point of coherency and turn the MMU off, so that
 * everything below runs as after a protocol-conforming loader. Only at EL2;
 * at another level the refusal path copes either way. Clobbers x0-x4.
 */
leave_loader_mmu:
	mrs	x0, CurrentEL
	cmp	x0, #(2 << 2)
	b.ne	2f
	mrs	x0, sctlr_el2
	mov	x1, #(SCTLR_EL2_M | SCTLR_EL2_C)
	tst	x0, x1
	b.eq	2f
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4			/* DminLine: log2(words) */
	mov	x4, #4
	lsl	x3, x4, x3			/* line size in bytes */
	sub	x4, x3, #1
	adrp	x1, __image_start
	add	x1, x1, :lo12:__image_start
	bic	x1, x1, x4
	adrp	x2, __image_end
	add	x2, x2, :lo12:__image_end
1:	dc	civac, x1
	add	x1, x1, x3
	cmp	x1, x2
	b.lo	1b
	dsb	sy
	ldr	x0, =SCTLR_EL2_RES1
	msr	sctlr_el2, x0
	isb
	ic	iallu
	dsb	nsh
	isb
2:	ret

/*
 * Secondary CPUs, started by PSCI CPU_ON (arch/arm64/smp.c) at EL2 with the
 * MMU off and x0 = their struct secondary_boot (cleaned to PoC by the boot
 * CPU): the same EL2 state as the boot CPU, its stack, the boot CPU's tables,
 * then secondary_main(x0), which never returns.
 */
	.globl	secondary_entry
secondary_entry:
	mov	x19, x0
	mrs	x1, CurrentEL
	cmp	x1, #(2 << 2)
	b.ne	secondary_park
	ldr	x1, =SCTLR_EL2_RES1
	msr	sctlr_el2, x1
	mov	x1, #HCR_EL2_RW
	msr	hcr_el2, x1
	mov	x1, #CPTR_EL2_DEFAULT
	msr	cptr_el2, x1
	adrp	x1, el2_vectors
	add	x1, x1, :lo12:el2_vectors
	msr	vbar_el2, x1
	msr	daifset, #0xf
	msr	spsel, #1
	ldr	x1, [x19, #SECONDARY_BOOT_STACK]
	mov	sp, x1
	isb
	ldr	x0, [x19, #SECONDARY_BOOT_TTBR]
	bl	el2_mmu_enable
	mov	x0, x19
	bl	secondary_main
secondary_park:
	wfi
	b	secondary_park

/* A relocation we cannot apply: nothing can be trusted yet, so just stop. */
bad_reloc:
	wfe
	b	bad_reloc

	.balign	4
link_lo32:
	.long	__strata_link_lo32
link_hi32:
	.long	__strata_link_hi32

/*
 * el2_mmu_enable(ttbr0): load the EL2 translation regime built by
 * boot_early_mmu() and turn on the MMU and both caches. Runs identity mapped,
 * so the next instruction fetch is the same address either way.
 */
	.globl	el2_mmu_enable
el2_mmu_enable:
	ldr	x1, =MAIR_EL2_VALUE
	mrs	x2, SYS_ID_AA64PFR1_EL1
	ubfx	x2, x2, #8, #4			/* MTE */
	cmp	x2, #2				/* FEAT_MTE2: tag storage */
	ldr	x2, =MAIR_EL2_VALUE_MTE
	csel	x1, x2, x1, hs
	msr	mair_el2, x1
	mrs	x1, SYS_ID_AA64MMFR0_EL1
	and	x1, x1, #0xf			/* PARange */
	cmp	x1, #5			/* PS: 48 bits at most */
	mov	x2, #5
	csel	x1, x1, x2, ls
	lsl	x1, x1, #TCR_EL2_PS_SHIFT
	ldr	x2, =(TCR_EL2_RES1 | TCR_EL2_T0SZ(48) | \
		      TCR_EL2_IRGN0_WBWA | TCR_EL2_ORGN0_WBWA | \
		      TCR_EL2_SH0_INNER | TCR_EL2_TG0_4K)
	orr	x1, x1, x2
	msr	tcr_el2, x1
	msr	ttbr0_el2, x0
	isb
	tlbi	alle2
	tlbi	alle1		/* what firmware left for EL1&0: VMIDs start clean */
	dsb	nsh
	ic	iallu
	dsb	nsh
	isb
	mrs	x0, sctlr_el2
	ldr	x1, =(SCTLR_EL2_M | SCTLR_EL2_C | SCTLR_EL2_I | SCTLR_EL2_SA)
	orr	x0, x0, x1
	mrs	x1, SYS_ID_AA64PFR1_EL1
	ubfx	x1, x1, #8, #4
	cmp	x1, #2
	ldr	x1, =SCTLR_EL2_ATA		/* tags, never checked (TCF 0) */
	csel	x1, x1, xzr, hs
	orr	x0, x0, x1
	msr	sctlr_el2, x0
	isb
	ret
	.ltorg

	.section .bss.boot_stack, "aw", %nobits
	.balign	16
boot_stack:
	.space	BOOT_STACK_SIZE
	.globl	boot_stack_top
boot_stack_top:
