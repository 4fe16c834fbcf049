// SPDX-License-Identifier: MIT
/*
 * What the CPU says about itself: vendor and model from CPUID, then the
 * VMX capability MSRs, one line per feature Strata cares about. The line
 * wording is stable: boot tests match it.
 */
#include <arch/cpu.h>
#include <arch/mtrr.h>
#include <arch/ept.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <core/arch.h>
#include <lib/printk.h>
#include <lib/string.h>

#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_EXT_ECX_SVM	BIT(2)

static void apply_hides(struct vmx_caps *c);

void vmx_read_caps(struct vmx_caps *c)
{
	bool true_ctls;

	memset(c, 0, sizeof(*c));
	c->present = cpuid(1, 0).ecx & CPUID_1_ECX_VMX;
	if (!c->present) {
		return;
	}
	/*
	 * The microcode revision as the SDM reads it ("Microcode Update
	 * Signature"): 0 written, CPUID leaf 1, then bits 63:32. Every
	 * Intel CPU since the P6 family has the MSR, and VMX is Intel's.
	 */
	wrmsr(MSR_IA32_BIOS_SIGN_ID, 0);
	(void)cpuid(1, 0);
	c->ucode_rev = (uint32_t)(rdmsr(MSR_IA32_BIOS_SIGN_ID) >> 32);
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
	true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
	c->pin = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
			MSR_IA32_VMX_PINBASED_CTLS);
	c->proc = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
			 MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
			 MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
			  MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	c->proc_allowed1 = c->proc >> 32;
	if (!(c->proc_allowed1 & VMX_PROC_SECONDARY)) {
		return;
	}
	c->proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	c->proc2_allowed1 = c->proc2 >> 32;
	if (c->proc2_allowed1 & (VMX_PROC2_EPT | VMX_PROC2_VPID)) {
		c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
	if (c->proc2_allowed1 & VMX_PROC2_VMFUNC) {
		c->vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
	}
	apply_hides(c);
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void report_cpu(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	char vendor[13], brand[49] = "";
	const char *b = brand;
	uint32_t sig = cpuid(1, 0).eax;
	unsigned int family = (sig >> 8) & 0xf, model = (sig >> 4) & 0xf;

	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = '\0';
	if (family == 6 || family == 15) {
		model |= ((sig >> 16) & 0xf) << 4;
	}
	if (family == 15) {
		family += (sig >> 20) & 0xff;
	}
	if (cpuid(0x80000000, 0).eax >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i, 0);
			memcpy(brand + 16 * i, &r, 16);
		}
		brand[48] = '\0';
	}
	while (*b == ' ') {
		b++;
	}
	pr_info("cpu: %s family 0x%x model 0x%x stepping %u '%s'\n", vendor,
		family, model, sig & 0xf, b);
}

static void report_no_vmx(void)
{
	bool svm = cpuid(0x80000000, 0).eax >= 0x80000001 &&
		   (cpuid(0x80000001, 0).ecx & CPUID_EXT_ECX_SVM);

	pr_info("vmx: not present (CPUID.1:ECX.VMX is 0)%s\n",
		svm ? "; AMD SVM present, no backend for it yet" : "");
}

