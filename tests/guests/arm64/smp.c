// SPDX-License-Identifier: MIT
/*
 * smp: PSCI for the vCPUs of one VM. The boot vCPU starts every other vCPU
 * the DTB lists with CPU_ON (entry secondary_start, context = its boot
 * block); each secondary checks that it runs with its own MPIDR (Aff0 =
 * its number) and context, reports in, waits (WFI) for the signal and
 * leaves with CPU_OFF. Meanwhile the boot vCPU checks AFFINITY_INFO (ON
 * while they run, OFF after CPU_OFF), the refusals (ALREADY_ON, an MPIDR
 * with no vCPU, an entry no memory backs) and FEATURES, then starts vCPU 1
 * a second time to show that CPU_OFF is not the end of a vCPU.
 */
#include "guest.h"

#define MAX_CPUS	8
#define STACK		4096
#define AFF_ON		0
#define AFF_OFF		1
#define PSCI_INVALID_PARAMS	(-2)
#define PSCI_ALREADY_ON		(-4)
#define PSCI_INVALID_ADDRESS	(-9)

static struct cpu_boot boot[MAX_CPUS];
static uint8_t stacks[MAX_CPUS][STACK] __attribute__((aligned(16)));
static volatile uint64_t arrived[MAX_CPUS], mpidr_seen[MAX_CPUS];
static volatile uint64_t go[MAX_CPUS];

void secondary_main(struct cpu_boot *b)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	mpidr_seen[b->id] = mpidr;
	arrived[b->id]++;
	while (go[b->id] < arrived[b->id]) {
		__asm__ volatile("wfi");
	}
	hvc(PSCI_CPU_OFF, 0, 0, 0);
	/* CPU_OFF does not return: reaching this is a failure. */
	mpidr_seen[b->id] = ~0UL;
}

static int64_t cpu_on(uint64_t cpu, uint64_t entry)
{
	return hvc(PSCI_CPU_ON, cpu, entry, (uint64_t)&boot[cpu]).status;
}

static int64_t affinity(uint64_t cpu)
{
	return hvc(PSCI_AFFINITY_INFO, cpu, 0, 0).status;
}

/* Wait (yielding with WFI) until @cond holds; false after ~2 s. */
#define WAIT_FOR(cond)							\
	({								\
		uint64_t __end = read_cntvct() + 2 * read_cntfrq();	\
		while (!(cond) && read_cntvct() < __end) {		\
			__asm__ volatile("wfi");			\
		}							\
		(bool)(cond);						\
	})

static bool start_all(unsigned int n, unsigned int round)
{
	for (unsigned int i = 1; i < n; i++) {
		int64_t st = cpu_on(i, (uint64_t)secondary_start);

		if (!check(st == 0, "smp: CPU_ON(%u) returned %ld", i, st)) {
			return false;
		}
	}
	for (unsigned int i = 1; i < n; i++) {
		if (!check(WAIT_FOR(arrived[i] == round),
			   "smp: vCPU %u did not come up", i) ||
		    !check((mpidr_seen[i] & 0xff) == i,
			   "smp: vCPU %u reads MPIDR 0x%lx", i, mpidr_seen[i]) ||
		    !check(affinity(i) == AFF_ON,
			   "smp: AFFINITY_INFO(%u) is %ld while it runs", i,
			   affinity(i))) {
			return false;
		}
	}
	return true;
}

static bool stop_all(unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		go[i]++;
	}
	for (unsigned int i = 1; i < n; i++) {
		if (!check(WAIT_FOR(affinity(i) == AFF_OFF),
			   "smp: vCPU %u is not OFF after CPU_OFF", i)) {
			return false;
		}
		check(mpidr_seen[i] != ~0UL, "smp: CPU_OFF returned on %u", i);
	}
	return true;
}

