// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigd's executor (daemon/executor.c) under faults, with libpagemig on the move_pages(2)
 * replay model: a managed process exits between the plan and the move, its pid is reused in the
 * middle of a group, the target node fills up, whole calls fail at random. The executor never
 * moves a page of another process, never counts a page twice, counts exactly the pages that
 * really changed node, and reports every fault (counters, history, log).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "executor.h"
#include "injector.h"
#include "logcap.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t PID; /* a real child, so that its pidfd is real (libpagemig reads its fdinfo) */
static int pidfd = -1;
static char pid_str[16];

static struct fake_kernel fk;
static struct injector inj;
static struct executor *ex;
static struct pagemig_policy_history *hist;
static bool managed = true; /* what the daemon's process table says */
static const struct pagemig_policy_rule rules[1] = {{.name = "work"}};
static struct pagemig_plan plan;
static struct pagemig_plan_move moves[FK_MAX_PAGES];

static int lookup(void *ctx, pid_t tgid, const char **comm)
{
	*comm = "workload";
	return tgid == PID && managed ? pidfd : -1;
}

static int setup(void **state)
{
	struct pagemig_opts o = {
		.sz = sizeof(o), .pages_per_call = 256, .max_retries = 2, .backoff_us = 1};

	fk_init(&fk, 3000, 3);
	memset(&inj, 0, sizeof(inj));
	inj.fk = &fk;
	inj.pidfd = pidfd;
	inj_install(&inj);
	managed = true;
	hist = pagemig_policy_history_new(1 << 16);
	ex = executor_new(lookup, NULL, hist);
	assert_non_null(ex);
	executor_configure(ex, &o, 0, rules, 1);
	logcap_clear();
	return 0;
}

static int teardown(void **state)
{
	executor_free(ex);
	pagemig_policy_history_free(hist);
	pagemig__set_sys(NULL);
	return 0;
}

/* Plan pages [first, first + n) of PID from where they are to node to. */
static void plan_pages(size_t first, size_t n, int to)
{
	plan = (struct pagemig_plan){.moves = moves, .n_moves = 0};
	for (size_t i = first; i < first + n; i++)
		moves[plan.n_moves++] =
			(struct pagemig_plan_move){.tgid = PID,
						   .npages = 1,
						   .page = (uint64_t)(uintptr_t)fk_addr(i),
						   .from = (int16_t)fk.page[i].node,
						   .to = (int16_t)to,
						   .follows = 1};
}

static void run_all(void)
{
	for (int i = 0; i < 10000 && executor_step(ex, 1000) >= 0; i++)
		;
	assert_int_equal(executor_pending(ex), 0);
}

/* Sum of the decisions in the history: they must add up to the counters. */
static void check_history_adds_up(void)
{
	const struct exec_counters *c = executor_counters(ex);
	uint64_t planned = 0, moved = 0, failed = 0;
	size_t n;

	executor_history(ex, 0, &n);
	if (c->decisions > EXEC_HISTORY)
		return; /* the ring forgot some */
	assert_int_equal(n, c->decisions);
	for (size_t i = 0; i < n; i++) {
		const struct exec_decision *d = executor_history(ex, i, NULL);

		assert_true(d->moved + d->failed <= d->planned);
		planned += d->planned;
		moved += d->moved;
		failed += d->failed;
	}
	assert_int_equal(planned, c->pages_planned);
	assert_int_equal(moved, c->pages_moved);
	assert_int_equal(failed, c->pages_failed);
}

static size_t on_node(int node)
{
	size_t c = 0;

	for (size_t i = 0; i < fk.npages; i++)
		c += fk.page[i].node == node;
	return c;
}

/* The process exits after the plan, before the executor gets to it (still managed: the scan
 * has not seen it go). Nothing is sent; the group is dropped as process_gone. */
