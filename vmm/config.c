// SPDX-License-Identifier: MIT
/* Parser of strata.cfg, the VM configuration; format in include/vmm/bundle.h. */
#include <core/percpu.h>
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/bundle.h>

/* The keys of a section, in the order of key_names[]. */
enum cfg_key {
	KEY_KERNEL, KEY_INITRD, KEY_MEMORY, KEY_CPUS, KEY_LOAD, KEY_VE,
	KEY_CMDLINE, KEY_ON_RESET, KEY_MEMORY_MAX, KEY_DISK, KEY_DISK_RO,
	KEY_RNG, KEY_NET, KEY_VIRTIO_CONSOLE, KEY_SECURE, KEY_PIN, NR_KEYS
};

static const char *const key_names[NR_KEYS] = {
	"kernel", "initrd", "memory", "cpus", "load", "ve", "cmdline",
	"on_reset", "memory_max", "disk", "disk_ro", "rng", "net",
	"virtio_console", "secure", "pin",
};

struct cfg_parser {
	const char *file;
	const struct bundle *bundle;
	unsigned int lineno;
	unsigned int errors;
	unsigned int sections;
	struct vm_config cur;
	bool in_section;
	bool cur_bad;
	bool seen_kernel;
	unsigned int key_line[NR_KEYS];	/* where each key was set, or 0 */
	char reason[256];		/* the section's first error */
};

static void __printf(2, 3) cfg_error(struct cfg_parser *p, const char *fmt,
				     ...)
{
	char msg[224];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s:%u: %s\n", p->file, p->lineno, msg);
	p->errors++;
	if (p->in_section && !p->cur_bad) {
		ksnprintf(p->reason, sizeof(p->reason), "%s:%u: %s", p->file,
			  p->lineno, msg);
	}
	p->cur_bad = true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Copy [s, e) trimmed into out; false if it does not fit. */
static bool copy_trimmed(const char *s, const char *e, char *out, size_t size)
{
	while (s < e && is_space(*s)) {
		s++;
	}
	while (e > s && is_space(e[-1])) {
		e--;
	}
	if ((size_t)(e - s) >= size) {
		return false;
	}
	memcpy(out, s, e - s);
	out[e - s] = '\0';
	return true;
}

static bool parse_u64(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	unsigned int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s) {
		return false;
	}
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9') {
			d = *s - '0';
		} else if (base == 16 && *s >= 'a' && *s <= 'f') {
			d = *s - 'a' + 10;
		} else if (base == 16 && *s >= 'A' && *s <= 'F') {
			d = *s - 'A' + 10;
		} else {
			break;
		}
		if (v > (UINT64_MAX - d) / base) {
			return false;
		}
		v = v * base + d;
	}
	*out = v;
	*end = s;
	return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
	const char *end;
	unsigned int shift = 0;
	uint64_t v;

	if (!parse_u64(s, &v, &end)) {
		return false;
	}
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	default: break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift))) {
		return false;
	}
	*out = v << shift;
	return true;
}

static void check_file(struct cfg_parser *p, const char *key,
		       const char *name)
{
	if (p->bundle && !bundle_find(p->bundle, name)) {
		cfg_error(p, "%s file '%s' is not in the bundle (expected one of its file names)",
			  key, name);
	}
}

/*
 * `pin = 2` (every vCPU on physical CPU 2) or `pin = 0,1,1,3` (vCPU i on the
 * i-th CPU of the list, one per vCPU): docs/smp.md. Whether the CPUs exist
 * is only known when they are started: vmm_run() checks that.
 */
static void parse_pin(struct cfg_parser *p, const char *val)
{
	struct vm_config *vm = &p->cur;
	const char *s = val, *end;
	uint64_t v;

	vm->nr_pin = 0;
	for (;;) {
		if (!parse_u64(s, &v, &end) || end == s || v >= PCPU_MAX ||
		    vm->nr_pin == VM_MAX_CPUS) {
			cfg_error(p, "bad pin '%.40s' (expected one physical CPU number 0..%d, or one per vCPU separated by commas)",
				  val, PCPU_MAX - 1);
			vm->nr_pin = 0;
			return;
		}
		vm->pin[vm->nr_pin++] = (uint8_t)v;
		if (!*end) {
			return;
		}
		if (*end != ',') {
			cfg_error(p, "bad pin '%.40s' (expected one physical CPU number 0..%d, or one per vCPU separated by commas)",
				  val, PCPU_MAX - 1);
			vm->nr_pin = 0;
			return;
		}
		s = end + 1;
	}
}

