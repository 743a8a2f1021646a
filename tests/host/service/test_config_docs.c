// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every key the configuration parser knows (pagemig_config_keys()) is documented in both
 * conf/pagemig.conf (the installed file) and man/pagemig.conf.5, in the right section and with
 * the parser's default; neither documents a key the parser does not know; and the shipped file
 * parses without an error or a warning.
 *
 * Usage: test_config_docs CONF MANPAGE
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"

static const char *conf_path, *man_path;

/* ---- reading ------------------------------------------------------------------------------- */

struct lines {
	char **line;
	size_t n;
};

static struct lines read_lines(const char *path)
{
	struct lines l = {0};
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((len = getline(&buf, &cap, f)) >= 0) {
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = 0;
		l.line = realloc(l.line, (l.n + 1) * sizeof(*l.line));
		if (!l.line)
			abort();
		l.line[l.n++] = strdup(buf);
	}
	free(buf);
	fclose(f);
	return l;
}

static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return s;
}

/* Does name (as written in a file) stand for key k? "watermark.node2" stands for the family
 * "watermark.node<N>", and so does the family's own spelling. */
static bool names_key(const char *name, const struct pagemig_config_key *k)
{
	const char *lt = strchr(k->key, '<');
	size_t plen;

	if (!lt)
		return !strcmp(name, k->key);
	if (!strcmp(name, k->key))
		return true;
	plen = (size_t)(lt - k->key);
	if (strncmp(name, k->key, plen) || !name[plen])
		return false;
	for (const char *p = name + plen; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

static const struct pagemig_config_key *lookup(const char *section, const char *name)
{
	size_t n;
	const struct pagemig_config_key *keys = pagemig_config_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].section, section) && names_key(name, &keys[i]))
			return &keys[i];
	return NULL;
}

/* ---- conf/pagemig.conf --------------------------------------------------------------------- */

/* One `key = value` line of the file, commented out or not. */
struct conf_entry {
	char section[32]; /* "daemon", ...; "policy" for every [policy NAME] */
	char key[64];
	char value[256];
	bool commented;
	unsigned int line;
};

static struct conf_entry *conf_entries(size_t *count)
{
	struct lines l = read_lines(conf_path);
	struct conf_entry *e = NULL;
	char section[32] = "";
	size_t n = 0;

	for (size_t i = 0; i < l.n; i++) {
		char *s = trim(l.line[i]), *eq, *name;
		bool commented = false;

		if (*s == '#' || *s == ';') {
			commented = true;
			s = trim(s + 1);
		}
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end && !strncmp(s, "[policy ", 8))
				snprintf(section, sizeof(section), "policy");
			else if (end && end[1] == 0 && !commented)
				snprintf(section, sizeof(section), "%.*s", (int)(end - s - 1),
					 s + 1);
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = 0;
		name = trim(s);
		/* a key: letters, digits, '_', '.', nothing else (prose has blanks or commas) */
		if (!*name ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(name))
			continue;
		e = realloc(e, (n + 1) * sizeof(*e));
		if (!e)
			abort();
		snprintf(e[n].section, sizeof(e[n].section), "%s", section);
		snprintf(e[n].key, sizeof(e[n].key), "%s", name);
		snprintf(e[n].value, sizeof(e[n].value), "%s", trim(eq + 1));
		e[n].commented = commented;
		e[n].line = (unsigned int)i + 1;
		n++;
	}
	free_lines(&l);
	*count = n;
	return e;
}

static void test_conf_documents_every_key(void)
{
	size_t nk, ne;
	const struct pagemig_config_key *keys = pagemig_config_keys(&nk);
	struct conf_entry *e = conf_entries(&ne);

	for (size_t i = 0; i < nk; i++) {
		const struct pagemig_config_key *k = &keys[i];
		bool found = false;

		for (size_t j = 0; j < ne && !found; j++) {
			if (strcmp(e[j].section, k->section) || !names_key(e[j].key, k))
				continue;
			found = true;
			/* a commented-out setting shows the default (families: any example value)
			 */
			if (e[j].commented && !strchr(k->key, '<') && strcmp(e[j].value, k->def)) {
				fprintf(stderr,
					"%s:%u: '#%s = %s' but the parser's default of [%s] %s is "
					"'%s'\n",
					conf_path, e[j].line, e[j].key, e[j].value, k->section,
					k->key, k->def);
				check_failures++;
			}
		}
		if (!found) {
			fprintf(stderr, "%s: [%s] %s is not documented (add '#%s = %s')\n",
				conf_path, k->section, k->key, k->key, k->def);
			check_failures++;
		}
	}
	printf("%s: %zu settings checked against %zu keys\n", conf_path, ne, nk);
	free(e);
}

static void test_conf_documents_no_unknown_key(void)
{
	size_t ne;
	struct conf_entry *e = conf_entries(&ne);

	for (size_t j = 0; j < ne; j++) {
		if (!lookup(e[j].section, e[j].key)) {
			fprintf(stderr, "%s:%u: '%s' is not a key of [%s] that the parser knows\n",
				conf_path, e[j].line, e[j].key, e[j].section);
			check_failures++;
		}
	}
	free(e);
}

