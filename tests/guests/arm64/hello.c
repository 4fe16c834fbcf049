// SPDX-License-Identifier: MIT
/*
 * hello: the demo guest. Greets over the PL011, reports what its device
 * tree says (RAM, vCPUs, boot arguments, where the DTB is), checks that the
 * DTB lies in RAM outside its own image and that PSCI answers, then powers
 * off through PSCI SYSTEM_OFF.
 */
#include "guest.h"

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* An initrd, when the VM has one: where /chosen says, clear of the rest. */
static void check_initrd(void *dtb)
{
	const void *s = dt_prop(dtb, "/chosen", "linux,initrd-start", NULL);
	const void *e = dt_prop(dtb, "/chosen", "linux,initrd-end", NULL);
	uint64_t start, end, d = (uint64_t)dtb;
	char head[33];

	if (!s || !e) {
		puts("hello: no initrd\n");
		return;
	}
	start = dt_u64(s);
	end = dt_u64(e);
	memcpy(head, (const void *)start, 32);
	head[end - start < 32 ? end - start : 32] = 0;
	for (unsigned int i = 0; head[i]; i++) {
		if (head[i] < ' ' || head[i] > '~') {
			head[i] = '.';
		}
	}
	printf("hello: initrd 0x%lx-0x%lx (%lu bytes) starts '%s'\n", start,
	       end, end - start, head);
	check(!overlaps(start, end, (uint64_t)_start, (uint64_t)_end),
	      "the initrd overlaps the image");
	check(!overlaps(start, end, d, d + dt_size(dtb)),
	      "the initrd overlaps the DTB");
}

int guest_main(void *dtb)
{
	uint64_t base = 0, size = 0, dtb_at = (uint64_t)dtb;
	const char *args;
	struct hvc_res r;
	uint32_t len;

	printf("Hello from a Strata arm64 guest at EL%u\n", (unsigned int)({
		uint64_t el;
		__asm__("mrs %0, CurrentEL" : "=r"(el));
		(el >> 2) & 3; }));
	check(dt_size(dtb) != 0, "no device tree at 0x%lx", dtb_at);
	check(dt_memory(dtb, &base, &size), "no /memory in the device tree");
	args = dt_prop(dtb, "/chosen", "bootargs", &len);
	printf("hello: memory 0x%lx-0x%lx (%lu MiB), %u vCPUs, dtb at 0x%lx (%u bytes)\n",
	       base, base + size, size >> 20, dt_count_cpus(dtb), dtb_at,
	       dt_size(dtb));
	printf("hello: bootargs '%s'\n", args ? args : "(none)");
	check(dtb_at >= base && dtb_at + dt_size(dtb) <= base + size,
	      "the DTB is outside RAM");
	check(dtb_at + dt_size(dtb) <= (uint64_t)_start ||
	      dtb_at >= (uint64_t)_end, "the DTB overlaps the image");
	check(dt_prop(dtb, "/psci", "method", NULL) &&
	      !strcmp(dt_prop(dtb, "/psci", "method", NULL), "hvc"),
	      "/psci/method is not hvc");
	check_initrd(dtb);
	r = hvc(PSCI_VERSION, 0, 0, 0);
	printf("hello: PSCI version %lu.%lu\n", (uint64_t)r.status >> 16,
	       (uint64_t)r.status & 0xffff);
	check(r.status >= 0x10000, "PSCI_VERSION returned %ld", r.status);
	if (failures) {
		return 1;
	}
	puts("hello: PASS\n");
	return 0;
}
