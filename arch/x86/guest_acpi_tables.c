// SPDX-License-Identifier: MIT
/*
 * The ACPI tables of an x86 guest (ACPI 6.5 chapter 5), laid out one after
 * the other from the RSDP: RSDP (revision 2), FACS, RSDT, XSDT, FADT
 * (revision 6), MADT, DSDT. The DSDT's AML is emitted here by a few
 * helpers (docs/x86-acpi.md says why, and tests/unit/acpi_guest checks it
 * against iasl's disassembly). Pure: no VM state, so the host test links it.
 */
#include <arch/guest_acpi.h>
#include <arch/irqchip.h>
#include <arch/lapic.h>
#include <drivers/acpi.h>
#include <lib/string.h>

#define OEM_ID		"STRATA"
#define OEM_TABLE_ID	"STRATAVM"
#define CREATOR_ID	0x41525453	/* "STRA" */

struct facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_waking_vector;
	uint8_t version;
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __packed;

struct fadt {
	struct acpi_sdt_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor;
} __packed;

struct madt {
	struct acpi_sdt_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __packed;

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __packed;

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address;
	uint32_t gsi_base;
} __packed;

struct madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __packed;

struct madt_lapic_nmi {
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __packed;

_Static_assert(sizeof(struct facs) == 64, "FACS layout");
_Static_assert(sizeof(struct fadt) == 276, "FADT layout (6.x)");
_Static_assert(sizeof(struct madt) == 44, "MADT layout");
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT LAPIC entry");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT IOAPIC entry");
_Static_assert(sizeof(struct madt_iso) == 10, "MADT override entry");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT LAPIC NMI entry");

#define FADT_WBINVD		BIT(0)
#define FADT_PROC_C1		BIT(2)
#define FADT_TMR_VAL_EXT	BIT(8)	/* the PM timer is 32 bits */
#define FADT_RESET_REG_SUP	BIT(10)
#define BOOT_ARCH_LEGACY	BIT(0)	/* ISA devices (COM1) */
#define BOOT_ARCH_8042		BIT(1)	/* the keyboard controller */
#define BOOT_ARCH_NO_VGA	BIT(2)
#define MADT_PCAT_COMPAT	BIT(0)	/* a dual 8259 is there too */
#define MADT_ENABLED		BIT(0)
#define ISO_ACTIVE_HIGH		0x1
#define ISO_LEVEL		0xc

/*
 * ---- The DSDT's AML (ACPI 6.5 chapter 20) ---------------------------------
 *
 * DefinitionBlock ("", "DSDT", 2, "STRATA", "STRATAVM", 1)
 * {
 *     Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
 *     Scope (\_SB)
 *     {
 *         Device (PCI0)			// the i440FX host bridge
 *         {
 *             Name (_HID, EisaId ("PNP0A03"))
 *             Name (_UID, Zero)
 *             Name (_CRS, ResourceTemplate ()
 *             {
 *                 WordBusNumber (ResourceProducer, MinFixed, MaxFixed,
 *                     PosDecode, 0, 0, 0xFF, 0, 0x100)
 *                 IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
 *                 WordIO (ResourceProducer, MinFixed, MaxFixed,
 *                     PosDecode, EntireRange, 0, 0, 0x0CF7, 0, 0x0CF8)
 *                 WordIO (ResourceProducer, MinFixed, MaxFixed,
 *                     PosDecode, EntireRange, 0, 0x0D00, 0xFFFF, 0, 0xF300)
 *                 DWordMemory (ResourceProducer, PosDecode, MinFixed,
 *                     MaxFixed, Cacheable, ReadWrite,
 *                     0, 0xA0000, 0xBFFFF, 0, 0x20000)
 *                 DWordMemory (ResourceProducer, PosDecode, MinFixed,
 *                     MaxFixed, NonCacheable, ReadWrite,
 *                     0, RAM end, 0xFDFFFFFF, 0, length)	// if any
 *             })
 *         }
 *         Device (COM1)
 *         {
 *             Name (_HID, EisaId ("PNP0501"))
 *             Name (_UID, One)
 *             Name (_CRS, ResourceTemplate ()
 *             {
 *                 IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
 *                 IRQNoFlags () {4}
 *             })
 *         }
 *         Device (KBD)			// the 8042, its keyboard
 *         {
 *             Name (_HID, EisaId ("PNP0303"))
 *             Name (_CRS, ResourceTemplate ()
 *             {
 *                 IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
 *                 IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
 *                 IRQNoFlags () {1}
 *             })
 *         }
 *         Device (RTC)			// the MC146818
 *         {
 *             Name (_HID, EisaId ("PNP0B00"))
 *             Name (_CRS, ResourceTemplate ()
 *             {
 *                 IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
 *                 IRQNoFlags () {8}
 *             })
 *         }
 *     }
 * }
 * \_S5's first two elements are the SLP_TYPa / SLP_TYPb values for soft
 * off (X86_ACPI_SLP_TYP_S5); the other two are reserved. The 32-bit
 * memory window runs from the end of RAM to the MMIO window at 0xfe000000
 * (docs/x86-irq.md) and is left out when RAM reaches it.
 */
