// SPDX-License-Identifier: MIT
/*
 * zap: stale translations. The guest touches a range (so its translation
 * is in the TLB), asks Strata to zap it (STRATA_HC_ZAP: the core's unmap,
 * with its fast block-level detach, and the TLB invalidation before the
 * call returns), then touches it again: that access must fault into EL2,
 * which STRATA_CTR_S2_FAULTS shows (a stale TLB entry would let it through
 * without a fault), and the data must be intact (a zap removes
 * translations, not memory). Cases: a 4 KiB page, a 2 MiB block, a range
 * spanning several blocks with partial blocks at both ends, and a whole
 * 1 GiB block (when the VM has a second GiB of RAM, which needs a VM of
 * 2 GiB). Then write protection: STRATA_HC_WRPROTECT and a write must take
 * one STRATA_CTR_WP_FAULTS fault per page, reads none. Finally the core's
 * counters are printed for the boot test, which checks them against the
 * CPU's features (range TLBI and FWB, or their fallbacks).
 */
#include "guest.h"

#define PAGE		0x1000UL
#define SZ_2M		0x200000UL
#define SZ_1G		0x40000000UL

static uint64_t ram_base, ram_end;

static uint64_t marker(uint64_t a)
{
	return a ^ 0x5a5aa5a5c3c33c3cUL;
}

static uint64_t rd(uint64_t a)
{
	return *(volatile uint64_t *)a;
}

static void wr(uint64_t a, uint64_t v)
{
	*(volatile uint64_t *)a = v;
}

/* Mark the first and last word of every page of [from, to). */
static void mark(uint64_t from, uint64_t to)
{
	for (uint64_t p = from; p < to; p += PAGE) {
		wr(p, marker(p));
		wr(p + PAGE - 8, marker(p + PAGE - 8));
	}
}

static bool marks_intact(const char *what, uint64_t from, uint64_t to)
{
	for (uint64_t p = from; p < to; p += PAGE) {
		if (rd(p) != marker(p) ||
		    rd(p + PAGE - 8) != marker(p + PAGE - 8)) {
			return check(false, "zap %s: data lost at page 0x%lx",
				     what, p);
		}
	}
	return true;
}

static uint64_t faults(void)
{
	return counter(STRATA_CTR_S2_FAULTS);
}

/*
 * One access at @a (a marked word) after a zap must fault exactly once and
 * read its mark.
 */
static void touch_faults(const char *what, uint64_t a)
{
	uint64_t f = faults(), v = rd(a);
	uint64_t d = faults() - f;

	check(d == 1, "zap %s: access at 0x%lx took %lu stage-2 faults, want 1%s",
	      what, a, d, d ? "" : " (a stale translation)");
	check(v == marker(a), "zap %s: 0x%lx reads 0x%lx, want 0x%lx", what,
	      a, v, marker(a));
}

static void do_zap(const char *what, uint64_t gpa, uint64_t len)
{
	int64_t st = zap(gpa, len);

	check(st == 0, "zap %s: STRATA_HC_ZAP(0x%lx, 0x%lx) returned %ld",
	      what, gpa, len, st);
}

static void zap_4k(void)
{
	uint64_t p = ram_base + 0x305000;
	uint64_t f;

	mark(p - PAGE, p + 2 * PAGE);
	rd(p);
	do_zap("4K", p, PAGE);
	touch_faults("4K", p + PAGE - 8);
	f = faults();
	rd(p - PAGE);
	rd(p + PAGE);
	rd(p + PAGE - 8);
	check(faults() == f, "zap 4K: the neighbours or the page faulted again (%lu)",
	      faults() - f);
	marks_intact("4K", p - PAGE, p + 2 * PAGE);
	printf("zap 4K: done\n");
}

static void zap_2m(void)
{
	uint64_t b = ram_base + 2 * SZ_2M;
	uint64_t f, m2 = counter(STRATA_CTR_MAPS_2M);

	mark(b, b + SZ_2M);
	rd(b + 0x1000);
	do_zap("2M", b, SZ_2M);
	touch_faults("2M", b + 0x12000);
	f = faults();
	marks_intact("2M", b, b + SZ_2M);
	printf("zap 2M: done, the rest of the block took %lu more faults, %lu 2M maps\n",
	       faults() - f, counter(STRATA_CTR_MAPS_2M) - m2);
}

/* [4 MiB + 3 blocks - 8 KiB, ...]: 2 pages, 3 whole blocks, 3 pages. */
static void zap_span(void)
{
	uint64_t from = ram_base + 4 * SZ_2M - 2 * PAGE;
	uint64_t to = ram_base + 7 * SZ_2M + 3 * PAGE;
	uint64_t pts[5] = {
		from + PAGE + 0x80,		/* partial head block */
		ram_base + 4 * SZ_2M + 0x10,	/* whole blocks */
		ram_base + 5 * SZ_2M + 0x3bb8,
		ram_base + 6 * SZ_2M + 0x1ff000,
		to - PAGE + 0x8,		/* partial tail block */
	};

	mark(from, to);
	for (unsigned int i = 0; i < 5; i++) {
		rd(pts[i] & ~7UL);
	}
	do_zap("span", from, to - from);
	for (unsigned int i = 0; i < 5; i++) {
		pts[i] &= ~7UL;
		wr(pts[i], marker(pts[i]));	/* rewrite; first touch */
	}
	marks_intact("span", from, to);
	/* Zap again and fault back in through reads, one per block. */
	do_zap("span", from, to - from);
	for (unsigned int i = 0; i < 5; i++) {
		touch_faults("span", pts[i]);
	}
	marks_intact("span", from, to);
	printf("zap span 0x%lx-0x%lx: done\n", from, to);
}

