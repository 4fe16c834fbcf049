// SPDX-License-Identifier: MIT
/*
 * The arm64 EFI stub: the C code UEFI firmware runs when it starts the Image
 * as an EFI application (head.S efi_pe_entry, after the image relocated
 * itself where the firmware loaded it). docs/arm64-efi.md tells the whole
 * story; in short:
 *
 *   1. refuse, on the firmware's console, anything but EL2;
 *   2. read the command line (LoadedImage LoadOptions, UCS-2), the DTB
 *      (DEVICE_TREE_GUID) and the ACPI RSDP (ACPI_20_TABLE_GUID) from the
 *      configuration table;
 *   3. load the boot bundle as Linux's stub loads an initrd: the LoadFile2
 *      protocol on the LINUX_EFI_INITRD_MEDIA_GUID device path, else the
 *      file named by `initrd=` on the image's own volume;
 *   4. allocate a 2 MiB-aligned place for the image, take the memory map and
 *      exit boot services (a new map and key after EFI_INVALID_PARAMETER);
 *   5. copy the image there, clean it and the data it hands over to the PoC,
 *      and enter the copy with the MMU and caches off (efi_enter_image),
 *      which boots on as a Linux-Image boot with efi_handover filled in.
 *
 * Runs on the firmware's stack with its MMU, caches and identity map. Until
 * boot services are gone, every failure goes back to the firmware with a
 * message on ConOut; nothing here may fault on what the firmware hands over.
 */
#include <arch/mmu.h>
#include <drivers/fdt.h>
#include <lib/printk.h>
#include <lib/string.h>

#include "efi.h"

#define EFI_SYSTEM_TABLE_SIGNATURE	0x5453595320494249ULL /* "IBI SYST" */
#define FDT_MAGIC_BE			0xd00dfeedU
#define EXIT_ATTEMPTS			8
#define IMAGE_ALIGN			SZ_2M

extern char __image_start[], __image_end[];
extern char efi_handover_entry[];

efi_status_t efi_stub_main(efi_handle_t image, struct efi_system_table *st);
void efi_enter_image(paddr_t dtb, paddr_t entry) __noreturn;

struct efi_handover efi_handover __attribute__((section(".efi_handover")));

static struct efi_system_table *sys;
static struct efi_boot_services *bs;

static void efi_print(const char *fmt, ...) __printf(1, 2);

#ifdef CONFIG_TEST
/*
 * Test builds: `arm64_efi_stale_key=N` on the command line hands the first
 * N ExitBootServices() calls a wrong map key, so that the firmware's
 * EFI_INVALID_PARAMETER and the retry with a fresh map really happen
 * (tests/boot/efi_arm64.py). Strata's own parser leaves arm64_ words alone.
 */
static unsigned int stale_keys;

static void read_test_words(const char *cmdline)
{
	static const char word[] = "arm64_efi_stale_key=";
	const char *w = cmdline;

	while (w && *w) {
		if (!strncmp(w, word, sizeof(word) - 1)) {
			unsigned int n = 0;

			for (w += sizeof(word) - 1; *w >= '0' && *w <= '9'; w++) {
				n = n * 10 + (unsigned int)(*w - '0');
			}
			stale_keys = MIN(n, EXIT_ATTEMPTS - 1u);
			efi_print("Strata: test: the first %u ExitBootServices "
				  "calls get a stale map key\n", stale_keys);
			return;
		}
		w = strchr(w, ' ');
		w = w ? w + 1 : NULL;
	}
}
#else
static const unsigned int stale_keys;

static void read_test_words(const char *cmdline)
{
	(void)cmdline;
}
#endif

/* ---- the firmware's console ---------------------------------------------- */

static void efi_print(const char *fmt, ...)
{
	char buf[256];
	efi_char16_t out[2 * sizeof(buf)];
	unsigned int n = 0;
	va_list ap;

	if (!sys->con_out) {
		return;
	}
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (const char *c = buf; *c; c++) {
		if (*c == '\n') {
			out[n++] = '\r';
		}
		out[n++] = (unsigned char)*c;
	}
	out[n] = 0;
	sys->con_out->output_string(sys->con_out, out);
}

static bool guid_eq(const efi_guid_t *a, efi_guid_t b)
{
	return !memcmp(a, &b, sizeof(b));
}

/* ---- memory ---------------------------------------------------------------- */

