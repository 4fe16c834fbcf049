// SPDX-License-Identifier: MIT
/*
 * Memslots and stage-2 views at run time (the ABI is in
 * include/vmm/hypercall.h, the roots' rules in include/mm/roots.h).
 *
 * Every memslot update runs between vm_memslot_begin_update(), which sets
 * the in-progress bit of the generation so that every MMIO SPTE lookup
 * misses and none is installed, and vm_memslot_end_update(), which advances
 * the generation; when the generation MMIO SPTEs can hold wraps to 0, SPTEs
 * written a whole cycle ago would match again, so all roots are invalidated.
 *
 * A deleted or moved slot's range is unmapped from every root in the pool
 * (listed or not) before all roots are invalidated, and its pages go back to
 * the allocator only when no root maps them: the safety rule of seed 001.
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <mm/s2_arch.h>
#include <vmm/vm.h>

_Static_assert(STRATA_MEMSLOT_RDONLY == MEMSLOT_RO &&
	       STRATA_MEMSLOT_LOG_DIRTY == MEMSLOT_LOG_DIRTY,
	       "the ABI's memslot flags are the VMM's");

void vm_memslot_begin_update(struct vm *vm)
{
	if (WARN_ON_ONCE(vm_memslot_update_in_progress(vm))) {
		return;
	}
	vm->memslot_gen |= 1;
}

void vm_memslot_end_update(struct vm *vm)
{
	if (WARN_ON_ONCE(!vm_memslot_update_in_progress(vm))) {
		return;
	}
	vm->memslot_gen++;	/* clears bit 0, the generation advances */
	if (vm_mmio_gen(vm) == 0) {
		vm->ctr[STRATA_CTR_GEN_WRAPS]++;
		vm_invalidate_roots(vm);
	}
}

/*
 * Every vCPU lets go of invalid roots now, not at its next entry: a vCPU
 * that does not run for a while must not keep roots in the pool. A vCPU in
 * the guest on another CPU (docs/smp.md) still has its root in VTTBR_EL2 /
 * the EPTP: its cache keeps the reference, so the root's pages stay until
 * that vCPU's next entry drops it (s2_root_cache_load()). The root was
 * zapped and flushed on every CPU already, but the stage-1 entries that
 * vCPU caches under the old root's VMID are beyond the reach of the guest
 * TLBIs other vCPUs issue on their new roots: the kick is acknowledged
 * (vcpu_kick_sync()), and no vCPU enters the guest before it has left.
 */
void vm_drop_stale_roots(struct vm *vm)
{
	s2_mmu_write_lock(&vm->mmu);	/* root caches and references */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->in_guest) {
			vcpu_kick_sync(v);
			continue;
		}
		arch_vcpu_drop_roots(v);
		s2_root_cache_drop_invalid(&v->roots);
	}
	s2_mmu_write_unlock(&vm->mmu);
}

unsigned int vm_invalidate_roots(struct vm *vm)
{
	unsigned int n = s2_mmu_invalidate_all(&vm->mmu);

	vm->ctr[STRATA_CTR_ROOTS_INVALIDATED] += n;
	vm->views_gen++;
	vm_drop_stale_roots(vm);
	return n;
}

static struct memslot *slot_get(struct vm *vm, unsigned int id)
{
	if (id >= vm->nr_memslots || !vm->memslots[id].size) {
		return NULL;
	}
	return &vm->memslots[id];
}

/* [@gpa, +@size) is free of memslots (but @skip) and devices. */
static int range_free(const struct vm *vm, gpa_t gpa, uint64_t size,
		      const struct memslot *skip)
{
	for (unsigned int i = 0; i < vm->nr_memslots; i++) {
		const struct memslot *ms = &vm->memslots[i];

		if (ms != skip && ms->size && gpa < ms->gpa + ms->size &&
		    ms->gpa < gpa + size) {
			return -EBUSY;
		}
	}
	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		const struct io_device *d = &vm->devices[i];

		if (d->space == IO_MMIO && gpa < d->base + d->size &&
		    d->base < gpa + size) {
			return -EBUSY;
		}
	}
	return 0;
}

static int check_range(const struct vm *vm, gpa_t gpa, uint64_t size)
{
	if (!size || !IS_ALIGNED(gpa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE)) {
		return -EINVAL;
	}
	if (gpa + size < gpa || gpa + size > BIT(vm->mmu.ia_bits)) {
		return -ERANGE;
	}
	return 0;
}

