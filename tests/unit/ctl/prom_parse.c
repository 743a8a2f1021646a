// SPDX-License-Identifier: LGPL-2.1-or-later
/* A strict Prometheus text-format checker for tests. See prom_parse.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_parse.h"

#define NAME_MAX_ 200

struct family {
	char name[NAME_MAX_];
	char type[16];
	bool help, typed, sampled, closed;
	/* histogram bookkeeping, per label set without le */
	char hist_key[1024];
	double last_bucket;
	bool saw_inf;
	double inf_value;
};

struct checker {
	struct prom_result *res;
	const char *prefix;
	struct family *fam;
	size_t nfam, capfam;
	struct family *cur; /* the family whose samples are being read */
	char **series;
	size_t nseries, capseries;
	/* histogram state of the current family */
	double hist_inf[256];
	char *hist_keys[256];
	size_t nhist;
};

static int fail(struct checker *c, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct checker *c, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (c->res->error[0])
		return -1;
	c->res->line = line;
	va_start(ap, fmt);
	vsnprintf(c->res->error, sizeof(c->res->error), fmt, ap);
	va_end(ap);
	return -1;
}

static bool name_char(char ch, bool first, bool colon)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (colon && ch == ':') || (!first && ch >= '0' && ch <= '9');
}

/* Length of a metric name (colon) or label name at s; 0 if none. */
static size_t name_len(const char *s, bool colon)
{
	size_t n = 0;

	while (name_char(s[n], n == 0, colon))
		n++;
	return n;
}

static struct family *find_family(struct checker *c, const char *name)
{
	for (size_t i = 0; i < c->nfam; i++)
		if (!strcmp(c->fam[i].name, name))
			return &c->fam[i];
	return NULL;
}

static struct family *add_family(struct checker *c, const char *name)
{
	struct family *f;

