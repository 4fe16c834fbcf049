// SPDX-License-Identifier: MIT
/*
 * Guest image loaders: ELF64, raw binaries, Linux arm64 Images and multiboot
 * (v1) kernels, the latter as ELF32 or with the a.out kludge. Every
 * offset and size from the image is checked before it is used, and every
 * write goes through guest_copy(), the one place that writes guest RAM.
 */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/spinlock.h>
#include <lib/string.h>
#include <vmm/loader.h>

#define EI_NIDENT	16
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define ET_EXEC		2
#define PT_LOAD		1

struct elf64_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 phdr is 56 bytes");

struct arm64_image_hdr {
	uint32_t code0, code1;
	uint64_t text_offset, image_size, flags;
	uint64_t res2, res3, res4;
	uint32_t magic, res5;
};

_Static_assert(sizeof(struct arm64_image_hdr) == 64, "Image header is 64 bytes");

#define ARM64_IMAGE_MAGIC	0x644d5241	/* "ARM\x64" */
#define ARM64_IMAGE_BE		BIT(0)

#define EM_X86_64	62
#define EM_AARCH64	183
#define MAX_LOAD_SEGMENTS 64

/*
 * The last refusal, read at boot (vmm/main.c) after each VM's build; a
 * reset reloads a kernel on whichever CPU does it (docs/smp.md), so two
 * CPUs may refuse at once: writes take @error_lock. Everything else of a
 * load is on the loading CPU's stack.
 */
static char last_error[224];
static struct spinlock error_lock = SPINLOCK_INIT;

const char *loader_error(void)
{
	return last_error;
}

void loader_clear_error(void)
{
	spin_lock(&error_lock);
	last_error[0] = '\0';
	spin_unlock(&error_lock);
}

/* Report why @name is refused (kept for loader_error()) and return @err. */
static int __printf(3, 4) refuse(const char *name, int err, const char *fmt,
				 ...)
{
	char why[176];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("%s: %s\n", name, why);
	spin_lock(&error_lock);
	ksnprintf(last_error, sizeof(last_error), "%s: %s", name, why);
	spin_unlock(&error_lock);
	return err;
}

/*
 * Where the checked loadable segments go, to find overlaps: one per load,
 * on its stack (loads run on several CPUs at once: resets, docs/smp.md).
 */
struct seg_ranges {
	unsigned int nr;
	struct {
		gpa_t lo, hi;
		unsigned int index;
	} r[MAX_LOAD_SEGMENTS];
};

/*
 * Record segment @index at [@lo, @hi) in @sr; refuse it when it overlaps
 * one recorded before, or when there are too many.
 */
static int add_seg_range(const char *name, struct seg_ranges *sr,
			 unsigned int index, gpa_t lo, gpa_t hi)
{
	if (sr->nr == MAX_LOAD_SEGMENTS) {
		return refuse(name, -ENOEXEC,
			      "ELF has more than %d loadable segments (expected at most %d)",
			      MAX_LOAD_SEGMENTS, MAX_LOAD_SEGMENTS);
	}
	for (unsigned int i = 0; i < sr->nr; i++) {
		if (lo < sr->r[i].hi && sr->r[i].lo < hi) {
			return refuse(name, -ENOEXEC,
				      "ELF segments %u and %u overlap at 0x%llx (expected disjoint PT_LOAD ranges)",
				      sr->r[i].index, index,
				      (unsigned long long)MAX(lo, sr->r[i].lo));
		}
	}
	sr->r[sr->nr].lo = lo;
	sr->r[sr->nr].hi = hi;
	sr->r[sr->nr].index = index;
	sr->nr++;
	return 0;
}

/* Instructions are 4-byte aligned on arm64; x86 has no such rule. */
static bool entry_aligned(uint16_t machine, gpa_t entry)
{
	return machine != EM_AARCH64 || IS_ALIGNED(entry, 4);
}

static bool range_in_ram(const struct guest_ram *ram, gpa_t gpa, uint64_t len)
{
	return gpa >= ram->base && len <= ram->size &&
	       gpa - ram->base <= ram->size - len;
}

/* Copy @len bytes (or zero them when @src is NULL) to guest @gpa. */
static void guest_copy(const struct guest_ram *ram, gpa_t gpa,
		       const void *src, uint64_t len)
{
	uint8_t *dst = ram->host + (gpa - ram->base);

	if (ram->prepare) {
		ram->prepare(ram->arg, gpa - ram->base, len);
	}
	if (src) {
		memcpy(dst, src, len);
	} else {
		memset(dst, 0, len);
	}
}

