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
	{ 64, "lock add %ecx,%ebx (no memory)", { 0xf0, 0x01, 0xcb }, 3 },
	{ 64, "add $1,%eax (no ModRM)", { 0x05, 1, 0, 0, 0 }, 5 },
	{ 64, "lods", { 0xac }, 1 },
	{ 64, "repne movsb", { 0xf2, 0xa4 }, 2 },
	{ 64, "rep add %ecx,(%rax)", { 0xf3, 0x01, 0x08 }, 3 },
	{ 64, "lock cmp %ecx,(%rax)", { 0xf0, 0x39, 0x08 }, 3 },
	{ 64, "lock test %ecx,(%rax)", { 0xf0, 0x85, 0x08 }, 3 },
	{ 64, "lock bt %ecx,(%rax)", { 0xf0, 0x0f, 0xa3, 0x08 }, 4 },
	{ 64, "lock movsb", { 0xf0, 0xa4 }, 2 },
	{ 64, "82 /0 in 64-bit mode", { 0x82, 0x00, 0x01 }, 3 },
	{ 64, "bt $1 with /3 (0f ba /3)", { 0x0f, 0xba, 0x18, 0x01 }, 4 },
	{ 64, "mul (%rax) (f7 /4)", { 0xf7, 0x20 }, 2 },
	{ 64, "test /1 (f6 /1)", { 0xf6, 0x08, 0x01 }, 3 },
	{ 64, "call *(%rax) (ff /2)", { 0xff, 0x10 }, 2 },
	{ 64, "pop /1 (8f /1)", { 0x8f, 0x08 }, 2 },
	{ 64, "dec byte /7 (fe /7)", { 0xfe, 0x38 }, 2 },
	{ 64, "shl $1,(%rax)", { 0xc1, 0x20, 0x01 }, 3 },
	{ 64, "cmpxchg8b (%rax)", { 0x0f, 0xc7, 0x08 }, 3 },
	{ 64, "popcnt (%rax),%eax", { 0xf3, 0x0f, 0xb8, 0x00 }, 4 },
	{ 64, "bsf (%rax),%eax", { 0x0f, 0xbc, 0x00 }, 3 },
	{ 64, "c6 /1", { 0xc6, 0x08, 0x01 }, 3 },
	{ 64, "c7 /7 (xbegin form)", { 0xc7, 0xf8, 0, 0, 0, 0 }, 6 },
	{ 64, "movnti", { 0x0f, 0xc3, 0x08 }, 3 },
	{ 64, "movaps", { 0x0f, 0x28, 0x08 }, 3 },
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

struct form_case {
	int mode;
	const char *text;	/* what `as` assembled */
	uint8_t bytes[X86_INSN_MAX];
	unsigned int len;
	enum x86_mmio_op op;
	unsigned int size;
	int read, write, mem_src, has_imm;
	uint64_t imm;
	unsigned int reg;	/* register operand, when !has_imm */
	int rep, lock;
	unsigned int addr_size;
	enum x86_seg seg;
};

#define RD 1, 0
#define WR 0, 1
#define RMW 1, 1

