// SPDX-License-Identifier: MIT
/*
 * Building a VM: its RAM (one memslot), an empty stage-2 table through the
 * core (guest memory is mapped on faults, vmm/fault.c), the kernel and initrd,
 * the architecture's devices and boot data, and its vCPUs.
 */
#include <core/arch.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <mm/s2_arch.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>

/* The loader writes slot 0 (RAM) directly: zero what it touches first. */
static void prepare_ram(void *arg, uint64_t off, uint64_t len)
{
	struct vm *vm = arg;

	vm_ram_prepare(vm, &vm->memslots[0], off, len);
}

static int load_kernel(struct vm *vm, const struct bundle_file *k)
{
	struct guest_ram ram = {
		.base = vm->ram_gpa,
		.size = vm->ram_size,
		.host = (uint8_t *)(uintptr_t)vm->ram_pa,
		.prepare = prepare_ram,
		.arg = vm,
	};

	return load_guest_kernel(k->name, k->data, k->size, arch_elf_machine,
				 vm->cfg->has_load_addr, vm->cfg->load_addr,
				 &ram, &vm->image);
}

static bool range_overlaps(gpa_t a, uint64_t alen, gpa_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Whether [@gpa, @gpa + @size) overlaps a used range; *@start is its start. */
static bool find_overlap(const struct vm *vm, gpa_t gpa, uint64_t size,
			 gpa_t *start)
{
	if (range_overlaps(gpa, size, vm->image.start,
			   vm->image.end - vm->image.start)) {
		*start = vm->image.start;
		return true;
	}
	if (range_overlaps(gpa, size, vm->initrd_gpa, vm->initrd_size)) {
		*start = vm->initrd_gpa;
		return true;
	}
	for (unsigned int i = 0; i < vm->nr_placed; i++) {
		if (range_overlaps(gpa, size, vm->placed[i].gpa,
				   vm->placed[i].size)) {
			*start = vm->placed[i].gpa;
			return true;
		}
	}
	return false;
}

gpa_t vm_place(struct vm *vm, uint64_t size, uint64_t align)
{
	gpa_t lo = vm->ram_gpa, hi = vm->ram_gpa + vm->ram_size;
	gpa_t gpa, used;

	if (!size || size > vm->ram_size || vm->nr_placed == VM_MAX_PLACED ||
	    !align || (align & (align - 1))) {
		return 0;
	}
	gpa = ALIGN_DOWN(hi - size, align);
	while (gpa >= lo && find_overlap(vm, gpa, size, &used)) {
		if (used < lo + size) {
			return 0;
		}
		gpa = ALIGN_DOWN(used - size, align);
	}
	if (gpa < lo || !gpa) {
		return 0;
	}
	vm->placed[vm->nr_placed].gpa = gpa;
	vm->placed[vm->nr_placed].size = size;
	vm->nr_placed++;
	return gpa;
}

static int load_initrd(struct vm *vm, const struct bundle *b)
{
	const struct bundle_file *f;
	gpa_t gpa;

	if (!vm->cfg->initrd[0]) {
		return 0;
	}
	f = bundle_find(b, vm->cfg->initrd);
	if (!f) {
		pr_err("vm %s: initrd '%s' is not in the bundle\n", vm->name,
		       vm->cfg->initrd);
		return -ENOENT;
	}
	gpa = vm_place(vm, ALIGN_UP(f->size ? f->size : 1, PAGE_SIZE),
		       PAGE_SIZE);
	if (!gpa) {
		pr_err("vm %s: initrd '%s' (%zu bytes) does not fit in RAM beside the kernel\n",
		       vm->name, f->name, f->size);
		return -ERANGE;
	}
	memcpy(vm_gpa_to_host(vm, gpa, ALIGN_UP(f->size ? f->size : 1,
						PAGE_SIZE)),
	       f->data, f->size);
	/* vm_place() reserved it; the initrd fields keep it known by name. */
	vm->nr_placed--;
	vm->initrd_gpa = gpa;
	vm->initrd_size = f->size;
	pr_info("vm %s: initrd %s at 0x%llx, %zu bytes\n", vm->name, f->name,
		(unsigned long long)gpa, f->size);
	return 0;
}

static int alloc_ram(struct vm *vm)
{
	uint64_t pages = vm->ram_size >> PAGE_SHIFT;
	int ret = -ENOMEM;

	/* 1 GiB alignment lets faults map 1 GiB blocks; 2 MiB otherwise. */
	if (vm->ram_size >= SZ_1G) {
		ret = palloc_alloc(pages, SZ_1G >> PAGE_SHIFT, &vm->ram_pa);
	}
	if (ret) {
		ret = palloc_alloc(pages, SZ_2M >> PAGE_SHIFT, &vm->ram_pa);
	}
	if (ret) {
		pr_err("vm %s: not enough free memory for %llu MiB\n",
		       vm->name, (unsigned long long)(vm->ram_size >> 20));
	}
	return ret;
}

/* The core must translate @gpa to where the RAM really is. */
static int check_translation(struct vm *vm, struct s2pt *s2, gpa_t gpa,
			     unsigned int prot)
{
	struct s2_translation t;
	int ret = s2pt_lookup(s2, gpa, &t);

	if (ret) {
		pr_err("vm %s: GPA 0x%llx has no translation (%d)\n",
		       vm->name, (unsigned long long)gpa, ret);
		return -EFAULT;
	}
	if (t.pa != vm->ram_pa + (gpa - vm->ram_gpa) ||
	    (t.prot & S2_PROT_RWX) != prot) {
		pr_err("vm %s: GPA 0x%llx -> 0x%llx prot %u, expected 0x%llx prot %u\n",
		       vm->name, (unsigned long long)gpa,
		       (unsigned long long)t.pa, t.prot,
		       (unsigned long long)(vm->ram_pa + (gpa - vm->ram_gpa)),
		       prot);
		return -EFAULT;
	}
	return 0;
}

static int s2_selftest(struct vm *vm);

int vm_s2_selftest(struct vm *vm)
{
	int ret;

	s2_mmu_write_lock(&vm->mmu);
	ret = s2_selftest(vm);
	s2_mmu_write_unlock(&vm->mmu);
	return ret;
}

static int s2_selftest(struct vm *vm)
{
	gpa_t blk = vm->ram_gpa + (vm->ram_size >= 2 * SZ_2M ? SZ_2M : 0);
	uint64_t len = MIN(SZ_2M, vm->ram_size);
	paddr_t pa = vm->ram_pa + (blk - vm->ram_gpa);
	struct s2_counters before, after;
	struct s2_translation t;
	struct s2_root *root;
	struct s2pt *s2;
	int ret;

	root = vm->mmu.list;	/* vm_build() made the default root */
	if (!root) {
		return -ENOENT;
	}
	s2 = &root->pt;
	/* What a root maps must be zeroed (vmm/ramzero.c). */
	vm_ram_prepare(vm, &vm->memslots[0], blk - vm->ram_gpa, len);
	ret = s2pt_map(s2, blk, pa, len, S2_PROT_RWX);
	before = s2->counters;
	if (!ret) {
		ret = s2pt_unmap(s2, blk, len);
	}
	if (!ret && s2pt_lookup(s2, blk, &t) != -ENOENT) {
		pr_err("vm %s: GPA 0x%llx still translates after unmap\n",
		       vm->name, (unsigned long long)blk);
		ret = -EFAULT;
	}
	if (!ret) {
		ret = s2pt_map(s2, blk, pa, len, S2_PROT_RWX);
	}
	if (!ret) {
		ret = s2pt_protect(s2, blk, PAGE_SIZE,
				   S2_PROT_R | S2_PROT_X);
	}
	if (!ret) {
		ret = check_translation(vm, s2, blk, S2_PROT_R | S2_PROT_X);
	}
	if (!ret) {
		ret = check_translation(vm, s2, blk + PAGE_SIZE, S2_PROT_RWX);
	}
	if (!ret && s2->audit_failures) {
		ret = -EFAULT;
	}
	after = s2->counters;
	pr_info("vm %s: stage-2 self-test %s: %llu flushes (%llu per-address, %llu range with %llu instructions, %llu whole-VMID), %llu barriers, %llu CMO pages\n",
		vm->name, ret ? "FAILED" : "passed",
		(unsigned long long)(after.flushes - before.flushes),
		(unsigned long long)(after.tlbi_ipa - before.tlbi_ipa),
		(unsigned long long)(after.tlbi_range - before.tlbi_range),
		(unsigned long long)(after.tlbi_range_insns -
				     before.tlbi_range_insns),
		(unsigned long long)(after.tlbi_vmid - before.tlbi_vmid),
		(unsigned long long)(after.barriers - before.barriers),
		(unsigned long long)(after.cmo_pages - before.cmo_pages));
	return ret;
}

void vm_destroy(struct vm *vm)
{
	/* The vCPUs' references first, then the roots, then their memory. */
	if (vm->cfg->secure) {
		arch_secure_vm_teardown(vm);
	}
	vm_mmu_destroy(vm);
	if (vm->cfg->secure) {
		arch_secure_vm_release(vm);
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		arch_vcpu_destroy(&vm->vcpus[i]);
	}
	vm->nr_vcpus = 0;
	if (vm->arch_live) {
		arch_vm_destroy(vm);
		vm->arch_live = false;
	}
	/* No root is left: the pages of run-time memslots go back too. */
	for (unsigned int i = 0; i < vm->nr_memslots; i++) {
		struct memslot *ms = &vm->memslots[i];

		if (ms->size && (ms->flags & MEMSLOT_OWNED)) {
			palloc_free(ms->pa, ms->size >> PAGE_SHIFT);
			ms->size = 0;
		}
		vm_ram_untrack(ms);
	}
	if (vm->ram_size && vm->ram_pa) {
		palloc_free(vm->ram_pa, vm->ram_size >> PAGE_SHIFT);
		vm->ram_pa = 0;
	}
	vm->nr_devices = 0;
	vm_virtio_destroy(vm);
}

/*
 * Seed 004: the MMIO SPTE mask is global, the value depends on the VM type;
 * the pair is validated once per VM, on its default root. A refused pair
 * means the VM runs without MMIO SPTEs (every MMIO access is looked up in
 * the memslots), and says so.
 */
static int check_mmio_value(struct vm *vm)
{
	struct s2_root *root;
	int ret;

	root = vm_default_root(vm, &ret);
	if (!root) {
		return ret;
	}
	/* s2pt_init() ran the validator on the value of the VM's type. */
	vm->no_mmio_spte = !s2pt_mmio_enabled(&root->pt);
	if (vm->no_mmio_spte) {
		pr_warn("vm %s: MMIO SPTE value 0x%llx (mask 0x%llx) refused for this VM type: running without MMIO SPTEs\n",
			vm->name, (unsigned long long)root->pt.mmio_value,
			(unsigned long long)root->pt.fmt.mmio_mask);
	}
	return 0;
}

static int create_vcpus(struct vm *vm)
{
	vm->nr_vcpus = vm->cfg->cpus ? vm->cfg->cpus : 1;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int ret;

		*v = (struct vcpu){ .vm = vm, .id = i, .state = VCPU_OFF };
		ret = arch_vcpu_init(v);
		if (ret) {
			pr_err("vm %s: vCPU %u cannot be set up (%d)\n",
			       vm->name, i, ret);
			vm->nr_vcpus = i;
			return ret;
		}
	}
	vm->vcpus[0].state = VCPU_RUNNABLE;
	return 0;
}

