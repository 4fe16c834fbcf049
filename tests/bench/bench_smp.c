// SPDX-License-Identifier: MIT
/*
 * `make bench`, many CPUs (issue 11, docs/smp.md): the cost of a stage-2
 * fault when 1, 2 and 4 host threads fault at once into ONE table, each in
 * a range of its own (disjoint 1 GiB regions), under the MMU lock held
 * shared as the hypervisor takes it (s2pt_map_fault(): compare-and-exchange
 * installs). Each region's 2 MiB tables are made first (one page mapped
 * per block), so the faults measured install 4 KiB leaves and allocate
 * nothing: what is measured is the core and the lock, not the host's page
 * provider. Per thread count it prints user-space instructions per fault
 * (perf_event_open, when the host allows it; -1 otherwise), nanoseconds per
 * fault (informative: other load on the host moves it), the lock's waits
 * and the faults that lost a race (fault_retries; 0 with disjoint ranges).
 * The target of the issue: instructions per fault with 4 threads within
 * 1.2x of one thread (no serialization on a global lock).
 * Where the host has no perf counters (a VM without a virtual PMU),
 * tests/bench/run.py runs `bench_smp --one N` under Valgrind's callgrind
 * instead: one run with N threads, instructions counted only inside
 * fault_loop() (--toggle-collect), spins on a busy lock included.
 * Callgrind runs one thread at a time and switches between them, so a
 * thread preempted while it holds the lock makes the others spin, as on
 * a host whose CPUs are shared.
 * Built with the real core, the stage-2 encoder and the thread-safe hooks
 * of the stress test (tests/unit/smp/smp_hooks.c).
 */
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <lib/rwlock.h>
#include <mm/s2pt.h>
#include "smp_hooks.h"

#define REGION		(1ULL << 30)
#define BASE_GPA	(1ULL << 32)
#define BASE_PA		(1ULL << 36)
#define BLOCKS		64		/* 2 MiB blocks faulted per thread */
#define MAX_THREADS	4
#define ROUNDS		5

static struct s2pt pt;
static struct rwlock lock = RWLOCK_INIT;
static pthread_barrier_t start;

