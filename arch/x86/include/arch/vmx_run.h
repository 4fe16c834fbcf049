/* SPDX-License-Identifier: MIT */
/*
 * Private interfaces of the VMX run loop (arch/x86/vmcs.c, vmx_run.c,
 * vmx_exit.c, vmx_mmio.c, guest_boot.c).
 */
#ifndef STRATA_ARCH_X86_VMX_RUN_H
#define STRATA_ARCH_X86_VMX_RUN_H

#include <arch/cpu.h>
#include <arch/vmx.h>
#include <arch/x86_decode.h>
#include <arch/xsave.h>
#include <types.h>

struct vcpu;
struct vm;

/* Register numbers in struct arch_vcpu.gprs (encoding order). */
#define X86_REG_RAX	0
#define X86_REG_RCX	1
#define X86_REG_RDX	2
#define X86_REG_RBX	3
#define X86_REG_RSP	4
#define X86_REG_RBP	5
#define X86_REG_RSI	6
#define X86_REG_RDI	7

/*
 * IA32_MISC_ENABLE as a vCPU starts: fast strings on, no BTS or PEBS (there
 * is no debug store); bit 22 (limit CPUID to leaf 2) is the guest's.
 */
#define X86_MISC_ENABLE_FAST_STRING	BIT(0)
#define X86_MISC_ENABLE_BTS_UNAVAIL	BIT(11)
#define X86_MISC_ENABLE_PEBS_UNAVAIL	BIT(12)
#define X86_MISC_ENABLE_LIMIT_CPUID	BIT(22)
#define X86_MISC_ENABLE_RESET	(X86_MISC_ENABLE_FAST_STRING | \
				 X86_MISC_ENABLE_BTS_UNAVAIL | \
				 X86_MISC_ENABLE_PEBS_UNAVAIL)

/*
 * debug_exit.c: QEMU's isa-debug-exit at ports 0xf4-0xf7 for @vm. A write
 * of V ends the VM with exit status (V << 1) | 1; status 1 (V = 0) is a
 * good end, as test harnesses built for QEMU read it.
 */
int x86_debug_exit_add(struct vm *vm);
/* The reset control register at port 0xcf9 (arch/x86/reset_ctl.c). */
int x86_reset_ctl_add(struct vm *vm);
/* QEMU's fw_cfg at ports 0x510-0x511 (arch/x86/fw_cfg.c). */
int x86_fw_cfg_add(struct vm *vm);

/* vmx_entry.S: 0 after a VM exit, 1 when VMLAUNCH/VMRESUME failed. */
int vmx_enter(uint64_t *gprs, int launched);

/* True when @vm's guest starts in 64-bit mode (ELF64, raw, bzImage). */
bool vmx_guest_is_64bit(const struct vm *vm);
/*
 * True for a Linux bzImage, entered by the 64-bit boot protocol: CS 0x10,
 * DS/ES/SS 0x18, RSI = boot_params (docs/x86-linux-boot.md).
 */
bool vmx_guest_is_bzimage(const struct vm *vm);

/*
 * CR4 bits a guest may set: none that turns on state VMX does not switch
 * between VMs and Strata does not either (PKE's PKRU, CET) or a feature
 * Strata hides (VMXE, SMXE, LA57). OSXSAVE is added where Strata switches
 * XCR0 and the XSAVE state (arch/xsave.h, vmx_cr4_allowed()).
 */
#define VMX_CR4_GUEST_BITS	(GENMASK(11, 0) | X86_CR4_FSGSBASE |	\
				 X86_CR4_PCIDE | X86_CR4_SMEP |		\
				 X86_CR4_SMAP)

/*
 * CR0/CR4 bits the guest does not own: those VMX fixes (CR0.PE and PG are
 * the guest's with unrestricted guest) and the CR4 bits it may not set.
 * Writes that change them exit.
 */
static inline uint64_t vmx_cr0_mask(void)
{
	return (vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)) |
	       (~vmx_caps.cr0_fixed1 & 0xffffffffULL);
}

static inline uint64_t vmx_cr4_allowed(void)
{
	return (VMX_CR4_GUEST_BITS |
		(xsave_guest_mask() ? X86_CR4_OSXSAVE : 0)) &
	       vmx_caps.cr4_fixed1 & ~vmx_caps.cr4_fixed0;
}

static inline uint64_t vmx_cr4_mask(void)
{
	return ~vmx_cr4_allowed();
}

/* The CR0 / CR4 the CPU runs with for a guest that set @val. */
static inline uint64_t vmx_guest_cr0(uint64_t val)
{
	return (val | (vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG))) &
	       vmx_caps.cr0_fixed1;
}

