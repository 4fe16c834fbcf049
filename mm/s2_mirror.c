// SPDX-License-Identifier: MIT
/*
 * Mirror tables (include/mm/s2_ext.h): the core's operations on a table
 * whose every change is reflected to a secure module through four calls.
 *
 * A mirror is built top down, one entry at a time, each entry frozen while
 * its call runs (KVM's __tdp_mmu_set_spte_atomic on a mirror): the module
 * needs the parent linked before the child, and a refusal half way must
 * leave mirror and module describing the same tables. So the bottom-up,
 * one-write install of s2pt_map_fault() is not used here; what a mirror
 * gains from it (no torn subtree for a hardware walker) does not matter, as
 * no hardware walks the mirror. Leaves are 4 KiB: a block would need the
 * module's PROMOTE/DEMOTE for every partial unmap, and split is refused
 * (KVM maps TDX private memory with 4 KiB pages only, for the same reason).
 *
 * No flush plan: the hardware never walks the mirror, and the module's zap
 * does the TLB work of the real tables (block, track, kick).
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <mm/s2_ext.h>
#include "s2_internal.h"

/* ---- The frozen marker ------------------------------------------------- */

s2pte_t s2pt_frozen(const struct s2pt *pt)
{
	return arch_s2_make_sw(pt, S2_FROZEN_SW);
}

bool s2pt_is_frozen(const struct s2pt *pt, s2pte_t pte, unsigned int level)
{
	return s2_kind(pt, pte, level) == S2_PTE_INVALID_SW &&
	       !s2pt_is_mmio(pt, pte) && arch_s2_pte_sw(pte) == S2_FROZEN_SW;
}

int s2pt_attach_ext(struct s2pt *pt, struct s2_ext *ext)
{
	if (!ext || !ext->ops || !ext->ops->link_table ||
	    !ext->ops->set_leaf || !ext->ops->zap_leaf ||
	    !ext->ops->free_table) {
		return -EINVAL;
	}
	if (!pt->root || pt->root_count) {
		return -EBUSY;
	}
	pt->ext = ext;
	return 0;
}

/* ---- Mirror table -> external table (teardown needs the pair) ---------- */

/*
 * Pages of pairs: word 0 links the next page, then S2_LINK_PAIRS pairs of
 * (mirror table, external table); a pair with mirror 0 is free. Taken from
 * the table-page provider, outside the table's accounting (they are not
 * tables), and freed when the mirror is torn down. A linear search: only
 * table links and teardown use it.
 */
#define S2_LINK_PAIRS	((PAGE_SIZE / sizeof(paddr_t) - 1) / 2)

static paddr_t *link_slot(const struct s2_ext *ext, paddr_t mirror)
{
	for (paddr_t pg = ext->links; pg;) {
		paddr_t *w = (paddr_t *)s2_table_va(pg);

		for (unsigned int i = 0; i < S2_LINK_PAIRS; i++) {
			if (w[1 + 2 * i] == mirror) {
				return &w[1 + 2 * i];
			}
		}
		pg = w[0];
	}
	return NULL;
}

/* Make sure a free pair exists before anything is frozen. */
static int link_reserve(struct s2_ext *ext)
{
	paddr_t pg;
	paddr_t *w;

	if (link_slot(ext, 0)) {
		return 0;
	}
	if (s2_table_page_alloc(&pg)) {
		return -ENOMEM;
	}
	w = (paddr_t *)s2_table_va(pg);
	for (unsigned int i = 0; i < PAGE_SIZE / sizeof(paddr_t); i++) {
		w[i] = 0;
	}
	w[0] = ext->links;
	ext->links = pg;
	return 0;
}

static void link_add(struct s2_ext *ext, paddr_t mirror, paddr_t ext_table)
{
	paddr_t *slot = link_slot(ext, 0);

	if (WARN_ON_ONCE(!slot)) {
		return;		/* link_reserve() ran first: a core bug */
	}
	slot[0] = mirror;
	slot[1] = ext_table;
}

