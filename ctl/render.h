/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagemigctl's human output: one renderer per command, from the result object the daemon sent
 * (docs/control-protocol.md). Renderers tolerate missing fields (a daemon of another version),
 * printing "-" for what they do not find, and never fail on unknown fields.
 */
#ifndef PAGEMIG_CTL_RENDER_H
#define PAGEMIG_CTL_RENDER_H

#include <stdio.h>

#include <json-c/json.h>

struct ctl_render_opts {
	unsigned int width; /* terminal width to fit tables into; 0 = no limit */
};

/*
 * Print the result of command for humans to out. Returns 0, or -ENOENT when there is no human
 * renderer for command (the caller then prints the JSON).
 */
int ctl_render(const char *command, struct json_object *result, FILE *out,
	       const struct ctl_render_opts *opts);

#endif
