// SPDX-License-Identifier: MIT
/*
 * The ID registers guests read. HCR_EL2.TID3 traps every read of the
 * feature ID registers (op0 3, op1 0, CRn 0, CRm 1-7); Strata answers with
 * the CPU's own values less the features whose state it does not switch or
 * whose controls trap: SME (CPTR_EL2 traps it), the activity monitors,
 * MPAM, statistical profiling, trace. SVE and MTE are shown where the CPU
 * has them (sve.c and mte.c switch their state; MTE only with tag storage). A guest trusting the real
 * values would use them and take undefined-instruction exceptions.
 */
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <vmm/vm.h>

#define ID_REG(crm, op2)	((crm) << 3 | (op2))

/* 4-bit feature fields cleared in each register. */
#define FIELD(shift)		(0xfULL << (shift))
#define PFR0_SVE		FIELD(32)
#define PFR0_HIDDEN		(FIELD(40) | FIELD(44))
#define PFR1_MTE		FIELD(8)
#define PFR1_HIDDEN		(FIELD(16) | FIELD(24))
#define DFR0_HIDDEN		(FIELD(32) | FIELD(40) | FIELD(44) | FIELD(52))

#define ID_CASE(crm, op2)						\
	case ID_REG(crm, op2):						\
		return read_sysreg(s3_0_c0_c##crm##_##op2);
#define ID_ROW(crm)							\
	ID_CASE(crm, 0) ID_CASE(crm, 1) ID_CASE(crm, 2) ID_CASE(crm, 3)	\
	ID_CASE(crm, 4) ID_CASE(crm, 5) ID_CASE(crm, 6) ID_CASE(crm, 7)

/* The CPU's value (unallocated encodings of this space read as zero). */
static uint64_t id_read_cpu(unsigned int reg)
{
	switch (reg) {
	ID_ROW(1) ID_ROW(2) ID_ROW(3) ID_ROW(4) ID_ROW(5) ID_ROW(6) ID_ROW(7)
	default:
		return 0;
	}
}

static uint64_t id_read_guest(unsigned int reg)
{
	uint64_t val = id_read_cpu(reg);

	switch (reg) {
	case ID_REG(4, 0):	/* ID_AA64PFR0_EL1: SVE, MPAM, AMU */
		return val & ~(PFR0_HIDDEN | (arm64_sve_vl() ? 0 : PFR0_SVE));
	case ID_REG(4, 1):	/* ID_AA64PFR1_EL1: MTE, MPAM_frac, SME */
		return val & ~(PFR1_HIDDEN | (arm64_mte() ? 0 : PFR1_MTE));
	case ID_REG(4, 4):	/* ID_AA64ZFR0_EL1: SVE's features */
		return arm64_sve_vl() ? val : 0;
	case ID_REG(4, 5):	/* ID_AA64SMFR0_EL1 */
		return 0;
	case ID_REG(5, 0):	/* ID_AA64DFR0_EL1: SPE, trace, BRBE */
		return val & ~DFR0_HIDDEN;
	default:
		return val;
	}
}

bool arm64_emulate_id_reg(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	uint64_t iss = a->esr & ESR_ISS_MASK;
	unsigned int op0 = (unsigned int)(iss >> 20) & 3;
	unsigned int op2 = (unsigned int)(iss >> 17) & 7;
	unsigned int op1 = (unsigned int)(iss >> 14) & 7;
	unsigned int crn = (unsigned int)(iss >> 10) & 0xf;
	unsigned int rt = (unsigned int)(iss >> 5) & 31;
	unsigned int crm = (unsigned int)(iss >> 1) & 0xf;
	bool read = iss & 1;

	if (op0 != 3 || op1 != 0 || crn != 0 || crm < 1 || crm > 7 || !read) {
		return false;
	}
	if (rt != 31) {
		a->x[rt] = id_read_guest(ID_REG(crm, op2));
	}
	a->pc += 4;
	return true;
}
