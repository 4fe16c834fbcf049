// SPDX-License-Identifier: MIT
/* Reading the boot bundle and the VM configuration at start-up. */
#include <core/arch.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/loader.h>
#include <vmm/vmm.h>

static void add_module(struct bundle *b, const struct boot_module *m)
{
	const void *data = (const void *)(uintptr_t)m->base;
	char name[BUNDLE_NAME_MAX];
	size_t len = 0;

	/*
	 * The arm64 initrd is the bundle; an x86 module that is a cpio of any
	 * kind is meant as one. bundle_from_cpio() names what is not newc.
	 */
	if (arch_elf_machine == 183 || bundle_archive_kind(data, m->size)) {
		bundle_from_cpio(b, data, m->size);
		return;
	}
	while (m->name[len] && m->name[len] != ' ' && len < sizeof(name) - 1) {
		len++;
	}
	memcpy(name, m->name, len);
	name[len] = '\0';
	bundle_add(b, name, data, m->size);
}

static const char *image_format(const struct vm_config *vm,
				const struct bundle_file *f)
{
	if (is_elf64_for(f->data, f->size, arch_elf_machine)) {
		return "elf64";
	}
	if (arch_elf_machine == 183 && is_arm64_image(f->data, f->size)) {
		return "arm64-image";
	}
	if (arch_elf_machine == 62 && is_multiboot(f->data, f->size)) {
		return "multiboot";
	}
	if (arch_elf_machine == 62 && is_bzimage(f->data, f->size)) {
		return "bzimage";
	}
	if (vm->has_load_addr) {
		return "raw";
	}
	return NULL;
}

static bool check_vm(const struct vm_config *vm, const struct bundle *b,
		     const char *config_name)
{
	const struct bundle_file *k = bundle_find(b, vm->kernel);
	const char *fmt = image_format(vm, k);

	if (!fmt) {
		pr_err("vm %s: never ran: %s:%u: kernel '%s' is not %s for %s (expected one, or 'load = ADDR' for a raw binary)\n",
		       vm->name, config_name, vm->line, vm->kernel,
		       arch_elf_machine == 183 ? "an ELF64 or a Linux arm64 Image" :
		       "an ELF64, a multiboot kernel or a bzImage", arch_name);
		return false;
	}
	pr_info("vm %s: kernel %s (%s, %zu bytes), memory %llu MiB, %u cpu%s%s%s\n",
		vm->name, vm->kernel, fmt, k->size,
		(unsigned long long)(vm->memory >> 20), vm->cpus,
		vm->cpus > 1 ? "s" : "", vm->initrd[0] ? ", initrd " : "",
		vm->initrd);
	if (vm->cmdline[0]) {
		pr_info("vm %s: cmdline '%s'\n", vm->name, vm->cmdline);
	}
	return true;
}

unsigned int vmm_read_config(const struct platform *p, const char *config_name,
			     struct bundle *b, struct vm_config *vms)
{
	const struct bundle_file *cfg;
	struct cfg_result res;
	unsigned int n, good = 0;

	*b = (struct bundle){ 0 };
	vmm_tally = (struct vmm_tally){ 0 };
	for (unsigned int i = 0; i < p->nr_modules; i++) {
		add_module(b, &p->modules[i]);
	}
	pr_info("bundle: %u file%s\n", b->nr_files, b->nr_files == 1 ? "" : "s");
	for (unsigned int i = 0; i < b->nr_files; i++) {
		pr_info("  %s (%zu bytes)\n", b->files[i].name, b->files[i].size);
	}
	vmm_tally.errors = b->errors;
	cfg = bundle_find(b, config_name);
	if (!cfg) {
		pr_err("bundle: no %s (expected the VM configuration file in the bundle), so no VMs\n",
		       config_name);
		vmm_tally.errors++;
		return 0;
	}
	n = vm_config_parse(cfg->data, cfg->size, config_name, b, vms,
			    VM_MAX_VMS, &res);
	for (unsigned int i = 0; i < n; i++) {
		if (check_vm(&vms[i], b, config_name)) {
			vms[good++] = vms[i];
		}
	}
	vmm_tally.configured = res.sections;
	vmm_tally.refused = res.sections - good;
	vmm_tally.errors += res.errors + (n - good);
	pr_info("%s: %u VM%s configured, %u error%s\n", config_name, good,
		good == 1 ? "" : "s", res.errors + (n - good),
		res.errors + (n - good) == 1 ? "" : "s");
	return good;
}