/* Pages below EL2_VA_LIMIT (Strata's identity map) for @bytes, or 0. */
static paddr_t alloc_pages(uint64_t bytes, int type)
{
	uint64_t addr = EL2_VA_LIMIT - 1;

	if (bs->allocate_pages(EFI_ALLOCATE_MAX_ADDRESS, type,
			       ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT,
			       &addr) != EFI_SUCCESS) {
		return 0;
	}
	return addr;
}

static void dcache_clean_poc(paddr_t start, uint64_t size)
{
	uint64_t ctr, line;

	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	line = 4ULL << ((ctr >> 16) & 0xf);
	for (paddr_t a = ALIGN_DOWN(start, line); a < start + size; a += line) {
		__asm__ volatile("dc civac, %0" : : "r"(a) : "memory");
	}
	__asm__ volatile("dsb sy" : : : "memory");
}

/* ---- the command line ------------------------------------------------------ */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The last component of a path: after the last '\', '/' or ':'. */
static const char *base_name(const char *s, size_t len, size_t *blen)
{
	size_t i = len;

	while (i && s[i - 1] != '\\' && s[i - 1] != '/' && s[i - 1] != ':') {
		i--;
	}
	*blen = len - i;
	return s + i;
}

static bool same_name_nocase(const char *a, size_t alen, const char *b,
			     size_t blen)
{
	if (alen != blen || !alen) {
		return false;
	}
	for (size_t i = 0; i < alen; i++) {
		char x = a[i], y = b[i];

		x = (x >= 'A' && x <= 'Z') ? x + 32 : x;
		y = (y >= 'A' && y <= 'Z') ? y + 32 : y;
		if (x != y) {
			return false;
		}
	}
	return true;
}

/* The file name of the image (its FilePath's last file-path node), ASCII. */
static size_t image_file_name(const struct efi_loaded_image *li, char *out,
			      size_t size)
{
	const struct efi_device_path *dp = li->file_path;
	size_t n = 0;

	for (unsigned int guard = 0; dp && guard < 64; guard++) {
		uint16_t len = dp->length[0] | (dp->length[1] << 8);

		if (dp->type == 0x7f || len < 4) {
			break;
		}
		if (dp->type == 4 && dp->subtype == 4) {	/* file path */
			const uint8_t *c = (const uint8_t *)(dp + 1);

			n = 0;
			for (size_t i = 0; i + 1 < len - 4u && n + 1 < size;
			     i += 2) {
				uint16_t ch = c[i] | (c[i + 1] << 8);

				if (!ch) {
					break;
				}
				out[n++] = ch < 0x80 ? (char)ch : '?';
			}
		}
		dp = (const void *)((const uint8_t *)dp + len);
	}
	out[n] = 0;
	return n;
}

/*
 * LoadOptions (UCS-2) to the ASCII command line in @h, less the words that
 * are the stub's: `initrd=PATH` (the first one names the bundle; Strata's
 * own parser would only warn about it) and, when the UEFI shell started
 * the image, its argv[0], the image's own file name. A character outside
 * printable ASCII ends the line with a message: boot managers may pass
 * binary load options.
 */
static void read_cmdline(const struct efi_loaded_image *li,
			 struct efi_handover *h)
{
	const uint8_t *opt = li->load_options;
	size_t chars = li->load_options_size / 2;
	char line[EFI_CMDLINE_MAX];
	char self[128];
	size_t n = 0, out = 0, i = 0, self_len;
	const char *self_base;
	bool first = true;

	if (!opt) {
		chars = 0;
	}
	for (size_t k = 0; k < chars; k++) {
		uint16_t ch = opt[2 * k] | (opt[2 * k + 1] << 8);

		if (!ch) {
			break;
		}
		if (ch != '\t' && (ch < 0x20 || ch > 0x7e)) {
			efi_print("Strata: load options hold character 0x%x at "
				  "%zu; the command line ends there\n", ch, k);
			break;
		}
		if (n + 1 == sizeof(line)) {
			efi_print("Strata: command line longer than %zu "
				  "characters; cut there\n", sizeof(line) - 1);
			break;
		}
		line[n++] = (char)ch;
	}
	line[n] = 0;
	self_len = image_file_name(li, self, sizeof(self));
	self_base = base_name(self, self_len, &self_len);

