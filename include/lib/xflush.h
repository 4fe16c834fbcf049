/* SPDX-License-Identifier: MIT */
/*
 * Remote TLB invalidation for CPUs whose invalidation reaches only
 * themselves (x86 INVEPT; docs/smp.md, "Remote EPT invalidation"): a
 * pending flush per CPU plus kick-and-wait for the CPUs that are in a
 * guest. Header-only so that the hypervisor (arch/x86/ept_flush.c,
 * vmx_run.c) and the host test (tests/unit/xflush/) run the same code.
 *
 * Each CPU has a struct xflush_cpu. A CPU entering a guest calls
 * xflush_enter() (which makes its guest_seq odd, then executes the local
 * invalidation if a flush is pending) and xflush_exit() when it left the
 * guest (guest_seq even). A CPU that changed translations and invalidated
 * its own TLB calls xflush_request() for the other CPUs that may hold
 * them: it posts a pending flush to each, then, for each one whose
 * guest_seq is odd, kicks it and waits until guest_seq moves.
 *
 * **Guaranteed:** once xflush_request() returned, no CPU of @mask uses a
 * translation from before it: each was either out of the guest, and then
 * executes the pending flush before its next entry, or in the guest, and
 * then has left it (and will flush before entering again). Why: the
 * requester's post and its read of guest_seq, and the target's odd store
 * and its read of pending, are all sequentially consistent atomics (on
 * x86 the store is an XCHG, a full barrier; no fence, which
 * ThreadSanitizer cannot model), so at least one side sees the other
 * (Dekker): either
 * the target's entry sees the post, or the requester sees the odd
 * sequence and waits for the exit. The wait cannot deadlock: only CPUs in
 * a guest are waited for, a guest always exits on a kick (external-
 * interrupt exiting), and a waiting CPU is never in a guest.
 */
#ifndef STRATA_LIB_XFLUSH_H
#define STRATA_LIB_XFLUSH_H

#include <types.h>

struct xflush_cpu {
	uint64_t posted;	/* flushes posted to this CPU (any CPU adds) */
	uint64_t done;		/* posted count it had flushed up to (own) */
	uint64_t guest_seq;	/* odd while in a guest (own, others read) */
	uint64_t flushes;	/* local invalidations it executed (own) */
} __attribute__((aligned(64)));

/* Entering the guest: true when the caller must invalidate its TLB now. */
static inline bool xflush_enter(struct xflush_cpu *me)
{
	uint64_t posted;

	__atomic_store_n(&me->guest_seq, me->guest_seq + 1, __ATOMIC_SEQ_CST);
	posted = __atomic_load_n(&me->posted, __ATOMIC_SEQ_CST);
	if (posted == me->done) {
		return false;
	}
	me->done = posted;
	__atomic_store_n(&me->flushes, me->flushes + 1, __ATOMIC_RELAXED);
	return true;
}

/* Left the guest (before taking any lock the requester may hold). */
static inline void xflush_exit(struct xflush_cpu *me)
{
	__atomic_store_n(&me->guest_seq, me->guest_seq + 1, __ATOMIC_RELEASE);
}

/*
 * Post a flush to every CPU in @mask but @self and wait for those in a
 * guest to leave it; @kick(cpu, ctx) interrupts one. Returns how many
 * CPUs had to be kicked and waited for.
 */
static inline unsigned int xflush_request(struct xflush_cpu *cpus,
					  unsigned int nr, unsigned int self,
					  uint64_t mask,
					  void (*kick)(unsigned int, void *),
					  void *ctx, void (*relax)(void))
{
	uint64_t seq[64];
	unsigned int waited = 0;

	for (unsigned int c = 0; c < nr && c < 64; c++) {
		if (c != self && (mask & (1ULL << c))) {
			__atomic_fetch_add(&cpus[c].posted, 1, __ATOMIC_SEQ_CST);
		}
	}
	for (unsigned int c = 0; c < nr && c < 64; c++) {
		seq[c] = 0;
		if (c == self || !(mask & (1ULL << c))) {
			continue;
		}
		seq[c] = __atomic_load_n(&cpus[c].guest_seq, __ATOMIC_SEQ_CST);
		if (seq[c] & 1) {
			kick(c, ctx);
			waited++;
		}
	}
	for (unsigned int c = 0; c < nr && c < 64; c++) {
		if (!(seq[c] & 1)) {
			continue;
		}
		while (__atomic_load_n(&cpus[c].guest_seq, __ATOMIC_ACQUIRE) ==
		       seq[c]) {
			relax();
		}
	}
	return waited;
}

#endif
