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
 * GPA ranges (ZAP, WRPROTECT, memslots, views) must be 4 KiB aligned, non-empty multiples of
 * 4 KiB, and inside the VM's guest-physical space; they may cover unbacked
 * addresses (nothing happens there).
 */
#ifndef STRATA_VMM_HYPERCALL_H
#define STRATA_VMM_HYPERCALL_H

#define STRATA_HC_BASE			0xC6000000UL

/* Write @a1 bytes (at most 4096) at GPA @a0 to the VM's console. */
#define STRATA_HC_CONSOLE_WRITE		(STRATA_HC_BASE + 1)
/*
 * Zap [@a0, @a0 + @a1): remove every stage-2 translation of the range (in
 * every root of the VM) through
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

/*
 * Invalidate all roots (seed 001): every valid stage-2 root of the VM is
 * taken off its list, zapped and freed once no vCPU uses it; each vCPU
 * continues on a fresh, empty root of its role (x86: a new EPTP; arm64: a
 * new VTTBR with the root's own VMID). Memory keeps its contents. Value: the
 * number of roots invalidated.
 */
#define STRATA_HC_INVALIDATE_ROOTS	(STRATA_HC_BASE + 6)

/*
 * Memslots at run time. A slot is a guest-physical range backed by host
 * memory. Slot 0 is the VM's RAM from strata.cfg; slots added here are
 * backed by fresh, zeroed pages, and the RAM of all slots together may not
 * exceed the VM's `memory_max` (strata.cfg, default: `memory`): past it ADD
 * returns STRATA_HC_ENOSPC. A deleted slot's pages return to Strata (the
 * RAM of slot 0 only when the VM ends) after no stage-2 root maps them any
 * more. Every update changes the VM's memslot generation, and delete and
 * move invalidate all roots. Flags: STRATA_MEMSLOT_*.
 *   ADD     a0 = GPA, a1 = size (2 MiB aligned and sized slots get 2 MiB
 *           aligned backing), a2 = flags. Value: the slot id. A range that
 *           overlaps a slot or a device: STRATA_HC_EBUSY.
 *   DELETE  a0 = slot id. Every later access to its range is MMIO.
 *   MOVE    a0 = slot id, a1 = new GPA (contents move with it).
 *   FLAGS   a0 = slot id, a1 = new flags. Setting LOG_DIRTY write-protects
 *           the slot in every root (with EAGER_SPLIT, first splitting its
 *           blocks into 4 KiB pages); clearing it collapses the slot's
 *           tables back into blocks. Setting RDONLY removes write access.
 */
#define STRATA_HC_MEMSLOT_ADD		(STRATA_HC_BASE + 7)
#define STRATA_HC_MEMSLOT_DELETE	(STRATA_HC_BASE + 8)
#define STRATA_HC_MEMSLOT_MOVE		(STRATA_HC_BASE + 9)
#define STRATA_HC_MEMSLOT_FLAGS		(STRATA_HC_BASE + 10)

#define STRATA_MEMSLOT_RDONLY		(1UL << 0)
#define STRATA_MEMSLOT_LOG_DIRTY	(1UL << 1)
#define STRATA_MEMSLOT_EAGER_SPLIT	(1UL << 2)	/* with LOG_DIRTY */

/*
 * Stage-2 views (like Xen's altp2m): each view is a root of its own over
 * the same memslots, with its own permissions. View 0 is the default view
 * and cannot be changed or destroyed; up to 7 more may exist.
 *   VIEW_CREATE   value: the new view id (1..7); every page as in view 0.
 *   VIEW_PROTECT  a0 = view id | (S2 permissions << 8) (bit 8 read, bit 9
 *                 write, bit 10 execute), a1 = GPA, a2 = size: in that view,
 *                 accesses to the range are limited to those permissions
 *                 (later calls win where ranges overlap; at most 16 ranges
 *                 per view: STRATA_HC_ENOSPC).
 *   VIEW_SWITCH   a0 = view id: the calling vCPU runs in that view from its
 *                 next instruction.
 *   VIEW_DESTROY  a0 = view id; refused (STRATA_HC_EBUSY) while a vCPU runs
 *                 in it.
 *   VIEW_CURRENT  value: the calling vCPU's view id.
 * An access that a non-default view forbids (a permission violation) moves
 * the vCPU back to view 0, where the access is retried, and is counted in
 * STRATA_CTR_VIEW_VIOLATIONS: the guest notices by VIEW_CURRENT.
 */
#define STRATA_HC_VIEW_CREATE		(STRATA_HC_BASE + 11)
#define STRATA_HC_VIEW_PROTECT		(STRATA_HC_BASE + 12)
#define STRATA_HC_VIEW_SWITCH		(STRATA_HC_BASE + 13)
#define STRATA_HC_VIEW_DESTROY		(STRATA_HC_BASE + 14)
#define STRATA_HC_VIEW_CURRENT		(STRATA_HC_BASE + 15)

/*
 * Test builds only (CONFIG_TEST; STRATA_HC_NOT_SUPPORTED otherwise):
 *   TEST_MMIO_GEN     a0 = generation bits (1..19) MMIO SPTEs keep from now
 *                     on, a1 = generation to continue from: lets a guest
 *                     reach the wrap, which invalidates all roots.
 *   TEST_CORRUPT_ROLE the calling vCPU's role is changed after its root is
 *                     looked up at the next entry (the seed-003 ordering
 *                     bug); the entry audit must stop the VM.
 */
