/* SPDX-License-Identifier: MIT */
/*
 * Physical CPUs: the per-CPU data and the hooks each architecture gives the
 * scheduler (vmm/sched.c, docs/smp.md).
 *
 * Home of per-CPU data: pcpus[], indexed by Strata's CPU number (0 is the
 * boot CPU, then the CPUs in the order the architecture started them). A
 * CPU finds its own entry with this_pcpu() (arm64: from its stack pointer,
 * CPU n >= 1 running on stacks[n] of arch/arm64/smp.c and the boot CPU on
 * the boot stack; TPIDR_EL2 is the world switch's; x86 the same way with
 * stacks[n] of arch/x86/smp.c). Fields a CPU writes only for itself need
 * no lock; the others say who may touch them.
 */
#ifndef STRATA_CORE_PERCPU_H
#define STRATA_CORE_PERCPU_H

#include <types.h>

#define PCPU_MAX		8
/* vCPUs one physical CPU may be given (all vCPUs of all VMs). */
#define PCPU_MAX_VCPUS		64

struct vcpu;

/**
 * struct pcpu - one physical CPU.
 * @id: its Strata number (index in pcpus[]).
 * @hw_id: the architecture's id (arm64 MPIDR_EL1 affinity, x86 APIC ID).
 * @gic_mask: arm64 GICv2: its CPU interface bit for GICD_SGIR targets.
 * @started: the CPU runs Strata's code (set by the CPU itself).
 * @loop_done: the CPU has left its cpu_loop() for good (set by itself; the
 *	boot CPU tears down only once every other CPU it uses set it).
 * @nr_vcpus: @vcpus: the vCPUs it time-slices, in order; set by the boot
 *	CPU before any CPU enters its loop, read-only afterwards.
 * @kicks_sent: kicks this CPU sent to other CPUs.
 * @kicks_taken: kick interrupts it took.
 * @idles: times it waited for an interrupt with nothing to run.
 */
struct pcpu {
	unsigned int id;
	uint64_t hw_id;
	uint32_t gic_mask;
	bool started;
	bool loop_done;
	unsigned int nr_vcpus;
	struct vcpu *vcpus[PCPU_MAX_VCPUS];
	uint64_t kicks_sent;
	uint64_t kicks_taken;
	uint64_t idles;
} __attribute__((aligned(64)));

extern struct pcpu pcpus[PCPU_MAX];
/* CPUs the scheduler uses: pcpus[0 .. nr_pcpus - 1] (`cpus=` limits it). */
extern unsigned int nr_pcpus;

/* ---- Architecture hooks -------------------------------------------------- */

/* This CPU's entry in pcpus[]. */
struct pcpu *this_pcpu(void);

/*
 * Start up to @max - 1 other physical CPUs (the boot CPU is pcpus[0]) and
 * set each up to take kicks; each started CPU calls vmm_secondary_ready()
 * and then waits in vmm_secondary_wait(). Returns how many CPUs run Strata,
 * the boot CPU included.
 */
unsigned int arch_start_cpus(unsigned int max);

/* Interrupt CPU @c (not this one) so that it leaves the guest or its idle. */
void arch_kick_cpu(const struct pcpu *c);

/* The architecture's clock: ticks since boot, and ticks per second. */
uint64_t arch_ticks(void);
uint64_t arch_ticks_hz(void);

/*
 * Wait (interrupts masked) until an interrupt is pending for this CPU or
 * @until (arch_ticks()) passes, then acknowledge what arrived. May return
 * earlier.
 */
void arch_cpu_idle(uint64_t until);

/* ---- What the architecture calls (vmm/run.c) ------------------------------ */

/* A started CPU: report in (from the CPU itself, its pcpus[] entry set up). */
void vmm_secondary_ready(struct pcpu *self);
/* Then: wait for the run, run this CPU's loop if it is used; returns after. */
void vmm_secondary_wait(struct pcpu *self);

#endif
