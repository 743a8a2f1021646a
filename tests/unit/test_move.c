// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The engine against a replay model of move_pages(2): batching and sentinels, verification,
 * per-page retries, huge folios, and calls that fail part-way.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_kernel.h"

#define PID 4242 /* another process, so the pidfd guard is exercised */

static struct fake_kernel fk;
static void *pages[FK_MAX_PAGES];
static int nodes[FK_MAX_PAGES];
static int status[FK_MAX_PAGES];
static struct pagemig_page_detail details[FK_MAX_PAGES];

static int setup(void **state)
{
	fk_init(&fk, 64, 2);
	fk_install(&fk);
	for (size_t i = 0; i < FK_MAX_PAGES; i++) {
		pages[i] = fk_addr(i);
		nodes[i] = 1;
		status[i] = 12345;
	}
	memset(details, 0, sizeof(details));
	return 0;
}

static int teardown(void **state)
{
	pagemig__set_sys(NULL);
	return 0;
}

static struct pagemig_opts opts_with(unsigned int flags)
{
	return (struct pagemig_opts){
		.sz = sizeof(struct pagemig_opts), .flags = flags, .details = details};
}

static void assert_all_on(size_t n, int node)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(status[i], node);
		assert_int_equal(fk.page[i].node, node);
	}
}

static void test_simple_move(void **state)
{
	struct pagemig_report rep;
	long ret;

	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 64, pages, nodes, status, NULL, &rep);
	assert_int_equal(ret, 0);
	assert_all_on(64, 1);
	assert_int_equal(rep.pages, 64);
	assert_int_equal(rep.pages_on_target, 64);
	assert_int_equal(rep.pages_moved, 64);
	assert_int_equal(rep.bytes_moved, 64 * 4096);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_MOVED], 64);
	assert_int_equal(rep.calls, 1);
	assert_int_equal(rep.query_calls, 1); /* verification */
	assert_int_equal(rep.retries, 0);
	assert_int_equal(fk.move_calls, 1);
}

static void test_count_zero_and_bad_args(void **state)
{
	struct pagemig_opts o = opts_with(0);

	assert_int_equal(pagemig_move(0, 0, NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(pagemig_move(0, 4, NULL, nodes, status, NULL, NULL), -EINVAL);
	o.flags = 1u << 30;
	assert_int_equal(pagemig_move(0, 4, pages, nodes, status, &o, NULL), -EINVAL);
	assert_int_equal(status[0], -ECANCELED);
	o = opts_with(0);
	o.sz = 4;
	assert_int_equal(pagemig_move(0, 4, pages, nodes, status, &o, NULL), -EINVAL);
	assert_int_equal(fk.move_calls, 0);
}

/* A positive return leaves the failed batch and the rest unwritten; the sentinel finds them,
 * verification tells which really moved, and only the pinned page is retried. */
static void test_positive_return_unwritten_tail(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;
	char buf[256];
	long ret;

	nodes[40] = 0; /* a second batch that the walk never reaches */
	for (int i = 41; i < 64; i++)
		nodes[i] = 0;
	for (int i = 32; i < 64; i++)
		fk.page[i].node = 1;
	fk.page[5].pinned = 1;
	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 64, pages, nodes, status, &o, &rep);
	assert_int_equal(ret, 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(status[i], nodes[i]);
	assert_int_equal(rep.positive_returns, 1);
	/* grouped by node, the node-1 batch is entries 0..31; entry 32 is already there and
	 * flushes it; the failed batch and the 7 entries after 32 stay unwritten */
	assert_int_equal(rep.unwritten, 39);
	assert_int_equal(rep.first_by_step[PAGEMIG_STEP_B1_B7], 1);
	assert_int_equal(rep.retries, 1);
	assert_int_equal(details[5].first.step, PAGEMIG_STEP_B1_B7);
	assert_int_equal(details[5].retries, 1);
	assert_true(details[5].final.success);
	assert_int_equal(details[6].retries, 0);
	pagemig_explain(buf, sizeof(buf), &details[5].first, details[5].retries, status[5], 1);
	assert_non_null(strstr(buf, "backed out at step B1-B7"));
	assert_non_null(strstr(buf, "retried 1\u00d7; moved"));
}

static void test_pinned_gives_up(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;
	long ret;

	fk.page[7].pinned = 1000;
	o.max_retries = 2;
	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 64, pages, nodes, status, &o, &rep);
	assert_int_equal(ret, 1);
	assert_int_equal(status[7], -EAGAIN);
	assert_int_equal(fk.page[7].node, 0);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_MIGRATE_FAILED], 1);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_MOVED], 63);
	assert_int_equal(details[7].retries, 2);
	assert_int_equal(rep.retries, 2);
	assert_int_equal(rep.by_step[PAGEMIG_STEP_B1_B7], 3);
	/* backoff doubles: 200 us then 400 us */
	assert_int_equal(fk.sleeps, 2);
	assert_int_equal(fk.slept_us, 600);
}

