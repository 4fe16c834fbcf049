/* SPDX-License-Identifier: MIT */
/*
 * The legacy PC devices of an x86 VM that an unmodified kernel probes
 * (docs/x86-pc-devices.md): the 8254 PIT with port 0x61 (arch/x86/pit.c),
 * PCI configuration mechanism #1 with an i440FX host bridge
 * (arch/x86/pci.c), the MC146818 RTC/CMOS (arch/x86/rtc.c) and the 8042
 * keyboard controller (arch/x86/i8042.c). Per VM, indexed by vm->index;
 * every access happens under the VM's lock, as the other x86 devices.
 */
#ifndef STRATA_ARCH_X86_PCDEV_H
#define STRATA_ARCH_X86_PCDEV_H

#include <types.h>

struct vcpu;
struct vm;

/* The 8254's input clock: 1.193182 MHz (14.31818 MHz / 12). */
#define X86_PIT_HZ		1193182ULL

/* pit.c: counters 0-2 at ports 0x40-0x43. */
int x86_pit_add(struct vm *vm);
/* System control port B (0x61), reached through i8042.c's 0x60-0x64. */
uint8_t x86_port61_read(struct vm *vm);
void x86_port61_write(struct vm *vm, uint8_t val);
/*
 * Bring counter 0's output (ISA IRQ 0) up to date: every rising edge of
 * OUT0 since the last call reaches the 8259 and IOAPIC pin 2 (edges that
 * happened between two calls coalesce into one, as the 8259's IRR would
 * keep them). Called before each entry and by a halted vCPU's wait.
 */
void x86_pit_poll(struct vm *vm);
/*
 * Host TSC of OUT0's next rising edge when IRQ 0 could reach a vCPU
 * (8259 input 0 or IOAPIC pin 2 unmasked), else 0: the preemption timer
 * is armed for it.
 */
uint64_t x86_pit_next_tsc(struct vm *vm);
/* PIT ticks (1.193182 MHz) since @vm was created; the TSC's rate. */
uint64_t x86_pit_ticks(struct vm *vm);

/* pci.c: CONFIG_ADDRESS 0xcf8, CONFIG_DATA 0xcfc-0xcff, 0xcf9 reset. */
int x86_pci_add(struct vm *vm);
/* reset_ctl.c: the reset control register at 0xcf9 (pci.c's range). */
uint8_t x86_reset_ctl_read(struct vm *vm);
void x86_reset_ctl_write(struct vcpu *v, uint8_t val);

/*
 * rtc.c: index 0x70 (bit 7 NMI mask), data 0x71. Poll: the flags and
 * IRQ 8 brought up to date (with an interrupt enabled in register B);
 * next: host TSC of the next flag that would raise IRQ 8 while it can
 * reach a CPU, else 0.
 */
int x86_rtc_add(struct vm *vm);
/*
 * The VM is torn down (arch_vm_destroy()): if it is built again, for a
 * reset, x86_rtc_add() keeps what the RTC's battery keeps.
 */
void x86_rtc_power_off(struct vm *vm);
void x86_rtc_poll(struct vm *vm);
uint64_t x86_rtc_next_tsc(struct vm *vm);

/*
 * pcdev.c: the host TSC, the time base of the PIT and the RTC (a function
 * so that the host tests can move it); the two polls above together and
 * the earlier of their edges, for vmx_run.c.
 */
uint64_t x86_pcdev_tsc(void);
void x86_pcdev_poll(struct vm *vm);
uint64_t x86_pcdev_next_tsc(struct vm *vm);

/* i8042.c: data 0x60, status/command 0x64 (and 0x61 for pit.c). */
int x86_i8042_add(struct vm *vm);

#endif