struct worker {
	unsigned int cpu;
	uint64_t faults;
	uint64_t insns;
	double ns;
	int err;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int insn_counter(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static gpa_t region_of(unsigned int cpu)
{
	return BASE_GPA + cpu * REGION;
}

/* What is measured (callgrind's --toggle-collect names it). */
void fault_loop(struct worker *w, gpa_t lo, paddr_t pa);
__attribute__((noinline)) void fault_loop(struct worker *w, gpa_t lo,
					  paddr_t pa)
{
	for (uint64_t b = 0; b < BLOCKS && !w->err; b++) {
		gpa_t blk = lo + b * 0x200000ULL;

		for (gpa_t a = blk + 0x1000; a < blk + 0x200000; a += 0x1000) {
			struct s2_fault_result r;

			rwlock_read_lock(&lock);
			w->err |= s2pt_map_fault(&pt, a, a, a + 0x1000,
						 pa + (a - lo), S2_PROT_RWX,
						 &r);
			rwlock_read_unlock(&lock);
			w->faults++;
		}
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	gpa_t lo = region_of(w->cpu);
	paddr_t pa = BASE_PA + w->cpu * REGION;
	int fd = insn_counter();
	uint64_t insns = 0;
	double t0;

	smp_this_cpu = (int)w->cpu;
	pthread_barrier_wait(&start);
	if (fd >= 0) {
		ioctl(fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	}
	t0 = now_ns();
	fault_loop(w, lo, pa);
	w->ns = now_ns() - t0;
	if (fd >= 0) {
		ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
		if (read(fd, &insns, sizeof(insns)) != sizeof(insns)) {
			insns = 0;
		}
		close(fd);
	}
	w->insns = fd >= 0 ? insns : 0;
	return NULL;
}

static int run(unsigned int n, double *ipf, double *nspf, uint64_t *nfaults,
	       uint64_t *waits, uint64_t *retries)
{
	struct worker w[MAX_THREADS] = { 0 };
	pthread_t t[MAX_THREADS];
	uint64_t faults = 0, insns = 0, waits0, retries0;
	double ns = 0;
	int ret = s2pt_init(&pt, 48, 0, 1);

	if (ret) {
		return ret;
	}
	smp_nr_cpus = n;
	pt.lock = &lock;
	/* The tables: one 4 KiB page per 2 MiB block of every region. */
	rwlock_write_lock(&lock);
	for (unsigned int c = 0; c < n && !ret; c++) {
		for (uint64_t b = 0; b < BLOCKS && !ret; b++) {
			gpa_t a = region_of(c) + b * 0x200000ULL;

			ret = s2pt_map(&pt, a, BASE_PA + c * REGION +
				       b * 0x200000ULL, 0x1000, S2_PROT_RWX);
		}
	}
	rwlock_write_unlock(&lock);
	waits0 = __atomic_load_n(&lock.waits, __ATOMIC_RELAXED);
	retries0 = pt.counters.fault_retries;
	pthread_barrier_init(&start, NULL, n);
	for (unsigned int i = 0; i < n && !ret; i++) {
		w[i].cpu = i;
		ret = pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		ret |= w[i].err;
		faults += w[i].faults;
		insns += w[i].insns;
		ns += w[i].ns;
	}
	pthread_barrier_destroy(&start);
	*ipf = insns ? (double)insns / faults : -1;
	*nspf = ns / faults;
	*nfaults = faults;
	*waits = lock.waits - waits0;
	*retries = pt.counters.fault_retries - retries0;
	rwlock_write_lock(&lock);
	s2pt_destroy(&pt);
	rwlock_write_unlock(&lock);
	return ret;
}

int main(int argc, char **argv)
{
	double ipf[3], ns[3];
	const unsigned int threads[3] = { 1, 2, 4 };

	if (argc == 3 && !strcmp(argv[1], "--one")) {
		/* One run, for an instruction count from outside. */
		unsigned int n = (unsigned int)atoi(argv[2]);
		uint64_t f, wt, rt;
		double a, b;

		if (n < 1 || n > MAX_THREADS || run(n, &a, &b, &f, &wt, &rt)) {
			fprintf(stderr, "smp-faults: bad thread count or the core failed\n");
			return 1;
		}
		printf("smp-faults-one threads=%u faults=%llu lock_waits=%llu fault_retries=%llu\n",
		       n, (unsigned long long)f, (unsigned long long)wt,
		       (unsigned long long)rt);
		return 0;
	}

	/* Best of ROUNDS runs per thread count (the host is shared). */
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t faults = 0, waits = 0, retries = 0;

		ipf[i] = ns[i] = 1e30;
		for (unsigned int r = 0; r < ROUNDS; r++) {
			double a, b;
			uint64_t f, wt, rt;

			if (run(threads[i], &a, &b, &f, &wt, &rt)) {
				fprintf(stderr, "smp-faults: the core failed\n");
				return 1;
			}
			ipf[i] = a < ipf[i] ? a : ipf[i];
			ns[i] = b < ns[i] ? b : ns[i];
			faults = f;
			waits += wt;
			retries += rt;
		}
		printf("smp-faults threads=%u faults=%llu insns_per_fault=%.0f ns_per_fault=%.0f lock_waits=%llu fault_retries=%llu\n",
		       threads[i], (unsigned long long)faults, ipf[i], ns[i],
		       (unsigned long long)waits,
		       (unsigned long long)retries);
	}
	if (ipf[0] > 0) {
		printf("smp-faults ratio insns 2/1=%.2f 4/1=%.2f (target <= 1.20)\n",
		       ipf[1] / ipf[0], ipf[2] / ipf[0]);
	} else {
		printf("smp-faults ratio insns unavailable (no perf counters); ns 2/1=%.2f 4/1=%.2f (informative)\n",
		       ns[1] / ns[0], ns[2] / ns[0]);
	}
	return 0;
}