static void test_busy_then_moved(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;

	fk.page[3].busy = 2;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, &rep), 0);
	assert_all_on(64, 1);
	assert_int_equal(details[3].first.outcome, PAGEMIG_OUT_BUSY);
	assert_int_equal(details[3].first.step, PAGEMIG_STEP_A1_ISOLATE);
	assert_int_equal(details[3].retries, 2);
	assert_int_equal(rep.by_step[PAGEMIG_STEP_A1_ISOLATE], 2);
	assert_int_equal(rep.first_by_step[PAGEMIG_STEP_A1_ISOLATE], 1);
}

static void test_permanent_lookup_errors(void **state)
{
	struct pagemig_report rep;
	long ret;

	fk.page[1].present = false;
	fk.page[2].mapped = false;
	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 64, pages, nodes, status, NULL, &rep);
	assert_int_equal(ret, 2);
	assert_int_equal(status[1], -ENOENT);
	assert_int_equal(status[2], -EFAULT);
	assert_int_equal(rep.retries, 0);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_NOT_PRESENT], 1);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_NOT_MAPPED], 1);
	assert_int_equal(rep.by_step[PAGEMIG_STEP_PRE], 2);
}

static void test_shared_needs_move_all(void **state)
{
	struct pagemig_opts o = opts_with(0);

	fk.page[9].shared = true;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, NULL), 1);
	assert_int_equal(status[9], -EACCES);
	assert_int_equal(details[9].retries, 0);
	o.flags = PAGEMIG_MOVE_ALL;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, NULL), 0);
	assert_int_equal(status[9], 1);
}

/* Raw move_pages answers -EBUSY for later entries of a huge folio that moved with its first
 * entry; verification turns that into success. */
static void test_thp_busy_but_moved(void **state)
{
	struct pagemig_opts o = opts_with(PAGEMIG_NO_FOLIO_DEDUP);
	struct pagemig_report rep;

	fk_init(&fk, 1024, 2);
	fk_folio(&fk, 0, 512, 1);
	fk_folio(&fk, 512, 512, 2);
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1024, pages, nodes, status, &o, &rep), 0);
	assert_all_on(1024, 1);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_MOVED_FOLIO], 2);
	assert_int_equal(details[1].first.outcome, PAGEMIG_OUT_MOVED_FOLIO);
	assert_int_equal(rep.retries, 0);
	assert_int_equal(rep.entries_sent, 1024);
}

/* Kernels up to about 6.6 answer -EACCES for a hugetlb page's later addresses: the page is on
 * target, and the library must not call it shared. */
static void test_hugetlb_tail_eacces(void **state)
{
	struct pagemig_opts o = opts_with(PAGEMIG_NO_FOLIO_DEDUP);
	struct pagemig_report rep;

	fk_init(&fk, 512, 2);
	fk_folio(&fk, 0, 512, 1);
	fk.tail_eacces = true;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 512, pages, nodes, status, &o, &rep), 0);
	assert_all_on(512, 1);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_SHARED], 0);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_MOVED_FOLIO], 1);
	assert_int_equal(details[1].first.step, PAGEMIG_STEP_PRE);
}

static void test_thp_dedup(void **state)
{
	struct pagemig_report rep;

	fk_init(&fk, 1024, 2);
	fk_folio(&fk, 0, 512, 1);
	fk_folio(&fk, 512, 512, 2);
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1024, pages, nodes, status, NULL, &rep), 0);
	assert_all_on(1024, 1);
	assert_int_equal(rep.entries_sent, 2);
	assert_int_equal(fk.entries, 2);
	assert_int_equal(rep.folios_deduped, 1022);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_MOVED], 1024);

	/* without privilege to read PFNs every page is sent, and it still ends right */
	fk_init(&fk, 1024, 2);
	fk_folio(&fk, 0, 512, 1);
	fk.pmd_visible = false;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1024, pages, nodes, status, NULL, &rep), 0);
	assert_all_on(1024, 1);
	assert_int_equal(rep.entries_sent, 1024);
}

