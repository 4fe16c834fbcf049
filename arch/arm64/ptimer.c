// SPDX-License-Identifier: MIT
/*
 * The guest's EL1 physical timer (CNTP_CTL_EL0, CNTP_CVAL_EL0,
 * CNTP_TVAL_EL0), by trap and emulate as KVM does without FEAT_ECV:
 * CNTHCTL_EL2.EL1PCEN is 0, so every access traps here, and Strata keeps
 * the timer per vCPU. The guest reads the physical counter itself
 * (EL1PCTEN is 1, no offset), so the timer compares against CNTPCT_EL0.
 * Its interrupt is PPI 30, a level the virtual GIC samples before every
 * entry (vgic_flush()); the slice timer is armed for its deadline so that
 * it fires on time even if the guest never exits.
 */
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <vmm/vm.h>

/* CNTP_TVAL_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0: op0 3, op1 3, CRn 14,
 * CRm 2, op2 0 / 1 / 2. */
#define PT_TVAL		0
#define PT_CTL		1
#define PT_CVAL		2

static uint64_t cntpct(void)
{
	isb();
	return read_sysreg(cntpct_el0);
}

static bool ptimer_met(const struct arch_vcpu *a)
{
	return cntpct() >= a->ptimer_cval;
}

bool ptimer_level(const struct vcpu *v)
{
	const struct arch_vcpu *a = &v->arch;

	return (a->ptimer_ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) ==
	       CNT_CTL_ENABLE && ptimer_met(a);
}

uint64_t ptimer_deadline(const struct vcpu *v)
{
	const struct arch_vcpu *a = &v->arch;

	if ((a->ptimer_ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) !=
	    CNT_CTL_ENABLE || ptimer_met(a)) {
		return ~0ULL;	/* off, masked, or the vGIC's business now */
	}
	return a->ptimer_cval;
}

bool arm64_emulate_ptimer(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	uint64_t esr = a->esr;
	unsigned int op0 = (unsigned int)(esr >> 20) & 3;
	unsigned int op2 = (unsigned int)(esr >> 17) & 7;
	unsigned int op1 = (unsigned int)(esr >> 14) & 7;
	unsigned int crn = (unsigned int)(esr >> 10) & 15;
	unsigned int rt = (unsigned int)(esr >> 5) & 31;
	unsigned int crm = (unsigned int)(esr >> 1) & 15;
	bool read = esr & 1;
	uint64_t val = rt == 31 ? 0 : a->x[rt];

	if (op0 != 3 || op1 != 3 || crn != 14 || crm != 2 || op2 > PT_CVAL) {
		return false;
	}
	if (read) {
		switch (op2) {
		case PT_CTL:
			val = (a->ptimer_ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) |
			      (ptimer_met(a) ? CNT_CTL_ISTATUS : 0);
			break;
		case PT_CVAL:
			val = a->ptimer_cval;
			break;
		default:	/* TVAL: CVAL - count, 32 bits, signed */
			val = (uint32_t)(a->ptimer_cval - cntpct());
			break;
		}
		if (rt != 31) {
			a->x[rt] = val;
		}
	} else {
		switch (op2) {
		case PT_CTL:
			a->ptimer_ctl = val & (CNT_CTL_ENABLE | CNT_CTL_IMASK);
			break;
		case PT_CVAL:
			a->ptimer_cval = val;
			break;
		default:
			a->ptimer_cval = cntpct() + (uint64_t)(int64_t)(int32_t)val;
			break;
		}
	}
	a->pc += 4;
	return true;
}
