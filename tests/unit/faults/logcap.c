// SPDX-License-Identifier: LGPL-2.1-or-later
/* The daemon's log functions for unit tests: every message is kept (the last 256) so that tests
 * can check that a fault was reported. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "logcap.h"

static char msgs[256][1024];
static int levels[256];
static unsigned int n_msgs;

static void keep(int level, const char *fmt, va_list ap)
{
	unsigned int i = n_msgs++ % 256;

	vsnprintf(msgs[i], sizeof(msgs[i]), fmt, ap);
	levels[i] = level;
	if (getenv_verbose())
		fprintf(stderr, "log %d: %s\n", level, msgs[i]);
}

int log_msg(int level, const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep(level, fmt, ap);
	va_end(ap);
	return f && f->err > 0 ? -f->err : 0;
}

int log_errno(int level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep(level, fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}

void logcap_clear(void)
{
	n_msgs = 0;
}

unsigned int logcap_count(const char *needle, int max_level)
{
	unsigned int hits = 0;

	for (unsigned int i = 0; i < n_msgs && i < 256; i++)
		if (levels[i] <= max_level && strstr(msgs[i], needle))
			hits++;
	return hits;
}
