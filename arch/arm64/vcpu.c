// SPDX-License-Identifier: MIT
/*
 * arm64 vCPUs: their reset state, and one time slice of a vCPU on this CPU.
 *
 * A slice loads everything of the guest that Strata does not use itself
 * (EL1 system registers, FP/SIMD, the virtual timer, the stage-2 context and
 * the EL2 controls) once, then enters the guest and handles its exits until
 * the EL2 physical timer ends the slice, the guest waits (WFI/WFE), or the
 * vCPU or its VM stops; then it saves that state back. Exits are handled
 * with the guest's EL1 registers live in the CPU (exception injection and
 * AT S1E1R rely on this); Strata at EL2 with HCR_EL2.E2H = 0 never touches
 * them, and the core's TLB maintenance (stage2_flush.c) puts VTTBR_EL2 back
 * after switching to another VM's.
 */
#include <arch/board.h>
#include <arch/guest.h>
#include <arch/run.h>
#include <arch/stage2.h>
#include <arch/sysreg.h>
#include <lib/printk.h>
#include <mm/s2_arch.h>
#include <vmm/vm.h>

#define HCR_GUEST	(HCR_EL2_VM | HCR_EL2_SWIO | HCR_EL2_FMO | \
			 HCR_EL2_IMO | HCR_EL2_AMO | HCR_EL2_TWI | \
			 HCR_EL2_TWE | HCR_EL2_TID3 | HCR_EL2_TSC | HCR_EL2_RW)
#define HCR_HOST	HCR_EL2_RW

#define VMPIDR_RES1	BIT(31)

/* FEAT_PAuth in any form: guests may use their own keys. */
static bool cpu_has_pauth(void)
{
	static int has = -1;
	uint64_t isar1, isar2;

	if (has < 0) {
		isar1 = read_sysreg(SYS_ID_AA64ISAR1_EL1);
		isar2 = read_sysreg(SYS_ID_AA64ISAR2_EL1);
		has = id_field(isar1, 4) || id_field(isar1, 8) ||
		      id_field(isar1, 24) || id_field(isar1, 28) ||
		      id_field(isar2, 8) || id_field(isar2, 12);
	}
	return has;
}

/*
 * Every HCR_EL2 bit a guest runs with, set in full on each entry: stage 2 on,
 * set/way invalidation upgraded to clean+invalidate, physical interrupts and
 * SErrors to EL2, WFI/WFE and SMC trapped, ID register reads trapped (to
 * hide what guests cannot use, idregs.c), EL1 is AArch64; FWB when the VM's
 * table uses the FWB encoding; pointer authentication untrapped where the
 * CPU has it (its keys are switched with the vCPU). Nothing is kept from the
 * loader.
 */
static uint64_t guest_hcr(const struct vm *vm)
{
	uint64_t hcr = HCR_GUEST;

	if (vm->mmu.flags & S2PT_F_FWB) {
		hcr |= HCR_EL2_FWB;
	}
	if (cpu_has_pauth()) {
		hcr |= HCR_EL2_API | HCR_EL2_APK;
	}
	if (arm64_mte()) {
		hcr |= HCR_EL2_ATA;
	}
	return hcr;
}

/*
 * MDCR_EL2: the guest owns the PMU counters and its debug registers are not
 * trapped (MDSCR_EL1 is switched); nothing is routed to EL2.
 */
static uint64_t guest_mdcr(void)
{
	unsigned int pmu = id_field(read_sysreg(SYS_ID_AA64DFR0_EL1), 8);

	if (!pmu || pmu == 0xf) {
		return 0;
	}
	return (read_sysreg(pmcr_el0) >> 11) & 0x1f;	/* HPMN = PMCR.N */
}

static void pac_keys_load(const uint64_t *k)
{
	write_sysreg(k[0], SYS_APIAKEYLO_EL1);
	write_sysreg(k[1], SYS_APIAKEYHI_EL1);
	write_sysreg(k[2], SYS_APIBKEYLO_EL1);
	write_sysreg(k[3], SYS_APIBKEYHI_EL1);
	write_sysreg(k[4], SYS_APDAKEYLO_EL1);
	write_sysreg(k[5], SYS_APDAKEYHI_EL1);
	write_sysreg(k[6], SYS_APDBKEYLO_EL1);
	write_sysreg(k[7], SYS_APDBKEYHI_EL1);
	write_sysreg(k[8], SYS_APGAKEYLO_EL1);
	write_sysreg(k[9], SYS_APGAKEYHI_EL1);
}

