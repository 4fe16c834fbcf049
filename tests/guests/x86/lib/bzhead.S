/* SPDX-License-Identifier: MIT */
/*
 * The 0x200 bytes before a bzImage's 64-bit entry (where the 32-bit entry
 * startup_32 would be): HLT, as this guest has no 32-bit entry.
 */
	.section .text.bzhead, "ax"
	.fill	0x200, 1, 0xf4
