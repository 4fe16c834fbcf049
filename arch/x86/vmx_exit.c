// SPDX-License-Identifier: MIT
/*
 * The VMX exit dispatcher: one handler per exit reason Strata expects, each
 * either emulating the instruction and skipping it, refusing it by injecting
 * the exception hardware would raise (counted in STRATA_CTR_INJECTED), or
 * ending the VM with vm_fail() and a reason. Nothing a guest does reaches a
 * hypervisor panic: an exit reason nobody expects stops only that VM.
 */
#include <arch/smp.h>
#include <arch/cpu.h>
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <arch/pcdev.h>
#include <arch/vmcs.h>
#include <arch/vmx_run.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/hypercall.h>
#include <vmm/vm.h>

#define CPUID_1_ECX_DTES64	BIT(2)
#define CPUID_1_ECX_MONITOR	BIT(3)
#define CPUID_1_ECX_DSCPL	BIT(4)
#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_1_ECX_SMX		BIT(6)
#define CPUID_1_ECX_EST		BIT(7)
#define CPUID_1_ECX_TM2		BIT(8)
#define CPUID_1_ECX_SDBG	BIT(11)
#define CPUID_1_ECX_FMA		BIT(12)
#define CPUID_1_ECX_XTPR	BIT(14)
#define CPUID_1_ECX_PDCM	BIT(15)
#define CPUID_1_ECX_PCID	BIT(17)
#define CPUID_1_ECX_DCA		BIT(18)
#define CPUID_1_ECX_X2APIC	BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_1_ECX_XSAVE	BIT(26)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_AVX		BIT(28)
#define CPUID_1_ECX_F16C	BIT(29)
#define CPUID_1_ECX_HYPERVISOR	BIT(31)
/*
 * Features whose MSRs or state Strata does not provide: hidden, so that
 * every feature CPUID shows works (debug store, PDCM's PERF_CAPABILITIES,
 * thermal and power MSRs, DCA, silicon debug, xTPR).
 */
#define CPUID_1_ECX_HIDDEN	(CPUID_1_ECX_DTES64 | CPUID_1_ECX_MONITOR | \
				 CPUID_1_ECX_DSCPL | CPUID_1_ECX_VMX | \
				 CPUID_1_ECX_SMX | CPUID_1_ECX_EST | \
				 CPUID_1_ECX_TM2 | CPUID_1_ECX_SDBG | \
				 CPUID_1_ECX_FMA | CPUID_1_ECX_XTPR | \
				 CPUID_1_ECX_PDCM | \
				 CPUID_1_ECX_DCA | CPUID_1_ECX_XSAVE | \
				 CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX | \
				 CPUID_1_ECX_F16C)
/* Shown (as the CPU has them) with the state they need (arch/xsave.h). */
#define CPUID_1_ECX_NEED_AVX	(CPUID_1_ECX_AVX | CPUID_1_ECX_FMA | \
				 CPUID_1_ECX_F16C)
#define CPUID_1_EDX_APIC	BIT(9)
#define CPUID_1_EDX_HTT		BIT(28)
#define CPUID_1_EDX_MTRR	BIT(12)
#define CPUID_1_EDX_MCA		BIT(14)
#define CPUID_1_EDX_DS		BIT(21)
#define CPUID_1_EDX_ACPI	BIT(22)
#define CPUID_1_EDX_TM		BIT(29)
#define CPUID_1_EDX_PBE		BIT(31)
#define CPUID_1_EDX_HIDDEN	(CPUID_1_EDX_DS | CPUID_1_EDX_ACPI | \
				 CPUID_1_EDX_TM | CPUID_1_EDX_PBE)
#define CPUID_6_EAX_ARAT	BIT(2)
#define CPUID_7_EBX_TSC_ADJUST	BIT(1)
#define CPUID_7_EBX_INVPCID	BIT(10)
/* Leaf 7 EBX features that need nothing Strata hides or refuses. */
#define CPUID_7_EBX_ALLOWED	(BIT(0) | CPUID_7_EBX_TSC_ADJUST | BIT(3) | \
				 BIT(7) | BIT(8) | BIT(9) | BIT(19) | \
				 BIT(20) | BIT(23) | BIT(24))
#define CPUID_7_EBX_AVX2	BIT(5)
/* AVX-512 F, DQ, IFMA, CD, BW, VL: the ZMM and opmask state. */
#define CPUID_7_EBX_AVX512	(BIT(16) | BIT(17) | BIT(21) | BIT(28) | \
				 BIT(30) | BIT(31))
#define CPUID_7_ECX_UMIP	BIT(2)
/* CPUID.(0xD,1).EAX: XSAVEOPT, XSAVEC, XGETBV with ECX = 1 (not XSAVES). */
#define CPUID_D1_EAX_SHOWN	(BIT(0) | BIT(1) | BIT(2))
#define CPUID_EXT_EDX_RDTSCP	BIT(27)
#define CPUID_TOPO_SMT		1
#define CPUID_TOPO_CORE		2

