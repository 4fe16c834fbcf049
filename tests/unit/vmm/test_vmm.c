// SPDX-License-Identifier: MIT
/*
 * Host tests of the generic VMM: lazy stage-2 faults with the largest block,
 * write-protect faults, MMIO SPTEs and their generation, the device bus and
 * its unclaimed-access semantics, the MMIO test device, the hypercalls, the
 * run loop's ending rules, vm_place() and vm_build(). The stage-2 core and
 * the EPT encoder are the real ones; the architecture is a scripted fake.
 */
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <mm/palloc.h>
#include <vmm/devices.h>
#include <vmm/vm.h>

#include "harness.h"
#include "host_hooks.h"

#include "fake_arch.h"

/* ---- Helpers -------------------------------------------------------------- */

static struct vm vm;
static struct vm_config cfg = { .name = "t", .cpus = 1 };

static struct vcpu *vcpu0(void)
{
	return &vm.vcpus[0];
}

/* The table vCPU 0 runs on. */
#define S2 (&vm.vcpus[0].roots.cur->pt)

/* A VM with one memslot [@gpa, +@size) backed at the (fake) @pa. */
static bool setup_vm(gpa_t gpa, uint64_t size, paddr_t pa)
{
	memset(&vm, 0, sizeof(vm));
	host_alloc_reset();
	vm.cfg = &cfg;
	vm.name = "t";
	vm.state = VM_RUNNING;
	vm.memslots[0] = (struct memslot){ .gpa = gpa, .size = size, .pa = pa };
	vm.nr_memslots = 1;
	vm.memslot_gen = 2;	/* generation 1 */
	vm.mmio_gen_max = S2_MMIO_GEN_MAX;
	vm.mem_used = size;
	vm.mem_limit = size + 64 * SZ_2M;
	vm.nr_vcpus = 1;
	vm.vcpus[0] = (struct vcpu){ .vm = &vm, .state = VCPU_RUNNABLE };
	if (vm_mmu_init(&vm, 40, 0)) {
		return false;
	}
	return vm_vcpu_prepare_entry(vcpu0());
}

static void teardown_vm(void)
{
	vm_mmu_destroy(&vm);
}


static long hc(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t *value)
{
	uint64_t a[3] = { a0, a1, 0 }, v;

	return vm_hypercall(vcpu0(), fn, a, value ? value : &v);
}

static unsigned int leaf_level(gpa_t gpa)
{
	struct s2_translation t;

	if (s2pt_lookup(S2, gpa, &t)) {
		return 99;
	}
	return t.level;
}

/* ---- Faults ------------------------------------------------------------- */

static void fault_maps_1g_block_when_aligned(void)
{
	CHECK(setup_vm(SZ_1G, SZ_1G, 0x80000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), SZ_1G + 0x1234, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(leaf_level(SZ_1G), 2);
	CHECK_EQ(vm.ctr[STRATA_CTR_S2_FAULTS], 1);
	CHECK_EQ(vm.ctr[STRATA_CTR_MAPS_1G], 1);
	teardown_vm();
}

static void fault_maps_2m_or_4k_as_alignment_allows(void)
{
	/* 64 MiB, PA 2 MiB aligned: 2 MiB blocks. */
	CHECK(setup_vm(0, 64 * SZ_2M / 2, 0x40000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0x345678, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK_EQ(leaf_level(0x345678), 1);
	CHECK_EQ(vm.ctr[STRATA_CTR_MAPS_2M], 1);
	teardown_vm();
	/* PA only 4 KiB aligned: pages. */
	CHECK(setup_vm(0, 16 * SZ_2M, 0x40001000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0x345678, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(leaf_level(0x345678), 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_MAPS_4K], 1);
	teardown_vm();
}

static void refault_after_zap_maps_only_what_is_free(void)
{
	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), SZ_2M, VM_ACC_R), VM_FAULT_FIXED);
	/* Zap one page of the block: the rest stays mapped. */
	CHECK_EQ(hc(STRATA_HC_ZAP, SZ_2M + 0x5000, PAGE_SIZE, NULL),
		 STRATA_HC_OK);
	CHECK_EQ(leaf_level(SZ_2M + 0x5000), 99);
	CHECK_EQ(leaf_level(SZ_2M + 0x6000), 0);
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), SZ_2M + 0x5010, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(leaf_level(SZ_2M + 0x5000), 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_S2_FAULTS], 2);
	CHECK_EQ(vm.ctr[STRATA_CTR_MAPS_4K], 1);
	/* Zap the whole block and more: the next fault maps 2 MiB again. */
	CHECK_EQ(hc(STRATA_HC_ZAP, 0, 4 * SZ_2M, NULL), STRATA_HC_OK);
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), SZ_2M + 0x5010, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(leaf_level(SZ_2M), 1);
	CHECK_EQ(S2->audit_failures, 0);
	teardown_vm();
}

