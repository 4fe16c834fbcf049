// SPDX-License-Identifier: MIT
/*
 * mmio_alu: the read-modify-write, read-only and memory-to-memory
 * instructions Strata emulates on device memory, each run twice with the
 * same registers and flags: once on RAM (the CPU's own answer) and once on
 * the MMIO test device's scratch (include/vmm/devices.h). Memory, RAX, RCX
 * and the flags the SDM defines must come out the same, and the device's
 * LAST register must show one read for CMP/TEST/BT and one read then one
 * write for the read-modify-write forms. Then MOVS/STOS between RAM and
 * MMIO and MMIO and MMIO, with REP, DF, addr32 and a segment override, and
 * PUSH/POP with a device operand.
 */
#include "guest.h"

#define DEV		((uintptr_t)GUEST_TESTDEV_BASE)
#define ARITH		0x8d5ULL	/* CF PF AF ZF SF OF */
#define UNDEF_AF	0x010ULL
#define UNDEF_BT	0x894ULL	/* OF SF AF PF */

static uint32_t nacc;	/* scratch accesses so far, as the device counts */
static unsigned int compared;

static uint64_t rd64(uintptr_t off)
{
	return *(volatile uint64_t *)(DEV + off);
}

struct state {
	uint64_t rax, rcx, flags;
};

/* One instruction on the memory at RDI, with RAX, RCX and flags loaded. */
#define OP(name, text)							\
	static void name(struct state *s, volatile uint64_t *m)		\
	{								\
		__asm__ volatile("pushq %[f]\n\tpopfq\n\t" text "\n\t"	\
				 "pushfq\n\tpopq %[f]"			\
				 : [f] "+r"(s->flags), "+a"(s->rax),	\
				   "+c"(s->rcx)				\
				 : "D"(m) : "memory", "cc");		\
	}

OP(op_or_l, "orl %%eax, (%%rdi)")
OP(op_add_b, "addb %%cl, (%%rdi)")
OP(op_add_q_rm, "addq (%%rdi), %%rcx")
OP(op_adc_w, "adcw %%cx, (%%rdi)")
OP(op_sbb_l, "sbbl %%ecx, (%%rdi)")
OP(op_and_q, "andq %%rcx, (%%rdi)")
OP(op_sub_l, "subl %%ecx, (%%rdi)")
OP(op_xor_b_rm, "xorb (%%rdi), %%ch")
OP(op_cmp_q, "cmpq %%rcx, (%%rdi)")
OP(op_cmp_l_rm, "cmpl (%%rdi), %%ecx")
OP(op_add_i8, "addl $-1, (%%rdi)")
OP(op_or_iw, "orw $0x8000, (%%rdi)")
OP(op_cmp_ib, "cmpb $0x7f, (%%rdi)")
OP(op_sub_iz, "subq $0x7fffffff, (%%rdi)")
OP(op_test_l, "testl %%ecx, (%%rdi)")
OP(op_test_ib, "testb $0x80, (%%rdi)")
OP(op_not_w, "notw (%%rdi)")
OP(op_neg_q, "negq (%%rdi)")
OP(op_inc_b, "incb (%%rdi)")
OP(op_dec_l, "lock decl (%%rdi)")
OP(op_xchg_q, "xchgq %%rcx, (%%rdi)")
OP(op_cmpxchg_l, "lock cmpxchgl %%ecx, (%%rdi)")
OP(op_xadd_w, "xaddw %%cx, (%%rdi)")
OP(op_bt_i, "btl $7, (%%rdi)")
OP(op_bts_r, "btsq %%rcx, (%%rdi)")
OP(op_btr_i, "btrw $15, (%%rdi)")
OP(op_btc_r, "lock btcl %%ecx, (%%rdi)")

