// SPDX-License-Identifier: MIT
/*
 * Host tests of the roots (include/mm/roots.h) and what the VMM builds on
 * them: reference counts, invalidate-all-roots and its safety rule (a zapper
 * that yields half way while a memslot is deleted), the per-vCPU root cache,
 * memslots at run time, the memslot generation (update in progress, wrap),
 * the MMIO value validator, stage-2 views and the entry audit. The core and
 * the EPT encoder are the real ones; the architecture is the scripted fake.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/bug.h>
#include <lib/errno.h>
#include <mm/palloc.h>
#include <mm/s2_walk.h>
#include <vmm/devices.h>
#include <vmm/vm.h>

#include "fake_arch.h"
#include "harness.h"
#include "host_hooks.h"

#define HOST_RAM	(64 * SZ_2M)
#define SLOT_GPA	(4 * SZ_1G)	/* run-time slots live above RAM */

static struct vm vm;
static struct vm_config cfg = { .name = "t", .cpus = 2 };
static uint8_t *host_ram;

static struct vcpu *vcpu(unsigned int i)
{
	return &vm.vcpus[i];
}

static struct s2pt *pt_of(unsigned int i)
{
	return &vm.vcpus[i].roots.cur->pt;
}

/*
 * A VM whose 32 MiB of RAM (slot 0) lives in host memory managed by the
 * page allocator, with 64 MiB more it may add at run time, two vCPUs
 * entered once.
 */
static bool setup_vm(void)
{
	paddr_t ram;

	memset(&vm, 0, sizeof(vm));
	host_alloc_reset();
	if (!host_ram) {
		host_ram = aligned_alloc(SZ_2M, HOST_RAM);
	}
	palloc_reset();
	if (!host_ram || palloc_add_ram((paddr_t)(uintptr_t)host_ram, HOST_RAM) ||
	    palloc_finalize() || palloc_alloc(16 * 512, 512, &ram)) {
		return false;
	}
	vm.cfg = &cfg;
	vm.name = "t";
	vm.state = VM_RUNNING;
	vm.memslots[0] = (struct memslot){ .gpa = 0, .size = 16 * SZ_2M,
					   .pa = ram };
	vm.nr_memslots = 1;
	vm.memslot_gen = 2;
	vm.mmio_gen_max = S2_MMIO_GEN_MAX;
	vm.mem_used = 16 * SZ_2M;
	vm.mem_limit = vm.mem_used + 16 * SZ_2M;
	vm.nr_vcpus = 2;
	for (unsigned int i = 0; i < 2; i++) {
		vm.vcpus[i] = (struct vcpu){ .vm = &vm, .id = i,
					     .state = VCPU_RUNNABLE };
	}
	if (vm_mmu_init(&vm, 40, 0)) {
		return false;
	}
	warn_count = 0;
	vm_entry_audit_on = true;
	if (dev_testdev_add(&vm, IO_MMIO, 0xfe000000)) {
		return false;
	}
	return vm_vcpu_prepare_entry(vcpu(0)) && vm_vcpu_prepare_entry(vcpu(1));
}

static void teardown_vm(void)
{
	vm_mmu_destroy(&vm);
}

static long hc3(unsigned int cpu, uint64_t fn, uint64_t a0, uint64_t a1,
		uint64_t a2, uint64_t *value)
{
	uint64_t a[3] = { a0, a1, a2 }, v;

	return vm_hypercall(vcpu(cpu), fn, a, value ? value : &v);
}

static bool maps(struct s2pt *pt, gpa_t gpa)
{
	struct s2_translation t;

	return !s2pt_lookup(pt, gpa, &t);
}

/* ---- Roots and references ------------------------------------------------ */

/* vCPUs with one role share one root; another view gets its own. */
static void roots_are_shared_by_role(void)
{
	union s2_role r0, r1;

	CHECK(setup_vm());
	CHECK(vcpu(0)->roots.cur == vcpu(1)->roots.cur);
	CHECK_EQ(s2_mmu_nr_roots(&vm.mmu), 1);
	/* List + two caches. */
	CHECK_EQ(vcpu(0)->roots.cur->refcount, 3);
	r0 = s2_mmu_role(&vm.mmu, 0);
	r1 = s2_mmu_role(&vm.mmu, 1);
	CHECK(r0.word != r1.word);
	CHECK_EQ(r0.levels, 4);
	CHECK_EQ(r0.ia_bits, 40);
	CHECK_EQ(vm.mmu.stats.root_allocs, 1);
	CHECK_EQ(s2_mmu_audit(&vm.mmu), 0);
	teardown_vm();
}

/* Nothing may take a new reference on an invalid root: refused, WARNed. */
static void get_on_invalid_root_is_refused(void)
{
	struct s2_root *r;

	CHECK(setup_vm());
	r = vcpu(0)->roots.cur;
	CHECK_EQ(s2_mmu_invalidate_all(&vm.mmu), 1);
	CHECK(r->role.invalid);
	CHECK(r->in_use);	/* the caches still hold it */
	CHECK(!s2_root_get(r));
	CHECK_EQ(vm.mmu.stats.refused_gets, 1);
	CHECK_EQ(warn_count, 1);
	teardown_vm();
}

