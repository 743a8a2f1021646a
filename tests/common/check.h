/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tiny harness for host and lab tests: programs that call the real kernel. Each test is a
 * function; CHECK() records a failure with file:line and the expression, and main() runs the
 * tests and exits 0 (all passed), 77 (skipped) or 1.
 */
#ifndef PAGEMIG_TEST_CHECK_H
#define PAGEMIG_TEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_SKIP 77

static int check_failures;

#define CHECK(expr)                                                                              \
	do {                                                                                     \
		if (!(expr)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
			check_failures++;                                                        \
		}                                                                                \
	} while (0)

/* CHECK that two integers are equal, printing both. */
#define CHECK_EQ(a, b)                                                                    \
	do {                                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);                       \
		if (a_ != b_) {                                                           \
			fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);                      \
			check_failures++;                                                 \
		}                                                                         \
	} while (0)

/* Stop the whole program with "skipped" and a reason. */
#define SKIP_ALL(...)                                  \
	do {                                           \
		fprintf(stdout, "SKIP: " __VA_ARGS__); \
		fputc('\n', stdout);                   \
		exit(EXIT_SKIP);                       \
	} while (0)

struct check_test {
	const char *name;
	void (*fn)(void);
};

/* Run tests in order; a test that fails does not stop the others. */
static inline int check_run(const struct check_test *tests, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		int before = check_failures;

		tests[i].fn();
		printf("%s %s\n", check_failures == before ? "ok  " : "FAIL", tests[i].name);
		fflush(stdout);
		failed += check_failures != before;
	}
	printf("%zu passed, %d failed\n", n - (size_t)failed, failed);
	return failed ? 1 : 0;
}

/* Run a shell command and keep what it prints on stdout in buf (NUL-terminated, cut at len - 1
 * bytes); returns its exit status, 128 when it did not exit, -1 when it could not be run. */
static inline int check_capture(const char *cmd, char *buf, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int ws;

	buf[0] = 0;
	if (!p)
		return -1;
	while (n + 1 < len && !feof(p)) {
		size_t r = fread(buf + n, 1, len - 1 - n, p);

		if (!r)
			break;
		n += r;
	}
	buf[n] = 0;
	ws = pclose(p);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
}

#define CHECK_TEST(fn)  \
	{               \
#fn, fn \
	}

#endif