static void report_vmx(const struct vmx_caps *c)
{
	pr_info("vmx: present, VMCS revision 0x%llx, feature control 0x%llx (%s)\n",
		(unsigned long long)(c->basic & VMX_BASIC_REVISION_MASK),
		(unsigned long long)c->feature_control,
		(c->feature_control & FEATURE_CONTROL_LOCKED) ?
		"locked" : "unlocked");
	pr_info("vmx: secondary controls %s\n",
		yes_no(c->proc_allowed1 & VMX_PROC_SECONDARY));
	pr_info("vmx: EPT %s\n", yes_no(vmx_has_proc2(c, VMX_PROC2_EPT)));
	pr_info("vmx: VPID %s\n", yes_no(vmx_has_proc2(c, VMX_PROC2_VPID)));
	pr_info("vmx: unrestricted guest %s\n",
		yes_no(vmx_has_proc2(c, VMX_PROC2_UNRESTRICTED)));
	pr_info("vmx: EPT-violation #VE %s\n",
		yes_no(vmx_has_proc2(c, VMX_PROC2_EPT_VE)));
	pr_info("vmx: VM functions %s (EPTP switching %s), PML %s\n",
		yes_no(vmx_has_proc2(c, VMX_PROC2_VMFUNC)),
		yes_no(c->vmfunc & VMX_VMFUNC_EPTP_SWITCHING),
		yes_no(vmx_has_proc2(c, VMX_PROC2_PML)));
	pr_info("vmx: INVEPT single-context %s all-context %s\n",
		yes_no(vmx_has_ept_cap(c, VMX_EPT_INVEPT_SINGLE)),
		yes_no(vmx_has_ept_cap(c, VMX_EPT_INVEPT_ALL)));
	pr_info("vmx: EPT 2M pages %s 1G pages %s\n",
		yes_no(vmx_has_ept_cap(c, VMX_EPT_2M)),
		yes_no(vmx_has_ept_cap(c, VMX_EPT_1G)));
	pr_info("vmx: EPT A/D %s\n", yes_no(vmx_has_ept_cap(c, VMX_EPT_AD)));
	pr_info("vmx: execute-only %s\n",
		yes_no(vmx_has_ept_cap(c, VMX_EPT_EXECUTE_ONLY)));
}

void arch_report_virt_features(void)
{
	struct vmx_caps c;

	report_cpu();
	vmx_read_caps(&c);
	if (c.present) {
		pr_info("cpu: microcode revision 0x%x\n", c.ucode_rev);
		report_vmx(&c);
	} else {
		report_no_vmx();
	}
}

/*
 * The optional VMX features Strata uses, and what it does without each
 * (what a nested hypervisor, QEMU/KVM among them, may hide from it).
 */
struct vmx_optional {
	const char *hide;	/* the x86_vmx_hide= name */
	const char *name;
	const char *without;
	bool (*has)(const struct vmx_caps *c);
};

static bool has_ve(const struct vmx_caps *c)
{
	return vmx_has_proc2(c, VMX_PROC2_EPT_VE);
}

static bool has_vmfunc(const struct vmx_caps *c)
{
	return vmx_has_proc2(c, VMX_PROC2_VMFUNC) &&
	       (c->vmfunc & VMX_VMFUNC_EPTP_SWITCHING);
}

static bool has_ept_1g(const struct vmx_caps *c)
{
	return vmx_has_ept_cap(c, VMX_EPT_1G);
}

static bool has_ept_2m(const struct vmx_caps *c)
{
	return vmx_has_ept_cap(c, VMX_EPT_2M);
}

static bool has_rdtscp(const struct vmx_caps *c)
{
	return vmx_has_proc2(c, VMX_PROC2_RDTSCP);
}

static bool has_invpcid(const struct vmx_caps *c)
{
	return vmx_has_proc2(c, VMX_PROC2_INVPCID);
}

static bool has_insouts(const struct vmx_caps *c)
{
	return c->basic & VMX_BASIC_INSOUTS_INFO;
}

static bool has_pat(const struct vmx_caps *c)
{
	return (c->exit & ((uint64_t)EXIT_LOAD_PAT << 32)) &&
	       (c->entry & ((uint64_t)ENTRY_LOAD_PAT << 32));
}

static bool has_invvpid_single(const struct vmx_caps *c)
{
	return vmx_has_ept_cap(c, VMX_VPID_INVVPID_SINGLE);
}

static const struct vmx_optional vmx_optional[] = {
	{ "ve", "EPT-violation #VE", "VMs with ve = on are refused", has_ve },
	{ "vmfunc", "VM functions with EPTP switching",
	  "views switch by hypercall only; a guest's VMFUNC gets #UD",
	  has_vmfunc },
	{ "ept1g", "EPT 1 GiB pages",
	  "guest memory is mapped with 2 MiB blocks at most", has_ept_1g },
	{ "ept2m", "EPT 2 MiB pages",
	  "guest memory is mapped with 4 KiB pages only", has_ept_2m },
	{ "rdtscp", "RDTSCP in VMX non-root operation",
	  "RDTSCP is hidden from guests (CPUID) and gets #UD", has_rdtscp },
	{ "invpcid", "INVPCID in VMX non-root operation",
	  "INVPCID is hidden from guests (CPUID) and gets #UD", has_invpcid },
	{ "insouts", "INS/OUTS exit information",
	  "guests' string port I/O (INS/OUTS) gets #GP", has_insouts },
	{ "pat", "IA32_PAT load and save",
	  "guests run with the hypervisor's PAT", has_pat },
	{ "invvpid1", "single-context INVVPID",
	  "INVVPID flushes every VPID", has_invvpid_single },
};