#define AML_ZERO		0x00
#define AML_ONE			0x01
#define AML_NAME		0x08
#define AML_BYTE		0x0a
#define AML_WORD		0x0b
#define AML_DWORD		0x0c
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_EXT			0x5b
#define AML_DEVICE		0x82	/* after AML_EXT */
#define RES_IRQ_NOFLAGS		0x22	/* small item 4, length 2 */
#define RES_IO			0x47	/* small item 8, length 7 */
#define RES_END			0x79	/* small item 0xf, length 1 */
#define RES_DWORD_ADDR		0x87	/* large item 7 */
#define RES_WORD_ADDR		0x88	/* large item 8 */
#define RES_SPACE_MEM		0
#define RES_SPACE_IO		1
#define RES_SPACE_BUS		2
#define RES_MIF_MAF		0x0c	/* _MIF and _MAF: fixed min and max */
#define RES_IO_ENTIRE		0x03	/* _RNG: ISA and non-ISA ranges */
#define RES_MEM_CACHEABLE	0x02	/* _MEM, read-write */
#define RES_MEM_RW		0x01
#define MMIO_WINDOW_START	0xfe000000ULL

struct aml {
	uint8_t *p;
	size_t len, max;
};

static void emit(struct aml *a, const void *bytes, size_t n)
{
	if (a->len + n <= a->max) {
		memcpy(a->p + a->len, bytes, n);
	}
	a->len += n;
}

static void emit1(struct aml *a, uint8_t b)
{
	emit(a, &b, 1);
}

static void emit2(struct aml *a, uint16_t v)
{
	emit1(a, (uint8_t)v);
	emit1(a, (uint8_t)(v >> 8));
}

static void emit4(struct aml *a, uint32_t v)
{
	emit2(a, (uint16_t)v);
	emit2(a, (uint16_t)(v >> 16));
}

/*
 * A PkgLength placeholder (always the 2-byte encoding: up to 4095 bytes,
 * ACPI 6.5 20.2.4) and its fix-up once the package's end is known.
 */
static size_t pkg_open(struct aml *a)
{
	size_t at = a->len;

	emit2(a, 0);
	return at;
}

static void pkg_close(struct aml *a, size_t at)
{
	size_t n = a->len - at;		/* the PkgLength counts itself */

	if (at + 2 <= a->max && n < 4096) {
		a->p[at] = (uint8_t)(0x40 | (n & 0xf));
		a->p[at + 1] = (uint8_t)(n >> 4);
	} else {
		a->len = a->max + 1;	/* too long: fail the build */
	}
}

/* EisaId ("PNPxxxx"): the compressed vendor ID PNP, then 4 hex digits. */
static void emit_pnp_id(struct aml *a, uint16_t product)
{
	emit1(a, AML_DWORD);
	emit1(a, 0x41);			/* 'P' 'N' 'P' compressed, big-endian */
	emit1(a, 0xd0);
	emit1(a, (uint8_t)(product >> 8));
	emit1(a, (uint8_t)product);
}

static void emit_name(struct aml *a, const char name[4])
{
	emit1(a, AML_NAME);
	emit(a, name, 4);
}

/* Word or DWord address space descriptor (ACPI 6.5 6.4.3.5.2-3). */
static void res_addr(struct aml *a, bool dword, uint8_t space,
		     uint8_t type_flags, uint32_t min, uint32_t max)
{
	emit1(a, dword ? RES_DWORD_ADDR : RES_WORD_ADDR);
	emit2(a, dword ? 23 : 13);		/* bytes after the length */
	emit1(a, space);
	emit1(a, RES_MIF_MAF);			/* producer, positive decode */
	emit1(a, type_flags);
	if (dword) {
		emit4(a, 0);			/* granularity */
		emit4(a, min);
		emit4(a, max);
		emit4(a, 0);			/* translation offset */
		emit4(a, max - min + 1);
	} else {
		emit2(a, 0);
		emit2(a, (uint16_t)min);
		emit2(a, (uint16_t)max);
		emit2(a, 0);
		emit2(a, (uint16_t)(max - min + 1));
	}
}

