// SPDX-License-Identifier: MIT
/*
 * reset: the x86 twin of tests/guests/arm64/reset.c, reset through the
 * reset control register (port 0xcf9: SYS_RST, then SYS_RST | RST_CPU, as
 * Linux's reboot=pci does). Each boot reads STRATA_CTR_RESETS and checks
 * that nothing of the boot before it survived: RAM it wrote reads zero,
 * its memslot and view are gone, the register reads 0 again; vCPU 1 starts
 * again by INIT-SIPI-SIPI. Then it leaves that state behind and resets;
 * after RESETS resets it reports and powers off.
 */
#include "guest.h"
#include "x86.h"

#define RESETS		2
#define SCRATCH		0x800000UL	/* 8 MiB: RAM outside the image */
#define SLOT_GPA	0x80000000UL
#define SLOT_SIZE	0x200000UL
#define RESET_CTL	0xcf9

static uint8_t stack1[16384] __attribute__((aligned(16)));
static volatile uint64_t running1;

static volatile uint64_t *word(uint64_t a)
{
	return (volatile uint64_t *)(uintptr_t)a;
}

static long call(unsigned long fn, unsigned long a0, unsigned long *val)
{
	return hypercall(fn, a0, 0, 0, val);
}

/* vCPU 1: keep RAM and the memslot busy until the reset takes it away. */
static void secondary_main(void)
{
	for (uint64_t r = 1;; r++) {
		*word(SCRATCH + 0x1000) = r;
		*word(SLOT_GPA + 0x2000) = r;
		running1 = r;
	}
}

static void check_fresh(unsigned long n)
{
	unsigned long v = 0;
	long st;

	EXPECT(*word(SCRATCH) == 0 && *word(SCRATCH + 0x1000) == 0,
	       "reset: boot %lu: RAM kept 0x%lx 0x%lx from before the reset",
	       n, *word(SCRATCH), *word(SCRATCH + 0x1000));
	EXPECT(counter(STRATA_CTR_ROOTS_INVALIDATED) >= n,
	       "reset: boot %lu: only %lu roots invalidated", n,
	       counter(STRATA_CTR_ROOTS_INVALIDATED));
	st = call(STRATA_HC_MEMSLOT_DELETE, 1, &v);
	EXPECT(st == STRATA_HC_ENOENT,
	       "reset: boot %lu: deleting memslot 1 returned %ld", n, st);
	st = call(STRATA_HC_VIEW_SWITCH, 1, &v);
	EXPECT(st == STRATA_HC_ENOENT,
	       "reset: boot %lu: switching to view 1 returned %ld", n, st);
	st = call(STRATA_HC_VIEW_CURRENT, 0, &v);
	EXPECT(st == 0 && v == 0, "reset: boot %lu: in view %lu (%ld)", n, v,
	       st);
	EXPECT(inb(RESET_CTL) == 0, "reset: boot %lu: port 0xcf9 reads 0x%x",
	       n, inb(RESET_CTL));
}

static void leave_state(unsigned long n)
{
	unsigned long v = 0;
	long st;

	*word(SCRATCH) = 0xdead0000UL + n;
	st = hypercall(STRATA_HC_MEMSLOT_ADD, SLOT_GPA, SLOT_SIZE, 0, &v);
	EXPECT(st == 0 && v == 1,
	       "reset: boot %lu: MEMSLOT_ADD returned %ld, slot %lu", n, st, v);
	*word(SLOT_GPA) = 0xfeed0000UL + n;
	EXPECT(*word(SLOT_GPA) == 0xfeed0000UL + n,
	       "reset: boot %lu: the new memslot does not hold data", n);
	st = call(STRATA_HC_VIEW_CREATE, 0, &v);
	EXPECT(st == 0 && v == 1,
	       "reset: boot %lu: VIEW_CREATE returned %ld, view %lu", n, st, v);
	st = call(STRATA_HC_VIEW_SWITCH, 1, &v);
	EXPECT(st == 0, "reset: boot %lu: VIEW_SWITCH returned %ld", n, st);
	apic_write(APIC_SVR, 0x1ff);
	ap_start(1, secondary_main, stack1 + sizeof(stack1));
	while (running1 < 1000) {
		__asm__ volatile("pause" ::: "memory");
	}
	/* SYS_RST alone only chooses the kind of reset. */
	outb(RESET_CTL, 0x02);
	EXPECT(inb(RESET_CTL) == 0x02, "reset: boot %lu: 0xcf9 reads 0x%x", n,
	       inb(RESET_CTL));
}

int guest_main(void)
{
	unsigned long n = counter(STRATA_CTR_RESETS);

	gprintf("reset: boot %lu\n", n);
	idt_init();
	check_fresh(n);
	if (n == RESETS) {
		gprintf("reset: %u resets, %s\n", RESETS,
			checks_failed ? "checks FAILED" : "every boot was fresh");
		return checks_result("reset");
	}
	leave_state(n);
	gprintf("reset: boot %lu: vCPU 1 at round %lu, asking for a reset\n", n,
		(unsigned long)running1);
	outb(RESET_CTL, 0x06);
	gprintf("reset: the reset control register did not reset\n");
	return 1;
}
