// SPDX-License-Identifier: MIT
/*
 * The secure module's memory is its own (docs/secure-module.md, "Memory
 * protection"). Every module call runs between sm_window_open() and
 * sm_window_close() on the CPU that made it, and module pages are touched
 * only through sm_pa_va(), which warns outside a bracket.
 *
 * In the hypervisor the module reaches its window through a writable alias
 * (arch/x86/paging.c, x86_alias_*()) that exists only inside the bracket:
 * opening installs it in this CPU's page tables, closing removes it and
 * flushes this CPU's TLB. The hypervisor's own identity map holds every page
 * the module owns (any PAMT type but NDA) read-only, from the moment its
 * type changes (sm_protect(), called by sm_pages_commit() and sm_init()),
 * so a write from the core faults (CR0.WP is set). Strata runs on one CPU;
 * the alias slot is that CPU's. Host tests have neither: the bracket only
 * keeps its depth and sm_protect() counts.
 */
#include <lib/bug.h>

#include "sm_internal.h"

#ifndef HOST_TEST
#include <arch/x86.h>
#endif

static unsigned int window_depth;
static uint64_t protect_failures;
static uint64_t alias_left;	/* the alias found present before a call */

void sm_window_open(void)
{
	WARN_ON_ONCE(window_depth != 0);
	window_depth++;
#ifndef HOST_TEST
	/* Outside a call the writable alias is gone (sm_window_close()). */
	if (WARN_ON_ONCE(x86_alias_present())) {
		alias_left++;
	}
	x86_alias_open();
#endif
}

void sm_window_close(void)
{
	if (WARN_ON_ONCE(window_depth == 0)) {
		return;
	}
	window_depth--;
#ifndef HOST_TEST
	x86_alias_close();
#endif
}

unsigned int sm_window_depth(void)
{
	return window_depth;
}

void sm_protect(paddr_t pa, uint64_t npages, bool module_owned)
{
#ifndef HOST_TEST
	for (uint64_t i = 0; i < npages; i++) {
		if (x86_idmap_set_writable(pa + i * PAGE_SIZE,
					   !module_owned)) {
			/* No page for a split table: loud, and audited. */
			protect_failures++;
			WARN_ON_ONCE(1);
		}
	}
#else
	(void)pa;
	(void)npages;
	(void)module_owned;
#endif
}

uint64_t sm_protection_audit(uint64_t *module_pages)
{
	uint64_t writable = 0, owned = 0;

	/*
	 * The alias slot first: a writable alias of the window left behind
	 * by a close would make the identity map's read-only pages moot.
	 * (Opening the window checks it too.)
	 */
#ifndef HOST_TEST
	writable += x86_alias_present();
#endif
	sm_window_open();
	for (uint64_t i = 0; sm.ready && i < sm.nr_pages; i++) {
		paddr_t pa = sm.base + i * PAGE_SIZE;

		if (sm_pamt(pa)->type == SM_PT_NDA) {
			continue;
		}
		owned++;
#ifndef HOST_TEST
		writable += x86_idmap_writable(pa);
#endif
	}
	sm_window_close();
	*module_pages = owned;
	return writable + protect_failures + alias_left;
}
