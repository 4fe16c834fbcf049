// SPDX-License-Identifier: MIT
/*
 * Starting an AP the way a PC does, only through the local APIC: INIT,
 * then two start-up IPIs with vector AP_TRAMPOLINE >> 12, so that the AP
 * starts in real mode at 0800:0000, where a copy of the trampoline below
 * takes it through 32-bit protected mode into long mode on the caller's
 * page tables, a stack and an entry point of the caller's choice.
 */
#include "guest.h"
#include "x86.h"

extern const char tramp_start[], tramp_end[], t_cr3[], t_stack[], t_entry[],
	t_count[];

/* Real mode -> 32-bit protected mode -> long mode, at AP_TRAMPOLINE. */
__asm__(".section .rodata\n"
	".code16\n"
	"tramp_start:\n"
	"	cli\n"
	"	xorw %ax, %ax\n"
	"	movw %ax, %ds\n"
	"	lgdtl 0x8000 + (t_gdtr - tramp_start)\n"
	"	movl %cr0, %eax\n"
	"	orl $1, %eax\n"
	"	movl %eax, %cr0\n"
	"	ljmpl $0x18, $(0x8000 + (t_pm32 - tramp_start))\n"
	".code32\n"
	"t_pm32:\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movw %ax, %ss\n"
	"	movl %cr4, %eax\n"
	"	orl $0x20, %eax\n"			/* PAE */
	"	movl %eax, %cr4\n"
	"	movl 0x8000 + (t_cr3 - tramp_start), %eax\n"
	"	movl %eax, %cr3\n"
	"	movl $0xc0000080, %ecx\n"		/* EFER.LME */
	"	rdmsr\n"
	"	orl $0x100, %eax\n"
	"	wrmsr\n"
	"	movl %cr0, %eax\n"
	"	orl $0x80000000, %eax\n"		/* PG */
	"	movl %eax, %cr0\n"
	"	ljmp $0x08, $(0x8000 + (t_lm64 - tramp_start))\n"
	".code64\n"
	"t_lm64:\n"
	"	movq 0x8000 + (t_stack - tramp_start), %rsp\n"
	"	lock incl 0x8000 + (t_count - tramp_start)\n"
	"	movq 0x8000 + (t_entry - tramp_start), %rax\n"
	"	jmp *%rax\n"
	"	.balign 8\n"
	"t_gdt:\n"
	"	.quad 0\n"
	"	.quad 0x00af9b000000ffff\n"		/* 0x08: 64-bit code */
	"	.quad 0x00cf93000000ffff\n"		/* 0x10: data */
	"	.quad 0x00cf9b000000ffff\n"		/* 0x18: 32-bit code */
	"t_gdtr:\n"
	"	.word 4 * 8 - 1\n"
	"	.long 0x8000 + (t_gdt - tramp_start)\n"
	"	.balign 8\n"
	"t_cr3:	.quad 0\n"
	"t_stack: .quad 0\n"
	"t_entry: .quad 0\n"
	"t_count: .long 0\n"
	"tramp_end:\n"
	".text\n");

_Static_assert(AP_TRAMPOLINE == 0x8000, "the trampoline is linked at 0x8000");

static volatile void *tramp(const char *sym)
{
	return (volatile void *)(AP_TRAMPOLINE + (uintptr_t)(sym - tramp_start));
}

void apic_send_ipi(uint32_t dest, uint32_t icr)
{
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR, icr);
}

void ap_prepare(void (*entry)(void), void *stack_top)
{
	uint64_t cr3;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	for (const char *p = tramp_start; p < tramp_end; p++) {
		((volatile char *)AP_TRAMPOLINE)[p - tramp_start] = *p;
	}
	*(volatile uint64_t *)tramp(t_cr3) = cr3;
	*(volatile uint64_t *)tramp(t_stack) = (uint64_t)(uintptr_t)stack_top;
	*(volatile uint64_t *)tramp(t_entry) = (uint64_t)(uintptr_t)entry;
}

void ap_start(uint32_t apic_id, void (*entry)(void), void *stack_top)
{
	ap_prepare(entry, stack_top);
	apic_send_ipi(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
	apic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL);	/* de-assert: no-op */
	apic_send_ipi(apic_id, ICR_SIPI | (AP_TRAMPOLINE >> 12));
	apic_send_ipi(apic_id, ICR_SIPI | (AP_TRAMPOLINE >> 12));
}

uint32_t ap_entries(void)
{
	return *(volatile uint32_t *)tramp(t_count);
}
