/* SPDX-License-Identifier: MIT */
/*
 * The stage-2 core's operations API: what vmm/ and the architectures' VM
 * code call. One walker and one set of operations serve Intel EPT and arm64
 * VMSAv8-64 stage-2 tables; the rest of the core is split by audience:
 *   <mm/s2pt.h>     this file: types, the table, the operations, MMIO SPTEs;
 *   <mm/s2_walk.h>  the walker, for code that visits entries itself;
 *   <mm/s2_arch.h>  the contract each architecture (and the host tests)
 *                   implements: encoding, flush executor, table pages;
 *   mm/s2_internal.h  helpers private to mm/ (operation state, plans).
 *
 * Levels count from the leaf: level 0 entries map 4 KiB, level 1 2 MiB,
 * level 2 1 GiB, level 3 512 GiB (EPT PML4 / arm64 level 0). A "table at
 * level L" is a table whose entries are level-L entries.
 *
 * Locking (docs/mmu.md "Many CPUs"): s2pt_map_fault() and the lookups may
 * run on several CPUs at once on one table (the VM's MMU lock held shared:
 * installs are compare-and-exchanges of absent entries, counts and counters
 * are updated atomically); every other operation needs the table to itself
 * (the MMU lock held exclusive), and asserts it when the table has one
 * (struct s2pt.lock). What an operation has
 * pending (its flush plan, cache maintenance, pages to free, reserved pages)
 * lives on that operation's stack, never in the table. Hardware walkers may run
 * concurrently: entries are written with single release stores, changes of a
 * valid entry's kind, size or output follow break-before-make on formats that
 * need it (S2_FMT_NO_BBM: see s2_walk_replace()), and every operation returns
 * only after the translations it removed, narrowed or replaced are
 * invalidated.
 *
 * Entry counts: every table page carries the number of its entries that are
 * not absent (valid leaves, tables, and invalid entries holding software
 * data). The count of a table lives in bits of its PARENT table entry that the
 * hardware ignores (S2_TABLE_COUNT_MASK of the format, see the arch header);
 * the root's count lives in struct s2pt. A write that changes only those bits
 * changes no translation.
 */
#ifndef STRATA_MM_S2PT_H
#define STRATA_MM_S2PT_H

#include <types.h>

#include <types.h>

typedef uint64_t s2pte_t;

#define S2_PTRS_PER_TABLE	512
#define S2_MAX_LEVELS		4
#define S2_MAX_ROOT_PAGES	16
#define S2_LEVEL_SHIFT(l)	(PAGE_SHIFT + 9 * (l))
#define S2_LEVEL_SIZE(l)	(1ULL << S2_LEVEL_SHIFT(l))

/* Permissions and memory type of a mapping (the @prot of map/protect). */
#define S2_PROT_R		BIT(0)
#define S2_PROT_W		BIT(1)
#define S2_PROT_X		BIT(2)
#define S2_PROT_RWX		(S2_PROT_R | S2_PROT_W | S2_PROT_X)
#define S2_PROT_DEVICE		BIT(3)	/* device memory (EPT UC, nGnRE) */
#define S2_PROT_MASK		(S2_PROT_RWX | S2_PROT_DEVICE)

/* Per-VM flags given to s2pt_init(). */
#define S2PT_F_VE		BIT(0)	/* EPT: #VE on; SUPPRESS_VE on absent */
#define S2PT_F_FWB		BIT(1)	/* arm64: HCR_EL2.FWB, FWB MemAttr */
#define S2PT_F_TLBIRANGE	BIT(2)	/* arm64: CPU has FEAT_TLBIRANGE */
#define S2PT_F_NO_FAST_UNMAP	BIT(3)	/* unmap clears leaf by leaf (bench) */
/*
 * EPT: a secure VM (issue "Secure VMs on x86"): absent entries have
 * SUPPRESS_VE set (an access there is an EPT violation for the hypervisor),
 * and the MMIO SPTE value is 0 with SUPPRESS_VE clear, so an emulated page
 * raises #VE in the guest, which asks for the access by hypercall. Ignored
 * by stage-2.
 */
#define S2PT_F_SECURE		BIT(4)
#define S2PT_F_MASK		GENMASK(4, 0)

/* Format capabilities (struct s2_format.caps). */
#define S2_FMT_TLBI_IPA		BIT(0)	/* per-address invalidation exists */
#define S2_FMT_CMO		BIT(1)	/* pages taken from a guest need a CMO
					 * unless S2PT_F_FWB */