	if (c->nfam == c->capfam) {
		size_t cap = c->capfam ? c->capfam * 2 : 64;
		/* cur points into the array */
		ptrdiff_t cur = c->cur ? c->cur - c->fam : -1;
		struct family *nf = realloc(c->fam, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		if (cur >= 0)
			c->cur = nf + cur;
		c->fam = nf;
		c->capfam = cap;
	}
	f = &c->fam[c->nfam++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

/* A float as the format writes it. */
static int parse_value(const char *s, double *v)
{
	char *end;

	if (!strcmp(s, "NaN")) {
		*v = NAN;
		return 0;
	}
	if (!strcmp(s, "+Inf") || !strcmp(s, "Inf")) {
		*v = INFINITY;
		return 0;
	}
	if (!strcmp(s, "-Inf")) {
		*v = -INFINITY;
		return 0;
	}
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	return errno || *end ? -1 : 0;
}

/* Switch the current family to f, closing the previous one. */
static int enter_family(struct checker *c, struct family *f, unsigned int line)
{
	if (c->cur == f)
		return 0;
	if (f->closed)
		return fail(c, line, "lines of family '%s' are not grouped together", f->name);
	if (c->cur) {
		c->cur->closed = true;
		if (!strcmp(c->cur->type, "histogram")) {
			for (size_t i = 0; i < c->nhist; i++)
				free(c->hist_keys[i]);
			c->nhist = 0;
		}
	}
	c->cur = f;
	return 0;
}

static int add_series(struct checker *c, const char *key, unsigned int line)
{
	if (c->nseries == c->capseries) {
		size_t cap = c->capseries ? c->capseries * 2 : 256;
		char **ns = realloc(c->series, cap * sizeof(*ns));

		if (!ns)
			return fail(c, line, "out of memory");
		c->series = ns;
		c->capseries = cap;
	}
	c->series[c->nseries] = strdup(key);
	if (!c->series[c->nseries])
		return fail(c, line, "out of memory");
	c->nseries++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int comment(struct checker *c, const char *s, unsigned int line)
{
	char name[NAME_MAX_];
	const char *p;
	struct family *f;
	size_t n;
	bool help;

	if (strncmp(s, "# HELP ", 7) && strncmp(s, "# TYPE ", 7))
		return 0; /* an ordinary comment */
	help = s[2] == 'H';
	p = s + 7;
	n = name_len(p, true);
	if (!n || n >= sizeof(name) || (p[n] != ' ' && p[n] != 0))
		return fail(c, line, "bad metric name in '%s'", s);
	memcpy(name, p, n);
	name[n] = 0;
	if (c->prefix && strncmp(name, c->prefix, strlen(c->prefix)))
		return fail(c, line, "family '%s' does not start with '%s'", name, c->prefix);
	f = find_family(c, name);
	if (!f) {
		f = add_family(c, name);
		if (!f)
			return fail(c, line, "out of memory");
	}
	if (enter_family(c, f, line))
		return -1;
	if (f->sampled)
		return fail(c, line, "%s of '%s' after its samples", help ? "HELP" : "TYPE", name);
	p += n;
	if (help) {
		if (f->help)
			return fail(c, line, "second HELP for '%s'", name);
		f->help = true;
		if (*p != ' ' || !p[1])
			return fail(c, line, "empty HELP for '%s'", name);
		/* only \\ and \n escapes in HELP */
		for (p++; *p; p++)
			if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
				return fail(c, line, "bad escape in HELP of '%s'", name);
			else if (*p == '\\')
				p++;
	} else {
		if (f->typed)
			return fail(c, line, "second TYPE for '%s'", name);
		f->typed = true;
		if (*p != ' ')
			return fail(c, line, "TYPE without a type for '%s'", name);
		p++;
		if (strcmp(p, "counter") && strcmp(p, "gauge") && strcmp(p, "histogram") &&
		    strcmp(p, "summary") && strcmp(p, "untyped"))
			return fail(c, line, "unknown type '%s' for '%s'", p, name);
		snprintf(f->type, sizeof(f->type), "%s", p);
	}
	return 0;
}

/* The family a sample name belongs to, given the declared types. */
static struct family *sample_family(struct checker *c, const char *name, const char **suffix)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	struct family *f = find_family(c, name);

	*suffix = "";
	if (f && (strcmp(f->type, "histogram") && strcmp(f->type, "summary")))
		return f;
	for (size_t i = 0; i < 3; i++) {
		size_t nl = strlen(name), sl = strlen(suffixes[i]);
		char base[NAME_MAX_];

		if (nl <= sl || strcmp(name + nl - sl, suffixes[i]) || nl - sl >= sizeof(base))
			continue;
		memcpy(base, name, nl - sl);
		base[nl - sl] = 0;
		f = find_family(c, base);
		if (f && (!strcmp(f->type, "histogram") || !strcmp(f->type, "summary"))) {
			*suffix = suffixes[i];
			return f;
		}
	}
	return NULL;
}

static int sample(struct checker *c, const char *s, unsigned int line)
{
	char name[NAME_MAX_], key[2048], hkey[1024] = "", le[512] = "";
	char *labels[32];
	size_t nl = 0, n, klen;
	const char *p = s, *suffix;
	struct family *f;
	double v;
	int ret = -1;

	n = name_len(p, true);
	if (!n || n >= sizeof(name))
		return fail(c, line, "bad sample line '%s'", s);
	memcpy(name, p, n);
	name[n] = 0;
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			char lname[NAME_MAX_], lval[512];
			size_t ln = name_len(p, false), vn = 0;

			if (!ln || ln >= sizeof(lname) || p[ln] != '=' || p[ln + 1] != '"') {
				fail(c, line, "bad label in '%s'", s);
				goto out;
			}
			memcpy(lname, p, ln);
			lname[ln] = 0;
			if (!strncmp(lname, "__", 2)) {
				fail(c, line, "reserved label name '%s'", lname);
				goto out;
			}
			p += ln + 2;
			while (*p != '"') {
				if (!*p || vn + 2 >= sizeof(lval)) {
					fail(c, line, "unterminated label value in '%s'", s);
					goto out;
				}
				if (*p == '\\') {
					if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') {
						fail(c, line, "bad escape in label value in '%s'",
						     s);
						goto out;
					}
					lval[vn++] = *p++;
				}
				lval[vn++] = *p++;
			}
			lval[vn] = 0;
			p++;
			for (size_t i = 0; i < nl; i++)
				if (!strncmp(labels[i], lname, ln) && labels[i][ln] == '=') {
					fail(c, line, "label '%s' twice in '%s'", lname, s);
					goto out;
				}
			if (nl == 32) {
				fail(c, line, "too many labels in '%s'", s);
				goto out;
			}
			if (asprintf(&labels[nl], "%s=\"%s\"", lname, lval) < 0) {
				fail(c, line, "out of memory");
				goto out;
			}
			nl++;
			if (!strcmp(lname, "le"))
				snprintf(le, sizeof(le), "%s", lval);
			if (*p == ',')
				p++;
			else if (*p != '}') {
				fail(c, line, "expected ',' or '}' in '%s'", s);
				goto out;
			}
		}
		p++;
	}
	if (*p != ' ') {
		fail(c, line, "expected a blank before the value in '%s'", s);
		goto out;
	}
	p++;
	if (strchr(p, ' ')) {
		fail(c, line, "timestamp or trailing text in '%s'", s);
		goto out;
	}
	if (parse_value(p, &v)) {
		fail(c, line, "bad value '%s'", p);
		goto out;
	}
	f = sample_family(c, name, &suffix);
	if (!f || !f->typed) {
		fail(c, line, "sample '%s' of no declared family (TYPE missing or after it)", name);
		goto out;
	}
	if (!f->help) {
		fail(c, line, "family '%s' has no HELP before its samples", f->name);
		goto out;
	}
	if (enter_family(c, f, line))
		goto out;
	f->sampled = true;
	if (!strcmp(f->type, "counter") && !(v >= 0)) {
		fail(c, line, "counter '%s' is negative or NaN", name);
		goto out;
	}
	/* the series' identity: name and sorted labels */
	qsort(labels, nl, sizeof(labels[0]), cmp_label);
	klen = (size_t)snprintf(key, sizeof(key), "%s{", name);
	for (size_t i = 0; i < nl && klen < sizeof(key); i++) {
		klen += (size_t)snprintf(key + klen, sizeof(key) - klen, "%s%s", i ? "," : "",
					 labels[i]);
		if (strncmp(labels[i], "le=", 3))
			snprintf(hkey + strlen(hkey), sizeof(hkey) - strlen(hkey), "%s,",
				 labels[i]);
	}
	if (add_series(c, key, line))
		goto out;
	if (!strcmp(f->type, "histogram")) {
		size_t h;

		for (h = 0; h < c->nhist && strcmp(c->hist_keys[h], hkey); h++)
			;
		if (h == c->nhist) {
			if (h == 256) {
				fail(c, line, "too many histogram series");
				goto out;
			}
			c->hist_keys[h] = strdup(hkey);
			c->hist_inf[h] = -1;
			c->nhist++;
			f->last_bucket = -1;
		}
		if (!strcmp(suffix, "_bucket")) {
			if (!le[0]) {
				fail(c, line, "histogram bucket '%s' without le", s);
				goto out;
			}
			if (v < f->last_bucket) {
				fail(c, line, "histogram buckets of '%s' are not cumulative",
				     f->name);
				goto out;
			}
			f->last_bucket = v;
			if (!strcmp(le, "+Inf"))
				c->hist_inf[h] = v;
		} else if (!strcmp(suffix, "_count")) {
			if (c->hist_inf[h] < 0) {
				fail(c, line,
				     "histogram '%s' has no le=\"+Inf\" bucket before _count",
				     f->name);
				goto out;
			}
			if (c->hist_inf[h] != v) {
				fail(c, line, "histogram '%s': _count %g != +Inf bucket %g",
				     f->name, v, c->hist_inf[h]);
				goto out;
			}
		}
	}
	c->res->samples++;
	ret = 0;
out:
	for (size_t i = 0; i < nl; i++)
		free(labels[i]);
	return ret;
}

