// SPDX-License-Identifier: MIT
/*
 * The VMX run loop: one time slice of one vCPU. The slice ends at a TSC
 * deadline: every entry arms the VMX-preemption timer with what is left of
 * it, so a guest that exits often still gives the CPU up on time (without
 * relying on the "save preemption timer value" control, which nested
 * hypervisors may lack). Around the slice
 * the vCPU's own registers that VMX does not switch are loaded and saved:
 * CR2, DR0-DR3, DR6, x87/SSE, the SYSCALL MSRs and KERNEL_GS_BASE. So no
 * VM sees another's values, and a page fault address survives a slice
 * ending between the fault and the guest's read of CR2.
 */
#include <arch/cpu.h>
#include <arch/vmcs.h>
#include <arch/vmx_run.h>
#include <lib/printk.h>
#include <vmm/vm.h>

/* TSC cycles per slice: about 2 million instructions under Bochs. */
#define VMX_SLICE_TSC		(1ULL << 21)
#define VMX_REPORTS_MAX		8
/*
 * Exits in a row that each end in an exception Strata injects, with
 * nothing else in between: a guest whose handler returns to the refused
 * instruction forever. Its VM is stopped rather than left spinning.
 */
#define VMX_STORM_EXITS		10000

static const uint32_t guest_msr_index[GUEST_MSR_NR] = {
	[GUEST_MSR_STAR] = MSR_STAR,
	[GUEST_MSR_LSTAR] = MSR_LSTAR,
	[GUEST_MSR_CSTAR] = MSR_CSTAR,
	[GUEST_MSR_SFMASK] = MSR_SFMASK,
	[GUEST_MSR_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
};

#define DEFINE_DR_ACCESSORS(n)					\
static inline uint64_t read_dr##n(void)				\
{								\
	uint64_t v;						\
								\
	__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));	\
	return v;						\
}								\
static inline void write_dr##n(uint64_t v)			\
{								\
	__asm__ volatile("mov %0, %%db" #n : : "r"(v));		\
}

DEFINE_DR_ACCESSORS(0)
DEFINE_DR_ACCESSORS(1)
DEFINE_DR_ACCESSORS(2)
DEFINE_DR_ACCESSORS(3)
DEFINE_DR_ACCESSORS(6)

static void load_guest_state(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;

	for (unsigned int i = 0; i < GUEST_MSR_NR; i++) {
		wrmsr(guest_msr_index[i], a->msrs[i]);
	}
	write_cr2(a->cr2);
	write_dr0(a->dr[0]);
	write_dr1(a->dr[1]);
	write_dr2(a->dr[2]);
	write_dr3(a->dr[3]);
	write_dr6(a->dr6);
	__asm__ volatile("fxrstor64 %0" : : "m"(a->fxsave) : "memory");
}

static void save_guest_state(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;

	__asm__ volatile("fxsave64 %0" : "=m"(a->fxsave) : : "memory");
	a->cr2 = read_cr2();
	a->dr[0] = read_dr0();
	a->dr[1] = read_dr1();
	a->dr[2] = read_dr2();
	a->dr[3] = read_dr3();
	a->dr6 = read_dr6();
	/* SWAPGS changes KERNEL_GS_BASE without an exit. */
	a->msrs[GUEST_MSR_KERNEL_GS_BASE] = rdmsr(MSR_KERNEL_GS_BASE);
}

void vmx_report(struct vcpu *v, const char *fmt, ...)
{
	struct vm *vm = v->vm;
	char buf[160];
	va_list ap;

	if (vm->arch.refusals > VMX_REPORTS_MAX) {
		return;
	}
	if (vm->arch.refusals++ == VMX_REPORTS_MAX) {
		pr_info("vm %s: further refusals are not reported\n", vm->name);
		return;
	}
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pr_info("vm %s: %s\n", vm->name, buf);
}

void vmx_inject(struct vcpu *v, unsigned int vector, bool has_err,
		uint32_t err)
{
	uint32_t info = vector | INTR_INFO_VALID |
			(INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT);

	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		vm_fail(v->vm, "exception %u raised while delivering the guest's own event",
			vector);
		return;
	}
	/* Real mode (unrestricted guest, CR0.PE clear) pushes no code. */
	if (has_err && (vmread(VMCS_GUEST_CR0) & X86_CR0_PE)) {
		info |= INTR_INFO_ERROR_CODE;
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, err);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	v->vm->ctr[STRATA_CTR_INJECTED]++;
}