static void write_to_protected_page_unprotects_it(void)
{
	struct s2_translation t;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0x1000, VM_ACC_R), VM_FAULT_FIXED);
	CHECK_EQ(hc(STRATA_HC_WRPROTECT, 0x3000, 2 * PAGE_SIZE, NULL),
		 STRATA_HC_OK);
	CHECK_EQ(s2pt_lookup(S2, 0x3000, &t), 0);
	CHECK(!(t.prot & S2_PROT_W));
	/* A read fault there changes nothing. */
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0x3008, VM_ACC_R), VM_FAULT_FIXED);
	CHECK_EQ(vm.ctr[STRATA_CTR_WP_FAULTS], 0);
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0x3008, VM_ACC_W), VM_FAULT_FIXED);
	CHECK_EQ(vm.ctr[STRATA_CTR_WP_FAULTS], 1);
	CHECK_EQ(s2pt_lookup(S2, 0x3000, &t), 0);
	CHECK(t.prot & S2_PROT_W);
	/* Only that page: its neighbour is still protected. */
	CHECK_EQ(s2pt_lookup(S2, 0x4000, &t), 0);
	CHECK(!(t.prot & S2_PROT_W));
	CHECK_EQ(vm.ctr[STRATA_CTR_S2_FAULTS], 1);
	teardown_vm();
}

static void host_write_for_the_guest_counts_like_a_guest_write(void)
{
	struct s2_translation t;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0, VM_ACC_R), VM_FAULT_FIXED);
	CHECK_EQ(hc(STRATA_HC_WRPROTECT, 0x2000, 3 * PAGE_SIZE, NULL),
		 STRATA_HC_OK);
	/* Two bytes across the 0x3000 page boundary: two pages unprotected. */
	CHECK_EQ(vm_prepare_host_write(&vm, 0x2fff, 2), 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_WP_FAULTS], 2);
	CHECK_EQ(s2pt_lookup(S2, 0x2000, &t), 0);
	CHECK(t.prot & S2_PROT_W);
	CHECK_EQ(s2pt_lookup(S2, 0x3000, &t), 0);
	CHECK(t.prot & S2_PROT_W);
	CHECK_EQ(s2pt_lookup(S2, 0x4000, &t), 0);
	CHECK(!(t.prot & S2_PROT_W));
	/* Writable or unmapped pages: nothing to do, nothing counted. */
	CHECK_EQ(vm_prepare_host_write(&vm, 0x2000, PAGE_SIZE), 0);
	CHECK_EQ(vm_prepare_host_write(&vm, 4 * SZ_2M, PAGE_SIZE), 0);
	CHECK_EQ(vm.ctr[STRATA_CTR_WP_FAULTS], 2);
	/* Not RAM, empty, wrapping: refused. */
	CHECK_EQ(vm_prepare_host_write(&vm, 0xfe000000, 4), -EFAULT);
	CHECK_EQ(vm_prepare_host_write(&vm, 0x1000, 0), -EINVAL);
	CHECK_EQ(vm_prepare_host_write(&vm, -2ULL, 4), -EINVAL);
	/* A read-only memslot cannot be written for the guest either. */
	vm.memslots[0].flags = MEMSLOT_RO;
	CHECK_EQ(vm_prepare_host_write(&vm, 0x4000, 4), -EACCES);
	teardown_vm();
}

static void unbacked_access_is_mmio_through_an_spte(void)
{
	uint64_t gen;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0xfe000010, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_SPTE_HITS], 0);
	CHECK_EQ(s2pt_get_mmio(S2, 0xfe000000, &gen), 0);
	CHECK_EQ(gen, 1);
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0xfe000018, VM_ACC_W),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_SPTE_HITS], 1);
	/* A new memslot generation makes the SPTE stale: re-installed. */
	vm.memslot_gen = 4;	/* generation 2 */
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0xfe000018, VM_ACC_R),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_SPTE_HITS], 1);
	CHECK_EQ(s2pt_get_mmio(S2, 0xfe000000, &gen), 0);
	CHECK_EQ(gen, 2);
	CHECK_EQ(vm.ctr[STRATA_CTR_S2_FAULTS], 0);
	CHECK(vm_running(&vm));
	teardown_vm();
}