bool is_elf64(const void *img, size_t size)
{
	const uint8_t *p = img;

	return size >= EI_NIDENT && p[0] == 0x7f && p[1] == 'E' &&
	       p[2] == 'L' && p[3] == 'F' && p[4] == ELFCLASS64;
}

bool is_elf64_for(const void *img, size_t size, uint16_t machine)
{
	struct elf64_ehdr eh;

	if (!is_elf64(img, size) || size < sizeof(eh)) {
		return false;
	}
	memcpy(&eh, img, sizeof(eh));
	return eh.machine == machine;
}

bool is_arm64_image(const void *img, size_t size)
{
	struct arm64_image_hdr h;

	if (size < sizeof(h)) {
		return false;
	}
	memcpy(&h, img, sizeof(h));
	return h.magic == ARM64_IMAGE_MAGIC;
}

/* A loadable segment (ELF32 or ELF64, fields widened) fits file and RAM. */
static int check_segment(const char *name, unsigned int index,
			 uint64_t offset, uint64_t filesz, uint64_t memsz,
			 uint64_t paddr, size_t size,
			 const struct guest_ram *ram)
{
	if (filesz > memsz) {
		return refuse(name, -ENOEXEC,
			      "ELF segment %u: file size 0x%llx exceeds its memory size 0x%llx",
			      index, (unsigned long long)filesz,
			      (unsigned long long)memsz);
	}
	if (offset > size || filesz > size - offset) {
		return refuse(name, -ENOEXEC,
			      "ELF segment %u (0x%llx bytes at offset 0x%llx) runs past the end of the file (0x%zx bytes)",
			      index, (unsigned long long)filesz,
			      (unsigned long long)offset, size);
	}
	if (!range_in_ram(ram, paddr, memsz)) {
		return refuse(name, -ERANGE,
			      "ELF segment %u at 0x%llx+0x%llx lies outside the VM's memory 0x%llx+0x%llx",
			      index, (unsigned long long)paddr,
			      (unsigned long long)memsz,
			      (unsigned long long)ram->base,
			      (unsigned long long)ram->size);
	}
	return 0;
}

int load_elf64(const char *name, const void *img, size_t size,
	       uint16_t machine, const struct guest_ram *ram,
	       struct loaded_image *out)
{
	const uint8_t *base = img;
	struct elf64_ehdr eh;
	gpa_t lo = UINT64_MAX, hi = 0;
	struct seg_ranges sr;
	int ret;

	if (!is_elf64(img, size) || size < sizeof(eh)) {
		return refuse(name, -ENOEXEC, "not an ELF64 file");
	}
	memcpy(&eh, img, sizeof(eh));
	if (eh.ident[5] != ELFDATA2LSB || eh.type != ET_EXEC ||
	    eh.machine != machine) {
		return refuse(name, -ENOEXEC,
			      "ELF is not a little-endian executable for this machine (data %u, type %u, machine %u; expected 1, 2 (ET_EXEC), %u)",
			      eh.ident[5], eh.type, eh.machine, machine);
	}
	if (eh.phentsize != sizeof(struct elf64_phdr) || eh.phnum == 0 ||
	    eh.phoff > size || eh.phnum > (size - eh.phoff) / sizeof(struct elf64_phdr)) {
		return refuse(name, -ENOEXEC,
			      "bad ELF program header table (%u entries of %u bytes at offset 0x%llx in 0x%zx bytes)",
			      eh.phnum, eh.phentsize,
			      (unsigned long long)eh.phoff, size);
	}
	/* Check every segment before writing any, so a refusal writes nothing. */
	sr.nr = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < eh.phnum; i++) {
			struct elf64_phdr ph;

			memcpy(&ph, base + eh.phoff + i * sizeof(ph), sizeof(ph));
			if (ph.type != PT_LOAD || ph.memsz == 0) {
				continue;
			}
			if (pass == 0) {
				ret = check_segment(name, i, ph.offset,
						    ph.filesz, ph.memsz,
						    ph.paddr, size, ram);
				if (!ret) {
					ret = add_seg_range(name, &sr, i,
							    ph.paddr,
							    ph.paddr + ph.memsz);
				}
				if (ret) {
					return ret;
				}
				lo = MIN(lo, ph.paddr);
				hi = MAX(hi, ph.paddr + ph.memsz);
				continue;
			}
			guest_copy(ram, ph.paddr, base + ph.offset, ph.filesz);
			guest_copy(ram, ph.paddr + ph.filesz, NULL,
				   ph.memsz - ph.filesz);
		}
		if (pass == 0 && lo == UINT64_MAX) {
			return refuse(name, -ENOEXEC,
				      "ELF has no loadable segment (expected a PT_LOAD with memory)");
		}
		if (pass == 0 && !(eh.entry >= lo && eh.entry < hi)) {
			return refuse(name, -ENOEXEC,
				      "ELF entry point 0x%llx is outside its segments 0x%llx-0x%llx",
				      (unsigned long long)eh.entry,
				      (unsigned long long)lo,
				      (unsigned long long)hi);
		}
		if (pass == 0 && !entry_aligned(machine, eh.entry)) {
			return refuse(name, -ENOEXEC,
				      "ELF entry point 0x%llx is not 4-byte aligned (expected an AArch64 instruction address)",
				      (unsigned long long)eh.entry);
		}
	}
	*out = (struct loaded_image){ eh.entry, lo, hi, "elf64" };
	return 0;
}

