// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sampler's snapshot arithmetic: the per-interval aggregate of access records, exponential
 * decay of page scores (merge, forgetting, the max_snapshot cap) and on-CPU deltas.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sampler_internal.h"

#define NS_PER_S 1000000000ull

static struct pagemig_access_record rec(uint32_t tgid, uint64_t page, uint16_t node, uint8_t source,
					uint32_t weight, uint8_t write)
{
	struct pagemig_access_record r = {
		.page = page,
		.tgid = tgid,
		.weight = weight,
		.node = node,
		.source = source,
		.write = write,
		.present = 1, /* an access (a fault on a mapped page); see test_table_allocs */
	};

	return r;
}

static struct pagemig_access_sample sample(uint32_t tgid, uint64_t page, uint16_t node,
					   uint64_t weight, uint32_t events)
{
	struct pagemig_access_sample s;

	memset(&s, 0, sizeof(s));
	s.key.tgid = tgid;
	s.key.page = page;
	s.key.node = node;
	s.val.weight = weight;
	s.val.events = events;
	return s;
}

/* pagemig_decay_pages() with scratch of its own (the daemon keeps one per sampler). */
#define DECAY_SCRATCH 4096
static struct pagemig_decay_result decay(const struct pagemig_page_score *prev, size_t nprev,
					 const struct pagemig_access_sample *fresh, size_t nfresh,
					 double factor, const uint32_t *frozen, size_t nfrozen,
					 double min_score, size_t cap, struct pagemig_page_score *out)
{
	static double scratch[DECAY_SCRATCH];

	assert_true(nprev + nfresh <= DECAY_SCRATCH);
	return pagemig_decay_pages(prev, nprev, fresh, nfresh, factor, frozen, nfrozen, min_score,
				   cap, out, scratch);
}

static void test_factor(void **state)
{
	assert_true(pagemig_decay_factor(0, 10 * NS_PER_S) == 1.0);
	assert_true(pagemig_decay_factor(5 * NS_PER_S, 0) == 0.0);
	assert_true(fabs(pagemig_decay_factor(10 * NS_PER_S, 10 * NS_PER_S) - 0.5) < 1e-12);
	assert_true(fabs(pagemig_decay_factor(20 * NS_PER_S, 10 * NS_PER_S) - 0.25) < 1e-12);
	/* Decay by elapsed time: two half intervals make one whole. */
	assert_true(fabs(pagemig_decay_factor(5 * NS_PER_S, 10 * NS_PER_S) *
				 pagemig_decay_factor(5 * NS_PER_S, 10 * NS_PER_S) -
			 0.5) < 1e-12);
}

static void test_table(void **state)
{
	struct pagemig_access_table t;
	struct pagemig_access_record r;

	assert_int_equal(pagemig_access_table_init(&t, 0), -EINVAL);
	assert_int_equal(pagemig_access_table_init(&t, 3), 0);
	assert_true(pagemig_access_table_footprint(3) >= 3 * sizeof(struct pagemig_access_sample));

	/* Same key adds up; node and source are part of the key. */
	r = rec(7, 0x1000, 1, PAGEMIG_SAMPLE_FAULT, 1, 1);
	assert_true(pagemig_access_table_add(&t, &r));
	r = rec(7, 0x1000, 1, PAGEMIG_SAMPLE_FAULT, 1, 0);
	assert_true(pagemig_access_table_add(&t, &r));
	r = rec(7, 0x1000, 0, PAGEMIG_SAMPLE_FAULT, 1, 0);
	assert_true(pagemig_access_table_add(&t, &r));
	r = rec(7, 0x1000, 1, PAGEMIG_SAMPLE_PMU, 10007, 0);
	assert_true(pagemig_access_table_add(&t, &r));
	assert_int_equal(t.n, 3);
	assert_int_equal(t.v[0].val.weight, 2);
	assert_int_equal(t.v[0].val.events, 2);
	assert_int_equal(t.v[0].val.writes, 1);
	assert_int_equal(t.v[2].val.weight, 10007);
	assert_int_equal(t.v[2].val.events, 1);

	/* Full: a new key is refused, known keys still add up. */
	r = rec(8, 0x2000, 0, PAGEMIG_SAMPLE_FAULT, 1, 0);
	assert_false(pagemig_access_table_add(&t, &r));
	r = rec(7, 0x1000, 0, PAGEMIG_SAMPLE_FAULT, 1, 0);
	assert_true(pagemig_access_table_add(&t, &r));
	assert_int_equal(t.v[1].val.events, 2);

	pagemig_access_table_reset(&t);
	assert_int_equal(t.n, 0);
	r = rec(8, 0x2000, 0, PAGEMIG_SAMPLE_FAULT, 1, 0);
	assert_true(pagemig_access_table_add(&t, &r));
	assert_int_equal(t.n, 1);
	pagemig_access_table_free(&t);
}

