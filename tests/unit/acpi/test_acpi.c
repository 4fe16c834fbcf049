// SPDX-License-Identifier: MIT
/*
 * Host tests of the ACPI parser (drivers/acpi.c) on the tables QEMU 7.2
 * builds (tests/unit/acpi/README.md): pc and q35 under SeaBIOS, virt under
 * AAVMF. Each blob is put back at the physical address it was dumped from,
 * in its own exact-size heap buffer, so that ASan reports any read outside
 * the bytes the parser was allowed to see. Then one corruption per test:
 * each must give its message and an error, never a fault.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <core/console.h>
#include <drivers/acpi.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include "harness.h"

#ifndef ACPI_BLOBS
#error "ACPI_BLOBS: the directory of the table dumps"
#endif

/* ---- a fake physical address space --------------------------------------- */

#define MAX_REGIONS	32

struct region {
	uint64_t pa;
	uint8_t *buf;
	size_t len;
	char name[64];
};

static struct region regions[MAX_REGIONS];
static unsigned int nr_regions;
static unsigned int refused;	/* map() calls answered with NULL */

static const void *fake_map(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	for (unsigned int i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];

		if (pa >= r->pa && pa - r->pa <= r->len &&
		    len <= r->len - (pa - r->pa)) {
			return r->buf + (pa - r->pa);
		}
	}
	refused++;
	return NULL;
}

static const struct acpi_mem fake_mem = { fake_map, NULL };

static void mem_reset(void)
{
	for (unsigned int i = 0; i < nr_regions; i++) {
		free(regions[i].buf);
	}
	memset(regions, 0, sizeof(regions));
	nr_regions = 0;
	refused = 0;
}

