// SPDX-License-Identifier: LGPL-2.1-or-later
/* The tiering and pin policies. Nodes 0 and 1 have CPUs, 2 and 3 are memory only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define UNK PAGEMIG_SAMPLER_NODE_UNKNOWN
#define WM5 ((uint64_t)(0.05 * (double)(16 * FX_GIB))) /* 5% of a near node */

/* Hot far pages go up: to the node accessing them, else home, else the nearest near node. */
static void test_promote(void **state)
{
	struct fx f;
	size_t p, q;

	fx_init(&f, 2, 2);
	f.topo.distance[3][1] = 25; /* node 3 is nearer to 1 than to 0 */
	p = fx_proc(&f, 100, 1);
	fx_oncpu(&f, p, 0, 100);
	fx_page(&f, p, fx_addr(1), 1, 5, 2);   /* accessed from 1 */
	fx_page(&f, p, fx_addr(2), UNK, 5, 2); /* no node: home 0 */
	fx_page(&f, p, fx_addr(3), 1, 0.5, 2); /* not hot: stays */
	fx_page(&f, p, fx_addr(4), 1, 5, 0);   /* near already: tiering leaves it */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->reason, PAGEMIG_REASON_PROMOTE);
	assert_int_equal(fx_move(&f, 100, fx_addr(2))->to, 0);

	/* no on-CPU data either: the near node nearest to the far one */
	q = fx_proc(&f, 200, 1);
	fx_page(&f, q, fx_addr(2), UNK, 5, 3);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(fx_move(&f, 200, fx_addr(2))->to, 1);
	fx_fini(&f);
}

/* A far page with accesses sampled in one interval only (one burst of writes) is not promoted,
 * however high its score; accessed in a second interval, or from a second node, it is.
 * Locality does not wait. */
static void test_promote_needs_second_interval(void **state)
{
	struct fx f;
	size_t p, q;

	fx_init(&f, 2, 2);
	p = fx_proc(&f, 100, 1);
	fx_oncpu(&f, p, 1, 100);
	fx_page(&f, p, fx_addr(1), 1, 8, 2);
	fx_seen(&f, p, fx_addr(1), 1);
	fx_page(&f, p, fx_addr(2), 1, 1, 2); /* hot_score exactly, two intervals */
	fx_seen(&f, p, fx_addr(2), 2);
	fx_page(&f, p, fx_addr(3), 0, 1, 2); /* once from each of two nodes */
	fx_page(&f, p, fx_addr(3), 1, 1, 2);
	fx_seen(&f, p, fx_addr(3), 1);
	fx_page(&f, p, fx_addr(4), 1, 0.5, 2); /* not hot: not waiting for a second sample */
	fx_seen(&f, p, fx_addr(4), 1);
	q = fx_proc(&f, 200, 0);		 /* locality */
	fx_oncpu(&f, q, 1, 100);
	fx_page(&f, q, fx_addr(1), 1, 1, 0);
	fx_seen(&f, q, fx_addr(1), 1);
	assert_int_equal(fx_plan(&f), 0);
	assert_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(fx_move(&f, 100, fx_addr(2))->to, 1);
	assert_non_null(fx_move(&f, 100, fx_addr(3)));
	assert_int_equal(fx_move(&f, 200, fx_addr(1))->to, 1);
	/* the one waiting is said, so that the daemon samples the process again at once */
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_UNCONFIRMED], 1);
	assert_int_equal(f.plan.procs[0].unconfirmed, 1);
	assert_int_equal(f.plan.procs[0].skipped, 1);
	assert_int_equal(f.plan.procs[1].unconfirmed, 0);
	assert_null(fx_move(&f, 100, fx_addr(4)));

	/* where the sampler cannot see a page twice (no re-arming), one interval will do */
	f.in.seen_once = true;
	assert_int_equal(fx_plan(&f), 0);
	assert_non_null(fx_move(&f, 100, fx_addr(1)));
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_UNCONFIRMED], 0);
	assert_int_equal(f.plan.procs[0].unconfirmed, 0);
	f.in.seen_once = false;

	/* its second interval with accesses: promoted */
	fx_seen(&f, p, fx_addr(1), 2);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	assert_int_equal(f.plan.procs[0].unconfirmed, 0);
	fx_fini(&f);
}