#define STRATA_HC_TEST_MMIO_GEN		(STRATA_HC_BASE + 16)
#define STRATA_HC_TEST_CORRUPT_ROLE	(STRATA_HC_BASE + 17)

/*
 * Secure VMs (x86 `secure = on`, docs/secure-module.md). A secure VM's
 * guest-physical space has two halves: GPAs with the shared bit clear are
 * private (owned by the secure module: Strata cannot read them), with it set
 * shared (ordinary memory and MMIO). Every call below returns
 * STRATA_HC_NOT_SUPPORTED on other VMs. The first two are served by the
 * module itself (TDX's TDCALL leaves), the others by Strata (TDX's
 * TDG.VP.VMCALL). On a secure VM, ZAP, WRPROTECT, INVALIDATE_ROOTS and the
 * memslot, view and test calls are STRATA_HC_DENIED, and CONSOLE_WRITE takes
 * a shared GPA only (a private buffer: STRATA_HC_DENIED).
 *   TD_INFO    value: the shared bit's number (GPAW - 1; 39 under Bochs).
 *   TD_ACCEPT  a0 = private GPA (4 KiB aligned): accept the page Strata
 *              added (PAGE.AUG, done here first when not yet added); it
 *              reads as zeroes. Already accepted: STRATA_HC_EBUSY.
 *   MAP_GPA    a0 = GPA, a1 = size (4 KiB multiples inside RAM): convert
 *              to shared (shared bit set in a0) or private (clear). The old
 *              mapping is removed through the module first (private: BLOCK,
 *              TRACK, kick, REMOVE, WBINVD, so the contents are gone; a
 *              page made private again must be accepted). Value: pages
 *              that changed.
 *   MMIO       a0 = shared GPA no RAM backs, a1 = size (1, 2, 4, 8) with
 *              bit 8 set for a write, a2 = the value written. Value: the
 *              value read. What a secure guest's #VE handler asks for an
 *              access to an MMIO SPTE (#VE.RequestMMIO).
 */
#define STRATA_HC_TD_INFO		(STRATA_HC_BASE + 40)
#define STRATA_HC_TD_ACCEPT		(STRATA_HC_BASE + 41)
#define STRATA_HC_MAP_GPA		(STRATA_HC_BASE + 42)
#define STRATA_HC_MMIO			(STRATA_HC_BASE + 43)
#define STRATA_HC_MMIO_WRITE		(1UL << 8)
/*
 * Test builds, secure VMs: Strata writes a byte to private GPA @a0 through
 * its own page tables, a deliberate bug of the core. The module's pages are
 * read-only there: the write faults and Strata stops (the proof the test
 * wants); it returns only if the write went through.
 */
#define STRATA_HC_TEST_CORE_WRITE	(STRATA_HC_BASE + 44)
/*
 * Test builds, secure VMs: the next @a2 (1..8) calls of the module's leaf
 * REMOVE (@a0 = 0) or BLOCK (@a0 = 1) answer OPERAND_BUSY, so that a zap
 * is refused and its page leaked (docs/secure-module.md).
 */
#define STRATA_HC_TEST_SM_BUSY		(STRATA_HC_BASE + 45)

/* Statuses. */
#define STRATA_HC_OK			0
#define STRATA_HC_NOT_SUPPORTED		(-1)	/* unknown function */
#define STRATA_HC_EINVAL		(-2)	/* bad argument, alignment */
#define STRATA_HC_ERANGE		(-3)	/* outside guest-physical space */
#define STRATA_HC_ENOMEM		(-4)	/* the core ran out of pages */
#define STRATA_HC_DENIED		(-5)	/* not allowed from here */
#define STRATA_HC_ENOSPC		(-6)	/* a limit was reached */
#define STRATA_HC_EBUSY			(-7)	/* overlaps / in use */
#define STRATA_HC_ENOENT		(-8)	/* no such slot or view */

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
#define STRATA_CTR_MMIO_SPTE_STALE	20	/* MMIO SPTEs of an old generation */
#define STRATA_CTR_ROOT_CACHE_HITS	21	/* root switches from the cache */
#define STRATA_CTR_ROOT_CACHE_MISSES	22	/* ... that found/made a root */
#define STRATA_CTR_ROOTS_INVALIDATED	23	/* roots taken off by inv-all */
#define STRATA_CTR_ROOT_ALLOCS		24	/* roots created */
#define STRATA_CTR_MEMSLOT_GEN		25	/* the memslot generation */
#define STRATA_CTR_VIEW_SWITCHES	26	/* VIEW_SWITCH calls served */
#define STRATA_CTR_VIEW_VIOLATIONS	27	/* accesses a view forbade */
#define STRATA_CTR_GEN_WRAPS		28	/* MMIO generation wraps */
#define STRATA_CTR_TLBI_REPLAYS	29	/* trapped guest TLBIs x roots */
#define STRATA_CTR_RESETS		30	/* VM resets done (vm_reset()) */
#define STRATA_CTR_ZEROED_CHUNKS	31	/* 2 MiB of RAM zeroed lazily */
#define STRATA_CTR_KICKS		32	/* vCPU kicks sent to other CPUs */
#define STRATA_CTR_LOCK_WAITS		33	/* VM and MMU lock waits */
#define STRATA_CTR_FAULT_RETRIES	34	/* core: faults that lost a race */
#define STRATA_CTR_REMOTE_FLUSHES	35	/* flushes other CPUs had to see */
#define STRATA_CTR_MMIO_INPLACE	36	/* arm64: MMIO exits re-entered
						   without the run loop */
#define STRATA_CTR_NR			37

#endif
