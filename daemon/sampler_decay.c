// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Snapshot arithmetic: exponential decay of per-page and on-CPU scores. Pure functions (no
 * allocation, no system calls: scratch memory is the caller's) so that the unit tests can
 * check them number by number.
 *
 * A score is the sum over past intervals of the weight sampled in each, times factor^age, with
 * factor = 2^(-interval / half_life). Decaying by elapsed time rather than by drain count keeps
 * scores comparable when drains come late.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sampler_internal.h"

double pagemig_decay_factor(uint64_t interval_ns, uint64_t half_life_ns)
{
	if (!interval_ns)
		return 1.0;
	if (!half_life_ns)
		return 0.0;
	return exp2(-(double)interval_ns / (double)half_life_ns);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Order of page entries and samples: tgid, page, node, source. */
static int cmp_key(uint32_t tgid_a, uint64_t page_a, uint16_t node_a, uint8_t src_a,
		   uint32_t tgid_b, uint64_t page_b, uint16_t node_b, uint8_t src_b)
{
	int c;

	if ((c = cmp_u64(tgid_a, tgid_b)) || (c = cmp_u64(page_a, page_b)) ||
	    (c = cmp_u64(node_a, node_b)))
		return c;
	return cmp_u64(src_a, src_b);
}

static int cmp_sample(const void *a, const void *b)
{
	const struct pagemig_access_key *x = &((const struct pagemig_access_sample *)a)->key;
	const struct pagemig_access_key *y = &((const struct pagemig_access_sample *)b)->key;

	return cmp_key(x->tgid, x->page, x->node, x->source, y->tgid, y->page, y->node, y->source);
}

static int cmp_oncpu(const void *a, const void *b)
{
	const struct pagemig_oncpu_key *x = &((const struct pagemig_oncpu_sample *)a)->key;
	const struct pagemig_oncpu_key *y = &((const struct pagemig_oncpu_sample *)b)->key;
	int c = cmp_u64(x->tgid, y->tgid);

	return c ? c : cmp_u64(x->node, y->node);
}

static size_t index_size(size_t cap)
{
	size_t n = 1;

	while (n < 2 * cap)
		n <<= 1;
	return n;
}

size_t pagemig_access_table_footprint(size_t cap)
{
	return cap * sizeof(struct pagemig_access_sample) + index_size(cap) * sizeof(uint32_t);
}

int pagemig_access_table_init(struct pagemig_access_table *t, size_t cap)
{
	size_t idx = index_size(cap);

	memset(t, 0, sizeof(*t));
	if (!cap || cap > UINT32_MAX / 4)
		return -EINVAL;
	t->v = malloc(cap * sizeof(*t->v));
	t->index = malloc(idx * sizeof(*t->index));
	if (!t->v || !t->index) {
		pagemig_access_table_free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->mask = idx - 1;
	memset(t->index, 0xff, idx * sizeof(*t->index));
	return 0;
}

void pagemig_access_table_free(struct pagemig_access_table *t)
{
	free(t->v);
	free(t->index);
	memset(t, 0, sizeof(*t));
}

void pagemig_access_table_reset(struct pagemig_access_table *t)
{
	memset(t->index, 0xff, (t->mask + 1) * sizeof(*t->index));
	t->n = 0;
}

static size_t key_hash(uint64_t page, uint32_t tgid, uint16_t node, uint8_t source)
{
	uint64_t h = (page >> 12) * UINT64_C(0x9e3779b97f4a7c15);

	h ^= ((uint64_t)tgid << 24) ^ ((uint64_t)node << 8) ^ source;
	h ^= h >> 29;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 32;
	return (size_t)h;
}

bool pagemig_access_table_add(struct pagemig_access_table *t, const struct pagemig_access_record *r)
{
	size_t pos = key_hash(r->page, r->tgid, r->node, r->source) & t->mask;
	bool alloc = r->source == PAGEMIG_SAMPLE_FAULT && !r->present;
	uint32_t weight = alloc && !t->allocs_count ? 0 : r->weight;
	struct pagemig_access_sample *e;

	for (;;) {
		uint32_t i = t->index[pos];

		if (i == UINT32_MAX)
			break;
		e = &t->v[i];
		if (e->key.page == r->page && e->key.tgid == r->tgid && e->key.node == r->node &&
		    e->key.source == r->source) {
			e->val.weight += weight;
			e->val.events++;
			e->val.writes += r->write;
			e->val.allocs += alloc;
			return true;
		}
		pos = (pos + 1) & t->mask;
	}
	if (t->n == t->cap)
		return false;
	t->index[pos] = (uint32_t)t->n;
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	e->key.page = r->page;
	e->key.tgid = r->tgid;
	e->key.node = r->node;
	e->key.source = r->source;
	e->val.weight = weight;
	e->val.events = 1;
	e->val.writes = r->write;
	e->val.allocs = alloc;
	return true;
}

void pagemig_access_sort(struct pagemig_access_sample *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_sample);
}

void pagemig_oncpu_sort(struct pagemig_oncpu_sample *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_oncpu);
}

