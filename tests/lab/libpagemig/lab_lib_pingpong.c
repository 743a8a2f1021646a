// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab case 8: several threads write while the pages ping-pong between nodes for 20 rounds;
 * every write is read back intact and every page ends on its final target.
 *
 * Under TCG on Debian's 6.1 a round can take seconds (three writers and the mover share two
 * emulated CPUs, and each move call waits for every CPU to drain its page lists): after
 * MAX_SECONDS the rounds stop early, but never before MIN_ROUNDS, and the output says so.
 */
#include <time.h>
#include <pthread.h>
#include <stdatomic.h>

#include "labutil.h"

#define THREADS 3
#define BYTES	(8ul << 20)
#define ROUNDS	20
#define MIN_ROUNDS  6
#define MAX_SECONDS 60

static char *buf;
static atomic_bool stop;
static atomic_long errors, writes;

/* Each thread owns a slice: it writes a counter into every word of its slice, then checks them
 * all, over and over. Migration must never lose or mix a write. */
static void *writer(void *arg)
{
	long t = (long)arg;
	uint64_t *w = (uint64_t *)(buf + t * (BYTES / THREADS));
	size_t n = BYTES / THREADS / 8;

	for (uint64_t gen = 1; !atomic_load(&stop); gen++) {
		for (size_t i = 0; i < n; i += 64)
			w[i] = gen << 8 | (uint64_t)t;
		for (size_t i = 0; i < n; i += 64)
			if (w[i] != (gen << 8 | (uint64_t)t))
				atomic_fetch_add(&errors, 1);
		atomic_fetch_add(&writes, 1);
	}
	return NULL;
}

static void test_pingpong(void)
{
	int nnodes = numa_num_configured_nodes();
	size_t n = BYTES / ps;
	void **pages;
	int *nodes = malloc(n * sizeof(int)), *st = malloc(n * sizeof(int));
	pthread_t th[THREADS];
	unsigned long retries = 0, moved = 0;
	int last = 0, rounds = 0;
	time_t t0 = time(NULL);

	buf = lab_buffer(BYTES, 0, false, 1);
	pages = lab_pages(buf, BYTES);
	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, writer, (void *)t);
	for (int round = 1; round <= ROUNDS; round++) {
		struct pagemig_report rep;
		long ret;

		if (round > MIN_ROUNDS && time(NULL) - t0 > MAX_SECONDS)
			break;
		rounds = round;

		last = round % nnodes;
		for (size_t i = 0; i < n; i++)
			nodes[i] = last;
		pagemig_report_init(&rep);
		ret = pagemig_move(0, n, pages, nodes, st, NULL, &rep);
		CHECK_EQ(ret, 0);
		retries += rep.retries;
		moved += rep.pages_moved;
	}
	atomic_store(&stop, true);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	printf("  %d rounds%s in %ld s: %lu pages moved, %lu page retries, %ld write passes, "
	       "%ld errors\n",
	       rounds, rounds < ROUNDS ? " (stopped early: slow guest)" : "",
	       (long)(time(NULL) - t0), moved, retries, atomic_load(&writes),
	       atomic_load(&errors));
	CHECK(rounds >= MIN_ROUNDS);
	CHECK_EQ(moved, (unsigned long)rounds * n);
	CHECK_EQ(atomic_load(&errors), 0);
	CHECK(atomic_load(&writes) > 0);
	CHECK_EQ(lab_count_on(0, pages, n, last), n);
	free(pages);
	free(nodes);
	free(st);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_pingpong)};

	lab_need_nodes(2);
	return check_run(tests, 1);
}
