/* SPDX-License-Identifier: MIT */
/*
 * The UEFI side of the arm64 boot (docs/arm64-efi.md): the few UEFI 2.x
 * types the EFI stub (efi_stub.c) calls, and struct efi_handover, what the
 * stub found for boot_main() (efi_boot.c).
 *
 * On AArch64 the UEFI calling convention is AAPCS64, so the firmware's
 * functions are plain C function pointers here. Only the members the stub
 * uses are typed; the others are placeholders that keep the layout.
 */
#ifndef STRATA_BOOT_ARM64_EFI_H
#define STRATA_BOOT_ARM64_EFI_H

#include <types.h>

typedef uint64_t efi_status_t;
typedef void *efi_handle_t;
typedef uint16_t efi_char16_t;

#define EFI_ERR(n)			(BIT(63) | (n))
#define EFI_SUCCESS			0
#define EFI_LOAD_ERROR			EFI_ERR(1)
#define EFI_INVALID_PARAMETER		EFI_ERR(2)
#define EFI_UNSUPPORTED			EFI_ERR(3)
#define EFI_BUFFER_TOO_SMALL		EFI_ERR(5)
#define EFI_OUT_OF_RESOURCES		EFI_ERR(9)
#define EFI_NOT_FOUND			EFI_ERR(14)

typedef struct {
	uint32_t a;
	uint16_t b, c;
	uint8_t d[8];
} efi_guid_t;

#define EFI_GUID(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7) \
	((efi_guid_t){ a, b, c, { d0, d1, d2, d3, d4, d5, d6, d7 } })

/* UEFI 2.10 (and the Linux EFI stub for the initrd media). */
#define EFI_LOADED_IMAGE_PROTOCOL_GUID EFI_GUID(0x5b1b31a1, 0x9562, 0x11d2, \
	0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b)
#define EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID EFI_GUID(0x964e5b22, 0x6459, \
	0x11d2, 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b)
#define EFI_FILE_INFO_ID EFI_GUID(0x09576e92, 0x6d3f, 0x11d2, \
	0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b)
#define EFI_LOAD_FILE2_PROTOCOL_GUID EFI_GUID(0x4006c0c1, 0xfcb3, 0x403e, \
	0x99, 0x6d, 0x4a, 0x6c, 0x87, 0x24, 0xe0, 0x6d)
#define LINUX_EFI_INITRD_MEDIA_GUID EFI_GUID(0x5568e427, 0x68fc, 0x4f3d, \
	0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68)
#define EFI_DEVICE_TREE_GUID EFI_GUID(0xb1b621d5, 0xf19c, 0x41a5, \
	0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0)
#define EFI_ACPI_20_TABLE_GUID EFI_GUID(0x8868e871, 0xe4f1, 0x11d3, \
	0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81)

enum efi_memory_type {
	EFI_RESERVED_TYPE,
	EFI_LOADER_CODE,
	EFI_LOADER_DATA,
	EFI_BOOT_SERVICES_CODE,
	EFI_BOOT_SERVICES_DATA,
	EFI_RUNTIME_SERVICES_CODE,
	EFI_RUNTIME_SERVICES_DATA,
	EFI_CONVENTIONAL_MEMORY,
	EFI_UNUSABLE_MEMORY,
	EFI_ACPI_RECLAIM_MEMORY,
	EFI_ACPI_MEMORY_NVS,
	EFI_MEMORY_MAPPED_IO,
	EFI_MEMORY_MAPPED_IO_PORT_SPACE,
	EFI_PAL_CODE,
	EFI_PERSISTENT_MEMORY,
	EFI_MAX_MEMORY_TYPE
};

#define EFI_MEMORY_SP		BIT(18)	/* specific purpose: not general RAM */
#define EFI_MEMORY_RUNTIME	BIT(63)
#define EFI_PAGE_SHIFT		12

enum { EFI_ALLOCATE_ANY_PAGES, EFI_ALLOCATE_MAX_ADDRESS };

struct efi_memory_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages;
	uint64_t attribute;
};

struct efi_table_header {
	uint64_t signature;
	uint32_t revision;
	uint32_t header_size;
	uint32_t crc32;
	uint32_t reserved;
};

struct efi_simple_text_output {
	void *reset;
	efi_status_t (*output_string)(struct efi_simple_text_output *this,
				      const efi_char16_t *s);
	/* ... */
};

struct efi_device_path {
	uint8_t type;
	uint8_t subtype;
	uint8_t length[2];
};