int vm_memslot_add(struct vm *vm, gpa_t gpa, uint64_t size,
		   unsigned int flags, unsigned int *id)
{
	uint64_t align = IS_ALIGNED(gpa | size, SZ_2M) ? SZ_2M : PAGE_SIZE;
	unsigned int slot = VM_MAX_MEMSLOTS;
	paddr_t pa;
	int ret;

	ret = check_range(vm, gpa, size);
	if (ret) {
		return ret;
	}
	if (flags & ~(MEMSLOT_RO | MEMSLOT_LOG_DIRTY)) {
		return -EINVAL;
	}
	ret = range_free(vm, gpa, size, NULL);
	if (ret) {
		return ret;
	}
	if (size > vm->mem_limit - vm->mem_used) {
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < VM_MAX_MEMSLOTS; i++) {
		if (!vm->memslots[i].size) {
			slot = i;
			break;
		}
	}
	if (slot == VM_MAX_MEMSLOTS) {
		return -ENOSPC;
	}
	if (palloc_alloc(size >> PAGE_SHIFT, align >> PAGE_SHIFT, &pa)) {
		return -ENOMEM;
	}
	vm_memslot_begin_update(vm);
	vm->memslots[slot] = (struct memslot){
		.gpa = gpa, .size = size, .pa = pa,
		.flags = flags | MEMSLOT_OWNED,
	};
	/* The guest must never see what the pages held before: zeroed lazily. */
	vm_ram_track(vm, &vm->memslots[slot]);
	vm->nr_memslots = MAX(vm->nr_memslots, slot + 1);
	vm->mem_used += size;
	/*
	 * MMIO SPTEs of the range are stale now: the generation moves on, so
	 * the next access misses and maps the new memory.
	 */
	vm_memslot_end_update(vm);
	*id = slot;
	return 0;
}

/* Take [@gpa, +@size) out of every root; true when none maps @ms's pages. */
static bool unmap_slot_everywhere(struct vm *vm, const struct memslot *ms)
{
	int ret;

	s2_mmu_write_lock(&vm->mmu);
	ret = s2_mmu_unmap_everywhere(&vm->mmu, ms->gpa, ms->size);
	s2_mmu_write_unlock(&vm->mmu);
	if (ret) {
		vm_bug(vm, "cannot unmap memslot 0x%llx+0x%llx (%d)",
		       (unsigned long long)ms->gpa,
		       (unsigned long long)ms->size, ret);
		return false;
	}
	vm_invalidate_roots(vm);
	if (!s2_mmu_pa_unmapped(&vm->mmu, ms->pa, ms->size)) {
		vm_bug(vm, "memslot pages still mapped after delete");
		return false;
	}
	return true;
}

int vm_memslot_delete(struct vm *vm, unsigned int id)
{
	struct memslot *ms = slot_get(vm, id);
	struct memslot old;

	if (!ms) {
		return -ENOENT;
	}
	old = *ms;
	vm_memslot_begin_update(vm);
	ms->size = 0;	/* no fault can map it from here on */
	if (unmap_slot_everywhere(vm, &old) && (old.flags & MEMSLOT_OWNED)) {
		palloc_free(old.pa, old.size >> PAGE_SHIFT);
		vm->mem_used -= old.size;
	}
	vm_ram_untrack(ms);
	/* Slot 0's RAM is returned with the VM (vm_destroy()). */
	vm_memslot_end_update(vm);
	return 0;
}

int vm_memslot_move(struct vm *vm, unsigned int id, gpa_t gpa)
{
	struct memslot *ms = slot_get(vm, id);
	struct memslot old;
	int ret;

	if (!ms) {
		return -ENOENT;
	}
	ret = check_range(vm, gpa, ms->size);
	if (!ret) {
		ret = range_free(vm, gpa, ms->size, ms);
	}
	if (ret) {
		return ret;
	}
	vm_memslot_begin_update(vm);
	/*
	 * The slot backs nothing until it is at its new place, as a deleted
	 * one: a fault in a zapper's yield (vm_invalidate_roots()) must not
	 * map the old range again into a root the zapper does not hold.
	 */
	old = *ms;
	ms->size = 0;
	unmap_slot_everywhere(vm, &old);
	ms->gpa = gpa;
	ms->size = old.size;
	vm_memslot_end_update(vm);
	return 0;
}

