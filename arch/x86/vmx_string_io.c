// SPDX-License-Identifier: MIT
/*
 * String port I/O: INS and OUTS, with or without a REP prefix, emulated one
 * element at a time on the port bus. The CPU gives the linear address of
 * the first element (VM-exit guest-linear address) and the address size
 * (VM-exit instruction information); each element is copied between the
 * port and guest memory through the guest's own paging, and RSI or RDI
 * (and RCX under REP) advance as the CPU would advance them, backwards when
 * RFLAGS.DF is set. A long REP is done in batches: the instruction is left
 * in place with the registers updated and runs again for the rest, so one
 * exit never holds the CPU for long. Memory that is not RAM (MMIO, unbacked,
 * not mapped by the guest) gets #GP(0), like the other refusals.
 */
#include <arch/cpu.h>
#include <arch/vmcs.h>
#include <arch/vmx_run.h>
#include <vmm/vm.h>

#define VMX_BASIC_INSOUTS_INFO	BIT(54)
#define IO_QUAL_SIZE(q)		(((q) & 7) + 1)
#define IO_QUAL_IN		BIT(3)
#define IO_QUAL_REP		BIT(5)
#define IO_QUAL_PORT(q)		(((q) >> 16) & 0xffff)
#define INSN_INFO_ADDR_SIZE(i)	(((i) >> 7) & 7)
#define X86_RFLAGS_DF		BIT(10)
#define STRING_IO_BATCH		1024

/* @reg advanced by @delta within the address size @amask. */
static uint64_t advance(uint64_t reg, int64_t delta, uint64_t amask)
{
	uint64_t moved = (reg + (uint64_t)delta) & amask;

	/* 32-bit address writes clear bits 63:32; 16-bit ones keep them. */
	return amask == 0xffff ? (reg & ~amask) | moved : moved;
}

static bool refuse(struct vcpu *v, const char *why, unsigned int port)
{
	vmx_report(v, "string port I/O on port 0x%x %s: #GP injected", port,
		   why);
	vmx_inject(v, X86_VEC_GP, true, 0);
	return true;
}

/* One element between @port and guest linear @la; false if not RAM. */
static bool one_element(struct vcpu *v, bool in, unsigned int port,
			unsigned int size, uint64_t la)
{
	uint64_t val = 0;

	/* Check the memory first so that no port read is lost. */
	if (vmx_guest_copy(v->vm, la, &val, size, false) != size) {
		return false;
	}
	if (in) {
		val = 0;
		vm_io_access(v, IO_PIO, port, size, false, &val);
		return vmx_guest_copy(v->vm, la, &val, size, true) == size;
	}
	vm_io_access(v, IO_PIO, port, size, true, &val);
	return true;
}

bool vmx_handle_string_io(struct vcpu *v, uint64_t q)
{
	unsigned int size = IO_QUAL_SIZE(q), port = IO_QUAL_PORT(q);
	bool in = q & IO_QUAL_IN, rep = q & IO_QUAL_REP;
	uint64_t *idx = &v->arch.gprs[in ? X86_REG_RDI : X86_REG_RSI];
	uint64_t *rcx = &v->arch.gprs[X86_REG_RCX];
	bool wide = (vmread(VMCS_GUEST_EFER) & X86_EFER_LMA) &&
		    (vmread(VMCS_GUEST_CS_AR) & AR_L);
	uint64_t lmask = wide ? ~0ULL : 0xffffffffULL;
	uint64_t amask, count, done, la;
	unsigned int asz;
	int64_t step;

	if (!(vmx_caps.basic & VMX_BASIC_INSOUTS_INFO)) {
		return refuse(v, "(this CPU does not describe INS/OUTS)", port);
	}
	asz = INSN_INFO_ADDR_SIZE(vmread(VMCS_EXIT_INSN_INFO));
	if (asz > 2) {
		return refuse(v, "with an unknown address size", port);
	}
	amask = asz == 0 ? 0xffffULL : asz == 1 ? 0xffffffffULL : ~0ULL;
	count = rep ? (*rcx & amask) : 1;
	step = (vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_DF) ? -(int64_t)size :
							    (int64_t)size;
	la = vmread(VMCS_GUEST_LINEAR_ADDR);
	for (done = 0; done < count && done < STRING_IO_BATCH; done++) {
		if (!one_element(v, in, port, size, la)) {
			return refuse(v, "with memory that is not RAM", port);
		}
		la = (la + (uint64_t)step) & lmask;
		*idx = advance(*idx, step, amask);
		if (rep) {
			*rcx = advance(*rcx, -1, amask);
		}
		if (!vm_running(v->vm)) {
			return false;
		}
	}
	if (done == count) {
		vmx_skip_insn(v);
	}
	return true;
}
