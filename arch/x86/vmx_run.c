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
#include <arch/ept_flush.h>
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <arch/pcdev.h>
#include <arch/secure_vm.h>
#include <arch/vmcs.h>
#include <arch/vmx_run.h>
#include <lib/printk.h>
#include <lib/string.h>
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
	if (vmx_rdtscp_usable()) {
		wrmsr(MSR_TSC_AUX, a->tsc_aux);
	}
	xsave_load(v);
}

static void save_guest_state(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;

	xsave_save(v);
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
	vmx_set_fault_rf(vector);
	/* The faulting instruction did not complete: no trap of its own. */
	vmx_drop_stale_debug_traps(v);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	v->vm->ctr[STRATA_CTR_INJECTED]++;
}

void vmx_set_rip(struct vcpu *v, uint64_t rip)
{
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	uint64_t blocking = INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS;

	vmwrite(VMCS_GUEST_RIP, rip);
	vmx_complete_insn_debug(v, intr);
	/* The instruction completed: its STI / MOV SS shadow is over. */
	if (intr & blocking) {
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~blocking);
	}
}

void vmx_skip_insn(struct vcpu *v)
{
	vmx_set_rip(v, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSN_LEN));
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
 * @deadline, or less when @v's APIC timer expires earlier. Return: false
 * when the slice is over.
 */
static bool arm_timer(struct vcpu *v, uint64_t deadline)
{
	unsigned int shift = vmx_caps.misc & VMX_MISC_PREEMPT_SHIFT_MASK;
	uint64_t now = rdtsc(), expiry = lapic_next_expiry(v), left;
	uint64_t pit = x86_pcdev_next_tsc(v->vm);

	if ((int64_t)(deadline - now) <= 0) {
		return false;
	}
	left = deadline - now;
	if (expiry) {
		int64_t to_apic = (int64_t)(expiry - vmx_guest_tsc(v));

		left = to_apic <= 0 ? 0 : MIN(left, (uint64_t)to_apic);
	}
	if (pit) {
		/* IRQ 0 or 8's next edge (host TSC: their time base). */
		int64_t to_pit = (int64_t)(pit - rdtsc());

		left = to_pit <= 0 ? 0 : MIN(left, (uint64_t)to_pit);
	}
	vmwrite(VMCS_PREEMPT_TIMER,
		MIN(MAX(left >> shift, 1), 0xffffffffULL));
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
	/* A secure VM: the CPU walks the module's root (secure_vm.c). */
	if (v->vm->cfg->secure && !secure_vm_prepare_entry(v, &eptp)) {
		return false;
	}
	if (eptp != v->arch.eptp) {
		vmwrite(VMCS_EPT_POINTER, eptp);
		v->arch.eptp = eptp;
	}
	return true;
}

/*
 * Count exits that end in an injected exception; true for a storm. Exits
 * the guest did not cause (the slice's preemption timer, a host interrupt)
 * neither count nor break the row: whether a storm is seen must not
 * depend on how many of its exits fit in one time slice.
 */
static bool exception_storm(struct vcpu *v)
{
	unsigned int reason = (unsigned int)vmread(VMCS_EXIT_REASON) & 0xffff;

	if (reason == EXIT_REASON_PREEMPT_TIMER ||
	    reason == EXIT_REASON_EXTERNAL_INTERRUPT) {
		return false;
	}
	if (!(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)) {
		v->arch.storm = 0;
		return false;
	}
	return ++v->arch.storm >= VMX_STORM_EXITS;
}

uint64_t vmx_guest_tsc(const struct vcpu *v)
{
	return rdtsc() + v->arch.tsc_offset;
}

void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	v->arch.tsc_offset = offset;
	vmwrite(VMCS_TSC_OFFSET, offset);
}

bool vmx_rdtscp_usable(void)
{
	return vmx_has_proc2(&vmx_caps, VMX_PROC2_RDTSCP) &&
	       (cpuid(0x80000001, 0).edx & BIT(27));
}

bool vmx_pcid_usable(void)
{
	return (vmx_cr4_allowed() & X86_CR4_PCIDE) &&
	       (cpuid(1, 0).ecx & BIT(17));
}

