// SPDX-License-Identifier: MIT
/*
 * What an x86 guest finds when it starts (arch/guest_layout.h): the emulated
 * COM1 and MMIO test device on its buses, and an area of guest RAM that
 * Strata sets aside for the boot state: identity page tables for 64-bit
 * guests, a GDT, a stack, the #VE information page, and the multiboot
 * information structure for 32-bit multiboot guests.
 */
#include <arch/cpu.h>
#include <arch/guest_acpi.h>
#include <arch/guest_layout.h>
#include <arch/irqchip.h>
#include <arch/pcdev.h>
#include <arch/vmx_run.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/bundle.h>
#include <vmm/devices.h>
#include <vmm/virtio.h>
#include <vmm/vm.h>

#define PTE_P		BIT(0)
#define PTE_RW		BIT(1)
#define PTE_US		BIT(2)
#define PTE_TABLE	(PTE_P | PTE_RW | PTE_US)
#define PTE_PS		BIT(7)
#define PTES		512
#define MAX_PDS		512	/* one PDPT: 512 GiB */

#define GDT_CODE64	0x00af9a000000ffffULL
#define GDT_CODE32	0x00cf9a000000ffffULL
#define GDT_DATA	0x00cf92000000ffffULL

/* Multiboot v1 information (the part Strata fills). */
#define MB1_INFO_MEM		BIT(0)
#define MB1_INFO_CMDLINE	BIT(2)
#define MB1_INFO_MODS		BIT(3)
#define MB1_INFO_MMAP		BIT(6)
#define MB1_INFO_LOADER_NAME	BIT(9)
#define MB1_MMAP_AVAILABLE	1
#define MB1_MMAP_RESERVED	2
#define SZ_1M			0x100000ULL

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
} __packed;

struct mb1_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __packed;

/* A boot module: [mod_start, mod_end) and its command line. */
struct mb1_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
} __packed;

_Static_assert(sizeof(struct mb1_info) == 68, "multiboot info layout");
_Static_assert(sizeof(struct mb1_mmap) == 24, "multiboot mmap entry layout");

/* Offsets inside the multiboot information page. */
#define MBI_MODS_OFF	96	/* the one module: the VM's initrd */
#define MBI_MMAP_OFF	128
#define MBI_NAME_OFF	256
#define MBI_MODNAME_OFF	384
#define MBI_CMDLINE_OFF	512

bool vmx_guest_is_64bit(const struct vm *vm)
{
	return !vm->image.format || strcmp(vm->image.format, "multiboot");
}

bool vmx_guest_is_bzimage(const struct vm *vm)
{
	return vm->image.format && !strcmp(vm->image.format, "bzimage");
}

/* ---- The Linux boot protocol (docs/x86-linux-boot.md) ------------------ */

/* boot_params offsets (Documentation/arch/x86/zero-page.rst, boot.rst). */
#define BP_ACPI_RSDP		0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1
#define BP_TYPE_OF_LOADER	0x210
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_CMDLINE_SIZE		0x238
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128
#define E820_RAM		1
#define E820_RESERVED		2

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __packed;

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/*
 * The guest's memory map, sorted (e820 and the multiboot map): RAM below
 * 640 KiB and from 1 MiB, the ACPI area (0xe0000-0xfffff, when it holds
 * the tables) and Strata's boot area (page tables, GDT, boot_params,
 * command line, stack) reserved, and RAM never over either of them, where
 * ever the boot area lands (below 1 MiB in a tiny VM or one whose image
 * fills RAM). The 640 KiB - 896 KiB hole is left out, as a PC's VGA and
 * option ROM window is. Return: entries written (at most 5: one RAM range
 * split by the boot area, the other whole, the two reserved ones).
 */
#define MAP_MAX		6
static unsigned int build_mem_map(const struct vm *vm,
				  struct e820_entry *e)
{
	uint64_t ram_end = vm->ram_gpa + vm->ram_size;
	gpa_t area = vm->arch.boot_info, area_end = area + vm->arch.boot_size;
	struct { uint64_t lo, hi; } ram[2] = {
		{ vm->ram_gpa, MIN(0xa0000ULL, ram_end) },
		{ MAX(SZ_1M, vm->ram_gpa), ram_end },
	};
	unsigned int n = 0;

