// SPDX-License-Identifier: MIT
/*
 * The arm64 EFI memory map reader (boot/arm64/efi_boot.c) on the host: the
 * map edk2 (AAVMF) gives on QEMU virt becomes the RAM Strata's boot test
 * sees, and maps a firmware should not give (overlapping descriptors,
 * runtime or uncached "free" memory, wrapping or empty descriptors, too
 * many ranges, descriptor sizes that cannot be right) lose RAM or stop
 * Strata with a message, but never put runtime-services, ACPI, reserved or
 * MMIO memory into the RAM list, and never read outside the map (ASan).
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../../boot/arm64/efi_boot.c"

#define WB		EFI_MEMORY_WB
#define UC		BIT(0)
#define RT		EFI_MEMORY_RUNTIME
#define DESC_SIZE	48	/* what edk2's GetMemoryMap() uses */

static jmp_buf stop_jmp;
static int stop_status = -1;

void arch_stop(int status)
{
	stop_status = status;
	longjmp(stop_jmp, 1);
}

/* boot_add_ram() of start.c without the mapping. */
void boot_add_ram(struct platform *p, paddr_t base, uint64_t size,
		  const char *what)
{
	(void)what;
	if (p->nr_ram < PLAT_MAX_RANGES) {
		p->ram[p->nr_ram++] = (struct mem_range){ base, size, "usable" };
	}
}

static struct efi_handover ho;
static struct platform plat;

static void map_init(void)
{
	memset(&ho, 0, sizeof(ho));
	memset(&plat, 0, sizeof(plat));
	ho.desc_size = DESC_SIZE;
	ho.desc_version = 1;
	ho.exit_attempts = 1;
	stop_status = -1;
}

static void map_add(uint32_t type, uint64_t base, uint64_t pages,
		    uint64_t attr)
{
	struct efi_memory_desc d = { type, 0, base, 0, pages, attr };

	memcpy(ho.mmap + ho.mmap_size, &d, sizeof(d));
	memset(ho.mmap + ho.mmap_size + sizeof(d), 0xa5,
	       ho.desc_size - sizeof(d));
	ho.mmap_size += ho.desc_size;
}

/* Run the reader; returns false if it stopped Strata (stop_status set). */
static bool read_map(void)
{
	if (setjmp(stop_jmp)) {
		return false;
	}
	efi_boot_memory(&ho, &plat);
	return true;
}

static bool ram_overlaps(uint64_t base, uint64_t end)
{
	for (unsigned int i = 0; i < plat.nr_ram; i++) {
		uint64_t rb = plat.ram[i].base, re = rb + plat.ram[i].size;

		if (rb < end && base < re) {
			return true;
		}
	}
	return false;
}

/* The map edk2 2022.11 (AAVMF) gave a 512 MiB QEMU virt just before
 * ExitBootServices (the UEFI shell's memmap, attributes as edk2 sets). */
static const struct {
	uint32_t type;
	uint64_t start, end;	/* inclusive */
	uint64_t attr;
} aavmf[] = {
	{ EFI_CONVENTIONAL_MEMORY, 0x40000000, 0x43ffffff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x44000000, 0x4401ffff, WB | 0xe },
	{ EFI_CONVENTIONAL_MEMORY, 0x44020000, 0x47719fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x4771a000, 0x4773afff, WB | 0xe },
	{ EFI_BOOT_SERVICES_CODE, 0x4773b000, 0x47771fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x47772000, 0x47ef1fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_CODE, 0x47ef2000, 0x47ef5fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x47ef6000, 0x47ff6fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_CODE, 0x47ff7000, 0x47ff9fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x47ffa000, 0x47ffffff, WB | 0xe },
	{ EFI_CONVENTIONAL_MEMORY, 0x48000000, 0x5c36ffff, WB | 0xe },
	{ EFI_LOADER_CODE, 0x5c370000, 0x5c43ffff, WB | 0xe },
	{ EFI_RUNTIME_SERVICES_CODE, 0x5c440000, 0x5c4bffff, RT | WB | 0xe },
	{ EFI_RUNTIME_SERVICES_DATA, 0x5c4c0000, 0x5c67ffff, RT | WB | 0xe },
	{ EFI_RUNTIME_SERVICES_CODE, 0x5c680000, 0x5c72ffff, RT | WB | 0xe },
	{ EFI_CONVENTIONAL_MEMORY, 0x5c730000, 0x5e6a3fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x5e6a4000, 0x5e6c1fff, WB | 0xe },
	{ EFI_CONVENTIONAL_MEMORY, 0x5e6c2000, 0x5e6c4fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x5e6c5000, 0x5e6ecfff, WB | 0xe },
	{ EFI_CONVENTIONAL_MEMORY, 0x5e6ed000, 0x5e6eefff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x5e6ef000, 0x5f623fff, WB | 0xe },
	{ EFI_CONVENTIONAL_MEMORY, 0x5f624000, 0x5f816fff, WB | 0xe },
	{ EFI_BOOT_SERVICES_CODE, 0x5f817000, 0x5fbfffff, WB | 0xe },
	{ EFI_RUNTIME_SERVICES_CODE, 0x5fc00000, 0x5fd8ffff, RT | WB | 0xe },
	{ EFI_RUNTIME_SERVICES_DATA, 0x5fd90000, 0x5ffdffff, RT | WB | 0xe },
	{ EFI_CONVENTIONAL_MEMORY, 0x5ffe0000, 0x5fffefff, WB | 0xe },
	{ EFI_BOOT_SERVICES_DATA, 0x5ffff000, 0x5fffffff, WB | 0xe },
	{ EFI_MEMORY_MAPPED_IO, 0x04000000, 0x07ffffff, RT | UC },
	{ EFI_MEMORY_MAPPED_IO, 0x09010000, 0x09010fff, RT | UC },
};

