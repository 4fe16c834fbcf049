// SPDX-License-Identifier: MIT
/*
 * A vCPU's memory type range registers (SDM vol. 3, "Memory Type Range
 * Registers (MTRRs)"): MTRRcap with 8 variable ranges, the fixed ranges
 * and write-combining; IA32_MTRR_DEF_TYPE; the 11 fixed-range and 8 pairs
 * of variable-range registers, each write checked for reserved bits and
 * memory types as the CPU checks them (#GP). Pure: the host test links it.
 *
 * These are the registers only. With EPT the CPU takes a guest access's
 * memory type from the EPT entry (and the guest's PAT), never from guest
 * MTRRs, which only the guest's own software reads (Linux to decide PAT
 * and its large mappings). docs/x86-lapic.md, "MTRRs" has the power-on state and why.
 */
#include <arch/cpu.h>
#include <arch/mtrr.h>

#define MTRR_FIXED_NONE		(~0U)
#define PHYSBASE_RSVD_LOW	0xf00ULL	/* bits 11:8 */
#define PHYSMASK_RSVD_LOW	0x7ffULL	/* bits 10:0 */
#define DEF_TYPE_BITS		(0xffULL | MTRR_DEF_FE | MTRR_DEF_E)
#define MMIO_WINDOW		0xfe000000ULL	/* docs/x86-irq.md */
#define MMIO_WINDOW_SIZE	0x02000000ULL	/* to 4 GiB */

static uint64_t bytes_of(unsigned int type)
{
	return 0x0101010101010101ULL * type;
}

/* Bits MAXPHYADDR-1:12 of an address. */
static uint64_t addr_bits(unsigned int maxphyaddr)
{
	return ((1ULL << maxphyaddr) - 1) & ~0xfffULL;
}

unsigned int mtrr_maxphyaddr(void)
{
	unsigned int bits = 36;	/* the SDM's value without the leaf */

	if (cpuid(0x80000000, 0).eax >= 0x80000008) {
		bits = cpuid(0x80000008, 0).eax & 0xff;
	}
	/* The architecture's range: keeps the masks' shifts defined. */
	return bits < 32 ? 32 : bits > 52 ? 52 : bits;
}

static bool type_valid(uint64_t type)
{
	return type == MTRR_UC || type == MTRR_WC || type == MTRR_WT ||
	       type == MTRR_WP || type == MTRR_WB;
}

void mtrr_power_on(struct x86_mtrr *m, unsigned int maxphyaddr)
{
	*m = (struct x86_mtrr){ 0 };
	/* 0-0x7ffff (64 KiB each) and 0x80000-0x9ffff (16 KiB each): RAM. */
	m->fixed[0] = bytes_of(MTRR_WB);
	m->fixed[1] = bytes_of(MTRR_WB);
	/* 0xa0000-0xbffff: the legacy video hole, no RAM in e820. */
	m->fixed[2] = bytes_of(MTRR_UC);
	/* 0xc0000-0xfffff (4 KiB each): RAM and the ACPI tables. */
	for (unsigned int i = 3; i < MTRR_NR_FIXED; i++) {
		m->fixed[i] = bytes_of(MTRR_WB);
	}
	/* The IOAPIC, the local APIC and the test device: uncached. */
	m->base[0] = MMIO_WINDOW | MTRR_UC;
	m->mask[0] = (~(MMIO_WINDOW_SIZE - 1) & addr_bits(maxphyaddr)) |
		     MTRR_MASK_VALID;
	m->def_type = MTRR_DEF_E | MTRR_DEF_FE | MTRR_WB;
}

/* The index of fixed-range MSR @msr in x86_mtrr.fixed, or MTRR_FIXED_NONE. */
static unsigned int fixed_index(uint32_t msr)
{
	if (msr == MSR_IA32_MTRR_FIX64K_00000) {
		return 0;
	}
	if (msr == MSR_IA32_MTRR_FIX16K_80000 ||
	    msr == MSR_IA32_MTRR_FIX16K_A0000) {
		return 1 + (msr - MSR_IA32_MTRR_FIX16K_80000);
	}
	if (msr >= MSR_IA32_MTRR_FIX4K_C0000 &&
	    msr <= MSR_IA32_MTRR_FIX4K_F8000) {
		return 3 + (msr - MSR_IA32_MTRR_FIX4K_C0000);
	}
	return MTRR_FIXED_NONE;
}

static bool is_var(uint32_t msr)
{
	return msr >= MSR_IA32_MTRR_PHYSBASE0 &&
	       msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * MTRR_NR_VAR;
}

static bool is_mtrr(uint32_t msr)
{
	return msr == MSR_IA32_MTRRCAP || msr == MSR_IA32_MTRR_DEF_TYPE ||
	       fixed_index(msr) != MTRR_FIXED_NONE || is_var(msr);
}

int mtrr_msr_read(const struct x86_mtrr *m, bool has_mtrr, uint32_t msr,
		  uint64_t *val)
{
	unsigned int i = fixed_index(msr);

	if (!is_mtrr(msr)) {
		return -1;
	}
	if (!has_mtrr) {
		return 0;
	}
	if (msr == MSR_IA32_MTRRCAP) {
		*val = MTRR_NR_VAR | MTRR_CAP_FIX | MTRR_CAP_WC;
	} else if (msr == MSR_IA32_MTRR_DEF_TYPE) {
		*val = m->def_type;
	} else if (i != MTRR_FIXED_NONE) {
		*val = m->fixed[i];
	} else {
		i = (msr - MSR_IA32_MTRR_PHYSBASE0) / 2;
		*val = (msr & 1) ? m->mask[i] : m->base[i];
	}
	return 1;
}

int mtrr_msr_write(struct x86_mtrr *m, bool has_mtrr,
		   unsigned int maxphyaddr, uint32_t msr, uint64_t val)
{
	unsigned int i = fixed_index(msr);
	uint64_t addr = addr_bits(maxphyaddr);

	if (!is_mtrr(msr)) {
		return -1;
	}
	if (!has_mtrr || msr == MSR_IA32_MTRRCAP) {	/* read-only */
		return 0;
	}
	if (msr == MSR_IA32_MTRR_DEF_TYPE) {
		if ((val & ~DEF_TYPE_BITS) || !type_valid(val & 0xff)) {
			return 0;
		}
		m->def_type = val;
		return 1;
	}
	if (i != MTRR_FIXED_NONE) {
		for (unsigned int b = 0; b < 8; b++) {
			if (!type_valid((val >> (8 * b)) & 0xff)) {
				return 0;
			}
		}
		m->fixed[i] = val;
		return 1;
	}
	i = (msr - MSR_IA32_MTRR_PHYSBASE0) / 2;
	if (msr & 1) {
		if (val & ~(addr | MTRR_MASK_VALID)) {
			return 0;
		}
		m->mask[i] = val;
	} else {
		if ((val & ~(addr | 0xff)) || (val & PHYSBASE_RSVD_LOW) ||
		    !type_valid(val & 0xff)) {
			return 0;
		}
		m->base[i] = val;
	}
	return 1;
}
