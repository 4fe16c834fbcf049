// SPDX-License-Identifier: MIT
/*
 * mmio: every load/store form a guest can use on the MMIO test device
 * (include/vmm/devices.h), each trapped to EL2 and emulated from the
 * syndrome: LDRB/LDRH/LDR w/LDR x, the sign-extending LDRSB/LDRSH into w
 * and x and LDRSW, STRB/STRH/STR w/STR x, and stores of XZR/WZR, with
 * several destination registers, then other addressing forms (unscaled
 * offsets, register offsets with shift and extension, load-acquire and
 * store-release). Each access is checked three ways: the
 * value the guest got, the register's untouched/zeroed upper bits, and the
 * device's own view (LAST: size, direction, offset, running count; WVAL:
 * the value as the device received it). Ends with refused accesses (an
 * offset outside the device's registers, a write to read-only LAST), which
 * read as zero and change nothing, and the emulated PL011's registers as a
 * driver probes them. Between the two, every general-purpose register in
 * turn as the destination of a load and the source of a store, with all of
 * x0-x30 holding known values around the access: the access must move its
 * value and leave every other register as it was (the world switch saves
 * some registers only when an access needs them, guest_entry.S).
 */
#include "guest.h"

#define TD(off)		(GUEST_TESTDEV_BASE + (off))
#define GARBAGE		0xdeadbeefcafef00dUL

static uint64_t count;		/* scratch accesses the device has seen */
static unsigned int tests;

static uint64_t last(void)
{
	uint64_t v;

	__asm__ volatile("ldr %x0, [%1]" : "=r"(v) : "r"(TD(TESTDEV_LAST)));
	return v;
}

static uint64_t wval(void)
{
	uint64_t v;

	__asm__ volatile("ldr %x0, [%1]" : "=r"(v) : "r"(TD(TESTDEV_WVAL)));
	return v;
}

/* The device's LAST must describe the access just made. */
static void check_last(const char *what, unsigned int off, unsigned int size,
		       bool write)
{
	uint64_t want = size | (write ? 1UL << 8 : 0) | (uint64_t)off << 16 |
			++count << 32;
	uint64_t got = last();

	check(got == want, "mmio: %s: LAST 0x%lx, want 0x%lx", what, got, want);
}

static void check_val(const char *what, uint64_t got, uint64_t want)
{
	tests++;
	check(got == want, "mmio: %s: got 0x%lx, want 0x%lx", what, got, want);
}

/* A store of @insn (register operand %0 or a zero register) to @off. */
#define STORE(insn, operand, off, size, val, want)			\
	do {								\
		uint64_t __v = (val);					\
									\
		__asm__ volatile(insn " " operand ", [%1]"		\
				 : : "r"(__v), "r"(TD(off)) : "memory");\
		check_last(insn " " operand, off, size, true);		\
		check_val(insn " " operand " (WVAL)", wval(), want);	\
	} while (0)

/* A load of @insn through register @reg, which starts as garbage. */
#define LOAD(insn, wx, reg, off, size, want)				\
	do {								\
		register uint64_t __r __asm__(reg) = GARBAGE;		\
									\
		__asm__ volatile(insn " %" wx "0, [%1]"			\
				 : "+r"(__r) : "r"(TD(off)) : "memory");\
		check_val(insn " " wx " " reg, __r, want);		\
		check_last(insn " " reg, off, size, false);		\
	} while (0)

static void set_scratch(unsigned int off, uint64_t v)
{
	STORE("str", "%x0", off, 8, v, v);
}

static void test_stores(void)
{
	set_scratch(0x00, 0);
	STORE("strb", "%w0", 0x01, 1, 0x1122334455667788UL, 0x88);
	STORE("strh", "%w0", 0x02, 2, 0x1122334455667788UL, 0x7788);
	STORE("str", "%w0", 0x04, 4, 0x1122334455667788UL, 0x55667788);
	LOAD("ldr", "x", "x9", 0x00, 8, 0x5566778877888800UL);
	STORE("str", "%x0", 0x08, 8, 0x0102030405060708UL,
	      0x0102030405060708UL);
	LOAD("ldr", "x", "x17", 0x08, 8, 0x0102030405060708UL);

	/* The zero registers: SRT = 31 stores zero, not SP. */
	set_scratch(0x10, ~0UL);
	STORE("strb", "wzr", 0x10, 1, 0, 0);
	STORE("strh", "wzr", 0x12, 2, 0, 0);
	STORE("str", "wzr", 0x14, 4, 0, 0);
	LOAD("ldr", "x", "x0", 0x10, 8, 0x000000000000ff00UL);
	set_scratch(0x18, ~0UL);
	STORE("str", "xzr", 0x18, 8, 0, 0);
	LOAD("ldr", "x", "x28", 0x18, 8, 0);
}