int prom_check(const char *text, size_t len, const char *prefix, struct prom_result *res)
{
	struct checker c = {.res = res, .prefix = prefix};
	unsigned int line = 0;
	size_t off = 0;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	if (len && text[len - 1] != '\n')
		return fail(&c, 0, "the text does not end with a newline");
	while (off < len && !ret) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = (size_t)(nl - (text + off));
		char *s;

		line++;
		if (memchr(text + off, 0, n)) {
			ret = fail(&c, line, "NUL byte");
			break;
		}
		s = strndup(text + off, n);
		if (!s) {
			ret = fail(&c, line, "out of memory");
			break;
		}
		if (!n)
			ret = fail(&c, line, "blank line");
		else if (s[0] == '#')
			ret = comment(&c, s, line);
		else
			ret = sample(&c, s, line);
		free(s);
		off += n + 1;
	}
	for (size_t i = 0; !ret && i < c.nfam; i++) {
		if (!c.fam[i].typed || !c.fam[i].help)
			ret = fail(&c, line, "family '%s' lacks %s", c.fam[i].name,
				   c.fam[i].typed ? "HELP" : "TYPE");
	}
	if (!ret && c.nseries) {
		qsort(c.series, c.nseries, sizeof(c.series[0]), cmp_str);
		for (size_t i = 1; i < c.nseries && !ret; i++)
			if (!strcmp(c.series[i - 1], c.series[i]))
				ret = fail(&c, 0, "series %s appears twice", c.series[i]);
	}
	res->families = c.nfam;
	for (size_t i = 0; i < c.nseries; i++)
		free(c.series[i]);
	for (size_t i = 0; i < c.nhist; i++)
		free(c.hist_keys[i]);
	free(c.series);
	free(c.fam);
	return ret;
}

int prom_value(const char *text, const char *series, double *value)
{
	size_t sl = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, series, sl) && p[sl] == ' ') {
			char buf[64];
			size_t n = strcspn(p + sl + 1, "\n");

			if (n >= sizeof(buf))
				return -1;
			memcpy(buf, p + sl + 1, n);
			buf[n] = 0;
			return parse_value(buf, value);
		}
	}
	return -1;
}