static void wild_mmio_cannot_take_unbounded_table_pages(void)
{
	uint64_t gen;
	gpa_t a;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	/* One access per 2 MiB region: each would need its own table. */
	for (a = SZ_1G; a < SZ_1G + 1000 * SZ_2M; a += SZ_2M) {
		CHECK_EQ(vm_handle_s2_fault(vcpu0(), a, VM_ACC_R),
			 VM_FAULT_MMIO);
	}
	CHECK(S2->counters.tables_in_use <= VM_MMIO_TABLE_BUDGET);
	CHECK_EQ(vm.mmio_tables, VM_MMIO_TABLE_BUDGET);
	/* The early ones got their SPTE, the late ones did not... */
	CHECK_EQ(s2pt_get_mmio(S2, SZ_1G, &gen), 0);
	CHECK_EQ(s2pt_get_mmio(S2, a - SZ_2M, &gen), -ENOENT);
	/* ...but are emulated all the same, and RAM still maps. */
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), a - SZ_2M, VM_ACC_W),
		 VM_FAULT_MMIO);
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0x5000, VM_ACC_W),
		 VM_FAULT_FIXED);
	CHECK(vm_running(&vm));
	CHECK_EQ(S2->audit_failures, 0);
	teardown_vm();
}

/* Zapped MMIO SPTEs give their table pages back: install, zap, again. */
static void zapped_mmio_sptes_give_their_tables_back(void)
{
	uint64_t gen;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	for (unsigned int round = 0; round < 50; round++) {
		for (gpa_t a = SZ_1G; a < SZ_1G + 100 * SZ_2M; a += SZ_2M) {
			CHECK_EQ(vm_handle_s2_fault(vcpu0(), a, VM_ACC_R),
				 VM_FAULT_MMIO);
		}
		CHECK_EQ(vm.mmio_tables, VM_MMIO_TABLE_BUDGET);
		CHECK_EQ(s2pt_get_mmio(S2, SZ_1G, &gen), 0);
		CHECK_EQ(s2pt_unmap(S2, SZ_1G, SZ_1G), 0);
		CHECK_EQ(S2->counters.mmio_tables, 0);
	}
	CHECK(vm_running(&vm));
	CHECK_EQ(S2->audit_failures, 0);
	teardown_vm();
}

static void fetch_from_unbacked_stops_only_that_vm(void)
{
	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0x7000000000ULL, VM_ACC_X),
		 VM_FAULT_STOPPED);
	CHECK_EQ(vm.state, VM_ENDED_ERROR);
	CHECK_EQ(vcpu0()->state, VCPU_STOPPED);
	CHECK(strstr(vm.end_reason, "instruction fetch") != NULL);
	teardown_vm();
}

/* ---- Device bus and test device ----------------------------------------- */

static void testdev_every_size_and_last_register(void)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	uint64_t val;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(dev_testdev_add(&vm, IO_MMIO, 0xfe000000), 0);
	for (unsigned int i = 0; i < 4; i++) {
		unsigned int s = sizes[i];
		uint64_t off = 0x40 + 8 * i;

		val = 0x8877665544332211ULL;
		CHECK_EQ(vm_io_access(vcpu0(), IO_MMIO, 0xfe000000 + off, s,
				      true, &val), 0);
		CHECK_EQ(vm_io_access(vcpu0(), IO_MMIO,
				      0xfe000000 + TESTDEV_WVAL, 8, false,
				      &val), 0);
		CHECK_EQ(val, s == 8 ? 0x8877665544332211ULL :
			      0x8877665544332211ULL & (BIT(8 * s) - 1));
		CHECK_EQ(vm_io_access(vcpu0(), IO_MMIO, 0xfe000000 + off, s,
				      false, &val), 0);
		CHECK_EQ(val, s == 8 ? 0x8877665544332211ULL :
			      0x8877665544332211ULL & (BIT(8 * s) - 1));
		CHECK_EQ(vm_io_access(vcpu0(), IO_MMIO,
				      0xfe000000 + TESTDEV_LAST, 8, false,
				      &val), 0);
		CHECK_EQ(val & 0xffffffff, s | (off << 16));
		CHECK_EQ(val >> 32, 2 * (i + 1));
	}
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO], 16);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_UNCLAIMED], 0);
	teardown_vm();
}

