// SPDX-License-Identifier: MIT
/*
 * The x86 MMIO instruction decoder: the instruction forms guests (real
 * kernels' drivers among them) use on device memory, with their prefixes
 * and every ModRM/SIB addressing form, in 16-, 32- and 64-bit code. The
 * faulting GPA comes from the exit, so only the length, the operation, the
 * access size, the direction and the register or immediate operand are
 * decoded, never the effective address (MOVS/STOS and PUSH/POP compute
 * theirs from rSI/rDI/rSP in arch/x86/vmx_string_io.c and vmx_mmio.c).
 *
 * Emulated, each as the Intel SDM defines it (flags: arch/x86/mmio_execute.c):
 *   MOV 88/89/8A/8B, C6 /0, C7 /0, A0-A3 (moffs); MOVZX 0F B6/B7; MOVSX
 *	0F BE/BF; MOVSXD 63 (64-bit mode);
 *   ADD OR ADC SBB AND SUB XOR CMP: the r/m forms 00-03, 08-0B, ... 38-3B
 *	(both directions), 80 /n ib, 81 /n iz, 83 /n ib (sign-extended),
 *	82 /n ib outside 64-bit mode;
 *   TEST 84/85 and F6 /0 ib, F7 /0 iz; NOT F6/F7 /2; NEG F6/F7 /3;
 *   INC FE/FF /0; DEC FE/FF /1;
 *   XCHG 86/87; CMPXCHG 0F B0/B1; XADD 0F C0/C1;
 *   BT 0F A3, BTS 0F AB, BTR 0F B3, BTC 0F BB (register bit offset: the CPU
 *	already addressed the word holding the bit) and 0F BA /4-/7 ib;
 *   PUSH FF /6 and POP 8F /0 with a memory operand;
 *   MOVS A4/A5 and STOS AA/AB, with or without REP (F3), any direction,
 *	address size, and a segment override on MOVS's source;
 * with 66, 67, REX (REX.W), segment overrides, and LOCK on the forms the
 * SDM allows it on (a read-modify-write of memory: ADD..XOR but CMP, XCHG,
 * CMPXCHG, XADD, NOT, NEG, INC, DEC, BTS, BTR, BTC).
 *
 * Not emulated, refused whole (-EINVAL, untouched output; the caller
 * injects #UD): register-only forms, REPNE (F2), REP on anything but
 * MOVS/STOS, LOCK elsewhere, LODS/CMPS/SCAS/INS/OUTS to MMIO, shifts and
 * rotates (C0/C1/D0-D3), MUL/DIV (F6/F7 /4-/7), CALL/JMP through memory,
 * CMPXCHG8B/16B, BSF/BSR/POPCNT/..., MOVNTI, and every SSE/AVX/x87 form.
 *
 * Pure code, built into the hypervisor and into the host tests and fuzzer.
 */
#include <lib/errno.h>
#include <arch/x86_decode.h>

/* Reading the instruction bytes without ever going past what is there. */
struct insn_stream {
	const uint8_t *bytes;
	unsigned int avail;	/* min(bytes given, X86_INSN_MAX) */
	unsigned int pos;
};

static bool stream_byte(struct insn_stream *s, uint8_t *b)
{
	if (s->pos >= s->avail) {
		return false;
	}
	*b = s->bytes[s->pos++];
	return true;
}

/* Consume @n bytes as a little-endian number. */
static bool stream_le(struct insn_stream *s, unsigned int n, uint64_t *v)
{
	uint64_t val = 0;

	if (n > s->avail - s->pos) {
		return false;
	}
	for (unsigned int i = 0; i < n; i++) {
		val |= (uint64_t)s->bytes[s->pos + i] << (8 * i);
	}
	s->pos += n;
	*v = val;
	return true;
}

static bool stream_skip(struct insn_stream *s, unsigned int n)
{
	uint64_t unused;

	return n <= 8 ? stream_le(s, n, &unused) : false;
}

/* The prefix state of one instruction. */
struct insn_prefixes {
	bool opsize;		/* 66 */
	bool addrsize;		/* 67 */
	bool lock;		/* F0 */
	bool rep;		/* F3 */
	bool repne;		/* F2 */
	int seg;		/* enum x86_seg of an override, or -1 */
	uint8_t rex;		/* 0, or 0x40-0x4f right before the opcode */
};

