// SPDX-License-Identifier: MIT
/*
 * What a guest reaches with HVC #0 or SMC #0 (the SMC Calling Convention):
 * PSCI 1.0 for its vCPUs and its own end, and the Strata hypercalls
 * (include/vmm/hypercall.h). x0 holds the function ID; results come back in
 * x0 (and x1 for a Strata call's value).
 *
 * PSCI, as Strata implements it for guests:
 * - VERSION: 1.0. FEATURES: 0 for the functions below, NOT_SUPPORTED for
 *   anything else (CPU_SUSPEND, MIGRATE, SYSTEM_SUSPEND, ...).
 * - CPU_ON (SMC32 and SMC64): target MPIDR Aff0 = vCPU number, other affinity
 *   fields 0 and no bit set outside the affinity fields (Aff0-2 bits 23:0,
 *   Aff3 bits 39:32; bits 24, 31 and 63 included), else INVALID_PARAMETERS;
 *   ALREADY_ON if it runs; INVALID_ADDRESS (new in PSCI 1.0, the version
 *   Strata advertises) when the entry point is not 4-byte aligned (an
 *   A64 instruction address) or no memory backs it. The vCPU starts at
 *   the entry at EL1h with D, A, I, F masked, MMU and caches off, x0 = the
 *   context ID.
 * - CPU_OFF: the calling vCPU stops (it may be started again with CPU_ON);
 *   when no vCPU of the VM is left on, the VM has ended well.
 * - AFFINITY_INFO (level 0 only, the target checked as for CPU_ON): ON (0)
 *   or OFF (1).
 * - SYSTEM_OFF: the VM ends with status 0 ("powered off (status 0)").
 * - SYSTEM_RESET: the VM is reset (vm_request_reset()): with the default
 *   `on_reset = restart` it starts again from its configuration, with
 *   `on_reset = stop` it ends well ("reset requested (PSCI SYSTEM_RESET);
 *   on_reset = stop"). The call does not return to the guest either way.
 * Every call is counted in STRATA_CTR_HYPERCALLS; IDs that are neither PSCI
 * functions above nor Strata calls return NOT_SUPPORTED (-1) and are also
 * counted in STRATA_CTR_HC_UNKNOWN (by vm_hypercall()).
 */
#include <arch/guest.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define PSCI_0_2_VERSION	0x84000000U
#define PSCI_CPU_SUSPEND	0xc4000001U
#define PSCI_CPU_OFF_ID		0x84000002U
#define PSCI_CPU_ON_32		0x84000003U
#define PSCI_CPU_ON_64		0xc4000003U
#define PSCI_AFFINITY_INFO_32	0x84000004U
#define PSCI_AFFINITY_INFO_64	0xc4000004U
#define PSCI_SYSTEM_OFF_ID	0x84000008U
#define PSCI_SYSTEM_RESET	0x84000009U
#define PSCI_FEATURES		0x8400000aU

#define PSCI_RET_SUCCESS	0
#define PSCI_RET_NOT_SUPPORTED	(-1)
#define PSCI_RET_INVALID_PARAMS	(-2)
#define PSCI_RET_ALREADY_ON	(-4)
#define PSCI_RET_INVALID_ADDRESS (-9)
#define PSCI_VERSION_1_0	0x10000

#define AFFINITY_ON		0
#define AFFINITY_OFF		1

/* MPIDR affinity fields: Aff3 39:32, Aff2 23:16, Aff1 15:8, Aff0 7:0. */
#define MPIDR_AFF_MASK		0xff00ffffffULL

/* The vCPU @mpidr names, or NULL (also when a non-affinity bit is set). */
static struct vcpu *vcpu_by_mpidr(struct vm *vm, uint64_t mpidr)
{
	if (mpidr & ~MPIDR_AFF_MASK || mpidr >= vm->nr_vcpus) {
		return NULL;
	}
	return &vm->vcpus[mpidr];
}

static bool psci_known(uint32_t fn)
{
	switch (fn) {
	case PSCI_0_2_VERSION:
	case PSCI_CPU_OFF_ID:
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64:
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64:
	case PSCI_SYSTEM_OFF_ID:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
		return true;
	default:
		return false;
	}
}

