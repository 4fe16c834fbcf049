/* SPDX-License-Identifier: MIT */
/*
 * A reader-writer spinlock in one 32-bit word, with C11-style __atomic
 * builtins only (no arch code, so the host tests run the same lock under
 * ThreadSanitizer).
 *
 *   bit 31      RWLOCK_WRITER   held exclusive
 *   bit 30      RWLOCK_WAITING  a writer waits: no new reader gets in
 *   bits 29:0   readers holding it shared
 *
 * Writers are preferred: once a writer waits, new readers spin until it has
 * had the lock, so a stream of stage-2 faults (readers) cannot starve a zap
 * or an invalidate-all (writers). Acquisition is an acquire, release a
 * release: what a holder wrote is visible to the next holder.
 *
 * @waits counts acquisitions that did not get the lock at the first try (the
 * lock-wait counter of the bench, STRATA_CTR_LOCK_WAITS); it is updated
 * relaxed, outside the critical path of an uncontended acquisition.
 *
 * Not recursive: a CPU that takes it twice spins forever. The assertion
 * helpers only say that SOME holder has the mode: the lock does not record
 * which CPU holds it.
 * Rejected alternative: a ticket (fair) rwlock. It orders readers behind a
 * waiting writer too, but costs two words and an extra atomic per read
 * acquisition; the fault path takes the lock on every stage-2 fault.
 */
#ifndef STRATA_LIB_RWLOCK_H
#define STRATA_LIB_RWLOCK_H

#include <types.h>

#define RWLOCK_WRITER		0x80000000U
#define RWLOCK_WAITING		0x40000000U
#define RWLOCK_READERS		0x3fffffffU

struct rwlock {
	uint32_t word;
	uint64_t waits;
};

#define RWLOCK_INIT		{ .word = 0, .waits = 0 }

#ifdef HOST_TEST
int sched_yield(void);
#endif

/*
 * One spin. On the host (tests) the holder may be a thread the scheduler
 * took off its CPU, so a spinner gives its CPU away instead.
 */
static inline void rwlock_relax(void)
{
#if defined(HOST_TEST)
	sched_yield();
#elif defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static inline void rwlock_count_wait(struct rwlock *l)
{
	__atomic_fetch_add(&l->waits, 1, __ATOMIC_RELAXED);
}

static inline bool rwlock_try_read(struct rwlock *l)
{
	uint32_t v = __atomic_load_n(&l->word, __ATOMIC_RELAXED);

	if (v & (RWLOCK_WRITER | RWLOCK_WAITING)) {
		return false;
	}
	return __atomic_compare_exchange_n(&l->word, &v, v + 1, false,
					   __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void rwlock_read_lock(struct rwlock *l)
{
	if (rwlock_try_read(l)) {
		return;
	}
	rwlock_count_wait(l);
	while (!rwlock_try_read(l)) {
		rwlock_relax();
	}
}

static inline void rwlock_read_unlock(struct rwlock *l)
{
	__atomic_fetch_sub(&l->word, 1, __ATOMIC_RELEASE);
}

/* Free of holders (a waiting writer's mark may be set): take it. */
static inline bool rwlock_try_write(struct rwlock *l)
{
	uint32_t v = __atomic_load_n(&l->word, __ATOMIC_RELAXED);

	if (v & (RWLOCK_WRITER | RWLOCK_READERS)) {
		return false;
	}
	/* Clears RWLOCK_WAITING: other waiting writers set it again. */
	return __atomic_compare_exchange_n(&l->word, &v, RWLOCK_WRITER, false,
					   __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void rwlock_write_lock(struct rwlock *l)
{
	if (rwlock_try_write(l)) {
		return;
	}
	rwlock_count_wait(l);
	for (;;) {
		__atomic_fetch_or(&l->word, RWLOCK_WAITING, __ATOMIC_RELAXED);
		if (rwlock_try_write(l)) {
			return;
		}
		rwlock_relax();
	}
}

static inline void rwlock_write_unlock(struct rwlock *l)
{
	/* Keeps RWLOCK_WAITING: a writer that waits still goes first. */
	__atomic_fetch_and(&l->word, ~RWLOCK_WRITER, __ATOMIC_RELEASE);
}

static inline bool rwlock_held_write(const struct rwlock *l)
{
	return __atomic_load_n(&l->word, __ATOMIC_RELAXED) & RWLOCK_WRITER;
}

static inline bool rwlock_held(const struct rwlock *l)
{
	return __atomic_load_n(&l->word, __ATOMIC_RELAXED) &
	       (RWLOCK_WRITER | RWLOCK_READERS);
}

static inline unsigned int rwlock_readers(const struct rwlock *l)
{
	return __atomic_load_n(&l->word, __ATOMIC_RELAXED) & RWLOCK_READERS;
}

#endif
