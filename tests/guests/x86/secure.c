// SPDX-License-Identifier: MIT
/*
 * secure: the guest of a VM with `secure = on` (docs/secure-module.md). Its
 * image, stack and boot page tables were added to the TD at build time; any
 * other private page must be accepted before use. In order it:
 *   - asks for the shared bit (TD_INFO) and maps the shared half of its
 *     first GiB and of the MMIO test device's GiB in its own page tables
 *     (PML4 entry 1: GPAs with bit 39 set);
 *   - touches a private page it has not accepted: the module's PENDING
 *     entry raises #VE, whose handler accepts the page (TDX's behaviour
 *     without SEPT_VE_DISABLE) and the read completes with zeroes;
 *   - accepts 1 MiB and runs a memory test over it;
 *   - executes VMFUNC (EPTP switching to entry 0), which must #UD, and
 *     finds its private memory intact afterwards;
 *   - converts 16 pages to shared (MAP_GPA), checks the private data did
 *     not follow them (zeroes through the shared alias), writes a line into
 *     one and prints it with CONSOLE_WRITE; a private buffer is refused;
 *     converts them back, accepts them and finds zeroes again;
 *   - does MMIO to the test device through its #VE handler at every size
 *     (the handler decodes the MOV and asks with the MMIO hypercall);
 *   - checks that the calls that would change tables behind the module's
 *     back (ZAP) are denied.
 */
#include "guest.h"

#define KiB4		4096UL
#define MiB		(1024UL * 1024)
#define GiB		(1024UL * MiB)
#define PTE_P		0x1UL
#define PTE_W		0x2UL
#define PTE_PS		0x80UL
#define VE_VECTOR	20

#define UNACCEPTED	(6 * MiB)
#define MEMTEST		(4 * MiB)
#define MEMTEST_PAGES	256
#define CONVERT		(8 * MiB)
#define CONVERT_PAGES	16

