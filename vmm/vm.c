// SPDX-License-Identifier: MIT
/* Building a VM's memory: RAM, the stage-2 table through the core, the kernel. */
#include <core/arch.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <vmm/vm.h>

static int load_kernel(struct vm *vm, const struct bundle_file *k)
{
	struct guest_ram ram = {
		.base = vm->ram_gpa,
		.size = vm->ram_size,
		.host = (uint8_t *)(uintptr_t)vm->ram_pa,
	};

	if (is_elf64_for(k->data, k->size, arch_elf_machine)) {
		return load_elf64(k->name, k->data, k->size, arch_elf_machine,
				  &ram, &vm->image);
	}
	if (arch_elf_machine == 183 && is_arm64_image(k->data, k->size)) {
		return load_arm64_image(k->name, k->data, k->size, &ram,
					&vm->image);
	}
	if (vm->cfg->has_load_addr) {
		return load_raw(k->name, k->data, k->size,
				vm->cfg->load_addr, &ram, &vm->image);
	}
	pr_err("%s: unknown image format\n", k->name);
	return -ENOEXEC;
}

/* The core must translate @gpa to where the RAM really is. */
static int check_translation(struct vm *vm, gpa_t gpa, unsigned int prot)
{
	struct s2_translation t;
	int ret = s2pt_lookup(&vm->s2, gpa, &t);

	if (ret) {
		pr_err("vm %s: GPA 0x%llx has no translation (%d)\n",
		       vm->cfg->name, (unsigned long long)gpa, ret);
		return -EFAULT;
	}
	if (t.pa != vm->ram_pa + (gpa - vm->ram_gpa) ||
	    (t.prot & S2_PROT_RWX) != prot) {
		pr_err("vm %s: GPA 0x%llx -> 0x%llx prot %u, expected 0x%llx prot %u\n",
		       vm->cfg->name, (unsigned long long)gpa,
		       (unsigned long long)t.pa, t.prot,
		       (unsigned long long)(vm->ram_pa + (gpa - vm->ram_gpa)),
		       prot);
		return -EFAULT;
	}
	return 0;
}

int vm_build(struct vm *vm, const struct vm_config *cfg,
	     const struct bundle *b, unsigned int index)
{
	const struct bundle_file *k = bundle_find(b, cfg->kernel);
	int ret;

	*vm = (struct vm){ .cfg = cfg, .ram_gpa = arch_guest_ram_base,
			   .ram_size = cfg->memory };
	ret = palloc_alloc(cfg->memory >> PAGE_SHIFT, SZ_2M >> PAGE_SHIFT,
			   &vm->ram_pa);
	if (ret) {
		pr_err("vm %s: not enough free memory for %llu MiB\n",
		       cfg->name, (unsigned long long)(cfg->memory >> 20));
		return ret;
	}
	memset((void *)(uintptr_t)vm->ram_pa, 0, vm->ram_size);
	ret = s2pt_init(&vm->s2, arch_guest_ia_bits, arch_s2_cpu_flags(), index + 1);
	if (!ret) {
		vm->s2_live = true;
		ret = s2pt_map(&vm->s2, vm->ram_gpa, vm->ram_pa, vm->ram_size,
			       S2_PROT_RWX);
	}
	if (!ret) {
		ret = k ? load_kernel(vm, k) : -ENOENT;
	}
	if (!ret) {
		ret = check_translation(vm, vm->image.entry, S2_PROT_RWX);
	}
	if (ret) {
		pr_err("vm %s: cannot be built (%d)\n", cfg->name, ret);
		vm_destroy(vm);
		return ret;
	}
	pr_info("vm %s: %llu MiB at GPA 0x%llx -> PA 0x%llx, stage-2 %llu table pages\n",
		cfg->name, (unsigned long long)(vm->ram_size >> 20),
		(unsigned long long)vm->ram_gpa,
		(unsigned long long)vm->ram_pa,
		(unsigned long long)vm->s2.counters.tables_in_use);
	pr_info("vm %s: %s kernel at 0x%llx-0x%llx, entry 0x%llx\n", cfg->name,
		vm->image.format, (unsigned long long)vm->image.start,
		(unsigned long long)vm->image.end,
		(unsigned long long)vm->image.entry);
	return 0;
}

int vm_s2_selftest(struct vm *vm)
{
	struct s2_counters before = vm->s2.counters;
	gpa_t blk = vm->ram_gpa + (vm->ram_size >= 2 * SZ_2M ? SZ_2M : 0);
	uint64_t len = MIN(SZ_2M, vm->ram_size);
	struct s2_translation t;
	int ret;

	ret = s2pt_unmap(&vm->s2, blk, len);
	if (!ret && s2pt_lookup(&vm->s2, blk, &t) != -ENOENT) {
		pr_err("vm %s: GPA 0x%llx still translates after unmap\n",
		       vm->cfg->name, (unsigned long long)blk);
		ret = -EFAULT;
	}
	if (!ret) {
		ret = s2pt_map(&vm->s2, blk, vm->ram_pa + (blk - vm->ram_gpa),
			       len, S2_PROT_RWX);
	}
	if (!ret) {
		ret = s2pt_protect(&vm->s2, blk, PAGE_SIZE,
				   S2_PROT_R | S2_PROT_X);
	}
	if (!ret) {
		ret = check_translation(vm, blk, S2_PROT_R | S2_PROT_X);
	}
	if (!ret) {
		ret = check_translation(vm, blk + PAGE_SIZE, S2_PROT_RWX);
	}
	if (!ret && vm->s2.audit_failures) {
		ret = -EFAULT;
	}
	pr_info("vm %s: stage-2 self-test %s: %llu flushes (%llu per-address, %llu range with %llu instructions, %llu whole-VMID), %llu barriers, %llu CMO pages\n",
		vm->cfg->name, ret ? "FAILED" : "passed",
		(unsigned long long)(vm->s2.counters.flushes - before.flushes),
		(unsigned long long)(vm->s2.counters.tlbi_ipa - before.tlbi_ipa),
		(unsigned long long)(vm->s2.counters.tlbi_range - before.tlbi_range),
		(unsigned long long)(vm->s2.counters.tlbi_range_insns -
				     before.tlbi_range_insns),
		(unsigned long long)(vm->s2.counters.tlbi_vmid - before.tlbi_vmid),
		(unsigned long long)(vm->s2.counters.barriers - before.barriers),
		(unsigned long long)(vm->s2.counters.cmo_pages - before.cmo_pages));
	return ret;
}

void vm_destroy(struct vm *vm)
{
	if (vm->s2_live) {
		s2pt_destroy(&vm->s2);
		vm->s2_live = false;
	}
	if (vm->ram_size && vm->ram_pa) {
		palloc_free(vm->ram_pa, vm->ram_size >> PAGE_SHIFT);
		vm->ram_pa = 0;
	}
}
