// SPDX-License-Identifier: LGPL-2.1-or-later
/* pagemigd's Prometheus text: the writer, the daemon's families, the HTTP listener and the
 * textfile. See metrics.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "sampler_audit.h"
#include "clock.h"

/* ---- the writer ------------------------------------------------------------------------- */

void metrics_text_init(struct metrics_text *t)
{
	memset(t, 0, sizeof(*t));
}

void metrics_text_free(struct metrics_text *t)
{
	free(t->buf);
	metrics_text_init(t);
}

static void put(struct metrics_text *t, const char *s, size_t n)
{
	if (t->err)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 16384;
		char *b;

		while (cap < t->len + n + 1)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b) {
			t->err = -ENOMEM;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = 0;
}

static void puts_(struct metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Escape for HELP text (backslash, newline) or, with quote, for label values (also '"'). */
static void put_escaped(struct metrics_text *t, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(t, "\\\\");
		else if (*s == '\n')
			puts_(t, "\\n");
		else if (quote && *s == '"')
			puts_(t, "\\\"");
		else
			put(t, s, 1);
	}
}

bool metrics_valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return false;
	return true;
}

bool metrics_valid_label(const char *s)
{
	if (!metrics_valid_name(s) || strchr(s, ':') || !strncmp(s, "__", 2))
		return false;
	return true;
}

void metrics_family(struct metrics_text *t, const char *name, const char *type, const char *help)
{
	if (!metrics_valid_name(name) || strlen(name) >= sizeof(t->family)) {
		t->err = t->err ? t->err : -EINVAL;
		return;
	}
	snprintf(t->family, sizeof(t->family), "%s", name);
	snprintf(t->type, sizeof(t->type), "%s", type);
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_escaped(t, help, false);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
}

static void sample_head(struct metrics_text *t, const char *suffix, va_list ap)
{
	const char *k;
	bool first = true;

	if (!t->family[0]) {
		t->err = t->err ? t->err : -EINVAL;
		return;
	}
	puts_(t, t->family);
	if (suffix)
		puts_(t, suffix);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		if (!metrics_valid_label(k)) {
			t->err = t->err ? t->err : -EINVAL;
			return;
		}
		puts_(t, first ? "{" : ",");
		puts_(t, k);
		puts_(t, "=\"");
		put_escaped(t, v ? v : "", true);
		puts_(t, "\"");
		first = false;
	}
	if (!first)
		puts_(t, "}");
	puts_(t, " ");
}

void metrics_u64(struct metrics_text *t, const char *suffix, uint64_t value, ...)
{
	char num[32];
	va_list ap;

	va_start(ap, value);
	sample_head(t, suffix, ap);
	va_end(ap);
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)value);
	puts_(t, num);
}

void metrics_f64(struct metrics_text *t, const char *suffix, double value, ...)
{
	char num[40];
	va_list ap;

	va_start(ap, value);
	sample_head(t, suffix, ap);
	va_end(ap);
	if (isnan(value))
		snprintf(num, sizeof(num), "NaN\n");
	else if (isinf(value))
		snprintf(num, sizeof(num), "%s\n", value > 0 ? "+Inf" : "-Inf");
	else
		snprintf(num, sizeof(num), "%.10g\n", value);
	puts_(t, num);
}

/* ---- the daemon's families ------------------------------------------------------------ */

const double pagemig_metrics_cycle_bounds[PAGEMIG_METRICS_CYCLE_BUCKETS] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
};