static void unclaimed_accesses_read_as_empty_bus(void)
{
	struct io_device d = { .name = "x", .space = IO_MMIO,
			       .base = 0xfe000800, .size = 0x1000 };
	uint64_t val = 0x1234;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(dev_testdev_add(&vm, IO_MMIO, 0xfe000000), 0);
	/* Overlapping registration is refused. */
	CHECK_EQ(vm_add_device(&vm, &d), -EBUSY);
	/* Misaligned: the device refuses, reads as zero. */
	CHECK_EQ(vm_io_access(vcpu0(), IO_MMIO, 0xfe000003, 4, false, &val),
		 -ENODEV);
	CHECK_EQ(val, 0);
	/* Nothing there at all. */
	val = 5;
	CHECK_EQ(vm_io_access(vcpu0(), IO_MMIO, 0x12340000, 8, true, &val),
		 -ENODEV);
	/* Ports: all ones. */
	CHECK_EQ(vm_io_access(vcpu0(), IO_PIO, 0x80, 2, false, &val), -ENODEV);
	CHECK_EQ(val, 0xffff);
	/* A bad size is refused too, not passed to a device. */
	CHECK_EQ(vm_io_access(vcpu0(), IO_MMIO, 0xfe000000, 3, false, &val),
		 -ENODEV);
	CHECK_EQ(vm.ctr[STRATA_CTR_MMIO_UNCLAIMED], 4);
	CHECK(vm_running(&vm));
	teardown_vm();
}

/* ---- Hypercalls ---------------------------------------------------------- */

static void hypercall_arguments_are_checked(void)
{
	uint64_t value = 7;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(hc(STRATA_HC_ZAP, 0x1001, PAGE_SIZE, NULL), STRATA_HC_EINVAL);
	CHECK_EQ(hc(STRATA_HC_ZAP, 0x1000, 0, NULL), STRATA_HC_EINVAL);
	CHECK_EQ(hc(STRATA_HC_ZAP, 0x1000, 0x800, NULL), STRATA_HC_EINVAL);
	CHECK_EQ(hc(STRATA_HC_ZAP, BIT(40) - PAGE_SIZE, 2 * PAGE_SIZE, NULL),
		 STRATA_HC_ERANGE);
	CHECK_EQ(hc(STRATA_HC_ZAP, -PAGE_SIZE, 2 * PAGE_SIZE, NULL),
		 STRATA_HC_ERANGE);
	CHECK_EQ(hc(STRATA_HC_WRPROTECT, 0x1000, 0x10, NULL),
		 STRATA_HC_EINVAL);
	CHECK_EQ(hc(STRATA_HC_COUNTER, STRATA_CTR_NR, 0, &value),
		 STRATA_HC_EINVAL);
	CHECK_EQ(hc(0xC6000077, 1, 2, &value), STRATA_HC_NOT_SUPPORTED);
	CHECK_EQ(value, 0);
	CHECK_EQ(hc(0, 0, 0, NULL), STRATA_HC_NOT_SUPPORTED);
	CHECK_EQ(hc(STRATA_HC_CONSOLE_WRITE, 0x7000000000ULL, 4, NULL),
		 STRATA_HC_ERANGE);
	CHECK_EQ(hc(STRATA_HC_CONSOLE_WRITE, 0, 4097, NULL), STRATA_HC_EINVAL);
	CHECK_EQ(hc(STRATA_HC_COUNTER, STRATA_CTR_HC_UNKNOWN, 0, &value),
		 STRATA_HC_OK);
	CHECK_EQ(value, 2);
	CHECK_EQ(hc(STRATA_HC_COUNTER, STRATA_CTR_HYPERCALLS, 0, &value),
		 STRATA_HC_OK);
	CHECK_EQ(value, 13);
	CHECK(vm_running(&vm));
	teardown_vm();
}

static void zap_counters_come_from_the_core(void)
{
	uint64_t flushes, vmid, detaches;

	CHECK(setup_vm(0, 16 * SZ_2M, 0x40000000ULL));
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 0, VM_ACC_R), VM_FAULT_FIXED);
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), SZ_2M, VM_ACC_R), VM_FAULT_FIXED);
	CHECK_EQ(hc(STRATA_HC_ZAP, 0, 2 * SZ_2M, NULL), STRATA_HC_OK);
	CHECK_EQ(hc(STRATA_HC_COUNTER, STRATA_CTR_FLUSHES, 0, &flushes),
		 STRATA_HC_OK);
	CHECK_EQ(hc(STRATA_HC_COUNTER, STRATA_CTR_TLBI_VMID, 0, &vmid),
		 STRATA_HC_OK);
	CHECK_EQ(hc(STRATA_HC_COUNTER, STRATA_CTR_DETACHES, 0, &detaches),
		 STRATA_HC_OK);
	/* EPT: the zap is one single-context INVEPT. */
	CHECK_EQ(flushes, S2->counters.flushes);
	CHECK_EQ(flushes, 1);
	CHECK_EQ(vmid, 1);
	CHECK_EQ(leaf_level(0), 99);
	CHECK_EQ(leaf_level(SZ_2M), 99);
	teardown_vm();
}

