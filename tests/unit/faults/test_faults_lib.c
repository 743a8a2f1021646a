// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libpagemig under injected faults: thousands of random operations against the move_pages(2)
 * replay model with whole calls failing (EINTR, EAGAIN, ENOMEM, EFAULT), the process exiting or
 * its pid being reused part-way, verification queries failing, nodes filling up, pages busy,
 * pinned, shared, huge, absent. Whatever happens, pagemig_move() keeps its contract
 * (pagemig.h):
 *   - it returns the number of pages not on target, or -errno for a failure of the whole call;
 *   - status[i] is nodes[i] only for a page that really is there, otherwise a negative errno;
 *     no sentinel and no other node leaks out;
 *   - once the process has exited, the pid is never asked again (not even when reused);
 *   - the report adds up; the number of kernel calls stays bounded.
 * Each case prints its seed when it fails: TEST_SEED=N reruns only that one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "injector.h"

#define PID 4242

static struct fake_kernel fk;
static struct injector inj;
static void *pages[FK_MAX_PAGES];
static int nodes[FK_MAX_PAGES];
static int status[FK_MAX_PAGES];
static struct pagemig_page_detail details[FK_MAX_PAGES];

static int teardown(void **state)
{
	pagemig__set_sys(NULL);
	return 0;
}

static bool final_errno(int v)
{
	switch (-v) {
	case ENOENT: case EFAULT: case EACCES: case EBUSY: case ENOMEM: case EAGAIN:
	case EXDEV: case ENOTRECOVERABLE: case ECANCELED: case EIO: case EINVAL: case EPERM:
	case ESRCH: case ENODEV: case EINTR:
		return true;
	}
	return false;
}

#define EXPECT(cond, ...)                                                                \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "seed %llu: %s: ", (unsigned long long)seed, #cond); \
			fprintf(stderr, __VA_ARGS__);                                    \
			fputc('\n', stderr);                                             \
			fail();                                                          \
		}                                                                        \
	} while (0)

