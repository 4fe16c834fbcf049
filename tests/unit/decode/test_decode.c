// SPDX-License-Identifier: MIT
/*
 * Host tests of the x86 MMIO instruction decoder (arch/x86/decode.c): a
 * table of real encodings (assembled with GNU as when the test was written),
 * refusals, truncations, and the register write semantics of completed
 * loads checked against the host CPU executing the same instructions.
 */
#include <string.h>

#include <lib/errno.h>
#include <arch/x86_decode.h>
#include "harness.h"

struct good_case {
	int mode;		/* 16, 32, 64 */
	const char *text;	/* what `as` assembled */
	uint8_t bytes[X86_INSN_MAX];
	unsigned int len, size;
	int write, has_imm;
	uint64_t imm;
	unsigned int reg;
	int high8;
	unsigned int dst_size;
	int sign_extend;
};

static const struct good_case good[] = {
	{ 64, "mov %al,(%rax)", { 0x88, 0x00 }, 2, 1, 1, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 64, "mov %ah,(%rbx)", { 0x88, 0x23 }, 2, 1, 1, 0, 0x0ULL, 0, 1, 1, 0 },
	{ 64, "mov %bh,0x10(%rsi)", { 0x88, 0x7e, 0x10 }, 3, 1, 1, 0, 0x0ULL, 3, 1, 1, 0 },
	{ 64, "mov %spl,(%rdi)", { 0x40, 0x88, 0x27 }, 3, 1, 1, 0, 0x0ULL, 4, 0, 1, 0 },
	{ 64, "mov %dil,(%rdi)", { 0x40, 0x88, 0x3f }, 3, 1, 1, 0, 0x0ULL, 7, 0, 1, 0 },
	{ 64, "mov %r9b,(%rdi)", { 0x44, 0x88, 0x0f }, 3, 1, 1, 0, 0x0ULL, 9, 0, 1, 0 },
	{ 64, "mov %r15b,(%r15)", { 0x45, 0x88, 0x3f }, 3, 1, 1, 0, 0x0ULL, 15, 0, 1, 0 },
	{ 64, "mov %cx,(%rdx)", { 0x66, 0x89, 0x0a }, 3, 2, 1, 0, 0x0ULL, 1, 0, 2, 0 },
	{ 64, "mov %ecx,(%rdx)", { 0x89, 0x0a }, 2, 4, 1, 0, 0x0ULL, 1, 0, 4, 0 },
	{ 64, "mov %rcx,(%rdx)", { 0x48, 0x89, 0x0a }, 3, 8, 1, 0, 0x0ULL, 1, 0, 8, 0 },
	{ 64, "mov %r12,0x12345678(%r13,%r14,8)", { 0x4f, 0x89, 0xa4, 0xf5, 0x78, 0x56, 0x34, 0x12 }, 8, 8, 1, 0, 0x0ULL, 12, 0, 8, 0 },
	{ 64, "mov %r11d,-8(%rbp)", { 0x44, 0x89, 0x5d, 0xf8 }, 4, 4, 1, 0, 0x0ULL, 11, 0, 4, 0 },
	{ 64, "mov %r10w,(%rsp)", { 0x66, 0x44, 0x89, 0x14, 0x24 }, 5, 2, 1, 0, 0x0ULL, 10, 0, 2, 0 },
	{ 64, "mov %esi,0x1000(%rip)", { 0x89, 0x35, 0x00, 0x10, 0x00, 0x00 }, 6, 4, 1, 0, 0x0ULL, 6, 0, 4, 0 },
	{ 64, "mov %rsi,0x0(,%rax,4)", { 0x48, 0x89, 0x34, 0x85, 0x00, 0x00, 0x00, 0x00 }, 8, 8, 1, 0, 0x0ULL, 6, 0, 8, 0 },
	{ 64, "mov %edx,0x7f(%rax,%rbx,2)", { 0x89, 0x54, 0x58, 0x7f }, 4, 4, 1, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 64, "mov %edx,(%r12)", { 0x41, 0x89, 0x14, 0x24 }, 4, 4, 1, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 64, "mov %edx,(%r13)", { 0x41, 0x89, 0x55, 0x00 }, 4, 4, 1, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 64, "mov %edx,(%rbp,%r12,1)", { 0x42, 0x89, 0x54, 0x25, 0x00 }, 5, 4, 1, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 64, "mov %edx,%fs:(%rax)", { 0x64, 0x89, 0x10 }, 3, 4, 1, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 64, "mov %edx,%gs:0x80(%rax)", { 0x65, 0x89, 0x90, 0x80, 0x00, 0x00, 0x00 }, 7, 4, 1, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 64, "mov %edx,(%eax)", { 0x67, 0x89, 0x10 }, 3, 4, 1, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 64, "mov %rax,0xfe000000", { 0x48, 0xa3, 0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 10, 8, 1, 0, 0x0ULL, 0, 0, 8, 0 },
	{ 64, "mov (%rax),%al", { 0x8a, 0x00 }, 2, 1, 0, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 64, "mov (%rax),%ch", { 0x8a, 0x28 }, 2, 1, 0, 0, 0x0ULL, 1, 1, 1, 0 },
	{ 64, "mov (%rax),%bpl", { 0x40, 0x8a, 0x28 }, 3, 1, 0, 0, 0x0ULL, 5, 0, 1, 0 },
	{ 64, "mov (%rax),%r8b", { 0x44, 0x8a, 0x00 }, 3, 1, 0, 0, 0x0ULL, 8, 0, 1, 0 },
	{ 64, "mov (%rax),%bx", { 0x66, 0x8b, 0x18 }, 3, 2, 0, 0, 0x0ULL, 3, 0, 2, 0 },
	{ 64, "mov (%rax),%ebx", { 0x8b, 0x18 }, 2, 4, 0, 0, 0x0ULL, 3, 0, 4, 0 },
	{ 64, "mov (%rax),%rbx", { 0x48, 0x8b, 0x18 }, 3, 8, 0, 0, 0x0ULL, 3, 0, 8, 0 },
	{ 64, "mov -0x80(%rip),%r14", { 0x4c, 0x8b, 0x35, 0x80, 0xff, 0xff, 0xff }, 7, 8, 0, 0, 0x0ULL, 14, 0, 8, 0 },
	{ 64, "mov 0x11223344(%rax,%rcx,8),%r8d", { 0x44, 0x8b, 0x84, 0xc8, 0x44, 0x33, 0x22, 0x11 }, 8, 4, 0, 0, 0x0ULL, 8, 0, 4, 0 },
	{ 64, "movb $0x5a,(%rax)", { 0xc6, 0x00, 0x5a }, 3, 1, 1, 1, 0x5aULL, 0, 0, 1, 0 },
	{ 64, "movw $0xbeef,(%rax)", { 0x66, 0xc7, 0x00, 0xef, 0xbe }, 5, 2, 1, 1, 0xbeefULL, 0, 0, 2, 0 },
	{ 64, "movl $0xdeadbeef,(%rax)", { 0xc7, 0x00, 0xef, 0xbe, 0xad, 0xde }, 6, 4, 1, 1, 0xdeadbeefULL, 0, 0, 4, 0 },
	{ 64, "movq $-2,(%rax)", { 0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff }, 7, 8, 1, 1, 0xfffffffffffffffeULL, 0, 0, 8, 0 },
	{ 64, "movq $0x7fffffff,0x10(%r9,%r10,4)", { 0x4b, 0xc7, 0x44, 0x91, 0x10, 0xff, 0xff, 0xff, 0x7f }, 9, 8, 1, 1, 0x7fffffffULL, 0, 0, 8, 0 },
	{ 64, "movl $0x12345678,0x100(%rip)", { 0xc7, 0x05, 0x00, 0x01, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12 }, 10, 4, 1, 1, 0x12345678ULL, 0, 0, 4, 0 },
	{ 64, "movb $0x1,%es:0x1(%rax)", { 0x26, 0xc6, 0x40, 0x01, 0x01 }, 5, 1, 1, 1, 0x1ULL, 0, 0, 1, 0 },
	{ 64, "movabs 0xfe000000,%al", { 0xa0, 0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 9, 1, 0, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 64, "movabs 0xfe000000,%ax", { 0x66, 0xa1, 0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 10, 2, 0, 0, 0x0ULL, 0, 0, 2, 0 },
	{ 64, "movabs 0xfe000000,%eax", { 0xa1, 0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 9, 4, 0, 0, 0x0ULL, 0, 0, 4, 0 },
	{ 64, "movabs 0xfe000000,%rax", { 0x48, 0xa1, 0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 10, 8, 0, 0, 0x0ULL, 0, 0, 8, 0 },
	{ 64, "movabs %al,0xfe000000", { 0xa2, 0x00, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 9, 1, 1, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 64, "movabs %rax,0xfe000008", { 0x48, 0xa3, 0x08, 0x00, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 10, 8, 1, 0, 0x0ULL, 0, 0, 8, 0 },
	{ 64, "addr32 movabs 0xfe000000,%eax", { 0x67, 0xa1, 0x00, 0x00, 0x00, 0xfe }, 6, 4, 0, 0, 0x0ULL, 0, 0, 4, 0 },
	{ 64, "movzbl (%rax),%ecx", { 0x0f, 0xb6, 0x08 }, 3, 1, 0, 0, 0x0ULL, 1, 0, 4, 0 },
	{ 64, "movzbw (%rax),%cx", { 0x66, 0x0f, 0xb6, 0x08 }, 4, 1, 0, 0, 0x0ULL, 1, 0, 2, 0 },
	{ 64, "movzbq (%rax),%r9", { 0x4c, 0x0f, 0xb6, 0x08 }, 4, 1, 0, 0, 0x0ULL, 9, 0, 8, 0 },
	{ 64, "movzwl (%rax),%esi", { 0x0f, 0xb7, 0x30 }, 3, 2, 0, 0, 0x0ULL, 6, 0, 4, 0 },
	{ 64, "movzwq 0x8(%rax,%rdx,2),%rsi", { 0x48, 0x0f, 0xb7, 0x74, 0x50, 0x08 }, 6, 2, 0, 0, 0x0ULL, 6, 0, 8, 0 },
	{ 64, "movsbl (%rax),%ecx", { 0x0f, 0xbe, 0x08 }, 3, 1, 0, 0, 0x0ULL, 1, 0, 4, 1 },
	{ 64, "movsbw (%rax),%cx", { 0x66, 0x0f, 0xbe, 0x08 }, 4, 1, 0, 0, 0x0ULL, 1, 0, 2, 1 },
	{ 64, "movsbq (%rax),%r15", { 0x4c, 0x0f, 0xbe, 0x38 }, 4, 1, 0, 0, 0x0ULL, 15, 0, 8, 1 },
	{ 64, "movswl (%rax),%edi", { 0x0f, 0xbf, 0x38 }, 3, 2, 0, 0, 0x0ULL, 7, 0, 4, 1 },
	{ 64, "movswq (%rax),%rdi", { 0x48, 0x0f, 0xbf, 0x38 }, 4, 2, 0, 0, 0x0ULL, 7, 0, 8, 1 },
	{ 64, "movslq (%rax),%rdx", { 0x48, 0x63, 0x10 }, 3, 4, 0, 0, 0x0ULL, 2, 0, 8, 1 },
	{ 64, "movslq 0x40(%rip),%r10", { 0x4c, 0x63, 0x15, 0x40, 0x00, 0x00, 0x00 }, 7, 4, 0, 0, 0x0ULL, 10, 0, 8, 1 },
	{ 32, "mov %al,(%eax)", { 0x88, 0x00 }, 2, 1, 1, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 32, "mov %dh,(%ebx)", { 0x88, 0x33 }, 2, 1, 1, 0, 0x0ULL, 2, 1, 1, 0 },
	{ 32, "mov %cx,(%edx)", { 0x66, 0x89, 0x0a }, 3, 2, 1, 0, 0x0ULL, 1, 0, 2, 0 },
	{ 32, "mov %ecx,(%edx)", { 0x89, 0x0a }, 2, 4, 1, 0, 0x0ULL, 1, 0, 4, 0 },
	{ 32, "mov 0xfe000000,%ebx", { 0x8b, 0x1d, 0x00, 0x00, 0x00, 0xfe }, 6, 4, 0, 0, 0x0ULL, 3, 0, 4, 0 },
	{ 32, "mov 0xfe000000,%eax", { 0xa1, 0x00, 0x00, 0x00, 0xfe }, 5, 4, 0, 0, 0x0ULL, 0, 0, 4, 0 },
	{ 32, "mov %eax,0xfe000010", { 0xa3, 0x10, 0x00, 0x00, 0xfe }, 5, 4, 1, 0, 0x0ULL, 0, 0, 4, 0 },
	{ 32, "mov 0x10(,%esi,4),%edi", { 0x8b, 0x3c, 0xb5, 0x10, 0x00, 0x00, 0x00 }, 7, 4, 0, 0, 0x0ULL, 7, 0, 4, 0 },
	{ 32, "movl $0xcafef00d,0x8(%ebp)", { 0xc7, 0x45, 0x08, 0x0d, 0xf0, 0xfe, 0xca }, 7, 4, 1, 1, 0xcafef00dULL, 0, 0, 4, 0 },
	{ 32, "movw $0x1234,(%eax)", { 0x66, 0xc7, 0x00, 0x34, 0x12 }, 5, 2, 1, 1, 0x1234ULL, 0, 0, 2, 0 },
	{ 32, "movzbl (%eax),%edx", { 0x0f, 0xb6, 0x10 }, 3, 1, 0, 0, 0x0ULL, 2, 0, 4, 0 },
	{ 32, "movswl (%eax),%edx", { 0x0f, 0xbf, 0x10 }, 3, 2, 0, 0, 0x0ULL, 2, 0, 4, 1 },
	{ 32, "mov (%bx,%si),%eax", { 0x67, 0x8b, 0x00 }, 3, 4, 0, 0, 0x0ULL, 0, 0, 4, 0 },
	{ 32, "mov 0x1234(%bp,%di),%al", { 0x67, 0x8a, 0x83, 0x34, 0x12 }, 5, 1, 0, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 16, "mov %al,(%bx,%si)", { 0x88, 0x00 }, 2, 1, 1, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 16, "mov %ax,0x1234", { 0xa3, 0x34, 0x12 }, 3, 2, 1, 0, 0x0ULL, 0, 0, 2, 0 },
	{ 16, "mov 0x12(%bp),%cx", { 0x8b, 0x4e, 0x12 }, 3, 2, 0, 0, 0x0ULL, 1, 0, 2, 0 },
	{ 16, "mov 0x1234(%di),%ecx", { 0x66, 0x8b, 0x8d, 0x34, 0x12 }, 5, 4, 0, 0, 0x0ULL, 1, 0, 4, 0 },
	{ 16, "mov (%eax,%ebx,4),%dx", { 0x67, 0x8b, 0x14, 0x98 }, 4, 2, 0, 0, 0x0ULL, 2, 0, 2, 0 },
	{ 16, "movw $0xabcd,(%si)", { 0xc7, 0x04, 0xcd, 0xab }, 4, 2, 1, 1, 0xabcdULL, 0, 0, 2, 0 },
	{ 16, "movl $0x89abcdef,(%di)", { 0x66, 0xc7, 0x05, 0xef, 0xcd, 0xab, 0x89 }, 7, 4, 1, 1, 0x89abcdefULL, 0, 0, 4, 0 },
	{ 16, "mov 0x1000,%al", { 0xa0, 0x00, 0x10 }, 3, 1, 0, 0, 0x0ULL, 0, 0, 1, 0 },
	{ 16, "movzbw (%bx),%ax", { 0x0f, 0xb6, 0x07 }, 3, 1, 0, 0, 0x0ULL, 0, 0, 2, 0 },
	/* a REX before a legacy prefix is ignored; REX.W beats 66 */
	{ 64, "rex.w; data16 mov %ecx,(%rax)", { 0x48, 0x66, 0x89, 0x08 }, 4, 2, 1, 0, 0x0ULL, 1, 0, 2, 0 },
	{ 64, "data16 rex.w mov %rcx,(%rax)", { 0x66, 0x48, 0x89, 0x08 }, 4, 8, 1, 0, 0x0ULL, 1, 0, 8, 0 },
	/* an empty REX (0x40) still selects SPL..DIL, not AH..BH */
	{ 64, "rex; mov (%rax),%spl", { 0x40, 0x8a, 0x20 }, 3, 1, 0, 0, 0x0ULL, 4, 0, 1, 0 },
	/* MOVSXD without REX.W is a plain 32-bit load */
	{ 64, "movsxd (%rax),%ecx", { 0x63, 0x08 }, 2, 4, 0, 0, 0x0ULL, 1, 0, 4, 0 },
	/* 13 segment prefixes: exactly 15 bytes is still an instruction */
	{ 64, "cs x13; mov %eax,(%rax)", { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89, 0x00 }, 15, 4, 1, 0, 0x0ULL, 0, 0, 4, 0 },
};

static enum x86_cpu_mode mode_of(int bits)
{
	return bits == 16 ? X86_MODE_16 : bits == 32 ? X86_MODE_32 :
	       X86_MODE_64;
}

/* Every encoding in the table decodes to its length, size, direction, reg. */
static void decodes_real_encodings(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const struct good_case *c = &good[i];
		struct x86_mmio_insn insn;
		int ret;

		memset(&insn, 0x5a, sizeof(insn));
		ret = x86_decode_mmio(c->bytes, sizeof(c->bytes),
				      mode_of(c->mode), &insn);
		if (ret) {
			test_fail(__FILE__, __LINE__, "'%s' (%d-bit) refused",
				  c->text, c->mode);
			return;
		}
		if (insn.len != c->len || insn.size != c->size ||
		    insn.write != !!c->write || insn.has_imm != !!c->has_imm ||
		    (c->has_imm && insn.imm != c->imm) ||
		    (!c->has_imm && insn.reg != c->reg) ||
		    insn.reg_high8 != !!c->high8 ||
		    (!c->write && insn.dst_size != c->dst_size) ||
		    insn.sign_extend != !!c->sign_extend) {
			test_fail(__FILE__, __LINE__,
				  "'%s' (%d-bit): len %u size %u write %d imm %d/0x%llx reg %u high8 %d dst %u sx %d",
				  c->text, c->mode, insn.len, insn.size,
				  insn.write, insn.has_imm,
				  (unsigned long long)insn.imm, insn.reg,
				  insn.reg_high8, insn.dst_size,
				  insn.sign_extend);
			return;
		}
	}
}

/* Every strict prefix of a good encoding is refused: nothing read past avail. */
static void truncations_refused(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const struct good_case *c = &good[i];

		for (unsigned int n = 0; n < c->len; n++) {
			struct x86_mmio_insn insn;
			uint8_t copy[X86_INSN_MAX];

			memcpy(copy, c->bytes, n);
			if (x86_decode_mmio(copy, n, mode_of(c->mode),
					    &insn) != -EINVAL) {
				test_fail(__FILE__, __LINE__,
					  "'%s' decoded from %u of %u bytes",
					  c->text, n, c->len);
				return;
			}
		}
	}
}

struct bad_case {
	int mode;
	const char *why;
	uint8_t bytes[16];
	unsigned int len;
};

static const struct bad_case bad[] = {
	{ 64, "register operand (mov %eax,%ebx)", { 0x89, 0xc3 }, 2 },
	{ 64, "register operand (movzbl %al,%ecx)", { 0x0f, 0xb6, 0xc8 }, 3 },
	{ 64, "LOCK prefix", { 0xf0, 0x89, 0x08 }, 3 },
	{ 64, "REP prefix", { 0xf3, 0x89, 0x08 }, 3 },
	{ 64, "REPNE prefix", { 0xf2, 0x89, 0x08 }, 3 },
	{ 64, "add %ecx,(%rax)", { 0x01, 0x08 }, 2 },
	{ 64, "movsb", { 0xa4 }, 1 },
	{ 64, "stos", { 0xab }, 1 },
	{ 64, "c6 /1", { 0xc6, 0x08, 0x01 }, 3 },
	{ 64, "c7 /7 (xbegin form)", { 0xc7, 0xf8, 0, 0, 0, 0 }, 6 },
	{ 64, "movnti", { 0x0f, 0xc3, 0x08 }, 3 },
	{ 64, "movaps", { 0x0f, 0x28, 0x08 }, 3 },
	{ 64, "cmpxchg", { 0x0f, 0xb1, 0x08 }, 3 },
	{ 64, "vex movd", { 0xc5, 0xf9, 0x7e, 0x08 }, 4 },
	{ 64, "prefixes only", { 0x66, 0x67, 0x2e, 0x48 }, 4 },
	{ 64, "16 bytes (14 prefixes)", { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89, 0x00 }, 16 },
	{ 64, "disp8 as 16th byte", { 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89, 0x40, 0x00 }, 16 },
	{ 32, "arpl (63 outside 64-bit mode)", { 0x63, 0x08 }, 2 },
	{ 32, "inc %eax then mov (no REX in 32-bit mode)", { 0x40, 0x89, 0x08 }, 3 },
	{ 16, "register operand", { 0x8b, 0xc8 }, 2 },
	{ 64, "empty", { 0 }, 0 },
};

/* Everything outside the MMIO forms is refused with -EINVAL. */
static void refuses_other_instructions(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct x86_mmio_insn insn;
		const struct bad_case *c = &bad[i];

		if (x86_decode_mmio(c->bytes, c->len, mode_of(c->mode),
				    &insn) != -EINVAL) {
			test_fail(__FILE__, __LINE__, "%s decoded (len %u)",
				  c->why, insn.len);
			return;
		}
	}
}

/* A mode outside enum x86_cpu_mode is refused. */
static void refuses_bad_mode(void)
{
	static const uint8_t mov[] = { 0x89, 0x08 };
	struct x86_mmio_insn insn;

	CHECK_EQ(x86_decode_mmio(mov, 2, (enum x86_cpu_mode)7, &insn), -EINVAL);
	CHECK_EQ(x86_decode_mmio(mov, 2, X86_MODE_64, &insn), 0);
	CHECK_EQ(insn.len, 2);
}

/* Store values: register of the access size, AH..BH, immediates. */
static void store_values(void)
{
	uint64_t g[X86_NR_GPRS];
	struct x86_mmio_insn insn;
	static const uint8_t mov_bh[] = { 0x88, 0x7e, 0x10 };
	static const uint8_t mov_r10w[] = { 0x66, 0x44, 0x89, 0x14, 0x24 };
	static const uint8_t mov_r12[] = { 0x4f, 0x89, 0xa4, 0xf5, 0x78, 0x56,
					   0x34, 0x12 };
	static const uint8_t movq_m2[] = { 0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff,
					   0xff };
	static const uint8_t movl_imm[] = { 0xc7, 0x00, 0xef, 0xbe, 0xad,
					    0xde };

	for (unsigned int i = 0; i < X86_NR_GPRS; i++) {
		g[i] = 0x1111111111111111ULL * i + 0x0123456789abcdefULL;
	}
	CHECK_EQ(x86_decode_mmio(mov_bh, sizeof(mov_bh), X86_MODE_64, &insn), 0);
	CHECK_EQ(x86_mmio_store_value(&insn, g), (g[3] >> 8) & 0xff);
	CHECK_EQ(x86_decode_mmio(mov_r10w, sizeof(mov_r10w), X86_MODE_64,
				 &insn), 0);
	CHECK_EQ(x86_mmio_store_value(&insn, g), g[10] & 0xffff);
	CHECK_EQ(x86_decode_mmio(mov_r12, sizeof(mov_r12), X86_MODE_64, &insn),
		 0);
	CHECK_EQ(x86_mmio_store_value(&insn, g), g[12]);
	CHECK_EQ(x86_decode_mmio(movq_m2, sizeof(movq_m2), X86_MODE_64, &insn),
		 0);
	CHECK_EQ(x86_mmio_store_value(&insn, g), 0xfffffffffffffffeULL);
	CHECK_EQ(x86_decode_mmio(movl_imm, sizeof(movl_imm), X86_MODE_64,
				 &insn), 0);
	CHECK_EQ(x86_mmio_store_value(&insn, g), 0xdeadbeefULL);
}

/*
 * The host CPU runs each load with RCX preset and memory holding a value;
 * the decoder's completion of the same encoding must leave RCX identical.
 */
#define HOST_LOAD(name, text)						\
	static uint64_t name(uint64_t rcx, const uint64_t *mem)		\
	{								\
		__asm__ volatile(text : "+c"(rcx) : "a"(mem) : "memory"); \
		return rcx;						\
	}

HOST_LOAD(ld_b, "movb (%%rax),%%cl")
HOST_LOAD(ld_bh, "movb (%%rax),%%ch")
HOST_LOAD(ld_w, "movw (%%rax),%%cx")
HOST_LOAD(ld_l, "movl (%%rax),%%ecx")
HOST_LOAD(ld_q, "movq (%%rax),%%rcx")
HOST_LOAD(ld_zbw, "movzbw (%%rax),%%cx")
HOST_LOAD(ld_zbl, "movzbl (%%rax),%%ecx")
HOST_LOAD(ld_zbq, "movzbq (%%rax),%%rcx")
HOST_LOAD(ld_zwl, "movzwl (%%rax),%%ecx")
HOST_LOAD(ld_zwq, "movzwq (%%rax),%%rcx")
HOST_LOAD(ld_sbw, "movsbw (%%rax),%%cx")
HOST_LOAD(ld_sbl, "movsbl (%%rax),%%ecx")
HOST_LOAD(ld_sbq, "movsbq (%%rax),%%rcx")
HOST_LOAD(ld_swl, "movswl (%%rax),%%ecx")
HOST_LOAD(ld_swq, "movswq (%%rax),%%rcx")
HOST_LOAD(ld_slq, "movslq (%%rax),%%rcx")
HOST_LOAD(ld_sxd, ".byte 0x63, 0x08")

static const struct {
	const char *text;
	uint8_t bytes[4];
	uint64_t (*host)(uint64_t rcx, const uint64_t *mem);
} loads[] = {
	{ "movb (%rax),%cl", { 0x8a, 0x08 }, ld_b },
	{ "movb (%rax),%ch", { 0x8a, 0x28 }, ld_bh },
	{ "movw (%rax),%cx", { 0x66, 0x8b, 0x08 }, ld_w },
	{ "movl (%rax),%ecx", { 0x8b, 0x08 }, ld_l },
	{ "movq (%rax),%rcx", { 0x48, 0x8b, 0x08 }, ld_q },
	{ "movzbw (%rax),%cx", { 0x66, 0x0f, 0xb6, 0x08 }, ld_zbw },
	{ "movzbl (%rax),%ecx", { 0x0f, 0xb6, 0x08 }, ld_zbl },
	{ "movzbq (%rax),%rcx", { 0x48, 0x0f, 0xb6, 0x08 }, ld_zbq },
	{ "movzwl (%rax),%ecx", { 0x0f, 0xb7, 0x08 }, ld_zwl },
	{ "movzwq (%rax),%rcx", { 0x48, 0x0f, 0xb7, 0x08 }, ld_zwq },
	{ "movsbw (%rax),%cx", { 0x66, 0x0f, 0xbe, 0x08 }, ld_sbw },
	{ "movsbl (%rax),%ecx", { 0x0f, 0xbe, 0x08 }, ld_sbl },
	{ "movsbq (%rax),%rcx", { 0x48, 0x0f, 0xbe, 0x08 }, ld_sbq },
	{ "movswl (%rax),%ecx", { 0x0f, 0xbf, 0x08 }, ld_swl },
	{ "movswq (%rax),%rcx", { 0x48, 0x0f, 0xbf, 0x08 }, ld_swq },
	{ "movslq (%rax),%rcx", { 0x48, 0x63, 0x08 }, ld_slq },
	{ "movsxd (%rax),%ecx", { 0x63, 0x08 }, ld_sxd },
};

/* Completed loads write RCX exactly as the host CPU does (random values). */
static void loads_match_host_cpu(void)
{
	for (unsigned int round = 0; round < 2000; round++) {
		uint64_t mem = test_rand(), rcx = test_rand();

		/* sign bits set and clear at every size, now and then */
		if (round % 4 == 1) {
			mem |= 0x8080808080808080ULL;
		} else if (round % 4 == 2) {
			mem &= 0x7f7f7f7f7f7f7f7fULL;
		}
		for (size_t i = 0; i < ARRAY_SIZE(loads); i++) {
			uint64_t g[X86_NR_GPRS] = { 0 };
			struct x86_mmio_insn insn;
			uint64_t want = loads[i].host(rcx, &mem);

			CHECK_EQ(x86_decode_mmio(loads[i].bytes,
						 sizeof(loads[i].bytes),
						 X86_MODE_64, &insn), 0);
			CHECK(!insn.write);
			g[1] = rcx;
			g[0] = 0xa5a5a5a5a5a5a5a5ULL;
			x86_mmio_complete_load(&insn, mem & (insn.size == 8 ?
					       ~0ULL : (1ULL << (8 * insn.size)) - 1),
					       g);
			if (g[1] != want || g[0] != 0xa5a5a5a5a5a5a5a5ULL) {
				test_fail(__FILE__, __LINE__,
					  "%s: mem 0x%llx rcx 0x%llx: got 0x%llx, CPU 0x%llx",
					  loads[i].text,
					  (unsigned long long)mem,
					  (unsigned long long)rcx,
					  (unsigned long long)g[1],
					  (unsigned long long)want);
				return;
			}
		}
	}
}

/* Random bytes: either refused, or a sane result within the bytes given. */
static void random_bytes_sane(void)
{
	for (unsigned int round = 0; round < 200000; round++) {
		uint8_t buf[X86_INSN_MAX];
		struct x86_mmio_insn insn;
		unsigned int avail = test_rand() % (X86_INSN_MAX + 1);
		enum x86_cpu_mode mode = (enum x86_cpu_mode)(test_rand() % 3);

		for (unsigned int i = 0; i < sizeof(buf); i++) {
			uint64_t r = test_rand();

			/* bias toward the interesting opcodes and prefixes */
			static const uint8_t hot[] = { 0x66, 0x67, 0x48, 0x41,
				0x4c, 0x2e, 0x64, 0x88, 0x89, 0x8a, 0x8b, 0xc6,
				0xc7, 0xa0, 0xa3, 0x0f, 0xb6, 0xbf, 0x63, 0x04,
				0x05, 0x44, 0x84 };
			buf[i] = (r & 1) ? hot[(r >> 8) % sizeof(hot)] : r >> 16;
		}
		if (x86_decode_mmio(buf, avail, mode, &insn)) {
			continue;
		}
		CHECK(insn.len >= 1 && insn.len <= avail);
		CHECK(insn.size == 1 || insn.size == 2 || insn.size == 4 ||
		      insn.size == 8);
		CHECK(insn.reg < X86_NR_GPRS);
		CHECK(insn.dst_size >= insn.size && insn.dst_size <= 8);
		CHECK(!insn.reg_high8 || insn.reg < 4);
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "decode");
	RUN_TEST(decodes_real_encodings);
	RUN_TEST(truncations_refused);
	RUN_TEST(refuses_other_instructions);
	RUN_TEST(refuses_bad_mode);
	RUN_TEST(store_values);
	RUN_TEST(loads_match_host_cpu);
	RUN_TEST(random_bytes_sane);
	return test_done();
}
