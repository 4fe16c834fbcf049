/* SPDX-License-Identifier: MIT */
/* x86-64 instructions the hypervisor uses, as small inline functions. */
#ifndef STRATA_ARCH_CPU_H
#define STRATA_ARCH_CPU_H

#include <types.h>

#define X86_CR0_PE	BIT(0)
#define X86_CR0_MP	BIT(1)
#define X86_CR0_EM	BIT(2)
#define X86_CR0_TS	BIT(3)
#define X86_CR0_ET	BIT(4)
#define X86_CR0_NE	BIT(5)
#define X86_CR0_WP	BIT(16)
#define X86_CR0_AM	BIT(18)
#define X86_CR0_NW	BIT(29)
#define X86_CR0_CD	BIT(30)
#define X86_CR0_PG	BIT(31)
#define X86_CR4_PSE	BIT(4)
#define X86_CR4_DE	BIT(3)
#define X86_CR4_PAE	BIT(5)
#define X86_CR4_OSFXSR	BIT(9)
#define X86_CR4_OSXMMEXCPT BIT(10)
#define X86_CR4_LA57	BIT(12)
#define X86_CR4_VMXE	BIT(13)
#define X86_CR4_SMXE	BIT(14)
#define X86_CR4_FSGSBASE BIT(16)
#define X86_CR4_PCIDE	BIT(17)
#define X86_CR4_OSXSAVE	BIT(18)
#define X86_CR4_SMEP	BIT(20)
#define X86_CR4_SMAP	BIT(21)

#define X86_EFER_SCE	BIT(0)
#define X86_EFER_LME	BIT(8)
#define X86_EFER_LMA	BIT(10)
#define X86_EFER_NXE	BIT(11)

#define X86_RFLAGS_FIXED BIT(1)
#define X86_RFLAGS_TF	BIT(8)
#define X86_RFLAGS_IF	BIT(9)
#define X86_RFLAGS_RF	BIT(16)

/* Exception vectors Strata injects into guests. */
#define X86_VEC_NMI	2
#define X86_VEC_UD	6
#define X86_VEC_GP	13

#define MSR_IA32_TSC			0x10
#define MSR_IA32_APIC_BASE		0x1b
#define MSR_IA32_FEATURE_CONTROL	0x3a
#define MSR_IA32_TSC_ADJUST		0x3b
#define MSR_IA32_MTRRCAP		0xfe
#define MSR_IA32_MCG_CAP		0x179
#define MSR_IA32_MCG_STATUS		0x17a
#define MSR_IA32_MISC_ENABLE		0x1a0
#define MSR_IA32_MTRR_DEF_TYPE		0x2ff
#define MSR_IA32_TSC_DEADLINE		0x6e0
#define MSR_X2APIC_FIRST		0x800
#define MSR_X2APIC_LAST			0x8ff
#define MSR_IA32_SYSENTER_CS		0x174
#define MSR_IA32_SYSENTER_ESP		0x175
#define MSR_IA32_SYSENTER_EIP		0x176
#define MSR_IA32_PAT			0x277
#define MSR_IA32_VMX_BASIC		0x480
#define MSR_IA32_VMX_PINBASED_CTLS	0x481
#define MSR_IA32_VMX_PROCBASED_CTLS	0x482
#define MSR_IA32_VMX_EXIT_CTLS		0x483
#define MSR_IA32_VMX_ENTRY_CTLS		0x484
#define MSR_IA32_VMX_MISC		0x485
#define MSR_IA32_VMX_CR0_FIXED0		0x486
#define MSR_IA32_VMX_CR0_FIXED1		0x487
#define MSR_IA32_VMX_CR4_FIXED0		0x488
#define MSR_IA32_VMX_CR4_FIXED1		0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2	0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP	0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	0x490
#define MSR_IA32_VMX_VMFUNC		0x491
#define MSR_EFER			0xc0000080
#define MSR_STAR			0xc0000081
#define MSR_LSTAR			0xc0000082
#define MSR_CSTAR			0xc0000083
#define MSR_SFMASK			0xc0000084
#define MSR_FS_BASE			0xc0000100
#define MSR_GS_BASE			0xc0000101
#define MSR_KERNEL_GS_BASE		0xc0000102
#define MSR_TSC_AUX			0xc0000103

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

static inline uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv(uint32_t xcr, uint64_t val)
{
	__asm__ volatile("xsetbv"
		     : : "c"(xcr), "a"((uint32_t)val),
		       "d"((uint32_t)(val >> 32))
		     : "memory");
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

static inline uint16_t read_tr(void)
{
	uint16_t sel;

	__asm__ volatile("str %0" : "=r"(sel));
	return sel;
}

/* Base address of the GDT / IDT this CPU uses. */
static inline uint64_t read_gdt_base(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed d;

	__asm__ volatile("sgdt %0" : "=m"(d));
	return d.base;
}

static inline uint64_t read_idt_base(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed d;

	__asm__ volatile("sidt %0" : "=m"(d));
	return d.base;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
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