#define REX_B		BIT(0)
#define REX_X		BIT(1)
#define REX_R		BIT(2)
#define REX_W		BIT(3)

/* The segment an override prefix names, or -1. */
static int segment_prefix(uint8_t b)
{
	switch (b) {
	case 0x26:
		return X86_SEG_ES;
	case 0x2e:
		return X86_SEG_CS;
	case 0x36:
		return X86_SEG_SS;
	case 0x3e:
		return X86_SEG_DS;
	case 0x64:
		return X86_SEG_FS;
	case 0x65:
		return X86_SEG_GS;
	default:
		return -1;
	}
}

/*
 * Read the legacy prefixes and, in 64-bit mode, a REX prefix. A REX that is
 * followed by a legacy prefix is ignored by the CPU, so only the last REX
 * immediately before the opcode counts. The last segment override wins.
 * Leaves the stream at the opcode, which is returned in *@op.
 */
static int decode_prefixes(struct insn_stream *s, enum x86_cpu_mode mode,
			   struct insn_prefixes *p, uint8_t *op)
{
	uint8_t b;

	*p = (struct insn_prefixes){ .seg = -1 };
	for (;;) {
		if (!stream_byte(s, &b)) {
			return -EINVAL;
		}
		if (b == 0x66) {
			p->opsize = true;
		} else if (b == 0x67) {
			p->addrsize = true;
		} else if (segment_prefix(b) >= 0) {
			p->seg = segment_prefix(b);
		} else if (b == 0xf0) {
			p->lock = true;
		} else if (b == 0xf2) {
			p->repne = true;
		} else if (b == 0xf3) {
			p->rep = true;
		} else if (mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
			p->rex = b;
			continue;
		} else {
			*op = b;
			return 0;
		}
		p->rex = 0;
	}
}

/* Operand size in bytes of a non-byte instruction. */
static unsigned int operand_size(enum x86_cpu_mode mode,
				 const struct insn_prefixes *p)
{
	if (mode == X86_MODE_64 && (p->rex & REX_W)) {
		return 8;
	}
	if (mode == X86_MODE_16) {
		return p->opsize ? 4 : 2;
	}
	return p->opsize ? 2 : 4;
}

/* Address size in bytes (the width of a moffs, and 16-bit ModRM forms). */
static unsigned int address_size(enum x86_cpu_mode mode,
				 const struct insn_prefixes *p)
{
	switch (mode) {
	case X86_MODE_16:
		return p->addrsize ? 4 : 2;
	case X86_MODE_32:
		return p->addrsize ? 2 : 4;
	default:
		return p->addrsize ? 4 : 8;
	}
}

/*
 * Consume a ModRM byte and what follows it for the memory operand (SIB,
 * displacement). Register operands (mod 3) are not memory: refused.
 * Returns the ModRM reg field (0-7) in *@reg.
 */
static int decode_modrm(struct insn_stream *s, unsigned int addr_size,
			unsigned int *reg)
{
	uint8_t modrm, sib, mod, rm;
	unsigned int disp;

	if (!stream_byte(s, &modrm)) {
		return -EINVAL;
	}
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg = (modrm >> 3) & 7;
	if (mod == 3) {
		return -EINVAL;
	}
	if (addr_size == 2) {
		/* [BX+SI] ... [BX]; mod 0 rm 6 is a bare disp16 */
		if (mod == 0) {
			disp = rm == 6 ? 2 : 0;
		} else {
			disp = mod == 1 ? 1 : 2;
		}
		return stream_skip(s, disp) ? 0 : -EINVAL;
	}
	/* 32/64-bit: rm 4 has a SIB; mod 0 rm 5 is disp32 (RIP-relative) */
	disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		if (!stream_byte(s, &sib)) {
			return -EINVAL;
		}
		if (mod == 0 && (sib & 7) == 5) {
			disp = 4;	/* no base register */
		}
	} else if (mod == 0 && rm == 5) {
		disp = 4;
	}
	return stream_skip(s, disp) ? 0 : -EINVAL;
}

