// SPDX-License-Identifier: MIT
/*
 * reset: PSCI SYSTEM_RESET restarts the VM from its configuration. Each
 * boot reads STRATA_CTR_RESETS (the one thing that survives a reset) and
 * checks that nothing else of the boot before it did: RAM it wrote reads
 * zero, the memslot it added and the view it was in are gone, the
 * memslot's bytes are back under memory_max, vCPU 1 is off again, and at
 * least one root was invalidated per reset. Then it leaves all of that
 * behind again (with vCPU 1 writing RAM and vCPU 0 in a view) and resets;
 * after RESETS resets it reports and powers off.
 */
#include "guest.h"

#define PSCI_SYSTEM_RESET	0x84000009UL
#define RESETS		3
#define SCRATCH		(GUEST_RAM_BASE + 0x1000000UL)	/* 16 MiB in */
#define SLOT_GPA	0x100000000UL
#define SLOT_SIZE	0x200000UL

static uint8_t stack1[4096] __attribute__((aligned(16)));
static struct cpu_boot boot1;
static volatile uint64_t running1;

static volatile uint64_t *word(uint64_t a)
{
	return (volatile uint64_t *)a;
}

/* vCPU 1: keep RAM and the memslot busy until the reset takes it away. */
void secondary_main(struct cpu_boot *b)
{
	(void)b;
	for (uint64_t r = 1;; r++) {
		*word(SCRATCH + 0x1000) = r;
		*word(SLOT_GPA + 0x2000) = r;
		running1 = r;
	}
}

static void check_fresh(uint64_t n)
{
	struct hvc_res r;

	check(*word(SCRATCH) == 0 && *word(SCRATCH + 0x1000) == 0,
	      "reset: boot %lu: RAM kept 0x%lx 0x%lx from before the reset", n,
	      *word(SCRATCH), *word(SCRATCH + 0x1000));
	check(counter(STRATA_CTR_ROOTS_INVALIDATED) >= n,
	      "reset: boot %lu: only %lu roots invalidated", n,
	      counter(STRATA_CTR_ROOTS_INVALIDATED));
	r = hvc(STRATA_HC_MEMSLOT_DELETE, 1, 0, 0);
	check(r.status == STRATA_HC_ENOENT,
	      "reset: boot %lu: deleting memslot 1 returned %ld", n, r.status);
	r = hvc(STRATA_HC_VIEW_SWITCH, 1, 0, 0);
	check(r.status == STRATA_HC_ENOENT,
	      "reset: boot %lu: switching to view 1 returned %ld", n, r.status);
	r = hvc(STRATA_HC_VIEW_CURRENT, 0, 0, 0);
	check(r.status == 0 && r.value == 0,
	      "reset: boot %lu: in view %lu (%ld)", n, r.value, r.status);
	r = hvc(PSCI_AFFINITY_INFO, 1, 0, 0);
	check(r.status == 1, "reset: boot %lu: vCPU 1 is not off (%ld)", n,
	      r.status);
}

/* What a reset must take away: RAM contents, a memslot, a view, vCPU 1. */
static void leave_state(uint64_t n)
{
	struct hvc_res r;

	*word(SCRATCH) = 0xdead0000UL + n;
	r = hvc(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, 0);
	check(r.status == 0 && r.value == 1,
	      "reset: boot %lu: MEMSLOT_ADD returned %ld, slot %lu", n,
	      r.status, r.value);
	*word(SLOT_GPA) = 0xfeed0000UL + n;
	check(*word(SLOT_GPA) == 0xfeed0000UL + n,
	      "reset: boot %lu: the new memslot does not hold data", n);
	r = hvc(STRATA_HC_VIEW_CREATE, 0, 0, 0);
	check(r.status == 0 && r.value == 1,
	      "reset: boot %lu: VIEW_CREATE returned %ld, view %lu", n,
	      r.status, r.value);
	r = hvc(STRATA_HC_VIEW_SWITCH, 1, 0, 0);
	check(r.status == 0, "reset: boot %lu: VIEW_SWITCH returned %ld", n,
	      r.status);
	boot1.sp = (uint64_t)(stack1 + sizeof(stack1));
	boot1.id = 1;
	r = hvc(PSCI_CPU_ON, 1, (uint64_t)secondary_start, (uint64_t)&boot1);
	check(r.status == 0, "reset: boot %lu: CPU_ON returned %ld", n,
	      r.status);
	while (running1 < 1000) {
	}
}

int guest_main(void *dtb)
{
	uint64_t n = counter(STRATA_CTR_RESETS);

	(void)dtb;
	printf("reset: boot %lu\n", n);
	check_fresh(n);
	if (n == RESETS) {
		printf("reset: %u resets, %s\n", RESETS,
		       failures ? "checks FAILED" : "every boot was fresh");
		return failures ? 1 : 0;
	}
	leave_state(n);
	printf("reset: boot %lu: vCPU 1 at round %lu, asking for a reset\n",
	       n, running1);
	hvc(PSCI_SYSTEM_RESET, 0, 0, 0);
	printf("reset: SYSTEM_RESET returned\n");
	return 1;
}
