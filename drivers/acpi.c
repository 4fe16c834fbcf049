// SPDX-License-Identifier: MIT
/*
 * ACPI table discovery (include/drivers/acpi.h). Firmware tables are
 * untrusted input: every structure is mapped for exactly the length that
 * was checked, fields are read with byte copies (tables are not aligned,
 * and early arm64 code runs with strict alignment), and every length is
 * compared with what contains it before the bytes it covers are read.
 */
#include <drivers/acpi.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>

struct acpi_info acpi_boot;

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--) {
		sum += *b++;
	}
	return sum;
}

static const void *map(const struct acpi_mem *mem, uint64_t pa, uint64_t len)
{
	if (!pa || !len || pa + len < pa) {
		return NULL;
	}
	return mem->map(mem->ctx, pa, len);
}

/* A printable copy of a 4-byte signature. */
static void sig_string(char out[5], const char *sig)
{
	for (int i = 0; i < 4; i++) {
		out[i] = (sig[i] >= 0x20 && sig[i] < 0x7f) ? sig[i] : '?';
	}
	out[4] = '\0';
}

/*
 * The table at @pa whose signature should be @sig (NULL: any), with its
 * length and checksum checked; NULL with a message otherwise.
 */
static const struct acpi_sdt_header *map_table(const struct acpi_mem *mem,
					       uint64_t pa, const char *sig)
{
	const struct acpi_sdt_header *h = map(mem, pa, ACPI_HEADER_LEN);
	char name[5];
	uint32_t len;

	if (!h) {
		pr_warn("acpi: table at 0x%llx cannot be read\n",
			(unsigned long long)pa);
		return NULL;
	}
	sig_string(name, h->signature);
	if (sig && memcmp(h->signature, sig, 4)) {
		pr_warn("acpi: table at 0x%llx is \"%s\", expected %.4s\n",
			(unsigned long long)pa, name, sig);
		return NULL;
	}
	len = get32((const uint8_t *)h + 4);
	if (len < ACPI_HEADER_LEN || len > ACPI_TABLE_MAX_LEN) {
		pr_warn("acpi: %s at 0x%llx has bad length %u\n", name,
			(unsigned long long)pa, len);
		return NULL;
	}
	h = map(mem, pa, len);
	if (!h) {
		pr_warn("acpi: %s at 0x%llx (%u bytes) cannot be read\n", name,
			(unsigned long long)pa, len);
		return NULL;
	}
	if (checksum(h, len)) {
		pr_warn("acpi: %s at 0x%llx has a bad checksum\n", name,
			(unsigned long long)pa);
		return NULL;
	}
	return h;
}

/* Whether the v1 part of the RSDP at @r (20 readable bytes) is valid. */
static bool rsdp_v1_valid(const struct acpi_rsdp *r)
{
	return !memcmp(r->signature, "RSD PTR ", 8) &&
	       !checksum(r, ACPI_RSDP_V1_LEN);
}

/*
 * The XSDT address of a revision 2+ RSDP, or 0 (with a message) if the
 * extension does not hold up: then the RSDT is used.
 */
static uint64_t rsdp_xsdt(const struct acpi_mem *mem, uint64_t pa,
			  uint64_t avail, unsigned int rev)
{
	const uint8_t *r = NULL;
	uint32_t len;

	if (avail >= ACPI_RSDP_V2_LEN) {
		r = map(mem, pa, ACPI_RSDP_V2_LEN);
	}
	if (!r) {
		pr_warn("acpi: RSDP revision %u but only %llu bytes; using "
			"the RSDT\n", rev, (unsigned long long)avail);
		return 0;
	}
	len = get32(r + 20);
	if (len < ACPI_RSDP_V2_LEN || len > avail || len > SZ_4K) {
		pr_warn("acpi: RSDP revision %u with bad length %u; using the "
			"RSDT\n", rev, len);
		return 0;
	}
	r = map(mem, pa, len);
	if (!r) {
		pr_warn("acpi: RSDP revision %u: its %u bytes cannot be read; "
			"using the RSDT\n", rev, len);
		return 0;
	}
	if (checksum(r, len)) {
		pr_warn("acpi: RSDP revision %u with a bad extended checksum; "
			"using the RSDT\n", rev);
		return 0;
	}
	return get64(r + 24);
}

