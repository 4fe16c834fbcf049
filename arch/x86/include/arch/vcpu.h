/* SPDX-License-Identifier: MIT */
/* The x86-64 part of a vCPU and a VM (embedded in include/vmm/vm.h). */
#ifndef STRATA_ARCH_X86_VCPU_H
#define STRATA_ARCH_X86_VCPU_H

#include <arch/guest_acpi.h>
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <arch/mtrr.h>
#include <arch/xsave.h>
#include <types.h>

struct s2_root;
struct x86_secure;

/* MSRs VMX does not switch that a guest may own (loaded while it runs). */
enum x86_guest_msr {
	GUEST_MSR_STAR,
	GUEST_MSR_LSTAR,
	GUEST_MSR_CSTAR,
	GUEST_MSR_SFMASK,
	GUEST_MSR_KERNEL_GS_BASE,
	GUEST_MSR_NR,
};

/* Run state of a vCPU beside the generic one (SDM "wait-for-SIPI"). */
enum x86_mp_state {
	X86_MP_RUNNING,
	X86_MP_HALTED,		/* HLT: waits for an interrupt (or INIT) */
	X86_MP_WAIT_SIPI,	/* an AP after reset or INIT */
};

/*
 * A register reset to real mode at @sel:@ip (CS base @base) that an INIT
 * or SIPI left for the vCPU's next entry, when its VMCS is loaded.
 */
struct x86_reset {
	bool pending;
	uint16_t sel;
	uint32_t base;
	uint16_t ip;
};

/*
 * Guest general registers in encoding order (RAX=0 ... R15=15, see
 * arch/x86_decode.h); RSP (4) mirrors the VMCS guest RSP around exits.
 * CR8 is the local APIC's TPR (@lapic; CR8 accesses exit).
 * Between slices the registers VMX does not switch are kept here: CR2,
 * DR0-DR3 and DR6, the MSRs of enum x86_guest_msr, and the x87/SSE state
 * (@xsave, an XSAVE area, or an FXSAVE image in its first 512 bytes when
 * the CPU has no XSAVE) with the vCPU's XCR0 (@xcr0; arch/xsave.h).
 */
struct arch_vcpu {
	uint64_t gprs[16];
	paddr_t vmcs;		/* this vCPU's VMCS page (0 before init) */
	bool launched;		/* VMLAUNCH done since the last VMCLEAR */
	int host_cpu;		/* CPU whose host state the VMCS holds */
	bool fresh;		/* set up anew: INVVPID at its first load */
	bool sipi_told;		/* its first SIPI start was printed */
	uint64_t cr2;
	uint64_t dr[4];
	uint64_t dr6;
	uint64_t msrs[GUEST_MSR_NR];
	unsigned int storm;	/* exits in a row that injected an exception */
	/* DR0-DR3 the accesses of the instruction being emulated hit. */
	unsigned int db_hits;
	uint64_t eptp;		/* EPT pointer in the VMCS (0: none yet) */
	/*
	 * VM functions (arch/x86/vmx_views.c): the EPTP list page, the root
	 * of each entry (a reference held on each: every entry is live
	 * without an exit), and the views generation it was built for.
	 */
	uint64_t *eptp_list;
	struct s2_root *eptp_roots[8];
	/*
	 * The eptp_gen whose roots this vCPU's CPU (marked_cpu) is already
	 * in the cpus_entered of (vmx_run.c mark_roots()); ~0: none. Reset
	 * whenever the roots are dropped, so new roots are always marked.
	 */
	uint64_t eptp_marked_gen;
	int eptp_marked_cpu;
	uint64_t eptp_gen;
	/* The TSC offset in the VMCS, IA32_TSC_ADJUST, IA32_TSC_AUX. */
	uint64_t tsc_offset;
	uint64_t tsc_adjust;
	uint64_t tsc_aux;
	uint64_t misc_enable;	/* IA32_MISC_ENABLE */
	struct x86_mtrr mtrr;	/* the MTRRs (arch/x86/mtrr.c) */
	uint64_t ucode_sig;	/* IA32_BIOS_SIGN_ID */
	uint64_t mcg_status;	/* IA32_MCG_STATUS */
	enum x86_mp_state mp;
	bool halt_if;		/* RFLAGS.IF when it halted */
	bool nmi_pending;	/* an NMI IPI not yet injected */
	bool extint_msg;	/* an IOAPIC ExtINT message not yet taken */
	struct x86_reset reset;
	struct lapic lapic;
	uint64_t xcr0;
	uint8_t xsave[XSAVE_AREA_SIZE] __aligned(64);
};

/*
 * @boot_info: start of the area Strata set aside in guest RAM (page tables,
 *	GDT, stack, multiboot information), 0 if none.
 * @boot_size: bytes reserved at @boot_info.
 * @cr3: the 64-bit boot page tables (PML4), 0 for 32-bit guests.
 * @gdt: the guest's boot GDT (0x08 code, 0x10 data).
 * @stack_top: initial RSP of a 64-bit guest.
 * @mbi: the multiboot information structure (multiboot guests).
 * @ve_info: GPA of the #VE information page (0 when #VE is off).
 * @refusals: refused guest actions reported on the console so far (capped).
 * @secure: a secure VM's state (arch/x86/secure_vm.c), NULL otherwise.
 * @pic, @ioapic: the VM's 8259 pair and IOAPIC (arch/irqchip.h).
 * @acpi, @acpi_pm: ACPI tables at X86_ACPI_AREA and the PM registers
 *	(arch/guest_acpi.h).
 */
struct arch_vm {
	gpa_t boot_info;
	uint64_t boot_size;
	gpa_t cr3;
	gpa_t gdt;
	gpa_t stack_top;
	gpa_t mbi;
	gpa_t boot_params;	/* bzImage: the zero page (RSI at entry) */
	gpa_t ve_info;
	unsigned int refusals;
	struct x86_secure *secure;	/* secure = on (arch/x86/secure_vm.c) */
	struct x86_pic pic;		/* arch/x86/pic.c */
	struct x86_ioapic ioapic;	/* arch/x86/ioapic.c */
	bool acpi;			/* ACPI tables in the BIOS area */
	struct x86_acpi_pm acpi_pm;	/* arch/x86/guest_acpi.c */
};

#endif