/* Dropping the last reference of a valid root is a bug: WARNed, kept. */
static void last_reference_only_drops_on_invalid_root(void)
{
	struct s2_root *r;

	CHECK(setup_vm());
	r = vcpu(0)->roots.cur;
	s2_root_cache_clear(&vcpu(0)->roots);
	s2_root_cache_clear(&vcpu(1)->roots);
	CHECK_EQ(r->refcount, 1);
	s2_root_put(r);
	CHECK_EQ(warn_count, 1);
	CHECK(r->in_use);
	CHECK_EQ(r->refcount, 1);
	CHECK_EQ(s2_mmu_audit(&vm.mmu), 0);
	teardown_vm();
}

/* After invalidate-all every vCPU enters on a fresh, empty root. */
static void invalidate_all_gives_every_vcpu_a_fresh_root(void)
{
	struct s2_root *old;
	uint64_t v;

	CHECK(setup_vm());
	old = vcpu(0)->roots.cur;
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x5000, VM_ACC_W), VM_FAULT_FIXED);
	CHECK(maps(&old->pt, 0x5000));
	CHECK_EQ(hc3(0, STRATA_HC_INVALIDATE_ROOTS, 0, 0, 0, &v), 0);
	CHECK_EQ(v, 1);
	/*
	 * Off the list, zapped, and dropped by both vCPUs' caches at once:
	 * freed before either runs again.
	 */
	CHECK_EQ(s2_mmu_nr_listed(&vm.mmu), 0);
	CHECK_EQ(s2_mmu_nr_roots(&vm.mmu), 0);
	CHECK_EQ(vm.mmu.stats.root_frees, 1);
	CHECK(vcpu(0)->roots.cur == NULL && vcpu(1)->roots.cur == NULL);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK(vm_vcpu_prepare_entry(vcpu(1)));
	CHECK(vcpu(1)->roots.cur == vcpu(0)->roots.cur);
	CHECK_EQ(vm.mmu.stats.root_allocs, 2);
	CHECK(!maps(pt_of(0), 0x5000));
	CHECK_EQ(vm_handle_s2_fault(vcpu(1), 0x5000, VM_ACC_R), VM_FAULT_FIXED);
	CHECK(maps(pt_of(0), 0x5000));
	CHECK_EQ(vm.ctr[STRATA_CTR_ROOTS_INVALIDATED], 1);
	CHECK_EQ(s2_mmu_audit(&vm.mmu), 0);
	CHECK_EQ(warn_count, 0);
	teardown_vm();
}

/*
 * Roots parked vCPUs held across invalidations used to fill the pool: a
 * guest switching views on some vCPUs and invalidating on another must
 * never run out of roots.
 */
static void parked_vcpus_cannot_exhaust_the_root_pool(void)
{
	uint64_t id;

	CHECK(setup_vm());
	for (unsigned int i = 0; i < S2_MAX_VIEWS - 1; i++) {
		CHECK_EQ(hc3(0, STRATA_HC_VIEW_CREATE, 0, 0, 0, &id), 0);
	}
	for (unsigned int round = 0; round < 8; round++) {
		for (unsigned int w = 0; w < S2_MAX_VIEWS; w++) {
			unsigned int c = (round + w) % 2;

			vcpu(c)->view = w;
			CHECK(vm_vcpu_prepare_entry(vcpu(c)));
		}
		CHECK(vm_invalidate_roots(&vm) > 0);
		CHECK(s2_mmu_nr_roots(&vm.mmu) == 0);
	}
	CHECK(vm_running(&vm));
	CHECK_EQ(warn_count, 0);
	teardown_vm();
}

/*
 * A vCPU in the guest on another CPU when the roots are invalidated keeps
 * stage-1 entries under the old root's VMID: no vCPU enters until it left.
 */
static void invalidate_all_waits_for_a_vcpu_in_the_guest(void)
{
	uint64_t v;

	CHECK(setup_vm());
	vcpu(1)->in_guest = true;
	vcpu(1)->guest_seq = 5;		/* odd: in its run in the guest */
	CHECK_EQ(hc3(0, STRATA_HC_INVALIDATE_ROOTS, 0, 0, 0, &v), 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_REMOTE_FLUSHES], 1);
	CHECK(vm_vcpu_must_sync(vcpu(0)));
	CHECK(!vm_vcpu_must_sync(vcpu(1)));	/* never waits for itself */
	vcpu(1)->guest_seq = 6;		/* it left the guest */
	CHECK(!vm_vcpu_must_sync(vcpu(0)));
	/* Left already, waiting for the lock: nothing to wait for. */
	CHECK_EQ(hc3(0, STRATA_HC_INVALIDATE_ROOTS, 0, 0, 0, &v), 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_REMOTE_FLUSHES], 1);
	CHECK(!vm_vcpu_must_sync(vcpu(0)));
	vcpu(1)->in_guest = false;
	CHECK(vm_vcpu_prepare_entry(vcpu(1)));
	CHECK_EQ(warn_count, 0);
	teardown_vm();
}

