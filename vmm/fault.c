// SPDX-License-Identifier: MIT
/*
 * Stage-2 faults: guest memory is mapped lazily, on the first access, from
 * the VM's memslots, with the largest block the memslot and the alignment of
 * the backing allow. Accesses to addresses no memslot backs are emulated
 * MMIO: the first one installs an MMIO SPTE (DESIGN.md "Memslots and MMIO
 * SPTEs") so that later ones are recognised from the table entry alone, as
 * long as its memslot generation is current.
 */
#include <core/arch.h>
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/vm.h>

const struct memslot *vm_find_memslot(const struct vm *vm, gpa_t gpa)
{
	for (unsigned int i = 0; i < vm->nr_memslots; i++) {
		const struct memslot *ms = &vm->memslots[i];

		if (gpa >= ms->gpa && gpa - ms->gpa < ms->size) {
			return ms;
		}
	}
	return NULL;
}

/* vm_find_memslot() for the callers that may zero the slot's backing. */
static struct memslot *slot_of(struct vm *vm, const struct memslot *ms)
{
	return &vm->memslots[ms - vm->memslots];
}

void *vm_gpa_to_host(struct vm *vm, gpa_t gpa, uint64_t len)
{
	const struct memslot *ms = vm_find_memslot(vm, gpa);

	if (!ms || !len || len > ms->size - (gpa - ms->gpa)) {
		return NULL;
	}
	/* A secure VM's private pages are not the hypervisor's to touch. */
	if (vm->cfg->secure && !arch_secure_host_access(vm, gpa, len)) {
		return NULL;
	}
	vm_ram_prepare(vm, slot_of(vm, ms), gpa - ms->gpa, len);
	return (void *)(uintptr_t)(ms->pa + (gpa - ms->gpa));
}

static const unsigned int map_ctr[] = {
	STRATA_CTR_MAPS_4K, STRATA_CTR_MAPS_2M, STRATA_CTR_MAPS_1G,
};

static unsigned int memslot_prot(const struct memslot *ms)
{
	return (ms->flags & MEMSLOT_RO) ? S2_PROT_R | S2_PROT_X : S2_PROT_RWX;
}

/*
 * An access that the vCPU's (non-default) view forbids: the vCPU goes back
 * to view 0, where the access is retried (include/vmm/hypercall.h).
 */
static enum vm_fault_result view_violation(struct vcpu *v, gpa_t gpa)
{
	v->vm->ctr[STRATA_CTR_VIEW_VIOLATIONS]++;
	pr_debug("vm %s: vCPU %u: view %u forbids the access at 0x%llx\n",
		 v->vm->name, v->id, v->view, (unsigned long long)gpa);
	v->view = 0;
	return VM_FAULT_FIXED;
}

/*
 * The window a fault may map in: the slot itself in the default view (no
 * limits), else the largest block around @gpa inside the slot over which
 * the view's limits are uniform; a logged slot only the page itself. Its
 * permissions in *@prot.
 */
static void fault_window(const struct vm *vm, unsigned int view,
			 const struct memslot *ms, gpa_t gpa, gpa_t *lo,
			 gpa_t *hi, unsigned int *prot)
{
	*prot = memslot_prot(ms);
	*lo = ms->gpa;
	*hi = ms->gpa + ms->size;
	if (!view && !(ms->flags & MEMSLOT_LOG_DIRTY)) {
		return;
	}
	/* Dirty logging tracks 4 KiB pages: no blocks in a logged slot. */
	for (int level = (ms->flags & MEMSLOT_LOG_DIRTY) ? 0 : 2; level >= 0;
	     level--) {
		uint64_t size = S2_LEVEL_SIZE(level);
		gpa_t base = ALIGN_DOWN(gpa, size);
		unsigned int vp;

		if ((level && (base < ms->gpa ||
			       base + size > ms->gpa + ms->size)) ||
		    !vm_view_prot(vm, view, base, size, &vp)) {
			continue;
		}
		*lo = MAX(base, ms->gpa);
		*hi = MIN(base + size, ms->gpa + ms->size);
		*prot &= vp;
		return;
	}
}