static const struct form_case forms[] = {
	{ 64, "or %eax,0x1000(%r12)", { 0x41, 0x09, 0x84, 0x24, 0x00, 0x10, 0x00, 0x00 }, 8, X86_OP_OR, 4, RMW, 0, 0, 0, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "add (%rax),%r9b", { 0x44, 0x02, 0x08 }, 3, X86_OP_ADD, 1, RD, 1, 0, 0, 9, 0, 0, 8, X86_SEG_DS },
	{ 64, "sbb 0x10(%rip),%rdx", { 0x48, 0x1b, 0x15, 0x10, 0x00, 0x00, 0x00 }, 7, X86_OP_SBB, 8, RD, 1, 0, 0, 2, 0, 0, 8, X86_SEG_DS },
	{ 64, "cmp %bh,(%rsi)", { 0x38, 0x3e }, 2, X86_OP_CMP, 1, RD, 0, 0, 0, 3, 0, 0, 8, X86_SEG_DS },
	{ 64, "lock xor %cx,(%rax,%rbx,4)", { 0xf0, 0x66, 0x31, 0x0c, 0x98 }, 5, X86_OP_XOR, 2, RMW, 0, 0, 0, 1, 0, 1, 8, X86_SEG_DS },
	{ 64, "addb $0xff,(%rax)", { 0x80, 0x00, 0xff }, 3, X86_OP_ADD, 1, RMW, 0, 1, 0xff, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "andw $0x8001,(%rax)", { 0x66, 0x81, 0x20, 0x01, 0x80 }, 5, X86_OP_AND, 2, RMW, 0, 1, 0x8001, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "subq $-0x80000000,(%rax)", { 0x48, 0x81, 0x28, 0x00, 0x00, 0x00, 0x80 }, 7, X86_OP_SUB, 8, RMW, 0, 1, 0xffffffff80000000ULL, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "cmpl $-1,0x8(%rdi)", { 0x83, 0x7f, 0x08, 0xff }, 4, X86_OP_CMP, 4, RD, 0, 1, 0xffffffff, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "adcq $0x7f,(%rax)", { 0x48, 0x83, 0x10, 0x7f }, 4, X86_OP_ADC, 8, RMW, 0, 1, 0x7f, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "test %r8,(%rax)", { 0x4c, 0x85, 0x00 }, 3, X86_OP_TEST, 8, RD, 0, 0, 0, 8, 0, 0, 8, X86_SEG_DS },
	{ 64, "testw $0x8000,(%rax)", { 0x66, 0xf7, 0x00, 0x00, 0x80 }, 5, X86_OP_TEST, 2, RD, 0, 1, 0x8000, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "notb (%rax)", { 0xf6, 0x10 }, 2, X86_OP_NOT, 1, RMW, 0, 0, 0, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "lock negq (%rax)", { 0xf0, 0x48, 0xf7, 0x18 }, 4, X86_OP_NEG, 8, RMW, 0, 0, 0, 0, 0, 1, 8, X86_SEG_DS },
	{ 64, "incw (%rax)", { 0x66, 0xff, 0x00 }, 3, X86_OP_INC, 2, RMW, 0, 0, 0, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "decb (%rax)", { 0xfe, 0x08 }, 2, X86_OP_DEC, 1, RMW, 0, 0, 0, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "xchg %r15,(%rax)", { 0x4c, 0x87, 0x38 }, 3, X86_OP_XCHG, 8, RMW, 0, 0, 0, 15, 0, 0, 8, X86_SEG_DS },
	{ 64, "lock cmpxchg %dl,(%rax)", { 0xf0, 0x0f, 0xb0, 0x10 }, 4, X86_OP_CMPXCHG, 1, RMW, 0, 0, 0, 2, 0, 1, 8, X86_SEG_DS },
	{ 64, "xadd %esi,(%rax)", { 0x0f, 0xc1, 0x30 }, 3, X86_OP_XADD, 4, RMW, 0, 0, 0, 6, 0, 0, 8, X86_SEG_DS },
	{ 64, "bt %rcx,(%rax)", { 0x48, 0x0f, 0xa3, 0x08 }, 4, X86_OP_BT, 8, RD, 0, 0, 0, 1, 0, 0, 8, X86_SEG_DS },
	{ 64, "btcw $0x11,(%rax)", { 0x66, 0x0f, 0xba, 0x38, 0x11 }, 5, X86_OP_BTC, 2, RMW, 0, 1, 0x11, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "pushq 0x8(%rax)", { 0xff, 0x70, 0x08 }, 3, X86_OP_PUSH, 8, RD, 0, 0, 0, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "pushw (%rax)", { 0x66, 0xff, 0x30 }, 3, X86_OP_PUSH, 2, RD, 0, 0, 0, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "popq (%rax)", { 0x8f, 0x00 }, 2, X86_OP_POP, 8, WR, 0, 0, 0, 0, 0, 0, 8, X86_SEG_DS },
	{ 64, "rep movsb", { 0xf3, 0xa4 }, 2, X86_OP_MOVS, 1, RMW, 0, 0, 0, 0, 1, 0, 8, X86_SEG_DS },
	{ 64, "rep movsq %fs:(%rsi),%es:(%rdi)", { 0x64, 0xf3, 0x48, 0xa5 }, 4, X86_OP_MOVS, 8, RMW, 0, 0, 0, 0, 1, 0, 8, X86_SEG_FS },
	{ 64, "addr32 movsw", { 0x67, 0x66, 0xa5 }, 3, X86_OP_MOVS, 2, RMW, 0, 0, 0, 0, 0, 0, 4, X86_SEG_DS },
	{ 64, "rep stos %eax,(%rdi)", { 0xf3, 0xab }, 2, X86_OP_STOS, 4, WR, 0, 0, 0, 0, 1, 0, 8, X86_SEG_DS },
	{ 32, "or %eax,0x10(%ebx)", { 0x09, 0x43, 0x10 }, 3, X86_OP_OR, 4, RMW, 0, 0, 0, 0, 0, 0, 4, X86_SEG_DS },
	{ 32, "82 /7 ib: cmpb $0x5,(%eax)", { 0x82, 0x38, 0x05 }, 3, X86_OP_CMP, 1, RD, 0, 1, 5, 0, 0, 0, 4, X86_SEG_DS },
	{ 32, "pushl (%eax)", { 0xff, 0x30 }, 2, X86_OP_PUSH, 4, RD, 0, 0, 0, 0, 0, 0, 4, X86_SEG_DS },
	{ 32, "rep movsl %es:(%esi),%es:(%edi)", { 0x26, 0xf3, 0xa5 }, 3, X86_OP_MOVS, 4, RMW, 0, 0, 0, 0, 1, 0, 4, X86_SEG_ES },
	{ 16, "addw $0x1234,(%bx,%si)", { 0x81, 0x00, 0x34, 0x12 }, 4, X86_OP_ADD, 2, RMW, 0, 1, 0x1234, 0, 0, 0, 2, X86_SEG_DS },
	{ 16, "incl 0x10(%di)", { 0x66, 0xff, 0x45, 0x10 }, 4, X86_OP_INC, 4, RMW, 0, 0, 0, 0, 0, 0, 2, X86_SEG_DS },
	{ 16, "stosb", { 0xaa }, 1, X86_OP_STOS, 1, WR, 0, 0, 0, 0, 0, 0, 2, X86_SEG_DS },
};

