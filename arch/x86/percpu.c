// SPDX-License-Identifier: MIT
/*
 * x86 and the scheduler's per-CPU hooks (include/core/percpu.h): Strata
 * runs on the boot CPU only, since application processors are not started
 * yet (INIT-SIPI-SIPI from the MADT, issue 11). So this CPU is pcpus[0],
 * there is no other CPU to kick, and vCPUs never block in HLT (every exit
 * returns to the run loop as before), so the idle hook is only a pause.
 */
#include <core/percpu.h>
#include <lib/printk.h>

struct pcpu *this_pcpu(void)
{
	return &pcpus[0];
}

unsigned int arch_start_cpus(unsigned int max)
{
	(void)max;
	pcpus[0].id = 0;
	pcpus[0].started = true;
	pr_info("x86: 1 CPU in use (application processors are not started)\n");
	return 1;
}

void arch_kick_cpu(const struct pcpu *c)
{
	(void)c;	/* never another CPU */
}

uint64_t arch_ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Only the ratio matters (the 1 ms bound of a wait); nominal 1 GHz. */
uint64_t arch_ticks_hz(void)
{
	return 1000000000ULL;
}

void arch_cpu_idle(uint64_t until)
{
	(void)until;
	__asm__ volatile("pause" ::: "memory");
}
