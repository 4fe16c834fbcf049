/* SPDX-License-Identifier: MIT */
/*
 * The arm64 part of a vCPU and a VM (embedded in include/vmm/vm.h): the guest
 * state Strata keeps while a vCPU is not on the CPU, and what the world
 * switch (arch/arm64/guest_entry.S) leaves there when the guest exits.
 *
 * The first fields are read and written by assembly: their offsets are the
 * VCPU_* constants below, checked against the C layout.
 */
#ifndef STRATA_ARCH_ARM64_VCPU_H
#define STRATA_ARCH_ARM64_VCPU_H

#define VCPU_X(n)	((n) * 8)
#define VCPU_PC		(31 * 8)
#define VCPU_PSTATE	(32 * 8)
#define VCPU_ESR	(33 * 8)
#define VCPU_FAR	(34 * 8)
#define VCPU_HPFAR	(35 * 8)
#define VCPU_FP		(36 * 8)	/* struct arch_fpsimd, 16-byte aligned */
#define FPSIMD_FPSR	(32 * 16)
#define FPSIMD_FPCR	(32 * 16 + 8)

#ifndef __ASSEMBLY__
#include <types.h>
#include <arch/vgic.h>
#include <mm/s2pt.h>

struct io_device;
struct s2_root;

/*
 * A vCPU's MMIO hint: the last page it reached through an MMIO SPTE, that
 * SPTE, the device there and what it was checked against (arch/arm64/exit.c
 * says what each field guards).
 */
struct arm64_mmio_hint {
	struct s2_mmio_hint spte;
	struct io_device *dev;
	uint64_t dev_lo, dev_hi;
	const struct s2_root *root;
	uint64_t root_frees;
	uint64_t memslot_gen;
};

/*
 * The most SVE vector length guests get, in bytes (512 bits): the state of
 * a vCPU then takes ARM64_SVE_STATE bytes (arch/arm64/sve.c).
 */
#define ARM64_SVE_MAX_VL	64
#define ARM64_SVE_STATE		(32 * ARM64_SVE_MAX_VL + 17 * (ARM64_SVE_MAX_VL / 8))

/* SVE state: Z0-Z31, P0-P15 and FFR at the vector length in use, ZCR_EL1. */
struct arch_sve {
	uint8_t regs[ARM64_SVE_STATE] __attribute__((aligned(16)));
	uint64_t zcr;
};

/* FP/SIMD registers: q0-q31 as (low, high) pairs, then FPSR and FPCR. */
struct arch_fpsimd {
	uint64_t q[32][2];
	uint64_t fpsr;
	uint64_t fpcr;
};

/* EL1 (and EL0) system registers that belong to the guest. */
struct arch_el1_regs {
	uint64_t sctlr;
	uint64_t ttbr0;
	uint64_t ttbr1;
	uint64_t tcr;
	uint64_t mair;
	uint64_t amair;
	uint64_t vbar;
	uint64_t contextidr;
	uint64_t tpidr_el0;
	uint64_t tpidr_el1;
	uint64_t tpidrro_el0;
	uint64_t sp_el0;
	uint64_t sp_el1;
	uint64_t elr;
	uint64_t spsr;
	uint64_t esr;
	uint64_t far;
	uint64_t afsr0;
	uint64_t afsr1;
	uint64_t par;
	uint64_t cpacr;
	uint64_t cntkctl;
	uint64_t csselr;
	uint64_t mdscr;
	uint64_t cntv_ctl;
	uint64_t cntv_cval;
	uint64_t ich_vmcr;	/* the guest's GIC CPU interface controls */
	uint64_t pac_keys[10];	/* FEAT_PAuth: APIA, APIB, APDA, APDB, APGA */
	uint64_t mte[4];	/* FEAT_MTE2: GCR, RGSR, TFSR, TFSRE0 */
};