static char console_buf[SZ_4K];

static void console_write_and_power_off(void)
{
	CHECK(setup_vm(0x10000, PAGE_SIZE,
		       (paddr_t)(uintptr_t)console_buf));
	strcpy(console_buf, "hello\nworld");
	CHECK_EQ(hc(STRATA_HC_CONSOLE_WRITE, 0x10000, 11, NULL), STRATA_HC_OK);
	/* "hello" went out; "world" waits for its newline. */
	CHECK_EQ(vm.con_len, 5);
	CHECK(!memcmp(vm.con_line, "world", 5));
	CHECK_EQ(hc(STRATA_HC_CONSOLE_WRITE, 0x10800, 0x1000, NULL),
		 STRATA_HC_ERANGE);
	/* Control bytes, DEL and C1 controls reach the terminal as '?'. */
	memcpy(console_buf + 64, "\x1b[\x7f\x9b\xa0\t", 6);
	vm.con_len = 0;
	CHECK_EQ(hc(STRATA_HC_CONSOLE_WRITE, 0x10040, 6, NULL), STRATA_HC_OK);
	CHECK(!memcmp(vm.con_line, "?[??\xa0\t", 6));
	CHECK_EQ(hc(STRATA_HC_POWER_OFF, 3, 0, NULL), STRATA_HC_OK);
	CHECK_EQ(vm.state, VM_ENDED_ERROR);
	CHECK(strstr(vm.end_reason, "status 3") != NULL);
	CHECK_EQ(vm.con_len, 0);
	teardown_vm();
}

/* ---- Run loop, vm_place, vm_build ---------------------------------------- */

static struct vm run_vms[3];

static void run_loop_ends_each_vm_and_reports(void)
{
	static struct vm_config c[3] = {
		{ .name = "a", .cpus = 1 }, { .name = "b", .cpus = 1 },
		{ .name = "c", .cpus = 1 },
	};

	memset(run_vms, 0, sizeof(run_vms));
	for (unsigned int i = 0; i < 3; i++) {
		run_vms[i].cfg = &c[i];
		run_vms[i].name = c[i].name;
		run_vms[i].index = i;
		run_vms[i].state = VM_RUNNING;
		run_vms[i].nr_vcpus = 1;
		run_vms[i].vcpus[0] = (struct vcpu){ .vm = &run_vms[i],
						     .state = VCPU_RUNNABLE };
	}
	fake_script[0] = FAKE_OFF_AFTER_3;
	fake_script[1] = FAKE_CPU_OFF;
	fake_script[2] = FAKE_OFF_AFTER_3;
	CHECK_EQ(vmm_run(run_vms, 3), 0);
	CHECK_EQ(run_vms[0].state, VM_ENDED_OK);
	CHECK_EQ(run_vms[0].vcpus[0].slices, 3);
	CHECK_EQ(run_vms[1].state, VM_ENDED_OK);
	CHECK(strstr(run_vms[1].end_reason, "all vCPUs off") != NULL);

	/* One failure: the others still run to their end; status 1. */
	for (unsigned int i = 0; i < 3; i++) {
		run_vms[i].state = VM_RUNNING;
		run_vms[i].vcpus[0].state = VCPU_RUNNABLE;
		run_vms[i].vcpus[0].slices = 0;
	}
	fake_script[0] = FAKE_FAIL_AFTER_2;
	fake_script[1] = FAKE_OFF_AFTER_3;
	fake_script[2] = FAKE_OFF_AFTER_3;
	CHECK_EQ(vmm_run(run_vms, 3), 1);
	CHECK_EQ(run_vms[0].state, VM_ENDED_ERROR);
	CHECK_EQ(run_vms[0].vcpus[0].slices, 2);
	CHECK(strstr(run_vms[0].end_reason, "stopped: scripted") != NULL);
	CHECK_EQ(run_vms[1].state, VM_ENDED_OK);
	CHECK_EQ(run_vms[2].vcpus[0].slices, 3);
	/* A second end does not overwrite the first. */
	vm_power_off(&run_vms[0], 0);
	CHECK_EQ(run_vms[0].state, VM_ENDED_ERROR);
}

