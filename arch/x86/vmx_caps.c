// SPDX-License-Identifier: MIT
/*
 * What the CPU says about itself: vendor and model from CPUID, then the
 * VMX capability MSRs, one line per feature Strata cares about. The line
 * wording is stable: boot tests match it.
 */
#include <arch/cpu.h>
#include <arch/vmx.h>
#include <core/arch.h>
#include <lib/printk.h>
#include <lib/string.h>

#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_EXT_ECX_SVM	BIT(2)

void vmx_read_caps(struct vmx_caps *c)
{
	bool true_ctls;

	memset(c, 0, sizeof(*c));
	c->present = cpuid(1, 0).ecx & CPUID_1_ECX_VMX;
	if (!c->present) {
		return;
	}
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
		report_vmx(&c);
	} else {
		report_no_vmx();
	}
}