	for (unsigned int i = 0; i < 2; i++) {
		uint64_t lo = ram[i].lo, hi = ram[i].hi;

		if (lo >= hi) {
			continue;
		}
		/* RAM minus the boot area: up to two pieces. */
		if (area_end <= lo || area >= hi) {
			e[n++] = (struct e820_entry){ lo, hi - lo, E820_RAM };
			continue;
		}
		if (area > lo) {
			e[n++] = (struct e820_entry){ lo, area - lo, E820_RAM };
		}
		if (area_end < hi) {
			e[n++] = (struct e820_entry){ area_end, hi - area_end,
						      E820_RAM };
		}
	}
	if (vm->arch.acpi) {
		e[n++] = (struct e820_entry){ X86_ACPI_AREA,
					      X86_ACPI_AREA_SIZE,
					      E820_RESERVED };
	}
	if (vm->arch.boot_size) {
		e[n++] = (struct e820_entry){ area, vm->arch.boot_size,
					      E820_RESERVED };
	}
	/* Sort by address (insertion; the ranges do not overlap). */
	for (unsigned int i = 1; i < n; i++) {
		struct e820_entry t = e[i];
		unsigned int j = i;

		while (j && e[j - 1].addr > t.addr) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = t;
	}
	return n;
}

static unsigned int build_e820(const struct vm *vm, struct e820_entry *e)
{
	return build_mem_map(vm, e);
}

/*
 * boot_params for the 64-bit boot protocol: the image's setup header
 * (0x1f1 up to 0x202 + the byte at 0x201) with what a boot loader fills
 * in: type_of_loader 0xff (undefined loader), the command line, the
 * initrd, the e820 map, the RSDP's address.
 */
static int build_boot_params(struct vm *vm, uint8_t *bp, gpa_t cmdline,
			     char *cmd)
{
	const struct bundle_file *k = bundle_find(vm->bundle, vm->cfg->kernel);
	const uint8_t *img = k ? k->data : NULL;
	size_t end, cmax;
	uint32_t csize;
	unsigned int n;

	if (!img || k->size < 0x268) {
		return -ENOEXEC;
	}
	end = MIN((size_t)0x202 + img[0x201], MIN(k->size, (size_t)0x290));
	memcpy(bp + BP_HDR, img + BP_HDR, end - BP_HDR);
	bp[BP_TYPE_OF_LOADER] = 0xff;
	memcpy(&csize, img + BP_CMDLINE_SIZE, 4);
	cmax = MIN((size_t)PAGE_SIZE, (size_t)csize + 1);
	strlcpy(cmd, vm->cfg->cmdline, cmax);
	put32(bp + BP_CMD_LINE_PTR, (uint32_t)cmdline);
	put32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(cmdline >> 32));
	if (vm->initrd_gpa) {
		put32(bp + BP_RAMDISK_IMAGE, (uint32_t)vm->initrd_gpa);
		put32(bp + BP_EXT_RAMDISK_IMAGE,
		      (uint32_t)(vm->initrd_gpa >> 32));
		put32(bp + BP_RAMDISK_SIZE, (uint32_t)vm->initrd_size);
		put32(bp + BP_EXT_RAMDISK_SIZE,
		      (uint32_t)((uint64_t)vm->initrd_size >> 32));
	}
	if (vm->arch.acpi) {
		uint64_t rsdp = X86_ACPI_AREA;

		memcpy(bp + BP_ACPI_RSDP, &rsdp, 8);
	}
	n = build_e820(vm, (struct e820_entry *)(bp + BP_E820_TABLE));
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	return 0;
}

/* Number of page directories mapping [0, max(4 GiB, end of RAM)). */
static unsigned int nr_page_dirs(const struct vm *vm)
{
	uint64_t end = MAX(4 * SZ_1G, vm->ram_gpa + vm->ram_size);

	return MIN(ALIGN_UP(end, SZ_1G) / SZ_1G, MAX_PDS);
}