/* Bits a guest may change; the others read as fixed and refuse change. */
#define MISC_ENABLE_WRITABLE	(X86_MISC_ENABLE_FAST_STRING | \
				 X86_MISC_ENABLE_LIMIT_CPUID)
#define MCG_STATUS_BITS		0x7ULL		/* RIPV, EIPV, MCIP */

#define CPUID_HV_BASE		0x40000000
#define CPUID_HV_FEATURES	0x40000001
#define CPUID_HV_LAST		0x4fffffff

/* "StrataStrata" in EBX, ECX, EDX. */
#define STRATA_SIG_EBX		0x61727453	/* "Stra" */
#define STRATA_SIG_ECX		0x74536174	/* "taSt" */
#define STRATA_SIG_EDX		0x61746172	/* "rata" */

#define FEATURE_CONTROL_GUEST	BIT(0)	/* locked, VMX off */

#define CR_QUAL_NUM(q)		((q) & 0xf)
#define CR_QUAL_TYPE(q)		(((q) >> 4) & 3)
#define CR_QUAL_REG(q)		(((q) >> 8) & 0xf)
#define CR_QUAL_LMSW_SRC(q)	(((q) >> 16) & 0xffff)
#define CR_MOV_TO		0
#define CR_MOV_FROM		1
#define CR_CLTS			2
#define CR_LMSW			3

#define IO_QUAL_SIZE(q)		(((q) & 7) + 1)
#define IO_QUAL_IN		BIT(3)
#define IO_QUAL_STRING		BIT(4)
#define IO_QUAL_PORT(q)		(((q) >> 16) & 0xffff)

#define PIC1_CMD		0x20
#define PIC2_CMD		0xa0
#define PIC_EOI			0x20

static uint64_t *gpr(struct vcpu *v, unsigned int n)
{
	return &v->arch.gprs[n];
}

static void inject_gp(struct vcpu *v)
{
	vmx_inject(v, X86_VEC_GP, true, 0);
}

static void inject_ud(struct vcpu *v)
{
	vmx_inject(v, X86_VEC_UD, false, 0);
}

static bool is_canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static bool guest_in_64bit_mode(void)
{
	return (vmread(VMCS_GUEST_EFER) & X86_EFER_LMA) &&
	       (vmread(VMCS_GUEST_CS_AR) & AR_L);
}

/* ---- CPUID ------------------------------------------------------------- */

static struct cpuid_regs cpuid_hypervisor(struct vcpu *v, uint32_t leaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (leaf == CPUID_HV_BASE) {
		r = (struct cpuid_regs){ CPUID_HV_FEATURES, STRATA_SIG_EBX,
					 STRATA_SIG_ECX, STRATA_SIG_EDX };
	} else if (leaf == CPUID_HV_FEATURES) {
		/* Hypercall base, vCPU id, VM slot. */
		r = (struct cpuid_regs){ (uint32_t)STRATA_HC_BASE, v->id,
					 v->vm->index, 0 };
	}
	return r;
}

/* Bits of an APIC ID that a level of the topology below takes. */
static unsigned int topo_bits(unsigned int n)
{
	unsigned int b = 0;

	while ((1U << b) < n) {
		b++;
	}
	return b;
}

/*
 * CPUID leaves 0xb and 0x1f: one thread per core, every vCPU a core of
 * one package, x2APIC ID = vCPU id.
 */
static void cpuid_topology(struct vcpu *v, uint32_t sub, struct cpuid_regs *r)
{
	unsigned int n = v->vm->nr_vcpus;

	r->edx = v->id;
	if (sub == 0) {
		r->eax = 0;
		r->ebx = 1;
		r->ecx = sub | (CPUID_TOPO_SMT << 8);
	} else if (sub == 1) {
		r->eax = topo_bits(n);
		r->ebx = n;
		r->ecx = sub | (CPUID_TOPO_CORE << 8);
	} else {
		r->eax = r->ebx = 0;
		r->ecx = sub & 0xff;
	}
}

/*
 * CPUID leaf 4 (deterministic cache parameters) for the same topology:
 * EAX[31:26] cores per package - 1, EAX[25:14] logical processors sharing
 * the cache - 1 (the last level is shared by the package, the others are
 * a core's own).
 */
static void cpuid_cache_topology(struct vcpu *v, struct cpuid_regs *r)
{
	unsigned int cores = 1U << topo_bits(v->vm->nr_vcpus);
	unsigned int level = (r->eax >> 5) & 7;

	if (!(r->eax & 0x1f)) {
		return;			/* no more caches */
	}
	r->eax = (r->eax & 0x3fff) | ((cores - 1) << 26) |
		 ((level >= 3 ? cores - 1 : 0) << 14);
}

/*
 * The leaf 1 ECX bits XSAVE brings: XSAVE itself, OSXSAVE as the guest's
 * CR4 has it (the CPU would report the host's), and AVX's instructions
 * when the guest may have its state. CPUID is computed on each call, so the
 * bits follow CR4 and XCR0 as they do on hardware.
 */