static void set_key(struct cfg_parser *p, const char *key, const char *val)
{
	struct vm_config *vm = &p->cur;
	uint64_t v;
	const char *end;

	if (!strcmp(key, "kernel") || !strcmp(key, "initrd") ||
	    !strcmp(key, "disk")) {
		char *dst = key[0] == 'k' ? vm->kernel :
			    key[0] == 'i' ? vm->initrd : vm->disk;

		if (!*val || strlen(val) >= BUNDLE_NAME_MAX) {
			cfg_error(p, "bad %s file name '%.40s' (expected 1..%d characters)",
				  key, val, BUNDLE_NAME_MAX - 1);
			return;
		}
		strlcpy(dst, val, BUNDLE_NAME_MAX);
		p->seen_kernel |= key[0] == 'k';
		check_file(p, key, val);
	} else if (!strcmp(key, "memory")) {
		if (!parse_size(val, &v) || v < VM_MIN_MEMORY ||
		    v > VM_MAX_MEMORY || !IS_ALIGNED(v, PAGE_SIZE)) {
			cfg_error(p, "bad memory size '%.40s' (expected 1M..64G in whole 4 KiB pages)",
				  val);
			return;
		}
		vm->memory = v;
	} else if (!strcmp(key, "memory_max")) {
		if (!parse_size(val, &v) || v < VM_MIN_MEMORY ||
		    v > VM_MAX_MEMORY || !IS_ALIGNED(v, PAGE_SIZE)) {
			cfg_error(p, "bad memory_max size '%s' (1M..64G, whole pages)",
				  val);
			return;
		}
		vm->memory_max = v;
	} else if (!strcmp(key, "cpus")) {
		if (!parse_u64(val, &v, &end) || *end || v < 1 ||
		    v > VM_MAX_CPUS) {
			cfg_error(p, "bad cpus '%.40s' (expected 1..%d)", val,
				  VM_MAX_CPUS);
			return;
		}
		vm->cpus = (unsigned int)v;
	} else if (!strcmp(key, "pin")) {
		parse_pin(p, val);
	} else if (!strcmp(key, "load")) {
		if (!parse_u64(val, &v, &end) || *end ||
		    !IS_ALIGNED(v, PAGE_SIZE)) {
			cfg_error(p, "bad load address '%.40s' (expected a 4 KiB aligned number)",
				  val);
			return;
		}
		vm->load_addr = v;
		vm->has_load_addr = true;
	} else if (!strcmp(key, "ve") || !strcmp(key, "disk_ro") ||
		   !strcmp(key, "rng") || !strcmp(key, "net") ||
		   !strcmp(key, "virtio_console") || !strcmp(key, "secure")) {
		bool *dst = key[0] == 'v' && key[1] == 'e' ? &vm->ve :
			    key[0] == 's' ? &vm->secure :
			    key[0] == 'd' ? &vm->disk_ro :
			    key[0] == 'r' ? &vm->rng :
			    key[0] == 'n' ? &vm->net : &vm->virtio_console;

		if (!strcmp(val, "on") || !strcmp(val, "yes")) {
			*dst = true;
		} else if (!strcmp(val, "off") || !strcmp(val, "no")) {
			*dst = false;
		} else {
			cfg_error(p, "bad %s '%.40s' (expected on or off)", key,
				  val);
			return;
		}
	} else if (!strcmp(key, "on_reset")) {
		if (!strcmp(val, "restart")) {
			vm->reset_stops = false;
		} else if (!strcmp(val, "stop")) {
			vm->reset_stops = true;
		} else {
			cfg_error(p, "bad on_reset '%.40s' (expected restart or stop)",
				  val);
			return;
		}
	} else {
		cfg_error(p, "unknown key '%s' (expected kernel, initrd, memory, memory_max, cpus, load, ve, on_reset, disk, disk_ro, rng, net, virtio_console, secure, pin or cmdline)",
			  key);
	}
}