/* Apply @fn to the slot's range in every listed root; first error. */
static int for_each_root(struct vm *vm, const struct memslot *ms,
			 int (*fn)(struct s2pt *pt, gpa_t gpa, uint64_t size))
{
	int first = 0;

	s2_mmu_write_lock(&vm->mmu);
	for (struct s2_root *r = vm->mmu.list; r; r = r->next) {
		int ret = fn(&r->pt, ms->gpa, ms->size);

		if (ret < 0 && !first) {
			first = ret;
		}
	}
	s2_mmu_write_unlock(&vm->mmu);
	return first;
}

/*
 * Remove write access to the range from every listed root. The default
 * view has no limits, so its leaves become read + execute; a view's leaves
 * may have fewer rights than that, and setting R+X would widen them, so
 * views forget the range and refault it under their limits.
 */
int vm_wrprotect_range(struct vm *vm, gpa_t gpa, uint64_t size)
{
	int first = 0;

	s2_mmu_write_lock(&vm->mmu);
	for (struct s2_root *r = vm->mmu.list; r; r = r->next) {
		int ret = r->role.view ?
			  s2pt_unmap(&r->pt, gpa, size) :
			  s2pt_protect(&r->pt, gpa, size,
				       S2_PROT_R | S2_PROT_X);

		if (ret < 0 && !first) {
			first = ret;
		}
	}
	s2_mmu_write_unlock(&vm->mmu);
	return first;
}

static int split_pages(struct s2pt *pt, gpa_t gpa, uint64_t size)
{
	return s2pt_split(pt, gpa, size, 0);
}

/*
 * Dirty logging ends: the default view gets write access back and its
 * tables collapse into blocks again; other views forget the range and map
 * it with their own limits at the next fault.
 */
static int end_logging(struct vm *vm, const struct memslot *ms)
{
	unsigned int prot = (ms->flags & MEMSLOT_RO) ? S2_PROT_R | S2_PROT_X :
			    S2_PROT_RWX;
	int first = 0;

	s2_mmu_write_lock(&vm->mmu);
	for (struct s2_root *r = vm->mmu.list; r; r = r->next) {
		int ret;

		if (r->role.view) {
			ret = s2pt_unmap(&r->pt, ms->gpa, ms->size);
		} else {
			ret = s2pt_protect(&r->pt, ms->gpa, ms->size, prot);
			if (!ret) {
				ret = s2pt_collapse(&r->pt, ms->gpa, ms->size);
			}
		}
		if (ret < 0 && !first) {
			first = ret;
		}
	}
	s2_mmu_write_unlock(&vm->mmu);
	return first;
}

int vm_memslot_set_flags(struct vm *vm, unsigned int id, unsigned int flags)
{
	struct memslot *ms = slot_get(vm, id);
	unsigned int keep = MEMSLOT_RO | MEMSLOT_LOG_DIRTY;
	unsigned int old;
	int ret = 0;

	if (!ms) {
		return -ENOENT;
	}
	if (flags & ~(keep | STRATA_MEMSLOT_EAGER_SPLIT)) {
		return -EINVAL;
	}
	vm_memslot_begin_update(vm);
	old = ms->flags;
	ms->flags = (old & ~keep) | (flags & keep);
	if (ms->flags & ~old & keep) {
		/* Read-only or dirty logging: no root may still allow writes. */
		ret = vm_wrprotect_range(vm, ms->gpa, ms->size);
	}
	if (!ret && (flags & STRATA_MEMSLOT_EAGER_SPLIT) &&
	    (flags & MEMSLOT_LOG_DIRTY) && !(old & MEMSLOT_LOG_DIRTY)) {
		ret = for_each_root(vm, ms, split_pages);
	}
	if (!ret && (old & ~ms->flags & MEMSLOT_LOG_DIRTY)) {
		ret = end_logging(vm, ms);
	}
	if (ret) {
		/*
		 * Out of table pages part way (other roots may be done): the
		 * slot forgets every translation instead, so each later access
		 * faults and is mapped under the new flags. The flags stand.
		 */
		s2_mmu_write_lock(&vm->mmu);
		if (s2_mmu_unmap_everywhere(&vm->mmu, ms->gpa, ms->size)) {
			vm_bug(vm, "memslot %u cannot be unmapped", id);
		}
		s2_mmu_write_unlock(&vm->mmu);
	}
	vm_memslot_end_update(vm);
	return ret == -ENOMEM ? 0 : ret;
}

