// SPDX-License-Identifier: LGPL-2.1-or-later
/* The locality policy, ignore, the plan's basics (empty input, bad input, names, summaries). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define UNK PAGEMIG_SAMPLER_NODE_UNKNOWN

static void test_names(void **state)
{
	assert_string_equal(pagemig_move_reason_name(PAGEMIG_REASON_LOCAL_PAGE), "local_page");
	assert_string_equal(pagemig_move_reason_name(PAGEMIG_REASON_PIN), "pin");
	assert_string_equal(pagemig_move_reason_name(PAGEMIG_REASON__COUNT), "?");
	assert_string_equal(pagemig_policy_skip_name(PAGEMIG_SKIP_OTHER_MOVER), "other_mover");
	assert_string_equal(pagemig_policy_skip_name((enum pagemig_policy_skip) - 1), "?");
	assert_string_equal(pagemig_policy_type_name(PAGEMIG_POLICY_TIERING), "tiering");
	assert_string_equal(pagemig_policy_type_name(PAGEMIG_POLICY__COUNT), "?");
	for (int i = 0; i < PAGEMIG_SKIP__COUNT; i++)
		assert_string_not_equal(pagemig_policy_skip_name(i), "?");
	for (int i = 0; i < PAGEMIG_REASON__COUNT; i++)
		assert_string_not_equal(pagemig_move_reason_name(i), "?");
}

static void test_empty(void **state)
{
	struct fx f;

	fx_init(&f, 2, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.n_procs, 0);
	assert_int_equal(f.plan.bytes, 0);

	/* a process with nothing sampled and no on-CPU data: summary only */
	fx_proc(&f, 100, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.n_procs, 1);
	assert_int_equal(f.plan.procs[0].tgid, 100);
	assert_int_equal(f.plan.procs[0].home, -1);
	assert_true(f.plan.procs[0].local_share < 0);
	fx_fini(&f);
}

static void test_bad_input(void **state)
{
	struct fx f;
	struct pagemig_plan plan = {0};
	size_t p;

	assert_int_equal(pagemig_policy_plan(NULL, &plan), -EINVAL);
	fx_init(&f, 2, 0);
	assert_int_equal(pagemig_policy_plan(&f.in, NULL), -EINVAL);
	assert_int_equal(pagemig_policy_plan(&f.in, &plan), -EINVAL); /* no topology yet */
	pagemig_plan_free(&plan);
	pagemig_plan_free(NULL);

	/* entries whose pages go backwards */
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(2), 1, 5, 0);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0); /* the fixture sorts */
	assert_int_equal(f.plan.n_moves, 2);
	{
		struct pagemig_page_score tmp = f.procs[p].pages[0];

		f.procs[p].pages[0] = f.procs[p].pages[1];
		f.procs[p].pages[1] = tmp;
	}
	f.in_procs[0].pages = f.procs[p].pages;
	assert_int_equal(pagemig_policy_plan(&f.in, &f.plan), -EINVAL);
	assert_int_equal(f.plan.n_moves, 0);
	fx_fini(&f);
}

/* A hot page goes to the node that accesses it; a cold one and a local one stay. */
static void test_hot_page_moves(void **state)
{
	struct fx f;
	const struct pagemig_plan_move *m;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 1, 8.0, 0);	/* hot, remote: moves */
	fx_page(&f, p, fx_addr(2), 1, 0.5, 0);	/* cold: stays */
	fx_page(&f, p, fx_addr(3), 0, 8.0, 0);	/* hot, local: stays */
	fx_page(&f, p, fx_addr(4), 1, 1.0, -1); /* hot, not resident: nothing to do */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	m = fx_move(&f, 100, fx_addr(1));
	assert_non_null(m);
	assert_int_equal(m->from, 0);
	assert_int_equal(m->to, 1);
	assert_int_equal(m->npages, 1);
	assert_int_equal(m->reason, PAGEMIG_REASON_LOCAL_PAGE);
	assert_int_equal(m->rule, 0);
	assert_true(m->score == 8.0);
	assert_int_equal(f.plan.bytes, FX_PS);
	assert_int_equal(f.plan.by_reason[PAGEMIG_REASON_LOCAL_PAGE], 1);
	assert_int_equal(f.plan.planned_to[1], FX_PS);
	assert_int_equal(f.plan.candidates, 1);
	for (int s = 0; s < PAGEMIG_SKIP__COUNT; s++)
		assert_int_equal(f.plan.skipped[s], 0);

	/* summary: 4 pages, 3 resident, hot 3, cold 1, local share (0 + 0 + 8) / 16.5 */
	assert_int_equal(f.plan.procs[0].pages, 4);
	assert_int_equal(f.plan.procs[0].resident, 3);
	assert_int_equal(f.plan.procs[0].hot, 3);
	assert_int_equal(f.plan.procs[0].cold, 0);
	assert_int_equal(f.plan.procs[0].planned, 1);
	assert_true(f.plan.procs[0].local_share > 8.0 / 16.5 - 1e-9 &&
		    f.plan.procs[0].local_share < 8.0 / 16.5 + 1e-9);
	fx_fini(&f);
}

