/* SPDX-License-Identifier: MIT */
/*
 * x86 physical CPUs (docs/smp.md): the hypervisor's own local APIC, the
 * application processors' bring-up and the vectors Strata takes itself.
 * Strata runs with interrupts masked (RFLAGS.IF = 0) except while a CPU
 * waits in arch_cpu_idle(); a guest runs with external-interrupt exiting,
 * so an IPI to a CPU in the guest is a VM exit.
 */
#ifndef STRATA_ARCH_X86_SMP_H
#define STRATA_ARCH_X86_SMP_H

#include <core/platform.h>
#include <types.h>

/* The kick IPI (arch_kick_cpu()); the idle wake-up timer; spurious. */
#define X86_VEC_KICK		0xf0
#define X86_VEC_IDLE_TIMER	0xf1
#define X86_VEC_SPURIOUS	0xff

/* The real-mode start page of the application processors (below 1 MiB). */
extern paddr_t x86_trampoline_pa;

/*
 * Boot CPU, before the page allocator: keep one page of the RAM below
 * 1 MiB (the highest free one below the EBDA area) for the trampoline.
 */
void x86_reserve_trampoline(struct platform *p);

/* This CPU's local APIC: software-enable it (xAPIC or x2APIC mode). */
void x86_host_apic_init(void);
uint32_t x86_host_apic_id(void);
void x86_host_apic_eoi(void);
/* Program this CPU's LVT timer entry. */
void x86_host_apic_lvt_timer(uint32_t val);
/* Send ICR low word @lo to the CPU with APIC ID @dest; false on time-out. */
bool x86_host_ipi(uint32_t dest, uint32_t lo);

/* Called by the interrupt stubs (exception_entry.S) for @vector. */
void x86_irq(unsigned int vector);
/* A VM exit for an external interrupt acknowledged with @vector (or -1). */
void x86_exit_irq(int vector);

/* The stubs of the vectors above (exception_entry.S). */
extern const char x86_irq_kick_stub[], x86_irq_timer_stub[],
	x86_irq_spurious_stub[];

/* VMX on an application processor (arch/x86/vmx.c): 0 or an error. */
int vmx_cpu_init(unsigned int cpu);

#ifdef CONFIG_TEST
/* `x86_ap_fail=N` (arch/x86/selftest.c): CPU N parks as if without VMX. */
extern unsigned int x86_ap_fail_cpu;
#endif


#endif
