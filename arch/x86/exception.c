// SPDX-License-Identifier: MIT
/*
 * What happens when the hypervisor itself takes an exception: a dump of
 * the vector, error code and registers on the console, then this CPU stops.
 * Test builds also end the emulator run with a failure status. A second
 * exception while dumping (say the console faults) gets a one-line notice;
 * a third gets nothing but the halt, so a broken handler cannot loop.
 */
#include <arch/cpu.h>
#include <arch/x86.h>
#include <lib/printk.h>

_Static_assert(offsetof(struct x86_regs, vector) == 15 * 8, "entry layout");
_Static_assert(sizeof(struct x86_regs) == 22 * 8, "entry layout");

static const char *const vector_names[X86_NR_EXCEPTIONS] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range exceeded",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack-segment fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 floating-point error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD floating-point",
	[20] = "#VE virtualization exception",
	[21] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
};

static volatile int exception_depth;

bool x86_selftest_fault_in_handler;

static const char *vector_name(uint64_t vec)
{
	if (vec < X86_NR_EXCEPTIONS && vector_names[vec]) {
		return vector_names[vec];
	}
	return "reserved";
}

static void dump_regs(const struct x86_regs *r)
{
	pr_err("  RIP %016llx CS %04llx RFLAGS %016llx\n",
	       (unsigned long long)r->rip, (unsigned long long)r->cs,
	       (unsigned long long)r->rflags);
	pr_err("  RSP %016llx SS %04llx CR2 %016llx\n",
	       (unsigned long long)r->rsp, (unsigned long long)r->ss,
	       (unsigned long long)read_cr2());
	pr_err("  CR0 %016llx CR3 %016llx CR4 %016llx\n",
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
	       (unsigned long long)read_cr4());
	pr_err("  RAX %016llx RBX %016llx RCX %016llx\n",
	       (unsigned long long)r->rax, (unsigned long long)r->rbx,
	       (unsigned long long)r->rcx);
	pr_err("  RDX %016llx RSI %016llx RDI %016llx\n",
	       (unsigned long long)r->rdx, (unsigned long long)r->rsi,
	       (unsigned long long)r->rdi);
	pr_err("  RBP %016llx R8  %016llx R9  %016llx\n",
	       (unsigned long long)r->rbp, (unsigned long long)r->r8,
	       (unsigned long long)r->r9);
	pr_err("  R10 %016llx R11 %016llx R12 %016llx\n",
	       (unsigned long long)r->r10, (unsigned long long)r->r11,
	       (unsigned long long)r->r12);
	pr_err("  R13 %016llx R14 %016llx R15 %016llx\n",
	       (unsigned long long)r->r13, (unsigned long long)r->r14,
	       (unsigned long long)r->r15);
}

static __noreturn void stop_after_exception(void)
{
	pr_err("Strata: CPU halted after exception\n");
	x86_end_run(X86_STATUS_EXCEPTION);
	cpu_halt_forever();
}

void x86_exception(struct x86_regs *r)
{
	int depth = ++exception_depth;

	if (depth > 2) {
		cpu_halt_forever();
	}
	if (depth == 2) {
		pr_err("exception: vector %llu at RIP %016llx inside the exception handler\n",
		       (unsigned long long)r->vector,
		       (unsigned long long)r->rip);
		stop_after_exception();
	}
	pr_err("exception: %s (vector %llu), error code 0x%llx\n",
	       vector_name(r->vector), (unsigned long long)r->vector,
	       (unsigned long long)r->error_code);
#ifdef CONFIG_TEST
	if (x86_selftest_fault_in_handler) {
		__asm__ volatile("ud2");
	}
#endif
	dump_regs(r);
	stop_after_exception();
}