/* Sources of one node add up; a node's share is over all the page's accesses. */
static void test_share_and_shared(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	p = fx_proc(&f, 100, 0);
	/* 3 + 3 from node 1 (two sources) vs 2 from node 2: 6/8 = 0.75 >= min_share */
	fx_page(&f, p, fx_addr(1), 1, 3, 0);
	fx_page(&f, p, fx_addr(1), 1, 3, 0);
	f.procs[p].pages[1].source = PAGEMIG_SAMPLE_PMU;
	fx_page(&f, p, fx_addr(1), 2, 2, 0);
	/* 5 vs 5: shared, stays, counted */
	fx_page(&f, p, fx_addr(2), 1, 5, 0);
	fx_page(&f, p, fx_addr(2), 2, 5, 0);
	/* 6 from node 1 and 3 from an unknown node: 6/9 < 0.75, shared */
	fx_page(&f, p, fx_addr(3), 1, 6, 0);
	fx_page(&f, p, fx_addr(3), UNK, 3, 0);
	/* shared but already on its top node: nothing to count */
	fx_page(&f, p, fx_addr(4), 0, 5, 0);
	fx_page(&f, p, fx_addr(4), 2, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_non_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_SHARED], 2);
	assert_int_equal(f.plan.procs[0].shared, 3);
	assert_int_equal(f.plan.procs[0].skipped, 2);
	fx_fini(&f);
}

/*
 * Short of min_share, a page still follows its process home when the home node has most of its
 * score and was the only node with accesses sampled in the last interval (the old node's score
 * is from an earlier phase and has not decayed yet; a first touch there is no access); not
 * without a home, not away from home, not while the other node is still sampled too, not
 * without a majority.
 */
static void test_follows_home(void **state)
{
	struct fx f;
	size_t p, q;

	fx_init(&f, 3, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 1, 90);
	fx_oncpu(&f, p, 0, 10);
	/* first touch on 0 (decayed), sampled on 1 now: 1 / 1.8 < 0.75 but follows home */
	fx_page(&f, p, fx_addr(1), 0, 0.8, 0);
	fx_page(&f, p, fx_addr(1), 1, 1.0, 0);
	fx_fresh(&f, p, 1);
	/* both nodes sampled in the last interval: shared */
	fx_page(&f, p, fx_addr(2), 0, 0.8, 0);
	fx_fresh(&f, p, 2);
	fx_page(&f, p, fx_addr(2), 1, 1.0, 0);
	fx_fresh(&f, p, 3);
	/* no majority for home: shared */
	fx_page(&f, p, fx_addr(3), 0, 0.8, 1);
	fx_page(&f, p, fx_addr(3), 1, 0.7, 1);
	fx_page(&f, p, fx_addr(3), 2, 0.5, 1);
	fx_fresh(&f, p, 5);
	/* away from home (top node 2, process on 1): shared, stays */
	fx_page(&f, p, fx_addr(4), 1, 0.8, 1);
	fx_page(&f, p, fx_addr(4), 2, 1.0, 1);
	fx_fresh(&f, p, 8);
	/* node 0 sampled in the last interval only by a first touch (weight 0: the page was
	 * freed and allocated again there), node 1 by an access: follows home */
	fx_page(&f, p, fx_addr(5), 0, 0.8, 0);
	f.procs[p].pages[9].events = 1;
	fx_page(&f, p, fx_addr(5), 1, 1.0, 0);
	fx_fresh(&f, p, 10);
	/* the same page as the first in a process without a home (on-CPU split): shared */
	q = fx_proc(&f, 200, 0);
	fx_oncpu(&f, q, 1, 50);
	fx_oncpu(&f, q, 0, 50);
	fx_page(&f, q, fx_addr(1), 0, 0.8, 0);
	fx_page(&f, q, fx_addr(1), 1, 1.0, 0);
	fx_fresh(&f, q, 1);

	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	assert_non_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->reason, PAGEMIG_REASON_LOCAL_PAGE);
	assert_non_null(fx_move(&f, 100, fx_addr(5)));
	assert_int_equal(fx_move(&f, 100, fx_addr(5))->to, 1);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_SHARED], 4);
	fx_fini(&f);
}