static const struct {
	const char *text;
	void (*run)(struct state *s, volatile uint64_t *m);
	int accesses;		/* 1: read only; 2: read then write */
	uint64_t undefined;
	unsigned int size;
} ops[] = {
	{ "or %eax,(%rdi)", op_or_l, 2, UNDEF_AF, 4 },
	{ "add %cl,(%rdi)", op_add_b, 2, 0, 1 },
	{ "add (%rdi),%rcx", op_add_q_rm, 1, 0, 8 },
	{ "adc %cx,(%rdi)", op_adc_w, 2, 0, 2 },
	{ "sbb %ecx,(%rdi)", op_sbb_l, 2, 0, 4 },
	{ "and %rcx,(%rdi)", op_and_q, 2, UNDEF_AF, 8 },
	{ "sub %ecx,(%rdi)", op_sub_l, 2, 0, 4 },
	{ "xor (%rdi),%ch", op_xor_b_rm, 1, UNDEF_AF, 1 },
	{ "cmp %rcx,(%rdi)", op_cmp_q, 1, 0, 8 },
	{ "cmp (%rdi),%ecx", op_cmp_l_rm, 1, 0, 4 },
	{ "addl $-1,(%rdi)", op_add_i8, 2, 0, 4 },
	{ "orw $0x8000,(%rdi)", op_or_iw, 2, UNDEF_AF, 2 },
	{ "cmpb $0x7f,(%rdi)", op_cmp_ib, 1, 0, 1 },
	{ "subq $0x7fffffff,(%rdi)", op_sub_iz, 2, 0, 8 },
	{ "test %ecx,(%rdi)", op_test_l, 1, UNDEF_AF, 4 },
	{ "testb $0x80,(%rdi)", op_test_ib, 1, UNDEF_AF, 1 },
	{ "notw (%rdi)", op_not_w, 2, 0, 2 },
	{ "negq (%rdi)", op_neg_q, 2, 0, 8 },
	{ "incb (%rdi)", op_inc_b, 2, 0, 1 },
	{ "lock decl (%rdi)", op_dec_l, 2, 0, 4 },
	{ "xchg %rcx,(%rdi)", op_xchg_q, 2, 0, 8 },
	{ "lock cmpxchg %ecx,(%rdi)", op_cmpxchg_l, 2, 0, 4 },
	{ "xadd %cx,(%rdi)", op_xadd_w, 2, 0, 2 },
	{ "btl $7,(%rdi)", op_bt_i, 1, UNDEF_BT, 4 },
	{ "btsq %rcx,(%rdi)", op_bts_r, 2, UNDEF_BT, 8 },
	{ "btrw $15,(%rdi)", op_btr_i, 2, UNDEF_BT, 2 },
	{ "lock btcl %ecx,(%rdi)", op_btc_r, 2, UNDEF_BT, 4 },
};

/* Operand values at the size boundaries, and flags in both ways. */
static const uint64_t vals[] = {
	0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
	0x80000000, 0xffffffff, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
	0xffffffffffffffffULL,
};

/* The device saw @n more accesses, the last a @write of @size at @off. */
static void check_accesses(const char *what, int n, bool write,
			   unsigned int size, unsigned int off)
{
	uint64_t last = rd64(TESTDEV_LAST);

	nacc += n;
	EXPECT((last >> 32) == nacc && (last & 0xff) == size &&
	       !!(last & 0x100) == write && ((last >> 16) & 0xffff) == off,
	       "%s: LAST 0x%lx, expected access %u, a %s of %u at 0x%x", what,
	       (unsigned long)last, nacc, write ? "write" : "read", size, off);
}

static void fill(unsigned int off, uint64_t val)
{
	*(volatile uint64_t *)(DEV + off) = val;
	check_accesses("fill", 1, true, 8, off);
}