/* Whether tgid is in frozen (sorted); *k walks it in step with the entries (sorted by tgid). */
static bool is_frozen(const uint32_t *frozen, size_t nfrozen, size_t *k, uint32_t tgid)
{
	while (*k < nfrozen && frozen[*k] < tgid)
		(*k)++;
	return *k < nfrozen && frozen[*k] == tgid;
}

/*
 * The most drains an entry with score 0 (seen only by first touches) is kept without samples:
 * the largest idle with factor^idle >= min_score, as one access would be. Found once per
 * decay step by multiplication, not with pow() per entry: under emulation floating point is
 * dear, and the step runs over every entry every interval.
 */
static uint32_t idle_limit(double factor, double min_score)
{
	double x = 1.0;
	uint32_t k = 0;

	if (!(1.0 >= min_score))
		return UINT32_MAX; /* never kept: idle 0 fails too (see forget()) */
	if (factor >= 1.0)
		return UINT32_MAX - 1;
	while (k < UINT32_MAX - 1 && x * factor >= min_score) {
		x *= factor;
		k++;
	}
	return k;
}

static uint16_t sat_inc16(uint16_t v)
{
	return v < UINT16_MAX ? v + 1 : v;
}

/* Whether an entry without samples this interval is forgotten (see idle_limit()). An idle
 * count saturates at UINT16_MAX: a limit that high keeps score-0 entries for good. */
static bool forget(const struct pagemig_page_score *e, double min_score, uint32_t max_idle)
{
	if (e->events)
		return false;
	if (e->score > 0)
		return e->score < min_score;
	return max_idle == UINT32_MAX || e->idle > max_idle;
}

static void swap_d(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

/* The k-th highest (0 for the highest) of v[0..n), n > k; reorders v. Three-way partitions:
 * scores repeat a lot (every page of a set written once per re-arm has the same). */
static double kth_highest(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n; /* the answer's index, in score order, is in [lo, hi) */

	while (hi - lo > 1) {
		double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];
		/* the median of three */
		double p = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
		size_t gt = lo, i = lo, lt = hi; /* [lo, gt) > p, [gt, i) == p, [lt, hi) < p */

		while (i < lt) {
			if (v[i] > p)
				swap_d(&v[gt++], &v[i++]);
			else if (v[i] < p)
				swap_d(&v[i], &v[--lt]);
			else
				i++;
		}
		if (k < gt)
			hi = gt;
		else if (k < lt)
			return p;
		else
			lo = lt;
	}
	return v[lo];
}

/* Keep the cap highest scores of out[0..n) (ties: the earlier key), in key order, with
 * scratch for n doubles; returns cap. */
static size_t keep_highest(struct pagemig_page_score *out, size_t n, size_t cap, double *scratch)
{
	size_t above = 0, ties, w = 0;
	double t;

	for (size_t i = 0; i < n; i++)
		scratch[i] = out[i].score;
	t = kth_highest(scratch, n, cap - 1);
	for (size_t i = 0; i < n; i++)
		above += out[i].score > t;
	ties = cap - above; /* of the entries at t, the first ones in key order */
	for (size_t i = 0; i < n; i++) {
		if (out[i].score < t)
			continue;
		if (out[i].score == t) {
			if (!ties)
				continue;
			ties--;
		}
		out[w++] = out[i];
	}
	return w;
}

struct pagemig_decay_result pagemig_decay_pages(const struct pagemig_page_score *prev, size_t nprev,
						const struct pagemig_access_sample *fresh,
						size_t nfresh, double factor, const uint32_t *frozen,
						size_t nfrozen, double min_score, size_t cap,
						struct pagemig_page_score *out, double *scratch)
{
	struct pagemig_decay_result r = {0};
	size_t i = 0, j = 0, fk = 0;
	uint32_t max_idle = idle_limit(factor, min_score);