static uint32_t cpuid_1_ecx_xsave(void)
{
	uint64_t m = xsave_guest_mask();

	if (!m) {
		return 0;
	}
	return CPUID_1_ECX_XSAVE |
	       ((m & XFEATURE_AVX) ? CPUID_1_ECX_NEED_AVX : 0) |
	       ((vmread(VMCS_GUEST_CR4) & X86_CR4_OSXSAVE) ?
		CPUID_1_ECX_OSXSAVE : 0);
}

static uint32_t cpuid_7_ebx_xsave(void)
{
	uint64_t m = xsave_guest_mask();

	return ((m & XFEATURE_AVX) ? CPUID_7_EBX_AVX2 : 0) |
	       ((m & XFEATURE_AVX512) ? CPUID_7_EBX_AVX512 : 0);
}

/*
 * Leaf 0xD: sub-leaf 0 the components offered and the sizes (EBX for the
 * vCPU's XCR0, ECX for all offered), 1 the instructions (no XSAVES, so no
 * IA32_XSS bits) and the compacted size, 2-63 each offered component's
 * size and offset as the CPU gives them; zeros for the rest.
 */
static void cpuid_xsave_leaf(struct vcpu *v, uint32_t sub,
			     struct cpuid_regs *r)
{
	uint64_t m = xsave_guest_mask();

	if (!m || sub >= 64) {
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		return;
	}
	switch (sub) {
	case 0:
		*r = (struct cpuid_regs){ (uint32_t)m,
					  xsave_size(v->arch.xcr0, false),
					  xsave_size(m, false),
					  (uint32_t)(m >> 32) };
		return;
	case 1:
		*r = (struct cpuid_regs){ r->eax & CPUID_D1_EAX_SHOWN,
					  xsave_size(v->arch.xcr0, true),
					  0, 0 };
		return;
	}
	if (!(m & BIT(sub))) {
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
	}
}

static void cpuid_filter(struct vcpu *v, uint32_t leaf, uint32_t sub,
			 struct cpuid_regs *r)
{
	uint32_t xs;

	switch (leaf) {
	case 0:
		if (v->arch.misc_enable & X86_MISC_ENABLE_LIMIT_CPUID) {
			r->eax = MIN(r->eax, 2U);
		}
		break;
	case 1:
		xs = cpuid_1_ecx_xsave();
		r->ecx = (r->ecx & ~CPUID_1_ECX_HIDDEN) |
			 (r->ecx & xs & ~CPUID_1_ECX_OSXSAVE) |
			 (xs & CPUID_1_ECX_OSXSAVE);
		if (!vmx_pcid_usable()) {
			r->ecx &= ~CPUID_1_ECX_PCID;
		}
		/* The local APIC is Strata's (arch/x86/lapic.c). */
		r->ecx |= CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC |
			  CPUID_1_ECX_TSC_DEADLINE;
		r->edx &= ~(CPUID_1_EDX_HIDDEN | CPUID_1_EDX_APIC);
		/* The APIC bit follows IA32_APIC_BASE.EN. */
		if (lapic_enabled(v)) {
			r->edx |= CPUID_1_EDX_APIC;
		}
		r->ebx = (r->ebx & 0xffff) | (v->vm->nr_vcpus << 16) |
			 (v->id << 24);
		/* EBX[23:16] is valid (more than one logical processor). */
		r->edx &= ~CPUID_1_EDX_HTT;
		if (v->vm->nr_vcpus > 1) {
			r->edx |= CPUID_1_EDX_HTT;
		}
		break;
	case 4:
		cpuid_cache_topology(v, r);
		break;
	case 5:		/* MONITOR/MWAIT: refused */
	case 0xa:	/* performance monitoring: RDPMC refused */
		*r = (struct cpuid_regs){ 0, 0, 0, 0 };
		break;
	case 0xd:
		cpuid_xsave_leaf(v, sub, r);
		break;
	case 6:		/* no thermal or power MSRs; the APIC timer never stops */
		*r = (struct cpuid_regs){ CPUID_6_EAX_ARAT, 0, 0, 0 };
		break;
	case 7:
		/* TSC_ADJUST is Strata's (vmx_exit.c), on every CPU. */
		r->ebx = sub ? 0 : (r->ebx & (CPUID_7_EBX_ALLOWED |
					      (vmx_invpcid_usable() ?
					       CPUID_7_EBX_INVPCID : 0) |
					      cpuid_7_ebx_xsave())) |
				   CPUID_7_EBX_TSC_ADJUST;
		/* UMIP works in VMX non-root operation as on bare metal. */
		r->ecx = sub ? 0 : r->ecx & CPUID_7_ECX_UMIP;
		r->eax = r->edx = 0;
		break;
	case 0xb:
	case 0x1f:
		cpuid_topology(v, sub, r);
		break;
	case 0x80000001:
		if (!vmx_rdtscp_usable()) {
			r->edx &= ~CPUID_EXT_EDX_RDTSCP;
		}
		break;
	}
}

