// SPDX-License-Identifier: MIT
/* Host tests of the boot bundle: cpio newc reader and strata.cfg parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <lib/printk.h>
#include <vmm/bundle.h>
#include <core/console.h>
#include <vmm/cmdline.h>
#include "harness.h"

static char captured[4096];
static size_t cap_len;

static void capture_putc(char c)
{
	if (cap_len + 1 < sizeof(captured)) {
		captured[cap_len++] = c;
		captured[cap_len] = '\0';
	}
}

static const struct console capture_console = { "capture", capture_putc };

static char archive[8192];
static size_t arc_len;

static void cpio_entry(const char *name, unsigned int mode, const char *data)
{
	size_t nlen = strlen(name) + 1, dlen = data ? strlen(data) : 0;

	arc_len += sprintf(archive + arc_len,
			   "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
			   1, mode, 0, 0, 1, 0, dlen, 0, 0, 0, 0, nlen, 0);
	memcpy(archive + arc_len, name, nlen);
	arc_len += nlen;
	while (arc_len % 4) {
		archive[arc_len++] = 0;
	}
	if (dlen) {
		memcpy(archive + arc_len, data, dlen);
		arc_len += dlen;
	}
	while (arc_len % 4) {
		archive[arc_len++] = 0;
	}
}

static void make_archive(void)
{
	arc_len = 0;
	cpio_entry(".", 0040755, NULL);
	cpio_entry("./strata.cfg", 0100644, "[vm a]\nkernel = hello.bin\n");
	cpio_entry("hello.bin", 0100644, "HELLO");
	cpio_entry("TRAILER!!!", 0, NULL);
}

/* Regular files are found by name, "./" dropped, directories skipped. */
static void cpio_reads_files(void)
{
	struct bundle b = { 0 };
	const struct bundle_file *f;

	make_archive();
	CHECK_EQ(bundle_from_cpio(&b, archive, arc_len), 0);
	CHECK_EQ(b.nr_files, 2);
	f = bundle_find(&b, "hello.bin");
	CHECK(f != NULL);
	CHECK_EQ(f->size, 5);
	CHECK(!memcmp(f->data, "HELLO", 5));
	CHECK(bundle_find(&b, "strata.cfg") != NULL);
	CHECK(bundle_find(&b, "missing") == NULL);
}

/* Every truncation of a valid archive is refused without reading past it. */
static void cpio_truncations_refused(void)
{
	make_archive();
	for (size_t n = 0; n < arc_len; n++) {
		struct bundle b = { 0 };
		char *copy = malloc(n ? n : 1);

		memcpy(copy, archive, n);
		CHECK_EQ(bundle_from_cpio(&b, copy, n), -EINVAL);
		free(copy);
	}
}

/* A file size that points past the end is refused. */
static void cpio_bad_size_refused(void)
{
	struct bundle b = { 0 };

	make_archive();
	/* filesize field of the first entry: offset 6 + 6 * 8 */
	memcpy(archive + 54, "FFFFFFF0", 8);
	CHECK_EQ(bundle_from_cpio(&b, archive, arc_len), -EINVAL);
}

static unsigned int parse(const char *text, struct vm_config *vms,
			  unsigned int *errors)
{
	return vm_config_parse(text, strlen(text), "strata.cfg", NULL, vms,
			       VM_MAX_VMS, errors);
}

/* The documented example parses to the documented values. */
static void config_example(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;
	const char *text =
		"# two VMs\n"
		"[vm web]\n"
		"kernel  = Image            # a file in the bundle\n"
		"initrd  = rootfs.cpio.gz   # optional\n"
		"memory  = 256M\n"
		"cpus    = 2\n"
		"cmdline = console=ttyAMA0 panic=-1 # kept\n"
		"\n"
		"[vm db]\n"
		"kernel = db.elf\n"
		"ve = on\n"
		"load = 0x80000\n";

	CHECK_EQ(parse(text, vms, &errors), 2);
	CHECK_EQ(errors, 0);
	CHECK(!strcmp(vms[0].name, "web"));
	CHECK(!strcmp(vms[0].kernel, "Image"));
	CHECK(!strcmp(vms[0].initrd, "rootfs.cpio.gz"));
	CHECK_EQ(vms[0].memory, 256ULL << 20);
	CHECK_EQ(vms[0].cpus, 2);
	CHECK(!strcmp(vms[0].cmdline, "console=ttyAMA0 panic=-1 # kept"));
	CHECK(!strcmp(vms[1].name, "db"));
	CHECK_EQ(vms[1].memory, VM_DEFAULT_MEMORY);
	CHECK_EQ(vms[1].cpus, 1);
	CHECK(vms[1].has_load_addr);
	CHECK_EQ(vms[1].load_addr, 0x80000);
	CHECK(!vms[0].ve);
	CHECK(vms[1].ve);
}

