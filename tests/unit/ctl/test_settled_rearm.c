// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daemon/settled_rearm.c: which due re-arms of a settled process are skipped. The process is
 * this test itself, read from the real /proc/self/numa_maps; its "home" is a node it has no
 * memory on (PAGEMIG_TOPO_MAX_NODES, no real node), so that all of its anonymous memory is off
 * home and memory it maps and touches is memory that turned up off home.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "numa_maps.h"
#include "pagemigd.h"

#define UNKNOWN UINT64_MAX
#define OFF_HOME PAGEMIG_TOPO_MAX_NODES

struct fixture {
	struct pagemigd d;
	struct managed m;
	struct pagemig_policy_rule rule;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->rule.type = PAGEMIG_POLICY_LOCALITY;
	f->d.cfg.rules = &f->rule;
	f->d.cfg.n_rules = 1;
	f->m.pid = getpid();
	f->m.settled_home = OFF_HOME;
	f->m.off_home_settled = UNKNOWN;
	f->d.procs = &f->m;
	f->d.n_procs = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static uint64_t off_home_now(void)
{
	uint64_t pages = 0;

	assert_int_equal(numa_maps_anon_off_node("/proc", getpid(), OFF_HOME, &pages), 0);
	return pages;
}

/* Nothing known: a process not managed, or one whose count was not taken, is re-armed. */
static void test_unknown_rearms(void **state)
{
	struct fixture *f = *state;

	assert_true(pagemigd_rearm_settled(&f->d, getpid()));
	assert_int_equal(f->m.off_home_settled, UNKNOWN);
	f->m.off_home_settled = 0;
	assert_true(pagemigd_rearm_settled(&f->d, getpid() + 1)); /* not managed */
}

/* The count is taken only for a settled locality process (on a clear home, or spread) whose
 * writes are re-armed: without a sampler (no soft-dirty source) it stays unknown. */
static void test_note_needs_rearming(void **state)
{
	struct fixture *f = *state;

	pagemigd_note_settled(&f->d, &f->m, true);
	assert_int_equal(f->m.off_home_settled, UNKNOWN);
	f->m.off_home_settled = 5;
	pagemigd_note_settled(&f->d, &f->m, false); /* no longer settled: forgotten */
	assert_int_equal(f->m.off_home_settled, UNKNOWN);
	f->m.off_home_settled = 5;
	f->m.settled_home = -1; /* settled without a clear home */
	pagemigd_note_settled(&f->d, &f->m, true);
	assert_int_equal(f->m.off_home_settled, UNKNOWN);
}

/*
 * Skipped while no more is off home than when it settled; re-armed once more turned up, which
 * then becomes the count compared with; skipped again once there are fewer.
 */
static void test_grew_rearms(void **state)
{
	struct fixture *f = *state;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), len = 2048 * ps;
	uint64_t before = off_home_now(), after;
	char *buf;

	/* as if 1024 more pages had been off home when it settled (they were freed since) */
	f->m.off_home_settled = before + 1024;
	assert_false(pagemigd_rearm_settled(&f->d, getpid()));
	assert_int_equal(f->m.off_home_settled, before + 1024);

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	madvise(buf, len, MADV_NOHUGEPAGE); /* counted in base pages either way; keeps it exact */
	memset(buf, 1, len);
	assert_true(pagemigd_rearm_settled(&f->d, getpid()));
	after = f->m.off_home_settled;
	assert_true(after != UNKNOWN);
	assert_true(after >= before + 2048);

	/* Not "nothing more since" right away: each reading allocates, and under the sanitizers
	 * freed memory is quarantined, so this process grows by a few pages a call. */
	munmap(buf, len);
	assert_false(pagemigd_rearm_settled(&f->d, getpid())); /* fewer off home */
	assert_int_equal(f->m.off_home_settled, after);
}

/* Settled spread over nodes: all of its anonymous memory counts, wherever it is; re-armed
 * once it has more. */
static void test_spread_counts_all(void **state)
{
	struct fixture *f = *state;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), len = 1024 * ps;
	uint64_t all = off_home_now();
	char *buf;

	f->m.settled_home = PAGEMIGD_PLACE_SPREAD;
	f->m.off_home_settled = all + 512;
	assert_false(pagemigd_rearm_settled(&f->d, getpid()));
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	memset(buf, 1, len);
	assert_true(pagemigd_rearm_settled(&f->d, getpid()));
	assert_true(f->m.off_home_settled >= all + 1024);
	munmap(buf, len);
}

/* A process gone (its numa_maps unreadable): re-armed, and the count forgotten, to be taken
 * again as it settles. */
static void test_gone_forgets(void **state)
{
	struct fixture *f = *state;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	f->m.pid = child;
	f->m.off_home_settled = 7;
	assert_true(pagemigd_rearm_settled(&f->d, child));
	assert_int_equal(f->m.off_home_settled, UNKNOWN);
}

/* every test gets a fresh fixture */
#define WITH_FIXTURE(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WITH_FIXTURE(test_unknown_rearms),    WITH_FIXTURE(test_note_needs_rearming),
		WITH_FIXTURE(test_grew_rearms),	      WITH_FIXTURE(test_spread_counts_all),
		WITH_FIXTURE(test_gone_forgets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