/* A copy of @data at @pa, @len bytes, exactly that big on the heap. */
static uint8_t *mem_add(const char *name, uint64_t pa, const void *data,
			size_t len)
{
	struct region *r;

	if (nr_regions == MAX_REGIONS) {
		abort();
	}
	r = &regions[nr_regions++];
	r->pa = pa;
	r->len = len;
	r->buf = malloc(len ? len : 1);
	if (!r->buf) {
		abort();
	}
	if (data) {
		memcpy(r->buf, data, len);
	} else {
		memset(r->buf, 0, len);
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r->buf;
}

static struct region *region(const char *sig)
{
	for (unsigned int i = 0; i < nr_regions; i++) {
		if (strstr(regions[i].name, sig)) {
			return &regions[i];
		}
	}
	return NULL;
}

/* Cut region @r to @len bytes (a new exact-size buffer). */
static void region_truncate(struct region *r, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	memcpy(buf, r->buf, len);
	free(r->buf);
	r->buf = buf;
	r->len = len;
}

/*
 * Load every dump of @platform ("pc", "q35", "virt"): the files
 * <platform>/<platform>-<SIG>-0x<pa>.bin, each at its address. Returns the
 * RSDP's address.
 */
static uint64_t load_platform(const char *platform)
{
	char dir[512], path[1024];
	struct dirent *d;
	uint64_t rsdp = 0;
	DIR *dp;

	mem_reset();
	snprintf(dir, sizeof(dir), "%s/%s", ACPI_BLOBS, platform);
	dp = opendir(dir);
	if (!dp) {
		fprintf(stderr, "cannot open %s\n", dir);
		abort();
	}
	while ((d = readdir(dp))) {
		const char *at = strstr(d->d_name, "-0x");
		uint8_t buf[65536];
		uint64_t pa;
		size_t n;
		FILE *f;

		if (!at || !strstr(d->d_name, ".bin")) {
			continue;
		}
		pa = strtoull(at + 1, NULL, 16);
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		f = fopen(path, "rb");
		if (!f) {
			abort();
		}
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		mem_add(d->d_name, pa, buf, n);
		if (strstr(d->d_name, "-RSDP-")) {
			rsdp = pa;
		}
	}
	closedir(dp);
	if (!rsdp) {
		abort();
	}
	return rsdp;
}

static size_t load_file(const char *name, uint8_t *buf, size_t size)
{
	char path[1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ACPI_BLOBS, name);
	f = fopen(path, "rb");
	if (!f) {
		abort();
	}
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t len_of(const uint8_t *t)
{
	uint32_t v;

	memcpy(&v, t + 4, 4);
	return v;
}

/* Make the @len bytes at @t sum to 0 again through the byte at @t[@at]. */
static void fix_sum(uint8_t *t, size_t len, size_t at)
{
	uint8_t sum = 0;

	t[at] = 0;
	for (size_t i = 0; i < len; i++) {
		sum += t[i];
	}
	t[at] = (uint8_t)-sum;
}

static void fix_table(uint8_t *t)
{
	fix_sum(t, len_of(t), 9);
}

/* ---- the console, captured ---------------------------------------------- */

static char logbuf[65536];
static size_t loglen;

/* As written, without the '\r' console_write() adds before '\n'. */
static void cap_putc(char c)
{
	if (c != '\r' && loglen < sizeof(logbuf) - 1) {
		logbuf[loglen++] = c;
		logbuf[loglen] = '\0';
	}
}

static const struct console cap_console = { "capture", cap_putc };

static void log_reset(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

static bool logged(const char *s)
{
	if (!strstr(logbuf, s)) {
		fprintf(stderr, "--- log without \"%s\":\n%s---\n", s, logbuf);
		return false;
	}
	return true;
}

static struct acpi_info info;

static int discover(uint64_t rsdp, uint64_t avail)
{
	log_reset();
	return acpi_discover(&info, &fake_mem, rsdp, avail);
}

/* ---- the real tables ---------------------------------------------------- */

static void pc_tables(void)
{
	uint64_t rsdp = load_platform("pc");
	const struct acpi_madt *m = &info.madt;
	static const struct { uint8_t src; uint32_t gsi; uint16_t flags; }
	isos[] = { { 0, 2, 0 }, { 5, 5, 0xd }, { 9, 9, 0xd },
		   { 10, 10, 0xd }, { 11, 11, 0xd } };

	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(info.present);
	CHECK_EQ(info.tables.rsdp_revision, 0);
	CHECK(!info.tables.xsdt);
	CHECK_EQ(info.tables.root_pa, 0x3fe1aff);
	CHECK_EQ(info.tables.nr_tables, 4);
	CHECK(!strcmp(info.tables.table[0].signature, "FACP"));
	CHECK(!strcmp(info.tables.table[1].signature, "APIC"));
	CHECK(!strcmp(info.tables.table[2].signature, "HPET"));
	CHECK(!strcmp(info.tables.table[3].signature, "WAET"));

	/* QEMU -smp 2: two enabled local APICs with IDs 0 and 1. */
	CHECK(info.has_madt);
	CHECK_EQ(m->nr_cpus, 2);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK_EQ(m->cpus[i].kind, ACPI_CPU_LAPIC);
		CHECK_EQ(m->cpus[i].id, i);
		CHECK_EQ(m->cpus[i].uid, i);
		CHECK(m->cpus[i].enabled);
		CHECK(!m->cpus[i].online_capable);
	}
	CHECK_EQ(m->lapic_address, 0xfee00000);
	CHECK_EQ(m->flags, 1);			/* PC-AT 8259s */
	CHECK_EQ(m->nr_ioapics, 1);
	CHECK_EQ(m->ioapics[0].id, 0);
	CHECK_EQ(m->ioapics[0].address, 0xfec00000);
	CHECK_EQ(m->ioapics[0].gsi_base, 0);
	CHECK_EQ(m->nr_isos, 5);
	for (unsigned int i = 0; i < 5; i++) {
		CHECK_EQ(m->isos[i].bus, 0);
		CHECK_EQ(m->isos[i].source, isos[i].src);
		CHECK_EQ(m->isos[i].gsi, isos[i].gsi);
		CHECK_EQ(m->isos[i].flags, isos[i].flags);
	}
	CHECK_EQ(m->nr_unknown, 1);		/* the local APIC NMI entry */
	CHECK_EQ(m->nr_disabled + m->nr_dropped + m->nr_duplicates, 0);
	CHECK(!info.has_spcr);
	CHECK(!info.has_gtdt);
	CHECK(logged("acpi: RSDP v1 at 0xf59d0, RSDT at 0x3fe1aff with 4 "
		     "tables: FACP APIC HPET WAET\n"));
	CHECK(logged("acpi: MADT: 2 CPUs, APIC IDs 0 1\n"));
	CHECK(logged("acpi: MADT: local APIC at 0xfee00000; IOAPIC id 0 at "
		     "0xfec00000 GSI 0; 5 interrupt overrides\n"));
	CHECK(logged("acpi: no SPCR"));
	CHECK(!strstr(logbuf, "warning"));
	CHECK_EQ(refused, 0);
}

static void q35_tables(void)
{
	uint64_t rsdp = load_platform("q35");

	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK_EQ(info.tables.nr_tables, 5);
	CHECK(!strcmp(info.tables.table[3].signature, "MCFG"));
	/* QEMU -M q35 -smp 4 */
	CHECK(info.has_madt);
	CHECK_EQ(info.madt.nr_cpus, 4);
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_EQ(info.madt.cpus[i].id, i);
		CHECK(info.madt.cpus[i].enabled);
	}
	CHECK_EQ(info.madt.nr_ioapics, 1);
	CHECK_EQ(info.madt.ioapics[0].address, 0xfec00000);
	CHECK(logged("acpi: MADT: 4 CPUs, APIC IDs 0 1 2 3\n"));
	CHECK(!strstr(logbuf, "warning"));
}

static void virt_tables(void)
{
	uint64_t rsdp = load_platform("virt");
	const struct acpi_madt *m = &info.madt;
	const struct acpi_gtdt *g = &info.gtdt;

	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), 0);
	CHECK_EQ(info.tables.rsdp_revision, 2);
	CHECK(info.tables.xsdt);
	CHECK_EQ(info.tables.root_pa, 0x5c43fe98);
	CHECK_EQ(info.tables.nr_tables, 8);
	CHECK(logged("acpi: RSDP v2 at 0x5c430018, XSDT at 0x5c43fe98 with 8 "
		     "tables: FACP APIC PPTT GTDT MCFG SPCR DBG2 IORT\n"));

	/* QEMU -M virt,gic-version=3 -smp 2 */
	CHECK(info.has_madt);
	CHECK_EQ(m->nr_cpus, 2);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK_EQ(m->cpus[i].kind, ACPI_CPU_GICC);
		CHECK_EQ(m->cpus[i].mpidr, i);
		CHECK_EQ(m->cpus[i].uid, i);
		CHECK_EQ(m->cpus[i].id, i);
		CHECK(m->cpus[i].enabled);
		CHECK_EQ(m->cpus[i].gicr_base, 0);
	}
	CHECK(m->has_gicd);
	CHECK_EQ(m->gic_version, 3);
	CHECK_EQ(m->gicd_base, 0x8000000);
	CHECK_EQ(m->gicd_gsi_base, 0);
	CHECK_EQ(m->nr_gicrs, 1);
	CHECK_EQ(m->gicrs[0].base, 0x80a0000);
	CHECK_EQ(m->gicrs[0].length, 0xf60000);
	CHECK_EQ(m->nr_unknown, 1);		/* the ITS */
	CHECK(logged("acpi: MADT: 2 CPUs, MPIDRs 0x0 0x1\n"));
	CHECK(logged("acpi: MADT: GICv3 GICD at 0x8000000; GICR at "
		     "0x80a0000+0xf60000\n"));

	CHECK(info.has_spcr);
	CHECK_EQ(info.spcr.interface_type, ACPI_SPCR_PL011);
	CHECK_EQ(info.spcr.base.space_id, ACPI_GAS_MEMORY);
	CHECK_EQ(info.spcr.base.address, 0x9000000);
	CHECK_EQ(info.spcr.interrupt_type, 8);	/* GIC */
	CHECK_EQ(info.spcr.gsi, 33);
	CHECK_EQ(info.spcr.baud, 9600);
	CHECK(logged("acpi: SPCR: PL011 console at MMIO 0x9000000, 9600 "
		     "baud\n"));

	CHECK(info.has_gtdt);
	CHECK_EQ(g->secure_el1.gsiv, 29);
	CHECK_EQ(g->el1.gsiv, 30);
	CHECK_EQ(g->el1.flags, ACPI_GTDT_ALWAYS_ON);
	CHECK_EQ(g->virt.gsiv, 27);
	CHECK_EQ(g->el2.gsiv, 26);
	CHECK_EQ(g->cnt_control_base, ~0ULL);
	CHECK(!g->has_virt_el2);
	CHECK(logged("acpi: GTDT: timer GSIVs secure EL1 29, EL1 30, virtual "
		     "27, EL2 26\n"));
	CHECK(!strstr(logbuf, "warning"));
	CHECK_EQ(refused, 0);
}