/*
 * A process whose threads run on two nodes (no clear home): a page once sampled from both
 * stays when its later samples name one node only (soft-dirty sees the first writer after
 * each re-arm, and the same side can keep winning); a page only ever seen from one node moves.
 * With a clear home the rule does not apply: the page moves.
 */
static void test_spread_once_shared_stays(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_runs(&f, p, 10, 10);
	fx_page(&f, p, fx_addr(1), 0, 1, 0); /* written from both nodes: 0.55 on node 1 */
	fx_page(&f, p, fx_addr(1), 1, 1.2, 0);
	fx_page(&f, p, fx_addr(2), 0, 1, 0); /* only ever from node 0, where it is */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_SHARED], 1);

	fx_tick(&f, 1000);
	fx_retouch(&f, p, fx_addr(1), 1, 2); /* node 0's score gone: looks local to node 1 */
	fx_retouch(&f, p, fx_addr(2), 1, 2); /* the same, never seen from two nodes */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_null(fx_move(&f, 100, fx_addr(1)));
	assert_non_null(fx_move(&f, 100, fx_addr(2)));
	assert_int_equal(fx_move(&f, 100, fx_addr(2))->to, 1);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_SHARED], 1);

	fx_tick(&f, 1000);
	fx_runs(&f, p, 0, 10); /* now a clear home on node 1 */
	assert_int_equal(fx_plan(&f), 0);
	assert_non_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	fx_fini(&f);
}

/*
 * A process without a clear home: a far page sampled in one interval only waits for a second
 * (unconfirmed, counted for the daemon's early re-arm); sampled in two, it moves. A page already
 * on its node is no candidate. With a clear home, or where the sampler sees a page once only
 * (seen_once), one interval does.
 */
static void test_spread_unconfirmed(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_runs(&f, p, 10, 10);
	fx_page(&f, p, fx_addr(1), 1, 2, 0); /* from node 1, on node 0 */
	fx_page(&f, p, fx_addr(2), 0, 2, 0); /* from node 0, on node 0 */
	fx_seen(&f, p, fx_addr(1), 1);
	fx_seen(&f, p, fx_addr(2), 1);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_UNCONFIRMED], 1);
	assert_int_equal(f.plan.procs[0].unconfirmed, 1);

	f.in.seen_once = true;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	f.in.seen_once = false;

	fx_seen(&f, p, fx_addr(1), 2);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_UNCONFIRMED], 0);

	fx_seen(&f, p, fx_addr(1), 1);
	fx_runs(&f, p, 0, 10); /* a clear home on node 1 */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	fx_fini(&f);
}

/* Equal scores on two nodes: the lower node id is the top (min_share 0.5 lets it move). */
static void test_tie_lower_node(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 4, 0);
	f.rules[0].min_share = 0.5;
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 3, 4, 0);
	fx_page(&f, p, fx_addr(1), 2, 4, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 2);
	fx_fini(&f);
}

/* Hot pages without a known accessing node go to the home node, if the process has one. */
static void test_home_node_pages(void **state)
{
	struct fx f;
	size_t p, q;

	fx_init(&f, 3, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 0, 10);
	fx_oncpu(&f, p, 2, 90);
	fx_page(&f, p, fx_addr(1), UNK, 5, 0);
	fx_page(&f, p, fx_addr(2), UNK, 5, 2);	 /* already home */
	fx_page(&f, p, fx_addr(3), UNK, 0.1, 0); /* cold */
	/* a process spread over two nodes has no home */
	q = fx_proc(&f, 200, 0);
	fx_oncpu(&f, q, 0, 50);
	fx_oncpu(&f, q, 1, 50);
	fx_page(&f, q, fx_addr(1), UNK, 5, 2);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].tgid, 100);
	assert_int_equal(f.plan.moves[0].to, 2);
	assert_int_equal(f.plan.moves[0].reason, PAGEMIG_REASON_HOME_NODE);
	assert_int_equal(f.plan.procs[0].home, 2);
	assert_true(f.plan.procs[0].home_share > 0.89 && f.plan.procs[0].home_share < 0.91);
	assert_int_equal(f.plan.procs[1].home, 0);    /* the lower of equals */
	assert_true(f.plan.procs[0].local_share < 0); /* no access with a node */
	fx_fini(&f);
}