/* A bad section is dropped with an error; the good one is kept. */
static void config_bad_section_dropped(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;
	const char *text =
		"[vm bad]\nkernel = x\nmemory = 12Q\n"
		"[vm good]\nkernel = y\n"
		"[vm nokernel]\ncpus = 1\n"
		"[vm good]\nkernel = z\n"
		"[vm toomany]\nkernel = k\ncpus = 99\n"
		"[vm x]\nkernel = k\ncolour = blue\n"
		"[vm y]\nkernel = k\nve = maybe\n";

	cap_len = 0;
	console_register(&capture_console);
	CHECK_EQ(parse(text, vms, &errors), 1);
	CHECK_EQ(errors, 6);
	CHECK_EQ(vms[0].line, 4);
	/* line numbers stay right after an error about an earlier header */
	CHECK(strstr(captured, "strata.cfg:6: VM 'nokernel' has no kernel"));
	CHECK(strstr(captured, "strata.cfg:8: VM 'good' is defined twice"));
	CHECK(strstr(captured, "strata.cfg:12: bad cpus '99' (1..8)"));
	CHECK(strstr(captured, "strata.cfg:15: unknown key 'colour'"));
	CHECK(!strcmp(vms[0].name, "good"));
	CHECK(!strcmp(vms[0].kernel, "y"));
}

/* Text outside a section, bad headers and empty files are errors. */
static void config_structure_errors(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;

	CHECK_EQ(parse("kernel = x\n", vms, &errors), 0);
	CHECK(errors >= 1);
	CHECK_EQ(parse("[vm a\nkernel = x\n", vms, &errors), 0);
	CHECK(errors >= 1);
	CHECK_EQ(parse("[host a]\nkernel = x\n", vms, &errors), 0);
	CHECK(errors >= 1);
	CHECK_EQ(parse("", vms, &errors), 0);
	CHECK_EQ(errors, 1);
}

/* Files named by a VM must be in the bundle when one is given. */
static void config_checks_bundle(void)
{
	struct vm_config vms[VM_MAX_VMS];
	struct bundle b = { 0 };
	unsigned int errors;
	const char *text = "[vm a]\nkernel = hello.bin\ninitrd = nope\n";

	CHECK_EQ(bundle_add(&b, "hello.bin", "x", 1), 0);
	CHECK_EQ(vm_config_parse(text, strlen(text), "strata.cfg", &b, vms,
				 VM_MAX_VMS, &errors), 0);
	CHECK_EQ(errors, 1);
}

/* The hypervisor command line: known words applied, others counted. */
static void cmdline_words(void)
{
	struct hv_options o;

	CHECK_EQ(hv_parse_cmdline("loglevel=debug audit=off config=x.cfg",
				  &o), 0);
	CHECK_EQ(o.loglevel, LOG_DEBUG);
	CHECK(!o.audit);
	CHECK(!strcmp(o.config, "x.cfg"));
	CHECK_EQ(hv_parse_cmdline("  loglevel=9 bogus audit=maybe  x=y ", &o),
		 4);
	CHECK_EQ(o.loglevel, LOG_INFO);
	CHECK(!strcmp(o.config, "strata.cfg"));
	CHECK(!o.selftest_s2 && !o.selftest_fault);
	CHECK_EQ(hv_parse_cmdline("selftest=s2", &o), 0);
	CHECK(o.selftest_s2 && !o.selftest_fault);
	CHECK_EQ(hv_parse_cmdline("selftest=fault selftest=nope", &o), 1);
	CHECK(o.selftest_fault && !o.selftest_s2);
	CHECK_EQ(hv_parse_cmdline("x86_fault=ud arm64_x=1 x86_ x86_=1", &o), 2);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "bundle");
	log_level = LOG_ERR;
	RUN_TEST(cpio_reads_files);
	RUN_TEST(cpio_truncations_refused);
	RUN_TEST(cpio_bad_size_refused);
	RUN_TEST(config_example);
	RUN_TEST(config_bad_section_dropped);
	RUN_TEST(config_structure_errors);
	RUN_TEST(config_checks_bundle);
	RUN_TEST(cmdline_words);
	return test_done();
}
