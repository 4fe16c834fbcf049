// SPDX-License-Identifier: MIT
/* The arm64 test guests' library (see guest.h). */
#include "guest.h"
#include "format.h"

#define UARTDR		0x000
#define UARTFR		0x018
#define FR_TXFF		(1U << 5)

unsigned int failures;

/* ---- console ---- */

void putc(char c)
{
	while (mmio_read32(GUEST_PL011_BASE + UARTFR) & FR_TXFF) {
	}
	mmio_write32(GUEST_PL011_BASE + UARTDR, (uint8_t)c);
}

void puts(const char *s)
{
	while (*s) {
		putc(*s++);
	}
}

static void vprintf(const char *fmt, va_list ap)
{
	guest_vformat(putc, fmt, ap);
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		return true;
	}
	failures++;
	puts("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putc('\n');
	return false;
}

/* ---- hypercalls ---- */

#define CALL(insn)							\
	register uint64_t x0 __asm__("x0") = fn;			\
	register uint64_t x1 __asm__("x1") = a0;			\
	register uint64_t x2 __asm__("x2") = a1;			\
	register uint64_t x3 __asm__("x3") = a2;			\
									\
	__asm__ volatile(insn " #0"					\
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)	\
			 :						\
			 : "x4", "x5", "x6", "x7", "x8", "x9", "x10",	\
			   "x11", "x12", "x13", "x14", "x15", "x16",	\
			   "x17", "memory");				\
	return (struct hvc_res){ (int64_t)x0, x1 }

struct hvc_res hvc(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2)
{
	CALL("hvc");
}

struct hvc_res smc(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2)
{
	CALL("smc");
}

uint64_t counter(unsigned int id)
{
	struct hvc_res r = hvc(STRATA_HC_COUNTER, id, 0, 0);

	if (r.status) {
		printf("FAIL: counter %u: status %ld\n", id, r.status);
		power_off(2);
	}
	return r.value;
}

int64_t zap(uint64_t gpa, uint64_t len)
{
	return hvc(STRATA_HC_ZAP, gpa, len, 0).status;
}

int64_t wrprotect(uint64_t gpa, uint64_t len)
{
	return hvc(STRATA_HC_WRPROTECT, gpa, len, 0).status;
}

void power_off(long status)
{
	hvc(STRATA_HC_POWER_OFF, status, 0, 0);
	puts("FAIL: STRATA_HC_POWER_OFF returned\n");
	for (;;) {
		__asm__ volatile("wfi");
	}
}

void psci_system_off(void)
{
	hvc(PSCI_SYSTEM_OFF, 0, 0, 0);
	puts("FAIL: PSCI SYSTEM_OFF returned\n");
	power_off(3);
}

/* main() returned @status: the VM's end. */
void guest_exit(int status)
{
	if (failures && !status) {
		status = 1;
	}
	if (status) {
		power_off(status);
	}
	psci_system_off();
}

void udelay(uint64_t us)
{
	uint64_t end = read_cntvct() + read_cntfrq() * us / 1000000;

	while (read_cntvct() < end) {
	}
}

/* A guest that starts no secondary vCPU has nothing for them to do. */
__attribute__((weak)) void secondary_main(struct cpu_boot *boot)
{
	(void)boot;
	hvc(PSCI_CPU_OFF, 0, 0, 0);
}

/* ---- exceptions ---- */

__attribute__((weak)) bool exception_hook(struct exc_frame *f)
{
	(void)f;
	return false;
}

void exception_entry(struct exc_frame *f)
{
	if (exception_hook(f)) {
		return;
	}
	printf("FAIL: unexpected exception at vector 0x%lx: ESR 0x%lx ELR 0x%lx FAR 0x%lx\n",
	       f->vector, f->esr, f->elr, f->far);
	power_off(4);
}

/* ---- device tree ---- */

#define FDT_MAGIC	0xd00dfeedU
#define FDT_BEGIN_NODE	1
#define FDT_END_NODE	2
#define FDT_PROP	3
#define FDT_NOP		4
#define FDT_END		9

uint32_t dt_u32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

uint64_t dt_u64(const void *p)
{
	return (uint64_t)dt_u32(p) << 32 | dt_u32((const uint8_t *)p + 4);
}

uint32_t dt_size(const void *dtb)
{
	if (!dtb || dt_u32(dtb) != FDT_MAGIC) {
		return 0;
	}
	return dt_u32((const uint8_t *)dtb + 4);
}

/* Does node name @name match the path component @c of @n bytes? */
static bool name_matches(const char *name, const char *c, size_t n)
{
	bool unit = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (name[i] != c[i]) {
			return false;
		}
		unit |= c[i] == '@';
	}
	return name[i] == 0 || (name[i] == '@' && !unit);
}

/*
 * Walk the structure block of @dtb, calling @node for every node (depth 1
 * for the root's children) and @prop for every property of the node last
 * reported, until a callback returns true. False when the DTB is broken or
 * the walk ended.
 */