static enum vm_fault_result drop_mmio_spte(struct vm *vm, struct s2pt *pt,
					   gpa_t gpa)
{
	int ret;

	s2_mmu_write_lock(&vm->mmu);
	ret = s2pt_unmap(pt, ALIGN_DOWN(gpa, PAGE_SIZE), PAGE_SIZE);
	s2_mmu_write_unlock(&vm->mmu);

	if (ret) {
		vm_fail(vm, "cannot drop MMIO SPTE at 0x%llx (%d)",
			(unsigned long long)gpa, ret);
		return VM_FAULT_STOPPED;
	}
	vm->ctr[STRATA_CTR_MMIO_SPTE_STALE]++;
	return VM_FAULT_FIXED;
}

static enum vm_fault_result fault_on_mapped(struct vcpu *v, struct s2pt *pt,
					    const struct memslot *ms,
					    gpa_t gpa, unsigned int acc,
					    const struct s2_translation *t);

/*
 * Lazy zeroing (vmm/ramzero.c): a fault may install any leaf around @gpa
 * inside [*@lo, *@hi) up to the level its walk ends at. Unless all the
 * largest candidate (the 1 GiB around @gpa when one fits in the window,
 * else the 2 MiB, in the window) is zeroed
 * already, the window shrinks to the block the core would install, found
 * as s2pt_map_fault() finds it, and that block is zeroed first: the core
 * maps nothing outside the window, so nothing it maps was left unzeroed,
 * whether or not this search agrees with the core's.
 */
static void zero_fault_block(struct vm *vm, const struct s2pt *pt,
			     const struct memslot *ms, gpa_t gpa, gpa_t *lo,
			     gpa_t *hi)
{
	gpa_t g1 = ALIGN_DOWN(gpa, SZ_1G);
	uint64_t top = g1 >= *lo && g1 + SZ_1G <= *hi &&
		       s2_level_has_blocks(pt, 2) ? SZ_1G : SZ_2M;
	gpa_t top_lo = MAX(*lo, ALIGN_DOWN(gpa, top));
	gpa_t top_hi = MIN(*hi, ALIGN_DOWN(gpa, top) + top);
	gpa_t base = ALIGN_DOWN(gpa, PAGE_SIZE), end = base + PAGE_SIZE;
	unsigned int level;
	int ret;

	/* No 1 GiB block fits: the 2 MiB around @gpa is the largest. */
	if (vm_ram_is_zeroed(ms, top_lo - ms->gpa, top_hi - top_lo)) {
		return;
	}
	s2_mmu_read_lock(&vm->mmu);
	ret = s2pt_walk_level(pt, gpa, &level);
	s2_mmu_read_unlock(&vm->mmu);
	if (!ret) {
		for (unsigned int l = MIN(level, 2U); l > 0; l--) {
			uint64_t size = S2_LEVEL_SIZE(l);
			gpa_t b = ALIGN_DOWN(gpa, size);

			if (s2_level_has_blocks(pt, l) && b >= *lo &&
			    b + size <= *hi &&
			    IS_ALIGNED(ms->pa + (b - ms->gpa), size)) {
				base = b;
				end = b + size;
				break;
			}
		}
	}
	*lo = base;
	*hi = end;
	vm_ram_prepare(vm, slot_of(vm, ms), base - ms->gpa, end - base);
}

/*
 * A fault in memory @ms backs, in one walk (s2pt_map_fault()): map the
 * largest block around @gpa that the memslot backs, that is still free and
 * over which the vCPU's view allows one set of permissions, or handle the
 * leaf or stale MMIO SPTE found there.
 */