/* The new forms: length, operation, size, direction, operand, prefixes. */
static void decodes_new_forms(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		const struct form_case *c = &forms[i];
		struct x86_mmio_insn insn;

		memset(&insn, 0x5a, sizeof(insn));
		if (x86_decode_mmio(c->bytes, sizeof(c->bytes),
				    mode_of(c->mode), &insn)) {
			test_fail(__FILE__, __LINE__, "'%s' (%d-bit) refused",
				  c->text, c->mode);
			return;
		}
		if (insn.len != c->len || insn.op != c->op ||
		    insn.size != c->size || insn.read != !!c->read ||
		    insn.write != !!c->write ||
		    insn.mem_src != !!c->mem_src ||
		    insn.has_imm != !!c->has_imm ||
		    (c->has_imm && insn.imm != c->imm) ||
		    (!c->has_imm && insn.reg != c->reg) ||
		    insn.rep != !!c->rep || insn.lock != !!c->lock ||
		    insn.addr_size != c->addr_size || insn.seg != c->seg) {
			test_fail(__FILE__, __LINE__,
				  "'%s' (%d-bit): len %u op %d size %u r/w %d/%d src %d imm %d/0x%llx reg %u rep %d lock %d asz %u seg %d",
				  c->text, c->mode, insn.len, insn.op,
				  insn.size, insn.read, insn.write,
				  insn.mem_src, insn.has_imm,
				  (unsigned long long)insn.imm, insn.reg,
				  insn.rep, insn.lock, insn.addr_size,
				  insn.seg);
			return;
		}
		for (unsigned int n = 0; n < c->len; n++) {
			CHECK_EQ(x86_decode_mmio(c->bytes, n, mode_of(c->mode),
						 &insn), -EINVAL);
		}
	}
}

/* Hand-computed flags at the size boundaries (the SDM's definitions). */
static void flags_at_boundaries(void)
{
	static const struct {
		const char *text;
		uint8_t bytes[4];
		uint64_t mem, rcx, flags_in, want_mem, want_flags;
	} cases[] = {
		/* 0x7f + 1: signed overflow, half carry, no carry */
		{ "add %cl,(%rax)", { 0x00, 0x08 }, 0x7f, 1, 0, 0x80,
		  X86_FLAG_OF | X86_FLAG_SF | X86_FLAG_AF },
		/* 0xff + 1 in a byte: carry, zero, parity even */
		{ "add %cl,(%rax)", { 0x00, 0x08 }, 0xff, 1, 0, 0,
		  X86_FLAG_CF | X86_FLAG_ZF | X86_FLAG_PF | X86_FLAG_AF },
		/* 0xffff + 0 + CF in a word */
		{ "adc %cx,(%rax)", { 0x66, 0x11, 0x08 }, 0xffff, 0,
		  X86_FLAG_CF, 0, X86_FLAG_CF | X86_FLAG_ZF | X86_FLAG_PF |
		  X86_FLAG_AF },
		/* 0x80000000 - 1: signed overflow in a dword */
		{ "sub %ecx,(%rax)", { 0x29, 0x08 }, 0x80000000, 1, 0,
		  0x7fffffff, X86_FLAG_OF | X86_FLAG_AF | X86_FLAG_PF },
		/* 0 - 1 in a qword: borrow, all ones */
		{ "sub %rcx,(%rax)", { 0x48, 0x29, 0x08 }, 0, 1, 0,
		  ~0ULL, X86_FLAG_CF | X86_FLAG_SF | X86_FLAG_AF |
		  X86_FLAG_PF },
		/* INC keeps CF; 0x7fffffffffffffff + 1 overflows */
		{ "incq (%rax)", { 0x48, 0xff, 0x00 }, 0x7fffffffffffffffULL,
		  0, X86_FLAG_CF, 0x8000000000000000ULL, X86_FLAG_CF |
		  X86_FLAG_OF | X86_FLAG_SF | X86_FLAG_AF | X86_FLAG_PF },
		/* NEG of the most negative word: itself, OF and CF */
		{ "negw (%rax)", { 0x66, 0xf7, 0x18 }, 0x8000, 0, 0, 0x8000,
		  X86_FLAG_CF | X86_FLAG_OF | X86_FLAG_SF | X86_FLAG_PF },
		/* OR clears CF and OF, keeps AF (undefined) */
		{ "or %ecx,(%rax)", { 0x09, 0x08 }, 0, 0, X86_FLAG_CF |
		  X86_FLAG_OF | X86_FLAG_AF, 0, X86_FLAG_ZF | X86_FLAG_PF |
		  X86_FLAG_AF },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct x86_mmio_insn insn;
		uint64_t g[X86_NR_GPRS] = { 0 }, rf = cases[i].flags_in;
		uint64_t out;

		CHECK_EQ(x86_decode_mmio(cases[i].bytes, 4, X86_MODE_64,
					 &insn), 0);
		g[1] = cases[i].rcx;
		out = x86_mmio_execute(&insn, cases[i].mem, g, &rf);
		if (out != cases[i].want_mem || rf != cases[i].want_flags) {
			test_fail(__FILE__, __LINE__,
				  "%s on 0x%llx: 0x%llx flags 0x%llx, expected 0x%llx flags 0x%llx",
				  cases[i].text,
				  (unsigned long long)cases[i].mem,
				  (unsigned long long)out,
				  (unsigned long long)rf,
				  (unsigned long long)cases[i].want_mem,
				  (unsigned long long)cases[i].want_flags);
			return;
		}
	}
}

