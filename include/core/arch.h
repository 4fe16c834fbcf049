/* SPDX-License-Identifier: MIT */
/*
 * Hooks every architecture implements for the generic start-up code
 * (vmm/main.c). Link-time functions, one implementation per architecture.
 */
#ifndef STRATA_CORE_ARCH_H
#define STRATA_CORE_ARCH_H

#include <types.h>

/* "x86_64" or "arm64". */
extern const char arch_name[];

/* The ELF e_machine of guests of this architecture (EM_X86_64, EM_AARCH64). */
extern const uint16_t arch_elf_machine;
/* Where guest RAM starts in guest-physical space (0 on x86, 1 GiB on arm64). */
extern const gpa_t arch_guest_ram_base;
/*
 * Where guest RAM must end at most: the first MMIO window above it (x86:
 * the test device, IOAPIC and local APIC below 4 GiB, no RAM above 4 GiB
 * yet), 0 for no limit but VM_MAX_MEMORY.
 */
extern const gpa_t arch_guest_ram_end;
/* Guest-physical address bits of a VM's second-stage table. */
extern const unsigned int arch_guest_ia_bits;
/*
 * An instruction fetch from a guest-physical address nothing backs: true
 * when the architecture's VM takes an abort there (arm64: a synchronous
 * external abort, as KVM injects), false when the VM is stopped (x86: the
 * fetch would otherwise be emulated as MMIO).
 */
extern const bool arch_unbacked_fetch_aborts;

/* Print the CPU's virtualization features, one line each. */
void arch_report_virt_features(void);

/*
 * Check that this CPU can run guests and enable virtualization. Returns 0, or
 * -ENODEV after printing what is missing (for example no VMX under QEMU TCG).
 */
int arch_virt_init(void);

/* Deliberately take an exception (test builds, `selftest=fault`). */
void arch_selftest_fault(void);

/*
 * Stop for good. In test builds this ends the emulator run with @status
 * (0 = success) where the emulator allows it; otherwise the CPU halts.
 */
void arch_stop(int status) __noreturn;

#endif
