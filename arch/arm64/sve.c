// SPDX-License-Identifier: MIT
/*
 * SVE for guests, where the CPU has it (ID_AA64PFR0_EL1.SVE): the ID
 * registers show it (idregs.c), CPTR_EL2.TZ is clear while a guest runs,
 * and each vCPU's Z, P and FFR registers and ZCR_EL1 are switched with the
 * rest of its state at the start and end of its time slice (vcpu.c), after
 * and before the FP/SIMD registers, whose V registers are the low 128 bits
 * of the Z registers.
 *
 * The vector length guests may choose (ZCR_EL1) is capped by ZCR_EL2 at
 * ARM64_SVE_MAX_VL bytes (512 bits), or the CPU's own maximum if that is
 * less: the hardware then gives a guest the largest length it supports up
 * to its ZCR_EL1 choice, as architected. Rejected: the CPU's maximum (up to
 * 2048 bits, 8.7 KiB of state in every vCPU, all of it static here).
 *
 * Guests without SVE (no SVE in the CPU) keep TZ set: SVE instructions and
 * ZCR_EL1 trap and get an Undefined Instruction exception (exit.c). A
 * guest's P registers and FFR are never seen by another guest: an SVE
 * guest loads all of them; for any guest the FP/SIMD load zeroes the upper
 * bits of the Z registers.
 */
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <lib/printk.h>
#include <vmm/vm.h>

void sve_regs_save(uint8_t *buf);
void sve_regs_load(const uint8_t *buf);
uint64_t sve_rdvl(void);

static int vl_bytes = -1;	/* the guests' maximum, 0: no SVE */
static bool said;

static void sve_open(bool on)
{
	write_sysreg(on ? CPTR_EL2_DEFAULT & ~CPTR_EL2_TZ : CPTR_EL2_DEFAULT,
		     cptr_el2);
	isb();
}

/*
 * Worked out on first use, possibly by several CPUs at once: each finds
 * the same value, and none publishes anything before it is final (a CPU
 * that saw "no SVE" while another was still finding out would load no SVE
 * state at a vCPU's load and save it at its put, under CPTR_EL2.TZ).
 */
unsigned int arm64_sve_vl(void)
{
	int vl = __atomic_load_n(&vl_bytes, __ATOMIC_ACQUIRE);

	if (vl < 0) {
		vl = 0;
		if (id_field(read_sysreg(SYS_ID_AA64PFR0_EL1), 32)) {
			sve_open(true);
			write_sysreg(ARM64_SVE_MAX_VL / 16 - 1, SYS_ZCR_EL2);
			isb();
			vl = (int)sve_rdvl();
			sve_open(false);
		}
		__atomic_store_n(&vl_bytes, vl, __ATOMIC_RELEASE);
		if (vl && !__atomic_exchange_n(&said, true, __ATOMIC_RELAXED)) {
			pr_info("arm64: SVE for guests, vector length up to %d bits\n",
				vl * 8);
		}
	}
	return (unsigned int)vl;
}

void arm64_sve_load(struct vcpu *v)
{
	if (!arm64_sve_vl()) {
		return;
	}
	sve_open(true);
	write_sysreg(ARM64_SVE_MAX_VL / 16 - 1, SYS_ZCR_EL2);
	isb();
	sve_regs_load(v->arch.sve.regs);
	write_sysreg(v->arch.sve.zcr, SYS_ZCR_EL1);
}

void arm64_sve_save(struct vcpu *v)
{
	if (!arm64_sve_vl()) {
		return;
	}
	v->arch.sve.zcr = read_sysreg(SYS_ZCR_EL1);
	sve_regs_save(v->arch.sve.regs);
	sve_open(false);
}