bool vmx_invpcid_usable(void)
{
	return vmx_pcid_usable() &&
	       vmx_has_proc2(&vmx_caps, VMX_PROC2_INVPCID) &&
	       (cpuid(7, 0).ebx & BIT(10));
}

/* Could @u run again without help from outside its VM? */
static bool vcpu_can_wake(const struct vcpu *u)
{
	if (u->state != VCPU_RUNNABLE) {
		return false;
	}
	if (u->arch.mp == X86_MP_RUNNING || u->arch.nmi_pending) {
		return true;
	}
	return u->arch.mp == X86_MP_HALTED && u->arch.halt_if &&
	       (lapic_next_expiry(u) || lapic_pending_vector(u) >= 0 ||
		x86_extint_pending(u) || x86_irq_may_arrive(u));
}

bool vmx_vm_can_wake(const struct vm *vm, const struct vcpu *except)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (&vm->vcpus[i] != except && vcpu_can_wake(&vm->vcpus[i])) {
			return true;
		}
	}
	return false;
}

/* A halted vCPU: true when an interrupt (or NMI) ends its HLT. */
static bool wake_from_hlt(struct vcpu *v)
{
	x86_pcdev_poll(v->vm);
	lapic_update_timer(v);
	if (v->arch.nmi_pending ||
	    (v->arch.halt_if && (lapic_pending_vector(v) >= 0 ||
				 x86_extint_pending(v)))) {
		v->arch.mp = X86_MP_RUNNING;
		return true;
	}
	if (!vmx_vm_can_wake(v->vm, NULL)) {
		vm_fail(v->vm, "every vCPU is halted or waits for a SIPI: nothing can wake them");
	}
	return false;
}

static void set_real_segment(uint64_t sel_field, uint16_t sel, uint32_t ar)
{
	unsigned int seg = (sel_field - VMCS_GUEST_ES_SEL) / 2;

	vmwrite(sel_field, sel);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * seg, (uint64_t)sel << 4);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * seg, 0xffff);
	vmwrite(VMCS_GUEST_ES_AR + 2 * seg, ar);
}

/*
 * The register state after INIT (SDM table "IA-32 processor states
 * following power-up, reset or INIT"), entered at @r->sel:@r->ip; for a
 * SIPI, CS = vector << 8. TSC, x87/SSE state and MSRs other than EFER keep
 * their values, as INIT keeps them.
 */
static void apply_reset(struct vcpu *v, const struct x86_reset *r)
{
	uint64_t cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
	uint32_t data = 0x93, code = 0x9b;

	memset(v->arch.gprs, 0, sizeof(v->arch.gprs));
	v->arch.gprs[X86_REG_RDX] = cpuid(1, 0).eax;
	v->arch.cr2 = 0;
	memset(v->arch.dr, 0, sizeof(v->arch.dr));
	v->arch.dr6 = 0xffff0ff0;
	v->arch.nmi_pending = false;
	for (uint64_t f = VMCS_GUEST_ES_SEL; f <= VMCS_GUEST_GS_SEL; f += 2) {
		set_real_segment(f, 0, f == VMCS_GUEST_CS_SEL ? code : data);
	}
	vmwrite(VMCS_GUEST_CS_SEL, r->sel);
	vmwrite(VMCS_GUEST_CS_BASE, r->base);
	vmwrite(VMCS_GUEST_LDTR_SEL, 0);
	vmwrite(VMCS_GUEST_LDTR_BASE, 0);
	vmwrite(VMCS_GUEST_LDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_LDTR_AR, 0x82);
	vmwrite(VMCS_GUEST_TR_SEL, 0);
	vmwrite(VMCS_GUEST_TR_BASE, 0);
	vmwrite(VMCS_GUEST_TR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_TR_AR, 0x8b);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(VMCS_CR0_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, vmx_guest_cr0(cr0));
	vmwrite(VMCS_CR4_SHADOW, 0);
	vmwrite(VMCS_GUEST_CR4, vmx_guest_cr4(0));
	vmwrite(VMCS_GUEST_CR3, 0);
	vmwrite(VMCS_GUEST_EFER, 0);
	vmwrite(VMCS_ENTRY_CONTROLS,
		vmread(VMCS_ENTRY_CONTROLS) & ~ENTRY_GUEST_64BIT);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED);
	vmwrite(VMCS_GUEST_RIP, r->ip);
	v->arch.gprs[X86_REG_RSP] = 0;
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