static paddr_t link_take(struct s2_ext *ext, paddr_t mirror)
{
	paddr_t *slot = link_slot(ext, mirror);
	paddr_t ext_table;

	if (!mirror || WARN_ON_ONCE(!slot)) {
		return 0;
	}
	ext_table = slot[1];
	slot[0] = 0;
	slot[1] = 0;
	return ext_table;
}

static void links_free(struct s2_ext *ext)
{
	while (ext->links) {
		paddr_t pg = ext->links;

		ext->links = ((paddr_t *)s2_table_va(pg))[0];
		s2_table_page_free(pg);
	}
}

paddr_t s2_ext_table_of(const struct s2_ext *ext, paddr_t mirror_table)
{
	paddr_t *slot = mirror_table ? link_slot(ext, mirror_table) : NULL;

	return slot ? slot[1] : 0;
}

/* ---- Refusals, leaks, stopping the VM ------------------------------------ */

static void ext_stop(struct s2_ext *ext, const char *reason, gpa_t gpa,
		     int err)
{
	if (ext->stopped) {
		return;
	}
	ext->stopped = true;
	ext->reason = reason;
	pr_err("s2pt: mirror: %s (gpa 0x%llx, %d): VM stopped\n", reason,
	       (unsigned long long)gpa, err);
	if (ext->stop) {
		ext->stop(ext->stop_arg, reason);
	}
}

static void leak_page(struct s2_ext *ext, paddr_t pa, unsigned int level)
{
	ext->stats.leaked_pages += S2_LEVEL_SIZE(level) / PAGE_SIZE;
	if (ext->nr_leaked < S2_EXT_LEAK_MAX) {
		ext->leaked[ext->nr_leaked] = pa | level;
	}
	if (ext->nr_leaked <= S2_EXT_LEAK_MAX) {
		ext->nr_leaked++;
	}
}

bool s2_ext_page_leaked(const struct s2_ext *ext, paddr_t pa)
{
	if (ext->nr_leaked > S2_EXT_LEAK_MAX) {
		return true;	/* the record overflowed: keep every page */
	}
	for (unsigned int i = 0; i < ext->nr_leaked; i++) {
		paddr_t base = ALIGN_DOWN(ext->leaked[i], PAGE_SIZE);
		unsigned int level = (unsigned int)(ext->leaked[i] & 3);

		if (pa >= base && pa < base + S2_LEVEL_SIZE(level)) {
			return true;
		}
	}
	return false;
}

/*
 * Account a call's answer: 0, -EBUSY (nothing changed) or a refusal. A zap
 * or a free cannot be left half done, so -EBUSY there (the module already
 * retried after a kick) is a refusal like any other.
 */
static int ext_answer(struct s2_ext *ext, enum s2_ext_call c, int ret)
{
	if (ret == -EBUSY && (c == S2_EXT_LINK || c == S2_EXT_SET)) {
		ext->stats.busy[c]++;
	} else if (ret) {
		ext->stats.refused[c]++;
	}
	return ret;
}

int s2_mirror_refuse(struct s2pt *pt)
{
	pt->ext->stats.refused_ops++;
	return -EPERM;
}

/* ---- Building: link a table, set a leaf ----------------------------------- */

/* Write @new over @ptep (holding @old) at @level, keeping counts. */
static void mirror_write(struct s2pt *pt, s2pte_t *ptep, s2pte_t old,
			 unsigned int level, s2pte_t *parent, s2pte_t new)
{
	s2_link_new(pt, ptep, old, level, parent, new);
}

/*
 * The absent entry @ptep (@e) at @level becomes a table. Return 0, -EBUSY
 * (restored), -ENOMEM (nothing changed) or -EIO (refused: VM stopped).
 */
