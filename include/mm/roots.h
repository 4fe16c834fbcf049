/* SPDX-License-Identifier: MIT */
/*
 * Roots (seed 001), roles (seed 003) and the per-vCPU root cache.
 *
 * A VM's guest-physical memory is translated by one or more roots: each root
 * is a complete stage-2 table (struct s2pt) with a ROLE, a reference count
 * and a link on its VM's list of valid roots (struct s2_mmu). Roots with
 * different roles are different views of the same memslots (a view id, a
 * mirror, #VE on or off); two vCPUs with the same role share one root.
 *
 * References. The VM's list holds one reference on every root it links; a
 * vCPU's root cache holds one on every root it caches (the current one and up
 * to S2_ROOT_CACHE_PREV previous ones); a caller of s2_mmu_invalidate_all()
 * holds one on each root it took off the list while it zaps it. A root is
 * freed when its last reference is dropped, and that may only happen on an
 * invalid root: a valid root is always referenced by the list.
 *
 * Invalidate all roots (the fast zap of seed 001). Under the VM's exclusive
 * MMU lock the caller takes a reference on every valid direct root, marks it
 * invalid and moves it to its private list; nothing can find an invalid root
 * any more (s2_mmu_find_root() and the root caches skip it, s2_root_get()
 * refuses it with a WARN), so every vCPU loads a fresh root before its next
 * guest entry (vm_vcpu_prepare_entry()). The caller then zaps the old roots,
 * possibly yielding between chunks, and drops its references. Mirror roots
 * are never invalidated this way.
 *
 * The safety rule KVM lacked when it withdrew this design: no guest page
 * returns to the page allocator while any root, listed or not, still maps
 * it. Every root object of a VM lives in s2_mmu.pool until it is freed, so an
 * unmap that must reach every mapping of a range (memslot delete or move, VM
 * teardown) walks the POOL, not the list: s2_mmu_unmap_everywhere() unmaps
 * the range from valid roots, invalid roots a zapper still holds, and invalid
 * roots only a vCPU cache still references. A zapper yields only between two
 * complete core operations, so an unmap that runs in the gap sees a
 * consistent table. The memslot code returns backing pages to the allocator
 * only after s2_mmu_unmap_everywhere() returned, and the audit
 * (s2_mmu_audit_range_unmapped()) proves no root maps them.
 * Rejected alternative: deferring the free of a deleted memslot's pages until
 * every invalid root is gone (KVM's later fix keeps invalid roots reachable
 * instead). Deferring would hold guest memory hostage to a vCPU that never
 * runs again and needs a second lifetime to audit; walking the pool costs
 * one unmap per live root, at most S2_MMU_MAX_ROOTS.
 *
 * VMIDs (arm64) and EPTP contexts (x86). Every root has a VMID of its own:
 * a VM gets S2_MMU_MAX_ROOTS VMIDs (vmid_base = VM index * S2_MMU_MAX_ROOTS
 * + 1, which fits the 8 VMID bits for VM_MAX_VMS VMs) and pool slot i uses
 * vmid_base + i. So moving a vCPU to another root (a view switch, a fresh
 * root after invalidate-all) is a VTTBR write and nothing else. The catch
 * is stage 1: the TLB tags the guest's stage-1 entries by VMID as well, and
 * a TLBI the guest executes at EL1 reaches only the current VMID, so a guest
 * that changes its page tables while it runs in one view would keep stale
 * stage-1 entries under the VMID of another. While a VM has more than one
 * listed root (@nr_listed > 1) arm64 therefore traps the guest's TLB
 * maintenance (HCR_EL2.TTLB) and performs each trapped TLBI under the VMID
 * of every listed root (arch/arm64/tlbi.c); an invalid root is never
 * entered again, so it needs none. A VM with one root (every VM without
 * views) runs with its TLBIs untrapped. A root slot's VMID is clean when the
 * slot is reused: s2pt_destroy() invalidates the whole VMID of a root that
 * still maps anything, and every earlier change was invalidated when it was
 * made (stage 1 included).
 * Rejected alternatives: one VMID per VM with a whole-VMID invalidation on
 * every change of root (the first design: it made a view switch by
 * hypercall cost 5.4 null hypercalls under QEMU, since the invalidation is
 * the expensive part), and trapping TLBIs always (every guest pays for a
 * feature few use).
 * x86 tags guest-physical entries by EPTP (EP4TA) and the guest's INVLPG,
 * INVPCID and MOV CR3 invalidate combined entries for every EP4TA, so
 * loading another root needs no INVEPT. Every change to a root is
 * invalidated when it is made, and a root page is reused only after
 * s2pt_destroy() invalidated its whole context.
 *
 * Stale references. Right after an invalidation (invalidate-all, a view
 * destroyed) the VMM drops every invalid root from every vCPU's root cache
 * and architecture list (vm_drop_stale_roots()), so invalid roots are freed
 * at once and a guest cannot fill the pool with roots parked vCPUs hold.
 *
 * Locking. struct s2_mmu_lock is the VM's MMU lock, a reader-writer
 * spinlock (<lib/rwlock.h>, docs/mmu.md "Many CPUs"), and every writer
 * asserts the mode it needs (s2_mmu_assert_write()). Faults take it shared,
 * everything that changes the set of roots, a root's references or a root
 * cache, or that zaps, takes it exclusive. Root reference counts are plain
 * integers because only exclusive holders touch them.
 */
