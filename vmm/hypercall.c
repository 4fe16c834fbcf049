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
	case -ENOSPC:
		return STRATA_HC_ENOSPC;
	case -EBUSY:
		return STRATA_HC_EBUSY;
	case -ENOENT:
		return STRATA_HC_ENOENT;
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
	if (gpa + size < gpa || gpa + size > BIT(vm->mmu.ia_bits)) {
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
	const struct s2_mmu_stats *st = &vm->mmu.stats;
	struct s2_counters sum;
	const struct s2_counters *c = &sum;

	s2_mmu_counters(&vm->mmu, &sum);
	switch (id) {
	case STRATA_CTR_LOCK_WAITS:
		return s2_mmu_lock_waits(&vm->mmu) + spin_waits(&vm->lock);
	case STRATA_CTR_FAULT_RETRIES:
		return c->fault_retries;
	case STRATA_CTR_REMOTE_FLUSHES:
		/* arm64's acknowledged kicks, x86's remote INVEPTs. */
		return vm->ctr[STRATA_CTR_REMOTE_FLUSHES] + c->remote_flushes;
	case STRATA_CTR_ROOT_CACHE_HITS:
		return st->cache_hits;
	case STRATA_CTR_ROOT_CACHE_MISSES:
		return st->cache_misses;
	case STRATA_CTR_ROOT_ALLOCS:
		return st->root_allocs;
	case STRATA_CTR_MEMSLOT_GEN:
		return vm->memslot_gen >> 1;
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

/* Every root of the VM loses the range, listed or not. */
static int hc_zap(struct vm *vm, gpa_t gpa, uint64_t size)
{
	int ret;

	s2_mmu_write_lock(&vm->mmu);
	ret = s2_mmu_unmap_everywhere(&vm->mmu, gpa, size);
	s2_mmu_write_unlock(&vm->mmu);
	return ret;
}

static long hc_memslot(struct vm *vm, uint64_t fn, const uint64_t a[3],
		       uint64_t *value)
{
	unsigned int id = a[0] < VM_MAX_MEMSLOTS ? (unsigned int)a[0] :
			  VM_MAX_MEMSLOTS;
	unsigned int slot;
	int ret;

	switch (fn) {
	case STRATA_HC_MEMSLOT_ADD:
		if (a[2] > 0xff) {
			return STRATA_HC_EINVAL;
		}
		ret = vm_memslot_add(vm, a[0], a[1], (unsigned int)a[2],
				     &slot);
		if (!ret) {
			*value = slot;
		}
		return errno_to_hc(ret);
	case STRATA_HC_MEMSLOT_DELETE:
		return errno_to_hc(vm_memslot_delete(vm, id));
	case STRATA_HC_MEMSLOT_MOVE:
		return errno_to_hc(vm_memslot_move(vm, id, a[1]));
	default:
		if (a[1] > 0xff) {
			return STRATA_HC_EINVAL;
		}
		return errno_to_hc(vm_memslot_set_flags(vm, id,
							(unsigned int)a[1]));
	}
}

static long hc_view(struct vcpu *v, uint64_t fn, const uint64_t a[3],
		    uint64_t *value)
{
	unsigned int id = (unsigned int)(a[0] & 0xff);
	unsigned int created;
	int ret;

	if (fn != STRATA_HC_VIEW_PROTECT && a[0] > 0xff &&
	    fn != STRATA_HC_VIEW_CREATE && fn != STRATA_HC_VIEW_CURRENT) {
		return STRATA_HC_EINVAL;
	}
	switch (fn) {
	case STRATA_HC_VIEW_CREATE:
		ret = vm_view_create(v->vm, &created);
		if (!ret) {
			*value = created;
		}
		return errno_to_hc(ret);
	case STRATA_HC_VIEW_PROTECT:
		if (a[0] >> 11) {
			return STRATA_HC_EINVAL;
		}
		return errno_to_hc(vm_view_protect(v->vm, id, a[1], a[2],
						   (unsigned int)(a[0] >> 8)));
	case STRATA_HC_VIEW_SWITCH:
		return errno_to_hc(vm_view_switch(v, id));
	case STRATA_HC_VIEW_DESTROY:
		return errno_to_hc(vm_view_destroy(v->vm, id));
	default:
		*value = v->view;
		return STRATA_HC_OK;
	}
}

long vm_hypercall(struct vcpu *v, uint64_t fn, const uint64_t a[3],
		  uint64_t *value)
{
	struct vm *vm = v->vm;
	long ret;

	*value = 0;
	vm->ctr[STRATA_CTR_HYPERCALLS]++;
	/* A secure VM's calls and refusals are the architecture's. */
	if (vm->cfg->secure && arch_secure_hypercall(v, fn, a, value, &ret)) {
		return ret;
	}
	switch (fn) {
	case STRATA_HC_CONSOLE_WRITE:
		return hc_console_write(vm, a[0], a[1]);
	case STRATA_HC_ZAP:
		ret = check_range(vm, a[0], a[1]);
		if (ret == STRATA_HC_OK) {
			ret = errno_to_hc(hc_zap(vm, a[0], a[1]));
		}
		return ret;
	case STRATA_HC_WRPROTECT:
		ret = check_range(vm, a[0], a[1]);
		if (ret == STRATA_HC_OK) {
			ret = errno_to_hc(vm_wrprotect_range(vm, a[0], a[1]));
		}
		return ret;
	case STRATA_HC_INVALIDATE_ROOTS:
		*value = vm_invalidate_roots(vm);
		return STRATA_HC_OK;
	case STRATA_HC_MEMSLOT_ADD:
	case STRATA_HC_MEMSLOT_DELETE:
	case STRATA_HC_MEMSLOT_MOVE:
	case STRATA_HC_MEMSLOT_FLAGS:
		return hc_memslot(vm, fn, a, value);
	case STRATA_HC_VIEW_CREATE:
	case STRATA_HC_VIEW_PROTECT:
	case STRATA_HC_VIEW_SWITCH:
	case STRATA_HC_VIEW_DESTROY:
	case STRATA_HC_VIEW_CURRENT:
		return hc_view(v, fn, a, value);
#ifdef CONFIG_TEST
	case STRATA_HC_TEST_MMIO_GEN:
		if (a[0] < 1 || a[0] > S2_MMIO_GEN_BITS) {
			return STRATA_HC_EINVAL;
		}
		vm->mmio_gen_max = BIT(a[0]) - 1;
		vm->memslot_gen = (a[1] << 1) & ~1ULL;
		return STRATA_HC_OK;
	case STRATA_HC_TEST_CORRUPT_ROLE:
		v->test_corrupt_role = true;
		return STRATA_HC_OK;
#endif
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