static uint64_t shared_bit;
static uint64_t pdpt_shared[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_dev[512] __attribute__((aligned(4096)));

static volatile unsigned long ve_private, ve_mmio, ve_other;
static volatile uint64_t ve_last_gpa;
static const char private_line[] = "secure: this must not be printed\n";

static inline uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

/* Map [512 GiB, 513 GiB) and the device's GiB of the shared half. */
static void map_shared_half(void)
{
	uint64_t *pml4 = (uint64_t *)(uintptr_t)(read_cr3() & ~0xfffUL);
	uint64_t dev_gib = GUEST_TESTDEV_BASE / GiB;

	for (unsigned int i = 0; i < 512; i++) {
		pd_low[i] = (shared_bit + i * 2 * MiB) | PTE_P | PTE_W | PTE_PS;
		pd_dev[i] = (shared_bit + dev_gib * GiB + i * 2 * MiB) |
			    PTE_P | PTE_W | PTE_PS;
	}
	pdpt_shared[0] = (uint64_t)(uintptr_t)pd_low | PTE_P | PTE_W;
	pdpt_shared[dev_gib] = (uint64_t)(uintptr_t)pd_dev | PTE_P | PTE_W;
	pml4[shared_bit >> 39] = (uint64_t)(uintptr_t)pdpt_shared |
				 PTE_P | PTE_W;
}

static void *shared_ptr(uint64_t gpa)
{
	return (void *)(uintptr_t)(gpa | shared_bit);
}

static uint64_t *reg_of(struct exc_frame *f, unsigned int r)
{
	uint64_t *regs[16] = {
		&f->rax, &f->rcx, &f->rdx, &f->rbx, &f->rsp, &f->rbp,
		&f->rsi, &f->rdi, &f->r8, &f->r9, &f->r10, &f->r11,
		&f->r12, &f->r13, &f->r14, &f->r15,
	};

	return regs[r & 15];
}

/*
 * Decode MOV r/m <-> reg with a register-indirect operand (88, 89, 8a, 8b
 * with 66 / REX prefixes, ModRM mod 00 without SIB or displacement), the
 * only forms this guest uses on MMIO. Returns the length, 0 if unknown.
 */
static unsigned int decode_mov(const uint8_t *ip, unsigned int *size,
			       bool *write, unsigned int *reg)
{
	unsigned int n = 0, rex = 0;
	bool opsize = false;
	uint8_t op, modrm;

	if (ip[n] == 0x66) {
		opsize = true;
		n++;
	}
	if ((ip[n] & 0xf0) == 0x40) {
		rex = ip[n++];
	}
	op = ip[n++];
	modrm = ip[n++];
	if ((modrm >> 6) != 0 || (modrm & 7) == 4 || (modrm & 7) == 5) {
		return 0;
	}
	switch (op) {
	case 0x88:
	case 0x8a:
		*size = 1;
		break;
	case 0x89:
	case 0x8b:
		*size = (rex & 8) ? 8 : opsize ? 2 : 4;
		break;
	default:
		return 0;
	}
	*write = op == 0x88 || op == 0x89;
	*reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
	return n;
}

static void ve_mmio_access(struct exc_frame *f, uint64_t gpa)
{
	unsigned int size, reg, len;
	unsigned long val = 0;
	bool write;
	uint64_t *r;

	len = decode_mov((const uint8_t *)(uintptr_t)f->rip, &size, &write,
			 &reg);
	if (!len) {
		gprintf("FAIL: secure: #VE MMIO at RIP 0x%lx: unknown instruction\n",
			(unsigned long)f->rip);
		power_off(1);
	}
	r = reg_of(f, reg);
	if (hypercall(STRATA_HC_MMIO, gpa,
		      size | (write ? STRATA_HC_MMIO_WRITE : 0),
		      write ? *r : 0, &val)) {
		gprintf("FAIL: secure: MMIO request for 0x%lx refused\n",
			(unsigned long)gpa);
		power_off(1);
	}
	if (!write) {
		if (size == 8 || size == 4) {
			*r = val;	/* a 32-bit load zero-extends */
		} else {
			uint64_t mask = size == 2 ? 0xffffUL : 0xffUL;

			*r = (*r & ~mask) | (val & mask);
		}
	}
	f->rip += len;
}

static void on_ve(struct exc_frame *f)
{
	volatile uint8_t *info = (volatile uint8_t *)(uintptr_t)
				 boot_info.ve_page;
	uint32_t reason = *(volatile uint32_t *)info;
	uint64_t gpa = *(volatile uint64_t *)(info + 24);

	ve_last_gpa = gpa;
	if (reason != 48) {	/* EPT violation */
		ve_other++;
	} else if (gpa & shared_bit) {
		ve_mmio++;
		ve_mmio_access(f, gpa);
	} else {
		/* A pending private page: accept it and run the access again. */
		ve_private++;
		hypercall(STRATA_HC_TD_ACCEPT, gpa & ~(KiB4 - 1), 0, 0, NULL);
	}
	*(volatile uint32_t *)(info + 4) = 0;	/* re-arm: busy = 0 */
}

static long accept(uint64_t gpa)
{
	return hypercall(STRATA_HC_TD_ACCEPT, gpa, 0, 0, NULL);
}

static void test_unaccepted(void)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)UNACCEPTED;
	uint64_t v;

	v = *p;
	EXPECT(ve_private == 1, "secure: touching an unaccepted page gave %lu #VE",
	       ve_private);
	EXPECT(ve_last_gpa == UNACCEPTED, "secure: #VE for GPA 0x%lx",
	       (unsigned long)ve_last_gpa);
	EXPECT(v == 0, "secure: an accepted page reads 0x%lx",
	       (unsigned long)v);
	EXPECT(accept(UNACCEPTED) == STRATA_HC_EBUSY,
	       "secure: a second accept was not refused");
	gprintf("secure: unaccepted page 0x%lx: %lu #VE, the handler accepted it, read %lu\n",
		(unsigned long)UNACCEPTED, ve_private, (unsigned long)v);
}

static void test_memtest(void)
{
	unsigned long bad = 0, refused = 0;

	for (unsigned int i = 0; i < MEMTEST_PAGES; i++) {
		refused += accept(MEMTEST + i * KiB4) != STRATA_HC_OK;
	}
	for (uint64_t a = MEMTEST; a < MEMTEST + MEMTEST_PAGES * KiB4; a += 8) {
		*(volatile uint64_t *)(uintptr_t)a = a * 0x9e3779b97f4a7c15UL;
	}
	for (uint64_t a = MEMTEST; a < MEMTEST + MEMTEST_PAGES * KiB4; a += 8) {
		bad += *(volatile uint64_t *)(uintptr_t)a !=
		       a * 0x9e3779b97f4a7c15UL;
	}
	EXPECT(refused == 0, "secure: %lu accepts refused", refused);
	EXPECT(bad == 0, "secure: memory test: %lu bad words", bad);
	EXPECT(ve_private == 1, "secure: accepted pages raised #VE");
	gprintf("secure: memory test over %u accepted private pages: %lu bad words\n",
		MEMTEST_PAGES, bad);
}

