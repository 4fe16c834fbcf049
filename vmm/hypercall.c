// SPDX-License-Identifier: MIT
/*
 * The Strata hypercalls (ABI in include/vmm/hypercall.h), shared by the HVC
 * path on arm64 and the VMCALL path on x86.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/vm.h>

#define HC_CONSOLE_MAX		4096

static long errno_to_hc(int err)
{
	switch (err) {
	case 0:
		return STRATA_HC_OK;
	case -ERANGE:
		return STRATA_HC_ERANGE;
	case -ENOMEM:
		return STRATA_HC_ENOMEM;
	default:
		return STRATA_HC_EINVAL;
	}
}

/* A ZAP/WRPROTECT range: aligned, non-empty, inside the VM's IPA space. */
static long check_range(const struct vm *vm, uint64_t gpa, uint64_t size)
{
	if (!size || !IS_ALIGNED(gpa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE)) {
		return STRATA_HC_EINVAL;
	}
	if (gpa + size < gpa || gpa + size > BIT(vm->s2.fmt.ia_bits)) {
		return STRATA_HC_ERANGE;
	}
	return STRATA_HC_OK;
}

static long hc_console_write(struct vm *vm, uint64_t gpa, uint64_t len)
{
	const char *s;

	if (len > HC_CONSOLE_MAX) {
		return STRATA_HC_EINVAL;
	}
	if (!len) {
		return STRATA_HC_OK;
	}
	s = vm_gpa_to_host(vm, gpa, len);
	if (!s) {
		return STRATA_HC_ERANGE;
	}
	for (uint64_t i = 0; i < len; i++) {
		vm_console_putc(vm, s[i]);
	}
	return STRATA_HC_OK;
}

static uint64_t counter(const struct vm *vm, unsigned int id)
{
	const struct s2_counters *c = &vm->s2.counters;

	switch (id) {
	case STRATA_CTR_FLUSHES:
		return c->flushes;
	case STRATA_CTR_TLBI_IPA:
		return c->tlbi_ipa;
	case STRATA_CTR_TLBI_RANGE:
		return c->tlbi_range;
	case STRATA_CTR_TLBI_RANGE_INSNS:
		return c->tlbi_range_insns;
	case STRATA_CTR_TLBI_VMID:
		return c->tlbi_vmid;
	case STRATA_CTR_CMO_PAGES:
		return c->cmo_pages;
	case STRATA_CTR_DETACHES:
		return c->detaches;
	case STRATA_CTR_TABLES_IN_USE:
		return c->tables_in_use;
	default:
		return vm->ctr[id];
	}
}

long vm_hypercall(struct vcpu *v, uint64_t fn, const uint64_t a[3],
		  uint64_t *value)
{
	struct vm *vm = v->vm;
	long ret;

	*value = 0;
	vm->ctr[STRATA_CTR_HYPERCALLS]++;
	switch (fn) {
	case STRATA_HC_CONSOLE_WRITE:
		return hc_console_write(vm, a[0], a[1]);
	case STRATA_HC_ZAP:
		ret = check_range(vm, a[0], a[1]);
		if (ret == STRATA_HC_OK) {
			ret = errno_to_hc(s2pt_unmap(&vm->s2, a[0], a[1]));
		}
		return ret;
	case STRATA_HC_WRPROTECT:
		ret = check_range(vm, a[0], a[1]);
		if (ret == STRATA_HC_OK) {
			ret = errno_to_hc(s2pt_protect(&vm->s2, a[0], a[1],
						       S2_PROT_R | S2_PROT_X));
		}
		return ret;
	case STRATA_HC_COUNTER:
		if (a[0] >= STRATA_CTR_NR) {
			return STRATA_HC_EINVAL;
		}
		*value = counter(vm, (unsigned int)a[0]);
		return STRATA_HC_OK;
	case STRATA_HC_POWER_OFF:
		vm_power_off(vm, (long)a[0]);
		return STRATA_HC_OK;
	default:
		vm->ctr[STRATA_CTR_HC_UNKNOWN]++;
		return STRATA_HC_NOT_SUPPORTED;
	}
}
