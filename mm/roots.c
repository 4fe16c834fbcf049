// SPDX-License-Identifier: MIT
/*
 * Roots, invalidate-all-roots and the per-vCPU root cache (the rules and the
 * safety argument are in include/mm/roots.h).
 */
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/roots.h>
#include <mm/s2_ext.h>
#include <mm/s2_walk.h>

/* ---- The MMU lock ------------------------------------------------------ */

void s2_mmu_write_lock(struct s2_mmu *mmu)
{
	rwlock_write_lock(&mmu->lock.rw);
}

void s2_mmu_write_unlock(struct s2_mmu *mmu)
{
	WARN_ON_ONCE(!rwlock_held_write(&mmu->lock.rw));
	rwlock_write_unlock(&mmu->lock.rw);
}

void s2_mmu_read_lock(struct s2_mmu *mmu)
{
	rwlock_read_lock(&mmu->lock.rw);
}

void s2_mmu_read_unlock(struct s2_mmu *mmu)
{
	WARN_ON_ONCE(!rwlock_readers(&mmu->lock.rw));
	rwlock_read_unlock(&mmu->lock.rw);
}

void s2_mmu_assert_write(const struct s2_mmu *mmu)
{
	WARN_ON_ONCE(!rwlock_held_write(&mmu->lock.rw));
}

void s2_mmu_assert_held(const struct s2_mmu *mmu)
{
	WARN_ON_ONCE(!rwlock_held(&mmu->lock.rw));
}

uint64_t s2_mmu_lock_waits(const struct s2_mmu *mmu)
{
	return __atomic_load_n(&mmu->lock.rw.waits, __ATOMIC_RELAXED);
}

/* ---- Roots --------------------------------------------------------------- */

int s2_mmu_init(struct s2_mmu *mmu, unsigned int ia_bits, unsigned int flags,
		uint16_t vmid_base)
{
	struct s2_format fmt;

	memset(mmu, 0, sizeof(*mmu));
	if ((flags & ~S2PT_F_MASK) || arch_s2_format_init(&fmt, ia_bits) ||
	    vmid_base == 0) {
		return -EINVAL;
	}
	mmu->ia_bits = ia_bits;
	mmu->levels = fmt.levels;
	mmu->flags = flags;
	mmu->vmid_base = vmid_base;
	return 0;
}

union s2_role s2_mmu_role(const struct s2_mmu *mmu, unsigned int view)
{
	union s2_role role = { .word = 0 };

	/* Every guest entry computes it: no format built here. */
	role.levels = mmu->levels;
	role.ia_bits = mmu->ia_bits;
	role.view = view;
	role.ve = !!(mmu->flags & S2PT_F_VE);
	return role;
}

union s2_role s2_mmu_mirror_role(const struct s2_mmu *mmu)
{
	union s2_role role = s2_mmu_role(mmu, 0);

	role.mirror = 1;
	return role;
}

static struct s2_root *root_alloc(struct s2_mmu *mmu, union s2_role role,
				  int *err)
{
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		struct s2_root *r = &mmu->pool[i];
		int ret;

		if (r->in_use) {
			continue;
		}
		if (role.mirror && (!mmu->ext || role.view)) {
			*err = -EINVAL;	/* no module, or a mirror of a view */
			return NULL;
		}
		/* Slot i tags its TLB entries with VMID vmid_base + i. */
		ret = s2pt_init_on(&r->pt, mmu->ia_bits, mmu->flags,
				   (uint16_t)(mmu->vmid_base + i),
				   mmu->spare_root);
		mmu->spare_root = 0;
		if (!ret && role.mirror) {
			ret = s2pt_attach_ext(&r->pt, mmu->ext);
			if (ret) {
				s2pt_destroy(&r->pt);
			}
		}
		if (ret) {
			*err = ret;
			return NULL;
		}
		if (mmu->lock_tables) {
			r->pt.lock = &mmu->lock.rw;
		}
		r->role = role;
		r->refcount = 1;	/* the list's reference */
		r->in_use = true;
		r->mmu = mmu;
		r->next = mmu->list;
		mmu->list = r;
		mmu->nr_listed++;
		mmu->stats.root_allocs++;
		return r;
	}
	*err = -ENOSPC;
	return NULL;
}