static void one_op(unsigned int i, uint64_t mem, uint64_t rcx, uint64_t f)
{
	static volatile uint64_t ram;
	volatile uint64_t *dev = (volatile uint64_t *)(DEV + 0x20);
	/* CMPXCHG: RAX equal to memory on every other value */
	struct state r = { (f & 1) ? mem : rcx ^ 0x5a5a, rcx, f | 2 };
	struct state d = r;
	uint64_t defined = ARITH & ~ops[i].undefined, got;

	ram = mem;
	fill(0x20, mem);
	ops[i].run(&r, &ram);
	ops[i].run(&d, dev);
	check_accesses(ops[i].text, ops[i].accesses, ops[i].accesses == 2,
		       ops[i].size, 0x20);
	got = *dev;
	check_accesses("read back", 1, false, 8, 0x20);
	EXPECT(got == ram && d.rax == r.rax && d.rcx == r.rcx &&
	       (d.flags & defined) == (r.flags & defined),
	       "%s on 0x%lx (rcx 0x%lx, flags 0x%lx): device 0x%lx rax 0x%lx rcx 0x%lx flags 0x%lx, CPU 0x%lx 0x%lx 0x%lx 0x%lx",
	       ops[i].text, (unsigned long)mem, (unsigned long)rcx,
	       (unsigned long)f, (unsigned long)got, (unsigned long)d.rax,
	       (unsigned long)d.rcx, (unsigned long)d.flags,
	       (unsigned long)ram, (unsigned long)r.rax,
	       (unsigned long)r.rcx, (unsigned long)r.flags);
	compared++;
}

static void alu_ops(void)
{
	const unsigned int n = sizeof(vals) / sizeof(vals[0]);

	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		for (unsigned int a = 0; a < n; a++) {
			/* bit offsets stay inside the qword at 0x20 */
			uint64_t rcx = vals[(a * 5 + 3) % n];

			if (ops[i].run == op_bts_r || ops[i].run == op_btc_r) {
				rcx = (rcx + a) % 64;
				if (ops[i].run == op_btc_r) {
					rcx %= 32;
				}
			}
			one_op(i, vals[a], rcx, (a & 1) ? ARITH : 0);
		}
	}
}

static uint8_t ram_buf[64];

/* MOVS and STOS in every direction between RAM and the device. */
static void string_ops(void)
{
	volatile uint8_t *dev = (volatile uint8_t *)DEV;
	uint64_t rsi, rdi, rcx;
	bool same = true;

	for (unsigned int i = 0; i < 32; i++) {
		ram_buf[i] = (uint8_t)(0x40 + i * 7);
	}
	/* RAM to MMIO, bytes, forwards */
	rsi = (uintptr_t)ram_buf;
	rdi = DEV + 0x40;
	rcx = 32;
	__asm__ volatile("cld\n\trep movsb" : "+S"(rsi), "+D"(rdi), "+c"(rcx)
			 : : "memory");
	nacc += 32;
	EXPECT(rcx == 0 && rsi == (uintptr_t)ram_buf + 32 && rdi == DEV + 0x60,
	       "rep movsb to MMIO: rcx %lu rsi 0x%lx rdi 0x%lx",
	       (unsigned long)rcx, (unsigned long)rsi, (unsigned long)rdi);
	check_accesses("rep movsb to MMIO", 0, true, 1, 0x5f);
	for (unsigned int i = 0; i < 32; i++) {
		same &= dev[0x40 + i] == ram_buf[i];
	}
	nacc += 32;
	EXPECT(same, "rep movsb to MMIO: bytes differ");
	/* MMIO to RAM, qwords, backwards (DF), with an %fs: override (FS base 0) */
	__builtin_memset(ram_buf, 0, sizeof(ram_buf));
	rsi = DEV + 0x58;
	rdi = (uintptr_t)ram_buf + 24;
	rcx = 4;
	__asm__ volatile("std\n\trep movsq %%fs:(%%rsi), %%es:(%%rdi)\n\tcld"
			 : "+S"(rsi), "+D"(rdi), "+c"(rcx) : : "memory");
	nacc += 4;
	EXPECT(rcx == 0 && rsi == DEV + 0x38 && rdi == (uintptr_t)ram_buf - 8,
	       "std; rep movsq from MMIO: rcx %lu rsi 0x%lx rdi 0x%lx",
	       (unsigned long)rcx, (unsigned long)rsi, (unsigned long)rdi);
	check_accesses("std; rep movsq from MMIO", 0, false, 8, 0x40);
	for (unsigned int i = 0; i < 32; i++) {
		same &= ram_buf[i] == (uint8_t)(0x40 + i * 7);
	}
	EXPECT(same, "std; rep movsq from MMIO: bytes differ");
	/* MMIO to MMIO, dwords, 32-bit addresses */
	rsi = DEV + 0x40;
	rdi = DEV + 0x80;
	rcx = 3;
	__asm__ volatile("addr32 rep movsl" : "+S"(rsi), "+D"(rdi), "+c"(rcx)
			 : : "memory");
	nacc += 6;
	check_accesses("addr32 rep movsl MMIO to MMIO", 0, true, 4, 0x88);
	EXPECT(rcx == 0 && rdi == DEV + 0x8c && rd64(0x80) == rd64(0x40),
	       "addr32 rep movsl MMIO to MMIO: rcx %lu rdi 0x%lx",
	       (unsigned long)rcx, (unsigned long)rdi);
	nacc += 2;
	/* STOS: a qword, then rep stosw */
	rdi = DEV + 0xc0;
	__asm__ volatile("stosq" : "+D"(rdi) : "a"(0x1122334455667788ULL)
			 : "memory");
	check_accesses("stosq to MMIO", 1, true, 8, 0xc0);
	EXPECT(rdi == DEV + 0xc8 && rd64(TESTDEV_WVAL) == 0x1122334455667788ULL,
	       "stosq to MMIO: rdi 0x%lx", (unsigned long)rdi);
	rcx = 4;
	__asm__ volatile("rep stosw" : "+D"(rdi), "+c"(rcx) : "a"(0xbeef)
			 : "memory");
	nacc += 4;
	check_accesses("rep stosw to MMIO", 0, true, 2, 0xce);
	EXPECT(rcx == 0 && rd64(0xc8) == 0xbeefbeefbeefbeefULL,
	       "rep stosw to MMIO: rcx %lu", (unsigned long)rcx);
	nacc++;
	gprintf("mmio_alu: string ops: movs RAM->MMIO, MMIO->RAM (DF), MMIO->MMIO (addr32), stos checked\n");
}