static void test_exit_between_plan_and_move(void **state)
{
	const struct exec_counters *c = executor_counters(ex);
	const struct exec_decision *d;

	plan_pages(0, 100, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	inj.exited = true;
	run_all();
	assert_int_equal(inj.moves, 0);
	assert_int_equal(c->pages_planned, 100);
	assert_int_equal(c->pages_moved, 0);
	assert_int_equal(c->pages_failed, 0);
	assert_int_equal(c->proc_gone, 1);
	d = executor_history(ex, 0, NULL);
	assert_int_equal(d->call_error, -ESRCH);
	assert_true(logcap_count(pid_str, LOG_DEBUG) >= 1);
	check_history_adds_up();
}

/* The scan noticed the exit between plan and move: the lookup fails; nothing is sent. */
static void test_unmanaged_between_plan_and_move(void **state)
{
	const struct exec_counters *c = executor_counters(ex);

	plan_pages(0, 100, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	managed = false;
	run_all();
	assert_int_equal(inj.moves + inj.queries, 0);
	assert_int_equal(c->proc_gone, 1);
	assert_int_equal(c->pages_moved + c->pages_failed, 0);
	check_history_adds_up();
}

/* What the daemon's wanted check answers: the process has left node left_node_id (-1: none). */
static int left_node_id = -1;
static int wanted_asked;

static bool wanted(void *ctx, pid_t tgid, int to)
{
	wanted_asked++;
	return !(tgid == PID && to == left_node_id);
}

/* The process left node 1 after the plan: its moves there that follow it are dropped unsent;
 * those to node 2, a promotion to node 1 and a page a thread of it writes from node 1 (not
 * following it) still run; the history says which were dropped. */
static void test_left_node_dropped(void **state)
{
	const struct exec_counters *c = executor_counters(ex);
	size_t n, left = 0;

	executor_set_wanted(ex, wanted);
	left_node_id = 1;
	wanted_asked = 0;
	plan_pages(0, 500, 1);
	for (size_t i = 500; i < 800; i++)
		moves[plan.n_moves++] = (struct pagemig_plan_move){
			.tgid = PID, .npages = 1, .page = (uint64_t)(uintptr_t)fk_addr(i),
			.from = (int16_t)fk.page[i].node, .to = 2, .follows = 1};
	for (size_t i = 800; i < 900; i++)
		moves[plan.n_moves++] = (struct pagemig_plan_move){
			.tgid = PID, .npages = 1, .page = (uint64_t)(uintptr_t)fk_addr(i),
			.from = (int16_t)fk.page[i].node, .to = 1,
			.reason = PAGEMIG_REASON_PROMOTE};
	for (size_t i = 900; i < 950; i++)
		moves[plan.n_moves++] = (struct pagemig_plan_move){
			.tgid = PID, .npages = 1, .page = (uint64_t)(uintptr_t)fk_addr(i),
			.from = (int16_t)fk.page[i].node, .to = 1,
			.reason = PAGEMIG_REASON_LOCAL_PAGE};
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	run_all();
	assert_int_equal(c->left_node, 500);
	assert_int_equal(on_node(1), 150); /* the promotion and the thread's pages */
	assert_int_equal(on_node(2), 300);
	assert_int_equal(c->pages_moved, 450);
	assert_true(wanted_asked >= 2); /* asked before each following group's calls */
	executor_history(ex, 0, &n);
	for (size_t i = 0; i < n; i++) {
		const struct exec_decision *d = executor_history(ex, i, NULL);

		if (d->left) {
			left++;
			assert_int_equal(d->to, 1);
			assert_int_equal(d->planned, 500);
			assert_int_equal(d->moved + d->failed, 0);
		}
	}
	assert_int_equal(left, 1); /* the whole group at once */
	assert_true(logcap_count("no longer runs on node 1: 500 pending moves there dropped",
				 LOG_DEBUG) == 1);
	check_history_adds_up();

	/* it came back: the next plan's moves to node 1 run */
	left_node_id = -1;
	plan_pages(0, 500, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	run_all();
	assert_int_equal(on_node(1), 650);
	assert_int_equal(c->left_node, 500);
	check_history_adds_up();
}

/* Observe mode asks nothing: nothing would be sent anyway. */
static void test_left_node_not_asked_observing(void **state)
{
	executor_set_wanted(ex, wanted);
	left_node_id = 1;
	wanted_asked = 0;
	plan_pages(0, 100, 1);
	assert_int_equal(executor_submit(ex, &plan, true, 0), 0);
	run_all();
	assert_int_equal(wanted_asked, 0);
	assert_int_equal(executor_counters(ex)->left_node, 0);
	assert_int_equal(inj.moves, 0);
}

/* The process exits in the middle of a group and its pid names another process at once: the
 * new process is never touched; what moved before counts once; later groups are dropped. */
static void test_pid_reused_mid_group(void **state)
{
	const struct exec_counters *c = executor_counters(ex);

	plan_pages(0, 3000, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	inj.exit_after = 2;
	inj.reused = true;
	run_all();
	assert_int_equal(inj.calls_after_exit, 0);
	assert_int_equal(on_node(1), 40); /* the group's first two calls: 8 and 32 pages */
	assert_int_equal(c->pages_moved, 40);
	assert_int_equal(c->pages_failed, 0);
	assert_int_equal(c->proc_gone,
			 1); /* the call that saw it; the rest of the group is dropped */
	check_history_adds_up();
}

/* The target node fills up: what fits moves, the rest fails as no_memory, once. */
static void test_target_node_fills(void **state)
{
	const struct exec_counters *c = executor_counters(ex);

	fk.capacity[1] = 300;
	plan_pages(0, 1000, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	run_all();
	assert_int_equal(on_node(1), 300);
	assert_int_equal(c->pages_moved, 300);
	assert_int_equal(c->pages_failed, 700);
	assert_int_equal(c->by_outcome[PAGEMIG_OUT_NO_MEMORY], 700);
	/* calls of 8, 32 and 128 pages move, the one of 512 fills the node, the last 320 find it
	 * full: each call that had failures says so, with the step */
	assert_true(logcap_count("moved 8 of 8 pages", LOG_INFO) == 1);
	assert_true(logcap_count("moved 132 of 512 pages", LOG_NOTICE) == 1);
	assert_true(logcap_count("moved 0 of 320 pages", LOG_NOTICE) == 1);
	assert_true(logcap_count("failures backed out at", LOG_NOTICE) == 2);
	/* the next cycle plans what is left (from where it really is): still full */
	plan_pages(300, 700, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	run_all();
	assert_int_equal(on_node(1), 300);
	assert_int_equal(c->pages_moved, 300);
	assert_int_equal(c->pages_failed, 1400);
	check_history_adds_up();
}

/* Pages the kernel refuses for a lasting reason (another process maps them) are reported to the
 * history as refused, so the next plans leave them alone; pages still busy after the retries
 * are not: they may well move next time. */
static void test_lasting_refusals_remembered(void **state)
{
	const struct exec_counters *c = executor_counters(ex);
	struct pagemig_policy_history_stats st;

	for (size_t i = 0; i < 10; i++)
		fk.page[i].shared = true;
	for (size_t i = 10; i < 15; i++)
		fk.page[i].busy = 1000;
	plan_pages(0, 100, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	run_all();
	assert_int_equal(c->pages_moved, 85);
	assert_int_equal(c->by_outcome[PAGEMIG_OUT_SHARED], 10);
	assert_int_equal(c->by_outcome[PAGEMIG_OUT_BUSY], 5);
	/* 85 moves and 10 refusals wait for the next plan; the busy pages left no record */
	pagemig_policy_history_stats(hist, &st);
	assert_int_equal(st.pages, 95);
	check_history_adds_up();
}

/* A new plan replaces pending work half-way (the next cycle): nothing counted twice. */
static void test_plan_replaced_half_way(void **state)
{
	const struct exec_counters *c = executor_counters(ex);

	plan_pages(0, 3000, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	assert_true(executor_step(ex, 0) >= 0); /* one call: a group's first takes 8 pages */
	assert_int_equal(executor_pending(ex), 3000 - 8);
	/* the next cycle: the pages not moved yet, planned again from where they are */
	plan_pages(8, 3000 - 8, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	run_all();
	assert_int_equal(on_node(1), 3000);
	assert_int_equal(c->pages_moved, 3000);
	/* planned: pages handed to the library (groups run), not pages of replaced plans */
	assert_int_equal(c->pages_planned, 3000);
	check_history_adds_up();
}

/*
 * A plan made before the last one ran out keeps the last one's pending moves for pages it does
 * not name (behind its own), once each; a replacing plan drops them. The estimate of what is
 * left follows the pace so far.
 */
static void test_plan_keeping_pending(void **state)
{
	const struct exec_counters *c = executor_counters(ex);

	plan_pages(0, 1000, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	assert_true(executor_pending_ms(ex, 0) == UINT64_MAX); /* nothing ran yet */
	assert_true(executor_step(ex, 0) >= 0);			/* the first group: 8 pages */
	assert_int_equal(executor_pending(ex), 1000 - 8);
	/* 8 pages in 40 ms: 992 more take 4960 ms */
	assert_int_equal(executor_pending_ms(ex, 40), 4960);
	/* an empty plan (no array at all) keeps them all */
	plan = (struct pagemig_plan){0};
	assert_int_equal(executor_submit_keeping(ex, &plan, false, 45), 0);
	assert_int_equal(executor_pending(ex), 1000 - 8);
	/* the new plan names pages 500..1499 (500..999 again, from where they are now) */
	plan_pages(500, 1000, 1);
	assert_int_equal(executor_submit_keeping(ex, &plan, false, 50), 0);
	assert_int_equal(executor_pending(ex), 1000 + 492); /* and 8..499 of the old plan */
	run_all();
	assert_int_equal(executor_pending_ms(ex, 60), 0);
	assert_int_equal(on_node(1), 1500);
	assert_int_equal(c->pages_moved, 1500);
	assert_int_equal(c->pages_planned, 1500);

	/* replacing instead: the old plan's pending moves go */
	plan_pages(1500, 100, 2);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	assert_true(executor_step(ex, 0) >= 0);
	plan_pages(1600, 10, 2);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	assert_int_equal(executor_pending(ex), 10);
	run_all();
	assert_int_equal(on_node(2), 8 + 10);
	check_history_adds_up();
}

/* keep_fn for test_plan_keeping_if: keeps what *ctx says, and checks it is asked of PID */
static bool keep_if(void *ctx, uint32_t tgid)
{
	assert_int_equal(tgid, PID);
	return *(bool *)ctx;
}

/* A plan that left some processes out keeps their pending moves only (the daemon's held ones). */
static void test_plan_keeping_if(void **state)
{
	bool keep = false;

	plan_pages(0, 1000, 1);
	assert_int_equal(executor_submit(ex, &plan, false, 0), 0);
	assert_true(executor_step(ex, 0) >= 0); /* the first group: 8 pages */
	plan_pages(2000, 10, 1);
	assert_int_equal(executor_submit_keeping_if(ex, &plan, false, 10, keep_if, &keep), 0);
	assert_int_equal(executor_pending(ex), 10); /* not kept */
	keep = true;
	plan_pages(2100, 10, 1);
	assert_int_equal(executor_submit_keeping_if(ex, &plan, false, 20, keep_if, &keep), 0);
	assert_int_equal(executor_pending(ex), 20); /* kept */
	/* in observe mode nothing is kept, as with executor_submit_keeping */
	assert_int_equal(executor_submit_keeping_if(ex, &plan, true, 30, keep_if, &keep), 0);
	assert_int_equal(executor_pending(ex), 10);
	run_all();
	check_history_adds_up();
}

/* Many cycles with whole calls failing at random, exits and reuses: the counters match the
 * pages that really changed node, and the history adds up. */
static void test_random_cycles(void **state)
{
	const struct exec_counters *c = executor_counters(ex);
	uint64_t r = 12345;
	size_t real_moves = 0;

	for (int cycle = 0; cycle < 200; cycle++) {
		int before[FK_MAX_PAGES];
		size_t first = inj_rand(&r) % 2500, n = 1 + inj_rand(&r) % 500;
		int to = (int)(inj_rand(&r) % 3);

		inj.p_eintr = (unsigned int)(inj_rand(&r) % 10);
		inj.p_eagain = (unsigned int)(inj_rand(&r) % 10);
		inj.p_enomem = (unsigned int)(inj_rand(&r) % 10);
		inj.p_efault = (unsigned int)(inj_rand(&r) % 3);
		inj.p_query_fail = 0;
		fk.capacity[to] = inj_rand(&r) % 4 ? -1 : (long)(inj_rand(&r) % 100);
		/* a new process under the pid now and then: the daemon's scan sees a new start
		 * time and takes a new pidfd */
		if (inj_rand(&r) % 20 == 0) {
			inj.exit_after = inj.moves + 1 + (int)(inj_rand(&r) % 3);
			inj.reused = inj_rand(&r) % 2;
		}
		if (inj.exited) {
			inj.exited = false; /* the new process is managed from now on */
			inj.exit_after = 0;
		}
		for (size_t i = 0; i < fk.npages; i++)
			before[i] = fk.page[i].node;
		plan_pages(first, n, to);
		for (size_t k = 0; k < plan.n_moves;)
			if (moves[k].from == to)
				moves[k] = moves[--plan.n_moves]; /* the policy plans only moves */
			else
				k++;
		assert_int_equal(executor_submit(ex, &plan, false, (uint64_t)cycle * 1000), 0);
		run_all();
		assert_int_equal(inj.calls_after_exit, 0);
		for (size_t i = 0; i < fk.npages; i++)
			real_moves += fk.page[i].node != before[i];
		assert_int_equal(c->pages_moved, real_moves);
		assert_true(c->pages_moved + c->pages_failed <= c->pages_planned);
	}
	assert_true(real_moves > 1000);
	assert_true(c->proc_gone > 0);
}

int main(void)
{
	int ret, ws;

	PID = fork();
	if (PID == 0) {
		pause();
		_exit(0);
	}
	pidfd = (int)syscall(SYS_pidfd_open, PID, 0);
	if (pidfd < 0) {
		kill(PID, SIGKILL);
		printf("SKIP: no pidfd_open\n");
		return 77;
	}
	snprintf(pid_str, sizeof(pid_str), "%d", (int)PID);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_between_plan_and_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmanaged_between_plan_and_move, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pid_reused_mid_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_node_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_node_not_asked_observing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_target_node_fills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lasting_refusals_remembered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plan_replaced_half_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_keeping_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_keeping_if, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_cycles, setup, teardown),
	};

	ret = cmocka_run_group_tests(tests, NULL, NULL);
	kill(PID, SIGKILL);
	waitpid(PID, &ws, 0);
	return ret;
}
