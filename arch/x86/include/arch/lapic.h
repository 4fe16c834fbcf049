/* SPDX-License-Identifier: MIT */
/*
 * The local APIC of an x86 vCPU (arch/x86/lapic.c, docs/x86-lapic.md):
 * xAPIC through a 4 KiB MMIO page at the APIC base, x2APIC through MSRs
 * 0x800-0x8ff, IA32_APIC_BASE and IA32_TSC_DEADLINE; fixed, INIT and
 * start-up IPIs; the LVT timer (one-shot, periodic, TSC deadline) counting
 * on the guest's TSC. Emulated in software only: no APIC-access page, no
 * virtual-interrupt delivery, no posted interrupts.
 */
#ifndef STRATA_ARCH_X86_LAPIC_H
#define STRATA_ARCH_X86_LAPIC_H

#include <types.h>

struct vcpu;
struct vm;

#define LAPIC_DEFAULT_BASE	0xfee00000ULL
#define LAPIC_SIZE		0x1000

enum lapic_lvt {
	LAPIC_LVT_TIMER,
	LAPIC_LVT_THERMAL,
	LAPIC_LVT_PERF,
	LAPIC_LVT_LINT0,
	LAPIC_LVT_LINT1,
	LAPIC_LVT_ERROR,
	LAPIC_LVT_NR,
};

/*
 * @base: IA32_APIC_BASE (address, EN, EXTD, BSP).
 * @id: the APIC ID (xAPIC: bits 31:24 of the ID register; x2APIC: all).
 * @esr: the error status the guest reads; @esr_pending what accumulates
 *	until its next write of the ESR.
 * @irr, @isr, @tmr: 256 bits each, vector v in word v / 32, bit v % 32.
 * @timer_icr, @timer_dcr: initial count and divide configuration.
 * @timer_start: guest TSC at which the current count began.
 * @timer_expiry: guest TSC of the next timer expiry; 0 when none is armed.
 * @tsc_deadline: IA32_TSC_DEADLINE (0: disarmed).
 */
struct lapic {
	uint64_t base;
	uint32_t id;
	uint32_t tpr;
	uint32_t ldr;
	uint32_t dfr;
	uint32_t svr;
	uint32_t esr;
	uint32_t esr_pending;
	uint32_t icr_lo;
	uint32_t icr_hi;
	uint32_t lvt[LAPIC_LVT_NR];
	uint32_t irr[8];
	uint32_t isr[8];
	uint32_t tmr[8];
	uint32_t timer_icr;
	uint32_t timer_dcr;
	uint64_t timer_start;
	uint64_t timer_expiry;
	uint64_t tsc_deadline;
};

/* Power-on state of @v's APIC (ID = vCPU id, BSP for vCPU 0). */
void lapic_power_on(struct vcpu *v);

/* The APIC is enabled in IA32_APIC_BASE (xAPIC or x2APIC mode). */
bool lapic_enabled(const struct vcpu *v);
bool lapic_x2apic_mode(const struct vcpu *v);

/*
 * RDMSR / WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range.
 * Return: false when the access raises #GP.
 */
bool lapic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
bool lapic_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

/*
 * An MMIO access at @gpa: true when it hit @v's xAPIC page (and was
 * performed there), false when the APIC does not claim it.
 */
bool lapic_mmio_access(struct vcpu *v, uint64_t gpa, unsigned int size,
		       bool write, uint64_t *val);

/* CR8 (TPR bits 7:4). */
uint64_t lapic_read_cr8(const struct vcpu *v);
void lapic_write_cr8(struct vcpu *v, uint64_t val);

/* Let the timer of @v catch up with the guest's TSC (sets IRR bits). */
void lapic_update_timer(struct vcpu *v);

/* The guest TSC of @v's next timer expiry; 0 when none is armed. */
uint64_t lapic_next_expiry(const struct vcpu *v);

/*
 * The highest-priority interrupt the APIC would deliver to the CPU now
 * (above the processor priority), or -1.
 */
int lapic_pending_vector(const struct vcpu *v);

/*
 * An interrupt message from the IOAPIC (82093AA redirection entry): 8-bit
 * @dest, physical or @logical (flat / cluster as each target's DFR says;
 * 0xff is a broadcast), delivery @mode (0 fixed, 1 lowest priority, 4
 * NMI, 5 INIT, 7 ExtINT), @vec, @level (level-triggered: TMR set, the EOI
 * comes back through x86_ioapic_eoi()). Return: how many APICs accepted it.
 */
int lapic_irq_message(struct vm *vm, uint32_t dest, bool logical,
		      unsigned int mode, unsigned int vec, bool level);

/*
 * @v's LINT0 takes the 8259's INTR: LVT LINT0 unmasked with delivery mode
 * ExtINT, or the APIC disabled (LINT0 is then the INTR pin).
 */
bool lapic_lint0_extint(const struct vcpu *v);

/* The CPU takes @vector: it moves from the IRR to the ISR. */
void lapic_ack(struct vcpu *v, unsigned int vector);

#endif
