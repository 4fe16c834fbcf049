/* SPDX-License-Identifier: MIT */
/*
 * The x86 implementation of the core's external-table contract
 * (<mm/s2_ext.h>) over the emulated secure module: the four calls of a
 * mirror table become the module's reflect operations (arch/x86/tdx/
 * reflect.c), with KVM's choices (tdx_sept_*_private_sp{t,te}):
 *   link_table  a page from @page_alloc, SEPT.ADD (sm_link_table());
 *   set_leaf    AUG when runnable, PAGE.ADD in place at build time
 *               (sm_set_leaf()); the module maps RWX write-back;
 *   zap_leaf    BLOCK, TRACK, kick, REMOVE, WBINVD (sm_zap_leaf()); once
 *               the TD's key is freed (TEARDOWN) RECLAIM + WBINVD instead
 *               (sm_release_page()), as KVM reclaims when the HKID is gone;
 *   free_table  SEPT.REMOVE or RECLAIM, WBINVD (sm_free_table()), then the
 *               page back to @page_free.
 * A page goes back to @page_free only when sm_page_releasable() says the
 * module let go of it; otherwise it is leaked and counted here.
 */
#ifndef STRATA_ARCH_TDX_MIRROR_H
#define STRATA_ARCH_TDX_MIRROR_H

#include <arch/tdx_module.h>
#include <mm/s2_ext.h>

/**
 * struct tdx_mirror - the context of the four calls for one TD.
 * @tdr: the TD.
 * @kick: makes every vCPU of the TD leave guest mode.
 * @page_alloc: a page the module may own (in its window), for its tables.
 * @page_free: gives such a page back (only pages the module released).
 * @page_arg: passed to @page_alloc / @page_free.
 * @last: the module's answer to the last refused call.
 * @leaked_tables: table pages the module kept (never given back).
 */
struct tdx_mirror {
	paddr_t tdr;
	struct sm_kick kick;
	int (*page_alloc)(void *arg, paddr_t *pa);
	void (*page_free)(void *arg, paddr_t pa);
	void *page_arg;
	struct sm_reflect_result last;
	uint64_t leaked_tables;
};

/* The ops; the s2_ext's ctx is a struct tdx_mirror. */
extern const struct s2_ext_ops tdx_mirror_ops;

#endif
