// SPDX-License-Identifier: MIT
/*
 * Reference EPT translator (see ref_ept.h), from the Intel SDM Vol. 3C:
 * - an entry is not present when bits 2:0 are 000b: EPT violation;
 * - misconfiguration: bits 2:0 = 010b or 110b (write without read), 100b
 *   without execute-only support, a reserved bit set in a present entry
 *   (bits 51:MAXPHYADDR everywhere; 7:3 in a PML4E and in PDPTE/PDE that
 *   reference a table; 29:12 in a 1 GiB PDPTE; 20:12 in a 2 MiB PDE; bit 7
 *   of a PDPTE without 1 GiB page support), or memory type 2, 3 or 7 in the
 *   entry that maps the page;
 * - violation when the access is not allowed by the AND of bits 2:0 of all
 *   entries used;
 * - with "EPT-violation #VE" on, a violation is a #VE when bit 63 ("suppress
 *   #VE") of the entry is 0: the not-present entry that stopped the walk, or
 *   the entry that maps the page for a permission violation.
 */
#include <stddef.h>

#include "ref_ept.h"

#define EPT_RWX		0x7ull
#define EPT_R		0x1ull
#define EPT_W		0x2ull
#define EPT_X		0x4ull
#define EPT_LARGE	(1ull << 7)
#define EPT_SVE		(1ull << 63)
#define EPT_ADDR_HI	51

static uint64_t mask_bits(unsigned int hi, unsigned int lo)
{
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

static uint64_t addr_rsvd_mask(const struct ref_ept_opts *opts)
{
	if (opts->maxphyaddr >= 52) {
		return 0;
	}
	return mask_bits(EPT_ADDR_HI, opts->maxphyaddr);
}

bool ref_eptp_valid(uint64_t eptp, const struct ref_ept_opts *opts)
{
	unsigned int mt = eptp & 7;

	if (mt != 0 && mt != 6) {
		return false;
	}
	if (((eptp >> 3) & 7) != 3) {
		return false;
	}
	if (eptp & mask_bits(11, 7)) {
		return false;
	}
	if (eptp & addr_rsvd_mask(opts)) {
		return false;
	}
	return !(eptp & mask_bits(63, 52));
}

/* Bits that are reserved in a present entry at @level (not the address). */
static uint64_t rsvd_mask(uint64_t e, int level, const struct ref_ept_opts *o)
{
	switch (level) {
	case 3:
		return mask_bits(7, 3);
	case 2:
		if (!(e & EPT_LARGE)) {
			return mask_bits(7, 3);
		}
		return o->no_1g ? EPT_LARGE : mask_bits(29, 12);
	case 1:
		return (e & EPT_LARGE) ? mask_bits(20, 12) : mask_bits(7, 3);
	default:
		return 0;
	}
}

static bool is_leaf(uint64_t e, int level)
{
	return level == 0 || ((level == 1 || level == 2) && (e & EPT_LARGE));
}

static enum ref_ept_why misconfig_why(uint64_t e, int level,
				      const struct ref_ept_opts *o)
{
	uint64_t rwx = e & EPT_RWX;

	if ((rwx & EPT_W) && !(rwx & EPT_R)) {
		return REF_EPT_WHY_WRITE_NO_READ;
	}
	if (rwx == EPT_X && !o->xonly) {
		return REF_EPT_WHY_XONLY;
	}
	if (level == 3 && (e & EPT_LARGE)) {
		return REF_EPT_WHY_LARGE_PML4;
	}
	if (e & addr_rsvd_mask(o)) {
		return REF_EPT_WHY_ADDR_BITS;
	}
	if (e & rsvd_mask(e, level, o)) {
		return REF_EPT_WHY_RSVD;
	}
	if (is_leaf(e, level)) {
		unsigned int mt = (e >> 3) & 7;

		if (mt == 2 || mt == 3 || mt == 7) {
			return REF_EPT_WHY_MEMTYPE;
		}
	}
	return REF_EPT_WHY_NONE;
}

static void fault(struct ref_ept_walk *out, enum ref_ept_result r,
		  enum ref_ept_why why, int level, uint64_t e)
{
	out->result = r;
	out->why = why;
	out->fault_level = level;
	out->fault_entry = e;
}

static void finish_violation(struct ref_ept_walk *out, unsigned int access,
			     unsigned int and_rwx, const struct ref_ept_opts *o)
{
	out->ve = o->ve && !(out->fault_entry & EPT_SVE);
	out->exit_qual = access | ((uint64_t)and_rwx << 3);
}

static void set_leaf(struct ref_ept_walk *out, uint64_t e, int level,
		     uint64_t gpa, unsigned int and_rwx,
		     const struct ref_ept_opts *o)
{
	uint64_t size = 1ull << (12 + 9 * level);
	uint64_t amask = mask_bits(EPT_ADDR_HI, 12 + 9 * level) &
			 ~addr_rsvd_mask(o);

	out->leaf_level = level;
	out->leaf_pa_base = e & amask;
	out->leaf_gpa_base = gpa & ~(size - 1);
	out->pa = out->leaf_pa_base | (gpa & (size - 1));
	out->perms = and_rwx;
	out->memtype = (e >> 3) & 7;
	out->ipat = (e >> 6) & 1;
}

enum ref_ept_result ref_ept_walk(uint64_t eptp, uint64_t gpa,
				 unsigned int access,
				 const struct ref_ept_opts *opts,
				 ref_read64_fn read64, void *ctx,
				 struct ref_ept_walk *out)
{
	uint64_t amask = mask_bits(EPT_ADDR_HI, 12) & ~addr_rsvd_mask(opts);
	uint64_t table = eptp & amask;
	unsigned int and_rwx = 7;

	*out = (struct ref_ept_walk){ .leaf_level = -1, .fault_level = -1,
				      .gpa = gpa };
	if (!ref_eptp_valid(eptp, opts)) {
		out->result = REF_EPT_BAD_EPTP;
		return out->result;
	}
	for (int level = 3; level >= 0; level--) {
		unsigned int idx = (gpa >> (12 + 9 * level)) & 511;
		uint64_t e = read64(ctx, table + 8ull * idx);
		enum ref_ept_why why;

		out->tables[out->nr_tables] = table;
		out->table_level[out->nr_tables++] = level;
		and_rwx &= e & EPT_RWX;
		if (!(e & EPT_RWX)) {
			fault(out, REF_EPT_VIOLATION, REF_EPT_WHY_NOT_PRESENT,
			      level, e);
			finish_violation(out, access, and_rwx, opts);
			return out->result;
		}
		why = misconfig_why(e, level, opts);
		if (why != REF_EPT_WHY_NONE) {
			fault(out, REF_EPT_MISCONFIG, why, level, e);
			return out->result;
		}
		if (is_leaf(e, level)) {
			set_leaf(out, e, level, gpa, and_rwx, opts);
			if ((access & and_rwx) != access) {
				fault(out, REF_EPT_VIOLATION,
				      REF_EPT_WHY_PERMISSION, level, e);
				finish_violation(out, access, and_rwx, opts);
				return out->result;
			}
			out->result = REF_EPT_OK;
			return out->result;
		}
		table = e & amask;
	}
	/* Not reached: level 0 entries are always leaves. */
	out->result = REF_EPT_MISCONFIG;
	return out->result;
}