/* Record the tables listed by the root table @h (entries of @esize). */
static void list_tables(struct acpi_tables *t, const struct acpi_sdt_header *h,
			unsigned int esize)
{
	const uint8_t *e = (const uint8_t *)h + ACPI_HEADER_LEN;
	uint32_t n = (h->length - ACPI_HEADER_LEN) / esize;

	if ((h->length - ACPI_HEADER_LEN) % esize) {
		pr_warn("acpi: root table length %u is not a whole number of "
			"entries; the partial one is ignored\n", h->length);
	}
	for (uint32_t i = 0; i < n; i++, e += esize) {
		uint64_t pa = esize == 8 ? get64(e) : get32(e);
		const char *sig;

		if (t->nr_tables == ACPI_MAX_TABLES) {
			t->nr_dropped = n - i;
			pr_warn("acpi: %u more tables than Strata keeps (%u); "
				"ignored\n", t->nr_dropped, ACPI_MAX_TABLES);
			return;
		}
		sig = map(t->mem, pa, 4);
		if (sig) {
			sig_string(t->table[t->nr_tables].signature, sig);
		} else {
			pr_warn("acpi: root table entry %u (0x%llx) cannot be "
				"read\n", i, (unsigned long long)pa);
			strlcpy(t->table[t->nr_tables].signature, "????", 5);
		}
		t->table[t->nr_tables++].pa = pa;
	}
}

int acpi_tables_init(struct acpi_tables *t, const struct acpi_mem *mem,
		     uint64_t rsdp_pa, uint64_t avail)
{
	const struct acpi_rsdp *r = map(mem, rsdp_pa, ACPI_RSDP_V1_LEN);
	const struct acpi_sdt_header *root = NULL;
	uint64_t xsdt = 0;

	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->rsdp_pa = rsdp_pa;
	if (avail < ACPI_RSDP_V1_LEN || !r) {
		pr_warn("acpi: RSDP at 0x%llx cannot be read (%llu bytes)\n",
			(unsigned long long)rsdp_pa, (unsigned long long)avail);
		return -EFAULT;
	}
	if (!rsdp_v1_valid(r)) {
		pr_warn("acpi: RSDP at 0x%llx has a bad signature or "
			"checksum\n", (unsigned long long)rsdp_pa);
		return -EINVAL;
	}
	t->rsdp_revision = r->revision;
	if (r->revision >= 2) {
		xsdt = rsdp_xsdt(mem, rsdp_pa, avail, r->revision);
	}
	if (xsdt) {
		root = map_table(mem, xsdt, "XSDT");
		if (!root) {
			pr_warn("acpi: XSDT unusable; trying the RSDT\n");
		}
	}
	if (root) {
		t->xsdt = true;
		t->root_pa = xsdt;
	} else {
		t->root_pa = get32((const uint8_t *)r + 16);
		if (!t->root_pa) {
			pr_warn("acpi: RSDP at 0x%llx has no RSDT address\n",
				(unsigned long long)rsdp_pa);
			return -EINVAL;
		}
		root = map_table(mem, t->root_pa, "RSDT");
		if (!root) {
			return -EINVAL;
		}
	}
	list_tables(t, root, t->xsdt ? 8 : 4);
	return 0;
}

int acpi_find_table(const struct acpi_tables *t, const char sig[4],
		    unsigned int instance, const struct acpi_sdt_header **out)
{
	for (unsigned int i = 0; i < t->nr_tables; i++) {
		if (memcmp(t->table[i].signature, sig, 4) || instance--) {
			continue;
		}
		*out = map_table(t->mem, t->table[i].pa, sig);
		return *out ? 0 : -EINVAL;
	}
	return -ENOENT;
}

uint64_t acpi_scan_rsdp(const struct acpi_mem *mem, uint64_t base,
			uint64_t len)
{
	for (uint64_t pa = ALIGN_UP(base, 16);
	     pa + ACPI_RSDP_V1_LEN <= base + len; pa += 16) {
		const struct acpi_rsdp *r = map(mem, pa, ACPI_RSDP_V1_LEN);

		if (r && rsdp_v1_valid(r)) {
			return pa;
		}
	}
	return 0;
}

