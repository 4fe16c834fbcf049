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
 *
 * MOVS and STOS that touch MMIO (decoded by arch/x86/decode.c after an EPT
 * exit) run the same way: each element is read from DS:rSI (or the
 * override's segment) and written to ES:rDI, either side RAM (through the
 * guest's paging) or MMIO (the device bus), so RAM to MMIO, MMIO to RAM
 * and MMIO to MMIO all work, with REP, RFLAGS.DF and the address size. Both
 * sides of an element are translated before the device is touched; a side
 * that does not translate gets #GP(0) (not the #PF a CPU would raise).
 */
#include <arch/cpu.h>
#include <arch/vmcs.h>
#include <arch/vmx_run.h>
#include <arch/x86_decode.h>
#include <vmm/vm.h>

#define IO_QUAL_SIZE(q)		(((q) & 7) + 1)
#define IO_QUAL_IN		BIT(3)
#define IO_QUAL_REP		BIT(5)
#define IO_QUAL_PORT(q)		(((q) >> 16) & 0xffff)
#define INSN_INFO_ADDR_SIZE(i)	(((i) >> 7) & 7)
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
	step = (vmread(VMCS_GUEST_RFLAGS) & X86_FLAG_DF) ? -(int64_t)size :
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

/* Where one element of a MOVS/STOS lives: RAM at linear @la, or MMIO. */
struct string_side {
	uint64_t la;
	gpa_t gpa;
	bool ram;
};

static bool resolve_side(struct vcpu *v, uint64_t la, unsigned int size,
			 struct string_side *side)
{
	side->la = la;
	if (vmx_guest_linear_to_gpa(v->vm, la, &side->gpa)) {
		return false;
	}
	side->ram = vm_find_memslot(v->vm, side->gpa) != NULL;
	/* a device access never straddles a page the guest maps apart */
	return side->ram || (la & (PAGE_SIZE - 1)) + size <= PAGE_SIZE;
}

static bool side_access(struct vcpu *v, const struct string_side *side,
			unsigned int size, bool write, uint64_t *val)
{
	if (side->ram) {
		return vmx_guest_copy(v->vm, side->la, val, size, write) == size;
	}
	vmx_mmio_access(v, side->gpa, size, write, val);
	return true;
}

/* The linear address of @seg:@off, as the CPU forms it in @mode. */
static uint64_t seg_linear(enum x86_cpu_mode mode, enum x86_seg seg,
			   uint64_t off)
{
	static const uint32_t base_field[] = {
		[X86_SEG_ES] = VMCS_GUEST_ES_BASE,
		[X86_SEG_CS] = VMCS_GUEST_CS_BASE,
		[X86_SEG_SS] = VMCS_GUEST_SS_BASE,
		[X86_SEG_DS] = VMCS_GUEST_DS_BASE,
		[X86_SEG_FS] = VMCS_GUEST_FS_BASE,
		[X86_SEG_GS] = VMCS_GUEST_GS_BASE,
	};

	if (mode == X86_MODE_64) {
		/* only FS and GS have bases in 64-bit mode */
		return (seg == X86_SEG_FS || seg == X86_SEG_GS) ?
		       vmread(base_field[seg]) + off : off;
	}
	return (vmread(base_field[seg]) + off) & 0xffffffffULL;
}

/* One MOVS or STOS element; false (nothing done) if a side is refused. */
static bool string_element(struct vcpu *v, const struct x86_mmio_insn *insn,
			   enum x86_cpu_mode mode, uint64_t amask)
{
	const uint64_t *g = v->arch.gprs;
	struct string_side src, dst;
	uint64_t val = x86_mmio_store_value(insn, g);

	if (!resolve_side(v, seg_linear(mode, X86_SEG_ES,
					g[X86_REG_RDI] & amask),
			  insn->size, &dst)) {
		return false;
	}
	if (insn->op == X86_OP_MOVS) {
		if (!resolve_side(v, seg_linear(mode, insn->seg,
						g[X86_REG_RSI] & amask),
				  insn->size, &src) ||
		    !side_access(v, &src, insn->size, false, &val)) {
			return false;
		}
	}
	return side_access(v, &dst, insn->size, true, &val);
}

bool vmx_mmio_string(struct vcpu *v, const struct x86_mmio_insn *insn,
		     enum x86_cpu_mode mode)
{
	uint64_t *g = v->arch.gprs;
	uint64_t amask = insn->addr_size == 2 ? 0xffffULL :
			 insn->addr_size == 4 ? 0xffffffffULL : ~0ULL;
	uint64_t count = insn->rep ? (g[X86_REG_RCX] & amask) : 1, done;
	int64_t step = (vmread(VMCS_GUEST_RFLAGS) & X86_FLAG_DF) ?
		       -(int64_t)insn->size : (int64_t)insn->size;

	for (done = 0; done < count && done < STRING_IO_BATCH; done++) {
		if (!string_element(v, insn, mode, amask)) {
			vmx_report(v, "%s with MMIO and memory that does not translate (RSI 0x%llx, RDI 0x%llx): #GP injected",
				   insn->op == X86_OP_MOVS ? "MOVS" : "STOS",
				   (unsigned long long)g[X86_REG_RSI],
				   (unsigned long long)g[X86_REG_RDI]);
			vmx_inject(v, X86_VEC_GP, true, 0);
			return false;
		}
		if (insn->op == X86_OP_MOVS) {
			g[X86_REG_RSI] = advance(g[X86_REG_RSI], step, amask);
		}
		g[X86_REG_RDI] = advance(g[X86_REG_RDI], step, amask);
		if (insn->rep) {
			g[X86_REG_RCX] = advance(g[X86_REG_RCX], -1, amask);
		}
		if (!vm_running(v->vm)) {
			return false;
		}
	}
	/* a long REP runs again for the rest, registers already advanced */
	return done == count;
}
