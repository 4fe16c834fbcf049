// SPDX-License-Identifier: MIT
/*
 * Freestanding string functions. GCC may emit calls to memcpy, memmove,
 * memset and memcmp on its own, so these must exist under those names; they
 * are also what libfdt links against on arm64.
 */
#include <lib/string.h>

/*
 * memset, memcpy, memmove and memcmp work a word at a time where they can
 * (zeroing and copying whole pages is the common case), a byte at a time at
 * the unaligned ends and when source and destination are differently
 * aligned. Every access is inside the caller's buffers.
 *
 * GCC recognises byte and word loops as memset/memcpy and may replace them
 * with a call, which here would be a call to the function itself: these
 * functions are built without that transformation.
 */
#define __no_libcall \
	__attribute__((optimize("no-tree-loop-distribute-patterns")))
#define __copy_inline		inline __attribute__((always_inline))

typedef unsigned long __attribute__((may_alias)) word_t;

#define WSIZE		sizeof(word_t)
#define WMASK		(WSIZE - 1)
#define WORD_ONES	(~0UL / 0xff)		/* 0x0101...01 */

/* Both pointers at the same offset in a word: words can be used. */
static inline bool co_aligned(const void *a, const void *b)
{
	return (((uintptr_t)a ^ (uintptr_t)b) & WMASK) == 0;
}

/* Forward copy; correct for overlap when @d is below @s. */
static __copy_inline void copy_fwd(unsigned char *d,
				     const unsigned char *s, size_t n)
{
	if (n >= WSIZE && co_aligned(d, s)) {
		word_t *dw;
		const word_t *sw;

		while ((uintptr_t)d & WMASK) {
			*d++ = *s++;
			n--;
		}
		dw = (word_t *)(void *)d;
		sw = (const word_t *)(const void *)s;
		for (; n >= 4 * WSIZE; n -= 4 * WSIZE, dw += 4, sw += 4) {
			word_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];

			dw[0] = a;
			dw[1] = b;
			dw[2] = c;
			dw[3] = e;
		}
		for (; n >= WSIZE; n -= WSIZE) {
			*dw++ = *sw++;
		}
		d = (unsigned char *)dw;
		s = (const unsigned char *)sw;
	}
	while (n--) {
		*d++ = *s++;
	}
}

/* Backward copy (from the end); correct for overlap when @d is above @s. */
static __copy_inline void copy_bwd(unsigned char *d,
				     const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	if (n >= WSIZE && co_aligned(d, s)) {
		word_t *dw;
		const word_t *sw;

		while ((uintptr_t)d & WMASK) {
			*--d = *--s;
			n--;
		}
		dw = (word_t *)(void *)d;
		sw = (const word_t *)(const void *)s;
		for (; n >= 4 * WSIZE; n -= 4 * WSIZE) {
			word_t a = sw[-1], b = sw[-2], c = sw[-3], e = sw[-4];

			dw[-1] = a;
			dw[-2] = b;
			dw[-3] = c;
			dw[-4] = e;
			dw -= 4;
			sw -= 4;
		}
		for (; n >= WSIZE; n -= WSIZE) {
			*--dw = *--sw;
		}
		d = (unsigned char *)dw;
		s = (const unsigned char *)sw;
	}
	while (n--) {
		*--d = *--s;
	}
}

__no_libcall void *memcpy(void *dst, const void *src, size_t n)
{
	copy_fwd(dst, src, n);
	return dst;
}

__no_libcall void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0) {
		return dst;
	}
	/* Compared as integers: the buffers may be different objects. */
	if ((uintptr_t)d < (uintptr_t)s ||
	    (uintptr_t)d - (uintptr_t)s >= n) {
		copy_fwd(d, s, n);
	} else {
		copy_bwd(d, s, n);
	}
	return dst;
}

__no_libcall void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char b = (unsigned char)c;

	if (n >= WSIZE) {
		word_t w = (word_t)b * WORD_ONES;
		word_t *dw;

		while ((uintptr_t)d & WMASK) {
			*d++ = b;
			n--;
		}
		dw = (word_t *)(void *)d;
		for (; n >= 4 * WSIZE; n -= 4 * WSIZE, dw += 4) {
			dw[0] = w;
			dw[1] = w;
			dw[2] = w;
			dw[3] = w;
		}
		for (; n >= WSIZE; n -= WSIZE) {
			*dw++ = w;
		}
		d = (unsigned char *)dw;
	}
	while (n--) {
		*d++ = b;
	}
	return dst;
}

__no_libcall int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	if (n >= WSIZE && co_aligned(x, y)) {
		const word_t *xw, *yw;

		for (; (uintptr_t)x & WMASK; n--, x++, y++) {
			if (*x != *y) {
				return *x - *y;
			}
		}
		xw = (const word_t *)(const void *)x;
		yw = (const word_t *)(const void *)y;
		/* Whole equal words; the bytes below find the first difference. */
		for (; n >= WSIZE && *xw == *yw; n -= WSIZE) {
			xw++;
			yw++;
		}
		x = (const unsigned char *)xw;
		y = (const unsigned char *)yw;
	}
	for (; n; n--, x++, y++) {
		if (*x != *y) {
			return *x - *y;
		}
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++) {
		if (*p == (unsigned char)c) {
			return (void *)p;
		}
	}
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n]) {
		n++;
	}
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n]) {
		n++;
	}
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a) {
			return (unsigned char)*a - (unsigned char)*b;
		}
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c) {
			return (char *)s;
		}
		if (!*s) {
			return NULL;
		}
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c) {
			last = s;
		}
		if (!*s) {
			return (char *)last;
		}
	}
}
