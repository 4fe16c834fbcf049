// SPDX-License-Identifier: MIT
/*
 * Secure VMs on x86 (`secure = on`, docs/secure-module.md "Secure VMs in the
 * hypervisor"): the VMM's side of a TD of the emulated secure module.
 *
 * - Build: the TD (TDR, root), one TDVPR per vCPU, the mirror root attached
 *   to the module (mm/s2_mirror.c over arch/x86/tdx/mirror.c); the initial
 *   image (kernel, initrd, boot area) mapped on the mirror page by page,
 *   which the module does as PAGE.ADD of the contents Strata loaded; then
 *   MR.FINALIZE.
 * - The halves: GPAs with the shared bit (GPAW - 1 = 39) clear are private
 *   and faulted in through the mirror root (PAGE.AUG: pending until the
 *   guest accepts), GPAs with it set are shared and faulted in through the
 *   ordinary direct root, whose absent entries have SUPPRESS_VE set and
 *   whose MMIO SPTE value is 0 (#VE in the guest). The CPU walks the
 *   module's root (the EPTP); its shared-half entries point at the direct
 *   root's tables (TDH.VP.WR of the shared EPTP, installed at VP.ENTER).
 * - Which half a page of RAM belongs to is kept per page here (KVM's
 *   memory attributes): private at first; MAP_GPA converts, removing the
 *   old mapping first (private: the module's BLOCK, TRACK, kick, REMOVE).
 * - Entry and exit are counted in the TD's epochs (VP.ENTER / exit).
 *
 * Everything runs on the one CPU of the run loop: when Strata handles an
 * exit, every vCPU of the VM is out of guest mode, so the kick the module's
 * zap needs has nothing to interrupt (it checks that instead).
 */
#include <arch/cpu.h>
#include <arch/ept.h>
#include <arch/secure_vm.h>
#include <arch/tdx_mirror.h>
#include <arch/tdx_module.h>
#include <arch/vmcs.h>
#include <arch/vmx.h>
#include <arch/vmx_run.h>
#include <arch/x86.h>
#include <lib/bug.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <mm/palloc.h>
#include <mm/s2_ext.h>
#include <vmm/vm.h>

/* S-EPT of 4 levels and Bochs' MAXPHYADDR: the shared bit is 39. */
#define SECURE_LEVELS		4
#define SECURE_GPAW		40
#define MAP_GPA_LOG_INFO	16

/**
 * struct x86_secure - a secure VM's state on the VMM side (one page).
 * @tdr: the TD; @root: its S-EPT root (the EPTP the CPU walks).
 * @tdvpr: one per vCPU; @in_td: that vCPU is in guest mode for the module.
 * @shared_bit: the GPA bit that selects the shared half.
 * @shared_set: the direct root the module was last given for that half.
 * @mirror: the module side of the mirror; @ext: the core side.
 * @shared: one bit per page of RAM, set when the page is shared.
 * @shared_pages: pages of @shared.
 * @stats_*: what the guest asked, for the summary at the end.
 */
struct x86_secure {
	struct vm *vm;
	paddr_t tdr;
	paddr_t root;
	paddr_t tdvpr[VM_MAX_CPUS];
	bool in_td[VM_MAX_CPUS];
	uint64_t shared_bit;
	paddr_t shared_set;
	struct tdx_mirror mirror;
	struct s2_ext ext;
	uint8_t *shared;
	uint64_t shared_pages;
	uint64_t added_pages;
	uint64_t stats_accepts;
	uint64_t stats_mmio;
	uint64_t stats_to_shared;
	unsigned int map_gpa_logged;	/* MAP_GPA lines at info level */
	uint64_t stats_to_private;
	uint64_t stats_refused_buffers;
	uint64_t stats_denied;
	uint64_t end_tlb_flushes;	/* the module's count at teardown */
	bool torn_down;			/* the end summary is due */
};

_Static_assert(sizeof(struct x86_secure) <= PAGE_SIZE,
	       "a secure VM's state fits one page");

static bool module_ready;

static void protection_audit(struct vm *vm, const char *when);

static inline struct x86_secure *sec_of(const struct vm *vm)
{
	return vm->arch.secure;
}

/* ---- The module ---------------------------------------------------------- */

/*
 * The module's window is every page the page allocator manages (so every
 * page Strata could give a TD), its PAMT taken from the allocator once.
 */
static int module_init(void)
{
	paddr_t lo, hi, pamt;
	uint64_t nr;
	sm_status_t s;
	void *va;

	if (module_ready) {
		return 0;
	}
	palloc_span(&lo, &hi);
	lo = MAX(lo, (paddr_t)PAGE_SIZE);	/* page 0 is never given */
	if (hi <= lo) {
		return -ENOMEM;
	}
	nr = (hi - lo) >> PAGE_SHIFT;
	/* The module writes its pages only through its alias (window.c). */
	if (x86_alias_setup(lo, hi, &va)) {
		pr_err("secure module: no pages for its window's alias\n");
		return -ENOMEM;
	}
	if (palloc_alloc(SM_PAMT_PAGES(nr), 1, &pamt)) {
		pr_err("secure module: no %llu pages for its PAMT\n",
		       (unsigned long long)SM_PAMT_PAGES(nr));
		return -ENOMEM;
	}
	s = sm_init(lo, nr, va, pamt);
	if (s) {
		palloc_free(pamt, SM_PAMT_PAGES(nr));
		pr_err("secure module: SYS.INIT refused (0x%llx)\n",
		       (unsigned long long)s);
		return -EIO;
	}
	module_ready = true;
	pr_info("secure module: window 0x%llx-0x%llx (%llu pages), PAMT %llu pages\n",
		(unsigned long long)lo, (unsigned long long)hi,
		(unsigned long long)nr,
		(unsigned long long)SM_PAMT_PAGES(nr));
	return 0;
}

