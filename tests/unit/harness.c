// SPDX-License-Identifier: MIT
/* The host test harness; see harness.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <core/console.h>
#include "harness.h"

uint64_t test_seed;
bool test_long;
bool test_cur_failed;

static const char *suite_name = "unit";
static const char *only;
static unsigned int nr_pass, nr_fail;
static const char *cur_name;
static uint64_t rng_state;

static void host_putc(char c)
{
	if (c != '\r') {
		fputc(c, stderr);
	}
}

static const struct console host_console = { "stderr", host_putc };

void test_init(int argc, char **argv, const char *suite)
{
	suite_name = suite;
	test_seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			test_seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--long")) {
			test_long = true;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		}
	}
	if (!test_seed) {
		test_seed = 1;
	}
	rng_state = test_seed;
	console_register(&host_console);
	printf("# %s: seed %llu%s (replay with --seed %llu)\n", suite,
	       (unsigned long long)test_seed, test_long ? ", long mode" : "",
	       (unsigned long long)test_seed);
	fflush(stdout);
}

uint64_t test_rand(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (test_cur_failed) {
		return;		/* report the first failure of a test only */
	}
	test_cur_failed = true;
	printf("FAIL: %s/%s: %s:%d: ", suite_name, cur_name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (seed %llu)\n", (unsigned long long)test_seed);
	fflush(stdout);
}

void test_run(const char *name, void (*fn)(void))
{
	if (only && strcmp(only, name)) {
		return;
	}
	cur_name = name;
	test_cur_failed = false;
	fn();
	if (test_cur_failed) {
		nr_fail++;
	} else {
		nr_pass++;
		printf("PASS: %s/%s\n", suite_name, name);
	}
	fflush(stdout);
}

int test_done(void)
{
	printf("# %s: %u passed, %u failed\n", suite_name, nr_pass, nr_fail);
	return nr_fail ? 1 : 0;
}
