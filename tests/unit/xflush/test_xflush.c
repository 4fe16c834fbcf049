// SPDX-License-Identifier: MIT
/*
 * The x86 remote-invalidation protocol (include/lib/xflush.h; docs/smp.md
 * "Remote EPT invalidation"), the same header the hypervisor runs, under
 * ThreadSanitizer (any report fails the run).
 *
 * Every thread is a physical CPU with its own simulated TLB: a cached
 * version per slot of a shared table, filled from the table on a miss and
 * emptied only when xflush_enter() says a flush is pending (the INVEPT
 * all-context of arch/x86/xflush.c) or by its own local flush. A CPU goes
 * round: enter, a run of accesses in the guest (until a kick arrives or
 * the run ends), exit; out of the guest it sometimes changes a slot (a
 * zap: the version goes up) under the one "MMU lock", flushes its own TLB,
 * calls xflush_request() for the other CPUs and only then publishes the
 * new version as returned[slot].
 *
 * Checked: every access in the guest that started after an operation on
 * its slot returned (it read returned[slot] = R first) uses a translation
 * of version >= R: no CPU runs on a stale translation once the operation
 * returned. Also that the run exercised both sides of the protocol: flushes
 * posted to CPUs out of the guest and kick-and-wait of CPUs in it.
 * A deterministic test checks the bookkeeping: who is waited for, who must
 * flush, who is left alone.
 *
 * Options: --ops N (operations by all CPUs together; default 200000),
 * --threads N (2-8, default 3), --seed N, --break-post (the seeded bug:
 * requests post nothing; the stress test must then FAIL).
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include <lib/xflush.h>

#define SLOTS		16
#define MAX_CPUS	8
#define RUN_ACCESSES	256

static unsigned long total_ops = 200000;
static unsigned int nr_cpus = 3;
static bool break_post;

static struct xflush_cpu cpus[MAX_CPUS];
static uint64_t table[SLOTS];		/* current version of each slot */
static uint64_t returned[SLOTS];	/* last version an operation returned */
static uint32_t kick_flag[MAX_CPUS];
static pthread_mutex_t mmu_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long ops_done;
static uint64_t stale, kicked_waits, posted_flushes, accesses;

struct cpu {
	unsigned int id;
	pthread_t tid;
	uint64_t rng;
	uint64_t tlb[SLOTS];	/* cached version + 1; 0: not cached */
};

