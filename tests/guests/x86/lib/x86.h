/* SPDX-License-Identifier: MIT */
/*
 * CPU helpers of the 64-bit test guests: CPUID, MSRs (with a variant that
 * reports a #GP instead of taking it), the TSC, and the local APIC in
 * xAPIC (MMIO at the default base) and x2APIC (MSR) modes.
 */
#ifndef GUEST_X86_X86_H
#define GUEST_X86_X86_H

#include "guest.h"

#define MSR_APIC_BASE		0x1b
#define MSR_TSC			0x10
#define MSR_TSC_ADJUST		0x3b
#define MSR_MISC_ENABLE		0x1a0
#define MSR_TSC_DEADLINE	0x6e0
#define MSR_TSC_AUX		0xc0000103
#define MSR_X2APIC(reg)		(0x800 + ((reg) >> 4))

#define APIC_BASE_BSP		(1UL << 8)
#define APIC_BASE_EXTD		(1UL << 10)
#define APIC_BASE_EN		(1UL << 11)
#define APIC_DEFAULT		0xfee00000UL

/* xAPIC register offsets (x2APIC MSR = 0x800 + offset / 16). */
#define APIC_ID			0x020
#define APIC_VER		0x030
#define APIC_TPR		0x080
#define APIC_PPR		0x0a0
#define APIC_EOI		0x0b0
#define APIC_LDR		0x0d0
#define APIC_DFR		0x0e0
#define APIC_SVR		0x0f0
#define APIC_ISR		0x100
#define APIC_TMR		0x180
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_ICR		0x300
#define APIC_ICR_HI		0x310
#define APIC_LVT_TIMER		0x320
#define APIC_LVT_ERROR		0x370
#define APIC_TIMER_ICR		0x380
#define APIC_TIMER_CCR		0x390
#define APIC_TIMER_DCR		0x3e0
#define APIC_SELF_IPI		0x3f0

#define LVT_MASKED		(1U << 16)
#define LVT_PERIODIC		(1U << 17)
#define LVT_DEADLINE		(2U << 17)
#define ICR_INIT		(5U << 8)
#define ICR_SIPI		(6U << 8)
#define ICR_NMI			(4U << 8)
#define ICR_LOGICAL		(1U << 11)
#define ICR_ASSERT		(1U << 14)
#define ICR_LEVEL		(1U << 15)
#define ICR_SELF		(1U << 18)
#define ICR_ALL			(2U << 18)
#define ICR_OTHERS		(3U << 18)

static inline void cpuid2(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]),
			 "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)) : "memory");
}

/* RDMSR / WRMSR that may #GP: true when they faulted (2 bytes skipped). */
static inline bool rdmsr_faults(uint32_t msr, uint64_t *v)
{
	unsigned long gp = exc_count[13];
	uint64_t val;

	exc_skip = 2;
	val = rdmsr(msr);
	exc_skip = 0;
	if (v) {
		*v = val;
	}
	return exc_count[13] != gp;
}

static inline bool wrmsr_faults(uint32_t msr, uint64_t v)
{
	unsigned long gp = exc_count[13];

	exc_skip = 2;
	wrmsr(msr, v);
	exc_skip = 0;
	return exc_count[13] != gp;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(APIC_DEFAULT + reg);
}

static inline void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_DEFAULT + reg) = v;
}

/* Is vector @vec set in the 256-bit register array at @reg? */
static inline bool apic_bit(uint32_t reg, unsigned int vec)
{
	return apic_read(reg + 0x10 * (vec / 32)) & (1U << (vec % 32));
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/*
 * Open an interrupt window of one instruction: STI blocks interrupts until
 * the instruction after it has run, so a pending one is taken at the NOP.
 */
static inline void irq_window(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

/* Wait with interrupts on until *@count reaches @want. */
static inline void wait_irq(volatile unsigned long *count, unsigned long want)
{
	while (*count < want) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}

/*
 * APs (lib/ap64.c): the trampoline page (free RAM below 1 MiB), an IPI
 * through the xAPIC ICR, and the AP start of a PC: INIT, SIPI, SIPI to
 * @apic_id, which then runs @entry on @stack_top in long mode with
 * interrupts off (load the IDT there with idt_load()). ap_prepare() only
 * sets up the trampoline (for a later SIPI); ap_entries() counts the APs'
 * passes through it.
 */
#define AP_TRAMPOLINE		0x8000UL
void apic_send_ipi(uint32_t dest, uint32_t icr);
void ap_prepare(void (*entry)(void), void *stack_top);
void ap_start(uint32_t apic_id, void (*entry)(void), void *stack_top);
uint32_t ap_entries(void);

#endif
