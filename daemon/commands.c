// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The daemon's control commands and what serves them: manual moves run in slices by the main
 * loop, per-process accounting of the executor's decisions, the metrics outputs.
 *
 * Field names are part of the protocol (docs/control-protocol.md): add fields, never rename or
 * remove them. Every handler validates its arguments strictly (unknown keys are errors) and
 * answers with an errno name and a message that says what to do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "metrics.h"
#include "numa_maps.h"
#include "pagemigd.h"
#include "clock.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct manual_decision {
	struct exec_decision d; /* rule "manual"; reason unused; from -1 */
	uint64_t start, end;	/* the range asked for; 0, 0 for the whole process */
};

/* One page of a manual move whose migration steps the audit follows. */
struct audit_sample {
	uint64_t addr;
	int before;			/* node before the move */
	bool seen;			/* the audit has a record of it */
	struct pagemig_audit_page page; /* that record */
	enum pagemig_audit_verdict verdict;
};

struct move_range {
	uint64_t lo, hi;
};

/* The manual move in progress (one at a time). */
struct move_job {
	bool active;
	uint64_t id;
	uint64_t client; /* control client waiting for the answer */
	uid_t uid;	 /* who asked */
	pid_t pid;
	int pidfd;
	char comm[16];
	int node;
	uint64_t start, end;	   /* as asked; 0, 0 for the whole process */
	struct move_range *ranges; /* mappings (parts) with resident pages, in address order */
	size_t n_ranges, cur;
	uint64_t pos;	  /* next address in ranges[cur] to scan */
	uint64_t span;	  /* bytes of address space to go through */
	uint64_t scanned; /* of those, done */
	int pagemap_fd;	  /* /proc/PID/pagemap: which pages are resident */
	uint64_t *pm;	  /* PAGEMIGD_MOVE_SCAN_PAGES entries */
	size_t scan_n;	  /* entries to read next: grows over sparse memory */
	void **batch;	  /* resident pages found, PAGEMIGD_MOVE_CHUNK_PAGES at most */
	int *bnodes, *bstatus;
	size_t n_batch;
	struct pagemig_opts opts;
	struct pagemig_report rep;
	long off_target;
	int error;
	uint64_t t0_ms;
	struct audit_sample sample[PAGEMIGD_MOVE_AUDIT_PAGES];
	size_t n_sample;
};

struct commands_state {
	uint64_t start_real_s;
	/* executor decisions accounted per process up to this sequence number */
	uint64_t history_seq;
	uint64_t history_missed; /* decisions the ring overwrote before they were accounted */
	/* cycles */
	uint64_t seen_cycles;
	uint64_t cycle_buckets[PAGEMIG_METRICS_CYCLE_BUCKETS + 1];
	double cycle_sum_s;
	uint64_t cycle_count;
	/* manual moves */
	struct move_job job;
	uint64_t moves; /* started so far: the last one's id */
	struct manual_decision manual[PAGEMIGD_MANUAL_HISTORY];
	uint64_t n_manual; /* decisions recorded; manual[(n - 1) % size] is the newest */
	struct pagemig_report manual_total;
	uint64_t manual_pages_failed; /* resident pages manual moves left off target */
	uint64_t manual_ok, manual_failed;
	/* the latest finished manual move's audit sample */
	uint64_t audit_id;
	pid_t audit_pid;
	int audit_node;
	struct audit_sample audit[PAGEMIGD_MOVE_AUDIT_PAGES];
	size_t n_audit;
	/* metrics outputs */
	struct metrics_http *http;
	char http_cfg[PAGEMIG_CONFIG_METRICS_LISTEN_MAX]; /* metrics_listen it was opened for */
	char http_addr[80];				  /* what it listens on */
	bool metrics_file_failing;
};

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* A node id, or null when negative (unknown). */
static void add_node(struct json_object *o, const char *k, int node)
{
	json_object_object_add(o, k, node >= 0 ? json_object_new_int(node) : NULL);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

/* Ten significant digits: json-c's default (17) shows binary noise ("3.5949200000000001"). */
static struct json_object *new_double(double v)
{
	char buf[32];

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.10g", v);
	if (!strpbrk(buf, ".en"))
		strcat(buf, ".0"); /* stays a JSON number with a fraction: a double to readers */
	return json_object_new_double_s(v, buf);
}

static void add_double(struct json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, new_double(v));
}

/* A share 0..1, or null when unknown (negative). */
static void add_share(struct json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, v >= 0 ? new_double(v) : NULL);
}

/* An address as "0x7f12a000" (JSON numbers lose precision beyond 2^53 in many parsers). */
static void add_addr(struct json_object *o, const char *k, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	json_object_object_add(o, k, json_object_new_string(buf));
}

/* "2025-11-25T21:36:43.123Z" */
static void add_time(struct json_object *o, const char *k, uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char buf[64];
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03uZ", (unsigned int)(ms % 1000));
	json_object_object_add(o, k, json_object_new_string(buf));
}

/* [{"node": n, "pages": v}, ...] for every node with memory. */
static struct json_object *per_node_json(const struct pagemig_topology *t, const uint64_t *v,
					 const char *unit)
{
	struct json_object *a = json_object_new_array();

	for (int n = 0; n <= t->max_node; n++) {
		struct json_object *e;

		if (!t->node[n].has_memory)
			continue;
		e = json_object_new_object();
		add_int(e, "node", n);
		add_u64(e, unit, v[n]);
		json_object_array_add(a, e);
	}
	return a;
}

/* ---- arguments --------------------------------------------------------------------------- */

/* Refuse keys not in allowed (NULL-terminated). */
static int args_only(struct json_object *args, const char *cmd, const char *const allowed[],
		     char *msg, size_t len)
{
	if (!args)
		return 0;
	json_object_object_foreach(args, key, val)
	{
		bool ok = false;

		(void)val;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = !strcmp(key, allowed[i]);
		if (!ok) {
			snprintf(msg, len, "'%s' takes no argument '%.64s' (see pagemigctl --help)",
				 cmd, key);
			return -EINVAL;
		}
	}
	return 0;
}

/* An integer argument in [min, max]; *v untouched (the default) when absent. */
static int arg_int(struct json_object *args, const char *key, int64_t min, int64_t max, int64_t *v,
		   bool *present, char *msg, size_t len)
{
	struct json_object *o;

	if (present)
		*present = false;
	if (!args || !json_object_object_get_ex(args, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_int)) {
		snprintf(msg, len, "argument '%s' must be an integer", key);
		return -EINVAL;
	}
	errno = 0;
	*v = json_object_get_int64(o);
	if (errno || *v < min || *v > max) {
		snprintf(msg, len, "argument '%s' must be between %" PRId64 " and %" PRId64, key,
			 min, max);
		return -EINVAL;
	}
	if (present)
		*present = true;
	return 0;
}

static int arg_bool(struct json_object *args, const char *key, bool *v, char *msg, size_t len)
{
	struct json_object *o;

	if (!args || !json_object_object_get_ex(args, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_boolean)) {
		snprintf(msg, len, "argument '%s' must be true or false", key);
		return -EINVAL;
	}
	*v = json_object_get_boolean(o);
	return 0;
}

/* An address: a non-negative integer, or a string of hex digits with or without "0x". */
static int arg_addr(struct json_object *args, const char *key, uint64_t *v, bool *present,
		    char *msg, size_t len)
{
	struct json_object *o;

	*present = false;
	if (!args || !json_object_object_get_ex(args, key, &o))
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		int64_t i = json_object_get_int64(o);

		if (i < 0)
			goto bad;
		*v = (uint64_t)i;
	} else if (json_object_is_type(o, json_type_string)) {
		const char *s = json_object_get_string(o);
		char *end;

		if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
			s += 2;
		if (!*s || strspn(s, "0123456789abcdefABCDEF") != strlen(s))
			goto bad;
		errno = 0;
		*v = strtoull(s, &end, 16);
		if (errno || *end)
			goto bad;
	} else {
		goto bad;
	}
	*present = true;
	return 0;
bad:
	snprintf(msg, len,
		 "argument '%s' must be an address: hex digits (\"0x7f0000000000\") or a "
		 "non-negative integer",
		 key);
	return -EINVAL;
}

/* ---- lookups ------------------------------------------------------------------------------- */

static const struct pagemig_policy_rule *rule_of(const struct pagemigd *d, const struct managed *m)
{
	return m && m->rule >= 0 && (size_t)m->rule < d->cfg.n_rules ? &d->cfg.rules[m->rule]
								     : NULL;
}

/* Account the executor's new decisions to the processes they were for. */
static void account_history(struct pagemigd *d)
{
	struct commands_state *st = d->cmds;
	const struct exec_decision *x;
	size_t n, i;

	if (!st || !d->exec)
		return;
	executor_history(d->exec, 0, &n);
	if (!n || executor_history(d->exec, n - 1, NULL)->seq <= st->history_seq)
		return;
	for (i = n; i > 0 && executor_history(d->exec, i - 1, NULL)->seq > st->history_seq; i--)
		;
	x = executor_history(d->exec, i, NULL);
	if (x->seq > st->history_seq + 1)
		st->history_missed += x->seq - st->history_seq - 1;
	for (; i < n; i++) {
		struct managed *m;

		x = executor_history(d->exec, i, NULL);
		m = pagemigd_find_proc(d, x->pid);
		if (m) {
			m->pages_moved += x->moved;
			m->pages_failed += x->failed;
		}
		st->history_seq = x->seq;
	}
}

static uint64_t manual_moved(const struct pagemigd *d)
{
	return d->cmds ? d->cmds->manual_total.pages_moved : 0;
}

