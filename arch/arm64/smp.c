// SPDX-License-Identifier: MIT
/*
 * Secondary CPUs: started with PSCI CPU_ON into boot/arm64/head.S
 * (secondary_entry), they take the boot CPU's EL2 state and tables, report in
 * and park with interrupts masked until there is work for them.
 */
#include <arch/board.h>
#include <arch/mmu.h>
#include <arch/psci.h>
#include <arch/smp.h>
#include <arch/sysreg.h>
#include <lib/printk.h>

#define SECONDARY_STACK_SIZE	8192
#define MPIDR_AFF_MASK		0xff00ffffffULL
#define ONLINE_TIMEOUT_MS	1000

extern char secondary_entry[];
void secondary_main(struct secondary_boot *b) __noreturn;

static struct secondary_boot boot_args[ARM64_MAX_CPUS] __aligned(64);
static uint8_t stacks[ARM64_MAX_CPUS][SECONDARY_STACK_SIZE] __aligned(16);

void secondary_main(struct secondary_boot *b)
{
	pr_info("arm64: CPU %llu online at EL%u (MPIDR 0x%016llx)\n",
		(unsigned long long)b->index, current_el(),
		(unsigned long long)read_sysreg(mpidr_el1));
	__atomic_store_n(&b->online, 1, __ATOMIC_RELEASE);
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

static bool wait_online(struct secondary_boot *b)
{
	uint64_t freq = read_sysreg(cntfrq_el0);
	uint64_t start = read_sysreg(cntpct_el0);
	uint64_t ticks = freq / 1000 * ONLINE_TIMEOUT_MS;

	while (!__atomic_load_n(&b->online, __ATOMIC_ACQUIRE)) {
		if (read_sysreg(cntpct_el0) - start > ticks) {
			return false;
		}
	}
	return true;
}

static bool start_cpu(unsigned int i)
{
	struct secondary_boot *b = &boot_args[i];
	int64_t ret;

	b->stack_top = (uint64_t)(uintptr_t)(stacks[i] + SECONDARY_STACK_SIZE);
	b->ttbr = el2_root();
	b->index = i;
	b->mpidr = arm64_board.cpu_mpidr[i];
	b->online = 0;
	clean_to_poc(b, sizeof(*b));
	ret = psci_call(PSCI_CPU_ON, b->mpidr,
			(uint64_t)(uintptr_t)secondary_entry,
			(uint64_t)(uintptr_t)b);
	if (ret) {
		pr_warn("arm64: PSCI CPU_ON of MPIDR 0x%llx failed (%lld)\n",
			(unsigned long long)b->mpidr, (long long)ret);
		return false;
	}
	if (!wait_online(b)) {
		pr_warn("arm64: CPU with MPIDR 0x%llx did not come up\n",
			(unsigned long long)b->mpidr);
		return false;
	}
	return true;
}

unsigned int smp_start_secondaries(void)
{
	uint64_t self = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
	unsigned int online = 1;

	if (!psci_available()) {
		return online;
	}
	for (unsigned int i = 0; i < arm64_board.nr_cpus; i++) {
		if ((arm64_board.cpu_mpidr[i] & MPIDR_AFF_MASK) == self) {
			continue;
		}
		online += start_cpu(i);
	}
	return online;
}