/* The iasl-compiled SPCR of asl/pc-SPCR.asl: COM1 at 115200. */
static void pc_spcr(void)
{
	uint8_t buf[256];
	size_t n = load_file("pc-SPCR.bin", buf, sizeof(buf));
	struct acpi_spcr s;
	char tmp[16];

	CHECK_EQ(n, 80);
	CHECK_EQ(acpi_spcr_parse((const struct acpi_sdt_header *)buf, &s), 0);
	CHECK_EQ(s.interface_type, ACPI_SPCR_16550);
	CHECK(!strcmp(acpi_spcr_interface(s.interface_type, tmp,
					  sizeof(tmp)), "16550"));
	CHECK_EQ(s.base.space_id, ACPI_GAS_IO);
	CHECK_EQ(s.base.bit_width, 8);
	CHECK_EQ(s.base.address, 0x3f8);
	CHECK_EQ(s.interrupt_type, 1);
	CHECK_EQ(s.pc_irq, 4);
	CHECK_EQ(s.baud, 115200);
	CHECK(!strcmp(acpi_spcr_interface(0x42, tmp, sizeof(tmp)),
		      "type 0x42"));
}

/* The pc tables with the iasl SPCR added to the RSDT. */
static void spcr_listed_in_rsdt(void)
{
	uint64_t rsdp = load_platform("pc");
	struct region *rsdt = region("RSDT");
	uint8_t spcr[256], *t;
	uint32_t len;

	load_file("pc-SPCR.bin", spcr, sizeof(spcr));
	spcr[44] = 0xf8;
	spcr[45] = 0x02;	/* COM2 */
	fix_table(spcr);
	mem_add("SPCR", 0x7000, spcr, 80);
	len = (uint32_t)rsdt->len + 4;
	t = malloc(len);
	memcpy(t, rsdt->buf, rsdt->len);
	put32(t + len - 4, 0x7000);
	put32(t + 4, len);
	fix_table(t);
	free(rsdt->buf);
	rsdt->buf = t;
	rsdt->len = len;

	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(info.has_spcr);
	CHECK_EQ(info.spcr.base.address, 0x2f8);
	CHECK(logged("acpi: SPCR: 16550 console at I/O port 0x2f8, 115200 "
		     "baud\n"));
}