/*
 * VMFUNC leaf 0 (EPTP switching) to list entry 0, which on a plain VM is
 * the direct root: a secure VM has no VM functions, so it must #UD, and
 * the private data written by the memory test must still be there after
 * an exit (the CPU stayed on, or was put back on, the module's root).
 */
static void test_vmfunc(void)
{
	unsigned long ud = exc_count[6], bad = 0;

	exc_skip = 3;
	__asm__ volatile(".byte 0x0f, 0x01, 0xd4"	/* vmfunc */
			 : : "a"(0UL), "c"(0UL) : "memory");
	exc_skip = 0;
	EXPECT(exc_count[6] == ud + 1,
	       "secure: VMFUNC (EPTP switching to entry 0) did not #UD");
	EXPECT(accept(UNACCEPTED) == STRATA_HC_EBUSY,
	       "secure: after VMFUNC the accepted page is not accepted");
	for (uint64_t a = MEMTEST; a < MEMTEST + MEMTEST_PAGES * KiB4; a += 8) {
		bad += *(volatile uint64_t *)(uintptr_t)a !=
		       a * 0x9e3779b97f4a7c15UL;
	}
	EXPECT(bad == 0, "secure: after VMFUNC: %lu bad words of private memory",
	       bad);
	gprintf("secure: VMFUNC raised #UD, private memory intact (%lu bad words)\n",
		bad);
}

static unsigned long nonzero_words(volatile uint64_t *p, unsigned long n)
{
	unsigned long nz = 0;

	for (unsigned long i = 0; i < n; i++) {
		nz += p[i] != 0;
	}
	return nz;
}

static void test_convert(void)
{
	static const char line[] = "secure: this line came from a shared page\n";
	volatile uint64_t *priv = (volatile uint64_t *)(uintptr_t)CONVERT;
	volatile uint64_t *shr = shared_ptr(CONVERT);
	unsigned long words = CONVERT_PAGES * KiB4 / 8, n = 0;
	char *buf = shared_ptr(CONVERT + KiB4);
	long st;

	for (unsigned int i = 0; i < CONVERT_PAGES; i++) {
		accept(CONVERT + i * KiB4);
	}
	for (unsigned long i = 0; i < words; i++) {
		priv[i] = 0xa5a5a5a5a5a5a5a5UL;
	}
	st = hypercall(STRATA_HC_MAP_GPA, CONVERT | shared_bit,
		       CONVERT_PAGES * KiB4, 0, &n);
	EXPECT(st == 0 && n == CONVERT_PAGES,
	       "secure: MAP_GPA to shared: status %ld, %lu pages", st, n);
	EXPECT(nonzero_words(shr, words) == 0,
	       "secure: private data visible through the shared alias");
	for (unsigned int i = 0; i < sizeof(line) - 1; i++) {
		buf[i] = line[i];
	}
	st = hypercall(STRATA_HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)buf,
		       sizeof(line) - 1, 0, NULL);
	EXPECT(st == 0, "secure: console write from a shared page: %ld", st);
	st = hypercall(STRATA_HC_CONSOLE_WRITE,
		       (uint64_t)(uintptr_t)private_line,
		       sizeof(private_line) - 1, 0, NULL);
	EXPECT(st == STRATA_HC_DENIED,
	       "secure: console write from a private page: %ld", st);
	gprintf("secure: console write from a private buffer: status %ld (denied)\n",
		st);
	for (unsigned long i = 0; i < words; i++) {
		shr[i] = 0x5a5a5a5a5a5a5a5aUL;
	}
	st = hypercall(STRATA_HC_MAP_GPA, CONVERT, CONVERT_PAGES * KiB4, 0,
		       &n);
	EXPECT(st == 0 && n == CONVERT_PAGES,
	       "secure: MAP_GPA to private: status %ld, %lu pages", st, n);
	for (unsigned int i = 0; i < CONVERT_PAGES; i++) {
		st = accept(CONVERT + i * KiB4);
		EXPECT(st == 0, "secure: accept after conversion: %ld", st);
	}
	EXPECT(nonzero_words(priv, words) == 0,
	       "secure: shared data followed the page back to private");
	EXPECT(ve_private == 1, "secure: accepted pages raised #VE");
	gprintf("secure: %u pages private -> shared -> private, contents zeroed both ways\n",
		CONVERT_PAGES);
}

