// SPDX-License-Identifier: MIT
/*
 * EPT violations and misconfigurations. The generic fault handler maps RAM
 * or says the access is MMIO; then the instruction at the guest's RIP is
 * fetched (its linear address translated through the guest's own paging:
 * none, 32-bit, PAE or 4-level, reading the guest's tables from its RAM),
 * decoded (arch/x86/decode.c), performed on the device bus and skipped: a
 * read-modify-write is one device read, the computation
 * (arch/x86/mmio_execute.c), then one device write; PUSH/POP move between
 * the device and the stack in RAM; MOVS/STOS go to vmx_string_io.c. An
 * instruction the decoder refuses gets #UD, like a CPU that cannot execute
 * it; the device never sees a half-understood access.
 */
#include <arch/cpu.h>
#include <arch/lapic.h>
#include <arch/secure_vm.h>
#include <arch/vmcs.h>
#include <arch/vmx_run.h>
#include <arch/x86_decode.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define PTE_P			BIT(0)
#define PTE_PS			BIT(7)
#define PTE_ADDR_MASK		GENMASK(51, 12)
#define EPT_QUAL_READ		BIT(0)
#define EPT_QUAL_WRITE		BIT(1)
#define EPT_QUAL_FETCH		BIT(2)
#define EPT_QUAL_GLA_VALID	BIT(7)
#define EPT_QUAL_GLA_FINAL	BIT(8)	/* not a paging-structure access */

/* Read a guest page-table entry of @size bytes at @gpa. */
static int read_pte(struct vm *vm, gpa_t gpa, unsigned int size,
		    uint64_t *out)
{
	const void *p = vm_gpa_to_host(vm, gpa, size);

	if (!p) {
		return -EFAULT;
	}
	*out = 0;
	memcpy(out, p, size);
	return (*out & PTE_P) ? 0 : -ENOENT;
}

/* 4-level (long mode) and PAE walks: 8-byte entries, 9 bits a level. */
static int walk_64(struct vm *vm, uint64_t table, uint64_t la,
		   unsigned int top, gpa_t *gpa)
{
	for (int level = top; level >= 0; level--) {
		unsigned int shift = 12 + 9 * level;
		gpa_t at = table + ((la >> shift) & 511) * 8;
		bool leaf;
		uint64_t e;
		int ret = read_pte(vm, at, 8, &e);

		if (ret) {
			return ret;
		}
		leaf = level == 0 || (level <= 2 && (e & PTE_PS));
		if (leaf) {
			uint64_t size = 1ULL << shift;

			*gpa = (e & PTE_ADDR_MASK & ~(size - 1)) |
			       (la & (size - 1));
			return 0;
		}
		table = e & PTE_ADDR_MASK;
	}
	return -EFAULT;
}

static int walk_32(struct vm *vm, uint64_t cr3, uint64_t cr4, uint32_t la,
		   gpa_t *gpa)
{
	uint64_t pde, pte;
	int ret = read_pte(vm, (cr3 & 0xfffff000) + (la >> 22) * 4, 4, &pde);

	if (ret) {
		return ret;
	}
	if ((pde & PTE_PS) && (cr4 & X86_CR4_PSE)) {
		*gpa = (pde & 0xffc00000) | (((pde >> 13) & 0xff) << 32) |
		       (la & 0x3fffff);
		return 0;
	}
	ret = read_pte(vm, (pde & 0xfffff000) + ((la >> 12) & 0x3ff) * 4, 4,
		       &pte);
	if (!ret) {
		*gpa = (pte & 0xfffff000) | (la & 0xfff);
	}
	return ret;
}

/* Translate guest linear address @la as the guest's paging mode does. */
int vmx_guest_linear_to_gpa(struct vm *vm, uint64_t la, gpa_t *gpa)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr3 = vmread(VMCS_GUEST_CR3);
	uint64_t cr4 = vmread(VMCS_GUEST_CR4);
	uint64_t pdpte;
	int ret;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = la & 0xffffffff;
		return 0;
	}
	if (vmread(VMCS_GUEST_EFER) & X86_EFER_LMA) {
		if (cr4 & X86_CR4_LA57) {
			return -EOPNOTSUPP;
		}
		return walk_64(vm, cr3 & PTE_ADDR_MASK, la, 3, gpa);
	}
	if (cr4 & X86_CR4_PAE) {
		ret = read_pte(vm, (cr3 & 0xffffffe0) + ((la >> 30) & 3) * 8, 8,
			       &pdpte);
		if (ret) {
			return ret;
		}
		return walk_64(vm, pdpte & PTE_ADDR_MASK, la & 0xffffffff, 1,
			       gpa);
	}
	return walk_32(vm, cr3, cr4, (uint32_t)la, gpa);
}