#define S2_FMT_NO_BBM		BIT(2)	/* a valid entry may be replaced by
					 * another of the same translation in
					 * one write (EPT), see
					 * s2_walk_replace() */

/**
 * struct s2_format - the geometry of a table format, as data.
 * @name: "ept" or "stage2".
 * @ia_bits: input (guest-physical) address bits, 32..48.
 * @levels: number of levels; the root holds level @levels - 1 entries.
 * @root_pages: concatenated root table pages (arm64: 1..16; EPT: 1).
 * @root_entries: entries in the root (may be < 512 on arm64).
 * @block_levels: bit L set when level L entries may be leaves (bit 0: pages).
 * @caps: S2_FMT_* capabilities.
 * @mmio_mask: the MMIO SPTE recognition mask, the same for every VM of the
 *	format (the value is per VM type: struct s2pt.mmio_value).
 * @mmio_gpa_mask: the bits of an MMIO SPTE that hold its page's GPA.
 * @table_mmio_bit: a bit of table entries the hardware ignores (outside the
 *	address and the child count), set in the entry of every table page
 *	s2pt_set_mmio() allocated, so that freeing it gives it back to the
 *	MMIO SPTE budget (counters.mmio_tables).
 */
struct s2_format {
	const char *name;
	unsigned int ia_bits;
	unsigned int levels;
	unsigned int root_pages;
	unsigned int root_entries;
	unsigned int block_levels;
	unsigned int caps;
	s2pte_t mmio_mask;
	s2pte_t mmio_gpa_mask;
	s2pte_t table_mmio_bit;
};

/**
 * struct s2_counters - what the core did, asserted by tests as contracts.
 * @tables_alloc: table pages taken from the provider (root excluded).
 * @tables_freed: table pages returned to the provider (root excluded).
 * @tables_in_use: @tables_alloc - @tables_freed.
 * @flushes: flush plans executed: at most one per operation, plus (formats
 *	without S2_FMT_NO_BBM) one per break-before-make replacement, plus one
 *	per early flush of a full list. On EPT exactly one per operation that
 *	changed a translation, splits and collapses included.
 * @tlbi_ipa: per-address invalidations (one per address in a plan).
 * @tlbi_range: range invalidations (one per RANGE plan).
 * @tlbi_range_insns: range instructions issued by the executor.
 * @tlbi_vmid: whole-VMID / single-context invalidations (x86 INVEPT).
 * @tlbi_walk: plans that also invalidated walk caches (tables cleared).
 * @barriers: DSB-class barriers issued by the executor.
 * @cmo_pages: 4 KiB pages cleaned+invalidated to PoC.
 * @entries_written: writes of an entry that changed its translation state.
 * @count_writes: writes that only updated a table entry's child count.
 * @detaches: whole subtrees detached by the fast unmap.
 * @early_flushes: flushes forced by a full deferred-free list.
 * @fault_retries: s2pt_map_fault() installs that lost a compare-and-exchange
 *	to another CPU's fault and walked again (without allocating again).
 * @mmio_tables: live table pages that s2pt_set_mmio() allocated (included
 *	in @tables_in_use). They go back, and this goes down, whenever such a
 *	page is freed: unmap, zap, emptied tables, collapse, teardown. A VM
 *	bounds the table pages unbacked accesses can take with it.
 */
struct s2_counters {
	uint64_t tables_alloc;
	uint64_t tables_freed;
	uint64_t tables_in_use;
	uint64_t flushes;
	uint64_t tlbi_ipa;
	uint64_t tlbi_range;
	uint64_t tlbi_range_insns;
	uint64_t tlbi_vmid;
	uint64_t tlbi_walk;
	uint64_t barriers;
	uint64_t cmo_pages;
	uint64_t entries_written;
	uint64_t count_writes;
	uint64_t detaches;
	uint64_t early_flushes;
	uint64_t mmio_tables;
	uint64_t fault_retries;
	uint64_t remote_flushes;	/* x86: flushes posted to other CPUs */
};

/* Capacity of an operation's lists (mm/s2_internal.h, struct s2_op): a
 * full list forces an early flush (counters.early_flushes). */
#define S2_CMO_MAX		32
#define S2_DEFER_MAX		1024

