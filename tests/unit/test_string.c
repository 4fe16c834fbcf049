// SPDX-License-Identifier: MIT
/*
 * Host tests of Strata's own string functions (lib/string.c), built here
 * under other names beside libc's: memset, memcpy, memmove and memcmp at
 * every alignment of each pointer (0-15), every length up to a few words
 * and some page-sized ones, and every overlap of memmove's two ranges, each
 * against a byte-at-a-time reference. Buffers end exactly where the
 * function's range ends, so AddressSanitizer reports any access past it;
 * guard bytes around the destination catch a write outside it.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define memcpy		strata_memcpy
#define memmove		strata_memmove
#define memset		strata_memset
#define memcmp		strata_memcmp
#define memchr		strata_memchr
#define strlen		strata_strlen
#define strnlen		strata_strnlen
#define strcmp		strata_strcmp
#define strncmp		strata_strncmp
#define strchr		strata_strchr
#define strrchr		strata_strrchr
#define strlcpy		strata_strlcpy
#include "../../lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef memchr
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strrchr
#undef strlcpy

#define MAX_OFF		16
#define GUARD		16
#define GUARD_BYTE	0xe7

/* Lengths: every one up to 80, then around a page and two. */
static const size_t big_lens[] = { 127, 128, 129, 4095, 4096, 4097, 8191 };

static size_t len_at(unsigned int i)
{
	return i <= 80 ? i : big_lens[i - 81];
}

#define NR_LENS		(81 + sizeof(big_lens) / sizeof(big_lens[0]))

static void fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p[i] = (unsigned char)test_rand();
	}
}

static int ref_memcmp(const unsigned char *a, const unsigned char *b,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			return a[i] < b[i] ? -1 : 1;
		}
	}
	return 0;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/*
 * A destination of @len bytes at offset @off of a block that ends right
 * after it; @GUARD bytes before (from the block's start) hold GUARD_BYTE.
 */
struct dst {
	unsigned char *block;
	unsigned char *p;
};

static struct dst dst_alloc(unsigned int off, size_t len)
{
	struct dst d;

	d.block = malloc(GUARD + off + len);
	memset(d.block, GUARD_BYTE, GUARD + off + len);
	d.p = d.block + GUARD + off;
	return d;
}

static bool guard_intact(const struct dst *d)
{
	for (unsigned char *q = d->block; q < d->p; q++) {
		if (*q != GUARD_BYTE) {
			return false;
		}
	}
	return true;
}

static void memset_every_alignment_and_length(void)
{
	static const int values[] = { 0, 0xa5, 0x1ff, -1, 0x80 };

	for (unsigned int off = 0; off < MAX_OFF; off++) {
		for (unsigned int li = 0; li < NR_LENS; li++) {
			for (unsigned int v = 0; v < 5; v++) {
				size_t len = len_at(li);
				struct dst d = dst_alloc(off, len);
				unsigned char want = (unsigned char)values[v];
				void *ret = strata_memset(d.p, values[v], len);
				bool ok = ret == d.p && guard_intact(&d);

				for (size_t i = 0; ok && i < len; i++) {
					ok = d.p[i] == want;
				}
				free(d.block);
				if (!ok) {
					test_fail(__FILE__, __LINE__,
						  "memset off %u len %zu value 0x%x",
						  off, len, values[v]);
					return;
				}
			}
		}
	}
}

static void memcpy_every_alignment_and_length(void)
{
	for (unsigned int so = 0; so < MAX_OFF; so++) {
		for (unsigned int doff = 0; doff < MAX_OFF; doff++) {
			for (unsigned int li = 0; li < NR_LENS; li++) {
				size_t len = len_at(li);
				unsigned char *sblock = malloc(so + len);
				unsigned char *src = sblock + so;
				struct dst d = dst_alloc(doff, len);
				void *ret;
				bool ok;

				fill_random(sblock, so + len);
				ret = strata_memcpy(d.p, src, len);
				ok = ret == d.p && guard_intact(&d) &&
				     ref_memcmp(d.p, src, len) == 0;
				free(sblock);
				free(d.block);
				if (!ok) {
					test_fail(__FILE__, __LINE__,
						  "memcpy src off %u dst off %u len %zu",
						  so, doff, len);
					return;
				}
			}
		}
	}
}