/* ---- the RSDP ----------------------------------------------------------- */

static void rsdp_bad_checksum(void)
{
	uint64_t rsdp = load_platform("pc");

	region("RSDP")->buf[8] ^= 1;
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(!info.present);
	CHECK(logged("RSDP at 0xf59d0 has a bad signature or checksum"));
}

static void rsdp_bad_signature(void)
{
	uint64_t rsdp = load_platform("pc");
	uint8_t *r = region("RSDP")->buf;

	r[0] = 'X';
	fix_sum(r, 20, 8);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("bad signature or checksum"));
}

static void rsdp_nowhere(void)
{
	load_platform("pc");
	CHECK_EQ(discover(0x12340, ACPI_RSDP_V1_LEN), -EFAULT);
	CHECK(logged("RSDP at 0x12340 cannot be read"));
	CHECK_EQ(discover(0, ACPI_RSDP_V1_LEN), -EFAULT);
	CHECK(logged("RSDP at 0x0 cannot be read"));
	/* A tag too short to hold even the ACPI 1.0 part. */
	CHECK_EQ(discover(0xf59d0, 19), -EFAULT);
	CHECK(logged("RSDP at 0xf59d0 cannot be read (19 bytes)"));
	/* Wrapping around the top of the address space. */
	CHECK_EQ(discover(~0ULL - 4, ACPI_RSDP_V1_LEN), -EFAULT);
}

static void rsdt_nowhere(void)
{
	uint64_t rsdp = load_platform("pc");
	uint8_t *r = region("RSDP")->buf;

	put32(r + 16, 0x5000000);
	fix_sum(r, 20, 8);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("table at 0x5000000 cannot be read"));
	put32(r + 16, 0);
	fix_sum(r, 20, 8);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("has no RSDT address"));
	/* The RSDT address points at another table. */
	put32(r + 16, 0x3fe1a1f);
	fix_sum(r, 20, 8);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("table at 0x3fe1a1f is \"APIC\", expected RSDT"));
}

/* A revision 2 RSDP whose extension is broken: the XSDT is not used. */
static void rsdp_v2_broken_extension(void)
{
	uint64_t rsdp = load_platform("virt");
	uint8_t *r = region("RSDP")->buf;

	/* A multiboot2 tag 14 holds only the 20-byte copy. */
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("RSDP revision 2 but only 20 bytes; using the RSDT"));
	CHECK(logged("has no RSDT address"));

	r[32] ^= 0x55;	/* the extended checksum */
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), -EINVAL);
	CHECK(logged("bad extended checksum; using the RSDT"));
	r[32] ^= 0x55;

	put32(r + 20, 4096 * 2);	/* length */
	fix_sum(r, 36, 32);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), -EINVAL);
	CHECK(logged("RSDP revision 2 with bad length 8192"));
	put32(r + 20, 20);
	fix_sum(r, 36, 32);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), -EINVAL);
	CHECK(logged("RSDP revision 2 with bad length 20"));
	/* Longer than the bytes there are (36). */
	put32(r + 20, 40);
	fix_sum(r, 36, 32);
	CHECK_EQ(discover(rsdp, 64), -EINVAL);
	CHECK(logged("RSDP revision 2: its 40 bytes cannot be read"));
}

/* A broken XSDT falls back to a good RSDT. */
static void xsdt_broken_rsdt_used(void)
{
	uint64_t rsdp = load_platform("virt");
	uint8_t *r = region("RSDP")->buf;
	uint8_t rsdt[36 + 8];

	/* Build an RSDT listing the same MADT and GTDT. */
	memcpy(rsdt, region("XSDT")->buf, 36);
	memcpy(rsdt, "RSDT", 4);
	put32(rsdt + 4, sizeof(rsdt));
	put32(rsdt + 36, 0x5c43fc18);
	put32(rsdt + 40, 0x5c43d898);
	fix_table(rsdt);
	mem_add("RSDT", 0x6000, rsdt, sizeof(rsdt));
	put32(r + 16, 0x6000);
	fix_sum(r, 20, 8);
	fix_sum(r, 36, 32);

	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), 0);
	CHECK(info.tables.xsdt);		/* still good */
	region("XSDT")->buf[20] ^= 1;
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), 0);
	CHECK(logged("XSDT at 0x5c43fe98 has a bad checksum"));
	CHECK(logged("XSDT unusable; trying the RSDT"));
	CHECK(!info.tables.xsdt);
	CHECK_EQ(info.tables.nr_tables, 2);
	CHECK_EQ(info.madt.nr_cpus, 2);
	CHECK(info.has_gtdt);
}

/* ---- the root table ----------------------------------------------------- */