/* Close the current section: keep it if it is complete and error-free. */
static void __end_section(struct cfg_parser *p, struct vm_config *vms,
			  unsigned int max, unsigned int *nr)
{
	p->lineno = p->cur.line;	/* errors below are about the header */
	if (!p->cur_bad && !p->seen_kernel) {
		cfg_error(p, "VM '%s' has no kernel (expected a 'kernel = FILE' line)",
			  p->cur.name);
	}
	if (!p->cur_bad && p->cur.disk_ro && !p->cur.disk[0]) {
		cfg_error(p, "VM '%s' has disk_ro but no disk (expected a 'disk = FILE' line)",
			  p->cur.name);
	}
	if (!p->cur_bad && p->cur.nr_pin > 1 &&
	    p->cur.nr_pin != p->cur.cpus) {
		cfg_error(p, "VM '%s' pins %u vCPUs but has %u (expected one CPU for all, or one per vCPU)",
			  p->cur.name, p->cur.nr_pin, p->cur.cpus);
	}
	/*
	 * A secure VM has one #VE information page, so one vCPU; and no
	 * virtio device: their rings would have to live in shared memory,
	 * which the devices do not know (docs/secure-module.md).
	 */
	if (!p->cur_bad && p->cur.secure && p->cur.cpus > 1) {
		cfg_error(p, "VM '%s' has secure = on and cpus = %u (a secure VM has one vCPU: expected cpus = 1)",
			  p->cur.name, p->cur.cpus);
	}
	if (!p->cur_bad && p->cur.secure &&
	    (p->cur.disk[0] || p->cur.rng || p->cur.net ||
	     p->cur.virtio_console)) {
		cfg_error(p, "VM '%s' has secure = on and a virtio device (%s): a secure VM has none (expected no disk, rng, net or virtio_console)",
			  p->cur.name, p->cur.disk[0] ? "disk" :
			  p->cur.rng ? "rng" : p->cur.net ? "net" :
			  "virtio_console");
	}
	for (unsigned int i = 0; i < *nr && !p->cur_bad; i++) {
		if (!strcmp(vms[i].name, p->cur.name)) {
			cfg_error(p, "VM '%s' is defined twice (first at line %u; expected unique names)",
				  p->cur.name, vms[i].line);
		}
	}
	if (!p->cur_bad && *nr == max) {
		cfg_error(p, "too many VMs (at most %u); '%s' skipped", max,
			  p->cur.name);
	}
	if (p->cur_bad) {
		pr_err("vm %s: never ran: %s\n", p->cur.name, p->reason);
		return;
	}
	/* A secure VM takes its MMIO as #VE (docs/secure-module.md). */
	p->cur.ve |= p->cur.secure;
	vms[(*nr)++] = p->cur;
}

static void end_section(struct cfg_parser *p, struct vm_config *vms,
			unsigned int max, unsigned int *nr)
{
	unsigned int lineno = p->lineno;

	if (!p->in_section) {
		return;
	}
	/* Still in the section: its errors are the VM's reason. */
	__end_section(p, vms, max, nr);
	p->in_section = false;
	p->lineno = lineno;
}

static void begin_section(struct cfg_parser *p)
{
	p->cur = (struct vm_config){ .memory = VM_DEFAULT_MEMORY, .cpus = 1,
				     .line = p->lineno };
	p->in_section = true;
	p->cur_bad = false;
	p->seen_kernel = false;
	p->sections++;
	memset(p->key_line, 0, sizeof(p->key_line));
	strlcpy(p->cur.name, "?", sizeof(p->cur.name));
}