static void add_counters(struct s2_counters *sum, const struct s2_counters *c)
{
	sum->tables_alloc += c->tables_alloc;
	sum->tables_freed += c->tables_freed;
	sum->tables_in_use += c->tables_in_use;
	sum->flushes += c->flushes;
	sum->tlbi_ipa += c->tlbi_ipa;
	sum->tlbi_range += c->tlbi_range;
	sum->tlbi_range_insns += c->tlbi_range_insns;
	sum->tlbi_vmid += c->tlbi_vmid;
	sum->tlbi_walk += c->tlbi_walk;
	sum->barriers += c->barriers;
	sum->cmo_pages += c->cmo_pages;
	sum->entries_written += c->entries_written;
	sum->count_writes += c->count_writes;
	sum->detaches += c->detaches;
	sum->early_flushes += c->early_flushes;
	sum->fault_retries += c->fault_retries;
	sum->remote_flushes += c->remote_flushes;
}

static void root_free(struct s2_root *r)
{
	struct s2_mmu *mmu = r->mmu;

	/* A zapped root's pages are all absent: the next root starts there. */
	if (!mmu->spare_root) {
		mmu->spare_root = s2pt_take_clean_root(&r->pt);
	}
	s2pt_destroy(&r->pt);
	add_counters(&mmu->retired, &r->pt.counters);
	r->in_use = false;
	r->next = NULL;
	mmu->stats.root_frees++;
}

bool s2_root_get(struct s2_root *root)
{
	if (WARN_ON_ONCE(!root->in_use || root->role.invalid)) {
		root->mmu->stats.refused_gets++;
		return false;
	}
	root->refcount++;
	return true;
}

void s2_root_put(struct s2_root *root)
{
	if (WARN_ON_ONCE(!root->in_use || !root->refcount)) {
		return;
	}
	if (root->refcount == 1 && WARN_ON_ONCE(!root->role.invalid)) {
		return;	/* the list's reference is never dropped this way */
	}
	if (--root->refcount == 0) {
		root_free(root);
	}
}

struct s2_root *s2_mmu_get_root(struct s2_mmu *mmu, union s2_role role,
				int *err)
{
	struct s2_root *r;

	if (WARN_ON_ONCE(role.invalid)) {
		*err = -EINVAL;
		return NULL;
	}
	for (r = mmu->list; r; r = r->next) {
		if (r->role.word == role.word) {
			return s2_root_get(r) ? r : NULL;
		}
	}
	r = root_alloc(mmu, role, err);
	if (r) {
		r->refcount++;	/* the caller's */
	}
	return r;
}

/* Unmap the whole IPA space of @r, @chunk bytes at a time, yielding. */
static void zap_root(struct s2_mmu *mmu, struct s2_root *r)
{
	uint64_t end = BIT(r->pt.fmt.ia_bits);
	/* Whole 1 GiB chunks: no block straddles a chunk edge. */
	uint64_t chunk = mmu->zap_chunk ? ALIGN_UP(mmu->zap_chunk, SZ_1G) : end;

	for (uint64_t gpa = 0; gpa < end; gpa += chunk) {
		int ret = s2pt_unmap(&r->pt, gpa, MIN(chunk, end - gpa));

		/* Nothing straddles a chunk edge, so nothing needs a page. */
		WARN_ON_ONCE(ret);
		if (gpa + chunk < end && mmu->yield) {
			mmu->stats.yields++;
			s2_mmu_write_unlock(mmu);
			mmu->yield(mmu, mmu->yield_arg);
			s2_mmu_write_lock(mmu);
		}
	}
}

/* Invalidate the listed direct roots of view @view (all views: -1). */
static unsigned int invalidate(struct s2_mmu *mmu, int view)
{
	struct s2_root *priv = NULL, **pp;
	unsigned int n = 0;

	s2_mmu_write_lock(mmu);
	for (pp = &mmu->list; *pp;) {
		struct s2_root *r = *pp;

		if (r->role.mirror || (view >= 0 && r->role.view != view)) {
			pp = &r->next;
			continue;
		}
		/*
		 * The caller's reference replaces the list's: take it while
		 * the root is still valid, then nothing can take another.
		 */
		s2_root_get(r);
		r->role.invalid = 1;
		*pp = r->next;
		mmu->nr_listed--;
		r->next = priv;
		priv = r;
		r->refcount--;	/* the list no longer holds it */
		n++;
	}
	while (priv) {
		struct s2_root *r = priv;

		priv = r->next;
		r->next = NULL;
		zap_root(mmu, r);
		s2_root_put(r);
	}
	if (n) {
		mmu->stats.invalidations++;
		mmu->stats.roots_invalidated += n;
	}
	s2_mmu_write_unlock(mmu);
	return n;
}