/**
 * struct s2pt - one stage-2 table (one per root). Only the table's
 * persistent state: what an operation has pending lives on its own stack.
 * @fmt: its geometry.
 * @root: physical address of the root (root_pages contiguous pages).
 * @root_count: entries of the root that are not absent.
 * @flags: S2PT_F_*.
 * @vmid: VMID (arm64) / unused on EPT (the EPTP identifies the context).
 * @counters: see struct s2_counters.
 * @table_sum: sum of a hash of every live table page address (audit).
 * @audit_failures: audits that failed (CONFIG_MMU_AUDIT); tests expect 0.
 * @mmio_value: the MMIO SPTE value of this table's VM type
 *	(arch_s2_mmio_value() of @flags, or s2pt_set_mmio_value()).
 * @mmio_on: @mmio_value passed s2pt_mmio_value_valid(): MMIO SPTEs exist in
 *	this table. When false the table has none and classifies entries as
 *	the format alone does.
 * @ext: NULL, or the secure module this table mirrors (a mirror table,
 *	<mm/s2_ext.h>): every change is reflected to it, and the operations it
 *	cannot reflect are refused.
 * @lock: NULL (the caller serializes every operation, as the unit tests
 *	do), or the MMU lock whose mode every operation asserts: shared for
 *	s2pt_map_fault() and lookups, exclusive for the rest
 *	(docs/mmu.md "Many CPUs"). With a lock, operations run under it
 *	shared skip the per-operation audit (other CPUs are changing the
 *	table); s2_mmu_audit() runs at quiescent points instead.
 * @cpus_entered: the architecture's: bit n set once physical CPU n may hold
 *	translations of this table (x86: set before its first guest entry on
 *	it, read by the remote INVEPT, arch/x86/xflush.c); never cleared.
 */
struct s2_ext;
struct rwlock;

struct s2pt {
	struct s2_format fmt;
	paddr_t root;
	unsigned int root_count;
	unsigned int flags;
	uint16_t vmid;
	bool mmio_on;
	struct s2_counters counters;
	uint64_t table_sum;
	unsigned int audit_failures;
	s2pte_t mmio_value;
	struct s2_ext *ext;
	const struct rwlock *lock;
	uint64_t cpus_entered;
};

/**
 * struct s2_translation - the answer of s2pt_lookup().
 * @pa: output address of the looked-up address (offset included).
 * @prot: S2_PROT_* of the leaf.
 * @level: level of the leaf (0 page, 1 2 MiB block, 2 1 GiB block).
 * @pte: the raw leaf entry.
 */
struct s2_translation {
	paddr_t pa;
	unsigned int prot;
	unsigned int level;
	s2pte_t pte;
};

/* ---- Operations (mm/s2_*.c) -------------------------------------------- */

/**
 * s2pt_init() - set up an empty table.
 * @pt: the table to initialize (all fields are overwritten).
 * @ia_bits: guest-physical address bits: 32..48. EPT always uses a 4-level
 *	walk (@ia_bits only limits the addresses accepted); stage-2 picks the
 *	start level and number of concatenated roots like VTCR_EL2 allows.
 * @flags: S2PT_F_* (unknown bits: -EINVAL).
 * @vmid: VMID (arm64 TLB maintenance), ignored on EPT.
 *
 * Allocates the root with s2_root_alloc() and fills it with absent entries
 * (on a #VE or secure VM with SUPPRESS_VE set). Takes the MMIO SPTE value
 * of the VM type from the format (arch_s2_mmio_value(@flags)) and validates
 * it (s2pt_mmio_value_valid()); a refused value leaves the table without
 * MMIO SPTEs (s2pt_mmio_enabled() false), which is not an error: the caller
 * says so. No TLB maintenance.
 * Return: 0, -EINVAL (bad @ia_bits or @flags), -ENOMEM.
 */
int s2pt_init(struct s2pt *pt, unsigned int ia_bits, unsigned int flags,
	      uint16_t vmid);

/**
 * s2pt_destroy() - tear a table down.
 * @pt: the table; unusable afterwards (s2pt_init() again to reuse).
 *
 * Detaches everything, invalidates the whole VMID (with walk caches) once,
 * cleans+invalidates every normal-memory guest page when the format needs it
 * and FWB is off (after the invalidation), then frees every table page and
 * the root.
 */
void s2pt_destroy(struct s2pt *pt);

/**
 * s2pt_init_on() - s2pt_init() on root pages that are already all absent.
 * @clean_root: 0 (allocate, as s2pt_init()) or root pages that
 *	s2pt_take_clean_root() gave out for a table of the same @ia_bits and
 *	@flags; the table owns them from here on.
 */
