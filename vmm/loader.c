// SPDX-License-Identifier: MIT
/*
 * Guest image loaders: ELF64, raw binaries and Linux arm64 Images. Every
 * offset and size from the image is checked before it is used, and every
 * write goes through guest_copy(), the one place that writes guest RAM.
 */
#include <lib/errno.h>
#include <lib/printk.h>
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

static int refuse(const char *name, int err, const char *why)
{
	pr_err("%s: %s\n", name, why);
	return err;
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

static int check_phdr(const char *name, const struct elf64_phdr *ph,
		      size_t size, const struct guest_ram *ram)
{
	if (ph->filesz > ph->memsz) {
		return refuse(name, -ENOEXEC, "ELF segment file size exceeds memory size");
	}
	if (ph->offset > size || ph->filesz > size - ph->offset) {
		return refuse(name, -ENOEXEC, "ELF segment runs past the file");
	}
	if (!range_in_ram(ram, ph->paddr, ph->memsz)) {
		return refuse(name, -ERANGE, "ELF segment lies outside the VM's memory");
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
	int ret;

	if (!is_elf64(img, size) || size < sizeof(eh)) {
		return refuse(name, -ENOEXEC, "not an ELF64 file");
	}
	memcpy(&eh, img, sizeof(eh));
	if (eh.ident[5] != ELFDATA2LSB || eh.type != ET_EXEC ||
	    eh.machine != machine) {
		return refuse(name, -ENOEXEC,
			      "ELF is not a little-endian executable for this machine");
	}
	if (eh.phentsize != sizeof(struct elf64_phdr) || eh.phnum == 0 ||
	    eh.phoff > size || eh.phnum > (size - eh.phoff) / sizeof(struct elf64_phdr)) {
		return refuse(name, -ENOEXEC, "bad ELF program header table");
	}
	/* Check every segment before writing any, so a refusal writes nothing. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < eh.phnum; i++) {
			struct elf64_phdr ph;

			memcpy(&ph, base + eh.phoff + i * sizeof(ph), sizeof(ph));
			if (ph.type != PT_LOAD || ph.memsz == 0) {
				continue;
			}
			if (pass == 0) {
				ret = check_phdr(name, &ph, size, ram);
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
			return refuse(name, -ENOEXEC, "ELF has no loadable segment");
		}
		if (pass == 0 && !(eh.entry >= lo && eh.entry < hi)) {
			return refuse(name, -ENOEXEC,
				      "ELF entry point is outside its segments");
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
			      "raw image does not fit at its load address");
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
	if (span < size || h.text_offset >= SZ_1G) {
		return refuse(name, -ENOEXEC, "bad Image header sizes");
	}
	at = ALIGN_UP(ram->base, SZ_2M) + h.text_offset;
	if (at < ram->base || !range_in_ram(ram, at, span)) {
		return refuse(name, -ERANGE, "Image does not fit in the VM's memory");
	}
	guest_copy(ram, at, img, size);
	guest_copy(ram, at + size, NULL, span - size);
	*out = (struct loaded_image){ at, at, at + span, "arm64-image" };
	return 0;
}

int load_guest_kernel(const char *name, const void *img, size_t size,
		      uint16_t machine, bool has_load_addr, gpa_t load_addr,
		      const struct guest_ram *ram, struct loaded_image *out)
{
	if (is_elf64_for(img, size, machine)) {
		return load_elf64(name, img, size, machine, ram, out);
	}
	if (machine == 183 && is_arm64_image(img, size)) {
		return load_arm64_image(name, img, size, ram, out);
	}
	if (has_load_addr) {
		return load_raw(name, img, size, load_addr, ram, out);
	}
	pr_err("%s: unknown image format\n", name);
	return -ENOEXEC;
}
