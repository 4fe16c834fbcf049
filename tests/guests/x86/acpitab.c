// SPDX-License-Identifier: MIT
/*
 * acpitab: reads the ACPI tables of its VM as an OS does (docs/x86-acpi.md)
 * and ends through ACPI. It finds the RSDP by scanning 0xe0000-0xfffff on
 * 16-byte boundaries (ACPI 6.5, 5.2.5.1), checks every checksum, walks the
 * XSDT (and the RSDT: the same tables) to the FADT and the MADT, checks the
 * MADT's CPUs against CPUID and starts each AP it lists through its local
 * APIC, the AP reporting the APIC ID the MADT gave it; the IOAPIC entry
 * against the IOAPIC's ID register, the interrupt source overrides, the
 * FADT's blocks and the FACS, the PM timer (32-bit, running; its rate
 * against the TSC is printed for the boot test), SCI_EN. It finds \_S5 in
 * the DSDT's AML, asks for a sleep type the DSDT does not name (ignored),
 * then writes \_S5's SLP_TYPa with SLP_EN to PM1a_CNT: the VM must end
 * there with status 0 ("acpi: still running" must never appear).
 */
#include "guest.h"
#include "x86.h"

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

struct sdt {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

#define VEC_HELLO	0x30
#define MAX_CPUS	8

static uint8_t ap_stack[16384] __attribute__((aligned(16)));
static volatile uint32_t ap_id = ~0U;

static uint8_t sum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--) {
		s += *b++;
	}
	return s;
}

