// SPDX-License-Identifier: MIT
/*
 * Reference VMSAv8-64 stage-2 translator, 4 KiB granule (see ref_stage2.h).
 * Facts from the Arm ARM used here:
 * - VTCR_EL2: T0SZ 5:0, SL0 7:6 (4 KiB: 0 = level 2, 1 = level 1,
 *   2 = level 0), TG0 15:14 (0 = 4 KiB), PS 18:16, HA 21.
 * - The initial level must be consistent with T0SZ: with n levels after the
 *   initial one, the IPA size lies in [n*9 + 13, n*9 + 25]; the initial
 *   level resolves what is left and may be up to 16 concatenated tables.
 *   Inconsistent SL0, or an IPA above 2^(64-T0SZ), is a stage 2 Translation
 *   fault at level 0 (AArch64.S2InconsistentSL, AArch64.IPAIsOutOfRange).
 * - Descriptor bits 1:0: x0 invalid (Translation fault), 11 table (levels
 *   0-2) or page (level 3), 01 block at levels 1 and 2 only (a Translation
 *   fault at levels 0 and 3).
 * - An output or next-table address above the PS size: Address size fault.
 * - AF (bit 10) clear without VTCR_EL2.HA: Access flag fault, which takes
 *   priority over a Permission fault.
 * - S2AP (7:6): bit 6 allows reads, bit 7 writes. XN (54:53): without
 *   FEAT_XNX only bit 54 counts; with it 00 both ELs may execute, 01 EL0
 *   only, 10 neither, 11 EL1 only.
 * - MemAttr (5:2) without FWB: [3:2] outer (00 Device, 01 NC, 10 WT, 11
 *   WB), [1:0] inner (00 reserved for Normal) or the device type. With
 *   HCR_EL2.FWB: [2] = 0 Device of type [1:0]; 0b101 Normal NC, 0b110
 *   Normal WB (both forced), 0b111 stage-1 attributes, others reserved.
 */
#include <stddef.h>

#include "ref_stage2.h"

#define VTCR_T0SZ(v)	((unsigned int)((v) & 0x3f))
#define VTCR_SL0(v)	((unsigned int)(((v) >> 6) & 3))
#define VTCR_TG0(v)	((unsigned int)(((v) >> 14) & 3))
#define VTCR_PS(v)	((unsigned int)(((v) >> 16) & 7))
#define VTCR_HA		(1ull << 21)

#define DESC_VALID	1ull
#define DESC_TYPE	2ull
#define DESC_AF		(1ull << 10)
#define OA_MASK		0x0000fffffffff000ull

