/* SPDX-License-Identifier: MIT */
/*
 * Fixture of the secure module's host tests: a window of host memory posing
 * as physical memory at a fake base (so a mixed-up PA and VA faults under
 * ASan), a test page allocator that honours sm_page_releasable() and counts
 * the pages it had to leak, and helpers to build TDs.
 */
#ifndef STRATA_TESTS_TDX_UTIL_H
#define STRATA_TESTS_TDX_UTIL_H

#include <arch/tdx_module.h>
#include "harness.h"

#define T_BASE		0x40000000ULL	/* 1 GiB aligned */
#define T_PAGES		1024		/* 4 MiB: pages 512.. are a 2M block */
#define T_BLOCK2M	(T_BASE + 512 * PAGE_SIZE)

extern uint8_t *t_mem;
extern unsigned int t_leaked;

void t_setup(void);
/* The host address of a window page. */
void *t_va(paddr_t pa);
/* A free page below the 2M block; 0 when none is left. */
paddr_t t_alloc(void);
/* Give a page back: only if the module released it, else leak it. */
void t_free(paddr_t pa);
bool t_is_leaked(paddr_t pa);
/* A fresh TD with 4-level S-EPT, GPAW 48 (shared bit 47). */
paddr_t t_td(void);
paddr_t t_vp(paddr_t tdr);
/* Link the tables down to the level-1 entry covering @gpa. */
bool t_tables(paddr_t tdr, gpa_t gpa);
/* A runnable TD with one vCPU and tables for GPA 0 .. 2M. */
paddr_t t_runnable(paddr_t *vp);
unsigned int t_state_at(paddr_t tdr, gpa_t gpa, unsigned int *level);
uint64_t t_type(paddr_t pa);
paddr_t t_owner(paddr_t pa);
/* Snapshot of the whole window; t_same() compares with it. */
void t_snap(void);
bool t_same(void);
uint64_t t_calls(enum sm_leaf leaf);

/* A refusal with its code, the window unchanged. */
#define CHECK_REFUSED(call, code)					\
	do {								\
		sm_status_t __st;					\
									\
		t_snap();						\
		__st = (call);						\
		CHECK_EQ(sm_status_code(__st), (code));			\
		CHECK(t_same());					\
	} while (0)

#define CHECK_OK(call) CHECK_EQ((call), SM_SUCCESS)

#endif
