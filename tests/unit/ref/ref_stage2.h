/* SPDX-License-Identifier: MIT */
/*
 * Reference translator for the VMSAv8-64 stage-2 translation with the 4 KiB
 * granule, written from the Arm ARM (VMSAv8-64 translation table format,
 * VTCR_EL2, VTTBR_EL2, concatenated initial lookup tables, stage 2 access
 * permissions, MemAttr with and without FEAT_S2FWB) and independent of the
 * hypervisor's stage-2 encoder.
 *
 * Two level numberings appear: "arm_level" is the Arm lookup level (0 is the
 * level that resolves IPA bits 47:39, 3 maps 4 KiB pages); "level" is the
 * Strata one, counted from the leaf (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB),
 * level = 3 - arm_level.
 */
#ifndef STRATA_TESTS_REF_STAGE2_H
#define STRATA_TESTS_REF_STAGE2_H

#include <stdbool.h>
#include <stdint.h>

#include "ref_ept.h"	/* REF_READ/WRITE/FETCH, ref_read64_fn */

#define REF_FETCH_EL0	8u	/* with REF_FETCH: fetch from EL0 */

struct ref_s2_cfg {
	uint64_t vtcr;		/* VTCR_EL2 */
	uint64_t vttbr;		/* VTTBR_EL2 */
	bool fwb;		/* HCR_EL2.FWB (FEAT_S2FWB) */
	bool xnx;		/* FEAT_XNX: XN[0] (bit 53) is meaningful */
	unsigned int parange_bits;	/* ID_AA64MMFR0_EL1.PARange bits */
};

enum ref_s2_fault {
	REF_S2_OK,
	REF_S2_TRANSLATION,
	REF_S2_ADDR_SIZE,
	REF_S2_ACCESS_FLAG,
	REF_S2_PERMISSION,
};

enum ref_s2_memkind {
	REF_S2_MEM_DEVICE,	/* device type in dev */
	REF_S2_MEM_NORMAL,	/* inner/outer cacheability in inner/outer */
	REF_S2_MEM_S1,		/* FWB 0b111: stage-1 attributes apply */
	REF_S2_MEM_RESERVED,	/* an encoding the Arm ARM reserves */
};

/* Cacheability values for struct ref_s2_memattr inner/outer. */
#define REF_S2_NC	1
#define REF_S2_WT	2
#define REF_S2_WB	3

struct ref_s2_memattr {
	enum ref_s2_memkind kind;
	unsigned int dev;	/* 0 nGnRnE, 1 nGnRE, 2 nGRE, 3 GRE */
	unsigned int inner;
	unsigned int outer;
	bool forced;		/* FWB: stage-2 type overrides stage 1 */
};

#define REF_S2_MAX_TABLES	4

struct ref_s2_walk {
	enum ref_s2_fault fault;
	int fault_arm_level;	/* Arm lookup level of the fault */
	bool bad_config;	/* VTCR/VTTBR programming error */
	uint64_t ipa;		/* the address walked */
	int start_arm_level;	/* initial lookup level from SL0 */
	unsigned int concat;	/* number of concatenated root tables */
	unsigned int ipa_bits;	/* 64 - T0SZ */
	unsigned int oa_bits;	/* from PS, capped by PARange */
	/* The leaf (valid when it was reached). */
	int leaf_level;		/* Strata numbering: 0, 1, 2; -1 none */
	uint64_t desc;		/* the leaf descriptor */
	uint64_t pa;		/* output address of the access */
	uint64_t leaf_pa_base;
	uint64_t leaf_ipa_base;
	unsigned int perms;	/* REF_READ|WRITE|FETCH (EL1)|FETCH_EL0 */
	struct ref_s2_memattr attr;
	unsigned int sh;	/* bits 9:8 */
	bool af;
	bool res0_set;		/* a RES0 bit of the leaf is set */
	/* Table pages read, root (first table of the root) first. */
	unsigned int nr_tables;
	uint64_t tables[REF_S2_MAX_TABLES];
	int table_arm_level[REF_S2_MAX_TABLES];
};

/* Output address size in bits for a PS / PARange encoding; 0 if reserved. */
unsigned int ref_s2_pa_bits(unsigned int ps);

/*
 * ref_s2_geometry() - start level and root concatenation for a VTCR_EL2
 * value. Returns false when SL0/T0SZ/TG0 are invalid or inconsistent (the
 * Arm ARM's stage 2 level 0 translation fault).
 */
bool ref_s2_geometry(uint64_t vtcr, int *start_arm_level,
		     unsigned int *concat);

/* Decode a stage-2 MemAttr[3:0] field. */
struct ref_s2_memattr ref_s2_decode_memattr(unsigned int memattr, bool fwb);

/*
 * ref_s2_walk() - translate @ipa for @access with the tables in @cfg.
 * Returns out->fault.
 */
enum ref_s2_fault ref_s2_walk(const struct ref_s2_cfg *cfg, uint64_t ipa,
			      unsigned int access, ref_read64_fn read64,
			      void *ctx, struct ref_s2_walk *out);

#endif