/* The pages that rode along with their folio are checked at the end of the pass with the others:
 * one that is not where its folio went (the folio was split on the way) is found and retried. */
static void test_thp_followers_checked(void **state)
{
	struct pagemig_report rep;

	fk_init(&fk, 1024, 2);
	fk_folio(&fk, 0, 512, 1);
	fk_folio(&fk, 512, 512, 2);
	fk.frames_visible = true;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1024, pages, nodes, status, NULL, &rep), 0);
	assert_all_on(1024, 1);
	assert_int_equal(rep.frames_verified, 1024);
	assert_int_equal(fk.query_calls, 0);

	fk_init(&fk, 1024, 2);
	fk_folio(&fk, 0, 512, 1);
	fk.page[7].drift_to = 0; /* a tail left behind */
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1024, pages, nodes, status, NULL, &rep), 0);
	assert_all_on(1024, 1);
	assert_int_equal(rep.verify_mismatches, 1);
	assert_int_equal(rep.retries, 1);
}

/* A huge folio whose pages are asked onto two nodes goes where most of them asked; the others
 * are reported off target, without moving the folio back and forth. */
static void test_thp_mixed_targets(void **state)
{
	struct pagemig_report rep;
	long ret;

	fk_init(&fk, 512, 3);
	fk_folio(&fk, 0, 512, 1);
	for (int i = 0; i < 512; i++)
		nodes[i] = i < 300 ? 1 : 2;
	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 512, pages, nodes, status, NULL, &rep);
	assert_int_equal(ret, 212);
	for (int i = 0; i < 512; i++) {
		assert_int_equal(fk.page[i].node, 1);
		assert_int_equal(status[i], i < 300 ? 1 : -ENOTRECOVERABLE);
	}
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_FOLIO_MIXED], 212);
	/* library defaults: 64 pages first, then at most 4x as many */
	assert_int_equal(fk.move_calls, 2);
	assert_int_equal(fk.sizes[0], 64);

	/* unprivileged: the library cannot see the folio; it still reports honestly */
	fk_init(&fk, 512, 3);
	fk_folio(&fk, 0, 512, 1);
	fk.pmd_visible = false;
	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 512, pages, nodes, status, NULL, &rep);
	for (int i = 0, off = 0; i < 512; i++) {
		if (status[i] != nodes[i]) {
			off++;
			assert_int_equal(status[i], -ENOTRECOVERABLE);
		}
		assert_int_equal(ret, i == 511 ? off : ret);
		if (status[i] == nodes[i])
			assert_int_equal(fk.page[i].node, nodes[i]);
	}
	assert_true(ret >= 212);
}

static void test_enomem_part_way(void **state)
{
	struct pagemig_report rep;
	long ret;

	fk.capacity[1] = 10;
	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 32, pages, nodes, status, NULL, &rep);
	assert_int_equal(ret, 22);
	for (int i = 0; i < 32; i++) {
		if (i < 10)
			assert_int_equal(status[i], 1);
		else
			assert_int_equal(status[i], -ENOMEM);
		assert_int_equal(fk.page[i].node, i < 10 ? 1 : 0);
	}
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_NO_MEMORY], 22);
	assert_int_equal(rep.first_by_step[PAGEMIG_STEP_A2_ALLOC], 22);
	assert_int_equal(rep.retries, 0);
}

/* Another node's batch is not blamed for the node that ran out of memory. */
static void test_enomem_other_node_continues(void **state)
{
	long ret;

	fk_init(&fk, 64, 3);
	fk.capacity[1] = 0;
	for (int i = 0; i < 64; i++)
		nodes[i] = i < 16 ? 1 : 2;
	ret = pagemig_move(PID, 64, pages, nodes, status, NULL, NULL);
	assert_int_equal(ret, 16);
	for (int i = 0; i < 64; i++)
		assert_int_equal(status[i], i < 16 ? -ENOMEM : 2);
}