	while (i < n) {
		size_t len = 0, blen;
		const char *w, *b;

		while (i < n && is_space(line[i])) {
			i++;
		}
		w = line + i;
		while (i + len < n && !is_space(w[len])) {
			len++;
		}
		i += len;
		if (!len) {
			break;
		}
		b = base_name(w, len, &blen);
		if (first && same_name_nocase(b, blen, self_base, self_len)) {
			first = false;
			continue;
		}
		first = false;
		if (len > 7 && !memcmp(w, "initrd=", 7)) {
			if (len - 7 >= sizeof(h->bundle_path)) {
				efi_print("Strata: initrd= path longer than %zu "
					  "characters; ignored\n",
					  sizeof(h->bundle_path) - 1);
			} else if (!h->bundle_path[0]) {
				memcpy(h->bundle_path, w + 7, len - 7);
				h->bundle_path[len - 7] = 0;
			} else {
				efi_print("Strata: more than one initrd= word; "
					  "'%.*s' ignored\n", (int)len, w);
			}
			continue;
		}
		if (out) {
			h->cmdline[out++] = ' ';
		}
		memcpy(h->cmdline + out, w, len);
		out += len;
	}
	h->cmdline[out] = 0;
}

/* ---- the configuration table ------------------------------------------------ */

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
}

/*
 * The DTB of DEVICE_TREE_GUID and the RSDP of ACPI_20_TABLE_GUID. The DTB
 * must start with the FDT magic and fit DTB_MAX_SIZE; one the early code
 * cannot take where it is (not 8-byte aligned, above EL2_VA_LIMIT) is copied
 * into loader data first.
 */
static efi_status_t read_config_tables(struct efi_handover *h)
{
	const void *fdt = NULL;

	for (uint64_t i = 0; i < sys->nr_tables; i++) {
		const struct efi_configuration_table *t = &sys->tables[i];

		if (guid_eq(&t->guid, EFI_DEVICE_TREE_GUID) && !fdt) {
			fdt = t->table;
		} else if (guid_eq(&t->guid, EFI_ACPI_20_TABLE_GUID) &&
			   !h->acpi_rsdp) {
			h->acpi_rsdp = (paddr_t)(uintptr_t)t->table;
		}
	}
	if (fdt) {
		paddr_t pa = (paddr_t)(uintptr_t)fdt;
		uint32_t size;

		if (be32(fdt) != FDT_MAGIC_BE) {
			efi_print("Strata: the DEVICE_TREE_GUID table at 0x%llx "
				  "is no device tree; ignored\n",
				  (unsigned long long)pa);
			fdt = NULL;
		} else if ((size = be32((const uint8_t *)fdt + 4)) >
			   DTB_MAX_SIZE || size < 40) {
			efi_print("Strata: the device tree at 0x%llx claims %u "
				  "bytes; ignored\n", (unsigned long long)pa,
				  size);
			fdt = NULL;
		} else if (!IS_ALIGNED(pa, 8) || pa + size > EL2_VA_LIMIT) {
			paddr_t copy = alloc_pages(size, EFI_LOADER_DATA);

			if (!copy) {
				efi_print("Strata: no memory for a copy of the "
					  "device tree\n");
				return EFI_OUT_OF_RESOURCES;
			}
			memcpy((void *)(uintptr_t)copy, fdt, size);
			h->dtb = copy;
		} else {
			h->dtb = pa;
		}
	}
	if (h->dtb) {
		efi_print("Strata: device tree at 0x%llx (%u bytes)\n",
			  (unsigned long long)h->dtb,
			  be32((const uint8_t *)(uintptr_t)h->dtb + 4));
	}
	if (h->acpi_rsdp) {
		efi_print("Strata: ACPI 2.0 RSDP at 0x%llx\n",
			  (unsigned long long)h->acpi_rsdp);
	}
	if (!h->dtb && h->acpi_rsdp) {
		efi_print("Strata: no device tree, only ACPI tables: booting "
			  "from ACPI alone needs Strata's ACPI discovery, which "
			  "this build has not; Strata will stop. With QEMU, "
			  "-M virt,acpi=off hands over a device tree\n");
	} else if (!h->dtb) {
		efi_print("Strata: the firmware gave neither a device tree "
			  "nor ACPI tables; Strata will stop\n");
	}
	return EFI_SUCCESS;
}

/* ---- the boot bundle --------------------------------------------------------- */

struct initrd_media_path {
	struct efi_device_path vendor;
	efi_guid_t guid;
	struct efi_device_path end;
} __packed;

/*
 * The LoadFile2 protocol on the LINUX_EFI_INITRD_MEDIA_GUID vendor media
 * device path, as the Linux stub uses it. EFI_NOT_FOUND when no such
 * handle exists (then the command line may name a file).
 */