/*
 * A first-touch fault (no page mapped: an allocation) is counted as a sample but weighs
 * nothing, unless the table is told that such faults are accesses (NUMA balancing's hinting
 * faults); PMU samples have no present bit and always weigh. The decay keeps a page sampled
 * only by its first touch for that interval (score 0) and forgets it at the next drain.
 */
static void test_table_allocs(void **state)
{
	struct pagemig_access_table t;
	struct pagemig_access_record r;
	struct pagemig_page_score out[4], out2[4];
	struct pagemig_decay_result d;

	assert_int_equal(pagemig_access_table_init(&t, 4), 0);
	r = rec(7, 0x1000, 0, PAGEMIG_SAMPLE_FAULT, 1, 1);
	r.present = 0;
	assert_true(pagemig_access_table_add(&t, &r)); /* first touch */
	r.present = 1;
	assert_true(pagemig_access_table_add(&t, &r)); /* written again after re-arming */
	r = rec(7, 0x2000, 0, PAGEMIG_SAMPLE_FAULT, 1, 1);
	r.present = 0;
	assert_true(pagemig_access_table_add(&t, &r)); /* first touch alone */
	r = rec(7, 0x3000, 0, PAGEMIG_SAMPLE_PMU, 500, 0);
	assert_true(pagemig_access_table_add(&t, &r)); /* present 0: not a fault */
	assert_int_equal(t.n, 3);
	assert_int_equal(t.v[0].val.weight, 1);
	assert_int_equal(t.v[0].val.events, 2);
	assert_int_equal(t.v[0].val.allocs, 1);
	assert_int_equal(t.v[1].val.weight, 0);
	assert_int_equal(t.v[1].val.events, 1);
	assert_int_equal(t.v[1].val.allocs, 1);
	assert_int_equal(t.v[2].val.weight, 500);
	assert_int_equal(t.v[2].val.allocs, 0);

	/* the page seen only by its first touch: in the snapshot with score 0, and remembered
	 * as long as a score of 1 would be (0.5^4 >= 0.05 > 0.5^5), like the page next to it */
	pagemig_access_sort(t.v, t.n);
	d = decay(NULL, 0, t.v, t.n, 0.5, NULL, 0, 0.05, 4, out);
	assert_int_equal(d.n, 3);
	assert_int_equal(out[1].page, 0x2000);
	assert_true(out[1].score == 0.0);
	assert_int_equal(out[1].events, 1);
	assert_int_equal(out[1].weight, 0);
	assert_int_equal(out[1].seen, 0); /* no interval with accesses */
	assert_int_equal(out[0].seen, 1); /* first touch and a write: one */
	for (int drain = 1; drain <= 4; drain++) {
		d = decay(out, 3, NULL, 0, 0.5, NULL, 0, 0.05, 4, out2);
		assert_int_equal(d.n, 3);
		assert_int_equal(out2[1].page, 0x2000);
		assert_int_equal(out2[1].idle, drain);
		memcpy(out, out2, sizeof(out));
	}
	d = decay(out, 3, NULL, 0, 0.5, NULL, 0, 0.05, 4, out2);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.forgotten, 2);
	assert_int_equal(out2[0].page, 0x3000);

	/* while NUMA balancing runs, a fault without a mapped page counts (hinting faults) */
	pagemig_access_table_reset(&t);
	t.allocs_count = true;
	r = rec(7, 0x2000, 0, PAGEMIG_SAMPLE_FAULT, 1, 0);
	r.present = 0;
	assert_true(pagemig_access_table_add(&t, &r));
	assert_int_equal(t.v[0].val.weight, 1);
	assert_int_equal(t.v[0].val.allocs, 1);
	pagemig_access_table_free(&t);
}