static void mmio_store(unsigned int size, volatile void *p, uint64_t v)
{
	switch (size) {
	case 1:
		__asm__ volatile("movb %%al, (%%rdi)" : : "a"(v), "D"(p) : "memory");
		break;
	case 2:
		__asm__ volatile("movw %%ax, (%%rdi)" : : "a"(v), "D"(p) : "memory");
		break;
	case 4:
		__asm__ volatile("movl %%eax, (%%rdi)" : : "a"(v), "D"(p) : "memory");
		break;
	default:
		__asm__ volatile("movq %%rax, (%%rdi)" : : "a"(v), "D"(p) : "memory");
	}
}

static uint64_t mmio_load(unsigned int size, volatile void *p)
{
	uint64_t v = 0;

	switch (size) {
	case 1:
		__asm__ volatile("movb (%%rdi), %%al" : "+a"(v) : "D"(p) : "memory");
		break;
	case 2:
		__asm__ volatile("movw (%%rdi), %%ax" : "+a"(v) : "D"(p) : "memory");
		break;
	case 4:
		__asm__ volatile("movl (%%rdi), %%eax" : "+a"(v) : "D"(p) : "memory");
		break;
	default:
		__asm__ volatile("movq (%%rdi), %%rax" : "+a"(v) : "D"(p) : "memory");
	}
	return v;
}

static void test_mmio(void)
{
	static const uint64_t pattern = 0x1122334455667788UL;
	uint8_t *dev = shared_ptr(GUEST_TESTDEV_BASE);
	unsigned long before = ve_mmio;

	for (unsigned int size = 1; size <= 8; size *= 2) {
		uint64_t mask = size == 8 ? ~0UL : (1UL << (8 * size)) - 1;
		volatile void *reg = dev + TESTDEV_SCRATCH + 8 * size;
		uint64_t got;

		mmio_store(size, reg, pattern ^ size);
		got = mmio_load(size, reg);
		EXPECT(got == ((pattern ^ size) & mask),
		       "secure: MMIO size %u read 0x%lx", size,
		       (unsigned long)got);
	}
	EXPECT(ve_mmio - before == 8, "secure: %lu #VE for 8 MMIO accesses",
	       ve_mmio - before);
	gprintf("secure: MMIO through #VE at sizes 1, 2, 4, 8: %lu #VE, values read back\n",
		ve_mmio - before);
}

int guest_main(void)
{
	unsigned long bit = 0;
	long st;

	EXPECT(boot_info.ve_page != 0, "secure: no #VE information page");
	st = hypercall(STRATA_HC_TD_INFO, 0, 0, 0, &bit);
	EXPECT(st == 0 && bit == 39, "secure: TD_INFO: status %ld, bit %lu",
	       st, bit);
	if (checks_failed) {
		return checks_result("secure");
	}
	shared_bit = 1UL << bit;
	idt_init();
	idt_hook(VE_VECTOR, on_ve);
	map_shared_half();
	gprintf("secure: shared bit %lu, #VE page 0x%lx, shared half mapped at 0x%lx\n",
		bit, (unsigned long)boot_info.ve_page,
		(unsigned long)shared_bit);
	test_unaccepted();
	test_memtest();
	test_vmfunc();
	test_convert();
	test_mmio();
	st = hypercall(STRATA_HC_ZAP, MEMTEST, KiB4, 0, NULL);
	EXPECT(st == STRATA_HC_DENIED, "secure: ZAP on a secure VM: %ld", st);
	EXPECT(ve_other == 0, "secure: %lu #VE of other kinds", ve_other);
	for (unsigned int v = 0; v < 32; v++) {
		EXPECT(v == VE_VECTOR || (v == 6 && exc_count[v] == 1) ||
		       exc_count[v] == 0,
		       "secure: %lu exceptions of vector %u", exc_count[v], v);
	}
	return checks_result("secure");
}