static void test_aavmf_map(void)
{
	map_init();
	for (size_t i = 0; i < ARRAY_SIZE(aavmf); i++) {
		map_add(aavmf[i].type, aavmf[i].start,
			(aavmf[i].end + 1 - aavmf[i].start) >> 12,
			aavmf[i].attr);
	}
	CHECK(read_map());
	CHECK_EQ(plat.nr_ram, 3);
	CHECK_EQ(plat.ram[0].base, 0x40000000);
	CHECK_EQ(plat.ram[0].size, 0x5c440000 - 0x40000000);
	CHECK_EQ(plat.ram[1].base, 0x5c730000);
	CHECK_EQ(plat.ram[1].size, 0x5fc00000 - 0x5c730000);
	CHECK_EQ(plat.ram[2].base, 0x5ffe0000);
	CHECK_EQ(plat.ram[2].size, 0x20000);
	for (size_t i = 0; i < ARRAY_SIZE(aavmf); i++) {
		if (aavmf[i].attr & RT) {
			CHECK(!ram_overlaps(aavmf[i].start, aavmf[i].end + 1));
		}
	}
}

/* A runtime, ACPI, reserved or MMIO descriptor inside free memory (or
 * overlapping its edges) is cut out of it, whatever the order. */
static void test_overlap_cut(void)
{
	static const uint32_t kept[] = {
		EFI_RUNTIME_SERVICES_DATA, EFI_ACPI_RECLAIM_MEMORY,
		EFI_ACPI_MEMORY_NVS, EFI_RESERVED_TYPE, EFI_MEMORY_MAPPED_IO,
		EFI_UNUSABLE_MEMORY, EFI_PAL_CODE, EFI_PERSISTENT_MEMORY, 99,
	};

	for (size_t k = 0; k < ARRAY_SIZE(kept); k++) {
		map_init();
		map_add(kept[k], 0x40800000, 0x100, WB);	/* inside */
		map_add(EFI_CONVENTIONAL_MEMORY, 0x40000000, 0x1000, WB);
		map_add(kept[k], 0x40fff000, 0x10, WB);		/* across end */
		map_add(EFI_BOOT_SERVICES_DATA, 0x41000000, 0x100, WB);
		CHECK(read_map());
		CHECK(!ram_overlaps(0x40800000, 0x40900000));
		CHECK(!ram_overlaps(0x40fff000, 0x4100f000));
		CHECK_EQ(plat.nr_ram, 3);
		CHECK_EQ(plat.ram[0].base, 0x40000000);
		CHECK_EQ(plat.ram[0].size, 0x800000);
		CHECK_EQ(plat.ram[1].base, 0x40900000);
		CHECK_EQ(plat.ram[1].size, 0x6ff000);
		CHECK_EQ(plat.ram[2].base, 0x4100f000);
		CHECK_EQ(plat.ram[2].size, 0xf1000);
	}
}

/* Free memory that is runtime, specific-purpose or not write-back
 * cacheable is no RAM; neither are empty descriptors. */