/* ---- MADT ---------------------------------------------------------------- */

#define MADT_LAPIC		0x0
#define MADT_IOAPIC		0x1
#define MADT_ISO		0x2
#define MADT_LAPIC_OVERRIDE	0x5
#define MADT_X2APIC		0x9
#define MADT_GICC		0xb
#define MADT_GICD		0xc
#define MADT_GICR		0xe

#define MADT_FIXED_LEN		(ACPI_HEADER_LEN + 8)

/* The shortest subtable of each type that Strata reads (ACPI 6.5 5.2.12). */
static unsigned int madt_min_len(uint8_t type)
{
	switch (type) {
	case MADT_LAPIC:
		return 8;
	case MADT_IOAPIC:
		return 12;
	case MADT_ISO:
		return 10;
	case MADT_LAPIC_OVERRIDE:
		return 12;
	case MADT_X2APIC:
		return 16;
	case MADT_GICC:
		return 76;	/* ACPI 5.1; 6.0 made it 80, 6.3 82 */
	case MADT_GICD:
		return 24;
	case MADT_GICR:
		return 16;
	default:
		return 2;
	}
}

static bool madt_has_cpu(const struct acpi_madt *m, uint8_t kind,
			 uint32_t id)
{
	for (unsigned int i = 0; i < m->nr_cpus; i++) {
		if (m->cpus[i].kind != ACPI_CPU_GICC && kind != ACPI_CPU_GICC &&
		    m->cpus[i].id == id) {
			return true;
		}
	}
	return false;
}

/*
 * @flags as the entry has them; @online is its online-capable bit (bit 1
 * in local APIC and x2APIC entries, bit 3 in GICC entries).
 */
static void madt_add_cpu(struct acpi_madt *m, const struct acpi_cpu *c,
			 uint32_t flags, uint32_t online)
{
	bool enabled = flags & ACPI_MADT_ENABLED;

	if (!enabled && !(flags & online)) {
		m->nr_disabled++;
		return;
	}
	if (c->kind != ACPI_CPU_GICC && madt_has_cpu(m, c->kind, c->id)) {
		/* Two entries for one APIC ID (a local APIC and an x2APIC
		 * entry, or a firmware bug): the first one counts. */
		pr_warn("acpi: MADT: APIC ID %u listed twice; the second entry "
			"is ignored\n", c->id);
		m->nr_duplicates++;
		return;
	}
	if (m->nr_cpus == ACPI_MAX_CPUS) {
		m->nr_dropped++;
		return;
	}
	m->cpus[m->nr_cpus] = *c;
	m->cpus[m->nr_cpus].enabled = enabled;
	m->cpus[m->nr_cpus].online_capable = !enabled;
	m->nr_cpus++;
}