const char *pagemig_metrics_outcome_errno(enum pagemig_outcome o)
{
	/* the final status[] values pagemig_move() documents for each failure */
	switch (o) {
	case PAGEMIG_OUT_NOT_MAPPED:
		return "EFAULT";
	case PAGEMIG_OUT_NOT_PRESENT:
		return "ENOENT";
	case PAGEMIG_OUT_SHARED:
		return "EACCES";
	case PAGEMIG_OUT_BUSY:
		return "EBUSY";
	case PAGEMIG_OUT_NO_MEMORY:
		return "ENOMEM";
	case PAGEMIG_OUT_MIGRATE_FAILED:
		return "EAGAIN";
	case PAGEMIG_OUT_IO:
		return "EIO";
	case PAGEMIG_OUT_WRONG_NODE:
		return "EXDEV";
	case PAGEMIG_OUT_FOLIO_MIXED:
		return "ENOTRECOVERABLE";
	case PAGEMIG_OUT_NOT_ATTEMPTED:
		return "ECANCELED";
	default:
		return NULL;
	}
}

/* The policy type behind a move reason. */
static const char *reason_policy(enum pagemig_move_reason r)
{
	switch (r) {
	case PAGEMIG_REASON_LOCAL_PAGE:
	case PAGEMIG_REASON_HOME_NODE:
		return pagemig_policy_type_name(PAGEMIG_POLICY_LOCALITY);
	case PAGEMIG_REASON_PROMOTE:
	case PAGEMIG_REASON_DEMOTE:
		return pagemig_policy_type_name(PAGEMIG_POLICY_TIERING);
	case PAGEMIG_REASON_PIN:
		return pagemig_policy_type_name(PAGEMIG_POLICY_PIN);
	default:
		return "?";
	}
}

static void render_daemon(const struct pagemig_metrics_input *in, struct metrics_text *t)
{
	metrics_family(t, "pagemig_build_info", "gauge",
		       "pagemigd and libpagemig versions; always 1.");
	metrics_u64(t, NULL, 1, "version", in->version ? in->version : "", "libpagemig",
		    pagemig_version(), NULL);
	metrics_family(t, "pagemig_up", "gauge",
		       "1 while pagemigd runs; 0 in the file it leaves when it stops.");
	metrics_u64(t, NULL, in->up, NULL);
	metrics_family(t, "pagemig_start_time_seconds", "gauge",
		       "When pagemigd started, seconds since the Unix epoch.");
	metrics_u64(t, NULL, in->start_time_s, NULL);
	metrics_family(t, "pagemig_uptime_seconds", "gauge", "Seconds since pagemigd started.");
	metrics_u64(t, NULL, in->uptime_s, NULL);
	metrics_family(t, "pagemig_observe_mode", "gauge",
		       "1 in observe mode (plans are reported, never moved), 0 in enforce mode.");
	metrics_u64(t, NULL, in->observe, NULL);
	metrics_family(t, "pagemig_paused", "gauge",
		       "1 while the policies are paused (pagemigctl pause).");
	metrics_u64(t, NULL, in->paused, NULL);
	metrics_family(t, "pagemig_control_clients", "gauge",
		       "Clients connected to the control socket.");
	metrics_u64(t, NULL, in->control_clients, NULL);
}