/*
 * The host CPU as the reference for x86_mmio_execute(): each function below
 * is written in assembly around exactly one instruction (between the labels
 * NAME_insn and NAME_end, whose bytes the test decodes). It loads RAX, RCX
 * and RFLAGS from the state, runs the instruction on state->mem, and stores
 * them back.
 */
struct host_state {
	uint64_t mem, rax, rcx, flags;
};

#define HOST_OP(name, text)						\
	extern void name(struct host_state *s);				\
	extern const uint8_t name##_insn[], name##_end[];		\
	__asm__(".text\n\t.globl " #name "\n\t.type " #name ", @function\n" \
		#name ":\n\t"						\
		"movq 8(%rdi), %rax\n\tmovq 16(%rdi), %rcx\n\t"	\
		"pushq 24(%rdi)\n\tpopfq\n"				\
		".globl " #name "_insn\n" #name "_insn:\n\t"		\
		text "\n"						\
		".globl " #name "_end\n" #name "_end:\n\t"		\
		"pushfq\n\tpopq 24(%rdi)\n\t"				\
		"movq %rax, 8(%rdi)\n\tmovq %rcx, 16(%rdi)\n\tret\n");
HOST_OP(host_add_b, "addb %cl,(%rdi)")
HOST_OP(host_add_w, "addw %cx,(%rdi)")
HOST_OP(host_add_l, "addl %ecx,(%rdi)")
HOST_OP(host_add_q, "addq %rcx,(%rdi)")
HOST_OP(host_add_rm, "addl (%rdi),%ecx")
HOST_OP(host_add_rmb, "addb (%rdi),%ch")
HOST_OP(host_or_l, "orl %ecx,(%rdi)")
HOST_OP(host_or_rm_q, "orq (%rdi),%rcx")
HOST_OP(host_lock_or_l, "lock orl %ecx,(%rdi)")
HOST_OP(host_adc_b, "adcb %cl,(%rdi)")
HOST_OP(host_adc_q, "adcq %rcx,(%rdi)")
HOST_OP(host_adc_rm_w, "adcw (%rdi),%cx")
HOST_OP(host_sbb_l, "sbbl %ecx,(%rdi)")
HOST_OP(host_sbb_rm_q, "sbbq (%rdi),%rcx")
HOST_OP(host_sbb_b, "sbbb %cl,(%rdi)")
HOST_OP(host_and_w, "andw %cx,(%rdi)")
HOST_OP(host_and_rm_l, "andl (%rdi),%ecx")
HOST_OP(host_sub_b, "subb %cl,(%rdi)")
HOST_OP(host_sub_w, "subw %cx,(%rdi)")
HOST_OP(host_sub_l, "subl %ecx,(%rdi)")
HOST_OP(host_sub_q, "subq %rcx,(%rdi)")
HOST_OP(host_sub_rm_l, "subl (%rdi),%ecx")
HOST_OP(host_xor_q, "xorq %rcx,(%rdi)")
HOST_OP(host_xor_rm_b, "xorb (%rdi),%cl")
HOST_OP(host_cmp_b, "cmpb %cl,(%rdi)")
HOST_OP(host_cmp_l, "cmpl %ecx,(%rdi)")
HOST_OP(host_cmp_rm_q, "cmpq (%rdi),%rcx")
HOST_OP(host_cmp_rm_w, "cmpw (%rdi),%cx")
HOST_OP(host_add_ib, "addb $0x7f,(%rdi)")
HOST_OP(host_add_iz, "addl $0x80000000,(%rdi)")
HOST_OP(host_add_iq, "addq $-0x80000000,(%rdi)")
HOST_OP(host_sub_i8, "subw $-1,(%rdi)")
HOST_OP(host_adc_i8, "adcq $1,(%rdi)")
HOST_OP(host_sbb_i8, "sbbl $-128,(%rdi)")
HOST_OP(host_or_iw, "orw $0x8001,(%rdi)")
HOST_OP(host_and_i8, "andq $-16,(%rdi)")
HOST_OP(host_xor_ib, "xorb $0x80,(%rdi)")
HOST_OP(host_cmp_ib, "cmpb $0x80,(%rdi)")
HOST_OP(host_cmp_i8q, "cmpq $-1,(%rdi)")
HOST_OP(host_cmp_iz, "cmpl $0x7fffffff,(%rdi)")
HOST_OP(host_test_b, "testb %cl,(%rdi)")
HOST_OP(host_test_q, "testq %rcx,(%rdi)")
HOST_OP(host_test_ib, "testb $0x81,(%rdi)")
HOST_OP(host_test_iz, "testl $0x80000001,(%rdi)")
HOST_OP(host_test_iw, "testw $0x8000,(%rdi)")
HOST_OP(host_not_b, "notb (%rdi)")
HOST_OP(host_not_q, "notq (%rdi)")
HOST_OP(host_neg_b, "negb (%rdi)")
HOST_OP(host_neg_w, "negw (%rdi)")
HOST_OP(host_neg_l, "negl (%rdi)")
HOST_OP(host_neg_q, "negq (%rdi)")
HOST_OP(host_inc_b, "incb (%rdi)")
HOST_OP(host_inc_w, "incw (%rdi)")
HOST_OP(host_inc_l, "incl (%rdi)")
HOST_OP(host_inc_q, "incq (%rdi)")
HOST_OP(host_dec_b, "decb (%rdi)")
HOST_OP(host_dec_l, "decl (%rdi)")
HOST_OP(host_dec_q, "decq (%rdi)")
HOST_OP(host_lock_dec_w, "lock decw (%rdi)")
HOST_OP(host_xchg_b, "xchgb %cl,(%rdi)")
HOST_OP(host_xchg_bh, "xchgb %ch,(%rdi)")
HOST_OP(host_xchg_l, "xchgl %ecx,(%rdi)")
HOST_OP(host_xchg_q, "xchgq %rcx,(%rdi)")
HOST_OP(host_cmpxchg_b, "cmpxchgb %cl,(%rdi)")
HOST_OP(host_cmpxchg_l, "lock cmpxchgl %ecx,(%rdi)")
HOST_OP(host_cmpxchg_q, "cmpxchgq %rcx,(%rdi)")
HOST_OP(host_cmpxchg_w, "cmpxchgw %cx,(%rdi)")
HOST_OP(host_xadd_b, "xaddb %cl,(%rdi)")
HOST_OP(host_xadd_l, "lock xaddl %ecx,(%rdi)")
HOST_OP(host_xadd_q, "xaddq %rcx,(%rdi)")
HOST_OP(host_bt_l, "btl %ecx,(%rdi)")
HOST_OP(host_bt_q, "btq %rcx,(%rdi)")
HOST_OP(host_bts_w, "btsw %cx,(%rdi)")
HOST_OP(host_btr_l, "btrl %ecx,(%rdi)")
HOST_OP(host_btc_q, "lock btcq %rcx,(%rdi)")
HOST_OP(host_bt_i, "btl $31,(%rdi)")
HOST_OP(host_bts_i, "btsq $63,(%rdi)")
HOST_OP(host_btr_i, "btrw $0x13,(%rdi)")
HOST_OP(host_btc_i, "btcl $0x45,(%rdi)")
HOST_OP(host_mov_st, "movl %ecx,(%rdi)")
HOST_OP(host_mov_ld, "movw (%rdi),%cx")

