// SPDX-License-Identifier: MIT
/* What guests of this architecture look like to the generic VM code. */
#include <arch/guest_layout.h>
#include <core/arch.h>

const uint16_t arch_elf_machine = 62;	/* EM_X86_64 */
const gpa_t arch_guest_ram_base = 0;
const gpa_t arch_guest_ram_end = GUEST_TESTDEV_BASE;	/* 4064 MiB */
const unsigned int arch_guest_ia_bits = 40;
const bool arch_unbacked_fetch_aborts = false;