static int module_page_alloc(void *arg, paddr_t *pa)
{
	(void)arg;
	return palloc_alloc(1, 1, pa);
}

static void module_page_free(void *arg, paddr_t pa)
{
	(void)arg;
	palloc_free(pa, 1);
}

/*
 * The zap's kick: every vCPU of the TD out of guest mode. Strata runs its
 * vCPUs on one CPU and handles exits with the vCPU already out of the TD,
 * so none can be in; one that is would be a bug of this file.
 */
static void secure_kick(void *arg)
{
	struct x86_secure *sec = arg;

	for (unsigned int i = 0; i < sec->vm->nr_vcpus; i++) {
		WARN_ON_ONCE(sec->in_td[i]);
	}
}

static void secure_stop(void *arg, const char *reason)
{
	struct x86_secure *sec = arg;

	vm_bug(sec->vm, "%s (0x%llx)", reason,
	       (unsigned long long)sec->mirror.last.status);
}

/* ---- The halves ---------------------------------------------------------- */

static bool ram_page(const struct vm *vm, gpa_t g, uint64_t *idx)
{
	if (g < vm->ram_gpa || g - vm->ram_gpa >= vm->ram_size) {
		return false;
	}
	*idx = (g - vm->ram_gpa) >> PAGE_SHIFT;
	return true;
}

static bool page_shared(const struct x86_secure *sec, uint64_t idx)
{
	return sec->shared[idx / 8] & BIT(idx % 8);
}

static void page_set_shared(struct x86_secure *sec, uint64_t idx, bool on)
{
	if (on) {
		sec->shared[idx / 8] |= (uint8_t)BIT(idx % 8);
	} else {
		sec->shared[idx / 8] &= (uint8_t)~BIT(idx % 8);
	}
}

static struct s2pt *mirror_pt(struct vm *vm)
{
	int err;
	struct s2_root *r;

	/* The MMU lock as vm_default_root() takes it (docs/smp.md). */
	s2_mmu_write_lock(&vm->mmu);
	r = s2_mmu_get_root(&vm->mmu, s2_mmu_mirror_role(&vm->mmu), &err);
	if (r) {
		s2_root_put(r);	/* the list keeps it */
	}
	s2_mmu_write_unlock(&vm->mmu);
	return r ? &r->pt : NULL;
}

static struct s2pt *direct_pt(struct vm *vm)
{
	int err;
	struct s2_root *r = vm_default_root(vm, &err);

	return r ? &r->pt : NULL;
}

/* ---- Build --------------------------------------------------------------- */

/* PAGE.ADD of [@gpa, @gpa + @size) of RAM as Strata loaded it. */
static int add_initial_range(struct vm *vm, struct s2pt *mirror, gpa_t gpa,
			     uint64_t size)
{
	gpa_t lo = ALIGN_DOWN(gpa, PAGE_SIZE);
	gpa_t hi = ALIGN_UP(gpa + size, PAGE_SIZE);
	int ret;

	if (!size) {
		return 0;
	}
	s2_mmu_write_lock(&vm->mmu);
	ret = s2pt_map(mirror, lo, vm->ram_pa + (lo - vm->ram_gpa), hi - lo,
		       S2_PROT_RWX);
	s2_mmu_write_unlock(&vm->mmu);
	if (!ret) {
		sec_of(vm)->added_pages += (hi - lo) >> PAGE_SHIFT;
	}
	return ret;
}

static int build_td(struct vm *vm, struct x86_secure *sec)
{
	struct sm_td_params p = { .levels = SECURE_LEVELS,
				  .gpaw = SECURE_GPAW };
	struct s2pt *mirror;
	sm_status_t s;
	int ret;

	if (palloc_alloc(1, 1, &sec->tdr)) {
		return -ENOMEM;
	}
	if (palloc_alloc(1, 1, &sec->root)) {
		palloc_free(sec->tdr, 1);
		sec->tdr = 0;
		return -ENOMEM;
	}
	s = sm_td_create(sec->tdr, sec->root, &p);
	if (s) {
		pr_err("vm %s: TDH.MNG.CREATE refused (0x%llx)\n", vm->name,
		       (unsigned long long)s);
		palloc_free(sec->root, 1);
		palloc_free(sec->tdr, 1);
		sec->tdr = sec->root = 0;
		return -EIO;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (palloc_alloc(1, 1, &sec->tdvpr[i])) {
			return -ENOMEM;
		}
		s = sm_vp_create(sec->tdr, sec->tdvpr[i]);
		if (s) {
			palloc_free(sec->tdvpr[i], 1);
			sec->tdvpr[i] = 0;
			pr_err("vm %s: TDH.VP.CREATE refused (0x%llx)\n",
			       vm->name, (unsigned long long)s);
			return -EIO;
		}
	}
	sec->mirror = (struct tdx_mirror){
		.tdr = sec->tdr,
		.kick = { .kick = secure_kick, .arg = sec },
		.page_alloc = module_page_alloc,
		.page_free = module_page_free,
	};
	sec->ext = (struct s2_ext){ .ops = &tdx_mirror_ops,
				    .ctx = &sec->mirror,
				    .stop = secure_stop, .stop_arg = sec };
	vm->mmu.ext = &sec->ext;
	mirror = mirror_pt(vm);
	if (!mirror) {
		return -ENOMEM;
	}
	/* The image Strata loaded becomes the TD's measured contents. */
	ret = add_initial_range(vm, mirror, vm->image.start,
				vm->image.end - vm->image.start);
	if (!ret) {
		ret = add_initial_range(vm, mirror, vm->initrd_gpa,
					vm->initrd_size);
	}
	if (!ret) {
		ret = add_initial_range(vm, mirror, vm->arch.boot_info,
					vm->arch.boot_size);
	}
	if (ret) {
		pr_err("vm %s: the initial image cannot be added to the TD (%d)\n",
		       vm->name, ret);
		return ret;
	}
	s = sm_mr_finalize(sec->tdr);
	if (s) {
		pr_err("vm %s: TDH.MR.FINALIZE refused (0x%llx)\n", vm->name,
		       (unsigned long long)s);
		return -EIO;
	}
	return 0;
}

