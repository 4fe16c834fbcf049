// SPDX-License-Identifier: MIT
/*
 * mte: MTE as the CPU has it. Without tag storage (ID_AA64PFR1_EL1.MTE < 2,
 * through Strata's trap) the guest says so and stops. With it, the guest
 * maps its RAM as Tagged memory (stage 1 on, identity), then:
 * - sets and reads back allocation tags (STG/LDG), and takes a synchronous
 *   tag-check fault at its own EL1 for an access through a pointer with the
 *   wrong tag;
 * - runs two vCPUs on one physical CPU (QEMU -smp 1), each with its own
 *   GCR_EL1, RGSR_EL1, TFSR_EL1 and TFSRE0_EL1, each reading them back only
 *   after the other vCPU has set its own (judged from the vCPUs' flags);
 * - tags two granules (one in its image's BSS, one 8 MiB into RAM that
 *   nothing else touches, each alone in its page) and resets the VM (PSCI SYSTEM_RESET); after the
 *   reset (STRATA_CTR_RESETS says which boot this is) both must read tag 0:
 *   Strata clears the tags of RAM as it zeroes it (arch/arm64/mte.c).
 */
#include "guest.h"

#define PSCI_SYSTEM_RESET	0x84000009UL
#define FAR_SPOT		(GUEST_RAM_BASE + (8UL << 20))
#define TAG(p, t)		((uint64_t)(p) | (uint64_t)(t) << 56)

static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
/*
 * Each tagged granule is alone in its page: QEMU 7.2 (Debian 12) finds a
 * granule's tag from its page's address and the granule's parity only, so
 * every other granule of the page shares it (docs/arm64-features.md).
 */
static uint8_t tagpage[4096] __attribute__((aligned(4096)));
static struct cpu_boot boot1;
static uint8_t stack1[4096] __attribute__((aligned(16)));
static volatile uint64_t loaded[2], checked[2], bad[2];
static volatile uint64_t faults, fault_far, fault_esr;

#define SYSREG_W(name, v) __asm__ volatile("msr " name ", %0\n\tisb" : : "r"(v))
#define SYSREG_R(name) ({ uint64_t __v; \
	__asm__ volatile("mrs %0, " name : "=r"(__v)); __v; })

static void mmu_on(void)
{
	uint64_t sctlr;

	if (!l1[1]) {
		/* 1 GiB blocks: devices below RAM, RAM Tagged write-back. */
		l1[0] = 0x0UL | 1UL << 54 | 1UL << 53 | 1 << 10 | 1 << 2 | 1;
		for (unsigned int i = 0; i < 512; i++) {
			l2[i] = (GUEST_RAM_BASE + ((uint64_t)i << 21)) |
				1 << 10 | 3 << 8 | 0 << 2 | 1;
		}
		l1[1] = (uint64_t)l2 | 3;
	}
	SYSREG_W("mair_el1", 0xf0UL | 0x00UL << 8);
	/* T0SZ 25, WBWA, inner shareable, 4K, no TTBR1 walks, 40-bit PA, TBI0 */
	SYSREG_W("tcr_el1", 25UL | 1UL << 8 | 1UL << 10 | 3UL << 12 |
		 1UL << 23 | 2UL << 32 | 1UL << 37);
	SYSREG_W("ttbr0_el1", (uint64_t)l1);
	__asm__ volatile("tlbi vmalle1\n\tdsb nsh\n\tisb" ::: "memory");
	sctlr = SYSREG_R("sctlr_el1");
	/* M, C, I, ATA (tags at EL1), TCF = 1 (synchronous checks) */
	sctlr |= 1UL << 0 | 1UL << 2 | 1UL << 12 | 1UL << 43 | 1UL << 40;
	SYSREG_W("sctlr_el1", sctlr);
}

static uint64_t ldg(uint64_t addr)
{
	__asm__ volatile("ldg %0, [%0]"
			 : "+r"(addr) : : "memory");
	return (addr >> 56) & 0xf;
}

static void stg(uint64_t addr, unsigned int tag)
{
	uint64_t p = TAG(addr, tag);

	__asm__ volatile("stg %0, [%0]"
			 : : "r"(p) : "memory");
}

bool exception_hook(struct exc_frame *f)
{
	/* EC 0x25 (data abort, same EL), DFSC 0x11: synchronous tag check. */
	if (ESR_EC(f->esr) == EC_DABT_CUR && (f->esr & 0x3f) == 0x11) {
		faults++;
		fault_far = f->far;
		fault_esr = f->esr;
		f->elr += 4;
		return true;
	}
	return false;
}

