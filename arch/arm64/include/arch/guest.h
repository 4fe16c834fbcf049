/* SPDX-License-Identifier: MIT */
/*
 * Running EL1 guests at EL2: the world switch (guest_entry.S), the exit
 * handlers (exit.c, vpsci.c), exception injection (inject.c) and the EL2
 * timer that ends time slices (gic.c). Private to arch/arm64/.
 *
 * What a guest sees when it does something Strata cannot or will not
 * emulate ("Guest faults" in the README):
 *
 * - A data abort whose syndrome does not describe the access (ISV = 0: load
 *   or store pair, writeback, SIMD, atomics... on an emulated address), an
 *   access beyond the VM's guest-physical space, or a stage-1 table walk that
 *   reaches emulated memory, gets a synchronous external abort at its EL1:
 *   ESR_EL1 EC 0x25 (from EL1) or 0x24 (from EL0), DFSC 0x10, WnR as the
 *   access, IL set, FAR_EL1 the faulting virtual address, ELR_EL1 the
 *   faulting instruction, SPSR_EL1 the PSTATE it ran with; the guest
 *   continues at VBAR_EL1 + 0x000 / 0x200 (from EL1 with SP_EL0 / SP_EL1),
 *   + 0x400 (from AArch64 EL0) or + 0x600 (from AArch32 EL0), with PSTATE
 *   EL1h and D, A, I, F masked. The same, as KVM does, for an instruction
 *   fetch beyond the guest-physical space or from an address no memory
 *   backs (EC 0x21 / 0x20, IFSC 0x10, FAR_EL1 and ELR_EL1 the address).
 * - The EL1 physical timer is emulated (ptimer.c), its interrupt PPI 30.
 * - A trapped instruction Strata does not emulate (system registers such as
 *   SVE, SME, AArch32 HVC/SMC and coprocessor
 *   accesses) gets an Undefined Instruction exception (EC 0x00) in the same
 *   way, at the trapped instruction. (ICC_SGI1R_EL1 and friends are
 *   emulated by the virtual GIC, arch/vgic.h.)
 * - Every injection is counted in STRATA_CTR_INJECTED. If the first
 *   instruction of the vector an injection sent the guest to faults again
 *   and again (ARM64_MAX_NESTED_INJECTS times in a row, the arm64 triple
 *   fault), the VM is stopped: "exception storm at its vector".
 * - An SError from the guest, an exit Strata does not know, or an exit from
 *   an EL1 that is not AArch64 stops the VM with the reason (vm_fail()).
 * None of these stops the hypervisor or another VM.
 */
#ifndef STRATA_ARCH_ARM64_GUEST_H
#define STRATA_ARCH_ARM64_GUEST_H

#include <types.h>

struct vm;
struct vcpu;
struct arch_vcpu;
struct arch_fpsimd;

/* ESR_ELx fields (Arm ARM D17.2.37). */
#define ESR_IL			BIT(25)
#define ESR_ISS_MASK		GENMASK(24, 0)
#define ESR_EC_UNKNOWN		0x00
#define ESR_EC_WFX		0x01
#define ESR_EC_HVC32		0x12
#define ESR_EC_SMC32		0x13
#define ESR_EC_HVC64		0x16
#define ESR_EC_SMC64		0x17
#define ESR_EC_SYS64		0x18
#define ESR_EC_IABT_LOW		0x20
#define ESR_EC_IABT_CUR		0x21
#define ESR_EC_DABT_LOW		0x24
#define ESR_EC_DABT_CUR		0x25
#define ESR_EC_SERROR		0x2f

/* Data/instruction abort ISS. */
#define ESR_DABT_ISV		BIT(24)
#define ESR_DABT_SAS_SHIFT	22
#define ESR_DABT_SSE		BIT(21)
#define ESR_DABT_SRT_SHIFT	16
#define ESR_DABT_SF		BIT(15)
#define ESR_DABT_CM		BIT(8)
#define ESR_ABT_S1PTW		BIT(7)
#define ESR_DABT_WNR		BIT(6)
#define ESR_FSC_MASK		0x3f
#define ESR_FSC_TYPE_MASK	0x3c
#define ESR_FSC_TRANS		0x04
#define ESR_FSC_ACCESS		0x08
#define ESR_FSC_PERM		0x0c
#define ESR_FSC_EXTABT		0x10

