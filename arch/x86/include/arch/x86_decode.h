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

/*
 * What a decoded instruction does. X86_OP_ADD..X86_OP_CMP are in the order
 * of the group-1 ModRM.reg field (80/81/83 /0../7) and of opcode bits 5:3 of
 * the 00-3D family.
 */
enum x86_mmio_op {
	X86_OP_MOV,		/* MOV, MOVZX, MOVSX, MOVSXD */
	X86_OP_ADD,
	X86_OP_OR,
	X86_OP_ADC,
	X86_OP_SBB,
	X86_OP_AND,
	X86_OP_SUB,
	X86_OP_XOR,
	X86_OP_CMP,
	X86_OP_TEST,
	X86_OP_NOT,
	X86_OP_NEG,
	X86_OP_INC,
	X86_OP_DEC,
	X86_OP_XCHG,
	X86_OP_CMPXCHG,
	X86_OP_XADD,
	X86_OP_BT,
	X86_OP_BTS,
	X86_OP_BTR,
	X86_OP_BTC,
	X86_OP_PUSH,		/* FF /6: memory operand read, stack written */
	X86_OP_POP,		/* 8F /0: stack read, memory operand written */
	X86_OP_MOVS,		/* A4/A5: DS:rSI (or override) to ES:rDI */
	X86_OP_STOS,		/* AA/AB: AL/eAX to ES:rDI */
};

/* Segment registers in encoding order (the override prefixes' numbers). */
enum x86_seg {
	X86_SEG_ES,
	X86_SEG_CS,
	X86_SEG_SS,
	X86_SEG_DS,
	X86_SEG_FS,
	X86_SEG_GS,
};

/* RFLAGS bits the emulated instructions read or write. */
#define X86_FLAG_CF	BIT(0)
#define X86_FLAG_PF	BIT(2)
#define X86_FLAG_AF	BIT(4)
#define X86_FLAG_ZF	BIT(6)
#define X86_FLAG_SF	BIT(7)
#define X86_FLAG_DF	BIT(10)
#define X86_FLAG_OF	BIT(11)
#define X86_FLAGS_ARITH	(X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | \
			 X86_FLAG_ZF | X86_FLAG_SF | X86_FLAG_OF)

/**
 * struct x86_mmio_insn - one decoded MMIO instruction.
 * @len: instruction length in bytes (RIP advances by this much).
 * @op: what it does (enum x86_mmio_op).
 * @size: memory operand size in bytes (1, 2, 4, 8).
 * @read: the memory operand is read (a MOV load, every ALU form, ...).
 * @write: the memory operand is written (a MOV store, the read-modify-write
 *	forms, CMPXCHG always: the SDM writes the old value back on failure).
 *	A read-modify-write reads first, then writes once.
 * @mem_src: the register is the destination and memory the source
 *	(02/03-style ALU forms, "op r, r/m"); else memory is the first operand.
 * @has_imm: the source is the immediate @imm, not register @reg.
 * @imm: the immediate, already sign-extended to @size bytes' worth (for
 *	BT/BTS/BTR/BTC imm8, the bit offset as encoded).
 * @reg: register number (0-15) of the register operand.
 * @reg_high8: @reg is AH/CH/DH/BH (legacy high byte, no REX).
 * @dst_size: bytes written to @reg by a load (MOVZX/MOVSX: the operand
 *	size, else @size).
 * @sign_extend: MOVSX/MOVSXD: sign-extend the loaded value.
 * @lock: a LOCK prefix (accepted on the locked read-modify-write forms).
 * @rep: a REP (F3) prefix on MOVS/STOS.
 * @addr_size: address size in bytes (2, 4, 8): the width of rSI, rDI, rCX
 *	for MOVS/STOS.
 * @seg: the segment of MOVS's source: DS or the override prefix.
 */
struct x86_mmio_insn {
	unsigned int len;
	enum x86_mmio_op op;
	unsigned int size;
	bool read;
	bool write;
	bool mem_src;
	bool has_imm;
	uint64_t imm;
	unsigned int reg;
	bool reg_high8;
	unsigned int dst_size;
	bool sign_extend;
	bool lock;
	bool rep;
	unsigned int addr_size;
	enum x86_seg seg;
};

/*
 * Decode @bytes (@avail of them valid, at most X86_INSN_MAX used) as one of
 * the instructions guests use on device memory (the list is at the top of
 * arch/x86/decode.c), with legacy prefixes and REX, in every ModRM/SIB
 * addressing form. Return: 0, or -EINVAL for anything else (the caller
 * refuses the access; nothing is half-decoded).
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

/*
 * Execute a decoded instruction other than PUSH, POP, MOVS and STOS
 * (arch/x86/mmio_execute.c) on @mem, the value read from the memory operand
 * (zero-extended; ignored unless insn->read): update the registers in
 * @gprs and the arithmetic flags in *@rflags as the SDM defines them (flags
 * the SDM leaves undefined keep their old value; CF and DF are read).
 * Return: the value to write to the memory operand when insn->write.
 */
uint64_t x86_mmio_execute(const struct x86_mmio_insn *insn, uint64_t mem,
			  uint64_t gprs[X86_NR_GPRS], uint64_t *rflags);

#endif