static void root_bad_checksum(void)
{
	uint64_t rsdp = load_platform("pc");

	region("RSDT")->buf[40] ^= 0x10;
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("RSDT at 0x3fe1aff has a bad checksum"));
}

static void root_bad_length(void)
{
	uint64_t rsdp = load_platform("pc");
	uint8_t *t = region("RSDT")->buf;

	put32(t + 4, 35);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("RSDT at 0x3fe1aff has bad length 35"));
	put32(t + 4, 0);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("has bad length 0"));
	put32(t + 4, 0xffffffff);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("has bad length 4294967295"));
	/* Plausible, but running past the bytes that are there. */
	put32(t + 4, 4096);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("RSDT at 0x3fe1aff (4096 bytes) cannot be read"));
}

static void root_truncated(void)
{
	uint64_t rsdp = load_platform("pc");

	region_truncate(region("RSDT"), 50);	/* 52 bytes long */
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("RSDT at 0x3fe1aff (52 bytes) cannot be read"));
	region_truncate(region("RSDT"), 20);	/* not even a header */
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), -EINVAL);
	CHECK(logged("table at 0x3fe1aff cannot be read"));
}

/* A length that is not a whole number of entries: the rest is ignored. */
static void root_partial_entry(void)
{
	uint64_t rsdp = load_platform("pc");
	uint8_t *t = region("RSDT")->buf;

	put32(t + 4, 50);
	fix_sum(t, 50, 9);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("root table length 50 is not a whole number of entries"));
	CHECK_EQ(info.tables.nr_tables, 3);
	CHECK(info.has_madt);
}

static void root_entry_nowhere(void)
{
	uint64_t rsdp = load_platform("pc");
	uint8_t *t = region("RSDT")->buf;

	put32(t + 40, 0x9000000);	/* the MADT's entry */
	fix_table(t);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("root table entry 1 (0x9000000) cannot be read"));
	CHECK(!strcmp(info.tables.table[1].signature, "????"));
	CHECK(!info.has_madt);
	CHECK(logged("no usable MADT"));
	put32(t + 40, 0);
	fix_table(t);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("root table entry 1 (0x0) cannot be read"));
}

/* More tables than Strata keeps: the first ACPI_MAX_TABLES count. */
static void root_too_many_tables(void)
{
	uint64_t rsdp = load_platform("pc");
	uint32_t n = ACPI_MAX_TABLES + 3, len = 36 + 4 * n;
	uint8_t *t = malloc(len);
	struct region *r = region("RSDT");

	memcpy(t, r->buf, 36);
	for (uint32_t i = 0; i < n; i++) {
		put32(t + 36 + 4 * i, 0x3fe1a1f);	/* the MADT, again */
	}
	put32(t + 4, len);
	fix_table(t);
	free(r->buf);
	r->buf = t;
	r->len = len;
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK_EQ(info.tables.nr_tables, ACPI_MAX_TABLES);
	CHECK_EQ(info.tables.nr_dropped, 3);
	CHECK(logged("3 more tables than Strata keeps (64); ignored"));
	CHECK(info.has_madt);
}

/* ---- the MADT ----------------------------------------------------------- */

static uint8_t *pc_madt(uint64_t *rsdp)
{
	*rsdp = load_platform("pc");
	return region("APIC")->buf;
}

static void madt_bad_checksum(void)
{
	uint64_t rsdp;
	uint8_t *t = pc_madt(&rsdp);

	t[50] ^= 1;
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);	/* the rest is fine */
	CHECK(logged("APIC at 0x3fe1a1f has a bad checksum"));
	CHECK(logged("no usable MADT"));
	CHECK(!info.has_madt);
	CHECK_EQ(info.madt.nr_cpus, 0);
}

/* Subtables start at 44: LAPIC 0 (8), LAPIC 1 (8), IOAPIC (12), ISOs. */
static void madt_zero_length_subtable(void)
{
	uint64_t rsdp;
	uint8_t *t = pc_madt(&rsdp);

	t[53] = 0;	/* the second local APIC */
	fix_table(t);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("MADT: subtable type 0 at offset 52 has length 0"));
	CHECK(!info.has_madt);
	t[53] = 1;
	fix_table(t);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("MADT: subtable type 0 at offset 52 has length 1"));
}

static void madt_subtable_past_end(void)
{
	uint64_t rsdp;
	uint8_t *t = pc_madt(&rsdp);

	t[61] = 200;	/* the IOAPIC at 60 */
	fix_table(t);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("MADT: subtable type 1 at offset 60 (200 bytes) runs "
		     "past the table end (128)"));
	CHECK(!info.has_madt);
	t[61] = 0xff;
	fix_table(t);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("(255 bytes) runs past the table end"));
}

static void madt_subtable_too_short(void)
{
	uint64_t rsdp;
	uint8_t *t = pc_madt(&rsdp);

	/* An IOAPIC entry of 6 bytes (the rest a 6-byte unknown one). */
	t[61] = 6;
	t[66] = 0x7f;
	t[67] = 6;
	fix_table(t);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("MADT: subtable type 1 at offset 60 is 6 bytes, at least "
		     "12 expected"));
	CHECK(!info.has_madt);
}