static void build_page_tables(uint64_t *t, gpa_t base, unsigned int nr_pd)
{
	uint64_t *pml4 = t, *pdpt = t + PTES, *pd = t + 2 * PTES;

	pml4[0] = (base + PAGE_SIZE) | PTE_TABLE;
	for (unsigned int i = 0; i < nr_pd; i++) {
		pdpt[i] = (base + (2 + i) * PAGE_SIZE) | PTE_TABLE;
		for (unsigned int j = 0; j < PTES; j++) {
			pd[i * PTES + j] = ((uint64_t)i * SZ_1G +
					    (uint64_t)j * SZ_2M) |
					   PTE_TABLE | PTE_PS;
		}
	}
}

static void build_mbi(struct vm *vm, uint8_t *page, gpa_t gpa)
{
	struct mb1_info *mbi = (struct mb1_info *)page;
	struct mb1_mmap *mm = (struct mb1_mmap *)(page + MBI_MMAP_OFF);
	uint64_t ram_end = vm->ram_gpa + vm->ram_size;
	unsigned int n = 0;

	mbi->flags = MB1_INFO_MEM | MB1_INFO_CMDLINE | MB1_INFO_MMAP |
		     MB1_INFO_LOADER_NAME;
	mbi->mem_lower = MIN(vm->ram_size, 640 * 1024ULL) >> 10;
	mbi->mem_upper = ram_end > SZ_1M ? (ram_end - SZ_1M) >> 10 : 0;
	{
		struct e820_entry map[MAP_MAX];
		unsigned int nr = build_mem_map(vm, map);

		for (unsigned int i = 0; i < nr; i++) {
			mm[n++] = (struct mb1_mmap){ 20, map[i].addr,
						     map[i].size,
						     map[i].type == E820_RAM ?
						     MB1_MMAP_AVAILABLE :
						     MB1_MMAP_RESERVED };
		}
	}
	mbi->mmap_addr = gpa + MBI_MMAP_OFF;
	mbi->mmap_length = n * sizeof(*mm);
	strlcpy((char *)page + MBI_NAME_OFF, "Strata",
		MBI_MODNAME_OFF - MBI_NAME_OFF);
	mbi->boot_loader_name = gpa + MBI_NAME_OFF;
	strlcpy((char *)page + MBI_CMDLINE_OFF, vm->cfg->cmdline,
		PAGE_SIZE - MBI_CMDLINE_OFF);
	mbi->cmdline = gpa + MBI_CMDLINE_OFF;
	/*
	 * The VM's initrd is its one boot module, as QEMU's -initrd is for
	 * a multiboot kernel; its string is the file's name.
	 */
	if (vm->initrd_gpa) {
		struct mb1_module *mod =
			(struct mb1_module *)(page + MBI_MODS_OFF);

		mod->mod_start = (uint32_t)vm->initrd_gpa;
		mod->mod_end = (uint32_t)(vm->initrd_gpa + vm->initrd_size);
		strlcpy((char *)page + MBI_MODNAME_OFF, vm->cfg->initrd,
			MBI_CMDLINE_OFF - MBI_MODNAME_OFF);
		mod->string = gpa + MBI_MODNAME_OFF;
		mbi->flags |= MB1_INFO_MODS;
		mbi->mods_count = 1;
		mbi->mods_addr = gpa + MBI_MODS_OFF;
	}
}

/*
 * Lay the boot area out, lowest address first: page tables (64-bit), the
 * GDT page, the #VE page (ve = on), the stack, the multiboot information
 * (multiboot). Every page is zeroed first.
 */
