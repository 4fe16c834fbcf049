// SPDX-License-Identifier: MIT
/* Parser of strata.cfg, the VM configuration; format in include/vmm/bundle.h. */
#include <lib/errno.h>
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/bundle.h>

struct cfg_parser {
	const char *file;
	const struct bundle *bundle;
	unsigned int lineno;
	unsigned int errors;
	struct vm_config cur;
	bool in_section;
	bool cur_bad;
	bool seen_kernel;
};

static void cfg_error(struct cfg_parser *p, const char *fmt, const char *arg)
{
	char msg[160];

	ksnprintf(msg, sizeof(msg), fmt, arg);
	pr_err("%s:%u: %s\n", p->file, p->lineno, msg);
	p->errors++;
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

static void check_file(struct cfg_parser *p, const char *name)
{
	if (p->bundle && !bundle_find(p->bundle, name)) {
		cfg_error(p, "file '%s' is not in the bundle", name);
	}
}

static void set_key(struct cfg_parser *p, const char *key, const char *val)
{
	struct vm_config *vm = &p->cur;
	uint64_t v;
	const char *end;

	if (!strcmp(key, "kernel") || !strcmp(key, "initrd")) {
		char *dst = key[0] == 'k' ? vm->kernel : vm->initrd;

		if (!*val || strlen(val) >= BUNDLE_NAME_MAX) {
			cfg_error(p, "bad file name for '%s'", key);
			return;
		}
		strlcpy(dst, val, BUNDLE_NAME_MAX);
		p->seen_kernel |= key[0] == 'k';
		check_file(p, val);
	} else if (!strcmp(key, "memory")) {
		if (!parse_size(val, &v) || v < VM_MIN_MEMORY ||
		    v > VM_MAX_MEMORY || !IS_ALIGNED(v, PAGE_SIZE)) {
			cfg_error(p, "bad memory size '%s' (1M..64G, whole pages)",
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
			cfg_error(p, "bad cpus '%s' (1..8)", val);
			return;
		}
		vm->cpus = (unsigned int)v;
	} else if (!strcmp(key, "load")) {
		if (!parse_u64(val, &v, &end) || *end ||
		    !IS_ALIGNED(v, PAGE_SIZE)) {
			cfg_error(p, "bad load address '%s' (page aligned)", val);
			return;
		}
		vm->load_addr = v;
		vm->has_load_addr = true;
	} else if (!strcmp(key, "ve")) {
		if (!strcmp(val, "on") || !strcmp(val, "yes")) {
			vm->ve = true;
		} else if (!strcmp(val, "off") || !strcmp(val, "no")) {
			vm->ve = false;
		} else {
			cfg_error(p, "bad ve '%s' (on or off)", val);
			return;
		}
	} else {
		cfg_error(p, "unknown key '%s'", key);
	}
}

/* Close the current section: keep it if it is complete and error-free. */
static void __end_section(struct cfg_parser *p, struct vm_config *vms,
			  unsigned int max, unsigned int *nr)
{
	p->lineno = p->cur.line;	/* errors below are about the header */
	if (!p->cur_bad && !p->seen_kernel) {
		cfg_error(p, "VM '%s' has no kernel", p->cur.name);
	}
	for (unsigned int i = 0; i < *nr && !p->cur_bad; i++) {
		if (!strcmp(vms[i].name, p->cur.name)) {
			cfg_error(p, "VM '%s' is defined twice", p->cur.name);
		}
	}
	if (p->cur_bad) {
		pr_err("%s:%u: VM '%s' skipped\n", p->file, p->cur.line,
		       p->cur.name);
		return;
	}
	if (*nr == max) {
		cfg_error(p, "too many VMs; '%s' skipped", p->cur.name);
		return;
	}
	vms[(*nr)++] = p->cur;
}

static void end_section(struct cfg_parser *p, struct vm_config *vms,
			unsigned int max, unsigned int *nr)
{
	unsigned int lineno = p->lineno;

	if (!p->in_section) {
		return;
	}
	p->in_section = false;
	__end_section(p, vms, max, nr);
	p->lineno = lineno;
}

static void start_section(struct cfg_parser *p, const char *s, const char *e)
{
	char name[VM_NAME_MAX + 8];

	p->cur = (struct vm_config){ .memory = VM_DEFAULT_MEMORY, .cpus = 1,
				     .line = p->lineno };
	p->in_section = true;
	p->cur_bad = false;
	p->seen_kernel = false;
	if (!copy_trimmed(s, e, name, sizeof(name)) ||
	    strncmp(name, "vm ", 3)) {
		strlcpy(p->cur.name, "?", sizeof(p->cur.name));
		cfg_error(p, "bad section header%s (want [vm NAME])", "");
		return;
	}
	if (!copy_trimmed(name + 3, name + strlen(name), p->cur.name,
			  VM_NAME_MAX) || !p->cur.name[0] ||
	    strchr(p->cur.name, ' ')) {
		strlcpy(p->cur.name, "?", sizeof(p->cur.name));
		cfg_error(p, "bad VM name%s (1-31 characters, no spaces)", "");
	}
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
	if (!p->in_section) {
		cfg_error(p, "'%s' outside a [vm NAME] section", "text");
		return;
	}
	eq = memchr(s, '=', e - s);
	if (!eq || !copy_trimmed(s, eq, key, sizeof(key)) || !key[0]) {
		cfg_error(p, "expected KEY = VALUE%s", "");
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
		cfg_error(p, "value of '%s' is too long", key);
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
			     unsigned int max, unsigned int *errors)
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
			cfg_error(&p, "NUL byte in line%s", "");
			continue;
		}
		while (t < e && is_space(*t)) {
			t++;
		}
		if (t < e && *t == '[') {
			const char *close = memchr(t, ']', e - t);

			end_section(&p, vms, max, &nr);
			if (!close) {
				p.in_section = true;
				p.cur = (struct vm_config){ .line = p.lineno };
				strlcpy(p.cur.name, "?", sizeof(p.cur.name));
				cfg_error(&p, "unterminated section header%s",
					  "");
				continue;
			}
			start_section(&p, t + 1, close);
			continue;
		}
		parse_line(&p, s, e);
	}
	end_section(&p, vms, max, &nr);
	if (!nr && !p.errors) {
		p.lineno = 0;
		pr_err("%s: no [vm NAME] section\n", file);
		p.errors++;
	}
	*errors = p.errors;
	return nr;
}