static void test_loads(void)
{
	/* Bytes 0x20..0x27: 81 80 01 80 01 00 00 80 (little-endian). */
	set_scratch(0x20, 0x8000000180018081UL);
	LOAD("ldrb", "w", "x0", 0x20, 1, 0x81);
	LOAD("ldrb", "w", "x9", 0x21, 1, 0x80);
	LOAD("ldrh", "w", "x17", 0x22, 2, 0x8001);
	LOAD("ldr", "w", "x28", 0x24, 4, 0x80000001);
	LOAD("ldr", "x", "x1", 0x20, 8, 0x8000000180018081UL);
	/* Sign extension into w leaves bits 63:32 zero; into x it fills. */
	LOAD("ldrsb", "w", "x0", 0x21, 1, 0xffffff80UL);
	LOAD("ldrsb", "x", "x9", 0x21, 1, 0xffffffffffffff80UL);
	LOAD("ldrsh", "w", "x17", 0x22, 2, 0xffff8001UL);
	LOAD("ldrsh", "x", "x28", 0x22, 2, 0xffffffffffff8001UL);
	LOAD("ldrsw", "x", "x1", 0x24, 4, 0xffffffff80000001UL);
	/* Positive values stay positive. */
	set_scratch(0x28, 0x7fffffff7fff7f7fUL);
	LOAD("ldrsb", "w", "x2", 0x28, 1, 0x7f);
	LOAD("ldrsb", "x", "x3", 0x29, 1, 0x7f);
	LOAD("ldrsh", "w", "x4", 0x2a, 2, 0x7fff);
	LOAD("ldrsh", "x", "x5", 0x2a, 2, 0x7fff);
	LOAD("ldrsw", "x", "x6", 0x2c, 4, 0x7fffffff);
	/* The last scratch bytes. */
	set_scratch(0xf8, 0xa5a5a5a5a5a5a5a5UL);
	LOAD("ldrb", "w", "x7", 0xff, 1, 0xa5);
}

/*
 * regs_ldr_N / regs_str_N (N = 0..30), in the tables below: with each of
 * x0-x30 holding f->in[i], load xN from (store xN to) the test device's
 * scratch register at f->addr through xA (x9, or x10 when N is 9), then
 * dump x0-x30 to f->out. Callee-saved registers, FP and LR are kept on the
 * stack around it.
 */
struct regframe {
	uint64_t in[31];	/* offset 0 */
	uint64_t addr;		/* offset 248 */
	uint64_t out[31];	/* offset 256 */
};

_Static_assert(__builtin_offsetof(struct regframe, addr) == 248, "asm");
_Static_assert(__builtin_offsetof(struct regframe, out) == 256, "asm");

__asm__(
"	.macro	regs_one op, n, a\n"
"	.text\n"
"	.balign	4\n"
"regs_\\op\\()_\\n:\n"
"	sub	sp, sp, #112\n"
"	stp	x19, x20, [sp, #0]\n"
"	stp	x21, x22, [sp, #16]\n"
"	stp	x23, x24, [sp, #32]\n"
"	stp	x25, x26, [sp, #48]\n"
"	stp	x27, x28, [sp, #64]\n"
"	stp	x29, x30, [sp, #80]\n"
"	str	x0, [sp, #96]\n"
"	mov	x\\a, x0\n"
"	.irp	r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n"
"	.if	\\r != \\a\n"
"	ldr	x\\r, [x\\a, #8 * \\r]\n"
"	.endif\n"
"	.endr\n"
"	ldr	x\\a, [x\\a, #248]\n"
"	\\op	x\\n, [x\\a]\n"
"	sub	sp, sp, #256\n"
"	.irp	r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n"
"	str	x\\r, [sp, #8 * \\r]\n"
"	.endr\n"
"	ldr	x0, [sp, #256 + 96]\n"
"	add	x0, x0, #256\n"
"	mov	x1, #0\n"
"1:	ldr	x2, [sp, x1, lsl #3]\n"
"	str	x2, [x0, x1, lsl #3]\n"
"	add	x1, x1, #1\n"
"	cmp	x1, #31\n"
"	b.ne	1b\n"
"	add	sp, sp, #256\n"
"	ldp	x19, x20, [sp, #0]\n"
"	ldp	x21, x22, [sp, #16]\n"
"	ldp	x23, x24, [sp, #32]\n"
"	ldp	x25, x26, [sp, #48]\n"
"	ldp	x27, x28, [sp, #64]\n"
"	ldp	x29, x30, [sp, #80]\n"
"	add	sp, sp, #112\n"
"	ret\n"
"	.endm\n"
"	.irp	n, 0,1,2,3,4,5,6,7,8,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n"
"	regs_one ldr, \\n, 9\n"
"	regs_one str, \\n, 9\n"
"	.endr\n"
"	regs_one ldr, 9, 10\n"
"	regs_one str, 9, 10\n"
"	.section .rodata\n"
"	.balign	8\n"
"	.globl	regs_ldr_table, regs_str_table\n"
"regs_ldr_table:\n"
"	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n"
"	.quad	regs_ldr_\\n\n"
"	.endr\n"
"regs_str_table:\n"
"	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30\n"
"	.quad	regs_str_\\n\n"
"	.endr\n"
"	.text\n");

