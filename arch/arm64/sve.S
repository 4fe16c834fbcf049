/* SPDX-License-Identifier: MIT */
/*
 * sve_regs_save(buf) / sve_regs_load(buf): Z0-Z31, then P0-P15, then FFR,
 * at the vector length EL2 runs with (ZCR_EL2, set by arch/arm64/sve.c,
 * which also opens CPTR_EL2.TZ around the calls). Strata itself never uses
 * SVE (it is built with -mgeneral-regs-only).
 */
	.arch_extension sve
	.text

	.globl	sve_regs_save
sve_regs_save:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	str	z\n, [x0, #\n, mul vl]
	.endr
	addvl	x1, x0, #16
	addvl	x1, x1, #16
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	str	p\n, [x1, #\n, mul vl]
	.endr
	rdffr	p0.b
	str	p0, [x1, #16, mul vl]
	ret

	.globl	sve_regs_load
sve_regs_load:
	addvl	x1, x0, #16
	addvl	x1, x1, #16
	ldr	p0, [x1, #16, mul vl]
	wrffr	p0.b
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	ldr	p\n, [x1, #\n, mul vl]
	.endr
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ldr	z\n, [x0, #\n, mul vl]
	.endr
	ret

	.globl	sve_rdvl
sve_rdvl:
	rdvl	x0, #1
	ret