static enum vm_fault_result fault_in_memslot(struct vcpu *v, struct s2pt *pt,
					     const struct memslot *ms,
					     gpa_t gpa, unsigned int acc)
{
	struct vm *vm = v->vm;
	struct s2_fault_result r;
	unsigned int prot;
	gpa_t lo, hi;
	int ret;

	fault_window(vm, v->roots.cur->role.view, ms, gpa, &lo, &hi, &prot);
	if (!prot || (acc & prot) != acc) {
		return (acc & ~memslot_prot(ms)) ? VM_FAULT_MMIO :
		       view_violation(v, gpa);
	}
	if ((ms->flags & MEMSLOT_LOG_DIRTY) && !(acc & VM_ACC_W)) {
		prot &= ~S2_PROT_W;	/* the first write is logged */
	}
	if (ms->unzeroed) {
		zero_fault_block(vm, pt, ms, gpa, &lo, &hi);
	}
	for (int tries = 0; tries < 2; tries++) {
		/* Shared: faults install by compare-and-exchange (mmu.md). */
		s2_mmu_read_lock(&vm->mmu);
		ret = s2pt_map_fault(pt, gpa, lo, hi, ms->pa + (lo - ms->gpa),
				     prot, &r);
		s2_mmu_read_unlock(&vm->mmu);
		if (!ret) {
			vm->ctr[STRATA_CTR_S2_FAULTS]++;
			vm->ctr[map_ctr[r.t.level]]++;
			return VM_FAULT_FIXED;
		}
		if (ret != -EEXIST) {
			break;
		}
		if (r.found == S2_FAULT_LEAF) {
			return fault_on_mapped(v, pt, ms, gpa, acc, &r.t);
		}
		/*
		 * An MMIO SPTE inside a memslot is stale by construction:
		 * the slot's arrival moved the generation on.
		 */
		if (r.found != S2_FAULT_MMIO ||
		    drop_mmio_spte(vm, pt, gpa) != VM_FAULT_FIXED) {
			break;
		}
	}
	vm_fail(vm, "cannot map GPA 0x%llx (%d)", (unsigned long long)gpa,
		ret);
	return VM_FAULT_STOPPED;
}

/*
 * A fault where a translation exists: a write to a write-protected page
 * (dirty logging), an access the view forbids, a ROM write, or a race.
 */
static enum vm_fault_result fault_on_mapped(struct vcpu *v, struct s2pt *pt,
					    const struct memslot *ms,
					    gpa_t gpa, unsigned int acc,
					    const struct s2_translation *t)
{
	struct vm *vm = v->vm;
	gpa_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
	unsigned int allowed;
	int ret;

	if ((acc & t->prot) == acc) {
		/*
		 * The entry allows the access: the fault raced with a change
		 * of the table, or the hardware still held the old entry.
		 * Retrying is right; time slicing bounds a guest that keeps
		 * faulting.
		 */
		return VM_FAULT_FIXED;
	}
	if (acc & ~memslot_prot(ms)) {
		return VM_FAULT_MMIO;	/* a ROM write: emulate */
	}
	vm_view_prot(vm, v->roots.cur->role.view, page, PAGE_SIZE, &allowed);
	allowed &= memslot_prot(ms);
	if ((acc & allowed) != acc) {
		return view_violation(v, gpa);
	}
	s2_mmu_write_lock(&vm->mmu);
	ret = s2pt_protect(pt, page, PAGE_SIZE, allowed);
	s2_mmu_write_unlock(&vm->mmu);
	if (ret) {
		vm_fail(vm, "cannot unprotect GPA 0x%llx (%d)",
			(unsigned long long)gpa, ret);
		return VM_FAULT_STOPPED;
	}
	if (acc & VM_ACC_W) {
		vm->ctr[STRATA_CTR_WP_FAULTS]++;
	}
	return VM_FAULT_FIXED;
}

/*
 * Table pages the VM's roots hold for MMIO SPTEs now: the core counts each
 * page s2pt_set_mmio() took until it is freed (unmap, zap, teardown), so
 * the budget comes back as they go.
 */
static uint64_t mmio_tables_in_use(const struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		if (vm->mmu.pool[i].in_use) {
			n += vm->mmu.pool[i].pt.counters.mmio_tables;
		}
	}
	return n;
}

/*
 * Install an MMIO SPTE for @page, within the VM's budget of table pages for
 * them: RAM needs a bounded number of tables (its size decides), but a guest
 * touching unbacked addresses all over its IPA space would otherwise take a
 * table page per 2 MiB from the allocator every VM shares. Past the budget
 * the access is still emulated, just without the SPTE's fast path.
 */
static int install_mmio_spte(struct vm *vm, struct s2pt *pt, gpa_t page)
{
	int ret;

	if (vm->no_mmio_spte) {
		return -EOPNOTSUPP;
	}
	vm->mmio_tables = mmio_tables_in_use(vm);
	if (vm->mmio_tables >= VM_MMIO_TABLE_BUDGET) {
		return -ENOSPC;
	}
	if (vm_memslot_update_in_progress(vm)) {
		return -EAGAIN;	/* its generation would be stale at once */
	}
	s2_mmu_write_lock(&vm->mmu);
	ret = s2pt_set_mmio(pt, page, vm_mmio_gen(vm));
	s2_mmu_write_unlock(&vm->mmu);
	vm->mmio_tables = mmio_tables_in_use(vm);
	return ret;
}