static uint64_t mask_bits(unsigned int hi, unsigned int lo)
{
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

unsigned int ref_s2_pa_bits(unsigned int ps)
{
	static const unsigned int bits[8] = { 32, 36, 40, 42, 44, 48, 52, 0 };

	return bits[ps & 7];
}

bool ref_s2_geometry(uint64_t vtcr, int *start_arm_level,
		     unsigned int *concat)
{
	static const int sl0_level[4] = { 2, 1, 0, -1 };
	unsigned int t0sz = VTCR_T0SZ(vtcr);
	unsigned int ipa_bits = 64 - t0sz;
	int start = sl0_level[VTCR_SL0(vtcr)];
	unsigned int after, min_bits, max_bits;

	if (VTCR_TG0(vtcr) != 0 || start < 0 || t0sz < 16 || t0sz > 39) {
		return false;
	}
	after = 3 - start;
	min_bits = after * 9 + 12 + 1;
	max_bits = min_bits + 8 + 4;
	if (ipa_bits < min_bits || ipa_bits > max_bits) {
		return false;
	}
	*start_arm_level = start;
	*concat = ipa_bits > after * 9 + 21 ?
		  1u << (ipa_bits - (after * 9 + 21)) : 1;
	return true;
}

struct ref_s2_memattr ref_s2_decode_memattr(unsigned int memattr, bool fwb)
{
	static const unsigned int cache[4] = { 0, REF_S2_NC, REF_S2_WT,
					       REF_S2_WB };
	struct ref_s2_memattr a = { .kind = REF_S2_MEM_RESERVED };
	unsigned int lo = memattr & 3, hi = (memattr >> 2) & 3;

	if (fwb) {
		if (memattr & 8) {
			return a;
		}
		if (!(memattr & 4)) {
			a.kind = REF_S2_MEM_DEVICE;
			a.dev = lo;
		} else if (lo == 1 || lo == 2) {
			a.kind = REF_S2_MEM_NORMAL;
			a.inner = a.outer = lo == 1 ? REF_S2_NC : REF_S2_WB;
			a.forced = true;
		} else if (lo == 3) {
			a.kind = REF_S2_MEM_S1;
		}
		return a;
	}
	if (hi == 0) {
		a.kind = REF_S2_MEM_DEVICE;
		a.dev = lo;
	} else if (lo != 0) {
		a.kind = REF_S2_MEM_NORMAL;
		a.outer = cache[hi];
		a.inner = cache[lo];
	}
	return a;
}

static unsigned int leaf_perms(uint64_t d, bool xnx)
{
	unsigned int xn = (d >> 53) & 3;
	unsigned int p = 0;

	if (d & (1ull << 6)) {
		p |= REF_READ;
	}
	if (d & (1ull << 7)) {
		p |= REF_WRITE;
	}
	if (!xnx) {
		xn = (xn & 2) ? 2 : 0;
	}
	if (xn == 0 || xn == 3) {
		p |= REF_FETCH;
	}
	if (xn == 0 || xn == 1) {
		p |= REF_FETCH_EL0;
	}
	return p;
}

static bool access_allowed(unsigned int access, unsigned int perms)
{
	if ((access & REF_READ) && !(perms & REF_READ)) {
		return false;
	}
	if ((access & REF_WRITE) && !(perms & REF_WRITE)) {
		return false;
	}
	if (access & REF_FETCH) {
		unsigned int need = (access & REF_FETCH_EL0) ? REF_FETCH_EL0 :
				    REF_FETCH;
		return perms & need;
	}
	return true;
}

static enum ref_s2_fault set_fault(struct ref_s2_walk *out,
				   enum ref_s2_fault f, int arm_level)
{
	out->fault = f;
	out->fault_arm_level = arm_level;
	return f;
}

static bool leaf_res0(uint64_t d, int arm_level)
{
	uint64_t m = mask_bits(50, 48);

	if (arm_level < 3) {
		m |= mask_bits(12 + 9 * (3 - arm_level) - 1, 12) &
		     ~(1ull << 16);
	}
	return d & m;
}

static enum ref_s2_fault take_leaf(const struct ref_s2_cfg *cfg,
				   struct ref_s2_walk *out, uint64_t d,
				   int arm_level, uint64_t ipa,
				   unsigned int access)
{
	unsigned int shift = 12 + 9 * (3 - arm_level);
	uint64_t size = 1ull << shift;

	out->leaf_level = 3 - arm_level;
	out->desc = d;
	out->leaf_pa_base = d & OA_MASK & ~(size - 1);
	out->leaf_ipa_base = ipa & ~(size - 1);
	out->pa = out->leaf_pa_base | (ipa & (size - 1));
	out->perms = leaf_perms(d, cfg->xnx);
	out->attr = ref_s2_decode_memattr((d >> 2) & 0xf, cfg->fwb);
	out->sh = (d >> 8) & 3;
	out->af = d & DESC_AF;
	out->res0_set = leaf_res0(d, arm_level);
	if (out->leaf_pa_base >> out->oa_bits) {
		return set_fault(out, REF_S2_ADDR_SIZE, arm_level);
	}
	if (!out->af && !(cfg->vtcr & VTCR_HA)) {
		return set_fault(out, REF_S2_ACCESS_FLAG, arm_level);
	}
	if (!access_allowed(access, out->perms)) {
		return set_fault(out, REF_S2_PERMISSION, arm_level);
	}
	return set_fault(out, REF_S2_OK, -1);
}

static unsigned int out_bits(const struct ref_s2_cfg *cfg)
{
	unsigned int ps = ref_s2_pa_bits(VTCR_PS(cfg->vtcr));
	unsigned int bits = ps ? ps : cfg->parange_bits;

	if (bits > cfg->parange_bits) {
		bits = cfg->parange_bits;
	}
	return bits > 48 ? 48 : bits;
}

/* Checks the registers; returns the root table address or ~0 on a fault. */
static uint64_t setup(const struct ref_s2_cfg *cfg, uint64_t ipa,
		      struct ref_s2_walk *out)
{
	uint64_t baddr = cfg->vttbr & mask_bits(47, 1);
	uint64_t root_size;

	out->oa_bits = out_bits(cfg);
	out->ipa_bits = 64 - VTCR_T0SZ(cfg->vtcr);
	if (!ref_s2_geometry(cfg->vtcr, &out->start_arm_level, &out->concat) ||
	    out->ipa_bits > cfg->parange_bits) {
		out->bad_config = true;
		set_fault(out, REF_S2_TRANSLATION, 0);
		return ~0ull;
	}
	if (ipa >> out->ipa_bits) {
		set_fault(out, REF_S2_TRANSLATION, 0);
		return ~0ull;
	}
	root_size = 4096ull * out->concat;
	if (baddr & (root_size - 1)) {
		out->bad_config = true;	/* misaligned root: RES0 set */
	}
	baddr &= ~(root_size - 1);
	if (baddr >> out->oa_bits) {
		set_fault(out, REF_S2_ADDR_SIZE, 0);
		return ~0ull;
	}
	return baddr;
}

enum ref_s2_fault ref_s2_walk(const struct ref_s2_cfg *cfg, uint64_t ipa,
			      unsigned int access, ref_read64_fn read64,
			      void *ctx, struct ref_s2_walk *out)
{
	uint64_t table;

	*out = (struct ref_s2_walk){ .leaf_level = -1, .fault_arm_level = -1,
				     .ipa = ipa };
	table = setup(cfg, ipa, out);
	if (table == ~0ull) {
		return out->fault;
	}
	for (int l = out->start_arm_level; l <= 3; l++) {
		unsigned int shift = 12 + 9 * (3 - l);
		uint64_t nidx = l == out->start_arm_level ?
				512ull * out->concat : 512;
		uint64_t idx = (ipa >> shift) & (nidx - 1);
		uint64_t d = read64(ctx, table + 8 * idx);

		out->tables[out->nr_tables] = table + (idx / 512) * 4096;
		out->table_arm_level[out->nr_tables++] = l;
		if (!(d & DESC_VALID)) {
			return set_fault(out, REF_S2_TRANSLATION, l);
		}
		if (!(d & DESC_TYPE)) {
			if (l == 0 || l == 3) {
				return set_fault(out, REF_S2_TRANSLATION, l);
			}
			return take_leaf(cfg, out, d, l, ipa, access);
		}
		if (l == 3) {
			return take_leaf(cfg, out, d, l, ipa, access);
		}
		table = d & OA_MASK;
		if (table >> out->oa_bits) {
			return set_fault(out, REF_S2_ADDR_SIZE, l);
		}
	}
	return set_fault(out, REF_S2_TRANSLATION, 3);	/* not reached */
}
