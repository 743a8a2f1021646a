// SPDX-License-Identifier: LGPL-2.1-or-later
/* The guards every policy shares: cooldown, ping-pong, rate limit, watermarks, other movers,
 * and the determinism of the plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

/* A page moved is not moved again before the cooldown is over. */
static void test_cooldown(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	f.cfg.pingpong_intervals = 0; /* only the cooldown here */
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	fx_execute(&f);

	/* the accesses move to node 2 at once */
	fx_tick(&f, 1000);
	fx_retouch(&f, p, fx_addr(1), 2, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_COOLDOWN], 1);
	assert_int_equal(f.plan.procs[0].skipped, 1);
	assert_int_equal(f.plan.procs[0].deferred, 1); /* a later plan takes it */

	fx_tick(&f, 8999); /* 9.999 s after the move */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_COOLDOWN], 1);

	fx_tick(&f, 1); /* 10 s */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].from, 1);
	assert_int_equal(f.plan.moves[0].to, 2);
	fx_fini(&f);
}

/* A page the kernel refused (another process maps it) is not planned again for the freeze time,
 * while the process's other pages still are; the same page to another node is asked for. */
static void test_refused(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	f.cfg.freeze_ms = 20000; /* cooldown 10 s */
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 1, 5, 0); /* the shared page */
	fx_page(&f, p, fx_addr(2), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	/* the executor: page 2 moved, page 1 refused */
	pagemig_policy_history_moved(f.h, 100, fx_addr(2), 0, 1, f.now);
	fx_set_where(&f, p, fx_addr(2), 1);
	pagemig_policy_history_refused(f.h, 100, fx_addr(1), 1, f.now);

	fx_tick(&f, 1000);
	fx_page(&f, p, fx_addr(3), 1, 5, 0); /* a new page: still planned */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].page, fx_addr(3));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_REFUSED], 1);
	assert_int_equal(f.plan.procs[0].skipped, 1);
	assert_int_equal(f.plan.procs[0].deferred, 0); /* not waiting for a budget or a cooldown */
	assert_string_equal(pagemig_policy_skip_name(PAGEMIG_SKIP_REFUSED), "refused");
	fx_execute(&f);

	/* wanted on node 2 now: a different move, asked for */
	fx_tick(&f, 1000);
	fx_retouch(&f, p, fx_addr(1), 2, 50);
	assert_int_equal(fx_plan(&f), 0);
	assert_non_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 2);
	pagemig_policy_history_refused(f.h, 100, fx_addr(1), 2, f.now);

	fx_tick(&f, 19999); /* 19.999 s after the second refusal */
	assert_int_equal(fx_plan(&f), 0);
	assert_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_REFUSED], 1);

	fx_tick(&f, 1); /* the freeze (20 s) is over: asked again */
	assert_int_equal(fx_plan(&f), 0);
	assert_non_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_REFUSED], 0);
	fx_fini(&f);
}

/* A page alternately hot on two nodes is moved once, then frozen (and counted) for freeze_ms. */
static void test_pingpong(void **state)
{
	struct fx f;
	size_t p;
	int moves = 0, frozen_skips = 0;

	fx_init(&f, 2, 0);
	f.cfg.cooldown_ms = 1500;
	f.cfg.freeze_ms = 60000;
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	fx_page(&f, p, fx_addr(2), 1, 5, 0); /* a steady page alongside */
	for (int i = 0; i < 20; i++) {
		fx_retouch(&f, p, fx_addr(1), i % 2 ? 0 : 1, 5);
		assert_int_equal(fx_plan(&f), 0);
		for (size_t m = 0; m < f.plan.n_moves; m++)
			moves += f.plan.moves[m].page == fx_addr(1);
		frozen_skips += (int)f.plan.skipped[PAGEMIG_SKIP_PINGPONG];
		fx_execute(&f);
		fx_tick(&f, 1000);
	}
	assert_int_equal(moves, 1);
	assert_int_equal(frozen_skips, 10); /* every interval it wanted to go back */
	assert_int_equal(f.plan.procs[0].frozen, 1);
	assert_int_equal(fx_where(&f, p, fx_addr(2)), 1); /* the steady page moved once */

	/* after freeze_ms it may move again */
	fx_tick(&f, 60000);
	fx_retouch(&f, p, fx_addr(1), 0, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_non_null(fx_move(&f, 100, fx_addr(1)));
	fx_fini(&f);
}

/* Moving back after the ping-pong window because the process's threads moved (its home
 * changed) is a phase change, not ping-pong. */
static void test_phase_change_not_pingpong(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 1, 10);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	fx_execute(&f);
	fx_tick(&f, 20000);    /* window 4 s, cooldown 10 s */
	fx_runs(&f, p, 10, 0); /* its threads now run on node 0 */
	fx_retouch(&f, p, fx_addr(1), 0, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 0);
	fx_fini(&f);
}

