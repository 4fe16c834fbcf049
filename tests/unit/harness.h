/* SPDX-License-Identifier: MIT */
/*
 * A tiny host test harness. Each test binary's main() calls test_init(),
 * RUN_TEST() for every test, and returns test_done(). Output, one line a test:
 *   PASS: <suite>/<test>
 *   FAIL: <suite>/<test>: <file>:<line>: <what>
 * which tests/run.py counts. Options: --seed N (replay), --long (long mode),
 * --only NAME.
 */
#ifndef STRATA_TESTS_HARNESS_H
#define STRATA_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

extern uint64_t test_seed;	/* from --seed, else time-based; printed */
extern bool test_long;		/* --long: long randomized runs */
extern bool test_cur_failed;

void test_init(int argc, char **argv, const char *suite);
void test_run(const char *name, void (*fn)(void));
int test_done(void);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* xorshift64* over test_seed; deterministic for a given seed. */
uint64_t test_rand(void);

#define RUN_TEST(fn) test_run(#fn, fn)

/* Record a failure and return from the test function. */
#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			test_fail(__FILE__, __LINE__, "%s", #cond);	\
			return;						\
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		unsigned long long _a = (unsigned long long)(a);	\
		unsigned long long _b = (unsigned long long)(b);	\
		if (_a != _b) {						\
			test_fail(__FILE__, __LINE__,			\
				  "%s == %s (0x%llx != 0x%llx)", #a, #b,	\
				  _a, _b);				\
			return;						\
		}							\
	} while (0)

#endif
