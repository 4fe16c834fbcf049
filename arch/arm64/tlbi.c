// SPDX-License-Identifier: MIT
/*
 * The guest's TLB maintenance while its VM has several roots.
 *
 * Every root has a VMID of its own (include/mm/roots.h), and the guest's
 * stage-1 entries are tagged with the VMID of the root it ran on when they
 * were cached. A TLBI the guest executes at EL1 reaches only the current
 * VMID, so while the VM has more than one listed root (stage-2 views)
 * HCR_EL2.TTLB traps the guest's TLB maintenance and Strata performs each
 * trapped instruction once under the VMID of every listed root, so that no
 * root keeps a stage-1 entry the guest removed.
 *
 * Each instruction is replayed as its Inner Shareable form: that reaches
 * every CPU the original did (Strata's CPUs are one Inner Shareable domain)
 * and more, and invalidating more than asked is always allowed. The nXS
 * forms (FEAT_XS, CRn 9) are replayed as the ordinary ones, which wait for
 * more. A range form (FEAT_TLBIRANGE) is replayed as a range where the CPU
 * has it and as TLBI VMALLE1IS where it does not. Encodings outside the
 * architected set are not TLBIs and stay UNDEFINED for the guest.
 */
#include <arch/guest.h>
#include <arch/sysreg.h>
#include <mm/roots.h>
#include <vmm/vm.h>

#define tlbi0(op)	__asm__ volatile("tlbi " #op : : : "memory")
#define tlbi(op, x)	__asm__ volatile("tlbi " #op ", %0" : : "r"(x) : "memory")
/* TLBI RVA*E1IS, by encoding (op1 0, CRn 8, CRm 2): the assembler knows the
 * names only with -march=armv8.4-a. */
#define tlbi_r(op2, x)							\
	__asm__ volatile("sys #0, c8, c2, #" #op2 ", %0" : : "r"(x) : "memory")

enum tlbi_form { TLBI_NONE, TLBI_PLAIN, TLBI_RANGE };

/* The form of an op1 0 TLBI with @crm, or TLBI_NONE. */
static enum tlbi_form tlbi_form(unsigned int crm, unsigned int op2)
{
	switch (crm) {
	case 1:		/* Inner Shareable */
	case 3:		/* Outer Shareable (FEAT_TLBIOS) */
	case 7:		/* this PE */
		return op2 == 4 || op2 == 6 ? TLBI_NONE : TLBI_PLAIN;
	case 2:		/* range, Inner Shareable */
	case 5:		/* range, Outer Shareable */
	case 6:		/* range, this PE */
		return op2 & 1 ? TLBI_RANGE : TLBI_NONE;
	default:
		return TLBI_NONE;
	}
}

static bool cpu_has_tlbi_range(void)
{
	return ((read_sysreg(id_aa64isar0_el1) >> 56) & 0xf) >= 2;
}

/* One trapped TLBI, Inner Shareable, under the VMID now in VTTBR_EL2. */
static void tlbi_replay(enum tlbi_form form, unsigned int op2, uint64_t xt,
			bool range_ok)
{
	if (form == TLBI_RANGE && !range_ok) {
		tlbi0(vmalle1is);
		return;
	}
	if (form == TLBI_RANGE) {
		switch (op2) {
		case 1:
			tlbi_r(1, xt);	/* RVAE1IS */
			break;
		case 3:
			tlbi_r(3, xt);	/* RVAAE1IS */
			break;
		case 5:
			tlbi_r(5, xt);	/* RVALE1IS */
			break;
		default:
			tlbi_r(7, xt);	/* RVAALE1IS */
			break;
		}
		return;
	}
	switch (op2) {
	case 0:
		tlbi0(vmalle1is);
		break;
	case 1:
		tlbi(vae1is, xt);
		break;
	case 2:
		tlbi(aside1is, xt);
		break;
	case 3:
		tlbi(vaae1is, xt);
		break;
	case 5:
		tlbi(vale1is, xt);
		break;
	default:
		tlbi(vaale1is, xt);
		break;
	}
}

bool arm64_emulate_tlbi(struct vcpu *v)
{
	uint64_t esr = v->arch.esr;
	unsigned int op0 = (unsigned int)(esr >> 20) & 3;
	unsigned int op2 = (unsigned int)(esr >> 17) & 7;
	unsigned int op1 = (unsigned int)(esr >> 14) & 7;
	unsigned int crn = (unsigned int)(esr >> 10) & 15;
	unsigned int rt = (unsigned int)(esr >> 5) & 31;
	unsigned int crm = (unsigned int)(esr >> 1) & 15;
	enum tlbi_form form;
	uint64_t xt, vttbr, n = 0;
	bool range_ok;

	if (op0 != 1 || op1 != 0 || (crn != 8 && crn != 9) || (esr & 1)) {
		return false;
	}
	form = tlbi_form(crm, op2);
	if (form == TLBI_NONE) {
		return false;
	}
	xt = rt == 31 ? 0 : v->arch.x[rt];
	range_ok = form == TLBI_RANGE && cpu_has_tlbi_range();
	vttbr = read_sysreg(vttbr_el2);
	/* The guest's stores to its tables are visible before the TLBIs. */
	__asm__ volatile("dsb ishst" : : : "memory");
	for (struct s2_root *r = v->vm->mmu.list; r; r = r->next) {
		write_sysreg(s2pt_root_desc(&r->pt), vttbr_el2);
		isb();
		tlbi_replay(form, op2, xt, range_ok);
		n++;
	}
	__asm__ volatile("dsb ish" : : : "memory");
	write_sysreg(vttbr, vttbr_el2);
	isb();
	v->vm->ctr[STRATA_CTR_TLBI_REPLAYS] += n;
	v->arch.pc += 4;	/* TLBIs are A64 only */
	return true;
}
