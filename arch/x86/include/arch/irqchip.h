/* SPDX-License-Identifier: MIT */
/*
 * The interrupt controllers of an x86 VM besides the local APICs, wired as
 * a PC wires them (docs/x86-irq.md):
 *   - the dual 8259A PIC (arch/x86/pic.c) at ports 0x20-0x21 (master) and
 *     0xa0-0xa1 (slave on master IR2), with the PIIX ELCR at 0x4d0-0x4d1;
 *     its INTR output goes to every vCPU's LINT0 (virtual wire, taken when
 *     LVT LINT0 says ExtINT or the APIC is disabled) and to IOAPIC pin 0;
 *   - one 82093AA-style IOAPIC (arch/x86/ioapic.c) at 0xfec00000 with 24
 *     pins; ISA IRQ n drives pin n except IRQ 0, which drives pin 2 (the
 *     interrupt source override the MADT states).
 * Everything runs on the one physical CPU, so no locking.
 */
#ifndef STRATA_ARCH_X86_IRQCHIP_H
#define STRATA_ARCH_X86_IRQCHIP_H

#include <types.h>

struct vcpu;
struct vm;

#define X86_IOAPIC_BASE		0xfec00000ULL
#define X86_IOAPIC_SIZE		0x1000
#define X86_IOAPIC_PINS		24
#define X86_ISA_IRQS		16

/*
 * One 8259A.
 * @irr, @isr, @imr: the request, in-service and mask registers.
 * @lines: the IR input levels as last driven (edge detection).
 * @elcr: the PIIX edge/level control bits of this chip (1: level).
 * @base: ICW2's vector base (bits 7:3).
 * @icw3: ICW3 as written (master: slave mask; slave: its ID).
 * @init: the ICW the next data-port write is (0: initialised, OCW1).
 * @icw4_wanted: ICW1.IC4.
 * @single: ICW1.SNGL; @ltim: ICW1.LTIM (every input level-triggered).
 * @aeoi, @sfnm: ICW4's automatic EOI and special fully nested mode.
 * @rotate_aeoi: OCW2 rotate in automatic EOI mode.
 * @lowest: the IR with the lowest priority (7 after ICW1).
 * @read_isr: OCW3 RR/RIS chose the ISR for command-port reads.
 * @poll: OCW3 P: the next command-port read is a poll.
 * @smm: OCW3 special mask mode.
 */
struct x86_8259 {
	uint8_t irr, isr, imr, lines, elcr;
	uint8_t base, icw3, init;
	bool icw4_wanted, single, ltim, aeoi, sfnm, rotate_aeoi;
	uint8_t lowest;
	bool read_isr, poll, smm;
};

/*
 * @chip: [0] master, [1] slave.
 * @intr: the master's INTR output as last computed.
 */
struct x86_pic {
	struct x86_8259 chip[2];
	bool intr;
};

/*
 * @sel: IOREGSEL.
 * @id: the IOAPIC ID (bits 27:24 of register 0).
 * @redir: the redirection table.
 * @lines: the pin levels as driven (before polarity), one bit per pin.
 */
struct x86_ioapic {
	uint32_t sel;
	uint32_t id;
	uint64_t redir[X86_IOAPIC_PINS];
	uint32_t lines;
};

/* Reset both and put them on @vm's buses. 0 or a negative error. */
int x86_pic_add(struct vm *vm);
int x86_ioapic_add(struct vm *vm);

/* Drive ISA IRQ / GSI @line (0-23) of @vm to @level (asserted when true). */
int x86_irq_line(struct vm *vm, unsigned int line, bool level);

/* PIC input @irq (0-15) to @level. */
void x86_pic_set_irq(struct vm *vm, unsigned int irq, bool level);
/* IOAPIC pin @pin to @level. */
void x86_ioapic_set_pin(struct vm *vm, unsigned int pin, bool level);

/* The PIC's INTR output is asserted. */
bool x86_pic_intr(const struct vm *vm);
/*
 * The interrupt acknowledge cycle (INTA): the vector the PIC puts on the
 * bus (its spurious IR7 vector when nothing is pending any more), with
 * the ISR/IRR updated as the 8259A does.
 */
uint8_t x86_pic_ack(struct vm *vm);

/*
 * An EOI of level-triggered @vector from a local APIC, broadcast to the
 * IOAPIC: Remote IRR of the level entries with that vector is cleared and
 * a pin still asserted is delivered again.
 */
void x86_ioapic_eoi(struct vm *vm, unsigned int vector);

/*
 * @v has an ExtINT to take: the PIC's INTR is asserted and reaches it (its
 * LVT LINT0 is unmasked ExtINT or its APIC is disabled, or the IOAPIC sent
 * it an ExtINT message).
 */
bool x86_extint_pending(const struct vcpu *v);
/* @v takes it: the INTA cycle, the vector to inject. */
uint8_t x86_extint_ack(struct vcpu *v);

/*
 * Could a device interrupt still reach @v (an unmasked IOAPIC pin, or an
 * unmasked PIC input @v's LINT0 takes)? A halted vCPU for which this holds
 * waits, as on hardware, instead of its VM being stopped.
 */
bool x86_irq_may_arrive(const struct vcpu *v);

#endif
