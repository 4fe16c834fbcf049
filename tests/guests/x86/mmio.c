// SPDX-License-Identifier: MIT
/*
 * mmio: every instruction form Strata's decoder accepts, run against the
 * MMIO test device (include/vmm/devices.h): stores of registers (legacy
 * high bytes, REX byte registers, r8-r15) and of immediates, loads of every
 * size with the x86 merge and extension rules, MOVZX/MOVSX/MOVSXD, moffs
 * forms, disp8/disp32, SIB with and without a base, 32-bit addressing, a
 * segment override and EIP-relative addressing. After each access the
 * device's LAST register must name its size, direction, offset and running
 * count, WVAL the stored value, and loaded registers must hold exactly what
 * the CPU would have put there.
 */
#include "guest.h"

#define DEV		((uintptr_t)GUEST_TESTDEV_BASE)
#define P		0x1111111111111111ULL	/* register before a load */

static uint32_t nacc;	/* scratch accesses so far, as the device counts */

static uint64_t rd64(uintptr_t off)
{
	return *(volatile uint64_t *)(DEV + off);
}

static uint64_t mask(unsigned int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* The previous scratch access was @size bytes at @off, read or written. */
static void check_access(const char *what, unsigned int size, bool write,
			 unsigned int off)
{
	uint64_t last = rd64(TESTDEV_LAST);

	nacc++;
	EXPECT((last & 0xff) == size && !!(last & 0x100) == write &&
	       ((last >> 16) & 0xffff) == off && (last >> 32) == nacc,
	       "%s: LAST 0x%lx, expected size %u %s at 0x%x, access %u", what,
	       (unsigned long)last, size, write ? "write" : "read", off, nacc);
}

/* Check a store: LAST, WVAL, and the scratch bytes read back. */
static void check_store(const char *what, unsigned int size,
			unsigned int off, uint64_t val)
{
	uint64_t wval, back = 0;

	check_access(what, size, true, off);
	wval = rd64(TESTDEV_WVAL);
	EXPECT(wval == (val & mask(size)), "%s: WVAL 0x%lx, stored 0x%lx",
	       what, (unsigned long)wval, (unsigned long)(val & mask(size)));
	switch (size) {
	case 1:
		back = *(volatile uint8_t *)(DEV + off);
		break;
	case 2:
		back = *(volatile uint16_t *)(DEV + off);
		break;
	case 4:
		back = *(volatile uint32_t *)(DEV + off);
		break;
	default:
		back = *(volatile uint64_t *)(DEV + off);
		break;
	}
	check_access(what, size, false, off);
	EXPECT(back == (val & mask(size)), "%s: scratch reads back 0x%lx",
	       what, (unsigned long)back);
}

/* Put @val in scratch at @off (8 bytes, checked). */
static void fill(unsigned int off, uint64_t val)
{
	*(volatile uint64_t *)(DEV + off) = val;
	check_access("fill", 8, true, off);
}

/* Load @reg from RDI = device + @off with @insn; return @reg afterwards. */
#define LOAD(insn, reg, off) ({						\
	uint64_t _o;							\
	__asm__ volatile("movq %[i], %%" reg "\n\t" insn "\n\t"		\
			 "movq %%" reg ", %[o]"				\
			 : [o] "=&r"(_o)				\
			 : [i] "r"(P), "D"(DEV + (off))			\
			 : reg, "memory");				\
	_o; })

/* Store from @reg (set to @val) with @insn, RDI = device + @off. */
#define STORE(insn, reg, val, off)					\
	__asm__ volatile("movq %[v], %%" reg "\n\t" insn		\
			 : : [v] "r"((uint64_t)(val)), "D"(DEV + (off))	\
			 : reg, "memory")

static void check_load(const char *what, uint64_t got, uint64_t want,
		       unsigned int size, unsigned int off)
{
	check_access(what, size, false, off);
	EXPECT(got == want, "%s: register 0x%lx, expected 0x%lx", what,
	       (unsigned long)got, (unsigned long)want);
}