static uint64_t manual_failed(const struct pagemigd *d)
{
	return d->cmds ? d->cmds->manual_pages_failed : 0;
}

/* ---- status, nodes ----------------------------------------------------------------------- */

static struct json_object *node_json(const struct pagemigd *d, int id)
{
	const struct pagemig_topology *t = &d->topo;
	const struct pagemig_topo_node *n = &t->node[id];
	struct json_object *o = json_object_new_object(), *dist = json_object_new_array();

	add_int(o, "id", id);
	add_str(o, "cpus", n->cpulist);
	add_int(o, "ncpus", (int)n->ncpus);
	add_u64(o, "mem_total_bytes", n->mem_total);
	add_u64(o, "mem_free_bytes", n->mem_free);
	add_bool(o, "has_memory", n->has_memory);
	add_bool(o, "memory_only", n->memory_only);
	add_int(o, "tier", n->tier);
	/* to every present node, in the order of the nodes array */
	for (int b = 0; b <= t->max_node; b++)
		if (t->node[b].present)
			json_object_array_add(dist, json_object_new_int(t->distance[id][b]));
	json_object_object_add(o, "distances", dist);
	return o;
}

static struct json_object *sources_json(const struct pagemigd *d)
{
	struct json_object *a = json_object_new_array();
	const struct pagemig_source_status *src =
		d->sampler ? pagemig_sampler_sources(d->sampler) : NULL;

	for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++) {
		struct json_object *o = json_object_new_object();

		add_str(o, "name", pagemig_source_name(i));
		add_str(o, "state", src ? pagemig_source_state_name(src[i].state) : "failed");
		add_str(o, "detail", src ? src[i].detail : "the sampler did not start");
		add_str(o, "error", src && src[i].err ? control_errno_name(src[i].err) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

/*
 * May peer see details of process pid that /proc shows only to its owner and root (page
 * addresses, where its pages are, how it accesses them)? Root may; others for a process whose
 * /proc/PID they own, which is also what ptrace's read check asks first (a process that is not
 * dumpable has a /proc/PID owned by root).
 */
static bool peer_sees(const struct control_peer *peer, pid_t pid)
{
	char path[64];
	struct stat sb;

	if (peer->privileged)
		return true;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return stat(path, &sb) == 0 && sb.st_uid == peer->uid;
}

static struct json_object *job_json(const struct move_job *j, const struct control_peer *peer)
{
	struct json_object *o;

	if (!j->active)
		return NULL;
	o = json_object_new_object();
	add_u64(o, "id", j->id);
	add_int(o, "pid", j->pid);
	add_str(o, "comm", j->comm);
	add_int(o, "node", j->node);
	if ((j->start || j->end) && peer_sees(peer, j->pid)) {
		add_addr(o, "start", j->start);
		add_addr(o, "end", j->end);
	} else {
		add_str(o, "start", NULL);
		add_str(o, "end", NULL);
	}
	add_u64(o, "pages", j->rep.pages);
	add_u64(o, "pages_moved", j->rep.pages_moved);
	add_double(o, "progress", j->span ? (double)j->scanned / (double)j->span : 0);
	add_u64(o, "elapsed_ms", mono_ms() - j->t0_ms);
	return o;
}

static int cmd_status(void *ctx, const struct control_peer *peer, struct json_object *args,
		      struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {NULL};
	struct pagemigd *d = ctx;
	const struct exec_counters *c = executor_counters(d->exec);
	struct json_object *o, *nodes;
	int err = args_only(args, "status", allowed, msg, len);

	if (err)
		return err;
	o = json_object_new_object();
	nodes = json_object_new_array();
	add_str(o, "version", PAGEMIG_DAEMON_VERSION);
	add_int(o, "protocol", PAGEMIG_PROTO_VERSION);
	add_str(o, "mode", pagemigd_observing(d) ? "observe" : "enforce");
	add_bool(o, "paused", d->paused);
	add_u64(o, "uptime_s", (mono_ms() - d->start_ms) / 1000);
	add_u64(o, "start_time", d->cmds ? d->cmds->start_real_s : 0);
	add_str(o, "config", d->config_path);
	add_str(o, "socket", d->cfg.socket_path);
	add_u64(o, "interval_ms", d->cfg.interval_ms);
	add_u64(o, "cycles", d->cycles);
	add_double(o, "last_cycle_ms", (double)d->last_cycle_ns / 1e6);
	add_u64(o, "plans_skipped", d->plans_skipped);
	add_u64(o, "plans_topped_up", d->plans_topped_up);
	add_u64(o, "departures", d->departures);
	add_u64(o, "cycles_soon", d->cycles_soon);
	for (int n = 0; n <= d->topo.max_node; n++)
		if (d->topo.node[n].present)
			json_object_array_add(nodes, node_json(d, n));
	json_object_object_add(o, "nodes", nodes);
	add_bool(o, "nothing_to_place", d->topo.nr_memory < 2);
	json_object_object_add(o, "sources", sources_json(d));
	add_u64(o, "managed_processes", d->n_procs);
	add_u64(o, "pages_moved", c->pages_moved + manual_moved(d));
	add_u64(o, "pages_failed", c->pages_failed + manual_failed(d));
	add_u64(o, "pages_moved_policy", c->pages_moved);
	add_u64(o, "pages_failed_policy", c->pages_failed);
	add_u64(o, "pages_moved_manual", manual_moved(d));
	add_u64(o, "pages_failed_manual", manual_failed(d));
	add_u64(o, "bytes_moved",
		c->bytes_moved + (d->cmds ? d->cmds->manual_total.bytes_moved : 0));
	add_u64(o, "pages_planned", c->pages_planned);
	add_u64(o, "pages_pending", executor_pending(d->exec));
	add_u64(o, "decisions", c->decisions);
	add_share(o, "local_access_share", d->local_share);
	json_object_object_add(o, "move", d->cmds ? job_json(&d->cmds->job, peer) : NULL);
	add_str(o, "metrics_file", d->cfg.metrics_file[0] ? d->cfg.metrics_file : NULL);
	add_str(o, "metrics_listen", d->cmds && d->cmds->http_addr[0] ? d->cmds->http_addr : NULL);
	add_str(o, "status", d->status_line);
	*result = o;
	return 0;
}

static int cmd_nodes(void *ctx, const struct control_peer *peer, struct json_object *args,
		     struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {NULL};
	struct pagemigd *d = ctx;
	const struct exec_counters *c = executor_counters(d->exec);
	struct pagemig_policy_config pc;
	struct json_object *o, *nodes;
	int err = args_only(args, "nodes", allowed, msg, len);

	if (err)
		return err;
	pagemig_config_policy(&d->cfg, &pc);
	o = json_object_new_object();
	nodes = json_object_new_array();
	for (int n = 0; n <= d->topo.max_node; n++) {
		struct json_object *e;
		uint64_t managed = 0, in = 0, out = 0;

		if (!d->topo.node[n].present)
			continue;
		e = node_json(d, n);
		for (size_t i = 0; i < d->n_procs; i++)
			managed += d->procs[i].pages_on[n];
		for (int m = 0; m < PAGEMIG_TOPO_MAX_NODES; m++) {
			in += c->moved_from_to[m][n];
			out += c->moved_from_to[n][m];
		}
		add_u64(e, "managed_pages", managed);
		add_u64(e, "pages_moved_in", in);
		add_u64(e, "pages_moved_out", out);
		add_double(e, "watermark_pct", pc.watermark_pct[n]);
		json_object_array_add(nodes, e);
	}
	json_object_object_add(o, "nodes", nodes);
	*result = o;
	return 0;
}

/* ---- procs, proc ------------------------------------------------------------------------- */

enum proc_sort { SORT_PID, SORT_MOVED, SORT_RSS, SORT_LOCAL };

/* details: where its pages are and how it accesses them, for peers that may see them */
static struct json_object *managed_json(const struct pagemigd *d, const struct managed *m,
					bool details)
{
	const struct pagemig_policy_rule *r = rule_of(d, m);
	struct json_object *o = json_object_new_object();

	add_int(o, "pid", m->pid);
	add_str(o, "comm", m->comm);
	add_str(o, "policy", r ? r->name : NULL);
	add_str(o, "policy_type", r ? pagemig_policy_type_name(r->type) : NULL);
	add_node(o, "home_node", m->home_node);
	add_bool(o, "settled", pagemigd_settled(m));
	add_bool(o, "held", m->held);
	add_u64(o, "pending_moves", m->pending);
	add_u64(o, "rss_bytes", m->rss_pages * page_size());
	if (details) {
		add_u64(o, "sampled_pages", m->pages_known);
		json_object_object_add(o, "pages_per_node",
				       per_node_json(&d->topo, m->pages_on, "pages"));
		add_share(o, "local_access_share", m->local_share);
	} else {
		/* another user's process: /proc/PID/numa_maps is not theirs to read either */
		add_bool(o, "details_hidden", true);
		add_str(o, "sampled_pages", NULL);
		add_str(o, "pages_per_node", NULL);
		add_share(o, "local_access_share", -1);
	}
	add_u64(o, "pages_moved", m->pages_moved);
	add_u64(o, "pages_failed", m->pages_failed);
	add_u64(o, "managed_s", (mono_ms() - m->since_ms) / 1000);
	return o;
}

static int cmp_managed(const void *a, const void *b, void *key)
{
	const struct managed *x = *(const struct managed *const *)a;
	const struct managed *y = *(const struct managed *const *)b;

	switch (*(const enum proc_sort *)key) {
	case SORT_MOVED:
		if (x->pages_moved != y->pages_moved)
			return x->pages_moved > y->pages_moved ? -1 : 1;
		break;
	case SORT_RSS:
		if (x->rss_pages != y->rss_pages)
			return x->rss_pages > y->rss_pages ? -1 : 1;
		break;
	case SORT_LOCAL: {
		/* least local first (what needs attention), unknown shares last */
		double lx = x->local_share < 0 ? 2 : x->local_share;
		double ly = y->local_share < 0 ? 2 : y->local_share;

		if (lx != ly)
			return lx < ly ? -1 : 1;
		break;
	}
	default:
		break;
	}
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmd_procs(void *ctx, const struct control_peer *peer, struct json_object *args,
		     struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {"limit", "sort", NULL};
	static const char *const sorts[] = {"pid", "moved", "rss", "local"};
	struct pagemigd *d = ctx;
	struct json_object *o, *a, *s;
	const struct managed **order;
	enum proc_sort sort_key = SORT_PID;
	int64_t limit = 1000;
	size_t n;
	int err;

	err = args_only(args, "procs", allowed, msg, len);
	if (!err)
		err = arg_int(args, "limit", 1, 100000, &limit, NULL, msg, len);
	if (err)
		return err;
	if (args && json_object_object_get_ex(args, "sort", &s)) {
		size_t i;

		for (i = 0; i < 4; i++)
			if (json_object_is_type(s, json_type_string) &&
			    !strcmp(json_object_get_string(s), sorts[i]))
				break;
		if (i == 4) {
			snprintf(msg, len, "argument 'sort' must be pid, moved, rss or local");
			return -EINVAL;
		}
		sort_key = (enum proc_sort)i;
	}
	account_history(d);
	order = malloc((d->n_procs + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_procs; i++)
		order[i] = &d->procs[i];
	qsort_r(order, d->n_procs, sizeof(*order), cmp_managed, &sort_key);
	n = d->n_procs < (size_t)limit ? d->n_procs : (size_t)limit;
	o = json_object_new_object();
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, managed_json(d, order[i], peer_sees(peer, order[i]->pid)));
	free(order);
	json_object_object_add(o, "processes", a);
	add_u64(o, "total", d->n_procs);
	add_bool(o, "accounting_complete", !d->cmds || !d->cmds->history_missed);
	*result = o;
	return 0;
}

/* The owner of a process, or -ESRCH. */
static int proc_owner(pid_t pid, uid_t *uid)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &sb) < 0)
		return -ESRCH;
	*uid = sb.st_uid;
	return 0;
}

