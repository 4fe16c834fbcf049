// SPDX-License-Identifier: MIT
/*
 * The ACPI tables of an x86 guest (ACPI 6.5 chapter 5), laid out one after
 * the other from the RSDP: RSDP (revision 2), FACS, RSDT, XSDT, FADT
 * (revision 6), MADT, DSDT. The DSDT's AML is emitted here byte by byte
 * (docs/x86-acpi.md says why, and tests/unit/acpi_guest checks it against
 * iasl's disassembly). Pure: no VM state, so the host test links it.
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
 * DefinitionBlock ("", "DSDT", 2, "STRATA", "STRATAVM", 1)
 * {
 *     Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
 * }
 * \_S5's first two elements are the SLP_TYPa / SLP_TYPb values for soft
 * off (X86_ACPI_SLP_TYP_S5); the other two are reserved.
 */
const uint8_t x86_acpi_dsdt_aml[] = {
	0x08,				/* NameOp */
	0x5c, '_', 'S', '5', '_',	/* \_S5_ */
	0x12, 0x08, 0x04,		/* PackageOp, PkgLength 8, 4 elements */
	0x0a, X86_ACPI_SLP_TYP_S5,	/* BytePrefix 5: SLP_TYPa */
	0x0a, X86_ACPI_SLP_TYP_S5,	/* BytePrefix 5: SLP_TYPb */
	0x00, 0x00,			/* Zero, Zero (reserved) */
};
const size_t x86_acpi_dsdt_aml_len = sizeof(x86_acpi_dsdt_aml);

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
	size_t dsdt, end;
	struct facs *fs = (struct facs *)(buf + facs);
	uint32_t rsdt_ptr[2];
	uint64_t xsdt_ptr[2];

	if (m->nr_cpus > 255 ||
	    madt + sizeof(struct madt) + 8 * m->nr_cpus + 64 >
	    X86_ACPI_TABLES_MAX) {
		return 0;
	}
	dsdt = at(madt + build_madt(buf + madt, m), 16);
	end = dsdt + ACPI_HEADER_LEN + x86_acpi_dsdt_aml_len;
	if (end > X86_ACPI_TABLES_MAX) {
		return 0;
	}
	memcpy(buf + dsdt + ACPI_HEADER_LEN, x86_acpi_dsdt_aml,
	       x86_acpi_dsdt_aml_len);
	header(buf + dsdt, "DSDT",
	       (uint32_t)(ACPI_HEADER_LEN + x86_acpi_dsdt_aml_len), 2);

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