/*
 * A second listed root turns on the trap of the guest's TLBIs only at each
 * vCPU's next entry: a vCPU in the guest must leave it before the new
 * root's first user enters; an entry that lists no new root waits for none.
 */
static void new_listed_root_waits_for_a_vcpu_in_the_guest(void)
{
	uint64_t id;

	CHECK(setup_vm());
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_CREATE, 0, 0, 0, &id), 0);
	CHECK_EQ(s2_mmu_nr_listed(&vm.mmu), 1);
	vcpu(1)->in_guest = true;
	vcpu(1)->guest_seq = 1;
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));	/* same root: no wait */
	CHECK(!vm_vcpu_must_sync(vcpu(0)));
	vcpu(0)->view = id;
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(s2_mmu_nr_listed(&vm.mmu), 2);
	CHECK(vm_vcpu_must_sync(vcpu(0)));
	CHECK_EQ(vm.ctr[STRATA_CTR_REMOTE_FLUSHES], 1);
	vcpu(1)->guest_seq = 3;		/* left, and entered again */
	CHECK(!vm_vcpu_must_sync(vcpu(0)));
	vcpu(0)->view = 0;
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));	/* listed already */
	CHECK(!vm_vcpu_must_sync(vcpu(0)));
	CHECK_EQ(vm.ctr[STRATA_CTR_REMOTE_FLUSHES], 1);
	vcpu(1)->in_guest = false;
	CHECK_EQ(warn_count, 0);
	teardown_vm();
}

/* ---- The yield-and-delete race (seed 001, KVM-MMU-FACTS 7.0) ---------- */

static unsigned int slot_id;
static struct memslot slot_copy;
static bool race_broke_rule;
static unsigned int yields_seen;

/* No page of the slot is both free in the allocator and mapped by a root. */
static bool slot_pages_safe(void)
{
	for (uint64_t off = 0; off < slot_copy.size; off += PAGE_SIZE) {
		paddr_t pa = slot_copy.pa + off;

		if (!palloc_is_allocated(pa, 1) &&
		    !s2_mmu_pa_unmapped(&vm.mmu, pa, PAGE_SIZE)) {
			return false;
		}
	}
	return true;
}

/* The zapper yields after its first chunk: delete the slot right there. */
static void delete_in_the_gap(struct s2_mmu *mmu, void *arg)
{
	(void)arg;
	if (yields_seen++ != 0) {
		return;
	}
	/* The zapper has not reached the slot's GPA yet: its root maps it. */
	race_broke_rule |= s2_mmu_pa_unmapped(mmu, slot_copy.pa,
						      slot_copy.size);
	vm_memslot_delete(&vm, slot_id);
	race_broke_rule |= !slot_pages_safe();
}

/*
 * A zapper off the list yields half way; a memslot deleted in the gap must
 * not give its pages back while the invalid root still maps them.
 */
static void zapper_yield_and_memslot_delete_keep_pages_out(void)
{
	uint8_t *p;

	CHECK(setup_vm());
	CHECK_EQ(vm_memslot_add(&vm, SLOT_GPA, 2 * SZ_2M, 0, &slot_id), 0);
	slot_copy = vm.memslots[slot_id];
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA + 0x1000, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x1000, VM_ACC_W), VM_FAULT_FIXED);
	CHECK(!s2_mmu_pa_unmapped(&vm.mmu, slot_copy.pa, slot_copy.size));
	p = (uint8_t *)(uintptr_t)slot_copy.pa;
	p[0x1000] = 0x5a;
	vm.mmu.zap_chunk = SZ_1G;
	vm.mmu.yield = delete_in_the_gap;
	race_broke_rule = false;
	yields_seen = 0;
	CHECK_EQ(s2_mmu_invalidate_all(&vm.mmu), 1);
	CHECK(yields_seen > 1);
	CHECK_EQ(vm.mmu.stats.yields, yields_seen);
	CHECK(!race_broke_rule);
	/* Deleted: free in the allocator, mapped by no root at all. */
	CHECK(!palloc_is_allocated(slot_copy.pa, 1));
	CHECK(s2_mmu_pa_unmapped(&vm.mmu, slot_copy.pa, slot_copy.size));
	CHECK(vm_find_memslot(&vm, SLOT_GPA) == NULL);
	CHECK_EQ(vm.mem_used, 16 * SZ_2M);
	vm.mmu.yield = NULL;
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	/* The range is MMIO now. */
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA + 0x1000, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(warn_count, 0);
	teardown_vm();
}

