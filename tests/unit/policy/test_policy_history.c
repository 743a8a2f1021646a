// SPDX-License-Identifier: LGPL-2.1-or-later
/* The policy history: exited processes, the bound and its eviction, direct updates, top-ups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

static struct pagemig_policy_history_stats stats(const struct fx *f)
{
	struct pagemig_policy_history_stats st;

	pagemig_policy_history_stats(f->h, &st);
	return st;
}

/* A process exits and a new one gets its tgid: nothing of the old one's history applies. */
static void test_forget(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(stats(&f).pages, 1);
	fx_execute(&f);
	assert_int_equal(stats(&f).procs, 1);
	assert_int_equal(stats(&f).pages, 2); /* the record and the move reported */

	/* same tgid, not forgotten: the page is cooling down */
	fx_tick(&f, 1000);
	fx_retouch(&f, p, fx_addr(1), 2, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_COOLDOWN], 1);
	assert_int_equal(stats(&f).pages, 1); /* folded in */

	/* it exits; a new process 100 has that address on node 0, accessed from 2 */
	pagemig_policy_history_forget(f.h, 100);
	assert_int_equal(stats(&f).procs, 0);
	fx_set_where(&f, p, fx_addr(1), 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.other_moved, 0); /* not the old one's page */
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].from, 0);
	assert_int_equal(f.plan.moves[0].to, 2);
	assert_int_equal(f.plan.procs[0].frozen, 0);
	assert_int_equal(stats(&f).procs, 1);

	/* forgetting what is unknown, or with no history, is fine */
	pagemig_policy_history_forget(f.h, 12345);
	pagemig_policy_history_forget(f.h, 0);
	pagemig_policy_history_forget(NULL, 100);
	fx_fini(&f);
}

/* Many processes come and go: the process table grows and shrinks, their records stay apart. */
static void test_many_processes_churn(void **state)
{
	struct pagemig_policy_history *h = pagemig_policy_history_new(0);
	struct pagemig_policy_history_stats st;

	assert_non_null(h);
	for (int round = 0; round < 3; round++) {
		for (pid_t t = 1; t <= 5000; t++)
			pagemig_policy_history_moved(h, t, fx_addr((uint64_t)t), 0, 1, 1000);
		pagemig_policy_history_stats(h, &st);
		assert_int_equal(st.procs, 5000);
		assert_int_equal(st.pages, 5000);
		for (pid_t t = 1; t <= 5000; t += 2)
			pagemig_policy_history_forget(h, t);
		pagemig_policy_history_stats(h, &st);
		assert_int_equal(st.procs, 2500);
		for (pid_t t = 2; t <= 5000; t += 2)
			pagemig_policy_history_forget(h, t);
		pagemig_policy_history_stats(h, &st);
		assert_int_equal(st.procs, 0);
	}
	assert_int_equal(st.max_pages, PAGEMIG_POLICY_DEF_HISTORY_PAGES);
	assert_int_equal(st.pages, 0);	     /* freed with their processes */
	assert_true(st.bytes < 1024 * 1024); /* the process table, which stays grown */
	pagemig_policy_history_moved(h, 0, fx_addr(1), 0, 1, 0); /* ignored */
	pagemig_policy_history_moved(NULL, 1, fx_addr(1), 0, 1, 0);
	pagemig_policy_history_free(h);
	pagemig_policy_history_free(NULL);
}