int s2pt_init_on(struct s2pt *pt, unsigned int ia_bits, unsigned int flags,
		 uint16_t vmid, paddr_t clean_root);

/**
 * s2pt_take_clean_root() - keep the root pages of an empty table.
 * @pt: a table about to be destroyed.
 *
 * When every root entry is absent (nothing mapped, no table linked: no TLB
 * or walk-cache entry can come from it, since every change was invalidated
 * when it was made) the root pages are handed to the caller, to be given
 * to s2pt_init_on() or freed with s2_root_free(); the table keeps no root
 * and s2pt_destroy() then frees nothing. A root that is not empty stays.
 * Return: the root pages' address, or 0 (nothing taken).
 */
paddr_t s2pt_take_clean_root(struct s2pt *pt);

/**
 * s2pt_map() - map [@gpa, @gpa + @size) to [@pa, @pa + @size).
 * @pt: the table.
 * @gpa: guest-physical start, 4 KiB aligned.
 * @pa: physical start, 4 KiB aligned.
 * @size: bytes, a non-zero multiple of 4 KiB.
 * @prot: S2_PROT_* (R/W/X and memory type); must be non-empty and valid for
 *	the format (EPT refuses write or execute without read).
 *
 * Uses the largest block that the alignment of @gpa and @pa allows at every
 * point. Only absent entries are filled: if any entry in the range is not
 * absent (a leaf, a block, software data), nothing is written and -EEXIST is
 * returned. Every table page needed is reserved before the first write.
 * No TLB invalidation is needed (absent to valid).
 * Return: 0; -EINVAL (misaligned, zero size, bad @prot); -ERANGE (beyond
 * @ia_bits or the format's physical address width, or wrapping);
 * -EEXIST; -ENOMEM. On any error the table is byte-for-byte unchanged.
 */
int s2pt_map(struct s2pt *pt, gpa_t gpa, paddr_t pa, uint64_t size,
	     unsigned int prot);

/* What s2pt_map_fault() found at, or installed for, the faulting address. */
enum s2_fault_found {
	S2_FAULT_INSTALLED,	/* absent: a leaf was installed (return 0) */
	S2_FAULT_LEAF,		/* a valid leaf covers it (-EEXIST) */
	S2_FAULT_MMIO,		/* an MMIO SPTE covers it (-EEXIST) */
	S2_FAULT_SW,		/* other software data covers it (-EEXIST) */
};

/**
 * struct s2_fault_result - the answer of s2pt_map_fault().
 * @found: what the walk ended on (S2_FAULT_*).
 * @t: S2_FAULT_INSTALLED and S2_FAULT_LEAF: the leaf covering the address,
 *	as s2pt_lookup() reports it (@t.pa includes the offset in the leaf).
 * @gen: S2_FAULT_MMIO: the generation the MMIO SPTE holds (low
 *	S2_MMIO_GEN_BITS bits).
 * @pte: the raw entry the walk ended on (before the install).
 * @level: the level of that entry.
 */
struct s2_fault_result {
	enum s2_fault_found found;
	struct s2_translation t;
	uint64_t gen;
	s2pte_t pte;
	unsigned int level;
};

/**
 * s2pt_map_fault() - resolve a stage-2 fault at @gpa in one walk.
 * @pt: the table.
 * @gpa: the faulting guest-physical address (any offset).
 * @lo: start of the memslot containing @gpa (4 KiB aligned).
 * @hi: its end (exclusive, 4 KiB aligned); @lo <= @gpa < @hi.
 * @pa_lo: physical address backing @lo (4 KiB aligned).
 * @prot: S2_PROT_* of the new leaf (non-empty, valid for the format).
 * @res: filled on 0 and -EEXIST.
 *
 * Walks once from the root to the entry the hardware ends on for @gpa (the
 * first entry that is not a table). If it is a valid leaf, an MMIO SPTE
 * (s2pt_is_mmio()) or other software data, nothing is written and -EEXIST is
 * returned with @res->found saying which. If it is absent at level L, the
 * largest leaf of a level <= L is installed whose block around @gpa lies in
 * [@lo, @hi), whose output (@pa_lo + block - @lo) is aligned to the block
 * size and which the format allows at that level; the tables down to that
 * level are reserved first and linked into the table by one write, after
 * the subtree below is complete. The result is what s2pt_map() of that one
 * block gives. No TLB invalidation (absent to valid), no flush plan.
 * Return: 0 (installed, @res->t is the new leaf); -EEXIST; -EINVAL (bad
 * alignment, @gpa outside [@lo, @hi), bad @prot); -ERANGE (@gpa beyond
 * ia_bits, or the slot's output beyond the format's physical address width
 * or wrapping); -ENOMEM. On any error the table is byte-for-byte unchanged.
 */