static efi_status_t load_bundle_lf2(struct efi_handover *h)
{
	struct initrd_media_path mp = {
		.vendor = { 4, 3, { sizeof(struct efi_device_path) +
				   sizeof(efi_guid_t), 0 } },
		.guid = LINUX_EFI_INITRD_MEDIA_GUID,
		.end = { 0x7f, 0xff, { 4, 0 } },
	};
	struct efi_device_path *dp = &mp.vendor;
	struct efi_load_file2 *lf2;
	efi_handle_t handle;
	efi_status_t s;
	uint64_t size = 0;
	paddr_t buf;

	s = bs->locate_device_path(&EFI_LOAD_FILE2_PROTOCOL_GUID, &dp, &handle);
	if (s != EFI_SUCCESS || dp->type != 0x7f) {
		return EFI_NOT_FOUND;
	}
	s = bs->handle_protocol(handle, &EFI_LOAD_FILE2_PROTOCOL_GUID,
				(void **)&lf2);
	if (s != EFI_SUCCESS) {
		return EFI_NOT_FOUND;
	}
	/* The path handed over is what LocateDevicePath() left: its end. */
	s = lf2->load_file(lf2, dp, false, &size, NULL);
	if (s != EFI_BUFFER_TOO_SMALL || !size) {
		efi_print("Strata: the initrd LoadFile2 protocol gives no "
			  "size (status 0x%llx)\n", (unsigned long long)s);
		return EFI_LOAD_ERROR;
	}
	buf = alloc_pages(size, EFI_LOADER_DATA);
	if (!buf) {
		efi_print("Strata: no memory for the %llu-byte boot bundle\n",
			  (unsigned long long)size);
		return EFI_OUT_OF_RESOURCES;
	}
	s = lf2->load_file(lf2, dp, false, &size, (void *)(uintptr_t)buf);
	if (s != EFI_SUCCESS) {
		efi_print("Strata: loading the boot bundle through LoadFile2 "
			  "failed (status 0x%llx)\n", (unsigned long long)s);
		bs->free_pages(buf, ALIGN_UP(size, PAGE_SIZE) >> PAGE_SHIFT);
		return EFI_LOAD_ERROR;
	}
	h->bundle = buf;
	h->bundle_size = size;
	h->bundle_source = EFI_BUNDLE_LOAD_FILE2;
	return EFI_SUCCESS;
}

/* The `initrd=` file from the volume the image came from. */
static efi_status_t load_bundle_file(const struct efi_loaded_image *li,
				     struct efi_handover *h)
{
	efi_char16_t name[sizeof(h->bundle_path)];
	struct efi_simple_file_system *fs;
	struct efi_file *root, *f;
	uint64_t info_size = 0, size, got, total = 0;
	uint8_t *info = NULL;
	efi_status_t s;
	paddr_t buf = 0;
	size_t i;

	for (i = 0; h->bundle_path[i]; i++) {
		char c = h->bundle_path[i];

		name[i] = c == '/' ? '\\' : (unsigned char)c;
	}
	name[i] = 0;
	s = bs->handle_protocol(li->device,
				&EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID,
				(void **)&fs);
	if (s != EFI_SUCCESS) {
		efi_print("Strata: initrd=%s: the image's device has no file "
			  "system (status 0x%llx)\n", h->bundle_path,
			  (unsigned long long)s);
		return EFI_NOT_FOUND;
	}
	s = fs->open_volume(fs, &root);
	if (s != EFI_SUCCESS) {
		efi_print("Strata: initrd=%s: cannot open the volume (status "
			  "0x%llx)\n", h->bundle_path, (unsigned long long)s);
		return EFI_NOT_FOUND;
	}
	s = root->open(root, &f, name, EFI_FILE_MODE_READ, 0);
	root->close(root);
	if (s != EFI_SUCCESS) {
		efi_print("Strata: initrd=%s: cannot open the file (status "
			  "0x%llx)\n", h->bundle_path, (unsigned long long)s);
		return EFI_NOT_FOUND;
	}
	s = f->get_info(f, &EFI_FILE_INFO_ID, &info_size, NULL);
	if (s == EFI_BUFFER_TOO_SMALL && info_size >= 16) {
		s = bs->allocate_pool(EFI_LOADER_DATA, info_size,
				      (void **)&info);
		if (s == EFI_SUCCESS) {
			s = f->get_info(f, &EFI_FILE_INFO_ID, &info_size,
					info);
		}
	}
	if (s != EFI_SUCCESS || !info) {
		efi_print("Strata: initrd=%s: no file information (status "
			  "0x%llx)\n", h->bundle_path, (unsigned long long)s);
		goto fail;
	}
	memcpy(&size, info + EFI_FILE_INFO_SIZE_OFF, sizeof(size));
	if (!size) {
		efi_print("Strata: initrd=%s is empty\n", h->bundle_path);
		s = EFI_LOAD_ERROR;
		goto fail;
	}
	buf = alloc_pages(size, EFI_LOADER_DATA);
	if (!buf) {
		efi_print("Strata: no memory for the %llu-byte boot bundle\n",
			  (unsigned long long)size);
		s = EFI_OUT_OF_RESOURCES;
		goto fail;
	}
	while (total < size) {
		got = size - total;
		s = f->read(f, &got, (uint8_t *)(uintptr_t)buf + total);
		if (s != EFI_SUCCESS || !got) {
			efi_print("Strata: initrd=%s: read failed after %llu "
				  "of %llu bytes (status 0x%llx)\n",
				  h->bundle_path, (unsigned long long)total,
				  (unsigned long long)size,
				  (unsigned long long)s);
			bs->free_pages(buf, ALIGN_UP(size, PAGE_SIZE) >>
						    PAGE_SHIFT);
			s = EFI_LOAD_ERROR;
			goto fail;
		}
		total += got;
	}
	h->bundle = buf;
	h->bundle_size = size;
	h->bundle_source = EFI_BUNDLE_FILE;
	s = EFI_SUCCESS;
fail:
	if (info) {
		bs->free_pool(info);
	}
	f->close(f);
	return s;
}