static void test_unusable_free_memory(void)
{
	map_init();
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40000000, 0x100, UC);
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40100000, 0x100, WB | RT);
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40200000, 0x100, WB | EFI_MEMORY_SP);
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40300000, 0, WB);
	map_add(EFI_LOADER_DATA, 0x40400000, 0x100, WB);
	CHECK(read_map());
	CHECK_EQ(plat.nr_ram, 1);
	CHECK_EQ(plat.ram[0].base, 0x40400000);
	CHECK_EQ(plat.ram[0].size, 0x100000);
}

/* A descriptor running past the top of the address space: free memory
 * there is ignored, a reserved one cuts everything above its start. */
static void test_wrapping(void)
{
	map_init();
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40000000, 0x10000, WB);
	map_add(EFI_CONVENTIONAL_MEMORY, 0xfffffffffff00000ULL, 0x1000, WB);
	map_add(EFI_RESERVED_TYPE, 0x48000000, ~0ULL >> 12, WB);
	CHECK(read_map());
	CHECK_EQ(plat.nr_ram, 1);
	CHECK_EQ(plat.ram[0].base, 0x40000000);
	CHECK_EQ(plat.ram[0].size, 0x8000000);
}

/* More free ranges than struct platform holds: the largest stay. */
static void test_too_many_ranges(void)
{
	map_init();
	for (unsigned int i = 0; i < 200; i++) {
		uint64_t base = 0x40000000ULL + (uint64_t)i * 0x100000;

		map_add(EFI_CONVENTIONAL_MEMORY, base, 1 + (i % 50), WB);
		map_add(EFI_RESERVED_TYPE, base + 0x80000, 1, WB);
	}
	CHECK(read_map());
	CHECK_EQ(plat.nr_ram, PLAT_MAX_RANGES);
	for (unsigned int i = 0; i < plat.nr_ram; i++) {
		/* The 32 largest of sizes 1..50 pages (4 of each) are >= 43. */
		CHECK(plat.ram[i].size >= 43 * PAGE_SIZE);
		CHECK(!(plat.ram[i].base & 0x80000));
	}
}

/* Descriptor sizes no UEFI gives, or a map larger than its buffer, stop
 * Strata with a message instead of being walked. */
static void test_bad_sizes(void)
{
	static const uint64_t bad[] = { 0, 8, 32, 44, 41 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		map_init();
		map_add(EFI_CONVENTIONAL_MEMORY, 0x40000000, 0x100, WB);
		ho.desc_size = bad[i];
		CHECK(!read_map());
		CHECK_EQ(stop_status, 1);
	}
	map_init();
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40000000, 0x100, WB);
	ho.mmap_size = sizeof(ho.mmap) + DESC_SIZE;
	CHECK(!read_map());
	CHECK_EQ(stop_status, 1);

	/* No usable RAM at all is a stop too. */
	map_init();
	map_add(EFI_RESERVED_TYPE, 0x40000000, 0x100, WB);
	CHECK(!read_map());
	CHECK_EQ(stop_status, 1);
}

/* A map ending in part of a descriptor: only whole ones are read; a
 * stride larger than the structure (edk2's 48) is honoured. */
static void test_partial_and_stride(void)
{
	map_init();
	ho.desc_size = 64;
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40000000, 0x100, WB);
	map_add(EFI_CONVENTIONAL_MEMORY, 0x50000000, 0x100, WB);
	ho.mmap_size -= 8;	/* the second one cut short */
	CHECK(read_map());
	CHECK_EQ(plat.nr_ram, 1);
	CHECK_EQ(plat.ram[0].base, 0x40000000);
	CHECK_EQ(plat.ram[0].size, 0x100000);
}

/* Unaligned free descriptors shrink to whole pages, reserved ones grow. */
static void test_unaligned(void)
{
	map_init();
	map_add(EFI_CONVENTIONAL_MEMORY, 0x40000800, 0x10, WB);
	map_add(EFI_ACPI_RECLAIM_MEMORY, 0x40008800, 1, WB);
	CHECK(read_map());
	CHECK_EQ(plat.nr_ram, 2);
	CHECK_EQ(plat.ram[0].base, 0x40001000);
	CHECK_EQ(plat.ram[0].size, 0x7000);
	CHECK_EQ(plat.ram[1].base, 0x4000a000);
	CHECK_EQ(plat.ram[1].size, 0x6000);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "efi-arm64");
	RUN_TEST(test_aavmf_map);
	RUN_TEST(test_overlap_cut);
	RUN_TEST(test_unusable_free_memory);
	RUN_TEST(test_wrapping);
	RUN_TEST(test_too_many_ranges);
	RUN_TEST(test_bad_sizes);
	RUN_TEST(test_partial_and_stride);
	RUN_TEST(test_unaligned);
	return test_done();
}