static void madt_entry(struct acpi_madt *m, const uint8_t *e)
{
	struct acpi_cpu c = { 0 };

	switch (e[0]) {
	case MADT_LAPIC:
		if (e[3] == 0xff) {
			break;	/* the CPU is described by an x2APIC entry */
		}
		c.kind = ACPI_CPU_LAPIC;
		c.uid = e[2];
		c.id = e[3];
		madt_add_cpu(m, &c, get32(e + 4), ACPI_MADT_ONLINE_CAPABLE);
		break;
	case MADT_X2APIC:
		c.kind = ACPI_CPU_X2APIC;
		c.id = get32(e + 4);
		c.uid = get32(e + 12);
		madt_add_cpu(m, &c, get32(e + 8), ACPI_MADT_ONLINE_CAPABLE);
		break;
	case MADT_GICC:
		c.kind = ACPI_CPU_GICC;
		c.id = get32(e + 4);
		c.uid = get32(e + 8);
		c.gicr_base = get64(e + 60);
		c.mpidr = get64(e + 68);
		madt_add_cpu(m, &c, get32(e + 12), ACPI_MADT_GICC_ONLINE_CAPABLE);
		break;
	case MADT_IOAPIC:
		if (m->nr_ioapics == ACPI_MAX_IOAPICS) {
			m->nr_dropped++;
			break;
		}
		m->ioapics[m->nr_ioapics++] = (struct acpi_ioapic){
			.id = e[2], .address = get32(e + 4),
			.gsi_base = get32(e + 8) };
		break;
	case MADT_ISO:
		if (m->nr_isos == ACPI_MAX_ISOS) {
			m->nr_dropped++;
			break;
		}
		m->isos[m->nr_isos++] = (struct acpi_iso){
			.bus = e[2], .source = e[3], .gsi = get32(e + 4),
			.flags = get16(e + 8) };
		break;
	case MADT_LAPIC_OVERRIDE:
		m->lapic_address = get64(e + 4);
		break;
	case MADT_GICD:
		m->has_gicd = true;
		m->gicd_base = get64(e + 8);
		m->gicd_gsi_base = get32(e + 16);
		m->gic_version = e[20];
		break;
	case MADT_GICR:
		if (m->nr_gicrs == ACPI_MAX_GICRS) {
			m->nr_dropped++;
			break;
		}
		m->gicrs[m->nr_gicrs].base = get64(e + 4);
		m->gicrs[m->nr_gicrs++].length = get32(e + 12);
		break;
	default:
		m->nr_unknown++;
		break;
	}
}

int acpi_madt_parse(const struct acpi_sdt_header *h, struct acpi_madt *m)
{
	const uint8_t *t = (const uint8_t *)h;
	uint32_t len = get32(t + 4);
	uint32_t off;

	memset(m, 0, sizeof(*m));
	if (len < MADT_FIXED_LEN) {
		pr_warn("acpi: MADT of %u bytes is shorter than its fixed "
			"part\n", len);
		return -EINVAL;
	}
	m->lapic_address = get32(t + 36);
	m->flags = get32(t + 40);
	for (off = MADT_FIXED_LEN; off < len;) {
		uint8_t type, slen;

		if (len - off < 2) {
			pr_warn("acpi: MADT: 1 stray byte at offset %u\n", off);
			return -EINVAL;
		}
		type = t[off];
		slen = t[off + 1];
		if (slen < 2) {
			pr_warn("acpi: MADT: subtable type %u at offset %u has "
				"length %u\n", type, off, slen);
			return -EINVAL;
		}
		if (slen > len - off) {
			pr_warn("acpi: MADT: subtable type %u at offset %u (%u "
				"bytes) runs past the table end (%u)\n", type,
				off, slen, len);
			return -EINVAL;
		}
		if (slen < madt_min_len(type)) {
			pr_warn("acpi: MADT: subtable type %u at offset %u is "
				"%u bytes, at least %u expected\n", type, off,
				slen, madt_min_len(type));
			return -EINVAL;
		}
		madt_entry(m, t + off);
		off += slen;
	}
	return 0;
}

/* ---- SPCR ---------------------------------------------------------------- */

#define SPCR_LEN	80	/* revisions 1 and 2; later ones are longer */

/* The baud rate of SPCR's code; 0 for "as is" or a reserved code. */
static uint32_t spcr_baud(uint8_t code)
{
	switch (code) {
	case 3:
		return 9600;
	case 4:
		return 19200;
	case 6:
		return 57600;
	case 7:
		return 115200;
	default:
		return 0;
	}
}

int acpi_spcr_parse(const struct acpi_sdt_header *h, struct acpi_spcr *s)
{
	const uint8_t *t = (const uint8_t *)h;
	uint32_t len = get32(t + 4);

	memset(s, 0, sizeof(*s));
	if (len < SPCR_LEN) {
		pr_warn("acpi: SPCR of %u bytes is shorter than %u\n", len,
			SPCR_LEN);
		return -EINVAL;
	}
	s->interface_type = t[36];
	memcpy(&s->base, t + 40, sizeof(s->base));
	s->interrupt_type = t[52];
	s->pc_irq = t[53];
	s->gsi = get32(t + 54);
	s->baud = spcr_baud(t[58]);
	return 0;
}

