// SPDX-License-Identifier: MIT
/*
 * Deliberate exceptions for the boot tests (`selftest=fault`). The kind is
 * chosen with the x86-only word `x86_fault=` on the command line:
 *   ud  invalid opcode (#UD, vector 6), the default
 *   pf  read of an unmapped address (#PF, vector 14, CR2 = that address)
 *   df  #UD with RSP on an unmapped address: delivering it faults, and so
 *       does delivering that #PF, so the CPU raises #DF, which runs on its
 *       own interrupt stack and still gives a dump
 *   nested  #UD, and (test builds) the handler faults while dumping it
 *
 * Test builds also take `x86_vmx_break=state:NAME` or `control:NAME`: the
 * VMCS of VM NAME gets an invalid guest state (CR0.PG without PE) or an
 * invalid control (too many CR3 targets), so that its first VM entry fails
 * and the boot tests can see that only that VM is stopped. And
 * `x86_vmx_hide=NAME[,NAME...]`: vmx_read_caps() reports those VMX
 * features absent, as a nested hypervisor hiding them would
 * (arch/x86/vmx_caps.c, docs/x86-nested.md). And `x86_ap_fail=N`:
 * application processor N (1-9) treats its VMX checks as failed and
 * parks (arch/x86/smp.c), as a CPU without VMX would.
 */
#include <arch/smp.h>
#include <arch/vmx.h>
#include <arch/x86.h>
#include <core/arch.h>
#include <lib/printk.h>
#include <lib/string.h>

/* Canonical, and far above any RAM the boot code maps. */
#define SELFTEST_UNMAPPED_ADDR	0x00007f0000000000ULL

enum fault_kind { FAULT_UD, FAULT_PF, FAULT_DF, FAULT_NESTED };

static const char *const fault_names[] = {
	[FAULT_UD] = "ud", [FAULT_PF] = "pf", [FAULT_DF] = "df",
	[FAULT_NESTED] = "nested",
};

static enum fault_kind fault_kind = FAULT_UD;

#ifdef CONFIG_TEST
char x86_vmx_break_vm[X86_VMX_BREAK_NR][32];

static void apply_vmx_break(const char *v, size_t len)
{
	static const char *const kinds[] = {
		[X86_VMX_BREAK_STATE] = "state:",
		[X86_VMX_BREAK_CONTROL] = "control:",
	};

	for (unsigned int i = 0; i < X86_VMX_BREAK_NR; i++) {
		size_t klen = strlen(kinds[i]);
		char *name = x86_vmx_break_vm[i];

		if (len > klen && !strncmp(v, kinds[i], klen) &&
		    len - klen < sizeof(x86_vmx_break_vm[i])) {
			memcpy(name, v + klen, len - klen);
			name[len - klen] = '\0';
			return;
		}
	}
	pr_warn("selftest: bad x86_vmx_break value '%.*s'\n", (int)len, v);
}
#endif

static void apply_value(const char *v, size_t len)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(fault_names); i++) {
		if (strlen(fault_names[i]) == len &&
		    !strncmp(v, fault_names[i], len)) {
			fault_kind = (enum fault_kind)i;
			return;
		}
	}
	pr_warn("selftest: unknown x86_fault value '%.*s'\n", (int)len, v);
}

void x86_selftest_parse(const char *s)
{
	static const char key[] = "x86_fault=";
	const size_t klen = sizeof(key) - 1;
#ifdef CONFIG_TEST
	static const char vkey[] = "x86_vmx_break=";
	const size_t vklen = sizeof(vkey) - 1;
	static const char hkey[] = "x86_vmx_hide=";
	const size_t hklen = sizeof(hkey) - 1;
	static const char akey[] = "x86_ap_fail=";
	const size_t aklen = sizeof(akey) - 1;
#endif

	while (s && *s) {
		size_t len = 0;

		while (*s == ' ') {
			s++;
		}
		while (s[len] && s[len] != ' ') {
			len++;
		}
		if (len > klen && !strncmp(s, key, klen)) {
			apply_value(s + klen, len - klen);
		}
#ifdef CONFIG_TEST
		if (len > vklen && !strncmp(s, vkey, vklen)) {
			apply_vmx_break(s + vklen, len - vklen);
		}
		if (len > hklen && !strncmp(s, hkey, hklen)) {
			vmx_hide_parse(s + hklen, len - hklen);
		}
		if (len == aklen + 1 && !strncmp(s, akey, aklen) &&
		    s[aklen] >= '1' && s[aklen] <= '9') {
			x86_ap_fail_cpu = (unsigned int)(s[aklen] - '0');
		}
#endif
		s += len;
	}
}

void arch_selftest_fault(void)
{
	volatile uint64_t *bad = (volatile uint64_t *)SELFTEST_UNMAPPED_ADDR;

	pr_info("selftest: x86_fault=%s\n", fault_names[fault_kind]);
	switch (fault_kind) {
	case FAULT_NESTED:
		x86_selftest_fault_in_handler = true;
		__asm__ volatile("ud2");
		break;
	case FAULT_UD:
		__asm__ volatile("ud2");
		break;
	case FAULT_PF:
		(void)*bad;
		break;
	case FAULT_DF:
		__asm__ volatile("mov %0, %%rsp\n\tud2"
			     : : "r"(SELFTEST_UNMAPPED_ADDR) : "memory");
		break;
	}
}