static void register_stores(void)
{
	STORE("movb %%al, (%%rdi)", "rax", 0x5a, 0x00);
	check_store("mov %al,(%rdi)", 1, 0x00, 0x5a);
	STORE("movb %%ah, 1(%%rdi)", "rax", 0x1234, 0x00);
	check_store("mov %ah,1(%rdi)", 1, 0x01, 0x12);
	STORE("movb %%bh, 2(%%rdi)", "rbx", 0xc3c300, 0x00);
	check_store("mov %bh,2(%rdi)", 1, 0x02, 0xc3);
	STORE("movb %%sil, 3(%%rdi)", "rsi", 0x77, 0x00);
	check_store("mov %sil,3(%rdi)", 1, 0x03, 0x77);
	STORE("movb %%r9b, 5(%%rdi)", "r9", 0xee, 0x00);
	check_store("mov %r9b,5(%rdi)", 1, 0x05, 0xee);
	STORE("movw %%cx, 6(%%rdi)", "rcx", 0xabcd1234, 0x00);
	check_store("mov %cx,6(%rdi)", 2, 0x06, 0x1234);
	STORE("movl %%r10d, 0x10(%%rdi)", "r10", 0x1122334455667788ULL, 0);
	check_store("mov %r10d,0x10(%rdi)", 4, 0x10, 0x55667788);
	STORE("movq %%r12, 0x18(%%rdi)", "r12", 0x0123456789abcdefULL, 0);
	check_store("mov %r12,0x18(%rdi)", 8, 0x18, 0x0123456789abcdefULL);
	STORE("movl %%edx, 0x80(%%rdi)", "rdx", 0xcafebabe, 0x00);
	check_store("mov %edx,0x80(%rdi) (disp32)", 4, 0x80, 0xcafebabe);
	STORE("movq %%rbx, -8(%%rdi)", "rbx", 0xfeedfacef00dULL, 0x28);
	check_store("mov %rbx,-8(%rdi)", 8, 0x20, 0xfeedfacef00dULL);
	STORE("movl %%eax, %%es:0x3c(%%rdi)", "rax", 0x600df00d, 0x00);
	check_store("mov %eax,%es:0x3c(%rdi)", 4, 0x3c, 0x600df00d);
}

static void addressing_forms(void)
{
	/* SIB with index and scale */
	__asm__ volatile("movw %w0, (%%rdi,%%rdx,2)"
			 : : "r"(0x4321), "D"(DEV), "d"(0x20) : "memory");
	check_store("mov %r16,(%rdi,%rdx,2)", 2, 0x40, 0x4321);
	/* SIB without a base: disp32 + index */
	__asm__ volatile("movl %0, 0x28(,%%rsi,1)"
			 : : "r"(0x28282828), "S"(DEV) : "memory");
	check_store("mov %r32,0x28(,%rsi,1)", 4, 0x28, 0x28282828);
	/* 32-bit addressing, SIB without a base, absolute disp32 */
	__asm__ volatile("addr32 movl %0, 0xfe000030(,%%esi,4)"
			 : : "r"(0x30303030), "S"(1) : "memory");
	check_store("addr32 mov %r32,0xfe000030(,%esi,4)", 4, 0x34,
		    0x30303030);
	/* 32-bit addressing through a register */
	__asm__ volatile("movw %w0, (%%edi)"
			 : : "r"(0x3838), "D"(DEV + 0x38) : "memory");
	check_store("mov %r16,(%edi)", 2, 0x38, 0x3838);
	/* REX.B bases: r13 needs a disp8, r12 a SIB */
	__asm__ volatile("movq %1, %%r13\n\tmovq %0, %%r8\n\t"
			 "movl %%r8d, (%%r13)"
			 : : "r"(0x13131313ULL), "r"(DEV + 0x70)
			 : "r8", "r13", "memory");
	check_store("mov %r8d,(%r13)", 4, 0x70, 0x13131313);
	__asm__ volatile("movq %1, %%r12\n\tmovq %0, %%r11\n\t"
			 "movw %%r11w, (%%r12)"
			 : : "r"(0x1212ULL), "r"(DEV + 0x74)
			 : "r11", "r12", "memory");
	check_store("mov %r11w,(%r12)", 2, 0x74, 0x1212);
	/* immediate with SIB and disp32 */
	__asm__ volatile("movl $0x12345678, 0x80(%%rdi,%%rcx,8)"
			 : : "D"(DEV), "c"(1) : "memory");
	check_store("movl $imm,0x80(%rdi,%rcx,8)", 4, 0x88, 0x12345678);
}

static void immediate_stores(void)
{
	__asm__ volatile("movb $0xa5, 0x40(%%rdi)" : : "D"(DEV) : "memory");
	check_store("movb $0xa5", 1, 0x40, 0xa5);
	__asm__ volatile("movw $0xbeef, 0x42(%%rdi)" : : "D"(DEV) : "memory");
	check_store("movw $0xbeef", 2, 0x42, 0xbeef);
	__asm__ volatile("movl $0xdeadbeef, 0x44(%%rdi)" : : "D"(DEV)
			 : "memory");
	check_store("movl $0xdeadbeef", 4, 0x44, 0xdeadbeef);
	__asm__ volatile("movq $-2, 0x48(%%rdi)" : : "D"(DEV) : "memory");
	check_store("movq $-2 (sign-extended)", 8, 0x48,
		    0xfffffffffffffffeULL);
	__asm__ volatile("movq $0x7ffffff0, 0x50(%%rdi)" : : "D"(DEV)
			 : "memory");
	check_store("movq $0x7ffffff0", 8, 0x50, 0x7ffffff0);
}

