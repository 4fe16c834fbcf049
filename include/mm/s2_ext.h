/* SPDX-License-Identifier: MIT */
/*
 * External tables: the contract between a MIRROR table in the core and the
 * secure module that owns the real (external) tables of a secure VM's
 * private half (issue 10, seed 000, KVM-MMU-FACTS.md sections 2 and 7.2).
 * The x86 emulated TDX-like module implements it (arch/x86/tdx/mirror.c over
 * the sm_* calls of arch/x86/tdx/reflect.c).
 *
 * A mirror table is an ordinary struct s2pt in ordinary memory (the hardware
 * never walks it) with a struct s2_ext attached (s2pt_attach_ext(); a root
 * with the mirror role gets its VM's, mm/roots.c). The core runs its normal
 * operations on it and reflects every change of a mirror entry through
 * exactly one of four calls. Levels are the core's (0 maps 4 KiB, 3 is a
 * PML4E): @level is the level of the ENTRY written, so link_table() at level
 * L makes the module link a table of level L - 1 entries under it.
 *
 *   link_table  an absent mirror entry becomes a table. The implementation
 *               supplies the page for the module's table (it must be one the
 *               module can own: the core's table pages need not be) and
 *               returns it in *@ext_table; the core keeps it until teardown.
 *   set_leaf    an absent mirror entry becomes a 4 KiB leaf mapping guest
 *               page @pa with @prot (always S2_PROT_RWX: a module's private
 *               pages are RWX write-back, TDX's rule).
 *   zap_leaf    a leaf mapping @pa goes away (run time or teardown); the
 *               module does what its rules need (TDX: block, track, kick the
 *               vCPUs, remove, write back; after the key is freed, reclaim)
 *               and gives the page back.
 *   free_table  a table goes away: only in s2pt_destroy(), after every leaf
 *               and table under it, with the page link_table() returned.
 *
 * Returns: 0 done; -EBUSY the module was busy and nothing changed (the
 * core restores the entry and the caller retries, see below); anything else
 * a refusal. A refused zap_leaf or free_table means the module did NOT give
 * the page back: the core deliberately leaks it (counted in
 * s2_ext_stats.leaked_*, the guest page recorded for s2_ext_page_leaked(),
 * never given to any allocator) and stops the VM (s2_ext.stop, vm_bug()
 * in the hypervisor). A refused link_table/set_leaf stops the VM too.
 *
 * THE FROZEN RULE (KVM's FROZEN_SPTE). While one of the four calls is in
 * flight for an entry, that mirror entry holds the frozen marker
 * (s2pt_is_frozen(): a software entry, never valid for the hardware, not
 * absent, not an MMIO SPTE, not the collapse marker). Whoever reads a
 * frozen entry must not write it or anything below it: a fault that meets
 * one returns -EAGAIN having allocated and written nothing, and is retried
 * (the vCPU re-enters and faults again). The freezer writes the final value
 * (the new table or leaf, or absent after a zap) when the call succeeded,
 * or puts the old value back when it failed with -EBUSY. Today every core
 * operation on a table is serialized by the VM's MMU lock, so only a fault
 * running inside a call (tests do that) can meet one; the rule is what a
 * fault under the shared lock relies on once Strata runs on several CPUs
 * (the counts in table entries then need atomic updates too).
 *
 * Operations the module cannot reflect are refused on mirror tables with
 * -EPERM before any module call: s2pt_protect() (write protection, dirty
 * logging), s2pt_split(), s2pt_collapse(), s2pt_set_mmio() (private GPAs are
 * never emulated; MMIO is on the shared half), and leaves other than 4 KiB
 * RWX normal memory (-EINVAL). Mirror roots are never invalidated by
 * s2_mmu_invalidate_all() (the fast zap): their mirror must be torn down
 * through the module's rules. Run-time unmaps (s2pt_unmap()) zap leaves
 * only; emptied tables stay linked until s2pt_destroy().
 */
#ifndef STRATA_MM_S2_EXT_H
#define STRATA_MM_S2_EXT_H

#include <mm/s2pt.h>

/**
 * struct s2_ext_ops - the four reflect operations of a secure module.
 * @link_table: see above.
 * @set_leaf: see above.
 * @zap_leaf: see above.
 * @free_table: see above.
 */
