// SPDX-License-Identifier: MIT
/* What arm64 guest images look like. */
#include <core/arch.h>

const uint16_t arch_elf_machine = 183;	/* EM_AARCH64 */