/* The leaf CPUID answers for @leaf (beyond the maximum: the highest). */
static uint32_t cpuid_effective_leaf(struct vcpu *v, uint32_t leaf)
{
	uint32_t max;

	if (leaf >= 0x80000000) {
		return leaf;
	}
	max = cpuid(0, 0).eax;
	if (v->arch.misc_enable & X86_MISC_ENABLE_LIMIT_CPUID) {
		max = MIN(max, 2U);
	}
	return leaf > max ? max : leaf;
}

static bool handle_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)*gpr(v, X86_REG_RAX);
	uint32_t sub = (uint32_t)*gpr(v, X86_REG_RCX);
	struct cpuid_regs r;

	if (leaf >= CPUID_HV_BASE && leaf <= CPUID_HV_LAST) {
		r = cpuid_hypervisor(v, leaf);
	} else {
		leaf = cpuid_effective_leaf(v, leaf);
		r = cpuid(leaf, sub);
		if (leaf == 1) {
			/* SDM "Microcode Update Signature" */
			v->arch.ucode_sig = (uint64_t)vmx_caps.ucode_rev << 32;
		}
		cpuid_filter(v, leaf, sub, &r);
	}
	*gpr(v, X86_REG_RAX) = r.eax;
	*gpr(v, X86_REG_RBX) = r.ebx;
	*gpr(v, X86_REG_RCX) = r.ecx;
	*gpr(v, X86_REG_RDX) = r.edx;
	vmx_skip_insn(v);
	return true;
}

/* ---- MSRs -------------------------------------------------------------- */

static int guest_msr_slot(uint32_t msr)
{
	switch (msr) {
	case MSR_STAR:
		return GUEST_MSR_STAR;
	case MSR_LSTAR:
		return GUEST_MSR_LSTAR;
	case MSR_CSTAR:
		return GUEST_MSR_CSTAR;
	case MSR_SFMASK:
		return GUEST_MSR_SFMASK;
	case MSR_KERNEL_GS_BASE:
		return GUEST_MSR_KERNEL_GS_BASE;
	}
	return -1;
}

/* The VMCS field holding MSR @msr for the guest, or 0. */
static uint64_t msr_vmcs_field(uint32_t msr)
{
	switch (msr) {
	case MSR_EFER:
		return VMCS_GUEST_EFER;
	case MSR_IA32_PAT:
		return VMCS_GUEST_PAT;
	case MSR_IA32_SYSENTER_CS:
		return VMCS_GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:
		return VMCS_GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:
		return VMCS_GUEST_SYSENTER_EIP;
	case MSR_FS_BASE:
		return VMCS_GUEST_FS_BASE;
	case MSR_GS_BASE:
		return VMCS_GUEST_GS_BASE;
	}
	return 0;
}

/* The CPU (and so the guest: CPUID passes these through) has @edx_bit. */
static bool cpu_has_1edx(uint32_t edx_bit)
{
	return cpuid(1, 0).edx & edx_bit;
}

/* The MSRs CPUID implies beyond those VMX switches. */
static bool msr_read_other(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	int ret;

	switch (msr) {
	case MSR_IA32_TSC_ADJUST:
		*val = v->arch.tsc_adjust;
		return true;
	case MSR_TSC_AUX:
		*val = v->arch.tsc_aux;
		return vmx_rdtscp_usable();
	case MSR_IA32_MISC_ENABLE:
		*val = v->arch.misc_enable;
		return true;
	case MSR_IA32_MCG_CAP:		/* no banks */
		*val = 0;
		return cpu_has_1edx(CPUID_1_EDX_MCA);
	case MSR_IA32_BIOS_SIGN_ID:
		*val = v->arch.ucode_sig;
		return true;
	case MSR_IA32_MCG_STATUS:
		*val = v->arch.mcg_status;
		return cpu_has_1edx(CPUID_1_EDX_MCA);
	}
	ret = mtrr_msr_read(&v->arch.mtrr, cpu_has_1edx(CPUID_1_EDX_MTRR),
			    msr, val);
	if (ret >= 0) {
		return ret;
	}
	return lapic_msr_read(v, msr, val);
}

/* The allow-list for reads. Return: false to refuse (#GP). */
static bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	uint64_t field = msr_vmcs_field(msr);
	int slot = guest_msr_slot(msr);

	if (field) {
		*val = vmread(field);
	} else if (msr == MSR_KERNEL_GS_BASE) {
		*val = rdmsr(MSR_KERNEL_GS_BASE);	/* the guest's, live */
	} else if (slot >= 0) {
		*val = v->arch.msrs[slot];
	} else if (msr == MSR_IA32_TSC) {
		*val = vmx_guest_tsc(v);
	} else if (msr == MSR_IA32_FEATURE_CONTROL) {
		*val = FEATURE_CONTROL_GUEST;
	} else {
		return msr_read_other(v, msr, val);
	}
	return true;
}

static bool pat_valid(uint64_t pat)
{
	for (unsigned int i = 0; i < 8; i++) {
		uint8_t t = pat >> (8 * i);

		if (t == 2 || t == 3 || t > 7) {
			return false;
		}
	}
	return true;
}