static void moffs_forms(void)
{
	uint64_t r;

	__asm__ volatile("movabs %%al, 0xfe000058" : : "a"(0x58) : "memory");
	check_store("movabs %al,moffs", 1, 0x58, 0x58);
	__asm__ volatile("movabs %%ax, 0xfe00005a" : : "a"(0x5a5a)
			 : "memory");
	check_store("movabs %ax,moffs", 2, 0x5a, 0x5a5a);
	__asm__ volatile("movabs %%eax, 0xfe00005c" : : "a"(0x5c5c5c5c)
			 : "memory");
	check_store("movabs %eax,moffs", 4, 0x5c, 0x5c5c5c5c);
	__asm__ volatile("movabs %%rax, 0xfe000060" : : "a"(0x6060606060606060ULL)
			 : "memory");
	check_store("movabs %rax,moffs", 8, 0x60, 0x6060606060606060ULL);
	fill(0x90, 0x8877665544332291ULL);
	r = P;
	__asm__ volatile("movabs 0xfe000090, %%al" : "+a"(r) : : "memory");
	check_load("movabs moffs,%al", r, (P & ~0xffULL) | 0x91, 1, 0x90);
	r = P;
	__asm__ volatile("movabs 0xfe000090, %%ax" : "+a"(r) : : "memory");
	check_load("movabs moffs,%ax", r, (P & ~0xffffULL) | 0x2291, 2, 0x90);
	r = P;
	__asm__ volatile("movabs 0xfe000090, %%eax" : "+a"(r) : : "memory");
	check_load("movabs moffs,%eax", r, 0x44332291, 4, 0x90);
	r = P;
	__asm__ volatile("movabs 0xfe000090, %%rax" : "+a"(r) : : "memory");
	check_load("movabs moffs,%rax", r, 0x8877665544332291ULL, 8, 0x90);
}

static void register_loads(void)
{
	const uint64_t m = 0x0123456789abcdefULL;	/* all sizes negative */
	const uint64_t n = 0xfedcba9876543280ULL;	/* byte negative only */
	uint64_t r;

	fill(0xa0, m);
	fill(0xa8, n);
	check_load("mov (%rdi),%al", LOAD("movb (%%rdi), %%al", "rax", 0xa0),
		   (P & ~0xffULL) | 0xef, 1, 0xa0);
	check_load("mov (%rdi),%ch", LOAD("movb (%%rdi), %%ch", "rcx", 0xa0),
		   (P & ~0xff00ULL) | 0xef00, 1, 0xa0);
	check_load("mov (%rdi),%sil", LOAD("movb (%%rdi), %%sil", "rsi", 0xa0),
		   (P & ~0xffULL) | 0xef, 1, 0xa0);
	check_load("mov (%rdi),%r10b", LOAD("movb (%%rdi), %%r10b", "r10", 0xa0),
		   (P & ~0xffULL) | 0xef, 1, 0xa0);
	check_load("mov (%rdi),%bx", LOAD("movw (%%rdi), %%bx", "rbx", 0xa0),
		   (P & ~0xffffULL) | 0xcdef, 2, 0xa0);
	check_load("mov (%rdi),%ecx", LOAD("movl (%%rdi), %%ecx", "rcx", 0xa0),
		   0x89abcdef, 4, 0xa0);
	check_load("mov (%rdi),%r15", LOAD("movq (%%rdi), %%r15", "r15", 0xa0),
		   m, 8, 0xa0);
	__asm__ volatile("movq %[i], %%r14\n\tmovq 0xa0(%%rdi,%%rcx,8), %%r14\n\t"
			 "movq %%r14, %[o]"
			 : [o] "=&r"(r) : [i] "r"(P), "D"(DEV), "c"(1)
			 : "r14", "memory");
	check_load("mov 0xa0(%rdi,%rcx,8),%r14", r, n, 8, 0xa8);
	check_load("movzbw (%rdi),%dx", LOAD("movzbw (%%rdi), %%dx", "rdx", 0xa0),
		   (P & ~0xffffULL) | 0xef, 1, 0xa0);
	check_load("movzbl (%rdi),%edx", LOAD("movzbl (%%rdi), %%edx", "rdx", 0xa0),
		   0xef, 1, 0xa0);
	check_load("movzbq (%rdi),%r9", LOAD("movzbq (%%rdi), %%r9", "r9", 0xa0),
		   0xef, 1, 0xa0);
	check_load("movzwl (%rdi),%esi", LOAD("movzwl (%%rdi), %%esi", "rsi", 0xa0),
		   0xcdef, 2, 0xa0);
	check_load("movzwq (%rdi),%rsi", LOAD("movzwq (%%rdi), %%rsi", "rsi", 0xa0),
		   0xcdef, 2, 0xa0);
	check_load("movsbw (%rdi),%dx", LOAD("movsbw (%%rdi), %%dx", "rdx", 0xa0),
		   (P & ~0xffffULL) | 0xffef, 1, 0xa0);
	check_load("movsbl (%rdi),%edx", LOAD("movsbl (%%rdi), %%edx", "rdx", 0xa0),
		   0xffffffef, 1, 0xa0);
	check_load("movsbq (%rdi),%r8", LOAD("movsbq (%%rdi), %%r8", "r8", 0xa0),
		   0xffffffffffffffefULL, 1, 0xa0);
	check_load("movsbq (%rdi),%r8 (0x80)", LOAD("movsbq (%%rdi), %%r8", "r8",
						   0xa8),
		   0xffffffffffffff80ULL, 1, 0xa8);
	check_load("movswl (%rdi),%ebx", LOAD("movswl (%%rdi), %%ebx", "rbx", 0xa0),
		   0xffffcdef, 2, 0xa0);
	check_load("movswq (%rdi),%rbx (positive)",
		   LOAD("movswq (%%rdi), %%rbx", "rbx", 0xa8), 0x3280, 2, 0xa8);
	check_load("movslq (%rdi),%rcx", LOAD("movslq (%%rdi), %%rcx", "rcx", 0xa0),
		   0xffffffff89abcdefULL, 4, 0xa0);
	check_load("movslq (%rdi),%r11 (positive)",
		   LOAD("movslq (%%rdi), %%r11", "r11", 0xa8), 0x76543280, 4, 0xa8);
	/* movsxd without REX.W: a plain 32-bit load (63 0f) */
	check_load("movsxd (%rdi),%ecx", LOAD(".byte 0x63, 0x0f", "rcx", 0xa0),
		   0x89abcdef, 4, 0xa0);
	check_load("mov (%edi),%eax (addr32)",
		   LOAD("movl (%%edi), %%eax", "rax", 0xa0), 0x89abcdef, 4, 0xa0);
}

