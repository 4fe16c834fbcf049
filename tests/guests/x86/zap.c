// SPDX-License-Identifier: MIT
/*
 * zap: stale translations. Touch memory, remove its stage-2 translations
 * with STRATA_HC_ZAP (4 KiB, 2 MiB, several blocks, part of two blocks,
 * 1 GiB), touch it again: through the counters, every access after a zap
 * must have faulted (exactly the expected number of faults and mappings of
 * each size), every zap must have cost exactly one INVEPT (the blocks it
 * splits included: EPT needs no break-before-make), and the data must be
 * intact. Ends by printing every counter of the VM.
 */
#include "guest.h"

#define MiB		(1024UL * 1024)
#define KiB4		4096UL
#define TEST_LO		(8 * MiB)
#define TEST_HI		(32 * MiB)

static const char *const ctr_names[STRATA_CTR_NR] = {
	"exits", "s2_faults", "maps_4k", "maps_2m", "maps_1g", "wp_faults",
	"mmio", "mmio_spte_hits", "mmio_unclaimed", "hypercalls",
	"hc_unknown", "injected", "flushes", "tlbi_ipa", "tlbi_range",
	"tlbi_range_insns", "tlbi_vmid", "cmo_pages", "detaches",
	"tables_in_use", "mmio_spte_stale", "root_cache_hits",
	"root_cache_misses", "roots_invalidated", "root_allocs",
	"memslot_gen", "view_switches", "view_violations", "gen_wraps",
	"tlbi_replays", "resets", "zeroed_chunks", "kicks", "lock_waits",
	"fault_retries", "remote_flushes", "mmio_inplace",
};

_Static_assert(STRATA_CTR_NR == 37, "a name for every counter");

static uint64_t tag(uint64_t a)
{
	return a ^ 0xa5a5000000000000ULL;
}

static volatile uint64_t *word(uint64_t a)
{
	return (volatile uint64_t *)(uintptr_t)a;
}

/* Read the tagged word of every page in [@lo, @hi); count bad ones. */
static unsigned long verify(uint64_t lo, uint64_t hi)
{
	unsigned long bad = 0;

	for (uint64_t a = lo; a < hi; a += KiB4) {
		if (*word(a) != tag(a)) {
			bad++;
		}
	}
	return bad;
}

struct snap {
	unsigned long faults, m4k, m2m, invept;
};

static void snap(struct snap *s)
{
	s->faults = counter(STRATA_CTR_S2_FAULTS);
	s->m4k = counter(STRATA_CTR_MAPS_4K);
	s->m2m = counter(STRATA_CTR_MAPS_2M);
	s->invept = counter(STRATA_CTR_TLBI_VMID);
}

/*
 * Zap [@gpa, @gpa + @len): it must succeed with exactly one INVEPT, also
 * when it splits the @splits blocks it only partly covers: on EPT the core
 * writes the table over the block and the zap's one plan invalidates both
 * (include/mm/s2pt.h, S2_FMT_NO_BBM and struct s2_counters).
 */
static void zap(const char *what, uint64_t gpa, uint64_t len,
		unsigned long splits)
{
	unsigned long before = counter(STRATA_CTR_TLBI_VMID);
	long st = hypercall(STRATA_HC_ZAP, gpa, len, 0, NULL);
	unsigned long invept = counter(STRATA_CTR_TLBI_VMID) - before;

	EXPECT(st == 0, "%s: zap status %ld", what, st);
	EXPECT(invept == 1,
	       "%s: %lu INVEPTs for one zap splitting %lu blocks", what, invept,
	       splits);
	gprintf("zap: %s: zap of 0x%lx+0x%lx splitting %lu blocks: %lu INVEPTs\n",
		what, (unsigned long)gpa, (unsigned long)len, splits, invept);
}

/* After touching: exact fault and mapping deltas, data intact. */
static void expect_deltas(const char *what, const struct snap *s,
			  unsigned long faults, unsigned long m4k,
			  unsigned long m2m)
{
	struct snap now;

	snap(&now);
	EXPECT(now.faults - s->faults == faults && now.m4k - s->m4k == m4k &&
	       now.m2m - s->m2m == m2m,
	       "%s: %lu faults (4K %lu, 2M %lu), expected %lu (4K %lu, 2M %lu)",
	       what, now.faults - s->faults, now.m4k - s->m4k,
	       now.m2m - s->m2m, faults, m4k, m2m);
	gprintf("zap: %s: %lu faults (4K %lu, 2M %lu)\n", what,
		now.faults - s->faults, now.m4k - s->m4k, now.m2m - s->m2m);
}

static void zap_4k(void)
{
	uint64_t a = TEST_LO + 3 * KiB4;
	struct snap s;

	zap("4K", a, KiB4, 1);
	snap(&s);
	EXPECT(*word(a) == tag(a), "4K: data changed");
	EXPECT(*word(a + 8) == 0, "4K: untouched word not zero");
	EXPECT(*word(a + KiB4) == tag(a + KiB4), "4K: neighbour changed");
	EXPECT(*word(a - KiB4) == tag(a - KiB4), "4K: neighbour changed");
	expect_deltas("4K", &s, 1, 1, 0);
}

static void zap_2m(void)
{
	uint64_t b = 16 * MiB;
	struct snap s;

	zap("2M", b, 2 * MiB, 0);
	snap(&s);
	EXPECT(verify(b, b + 2 * MiB) == 0, "2M: data changed");
	expect_deltas("2M", &s, 1, 0, 1);
}

