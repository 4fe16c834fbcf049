/* SPDX-License-Identifier: MIT */
/*
 * Guest image loaders. Each copies an image from the bundle into guest RAM,
 * given as a host view of the guest-physical range [ram_base, ram_base +
 * ram_size). Nothing is written outside that view; a bad image is reported
 * (with @name, the field and what was expected) and refused with -ENOEXEC
 * (not this format / malformed) or -ERANGE (does not fit in the VM's
 * memory). Refused besides what each loader says: ELF PT_LOAD segments that
 * overlap (by physical address) or more than 64 of them, and on arm64 an
 * entry point that is not 4-byte aligned (an ELF entry, an Image's
 * text_offset).
 */
#ifndef STRATA_VMM_LOADER_H
#define STRATA_VMM_LOADER_H

#include <types.h>

struct guest_ram {
	gpa_t base;		/* guest-physical address of the first byte */
	uint64_t size;
	uint8_t *host;		/* where that memory is in the hypervisor */
	/*
	 * Called (when set) before the loader writes [@off, @off + @len)
	 * of the memory (offsets from @base): guest RAM is zeroed lazily
	 * (vmm/ramzero.c), and the rest of what a write touches must be too.
	 */
	void (*prepare)(void *arg, uint64_t off, uint64_t len);
	void *arg;
};

struct loaded_image {
	gpa_t entry;		/* where the vCPU starts */
	gpa_t start, end;	/* guest-physical range the image occupies */
	const char *format;	/* "elf64", "raw", "arm64-image", "multiboot" */
	gpa_t initrd_max;	/* the initrd ends at or below it; 0: anywhere */
};

/* EM_X86_64 (62) or EM_AARCH64 (183): the machine an ELF must be for. */
int load_elf64(const char *name, const void *img, size_t size,
	       uint16_t machine, const struct guest_ram *ram,
	       struct loaded_image *out);

/* A raw binary copied to @load_addr and entered there. */
int load_raw(const char *name, const void *img, size_t size, gpa_t load_addr,
	     const struct guest_ram *ram, struct loaded_image *out);

/*
 * A Linux arm64 Image: placed at the lowest 2 MiB-aligned guest RAM address
 * plus the header's text_offset, with image_size (which covers BSS) checked
 * against guest RAM. -ENOEXEC if the magic is missing or the image is
 * big-endian.
 */
int load_arm64_image(const char *name, const void *img, size_t size,
		     const struct guest_ram *ram, struct loaded_image *out);

/*
 * A multiboot (version 1) kernel, x86: the header (magic 0x1BADB002, flags,
 * checksum) must lie 4-byte aligned in the first 8 KiB. With header flag 16
 * (the "a.out kludge") the header's load_addr, load_end_addr, bss_end_addr
 * and entry_addr say where the file goes; otherwise the image must be an
 * ELF32 executable for EM_386 whose PT_LOAD segments are loaded at their
 * physical addresses. Flags asking for what Strata does not give (a video
 * mode, unknown required bits 2-15) are refused. The guest is entered in
 * 32-bit protected mode as a multiboot loader would (the architecture's
 * job); format is "multiboot". -ENOEXEC for a bad header or ELF, -ERANGE
 * when it does not fit in guest RAM.
 */
int load_multiboot(const char *name, const void *img, size_t size,
		   const struct guest_ram *ram, struct loaded_image *out);

/*
 * A Linux x86 bzImage (Documentation/arch/x86/boot.rst): boot flag 0xAA55
 * at 0x1fe, "HdrS" at 0x202, boot protocol 2.12 or later with LOADED_HIGH
 * and XLF_KERNEL_64 (the 64-bit entry at 0x200 of the protected-mode
 * code). The protected-mode code (after the (setup_sects + 1) * 512 bytes
 * of setup) is loaded at 1 MiB; the kernel runs, with init_size bytes of
 * RAM, at the address boot.rst's init_size section gives (relocatable:
 * align_up(max(1 MiB, pref_address), kernel_alignment); fixed:
 * pref_address); the image range spans [1 MiB, that end). The entry is
 * 1 MiB + 0x200; format is "bzimage"; initrd_max is initrd_addr_max + 1
 * unless XLF_CAN_BE_LOADED_ABOVE_4G. The setup header is left for the
 * architecture (boot_params). -ENOEXEC for a bad header, -ERANGE when it
 * does not fit.
 */
int load_bzimage(const char *name, const void *img, size_t size,
		 const struct guest_ram *ram, struct loaded_image *out);
bool is_bzimage(const void *img, size_t size);

/* The bzImage load address and the 64-bit entry's offset in the code. */
#define BZIMAGE_LOAD_ADDR	0x100000ULL
#define BZIMAGE_ENTRY64		0x200

/* True when @img has the multiboot v1 magic where a header may be. */
bool is_multiboot(const void *img, size_t size);

/* True when @img starts like an ELF64 / an arm64 Image. */
bool is_elf64(const void *img, size_t size);
bool is_arm64_image(const void *img, size_t size);
/* True when @img is an ELF64 for @machine. */
bool is_elf64_for(const void *img, size_t size, uint16_t machine);

/*
 * Load a guest kernel of any format Strata knows for @machine (EM_X86_64 or
 * EM_AARCH64): an ELF64 for that machine, an arm64 Image (arm64 only), a
 * multiboot v1 kernel (x86 only), or a raw binary when @has_load_addr says
 * where it goes. Errors are printed with
 * @name. Return: 0, -ENOEXEC (unknown format) or the loader's error.
 */
int load_guest_kernel(const char *name, const void *img, size_t size,
		      uint16_t machine, bool has_load_addr, gpa_t load_addr,
		      const struct guest_ram *ram, struct loaded_image *out);

/*
 * The last refusal as "NAME: reason" (what was printed), or "" when
 * there was none since loader_clear_error().
 */
const char *loader_error(void);
void loader_clear_error(void);

#endif