/*
 * Right after the process moved to another node (pagemig_policy_proc.moved_to, the daemon's
 * departure watch): a page written since from there alone follows it, though its older scores
 * and the decayed on-CPU time still point to the node it left, and though pagemig moved it
 * there a moment ago (a new home, not ping-pong) - also when the interval has writes from the
 * node it left (the move came part-way through it). A page written from the old node only
 * stays.
 */
static void run_moved_to(bool moved, int fresh_from, const struct pagemig_plan_move **mv,
			 struct fx *f)
{
	size_t p;

	fx_init(f, 2, 0);
	p = fx_proc(f, 100, 0);
	fx_runs(f, p, 0, 100);
	fx_page(f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(f), 0);
	assert_non_null(fx_move(f, 100, fx_addr(1)));
	fx_execute(f);
	fx_tick(f, 2000);
	/* it now runs on node 0; the page's node-1 score has decayed less than it weighs */
	f->procs[p].n = 0;
	fx_page(f, p, fx_addr(1), 1, 4, 1);
	fx_page(f, p, fx_addr(1), 0, 1, 1);
	if (fresh_from != 1)
		fx_fresh(f, p, 1); /* entry 1 is node 0's */
	if (fresh_from != 0)
		fx_fresh(f, p, 0);
	f->procs[p].p.moved = moved;
	f->procs[p].p.moved_to = 0;
	assert_int_equal(fx_plan(f), 0);
	*mv = fx_move(f, 100, fx_addr(1));
}

static void test_moved_to(void **state)
{
	const struct pagemig_plan_move *mv;
	struct fx f;

	run_moved_to(false, 0, &mv, &f);
	assert_null(mv); /* its top node is where it is */
	fx_fini(&f);

	run_moved_to(true, 0, &mv, &f);
	assert_non_null(mv);
	assert_int_equal(mv->to, 0);
	assert_int_equal(mv->reason, PAGEMIG_REASON_LOCAL_PAGE);
	assert_int_equal(f.plan.procs[0].home, 0);
	fx_fini(&f);

	run_moved_to(true, -1, &mv, &f); /* written from both in the interval */
	assert_non_null(mv);
	assert_int_equal(mv->to, 0);
	fx_fini(&f);

	run_moved_to(true, 1, &mv, &f); /* from the node it left only */
	assert_null(mv);
	fx_fini(&f);
}

/*
 * Which moves follow the process (pagemig_plan_move.follows: the executor drops them once it
 * has left their node): those to its home, not a page that a thread of it writes from another
 * node. Dropped at every cycle, such a page kept a 1 GiB process from ever settling.
 */
static void test_follows_home_only(void **state)
{
	const struct pagemig_plan_move *home, *away;
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 1, 95); /* home: node 1 */
	fx_oncpu(&f, p, 0, 5);	/* a thread with a few percent of its time on node 0 */
	fx_page(&f, p, fx_addr(1), 1, 8.0, 0); /* on node 0, written from home */
	fx_page(&f, p, fx_addr(2), 0, 8.0, 1); /* on node 1, written from node 0 only */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	home = fx_move(&f, 100, fx_addr(1));
	away = fx_move(&f, 100, fx_addr(2));
	assert_non_null(home);
	assert_non_null(away);
	assert_int_equal(home->to, 1);
	assert_int_equal(home->follows, 1);
	assert_int_equal(away->to, 0);
	assert_int_equal(away->reason, PAGEMIG_REASON_LOCAL_PAGE);
	assert_int_equal(away->follows, 0);
	fx_fini(&f);
}

/* Only process-level data: a whole-process request to the home node, when allowed. */
static void test_whole_process(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 0);
	fx_oncpu(&f, p, 1, 100);
	f.procs[p].p.rss_pages = 5000;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0); /* the executor does not expand them */

	f.in.whole_process = true;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_true(f.plan.moves[0].page == PAGEMIG_PLAN_WHOLE_PROCESS);
	assert_int_equal(f.plan.moves[0].from, -1);
	assert_int_equal(f.plan.moves[0].to, 1);
	assert_int_equal(f.plan.moves[0].npages, 5000);
	assert_int_equal(f.plan.moves[0].reason, PAGEMIG_REASON_HOME_NODE);
	assert_int_equal(f.plan.moves[0].follows, 1);
	assert_int_equal(f.plan.bytes, 5000 * FX_PS);

	/* the budget caps it */
	f.cfg.rate_bytes_per_s = 1000 * FX_PS;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.moves[0].npages, 1000);

	/* done: not asked again while home stays */
	fx_execute(&f);
	fx_tick(&f, 60000);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);

	/* home moves to 0: asked again (cooldown over); back to 1 soon after: frozen */
	f.procs[p].oncpu[0].node = 0;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 0);
	fx_execute(&f);
	fx_tick(&f, 1000);
	f.procs[p].oncpu[0].node = 1;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 1);
	assert_int_equal(f.plan.procs[0].frozen, 1);
	fx_fini(&f);
}