static int mirror_link(struct s2pt *pt, s2pte_t *ptep, s2pte_t e,
		       unsigned int level, s2pte_t *parent, gpa_t gpa)
{
	struct s2_ext *ext = pt->ext;
	const s2pte_t frozen = s2pt_frozen(pt);
	gpa_t base = ALIGN_DOWN(gpa, S2_LEVEL_SIZE(level));
	struct s2_page_cache c;
	paddr_t ext_table = 0, page;
	int ret;

	ret = link_reserve(ext);
	if (!ret) {
		ret = s2_cache_reserve(pt, &c, 1);
	}
	if (ret) {
		return ret;
	}
	mirror_write(pt, ptep, e, level, parent, frozen);
	ext->stats.calls[S2_EXT_LINK]++;
	ret = ext_answer(ext, S2_EXT_LINK,
			 ext->ops->link_table(ext->ctx, base, level,
					      &ext_table));
	if (ret) {
		mirror_write(pt, ptep, frozen, level, parent, e);
		s2_cache_release(pt, &c);
		if (ret != -EBUSY) {
			ext_stop(ext, "the secure module refused a table", base,
				 ret);
			return -EIO;
		}
		return ret;
	}
	page = s2_cache_take(pt, &c);
	link_add(ext, page, ext_table);
	mirror_write(pt, ptep, frozen, level, parent,
		     arch_s2_make_table(pt, page, 0));
	return 0;
}

/*
 * Map the 4 KiB page @gpa to @pa, linking tables on the way down.
 * Return 0, -EEXIST, -EAGAIN (a frozen entry: retry), -EBUSY (the module
 * was busy; what was linked stays, the rest unchanged), -ENOMEM, -EIO.
 */
static int mirror_install(struct s2pt *pt, gpa_t gpa, paddr_t pa,
			  unsigned int prot, struct s2_fault_result *res)
{
	struct s2_ext *ext = pt->ext;
	const s2pte_t frozen = s2pt_frozen(pt);
	unsigned int level = s2_root_level(pt);
	s2pte_t *table = s2_table_va(pt->root), *parent = NULL, *ptep, e, leaf;
	enum s2_pte_kind k;
	int ret;

	for (;;) {
		ptep = &table[s2_entry_index(pt, gpa, level)];
		e = __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
		if (s2pt_is_frozen(pt, e, level)) {
			ext->stats.frozen_backoffs++;
			return -EAGAIN;
		}
		k = s2_kind(pt, e, level);
		if (level == 0 || (k != S2_PTE_TABLE && k != S2_PTE_ABSENT)) {
			break;
		}
		if (k == S2_PTE_TABLE) {
			parent = ptep;
			table = s2_table_va(s2_table_pa(e));
			level--;
			continue;
		}
		if (ext->stopped) {
			return -EIO;
		}
		ret = mirror_link(pt, ptep, e, level, parent, gpa);
		if (ret) {
			return ret;
		}
	}
	if (res) {
		res->pte = e;
		res->level = level;
	}
	if (k != S2_PTE_ABSENT) {
		if (res) {
			res->found = k == S2_PTE_LEAF ? S2_FAULT_LEAF :
						       S2_FAULT_SW;
			res->t.pa = arch_s2_pte_pa(e, level) +
				    (gpa & (S2_LEVEL_SIZE(level) - 1));
			res->t.prot = k == S2_PTE_LEAF ?
				      arch_s2_pte_prot(pt, e) : 0;
			res->t.level = level;
			res->t.pte = e;
		}
		return -EEXIST;
	}
	if (ext->stopped) {
		return -EIO;
	}
	mirror_write(pt, ptep, e, 0, parent, frozen);
	ext->stats.calls[S2_EXT_SET]++;
	ret = ext_answer(ext, S2_EXT_SET,
			 ext->ops->set_leaf(ext->ctx, gpa, 0, pa, prot));
	if (ret) {
		mirror_write(pt, ptep, frozen, 0, parent, e);
		if (ret != -EBUSY) {
			ext_stop(ext, "the secure module refused a page", gpa,
				 ret);
			return -EIO;
		}
		return ret;
	}
	leaf = arch_s2_make_leaf(pt, pa, prot, 0);
	mirror_write(pt, ptep, frozen, 0, parent, leaf);
	if (res) {
		res->found = S2_FAULT_INSTALLED;
		res->t.pa = pa;
		res->t.prot = prot;
		res->t.level = 0;
		res->t.pte = leaf;
	}
	return 0;
}

