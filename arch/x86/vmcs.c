// SPDX-License-Identifier: MIT
/*
 * One VMCS per vCPU: the execution controls (every one adjusted to what the
 * TRUE capability MSRs allow), the host state Strata returns to on an exit,
 * and the guest state a vCPU starts in, which depends on the image format
 * (arch/guest_layout.h). The "save / load debug controls" exit and entry
 * controls are required (every VMX CPU has them; the TRUE MSRs only let them
 * be 0): without them each exit leaves the guest DR7 = 0x400 and
 * IA32_DEBUGCTL = 0, losing its breakpoints (docs/x86-debug.md). The MSR
 * bitmap is one page shared by every VM: all MSR accesses exit except reads
 * and writes of FS.base and GS.base (which VMX switches) and reads of the
 * TSC (which add the vCPU's TSC offset).
 */
#include <arch/cpu.h>
#include <arch/guest_layout.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/vmx_run.h>
#include <arch/x86.h>
#include <core/percpu.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <vmm/vm.h>

#define MSR_BITMAP_WRITE	2048
#define MSR_BITMAP_HIGH		1024
#define PAT_DEFAULT		0x0007040600070406ULL
#define DR7_DEFAULT		0x400
#define LINK_POINTER_NONE	(~0ULL)

extern char vmx_exit_point[];

static uint8_t *msr_bitmap;
/*
 * Each CPU's current VMCS (docs/smp.md): a vCPU's VMCS is current only
 * during its slice, on the CPU that runs it; vmx_put_vmcs() VMCLEARs it
 * at the slice's end (and at the end of its set-up), so no VMCS is ever
 * active on a CPU that does not run its vCPU, and a reset or teardown on
 * any CPU finds it clear.
 */
static paddr_t current_vmcs[PCPU_MAX];

/*
 * Each vCPU its own VPID (SDM "Virtual-Processor Identifiers"): guest-
 * linear translations are tagged by VPID, PCID and EPTP, and VM entry
 * flushes nothing, so two vCPUs of a VM sharing one VPID on one CPU could
 * use each other's entries (different CR3s under the same PCID). 0 is
 * the host's.
 */
static uint16_t vcpu_vpid(const struct vcpu *v)
{
	return (uint16_t)(1 + v->vm->index * VM_MAX_CPUS + v->id);
}

/* Let the guest access MSR @msr directly (reads, and writes if @write). */
static void msr_pass(uint32_t msr, bool write)
{
	unsigned int off = (msr >= 0xc0000000) ? MSR_BITMAP_HIGH : 0;
	uint32_t idx = msr & 0x1fff;
	uint8_t bit = 1U << (idx % 8);

	off += idx / 8;
	msr_bitmap[off] &= ~bit;
	if (write) {
		msr_bitmap[MSR_BITMAP_WRITE + off] &= ~bit;
	}
}

int vmx_msr_bitmap_init(void)
{
	if (msr_bitmap) {
		return 0;
	}
	msr_bitmap = palloc_page_zeroed();
	if (!msr_bitmap) {
		pr_err("vmx: no memory for the MSR bitmap\n");
		return -ENOMEM;
	}
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	msr_pass(MSR_FS_BASE, true);
	msr_pass(MSR_GS_BASE, true);
	msr_pass(MSR_IA32_TSC, false);
	return 0;
}