int s2pt_map_fault(struct s2pt *pt, gpa_t gpa, gpa_t lo, gpa_t hi,
		   paddr_t pa_lo, unsigned int prot,
		   struct s2_fault_result *res);

/**
 * s2pt_unmap() - remove every translation in [@gpa, @gpa + @size).
 * @pt: the table.
 * @gpa: start, 4 KiB aligned.
 * @size: bytes, a non-zero multiple of 4 KiB.
 *
 * A block straddling an end of the range is first split (pages reserved up
 * front) so that addresses outside the range keep their translation. Fully
 * covered tables are detached with one write each (fast block-level unmap);
 * other leaves and software entries are cleared one by one. Tables emptied by
 * the unmap are freed. All changes are invalidated by ONE plan: a range
 * invalidation with S2PT_F_TLBIRANGE, else per-IPA or whole-VMID, whichever is
 * cheaper by count (EPT: one single-context INVEPT). Without FWB, on formats
 * with S2_FMT_CMO, the normal-memory pages removed are cleaned+invalidated
 * AFTER the invalidation. Detached and emptied table pages are freed after
 * both. Absent entries in the range are fine.
 * Return: 0, -EINVAL, -ERANGE, -ENOMEM (a straddling block could not be
 * split; table unchanged).
 */
int s2pt_unmap(struct s2pt *pt, gpa_t gpa, uint64_t size);

/**
 * s2pt_protect() - set the R/W/X permissions of every leaf in a range.
 * @pt: the table.
 * @gpa: start, 4 KiB aligned.
 * @size: bytes, a non-zero multiple of 4 KiB.
 * @prot: new R/W/X (non-empty, valid for the format); S2_PROT_DEVICE must be
 *	clear: the memory type of each leaf is kept.
 *
 * Blocks straddling an end of the range are split first (pages reserved up
 * front). Absent and software entries are left alone. Leaves whose
 * permissions were narrowed (a right removed) are invalidated by one plan
 * before return; widened-only changes need no invalidation.
 * Return: 0, -EINVAL, -ERANGE, -ENOMEM (table unchanged).
 */
int s2pt_protect(struct s2pt *pt, gpa_t gpa, uint64_t size,
		 unsigned int prot);

/**
 * s2pt_split() - replace blocks by tables of smaller leaves.
 * @pt: the table.
 * @gpa: start, 4 KiB aligned.
 * @size: bytes, a non-zero multiple of 4 KiB.
 * @level: target leaf level (0 = 4 KiB pages, 1 = 2 MiB blocks).
 *
 * Every block of a level above @level that overlaps the range is replaced
 * by a table of the same translation, recursively down to @level, through
 * s2_walk_replace(): break-before-make (invalid, invalidate that block, then
 * the table) on stage-2; on EPT (S2_FMT_NO_BBM) the table is written over the
 * block and the blocks are invalidated by the operation's one plan before
 * return. The translation of every address is unchanged. All pages needed
 * are reserved first.
 * Return: 0, -EINVAL, -ERANGE, -ENOMEM (table unchanged).
 */
int s2pt_split(struct s2pt *pt, gpa_t gpa, uint64_t size, unsigned int level);

/**
 * s2pt_collapse() - replace tables by blocks where the result is the same.
 * @pt: the table.
 * @gpa: start, 4 KiB aligned.
 * @size: bytes, a non-zero multiple of 4 KiB.
 *
 * Every table entry at a block-capable level whose range lies inside
 * [@gpa, @gpa + @size) and whose subtree maps its whole range contiguously
 * (output aligned to the block size) with one prot is replaced by a block,
 * largest first, through s2_walk_replace() (stage-2: break-before-make with
 * walk caches; EPT: the block written over the table, the table's range with
 * walk caches in the operation's one plan); the subtree's pages are freed
 * only after that invalidation.
 * Return: number of blocks made (>= 0), -EINVAL, -ERANGE.
 */
int s2pt_collapse(struct s2pt *pt, gpa_t gpa, uint64_t size);

