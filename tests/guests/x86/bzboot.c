// SPDX-License-Identifier: MIT
/*
 * bzboot: a guest entered as a Linux bzImage is, by the 64-bit boot
 * protocol (Documentation/arch/x86/boot.rst; docs/x86-linux-boot.md):
 * long mode, interrupts off, CS = __BOOT_CS (0x10), DS/ES/SS = __BOOT_DS
 * (0x18), RSI = boot_params. It checks boot_params as Linux reads it: its
 * own setup header back with type_of_loader set, the command line, the
 * initrd (its contents), the RSDP's address, and the e820 map (RAM at
 * 1 MiB where it runs, boot_params and the ACPI area reserved, the map
 * sorted and disjoint), then prints what it found.
 */
#include "guest.h"

#define BP_ACPI_RSDP		0x070
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR_MAGIC		0x202
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_E820_TABLE		0x2d0

struct e820 {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The type of the e820 entry covering [a, a + len), or 0. */
static uint32_t e820_type(const struct e820 *e, unsigned int n, uint64_t a,
			  uint64_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		if (a >= e[i].addr && a + len <= e[i].addr + e[i].size) {
			return e[i].type;
		}
	}
	return 0;
}

int guest_main(void)
{
	const uint8_t *bp = (const uint8_t *)(uintptr_t)boot_info.ve_page;
	uint16_t cs, ds, ss;
	uint64_t rflags, ram = 0, rsdp;
	const struct e820 *e;
	const char *cmd;
	unsigned int n;
	bool sorted = true;

	__asm__ volatile("mov %%cs, %0; mov %%ds, %1; mov %%ss, %2"
			 : "=r"(cs), "=r"(ds), "=r"(ss));
	__asm__ volatile("pushf; pop %0" : "=r"(rflags));
	EXPECT(cs == 0x10 && ds == 0x18 && ss == 0x18,
	       "bzboot: CS 0x%x DS 0x%x SS 0x%x, want 0x10 / 0x18", cs, ds, ss);
	EXPECT(!(rflags & 0x200), "bzboot: entered with interrupts on");
	EXPECT(bp && !((uintptr_t)bp & 0xfff), "bzboot: RSI 0x%lx",
	       (unsigned long)(uintptr_t)bp);
	if (!bp) {
		return checks_result("bzboot");
	}
	EXPECT(rd32(bp + BP_HDR_MAGIC) == 0x53726448, "bzboot: no HdrS in "
	       "boot_params");
	EXPECT(bp[BP_TYPE_OF_LOADER] == 0xff, "bzboot: type_of_loader 0x%x",
	       bp[BP_TYPE_OF_LOADER]);
	cmd = (const char *)(uintptr_t)rd32(bp + BP_CMD_LINE_PTR);
	EXPECT(cmd, "bzboot: no command line");
	gprintf("bzboot: protocol %u.%u, cmdline '%s'\n",
		bp[BP_VERSION + 1], bp[BP_VERSION], cmd ? cmd : "");
	if (rd32(bp + BP_RAMDISK_IMAGE)) {
		const char *r = (const char *)(uintptr_t)rd32(bp +
							     BP_RAMDISK_IMAGE);
		char line[41];
		unsigned int i = 0;

		while (i < 40 && i < rd32(bp + BP_RAMDISK_SIZE) &&
		       r[i] >= ' ' && r[i] < 0x7f) {
			line[i] = r[i];
			i++;
		}
		line[i] = '\0';
		gprintf("bzboot: initrd %u bytes: '%s'\n",
			rd32(bp + BP_RAMDISK_SIZE), line);
	}
	rsdp = rd32(bp + BP_ACPI_RSDP) |
	       (uint64_t)rd32(bp + BP_ACPI_RSDP + 4) << 32;
	EXPECT(rsdp && rd32((const uint8_t *)(uintptr_t)rsdp) == 0x20445352,
	       "bzboot: acpi_rsdp_addr 0x%lx", (unsigned long)rsdp);

	n = bp[BP_E820_ENTRIES];
	e = (const struct e820 *)(bp + BP_E820_TABLE);
	EXPECT(n >= 3 && n <= 128, "bzboot: %u e820 entries", n);
	for (unsigned int i = 0; i < n && i < 128; i++) {
		gprintf("bzboot: e820 0x%lx-0x%lx type %u\n",
			(unsigned long)e[i].addr,
			(unsigned long)(e[i].addr + e[i].size - 1), e[i].type);
		if (e[i].type == 1) {
			ram += e[i].size;
		}
		if (i && e[i].addr < e[i - 1].addr + e[i - 1].size) {
			sorted = false;
		}
	}
	EXPECT(sorted, "bzboot: e820 entries overlap or are not sorted");
	EXPECT(e820_type(e, n, 0x100000, (uintptr_t)__image_end - 0x100000) ==
	       1, "bzboot: its own image is not in e820 RAM");
	EXPECT(e820_type(e, n, (uintptr_t)bp, 4096) == 2,
	       "bzboot: boot_params not reserved");
	EXPECT(e820_type(e, n, 0xe0000, 0x20000) == 2,
	       "bzboot: the ACPI area is not reserved");
	gprintf("bzboot: %u e820 entries, %lu KiB RAM, RSDP at 0x%lx\n", n,
		(unsigned long)(ram >> 10), (unsigned long)rsdp);
	return checks_result("bzboot");
}