/* The one kind of leaf a module maps: 4 KiB, RWX, normal memory. */
static int mirror_prot_check(struct s2pt *pt, unsigned int prot)
{
	if (prot != S2_PROT_RWX) {
		pt->ext->stats.refused_ops++;
		return -EINVAL;
	}
	return 0;
}

int s2_mirror_fault(struct s2pt *pt, gpa_t gpa, gpa_t lo, gpa_t hi,
		    paddr_t pa_lo, unsigned int prot,
		    struct s2_fault_result *res)
{
	gpa_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
	int ret;

	(void)hi;	/* one 4 KiB page, inside [lo, hi) (checked) */
	ret = mirror_prot_check(pt, prot);
	if (ret) {
		return ret;
	}
	ret = mirror_install(pt, page, pa_lo + (page - lo), prot, res);
	if (ret == 0 || ret == -EEXIST) {
		res->t.pa += gpa - page;	/* the offset, as s2pt_lookup() */
	}
	if (ret != -EAGAIN) {
		/* A backed-off fault wrote nothing and must not audit: the
		 * entry it met is another update's, still in flight. */
		s2_op_done(pt, "mirror_fault");
	}
	/* A busy module is a frozen entry to the faulting vCPU: refault. */
	return ret == -EBUSY ? -EAGAIN : ret;
}

int s2_mirror_map(struct s2pt *pt, gpa_t gpa, paddr_t pa, uint64_t size,
		  unsigned int prot)
{
	int ret;

	ret = mirror_prot_check(pt, prot);
	if (ret) {
		return ret;
	}
	/* Everything absent first, so -EEXIST changes nothing. */
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		unsigned int level;
		s2pte_t e;

		s2_find_entry(pt, gpa + off, &e, &level);
		if (s2pt_is_frozen(pt, e, level)) {
			pt->ext->stats.frozen_backoffs++;
			return -EAGAIN;
		}
		if (s2_kind(pt, e, level) != S2_PTE_ABSENT) {
			return -EEXIST;
		}
	}
	if (pt->ext->stopped) {
		return -EIO;
	}
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		ret = mirror_install(pt, gpa + off, pa + off, prot, NULL);
		for (unsigned int t = 0;
		     ret == -EBUSY && t < S2_EXT_BUSY_RETRIES; t++) {
			pt->ext->stats.retries++;
			ret = mirror_install(pt, gpa + off, pa + off, prot,
					     NULL);
		}
		if (ret) {
			/*
			 * The pages before stay mapped (undoing them would be
			 * module zaps); -EAGAIN asks the caller to map the
			 * rest again.
			 */
			if (ret != -EAGAIN) {
				s2_op_done(pt, "mirror_map");
			}
			return ret == -EBUSY ? -EAGAIN : ret;
		}
	}
	s2_op_done(pt, "mirror_map");
	return 0;
}

/* ---- Zapping leaves ------------------------------------------------------- */

struct mirror_zap {
	int err;
};

/* Zap one leaf through the module; a refusal leaks its page. */
static void mirror_zap_entry(struct s2pt *pt, struct s2_walk_ctx *ctx,
			     int *err)
{
	struct s2_ext *ext = pt->ext;
	s2pte_t old = ctx->old;
	enum s2_pte_kind k = s2_kind(pt, old, ctx->level);
	paddr_t pa;
	int ret;

	if (k == S2_PTE_ABSENT) {
		return;
	}
	if (WARN_ON_ONCE(s2pt_is_frozen(pt, old, ctx->level))) {
		*err = -EAGAIN;	/* an update in flight: nothing is serialized */
		return;
	}
	if (k != S2_PTE_LEAF) {
		/* Software data is never reflected: the module has none. */
		s2_walk_set(ctx, arch_s2_pte_absent(pt));
		return;
	}
	pa = arch_s2_pte_pa(old, ctx->level);
	s2_walk_set(ctx, s2pt_frozen(pt));
	ext->stats.calls[S2_EXT_ZAP]++;
	ret = ext_answer(ext, S2_EXT_ZAP,
			 ext->ops->zap_leaf(ext->ctx, ctx->addr, ctx->level,
					    pa));
	/*
	 * Gone from the mirror either way: after a refusal the module may
	 * still map the page, so it is leaked, never handed out again (seed
	 * 000), and the VM stops.
	 */
	s2_walk_set(ctx, arch_s2_pte_absent(pt));
	if (ret) {
		leak_page(ext, pa, ctx->level);
		ext_stop(ext, "the secure module refused to remove a page",
			 ctx->addr, ret);
		*err = -EIO;
	}
}