/**
 * s2pt_lookup() - translate one address through the table.
 * @pt: the table.
 * @gpa: any guest-physical address.
 * @out: filled on success.
 * Return: 0, -ENOENT (absent or software entry), -ERANGE (beyond ia_bits).
 */
int s2pt_lookup(const struct s2pt *pt, gpa_t gpa, struct s2_translation *out);

/**
 * s2pt_walk_level() - the level at which a walk for @gpa ends.
 * @pt: the table.
 * @gpa: any guest-physical address.
 * @level: the level of the first entry that is not a table.
 * A fault there (s2pt_map_fault()) installs a leaf of at most that level.
 * Return: 0, -ERANGE (beyond ia_bits, or no root).
 */
int s2pt_walk_level(const struct s2pt *pt, gpa_t gpa, unsigned int *level);

typedef void (*s2_dump_fn)(void *arg, const char *line);

/**
 * s2pt_dump() - canonical text of a table, one line per non-absent entry.
 * @pt: the table.
 * @emit: called with each line (no trailing newline).
 * @arg: passed to @emit.
 *
 * First line: "<name> ia=<bits> levels=<n> roots=<n> flags=<hex>". Then, depth
 * first in address order, indented two spaces per depth:
 *   "L<l> <gpa>-<last> table n=<count>"
 *   "L<l> <gpa>-<last> leaf pa=<pa> <rwx|-> <normal|device> pte=<raw>"
 *   "L<l> <gpa>-<last> sw pte=<raw>"
 * Addresses are 0x-prefixed 16-digit hex; table addresses are not printed so
 * the text depends only on the mappings.
 * Return: number of lines.
 */
int s2pt_dump(const struct s2pt *pt, s2_dump_fn emit, void *arg);

/**
 * s2pt_audit() - check the table's invariants (CONFIG_MMU_AUDIT runs it
 * after every operation; an error is reported with pr_err).
 * @pt: the table.
 *
 * Checks: every table's stored count equals its non-absent entries; the
 * number and address hash of reachable tables equal those allocated (no table
 * reachable twice, none leaked); every reachable table page is live for the
 * provider (s2_table_page_live()); the reachable tables marked as taken for
 * MMIO SPTEs equal counters.mmio_tables; on a #VE or secure VM every
 * not-present EPT entry but an MMIO SPTE has SUPPRESS_VE; every leaf is at a
 * block-capable level.
 * Return: 0 or -EIO.
 */
int s2pt_audit(const struct s2pt *pt);

/* CONFIG_MMU_AUDIT builds run s2pt_audit() after every operation unless
 * this is false (`audit=off` on the hypervisor command line). */
extern bool s2_audit_on;

/*
 * MMIO SPTEs (DESIGN.md "Memslots and MMIO SPTEs", seed 004): a not-usable
 * 4 KiB leaf entry that records that a guest-physical page is emulated, with
 * the memslot generation at the time it was installed. The encoding is
 * generic (mm/s2_mmio.c); the format gives only constants: the recognition
 * mask and the GPA bits (struct s2_format), and the value of each VM type
 * (arch_s2_mmio_value()). The mask is global, the value per VM type and a
 * property of the table (struct s2pt.mmio_value), validated at s2pt_init().
 *
 * An entry is an MMIO SPTE of a table when (pte & mask) == the table's value
 * and the table has MMIO SPTEs (s2pt_is_mmio()); it then is of kind
 * S2_PTE_INVALID_SW whatever the format alone would say, so "absent" versus
 * "MMIO" depends on the VM type: on an EPT secure VM (S2PT_F_SECURE) the
 * value is 0, an entry of 0 is an MMIO SPTE for GPA 0 and generation 0, and
 * the absent entry is SUPPRESS_VE alone. Values by VM type:
 *   EPT ordinary and #VE VMs: 0b110, write without read, a
 *	misconfiguration exit; SUPPRESS_VE clear (a misconfiguration never
 *	raises #VE);
 *   EPT secure VMs: 0, not present with SUPPRESS_VE clear: #VE in the guest;
 *   stage-2: 0b110 in bits 2:0 (bit 0 clear: an invalid descriptor).
 * The mask is bits 2:0 and 63 on both formats.
 *
 * An MMIO SPTE is software data the hardware never uses: map over it is
 * -EEXIST, unmap clears it without TLB maintenance (nothing caches it),
 * protect/split/collapse leave it alone (a table holding one never
 * collapses), lookup says -ENOENT, the audit counts it and checks it sits at
 * level 0 with its own GPA. s2pt_dump() prints it as
 *   "L0 <gpa>-<last> mmio gen=<gen> pte=<raw>"
 *
 * Layout: the GPA in the format's output-address bits (47/51:12), the
 * generation's 19 bits (as many as KVM x86 keeps) in bits 11:3 (low 9) and
 * 61:52 (high 10): every bit the hardware ignores in such an entry and the
 * GPA does not use. The generation may reuse the bits a TABLE entry keeps its
 * child count in, because an MMIO SPTE is never a table. The format pins its
 * mask and values against these fields with static_assert.
 */