/* ---- The root cache ------------------------------------------------------ */

/* Hits reuse without allocating; a miss evicts the least recently used. */
static void root_cache_hits_misses_and_evictions(void)
{
	unsigned int views[5], allocs;
	uint64_t id;

	CHECK(setup_vm());
	for (unsigned int i = 1; i <= 4; i++) {
		CHECK_EQ(hc3(0, STRATA_HC_VIEW_CREATE, 0, 0, 0, &id), 0);
		views[i] = (unsigned int)id;
	}
	CHECK_EQ(vm.mmu.stats.cache_misses, 2);	/* each vCPU's first load */
	/* 0 -> 1 -> 2 -> 3: three misses, the cache now holds 3,2,1,0. */
	for (unsigned int i = 1; i <= 3; i++) {
		CHECK_EQ(hc3(0, STRATA_HC_VIEW_SWITCH, views[i], 0, 0, NULL),
			 0);
		CHECK(vm_vcpu_prepare_entry(vcpu(0)));
		CHECK_EQ(vcpu(0)->roots.cur->role.view, views[i]);
	}
	CHECK_EQ(vm.mmu.stats.cache_misses, 5);
	allocs = vm.mmu.stats.root_allocs;
	/* Back to 0 and to 2: hits, nothing allocated. */
	vcpu(0)->view = 0;
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	vcpu(0)->view = views[2];
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm.mmu.stats.cache_hits, 2);
	CHECK_EQ(vm.mmu.stats.root_allocs, allocs);
	/* Order now 2,0,3,1: view 4 is a miss and evicts view 1's root. */
	vcpu(0)->view = views[4];
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm.mmu.stats.cache_misses, 6);
	CHECK_EQ(vm.mmu.stats.cache_evictions, 1);
	for (unsigned int i = 0; i < S2_ROOT_CACHE_PREV; i++) {
		CHECK(vcpu(0)->roots.prev[i]->role.view != views[1]);
	}
	/* View 1's root stays listed: a later switch finds it, no alloc. */
	allocs = vm.mmu.stats.root_allocs;
	vcpu(0)->view = views[1];
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm.mmu.stats.root_allocs, allocs);
	CHECK_EQ(s2_mmu_audit(&vm.mmu), 0);
	teardown_vm();
}

/* The cache never hands out an invalid root, current or previous. */
static void root_cache_never_returns_an_invalid_root(void)
{
	struct s2_root *old0;
	uint64_t id, allocs;

	CHECK(setup_vm());
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_CREATE, 0, 0, 0, &id), 0);
	old0 = vcpu(0)->roots.cur;
	vcpu(0)->view = (unsigned int)id;
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK(vcpu(0)->roots.prev[0] == old0);
	CHECK_EQ(vm_invalidate_roots(&vm), 2);
	allocs = vm.mmu.stats.root_allocs;
	vcpu(0)->view = 0;
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	/* Both cached roots were invalid: dropped, a new one made. */
	CHECK(!vcpu(0)->roots.cur->role.invalid);
	CHECK_EQ(vm.mmu.stats.root_allocs, allocs + 1);
	CHECK_EQ(vm.mmu.stats.cache_hits, 0);
	CHECK_EQ(vcpu(0)->roots.prev[0], NULL);
	CHECK(old0->in_use);	/* vCPU 1 still holds it */
	teardown_vm();
}

/* ---- Memslots at run time ---------------------------------------------- */

/* Add, move and delete a slot: data follows it, a deleted range is MMIO. */
static void memslot_add_move_delete(void)
{
	unsigned int id;
	uint8_t *p;

	CHECK(setup_vm());
	CHECK_EQ(vm_memslot_add(&vm, SLOT_GPA, SZ_2M, 0, &id), 0);
	CHECK_EQ(id, 1);
	CHECK_EQ(vm.memslot_gen >> 1, 2);
	p = vm_gpa_to_host(&vm, SLOT_GPA + 0x10, 1);
	CHECK(p && *p == 0);	/* fresh pages are zeroed */
	*p = 0x77;
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(vm.ctr[STRATA_CTR_MAPS_2M], 1);
	/* Overlaps, the limit, bad ranges. */
	CHECK_EQ(vm_memslot_add(&vm, SLOT_GPA + SZ_2M - PAGE_SIZE, SZ_2M, 0,
				&id), -EBUSY);
	CHECK_EQ(vm_memslot_add(&vm, 0xfe000000, PAGE_SIZE, 0, &id), -EBUSY);
	CHECK_EQ(vm_memslot_add(&vm, 8 * SZ_1G, 16 * SZ_2M, 0, &id), -ENOSPC);
	CHECK_EQ(vm.mem_limit - vm.mem_used, 15 * SZ_2M);
	CHECK_EQ(vm_memslot_add(&vm, 8 * SZ_1G + 1, PAGE_SIZE, 0, &id),
		 -EINVAL);
	CHECK_EQ(vm_memslot_add(&vm, BIT(40), PAGE_SIZE, 0, &id), -ERANGE);
	CHECK_EQ(vm_memslot_add(&vm, 8 * SZ_1G, PAGE_SIZE, 0x80, &id),
		 -EINVAL);
	/* Move: the old GPA is gone from every root, the new one maps. */
	CHECK_EQ(vm_memslot_move(&vm, 1, SLOT_GPA + SZ_1G), 0);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA + SZ_1G, VM_ACC_R),
		 VM_FAULT_FIXED);
	p = vm_gpa_to_host(&vm, SLOT_GPA + SZ_1G + 0x10, 1);
	CHECK(p && *p == 0x77);
	/* Delete: pages back to the allocator, range MMIO. */
	CHECK_EQ(vm_memslot_delete(&vm, 1), 0);
	CHECK_EQ(vm_memslot_delete(&vm, 1), -ENOENT);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA + SZ_1G, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm.mem_used, 16 * SZ_2M);
	/* The freed limit can be used again. */
	CHECK_EQ(vm_memslot_add(&vm, SLOT_GPA, 16 * SZ_2M, 0, &id), 0);
	CHECK_EQ(s2_mmu_audit(&vm.mmu), 0);
	CHECK_EQ(warn_count, 0);
	teardown_vm();
}