static void place_avoids_image_initrd_and_earlier_places(void)
{
	gpa_t a, b, c;

	memset(&vm, 0, sizeof(vm));
	vm.ram_gpa = SZ_1G;
	vm.ram_size = 16 * SZ_2M;
	vm.image.start = SZ_1G + 0x80000;
	vm.image.end = SZ_1G + 0x300000;
	vm.initrd_gpa = SZ_1G + 15 * SZ_2M;
	vm.initrd_size = 0x1000;
	a = vm_place(&vm, SZ_2M, SZ_2M);
	CHECK_EQ(a, SZ_1G + 14 * SZ_2M);
	b = vm_place(&vm, SZ_2M, SZ_2M);
	CHECK_EQ(b, SZ_1G + 13 * SZ_2M);
	c = vm_place(&vm, PAGE_SIZE, PAGE_SIZE);
	CHECK_EQ(c, SZ_1G + 15 * SZ_2M + SZ_2M - PAGE_SIZE);
	/* Too big to fit below the image: refused. */
	CHECK_EQ(vm_place(&vm, 12 * SZ_2M, SZ_2M), 0);
	/* Bad alignment. */
	CHECK_EQ(vm_place(&vm, PAGE_SIZE, 3), 0);
	/* Below the page placed last, at its own alignment. */
	CHECK_EQ(vm_place(&vm, 0x80000, 0x80000), SZ_1G + 31 * 0x100000);
}

/* vm_place_below() ends the range at its limit, or refuses. */
static void place_below_keeps_under_the_limit(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.ram_gpa = 0;
	vm.ram_size = 16 * SZ_2M;
	vm.image.start = 0x100000;
	vm.image.end = 0x300000;
	CHECK_EQ(vm_place_below(&vm, PAGE_SIZE, PAGE_SIZE, 0x800000),
		 0x800000 - PAGE_SIZE);
	/* A limit above RAM is RAM's top. */
	CHECK_EQ(vm_place_below(&vm, PAGE_SIZE, PAGE_SIZE, SZ_1G),
		 16 * SZ_2M - PAGE_SIZE);
	/* No room between RAM's start and the limit beside the image. */
	CHECK_EQ(vm_place_below(&vm, SZ_2M, PAGE_SIZE, 0x200000), 0);
	CHECK_EQ(vm_place_below(&vm, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE), 0);
}

static uint8_t *host_ram;

static void build_loads_kernel_initrd_and_sets_up_vcpus(void)
{
	static const char raw[] = "\xf4\xeb\xfd";	/* hlt; jmp . */
	static struct bundle b;
	static struct vm_config bc = {
		.name = "b", .kernel = "k", .initrd = "i", .memory = 8 * SZ_2M,
		.cpus = 2, .load_addr = 0x100000, .has_load_addr = true,
	};
	struct palloc_stats before, after;
	uint8_t *p;

	host_ram = aligned_alloc(SZ_2M, 32 * SZ_2M);
	CHECK(host_ram != NULL);
	palloc_reset();
	CHECK_EQ(palloc_add_ram((paddr_t)(uintptr_t)host_ram, 32 * SZ_2M), 0);
	CHECK_EQ(palloc_finalize(), 0);
	palloc_get_stats(&before);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(bundle_add(&b, "k", raw, 3), 0);
	CHECK_EQ(bundle_add(&b, "i", "INITRD", 6), 0);
	host_alloc_reset();
	fake_vm_inits = fake_vcpu_inits = 0;
	fake_vm_destroys = fake_vcpu_destroys = 0;
	CHECK_EQ(vm_build(&vm, &bc, &b, 2), 0);
	CHECK_EQ(vm.state, VM_RUNNING);
	/* VM index 2: VMIDs 25..36, one per root slot. */
	CHECK_EQ(vm.mmu.vmid_base, 2 * S2_MMU_MAX_ROOTS + 1);
	CHECK_EQ(vm.mmu.pool[0].pt.vmid, 2 * S2_MMU_MAX_ROOTS + 1);
	CHECK_EQ(vm.nr_vcpus, 2);
	CHECK_EQ(vm.vcpus[0].state, VCPU_RUNNABLE);
	CHECK_EQ(vm.vcpus[1].state, VCPU_OFF);
	CHECK_EQ(fake_vm_inits, 1);
	CHECK_EQ(fake_vcpu_inits, 2);
	CHECK_EQ(vm.image.entry, 0x100000);
	p = vm_gpa_to_host(&vm, 0x100000, 3);
	CHECK(p && !memcmp(p, raw, 3));
	CHECK(vm.initrd_gpa >= vm.image.end);
	p = vm_gpa_to_host(&vm, vm.initrd_gpa, 6);
	CHECK(p && !memcmp(p, "INITRD", 6));
	/* Lazy: nothing mapped until the guest touches it. */
	CHECK_EQ(s2_mmu_nr_roots(&vm.mmu), 1);	/* the default view's */
	CHECK_EQ(vm.mmu.pool[0].pt.counters.tables_in_use, 0);
	{
		struct s2_translation t;

		CHECK_EQ(s2pt_lookup(&vm.mmu.pool[0].pt, 0x100000, &t),
			 -ENOENT);
	}
	vm_destroy(&vm);
	CHECK_EQ(fake_vm_destroys, 1);
	CHECK_EQ(fake_vcpu_destroys, 2);
	palloc_get_stats(&after);
	CHECK_EQ(after.free_pages, before.free_pages);
	/* A VM bigger than the free memory is refused, nothing leaks. */
	bc.memory = 64 * SZ_2M;
	CHECK_EQ(vm_build(&vm, &bc, &b, 2), -ENOMEM);
	/* RAM reaching the MMIO window below 4 GiB is refused first. */
	bc.memory = 0xfe000000ULL + PAGE_SIZE;
	CHECK_EQ(vm_build(&vm, &bc, &b, 2), -EINVAL);
	bc.memory = 8 * SZ_2M;
	/* A missing initrd is refused, nothing leaks. */
	strcpy(bc.initrd, "nope");
	CHECK(vm_build(&vm, &bc, &b, 2) < 0);
	strcpy(bc.initrd, "i");
	palloc_get_stats(&after);
	CHECK_EQ(after.free_pages, before.free_pages);
	free(host_ram);
}

