// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A deterministic mutation smoke test: the shipped configuration with random bytes replaced,
 * inserted and deleted (NUL, CR, brackets, quotes, digits, units, anything). Every parse must
 * end in success or -EINVAL with at least one error, every message must carry a line of the
 * text, and every configuration that parses must survive a render round trip. Run it under
 * -DPAGEMIG_SANITIZE=ON to have ASan and UBSan watch the parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define ITERATIONS 20000

static struct pagemig_config_diag diag;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char random_byte(void)
{
	static const char interesting[] =
		"\0\r\n\n\n[]=#;\" \t,-%/.0123456789abcdefghiklmnoprstuvxy"
		"KMGTBiS_";

	if (next() % 8 == 0)
		return (char)(next() & 0xff);
	return interesting[next() % (sizeof(interesting) - 1)];
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void test_mutations(void **state)
{
	static const char extra[] =
		"[policy tier]\ncomm = \"a b\"\ntype = tiering\ncold_score = 0.5\n"
		"[policy pin]\nnodes = 0-3,7\ntarget = 2\ntype = pin\n";
	struct pagemig_config c0;
	size_t base_len, cap;
	char *wm, *file = slurp(PAGEMIG_CONF_DIR "/pagemig.conf", &base_len), *base, *buf;
	unsigned int ok = 0, bad = 0;

	cap = base_len + sizeof(extra) + 64 + 1;
	base = malloc(cap);
	buf = malloc(cap);
	assert_non_null(base);
	assert_non_null(buf);
	memcpy(base, file, base_len);
	memcpy(base + base_len, extra, sizeof(extra) - 1);
	base_len += sizeof(extra) - 1;
	base[base_len] = 0;
	/* one per-node watermark set (same length as the commented line it replaces) */
	wm = strstr(base, "#watermark.node0 =\n");
	assert_non_null(wm);
	memcpy(wm, "watermark.node3=7%\n", 19);
	assert_int_equal(pagemig_config_parse(base, base_len, "base", &c0, &diag), 0);
	assert_int_equal(diag.n, 0);
	assert_int_equal(c0.n_rules, 3);
	assert_int_equal(c0.watermark_nodes, 1u << 3);
	pagemig_config_free(&c0);

	for (int it = 0; it < ITERATIONS; it++) {
		size_t len = base_len, lines = 1;
		struct pagemig_config c, back;
		int mutations = 1 + (int)(next() % 4), r;

		memcpy(buf, base, len);
		for (int m = 0; m < mutations; m++) {
			size_t pos = next() % len, span;

			switch (next() % 3) {
			case 0: /* replace */
				buf[pos] = random_byte();
				break;
			case 1: /* insert */
				if (len + 1 < cap) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = random_byte();
					len++;
				}
				break;
			default: /* delete */
				span = 1 + next() % 16;
				if (pos + span > len)
					span = len - pos;
				memmove(buf + pos, buf + pos + span, len - pos - span);
				len -= span;
				break;
			}
			if (!len)
				break;
		}
		for (size_t i = 0; i < len; i++)
			lines += buf[i] == '\n';

		r = pagemig_config_parse(buf, len, "m.conf", &c, &diag);
		assert_true(r == 0 || r == -EINVAL);
		for (unsigned int i = 0; i < diag.n; i++) {
			assert_true(diag.msg[i].line >= 1 && diag.msg[i].line <= lines);
			assert_true(diag.msg[i].text[0]);
			if (i)
				assert_true(diag.msg[i - 1].line <= diag.msg[i].line);
		}
		if (r) {
			assert_true(diag.errors >= 1);
			bad++;
			continue;
		}
		assert_int_equal(diag.errors, 0);
		ok++;
		{
			char *text = pagemig_config_render(&c, 0);

			assert_non_null(text);
			assert_int_equal(
				pagemig_config_parse(text, strlen(text), "r", &back, &diag), 0);
			assert_true(pagemig_config_equal(&c, &back));
			free(text);
		}
		pagemig_config_free(&back);
		pagemig_config_free(&c);
	}
	/* both outcomes must have been exercised */
	assert_true(ok > ITERATIONS / 20);
	assert_true(bad > ITERATIONS / 20);
	free(file);
	free(base);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