unsigned int s2_mmu_invalidate_all(struct s2_mmu *mmu)
{
	return invalidate(mmu, -1);
}

unsigned int s2_mmu_invalidate_view(struct s2_mmu *mmu, unsigned int view)
{
	return invalidate(mmu, (int)view);
}

int s2_mmu_unmap_everywhere(struct s2_mmu *mmu, gpa_t gpa, uint64_t size)
{
	int first = 0;

	s2_mmu_assert_write(mmu);
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		struct s2_root *r = &mmu->pool[i];
		int ret;

		if (!r->in_use) {
			continue;
		}
		ret = s2pt_unmap(&r->pt, gpa, size);
		if (ret && !first) {
			first = ret;
		}
	}
	return first;
}

struct pa_probe {
	paddr_t pa;
	paddr_t end;
	bool found;
};

static int pa_probe_walker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct pa_probe *p = ctx->arg;
	paddr_t pa;

	(void)visit;
	if (arch_s2_pte_kind(ctx->old, ctx->level) != S2_PTE_LEAF) {
		return 0;
	}
	pa = arch_s2_pte_pa(ctx->old, ctx->level);
	if (pa < p->end && pa + S2_LEVEL_SIZE(ctx->level) > p->pa) {
		p->found = true;
		return -EEXIST;
	}
	return 0;
}

bool s2_mmu_pa_unmapped(const struct s2_mmu *mmu, paddr_t pa, uint64_t size)
{
	struct pa_probe p = { .pa = pa, .end = pa + size };
	struct s2_walker w = {
		.cb = pa_probe_walker, .arg = &p,
		.flags = S2_WALK_LEAF | S2_WALK_PRESENT,
	};

	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		struct s2_root *r = (struct s2_root *)&mmu->pool[i];

		if (!r->in_use) {
			continue;
		}
		/* The walker writes nothing when the callback writes nothing. */
		s2pt_walk(&r->pt, 0, BIT(r->pt.fmt.ia_bits), &w);
		if (p.found) {
			return false;
		}
	}
	return true;
}

void s2_mmu_counters(const struct s2_mmu *mmu, struct s2_counters *out)
{
	*out = mmu->retired;
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		if (mmu->pool[i].in_use) {
			add_counters(out, &mmu->pool[i].pt.counters);
		}
	}
}

static int audit_fail(int *errors, const char *what, unsigned int slot)
{
	if ((*errors)++ < 8) {
		pr_err("s2 roots audit: %s (root %u)\n", what, slot);
	}
	return -EIO;
}

int s2_mmu_audit(const struct s2_mmu *mmu)
{
	int errors = 0;

	for (const struct s2_root *r = mmu->list; r; r = r->next) {
		unsigned int slot = (unsigned int)(r - mmu->pool);

		if (!r->in_use || r->role.invalid || !r->refcount) {
			audit_fail(&errors, "listed root invalid or unused",
				   slot);
		}
		for (const struct s2_root *o = r->next; o; o = o->next) {
			if (o->role.word == r->role.word) {
				audit_fail(&errors, "two listed roots share a role",
					   slot);
			}
		}
	}
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		const struct s2_root *r = &mmu->pool[i];
		bool listed = false;

		if (!r->in_use) {
			continue;
		}
		for (const struct s2_root *l = mmu->list; l; l = l->next) {
			listed |= l == r;
		}
		if (!r->refcount) {
			audit_fail(&errors, "root in use without a reference", i);
		}
		if (!r->role.invalid && !listed) {
			audit_fail(&errors, "valid root not on the list", i);
		}
		if (s2pt_audit(&r->pt)) {
			audit_fail(&errors, "table audit failed", i);
		}
	}
	return errors ? -EIO : 0;
}

unsigned int s2_mmu_nr_roots(const struct s2_mmu *mmu)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		n += mmu->pool[i].in_use;
	}
	return n;
}