const char *acpi_spcr_interface(uint8_t type, char *buf, size_t size)
{
	switch (type) {
	case ACPI_SPCR_16550:
	case ACPI_SPCR_16550_GAS:
		return "16550";
	case ACPI_SPCR_16450:
		return "16450";
	case ACPI_SPCR_PL011:
		return "PL011";
	case ACPI_SPCR_ARM_SBSA_32:
	case ACPI_SPCR_ARM_SBSA:
		return "SBSA UART";
	default:
		ksnprintf(buf, size, "type 0x%x", type);
		return buf;
	}
}

/* ---- GTDT ---------------------------------------------------------------- */

#define GTDT_V1_LEN	80	/* ACPI 5.0 */
#define GTDT_V2_LEN	96	/* ACPI 5.1: platform timers */
#define GTDT_V3_LEN	104	/* ACPI 6.3: virtual EL2 timer */

static struct acpi_gtdt_timer gtdt_timer(const uint8_t *p)
{
	return (struct acpi_gtdt_timer){ get32(p), get32(p + 4) };
}

int acpi_gtdt_parse(const struct acpi_sdt_header *h, struct acpi_gtdt *g)
{
	const uint8_t *t = (const uint8_t *)h;
	uint32_t len = get32(t + 4);

	memset(g, 0, sizeof(*g));
	if (len < GTDT_V1_LEN) {
		pr_warn("acpi: GTDT of %u bytes is shorter than %u\n", len,
			GTDT_V1_LEN);
		return -EINVAL;
	}
	g->cnt_control_base = get64(t + 36);
	g->secure_el1 = gtdt_timer(t + 48);
	g->el1 = gtdt_timer(t + 56);
	g->virt = gtdt_timer(t + 64);
	g->el2 = gtdt_timer(t + 72);
	if (len >= GTDT_V2_LEN) {
		g->nr_platform_timers = get32(t + 88);
	}
	if (h->revision >= 3 && len >= GTDT_V3_LEN) {
		g->has_virt_el2 = true;
		g->virt_el2 = gtdt_timer(t + 96);
	}
	return 0;
}

/* ---- the boot report ------------------------------------------------------ */

/* Append to @buf (of @size, holding @*used bytes) without overrunning it. */
static void append(char *buf, size_t size, size_t *used, const char *fmt,
		   ...) __printf(4, 5);

static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= size - 1) {
		return;
	}
	va_start(ap, fmt);
	n = kvsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0) {
		*used = MIN(*used + (size_t)n, size - 1);
	}
}

static void report_tables(const struct acpi_tables *t)
{
	char line[256];
	size_t used = 0;

	append(line, sizeof(line), &used, "acpi: RSDP v%u at 0x%llx, %s at "
	       "0x%llx with %u tables:", t->rsdp_revision >= 2 ? 2 : 1,
	       (unsigned long long)t->rsdp_pa, t->xsdt ? "XSDT" : "RSDT",
	       (unsigned long long)t->root_pa, t->nr_tables);
	for (unsigned int i = 0; i < t->nr_tables; i++) {
		append(line, sizeof(line), &used, " %s", t->table[i].signature);
	}
	pr_info("%s\n", line);
}

#define IDS_PER_LINE	16

/*
 * One line for the CPUs (continued every IDS_PER_LINE IDs, so that no
 * count of CPUs gets its list cut), one for the interrupt controllers.
 */