static const char *mapping_kind(const struct numa_map_entry *e)
{
	if (e->huge)
		return "hugetlb";
	if (e->heap)
		return "heap";
	if (e->stack)
		return "stack";
	if (e->path[0])
		return "file";
	return "anon";
}

static int mappings_json(const struct pagemigd *d, pid_t pid, int64_t limit, struct json_object *o,
			 char *msg, size_t len)
{
	struct numa_maps_reader *r;
	struct numa_map_entry *e = malloc(sizeof(*e));
	struct json_object *a = json_object_new_array(), *totals = json_object_new_object();
	uint64_t total_bytes = 0, bytes_on[PAGEMIG_TOPO_MAX_NODES] = {0};
	size_t n_all = 0, n_resident = 0, shown = 0;
	int err, got;

	json_object_object_add(o, "mappings", a);
	json_object_object_add(o, "totals", totals);
	if (!e)
		return -ENOMEM;
	err = numa_maps_open("/proc", pid, &r);
	if (err) {
		free(e);
		snprintf(msg, len, "cannot read the mappings of process %d: %s", (int)pid,
			 strerror(-err));
		return err;
	}
	while ((got = numa_maps_next(r, e)) > 0) {
		struct json_object *m;
		uint64_t ps = e->page_size ? e->page_size : page_size();

		n_all++;
		if (!e->pages)
			continue;
		n_resident++;
		total_bytes += e->pages * ps;
		for (int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
			bytes_on[n] += e->node_pages[n] * ps;
		if ((int64_t)shown >= limit)
			continue;
		shown++;
		m = json_object_new_object();
		add_addr(m, "start", e->start);
		if (e->end) {
			add_addr(m, "end", e->end);
			add_u64(m, "size_bytes", e->end - e->start);
		} else {
			add_str(m, "end", NULL);
			add_str(m, "size_bytes", NULL);
		}
		add_str(m, "perms", e->perms[0] ? e->perms : NULL);
		add_str(m, "policy", e->policy);
		add_str(m, "kind", mapping_kind(e));
		add_str(m, "path", e->path[0] ? e->path : NULL);
		add_u64(m, "page_size_bytes", ps);
		add_u64(m, "pages", e->pages);
		add_u64(m, "bytes", e->pages * ps);
		add_u64(m, "anon_pages", e->anon);
		add_u64(m, "dirty_pages", e->dirty);
		json_object_object_add(m, "pages_per_node",
				       per_node_json(&d->topo, e->node_pages, "pages"));
		json_object_array_add(a, m);
	}
	numa_maps_close(r);
	free(e);
	if (got < 0) {
		snprintf(msg, len, "reading the mappings of process %d failed: %s", (int)pid,
			 strerror(-got));
		return got;
	}
	add_u64(totals, "bytes", total_bytes);
	json_object_object_add(totals, "bytes_per_node",
			       per_node_json(&d->topo, bytes_on, "bytes"));
	add_u64(o, "mappings_total", n_all);
	add_u64(o, "mappings_resident", n_resident);
	add_u64(o, "mappings_shown", shown);
	return 0;
}

struct hot_page {
	uint64_t page;
	double score;
	uint64_t events;
	size_t first, n; /* its snapshot entries */
};

static int cmp_hot(const void *a, const void *b)
{
	const struct hot_page *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

/* The process's hottest sampled pages, with where they are now. */
static int hot_pages_json(const struct pagemigd *d, pid_t pid, int64_t top, struct json_object *o)
{
	const struct pagemig_snapshot *snap =
		d->sampler ? pagemig_sampler_snapshot(d->sampler) : NULL;
	struct json_object *a = json_object_new_array();
	struct hot_page *hot;
	size_t lo = 0, hi, n = 0, i;

	json_object_object_add(o, "hot_pages", a);
	add_u64(o, "sampled_pages", 0);
	if (!snap || !snap->n_pages)
		return 0;
	hi = snap->n_pages;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (snap->pages[mid].tgid < (uint32_t)pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < snap->n_pages && snap->pages[hi].tgid == (uint32_t)pid; hi++)
		;
	if (hi == lo)
		return 0;
	hot = malloc((hi - lo) * sizeof(*hot));
	if (!hot)
		return -ENOMEM;
	/* entries of one page are adjacent: (tgid, page, node, source) order */
	for (i = lo; i < hi; i++) {
		const struct pagemig_page_score *p = &snap->pages[i];

		if (!n || hot[n - 1].page != p->page)
			hot[n++] = (struct hot_page){.page = p->page, .first = i};
		hot[n - 1].score += p->score;
		hot[n - 1].events += p->events;
		hot[n - 1].n++;
	}
	add_u64(o, "sampled_pages", n);
	qsort(hot, n, sizeof(*hot), cmp_hot);
	if ((int64_t)n > top)
		n = (size_t)top;
	{
		void *addr[100];
		int where[100];

		for (i = 0; i < n; i++)
			addr[i] = (void *)(uintptr_t)hot[i].page;
		if (!n || pagemig_query(pid, n, addr, where) < 0)
			for (i = 0; i < n; i++)
				where[i] = -1;
		for (i = 0; i < n; i++) {
			struct json_object *h = json_object_new_object(), *from;
			double by_node[PAGEMIG_TOPO_MAX_NODES] = {0}, unknown = 0;

			add_addr(h, "addr", hot[i].page);
			add_double(h, "score", hot[i].score);
			add_u64(h, "events", hot[i].events);
			add_node(h, "node", where[i] >= 0 ? where[i] : -1);
			for (size_t k = hot[i].first; k < hot[i].first + hot[i].n; k++) {
				uint16_t nd = snap->pages[k].node;

				if (nd < PAGEMIG_TOPO_MAX_NODES)
					by_node[nd] += snap->pages[k].score;
				else
					unknown += snap->pages[k].score;
			}
			from = json_object_new_array();
			for (int nd = 0; nd < PAGEMIG_TOPO_MAX_NODES; nd++)
				if (by_node[nd] > 0) {
					struct json_object *f = json_object_new_object();

					add_int(f, "node", nd);
					add_double(f, "score", by_node[nd]);
					json_object_array_add(from, f);
				}
			if (unknown > 0) {
				struct json_object *f = json_object_new_object();

				add_str(f, "node", NULL);
				add_double(f, "score", unknown);
				json_object_array_add(from, f);
			}
			json_object_object_add(h, "accessed_from", from);
			json_object_array_add(a, h);
		}
	}
	free(hot);
	return 0;
}

static int cmd_proc(void *ctx, const struct control_peer *peer, struct json_object *args,
		    struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {"pid", "top", "limit", NULL};
	struct pagemigd *d = ctx;
	int64_t pid = 0, top = 10, limit = 200;
	const struct managed *m;
	const struct pagemig_policy_rule *r;
	struct json_object *o;
	bool have_pid;
	uid_t owner;
	char comm[64] = "";
	int err;

	err = args_only(args, "proc", allowed, msg, len);
	if (!err)
		err = arg_int(args, "pid", 1, INT32_MAX, &pid, &have_pid, msg, len);
	if (!err)
		err = arg_int(args, "top", 0, 100, &top, NULL, msg, len);
	if (!err)
		err = arg_int(args, "limit", 0, 100000, &limit, NULL, msg, len);
	if (err)
		return err;
	if (!have_pid) {
		snprintf(msg, len, "'proc' needs argument 'pid'");
		return -EINVAL;
	}
	if (proc_owner((pid_t)pid, &owner)) {
		snprintf(msg, len, "no process %" PRId64, pid);
		return -ESRCH;
	}
	/* addresses and file names of another user's process are not for everyone who may read
	 * the daemon's state: /proc itself shows them to the owner and to root only */
	if (!peer->privileged && owner != peer->uid) {
		snprintf(msg, len,
			 "process %" PRId64 " belongs to uid %u: its mappings are shown to "
			 "root and to its owner only (run as root)",
			 pid, (unsigned int)owner);
		return -EACCES;
	}
	account_history(d);
	m = pagemigd_find_proc(d, (pid_t)pid);
	r = rule_of(d, m);
	o = json_object_new_object();
	add_int(o, "pid", pid);
	if (m) {
		snprintf(comm, sizeof(comm), "%s", m->comm);
	} else {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
	}
	add_str(o, "comm", comm);
	add_bool(o, "managed", m != NULL);
	add_str(o, "policy", r ? r->name : NULL);
	add_str(o, "policy_type", r ? pagemig_policy_type_name(r->type) : NULL);
	add_node(o, "home_node", m ? m->home_node : -1);
	add_share(o, "local_access_share", m ? m->local_share : -1);
	add_u64(o, "pages_moved", m ? m->pages_moved : 0);
	add_u64(o, "pages_failed", m ? m->pages_failed : 0);
	err = mappings_json(d, (pid_t)pid, limit, o, msg, len);
	if (!err)
		err = hot_pages_json(d, (pid_t)pid, top, o);
	if (err) {
		json_object_put(o);
		return err;
	}
	*result = o;
	return 0;
}

/* ---- history ------------------------------------------------------------------------------- */

static const char *decision_outcome(const struct exec_decision *x)
{
	if (x->observe)
		return "observed";
	if (x->left)
		return "left_node";
	if (x->call_error == -ESRCH && !x->moved)
		return "process_gone";
	if (x->call_error && !x->moved)
		return "error";
	if (!x->failed && x->moved == x->planned)
		return "moved";
	if (!x->failed && !x->call_error)
		return "on_target"; /* some were there already (manual moves) */
	if (!x->moved)
		return "failed";
	return "partial";
}

static struct json_object *step_json(enum pagemig_step step)
{
	const struct pagemig_step_info *s = pagemig_step_info(step);
	struct json_object *o;

	if (!s)
		return NULL;
	o = json_object_new_object();
	add_str(o, "label", s->label);
	add_str(o, "name", s->name);
	add_int(o, "number", s->number);
	add_bool(o, "documented", s->documented);
	return o;
}

static struct json_object *decision_json(const struct exec_decision *x,
					 const struct manual_decision *man,
					 const struct control_peer *peer)
{
	struct json_object *o = json_object_new_object();
	bool failed = x->failed && x->failed_step != PAGEMIG_STEP_NONE;

	add_str(o, "source", man ? "manual" : "policy");
	add_u64(o, "id", x->seq);
	add_u64(o, "time_ms", x->time_ms);
	add_time(o, "time", x->time_ms);
	add_int(o, "pid", x->pid);
	add_str(o, "comm", x->comm);
	add_str(o, "policy", man ? "manual" : x->rule);
	add_str(o, "reason", man ? "manual" : pagemig_move_reason_name(x->reason));
	add_node(o, "from", x->from);
	add_node(o, "to", x->to);
	add_u64(o, "pages_planned", x->planned);
	add_u64(o, "pages_moved", x->moved);
	add_u64(o, "pages_failed", x->failed);
	add_bool(o, "observe", x->observe);
	add_str(o, "outcome", decision_outcome(x));
	add_str(o, "error", x->call_error ? control_errno_name(x->call_error) : NULL);
	json_object_object_add(o, "failed_step", failed ? step_json(x->failed_step) : NULL);
	add_str(o, "failed_outcome", failed ? pagemig_outcome_name(x->failed_outcome) : NULL);
	if (man && (man->start || man->end) && peer_sees(peer, x->pid)) {
		add_addr(o, "range_start", man->start);
		add_addr(o, "range_end", man->end);
	}
	return o;
}

struct history_ref {
	const struct exec_decision *x;
	const struct manual_decision *man;
};

static int cmp_history(const void *a, const void *b)
{
	const struct history_ref *x = a, *y = b;

	/* newest first */
	if (x->x->time_ms != y->x->time_ms)
		return x->x->time_ms > y->x->time_ms ? -1 : 1;
	return x->x->seq > y->x->seq ? -1 : x->x->seq < y->x->seq;
}

static int cmd_history(void *ctx, const struct control_peer *peer, struct json_object *args,
		       struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {"limit", "pid", NULL};
	struct pagemigd *d = ctx;
	struct commands_state *st = d->cmds;
	struct history_ref *refs;
	struct json_object *o, *a;
	int64_t limit = 50, pid = 0;
	size_t n_exec, n_man, n = 0;
	int err;

	err = args_only(args, "history", allowed, msg, len);
	if (!err)
		err = arg_int(args, "limit", 1, EXEC_HISTORY + PAGEMIGD_MANUAL_HISTORY, &limit,
			      NULL, msg, len);
	if (!err)
		err = arg_int(args, "pid", 1, INT32_MAX, &pid, NULL, msg, len);
	if (err)
		return err;
	executor_history(d->exec, 0, &n_exec);
	n_man = st ? (st->n_manual < PAGEMIGD_MANUAL_HISTORY ? st->n_manual
							     : PAGEMIGD_MANUAL_HISTORY)
		   : 0;
	refs = malloc((n_exec + n_man + 1) * sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < n_exec; i++) {
		const struct exec_decision *x = executor_history(d->exec, i, NULL);

		if (!pid || x->pid == pid)
			refs[n++] = (struct history_ref){x, NULL};
	}
	for (size_t i = 0; i < n_man; i++) {
		const struct manual_decision *m = &st->manual[i];

		if (!pid || m->d.pid == pid)
			refs[n++] = (struct history_ref){&m->d, m};
	}
	qsort(refs, n, sizeof(*refs), cmp_history);
	o = json_object_new_object();
	a = json_object_new_array();
	for (size_t i = 0; i < n && (int64_t)i < limit; i++)
		json_object_array_add(a, decision_json(refs[i].x, refs[i].man, peer));
	free(refs);
	json_object_object_add(o, "decisions", a);
	add_u64(o, "total", n);
	*result = o;
	return 0;
}

/* ---- audit --------------------------------------------------------------------------------- */

static struct json_object *audit_page_json(const struct audit_sample *s, bool show_addr)
{
	struct json_object *o = json_object_new_object(), *steps = json_object_new_array();
	char line[160];

	if (show_addr)
		add_addr(o, "addr", s->addr);
	add_node(o, "node_before", s->before);
	add_str(o, "verdict", pagemig_audit_verdict_name(s->verdict));
	for (unsigned int i = 0; s->seen && i < s->page.nsteps; i++) {
		const struct pagemig_step_info *si = pagemig_step_info(s->page.steps[i]);

		json_object_array_add(steps, json_object_new_string(si ? si->label : "?"));
	}
	json_object_object_add(o, "steps", steps);
	add_node(o, "node_after", s->seen ? s->page.node : -1);
	add_bool(o, "huge_pmd", s->seen && s->page.pmd);
	add_u64(o, "attempts", s->seen ? s->page.attempts : 0);
	if (s->seen) {
		pagemig_audit_describe(line, sizeof(line), &s->page);
		add_str(o, "description", line);
	} else {
		add_str(o, "description", NULL);
	}
	return o;
}

static int cmd_audit(void *ctx, const struct control_peer *peer, struct json_object *args,
		     struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {"limit", NULL};
	struct pagemigd *d = ctx;
	struct commands_state *st = d->cmds;
	struct pagemig_audit *audit = d->sampler ? pagemig_sampler_audit(d->sampler) : NULL;
	const struct pagemig_snapshot *snap =
		d->sampler ? pagemig_sampler_snapshot(d->sampler) : NULL;
	const struct pagemig_source_status *src =
		d->sampler ? pagemig_sampler_sources(d->sampler) : NULL;
	const struct exec_counters *c = executor_counters(d->exec);
	struct json_object *o;
	int64_t limit = 20;
	int err;

	err = args_only(args, "audit", allowed, msg, len);
	if (!err)
		err = arg_int(args, "limit", 0, PAGEMIG_AUDIT_BATCH_LOG, &limit, NULL, msg, len);
	if (err)
		return err;
	if (audit)
		pagemig_sampler_audit_poll(d->sampler, 0); /* what is waiting in the ring buffer */
	o = json_object_new_object();
	add_bool(o, "available", audit != NULL);
	add_str(o, "detail", src ? src[PAGEMIG_SOURCE_AUDIT].detail : "the sampler did not start");
	add_int(o, "mover_pid", getpid());

	if (audit) {
		const struct pagemig_audit_totals *t = pagemig_audit_totals(audit);
		struct pagemig_audit_batch b[PAGEMIG_AUDIT_BATCH_LOG];
		struct json_object *tj = json_object_new_object(), *calls = json_object_new_array();
		size_t nb = pagemig_audit_batches(audit, b, PAGEMIG_AUDIT_BATCH_LOG), first;

		add_u64(tj, "records", t->records);
		add_u64(tj, "calls", t->batches);
		add_u64(tj, "calls_ended", t->batches_ended);
		add_u64(tj, "calls_documented_order", t->batches_interleaved);
		add_u64(tj, "calls_batched_order", t->batches_batched);
		add_u64(tj, "step_b4", t->set);
		add_u64(tj, "step_b16", t->remove);
		add_u64(tj, "outside_call", t->outside_batch);
		add_u64(tj, "pages_forgotten", t->pages_evicted);
		json_object_object_add(o, "totals", tj);
		/* newest first */
		first = nb > (size_t)limit ? nb - (size_t)limit : 0;
		for (size_t i = nb; i > first; i--) {
			const struct pagemig_audit_batch *x = &b[i - 1];
			struct json_object *e = json_object_new_object();

			add_u64(e, "call", x->seq);
			add_int(e, "mover_pid", x->tgid);
			add_bool(e, "pagemigd", x->tgid == (uint32_t)getpid());
			add_str(e, "reason", pagemig_mig_reason_name(x->reason));
			add_bool(e, "ended", x->ended);
			add_str(e, "order",
				!x->ended	 ? NULL
				: x->interleaved ? "documented"
						 : "batched");
			add_u64(e, "step_b4", x->n_set);
			add_u64(e, "step_b16", x->n_remove);
			add_u64(e, "pages_succeeded", x->succeeded);
			add_u64(e, "pages_failed", x->failed);
			add_u64(e, "duration_us",
				x->t_end > x->t_start ? (x->t_end - x->t_start) / 1000 : 0);
			json_object_array_add(calls, e);
		}
		json_object_object_add(o, "calls", calls);
	} else {
		json_object_object_add(o, "totals", NULL);
		json_object_object_add(o, "calls", json_object_new_array());
	}

	/* every mover, by reason: the kernel's own counts since the sampler loaded */
	{
		struct json_object *movers = json_object_new_array();
		uint64_t own = c->pages_moved + manual_moved(d);

		for (int r = 0; snap && r < PAGEMIG_MR__COUNT; r++) {
			const struct pagemig_mig_counts *m = &snap->migrations_total[r];
			struct json_object *e;
			uint64_t others = m->succeeded;

			if (!m->calls && !m->succeeded && !m->failed)
				continue;
			if (r == PAGEMIG_MR_SYSCALL)
				others = others > own ? others - own : 0;
			e = json_object_new_object();
			add_str(e, "reason", pagemig_mig_reason_name(r));
			add_u64(e, "calls", m->calls);
			add_u64(e, "pages_succeeded", m->succeeded);
			add_u64(e, "pages_failed", m->failed);
			add_u64(e, "thp_succeeded", m->thp_succeeded);
			add_u64(e, "thp_failed", m->thp_failed);
			add_u64(e, "thp_split", m->thp_split);
			add_u64(e, "others_pages_succeeded", others);
			json_object_array_add(movers, e);
		}
		json_object_object_add(o, "movers", movers);
		add_bool(o, "numa_balancing", snap && snap->numa_balancing);
	}

	/* the latest manual move, page by page */
	if (st && st->audit_id) {
		struct json_object *mv = json_object_new_object(), *pages = json_object_new_array();
		struct json_object *verdicts = json_object_new_object();
		uint64_t count[PAGEMIG_AUDIT__COUNT] = {0};

		add_u64(mv, "id", st->audit_id);
		add_int(mv, "pid", st->audit_pid);
		add_int(mv, "node", st->audit_node);
		for (size_t i = 0; i < st->n_audit; i++) {
			count[st->audit[i].verdict]++;
			/* addresses: root only, as with `proc` */
			json_object_array_add(pages,
					      audit_page_json(&st->audit[i], peer->privileged));
		}
		for (int v = 0; v < PAGEMIG_AUDIT__COUNT; v++)
			add_u64(verdicts, pagemig_audit_verdict_name(v), count[v]);
		json_object_object_add(mv, "verdicts", verdicts);
		json_object_object_add(mv, "pages", pages);
		json_object_object_add(o, "last_manual_move", mv);
	} else {
		json_object_object_add(o, "last_manual_move", NULL);
	}
	*result = o;
	return 0;
}

/* ---- manual moves -------------------------------------------------------------------------- */

static bool special_mapping(const char *name)
{
	return !strcmp(name, "[vvar]") || !strcmp(name, "[vvar_vclock]") ||
	       !strcmp(name, "[vdso]") || !strcmp(name, "[vsyscall]");
}

/*
 * The mappings of pid within [start, end) (all of them when whole) that hold resident pages,
 * from numa_maps: mappings nothing was touched in (reserved address space, sanitizer shadow)
 * are not scanned page by page at all.
 */
static int collect_ranges(struct move_job *j, bool whole)
{
	struct numa_maps_reader *r;
	struct numa_map_entry *e = malloc(sizeof(*e));
	size_t cap = 0;
	int err, got;

	if (!e)
		return -ENOMEM;
	err = numa_maps_open("/proc", j->pid, &r);
	if (err) {
		free(e);
		return err;
	}
	while ((got = numa_maps_next(r, e)) > 0) {
		uint64_t lo = e->start, hi = e->end;

		if (!e->pages || !hi || special_mapping(e->special))
			continue;
		if (!whole) {
			lo = lo < j->start ? j->start : lo;
			hi = hi > j->end ? j->end : hi;
		}
		if (lo >= hi)
			continue;
		if (j->n_ranges == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct move_range *nr = realloc(j->ranges, nc * sizeof(*nr));

			if (!nr) {
				got = -ENOMEM;
				break;
			}
			j->ranges = nr;
			cap = nc;
		}
		j->ranges[j->n_ranges++] = (struct move_range){lo, hi};
		j->span += hi - lo;
	}
	numa_maps_close(r);
	free(e);
	return got < 0 ? got : 0;
}

/* Release what a job holds and mark it free. */
static void job_release(struct move_job *j)
{
	if (j->pidfd >= 0)
		close(j->pidfd);
	if (j->pagemap_fd >= 0)
		close(j->pagemap_fd);
	free(j->ranges);
	free(j->pm);
	free(j->batch);
	free(j->bnodes);
	free(j->bstatus);
	memset(j, 0, sizeof(*j));
	j->pidfd = -1;
	j->pagemap_fd = -1;
}

/* Pick resident pages spread over the ranges for the audit to follow. */
static void pick_audit_sample(struct move_job *j)
{
	enum { PROBES = 512 };
	void *addr[PROBES];
	int where[PROBES];
	uint64_t ps = page_size(), step = j->span / PROBES;
	size_t n = 0, r = 0;
	uint64_t off = 0, base = 0;

	step = step < ps ? ps : step & ~(ps - 1);
	for (off = 0; off < j->span && n < PROBES; off += step) {
		while (r < j->n_ranges && off >= base + (j->ranges[r].hi - j->ranges[r].lo)) {
			base += j->ranges[r].hi - j->ranges[r].lo;
			r++;
		}
		if (r == j->n_ranges)
			break;
		addr[n++] = (void *)(uintptr_t)((j->ranges[r].lo + off - base) & ~(ps - 1));
	}
	j->n_sample = 0;
	if (!n || pagemig_query(j->pid, n, addr, where) < 0)
		return;
	/* keep the resident ones, then at most PAGEMIGD_MOVE_AUDIT_PAGES evenly spread */
	size_t resident = 0;

	for (size_t i = 0; i < n; i++)
		if (where[i] >= 0) {
			addr[resident] = addr[i];
			where[resident++] = where[i];
		}
	for (size_t k = 0; k < PAGEMIGD_MOVE_AUDIT_PAGES && k < resident; k++) {
		size_t i = resident > PAGEMIGD_MOVE_AUDIT_PAGES
				   ? k * resident / PAGEMIGD_MOVE_AUDIT_PAGES
				   : k;

		j->sample[j->n_sample++] = (struct audit_sample){
			.addr = (uint64_t)(uintptr_t)addr[i], .before = where[i]};
	}
}

static struct json_object *report_json(const struct pagemig_report *r)
{
	struct json_object *o = json_object_new_object(), *out = json_object_new_object();
	struct json_object *steps = json_object_new_object(), *first = json_object_new_object();

	add_u64(o, "pages", r->pages);
	add_u64(o, "pages_on_target", r->pages_on_target);
	add_u64(o, "pages_moved", r->pages_moved);
	add_u64(o, "bytes_moved", r->bytes_moved);
	for (int i = 0; i < PAGEMIG_OUT__COUNT; i++)
		add_u64(out, pagemig_outcome_name(i), r->by_outcome[i]);
	json_object_object_add(o, "by_outcome", out);
	for (int i = 0; i < PAGEMIG_STEP__COUNT; i++) {
		const char *label = pagemig_step_info(i)->label;

		if (i == PAGEMIG_STEP_NONE)
			continue;
		add_u64(steps, label, r->by_step[i]);
		add_u64(first, label, r->first_by_step[i]);
	}
	json_object_object_add(o, "by_step", steps);
	json_object_object_add(o, "first_by_step", first);
	add_u64(o, "retries", r->retries);
	add_u64(o, "retry_rounds", r->retry_rounds);
	add_u64(o, "calls", r->calls);
	add_u64(o, "query_calls", r->query_calls);
	add_u64(o, "entries_sent", r->entries_sent);
	add_u64(o, "folios_deduped", r->folios_deduped);
	add_u64(o, "positive_returns", r->positive_returns);
	add_u64(o, "unwritten", r->unwritten);
	add_u64(o, "verify_mismatches", r->verify_mismatches);
	add_u64(o, "elapsed_ns", r->elapsed_ns);
	add_u64(o, "kernel_ns", r->kernel_ns);
	add_u64(o, "max_call_ns", r->max_call_ns);
	add_str(o, "call_error", r->call_error ? control_errno_name(r->call_error) : NULL);
	add_bool(o, "pid_reused", r->pid_reused);
	return o;
}

static void record_manual(struct commands_state *st, const struct move_job *j)
{
	struct manual_decision *m = &st->manual[st->n_manual++ % PAGEMIGD_MANUAL_HISTORY];
	const struct pagemig_report *r = &j->rep;
	unsigned long best = 0;

	memset(m, 0, sizeof(*m));
	m->d.seq = j->id;
	m->d.time_ms = real_ms();
	m->d.pid = j->pid;
	snprintf(m->d.comm, sizeof(m->d.comm), "%s", j->comm);
	snprintf(m->d.rule, sizeof(m->d.rule), "manual");
	m->d.from = -1;
	m->d.to = (int16_t)j->node;
	m->d.planned = (uint32_t)r->pages;
	m->d.moved = (uint32_t)r->pages_moved;
	m->d.failed = (uint32_t)j->off_target;
	m->d.call_error = j->error;
	for (int s = 1; s < PAGEMIG_STEP__COUNT; s++)
		if (r->by_step[s] > best) {
			best = r->by_step[s];
			m->d.failed_step = (enum pagemig_step)s;
		}
	best = 0;
	for (int o = 0; o < PAGEMIG_OUT__COUNT; o++)
		if (pagemig_metrics_outcome_errno(o) && r->by_outcome[o] > best) {
			best = r->by_outcome[o];
			m->d.failed_outcome = (enum pagemig_outcome)o;
		}
	m->start = j->start;
	m->end = j->end;
}

/* The move is over (done, failed, cancelled): record it, answer its client, reset. */
static void finish_move(struct pagemigd *d, int err, const char *why)
{
	struct commands_state *st = d->cmds;
	struct move_job *j = &st->job;
	struct pagemig_audit *audit = d->sampler ? pagemig_sampler_audit(d->sampler) : NULL;
	struct json_object *o;
	uint64_t client;
	char msg[256];

	if (err && !j->error)
		j->error = err;
	/* the audit: records of this move's pages, while they are fresh */
	if (audit)
		pagemig_sampler_audit_poll(d->sampler, 0);
	for (size_t i = 0; i < j->n_sample; i++) {
		struct audit_sample *s = &j->sample[i];
		const struct pagemig_audit_page *p =
			audit ? pagemig_audit_find(audit, (uint32_t)getpid(), s->addr) : NULL;

		s->seen = p != NULL;
		if (p)
			s->page = *p;
		s->verdict = pagemig_audit_verdict(p, j->node, 0, s->before);
	}
	st->audit_id = j->id;
	st->audit_pid = j->pid;
	st->audit_node = j->node;
	st->n_audit = j->n_sample;
	memcpy(st->audit, j->sample, j->n_sample * sizeof(j->sample[0]));

	record_manual(st, j);
	{
		/* all manual moves together, for status and the metrics */
		struct pagemig_report *t = &st->manual_total;

		t->pages += j->rep.pages;
		t->pages_on_target += j->rep.pages_on_target;
		t->pages_moved += j->rep.pages_moved;
		t->bytes_moved += j->rep.bytes_moved;
		for (int i = 0; i < PAGEMIG_OUT__COUNT; i++)
			t->by_outcome[i] += j->rep.by_outcome[i];
		for (int i = 0; i < PAGEMIG_STEP__COUNT; i++) {
			t->by_step[i] += j->rep.by_step[i];
			t->first_by_step[i] += j->rep.first_by_step[i];
		}
		t->retries += j->rep.retries;
		t->calls += j->rep.calls;
		st->manual_pages_failed += (uint64_t)j->off_target;
	}
	{
		struct managed *m = pagemigd_find_proc(d, j->pid);

		if (m) {
			m->pages_moved += j->rep.pages_moved;
			m->pages_failed += (uint64_t)j->off_target;
		}
	}
	if (j->error)
		st->manual_failed++;
	else
		st->manual_ok++;
	log_msg(j->error ? LOG_WARNING : LOG_NOTICE,
		&(struct log_fields){.policy = "manual",
				     .pid = j->pid,
				     .node = j->node,
				     .pages = (long)j->rep.pages_moved,
				     .err = j->error < 0 ? -j->error : 0},
		"manual move %llu of process %d (%s) to node %d %s: %lu of %lu resident pages "
		"moved, %ld off target%s%s",
		(unsigned long long)j->id, (int)j->pid, j->comm, j->node,
		j->error ? "stopped" : "done", j->rep.pages_moved, j->rep.pages, j->off_target,
		why ? ": " : "", why ? why : "");

	if (j->error && !j->rep.pages && j->error != -ECANCELED) {
		snprintf(msg, sizeof(msg), "moving process %d to node %d failed: %s", (int)j->pid,
			 j->node, why ? why : strerror(-j->error));
		o = NULL;
	} else {
		o = json_object_new_object();
		add_u64(o, "id", j->id);
		add_int(o, "pid", j->pid);
		add_str(o, "comm", j->comm);
		add_int(o, "node", j->node);
		if (j->start || j->end) {
			add_addr(o, "start", j->start);
			add_addr(o, "end", j->end);
		} else {
			add_str(o, "start", NULL);
			add_str(o, "end", NULL);
		}
		add_u64(o, "mappings", j->n_ranges);
		add_bool(o, "completed", !j->error);
		if (j->error) {
			struct json_object *e = json_object_new_object();

			add_str(e, "code", control_errno_name(j->error));
			add_str(e, "message", why ? why : strerror(-j->error));
			json_object_object_add(o, "error", e);
		} else {
			json_object_object_add(o, "error", NULL);
		}
		add_int(o, "off_target", j->off_target);
		add_u64(o, "elapsed_ms", mono_ms() - j->t0_ms);
		json_object_object_add(o, "report", report_json(&j->rep));
	}
	/* free the slot first: the answer may let the same client's next request in */
	client = j->client;
	err = o ? 0 : j->error;
	job_release(j);
	control_reply(d->ctl, client, err, o, o ? NULL : msg);
}

static int cmd_move(void *ctx, const struct control_peer *peer, struct json_object *args,
		    struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {"pid", "node", "start", "end", NULL};
	struct pagemigd *d = ctx;
	struct commands_state *st = d->cmds;
	struct move_job *j;
	int64_t pid = 0, node = -1;
	uint64_t start = 0, end = 0;
	bool have_pid, have_node, have_start, have_end;
	int err;

	err = args_only(args, "move", allowed, msg, len);
	if (!err)
		err = arg_int(args, "pid", 1, INT32_MAX, &pid, &have_pid, msg, len);
	if (!err)
		err = arg_int(args, "node", 0, PAGEMIG_TOPO_MAX_NODES - 1, &node, &have_node, msg,
			      len);
	if (!err)
		err = arg_addr(args, "start", &start, &have_start, msg, len);
	if (!err)
		err = arg_addr(args, "end", &end, &have_end, msg, len);
	if (err)
		return err;
	if (!have_pid || !have_node) {
		snprintf(msg, len, "'move' needs arguments 'pid' and 'node'");
		return -EINVAL;
	}
	if (have_start != have_end || (have_start && start >= end)) {
		snprintf(msg, len, "a range needs 'start' below 'end' (both or neither)");
		return -EINVAL;
	}
	if (!st)
		return -ENOMEM;
	if (pagemigd_observing(d)) {
		snprintf(msg, len,
			 "pagemigd runs in observe mode and moves no pages; set mode = "
			 "enforce in '%s' and reload (or restart without --observe)",
			 d->config_path);
		return -ENOTSUP;
	}
	j = &st->job;
	if (j->active) {
		snprintf(msg, len,
			 "manual move %llu (process %d) is still running; wait for it "
			 "(pagemigctl status shows its progress)",
			 (unsigned long long)j->id, (int)j->pid);
		return -EBUSY;
	}
	if (!d->topo.node[node].has_memory) {
		snprintf(msg, len, "node %" PRId64 " has no memory (see pagemigctl nodes)", node);
		return -ENODEV;
	}
	if (pid == getpid()) {
		snprintf(msg, len, "pagemigd does not move its own memory");
		return -EINVAL;
	}

	job_release(j);
	j->pid = (pid_t)pid;
	j->node = (int)node;
	j->start = start;
	j->end = end;
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	if (j->pidfd < 0) {
		j->pidfd = -1;
		snprintf(msg, len, "no process %d", (int)j->pid);
		return -ESRCH;
	}
	err = collect_ranges(j, !have_start);
	if (!err && !j->n_ranges) {
		snprintf(msg, len,
			 have_start ? "no mapping of process %d lies in 0x%" PRIx64 "-0x%" PRIx64
				      " (see /proc/%d/maps)"
				    : "process %d has no user memory",
			 (int)j->pid, start, end, (int)j->pid);
		err = -EINVAL;
	} else if (err) {
		snprintf(msg, len, "cannot read the mappings of process %d: %s", (int)j->pid,
			 strerror(-err));
	}
	if (!err) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)j->pid);
		j->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
		j->pm = malloc(PAGEMIGD_MOVE_SCAN_PAGES * sizeof(*j->pm));
		j->batch = malloc(PAGEMIGD_MOVE_CHUNK_PAGES * sizeof(*j->batch));
		j->bnodes = malloc(PAGEMIGD_MOVE_CHUNK_PAGES * sizeof(*j->bnodes));
		j->bstatus = malloc(PAGEMIGD_MOVE_CHUNK_PAGES * sizeof(*j->bstatus));
		if (j->pagemap_fd < 0) {
			err = errno == ENOENT ? -ESRCH : -errno;
			snprintf(msg, len, "cannot read /proc/%d/pagemap: %s", (int)j->pid,
				 strerror(-err));
		} else if (!j->pm || !j->batch || !j->bnodes || !j->bstatus) {
			err = -ENOMEM;
		}
	}
	if (err) {
		job_release(j);
		return err;
	}
	{
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)j->pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(j->comm, sizeof(j->comm), f))
				j->comm[strcspn(j->comm, "\n")] = 0;
			fclose(f);
		}
	}
	pick_audit_sample(j);
	pagemig_config_migrate_opts(&d->cfg, &j->opts);
	j->opts.rate_bytes_per_s = 0; /* paced here, between chunks */
	/* pages already on the node are settled by a query, not sent */
	j->opts.flags |= PAGEMIG_PIDFD | PAGEMIG_PREQUERY;
	j->opts.pidfd = j->pidfd;
	pagemig_report_init(&j->rep);
	for (size_t i = 0; i < PAGEMIGD_MOVE_CHUNK_PAGES; i++)
		j->bnodes[i] = j->node;
	j->pos = j->ranges[0].lo;
	j->scan_n = PAGEMIGD_MOVE_CHUNK_PAGES;
	j->id = ++st->moves;
	j->client = peer->client;
	j->uid = peer->uid;
	j->t0_ms = mono_ms();
	j->active = true;
	log_msg(LOG_NOTICE,
		&(struct log_fields){
			.policy = "manual", .pid = j->pid, .node = j->node, .pages = -1},
		"manual move %llu requested by uid %u: process %d (%s), %s, to node %d",
		(unsigned long long)j->id, (unsigned int)peer->uid, (int)j->pid, j->comm,
		have_start ? "a range" : "all its memory", j->node);
	return CONTROL_DEFERRED;
}

