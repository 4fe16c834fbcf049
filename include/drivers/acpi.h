/* SPDX-License-Identifier: MIT */
/*
 * ACPI table discovery: the RSDP (ACPI 1.0 with an RSDT, 2.0+ with an XSDT),
 * the root table's list of tables, and the few tables Strata reads: the MADT
 * (CPUs and interrupt controllers, x86 and arm64), the SPCR (the firmware's
 * console) and the GTDT (arm64 generic timer interrupts). See docs/acpi.md.
 *
 * Every byte comes from firmware and is checked before it is used: a
 * checksum that does not add up, a length smaller than the structure or
 * running past its table, a subtable of length 0, or an address the caller
 * cannot read gives a message and an error, never a read outside what was
 * checked. Tables are reached only through struct acpi_mem, so the parser
 * is the same on x86, arm64 and in the host tests; it is freestanding C11.
 */
#ifndef STRATA_DRIVERS_ACPI_H
#define STRATA_DRIVERS_ACPI_H

#include <types.h>

#define ACPI_RSDP_V1_LEN	20
#define ACPI_RSDP_V2_LEN	36
#define ACPI_HEADER_LEN		36
#define ACPI_TABLE_MAX_LEN	(1U << 20)	/* sanity bound on one table */

#define ACPI_MAX_TABLES		64
#define ACPI_MAX_CPUS		64
#define ACPI_MAX_IOAPICS	8
#define ACPI_MAX_ISOS		16
#define ACPI_MAX_GICRS		4

/*
 * How the parser reads physical memory. @map returns a pointer through
 * which @len bytes at physical address @pa can be read, or NULL when they
 * cannot be read safely (not mapped and not mappable, beyond the physical
 * address width, wrapping); the parser then reports the address and fails.
 * It is called again for every range, so an implementation may map on
 * demand; what it returns stays readable until discovery ends.
 */
struct acpi_mem {
	const void *(*map)(void *ctx, uint64_t pa, uint64_t len);
	void *ctx;
};

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;		/* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum;		/* all bytes of the table sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* the first 20 bytes sum to 0 */
	char oem_id[6];
	uint8_t revision;		/* 0: ACPI 1.0; 2: ACPI 2.0 and later */
	uint32_t rsdt_address;
	/* revision 2 and later: */
	uint32_t length;		/* of the whole RSDP */
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* all @length bytes sum to 0 */
	uint8_t reserved[3];
} __packed;