/* Many keys colliding in a small index still come back one each. */
static void test_table_many(void **state)
{
	struct pagemig_access_table t;

	assert_int_equal(pagemig_access_table_init(&t, 1000), 0);
	for (int round = 0; round < 3; round++)
		for (uint64_t i = 0; i < 1000; i++) {
			struct pagemig_access_record r = rec(1 + i % 7, i << 12, i % 3, 0, 1, 0);

			assert_true(pagemig_access_table_add(&t, &r));
		}
	assert_int_equal(t.n, 1000);
	for (size_t i = 0; i < t.n; i++)
		assert_int_equal(t.v[i].val.events, 3);
	pagemig_access_sort(t.v, t.n);
	for (size_t i = 1; i < t.n; i++)
		assert_true(t.v[i - 1].key.tgid < t.v[i].key.tgid ||
			    (t.v[i - 1].key.tgid == t.v[i].key.tgid &&
			     t.v[i - 1].key.page < t.v[i].key.page));
	pagemig_access_table_free(&t);
}

static void test_decay_merge(void **state)
{
	struct pagemig_access_sample fresh[4];
	struct pagemig_page_score a[8], b[8];
	struct pagemig_decay_result r;

	/* Interval 1: three entries from nothing. */
	fresh[0] = sample(2, 0x3000, 0, 4, 4);
	fresh[1] = sample(1, 0x1000, 1, 2, 2);
	fresh[2] = sample(1, 0x1000, 0, 6, 6);
	pagemig_access_sort(fresh, 3);
	r = decay(NULL, 0, fresh, 3, 0.5, NULL, 0, 0.05, 8, a);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.first_seen, 3);
	assert_int_equal(r.forgotten, 0);
	assert_int_equal(r.dropped, 0);
	/* Sorted (tgid, page, node). */
	assert_int_equal(a[0].tgid, 1);
	assert_int_equal(a[0].node, 0);
	assert_true(a[0].score == 6.0);
	assert_int_equal(a[1].node, 1);
	assert_int_equal(a[2].tgid, 2);
	assert_int_equal(a[0].events, 6);
	assert_int_equal(a[0].idle, 0);
	assert_int_equal(a[0].seen, 1); /* six samples, one interval */

	/* Interval 2 with factor 0.5: (1,0x1000,0) sampled again, others decay; a new one. */
	fresh[0] = sample(1, 0x1000, 0, 2, 2);
	fresh[1] = sample(1, 0x2000, 0, 1, 1);
	pagemig_access_sort(fresh, 2);
	r = decay(a, 3, fresh, 2, 0.5, NULL, 0, 0.05, 8, b);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.first_seen, 1); /* 0x2000; not 0x1000, seen before */
	assert_true(b[0].score == 6.0 * 0.5 + 2); /* (1, 0x1000, 0) */
	assert_int_equal(b[0].weight, 2);
	assert_int_equal(b[0].idle, 0);
	assert_int_equal(b[0].seen, 2);
	assert_true(b[1].score == 1.0); /* (1, 0x1000, 1) decayed: 2 * 0.5 */
	assert_int_equal(b[1].weight, 0);
	assert_int_equal(b[1].events, 0);
	assert_int_equal(b[1].idle, 1);
	assert_int_equal(b[1].seen, 1); /* not sampled again: still one interval */
	assert_int_equal(b[0].first_access_age, 1); /* first accessed in interval 1 */
	assert_int_equal(b[1].first_access_age, 1);
	assert_int_equal(b[2].first_access_age, 0);
	assert_int_equal(b[2].page, 0x2000); /* new */
	assert_int_equal(b[2].seen, 1);
	assert_true(b[3].score == 2.0);	     /* (2, 0x3000, 0): 4 * 0.5 */
}

/* first_access_age counts the drains since the first sampled access (weight): a first touch is
 * none, and later accesses do not restart it. */