/*
 * What vm_build() and vm_reset() both do once the RAM and the roots exist
 * (the RAM slot tracked for lazy zeroing, nothing of it zeroed yet):
 * kernel and initrd loaded, the arch's devices and boot data, the vCPUs
 * (vCPU 0 runnable at the entry point).
 */
static int load_machine(struct vm *vm)
{
	const struct bundle_file *k = bundle_find(vm->bundle, vm->cfg->kernel);
	int ret;

	vm->image = (struct loaded_image){ 0 };
	vm->initrd_gpa = 0;
	vm->initrd_size = 0;
	vm->nr_placed = 0;
	vm->nr_devices = 0;
	ret = k ? load_kernel(vm, k) : -ENOENT;
	if (!ret) {
		ret = load_initrd(vm, vm->bundle);
	}
	if (!ret) {
		ret = arch_vm_init(vm);
		vm->arch_live = !ret;
		if (!ret) {
			ret = create_vcpus(vm);
		}
	}
	return ret;
}

int vm_build(struct vm *vm, const struct vm_config *cfg,
	     const struct bundle *b, unsigned int index)
{
	unsigned int flags = arch_s2_cpu_flags() | (cfg->ve ? S2PT_F_VE : 0) |
			     (cfg->secure ? S2PT_F_SECURE : 0);
	struct s2_counters c;
	int ret;

	*vm = (struct vm){ .cfg = cfg, .name = cfg->name, .index = index,
			   .ram_gpa = arch_guest_ram_base,
			   .ram_size = cfg->memory, .bundle = b };
	ret = alloc_ram(vm);
	if (ret) {
		return ret;
	}
	vm->memslots[0] = (struct memslot){ .gpa = vm->ram_gpa,
					    .size = vm->ram_size,
					    .pa = vm->ram_pa };
	vm->nr_memslots = 1;
	/* Zeroed lazily, as faults map it and Strata writes it. */
	vm_ram_track(vm, &vm->memslots[0]);
	vm->mem_used = vm->ram_size;
	vm->mem_limit = MAX(cfg->memory_max, vm->ram_size);
	vm->memslot_gen = 2;	/* generation 1, no update in progress */
	vm->mmio_gen_max = S2_MMIO_GEN_MAX;
	ret = vm_mmu_init(vm, arch_guest_ia_bits, flags);
	if (!ret) {
		ret = check_mmio_value(vm);
	}
	if (!ret) {
		ret = load_machine(vm);
	}
	if (!ret && cfg->secure) {
		ret = arch_secure_vm_build(vm);
	}
	if (ret) {
		vm_destroy(vm);
		return ret;
	}
	vm->state = VM_RUNNING;
	s2_mmu_counters(&vm->mmu, &c);
	pr_info("vm %s: %llu MiB at GPA 0x%llx -> PA 0x%llx, stage-2 %llu table pages\n",
		cfg->name, (unsigned long long)(vm->ram_size >> 20),
		(unsigned long long)vm->ram_gpa,
		(unsigned long long)vm->ram_pa,
		(unsigned long long)c.tables_in_use);
	pr_info("vm %s: %s kernel at 0x%llx-0x%llx, entry 0x%llx, %u vCPU%s\n",
		cfg->name, vm->image.format,
		(unsigned long long)vm->image.start,
		(unsigned long long)vm->image.end,
		(unsigned long long)vm->image.entry, vm->nr_vcpus,
		vm->nr_vcpus == 1 ? "" : "s");
	return 0;
}