/* ModRM.reg as a full-size register operand (REX.R extends it). */
static void set_reg(struct x86_mmio_insn *insn, unsigned int reg,
		    const struct insn_prefixes *p)
{
	insn->reg = reg | ((p->rex & REX_R) ? 8 : 0);
}

/* Register number of ModRM.reg for a byte operand: AH-BH only without REX. */
static void set_byte_reg(struct x86_mmio_insn *insn, unsigned int reg,
			 const struct insn_prefixes *p)
{
	if (!p->rex && reg >= 4) {
		insn->reg = reg - 4;
		insn->reg_high8 = true;
	} else {
		set_reg(insn, reg, p);
	}
}

/* The register operand of a byte (@byte) or operand-size instruction. */
static void set_operand_reg(struct x86_mmio_insn *insn, unsigned int reg,
			    const struct insn_prefixes *p, bool byte)
{
	if (byte) {
		set_byte_reg(insn, reg, p);
	} else {
		set_reg(insn, reg, p);
	}
}

static uint64_t sign_extend(uint64_t val, unsigned int size)
{
	unsigned int shift = 64 - 8 * size;

	return size >= 8 ? val : (uint64_t)((int64_t)(val << shift) >> shift);
}

static uint64_t size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : BIT(8 * size) - 1;
}

/* Read an immediate of @imm_size bytes, sign-extended to insn->size. */
static int read_imm(struct insn_stream *s, unsigned int imm_size,
		    struct x86_mmio_insn *insn)
{
	uint64_t imm;

	if (!stream_le(s, imm_size, &imm)) {
		return -EINVAL;
	}
	insn->has_imm = true;
	insn->imm = sign_extend(imm, imm_size) & size_mask(insn->size);
	return 0;
}

/* The immediate of an Iz operand: 2 or 4 bytes (4 for 64-bit operands). */
static unsigned int iz_size(const struct x86_mmio_insn *insn)
{
	return MIN(insn->size, 4u);
}

/* Memory operand and ModRM.reg register of an "op r/m, r" form. */
static int decode_rm_reg(struct insn_stream *s, enum x86_cpu_mode mode,
			 const struct insn_prefixes *p, bool byte,
			 struct x86_mmio_insn *insn)
{
	unsigned int reg;
	int ret = decode_modrm(s, address_size(mode, p), &reg);

	if (ret) {
		return ret;
	}
	insn->size = byte ? 1 : operand_size(mode, p);
	set_operand_reg(insn, reg, p, byte);
	return 0;
}

static void set_rw(struct x86_mmio_insn *insn, enum x86_mmio_op op,
		   bool read, bool write)
{
	insn->op = op;
	insn->read = read;
	insn->write = write;
}

/* Two-byte opcodes: MOVZX, MOVSX, BT*, CMPXCHG, XADD. */
static int decode_0f(struct insn_stream *s, enum x86_cpu_mode mode,
		     const struct insn_prefixes *p, struct x86_mmio_insn *insn)
{
	static const enum x86_mmio_op bt_ops[] = { X86_OP_BT, X86_OP_BTS,
						   X86_OP_BTR, X86_OP_BTC };
	unsigned int reg;
	uint8_t op;
	int ret;

	if (!stream_byte(s, &op)) {
		return -EINVAL;
	}
	switch (op) {
	case 0xb6: case 0xb7: case 0xbe: case 0xbf:
		ret = decode_modrm(s, address_size(mode, p), &reg);
		if (ret) {
			return ret;
		}
		set_rw(insn, X86_OP_MOV, true, false);
		insn->size = (op & 1) ? 2 : 1;
		insn->dst_size = operand_size(mode, p);
		insn->sign_extend = op >= 0xbe;
		set_reg(insn, reg, p);
		return 0;
	case 0xa3: case 0xab: case 0xb3: case 0xbb:
		set_rw(insn, bt_ops[(op >> 3) & 3], true, op != 0xa3);
		return decode_rm_reg(s, mode, p, false, insn);
	case 0xba:
		ret = decode_modrm(s, address_size(mode, p), &reg);
		if (ret || reg < 4) {
			return -EINVAL;
		}
		set_rw(insn, bt_ops[reg - 4], true, reg != 4);
		insn->size = operand_size(mode, p);
		if (!stream_le(s, 1, &insn->imm)) {
			return -EINVAL;
		}
		insn->has_imm = true;
		return 0;
	case 0xb0: case 0xb1:
		set_rw(insn, X86_OP_CMPXCHG, true, true);
		return decode_rm_reg(s, mode, p, op == 0xb0, insn);
	case 0xc0: case 0xc1:
		set_rw(insn, X86_OP_XADD, true, true);
		return decode_rm_reg(s, mode, p, op == 0xc0, insn);
	default:
		return -EINVAL;
	}
}