static uint64_t next_rand(struct cpu *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

static void kick(unsigned int cpu, void *ctx)
{
	(void)ctx;
	__atomic_store_n(&kick_flag[cpu], 1, __ATOMIC_RELEASE);
}

static void relax(void)
{
	sched_yield();
}

static void tlb_flush(struct cpu *c)
{
	memset(c->tlb, 0, sizeof(c->tlb));
}

static void guest_access(struct cpu *c, unsigned int slot)
{
	uint64_t r = __atomic_load_n(&returned[slot], __ATOMIC_ACQUIRE);
	uint64_t t;

	if (!c->tlb[slot]) {
		c->tlb[slot] = __atomic_load_n(&table[slot],
					       __ATOMIC_ACQUIRE) + 1;
	}
	t = c->tlb[slot] - 1;
	if (t < r) {
		__atomic_fetch_add(&stale, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&accesses, 1, __ATOMIC_RELAXED);
}

static void operation(struct cpu *c)
{
	unsigned int slot = (unsigned int)(next_rand(c) % SLOTS);
	uint64_t mask = (1ULL << nr_cpus) - 1, v;
	unsigned int waited;

	pthread_mutex_lock(&mmu_lock);
	v = __atomic_load_n(&table[slot], __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&table[slot], v, __ATOMIC_RELEASE);
	tlb_flush(c);			/* the local INVEPT */
	if (break_post) {
		mask = 1ULL << c->id;	/* only itself: nobody else hears */
	}
	waited = xflush_request(cpus, nr_cpus, c->id, mask, kick, NULL,
				relax);
	__atomic_fetch_add(&kicked_waits, waited, __ATOMIC_RELAXED);
	__atomic_fetch_add(&posted_flushes,
			   (uint64_t)__builtin_popcountll(mask & ~(1ULL << c->id)),
			   __ATOMIC_RELAXED);
	__atomic_store_n(&returned[slot], v, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&mmu_lock);
}

static void *cpu_main(void *arg)
{
	struct cpu *c = arg;
	struct xflush_cpu *me = &cpus[c->id];

	while (__atomic_fetch_add(&ops_done, 1, __ATOMIC_RELAXED) < total_ops) {
		unsigned int run = 1 + (unsigned int)(next_rand(c) %
						      RUN_ACCESSES);

		if (xflush_enter(me)) {
			tlb_flush(c);
		}
		for (unsigned int i = 0; i < run; i++) {
			if (__atomic_exchange_n(&kick_flag[c->id], 0,
						__ATOMIC_ACQUIRE)) {
				break;	/* the kick: a VM exit */
			}
			guest_access(c, (unsigned int)(next_rand(c) % SLOTS));
		}
		xflush_exit(me);
		if (next_rand(c) % 4 == 0) {
			operation(c);
		}
	}
	return NULL;
}

static void no_stale_translation_after_return(void)
{
	struct cpu c[MAX_CPUS];

	memset(cpus, 0, sizeof(cpus));
	for (unsigned int i = 0; i < nr_cpus; i++) {
		c[i] = (struct cpu){ .id = i, .rng = test_rand() | 1 };
		CHECK_EQ(pthread_create(&c[i].tid, NULL, cpu_main, &c[i]), 0);
	}
	for (unsigned int i = 0; i < nr_cpus; i++) {
		pthread_join(c[i].tid, NULL);
	}
	printf("# %lu operations on %u CPUs: %llu accesses, %llu flushes posted, %llu kick-and-waits, %llu stale\n",
	       total_ops, nr_cpus, (unsigned long long)accesses,
	       (unsigned long long)posted_flushes,
	       (unsigned long long)kicked_waits, (unsigned long long)stale);
	if (break_post) {
		/*
		 * The negative control (xflush_mutant): with the seeded bug
		 * the simulated TLBs must be caught holding stale entries,
		 * or this test could not fail.
		 */
		CHECK(stale > 0);
		return;
	}
	CHECK_EQ(stale, 0);
	/* Both sides ran: CPUs out of the guest and in it. */
	CHECK(posted_flushes > 0);
	CHECK(kicked_waits > 0);
}

/*
 * The bookkeeping, one step at a time on one thread: the kick of a CPU in
 * the guest makes it exit at once (the callback), so the wait ends.
 */
static struct xflush_cpu det[3];
static unsigned int det_kicks[3];

static void det_kick(unsigned int cpu, void *ctx)
{
	(void)ctx;
	det_kicks[cpu]++;
	xflush_exit(&det[cpu]);		/* external-interrupt exit */
}

static void bookkeeping(void)
{
	memset(det, 0, sizeof(det));
	/* CPU 1 in the guest, CPU 2 out of it; CPU 0 changes a table. */
	CHECK(!xflush_enter(&det[1]));
	CHECK_EQ(xflush_request(det, 3, 0, 0x7, det_kick, NULL, relax), 1);
	CHECK_EQ(det_kicks[1], 1);
	CHECK_EQ(det_kicks[2], 0);		/* out of the guest: no wait */
	CHECK_EQ(det[1].guest_seq % 2, 0);	/* it left the guest */
	CHECK_EQ(det[0].posted, 0);		/* not to itself */
	/* Both must flush before their next entry, once. */
	CHECK(xflush_enter(&det[1]));
	xflush_exit(&det[1]);
	CHECK(!xflush_enter(&det[1]));
	xflush_exit(&det[1]);
	CHECK(xflush_enter(&det[2]));
	xflush_exit(&det[2]);
	/* A CPU outside the mask is neither posted to nor kicked. */
	CHECK(!xflush_enter(&det[2]));
	CHECK_EQ(xflush_request(det, 3, 0, 0x3, det_kick, NULL, relax), 0);
	CHECK_EQ(det_kicks[2], 0);
	CHECK_EQ(det[2].guest_seq % 2, 1);	/* still in the guest */
	xflush_exit(&det[2]);
	CHECK(!xflush_enter(&det[2]));
	xflush_exit(&det[2]);
	CHECK(xflush_enter(&det[1]));		/* posted while out */
	xflush_exit(&det[1]);
	/* Two requests while out: one flush covers both. */
	xflush_request(det, 3, 0, 0x2, det_kick, NULL, relax);
	xflush_request(det, 3, 2, 0x2, det_kick, NULL, relax);
	CHECK(xflush_enter(&det[1]));
	xflush_exit(&det[1]);
	CHECK(!xflush_enter(&det[1]));
	xflush_exit(&det[1]);
	CHECK_EQ(det[1].flushes, 3);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			total_ops = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			nr_cpus = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--break-post")) {
			break_post = true;
		}
	}
	if (nr_cpus < 2 || nr_cpus > MAX_CPUS) {
		nr_cpus = 3;
	}
	test_init(argc, argv, "xflush_stress");
	RUN_TEST(bookkeeping);
	RUN_TEST(no_stale_translation_after_return);
	return test_done();
}
