/* SPDX-License-Identifier: MIT */
/*
 * Decoding the instruction that made an MMIO access (arch/x86/decode.c), for
 * the EPT-misconfiguration and EPT-violation exits. Pure functions: they see
 * only the instruction bytes and the guest registers given to them, so the
 * host unit test and the libFuzzer target link them as they are.
 */
#ifndef STRATA_ARCH_X86_DECODE_H
#define STRATA_ARCH_X86_DECODE_H

#include <types.h>

#define X86_INSN_MAX	15

/* The guest's code size (CS.L / CS.D). */
enum x86_cpu_mode {
	X86_MODE_16,
	X86_MODE_32,
	X86_MODE_64,
};

/* General registers in encoding order: RAX=0, RCX=1, ... R15=15. */
#define X86_NR_GPRS	16

/**
 * struct x86_mmio_insn - one decoded MMIO instruction.
 * @len: instruction length in bytes (RIP advances by this much).
 * @size: access size in bytes (1, 2, 4, 8).
 * @write: store (true) or load.
 * @has_imm: a store of the immediate @imm (MOV r/m, imm).
 * @imm: the immediate, already sign-extended to @size bytes' worth.
 * @reg: register number (0-15) loaded into or stored from.
 * @reg_high8: @reg is AH/CH/DH/BH (legacy high byte, no REX).
 * @dst_size: bytes written to @reg by a load (MOVZX/MOVSX: the operand
 *	size, else @size).
 * @sign_extend: MOVSX/MOVSXD: sign-extend the loaded value.
 */
struct x86_mmio_insn {
	unsigned int len;
	unsigned int size;
	bool write;
	bool has_imm;
	uint64_t imm;
	unsigned int reg;
	bool reg_high8;
	unsigned int dst_size;
	bool sign_extend;
};

/*
 * Decode @bytes (@avail of them valid, at most X86_INSN_MAX used) as an
 * instruction guests use on device memory: MOV (88, 89, 8A, 8B, C6 /0,
 * C7 /0, A0-A3 moffs), MOVZX (0F B6/B7), MOVSX (0F BE/BF), MOVSXD (63) with
 * legacy prefixes (66, 67, segment overrides, REP/LOCK refused) and REX, in
 * every ModRM/SIB addressing form. Return: 0, or -EINVAL for anything else
 * (the caller refuses the access; nothing is half-decoded).
 */
int x86_decode_mmio(const uint8_t *bytes, unsigned int avail,
		    enum x86_cpu_mode mode, struct x86_mmio_insn *out);

/* The value a decoded store writes (register or immediate, @size bytes). */
uint64_t x86_mmio_store_value(const struct x86_mmio_insn *insn,
			      const uint64_t gprs[X86_NR_GPRS]);

/*
 * Complete a decoded load of @val (zero-extended from insn->size): write the
 * register with x86 semantics (32-bit writes clear bits 63:32, 8- and 16-bit
 * writes keep the rest, high-byte registers, sign/zero extension).
 */
void x86_mmio_complete_load(const struct x86_mmio_insn *insn, uint64_t val,
			    uint64_t gprs[X86_NR_GPRS]);

#endif