static bool sig_is(const void *p, const char *sig, unsigned int n)
{
	const char *c = p;

	for (unsigned int i = 0; i < n; i++) {
		if (c[i] != sig[i]) {
			return false;
		}
	}
	return true;
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static const uint8_t *find_rsdp(void)
{
	for (uintptr_t a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (sig_is(p, "RSD PTR ", 8) && !sum(p, 20)) {
			return p;
		}
	}
	return NULL;
}

static const struct sdt *table(uint64_t pa, const char *sig)
{
	const struct sdt *t = (const struct sdt *)(uintptr_t)pa;

	EXPECT(pa && sig_is(t->sig, sig, 4), "no %s at 0x%lx", sig,
	       (unsigned long)pa);
	if (!pa || !sig_is(t->sig, sig, 4)) {
		return NULL;
	}
	EXPECT(!sum(t, t->length), "%s checksum", sig);
	return t;
}

static void ap_main(void)
{
	idt_load();
	apic_write(APIC_SVR, 0x1ff);
	ap_id = apic_read(APIC_ID) >> 24;
	apic_send_ipi(0, VEC_HELLO);
	for (;;) {
		__asm__ volatile("cli; hlt" ::: "memory");
	}
}

static void eoi_hook(struct exc_frame *f)
{
	(void)f;
	apic_write(APIC_EOI, 0);
}

/* The MADT: CPUs as CPUID and the APs say, the IOAPIC, the overrides. */
static void check_madt(const struct sdt *madt)
{
	const uint8_t *p = (const uint8_t *)madt;
	uint32_t off = 44, ids[MAX_CPUS], n = 0, r[4];
	bool ioapic = false, iso0 = false, sci = false, nmi = false;

	EXPECT(rd32(p + 36) == APIC_DEFAULT, "MADT local APIC address 0x%x",
	       rd32(p + 36));
	EXPECT(rd32(p + 40) & 1, "MADT without PCAT_COMPAT");
	while (off + 2 <= madt->length && p[off + 1]) {
		const uint8_t *e = p + off;

		switch (e[0]) {
		case 0:
			if ((rd32(e + 4) & 1) && n < MAX_CPUS) {
				ids[n++] = e[3];
			}
			break;
		case 1:
			ioapic = true;
			EXPECT(rd32(e + 4) == 0xfec00000 && rd32(e + 8) == 0,
			       "IOAPIC entry at 0x%x GSI %u", rd32(e + 4),
			       rd32(e + 8));
			*(volatile uint32_t *)0xfec00000UL = 0;
			EXPECT(e[2] == *(volatile uint32_t *)0xfec00010UL >> 24,
			       "MADT IOAPIC ID %u, its register says %u", e[2],
			       *(volatile uint32_t *)0xfec00010UL >> 24);
			break;
		case 2:
			if (e[3] == 0) {
				iso0 = rd32(e + 4) == 2;
			} else if (e[3] == 9) {
				sci = rd32(e + 4) == 9 &&
				      (e[8] | e[9] << 8) == 0x000d;
			}
			break;
		case 4:
			nmi = e[2] == 0xff && e[5] == 1;
			break;
		}
		off += e[1];
	}
	EXPECT(off == madt->length, "MADT entries end at %u of %u", off,
	       madt->length);
	cpuid2(1, 0, r);
	EXPECT(n == ((r[1] >> 16) & 0xff), "MADT: %u CPUs, CPUID.1 says %u",
	       n, (r[1] >> 16) & 0xff);
	EXPECT(n >= 1 && ids[0] == apic_read(APIC_ID) >> 24,
	       "MADT's first CPU %u is not the boot CPU", n ? ids[0] : ~0U);
	EXPECT(ioapic, "MADT without an IOAPIC");
	EXPECT(iso0, "no override IRQ 0 -> GSI 2");
	EXPECT(sci, "no level, active-high override for the SCI (IRQ 9)");
	EXPECT(nmi, "no LINT1 NMI entry");
	/* Start every other CPU the MADT lists, by its APIC ID. */
	for (uint32_t i = 1; i < n; i++) {
		unsigned long want = irq_count[VEC_HELLO] + 1;

		ap_id = ~0U;
		ap_start(ids[i], ap_main, ap_stack + sizeof(ap_stack));
		wait_irq(&irq_count[VEC_HELLO], want);
		EXPECT(ap_id == ids[i], "AP started at MADT APIC ID %u says %u",
		       ids[i], ap_id);
		gprintf("acpi: MADT CPU %u: APIC ID %u started, reports %u\n",
			i, ids[i], ap_id);
	}
	gprintf("acpi: MADT: %u CPUs, CPUID.1 count %u\n", n,
		(r[1] >> 16) & 0xff);
}

/* \_S5's SLP_TYPa in the DSDT's AML: Name (\_S5, Package () { a, ... }). */
static int find_s5(const struct sdt *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt;

	for (uint32_t i = 36; i + 10 < dsdt->length; i++) {
		const uint8_t *q = p + i;

		if (!sig_is(q, "_S5_", 4) ||
		    !(q[-1] == 0x08 || (q[-1] == '\\' && q[-2] == 0x08))) {
			continue;
		}
		q += 4;
		if (*q++ != 0x12) {		/* PackageOp */
			return -1;
		}
		q += 1 + (*q >> 6);		/* PkgLength */
		q++;				/* NumElements */
		if (*q == 0x0a) {		/* BytePrefix */
			return q[1];
		}
		return *q == 0x00 ? 0 : *q == 0x01 ? 1 : -1;
	}
	return -1;
}

int guest_main(void)
{
	const uint8_t *rsdp, *fadt;
	const struct sdt *xsdt, *rsdt, *madt = NULL, *f = NULL, *dsdt;
	uint32_t n, t0, t1, cnt_port, tmr_port;
	uint64_t c0, c1;
	int s5;

	idt_init();
	idt_hook(VEC_HELLO, eoi_hook);
	apic_write(APIC_SVR, 0x1ff);

	rsdp = find_rsdp();
	EXPECT(rsdp, "no RSDP in 0xe0000-0xfffff");
	if (!rsdp) {
		return checks_result("acpi");
	}
	EXPECT(rsdp[15] >= 2 && rd32(rsdp + 20) == 36 && !sum(rsdp, 36),
	       "RSDP revision %u length %u extended checksum", rsdp[15],
	       rd32(rsdp + 20));
	{
		char oem[7] = { 0 };

		for (int i = 0; i < 6; i++) {
			oem[i] = (char)rsdp[9 + i];
		}
		gprintf("acpi: RSDP at 0x%lx, revision %u, OEM %s\n",
			(unsigned long)(uintptr_t)rsdp, rsdp[15], oem);
	}
	xsdt = table(rd64(rsdp + 24), "XSDT");
	rsdt = table(rd32(rsdp + 16), "RSDT");
	if (!xsdt || !rsdt) {
		return checks_result("acpi");
	}
	n = (xsdt->length - 36) / 8;
	EXPECT(n == (rsdt->length - 36) / 4, "XSDT %u entries, RSDT %u", n,
	       (rsdt->length - 36) / 4);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = rd64((const uint8_t *)xsdt + 36 + 8 * i);
		const struct sdt *t = (const struct sdt *)(uintptr_t)pa;

		EXPECT(pa == rd32((const uint8_t *)rsdt + 36 + 4 * i),
		       "XSDT and RSDT entry %u differ", i);
		if (sig_is(t->sig, "APIC", 4)) {
			madt = table(pa, "APIC");
		} else if (sig_is(t->sig, "FACP", 4)) {
			f = table(pa, "FACP");
		}
	}
	EXPECT(madt && f, "XSDT lacks the MADT or the FADT");
	if (!madt || !f) {
		return checks_result("acpi");
	}
	check_madt(madt);

	fadt = (const uint8_t *)f;
	EXPECT(f->revision >= 5 && f->length >= 244, "FADT revision %u length "
	       "%u", f->revision, f->length);
	EXPECT((fadt[46] | fadt[47] << 8) == 9, "SCI_INT %u",
	       fadt[46] | fadt[47] << 8);
	EXPECT(rd32(fadt + 48) == 0, "SMI_CMD 0x%x: want none (ACPI mode "
	       "always)", rd32(fadt + 48));
	EXPECT(rd32(fadt + 112) & (1U << 8), "FADT without TMR_VAL_EXT");
	EXPECT(fadt[88] == 4 && fadt[89] == 2 && fadt[91] == 4,
	       "PM1_EVT_LEN %u PM1_CNT_LEN %u PM_TMR_LEN %u", fadt[88],
	       fadt[89], fadt[91]);
	cnt_port = rd32(fadt + 64);
	tmr_port = rd32(fadt + 76);
	EXPECT(fadt[172] == 1 && rd64(fadt + 176) == cnt_port &&
	       fadt[208] == 1 && rd64(fadt + 212) == tmr_port,
	       "X_PM1a_CNT_BLK / X_PM_TMR_BLK disagree with the 32-bit ones");
	{
		const uint8_t *facs =
			(const uint8_t *)(uintptr_t)rd32(fadt + 36);

		EXPECT(facs && !((uintptr_t)facs & 63) &&
		       sig_is(facs, "FACS", 4) && rd32(facs + 4) == 64,
		       "FACS at 0x%lx", (unsigned long)(uintptr_t)facs);
	}
	dsdt = table(rd64(fadt + 140), "DSDT");
	EXPECT(rd32(fadt + 40) == rd64(fadt + 140), "DSDT 0x%x, X_DSDT 0x%lx",
	       rd32(fadt + 40), (unsigned long)rd64(fadt + 140));
	s5 = dsdt ? find_s5(dsdt) : -1;
	EXPECT(s5 >= 0 && s5 < 8, "no \\_S5 package in the DSDT");

	/* The PM timer: 32 bits, counting. */
	c0 = rdtsc();
	t0 = inl((uint16_t)tmr_port);
	for (volatile int i = 0; i < 20000; i++) {
	}
	t1 = inl((uint16_t)tmr_port);
	c1 = rdtsc();
	EXPECT(t1 != t0, "the PM timer stands at %u", t0);
	gprintf("acpi: PM timer %u ticks in %lu TSC cycles\n", t1 - t0,
		(unsigned long)(c1 - c0));
	EXPECT(inw((uint16_t)cnt_port) & 1, "PM1_CNT.SCI_EN clear");

	gprintf("acpi: \\_S5 SLP_TYPa %d, PM1a_CNT at 0x%x\n", s5, cnt_port);
	if (checks_result("acpi")) {
		return 1;
	}
	/* A sleep type the DSDT does not name: nothing happens. */
	outw((uint16_t)cnt_port, (uint16_t)(((s5 ^ 2) << 10) | (1U << 13)));
	gprintf("acpi: sleep type %d ignored, still here\n", s5 ^ 2);
	outw((uint16_t)cnt_port, (uint16_t)((s5 << 10) | (1U << 13)));
	gprintf("acpi: still running after S5\n");
	return 1;
}