static bool vmclear(paddr_t pa)
{
	bool fail;

	__asm__ volatile("vmclear %1\n\t"
			 "setna %0"
			 : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static bool vmptrld(paddr_t pa)
{
	bool fail;

	__asm__ volatile("vmptrld %1\n\t"
			 "setna %0"
			 : "=q"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

/* The base of the TSS that TR selects, from its GDT descriptor. */
static uint64_t host_tr_base(void)
{
	const uint64_t *gdt = (const uint64_t *)(uintptr_t)read_gdt_base();
	unsigned int i = read_tr() >> 3;
	uint64_t lo = gdt[i], hi = gdt[i + 1];

	return ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) |
	       (hi << 32);
}

/* Collects whether every VMWRITE of a set-up succeeded. */
struct vmcs_writer {
	bool ok;
	uint64_t bad_field;
};

static void w(struct vmcs_writer *wr, uint64_t field, uint64_t val)
{
	if (!vmwrite(field, val) && wr->ok) {
		wr->ok = false;
		wr->bad_field = field;
	}
}

static void setup_host(struct vmcs_writer *wr)
{
	w(wr, VMCS_HOST_CR0, read_cr0());
	w(wr, VMCS_HOST_CR3, read_cr3());
	w(wr, VMCS_HOST_CR4, read_cr4());
	w(wr, VMCS_HOST_CS_SEL, X86_SEL_CODE64);
	w(wr, VMCS_HOST_SS_SEL, X86_SEL_DATA);
	w(wr, VMCS_HOST_DS_SEL, X86_SEL_DATA);
	w(wr, VMCS_HOST_ES_SEL, X86_SEL_DATA);
	w(wr, VMCS_HOST_FS_SEL, 0);
	w(wr, VMCS_HOST_GS_SEL, 0);
	w(wr, VMCS_HOST_TR_SEL, read_tr());
	w(wr, VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	w(wr, VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	w(wr, VMCS_HOST_TR_BASE, host_tr_base());
	w(wr, VMCS_HOST_GDTR_BASE, read_gdt_base());
	w(wr, VMCS_HOST_IDTR_BASE, read_idt_base());
	w(wr, VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	w(wr, VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	w(wr, VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	w(wr, VMCS_HOST_EFER, rdmsr(MSR_EFER));
	if (vmx_caps.exit & ((uint64_t)EXIT_LOAD_PAT << 32)) {
		w(wr, VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	}
	w(wr, VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_point);
}

static void invvpid(uint16_t vpid);

int vmx_load_vmcs(struct vcpu *v)
{
	unsigned int cpu = this_pcpu()->id;

	if (current_vmcs[cpu] == v->arch.vmcs) {
		return 0;
	}
	if (!vmptrld(v->arch.vmcs)) {
		return -EIO;
	}
	current_vmcs[cpu] = v->arch.vmcs;
	/* This CPU's TR, GDT and IDT bases are the host state. */
	if (v->arch.host_cpu != (int)cpu) {
		struct vmcs_writer wr = { .ok = true };

		setup_host(&wr);
		if (!wr.ok) {
			return -EIO;
		}
		v->arch.host_cpu = (int)cpu;
	}
	/*
	 * A VMCS set up anew (a reset): no linear translation of the VPID
	 * from an earlier run of the VM may survive on this CPU.
	 */
	if (v->arch.fresh) {
		invvpid(vcpu_vpid(v));
		v->arch.fresh = false;
	}
	return 0;
}

void vmx_put_vmcs(struct vcpu *v)
{
	unsigned int cpu = this_pcpu()->id;

	if (current_vmcs[cpu] != v->arch.vmcs) {
		return;
	}
	vmclear(v->arch.vmcs);
	current_vmcs[cpu] = 0;
	v->arch.launched = false;	/* VMCLEAR: the next entry launches */
}

/* The controls of @v's VM, adjusted to the CPU; 0 or -ENODEV. */
static int setup_controls(struct vcpu *v, struct vmcs_writer *wr)
{
	const struct vmx_caps *c = &vmx_caps;
	struct vm *vm = v->vm;
	bool lm = vmx_guest_is_64bit(vm);
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t proc2_want = VMX_PROC2_EPT | VMX_PROC2_VPID |
			      VMX_PROC2_UNRESTRICTED;
	int ret;

	if (vm->cfg->ve) {
		proc2_want |= VMX_PROC2_EPT_VE;
	}
	ret = vmx_adjust_controls("pin-based", c->pin, PIN_EXTINT_EXITING |
				  PIN_NMI_EXITING | PIN_PREEMPT_TIMER,
				  PIN_VIRTUAL_NMIS, &pin);
	if (!ret) {
		ret = vmx_adjust_controls("processor-based", c->proc,
					  PROC_HLT_EXITING | PROC_IO_EXITING |
					  PROC_MSR_BITMAP | PROC_SECONDARY |
					  PROC_CR8_LOAD_EXITING |
					  PROC_CR8_STORE_EXITING |
					  PROC_TSC_OFFSETTING,
					  PROC_MWAIT_EXITING |
					  PROC_MONITOR_EXITING |
					  PROC_RDPMC_EXITING, &proc);
	}
	if (!ret) {
		ret = vmx_adjust_controls("secondary", c->proc2, proc2_want,
					  /*
					   * No VMFUNC for a secure VM: entry 0
					   * of an EPTP list is the direct root,
					   * and the TD must stay on the
					   * module's. Its VMFUNC gets #UD.
					   */
					  (vmx_vmfunc_usable() &&
					   !vm->cfg->secure ?
					   VMX_PROC2_VMFUNC : 0) |
					  (vmx_rdtscp_usable() ?
					   VMX_PROC2_RDTSCP : 0) |
					  (vmx_invpcid_usable() ?
					   VMX_PROC2_INVPCID : 0), &proc2);
	}
	if (!ret) {
		ret = vmx_adjust_controls("VM-exit", c->exit, EXIT_HOST_64BIT |
					  EXIT_SAVE_DEBUG | EXIT_SAVE_EFER |
					  EXIT_LOAD_EFER,
					  EXIT_ACK_INTERRUPT | EXIT_SAVE_PAT |
					  EXIT_LOAD_PAT, &exit);
	}
	if (!ret) {
		ret = vmx_adjust_controls("VM-entry", c->entry, ENTRY_LOAD_EFER |
					  ENTRY_LOAD_DEBUG |
					  (lm ? ENTRY_GUEST_64BIT : 0),
					  ENTRY_LOAD_PAT, &entry);
	}
	if (ret) {
		return ret;
	}
	/* A guest in 32-bit mode starts outside IA-32e mode. */
	if (!lm) {
		entry &= ~ENTRY_GUEST_64BIT;
	}
	w(wr, VMCS_PIN_CONTROLS, pin);
	w(wr, VMCS_PROC_CONTROLS, proc);
	w(wr, VMCS_PROC2_CONTROLS, proc2);
	w(wr, VMCS_EXIT_CONTROLS, exit);
	w(wr, VMCS_ENTRY_CONTROLS, entry);
	w(wr, VMCS_EXCEPTION_BITMAP, 0);
	w(wr, VMCS_CR3_TARGET_COUNT, 0);
	w(wr, VMCS_EXIT_MSR_STORE_COUNT, 0);
	w(wr, VMCS_EXIT_MSR_LOAD_COUNT, 0);
	w(wr, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	w(wr, VMCS_ENTRY_INTR_INFO, 0);
	w(wr, VMCS_MSR_BITMAP, (uint64_t)(uintptr_t)msr_bitmap);
	w(wr, VMCS_TSC_OFFSET, v->arch.tsc_offset);
	w(wr, VMCS_VPID, vcpu_vpid(v));
	/* The root is loaded before every entry (vmx_run.c). */
	w(wr, VMCS_EPT_POINTER, 0);
	v->arch.eptp = 0;
	if ((proc2 & VMX_PROC2_VMFUNC) && !v->arch.eptp_list) {
		ret = vmx_eptp_list_init(v);
		if (ret) {
			return ret;
		}
	}
	if (v->arch.eptp_list) {
		w(wr, VMCS_VMFUNC_CONTROLS, VMX_VMFUNC_EPTP_SWITCHING);
		w(wr, VMCS_EPTP_LIST_ADDR,
		  (uint64_t)(uintptr_t)v->arch.eptp_list);
	}
	if (vm->cfg->ve) {
		w(wr, VMCS_VE_INFO_ADDR, vm->ram_pa +
		  (vm->arch.ve_info - vm->ram_gpa));
	}
	w(wr, VMCS_CR0_MASK, vmx_cr0_mask());
	w(wr, VMCS_CR4_MASK, vmx_cr4_mask());
	w(wr, VMCS_LINK_POINTER, LINK_POINTER_NONE);
	return 0;
}

static void set_segment(struct vmcs_writer *wr, unsigned int seg,
			uint16_t sel, uint32_t ar)
{
	/* The guest ES..GS fields are spaced 2 apart in each group. */
	w(wr, VMCS_GUEST_ES_SEL + 2 * seg, sel);
	w(wr, VMCS_GUEST_ES_BASE + 2 * seg, 0);
	w(wr, VMCS_GUEST_ES_LIMIT + 2 * seg, 0xffffffff);
	w(wr, VMCS_GUEST_ES_AR + 2 * seg, ar);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

static void setup_guest(struct vcpu *v, struct vmcs_writer *wr)
{
	struct vm *vm = v->vm;
	bool lm = vmx_guest_is_64bit(vm);
	uint32_t code = AR_TYPE_CODE_XRA | AR_S | AR_P | AR_G |
			(lm ? AR_L : AR_DB);
	uint32_t data = AR_TYPE_DATA_RWA | AR_S | AR_P | AR_G | AR_DB;
	/* The Linux boot protocol's __BOOT_CS / __BOOT_DS for a bzImage. */
	bool bz = vmx_guest_is_bzimage(vm);
	uint16_t cs = bz ? 0x10 : GUEST_SEL_CODE, ds = bz ? 0x18 : GUEST_SEL_DATA;
	uint64_t cr0, cr4, efer;

	set_segment(wr, SEG_CS, cs, code);
	set_segment(wr, SEG_ES, ds, data);
	set_segment(wr, SEG_SS, ds, data);
	set_segment(wr, SEG_DS, ds, data);
	set_segment(wr, SEG_FS, ds, data);
	set_segment(wr, SEG_GS, ds, data);
	w(wr, VMCS_GUEST_LDTR_SEL, 0);
	w(wr, VMCS_GUEST_LDTR_BASE, 0);
	w(wr, VMCS_GUEST_LDTR_LIMIT, 0);
	w(wr, VMCS_GUEST_LDTR_AR, AR_UNUSABLE);
	w(wr, VMCS_GUEST_TR_SEL, 0);
	w(wr, VMCS_GUEST_TR_BASE, 0);
	w(wr, VMCS_GUEST_TR_LIMIT, 0x67);
	w(wr, VMCS_GUEST_TR_AR, AR_TYPE_TSS_BUSY64 | AR_P);
	w(wr, VMCS_GUEST_GDTR_BASE, vm->arch.gdt);
	w(wr, VMCS_GUEST_GDTR_LIMIT, vm->arch.gdt ? (bz ? 4 : 3) * 8 - 1 : 0);
	w(wr, VMCS_GUEST_IDTR_BASE, 0);
	w(wr, VMCS_GUEST_IDTR_LIMIT, 0);

	if (lm) {
		cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		      X86_CR0_WP | X86_CR0_PG;
		cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
		efer = X86_EFER_LME | X86_EFER_LMA;
	} else {
		cr0 = X86_CR0_PE | X86_CR0_ET;
		cr4 = 0;
		efer = 0;
	}
	w(wr, VMCS_CR0_SHADOW, cr0);
	w(wr, VMCS_GUEST_CR0, vmx_guest_cr0(cr0));
	w(wr, VMCS_CR4_SHADOW, cr4);
	w(wr, VMCS_GUEST_CR4, vmx_guest_cr4(cr4));
	w(wr, VMCS_GUEST_CR3, vm->arch.cr3);
	w(wr, VMCS_GUEST_EFER, efer);
	if (vmx_caps.entry & ((uint64_t)ENTRY_LOAD_PAT << 32)) {
		w(wr, VMCS_GUEST_PAT, PAT_DEFAULT);
	}
	w(wr, VMCS_GUEST_DR7, DR7_DEFAULT);
	w(wr, VMCS_GUEST_DEBUGCTL, 0);
	w(wr, VMCS_GUEST_PENDING_DBG, 0);
	w(wr, VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED);
	w(wr, VMCS_GUEST_RIP, vm->image.entry);
	w(wr, VMCS_GUEST_RSP, v->arch.gprs[X86_REG_RSP]);
	w(wr, VMCS_GUEST_SYSENTER_CS, 0);
	w(wr, VMCS_GUEST_SYSENTER_ESP, 0);
	w(wr, VMCS_GUEST_SYSENTER_EIP, 0);
	w(wr, VMCS_GUEST_INTERRUPTIBILITY, 0);
	w(wr, VMCS_GUEST_ACTIVITY, 0);
}

#ifdef CONFIG_TEST
/* Break @v's VMCS as `x86_vmx_break=` asks (boot tests of entry failure). */
static void apply_test_break(struct vcpu *v, struct vmcs_writer *wr)
{
	const char *name = v->vm->name;

	if (!strcmp(x86_vmx_break_vm[X86_VMX_BREAK_STATE], name)) {
		pr_info("vm %s: test: breaking the guest state\n", name);
		w(wr, VMCS_GUEST_CR0, (vmread(VMCS_GUEST_CR0) | X86_CR0_PG) &
		  ~X86_CR0_PE);
	}
	if (!strcmp(x86_vmx_break_vm[X86_VMX_BREAK_CONTROL], name)) {
		pr_info("vm %s: test: breaking the controls\n", name);
		w(wr, VMCS_CR3_TARGET_COUNT, 1000);
	}
}
#else
static void apply_test_break(struct vcpu *v, struct vmcs_writer *wr)
{
	(void)v;
	(void)wr;
}
#endif

int vmx_vcpu_setup(struct vcpu *v)
{
	struct vmx_caps *c = &vmx_caps;
	struct vmcs_writer wr = { .ok = true };
	uint32_t *vmcs;
	int ret;

	if (!msr_bitmap) {
		return -ENODEV;		/* VMX is not on */
	}
	vmcs = palloc_page_zeroed();
	if (!vmcs) {
		return -ENOMEM;
	}
	vmcs[0] = c->basic & VMX_BASIC_REVISION_MASK;
	v->arch.vmcs = (paddr_t)(uintptr_t)vmcs;
	v->arch.launched = false;
	v->arch.host_cpu = (int)this_pcpu()->id;
	v->arch.fresh = true;
	if (!vmclear(v->arch.vmcs) || vmx_load_vmcs(v)) {
		pr_err("vm %s: VMCLEAR/VMPTRLD of the VMCS failed\n",
		       v->vm->name);
		vmx_vcpu_teardown(v);
		return -EIO;
	}
	setup_host(&wr);
	ret = setup_controls(v, &wr);
	if (!ret) {
		setup_guest(v, &wr);
		apply_test_break(v, &wr);
	}
	if (!ret && !wr.ok) {
		pr_err("vm %s: VMWRITE of field 0x%llx refused (error %llu)\n",
		       v->vm->name, (unsigned long long)wr.bad_field,
		       (unsigned long long)vmread(VMCS_INSN_ERROR));
		ret = -EIO;
	}
	if (ret) {
		vmx_vcpu_teardown(v);
	} else {
		vmx_put_vmcs(v);
		/*
		 * The set-up ran on whichever CPU builds or resets the VM: the
		 * INVVPID of a fresh VMCS is still owed on the CPU the vCPU
		 * runs on, at its first load there.
		 */
		v->arch.fresh = true;
	}
	return ret;
}

/* Drop the TLB entries tagged with @vpid (single context where possible). */
static void invvpid(uint16_t vpid)
{
	struct {
		uint64_t vpid;
		uint64_t addr;
	} desc = { vpid, 0 };
	uint64_t type = vmx_has_ept_cap(&vmx_caps, VMX_VPID_INVVPID_SINGLE) ?
			INVVPID_SINGLE_CONTEXT : INVVPID_ALL_CONTEXTS;

	__asm__ volatile("invvpid %0, %1" : : "m"(desc), "r"(type)
			 : "cc", "memory");
}

void vmx_vcpu_teardown(struct vcpu *v)
{
	if (!v->arch.vmcs) {
		return;
	}
	invvpid(vcpu_vpid(v));
	vmx_eptp_list_free(v);
	/* Clear outside its slices: VMCLEAR is allowed on any CPU. */
	vmclear(v->arch.vmcs);
	for (unsigned int i = 0; i < PCPU_MAX; i++) {
		if (current_vmcs[i] == v->arch.vmcs) {
			current_vmcs[i] = 0;
		}
	}
	palloc_free(v->arch.vmcs, 1);
	v->arch.vmcs = 0;
	v->arch.launched = false;
}