/* IO (Decode16, @base, @base, 1, @len) (ACPI 6.5 6.4.2.5). */
static void res_io(struct aml *a, uint16_t base, uint8_t len)
{
	emit1(a, RES_IO);
	emit1(a, 0x01);				/* 16-bit decode */
	emit2(a, base);
	emit2(a, base);
	emit1(a, 1);
	emit1(a, len);
}

/* Name (_CRS, ResourceTemplate () { ... }): open; close with crs_close. */
static size_t crs_open(struct aml *a, size_t *size_at)
{
	size_t pkg;

	emit_name(a, "_CRS");
	emit1(a, AML_BUFFER);
	pkg = pkg_open(a);
	emit1(a, AML_WORD);			/* BufferSize, patched */
	*size_at = a->len;
	emit2(a, 0);
	return pkg;
}

static void crs_close(struct aml *a, size_t pkg, size_t size_at)
{
	size_t n;

	emit1(a, RES_END);
	emit1(a, 0);				/* checksum 0: not checked */
	n = a->len - size_at - 2;
	if (size_at + 2 <= a->max) {
		a->p[size_at] = (uint8_t)n;
		a->p[size_at + 1] = (uint8_t)(n >> 8);
	}
	pkg_close(a, pkg);
}

static size_t device_open(struct aml *a, const char name[4])
{
	size_t pkg;

	emit1(a, AML_EXT);
	emit1(a, AML_DEVICE);
	pkg = pkg_open(a);
	emit(a, name, 4);
	return pkg;
}

static void build_pci0(struct aml *a, uint64_t ram_end)
{
	size_t dev = device_open(a, "PCI0"), crs, size_at;

	emit_name(a, "_HID");
	emit_pnp_id(a, 0x0a03);
	emit_name(a, "_UID");
	emit1(a, AML_ZERO);
	crs = crs_open(a, &size_at);
	res_addr(a, false, RES_SPACE_BUS, 0, 0, 0xff);
	res_io(a, 0xcf8, 8);
	res_addr(a, false, RES_SPACE_IO, RES_IO_ENTIRE, 0, 0xcf7);
	res_addr(a, false, RES_SPACE_IO, RES_IO_ENTIRE, 0xd00, 0xffff);
	res_addr(a, true, RES_SPACE_MEM, RES_MEM_CACHEABLE | RES_MEM_RW,
		 0xa0000, 0xbffff);
	if (ram_end < MMIO_WINDOW_START) {
		res_addr(a, true, RES_SPACE_MEM, RES_MEM_RW,
			 (uint32_t)ram_end, (uint32_t)(MMIO_WINDOW_START - 1));
	}
	crs_close(a, crs, size_at);
	pkg_close(a, dev);
}

/*
 * An ISA device: _HID EisaId ("PNP@pnp"), _UID @uid when @uid >= 0, and a
 * _CRS of @nr_io IO (Decode16) ranges and IRQNoFlags () {@irq}.
 */
static void build_isa_dev(struct aml *a, const char name[4], uint16_t pnp,
			  int uid, const uint16_t (*io)[2],
			  unsigned int nr_io, unsigned int irq)
{
	size_t dev = device_open(a, name), crs, size_at;

	emit_name(a, "_HID");
	emit_pnp_id(a, pnp);
	if (uid >= 0) {
		emit_name(a, "_UID");
		emit1(a, uid ? AML_ONE : AML_ZERO);
	}
	crs = crs_open(a, &size_at);
	for (unsigned int i = 0; i < nr_io; i++) {
		res_io(a, io[i][0], (uint8_t)io[i][1]);
	}
	emit1(a, RES_IRQ_NOFLAGS);
	emit2(a, (uint16_t)(1u << irq));
	crs_close(a, crs, size_at);
	pkg_close(a, dev);
}

static const uint16_t com1_io[][2] = { { 0x3f8, 8 } };
static const uint16_t kbd_io[][2] = { { 0x60, 1 }, { 0x64, 1 } };
static const uint16_t rtc_io[][2] = { { 0x70, 2 } };