static void zap_multi_block(void)
{
	uint64_t c = 20 * MiB;
	struct snap s;

	zap("3 blocks", c, 6 * MiB, 0);
	snap(&s);
	EXPECT(verify(c, c + 6 * MiB) == 0, "3 blocks: data changed");
	expect_deltas("3 blocks", &s, 3, 0, 3);
}

/* 1 MiB of each of two blocks: both split, 512 pages fault back one by one. */
static void zap_two_partial_blocks(void)
{
	uint64_t d = 27 * MiB;
	struct snap s;

	zap("parts of 2 blocks", d, 2 * MiB, 2);
	snap(&s);
	EXPECT(verify(d, d + 2 * MiB) == 0, "parts of 2 blocks: data changed");
	expect_deltas("parts of 2 blocks", &s, 512, 512, 0);
	snap(&s);
	EXPECT(verify(26 * MiB, 30 * MiB) == 0, "2 blocks: data changed");
	expect_deltas("untouched halves", &s, 0, 0, 0);
}

/*
 * A 1 GiB range covers all of this VM's RAM, with its code, stack and page
 * tables: everything faults back in, and nothing is lost.
 */
static void zap_1g(void)
{
	struct snap s, now;

	zap("1G", 0, 1024 * MiB, 0);
	snap(&s);
	EXPECT(verify(TEST_LO, TEST_HI) == 0, "1G: data changed");
	snap(&now);
	EXPECT(now.faults - s.faults >= (TEST_HI - TEST_LO) / (2 * MiB),
	       "1G: only %lu faults touching %lu blocks",
	       now.faults - s.faults, (TEST_HI - TEST_LO) / (2 * MiB));
	gprintf("zap: 1G: %lu faults (4K %lu, 2M %lu)\n",
		now.faults - s.faults, now.m4k - s.m4k, now.m2m - s.m2m);
}

/*
 * Write-protect 16 pages inside a 2 MiB block (one split, in the same one
 * INVEPT as the narrowing): reads do not fault, the first write to each page takes exactly one write fault, which
 * makes it writable again, and the data written is kept.
 */
static void wrprotect(void)
{
	uint64_t w = 10 * MiB;
	unsigned long inv0 = counter(STRATA_CTR_TLBI_VMID), inv;
	unsigned long wp0, wp1, wp2;
	long st;

	st = hypercall(STRATA_HC_WRPROTECT, w, 16 * KiB4, 0, NULL);
	inv = counter(STRATA_CTR_TLBI_VMID) - inv0;
	EXPECT(st == 0, "wrprotect: status %ld", st);
	EXPECT(inv == 1, "wrprotect: %lu INVEPTs, expected 1 with its split",
	       inv);
	wp0 = counter(STRATA_CTR_WP_FAULTS);
	EXPECT(verify(w, w + 16 * KiB4) == 0, "wrprotect: data changed");
	wp1 = counter(STRATA_CTR_WP_FAULTS);
	for (uint64_t a = w; a < w + 16 * KiB4; a += KiB4) {
		*word(a + 8) = tag(a);
		*word(a + 16) = tag(a);
	}
	wp2 = counter(STRATA_CTR_WP_FAULTS);
	EXPECT(wp1 == wp0, "wrprotect: %lu write faults on reads", wp1 - wp0);
	EXPECT(wp2 - wp1 == 16, "wrprotect: %lu write faults for 16 pages",
	       wp2 - wp1);
	for (uint64_t a = w; a < w + 16 * KiB4; a += KiB4) {
		EXPECT(*word(a + 8) == tag(a) && *word(a + 16) == tag(a),
		       "wrprotect: write to 0x%lx lost", (unsigned long)a);
	}
	gprintf("zap: wrprotect 16 pages: %lu INVEPTs, %lu write faults on reads, %lu on first writes\n",
		inv, wp1 - wp0, wp2 - wp1);
}

static void bad_zaps(void)
{
	EXPECT(hypercall(STRATA_HC_ZAP, TEST_LO + 8, KiB4, 0, NULL) ==
	       STRATA_HC_EINVAL, "misaligned zap not refused");
	EXPECT(hypercall(STRATA_HC_ZAP, TEST_LO, 0, 0, NULL) ==
	       STRATA_HC_EINVAL, "empty zap not refused");
	EXPECT(hypercall(STRATA_HC_ZAP, 1ULL << 60, KiB4, 0, NULL) ==
	       STRATA_HC_ERANGE, "zap outside guest-physical space not refused");
}

int guest_main(void)
{
	EXPECT(boot_info.ram_size >= 64 * MiB,
	       "zap: needs 64 MiB of RAM, has %lu MiB",
	       (unsigned long)(boot_info.ram_size >> 20));
	EXPECT(boot_info.area >= TEST_HI, "zap: Strata's area inside the test range");
	if (checks_failed) {
		return checks_result("zap");
	}
	for (uint64_t a = TEST_LO; a < TEST_HI; a += KiB4) {
		*word(a) = tag(a);
	}
	zap_4k();
	zap_2m();
	zap_multi_block();
	zap_two_partial_blocks();
	zap_1g();
	wrprotect();
	bad_zaps();
	EXPECT(verify(TEST_LO, TEST_HI) == 0, "zap: data changed at the end");
	/* five a line: a guest console line holds 160 characters */
	for (unsigned int i = 0; i < STRATA_CTR_NR; i++) {
		gprintf("%s %s=%lu%s", i % 5 ? "" : "zap: counters:",
			ctr_names[i], counter(i),
			i % 5 == 4 || i + 1 == STRATA_CTR_NR ? "\n" : "");
	}
	return checks_result("zap");
}