extern void (*const regs_ldr_table[31])(struct regframe *f);
extern void (*const regs_str_table[31])(struct regframe *f);

/* Whether f->out is f->in but for xN (@want) and xA (the address). */
static bool regs_kept(const struct regframe *f, unsigned int n,
		      unsigned int a, uint64_t want)
{
	for (unsigned int i = 0; i < 31; i++) {
		uint64_t exp = i == n ? want : i == a ? f->addr : f->in[i];

		if (f->out[i] != exp) {
			printf("mmio: x%u is 0x%lx, want 0x%lx\n", i,
			       f->out[i], exp);
			return false;
		}
	}
	return true;
}

/* 62 checks, 93 scratch accesses (a store before each load). */
static void test_registers(void)
{
	static struct regframe f;

	f.addr = TD(TESTDEV_SCRATCH);
	for (unsigned int n = 0; n < 31; n++) {
		unsigned int a = n == 9 ? 10 : 9;
		uint64_t want = 0xc0de000000000000UL | (uint64_t)n << 8 | 0x5a;

		for (unsigned int i = 0; i < 31; i++) {
			f.in[i] = 0x1111000000000000UL | (uint64_t)n << 16 | i;
		}
		mmio_write64(TD(TESTDEV_SCRATCH), want);
		regs_ldr_table[n](&f);
		count += 2;
		tests++;
		check(regs_kept(&f, n, a, want),
		      "mmio: ldr x%u changed the wrong registers", n);
		regs_str_table[n](&f);
		count++;
		tests++;
		check(regs_kept(&f, n, a, f.in[n]) && wval() == f.in[n],
		      "mmio: str x%u: WVAL 0x%lx, want 0x%lx", n, wval(),
		      f.in[n]);
	}
	/* The device saw every access: its count is the one kept here. */
	check((last() >> 32) == count, "mmio: the device counted %lu, want %lu",
	      last() >> 32, count);
}

/* Addressing forms other than [Xn]: all describe the access in ESR_EL2. */
static void test_addressing(void)
{
	uint64_t base = TD(0), v;
	uint64_t idx = 0x30;

	set_scratch(0x30, 0);
	__asm__ volatile("stur %x0, [%1, #-8]" : : "r"(0x1111222233334444UL),
			 "r"(TD(0x38)) : "memory");
	check_last("stur x, [xn, #-8]", 0x30, 8, true);
	check_val("stur x (WVAL)", wval(), 0x1111222233334444UL);
	__asm__ volatile("ldur %w0, [%1, #-4]" : "=r"(v) : "r"(TD(0x38))
			 : "memory");
	check_val("ldur w, [xn, #-4]", v, 0x11112222);
	check_last("ldur w", 0x34, 4, false);
	__asm__ volatile("ldr %x0, [%1, %2]" : "=r"(v) : "r"(base), "r"(idx)
			 : "memory");
	check_val("ldr x, [xn, xm]", v, 0x1111222233334444UL);
	check_last("ldr x, [xn, xm]", 0x30, 8, false);
	__asm__ volatile("ldrsh %x0, [%1, %2, lsl #1]" : "=r"(v)
			 : "r"(base), "r"(idx / 2 + 3) : "memory");
	check_val("ldrsh x, [xn, xm, lsl #1]", v, 0x1111);
	check_last("ldrsh x, [xn, xm, lsl #1]", 0x36, 2, false);
	__asm__ volatile("strb %w0, [%1, %w2, uxtw]" : : "r"(0xeeU), "r"(base),
			 "r"((uint32_t)idx + 7) : "memory");
	check_last("strb w, [xn, wm, uxtw]", 0x37, 1, true);
	check_val("strb w, [xn, wm, uxtw] (WVAL)", wval(), 0xee);
	__asm__ volatile("stlr %w0, [%1]" : : "r"(0xabcdef01U), "r"(TD(0x30))
			 : "memory");
	check_last("stlr w", 0x30, 4, true);
	check_val("stlr w (WVAL)", wval(), 0xabcdef01);
	__asm__ volatile("ldar %x0, [%1]" : "=r"(v) : "r"(TD(0x30)) : "memory");
	check_val("ldar x", v, 0xee112222abcdef01UL);
	check_last("ldar x", 0x30, 8, false);
}