void vm_reset(struct vm *vm)
{
	const char *why = vm->reset_reason;
	uint64_t returned = vm->mem_used - vm->ram_size;
	uint64_t roots = vm->ctr[STRATA_CTR_ROOTS_INVALIDATED];
	struct palloc_stats st;
	int ret;

	vm->reset_reason = NULL;
	vm_console_flush(vm);
	if (vm->cfg->secure) {
		/* Its memory is the module's: a TD is built once. */
		vm_fail(vm, "reset (%s) of a secure VM is not supported", why);
		return;
	}
	/* Views and run-time memslots go as if the guest deleted them. */
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].view = 0;
	}
	for (unsigned int id = 1; id < S2_MAX_VIEWS; id++) {
		if (vm->views[id].used && vm_view_destroy(vm, id)) {
			vm_bug(vm, "reset: view %u cannot be destroyed", id);
			return;
		}
	}
	for (unsigned int i = 0; i < vm->nr_memslots; i++) {
		if (vm->memslots[i].size &&
		    (vm->memslots[i].flags & MEMSLOT_OWNED)) {
			vm_memslot_delete(vm, i);
		}
	}
	if (vm->mem_used != vm->ram_size) {
		vm_bug(vm, "reset: %llu bytes of memslots not returned",
		       (unsigned long long)(vm->mem_used - vm->ram_size));
		return;
	}
	/*
	 * The RAM slot as vm_build() made it (the guest may have moved it or
	 * changed its flags), then the seed-001 trigger: every root is
	 * invalid, zapped and dropped before RAM is cleared and loaded.
	 */
	vm_memslot_begin_update(vm);
	vm_ram_untrack(&vm->memslots[0]);
	memset(vm->memslots, 0, sizeof(vm->memslots));
	vm->memslots[0] = (struct memslot){ .gpa = vm->ram_gpa,
					    .size = vm->ram_size,
					    .pa = vm->ram_pa };
	vm->nr_memslots = 1;
	vm_invalidate_roots(vm);
	vm_memslot_end_update(vm);
	/* Those the view and memslot deletes invalidated count too. */
	roots = vm->ctr[STRATA_CTR_ROOTS_INVALIDATED] - roots;
	if (!s2_mmu_pa_unmapped(&vm->mmu, vm->ram_pa, vm->ram_size)) {
		vm_bug(vm, "reset: RAM still mapped after every root was invalidated");
		return;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		arch_vcpu_drop_roots(&vm->vcpus[i]);
		s2_root_cache_clear(&vm->vcpus[i].roots);
		arch_vcpu_destroy(&vm->vcpus[i]);
	}
	vm->nr_vcpus = 0;
	if (vm->arch_live) {
		arch_vm_destroy(vm);
		vm->arch_live = false;
	}
	/* The RAM's old contents are zeroed lazily, as at vm_build(). */
	vm_ram_track(vm, &vm->memslots[0]);
	ret = load_machine(vm);
	if (ret) {
		vm_fail(vm, "reset failed: the VM cannot be built again (%d)",
			ret);
		return;
	}
	vm->resets++;
	vm->ctr[STRATA_CTR_RESETS]++;
	palloc_get_stats(&st);
	pr_info("vm %s: reset %u (%s): %llu root%s invalidated, %llu KiB of run-time memslots returned, kernel reloaded, %llu pages free\n",
		vm->name, vm->resets, why, (unsigned long long)roots,
		roots == 1 ? "" : "s",
		(unsigned long long)(returned >> 10),
		(unsigned long long)st.free_pages);
}