static void test_decay_first_access_age(void **state)
{
	struct pagemig_access_sample touch = sample(1, 0x1000, 0, 0, 1);
	struct pagemig_access_sample write = sample(1, 0x1000, 0, 1, 1);
	struct pagemig_page_score a[2], b[2];
	struct pagemig_decay_result r;

	/* first touched only: never accessed, and another touch does not change that */
	r = decay(NULL, 0, &touch, 1, 0.5, NULL, 0, 0.05, 2, a);
	assert_int_equal(r.n, 1);
	assert_int_equal(a[0].first_access_age, UINT16_MAX);
	r = decay(a, 1, &touch, 1, 0.5, NULL, 0, 0.05, 2, b);
	assert_int_equal(b[0].first_access_age, UINT16_MAX);
	/* written: 0; two drains without samples: 2; written again: 3; touched: 4 */
	r = decay(b, 1, &write, 1, 0.5, NULL, 0, 0.05, 2, a);
	assert_int_equal(r.first_seen, 1);
	assert_int_equal(a[0].first_access_age, 0);
	r = decay(a, 1, NULL, 0, 0.5, NULL, 0, 0.05, 2, b);
	r = decay(b, 1, NULL, 0, 0.5, NULL, 0, 0.05, 2, a);
	assert_int_equal(a[0].first_access_age, 2);
	r = decay(a, 1, &write, 1, 0.5, NULL, 0, 0.05, 2, b);
	assert_int_equal(r.first_seen, 0);
	assert_int_equal(b[0].first_access_age, 3);
	r = decay(b, 1, &touch, 1, 0.5, NULL, 0, 0.05, 2, a);
	assert_int_equal(r.n, 1);
	assert_int_equal(a[0].first_access_age, 4);
	assert_int_equal(a[0].idle, 0);
	memcpy(b, a, sizeof(b));
	/* it saturates */
	b[0].first_access_age = UINT16_MAX - 1;
	b[0].idle = UINT16_MAX;
	r = decay(b, 1, NULL, 0, 1.0, NULL, 0, 0.05, 2, a);
	r = decay(a, 1, NULL, 0, 1.0, NULL, 0, 0.05, 2, b);
	assert_int_equal(b[0].first_access_age, UINT16_MAX);
	assert_int_equal(b[0].idle, UINT16_MAX);
}

static void test_decay_forget(void **state)
{
	struct pagemig_page_score a[4], b[4];
	struct pagemig_access_sample one = sample(1, 0x1000, 0, 1, 1);
	struct pagemig_decay_result r;
	int intervals = 0;

	/* One sample at factor 0.5 is forgotten below 0.05 after 5 halvings (1/32 < 0.05). */
	r = decay(NULL, 0, &one, 1, 0.5, NULL, 0, 0.05, 4, a);
	assert_int_equal(r.n, 1);
	while (r.n) {
		r = decay(intervals % 2 ? b : a, 1, NULL, 0, 0.5, NULL, 0, 0.05, 4,
					intervals % 2 ? a : b);
		intervals++;
	}
	assert_int_equal(intervals, 5);
	assert_int_equal(r.forgotten, 1);

	/* Factor 0 (half life 0): nothing survives an interval without samples. */
	r = decay(NULL, 0, &one, 1, 0.0, NULL, 0, 0.05, 4, a);
	r = decay(a, 1, NULL, 0, 0.0, NULL, 0, 0.05, 4, b);
	assert_int_equal(r.n, 0);
}

/* The pages of a held process (frozen) keep their score and age; the others decay. */
static void test_decay_frozen(void **state)
{
	struct pagemig_access_sample fresh[4] = {
		sample(1, 0x1000, 0, 4, 4),
		sample(2, 0x2000, 0, 4, 4),
		sample(3, 0x3000, 0, 4, 4),
		sample(3, 0x4000, 1, 2, 2),
	};
	const uint32_t frozen[] = {2, 3};
	struct pagemig_page_score a[8], b[8];
	struct pagemig_decay_result r;

	r = decay(NULL, 0, fresh, 4, 0.5, NULL, 0, 0.05, 8, a);
	assert_int_equal(r.n, 4);
	/* tgid 2 and 3 held; tgid 3 has a sample all the same (a first touch, say): it adds */
	fresh[0] = sample(3, 0x4000, 1, 1, 1);
	r = decay(a, 4, fresh, 1, 0.5, frozen, 2, 0.05, 8, b);
	assert_int_equal(r.n, 4);
	assert_true(b[0].score == 2.0); /* tgid 1: decayed */
	assert_int_equal(b[0].idle, 1);
	assert_true(b[1].score == 4.0); /* tgid 2: kept */
	assert_int_equal(b[1].idle, 0);
	assert_int_equal(b[1].first_access_age, 1); /* a drain passed all the same */
	assert_int_equal(b[1].weight, 0); /* but nothing sampled this interval */
	assert_int_equal(b[1].seen, 1);
	assert_true(b[2].score == 4.0); /* tgid 3, 0x3000: kept */
	assert_true(b[3].score == 3.0); /* tgid 3, 0x4000: 2 kept + 1 new */
	assert_int_equal(b[3].seen, 2);

	/* held for ever: never forgotten; released: decays and goes */
	for (int i = 0; i < 20; i++)
		r = decay(i % 2 ? a : b, r.n, NULL, 0, 0.5, frozen + 1, 1, 0.05, 8,
					i % 2 ? b : a);
	assert_int_equal(r.n, 2); /* tgid 3's two pages (tgid 1 and 2 forgotten) */
	assert_int_equal(b[0].tgid, 3);
	assert_true(b[0].score == 4.0);
	assert_int_equal(b[0].idle, 0);
}

