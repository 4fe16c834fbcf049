/* SPDX-License-Identifier: MIT */
/* x86-64 instructions the hypervisor uses, as small inline functions. */
#ifndef STRATA_ARCH_CPU_H
#define STRATA_ARCH_CPU_H

#include <types.h>

#define X86_CR0_PE	BIT(0)
#define X86_CR0_NE	BIT(5)
#define X86_CR0_PG	BIT(31)
#define X86_CR4_PAE	BIT(5)
#define X86_CR4_VMXE	BIT(13)

#define MSR_IA32_FEATURE_CONTROL	0x3a
#define MSR_IA32_VMX_BASIC		0x480
#define MSR_IA32_VMX_PROCBASED_CTLS	0x482
#define MSR_IA32_VMX_CR0_FIXED0		0x486
#define MSR_IA32_VMX_CR0_FIXED1		0x487
#define MSR_IA32_VMX_CR4_FIXED0		0x488
#define MSR_IA32_VMX_CR4_FIXED1		0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2	0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP	0x48c
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	__asm__ volatile("wrmsr"
		     : : "c"(msr), "a"((uint32_t)val),
		       "d"((uint32_t)(val >> 32))
		     : "memory");
}

#define DEFINE_CR_ACCESSORS(n)					\
static inline uint64_t read_cr##n(void)				\
{								\
	uint64_t v;						\
								\
	__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));	\
	return v;						\
}								\
static inline void write_cr##n(uint64_t v)			\
{								\
	__asm__ volatile("mov %0, %%cr" #n : : "r"(v)		\
			 : "memory");				\
}

DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Halt this CPU for good, with interrupts off. */
static inline __noreturn void cpu_halt_forever(void)
{
	for (;;) {
		__asm__ volatile("cli; hlt" ::: "memory");
	}
}

#endif