/* Promotion stops where the near node would fall below its watermark. */
static void test_promote_watermark(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 2);
	f.cfg.watermark_pct[0] = 5;
	fx_free(&f, 0, WM5 + 3 * FX_PS);
	p = fx_proc(&f, 100, 1);
	for (int i = 0; i < 6; i++)
		fx_page(&f, p, fx_addr(i), 0, 1 + i, 2);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 3);
	assert_int_equal(f.plan.moves[0].page, fx_addr(5));
	assert_int_equal(f.plan.moves[2].page, fx_addr(3));
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_WATERMARK], 3);
	fx_fini(&f);
}

/* Below its watermark a near node sheds cold pages, coldest first, just enough to get back. */
static void test_demote(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 2);
	f.cfg.watermark_pct[0] = 5;
	f.topo.distance[0][3] = 25;	      /* node 3 is the nearer far node */
	fx_free(&f, 0, WM5 - 2 * FX_PS - 10); /* short by 2 pages and a bit: 3 to go */
	p = fx_proc(&f, 100, 1);
	for (int i = 0; i < 5; i++)
		fx_page(&f, p, fx_addr(i), 0, 0.2 - 0.01 * i, 0); /* cold, colder with i */
	fx_page(&f, p, fx_addr(5), 0, 0.3, 0);			  /* not cold */
	fx_page(&f, p, fx_addr(6), 1, 0.01, 1);			  /* cold on a node with room */
	/* just allocated (a first touch in the last interval: events, no weight): not cold */
	fx_page(&f, p, fx_addr(7), 0, 0, 0);
	f.procs[p].pages[7].events = 1;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f.plan.moves[i].page, fx_addr(4 - i));
		assert_int_equal(f.plan.moves[i].from, 0);
		assert_int_equal(f.plan.moves[i].to, 3);
		assert_int_equal(f.plan.moves[i].reason, PAGEMIG_REASON_DEMOTE);
	}
	/* the other two were not needed: not skips */
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_RATE], 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_WATERMARK], 0);

	/* above the watermark: nothing demoted */
	fx_free(&f, 0, WM5 + FX_PS);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	fx_fini(&f);
}

/*
 * pagemig_policy_near_short() says what the plan does: a near node short of its watermark has
 * cold pages demoted off it, one at it does not; a far node short of its own does not count.
 */
static void test_near_short(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 2);
	f.cfg.watermark_pct[0] = 5;
	f.cfg.watermark_pct[3] = 50;
	fx_free(&f, 3, FX_GIB); /* far node 3: 1 of 64 GiB free, under its 50% (2 takes pages) */
	p = fx_proc(&f, 100, 1);
	fx_page(&f, p, fx_addr(0), 0, 0.01, 0); /* cold on node 0 */

	fx_free(&f, 0, WM5);
	assert_false(pagemig_policy_near_short(&f.topo, &f.cfg));
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);

	fx_free(&f, 0, WM5 - 1);
	assert_true(pagemig_policy_near_short(&f.topo, &f.cfg));
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].reason, PAGEMIG_REASON_DEMOTE);

	/* node 1 (no watermark set: 0%) never is; a node without memory is not looked at */
	fx_free(&f, 0, WM5 + FX_PS);
	fx_free(&f, 1, 0);
	assert_false(pagemig_policy_near_short(&f.topo, &f.cfg));
	f.cfg.watermark_pct[1] = 1;
	assert_true(pagemig_policy_near_short(&f.topo, &f.cfg));
	f.topo.node[1].has_memory = false;
	assert_false(pagemig_policy_near_short(&f.topo, &f.cfg));
	fx_fini(&f);
}

/* Demotions come first under a tight budget, and respect the far node's watermark. */
static void test_demote_priority_and_far_watermark(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 2);
	f.cfg.rate_bytes_per_s = 2 * FX_PS;
	f.cfg.watermark_pct[0] = 5;
	f.cfg.watermark_pct[2] = 50;
	fx_free(&f, 0, 0);
	fx_free(&f, 2, 32 * FX_GIB + FX_PS); /* one page of room */
	f.topo.distance[0][3] = 35;	     /* node 2 is the nearer far node */
	p = fx_proc(&f, 100, 1);
	fx_page(&f, p, fx_addr(1), 1, 50, 3); /* hot far page: promotion */
	fx_page(&f, p, fx_addr(2), 0, 0.1, 0);
	fx_page(&f, p, fx_addr(3), 0, 0.2, 0);
	fx_page(&f, p, fx_addr(4), 0, 0.15, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	assert_int_equal(f.plan.moves[0].page, fx_addr(2)); /* coldest, to node 2 */
	assert_int_equal(f.plan.moves[0].to, 2);
	assert_int_equal(f.plan.moves[1].page, fx_addr(1));	     /* then the promotion */
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_WATERMARK], 2); /* node 2 full */
	fx_fini(&f);
}