static efi_status_t load_bundle(const struct efi_loaded_image *li,
				struct efi_handover *h)
{
	efi_status_t s = load_bundle_lf2(h);

	if (s == EFI_SUCCESS) {
		if (h->bundle_path[0]) {
			efi_print("Strata: initrd=%s not read: the firmware's "
				  "initrd LoadFile2 protocol comes first\n",
				  h->bundle_path);
		}
		efi_print("Strata: boot bundle from the initrd LoadFile2 "
			  "protocol: %llu bytes at 0x%llx\n",
			  (unsigned long long)h->bundle_size,
			  (unsigned long long)h->bundle);
		return s;
	}
	if (s != EFI_NOT_FOUND) {
		return s;
	}
	if (!h->bundle_path[0]) {
		efi_print("Strata: no boot bundle (no initrd LoadFile2 "
			  "protocol, no initrd= on the command line)\n");
		return EFI_SUCCESS;
	}
	s = load_bundle_file(li, h);
	if (s == EFI_SUCCESS) {
		efi_print("Strata: boot bundle from file %s: %llu bytes at "
			  "0x%llx\n", h->bundle_path,
			  (unsigned long long)h->bundle_size,
			  (unsigned long long)h->bundle);
	}
	return s;
}

/* ---- leaving the firmware ---------------------------------------------------- */

static uint64_t current_el(void)
{
	uint64_t el;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
	return (el >> 2) & 3;
}

static void copy_vendor(struct efi_handover *h)
{
	const efi_char16_t *v = sys->firmware_vendor;
	size_t n = 0;

	for (; v && v[n] && n + 1 < sizeof(h->firmware_vendor); n++) {
		h->firmware_vendor[n] = v[n] >= 0x20 && v[n] < 0x7f ?
					(char)v[n] : '?';
	}
	h->firmware_vendor[n] = 0;
}

/*
 * GetMemoryMap() then ExitBootServices() with its key. A key gone stale
 * (EFI_INVALID_PARAMETER: the map changed in between, a timer event ran)
 * takes a fresh map and key; after the first failed exit only these two
 * calls are allowed, so nothing is printed until it worked.
 */
static efi_status_t exit_boot_services(efi_handle_t image,
				       struct efi_handover *h)
{
	efi_status_t s = EFI_INVALID_PARAMETER;

	for (unsigned int i = 0; i < EXIT_ATTEMPTS; i++) {
		uint64_t size = sizeof(h->mmap), key, dsize;
		uint32_t dver;

		s = bs->get_memory_map(&size, h->mmap, &key, &dsize, &dver);
		if (s != EFI_SUCCESS) {
			return s;
		}
		h->mmap_size = size;
		h->desc_size = dsize;
		h->desc_version = dver;
		h->exit_attempts = i + 1;
		s = bs->exit_boot_services(image,
					   i < stale_keys ? key ^ 1 : key);
		if (s != EFI_INVALID_PARAMETER) {
			return s;
		}
	}
	return s;
}

