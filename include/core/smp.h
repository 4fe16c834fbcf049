/* SPDX-License-Identifier: MIT */
/*
 * Physical CPUs: the contract between the generic scheduler (vmm/) and each
 * architecture's bring-up (arch/arm64/smp.c; arch/x86 AP start-up).
 *
 * CPU numbers are dense, 0 is the boot CPU, and they are the index of the
 * per-CPU data (struct percpu, one array in the generic code) on both
 * architectures. The architecture finds its own number without touching
 * memory another CPU writes (arm64: TPIDR_EL2; x86: the GS base), so
 * smp_cpu_id() is cheap enough for every exit.
 *
 * Life of a secondary CPU: arch_smp_boot() starts it and it parks, with its
 * own stack, exception state and virtualization enabled (x86: its own GDT,
 * TSS and IST stacks, VMXON region); arch_smp_release() later sends every
 * parked CPU into @fn, which the generic scheduler supplies and which never
 * returns. The `cpus=N` word of the hypervisor command line caps how many
 * CPUs arch_smp_boot() brings up (the boot CPU counts).
 */
#ifndef STRATA_CORE_SMP_H
#define STRATA_CORE_SMP_H

#include <types.h>

#define STRATA_MAX_CPUS	8

/* This CPU's number (0 = the boot CPU). */
unsigned int smp_cpu_id(void);

/* CPUs online and in use, after arch_smp_boot() (1 before it). */
unsigned int smp_nr_cpus(void);

/*
 * Start up to @max_cpus - 1 secondaries (the firmware's list: DTB cpus or
 * the ACPI MADT), each parked on return. Returns the CPUs online, the boot
 * CPU included; a CPU that does not start is reported and skipped.
 */
unsigned int arch_smp_boot(unsigned int max_cpus);

/* Send every parked secondary into @fn(cpu); @fn never returns. */
void arch_smp_release(void (*fn)(unsigned int cpu));

/*
 * Make @cpu notice new work soon: if it runs a guest, force an exit; if it
 * waits in arch_cpu_wait(), wake it (x86: an IPI from the hypervisor's own
 * local APIC; arm64: an SGI). Safe to call for the calling CPU.
 */
void arch_kick_cpu(unsigned int cpu);

/*
 * Wait for an interrupt or a kick (HLT, WFI) with guest entry not in
 * progress; returns after any wake-up, spurious ones included.
 */
void arch_cpu_wait(void);

#endif
