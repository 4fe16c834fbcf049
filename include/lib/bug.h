/* SPDX-License-Identifier: MIT */
/*
 * Loud internal bugs (../shared/STYLE.md, "four levels of this must not
 * happen"): WARN_ON_ONCE(cond) prints the condition, the file and the line
 * the first time it is true at that place and evaluates to the condition, so
 * a caller that can survive the bug writes
 *
 *	if (WARN_ON_ONCE(root->role.invalid)) {
 *		return -EINVAL;
 *	}
 *
 * Only for the hypervisor's own bugs, never for something a guest or a
 * command line can cause: those are an error return and a message. When only
 * one VM is broken, vm_bug() (include/vmm/vm.h) warns and stops that VM.
 * Every warning is counted in warn_count; tests expect it to stay 0.
 */
#ifndef STRATA_LIB_BUG_H
#define STRATA_LIB_BUG_H

#include <types.h>

extern unsigned int warn_count;

void __warn(const char *file, int line, const char *cond);

#define WARN_ON_ONCE(cond) ({						\
	static bool __warned;						\
	bool __c = !!(cond);						\
									\
	if (unlikely(__c) && !__warned) {				\
		__warned = true;					\
		__warn(__FILE__, __LINE__, #cond);			\
	} else if (unlikely(__c)) {					\
		warn_count++;						\
	}								\
	unlikely(__c);							\
})

#define WARN_ON(cond) ({						\
	bool __c = !!(cond);						\
									\
	if (unlikely(__c)) {						\
		__warn(__FILE__, __LINE__, #cond);			\
	}								\
	unlikely(__c);							\
})

#endif
