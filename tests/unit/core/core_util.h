/* SPDX-License-Identifier: MIT */
/* Helpers shared by the stage-2 core's host tests (both formats). */
#ifndef STRATA_TESTS_CORE_UTIL_H
#define STRATA_TESTS_CORE_UTIL_H

#include <stdlib.h>

#include <lib/errno.h>
#include <mm/s2_walk.h>
#include "harness.h"
#include "host_hooks.h"

/* The format's default IPA size for the tests (EPT 48, stage-2 40). */
extern const unsigned int fmt_ia_bits;
/* Format-specific tests (fmt_ept.c / fmt_stage2.c). */
void run_format_tests(void);
/* MMIO SPTE tests (test_mmio.c). */
void run_mmio_tests(void);

/* A fresh table; resets the host hooks. Returns 0 or the error. */
int core_setup(struct s2pt *pt, unsigned int ia_bits, unsigned int flags);
/* Destroy and check that nothing leaked; true on success. */
bool core_teardown(struct s2pt *pt);
/* The dump as one malloc'd string (lines joined by '\n'). */
char *core_dump(const struct s2pt *pt);
/* Number of logged events of @kind. */
unsigned int core_events(enum host_event_kind kind);
/* Index of the first / last logged event of @kind, or -1. */
int core_first_event(enum host_event_kind kind);
int core_last_event(enum host_event_kind kind);

/* A physical address for test mappings (never dereferenced). */
#define TEST_PA(x)	(0x100000000ULL + (x))
#define S2_PROT_RW_TEST	(S2_PROT_R | S2_PROT_W)

#endif