/* PUSH from the device onto the stack, POP from the stack to the device. */
static void stack_ops(void)
{
	uint64_t got;

	fill(0xd0, 0xa1b2c3d4e5f60718ULL);
	__asm__ volatile("pushq (%1)\n\tpopq %0" : "=r"(got) : "r"(DEV + 0xd0)
			 : "memory");
	check_accesses("pushq (mmio)", 1, false, 8, 0xd0);
	EXPECT(got == 0xa1b2c3d4e5f60718ULL, "pushq (mmio): popped 0x%lx",
	       (unsigned long)got);
	__asm__ volatile("pushq %0\n\tpopq (%1)" : : "r"(0x0f1e2d3c4b5a6978ULL),
			 "r"(DEV + 0xd8) : "memory");
	check_accesses("popq (mmio)", 1, true, 8, 0xd8);
	EXPECT(rd64(TESTDEV_WVAL) == 0x0f1e2d3c4b5a6978ULL,
	       "popq (mmio): device got 0x%lx",
	       (unsigned long)rd64(TESTDEV_WVAL));
	__asm__ volatile("pushw (%1)\n\tpopw %w0" : "=r"(got) : "r"(DEV + 0xd0)
			 : "memory");
	check_accesses("pushw (mmio)", 1, false, 2, 0xd0);
	EXPECT((got & 0xffff) == 0x0718, "pushw (mmio): popped 0x%lx",
	       (unsigned long)got);
}

int guest_main(void)
{
	unsigned long mmio0 = counter(STRATA_CTR_MMIO);

	nacc = (uint32_t)(rd64(TESTDEV_LAST) >> 32);
	alu_ops();
	gprintf("mmio_alu: %u instructions compared with the CPU on RAM\n",
		compared);
	string_ops();
	stack_ops();
	gprintf("mmio_alu: %u scratch accesses checked, %lu MMIO exits emulated\n",
		nacc, counter(STRATA_CTR_MMIO) - mmio0);
	return checks_result("mmio_alu");
}