/*
 * Before an entry: inject the NMI or the highest-priority interrupt the
 * APIC holds when the guest can take it, else ask for an exit as soon as
 * it can (NMI or interrupt window); an event already queued goes first.
 * A pending debug trap (an emulated instruction single-stepped, say) goes
 * first too: traps on the previous instruction outrank NMIs and interrupts
 * (SDM "Priority among events"), and injecting an event would drop it, so
 * the window exit comes once the #DB is delivered.
 * NMI blocking ends at the guest's IRET only with virtual NMIs (without
 * them, an NMI exiting VMM's guest stays blocked: SDM "Changes to
 * instruction behavior in VMX non-root operation", IRET).
 */
static void inject_pending(struct vcpu *v)
{
	uint32_t proc = vmread(VMCS_PROC_CONTROLS) &
			~(PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	bool busy = (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
		    vmx_debug_trap_pending();
	bool shadow = intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	bool extint;
	int vec;

	x86_pcdev_poll(v->vm);
	lapic_update_timer(v);
	if (v->arch.nmi_pending && !busy && !shadow &&
	    !(intr & INTERRUPTIBILITY_NMI)) {
		vmwrite(VMCS_ENTRY_INTR_INFO, X86_VEC_NMI | INTR_INFO_VALID |
			(INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT));
		v->arch.nmi_pending = false;
		busy = true;
	} else if (v->arch.nmi_pending &&
		   (vmread(VMCS_PIN_CONTROLS) & PIN_VIRTUAL_NMIS)) {
		/* Exit once it can be taken (after the handler's IRET). */
		proc |= PROC_NMI_WINDOW_EXITING;
	}
	/*
	 * An ExtINT (the 8259 through LINT0 or an IOAPIC message) bypasses
	 * the APIC's priority scheme (SDM "Interrupt Acceptance for Fixed
	 * Interrupts"); its vector comes from the 8259's INTA cycle.
	 */
	extint = x86_extint_pending(v);
	vec = extint ? 0 : lapic_pending_vector(v);
	if (extint || vec >= 0) {
		if (!busy && !shadow &&
		    (vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF)) {
			if (extint) {
				vec = x86_extint_ack(v);
			} else {
				lapic_ack(v, (unsigned int)vec);
			}
			vmwrite(VMCS_ENTRY_INTR_INFO, (uint32_t)vec |
				INTR_INFO_VALID |
				(INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT));
		} else {
			proc |= PROC_INTR_WINDOW_EXITING;
		}
	}
	vmwrite(VMCS_PROC_CONTROLS, proc);
}

/*
 * This CPU may cache the tables @v enters on (arch/x86/xflush.c). The
 * view list's roots are marked once per list (a CPU's bit in a live
 * table's cpus_entered is never cleared): walking all of them at every
 * entry cost a VMFUNC VM some 150 instructions an exit.
 */
static void mark_roots(struct vcpu *v)
{
	int cpu = (int)this_pcpu()->id;

	x86_ept_mark_cpu(vcpu_s2(v));
	if (!v->arch.eptp_list || (v->arch.eptp_marked_gen == v->arch.eptp_gen &&
				   v->arch.eptp_marked_cpu == cpu)) {
		return;
	}
	for (unsigned int i = 0; i < S2_MAX_VIEWS; i++) {
		if (v->arch.eptp_roots[i]) {
			x86_ept_mark_cpu(&v->arch.eptp_roots[i]->pt);
		}
	}
	v->arch.eptp_marked_gen = v->arch.eptp_gen;
	v->arch.eptp_marked_cpu = cpu;
}

/*
 * VM entry without the VM lock (docs/smp.md), as on arm64: @v is in_guest
 * with an odd guest_seq from here until the exit; a flush posted to this
 * CPU is executed after the odd store and before the entry
 * (include/lib/xflush.h). False: the entry failed.
 */
static bool enter_guest(struct vcpu *v)
{
	struct vm *vm = v->vm;
	int ret;

	/*
	 * One physical CPU: nobody can take the VM lock, post a flush or
	 * wait for this vCPU while it is in the guest, so the protocol's
	 * stores, atomics and the lock's round trip (about 190 instructions
	 * an exit under Bochs) buy nothing. nr_pcpus is fixed before any
	 * vCPU runs (vmm/main.c).
	 */
	if (nr_pcpus < 2) {
		return !vmx_enter(v->arch.gprs, v->arch.launched);
	}
	v->in_guest = true;
	__atomic_store_n(&v->guest_seq, v->guest_seq + 1, __ATOMIC_RELEASE);
	vm_unlock(vm);
	x86_xflush_enter();
	ret = vmx_enter(v->arch.gprs, v->arch.launched);
	x86_xflush_exit();
	__atomic_store_n(&v->guest_seq, v->guest_seq + 1, __ATOMIC_RELEASE);
	vm_lock(vm);
	v->in_guest = false;
	return !ret;
}

/*
 * A halted vCPU that nothing wakes now blocks (vmm/run.c may_run()): its
 * CPU runs others or idles until a kick for it (an interrupt delivered to
 * its APIC), its APIC timer's expiry, the next edge of its VM's PIT or RTC
 * line (x86_pcdev_next_tsc(), host TSC) or vmm_block_bound().
 */
static void block_in_hlt(struct vcpu *v)
{
	uint64_t until = vmm_block_bound(), expiry = lapic_next_expiry(v);
	uint64_t edge = x86_pcdev_next_tsc(v->vm);

	if (expiry) {
		uint64_t host = expiry - v->arch.tsc_offset;

		until = MIN(until, host);
	}
	if (edge) {
		until = MIN(until, edge);
	}
	v->blocked = true;
	v->wake_at = until;
}

void arch_vcpu_run(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t deadline;

	if (v->arch.mp == X86_MP_HALTED && !wake_from_hlt(v)) {
		if (vm_running(vm)) {
			block_in_hlt(v);
		}
		return;
	}
	if (vmx_load_vmcs(v)) {
		vm_fail(vm, "cannot load the VMCS of vCPU %u", v->id);
		return;
	}
	if (v->arch.reset.pending) {
		v->arch.reset.pending = false;
		apply_reset(v, &v->arch.reset);
	}
	load_guest_state(v);
	for (deadline = rdtsc() + VMX_SLICE_TSC; arm_timer(v, deadline);) {
		if (!load_root(v)) {
			break;
		}
		inject_pending(v);
		vmwrite(VMCS_GUEST_RSP, v->arch.gprs[X86_REG_RSP]);
		/*
		 * A root invalidated or created while other vCPUs ran in the
		 * guest: they leave it first (vcpu_kick_sync(), docs/smp.md).
		 * Never on one CPU: no other vCPU is in the guest then, and
		 * enter_guest() leaves guest_seq even.
		 */
		if (nr_pcpus > 1 && vm_vcpu_wait_synced(v)) {
			continue;
		}
		mark_roots(v);
		if (!enter_guest(v)) {
			entry_failed(v);
			break;
		}
		v->arch.launched = true;
		v->arch.gprs[X86_REG_RSP] = vmread(VMCS_GUEST_RSP);
		vm->ctr[STRATA_CTR_EXITS]++;
		if (vm->cfg->secure && secure_vm_after_exit(v)) {
			if (!vm_running(vm)) {
				break;
			}
			continue;
		}
		if (!vmx_sync_view(v) || !vmx_handle_exit(v)) {
			break;
		}
		if (!vm_running(vm) || v->state != VCPU_RUNNABLE ||
		    v->arch.reset.pending) {
			break;
		}
		if (exception_storm(v)) {
			vm_fail(vm, "exception storm: %u exits in a row each injected an exception",
				v->arch.storm);
			break;
		}
	}
	if (vm->cfg->secure) {
		secure_vm_leave(v);
	}
	save_guest_state(v);
	vmx_put_vmcs(v);
}
