// SPDX-License-Identifier: MIT
/*
 * Executing a decoded MMIO instruction (arch/x86/decode.c) on the value read
 * from the device: the result to write back, the register results and the
 * arithmetic flags, as the Intel SDM defines each instruction. Flags the
 * SDM leaves undefined (AF after AND/OR/XOR/TEST; OF, SF, AF, PF after
 * BT/BTS/BTR/BTC) keep their old value; ZF is unaffected by BT*.
 *
 * Pure code, built into the hypervisor and into the host tests and fuzzer,
 * which check it against the host CPU executing the same instructions.
 */
#include <arch/x86_decode.h>

static uint64_t mask_of(unsigned int size)
{
	return size >= 8 ? ~0ULL : BIT(8 * size) - 1;
}

static uint64_t sign_bit(unsigned int size)
{
	return BIT(8 * size - 1);
}

/* PF, ZF, SF of @res (already masked to @size). */
static uint64_t result_flags(uint64_t res, unsigned int size)
{
	uint64_t f = 0;

	if (!(__builtin_popcountll(res & 0xff) & 1)) {
		f |= X86_FLAG_PF;
	}
	if (!res) {
		f |= X86_FLAG_ZF;
	}
	if (res & sign_bit(size)) {
		f |= X86_FLAG_SF;
	}
	return f;
}

/* @a + @b + @carry in @size bytes: the sum and all six flags in *@f. */
static uint64_t alu_add(uint64_t a, uint64_t b, unsigned int carry,
			unsigned int size, uint64_t *f)
{
	uint64_t m = mask_of(size);
	uint64_t res = (a + b + carry) & m;
	bool cf = carry ? res <= a : res < a;

	*f = result_flags(res, size) | (cf ? X86_FLAG_CF : 0) |
	     ((a ^ b ^ res) & X86_FLAG_AF) |
	     (((a ^ res) & (b ^ res) & sign_bit(size)) ? X86_FLAG_OF : 0);
	return res;
}

/* @a - @b - @borrow in @size bytes (SUB, SBB, CMP, NEG, DEC). */
static uint64_t alu_sub(uint64_t a, uint64_t b, unsigned int borrow,
			unsigned int size, uint64_t *f)
{
	uint64_t m = mask_of(size);
	uint64_t res = (a - b - borrow) & m;
	bool cf = borrow ? a <= b : a < b;

	*f = result_flags(res, size) | (cf ? X86_FLAG_CF : 0) |
	     ((a ^ b ^ res) & X86_FLAG_AF) |
	     (((a ^ b) & (a ^ res) & sign_bit(size)) ? X86_FLAG_OF : 0);
	return res;
}

/*
 * The eight group-1 operations on @a (first operand) and @b; *@f gets the
 * flags they define (CF, OF cleared and AF left alone for the logic ones).
 */
static uint64_t alu_group1(enum x86_mmio_op op, uint64_t a, uint64_t b,
			   unsigned int size, uint64_t rflags, uint64_t *f)
{
	unsigned int cf = rflags & X86_FLAG_CF;
	uint64_t res;

	switch (op) {
	case X86_OP_ADD:
		return alu_add(a, b, 0, size, f);
	case X86_OP_ADC:
		return alu_add(a, b, cf, size, f);
	case X86_OP_SUB:
	case X86_OP_CMP:
		return alu_sub(a, b, 0, size, f);
	case X86_OP_SBB:
		return alu_sub(a, b, cf, size, f);
	case X86_OP_OR:
		res = a | b;
		break;
	case X86_OP_XOR:
		res = a ^ b;
		break;
	default:	/* AND, TEST */
		res = a & b;
		break;
	}
	*f = result_flags(res, size) | (rflags & X86_FLAG_AF);
	return res;
}

/* The register operand's value, @size bytes (AH..BH for high bytes). */
static uint64_t reg_value(const struct x86_mmio_insn *insn,
			  const uint64_t gprs[X86_NR_GPRS])
{
	uint64_t val = gprs[insn->reg % X86_NR_GPRS];

	return (insn->reg_high8 ? val >> 8 : val) & mask_of(insn->size);
}

/* Write @val to register @reg as an @size-byte destination would. */
static void set_reg_value(const struct x86_mmio_insn *insn, unsigned int reg,
			  bool high8, uint64_t val, uint64_t gprs[X86_NR_GPRS])
{
	struct x86_mmio_insn dst = {
		.op = X86_OP_MOV,
		.size = insn->size,
		.dst_size = insn->size,
		.reg = reg,
		.reg_high8 = high8,
	};

	x86_mmio_complete_load(&dst, val, gprs);
}