/* Promote then demote the same page within the window: frozen as ping-pong. */
static void test_tiering_pingpong(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 2, 2);
	f.cfg.watermark_pct[0] = 5;
	p = fx_proc(&f, 100, 1);
	fx_page(&f, p, fx_addr(1), 0, 5, 2);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	fx_execute(&f);
	fx_tick(&f, 1000);
	fx_retouch(&f, p, fx_addr(1), 0, 0.1);
	fx_free(&f, 0, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_PINGPONG], 1);
	fx_fini(&f);
}

/* pin: strays go back to pin_target, or the nearest allowed pin node with room. */
static void test_pin(void **state)
{
	struct fx f;
	size_t p, q;

	fx_init(&f, 3, 1);
	f.topo.distance[3][1] = 25;
	p = fx_proc(&f, 100, 2);		/* pin 0,1; target: nearest */
	fx_page(&f, p, fx_addr(1), 2, 0.01, 2); /* stray on 2, cold still counts */
	fx_page(&f, p, fx_addr(2), 2, 5, 3);	/* stray on far 3: nearest is 1 */
	fx_page(&f, p, fx_addr(3), 2, 5, 1);	/* at home */
	fx_page(&f, p, fx_addr(4), 2, 5, -1);	/* not resident */
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 2);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 0);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->reason, PAGEMIG_REASON_PIN);
	assert_int_equal(fx_move(&f, 100, fx_addr(2))->to, 1);
	/* hottest first */
	assert_int_equal(f.plan.moves[0].page, fx_addr(2));

	/* node 1 without room: the other pin node */
	fx_free(&f, 1, 0);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(fx_move(&f, 100, fx_addr(2))->to, 0);
	fx_free(&f, 1, 16 * FX_GIB);

	/* an explicit target */
	f.rules[2].pin_target = 1;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(fx_move(&f, 100, fx_addr(1))->to, 1);
	assert_int_equal(fx_move(&f, 100, fx_addr(2))->to, 1);

	/* the cpuset forbids the pin target; and a process whose cpuset has no pin node */
	f.procs[p].p.mems_allowed = 0x1;
	q = fx_proc(&f, 200, 2);
	f.procs[q].p.mems_allowed = 0x4;
	fx_page(&f, q, fx_addr(1), 2, 5, 2);
	fx_page(&f, q, fx_addr(2), 2, 5, 3);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	assert_int_equal(f.plan.skipped[PAGEMIG_SKIP_NOT_ALLOWED], 4);
	fx_fini(&f);
}

/* pin without page data: a whole-process request when the destination is unambiguous. */
static void test_pin_whole(void **state)
{
	struct fx f;
	size_t p;

	fx_init(&f, 3, 0);
	f.in.whole_process = true;
	p = fx_proc(&f, 100, 2); /* pin 0,1: two nodes, no target: no request */
	fx_oncpu(&f, p, 2, 10);
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 0);
	f.rules[2].pin_nodes = 0x2;
	assert_int_equal(fx_plan(&f), 0);
	assert_int_equal(f.plan.n_moves, 1);
	assert_int_equal(f.plan.moves[0].to, 1);
	assert_int_equal(f.plan.moves[0].reason, PAGEMIG_REASON_PIN);
	assert_true(f.plan.moves[0].page == PAGEMIG_PLAN_WHOLE_PROCESS);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_promote),
		cmocka_unit_test(test_promote_needs_second_interval),
		cmocka_unit_test(test_promote_watermark),
		cmocka_unit_test(test_demote),
		cmocka_unit_test(test_demote_priority_and_far_watermark),
		cmocka_unit_test(test_tiering_pingpong),
		cmocka_unit_test(test_near_short),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_pin_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