static void pac_keys_save(uint64_t *k)
{
	k[0] = read_sysreg(SYS_APIAKEYLO_EL1);
	k[1] = read_sysreg(SYS_APIAKEYHI_EL1);
	k[2] = read_sysreg(SYS_APIBKEYLO_EL1);
	k[3] = read_sysreg(SYS_APIBKEYHI_EL1);
	k[4] = read_sysreg(SYS_APDAKEYLO_EL1);
	k[5] = read_sysreg(SYS_APDAKEYHI_EL1);
	k[6] = read_sysreg(SYS_APDBKEYLO_EL1);
	k[7] = read_sysreg(SYS_APDBKEYHI_EL1);
	k[8] = read_sysreg(SYS_APGAKEYLO_EL1);
	k[9] = read_sysreg(SYS_APGAKEYHI_EL1);
}

static uint64_t guest_vtcr(const struct vcpu *v)
{
	unsigned int ps = id_field(read_sysreg(SYS_ID_AA64MMFR0_EL1), 0);

	/* The table never outputs above 48 bits (52 needs LPA2 formats). */
	return stage2_vtcr(&v->roots.cur->pt, MIN(ps, 5U));
}

static void el1_load(const struct arch_el1_regs *r)
{
	write_sysreg(r->sctlr, sctlr_el1);
	write_sysreg(r->ttbr0, ttbr0_el1);
	write_sysreg(r->ttbr1, ttbr1_el1);
	write_sysreg(r->tcr, tcr_el1);
	write_sysreg(r->mair, mair_el1);
	write_sysreg(r->amair, amair_el1);
	write_sysreg(r->vbar, vbar_el1);
	write_sysreg(r->contextidr, contextidr_el1);
	write_sysreg(r->tpidr_el0, tpidr_el0);
	write_sysreg(r->tpidr_el1, tpidr_el1);
	write_sysreg(r->tpidrro_el0, tpidrro_el0);
	write_sysreg(r->sp_el0, sp_el0);
	write_sysreg(r->sp_el1, sp_el1);
	write_sysreg(r->elr, elr_el1);
	write_sysreg(r->spsr, spsr_el1);
	write_sysreg(r->esr, esr_el1);
	write_sysreg(r->far, far_el1);
	write_sysreg(r->afsr0, afsr0_el1);
	write_sysreg(r->afsr1, afsr1_el1);
	write_sysreg(r->par, par_el1);
	write_sysreg(r->cpacr, cpacr_el1);
	write_sysreg(r->cntkctl, cntkctl_el1);
	write_sysreg(r->csselr, csselr_el1);
	write_sysreg(r->mdscr, mdscr_el1);
	write_sysreg(r->cntv_cval, cntv_cval_el0);
	write_sysreg(r->cntv_ctl, cntv_ctl_el0);
	if (arm64_board.gic_version != 2) {	/* GICv2: vgic_v2.c's */
		write_sysreg(r->ich_vmcr, SYS_ICH_VMCR_EL2);
	}
	if (cpu_has_pauth()) {
		pac_keys_load(r->pac_keys);
	}
	arm64_mte_load(r);
}

