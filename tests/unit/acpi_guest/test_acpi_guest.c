// SPDX-License-Identifier: MIT
/*
 * Host tests of the ACPI tables an x86 guest gets
 * (arch/x86/guest_acpi_tables.c, docs/x86-acpi.md): built as at 0xe0000,
 * found by Strata's own RSDP scan and parser (drivers/acpi.c), and written
 * to files that iasl (acpica-tools) disassembles: the DSDT's AML must
 * decompile to Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) and
 * no table may draw a checksum, length or field complaint from iasl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <arch/guest_acpi.h>
#include <arch/irqchip.h>
#include <drivers/acpi.h>
#include "harness.h"

#define AREA	X86_ACPI_AREA

static uint8_t area[X86_ACPI_AREA_SIZE];

static const void *area_map(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	if (pa < AREA || pa - AREA > sizeof(area) ||
	    len > sizeof(area) - (pa - AREA)) {
		return NULL;
	}
	return area + (pa - AREA);
}

static const struct acpi_mem mem = { area_map, NULL };

static uint64_t ram_end = 128ULL << 20;

static size_t build(unsigned int cpus)
{
	struct x86_acpi_machine m = { .nr_cpus = cpus, .ioapic_id = cpus,
				      .ram_end = ram_end };

	memset(area, 0, sizeof(area));
	return x86_acpi_build_tables(area, AREA, &m);
}

/* The scan finds the RSDP; the parser finds FADT, MADT and their data. */
static void parser_reads_them(void)
{
	struct acpi_tables t;
	const struct acpi_sdt_header *madt, *fadt, *dsdt;
	struct acpi_madt m;
	uint64_t rsdp;
	uint32_t dsdt_pa;

	CHECK(build(3) > 0);
	rsdp = acpi_scan_rsdp(&mem, AREA, sizeof(area));
	CHECK_EQ(rsdp, AREA);
	CHECK_EQ(acpi_tables_init(&t, &mem, rsdp, 36), 0);
	CHECK_EQ(acpi_find_table(&t, "APIC", 0, &madt), 0);
	CHECK_EQ(madt->revision, 6);		/* ACPI 6.5 */
	CHECK_EQ(acpi_find_table(&t, "FACP", 0, &fadt), 0);
	CHECK_EQ(acpi_madt_parse(madt, &m), 0);
	CHECK_EQ(m.lapic_address, 0xfee00000);
	CHECK_EQ(m.flags & 1, 1);
	CHECK_EQ(m.nr_cpus, 3);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK(m.cpus[i].enabled);
		CHECK_EQ(m.cpus[i].id, i);
	}
	CHECK_EQ(m.nr_ioapics, 1);
	CHECK_EQ(m.ioapics[0].id, 3);
	CHECK_EQ(m.ioapics[0].address, X86_IOAPIC_BASE);
	CHECK_EQ(m.ioapics[0].gsi_base, 0);
	CHECK_EQ(m.nr_isos, 2);
	CHECK(m.isos[0].source == 0 && m.isos[0].gsi == 2 &&
	      m.isos[0].flags == 0);
	CHECK(m.isos[1].source == 9 && m.isos[1].gsi == 9 &&
	      m.isos[1].flags == 0xd);
	/* FADT: its DSDT is there with a good checksum. */
	memcpy(&dsdt_pa, (const uint8_t *)fadt + 40, 4);
	dsdt = area_map(NULL, dsdt_pa, 36);
	CHECK(dsdt && !memcmp(dsdt->signature, "DSDT", 4));
	if (dsdt) {
		uint8_t s = 0;

		for (uint32_t i = 0; i < dsdt->length; i++) {
			s += ((const uint8_t *)dsdt)[i];
		}
		CHECK_EQ(s, 0);
	}
}