enum vm_fault_result vm_handle_s2_fault(struct vcpu *v, gpa_t gpa,
					unsigned int acc)
{
	struct vm *vm = v->vm;
	gpa_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
	const struct memslot *ms;
	struct s2pt *pt;
	uint64_t gen;
	int ret;

	if (!v->roots.cur) {
		vm_bug(vm, "stage-2 fault of vCPU %u without a root", v->id);
		return VM_FAULT_STOPPED;
	}
	if (v->roots.cur->role.invalid) {
		/*
		 * Another CPU invalidated the root while this vCPU ran on it
		 * (docs/smp.md): the entry takes a fresh one, the access
		 * faults again there.
		 */
		return VM_FAULT_FIXED;
	}
	pt = vcpu_s2(v);
	ms = vm_find_memslot(vm, gpa);
	if (ms) {
		return fault_in_memslot(v, pt, ms, gpa, acc);
	}
	s2_mmu_read_lock(&vm->mmu);
	ret = s2pt_get_mmio(pt, gpa, &gen);
	s2_mmu_read_unlock(&vm->mmu);
	if (!ret) {
		/* During a memslot update every MMIO SPTE misses. */
		if (!vm_memslot_update_in_progress(vm) &&
		    gen == vm_mmio_gen(vm) && !(acc & VM_ACC_X)) {
			vm->ctr[STRATA_CTR_MMIO_SPTE_HITS]++;
			return VM_FAULT_MMIO;
		}
		/* Stale generation: forget it. */
		if (drop_mmio_spte(vm, pt, gpa) != VM_FAULT_FIXED) {
			return VM_FAULT_STOPPED;
		}
	}
	if (acc & VM_ACC_X) {
		if (arch_unbacked_fetch_aborts) {
			return VM_FAULT_MMIO;	/* the arch injects the abort */
		}
		vm_fail(vm, "instruction fetch from GPA 0x%llx, which no memory backs",
			(unsigned long long)gpa);
		return VM_FAULT_STOPPED;
	}
	ret = install_mmio_spte(vm, pt, page);
	if (ret && ret != -EEXIST) {
		/*
		 * Still emulated, just without the fast path (beyond the IPA
		 * size, or no page for a table). Not a warning: a guest could
		 * repeat it at will.
		 */
		pr_debug("vm %s: no MMIO SPTE for 0x%llx (%d)\n", vm->name,
			 (unsigned long long)gpa, ret);
	}
	return VM_FAULT_MMIO;
}

int vm_prepare_host_write(struct vm *vm, gpa_t gpa, uint64_t len)
{
	gpa_t end = gpa + len;

	if (!len || end < gpa) {
		return -EINVAL;
	}
	for (gpa_t page = ALIGN_DOWN(gpa, PAGE_SIZE); page < end;
	     page += PAGE_SIZE) {
		const struct memslot *ms = vm_find_memslot(vm, page);
		struct s2_translation t;
		bool counted = false;
		int ret;

		if (!ms) {
			return -EFAULT;
		}
		if (ms->flags & MEMSLOT_RO) {
			return -EACCES;
		}
		/*
		 * Every view that holds the page write-protected gets it back
		 * writable, within what that view allows (a view that forbids
		 * writes keeps its protection: the host's write does not go
		 * through stage 2).
		 */
		s2_mmu_write_lock(&vm->mmu);
		ret = 0;
		for (struct s2_root *r = vm->mmu.list; r; r = r->next) {
			unsigned int allow;

			if (s2pt_lookup(&r->pt, page, &t) ||
			    (t.prot & S2_PROT_W)) {
				continue;	/* unmapped, or writable */
			}
			vm_view_prot(vm, r->role.view, page, PAGE_SIZE, &allow);
			if (!(allow & S2_PROT_W)) {
				continue;
			}
			ret = s2pt_protect(&r->pt, page, PAGE_SIZE,
					   allow & S2_PROT_RWX);
			if (ret) {
				break;
			}
			if (!counted) {
				vm->ctr[STRATA_CTR_WP_FAULTS]++;
				counted = true;
			}
		}
		s2_mmu_write_unlock(&vm->mmu);
		if (ret) {
			return ret;
		}
	}
	return 0;
}
