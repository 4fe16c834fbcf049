// SPDX-License-Identifier: MIT
/* The EPT build of the core benchmarks. */
const char bench_fmt[] = "ept";
const unsigned int bench_ia_bits = 48;
