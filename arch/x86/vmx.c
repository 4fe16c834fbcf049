// SPDX-License-Identifier: MIT
/*
 * Turning VMX on: check that the CPU has every VMX feature Strata needs,
 * make CR0/CR4 acceptable to VMX, enable VMXON in IA32_FEATURE_CONTROL if
 * the firmware left it unlocked, and execute VMXON on a fresh region.
 * After VMXON the EPT flush executor may issue INVEPT.
 */
#include <arch/cpu.h>
#include <arch/ept_flush.h>
#include <arch/smp.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/xsave.h>
#include <core/arch.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <mm/palloc.h>

struct vmx_caps vmx_caps;

struct vmx_need {
	const char *name;
	bool (*has)(const struct vmx_caps *c);
};

static bool has_secondary(const struct vmx_caps *c)
{
	return c->proc_allowed1 & VMX_PROC_SECONDARY;
}

static bool has_ept(const struct vmx_caps *c)
{
	return vmx_has_proc2(c, VMX_PROC2_EPT) &&
	       vmx_has_ept_cap(c, VMX_EPT_WALK_4) &&
	       vmx_has_ept_cap(c, VMX_EPT_WB);
}

static bool has_vpid(const struct vmx_caps *c)
{
	return vmx_has_proc2(c, VMX_PROC2_VPID) &&
	       vmx_has_ept_cap(c, VMX_VPID_INVVPID);
}

static bool has_unrestricted(const struct vmx_caps *c)
{
	return vmx_has_proc2(c, VMX_PROC2_UNRESTRICTED);
}

static bool has_invept_single(const struct vmx_caps *c)
{
	return vmx_has_ept_cap(c, VMX_EPT_INVEPT) &&
	       vmx_has_ept_cap(c, VMX_EPT_INVEPT_SINGLE);
}

static bool allows1(uint64_t cap, uint32_t bits)
{
	return ((cap >> 32) & bits) == bits;
}

static bool has_preempt_timer(const struct vmx_caps *c)
{
	return allows1(c->pin, PIN_PREEMPT_TIMER);
}

static bool has_efer_switch(const struct vmx_caps *c)
{
	return allows1(c->exit, EXIT_SAVE_EFER | EXIT_LOAD_EFER) &&
	       allows1(c->entry, ENTRY_LOAD_EFER);
}

static bool has_msr_bitmap(const struct vmx_caps *c)
{
	return allows1(c->proc, PROC_MSR_BITMAP | PROC_IO_EXITING |
			       PROC_HLT_EXITING);
}

static const struct vmx_need vmx_needs[] = {
	{ "secondary processor-based controls", has_secondary },
	{ "EPT (4-level, write-back)", has_ept },
	{ "VPID with INVVPID", has_vpid },
	{ "unrestricted guest", has_unrestricted },
	{ "INVEPT single-context", has_invept_single },
	{ "VMX-preemption timer", has_preempt_timer },
	{ "IA32_EFER load/save", has_efer_switch },
	{ "MSR bitmaps, I/O and HLT exiting", has_msr_bitmap },
};

static int check_needs(const struct vmx_caps *c)
{
	int missing = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(vmx_needs); i++) {
		if (!vmx_needs[i].has(c)) {
			pr_err("vmx: missing required feature: %s\n",
			       vmx_needs[i].name);
			missing++;
		}
	}
	return missing ? -ENODEV : 0;
}

int vmx_adjust_controls(const char *what, uint64_t cap, uint32_t want,
			uint32_t optional, uint32_t *out)
{
	uint32_t allowed0 = (uint32_t)cap, allowed1 = cap >> 32;
	uint32_t missing = want & ~allowed1;

	if (missing) {
		pr_err("vmx: %s controls 0x%x not supported (allowed 0x%x)\n",
		       what, missing, allowed1);
		return -ENODEV;
	}
	*out = (want | (optional & allowed1) | allowed0) & allowed1;
	return 0;
}

static int enable_feature_control(const struct vmx_caps *c)
{
	uint64_t fc = c->feature_control;

	if (fc & FEATURE_CONTROL_LOCKED) {
		if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
			pr_err("vmx: disabled by the firmware (IA32_FEATURE_CONTROL 0x%llx locked)\n",
			       (unsigned long long)fc);
			return -ENODEV;
		}
		return 0;
	}
	wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCKED |
	      FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
	return 0;
}

/*
 * Force the bits VMX fixes to 1 and clear those it fixes to 0. OSFXSR lets
 * the run loop keep each guest's SSE registers with FXSAVE / FXRSTOR, and
 * OSXSAVE (arch/xsave.h, where the CPU has XSAVE) with XSAVE / XRSTOR.
 */