static bool efer_write(uint64_t val)
{
	uint64_t cur = vmread(VMCS_GUEST_EFER);
	uint64_t cr0 = vmread(VMCS_GUEST_CR0);

	if (val & ~(X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA |
		    X86_EFER_NXE)) {
		return false;
	}
	if ((cr0 & X86_CR0_PG) && ((val ^ cur) & X86_EFER_LME)) {
		return false;
	}
	/* LMA is the CPU's to set (on CR0.PG with LME). */
	vmwrite(VMCS_GUEST_EFER, (val & ~X86_EFER_LMA) | (cur & X86_EFER_LMA));
	return true;
}

static bool msr_write_other(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct arch_vcpu *a = &v->arch;
	int ret;

	switch (msr) {
	case MSR_IA32_TSC:
		/* The new value's difference also moves TSC_ADJUST. */
		a->tsc_adjust += val - vmx_guest_tsc(v);
		vmx_set_tsc_offset(v, val - rdtsc());
		return true;
	case MSR_IA32_TSC_ADJUST:
		vmx_set_tsc_offset(v, a->tsc_offset + (val - a->tsc_adjust));
		a->tsc_adjust = val;
		return true;
	case MSR_TSC_AUX:
		if (!vmx_rdtscp_usable() || (val >> 32)) {
			return false;
		}
		a->tsc_aux = val;
		wrmsr(MSR_TSC_AUX, val);
		return true;
	case MSR_IA32_MISC_ENABLE:
		if ((val ^ a->misc_enable) & ~MISC_ENABLE_WRITABLE) {
			return false;
		}
		a->misc_enable = val;
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		/*
		 * Software writes 0 before CPUID leaf 1, which loads the
		 * signature again (handle_cpuid()); nothing is loaded by a
		 * write: a microcode update goes through 0x79, refused.
		 */
		a->ucode_sig = val;
		return true;
	case MSR_IA32_MCG_STATUS:
		if (!cpu_has_1edx(CPUID_1_EDX_MCA) || (val & ~MCG_STATUS_BITS)) {
			return false;
		}
		a->mcg_status = val;
		return true;
	}
	ret = mtrr_msr_write(&a->mtrr, cpu_has_1edx(CPUID_1_EDX_MTRR),
			     mtrr_maxphyaddr(), msr, val);
	if (ret >= 0) {
		return ret;
	}
	return lapic_msr_write(v, msr, val);
}

/* The allow-list for writes. Return: false to refuse (#GP). */
static bool msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	int slot = guest_msr_slot(msr);

	switch (msr) {
	case MSR_EFER:
		return efer_write(val);
	case MSR_IA32_PAT:
		if (!pat_valid(val)) {
			return false;
		}
		vmwrite(VMCS_GUEST_PAT, val);
		return true;
	case MSR_IA32_SYSENTER_CS:
		vmwrite(VMCS_GUEST_SYSENTER_CS, val & 0xffffffff);
		return true;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (!is_canonical(val)) {
			return false;
		}
		vmwrite(msr_vmcs_field(msr), val);
		return true;
	case MSR_SFMASK:
		if (val >> 32) {
			return false;
		}
		break;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
		if (!is_canonical(val)) {
			return false;
		}
		break;
	case MSR_STAR:
		break;
	default:
		return msr_write_other(v, msr, val);
	}
	/* Loaded into the CPU for the rest of this vCPU's slice. */
	v->arch.msrs[slot] = val;
	wrmsr(msr, val);
	return true;
}

static bool handle_msr(struct vcpu *v, bool write)
{
	uint32_t msr = (uint32_t)*gpr(v, X86_REG_RCX);
	uint64_t val = 0;
	bool ok;

	if (write) {
		val = (*gpr(v, X86_REG_RDX) << 32) |
		      (uint32_t)*gpr(v, X86_REG_RAX);
		ok = msr_write(v, msr, val);
	} else {
		ok = msr_read(v, msr, &val);
	}
	if (!ok) {
		vmx_report(v, "%s of MSR 0x%x refused: #GP injected",
			   write ? "WRMSR" : "RDMSR", msr);
		inject_gp(v);
		return true;
	}
	if (!write) {
		*gpr(v, X86_REG_RAX) = (uint32_t)val;
		*gpr(v, X86_REG_RDX) = val >> 32;
	}
	vmx_skip_insn(v);
	return true;
}

/* ---- Control registers ------------------------------------------------- */

/* The CR0 the guest believes it has. */
static uint64_t guest_visible_cr0(void)
{
	uint64_t mask = vmx_cr0_mask();

	return (vmread(VMCS_GUEST_CR0) & ~mask) |
	       (vmread(VMCS_CR0_SHADOW) & mask);
}

/*
 * Turning PAE paging on (outside long mode) loads the four PDPTEs, which
 * with EPT the CPU takes from the VMCS at the next entry. Return: false
 * when they are not in RAM or have reserved bits set (#GP).
 */
