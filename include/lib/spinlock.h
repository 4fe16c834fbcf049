/* SPDX-License-Identifier: MIT */
/*
 * A test-and-set spinlock in one 32-bit word, with __atomic builtins only
 * (so host tests could run it under ThreadSanitizer, like <lib/rwlock.h>).
 * Acquisition is an acquire, release a release. Not recursive and not fair:
 * the holders here (a VM's exit handling, the page allocator, the console)
 * hold it for one exit or one allocation, and every CPU spins with the
 * architecture's yield hint (rwlock_relax()).
 *
 * @waits counts acquisitions that did not get the lock at the first try
 * (STRATA_CTR_LOCK_WAITS adds the VM lock's to the MMU lock's); the run
 * loop's bounded tries of a VM lock (vmm/run.c try_lock_vm()) add theirs,
 * whether they got the lock in the end or skipped the VM.
 * Rejected alternative: a ticket lock (fair, but two words and a spin on a
 * shared counter; with at most a handful of CPUs per VM starvation has not
 * been seen, and the VM lock is a first model, docs/smp.md).
 */
#ifndef STRATA_LIB_SPINLOCK_H
#define STRATA_LIB_SPINLOCK_H

#include <lib/rwlock.h>

struct spinlock {
	uint32_t word;
	uint64_t waits;
};

#define SPINLOCK_INIT		{ .word = 0, .waits = 0 }

static inline bool spin_trylock(struct spinlock *l)
{
	return __atomic_load_n(&l->word, __ATOMIC_RELAXED) == 0 &&
	       !__atomic_exchange_n(&l->word, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_lock(struct spinlock *l)
{
	if (spin_trylock(l)) {
		return;
	}
	__atomic_fetch_add(&l->waits, 1, __ATOMIC_RELAXED);
	while (!spin_trylock(l)) {
		rwlock_relax();
	}
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const struct spinlock *l)
{
	return __atomic_load_n(&l->word, __ATOMIC_RELAXED);
}

static inline uint64_t spin_waits(const struct spinlock *l)
{
	return __atomic_load_n(&l->waits, __ATOMIC_RELAXED);
}

#endif
