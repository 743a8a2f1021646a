// SPDX-License-Identifier: LGPL-2.1-or-later
/* Aligned tables and units for pagemigctl's human output. See table.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "table.h"

#define SEP 2 /* spaces between columns */

struct ctl_table {
	size_t ncols;
	char **headers;
	unsigned int *flags;
	char **cells; /* rows * ncols, row-major */
	size_t ncells, cap;
};

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

char *ctl_sanitize(char *buf, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	if (!len)
		return buf;
	while (*p && o + 1 < len) {
		size_t n = utf8_len(p);

		if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
			buf[o++] = '?';
			p++;
		} else if (n == 0) {
			buf[o++] = '?';
			p++;
		} else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			buf[o++] = '?'; /* C1 control characters */
			p += 2;
		} else if (o + n < len) {
			memcpy(buf + o, p, n);
			o += n;
			p += n;
		} else {
			break;
		}
	}
	buf[o] = 0;
	return buf;
}

size_t ctl_text_width(const char *s)
{
	size_t w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		w += (*p & 0xc0) != 0x80;
	return w;
}

/* Byte offset of the first byte after w characters of s. */
static size_t width_offset(const char *s, size_t w)
{
	size_t i = 0;

	while (s[i] && w) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		w--;
	}
	return i;
}

struct ctl_table *ctl_table_new(size_t ncols, const char *const headers[],
				const unsigned int flags[])
{
	struct ctl_table *t = calloc(1, sizeof(*t));

	if (!t || !ncols)
		goto out_free;
	t->ncols = ncols;
	t->headers = calloc(ncols, sizeof(*t->headers));
	t->flags = calloc(ncols, sizeof(*t->flags));
	if (!t->headers || !t->flags)
		goto out_free;
	for (size_t i = 0; i < ncols; i++) {
		t->headers[i] = strdup(headers[i]);
		if (!t->headers[i])
			goto out_free;
		t->flags[i] = flags ? flags[i] : 0;
	}
	return t;

out_free:
	ctl_table_free(t);
	return NULL;
}

void ctl_table_free(struct ctl_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->headers && i < t->ncols; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->flags);
	free(t->cells);
	free(t);
}

int ctl_table_cell(struct ctl_table *t, const char *fmt, ...)
{
	char raw[1024], *clean;
	va_list ap;

	if (t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : t->ncols * 16;
		char **c = realloc(t->cells, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	clean = malloc(strlen(raw) + 1);
	if (!clean)
		return -ENOMEM;
	ctl_sanitize(clean, strlen(raw) + 1, raw);
	t->cells[t->ncells++] = clean;
	return 0;
}

size_t ctl_table_rows(const struct ctl_table *t)
{
	return t->ncells / t->ncols;
}

static void put_cell(FILE *out, const char *s, size_t width, unsigned int flags, bool last)
{
	size_t w = ctl_text_width(s);

	if (w > width) {
		/* cut: keep width - 3 characters and "..." */
		size_t keep = width > 3 ? width - 3 : 0;

		fwrite(s, 1, width_offset(s, keep), out);
		fputs(&"..."[3 - (width - keep)], out);
		return;
	}
	if (flags & CTL_COL_RIGHT)
		fprintf(out, "%*s%s", (int)(width - w), "", s);
	else if (last)
		fputs(s, out); /* no trailing blanks */
	else
		fprintf(out, "%s%*s", s, (int)(width - w), "");
}

void ctl_table_print(const struct ctl_table *t, FILE *out, unsigned int indent, unsigned int width)
{
	size_t rows = ctl_table_rows(t), total = indent;
	size_t *w = calloc(t->ncols, sizeof(*w));

	if (!w)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = ctl_text_width(t->headers[c]);
		for (size_t r = 0; r < rows; r++) {
			size_t cw = ctl_text_width(t->cells[r * t->ncols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
		total += w[c] + (c ? SEP : 0);
	}
	/* too wide: cut the shrinkable columns, widest first, down to their header's width (and
	 * at least 8 columns, so a cut cell still says something) */
	while (width && total > width) {
		size_t best = t->ncols, floor_w;

		for (size_t c = 0; c < t->ncols; c++) {
			floor_w = ctl_text_width(t->headers[c]);
			floor_w = floor_w < 8 ? 8 : floor_w;
			if ((t->flags[c] & CTL_COL_SHRINK) && w[c] > floor_w &&
			    (best == t->ncols || w[c] > w[best]))
				best = c;
		}
		if (best == t->ncols)
			break;
		w[best]--;
		total--;
	}
	for (size_t r = 0; r <= rows; r++) {
		char *line = NULL;
		size_t len = 0;
		FILE *row = open_memstream(&line, &len);

		if (!row)
			break;
		fprintf(row, "%*s", (int)indent, "");
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->headers[c];
			bool last = c + 1 == t->ncols;

			if (c)
				fprintf(row, "%*s", SEP, "");
			put_cell(row, s, w[c], t->flags[c], last);
		}
		fclose(row);
		/* no trailing blanks when the last cells are empty */
		while (len && line[len - 1] == ' ')
			len--;
		fwrite(line, 1, len, out);
		fputc('\n', out);
		free(line);
	}
	free(w);
}

unsigned int ctl_output_width(FILE *out)
{
	const char *cols = getenv("COLUMNS");
	struct winsize ws;

	if (cols && *cols) {
		char *end;
		long v = strtol(cols, &end, 10);

		if (!*end && v > 0 && v < 10000)
			return (unsigned int)v;
	}
	if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	return 0;
}

/* ---- units ------------------------------------------------------------------------------ */

char *ctl_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else if (v < 9.995)
		snprintf(buf, len, "%.2f %s", v, unit[u]);
	else if (v < 999.95)
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	return buf;
}

char *ctl_fmt_duration(char *buf, size_t len, uint64_t s)
{
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum %llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh %llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud %lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	return buf;
}

char *ctl_fmt_ms(char *buf, size_t len, double ms)
{
	if (isnan(ms) || ms < 0)
		snprintf(buf, len, "n/a");
	else if (ms < 1)
		snprintf(buf, len, "%.0f us", ms * 1000);
	else if (ms < 1000)
		snprintf(buf, len, ms < 10 ? "%.2f ms" : "%.1f ms", ms);
	else
		snprintf(buf, len, "%.2f s", ms / 1000);
	return buf;
}

char *ctl_fmt_share(char *buf, size_t len, double share)
{
	if (isnan(share) || share < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f%%", share * 100);
	return buf;
}

char *ctl_fmt_count(char *buf, size_t len, uint64_t n)
{
	static const char suffix[] = "kMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 10000) {
		snprintf(buf, len, "%llu", (unsigned long long)n);
		return buf;
	}
	while (v >= 999.95 && u < 5) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, v < 9.995 ? "%.2f%c" : v < 99.95 ? "%.1f%c" : "%.0f%c", v, suffix[u]);
	return buf;
}
