/* SPDX-License-Identifier: MIT */
/*
 * A VM: its RAM, its second-stage table (built only through the shared core,
 * include/mm/s2pt.h) and its loaded kernel.
 */
#ifndef STRATA_VMM_VM_H
#define STRATA_VMM_VM_H

#include <mm/s2pt.h>
#include <vmm/bundle.h>
#include <vmm/loader.h>

struct vm {
	const struct vm_config *cfg;
	struct s2pt s2;
	bool s2_live;
	paddr_t ram_pa;		/* host-physical base of guest RAM */
	gpa_t ram_gpa;		/* guest-physical base of guest RAM */
	uint64_t ram_size;
	struct loaded_image image;
};

/*
 * Allocate the VM's RAM, map it through the stage-2 core with the largest
 * blocks possible, load its kernel and check the translation of its entry
 * point. On error everything taken is given back and the reason printed.
 * Return: 0, -ENOMEM, -ENOEXEC, -ERANGE, or the core's error.
 */
int vm_build(struct vm *vm, const struct vm_config *cfg,
	     const struct bundle *b, uint16_t vmid);

/*
 * Exercise the VM's table on this CPU the way a zap and a dirty-log pass do:
 * unmap and re-map a 2 MiB block and write-protect a page, checking each
 * translation and the invalidation counts. Returns 0 or a negative error.
 */
int vm_s2_selftest(struct vm *vm);

/* Tear the table down (one whole-VMID invalidation) and free the RAM. */
void vm_destroy(struct vm *vm);

#endif
