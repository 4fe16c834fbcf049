// SPDX-License-Identifier: MIT
// FUZZ-SOURCES: arch/x86/decode.c arch/x86/mmio_execute.c
// FUZZ-CFLAGS: -Iarch/x86/include
/*
 * libFuzzer target: the x86 MMIO decoder, fed any bytes in every mode, must
 * never crash nor read past the bytes it is given (the input is copied into
 * an exactly-sized buffer, so ASan sees any over-read), and what it accepts
 * must be sane: length 1..15 within the bytes, size 1, 2, 4 or 8, a register
 * 0-15, and executing it (x86_mmio_execute) touches only its register
 * operand (and RAX for CMPXCHG) and only the arithmetic flags.
 */
#include <stdlib.h>
#include <string.h>

#include <arch/x86_decode.h>

static void check(const uint8_t *data, size_t size, enum x86_cpu_mode mode)
{
	struct x86_mmio_insn insn;
	uint64_t g[X86_NR_GPRS], before[X86_NR_GPRS], rflags, before_flags;
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf) {
		abort();
	}
	memcpy(buf, data, size);
	if (x86_decode_mmio(buf, size, mode, &insn) == 0) {
		if (insn.len < 1 || insn.len > X86_INSN_MAX || insn.len > size) {
			abort();
		}
		if (insn.size != 1 && insn.size != 2 && insn.size != 4 &&
		    insn.size != 8) {
			abort();
		}
		if (insn.reg >= X86_NR_GPRS || insn.dst_size < insn.size ||
		    insn.dst_size > 8 || (!insn.read && !insn.write) ||
		    (insn.addr_size != 2 && insn.addr_size != 4 &&
		     insn.addr_size != 8) || insn.seg > X86_SEG_GS) {
			abort();
		}
		for (unsigned int i = 0; i < X86_NR_GPRS; i++) {
			g[i] = before[i] = 0x0101010101010101ULL * (i + 1);
		}
		rflags = before_flags = 0x202 | (size ? data[0] & 0x8d5 : 0);
		x86_mmio_execute(&insn, ~0ULL, g, &rflags);
		if ((rflags ^ before_flags) & ~(uint64_t)X86_FLAGS_ARITH) {
			abort();
		}
		if (insn.op == X86_OP_CMPXCHG) {
			before[0] = g[0];
		}
		for (unsigned int i = 0; i < X86_NR_GPRS; i++) {
			if (i != insn.reg && g[i] != before[i]) {
				abort();
			}
		}
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, X86_MODE_64);
	check(data, size, X86_MODE_32);
	check(data, size, X86_MODE_16);
	return 0;
}
