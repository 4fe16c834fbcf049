/* SPDX-License-Identifier: MIT */
/*
 * The last steps before a guest entry, shared by the run loop
 * (arch/arm64/vcpu.c) and the exits taken in place (arch/arm64/exit.c,
 * arm64_exit_inplace()), inline because the second is the emulated-MMIO
 * fast path. Private to arch/arm64/.
 */
#ifndef STRATA_ARCH_ARM64_RUN_H
#define STRATA_ARCH_ARM64_RUN_H

#include <arch/guest.h>
#include <arch/sysreg.h>
#include <arch/vgic.h>
#include <arch/vgic_v2.h>
#include <vmm/vm.h>

/*
 * The common entry of the vGICv3 (vgic.c; a guest exit that raised
 * nothing): no PPI or SGI pending, no LPI that could be listed
 * (lpis_parked), no timer listed, no list register to prune, no ITS command
 * left, no SPI line or edge, neither timer's line up (@vctl: CNTV_CTL_EL0's
 * ENABLE, IMASK, ISTATUS; ptimer_level() needs ENABLE without IMASK). Then
 * a flush would list nothing and retire nothing.
 */
static inline bool vgic_nothing_to_flush(const struct vcpu *v, uint64_t vctl)
{
	const struct vgic_cpu *c = &v->arch.vgic;
	const struct vgic_dist *d = &v->vm->arch.vgic;

	return !(c->pending | c->timers_listed |
		 (c->lpis_parked ? 0 : c->lpis) | c->prune | c->its_work |
		 d->level | d->pending | d->dropped) &&
	       vctl != (CNT_CTL_ENABLE | CNT_CTL_ISTATUS) &&
	       (v->arch.ptimer_ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) !=
	       CNT_CTL_ENABLE;
}

/*
 * vgic_prepare_entry() (arch/guest.h), inline: the lists flushed, the
 * timers' deadline returned. With nothing to flush the EL1 physical timer
 * is off or masked (no deadline, ptimer_deadline()), and the virtual one's
 * deadline is read from the same CNTV_CTL_EL0 value as the flush's
 * decision.
 */
static inline __attribute__((always_inline)) uint64_t
vgic_prepare_entry_inline(struct vcpu *v)
{
	uint64_t vctl;

	if (v->vm->arch.vgic.v2.on) {
		vgic_v2_flush(v);
		return vgic_v2_vtimer_deadline(v);
	}
	vctl = read_sysreg(cntv_ctl_el0) &
	       (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS);
	if (!vgic_nothing_to_flush(v, vctl)) {
		vgic_flush_lists(v, vctl == (CNT_CTL_ENABLE | CNT_CTL_ISTATUS));
		return vgic_vtimer_deadline(v);
	}
	if (!(v->arch.vgic.enabled & BIT(VGIC_INTID_VTIMER)) ||
	    vctl != CNT_CTL_ENABLE) {
		return ~0ULL;
	}
	return read_sysreg(cntv_cval_el0) + v->vm->arch.cntvoff;
}

/*
 * Point VTTBR_EL2 at @v's root: every root has a VMID of its own, so a
 * change of root needs no invalidation (include/mm/roots.h). While the VM
 * has more than one listed root, the guest's TLB maintenance is trapped and
 * replayed under each root's VMID (arch/arm64/tlbi.c), so that stage-1
 * entries cached under one root's VMID never outlive the guest's TLBI.
 */
static inline void arm64_load_vttbr(struct vcpu *v, bool same_root)
{
	bool ttlb = v->vm->mmu.nr_listed > 1;

	if (!same_root) {
		write_sysreg(s2pt_root_desc(vcpu_s2(v)), vttbr_el2);
	}
	if (ttlb != !!(v->arch.hcr & HCR_EL2_TTLB)) {
		v->arch.hcr ^= HCR_EL2_TTLB;
		write_sysreg(v->arch.hcr, hcr_el2);
	}
}

/*
 * Before an entry with the root known to be unchanged: VTTBR_EL2, the vGIC's
 * list registers and the EL2 timer, which fires at the slice's end or
 * earlier when the guest's virtual timer is due, so that its interrupt is
 * delivered on time even if the guest never exits by itself. The timer is
 * written only when that deadline moved: every exit the loop handles
 * itself may have stopped it (its interrupt does) and sets slice_armed to
 * 0; an exit taken in place cannot.
 */
static inline __attribute__((always_inline)) void
arm64_prepare_again(struct vcpu *v, bool same_root)
{
	uint64_t cval;

	arm64_load_vttbr(v, same_root);
	cval = MIN(v->arch.slice_end, vgic_prepare_entry_inline(v));
	if (cval != v->arch.slice_armed) {
		slice_timer_arm(cval);
		v->arch.slice_armed = cval;
	}
}

/*
 * After an exit arm64_exit_inplace() (exit.c) took, with @act: when the
 * access left the VM and the vCPU running, prepare the vCPU as the loop
 * would after a fast exit and say "enter again", without returning to the
 * loop; otherwise leave @act to the loop (EXIT_INPLACE).
 *
 * Of entry_unchanged(), only the entry audit is left to check here: the
 * MMIO hint that took the exit found the vCPU's current root to be the one
 * of the hint, still valid and never freed since (exit.c, hint_hit()), and
 * the role, the view and the test's role corruption change only on exits
 * the loop handles, which prepare the entry in full (then the current root
 * changes and the hint misses). Roots of the cache that another CPU
 * invalidated meanwhile stay referenced until the next entry the loop
 * prepares, at the latest when the slice ends (the EL2 timer's exit).
 * Rejected: the fast exit in the loop (about 100 instructions more per
 * access: two unwinds of guest_enter's frame and the loop's own checks).
 */
static inline __attribute__((always_inline)) bool
arm64_reenter(struct vcpu *v, enum exit_action act)
{
	/* EXIT_RESUME: the VM still runs (exit.c, emulate_mmio()). */
	if (act != EXIT_RESUME || v->state != VCPU_RUNNABLE ||
	    vm_entry_audit_on) {
		v->arch.inplace_act = act;
		return false;
	}
	arm64_prepare_again(v, true);
	return true;
}

#endif