/* BT/BTS/BTR/BTC: CF is the bit; the result is the word with it changed. */
static uint64_t bit_op(const struct x86_mmio_insn *insn, uint64_t mem,
		       const uint64_t gprs[X86_NR_GPRS], uint64_t *flags)
{
	/*
	 * A register offset may reach beyond the operand: the CPU has already
	 * addressed the word holding the bit (the exit's GPA), so only the
	 * offset within the word is left. Two's complement makes the mask
	 * right for negative offsets too.
	 */
	uint64_t off = insn->has_imm ? insn->imm : gprs[insn->reg % X86_NR_GPRS];
	uint64_t bit = BIT(off & (8 * insn->size - 1));

	*flags = (*flags & ~X86_FLAG_CF) | ((mem & bit) ? X86_FLAG_CF : 0);
	switch (insn->op) {
	case X86_OP_BTS:
		return mem | bit;
	case X86_OP_BTR:
		return mem & ~bit;
	case X86_OP_BTC:
		return mem ^ bit;
	default:
		return mem;
	}
}

/* CMPXCHG: compare with the accumulator; on failure load it (SDM). */
static uint64_t cmpxchg(const struct x86_mmio_insn *insn, uint64_t mem,
			uint64_t gprs[X86_NR_GPRS], uint64_t *f)
{
	uint64_t acc = gprs[0] & mask_of(insn->size);

	alu_sub(acc, mem, 0, insn->size, f);
	if (*f & X86_FLAG_ZF) {
		return reg_value(insn, gprs);
	}
	set_reg_value(insn, 0, false, mem, gprs);
	/* the processor writes the destination back either way */
	return mem;
}

/* Everything but MOV and the bit tests: the result and *@f (all six). */
static uint64_t alu_execute(const struct x86_mmio_insn *insn, uint64_t mem,
			    uint64_t gprs[X86_NR_GPRS], uint64_t rflags,
			    uint64_t *f)
{
	unsigned int size = insn->size;
	uint64_t src = insn->has_imm ? insn->imm & mask_of(size) :
				       reg_value(insn, gprs);
	uint64_t old = rflags & X86_FLAGS_ARITH, res;

	switch (insn->op) {
	case X86_OP_NOT:
		*f = old;
		return ~mem;
	case X86_OP_NEG:
		return alu_sub(0, mem, 0, size, f);
	case X86_OP_INC:
	case X86_OP_DEC:
		res = insn->op == X86_OP_INC ? alu_add(mem, 1, 0, size, f) :
					       alu_sub(mem, 1, 0, size, f);
		*f = (*f & ~X86_FLAG_CF) | (old & X86_FLAG_CF);
		return res;
	case X86_OP_XCHG:
		*f = old;
		set_reg_value(insn, insn->reg, insn->reg_high8, mem, gprs);
		return src;
	case X86_OP_XADD:
		res = alu_add(mem, src, 0, size, f);
		set_reg_value(insn, insn->reg, insn->reg_high8, mem, gprs);
		return res;
	case X86_OP_CMPXCHG:
		return cmpxchg(insn, mem, gprs, f);
	default:
		break;
	}
	/* group 1 and TEST */
	if (!insn->mem_src) {
		return alu_group1(insn->op, mem, src, size, rflags, f);
	}
	res = alu_group1(insn->op, src, mem, size, rflags, f);
	if (insn->op != X86_OP_CMP) {
		set_reg_value(insn, insn->reg, insn->reg_high8, res, gprs);
	}
	return mem;
}

uint64_t x86_mmio_execute(const struct x86_mmio_insn *insn, uint64_t mem,
			  uint64_t gprs[X86_NR_GPRS], uint64_t *rflags)
{
	uint64_t m = mask_of(insn->size), f = *rflags & X86_FLAGS_ARITH;
	uint64_t res;

	mem &= m;
	switch (insn->op) {
	case X86_OP_MOV:
	case X86_OP_STOS:
		if (insn->read) {
			x86_mmio_complete_load(insn, mem, gprs);
			return 0;
		}
		return x86_mmio_store_value(insn, gprs);
	case X86_OP_BT:
	case X86_OP_BTS:
	case X86_OP_BTR:
	case X86_OP_BTC:
		res = bit_op(insn, mem, gprs, &f);
		break;
	case X86_OP_PUSH:
	case X86_OP_POP:
	case X86_OP_MOVS:
		/* memory to memory: arch/x86/vmx_mmio.c, vmx_string_io.c */
		return mem;
	default:
		res = alu_execute(insn, mem, gprs, *rflags, &f);
		break;
	}
	*rflags = (*rflags & ~X86_FLAGS_ARITH) | (f & X86_FLAGS_ARITH);
	return res & m;
}
