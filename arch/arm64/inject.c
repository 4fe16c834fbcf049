// SPDX-License-Identifier: MIT
/*
 * Exceptions injected into a guest's EL1 (semantics in arch/guest.h): the
 * EL1 exception entry done by hand on the guest's registers, which are live
 * in the CPU while its vCPU runs (arch/arm64/vcpu.c), the same way the
 * hardware would take the exception at EL1 (Arm ARM D1.10).
 */
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <lib/printk.h>
#include <vmm/vm.h>

/* Offsets in the EL1 vector table. */
#define VEC_CURRENT_SP0		0x000
#define VEC_CURRENT_SPX		0x200
#define VEC_LOWER_A64		0x400
#define VEC_LOWER_A32		0x600

static uint64_t vector_offset(uint64_t pstate)
{
	if (pstate & PSR_AA32) {
		return VEC_LOWER_A32;
	}
	switch (pstate & PSR_MODE_MASK) {
	case PSR_MODE_EL1T:
		return VEC_CURRENT_SP0;
	case PSR_MODE_EL1H:
		return VEC_CURRENT_SPX;
	default:
		return VEC_LOWER_A64;
	}
}

static bool from_el1(uint64_t pstate)
{
	return !(pstate & PSR_AA32) &&
	       ((pstate & PSR_MODE_MASK) == PSR_MODE_EL1T ||
		(pstate & PSR_MODE_MASK) == PSR_MODE_EL1H);
}

/* FEAT_PAN: PSTATE.PAN is set on exception entry unless SCTLR_EL1.SPAN. */
static bool cpu_has_pan(void)
{
	return id_field(read_sysreg(SYS_ID_AA64MMFR1_EL1), 20) != 0;
}

static void inject(struct vcpu *v, uint64_t esr, uint64_t far, bool has_far)
{
	struct arch_vcpu *a = &v->arch;
	struct vm *vm = v->vm;
	uint64_t vbar = read_sysreg(vbar_el1);
	uint64_t pstate = PSR_MODE_EL1H | PSR_DAIF | (a->pstate & PSR_DIT);

	if (cpu_has_pan()) {
		if (!(read_sysreg(sctlr_el1) & SCTLR_EL1_SPAN)) {
			pstate |= PSR_PAN;
		} else {
			pstate |= a->pstate & PSR_PAN;
		}
	}
	write_sysreg(esr, esr_el1);
	if (has_far) {
		write_sysreg(far, far_el1);
	}
	write_sysreg(a->pc, elr_el1);
	write_sysreg(a->pstate, spsr_el1);

	vm->ctr[STRATA_CTR_INJECTED]++;
	if (a->pc == a->inject_pc) {
		if (++a->nested_injects >= ARM64_MAX_NESTED_INJECTS) {
			vm_fail(vm, "exception storm at its vector 0x%llx (ESR 0x%llx)",
				(unsigned long long)a->pc,
				(unsigned long long)esr);
			return;
		}
	} else {
		a->nested_injects = 0;
	}
	a->pc = vbar + vector_offset(a->pstate);
	a->pstate = pstate;
	a->inject_pc = a->pc;
}

static uint64_t il_bit(const struct arch_vcpu *a)
{
	return a->esr & ESR_IL;
}

void inject_undef(struct vcpu *v)
{
	uint64_t esr = ((uint64_t)ESR_EC_UNKNOWN << ESR_EC_SHIFT) |
		       il_bit(&v->arch);

	inject(v, esr, 0, false);
}

void inject_abort(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	unsigned int ec = (unsigned int)(a->esr >> ESR_EC_SHIFT) & ESR_EC_MASK;
	bool el1 = from_el1(a->pstate);
	uint64_t esr;

	if (ec == ESR_EC_IABT_LOW) {
		esr = (uint64_t)(el1 ? ESR_EC_IABT_CUR : ESR_EC_IABT_LOW) <<
		      ESR_EC_SHIFT;
	} else {
		esr = (uint64_t)(el1 ? ESR_EC_DABT_CUR : ESR_EC_DABT_LOW) <<
		      ESR_EC_SHIFT;
		esr |= a->esr & ESR_DABT_WNR;
	}
	esr |= ESR_IL | ESR_FSC_EXTABT;
	inject(v, esr, a->far, true);
}