#ifndef STRATA_MM_ROOTS_H
#define STRATA_MM_ROOTS_H

#include <lib/rwlock.h>
#include <mm/s2pt.h>

#define S2_MMU_MAX_ROOTS	12
#define S2_ROOT_CACHE_PREV	3
#define S2_MAX_VIEWS		8

/**
 * union s2_role - what a root translates and how (seed 003).
 * @levels: table levels of the format.
 * @ia_bits: guest-physical address bits.
 * @mirror: a mirror root of a secure VM's private half (never fast-zapped).
 * @view: the view id (0: the default view).
 * @ve: EPT #VE on: absent entries have SUPPRESS_VE set.
 * @invalid: the root was invalidated; no vCPU may enter with it.
 * @word: all of the above in one comparable word.
 *
 * A vCPU computes its role from its own state BEFORE it looks up a root
 * (the ordering trap of seed 003), so the root found always has the role the
 * vCPU runs with; the entry audit checks it.
 */
union s2_role {
	uint32_t word;
	struct {
		uint32_t levels : 3;
		uint32_t ia_bits : 6;
		uint32_t mirror : 1;
		uint32_t view : 4;
		uint32_t ve : 1;
		uint32_t invalid : 1;
	};
};

_Static_assert(sizeof(union s2_role) == sizeof(uint32_t),
	       "a role is one 32-bit word");
_Static_assert(S2_MAX_VIEWS <= 16, "view ids fit the 4-bit role field");

struct s2_mmu;

/**
 * struct s2_root - one root of a VM.
 * @pt: its table.
 * @role: see union s2_role.
 * @refcount: references (list, caches, zappers).
 * @in_use: the pool slot holds a root (valid or waiting to be freed).
 * @next: link on the VM's list (valid roots) or a zapper's private list.
 * @mmu: its VM's MMU.
 */
struct s2_root {
	struct s2pt pt;
	union s2_role role;
	unsigned int refcount;
	bool in_use;
	struct s2_root *next;
	struct s2_mmu *mmu;
};

/*
 * The VM's MMU lock (docs/mmu.md "Many CPUs"): a reader-writer spinlock.
 * Shared: stage-2 faults (s2pt_map_fault(), compare-and-exchange installs)
 * and lookups. Exclusive: everything that clears, narrows or replaces a
 * translation (unmap, zap, protect, split, collapse), invalidate-all and
 * every change to the set of roots, root references and root caches.
 */
struct s2_mmu_lock {
	struct rwlock rw;
};

/**
 * struct s2_mmu_stats - what the roots code did (tests assert these).
 * @root_allocs: roots created.
 * @root_frees: roots freed (last reference dropped).
 * @invalidations: s2_mmu_invalidate_all() calls that invalidated >= 1 root.
 * @roots_invalidated: roots taken off the list by them.
 * @cache_hits: root switches served from a cache's previous roots (no
 *	allocation, no list search). A load of the current root is no switch
 *	and not counted.
 * @cache_misses: switches that had to find or create a root.
 * @cache_evictions: least recently used roots dropped from a full cache.
 * @refused_gets: references refused on invalid roots (bugs, WARNed).
 * @yields: times a zapper yielded between chunks.
 */
struct s2_mmu_stats {
	uint64_t root_allocs;
	uint64_t root_frees;
	uint64_t invalidations;
	uint64_t roots_invalidated;
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t cache_evictions;
	uint64_t refused_gets;
	uint64_t yields;
};