/*
 * The emulated PL011 seen from the guest: the identification registers
 * Linux's AMBA bus reads, the flags, a configuration register's state, and
 * a refused 8-byte access.
 */
static void test_pl011(void)
{
	static const uint8_t id[8] = { 0x11, 0x10, 0x34, 0x00,
				       0x0d, 0xf0, 0x05, 0xb1 };
	uint64_t u = GUEST_PL011_BASE;
	uint64_t unclaimed = counter(STRATA_CTR_MMIO_UNCLAIMED);

	for (unsigned int i = 0; i < 8; i++) {
		check_val("PL011 ID register", mmio_read32(u + 0xfe0 + 4 * i),
			  id[i]);
	}
	check_val("PL011 UARTFR", mmio_read32(u + 0x018), 0x90);
	check_val("PL011 UARTCR after reset", mmio_read32(u + 0x030), 0x300);
	mmio_write32(u + 0x024, 13);
	check_val("PL011 UARTIBRD kept", mmio_read32(u + 0x024), 13);
	check_val("PL011 8-byte read (refused)", mmio_read64(u + 0x018), 0);
	check_val("PL011 refusals counted",
		  counter(STRATA_CTR_MMIO_UNCLAIMED) - unclaimed, 1);
}

/* Refused accesses read as zero, write nothing and leave LAST alone. */
static void test_refused(void)
{
	uint64_t unclaimed = counter(STRATA_CTR_MMIO_UNCLAIMED);
	uint64_t before = last();
	uint64_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(TD(0x200)) : "memory");
	check_val("ldr w at 0x200 (no register)", v, 0);
	__asm__ volatile("str %x0, [%1]" : : "r"(GARBAGE),
			 "r"(TD(TESTDEV_LAST)) : "memory");
	check_val("LAST after a write to it", last(), before);
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(TD(TESTDEV_LAST))
			 : "memory");
	check_val("ldr w of LAST (must be 8 bytes)", v, 0);
	check_val("unclaimed accesses counted",
		  counter(STRATA_CTR_MMIO_UNCLAIMED) - unclaimed, 3);
}

int guest_main(void *dtb)
{
	uint64_t mmio = counter(STRATA_CTR_MMIO);
	uint64_t hits = counter(STRATA_CTR_MMIO_SPTE_HITS);
	uint64_t inplace = counter(STRATA_CTR_MMIO_INPLACE);
	uint32_t len;
	const void *reg = dt_prop(dtb, "/testdev", "reg", &len);

	check(reg && len == 16 && dt_u64(reg) == GUEST_TESTDEV_BASE,
	      "mmio: /testdev in the DTB does not say 0x%lx",
	      GUEST_TESTDEV_BASE);
	count = last() >> 32;
	test_stores();
	test_loads();
	test_addressing();
	test_registers();
	printf("mmio: %u checks of %lu scratch accesses done; %lu MMIO exits, %lu through MMIO SPTEs, %lu re-entered in place\n",
	       tests, count, counter(STRATA_CTR_MMIO) - mmio,
	       counter(STRATA_CTR_MMIO_SPTE_HITS) - hits,
	       counter(STRATA_CTR_MMIO_INPLACE) - inplace);
	test_refused();
	test_pl011();
	if (failures) {
		printf("mmio: %u failures\n", failures);
		return 1;
	}
	puts("mmio: PASS\n");
	return 0;
}
