/* SPDX-License-Identifier: MIT */
/*
 * The emulated TDX-like secure module (arch/x86/tdx/, docs/secure-module.md).
 *
 * A separate component that alone writes a secure VM's private S-EPT and its
 * private guest pages, and refuses whatever a real TDX module refuses. It
 * keeps the state the core does not: the state of every S-EPT entry (in the
 * entry's ignored bits, like the module), the type and owner of every page of
 * its window (a PAMT), and per secure VM ("TD") its lifecycle, measurement
 * and TLB epoch with the vCPUs counted per epoch.
 *
 * The module allocates nothing: the core gives it pages (the PAMT, a TDR page
 * per TD, a TDVPR page per vCPU, S-EPT table pages, guest pages) and gets them
 * back only through PAGE.REMOVE / SEPT.REMOVE / PHYMEM.PAGE.RECLAIM followed
 * by PHYMEM.PAGE.WBINVD. A page may return to the page allocator only when
 * sm_page_releasable() says so; any other page is leaked by the caller.
 *
 * Handles are physical addresses, as in TDX: a TD is named by its TDR page,
 * a vCPU by its TDVPR page. Every call validates them (in the window,
 * aligned, of the right PAMT type), so no input crashes the module.
 *
 * Levels count from the leaf as in TDX and mm/: level 0 maps 4 KiB, 1 maps
 * 2 MiB, 2 maps 1 GiB; the root table holds entries of level levels - 1.
 *
 * Every call returns an sm_status_t: 0, a warning (bit 63 clear, non-zero)
 * or an error (bit 63 set); bits 31:0 name the operand at fault. @out, when
 * not NULL, receives the extended information TDX returns in RCX/RDX/R8.
 */
#ifndef STRATA_ARCH_X86_TDX_MODULE_H
#define STRATA_ARCH_X86_TDX_MODULE_H

#include <types.h>

typedef uint64_t sm_status_t;

/* Status codes: the values of Linux's tdx_errno.h unless marked "ours". */
#define SM_SUCCESS			0x0000000000000000ULL
#define SM_OPERAND_INVALID		0xC000010000000000ULL
#define SM_SYS_NOT_READY		0xC000050500000000ULL
#define SM_OPERAND_BUSY			0x8000020000000000ULL
#define SM_PREVIOUS_TLB_EPOCH_BUSY	0x8000020100000000ULL
#define SM_PAGE_METADATA_INCORRECT	0xC000030000000000ULL
#define SM_TD_ASSOCIATED_PAGES_EXIST	0xC000040000000000ULL
#define SM_TD_NOT_FINALIZED		0xC000060200000000ULL
#define SM_TD_FINALIZED			0xC000060300000000ULL
#define SM_OP_STATE_INCORRECT		0xC000060800000000ULL	/* ours */
#define SM_VCPU_STATE_INCORRECT		0xC000070000000000ULL
#define SM_VCPU_ASSOCIATED		0x8000070100000000ULL
#define SM_VCPU_NOT_ASSOCIATED		0x8000070200000000ULL
#define SM_MAX_VCPUS_EXCEEDED		0xC000070500000000ULL
#define SM_WBCACHE_NOT_COMPLETE		0x8000081700000000ULL
#define SM_HKID_NOT_FREE		0xC000082000000000ULL
#define SM_FLUSHVP_NOT_DONE		0x8000082400000000ULL
#define SM_EPT_WALK_FAILED		0xC0000B0000000000ULL
#define SM_EPT_ENTRY_NOT_FREE		0xC0000B0200000000ULL
#define SM_GPA_RANGE_NOT_BLOCKED	0xC0000B0600000000ULL
#define SM_GPA_RANGE_ALREADY_BLOCKED	0x00000B0700000000ULL
#define SM_TLB_TRACKING_NOT_DONE	0xC0000B0800000000ULL
#define SM_PAGE_ALREADY_ACCEPTED	0x00000B0A00000000ULL
#define SM_EPT_ENTRY_STATE_INCORRECT	0xC0000B0D00000000ULL

