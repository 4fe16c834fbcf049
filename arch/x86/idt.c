// SPDX-License-Identifier: MIT
/*
 * The IDT: interrupt gates for the 32 exception vectors, each entering
 * exception_entry.S. Interrupts stay disabled; vectors above 31 have no
 * gate, so a stray one ends in #GP and a dump.
 */
#include <arch/x86.h>

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

/* P=1, DPL=0, 64-bit interrupt gate */
#define GATE_INTERRUPT_PRESENT	0x8e

static struct idt_gate idt[X86_NR_EXCEPTIONS] __aligned(16);

static uint8_t vector_ist(unsigned int vec)
{
	switch (vec) {
	case 2:
		return X86_IST_NMI;
	case 8:
		return X86_IST_DF;
	case 18:
		return X86_IST_MC;
	default:
		return 0;
	}
}

static void set_gate(unsigned int vec, uint64_t handler)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = X86_SEL_CODE64,
		.ist = vector_ist(vec),
		.type_attr = GATE_INTERRUPT_PRESENT,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void x86_idt_init(void)
{
	struct idt_ptr ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	for (unsigned int v = 0; v < X86_NR_EXCEPTIONS; v++) {
		set_gate(v, x86_exception_stubs[v]);
	}
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}
