// SPDX-License-Identifier: MIT
/*
 * x86 and the scheduler's per-CPU hooks (include/core/percpu.h, docs/smp.md).
 * this_pcpu() and the bring-up are in arch/x86/smp.c. A kick is an IPI of
 * X86_VEC_KICK through the hypervisor's local APIC: a CPU in the guest
 * takes it as a VM exit (external-interrupt exiting), one in its idle HLT
 * wakes up. Strata runs with interrupts masked; a CPU with nothing to run
 * enables them only for the HLT of arch_cpu_idle(), woken by a kick or by
 * its TSC-deadline timer (X86_VEC_IDLE_TIMER) at @until.
 */
#include <arch/cpu.h>
#include <arch/guest_acpi.h>
#include <arch/smp.h>
#include <core/percpu.h>
#include <lib/printk.h>

#define MSR_TSC_DEADLINE	0x6e0
#define LVT_TSC_DEADLINE	(2U << 17)
#define ICR_FIXED		0U

void arch_kick_cpu(const struct pcpu *c)
{
	if (!x86_host_ipi((uint32_t)c->hw_id, ICR_FIXED | X86_VEC_KICK)) {
		pr_warn("x86: kick of CPU %u not sent (ICR busy)\n", c->id);
	}
}

uint64_t arch_ticks(void)
{
	return rdtsc();
}

uint64_t arch_ticks_hz(void)
{
	return x86_tsc_hz(NULL);
}

void x86_irq(unsigned int vector)
{
	if (vector == X86_VEC_KICK) {
		this_pcpu()->kicks_taken++;
	}
	x86_host_apic_eoi();
}

void x86_exit_irq(int vector)
{
	if (vector < 0) {
		/* Not acknowledged on exit: take it through the IDT now. */
		__asm__ volatile("sti; nop; cli" ::: "memory");
		return;
	}
	if (vector == X86_VEC_KICK || vector == X86_VEC_IDLE_TIMER) {
		x86_irq((unsigned int)vector);
	}
	/* Anything else came from a masked source; it needs no EOI here. */
}

static bool has_tsc_deadline(void)
{
	return cpuid(1, 0).ecx & BIT(24);
}

void arch_cpu_idle(uint64_t until)
{
	if (has_tsc_deadline()) {
		x86_host_apic_lvt_timer(LVT_TSC_DEADLINE | X86_VEC_IDLE_TIMER);
		/*
		 * SDM 10.5.4.1: in xAPIC mode the MMIO write that selects
		 * TSC-deadline mode must be ordered before the WRMSR that
		 * arms it, or the deadline may be dropped.
		 */
		__asm__ volatile("mfence" ::: "memory");
		wrmsr(MSR_TSC_DEADLINE, until);
		/* STI's shadow: an interrupt pending already ends the HLT. */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		wrmsr(MSR_TSC_DEADLINE, 0);
		return;
	}
	/* No deadline timer: a spin with interrupts open, until a kick. */
	for (uint64_t kicks = this_pcpu()->kicks_taken;
	     (int64_t)(rdtsc() - until) < 0 &&
	     this_pcpu()->kicks_taken == kicks;) {
		__asm__ volatile("sti; pause; pause; cli" ::: "memory");
	}
}