/* PSTATE / SPSR. */
#define PSR_MODE_MASK		0x1f	/* M[4] (AArch32) and M[3:0] */
#define PSR_MODE_EL0T		0x0
#define PSR_MODE_EL1T		0x4
#define PSR_MODE_EL1H		0x5
#define PSR_AA32		BIT(4)
#define PSR_DAIF		(0xfULL << 6)
#define PSR_PAN			BIT(22)
#define PSR_DIT			BIT(24)

/* SCTLR_EL1: the RES1 bits of ARMv8.0 (MMU, caches off). */
#define SCTLR_EL1_RES1		0x30d00800ULL
#define SCTLR_EL1_SPAN		BIT(23)

/* Vectors of lower-EL exits (index in the EL2 vector table). */
#define EXIT_SYNC		8
#define EXIT_IRQ		9
#define EXIT_FIQ		10
#define EXIT_SERROR		11
#define EXIT_AA32		4	/* added for exits from AArch32 EL0 */
#define EXIT_INPLACE		0x100	/* taken by arm64_exit_inplace() */

/* The arm64 "triple fault": see the comment at the top. */
#define ARM64_MAX_NESTED_INJECTS	8

/* Time slice of a vCPU, in microseconds of the EL2 physical timer. */
#define ARM64_SLICE_US		10000

/* ---- guest_entry.S ---- */

/*
 * Enter the guest whose state is @ctx (x0-x30, PC, PSTATE; everything else
 * already loaded) and return at its next exit with the exit vector
 * (EXIT_*, + EXIT_AA32) after saving x0-x30, PC, PSTATE, ESR, FAR, HPFAR.
 */
unsigned int guest_enter(struct arch_vcpu *ctx);
void fpsimd_save(struct arch_fpsimd *fp);
void fpsimd_load(const struct arch_fpsimd *fp);

/* ---- mte.c ---- */

/* Whether guests get MTE (the CPU has tag storage). */
bool arm64_mte(void);
/* Set the allocation tags of [@pa, @pa + @size) to 0 (2 MiB aligned). */
void arm64_mte_clear_tags(paddr_t pa, uint64_t size);
/* Load / save a vCPU's MTE registers with its other EL1 registers. */
struct arch_el1_regs;
void arm64_mte_load(const struct arch_el1_regs *r);
void arm64_mte_save(struct arch_el1_regs *r);

/* ---- sve.c ---- */

/* The SVE vector length guests may use, in bytes; 0: no SVE for guests. */
unsigned int arm64_sve_vl(void);
/* Load (after fpsimd_load()) / save (before fpsimd_save()) @v's SVE state. */
void arm64_sve_load(struct vcpu *v);
void arm64_sve_save(struct vcpu *v);

/* ---- exit.c ---- */

enum exit_action {
	EXIT_RESUME,	/* enter the guest again */
	EXIT_YIELD,	/* end the time slice (WFI, vCPU or VM stop) */
	EXIT_TIMER,	/* the EL2 timer fired: slice end or guest timer */
};

enum exit_action arm64_handle_exit(struct vcpu *v, unsigned int vec);

/*
 * The fast path for an exit to emulate an access to the same MMIO page as
 * the vCPU's last one, through its MMIO SPTE (see exit.c), offered every
 * exit by guest_exit before it returns to the run loop: 0 to enter the
 * guest again at once, else what guest_enter returns (the vector, or
 * EXIT_INPLACE: the exit was taken and its action is the loop's to follow;
 * it ran no hypercall, changed no root, view or memslot).
 */
unsigned long arm64_exit_inplace(struct arch_vcpu *a, unsigned long vec);

/* Forget the vCPU's MMIO hint (a new vCPU in the slot). */
void arm64_mmio_hint_clear(struct vcpu *v);

/* ---- idregs.c ---- */

/* A trapped read of a feature ID register: answered and stepped over. */
bool arm64_emulate_id_reg(struct vcpu *v);

/*
 * A TLBI trapped by HCR_EL2.TTLB: replayed under every listed root's VMID
 * (arch/arm64/tlbi.c). False when the ESR names no TLB maintenance
 * instruction.
 */
bool arm64_emulate_tlbi(struct vcpu *v);

/* ---- ptimer.c: the EL1 physical timer, trapped and emulated ---- */

/* A trapped CNTP_CTL/CVAL/TVAL_EL0 access; false for any other register. */
bool arm64_emulate_ptimer(struct vcpu *v);
/* Its interrupt line (PPI 30): ENABLE, not IMASK, condition met. */
bool ptimer_level(const struct vcpu *v);
/* Physical count at which it fires, ~0 if it will not (or already has). */
uint64_t ptimer_deadline(const struct vcpu *v);