#define S2_MMIO_GEN_BITS	19
#define S2_MMIO_GEN_MAX		(BIT(S2_MMIO_GEN_BITS) - 1)
#define S2_MMIO_GEN_LO_SHIFT	3
#define S2_MMIO_GEN_LO_BITS	9
#define S2_MMIO_GEN_HI_SHIFT	52
#define S2_MMIO_GEN_HI_BITS	10
#define S2PT_MMIO_GEN_MASK	(GENMASK(11, 3) | GENMASK(61, 52))

_Static_assert(S2_MMIO_GEN_LO_BITS + S2_MMIO_GEN_HI_BITS == S2_MMIO_GEN_BITS,
	       "the two generation fields hold S2_MMIO_GEN_BITS");
_Static_assert((GENMASK(S2_MMIO_GEN_LO_BITS - 1, 0) << S2_MMIO_GEN_LO_SHIFT |
		GENMASK(S2_MMIO_GEN_HI_BITS - 1, 0) << S2_MMIO_GEN_HI_SHIFT) ==
	       S2PT_MMIO_GEN_MASK, "the generation fields are S2PT_MMIO_GEN_MASK");

/**
 * s2pt_set_mmio() - install an MMIO SPTE for the page at @gpa.
 * @pt: the table.
 * @gpa: the page (4 KiB aligned).
 * @gen: memslot generation; only its low S2_MMIO_GEN_BITS are stored.
 *
 * Allocates tables down to level 0 as needed (all reserved before the first
 * write), each counted in counters.mmio_tables until it is freed. Only an
 * absent entry is replaced: a leaf, a block or another software entry there
 * is -EEXIST. No TLB maintenance (absent to not-usable).
 * Return: 0, -EINVAL, -ERANGE, -EEXIST, -ENOMEM (table unchanged);
 * -EOPNOTSUPP when the table has no MMIO SPTEs (s2pt_mmio_enabled()).
 */
int s2pt_set_mmio(struct s2pt *pt, gpa_t gpa, uint64_t gen);

/**
 * s2pt_get_mmio() - read the MMIO SPTE covering @gpa.
 * Return: 0 and *@gen (low S2_MMIO_GEN_BITS bits) when the entry for @gpa is
 * an MMIO SPTE, -ENOENT otherwise, -ERANGE beyond ia_bits.
 */
int s2pt_get_mmio(const struct s2pt *pt, gpa_t gpa, uint64_t *gen);

/**
 * struct s2_mmio_hint - where a table's MMIO SPTE for one page was seen, so
 * that the next access to that page is recognised without a walk.
 * @pt: the table (NULL: no hint).
 * @ptep: the level-0 entry.
 * @pte: the MMIO SPTE it held (the page and the generation).
 * @page: the page's GPA.
 * @tables_freed: @pt's counters.tables_freed then.
 * @detaches: @pt's counters.detaches then.
 *
 * A table page stays where it is linked until it is freed or detached, and
 * each of those moves one of the two counters on: while neither moved,
 * @ptep is still the entry for @page in @pt, and it still holds the same
 * MMIO SPTE if it reads @pte. Whether that SPTE's generation is current is
 * the caller's (the VM's memslot generation), and so is keeping @pt alive.
 */
struct s2_mmio_hint {
	const struct s2pt *pt;
	const s2pte_t *ptep;
	s2pte_t pte;
	gpa_t page;
	uint64_t tables_freed;
	uint64_t detaches;
};

/**
 * s2pt_mmio_hint_fill() - record where the MMIO SPTE for @gpa is.
 * @pt: the table.
 * @gpa: any address of the page.
 * @h: filled on success, cleared otherwise.
 * Return: 0 and the SPTE's generation in *@gen (low S2_MMIO_GEN_BITS bits)
 * when the entry for @gpa is an MMIO SPTE; -ENOENT otherwise (also on a
 * table with an external half, whose entries may move), -ERANGE beyond
 * ia_bits.
 */
