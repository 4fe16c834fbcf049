// SPDX-License-Identifier: MIT
/*
 * Reader of cpio "newc" archives (the Linux initramfs format) and the
 * bundle's file list. Every field is bounds-checked: the archive comes from
 * the boot loader and may be damaged.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/bundle.h>

#define NEWC_HDR_SIZE	110
#define NEWC_MODE_FMT	0170000
#define NEWC_MODE_REG	0100000

static bool parse_hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = p[i];
		uint32_t d;

		if (c >= '0' && c <= '9') {
			d = c - '0';
		} else if (c >= 'a' && c <= 'f') {
			d = c - 'a' + 10;
		} else if (c >= 'A' && c <= 'F') {
			d = c - 'A' + 10;
		} else {
			return false;
		}
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

int bundle_add(struct bundle *b, const char *name, const void *data,
	       size_t size)
{
	size_t len;

	while (name[0] == '.' && name[1] == '/') {
		name += 2;
	}
	while (name[0] == '/') {
		name++;
	}
	len = strlen(name);
	if (len == 0 || len >= BUNDLE_NAME_MAX) {
		pr_err("bundle: bad file name '%.*s' (expected 1..%d characters)\n",
		       64, name, BUNDLE_NAME_MAX - 1);
		b->errors++;
		return -EINVAL;
	}
	if (bundle_find(b, name)) {
		pr_err("bundle: file '%s' appears twice (expected unique names); the first is kept\n",
		       name);
		b->errors++;
		return -EEXIST;
	}
	if (b->nr_files == BUNDLE_MAX_FILES) {
		pr_err("bundle: more than %d files (the most it holds); '%s' dropped\n",
		       BUNDLE_MAX_FILES, name);
		b->errors++;
		return -ENOSPC;
	}
	strlcpy(b->files[b->nr_files].name, name, BUNDLE_NAME_MAX);
	b->files[b->nr_files].data = data;
	b->files[b->nr_files].size = size;
	b->nr_files++;
	return 0;
}

const struct bundle_file *bundle_find(const struct bundle *b,
				      const char *name)
{
	for (unsigned int i = 0; i < b->nr_files; i++) {
		if (!strcmp(b->files[i].name, name)) {
			return &b->files[i];
		}
	}
	return NULL;
}

const char *bundle_archive_kind(const void *data, size_t size)
{
	const uint8_t *p = data;

	if (size >= 6 && (!memcmp(p, "070701", 6) || !memcmp(p, "070702", 6))) {
		return "cpio newc";
	}
	if (size >= 6 && !memcmp(p, "070707", 6)) {
		return "cpio odc (070707)";
	}
	if (size >= 2 && ((p[0] == 0xc7 && p[1] == 0x71) ||
			  (p[0] == 0x71 && p[1] == 0xc7))) {
		return "binary cpio";
	}
	return NULL;
}

static int cpio_error(struct bundle *b, size_t off, const char *why)
{
	pr_err("bundle: cpio archive damaged at offset %zu: %s\n", off, why);
	b->errors++;
	return -EINVAL;
}

int bundle_from_cpio(struct bundle *b, const void *archive, size_t size)
{
	const char *base = archive;
	size_t off = 0;
	int err = 0;

	if (size < 6 ||
	    (memcmp(base, "070701", 6) && memcmp(base, "070702", 6))) {
		const char *kind = bundle_archive_kind(archive, size);

		pr_err("bundle: not a cpio newc archive (%s%s); expected the 070701 magic of `cpio -H newc`\n",
		       kind ? "it is a " : "no cpio magic at offset 0",
		       kind ? kind : "");
		b->errors++;
		return -EINVAL;
	}
	while (off < size) {
		uint32_t f[13], namesize, filesize;
		const char *hdr = base + off, *name;
		size_t data_off;
		int ret;

		if (size - off < NEWC_HDR_SIZE) {
			return cpio_error(b, off, "truncated header (expected 110 bytes)");
		}
		if (memcmp(hdr, "070701", 6) && memcmp(hdr, "070702", 6)) {
			return cpio_error(b, off,
					  "not a newc header (expected the magic 070701)");
		}
		for (int i = 0; i < 13; i++) {
			if (!parse_hex8(hdr + 6 + 8 * i, &f[i])) {
				return cpio_error(b, off,
						  "bad header field (expected 8 hex digits)");
			}
		}
		filesize = f[6];
		namesize = f[11];
		if (namesize == 0 || namesize > size - off - NEWC_HDR_SIZE) {
			return cpio_error(b, off,
					  "bad name size (expected 1 up to the archive's end)");
		}
		name = hdr + NEWC_HDR_SIZE;
		if (name[namesize - 1] != '\0') {
			return cpio_error(b, off,
					  "name not terminated (expected a NUL at its end)");
		}
		data_off = ALIGN_UP(off + NEWC_HDR_SIZE + namesize, 4);
		if (data_off > size || filesize > size - data_off) {
			return cpio_error(b, off, "file runs past the archive");
		}
		if (!strcmp(name, "TRAILER!!!")) {
			return err;
		}
		if ((f[1] & NEWC_MODE_FMT) == NEWC_MODE_REG) {
			ret = bundle_add(b, name, base + data_off, filesize);
			if (ret == -ENOSPC) {
				return ret;
			}
			if (ret && !err) {
				err = ret;
			}
		}
		off = ALIGN_UP(data_off + filesize, 4);
	}
	return cpio_error(b, off, "no TRAILER!!! entry (expected at the end)");
}
