// SPDX-License-Identifier: MIT
/*
 * Secondary CPUs: started with PSCI CPU_ON into boot/arm64/head.S
 * (secondary_entry), they take the boot CPU's EL2 state and tables, set up
 * their side of the GIC (gic_cpu_init()), report in and wait for the run
 * loop (vmm_secondary_wait(), docs/smp.md). `cpus=N` on the command line
 * starts only N - 1 of them.
 *
 * Per-CPU data is pcpus[] (include/core/percpu.h). A CPU finds its entry
 * from its stack pointer: CPU n (n >= 1) runs on stacks[n], the boot CPU on
 * the boot stack. Rejected: TPIDR_EL2, which the world switch uses for the
 * vCPU context (guest_entry.S), and a lookup of MPIDR_EL1 in pcpus[] (a
 * loop per call).
 */
#include <arch/board.h>
#include <arch/guest.h>
#include <arch/mmu.h>
#include <arch/psci.h>
#include <arch/smp.h>
#include <arch/sysreg.h>
#include <core/percpu.h>
#include <lib/printk.h>

#define SECONDARY_STACK_SIZE	32768
#define MPIDR_AFF_MASK		0xff00ffffffULL
#define ONLINE_TIMEOUT_MS	1000

extern char secondary_entry[];
void secondary_main(struct secondary_boot *b) __noreturn;

static struct secondary_boot boot_args[PCPU_MAX] __aligned(64);
static uint8_t stacks[PCPU_MAX][SECONDARY_STACK_SIZE] __aligned(16);

struct pcpu *this_pcpu(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t off = sp - (uintptr_t)stacks;

	if (off < sizeof(stacks)) {
		return &pcpus[off / SECONDARY_STACK_SIZE];
	}
	return &pcpus[0];
}

uint64_t arch_ticks(void)
{
	isb();
	return read_sysreg(cntpct_el0);
}

uint64_t arch_ticks_hz(void)
{
	return read_sysreg(cntfrq_el0);
}

void secondary_main(struct secondary_boot *b)
{
	struct pcpu *self = &pcpus[b->index];

	if (self != this_pcpu()) {
		pr_err("arm64: CPU %llu is not on its own stack; parked\n",
		       (unsigned long long)b->index);
		__atomic_store_n(&b->online, 2, __ATOMIC_RELEASE);
		for (;;) {
			__asm__ volatile("wfi");
		}
	}
	self->hw_id = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
	pr_info("arm64: CPU %llu online at EL%u (MPIDR 0x%016llx)\n",
		(unsigned long long)b->index, current_el(),
		(unsigned long long)read_sysreg(mpidr_el1));
	if (gic_cpu_init()) {
		pr_err("arm64: CPU %llu cannot take interrupts; parked\n",
		       (unsigned long long)b->index);
		__atomic_store_n(&b->online, 2, __ATOMIC_RELEASE);
		for (;;) {
			__asm__ volatile("wfi");
		}
	}
	vmm_secondary_ready(self);
	__atomic_store_n(&b->online, 1, __ATOMIC_RELEASE);
	vmm_secondary_wait(self);
	for (;;) {
		__asm__ volatile("wfi");
	}
}

/* The CPU reads @b with its MMU and caches off: push it to memory. */
static void clean_to_poc(const void *p, size_t size)
{
	uint64_t ctr = read_sysreg(ctr_el0);
	uint64_t line = 4ULL << ((ctr >> 16) & 0xf);
	uintptr_t end = (uintptr_t)p + size;

	for (uintptr_t a = ALIGN_DOWN((uintptr_t)p, line); a < end;
	     a += line) {
		__asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
	}
	dsb(sy);
}

/* 1 when the CPU reported in, 2 when it parked itself, 0 on time-out. */
static uint64_t wait_online(struct secondary_boot *b)
{
	uint64_t freq = read_sysreg(cntfrq_el0);
	uint64_t start = read_sysreg(cntpct_el0);
	uint64_t ticks = freq / 1000 * ONLINE_TIMEOUT_MS;
	uint64_t st;

	while (!(st = __atomic_load_n(&b->online, __ATOMIC_ACQUIRE))) {
		if (read_sysreg(cntpct_el0) - start > ticks) {
			return 0;
		}
	}
	return st;
}

enum start_result {
	CPU_STARTED,
	CPU_REFUSED,	/* CPU_ON failed: the CPU never ran, slot @n is free */
	CPU_LOST,	/* CPU_ON worked, the CPU did not report in (or parked) */
};

/* Start board CPU @i as Strata CPU @n, on stacks[n] with boot_args[n]. */
static enum start_result start_cpu(unsigned int i, unsigned int n)
{
	struct secondary_boot *b = &boot_args[n];
	int64_t ret;

	pcpus[n].id = n;
	b->stack_top = (uint64_t)(uintptr_t)(stacks[n] + SECONDARY_STACK_SIZE);
	b->ttbr = el2_root();
	b->index = n;
	b->mpidr = arm64_board.cpu_mpidr[i];
	b->online = 0;
	clean_to_poc(b, sizeof(*b));
	ret = psci_call(PSCI_CPU_ON, b->mpidr,
			(uint64_t)(uintptr_t)secondary_entry,
			(uint64_t)(uintptr_t)b);
	if (ret) {
		pr_warn("arm64: PSCI CPU_ON of MPIDR 0x%llx failed (%lld)\n",
			(unsigned long long)b->mpidr, (long long)ret);
		return CPU_REFUSED;
	}
	switch (wait_online(b)) {
	case 1:
		return CPU_STARTED;
	case 0:
		pr_warn("arm64: CPU with MPIDR 0x%llx did not come up\n",
			(unsigned long long)b->mpidr);
		return CPU_LOST;
	default:
		return CPU_LOST;	/* it said why */
	}
}

/*
 * A CPU that CPU_ON started may still run (late, or parked in its WFI
 * loop) on stacks[n] with boot_args[n] and pcpus[n]: its slot is never
 * given to another CPU. Since pcpus[0 .. nr_pcpus - 1] are the CPUs the
 * scheduler uses, no further CPU is started after such a one.
 */
unsigned int arch_start_cpus(unsigned int max)
{
	uint64_t self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
	unsigned int online = 1, listed = arm64_board.nr_cpus ?
					  arm64_board.nr_cpus : 1;

	pcpus[0].id = 0;
	pcpus[0].hw_id = self;
	pcpus[0].gic_mask = gic_cpu_mask();
	pcpus[0].started = true;
	for (unsigned int i = 0; i < arm64_board.nr_cpus && psci_available();
	     i++) {
		enum start_result r;

		if ((arm64_board.cpu_mpidr[i] & MPIDR_AFF_MASK) == self) {
			continue;
		}
		if (online >= max || online >= PCPU_MAX) {
			break;
		}
		r = start_cpu(i, online);
		if (r == CPU_STARTED) {
			online++;
		} else if (r == CPU_LOST) {
			pr_warn("arm64: no more CPUs started after one that may still run on slot %u\n",
				online);
			break;
		}
	}
	pr_info("arm64: %u of %u CPUs online\n", online, listed);
	if (online < listed && online == max) {
		pr_info("arm64: cpus=%u on the command line: the other CPUs stay off\n",
			max);
	}
	return online;
}
