// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Coalescing small requests: a caller that decides about a few pages at a time queues them, and
 * the queue goes to the engine in one operation once it is large enough. What makes this pay is
 * that the fixed cost of a move_pages(2) call (mm lookup, lru_cache_disable() draining every
 * CPU's LRU lists) is paid once per chunk instead of once per request; the pidfd guard and the
 * chunk-size estimate are also kept from send to send instead of being built for every request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pagemig_batch {
	struct pagemig_pid_guard guard;
	struct pagemig_opts opts;     /* resolved; details always NULL */
	struct pagemig_chunker ck;    /* call cost estimate across sends */
	struct pagemig_report acc;    /* sends since the last pagemig_batch_flush() */
	void **pages;
	int *nodes;
	int *status;
	size_t n, cap;
	long off;  /* pages off target in acc */
	int error; /* a send failed as a whole: the batch is finished */
};

struct pagemig_batch *pagemig_batch_new(pid_t pid, const struct pagemig_opts *opts)
{
	struct pagemig_batch *b = calloc(1, sizeof(*b));
	int err;

	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	err = pagemig__opts_resolve(opts, &b->opts);
	if (!err)
		err = pagemig__guard_open(&b->guard, pid, opts);
	if (err) {
		free(b);
		errno = -err;
		return NULL;
	}
	b->opts.details = NULL;
	pagemig_report_init(&b->acc);
	return b;
}

/* Send the queue; its outcome goes into the batch's account. */
static int send_queue(struct pagemig_batch *b)
{
	long ret;

	if (!b->n)
		return 0;
	ret = pagemig__move_guarded(&b->guard, b->n, b->pages, b->nodes, b->status, &b->opts,
				    &b->acc, &b->ck);
	b->n = 0;
	if (ret < 0) {
		b->error = (int)ret;
		return (int)ret;
	}
	b->off += ret;
	return 0;
}

static int grow(struct pagemig_batch *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	void **p;
	int *nd, *st;

	while (cap < need)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	p = realloc(b->pages, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	b->pages = p;
	nd = realloc(b->nodes, cap * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	b->nodes = nd;
	st = realloc(b->status, cap * sizeof(*st));
	if (!st)
		return -ENOMEM;
	b->status = st;
	b->cap = cap;
	return 0;
}

int pagemig_batch_add(struct pagemig_batch *b, void *const pages[], size_t n, int node)
{
	int err;

	if (!b || (n && !pages))
		return -EINVAL;
	if (b->error)
		return b->error;
	if (node < 0 || node > PAGEMIG_MAX_NODE)
		return -ENODEV;
	err = grow(b, b->n + n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		b->pages[b->n + i] = pages[i];
		b->nodes[b->n + i] = node;
	}
	b->n += n;
	if (b->n >= b->opts.batch_pages)
		return send_queue(b);
	return 0;
}

size_t pagemig_batch_pending(const struct pagemig_batch *b)
{
	return b ? b->n : 0;
}

long pagemig_batch_flush(struct pagemig_batch *b, struct pagemig_report *report)
{
	long off;
	int err;

	if (!b)
		return -EINVAL;
	err = b->error ? b->error : send_queue(b);
	if (report)
		pagemig__report_add(report, &b->acc);
	off = b->off;
	pagemig_report_init(&b->acc);
	b->off = 0;
	return err ? err : off;
}

void pagemig_batch_free(struct pagemig_batch *b)
{
	if (!b)
		return;
	pagemig__guard_close(&b->guard);
	free(b->pages);
	free(b->nodes);
	free(b->status);
	free(b);
}
