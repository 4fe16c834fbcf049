// SPDX-License-Identifier: MIT
/*
 * Guest exits on arm64: decode ESR_EL2 and hand each exit to the generic
 * handlers (stage-2 faults, MMIO, hypercalls) or deal with it here (WFI/WFE,
 * the slice timer, injected exceptions). What the guest sees when an access
 * or an instruction cannot be emulated is described in arch/guest.h.
 */
#include <arch/guest.h>
#include <arch/run.h>
#include <arch/sysreg.h>
#include <lib/printk.h>
#include <mm/s2pt.h>
#include <vmm/vm.h>

static unsigned int exit_ec(const struct arch_vcpu *a)
{
	return (unsigned int)(a->esr >> ESR_EC_SHIFT) & ESR_EC_MASK;
}

/* Step over the trapped instruction (2 bytes for a 16-bit T32 one). */
static void skip_insn(struct arch_vcpu *a)
{
	a->pc += (a->esr & ESR_IL) ? 4 : 2;
}

/*
 * The IPA of a stage-2 abort. HPFAR_EL2 holds it for translation and access
 * flag faults and for faults on a stage-1 walk; for a permission fault it
 * may be UNKNOWN (Arm ARM D17.2.61), so translate FAR_EL2 through the
 * guest's stage 1 (live in the CPU) with AT S1E1R, keeping its PAR_EL1.
 * False when that translation fails (the guest then simply retries).
 */
static bool abort_ipa(const struct arch_vcpu *a, gpa_t *ipa)
{
	unsigned int fsc = (unsigned int)a->esr & ESR_FSC_TYPE_MASK;
	uint64_t par, saved;

	if (fsc != ESR_FSC_PERM || (a->esr & ESR_ABT_S1PTW)) {
		*ipa = ((a->hpfar & GENMASK(43, 4)) << 8) | (a->far & 0xfff);
		return true;
	}
	saved = read_sysreg(par_el1);
	__asm__ volatile("at s1e1r, %0" : : "r"(a->far));
	isb();
	par = read_sysreg(par_el1);
	write_sysreg(saved, par_el1);
	if (par & 1) {
		return false;
	}
	*ipa = (par & GENMASK(47, 12)) | (a->far & 0xfff);
	return true;
}

static void set_reg(struct arch_vcpu *a, unsigned int r, uint64_t val)
{
	if (r < 31) {
		a->x[r] = val;
	}
}

/*
 * Emulate the load or store the syndrome describes (ISV = 1); @dev is the
 * device the vCPU's MMIO hint keeps for the page, used for the addresses of
 * @dev_lo to @dev_hi (exclusive) only (else NULL: the bus searches).
 */
static inline __attribute__((always_inline)) enum exit_action
emulate_mmio(struct vcpu *v, gpa_t ipa, struct io_device *dev, gpa_t dev_lo,
	     gpa_t dev_hi)
{
	struct vm *const vm = v->vm;
	struct arch_vcpu *a = &v->arch;
	unsigned int size = 1U << ((a->esr >> ESR_DABT_SAS_SHIFT) & 3);
	unsigned int srt = (unsigned int)(a->esr >> ESR_DABT_SRT_SHIFT) & 31;
	bool write = a->esr & ESR_DABT_WNR;
	bool hit = dev && ipa >= dev_lo && ipa + size <= dev_hi;
	uint64_t val = 0;

	if (write) {
		val = srt == 31 ? 0 : a->x[srt];	/* 31 is XZR here */
		if (size < 8) {
			val &= BIT(size * 8) - 1;
		}
		if (hit) {
			vm_io_device_access(v, dev, IO_MMIO, ipa, size, true,
					    &val);
		} else {
			vm_io_access(v, IO_MMIO, ipa, size, true, &val);
		}
	} else {
		if (hit) {
			vm_io_device_access(v, dev, IO_MMIO, ipa, size, false,
					    &val);
		} else {
			vm_io_access(v, IO_MMIO, ipa, size, false, &val);
		}
		if ((a->esr & ESR_DABT_SSE) && size < 8 &&
		    (val & BIT(size * 8 - 1))) {
			val |= ~(BIT(size * 8) - 1);
		}
		if (!(a->esr & ESR_DABT_SF)) {
			val &= 0xffffffff;	/* a W register */
		}
		set_reg(a, srt, val);
	}
	if (!vm_running(vm)) {
		return EXIT_YIELD;
	}
	skip_insn(a);
	return EXIT_RESUME;
}

