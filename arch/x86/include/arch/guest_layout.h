/* SPDX-License-Identifier: MIT */
/*
 * The guest-physical and port map of an x86-64 VM, and the machine state a
 * guest starts in (arch/x86/guest_boot.c, arch/x86/vmcs.c).
 *
 * ELF64 and raw images start in 64-bit long mode at CPL 0 at their entry
 * point (a raw image at its load address):
 *   CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = LME|LMA;
 *   CR3 = identity page tables Strata built in guest RAM (2 MiB pages,
 *   read/write/execute, user-accessible, covering [0, max(4 GiB, end of
 *   RAM)), so the MMIO test device and unbacked addresses are mapped too);
 *   GDTR = a GDT in the same area: 0x08 64-bit code, 0x10 flat data;
 *   CS = 0x08, DS/ES/SS/FS/GS = 0x10; IDTR limit 0 (install an IDT before
 *   taking exceptions, or a fault ends the VM as a triple fault);
 *   RFLAGS = 0x2 (interrupts off); RSP = top of a 16 KiB stack Strata set
 *   aside; RDI = the size of RAM in bytes; RSI = the GPA of the #VE
 *   information page when the VM has `ve = on`, else 0; RDX and RCX = the
 *   GPA and size of the area Strata set aside (page tables, GDT, stack, #VE
 *   page): a memory test must leave [RDX, RDX + RCX) alone.
 * Linux bzImages start as the 64-bit boot protocol says: the paging state
 * above, CS = 0x10, DS/ES/SS/FS/GS = 0x18, RSI = boot_params (with the
 * e820 map), at 1 MiB + 0x200 (docs/x86-linux-boot.md).
 * 32-bit multiboot (v1) images start as a multiboot loader leaves them:
 *   protected mode, paging off, CS = 0x08 flat 32-bit code, other segments
 *   0x10 flat data, EAX = 0x2BADB002, EBX = GPA of a multiboot information
 *   structure (mem_lower/mem_upper, a memory map in which Strata's area is
 *   reserved, the VM's cmdline, boot loader name "Strata").
 *
 * vCPU 0 runs first; the others wait for a SIPI, which the guest sends
 * through its local APIC (arch/x86/lapic.c, docs/x86-lapic.md: xAPIC page
 * at 0xfee00000, x2APIC MSRs, APIC ID = vCPU index) as a PC's BSP does;
 * they start in real mode at VV00:0000 for SIPI vector VV.
 * Device interrupts: the PC's 8259 pair (ports 0x20-0x21, 0xa0-0xa1, ELCR
 * 0x4d0-0x4d1) and an IOAPIC at 0xfec00000 (arch/irqchip.h,
 * docs/x86-irq.md); COM1 is ISA IRQ 4.
 * ACPI: tables at 0xe0000-0xfffff (the RSDP at 0xe0000; reserved in the
 * multiboot memory map), PM1a and the PM timer at ports 0x600-0x60b
 * (arch/guest_acpi.h, docs/x86-acpi.md).
 * Ports 0xf4-0xf7 are QEMU's isa-debug-exit: a write of V ends the VM with
 * exit status (V << 1) | 1, a good end for V = 0 (arch/x86/debug_exit.c).
 *
 * What Strata does with what a guest does (arch/x86/vmx_exit.c):
 *   - an MMIO instruction it cannot decode gets #UD injected;
 *   - INS/OUTS (REP too) are emulated element by element; on memory
 *     that is not RAM they get #GP(0), as do RDMSR/WRMSR outside the
 *     allow-list and CR0/CR4 values Strata does not allow;
 *   - VMX instructions, GETSEC, MONITOR/MWAIT get #UD;
 *   - HLT waits for an interrupt the vCPU can take (its APIC timer, an
 *     IPI, an NMI) or, with IF clear, for an NMI or INIT; when no vCPU of
 *     the VM can ever wake again, the VM is stopped as failed;
 *   - a triple fault, a state VM entry refuses, guest page tables the CPU
 *     finds in unbacked memory, or an exception storm (10000 exits in a
 *     row that each inject an exception, e.g. a #GP handler returning to
 *     a refused RDMSR) stop the VM as failed.
 */
#ifndef STRATA_ARCH_X86_GUEST_LAYOUT_H
#define STRATA_ARCH_X86_GUEST_LAYOUT_H

#define GUEST_RAM_BASE		0x00000000UL	/* RAM (arch_guest_ram_base) */
#define GUEST_TESTDEV_BASE	0xfe000000UL	/* MMIO test device (4 KiB) */
#define GUEST_COM1_PORT		0x3f8		/* emulated 16550 */

#define GUEST_SEL_CODE		0x08
#define GUEST_SEL_DATA		0x10
#define GUEST_STACK_SIZE	0x4000
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002

#endif