/* A new phase soon after a move: the process's threads moved to node 0 2 s after its pages went
 * to node 1 (within the ping-pong window and the cooldown); under locality the pages follow
 * them at once, while a page wanted on a node that is not the new home still waits. */
static void test_phase_change_beats_cooldown(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 1, 10);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	fx_page(&f, p, fx_addr(2), 1, 5, 0);
	fx_page(&f, p, fx_addr(3), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 3);
	fx_execute(&f);
	fx_tick(&f, 2000);     /* window 4 s, cooldown 10 s */
	fx_runs(&f, p, 10, 0); /* its threads now run on node 0 */
	fx_retouch(&f, p, fx_addr(1), 0, 5);
	fx_retouch(&f, p, fx_addr(2), 0, 5);
	fx_retouch(&f, p, fx_addr(3), 2, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	assert_int_equal(f.plan.moves[0].to, 0);
	assert_int_equal(f.plan.moves[1].to, 0);
	assert_null(fx_move(&f, 100, fx_addr(3)));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_COOLDOWN], 1);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 0);
	fx_fini(&f);
}

/* The threads start moving 1 s after a page moved: the process runs most on node 0 but not yet
 * min_share of the time (no home). The page wanted back on node 0 waits (cooldown) instead of
 * freezing, and follows once node 0 is the home. */
static void test_phase_change_before_home(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 1, 10);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	fx_execute(&f);
	fx_tick(&f, 1000);
	fx_runs(&f, p, 6, 4);
	fx_retouch(&f, p, fx_addr(1), 0, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_COOLDOWN], 1);
	assert_int_equal(f.plan.procs[0].frozen, 0);
	fx_tick(&f, 1000);
	fx_runs(&f, p, 9, 1);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 0);
	fx_fini(&f);
}

/*
 * A page moved from node 0 to node 1, where the process ran; 3 s later (within the ping-pong
 * window of 4 s and the cooldown of 10 s) the threads run on node 0 with recent0 of the recent
 * on-CPU time against recent1 on node 1, while the decayed score still has node 1 on top (8
 * against 4), and the page is accessed from node 0 alone. Returns with that plan made.
 */
static void plan_after_threads_moved(struct fx *f, double recent0, double recent1)
{
	size_t p;

	fx_init(f, 2, 0);
	p = fx_proc(f, 100, 0);
	fx_runs(f, p, 0, 10);
	fx_page(f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(f), 0);
	assert_int_equal(f->plan.n_moves, 1);
	fx_execute(f);
	fx_tick(f, 3000);
	fx_runs_recent(f, p, 4, 8, recent0, recent1);
	fx_retouch(f, p, fx_addr(1), 0, 5);
	assert_int_equal(fx_plan(f), 0);
}

/*
 * Two intervals on node 0 (1/2 + 1/4 of the recent time; one busy CPU makes 2 s of it): a new
 * clear home, and the page follows it. Reading the decayed score alone, the page would freeze
 * as ping-pong (5 minutes) and stay behind the threads.
 */
static void test_phase_change_recent_home(void **state)
{
	struct fx f;

	plan_after_threads_moved(&f, 1.5e9, 0.5e9);
	assert_int_equal(f.plan.procs[0].home, 0);
	assert_true(f.plan.procs[0].home_share == 0.75);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 0);
	assert_int_equal(f.plan.procs[0].frozen, 0);
	fx_fini(&f);
}