struct efi_boot_services {
	struct efi_table_header hdr;
	void *raise_tpl, *restore_tpl;
	efi_status_t (*allocate_pages)(int type, int memory_type,
				       uint64_t pages, uint64_t *memory);
	efi_status_t (*free_pages)(uint64_t memory, uint64_t pages);
	efi_status_t (*get_memory_map)(uint64_t *map_size, void *map,
				       uint64_t *map_key, uint64_t *desc_size,
				       uint32_t *desc_version);
	efi_status_t (*allocate_pool)(int pool_type, uint64_t size,
				      void **buffer);
	efi_status_t (*free_pool)(void *buffer);
	void *create_event, *set_timer, *wait_for_event, *signal_event;
	void *close_event, *check_event;
	void *install_protocol_interface, *reinstall_protocol_interface;
	void *uninstall_protocol_interface;
	efi_status_t (*handle_protocol)(efi_handle_t handle,
					const efi_guid_t *protocol,
					void **interface);
	void *reserved;
	void *register_protocol_notify, *locate_handle;
	efi_status_t (*locate_device_path)(const efi_guid_t *protocol,
					   struct efi_device_path **path,
					   efi_handle_t *device);
	void *install_configuration_table;
	void *load_image, *start_image, *exit, *unload_image;
	efi_status_t (*exit_boot_services)(efi_handle_t image,
					   uint64_t map_key);
	/* ... */
};

struct efi_configuration_table {
	efi_guid_t guid;
	void *table;
};

struct efi_system_table {
	struct efi_table_header hdr;
	const efi_char16_t *firmware_vendor;
	uint32_t firmware_revision;
	efi_handle_t console_in_handle;
	void *con_in;
	efi_handle_t console_out_handle;
	struct efi_simple_text_output *con_out;
	efi_handle_t stderr_handle;
	struct efi_simple_text_output *std_err;
	void *runtime_services;
	struct efi_boot_services *boot_services;
	uint64_t nr_tables;
	struct efi_configuration_table *tables;
};

struct efi_loaded_image {
	uint32_t revision;
	efi_handle_t parent;
	struct efi_system_table *system_table;
	efi_handle_t device;
	struct efi_device_path *file_path;
	void *reserved;
	uint32_t load_options_size;	/* bytes */
	void *load_options;
	void *image_base;
	uint64_t image_size;
	uint32_t image_code_type, image_data_type;
	void *unload;
};

struct efi_file {
	uint64_t revision;
	efi_status_t (*open)(struct efi_file *this, struct efi_file **new,
			     const efi_char16_t *name, uint64_t mode,
			     uint64_t attributes);
	efi_status_t (*close)(struct efi_file *this);
	void *delete_;
	efi_status_t (*read)(struct efi_file *this, uint64_t *size,
			     void *buffer);
	void *write, *get_position, *set_position;
	efi_status_t (*get_info)(struct efi_file *this, const efi_guid_t *type,
				 uint64_t *size, void *buffer);
	/* ... */
};

#define EFI_FILE_MODE_READ	1ULL
#define EFI_FILE_INFO_SIZE_OFF	8	/* EFI_FILE_INFO.FileSize */

struct efi_simple_file_system {
	uint64_t revision;
	efi_status_t (*open_volume)(struct efi_simple_file_system *this,
				    struct efi_file **root);
};

struct efi_load_file2 {
	efi_status_t (*load_file)(struct efi_load_file2 *this,
				  struct efi_device_path *path,
				  bool boot_policy, uint64_t *size,
				  void *buffer);
};

/* ---- what the stub hands over ------------------------------------------ */

#define EFI_HANDOVER_MAGIC	0x4f444e4845415453ULL	/* "STAEHNDO" */
#define EFI_CMDLINE_MAX		1024
#define EFI_MMAP_MAX		0x10000	/* 1365 descriptors of 48 bytes */
#define EFI_VENDOR_MAX		48

/* How the stub found the boot bundle. */
enum efi_bundle_source {
	EFI_BUNDLE_NONE,
	EFI_BUNDLE_LOAD_FILE2,	/* LINUX_EFI_INITRD_MEDIA_GUID device path */
	EFI_BUNDLE_FILE,	/* initrd= on the command line */
};

/*
 * Filled by the stub in the image, in a section after the BSS (head.S clears
 * only the BSS), and read by boot_main(). No pointers: the image is copied
 * to another address before it runs, so it holds physical addresses only.
 */
struct efi_handover {
	uint64_t magic;
	paddr_t system_table;
	uint32_t firmware_revision;
	char firmware_vendor[EFI_VENDOR_MAX];	/* ASCII */
	paddr_t dtb;			/* 0: no DEVICE_TREE_GUID table */
	paddr_t acpi_rsdp;		/* 0: no ACPI_20_TABLE_GUID table */
	paddr_t loaded_at;		/* where the firmware put the image */
	paddr_t bundle;
	uint64_t bundle_size;
	uint32_t bundle_source;		/* enum efi_bundle_source */
	char bundle_path[128];		/* the initrd= value, ASCII */
	uint32_t exit_attempts;		/* ExitBootServices() calls */
	char cmdline[EFI_CMDLINE_MAX];	/* LoadOptions in ASCII */
	uint64_t mmap_size;		/* bytes in mmap[] */
	uint64_t desc_size;
	uint32_t desc_version;
	uint8_t mmap[EFI_MMAP_MAX] __aligned(8);
};

extern struct efi_handover efi_handover;

/* efi_boot.c: the part of boot_main() for a UEFI boot. */
struct platform;
void efi_boot_report(const struct efi_handover *h);
void efi_boot_memory(const struct efi_handover *h, struct platform *p);

#endif