void vmx_report_optional(const struct vmx_caps *c)
{
	unsigned int missing = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(vmx_optional); i++) {
		const struct vmx_optional *o = &vmx_optional[i];

		if (!o->has(c)) {
			pr_warn("vmx: optional feature missing: %s: %s\n",
				o->name, o->without);
			missing++;
		}
	}
	if (!missing) {
		pr_info("vmx: every optional feature Strata uses is present\n");
	}
	ept_block_levels = BIT(0);
	if (has_ept_2m(c)) {
		ept_block_levels |= BIT(1);
		if (has_ept_1g(c)) {
			ept_block_levels |= BIT(2);
		}
	}
}

#ifdef CONFIG_TEST
/* Features x86_vmx_hide= removes: bits of the capability words. */
struct vmx_hide {
	const char *name;
	uint64_t proc2, ept_vpid, basic, exit, entry, pin;
	bool vmfunc;
};

static const struct vmx_hide vmx_hides[] = {
	{ .name = "ve", .proc2 = VMX_PROC2_EPT_VE },
	{ .name = "vmfunc", .proc2 = VMX_PROC2_VMFUNC, .vmfunc = true },
	{ .name = "ept1g", .ept_vpid = VMX_EPT_1G },
	{ .name = "ept2m", .ept_vpid = VMX_EPT_2M | VMX_EPT_1G },
	{ .name = "rdtscp", .proc2 = VMX_PROC2_RDTSCP },
	{ .name = "insouts", .basic = VMX_BASIC_INSOUTS_INFO },
	{ .name = "invpcid", .proc2 = VMX_PROC2_INVPCID },
	{ .name = "pat", .exit = EXIT_LOAD_PAT | EXIT_SAVE_PAT,
	  .entry = ENTRY_LOAD_PAT },
	{ .name = "invvpid1", .ept_vpid = VMX_VPID_INVVPID_SINGLE },
	{ .name = "pml", .proc2 = VMX_PROC2_PML },
	/* Required ones, to show the refusal. */
	{ .name = "vpid", .proc2 = VMX_PROC2_VPID },
	{ .name = "ept", .proc2 = VMX_PROC2_EPT },
	{ .name = "unrestricted", .proc2 = VMX_PROC2_UNRESTRICTED },
	{ .name = "preempt", .pin = PIN_PREEMPT_TIMER },
};

static uint32_t vmx_hidden;	/* bit i: vmx_hides[i] */

void vmx_hide_parse(const char *v, size_t len)
{
	while (len) {
		size_t n = 0;
		bool found = false;

		while (n < len && v[n] != ',') {
			n++;
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(vmx_hides); i++) {
			if (strlen(vmx_hides[i].name) == n &&
			    !strncmp(v, vmx_hides[i].name, n)) {
				vmx_hidden |= BIT(i);
				found = true;
			}
		}
		if (!found) {
			pr_warn("selftest: unknown x86_vmx_hide feature '%.*s'\n",
				(int)n, v);
		}
		v += n < len ? n + 1 : n;
		len -= n < len ? n + 1 : n;
	}
}

/* A control's allowed-1 half is bits 63:32 of its capability MSR. */
static void apply_hides(struct vmx_caps *c)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(vmx_hides); i++) {
		const struct vmx_hide *h = &vmx_hides[i];

		if (!(vmx_hidden & BIT(i))) {
			continue;
		}
		c->proc2 &= ~(h->proc2 << 32);
		c->proc2_allowed1 &= ~(uint32_t)h->proc2;
		c->ept_vpid &= ~h->ept_vpid;
		c->basic &= ~h->basic;
		c->exit &= ~(h->exit << 32);
		c->entry &= ~(h->entry << 32);
		c->pin &= ~(h->pin << 32);
		if (h->vmfunc) {
			c->vmfunc = 0;
		}
	}
}
#else
static void apply_hides(struct vmx_caps *c)
{
	(void)c;
}
#endif