	while (i < nprev || j < nfresh) {
		struct pagemig_page_score e;
		bool hold;
		double f;
		int c;

		if (i == nprev)
			c = 1;
		else if (j == nfresh)
			c = -1;
		else
			c = cmp_key(prev[i].tgid, prev[i].page, prev[i].node, prev[i].source,
				    fresh[j].key.tgid, fresh[j].key.page, fresh[j].key.node,
				    fresh[j].key.source);

		hold = is_frozen(frozen, nfrozen, &fk, c < 0 ? prev[i].tgid : fresh[j].key.tgid);
		f = hold ? 1.0 : factor;
		if (c < 0 && hold) {
			/* Not sampled, and nobody looked: as it was (no floating point, which
			 * costs most under emulation; kept, as it was at the last step) */
			e = prev[i++];
			e.weight = 0;
			e.events = 0;
			e.first_access_age = sat_inc16(e.first_access_age);
			out[r.n++] = e;
			continue;
		}
		if (c < 0) {
			/* Not sampled this interval: decays. */
			e = prev[i++];
			if (e.score > 0)
				e.score *= f;
			e.weight = 0;
			e.events = 0;
			e.idle = sat_inc16(e.idle);
			e.first_access_age = sat_inc16(e.first_access_age);
		} else {
			const struct pagemig_access_key *k = &fresh[j].key;

			memset(&e, 0, sizeof(e));
			e.page = k->page;
			e.tgid = k->tgid;
			e.node = k->node;
			e.source = k->source;
			e.first_access_age = UINT16_MAX;
			if (c == 0) {
				e.seen = prev[i].seen;
				e.first_access_age = sat_inc16(prev[i].first_access_age);
				e.score = prev[i++].score * f;
			}
			/* A key can come twice when the kernel re-created an entry while it was
			 * being drained: one sample set, summed. */
			do {
				e.weight += fresh[j].val.weight;
				e.events += fresh[j].val.events;
				j++;
			} while (j < nfresh && !cmp_sample(&fresh[j - 1], &fresh[j]));
			e.score += (double)e.weight;
			if (e.weight && e.seen < UINT8_MAX && !e.seen++) {
				r.first_seen++;
				e.first_access_age = 0;
			}
		}
		/*
		 * Sampled this interval: kept. A page seen only by its first touch (score 0) is
		 * remembered as long as one access would have been: it is known, and cold, which
		 * is what tiering demotes first.
		 */
		if (forget(&e, min_score, max_idle)) {
			r.forgotten++;
			continue;
		}
		out[r.n++] = e;
	}

	if (r.n > cap) {
		r.dropped = r.n - cap;
		r.n = cap ? keep_highest(out, r.n, cap, scratch) : 0;
	}
	return r;
}

size_t pagemig_decay_oncpu(const struct pagemig_oncpu_score *prev, size_t nprev,
			   const struct pagemig_oncpu_sample *cur, size_t ncur, double factor,
			   struct pagemig_oncpu_score *out)
{
	size_t i = 0, n = 0;

	for (size_t j = 0; j < ncur; j++) {
		const struct pagemig_oncpu_sample *s = &cur[j];
		struct pagemig_oncpu_score e = {
			.tgid = s->key.tgid,
			.node = s->key.node,
			.total_ns = s->val.ns,
		};

		/* Entries of prev before this key belong to processes no longer managed. */
		while (i < nprev && (prev[i].tgid < s->key.tgid ||
				     (prev[i].tgid == s->key.tgid && prev[i].node < s->key.node)))
			i++;
		if (i < nprev && prev[i].tgid == s->key.tgid && prev[i].node == s->key.node) {
			/* Went backwards: the entry was deleted and re-created in between. */
			e.ns = s->val.ns >= prev[i].total_ns ? s->val.ns - prev[i].total_ns
							     : s->val.ns;
			e.score = prev[i].score * factor;
			e.recent = prev[i].recent / 2;
			i++;
		} else {
			e.ns = s->val.ns;
		}
		e.score += (double)e.ns;
		e.recent += (double)e.ns;
		out[n++] = e;
	}
	return n;
}