static void render_cycle(const struct pagemig_metrics_input *in, struct metrics_text *t)
{
	uint64_t cum = 0;
	char le[32];

	metrics_family(t, "pagemig_cycles_total", "counter", "Policy cycles run.");
	metrics_u64(t, NULL, in->cycles, NULL);
	metrics_family(t, "pagemig_plans_skipped_total", "counter",
		       "Times a cycle did not plan a settled or held process again.");
	metrics_u64(t, NULL, in->plans_skipped, NULL);
	metrics_family(t, "pagemig_plans_topped_up_total", "counter",
		       "Times a cycle planned only a process's pages first found hot since the "
		       "last plan, while that plan's moves ran.");
	metrics_u64(t, NULL, in->plans_topped_up, NULL);
	metrics_family(t, "pagemig_departures_total", "counter",
		       "Times a process was seen leaving its home node between cycles (re-armed, "
		       "next cycle brought forward).");
	metrics_u64(t, NULL, in->departures, NULL);
	metrics_family(t, "pagemig_cycles_soon_total", "counter",
		       "Cycles brought forward to a second after a re-arm: a departure, memory "
		       "armed for the first time, far pages waiting for a second sample.");
	metrics_u64(t, NULL, in->cycles_soon, NULL);
	metrics_family(t, "pagemig_last_cycle_seconds", "gauge",
		       "Duration of the latest policy cycle (scan, drain, plan; not the moves).");
	metrics_f64(t, NULL, in->last_cycle_s, NULL);
	metrics_family(t, "pagemig_cycle_duration_seconds", "histogram",
		       "Durations of policy cycles.");
	for (int i = 0; i < PAGEMIG_METRICS_CYCLE_BUCKETS; i++) {
		cum += in->cycle_buckets[i];
		snprintf(le, sizeof(le), "%g", pagemig_metrics_cycle_bounds[i]);
		metrics_u64(t, "_bucket", cum, "le", le, NULL);
	}
	cum += in->cycle_buckets[PAGEMIG_METRICS_CYCLE_BUCKETS];
	metrics_u64(t, "_bucket", cum, "le", "+Inf", NULL);
	metrics_f64(t, "_sum", in->cycle_sum_s, NULL);
	metrics_u64(t, "_count", in->cycle_count, NULL);

	metrics_family(t, "pagemig_managed_processes", "gauge",
		       "Processes a policy other than ignore manages.");
	metrics_u64(t, NULL, in->managed, NULL);
	if (in->local_share >= 0) {
		metrics_family(
			t, "pagemig_local_access_ratio", "gauge",
			"Share of the managed processes' sampled accesses that hit memory on "
			"the accessing CPU's node (0..1).");
		metrics_f64(t, NULL, in->local_share, NULL);
	}
}