/* The history never holds more than max_pages. */
static void test_bound(void **state)
{
	struct fx f;
	struct pagemig_policy_history_stats st;
	size_t p;

	fx_init(&f, 2, 0);
	pagemig_policy_history_free(f.h);
	f.h = pagemig_policy_history_new(64);
	p = fx_proc(&f, 100, 0);
	for (int i = 0; i < 200; i++)
		fx_page(&f, p, fx_addr(i), 0, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	st = stats(&f);
	assert_int_equal(st.pages, 64);
	assert_int_equal(st.max_pages, 64);
	assert_int_equal(st.inserted, 64);
	assert_int_equal(st.evicted, 136);

	/* and keeps working when full: the pages it knows keep their records */
	for (int k = 0; k < 5; k++) {
		fx_tick(&f, 1000);
		assert_int_equal(fx_plan(&f), 0);
		assert_int_equal(stats(&f).pages, 64);
		assert_int_equal(stats(&f).inserted, 64);
	}
	/* moves reported beyond the bound are not kept either */
	for (int i = 0; i < 70; i++)
		pagemig_policy_history_moved(f.h, 100, fx_addr(i), 0, 1, f.now);
	assert_int_equal(stats(&f).pages, 128);
	assert_int_equal(stats(&f).evicted, 136 * 6 + 6);
	fx_fini(&f);
}

/* A page that leaves the snapshot keeps its record while its last move still guards it, then
 * the record goes: the history holds what is sampled and what is cooling down. */
static void test_records_follow_the_snapshot(void **state)
{
	struct fx f;
	size_t a, b;
	uint64_t next = 1000;

	fx_init(&f, 3, 0);
	f.cfg.cooldown_ms = 30000;
	a = fx_proc(&f, 100, 0);
	b = fx_proc(&f, 200, 0);
	for (int i = 0; i < 50; i++)
		fx_page(&f, a, fx_addr(i), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 50);
	fx_execute(&f);
	f.procs[a].n = 0; /* a's pages decay out of the snapshot */
	for (int k = 0; k < 10; k++) {
		/* process b: 20 new pages an interval, its old ones gone from the snapshot */
		f.procs[b].n = 0;
		for (int i = 0; i < 20; i++)
			fx_page(&f, b, fx_addr(next++), 0, 0.5, 0);
		fx_tick(&f, 1000);
		assert_int_equal(fx_plan(&f), 0);
		assert_int_equal(stats(&f).pages, 70); /* a's 50 moved, b's 20 sampled */
	}
	/* a's pages come back wanting node 2: still cooling down, all remembered */
	for (int i = 0; i < 50; i++)
		fx_page(&f, a, fx_addr(i), 2, 5, 1);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.other_moved, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_COOLDOWN], 50);

	/* gone again, past the cooldown: their records go */
	f.procs[a].n = 0;
	fx_tick(&f, 30000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(stats(&f).pages, 20);
	assert_int_equal(stats(&f).evicted, 0);
	fx_fini(&f);
}

/* moved() on a page the plan never saw records it: the cooldown applies when it shows up. */
static void test_moved_unknown_page(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	pagemig_policy_history_moved(f.h, 100, fx_addr(7), 0, 1, f.now);
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(7), 0, 5, 1);
	fx_tick(&f, 1000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.other_moved, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 1); /* 1 -> 0 is straight back */
	fx_fini(&f);
}

/*
 * A top-up (pagemig_policy_proc.partial) names only the pages first found hot since the plan
 * before: the records of the others stay, guards or not. Here a page seen from two nodes
 * (HIST_MULTI) keeps its record through the top-up, so a later plan that sees it from one node
 * only still leaves it as shared; and ten local pages keep theirs. The same plan made as a full
 * one forgets both (nothing guards them), and the shared page then moves.
 */