/* Log-dirty write-protects (split eagerly); clearing it collapses. */
static void log_dirty_protects_then_collapses(void)
{
	struct s2_translation t;
	unsigned int id;

	CHECK(setup_vm());
	CHECK_EQ(vm_memslot_add(&vm, SLOT_GPA, SZ_2M, 0, &id), 0);
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK_EQ(s2pt_lookup(pt_of(0), SLOT_GPA, &t), 0);
	CHECK_EQ(t.level, 1);
	CHECK_EQ(vm_memslot_set_flags(&vm, id, MEMSLOT_LOG_DIRTY |
				      STRATA_MEMSLOT_EAGER_SPLIT), 0);
	CHECK_EQ(s2pt_lookup(pt_of(0), SLOT_GPA + 0x3000, &t), 0);
	CHECK_EQ(t.level, 0);
	CHECK(!(t.prot & S2_PROT_W));
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA + 0x3000, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK_EQ(vm.ctr[STRATA_CTR_WP_FAULTS], 1);
	CHECK_EQ(vm_memslot_set_flags(&vm, id, 0), 0);
	CHECK_EQ(s2pt_lookup(pt_of(0), SLOT_GPA + 0x3000, &t), 0);
	CHECK_EQ(t.level, 1);
	CHECK(t.prot & S2_PROT_W);
	CHECK_EQ(vm_memslot_set_flags(&vm, id, STRATA_MEMSLOT_RDONLY), 0);
	CHECK_EQ(s2pt_lookup(pt_of(0), SLOT_GPA, &t), 0);
	CHECK(!(t.prot & S2_PROT_W));
	/* A write to a read-only slot is emulated, not made writable. */
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), SLOT_GPA, VM_ACC_W),
		 VM_FAULT_MMIO);
	CHECK_EQ(s2_mmu_audit(&vm.mmu), 0);
	teardown_vm();
}

/* ---- Generations ------------------------------------------------------------ */

/* While an update is in progress every MMIO SPTE misses, none is added. */
static void update_in_progress_makes_mmio_sptes_miss(void)
{
	uint64_t gen;

	CHECK(setup_vm());
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x80000000, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(s2pt_get_mmio(pt_of(0), 0x80000000, &gen), 0);
	CHECK_EQ(gen, 1);
	vm_memslot_begin_update(&vm);
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x80000000, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_SPTE_HITS], 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_SPTE_STALE], 1);
	CHECK_EQ(s2pt_get_mmio(pt_of(0), 0x80000000, &gen), -ENOENT);
	vm_memslot_end_update(&vm);
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x80000000, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(s2pt_get_mmio(pt_of(0), 0x80000000, &gen), 0);
	CHECK_EQ(gen, 2);
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x80000000, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_SPTE_HITS], 1);
	teardown_vm();
}

/* A generation wrap invalidates all roots: no stale SPTE can match. */
static void generation_wrap_invalidates_all_roots(void)
{
	uint64_t gen;

	CHECK(setup_vm());
	/* Seed the full-width generation one step before its wrap. */
	vm.memslot_gen = S2_MMIO_GEN_MAX << 1;
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x80000000, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(s2pt_get_mmio(pt_of(0), 0x80000000, &gen), 0);
	CHECK_EQ(gen, S2_MMIO_GEN_MAX);
	CHECK_EQ(S2_MMIO_GEN_BITS, 19);
	vm_memslot_begin_update(&vm);
	vm_memslot_end_update(&vm);
	CHECK_EQ(vm_mmio_gen(&vm), 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_GEN_WRAPS], 1);
	CHECK_EQ(vm.ctr[STRATA_CTR_ROOTS_INVALIDATED], 1);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(s2pt_get_mmio(pt_of(0), 0x80000000, &gen), -ENOENT);
	/* A shrunk generation (test knob) wraps after 4 updates. */
	CHECK_EQ(hc3(0, STRATA_HC_TEST_MMIO_GEN, 2, 1, 0, NULL), 0);
	for (unsigned int i = 0; i < 3; i++) {
		vm_memslot_begin_update(&vm);
		vm_memslot_end_update(&vm);
	}
	CHECK_EQ(vm.ctr[STRATA_CTR_GEN_WRAPS], 2);
	CHECK_EQ(hc3(0, STRATA_HC_TEST_MMIO_GEN, 0, 1, 0, NULL),
		 STRATA_HC_EINVAL);
	teardown_vm();
}