int arch_secure_vm_build(struct vm *vm)
{
	struct sm_stats before, after;
	struct x86_secure *sec;
	struct sm_td_info info;
	paddr_t pa;
	int ret;

	if (!vmx_has_proc2(&vmx_caps, VMX_PROC2_EPT_VE)) {
		pr_err("vm %s: secure = on, but this CPU has no EPT-violation #VE: a secure VM takes its MMIO as #VE\n",
		       vm->name);
		return -ENODEV;
	}
	/*
	 * All-context for the module's global flushes, single-context for
	 * its flushes of the TD's EPTP at VP.ENTER and VP.FLUSH (tdx/).
	 */
	if (!vmx_has_ept_cap(&vmx_caps, VMX_EPT_INVEPT_ALL) ||
	    !vmx_has_ept_cap(&vmx_caps, VMX_EPT_INVEPT_SINGLE)) {
		pr_err("vm %s: secure = on needs INVEPT single-context and all-context\n",
		       vm->name);
		return -ENODEV;
	}
	ret = module_init();
	if (ret) {
		return ret;
	}
	sec = palloc_page_zeroed();
	if (!sec) {
		return -ENOMEM;
	}
	vm->arch.secure = sec;
	sec->vm = vm;
	sec->shared_bit = BIT(SECURE_GPAW - 1);
	sec->shared_pages = ALIGN_UP(((vm->ram_size >> PAGE_SHIFT) + 7) / 8,
				     PAGE_SIZE) >> PAGE_SHIFT;
	if (palloc_alloc(sec->shared_pages, 1, &pa)) {
		sec->shared_pages = 0;
		return -ENOMEM;
	}
	sec->shared = (uint8_t *)(uintptr_t)pa;
	memset(sec->shared, 0, sec->shared_pages << PAGE_SHIFT);
	/*
	 * Nothing of the RAM may be zeroed lazily later: a page the module
	 * owns is not the hypervisor's to write (vmm/ramzero.c).
	 */
	vm_ram_prepare(vm, &vm->memslots[0], 0, vm->ram_size);
	sm_get_stats(&before);
	ret = build_td(vm, sec);
	sm_get_stats(&after);
	if (ret) {
		return ret;
	}
	sm_td_info(sec->tdr, &info);
	pr_info("vm %s: secure: TD built through the module: %llu pages added (PAGE.ADD %llu, SEPT.ADD %llu), MR.FINALIZE, MRTD 0x%016llx, shared bit %u\n",
		vm->name, (unsigned long long)sec->added_pages,
		(unsigned long long)(after.calls[SM_LEAF_PAGE_ADD] -
				     before.calls[SM_LEAF_PAGE_ADD]),
		(unsigned long long)(after.calls[SM_LEAF_SEPT_ADD] -
				     before.calls[SM_LEAF_SEPT_ADD]),
		(unsigned long long)info.mrtd, SECURE_GPAW - 1);
	protection_audit(vm, "after build");
	return 0;
}

/* ---- The lockstep audit ------------------------------------------------- */

/*
 * Every page of RAM, in the three tables that may map it: a private page is
 * mapped by the mirror exactly when the S-EPT maps it (MAPPED or PENDING,
 * same page, a 4 KiB leaf) and never by the direct root; a shared page only
 * by the direct root, the S-EPT entry FREE. Returns the mismatches (the
 * first few printed); *@priv, *@pending, *@shared count the leaves.
 */
static unsigned int lockstep_audit(struct vm *vm, uint64_t *priv,
				   uint64_t *pending, uint64_t *shared)
{
	struct x86_secure *sec = sec_of(vm);
	struct s2pt *mirror = mirror_pt(vm), *direct = direct_pt(vm);
	unsigned int bad = 0;

	*priv = *pending = *shared = 0;
	for (gpa_t g = vm->ram_gpa; mirror && direct &&
	     g < vm->ram_gpa + vm->ram_size; g += PAGE_SIZE) {
		paddr_t pa = vm->ram_pa + (g - vm->ram_gpa);
		struct s2_translation tm, td;
		bool in_m, in_d;
		struct sm_out out = { 0 };
		unsigned int st = SM_SEPT_FREE, level = 0;
		uint64_t idx = (g - vm->ram_gpa) >> PAGE_SHIFT;
		bool in_s, ok;

		s2_mmu_read_lock(&vm->mmu);
		in_m = !s2pt_lookup(mirror, g, &tm);
		in_d = !s2pt_lookup(direct, g | sec->shared_bit, &td);
		s2_mmu_read_unlock(&vm->mmu);

		if (sm_sept_rd(sec->tdr, g, &out) == SM_SUCCESS) {
			level = out.level_state & 0xff;
			st = (out.level_state >> 8) & 0xff;
		}
		in_s = level == 0 && (st == SM_SEPT_MAPPED ||
				      st == SM_SEPT_PENDING);
		ok = in_m == in_s && (!in_d || td.pa == pa) &&
		     (!in_m || (tm.pa == pa && tm.level == 0 &&
				(out.entry & EPT_PA_MASK) == pa)) &&
		     (page_shared(sec, idx) ? !in_m : !in_d) &&
		     (in_s || st == SM_SEPT_FREE || st == SM_SEPT_NL_MAPPED);
		/* A leaked page: the mirror forgot it, the module kept it. */
		if (s2_ext_page_leaked(&sec->ext, pa)) {
			ok = !in_m && !in_d;
		}
		*priv += in_m;
		*pending += in_s && st == SM_SEPT_PENDING;
		*shared += in_d;
		if (!ok && bad++ < 4) {
			pr_err("vm %s: secure: lockstep audit: GPA 0x%llx: mirror %d, S-EPT level %u state %u, shared leaf %d, %s\n",
			       vm->name, (unsigned long long)g, in_m, level, st,
			       in_d, page_shared(sec, idx) ? "shared" : "private");
		}
	}
	return bad;
}