static bool load_pdptes(struct vcpu *v)
{
	gpa_t at = vmread(VMCS_GUEST_CR3) & 0xffffffe0;
	const volatile uint64_t *g = vm_gpa_to_host(v->vm, at, 4 * sizeof(*g));
	uint64_t p[4];

	if (!g) {
		return false;
	}
	/* Read guest memory once: what is checked is what is loaded. */
	for (unsigned int i = 0; i < 4; i++) {
		p[i] = g[i];
	}
	for (unsigned int i = 0; i < 4; i++) {
		/* Present entries: bits 2:1, 8:5 and 63:52 are reserved. */
		if ((p[i] & 1) && (p[i] & (GENMASK(63, 52) | 0x1e6))) {
			return false;
		}
	}
	for (unsigned int i = 0; i < 4; i++) {
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, p[i]);
	}
	return true;
}

static bool cr0_write(struct vcpu *v, uint64_t val)
{
	uint64_t old = guest_visible_cr0();
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	uint64_t entry = vmread(VMCS_ENTRY_CONTROLS);
	bool pae = vmread(VMCS_GUEST_CR4) & X86_CR4_PAE;
	bool pg_on = (val & X86_CR0_PG) && !(old & X86_CR0_PG);
	bool pg_off = !(val & X86_CR0_PG) && (old & X86_CR0_PG);

	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD))) {
		return false;
	}
	if (pg_on && (efer & X86_EFER_LME)) {
		if (!pae) {
			return false;
		}
		efer |= X86_EFER_LMA;
		entry |= ENTRY_GUEST_64BIT;
	} else if (pg_on && pae && !load_pdptes(v)) {
		return false;
	} else if (pg_off && (efer & X86_EFER_LMA)) {
		/* Leaving long mode is allowed from compatibility mode only. */
		if (vmread(VMCS_GUEST_CS_AR) & AR_L) {
			return false;
		}
		efer &= ~X86_EFER_LMA;
		entry &= ~ENTRY_GUEST_64BIT;
	}
	vmwrite(VMCS_GUEST_EFER, efer);
	vmwrite(VMCS_ENTRY_CONTROLS, entry);
	vmwrite(VMCS_CR0_SHADOW, val);
	vmwrite(VMCS_GUEST_CR0, vmx_guest_cr0(val));
	return true;
}

static bool cr4_write(uint64_t val)
{
	if (val & ~vmx_cr4_allowed()) {
		return false;
	}
	if ((vmread(VMCS_GUEST_EFER) & X86_EFER_LMA) && !(val & X86_CR4_PAE)) {
		return false;
	}
	vmwrite(VMCS_CR4_SHADOW, val);
	vmwrite(VMCS_GUEST_CR4, vmx_guest_cr4(val));
	return true;
}

static bool handle_cr(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned int cr = CR_QUAL_NUM(q), reg = CR_QUAL_REG(q);
	uint64_t val = *gpr(v, reg);
	bool ok;

	/* Outside 64-bit mode MOV to CR uses the register's low 32 bits. */
	if (!guest_in_64bit_mode()) {
		val = (uint32_t)val;
	}
	switch (CR_QUAL_TYPE(q)) {
	case CR_MOV_TO:
		if (cr == 0) {
			ok = cr0_write(v, val);
		} else if (cr == 4) {
			ok = cr4_write(val);
		} else if (cr == 8) {
			ok = val <= 0xf;
			if (ok) {
				lapic_write_cr8(v, val);
			}
		} else {
			goto unexpected;
		}
		break;
	case CR_MOV_FROM:
		if (cr != 8) {
			goto unexpected;
		}
		*gpr(v, reg) = lapic_read_cr8(v);
		ok = true;
		break;
	case CR_CLTS:
		ok = cr0_write(v, guest_visible_cr0() & ~X86_CR0_TS);
		break;
	default: /* LMSW: may set PE, never clears it */
		val = guest_visible_cr0();
		ok = cr0_write(v, (val & ~0xfULL) | (val & X86_CR0_PE) |
			       (CR_QUAL_LMSW_SRC(q) & 0xf));
		break;
	}
	if (!ok) {
		vmx_report(v, "MOV to CR%u of 0x%llx refused: #GP injected", cr,
			   (unsigned long long)val);
		inject_gp(v);
		return true;
	}
	vmx_skip_insn(v);
	return true;

unexpected:
	vm_fail(v->vm, "unexpected CR access (qual 0x%llx) at RIP 0x%llx",
		(unsigned long long)q,
		(unsigned long long)vmread(VMCS_GUEST_RIP));
	return false;
}

/* ---- I/O, HLT, VMCALL -------------------------------------------------- */

static bool handle_io(struct vcpu *v)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned int size = IO_QUAL_SIZE(q), port = IO_QUAL_PORT(q);
	uint64_t mask = size == 4 ? 0xffffffffULL : (1ULL << (8 * size)) - 1;
	uint64_t *rax = gpr(v, X86_REG_RAX);
	uint64_t val = 0;

	vmx_note_io_access(v, port, size);
	if (q & IO_QUAL_STRING) {
		return vmx_handle_string_io(v, q);
	}
	if (q & IO_QUAL_IN) {
		vm_io_access(v, IO_PIO, port, size, false, &val);
		/* IN EAX clears RAX[63:32]; IN AL/AX keep the rest. */
		*rax = size == 4 ? (uint32_t)val :
				   (*rax & ~mask) | (val & mask);
	} else {
		val = *rax & mask;
		vm_io_access(v, IO_PIO, port, size, true, &val);
	}
	vmx_skip_insn(v);
	return vm_running(v->vm);
}

