// SPDX-License-Identifier: MIT
/* WARN_ON_ONCE() and WARN_ON() reports (include/lib/bug.h). */
#include <lib/bug.h>
#include <lib/printk.h>

unsigned int warn_count;

void __warn(const char *file, int line, const char *cond)
{
	warn_count++;
	pr_err("WARNING: %s:%d: %s (internal bug, please report)\n", file,
	       line, cond);
}
