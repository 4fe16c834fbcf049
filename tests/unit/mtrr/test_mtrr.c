// SPDX-License-Identifier: MIT
/*
 * Host tests of arch/x86/mtrr.c: the power-on state firmware would leave
 * (docs/x86-lapic.md, "MTRRs"), MTRRcap, and each register's #GP rules
 * (SDM vol. 3 "Memory Type Range Registers").
 */
#include <stdint.h>
#include <string.h>

#include <arch/cpu.h>
#include <arch/mtrr.h>
#include "harness.h"

#define PA_BITS		39
#define ADDR		(((1ULL << PA_BITS) - 1) & ~0xfffULL)
#define WB_BYTES	0x0606060606060606ULL

/* MSR @msr as read, or all ones when the read is not served. */
static uint64_t rd(const struct x86_mtrr *m, uint32_t msr)
{
	uint64_t v = ~0ULL;

	return mtrr_msr_read(m, true, msr, &v) == 1 ? v : ~0ULL;
}

static int wr(struct x86_mtrr *m, uint32_t msr, uint64_t v)
{
	return mtrr_msr_write(m, true, PA_BITS, msr, v);
}

static void power_on_state(void)
{
	struct x86_mtrr m;

	memset(&m, 0xa5, sizeof(m));
	mtrr_power_on(&m, PA_BITS);
	CHECK_EQ(rd(&m, MSR_IA32_MTRRCAP), 8 | MTRR_CAP_FIX | MTRR_CAP_WC);
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_DEF_TYPE), 0xc06);
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_FIX64K_00000), WB_BYTES);
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_FIX16K_80000), WB_BYTES);
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_FIX16K_A0000), 0);
	for (uint32_t msr = MSR_IA32_MTRR_FIX4K_C0000;
	     msr <= MSR_IA32_MTRR_FIX4K_F8000; msr++) {
		CHECK_EQ(rd(&m, msr), WB_BYTES);
	}
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_PHYSBASE0), 0xfe000000ULL);
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_PHYSBASE0 + 1),
		 (ADDR & ~0x1ffffffULL) | MTRR_MASK_VALID);
	for (unsigned int i = 1; i < MTRR_NR_VAR; i++) {
		CHECK_EQ(rd(&m, MSR_IA32_MTRR_PHYSBASE0 + 2 * i), 0);
		CHECK_EQ(rd(&m, MSR_IA32_MTRR_PHYSBASE0 + 2 * i + 1), 0);
	}
}

static void writes_checked(void)
{
	struct x86_mtrr m;
	uint32_t b3 = MSR_IA32_MTRR_PHYSBASE0 + 6, k3 = b3 + 1;

	mtrr_power_on(&m, PA_BITS);
	CHECK_EQ(wr(&m, MSR_IA32_MTRRCAP, 0), 0);		/* read-only */
	CHECK_EQ(wr(&m, MSR_IA32_MTRR_DEF_TYPE, 0x806), 1);
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_DEF_TYPE), 0x806);
	CHECK_EQ(wr(&m, MSR_IA32_MTRR_DEF_TYPE, 0x802), 0);	/* type 2 */
	CHECK_EQ(wr(&m, MSR_IA32_MTRR_DEF_TYPE, 0xd06), 0);	/* bit 8 */
	CHECK_EQ(wr(&m, MSR_IA32_MTRR_DEF_TYPE, 0x1c06), 0);	/* bit 12 */
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_DEF_TYPE), 0x806);
	/* Every byte of a fixed range is a type. */
	CHECK_EQ(wr(&m, MSR_IA32_MTRR_FIX16K_A0000, 0x0101010101010101ULL),
		 1);
	CHECK_EQ(wr(&m, MSR_IA32_MTRR_FIX16K_A0000, 0x0007000000000000ULL),
		 0);
	CHECK_EQ(wr(&m, MSR_IA32_MTRR_FIX4K_C0000, 0x0506040100000606ULL),
		 1);
	CHECK_EQ(rd(&m, MSR_IA32_MTRR_FIX16K_A0000), 0x0101010101010101ULL);
	/* PHYSBASE: type, bits 11:8 and MAXPHYADDR up reserved. */
	CHECK_EQ(wr(&m, b3, 0x40000000ULL | 4), 1);
	CHECK_EQ(rd(&m, b3), 0x40000004ULL);
	CHECK_EQ(wr(&m, b3, 0x40000000ULL | 3), 0);
	CHECK_EQ(wr(&m, b3, 0x40000800ULL | 6), 0);
	CHECK_EQ(wr(&m, b3, (1ULL << PA_BITS) | 6), 0);
	/* PHYSMASK: bits 10:0 and MAXPHYADDR up reserved. */
	CHECK_EQ(wr(&m, k3, (ADDR & ~0xfffffffULL) | MTRR_MASK_VALID), 1);
	CHECK_EQ(wr(&m, k3, MTRR_MASK_VALID | 0x400), 0);
	CHECK_EQ(wr(&m, k3, 1ULL << PA_BITS), 0);
	CHECK_EQ(rd(&m, k3), (ADDR & ~0xfffffffULL) | MTRR_MASK_VALID);
	CHECK_EQ(rd(&m, b3), 0x40000004ULL);	/* refusals change nothing */
}

static void beyond_and_without(void)
{
	struct x86_mtrr m;
	uint64_t v = 0;

	mtrr_power_on(&m, PA_BITS);
	/* Past VCNT and between the fixed ranges: not MTRRs (#GP later). */
	CHECK_EQ(mtrr_msr_read(&m, true, MSR_IA32_MTRR_PHYSBASE0 + 16, &v),
		 -1);
	CHECK_EQ(mtrr_msr_read(&m, true, 0x251, &v), -1);
	CHECK_EQ(mtrr_msr_read(&m, true, 0x25a, &v), -1);
	CHECK_EQ(mtrr_msr_read(&m, true, 0x270, &v), -1);
	CHECK_EQ(mtrr_msr_write(&m, true, PA_BITS, 0x211, 0), -1);
	/* Without CPUID.1:EDX.MTRR every MTRR is refused. */
	CHECK_EQ(mtrr_msr_read(&m, false, MSR_IA32_MTRRCAP, &v), 0);
	CHECK_EQ(mtrr_msr_read(&m, false, MSR_IA32_MTRR_PHYSBASE0, &v), 0);
	CHECK_EQ(mtrr_msr_write(&m, false, PA_BITS, MSR_IA32_MTRR_DEF_TYPE,
				0xc06), 0);
	/* MAXPHYADDR as the guest's CPUID gives it, within the SDM's range. */
	CHECK(mtrr_maxphyaddr() >= 32 && mtrr_maxphyaddr() <= 52);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "mtrr");
	RUN_TEST(power_on_state);
	RUN_TEST(writes_checked);
	RUN_TEST(beyond_and_without);
	return test_done();
}
