// SPDX-License-Identifier: MIT
/*
 * ACPI for x86 guests (docs/x86-acpi.md): the tables of
 * guest_acpi_tables.c placed in the BIOS area of guest RAM, where the
 * RSDP scan of 0xe0000-0xfffff finds them, and the ACPI fixed hardware
 * they describe, per the ACPI 6.5 specification chapter 4.8: the PM1a
 * event block (PM1_STS, PM1_EN), the PM1a control block (SCI_EN, SLP_TYP,
 * SLP_EN: sleep type 5, the DSDT's \_S5, powers the VM off) and the
 * 32-bit PM timer at 3.579545 MHz, derived from the host TSC.
 */
#include <arch/cpu.h>
#include <arch/guest_acpi.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/vm.h>

#define PM1_TMR_STS		BIT(0)
#define PM1_EN_BITS		0x0721	/* TMR, GBL, PWRBTN, SLPBTN, RTC */
#define PM1_CNT_SCI_EN		BIT(0)
#define PM1_CNT_BM_RLD		BIT(1)
#define PM1_CNT_SLP_TYP(c)	(((c) >> 10) & 7)
#define PM1_CNT_SLP_TYP_MASK	(7U << 10)
#define PM1_CNT_SLP_EN		BIT(13)

#define PIT_HZ			1193182ULL
#define PIT_CAL_COUNT		11932	/* 10 ms */
/*
 * Port reads to wait for the count: 10 ms is some 10^4 reads of port 0x61
 * (about 1 us each), so 2 * 10^6 bounds the wait, with every VM stalled
 * behind it, to a few seconds when no PIT ever answers.
 */
#define PIT_CAL_SPINS		2000000UL
#define PIT_CAL_MIN_HZ		100000000ULL	/* below: no PIT (0x61 reads 0xff) */

/* ---- The TSC's frequency ----------------------------------------------- */

/* PIT channel 2 in mode 0 for 10 ms, gated by port 0x61 (as Linux does). */
static uint64_t pit_calibrate(void)
{
	uint64_t t0, t1;
	unsigned long spins = 0;

	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);		/* channel 2, lo/hi, mode 0, binary */
	outb(0x42, PIT_CAL_COUNT & 0xff);
	outb(0x42, PIT_CAL_COUNT >> 8);
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20)) {
		if (++spins > PIT_CAL_SPINS) {
			return 0;	/* no PIT */
		}
	}
	t1 = rdtsc();
	t1 = (t1 - t0) * PIT_HZ / PIT_CAL_COUNT;
	return t1 >= PIT_CAL_MIN_HZ ? t1 : 0;	/* done at once: no PIT */
}

uint64_t x86_tsc_hz(const char **source)
{
	static uint64_t hz;
	static const char *from;
	uint32_t max;

	/*
	 * Found once (the boot CPU, before the others start); every VM
	 * entry's timer arithmetic asks again, and CPUID is slow on
	 * hardware and an exit under nested virtualization.
	 */
	if (hz) {
		goto out;
	}
	max = cpuid(0, 0).eax;
	if (max >= 0x15) {
		struct cpuid_regs r = cpuid(0x15, 0);

		if (r.eax && r.ebx && r.ecx) {
			hz = (uint64_t)r.ecx * r.ebx / r.eax;
			from = "CPUID leaf 0x15";
			goto out;
		}
	}
	if (max >= 0x16 && (cpuid(0x16, 0).eax & 0xffff)) {
		hz = (uint64_t)(cpuid(0x16, 0).eax & 0xffff) * 1000000;
		from = "CPUID leaf 0x16";
		goto out;
	}
	hz = pit_calibrate();
	from = "the PIT";
	if (!hz) {
		hz = 1000000000ULL;
		from = "a guess (no PIT answered)";
		pr_warn("TSC rate: no CPUID leaf 0x15/0x16 rate and no PIT answered on port 0x61; guessing 1 GHz (the guests' PM timer rate follows it)\n");
	}
out:
	if (source) {
		*source = from;
	}
	return hz;
}