static void test_esrch_part_way(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;
	long ret;

	o.pages_per_call = 16;
	fk.exit_after_calls = 1;
	pagemig_report_init(&rep);
	ret = pagemig_move(PID, 64, pages, nodes, status, &o, &rep);
	assert_int_equal(ret, -ESRCH);
	for (int i = 0; i < 64; i++)
		assert_int_equal(status[i], i < 16 ? 1 : -ECANCELED);
	assert_int_equal(rep.call_error, -ESRCH);
	assert_false(rep.pid_reused);
	assert_int_equal(rep.pages_on_target, 16);
}

static void test_pid_reused_is_refused(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;

	o.pages_per_call = 16;
	fk.exit_after_calls = 2;
	fk.reused = true;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, &rep), -ESRCH);
	assert_true(rep.pid_reused);
	/* the guard stopped it before a call reached the new process */
	assert_int_equal(fk.move_calls, 3);
	assert_int_equal(status[40], -ECANCELED);

	fk_init(&fk, 64, 2);
	fk.alive = false;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, NULL, NULL), -ESRCH);
	assert_int_equal(fk.move_calls, 0);
}

static void test_enodev_whole_call(void **state)
{
	/* a node the kernel refuses: what ran before stands, the rest is not attempted */
	nodes[20] = 7;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, NULL, NULL), -ENODEV);
	assert_int_equal(status[20], -ECANCELED);
	assert_int_equal(status[63], 1);

	/* a node no kernel accepts is refused before any call */
	fk_init(&fk, 64, 2);
	nodes[20] = -1;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, NULL, NULL), -ENODEV);
	assert_int_equal(status[0], -ECANCELED);
	assert_int_equal(fk.move_calls, 0);
}

static void test_chunking(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;

	fk_init(&fk, 1000, 2);
	o.pages_per_call = 100;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1000, pages, nodes, status, &o, &rep), 0);
	assert_int_equal(fk.max_entries, 100);
	assert_int_equal(rep.calls, 10);
	assert_int_equal(fk.move_calls, 10);
}

static void test_latency_budget(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;

	fk_init(&fk, 2000, 2);
	fk.ns_per_entry = 1000; /* 1 us per page */
	o.pages_per_call = 1024;
	o.call_budget_us = 100;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 2000, pages, nodes, status, &o, &rep), 0);
	assert_all_on(2000, 1);
	/* the first call is full size, then chunks fit 100 us at 1 us per page */
	assert_int_equal(fk.max_entries, 1024);
	assert_true(rep.calls >= 1 + (2000 - 1024) / 100);
}

/* A large fixed cost per call must not shrink chunks without end: they settle where fixed
 * cost plus entries fit the budget. */
static void test_latency_budget_fixed_cost(void **state)
{
	struct pagemig_opts o = opts_with(0);

	fk_init(&fk, 4000, 2);
	fk.ns_per_call = 2000000; /* 2 ms per call */
	fk.ns_per_entry = 10000;  /* 10 us per page */
	o.call_budget_us = 5000;
	assert_int_equal(pagemig_move(PID, 4000, pages, nodes, status, &o, NULL), 0);
	/* (5 ms - 2 ms) / 10 us = 300, from the fifth call on */
	for (int c = 4; c < 10; c++)
		assert_true(fk.sizes[c] >= 280 && fk.sizes[c] <= 320);

	/* fixed cost above half the budget: chunks sized for half the budget on top of it */
	fk_init(&fk, 4000, 2);
	fk.ns_per_call = 8000000;
	fk.ns_per_entry = 10000;
	assert_int_equal(pagemig_move(PID, 4000, pages, nodes, status, &o, NULL), 0);
	/* (5 ms - 2.5 ms) / 10 us = 250 */
	for (int c = 4; c < 10; c++)
		assert_true(fk.sizes[c] >= 230 && fk.sizes[c] <= 270);
}

static void test_eintr_retried(void **state)
{
	fk.eintr_calls = 2;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, NULL, NULL), 0);
	assert_all_on(64, 1);
}

static void test_grouped_by_node(void **state)
{
	fk_init(&fk, 64, 3);
	for (int i = 0; i < 64; i++)
		nodes[i] = 1 + i % 2;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, NULL, NULL), 0);
	for (int i = 0; i < 64; i++)
		assert_int_equal(fk.page[i].node, 1 + i % 2);
	assert_int_equal(fk.flushes, 2);
	assert_int_equal(fk.move_calls, 1);
}

