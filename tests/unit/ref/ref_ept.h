/* SPDX-License-Identifier: MIT */
/*
 * Reference translator for Intel EPT (4-level walk), written from the Intel
 * SDM Vol. 3C ("EPT Translation Mechanism", "EPT Misconfigurations", "EPT
 * Violations", "Virtualization Exceptions") and independent of the
 * hypervisor's EPT encoder. It answers what the hardware would do for one
 * guest-physical access.
 *
 * Levels follow the Strata convention, counted from the leaf: 0 = EPT PTE
 * (4 KiB), 1 = EPT PDE (2 MiB), 2 = EPT PDPTE (1 GiB), 3 = EPT PML4E.
 */
#ifndef STRATA_TESTS_REF_EPT_H
#define STRATA_TESTS_REF_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define REF_READ	1u
#define REF_WRITE	2u
#define REF_FETCH	4u

/* Reads one 8-byte table entry at a physical address. */
typedef uint64_t (*ref_read64_fn)(void *ctx, uint64_t pa);

struct ref_ept_opts {
	bool ve;		/* secondary control "EPT-violation #VE" */
	bool xonly;		/* execute-only translations supported */
	bool no_1g;		/* no 1 GiB pages (PDPTE bit 7 reserved) */
	unsigned int maxphyaddr;	/* physical-address width, 36..52 */
};

enum ref_ept_result {
	REF_EPT_OK,
	REF_EPT_VIOLATION,	/* exit reason 48 (or #VE, see ve) */
	REF_EPT_MISCONFIG,	/* exit reason 49 */
	REF_EPT_BAD_EPTP,	/* VM entry would fail: invalid EPTP */
};

enum ref_ept_why {
	REF_EPT_WHY_NONE,
	REF_EPT_WHY_NOT_PRESENT,	/* violation: bits 2:0 == 0 */
	REF_EPT_WHY_PERMISSION,		/* violation: not allowed */
	REF_EPT_WHY_WRITE_NO_READ,	/* misconfig: W=1 R=0 */
	REF_EPT_WHY_XONLY,		/* misconfig: X-only not supported */
	REF_EPT_WHY_MEMTYPE,		/* misconfig: leaf type 2/3/7 */
	REF_EPT_WHY_LARGE_PML4,		/* misconfig: bit 7 in a PML4E */
	REF_EPT_WHY_ADDR_BITS,		/* misconfig: 51:MAXPHYADDR set */
	REF_EPT_WHY_RSVD,		/* misconfig: other reserved bits */
};

#define REF_EPT_LEVELS	4

struct ref_ept_walk {
	enum ref_ept_result result;
	enum ref_ept_why why;
	uint64_t gpa;		/* the address walked */
	/* On success (and on a permission violation): the leaf. */
	uint64_t pa;		/* output physical address of the access */
	uint64_t leaf_pa_base;	/* output address of the leaf's start */
	uint64_t leaf_gpa_base;	/* guest-physical start of the leaf */
	int leaf_level;		/* 0 4 KiB, 1 2 MiB, 2 1 GiB */
	unsigned int perms;	/* REF_READ|WRITE|FETCH ANDed over levels */
	unsigned int memtype;	/* leaf bits 5:3 */
	bool ipat;		/* leaf bit 6 */
	/* On a fault: the entry that caused it and its level. */
	int fault_level;
	uint64_t fault_entry;
	bool ve;		/* violation delivered as #VE, not an exit */
	uint64_t exit_qual;	/* bits 2:0 access, 5:3 R/W/X AND so far */
	/* Table pages read, root first; table_level[i] = level of entries. */
	unsigned int nr_tables;
	uint64_t tables[REF_EPT_LEVELS];
	int table_level[REF_EPT_LEVELS];
};

/*
 * ref_ept_walk() - translate @gpa for @access (one of REF_READ, REF_WRITE,
 * REF_FETCH) through the tables rooted at @eptp. Returns out->result.
 */
enum ref_ept_result ref_ept_walk(uint64_t eptp, uint64_t gpa,
				 unsigned int access,
				 const struct ref_ept_opts *opts,
				 ref_read64_fn read64, void *ctx,
				 struct ref_ept_walk *out);

/* True when an EPTP value is one VM entry would accept (4-level walk). */
bool ref_eptp_valid(uint64_t eptp, const struct ref_ept_opts *opts);

#endif