int load_raw(const char *name, const void *img, size_t size, gpa_t load_addr,
	     const struct guest_ram *ram, struct loaded_image *out)
{
	if (size == 0) {
		return refuse(name, -ENOEXEC, "empty image");
	}
	if (!range_in_ram(ram, load_addr, size)) {
		return refuse(name, -ERANGE,
			      "raw image of 0x%zx bytes does not fit at its load address 0x%llx (VM memory 0x%llx+0x%llx)",
			      size, (unsigned long long)load_addr,
			      (unsigned long long)ram->base,
			      (unsigned long long)ram->size);
	}
	guest_copy(ram, load_addr, img, size);
	*out = (struct loaded_image){ load_addr, load_addr, load_addr + size,
				      "raw" };
	return 0;
}

int load_arm64_image(const char *name, const void *img, size_t size,
		     const struct guest_ram *ram, struct loaded_image *out)
{
	struct arm64_image_hdr h;
	uint64_t span;
	gpa_t at;

	if (!is_arm64_image(img, size)) {
		return refuse(name, -ENOEXEC, "not a Linux arm64 Image");
	}
	memcpy(&h, img, sizeof(h));
	if (h.flags & ARM64_IMAGE_BE) {
		return refuse(name, -ENOEXEC, "big-endian Image not supported");
	}
	/* image_size 0 means an old kernel: the file size is all we know. */
	span = h.image_size ? h.image_size : size;
	if (span < size) {
		return refuse(name, -ENOEXEC,
			      "Image header image_size 0x%llx is smaller than the file (0x%zx bytes)",
			      (unsigned long long)h.image_size, size);
	}
	if (h.text_offset >= SZ_1G) {
		return refuse(name, -ENOEXEC,
			      "Image header text_offset 0x%llx is too large (expected below 1 GiB)",
			      (unsigned long long)h.text_offset);
	}
	if (!IS_ALIGNED(h.text_offset, 4)) {
		return refuse(name, -ENOEXEC,
			      "Image header text_offset 0x%llx puts the entry point off a 4-byte boundary (expected a multiple of 4)",
			      (unsigned long long)h.text_offset);
	}
	at = ALIGN_UP(ram->base, SZ_2M) + h.text_offset;
	if (at < ram->base || !range_in_ram(ram, at, span)) {
		return refuse(name, -ERANGE,
			      "Image of 0x%llx bytes at 0x%llx does not fit in the VM's memory 0x%llx+0x%llx",
			      (unsigned long long)span, (unsigned long long)at,
			      (unsigned long long)ram->base,
			      (unsigned long long)ram->size);
	}
	guest_copy(ram, at, img, size);
	guest_copy(ram, at + size, NULL, span - size);
	*out = (struct loaded_image){ at, at, at + span, "arm64-image" };
	return 0;
}

/* ---- Multiboot v1 ------------------------------------------------------ */

