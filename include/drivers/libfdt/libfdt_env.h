/* SPDX-License-Identifier: MIT */
/*
 * The environment libfdt's headers expect, for Strata's freestanding build
 * (there is no C library, so Debian's libfdt_env.h, which includes
 * <stdlib.h> and <string.h>, cannot be used). Only drivers/fdt.c sees this:
 * its directory comes before libfdt's own on that file's include path.
 *
 * Device-tree values are big-endian; Strata runs little-endian.
 */
#ifndef LIBFDT_ENV_H
#define LIBFDT_ENV_H

#include <lib/string.h>
#include <types.h>

#define FDT_FORCE
#define FDT_BITWISE

typedef uint16_t fdt16_t;
typedef uint32_t fdt32_t;
typedef uint64_t fdt64_t;

static inline uint16_t fdt16_to_cpu(fdt16_t x)
{
	return __builtin_bswap16(x);
}

static inline fdt16_t cpu_to_fdt16(uint16_t x)
{
	return __builtin_bswap16(x);
}

static inline uint32_t fdt32_to_cpu(fdt32_t x)
{
	return __builtin_bswap32(x);
}

static inline fdt32_t cpu_to_fdt32(uint32_t x)
{
	return __builtin_bswap32(x);
}

static inline uint64_t fdt64_to_cpu(fdt64_t x)
{
	return __builtin_bswap64(x);
}

static inline fdt64_t cpu_to_fdt64(uint64_t x)
{
	return __builtin_bswap64(x);
}

#endif
