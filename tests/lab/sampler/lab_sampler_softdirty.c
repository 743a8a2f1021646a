// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab: soft-dirty re-arming keeps the fault source seeing writes after the first touch.
 *
 * A managed child writes each of its N pages once per round, for several rounds; the parent
 * drains between rounds (the drain clears the child's soft-dirty bits through clear_refs). Every
 * interval must show all N pages, one write fault each. The first round's faults are first
 * touches: seen, but no accesses (weight 0) while re-arming supplies the accesses; the later
 * rounds' are accesses (weight 1). Control: the same workload under a sampler without
 * re-arming shows the N pages in the first interval only, and there its first touches are
 * what the sampler has, so they weigh 1. Back-off: a process
 * the daemon calls settled is re-armed less and less often, and at once when it is not any more.
 * Early re-arm: a process is re-armed between periods on request, not twice after one drain.
 * Skip: the caller can skip a settled process's due re-arms (rearm_settled).
 * Hold: a held process is not re-armed at all until released. Growth: a process that has just
 * filled pages (born dirty after its last re-arm) is re-armed once it stops filling.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "lab_sampler.h"

#define N      256
#define ROUNDS 4

struct child {
	pid_t pid;
	int go, done;
	uint64_t buf;
};

static void child_loop(int go, int done)
{
	char *p = NULL;
	char b;

	while (read(go, &b, 1) == 1 && b == 'w') {
		uint64_t addr;

		if (!p) {
			p = lab_fresh_on(N, 0);
			lab_unbind(p, N);
		}
		lab_touch(p, N, b);
		addr = (uintptr_t)p;
		if (write(done, &addr, sizeof(addr)) != sizeof(addr))
			_exit(3);
	}
	_exit(0);
}

static void spawn(struct child *c)
{
	int go[2], done[2];

	if (pipe(go) || pipe(done)) {
		perror("pipe");
		exit(1);
	}
	c->pid = fork();
	if (c->pid == 0) {
		close(go[1]);
		close(done[0]);
		child_loop(go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	c->go = go[1];
	c->done = done[0];
}

static void round_trip(struct child *c)
{
	CHECK_EQ(write(c->go, "w", 1), 1);
	CHECK_EQ(read(c->done, &c->buf, sizeof(c->buf)), sizeof(c->buf));
}

static void finish(struct child *c)
{
	int status;

	CHECK_EQ(write(c->go, "q", 1), 1);
	CHECK_EQ(waitpid(c->pid, &status, 0), c->pid);
	close(c->go);
	close(c->done);
}

/* Pages of the child's buffer sampled in the last interval, and how many had one write fault
 * of weight want_weight. */
static size_t sampled(const struct pagemig_snapshot *snap, const struct child *c, size_t *exact,
		      uint64_t want_weight)
{
	size_t n = 0;

	*exact = 0;
	for (size_t i = 0; i < snap->n_pages; i++) {
		const struct pagemig_page_score *p = &snap->pages[i];

		if (p->tgid != (uint32_t)c->pid || p->page < c->buf ||
		    p->page >= c->buf + N * LAB_PAGE || !p->events)
			continue;
		n++;
		*exact += p->events == 1 && p->weight == want_weight;
	}
	return n;
}

static void run(bool rearm)
{
	unsigned int src = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
			   (rearm ? PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_SOFTDIRTY) : 0);
	struct pagemig_sampler *s = lab_sampler(src, src);
	const struct pagemig_snapshot *snap = NULL;
	struct pagemig_sampler_stats st;
	struct child c;

	spawn(&c);
	CHECK_EQ(pagemig_sampler_manage(s, c.pid), 0);
	for (int r = 1; r <= ROUNDS; r++) {
		size_t n, exact;
		bool want_all = rearm || r == 1;

		round_trip(&c);
		CHECK_EQ(pagemig_sampler_drain(s, &snap), 0); /* and re-arms, if it does */
		n = sampled(snap, &c, &exact, rearm && r == 1 ? 0 : 1);
		printf("%s - %s re-arming, round %d: %zu of %d written pages sampled (%zu with "
		       "exactly "
		       "one write fault of weight %d)\n",
		       (want_all ? n == N && exact == N : n == 0) ? "ok" : "not ok",
		       rearm ? "with" : "without", r, n, N, exact, rearm && r == 1 ? 0 : 1);
		if (want_all) {
			CHECK_EQ(n, N);
			CHECK_EQ(exact, N);
		} else {
			CHECK_EQ(n, 0);
		}
	}
	pagemig_sampler_stats(s, &st);
	/* the first round's N first touches, weighed only without re-arming */
	printf("  first touches: %llu not weighed, %llu weighed\n",
	       (unsigned long long)st.not_present[0], (unsigned long long)st.not_present[1]);
	CHECK(st.not_present[!rearm] >= N); /* and the child's own stack, if it grew */
	CHECK_EQ(st.not_present[rearm], 0);
	if (rearm) {
		printf("  soft-dirty clears: %llu done, %llu failed\n",
		       (unsigned long long)st.rearms, (unsigned long long)st.rearm_failed);
		CHECK(st.rearms >= ROUNDS);
		CHECK_EQ(st.rearm_failed, 0);
		CHECK_EQ(pagemig_sampler_rearm(s), 1);
	} else {
		CHECK_EQ(pagemig_sampler_rearm(s), -EOPNOTSUPP);
	}
	finish(&c);
	pagemig_sampler_free(s);
}

/* Soft-dirty clears of the last n drains, one every gap_ms. */
static uint64_t rearms_over(struct pagemig_sampler *s, int n, unsigned int gap_ms)
{
	const struct pagemig_snapshot *snap;
	struct pagemig_sampler_stats st;
	uint64_t before;

	pagemig_sampler_stats(s, &st);
	before = st.rearms;
	for (int i = 0; i < n; i++) {
		usleep(gap_ms * 1000);
		CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	}
	pagemig_sampler_stats(s, &st);
	return st.rearms - before;
}

/* A sampler with the fault and soft-dirty sources, re-arming every rearm_ms; NULL (and a
 * failed check) when it cannot load. */
static struct pagemig_sampler *softdirty_sampler(unsigned int rearm_ms)
{
	struct pagemig_sampler_config c = {
		.sz = sizeof(c),
		.sources = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
			   PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_SOFTDIRTY),
		.ringbuf_bytes = 16u << 20,
		.rearm_ms = rearm_ms,
		.log = lab_log,
	};
	struct pagemig_sampler *s = NULL;

	CHECK_EQ(pagemig_sampler_new(&c, &s), 0);
	return s;
}

static void test_settle_backoff(void)
{
	const struct pagemig_snapshot *snap = NULL;
	struct pagemig_sampler *s = softdirty_sampler(100);
	uint64_t busy, settled;
	size_t n, exact;
	struct child ch;

	if (!s)
		return;
	spawn(&ch);
	CHECK_EQ(pagemig_sampler_manage(s, ch.pid), 0);
	round_trip(&ch);
	CHECK_EQ(pagemig_sampler_settle(s, ch.pid + 100000, true), -ENOENT);

	/* not settled: re-armed at every drain (the drains are further apart than rearm) */
	busy = rearms_over(s, 10, 120);
	/* settled: not again for 8 s or more (SETTLED_FIRST_MS: the 100 ms period doubled to
	 * 12.8 s), then doubling up to a minute: none in 30 drains 120 ms apart */
	CHECK_EQ(pagemig_sampler_settle(s, ch.pid, true), 0);
	settled = rearms_over(s, 30, 120);
	printf("  re-arms: %llu in 10 drains unsettled, %llu in 30 drains settled\n",
	       (unsigned long long)busy, (unsigned long long)settled);
	CHECK(busy >= 9);
	CHECK(settled <= 1);

	/* not settled any more: the next drain re-arms, and the writes after it are seen */
	CHECK_EQ(pagemig_sampler_settle(s, ch.pid, false), 0);
	CHECK_EQ(rearms_over(s, 1, 10), 1);
	/* held: not re-armed, however due, not even early; released: due again */
	CHECK_EQ(pagemig_sampler_hold(s, ch.pid, true), 0);
	CHECK_EQ(rearms_over(s, 5, 120), 0);
	CHECK_EQ(pagemig_sampler_rearm_early(s, ch.pid), 0);
	CHECK_EQ(pagemig_sampler_hold(s, ch.pid + 100000, true), -ENOENT);
	CHECK_EQ(pagemig_sampler_hold(s, ch.pid, false), 0);
	CHECK_EQ(rearms_over(s, 1, 120), 1);
	round_trip(&ch);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	n = sampled(snap, &ch, &exact, 1);
	printf("  after unsettling: %zu of %d written pages sampled\n", n, N);
	CHECK_EQ(n, N);
	finish(&ch);
	pagemig_sampler_free(s);
}

/* What the sampler's rearm_settled callback answers, and whom it was asked about. */
static bool skip_answer;
static unsigned int skip_asked, skip_asked_other;
static pid_t skip_pid;

static bool answer_rearm(void *ctx, pid_t tgid)
{
	skip_asked++;
	skip_asked_other += tgid != skip_pid;
	return skip_answer;
}

/*
 * The caller's say over settled re-arms: a process that is not settled is re-armed at every
 * due drain without asking; a settled one is asked about at each due re-arm (its first period
 * made short here), and a no skips the re-arm while its period doubles all the same; a yes
 * re-arms it.
 */
static void test_settle_skip(void)
{
	struct pagemig_sampler_config c = {
		.sz = sizeof(c),
		.sources = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
			   PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_SOFTDIRTY),
		.ringbuf_bytes = 16u << 20,
		.rearm_ms = 100,
		.settled_first_ms = 200,
		.rearm_settled = answer_rearm,
		.log = lab_log,
	};
	struct pagemig_sampler_stats st;
	struct pagemig_sampler *s = NULL;
	uint64_t busy, skipped, said_yes, skips_before;
	unsigned int asked_busy, asked_no;
	struct child ch;

	CHECK_EQ(pagemig_sampler_new(&c, &s), 0);
	if (!s)
		return;
	spawn(&ch);
	skip_pid = ch.pid;
	CHECK_EQ(pagemig_sampler_manage(s, ch.pid), 0);
	round_trip(&ch);

	skip_answer = false;
	busy = rearms_over(s, 5, 120);
	asked_busy = skip_asked;
	CHECK_EQ(pagemig_sampler_settle(s, ch.pid, true), 0);
	skipped = rearms_over(s, 20, 120);
	asked_no = skip_asked - asked_busy;
	pagemig_sampler_stats(s, &st);
	skips_before = st.rearms_skipped;
	skip_answer = true;
	said_yes = rearms_over(s, 20, 120);
	pagemig_sampler_stats(s, &st);
	printf("  unsettled: %llu re-arms in 5 drains, asked %u times; settled, answer no: %llu "
	       "re-arms, asked %u times, %llu skipped; answer yes: %llu re-arms, %llu skipped\n",
	       (unsigned long long)busy, asked_busy, (unsigned long long)skipped, asked_no,
	       (unsigned long long)skips_before, (unsigned long long)said_yes,
	       (unsigned long long)(st.rearms_skipped - skips_before));
	CHECK(busy >= 4);
	CHECK_EQ(asked_busy, 0);
	CHECK_EQ(skipped, 0);
	CHECK(asked_no >= 2);
	CHECK_EQ(skips_before, asked_no);
	CHECK(said_yes >= 1);
	CHECK_EQ(st.rearms_skipped, skips_before);
	CHECK_EQ(skip_asked_other, 0);
	finish(&ch);
	pagemig_sampler_free(s);
}