/* ---- Teardown ------------------------------------------------------------ */

void arch_secure_vm_teardown(struct vm *vm)
{
	struct x86_secure *sec = sec_of(vm);
	struct sm_reflect_result res;
	struct sm_td_info info;

	if (!sec || !sec->tdr) {
		return;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		secure_vm_leave(&vm->vcpus[i]);
	}
	if (sm_td_info(sec->tdr, &info) == SM_SUCCESS &&
	    info.state == SM_TD_TEARDOWN) {
		return;
	}
	protection_audit(vm, "at the end");
	{
		uint64_t priv, pending, shared;
		unsigned int bad = lockstep_audit(vm, &priv, &pending,
						  &shared);

		if (bad) {
			pr_err("WARNING: vm %s: secure: lockstep audit: %u pages where mirror, S-EPT and direct root disagree\n",
			       vm->name, bad);
			warn_count++;
		} else {
			pr_info("vm %s: secure: lockstep audit: %llu private leaves (%llu pending) in mirror and S-EPT alike, %llu shared leaves, 0 mismatches\n",
				vm->name, (unsigned long long)priv,
				(unsigned long long)pending,
				(unsigned long long)shared);
		}
	}
	/* VP.FLUSH, VPFLUSHDONE, CACHE.WB, KEY.FREEID (KVM's order). */
	if (sm_td_teardown(sec->tdr, sec->tdvpr, vm->nr_vcpus, &res)) {
		pr_err("WARNING: vm %s: the secure module refused its teardown (0x%llx): its pages are kept\n",
		       vm->name, (unsigned long long)res.status);
		warn_count++;
	}
	/* The summary waits for the release (the RECLAIMs come after). */
	if (sm_td_info(sec->tdr, &info) == SM_SUCCESS) {
		sec->end_tlb_flushes = info.tlb_flushes;
	}
	sec->torn_down = true;
}

/* Give one control page back: RECLAIM, WBINVD; kept (true) when refused. */
static bool release_control_page(struct vm *vm, paddr_t pa)
{
	struct sm_reflect_result res;

	if (!pa) {
		return false;
	}
	if (sm_release_page(pa, &res) || !sm_page_releasable(pa)) {
		pr_err("WARNING: vm %s: the secure module keeps page 0x%llx (0x%llx): leaked\n",
		       vm->name, (unsigned long long)pa,
		       (unsigned long long)res.status);
		warn_count++;
		return true;
	}
	palloc_free(pa, 1);
	return false;
}

/*
 * The VM's last secure line, once every page went back or was leaked:
 * guest pages (the mirror's records), S-EPT table pages the module kept,
 * control pages (TDVPR, root, TDR) and RAM pages kept from the allocator.
 */
static void end_summary(struct vm *vm, struct x86_secure *sec,
			uint64_t control, uint64_t ram)
{
	uint64_t pages = sec->ext.stats.leaked_pages;
	uint64_t tables = MAX(sec->mirror.leaked_tables,
			      sec->ext.stats.leaked_tables);

	pr_info("vm %s: secure: end: %llu accepts, %llu pages to shared, %llu to private, %llu MMIO requests, %llu private buffers refused, %llu calls denied, %llu TLB flushes by the module, %llu pages leaked, %llu table pages leaked, %llu control pages leaked, %llu pages of RAM kept\n",
		vm->name, (unsigned long long)sec->stats_accepts,
		(unsigned long long)sec->stats_to_shared,
		(unsigned long long)sec->stats_to_private,
		(unsigned long long)sec->stats_mmio,
		(unsigned long long)sec->stats_refused_buffers,
		(unsigned long long)sec->stats_denied,
		(unsigned long long)sec->end_tlb_flushes,
		(unsigned long long)pages, (unsigned long long)tables,
		(unsigned long long)control, (unsigned long long)ram);
	if (pages || tables || control || ram) {
		pr_err("WARNING: vm %s: secure: the teardown leaked %llu guest pages, %llu table pages and %llu control pages\n",
		       vm->name, (unsigned long long)pages,
		       (unsigned long long)tables, (unsigned long long)control);
		warn_count++;
	}
}