/* Hand the resident pages found so far to libpagemig. Returns 0 or -errno (the move stops). */
static int move_batch(struct move_job *j)
{
	long ret;

	if (!j->n_batch)
		return 0;
	ret = pagemig_move(j->pid, j->n_batch, j->batch, j->bnodes, j->bstatus, &j->opts, &j->rep);
	if (ret < 0)
		return (int)ret;
	/* pages that turned out not to be movable (zero page, special) or went away are not
	 * resident movable pages: reported, not counted off target (as pagemig_move_range()) */
	for (size_t i = 0; i < j->n_batch; i++)
		if (j->bstatus[i] != j->node && j->bstatus[i] != -EFAULT &&
		    j->bstatus[i] != -ENOENT)
			j->off_target++;
	j->n_batch = 0;
	return 0;
}

/*
 * Read pagemap from j->pos on and collect resident pages until the batch is full or the read
 * ends. Reads grow while memory is sparse, so reserved address space goes by quickly. Returns 0
 * or -errno.
 */
static int scan_pagemap(struct move_job *j)
{
	const struct move_range *r = &j->ranges[j->cur];
	uint64_t ps = page_size(), n = (r->hi - j->pos) / ps;
	ssize_t got;

	if (n > j->scan_n)
		n = j->scan_n;
	if (!n)
		n = 1;
	got = pread(j->pagemap_fd, j->pm, n * sizeof(*j->pm), (off_t)(j->pos / ps * 8));
	if (got < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	if (got == 0)
		return -ESRCH; /* the address space is gone */
	n = (uint64_t)got / sizeof(*j->pm);
	for (uint64_t i = 0; i < n; i++) {
		if (!(j->pm[i] & (UINT64_C(1) << 63))) /* present */
			continue;
		j->batch[j->n_batch++] = (void *)(uintptr_t)(j->pos + i * ps);
		if (j->n_batch == PAGEMIGD_MOVE_CHUNK_PAGES) {
			n = i + 1;
			break;
		}
	}
	j->scanned += n * ps;
	j->pos += n * ps;
	if (j->n_batch == PAGEMIGD_MOVE_CHUNK_PAGES)
		j->scan_n = PAGEMIGD_MOVE_CHUNK_PAGES;
	else if (j->scan_n < PAGEMIGD_MOVE_SCAN_PAGES)
		j->scan_n *= 2;
	if (j->pos >= r->hi && ++j->cur < j->n_ranges)
		j->pos = j->ranges[j->cur].lo;
	return 0;
}

/* Run the manual move for up to slice_ms; returns ms until it wants to run again (-1 done). */
static int step_move(struct pagemigd *d, unsigned int slice_ms)
{
	struct move_job *j = &d->cmds->job;
	uint64_t t0 = mono_ms(), rate = d->cfg.rate_bytes_per_s;
	char why[160];
	int err = 0;

	if (!control_connected(d->ctl, j->client)) {
		finish_move(d, -ECANCELED, "the client went away");
		return -1;
	}
	while (!err) {
		bool full = j->n_batch == PAGEMIGD_MOVE_CHUNK_PAGES;

		if (full || (j->cur == j->n_ranges && j->n_batch)) {
			if (rate) {
				/* the configured rate, with the small burst the executor allows */
				uint64_t allowed_ms = j->rep.bytes_moved * 1000 / rate;
				uint64_t elapsed = mono_ms() - j->t0_ms;

				if (allowed_ms > elapsed + 100)
					return (int)(allowed_ms - elapsed - 100);
			}
			err = move_batch(j);
		} else if (j->cur == j->n_ranges) {
			finish_move(d, 0, NULL);
			return -1;
		} else {
			err = scan_pagemap(j);
		}
		if (!err && mono_ms() - t0 >= slice_ms)
			return 0;
	}
	snprintf(why, sizeof(why), "%s near 0x%" PRIx64 " after %lu resident pages",
		 err == -ESRCH ? "the process exited" : strerror(-err), j->pos, j->rep.pages);
	finish_move(d, err, why);
	return -1;
}

/* ---- pause, resume, reload, config -------------------------------------------------------- */

static int cmd_pause(void *ctx, const struct control_peer *peer, struct json_object *args,
		     struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {NULL};
	struct pagemigd *d = ctx;
	struct json_object *o;
	uint64_t dropped = executor_pending(d->exec);
	bool was = d->paused;
	int err = args_only(args, "pause", allowed, msg, len);

	if (err)
		return err;
	d->paused = true;
	executor_cancel(d->exec);
	if (!was)
		log_notice("paused by uid %u (pid %d): the policies move nothing until 'pagemigctl "
			   "resume'; %llu planned pages dropped",
			   (unsigned int)peer->uid, (int)peer->pid, (unsigned long long)dropped);
	o = json_object_new_object();
	add_bool(o, "paused", true);
	add_bool(o, "was_paused", was);
	add_u64(o, "pages_dropped", dropped);
	*result = o;
	return 0;
}

static int cmd_resume(void *ctx, const struct control_peer *peer, struct json_object *args,
		      struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {NULL};
	struct pagemigd *d = ctx;
	struct json_object *o;
	bool was = d->paused;
	int err = args_only(args, "resume", allowed, msg, len);

	if (err)
		return err;
	d->paused = false;
	if (was)
		log_notice("resumed by uid %u (pid %d)", (unsigned int)peer->uid, (int)peer->pid);
	o = json_object_new_object();
	add_bool(o, "paused", false);
	add_bool(o, "was_paused", was);
	*result = o;
	return 0;
}

static int cmd_reload(void *ctx, const struct control_peer *peer, struct json_object *args,
		      struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {NULL};
	struct pagemigd *d = ctx;
	struct pagemig_config_diag *diag;
	struct pagemig_config probe;
	struct json_object *o, *warnings;
	char line[PAGEMIG_CONFIG_MSG_MAX + 300];
	int err = args_only(args, "reload", allowed, msg, len);

	if (err)
		return err;
	/* check first, to answer with the file's own messages */
	diag = malloc(sizeof(*diag));
	if (!diag)
		return -ENOMEM;
	err = pagemig_config_load(d->config_path, &probe, diag);
	if (err) {
		size_t used = (size_t)snprintf(msg, len,
					       "'%s' has %u error%s; the running "
					       "configuration stays:",
					       d->config_path, diag->errors,
					       diag->errors == 1 ? "" : "s");

		for (unsigned int i = 0; i < diag->n && used + 4 < len; i++) {
			if (diag->msg[i].severity != PAGEMIG_CONFIG_ERROR)
				continue;
			pagemig_config_diag_format(diag, i, line, sizeof(line));
			used += (size_t)snprintf(msg + used, len - used, " %s;", line);
		}
		free(diag);
		return err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	pagemig_config_free(&probe);
	warnings = json_object_new_array();
	for (unsigned int i = 0; i < diag->n; i++) {
		pagemig_config_diag_format(diag, i, line, sizeof(line));
		json_object_array_add(warnings, json_object_new_string(line));
	}
	free(diag);
	log_notice("reload requested by uid %u (pid %d)", (unsigned int)peer->uid, (int)peer->pid);
	err = pagemigd_reload(d);
	if (err) {
		json_object_put(warnings);
		snprintf(msg, len,
			 "reloading '%s' failed (%s); the running configuration stays: "
			 "see 'journalctl -u pagemigd'",
			 d->config_path, strerror(-err));
		return err;
	}
	o = json_object_new_object();
	add_str(o, "config", d->config_path);
	add_u64(o, "policies", d->cfg.n_rules);
	add_str(o, "mode", pagemigd_observing(d) ? "observe" : "enforce");
	json_object_object_add(o, "warnings", warnings);
	*result = o;
	return 0;
}

static int cmd_config(void *ctx, const struct control_peer *peer, struct json_object *args,
		      struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {"changed", NULL};
	struct pagemigd *d = ctx;
	struct json_object *o;
	bool changed = false;
	char *text;
	int err;

	err = args_only(args, "config", allowed, msg, len);
	if (!err)
		err = arg_bool(args, "changed", &changed, msg, len);
	if (err)
		return err;
	text = pagemig_config_render(&d->cfg, changed ? PAGEMIG_CONFIG_RENDER_CHANGED : 0);
	if (!text)
		return -ENOMEM;
	o = json_object_new_object();
	add_str(o, "path", d->config_path);
	add_bool(o, "changed_only", changed);
	add_bool(o, "observe_forced", d->force_observe);
	add_str(o, "socket_override", d->socket_override);
	add_str(o, "text", text);
	free(text);
	*result = o;
	return 0;
}

/* ---- metrics --------------------------------------------------------------------------------- */

static char *render_metrics(struct pagemigd *d, bool up, size_t *len)
{
	struct commands_state *st = d->cmds;
	struct pagemig_metrics_input in = {0};
	struct pagemig_sampler_stats stats;
	uint64_t node_pages[PAGEMIG_TOPO_MAX_NODES] = {0};
	struct metrics_text t;
	char *text;

	account_history(d);
	for (size_t i = 0; i < d->n_procs; i++)
		for (int n = 0; n < PAGEMIG_TOPO_MAX_NODES; n++)
			node_pages[n] += d->procs[i].pages_on[n];
	in.version = PAGEMIG_DAEMON_VERSION;
	in.up = up;
	in.observe = pagemigd_observing(d);
	in.paused = d->paused;
	in.start_time_s = st ? st->start_real_s : 0;
	in.uptime_s = (mono_ms() - d->start_ms) / 1000;
	in.cycles = d->cycles;
	in.plans_skipped = d->plans_skipped;
	in.plans_topped_up = d->plans_topped_up;
	in.departures = d->departures;
	in.cycles_soon = d->cycles_soon;
	in.last_cycle_s = (double)d->last_cycle_ns / 1e9;
	if (st) {
		memcpy(in.cycle_buckets, st->cycle_buckets, sizeof(in.cycle_buckets));
		in.cycle_sum_s = st->cycle_sum_s;
		in.cycle_count = st->cycle_count;
		in.manual_moves_ok = st->manual_ok;
		in.manual_moves_failed = st->manual_failed;
		in.manual = &st->manual_total;
	}
	in.managed = d->n_procs;
	in.local_share = d->local_share;
	in.node_managed_pages = node_pages;
	in.exec = d->exec ? executor_counters(d->exec) : NULL;
	in.pages_pending = d->exec ? executor_pending(d->exec) : 0;
	in.plan = d->cycles ? &d->plan : NULL;
	in.topo = &d->topo;
	if (d->sampler) {
		struct pagemig_audit *a = pagemig_sampler_audit(d->sampler);

		in.sources = pagemig_sampler_sources(d->sampler);
		pagemig_sampler_stats(d->sampler, &stats);
		in.sampler = &stats;
		const struct pagemig_snapshot *snap = pagemig_sampler_snapshot(d->sampler);

		in.migrations = snap ? snap->migrations_total : NULL;
		in.audit = a ? pagemig_audit_totals(a) : NULL;
	}
	in.control_clients = d->ctl ? control_clients(d->ctl) : 0;

	metrics_text_init(&t);
	if (pagemig_metrics_render(&in, &t)) {
		log_errno(LOG_ERR, t.err, "rendering the metrics");
		metrics_text_free(&t);
		return NULL;
	}
	text = t.buf ? t.buf : strdup("");
	*len = t.len;
	return text;
}

static char *http_render(void *ctx, size_t *len)
{
	return render_metrics(ctx, true, len);
}

static int cmd_metrics(void *ctx, const struct control_peer *peer, struct json_object *args,
		       struct json_object **result, char *msg, size_t len)
{
	static const char *const allowed[] = {NULL};
	struct pagemigd *d = ctx;
	struct json_object *o;
	size_t n = 0;
	char *text;
	int err = args_only(args, "metrics", allowed, msg, len);

	if (err)
		return err;
	text = render_metrics(d, true, &n);
	if (!text)
		return -ENOMEM;
	o = json_object_new_object();
	add_str(o, "content_type", "text/plain; version=0.0.4");
	json_object_object_add(o, "text", json_object_new_string_len(text, (int)n));
	free(text);
	*result = o;
	return 0;
}

static void write_metrics_file(struct pagemigd *d, bool up)
{
	struct commands_state *st = d->cmds;
	size_t n = 0;
	char *text;
	int err;

	if (!d->cfg.metrics_file[0])
		return;
	text = render_metrics(d, up, &n);
	err = text ? metrics_write_file(d->cfg.metrics_file, text, n) : -ENOMEM;
	free(text);
	if (err && !st->metrics_file_failing)
		log_errno(LOG_WARNING, err,
			  "writing the metrics to '%s' (metrics_file); trying "
			  "again each cycle",
			  d->cfg.metrics_file);
	else if (!err && st->metrics_file_failing)
		log_notice("writing the metrics to '%s' works again", d->cfg.metrics_file);
	st->metrics_file_failing = err != 0;
}

const struct control_command pagemigd_commands[] = {
	{"status", cmd_status, false},
	{"nodes", cmd_nodes, false},
	{"procs", cmd_procs, false},
	{"proc", cmd_proc, false},
	{"history", cmd_history, false},
	{"audit", cmd_audit, false},
	{"config", cmd_config, false},
	{"metrics", cmd_metrics, false},
	{"move", cmd_move, true},
	{"pause", cmd_pause, true},
	{"resume", cmd_resume, true},
	{"reload", cmd_reload, true},
	{NULL, NULL, false},
};

/* ---- the main loop's hooks ------------------------------------------------------------------- */

/* (Re)open the metrics listener for the configured metrics_listen ("" = none). */
static void open_http(struct pagemigd *d)
{
	struct commands_state *st = d->cmds;
	const char *listen = d->cfg.metrics_listen;
	int err;

	metrics_http_close(st->http);
	st->http = NULL;
	st->http_addr[0] = 0;
	snprintf(st->http_cfg, sizeof(st->http_cfg), "%s", listen);
	if (!listen[0])
		return;
	err = metrics_http_open(listen, http_render, d, &st->http);
	if (!err)
		err = metrics_http_set_epoll(st->http, d->epfd);
	if (err) {
		log_errno(LOG_WARNING, err,
			  "serving the metrics on '%s' (metrics_listen%s); continuing without",
			  listen, err == -EADDRNOTAVAIL ? ": only loopback addresses" : "");
		metrics_http_close(st->http);
		st->http = NULL;
		return;
	}
	metrics_http_address(st->http, st->http_addr, sizeof(st->http_addr));
	log_info("metrics on http://%s/metrics", st->http_addr);
}

int pagemigd_ctl_open(struct pagemigd *d)
{
	struct commands_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->job.pidfd = -1;
	st->job.pagemap_fd = -1;
	st->start_real_s = real_ms() / 1000 - (mono_ms() - d->start_ms) / 1000;
	d->cmds = st;
	if (d->sampler) {
		/* follow pagemigd's own migrations step by step (policy and manual moves) */
		int err = pagemig_sampler_audit_mover(d->sampler, getpid(), true);

		if (err && err != -ENODEV)
			log_errno(LOG_WARNING, err, "auditing pagemigd's own migrations");
	}
	open_http(d);
	return 0;
}

void pagemigd_ctl_close(struct pagemigd *d)
{
	struct commands_state *st = d->cmds;

	if (!st)
		return;
	if (st->job.active)
		finish_move(d, -ECANCELED, "pagemigd is stopping");
	metrics_http_close(st->http);
	write_metrics_file(d, false);
	free(st);
	d->cmds = NULL;
}

bool pagemigd_ctl_owns(const struct pagemigd *d, int fd)
{
	return d->cmds && d->cmds->http && metrics_http_owns(d->cmds->http, fd);
}

void pagemigd_ctl_io(struct pagemigd *d, int fd, uint32_t events)
{
	if (d->cmds && d->cmds->http)
		metrics_http_io(d->cmds->http, fd, events);
}

int pagemigd_ctl_step(struct pagemigd *d, int wait_ms)
{
	struct commands_state *st = d->cmds;
	int want;

	if (!st)
		return wait_ms;
	account_history(d);
	if (d->cycles != st->seen_cycles) {
		double s = (double)d->last_cycle_ns / 1e9;
		int b = 0;

		while (b < PAGEMIG_METRICS_CYCLE_BUCKETS && s > pagemig_metrics_cycle_bounds[b])
			b++;
		st->cycle_buckets[b]++;
		st->cycle_sum_s += s;
		st->cycle_count++;
		st->seen_cycles = d->cycles;
		write_metrics_file(d, true);
	}
	if (strcmp(st->http_cfg, d->cfg.metrics_listen))
		open_http(d); /* a reload changed metrics_listen */
	if (st->http)
		metrics_http_expire(st->http, mono_ms());
	if (!st->job.active)
		return wait_ms;
	want = step_move(d, PAGEMIGD_MOVE_SLICE_MS);
	if (want < 0)
		return wait_ms;
	return wait_ms < 0 || want < wait_ms ? want : wait_ms;
}
