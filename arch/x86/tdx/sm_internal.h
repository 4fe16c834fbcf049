/* SPDX-License-Identifier: MIT */
/*
 * Internals of the emulated secure module (arch/x86/tdx/): the module's
 * global state, the TD and vCPU control structures that live in the TDR and
 * TDVPR pages the core gave, and the helpers every call uses. Nothing
 * outside arch/x86/tdx/ includes this header.
 */
#ifndef STRATA_ARCH_X86_TDX_SM_INTERNAL_H
#define STRATA_ARCH_X86_TDX_SM_INTERNAL_H

#include <arch/ept.h>
#include <arch/tdx_module.h>

#define SM_TDR_MAGIC		0x5444527374726174ULL	/* "tartsRDT" */
#define SM_TDVPR_MAGIC		0x5644507374726174ULL
#define SM_PAMT_TAIL		0xffff	/* REG page inside a 2M mapping */
#define SM_SEPT_ENTRIES		512

/* A TD's control structure, at the start of its TDR page. */
struct sm_td {
	uint64_t magic;
	uint32_t state;		/* enum sm_td_state */
	uint32_t levels;
	uint32_t gpaw;
	uint32_t lock;		/* try-lock over the TD and its S-EPT */
	uint32_t epoch_lock;	/* try-lock over epoch and refcounts */
	uint32_t nr_vcpus;
	uint32_t nr_flushed;
	uint32_t refcount[2];	/* vCPUs in guest mode, by epoch parity */
	bool cache_wb;
	uint64_t epoch;
	uint64_t child_pages;
	uint64_t mrtd;
	uint64_t tlb_flushes;
	paddr_t self;
	paddr_t root;
	paddr_t shared_root;	/* the core's root for the shared half, or 0 */
	uint64_t shared_installs;
};

/* A vCPU's control structure, at the start of its TDVPR page. */
struct sm_vp {
	uint64_t magic;
	paddr_t tdr;
	bool entered;
	bool ever_entered;
	bool flushed;
	uint64_t epoch;
};

struct sm_module {
	bool ready;
	paddr_t base;
	uint64_t nr_pages;
	uint8_t *va;
	struct sm_pamt_entry *pamt;
	struct sm_stats stats;
};

extern struct sm_module sm;

/* Bracket of every call: window, statistics, injected failures. */
sm_status_t sm_begin(enum sm_leaf leaf);
sm_status_t sm_end(enum sm_leaf leaf, sm_status_t s);

#define SM_CALL(leaf, call) ({						\
	sm_status_t __s = sm_begin(leaf);				\
									\
	if (__s == SM_SUCCESS) {					\
		__s = (call);						\
	}								\
	sm_end(leaf, __s);						\
})

bool sm_pa_in_window(paddr_t pa, uint64_t npages);
void *sm_pa_va(paddr_t pa);
struct sm_pamt_entry *sm_pamt(paddr_t pa);

/* Validate a TDR / TDVPR handle and take the TD's try-lock. */
sm_status_t sm_td_acquire(paddr_t tdr, struct sm_td **tdp);
void sm_td_release(struct sm_td *td);
sm_status_t sm_vp_get(paddr_t tdvpr, struct sm_vp **vpp);
/* The refusal for an operation not allowed in the TD's current state. */
sm_status_t sm_td_state_error(const struct sm_td *td, uint32_t allowed);
#define SM_IN(st)		(1U << (st))

/*
 * Take @npages NDA pages from @pa for @td (checked, locked); on success
 * they are locked until sm_pages_commit() or sm_pages_unclaim().
 */
sm_status_t sm_pages_claim(paddr_t pa, uint64_t npages, uint64_t operand);
void sm_pages_commit(paddr_t pa, uint64_t npages, enum sm_page_type type,
		     paddr_t owner, unsigned int level);
void sm_pages_unclaim(paddr_t pa, uint64_t npages);
/* The hypervisor's mapping of module pages: read-only while the module
 * owns them (arch/x86/tdx/window.c). */
void sm_protect(paddr_t pa, uint64_t npages, bool module_owned);
/* Mark pages RECLAIMED (owner kept for the record). */
void sm_pages_retire(paddr_t pa, uint64_t npages);

/*
 * TDX's is_tlb_tracked(): a page blocked in epoch @bepoch can no longer be
 * in any TLB once a TRACK moved past it and no vCPU still runs in it.
 */
bool sm_tlb_tracked(const struct sm_td *td, uint64_t bepoch);

/* INVEPT of the TD's EPT on this CPU, counted (arch/x86/tdx/epoch.c). */
void sm_flush_td_tlb(struct sm_td *td);
/*
 * The root entries of the shared half (arch/x86/tdx/epoch.c): point them at
 * the core's tables at VP.ENTER, clear them at VP.FLUSHDONE.
 */
void sm_shared_half_install(struct sm_td *td);
void sm_shared_half_clear(struct sm_td *td);
/* Whether root entry @i translates GPAs with the shared bit set. */
bool sm_root_index_shared(const struct sm_td *td, unsigned int i);

static inline uint64_t sm_level_pages(unsigned int level)
{
	return 1ULL << (9 * level);
}

static inline bool sm_trylock(uint32_t *l)
{
	return __atomic_exchange_n(l, 1U, __ATOMIC_ACQUIRE) == 0;
}

static inline void sm_unlock(uint32_t *l)
{
	__atomic_store_n(l, 0U, __ATOMIC_RELEASE);
}

#endif
