// SPDX-License-Identifier: MIT
/*
 * mb32: a 32-bit multiboot (v1) guest. Checks what a multiboot loader
 * promises (EAX magic, the information structure with memory sizes and the
 * command line, the boot modules), greets over COM1, and runs MMIO forms in
 * 32-bit code
 * (paging off) against the test device: 4-byte moffs, 66-prefixed and
 * byte stores including AH, MOVZX/MOVSX loads; then the same from 16-bit
 * code in a segment whose base is not 0 (mb32/code16.S). Its memory map
 * must reserve the BIOS area, where the ACPI RSDP is (docs/x86-acpi.md).
 */
#include "guest.h"

#define DEV		((uintptr_t)GUEST_TESTDEV_BASE)

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

int mb_main(uint32_t magic, const struct mb_info *info);

/*
 * LAST and WVAL must be read 8 bytes wide, which 32-bit code cannot do
 * with a decodable instruction: here every store is checked by loading it
 * back with a different form, so a wrong size or value shows.
 */
static uint32_t ld32(unsigned int off)
{
	uint32_t r;

	__asm__ volatile("movl (%1), %0" : "=r"(r) : "r"(DEV + off)
			 : "memory");
	return r;
}

static void st32(unsigned int off, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(DEV + off)
			 : "memory");
}

static void mmio32(void)
{
	uint32_t r;

	st32(0, 0xc0de0032);
	EXPECT(ld32(0) == 0xc0de0032, "mov (%%reg),%%r32: 0x%x", ld32(0));
	st32(4, 0xffffffff);
	__asm__ volatile("movb %%ah, 4(%0)" : : "r"(DEV), "a"(0x4400)
			 : "memory");
	EXPECT(ld32(4) == 0xffffff44, "mov %%ah,4(%%reg): 0x%x", ld32(4));
	st32(8, 0);
	__asm__ volatile("movw $0x6666, 8(%0)" : : "r"(DEV) : "memory");
	EXPECT(ld32(8) == 0x6666, "movw $imm,8(%%reg): 0x%x", ld32(8));
	__asm__ volatile("movl %0, 0xfe00000c" : : "a"(0x88888888) : "memory");
	EXPECT(ld32(12) == 0x88888888, "mov %%eax,moffs32: 0x%x", ld32(12));
	st32(12, 0x12345678);
	__asm__ volatile("movl 0xfe00000c, %0" : "=a"(r) : : "memory");
	EXPECT(r == 0x12345678, "mov moffs32,%%eax: 0x%x", r);
	__asm__ volatile("movzbl 4(%1), %0" : "=r"(r) : "r"(DEV) : "memory");
	EXPECT(r == 0x44, "movzbl: 0x%x", r);
	__asm__ volatile("movswl 8(%1), %0" : "=r"(r) : "r"(DEV) : "memory");
	EXPECT(r == 0x6666, "movswl: 0x%x", r);
	__asm__ volatile("movsbl 5(%1), %0" : "=r"(r) : "r"(DEV) : "memory");
	EXPECT(r == 0xffffffff, "movsbl: 0x%x", r);
	r = 0x12340000;
	__asm__ volatile("movw 8(%1), %w0" : "+r"(r) : "r"(DEV) : "memory");
	EXPECT(r == 0x12346666, "movw 8(%%reg),%%r16: 0x%x", r);
}

/* mb32/code16.S */
void run16(void);
extern volatile uint32_t res16[5];

/* The same device from 16-bit code (operand size 16, 67 for addresses). */
static void mmio16(void)
{
	run16();
	EXPECT(res16[0] == 0xaaaa5678, "16-bit: mov (%%edi),%%bx: 0x%x",
	       res16[0]);
	EXPECT(res16[1] == 0x12345678, "16-bit: mov 4(%%edi),%%ecx: 0x%x",
	       res16[1]);
	EXPECT(res16[2] == 0xbbbb0056, "16-bit: movzbw 8(%%edi),%%dx: 0x%x",
	       res16[2]);
	EXPECT(res16[3] == 0x1616, "16-bit: movswl 10(%%edi),%%esi: 0x%x",
	       res16[3]);
	EXPECT(res16[4] == 0xcccc5678, "16-bit: mov moffs32,%%ax: 0x%x",
	       res16[4]);
	EXPECT(ld32(0xc0) == 0x5678, "16-bit: mov %%ax,(%%edi) stored 0x%x",
	       ld32(0xc0));
	EXPECT(ld32(0xc8) == 0x16160056,
	       "16-bit: mov %%ah / movw $imm16 stored 0x%x", ld32(0xc8));
	gprintf("mb32: 16-bit code: MMIO %s\n",
		checks_failed ? "FAILED" : "ok");
}