struct dt_walk {
	bool (*node)(struct dt_walk *w, unsigned int depth, const char *name);
	bool (*prop)(struct dt_walk *w, unsigned int depth, const char *name,
		     const void *val, uint32_t len);
};

static bool dt_walk(const void *dtb, struct dt_walk *w)
{
	const uint8_t *base = dtb;
	uint32_t size = dt_size(dtb);
	uint32_t off, end, strings;
	unsigned int depth = 0;

	if (!size) {
		return false;
	}
	off = dt_u32(base + 8);
	strings = dt_u32(base + 12);
	end = off + dt_u32(base + 36);
	if (end > size || strings > size) {
		return false;
	}
	while (off + 4 <= end) {
		uint32_t tok = dt_u32(base + off);
		const char *name;
		uint32_t len;

		off += 4;
		switch (tok) {
		case FDT_BEGIN_NODE:
			name = (const char *)base + off;
			off += (strlen(name) + 4) & ~3U;
			if (depth++ && w->node && w->node(w, depth - 1, name)) {
				return true;
			}
			break;
		case FDT_END_NODE:
			if (!depth--) {
				return false;
			}
			break;
		case FDT_PROP:
			len = dt_u32(base + off);
			name = (const char *)base + strings +
			       dt_u32(base + off + 4);
			off += 8;
			if (w->prop && w->prop(w, depth - 1, name, base + off,
					       len)) {
				return true;
			}
			off += (len + 3) & ~3U;
			break;
		case FDT_NOP:
			break;
		default:	/* FDT_END or garbage */
			return false;
		}
	}
	return false;
}

struct find_prop {
	struct dt_walk w;
	const char *comps[8];
	size_t lens[8];
	unsigned int n, matched;
	const char *prop;
	const void *val;
	uint32_t len;
};

static bool find_prop_node(struct dt_walk *w, unsigned int depth,
			   const char *name)
{
	struct find_prop *f = (struct find_prop *)w;

	if (f->matched >= depth) {
		f->matched = depth - 1;	/* left the matched subtree */
	}
	if (f->matched == depth - 1 && depth <= f->n &&
	    name_matches(name, f->comps[depth - 1], f->lens[depth - 1])) {
		f->matched = depth;
	}
	return false;
}

static bool find_prop_prop(struct dt_walk *w, unsigned int depth,
			   const char *name, const void *val, uint32_t len)
{
	struct find_prop *f = (struct find_prop *)w;

	if (depth == f->n && f->matched == f->n && !strcmp(name, f->prop)) {
		f->val = val;
		f->len = len;
		return true;
	}
	return false;
}

const void *dt_prop(const void *dtb, const char *path, const char *prop,
		    uint32_t *len)
{
	struct find_prop f = {
		.w = { find_prop_node, find_prop_prop },
		.prop = prop,
	};

	while (*path) {
		while (*path == '/') {
			path++;
		}
		if (!*path) {
			break;
		}
		if (f.n == 8) {
			return NULL;
		}
		f.comps[f.n] = path;
		while (*path && *path != '/') {
			path++;
		}
		f.lens[f.n] = path - f.comps[f.n];
		f.n++;
	}
	if (!dt_walk(dtb, &f.w)) {
		return NULL;
	}
	if (len) {
		*len = f.len;
	}
	return f.val;
}

struct count_cpus {
	struct dt_walk w;
	bool in_cpus;
	unsigned int n;
};

static bool count_cpus_node(struct dt_walk *w, unsigned int depth,
			    const char *name)
{
	struct count_cpus *c = (struct count_cpus *)w;

	if (depth == 1) {
		c->in_cpus = !strcmp(name, "cpus");
	} else if (depth == 2 && c->in_cpus && name_matches(name, "cpu", 3)) {
		c->n++;
	}
	return false;
}

unsigned int dt_count_cpus(const void *dtb)
{
	struct count_cpus c = { .w = { count_cpus_node, NULL } };

	dt_walk(dtb, &c.w);
	return c.n;
}

bool dt_memory(const void *dtb, uint64_t *base, uint64_t *size)
{
	uint32_t len;
	const void *reg = dt_prop(dtb, "/memory", "reg", &len);

	if (!reg || len != 16) {
		return false;
	}
	*base = dt_u64(reg);
	*size = dt_u64((const uint8_t *)reg + 8);
	return true;
}

/* ---- helpers ---- */

void *memset(void *d, int c, size_t n)
{
	volatile uint8_t *p = d;

	while (n--) {
		*p++ = (uint8_t)c;
	}
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile uint8_t *p = d;
	const uint8_t *q = s;

	while (n--) {
		*p++ = *q++;
	}
	return d;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (uint8_t)*a - (uint8_t)*b;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n]) {
		n++;
	}
	return n;
}