/* The validator: value inside the mask, no overlap, never absent. */
static void mmio_validator_refuses_unusable_pairs(void)
{
	struct s2pt *pt;
	s2pte_t mask;

	CHECK(setup_vm());
	pt = pt_of(0);
	mask = pt->fmt.mmio_mask;
	CHECK(s2pt_mmio_value_valid(pt, mask, pt->mmio_value));
	CHECK(!s2pt_mmio_value_valid(pt, mask, BIT(20)));	/* outside */
	CHECK(!s2pt_mmio_value_valid(pt, mask | BIT(12), 6));	/* GPA bits */
	CHECK(!s2pt_mmio_value_valid(pt, mask, 0));	/* absent on EPT */
	CHECK(!s2pt_mmio_value_valid(pt, mask, 7));	/* usable RWX */
	CHECK(!s2pt_mmio_value_valid(pt, 0, 0));
	teardown_vm();
}

/* ---- Views ------------------------------------------------------------- */

/* A view limits what it allows; a violation sends the vCPU to view 0. */
static void view_limits_and_violation_returns_to_default(void)
{
	struct s2_translation t;
	uint64_t id, cur;

	CHECK(setup_vm());
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_CREATE, 0, 0, 0, &id), 0);
	CHECK_EQ(id, 1);
	/* Page 0x7000 read + execute only, 0x8000 nothing, in view 1. */
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_PROTECT, id | (5 << 8), 0x7000,
		     PAGE_SIZE, NULL), 0);
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_PROTECT, id, 0x8000, PAGE_SIZE, NULL),
		 0);
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_PROTECT, id | (2 << 8), 0x9000,
		     PAGE_SIZE, NULL), STRATA_HC_EINVAL);	/* W only */
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_SWITCH, id, 0, 0, NULL), 0);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x7000, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(s2pt_lookup(pt_of(0), 0x7000, &t), 0);
	CHECK_EQ(t.level, 0);	/* the limit is per page */
	CHECK_EQ(t.prot & S2_PROT_RWX, S2_PROT_R | S2_PROT_X);
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x6000, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK_EQ(vm.ctr[STRATA_CTR_VIEW_VIOLATIONS], 0);
	/* A write to 0x7000: violation, back to view 0, allowed there. */
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x7000, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK_EQ(vm.ctr[STRATA_CTR_VIEW_VIOLATIONS], 1);
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_CURRENT, 0, 0, 0, &cur), 0);
	CHECK_EQ(cur, 0);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x7000, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK_EQ(s2pt_lookup(pt_of(0), 0x7000, &t), 0);
	CHECK(t.prot & S2_PROT_W);
	/* Any access to 0x8000 in view 1 is a violation. */
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_SWITCH, id, 0, 0, NULL), 0);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm_handle_s2_fault(vcpu(0), 0x8000, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(vm.ctr[STRATA_CTR_VIEW_VIOLATIONS], 2);
	/* Destroy: refused while a vCPU runs in it, then allowed. */
	CHECK_EQ(hc3(1, STRATA_HC_VIEW_SWITCH, id, 0, 0, NULL), 0);
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_DESTROY, id, 0, 0, NULL),
		 STRATA_HC_EBUSY);
	CHECK_EQ(hc3(1, STRATA_HC_VIEW_SWITCH, 0, 0, 0, NULL), 0);
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_DESTROY, id, 0, 0, NULL), 0);
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_SWITCH, id, 0, 0, NULL),
		 STRATA_HC_ENOENT);
	CHECK_EQ(hc3(0, STRATA_HC_VIEW_DESTROY, 0, 0, 0, NULL),
		 STRATA_HC_ENOENT);
	CHECK_EQ(s2_mmu_audit(&vm.mmu), 0);
	teardown_vm();
}

/* ---- The entry audit -------------------------------------------------------- */