int s2pt_mmio_hint_fill(const struct s2pt *pt, gpa_t gpa,
			struct s2_mmio_hint *h, uint64_t *gen);

/*
 * Whether @h still names the MMIO SPTE @pt has for the page of @gpa: the
 * same table, the same page, no table page freed or detached since, and the
 * same entry value. Lock-free: the counters are read before the entry and
 * again after, so that a free racing with the read is a miss.
 */
static inline bool s2pt_mmio_hint_hit(const struct s2pt *pt,
				      const struct s2_mmio_hint *h, gpa_t gpa)
{
	const s2pte_t *ptep = h->ptep;
	uint64_t freed = h->tables_freed, detached = h->detaches;
	s2pte_t want = h->pte;

	if (h->pt != pt || h->page != (gpa & ~(gpa_t)(PAGE_SIZE - 1)) ||
	    __atomic_load_n(&pt->counters.tables_freed, __ATOMIC_RELAXED) !=
	    freed ||
	    __atomic_load_n(&pt->counters.detaches, __ATOMIC_RELAXED) !=
	    detached) {
		return false;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(ptep, __ATOMIC_ACQUIRE) == want &&
	       __atomic_load_n(&pt->counters.tables_freed,
			       __ATOMIC_RELAXED) == freed &&
	       __atomic_load_n(&pt->counters.detaches,
			       __ATOMIC_RELAXED) == detached;
}

/* Whether the table has MMIO SPTEs (its VM type's value was accepted). */
static inline bool s2pt_mmio_enabled(const struct s2pt *pt)
{
	return pt->mmio_on;
}

/**
 * s2pt_is_mmio() - whether @pte is an MMIO SPTE of @pt's VM type.
 * @pt: the table (its VM type selects the value).
 * @pte: any entry.
 * Return: s2pt_mmio_enabled(@pt) and (@pte & mask) == @pt->mmio_value.
 */
static inline bool s2pt_is_mmio(const struct s2pt *pt, s2pte_t pte)
{
	return pt->mmio_on && (pte & pt->fmt.mmio_mask) == pt->mmio_value;
}

/* A level-0 MMIO SPTE of @pt for the page @gpa, generation @gen (truncated). */
s2pte_t s2pt_make_mmio(const struct s2pt *pt, gpa_t gpa, uint64_t gen);
/* The generation an MMIO SPTE holds. */
uint64_t s2pt_mmio_gen(s2pte_t pte);
/* The page address an MMIO SPTE of @pt holds. */
gpa_t s2pt_mmio_gpa(const struct s2pt *pt, s2pte_t pte);

/**
 * s2pt_mmio_value_valid() - check an MMIO mask/value pair for a VM type.
 * @pt: a table of that VM type (its flags and format).
 * @mask: the recognition mask.
 * @value: the value (pte & @mask) == @value identifies an MMIO SPTE.
 *
 * Refuses an empty mask, a value outside the mask, a mask overlapping the
 * generation or GPA bits, a value the VM's absent entry matches (every empty
 * entry would be "MMIO": value 0 on an ordinary EPT VM), and a value whose
 * entries (with no data and with every data bit set) the hardware could use
 * as a leaf or table or that equal the absent entry.
 * Return: true when the pair is usable.
 */
bool s2pt_mmio_value_valid(const struct s2pt *pt, s2pte_t mask,
			   s2pte_t value);

/**
 * s2pt_set_mmio_value() - give an empty table another MMIO SPTE value.
 * @pt: the table; no entry may be in use (MMIO SPTEs of the old value
 *	would change kind).
 * @value: the new value, checked by s2pt_mmio_value_valid() with the
 *	format's mask.
 *
 * For VM types whose value is not the format's default for their flags
 * (and for tests). A refused value leaves the table without MMIO SPTEs.
 * Return: 0; -EBUSY (not empty, nothing changed); -EINVAL (refused: the
 * table now has no MMIO SPTEs).
 */
int s2pt_set_mmio_value(struct s2pt *pt, s2pte_t value);

/* The root descriptor for the hardware: EPTP (x86) or VTTBR_EL2 (arm64). */
uint64_t s2pt_root_desc(const struct s2pt *pt);


static inline bool s2_level_has_blocks(const struct s2pt *pt,
				       unsigned int level)
{
	return pt->fmt.block_levels & (1U << level);
}

#endif