void arch_secure_vm_release(struct vm *vm)
{
	struct x86_secure *sec = sec_of(vm);
	uint64_t kept = 0, control = 0;

	if (!sec) {
		return;
	}
	/* The roots are gone: the mirror gave back every leaf it could. */
	for (unsigned int i = 0; i < VM_MAX_CPUS; i++) {
		control += release_control_page(vm, sec->tdvpr[i]);
	}
	control += release_control_page(vm, sec->root);
	control += release_control_page(vm, sec->tdr);	/* the TDR last */
	/*
	 * RAM goes back page by page when the module kept any: a page it
	 * refused to give back is never handed out again.
	 */
	for (uint64_t off = 0; vm->ram_pa && off < vm->ram_size;
	     off += PAGE_SIZE) {
		paddr_t pa = vm->ram_pa + off;

		kept += s2_ext_page_leaked(&sec->ext, pa) ||
			!sm_page_releasable(pa);
	}
	for (uint64_t off = 0; kept && vm->ram_pa && off < vm->ram_size;
	     off += PAGE_SIZE) {
		paddr_t pa = vm->ram_pa + off;

		if (!s2_ext_page_leaked(&sec->ext, pa) &&
		    sm_page_releasable(pa)) {
			palloc_free(pa, 1);
		}
	}
	if (kept) {
		vm->ram_pa = 0;	/* what is left never goes back */
	}
	if (kept) {
		pr_err("vm %s: secure: %llu pages of RAM stay with the module (leaked, never reused)\n",
		       vm->name, (unsigned long long)kept);
	}
	if (sec->torn_down) {
		end_summary(vm, sec, control, kept);
	}
	vm->mmu.ext = NULL;
	if (sec->shared_pages) {
		palloc_free((paddr_t)(uintptr_t)sec->shared, sec->shared_pages);
	}
	vm->arch.secure = NULL;
	palloc_free((paddr_t)(uintptr_t)sec, 1);
}

/* ---- Entry and exit ------------------------------------------------------ */

bool secure_vm_prepare_entry(struct vcpu *v, uint64_t *eptp)
{
	struct x86_secure *sec = sec_of(v->vm);
	paddr_t shared = vcpu_s2(v)->root;
	sm_status_t s;

	if (shared != sec->shared_set) {
		s = sm_td_set_shared_root(sec->tdr, shared);
		if (s) {
			vm_bug(v->vm, "the module refused the shared EPT root (0x%llx)",
			       (unsigned long long)s);
			return false;
		}
		sec->shared_set = shared;
	}
	if (!sec->in_td[v->id]) {
		s = sm_vp_enter(sec->tdvpr[v->id]);
		if (s) {
			vm_bug(v->vm, "TDH.VP.ENTER of vCPU %u refused (0x%llx)",
			       v->id, (unsigned long long)s);
			return false;
		}
		sec->in_td[v->id] = true;
	}
	*eptp = sm_td_eptp(sec->root, SECURE_LEVELS);
	/*
	 * Compare with the EPTP the VMCS really holds, not the cached one:
	 * whatever moved the CPU off the module's root since the last entry
	 * is undone here (load_root rewrites it).
	 */
	v->arch.eptp = vmread(VMCS_EPT_POINTER);
	return true;
}

void secure_vm_leave(struct vcpu *v)
{
	struct x86_secure *sec = sec_of(v->vm);
	sm_status_t s;

	if (!sec || !sec->in_td[v->id]) {
		return;
	}
	s = sm_vp_exit(sec->tdvpr[v->id]);
	sec->in_td[v->id] = false;
	if (s) {
		vm_bug(v->vm, "the module refused the exit of vCPU %u (0x%llx)",
		       v->id, (unsigned long long)s);
	}
}

/* ---- Faults -------------------------------------------------------------- */

/* A private page: PAGE.AUG through the mirror (pending until accepted). */
static bool fault_private(struct vcpu *v, gpa_t g)
{
	struct vm *vm = v->vm;
	struct x86_secure *sec = sec_of(vm);
	struct s2_fault_result r;
	struct s2pt *mirror = mirror_pt(vm);
	gpa_t page = ALIGN_DOWN(g, PAGE_SIZE);
	uint64_t idx;
	int ret;

	if (!ram_page(vm, page, &idx)) {
		vm_fail(vm, "private GPA 0x%llx is not RAM: a secure VM's MMIO is on its shared half",
			(unsigned long long)g);
		return false;
	}
	if (page_shared(sec, idx)) {
		vm_fail(vm, "private access to GPA 0x%llx, which the guest converted to shared",
			(unsigned long long)g);
		return false;
	}
	if (!mirror) {
		vm_bug(vm, "no mirror root");
		return false;
	}
	s2_mmu_read_lock(&vm->mmu);	/* faults: shared (docs/mmu.md) */
	ret = s2pt_map_fault(mirror, g, page, page + PAGE_SIZE,
			     vm->ram_pa + (page - vm->ram_gpa), S2_PROT_RWX, &r);
	s2_mmu_read_unlock(&vm->mmu);
	if (!ret || ret == -EAGAIN) {
		vm->ctr[STRATA_CTR_S2_FAULTS]++;
		return vm_running(vm);	/* -EAGAIN: busy or frozen, refault */
	}
	if (ret == -EEXIST && r.found == S2_FAULT_LEAF) {
		/*
		 * Mapped already, and still an exit: the page is pending and
		 * the #VE it raises could not be delivered (the guest's #VE
		 * information page is busy), or the guest touched it while
		 * delivering an event.
		 */
		vm_fail(vm, "vCPU %u touched pending private page 0x%llx and cannot take the #VE (its #VE information page is busy)",
			v->id, (unsigned long long)g);
		return false;
	}
	if (vm_running(vm)) {
		vm_fail(vm, "cannot map private GPA 0x%llx (%d)",
			(unsigned long long)g, ret);
	}
	return false;
}

