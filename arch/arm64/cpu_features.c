// SPDX-License-Identifier: MIT
/*
 * What this CPU offers a hypervisor, from the ID registers (Arm ARM, D19),
 * and the check that EL2 can run guests.
 */
#include <arch/board.h>
#include <arch/guest.h>
#include <arch/smp.h>
#include <arch/sysreg.h>
#include <core/arch.h>
#include <lib/errno.h>
#include <lib/printk.h>

const char arch_name[] = "arm64";

/* ID register fields (shift of each 4-bit field). */
#define PFR0_EL1_SHIFT		4	/* 0: no EL1; 1+: AArch64 */
#define PFR0_EL2_SHIFT		8
#define PFR0_GIC_SHIFT		24	/* 1+: GICv3 system regs */
#define ISAR0_TLB_SHIFT		56	/* 2: TLBI range */
#define MMFR0_PARANGE_SHIFT	0
#define MMFR0_TGRAN4_SHIFT	28	/* 0: 4K stage 1; 0xf: none */
#define MMFR0_TGRAN4_2_SHIFT	40	/* 0: as TGran4; 1: no; 2+ */
#define MMFR1_VMIDBITS_SHIFT	4	/* 0: 8 bits; 2: 16 bits */
#define MMFR1_VH_SHIFT		8
#define MMFR2_FWB_SHIFT		40

static const char *yes_no(bool v)
{
	return v ? "yes" : "no";
}

static unsigned int vmid_bits(void)
{
	uint64_t mmfr1 = read_sysreg(SYS_ID_AA64MMFR1_EL1);

	return id_field(mmfr1, MMFR1_VMIDBITS_SHIFT) == 2 ? 16 : 8;
}

static void report_gic(void)
{
	unsigned int sysregs = id_field(read_sysreg(SYS_ID_AA64PFR0_EL1),
					PFR0_GIC_SHIFT);

	if (arm64_board.gic_version == 3 && sysregs) {
		pr_info("arm64: GIC version 3 (distributor 0x%llx, redistributors 0x%llx)\n",
			(unsigned long long)arm64_board.gic_dist,
			(unsigned long long)arm64_board.gic_redist);
	} else if (arm64_board.gic_version == 2) {
		pr_info("arm64: GIC version 2 (distributor 0x%llx, CPU interface 0x%llx%s)\n",
			(unsigned long long)arm64_board.gic_dist,
			(unsigned long long)arm64_board.gic_cpu,
			arm64_board.gic_hyp ? ", virtualization extensions" :
					      ", no virtualization extensions");
	} else if (arm64_board.gic_version) {
		pr_info("arm64: GIC version %u%s\n", arm64_board.gic_version,
			sysregs ? "" : " (no GICv3 system registers)");
	} else {
		pr_info("arm64: GIC version unknown (none in the DTB)\n");
	}
}

void arch_report_virt_features(void)
{
	uint64_t mmfr0 = read_sysreg(SYS_ID_AA64MMFR0_EL1);
	uint64_t mmfr1 = read_sysreg(SYS_ID_AA64MMFR1_EL1);
	uint64_t mmfr2 = read_sysreg(SYS_ID_AA64MMFR2_EL1);
	uint64_t isar0 = read_sysreg(SYS_ID_AA64ISAR0_EL1);

	pr_info("arm64: PARange %u bits\n",
		parange_bits(id_field(mmfr0, MMFR0_PARANGE_SHIFT)));
	pr_info("arm64: VMID bits %u\n", vmid_bits());
	pr_info("arm64: FEAT_S2FWB %s\n",
		yes_no(id_field(mmfr2, MMFR2_FWB_SHIFT) >= 1));
	pr_info("arm64: FEAT_TLBIRANGE %s\n",
		yes_no(id_field(isar0, ISAR0_TLB_SHIFT) >= 2));
	pr_info("arm64: FEAT_VHE %s\n",
		yes_no(id_field(mmfr1, MMFR1_VH_SHIFT) >= 1));
	report_gic();
}

static bool stage2_4k_supported(uint64_t mmfr0)
{
	unsigned int s2 = id_field(mmfr0, MMFR0_TGRAN4_2_SHIFT);

	if (s2 == 0) {
		return id_field(mmfr0, MMFR0_TGRAN4_SHIFT) != 0xf;
	}
	return s2 >= 2;
}

int arch_virt_init(void)
{
	uint64_t pfr0 = read_sysreg(SYS_ID_AA64PFR0_EL1);
	uint64_t mmfr0 = read_sysreg(SYS_ID_AA64MMFR0_EL1);
	int ret = 0;

	if (current_el() != 2) {
		pr_err("arm64: not running at EL2\n");
		ret = -ENODEV;
	}
	if (id_field(pfr0, PFR0_EL1_SHIFT) == 0) {
		pr_err("arm64: no AArch64 EL1 for guests\n");
		ret = -ENODEV;
	}
	if (!stage2_4k_supported(mmfr0)) {
		pr_err("arm64: no 4 KiB granule at stage 2\n");
		ret = -ENODEV;
	}
	if (parange_bits(id_field(mmfr0, MMFR0_PARANGE_SHIFT)) < 40) {
		pr_err("arm64: physical address range below 40 bits\n");
		ret = -ENODEV;
	}
	if (!ret) {
		ret = gic_init();
	}
	if (ret) {
		return ret;
	}
	pr_info("arm64: EL2 ready (HCR_EL2 0x%llx, SCTLR_EL2 0x%llx)\n",
		(unsigned long long)read_sysreg(hcr_el2),
		(unsigned long long)read_sysreg(sctlr_el2));
	return 0;	/* the other CPUs: arch_start_cpus() */
}
