// SPDX-License-Identifier: MIT
/*
 * fwcfg: QEMU's fw_cfg device (arch/x86/fw_cfg.c) as a guest built for
 * QEMU reads it: select an item with a 16-bit write to port 0x510, read
 * its bytes from port 0x511. The VM is configured with 2 vCPUs, 8 MiB of
 * RAM, a command line and an initrd (tests/boot/apic_x86.py); every value
 * is checked against that, and against what QEMU gives for the signature,
 * the ID (no DMA), a past-the-end read and an item that does not exist.
 */
#include "guest.h"
#include "x86.h"

#define FW_SEL		0x510
#define FW_DATA		0x511

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static void fw_read(uint16_t key, void *buf, unsigned int len)
{
	uint8_t *b = buf;

	outw(FW_SEL, key);
	for (unsigned int i = 0; i < len; i++) {
		b[i] = inb(FW_DATA);
	}
}

static uint64_t fw_le(uint16_t key, unsigned int len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	fw_read(key, b, len);
	for (unsigned int i = 0; i < len; i++) {
		v |= (uint64_t)b[i] << (8 * i);
	}
	return v;
}

static bool str_eq(const char *a, const char *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			return false;
		}
	}
	return true;
}

int guest_main(void)
{
	static const char cmdline[] = "fw_cfg says hello";
	static const char initrd[] = "strata multiboot module\n";
	char sig[5] = { 0 }, buf[64] = { 0 };
	uint8_t elf[4], dir[4], extra[4], none[4];
	uint64_t ksize, isize, csize;

	gprintf("fwcfg: start\n");
	fw_read(0x00, sig, 4);
	EXPECT(str_eq(sig, "QEMU", 4), "fwcfg: signature '%s'", sig);
	EXPECT(fw_le(0x01, 4) == 1, "fwcfg: ID %lu, expected 1 (no DMA)",
	       (unsigned long)fw_le(0x01, 4));
	EXPECT(fw_le(0x05, 2) == 2, "fwcfg: NB_CPUS %lu",
	       (unsigned long)fw_le(0x05, 2));
	EXPECT(fw_le(0x0f, 2) == 2, "fwcfg: MAX_CPUS %lu",
	       (unsigned long)fw_le(0x0f, 2));
	EXPECT(fw_le(0x03, 8) == 8UL << 20, "fwcfg: RAM_SIZE 0x%lx",
	       (unsigned long)fw_le(0x03, 8));
	csize = fw_le(0x14, 4);
	EXPECT(csize == sizeof(cmdline), "fwcfg: CMDLINE_SIZE %lu",
	       (unsigned long)csize);
	fw_read(0x15, buf, sizeof(cmdline));
	EXPECT(str_eq(buf, cmdline, sizeof(cmdline)),
	       "fwcfg: CMDLINE_DATA '%s'", buf);
	ksize = fw_le(0x08, 4);
	fw_read(0x11, elf, 4);
	EXPECT(ksize > 4096 && str_eq((char *)elf, "\x7f" "ELF", 4),
	       "fwcfg: KERNEL_SIZE %lu, data %02x %02x %02x %02x",
	       (unsigned long)ksize, elf[0], elf[1], elf[2], elf[3]);
	isize = fw_le(0x0b, 4);
	EXPECT(isize == sizeof(initrd) - 1, "fwcfg: INITRD_SIZE %lu",
	       (unsigned long)isize);
	/* Reading on past the end gives zeros. */
	outw(FW_SEL, 0x12);
	for (unsigned int i = 0; i < sizeof(initrd) - 1; i++) {
		buf[i] = (char)inb(FW_DATA);
	}
	for (unsigned int i = 0; i < 4; i++) {
		extra[i] = inb(FW_DATA);
	}
	EXPECT(str_eq(buf, initrd, sizeof(initrd) - 1),
	       "fwcfg: INITRD_DATA differs from the file");
	EXPECT(!extra[0] && !extra[1] && !extra[2] && !extra[3],
	       "fwcfg: bytes past INITRD_DATA's end are not 0");
	fw_read(0x19, dir, 4);
	EXPECT(!dir[0] && !dir[1] && !dir[2] && !dir[3],
	       "fwcfg: the file directory is not empty");
	fw_read(0x7777, none, 4);
	EXPECT(!none[0] && !none[1] && !none[2] && !none[3],
	       "fwcfg: an item that does not exist reads non-zero");
	/* Selecting again starts the item from its first byte. */
	fw_read(0x00, sig, 2);
	fw_read(0x00, sig, 4);
	EXPECT(str_eq(sig, "QEMU", 4), "fwcfg: signature after reselect '%s'",
	       sig);
	gprintf("fwcfg: QEMU, %lu CPUs, %lu MiB, kernel %lu bytes, initrd %lu bytes, cmdline '%s'\n",
		(unsigned long)fw_le(0x05, 2),
		(unsigned long)(fw_le(0x03, 8) >> 20), (unsigned long)ksize,
		(unsigned long)isize, cmdline);
	return checks_result("fwcfg");
}