/* A shared page of RAM in the direct root, or the #VE MMIO SPTE. */
static bool fault_shared(struct vcpu *v, gpa_t gpa, unsigned int acc)
{
	struct vm *vm = v->vm;
	struct x86_secure *sec = sec_of(vm);
	struct s2pt *direct = vcpu_s2(v);
	gpa_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
	gpa_t g = page & ~sec->shared_bit;
	struct s2_fault_result r;
	uint64_t idx;
	int ret;

	if (ram_page(vm, g, &idx)) {
		if (!page_shared(sec, idx)) {
			vm_fail(vm, "shared access to GPA 0x%llx, whose page is private",
				(unsigned long long)gpa);
			return false;
		}
		s2_mmu_read_lock(&vm->mmu);
		ret = s2pt_map_fault(direct, gpa, page, page + PAGE_SIZE,
				     vm->ram_pa + (g - vm->ram_gpa),
				     S2_PROT_RWX, &r);
		s2_mmu_read_unlock(&vm->mmu);
		if (!ret || (ret == -EEXIST && r.found == S2_FAULT_LEAF)) {
			vm->ctr[STRATA_CTR_S2_FAULTS]++;
			return true;
		}
		vm_fail(vm, "cannot map shared GPA 0x%llx (%d)",
			(unsigned long long)gpa, ret);
		return false;
	}
	if (acc & VM_ACC_X) {
		vm_fail(vm, "instruction fetch from shared GPA 0x%llx, which no memory backs",
			(unsigned long long)gpa);
		return false;
	}
	/*
	 * Unbacked: the MMIO SPTE (value 0, SUPPRESS_VE clear) makes the
	 * guest's next access a #VE, which its handler turns into an MMIO
	 * request. Strata never decodes a secure guest's instruction: an
	 * SPTE that exists already and still exited means the guest's #VE
	 * information page is busy.
	 */
	/* The same budget of table pages as vmm/fault.c's MMIO SPTEs. */
	if (direct->counters.mmio_tables >= VM_MMIO_TABLE_BUDGET) {
		vm_fail(vm, "MMIO at shared GPA 0x%llx: the VM's %u table pages for MMIO SPTEs are used up",
			(unsigned long long)gpa, VM_MMIO_TABLE_BUDGET);
		return false;
	}
	s2_mmu_write_lock(&vm->mmu);	/* MMIO SPTEs: exclusive */
	ret = s2pt_set_mmio(direct, page, vm_mmio_gen(vm));
	s2_mmu_write_unlock(&vm->mmu);
	if (!ret) {
		return true;
	}
	if (ret == -EEXIST) {
		vm_fail(vm, "vCPU %u: MMIO at shared GPA 0x%llx cannot be delivered as #VE (its #VE information page is busy)",
			v->id, (unsigned long long)gpa);
	} else {
		vm_fail(vm, "no MMIO SPTE for shared GPA 0x%llx (%d): a secure guest's MMIO needs one for its #VE",
			(unsigned long long)gpa, ret);
	}
	return false;
}

bool secure_vm_ept_fault(struct vcpu *v, uint64_t gpa, unsigned int acc)
{
	struct x86_secure *sec = sec_of(v->vm);

	if (gpa & ~(BIT(SECURE_GPAW) - 1)) {
		vm_fail(v->vm, "GPA 0x%llx is beyond the TD's GPAW (%u bits)",
			(unsigned long long)gpa, SECURE_GPAW);
		return false;
	}
	/* Private pages are RWX: every private violation is a write. */
	return (gpa & sec->shared_bit) ? fault_shared(v, gpa, acc) :
					 fault_private(v, gpa);
}

/* ---- The guest's calls --------------------------------------------------- */

static uint64_t *gpr(struct vcpu *v, unsigned int r)
{
	return &v->arch.gprs[r];
}

/* TDG.MEM.PAGE.ACCEPT: false when the page must be added first. */
static long td_accept(struct vcpu *v, uint64_t gpa, bool *need_aug)
{
	struct x86_secure *sec = sec_of(v->vm);
	struct sm_out out;
	uint64_t idx;
	sm_status_t s;

	*need_aug = false;
	if (!IS_ALIGNED(gpa, PAGE_SIZE) || (gpa & sec->shared_bit) ||
	    !ram_page(v->vm, gpa, &idx)) {
		return STRATA_HC_EINVAL;
	}
	if (page_shared(sec, idx)) {
		return STRATA_HC_EINVAL;	/* convert it to private first */
	}
	s = sm_guest_accept(sec->tdvpr[v->id], gpa, 0, &out);
	if (s == SM_SUCCESS) {
		sec->stats_accepts++;
		return STRATA_HC_OK;
	}
	if (sm_status_code(s) == SM_PAGE_ALREADY_ACCEPTED) {
		return STRATA_HC_EBUSY;
	}
	if (sm_status_code(s) == SM_EPT_WALK_FAILED ||
	    (sm_status_code(s) == SM_EPT_ENTRY_STATE_INCORRECT &&
	     ((out.level_state >> 8) & 0xff) == SM_SEPT_FREE)) {
		*need_aug = true;	/* TDX: an EPT violation to the host */
		return STRATA_HC_OK;
	}
	vmx_report(v, "TD_ACCEPT of 0x%llx refused by the module (0x%llx)",
		   (unsigned long long)gpa, (unsigned long long)s);
	return STRATA_HC_EINVAL;
}

/*
 * The calls the module serves with the vCPU still in the TD. TD_ACCEPT of
 * a page not added yet becomes what TDX makes of it: an exit to Strata,
 * which adds it (PAGE.AUG) and lets the guest run the call again.
 */
