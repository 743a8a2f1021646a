/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A strict checker of the Prometheus text exposition format (version 0.0.4), for tests of
 * pagemigd's metrics. Stricter than Prometheus itself where that catches our bugs:
 *   - every line ends with '\n', no blank lines, no timestamps;
 *   - metric and label names match the format's grammar, label values use only the \\, \" and
 *     \n escapes, values are floats (NaN, +Inf, -Inf allowed);
 *   - every family has exactly one # HELP and one # TYPE, both before its first sample, and its
 *     samples are not interleaved with another family's;
 *   - every sample belongs to a declared family: counter, gauge and untyped samples carry the
 *     family's name, histogram samples its _bucket (with an le label), _sum and _count;
 *   - no series (name and label set, in any label order) appears twice, no label twice in one
 *     series;
 *   - counters are not negative; histogram buckets are cumulative, end with le="+Inf" and that
 *     bucket equals _count;
 *   - with a prefix, every family name starts with it.
 */
#ifndef PAGEMIG_TEST_PROM_PARSE_H
#define PAGEMIG_TEST_PROM_PARSE_H

#include <stdbool.h>
#include <stddef.h>

struct prom_result {
	size_t families;
	size_t samples;
	unsigned int line; /* of the first error */
	char error[256];   /* "" when valid */
};

/* Check text; returns 0 when valid, -1 with res->error and res->line otherwise. */
int prom_check(const char *text, size_t len, const char *prefix, struct prom_result *res);

/* The value of the sample whose line starts with series and a blank ("pagemig_up",
 * "pagemig_x{a=\"b\"}"): 0 and *value, or -1 when there is none. */
int prom_value(const char *text, const char *series, double *value);

#endif
