// SPDX-License-Identifier: LGPL-2.1-or-later
/* Human output of every pagemigctl command. See render.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pagemig/pagemig.h>

#include "render.h"
#include "table.h"

/* ---- reading the result ------------------------------------------------------------------ */

/* Member k of o, or NULL when missing or null. */
static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static const char *jstr(struct json_object *o, const char *k, const char *def)
{
	struct json_object *v = jget(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static bool jnum(struct json_object *v)
{
	return v &&
	       (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

static int64_t jint(struct json_object *o, const char *k, int64_t def)
{
	struct json_object *v = jget(o, k);

	return jnum(v) ? json_object_get_int64(v) : def;
}

static uint64_t ju64(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return jnum(v) ? json_object_get_uint64(v) : 0;
}

static double jdbl(struct json_object *o, const char *k, double def)
{
	struct json_object *v = jget(o, k);

	return jnum(v) ? json_object_get_double(v) : def;
}

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static size_t jlen(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static struct json_object *jat(struct json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}

/* A node field: its number, or "-" when null. */
static const char *node_str(char *buf, size_t len, struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	if (!jnum(v))
		return "-";
	snprintf(buf, len, "%" PRId64, json_object_get_int64(v));
	return buf;
}

/* "0:12 1:2040" from [{"node":0,"pages":12},...], nodes with zero left out. */
static const char *per_node_str(char *buf, size_t len, struct json_object *a, const char *unit,
				bool bytes)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < jlen(a); i++) {
		struct json_object *e = jat(a, i);
		uint64_t v = ju64(e, unit);
		char num[32];

		if (!v)
			continue;
		if (bytes)
			ctl_fmt_bytes(num, sizeof(num), v);
		else
			ctl_fmt_count(num, sizeof(num), v);
		if (bytes)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
						 "%snode %" PRId64 " %s", used ? ", " : "",
						 jint(e, "node", -1), num);
		else
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
						 "%s%" PRId64 ":%s", used ? " " : "",
						 jint(e, "node", -1), num);
		if (used >= len)
			break;
	}
	return buf[0] ? buf : "-";
}

static struct ctl_table *table(size_t n, const char *const headers[], const unsigned int flags[])
{
	return ctl_table_new(n, headers, flags);
}

static void table_done(struct ctl_table *t, FILE *out, const struct ctl_render_opts *o)
{
	if (!t)
		return;
	ctl_table_print(t, out, 0, o->width);
	ctl_table_free(t);
}

/* ---- status, nodes ----------------------------------------------------------------------- */

static void nodes_table(struct json_object *nodes, FILE *out, const struct ctl_render_opts *o,
			bool detail)
{
	static const char *const h_status[] = {"NODE", "CPUS",	    "MEMORY", "FREE",
					       "TIER", "DISTANCES", "NOTE"};
	static const unsigned int f_status[] = {CTL_COL_RIGHT, CTL_COL_SHRINK, CTL_COL_RIGHT,
						CTL_COL_RIGHT, CTL_COL_RIGHT,  CTL_COL_SHRINK,
						CTL_COL_SHRINK};
	static const char *const h_nodes[] = {"NODE",	 "CPUS",     "MEMORY",	  "FREE",
					      "MANAGED", "MOVED-IN", "MOVED-OUT", "DISTANCES"};
	static const unsigned int f_nodes[] = {CTL_COL_RIGHT, CTL_COL_SHRINK, CTL_COL_RIGHT,
					       CTL_COL_RIGHT, CTL_COL_RIGHT,  CTL_COL_RIGHT,
					       CTL_COL_RIGHT, CTL_COL_SHRINK};
	struct ctl_table *t = detail ? table(8, h_nodes, f_nodes) : table(7, h_status, f_status);

	for (size_t i = 0; t && i < jlen(nodes); i++) {
		struct json_object *n = jat(nodes, i), *dist = jget(n, "distances");
		char a[32], b[32], c[32], dl[256] = "";
		size_t used = 0;
		const char *cpus = jstr(n, "cpus", "");

		for (size_t k = 0; k < jlen(dist) && used < sizeof(dl); k++)
			used += (size_t)snprintf(dl + used, sizeof(dl) - used, "%s%" PRId64,
						 k ? " " : "", json_object_get_int64(jat(dist, k)));
		ctl_table_cell(t, "%" PRId64, jint(n, "id", -1));
		ctl_table_cell(t, "%s", *cpus ? cpus : "-");
		ctl_table_cell(t, "%s", ctl_fmt_bytes(a, sizeof(a), ju64(n, "mem_total_bytes")));
		ctl_table_cell(t, "%s", ctl_fmt_bytes(b, sizeof(b), ju64(n, "mem_free_bytes")));
		if (detail) {
			ctl_table_cell(t, "%s",
				       ctl_fmt_count(a, sizeof(a), ju64(n, "managed_pages")));
			ctl_table_cell(t, "%s",
				       ctl_fmt_count(b, sizeof(b), ju64(n, "pages_moved_in")));
			ctl_table_cell(t, "%s",
				       ctl_fmt_count(c, sizeof(c), ju64(n, "pages_moved_out")));
			ctl_table_cell(t, "%s", dl[0] ? dl : "-");
		} else {
			ctl_table_cell(t, "%" PRId64, jint(n, "tier", 0));
			ctl_table_cell(t, "%s", dl[0] ? dl : "-");
			ctl_table_cell(t, "%s",
				       jget(n, "has_memory") && !jbool(n, "has_memory")
					       ? "no memory"
				       : jbool(n, "memory_only") ? "memory only"
								 : "");
		}
	}
	table_done(t, out, o);
}

static int render_status(struct json_object *r, FILE *out, const struct ctl_render_opts *o)
{
	struct json_object *src = jget(r, "sources"), *mv = jget(r, "move");
	char a[32], b[32], c[32];
	time_t start = (time_t)jint(r, "start_time", 0);
	struct tm tm;
	char when[64] = "";

	if (start && localtime_r(&start, &tm))
		strftime(when, sizeof(when), ", started %Y-%m-%d %H:%M:%S %Z", &tm);
	fprintf(out, "pagemigd %s: %s%s, up %s%s\n", jstr(r, "version", "?"),
		!strcmp(jstr(r, "mode", ""), "observe") ? "observing (moves nothing)" : "enforcing",
		jbool(r, "paused") ? ", PAUSED (pagemigctl resume)" : "",
		ctl_fmt_duration(a, sizeof(a), ju64(r, "uptime_s")), when);
	fprintf(out, "  config %s, socket %s\n", jstr(r, "config", "?"), jstr(r, "socket", "?"));
	fprintf(out, "  interval %s, %" PRIu64 " cycles, last cycle %s\n",
		ctl_fmt_ms(a, sizeof(a), jdbl(r, "interval_ms", NAN)), ju64(r, "cycles"),
		ctl_fmt_ms(b, sizeof(b), jdbl(r, "last_cycle_ms", NAN)));
	/* what the cycles did besides planning everything at the interval (pagemigd(8)) */
	if (ju64(r, "cycles_soon") || ju64(r, "plans_skipped") || ju64(r, "plans_topped_up") ||
	    ju64(r, "departures"))
		fprintf(out,
			"    %" PRIu64 " brought forward, %" PRIu64 " departures; plans %" PRIu64
			" skipped, %" PRIu64 " topped up\n",
			ju64(r, "cycles_soon"), ju64(r, "departures"), ju64(r, "plans_skipped"),
			ju64(r, "plans_topped_up"));
	fprintf(out, "  %" PRIu64 " managed process%s, local access %s\n",
		ju64(r, "managed_processes"), ju64(r, "managed_processes") == 1 ? "" : "es",
		ctl_fmt_share(a, sizeof(a), jdbl(r, "local_access_share", -1)));
	fprintf(out, "  pages moved %" PRIu64 " (%s), failed %" PRIu64 ", pending %" PRIu64 "\n",
		ju64(r, "pages_moved"), ctl_fmt_bytes(a, sizeof(a), ju64(r, "bytes_moved")),
		ju64(r, "pages_failed"), ju64(r, "pages_pending"));
	if (ju64(r, "pages_moved_manual") || ju64(r, "pages_failed_manual"))
		fprintf(out,
			"    by the policies %" PRIu64 " moved, %" PRIu64 " failed; "
			"manually %" PRIu64 " moved, %" PRIu64 " failed\n",
			ju64(r, "pages_moved_policy"), ju64(r, "pages_failed_policy"),
			ju64(r, "pages_moved_manual"), ju64(r, "pages_failed_manual"));
	if (mv)
		fprintf(out,
			"  manual move %" PRIu64 " running: process %" PRId64 " to node %" PRId64
			", %.0f%% done, %s resident pages so far\n",
			ju64(mv, "id"), jint(mv, "pid", 0), jint(mv, "node", 0),
			jdbl(mv, "progress", 0) * 100,
			ctl_fmt_count(c, sizeof(c), ju64(mv, "pages")));
	if (jstr(r, "metrics_file", NULL))
		fprintf(out, "  metrics written to %s each cycle\n", jstr(r, "metrics_file", ""));
	if (jstr(r, "metrics_listen", NULL))
		fprintf(out, "  metrics served on http://%s/metrics\n",
			jstr(r, "metrics_listen", ""));
	if (jbool(r, "nothing_to_place"))
		fprintf(out, "  this machine has fewer than two memory nodes: nothing to place "
			     "(pagemigd samples and reports only)\n");
	fputc('\n', out);
	nodes_table(jget(r, "nodes"), out, o, false);
	fputc('\n', out);
	{
		static const char *const h[] = {"SOURCE", "STATE", "DETAIL"};
		static const unsigned int f[] = {0, 0, CTL_COL_SHRINK};
		struct ctl_table *t = table(3, h, f);

		for (size_t i = 0; t && i < jlen(src); i++) {
			struct json_object *s = jat(src, i);
			const char *err = jstr(s, "error", NULL);

			ctl_table_cell(t, "%s", jstr(s, "name", "?"));
			ctl_table_cell(t, "%s", jstr(s, "state", "?"));
			ctl_table_cell(t, "%s%s%s%s", jstr(s, "detail", ""), err ? " (" : "",
				       err ? err : "", err ? ")" : "");
		}
		table_done(t, out, o);
	}
	return 0;
}

static int render_nodes(struct json_object *r, FILE *out, const struct ctl_render_opts *o)
{
	nodes_table(jget(r, "nodes"), out, o, true);
	fprintf(out, "\nMANAGED: sampled pages of managed processes resident on the node; "
		     "MOVED-IN/OUT: pages the policies moved.\n");
	return 0;
}

/* ---- procs, proc ------------------------------------------------------------------------- */

static int render_procs(struct json_object *r, FILE *out, const struct ctl_render_opts *o)
{
	static const char *const h[] = {"PID", "COMM",	"POLICY", "HOME",
					"RSS", "LOCAL", "MOVED",  "SAMPLED PAGES PER NODE"};
	static const unsigned int f[] = {CTL_COL_RIGHT, CTL_COL_SHRINK, CTL_COL_SHRINK,
					 CTL_COL_RIGHT, CTL_COL_RIGHT,	CTL_COL_RIGHT,
					 CTL_COL_RIGHT, CTL_COL_SHRINK};
	struct json_object *p = jget(r, "processes");
	struct ctl_table *t;
	size_t settled = 0, held = 0;

	if (!jlen(p)) {
		fprintf(out,
			"No managed processes (%" PRIu64 "): no policy matches a running "
			"process (see pagemigctl config).\n",
			ju64(r, "total"));
		return 0;
	}
	t = table(8, h, f);
	for (size_t i = 0; t && i < jlen(p); i++) {
		struct json_object *e = jat(p, i);
		char a[32], b[32], c[32], n[32], pn[256];
		bool is_settled = jbool(e, "settled"), is_held = jbool(e, "held");

		ctl_table_cell(t, "%" PRId64, jint(e, "pid", 0));
		ctl_table_cell(t, "%s", jstr(e, "comm", "?"));
		ctl_table_cell(t, "%s", jstr(e, "policy", "-"));
		/* settled, held: a mark on its home, explained below the table */
		settled += is_settled;
		held += is_held;
		ctl_table_cell(t, "%s%s", node_str(n, sizeof(n), e, "home_node"),
			       is_settled ? "*" : is_held ? "+" : "");
		ctl_table_cell(t, "%s", ctl_fmt_bytes(a, sizeof(a), ju64(e, "rss_bytes")));
		ctl_table_cell(t, "%s",
			       ctl_fmt_share(b, sizeof(b), jdbl(e, "local_access_share", -1)));
		ctl_table_cell(t, "%s", ctl_fmt_count(c, sizeof(c), ju64(e, "pages_moved")));
		ctl_table_cell(
			t, "%s",
			per_node_str(pn, sizeof(pn), jget(e, "pages_per_node"), "pages", false));
	}
	table_done(t, out, o);
	if (settled)
		fprintf(out, "*: settled - the last plan had nothing for it and it runs where it "
			     "ran then\n");
	if (held)
		fprintf(out, "+: held - more of its moves are pending than three intervals do; "
			     "not re-armed or\n   planned again until they are nearly done\n");
	if (ju64(r, "total") > jlen(p))
		fprintf(out, "(%zu of %" PRIu64 " managed processes shown; --limit N for more)\n",
			jlen(p), ju64(r, "total"));
	if (jget(r, "accounting_complete") && !jbool(r, "accounting_complete"))
		fprintf(out, "(some decisions were not counted per process: MOVED is a lower "
			     "bound)\n");
	return 0;
}

static int render_proc(struct json_object *r, FILE *out, const struct ctl_render_opts *o)
{
	struct json_object *maps = jget(r, "mappings"), *hot = jget(r, "hot_pages");
	struct json_object *totals = jget(r, "totals");
	struct json_object *nodes = NULL;
	char a[32], b[32], pn[256];

	fprintf(out, "process %" PRId64 " (%s): ", jint(r, "pid", 0), jstr(r, "comm", "?"));
	if (jbool(r, "managed"))
		fprintf(out, "policy '%s' (%s), home node %s, local access %s\n",
			jstr(r, "policy", "?"), jstr(r, "policy_type", "?"),
			node_str(a, sizeof(a), r, "home_node"),
			ctl_fmt_share(b, sizeof(b), jdbl(r, "local_access_share", -1)));
	else
		fprintf(out, "not managed by pagemigd\n");
	if (ju64(r, "pages_moved") || ju64(r, "pages_failed"))
		fprintf(out, "  pages moved %" PRIu64 ", failed %" PRIu64 "\n",
			ju64(r, "pages_moved"), ju64(r, "pages_failed"));
	fprintf(out, "  resident %s: %s\n", ctl_fmt_bytes(a, sizeof(a), ju64(totals, "bytes")),
		per_node_str(pn, sizeof(pn), jget(totals, "bytes_per_node"), "bytes", true));
	fputc('\n', out);

	/* one column per node with memory, from the first mapping's list */
	for (size_t i = 0; i < jlen(maps) && !nodes; i++)
		nodes = jget(jat(maps, i), "pages_per_node");
	if (jlen(maps)) {
		size_t nn = jlen(nodes) < 8 ? jlen(nodes) : 8, nc = 5 + nn + 1;
		const char *h[16] = {"START", "SIZE", "RESIDENT", "PERM", "KIND"};
		unsigned int f[16] = {0, CTL_COL_RIGHT, CTL_COL_RIGHT, 0, 0};
		char hn[8][16];
		struct ctl_table *t;

		for (size_t k = 0; k < nn; k++) {
			snprintf(hn[k], sizeof(hn[k]), "N%" PRId64, jint(jat(nodes, k), "node", 0));
			h[5 + k] = hn[k];
			f[5 + k] = CTL_COL_RIGHT;
		}
		h[nc - 1] = "PATH";
		f[nc - 1] = CTL_COL_SHRINK;
		t = table(nc, h, f);
		for (size_t i = 0; t && i < jlen(maps); i++) {
			struct json_object *m = jat(maps, i), *pp = jget(m, "pages_per_node");
			const char *start = jstr(m, "start", "?");
			const char *path = jstr(m, "path", NULL);

			ctl_table_cell(t, "%s", !strncmp(start, "0x", 2) ? start + 2 : start);
			if (jget(m, "size_bytes"))
				ctl_table_cell(t, "%s",
					       ctl_fmt_bytes(a, sizeof(a), ju64(m, "size_bytes")));
			else
				ctl_table_cell(t, "-");
			ctl_table_cell(t, "%s", ctl_fmt_bytes(b, sizeof(b), ju64(m, "bytes")));
			ctl_table_cell(t, "%s", jstr(m, "perms", "-"));
			ctl_table_cell(t, "%s", jstr(m, "kind", "?"));
			for (size_t k = 0; k < nn; k++)
				ctl_table_cell(
					t, "%s",
					ctl_fmt_count(a, sizeof(a), ju64(jat(pp, k), "pages")));
			if (path)
				ctl_table_cell(t, "%s", path);
			else if (strcmp(jstr(m, "policy", "default"), "default"))
				ctl_table_cell(t, "[policy %s]", jstr(m, "policy", ""));
			else
				ctl_table_cell(t, "%s", "");
		}
		table_done(t, out, o);
		fprintf(out, "(N<node>: resident pages of the mapping's page size on each node)\n");
	}
	if (ju64(r, "mappings_resident") > ju64(r, "mappings_shown"))
		fprintf(out,
			"(%" PRIu64 " of %" PRIu64 " mappings with resident pages shown; "
			"--limit N for more)\n",
			ju64(r, "mappings_shown"), ju64(r, "mappings_resident"));

	fprintf(out, "\nhottest pages (%" PRIu64 " sampled):\n", ju64(r, "sampled_pages"));
	if (!jlen(hot)) {
		fprintf(out, "  none: the process is not managed, or nothing was sampled yet\n");
		return 0;
	}
	{
		static const char *const h[] = {"ADDRESS", "SCORE", "EVENTS", "NODE",
						"ACCESSED FROM (node:score)"};
		static const unsigned int f[] = {0, CTL_COL_RIGHT, CTL_COL_RIGHT, CTL_COL_RIGHT,
						 CTL_COL_SHRINK};
		struct ctl_table *t = table(5, h, f);

		for (size_t i = 0; t && i < jlen(hot); i++) {
			struct json_object *p = jat(hot, i), *from = jget(p, "accessed_from");
			const char *addr = jstr(p, "addr", "?");
			char fl[256] = "";
			size_t used = 0;

			for (size_t k = 0; k < jlen(from) && used < sizeof(fl); k++) {
				struct json_object *e = jat(from, k);

				used += (size_t)snprintf(
					fl + used, sizeof(fl) - used, "%s%s:%.2f", k ? " " : "",
					node_str(a, sizeof(a), e, "node"), jdbl(e, "score", 0));
			}
			ctl_table_cell(t, "%s", !strncmp(addr, "0x", 2) ? addr + 2 : addr);
			ctl_table_cell(t, "%.2f", jdbl(p, "score", 0));
			ctl_table_cell(t, "%" PRIu64, ju64(p, "events"));
			ctl_table_cell(t, "%s", node_str(b, sizeof(b), p, "node"));
			ctl_table_cell(t, "%s", fl[0] ? fl : "-");
		}
		table_done(t, out, o);
	}
	return 0;
}

/* ---- history, audit ---------------------------------------------------------------------- */

static int render_history(struct json_object *r, FILE *out, const struct ctl_render_opts *o)
{
	static const char *const h[] = {"TIME",	 "PID",	  "COMM",  "POLICY", "REASON",
					"NODES", "PAGES", "MOVED", "OUTCOME"};
	static const unsigned int f[] = {
		0, CTL_COL_RIGHT, CTL_COL_SHRINK, CTL_COL_SHRINK, CTL_COL_SHRINK,
		0, CTL_COL_RIGHT, CTL_COL_RIGHT,  CTL_COL_SHRINK};
	struct json_object *a = jget(r, "decisions");
	struct ctl_table *t;

	if (!jlen(a)) {
		fprintf(out, "No decisions yet.\n");
		return 0;
	}
	t = table(9, h, f);
	/* oldest first, as a log reads */
	for (size_t i = jlen(a); t && i > 0; i--) {
		struct json_object *d = jat(a, i - 1), *step = jget(d, "failed_step");
		time_t s = (time_t)(jint(d, "time_ms", 0) / 1000);
		const char *err = jstr(d, "error", NULL);
		char when[16] = "-", from[16], to[16], c1[32], c2[32];
		struct tm tm;

		if (localtime_r(&s, &tm))
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
		ctl_table_cell(t, "%s", when);
		ctl_table_cell(t, "%" PRId64, jint(d, "pid", 0));
		ctl_table_cell(t, "%s", jstr(d, "comm", "?"));
		ctl_table_cell(t, "%s", jstr(d, "policy", "?"));
		ctl_table_cell(t, "%s", jstr(d, "reason", "?"));
		/* a manual move takes pages from wherever they are: no source node */
		ctl_table_cell(t, "%s->%s",
			       jget(d, "from") ? node_str(from, sizeof(from), d, "from") : "",
			       node_str(to, sizeof(to), d, "to"));
		ctl_table_cell(t, "%s", ctl_fmt_count(c1, sizeof(c1), ju64(d, "pages_planned")));
		ctl_table_cell(t, "%s", ctl_fmt_count(c2, sizeof(c2), ju64(d, "pages_moved")));
		if (step)
			ctl_table_cell(t, "%s: %" PRIu64 " failed at %s %s (%s)%s%s",
				       jstr(d, "outcome", "?"), ju64(d, "pages_failed"),
				       jstr(step, "label", "?"), jstr(step, "name", ""),
				       jstr(d, "failed_outcome", "?"), err ? ", " : "",
				       err ? err : "");
		else
			ctl_table_cell(t, "%s%s%s", jstr(d, "outcome", "?"), err ? ": " : "",
				       err ? err : "");
	}
	table_done(t, out, o);
	if (ju64(r, "total") > jlen(a))
		fprintf(out, "(latest %zu of %" PRIu64 " decisions; --limit N for more)\n", jlen(a),
			ju64(r, "total"));
	return 0;
}

static int render_audit(struct json_object *r, FILE *out, const struct ctl_render_opts *o)
{
	struct json_object *tot = jget(r, "totals"), *calls = jget(r, "calls");
	struct json_object *movers = jget(r, "movers"), *last = jget(r, "last_manual_move");
	char a[32];

	if (!jbool(r, "available"))
		fprintf(out, "The migration audit is not running: %s\n", jstr(r, "detail", "?"));
	else
		fprintf(out,
			"Migration audit (pagemigd is mover pid %" PRId64 "): %" PRIu64
			" calls seen, %" PRIu64 " ended: %" PRIu64 " in the documented "
			"per-page order, %" PRIu64 " batched; steps seen B4 %" PRIu64
			", B16 %" PRIu64 "\n",
			jint(r, "mover_pid", 0), ju64(tot, "calls"), ju64(tot, "calls_ended"),
			ju64(tot, "calls_documented_order"), ju64(tot, "calls_batched_order"),
			ju64(tot, "step_b4"), ju64(tot, "step_b16"));
	if (jlen(calls)) {
		static const char *const h[] = {"CALL", "MOVER", "REASON", "ORDER", "B4",
						"B16",	"MOVED", "FAILED", "TIME"};
		static const unsigned int f[] = {
			CTL_COL_RIGHT, CTL_COL_RIGHT, CTL_COL_SHRINK, 0,
			CTL_COL_RIGHT, CTL_COL_RIGHT, CTL_COL_RIGHT,  CTL_COL_RIGHT,
			CTL_COL_RIGHT};
		struct ctl_table *t = table(9, h, f);

		fprintf(out, "\nrecent migrate_pages() calls of audited movers (* = pagemigd):\n");
		for (size_t i = jlen(calls); t && i > 0; i--) {
			struct json_object *c = jat(calls, i - 1);

			ctl_table_cell(t, "%" PRIu64, ju64(c, "call"));
			ctl_table_cell(t, "%" PRId64 "%s", jint(c, "mover_pid", 0),
				       jbool(c, "pagemigd") ? "*" : "");
			ctl_table_cell(t, "%s", jstr(c, "reason", "?"));
			ctl_table_cell(t, "%s", jstr(c, "order", "running"));
			ctl_table_cell(t, "%" PRIu64, ju64(c, "step_b4"));
			ctl_table_cell(t, "%" PRIu64, ju64(c, "step_b16"));
			ctl_table_cell(t, "%" PRIu64, ju64(c, "pages_succeeded"));
			ctl_table_cell(t, "%" PRIu64, ju64(c, "pages_failed"));
			ctl_table_cell(
				t, "%s",
				ctl_fmt_ms(a, sizeof(a), (double)ju64(c, "duration_us") / 1000));
		}
		table_done(t, out, o);
	}
	if (jlen(movers)) {
		static const char *const h[] = {"REASON", "CALLS", "PAGES",
						"FAILED", "THP",   "BY OTHERS"};
		static const unsigned int f[] = {0,
						 CTL_COL_RIGHT,
						 CTL_COL_RIGHT,
						 CTL_COL_RIGHT,
						 CTL_COL_RIGHT,
						 CTL_COL_RIGHT};
		struct ctl_table *t = table(6, h, f);

		fprintf(out,
			"\npages every mover migrated, by reason (since the sampler loaded%s):"
			"\n",
			jbool(r, "numa_balancing") ? "; kernel NUMA balancing is on" : "");
		for (size_t i = 0; t && i < jlen(movers); i++) {
			struct json_object *m = jat(movers, i);

			ctl_table_cell(t, "%s", jstr(m, "reason", "?"));
			ctl_table_cell(t, "%" PRIu64, ju64(m, "calls"));
			ctl_table_cell(t, "%" PRIu64, ju64(m, "pages_succeeded"));
			ctl_table_cell(t, "%" PRIu64, ju64(m, "pages_failed"));
			ctl_table_cell(t, "%" PRIu64, ju64(m, "thp_succeeded"));
			ctl_table_cell(t, "%" PRIu64, ju64(m, "others_pages_succeeded"));
		}
		table_done(t, out, o);
	}
	if (last) {
		static const char *const h[] = {"ADDRESS", "BEFORE", "AFTER", "VERDICT", "STEPS"};
		static const unsigned int f[] = {0, CTL_COL_RIGHT, CTL_COL_RIGHT, 0,
						 CTL_COL_SHRINK};
		struct json_object *pages = jget(last, "pages"), *v = jget(last, "verdicts");
		struct ctl_table *t = table(5, h, f);
		char b[16], c[16];

		fprintf(out,
			"\nlast manual move %" PRIu64 " (process %" PRId64 " to node %" PRId64
			"), %zu pages followed:",
			ju64(last, "id"), jint(last, "pid", 0), jint(last, "node", 0), jlen(pages));
		if (v && json_object_is_type(v, json_type_object)) {
			json_object_object_foreach(v, key, val)
			{
				if (json_object_get_uint64(val))
					fprintf(out, " %s %" PRIu64, key,
						json_object_get_uint64(val));
			}
		}
		fputc('\n', out);
		for (size_t i = 0; t && i < jlen(pages); i++) {
			struct json_object *p = jat(pages, i), *steps = jget(p, "steps");
			const char *addr = jstr(p, "addr", "(root only)");
			char sl[128] = "";
			size_t used = 0;

			for (size_t k = 0; k < jlen(steps) && used < sizeof(sl); k++)
				used += (size_t)snprintf(sl + used, sizeof(sl) - used, "%s%s",
							 k ? " " : "",
							 json_object_get_string(jat(steps, k)));
			ctl_table_cell(t, "%s", !strncmp(addr, "0x", 2) ? addr + 2 : addr);
			ctl_table_cell(t, "%s", node_str(b, sizeof(b), p, "node_before"));
			ctl_table_cell(t, "%s", node_str(c, sizeof(c), p, "node_after"));
			ctl_table_cell(t, "%s", jstr(p, "verdict", "?"));
			ctl_table_cell(t, "%s", sl[0] ? sl : "(none seen)");
		}
		table_done(t, out, o);
	}
	return 0;
}

/* ---- move and the others ------------------------------------------------------------------ */

/* Rebuild the library's report from its JSON form, to print it the library's way. */
static void report_from_json(struct json_object *j, struct pagemig_report *r)
{
	struct json_object *out = jget(j, "by_outcome"), *steps = jget(j, "by_step");
	struct json_object *first = jget(j, "first_by_step");

	pagemig_report_init(r);
	r->pages = ju64(j, "pages");
	r->pages_on_target = ju64(j, "pages_on_target");
	r->pages_moved = ju64(j, "pages_moved");
	r->bytes_moved = ju64(j, "bytes_moved");
	for (int i = 0; i < PAGEMIG_OUT__COUNT; i++)
		r->by_outcome[i] = ju64(out, pagemig_outcome_name(i));
	for (int i = 1; i < PAGEMIG_STEP__COUNT; i++) {
		r->by_step[i] = ju64(steps, pagemig_step_info(i)->label);
		r->first_by_step[i] = ju64(first, pagemig_step_info(i)->label);
	}
	r->retries = ju64(j, "retries");
	r->retry_rounds = ju64(j, "retry_rounds");
	r->calls = ju64(j, "calls");
	r->query_calls = ju64(j, "query_calls");
	r->entries_sent = ju64(j, "entries_sent");
	r->folios_deduped = ju64(j, "folios_deduped");
	r->positive_returns = ju64(j, "positive_returns");
	r->unwritten = ju64(j, "unwritten");
	r->verify_mismatches = ju64(j, "verify_mismatches");
	r->elapsed_ns = ju64(j, "elapsed_ns");
	r->kernel_ns = ju64(j, "kernel_ns");
	r->max_call_ns = ju64(j, "max_call_ns");
	r->pid_reused = jbool(j, "pid_reused");
	/* call_error: the move's own error line says it */
}

static int render_move(struct json_object *r, FILE *out, const struct ctl_render_opts *o)
{
	struct pagemig_report rep;
	struct json_object *err = jget(r, "error");
	char title[192], a[32];

	if (jget(r, "start"))
		snprintf(title, sizeof(title), "process %" PRId64 " (%s) %s-%s to node %" PRId64,
			 jint(r, "pid", 0), jstr(r, "comm", "?"), jstr(r, "start", "?"),
			 jstr(r, "end", "?"), jint(r, "node", 0));
	else
		snprintf(title, sizeof(title), "process %" PRId64 " (%s) to node %" PRId64,
			 jint(r, "pid", 0), jstr(r, "comm", "?"), jint(r, "node", 0));
	fprintf(out, "manual move %" PRIu64 ": %s: %s in %s\n", ju64(r, "id"), title,
		jbool(r, "completed") ? "completed" : "STOPPED",
		ctl_fmt_ms(a, sizeof(a), (double)ju64(r, "elapsed_ms")));
	if (err)
		fprintf(out, "  stopped: %s (%s)\n", jstr(err, "message", "?"),
			jstr(err, "code", "?"));
	report_from_json(jget(r, "report"), &rep);
	pagemig_report_print(out, &rep, "  resident pages");
	(void)o;
	return 0;
}

static int render_simple(const char *command, struct json_object *r, FILE *out)
{
	if (!strcmp(command, "pause")) {
		fprintf(out,
			jbool(r, "was_paused") ? "already paused\n"
					       : "paused: the policies move nothing until "
						 "'pagemigctl resume' (%" PRIu64
						 " planned pages dropped)\n",
			ju64(r, "pages_dropped"));
	} else if (!strcmp(command, "resume")) {
		fprintf(out, jbool(r, "was_paused") ? "resumed\n" : "was not paused\n");
	} else if (!strcmp(command, "reload")) {
		struct json_object *w = jget(r, "warnings");

		fprintf(out, "reloaded '%s': %" PRIu64 " polic%s, mode %s\n",
			jstr(r, "config", "?"), ju64(r, "policies"),
			ju64(r, "policies") == 1 ? "y" : "ies", jstr(r, "mode", "?"));
		for (size_t i = 0; i < jlen(w); i++)
			fprintf(out, "  %s\n", json_object_get_string(jat(w, i)));
	} else if (!strcmp(command, "config")) {
		const char *text = jstr(r, "text", "");

		fprintf(out, "# effective configuration of pagemigd, from '%s'%s%s\n",
			jstr(r, "path", "?"),
			jbool(r, "changed_only") ? " (changed keys only)" : "",
			jbool(r, "observe_forced") ? " (observe mode forced by --observe)" : "");
		if (jstr(r, "socket_override", NULL))
			fprintf(out, "# socket overridden by --socket %s\n",
				jstr(r, "socket_override", ""));
		fputs(text, out);
		if (*text && text[strlen(text) - 1] != '\n')
			fputc('\n', out);
	} else if (!strcmp(command, "metrics")) {
		fputs(jstr(r, "text", ""), out);
	} else {
		return -ENOENT;
	}
	return 0;
}

int ctl_render(const char *command, struct json_object *result, FILE *out,
	       const struct ctl_render_opts *opts)
{
	static const struct ctl_render_opts none;
	const struct ctl_render_opts *o = opts ? opts : &none;

	if (!strcmp(command, "status"))
		return render_status(result, out, o);
	if (!strcmp(command, "nodes"))
		return render_nodes(result, out, o);
	if (!strcmp(command, "procs"))
		return render_procs(result, out, o);
	if (!strcmp(command, "proc"))
		return render_proc(result, out, o);
	if (!strcmp(command, "history"))
		return render_history(result, out, o);
	if (!strcmp(command, "audit"))
		return render_audit(result, out, o);
	if (!strcmp(command, "move"))
		return render_move(result, out, o);
	return render_simple(command, result, out);
}
