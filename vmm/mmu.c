// SPDX-License-Identifier: MIT
/*
 * The VMM side of the roots (include/mm/roots.h): every vCPU computes its
 * role, loads the root of that role through its root cache and passes the
 * entry audit before each guest entry; internal bugs that break only one VM
 * stop that VM (vm_bug()).
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/vm.h>

bool vm_entry_audit_on = true;

void vm_bug(struct vm *vm, const char *fmt, ...)
{
	char reason[80];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	warn_count++;
	pr_err("WARNING: vm %s: internal bug: %s\n", vm->name, reason);
	vm_fail(vm, "internal bug: %s", reason);
}

/* Every root its own VMID (include/mm/roots.h); arm64 VMIDs are 8 bits. */
_Static_assert(VM_MAX_VMS * S2_MMU_MAX_ROOTS + 1 <= 256,
	       "the VMs' roots need more VMIDs than 8 bits give");

int vm_mmu_init(struct vm *vm, unsigned int ia_bits, unsigned int flags)
{
	int ret = s2_mmu_init(&vm->mmu, ia_bits, flags,
			      (uint16_t)(vm->index * S2_MMU_MAX_ROOTS + 1));

	vm->mmu_live = !ret;
	/* Every core operation asserts the MMU lock mode (docs/smp.md). */
	vm->mmu.lock_tables = true;
	return ret;
}

void vm_mmu_destroy(struct vm *vm)
{
	if (!vm->mmu_live) {
		return;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		arch_vcpu_drop_roots(&vm->vcpus[i]);
		s2_root_cache_clear(&vm->vcpus[i].roots);
	}
	s2_mmu_destroy(&vm->mmu);
	vm->mmu_live = false;
}

struct s2_root *vm_default_root(struct vm *vm, int *err)
{
	struct s2_root *r;

	s2_mmu_write_lock(&vm->mmu);
	r = s2_mmu_get_root(&vm->mmu, s2_mmu_role(&vm->mmu, 0), err);
	if (r) {
		s2_root_put(r);	/* the list keeps it */
	}
	s2_mmu_write_unlock(&vm->mmu);
	return r;
}

/* The seed-003 check: the vCPU enters with the role its root was made for. */
static bool entry_audit(struct vcpu *v)
{
	const struct s2_root *r = v->roots.cur;

	if (r->role.invalid) {
		vm_bug(v->vm, "vCPU %u about to enter on an invalid root",
		       v->id);
		return false;
	}
	if (r->role.word != v->role.word) {
		vm_bug(v->vm, "vCPU %u role 0x%x differs from its root's 0x%x",
		       v->id, v->role.word, r->role.word);
		return false;
	}
	if (r->pt.audit_failures) {
		vm_bug(v->vm, "its stage-2 table failed the audit %u times",
		       r->pt.audit_failures);
		return false;
	}
	return true;
}

/*
 * @v's entry created a second (or further) listed root. arm64 decides at
 * entry whether the guest's TLB maintenance is trapped and replayed under
 * every listed root's VMID (HCR_EL2.TTLB while more than one is listed):
 * a vCPU in the guest since before has it off, so its TLBIs would not reach
 * the new root's VMID. Every such vCPU leaves the guest (and comes back
 * with the trap) before any vCPU enters, the new root's first among them.
 */
static void sync_new_root(struct vcpu *v)
{
	struct vm *vm = v->vm;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (&vm->vcpus[i] != v) {
			vcpu_kick_sync(&vm->vcpus[i]);
		}
	}
}

bool vm_vcpu_prepare_entry(struct vcpu *v)
{
	struct vm *vm = v->vm;
	union s2_role role;
	unsigned int listed;
	int ret;

	/* The role comes first, from the vCPU's own state (seed 003). */
	role = s2_mmu_role(&vm->mmu, v->view);
	v->role = role;
	/* Root caches and references change only under the lock exclusive. */
	s2_mmu_write_lock(&vm->mmu);
	listed = s2_mmu_nr_listed(&vm->mmu);
	ret = s2_root_cache_load(&v->roots, &vm->mmu, role);
	if (!ret && s2_mmu_nr_listed(&vm->mmu) > MAX(listed, 1u)) {
		sync_new_root(v);
	}
	s2_mmu_write_unlock(&vm->mmu);
	if (ret) {
		vm_fail(vm, "no stage-2 root for vCPU %u (%d)", v->id, ret);
		return false;
	}
#ifdef CONFIG_TEST
	if (v->test_corrupt_role) {
		/* A deliberate seed-003 bug: the role changes after lookup. */
		v->test_corrupt_role = false;
		v->role.view ^= 1;
	}
#endif
	return !vm_entry_audit_on || entry_audit(v);
}
