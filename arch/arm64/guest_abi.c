// SPDX-License-Identifier: MIT
/* What guests of this architecture look like to the generic VM code. */
#include <core/arch.h>

const uint16_t arch_elf_machine = 183;	/* EM_AARCH64 */
const gpa_t arch_guest_ram_base = 0x40000000;
const gpa_t arch_guest_ram_end = 0;
const unsigned int arch_guest_ia_bits = 40;
const bool arch_unbacked_fetch_aborts = true;
