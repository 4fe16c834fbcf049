// SPDX-License-Identifier: MIT
/*
 * The secure module's window bracket (docs/secure-module.md, "Memory
 * protection"). Every module call runs between sm_window_open() and
 * sm_window_close() on the CPU that made it, and module pages are touched
 * only through sm_pa_va(), which warns outside a bracket.
 *
 * Today the hypervisor identity maps all RAM and runs on one CPU, so the
 * bracket only keeps a depth. The plan: the hypervisor's page tables map
 * module pages (PAMT, TDR, TDVPR, S-EPT, private guest pages) read-only or
 * not at all; sm_window_open() installs a writable alias of the window in a
 * per-CPU slot of this CPU's page tables and sm_window_close() removes it
 * and flushes this CPU's TLB for it, so a call on one CPU never opens the
 * window to another. The depth becomes per-CPU then.
 */
#include <lib/bug.h>

#include "sm_internal.h"

static unsigned int window_depth;

void sm_window_open(void)
{
	WARN_ON_ONCE(window_depth != 0);
	window_depth++;
}

void sm_window_close(void)
{
	if (WARN_ON_ONCE(window_depth == 0)) {
		return;
	}
	window_depth--;
}

unsigned int sm_window_depth(void)
{
	return window_depth;
}