static int mirror_zap_walker(struct s2_walk_ctx *ctx,
			     enum s2_walk_visit visit)
{
	struct mirror_zap *z = ctx->arg;

	if (visit == S2_WALK_LEAF) {
		mirror_zap_entry(ctx->pt, ctx, &z->err);
	}
	return 0;
}

int s2_mirror_unmap(struct s2pt *pt, gpa_t gpa, uint64_t size)
{
	struct mirror_zap z = { 0 };
	struct s2_walker w = {
		.cb = mirror_zap_walker,
		.arg = &z,
		.flags = S2_WALK_LEAF | S2_WALK_PRESENT,
	};
	int ret;

	/* Leaves only: tables stay linked until s2pt_destroy(). */
	ret = s2pt_walk(pt, gpa, size, &w);
	s2_op_done(pt, "mirror_unmap");
	return ret ? ret : z.err;
}

/* ---- Teardown ------------------------------------------------------------ */

/*
 * Every leaf under @table (entries at @level, the first mapping @base) is
 * zapped and every table freed, children before parents, through the
 * module: the order TDX demands of SEPT.REMOVE and that RECLAIM allows.
 */
static void mirror_free_tree(struct s2pt *pt, s2pte_t *table,
			     unsigned int level, gpa_t base, unsigned int n,
			     s2pte_t *parent)
{
	struct s2_ext *ext = pt->ext;

	for (unsigned int i = 0; i < n; i++) {
		s2pte_t *ptep = &table[i];
		s2pte_t e = *ptep;
		gpa_t addr = base + (gpa_t)i * S2_LEVEL_SIZE(level);
		enum s2_pte_kind k = s2_kind(pt, e, level);
		paddr_t child, ext_table;
		int ret, delta = 0;

		if (k == S2_PTE_ABSENT) {
			continue;
		}
		if (k != S2_PTE_TABLE) {
			struct s2_walk_ctx ctx = {
				.pt = pt, .ptep = ptep, .old = e,
				.addr = addr, .end = addr + S2_LEVEL_SIZE(level),
				.level = level, .delta = &delta,
			};
			int err = 0;

			mirror_zap_entry(pt, &ctx, &err);
			/* The table's count is not needed any more. */
			continue;
		}
		child = s2_table_pa(e);
		mirror_free_tree(pt, s2_table_va(child), level - 1, addr,
				 S2_PTRS_PER_TABLE, ptep);
		ext_table = link_take(ext, child);
		ext->stats.calls[S2_EXT_FREE]++;
		ret = ext_answer(ext, S2_EXT_FREE,
				 ext->ops->free_table(ext->ctx, addr, level,
						      ext_table));
		if (ret) {
			ext->stats.leaked_tables++;
			ext_stop(ext, "the secure module refused to free a table",
				 addr, ret);
		}
		/* The mirror's own page is ordinary memory: always freed. */
		mirror_write(pt, ptep, e, level, parent,
			     arch_s2_pte_absent(pt));
		s2_table_free(pt, s2_table_ref(pt, e));
	}
}

void s2_mirror_teardown(struct s2pt *pt)
{
	unsigned int level = s2_root_level(pt);
	s2pte_t *root = s2_table_va(pt->root);

	mirror_free_tree(pt, root, level, 0, pt->fmt.root_entries, NULL);
	/* Leaves directly in the root were cleared without a count. */
	pt->root_count = 0;
	links_free(pt->ext);
}
