// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The policy's memory between intervals.
 *
 * Per process, an array of page records sorted by address, the order the snapshot's entries come
 * in. The plan walks both together - one merge, sequential reads and writes - and writes the
 * process's new record set: every sampled page (its residence is what other-mover detection
 * compares with), plus pages no longer sampled whose last event still matters (a cooldown,
 * a freeze, another mover's move). A hash table keyed by page would cost one cache and TLB miss
 * per sampled page and interval instead, several times slower at millions of pages.
 *
 * Moves the executor reports between two plans are appended to the process's pending list (O(1))
 * and folded into its records by the next merge.
 *
 * Bounds: new records are created only while fewer than max_pages exist (the pages refused are
 * counted in evicted, and processed like pages never seen); pending moves up to max_pages more.
 * Forgetting a process frees its records at once.
 *
 * Processes: a small open-addressing table keyed by tgid, of pointers to records allocated one
 * by one, so pointers stay valid while the table grows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* ---- processes ----------------------------------------------------------------------------- */

static size_t proc_home(uint32_t tgid, size_t pcap)
{
	return (size_t)((tgid * 0x9e3779b97f4a7c15ull) >> 20) & (pcap - 1);
}

static int proc_grow(struct pagemig_policy_history *h)
{
	size_t pcap = h->pcap ? h->pcap * 2 : 256;
	struct hist_proc **tab = calloc(pcap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < h->pcap; i++) {
		size_t j;

		if (!h->procs[i])
			continue;
		for (j = proc_home(h->procs[i]->tgid, pcap); tab[j]; j = (j + 1) & (pcap - 1))
			;
		tab[j] = h->procs[i];
	}
	free(h->procs);
	h->procs = tab;
	h->pcap = pcap;
	return 0;
}

static size_t proc_find(const struct pagemig_policy_history *h, uint32_t tgid)
{
	if (!h->pcap)
		return SIZE_MAX;
	for (size_t i = proc_home(tgid, h->pcap); h->procs[i]; i = (i + 1) & (h->pcap - 1))
		if (h->procs[i]->tgid == tgid)
			return i;
	return SIZE_MAX;
}

struct hist_proc *policy_hist_proc(struct pagemig_policy_history *h, uint32_t tgid, bool create)
{
	size_t i = proc_find(h, tgid);
	struct hist_proc *p;

	if (i != SIZE_MAX)
		return h->procs[i];
	if (!create || !tgid)
		return NULL;
	if ((h->pcount + 1) * 2 > h->pcap && proc_grow(h))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	p->whole_from = p->whole_to = -1;
	p->home_mem = -2;
	for (i = proc_home(tgid, h->pcap); h->procs[i]; i = (i + 1) & (h->pcap - 1))
		;
	h->procs[i] = p;
	h->pcount++;
	return p;
}

/* Delete slot i and close the gap (Knuth's algorithm R for linear probing). */
static void proc_delete(struct pagemig_policy_history *h, size_t i)
{
	size_t mask = h->pcap - 1, j = i;

	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!h->procs[j])
			break;
		k = proc_home(h->procs[j]->tgid, h->pcap);
		/* j stays unless its home lies cyclically outside (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		h->procs[i] = h->procs[j];
		i = j;
	}
	h->procs[i] = NULL;
	h->pcount--;
}

static void proc_free(struct pagemig_policy_history *h, struct hist_proc *p)
{
	h->count -= p->n;
	h->n_pend -= p->n_pend;
	free(p->recs);
	free(p->pend);
	free(p);
}

/* ---- merge --------------------------------------------------------------------------------- */

static int cmp_pend(const void *a, const void *b)
{
	const struct hist_rec *x = a, *y = b;

	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int policy_hist_merge_begin(struct hist_merge *m, struct pagemig_policy_history *h,
			    struct hist_proc *p, size_t n_new)
{
	size_t need = p->n + p->n_pend + n_new;

	memset(m, 0, sizeof(*m));
	m->h = h;
	m->p = p;
	if (!p->n) {
		/* nothing to read from recs: write there directly and save a copy (a new
		 * process, and every process in the first plan) */
		if (need > p->cap) {
			struct hist_rec *r = realloc(p->recs, need * sizeof(*r));

			if (!r)
				return -ENOMEM;
			p->recs = r;
			p->cap = need;
		}
		m->dst = p->recs;
	} else if (need > h->cap_out) {
		size_t cap = h->cap_out ? h->cap_out : 1024;
		struct hist_rec *o;

		while (cap < need)
			cap *= 2;
		o = realloc(h->out, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		h->out = o;
		h->cap_out = cap;
	}
	if (p->n)
		m->dst = h->out;
	if (p->n_pend > 1)
		qsort(p->pend, p->n_pend, sizeof(*p->pend), cmp_pend);
	return 0;
}

int policy_hist_merge_end(struct hist_merge *m)
{
	struct pagemig_policy_history *h = m->h;
	struct hist_proc *p = m->p;

	/* unread records stay as they are */
	while (policy_hist_merge_peek(m) != UINT64_MAX) {
		struct hist_rec r;

		policy_hist_merge_take(m, &r);
		policy_hist_merge_put(m, &r, false);
	}
	/* grow to fit, shrink when mostly unused: a process's sample set can shrink a lot */
	if (m->o > p->cap || (p->cap > 1024 && m->o < p->cap / 4)) {
		size_t cap = m->o + m->o / 4 + 16;
		struct hist_rec *r;

		if (m->dst == p->recs) /* o never exceeds what begin made room for */
			cap = cap < p->cap ? cap : p->cap;
		r = realloc(p->recs, cap * sizeof(*r));
		if (!r) {
			if (m->o > p->cap)
				return -ENOMEM;
		} else {
			p->recs = r;
			p->cap = cap;
		}
	}
	if (m->o && m->dst == h->out)
		memcpy(p->recs, h->out, m->o * sizeof(*p->recs));
	h->count = h->count - p->n + m->o;
	h->n_pend -= p->n_pend;
	p->n = m->o;
	p->n_pend = 0;
	return 0;
}

/* ---- public -------------------------------------------------------------------------------- */

struct pagemig_policy_history *pagemig_policy_history_new(size_t max_pages)
{
	struct pagemig_policy_history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->max = max_pages ? max_pages : PAGEMIG_POLICY_DEF_HISTORY_PAGES;
	return h;
}

void pagemig_policy_history_free(struct pagemig_policy_history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->pcap; i++)
		if (h->procs[i])
			proc_free(h, h->procs[i]);
	free(h->procs);
	free(h->out);
	free(h);
}

static int8_t node8(int node)
{
	return node >= 0 && node < PAGEMIG_TOPO_MAX_NODES ? (int8_t)node : -1;
}

/* Append a reported event to p's pending list; false when the bound or memory refuse it. */
static bool pend_push(struct pagemig_policy_history *h, struct hist_proc *p,
		      const struct hist_rec *r)
{
	if (h->n_pend >= h->max) {
		h->evicted++;
		return false;
	}
	if (p->n_pend == p->cap_pend) {
		size_t cap = p->cap_pend ? p->cap_pend * 2 : 64;
		struct hist_rec *n = realloc(p->pend, cap * sizeof(*n));

		if (!n) {
			h->evicted++;
			return false;
		}
		p->pend = n;
		p->cap_pend = cap;
	}
	p->pend[p->n_pend] = *r;
	p->pend[p->n_pend].seq = (uint32_t)p->n_pend;
	p->n_pend++;
	h->n_pend++;
	return true;
}

void pagemig_policy_history_moved(struct pagemig_policy_history *h, pid_t tgid, uint64_t page,
				  int from, int to, uint64_t now_ms)
{
	struct hist_proc *p;

	if (!h || tgid <= 0)
		return;
	p = policy_hist_proc(h, (uint32_t)tgid, true);
	if (!p)
		return; /* out of memory: the move goes unremembered, as if evicted */
	if (page == PAGEMIG_PLAN_WHOLE_PROCESS) {
		p->whole_from = from >= 0 ? node8(from) : p->whole_to;
		p->whole_to = node8(to);
		p->whole_state = HIST_MOVED;
		p->whole_t = now_ms;
		return;
	}
	pend_push(h, p,
		  &(struct hist_rec){
			  .page = page,
			  .t_ms = now_ms,
			  .seen = node8(to),
			  .from = node8(from),
			  .to = node8(to),
			  .flags = HIST_MOVED,
		  });
}

void pagemig_policy_history_refused(struct pagemig_policy_history *h, pid_t tgid, uint64_t page,
				    int to, uint64_t now_ms)
{
	struct hist_proc *p;

	if (!h || tgid <= 0 || page == PAGEMIG_PLAN_WHOLE_PROCESS)
		return;
	p = policy_hist_proc(h, (uint32_t)tgid, true);
	if (!p)
		return; /* unremembered: it is planned again, and refused again */
	pend_push(h, p,
		  &(struct hist_rec){
			  .page = page,
			  .t_ms = now_ms,
			  .seen = -1,
			  .from = -1,
			  .to = node8(to),
			  .flags = HIST_REFUSED,
		  });
}

void pagemig_policy_history_forget(struct pagemig_policy_history *h, pid_t tgid)
{
	size_t i;

	if (!h || tgid <= 0)
		return;
	i = proc_find(h, (uint32_t)tgid);
	if (i == SIZE_MAX)
		return;
	proc_free(h, h->procs[i]);
	proc_delete(h, i);
}

bool pagemig_policy_history_fresh_local(const struct pagemig_policy_history *h, pid_t tgid,
					const struct pagemig_page_score *pages, size_t n)
{
	size_t i = h && tgid > 0 ? proc_find(h, (uint32_t)tgid) : SIZE_MAX, j = 0;
	const struct hist_proc *p;

	if (i == SIZE_MAX)
		return false;
	p = h->procs[i];
	if (p->n_pend)
		return false;
	for (i = 0; i < n; i++) {
		if (!pages[i].weight || pages[i].node == PAGEMIG_SAMPLER_NODE_UNKNOWN)
			continue;
		while (j < p->n && p->recs[j].page < pages[i].page)
			j++;
		if (j == p->n || p->recs[j].page != pages[i].page)
			return false;
		/* a page the kernel refused to move, or frozen after ping-pong, stays where it is
		 * whatever it is accessed from: one such page made every re-arm replan */
		if (p->recs[j].seen != (int)pages[i].node &&
		    (p->recs[j].flags & HIST_STATE) != HIST_REFUSED &&
		    (p->recs[j].flags & HIST_STATE) != HIST_FROZEN)
			return false;
	}
	return true;
}

void pagemig_policy_history_stats(const struct pagemig_policy_history *h,
				  struct pagemig_policy_history_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!h)
		return;
	ret->pages = h->count + h->n_pend;
	ret->max_pages = h->max;
	ret->procs = h->pcount;
	ret->inserted = h->inserted;
	ret->evicted = h->evicted;
	ret->bytes = sizeof(*h) + h->pcap * sizeof(*h->procs) + h->cap_out * sizeof(*h->out);
	for (size_t i = 0; i < h->pcap; i++)
		if (h->procs[i])
			ret->bytes +=
				sizeof(*h->procs[i]) + (h->procs[i]->cap + h->procs[i]->cap_pend) *
							       sizeof(struct hist_rec);
}