static void render_moves(const struct pagemig_metrics_input *in, struct metrics_text *t)
{
	static const struct exec_counters zero;
	const struct exec_counters *c = in->exec ? in->exec : &zero;
	const struct pagemig_topology *topo = in->topo;
	char a[12], b[12];

	metrics_family(t, "pagemig_decisions_total", "counter",
		       "Groups of pages (one process, reason, source and target node) the "
		       "executor handled, observe mode included.");
	metrics_u64(t, NULL, c->decisions, NULL);
	metrics_family(t, "pagemig_pages_planned_total", "counter",
		       "Pages the policies planned to move.");
	metrics_u64(t, NULL, c->pages_planned, NULL);
	metrics_family(t, "pagemig_pages_pending", "gauge",
		       "Pages of the current plan not handled yet.");
	metrics_u64(t, NULL, in->pages_pending, NULL);

	metrics_family(t, "pagemig_pages_moved_total", "counter",
		       "Pages moved onto their target node, by policy type and reason "
		       "(policy=\"manual\": pagemigctl move).");
	for (int r = 0; r < PAGEMIG_REASON__COUNT; r++)
		metrics_u64(t, NULL, c->moved_by_reason[r], "policy", reason_policy(r), "reason",
			    pagemig_move_reason_name(r), NULL);
	metrics_u64(t, NULL, in->manual ? in->manual->pages_moved : 0, "policy", "manual", "reason",
		    "manual", NULL);

	metrics_family(t, "pagemig_bytes_moved_total", "counter",
		       "Bytes moved by the policies and by manual moves.");
	metrics_u64(t, NULL, c->bytes_moved, "source", "policy", NULL);
	metrics_u64(t, NULL, in->manual ? in->manual->bytes_moved : 0, "source", "manual", NULL);

	metrics_family(t, "pagemig_pages_moved_by_node_total", "counter",
		       "Pages the policies moved, by source and target node.");
	for (int f = 0; topo && f <= topo->max_node; f++)
		for (int to = 0; to <= topo->max_node; to++) {
			if (f == to || !topo->node[f].has_memory || !topo->node[to].has_memory)
				continue;
			snprintf(a, sizeof(a), "%d", f);
			snprintf(b, sizeof(b), "%d", to);
			metrics_u64(t, NULL, c->moved_from_to[f][to], "from", a, "to", b, NULL);
		}

	metrics_family(t, "pagemig_pages_failed_total", "counter",
		       "Pages not on their target after retries, by final outcome and the errno "
		       "pagemig_move() reports for it.");
	for (int o = 0; o < PAGEMIG_OUT__COUNT; o++) {
		const char *e = pagemig_metrics_outcome_errno(o);

		if (!e)
			continue;
		metrics_u64(t, NULL, c->by_outcome[o], "source", "policy", "outcome",
			    pagemig_outcome_name(o), "errno", e, NULL);
		metrics_u64(t, NULL, in->manual ? in->manual->by_outcome[o] : 0, "source", "manual",
			    "outcome", pagemig_outcome_name(o), "errno", e, NULL);
	}

	metrics_family(t, "pagemig_pages_failed_by_step_total", "counter",
		       "Pages the policies failed to move, by the documented migration step "
		       "where the kernel backed out (B1-B7: inside migrate_pages(), not told "
		       "apart by kernels since 4.17).");
	for (int s = 1; s < PAGEMIG_STEP__COUNT; s++) {
		const struct pagemig_step_info *si = pagemig_step_info(s);

		if (si->may_back_out || c->by_step[s])
			metrics_u64(t, NULL, c->by_step[s], "step", si->label, NULL);
	}
	metrics_family(t, "pagemig_manual_backouts_total", "counter",
		       "Kernel answers during manual moves that backed out, by documented step "
		       "(retried answers included).");
	for (int s = 1; s < PAGEMIG_STEP__COUNT; s++) {
		const struct pagemig_step_info *si = pagemig_step_info(s);
		unsigned long v = in->manual ? in->manual->by_step[s] : 0;

		if (si->may_back_out || v)
			metrics_u64(t, NULL, v, "step", si->label, NULL);
	}

	metrics_family(t, "pagemig_page_retries_total", "counter",
		       "Pages sent to the kernel again after a transient failure.");
	metrics_u64(t, NULL, c->retries, "source", "policy", NULL);
	metrics_u64(t, NULL, in->manual ? in->manual->retries : 0, "source", "manual", NULL);
	metrics_family(t, "pagemig_move_calls_total", "counter", "move_pages(2) calls that moved.");
	metrics_u64(t, NULL, c->calls, "source", "policy", NULL);
	metrics_u64(t, NULL, in->manual ? in->manual->calls : 0, "source", "manual", NULL);
	metrics_family(t, "pagemig_move_call_max_seconds", "gauge",
		       "Longest single move_pages(2) call of the policies.");
	metrics_f64(t, NULL, (double)c->max_call_ns / 1e9, NULL);
	metrics_family(t, "pagemig_process_gone_total", "counter",
		       "Groups of moves dropped because the process exited or its pid was reused.");
	metrics_u64(t, NULL, c->proc_gone, NULL);
	metrics_family(t, "pagemig_left_node_pages_total", "counter",
		       "Pending moves dropped because the process no longer runs on their target "
		       "node.");
	metrics_u64(t, NULL, c->left_node, NULL);
	metrics_family(t, "pagemig_manual_moves_total", "counter",
		       "Manual moves (pagemigctl move) by result.");
	metrics_u64(t, NULL, in->manual_moves_ok, "result", "completed", NULL);
	metrics_u64(t, NULL, in->manual_moves_failed, "result", "failed", NULL);

	if (in->plan) {
		metrics_family(t, "pagemig_plan_pages", "gauge",
			       "Pages of the latest plan, by reason.");
		for (int r = 0; r < PAGEMIG_REASON__COUNT; r++)
			metrics_u64(t, NULL, in->plan->by_reason[r], "reason",
				    pagemig_move_reason_name(r), NULL);
		metrics_family(t, "pagemig_plan_skipped_pages", "gauge",
			       "Candidate pages the latest plan left alone, by guard.");
		for (int s = 0; s < PAGEMIG_SKIP__COUNT; s++)
			metrics_u64(t, NULL, in->plan->skipped[s], "why",
				    pagemig_policy_skip_name(s), NULL);
	}
}