static void zap_1g(void)
{
	uint64_t g = ram_base + SZ_1G;
	uint64_t det, m1;

	if (ram_end < g + SZ_1G) {
		printf("zap 1G: skipped: RAM ends at 0x%lx, needs a second GiB\n",
		       ram_end);
		return;
	}
	mark(g, g + SZ_1G);
	/* Split the block (a page zapped in it), then zap the whole GiB. */
	do_zap("1G split", g + PAGE, PAGE);
	touch_faults("1G split", g + PAGE);
	rd(g + SZ_1G / 2);
	det = counter(STRATA_CTR_DETACHES);
	m1 = counter(STRATA_CTR_MAPS_1G);
	do_zap("1G", g, SZ_1G);
	check(counter(STRATA_CTR_DETACHES) > det,
	      "zap 1G: no fast block-level detach for a whole GiB");
	touch_faults("1G", g + SZ_1G / 2 + PAGE - 8);
	marks_intact("1G", g, g + SZ_1G);
	printf("zap 1G: done, %lu detaches, %lu 1G maps\n",
	       counter(STRATA_CTR_DETACHES) - det,
	       counter(STRATA_CTR_MAPS_1G) - m1);
}

static void write_protect(void)
{
	uint64_t p = ram_base + 0x310000;
	uint64_t wp, f;
	int64_t st;

	mark(p, p + 4 * PAGE);
	st = wrprotect(p, PAGE);
	check(st == 0, "wrprotect: STRATA_HC_WRPROTECT returned %ld", st);
	wp = counter(STRATA_CTR_WP_FAULTS);
	rd(p + 8);
	check(counter(STRATA_CTR_WP_FAULTS) == wp,
	      "wrprotect: a read took a write-protection fault");
	wr(p + 8, 0x1234);
	check(counter(STRATA_CTR_WP_FAULTS) == wp + 1,
	      "wrprotect: the first write took %lu faults, want 1",
	      counter(STRATA_CTR_WP_FAULTS) - wp);
	wr(p + 16, 0x5678);
	check(counter(STRATA_CTR_WP_FAULTS) == wp + 1,
	      "wrprotect: the second write faulted again");
	check(rd(p + 8) == 0x1234 && rd(p + 16) == 0x5678,
	      "wrprotect: the writes were lost");
	/* Three pages at once: one fault each. */
	wp = counter(STRATA_CTR_WP_FAULTS);
	f = faults();
	st = wrprotect(p + PAGE, 3 * PAGE);
	check(st == 0, "wrprotect: STRATA_HC_WRPROTECT returned %ld", st);
	for (unsigned int i = 1; i < 4; i++) {
		wr(p + i * PAGE + 8, i);
	}
	check(counter(STRATA_CTR_WP_FAULTS) - wp == 3,
	      "wrprotect: 3 pages took %lu faults, want 3",
	      counter(STRATA_CTR_WP_FAULTS) - wp);
	printf("wrprotect: done (%lu stage-2 faults besides)\n", faults() - f);
}

/* Bad ranges are refused, as include/vmm/hypercall.h says. */
static void bad_ranges(void)
{
	int64_t st;

	st = zap(ram_base + 0x800, PAGE);
	check(st == STRATA_HC_EINVAL, "zap: unaligned start returned %ld", st);
	st = zap(ram_base, 0x1800);
	check(st == STRATA_HC_EINVAL, "zap: unaligned length returned %ld", st);
	st = zap(ram_base, 0);
	check(st == STRATA_HC_EINVAL, "zap: empty range returned %ld", st);
	st = zap(1UL << 60, PAGE);
	check(st == STRATA_HC_ERANGE, "zap: GPA 1<<60 returned %ld", st);
	st = wrprotect(~0UL & ~(PAGE - 1), 2 * PAGE);
	check(st == STRATA_HC_ERANGE || st == STRATA_HC_EINVAL,
	      "wrprotect: a wrapping range returned %ld", st);
	st = hvc(STRATA_HC_COUNTER, STRATA_CTR_NR, 0, 0).status;
	check(st == STRATA_HC_EINVAL, "counter %u returned %ld", STRATA_CTR_NR,
	      st);
	printf("zap: bad ranges refused\n");
}

static const struct {
	const char *name;
	unsigned int id;
} core_ctrs[] = {
	{ "TLBI_RANGE", STRATA_CTR_TLBI_RANGE },
	{ "TLBI_RANGE_INSNS", STRATA_CTR_TLBI_RANGE_INSNS },
	{ "TLBI_IPA", STRATA_CTR_TLBI_IPA },
	{ "TLBI_VMID", STRATA_CTR_TLBI_VMID },
	{ "CMO_PAGES", STRATA_CTR_CMO_PAGES },
	{ "DETACHES", STRATA_CTR_DETACHES },
	{ "FLUSHES", STRATA_CTR_FLUSHES },
};

int guest_main(void *dtb)
{
	uint64_t size, start[7];

	if (!check(dt_memory(dtb, &ram_base, &size), "zap: no /memory") ||
	    !check(size >= 16 * SZ_2M, "zap: needs 32 MiB of RAM")) {
		return 1;
	}
	ram_end = ram_base + size;
	for (unsigned int i = 0; i < 7; i++) {
		start[i] = counter(core_ctrs[i].id);
	}
	zap_4k();
	zap_2m();
	zap_span();
	zap_1g();
	write_protect();
	bad_ranges();
	puts("zap: core counters:");
	for (unsigned int i = 0; i < 7; i++) {
		printf(" %s=%lu", core_ctrs[i].name,
		       counter(core_ctrs[i].id) - start[i]);
	}
	putc('\n');
	if (failures) {
		printf("zap: %u failures\n", failures);
		return 1;
	}
	puts("zap: PASS\n");
	return 0;
}