/* ---- The PM registers -------------------------------------------------- */

static struct x86_acpi_pm *pm_of(struct vm *vm)
{
	return &vm->arch.acpi_pm;
}

/* PM timer ticks since the VM started (64 bits; the register is 32). */
static uint64_t pm_ticks(struct vm *vm)
{
	uint64_t hz = x86_tsc_hz(NULL);
	uint64_t d = rdtsc() - pm_of(vm)->tsc_base;

	return d / hz * X86_ACPI_PM_TIMER_HZ +
	       d % hz * X86_ACPI_PM_TIMER_HZ / hz;
}

/* TMR_STS: the timer's bit 31 changed since the guest last cleared it. */
static uint16_t pm1_sts(struct vm *vm)
{
	return (pm_ticks(vm) >> 31) != (pm_of(vm)->tmr_cleared >> 31) ?
	       PM1_TMR_STS : 0;
}

static uint8_t reg_byte(struct vm *vm, unsigned int off)
{
	struct x86_acpi_pm *pm = pm_of(vm);
	uint32_t r;

	switch (off & ~1U) {
	case 0:
		r = pm1_sts(vm);
		break;
	case 2:
		r = pm->en;
		break;
	case 4:
		r = pm->cnt | PM1_CNT_SCI_EN;
		break;
	case 6:
		r = 0;		/* between the blocks: nothing */
		break;
	default:
		r = (uint32_t)pm_ticks(vm);
		return (uint8_t)(r >> (8 * (off - 8)));
	}
	return (uint8_t)(r >> (8 * (off & 1)));
}

static void write_cnt(struct vcpu *v, uint16_t val)
{
	struct x86_acpi_pm *pm = pm_of(v->vm);
	unsigned int typ = PM1_CNT_SLP_TYP(val);

	pm->cnt = val & (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP_MASK);
	if (!(val & PM1_CNT_SLP_EN)) {
		return;
	}
	if (typ == X86_ACPI_SLP_TYP_S5) {
		pr_info("vm %s: ACPI: sleep type %u (\\_S5, soft off) "
			"written to PM1a_CNT: powered off\n", v->vm->name, typ);
		vm_power_off(v->vm, 0);
		return;
	}
	/* No other sleep state exists: the DSDT names only \_S5. */
	if (!pm->told) {
		pm->told = true;
		pr_info("vm %s: ACPI: PM1a_CNT asks for sleep type %u, which "
			"this machine does not have (the DSDT names only "
			"\\_S5 = %u): ignored\n", v->vm->name, typ,
			X86_ACPI_SLP_TYP_S5);
	}
}

static int pm_read(struct vcpu *v, struct io_device *d, uint64_t off,
		   unsigned int size, uint64_t *val)
{
	(void)d;
	if (off + size > X86_ACPI_PM_SIZE || size > 4) {
		return -EINVAL;
	}
	*val = 0;
	for (unsigned int i = 0; i < size; i++) {
		*val |= (uint64_t)reg_byte(v->vm, (unsigned int)off + i) << (8 * i);
	}
	return 0;
}

/*
 * A write of @size bytes at @off: each 16-bit register it touches gets the
 * bytes written (the others as they read); PM1_STS bits are cleared by
 * writing 1, the PM timer is read-only.
 */
static int pm_write(struct vcpu *v, struct io_device *d, uint64_t off,
		    unsigned int size, uint64_t val)
{
	struct x86_acpi_pm *pm = pm_of(v->vm);

	(void)d;
	if (off + size > X86_ACPI_PM_SIZE || size > 4) {
		return -EINVAL;
	}
	for (unsigned int reg = 0; reg < 8; reg += 2) {
		uint16_t w = 0;
		bool hit = false;

		for (unsigned int b = 0; b < 2; b++) {
			unsigned int o = reg + b;

			if (o >= off && o < off + size) {
				w |= (uint16_t)(((val >> (8 * (o - off))) & 0xff)
						<< (8 * b));
				hit = true;
			}
		}
		if (!hit) {
			continue;
		}
		if (reg == 0 && (w & PM1_TMR_STS)) {
			pm->tmr_cleared = pm_ticks(v->vm);
		} else if (reg == 2) {
			pm->en = w & PM1_EN_BITS;
		} else if (reg == 4) {
			write_cnt(v, w);
		}
	}
	return 0;
}