static void partial_plan_run(bool partial, size_t *records_after, bool *shared_moved)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0); /* no on-CPU time: no clear home */
	fx_page(&f, p, fx_addr(0), 0, 4, 0);
	fx_page(&f, p, fx_addr(0), 1, 5, 0);
	for (int i = 1; i <= 10; i++)
		fx_page(&f, p, fx_addr(i), 1, 5, 1);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_SHARED], 1);
	assert_int_equal(stats(&f).pages, 11);

	/* one new page accessed from node 1, on node 0 */
	f.procs[p].n = 0;
	fx_page(&f, p, fx_addr(20), 1, 1, 0);
	f.procs[p].p.partial = partial;
	fx_tick(&f, 1000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_true(fx_move(&f, 100, fx_addr(20)) != NULL);
	*records_after = stats(&f).pages;

	/* a full plan: the shared page now sampled from node 1 only */
	fx_execute(&f);
	f.procs[p].p.partial = false;
	f.procs[p].n = 0;
	fx_page(&f, p, fx_addr(0), 1, 5, 0);
	fx_tick(&f, 1000);
	assert_int_equal(fx_plan(&f), 0);
	*shared_moved = fx_move(&f, 100, fx_addr(0)) != NULL;
	fx_fini(&f);
}

static void test_partial_plan_keeps_records(void **state)
{
	size_t records;
	bool moved;

	partial_plan_run(true, &records, &moved);
	assert_int_equal(records, 12); /* the 11 kept, the new one added */
	assert_false(moved);
	partial_plan_run(false, &records, &moved);
	assert_int_equal(records, 1); /* the unguarded 11 forgotten */
	assert_true(moved);
}

/* A top-up with no page of a process asks for no whole-process move, which a full plan with
 * no page does. */
static void test_partial_plan_no_whole_process(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 1, 100);
	f.procs[p].p.rss_pages = 5000;
	f.in.whole_process = true;
	f.procs[p].p.partial = true;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	f.procs[p].p.partial = false;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	fx_fini(&f);
}

/* fresh_local: the last interval's accesses all to pages the last plan saw on the accessing
 * node, nothing reported moved since. */
static void test_fresh_local(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_runs(&f, p, 0, 100);
	for (int i = 0; i < 4; i++)
		fx_page(&f, p, fx_addr(i), 1, 5, 1);
	assert_false(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 4));
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	/* nothing fresh: nothing says otherwise */
	assert_true(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 4));
	fx_fresh(&f, p, 0);
	fx_fresh(&f, p, 3);
	assert_true(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 4));
	assert_false(pagemig_policy_history_fresh_local(f.h, 200, f.procs[p].pages, 4));
	/* a fresh access from node 0 to a page seen on node 1 */
	fx_page(&f, p, fx_addr(2), 0, 1, 1);
	fx_fresh(&f, p, 4);
	fx_tick(&f, 1000);
	assert_int_equal(fx_plan(&f), 0); /* sorts the entries */
	assert_false(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 5));
	/* ... a page the plan never saw */
	f.procs[p].n = 0;
	fx_page(&f, p, fx_addr(9), 1, 1, 1);
	fx_fresh(&f, p, 0);
	assert_false(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 1));
	/* ... unless the kernel refused to move that page: it stays whatever accesses it */
	assert_int_equal(fx_plan(&f), 0); /* page 9 seen on node 1 */
	pagemig_policy_history_refused(f.h, 100, fx_addr(9), 0, f.now);
	assert_false(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 1));
	assert_int_equal(fx_plan(&f), 0); /* the refusal folded in */
	fx_page(&f, p, fx_addr(9), 0, 1, 1);
	fx_fresh(&f, p, 1);
	assert_true(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 2));
	/* a move reported since the plan (pages 0-3 are forgotten by now: not sampled since) */
	f.procs[p].n = 0;
	fx_page(&f, p, fx_addr(9), 1, 5, 1);
	fx_fresh(&f, p, 0);
	assert_true(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 1));
	pagemig_policy_history_moved(f.h, 100, fx_addr(3), 0, 1, f.now);
	assert_false(pagemig_policy_history_fresh_local(f.h, 100, f.procs[p].pages, 1));
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_many_processes_churn),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_records_follow_the_snapshot),
		cmocka_unit_test(test_moved_unknown_page),
		cmocka_unit_test(test_partial_plan_keeps_records),
		cmocka_unit_test(test_partial_plan_no_whole_process),
		cmocka_unit_test(test_fresh_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
