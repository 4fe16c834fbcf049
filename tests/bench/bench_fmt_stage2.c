// SPDX-License-Identifier: MIT
/* The arm64 stage-2 build of the core benchmarks (40-bit IPA, no FWB). */
const char bench_fmt[] = "stage2";
const unsigned int bench_ia_bits = 40;