/*
 * An early re-arm: with a period far longer than the test, a second write is seen only
 * after pagemig_sampler_rearm_early, which does nothing right after a drain re-armed.
 */
static void test_rearm_early(void)
{
	const struct pagemig_snapshot *snap = NULL;
	struct pagemig_sampler *s = softdirty_sampler(3600 * 1000);
	struct pagemig_sampler_stats st;
	size_t n[3], exact;
	struct child ch;

	if (!s)
		return;
	spawn(&ch);
	CHECK_EQ(pagemig_sampler_manage(s, ch.pid), 0);
	round_trip(&ch);				     /* first touches */
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);	     /* re-arms: never re-armed before */
	CHECK_EQ(pagemig_sampler_rearm_early(s, ch.pid), 0); /* it just was */
	CHECK_EQ(pagemig_sampler_rearm_early(s, ch.pid + 100000), -ENOENT);
	round_trip(&ch);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0); /* not due for an hour */
	n[0] = sampled(snap, &ch, &exact, 1);
	round_trip(&ch);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	n[1] = sampled(snap, &ch, &exact, 1);
	CHECK_EQ(pagemig_sampler_rearm_early(s, ch.pid), 1);
	round_trip(&ch);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	n[2] = sampled(snap, &ch, &exact, 1);
	printf("  pages sampled: %zu after the drain's re-arm, %zu without one, %zu after an early "
	       "re-arm (of %d)\n",
	       n[0], n[1], n[2], N);
	CHECK_EQ(n[0], N);
	CHECK_EQ(n[1], 0);
	CHECK_EQ(n[2], N);
	CHECK_EQ(exact, N);
	pagemig_sampler_stats(s, &st);
	CHECK_EQ(st.rearms_early, 1);
	CHECK_EQ(st.rearms, 2);
	finish(&ch);
	pagemig_sampler_free(s);
}