/*
 * EIP-relative: a RIP-relative operand cannot reach the device from code at
 * 1 MiB, but with the 67 prefix the address is EIP + disp32 truncated to 32
 * bits. Build "addr32 mov %eax, disp(%rip); ret" (and a load) in RAM.
 */
static uint8_t code[32] __attribute__((aligned(16)));

static void rip_relative(void)
{
	uint32_t disp;
	uint64_t r;

	code[0] = 0x67;
	code[1] = 0x89;
	code[2] = 0x05;
	disp = (uint32_t)(DEV + 0xb0 - ((uintptr_t)code + 7));
	__builtin_memcpy(&code[3], &disp, 4);
	code[7] = 0xc3;
	code[8] = 0x67;
	code[9] = 0x48;
	code[10] = 0x8b;
	code[11] = 0x05;
	disp = (uint32_t)(DEV + 0xb0 - ((uintptr_t)code + 16));
	__builtin_memcpy(&code[12], &disp, 4);
	code[16] = 0xc3;
	__asm__ volatile("call *%1" : : "a"(0xb0b0b0b0), "r"(code) : "memory");
	check_store("addr32 mov %eax,disp(%rip)", 4, 0xb0, 0xb0b0b0b0);
	r = P;
	__asm__ volatile("call *%1" : "+a"(r) : "r"(code + 8) : "memory");
	/* bytes 0xb4-0xb7 were never written: device memory starts zeroed */
	check_load("addr32 mov disp(%rip),%rax", r, 0xb0b0b0b0, 8, 0xb0);
}

int guest_main(void)
{
	uint64_t last = rd64(TESTDEV_LAST);
	unsigned long mmio0 = counter(STRATA_CTR_MMIO);

	nacc = (uint32_t)(last >> 32);
	EXPECT(nacc == 0, "mmio: device saw %u accesses before the first",
	       nacc);
	register_stores();
	addressing_forms();
	immediate_stores();
	moffs_forms();
	register_loads();
	rip_relative();
	gprintf("mmio: %u scratch accesses checked, %lu MMIO exits emulated, %lu through MMIO SPTEs\n",
		nacc, counter(STRATA_CTR_MMIO) - mmio0,
		counter(STRATA_CTR_MMIO_SPTE_HITS));
	return checks_result("mmio");
}