/* The DSDT's body into @out (@max bytes). Return: its length, 0 if too big. */
static size_t build_dsdt_aml(uint8_t *out, size_t max,
			     const struct x86_acpi_machine *m)
{
	struct aml a = { out, 0, max };
	size_t sb;

	emit1(&a, AML_NAME);
	emit(&a, "\\_S5_", 5);
	emit1(&a, AML_PACKAGE);
	emit1(&a, 0x08);			/* PkgLength 8 */
	emit1(&a, 0x04);			/* 4 elements */
	emit1(&a, AML_BYTE);
	emit1(&a, X86_ACPI_SLP_TYP_S5);		/* SLP_TYPa */
	emit1(&a, AML_BYTE);
	emit1(&a, X86_ACPI_SLP_TYP_S5);		/* SLP_TYPb */
	emit1(&a, AML_ZERO);			/* reserved */
	emit1(&a, AML_ZERO);
	emit1(&a, AML_SCOPE);
	sb = pkg_open(&a);
	emit(&a, "_SB_", 4);
	build_pci0(&a, m->ram_end);
	/* The ISA devices of docs/x86-pc-devices.md and COM1. */
	build_isa_dev(&a, "COM1", 0x0501, 1, com1_io, 1, 4);
	build_isa_dev(&a, "KBD_", 0x0303, -1, kbd_io, 2, 1);
	build_isa_dev(&a, "RTC_", 0x0b00, -1, rtc_io, 1, 8);
	pkg_close(&a, sb);
	return a.len <= max ? a.len : 0;
}

static uint8_t sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--) {
		s += *b++;
	}
	return s;
}

static void header(void *p, const char sig[4], uint32_t len, uint8_t rev)
{
	struct acpi_sdt_header *h = p;

	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	h->creator_id = CREATOR_ID;
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = (uint8_t)-sum(p, len);
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bytes)
{
	return (struct acpi_gas){ .space_id = ACPI_GAS_IO,
				  .bit_width = (uint8_t)(8 * bytes),
				  .access_size = bytes == 4 ? 3 :
						 bytes == 2 ? 2 : 1,
				  .address = port };
}

/* Next offset at or after @off with @align alignment. */
static size_t at(size_t off, size_t align)
{
	return (off + align - 1) & ~(align - 1);
}

static size_t build_madt(uint8_t *p, const struct x86_acpi_machine *m)
{
	struct madt *t = (struct madt *)p;
	size_t off = sizeof(*t);
	struct madt_ioapic io = { 1, sizeof(io), (uint8_t)m->ioapic_id, 0,
				  (uint32_t)X86_IOAPIC_BASE, 0 };
	/* ISA IRQ 0 is pin 2; the SCI is level, active high, on GSI 9. */
	struct madt_iso iso0 = { 2, sizeof(iso0), 0, 0, 2, 0 };
	struct madt_iso sci = { 2, sizeof(sci), 0, X86_ACPI_SCI_IRQ,
				X86_ACPI_SCI_IRQ, ISO_ACTIVE_HIGH | ISO_LEVEL };
	/* LINT1 of every processor is the NMI pin (flags: bus default). */
	struct madt_lapic_nmi nmi = { 4, sizeof(nmi), 0xff, 0, 1 };

	t->lapic_address = (uint32_t)LAPIC_DEFAULT_BASE;
	t->flags = MADT_PCAT_COMPAT;
	for (unsigned int i = 0; i < m->nr_cpus; i++) {
		struct madt_lapic l = { 0, sizeof(l), (uint8_t)i, (uint8_t)i,
					MADT_ENABLED };

		memcpy(p + off, &l, sizeof(l));
		off += sizeof(l);
	}
	memcpy(p + off, &io, sizeof(io));
	off += sizeof(io);
	memcpy(p + off, &iso0, sizeof(iso0));
	off += sizeof(iso0);
	memcpy(p + off, &sci, sizeof(sci));
	off += sizeof(sci);
	memcpy(p + off, &nmi, sizeof(nmi));
	off += sizeof(nmi);
	header(p, "APIC", (uint32_t)off, 6);	/* ACPI 6.5: revision 6 */
	return off;
}

