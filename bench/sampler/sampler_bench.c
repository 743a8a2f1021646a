// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "sampler_bench.h"

static const char *prog = "bench";
static bool failed;

static int warnings_only(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

void sampler_bench_init(const char *name)
{
	prog = name;
	libbpf_set_print(warnings_only);
}

void sampler_bench_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed = true;
}

bool sampler_bench_failed(void)
{
	return failed;
}