/* A0-A3: MOV between AL/eAX and an absolute address of address size. */
static int decode_moffs(struct insn_stream *s, enum x86_cpu_mode mode,
			const struct insn_prefixes *p, uint8_t op,
			struct x86_mmio_insn *insn)
{
	if (!stream_skip(s, address_size(mode, p))) {
		return -EINVAL;
	}
	insn->size = (op & 1) ? operand_size(mode, p) : 1;
	set_rw(insn, X86_OP_MOV, op < 0xa2, op >= 0xa2);
	insn->reg = 0;
	return 0;
}

/* C6 /0 ib and C7 /0 iw/id: store an immediate. */
static int decode_mov_imm(struct insn_stream *s, enum x86_cpu_mode mode,
			  const struct insn_prefixes *p, uint8_t op,
			  struct x86_mmio_insn *insn)
{
	unsigned int reg;
	int ret;

	ret = decode_modrm(s, address_size(mode, p), &reg);
	if (ret) {
		return ret;
	}
	/* the other /reg values are XABORT/XBEGIN (with mod 3) or invalid */
	if (reg != 0) {
		return -EINVAL;
	}
	insn->size = op == 0xc6 ? 1 : operand_size(mode, p);
	set_rw(insn, X86_OP_MOV, false, true);
	return read_imm(s, iz_size(insn), insn);
}

/* 88/89/8A/8B (MOV r/m, r and r, r/m) and 63 (MOVSXD, 64-bit mode only). */
static int decode_mov_modrm(struct insn_stream *s, enum x86_cpu_mode mode,
			    const struct insn_prefixes *p, uint8_t op,
			    struct x86_mmio_insn *insn)
{
	unsigned int reg;
	int ret;

	if (op == 0x63) {
		ret = decode_modrm(s, address_size(mode, p), &reg);
		if (ret) {
			return ret;
		}
		/* without REX.W it is a plain 16/32-bit MOV */
		set_rw(insn, X86_OP_MOV, true, false);
		insn->dst_size = operand_size(mode, p);
		insn->size = MIN(insn->dst_size, 4u);
		insn->sign_extend = insn->dst_size == 8;
		set_reg(insn, reg, p);
		return 0;
	}
	set_rw(insn, X86_OP_MOV, op >= 0x8a, op < 0x8a);
	return decode_rm_reg(s, mode, p, !(op & 1), insn);
}

/* 00-3B: "op r/m, r" (bit 1 clear) and "op r, r/m" (bit 1 set). */
static int decode_alu_modrm(struct insn_stream *s, enum x86_cpu_mode mode,
			    const struct insn_prefixes *p, uint8_t op,
			    struct x86_mmio_insn *insn)
{
	enum x86_mmio_op alu = X86_OP_ADD + ((op >> 3) & 7);

	insn->mem_src = op & 2;
	set_rw(insn, alu, true, !insn->mem_src && alu != X86_OP_CMP);
	return decode_rm_reg(s, mode, p, !(op & 1), insn);
}

/* The memory operand of a group opcode: ModRM.reg (the operation) in *@reg. */
static int decode_group_modrm(struct insn_stream *s, enum x86_cpu_mode mode,
			      const struct insn_prefixes *p, bool byte,
			      struct x86_mmio_insn *insn, unsigned int *reg)
{
	int ret = decode_modrm(s, address_size(mode, p), reg);

	insn->size = byte ? 1 : operand_size(mode, p);
	return ret;
}

