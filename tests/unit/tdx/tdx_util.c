// SPDX-License-Identifier: MIT
/* Fixture of the secure module's host tests (tdx_util.h). */
#include <stdlib.h>
#include <string.h>

#include "tdx_util.h"

uint8_t *t_mem;
unsigned int t_leaked;
static uint8_t *snap;
static uint8_t used[T_PAGES];	/* 0 free, 1 given out, 2 leaked */

void t_setup(void)
{
	uint64_t pamt = SM_PAMT_PAGES(T_PAGES);

	if (!t_mem) {
		t_mem = aligned_alloc(SZ_2M, T_PAGES * PAGE_SIZE);
		snap = malloc(T_PAGES * PAGE_SIZE);
	}
	memset(t_mem, 0xa5, T_PAGES * PAGE_SIZE);
	memset(used, 0, sizeof(used));
	for (uint64_t i = 0; i < pamt; i++) {
		used[i] = 1;
	}
	t_leaked = 0;
	if (sm_init(T_BASE, T_PAGES, t_mem, T_BASE) != SM_SUCCESS) {
		abort();
	}
}

void *t_va(paddr_t pa)
{
	return t_mem + (pa - T_BASE);
}

paddr_t t_alloc(void)
{
	for (unsigned int i = 0; i < 512; i++) {
		if (!used[i]) {
			used[i] = 1;
			return T_BASE + (uint64_t)i * PAGE_SIZE;
		}
	}
	return 0;
}

void t_free(paddr_t pa)
{
	unsigned int i = (unsigned int)((pa - T_BASE) >> PAGE_SHIFT);

	if (sm_page_releasable(pa)) {
		used[i] = 0;
	} else {
		used[i] = 2;
		t_leaked++;
	}
}

bool t_is_leaked(paddr_t pa)
{
	return used[(pa - T_BASE) >> PAGE_SHIFT] == 2;
}

paddr_t t_td(void)
{
	const struct sm_td_params p = { .levels = 4, .gpaw = 48 };
	paddr_t tdr = t_alloc(), root = t_alloc();

	if (sm_td_create(tdr, root, &p) != SM_SUCCESS) {
		return 0;
	}
	return tdr;
}

paddr_t t_vp(paddr_t tdr)
{
	paddr_t vp = t_alloc();

	return sm_vp_create(tdr, vp) == SM_SUCCESS ? vp : 0;
}

bool t_tables(paddr_t tdr, gpa_t gpa)
{
	for (unsigned int level = 3; level >= 1; level--) {
		unsigned int l;
		unsigned int st = t_state_at(tdr, gpa, &l);

		if (l < level) {
			continue;	/* already linked below this level */
		}
		if (st != SM_SEPT_FREE ||
		    sm_sept_add(tdr, ALIGN_DOWN(gpa, 1ULL << (12 + 9 * level)),
				level, t_alloc(), NULL) != SM_SUCCESS) {
			return false;
		}
	}
	return true;
}

paddr_t t_runnable(paddr_t *vp)
{
	paddr_t tdr = t_td();

	*vp = t_vp(tdr);
	if (!tdr || !*vp || !t_tables(tdr, 0) ||
	    sm_mr_finalize(tdr) != SM_SUCCESS) {
		return 0;
	}
	return tdr;
}

unsigned int t_state_at(paddr_t tdr, gpa_t gpa, unsigned int *level)
{
	struct sm_out out = { 0 };

	if (sm_sept_rd(tdr, gpa, &out) != SM_SUCCESS) {
		return ~0U;
	}
	if (level) {
		*level = out.level_state & 0xff;
	}
	return (unsigned int)(out.level_state >> 8) & 0xff;
}

uint64_t t_type(paddr_t pa)
{
	struct sm_out out = { 0 };

	sm_page_rdmd(pa, &out);
	return out.type;
}

paddr_t t_owner(paddr_t pa)
{
	struct sm_out out = { 0 };

	sm_page_rdmd(pa, &out);
	return out.owner;
}

void t_snap(void)
{
	memcpy(snap, t_mem, T_PAGES * PAGE_SIZE);
}

bool t_same(void)
{
	return memcmp(snap, t_mem, T_PAGES * PAGE_SIZE) == 0;
}

uint64_t t_calls(enum sm_leaf leaf)
{
	struct sm_stats st;

	sm_get_stats(&st);
	return st.calls[leaf];
}