static void test_conf_parses_cleanly(void)
{
	struct pagemig_config_diag *diag = malloc(sizeof(*diag));
	struct pagemig_config cfg;
	int err;

	CHECK(diag != NULL);
	if (!diag)
		return;
	err = pagemig_config_load(conf_path, &cfg, diag);
	if (err || diag->errors || diag->warnings)
		pagemig_config_diag_print(stderr, diag);
	CHECK_EQ(err, 0);
	CHECK_EQ(diag->errors, 0);
	CHECK_EQ(diag->warnings, 0);
	if (!err)
		pagemig_config_free(&cfg);
	free(diag);
}

/* ---- man/pagemig.conf.5 -------------------------------------------------------------------- */

/* One ".It Cm KEY No = Ar kind" of the KEYS section and the default that follows it. */
struct man_entry {
	char section[32];
	char key[64];
	char def[256]; /* "" for "Default: unset." */
	unsigned int line;
};

static struct man_entry *man_entries(size_t *count)
{
	struct lines l = read_lines(man_path);
	struct man_entry *e = NULL;
	char section[32] = "";
	bool in_keys = false;
	size_t n = 0;

	for (size_t i = 0; i < l.n; i++) {
		const char *s = l.line[i];

		if (!strncmp(s, ".Sh ", 4)) {
			in_keys = !strcmp(s, ".Sh KEYS");
			continue;
		}
		if (!in_keys)
			continue;
		if (!strncmp(s, ".Ss [", 5)) {
			size_t len = strcspn(s + 5, " ]");

			snprintf(section, sizeof(section), "%.*s", (int)len, s + 5);
		} else if (!strncmp(s, ".It Cm ", 7)) {
			char key[64];
			const char *p = s + 7, *ns = strstr(p, " Ns Ar ");

			if (ns && ns < strstr(p, " No = ")) {
				/* family: ".It Cm watermark.node Ns Ar N No = ..." */
				const char *arg = ns + 7;
				snprintf(key, sizeof(key), "%.*s<%.*s>", (int)(ns - p), p,
					 (int)strcspn(arg, " "), arg);
			} else {
				snprintf(key, sizeof(key), "%.*s", (int)strcspn(p, " "), p);
			}
			e = realloc(e, (n + 1) * sizeof(*e));
			if (!e)
				abort();
			snprintf(e[n].section, sizeof(e[n].section), "%s", section);
			snprintf(e[n].key, sizeof(e[n].key), "%s", key);
			e[n].def[0] = 0;
			e[n].line = (unsigned int)i + 1;
			n++;
		} else if (n && !strncmp(s, ".Ql ", 4) && i > 0 &&
			   !strcmp(l.line[i - 1], "Default:")) {
			/* ".Ql 5s ." or ".Ql \"a b\" ." */
			const char *v = s + 4;
			size_t len = strlen(v);

			if (len >= 2 && !strcmp(v + len - 2, " ."))
				len -= 2;
			if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
				v++, len -= 2;
			snprintf(e[n - 1].def, sizeof(e[n - 1].def), "%.*s", (int)len, v);
		}
	}
	free_lines(&l);
	*count = n;
	return e;
}

static void test_man_documents_every_key(void)
{
	size_t nk, ne;
	const struct pagemig_config_key *keys = pagemig_config_keys(&nk);
	struct man_entry *e = man_entries(&ne);

	for (size_t i = 0; i < nk; i++) {
		const struct pagemig_config_key *k = &keys[i];
		bool found = false;

		for (size_t j = 0; j < ne && !found; j++) {
			if (strcmp(e[j].section, k->section) || strcmp(e[j].key, k->key))
				continue;
			found = true;
			if (strcmp(e[j].def, k->def)) {
				fprintf(stderr,
					"%s:%u: [%s] %s: default '%s', the parser's is '%s'\n",
					man_path, e[j].line, k->section, k->key, e[j].def, k->def);
				check_failures++;
			}
		}
		if (!found) {
			fprintf(stderr, "%s: [%s] %s is not documented\n", man_path, k->section,
				k->key);
			check_failures++;
		}
	}
	for (size_t j = 0; j < ne; j++) {
		if (!lookup(e[j].section, e[j].key)) {
			fprintf(stderr,
				"%s:%u: documents [%s] %s, which the parser does not know\n",
				man_path, e[j].line, e[j].section, e[j].key);
			check_failures++;
		}
	}
	printf("%s: %zu keys documented, %zu in the table\n", man_path, ne, nk);
	free(e);
}

int main(int argc, char **argv)
{
	static const struct check_test tests[] = {
		{"conf_documents_every_key", test_conf_documents_every_key},
		{"conf_documents_no_unknown_key", test_conf_documents_no_unknown_key},
		{"conf_parses_cleanly", test_conf_parses_cleanly},
		{"man_documents_every_key", test_man_documents_every_key},
	};

	if (argc != 3) {
		fprintf(stderr, "usage: test_config_docs CONF MANPAGE\n");
		return 2;
	}
	conf_path = argv[1];
	man_path = argv[2];
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