/*
 * The MMIO hint of each vCPU: the last page it reached through an MMIO SPTE
 * and where that SPTE is, so that the next access to the page (a driver
 * polling a register) goes straight to the device: no walk, no memslot
 * search (fast_exit()). Everything the slow path decides on is
 * checked to be as it was when the hint was taken:
 * - the vCPU's root is the same live, valid root: it was the current root
 *   then (so referenced), and no root of the VM was freed since;
 * - the memslots are the same: the VM's memslot generation is the one of
 *   then, and no update is in progress (no memslot covers the page, and the
 *   SPTE's generation is current, as vm_handle_s2_fault() checked);
 * - the SPTE is still in place (s2pt_mmio_hint_hit()).
 * A stale SPTE (the generation moved on) therefore misses the hint and is
 * found and dropped by vm_handle_s2_fault() as before. Only data aborts
 * with a syndrome (ISV) on a translation fault take the fast path; the
 * counters move as on the slow path (an exit, an SPTE hit, an MMIO access).
 * The hint also keeps the device that takes the access and the part of the
 * page it covers (a device stays where it is for its VM's life,
 * vm_add_device()), so that an access there skips the bus's search.
 * It lives in struct arch_vcpu (arch/vcpu.h). Rejected: a hint per root
 * (every vCPU polls its own devices).
 */
static struct arm64_mmio_hint *hint_of(struct vcpu *v)
{
	return &v->arch.mmio_hint;
}

void arm64_mmio_hint_clear(struct vcpu *v)
{
	*hint_of(v) = (struct arm64_mmio_hint){ 0 };
}

/* The ESR bits that select the fast path, and their values there. */
#define FAST_ESR_MASK	((uint64_t)ESR_EC_MASK << ESR_EC_SHIFT | \
			 ESR_DABT_ISV | ESR_DABT_CM | ESR_ABT_S1PTW | \
			 ESR_FSC_TYPE_MASK)
#define FAST_ESR_VALUE	((uint64_t)ESR_EC_DABT_LOW << ESR_EC_SHIFT | \
			 ESR_DABT_ISV | ESR_FSC_TRANS)

/* After vm_handle_s2_fault() said MMIO for @ipa: remember its SPTE. */
static void hint_fill(struct vcpu *v, gpa_t ipa)
{
	struct vm *vm = v->vm;
	struct arm64_mmio_hint *h = hint_of(v);
	uint64_t mgen = __atomic_load_n(&vm->memslot_gen, __ATOMIC_ACQUIRE);
	uint64_t gen;

	*h = (struct arm64_mmio_hint){ 0 };
	if ((v->arch.esr & FAST_ESR_MASK) != FAST_ESR_VALUE ||
	    vm_memslot_update_in_progress(vm) || !v->roots.cur) {
		return;
	}
	if (s2pt_mmio_hint_fill(&v->roots.cur->pt, ipa, &h->spte, &gen) ||
	    gen != vm_mmio_gen(vm) || mgen != vm->memslot_gen) {
		*h = (struct arm64_mmio_hint){ 0 };
		return;
	}
	h->root = v->roots.cur;
	h->dev = vm_io_device(vm, IO_MMIO, ipa,
			      1U << ((v->arch.esr >> ESR_DABT_SAS_SHIFT) & 3));
	if (h->dev) {
		h->dev_lo = MAX(h->dev->base, h->spte.page);
		h->dev_hi = MIN(h->dev->base + h->dev->size,
				h->spte.page + PAGE_SIZE);
	}
	h->root_frees = vm->mmu.stats.root_frees;
	h->memslot_gen = mgen;
}

static bool hint_hit(const struct vcpu *v, const struct arm64_mmio_hint *h,
		     gpa_t ipa)
{
	const struct vm *vm = v->vm;
	const struct s2_root *r = v->roots.cur;

	/*
	 * h->root is set with h->spte.pt = &h->root->pt, both or neither, so
	 * with r == h->root the hint's own table is r's (and the compiler
	 * drops s2pt_mmio_hint_hit()'s comparison of the two).
	 */
	return r == h->root && r && !r->role.invalid &&
	       __atomic_load_n(&vm->memslot_gen, __ATOMIC_RELAXED) ==
	       h->memslot_gen &&
	       vm->mmu.stats.root_frees == h->root_frees &&
	       s2pt_mmio_hint_hit(h->spte.pt, &h->spte, ipa);
}

static enum exit_action handle_abort(struct vcpu *v, bool data)
{
	struct arch_vcpu *a = &v->arch;
	struct vm *vm = v->vm;
	unsigned int fsc = (unsigned int)a->esr & ESR_FSC_TYPE_MASK;
	unsigned int acc;
	gpa_t ipa;