static void fix_control_registers(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4() | X86_CR4_VMXE |
					 X86_CR4_OSFXSR;

	cr0 |= rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	cr0 &= rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	cr4 |= rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	cr4 &= rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	write_cr0(cr0);
	write_cr4(cr4);
	xsave_cpu_init();
}

/* VMXON; true on success (neither CF nor ZF set). */
static bool vmxon(paddr_t region)
{
	bool fail;

	__asm__ volatile("vmxon %1\n\t"
		     "setna %0"
		     : "=q"(fail) : "m"(region) : "cc", "memory");
	return !fail;
}

/* This CPU's VMXON region (its page stays VMX's until teardown). */
static int enter_vmx_root(const struct vmx_caps *c, unsigned int cpu)
{
	uint32_t rev = c->basic & VMX_BASIC_REVISION_MASK;
	uint32_t *region = palloc_page_zeroed();
	paddr_t pa = (paddr_t)(uintptr_t)region;

	if (!region) {
		pr_err("vmx: no memory for the VMXON region\n");
		return -ENOMEM;
	}
	if ((c->basic & VMX_BASIC_PA_32BIT) && pa >= BIT(32)) {
		pr_err("vmx: VMXON region 0x%llx above 4 GiB\n",
		       (unsigned long long)pa);
		palloc_free(pa, 1);
		return -ENOMEM;
	}
	region[0] = rev;
	fix_control_registers();
	if (!vmxon(pa)) {
		pr_err("vmx: VMXON failed (region 0x%llx)\n",
		       (unsigned long long)pa);
		write_cr4(read_cr4() & ~X86_CR4_VMXE);
		palloc_free(pa, 1);
		return -EIO;
	}
	if (cpu) {
		return 0;	/* the rest is shared, set up by the boot CPU */
	}
	pr_info("vmx: VMXON ok (revision 0x%x)\n", rev);
	ept_invept_ready = true;
	return vmx_msr_bitmap_init();
}

/*
 * Guests run with external-interrupt exiting and Strata has no interrupt
 * handlers: mask the legacy PICs the BIOS programmed so that their timer
 * does not keep interrupting guests.
 */
static void mask_legacy_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

int arch_virt_init(void)
{
	struct vmx_caps c;
	int ret;

	vmx_read_caps(&c);
	if (!c.present) {
		pr_err("vmx: this CPU has no VMX (Intel VT-x); Strata cannot run guests here\n");
		return -ENODEV;
	}
	vmx_caps = c;
	ret = check_needs(&c);
	if (!ret) {
		vmx_report_optional(&c);
	}
	if (!ret) {
		ret = enable_feature_control(&c);
	}
	if (!ret) {
		ret = enter_vmx_root(&c, 0);
	}
	if (!ret) {
		mask_legacy_pic();
	}
	return ret;
}

/*
 * The capabilities a VMCS set up on the boot CPU depends on: its revision
 * and layout (IA32_VMX_BASIC), the controls and EPT/VPID features it was
 * adjusted to, the fixed CR0/CR4 bits. A CPU that differs could not run
 * the vCPUs placed on it.
 */
static bool same_caps(const struct vmx_caps *a, const struct vmx_caps *b)
{
	return a->basic == b->basic && a->pin == b->pin &&
	       a->proc == b->proc && a->proc2 == b->proc2 &&
	       a->exit == b->exit && a->entry == b->entry &&
	       a->ept_vpid == b->ept_vpid && a->misc == b->misc &&
	       a->cr0_fixed0 == b->cr0_fixed0 &&
	       a->cr0_fixed1 == b->cr0_fixed1 &&
	       a->cr4_fixed0 == b->cr4_fixed0 &&
	       a->cr4_fixed1 == b->cr4_fixed1 && a->vmfunc == b->vmfunc;
}

int vmx_cpu_init(unsigned int cpu)
{
	struct vmx_caps c;
	int ret;

	vmx_read_caps(&c);
	if (!c.present) {
		pr_err("vmx: CPU %u has no VMX (Intel VT-x)\n", cpu);
		return -ENODEV;
	}
	ret = check_needs(&c);
	if (!ret && !same_caps(&c, &vmx_caps)) {
		pr_err("vmx: CPU %u has other VMX capabilities than the boot CPU\n",
		       cpu);
		ret = -ENODEV;
	}
	if (!ret) {
		ret = enable_feature_control(&c);
	}
	if (!ret) {
		ret = enter_vmx_root(&c, cpu);
	}
	return ret;
}