static void refusals(unsigned int n)
{
	int64_t st;

	st = cpu_on(0, (uint64_t)secondary_start);
	check(st == PSCI_ALREADY_ON, "smp: CPU_ON(0) returned %ld", st);
	st = cpu_on(1, (uint64_t)secondary_start);
	check(st == PSCI_ALREADY_ON, "smp: CPU_ON(1) while on returned %ld",
	      st);
	st = hvc(PSCI_CPU_ON, n, (uint64_t)secondary_start, 0).status;
	check(st == PSCI_INVALID_PARAMS, "smp: CPU_ON(%u) returned %ld", n, st);
	st = hvc(PSCI_CPU_ON, 1UL << 8, (uint64_t)secondary_start, 0).status;
	check(st == PSCI_INVALID_PARAMS, "smp: CPU_ON(Aff1 = 1) returned %ld",
	      st);
	st = affinity(n);
	check(st == PSCI_INVALID_PARAMS, "smp: AFFINITY_INFO(%u) returned %ld",
	      n, st);
	st = hvc(PSCI_FEATURES, PSCI_CPU_ON, 0, 0).status;
	check(st == 0, "smp: FEATURES(CPU_ON) returned %ld", st);
	/* CPU_SUSPEND is not offered */
	st = hvc(PSCI_FEATURES, 0xC4000001UL, 0, 0).status;
	check(st == -1, "smp: FEATURES(CPU_SUSPEND) returned %ld", st);
}

int guest_main(void *dtb)
{
	unsigned int n = dt_count_cpus(dtb);
	int64_t st;

	if (!check(n >= 2 && n <= MAX_CPUS, "smp: %u vCPUs in the DTB", n)) {
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		boot[i].sp = (uint64_t)&stacks[i][STACK];
		boot[i].id = i;
	}
	printf("smp: %u vCPUs in the device tree\n", n);
	if (start_all(n, 1)) {
		printf("smp: vCPUs 1-%u came up with their own MPIDR\n", n - 1);
	}
	refusals(n);
	if (stop_all(n)) {
		printf("smp: vCPUs 1-%u are OFF after CPU_OFF\n", n - 1);
	}
	/* vCPU 1 is OFF now: an entry no memory backs is refused. */
	st = cpu_on(1, 0x1000);
	check(st == PSCI_INVALID_ADDRESS,
	      "smp: CPU_ON with entry 0x1000 returned %ld", st);
	check(affinity(1) == AFF_OFF, "smp: a refused CPU_ON started vCPU 1");
	/* Bits outside Aff0-3 are invalid, however the target's Aff0 reads. */
	for (unsigned int i = 0; i < 4; i++) {
		static const uint64_t bad[4] = { 1UL << 63, 1UL << 31,
						 1UL << 24, 1UL << 40 };

		st = hvc(PSCI_CPU_ON, 1 | bad[i], (uint64_t)secondary_start,
			 0).status;
		check(st == PSCI_INVALID_PARAMS,
		      "smp: CPU_ON(1 | 0x%lx) returned %ld", bad[i], st);
		st = hvc(PSCI_AFFINITY_INFO, 1 | bad[i], 0, 0).status;
		check(st == PSCI_INVALID_PARAMS,
		      "smp: AFFINITY_INFO(1 | 0x%lx) returned %ld", bad[i], st);
	}
	/* An entry that is backed but not 4-byte aligned is invalid. */
	st = cpu_on(1, (uint64_t)secondary_start + 2);
	check(st == PSCI_INVALID_ADDRESS,
	      "smp: CPU_ON with entry start + 2 returned %ld", st);
	check(affinity(1) == AFF_OFF, "smp: a misaligned CPU_ON started vCPU 1");
	if (!failures) {
		printf("smp: CPU_ON refuses non-affinity MPIDR bits (-2) and misaligned entries (-9)\n");
	}
	/* vCPU 1 again: CPU_OFF is not the end of a vCPU. */
	if (!failures && start_all(2, 2) && stop_all(2)) {
		printf("smp: vCPU 1 started again after CPU_OFF\n");
	}
	if (failures) {
		return 1;
	}
	puts("smp: PASS\n");
	return 0;
}