static int build_boot_area(struct vm *vm)
{
	bool lm = vmx_guest_is_64bit(vm);
	unsigned int nr_pd = lm ? nr_page_dirs(vm) : 0;
	unsigned int tables = lm ? 2 + nr_pd : 0;
	bool bz = vmx_guest_is_bzimage(vm);
	unsigned int pages = tables + 1 + (vm->cfg->ve ? 1 : 0) +
			     GUEST_STACK_SIZE / PAGE_SIZE + (lm ? 0 : 1) +
			     (bz ? 2 : 0);
	uint64_t size = (uint64_t)pages * PAGE_SIZE;
	gpa_t base = vm_place(vm, size, PAGE_SIZE), next;
	uint8_t *host;

	if (!lm && vm->initrd_gpa &&
	    vm->initrd_gpa + vm->initrd_size > 4 * SZ_1G) {
		pr_err("vm %s: the multiboot module (initrd) at 0x%llx is above 4 GiB\n",
		       vm->name, (unsigned long long)vm->initrd_gpa);
		return -ERANGE;
	}
	if (!base || (!lm && base + size > 4 * SZ_1G)) {
		pr_err("vm %s: no room in guest RAM for %llu KiB of boot state\n",
		       vm->name, (unsigned long long)(size >> 10));
		return -ENOMEM;
	}
	host = vm_gpa_to_host(vm, base, size);
	if (!host) {
		pr_err("vm %s: boot area 0x%llx is not RAM\n", vm->name,
		       (unsigned long long)base);
		return -EFAULT;
	}
	memset(host, 0, size);
	vm->arch.boot_info = base;
	vm->arch.boot_size = size;
	if (lm) {
		build_page_tables((uint64_t *)host, base, nr_pd);
		vm->arch.cr3 = base;
	}
	next = base + (uint64_t)tables * PAGE_SIZE;
	vm->arch.gdt = next;
	((uint64_t *)(host + (next - base)))[1] = lm ? GDT_CODE64 : GDT_CODE32;
	((uint64_t *)(host + (next - base)))[2] = GDT_DATA;
	if (bz) {
		/* __BOOT_CS 0x10, __BOOT_DS 0x18 (0x08 stays code too). */
		((uint64_t *)(host + (next - base)))[2] = GDT_CODE64;
		((uint64_t *)(host + (next - base)))[3] = GDT_DATA;
	}
	next += PAGE_SIZE;
	if (vm->cfg->ve) {
		vm->arch.ve_info = next;
		next += PAGE_SIZE;
	}
	next += GUEST_STACK_SIZE;
	vm->arch.stack_top = next;
	if (!lm) {
		vm->arch.mbi = next;
		build_mbi(vm, host + (next - base), next);
	}
	if (bz) {
		int ret;

		vm->arch.boot_params = next;
		ret = build_boot_params(vm, host + (next - base),
					next + PAGE_SIZE,
					(char *)host + (next - base) + PAGE_SIZE);
		if (ret) {
			pr_err("vm %s: cannot build the bzImage's boot_params (%d)\n",
			       vm->name, ret);
			return ret;
		}
	}
	return 0;
}

/* x86 caches are coherent with every access, EPT maps RAM write-back. */
void arch_ram_zeroed(struct vm *vm, paddr_t pa, uint64_t size)
{
	(void)vm;
	(void)pa;
	(void)size;
}

int arch_vm_init(struct vm *vm)
{
	int ret;

	if (vm->cfg->ve && !vmx_has_proc2(&vmx_caps, VMX_PROC2_EPT_VE)) {
		pr_err("vm %s: %s, but this CPU has no EPT-violation #VE%s\n",
		       vm->name, vm->cfg->secure ? "secure = on" : "ve = on",
		       vm->cfg->secure ?
		       ": a secure VM takes its MMIO as #VE" : "");
		return -ENODEV;
	}
	ret = dev_uart16550_add(vm, GUEST_COM1_PORT);
	if (!ret) {
		ret = dev_testdev_add(vm, IO_MMIO, GUEST_TESTDEV_BASE);
	}
	if (!ret) {
		ret = x86_debug_exit_add(vm);
	}
	if (!ret) {
		ret = x86_reset_ctl_add(vm);
	}
	if (!ret) {
		ret = x86_pci_add(vm);	/* also the port of reset control */
	}
	if (!ret) {
		ret = x86_fw_cfg_add(vm);
	}
	if (!ret) {
		ret = x86_pic_add(vm);
	}
	if (!ret) {
		ret = x86_pit_add(vm);
	}
	if (!ret) {
		ret = x86_rtc_add(vm);
	}
	if (!ret) {
		ret = x86_i8042_add(vm);	/* also port 0x61 (pit.c) */
	}
	if (!ret) {
		ret = x86_ioapic_add(vm);
	}
	if (!ret) {
		ret = x86_acpi_add(vm);
	}
	if (!ret) {
		ret = vm_virtio_add(vm);
	}
	if (ret) {
		pr_err("vm %s: cannot add its devices (%d)\n", vm->name, ret);
		return ret;
	}
	ret = build_boot_area(vm);
	if (ret) {
		return ret;
	}
	pr_info("vm %s: %s guest, boot state at 0x%llx-0x%llx%s\n", vm->name,
		vmx_guest_is_bzimage(vm) ? "64-bit Linux boot protocol" :
		vmx_guest_is_64bit(vm) ? "64-bit" : "32-bit multiboot",
		(unsigned long long)vm->arch.boot_info,
		(unsigned long long)(vm->arch.boot_info +
				     vm->arch.boot_size - 1),
		vm->cfg->ve ? ", #VE on" : "");
	return 0;
}

