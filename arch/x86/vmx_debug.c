// SPDX-License-Identifier: MIT
/*
 * The guest's debug state across the exits Strata handles (SDM vol. 3,
 * "Interrupt and exception handling", "Debug, branch profile, TSC and
 * resource monitoring features", and the VMX guest non-register state;
 * docs/x86-debug.md).
 *
 * DR7 and IA32_DEBUGCTL travel in the VMCS (the save / load debug controls,
 * vmcs.c); DR0-DR3 and DR6 are the guest's in the CPU for its whole slice
 * (vmx_run.c). What the CPU would do at the end of an instruction that
 * Strata emulated instead is done here: RFLAGS.RF cleared, a single-step
 * trap and the data / I/O breakpoints the emulated accesses hit left in the
 * pending-debug-exceptions field, which VM entry turns into a #DB with DR6
 * updated exactly as for the CPU's own traps. Strata never writes DR6.
 */
#include <arch/cpu.h>
#include <arch/vmcs.h>
#include <arch/vmx_run.h>
#include <vmm/vm.h>

#define DR7_ENABLE(i)		(3ULL << (2 * (i)))
#define DR7_RW(dr7, i)		(((dr7) >> (16 + 4 * (i))) & 3)
#define DR7_LEN(dr7, i)		(((dr7) >> (18 + 4 * (i))) & 3)
#define DR7_RW_EXEC		0
#define DR7_RW_WRITE		1
#define DR7_RW_IO		2
#define DR7_RW_ACCESS		3

static uint64_t read_dr(unsigned int i)
{
	uint64_t v = 0;

	switch (i) {
	case 0:
		__asm__ volatile("mov %%db0, %0" : "=r"(v));
		break;
	case 1:
		__asm__ volatile("mov %%db1, %0" : "=r"(v));
		break;
	case 2:
		__asm__ volatile("mov %%db2, %0" : "=r"(v));
		break;
	case 3:
		__asm__ volatile("mov %%db3, %0" : "=r"(v));
		break;
	}
	return v;
}

bool vmx_exception_is_fault(unsigned int vector)
{
	switch (vector) {
	case 0: case 5: case 6: case 7: case 10: case 11: case 12: case 13:
	case 14: case 16: case 17: case 19: case 20: case 21:
		return true;
	}
	return false;
}

void vmx_set_fault_rf(unsigned int vector)
{
	/* Only protected-mode delivery pushes EFLAGS[31:16]. */
	if (vmx_exception_is_fault(vector) &&
	    (vmread(VMCS_GUEST_CR0) & X86_CR0_PE)) {
		vmwrite(VMCS_GUEST_RFLAGS,
			vmread(VMCS_GUEST_RFLAGS) | X86_RFLAGS_RF);
	}
}

void vmx_drop_stale_debug_traps(struct vcpu *v)
{
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	uint64_t held = INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS;

	v->arch.db_hits = 0;
	/*
	 * Outside an STI / MOV SS shadow the traps of the previous
	 * instruction were delivered before this one began, so whatever the
	 * CPU saved (Bochs saves the single step it had scheduled for the
	 * exiting instruction) is not pending. In a shadow it is kept: it is
	 * what the shadow held back, and VM entry checks BS against TF there.
	 */
	if (!(intr & held) && vmread(VMCS_GUEST_PENDING_DBG)) {
		vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	}
}

static const uint8_t bp_len_bytes[4] = { 1, 2, 8, 4 };

/* DRi's range: its address aligned down to its length (SDM "DR7 LENn"). */
static uint64_t bp_start(uint64_t dr7, unsigned int i, uint64_t *len)
{
	*len = bp_len_bytes[DR7_LEN(dr7, i)];
	return read_dr(i) & ~(*len - 1);
}

/*
 * The enabled data breakpoints an emulated access to guest-physical
 * @gpa..+@size (a write if @write) hits. The CPU compares linear
 * addresses; the MMIO exits give a GPA (EPT misconfigurations give no
 * linear address at all), so each candidate breakpoint's linear address is
 * translated through the guest's page tables instead: a breakpoint on
 * another linear alias of the same device bytes hits too.
 */
void vmx_note_mmio_access(struct vcpu *v, gpa_t gpa, unsigned int size,
			  bool write)
{
	uint64_t dr7 = vmread(VMCS_GUEST_DR7), len;

	for (unsigned int i = 0; i < 4; i++) {
		unsigned int rw = DR7_RW(dr7, i);
		gpa_t at;

		if (!(dr7 & DR7_ENABLE(i)) ||
		    !(rw == DR7_RW_ACCESS || (rw == DR7_RW_WRITE && write))) {
			continue;
		}
		if (vmx_guest_linear_to_gpa(v->vm, bp_start(dr7, i, &len),
					    &at)) {
			continue;
		}
		if (gpa < at + len && at < gpa + size) {
			v->arch.db_hits |= 1U << i;
		}
	}
}

/* The enabled I/O breakpoints (CR4.DE) port @port..+@size hits. */
void vmx_note_io_access(struct vcpu *v, unsigned int port, unsigned int size)
{
	uint64_t dr7 = vmread(VMCS_GUEST_DR7), len;

	uint64_t cr4 = (vmread(VMCS_GUEST_CR4) & ~vmx_cr4_mask()) |
		       (vmread(VMCS_CR4_SHADOW) & vmx_cr4_mask());

	if (!(cr4 & X86_CR4_DE)) {
		return;
	}
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t at;

		if (!(dr7 & DR7_ENABLE(i)) || DR7_RW(dr7, i) != DR7_RW_IO) {
			continue;
		}
		at = bp_start(dr7, i, &len) & 0xffff;
		if (port < at + len && at < port + size) {
			v->arch.db_hits |= 1U << i;
		}
	}
}

/*
 * An instruction Strata emulated has completed: what the CPU does at the
 * end of every instruction: RFLAGS.RF is cleared; with RFLAGS.TF (and not
 * IA32_DEBUGCTL.BTF) a single-step trap is pending; so are the enabled
 * breakpoints its accesses hit (B0-B3, ENABLED_BP); traps a MOV SS shadow
 * held back fall due now. The CPU delivers them at the next entry as a #DB
 * with DR6 updated, before any interrupt.
 */
void vmx_complete_insn_debug(struct vcpu *v, uint64_t intr)
{
	uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
	unsigned int hits = v->arch.db_hits;
	uint64_t pending = 0;

	v->arch.db_hits = 0;
	if (intr & INTERRUPTIBILITY_MOV_SS) {
		pending = vmread(VMCS_GUEST_PENDING_DBG) & PENDING_DBG_MASK;
	}
	if ((rflags & X86_RFLAGS_TF) &&
	    !(vmread(VMCS_GUEST_DEBUGCTL) & DEBUGCTL_BTF)) {
		pending |= PENDING_DBG_BS;
	}
	/* Only enabled breakpoints are noted: each hit is a #DB. */
	if (hits) {
		pending |= hits | PENDING_DBG_ENABLED_BP;
	}
	vmwrite(VMCS_GUEST_PENDING_DBG, pending);
	if (rflags & X86_RFLAGS_RF) {
		vmwrite(VMCS_GUEST_RFLAGS, rflags & ~X86_RFLAGS_RF);
	}
}

bool vmx_debug_trap_pending(void)
{
	uint64_t p = vmread(VMCS_GUEST_PENDING_DBG);

	return (p & PENDING_DBG_BS) ||
	       ((p & PENDING_DBG_ENABLED_BP) && (p & PENDING_DBG_B0_B3));
}
