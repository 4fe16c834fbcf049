// SPDX-License-Identifier: MIT
/*
 * Stage-2 faults: guest memory is mapped lazily, on the first access, from
 * the VM's memslots, with the largest block the memslot and the alignment of
 * the backing allow. Accesses to addresses no memslot backs are emulated
 * MMIO: the first one installs an MMIO SPTE (DESIGN.md "Memslots and MMIO
 * SPTEs") so that later ones are recognised from the table entry alone, as
 * long as its memslot generation is current.
 */
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

void *vm_gpa_to_host(struct vm *vm, gpa_t gpa, uint64_t len)
{
	const struct memslot *ms = vm_find_memslot(vm, gpa);

	if (!ms || !len || len > ms->size - (gpa - ms->gpa)) {
		return NULL;
	}
	return (void *)(uintptr_t)(ms->pa + (gpa - ms->gpa));
}

static const unsigned int map_ctr[] = {
	STRATA_CTR_MAPS_4K, STRATA_CTR_MAPS_2M, STRATA_CTR_MAPS_1G,
};

/* Map the largest block around @gpa that @ms backs and that is still free. */
static enum vm_fault_result map_from_memslot(struct vm *vm,
					     const struct memslot *ms,
					     gpa_t gpa)
{
	unsigned int prot = (ms->flags & MEMSLOT_RO) ?
			    S2_PROT_R | S2_PROT_X : S2_PROT_RWX;
	int ret = -EEXIST;

	for (int level = 2; level >= 0; level--) {
		uint64_t size = S2_LEVEL_SIZE(level);
		gpa_t base = ALIGN_DOWN(gpa, size);
		paddr_t pa = ms->pa + (base - ms->gpa);

		if (!s2_level_has_blocks(&vm->s2, level) || base < ms->gpa ||
		    base + size > ms->gpa + ms->size ||
		    !IS_ALIGNED(pa, size)) {
			continue;
		}
		ret = s2pt_map(&vm->s2, base, pa, size, prot);
		if (!ret) {
			vm->ctr[STRATA_CTR_S2_FAULTS]++;
			vm->ctr[map_ctr[level]]++;
			return VM_FAULT_FIXED;
		}
		if (ret != -EEXIST) {
			break;
		}
	}
	vm_fail(vm, "cannot map GPA 0x%llx (%d)", (unsigned long long)gpa,
		ret);
	return VM_FAULT_STOPPED;
}

/* A fault where a translation exists: a write to a protected page. */
static enum vm_fault_result fault_on_mapped(struct vm *vm,
					    const struct memslot *ms,
					    gpa_t gpa, unsigned int acc,
					    const struct s2_translation *t)
{
	int ret;

	if ((acc & VM_ACC_W) && !(t->prot & S2_PROT_W)) {
		if (ms->flags & MEMSLOT_RO) {
			return VM_FAULT_MMIO;	/* a ROM write: emulate */
		}
		ret = s2pt_protect(&vm->s2, ALIGN_DOWN(gpa, PAGE_SIZE),
				   PAGE_SIZE, S2_PROT_RWX);
		if (ret) {
			vm_fail(vm, "cannot unprotect GPA 0x%llx (%d)",
				(unsigned long long)gpa, ret);
			return VM_FAULT_STOPPED;
		}
		vm->ctr[STRATA_CTR_WP_FAULTS]++;
		return VM_FAULT_FIXED;
	}
	/*
	 * The entry allows the access: the fault raced with a change of the
	 * table, or the hardware still held the old entry. Retrying is right;
	 * the run loop's time slicing bounds a guest that keeps faulting.
	 */
	return VM_FAULT_FIXED;
}

/*
 * Install an MMIO SPTE for @page, within the VM's budget of table pages for
 * them: RAM needs a bounded number of tables (its size decides), but a guest
 * touching unbacked addresses all over its IPA space would otherwise take a
 * table page per 2 MiB from the allocator every VM shares. Past the budget
 * the access is still emulated, just without the SPTE's fast path.
 */
static int install_mmio_spte(struct vm *vm, gpa_t page)
{
	uint64_t before = vm->s2.counters.tables_alloc;
	int ret;

	if (vm->mmio_tables >= VM_MMIO_TABLE_BUDGET) {
		return -ENOSPC;
	}
	ret = s2pt_set_mmio(&vm->s2, page, vm->memslot_gen);
	vm->mmio_tables += vm->s2.counters.tables_alloc - before;
	return ret;
}

enum vm_fault_result vm_handle_s2_fault(struct vcpu *v, gpa_t gpa,
					unsigned int acc)
{
	struct vm *vm = v->vm;
	gpa_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
	const uint64_t gen_mask = BIT(S2_MMIO_GEN_BITS) - 1;
	const struct memslot *ms;
	struct s2_translation t;
	uint64_t gen;
	int ret;

	if (!s2pt_get_mmio(&vm->s2, gpa, &gen)) {
		if (gen == (vm->memslot_gen & gen_mask) && !(acc & VM_ACC_X)) {
			vm->ctr[STRATA_CTR_MMIO_SPTE_HITS]++;
			return VM_FAULT_MMIO;
		}
		/* Stale generation: forget it and look the address up. */
		ret = s2pt_unmap(&vm->s2, page, PAGE_SIZE);
		if (ret) {
			vm_fail(vm, "cannot drop MMIO SPTE at 0x%llx (%d)",
				(unsigned long long)gpa, ret);
			return VM_FAULT_STOPPED;
		}
	}
	ms = vm_find_memslot(vm, gpa);
	if (!ms) {
		if (acc & VM_ACC_X) {
			vm_fail(vm, "instruction fetch from GPA 0x%llx, which no memory backs",
				(unsigned long long)gpa);
			return VM_FAULT_STOPPED;
		}
		ret = install_mmio_spte(vm, page);
		if (ret && ret != -EEXIST) {
			/*
			 * Still emulated, just without the fast path (beyond
			 * the IPA size, or no page for a table). Not a warning:
			 * a guest could repeat it at will.
			 */
			pr_debug("vm %s: no MMIO SPTE for 0x%llx (%d)\n",
				 vm->name, (unsigned long long)gpa, ret);
		}
		return VM_FAULT_MMIO;
	}
	if (!s2pt_lookup(&vm->s2, gpa, &t)) {
		return fault_on_mapped(vm, ms, gpa, acc, &t);
	}
	return map_from_memslot(vm, ms, gpa);
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
		int ret;

		if (!ms) {
			return -EFAULT;
		}
		if (ms->flags & MEMSLOT_RO) {
			return -EACCES;
		}
		if (s2pt_lookup(&vm->s2, page, &t) || (t.prot & S2_PROT_W)) {
			continue;	/* unmapped, or already writable */
		}
		ret = s2pt_protect(&vm->s2, page, PAGE_SIZE, S2_PROT_RWX);
		if (ret) {
			return ret;
		}
		vm->ctr[STRATA_CTR_WP_FAULTS]++;
	}
	return 0;
}
