/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pagemigd's metrics in the Prometheus text exposition format (version 0.0.4): every family
 * named pagemig_*, announced with # HELP and # TYPE before its samples, each series once.
 * The metric names and labels are listed in docs/control-protocol.md ("Metrics").
 *
 * Three parts, usable on their own:
 *   - a writer (struct metrics_text) that formats families and samples, escapes label values
 *     and refuses invalid names;
 *   - pagemig_metrics_render(): the daemon's metrics from a plain input structure, so unit
 *     tests render synthetic states;
 *   - a minimal HTTP/1.0 server for GET /metrics on a loopback address: non-blocking, a few
 *     clients at a time, bounded requests, a deadline per client.
 */
#ifndef PAGEMIG_DAEMON_METRICS_H
#define PAGEMIG_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "executor.h"
#include "policy.h"
#include "sampler.h"
#include "topology.h"

/* ---- the writer ------------------------------------------------------------------------- */

/* Text being built. Zero-initialise it (or metrics_text_init()); err keeps the first error. */
struct metrics_text {
	char *buf;
	size_t len, cap;
	int err;	  /* 0, -ENOMEM, or -EINVAL (an invalid metric or label name was used) */
	char family[128]; /* the family being written */
	char type[16];	  /* its type */
};

/* Make t empty (no allocation yet). */
void metrics_text_init(struct metrics_text *t);
/* Release t's buffer and make it empty again. */
void metrics_text_free(struct metrics_text *t);

/* Start a family: "# HELP name help" and "# TYPE name type" (counter, gauge, histogram,
 * untyped). help is escaped as the format requires. */
void metrics_family(struct metrics_text *t, const char *name, const char *type, const char *help);

/*
 * One sample of the current family: name is the family's name plus suffix (NULL or "" for
 * counters and gauges; "_bucket", "_sum", "_count" for histograms). The variadic part is pairs
 * of label name and value, ending with NULL. Values are escaped.
 */
void metrics_u64(struct metrics_text *t, const char *suffix, uint64_t value, ...)
	__attribute__((sentinel));
void metrics_f64(struct metrics_text *t, const char *suffix, double value, ...)
	__attribute__((sentinel));

/* Is name a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name ([a-zA-Z_][a-zA-Z0-9_]*,
 * not starting with "__")? */
bool metrics_valid_name(const char *name);
bool metrics_valid_label(const char *name);

/* ---- the daemon's metrics --------------------------------------------------------------- */

/* Upper bounds (seconds) of the cycle-duration histogram's buckets; +Inf is implicit. */
#define PAGEMIG_METRICS_CYCLE_BUCKETS 8
extern const double pagemig_metrics_cycle_bounds[PAGEMIG_METRICS_CYCLE_BUCKETS];

/* What the metrics are made of; every pointer may be NULL when that part is missing (no
 * sampler, no audit, no plan yet): its families are then left out or report zero. */
struct pagemig_metrics_input {
	const char *version; /* pagemigd's */
	bool up;	     /* false for the last file written at stop */
	bool observe;
	bool paused;
	uint64_t start_time_s; /* CLOCK_REALTIME at start */
	uint64_t uptime_s;
	/* the cycle */
	uint64_t cycles;
	uint64_t plans_skipped; /* settled processes not planned again, summed over cycles */
	uint64_t plans_topped_up; /* processes planned with their newly accessed pages only */
	uint64_t departures;	  /* processes seen leaving their home between cycles */
	uint64_t cycles_soon;	  /* cycles brought forward (pagemigd_cycle_soon) */
	double last_cycle_s;
	uint64_t cycle_buckets[PAGEMIG_METRICS_CYCLE_BUCKETS + 1]; /* per bucket, last = +Inf */
	double cycle_sum_s;
	uint64_t cycle_count;
	/* managed processes */
	uint64_t managed;
	double local_share;		    /* < 0: unknown (left out) */
	const uint64_t *node_managed_pages; /* sampled resident pages per node (topology ids) */
	/* moves */
	const struct exec_counters *exec;
	uint64_t pages_pending;
	const struct pagemig_plan *plan; /* the latest plan */
	uint64_t manual_moves_ok, manual_moves_failed;
	const struct pagemig_report *manual; /* all manual moves together */
	/* the machine */
	const struct pagemig_topology *topo;
	/* the sampler */
	const struct pagemig_source_status *sources; /* PAGEMIG_SOURCE__COUNT */
	const struct pagemig_sampler_stats *sampler;
	const struct pagemig_mig_counts *migrations; /* PAGEMIG_MR__COUNT, since load */
	const struct pagemig_audit_totals *audit;
	/* the control socket */
	uint64_t control_clients;
};

/* Render in into t (appending). Returns t->err. */
int pagemig_metrics_render(const struct pagemig_metrics_input *in, struct metrics_text *t);

/* The negative errno a failed page of this outcome ends with in pagemig_move()'s status[], by
 * name ("EBUSY"), or NULL for outcomes that are not failures. */
const char *pagemig_metrics_outcome_errno(enum pagemig_outcome outcome);

/* ---- the HTTP listener ------------------------------------------------------------------ */

#define METRICS_HTTP_CLIENTS	 8
#define METRICS_HTTP_REQUEST_MAX 4096 /* request line and headers */
#define METRICS_HTTP_TIMEOUT_MS	 5000 /* a client must be served within this */

struct metrics_http;

/* Produce the metrics text: a malloc'ed buffer and its length, or NULL (the client then gets
 * 500). */
typedef char *(*metrics_render_fn)(void *ctx, size_t *len);

/*
 * Listen on addr, "HOST:PORT" where HOST is a loopback address: 127.x.y.z, [::1] or localhost
 * (port 0 picks a free port). Returns 0 and *ret, -EINVAL for a malformed address,
 * -EADDRNOTAVAIL for an address that is not loopback, or -errno from socket()/bind()/listen().
 */
int metrics_http_open(const char *addr, metrics_render_fn render, void *ctx,
		      struct metrics_http **ret);
/* Close the listener and drop its clients; NULL is fine. */
void metrics_http_close(struct metrics_http *h);

/* The port listened on (host order). */
unsigned int metrics_http_port(const struct metrics_http *h);

/* The address listened on, "127.0.0.1:9464" or "[::1]:9464" (the real port when 0 was
 * asked for), into buf. */
void metrics_http_address(const struct metrics_http *h, char *buf, size_t len);

/* Register the listener (and later its clients) in epfd. */
int metrics_http_set_epoll(struct metrics_http *h, int epfd);

/* True for the listener's fd and its clients' fds. */
bool metrics_http_owns(const struct metrics_http *h, int fd);

/* Handle events on one of those fds. */
void metrics_http_io(struct metrics_http *h, int fd, uint32_t events);

/* Drop clients older than METRICS_HTTP_TIMEOUT_MS. */
void metrics_http_expire(struct metrics_http *h, uint64_t now_ms);

/* Requests answered (any status) since open. */
uint64_t metrics_http_requests(const struct metrics_http *h);

/* ---- the file ----------------------------------------------------------------------------- */

/* Write text to path atomically: into "path.tmp" in the same directory (mode 0644), then
 * rename over path, so node_exporter's textfile collector never reads half a file. Returns 0 or
 * -errno. */
int metrics_write_file(const char *path, const char *text, size_t len);

#endif