/* One interval on node 0 only (half of the recent time): no clear home yet, and the decayed
 * score still says node 1. The page wanted back within the window freezes, as it did before
 * there was a recent time at all. */
static void test_phase_one_interval_not_home(void **state)
{
	struct fx f;

	plan_after_threads_moved(&f, 1e9, 1e9);
	assert_int_equal(f.plan.procs[0].home, 1);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 1);
	fx_fini(&f);
}

/* A mostly idle process that woke up on node 0 for a few milliseconds after a long sleep: all of
 * its recent time is there, but it adds up to less than a quarter of a CPU per interval, so the
 * decayed score decides: node 1, where it ran when it ran. */
static void test_idle_wakeup_not_home(void **state)
{
	double share;
	const struct pagemig_oncpu_score oncpu[2] = {
		{.tgid = 100, .node = 0, .score = 5e6, .recent = 5e6, .ns = 5000000},
		{.tgid = 100, .node = 1, .score = 4e8, .recent = 1e3},
	};

	assert_int_equal(pagemig_policy_home(oncpu, 2, 0, PAGEMIG_POLICY_RECENT_NS(1000), &share),
			 1);
	assert_true(share > 0.98);
	/* the same time, busy: node 0 */
	assert_int_equal(pagemig_policy_home(oncpu, 2, 0, 1e6, &share), 0);
}

/* A home that falls short of min_share for a while and comes back to the same node is no phase
 * change: a page wanted back after the cooldown, while the process has no clear home, still
 * freezes as ping-pong (threads on two nodes hover around the bound under load). */
static void test_home_flap_not_phase(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_runs(&f, p, 1, 9); /* home: node 1 */
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	fx_execute(&f);
	for (int i = 0; i < 4; i++) { /* no clear home, node 1 again, no clear home, ... */
		fx_tick(&f, 1000);
		fx_runs(&f, p, i % 2 ? 1 : 10, i % 2 ? 9 : 10);
		assert_int_equal(fx_plan(&f), 0);
		assert_int_equal(f.plan.n_moves, 0);
	}
	fx_tick(&f, 8000); /* 12 s: past the window (4 s) and the cooldown (10 s) */
	fx_retouch(&f, p, fx_addr(1), 0, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 1);
	assert_int_equal(f.plan.procs[0].frozen, 1);
	fx_fini(&f);
}

/* Wanted back after the window while the process runs where it ran (threads on both nodes: a
 * page the two sides take turns on): ping-pong all the same, frozen. */
static void test_shared_late_return_is_pingpong(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 0, 10);
	fx_oncpu(&f, p, 1, 10);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	fx_execute(&f);
	fx_tick(&f, 20000);
	fx_retouch(&f, p, fx_addr(1), 0, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 1);
	assert_int_equal(f.plan.procs[0].frozen, 1);
	fx_fini(&f);
}

/* The byte budget takes the hottest pages first; equal scores by target node, then address. */
static void test_rate_hottest_first(void **state)
{
	struct fx f;
	size_t p, q;

	fx_init(&f, 3, 0);
	f.cfg.rate_bytes_per_s = 4 * FX_PS; /* 4 pages a second */
	f.in.interval_ms = 1000;
	p = fx_proc(&f, 100, 0);
	q = fx_proc(&f, 50, 0);
	fx_page(&f, p, fx_addr(1), 1, 2, 0);
	fx_page(&f, p, fx_addr(2), 1, 9, 0);
	fx_page(&f, p, fx_addr(3), 2, 7, 0);
	fx_page(&f, p, fx_addr(4), 1, 7, 0);
	fx_page(&f, p, fx_addr(5), 1, 3, 0);
	fx_page(&f, q, fx_addr(9), 1, 7, 0);
	fx_page(&f, q, fx_addr(8), 1, 1.5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.budget_bytes, 4 * FX_PS);
	assert_int_equal(f.plan.n_moves, 4);
	assert_int_equal(f.plan.bytes, 4 * FX_PS);
	/* 9; then the three 7s: node 1 before node 2, and on node 1 tgid 50 before 100 */
	assert_int_equal(f.plan.moves[0].page, fx_addr(2));
	assert_int_equal(f.plan.moves[1].tgid, 50);
	assert_int_equal(f.plan.moves[1].page, fx_addr(9));
	assert_int_equal(f.plan.moves[2].page, fx_addr(4));
	assert_int_equal(f.plan.moves[3].page, fx_addr(3));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_RATE], 3);
	assert_int_equal(f.plan.candidates, 7);

	/* a longer interval, a larger budget */
	f.in.interval_ms = 1500;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 6);
	assert_int_equal(f.plan.moves[4].page, fx_addr(5));
	assert_int_equal(f.plan.moves[5].page, fx_addr(1));

	/* a budget for longer than the interval (until the next re-arm): larger still */
	f.in.interval_ms = 1000;
	f.in.budget_ms = 1750;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.budget_bytes, 7 * FX_PS);
	assert_int_equal(f.plan.n_moves, 7);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_RATE], 0);
	fx_fini(&f);
}

