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

static struct cfg_result last;

static unsigned int parse(const char *text, struct vm_config *vms,
			  unsigned int *errors)
{
	unsigned int n;

	n = vm_config_parse(text, strlen(text), "strata.cfg", NULL, vms,
			    VM_MAX_VMS, &last);
	*errors = last.errors;
	return n;
}

/* Parse @text with the console captured. */
static unsigned int parse_captured(const char *text, struct vm_config *vms,
				   unsigned int *errors)
{
	cap_len = 0;
	captured[0] = '\0';
	console_register(&capture_console);
	return parse(text, vms, errors);
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
		"on_reset = stop\n"
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
	CHECK(!vms[0].reset_stops);	/* on_reset = restart by default */
	CHECK(vms[1].reset_stops);
}

/* secure = on is a VM type of its own and implies ve (MMIO as #VE). */
static void config_secure_implies_ve(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;
	const char *text =
		"[vm td]\nkernel = td.elf\nsecure = on\nve = off\n"
		"[vm plain]\nkernel = p.elf\nsecure = off\n"
		"[vm bad]\nkernel = b.elf\nsecure = maybe\n";

	CHECK_EQ(parse_captured(text, vms, &errors), 2);
	CHECK_EQ(errors, 1);
	CHECK(vms[0].secure);
	CHECK(vms[0].ve);
	CHECK(!vms[1].secure);
	CHECK(!vms[1].ve);
	CHECK(strstr(captured, "bad secure 'maybe' (expected on or off)"));
}

/* A secure VM has one vCPU and no virtio device: both refused. */
static void config_secure_refuses_smp_and_virtio(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;
	const char *text =
		"[vm smp]\nkernel = td.elf\nsecure = on\ncpus = 2\n"
		"[vm disk]\nkernel = td.elf\nsecure = on\ndisk = d.img\n"
		"[vm rng]\nkernel = td.elf\nsecure = on\nrng = on\n"
		"[vm net]\nkernel = td.elf\nsecure = on\nnet = on\n"
		"[vm vcon]\nkernel = td.elf\nsecure = on\nvirtio_console = on\n"
		"[vm one]\nkernel = td.elf\nsecure = on\ncpus = 1\n"
		"[vm plain]\nkernel = p.elf\ncpus = 2\nrng = on\n";

	CHECK_EQ(parse_captured(text, vms, &errors), 2);
	CHECK_EQ(errors, 5);
	CHECK(!strcmp(vms[0].name, "one"));
	CHECK(!strcmp(vms[1].name, "plain"));
	CHECK(strstr(captured, "VM 'smp' has secure = on and cpus = 2 (a secure VM has one vCPU: expected cpus = 1)"));
	CHECK(strstr(captured, "VM 'disk' has secure = on and a virtio device (disk)"));
	CHECK(strstr(captured, "VM 'rng' has secure = on and a virtio device (rng)"));
	CHECK(strstr(captured, "VM 'net' has secure = on and a virtio device (net)"));
	CHECK(strstr(captured, "VM 'vcon' has secure = on and a virtio device (virtio_console)"));
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
	CHECK(strstr(captured, "strata.cfg:12: bad cpus '99' (expected 1..8)"));
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
				 VM_MAX_VMS, &last), 0);
	CHECK_EQ(last.errors, 1);
	(void)errors;
}

/* A key before any section is named as itself, not as 'text'. */
static void config_key_before_section_named(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;

	CHECK_EQ(parse_captured("memory = 64M\n[vm a]\nkernel = k\n", vms,
				&errors), 1);
	CHECK_EQ(errors, 1);
	CHECK_EQ(last.sections, 1);
	CHECK(strstr(captured, "error: strata.cfg:1: key 'memory' before any [vm NAME] section (expected a [vm NAME] line first)\r\n"));
	CHECK(!strstr(captured, "'text'"));
	CHECK_EQ(parse_captured("\n  hello world\n", vms, &errors), 0);
	CHECK(strstr(captured, "strata.cfg:2: text 'hello world' before any [vm NAME] section"));
	/* and no section at all is its own error */
	CHECK(strstr(captured, "strata.cfg: no [vm NAME] section (expected at least one VM)"));
	CHECK_EQ(errors, 2);
	CHECK_EQ(last.sections, 0);
}