/* The table's length ends inside a subtable. */
static void madt_truncated(void)
{
	uint64_t rsdp;
	uint8_t *t = pc_madt(&rsdp);
	struct region *r = region("APIC");

	put32(t + 4, 65);	/* 5 bytes into the IOAPIC entry */
	fix_sum(t, 65, 9);
	region_truncate(r, 65);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("MADT: subtable type 1 at offset 60 (12 bytes) runs past "
		     "the table end (65)"));
	CHECK(!info.has_madt);

	t = r->buf;
	put32(t + 4, 61);	/* one byte of a subtable header */
	fix_sum(t, 61, 9);
	region_truncate(r, 61);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("MADT: 1 stray byte at offset 60"));

	t = r->buf;
	put32(t + 4, 40);	/* not even the fixed part */
	fix_sum(t, 40, 9);
	region_truncate(r, 40);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("MADT of 40 bytes is shorter than its fixed part"));
	CHECK(!info.has_madt);
}

/* The length says 128 but the memory there holds only 100 bytes. */
static void madt_length_past_memory(void)
{
	uint64_t rsdp;

	pc_madt(&rsdp);
	region_truncate(region("APIC"), 100);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V1_LEN), 0);
	CHECK(logged("APIC at 0x3fe1a1f (128 bytes) cannot be read"));
	CHECK(!info.has_madt);
}

/* A synthetic MADT: the header of the pc one, then @body. */
static const struct acpi_sdt_header *madt_of(const uint8_t *body,
					     size_t len)
{
	static uint8_t t[4096];
	uint8_t pc[256];
	size_t n = 0;

	load_file("pc/pc-APIC-0x3fe1a1f.bin", pc, sizeof(pc));
	memcpy(t, pc, 44);
	n = 44 + len;
	memcpy(t + 44, body, len);
	put32(t + 4, (uint32_t)n);
	fix_table(t);
	return (const struct acpi_sdt_header *)t;
}

static size_t lapic(uint8_t *p, uint8_t uid, uint8_t id, uint32_t flags)
{
	p[0] = 0;
	p[1] = 8;
	p[2] = uid;
	p[3] = id;
	put32(p + 4, flags);
	return 8;
}

static size_t x2apic(uint8_t *p, uint32_t id, uint32_t flags, uint32_t uid)
{
	memset(p, 0, 16);
	p[0] = 9;
	p[1] = 16;
	put32(p + 4, id);
	put32(p + 8, flags);
	put32(p + 12, uid);
	return 16;
}

static void madt_flags_x2apic_and_duplicates(void)
{
	uint8_t body[256];
	size_t n = 0;
	struct acpi_madt m;

	n += lapic(body + n, 0, 0, 1);			/* enabled */
	n += lapic(body + n, 1, 2, 2);			/* online-capable */
	n += lapic(body + n, 2, 4, 0);			/* neither */
	n += lapic(body + n, 3, 0xff, 1);		/* no such APIC ID */
	n += x2apic(body + n, 300, 1, 7);		/* beyond 8 bits */
	n += x2apic(body + n, 0, 1, 0);			/* repeats LAPIC 0 */
	/* A local APIC address override. */
	memset(body + n, 0, 12);
	body[n] = 5;
	body[n + 1] = 12;
	put64(body + n + 4, 0x1fee00000ULL);
	n += 12;
	log_reset();
	CHECK_EQ(acpi_madt_parse(madt_of(body, n), &m), 0);
	CHECK_EQ(m.nr_cpus, 3);
	CHECK_EQ(m.cpus[0].id, 0);
	CHECK(m.cpus[0].enabled);
	CHECK_EQ(m.cpus[1].id, 2);
	CHECK(!m.cpus[1].enabled);
	CHECK(m.cpus[1].online_capable);
	CHECK_EQ(m.cpus[2].kind, ACPI_CPU_X2APIC);
	CHECK_EQ(m.cpus[2].id, 300);
	CHECK_EQ(m.cpus[2].uid, 7);
	CHECK_EQ(m.nr_disabled, 1);
	CHECK_EQ(m.nr_duplicates, 1);
	CHECK(logged("APIC ID 0 listed twice"));
	CHECK_EQ(m.lapic_address, 0x1fee00000ULL);
}

static void madt_limits(void)
{
	static uint8_t body[2048];
	size_t n = 0;
	struct acpi_madt m;

	for (unsigned int i = 0; i < ACPI_MAX_CPUS + 5; i++) {
		n += lapic(body + n, (uint8_t)i, (uint8_t)i, 1);
	}
	for (unsigned int i = 0; i < ACPI_MAX_IOAPICS + 2; i++) {
		memset(body + n, 0, 12);
		body[n] = 1;
		body[n + 1] = 12;
		body[n + 2] = (uint8_t)i;
		n += 12;
	}
	CHECK_EQ(acpi_madt_parse(madt_of(body, n), &m), 0);
	CHECK_EQ(m.nr_cpus, ACPI_MAX_CPUS);
	CHECK_EQ(m.nr_ioapics, ACPI_MAX_IOAPICS);
	CHECK_EQ(m.nr_dropped, 5 + 2);
	CHECK_EQ(m.cpus[ACPI_MAX_CPUS - 1].id, ACPI_MAX_CPUS - 1);
}