/* Flags the SDM leaves undefined after the instruction: not compared. */
#define UNDEF_AF	X86_FLAG_AF
#define UNDEF_BT	(X86_FLAG_OF | X86_FLAG_SF | X86_FLAG_AF | X86_FLAG_PF)

static const struct {
	const char *text;
	void (*host)(struct host_state *s);
	const uint8_t *insn, *end;
	uint64_t undefined;
	bool bit_reg;	/* BT* with a register bit offset */
} host_ops[] = {
	{ "addb %cl,(%rdi)", host_add_b, host_add_b_insn, host_add_b_end, 0, false },
	{ "addw %cx,(%rdi)", host_add_w, host_add_w_insn, host_add_w_end, 0, false },
	{ "addl %ecx,(%rdi)", host_add_l, host_add_l_insn, host_add_l_end, 0, false },
	{ "addq %rcx,(%rdi)", host_add_q, host_add_q_insn, host_add_q_end, 0, false },
	{ "addl (%rdi),%ecx", host_add_rm, host_add_rm_insn, host_add_rm_end, 0, false },
	{ "addb (%rdi),%ch", host_add_rmb, host_add_rmb_insn, host_add_rmb_end, 0, false },
	{ "orl %ecx,(%rdi)", host_or_l, host_or_l_insn, host_or_l_end, UNDEF_AF, false },
	{ "orq (%rdi),%rcx", host_or_rm_q, host_or_rm_q_insn, host_or_rm_q_end, UNDEF_AF, false },
	{ "lock orl %ecx,(%rdi)", host_lock_or_l, host_lock_or_l_insn, host_lock_or_l_end, UNDEF_AF, false },
	{ "adcb %cl,(%rdi)", host_adc_b, host_adc_b_insn, host_adc_b_end, 0, false },
	{ "adcq %rcx,(%rdi)", host_adc_q, host_adc_q_insn, host_adc_q_end, 0, false },
	{ "adcw (%rdi),%cx", host_adc_rm_w, host_adc_rm_w_insn, host_adc_rm_w_end, 0, false },
	{ "sbbl %ecx,(%rdi)", host_sbb_l, host_sbb_l_insn, host_sbb_l_end, 0, false },
	{ "sbbq (%rdi),%rcx", host_sbb_rm_q, host_sbb_rm_q_insn, host_sbb_rm_q_end, 0, false },
	{ "sbbb %cl,(%rdi)", host_sbb_b, host_sbb_b_insn, host_sbb_b_end, 0, false },
	{ "andw %cx,(%rdi)", host_and_w, host_and_w_insn, host_and_w_end, UNDEF_AF, false },
	{ "andl (%rdi),%ecx", host_and_rm_l, host_and_rm_l_insn, host_and_rm_l_end, UNDEF_AF, false },
	{ "subb %cl,(%rdi)", host_sub_b, host_sub_b_insn, host_sub_b_end, 0, false },
	{ "subw %cx,(%rdi)", host_sub_w, host_sub_w_insn, host_sub_w_end, 0, false },
	{ "subl %ecx,(%rdi)", host_sub_l, host_sub_l_insn, host_sub_l_end, 0, false },
	{ "subq %rcx,(%rdi)", host_sub_q, host_sub_q_insn, host_sub_q_end, 0, false },
	{ "subl (%rdi),%ecx", host_sub_rm_l, host_sub_rm_l_insn, host_sub_rm_l_end, 0, false },
	{ "xorq %rcx,(%rdi)", host_xor_q, host_xor_q_insn, host_xor_q_end, UNDEF_AF, false },
	{ "xorb (%rdi),%cl", host_xor_rm_b, host_xor_rm_b_insn, host_xor_rm_b_end, UNDEF_AF, false },
	{ "cmpb %cl,(%rdi)", host_cmp_b, host_cmp_b_insn, host_cmp_b_end, 0, false },
	{ "cmpl %ecx,(%rdi)", host_cmp_l, host_cmp_l_insn, host_cmp_l_end, 0, false },
	{ "cmpq (%rdi),%rcx", host_cmp_rm_q, host_cmp_rm_q_insn, host_cmp_rm_q_end, 0, false },
	{ "cmpw (%rdi),%cx", host_cmp_rm_w, host_cmp_rm_w_insn, host_cmp_rm_w_end, 0, false },
	{ "addb $0x7f,(%rdi)", host_add_ib, host_add_ib_insn, host_add_ib_end, 0, false },
	{ "addl $0x80000000,(%rdi)", host_add_iz, host_add_iz_insn, host_add_iz_end, 0, false },
	{ "addq $-0x80000000,(%rdi)", host_add_iq, host_add_iq_insn, host_add_iq_end, 0, false },
	{ "subw $-1,(%rdi)", host_sub_i8, host_sub_i8_insn, host_sub_i8_end, 0, false },
	{ "adcq $1,(%rdi)", host_adc_i8, host_adc_i8_insn, host_adc_i8_end, 0, false },
	{ "sbbl $-128,(%rdi)", host_sbb_i8, host_sbb_i8_insn, host_sbb_i8_end, 0, false },
	{ "orw $0x8001,(%rdi)", host_or_iw, host_or_iw_insn, host_or_iw_end, UNDEF_AF, false },
	{ "andq $-16,(%rdi)", host_and_i8, host_and_i8_insn, host_and_i8_end, UNDEF_AF, false },
	{ "xorb $0x80,(%rdi)", host_xor_ib, host_xor_ib_insn, host_xor_ib_end, UNDEF_AF, false },
	{ "cmpb $0x80,(%rdi)", host_cmp_ib, host_cmp_ib_insn, host_cmp_ib_end, 0, false },
	{ "cmpq $-1,(%rdi)", host_cmp_i8q, host_cmp_i8q_insn, host_cmp_i8q_end, 0, false },
	{ "cmpl $0x7fffffff,(%rdi)", host_cmp_iz, host_cmp_iz_insn, host_cmp_iz_end, 0, false },
	{ "testb %cl,(%rdi)", host_test_b, host_test_b_insn, host_test_b_end, UNDEF_AF, false },
	{ "testq %rcx,(%rdi)", host_test_q, host_test_q_insn, host_test_q_end, UNDEF_AF, false },
	{ "testb $0x81,(%rdi)", host_test_ib, host_test_ib_insn, host_test_ib_end, UNDEF_AF, false },
	{ "testl $0x80000001,(%rdi)", host_test_iz, host_test_iz_insn, host_test_iz_end, UNDEF_AF, false },
	{ "testw $0x8000,(%rdi)", host_test_iw, host_test_iw_insn, host_test_iw_end, UNDEF_AF, false },
	{ "notb (%rdi)", host_not_b, host_not_b_insn, host_not_b_end, 0, false },
	{ "notq (%rdi)", host_not_q, host_not_q_insn, host_not_q_end, 0, false },
	{ "negb (%rdi)", host_neg_b, host_neg_b_insn, host_neg_b_end, 0, false },
	{ "negw (%rdi)", host_neg_w, host_neg_w_insn, host_neg_w_end, 0, false },
	{ "negl (%rdi)", host_neg_l, host_neg_l_insn, host_neg_l_end, 0, false },
	{ "negq (%rdi)", host_neg_q, host_neg_q_insn, host_neg_q_end, 0, false },
	{ "incb (%rdi)", host_inc_b, host_inc_b_insn, host_inc_b_end, 0, false },
	{ "incw (%rdi)", host_inc_w, host_inc_w_insn, host_inc_w_end, 0, false },
	{ "incl (%rdi)", host_inc_l, host_inc_l_insn, host_inc_l_end, 0, false },
	{ "incq (%rdi)", host_inc_q, host_inc_q_insn, host_inc_q_end, 0, false },
	{ "decb (%rdi)", host_dec_b, host_dec_b_insn, host_dec_b_end, 0, false },
	{ "decl (%rdi)", host_dec_l, host_dec_l_insn, host_dec_l_end, 0, false },
	{ "decq (%rdi)", host_dec_q, host_dec_q_insn, host_dec_q_end, 0, false },
	{ "lock decw (%rdi)", host_lock_dec_w, host_lock_dec_w_insn, host_lock_dec_w_end, 0, false },
	{ "xchgb %cl,(%rdi)", host_xchg_b, host_xchg_b_insn, host_xchg_b_end, 0, false },
	{ "xchgb %ch,(%rdi)", host_xchg_bh, host_xchg_bh_insn, host_xchg_bh_end, 0, false },
	{ "xchgl %ecx,(%rdi)", host_xchg_l, host_xchg_l_insn, host_xchg_l_end, 0, false },
	{ "xchgq %rcx,(%rdi)", host_xchg_q, host_xchg_q_insn, host_xchg_q_end, 0, false },
	{ "cmpxchgb %cl,(%rdi)", host_cmpxchg_b, host_cmpxchg_b_insn, host_cmpxchg_b_end, 0, false },
	{ "lock cmpxchgl %ecx,(%rdi)", host_cmpxchg_l, host_cmpxchg_l_insn, host_cmpxchg_l_end, 0, false },
	{ "cmpxchgq %rcx,(%rdi)", host_cmpxchg_q, host_cmpxchg_q_insn, host_cmpxchg_q_end, 0, false },
	{ "cmpxchgw %cx,(%rdi)", host_cmpxchg_w, host_cmpxchg_w_insn, host_cmpxchg_w_end, 0, false },
	{ "xaddb %cl,(%rdi)", host_xadd_b, host_xadd_b_insn, host_xadd_b_end, 0, false },
	{ "lock xaddl %ecx,(%rdi)", host_xadd_l, host_xadd_l_insn, host_xadd_l_end, 0, false },
	{ "xaddq %rcx,(%rdi)", host_xadd_q, host_xadd_q_insn, host_xadd_q_end, 0, false },
	{ "btl %ecx,(%rdi)", host_bt_l, host_bt_l_insn, host_bt_l_end, UNDEF_BT, true },
	{ "btq %rcx,(%rdi)", host_bt_q, host_bt_q_insn, host_bt_q_end, UNDEF_BT, true },
	{ "btsw %cx,(%rdi)", host_bts_w, host_bts_w_insn, host_bts_w_end, UNDEF_BT, true },
	{ "btrl %ecx,(%rdi)", host_btr_l, host_btr_l_insn, host_btr_l_end, UNDEF_BT, true },
	{ "lock btcq %rcx,(%rdi)", host_btc_q, host_btc_q_insn, host_btc_q_end, UNDEF_BT, true },
	{ "btl $31,(%rdi)", host_bt_i, host_bt_i_insn, host_bt_i_end, UNDEF_BT, false },
	{ "btsq $63,(%rdi)", host_bts_i, host_bts_i_insn, host_bts_i_end, UNDEF_BT, false },
	{ "btrw $0x13,(%rdi)", host_btr_i, host_btr_i_insn, host_btr_i_end, UNDEF_BT, false },
	{ "btcl $0x45,(%rdi)", host_btc_i, host_btc_i_insn, host_btc_i_end, UNDEF_BT, false },
	{ "movl %ecx,(%rdi)", host_mov_st, host_mov_st_insn, host_mov_st_end, 0, false },
	{ "movw (%rdi),%cx", host_mov_ld, host_mov_ld_insn, host_mov_ld_end, 0, false },
};