unsigned int s2_mmu_nr_listed(const struct s2_mmu *mmu)
{
	unsigned int n = 0;

	for (const struct s2_root *r = mmu->list; r; r = r->next) {
		n++;
	}
	return n;
}

void s2_mmu_destroy(struct s2_mmu *mmu)
{
	s2_mmu_write_lock(mmu);
	while (mmu->list) {
		struct s2_root *r = mmu->list;

		mmu->list = r->next;
		mmu->nr_listed--;
		r->next = NULL;
		r->role.invalid = 1;
		s2_root_put(r);		/* the list's reference */
	}
	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		struct s2_root *r = &mmu->pool[i];

		if (r->in_use) {
			/* A cache or zapper that was not emptied first. */
			WARN_ON_ONCE(r->refcount);
			root_free(r);
		}
	}
	if (mmu->spare_root) {
		struct s2_format fmt;

		arch_s2_format_init(&fmt, mmu->ia_bits);
		s2_root_free(mmu->spare_root, fmt.root_pages);
		mmu->spare_root = 0;
	}
	s2_mmu_write_unlock(mmu);
}

/* ---- The per-vCPU root cache ---------------------------------------------- */

/* Remove prev[i], shifting the older ones up; returns what was there. */
static struct s2_root *cache_take(struct s2_root_cache *c, unsigned int i)
{
	struct s2_root *r = c->prev[i];

	for (; i + 1 < S2_ROOT_CACHE_PREV; i++) {
		c->prev[i] = c->prev[i + 1];
	}
	c->prev[S2_ROOT_CACHE_PREV - 1] = NULL;
	return r;
}

/* Push @r as the most recent previous root, evicting the oldest. */
static void cache_push(struct s2_root_cache *c, struct s2_root *r)
{
	struct s2_root *old = c->prev[S2_ROOT_CACHE_PREV - 1];

	if (old) {
		old->mmu->stats.cache_evictions++;
		s2_root_put(old);
	}
	for (unsigned int i = S2_ROOT_CACHE_PREV - 1; i > 0; i--) {
		c->prev[i] = c->prev[i - 1];
	}
	c->prev[0] = r;
}

void s2_root_cache_drop_invalid(struct s2_root_cache *c)
{
	if (c->cur && c->cur->role.invalid) {
		s2_root_put(c->cur);
		c->cur = NULL;
	}
	for (unsigned int i = 0; i < S2_ROOT_CACHE_PREV;) {
		if (c->prev[i] && c->prev[i]->role.invalid) {
			s2_root_put(cache_take(c, i));
		} else {
			i++;
		}
	}
}

int s2_root_cache_load(struct s2_root_cache *c, struct s2_mmu *mmu,
		       union s2_role role)
{
	struct s2_root *r;
	int err = 0;

	s2_root_cache_drop_invalid(c);
	if (c->cur && c->cur->role.word == role.word) {
		return 0;	/* no switch: not counted */
	}
	for (unsigned int i = 0; i < S2_ROOT_CACHE_PREV; i++) {
		if (c->prev[i] && c->prev[i]->role.word == role.word) {
			r = cache_take(c, i);
			if (c->cur) {
				cache_push(c, c->cur);
			}
			c->cur = r;
			mmu->stats.cache_hits++;
			return 0;
		}
	}
	r = s2_mmu_get_root(mmu, role, &err);
	if (!r) {
		return err ? err : -EINVAL;
	}
	mmu->stats.cache_misses++;
	if (c->cur) {
		cache_push(c, c->cur);
	}
	c->cur = r;
	return 0;
}

void s2_root_cache_clear(struct s2_root_cache *c)
{
	if (c->cur) {
		s2_root_put(c->cur);
		c->cur = NULL;
	}
	for (unsigned int i = 0; i < S2_ROOT_CACHE_PREV; i++) {
		if (c->prev[i]) {
			s2_root_put(c->prev[i]);
			c->prev[i] = NULL;
		}
	}
}

bool s2_root_cache_holds(const struct s2_root_cache *c,
			 const struct s2_root *root)
{
	if (c->cur == root) {
		return true;
	}
	for (unsigned int i = 0; i < S2_ROOT_CACHE_PREV; i++) {
		if (c->prev[i] == root) {
			return true;
		}
	}
	return false;
}