#define SM_STATUS_MASK			0xFFFFFFFF00000000ULL
/* Operand ids (bits 31:0): the register or the object at fault. */
#define SM_OPERAND_RCX			0x01ULL	/* GPA + level */
#define SM_OPERAND_RDX			0x02ULL	/* TDR */
#define SM_OPERAND_R8			0x08ULL	/* the page */
#define SM_OPERAND_R9			0x09ULL	/* the source page */
#define SM_OPERAND_TDR			0x80ULL
#define SM_OPERAND_TDVPR		0x81ULL
#define SM_OPERAND_SEPT			0x92ULL
#define SM_OPERAND_TD_EPOCH		0xa9ULL

static inline bool sm_is_error(sm_status_t s)
{
	return (s & BIT(63)) != 0;
}

/* The class of a status without its operand id. */
static inline sm_status_t sm_status_code(sm_status_t s)
{
	return s & SM_STATUS_MASK;
}

/* S-EPT entry states (the TDX module's sept_state_mask_e, import omitted). */
enum sm_sept_state {
	SM_SEPT_FREE,
	SM_SEPT_NL_MAPPED,
	SM_SEPT_NL_BLOCKED,
	SM_SEPT_MAPPED,
	SM_SEPT_BLOCKED,
	SM_SEPT_PENDING,
	SM_SEPT_PENDING_BLOCKED,
	SM_SEPT_REMOVED,	/* reserved: only migration import enters it */
	SM_SEPT_NR_STATES,
};

/*
 * The state sits in bits 55:52 of the entry, ignored by the processor in
 * leaves and tables. A fresh table's entries are FREE with SUPPRESS_VE set.
 * A PENDING leaf has no permissions and SUPPRESS_VE clear, so the guest
 * takes #VE on a page it has not accepted.
 */
#define SM_SEPT_STATE_SHIFT		52
#define SM_SEPT_STATE_MASK		GENMASK(55, 52)
#define SM_SEPTE_INIT			BIT(63)

/* PAMT page types (TDX's PT_NDA, PT_EPT, PT_REG, PT_TDR, PT_TDVPR). */
enum sm_page_type {
	SM_PT_NDA,		/* free / unknown to any TD */
	SM_PT_SEPT,		/* an S-EPT table page */
	SM_PT_REG,		/* a private guest page */
	SM_PT_TDR,		/* a TD's control page */
	SM_PT_TDVPR,		/* a vCPU's control page */
	SM_PT_PAMT,		/* the module's own metadata */
	SM_PT_RECLAIMED,	/* left its TD; needs PHYMEM.PAGE.WBINVD */
	SM_PT_NR_TYPES,
};

/* TD lifecycle. */
enum sm_td_state {
	SM_TD_BUILD,		/* TDH.MNG.CREATE .. before MR.FINALIZE */
	SM_TD_RUNNABLE,		/* after MR.FINALIZE: vCPUs may enter */
	SM_TD_FLUSHED,		/* after VPFLUSHDONE: no vCPU enters again */
	SM_TD_TEARDOWN,		/* after KEY.FREEID: pages may be reclaimed */
};

/* The module's calls, for statistics and for failure injection. */
enum sm_leaf {
	SM_LEAF_MNG_CREATE,
	SM_LEAF_VP_CREATE,
	SM_LEAF_SEPT_ADD,
	SM_LEAF_PAGE_ADD,
	SM_LEAF_MR_FINALIZE,
	SM_LEAF_PAGE_AUG,
	SM_LEAF_PAGE_ACCEPT,	/* guest side: TDG.MEM.PAGE.ACCEPT */
	SM_LEAF_RANGE_BLOCK,
	SM_LEAF_MEM_TRACK,
	SM_LEAF_VP_ENTER,
	SM_LEAF_VP_EXIT,
	SM_LEAF_PAGE_REMOVE,
	SM_LEAF_SEPT_REMOVE,
	SM_LEAF_PAGE_WBINVD,
	SM_LEAF_VP_FLUSH,
	SM_LEAF_VPFLUSHDONE,
	SM_LEAF_CACHE_WB,
	SM_LEAF_KEY_FREEID,
	SM_LEAF_PAGE_RECLAIM,
	SM_LEAF_SEPT_RD,
	SM_LEAF_PAGE_RDMD,
	SM_LEAF_MNG_RD,
	SM_LEAF_VP_WR_SHARED,	/* TDH.VP.WR of the shared EPT pointer */
	SM_NR_LEAVES,
};