	if (fsc != ESR_FSC_TRANS && fsc != ESR_FSC_ACCESS &&
	    fsc != ESR_FSC_PERM) {
		/* External aborts, address size, TLB conflicts: refuse. */
		inject_abort(v);
		return vm_running(vm) ? EXIT_RESUME : EXIT_YIELD;
	}
	if (!abort_ipa(a, &ipa)) {
		return EXIT_RESUME;
	}
	if (ipa >= BIT(vm->mmu.ia_bits)) {
		inject_abort(v);
		return vm_running(vm) ? EXIT_RESUME : EXIT_YIELD;
	}
	if (a->esr & ESR_ABT_S1PTW) {
		/*
		 * A stage-1 walk reads descriptors and, with hardware
		 * access-flag / dirty updates (TCR_EL1.HA/HD), writes them: a
		 * permission fault on a walk is a write (as KVM treats it),
		 * or a guest whose page tables sit in a write-protected page
		 * would fault on the same walk for ever.
		 */
		acc = VM_ACC_R | VM_ACC_W;
	} else if (!data) {
		acc = VM_ACC_X;
	} else {
		acc = (a->esr & ESR_DABT_WNR) ? VM_ACC_W : VM_ACC_R;
	}
	switch (vm_handle_s2_fault(v, ipa, acc)) {
	case VM_FAULT_FIXED:
		return EXIT_RESUME;
	case VM_FAULT_STOPPED:
		return EXIT_YIELD;
	case VM_FAULT_MMIO:
		break;
	}
	if (!data || (a->esr & ESR_ABT_S1PTW) ||
	    !(a->esr & ESR_DABT_ISV)) {
		/* Fetch from, walk through, or undescribed access to MMIO. */
		inject_abort(v);
		return vm_running(vm) ? EXIT_RESUME : EXIT_YIELD;
	}
	if (a->esr & ESR_DABT_CM) {
		/* Cache maintenance by VA on an emulated page: nothing to do. */
		skip_insn(a);
		return EXIT_RESUME;
	}
	hint_fill(v, ipa);
	return emulate_mmio(v, ipa, NULL, 0, 0);
}

static inline __attribute__((always_inline)) bool
fast_exit(struct vcpu *v, unsigned long vec, enum exit_action *act)
{
	struct arch_vcpu *a = &v->arch;
	struct arm64_mmio_hint *h;
	gpa_t ipa;

	/* The caller checked vec == EXIT_SYNC and the ESR (FAST_ESR_*). */
	(void)vec;
	/* HPFAR_EL2 is valid on a translation fault (abort_ipa()). */
	ipa = ((a->hpfar & GENMASK(43, 4)) << 8) | (a->far & 0xfff);
	h = hint_of(v);
	if (!hint_hit(v, h, ipa)) {
		return false;
	}
	v->vm->ctr[STRATA_CTR_MMIO_SPTE_HITS]++;
	*act = emulate_mmio(v, ipa, h->dev, h->dev_lo, h->dev_hi);
	return true;
}

/*
 * Offered every exit by guest_exit (guest_entry.S) with the guest's state
 * saved, still on guest_enter's frame: an exit the MMIO hint takes is
 * finished here, under the VM lock as the loop would hold it, and
 * arm64_reenter() says whether the vCPU may go straight back into the guest
 * (0) or the run loop must see it (EXIT_INPLACE). Every other exit goes to
 * the loop as its vector; so does one whose VM lock another CPU holds.
 * The vCPU stays in_guest throughout: a CPU that kicked it for a root
 * change waits for its next exit to the loop, which the kick's interrupt
 * brings right after the re-entry.
 */
unsigned long arm64_exit_inplace(struct arch_vcpu *a, unsigned long vec)
{
	struct vcpu *v = (struct vcpu *)((char *)a -
					 __builtin_offsetof(struct vcpu, arch));
	struct vm *vm = v->vm;
	enum exit_action act;
	unsigned long ret = 0;

	/*
	 * The run loop dropped the VM lock around the guest (docs/smp.md):
	 * an exit handled here takes it, or goes to the loop, which waits.
	 */
	if (vec != EXIT_SYNC ||
	    (a->esr & FAST_ESR_MASK) != FAST_ESR_VALUE ||
	    __atomic_exchange_n(&vm->lock.word, 1, __ATOMIC_ACQUIRE)) {
		return vec;	/* spin_trylock() without its first look */
	}
	if (vm->arch.vgic.v2.on) {
		vgic_after_exit(v);	/* what the loop does after an exit */
	}
	if (!fast_exit(v, vec, &act)) {
		ret = vec;
	} else {
		vm->ctr[STRATA_CTR_EXITS]++;
		if (!arm64_reenter(v, act)) {
			ret = EXIT_INPLACE;
		} else {
			vm->ctr[STRATA_CTR_MMIO_INPLACE]++;
		}
	}
	vm_unlock(vm);
	return ret;
}