/**
 * struct s2_mmu - the roots of one VM.
 * @pool: every root object; a slot is in use from creation to free.
 * @list: valid roots, most recently created first.
 * @nr_listed: how many roots @list holds (arm64 traps the guest's TLBIs
 *	while it is more than one).
 * @ia_bits: @flags: what s2pt_init() gets for every root.
 * @vmid_base: the VMID of pool slot 0; slot i has @vmid_base + i.
 * @lock: the MMU lock.
 * @retired: counters of roots already freed (s2_mmu_counters() adds the
 *	live ones).
 * @stats: see struct s2_mmu_stats.
 * @zap_chunk: bytes a zapper unmaps between two yields (0: all at once).
 * @yield: called by a zapper between two chunks, without the MMU lock held
 *	(tests use it to run an operation in the gap); may be NULL.
 * @yield_arg: passed to @yield.
 * @spare_root: root pages of the last root freed empty, all entries
 *	absent (s2pt_take_clean_root()), or 0: the next root starts on them
 *	without allocating or filling, so invalidate-all costs no more than
 *	zapping the same memory (make bench). Freed by s2_mmu_destroy().
 * @ext: the secure module of a secure VM (<mm/s2_ext.h>), or NULL. The
 *	root with the mirror role (s2_mmu_mirror_role()) is a mirror of it;
 *	there is at most one, since the module has one private table.
 * @lock_tables: every root created from now on carries @lock in its table
 *	(struct s2pt.lock), so each core operation on it asserts the lock
 *	mode it needs. Off in s2_mmu_init(); the VMM (vmm/mmu.c) and the
 *	host stress test turn it on.
 */
struct s2_mmu {
	struct s2_root pool[S2_MMU_MAX_ROOTS];
	struct s2_root *list;
	unsigned int nr_listed;
	unsigned int ia_bits;
	unsigned int levels;	/* of the format, for s2_mmu_role() */
	unsigned int flags;
	uint16_t vmid_base;
	struct s2_mmu_lock lock;
	struct s2_counters retired;
	struct s2_mmu_stats stats;
	uint64_t zap_chunk;
	void (*yield)(struct s2_mmu *mmu, void *arg);
	void *yield_arg;
	paddr_t spare_root;
	struct s2_ext *ext;
	bool lock_tables;
};

/**
 * struct s2_root_cache - a vCPU's current root and up to three previous.
 * @cur: the root the vCPU enters with (NULL before the first load).
 * @prev: previous roots, most recently used first (NULL: empty).
 *
 * Every non-NULL entry holds a reference.
 */
struct s2_root_cache {
	struct s2_root *cur;
	struct s2_root *prev[S2_ROOT_CACHE_PREV];
};

/* ---- The MMU lock ------------------------------------------------------ */

void s2_mmu_write_lock(struct s2_mmu *mmu);
void s2_mmu_write_unlock(struct s2_mmu *mmu);
void s2_mmu_read_lock(struct s2_mmu *mmu);
void s2_mmu_read_unlock(struct s2_mmu *mmu);
/* WARN unless the lock is held exclusive / at least shared. */
void s2_mmu_assert_write(const struct s2_mmu *mmu);
void s2_mmu_assert_held(const struct s2_mmu *mmu);
/* Acquisitions that had to wait (STRATA_CTR_LOCK_WAITS). */
uint64_t s2_mmu_lock_waits(const struct s2_mmu *mmu);

/* ---- The VM's roots ----------------------------------------------------- */

/*
 * Set up an MMU without roots. @ia_bits, @flags as s2pt_init() gets them;
 * @vmid_base: the VMID of the first pool slot (slot i: @vmid_base + i; the
 * caller gives every VM S2_MMU_MAX_ROOTS VMIDs of its own).
 * Return: 0, or -EINVAL (flags, size or VMID range the core refuses).
 */
int s2_mmu_init(struct s2_mmu *mmu, unsigned int ia_bits, unsigned int flags,
		uint16_t vmid_base);

/*
 * Tear every root down (VM teardown). The caller has emptied every vCPU's
 * root cache first; a root still referenced by anything but the list is an
 * internal bug: WARNed, and freed anyway (nothing can run on it any more).
 */
void s2_mmu_destroy(struct s2_mmu *mmu);

