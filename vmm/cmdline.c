// SPDX-License-Identifier: MIT
/* Parser of the hypervisor command line; see include/vmm/cmdline.h. */
#include <lib/printk.h>
#include <lib/string.h>
#include <vmm/cmdline.h>

#define WORD_MAX	128

static bool word_is(const char *key, size_t klen, const char *want)
{
	return klen == strlen(want) && !strncmp(key, want, klen);
}

static int parse_level(const char *v)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(v, names[i])) {
			return (int)i;
		}
	}
	if (v[0] >= '0' && v[0] <= '3' && v[1] == '\0') {
		return v[0] - '0';
	}
	return -1;
}

static bool apply_word(const char *w, size_t len, struct hv_options *o)
{
	const char *eq = memchr(w, '=', len);
	char val[CMDLINE_VALUE_MAX];
	size_t klen, vlen;

	if (!eq) {
		return false;
	}
	klen = (size_t)(eq - w);
	vlen = len - klen - 1;
	/* Architecture words (x86_fault=...) belong to the arch code. */
	if ((klen > 4 && !memcmp(w, "x86_", 4)) ||
	    (klen > 6 && !memcmp(w, "arm64_", 6))) {
		return true;
	}
	if (vlen == 0 || vlen >= sizeof(val)) {
		return false;
	}
	memcpy(val, eq + 1, vlen);
	val[vlen] = '\0';

	if (word_is(w, klen, "loglevel")) {
		int lvl = parse_level(val);

		if (lvl < 0) {
			return false;
		}
		o->loglevel = lvl;
	} else if (word_is(w, klen, "audit")) {
		if (strcmp(val, "on") && strcmp(val, "off")) {
			return false;
		}
		o->audit = !strcmp(val, "on");
	} else if (word_is(w, klen, "cpus")) {
		unsigned int n = 0;

		for (const char *c = val; *c; c++) {
			if (*c < '0' || *c > '9' || n > 1000) {
				return false;
			}
			n = n * 10 + (unsigned int)(*c - '0');
		}
		if (!n) {
			return false;	/* at least the boot CPU */
		}
		o->max_cpus = n;
	} else if (word_is(w, klen, "config")) {
		strlcpy(o->config, val, sizeof(o->config));
	} else if (word_is(w, klen, "selftest")) {
		if (!strcmp(val, "fault")) {
			o->selftest_fault = true;
		} else if (!strcmp(val, "s2")) {
			o->selftest_s2 = true;
		} else {
			return false;
		}
	} else {
		return false;
	}
	return true;
}

unsigned int hv_parse_cmdline(const char *s, struct hv_options *o)
{
	*o = (struct hv_options){
		.loglevel = LOG_INFO,
#ifdef CONFIG_MMU_AUDIT
		.audit = true,
#endif
	};
	strlcpy(o->config, "strata.cfg", sizeof(o->config));

	while (s && *s) {
		size_t len = 0;

		while (*s == ' ' || *s == '\t') {
			s++;
		}
		while (s[len] && s[len] != ' ' && s[len] != '\t') {
			len++;
		}
		if (!len) {
			break;
		}
		if (!apply_word(s, len, o)) {
			pr_warn("command line: ignoring '%.*s'\n",
				(int)MIN(len, (size_t)WORD_MAX), s);
			o->nr_errors++;
		}
		s += len;
	}
	return o->nr_errors;
}