/*
 * A device's interrupt line: ISA IRQ / GSI @line, through the 8259 pair
 * and the IOAPIC as a PC wires them (arch/irqchip.h, docs/x86-irq.md).
 */
int arch_vm_irq_line(struct vm *vm, unsigned int line, bool level)
{
	return x86_irq_line(vm, line, level);
}

/* No virtio-mmio slots on x86 yet (no place in the guest's tables). */
int arch_virtio_slot(struct vm *vm, unsigned int n, gpa_t *base,
		     unsigned int *line)
{
	(void)vm;
	(void)n;
	(void)base;
	(void)line;
	return -EOPNOTSUPP;
}

/* CPUID.1:ECX.RDRAND[bit 30]. */
bool arch_has_random(void)
{
	return cpuid(1, 0).ecx & BIT(30);
}

/* One RDRAND: false when it reports no value ready (CF clear). */
bool arch_random_u64(uint64_t *v)
{
	uint8_t ok;

	__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

void arch_vm_destroy(struct vm *vm)
{
	/* Everything lives in guest RAM, which the generic code frees. */
	x86_rtc_power_off(vm);	/* but the RTC's battery keeps its state */
}

int arch_vcpu_init(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t *r = v->arch.gprs;

	memset(r, 0, sizeof(v->arch.gprs));
	memset(v->arch.msrs, 0, sizeof(v->arch.msrs));
	v->arch.storm = 0;
	v->arch.cr2 = 0;
	v->arch.dr6 = 0xffff0ff0;	/* its reset value */
	memset(v->arch.dr, 0, sizeof(v->arch.dr));
	xsave_vcpu_reset(v);
	v->arch.tsc_offset = 0;
	v->arch.tsc_adjust = 0;
	v->arch.tsc_aux = 0;
	v->arch.misc_enable = X86_MISC_ENABLE_RESET;
	mtrr_power_on(&v->arch.mtrr, mtrr_maxphyaddr());
	v->arch.ucode_sig = (uint64_t)vmx_caps.ucode_rev << 32;
	v->arch.mcg_status = 0;
	v->arch.nmi_pending = false;
	v->arch.extint_msg = false;
	v->arch.reset.pending = false;
	/* APs wait for a SIPI through the boot vCPU's local APIC. */
	v->arch.mp = v->id ? X86_MP_WAIT_SIPI : X86_MP_RUNNING;
	lapic_power_on(v);
	r[X86_REG_RSP] = vm->arch.stack_top;
	if (vmx_guest_is_bzimage(vm)) {
		r[X86_REG_RSI] = vm->arch.boot_params;	/* boot protocol */
	} else if (vmx_guest_is_64bit(vm)) {
		r[X86_REG_RDI] = vm->ram_size;
		r[X86_REG_RSI] = vm->arch.ve_info;
		r[X86_REG_RDX] = vm->arch.boot_info;
		r[X86_REG_RCX] = vm->arch.boot_size;
	} else {
		r[X86_REG_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
		r[X86_REG_RBX] = vm->arch.mbi;
	}
	return vmx_vcpu_setup(v);
}

void arch_vcpu_destroy(struct vcpu *v)
{
	vmx_vcpu_teardown(v);
}
