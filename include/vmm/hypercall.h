/* SPDX-License-Identifier: MIT */
/*
 * The Strata hypercall interface: one set of calls on both architectures, for
 * test guests and tools.
 *
 * Calling convention
 *   arm64:  HVC #0 (SMC #0 is treated the same way). x0 = function ID,
 *           arguments in x1..x3; on return x0 = status, x1 = value.
 *           The IDs are SMCCC fast calls (SMC64) owned by "vendor specific
 *           hypervisor service" (0xC6000000 | n); PSCI (0x84000000 /
 *           0xC4000000 ranges) is served on the same instructions.
 *   x86-64: VMCALL. RAX = function ID, arguments in RBX, RCX, RDX; on return
 *           RAX = status, RBX = value. Other registers are preserved.
 *           VMCALL at CPL > 0 fails with STRATA_HC_DENIED.
 *
 * A status is 0 or one of the negative STRATA_HC_E* values (as a 64-bit
 * two's-complement number). An unknown function ID returns
 * STRATA_HC_NOT_SUPPORTED (-1, the SMCCC value) and changes nothing: it never
 * stops the VM.
 *
 * GPA ranges (ZAP, WRPROTECT) must be 4 KiB aligned, non-empty multiples of
 * 4 KiB, and inside the VM's guest-physical space; they may cover unbacked
 * addresses (nothing happens there).
 */
#ifndef STRATA_VMM_HYPERCALL_H
#define STRATA_VMM_HYPERCALL_H

#define STRATA_HC_BASE			0xC6000000UL

/* Write @a1 bytes (at most 4096) at GPA @a0 to the VM's console. */
#define STRATA_HC_CONSOLE_WRITE		(STRATA_HC_BASE + 1)
/*
 * Zap [@a0, @a0 + @a1): remove every stage-2 translation of the range through
 * the core's fast block-level unmap, invalidating the TLBs before return. The
 * memory keeps its contents; the next access faults it back in.
 */
#define STRATA_HC_ZAP			(STRATA_HC_BASE + 2)
/*
 * Write-protect [@a0, @a0 + @a1) in stage 2. The next guest write to a page
 * of it takes a permission fault, which Strata resolves by making that page
 * writable again and counting STRATA_CTR_WP_FAULTS (dirty-logging style).
 */
#define STRATA_HC_WRPROTECT		(STRATA_HC_BASE + 3)
/* Value of counter @a0 (STRATA_CTR_*) of the calling VM, in the value reg. */
#define STRATA_HC_COUNTER		(STRATA_HC_BASE + 4)
/*
 * End the calling VM: @a0 == 0 means it ended well, anything else that it
 * failed (the status is printed). Does not return. (arm64 guests may use
 * PSCI SYSTEM_OFF instead, which is status 0.)
 */
#define STRATA_HC_POWER_OFF		(STRATA_HC_BASE + 5)

/* Statuses. */
#define STRATA_HC_OK			0
#define STRATA_HC_NOT_SUPPORTED		(-1)	/* unknown function */
#define STRATA_HC_EINVAL		(-2)	/* bad argument, alignment */
#define STRATA_HC_ERANGE		(-3)	/* outside guest-physical space */
#define STRATA_HC_ENOMEM		(-4)	/* the core ran out of pages */
#define STRATA_HC_DENIED		(-5)	/* not allowed from here */

/*
 * Counters (per VM; "core" counters are the VM's stage-2 table counters of
 * include/mm/s2pt.h). Unknown numbers return STRATA_HC_EINVAL.
 */
#define STRATA_CTR_EXITS		0	/* exits to the hypervisor */
#define STRATA_CTR_S2_FAULTS		1	/* faults that mapped memory */
#define STRATA_CTR_MAPS_4K		2	/* ... with a 4 KiB page */
#define STRATA_CTR_MAPS_2M		3	/* ... with a 2 MiB block */
#define STRATA_CTR_MAPS_1G		4	/* ... with a 1 GiB block */
#define STRATA_CTR_WP_FAULTS		5	/* write faults on protected RAM */
#define STRATA_CTR_MMIO			6	/* MMIO accesses emulated */
#define STRATA_CTR_MMIO_SPTE_HITS	7	/* ... found through an MMIO SPTE */
#define STRATA_CTR_MMIO_UNCLAIMED	8	/* ... that no device claimed */
#define STRATA_CTR_HYPERCALLS		9	/* hypercalls and PSCI calls */
#define STRATA_CTR_HC_UNKNOWN		10	/* ... with an unknown ID */
#define STRATA_CTR_INJECTED		11	/* exceptions injected */
#define STRATA_CTR_FLUSHES		12	/* core: flush plans executed */
#define STRATA_CTR_TLBI_IPA		13	/* core: per-address TLBIs */
#define STRATA_CTR_TLBI_RANGE		14	/* core: range TLBI plans */
#define STRATA_CTR_TLBI_RANGE_INSNS	15	/* core: range instructions */
#define STRATA_CTR_TLBI_VMID		16	/* core: whole-VMID / INVEPT */
#define STRATA_CTR_CMO_PAGES		17	/* core: pages cleaned to PoC */
#define STRATA_CTR_DETACHES		18	/* core: fast block-level detaches */
#define STRATA_CTR_TABLES_IN_USE	19	/* core: table pages in use */
#define STRATA_CTR_NR			20

#endif