/* The GICC online-capable flag is bit 3 (bit 1 is the perf. IRQ mode). */
static void madt_gicc_flags(void)
{
	uint8_t body[3 * 80];
	struct acpi_madt m;

	memset(body, 0, sizeof(body));
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t *g = body + 80 * i;

		g[0] = 0xb;
		g[1] = 80;
		put32(g + 4, i);
		put32(g + 8, i);
		put64(g + 68, 0x100 * i);
	}
	put32(body + 12, 1);			/* enabled */
	put32(body + 80 + 12, 2);		/* edge-triggered PMU: no CPU */
	put32(body + 160 + 12, 8);		/* online-capable */
	CHECK_EQ(acpi_madt_parse(madt_of(body, sizeof(body)), &m), 0);
	CHECK_EQ(m.nr_cpus, 2);
	CHECK_EQ(m.cpus[0].mpidr, 0);
	CHECK(m.cpus[0].enabled);
	CHECK_EQ(m.cpus[1].mpidr, 0x200);
	CHECK(m.cpus[1].online_capable);
	CHECK_EQ(m.nr_disabled, 1);

	/* A GICC entry of ACPI 5.0 length (shorter than the MPIDR). */
	body[1] = 40;
	CHECK_EQ(acpi_madt_parse(madt_of(body, 40), &m), -EINVAL);
}

/* ---- SPCR and GTDT ------------------------------------------------------ */

static void spcr_gtdt_too_short(void)
{
	uint64_t rsdp = load_platform("virt");
	struct region *r;
	uint8_t *t;

	r = region("SPCR");
	t = r->buf;
	put32(t + 4, 60);
	fix_sum(t, 60, 9);
	region_truncate(r, 60);
	r = region("GTDT");
	t = r->buf;
	put32(t + 4, 70);
	fix_sum(t, 70, 9);
	region_truncate(r, 70);
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), 0);
	CHECK(logged("SPCR of 60 bytes is shorter than 80"));
	CHECK(logged("GTDT of 70 bytes is shorter than 80"));
	CHECK(!info.has_spcr);
	CHECK(!info.has_gtdt);
	CHECK(info.has_madt);
}

static void spcr_bad_checksum(void)
{
	uint64_t rsdp = load_platform("virt");

	region("SPCR")->buf[44] ^= 1;
	CHECK_EQ(discover(rsdp, ACPI_RSDP_V2_LEN), 0);
	CHECK(logged("SPCR at 0x5c43e818 has a bad checksum"));
	CHECK(!info.has_spcr);
}

/* ---- the BIOS scan ------------------------------------------------------ */

static void scan_finds_rsdp(void)
{
	uint8_t rsdp[20];
	uint8_t *rom;

	load_file("pc/pc-RSDP-0xf59d0.bin", rsdp, sizeof(rsdp));
	mem_reset();
	rom = mem_add("rom", 0xe0000, NULL, 0x20000);
	memcpy(rom + 0x159d0, rsdp, 20);
	/* Decoys: the signature off a 16-byte boundary; a bad checksum. */
	memcpy(rom + 0x1004, rsdp, 20);
	memcpy(rom + 0x2000, rsdp, 20);
	rom[0x2000 + 9] ^= 1;
	CHECK_EQ(acpi_scan_rsdp(&fake_mem, 0xe0000, 0x20000), 0xf59d0);
	/* At the very end of the area. */
	memset(rom + 0x159d0, 0, 20);
	memcpy(rom + 0x20000 - 32, rsdp, 20);
	CHECK_EQ(acpi_scan_rsdp(&fake_mem, 0xe0000, 0x20000), 0xfffe0);
	memset(rom + 0x20000 - 32, 0, 20);
	CHECK_EQ(acpi_scan_rsdp(&fake_mem, 0xe0000, 0x20000), 0);
	/* An area the map refuses is not read. */
	CHECK_EQ(acpi_scan_rsdp(&fake_mem, 0x80000, 0x400), 0);
}

/* ---- every byte ---------------------------------------------------------- */

/*
 * Every single-byte change to every table of each platform, with the
 * checksum made right again so that the change reaches the decoders: each
 * run either succeeds or fails with a message, and ASan sees every read.
 */
