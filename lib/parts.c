// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Moving one list of pages from several threads at once (pagemig_opts.threads): the list is cut
 * into parts of about equal size, never inside a huge-page window, and each part goes through
 * the engine in its own thread with its own calls, budget and retries. Used by pagemig_move()
 * and by range and process moves.
 *
 * Why threads help at all: a move_pages(2) call spends most of its time copying pages and in
 * fixed work (draining every CPU's LRU caches) that does not need the caller's CPU alone, so
 * two callers on two CPUs overlap both.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define MAX_THREADS 64

/* One thread's share. */
struct part {
	const struct pagemig_pid_guard *guard;
	size_t first, n;
	void *const *pages;
	const int *nodes;
	int *status;
	struct pagemig_opts opts;
	struct pagemig_report rep;
	struct pagemig_chunker ck;
	long ret;
};

static void *move_part(void *arg)
{
	struct part *p = arg;

	p->ret = pagemig__move_guarded(p->guard, p->n, p->pages + p->first, p->nodes + p->first,
				       p->status + p->first, &p->opts, &p->rep, &p->ck);
	return NULL;
}

unsigned int pagemig__threads_of(const struct pagemig_opts *opts)
{
	if (!opts || opts->sz < offsetof(struct pagemig_opts, threads) + sizeof(opts->threads))
		return 1;
	return opts->threads < 1 ? 1 : opts->threads > MAX_THREADS ? MAX_THREADS : opts->threads;
}

/* Whether entries j-1 and j lie in different huge-page windows. */
static bool window_edge(void *const pages[], size_t j, size_t pmd)
{
	return (uintptr_t)pages[j] / pmd != (uintptr_t)pages[j - 1] / pmd;
}

/*
 * Where the part that starts at first should end: about per entries on, at the window edge
 * nearest to that point within a quarter of a part, so that a huge folio is seldom sent by two
 * threads. Without an edge that near (4 KiB pages packed into one or two windows) the cut falls
 * inside a window: a folio sent by both threads is then moved by one of them and found on its
 * target, or busy and retried, by the other; correct either way, only some work repeated.
 */
static size_t part_end(void *const pages[], size_t count, size_t first, size_t per)
{
	size_t pmd = pagemig__pmd_size(), ideal = first + per, slack = per / 4;

	if (ideal >= count)
		return count;
	for (size_t d = 0; d <= slack; d++) {
		if (ideal - d > first + 1 && window_edge(pages, ideal - d, pmd))
			return ideal - d;
		if (ideal + d < count && window_edge(pages, ideal + d, pmd))
			return ideal + d;
	}
	return ideal;
}

static void part_init(struct part *p, const struct pagemig_pid_guard *guard, void *const pages[],
		      const int nodes[], int status[], const struct pagemig_opts *opts,
		      unsigned int nthreads, bool index_details)
{
	p->guard = guard;
	p->pages = pages;
	p->nodes = nodes;
	p->status = status;
	memcpy(&p->opts, opts, opts->sz < sizeof(p->opts) ? opts->sz : sizeof(p->opts));
	p->opts.sz = sizeof(p->opts);
	/* a part's details are the caller's entries from first on, when they are the caller's */
	p->opts.details = index_details && opts->details ? opts->details + p->first : NULL;
	p->opts.rate_bytes_per_s /= nthreads;
	if (opts->rate_bytes_per_s && !p->opts.rate_bytes_per_s)
		p->opts.rate_bytes_per_s = 1;
	pagemig_report_init(&p->rep);
}

long pagemig__move_split(const struct pagemig_pid_guard *guard, size_t count, void *const pages[],
			 const int nodes[], int status[], const struct pagemig_opts *opts,
			 unsigned int nthreads, bool index_details, struct pagemig_report *report,
			 struct pagemig_chunker *chunker)
{
	size_t per = (count + nthreads - 1) / (nthreads ? nthreads : 1), first = 0;
	struct part parts[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	bool started[MAX_THREADS] = {false};
	unsigned int np = 0;
	long off = 0;
	int err = 0;

	if (nthreads > MAX_THREADS)
		return -EINVAL;
	while (first < count && np < nthreads) {
		struct part *p = &parts[np];

		memset(p, 0, sizeof(*p));
		p->first = first;
		/* the last part takes whatever the cuts left over */
		p->n = (np + 1 == nthreads ? count : part_end(pages, count, first, per)) - first;
		part_init(p, guard, pages, nodes, status, opts, nthreads, index_details);
		if (chunker)
			p->ck = *chunker;
		first += p->n;
		np++;
	}
	for (unsigned int i = 1; i < np; i++)
		started[i] = pthread_create(&tid[i], NULL, move_part, &parts[i]) == 0;
	move_part(&parts[0]);
	for (unsigned int i = 1; i < np; i++) {
		if (started[i])
			pthread_join(tid[i], NULL);
		else
			move_part(&parts[i]); /* no thread to be had: in this one, after the others */
	}
	if (chunker && np)
		*chunker = parts[0].ck;
	for (unsigned int i = 0; i < np; i++) {
		/* the parts ran side by side: the operation's wall time is the caller's to measure */
		parts[i].rep.elapsed_ns = 0;
		if (report)
			pagemig__report_add(report, &parts[i].rep);
		if (parts[i].ret < 0 && !err)
			err = (int)parts[i].ret;
		else if (parts[i].ret > 0)
			off += parts[i].ret;
	}
	return err ? err : off;
}
