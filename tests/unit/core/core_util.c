// SPDX-License-Identifier: MIT
/* Helpers shared by the stage-2 core's host tests. */
#include <string.h>

#include "core_util.h"

int core_setup(struct s2pt *pt, unsigned int ia_bits, unsigned int flags)
{
	host_alloc_reset();
	host_flush_observer = NULL;
	host_pte_write_observer = NULL;
	host_table_free_observer = NULL;
	host_cmo_observer = NULL;
	return s2pt_init(pt, ia_bits, flags, 1);
}

bool core_teardown(struct s2pt *pt)
{
	unsigned long before = host_alloc_live;
	unsigned int roots = pt->fmt.root_pages;
	uint64_t tables = pt->counters.tables_in_use;
	bool ok = pt->audit_failures == 0;

	s2pt_destroy(pt);
	return ok && host_alloc_live + roots + tables == before &&
	       pt->counters.tables_in_use == 0;
}

struct dump_buf {
	char *s;
	size_t len;
};

static void dump_line(void *arg, const char *line)
{
	struct dump_buf *b = arg;
	size_t n = strlen(line);

	b->s = realloc(b->s, b->len + n + 2);
	memcpy(b->s + b->len, line, n);
	b->len += n;
	b->s[b->len++] = '\n';
	b->s[b->len] = '\0';
}

char *core_dump(const struct s2pt *pt)
{
	struct dump_buf b = { NULL, 0 };

	s2pt_dump(pt, dump_line, &b);
	return b.s;
}

unsigned int core_events(enum host_event_kind kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < host_nr_events; i++) {
		n += host_events[i].kind == kind;
	}
	return n;
}

int core_first_event(enum host_event_kind kind)
{
	for (unsigned int i = 0; i < host_nr_events; i++) {
		if (host_events[i].kind == kind) {
			return (int)i;
		}
	}
	return -1;
}

int core_last_event(enum host_event_kind kind)
{
	for (int i = (int)host_nr_events - 1; i >= 0; i--) {
		if (host_events[i].kind == kind) {
			return i;
		}
	}
	return -1;
}
