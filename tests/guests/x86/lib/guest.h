/* SPDX-License-Identifier: MIT */
/*
 * The x86 test guests' library: COM1 output, Strata hypercalls (VMCALL, ABI
 * in include/vmm/hypercall.h), a tiny printf, checks that count failures,
 * and (64-bit) an IDT whose handlers count exceptions and can step over the
 * instruction that raised one. Built -m64 for the ELF64 guests and -m32 for
 * the multiboot guest; the 64-bit entry state is in arch/guest_layout.h.
 */
#ifndef GUEST_X86_GUEST_H
#define GUEST_X86_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/guest_layout.h>
#include <vmm/hypercall.h>

#ifndef GUEST_SEL_CODE
#define GUEST_SEL_CODE		0x08	/* Strata's guest GDT: 64-bit code */
#endif

/* The MMIO test device's registers (include/vmm/devices.h). */
#define TESTDEV_SCRATCH		0x000
#define TESTDEV_SCRATCH_SIZE	0x100
#define TESTDEV_LAST		0x100
#define TESTDEV_WVAL		0x108

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* What Strata passed a 64-bit guest at entry (lib/start64.S). */
struct boot_info {
	uint64_t ram_size;	/* RDI */
	uint64_t ve_page;	/* RSI: #VE information page, 0 without ve */
	uint64_t area;		/* RDX: Strata's area in guest RAM */
	uint64_t area_size;	/* RCX */
};
extern struct boot_info boot_info;
/* The guest image's own extent (linker script). */
extern char __image_start[], __image_end[];

/* The guest's body: returns its failure count (0 = passed). */
int guest_main(void);

/* COM1. */
void serial_init(void);
void serial_putc(char c);
void gputs(const char *s);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Hypercalls: status in the return value, value register in *@val. */
long hypercall(unsigned long fn, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long *val);
unsigned long counter(unsigned int id);
void power_off(long status) __attribute__((noreturn));

/* Checks. */
extern unsigned int checks_run, checks_failed;
#define EXPECT(cond, ...)						\
	do {								\
		checks_run++;						\
		if (!(cond)) {						\
			checks_failed++;				\
			gprintf("FAIL: " __VA_ARGS__);			\
			gputs("\n");					\
		}							\
	} while (0)
/* Print "RESULT: PASS|FAIL (...)" and return the failure count. */
int checks_result(const char *name);

#ifdef __x86_64__
/* Exceptions (lib/idt64.c): per-vector counts and step-over. */
struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
extern volatile unsigned long exc_count[32];
/* Interrupts (vectors 32-255) taken, per vector; the IDT has all 256. */
extern volatile unsigned long irq_count[256];
/*
 * When non-zero, an exception advances the interrupted RIP by this many
 * bytes (the length of the instruction that raised it) and clears it;
 * when zero, an exception is unexpected: it is reported and the guest
 * powers off as failed.
 */
extern volatile unsigned int exc_skip;
/*
 * A hook for one vector, called before the default handling (exceptions)
 * or after counting (interrupts, vectors 32-255).
 */
typedef void (*exc_hook_t)(struct exc_frame *f);
void idt_init(void);
/* Load the IDT idt_init() built (on another vCPU). */
void idt_load(void);
void idt_hook(unsigned int vector, exc_hook_t fn);
#endif

#endif
