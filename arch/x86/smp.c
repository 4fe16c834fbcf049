// SPDX-License-Identifier: MIT
/*
 * x86 application processors (docs/smp.md): the CPUs the ACPI MADT lists
 * (the MP floating-pointer table's processor entries when there is no
 * ACPI), started one at a time with INIT-SIPI-SIPI through the boot CPU's
 * local APIC (SDM vol. 3, "MP Initialization Protocol Algorithm"). Each
 * starts in real mode on the trampoline page (ap_boot.S), reaches long mode
 * on the boot CPU's page tables and enters x86_ap_main() on its own stack,
 * where it loads its own GDT and TSS (with its IST stacks) and the IDT,
 * enables its local APIC, turns VMX on with the boot CPU's checks and its
 * own VMXON region, and reports in. A CPU that fails a step says why and
 * stays parked (HLT with interrupts masked); the others run. `cpus=N`
 * starts at most N CPUs, the boot CPU included.
 */
#include <arch/cpu.h>
#include <arch/guest_acpi.h>
#include <arch/smp.h>
#include <arch/x86.h>
#include <core/percpu.h>
#include <drivers/acpi.h>
#include <lib/printk.h>
#include <lib/string.h>

#define AP_STACK_SIZE		32768
#define ONLINE_TIMEOUT_MS	1000

#define MSR_IA32_APIC_BASE	0x1b
#define APIC_BASE_EXTD		BIT(10)
#define APIC_BASE_EN		BIT(11)
#define APIC_BASE_ADDR_MASK	0xffffff000ULL
#define MSR_X2APIC_BASE		0x800

/* Local APIC registers (xAPIC offsets; x2APIC MSR 0x800 + offset / 16). */
#define APIC_ID			0x020
#define APIC_TPR		0x080
#define APIC_EOI		0x0b0
#define APIC_SVR		0x0f0
#define APIC_ESR		0x280
#define APIC_ICR_LO		0x300
#define APIC_ICR_HI		0x310
#define APIC_LVT_TIMER		0x320
#define SVR_ENABLE		BIT(8)
#define ICR_PENDING		BIT(12)
#define ICR_LEVEL_ASSERT	BIT(14)
#define ICR_INIT		(5U << 8)
#define ICR_STARTUP		(6U << 8)

/* States an AP reports in ap_state[]. */
enum { AP_NONE, AP_ONLINE, AP_PARKED };

paddr_t x86_trampoline_pa;

static bool x2apic;
static volatile uint32_t *xapic;
static uint8_t stacks[PCPU_MAX][AP_STACK_SIZE] __aligned(16);
static uint32_t ap_state[PCPU_MAX];

extern char x86_ap_tramp_start[], x86_ap_tramp_end[];
extern char x86_ap_tr_gdtr[], x86_ap_tr_pm[], x86_ap_tr_lm[], x86_ap_tr_cr3[];
extern char x86_ap_tr_efer[], x86_ap_tr_stack[], x86_ap_tr_index[];
extern char x86_ap_tr_entry[], x86_ap_tr_gdt[], x86_ap_tr_pm32[];
extern char x86_ap_tr_lm64[];
extern uint64_t boot_pml4[];

#ifdef CONFIG_TEST
unsigned int x86_ap_fail_cpu;
#endif

struct pcpu *this_pcpu(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t off = sp - (uintptr_t)stacks;

	int ist;

	if (off < sizeof(stacks)) {
		return &pcpus[off / AP_STACK_SIZE];
	}
	ist = x86_ist_stack_cpu(sp);	/* #DF, NMI, #MC */
	return &pcpus[ist > 0 ? ist : 0];
}

/* ---- the local APIC of this CPU ----------------------------------------- */

static uint32_t apic_read(unsigned int reg)
{
	if (x2apic) {
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + reg / 16);
	}
	return xapic[reg / 4];
}

static void apic_write(unsigned int reg, uint32_t val)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_BASE + reg / 16, val);
		return;
	}
	xapic[reg / 4] = val;
}

void x86_host_apic_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(base & APIC_BASE_EN)) {
		base |= APIC_BASE_EN;
		wrmsr(MSR_IA32_APIC_BASE, base);
	}
	/* The boot CPU decides the mode; every CPU gets the same. */
	if (this_pcpu()->id == 0) {
		x2apic = base & APIC_BASE_EXTD;
		xapic = (volatile uint32_t *)(uintptr_t)(base &
							 APIC_BASE_ADDR_MASK);
	} else if (x2apic && !(base & APIC_BASE_EXTD)) {
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	}
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, SVR_ENABLE | X86_VEC_SPURIOUS);
}

