/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Human output for pagemigctl: aligned tables and numbers with units.
 *
 * A table has a header row and columns aligned left or right; columns are separated by two
 * spaces. When the table is wider than the width it is printed in, the columns marked
 * shrinkable (the free-text ones) are cut, with "..." at the end of the cut cells. Cells are
 * sanitised: control characters and invalid UTF-8 (a process may name itself anything) print
 * as '?', so no cell can move the cursor or change the terminal.
 */
#ifndef PAGEMIG_CTL_TABLE_H
#define PAGEMIG_CTL_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ctl_table;

/* Column flags. */
#define CTL_COL_LEFT   0
#define CTL_COL_RIGHT  (1u << 0) /* right-aligned (numbers) */
#define CTL_COL_SHRINK (1u << 1) /* may be cut to fit the width */

/* A table with ncols columns: headers[i] and flags[i] (CTL_COL_*). NULL on ENOMEM. */
struct ctl_table *ctl_table_new(size_t ncols, const char *const headers[],
				const unsigned int flags[]);

/* Release a table; NULL is fine. */
void ctl_table_free(struct ctl_table *t);

/* Append a cell to the current row (printf-like); the row ends after ncols cells. Returns 0 or
 * -ENOMEM (the table then prints what it has). */
int ctl_table_cell(struct ctl_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rows added so far. */
size_t ctl_table_rows(const struct ctl_table *t);

/* Print with a leading indent of indent spaces, fitting into width columns (0: no limit). */
void ctl_table_print(const struct ctl_table *t, FILE *out, unsigned int indent, unsigned int width);

/* Display width of a sanitised UTF-8 string: one column per character. */
size_t ctl_text_width(const char *s);

/* Copy s into buf (len bytes, NUL-terminated), replacing control characters and invalid UTF-8
 * with '?'. Returns buf. */
char *ctl_sanitize(char *buf, size_t len, const char *s);

/* The width to print in: $COLUMNS, else the terminal's width when out is a terminal, else 0
 * (no limit: output to a pipe or file is never cut). */
unsigned int ctl_output_width(FILE *out);

/* ---- numbers with units ----------------------------------------------------------------- */

/* "0 B", "512 B", "1.5 KiB", "482.3 MiB", "15.6 GiB" (powers of 1024). Returns buf. */
char *ctl_fmt_bytes(char *buf, size_t len, uint64_t bytes);

/* Whole seconds as "45s", "4m 3s", "2h 5m", "3d 4h". Returns buf. */
char *ctl_fmt_duration(char *buf, size_t len, uint64_t seconds);

/* Milliseconds as "850 us", "12.3 ms", "2.10 s". Returns buf. */
char *ctl_fmt_ms(char *buf, size_t len, double ms);

/* A share 0..1 as "87.5%"; a negative or NaN share as "n/a". Returns buf. */
char *ctl_fmt_share(char *buf, size_t len, double share);

/* A count as "999", "12.3k", "4.56M", "7.89G": for columns that must stay narrow. */
char *ctl_fmt_count(char *buf, size_t len, uint64_t n);

#endif
