/* SPDX-License-Identifier: MIT */
/* EL2 exception entry (arch/arm64/vectors.S) and its report (traps.c). */
#ifndef STRATA_ARCH_TRAPS_H
#define STRATA_ARCH_TRAPS_H

/* Layout of the frame vectors.S builds; offsets are used by the assembly. */
#define FRAME_X(n)	((n) * 8)
#define FRAME_SP	(31 * 8)
#define FRAME_ELR	(32 * 8)
#define FRAME_SPSR	(33 * 8)
#define FRAME_ESR	(34 * 8)
#define FRAME_FAR	(35 * 8)
#define FRAME_SIZE	(36 * 8)

/* Which of the 16 vector entries was taken: (group << 2) | type. */
#define VEC_CUR_SP0	0
#define VEC_CUR_SPX	1
#define VEC_LOWER_A64	2
#define VEC_LOWER_A32	3

#ifndef __ASSEMBLY__
#include <types.h>

struct el2_frame {
	uint64_t x[31];
	uint64_t sp;
	uint64_t elr;
	uint64_t spsr;
	uint64_t esr;
	uint64_t far;
};

_Static_assert(sizeof(struct el2_frame) == FRAME_SIZE, "frame layout");
_Static_assert(FRAME_SIZE % 16 == 0, "frame keeps sp 16-byte aligned");

/* Called by vectors.S for every exception Strata does not expect. */
void el2_unexpected_exception(struct el2_frame *f, unsigned int kind)
	__noreturn;

#endif
#endif