static void el1_save(struct arch_el1_regs *r)
{
	r->sctlr = read_sysreg(sctlr_el1);
	r->ttbr0 = read_sysreg(ttbr0_el1);
	r->ttbr1 = read_sysreg(ttbr1_el1);
	r->tcr = read_sysreg(tcr_el1);
	r->mair = read_sysreg(mair_el1);
	r->amair = read_sysreg(amair_el1);
	r->vbar = read_sysreg(vbar_el1);
	r->contextidr = read_sysreg(contextidr_el1);
	r->tpidr_el0 = read_sysreg(tpidr_el0);
	r->tpidr_el1 = read_sysreg(tpidr_el1);
	r->tpidrro_el0 = read_sysreg(tpidrro_el0);
	r->sp_el0 = read_sysreg(sp_el0);
	r->sp_el1 = read_sysreg(sp_el1);
	r->elr = read_sysreg(elr_el1);
	r->spsr = read_sysreg(spsr_el1);
	r->esr = read_sysreg(esr_el1);
	r->far = read_sysreg(far_el1);
	r->afsr0 = read_sysreg(afsr0_el1);
	r->afsr1 = read_sysreg(afsr1_el1);
	r->par = read_sysreg(par_el1);
	r->cpacr = read_sysreg(cpacr_el1);
	r->cntkctl = read_sysreg(cntkctl_el1);
	r->csselr = read_sysreg(csselr_el1);
	r->mdscr = read_sysreg(mdscr_el1);
	r->cntv_ctl = read_sysreg(cntv_ctl_el0);
	r->cntv_cval = read_sysreg(cntv_cval_el0);
	if (arm64_board.gic_version != 2) {
		r->ich_vmcr = read_sysreg(SYS_ICH_VMCR_EL2);
	}
	if (cpu_has_pauth()) {
		pac_keys_save(r->pac_keys);
	}
	arm64_mte_save(r);
}

/* Load @v's state; false (VM stopped) when the CPU refuses a control. */
static bool vcpu_load(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t hcr = guest_hcr(vm);

	if (!vm_vcpu_prepare_entry(v)) {
		return false;
	}
	v->arch.hcr = hcr;
	write_sysreg(hcr, hcr_el2);
	write_sysreg(guest_mdcr(), mdcr_el2);
	write_sysreg(0, hstr_el2);	/* no AArch32 CP15 traps */
	write_sysreg(guest_vtcr(v), vtcr_el2);
	arm64_load_vttbr(v, false);
	write_sysreg(read_sysreg(midr_el1), vpidr_el2);
	write_sysreg(v->arch.mpidr | VMPIDR_RES1, vmpidr_el2);
	/* EL1 reads the counter; its physical timer traps (not emulated). */
	write_sysreg(CNTHCTL_EL1PCTEN, cnthctl_el2);
	write_sysreg(vm->arch.cntvoff, cntvoff_el2);
	el1_load(&v->arch.el1);
	fpsimd_load(&v->arch.fp);
	arm64_sve_load(v);
	vgic_load(v);
	isb();
	if ((read_sysreg(hcr_el2) & ~HCR_EL2_TTLB) != hcr) {
		/* FWB is RES0 without FEAT_S2FWB: the encoding would be wrong. */
		write_sysreg(HCR_HOST, hcr_el2);
		isb();
		vm_fail(vm, "the CPU refused HCR_EL2 0x%llx",
			(unsigned long long)hcr);
		return false;
	}
	if (!vm->arch.entered) {
		vm->arch.entered = true;
		pr_info("vm %s: EL2 controls: HCR_EL2 0x%llx VTCR_EL2 0x%llx VTTBR_EL2 0x%llx\n",
			vm->name, (unsigned long long)hcr,
			(unsigned long long)read_sysreg(vtcr_el2),
			(unsigned long long)read_sysreg(vttbr_el2));
	}
	return true;
}

static void vcpu_put(struct vcpu *v)
{
	vgic_put(v);
	el1_save(&v->arch.el1);
	arm64_sve_save(v);
	fpsimd_save(&v->arch.fp);
	/* The guest's timer must not fire while others run. */
	write_sysreg(0, cntv_ctl_el0);
	write_sysreg(HCR_HOST, hcr_el2);
	isb();
}

int arch_vcpu_init(struct vcpu *v)
{
	struct vm *vm = v->vm;

	v->arch.mpidr = v->id;
	arm64_mmio_hint_clear(v);
	vgic_vcpu_init(v);
	if (v->id == 0) {
		arm64_vcpu_reset(v, vm->image.entry, vm->arch.dtb_gpa);
	} else {
		arm64_vcpu_reset(v, 0, 0);	/* until PSCI CPU_ON */
	}
	return 0;
}

/* arm64 switches views by VTTBR at entry: only the root cache holds roots. */
void arch_vcpu_drop_roots(struct vcpu *v)
{
	(void)v;
}