/* A role changed after the root lookup is caught and stops only that VM. */
static void entry_audit_catches_a_corrupted_role(void)
{
	CHECK(setup_vm());
	CHECK_EQ(hc3(0, STRATA_HC_TEST_CORRUPT_ROLE, 0, 0, 0, NULL), 0);
	CHECK(!vm_vcpu_prepare_entry(vcpu(0)));
	CHECK_EQ(vm.state, VM_ENDED_ERROR);
	CHECK(strstr(vm.end_reason, "role") != NULL);
	CHECK_EQ(warn_count, 1);
	teardown_vm();
	/* audit=off really turns it off. */
	CHECK(setup_vm());
	vm_entry_audit_on = false;
	CHECK_EQ(hc3(0, STRATA_HC_TEST_CORRUPT_ROLE, 0, 0, 0, NULL), 0);
	CHECK(vm_vcpu_prepare_entry(vcpu(0)));
	CHECK(vm_running(&vm));
	vm_entry_audit_on = true;
	teardown_vm();
}

/* ---- Randomized: roots, views and memslot updates against the slots --- */

struct leaf_check {
	const struct s2_root *root;
	int bad;
};

static const char *bad_why;
static gpa_t bad_at;
static unsigned int bad_prot, bad_view;

static void leaf_bad(struct leaf_check *lc, const char *why, gpa_t at,
		     unsigned int prot)
{
	if (!lc->bad++) {
		bad_why = why;
		bad_at = at;
		bad_prot = prot;
		bad_view = lc->root->role.view;
	}
}

/* A leaf must translate as its memslot says, within the allowed rights. */
static int leaf_checker(struct s2_walk_ctx *ctx, enum s2_walk_visit visit)
{
	struct leaf_check *lc = ctx->arg;
	uint64_t size = S2_LEVEL_SIZE(ctx->level);
	const struct memslot *ms;
	unsigned int prot, allowed;
	paddr_t pa;

	(void)visit;
	if (arch_s2_pte_kind(ctx->old, ctx->level) != S2_PTE_LEAF) {
		return 0;
	}
	pa = arch_s2_pte_pa(ctx->old, ctx->level);
	prot = arch_s2_pte_prot(ctx->pt, ctx->old) & S2_PROT_RWX;
	ms = vm_find_memslot(&vm, ctx->addr);
	if (!ms || ctx->addr + size > ms->gpa + ms->size ||
	    pa != ms->pa + (ctx->addr - ms->gpa)) {
		leaf_bad(lc, "no memslot backs it so", ctx->addr, prot);
		return 0;
	}
	if (!palloc_is_allocated(pa, size >> PAGE_SHIFT)) {
		leaf_bad(lc, "its page is free", ctx->addr, prot);
		return 0;
	}
	allowed = (ms->flags & MEMSLOT_RO) ? S2_PROT_R | S2_PROT_X :
		  S2_PROT_RWX;
	if (!lc->root->role.invalid) {
		unsigned int vp;

		if (!vm_view_prot(&vm, lc->root->role.view, ctx->addr, size,
				  &vp)) {
			/* A block over mixed view limits. */
			leaf_bad(lc, "mixed view limits", ctx->addr, prot);
			return 0;
		}
		allowed &= vp;
	}
	if (prot & ~allowed) {
		leaf_bad(lc, "more rights than allowed", ctx->addr, prot);
	}
	return 0;
}

/* Every leaf of every root in the pool, listed or not. */
static int roots_translate_only_memslots(void)
{
	int bad = 0;

	for (unsigned int i = 0; i < S2_MMU_MAX_ROOTS; i++) {
		struct s2_root *r = &vm.mmu.pool[i];
		struct leaf_check lc = { .root = r };
		struct s2_walker w = {
			.cb = leaf_checker, .arg = &lc, .flags = S2_WALK_LEAF,
		};

		if (!r->in_use) {
			continue;
		}
		s2pt_walk(&r->pt, 0, BIT(r->pt.fmt.ia_bits), &w);
		bad += lc.bad;
	}
	return bad;
}

static const gpa_t slot_spots[] = {
	SLOT_GPA, SLOT_GPA + 4 * SZ_2M, SLOT_GPA + SZ_1G, 2 * SZ_1G,
};
static const unsigned int view_prots[] = {
	0, S2_PROT_R, S2_PROT_R | S2_PROT_X, S2_PROT_R | S2_PROT_W,
	S2_PROT_RWX,
};

/* A random GPA: mostly inside some slot, sometimes nowhere. */
static gpa_t random_gpa(void)
{
	unsigned int n = vm.nr_memslots;
	const struct memslot *ms = &vm.memslots[test_rand() % n];

	if (!ms->size || test_rand() % 8 == 0) {
		return slot_spots[test_rand() % ARRAY_SIZE(slot_spots)] +
		       (test_rand() % 512) * PAGE_SIZE;
	}
	return ms->gpa + (test_rand() % (ms->size >> PAGE_SHIFT)) * PAGE_SIZE;
}

