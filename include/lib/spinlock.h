/* SPDX-License-Identifier: MIT */
/*
 * A ticket spinlock, for the hypervisor (freestanding) and the host tests
 * alike: GCC's __atomic builtins only, so ThreadSanitizer understands it.
 * Ticket order makes it fair: a CPU that waits is served in arrival order,
 * so a busy CPU cannot starve another (the rejected alternative, a plain
 * test-and-set lock, can). Not recursive; never held across a guest entry.
 */
#ifndef STRATA_LIB_SPINLOCK_H
#define STRATA_LIB_SPINLOCK_H

#include <types.h>

typedef struct {
	uint32_t next;		/* the ticket the next arrival takes */
	uint32_t owner;		/* the ticket being served */
} spinlock_t;

#define SPINLOCK_INIT	{ 0, 0 }

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
	__asm__ volatile("pause" ::: "memory");
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline void spin_lock(spinlock_t *l)
{
	uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me) {
		cpu_relax();
	}
}

static inline bool spin_trylock(spinlock_t *l)
{
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint32_t expect = owner;

	return __atomic_compare_exchange_n(&l->next, &expect, owner + 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->owner,
			 __atomic_load_n(&l->owner, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

#endif