/*
 * Both ranges in one buffer, at every pair of positions within a window:
 * disjoint, touching and overlapping either way, at every alignment.
 */
static void memmove_every_overlap(void)
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33,
				       63, 64, 65, 100, 4096 };

	for (unsigned int li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		size_t len = lens[li];
		size_t span = len + 2 * 40;
		unsigned char *buf = malloc(span), *ref = malloc(span);
		unsigned char *tmp = malloc(len + 1);

		for (size_t so = 0; so + len <= span; so += len > 100 ? 13 : 1) {
			for (size_t d = 0; d + len <= span;
			     d += len > 100 ? 11 : 1) {
				void *ret;

				fill_random(buf, span);
				for (size_t i = 0; i < span; i++) {
					ref[i] = buf[i];
				}
				for (size_t i = 0; i < len; i++) {
					tmp[i] = ref[so + i];
				}
				for (size_t i = 0; i < len; i++) {
					ref[d + i] = tmp[i];
				}
				ret = strata_memmove(buf + d, buf + so, len);
				if (ret != buf + d ||
				    ref_memcmp(buf, ref, span) != 0) {
					test_fail(__FILE__, __LINE__,
						  "memmove dst %zu src %zu len %zu",
						  d, so, len);
					free(buf);
					free(ref);
					free(tmp);
					return;
				}
			}
		}
		free(buf);
		free(ref);
		free(tmp);
	}
}

/* Equal ranges, then one differing byte at each position, both ways. */
static void memcmp_every_alignment_length_and_difference(void)
{
	for (unsigned int ao = 0; ao < MAX_OFF; ao++) {
		for (unsigned int bo = 0; bo < MAX_OFF; bo++) {
			for (unsigned int li = 0; li < 81; li++) {
				size_t len = len_at(li);
				unsigned char *ab = malloc(ao + len);
				unsigned char *bb = malloc(bo + len);
				unsigned char *a = ab + ao, *b = bb + bo;
				bool ok = true;

				fill_random(a, len);
				for (size_t i = 0; i < len; i++) {
					b[i] = a[i];
				}
				ok = strata_memcmp(a, b, len) == 0;
				for (size_t i = 0; ok && i < len; i++) {
					unsigned char keep = b[i];

					/* Above and below, across 0x80. */
					b[i] = (unsigned char)(a[i] + 0x81);
					ok = sign(strata_memcmp(a, b, len)) ==
					     ref_memcmp(a, b, len) &&
					     sign(strata_memcmp(b, a, len)) ==
					     ref_memcmp(b, a, len);
					/* A later difference must not matter. */
					if (ok && i + 1 < len) {
						b[len - 1] ^= 0x55;
						ok = sign(strata_memcmp(a, b, len)) ==
						     ref_memcmp(a, b, len);
						b[len - 1] ^= 0x55;
					}
					b[i] = keep;
				}
				free(ab);
				free(bb);
				if (!ok) {
					test_fail(__FILE__, __LINE__,
						  "memcmp a off %u b off %u len %zu",
						  ao, bo, len);
					return;
				}
			}
		}
	}
}

/* Page-sized compares, a difference in the last byte or word only. */
static void memcmp_page_last_byte(void)
{
	unsigned char *a = malloc(4096), *b = malloc(4096);

	fill_random(a, 4096);
	for (size_t i = 0; i < 4096; i++) {
		b[i] = a[i];
	}
	CHECK(strata_memcmp(a, b, 4096) == 0);
	b[4095] = (unsigned char)(a[4095] ^ 0x80);
	CHECK(sign(strata_memcmp(a, b, 4096)) == ref_memcmp(a, b, 4096));
	CHECK(strata_memcmp(a, b, 4095) == 0);
	b[4095] = a[4095];
	b[4088] = (unsigned char)(a[4088] + 1);
	CHECK(sign(strata_memcmp(a, b, 4096)) == ref_memcmp(a, b, 4096));
	free(a);
	free(b);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "string");
	RUN_TEST(memset_every_alignment_and_length);
	RUN_TEST(memcpy_every_alignment_and_length);
	RUN_TEST(memmove_every_overlap);
	RUN_TEST(memcmp_every_alignment_length_and_difference);
	RUN_TEST(memcmp_page_last_byte);
	return test_done();
}