/* Values at every size's boundaries: carries, overflows, sign changes. */
static const uint64_t edges[] = {
	0, 1, 2, 0x0f, 0x10, 0x7f, 0x80, 0x81, 0xff, 0x100, 0x7fff, 0x8000,
	0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xffffffff,
	0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
	0xfffffffffffffffeULL, 0xffffffffffffffffULL, 0x123456789abcdef0ULL,
};

#define FLAGS_IN	(X86_FLAGS_ARITH | BIT(1))

/*
 * One instruction on one state: the decoder's length is the assembled
 * length, and executing it gives the CPU's memory, RAX, RCX and defined
 * flags. Memory is written back only if the decoder says so.
 */
static bool matches_host(size_t i, uint64_t mem, uint64_t rax, uint64_t rcx,
			 uint64_t flags)
{
	struct host_state hs = { mem, rax, rcx, flags | BIT(1) };
	uint64_t g[X86_NR_GPRS] = { 0 }, rf = flags | BIT(1);
	uint64_t m, out, got_mem, cmp_flags;
	struct x86_mmio_insn insn;
	unsigned int len = host_ops[i].end - host_ops[i].insn, shift = 0;

	if (x86_decode_mmio(host_ops[i].insn, len, X86_MODE_64, &insn) ||
	    insn.len != len) {
		test_fail(__FILE__, __LINE__, "%s: not decoded to %u bytes",
			  host_ops[i].text, len);
		return false;
	}
	m = insn.size == 8 ? ~0ULL : BIT(8 * insn.size) - 1;
	if (host_ops[i].bit_reg) {
		/*
		 * Keep the CPU's access inside mem: offsets 0-63, so word and
		 * dword forms reach past their operand into the next word,
		 * which is what the emulator is then given, as an exit would.
		 */
		hs.rcx = rcx %= 64;
		shift = (rcx / (8 * insn.size)) * 8 * insn.size;
	}
	host_ops[i].host(&hs);
	g[0] = rax;
	g[1] = rcx;
	out = x86_mmio_execute(&insn, insn.read ? (mem >> shift) & m : 0, g,
			       &rf);
	got_mem = insn.write ? (mem & ~(m << shift)) | ((out & m) << shift) :
			       mem;
	cmp_flags = X86_FLAGS_ARITH & ~host_ops[i].undefined;
	if (got_mem != hs.mem || g[0] != hs.rax || g[1] != hs.rcx ||
	    (rf & cmp_flags) != (hs.flags & cmp_flags) ||
	    (rf & ~X86_FLAGS_ARITH) != ((flags | BIT(1)) & ~X86_FLAGS_ARITH)) {
		test_fail(__FILE__, __LINE__,
			  "%s: mem 0x%llx rax 0x%llx rcx 0x%llx flags 0x%llx: emulated mem 0x%llx rax 0x%llx rcx 0x%llx flags 0x%llx, CPU 0x%llx 0x%llx 0x%llx 0x%llx",
			  host_ops[i].text, (unsigned long long)mem,
			  (unsigned long long)rax, (unsigned long long)rcx,
			  (unsigned long long)flags,
			  (unsigned long long)got_mem, (unsigned long long)g[0],
			  (unsigned long long)g[1], (unsigned long long)rf,
			  (unsigned long long)hs.mem, (unsigned long long)hs.rax,
			  (unsigned long long)hs.rcx,
			  (unsigned long long)hs.flags);
		return false;
	}
	return true;
}