/* 80-83 /n: "op r/m, imm" (83: imm8 sign-extended; 82 = 80 outside 64). */
static int decode_group1(struct insn_stream *s, enum x86_cpu_mode mode,
			 const struct insn_prefixes *p, uint8_t op,
			 struct x86_mmio_insn *insn)
{
	unsigned int reg;
	int ret;

	if (op == 0x82 && mode == X86_MODE_64) {
		return -EINVAL;
	}
	ret = decode_group_modrm(s, mode, p, op == 0x80 || op == 0x82, insn,
				 &reg);
	if (ret) {
		return ret;
	}
	set_rw(insn, X86_OP_ADD + reg, true, reg != 7);
	return read_imm(s, op == 0x81 ? iz_size(insn) : 1, insn);
}

/* F6/F7 /0 TEST imm, /2 NOT, /3 NEG (the rest, MUL/DIV, is refused). */
static int decode_group3(struct insn_stream *s, enum x86_cpu_mode mode,
			 const struct insn_prefixes *p, uint8_t op,
			 struct x86_mmio_insn *insn)
{
	unsigned int reg;
	int ret;

	ret = decode_group_modrm(s, mode, p, op == 0xf6, insn, &reg);
	if (ret) {
		return ret;
	}
	switch (reg) {
	case 0:
		set_rw(insn, X86_OP_TEST, true, false);
		return read_imm(s, op == 0xf6 ? 1 : iz_size(insn), insn);
	case 2:
		set_rw(insn, X86_OP_NOT, true, true);
		return 0;
	case 3:
		set_rw(insn, X86_OP_NEG, true, true);
		return 0;
	default:
		return -EINVAL;
	}
}

/* The size of PUSH/POP's operand: 64-bit mode knows only 8 and 2 (66). */
static unsigned int stack_operand_size(enum x86_cpu_mode mode,
				       const struct insn_prefixes *p)
{
	if (mode == X86_MODE_64) {
		return (p->opsize && !(p->rex & REX_W)) ? 2 : 8;
	}
	return operand_size(mode, p);
}

/* FE/FF /0 INC, /1 DEC, FF /6 PUSH, and 8F /0 POP. */
static int decode_group45(struct insn_stream *s, enum x86_cpu_mode mode,
			  const struct insn_prefixes *p, uint8_t op,
			  struct x86_mmio_insn *insn)
{
	unsigned int reg;
	int ret;