/* Duplicated keys in one interval are one entry, summed. */
static void test_decay_duplicates(void **state)
{
	struct pagemig_access_sample fresh[3] = {
		sample(1, 0x1000, 0, 1, 1),
		sample(1, 0x1000, 0, 3, 2),
		sample(1, 0x2000, 0, 1, 1),
	};
	struct pagemig_page_score out[3];
	struct pagemig_decay_result r;

	r = decay(NULL, 0, fresh, 3, 0.5, NULL, 0, 0.05, 3, out);
	assert_int_equal(r.n, 2);
	assert_true(out[0].score == 4.0);
	assert_int_equal(out[0].events, 3);
}

/* Beyond cap the lowest scores go; equal scores: the later key goes; key order is kept. */
static void test_decay_cap(void **state)
{
	struct pagemig_access_sample fresh[5] = {
		sample(1, 0x1000, 0, 5, 5), sample(1, 0x2000, 0, 1, 1), sample(1, 0x3000, 0, 9, 9),
		sample(1, 0x4000, 0, 1, 1), sample(1, 0x5000, 0, 7, 7),
	};
	struct pagemig_page_score out[5];
	struct pagemig_decay_result r;

	r = decay(NULL, 0, fresh, 5, 0.5, NULL, 0, 0.05, 4, out);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.dropped, 1);
	assert_int_equal(out[0].page, 0x1000);
	assert_int_equal(out[1].page, 0x2000); /* kept: equal to 0x4000, earlier key */
	assert_int_equal(out[2].page, 0x3000);
	assert_int_equal(out[3].page, 0x5000);

	r = decay(NULL, 0, fresh, 5, 0.5, NULL, 0, 0.05, 2, out);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.dropped, 3);
	assert_int_equal(out[0].page, 0x3000);
	assert_int_equal(out[1].page, 0x5000);
}

static int cmp_entry_key(const void *a, const void *b)
{
	const struct pagemig_page_score *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return (x->source > y->source) - (x->source < y->source);
}

/* Highest score first; equal scores in key order, so the later key is dropped first. */
static int cmp_entry_rank(const void *a, const void *b)
{
	const struct pagemig_page_score *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return cmp_entry_key(a, b);
}

/* The reference cut: sort all by score, keep the first cap, sort those back by key. */
static size_t sorted_cut(struct pagemig_page_score *v, size_t n, size_t cap)
{
	if (n <= cap)
		return n;
	qsort(v, n, sizeof(*v), cmp_entry_rank);
	qsort(v, cap, sizeof(*v), cmp_entry_key);
	return cap;
}

/*
 * The cut in linear time keeps what the two sorts keep (sorted_cut), entry for entry: random
 * snapshots whose scores repeat a lot (a few values, as after a re-arm), cut to caps from 1 to
 * all of them; and the small case above.
 */
