/* SPDX-License-Identifier: MIT */
/*
 * The test guests' printf core, shared by the arm64 and x86 (64- and 32-bit)
 * guest libraries: each passes its own console output function.
 */
#ifndef STRATA_GUESTS_FORMAT_H
#define STRATA_GUESTS_FORMAT_H

#include <stdarg.h>

/*
 * Format @fmt to @out, one character at a time: %s %c %d %u %x %% with an
 * optional '0' flag, a width and 'l'/'ll'. An unknown conversion prints '?'
 * and ends the output. Needs no libgcc division (32-bit guests).
 */
void guest_vformat(void (*out)(char c), const char *fmt, va_list ap);

#endif