/* A random machine, process and fault plan; one pagemig_move(); every invariant checked. */
static void one_case(uint64_t seed)
{
	uint64_t r = seed * 2654435761u + 1;
	size_t n = 1 + inj_rand(&r) % 700;
	int nn = 2 + (int)(inj_rand(&r) % 3);
	struct pagemig_opts o = {.sz = sizeof(o), .details = details};
	struct pagemig_report rep;
	unsigned long not_on = 0, sum = 0;
	bool drifted[FK_MAX_PAGES] = {false};
	/* in a huge folio with mixed targets: a later call may move what an earlier one placed,
	 * and a failure of the whole operation (-ENODEV, ...) leaves the earlier answer standing
	 * (pagemig.h: status[] then holds "what was processed before the failure") */
	static bool mixed[FK_MAX_PAGES];
	long ret;

	fk_init(&fk, n, nn);
	for (size_t i = 0; i < n; i++) {
		struct fk_page *p = &fk.page[i];
		unsigned int x = (unsigned int)(inj_rand(&r) % 1000);

		p->node = (int)(inj_rand(&r) % (unsigned)nn);
		p->present = x >= 30;
		p->mapped = x < 10 || x >= 50;
		p->shared = x >= 50 && x < 100;
		p->busy = x >= 100 && x < 200 ? (int)(x % 3) : 0;
		p->pinned = x >= 200 && x < 240 ? (int)(x % 4) : 0;
		if (x >= 240 && x < 255) {
			p->drift_to = (int)(inj_rand(&r) % (unsigned)nn);
			drifted[i] = true;
		}
		nodes[i] = (int)(inj_rand(&r) % (unsigned)nn);
		pages[i] = fk_addr(i);
		status[i] = 12345;
	}
	/* huge folios: aligned runs of 512 pages, whole or with mixed targets */
	memset(mixed, 0, sizeof(mixed));
	for (size_t f = 0; f + 512 <= n; f += 512)
		if (inj_rand(&r) % 3 == 0) {
			fk_folio(&fk, f, 512, (int)(f / 512) + 1);
			for (size_t i = f; i < f + 512; i++) {
				fk.page[i] = (struct fk_page){.present = true, .mapped = true,
							      .node = fk.page[f].node,
							      .folio = (int)(f / 512) + 1,
							      .drift_to = -1};
				drifted[i] = false;
				if (inj_rand(&r) % 4)
					nodes[i] = nodes[f];
			}
			for (size_t i = f; i < f + 512; i++)
				if (nodes[i] != nodes[f])
					for (size_t j = f; j < f + 512; j++)
						mixed[j] = true;
		}
	if (inj_rand(&r) % 2)
		fk.pmd_visible = false;
	for (int k = 0; k < nn; k++)
		fk.capacity[k] = inj_rand(&r) % 3 ? -1 : (long)(inj_rand(&r) % (n + 1));
	if (inj_rand(&r) % 40 == 0)
		nodes[inj_rand(&r) % n] = nn; /* a node that does not exist */

	memset(&inj, 0, sizeof(inj));
	inj.fk = &fk;
	inj.rng = seed ^ 0xabcdef;
	inj.p_eintr = (unsigned int)(inj_rand(&r) % 20);
	inj.p_eagain = (unsigned int)(inj_rand(&r) % 20);
	inj.p_enomem = (unsigned int)(inj_rand(&r) % 10);
	inj.p_efault = inj_rand(&r) % 10 == 0 ? 5 : 0;
	inj.p_query_fail = (unsigned int)(inj_rand(&r) % 15);
	inj.exit_after = inj_rand(&r) % 4 == 0 ? 1 + (int)(inj_rand(&r) % 8) : 0;
	inj.reused = inj_rand(&r) % 2;
	inj_install(&inj);

	o.pages_per_call = 1 + (unsigned int)(inj_rand(&r) % 300);
	o.max_retries = (unsigned int)(inj_rand(&r) % 5);
	o.backoff_us = 1;
	if (inj_rand(&r) % 4 == 0)
		o.flags |= PAGEMIG_MOVE_ALL;
	if (inj_rand(&r) % 5 == 0)
		o.flags |= PAGEMIG_NO_VERIFY;
	if (inj_rand(&r) % 5 == 0)
		o.flags |= PAGEMIG_PREQUERY;

	pagemig_report_init(&rep);
	ret = pagemig_move(PID, n, pages, nodes, status, &o, &rep);
	if (getenv("TEST_VERBOSE")) {
		printf("seed %llu: %zu pages, %d nodes, per call %u, retries %u, flags %#x, "
		       "eintr %u eagain %u enomem %u efault %u query %u, exit after %d%s, pmd %d: "
		       "ret %ld, %d moves, %d queries, %d injected\n",
		       (unsigned long long)seed, n, nn, o.pages_per_call, o.max_retries, o.flags,
		       inj.p_eintr, inj.p_eagain, inj.p_enomem, inj.p_efault, inj.p_query_fail,
		       inj.exit_after, inj.reused ? " (reused)" : "", fk.pmd_visible, ret,
		       inj.moves, inj.queries, inj.injected);
		for (size_t i = 0; i < n && i < 16; i++)
			printf("  page %zu: target %d status %d now on %d folio %d busy %d pinned %d "
			       "shared %d drift %d cap %ld\n",
			       i, nodes[i], status[i], fk.page[i].node, fk.page[i].folio,
			       fk.page[i].busy, fk.page[i].pinned, fk.page[i].shared,
			       fk.page[i].drift_to, fk.capacity[nodes[i] < 8 ? nodes[i] : 0]);
	}

	EXPECT(ret >= -4095, "ret %ld", ret);
	EXPECT(inj.calls_after_exit == 0, "%d move calls after the process exited (reused %d)",
	       inj.calls_after_exit, inj.reused);
	EXPECT(inj.moves + inj.queries < (long)(n * (o.max_retries + 2) * 4 + 200),
	       "%d move and %d query calls for %zu pages", inj.moves, inj.queries, n);
	for (size_t i = 0; i < n; i++) {
		EXPECT(status[i] == nodes[i] || (status[i] < 0 && final_errno(status[i])),
		       "status[%zu] = %d, target %d", i, status[i], nodes[i]);
		if (status[i] != nodes[i])
			not_on++;
		/* a page said to be there is there (unless something moved it since, or nothing
		 * verified: PAGEMIG_NO_VERIFY trusts the kernel's status, which a huge folio with
		 * mixed targets makes wrong, as does a failed verifying query) */
		if (status[i] == nodes[i] && !drifted[i] && !inj.p_query_fail &&
		    !(o.flags & PAGEMIG_NO_VERIFY) && !(ret < 0 && mixed[i]))
			EXPECT(fk.page[i].node == nodes[i] && fk.page[i].present && fk.page[i].mapped,
			       "page %zu said on %d, is on %d (present %d mapped %d)", i,
			       nodes[i], fk.page[i].node, fk.page[i].present, fk.page[i].mapped);
	}
	if (ret >= 0) {
		EXPECT((unsigned long)ret == not_on, "returned %ld, %lu pages not on target", ret,
		       not_on);
		EXPECT(rep.pages == n, "report pages %lu", rep.pages);
		EXPECT(rep.pages_on_target == n - not_on, "report on target %lu of %zu, %lu off",
		       rep.pages_on_target, n, not_on);
		for (int k = 0; k < PAGEMIG_OUT__COUNT; k++)
			sum += rep.by_outcome[k];
		EXPECT(sum == n, "outcomes add up to %lu of %zu", sum, n);
		EXPECT(rep.call_error == 0, "call_error %d with a result", rep.call_error);
	} else {
		EXPECT(rep.call_error == ret, "call_error %d, returned %ld", rep.call_error, ret);
		EXPECT(rep.pages_on_target == n - not_on, "report on target %lu, %lu off",
		       rep.pages_on_target, not_on);
	}
	EXPECT(rep.pages_moved <= rep.pages_on_target, "moved %lu > on target %lu",
	       rep.pages_moved, rep.pages_on_target);
	if (inj.exited && inj.reused && ret == -ESRCH)
		EXPECT(rep.pid_reused, "the reuse of the pid was not reported");
	pagemig__set_sys(NULL);
}