/**
 * struct arch_vcpu - one vCPU's guest state.
 * @x: x0-x30.
 * @pc: where the guest resumes (ELR_EL2).
 * @pstate: its PSTATE (SPSR_EL2).
 * @esr: ESR_EL2 of the last exit (synchronous exits only).
 * @far: FAR_EL2 of the last exit.
 * @hpfar: HPFAR_EL2 of the last exit.
 * @fp: FP/SIMD state.
 * @el1: EL1 system registers.
 * @mpidr: what the guest reads in MPIDR_EL1 (VMPIDR_EL2).
 * @inject_pc: where the last injected exception sent the guest (to spot a
 *	vector that itself faults).
 * @nested_injects: injections in a row at @inject_pc.
 * @hcr: the HCR_EL2 it runs with (TTLB follows its VM's root count).
 * @ptimer_ctl: its EL1 physical timer's CNTP_CTL_EL0 ENABLE and IMASK.
 * @ptimer_cval: ... and CNTP_CVAL_EL0 (arch/arm64/ptimer.c).
 * @vgic: its redistributor and list registers (arch/vgic.h).
 * @slice_end: when its current time slice ends (arch/arm64/vcpu.c).
 * @slice_armed: the deadline the EL2 timer holds for it (0: to be armed).
 * @inplace_act: what the last exit taken in place left to the run loop
 *	(enum exit_action; arm64_exit_inplace()).
 * @mmio_hint: see struct arm64_mmio_hint.
 * @sve: its SVE state, when guests have SVE (arch/arm64/sve.c).
 */
struct arch_vcpu {
	uint64_t x[31];
	uint64_t pc;
	uint64_t pstate;
	uint64_t esr;
	uint64_t far;
	uint64_t hpfar;
	struct arch_fpsimd fp __attribute__((aligned(16)));
	struct arch_el1_regs el1;
	uint64_t mpidr;
	uint64_t inject_pc;
	unsigned int nested_injects;
	uint64_t hcr;
	uint64_t ptimer_ctl;
	uint64_t ptimer_cval;
	struct vgic_cpu vgic;
	uint64_t slice_end;
	uint64_t slice_armed;
	unsigned int inplace_act;
	struct arm64_mmio_hint mmio_hint;
	struct arch_sve sve;
};

_Static_assert(__builtin_offsetof(struct arch_vcpu, pc) == VCPU_PC,
	       "arch_vcpu layout");
_Static_assert(__builtin_offsetof(struct arch_vcpu, pstate) == VCPU_PSTATE,
	       "arch_vcpu layout");
_Static_assert(__builtin_offsetof(struct arch_vcpu, esr) == VCPU_ESR,
	       "arch_vcpu layout");
_Static_assert(__builtin_offsetof(struct arch_vcpu, hpfar) == VCPU_HPFAR,
	       "arch_vcpu layout");
_Static_assert(__builtin_offsetof(struct arch_vcpu, fp) == VCPU_FP,
	       "arch_vcpu layout");
_Static_assert(__builtin_offsetof(struct arch_fpsimd, fpsr) == FPSIMD_FPSR,
	       "arch_fpsimd layout");
_Static_assert(__builtin_offsetof(struct arch_fpsimd, fpcr) == FPSIMD_FPCR,
	       "arch_fpsimd layout");

/**
 * struct arch_vm - the arm64 part of a VM.
 * @dtb_gpa: the generated DTB, passed in x0 (arch/arm64/guest_dtb.c).
 * @dtb_size: its size.
 * @cntvoff: CNTVOFF_EL2 of every vCPU (the guest's virtual counter is the
 *	physical counter minus this).
 * @entered: a vCPU of the VM ran (the EL2 controls were reported).
 * @vgic: its virtual GIC distributor.
 */
struct arch_vm {
	gpa_t dtb_gpa;
	uint64_t dtb_size;
	uint64_t cntvoff;
	bool entered;
	struct vgic_dist vgic;
};

#endif /* !__ASSEMBLY__ */
#endif