struct s2_ext_ops {
	int (*link_table)(void *ctx, gpa_t gpa, unsigned int level,
			  paddr_t *ext_table);
	int (*set_leaf)(void *ctx, gpa_t gpa, unsigned int level, paddr_t pa,
			unsigned int prot);
	int (*zap_leaf)(void *ctx, gpa_t gpa, unsigned int level, paddr_t pa);
	int (*free_table)(void *ctx, gpa_t gpa, unsigned int level,
			  paddr_t ext_table);
};

enum s2_ext_call {
	S2_EXT_LINK,
	S2_EXT_SET,
	S2_EXT_ZAP,
	S2_EXT_FREE,
	S2_EXT_NR_CALLS,
};

/**
 * struct s2_ext_stats - what the core asked of the module (tests assert).
 * @calls: calls made, per enum s2_ext_call.
 * @busy: calls that returned -EBUSY.
 * @refused: calls that returned another error.
 * @retries: -EBUSY answers s2pt_map() retried itself.
 * @frozen_backoffs: faults that met a frozen entry and returned -EAGAIN.
 * @refused_ops: operations refused on the mirror (-EPERM/-EINVAL, no call).
 * @leaked_pages: guest pages deliberately leaked (4 KiB pages).
 * @leaked_tables: external table pages deliberately leaked.
 */
struct s2_ext_stats {
	uint64_t calls[S2_EXT_NR_CALLS];
	uint64_t busy[S2_EXT_NR_CALLS];
	uint64_t refused[S2_EXT_NR_CALLS];
	uint64_t retries;
	uint64_t frozen_backoffs;
	uint64_t refused_ops;
	uint64_t leaked_pages;
	uint64_t leaked_tables;
};

/* Leaked guest pages the core remembers one by one; beyond that every
 * page counts as leaked (s2_ext_page_leaked()). */
#define S2_EXT_LEAK_MAX		32

/* s2pt_map() retries a busy module this often per entry, then -EAGAIN. */
#define S2_EXT_BUSY_RETRIES	4

/**
 * struct s2_ext - a mirror table's link to its module (one per VM).
 * @ops: the module's four calls.
 * @ctx: passed to them.
 * @stop: called once with the reason when the VM must stop (vm_bug()); may
 *	be NULL.
 * @stop_arg: passed to @stop.
 * @stopped: the VM was stopped; new leaves are refused (-EIO) from then.
 * @reason: why (static text), NULL while running.
 * @stats: see struct s2_ext_stats.
 * @links: (core) pages of (mirror table, external table) pairs.
 * @nr_leaked: (core) entries used in @leaked (> S2_EXT_LEAK_MAX: overflow).
 * @leaked: (core) the leaked guest pages.
 */
struct s2_ext {
	const struct s2_ext_ops *ops;
	void *ctx;
	void (*stop)(void *arg, const char *reason);
	void *stop_arg;
	bool stopped;
	const char *reason;
	struct s2_ext_stats stats;
	paddr_t links;
	unsigned int nr_leaked;
	paddr_t leaked[S2_EXT_LEAK_MAX];
};

/* The software data of the frozen marker (KVM's FROZEN_SPTE is 0x5a0; on
 * EPT this gives the same bits). Neither the collapse marker (bit 60) nor
 * an MMIO SPTE (bits 2:0 and 63 of the absent entry stay). */
#define S2_FROZEN_SW		0xb4ULL

/*
 * Make @pt, an empty table (nothing mapped), a mirror of @ext's module.
 * Return: 0, -EBUSY (not empty), -EINVAL (an op is missing).
 */
int s2pt_attach_ext(struct s2pt *pt, struct s2_ext *ext);

static inline bool s2pt_is_mirror(const struct s2pt *pt)
{
	return pt->ext != NULL;
}

/* The frozen marker of @pt's format, and whether @pte is one. */
s2pte_t s2pt_frozen(const struct s2pt *pt);
bool s2pt_is_frozen(const struct s2pt *pt, s2pte_t pte, unsigned int level);

/* True when @pa was leaked by a refused zap (or the record overflowed):
 * the page must never go back to an allocator. */
bool s2_ext_page_leaked(const struct s2_ext *ext, paddr_t pa);

/* External table linked for the mirror table page @mirror_table (0: none);
 * for audits and tests. */
paddr_t s2_ext_table_of(const struct s2_ext *ext, paddr_t mirror_table);

#endif