/* A CPU node without memory is served by its nearest node with memory. */
static void test_memoryless_node(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	f.topo.node[2].has_memory = false;
	f.topo.distance[2][1] = 12;
	f.topo.distance[2][0] = 25;
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 2, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 1);
	fx_fini(&f);
}

/* cpuset mems_allowed and the memory policy's nodes bound the targets. */
static void test_allowed(void **state)
{
	struct fx f;
	size_t p, q, r;

	fx_init(&f, 3, 0);
	p = fx_proc(&f, 100, 0);
	f.procs[p].p.mems_allowed = 0x5; /* nodes 0 and 2 */
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	fx_page(&f, p, fx_addr(2), 2, 5, 0);
	q = fx_proc(&f, 200, 0);
	f.procs[q].p.policy_nodes = 0x3; /* bound to 0 and 1 */
	fx_page(&f, q, fx_addr(1), 1, 5, 0);
	fx_page(&f, q, fx_addr(2), 2, 5, 0);
	r = fx_proc(&f, 300, 0); /* nothing known: unrestricted */
	fx_page(&f, r, fx_addr(1), 2, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 3);
	assert_non_null(fx_move(&f, 100, fx_addr(2)));
	assert_non_null(fx_move(&f, 200, fx_addr(1)));
	assert_non_null(fx_move(&f, 300, fx_addr(1)));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_NOT_ALLOWED], 2);
	fx_fini(&f);
}

/* ignore, and a rule index out of range, never produce moves nor history records. */
static void test_ignore(void **state)
{
	struct fx f;
	struct pagemig_policy_history_stats st;
	size_t p, q;

	fx_init(&f, 2, 0);
	p = fx_proc(&f, 100, 3);
	fx_page(&f, p, fx_addr(1), 1, 50, 0);
	fx_oncpu(&f, p, 1, 100);
	q = fx_proc(&f, 200, 17);
	fx_page(&f, q, fx_addr(1), 1, 50, 0);
	f.in.whole_process = true;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.candidates, 0);
	assert_int_equal(f.plan.procs[0].type, PAGEMIG_POLICY_IGNORE);
	assert_int_equal(f.plan.procs[1].type, PAGEMIG_POLICY_IGNORE);
	assert_int_equal(f.plan.procs[0].pages, 1); /* still summarised */
	assert_int_equal(f.plan.procs[0].hot, 1);
	pagemig_policy_history_stats(f.h, &st);
	assert_int_equal(st.pages, 0);
	assert_int_equal(st.procs, 0);
	fx_fini(&f);
}

/* Every move carries the index of its process's rule. */
static void test_rule_index(void **state)
{
	struct fx f;
	size_t p, q;

	fx_init(&f, 2, 0);
	f.rules[4] = f.rules[0];
	snprintf(f.rules[4].name, sizeof(f.rules[4].name), "loc2");
	f.cfg.n_rules = 5;
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	q = fx_proc(&f, 200, 4);
	fx_page(&f, q, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->rule, 0);
	assert_int_equal(fx_move(&f, 200, fx_addr(1))->rule, 4);
	assert_int_equal(f.plan.procs[1].rule, 4);
	fx_fini(&f);
}

/* The plan runs without a history: no history guards, same placement decisions. */
static void test_no_history(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 0);
	pagemig_policy_history_free(f.h);
	f.h = NULL;
	p = fx_proc(&f, 100, 0);
	fx_page(&f, p, fx_addr(1), 1, 5, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	fx_execute(&f); /* history_moved(NULL, ...) is fine */
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_hot_page_moves),
		cmocka_unit_test(test_share_and_shared),
		cmocka_unit_test(test_follows_home),
		cmocka_unit_test(test_spread_once_shared_stays),
		cmocka_unit_test(test_spread_unconfirmed),
		cmocka_unit_test(test_tie_lower_node),
		cmocka_unit_test(test_home_node_pages),
		cmocka_unit_test(test_whole_process),
		cmocka_unit_test(test_moved_to),
		cmocka_unit_test(test_follows_home_only),
		cmocka_unit_test(test_memoryless_node),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_ignore),
		cmocka_unit_test(test_rule_index),
		cmocka_unit_test(test_no_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