static void report_madt(const struct acpi_madt *m)
{
	char line[320];
	size_t used = 0, head;
	bool gic = m->has_gicd || (m->nr_cpus &&
				   m->cpus[0].kind == ACPI_CPU_GICC);

	append(line, sizeof(line), &used, "acpi: MADT: %u CPU%s, %s",
	       m->nr_cpus, m->nr_cpus == 1 ? "" : "s",
	       gic ? "MPIDRs" : "APIC IDs");
	for (unsigned int i = 0; i < m->nr_cpus; i++) {
		const struct acpi_cpu *c = &m->cpus[i];

		if (i && !(i % IDS_PER_LINE)) {
			pr_info("%s\n", line);
			used = 0;
			append(line, sizeof(line), &used, "acpi: MADT: %s",
			       gic ? "MPIDRs" : "APIC IDs");
		}
		if (c->kind == ACPI_CPU_GICC) {
			append(line, sizeof(line), &used, " 0x%llx",
			       (unsigned long long)c->mpidr);
		} else {
			append(line, sizeof(line), &used, " %u", c->id);
		}
		if (c->online_capable) {
			append(line, sizeof(line), &used, "(online-capable)");
		}
	}
	pr_info("%s\n", line);

	used = 0;
	append(line, sizeof(line), &used, "acpi: MADT:");
	head = used;
	if (!gic) {
		append(line, sizeof(line), &used, " local APIC at 0x%llx",
		       (unsigned long long)m->lapic_address);
	}
	for (unsigned int i = 0; i < m->nr_ioapics; i++) {
		append(line, sizeof(line), &used, "%s IOAPIC id %u at 0x%x GSI %u",
		       used > head ? ";" : "", m->ioapics[i].id,
		       m->ioapics[i].address, m->ioapics[i].gsi_base);
	}
	if (m->nr_isos) {
		append(line, sizeof(line), &used, "; %u interrupt override%s",
		       m->nr_isos, m->nr_isos == 1 ? "" : "s");
	}
	if (m->has_gicd) {
		append(line, sizeof(line), &used, "%s GICv%u GICD at 0x%llx",
		       used > head ? ";" : "", m->gic_version,
		       (unsigned long long)m->gicd_base);
	}
	for (unsigned int i = 0; i < m->nr_gicrs; i++) {
		append(line, sizeof(line), &used, "; GICR at 0x%llx+0x%x",
		       (unsigned long long)m->gicrs[i].base,
		       m->gicrs[i].length);
	}
	if (used > head) {
		pr_info("%s\n", line);
	}
	if (m->nr_disabled || m->nr_dropped || m->nr_duplicates) {
		pr_info("acpi: MADT: %u disabled CPU entries, %u duplicate, %u "
			"entries beyond Strata's limits\n", m->nr_disabled,
			m->nr_duplicates, m->nr_dropped);
	}
}

static void report_spcr(const struct acpi_spcr *s)
{
	char type[16];
	char baud[16] = "as configured";

	if (s->baud) {
		ksnprintf(baud, sizeof(baud), "%u baud", s->baud);
	}
	pr_info("acpi: SPCR: %s console at %s 0x%llx, %s\n",
		acpi_spcr_interface(s->interface_type, type, sizeof(type)),
		s->base.space_id == ACPI_GAS_IO ? "I/O port" :
		s->base.space_id == ACPI_GAS_MEMORY ? "MMIO" : "space ?",
		(unsigned long long)s->base.address, baud);
}

static void report_gtdt(const struct acpi_gtdt *g)
{
	pr_info("acpi: GTDT: timer GSIVs secure EL1 %u, EL1 %u, virtual %u, "
		"EL2 %u\n", g->secure_el1.gsiv, g->el1.gsiv, g->virt.gsiv,
		g->el2.gsiv);
}

int acpi_discover(struct acpi_info *info, const struct acpi_mem *mem,
		  uint64_t rsdp_pa, uint64_t avail)
{
	const struct acpi_sdt_header *h;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = acpi_tables_init(&info->tables, mem, rsdp_pa, avail);
	if (ret) {
		pr_warn("acpi: no usable ACPI tables\n");
		return ret;
	}
	info->present = true;
	report_tables(&info->tables);
	if (!acpi_find_table(&info->tables, "APIC", 0, &h) &&
	    !acpi_madt_parse(h, &info->madt)) {
		info->has_madt = true;
		report_madt(&info->madt);
	} else {
		pr_info("acpi: no usable MADT\n");
	}
	if (!acpi_find_table(&info->tables, "SPCR", 0, &h) &&
	    !acpi_spcr_parse(h, &info->spcr)) {
		info->has_spcr = true;
		report_spcr(&info->spcr);
	} else {
		pr_info("acpi: no SPCR: the firmware names no serial "
			"console\n");
	}
	if (!acpi_find_table(&info->tables, "GTDT", 0, &h) &&
	    !acpi_gtdt_parse(h, &info->gtdt)) {
		info->has_gtdt = true;
		report_gtdt(&info->gtdt);
	}
	return 0;
}