void x86_host_apic_lvt_timer(uint32_t val)
{
	apic_write(APIC_LVT_TIMER, val);
}

uint32_t x86_host_apic_id(void)
{
	uint32_t id = apic_read(APIC_ID);

	return x2apic ? id : id >> 24;
}

void x86_host_apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

bool x86_host_ipi(uint32_t dest, uint32_t lo)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_BASE + APIC_ICR_LO / 16,
		      (uint64_t)dest << 32 | lo);
		return true;
	}
	for (unsigned int i = 0; apic_read(APIC_ICR_LO) & ICR_PENDING; i++) {
		if (i == 1000000) {
			return false;
		}
		cpu_relax();
	}
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, lo);
	return true;
}

/* ---- time ------------------------------------------------------------ */

static void delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + x86_tsc_hz(NULL) / 1000000 * us;

	while ((int64_t)(rdtsc() - end) < 0) {
		cpu_relax();
	}
}

/* ---- the trampoline page ------------------------------------------------ */

#define LOW_LIMIT	0x9f000ULL	/* below the EBDA and the VGA hole */

static bool page_reserved(const struct platform *p, paddr_t pa)
{
	for (unsigned int i = 0; i < p->nr_reserved; i++) {
		const struct mem_range *r = &p->reserved[i];

		if (pa + PAGE_SIZE > r->base && pa < r->base + r->size) {
			return true;
		}
	}
	return false;
}

void x86_reserve_trampoline(struct platform *p)
{
	paddr_t best = 0;

	for (unsigned int i = 0; i < p->nr_ram; i++) {
		const struct mem_range *r = &p->ram[i];
		paddr_t lo = ALIGN_UP(MAX(r->base, (paddr_t)PAGE_SIZE),
				      PAGE_SIZE);
		paddr_t hi = ALIGN_DOWN(MIN(r->base + r->size, LOW_LIMIT),
					PAGE_SIZE);

		for (paddr_t pa = hi; pa > lo && pa - PAGE_SIZE >= best;
		     pa -= PAGE_SIZE) {
			if (!page_reserved(p, pa - PAGE_SIZE)) {
				best = pa - PAGE_SIZE;
				break;
			}
		}
	}
	if (!best) {
		pr_warn("x86: no free page below 1 MiB for the application processors' start code; only the boot CPU will run\n");
		return;
	}
	x86_trampoline_pa = best;
	platform_add_reserved(p, best, PAGE_SIZE, "AP trampoline");
}

/* ---- the CPU list ------------------------------------------------------- */

struct cpu_list {
	unsigned int nr;
	uint32_t apic_id[PCPU_MAX * 4];
	const char *source;
};

/* A 16-bit value of the BIOS data area (as boot/x86/acpi.c reads it). */
static uint16_t bda_read16(uintptr_t pa)
{
	const volatile uint16_t *p;

	__asm__("" : "=r"(p) : "0"(pa));
	return *p;
}

/* The MP floating pointer ("_MP_", 16 bytes, checksum 0) in [@pa, +@len). */
static const uint8_t *mp_scan(paddr_t pa, size_t len)
{
	for (size_t off = 0; off + 16 <= len; off += 16) {
		const uint8_t *f = (const uint8_t *)(uintptr_t)(pa + off);
		uint8_t sum = 0;

		if (memcmp(f, "_MP_", 4) || f[8] != 1) {
			continue;
		}
		for (unsigned int i = 0; i < 16; i++) {
			sum += f[i];
		}
		if (!sum) {
			return f;
		}
	}
	return NULL;
}

/*
 * The MP specification 1.4's processor entries (type 0, 20 bytes; flags
 * bit 0 enabled). The floating pointer is in the first KiB of the EBDA,
 * the last KiB of base memory or the BIOS ROM 0xF0000-0xFFFFF; a default
 * configuration (no table) means two CPUs with APIC IDs 0 and 1.
 */