/*
 * XSETBV (it always exits). #UD without CR4.OSXSAVE and #GP(0) at CPL > 0
 * come before the exit on hardware; they are checked again here in case a
 * CPU lets them through. The value's checks are xsave_setbv()'s.
 */
static bool handle_xsetbv(struct vcpu *v)
{
	unsigned int cpl = (vmread(VMCS_GUEST_SS_AR) >> AR_DPL_SHIFT) & 3;
	uint64_t val = (uint32_t)*gpr(v, X86_REG_RAX) |
		       ((uint64_t)(uint32_t)*gpr(v, X86_REG_RDX) << 32);

	if (!(vmread(VMCS_GUEST_CR4) & X86_CR4_OSXSAVE)) {
		inject_ud(v);
		return true;
	}
	if (cpl || !xsave_setbv(v, (uint32_t)*gpr(v, X86_REG_RCX), val)) {
		inject_gp(v);
		return true;
	}
	vmx_skip_insn(v);
	return true;
}

/*
 * HLT: the vCPU waits (vmx_run.c) until an interrupt it can take arrives
 * or, with RFLAGS.IF clear, until an INIT. When no other vCPU could ever
 * send one, nothing can wake it: the VM is stopped.
 */
static bool handle_hlt(struct vcpu *v)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	bool irq_on = vmread(VMCS_GUEST_RFLAGS) & X86_RFLAGS_IF;

	vmx_skip_insn(v);
	x86_pcdev_poll(v->vm);
	lapic_update_timer(v);
	if (irq_on && (lapic_pending_vector(v) >= 0 ||
		       x86_extint_pending(v))) {
		return true;	/* taken at once: HLT completes */
	}
	v->arch.mp = X86_MP_HALTED;
	v->arch.halt_if = irq_on;
	if (!irq_on && !vmx_vm_can_wake(v->vm, v)) {
		vm_fail(v->vm, "vCPU %u halted with interrupts off at RIP 0x%llx: nothing can wake it",
			v->id, (unsigned long long)rip);
	}
	return false;
}

static bool handle_vmcall(struct vcpu *v)
{
	bool wide = guest_in_64bit_mode();
	uint64_t mask = wide ? ~0ULL : 0xffffffffULL;
	unsigned int cpl = (vmread(VMCS_GUEST_SS_AR) >> AR_DPL_SHIFT) & 3;
	uint64_t a[3], value = *gpr(v, X86_REG_RBX);
	long status;

	vmx_skip_insn(v);
	if (cpl) {
		*gpr(v, X86_REG_RAX) = (uint64_t)(long)STRATA_HC_DENIED & mask;
		return true;
	}
	a[0] = *gpr(v, X86_REG_RBX) & mask;
	a[1] = *gpr(v, X86_REG_RCX) & mask;
	a[2] = *gpr(v, X86_REG_RDX) & mask;
	status = vm_hypercall(v, *gpr(v, X86_REG_RAX) & mask, a, &value);
	*gpr(v, X86_REG_RAX) = (uint64_t)status & mask;
	*gpr(v, X86_REG_RBX) = value & mask;
	return vm_running(v->vm);
}

/* ---- The dispatcher ---------------------------------------------------- */

/*
 * An exit that interrupted the delivery of an event (an EPT violation on
 * the guest's IDT or stack, say) must deliver it again at the next entry.
 */
static void reinject_vectoring_event(void)
{
	uint64_t info = vmread(VMCS_IDT_VECTORING_INFO);

	if (!(info & INTR_INFO_VALID)) {
		return;
	}
	if (info & INTR_INFO_ERROR_CODE) {
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR,
			vmread(VMCS_IDT_VECTORING_ERROR));
	}
	/* The frame of a fault holds RF = 1, however far delivery got. */
	if (((info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) ==
	    INTR_TYPE_HW_EXCEPTION) {
		vmx_set_fault_rf(info & INTR_INFO_VECTOR_MASK);
	}
	vmwrite(VMCS_ENTRY_INSN_LEN, vmread(VMCS_EXIT_INSN_LEN));
	vmwrite(VMCS_ENTRY_INTR_INFO, info & (INTR_INFO_VALID |
					      INTR_INFO_ERROR_CODE |
					      INTR_INFO_TYPE_MASK |
					      INTR_INFO_VECTOR_MASK));
}

