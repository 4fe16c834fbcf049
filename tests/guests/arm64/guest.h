/* SPDX-License-Identifier: MIT */
/*
 * The library of the arm64 test guests: PL011 output, Strata hypercalls and
 * counters, PSCI, a small device-tree reader and EL1 exception handling.
 *
 * Guests run at EL1 with the MMU off (every data access is Device memory,
 * hence -mstrict-align) and no FP/SIMD (-mgeneral-regs-only). start.S sets
 * up the stack and the vector table and calls guest_main(dtb) with the DTB
 * address Strata passed in x0; its return value ends the VM (0 = success).
 */
#ifndef STRATA_GUEST_ARM64_H
#define STRATA_GUEST_ARM64_H

#include <arch/guest_layout.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vmm/hypercall.h>

/* Register layout of the MMIO test device (include/vmm/devices.h). */
#define TESTDEV_SCRATCH		0x000
#define TESTDEV_LAST		0x100
#define TESTDEV_WVAL		0x108

/* PSCI function IDs (SMC64 / SMC32 calling convention). */
#define PSCI_VERSION		0x84000000UL
#define PSCI_CPU_OFF		0x84000002UL
#define PSCI_CPU_ON		0xC4000003UL
#define PSCI_AFFINITY_INFO	0xC4000004UL
#define PSCI_SYSTEM_OFF		0x84000008UL
#define PSCI_FEATURES		0x8400000AUL

/* Each guest's entry point, called by start.S; its return ends the VM. */
int guest_main(void *dtb);

/* Linker symbols: the guest's image including BSS and stack. */
extern char _start[], _end[];

/* ---- console (the emulated PL011) ---- */
void putc(char c);
void puts(const char *s);		/* no newline added */
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- hypercalls ---- */
struct hvc_res {
	int64_t status;		/* x0 */
	uint64_t value;		/* x1 */
};
struct hvc_res hvc(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2);
struct hvc_res smc(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2);

/* A Strata counter (STRATA_CTR_*); a failing call ends the guest. */
uint64_t counter(unsigned int id);
/* STRATA_HC_ZAP / STRATA_HC_WRPROTECT of [gpa, gpa + len); the status. */
int64_t zap(uint64_t gpa, uint64_t len);
int64_t wrprotect(uint64_t gpa, uint64_t len);

/* End the VM through STRATA_HC_POWER_OFF (status 0 = success). */
void power_off(long status) __attribute__((noreturn));
/* End the VM through PSCI SYSTEM_OFF. */
void psci_system_off(void) __attribute__((noreturn));

/* ---- secondary vCPUs ---- */
/* What secondary_start gets as its PSCI context ID. */
struct cpu_boot {
	uint64_t sp;		/* stack top (16-byte aligned) */
	uint64_t id;		/* what the starter calls this vCPU */
};
/* The PSCI CPU_ON entry point: stack from @boot->sp, then secondary_main. */
extern char secondary_start[];
void secondary_main(struct cpu_boot *boot);

/* ---- checks ---- */
extern unsigned int failures;
/* Count and print "FAIL: what" when !ok; returns ok. */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the device tree Strata generated ---- */
/*
 * The property @prop of the node at @path ("/chosen", "/memory@40000000"),
 * with its length in *@len; NULL when absent or when the DTB is broken.
 * A path component without "@unit" matches a node with any unit address.
 */
const void *dt_prop(const void *dtb, const char *path, const char *prop,
		    uint32_t *len);
/* The big-endian 64-bit value at @p (reg cells, 2 address/size cells). */
uint64_t dt_u64(const void *p);
uint32_t dt_u32(const void *p);
/* Number of /cpus/cpu@N nodes. */
unsigned int dt_count_cpus(const void *dtb);
/* RAM as /memory's reg says; false when the DTB has no usable one. */
bool dt_memory(const void *dtb, uint64_t *base, uint64_t *size);
/* The DTB's total size from its header (0 when it has no FDT magic). */
uint32_t dt_size(const void *dtb);

/* ---- EL1 exceptions ---- */
struct exc_frame {
	uint64_t x[31];
	uint64_t elr;		/* written back to ELR_EL1 on return */
	uint64_t spsr;
	uint64_t esr;
	uint64_t far;
	uint64_t vector;	/* offset in the vector table (0x000-0x780) */
};
/*
 * Called for every exception taken to EL1; return true when handled (the
 * guest resumes at frame->elr). The library's default returns false, which
 * prints the exception and ends the VM with a failure.
 */
bool exception_hook(struct exc_frame *f);

#define ESR_EC(esr)		(((esr) >> 26) & 0x3f)
#define EC_UNKNOWN		0x00
#define EC_SVC64		0x15
#define EC_DABT_CUR		0x25

/* ---- helpers ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int strcmp(const char *a, const char *b);
size_t strlen(const char *s);

static inline uint64_t read_cntvct(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

static inline uint64_t read_cntfrq(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

/* Busy-wait @us microseconds of the virtual counter. */
void udelay(uint64_t us);

/*
 * Device accesses in the one form Strata can emulate from the syndrome
 * (a plain [Xn] address): left to itself, the compiler may pick a
 * post-indexed or pair form, which has no syndrome (ISV=0) and comes back
 * as an external abort.
 */
static inline uint64_t mmio_read64(uint64_t addr)
{
	uint64_t v;

	__asm__ volatile("ldr %x0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write64(uint64_t addr, uint64_t v)
{
	__asm__ volatile("str %x0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

#endif
