// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daemon/left_node.c: whether a process has left a node, from its on-CPU time per node over
 * half-second windows. Pure arithmetic on synthetic counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "left_node.h"

#define MS 1000000ull /* ns */

/* Nothing is known before a window has closed. */
static void test_first_window(void **state)
{
	struct left_node_window w = {0};
	uint64_t ns[2] = {5000 * MS, 0};

	assert_false(left_node_feed(&w, ns, 2, 1000));
	assert_false(left_node(&w, 0));
	assert_false(left_node(&w, 1));
	ns[0] += 300 * MS;
	assert_false(left_node_feed(&w, ns, 2, 1000 + LEFT_NODE_WINDOW_MS - 1));
	assert_false(left_node(&w, 1));
	assert_true(left_node_feed(&w, ns, 2, 1000 + LEFT_NODE_WINDOW_MS));
	/* all 300 ms of the window on node 0: node 1 was left, node 0 not */
	assert_true(left_node(&w, 1));
	assert_false(left_node(&w, 0));
}

/* A thread that switched node: the old node is left from the first window after the switch,
 * whatever the time it spent there before. */
static void test_switch(void **state)
{
	struct left_node_window w = {0};
	uint64_t ns[2] = {20000 * MS, 0}, t = 0;

	left_node_feed(&w, ns, 2, t);
	ns[0] += 450 * MS, t += 500;
	assert_true(left_node_feed(&w, ns, 2, t));
	assert_false(left_node(&w, 0));
	assert_int_equal(left_node_runs_on(&w), 0);
	ns[1] += 480 * MS, t += 500; /* the switch */
	assert_true(left_node_feed(&w, ns, 2, t));
	assert_true(left_node(&w, 0));
	assert_false(left_node(&w, 1));
	assert_int_equal(left_node_runs_on(&w), 1);
}

/* Threads on both nodes: neither is left while each has a tenth of the time or more. */
static void test_spread(void **state)
{
	struct left_node_window w = {0};
	uint64_t ns[2] = {0, 0};

	left_node_feed(&w, ns, 2, 0);
	ns[0] += 400 * MS, ns[1] += 45 * MS;
	left_node_feed(&w, ns, 2, 600);
	assert_false(left_node(&w, 1)); /* 45 of 445: 10.1% */
	assert_int_equal(left_node_runs_on(&w), -1); /* 400 of 445: 89.9%, on neither */
	ns[0] += 400 * MS, ns[1] += 40 * MS;
	left_node_feed(&w, ns, 2, 1200);
	assert_true(left_node(&w, 1)); /* 40 of 440: 9.1% */
	assert_int_equal(left_node_runs_on(&w), 0);
}

/* Too little on-CPU time to tell (idle, or a thread never switched out): unknown, so no node
 * counts as left; and an earlier verdict does not outlive it. */
static void test_too_little(void **state)
{
	struct left_node_window w = {0};
	uint64_t ns[2] = {0, 0};

	left_node_feed(&w, ns, 2, 0);
	ns[0] += 200 * MS;
	left_node_feed(&w, ns, 2, 500);
	assert_true(left_node(&w, 1));
	ns[0] += LEFT_NODE_MIN_NS - 1;
	left_node_feed(&w, ns, 2, 1000);
	assert_false(left_node(&w, 1));
	assert_int_equal(left_node_runs_on(&w), -1);
}

/* A window fed again only much later says mostly the past: it starts again, unknown. */
static void test_stale(void **state)
{
	struct left_node_window w = {0};
	uint64_t ns[2] = {0, 0};

	left_node_feed(&w, ns, 2, 0);
	ns[0] += 300 * MS;
	left_node_feed(&w, ns, 2, 500);
	assert_true(left_node(&w, 1));
	ns[1] += 3000 * MS;
	assert_false(left_node_feed(&w, ns, 2, 500 + LEFT_NODE_STALE_MS + 1));
	assert_false(left_node(&w, 1));
	assert_false(left_node(&w, 0));
	ns[1] += 300 * MS;
	assert_true(left_node_feed(&w, ns, 2, 1000 + LEFT_NODE_STALE_MS + 1));
	assert_true(left_node(&w, 0));
}

/* Counters that went back (the process was managed anew) count from zero; odd node ids are
 * never left. */
static void test_counters_restart(void **state)
{
	struct left_node_window w = {0};
	uint64_t ns[2] = {9000 * MS, 0};

	left_node_feed(&w, ns, 2, 0);
	ns[0] = 0, ns[1] = 300 * MS;
	assert_true(left_node_feed(&w, ns, 2, 500));
	assert_true(left_node(&w, 0));
	assert_false(left_node(&w, -1));
	assert_false(left_node(&w, PAGEMIG_TOPO_MAX_NODES));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_window), cmocka_unit_test(test_switch),
		cmocka_unit_test(test_spread),	     cmocka_unit_test(test_too_little),
		cmocka_unit_test(test_stale),	     cmocka_unit_test(test_counters_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
