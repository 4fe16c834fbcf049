// SPDX-License-Identifier: MIT
/*
 * Stage-2 views by VMFUNC EPTP switching (Intel SDM Vol. 3C 26.5.6.3, 25.6.14).
 *
 * When the CPU has VM functions with EPTP switching, every vCPU gets an
 * EPTP list page: entry i is the EPTP of view i's root, 0 for a view that
 * does not exist (VMFUNC with an invalid entry exits, and Strata injects #UD
 * as for an unsupported VM function). The guest switches views with
 * VMFUNC(EAX=0, ECX=view) and no exit, so every entry of the list is live:
 * the vCPU holds a reference on each root in it (arch_vcpu_drop_roots()
 * drops them). The list is rebuilt before the next entry whenever the VM's
 * views generation moved (a view created or destroyed, invalidate-all
 * roots), so it never names an invalid root.
 *
 * After an exit the VMCS EPT pointer tells which view the guest is in;
 * vmx_sync_view() makes that view's root the vCPU's current one before the
 * exit is handled (a stage-2 fault must be resolved in the root the guest
 * faulted in), and the entry check compares the EPTP Strata enters with to
 * the list entry of the vCPU's view.
 */
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/vmx_run.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <vmm/vm.h>

_Static_assert(S2_MAX_VIEWS <= ARRAY_SIZE(((struct arch_vcpu *)0)->eptp_roots),
	       "a root slot for every view id");

bool vmx_vmfunc_usable(void)
{
	return vmx_has_proc2(&vmx_caps, VMX_PROC2_VMFUNC) &&
	       (vmx_caps.vmfunc & VMX_VMFUNC_EPTP_SWITCHING);
}

int vmx_eptp_list_init(struct vcpu *v)
{
	v->arch.eptp_list = palloc_page_zeroed();
	v->arch.eptp_gen = ~0ULL;	/* built before the first entry */
	v->arch.eptp_marked_gen = ~0ULL;
	return v->arch.eptp_list ? 0 : -ENOMEM;
}

void arch_vcpu_drop_roots(struct vcpu *v)
{
	for (unsigned int i = 0; i < S2_MAX_VIEWS; i++) {
		if (v->arch.eptp_roots[i]) {
			s2_root_put(v->arch.eptp_roots[i]);
			v->arch.eptp_roots[i] = NULL;
		}
		if (v->arch.eptp_list) {
			v->arch.eptp_list[i] = 0;
		}
	}
	v->arch.eptp_gen = ~0ULL;
	v->arch.eptp_marked_gen = ~0ULL;
}

void vmx_eptp_list_free(struct vcpu *v)
{
	arch_vcpu_drop_roots(v);
	if (v->arch.eptp_list) {
		palloc_free((paddr_t)(uintptr_t)v->arch.eptp_list, 1);
		v->arch.eptp_list = NULL;
	}
}

/* Rebuild the list when the views or roots changed. False: VM stopped. */
static bool eptp_list_refresh(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (v->arch.eptp_gen == vm->views_gen) {
		return true;
	}
	arch_vcpu_drop_roots(v);
	for (unsigned int i = 0; i < S2_MAX_VIEWS; i++) {
		struct s2_root *r;
		int err = 0;

		if (i && !vm->views[i].used) {
			continue;
		}
		r = s2_mmu_get_root(&vm->mmu, s2_mmu_role(&vm->mmu, i), &err);
		if (!r) {
			vm_fail(vm, "no stage-2 root for view %u (%d)", i, err);
			return false;
		}
		v->arch.eptp_roots[i] = r;
		v->arch.eptp_list[i] = s2pt_root_desc(&r->pt);
	}
	v->arch.eptp_gen = vm->views_gen;
	return true;
}

bool vmx_views_prepare_entry(struct vcpu *v, uint64_t eptp)
{
	if (!v->arch.eptp_list) {
		return true;
	}
	/* Root references change under the MMU lock exclusive (mmu.md). */
	s2_mmu_write_lock(&v->vm->mmu);
	if (!eptp_list_refresh(v)) {
		s2_mmu_write_unlock(&v->vm->mmu);
		return false;
	}
	s2_mmu_write_unlock(&v->vm->mmu);
	/* The entry audit's EPTP part: the list agrees with the root. */
	if (vm_entry_audit_on && v->arch.eptp_list[v->view] != eptp) {
		vm_bug(v->vm, "vCPU %u: EPTP list entry %u is 0x%llx, root 0x%llx",
		       v->id, v->view,
		       (unsigned long long)v->arch.eptp_list[v->view],
		       (unsigned long long)eptp);
		return false;
	}
	return true;
}

bool vmx_sync_view(struct vcpu *v)
{
	uint64_t eptp;

	if (!v->arch.eptp_list) {
		return true;
	}
	eptp = vmread(VMCS_EPT_POINTER);
	if (eptp == v->arch.eptp) {
		return true;
	}
	/* The guest switched by VMFUNC since the entry. */
	for (unsigned int i = 0; i < S2_MAX_VIEWS; i++) {
		if (v->arch.eptp_list[i] == eptp && v->arch.eptp_roots[i]) {
			v->view = i;
			v->arch.eptp = eptp;
			v->role = s2_mmu_role(&v->vm->mmu, i);
			int ret;

			s2_mmu_write_lock(&v->vm->mmu);
			ret = s2_root_cache_load(&v->roots, &v->vm->mmu,
						 v->role);
			s2_mmu_write_unlock(&v->vm->mmu);
			if (ret) {
				vm_fail(v->vm, "no stage-2 root for view %u", i);
				return false;
			}
			return true;
		}
	}
	vm_bug(v->vm, "vCPU %u runs on EPTP 0x%llx, which is not in its list",
	       v->id, (unsigned long long)eptp);
	return false;
}