static inline uint64_t vmx_guest_cr4(uint64_t val)
{
	return (val | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
}

/* vmcs.c: create / load / destroy a vCPU's VMCS. */
int vmx_vcpu_setup(struct vcpu *v);
int vmx_load_vmcs(struct vcpu *v);
/* VMCLEAR @v's VMCS if it is current on this CPU (the end of a slice). */
void vmx_put_vmcs(struct vcpu *v);
void vmx_vcpu_teardown(struct vcpu *v);

/* ---- Views by VMFUNC EPTP switching (vmx_views.c) ---- */
/* The CPU has VM functions with EPTP switching. */
bool vmx_vmfunc_usable(void);
/* The vCPU's EPTP list page (empty until the first entry). 0 / -ENOMEM. */
int vmx_eptp_list_init(struct vcpu *v);
void vmx_eptp_list_free(struct vcpu *v);
/* Before entry with @eptp: rebuild the list if needed, check it agrees. */
bool vmx_views_prepare_entry(struct vcpu *v, uint64_t eptp);
/* After an exit: follow a VMFUNC switch the guest made. */
bool vmx_sync_view(struct vcpu *v);

/*
 * vmx_exit.c: handle the exit that just happened. Return: true to enter
 * the guest again, false to end the time slice (the timer expired, HLT,
 * or the VM ended).
 */
bool vmx_handle_exit(struct vcpu *v);

/*
 * Queue exception @vector (with error code @err if @has_err) for entry.
 * A fault-class vector gets RFLAGS.RF = 1 in the frame it pushes, as the
 * CPU pushes it for every fault but the instruction-breakpoint #DB (the
 * CPU pushes the guest-state RFLAGS field: RF is set there), so the IRET
 * back to the faulting instruction is not stopped by a breakpoint on it.
 */
void vmx_inject(struct vcpu *v, unsigned int vector, bool has_err,
		uint32_t err);

/* @vector is a fault-class exception (#DB and #BP are not). */
bool vmx_exception_is_fault(unsigned int vector);
/* Set RFLAGS.RF for the delivery of fault @vector (protected mode only). */
void vmx_set_fault_rf(unsigned int vector);

/* ---- The guest's debug state (vmx_debug.c, docs/x86-debug.md) ---- */
/*
 * The exiting instruction will run again or has faulted: drop the debug
 * traps the CPU saved as pending unless an STI / MOV SS shadow holds them,
 * and the breakpoints noted for it.
 */
void vmx_drop_stale_debug_traps(struct vcpu *v);
/* A #DB trap is pending in the guest state (delivered at the next entry). */
bool vmx_debug_trap_pending(void);
/*
 * The instruction being emulated accessed device memory at @gpa..+@size
 * (a write if @write) or I/O port @port..+@size: note the enabled DR0-DR3
 * data or I/O breakpoints it hits, for vmx_complete_insn_debug().
 */
void vmx_note_mmio_access(struct vcpu *v, gpa_t gpa, unsigned int size,
			  bool write);
void vmx_note_io_access(struct vcpu *v, unsigned int port, unsigned int size);
/*
 * The emulated instruction completed (@intr: the interruptibility state it
 * ran in): clear RFLAGS.RF, leave its single step, its breakpoint hits and
 * the traps a MOV SS shadow held pending for the CPU to deliver as #DB.
 */
void vmx_complete_insn_debug(struct vcpu *v, uint64_t intr);

/* The guest's TSC (host TSC plus its offset) and setting its offset. */
uint64_t vmx_guest_tsc(const struct vcpu *v);
void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset);

/* RDTSCP and IA32_TSC_AUX can be given to guests on this CPU. */
bool vmx_rdtscp_usable(void);
/*
 * PCID for guests: CR4.PCIDE is the guest's to set (VMX allows it and the
 * CPU has PCID), so CPUID shows PCID; with EPT and VPID the CPU tags and
 * flushes a guest's translations by PCID itself. INVPCID as well when the
 * CPU has it and VMX lets it run in the guest (the secondary control);
 * otherwise CPUID hides it and it gets #UD, as without the feature.
 */
bool vmx_pcid_usable(void);
bool vmx_invpcid_usable(void);

/*
 * Could a vCPU of @vm other than @except (NULL: any) still run or be woken
 * by its own timer? False when every vCPU is halted for good, off or
 * waiting for a SIPI that nobody can send.
 */
bool vmx_vm_can_wake(const struct vm *vm, const struct vcpu *except);

/*
 * Move the guest to @rip after an emulated instruction: it completed, so
 * RFLAGS.RF is cleared, its single-step trap (RFLAGS.TF) and the traps a
 * MOV SS shadow held are left pending for the CPU to deliver as #DB, and
 * its STI / MOV SS shadow ends.
 */
void vmx_set_rip(struct vcpu *v, uint64_t rip);

/* Skip the instruction that exited (vmx_set_rip() past it). */
void vmx_skip_insn(struct vcpu *v);

/*
 * Print a refusal of @v's guest ("vm NAME: ...") for the first few per VM,
 * so a misbehaving guest cannot flood the console.
 */
void vmx_report(struct vcpu *v, const char *fmt, ...) __printf(2, 3);

/* vmx_mmio.c: the EPT violation / misconfiguration exits. */
bool vmx_handle_ept(struct vcpu *v, bool misconfig);

/*
 * Copy @len bytes between @buf and guest linear address @la (translated
 * through the guest's current paging mode; only RAM, never MMIO). A copy to
 * the guest first goes through vm_prepare_host_write(), so a write-protected
 * page is unprotected and counted as the guest's own write would be. Return:
 * how many bytes were copied before a translation failed.
 */
unsigned int vmx_guest_copy(struct vm *vm, uint64_t la, void *buf,
			    unsigned int len, bool to_guest);

/* vmx_string_io.c: INS / OUTS, with or without REP. */
bool vmx_handle_string_io(struct vcpu *v, uint64_t qual);

/* One MMIO access: the vCPU's xAPIC page, else the VM's device bus. */
void vmx_mmio_access(struct vcpu *v, gpa_t gpa, unsigned int size,
		     bool write, uint64_t *val);

/*
 * vmx_string_io.c: a decoded MOVS or STOS that touched MMIO, each element
 * between RAM and MMIO or MMIO and MMIO. Return: true when the last element
 * is done (the caller skips the instruction); false when a long REP is to
 * run again for the rest, or a fault was injected.
 */
bool vmx_mmio_string(struct vcpu *v, const struct x86_mmio_insn *insn,
		     enum x86_cpu_mode mode);

/* Translate guest linear @la through the guest's current paging mode. */
int vmx_guest_linear_to_gpa(struct vm *vm, uint64_t la, gpa_t *gpa);

#endif