static void test_verify_mismatch(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;

	fk.page[3].drift_to = 0;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, &rep), 0);
	assert_all_on(64, 1);
	assert_int_equal(rep.verify_mismatches, 1);
	assert_int_equal(details[3].first.outcome, PAGEMIG_OUT_WRONG_NODE);
	assert_int_equal(details[3].first.step, PAGEMIG_STEP_VERIFY);

	/* without verification the kernel's word is taken */
	fk_init(&fk, 64, 2);
	fk.page[3].drift_to = 0;
	o.flags = PAGEMIG_NO_VERIFY;
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, NULL), 0);
	assert_int_equal(fk.page[3].node, 0);
	assert_int_equal(fk.query_calls, 0);
}

static void test_prequery(void **state)
{
	struct pagemig_opts o = opts_with(PAGEMIG_PREQUERY);
	struct pagemig_report rep;

	for (int i = 0; i < 32; i++)
		fk.page[i].node = 1;
	fk.page[40].present = false;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, &rep), 1);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_ALREADY], 32);
	assert_int_equal(rep.pages_moved, 31);
	assert_int_equal(rep.entries_sent, 31);
	assert_int_equal(status[40], -ENOENT);
}

static void test_pacing(void **state)
{
	struct pagemig_opts o = opts_with(0);

	o.pages_per_call = 16;
	o.rate_bytes_per_s = 16 * 4096 * 10; /* ten chunks a second */
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, NULL), 0);
	/* four chunks at 100 ms each: the fake clock slept about 400 ms */
	assert_true(fk.slept_us > 350000 && fk.slept_us <= 400000);
}

/* Small requests queue up and go out together once batch_pages pages are queued. */
static void test_batch_coalesces(void **state)
{
	struct pagemig_opts o = {.sz = sizeof(o), .batch_pages = 48};
	struct pagemig_report rep;
	struct pagemig_batch *b;

	fk_init(&fk, 100, 3);
	b = pagemig_batch_new(PID, &o);
	assert_non_null(b);
	for (size_t i = 0; i < 100; i += 4)
		assert_int_equal(pagemig_batch_add(b, pages + i, 4, 1 + (i / 4) % 2), 0);
	/* two automatic sends of 48 pages, 4 left queued */
	assert_int_equal(fk.move_calls, 2);
	assert_int_equal(pagemig_batch_pending(b), 4);
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_batch_flush(b, &rep), 0);
	assert_int_equal(pagemig_batch_pending(b), 0);
	assert_int_equal(fk.move_calls, 3);
	assert_int_equal(rep.pages, 100);
	assert_int_equal(rep.pages_on_target, 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(fk.page[i].node, 1 + (i / 4) % 2);
	/* the account starts over after a flush */
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_batch_flush(b, &rep), 0);
	assert_int_equal(rep.pages, 0);
	pagemig_batch_free(b);
	pagemig_batch_free(NULL);
}

/* Pages off target after an automatic send are counted by the next flush. */
static void test_batch_counts_off_target(void **state)
{
	struct pagemig_opts o = {.sz = sizeof(o), .batch_pages = 8, .max_retries = 1};
	struct pagemig_report rep;
	struct pagemig_batch *b;

	fk_init(&fk, 16, 2);
	fk.page[2].present = false;
	fk.page[9].pinned = 100;
	b = pagemig_batch_new(PID, &o);
	assert_non_null(b);
	assert_int_equal(pagemig_batch_add(b, pages, 8, 1), 0);
	assert_int_equal(pagemig_batch_add(b, pages + 8, 8, 1), 0);
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_batch_flush(b, &rep), 2);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_NOT_PRESENT], 1);
	assert_int_equal(rep.by_outcome[PAGEMIG_OUT_MIGRATE_FAILED], 1);
	assert_int_equal(rep.pages_on_target, 14);
	pagemig_batch_free(b);
}