static void every_byte_changed(void)
{
	static const char *const platforms[] = { "pc", "q35", "virt" };
	static const uint8_t values[] = { 0x00, 0x01, 0x02, 0x7f, 0xff };
	unsigned int runs = 0;

	log_level = LOG_INFO;
	for (unsigned int p = 0; p < 3; p++) {
		uint64_t rsdp = load_platform(platforms[p]);

		for (unsigned int i = 0; i < nr_regions; i++) {
			struct region *r = &regions[i];
			bool is_rsdp = strstr(r->name, "RSDP");

			for (size_t off = 0; off < r->len; off++) {
				uint8_t old = r->buf[off];
				uint8_t sum_old = r->buf[is_rsdp ? 8 : 9];
				uint8_t ext_old = is_rsdp && r->len > 32 ?
						  r->buf[32] : 0;

				for (unsigned int v = 0; v < sizeof(values);
				     v++) {
					int ret;

					r->buf[off] = values[v];
					if (off != 8 && off != 9 && off != 32) {
						if (is_rsdp) {
							fix_sum(r->buf, 20, 8);
							if (r->len > 32) {
								fix_sum(r->buf,
									r->len,
									32);
							}
						} else if (len_of(r->buf) ==
							   r->len) {
							fix_table(r->buf);
						}
					}
					ret = discover(rsdp, r->len > 32 &&
						       is_rsdp ? 36 : 20);
					runs++;
					CHECK(ret == 0 || strstr(logbuf,
								 "warning"));
					CHECK(info.madt.nr_cpus <=
					      ACPI_MAX_CPUS);
					r->buf[off] = old;
					r->buf[is_rsdp ? 8 : 9] = sum_old;
					if (is_rsdp && r->len > 32) {
						r->buf[32] = ext_old;
					}
				}
			}
		}
	}
	printf("# %u runs\n", runs);
}

/* Random garbage as an MADT, SPCR and GTDT body. */
static void random_tables(void)
{
	static uint8_t t[512];
	unsigned int rounds = test_long ? 200000 : 20000;

	for (unsigned int i = 0; i < rounds; i++) {
		uint32_t len = 36 + (uint32_t)(test_rand() % (sizeof(t) - 36));
		uint8_t *copy;
		struct acpi_madt m;
		struct acpi_spcr s;
		struct acpi_gtdt g;

		for (uint32_t j = 0; j < len; j++) {
			t[j] = (uint8_t)test_rand();
		}
		/* Subtables of the types Strata reads, mostly as long as
		 * they should be, so that many get decoded. */
		for (uint32_t j = 44; j + 1 < len;) {
			static const uint8_t types[][2] = {
				{ 0, 8 }, { 1, 12 }, { 2, 10 }, { 5, 12 },
				{ 9, 16 }, { 0xb, 80 }, { 0xc, 24 },
				{ 0xe, 16 }, { 0x4, 6 } };
			unsigned int k = test_rand() % 9;
			uint8_t l = types[k][1];

			if (test_rand() % 8 == 0) {
				l = (uint8_t)test_rand();
			}
			t[j] = types[k][0];
			t[j + 1] = l;
			j += l ? l : 1;
		}
		put32(t + 4, len);
		copy = malloc(len);
		memcpy(copy, t, len);
		log_reset();
		acpi_madt_parse((const struct acpi_sdt_header *)copy, &m);
		CHECK(m.nr_cpus <= ACPI_MAX_CPUS);
		acpi_spcr_parse((const struct acpi_sdt_header *)copy, &s);
		acpi_gtdt_parse((const struct acpi_sdt_header *)copy, &g);
		free(copy);
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "acpi");
	console_register(&cap_console);
	log_level = LOG_INFO;
	RUN_TEST(pc_tables);
	RUN_TEST(q35_tables);
	RUN_TEST(virt_tables);
	RUN_TEST(pc_spcr);
	RUN_TEST(spcr_listed_in_rsdt);
	RUN_TEST(rsdp_bad_checksum);
	RUN_TEST(rsdp_bad_signature);
	RUN_TEST(rsdp_nowhere);
	RUN_TEST(rsdt_nowhere);
	RUN_TEST(rsdp_v2_broken_extension);
	RUN_TEST(xsdt_broken_rsdt_used);
	RUN_TEST(root_bad_checksum);
	RUN_TEST(root_bad_length);
	RUN_TEST(root_truncated);
	RUN_TEST(root_partial_entry);
	RUN_TEST(root_entry_nowhere);
	RUN_TEST(root_too_many_tables);
	RUN_TEST(madt_bad_checksum);
	RUN_TEST(madt_zero_length_subtable);
	RUN_TEST(madt_subtable_past_end);
	RUN_TEST(madt_subtable_too_short);
	RUN_TEST(madt_truncated);
	RUN_TEST(madt_length_past_memory);
	RUN_TEST(madt_flags_x2apic_and_duplicates);
	RUN_TEST(madt_limits);
	RUN_TEST(madt_gicc_flags);
	RUN_TEST(spcr_gtdt_too_short);
	RUN_TEST(spcr_bad_checksum);
	RUN_TEST(scan_finds_rsdp);
	RUN_TEST(every_byte_changed);
	RUN_TEST(random_tables);
	mem_reset();
	return test_done();
}