static const struct io_device_ops pm_ops = {
	.read = pm_read,
	.write = pm_write,
};

/* ---- Placement --------------------------------------------------------- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

int x86_acpi_add(struct vm *vm)
{
	struct x86_acpi_machine m = {
		.nr_cpus = vm->cfg->cpus ? vm->cfg->cpus : 1,
		.ioapic_id = vm->arch.ioapic.id,
		.ram_end = vm->ram_gpa + vm->ram_size,
	};
	struct io_device d = {
		.name = "ACPI PM1a/PM timer",
		.space = IO_PIO,
		.base = X86_ACPI_PM_BASE,
		.size = X86_ACPI_PM_SIZE,
		.ops = &pm_ops,
	};
	const char *src;
	uint64_t hz;
	uint8_t *host;
	size_t len;
	int ret;

	if (vm->ram_gpa > X86_ACPI_AREA ||
	    vm->ram_gpa + vm->ram_size < X86_ACPI_AREA + X86_ACPI_AREA_SIZE) {
		pr_info("vm %s: no RAM at 0xe0000-0xfffff: no ACPI tables\n",
			vm->name);
		return 0;
	}
	if (overlaps(X86_ACPI_AREA, X86_ACPI_AREA_SIZE, vm->image.start,
		     vm->image.end - vm->image.start) ||
	    overlaps(X86_ACPI_AREA, X86_ACPI_AREA_SIZE, vm->initrd_gpa,
		     vm->initrd_size)) {
		pr_info("vm %s: its image covers 0xe0000-0xfffff: no ACPI "
			"tables\n", vm->name);
		return 0;
	}
	for (unsigned int i = 0; i < vm->nr_placed; i++) {
		if (overlaps(X86_ACPI_AREA, X86_ACPI_AREA_SIZE,
			     vm->placed[i].gpa, vm->placed[i].size)) {
			return -EBUSY;	/* nothing is placed before this */
		}
	}
	if (vm->nr_placed == VM_MAX_PLACED) {
		return -ENOSPC;
	}
	host = vm_gpa_to_host(vm, X86_ACPI_AREA, X86_ACPI_AREA_SIZE);
	if (!host) {
		return -EFAULT;
	}
	/* The whole BIOS area is reserved (the memory map says so). */
	vm->placed[vm->nr_placed].gpa = X86_ACPI_AREA;
	vm->placed[vm->nr_placed].size = X86_ACPI_AREA_SIZE;
	vm->nr_placed++;
	memset(host, 0, X86_ACPI_AREA_SIZE);
	len = x86_acpi_build_tables(host, X86_ACPI_AREA, &m);
	if (!len) {
		pr_err("vm %s: the ACPI tables for %u vCPUs do not fit\n",
		       vm->name, m.nr_cpus);
		return -ENOSPC;
	}
	vm->arch.acpi = true;
	memset(pm_of(vm), 0, sizeof(*pm_of(vm)));
	pm_of(vm)->tsc_base = rdtsc();
	ret = vm_add_device(vm, &d);
	if (ret) {
		return ret;
	}
	hz = x86_tsc_hz(&src);
	pr_info("vm %s: ACPI tables at 0x%llx-0x%llx, PM timer at ports "
		"0x%x-0x%x from a TSC of %llu Hz (%s)\n", vm->name,
		(unsigned long long)X86_ACPI_AREA,
		(unsigned long long)(X86_ACPI_AREA + len - 1),
		X86_ACPI_PM_BASE, X86_ACPI_PM_BASE + X86_ACPI_PM_SIZE - 1,
		(unsigned long long)hz, src);
	return 0;
}