static void test_random_faults(void **state)
{
	const char *only = getenv("TEST_SEED");
	unsigned long runs = getenv("TEST_RUNS") ? strtoul(getenv("TEST_RUNS"), NULL, 10) : 3000;

	if (only) {
		one_case(strtoull(only, NULL, 10));
		return;
	}
	for (uint64_t seed = 1; seed <= runs; seed++)
		one_case(seed);
}

/* A kernel that answers EINTR (or EAGAIN) to every call: the operation ends, nothing is claimed. */
static void test_interrupted_forever(void **state)
{
	int codes[] = {EINTR, EAGAIN};

	for (int c = 0; c < 2; c++) {
		long ret;

		fk_init(&fk, 64, 2);
		memset(&inj, 0, sizeof(inj));
		inj.fk = &fk;
		inj.p_eintr = codes[c] == EINTR ? 100 : 0;
		inj.p_eagain = codes[c] == EAGAIN ? 100 : 0;
		inj_install(&inj);
		for (int i = 0; i < 64; i++) {
			pages[i] = fk_addr(i);
			nodes[i] = 1;
		}
		ret = pagemig_move(PID, 64, pages, nodes, status, NULL, NULL);
		assert_true(ret == 64 || ret == -codes[c]);
		for (int i = 0; i < 64; i++)
			assert_true(status[i] < 0 && final_errno(status[i]));
		assert_true(inj.moves < 64 * 10);
		pagemig__set_sys(NULL);
	}
}

/* Verification impossible (every query fails): the kernel's answers stand, none invented. */
static void test_queries_fail(void **state)
{
	fk_init(&fk, 128, 2);
	memset(&inj, 0, sizeof(inj));
	inj.fk = &fk;
	inj.p_query_fail = 100;
	inj_install(&inj);
	for (int i = 0; i < 128; i++) {
		pages[i] = fk_addr(i);
		nodes[i] = 1;
	}
	fk.page[3].busy = 10;
	fk.page[7].present = false;
	assert_int_equal(pagemig_move(PID, 128, pages, nodes, status, NULL, NULL), 2);
	for (int i = 0; i < 128; i++)
		assert_int_equal(status[i] == 1, fk.page[i].node == 1 && fk.page[i].present);
	pagemig__set_sys(NULL);
}

/* The pid names another process after the first call: nothing more is sent to it. */
static void test_reused_after_first_call(void **state)
{
	struct pagemig_opts o = {.sz = sizeof(o), .pages_per_call = 8};
	struct pagemig_report rep;

	fk_init(&fk, 64, 2);
	memset(&inj, 0, sizeof(inj));
	inj.fk = &fk;
	inj.exit_after = 1;
	inj.reused = true;
	inj_install(&inj);
	for (int i = 0; i < 64; i++) {
		pages[i] = fk_addr(i);
		nodes[i] = 1;
	}
	pagemig_report_init(&rep);
	assert_int_equal(pagemig_move(PID, 64, pages, nodes, status, &o, &rep), -ESRCH);
	assert_int_equal(inj.calls_after_exit, 0);
	assert_true(rep.pid_reused);
	for (int i = 0; i < 64; i++)
		assert_int_equal(status[i], i < 8 ? 1 : -ECANCELED);
	for (int i = 8; i < 64; i++)
		assert_int_equal(fk.page[i].node, 0);
	pagemig__set_sys(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_random_faults, teardown),
		cmocka_unit_test_teardown(test_interrupted_forever, teardown),
		cmocka_unit_test_teardown(test_queries_fail, teardown),
		cmocka_unit_test_teardown(test_reused_after_first_call, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
