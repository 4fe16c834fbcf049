// SPDX-License-Identifier: MIT
/*
 * MTE for guests, where the CPU has tag storage (FEAT_MTE2,
 * ID_AA64PFR1_EL1.MTE >= 2): the ID registers show it (idregs.c),
 * HCR_EL2.ATA lets the guest's EL1 and EL0 reach allocation tags, and each
 * vCPU's GCR_EL1, RGSR_EL1, TFSR_EL1 and TFSRE0_EL1 are switched with its
 * other EL1 registers (vcpu.c; the tag-check controls are SCTLR_EL1's,
 * already switched, and PSTATE.TCO travels in the saved PSTATE).
 *
 * Allocation tags travel with memory, so a page that goes to a VM must not
 * carry the tags another VM (or an earlier life of this one) set: every
 * chunk of guest RAM is zeroed before anything can see it (vmm/ramzero.c)
 * and arch_ram_zeroed() (guest_vm.c) clears its tags at the same time
 * (DC GVA with tag 0). For that Strata maps RAM at EL2 as Tagged Normal
 * memory with SCTLR_EL2.ATA set and tag checks off (TCF = 0), on every CPU
 * (boot/arm64/head.S). What Strata itself writes into a guest's RAM (the
 * kernel, initrd, DTB, virtio buffers) goes in with ordinary stores, which
 * never change tags: those pages keep the cleared tags, deliberately.
 * Rejected: clearing tags when a VM is torn down (the next owner would
 * depend on every earlier owner's teardown having run to the end).
 */
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <lib/printk.h>
#include <vmm/vm.h>

static int mte = -1;

bool arm64_mte(void)
{
	if (mte < 0) {
		mte = id_field(read_sysreg(SYS_ID_AA64PFR1_EL1), 8) >= 2;
		if (mte) {
			pr_info("arm64: MTE for guests (tags cleared as RAM is zeroed)\n");
		}
	}
	return mte;
}

void arm64_mte_clear_tags(paddr_t pa, uint64_t size)
{
	uint64_t bs = 4UL << (read_sysreg(dczid_el0) & 0xf);

	/* Chunks are 2 MiB aligned: a multiple of any block size. */
	for (uint64_t a = pa; a < pa + size; a += bs) {
		__asm__ volatile("dc gva, %0"
				 : : "r"(a) : "memory");
	}
	dsb(ish);
}

void arm64_mte_load(const struct arch_el1_regs *r)
{
	if (!arm64_mte()) {
		return;
	}
	write_sysreg(r->mte[0], SYS_GCR_EL1);
	write_sysreg(r->mte[1], SYS_RGSR_EL1);
	write_sysreg(r->mte[2], SYS_TFSR_EL1);
	write_sysreg(r->mte[3], SYS_TFSRE0_EL1);
}

void arm64_mte_save(struct arch_el1_regs *r)
{
	if (!arm64_mte()) {
		return;
	}
	r->mte[0] = read_sysreg(SYS_GCR_EL1);
	r->mte[1] = read_sysreg(SYS_RGSR_EL1);
	r->mte[2] = read_sysreg(SYS_TFSR_EL1);
	r->mte[3] = read_sysreg(SYS_TFSRE0_EL1);
}