/* Each module's name, size and first line (up to 40 printable bytes). */
static void modules(const struct mb_info *info)
{
	const struct mb_module *m;

	if (!(info->flags & 8)) {
		gprintf("mb32: no modules\n");
		return;
	}
	m = (const struct mb_module *)(uintptr_t)info->mods_addr;
	gprintf("mb32: %u module%s\n", info->mods_count,
		info->mods_count == 1 ? "" : "s");
	for (uint32_t i = 0; i < info->mods_count; i++) {
		const char *p = (const char *)(uintptr_t)m[i].mod_start;
		char line[41];
		unsigned int n = 0;

		EXPECT(m[i].mod_end >= m[i].mod_start,
		       "mb32: module %u ends before it starts", i);
		EXPECT(!(m[i].mod_start & 0xfff),
		       "mb32: module %u at 0x%x is not page aligned", i,
		       m[i].mod_start);
		while (n < 40 && p + n < (const char *)(uintptr_t)m[i].mod_end &&
		       p[n] >= ' ' && p[n] < 0x7f) {
			line[n] = p[n];
			n++;
		}
		line[n] = '\0';
		gprintf("mb32: module %u '%s' %u bytes: '%s'\n", i,
			m[i].string ? (const char *)(uintptr_t)m[i].string : "",
			m[i].mod_end - m[i].mod_start, line);
	}
}

/* The memory map reserves 0xe0000-0xfffff, and the RSDP is there. */
static void memory_map(const struct mb_info *info)
{
	uint32_t off = 0, n = 0;
	bool reserved = false, rsdp = false;

	EXPECT(info->flags & 64, "mb32: no memory map");
	if (!(info->flags & 64)) {
		return;
	}
	while (off + 4 <= info->mmap_length) {
		const struct mb_mmap *e = (const struct mb_mmap *)
			(uintptr_t)(info->mmap_addr + off);

		if (e->type == 2 && e->addr <= 0xe0000 &&
		    e->addr + e->len >= 0x100000) {
			reserved = true;
		}
		EXPECT(e->type != 1 || e->addr + e->len <= 0xe0000 ||
		       e->addr >= 0x100000, "mb32: RAM at 0x%x over the BIOS "
		       "area", (uint32_t)e->addr);
		off += e->size + 4;
		n++;
	}
	for (uintptr_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16) {
		const char *p = (const char *)a;

		rsdp = p[0] == 'R' && p[1] == 'S' && p[2] == 'D' &&
		       p[3] == ' ' && p[4] == 'P' && p[5] == 'T' &&
		       p[6] == 'R' && p[7] == ' ';
	}
	EXPECT(reserved, "mb32: the BIOS area is not reserved");
	EXPECT(rsdp, "mb32: no RSDP in the BIOS area");
	gprintf("mb32: memory map of %u entries, BIOS area reserved%s\n", n,
		rsdp ? ", RSDP there" : "");
}

int mb_main(uint32_t magic, const struct mb_info *info)
{
	gprintf("mb32: hello from a 32-bit multiboot guest\n");
	EXPECT(magic == 0x2BADB002, "mb32: EAX 0x%x, not the multiboot magic",
	       magic);
	if (magic == 0x2BADB002) {
		EXPECT(info->flags & 1, "mb32: no memory information");
		gprintf("mb32: mem_lower %u KiB, mem_upper %u KiB\n",
			info->mem_lower, info->mem_upper);
		EXPECT(info->mem_upper >= 1024, "mb32: mem_upper %u KiB",
		       info->mem_upper);
		if (info->flags & 4) {
			gprintf("mb32: cmdline '%s'\n",
				(const char *)(uintptr_t)info->cmdline);
		}
		modules(info);
		memory_map(info);
	}
	mmio32();
	mmio16();
	return checks_result("mb32");
}