static void render_nodes(const struct pagemig_metrics_input *in, struct metrics_text *t)
{
	const struct pagemig_topology *topo = in->topo;
	char n[12];

	if (!topo)
		return;
	metrics_family(t, "pagemig_node_memory_free_bytes", "gauge",
		       "Free memory per NUMA node at the latest cycle.");
	for (int i = 0; i <= topo->max_node; i++)
		if (topo->node[i].has_memory) {
			snprintf(n, sizeof(n), "%d", i);
			metrics_u64(t, NULL, topo->node[i].mem_free, "node", n, NULL);
		}
	metrics_family(t, "pagemig_node_memory_total_bytes", "gauge", "Memory per NUMA node.");
	for (int i = 0; i <= topo->max_node; i++)
		if (topo->node[i].has_memory) {
			snprintf(n, sizeof(n), "%d", i);
			metrics_u64(t, NULL, topo->node[i].mem_total, "node", n, NULL);
		}
	if (in->node_managed_pages) {
		metrics_family(t, "pagemig_node_managed_pages", "gauge",
			       "Sampled pages of managed processes resident per node.");
		for (int i = 0; i <= topo->max_node; i++)
			if (topo->node[i].has_memory) {
				snprintf(n, sizeof(n), "%d", i);
				metrics_u64(t, NULL, in->node_managed_pages[i], "node", n, NULL);
			}
	}
}