static enum exit_action handle_sync(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	unsigned int ec = exit_ec(a);

	switch (ec) {
	case ESR_EC_DABT_LOW:
		return handle_abort(v, true);
	case ESR_EC_IABT_LOW:
		return handle_abort(v, false);
	case ESR_EC_HVC64:
		/* ELR_EL2 already points after the HVC. */
		return arm64_handle_call(v);
	case ESR_EC_SMC64:
		/* Trapped by HCR_EL2.TSC before it executed: step over it. */
		skip_insn(a);
		return arm64_handle_call(v);
	case ESR_EC_WFX:
		skip_insn(a);
		return arm64_wfx(v);
	case ESR_EC_SERROR:
		vm_fail(v->vm, "SError (ESR 0x%llx) at PC 0x%llx",
			(unsigned long long)a->esr,
			(unsigned long long)a->pc);
		return EXIT_YIELD;
	case ESR_EC_SYS64:
		if (arm64_emulate_id_reg(v) || arm64_emulate_tlbi(v) ||
		    arm64_emulate_ptimer(v) || vgic_emulate_g1_reg(v)) {
			return EXIT_RESUME;
		}
		if (vgic_is_sgi_reg(a->esr)) {
			unsigned int rt = (unsigned int)(a->esr >> 5) & 31;

			vgic_send_sgi(v, rt == 31 ? 0 : a->x[rt]);
			skip_insn(a);
			return EXIT_RESUME;
		}
		inject_undef(v);
		return vm_running(v->vm) ? EXIT_RESUME : EXIT_YIELD;
	case ESR_EC_UNKNOWN:
	case ESR_EC_HVC32:
	case ESR_EC_SMC32:
	case 0x03:	/* MCR/MRC CP15 (AArch32 EL0) */
	case 0x04:	/* MCRR/MRRC CP15 */
	case 0x05:	/* MCR/MRC CP14 */
	case 0x06:	/* LDC/STC CP14 */
	case 0x07:	/* FP/SIMD (not trapped by Strata) */
	case 0x09:	/* pointer authentication */
	case 0x0c:	/* MRRC CP14 */
	case 0x19:	/* SVE */
	case 0x1d:	/* SME */
		inject_undef(v);
		return vm_running(v->vm) ? EXIT_RESUME : EXIT_YIELD;
	default:
		vm_fail(v->vm, "unexpected exit: EC 0x%02x, ESR 0x%llx at PC 0x%llx",
			ec, (unsigned long long)a->esr,
			(unsigned long long)a->pc);
		return EXIT_YIELD;
	}
}

enum exit_action arm64_handle_exit(struct vcpu *v, unsigned int vec)
{
	struct arch_vcpu *a = &v->arch;

	switch (vec & ~EXIT_AA32) {
	case EXIT_SYNC:
		return handle_sync(v);
	case EXIT_IRQ:
		return gic_handle_irq(false) ? EXIT_TIMER : EXIT_RESUME;
	case EXIT_FIQ:
		return gic_handle_irq(true) ? EXIT_TIMER : EXIT_RESUME;
	default:
		vm_fail(v->vm, "SError at PC 0x%llx (ESR 0x%llx)",
			(unsigned long long)a->pc,
			(unsigned long long)a->esr);
		return EXIT_YIELD;
	}
}

/*
 * WFI (ISS TI bits 1:0 = 0) with nothing pending for the vCPU blocks it
 * until an interrupt for it arrives (a kick), its timer is due, or the
 * wait's bound passes (vmm_block_bound(): the architecture lets a WFI end
 * for no reason, and guests that wait in WFI for another vCPU's store need
 * it); the CPU runs its other vCPUs or idles meanwhile. With an interrupt
 * pending the WFI completes at once, as on hardware. WFE only yields the
 * rest of the slice (spin-wait loops; no event is tracked).
 */
enum exit_action arm64_wfx(struct vcpu *v)
{
	uint64_t deadline;

	if (v->arch.esr & 3) {
		return EXIT_YIELD;	/* WFE, WFET, WFIT */
	}
	if (vgic_wakeup_pending(v)) {
		return EXIT_RESUME;
	}
	deadline = vgic_vtimer_deadline(v);
	v->blocked = true;
	v->wake_at = MIN(deadline, vmm_block_bound());
	return EXIT_YIELD;
}