bool secure_vm_after_exit(struct vcpu *v)
{
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON) & 0xffff;
	unsigned int cpl = (vmread(VMCS_GUEST_SS_AR) >> AR_DPL_SHIFT) & 3;
	uint64_t fn = *gpr(v, X86_REG_RAX);
	bool need_aug = false;
	long st;

	if (reason != EXIT_REASON_VMCALL || cpl ||
	    (fn != STRATA_HC_TD_INFO && fn != STRATA_HC_TD_ACCEPT)) {
		secure_vm_leave(v);
		return false;
	}
	v->vm->ctr[STRATA_CTR_HYPERCALLS]++;
	if (fn == STRATA_HC_TD_INFO) {
		*gpr(v, X86_REG_RBX) = SECURE_GPAW - 1;
		st = STRATA_HC_OK;
	} else {
		st = td_accept(v, *gpr(v, X86_REG_RBX), &need_aug);
	}
	if (need_aug) {
		/* The VMCALL runs again once the page is there. */
		secure_vm_leave(v);
		fault_private(v, *gpr(v, X86_REG_RBX));
		return true;
	}
	*gpr(v, X86_REG_RAX) = (uint64_t)st;
	vmx_skip_insn(v);
	return true;
}

/* Convert [@g, @g + @size) of RAM; @to_shared says which way. */
static long map_gpa(struct vcpu *v, gpa_t g, uint64_t size, bool to_shared,
		    uint64_t *changed)
{
	struct vm *vm = v->vm;
	struct x86_secure *sec = sec_of(vm);
	struct sm_stats before, after;
	struct s2pt *mirror = mirror_pt(vm), *direct = direct_pt(vm);
	uint64_t idx, n = 0;
	bool loud;
	int ret = 0;

	/* The range within RAM, without forming g + size (it can wrap). */
	if (!size || !IS_ALIGNED(g, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) ||
	    !ram_page(vm, g, &idx) ||
	    size > vm->ram_size - (g - vm->ram_gpa)) {
		return STRATA_HC_EINVAL;
	}
	if (!mirror || !direct) {
		vm_bug(vm, "a secure VM without its roots");
		return STRATA_HC_ENOMEM;
	}
	sm_get_stats(&before);
	for (gpa_t p = g; p < g + size && !ret; p += PAGE_SIZE) {
		ram_page(vm, p, &idx);
		if (page_shared(sec, idx) == to_shared) {
			continue;
		}
		/* The old mapping goes before the new one can exist. */
		s2_mmu_write_lock(&vm->mmu);
		ret = to_shared ? s2pt_unmap(mirror, p, PAGE_SIZE) :
				  s2pt_unmap(direct, p | sec->shared_bit,
					     PAGE_SIZE);
		s2_mmu_write_unlock(&vm->mmu);
		if (!ret) {
			page_set_shared(sec, idx, to_shared);
			n++;
		}
	}
	sm_get_stats(&after);
	*changed = n;
	if (to_shared) {
		sec->stats_to_shared += n;
	} else {
		sec->stats_to_private += n;
	}
	/* The first conversions at info level, the rest (a guest's) debug. */
	loud = sec->map_gpa_logged < MAP_GPA_LOG_INFO;
	sec->map_gpa_logged += loud;
	printk(loud ? LOG_INFO : LOG_DEBUG,
	       "vm %s: secure: MAP_GPA 0x%llx+0x%llx to %s: %llu pages; module calls BLOCK %llu, TRACK %llu, REMOVE %llu, WBINVD %llu\n",
		vm->name, (unsigned long long)g, (unsigned long long)size,
		to_shared ? "shared" : "private", (unsigned long long)n,
		(unsigned long long)(after.calls[SM_LEAF_RANGE_BLOCK] -
				     before.calls[SM_LEAF_RANGE_BLOCK]),
		(unsigned long long)(after.calls[SM_LEAF_MEM_TRACK] -
				     before.calls[SM_LEAF_MEM_TRACK]),
		(unsigned long long)(after.calls[SM_LEAF_PAGE_REMOVE] -
				     before.calls[SM_LEAF_PAGE_REMOVE]),
		(unsigned long long)(after.calls[SM_LEAF_PAGE_WBINVD] -
				     before.calls[SM_LEAF_PAGE_WBINVD]));
	if (loud && sec->map_gpa_logged == MAP_GPA_LOG_INFO) {
		pr_info("vm %s: secure: further MAP_GPA calls are logged at debug level\n",
			vm->name);
	}
	if (ret) {
		/* -EIO: the module refused; the VM was stopped (leak). */
		return ret == -ENOMEM ? STRATA_HC_ENOMEM : STRATA_HC_EINVAL;
	}
	return STRATA_HC_OK;
}

/* #VE.RequestMMIO: the access the guest's #VE handler decoded. */
static long mmio_request(struct vcpu *v, uint64_t gpa, uint64_t how,
			 uint64_t val, uint64_t *value)
{
	struct vm *vm = v->vm;
	struct x86_secure *sec = sec_of(vm);
	unsigned int size = how & 0xff;
	bool write = how & STRATA_HC_MMIO_WRITE;
	gpa_t g = gpa & ~sec->shared_bit;
	uint64_t idx, v64 = val;

	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    (how & ~(0xffULL | STRATA_HC_MMIO_WRITE)) ||
	    !IS_ALIGNED(gpa, size) || !(gpa & sec->shared_bit) ||
	    gpa >= BIT(SECURE_GPAW) || ram_page(vm, g, &idx)) {
		return STRATA_HC_EINVAL;	/* only unbacked shared GPAs */
	}
	if (write && size < 8) {
		v64 &= BIT(8 * size) - 1;
	}
	sec->stats_mmio++;
	vm_io_access(v, IO_MMIO, g, size, write, &v64);
	*value = write ? 0 : v64;
	return STRATA_HC_OK;
}