#define MB1_MAGIC		0x1BADB002u
#define MB1_SEARCH		8192
#define MB1_PAGE_ALIGN		BIT(0)	/* modules on 4 KiB: none here */
#define MB1_MEMORY_INFO		BIT(1)	/* mem_lower/upper, mmap: given */
#define MB1_VIDEO_MODE		BIT(2)	/* not provided */
#define MB1_AOUT_KLUDGE		BIT(16)
#define MB1_REQUIRED_OK		(MB1_PAGE_ALIGN | MB1_MEMORY_INFO)

struct mb1_header {
	uint32_t magic, flags, checksum;
	/* valid with MB1_AOUT_KLUDGE */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	uint32_t entry_addr;
};

#define ELFCLASS32	1
#define EM_386		3

struct elf32_ehdr {
	uint8_t ident[EI_NIDENT];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

_Static_assert(sizeof(struct mb1_header) == 32, "multiboot header is 32 bytes");
_Static_assert(sizeof(struct elf32_ehdr) == 52, "ELF32 header is 52 bytes");
_Static_assert(sizeof(struct elf32_phdr) == 32, "ELF32 phdr is 32 bytes");

/* Offset of the first 4-byte aligned magic in the first 8 KiB, or -1. */
static long mb1_find(const void *img, size_t size)
{
	const uint8_t *p = img;
	size_t end = MIN(size, (size_t)MB1_SEARCH);

	for (size_t off = 0; off + 12 <= end; off += 4) {
		uint32_t magic;

		memcpy(&magic, p + off, 4);
		if (magic == MB1_MAGIC) {
			return (long)off;
		}
	}
	return -1;
}

bool is_multiboot(const void *img, size_t size)
{
	return mb1_find(img, size) >= 0;
}

/* The a.out kludge: the header's addresses place the file's bytes. */
static int mb1_load_kludge(const char *name, const uint8_t *img, size_t size,
			   size_t hoff, const struct mb1_header *h,
			   const struct guest_ram *ram,
			   struct loaded_image *out)
{
	uint64_t file_off, load_len, end, bss_end;

	if (hoff + sizeof(*h) > MIN(size, (size_t)MB1_SEARCH)) {
		return refuse(name, -ENOEXEC,
			      "multiboot header address fields run past the first 8 KiB");
	}
	if (h->load_addr > h->header_addr ||
	    h->header_addr - h->load_addr > hoff) {
		return refuse(name, -ENOEXEC,
			      "multiboot load_addr does not lie before the header in the file");
	}
	file_off = hoff - (h->header_addr - h->load_addr);
	if (h->load_end_addr) {
		if (h->load_end_addr <= h->load_addr) {
			return refuse(name, -ENOEXEC,
				      "multiboot load_end_addr is not above load_addr");
		}
		load_len = h->load_end_addr - h->load_addr;
		if (load_len > size - file_off) {
			return refuse(name, -ENOEXEC,
				      "multiboot load range runs past the file");
		}
	} else {
		load_len = size - file_off;
	}
	end = (uint64_t)h->load_addr + load_len;
	bss_end = h->bss_end_addr ? h->bss_end_addr : end;
	if (bss_end < end) {
		return refuse(name, -ENOEXEC,
			      "multiboot bss_end_addr is below the loaded end");
	}
	if (!load_len || h->entry_addr < h->load_addr || h->entry_addr >= end) {
		return refuse(name, -ENOEXEC,
			      "multiboot entry_addr is outside the loaded image");
	}
	if (!range_in_ram(ram, h->load_addr, bss_end - h->load_addr)) {
		return refuse(name, -ERANGE,
			      "multiboot image lies outside the VM's memory");
	}
	guest_copy(ram, h->load_addr, img + file_off, load_len);
	guest_copy(ram, end, NULL, bss_end - end);
	*out = (struct loaded_image){ h->entry_addr, h->load_addr, bss_end,
				      "multiboot" };
	return 0;
}

/*
 * Translate an ELF entry point that lies in a segment's virtual range to
 * its physical address (as GRUB does); false when it lies in none.
 */
static bool elf32_entry_pa(const struct elf32_phdr *ph, uint32_t entry,
			   gpa_t *pa)
{
	if (entry >= ph->paddr && entry - ph->paddr < ph->memsz) {
		*pa = entry;
		return true;
	}
	if (entry >= ph->vaddr && entry - ph->vaddr < ph->memsz) {
		*pa = (gpa_t)ph->paddr + (entry - ph->vaddr);
		return true;
	}
	return false;
}

/* An ELF32 multiboot kernel: PT_LOAD segments at their physical addresses. */
static int mb1_load_elf32(const char *name, const uint8_t *img, size_t size,
			  const struct guest_ram *ram,
			  struct loaded_image *out)
{
	struct elf32_ehdr eh;
	gpa_t lo = UINT64_MAX, hi = 0, entry = 0;
	bool have_entry = false;
	struct seg_ranges sr;
	int ret;