#define RANKED_N 600
static void test_decay_cap_ranked(void **state)
{
	static struct pagemig_page_score prev[RANKED_N], a[2 * RANKED_N], b[2 * RANKED_N];
	static struct pagemig_access_sample fresh[RANKED_N];
	static double scratch[2 * RANKED_N];
	unsigned int seed = 12345;
	struct pagemig_decay_result ra, rb;

	for (int round = 0; round < 40; round++) {
		size_t np = 0, nf = 0, cap;
		/* rounds differ in how few distinct scores they have */
		unsigned int values = 1 + (unsigned int)round % 7;

		for (uint64_t page = 0; page < RANKED_N; page++) {
			seed = seed * 1103515245u + 12345u;
			if (seed >> 30 != 0) {
				memset(&prev[np], 0, sizeof(prev[np]));
				prev[np].tgid = 1;
				prev[np].page = page << 12;
				prev[np].score = (double)((seed >> 8) % values);
				prev[np].seen = 1;
				np++;
			}
			if (seed >> 29 & 1)
				fresh[nf++] = sample(1, page << 12, (seed >> 20) & 1, (seed >> 4) % values,
						     1);
		}
		pagemig_access_sort(fresh, nf);
		cap = 1 + (size_t)round * (np + nf) / 40;
		ra = decay(prev, np, fresh, nf, 0.5, NULL, 0, 0.05, SIZE_MAX, a);
		rb = pagemig_decay_pages(prev, np, fresh, nf, 0.5, NULL, 0, 0.05, cap, b, scratch);
		assert_int_equal(ra.dropped, 0);
		assert_int_equal(sorted_cut(a, ra.n, cap), rb.n);
		assert_int_equal(ra.n - rb.n, rb.dropped);
		assert_int_equal(ra.first_seen, rb.first_seen);
		assert_int_equal(ra.forgotten, rb.forgotten);
		assert_memory_equal(a, b, rb.n * sizeof(*a));
		assert_true(rb.n <= cap);
	}
	{
		struct pagemig_access_sample f5[5] = {
			sample(1, 0x1000, 0, 5, 5), sample(1, 0x2000, 0, 1, 1),
			sample(1, 0x3000, 0, 9, 9), sample(1, 0x4000, 0, 1, 1),
			sample(1, 0x5000, 0, 7, 7),
		};

		rb = pagemig_decay_pages(NULL, 0, f5, 5, 0.5, NULL, 0, 0.05, 4, b, scratch);
		assert_int_equal(rb.n, 4);
		assert_int_equal(rb.dropped, 1);
		assert_int_equal(b[1].page, 0x2000); /* kept: equal to 0x4000, earlier key */
		assert_int_equal(b[3].page, 0x5000);
	}
}

static struct pagemig_oncpu_sample oncpu(uint32_t tgid, uint32_t node, uint64_t ns)
{
	struct pagemig_oncpu_sample s = {.key = {.tgid = tgid, .node = node},
					 .val = {.ns = ns, .slices = 1}};

	return s;
}

static void test_oncpu(void **state)
{
	struct pagemig_oncpu_sample cur[3];
	struct pagemig_oncpu_score a[3], b[3], c[2];
	size_t n;

	cur[0] = oncpu(5, 1, 300);
	cur[1] = oncpu(5, 0, 100);
	cur[2] = oncpu(9, 0, 50);
	pagemig_oncpu_sort(cur, 3);
	n = pagemig_decay_oncpu(NULL, 0, cur, 3, 0.5, a);
	assert_int_equal(n, 3);
	assert_int_equal(a[0].node, 0);
	assert_int_equal(a[0].ns, 100);
	assert_true(a[0].score == 100.0);
	assert_int_equal(a[1].total_ns, 300);

	/* Cumulative readings: deltas. tgid 9 is gone (unmanaged); (5,0) went backwards
	 * (managed anew): its reading is the whole delta. */
	cur[0] = oncpu(5, 0, 40);
	cur[1] = oncpu(5, 1, 1300);
	n = pagemig_decay_oncpu(a, 3, cur, 2, 0.5, b);
	assert_int_equal(n, 2);
	assert_int_equal(b[0].ns, 40);
	assert_true(b[0].score == 100 * 0.5 + 40);
	assert_int_equal(b[1].ns, 1000);
	assert_true(b[1].score == 300 * 0.5 + 1000);
	assert_int_equal(b[1].total_ns, 1300);
	assert_true(b[1].recent == 300 / 2 + 1000);

	/* recent halves at every drain whatever the factor: where it runs now */
	cur[0] = oncpu(5, 0, 40);
	cur[1] = oncpu(5, 1, 2300);
	n = pagemig_decay_oncpu(b, 2, cur, 2, 0.9, c);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].ns, 0);
	assert_true(c[0].score == (100 * 0.5 + 40) * 0.9);
	assert_true(c[0].recent == (100 / 2 + 40) / 2);
	assert_true(c[1].score == (300 * 0.5 + 1000) * 0.9 + 1000);
	assert_true(c[1].recent == (300 / 2 + 1000) / 2 + 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factor),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_allocs),
		cmocka_unit_test(test_table_many),
		cmocka_unit_test(test_decay_merge),
		cmocka_unit_test(test_decay_first_access_age),
		cmocka_unit_test(test_decay_forget),
		cmocka_unit_test(test_decay_frozen),
		cmocka_unit_test(test_decay_duplicates),
		cmocka_unit_test(test_decay_cap),
		cmocka_unit_test(test_decay_cap_ranked),
		cmocka_unit_test(test_oncpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
