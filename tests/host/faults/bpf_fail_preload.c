// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * LD_PRELOAD fault injector for host tests: bpf(BPF_PROG_LOAD) of the programs named in
 * PAGEMIG_TEST_FAIL_BPF (comma-separated, as the kernel knows them: at most 15 characters of the
 * function name, e.g. "on_switch") fails with EINVAL, as if the verifier had refused them.
 * libbpf makes its bpf(2) calls through syscall(3), which this library interposes; every other
 * call goes through unchanged. For tests only: never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

long syscall(long number, ...);

static int should_fail(const union bpf_attr *attr)
{
	const char *list = getenv("PAGEMIG_TEST_FAIL_BPF");
	char name[BPF_OBJ_NAME_LEN + 1];
	size_t n;

	if (!list || !attr)
		return 0;
	memcpy(name, attr->prog_name, BPF_OBJ_NAME_LEN);
	name[BPF_OBJ_NAME_LEN] = 0;
	n = strlen(name);
	if (!n)
		return 0;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && !memcmp(p, name, n)) {
			fprintf(stderr, "bpf_fail_preload: failing BPF_PROG_LOAD of '%s'\n", name);
			return 1;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

long syscall(long number, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == __NR_bpf && a[0] == BPF_PROG_LOAD &&
	    should_fail((const union bpf_attr *)a[1])) {
		errno = EINVAL;
		return -1;
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