	if (size < sizeof(eh) || img[0] != 0x7f || img[1] != 'E' ||
	    img[2] != 'L' || img[3] != 'F' || img[4] != ELFCLASS32) {
		return refuse(name, -ENOEXEC,
			      "multiboot kernel is neither ELF32 nor has load addresses (flag 16)");
	}
	memcpy(&eh, img, sizeof(eh));
	if (eh.ident[5] != ELFDATA2LSB || eh.type != ET_EXEC ||
	    eh.machine != EM_386) {
		return refuse(name, -ENOEXEC,
			      "multiboot ELF is not a little-endian i386 executable");
	}
	if (eh.phentsize != sizeof(struct elf32_phdr) || eh.phnum == 0 ||
	    eh.phoff > size ||
	    eh.phnum > (size - eh.phoff) / sizeof(struct elf32_phdr)) {
		return refuse(name, -ENOEXEC, "bad ELF program header table");
	}
	sr.nr = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < eh.phnum; i++) {
			struct elf32_phdr ph;

			memcpy(&ph, img + eh.phoff + i * sizeof(ph), sizeof(ph));
			if (ph.type != PT_LOAD || ph.memsz == 0) {
				continue;
			}
			if (pass == 1) {
				guest_copy(ram, ph.paddr, img + ph.offset,
					   ph.filesz);
				guest_copy(ram, (gpa_t)ph.paddr + ph.filesz,
					   NULL, ph.memsz - ph.filesz);
				continue;
			}
			ret = check_segment(name, i, ph.offset, ph.filesz,
					    ph.memsz, ph.paddr, size, ram);
			if (!ret) {
				ret = add_seg_range(name, &sr, i, ph.paddr,
						    (gpa_t)ph.paddr + ph.memsz);
			}
			if (ret) {
				return ret;
			}
			lo = MIN(lo, (gpa_t)ph.paddr);
			hi = MAX(hi, (gpa_t)ph.paddr + ph.memsz);
			if (!have_entry) {
				have_entry = elf32_entry_pa(&ph, eh.entry,
							    &entry);
			}
		}
		if (pass == 0 && lo == UINT64_MAX) {
			return refuse(name, -ENOEXEC, "ELF has no loadable segment");
		}
		if (pass == 0 && !have_entry) {
			return refuse(name, -ENOEXEC,
				      "ELF entry point is outside its segments");
		}
	}
	*out = (struct loaded_image){ entry, lo, hi, "multiboot" };
	return 0;
}

int load_multiboot(const char *name, const void *img, size_t size,
		   const struct guest_ram *ram, struct loaded_image *out)
{
	long hoff = mb1_find(img, size);
	struct mb1_header h = { 0 };

	if (hoff < 0) {
		return refuse(name, -ENOEXEC,
			      "no multiboot header in the first 8 KiB");
	}
	memcpy(&h, (const uint8_t *)img + hoff, 12);
	if ((uint32_t)(h.magic + h.flags + h.checksum) != 0) {
		return refuse(name, -ENOEXEC, "bad multiboot header checksum");
	}
	if (h.flags & MB1_VIDEO_MODE) {
		return refuse(name, -ENOEXEC,
			      "multiboot kernel asks for a video mode, which Strata does not set");
	}
	if (h.flags & 0xffff & ~MB1_REQUIRED_OK) {
		return refuse(name, -ENOEXEC,
			      "multiboot kernel requires unknown features (flags 3-15)");
	}
	if (h.flags & MB1_AOUT_KLUDGE) {
		if ((size_t)hoff + sizeof(h) <= size) {
			memcpy(&h, (const uint8_t *)img + hoff, sizeof(h));
		}
		return mb1_load_kludge(name, img, size, hoff, &h, ram, out);
	}
	return mb1_load_elf32(name, img, size, ram, out);
}

/* ---- Linux x86 bzImage ------------------------------------------------- */

