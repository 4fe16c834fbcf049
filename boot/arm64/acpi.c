// SPDX-License-Identifier: MIT
/*
 * ACPI discovery on arm64 (boot/arm64/acpi.h): table reads through the EL2
 * identity map, which this file extends as the parser asks for ranges.
 */
#include <arch/mmu.h>
#include <core/platform.h>
#include <drivers/acpi.h>
#include <lib/printk.h>
#include <lib/string.h>

#include "acpi.h"

static bool inside(const struct mem_range *r, unsigned int n, uint64_t pa,
		   uint64_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		if (pa >= r[i].base && pa - r[i].base <= r[i].size &&
		    len <= r[i].size - (pa - r[i].base)) {
			return true;
		}
	}
	return false;
}

static const void *arm64_acpi_map(void *ctx, uint64_t pa, uint64_t len)
{
	const struct platform *p = ctx;
	int ret;

	if (pa + len < pa || pa < PAGE_SIZE) {
		return NULL;	/* wraps, or the zero page (a NULL pointer) */
	}
	/*
	 * Only memory the platform describes: a read of an address nothing
	 * answers is an external abort on arm64, so a table pointer into a
	 * hole must be refused before it is touched.
	 */
	if (!inside(p->ram, p->nr_ram, pa, len) &&
	    !inside(p->reserved, p->nr_reserved, pa, len)) {
		pr_warn("acpi: 0x%llx+0x%llx is not in RAM or a reserved "
			"range; not read\n", (unsigned long long)pa,
			(unsigned long long)len);
		return NULL;
	}
	/*
	 * Firmware keeps its tables in RAM (ACPI reclaim or NVS memory): map
	 * them cacheable like RAM. A range that is device memory already
	 * gives -EEXIST and is not read: cacheable reads of MMIO would be
	 * wrong, and unaligned reads of device memory fault.
	 */
	ret = el2_map(pa, len, EL2_MEM_NORMAL);
	if (ret) {
		pr_warn("acpi: cannot map 0x%llx+0x%llx (%d)\n",
			(unsigned long long)pa, (unsigned long long)len, ret);
		return NULL;
	}
	return (const void *)(uintptr_t)pa;
}

int arm64_acpi_discover(const struct platform *p, uint64_t rsdp_pa,
			uint64_t avail)
{
	const struct acpi_mem mem = { arm64_acpi_map, (void *)p };

	return acpi_discover(&acpi_boot, &mem, rsdp_pa, avail);
}

/* A "0x"-prefixed hexadecimal number of @len characters, or false. */
static bool parse_hex(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len < 3 || len > 18 || s[0] != '0' ||
	    (s[1] != 'x' && s[1] != 'X')) {
		return false;
	}
	for (size_t i = 2; i < len; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9') {
			d = (unsigned int)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (unsigned int)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			d = (unsigned int)(c - 'A' + 10);
		} else {
			return false;
		}
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

void arm64_acpi_from_cmdline(const struct platform *p)
{
	const char *s = p->cmdline;
	static const char key[] = "arm64_acpi_rsdp=";
	const size_t klen = sizeof(key) - 1;

	while (s && *s) {
		size_t len = 0;
		uint64_t pa;

		while (*s == ' ' || *s == '\t') {
			s++;
		}
		while (s[len] && s[len] != ' ' && s[len] != '\t') {
			len++;
		}
		if (len > klen && !memcmp(s, key, klen)) {
			if (!parse_hex(s + klen, len - klen, &pa)) {
				pr_warn("acpi: bad %.*s (a 0x... address); "
					"ignored\n", (int)len, s);
			} else {
				pr_info("acpi: RSDP at 0x%llx from the command "
					"line\n", (unsigned long long)pa);
				/* A loader's RSDP may be either revision;
				 * the revision says how long it is. */
				arm64_acpi_discover(p, pa, ACPI_RSDP_V2_LEN);
			}
			return;
		}
		s += len;
	}
}
