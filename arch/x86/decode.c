// SPDX-License-Identifier: MIT
/*
 * The x86 MMIO instruction decoder: the few instruction forms guests use on
 * device memory (MOV, MOVZX, MOVSX, MOVSXD), with their prefixes and every
 * ModRM/SIB addressing form, in 16-, 32- and 64-bit code. The faulting GPA
 * comes from the exit, so only the length, the access size, the direction
 * and the register or immediate are decoded, never the effective address.
 * Anything else is refused whole: -EINVAL and an untouched output.
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
	uint8_t rex;		/* 0, or 0x40-0x4f right before the opcode */
};

#define REX_B		BIT(0)
#define REX_X		BIT(1)
#define REX_R		BIT(2)
#define REX_W		BIT(3)

static bool is_segment_prefix(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x64 || b == 0x65;
}

/*
 * Read the legacy prefixes and, in 64-bit mode, a REX prefix. A REX that is
 * followed by a legacy prefix is ignored by the CPU, so only the last REX
 * immediately before the opcode counts. LOCK and REP/REPNE are refused.
 * Leaves the stream at the opcode, which is returned in *@op.
 */
static int decode_prefixes(struct insn_stream *s, enum x86_cpu_mode mode,
			   struct insn_prefixes *p, uint8_t *op)
{
	uint8_t b;

	*p = (struct insn_prefixes){ 0 };
	for (;;) {
		if (!stream_byte(s, &b)) {
			return -EINVAL;
		}
		if (b == 0x66) {
			p->opsize = true;
		} else if (b == 0x67) {
			p->addrsize = true;
		} else if (is_segment_prefix(b)) {
			/* the exit gives the GPA: segments do not matter */
		} else if (b == 0xf0 || b == 0xf2 || b == 0xf3) {
			return -EINVAL;
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

/* Register number of ModRM.reg for a byte operand: AH-BH only without REX. */
static void set_byte_reg(struct x86_mmio_insn *insn, unsigned int reg,
			 const struct insn_prefixes *p)
{
	if (!p->rex && reg >= 4) {
		insn->reg = reg - 4;
		insn->reg_high8 = true;
	} else {
		insn->reg = reg | ((p->rex & REX_R) ? 8 : 0);
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

/* Two-byte opcodes: MOVZX (0F B6/B7) and MOVSX (0F BE/BF). */
static int decode_0f(struct insn_stream *s, enum x86_cpu_mode mode,
		     const struct insn_prefixes *p, struct x86_mmio_insn *insn)
{
	unsigned int reg;
	uint8_t op;
	int ret;

	if (!stream_byte(s, &op)) {
		return -EINVAL;
	}
	if (op != 0xb6 && op != 0xb7 && op != 0xbe && op != 0xbf) {
		return -EINVAL;
	}
	ret = decode_modrm(s, address_size(mode, p), &reg);
	if (ret) {
		return ret;
	}
	insn->size = (op & 1) ? 2 : 1;
	insn->dst_size = operand_size(mode, p);
	insn->sign_extend = op >= 0xbe;
	insn->reg = reg | ((p->rex & REX_R) ? 8 : 0);
	return 0;
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
	insn->dst_size = insn->size;
	insn->write = op >= 0xa2;
	insn->reg = 0;
	return 0;
}

/* C6 /0 ib and C7 /0 iw/id: store an immediate. */
static int decode_mov_imm(struct insn_stream *s, enum x86_cpu_mode mode,
			  const struct insn_prefixes *p, uint8_t op,
			  struct x86_mmio_insn *insn)
{
	unsigned int reg, imm_size;
	uint64_t imm;
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
	imm_size = MIN(insn->size, 4u);
	if (!stream_le(s, imm_size, &imm)) {
		return -EINVAL;
	}
	insn->write = true;
	insn->has_imm = true;
	insn->imm = sign_extend(imm, imm_size) & size_mask(insn->size);
	insn->dst_size = insn->size;
	return 0;
}

/* 88/89/8A/8B (MOV r/m, r and r, r/m) and 63 (MOVSXD, 64-bit mode only). */
static int decode_mov_modrm(struct insn_stream *s, enum x86_cpu_mode mode,
			    const struct insn_prefixes *p, uint8_t op,
			    struct x86_mmio_insn *insn)
{
	unsigned int reg;
	int ret;

	ret = decode_modrm(s, address_size(mode, p), &reg);
	if (ret) {
		return ret;
	}
	if (op == 0x63) {
		/* without REX.W it is a plain 16/32-bit MOV */
		insn->dst_size = operand_size(mode, p);
		insn->size = MIN(insn->dst_size, 4u);
		insn->sign_extend = insn->dst_size == 8;
		insn->reg = reg | ((p->rex & REX_R) ? 8 : 0);
		return 0;
	}
	insn->write = op == 0x88 || op == 0x89;
	if (op == 0x88 || op == 0x8a) {
		insn->size = 1;
		set_byte_reg(insn, reg, p);
	} else {
		insn->size = operand_size(mode, p);
		insn->reg = reg | ((p->rex & REX_R) ? 8 : 0);
	}
	insn->dst_size = insn->size;
	return 0;
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
	switch (op) {
	case 0x0f:
		ret = decode_0f(&s, mode, &p, &insn);
		break;
	case 0x63:
		ret = mode == X86_MODE_64 ?
		      decode_mov_modrm(&s, mode, &p, op, &insn) : -EINVAL;
		break;
	case 0x88: case 0x89: case 0x8a: case 0x8b:
		ret = decode_mov_modrm(&s, mode, &p, op, &insn);
		break;
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		ret = decode_moffs(&s, mode, &p, op, &insn);
		break;
	case 0xc6: case 0xc7:
		ret = decode_mov_imm(&s, mode, &p, op, &insn);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret) {
		return ret;
	}
	insn.len = s.pos;
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
