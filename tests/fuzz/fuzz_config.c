// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fuzz target: the configuration parser (daemon/config.c), on any bytes.
 *
 * Besides "no crash, no sanitizer report, no leak" it checks what config.h promises:
 *   - every message is NUL-terminated and formats; at most PAGEMIG_CONFIG_DIAG_MAX are kept;
 *   - a text that parses renders back (pagemig_config_render, all keys and changed keys only)
 *     to a text that parses without errors into an equal configuration;
 *   - a failed parse leaves the caller's configuration alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FAIL(...)                                      \
	do {                                           \
		fprintf(stderr, "fuzz_config: " __VA_ARGS__); \
		fputc('\n', stderr);                   \
		abort();                               \
	} while (0)

static struct pagemig_config_diag diag;

static void check_diag(const struct pagemig_config_diag *d)
{
	char line[PAGEMIG_CONFIG_MSG_MAX + 300];

	if (d->n > PAGEMIG_CONFIG_DIAG_MAX || d->n > d->errors + d->warnings)
		FAIL("diag: n=%u errors=%u warnings=%u", d->n, d->errors, d->warnings);
	if (!memchr(d->name, 0, sizeof(d->name)))
		FAIL("diag: name not terminated");
	for (unsigned int i = 0; i < d->n; i++) {
		if (!memchr(d->msg[i].text, 0, sizeof(d->msg[i].text)))
			FAIL("diag: message %u not terminated", i);
		if (pagemig_config_diag_format(d, i, line, sizeof(line)) < 0)
			FAIL("diag: message %u does not format", i);
	}
	if (pagemig_config_diag_format(d, d->n, line, sizeof(line)) >= 0)
		FAIL("diag: message %u past the end formats", d->n);
}

/* render cfg with flags, parse it again: it must give cfg back */
static void round_trip(const struct pagemig_config *cfg, unsigned int flags)
{
	struct pagemig_config again;
	char *text = pagemig_config_render(cfg, flags);

	if (!text)
		return; /* ENOMEM */
	if (pagemig_config_parse(text, strlen(text), "rendered", &again, &diag)) {
		fprintf(stderr, "--- rendered text ---\n%s--- end ---\n", text);
		for (unsigned int i = 0; i < diag.n; i++)
			fprintf(stderr, "line %u: %s\n", diag.msg[i].line, diag.msg[i].text);
		FAIL("the rendered configuration (flags %u) does not parse", flags);
	}
	if (!pagemig_config_equal(cfg, &again)) {
		fprintf(stderr, "--- rendered text ---\n%s--- end ---\n", text);
		FAIL("the rendered configuration (flags %u) parses to another one", flags);
	}
	pagemig_config_free(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pagemig_config cfg, copy;
	int err;

	/* a sentinel: a failed parse must not touch it */
	memset(&cfg, 0x5a, sizeof(cfg));
	err = pagemig_config_parse((const char *)data, size, "fuzz.conf", &cfg, &diag);
	check_diag(&diag);
	if (err) {
		const unsigned char *p = (const unsigned char *)&cfg;

		for (size_t i = 0; i < sizeof(cfg); i++)
			if (p[i] != 0x5a)
				FAIL("a failed parse (%d) changed the caller's configuration", err);
		if (err != -ENOMEM && !diag.errors)
			FAIL("a failed parse (%d) reported no error", err);
		return 0;
	}
	round_trip(&cfg, 0);
	round_trip(&cfg, PAGEMIG_CONFIG_RENDER_CHANGED);
	if (pagemig_config_copy(&cfg, &copy) == 0) {
		if (!pagemig_config_equal(&cfg, &copy))
			FAIL("a copy differs from its original");
		pagemig_config_free(&copy);
	}
	pagemig_config_free(&cfg);
	return 0;
}