static void render_sampler(const struct pagemig_metrics_input *in, struct metrics_text *t)
{
	const struct pagemig_sampler_stats *st = in->sampler;

	if (in->sources) {
		metrics_family(t, "pagemig_sampler_source_state", "gauge",
			       "State of each sampler source: 1 for its current state.");
		for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++)
			metrics_u64(t, NULL, 1, "source", pagemig_source_name(i), "state",
				    pagemig_source_state_name(in->sources[i].state), NULL);
	}
	if (st) {
		metrics_family(t, "pagemig_sampler_events_total", "counter",
			       "Events the sampler received, per source.");
		metrics_u64(t, NULL, st->samples[PAGEMIG_SAMPLE_FAULT], "source", "fault", NULL);
		metrics_u64(t, NULL, st->samples[PAGEMIG_SAMPLE_PMU], "source", "pmu", NULL);
		metrics_u64(t, NULL, st->slices, "source", "oncpu", NULL);
		metrics_u64(t, NULL, st->audit_events, "source", "audit", NULL);
		metrics_u64(t, NULL, st->rearms, "source", "softdirty", NULL);
		metrics_family(t, "pagemig_sampler_rearms_early_total", "counter",
			       "Soft-dirty re-arms made before their period: hot far pages wait for "
			       "a second sample (tiering), or the process changed node.");
		metrics_u64(t, NULL, st->rearms_early, NULL);
		metrics_family(t, "pagemig_sampler_rearms_grown_total", "counter",
			       "Soft-dirty re-arms made before their period for a process that had "
			       "just grown by pages first touched since its last re-arm.");
		metrics_u64(t, NULL, st->rearms_grown, NULL);
		metrics_family(t, "pagemig_sampler_rearms_skipped_total", "counter",
			       "Due soft-dirty re-arms of settled locality processes skipped: no more "
			       "of their memory was off their home node (or, spread over nodes, "
			       "no more memory at all) than when they settled.");
		metrics_u64(t, NULL, st->rearms_skipped, NULL);
		metrics_family(t, "pagemig_sampler_rearm_holds_total", "counter",
			       "Times a process's re-arming was held while more of its planned moves "
			       "were pending than three intervals do.");
		metrics_u64(t, NULL, st->holds, NULL);
		metrics_family(t, "pagemig_sampler_not_present_faults_total", "counter",
			       "Fault samples on a page not present (first touches; hinting faults "
			       "under NUMA balancing), by whether they were weighed as accesses.");
		metrics_u64(t, NULL, st->not_present[0], "weighed", "no", NULL);
		metrics_u64(t, NULL, st->not_present[1], "weighed", "yes", NULL);
		metrics_family(t, "pagemig_sampler_dropped_total", "counter",
			       "Sampler data lost, per source and reason.");
		metrics_u64(t, NULL, st->ring_dropped, "source", "access", "reason", "ring_full",
			    NULL);
		metrics_u64(t, NULL, st->table_dropped, "source", "access", "reason", "table_full",
			    NULL);
		metrics_u64(t, NULL, st->no_node, "source", "access", "reason", "no_node", NULL);
		metrics_u64(t, NULL, st->snapshot_dropped, "source", "access", "reason",
			    "snapshot_full", NULL);
		metrics_u64(t, NULL, st->pmu_no_addr, "source", "pmu", "reason", "no_address",
			    NULL);
		metrics_u64(t, NULL, st->oncpu_failed, "source", "oncpu", "reason", "map_full",
			    NULL);
		metrics_u64(t, NULL, st->audit_dropped, "source", "audit", "reason", "ringbuf_full",
			    NULL);
		metrics_u64(t, NULL, st->rearm_failed, "source", "softdirty", "reason",
			    "rearm_failed", NULL);
		/* samples of processes no longer managed when they were read (exited): ignored */
		metrics_u64(t, NULL, st->unmanaged, "source", "access", "reason", "unmanaged",
			    NULL);
		/* not lost: late; a steady rise says drains keep meeting CPUs mid-staging */
		metrics_family(t, "pagemig_sampler_flush_deferred_total", "counter",
			       "CPUs whose staged fault samples a drain could not flush at once: "
			       "busy (the CPU was staging; tried once more), missed (left for a "
			       "later drain).");
		metrics_u64(t, NULL, st->flush_busy, "reason", "busy", NULL);
		metrics_u64(t, NULL, st->flush_missed, "reason", "missed", NULL);
	}
	if (in->migrations) {
		metrics_family(
			t, "pagemig_kernel_migrated_pages_total", "counter",
			"Base pages every mover in the kernel migrated since the sampler "
			"loaded, by migration reason and result (reason=\"syscall\" includes "
			"pagemigd's own moves).");
		for (int r = 0; r < PAGEMIG_MR__COUNT; r++) {
			metrics_u64(t, NULL, in->migrations[r].succeeded, "reason",
				    pagemig_mig_reason_name(r), "result", "succeeded", NULL);
			metrics_u64(t, NULL, in->migrations[r].failed, "reason",
				    pagemig_mig_reason_name(r), "result", "failed", NULL);
		}
		metrics_family(t, "pagemig_kernel_migrate_calls_total", "counter",
			       "Kernel migrate_pages() calls that ended, by migration reason.");
		for (int r = 0; r < PAGEMIG_MR__COUNT; r++)
			metrics_u64(t, NULL, in->migrations[r].calls, "reason",
				    pagemig_mig_reason_name(r), NULL);
	}
	if (in->audit) {
		metrics_family(t, "pagemig_audit_calls_total", "counter",
			       "Audited migrate_pages() calls that ended, by the step order seen "
			       "(documented per-page order, or batched as kernels since ~6.3 do).");
		metrics_u64(t, NULL, in->audit->batches_interleaved, "order", "documented", NULL);
		metrics_u64(t, NULL, in->audit->batches_batched, "order", "batched", NULL);
		metrics_family(t, "pagemig_audit_steps_total", "counter",
			       "Documented migration steps the audit saw (B4: migration entries "
			       "installed, B16: real entries restored).");
		metrics_u64(t, NULL, in->audit->set, "step", "B4", NULL);
		metrics_u64(t, NULL, in->audit->remove, "step", "B16", NULL);
	}
}