static void mp_table_cpus(struct cpu_list *l)
{
	paddr_t ebda = (paddr_t)bda_read16(0x40e) << 4;
	paddr_t basemem = (paddr_t)bda_read16(0x413) << 10;
	const uint8_t *f = NULL, *t, *e, *end;
	uint32_t cfg;
	uint8_t sum = 0;

	if (ebda >= 0x80000 && ebda < 0xa0000) {
		f = mp_scan(ebda, 1024);
	}
	if (!f && basemem >= 0x80000 && basemem <= 0xa0000) {
		f = mp_scan(basemem - 1024, 1024);
	}
	if (!f) {
		f = mp_scan(0xf0000, 0x10000);
	}
	if (!f) {
		return;
	}
	cfg = *(const uint32_t *)(f + 4);
	if (!cfg) {
		if (f[11]) {	/* a default configuration: two CPUs */
			l->apic_id[l->nr++] = 0;
			l->apic_id[l->nr++] = 1;
			l->source = "MP table (default configuration)";
		}
		return;
	}
	t = (const uint8_t *)(uintptr_t)cfg;
	if (memcmp(t, "PCMP", 4)) {
		pr_warn("x86: MP table at 0x%x has no PCMP signature; ignored\n",
			cfg);
		return;
	}
	for (unsigned int i = 0; i < *(const uint16_t *)(t + 4); i++) {
		sum += t[i];
	}
	if (sum) {
		pr_warn("x86: MP table at 0x%x: bad checksum; ignored\n", cfg);
		return;
	}
	l->source = "MP table";
	end = t + *(const uint16_t *)(t + 4);
	for (e = t + 44; e < end;) {
		if (e[0] == 0) {
			if (e + 20 > end) {
				break;
			}
			if ((e[3] & 1) && l->nr < ARRAY_SIZE(l->apic_id)) {
				l->apic_id[l->nr++] = e[1];
			}
			e += 20;
		} else if (e[0] <= 4) {
			e += 8;		/* bus, I/O APIC, interrupt entries */
		} else {
			break;		/* unknown: the rest cannot be parsed */
		}
	}
}

static void find_cpus(struct cpu_list *l)
{
	l->nr = 0;
	l->source = NULL;
	if (acpi_boot.has_madt) {
		const struct acpi_madt *m = &acpi_boot.madt;

		l->source = "ACPI MADT";
		for (unsigned int i = 0; i < m->nr_cpus; i++) {
			const struct acpi_cpu *c = &m->cpus[i];

			/* Online-capable ones are for hot-plug: not started. */
			if (c->enabled && c->kind != ACPI_CPU_GICC &&
			    l->nr < ARRAY_SIZE(l->apic_id)) {
				l->apic_id[l->nr++] = c->id;
			}
		}
		return;
	}
	mp_table_cpus(l);
}

/* ---- an application processor ------------------------------------------- */

void x86_ap_main(uint64_t index) __noreturn;

static __noreturn void park(unsigned int n)
{
	__atomic_store_n(&ap_state[n], AP_PARKED, __ATOMIC_RELEASE);
	for (;;) {
		__asm__ volatile("cli; hlt" ::: "memory");
	}
}

void x86_ap_main(uint64_t index)
{
	unsigned int n = (unsigned int)index;
	struct pcpu *self = &pcpus[n];

	x86_cpu_tables_init(n);
	if (self != this_pcpu()) {
		pr_err("x86: CPU %u is not on its own stack; parked\n", n);
		park(n);
	}
	x86_host_apic_init();
	self->hw_id = x86_host_apic_id();
#ifdef CONFIG_TEST
	if (x86_ap_fail_cpu == n) {
		pr_err("x86: CPU %u: x86_ap_fail=%u: treating its VMX checks as failed\n",
		       n, n);
		pr_err("x86: CPU %u (APIC ID %llu) cannot run guests; parked\n",
		       n, (unsigned long long)self->hw_id);
		park(n);
	}
#endif
	if (vmx_cpu_init(n)) {
		pr_err("x86: CPU %u (APIC ID %llu) cannot run guests; parked\n",
		       n, (unsigned long long)self->hw_id);
		park(n);
	}
	pr_info("x86: CPU %u online (APIC ID %llu), VMX on\n", n,
		(unsigned long long)self->hw_id);
	vmm_secondary_ready(self);
	__atomic_store_n(&ap_state[n], AP_ONLINE, __ATOMIC_RELEASE);
	vmm_secondary_wait(self);
	for (;;) {
		__asm__ volatile("cli; hlt" ::: "memory");
	}
}

static void patch32(char *copy, const char *sym, uint32_t val)
{
	memcpy(copy + (sym - x86_ap_tramp_start), &val, sizeof(val));
}

static void patch64(char *copy, const char *sym, uint64_t val)
{
	memcpy(copy + (sym - x86_ap_tramp_start), &val, sizeof(val));
}

enum start_result { CPU_STARTED, CPU_FAILED, CPU_LOST };

/* Start the CPU with APIC ID @apic as Strata CPU @n. */
static enum start_result start_cpu(uint32_t apic, unsigned int n)
{
	char *copy = (char *)(uintptr_t)x86_trampoline_pa;
	uint32_t base = (uint32_t)x86_trampoline_pa;
	uint32_t vector = base >> 12;
	uint64_t start, ticks;
	uint32_t st;