/* More CPUs than the area holds are refused, not truncated. */
static void too_many_cpus(void)
{
	CHECK_EQ(build(256), 0);
	CHECK(build(255) > 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n;

	if (!f) {
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Write table @sig (found through the XSDT) to DIR/sig.dat. */
static bool dump(const char *sig, const char *dir)
{
	struct acpi_tables t;
	const struct acpi_sdt_header *h = NULL;
	char path[512];
	FILE *f;

	if (acpi_tables_init(&t, &mem, AREA, 36)) {
		return false;
	}
	if (!strcmp(sig, "DSDT")) {
		const struct acpi_sdt_header *fadt;
		uint32_t pa;

		if (acpi_find_table(&t, "FACP", 0, &fadt)) {
			return false;
		}
		memcpy(&pa, (const uint8_t *)fadt + 40, 4);
		h = area_map(NULL, pa, 36);
	} else if (acpi_find_table(&t, sig, 0, &h)) {
		return false;
	}
	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	f = fopen(path, "wb");
	if (!f || !h) {
		return false;
	}
	fwrite(h, 1, h->length, f);
	fclose(f);
	return true;
}

/*
 * iasl -d on each table: it must disassemble without a complaint, and
 * the DSDT must say \_S5 is { 5, 5, 0, 0 }.
 */
static void iasl_agrees(void)
{
	static const char *const sigs[] = { "DSDT", "FACP", "APIC" };
	const char *dir = ACPI_GUEST_TMP;
	char cmd[1024], path[512];
	char *out;

	CHECK(build(2) > 0);
	mkdir(dir, 0755);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK(dump(sigs[i], dir));
		snprintf(cmd, sizeof(cmd), "cd %s && rm -f %s.dsl && "
			 "iasl -d %s.dat > %s.log 2>&1", dir, sigs[i],
			 sigs[i], sigs[i]);
		if (system(cmd)) {
			snprintf(path, sizeof(path), "%s/%s.log", dir, sigs[i]);
			out = slurp(path);
			printf("# iasl -d %s failed (install acpica-tools: "
			       "tools/install-deps.sh): %s\n", sigs[i],
			       out ? out : "");
			CHECK(!"iasl -d");
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s.dsl", dir, sigs[i]);
		out = slurp(path);
		CHECK(out);
		if (!out) {
			continue;
		}
		CHECK(!strstr(out, "Incorrect checksum"));
		CHECK(!strstr(out, "Error"));
		CHECK(!strstr(out, "Invalid"));
		CHECK(!strstr(out, "Warning"));
		if (!strcmp(sigs[i], "DSDT")) {
			CHECK(strstr(out, "Name (\\_S5, Package (0x04)"));
			CHECK(strstr(out, "0x05, \n") || strstr(out, "0x05,\n"));
			CHECK(strstr(out, "DefinitionBlock (\"\", \"DSDT\", 2, "
				     "\"STRATA\", \"STRATAVM\", 0x00000001)"));
			/* The host bridge and its windows, COM1. */
			CHECK(strstr(out, "Device (PCI0)"));
			CHECK(strstr(out, "Name (_HID, EisaId (\"PNP0A03\")"));
			CHECK(strstr(out, "WordBusNumber (ResourceProducer, "
				     "MinFixed, MaxFixed, PosDecode,"));
			CHECK(strstr(out, "IO (Decode16,\n"));
			CHECK(strstr(out, "0x0CF8,             // Range Minimum"));
			CHECK(strstr(out, "0x0CF7,             // Range Maximum"));
			CHECK(strstr(out, "0x0D00,             // Range Minimum"));
			CHECK(strstr(out, "0x000BFFFF,         // Range Maximum"));
			CHECK(strstr(out, "0x08000000,         // Range Minimum"));
			CHECK(strstr(out, "0xFDFFFFFF,         // Range Maximum"));
			CHECK(strstr(out, "0xF6000000,         // Length"));
			CHECK(strstr(out, "Device (COM1)"));
			CHECK(strstr(out, "Name (_HID, EisaId (\"PNP0501\")"));
			CHECK(strstr(out, "0x03F8,             // Range Minimum"));
			CHECK(strstr(out, "IRQNoFlags ()\n"));
			CHECK(strstr(out, "{4}"));
			CHECK(strstr(out, "Device (KBD)"));
			CHECK(strstr(out, "EisaId (\"PNP0303\")"));
			CHECK(strstr(out, "0x0064,             // Range Minimum"));
			CHECK(strstr(out, "{1}"));
			CHECK(strstr(out, "Device (RTC)"));
			CHECK(strstr(out, "EisaId (\"PNP0B00\")"));
			CHECK(strstr(out, "0x0070,             // Range Minimum"));
			CHECK(strstr(out, "{8}"));
		} else if (!strcmp(sigs[i], "FACP")) {
			CHECK(strstr(out, "PM1A Control Block Address : "
				     "00000604"));
			CHECK(strstr(out, "PM Timer Block Address : 00000608"));
			CHECK(strstr(out, "SCI Interrupt : 0009"));
		} else {
			CHECK(strstr(out, "Subtable Type : 01 [I/O APIC]"));
			CHECK(strstr(out, "Address : FEC00000"));
		}
	}
}

/* DWord memory descriptors (0x87, length 23) in the built DSDT. */
static unsigned int dsdt_dword_windows(void)
{
	const uint8_t *d = NULL;
	unsigned int n = 0;
	uint32_t len;

	for (size_t i = 0; i + 4 <= sizeof(area); i++) {
		if (!memcmp(area + i, "DSDT", 4)) {
			d = area + i;
			break;
		}
	}
	if (!d) {
		return ~0U;
	}
	memcpy(&len, d + 4, 4);
	for (uint32_t i = 36; i + 3 <= len; i++) {
		n += d[i] == 0x87 && d[i + 1] == 23 && d[i + 2] == 0;
	}
	return n;
}

/*
 * The 32-bit MMIO window runs from the end of RAM to 0xfe000000; RAM
 * that reaches 0xfe000000 leaves only the VGA window.
 */
static void pci_window_follows_ram(void)
{
	ram_end = 128ULL << 20;
	CHECK(build(2) > 0);
	CHECK_EQ(dsdt_dword_windows(), 2);
	ram_end = 0xfe000000ULL;
	CHECK(build(2) > 0);
	CHECK_EQ(dsdt_dword_windows(), 1);
	ram_end = 128ULL << 20;
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "acpi_guest");
	RUN_TEST(parser_reads_them);
	RUN_TEST(too_many_cpus);
	RUN_TEST(pci_window_follows_ram);
	RUN_TEST(iasl_agrees);
	return test_done();
}