static void start_section(struct cfg_parser *p, const char *s, const char *e)
{
	char name[VM_NAME_MAX + 8];

	begin_section(p);
	if (!copy_trimmed(s, e, name, sizeof(name)) ||
	    strncmp(name, "vm ", 3)) {
		cfg_error(p, "bad section header '[%.*s]' (expected [vm NAME])",
			  (int)MIN(e - s, 40), s);
		return;
	}
	if (!copy_trimmed(name + 3, name + strlen(name), p->cur.name,
			  VM_NAME_MAX) || !p->cur.name[0] ||
	    strchr(p->cur.name, ' ')) {
		strlcpy(p->cur.name, "?", sizeof(p->cur.name));
		cfg_error(p, "bad VM name in '[%.*s]' (expected 1-31 characters, no spaces)",
			  (int)MIN(e - s, 40), s);
	}
}

/* A key may be given once per section; true when this is its first time. */
static bool first_use(struct cfg_parser *p, const char *key)
{
	for (unsigned int i = 0; i < NR_KEYS; i++) {
		if (strcmp(key, key_names[i])) {
			continue;
		}
		if (p->key_line[i]) {
			cfg_error(p, "key '%s' given twice in [vm %s] (first at line %u; expected once)",
				  key, p->cur.name, p->key_line[i]);
			return false;
		}
		p->key_line[i] = p->lineno;
	}
	return true;
}

static void parse_line(struct cfg_parser *p, const char *s, const char *e)
{
	const char *eq, *hash;
	char key[16], val[VM_CMDLINE_MAX];

	while (s < e && is_space(*s)) {
		s++;
	}
	if (s == e || *s == '#') {
		return;
	}
	eq = memchr(s, '=', e - s);
	if (!p->in_section) {
		if (eq && copy_trimmed(s, eq, key, sizeof(key)) && key[0]) {
			cfg_error(p, "key '%s' before any [vm NAME] section (expected a [vm NAME] line first)",
				  key);
		} else {
			cfg_error(p, "text '%.*s' before any [vm NAME] section (expected a [vm NAME] line first)",
				  (int)MIN(e - s, 32), s);
		}
		return;
	}
	if (!eq || !copy_trimmed(s, eq, key, sizeof(key)) || !key[0]) {
		cfg_error(p, "'%.*s' is not KEY = VALUE (expected KEY = VALUE)",
			  (int)MIN(e - s, 32), s);
		return;
	}
	if (!first_use(p, key)) {
		return;
	}
	if (strcmp(key, "cmdline")) {
		/* comments end other values at a '#' after whitespace */
		for (hash = eq + 1; hash < e; hash++) {
			if (*hash == '#' && is_space(hash[-1])) {
				e = hash;
				break;
			}
		}
	}
	if (!copy_trimmed(eq + 1, e, val, sizeof(val))) {
		cfg_error(p, "value of '%s' is too long (expected at most %d characters)",
			  key, VM_CMDLINE_MAX - 1);
		return;
	}
	if (!strcmp(key, "cmdline")) {
		strlcpy(p->cur.cmdline, val, sizeof(p->cur.cmdline));
		return;
	}
	set_key(p, key, val);
}

unsigned int vm_config_parse(const char *text, size_t len, const char *file,
			     const struct bundle *b, struct vm_config *vms,
			     unsigned int max, struct cfg_result *res)
{
	struct cfg_parser p = { .file = file, .bundle = b };
	unsigned int nr = 0;
	size_t i = 0;

	while (i < len) {
		const char *s = text + i;
		const char *nl = memchr(s, '\n', len - i);
		const char *e = nl ? nl : text + len;
		const char *t = s;

		p.lineno++;
		i = (size_t)(e - text) + 1;
		if (memchr(s, '\0', e - s)) {
			cfg_error(&p, "NUL byte in the line (expected text)");
			continue;
		}
		while (t < e && is_space(*t)) {
			t++;
		}
		if (t < e && *t == '[') {
			const char *close = memchr(t, ']', e - t);

			end_section(&p, vms, max, &nr);
			if (!close) {
				begin_section(&p);
				cfg_error(&p, "unterminated section header (expected [vm NAME])");
				continue;
			}
			start_section(&p, t + 1, close);
			continue;
		}
		parse_line(&p, s, e);
	}
	end_section(&p, vms, max, &nr);
	if (!p.sections) {
		pr_err("%s: no [vm NAME] section (expected at least one VM)\n",
		       file);
		p.errors++;
	}
	res->errors = p.errors;
	res->sections = p.sections;
	return nr;
}