/* Never plan a node below its watermark: mem_free - planned >= pct x mem_total. */
static void test_watermark(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	f.cfg.watermark_pct[1] = 10;
	/* node 1: 16 GiB, watermark 1.6 GiB; free: the watermark plus 2.5 pages */
	fx_free(&f, 1, (uint64_t)(0.1 * (double)(16 * FX_GIB)) + 2 * FX_PS + FX_PS / 2);
	fx_free(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	for (int i = 1; i <= 5; i++)
		fx_page(&f, p, fx_addr(i), 1, i, 0); /* hotter with i */
	fx_page(&f, p, fx_addr(6), 2, 10, 0);	     /* node 2 has nothing free */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	assert_int_equal(f.plan.moves[0].page, fx_addr(5));
	assert_int_equal(f.plan.moves[1].page, fx_addr(4));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_WATERMARK], 4);
	assert_int_equal(f.plan.planned_to[1], 2 * FX_PS);
	fx_fini(&f);
}

/* A watermark refusal does not stop cooler pages bound elsewhere, even past the first selection
 * (the engine selects what the budget can take, and more only when needed). */
static void test_watermark_then_budget(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	f.cfg.rate_bytes_per_s = 10 * FX_PS;
	fx_free(&f, 1, 0);
	p = fx_proc(&f, 100, 0);
	for (int i = 0; i < 1000; i++) /* hot, all to the full node 1 */
		fx_page(&f, p, fx_addr(i), 1, 100 + i, 0);
	for (int i = 1000; i < 1020; i++) /* cooler, to node 2 */
		fx_page(&f, p, fx_addr(i), 2, 2 + (i - 1000), 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(f.plan.moves[i].to, 2);
		assert_int_equal(f.plan.moves[i].page, fx_addr(1019 - i));
	}
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_WATERMARK], 1000);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_RATE], 10);
	fx_fini(&f);
}

/* A page another mover moved is left alone for the cooldown and counted. */
static void test_other_mover(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 0, 5, 0); /* local: nothing to do */
	fx_page(&f, p, fx_addr(2), 0, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);

	/* someone moves page 1 to node 2 */
	fx_tick(&f, 1000);
	fx_set_where(&f, p, fx_addr(1), 2);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.other_moved, 1);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_OTHER_MOVER], 1);
	assert_int_equal(f.plan.procs[0].other_moved, 1);

	/* seen once: not counted as moved again */
	fx_tick(&f, 5000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.other_moved, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_OTHER_MOVER], 1);

	/* after the cooldown, without kernel balancing, it goes where its accesses are */
	fx_tick(&f, 5000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].from, 2);
	assert_int_equal(f.plan.moves[0].to, 0);
	assert_int_equal(f.plan.procs[0].other_moved, 1);
	fx_fini(&f);
}