static int64_t psci_cpu_on(struct vcpu *v, uint64_t mpidr, uint64_t entry,
			   uint64_t ctx)
{
	struct vm *vm = v->vm;
	struct vcpu *t = vcpu_by_mpidr(vm, mpidr);

	if (!t) {
		return PSCI_RET_INVALID_PARAMS;
	}
	if (t->state == VCPU_RUNNABLE) {
		return PSCI_RET_ALREADY_ON;
	}
	if (t->state != VCPU_OFF) {
		return PSCI_RET_INVALID_PARAMS;
	}
	if (!IS_ALIGNED(entry, 4) || !vm_find_memslot(vm, entry)) {
		return PSCI_RET_INVALID_ADDRESS;
	}
	arm64_vcpu_reset(t, entry, ctx);
	t->state = VCPU_RUNNABLE;
	t->blocked = false;
	vcpu_kick(t);	/* its CPU may be idle (docs/smp.md) */
	return PSCI_RET_SUCCESS;
}

static int64_t psci_affinity_info(struct vcpu *v, uint64_t mpidr,
				  uint64_t level)
{
	struct vcpu *t = vcpu_by_mpidr(v->vm, mpidr);

	if (level != 0 || !t) {
		return PSCI_RET_INVALID_PARAMS;
	}
	return t->state == VCPU_RUNNABLE ? AFFINITY_ON : AFFINITY_OFF;
}

/* Serve PSCI function @fn; false when the vCPU no longer runs. */
static bool psci_call_guest(struct vcpu *v, uint32_t fn)
{
	uint64_t *x = v->arch.x;
	struct vm *vm = v->vm;

	vm->ctr[STRATA_CTR_HYPERCALLS]++;
	switch (fn) {
	case PSCI_0_2_VERSION:
		x[0] = PSCI_VERSION_1_0;
		break;
	case PSCI_FEATURES:
		x[0] = (uint64_t)(psci_known((uint32_t)x[1]) ?
				  PSCI_RET_SUCCESS : PSCI_RET_NOT_SUPPORTED);
		break;
	case PSCI_CPU_ON_32:
		x[0] = (uint64_t)psci_cpu_on(v, x[1] & 0xffffffff,
					     x[2] & 0xffffffff,
					     x[3] & 0xffffffff);
		break;
	case PSCI_CPU_ON_64:
		x[0] = (uint64_t)psci_cpu_on(v, x[1], x[2], x[3]);
		break;
	case PSCI_AFFINITY_INFO_32:
		x[0] = (uint64_t)psci_affinity_info(v, x[1] & 0xffffffff,
						    x[2] & 0xffffffff);
		break;
	case PSCI_AFFINITY_INFO_64:
		x[0] = (uint64_t)psci_affinity_info(v, x[1], x[2]);
		break;
	case PSCI_CPU_OFF_ID:
		v->state = VCPU_OFF;
		return false;
	case PSCI_SYSTEM_OFF_ID:
		vm_power_off(vm, 0);
		return false;
	case PSCI_SYSTEM_RESET:
		vm_request_reset(vm, "PSCI SYSTEM_RESET");
		return false;
	}
	return true;
}

enum exit_action arm64_handle_call(struct vcpu *v)
{
	uint64_t *x = v->arch.x;
	uint32_t fn = (uint32_t)x[0];
	uint64_t value, args[3] = { x[1], x[2], x[3] };
	long ret;

	if (psci_known(fn)) {
		return psci_call_guest(v, fn) ? EXIT_RESUME : EXIT_YIELD;
	}
	/* Strata calls, and every unknown ID (counted there too). */
	ret = vm_hypercall(v, fn, args, &value);
	if (!vm_running(v->vm)) {
		return EXIT_YIELD;
	}
	x[0] = (uint64_t)ret;
	if (fn >= STRATA_HC_BASE && fn < STRATA_HC_BASE + 0x10000) {
		x[1] = value;
	}
	return EXIT_RESUME;
}

void arm64_vcpu_reset(struct vcpu *v, uint64_t entry, uint64_t arg)
{
	struct arch_vcpu *a = &v->arch;
	struct vgic_cpu vgic = a->vgic;	/* the redistributor stays */
	uint64_t mpidr = a->mpidr;

	memset(a, 0, sizeof(*a));
	a->mpidr = mpidr;
	a->vgic = vgic;
	memset(a->vgic.lr, 0, sizeof(a->vgic.lr));
	a->vgic.ap0r0 = 0;
	a->vgic.ap1r0 = 0;
	vgic_v2_vcpu_reset(&a->vgic.v2);
	a->x[0] = arg;
	a->pc = entry;
	a->pstate = PSR_MODE_EL1H | PSR_DAIF;
	a->el1.sctlr = SCTLR_EL1_RES1;
}