void arch_vcpu_destroy(struct vcpu *v)
{
	(void)v;	/* nothing beyond struct vcpu */
}

static uint64_t cntpct(void)
{
	isb();
	return read_sysreg(cntpct_el0);
}

/*
 * Whether vm_vcpu_prepare_entry() would find nothing to do: the role the
 * vCPU's state gives is its current root's, that root and every root of its
 * cache are valid, and no entry audit or deliberate role corruption is
 * due. Checked only after a fast exit (exit.c, fast_exit(): no hypercall
 * ran), in place of the whole preparation; other CPUs may still have
 * invalidated a root meanwhile, which this sees. The role is
 * s2_mmu_role() of the vCPU's view and of the MMU's levels, IPA size and
 * flags, which s2_mmu_init() fixes for the VM's life: with the view the
 * last preparation used (v->role.view, which holds every view id), the
 * role is the same. Rejected: skipping the preparation after a fast exit
 * without a check (a root invalidated by another CPU would be entered).
 */
static inline __attribute__((always_inline)) bool
entry_unchanged(const struct vcpu *v)
{
	const struct s2_root_cache *c = &v->roots;

	if (vm_entry_audit_on || !c->cur ||
	    c->cur->role.word != v->role.word || v->role.view != v->view) {
		return false;
	}
#ifdef CONFIG_TEST
	if (v->test_corrupt_role) {
		return false;
	}
#endif
	_Static_assert(S2_ROOT_CACHE_PREV == 3, "the checks below");
	return !(c->prev[0] && c->prev[0]->role.invalid) &&
	       !(c->prev[1] && c->prev[1]->role.invalid) &&
	       !(c->prev[2] && c->prev[2]->role.invalid);
}

/*
 * Everything before an entry: the root too, unless @fast (the last exit
 * was a fast one) and nothing changed. A new root comes after
 * invalidate-all-roots or a view switch; after a fast exit with nothing to
 * prepare, VTTBR_EL2 holds the root still (TLB maintenance puts it back
 * after using another). False: the VM cannot be entered.
 */
static bool prepare_entry(struct vcpu *v, bool fast)
{
	fast = fast && entry_unchanged(v);
	if (!fast && !vm_vcpu_prepare_entry(v)) {
		return false;
	}
	arm64_prepare_again(v, fast);
	return true;
}

void arch_vcpu_run(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool fast = false;

	if (!vcpu_load(v)) {
		return;
	}
	v->arch.slice_end = cntpct() +
			    read_sysreg(cntfrq_el0) / 1000000 * ARM64_SLICE_US;
	v->arch.slice_armed = 0;
	while (vm_running(vm) && v->state == VCPU_RUNNABLE) {
		enum exit_action act;
		unsigned int vec;

		if (!prepare_entry(v, fast)) {
			break;
		}
		/*
		 * A root invalidated or created while other vCPUs ran in the
		 * guest: they leave it first (vcpu_kick_sync(), docs/smp.md).
		 */
		if (vm_vcpu_wait_synced(v)) {
			fast = false;
			continue;
		}
		/*
		 * The VM lock is dropped while the guest runs (docs/smp.md);
		 * an exit taken in place takes it for its own handling.
		 */
		v->in_guest = true;
		__atomic_store_n(&v->guest_seq, v->guest_seq + 1,
				 __ATOMIC_RELEASE);
		vm_unlock(vm);
		vec = guest_enter(&v->arch);
		__atomic_store_n(&v->guest_seq, v->guest_seq + 1,
				 __ATOMIC_RELEASE);
		vm_lock(vm);
		v->in_guest = false;
		vgic_after_exit(v);
		fast = vec == EXIT_INPLACE;
		if (fast) {
			act = (enum exit_action)v->arch.inplace_act;
		} else {
			vm->ctr[STRATA_CTR_EXITS]++;
			act = arm64_handle_exit(v, vec);
			v->arch.slice_armed = 0;
		}
		if (act == EXIT_YIELD ||
		    (act == EXIT_TIMER && cntpct() >= v->arch.slice_end)) {
			break;
		}
	}
	slice_timer_stop();
	vcpu_put(v);
}
