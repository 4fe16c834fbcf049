// SPDX-License-Identifier: MIT
/* What x86-64 guest images look like. */
#include <core/arch.h>

const uint16_t arch_elf_machine = 62;	/* EM_X86_64 */