bool arch_secure_host_access(struct vm *vm, gpa_t gpa, uint64_t len)
{
	struct x86_secure *sec = sec_of(vm);
	uint64_t idx;

	if (!sec || !sec->tdr) {
		return true;	/* building: the image is not the TD's yet */
	}
	for (gpa_t p = ALIGN_DOWN(gpa, PAGE_SIZE); p < gpa + len;
	     p += PAGE_SIZE) {
		if (!ram_page(vm, p, &idx) || !page_shared(sec, idx)) {
			return false;
		}
	}
	return true;
}

/* CONSOLE_WRITE: the buffer must lie in shared pages. */
static long console_write(struct vcpu *v, uint64_t gpa, uint64_t len)
{
	struct vm *vm = v->vm;
	struct x86_secure *sec = sec_of(vm);
	gpa_t g = gpa & ~sec->shared_bit;
	uint64_t idx;
	const char *s;

	if (!len) {
		return STRATA_HC_OK;
	}
	if (len > PAGE_SIZE || g + len < g) {
		return STRATA_HC_EINVAL;
	}
	for (gpa_t p = ALIGN_DOWN(g, PAGE_SIZE); p < g + len; p += PAGE_SIZE) {
		if (!(gpa & sec->shared_bit) || !ram_page(vm, p, &idx) ||
		    !page_shared(sec, idx)) {
			sec->stats_refused_buffers++;
			vmx_report(v, "console write from private GPA 0x%llx refused: a secure VM's buffers must be shared",
				   (unsigned long long)gpa);
			return STRATA_HC_DENIED;
		}
	}
	s = vm_gpa_to_host(vm, g, len);
	if (!s) {
		return STRATA_HC_EINVAL;
	}
	for (uint64_t i = 0; i < len; i++) {
		vm_console_putc(vm, s[i]);
	}
	return STRATA_HC_OK;
}

#ifdef CONFIG_TEST
/* STRATA_HC_TEST_CORE_WRITE: a deliberate write from the core. */
static long test_core_write(struct vcpu *v, uint64_t gpa)
{
	struct vm *vm = v->vm;
	uint64_t idx;
	paddr_t pa;

	if ((gpa & sec_of(vm)->shared_bit) || !ram_page(vm, gpa, &idx)) {
		return STRATA_HC_EINVAL;
	}
	pa = vm->ram_pa + (gpa - vm->ram_gpa);
	pr_info("vm %s: test: the core writes to private GPA 0x%llx (PA 0x%llx, %s in the identity map)\n",
		vm->name, (unsigned long long)gpa, (unsigned long long)pa,
		x86_idmap_writable(pa) ? "writable" : "read-only");
	*(volatile uint8_t *)(uintptr_t)pa = 0x5a;
	pr_err("vm %s: test: the write to a module page did not fault\n",
	       vm->name);
	return STRATA_HC_OK;
}
#endif

static void protection_audit(struct vm *vm, const char *when)
{
	uint64_t pages, writable = sm_protection_audit(&pages);

	if (writable) {
		pr_err("WARNING: vm %s: secure: %llu of the module's %llu pages are writable by the hypervisor\n",
		       vm->name, (unsigned long long)writable,
		       (unsigned long long)pages);
		warn_count++;
		return;
	}
	pr_info("vm %s: secure: protection audit %s: %llu module pages, none writable by the hypervisor\n",
		vm->name, when, (unsigned long long)pages);
}

bool arch_secure_hypercall(struct vcpu *v, uint64_t fn, const uint64_t a[3],
			   uint64_t *value, long *status)
{
	struct x86_secure *sec = sec_of(v->vm);

	switch (fn) {
	case STRATA_HC_CONSOLE_WRITE:
		*status = console_write(v, a[0], a[1]);
		return true;
	case STRATA_HC_MAP_GPA:
		*status = map_gpa(v, a[0] & ~sec->shared_bit, a[1],
				  (a[0] & sec->shared_bit) != 0, value);
		return true;
	case STRATA_HC_MMIO:
		*status = mmio_request(v, a[0], a[1], a[2], value);
		return true;
#ifdef CONFIG_TEST
	case STRATA_HC_TEST_CORE_WRITE:
		*status = test_core_write(v, a[0]);
		return true;
	case STRATA_HC_TEST_SM_BUSY:
		if (a[0] > 1 || a[2] < 1 || a[2] > 8) {
			*status = STRATA_HC_EINVAL;
			return true;
		}
		/* This TD's calls only: another VM's go on untouched. */
		sm_test_inject_td(sec_of(v->vm)->tdr,
				  a[0] ? SM_LEAF_RANGE_BLOCK :
					 SM_LEAF_PAGE_REMOVE,
				  SM_OPERAND_BUSY, (unsigned int)a[2]);
		pr_info("vm %s: test: the module's next %llu %s calls answer OPERAND_BUSY\n",
			v->vm->name, (unsigned long long)a[2],
			a[0] ? "BLOCK" : "REMOVE");
		*status = STRATA_HC_OK;
		return true;
#endif
	case STRATA_HC_ZAP:
	case STRATA_HC_WRPROTECT:
	case STRATA_HC_INVALIDATE_ROOTS:
	case STRATA_HC_MEMSLOT_ADD ... STRATA_HC_VIEW_CURRENT:
	case STRATA_HC_TEST_MMIO_GEN:
	case STRATA_HC_TEST_CORRUPT_ROLE:
		/* They would change tables the module must see change. */
		sec->stats_denied++;
		*status = STRATA_HC_DENIED;
		return true;
	}
	return false;
}