/* One PAMT entry per page of the window; the core gives the pages. */
struct sm_pamt_entry {
	uint8_t type;		/* enum sm_page_type */
	uint8_t lock;		/* try-lock: a second taker gets BUSY */
	uint16_t level;		/* REG head page: mapping level */
	uint32_t rsvd;
	paddr_t owner;		/* TDR of the owning TD, 0 for none */
	uint64_t bepoch;	/* TD epoch sampled when its entry was blocked */
};

#define SM_PAMT_PAGES(nr_pages)						\
	(ALIGN_UP((uint64_t)(nr_pages) * sizeof(struct sm_pamt_entry),	\
		  PAGE_SIZE) / PAGE_SIZE)

/* Extended output (TDX's RCX/RDX/R8 on return). */
struct sm_out {
	uint64_t entry;		/* S-EPT entry where the walk stopped */
	uint64_t level_state;	/* bits 7:0 level, 15:8 state */
	paddr_t pa;		/* REMOVE / SEPT.REMOVE: the freed page */
	uint64_t type;		/* RECLAIM / RDMD: page type */
	paddr_t owner;		/* RECLAIM / RDMD: owner TDR */
};

static inline uint64_t sm_level_state(unsigned int level, unsigned int st)
{
	return (uint64_t)level | ((uint64_t)st << 8);
}

struct sm_td_params {
	unsigned int levels;	/* S-EPT levels: 4 or 5 */
	unsigned int gpaw;	/* guest physical width; shared bit = gpaw-1 */
};

#define SM_MAX_VCPUS		64

/* What a TD looks like from outside (TDH.MNG.RD-like), for tests/audit. */
struct sm_td_info {
	enum sm_td_state state;
	uint64_t epoch;
	uint32_t vcpus_in_epoch[2];	/* by epoch parity */
	uint32_t nr_vcpus;
	uint64_t child_pages;		/* pages owned besides the TDR */
	uint64_t mrtd;			/* running measurement of PAGE.ADD */
	uint64_t tlb_flushes;		/* VP.ENTER with a stale epoch */
	paddr_t root;
	uint64_t shared_bit;
	paddr_t shared_root;		/* the core's shared-half root, or 0 */
	uint64_t shared_installs;	/* VP.ENTERs that changed the shared half */
};

struct sm_stats {
	uint64_t calls[SM_NR_LEAVES];
	uint64_t refusals[SM_NR_LEAVES];
};

/*
 * Set-up: the module manages @nr_pages pages from @pa_base, reachable at
 * @va_base while a call runs (identity in the hypervisor, a buffer in host
 * tests). @pamt_pa names SM_PAMT_PAGES(@nr_pages) pages inside the window
 * that become the PAMT (type PAMT, never given back). Calling it again
 * forgets every TD (host tests). 0 or OPERAND_INVALID.
 */
sm_status_t sm_init(paddr_t pa_base, uint64_t nr_pages, void *va_base,
		    paddr_t pamt_pa);

/* TDH.MNG.CREATE (+ the root of TDCS): @tdr and @root become the TD's. */
sm_status_t sm_td_create(paddr_t tdr, paddr_t root,
			 const struct sm_td_params *p);
/* TDH.VP.CREATE: build state only. */
sm_status_t sm_vp_create(paddr_t tdr, paddr_t tdvpr);

/* TDH.MEM.SEPT.ADD: link @page as the table under the @level entry. */
sm_status_t sm_sept_add(paddr_t tdr, gpa_t gpa, unsigned int level,
			paddr_t page, struct sm_out *out);