	ret = decode_group_modrm(s, mode, p, op == 0xfe, insn, &reg);
	if (ret) {
		return ret;
	}
	if (op == 0x8f && reg == 0) {
		set_rw(insn, X86_OP_POP, false, true);
		insn->size = stack_operand_size(mode, p);
	} else if (op == 0xff && reg == 6) {
		set_rw(insn, X86_OP_PUSH, true, false);
		insn->size = stack_operand_size(mode, p);
	} else if (op != 0x8f && reg <= 1) {
		set_rw(insn, reg ? X86_OP_DEC : X86_OP_INC, true, true);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* A4/A5 MOVS, AA/AB STOS: no operand bytes; registers and prefixes. */
static int decode_string(enum x86_cpu_mode mode, const struct insn_prefixes *p,
			 uint8_t op, struct x86_mmio_insn *insn)
{
	bool movs = op <= 0xa5;

	set_rw(insn, movs ? X86_OP_MOVS : X86_OP_STOS, movs, true);
	insn->size = (op & 1) ? operand_size(mode, p) : 1;
	insn->rep = p->rep;
	insn->reg = 0;
	return 0;
}

static int decode_opcode(struct insn_stream *s, enum x86_cpu_mode mode,
			 const struct insn_prefixes *p, uint8_t op,
			 struct x86_mmio_insn *insn)
{
	if (op < 0x40 && (op & 7) < 4) {
		return decode_alu_modrm(s, mode, p, op, insn);
	}
	switch (op) {
	case 0x0f:
		return decode_0f(s, mode, p, insn);
	case 0x63:
		return mode == X86_MODE_64 ?
		       decode_mov_modrm(s, mode, p, op, insn) : -EINVAL;
	case 0x80: case 0x81: case 0x82: case 0x83:
		return decode_group1(s, mode, p, op, insn);
	case 0x84: case 0x85:
		set_rw(insn, X86_OP_TEST, true, false);
		return decode_rm_reg(s, mode, p, op == 0x84, insn);
	case 0x86: case 0x87:
		set_rw(insn, X86_OP_XCHG, true, true);
		return decode_rm_reg(s, mode, p, op == 0x86, insn);
	case 0x88: case 0x89: case 0x8a: case 0x8b:
		return decode_mov_modrm(s, mode, p, op, insn);
	case 0x8f: case 0xfe: case 0xff:
		return decode_group45(s, mode, p, op, insn);
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		return decode_moffs(s, mode, p, op, insn);
	case 0xa4: case 0xa5: case 0xaa: case 0xab:
		return decode_string(mode, p, op, insn);
	case 0xc6: case 0xc7:
		return decode_mov_imm(s, mode, p, op, insn);
	case 0xf6: case 0xf7:
		return decode_group3(s, mode, p, op, insn);
	default:
		return -EINVAL;
	}
}

/* LOCK is legal only on a read-modify-write of memory (SDM, LOCK). */
static bool lock_allowed(const struct x86_mmio_insn *insn)
{
	switch (insn->op) {
	case X86_OP_MOV:
	case X86_OP_TEST:
	case X86_OP_BT:
	case X86_OP_PUSH:
	case X86_OP_POP:
	case X86_OP_MOVS:
	case X86_OP_STOS:
		return false;
	default:
		return insn->read && insn->write;
	}
}

static bool prefixes_allowed(const struct insn_prefixes *p,
			     const struct x86_mmio_insn *insn)
{
	bool string = insn->op == X86_OP_MOVS || insn->op == X86_OP_STOS;

	if (p->repne || (p->rep && !string)) {
		return false;
	}
	return !p->lock || lock_allowed(insn);
}

int x86_decode_mmio(const uint8_t *bytes, unsigned int avail,
		    enum x86_cpu_mode mode, struct x86_mmio_insn *out)
{
	struct insn_stream s = { bytes, MIN(avail, (unsigned int)X86_INSN_MAX),
				 0 };
	struct x86_mmio_insn insn = { 0 };
	struct insn_prefixes p;
	uint8_t op;
	int ret;

	if (mode != X86_MODE_16 && mode != X86_MODE_32 &&
	    mode != X86_MODE_64) {
		return -EINVAL;
	}
	ret = decode_prefixes(&s, mode, &p, &op);
	if (ret) {
		return ret;
	}
	ret = decode_opcode(&s, mode, &p, op, &insn);
	if (ret || !prefixes_allowed(&p, &insn)) {
		return -EINVAL;
	}
	if (!insn.dst_size) {
		insn.dst_size = insn.size;
	}
	insn.len = s.pos;
	insn.lock = p.lock;
	insn.addr_size = address_size(mode, &p);
	insn.seg = p.seg >= 0 ? (enum x86_seg)p.seg : X86_SEG_DS;
	*out = insn;
	return 0;
}

uint64_t x86_mmio_store_value(const struct x86_mmio_insn *insn,
			      const uint64_t gprs[X86_NR_GPRS])
{
	uint64_t val;

	if (insn->has_imm) {
		return insn->imm & size_mask(insn->size);
	}
	val = gprs[insn->reg % X86_NR_GPRS];
	if (insn->reg_high8) {
		val >>= 8;
	}
	return val & size_mask(insn->size);
}

void x86_mmio_complete_load(const struct x86_mmio_insn *insn, uint64_t val,
			    uint64_t gprs[X86_NR_GPRS])
{
	uint64_t *r = &gprs[insn->reg % X86_NR_GPRS];
	uint64_t mask;

	val &= size_mask(insn->size);
	if (insn->sign_extend) {
		val = sign_extend(val, insn->size);
	}
	switch (insn->dst_size) {
	case 1:
		mask = insn->reg_high8 ? 0xff00 : 0xff;
		val = insn->reg_high8 ? (val & 0xff) << 8 : val & 0xff;
		*r = (*r & ~mask) | val;
		break;
	case 2:
		*r = (*r & ~0xffffULL) | (val & 0xffff);
		break;
	case 4:
		/* a 32-bit register write clears bits 63:32 */
		*r = val & 0xffffffffULL;
		break;
	default:
		*r = val;
		break;
	}
}
