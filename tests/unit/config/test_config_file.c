// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The shipped conf/pagemig.conf and conf/examples/: they parse without a single message, every
 * key of the table is documented with its default as "#key = default" (or set in the shipped
 * policy), no documented key is stale, and uncommenting every "#key = default" line gives the
 * same configuration as leaving them commented (the built-in defaults plus the shipped policy).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define SHIPPED PAGEMIG_CONF_DIR "/pagemig.conf"

static struct pagemig_config_diag diag;

static void dump_diag(void)
{
	char buf[PAGEMIG_CONFIG_MSG_MAX + 300];

	for (unsigned int i = 0; i < diag.n; i++) {
		pagemig_config_diag_format(&diag, i, buf, sizeof(buf));
		print_error("%s\n", buf);
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* One "key = value" line of the file, commented ("#key = value") or not. */
struct entry {
	char section[16]; /* "daemon", ..., "policy" */
	char type[16];	  /* the policy section's type */
	char key[64];
	char value[256];
	bool commented;
	unsigned int line;
};

/* "#key = value" with the '#' directly before the key; key of [a-z0-9_.]. */
static bool split_key_line(const char *text, char *key, size_t klen, char *value, size_t vlen)
{
	char s[512];
	const char *eq, *e;
	size_t n;

	/* only up to the end of the line */
	snprintf(s, sizeof(s), "%.*s", (int)strcspn(text, "\n"), text);
	eq = strchr(s, '=');
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.");

	if (!eq || n == 0 || n >= klen)
		return false;
	for (e = s + n; *e == ' '; e++)
		;
	if (e != eq)
		return false;
	snprintf(key, klen, "%.*s", (int)n, s);
	for (e = eq + 1; *e == ' '; e++)
		;
	snprintf(value, vlen, "%s", e);
	n = strlen(value);
	while (n && (value[n - 1] == ' ' || value[n - 1] == '\n'))
		value[--n] = 0;
	return true;
}

/* All key lines of text, with their sections (and for policies, the section's type). */
static size_t scan(char *text, struct entry *out, size_t max)
{
	char section[16] = "", *save = NULL;
	size_t n = 0, first_of_section = 0;
	unsigned int line = 0;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct entry e = {0};

		line++;
		if (l[0] == '[') {
			snprintf(section, sizeof(section), "%.*s", (int)strcspn(l + 1, " ]"),
				 l + 1);
			first_of_section = n;
			continue;
		}
		e.commented = l[0] == '#';
		if (!split_key_line(l + e.commented, e.key, sizeof(e.key), e.value,
				    sizeof(e.value)))
			continue;
		assert_true(n < max);
		snprintf(e.section, sizeof(e.section), "%s", section);
		e.line = line;
		out[n++] = e;
		if (!strcmp(section, "policy") && !e.commented && !strcmp(e.key, "type"))
			for (size_t i = first_of_section; i < n; i++)
				snprintf(out[i].type, sizeof(out[i].type), "%.15s", e.value);
	}
	/* strtok_r skips empty lines: the line numbers are only used for messages */
	return n;
}

static const struct pagemig_config_key *find_row(const char *section, const char *key)
{
	size_t n;
	const struct pagemig_config_key *k = pagemig_config_keys(&n);

	for (size_t i = 0; i < n; i++) {
		const char *lt = strchr(k[i].key, '<');

		if (strcmp(k[i].section, section))
			continue;
		if (lt ? !strncmp(key, k[i].key, (size_t)(lt - k[i].key)) : !strcmp(key, k[i].key))
			return &k[i];
	}
	return NULL;
}

static unsigned int type_bit(const char *type)
{
	static const char *const names[] = {"locality", "tiering", "pin", "ignore"};

	for (unsigned int t = 0; t < 4; t++)
		if (!strcmp(type, names[t]))
			return 1u << t;
	return 0;
}

static void test_shipped_parses(void **state)
{
	struct pagemig_config c, d;

	if (pagemig_config_load(SHIPPED, &c, &diag) != 0 || diag.n) {
		dump_diag();
		fail();
	}
	/* what an operator turns on: locality for large processes, enforced, rate-limited */
	assert_int_equal(c.mode, PAGEMIG_MODE_ENFORCE);
	assert_int_equal(c.n_rules, 1);
	assert_string_equal(c.rules[0].name, "default");
	assert_int_equal(c.rules[0].type, PAGEMIG_POLICY_LOCALITY);
	assert_int_equal(c.rules[0].match_min_rss, 256u << 20);
	assert_int_equal(c.rules[0].match_pid, 0);
	assert_string_equal(c.rules[0].match_comm, "");
	assert_true(c.rate_bytes_per_s > 0 && c.rate_bytes_per_s <= (64u << 20));
	assert_false(c.move_shared);
	assert_true(c.verify);
	assert_true(c.cooldown_ms >= 10000);

	/* everything else is the built-in default */
	pagemig_config_init(&d);
	d.rules = c.rules;
	d.n_rules = c.n_rules;
	assert_true(pagemig_config_equal(&c, &d));
	pagemig_config_free(&c);
}

static void test_every_key_documented(void **state)
{
	size_t n, len, count;
	const struct pagemig_config_key *k = pagemig_config_keys(&n);
	char *text = slurp(SHIPPED, &len);
	struct entry *e = calloc(512, sizeof(*e));

	assert_non_null(e);
	count = scan(text, e, 512);
	for (size_t i = 0; i < n; i++) {
		const char *lt = strchr(k[i].key, '<');
		bool found = false;

		for (size_t j = 0; j < count && !found; j++) {
			if (strcmp(e[j].section, k[i].section))
				continue;
			if (lt ? strncmp(e[j].key, k[i].key, (size_t)(lt - k[i].key))
			       : strcmp(e[j].key, k[i].key))
				continue;
			/* commented with its default, or set in the shipped policy */
			found = e[j].commented ? !strcmp(e[j].value, k[i].def)
					       : !strcmp(k[i].section, "policy");
		}
		if (!found) {
			print_error("[%s] %s is not documented as '#%s = %s' in %s\n", k[i].section,
				    k[i].key, k[i].key, k[i].def, SHIPPED);
			fail();
		}
	}
	/* and nothing documented that the parser does not know */
	for (size_t j = 0; j < count; j++)
		if (!find_row(e[j].section, e[j].key)) {
			print_error("%s:%u: '%s' is not a key of [%s]\n", SHIPPED, e[j].line,
				    e[j].key, e[j].section);
			fail();
		}
	free(e);
	free(text);
}

/* The file with every "#key = default" line uncommented where the key is valid: in its section
 * and, in a policy section, for the policy's type. */
static char *uncommented(const char *path, size_t *ret_len, unsigned int *ret_count)
{
	size_t len, at = 0;
	char *text = slurp(path, &len), *out = malloc(len + 1);
	char types[64][16] = {{0}}, section[16] = "";
	unsigned int changed = 0;
	int ordinal = -1;

	assert_non_null(out);
	/* pass 1: the type of every section (by ordinal) */
	for (char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n')) {
		char key[64], value[256];

		if (l[0] == '[')
			ordinal++;
		else if (ordinal >= 0 && ordinal < 64 &&
			 split_key_line(l, key, sizeof(key), value, sizeof(value)) &&
			 !strcmp(key, "type"))
			snprintf(types[ordinal], sizeof(types[ordinal]), "%.15s", value);
	}
	/* pass 2: copy, dropping the '#' of default lines */
	ordinal = -1;
	for (char *l = text; *l;) {
		size_t ll = strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n');
		char key[64], value[256];
		bool drop = false;

		if (l[0] == '[') {
			ordinal++;
			snprintf(section, sizeof(section), "%.*s", (int)strcspn(l + 1, " ]"),
				 l + 1);
		} else if (l[0] == '#' &&
			   split_key_line(l + 1, key, sizeof(key), value, sizeof(value))) {
			const struct pagemig_config_key *k = find_row(section, key);

			drop = k && !strcmp(value, k->def) &&
			       (strcmp(section, "policy") ||
				(ordinal < 64 && (k->policy_types & type_bit(types[ordinal]))));
		}
		memcpy(out + at, l + drop, ll - drop);
		at += ll - drop;
		changed += drop;
		l += ll;
	}
	out[at] = 0;
	free(text);
	*ret_len = at;
	*ret_count = changed;
	return out;
}

static void test_uncommented_is_the_same(void **state)
{
	struct pagemig_config shipped, all;
	unsigned int changed;
	size_t len, n, globals = 0;
	const struct pagemig_config_key *k = pagemig_config_keys(&n);
	char *text = uncommented(SHIPPED, &len, &changed);

	for (size_t i = 0; i < n; i++)
		globals += strcmp(k[i].section, "policy") != 0;
	/* every global key, and the policy's applicable ones, were uncommented */
	assert_true(changed >= globals + 4);

	assert_int_equal(pagemig_config_load(SHIPPED, &shipped, &diag), 0);
	if (pagemig_config_parse(text, len, "uncommented", &all, &diag) != 0 || diag.n) {
		dump_diag();
		print_error("%s", text);
		fail();
	}
	assert_true(pagemig_config_equal(&shipped, &all));
	pagemig_config_free(&shipped);
	pagemig_config_free(&all);
	free(text);
}

static void test_examples(void **state)
{
	DIR *d = opendir(PAGEMIG_CONF_DIR "/examples");
	struct dirent *de;
	unsigned int files = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[512], *text;
		struct pagemig_config c, back;
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		snprintf(path, sizeof(path), "%s/examples/%s", PAGEMIG_CONF_DIR, de->d_name);
		if (pagemig_config_load(path, &c, &diag) != 0 || diag.n) {
			dump_diag();
			fail();
		}
		assert_true(c.n_rules >= 1);
		text = pagemig_config_render(&c, 0);
		assert_int_equal(pagemig_config_parse(text, strlen(text), path, &back, &diag), 0);
		assert_true(pagemig_config_equal(&c, &back));
		free(text);
		pagemig_config_free(&back);
		pagemig_config_free(&c);
		files++;
	}
	closedir(d);
	assert_true(files >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_parses),
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_uncommented_is_the_same),
		cmocka_unit_test(test_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