static void test_tags(void)
{
	uint64_t p = (uint64_t)tagpage;

	check(ldg(p) == 0, "mte: a fresh granule has tag %lu", ldg(p));
	stg(p, 5);
	check(ldg(p) == 5, "mte: STG 5, LDG gives %lu", ldg(p));
	*(volatile uint8_t *)TAG(p, 5) = 0x42;	/* the right tag */
	check(faults == 0, "mte: an access with the right tag faulted");
	(void)*(volatile uint8_t *)TAG(p, 3);	/* the wrong tag */
	check(faults == 1 && (fault_far & ((1UL << 56) - 1)) == p,
	      "mte: wrong tag: %lu faults, FAR 0x%lx, ESR 0x%lx", faults,
	      fault_far, fault_esr);
	stg(p, 0);
	printf("mte: tags set and checked: %s\n", failures ? "NO" : "yes");
}

/* Set this vCPU's MTE registers, let the other one run, read them back. */
static void keep_regs(unsigned int id)
{
	uint64_t gcr = 0x10000UL | (id ? 0x0f00 : 0x00f0);	/* RRND, Exclude */
	uint64_t rgsr = (id ? 0xbeefUL : 0x1234UL) << 8 | (id ? 9 : 4);
	uint64_t tfsr = id ? 1 : 2, tfsre0 = id ? 0 : 1;

	SYSREG_W("s3_0_c1_c0_6", gcr);
	SYSREG_W("s3_0_c1_c0_5", rgsr);
	SYSREG_W("s3_0_c5_c6_0", tfsr);
	SYSREG_W("s3_0_c5_c6_1", tfsre0);
	loaded[id] = 1;
	while (!(id == 0 ? loaded[!id] : checked[!id])) {
		__asm__ volatile("yield");
	}
	bad[id] = (SYSREG_R("s3_0_c1_c0_6") != gcr) |
		  (SYSREG_R("s3_0_c1_c0_5") != rgsr) << 1 |
		  (SYSREG_R("s3_0_c5_c6_0") != tfsr) << 2 |
		  (SYSREG_R("s3_0_c5_c6_1") != tfsre0) << 3;
	checked[id] = 1;
}

void secondary_main(struct cpu_boot *b)
{
	(void)b;
	keep_regs(1);
	hvc(PSCI_CPU_OFF, 0, 0, 0);
}

int guest_main(void *dtb)
{
	uint64_t pfr1 = SYSREG_R("id_aa64pfr1_el1");
	uint64_t resets = counter(STRATA_CTR_RESETS);
	int64_t st;

	(void)dtb;
	if (((pfr1 >> 8) & 0xf) < 2) {
		printf("mte: not present (ID_AA64PFR1_EL1.MTE %lu)\n",
		       (pfr1 >> 8) & 0xf);
		puts("mte: PASS\n");
		return 0;
	}
	mmu_on();
	if (resets) {
		printf("mte: after the reset, tags %lu and %lu\n",
		       ldg((uint64_t)tagpage), ldg(FAR_SPOT));
		check(ldg((uint64_t)tagpage) == 0 && ldg(FAR_SPOT) == 0,
		      "mte: tags survived the reset");
		if (failures) {
			return 1;
		}
		puts("mte: PASS\n");
		return 0;
	}
	printf("mte: present (ID_AA64PFR1_EL1.MTE %lu)\n", (pfr1 >> 8) & 0xf);
	test_tags();

	boot1.sp = (uint64_t)(stack1 + sizeof(stack1));
	boot1.id = 1;
	st = hvc(PSCI_CPU_ON, 1, (uint64_t)secondary_start,
		 (uint64_t)&boot1).status;
	if (!check(st == 0, "mte: CPU_ON(1) returned %ld", st)) {
		return 1;
	}
	keep_regs(0);
	while (!checked[1]) {
		__asm__ volatile("yield");
	}
	printf("mte: vCPU 0 kept its MTE registers while vCPU 1 ran: %s; vCPU 1: %s\n",
	       bad[0] ? "NO" : "yes", bad[1] ? "NO" : "yes");
	check(!bad[0] && !bad[1], "mte: registers lost: 0x%lx and 0x%lx",
	      bad[0], bad[1]);
	if (failures) {
		return 1;
	}
	stg((uint64_t)tagpage, 7);
	stg(FAR_SPOT, 11);
	printf("mte: tagged 7 and 11 (%lu, %lu), resetting\n",
	       ldg((uint64_t)tagpage), ldg(FAR_SPOT));
	hvc(PSCI_SYSTEM_RESET, 0, 0, 0);
	puts("FAIL: mte: SYSTEM_RESET returned\n");
	return 1;
}
