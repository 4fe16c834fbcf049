/* SPDX-License-Identifier: MIT */
/*
 * The PE/COFF headers that make the arm64 Image an EFI application as well
 * (docs/arm64-efi.md). They follow the 64-byte Linux Image header of head.S
 * (whose first halfword is the "MZ" magic and whose word at 0x3c points
 * here) and fill the rest of the image's first page.
 *
 * The file is laid out as it lies in memory (file offset = RVA), so the one
 * flat Image serves both loaders. Two sections, both 4 KiB aligned:
 *   .text  code and read-only data: [__pe_text_start, __pe_data_start)
 *   .data  data, the relocations and the GOT, padded to a page in the file;
 *          its virtual size also covers the BSS and the EFI hand-over area,
 *          which the firmware fills with zeros.
 * No base relocations: ImageBase is 0 and the image relocates itself
 * (head.S apply_relocs), so the firmware may load it anywhere. The linker
 * script computes the sizes (__pe_*).
 */
#define IMAGE_FILE_MACHINE_ARM64		0xaa64
#define IMAGE_FILE_EXECUTABLE_IMAGE		0x0002
#define IMAGE_FILE_LINE_NUMS_STRIPPED		0x0004
#define IMAGE_FILE_DEBUG_STRIPPED		0x0200
#define PE_OPT_MAGIC_PE32PLUS			0x020b
#define IMAGE_SUBSYSTEM_EFI_APPLICATION		10
#define IMAGE_SCN_CNT_CODE			0x00000020
#define IMAGE_SCN_CNT_INITIALIZED_DATA		0x00000040
#define IMAGE_SCN_MEM_EXECUTE			0x20000000
#define IMAGE_SCN_MEM_READ			0x40000000
#define IMAGE_SCN_MEM_WRITE			0x80000000
#define PE_SECTION_ALIGN			0x1000
#define PE_FILE_ALIGN				0x200
#define PE_NR_DATA_DIRS				6

	.section .head.pe, "a"
	.balign	8
	.globl	pe_header
pe_header:
	.ascii	"PE\0\0"
	/* COFF file header */
	.short	IMAGE_FILE_MACHINE_ARM64
	.short	2				/* NumberOfSections */
	.long	0				/* TimeDateStamp */
	.long	0				/* PointerToSymbolTable */
	.long	0				/* NumberOfSymbols */
	.short	section_table - optional_header	/* SizeOfOptionalHeader */
	.short	IMAGE_FILE_EXECUTABLE_IMAGE | IMAGE_FILE_LINE_NUMS_STRIPPED | \
		IMAGE_FILE_DEBUG_STRIPPED

optional_header:
	.short	PE_OPT_MAGIC_PE32PLUS
	.byte	0, 0				/* linker version */
	.long	__pe_text_size			/* SizeOfCode */
	.long	__pe_data_raw			/* SizeOfInitializedData */
	.long	__pe_bss_size			/* SizeOfUninitializedData */
	.long	__pe_entry_rva			/* AddressOfEntryPoint */
	.long	__pe_text_rva			/* BaseOfCode */
	.quad	0				/* ImageBase */
	.long	PE_SECTION_ALIGN
	.long	PE_FILE_ALIGN
	.short	0, 0				/* OS version */
	.short	0, 0				/* image version */
	.short	0, 0				/* subsystem version */
	.long	0				/* Win32VersionValue */
	.long	__pe_image_size			/* SizeOfImage */
	.long	__pe_text_rva			/* SizeOfHeaders */
	.long	0				/* CheckSum */
	.short	IMAGE_SUBSYSTEM_EFI_APPLICATION
	.short	0				/* DllCharacteristics */
	.quad	0, 0				/* stack reserve, commit */
	.quad	0, 0				/* heap reserve, commit */
	.long	0				/* LoaderFlags */
	.long	PE_NR_DATA_DIRS
	/* export, import, resource, exception, certificate, base relocation */
	.rept	PE_NR_DATA_DIRS
	.quad	0
	.endr

section_table:
	.ascii	".text\0\0\0"
	.long	__pe_text_size			/* VirtualSize */
	.long	__pe_text_rva			/* VirtualAddress */
	.long	__pe_text_size			/* SizeOfRawData */
	.long	__pe_text_rva			/* PointerToRawData */
	.long	0, 0				/* relocations, line numbers */
	.short	0, 0
	.long	IMAGE_SCN_CNT_CODE | IMAGE_SCN_MEM_READ | IMAGE_SCN_MEM_EXECUTE

	.ascii	".data\0\0\0"
	.long	__pe_data_vsize
	.long	__pe_data_rva
	.long	__pe_data_raw
	.long	__pe_data_rva
	.long	0, 0
	.short	0, 0
	.long	IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ | \
		IMAGE_SCN_MEM_WRITE
