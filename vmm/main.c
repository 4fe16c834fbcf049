// SPDX-License-Identifier: MIT
/*
 * The generic start of Strata: report what the boot code found, set up the
 * page allocator, check the CPU's virtualization support, then run.
 */
#include <core/arch.h>
#include <core/percpu.h>
#include <core/platform.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <mm/palloc.h>
#include <vmm/cmdline.h>
#include <vmm/loader.h>
#include <vmm/vm.h>
#include <vmm/vmm.h>

#ifndef STRATA_VERSION
#define STRATA_VERSION "unknown"
#endif

struct hv_options hv_options;
static struct bundle bundle;
static struct vm_config vm_configs[VM_MAX_VMS];
static struct vm vms[VM_MAX_VMS];

/* Why vm_build() failed with @ret, when no loader message says it better. */
static const char *build_error(int ret)
{
	switch (ret) {
	case -ENOMEM:
		return "not enough free memory for its RAM, tables or vCPUs";
	case -ENOENT:
		return "a file it names is not in the bundle";
	case -ERANGE:
		return "its kernel or initrd does not fit in its memory";
	case -ENOEXEC:
		return "its kernel image is malformed";
	case -ENODEV:
	case -ENOTSUP:
		return "it asks for a feature this CPU does not have";
	default:
		return "the architecture could not set it up";
	}
}

/*
 * Build every configured VM; returns how many were built. Each one that
 * cannot be built is reported as `vm NAME: never ran: REASON`.
 */
static unsigned int build_vms(unsigned int nr)
{
	unsigned int built = 0;

	for (unsigned int i = 0; i < nr; i++) {
		int ret;

		loader_clear_error();
		ret = vm_build(&vms[i], &vm_configs[i], &bundle, i);
		if (!ret) {
			built++;
		} else if (loader_error()[0]) {
			pr_err("vm %s: never ran: kernel %s\n",
			       vm_configs[i].name, loader_error());
		} else {
			pr_err("vm %s: never ran: %s\n", vm_configs[i].name,
			       build_error(ret));
		}
	}
	return built;
}

static void destroy_vms(unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		struct s2_counters before, after;

		if (!vms[i].mmu_live) {
			continue;
		}
		s2_mmu_counters(&vms[i].mmu, &before);
		vm_destroy(&vms[i]);
		after = vms[i].mmu.retired;
		pr_info("vm %s: torn down: %llu table pages freed, %llu whole-VMID invalidations\n",
			vm_configs[i].name,
			(unsigned long long)(after.tables_freed -
					     before.tables_freed),
			(unsigned long long)(after.tlbi_vmid -
					     before.tlbi_vmid));
	}
}

/* `selftest=s2`: exercise every VM's table, tear them down, stop. */
static void __noreturn s2_selftest_and_stop(unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		if (vms[i].mmu_live) {
			vm_s2_selftest(&vms[i]);
		}
	}
	destroy_vms(nr);
	palloc_dump();
	arch_stop(3);
}

static void add_range(struct mem_range *arr, unsigned int *nr, paddr_t base,
		      uint64_t size, const char *what)
{
	if (*nr == PLAT_MAX_RANGES) {
		pr_warn("platform: too many ranges, dropping %s 0x%llx+0x%llx\n",
			what, (unsigned long long)base,
			(unsigned long long)size);
		return;
	}
	arr[(*nr)++] = (struct mem_range){ base, size, what };
}

void platform_add_ram(struct platform *p, paddr_t base, uint64_t size)
{
	add_range(p->ram, &p->nr_ram, base, size, "usable");
}

void platform_add_reserved(struct platform *p, paddr_t base, uint64_t size,
			   const char *what)
{
	add_range(p->reserved, &p->nr_reserved, base, size, what);
}

void platform_add_module(struct platform *p, paddr_t base, uint64_t size,
			 const char *name)
{
	if (p->nr_modules == PLAT_MAX_MODULES) {
		pr_warn("platform: too many modules, dropping '%s'\n", name);
		return;
	}
	p->modules[p->nr_modules++] = (struct boot_module){ base, size, name };
	platform_add_reserved(p, base, size, "module");
}

static void print_range(const struct mem_range *r)
{
	pr_info("  0x%016llx-0x%016llx %8llu KiB %s\n",
		(unsigned long long)r->base,
		(unsigned long long)(r->base + r->size - 1),
		(unsigned long long)(r->size >> 10), r->what);
}

static void report_platform(const struct platform *p)
{
	pr_info("boot: %s\n", p->boot_protocol);
	pr_info("command line: '%s'\n", p->cmdline);
	pr_info("memory map:\n");
	for (unsigned int i = 0; i < p->nr_ram; i++) {
		print_range(&p->ram[i]);
	}
	pr_info("reserved:\n");
	for (unsigned int i = 0; i < p->nr_reserved; i++) {
		print_range(&p->reserved[i]);
	}
	pr_info("modules: %u\n", p->nr_modules);
	for (unsigned int i = 0; i < p->nr_modules; i++) {
		const struct boot_module *m = &p->modules[i];

		pr_info("  module %u: 0x%016llx %llu bytes '%s'\n", i,
			(unsigned long long)m->base,
			(unsigned long long)m->size, m->name);
	}
}

static int setup_palloc(const struct platform *p)
{
	int ret = 0;

	palloc_reset();
	for (unsigned int i = 0; i < p->nr_ram && !ret; i++) {
		ret = palloc_add_ram(p->ram[i].base, p->ram[i].size);
	}
	for (unsigned int i = 0; i < p->nr_reserved && !ret; i++) {
		ret = palloc_reserve(p->reserved[i].base, p->reserved[i].size);
	}
	if (!ret) {
		ret = palloc_finalize();
	}
	if (ret) {
		pr_err("page allocator: set-up failed (%d)\n", ret);
		return ret;
	}
	palloc_dump();
	return 0;
}

void strata_main(struct platform *p)
{
	unsigned int nr_vms, nr_built;
	int status;

	hv_parse_cmdline(p->cmdline, &hv_options);
	log_level = hv_options.loglevel;
	s2_audit_on = hv_options.audit;
	vm_entry_audit_on = hv_options.audit;

	pr_info("Strata %s (%s)\n", STRATA_VERSION, arch_name);
	report_platform(p);
	if (setup_palloc(p)) {
		arch_stop(1);
	}
	arch_report_virt_features();

	if (hv_options.selftest_fault) {
		pr_info("selftest: taking a deliberate exception\n");
		arch_selftest_fault();
		pr_err("selftest: the exception returned\n");
		arch_stop(1);
	}
	nr_vms = vmm_read_config(p, hv_options.config, &bundle, vm_configs);
	if (arch_virt_init()) {
		pr_err("Strata: cannot run guests on this CPU; stopping\n");
		arch_stop(2);
	}
	pr_info("Strata: virtualization ready\n");
	nr_pcpus = arch_start_cpus(hv_options.max_cpus ?
				   MIN(hv_options.max_cpus, PCPU_MAX) :
				   PCPU_MAX);
	/* The verdict's rule: README, "Exit status"; vmm_verdict(). */
	if (!vmm_tally.configured) {
		pr_err("Strata: no VM is configured; stopping\n");
		arch_stop(1);
	}
	if (!nr_vms) {
		pr_err("Strata: none of the %u configured VM%s can run; stopping\n",
		       vmm_tally.configured,
		       vmm_tally.configured == 1 ? "" : "s");
		arch_stop(vmm_verdict(vms, 0));
	}
	palloc_dump();
	nr_built = build_vms(nr_vms);
	if (hv_options.selftest_s2) {
		s2_selftest_and_stop(nr_vms);
	}
	if (!nr_built) {
		pr_err("Strata: none of the %u VM%s could be built; stopping\n",
		       nr_vms, nr_vms == 1 ? "" : "s");
		arch_stop(vmm_verdict(vms, nr_vms));
	}
	status = vmm_run(vms, nr_vms);
	destroy_vms(nr_vms);
	palloc_dump();
	arch_stop(status);
}
