// SPDX-License-Identifier: MIT
/*
 * Secure VMs (include/vmm/vm.h, arch_secure_*) exist on x86 only, over the
 * emulated TDX-like module; arm64 has no secure module yet (Arm CCA's realm
 * tables would plug into the same mirror role: docs/secure-module.md), so
 * `secure = on` is refused with a message.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/vm.h>

int arch_secure_vm_build(struct vm *vm)
{
	pr_err("vm %s: secure = on, but arm64 has no secure module (x86 only)\n",
	       vm->name);
	return -EOPNOTSUPP;
}

void arch_secure_vm_teardown(struct vm *vm)
{
	(void)vm;
}

void arch_secure_vm_release(struct vm *vm)
{
	(void)vm;
}

bool arch_secure_hypercall(struct vcpu *v, uint64_t fn, const uint64_t a[3],
			   uint64_t *value, long *status)
{
	(void)v;
	(void)fn;
	(void)a;
	(void)value;
	(void)status;
	return false;
}

bool arch_secure_host_access(struct vm *vm, gpa_t gpa, uint64_t len)
{
	(void)vm;
	(void)gpa;
	(void)len;
	return true;
}