/* Bad arguments, and a process that exits: the batch refuses from then on. */
static void test_batch_errors(void **state)
{
	struct pagemig_opts bad = {.sz = sizeof(bad), .flags = 1u << 30};
	struct pagemig_opts o = {.sz = sizeof(o), .batch_pages = 4};
	struct pagemig_batch *b;

	fk_init(&fk, 16, 2);
	errno = 0;
	assert_null(pagemig_batch_new(PID, &bad));
	assert_int_equal(errno, EINVAL);
	b = pagemig_batch_new(PID, &o);
	assert_non_null(b);
	assert_int_equal(pagemig_batch_add(b, pages, 1, -1), -ENODEV);
	assert_int_equal(pagemig_batch_add(b, NULL, 1, 1), -EINVAL);
	assert_int_equal(pagemig_batch_add(NULL, pages, 1, 1), -EINVAL);
	assert_int_equal(pagemig_batch_add(b, pages, 0, 1), 0);
	fk.exit_after_calls = 1;
	assert_int_equal(pagemig_batch_add(b, pages, 4, 1), 0);
	assert_int_equal(pagemig_batch_add(b, pages + 4, 4, 1), -ESRCH);
	assert_int_equal(pagemig_batch_add(b, pages + 8, 1, 1), -ESRCH);
	assert_int_equal(pagemig_batch_flush(b, NULL), -ESRCH);
	pagemig_batch_free(b);
	assert_int_equal(pagemig_batch_flush(NULL, NULL), -EINVAL);
}

/* A fake process of n huge folios, all on node 0. */
static void init_folios(int n)
{
	fk_init(&fk, (size_t)n * 512, 2);
	for (int f = 0; f < n; f++)
		fk_folio(&fk, (size_t)f * 512, 512, f + 1);
}

/* The budget counts pages (a dedup'd huge folio entry counts 512), pages_per_call entries; the
 * first call of an operation with the library's pages_per_call sends 64 pages, growing from
 * there. */
static void test_budget_counts_pages(void **state)
{
	struct pagemig_opts o = {.sz = sizeof(o)};
	struct pagemig_report rep;

	init_folios(4);
	fk.ns_per_entry = 20000; /* the model charges per entry; a folio entry costs 20 us */
	o.pages_per_call = 1024;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 2048, pages, nodes, status, &o, &rep), 0);
	assert_all_on(2048, 1);
	/* with a budget the first call carries at most 1024 pages: two folio entries */
	assert_int_equal(fk.sizes[0], 2);
	assert_int_equal(rep.folios_deduped, 2044);

	/* no budget: pages_per_call entries a call, whatever they stand for */
	o.call_budget_us = UINT_MAX;
	o.pages_per_call = 3;
	init_folios(4);
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 2048, pages, nodes, status, &o, &rep), 0);
	assert_all_on(2048, 1);
	assert_int_equal(fk.move_calls, 2);
	assert_int_equal(fk.sizes[0], 3);
	assert_int_equal(fk.sizes[1], 1);

	/* with a budget, later calls carry as many folios as fit into it: 3 ms a folio and the
	 * default 10 ms make three, more than pages_per_call's 1024 pages */
	o.call_budget_us = 0;
	o.pages_per_call = 1024;
	init_folios(8);
	fk.ns_per_entry = 3000000;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 8 * 512, pages, nodes, status, &o, &rep), 0);
	assert_all_on(8 * 512, 1);
	assert_int_equal(fk.move_calls, 3);
	assert_int_equal(fk.sizes[0], 2);
	assert_int_equal(fk.sizes[1], 3);
	assert_int_equal(fk.sizes[2], 3);
	assert_true(rep.max_call_ns <= 10000000u);

	/* defaults: 64 pages first, then at most 4x the previous call */
	fk_init(&fk, 4000, 2);
	fk.ns_per_entry = 10000; /* 10 us per page: 10 ms fit 1000 pages */
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 4000, pages, nodes, status, NULL, &rep), 0);
	assert_int_equal(fk.sizes[0], 64);
	assert_true(fk.sizes[1] > 64 && fk.sizes[1] <= 256);
	assert_true(fk.sizes[2] <= 4 * fk.sizes[1]);
	assert_true(rep.max_call_ns <= 10000000u);
	assert_true(pagemig_report_call_us(&rep, 0.99) > 0);
	assert_true(pagemig_report_call_us(&rep, 0.5) <= pagemig_report_call_us(&rep, 0.99));
}