static bool entry_failure(struct vcpu *v, uint32_t reason)
{
	const char *why = "unknown reason";

	switch (reason & 0xffff) {
	case EXIT_REASON_INVALID_STATE:
		why = "invalid guest state";
		break;
	case EXIT_REASON_MSR_LOADING:
		why = "MSR loading";
		break;
	case EXIT_REASON_MACHINE_CHECK:
		why = "machine check";
		break;
	}
	vm_fail(v->vm, "VM entry failed: %s (reason %u, qual %llu, RIP 0x%llx)",
		why, reason & 0xffff,
		(unsigned long long)vmread(VMCS_EXIT_QUALIFICATION),
		(unsigned long long)vmread(VMCS_GUEST_RIP));
	return false;
}

static bool handle_exception_nmi(struct vcpu *v)
{
	uint64_t info = vmread(VMCS_EXIT_INTR_INFO);
	unsigned int type;

	type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	/* A host NMI: nothing to do for the guest. */
	if (type == INTR_TYPE_NMI) {
		return true;
	}
	vm_fail(v->vm, "unexpected exception exit: vector %llu at RIP 0x%llx",
		(unsigned long long)(info & INTR_INFO_VECTOR_MASK),
		(unsigned long long)vmread(VMCS_GUEST_RIP));
	return false;
}

static bool refuse_ud(struct vcpu *v, const char *what)
{
	vmx_report(v, "%s at RIP 0x%llx refused: #UD injected", what,
		   (unsigned long long)vmread(VMCS_GUEST_RIP));
	inject_ud(v);
	return true;
}

bool vmx_handle_exit(struct vcpu *v)
{
	uint32_t reason = vmread(VMCS_EXIT_REASON);

	if (reason & EXIT_REASON_ENTRY_FAILED) {
		return entry_failure(v, reason);
	}
	reinject_vectoring_event();
	v->arch.db_hits = 0;
	switch (reason & 0xffff) {
	case EXIT_REASON_EXCEPTION_NMI:
		return handle_exception_nmi(v);
	case EXIT_REASON_EXTERNAL_INTERRUPT: {
		uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
		int vec = info & INTR_INFO_VALID ? (int)(info & 0xff) : -1;

		/*
		 * A kick (arch/x86/percpu.c) or the idle timer: the local
		 * APIC's EOI. Anything else came through the PICs, which
		 * are masked; acknowledge there to be sure.
		 */
		if (vec != X86_VEC_KICK && vec != X86_VEC_IDLE_TIMER &&
		    vec >= 0) {
			outb(PIC2_CMD, PIC_EOI);
			outb(PIC1_CMD, PIC_EOI);
		}
		x86_exit_irq(vec);
		return true;
	}
	case EXIT_REASON_TRIPLE_FAULT:
		vm_fail(v->vm, "triple fault (vCPU %u, RIP 0x%llx)", v->id,
			(unsigned long long)vmread(VMCS_GUEST_RIP));
		return false;
	case EXIT_REASON_CPUID:
		return handle_cpuid(v);
	case EXIT_REASON_HLT:
		return handle_hlt(v);
	case EXIT_REASON_INVD:
	case EXIT_REASON_WBINVD:
		/* Caches are coherent: nothing to write back. */
		vmx_skip_insn(v);
		return true;
	case EXIT_REASON_VMCALL:
		return handle_vmcall(v);
	case EXIT_REASON_CR_ACCESS:
		return handle_cr(v);
	case EXIT_REASON_IO:
		return handle_io(v);
	case EXIT_REASON_RDMSR:
		return handle_msr(v, false);
	case EXIT_REASON_WRMSR:
		return handle_msr(v, true);
	case EXIT_REASON_EPT_VIOLATION:
		return vmx_handle_ept(v, false);
	case EXIT_REASON_EPT_MISCONFIG:
		return vmx_handle_ept(v, true);
	case EXIT_REASON_PREEMPT_TIMER:
		/* The slice's end or a timer of the APIC: vmx_run.c decides. */
		return true;
	case EXIT_REASON_INTR_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
		/* Injected at the next entry (vmx_run.c). */
		return true;
	case EXIT_REASON_GETSEC:
		return refuse_ud(v, "GETSEC");
	case EXIT_REASON_VMCLEAR ... EXIT_REASON_VMXON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
		return refuse_ud(v, "VMX instruction");
	case EXIT_REASON_MONITOR:
	case EXIT_REASON_MWAIT:
		return refuse_ud(v, "MONITOR/MWAIT");
	case EXIT_REASON_VMFUNC:
		/* A VM function or EPTP list entry Strata does not offer. */
		return refuse_ud(v, "VMFUNC");
	case EXIT_REASON_XSETBV:
		return handle_xsetbv(v);
	case EXIT_REASON_RDPMC:
		vmx_report(v, "RDPMC at RIP 0x%llx refused: #GP injected",
			   (unsigned long long)vmread(VMCS_GUEST_RIP));
		inject_gp(v);
		return true;
	}
	vm_fail(v->vm, "unexpected VM exit %u (qual 0x%llx) at RIP 0x%llx",
		reason & 0xffff,
		(unsigned long long)vmread(VMCS_EXIT_QUALIFICATION),
		(unsigned long long)vmread(VMCS_GUEST_RIP));
	return false;
}