/* Whether [@p, @p + @n) holds only zero bytes. */
static bool all_zero(const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		if (p[i]) {
			return false;
		}
	}
	return true;
}

/* Every byte of [@gpa, +@n) of RAM is zero but those of [@skip, +@skip_n). */
static bool ram_zero_but(gpa_t gpa, uint64_t n, gpa_t skip, uint64_t skip_n)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)vm.ram_pa;

	for (gpa_t a = gpa; a < gpa + n; a++) {
		if (p[a] && !(a >= skip && a < skip + skip_n)) {
			return false;
		}
	}
	return true;
}

/*
 * Lazy zeroing (vmm/ramzero.c): the allocator's memory is dirty, as another
 * VM or the hypervisor left it. Building the VM zeroes only what the loader
 * wrote; each fault then zeroes the whole block it maps, before it maps it,
 * vm_gpa_to_host() the chunks it hands out, a memslot added at run time the
 * same: no mapped byte and no byte the hypervisor reads is stale, while
 * chunks nothing touched still hold the old data (the zeroing is lazy).
 */
static void ram_reaches_the_guest_zeroed(void)
{
	static const char raw[] = "\xf4\xeb\xfd";	/* hlt; jmp . */
	static struct bundle b;
	static struct vm_config bc = {
		.name = "z", .kernel = "k", .initrd = "i", .memory = 16 * SZ_2M,
		.memory_max = 32 * SZ_2M,
		.cpus = 1, .load_addr = 0x100000, .has_load_addr = true,
	};
	const uint64_t total = 64 * SZ_2M;
	struct palloc_stats before, after;
	struct s2_translation t;
	unsigned int id;
	uint8_t *p;

	host_ram = aligned_alloc(SZ_2M, total);
	CHECK(host_ram != NULL);
	memset(host_ram, 0xa5, total);		/* what was there before */
	palloc_reset();
	CHECK_EQ(palloc_add_ram((paddr_t)(uintptr_t)host_ram, total), 0);
	CHECK_EQ(palloc_finalize(), 0);
	palloc_get_stats(&before);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(bundle_add(&b, "k", raw, 3), 0);
	CHECK_EQ(bundle_add(&b, "i", "INITRD", 6), 0);
	host_alloc_reset();
	CHECK_EQ(vm_build(&vm, &bc, &b, 0), 0);
	CHECK(vm_vcpu_prepare_entry(vcpu0()));
	/* The kernel's and the initrd's chunks (the initrd is at the top). */
	CHECK_EQ(vm.ctr[STRATA_CTR_ZEROED_CHUNKS], 2);
	CHECK(ram_zero_but(0, SZ_2M, 0x100000, 3));
	CHECK(ram_zero_but(15 * SZ_2M, SZ_2M, vm.initrd_gpa, 6));
	p = (uint8_t *)(uintptr_t)vm.ram_pa;
	CHECK(p[SZ_2M] == 0xa5 && p[14 * SZ_2M + 77] == 0xa5);

	/* A fault maps a zeroed block; the neighbours stay untouched. */
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), 5 * SZ_2M + 0x1234, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK_EQ(s2pt_lookup(S2, 5 * SZ_2M, &t), 0);
	CHECK_EQ(t.level, 1);
	CHECK(all_zero((const uint8_t *)(uintptr_t)t.pa, SZ_2M));
	CHECK_EQ(vm.ctr[STRATA_CTR_ZEROED_CHUNKS], 3);
	CHECK(p[4 * SZ_2M + SZ_2M - 1] == 0xa5 && p[6 * SZ_2M] == 0xa5);

	/* The hypervisor reading for the guest zeroes the chunk first. */
	CHECK(all_zero(vm_gpa_to_host(&vm, 9 * SZ_2M + 4096, 64), 64));
	CHECK(ram_zero_but(9 * SZ_2M, SZ_2M, 0, 0));
	CHECK_EQ(vm.ctr[STRATA_CTR_ZEROED_CHUNKS], 4);

	/* Every other block as the guest faults it in. */
	for (gpa_t g = 0; g < bc.memory; g += SZ_2M) {
		CHECK_EQ(vm_handle_s2_fault(vcpu0(), g + SZ_2M - 8, VM_ACC_W),
			 VM_FAULT_FIXED);
		CHECK_EQ(s2pt_lookup(S2, g, &t), 0);
	}
	CHECK_EQ(vm.ctr[STRATA_CTR_ZEROED_CHUNKS], 16);
	CHECK(ram_zero_but(0, 0x100000 + 3, 0x100000, 3));
	CHECK(ram_zero_but(0x100000 + 3, vm.initrd_gpa - 0x100003,
			   vm.initrd_gpa, 6));
	CHECK(ram_zero_but(vm.initrd_gpa + 6,
			   bc.memory - vm.initrd_gpa - 6, 0, 0));

	/* A memslot added at run time: dirty pages, zeroed as they are used. */
	CHECK_EQ(vm_memslot_add(&vm, SZ_1G, 8 * SZ_2M, 0, &id), 0);
	p = (uint8_t *)(uintptr_t)vm.memslots[id].pa;
	CHECK(p[0] == 0xa5 && p[8 * SZ_2M - 1] == 0xa5);
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), SZ_1G + 3 * SZ_2M, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK(all_zero(p + 3 * SZ_2M, SZ_2M));
	CHECK(p[2 * SZ_2M] == 0xa5 && p[4 * SZ_2M] == 0xa5);
	/* Deleted and added again: the same dirty pages, zeroed again. */
	memset(p + 3 * SZ_2M, 0x3c, SZ_2M);	/* the guest wrote there */
	CHECK_EQ(vm_memslot_delete(&vm, id), 0);
	CHECK_EQ(vm_memslot_add(&vm, SZ_1G, 8 * SZ_2M, 0, &id), 0);
	CHECK(vm.memslots[id].pa == (paddr_t)(uintptr_t)p);
	CHECK(p[3 * SZ_2M] == 0x3c);
	CHECK(vm_vcpu_prepare_entry(vcpu0()));	/* the delete took its root */
	CHECK_EQ(vm_handle_s2_fault(vcpu0(), SZ_1G + 3 * SZ_2M + 8, VM_ACC_R),
		 VM_FAULT_FIXED);
	CHECK(all_zero(p + 3 * SZ_2M, SZ_2M));

	vm_destroy(&vm);
	palloc_get_stats(&after);
	CHECK_EQ(after.free_pages, before.free_pages);	/* bitmaps too */
	free(host_ram);
	host_ram = NULL;
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "vmm");
	RUN_TEST(fault_maps_1g_block_when_aligned);
	RUN_TEST(fault_maps_2m_or_4k_as_alignment_allows);
	RUN_TEST(refault_after_zap_maps_only_what_is_free);
	RUN_TEST(write_to_protected_page_unprotects_it);
	RUN_TEST(host_write_for_the_guest_counts_like_a_guest_write);
	RUN_TEST(unbacked_access_is_mmio_through_an_spte);
	RUN_TEST(wild_mmio_cannot_take_unbounded_table_pages);
	RUN_TEST(zapped_mmio_sptes_give_their_tables_back);
	RUN_TEST(fetch_from_unbacked_stops_only_that_vm);
	RUN_TEST(testdev_every_size_and_last_register);
	RUN_TEST(unclaimed_accesses_read_as_empty_bus);
	RUN_TEST(hypercall_arguments_are_checked);
	RUN_TEST(zap_counters_come_from_the_core);
	RUN_TEST(console_write_and_power_off);
	RUN_TEST(run_loop_ends_each_vm_and_reports);
	RUN_TEST(place_avoids_image_initrd_and_earlier_places);
	RUN_TEST(place_below_keeps_under_the_limit);
	RUN_TEST(build_loads_kernel_initrd_and_sets_up_vcpus);
	RUN_TEST(ram_reaches_the_guest_zeroed);
	return test_done();
}