/* A key given twice in a section is an error naming both lines. */
static void config_duplicate_keys_refused(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;
	static const char *const keys[] = {
		"kernel = k", "initrd = i", "memory = 16M", "cpus = 2",
		"load = 0x1000", "ve = on", "cmdline = a b",
		"on_reset = stop",
	};

	for (unsigned int i = 0; i < 8; i++) {
		char text[160];

		snprintf(text, sizeof(text), "[vm a]\nkernel = k\n%s\n%s\n",
			 keys[i], keys[i]);
		if (i == 0) {
			snprintf(text, sizeof(text), "[vm a]\n%s\n%s\n",
				 keys[0], keys[0]);
		}
		CHECK_EQ(parse_captured(text, vms, &errors), 0);
		CHECK_EQ(errors, 1);
		CHECK(strstr(captured, "given twice in [vm a] (first at line"));
		CHECK(strstr(captured, "error: vm a: never ran: strata.cfg:"));
	}
	CHECK_EQ(parse_captured("[vm a]\nkernel = k\nmemory = 16M\n"
				"memory = 32M\n[vm b]\nkernel = k\n"
				"memory = 32M\n", vms, &errors), 1);
	CHECK(strstr(captured, "error: strata.cfg:4: key 'memory' given twice in [vm a] (first at line 3; expected once)\r\n"));
	CHECK(strstr(captured, "error: vm a: never ran: strata.cfg:4: key 'memory' given twice"));
	CHECK(!strcmp(vms[0].name, "b"));
	CHECK_EQ(vms[0].memory, 32ULL << 20);
	CHECK_EQ(last.sections, 2);
}

/* Empty and comment-only files, and files whose every section is bad. */
static void config_nothing_to_run(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;

	CHECK_EQ(parse_captured("# only\n\n   # comments\n", vms, &errors), 0);
	CHECK_EQ(errors, 1);
	CHECK_EQ(last.sections, 0);
	CHECK(strstr(captured, "error: strata.cfg: no [vm NAME] section (expected at least one VM)"));
	CHECK_EQ(parse_captured("[vm a]\ncpus = 0\nkernel = k\n[oops]\n"
				"kernel = k\n", vms, &errors), 0);
	CHECK_EQ(last.sections, 2);
	CHECK_EQ(errors, 2);
	CHECK(strstr(captured, "error: vm a: never ran: strata.cfg:2: bad cpus '0' (expected 1..8)\r\n"));
	CHECK(strstr(captured, "error: strata.cfg:4: bad section header '[oops]' (expected [vm NAME])\r\n"));
	CHECK(strstr(captured, "error: vm ?: never ran: strata.cfg:4: bad section header"));
}

/* Each value error names the value and what was expected. */
static void config_value_messages(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;

	CHECK_EQ(parse_captured("[vm a]\nkernel = k\nmemory = -1\n"
				"load = 0x1001\nve = maybe\ncolour = red\n"
				"junk\non_reset = reboot\n", vms, &errors), 0);
	CHECK_EQ(errors, 6);
	CHECK(strstr(captured, "strata.cfg:3: bad memory size '-1' (expected 1M..64G in whole 4 KiB pages)"));
	CHECK(strstr(captured, "strata.cfg:4: bad load address '0x1001' (expected a 4 KiB aligned number)"));
	CHECK(strstr(captured, "strata.cfg:5: bad ve 'maybe' (expected on or off)"));
	CHECK(strstr(captured, "strata.cfg:6: unknown key 'colour' (expected kernel, initrd, memory, memory_max, cpus, load, ve, on_reset, disk, disk_ro, rng, net, virtio_console, secure, pin or cmdline)"));
	CHECK(strstr(captured, "strata.cfg:7: 'junk' is not KEY = VALUE (expected KEY = VALUE)"));
	CHECK(strstr(captured, "strata.cfg:8: bad on_reset 'reboot' (expected restart or stop)"));
	/* the first error is the reason the VM never ran */
	CHECK(strstr(captured, "vm a: never ran: strata.cfg:3: bad memory size"));
}

/* `pin`: one CPU for all vCPUs or one per vCPU (docs/smp.md). */
static void config_pin(void)
{
	struct vm_config vms[VM_MAX_VMS];
	unsigned int errors;

	CHECK_EQ(parse_captured("[vm a]\nkernel = k\npin = 3\n"
				"[vm b]\nkernel = k\ncpus = 3\npin = 0,2,1\n"
				"[vm c]\nkernel = k\n", vms, &errors), 3);
	CHECK_EQ(errors, 0);
	CHECK_EQ(vms[0].nr_pin, 1);
	CHECK_EQ(vms[0].pin[0], 3);
	CHECK_EQ(vms[1].nr_pin, 3);
	CHECK(vms[1].pin[0] == 0 && vms[1].pin[1] == 2 && vms[1].pin[2] == 1);
	CHECK_EQ(vms[2].nr_pin, 0);
	CHECK_EQ(parse_captured("[vm a]\nkernel = k\npin = 8\n"
				"[vm b]\nkernel = k\npin = 1,,2\n"
				"[vm c]\nkernel = k\npin = x\n"
				"[vm d]\nkernel = k\ncpus = 4\npin = 0,1\n"
				"[vm e]\nkernel = k\npin = 1,2\n", vms, &errors),
		 0);
	CHECK_EQ(errors, 5);
	CHECK(strstr(captured, "strata.cfg:3: bad pin '8' (expected one physical CPU number 0..7, or one per vCPU separated by commas)"));
	CHECK(strstr(captured, "strata.cfg:6: bad pin '1,,2'"));
	CHECK(strstr(captured, "strata.cfg:9: bad pin 'x'"));
	CHECK(strstr(captured, "vm d: never ran: strata.cfg:10: VM 'd' pins 2 vCPUs but has 4 (expected one CPU for all, or one per vCPU)"));
	CHECK(strstr(captured, "vm e: never ran: strata.cfg:14: VM 'e' pins 2 vCPUs but has 1"));
}

