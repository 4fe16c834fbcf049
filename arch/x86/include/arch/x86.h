/* SPDX-License-Identifier: MIT */
/* x86-64 private interfaces shared by boot/x86/ and arch/x86/. */
#ifndef STRATA_ARCH_X86_H
#define STRATA_ARCH_X86_H

#include <types.h>

#define X86_SEL_CODE64	0x08
#define X86_SEL_DATA	0x10
#define X86_SEL_TSS	0x18

/* Interrupt stack table slots (1-based, as in the IDT gate). */
#define X86_IST_DF	1
#define X86_IST_NMI	2
#define X86_IST_MC	3

#define X86_NR_EXCEPTIONS	32

/* Exit statuses that tell a test harness why a run ended. */
#define X86_STATUS_EXCEPTION	3

/* What exception_entry.S saves, lowest address first. */
struct x86_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

/* Load CPU @cpu's GDT (with its TSS) and the IDT on this CPU. */
void x86_cpu_tables_init(unsigned int cpu);
int x86_ist_stack_cpu(uintptr_t sp);
/* Load the IDT (part of the above); @build: fill it first (boot CPU). */
void x86_idt_init(bool build);

/* Called by exception_entry.S; never returns. */
void x86_exception(struct x86_regs *regs) __noreturn;

/* The entry stubs of vectors 0-31 (exception_entry.S). */
extern const uint64_t x86_exception_stubs[X86_NR_EXCEPTIONS];

/*
 * Identity-map [base, base + size) in the boot page tables (the first 4 GiB
 * are mapped by boot/x86/entry.S). 0, or -ENOMEM when the table pool is
 * exhausted (then nothing beyond the mapped part may be used).
 */
int x86_idmap_range(paddr_t base, uint64_t size);

/*
 * The secure module's memory (arch/x86/tdx/window.c, paging.c). The alias
 * maps [@lo, @hi) writable at an upper-half address (*@va for @lo), present
 * only between open and close on this CPU. x86_idmap_set_writable() makes
 * the identity map of one page writable or read-only (splitting a large
 * page; -ENOMEM without a page for it); x86_idmap_writable() says which.
 */
int x86_alias_setup(paddr_t lo, paddr_t hi, void **va);
void x86_alias_open(void);
void x86_alias_close(void);
bool x86_alias_present(void);
int x86_idmap_set_writable(paddr_t pa, bool writable);
bool x86_idmap_writable(paddr_t pa);

/*
 * Test builds: the exception handler itself takes a #UD after its first
 * line (`x86_fault=nested`), to show that a fault in the handler ends in a
 * one-line notice and a halt rather than a loop.
 */
extern bool x86_selftest_fault_in_handler;

/* Choose which exception arch_selftest_fault() takes (`x86_fault=`). */
void x86_selftest_parse(const char *cmdline);

#ifdef CONFIG_TEST
/* `x86_vmx_break=KIND:NAME` (arch/x86/selftest.c), applied by vmcs.c. */
enum x86_vmx_break {
	X86_VMX_BREAK_STATE,
	X86_VMX_BREAK_CONTROL,
	X86_VMX_BREAK_NR,
};
/* The VM to break in each way ("" for none). */
extern char x86_vmx_break_vm[X86_VMX_BREAK_NR][32];
#endif

/* In test builds, end the emulator run with @status; otherwise return. */
void x86_end_run(int status);

#endif