efi_status_t efi_stub_main(efi_handle_t image, struct efi_system_table *st)
{
	struct efi_handover *h = &efi_handover;
	uint64_t image_size = (uint64_t)(__image_end - __image_start);
	paddr_t here = (paddr_t)(uintptr_t)__image_start;
	struct efi_loaded_image *li;
	efi_status_t s;
	paddr_t dest;

	if (!st || st->hdr.signature != EFI_SYSTEM_TABLE_SIGNATURE ||
	    !st->boot_services) {
		return EFI_INVALID_PARAMETER;
	}
	sys = st;
	bs = st->boot_services;
	if (current_el() != 2) {
		efi_print("Strata: UEFI started this image at EL%llu, but Strata "
			  "is a hypervisor and must be entered at EL2. The "
			  "firmware has to run at EL2 and hand over there (QEMU: "
			  "-M virt,virtualization=on). Not starting.\n",
			  (unsigned long long)current_el());
		return EFI_UNSUPPORTED;
	}
	memset(h, 0, sizeof(*h));
	h->system_table = (paddr_t)(uintptr_t)st;
	h->firmware_revision = st->firmware_revision;
	h->loaded_at = here;
	copy_vendor(h);
	efi_print("Strata EFI stub: firmware '%s' revision 0x%x, UEFI %u.%u, "
		  "EL2, image loaded at 0x%llx\n", h->firmware_vendor,
		  h->firmware_revision, st->hdr.revision >> 16,
		  (st->hdr.revision & 0xffff) / 10,
		  (unsigned long long)here);

	s = bs->handle_protocol(image, &EFI_LOADED_IMAGE_PROTOCOL_GUID,
				(void **)&li);
	if (s != EFI_SUCCESS) {
		efi_print("Strata: no LoadedImage protocol (status 0x%llx)\n",
			  (unsigned long long)s);
		return s;
	}
	read_cmdline(li, h);
	efi_print("Strata: command line '%s'\n", h->cmdline);
	read_test_words(h->cmdline);
	s = read_config_tables(h);
	if (s != EFI_SUCCESS) {
		return s;
	}
	s = load_bundle(li, h);
	if (s != EFI_SUCCESS) {
		efi_print("Strata: cannot load the boot bundle; not starting\n");
		return s;
	}

	/*
	 * Strata's Image wants a 2 MiB-aligned base (head.S IMAGE_FLAGS) inside
	 * its identity map.
	 */
	dest = here;
	if (!IS_ALIGNED(here, IMAGE_ALIGN) ||
	    here + image_size > EL2_VA_LIMIT) {
		paddr_t area = alloc_pages(image_size + IMAGE_ALIGN,
					   EFI_LOADER_CODE);

		if (!area) {
			efi_print("Strata: no memory to place the image on 2 "
				  "MiB; not starting\n");
			return EFI_OUT_OF_RESOURCES;
		}
		dest = ALIGN_UP(area, IMAGE_ALIGN);
	}
	efi_print("Strata: exiting boot services; the image runs at 0x%llx\n",
		  (unsigned long long)dest);

	s = exit_boot_services(image, h);
	if (s != EFI_SUCCESS && !h->exit_attempts) {
		/* Not one ExitBootServices() call yet: the console still works. */
		efi_print("Strata: GetMemoryMap failed (status 0x%llx%s); not "
			  "starting\n", (unsigned long long)s,
			  s == EFI_BUFFER_TOO_SMALL ?
				  ", the map is larger than the 64 KiB "
				  "Strata keeps" : "");
		return s;
	}
	if (s != EFI_SUCCESS) {
		/*
		 * Boot services may be partly shut down after a failed exit:
		 * the spec allows no other call, not even to the console. The
		 * firmware gets the status back.
		 */
		return s;
	}
	h->magic = EFI_HANDOVER_MAGIC;
	/* From here on the firmware is gone: no calls, no console. */
	if (dest != here) {
		memcpy((void *)(uintptr_t)dest, __image_start, image_size);
	}
	dcache_clean_poc(dest, image_size);
	if (h->dtb) {
		dcache_clean_poc(h->dtb, be32((const uint8_t *)(uintptr_t)
					      h->dtb + 4));
	}
	if (h->bundle) {
		dcache_clean_poc(h->bundle, h->bundle_size);
	}
	efi_enter_image(h->dtb, dest + (paddr_t)(efi_handover_entry -
						 __image_start));
}