/* Two files of one name in a bundle: an error, the first one kept. */
static void cpio_duplicate_names_refused(void)
{
	struct bundle b = { 0 };
	const struct bundle_file *f;

	arc_len = 0;
	cpio_entry("strata.cfg", 0100644, "[vm a]\nkernel = hello.bin\n");
	cpio_entry("hello.bin", 0100644, "FIRST");
	cpio_entry("./hello.bin", 0100644, "SECOND!");
	cpio_entry("other", 0100644, "O");
	cpio_entry("TRAILER!!!", 0, NULL);
	cap_len = 0;
	console_register(&capture_console);
	CHECK_EQ(bundle_from_cpio(&b, archive, arc_len), -EEXIST);
	CHECK_EQ(b.nr_files, 3);
	CHECK_EQ(b.errors, 1);
	f = bundle_find(&b, "hello.bin");
	CHECK(f && f->size == 5 && !memcmp(f->data, "FIRST", 5));
	CHECK(bundle_find(&b, "other") != NULL);
	CHECK(strstr(captured, "error: bundle: file 'hello.bin' appears twice (expected unique names); the first is kept\r\n"));
	/* the same for files added one by one (x86 modules) */
	CHECK_EQ(bundle_add(&b, "other", "x", 1), -EEXIST);
	CHECK_EQ(b.errors, 2);
}

/* An archive that is not newc is named: odc, binary, anything else. */
static void cpio_not_newc_named(void)
{
	static const char odc[] = "070707000001000002100644000000000000000001";
	static const unsigned char bin[] = { 0xc7, 0x71, 0, 0, 0, 0, 0, 0 };
	struct bundle b = { 0 };

	CHECK(!strcmp(bundle_archive_kind("070701", 6), "cpio newc"));
	CHECK(!strcmp(bundle_archive_kind(odc, sizeof(odc)),
		      "cpio odc (070707)"));
	CHECK(!strcmp(bundle_archive_kind(bin, sizeof(bin)), "binary cpio"));
	CHECK(bundle_archive_kind("\x7f" "ELF", 4) == NULL);
	cap_len = 0;
	console_register(&capture_console);
	CHECK_EQ(bundle_from_cpio(&b, odc, sizeof(odc)), -EINVAL);
	CHECK(strstr(captured, "error: bundle: not a cpio newc archive (it is a cpio odc (070707)); expected the 070701 magic of `cpio -H newc`\r\n"));
	cap_len = 0;
	CHECK_EQ(bundle_from_cpio(&b, "random bytes here", 17), -EINVAL);
	CHECK(strstr(captured, "error: bundle: not a cpio newc archive (no cpio magic at offset 0); expected"));
	CHECK_EQ(b.errors, 2);
	CHECK_EQ(b.nr_files, 0);
	/* damage later in a newc archive is reported as damage */
	make_archive();
	memcpy(archive + 112 + 4, "0707", 4);	/* into the 2nd header */
	cap_len = 0;
	b = (struct bundle){ 0 };
	CHECK_EQ(bundle_from_cpio(&b, archive, arc_len), -EINVAL);
	CHECK(strstr(captured, "bundle: cpio archive damaged at offset"));
	CHECK_EQ(b.errors, 1);
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
	CHECK_EQ(o.max_cpus, 0);	/* no limit */
	CHECK_EQ(hv_parse_cmdline("cpus=2", &o), 0);
	CHECK_EQ(o.max_cpus, 2);
	CHECK_EQ(hv_parse_cmdline("cpus=0 cpus=x cpus=2x cpus=", &o), 4);
	CHECK_EQ(o.max_cpus, 0);
}

int main(int argc, char **argv)
{
	test_init(argc, argv, "bundle");
	log_level = LOG_ERR;
	RUN_TEST(cpio_reads_files);
	RUN_TEST(cpio_truncations_refused);
	RUN_TEST(cpio_bad_size_refused);
	RUN_TEST(config_example);
	RUN_TEST(config_secure_implies_ve);
	RUN_TEST(config_secure_refuses_smp_and_virtio);
	RUN_TEST(config_bad_section_dropped);
	RUN_TEST(config_structure_errors);
	RUN_TEST(config_checks_bundle);
	RUN_TEST(config_key_before_section_named);
	RUN_TEST(config_duplicate_keys_refused);
	RUN_TEST(config_nothing_to_run);
	RUN_TEST(config_value_messages);
	RUN_TEST(config_pin);
	RUN_TEST(cpio_duplicate_names_refused);
	RUN_TEST(cpio_not_newc_named);
	RUN_TEST(cmdline_words);
	return test_done();
}