/* TDH.MEM.PAGE.ADD: build only, 4K; copy @src into @page, map MAPPED. */
sm_status_t sm_page_add(paddr_t tdr, gpa_t gpa, paddr_t page, paddr_t src,
			struct sm_out *out);
/* TDH.MR.FINALIZE: build -> runnable; the measurement is sealed. */
sm_status_t sm_mr_finalize(paddr_t tdr);
/* TDH.MEM.PAGE.AUG: runnable only, level 0 or 1; map PENDING. */
sm_status_t sm_page_aug(paddr_t tdr, gpa_t gpa, unsigned int level,
			paddr_t page, struct sm_out *out);
/* TDG.MEM.PAGE.ACCEPT from vCPU @tdvpr in guest mode: PENDING -> MAPPED,
 * page zeroed. */
sm_status_t sm_guest_accept(paddr_t tdvpr, gpa_t gpa, unsigned int level,
			    struct sm_out *out);
/* TDH.MEM.RANGE.BLOCK: no new translation; BEPOCH := current epoch. */
sm_status_t sm_range_block(paddr_t tdr, gpa_t gpa, unsigned int level,
			   struct sm_out *out);
/* TDH.MEM.TRACK: epoch + 1, refused while a vCPU runs in epoch - 1. */
sm_status_t sm_mem_track(paddr_t tdr);
/* TDH.VP.ENTER / exit accounting: entry records the current epoch (and
 * flushes the TD's TLB if the vCPU's epoch was stale). */
sm_status_t sm_vp_enter(paddr_t tdvpr);
sm_status_t sm_vp_exit(paddr_t tdvpr);
/*
 * TDH.VP.WR of SHARED_EPT_POINTER, per TD here: @root is the page of the
 * core's (direct) root that translates the TD's shared half. The hardware
 * walks one EPT, the module's root: at every VP.ENTER the module points its
 * root entries whose GPA range has the shared bit set at the tables @root's
 * same entries point at (not present, SUPPRESS_VE, where @root has none),
 * as the CPU in SEAM mode walks the shared EPTP for shared GPAs. @root must
 * be in the window and not a module page (PAGE_METADATA_INCORRECT); 0 unsets
 * it. BUILD or RUNNABLE; VP.FLUSHDONE clears the shared half again.
 */
sm_status_t sm_td_set_shared_root(paddr_t tdr, paddr_t root);
/* The EPT pointer of the TD's combined root (4-level, write-back). */
static inline uint64_t sm_td_eptp(paddr_t root, unsigned int levels)
{
	return root | 6ULL | ((uint64_t)(levels - 1) << 3);
}
/* TDH.MEM.PAGE.REMOVE: a leaf; when the TD may run, blocked and tracked.
 * The page becomes RECLAIMED (out->pa). */
sm_status_t sm_page_remove(paddr_t tdr, gpa_t gpa, unsigned int level,
			   struct sm_out *out);
/* TDH.MEM.SEPT.REMOVE: teardown only (FLUSHED), the table empty. */
sm_status_t sm_sept_remove(paddr_t tdr, gpa_t gpa, unsigned int level,
			   struct sm_out *out);
/* TDH.PHYMEM.PAGE.WBINVD: a RECLAIMED page is scrubbed and becomes NDA. */
sm_status_t sm_page_wbinvd(paddr_t page);
/* Teardown: TDH.VP.FLUSH each vCPU, TDH.MNG.VPFLUSHDONE, TDH.PHYMEM.CACHE.WB,
 * TDH.MNG.KEY.FREEID, in this order. */
sm_status_t sm_vp_flush(paddr_t tdvpr);
sm_status_t sm_vpflush_done(paddr_t tdr);
sm_status_t sm_cache_wb(paddr_t tdr);
sm_status_t sm_key_freeid(paddr_t tdr);
/* TDH.PHYMEM.PAGE.RECLAIM: after KEY.FREEID; the TDR last. The page becomes
 * RECLAIMED; out->type/owner say what it was. */