#define BZ_SETUP_SECTS		0x1f1
#define BZ_BOOT_FLAG		0x1fe
#define BZ_HEADER		0x202
#define BZ_VERSION		0x206
#define BZ_LOADFLAGS		0x211
#define BZ_XLOADFLAGS		0x236
#define BZ_INIT_SIZE		0x260
#define BZ_HDR_END		0x268	/* what protocol 2.12+ headers cover */
#define BZ_LOADED_HIGH		BIT(0)
#define BZ_XLF_KERNEL_64	BIT(0)

static uint32_t bz_le(const uint8_t *p, unsigned int n)
{
	uint32_t v = 0;

	while (n--) {
		v = v << 8 | p[n];
	}
	return v;
}

bool is_bzimage(const void *img, size_t size)
{
	const uint8_t *b = img;

	return size >= BZ_HDR_END && bz_le(b + BZ_BOOT_FLAG, 2) == 0xaa55 &&
	       !memcmp(b + BZ_HEADER, "HdrS", 4);
}

int load_bzimage(const char *name, const void *img, size_t size,
		 const struct guest_ram *ram, struct loaded_image *out)
{
	const uint8_t *b = img;
	unsigned int sects, version;
	uint64_t setup, code, init;

	if (!is_bzimage(img, size)) {
		return refuse(name, -ENOEXEC, "not a bzImage (no HdrS header)");
	}
	version = bz_le(b + BZ_VERSION, 2);
	sects = b[BZ_SETUP_SECTS] ? b[BZ_SETUP_SECTS] : 4;
	setup = (uint64_t)(sects + 1) * 512;
	if (version < 0x020c) {
		return refuse(name, -ENOEXEC,
			      "bzImage boot protocol %u.%u: 2.12 or later needed (64-bit entry)",
			      version >> 8, version & 0xff);
	}
	if (!(b[BZ_LOADFLAGS] & BZ_LOADED_HIGH) ||
	    !(bz_le(b + BZ_XLOADFLAGS, 2) & BZ_XLF_KERNEL_64)) {
		return refuse(name, -ENOEXEC,
			      "bzImage without LOADED_HIGH or a 64-bit entry (XLF_KERNEL_64)");
	}
	if (setup >= size || size - setup <= BZIMAGE_ENTRY64) {
		return refuse(name, -ENOEXEC,
			      "bzImage of 0x%zx bytes has no code after its %u setup sectors",
			      size, sects);
	}
	code = size - setup;
	init = MAX((uint64_t)bz_le(b + BZ_INIT_SIZE, 4), code);
	if (!range_in_ram(ram, BZIMAGE_LOAD_ADDR, init)) {
		return refuse(name, -ERANGE,
			      "bzImage needs 0x%llx bytes at 0x%llx (VM memory 0x%llx+0x%llx)",
			      (unsigned long long)init,
			      (unsigned long long)BZIMAGE_LOAD_ADDR,
			      (unsigned long long)ram->base,
			      (unsigned long long)ram->size);
	}
	guest_copy(ram, BZIMAGE_LOAD_ADDR, b + setup, code);
	guest_copy(ram, BZIMAGE_LOAD_ADDR + code, NULL, init - code);
	*out = (struct loaded_image){ BZIMAGE_LOAD_ADDR + BZIMAGE_ENTRY64,
				      BZIMAGE_LOAD_ADDR,
				      BZIMAGE_LOAD_ADDR + init, "bzimage" };
	return 0;
}

int load_guest_kernel(const char *name, const void *img, size_t size,
		      uint16_t machine, bool has_load_addr, gpa_t load_addr,
		      const struct guest_ram *ram, struct loaded_image *out)
{
	if (is_elf64_for(img, size, machine)) {
		return load_elf64(name, img, size, machine, ram, out);
	}
	if (machine == EM_AARCH64 && is_arm64_image(img, size)) {
		return load_arm64_image(name, img, size, ram, out);
	}
	if (machine == EM_X86_64 && is_multiboot(img, size)) {
		return load_multiboot(name, img, size, ram, out);
	}
	if (machine == EM_X86_64 && is_bzimage(img, size)) {
		return load_bzimage(name, img, size, ram, out);
	}
	if (has_load_addr) {
		return load_raw(name, img, size, load_addr, ram, out);
	}
	return refuse(name, -ENOEXEC,
		      "unknown image format (expected an ELF64%s, or a load address for a raw binary)",
		      machine == EM_AARCH64 ? ", a Linux arm64 Image" :
		      ", a multiboot kernel, a bzImage");
}
