// SPDX-License-Identifier: MIT
/*
 * The hypervisor's GDTs and TSSs, one of each per physical CPU (a TSS is
 * marked busy by LTR, so CPUs cannot share one, and each needs its own
 * interrupt stacks). The TSS carries no I/O bitmap and only the interrupt
 * stacks: #DF, NMI and #MC run on their own stacks so that a broken kernel
 * stack still gives a dump. A loaded TR is also what VMX needs as the host
 * TR (arch/x86/vmcs.c writes this CPU's into the VMCS it loads).
 */
#include <arch/x86.h>
#include <core/percpu.h>

#define IST_STACK_SIZE	0x2000

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout");

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

#define GDT_CODE64	0x00af9a000000ffffULL
#define GDT_DATA	0x00cf92000000ffffULL
#define TSS_TYPE_AVAIL	0x9ULL
#define DESC_PRESENT	BIT(47)

struct cpu_tables {
	uint64_t gdt[5];
	struct tss64 tss;
	uint8_t ist_stacks[3][IST_STACK_SIZE];
} __aligned(64);

static struct cpu_tables cpu_tables[PCPU_MAX];

/*
 * The CPU whose IST stacks (#DF, NMI, #MC) hold @sp, or -1: this_pcpu()
 * must name the right CPU in a handler that runs on one of them.
 */
int x86_ist_stack_cpu(uintptr_t sp)
{
	uintptr_t off = sp - (uintptr_t)cpu_tables;

	if (off >= sizeof(cpu_tables)) {
		return -1;
	}
	return (int)(off / sizeof(cpu_tables[0]));
}

/* The two quadwords of a 64-bit available-TSS descriptor. */
static void set_tss_desc(uint64_t *d, uint64_t base, uint32_t limit)
{
	d[0] = (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) |
	       (TSS_TYPE_AVAIL << 40) | DESC_PRESENT |
	       ((uint64_t)(limit >> 16 & 0xf) << 48) |
	       ((base >> 24 & 0xffULL) << 56);
	d[1] = base >> 32;
}

static void load_gdt(uint64_t *gdt, size_t size)
{
	struct desc_ptr ptr = { (uint16_t)(size - 1), (uint64_t)(uintptr_t)gdt };

	__asm__ volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "mov %2, %%ds\n\t"
		     "mov %2, %%es\n\t"
		     "mov %2, %%ss"
		     : : "m"(ptr), "i"(X86_SEL_CODE64), "r"(X86_SEL_DATA)
		     : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(X86_SEL_TSS));
}

static void gdt_init(struct cpu_tables *t)
{
	uint64_t *gdt = t->gdt;
	struct tss64 *tss = &t->tss;

	gdt[0] = 0;
	gdt[X86_SEL_CODE64 / 8] = GDT_CODE64;
	gdt[X86_SEL_DATA / 8] = GDT_DATA;
	set_tss_desc(&gdt[X86_SEL_TSS / 8], (uint64_t)(uintptr_t)tss,
		     sizeof(*tss) - 1);
	tss->iomap_base = sizeof(*tss);
	tss->ist[X86_IST_DF - 1] = (uint64_t)(uintptr_t)t->ist_stacks[0] +
				  IST_STACK_SIZE;
	tss->ist[X86_IST_NMI - 1] = (uint64_t)(uintptr_t)t->ist_stacks[1] +
				   IST_STACK_SIZE;
	tss->ist[X86_IST_MC - 1] = (uint64_t)(uintptr_t)t->ist_stacks[2] +
				  IST_STACK_SIZE;
	load_gdt(gdt, sizeof(t->gdt));
}

void x86_cpu_tables_init(unsigned int cpu)
{
	gdt_init(&cpu_tables[cpu]);
	x86_idt_init(cpu == 0);
}
