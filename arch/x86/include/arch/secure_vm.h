/* SPDX-License-Identifier: MIT */
/*
 * Secure VMs on x86 (arch/x86/secure_vm.c, docs/secure-module.md): a VM
 * with `secure = on` whose private memory belongs to the emulated secure
 * module (arch/x86/tdx/). The VMM's generic hooks are in include/vmm/vm.h
 * (arch_secure_*); these are the run loop's and the EPT exit's.
 */
#ifndef STRATA_ARCH_X86_SECURE_VM_H
#define STRATA_ARCH_X86_SECURE_VM_H

#include <types.h>

struct vcpu;
struct vm;

/*
 * Before an entry of @v of a secure VM: the shared-half root handed to the
 * module, the vCPU counted in the TD's epoch (TDH.VP.ENTER) and *@eptp the
 * module's root. False when the VM was stopped (message printed).
 */
bool secure_vm_prepare_entry(struct vcpu *v, uint64_t *eptp);

/*
 * Right after a VM exit of @v: a call the module serves itself (the
 * guest's TDCALL: TD_INFO, TD_ACCEPT) is handled with the vCPU still in
 * the TD; any other exit leaves the TD first (TDH.VP.ENTER returns).
 * True when the exit was handled here (the caller must not handle it).
 */
bool secure_vm_after_exit(struct vcpu *v);

/* The run loop is done with @v for now: it leaves the TD if still in it. */
void secure_vm_leave(struct vcpu *v);

/*
 * An EPT violation of a secure VM at @gpa (@acc VM_ACC_*): private GPAs
 * are mapped through the mirror (PAGE.AUG), shared ones in the direct root,
 * unbacked shared GPAs get the #VE MMIO SPTE. False when the VM stopped.
 */
bool secure_vm_ept_fault(struct vcpu *v, uint64_t gpa, unsigned int acc);

#endif