/* PAGEMIG_VERIFY_ALL asks after every call; the default asks once per pass. */
static void test_verify_once_per_pass(void **state)
{
	struct pagemig_opts o = opts_with(0);

	fk_init(&fk, 1000, 2);
	o.pages_per_call = 100;
	assert_int_equal(pagemig_move(PID, 1000, pages, nodes, status, &o, NULL), 0);
	assert_int_equal(fk.move_calls, 10);
	assert_int_equal(fk.query_calls, 1);

	fk_init(&fk, 1000, 2);
	o.flags = PAGEMIG_VERIFY_ALL;
	assert_int_equal(pagemig_move(PID, 1000, pages, nodes, status, &o, NULL), 0);
	assert_int_equal(fk.query_calls, 10);
}

/* With frame numbers visible, pages the move calls put on target are confirmed without a query;
 * a page whose frame is elsewhere is asked about, and only the query's answer counts. */
static void test_verify_by_frames(void **state)
{
	struct pagemig_opts o = opts_with(0);
	struct pagemig_report rep;

	fk_init(&fk, 1000, 2);
	fk.frames_visible = true;
	fk.page[3].drift_to = 0;
	o.pages_per_call = 100;
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1000, pages, nodes, status, &o, &rep), 0);
	assert_all_on(1000, 1);
	assert_int_equal(rep.frames_verified, 999);
	/* the drifted page only: after the move, and after its retry (one page is no run) */
	assert_int_equal(fk.query_calls, 2);
	assert_int_equal(fk.query_entries, 2);
	assert_int_equal(rep.verify_mismatches, 1);
	assert_int_equal(details[3].first.outcome, PAGEMIG_OUT_WRONG_NODE);

	/* scattered pages (no two consecutive): one query beats a read per page */
	fk_init(&fk, 1000, 2);
	fk.frames_visible = true;
	for (int i = 0; i < 500; i++)
		pages[i] = fk_addr((size_t)i * 2);
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 500, pages, nodes, status, &o, &rep), 0);
	assert_int_equal(rep.frames_verified, 0);
	assert_int_equal(fk.frame_reads, 0);
	assert_int_equal(fk.query_calls, 1);
	assert_int_equal(fk.query_entries, 500);

	/* frames not visible (no privilege): the query, as before */
	fk_init(&fk, 1000, 2);
	for (int i = 0; i < 1000; i++)
		pages[i] = fk_addr((size_t)i);
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 1000, pages, nodes, status, &o, &rep), 0);
	assert_int_equal(rep.frames_verified, 0);
	assert_int_equal(fk.query_entries, 1000);
}

/* Frame numbers to nodes: spans of blocks, a block of two nodes answers nothing. */
static void test_frame_map(void **state)
{
	static const uint64_t rows[][3] = {
		{0, 8, 0}, {8, 8, 1}, {16, 1, 1}, {16, 1, 2}, {17, 4, 2}, {40, 2, 0},
	};
	struct pagemig_frame_map *m = pagemig__frame_map_from(rows, 6, 100);
	size_t hint = 0;

	assert_non_null(m);
	assert_int_equal(pagemig__frame_node(m, 0, &hint), 0);
	assert_int_equal(pagemig__frame_node(m, 799, &hint), 0);
	assert_int_equal(pagemig__frame_node(m, 800, &hint), 1);
	assert_int_equal(pagemig__frame_node(m, 1599, &hint), 1);
	assert_int_equal(pagemig__frame_node(m, 1600, &hint), -1); /* block 16: nodes 1 and 2 */
	assert_int_equal(pagemig__frame_node(m, 1700, &hint), 2);
	assert_int_equal(pagemig__frame_node(m, 2099, &hint), 2);
	assert_int_equal(pagemig__frame_node(m, 2100, &hint), -ENOENT); /* a hole */
	assert_int_equal(pagemig__frame_node(m, 4000, &hint), 0);
	assert_int_equal(pagemig__frame_node(m, 4199, &hint), 0);
	assert_int_equal(pagemig__frame_node(m, 4200, &hint), -ENOENT);
	assert_int_equal(pagemig__frame_node(m, 4000, &hint), 0); /* the hint's span */
	pagemig__frame_map_put(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_zero_and_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_positive_return_unwritten_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pinned_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_then_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_lookup_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_needs_move_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thp_busy_but_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugetlb_tail_eacces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thp_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thp_followers_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thp_mixed_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_part_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_other_node_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_esrch_part_way, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_reused_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enodev_whole_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_budget_fixed_cost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eintr_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grouped_by_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prequery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_coalesces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_counts_off_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_counts_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_once_per_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_by_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_map, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