static void build_fadt(struct fadt *f, uint64_t facs, uint64_t dsdt)
{
	f->firmware_ctrl = (uint32_t)facs;
	f->dsdt = (uint32_t)dsdt;
	f->sci_int = X86_ACPI_SCI_IRQ;
	/* SMI_CMD 0: no SMM, the machine is always in ACPI mode (SCI_EN). */
	f->pm1a_evt_blk = X86_ACPI_PM1A_EVT;
	f->pm1a_cnt_blk = X86_ACPI_PM1A_CNT;
	f->pm_tmr_blk = X86_ACPI_PM_TMR;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = 101;		/* > 100: no C2 */
	f->p_lvl3_lat = 1001;		/* > 1000: no C3 */
	f->iapc_boot_arch = BOOT_ARCH_LEGACY | BOOT_ARCH_8042 |
			    BOOT_ARCH_NO_VGA;
	f->century = 0x32;		/* the RTC's century byte (rtc.c) */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_TMR_VAL_EXT |
		   FADT_RESET_REG_SUP;
	/* The reset control register (arch/x86/reset_ctl.c). */
	f->reset_reg = io_gas(0xcf9, 1);
	f->reset_value = 0x06;
	f->minor_version = 5;
	f->x_dsdt = dsdt;
	f->x_pm1a_evt_blk = io_gas(X86_ACPI_PM1A_EVT, 4);
	f->x_pm1a_cnt_blk = io_gas(X86_ACPI_PM1A_CNT, 2);
	f->x_pm_tmr_blk = io_gas(X86_ACPI_PM_TMR, 4);
	header(f, "FACP", sizeof(*f), 6);
}

size_t x86_acpi_build_tables(uint8_t *buf, uint64_t gpa,
			     const struct x86_acpi_machine *m)
{
	struct acpi_rsdp *rsdp = (struct acpi_rsdp *)buf;
	size_t facs = at(sizeof(*rsdp), 64);
	size_t rsdt = at(facs + sizeof(struct facs), 16);
	size_t xsdt = at(rsdt + ACPI_HEADER_LEN + 2 * 4, 16);
	size_t fadt = at(xsdt + ACPI_HEADER_LEN + 2 * 8, 16);
	size_t madt = at(fadt + sizeof(struct fadt), 16);
	size_t dsdt, aml, end;
	struct facs *fs = (struct facs *)(buf + facs);
	uint32_t rsdt_ptr[2];
	uint64_t xsdt_ptr[2];

	if (m->nr_cpus > 255 ||
	    madt + sizeof(struct madt) + 8 * m->nr_cpus + 64 >
	    X86_ACPI_TABLES_MAX) {
		return 0;
	}
	dsdt = at(madt + build_madt(buf + madt, m), 16);
	if (dsdt + ACPI_HEADER_LEN >= X86_ACPI_TABLES_MAX) {
		return 0;
	}
	aml = build_dsdt_aml(buf + dsdt + ACPI_HEADER_LEN,
			     X86_ACPI_TABLES_MAX - dsdt - ACPI_HEADER_LEN, m);
	if (!aml) {
		return 0;
	}
	end = dsdt + ACPI_HEADER_LEN + aml;
	header(buf + dsdt, "DSDT", (uint32_t)(ACPI_HEADER_LEN + aml), 2);

	memcpy(fs->signature, "FACS", 4);
	fs->length = sizeof(*fs);
	fs->version = 2;
	build_fadt((struct fadt *)(buf + fadt), gpa + facs, gpa + dsdt);

	rsdt_ptr[0] = (uint32_t)(gpa + fadt);
	rsdt_ptr[1] = (uint32_t)(gpa + madt);
	memcpy(buf + rsdt + ACPI_HEADER_LEN, rsdt_ptr, sizeof(rsdt_ptr));
	header(buf + rsdt, "RSDT", ACPI_HEADER_LEN + sizeof(rsdt_ptr), 1);
	xsdt_ptr[0] = gpa + fadt;
	xsdt_ptr[1] = gpa + madt;
	memcpy(buf + xsdt + ACPI_HEADER_LEN, xsdt_ptr, sizeof(xsdt_ptr));
	header(buf + xsdt, "XSDT", ACPI_HEADER_LEN + sizeof(xsdt_ptr), 1);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt_address = (uint32_t)(gpa + rsdt);
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = gpa + xsdt;
	rsdp->checksum = (uint8_t)-sum(rsdp, ACPI_RSDP_V1_LEN);
	rsdp->extended_checksum = (uint8_t)-sum(rsdp, sizeof(*rsdp));
	return end;
}