static void random_step(void)
{
	unsigned int cpu = test_rand() % 2, id;
	uint64_t r = test_rand() % 100, v;
	static const unsigned int accs[] = { VM_ACC_R, VM_ACC_W };

	if (r < 55) {
		if (vm_vcpu_prepare_entry(vcpu(cpu))) {
			/* Fetches now and then: from unbacked GPAs they
			 * stop the VM, so only from slots. */
			gpa_t gpa = random_gpa();
			unsigned int acc = accs[test_rand() % 2];

			if (test_rand() % 16 == 0 && vm_find_memslot(&vm, gpa)) {
				acc = VM_ACC_X;
			}
			vm_handle_s2_fault(vcpu(cpu), gpa, acc);
		}
	} else if (r < 62) {
		vm_memslot_add(&vm, slot_spots[test_rand() % 4],
			       (1 + test_rand() % 3) * (test_rand() % 2 ?
							SZ_2M : PAGE_SIZE),
			       test_rand() % 4 == 0 ? MEMSLOT_RO : 0, &id);
	} else if (r < 67) {
		vm_memslot_delete(&vm, 1 + test_rand() % (VM_MAX_MEMSLOTS - 1));
	} else if (r < 71) {
		vm_memslot_move(&vm, 1 + test_rand() % (VM_MAX_MEMSLOTS - 1),
				slot_spots[test_rand() % 4]);
	} else if (r < 76) {
		vm_memslot_set_flags(&vm, test_rand() % 3,
				     (unsigned int)(test_rand() % 8));
	} else if (r < 79) {
		vm_invalidate_roots(&vm);
	} else if (r < 83) {
		vm_view_create(&vm, &id);
	} else if (r < 88) {
		vm_view_protect(&vm, test_rand() % S2_MAX_VIEWS, random_gpa(),
				(1 + test_rand() % 600) * PAGE_SIZE,
				view_prots[test_rand() % 5]);
	} else if (r < 94) {
		vm_view_switch(vcpu(cpu), test_rand() % S2_MAX_VIEWS);
	} else if (r < 96) {
		vm_view_destroy(&vm, test_rand() % S2_MAX_VIEWS);
	} else {
		gpa_t gpa = ALIGN_DOWN(random_gpa(), SZ_2M);

		hc3(cpu, test_rand() % 2 ? STRATA_HC_ZAP : STRATA_HC_WRPROTECT,
		    gpa, (1 + test_rand() % 4) * SZ_2M, 0, &v);
	}
}

/*
 * Random faults in random views on two vCPUs, memslot adds, deletes,
 * moves and flag changes, view changes, zaps and invalidate-all: after
 * every step no root translates a GPA its memslots no longer back (or to
 * another PA, or with more rights than slot and view allow), no leaf
 * points at a page the allocator has free, and the roots' audit holds.
 */
static void random_roots_views_and_memslots(void)
{
	unsigned int steps = test_long ? 40000 : 4000;

	CHECK(setup_vm());
	vm.mem_limit = vm.mem_used + 24 * SZ_2M;
	for (unsigned int i = 0; i < steps; i++) {
		int bad;

		random_step();
		bad = roots_translate_only_memslots();
		if (bad || s2_mmu_audit(&vm.mmu) || warn_count ||
		    !vm_running(&vm)) {
			test_fail(__FILE__, __LINE__,
				  "step %u: %d bad leaves (%s at 0x%llx prot %u view %u), %u warnings, vm %s",
				  i, bad, bad ? bad_why : "-",
				  (unsigned long long)bad_at, bad_prot, bad_view,
				  warn_count, vm.end_reason);
			return;
		}
	}
	CHECK(vm.mmu.stats.roots_invalidated > 0);
	CHECK(vm.mmu.stats.cache_hits > 0);
	teardown_vm();
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "roots");
	RUN_TEST(roots_are_shared_by_role);
	RUN_TEST(get_on_invalid_root_is_refused);
	RUN_TEST(last_reference_only_drops_on_invalid_root);
	RUN_TEST(invalidate_all_gives_every_vcpu_a_fresh_root);
	RUN_TEST(parked_vcpus_cannot_exhaust_the_root_pool);
	RUN_TEST(invalidate_all_waits_for_a_vcpu_in_the_guest);
	RUN_TEST(new_listed_root_waits_for_a_vcpu_in_the_guest);
	RUN_TEST(zapper_yield_and_memslot_delete_keep_pages_out);
	RUN_TEST(root_cache_hits_misses_and_evictions);
	RUN_TEST(root_cache_never_returns_an_invalid_root);
	RUN_TEST(memslot_add_move_delete);
	RUN_TEST(log_dirty_protects_then_collapses);
	RUN_TEST(update_in_progress_makes_mmio_sptes_miss);
	RUN_TEST(generation_wrap_invalidates_all_roots);
	RUN_TEST(mmio_validator_refuses_unusable_pairs);
	RUN_TEST(view_limits_and_violation_returns_to_default);
	RUN_TEST(entry_audit_catches_a_corrupted_role);
	RUN_TEST(random_roots_views_and_memslots);
	free(host_ram);
	return test_done();
}