/* The role of a direct root for view @view (mirror: issue "Secure VMs"). */
union s2_role s2_mmu_role(const struct s2_mmu *mmu, unsigned int view);

/*
 * The role of the mirror root of a secure VM's private half: view 0 with
 * the mirror bit. s2_mmu_get_root() with it creates a root that mirrors
 * @mmu->ext (-EINVAL when the VM has no module). Mirror roots are never
 * invalidated by s2_mmu_invalidate_all()/_view(); s2_mmu_destroy() tears
 * them down through the module (s2pt_destroy()).
 */
union s2_role s2_mmu_mirror_role(const struct s2_mmu *mmu);

/*
 * The valid listed root with role @role, with a reference taken for the
 * caller; created (and listed) when there is none. An invalid @role is an
 * internal bug (WARN, NULL). Return NULL and *@err = -ENOMEM / -ENOSPC
 * (pool full) when no root can be created.
 */
struct s2_root *s2_mmu_get_root(struct s2_mmu *mmu, union s2_role role,
				int *err);

/*
 * Take a reference on @root. Refused (false, WARN, counted in
 * stats.refused_gets) when @root is invalid: nothing may start using an
 * invalid root.
 */
bool s2_root_get(struct s2_root *root);

/*
 * Drop a reference; the last one frees the root (s2pt_destroy(): one
 * whole-context invalidation, then its pages). Dropping the last reference
 * of a valid root is an internal bug: WARNed, the root is kept.
 */
void s2_root_put(struct s2_root *root);

/*
 * Invalidate every valid direct root (seed 001, see the top of this file),
 * zap each in chunks of @mmu->zap_chunk bytes, calling @mmu->yield between
 * chunks, and drop the references. Takes the MMU lock exclusive (released
 * around each yield). Return: the number of roots invalidated.
 */
unsigned int s2_mmu_invalidate_all(struct s2_mmu *mmu);

/* The same for the direct roots of view @view only (view destroyed). */
unsigned int s2_mmu_invalidate_view(struct s2_mmu *mmu, unsigned int view);

/*
 * Remove every translation of [@gpa, @gpa + @size) from EVERY root in the
 * pool, listed or not (the safety rule at the top of this file). Return: 0,
 * or the first core error (the other roots are still processed).
 */
int s2_mmu_unmap_everywhere(struct s2_mmu *mmu, gpa_t gpa, uint64_t size);

/*
 * True when no root in the pool translates any page of [@pa, @pa + @size)
 * (host physical): checked before backing pages go back to the allocator.
 * Walks every leaf; for audits and tests.
 */
bool s2_mmu_pa_unmapped(const struct s2_mmu *mmu, paddr_t pa, uint64_t size);

/*
 * Sum of the core counters of every root, freed ones included.
 */
void s2_mmu_counters(const struct s2_mmu *mmu, struct s2_counters *out);

/*
 * Check the roots' invariants: every listed root is valid, in use and
 * referenced; no invalid root is listed; every in-use root has a reference
 * and passes s2pt_audit(); roles are unique on the list.
 * Return: 0 or -EIO (problems printed).
 */
int s2_mmu_audit(const struct s2_mmu *mmu);

/* Number of roots in the pool (valid or not) / on the list. */
unsigned int s2_mmu_nr_roots(const struct s2_mmu *mmu);
unsigned int s2_mmu_nr_listed(const struct s2_mmu *mmu);

/* ---- The per-vCPU root cache -------------------------------------------- */

/*
 * Make the root of role @role current: reused from the cache when it holds a
 * valid root of that role (a hit: no allocation, no list search); otherwise
 * found on the list or created (a miss), the old current root becoming the
 * most recent previous one and the least recently used previous one evicted
 * when the cache is full. Invalid roots in the cache are dropped on the way:
 * the result is never invalid. Return: 0, or the error of
 * s2_mmu_get_root() (the cache is unchanged).
 */
int s2_root_cache_load(struct s2_root_cache *c, struct s2_mmu *mmu,
		       union s2_role role);

/* Drop every reference the cache holds. */
void s2_root_cache_clear(struct s2_root_cache *c);

/* Drop the invalid roots the cache holds (the current one included). */
void s2_root_cache_drop_invalid(struct s2_root_cache *c);

/* True when the cache holds @root (current or previous). */
bool s2_root_cache_holds(const struct s2_root_cache *c,
			 const struct s2_root *root);

#endif