sm_status_t sm_page_reclaim(paddr_t page, struct sm_out *out);

/* TDH.MEM.SEPT.RD: the deepest entry for @gpa (out->entry, level_state). */
sm_status_t sm_sept_rd(paddr_t tdr, gpa_t gpa, struct sm_out *out);
/* TDH.PHYMEM.PAGE.RDMD: a page's PAMT type and owner. */
sm_status_t sm_page_rdmd(paddr_t page, struct sm_out *out);
/* TDH.MNG.RD-like summary of a TD. */
sm_status_t sm_td_info(paddr_t tdr, struct sm_td_info *info);
/* True if @page is NDA and unlocked: the core may give it back. */
bool sm_page_releasable(paddr_t page);
void sm_get_stats(struct sm_stats *st);

/*
 * The window bracket (arch/x86/tdx/window.c). Every module call opens the
 * window on its own CPU on entry and closes it on return; only then are
 * module pages reachable. Today they only count (the hypervisor identity
 * maps all RAM); later sm_window_open() maps the module's pages writable in
 * this CPU's page tables and sm_window_close() unmaps them.
 */
void sm_window_open(void);
void sm_window_close(void);
unsigned int sm_window_depth(void);
/*
 * The audit of the module's memory: how many pages the module owns
 * (*@module_pages) and, returned, how many of them the hypervisor's own
 * page tables still map writable (0 unless protection failed).
 */
uint64_t sm_protection_audit(uint64_t *module_pages);

#if defined(CONFIG_TEST) || defined(HOST_TEST)
/* The next @count calls of @leaf return @status with nothing changed. */
void sm_test_inject(enum sm_leaf leaf, sm_status_t status,
		    unsigned int count);
/* The same for the calls that name the TD @tdr only. */
void sm_test_inject_td(paddr_t tdr, enum sm_leaf leaf, sm_status_t status,
		       unsigned int count);
#endif

/*
 * The four operations the core's mirror tables call (arch/x86/tdx/
 * reflect.c), thin layers over the calls above with KVM's retry policy.
 * They return 0, -EBUSY (the core restores its frozen entry and retries the
 * fault) or -EIO (the module refused; the VM must stop). @st receives the
 * module status of the failing call.
 */
struct sm_kick {
	/* Make every vCPU of the TD leave guest mode (IPI + wait). */
	void (*kick)(void *arg);
	void *arg;
};

struct sm_reflect_result {
	sm_status_t status;	/* the failing call's status, else 0 */
	enum sm_leaf leaf;	/* the failing call */
	bool leak;		/* the page must never return to the allocator */
};

/* SEPT.ADD; on -EBUSY the mirror entry is restored and the fault retried. */
int sm_link_table(paddr_t tdr, gpa_t gpa, unsigned int level,
		  paddr_t table, struct sm_reflect_result *res);
/* Build: PAGE.ADD in place (the core wrote the contents); runnable: AUG. */
int sm_set_leaf(paddr_t tdr, gpa_t gpa, unsigned int level, paddr_t pa,
		struct sm_reflect_result *res);
/* BLOCK, TRACK, kick, REMOVE, WBINVD; BUSY retried once after a kick. */
int sm_zap_leaf(paddr_t tdr, gpa_t gpa, unsigned int level, paddr_t pa,
		const struct sm_kick *kick, struct sm_reflect_result *res);
/* Teardown only: SEPT.REMOVE (flushed) or RECLAIM (key freed), WBINVD. */
int sm_free_table(paddr_t tdr, gpa_t gpa, unsigned int level, paddr_t table,
		  struct sm_reflect_result *res);
/* RECLAIM + WBINVD of any page of a torn-down TD (guest, vCPU, TDR). */
int sm_release_page(paddr_t page, struct sm_reflect_result *res);
/* VP.FLUSH of every vCPU, VPFLUSHDONE, CACHE.WB, KEY.FREEID. */
int sm_td_teardown(paddr_t tdr, const paddr_t *tdvpr, unsigned int nr,
		   struct sm_reflect_result *res);

#endif