/* ---- inject.c ---- */

/* Undefined Instruction at the guest's current PC. */
void inject_undef(struct vcpu *v);
/* Synchronous external abort for the data/instruction abort in v->arch. */
void inject_abort(struct vcpu *v);

/* ---- vpsci.c ---- */

/* HVC #imm or trapped SMC: PSCI, SMCCC and Strata calls. */
enum exit_action arm64_handle_call(struct vcpu *v);
/* Reset @v to start at @entry with x0 = @arg (boot and PSCI CPU_ON). */
void arm64_vcpu_reset(struct vcpu *v, uint64_t entry, uint64_t arg);

/* WFI/WFE (exit.c): block in WFI, yield on WFE. */
enum exit_action arm64_wfx(struct vcpu *v);

/* ---- gic.c ---- */

/*
 * Set up the GICv3 distributor, this CPU's redistributor and CPU interface
 * so that the EL2 physical timer (PPI 26) interrupts. 0, or -ENODEV when
 * there is no GICv3 (then guests cannot be time-sliced and are not run).
 */
int gic_init(void);
/* A secondary CPU's side of the GIC (its redistributor or banked registers,
 * its CPU interface): the timer and the kick SGI. 0 or -ENODEV. */
int gic_cpu_init(void);
/* GICv2: this CPU's bit in GICD_SGIR target lists (0 on a GICv3). */
uint32_t gic_cpu_mask(void);
/* The SGI other CPUs kick this one with (arch_kick_cpu()). */
#define INTID_KICK		8
/* Arm the EL2 timer to fire when the physical count reaches @cval. */
void slice_timer_arm(uint64_t cval);
void slice_timer_stop(void);
/*
 * Acknowledge a physical interrupt taken from the guest (@fiq for group 0).
 * Returns true when it was the slice timer (the slice is over).
 */
bool gic_handle_irq(bool fiq);

/* ---- vgic.c (arch/vgic.h) ---- */

/* Register the VM's distributor and redistributors on its bus. */
int vgic_init(struct vm *vm);
void vgic_vcpu_init(struct vcpu *v);
/* Load / save @v's list registers (the vCPU's other state is loaded). */
void vgic_load(struct vcpu *v);
void vgic_put(struct vcpu *v);
/*
 * After an exit, with the VM lock taken again: apply the changes other
 * vCPUs left for @v's live list registers (a vGICv2's vgic_v2_sync()).
 */
void vgic_after_exit(struct vcpu *v);
/*
 * With @v loaded: whether an interrupt for it would end a WFI (pending in a
 * list register, a pending enabled SGI/PPI/SPI routed to it, a timer line
 * up). May say true when the guest's masks would keep it from being
 * signalled: that only ends the WFI early, which the architecture allows.
 */
bool vgic_wakeup_pending(struct vcpu *v);
/* Before an entry: put what is pending and enabled in list registers. */
void vgic_flush(struct vcpu *v);
/* Physical count at which one of @v's timers (virtual, EL1 physical)
 * fires, ~0 if none will. */
uint64_t vgic_vtimer_deadline(struct vcpu *v);
/* Both, before an entry: vgic_flush(), then vgic_vtimer_deadline(). */
uint64_t vgic_prepare_entry(struct vcpu *v);
/* The listing part of vgic_flush(), for vgic_prepare_entry_inline(). */
void vgic_flush_lists(struct vcpu *v, bool vt);
/* A trapped ICC_SGI1R/ASGI1R/SGI0R_EL1 write, from its ESR_EL2. */
bool vgic_is_sgi_reg(uint64_t esr);
void vgic_send_sgi(struct vcpu *v, uint64_t val);
/*
 * Drive the input line of SPI @intid (32..63) of @vm to @level, as a
 * device's interrupt output does. A level-sensitive SPI (GICD_ICFGR) is
 * pending while the line is high and not active; an edge-triggered one
 * becomes pending on a rising edge. The vCPU the SPI's GICD_IROUTER names
 * (vCPU 0 for "any") gets it in a list register before its next entry.
 * Return: 0, or -EINVAL (warned) for an INTID that is no SPI of the vGIC.
 */
int vgic_set_spi_level(struct vm *vm, unsigned int intid, bool level);

#endif