/* With kernel NUMA balancing on, its moves are never undone (a third node is fine later). */
static void test_numa_balancing_never_undone(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	f.in.numa_balancing = true;
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 0, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	fx_tick(&f, 1000);
	fx_set_where(&f, p, fx_addr(1), 1); /* the kernel moved it 0 -> 1 */
	for (int i = 0; i < 10; i++) {
		fx_tick(&f, 100000);
		assert_int_equal(fx_plan(&f), 0);
		assert_int_equal(f.plan.n_moves, 0);
		assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_OTHER_MOVER], 1);
	}
	fx_retouch(&f, p, fx_addr(1), 2, 5);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 2);
	fx_fini(&f);
}

/* Our own moves are not mistaken for another mover's. */
static void test_own_moves_not_other(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	for (int i = 0; i < 50; i++)
		fx_page(&f, p, fx_addr(i), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 50);
	fx_execute(&f);
	fx_tick(&f, 1000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.other_moved, 0);
	assert_int_equal(f.plan.n_moves, 0);
	fx_fini(&f);
}

/* Build the same scene in f, processes in the given order. */
static void scene(struct fx *f, const int *order, int n)
{
	static const pid_t tgids[] = {300, 100, 200, 400};

	fx_init(f, 4, 2);
	f->cfg.rate_bytes_per_s = 40 * FX_PS;
	f->cfg.watermark_pct[2] = 5;
	fx_free(f, 2, (uint64_t)(0.05 * (double)(16 * FX_GIB)) + 7 * FX_PS);
	for (int k = 0; k < n; k++) {
		int i = order[k];
		size_t p = fx_proc(f, tgids[i], i % 3);

		fx_oncpu(f, p, (unsigned int)i, 10);
		for (int j = 0; j < 30; j++) {
			/* many equal scores, to exercise the tie-breaks */
			fx_page(f, p, fx_addr(j), (unsigned int)((i + j) % 4), 1 + j % 3,
				(i * 7 + j) % 6);
		}
	}
}

static void test_deterministic(void **state)
{
	static const int a[] = {0, 1, 2, 3}, b[] = {3, 1, 0, 2};
	struct fx f, g, k;

	scene(&f, a, 4);
	scene(&g, a, 4);
	scene(&k, b, 4);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(fx_plan(&g), 0);
	assert_int_equal(fx_plan(&k), 0);
	assert_true(f.plan.n_moves > 0);
	assert_int_equal(f.plan.n_moves, g.plan.n_moves);
	assert_memory_equal(f.plan.moves, g.plan.moves, f.plan.n_moves * sizeof(*f.plan.moves));
	assert_memory_equal(f.plan.skipped, g.plan.skipped, sizeof(f.plan.skipped));
	/* the order processes come in does not matter either */
	assert_int_equal(f.plan.n_moves, k.plan.n_moves);
	assert_memory_equal(f.plan.moves, k.plan.moves, f.plan.n_moves * sizeof(*f.plan.moves));
	assert_memory_equal(f.plan.skipped, k.plan.skipped, sizeof(f.plan.skipped));

	/* planning twice on the same history gives the same plan */
	assert_int_equal(fx_plan(&g), 0);
	assert_memory_equal(f.plan.moves, g.plan.moves, f.plan.n_moves * sizeof(*f.plan.moves));
	fx_fini(&f);
	fx_fini(&g);
	fx_fini(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cooldown),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pingpong),
		cmocka_unit_test(test_phase_change_not_pingpong),
		cmocka_unit_test(test_phase_change_beats_cooldown),
		cmocka_unit_test(test_phase_change_before_home),
		cmocka_unit_test(test_phase_change_recent_home),
		cmocka_unit_test(test_phase_one_interval_not_home),
		cmocka_unit_test(test_idle_wakeup_not_home),
		cmocka_unit_test(test_home_flap_not_phase),
		cmocka_unit_test(test_shared_late_return_is_pingpong),
		cmocka_unit_test(test_rate_hottest_first),
		cmocka_unit_test(test_watermark),
		cmocka_unit_test(test_watermark_then_budget),
		cmocka_unit_test(test_other_mover),
		cmocka_unit_test(test_numa_balancing_never_undone),
		cmocka_unit_test(test_own_moves_not_other),
		cmocka_unit_test(test_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