void vmx_set_rip(uint64_t rip)
{
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	uint64_t blocking = INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS;

	vmwrite(VMCS_GUEST_RIP, rip);
	/* The instruction completed: its STI / MOV SS shadow is over. */
	if (intr & blocking) {
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~blocking);
	}
}

void vmx_skip_insn(struct vcpu *v)
{
	(void)v;
	vmx_set_rip(vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN));
}

/* VMLAUNCH / VMRESUME did not enter the guest at all. */
static void entry_failed(struct vcpu *v)
{
	vm_fail(v->vm, "VM entry failed: VM-instruction error %llu (vCPU %u, RIP 0x%llx)",
		(unsigned long long)vmread(VMCS_INSN_ERROR), v->id,
		(unsigned long long)vmread(VMCS_GUEST_RIP));
}

/*
 * Arm the preemption timer with the rest of the slice ending at TSC
 * @deadline. Return: false when the slice is over.
 */
static bool arm_timer(uint64_t deadline)
{
	unsigned int shift = vmx_caps.misc & VMX_MISC_PREEMPT_SHIFT_MASK;
	uint64_t now = rdtsc();

	if ((int64_t)(deadline - now) <= 0) {
		return false;
	}
	vmwrite(VMCS_PREEMPT_TIMER,
		MIN(MAX((deadline - now) >> shift, 1), 0xffffffffULL));
	return true;
}

/*
 * The vCPU's current root (a fresh one after invalidate-all-roots) and the
 * entry audit, before every entry. EPT TLB entries are tagged by the EPTP,
 * and every change of a root was invalidated (INVEPT single-context of that
 * EPTP) when it was made, so loading another root needs no INVEPT: the new
 * EPTP's context holds only translations that are still right.
 */
static bool load_root(struct vcpu *v)
{
	uint64_t eptp;

	if (!vm_vcpu_prepare_entry(v)) {
		return false;
	}
	eptp = s2pt_root_desc(vcpu_s2(v));
	if (!vmx_views_prepare_entry(v, eptp)) {
		return false;
	}
	if (eptp != v->arch.eptp) {
		vmwrite(VMCS_EPT_POINTER, eptp);
		v->arch.eptp = eptp;
	}
	return true;
}

/* Count exits that end in an injected exception; true for a storm. */
static bool exception_storm(struct vcpu *v)
{
	if (!(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)) {
		v->arch.storm = 0;
		return false;
	}
	return ++v->arch.storm >= VMX_STORM_EXITS;
}

void arch_vcpu_run(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t deadline;

	if (vmx_load_vmcs(v)) {
		vm_fail(vm, "cannot load the VMCS of vCPU %u", v->id);
		return;
	}
	load_guest_state(v);
	for (deadline = rdtsc() + VMX_SLICE_TSC; arm_timer(deadline);) {
		if (!load_root(v)) {
			break;
		}
		vmwrite(VMCS_GUEST_RSP, v->arch.gprs[X86_REG_RSP]);
		if (vmx_enter(v->arch.gprs, v->arch.launched)) {
			entry_failed(v);
			break;
		}
		v->arch.launched = true;
		v->arch.gprs[X86_REG_RSP] = vmread(VMCS_GUEST_RSP);
		vm->ctr[STRATA_CTR_EXITS]++;
		if (!vmx_sync_view(v) || !vmx_handle_exit(v)) {
			break;
		}
		if (!vm_running(vm) || v->state != VCPU_RUNNABLE) {
			break;
		}
		if (exception_storm(v)) {
			vm_fail(vm, "exception storm: %u exits in a row each injected an exception",
				v->arch.storm);
			break;
		}
	}
	save_guest_state(v);
}