/* Generic Address Structure (ACPI 6.5, 5.2.3.2). */
struct acpi_gas {
	uint8_t space_id;		/* ACPI_GAS_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __packed;

#define ACPI_GAS_MEMORY		0
#define ACPI_GAS_IO		1

_Static_assert(sizeof(struct acpi_sdt_header) == ACPI_HEADER_LEN,
	       "ACPI header layout");
_Static_assert(sizeof(struct acpi_rsdp) == ACPI_RSDP_V2_LEN, "RSDP layout");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS layout");

/* The root table and the tables it lists. */
struct acpi_tables {
	const struct acpi_mem *mem;
	uint64_t rsdp_pa;
	unsigned int rsdp_revision;	/* as the RSDP says (0 is ACPI 1.0) */
	bool xsdt;			/* the root is the XSDT, else the RSDT */
	uint64_t root_pa;
	unsigned int nr_tables;
	struct {
		char signature[5];	/* NUL-terminated; "????" if unreadable */
		uint64_t pa;
	} table[ACPI_MAX_TABLES];
	unsigned int nr_dropped;	/* entries beyond ACPI_MAX_TABLES */
};

/*
 * Check the RSDP at @rsdp_pa, of which @avail bytes may be read (a
 * multiboot2 tag holds a copy of a given size; a scan finds a v1 structure
 * and lets the revision decide), and the RSDT or XSDT it points to, and list
 * the tables. A revision 2 RSDP whose length, extended checksum or XSDT is
 * unusable falls back to the RSDT with a warning. 0, or -EINVAL / -EFAULT
 * with a message.
 */
int acpi_tables_init(struct acpi_tables *t, const struct acpi_mem *mem,
		     uint64_t rsdp_pa, uint64_t avail);

/*
 * The @instance-th (from 0) listed table with signature @sig whose length
 * and checksum are right, in @out. 0, -ENOENT if there is none, -EINVAL
 * (with a message) if the table is there but broken.
 */
int acpi_find_table(const struct acpi_tables *t, const char sig[4],
		    unsigned int instance, const struct acpi_sdt_header **out);

/* The physical address of a valid RSDP in [base, base + len) on 16-byte
 * boundaries (the BIOS areas on x86), or 0. */
uint64_t acpi_scan_rsdp(const struct acpi_mem *mem, uint64_t base,
			uint64_t len);

/* ---- MADT ("APIC") ------------------------------------------------------ */

enum acpi_cpu_kind {
	ACPI_CPU_LAPIC,		/* x86 Processor Local APIC, type 0 */
	ACPI_CPU_X2APIC,	/* x86 Processor Local x2APIC, type 9 */
	ACPI_CPU_GICC,		/* arm64 GIC CPU interface, type 0xB */
};

#define ACPI_MADT_ENABLED		BIT(0)	/* usable now */
#define ACPI_MADT_ONLINE_CAPABLE	BIT(1)	/* may be enabled at run time */
#define ACPI_MADT_GICC_ONLINE_CAPABLE	BIT(3)	/* the same, in a GICC entry */

/*
 * One CPU the firmware describes as enabled or online-capable (entries with
 * neither flag are not CPUs that can ever run and are only counted). This
 * is what SMP bring-up starts: on x86 INIT-SIPI-SIPI to @id, every CPU but
 * the boot CPU (whose APIC ID the local APIC reports); on arm64 PSCI
 * CPU_ON with @mpidr.
 */
struct acpi_cpu {
	uint8_t kind;		/* enum acpi_cpu_kind */
	bool enabled;		/* ACPI_MADT_ENABLED */
	bool online_capable;	/* ACPI_MADT_ONLINE_CAPABLE, not yet enabled */
	uint32_t id;		/* APIC or x2APIC ID; GICC: CPU interface no. */
	uint32_t uid;		/* ACPI processor UID */
	uint64_t mpidr;		/* GICC only */
	uint64_t gicr_base;	/* GICC only: its redistributor, or 0 */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

/* An ISA IRQ that is not identity-mapped to a GSI, or not edge/high. */
struct acpi_iso {
	uint8_t bus;
	uint8_t source;		/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;		/* MPS INTI polarity (1:0), trigger (3:2) */
};

struct acpi_madt {
	uint64_t lapic_address;		/* type 5 override wins */
	uint32_t flags;			/* bit 0: PC-AT dual 8259 present */
	unsigned int nr_cpus;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	unsigned int nr_disabled;	/* CPU entries neither enabled nor
					   online-capable */
	unsigned int nr_dropped;	/* entries that did not fit */
	unsigned int nr_duplicates;	/* CPU entries repeating an APIC ID */
	unsigned int nr_ioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned int nr_isos;
	struct acpi_iso isos[ACPI_MAX_ISOS];
	bool has_gicd;
	uint64_t gicd_base;
	uint32_t gicd_gsi_base;
	uint8_t gic_version;		/* 0: not given */
	unsigned int nr_gicrs;
	struct {
		uint64_t base;
		uint32_t length;
	} gicrs[ACPI_MAX_GICRS];
	unsigned int nr_unknown;	/* subtables of other types, skipped */
};

/*
 * Decode the MADT @h (as acpi_find_table() gave it). 0, or -EINVAL with a
 * message when a subtable has length 0, is shorter than its type or runs
 * past the table: @m then holds nothing usable.
 */
int acpi_madt_parse(const struct acpi_sdt_header *h, struct acpi_madt *m);

/* ---- SPCR --------------------------------------------------------------- */

#define ACPI_SPCR_16550		0x00	/* full 16550 */
#define ACPI_SPCR_16450		0x01	/* 16450 subset of 16550 */
#define ACPI_SPCR_PL011		0x03	/* ARM PL011 */
#define ACPI_SPCR_ARM_SBSA_32	0x0d	/* ARM SBSA generic UART, 32-bit */
#define ACPI_SPCR_ARM_SBSA	0x0e	/* ARM SBSA generic UART */
#define ACPI_SPCR_16550_GAS	0x12	/* 16550 compatible, GAS-described */

struct acpi_spcr {
	uint8_t interface_type;		/* ACPI_SPCR_* */
	struct acpi_gas base;		/* I/O port or MMIO */
	uint8_t interrupt_type;		/* bit 0: PC-AT IRQ, 1: IOAPIC, 3: GIC */
	uint8_t pc_irq;
	uint32_t gsi;
	uint32_t baud;			/* 0: as the firmware left it */
};

/* Decode the SPCR @h. 0, or -EINVAL with a message. */
int acpi_spcr_parse(const struct acpi_sdt_header *h, struct acpi_spcr *s);
/* "16550", "PL011", ... or "type 0x.." in @buf. */
const char *acpi_spcr_interface(uint8_t type, char *buf, size_t size);

/* ---- GTDT (arm64) ------------------------------------------------------- */

#define ACPI_GTDT_EDGE		BIT(0)	/* else level */
#define ACPI_GTDT_ACTIVE_LOW	BIT(1)	/* else active high */
#define ACPI_GTDT_ALWAYS_ON	BIT(2)	/* keeps counting in low power */

struct acpi_gtdt_timer {
	uint32_t gsiv;
	uint32_t flags;			/* ACPI_GTDT_* */
};

struct acpi_gtdt {
	uint64_t cnt_control_base;	/* ~0: not given */
	struct acpi_gtdt_timer secure_el1, el1, virt, el2;
	bool has_virt_el2;		/* revision 3 and later */
	struct acpi_gtdt_timer virt_el2;
	uint32_t nr_platform_timers;	/* GT blocks and watchdogs, not read */
};

/* Decode the GTDT @h. 0, or -EINVAL with a message. */
int acpi_gtdt_parse(const struct acpi_sdt_header *h, struct acpi_gtdt *g);

/* ---- discovery at boot ------------------------------------------------ */

/* What the boot code found; filled once on the boot CPU, read-only after. */
struct acpi_info {
	bool present;			/* a valid RSDP and root table */
	struct acpi_tables tables;
	bool has_madt;
	struct acpi_madt madt;		/* the CPU list for SMP bring-up */
	bool has_spcr;
	struct acpi_spcr spcr;
	bool has_gtdt;
	struct acpi_gtdt gtdt;
};

/* Filled by the architecture's boot code (x86: before strata_main()). */
extern struct acpi_info acpi_boot;

/*
 * Read the tables from the RSDP at @rsdp_pa (@avail bytes readable) into
 * @info and print what was found: the RSDP and root table, the MADT's CPUs
 * and interrupt controllers, the SPCR console, the GTDT. 0 when the RSDP
 * and root table are usable (a broken MADT, SPCR or GTDT is reported and
 * left out); else an error, @info->present false.
 */
int acpi_discover(struct acpi_info *info, const struct acpi_mem *mem,
		  uint64_t rsdp_pa, uint64_t avail);

#endif
