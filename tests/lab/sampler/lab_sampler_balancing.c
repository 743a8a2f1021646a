// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab, kernel NUMA balancing on: the sampler observes balancing without taking part.
 *
 * A thread bound to cpu 1 (node 1) keeps using a buffer whose pages were placed on node 0. The
 * kernel's scanner makes the pages fault again (NUMA hinting faults), and moves them to node 1.
 * The sampler must report the numa_hint source active, see repeated fault samples on pages it
 * saw first-touched (hinting faults: nothing else re-arms them here), and count the kernel's
 * moves under their own reason, numa_misplaced, not syscall.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "lab_sampler.h"

#define N	 8192 /* 32 MiB */
#define DEADLINE 60.0 /* seconds to wait for the kernel to move pages */

static volatile bool stop;
static char *buf;
static volatile bool placed;

static void *use(void *arg)
{
	(void)arg;
	if (lab_pin(1))
		return NULL;
	buf = lab_fresh_on(N, 0);
	lab_touch(buf, N, 1);
	lab_unbind(buf, N);
	placed = true;
	for (char v = 2; !stop; v++)
		lab_touch(buf, N, v);
	return NULL;
}

static void test_balancing(void)
{
	struct pagemig_sampler *s =
		lab_sampler(PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_NUMA_HINT) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT),
			    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_NUMA_HINT) |
				    PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT));
	const struct pagemig_snapshot *snap = NULL;
	uint64_t first_touch = 0, hint_samples = 0, hint_node1 = 0;
	double t0 = lab_now();
	pthread_t t;
	size_t local = 0;

	CHECK_EQ(pagemig_sampler_manage(s, getpid()), 0);
	CHECK_EQ(pthread_create(&t, NULL, use, NULL), 0);
	while (!placed)
		usleep(10000);
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	for (size_t i = 0; i < snap->n_pages; i++)
		if (snap->pages[i].page >= (uintptr_t)buf &&
		    snap->pages[i].page < (uintptr_t)buf + N * LAB_PAGE)
			first_touch += snap->pages[i].events;

	/* Later intervals: every fault on the buffer is a hinting fault. */
	while (lab_now() - t0 < DEADLINE) {
		sleep(1);
		CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
		for (size_t i = 0; i < snap->n_pages; i++) {
			const struct pagemig_page_score *p = &snap->pages[i];

			if (p->page < (uintptr_t)buf || p->page >= (uintptr_t)buf + N * LAB_PAGE)
				continue;
			hint_samples += p->events;
			if (p->node == 1)
				hint_node1 += p->events;
		}
		local = lab_on_node(buf, N, 1);
		if (local >= N / 2 &&
		    snap->migrations_total[PAGEMIG_MR_NUMA_MISPLACED].succeeded >= N / 2)
			break;
	}
	stop = true;
	pthread_join(t, NULL);

	printf("%s - after %.0f s: %zu of %d pages moved to node 1 by the kernel; migrations by "
	       "reason: numa_misplaced %llu pages, syscall %llu\n",
	       local >= N / 2 ? "ok" : "not ok", lab_now() - t0, local, N,
	       (unsigned long long)snap->migrations_total[PAGEMIG_MR_NUMA_MISPLACED].succeeded,
	       (unsigned long long)snap->migrations_total[PAGEMIG_MR_SYSCALL].succeeded);
	printf("%s - fault samples on the buffer: %llu at first touch, then %llu hinting faults "
	       "(%llu from node 1); numa_hint source: %s\n",
	       hint_samples > 0 ? "ok" : "not ok", (unsigned long long)first_touch,
	       (unsigned long long)hint_samples, (unsigned long long)hint_node1,
	       pagemig_source_state_name(
		       pagemig_sampler_sources(s)[PAGEMIG_SOURCE_NUMA_HINT].state));
	CHECK(snap->numa_balancing);
	CHECK(first_touch >= N); /* a hinting fault may come before the first drain */
	CHECK(local >= N / 2);
	CHECK(snap->migrations_total[PAGEMIG_MR_NUMA_MISPLACED].succeeded >= local / 2);
	CHECK_EQ(snap->migrations_total[PAGEMIG_MR_SYSCALL].succeeded, 0);
	CHECK(hint_samples > 0);
	CHECK_EQ(hint_node1, hint_samples);
	pagemig_sampler_free(s);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_balancing)};
	FILE *f = fopen("/proc/sys/kernel/numa_balancing", "re");
	int nb = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lab_need_nodes(2);
	if (!f || fscanf(f, "%d", &nb) != 1 || nb != 1)
		SKIP_ALL("kernel NUMA balancing is not on (the case is declared BALANCING)");
	fclose(f);
	return check_run(tests, 1);
}
