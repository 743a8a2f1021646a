// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "log.h"
#include "clock.h"

/*
 * Pages handed to the library at once, at most; and first in every group, before the cost of its
 * pages is known: a process whose memory is in transparent huge pages costs 512 times as much
 * per page as one of 4 KiB pages (the kernel moves the whole folio for any address in it).
 */
#define GROUP_MAX   4096
#define GROUP_FIRST 8

struct executor {
	exec_lookup_fn lookup;
	exec_wanted_fn wanted;
	void *ctx;
	struct pagemig_policy_history *history;
	struct pagemig_opts opts;
	uint64_t rate;
	const struct pagemig_policy_rule *rules;
	size_t n_rules;
	/* pending work: the plan's moves sorted into groups */
	struct pagemig_plan_move *moves;
	size_t n, pos, cap;
	bool observe;
	/* pacing since submit */
	uint64_t start_ms;
	uint64_t bytes_done;
	/* pages per library call and thread, sized from the last call of the group so that one
	 * call fits in a slice; the group it was sized for */
	size_t batch;
	unsigned int threads; /* opts.threads, at least 1 */
	uint64_t page_ns; /* the cost per page it was sized with */
	struct pagemig_plan_move batch_for;
	/* scratch for one group */
	void *pages[GROUP_MAX];
	int nodes[GROUP_MAX];
	int status[GROUP_MAX];
	struct pagemig_page_detail details[GROUP_MAX];
	struct exec_counters counters;
	struct exec_decision ring[EXEC_HISTORY];
	uint64_t seq;
};

struct executor *executor_new(exec_lookup_fn lookup, void *ctx,
			      struct pagemig_policy_history *history)
{
	struct executor *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->lookup = lookup;
	e->ctx = ctx;
	e->history = history;
	e->opts.sz = sizeof(e->opts);
	e->batch = GROUP_FIRST;
	return e;
}

void executor_free(struct executor *e)
{
	if (!e)
		return;
	free(e->moves);
	free(e);
}

void executor_set_wanted(struct executor *e, exec_wanted_fn wanted)
{
	e->wanted = wanted;
}

void executor_configure(struct executor *e, const struct pagemig_opts *opts, uint64_t rate,
			const struct pagemig_policy_rule *rules, size_t n_rules)
{
	e->opts = *opts;
	e->opts.sz = sizeof(e->opts);
	e->threads = opts->threads > 1 ? opts->threads : 1;
	e->rate = rate;
	e->rules = rules;
	e->n_rules = n_rules;
}

/* Groups: one process, one reason, one source and target node; hottest pages first. */
static int cmp_move(const void *a, const void *b)
{
	const struct pagemig_plan_move *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->page < y->page ? -1 : (x->page > y->page);
}

static int cmp_key_page(const void *a, const void *b)
{
	const struct pagemig_plan_move *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->page < y->page ? -1 : (x->page > y->page);
}

/* Whether (tgid, page) of m is among the n moves of sorted (by tgid and page). */
static bool planned_in(const struct pagemig_plan_move *sorted, size_t n,
		       const struct pagemig_plan_move *m)
{
	return bsearch(m, sorted, n, sizeof(*sorted), cmp_key_page) != NULL;
}

/* keep_fn that keeps every process's pending moves */
static bool keep_all(void *ctx, uint32_t tgid)
{
	return true;
}

/*
 * The new work: the plan's moves, then, with keep, the pending moves of the old plan for pages
 * the new one does not name, of the processes keep says yes to. Those sit at moves[pos..n) and
 * are read while the new array is written, so keeping takes a new array; replacing reuses the
 * old one.
 */
static int take_plan(struct executor *e, const struct pagemig_plan *plan, executor_keep_fn keep,
		     void *ctx)
{
	size_t old_n = keep ? e->n - e->pos : 0, n = plan->n_moves + old_n, kept = 0;
	struct pagemig_plan_move *m = e->moves;

	if (old_n) {
		m = malloc(n * sizeof(*m));
		if (!m)
			return -ENOMEM;
	} else if (n > e->cap) {
		m = realloc(e->moves, n * sizeof(*m));
		if (!m)
			return -ENOMEM;
		e->moves = m;
		e->cap = n;
	}
	if (plan->n_moves) /* an empty plan may have no array */
		memcpy(m, plan->moves, plan->n_moves * sizeof(*m));
	if (old_n) {
		qsort(m, plan->n_moves, sizeof(*m), cmp_key_page);
		for (size_t i = e->pos; i < e->n; i++)
			if (keep(ctx, e->moves[i].tgid) &&
			    !planned_in(m, plan->n_moves, &e->moves[i]))
				m[plan->n_moves + kept++] = e->moves[i];
		free(e->moves);
		e->moves = m;
		e->cap = n;
	}
	e->n = plan->n_moves + kept;
	return 0;
}

static int submit(struct executor *e, const struct pagemig_plan *plan, bool observe,
		  uint64_t now_ms, executor_keep_fn keep, void *ctx)
{
	int err = take_plan(e, plan, !observe && e->pos < e->n ? keep : NULL, ctx);

	if (err)
		return err;
	e->pos = 0;
	e->observe = observe;
	e->start_ms = now_ms;
	e->bytes_done = 0;
	if (e->n)
		qsort(e->moves, e->n, sizeof(*e->moves), cmp_move);
	return 0;
}

int executor_submit(struct executor *e, const struct pagemig_plan *plan, bool observe,
		    uint64_t now_ms)
{
	return submit(e, plan, observe, now_ms, NULL, NULL);
}

int executor_submit_keeping(struct executor *e, const struct pagemig_plan *plan, bool observe,
			    uint64_t now_ms)
{
	return submit(e, plan, observe, now_ms, keep_all, NULL);
}

int executor_submit_keeping_if(struct executor *e, const struct pagemig_plan *plan, bool observe,
			       uint64_t now_ms, executor_keep_fn keep, void *ctx)
{
	return submit(e, plan, observe, now_ms, keep, ctx);
}

void executor_cancel(struct executor *e)
{
	e->n = e->pos = 0;
}

uint64_t executor_pending(const struct executor *e)
{
	return e->n - e->pos;
}

uint64_t executor_pending_age_ms(const struct executor *e, uint64_t now_ms)
{
	return e->pos < e->n && now_ms > e->start_ms ? now_ms - e->start_ms : 0;
}

uint64_t executor_pending_ms(const struct executor *e, uint64_t now_ms)
{
	uint64_t elapsed = executor_pending_age_ms(e, now_ms);

	if (e->pos >= e->n)
		return 0;
	if (!e->pos || !elapsed)
		return UINT64_MAX;
	return (uint64_t)(e->n - e->pos) * elapsed / e->pos;
}

const struct pagemig_plan_move *executor_pending_moves(const struct executor *e, size_t *n)
{
	*n = e->pos < e->n ? e->n - e->pos : 0;
	return *n ? e->moves + e->pos : NULL;
}

static int cmp_page(const void *a, const void *b)
{
	const struct pagemig_plan_move *x = a, *y = b;

	return x->page < y->page ? -1 : (x->page > y->page);
}

static struct exec_decision *new_decision(struct executor *e, const struct pagemig_plan_move *m,
					  const char *comm)
{
	struct exec_decision *d = &e->ring[e->seq % EXEC_HISTORY];

	memset(d, 0, sizeof(*d));
	d->seq = ++e->seq;
	d->time_ms = real_ms();
	d->pid = m->tgid;
	d->reason = m->reason;
	d->from = m->from;
	d->to = m->to;
	d->observe = e->observe;
	if (comm)
		snprintf(d->comm, sizeof(d->comm), "%s", comm);
	if (m->rule < e->n_rules)
		snprintf(d->rule, sizeof(d->rule), "%s", e->rules[m->rule].name);
	e->counters.decisions++;
	return d;
}

/* Where most of the group's failures backed out. */
static void summarise_failures(struct executor *e, size_t n, struct exec_decision *d)
{
	unsigned long by_step[PAGEMIG_STEP__COUNT] = {0};
	enum pagemig_outcome outcome_of[PAGEMIG_STEP__COUNT] = {0};
	size_t best = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pagemig_class *c = &e->details[i].final;

		if (c->success)
			continue;
		by_step[c->step]++;
		outcome_of[c->step] = c->outcome;
	}
	for (size_t s = 1; s < PAGEMIG_STEP__COUNT; s++)
		if (by_step[s] > by_step[best])
			best = s;
	d->failed_step = (enum pagemig_step)best;
	d->failed_outcome = outcome_of[best];
}

static bool same_group(const struct pagemig_plan_move *a, const struct pagemig_plan_move *b)
{
	return a->tgid == b->tgid && a->reason == b->reason && a->follows == b->follows &&
	       a->from == b->from && a->to == b->to;
}

/* How many threads libpagemig moves a list of n pages from. */
static size_t parts_of(const struct executor *e, size_t n)
{
	size_t parts = n / PAGEMIG_THREAD_MIN_PAGES;

	return parts < 2 ? 1 : parts < e->threads ? parts : e->threads;
}

/*
 * Size the next call from the calls before: what fits in three quarters of a slice, growing at
 * most 4x a call. A page can stand for much more than 4 KiB (the kernel moves a whole
 * transparent huge page for any address in it: milliseconds under emulation), and one process
 * can have both kinds, so the size follows time, and the cost per page is the dearest seen
 * lately (halving with every call that was cheaper), not the last. With several threads the
 * size is one thread's share: a thread's cost per page is the wall time over its part.
 */
static void size_batch(struct executor *e, size_t n, uint64_t ns, unsigned int slice_ms)
{
	size_t share = n / parts_of(e, n);
	uint64_t fit, per_page = share ? ns / share : 0;

	if (!per_page || !slice_ms)
		return;
	e->page_ns = per_page > e->page_ns / 2 ? per_page : e->page_ns / 2;
	fit = (uint64_t)slice_ms * 750000 / e->page_ns;
	if (fit > (uint64_t)share * 4)
		fit = (uint64_t)share * 4;
	e->batch = fit < 1 ? 1 : fit > GROUP_MAX ? GROUP_MAX : (size_t)fit;
}

/*
 * Whether the kernel's refusal of a page will most likely hold at the next plan: the page is
 * mapped by other processes, cannot be migrated at all, is gone, or backed out for a reason
 * the library's retries did not clear. Asking again every interval would only repeat the
 * refusal, and keep the process from ever counting as settled.
 */
static bool refusal_lasts(const struct pagemig_class *c)
{
	switch (c->outcome) {
	case PAGEMIG_OUT_SHARED:
	case PAGEMIG_OUT_NOT_MAPPED:
	case PAGEMIG_OUT_NOT_PRESENT:
	case PAGEMIG_OUT_IO:
		return true;
	case PAGEMIG_OUT_MIGRATE_FAILED:
		return !c->transient;
	default:
		return false;
	}
}

/* Drop the whole group at e->pos: its process has left the target node. The next plan, made
 * from samples of where it runs now, says what to move instead. */
static void drop_left_group(struct executor *e, const char *comm)
{
	const struct pagemig_plan_move key = e->moves[e->pos];
	struct exec_decision *d = new_decision(e, &key, comm);
	size_t n = 0;

	while (e->pos + n < e->n && same_group(&e->moves[e->pos + n], &key))
		n++;
	e->pos += n;
	d->planned = (uint32_t)n;
	d->left = true;
	e->counters.pages_planned += n;
	e->counters.left_node += n;
	/* debug: the wanted check says it at info, once each time the process leaves a node */
	log_msg(LOG_DEBUG,
		&(struct log_fields){.policy = d->rule, .pid = d->pid, .node = d->to,
				     .pages = (long)n},
		"%s: %d (%s) no longer runs on node %d: %zu pending moves there dropped (%s)",
		d->rule, (int)d->pid, d->comm, d->to, n, pagemig_move_reason_name(d->reason));
}

