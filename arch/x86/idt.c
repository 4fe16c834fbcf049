// SPDX-License-Identifier: MIT
/*
 * The IDT, one for every CPU (read-only once the boot CPU built it):
 * interrupt gates for the 32 exception vectors, each entering
 * exception_entry.S, and for the three vectors Strata takes itself
 * (arch/smp.h): the kick IPI, the idle wake-up timer and the APIC's
 * spurious vector. Interrupts are enabled only while a CPU waits in
 * arch_cpu_idle(); any other vector has no gate, so a stray one ends in
 * #NP (a gate that is not present) and a dump.
 */
#include <arch/smp.h>
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

#define IDT_VECTORS	256

static struct idt_gate idt[IDT_VECTORS] __aligned(16);

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

void x86_idt_init(bool build)
{
	struct idt_ptr ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	for (unsigned int v = 0; build && v < X86_NR_EXCEPTIONS; v++) {
		set_gate(v, x86_exception_stubs[v]);
	}
	if (build) {
		set_gate(X86_VEC_KICK, (uint64_t)(uintptr_t)x86_irq_kick_stub);
		set_gate(X86_VEC_IDLE_TIMER,
			 (uint64_t)(uintptr_t)x86_irq_timer_stub);
		set_gate(X86_VEC_SPURIOUS,
			 (uint64_t)(uintptr_t)x86_irq_spurious_stub);
	}
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}
