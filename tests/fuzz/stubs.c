// SPDX-License-Identifier: LGPL-2.1-or-later
/* The daemon's log functions for fuzz targets: formatted (so format bugs still show) and
 * dropped. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_msg(int level, const struct log_fields *f, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return f && f->err > 0 ? -f->err : 0;
}

int log_errno(int level, int err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -err;
}