int pagemig_metrics_render(const struct pagemig_metrics_input *in, struct metrics_text *t)
{
	render_daemon(in, t);
	if (in->up) {
		render_cycle(in, t);
		render_moves(in, t);
		render_nodes(in, t);
		render_sampler(in, t);
	}
	return t->err;
}

/* ---- the file ------------------------------------------------------------------------- */

int metrics_write_file(const char *path, const char *text, size_t len)
{
	char tmp[4200];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		text += n;
		len -= (size_t)n;
	}
	/* the umask may have taken bits away: the collector runs as another user */
	if (!err && fchmod(fd, 0644) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* ---- the HTTP listener ------------------------------------------------------------------ */

struct http_client {
	int fd;
	uint64_t since_ms;
	char req[METRICS_HTTP_REQUEST_MAX];
	size_t req_len;
	char *out;
	size_t out_len, out_off;
};

struct metrics_http {
	int fd;
	int epfd;
	unsigned int port;
	metrics_render_fn render;
	void *ctx;
	uint64_t requests;
	struct http_client clients[METRICS_HTTP_CLIENTS];
};

/* Parse "HOST:PORT" into a loopback socket address. */
static int parse_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *colon, *p;
	char *end;
	unsigned long port;

	if (!addr || !*addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		host[close - addr - 1] = 0;
		p = close + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host) ||
		    memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = 0;
		p = colon + 1;
	}
	if (!*p || *p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(p, &end, 10);
	if (errno || *end || port > 65535)
		return -EINVAL;

	memset(ss, 0, sizeof(*ss));
	if (!strcasecmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	{
		struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
			if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
				return -EADDRNOTAVAIL;
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)port);
			*sl = sizeof(*in4);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
			if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
				return -EADDRNOTAVAIL;
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			*sl = sizeof(*in6);
			return 0;
		}
	}
	return -EINVAL;
}

int metrics_http_open(const char *addr, metrics_render_fn render, void *ctx,
		      struct metrics_http **ret)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	struct metrics_http *h;
	int one = 1, err;

	err = parse_listen(addr, &ss, &sl);
	if (err)
		return err;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->epfd = -1;
	h->render = render;
	h->ctx = ctx;
	for (int i = 0; i < METRICS_HTTP_CLIENTS; i++)
		h->clients[i].fd = -1;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0) {
		err = -errno;
		goto out_free;
	}
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (struct sockaddr *)&ss, sl) < 0 || listen(h->fd, 16) < 0) {
		err = -errno;
		goto out_close;
	}
	sl = sizeof(ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							: ((struct sockaddr_in6 *)&ss)->sin6_port);
	*ret = h;
	return 0;

out_close:
	close(h->fd);
out_free:
	free(h);
	return err;
}

static void http_drop(struct metrics_http *h, struct http_client *c)
{
	if (c->fd < 0)
		return;
	if (h->epfd >= 0)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void metrics_http_close(struct metrics_http *h)
{
	if (!h)
		return;
	for (int i = 0; i < METRICS_HTTP_CLIENTS; i++)
		http_drop(h, &h->clients[i]);
	if (h->epfd >= 0)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	close(h->fd);
	free(h);
}

unsigned int metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

void metrics_http_address(const struct metrics_http *h, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
				  sizeof(host));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
				  sizeof(host));
	}
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, h->port);
}

uint64_t metrics_http_requests(const struct metrics_http *h)
{
	return h->requests;
}

int metrics_http_set_epoll(struct metrics_http *h, int epfd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = h->fd};

	h->epfd = epfd;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

static struct http_client *http_find(const struct metrics_http *h, int fd)
{
	for (int i = 0; i < METRICS_HTTP_CLIENTS; i++)
		if (h->clients[i].fd == fd)
			return (struct http_client *)&h->clients[i];
	return NULL;
}

bool metrics_http_owns(const struct metrics_http *h, int fd)
{
	return h && fd >= 0 && (fd == h->fd || http_find(h, fd));
}