/* ---- Views ------------------------------------------------------------ */

int vm_view_create(struct vm *vm, unsigned int *id)
{
	for (unsigned int i = 1; i < S2_MAX_VIEWS; i++) {
		if (!vm->views[i].used) {
			vm->views[i] = (struct vm_view){ .used = true };
			vm->views_gen++;
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static struct vm_view *view_get(struct vm *vm, unsigned int id)
{
	if (id == 0 || id >= S2_MAX_VIEWS || !vm->views[id].used) {
		return NULL;
	}
	return &vm->views[id];
}

/*
 * A view's root forgets [@gpa, +@size). The unmap needs table pages when a
 * block straddles an end of the range; without them the root forgets the
 * whole 1 GiB regions around the range instead, which splits nothing (no
 * block is larger): the view's new limits hold either way, the root just
 * refaults more.
 */
static int view_forget(struct vm *vm, struct s2_root *r, gpa_t gpa,
		       uint64_t size)
{
	gpa_t lo = ALIGN_DOWN(gpa, SZ_1G), hi = ALIGN_UP(gpa + size, SZ_1G);
	int ret = s2pt_unmap(&r->pt, gpa, size);

	if (ret != -ENOMEM) {
		return ret;
	}
	ret = s2pt_unmap(&r->pt, lo, hi - lo);
	if (ret) {
		vm_bug(vm, "view %u cannot forget 0x%llx+0x%llx (%d)",
		       r->role.view, (unsigned long long)lo,
		       (unsigned long long)(hi - lo), ret);
	}
	return ret;
}

int vm_view_protect(struct vm *vm, unsigned int id, gpa_t gpa,
		    uint64_t size, unsigned int prot)
{
	struct vm_view *w = view_get(vm, id);
	int ret;

	if (!w) {
		return -ENOENT;
	}
	ret = check_range(vm, gpa, size);
	if (ret) {
		return ret;
	}
	if ((prot & ~S2_PROT_RWX) || (prot && !arch_s2_prot_valid(prot))) {
		return -EINVAL;
	}
	if (w->nr == VM_VIEW_RANGES) {
		return -ENOSPC;
	}
	w->r[w->nr].gpa = gpa;
	w->r[w->nr].size = size;
	w->r[w->nr].prot = prot;
	w->nr++;
	/* The view's root forgets the range; faults map it as limited now. */
	s2_mmu_write_lock(&vm->mmu);
	for (struct s2_root *r = vm->mmu.list; r; r = r->next) {
		if (r->role.view == id) {
			ret = view_forget(vm, r, gpa, size);
			if (ret) {
				break;
			}
		}
	}
	s2_mmu_write_unlock(&vm->mmu);
	return ret;
}

int vm_view_switch(struct vcpu *v, unsigned int id)
{
	if (id != 0 && !view_get(v->vm, id)) {
		return -ENOENT;
	}
	v->view = id;
	v->vm->ctr[STRATA_CTR_VIEW_SWITCHES]++;
	return 0;
}

int vm_view_destroy(struct vm *vm, unsigned int id)
{
	struct vm_view *w = view_get(vm, id);

	if (!w) {
		return -ENOENT;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].view == id) {
			return -EBUSY;
		}
	}
	w->used = false;
	vm->views_gen++;
	vm->ctr[STRATA_CTR_ROOTS_INVALIDATED] +=
		s2_mmu_invalidate_view(&vm->mmu, id);
	vm_drop_stale_roots(vm);
	return 0;
}

bool vm_view_prot(const struct vm *vm, unsigned int id, gpa_t gpa,
		  uint64_t size, unsigned int *prot)
{
	const struct vm_view *w;
	unsigned int p = S2_PROT_RWX;

	if (id == 0 || id >= S2_MAX_VIEWS || !vm->views[id].used) {
		*prot = p;
		return true;
	}
	w = &vm->views[id];
	/* Later ranges win: the last one that covers the range decides. */
	for (unsigned int i = 0; i < w->nr; i++) {
		gpa_t s = w->r[i].gpa, e = s + w->r[i].size;

		if (e <= gpa || s >= gpa + size) {
			continue;
		}
		if (s > gpa || e < gpa + size) {
			return false;	/* only part of the range */
		}
		p = w->r[i].prot;
	}
	*prot = p;
	return true;
}
