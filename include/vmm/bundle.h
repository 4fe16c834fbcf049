/* SPDX-License-Identifier: MIT */
/*
 * The boot bundle: the guest images and `strata.cfg`. On x86 each file is a
 * multiboot2 module named by its command line; on arm64 the files are in a
 * cpio (newc) archive passed as the initrd. Both end up as a list of named
 * files in memory.
 *
 * strata.cfg holds one section per VM:
 *
 *   # comment
 *   [vm web]
 *   kernel  = Image            # a file in the bundle (required)
 *   initrd  = rootfs.cpio.gz   # optional
 *   memory  = 256M             # K, M or G suffix; default 64M
 *   memory_max = 320M          # RAM incl. run-time memslots; default memory
 *   cpus    = 2                # 1..VM_MAX_CPUS; default 1
 *   pin     = 1,3              # physical CPU of each vCPU (or one for all);
 *                              # default: spread over the CPUs (docs/smp.md)
 *   load    = 0x80000          # raw binaries: guest-physical load address
 *   ve      = on               # x86: the guest may take EPT-violation #VE
 *   on_reset = restart         # or stop: what a guest's reset request does
 *   disk    = data.img         # virtio-blk backed by this bundle file
 *   disk_ro = on               # the disk is read-only (default off)
 *   rng     = on               # virtio-rng (needs a hardware RNG)
 *   net     = on               # virtio-net on the switch between VMs
 *   virtio_console = on        # virtio-console, the VM's console input
 *   cmdline = console=ttyAMA0 panic=-1
 *
 * A `#` after whitespace starts a comment, except in `cmdline`, whose value
 * runs to the end of the line. A key may appear once per section. Errors are
 * reported as `FILE:LINE: reason (expected ...)`; a section with an error is
 * dropped (`vm NAME: never ran: FILE:LINE: reason`) and the others are kept,
 * but any error makes Strata's run a failure (README, "Exit status").
 */
#ifndef STRATA_VMM_BUNDLE_H
#define STRATA_VMM_BUNDLE_H

#include <types.h>

#define BUNDLE_NAME_MAX		64
#define BUNDLE_MAX_FILES	32
#define VM_NAME_MAX		32
#define VM_CMDLINE_MAX		256
#define VM_MAX_CPUS		8
#define VM_MAX_VMS		8
#define VM_MIN_MEMORY		(1ULL << 20)
#define VM_MAX_MEMORY		(64ULL << 30)
#define VM_DEFAULT_MEMORY	(64ULL << 20)

struct bundle_file {
	char name[BUNDLE_NAME_MAX];
	const void *data;
	size_t size;
};

struct bundle {
	unsigned int nr_files;
	unsigned int errors;		/* problems reported while reading */
	struct bundle_file files[BUNDLE_MAX_FILES];
};

struct vm_config {
	char name[VM_NAME_MAX];
	char kernel[BUNDLE_NAME_MAX];
	char initrd[BUNDLE_NAME_MAX];	/* "" when none */
	uint64_t memory;
	uint64_t memory_max;		/* 0: same as memory */
	unsigned int cpus;
	unsigned int nr_pin;		/* 0: not pinned */
	uint8_t pin[VM_MAX_CPUS];	/* physical CPU of vCPU i (or [0]: all) */
	uint64_t load_addr;
	bool has_load_addr;
	bool ve;			/* x86: EPT-violation #VE enabled */
	bool secure;			/* x86: a secure VM (docs/secure-module.md) */
	bool reset_stops;		/* on_reset = stop (default restart) */
	char disk[BUNDLE_NAME_MAX];	/* "" when none */
	bool disk_ro;
	bool rng;
	bool net;
	bool virtio_console;
	char cmdline[VM_CMDLINE_MAX];
	unsigned int line;		/* where the section starts */
};

/*
 * Read a cpio newc archive into @b (files only; "./" prefixes dropped).
 * Returns 0, or -EINVAL after reporting where the archive is malformed or
 * that it is not a newc archive at all (an odc `070707` archive, a binary
 * cpio, anything else; files read before the damage are kept), -EEXIST
 * after a file name that is already in the bundle (the first one is kept,
 * reading goes on), or -ENOSPC if it has too many files. Each problem
 * reported counts in @b->errors.
 */
int bundle_from_cpio(struct bundle *b, const void *archive, size_t size);

/*
 * What a boot module or bundle starting with @data is, for messages:
 * "cpio newc", "cpio odc (070707)", "binary cpio", or NULL when it is none
 * of these.
 */
const char *bundle_archive_kind(const void *data, size_t size);

/*
 * Add one named file (x86 modules). -EINVAL on a bad name, -EEXIST when the
 * name is already in the bundle (the first file is kept), -ENOSPC when the
 * bundle is full; each is reported and counted in @b->errors.
 */
int bundle_add(struct bundle *b, const char *name, const void *data,
	       size_t size);

/* The file called @name, or NULL. */
const struct bundle_file *bundle_find(const struct bundle *b,
				      const char *name);

/* What vm_config_parse() found besides the good sections. */
struct cfg_result {
	unsigned int errors;	/* errors reported */
	unsigned int sections;	/* [vm ...] sections, good or not */
};

/*
 * Parse a strata.cfg text of @len bytes (need not be NUL terminated) named
 * @file for messages. Good sections are stored in @vms (at most @max);
 * returns how many, and fills *@res. Files named by a section are checked
 * against @b when it is not NULL. Each rejected section is reported as
 * `vm NAME: never ran: FILE:LINE: first reason`. A text without any section
 * (empty, comments only) is an error.
 */
unsigned int vm_config_parse(const char *text, size_t len, const char *file,
			     const struct bundle *b, struct vm_config *vms,
			     unsigned int max, struct cfg_result *res);

#endif