/*
 * Growth: pages first touched after the last re-arm are born soft-dirty, so their writes are not
 * sampled until the next one. With a period far longer than the test, a process that has just
 * filled N pages is re-armed at the first drain that sees no first touch of it (not at the one
 * that does: it may still be filling), its writes after that are seen, and it is not re-armed
 * again while it fills nothing.
 */
static void test_rearm_after_growth(void)
{
	const struct pagemig_snapshot *snap = NULL;
	struct pagemig_sampler *s = softdirty_sampler(3600 * 1000);
	struct pagemig_sampler_stats st;
	uint64_t grown[3];
	size_t n, exact;
	struct child ch;

	if (!s)
		return;
	spawn(&ch);
	CHECK_EQ(pagemig_sampler_manage(s, ch.pid), 0);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0); /* re-arms: never re-armed before */
	round_trip(&ch);			      /* maps and first-touches its N pages */
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0); /* first touches this interval: filling */
	pagemig_sampler_stats(s, &st);
	grown[0] = st.rearms_grown;
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0); /* none since: it is done, re-armed now */
	pagemig_sampler_stats(s, &st);
	grown[1] = st.rearms_grown;
	round_trip(&ch); /* writes every page */
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	n = sampled(snap, &ch, &exact, 1);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	pagemig_sampler_stats(s, &st);
	grown[2] = st.rearms_grown;
	printf("  growth re-arms after filling, after stopping, later: %llu %llu %llu; "
	       "%zu of %d written pages sampled\n",
	       (unsigned long long)grown[0], (unsigned long long)grown[1],
	       (unsigned long long)grown[2], n, N);
	CHECK_EQ(grown[0], 0);
	CHECK_EQ(grown[1], 1);
	CHECK_EQ(grown[2], 1);
	CHECK_EQ(n, N);
	CHECK_EQ(exact, N);
	CHECK_EQ(st.rearms, 2);
	finish(&ch);
	pagemig_sampler_free(s);
}

static void test_rearm(void)
{
	run(true);
}

static void test_no_rearm(void)
{
	run(false);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_rearm), CHECK_TEST(test_no_rearm),
						  CHECK_TEST(test_settle_backoff),
						  CHECK_TEST(test_settle_skip),
						  CHECK_TEST(test_rearm_early),
						  CHECK_TEST(test_rearm_after_growth)};

	setvbuf(stdout, NULL, _IOLBF, 0);
	lab_need_nodes(1);
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
