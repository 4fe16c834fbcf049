/* SPDX-License-Identifier: MIT */
/*
 * The multiboot2 header: it asks the loader for the command line, the
 * modules and the memory map, and for page-aligned modules; optionally for
 * the loader's name, the EFI system table and the EFI memory map (GRUB on
 * UEFI gives them unasked, other loaders may want the request). There is
 * no EFI boot services tag: the loader exits boot services before the
 * entry. It must lie 8-byte aligned within the first 32 KiB of the image:
 * .head.text comes first in linker.ld.
 */
#define MB2_HEADER_MAGIC	0xe85250d6
#define MB2_ARCH_I386		0
#define MB2_TAG_END		0
#define MB2_TAG_INFO_REQUEST	1
#define MB2_TAG_MODULE_ALIGN	6
#define MB2_INFO_CMDLINE	1
#define MB2_INFO_MODULE		3
#define MB2_INFO_MMAP		6
#define MB2_INFO_LOADER_NAME	2
#define MB2_INFO_EFI64		12
#define MB2_INFO_EFI_MMAP	17
#define MB2_TAG_OPTIONAL	1

	.section .head.text, "a"
	.balign 8
mb2_header:
	.long	MB2_HEADER_MAGIC
	.long	MB2_ARCH_I386
	.long	mb2_header_end - mb2_header
	.long	0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + \
			       (mb2_header_end - mb2_header))

	.balign 8
info_request:
	.short	MB2_TAG_INFO_REQUEST, 0
	.long	info_request_end - info_request
	.long	MB2_INFO_CMDLINE, MB2_INFO_MODULE, MB2_INFO_MMAP
info_request_end:

	.balign 8
optional_request:
	.short	MB2_TAG_INFO_REQUEST, MB2_TAG_OPTIONAL
	.long	optional_request_end - optional_request
	.long	MB2_INFO_LOADER_NAME, MB2_INFO_EFI64, MB2_INFO_EFI_MMAP
optional_request_end:

	.balign 8
	.short	MB2_TAG_MODULE_ALIGN, 0
	.long	8

	.balign 8
	.short	MB2_TAG_END, 0
	.long	8
mb2_header_end:
