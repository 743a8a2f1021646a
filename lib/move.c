// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The migration engine: group by target node, send huge folios once, chunk by pages per call and
 * by a per-call latency budget, pre-fill status[] with a sentinel to find the entries the kernel
 * left unwritten, verify with a nodes=NULL query, and retry transient outcomes per page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <numaif.h>

#include "internal.h"

/* Per-page bookkeeping across passes. */
struct page_state {
	struct pagemig_class first;
	struct pagemig_class last;
	unsigned int retries;
	bool answered; /* first is set */
	bool final;    /* decided; never sent again */
	bool mixed;    /* its pmd window holds pages with different targets */
	bool unchecked; /* the move call said "on target"; the end-of-pass query has not yet */
};

/* One operation's working set. */
struct run {
	const struct pagemig_sys *sys;
	const struct pagemig_pid_guard *guard;
	struct pagemig_opts opts;
	struct pagemig_report *rep;
	struct pagemig_probe probe;
	void *const *pages;
	const int *nodes;
	struct page_state *st;
	int mp_flags;
	size_t page_size;
	size_t pmd_pages;
	/* chunk buffers, opts.pages_per_call entries each */
	void **cpages;
	int *cnodes;
	int *cstatus;
	int *cquery;
	void **qpages; /* scratch for queries */
	int *qstatus;
	size_t *cidx; /* input index of each chunk entry */
	size_t *crun; /* pending entries each chunk entry stands for (1, or a folio's pages) */
	size_t *cpos; /* position in the pending list of each chunk entry */
	/* end-of-pass verification: pages whose move answer was their target */
	size_t *unchecked;
	size_t nunchecked;
	void **vpages;
	int *vstatus;
	size_t vmax;
	/* adaptive chunk size, in pages (the caller's across batches, or this operation's) */
	struct pagemig_chunker *ck;
	struct pagemig_chunker own_ck;
	bool start_small; /* pages_per_call is the library's default: start at START_CHUNK */
	/* pacing */
	uint64_t t0;
	uint64_t bytes_sent;
	/* nodes found full (ENOMEM) in this operation */
	unsigned char full[(PAGEMIG_MAX_NODE + 1) / 8];
	bool pid_reused;
};

int pagemig__opts_resolve(const struct pagemig_opts *in, struct pagemig_opts *out)
{
	const unsigned int known = PAGEMIG_MOVE_ALL | PAGEMIG_NO_VERIFY | PAGEMIG_NO_FOLIO_DEDUP |
				   PAGEMIG_PIDFD | PAGEMIG_PREQUERY | PAGEMIG_VERIFY_ALL;

	memset(out, 0, sizeof(*out));
	if (in) {
		if (in->sz < offsetof(struct pagemig_opts, max_retries) + sizeof(in->max_retries))
			return -EINVAL;
		memcpy(out, in, in->sz < sizeof(*out) ? in->sz : sizeof(*out));
	}
	out->sz = sizeof(*out);
	if (out->flags & ~known)
		return -EINVAL;
	if (!out->max_retries)
		out->max_retries = PAGEMIG_DEFAULT_MAX_RETRIES;
	if (!out->pages_per_call)
		out->pages_per_call = PAGEMIG_DEFAULT_PAGES_PER_CALL;
	if (out->pages_per_call > 65536)
		out->pages_per_call = 65536;
	if (!out->call_budget_us)
		out->call_budget_us = PAGEMIG_DEFAULT_CALL_BUDGET_US;
	if (!out->backoff_us)
		out->backoff_us = PAGEMIG_DEFAULT_BACKOFF_US;
	if (!out->batch_pages)
		out->batch_pages = PAGEMIG_DEFAULT_BATCH_PAGES;
	return 0;
}

static bool node_full(const struct run *r, int node)
{
	return node >= 0 && node <= PAGEMIG_MAX_NODE && (r->full[node / 8] & (1u << (node % 8)));
}

static void mark_full(struct run *r, int node)
{
	if (node >= 0 && node <= PAGEMIG_MAX_NODE)
		r->full[node / 8] |= (unsigned char)(1u << (node % 8));
}

static uintptr_t page_of(const struct run *r, size_t i)
{
	return (uintptr_t)r->pages[i] & ~(uintptr_t)(r->page_size - 1);
}

static uintptr_t window_of(const struct run *r, size_t i)
{
	return (uintptr_t)r->pages[i] & ~(uintptr_t)(r->pmd_pages * r->page_size - 1);
}

/* Record one answer for page i. */
static void record(struct run *r, size_t i, struct pagemig_class cls)
{
	struct page_state *s = &r->st[i];

	if (!s->answered) {
		s->first = cls;
		s->answered = true;
		if (!cls.success)
			r->rep->first_by_step[cls.step]++;
	}
	if (!cls.success)
		r->rep->by_step[cls.step]++;
	s->last = cls;
}

static void decide(struct run *r, size_t i, struct pagemig_class cls)
{
	record(r, i, cls);
	r->st[i].final = true;
}

/* ---- ordering ------------------------------------------------------------------------------ */

static int cmp_node_index(const void *a, const void *b, void *arg)
{
	const int *nodes = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (nodes[x] != nodes[y])
		return nodes[x] < nodes[y] ? -1 : 1;
	return x < y ? -1 : (x > y);
}

/* Indices 0..count-1 grouped by target node, input order kept inside a group: the kernel
 * migrates consecutive same-node entries as one batch and flushes at every change. */
static size_t *group_by_node(size_t count, const int nodes[], bool *ret_multi)
{
	size_t *order = malloc(count * sizeof(*order));
	bool multi = false;

	if (!order)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		order[i] = i;
		multi |= nodes[i] != nodes[0];
	}
	if (multi)
		qsort_r(order, count, sizeof(*order), cmp_node_index, (void *)nodes);
	*ret_multi = multi;
	return order;
}

struct win_key {
	uintptr_t window;
	int node;
	size_t index;
};

static int cmp_win(const void *a, const void *b)
{
	const struct win_key *x = a, *y = b;

	if (x->window != y->window)
		return x->window < y->window ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->index < y->index ? -1 : (x->index > y->index);
}

/*
 * A huge folio cannot straddle nodes. Where pages of one pmd window are asked onto different
 * nodes, mark them; when the window is known to be one huge folio, send it to the target most
 * of its pages asked for (the first such on a tie) and settle the others as FOLIO_MIXED now,
 * instead of moving the folio back and forth.
 */
static int settle_mixed_windows(struct run *r, size_t count, bool may_probe)
{
	struct win_key *k = malloc(count * sizeof(*k));
	size_t a = 0;

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++)
		k[i] = (struct win_key){window_of(r, i), r->nodes[i], i};
	qsort(k, count, sizeof(*k), cmp_win);
	while (a < count) {
		size_t b = a, best_n = 0, n;
		int best = k[a].node;

		while (b < count && k[b].window == k[a].window)
			b++;
		if (k[a].node == k[b - 1].node) {
			a = b;
			continue;
		}
		for (size_t j = a; j < b; j += n) {
			for (n = 1; j + n < b && k[j + n].node == k[j].node; n++)
				;
			if (n > best_n) {
				best_n = n;
				best = k[j].node;
			}
		}
		bool huge =
			may_probe && r->sys->pmd_folio(r->sys->ctx, &r->probe, k[a].window) == 1;
		for (size_t j = a; j < b; j++) {
			r->st[k[j].index].mixed = true;
			if (huge && k[j].node != best)
				decide(r, k[j].index,
				       (struct pagemig_class){.outcome = PAGEMIG_OUT_FOLIO_MIXED,
							      .step = PAGEMIG_STEP_VERIFY});
		}
		a = b;
	}
	free(k);
	return 0;
}

/* ---- one call ------------------------------------------------------------------------------ */

/* Smallest chunk the budget may ask for: below it the fixed cost of a call dominates. */
#define MIN_CHUNK 32
/* First chunk of an operation with a budget and no estimate yet: small enough to stay inside
 * any sensible budget on slow (emulated) machines, large enough to measure the cost per page. */
#define START_CHUNK 64
/* A chunk may grow at most this many times over the previous one: early estimates rest on few
 * calls, and a call that overshoots the budget cannot be taken back. */
#define MAX_GROWTH 4

/*
 * Pages for the next call. pages_per_call bounds the entries of a call (the loop in run_pass);
 * this bounds the pages, which is what a call's time grows with: without a budget nothing
 * does, so N entries standing for N huge folios go in one call. The first call of an operation
 * (no estimate yet) carries at most pages_per_call pages, even when they are whole folios.
 */
static size_t chunk_size(const struct run *r)
{
	if (r->opts.call_budget_us == UINT_MAX)
		return SIZE_MAX;
	/* a caller that chose pages_per_call gets it from the first call on; the budget only
	 * shrinks or grows later chunks */
	if (!r->ck->next && r->start_small)
		return START_CHUNK < r->opts.pages_per_call ? START_CHUNK : r->opts.pages_per_call;
	if (!r->ck->next)
		return r->opts.pages_per_call;
	return r->ck->next;
}

/*
 * Fit the next chunk into the per-call latency budget. A call costs a fixed part (lookup of
 * the mm, lru_cache_disable(), which drains per-CPU lists on every CPU) plus a part per page
 * (a huge folio's entry counts all its pages: the copy is what costs); sizing by the average
 * cost per page alone would shrink chunks without end where the fixed part is large, so both
 * parts are estimated with a least-squares fit that forgets old calls. Where the fixed part
 * alone takes half the budget or more, chunks are sized for half the budget on top of it: the
 * budget cannot be met, and tiny calls would only add more fixed cost.
 */
static void adapt_chunk(struct run *r, size_t pages, uint64_t ns)
{
	struct pagemig_chunker *c = r->ck;
	const double decay = 0.75;
	double n = (double)pages, t = (double)ns, budget, var, each, fixed, want, cap;

	if (r->opts.call_budget_us == UINT_MAX || !pages)
		return;
	c->w = c->w * decay + 1;
	c->n = c->n * decay + n;
	c->t = c->t * decay + t;
	c->nn = c->nn * decay + n * n;
	c->nt = c->nt * decay + n * t;
	c->last = pages;

	var = c->nn / c->w - (c->n / c->w) * (c->n / c->w);
	each = var > 1.0 ? (c->nt / c->w - c->n * c->t / (c->w * c->w)) / var : 0;
	if (each <= 0) {
		/* one chunk size so far (or noise): take it all as cost per page */
		each = c->t / c->n;
		fixed = 0;
	} else {
		fixed = c->t / c->w - each * c->n / c->w;
		if (fixed < 0)
			fixed = 0;
	}
	budget = (double)r->opts.call_budget_us * 1000;
	if (fixed > budget / 2)
		fixed = budget / 2;
	want = each > 0 ? (budget - fixed) / each : (double)r->opts.pages_per_call;
	cap = (double)pages * MAX_GROWTH;
	if (want > cap)
		want = cap;
	if (want < MIN_CHUNK)
		want = MIN_CHUNK;
	/* the most pages pages_per_call entries can stand for (all of them huge folios) */
	cap = (double)r->opts.pages_per_call * (double)(r->pmd_pages > 1 ? r->pmd_pages : 1);
	if (want > cap)
		want = cap;
	c->next = (size_t)want;
}

static void pace(struct run *r, size_t pages)
{
	uint64_t now, due;

	r->bytes_sent += pages * r->page_size;
	if (!r->opts.rate_bytes_per_s)
		return;
	due = r->t0 + r->bytes_sent * 1000000000u / r->opts.rate_bytes_per_s;
	now = r->sys->now_ns(r->sys->ctx);
	if (due > now)
		r->sys->sleep_us(r->sys->ctx, (unsigned int)((due - now) / 1000));
}

static int check_guard(struct run *r)
{
	return pagemig__guard_check(r->guard, &r->pid_reused);
}

/* Ask where n pages are (addresses in pages[]), into out[]. */
static long query(struct run *r, size_t n, void **pages, int *out)
{
	long ret;

	for (size_t j = 0; j < n; j++)
		out[j] = PAGEMIG_SENTINEL;
	ret = r->sys->move_pages(r->sys->ctx, r->guard->pid, n, pages, NULL, out, 0);
	r->rep->query_calls++;
	return ret;
}

static struct pagemig_class wrong_node(void)
{
	return (struct pagemig_class){PAGEMIG_OUT_WRONG_NODE, PAGEMIG_STEP_VERIFY, true, false};
}

/* Combine the kernel's move answer for one entry with where the page really is (q). */
static struct pagemig_class verified(struct run *r, int kstatus, int q, int target)
{
	struct pagemig_class cls;

	if (kstatus == PAGEMIG_SENTINEL) {
		r->rep->unwritten++;
		cls = pagemig_classify_unwritten();
		if (q == target)
			cls = pagemig_classify_status(target, target);
	} else {
		cls = pagemig_classify_status(kstatus, target);
		if (cls.success && q != target && q != PAGEMIG_SENTINEL) {
			r->rep->verify_mismatches++;
			cls = wrong_node();
		} else if (!cls.success && q == target) {
			/* later entries of a huge folio that moved with its first one: -EBUSY, or
			 * on kernels up to about 6.6 -EACCES for hugetlb tails; the page is there
			 */
			cls = (struct pagemig_class){PAGEMIG_OUT_MOVED_FOLIO, cls.step, false,
						     true};
		}
	}
	/* a page that vanished (unmapped, swapped) while being retried ends as what it is now */
	if (!cls.success && cls.transient && q < 0 && q != PAGEMIG_SENTINEL)
		cls = pagemig_classify_status(q, target);
	return cls;
}

/*
 * Pages of folio followers (entries not sent because their folio's first page was) take the
 * answer of that first page when the window is still one folio; otherwise ask for them. With
 * the default end-of-pass verification a follower of a lead that arrived is not looked at now:
 * it joins the pages checked at the end of the pass (from their frames, or by the query), which
 * finds it off target if the folio was split on the way; that saves re-reading the window's
 * pagemap and kpageflags after every call.
 */
static int settle_followers(struct run *r, const size_t *pending, size_t pos, size_t n,
			    struct pagemig_class lead)
{
	bool defer = !(r->opts.flags & (PAGEMIG_VERIFY_ALL | PAGEMIG_NO_VERIFY));
	uintptr_t window = window_of(r, pending[pos]);
	size_t done = 0;

	if (lead.success && defer) {
		for (size_t j = 1; j < n; j++) {
			size_t i = pending[pos + j];

			record(r, i, lead);
			if (!r->st[i].unchecked) {
				r->st[i].unchecked = true;
				r->unchecked[r->nunchecked++] = i;
			}
		}
		return 0;
	}
	if (!lead.success || r->sys->pmd_folio(r->sys->ctx, &r->probe, window) == 1) {
		for (size_t j = 1; j < n; j++)
			record(r, pending[pos + j], lead);
		return 0;
	}
	/* the folio was split meanwhile: ask page by page */
	while (done + 1 < n) {
		size_t m = n - 1 - done, chunk = r->opts.pages_per_call;
		long ret;

		if (m > chunk)
			m = chunk;
		for (size_t j = 0; j < m; j++)
			r->qpages[j] = r->pages[pending[pos + 1 + done + j]];
		ret = query(r, m, r->qpages, r->qstatus);
		if (ret < 0)
			return (int)ret;
		for (size_t j = 0; j < m; j++) {
			size_t i = pending[pos + 1 + done + j];
			int q = r->qstatus[j];

			record(r, i,
			       q == r->nodes[i] ? pagemig_classify_status(q, q) : wrong_node());
		}
		done += m;
	}
	return 0;
}

/* move_pages(2) for the chunk (k entries standing for pages pages); a call interrupted before
 * it did anything is made again. */
static long call_move(struct run *r, size_t k, size_t pages)
{
	const struct pagemig_sys *sys = r->sys;
	long ret;
	uint64_t t;

	for (int attempt = 0;; attempt++) {
		for (size_t j = 0; j < k; j++)
			r->cstatus[j] = PAGEMIG_SENTINEL;
		t = sys->now_ns(sys->ctx);
		ret = sys->move_pages(sys->ctx, r->guard->pid, k, r->cpages, r->cnodes, r->cstatus,
				      r->mp_flags);
		t = sys->now_ns(sys->ctx) - t;
		r->rep->calls++;
		r->rep->entries_sent += k;
		r->rep->kernel_ns += t;
		if (t > r->rep->max_call_ns)
			r->rep->max_call_ns = t;
		pagemig__report_call(r->rep, t);
		if ((ret != -EINTR && ret != -EAGAIN) || attempt >= 3)
			break;
	}
	/* the call may have moved or split folios the probe has answers about */
	pagemig__probe_forget(&r->probe);
	adapt_chunk(r, pages, t);
	return ret;
}

/* Ask where the chunk's pages are: with PAGEMIG_VERIFY_ALL all of them, otherwise only those the
 * kernel did not report on target (the others are asked about at the end of the pass, together,
 * unless PAGEMIG_NO_VERIFY). Unasked or unanswered entries hold the sentinel. */
static int verify_chunk(struct run *r, size_t k)
{
	bool all = r->opts.flags & PAGEMIG_VERIFY_ALL;
	size_t nq = 0;
	long ret;

	for (size_t j = 0; j < k; j++) {
		r->cquery[j] = PAGEMIG_SENTINEL;
		if (all || r->cstatus[j] != r->cnodes[j])
			r->qpages[nq++] = r->cpages[j];
	}
	if (!nq)
		return 0;
	ret = query(r, nq, r->qpages, r->qstatus);
	if (ret == -ESRCH)
		return -ESRCH;
	if (ret < 0)
		return 0; /* no verification possible: the kernel's answers stand */
	for (size_t j = 0, a = 0; j < k; j++)
		if (all || r->cstatus[j] != r->cnodes[j])
			r->cquery[j] = r->qstatus[a++];
	return 0;
}

/*
 * Send chunk entries 0..k-1. Returns 0, or -errno when the operation must stop (the process
 * is gone, the call was refused as a whole).
 */
static int send_chunk(struct run *r, const size_t *pending, size_t k, size_t pages)
{
	bool defer = !(r->opts.flags & (PAGEMIG_VERIFY_ALL | PAGEMIG_NO_VERIFY));
	int full_node = -1, err;
	long ret;

	err = check_guard(r);
	if (err)
		return err;
	ret = call_move(r, k, pages);
	/* an exited process that is not reaped yet has no mm: the kernel says -EINVAL */
	if (ret == -EINVAL && r->guard->pidfd >= 0) {
		/* an exiting process loses its mm before its pidfd turns readable: -EINVAL from
		 * the kernel may mean it is on its way out; give it 100 ms to say so */
		for (int i = 0; i < 20 && check_guard(r) == 0; i++)
			r->sys->sleep_us(r->sys->ctx, 5000);
	}
	if (ret == -ESRCH || (ret == -EINVAL && check_guard(r) == -ESRCH)) {
		check_guard(r);
		return -ESRCH;
	}
	if (ret < 0 && ret != -ENOMEM) {
		/* refused at some entry: what was written before it stands, the rest never ran */
		for (size_t j = 0; j < k && r->cstatus[j] != PAGEMIG_SENTINEL; j++)
			record(r, r->cidx[j], pagemig_classify_status(r->cstatus[j], r->cnodes[j]));
		return (int)ret;
	}
	if (ret > 0)
		r->rep->positive_returns++;
	if (ret == -ENOMEM) {
		/* the first unwritten entry belongs to the batch whose allocation failed */
		for (size_t j = 0; j < k && full_node < 0; j++)
			if (r->cstatus[j] == PAGEMIG_SENTINEL)
				full_node = r->cnodes[j];
		mark_full(r, full_node);
	}
	err = verify_chunk(r, k);
	if (err) {
		check_guard(r);
		return err;
	}

	for (size_t j = 0; j < k; j++) {
		size_t i = r->cidx[j];
		struct pagemig_class cls;

		if (ret == -ENOMEM && r->cstatus[j] == PAGEMIG_SENTINEL &&
		    r->cquery[j] != r->cnodes[j]) {
			/* never reached after the failed batch: try again in the next round */
			if (r->cnodes[j] != full_node)
				continue;
			cls = pagemig_classify_call_error(ENOMEM);
		} else {
			cls = verified(r, r->cstatus[j], r->cquery[j], r->cnodes[j]);
		}
		record(r, i, cls);
		if (defer && cls.success && r->cquery[j] == PAGEMIG_SENTINEL) {
			r->st[i].unchecked = true;
			r->unchecked[r->nunchecked++] = i;
		}
		if (r->crun[j] > 1) {
			err = settle_followers(r, pending, r->cpos[j], r->crun[j], cls);
			if (err)
				return err;
		}
	}
	pace(r, pages);
	return 0;
}

/* ---- passes -------------------------------------------------------------------------------- */

/* Length of the run of pending entries starting at pos that covers one whole pmd window with
 * one target, in address order; 1 when there is none. */
static size_t folio_run(const struct run *r, const size_t *pending, size_t pos, size_t n)
{
	size_t i = pending[pos], len;
	uintptr_t base = page_of(r, i);

	if (r->pmd_pages < 2 || base != window_of(r, i) || n - pos < r->pmd_pages)
		return 1;
	for (len = 1; len < r->pmd_pages; len++) {
		size_t x = pending[pos + len];

		if (page_of(r, x) != base + len * r->page_size || r->nodes[x] != r->nodes[i])
			return 1;
	}
	return len;
}

/* Frame numbers are read per run of consecutive pages: worth it when runs are long. */
#define FRAME_MIN_RUN 16

/*
 * Confirm from their frame numbers the pages vpages[0..m-1] whose targets are those of
 * idx[0..m-1], where that is possible and cheap (long runs of consecutive pages); those leave
 * the unchecked set. The others are moved to the front of vpages and idx for a query; returns
 * how many.
 */
static size_t confirm_by_frames(struct run *r, size_t *idx, size_t m)
{
	const struct pagemig_sys *sys = r->sys;
	size_t runs = 1, nq = 0;

	for (size_t j = 1; j < m; j++)
		if ((uintptr_t)r->vpages[j] / r->page_size !=
		    (uintptr_t)r->vpages[j - 1] / r->page_size + 1)
			runs++;
	if (!sys->frame_nodes || runs * FRAME_MIN_RUN > m ||
	    sys->frame_nodes(sys->ctx, &r->probe, m, r->vpages, r->vstatus) < 0)
		return m;
	for (size_t j = 0; j < m; j++) {
		if (r->vstatus[j] == r->nodes[idx[j]]) {
			r->st[idx[j]].unchecked = false;
			r->rep->frames_verified++;
			continue;
		}
		r->vpages[nq] = r->vpages[j];
		idx[nq++] = idx[j];
	}
	return nq;
}

/*
 * Ask where the pages are that the move calls of this pass reported on target, in as few
 * queries as fit the buffer: the kernel wrote the target node for them only after migrate_pages()
 * returned 0 for their batch, so a disagreement now means another mover acted in between (or
 * the folio went elsewhere with a page of another target); those are retried as WRONG_NODE.
 * Pages whose frames are on their target are confirmed without a query; only a query can say
 * that a page is not on its target.
 */
static int check_pass(struct run *r)
{
	for (size_t done = 0; done < r->nunchecked;) {
		size_t m = r->nunchecked - done < r->vmax ? r->nunchecked - done : r->vmax;
		size_t *idx = r->unchecked + done;
		long ret = 0;

		for (size_t j = 0; j < m; j++)
			r->vpages[j] = r->pages[idx[j]];
		done += m;
		m = confirm_by_frames(r, idx, m);
		if (m)
			ret = query(r, m, r->vpages, r->vstatus);
		if (ret == -ESRCH) {
			check_guard(r);
			return -ESRCH;
		}
		for (size_t j = 0; j < m; j++) {
			size_t i = idx[j];
			int q = r->vstatus[j];

			r->st[i].unchecked = false;
			/* no verification possible: the kernel's answer stands */
			if (ret < 0 || q == r->nodes[i] || q == PAGEMIG_SENTINEL)
				continue;
			r->rep->verify_mismatches++;
			/* the query checks the move call's answer: in the first pass that answer was
			 * the page's first, and what the query found replaces it */
			if (!r->st[i].retries)
				r->st[i].answered = false;
			/* a page that vanished meanwhile ends as what it is now */
			record(r, i, q < 0 ? pagemig_classify_status(q, r->nodes[i]) : wrong_node());
		}
	}
	r->nunchecked = 0;
	return 0;
}

/* Send every pending entry once. */
static int run_pass(struct run *r, const size_t *pending, size_t n)
{
	bool dedup = !(r->opts.flags & PAGEMIG_NO_FOLIO_DEDUP);
	size_t pos = 0;

	while (pos < n) {
		size_t k = 0, pages = 0, max = chunk_size(r);
		int err;

		/* k counts entries, bounded by pages_per_call; max counts pages: an entry for a
		 * whole huge folio counts all its pages, and is sent (alone) even when it is larger
		 * than max */
		while (pos < n && pages < max && k < r->opts.pages_per_call) {
			size_t i = pending[pos], run = 1;

			if (node_full(r, r->nodes[i])) {
				record(r, i, pagemig_classify_call_error(ENOMEM));
				pos++;
				continue;
			}
			if (dedup && !r->st[i].mixed) {
				run = folio_run(r, pending, pos, n);
				if (run > 1 &&
				    r->sys->pmd_folio(r->sys->ctx, &r->probe, page_of(r, i)) != 1)
					run = 1;
			}
			if (k && pages + run > max)
				break;
			if (run > 1)
				r->rep->folios_deduped += run - 1;
			r->cpages[k] = r->pages[i];
			r->cnodes[k] = r->nodes[i];
			r->cidx[k] = i;
			r->crun[k] = run;
			r->cpos[k] = pos;
			k++;
			pages += run;
			pos += run;
		}
		if (!k)
			break;
		err = send_chunk(r, pending, k, pages);
		if (err)
			return err;
	}
	return check_pass(r);
}

/* Where PAGEMIG_PREQUERY asked for it: settle pages already on target, or not there at all. */
static int prequery(struct run *r, const size_t *order, size_t count)
{
	size_t max = r->opts.pages_per_call;

	for (size_t pos = 0; pos < count; pos += max) {
		size_t k = count - pos < max ? count - pos : max;
		long ret;

		for (size_t j = 0; j < k; j++)
			r->cpages[j] = r->pages[order[pos + j]];
		ret = query(r, k, r->cpages, r->cquery);
		if (ret < 0)
			return (int)ret;
		for (size_t j = 0; j < k; j++) {
			size_t i = order[pos + j];
			int q = r->cquery[j];

			if (q == r->nodes[i])
				decide(r, i,
				       (struct pagemig_class){PAGEMIG_OUT_ALREADY,
							      PAGEMIG_STEP_NONE, false, true});
			else if (q < 0 && q != PAGEMIG_SENTINEL)
				decide(r, i, pagemig_classify_status(q, r->nodes[i]));
		}
	}
	return 0;
}

static struct pagemig_class folio_mixed(void)
{
	return (struct pagemig_class){PAGEMIG_OUT_FOLIO_MIXED, PAGEMIG_STEP_VERIFY, false, false};
}

/* Keep the entries of list whose last answer is worth another try; returns how many. */
static size_t to_retry(struct run *r, size_t *list, size_t n)
{
	size_t m = 0;

	for (size_t p = 0; p < n; p++) {
		struct page_state *s = &r->st[list[p]];

		/* its folio went where another page of it asked: sending it again would only move
		 * the folio back and forth */
		if (s->mixed && s->answered && s->last.outcome == PAGEMIG_OUT_WRONG_NODE) {
			s->last = folio_mixed();
			s->final = true;
			continue;
		}

		/* never answered: not reached after another node's batch ran out of memory */
		if (!s->answered || (!s->final && !s->last.success && s->last.transient))
			list[m++] = list[p];
	}
	return m;
}

/*
 * Pages of mixed-target windows that were on target when answered may have been carried off by
 * a later move of their folio: ask once more where they are.
 */
static int recheck_mixed(struct run *r, size_t count)
{
	size_t n = 0, max = r->opts.pages_per_call, idx[64];

	for (size_t i = 0; i <= count; i++) {
		bool take =
			i < count && r->st[i].mixed && r->st[i].answered && r->st[i].last.success;
		long ret;

		if (take) {
			idx[n % 64] = i;
			r->qpages[n] = r->pages[i];
			n++;
		}
		if (n && (i == count || n == max || n == 64)) {
			ret = query(r, n, r->qpages, r->qstatus);
			if (ret < 0)
				return (int)ret;
			for (size_t j = 0; j < n; j++)
				if (r->qstatus[j] != r->nodes[idx[j]])
					r->st[idx[j]].last = folio_mixed();
			n = 0;
		}
	}
	return 0;
}

/* Most entries one end-of-pass verification query carries. */
#define VERIFY_QUERY_MAX 16384

static int alloc_buffers(struct run *r, size_t count)
{
	size_t n = r->opts.pages_per_call;

	r->st = calloc(count, sizeof(*r->st));
	r->cpages = malloc(n * sizeof(*r->cpages));
	r->cnodes = malloc(n * sizeof(*r->cnodes));
	r->cstatus = malloc(n * sizeof(*r->cstatus));
	r->cquery = malloc(n * sizeof(*r->cquery));
	r->qpages = malloc(n * sizeof(*r->qpages));
	r->qstatus = malloc(n * sizeof(*r->qstatus));
	r->cidx = malloc(n * sizeof(*r->cidx));
	r->crun = malloc(n * sizeof(*r->crun));
	r->cpos = malloc(n * sizeof(*r->cpos));
	r->unchecked = malloc(count * sizeof(*r->unchecked));
	/* end-of-pass queries: large, their cost is per page, not per call */
	r->vmax = count < VERIFY_QUERY_MAX ? count : VERIFY_QUERY_MAX;
	r->vpages = malloc(r->vmax * sizeof(*r->vpages));
	r->vstatus = malloc(r->vmax * sizeof(*r->vstatus));
	if (!r->st || !r->cpages || !r->cnodes || !r->cstatus || !r->cquery || !r->qpages ||
	    !r->qstatus || !r->cidx || !r->crun || !r->cpos || !r->unchecked || !r->vpages ||
	    !r->vstatus)
		return -ENOMEM;
	return 0;
}

static void free_buffers(struct run *r)
{
	free(r->st);
	free(r->cpages);
	free(r->cnodes);
	free(r->cstatus);
	free(r->cquery);
	free(r->qpages);
	free(r->qstatus);
	free(r->cidx);
	free(r->crun);
	free(r->cpos);
	free(r->unchecked);
	free(r->vpages);
	free(r->vstatus);
	pagemig__probe_close(&r->probe);
}

/* Fill status[], details and the outcome counts; returns the pages off target. */
static long finish(struct run *r, size_t count, int status[], int call_err)
{
	struct pagemig_page_detail *details = r->opts.details;
	long off = 0;

	for (size_t i = 0; i < count; i++) {
		struct page_state *s = &r->st[i];
		struct pagemig_class fin =
			s->answered ? s->last : pagemig_classify_call_error(call_err ?: ECANCELED);

		if (!fin.success && s->mixed && fin.outcome == PAGEMIG_OUT_WRONG_NODE)
			fin = folio_mixed();
		status[i] = fin.success ? r->nodes[i] : pagemig__outcome_errno(fin.outcome);
		r->rep->by_outcome[fin.outcome]++;
		if (fin.success) {
			r->rep->pages_on_target++;
			if (fin.outcome != PAGEMIG_OUT_ALREADY)
				r->rep->pages_moved++;
		} else {
			off++;
		}
		if (details)
			details[i] = (struct pagemig_page_detail){
				.first = s->answered ? s->first : fin,
				.final = fin,
				.retries = s->retries,
			};
	}
	r->rep->bytes_moved = r->rep->pages_moved * r->page_size;
	return off;
}

long pagemig__move_guarded(const struct pagemig_pid_guard *guard, size_t count, void *const pages[],
			   const int nodes[], int status[], const struct pagemig_opts *opts,
			   struct pagemig_report *report, struct pagemig_chunker *chunker)
{
	struct pagemig_report local;
	struct run r = {0};
	size_t *order = NULL, npending;
	bool multi = false;
	long ret = 0;
	int err;

	pagemig_report_init(&local);
	r.rep = &local;
	r.sys = pagemig__sys();
	r.guard = guard;
	r.pages = pages;
	r.nodes = nodes;
	r.page_size = pagemig__page_size();
	r.pmd_pages = pagemig__pmd_size() / r.page_size;
	r.t0 = r.sys->now_ns(r.sys->ctx);
	r.ck = chunker ? chunker : &r.own_ck;
	r.start_small = !opts || opts->sz < offsetof(struct pagemig_opts, pages_per_call) +
						  sizeof(opts->pages_per_call) ||
			!opts->pages_per_call;
	pagemig__probe_init(&r.probe, guard->pid);
	local.pages = count;

	err = pagemig__opts_resolve(opts, &r.opts);
	if (err)
		goto out_report;
	if (count && (!pages || !nodes || !status)) {
		err = -EINVAL;
		goto out_report;
	}
	r.mp_flags = MPOL_MF_MOVE | ((r.opts.flags & PAGEMIG_MOVE_ALL) ? MPOL_MF_MOVE_ALL : 0);
	if (!count)
		goto out_report;

	for (size_t i = 0; i < count; i++)
		if (nodes[i] < 0 || nodes[i] > PAGEMIG_MAX_NODE) {
			err = -ENODEV;
			goto out_report;
		}
	err = alloc_buffers(&r, count);
	if (err)
		goto out_free;
	order = group_by_node(count, nodes, &multi);
	if (!order) {
		err = -ENOMEM;
		goto out_free;
	}
	if (multi) {
		err = settle_mixed_windows(&r, count, !(r.opts.flags & PAGEMIG_NO_FOLIO_DEDUP));
		if (err)
			goto out_free;
	}
	if (r.opts.flags & PAGEMIG_PREQUERY) {
		err = prequery(&r, order, count);
		if (err)
			goto out_free;
	}

	/* the pending list: everything not settled yet, grouped by node */
	npending = 0;
	for (size_t p = 0; p < count; p++)
		if (!r.st[order[p]].final)
			order[npending++] = order[p];

	for (unsigned int round = 0;; round++) {
		err = run_pass(&r, order, npending);
		if (err)
			break;
		npending = to_retry(&r, order, npending);
		if (!npending || round >= r.opts.max_retries)
			break;
		r.sys->sleep_us(r.sys->ctx, r.opts.backoff_us << (round < 10 ? round : 10));
		local.retry_rounds++;
		local.retries += npending;
		for (size_t p = 0; p < npending; p++)
			r.st[order[p]].retries++;
	}
	if (!err && multi)
		err = recheck_mixed(&r, count);

out_free:
	if (r.st)
		ret = finish(&r, count, status, err < 0 ? -err : 0);
	free(order);
	free_buffers(&r);
out_report:
	if (!r.st && err && status)
		for (size_t i = 0; i < count; i++)
			status[i] = -ECANCELED;
	local.pid_reused = r.pid_reused;
	local.call_error = err;
	local.elapsed_ns = r.sys->now_ns(r.sys->ctx) - r.t0;
	if (report)
		pagemig__report_add(report, &local);
	if (err)
		return err;
	return count ? ret : 0;
}

long pagemig_move(pid_t pid, size_t count, void *const pages[], const int nodes[], int status[],
		  const struct pagemig_opts *opts, struct pagemig_report *report)
{
	struct pagemig_pid_guard guard;
	unsigned int nthreads;
	long ret;
	int err;

	err = pagemig__guard_open(&guard, pid, opts);
	if (err) {
		if (report) {
			struct pagemig_report local;

			pagemig_report_init(&local);
			local.pages = count;
			local.call_error = err;
			local.pid_reused = guard.reused;
			pagemig__report_add(report, &local);
		}
		for (size_t i = 0; status && i < count; i++)
			status[i] = -ECANCELED;
		return err;
	}
	nthreads = pagemig__threads_of(opts);
	if (nthreads > 1 && count >= 2 * PAGEMIG_THREAD_MIN_PAGES) {
		const struct pagemig_sys *sys = pagemig__sys();
		uint64_t t0 = sys->now_ns(sys->ctx);
		struct pagemig_report local;

		if (nthreads > count / PAGEMIG_THREAD_MIN_PAGES)
			nthreads = (unsigned int)(count / PAGEMIG_THREAD_MIN_PAGES);
		pagemig_report_init(&local);
		ret = pagemig__move_split(&guard, count, pages, nodes, status, opts, nthreads, true,
					  &local, NULL);
		local.elapsed_ns = sys->now_ns(sys->ctx) - t0;
		if (report)
			pagemig__report_add(report, &local);
	} else {
		ret = pagemig__move_guarded(&guard, count, pages, nodes, status, opts, report,
					    NULL);
	}
	pagemig__guard_close(&guard);
	return ret;
}

int pagemig_query(pid_t pid, size_t count, void *const pages[], int status[])
{
	const struct pagemig_sys *sys = pagemig__sys();
	long ret;

	if (!count)
		return 0;
	if (!pages || !status)
		return -EINVAL;
	ret = sys->move_pages(sys->ctx, pid, count, (void **)pages, NULL, status, 0);
	return ret < 0 ? (int)ret : 0;
}