/* Run the next pages of one group: at most e->batch of them. */
static void run_group(struct executor *e, unsigned int slice_ms)
{
	const struct pagemig_plan_move *first = &e->moves[e->pos];
	struct pagemig_report rep;
	struct pagemig_opts o = e->opts;
	struct exec_decision *d;
	const char *comm = NULL;
	size_t n = 0;
	long ret;
	int pidfd;

	const struct pagemig_plan_move key = *first;
	size_t limit;

	if (!same_group(first, &e->batch_for)) {
		e->batch = GROUP_FIRST;
		e->page_ns = 0;
		e->batch_for = key;
	}
	/* a group that will not be moved (observe mode, the process is gone) goes at once; one
	 * that takes pages to where the process ran when planned (follows) loses its point once
	 * the process has left that node */
	pidfd = e->lookup(e->ctx, first->tgid, &comm);
	if (!e->observe && pidfd >= 0 && e->wanted && first->follows &&
	    !e->wanted(e->ctx, first->tgid, first->to)) {
		drop_left_group(e, comm);
		return;
	}
	limit = e->observe || pidfd < 0 ? GROUP_MAX : e->batch * e->threads;
	if (limit > GROUP_MAX)
		limit = GROUP_MAX;
	while (e->pos + n < e->n && n < limit && same_group(&e->moves[e->pos + n], &key))
		n++;
	/*
	 * The group holds the hottest pages of its kind; within it, address order lets the kernel
	 * walk page tables and VMAs in one direction instead of jumping between them.
	 */
	qsort(&e->moves[e->pos], n, sizeof(*e->moves), cmp_page);
	for (size_t i = 0; i < n; i++) {
		e->pages[i] = (void *)(uintptr_t)e->moves[e->pos + i].page;
		e->nodes[i] = e->moves[e->pos + i].to;
	}
	d = new_decision(e, first, comm);
	d->planned = (uint32_t)n;
	e->counters.pages_planned += n;
	if (e->observe || pidfd < 0) {
		if (pidfd < 0) {
			d->call_error = -ESRCH;
			e->counters.proc_gone++;
		}
		e->pos += n;
		return;
	}

	o.flags |= PAGEMIG_PIDFD;
	o.pidfd = pidfd;
	o.details = e->details;
	/* pacing is executor_step()'s, between calls: the library's would sleep in the loop */
	o.rate_bytes_per_s = 0;
	pagemig_report_init(&rep);
	ret = pagemig_move(first->tgid, n, e->pages, e->nodes, e->status, &o, &rep);
	size_batch(e, n, rep.elapsed_ns, slice_ms);
	/* how far apart its pages lie (sorted by address above) tells whether a call walked one
	 * page table or hundreds */
	log_debug("group of %zu pages of %d over %.1f MiB: %.1f ms, %.1f ms of it in %lu move "
		  "calls, %lu queries",
		  n, (int)first->tgid,
		  n ? (double)(e->moves[e->pos + n - 1].page - e->moves[e->pos].page) / 1048576 : 0,
		  (double)rep.elapsed_ns / 1e6, (double)rep.kernel_ns / 1e6, rep.calls,
		  rep.query_calls);
	e->pos += n;
	e->counters.calls += rep.calls;
	e->counters.retries += rep.retries;
	if (rep.max_call_ns > e->counters.max_call_ns)
		e->counters.max_call_ns = rep.max_call_ns;
	if (ret < 0) {
		d->call_error = (int)ret;
		e->counters.proc_gone += ret == -ESRCH;
		log_msg(LOG_DEBUG,
			&(struct log_fields){.policy = d->rule,
					     .pid = d->pid,
					     .node = d->to,
					     .pages = (long)n,
					     .err = (int)-ret},
			"moving %zu pages of %d (%s) to node %d failed: %s", n, (int)d->pid,
			d->comm, d->to, strerror((int)-ret));
		/* what ran before the failure still counts below */
	}
	for (size_t i = 0; i < n; i++) {
		const struct pagemig_class *c = &e->details[i].final;

		if (e->status[i] == e->nodes[i]) {
			d->moved++;
			pagemig_policy_history_moved(e->history, first->tgid,
						     (uint64_t)(uintptr_t)e->pages[i], first->from,
						     first->to, mono_ms());
		} else if (ret >= 0 || e->status[i] != -ECANCELED) {
			d->failed++;
			e->counters.by_outcome[c->outcome]++;
			e->counters.by_step[c->step]++;
			if (refusal_lasts(c))
				pagemig_policy_history_refused(e->history, first->tgid,
							       (uint64_t)(uintptr_t)e->pages[i],
							       first->to, mono_ms());
		}
	}
	if (d->failed)
		summarise_failures(e, n, d);
	e->counters.pages_moved += d->moved;
	e->counters.pages_failed += d->failed;
	e->counters.bytes_moved += rep.bytes_moved;
	e->counters.moved_by_reason[d->reason] += d->moved;
	if (d->from >= 0 && d->from < PAGEMIG_TOPO_MAX_NODES && d->to >= 0 &&
	    d->to < PAGEMIG_TOPO_MAX_NODES)
		e->counters.moved_from_to[d->from][d->to] += d->moved;
	e->bytes_done += (uint64_t)n * (uint64_t)sysconf(_SC_PAGESIZE);
	if (d->moved || d->failed)
		log_msg(d->failed ? LOG_NOTICE : LOG_INFO,
			&(struct log_fields){
				.policy = d->rule,
				.pid = d->pid,
				.node = d->to,
				.pages = d->moved,
				.err = 0,
				.step = d->failed ? pagemig_step_info(d->failed_step)->label
						  : NULL},
			"%s: moved %u of %u pages of %d (%s) node %d -> %d (%s)%s%s", d->rule,
			d->moved, d->planned, (int)d->pid, d->comm, d->from, d->to,
			pagemig_move_reason_name(d->reason),
			d->failed ? "; failures backed out at " : "",
			d->failed ? pagemig_step_info(d->failed_step)->label : "");
	/* the process went away: the rest of its group is dropped with this decision */
	if (ret == -ESRCH)
		while (e->pos < e->n && same_group(&e->moves[e->pos], &key)) {
			e->pos++;
			d->planned++;
			e->counters.pages_planned++;
		}
}

int executor_step(struct executor *e, unsigned int slice_ms)
{
	uint64_t t0 = mono_ms();

	while (e->pos < e->n) {
		if (e->rate && !e->observe) {
			/* a small burst allowance, then the configured rate */
			uint64_t allowed_ms = e->bytes_done * 1000 / e->rate;
			uint64_t elapsed = mono_ms() - e->start_ms;

			if (allowed_ms > elapsed + 100)
				return (int)(allowed_ms - elapsed - 100);
		}
		run_group(e, slice_ms);
		if (mono_ms() - t0 >= slice_ms)
			return e->pos < e->n ? 0 : -1;
	}
	return -1;
}

const struct exec_counters *executor_counters(const struct executor *e)
{
	return &e->counters;
}

const struct exec_decision *executor_history(const struct executor *e, size_t i, size_t *n)
{
	size_t have = e->seq < EXEC_HISTORY ? e->seq : EXEC_HISTORY;

	if (n)
		*n = have;
	if (i >= have)
		return NULL;
	return &e->ring[(e->seq - have + i) % EXEC_HISTORY];
}