/* ALU, XCHG, CMPXCHG, XADD, BT*: every edge pair, flags in both ways. */
static void execute_matches_host_cpu_at_edges(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(host_ops); i++) {
		for (size_t a = 0; a < ARRAY_SIZE(edges); a++) {
			for (size_t b = 0; b < ARRAY_SIZE(edges); b++) {
				uint64_t f = (a + b) & 1 ? FLAGS_IN : 0;

				/* CMPXCHG: RAX equal to memory half the time */
				if (!matches_host(i, edges[a], (b & 1) ?
						  edges[a] : edges[b], edges[b],
						  f)) {
					return;
				}
			}
		}
	}
}

/* The same with random values and random flags in. */
static void execute_matches_host_cpu_random(void)
{
	for (unsigned int round = 0; round < 3000; round++) {
		for (size_t i = 0; i < ARRAY_SIZE(host_ops); i++) {
			uint64_t mem = test_rand(), rcx = test_rand();
			uint64_t rax = (round & 1) ? mem : test_rand();

			if (!matches_host(i, mem, rax, rcx,
					  test_rand() & FLAGS_IN)) {
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
	RUN_TEST(decodes_new_forms);
	RUN_TEST(flags_at_boundaries);
	RUN_TEST(execute_matches_host_cpu_at_edges);
	RUN_TEST(execute_matches_host_cpu_random);
	RUN_TEST(random_bytes_sane);
	return test_done();
}