unsigned int vmx_guest_copy(struct vm *vm, uint64_t la, void *buf,
			    unsigned int len, bool to_guest)
{
	unsigned int done = 0;

	while (done < len) {
		unsigned int chunk = MIN(len - done,
					 PAGE_SIZE - ((la + done) & 0xfff));
		uint8_t *p;
		gpa_t gpa;

		if (vmx_guest_linear_to_gpa(vm, la + done, &gpa)) {
			break;
		}
		p = vm_gpa_to_host(vm, gpa, chunk);
		if (!p || (to_guest && vm_prepare_host_write(vm, gpa, chunk))) {
			break;
		}
		if (to_guest) {
			memcpy(p, (uint8_t *)buf + done, chunk);
		} else {
			memcpy((uint8_t *)buf + done, p, chunk);
		}
		done += chunk;
	}
	return done;
}

static enum x86_cpu_mode guest_cpu_mode(void)
{
	uint64_t ar = vmread(VMCS_GUEST_CS_AR);

	if ((vmread(VMCS_GUEST_EFER) & X86_EFER_LMA) && (ar & AR_L)) {
		return X86_MODE_64;
	}
	return (ar & AR_DB) ? X86_MODE_32 : X86_MODE_16;
}

static void advance_rip(struct vcpu *v, unsigned int len,
			enum x86_cpu_mode mode)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP) + len;

	if (mode != X86_MODE_64) {
		rip &= mode == X86_MODE_32 ? 0xffffffffULL : 0xffffULL;
	}
	vmx_set_rip(v, rip);
}

static void report_bytes(struct vcpu *v, gpa_t gpa, uint64_t rip,
			 const uint8_t *b, unsigned int n)
{
	char hex[3 * X86_INSN_MAX + 1] = "";

	for (unsigned int i = 0; i < n && i < 8; i++) {
		ksnprintf(hex + 3 * i, sizeof(hex) - 3 * i, " %02x", b[i]);
	}
	vmx_report(v, "MMIO at GPA 0x%llx by an instruction Strata cannot emulate (RIP 0x%llx:%s): #UD injected",
		   (unsigned long long)gpa, (unsigned long long)rip, hex);
}

/* The vCPU's own xAPIC page first, then the VM's device bus. */
void vmx_mmio_access(struct vcpu *v, gpa_t gpa, unsigned int size,
		     bool write, uint64_t *val)
{
	if (!lapic_mmio_access(v, gpa, size, write, val)) {
		vm_io_access(v, IO_MMIO, gpa, size, write, val);
	}
}

/* rSP's width: 8 in 64-bit mode, else SS.B says 4 or 2. */
static uint64_t stack_mask(enum x86_cpu_mode mode)
{
	if (mode == X86_MODE_64) {
		return ~0ULL;
	}
	return (vmread(VMCS_GUEST_SS_AR) & AR_DB) ? 0xffffffffULL : 0xffffULL;
}

/* The linear address of SS:@sp (segment bases count outside 64-bit mode). */
static uint64_t stack_linear(enum x86_cpu_mode mode, uint64_t sp)
{
	if (mode == X86_MODE_64) {
		return sp;
	}
	return (vmread(VMCS_GUEST_SS_BASE) + sp) & 0xffffffffULL;
}

/*
 * PUSH r/m (device read, then the stack write) and POP r/m (stack read,
 * then the device write). The stack must be RAM: it is checked before the
 * device is touched, so a refused PUSH never loses a device read.
 */
static bool emulate_stack(struct vcpu *v, const struct x86_mmio_insn *insn,
			  enum x86_cpu_mode mode, gpa_t gpa)
{
	uint64_t *rsp = &v->arch.gprs[X86_REG_RSP], smask = stack_mask(mode);
	bool push = insn->op == X86_OP_PUSH;
	uint64_t sp = push ? (*rsp - insn->size) & smask : *rsp & smask;
	uint64_t la = stack_linear(mode, sp), val = 0;

	if (vmx_guest_copy(v->vm, la, &val, insn->size, false) != insn->size) {
		vmx_report(v, "%s with MMIO at GPA 0x%llx and a stack that is not RAM: #GP injected",
			   push ? "PUSH" : "POP", (unsigned long long)gpa);
		vmx_inject(v, X86_VEC_GP, true, 0);
		return false;
	}
	vmx_note_mmio_access(v, gpa, insn->size, !push);
	if (push) {
		val = 0;
		vmx_mmio_access(v, gpa, insn->size, false, &val);
		vmx_guest_copy(v->vm, la, &val, insn->size, true);
		*rsp = (*rsp & ~smask) | sp;
	} else {
		*rsp = (*rsp & ~smask) | ((sp + insn->size) & smask);
		vmx_mmio_access(v, gpa, insn->size, true, &val);
	}
	return true;
}