	pcpus[n].id = n;
	ap_state[n] = AP_NONE;
	memcpy(copy, x86_ap_tramp_start,
	       (size_t)(x86_ap_tramp_end - x86_ap_tramp_start));
	patch32(copy, x86_ap_tr_gdtr + 2,
		base + (uint32_t)(x86_ap_tr_gdt - x86_ap_tramp_start));
	patch32(copy, x86_ap_tr_pm,
		base + (uint32_t)(x86_ap_tr_pm32 - x86_ap_tramp_start));
	patch32(copy, x86_ap_tr_lm,
		base + (uint32_t)(x86_ap_tr_lm64 - x86_ap_tramp_start));
	patch32(copy, x86_ap_tr_cr3, (uint32_t)(uintptr_t)boot_pml4);
	/* EFER as here but LMA, which the CPU sets itself. */
	patch32(copy, x86_ap_tr_efer, (uint32_t)rdmsr(MSR_EFER) & ~BIT(10));
	patch64(copy, x86_ap_tr_stack,
		(uint64_t)(uintptr_t)(stacks[n] + AP_STACK_SIZE));
	patch64(copy, x86_ap_tr_index, n);
	patch64(copy, x86_ap_tr_entry, (uint64_t)(uintptr_t)x86_ap_main);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/* INIT, 10 ms, SIPI, 200 us, SIPI, 200 us (SDM vol. 3 8.4.4.1). */
	if (!x86_host_ipi(apic, ICR_INIT | ICR_LEVEL_ASSERT)) {
		pr_warn("x86: INIT to APIC ID %u not sent (ICR busy)\n", apic);
		return CPU_FAILED;
	}
	delay_us(10000);
	for (unsigned int i = 0; i < 2; i++) {
		if (!x86_host_ipi(apic, ICR_STARTUP | vector)) {
			pr_warn("x86: SIPI to APIC ID %u not sent (ICR busy)\n",
				apic);
			return CPU_LOST;
		}
		delay_us(200);
		if (__atomic_load_n(&ap_state[n], __ATOMIC_ACQUIRE)) {
			break;	/* already running: no second SIPI */
		}
	}
	start = rdtsc();
	ticks = x86_tsc_hz(NULL) / 1000 * ONLINE_TIMEOUT_MS;
	while (!(st = __atomic_load_n(&ap_state[n], __ATOMIC_ACQUIRE))) {
		if (rdtsc() - start > ticks) {
			pr_warn("x86: CPU with APIC ID %u did not come up\n",
				apic);
			return CPU_LOST;
		}
		cpu_relax();
	}
	return st == AP_ONLINE ? CPU_STARTED : CPU_LOST;
}

/*
 * As on arm64 (arch/arm64/smp.c): a CPU that was sent a SIPI but did not
 * report in (late, or parked for a reason it printed) may still run on
 * slot n (its stack and pcpus[] entry), so no further CPU is started.
 */
unsigned int arch_start_cpus(unsigned int max)
{
	static struct cpu_list l;
	unsigned int online = 1;
	uint32_t self;

	(void)x86_tsc_hz(NULL);	/* measured once, here */
	x86_host_apic_init();
	self = x86_host_apic_id();
	pcpus[0].id = 0;
	pcpus[0].hw_id = self;
	pcpus[0].started = true;
	find_cpus(&l);
	if (!l.source) {
		pr_info("x86: no ACPI MADT and no MP table: only the boot CPU runs\n");
		l.nr = 1;
	} else {
		pr_info("x86: %u CPU%s listed by the %s\n", l.nr,
			l.nr == 1 ? "" : "s", l.source);
	}
	for (unsigned int i = 0; i < l.nr && x86_trampoline_pa; i++) {
		enum start_result r;

		if (l.apic_id[i] == self) {
			continue;
		}
		/* xAPIC ICR destinations are 8 bits, 0xff the broadcast. */
		if (!x2apic && l.apic_id[i] >= 0xff) {
			pr_warn("x86: APIC ID %u cannot be addressed in xAPIC mode; not started\n",
				l.apic_id[i]);
			continue;
		}
		if (online >= max || online >= PCPU_MAX) {
			break;
		}
		r = start_cpu(l.apic_id[i], online);
		if (r == CPU_STARTED) {
			online++;
		} else if (r == CPU_LOST) {
			pr_warn("x86: no more CPUs started after one that may still run on slot %u\n",
				online);
			break;
		}
	}
	pr_info("x86: %u of %u CPUs online\n", online, l.nr ? l.nr : 1);
	if (online < l.nr && online == max) {
		pr_info("x86: cpus=%u on the command line: the other CPUs stay off\n",
			max);
	}
	return online;
}
