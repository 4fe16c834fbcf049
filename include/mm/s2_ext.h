/* SPDX-License-Identifier: MIT */
/*
 * External tables: the contract between a MIRROR root in the core and the
 * secure module that owns the real (external) tables of a secure VM's private
 * half (DESIGN.md "Mirror secure tables", seed 000, KVM-MMU-FACTS.md 2 and
 * 7.2). The x86 emulated TDX-like module implements it (arch/x86/tdx/); host
 * tests implement it with fakes.
 *
 * The core runs its ordinary operations on the mirror (ordinary memory the
 * hardware never walks) and reflects every change of a mirror entry through
 * exactly one of four calls. Levels are the core's (0 maps 4 KiB, 1 2 MiB,
 * 2 1 GiB, 3 512 GiB in a 4-level root): @level is the level of the ENTRY
 * being written, so link_table() at level L gives the module a table of
 * level L - 1 entries.
 *
 *   link_table  an absent mirror entry becomes a table: the module links
 *               @ext_table (a page the core allocated for it, contents
 *               undefined; the module owns it from then on) at @gpa/@level.
 *   set_leaf    an absent mirror entry becomes a leaf mapping @pa (the guest
 *               page the core chose; the module takes ownership of it).
 *   zap_leaf    a leaf mapping @pa goes away at run time: the module does
 *               whatever its rules need (TDX: block, track, kick every vCPU
 *               out of the guest, remove, write back) and hands the page
 *               back. Only leaves are zapped at run time.
 *   free_table  a table goes away; only at teardown (after every leaf under
 *               it was zapped). The module hands @ext_table back.
 *
 * Return values: 0 done; -EBUSY the module was busy, nothing changed, the
 * caller may retry (a fault backs off and refaults; a zap retries once after
 * kicking the vCPUs, then fails); any other negative value is a refusal.
 * A refused zap_leaf/free_table means the module did NOT hand the page back:
 * the core must leak it deliberately (never return it to the page allocator,
 * count it) and the VM is stopped with the reason.
 *
 * While a call is in flight the mirror entry holds the frozen marker
 * (S2_EXT_FROZEN, see the core), so a concurrent fault that reads it backs
 * off and retries without allocating.
 *
 * Operations a module cannot reflect (protect, split, collapse, dirty
 * logging, leaf-to-leaf changes) are refused on mirror roots with -EPERM
 * before any module call.
 */
#ifndef STRATA_MM_S2_EXT_H
#define STRATA_MM_S2_EXT_H

#include <types.h>

/**
 * struct s2_ext_ops - the four reflect operations of a secure module.
 * @link_table: see above.
 * @set_leaf: see above; @prot is S2_PROT_* of the mirror leaf.
 * @zap_leaf: see above.
 * @free_table: see above.
 */
struct s2_ext_ops {
	int (*link_table)(void *ctx, gpa_t gpa, unsigned int level,
			  paddr_t ext_table);
	int (*set_leaf)(void *ctx, gpa_t gpa, unsigned int level, paddr_t pa,
			unsigned int prot);
	int (*zap_leaf)(void *ctx, gpa_t gpa, unsigned int level, paddr_t pa);
	int (*free_table)(void *ctx, gpa_t gpa, unsigned int level,
			  paddr_t ext_table);
};

#endif /* STRATA_MM_S2_EXT_H */
