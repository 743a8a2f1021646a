// SPDX-License-Identifier: LGPL-2.1-or-later
/* 10 000 processes: the engine's decisions at scale checked against a plain reference (no
 * timing here; bench/policy measures that). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define NPROCS 10000
#define NPAGES 24 /* per process */

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next_rand(void)
{
	/* xorshift64*: reproducible across runs and libcs */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

struct ref {
	double score;
	int to;
	pid_t tgid;
	uint64_t page;
};

static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

/* 10 000 locality processes on 8 nodes, one accessing node a page, scores in steps of 1/8 so
 * that ties are many: the plan must be exactly the reference's top-k. */
static void build(struct fx *f, struct ref **out, size_t *n_out)
{
	struct ref *r = malloc(sizeof(*r) * NPROCS * NPAGES);
	size_t n = 0;

	assert_non_null(r);
	fx_init(f, 6, 2);
	pagemig_policy_history_free(f->h);
	f->h = pagemig_policy_history_new(NPROCS * NPAGES);
	for (int i = 0; i < NPROCS; i++) {
		/* tgids out of order, as a pid namespace hands them out */
		pid_t tgid = (pid_t)(1000 + (i * 7919) % NPROCS);
		size_t p = fx_proc(f, tgid, 0);

		for (int j = 0; j < NPAGES; j++) {
			int node = (int)(next_rand() % 6);
			int res = (int)(next_rand() % 8);
			double score = (double)(next_rand() % 40) / 8.0;
			uint64_t page = fx_addr((uint64_t)j * 3 + next_rand() % 3);

			if (j && page <= f->procs[p].pages[f->procs[p].n - 1].page)
				page = f->procs[p].pages[f->procs[p].n - 1].page + FX_PS;
			fx_page(f, p, page, (unsigned int)node, score, res);
			if (score >= 1.0 && node != res)
				r[n++] = (struct ref){score, node, tgid, page};
		}
	}
	qsort(r, n, sizeof(*r), cmp_ref);
	*out = r;
	*n_out = n;
}

static void check_prefix(const struct fx *f, const struct ref *r, size_t k)
{
	assert_int_equal(f->plan.n_moves, k);
	for (size_t i = 0; i < k; i++) {
		const struct pagemig_plan_move *m = &f->plan.moves[i];

		assert_int_equal(m->tgid, r[i].tgid);
		assert_int_equal(m->page, r[i].page);
		assert_int_equal(m->to, r[i].to);
		assert_true(m->score == r[i].score);
	}
}

static void test_scale_locality(void **state)
{
	struct fx f;
	struct ref *r;
	size_t n;

	build(&f, &r, &n);
	assert_true(n > 100000);

	/* no limit: every candidate, in priority order */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_procs, NPROCS);
	check_prefix(&f, r, n);
	for (size_t i = 0; i < NPROCS; i++)
		assert_int_equal(f.plan.procs[i].pages, NPAGES);

	/* budgets of several sizes: exactly the first k, the rest counted as rate skips */
	static const size_t ks[] = {1, 777, 20000, 100000};
	for (size_t t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
		f.cfg.rate_bytes_per_s = ks[t] * FX_PS;
		assert_int_equal(fx_plan(&f), 0);
		check_prefix(&f, r, ks[t]);
		assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_RATE], n - ks[t]);
		assert_int_equal(f.plan.bytes, ks[t] * FX_PS);
	}

	/* execute everything: the next plan has nothing left, and sees no other mover */
	f.cfg.rate_bytes_per_s = 0;
	assert_int_equal(fx_plan(&f), 0);
	fx_execute(&f);
	fx_tick(&f, 1000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.other_moved, 0);
	assert_int_equal(f.plan.candidates, 0);

	/* every process exits */
	for (size_t i = 0; i < NPROCS; i++)
		pagemig_policy_history_forget(f.h, f.procs[i].p.tgid);
	{
		struct pagemig_policy_history_stats st;

		pagemig_policy_history_stats(f.h, &st);
		assert_int_equal(st.procs, 0);
	}
	free(r);
	fx_fini(&f);
}

/* All policies mixed, with watermarks and a budget: the plan's invariants hold. */
static void test_scale_mixed_invariants(void **state)
{
	struct fx f;
	uint64_t per_node[PAGEMIG_TOPO_MAX_NODES] = {0}, bytes = 0;

	fx_init(&f, 6, 2);
	pagemig_policy_history_free(f.h);
	f.h = pagemig_policy_history_new(NPROCS * NPAGES);
	f.cfg.rate_bytes_per_s = 30000 * FX_PS;
	for (int n = 0; n < 8; n++)
		f.cfg.watermark_pct[n] = 10;
	fx_free(&f, 0, (uint64_t)(0.1 * (double)(16 * FX_GIB)) - 100 * FX_PS); /* pressure */
	fx_free(&f, 1, (uint64_t)(0.1 * (double)(16 * FX_GIB)) + 500 * FX_PS); /* nearly full */
	for (int i = 0; i < NPROCS; i++) {
		size_t p = fx_proc(&f, 1 + i, i % 4);

		f.procs[p].p.mems_allowed = i % 5 ? 0 : 0x3f;
		fx_oncpu(&f, p, (unsigned int)(i % 6), 100);
		for (int j = 0; j < NPAGES; j++) {
			fx_page(&f, p, fx_addr((uint64_t)j), (unsigned int)(next_rand() % 6),
				(double)(next_rand() % 40) / 8.0, (int)(next_rand() % 8));
			if (next_rand() % 4 == 0) /* a second accessing node */
				fx_page(&f, p, fx_addr((uint64_t)j),
					(unsigned int)(next_rand() % 6),
					(double)(next_rand() % 40) / 8.0, -2);
		}
	}
	/* the second entries above took the residence of the first (-2 only marks them) */
	assert_int_equal(fx_plan(&f), 0);
	assert_true(f.plan.n_moves > 0);
	assert_true(f.plan.bytes <= f.plan.budget_bytes);
	for (size_t i = 0; i < f.plan.n_moves; i++) {
		const struct pagemig_plan_move *m = &f.plan.moves[i];
		const struct pagemig_policy_proc *pr = NULL;

		assert_true(m->to != m->from);
		assert_true(m->to >= 0 && m->to < 8);
		assert_int_equal(m->npages, 1);
		pr = &f.procs[m->tgid - 1].p;
		assert_int_equal(m->rule, pr->rule);
		assert_true(m->rule != 3);
		if (pr->mems_allowed)
			assert_true(pr->mems_allowed & (1ull << m->to));
		if (m->reason == PAGEMIG_REASON_PIN)
			assert_true(m->to <= 1);
		if (m->reason == PAGEMIG_REASON_DEMOTE)
			assert_true(m->to >= 6 && m->from == 0);
		if (m->reason == PAGEMIG_REASON_PROMOTE)
			assert_true(m->from >= 6 && m->to < 6);
		per_node[m->to] += FX_PS;
		bytes += FX_PS;
	}
	assert_int_equal(bytes, f.plan.bytes);
	assert_true(per_node[0] == 0); /* below its watermark */
	assert_true(per_node[1] <= 500 * FX_PS);
	for (int n = 0; n < 8; n++)
		assert_int_equal(per_node[n], f.plan.planned_to[n]);
	/* demotions are served first and take what node 0 lacks, no more */
	assert_int_equal(f.plan.by_reason[PAGEMIG_REASON_DEMOTE], 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(f.plan.moves[i].reason, PAGEMIG_REASON_DEMOTE);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_locality),
		cmocka_unit_test(test_scale_mixed_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