static void http_accept(struct metrics_http *h)
{
	for (;;) {
		int fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct http_client *c = http_find(h, -1);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};

		if (fd < 0)
			return;
		if (!c) {
			/* all slots busy: a scraper retries; refusing keeps the loop bounded */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->since_ms = mono_ms();
		c->req_len = 0;
		if (h->epfd >= 0)
			epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

static void http_respond(struct metrics_http *h, struct http_client *c, int code,
			 const char *reason, const char *body, size_t body_len, bool head)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %d %s\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 code, reason,
			 code == 200 ? "text/plain; version=0.0.4; charset=utf-8"
				     : "text/plain; charset=utf-8",
			 body_len);
	size_t total = (size_t)n + (head ? 0 : body_len);
	struct epoll_event ev = {.events = EPOLLOUT, .data.fd = c->fd};

	h->requests++;
	c->out = malloc(total);
	if (!c->out) {
		http_drop(h, c);
		return;
	}
	memcpy(c->out, hdr, (size_t)n);
	if (!head)
		memcpy(c->out + n, body, body_len);
	c->out_len = total;
	c->out_off = 0;
	if (h->epfd >= 0)
		epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void http_error(struct metrics_http *h, struct http_client *c, int code, const char *reason,
		       const char *body, bool head)
{
	http_respond(h, c, code, reason, body, strlen(body), head);
}

/* A whole request head is in: answer it. */
static void http_handle(struct metrics_http *h, struct http_client *c)
{
	char method[8], target[256], version[16];
	bool head;

	if (sscanf(c->req, "%7s %255s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		http_error(h, c, 400, "Bad Request", "bad request\n", false);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		http_error(h, c, 405, "Method Not Allowed", "only GET /metrics\n", false);
		return;
	}
	/* the query string (e.g. Prometheus' ?name[]=...) is ignored */
	if (strncmp(target, "/metrics", 8) || (target[8] && target[8] != '?')) {
		http_error(h, c, 404, "Not Found", "pagemigd serves /metrics only\n", head);
		return;
	}
	{
		size_t len = 0;
		char *text = h->render ? h->render(h->ctx, &len) : NULL;

		if (!text) {
			http_error(h, c, 500, "Internal Server Error", "rendering failed\n", head);
			return;
		}
		http_respond(h, c, 200, "OK", text, len, head);
		free(text);
	}
}

static void http_read(struct metrics_http *h, struct http_client *c)
{
	ssize_t n;

	if (c->out)
		return; /* answering: whatever else it sends is ignored */
	n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		http_drop(h, c);
		return;
	}
	if (n < 0)
		return;
	c->req_len += (size_t)n;
	c->req[c->req_len] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
		http_handle(h, c);
	} else if (c->req_len == sizeof(c->req) - 1) {
		http_error(h, c, 431, "Request Header Fields Too Large", "request too large\n",
			   false);
	}
}

static void http_write(struct metrics_http *h, struct http_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->out_off += (size_t)n;
	}
	http_drop(h, c); /* all sent (or failed): HTTP/1.0 closes */
}

void metrics_http_io(struct metrics_http *h, int fd, uint32_t events)
{
	struct http_client *c;

	if (fd == h->fd) {
		http_accept(h);
		return;
	}
	c = http_find(h, fd);
	if (!c)
		return;
	if (c->out) {
		if (events & (EPOLLHUP | EPOLLERR))
			http_drop(h, c);
		else
			http_write(h, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		http_read(h, c);
	if (c->fd >= 0 && c->out)
		http_write(h, c);
}

void metrics_http_expire(struct metrics_http *h, uint64_t now)
{
	for (int i = 0; h && i < METRICS_HTTP_CLIENTS; i++) {
		struct http_client *c = &h->clients[i];

		if (c->fd >= 0 && now - c->since_ms > METRICS_HTTP_TIMEOUT_MS)
			http_drop(h, c);
	}
}