/*
 * One memory operand on the device: read it (unless the instruction only
 * writes), compute, write it (unless it only reads), then the registers
 * and the flags.
 */
static void emulate_operand(struct vcpu *v, const struct x86_mmio_insn *insn,
			    gpa_t gpa)
{
	uint64_t rflags = vmread(VMCS_GUEST_RFLAGS), before = rflags;
	uint64_t val = 0;

	if (insn->read) {
		vmx_mmio_access(v, gpa, insn->size, false, &val);
	}
	val = x86_mmio_execute(insn, val, v->arch.gprs, &rflags);
	if (insn->write) {
		vmx_mmio_access(v, gpa, insn->size, true, &val);
	}
	vmx_note_mmio_access(v, gpa, insn->size, insn->write);
	if (rflags != before) {
		vmwrite(VMCS_GUEST_RFLAGS, rflags);
	}
}

static bool emulate_mmio(struct vcpu *v, gpa_t gpa, unsigned int acc)
{
	struct vm *vm = v->vm;
	enum x86_cpu_mode mode = guest_cpu_mode();
	uint64_t rip = vmread(VMCS_GUEST_RIP), la = rip;
	uint8_t bytes[X86_INSN_MAX];
	struct x86_mmio_insn insn;
	unsigned int n;

	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		vm_fail(vm, "event delivery touched MMIO at GPA 0x%llx (RIP 0x%llx)",
			(unsigned long long)gpa, (unsigned long long)rip);
		return false;
	}
	if (mode == X86_MODE_16) {
		la = (vmread(VMCS_GUEST_CS_BASE) + (rip & 0xffff)) & 0xffffffff;
	} else if (mode == X86_MODE_32) {
		la = (vmread(VMCS_GUEST_CS_BASE) + rip) & 0xffffffff;
	}
	n = vmx_guest_copy(vm, la, bytes, sizeof(bytes), false);
	if (!n) {
		vm_fail(vm, "MMIO at GPA 0x%llx from unreadable code at RIP 0x%llx",
			(unsigned long long)gpa, (unsigned long long)rip);
		return false;
	}
	if (x86_decode_mmio(bytes, n, mode, &insn) ||
	    ((acc & VM_ACC_W) && !insn.write)) {
		report_bytes(v, gpa, rip, bytes, n);
		vmx_inject(v, X86_VEC_UD, false, 0);
		return vm_running(vm);
	}
	switch (insn.op) {
	case X86_OP_MOVS:
	case X86_OP_STOS:
		if (!vmx_mmio_string(v, &insn, mode)) {
			return vm_running(vm);
		}
		break;
	case X86_OP_PUSH:
	case X86_OP_POP:
		if (!emulate_stack(v, &insn, mode, gpa)) {
			return vm_running(vm);
		}
		break;
	default:
		emulate_operand(v, &insn, gpa);
		break;
	}
	advance_rip(v, insn.len, mode);
	return vm_running(vm);
}

bool vmx_handle_ept(struct vcpu *v, bool misconfig)
{
	gpa_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	unsigned int acc = VM_ACC_R;
	bool walk = false;

	if (!misconfig) {
		uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);

		acc = ((q & EPT_QUAL_READ) ? VM_ACC_R : 0) |
		      ((q & EPT_QUAL_WRITE) ? VM_ACC_W : 0) |
		      ((q & EPT_QUAL_FETCH) ? VM_ACC_X : 0);
		walk = (q & EPT_QUAL_GLA_VALID) && !(q & EPT_QUAL_GLA_FINAL);
	}
	if (v->vm->cfg->secure) {
		/* Never emulated here: the guest takes #VE (secure_vm.c). */
		if (misconfig) {
			vm_bug(v->vm, "EPT misconfiguration at GPA 0x%llx",
			       (unsigned long long)gpa);
			return false;
		}
		if (!secure_vm_ept_fault(v, gpa, acc)) {
			return false;
		}
		vmx_drop_stale_debug_traps(v);
		return true;
	}
	switch (vm_handle_s2_fault(v, gpa, acc)) {
	case VM_FAULT_FIXED:
		/* The instruction runs again: it has no trap pending yet. */
		vmx_drop_stale_debug_traps(v);
		return true;
	case VM_FAULT_MMIO:
		break;
	default:
		return false;
	}
	/* The CPU walking the guest's page tables is not an instruction. */
	if (walk) {
		vm_fail(v->vm, "guest page tables in unbacked memory at GPA 0x%llx",
			(unsigned long long)gpa);
		return false;
	}
	return emulate_mmio(v, gpa, acc);
}
