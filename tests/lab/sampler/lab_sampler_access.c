// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab: the sampler attributes accesses to the node of the CPU that made them, not the node the
 * memory is on, and on-CPU time to the node of the CPU.
 *
 * A thread bound to cpu 1 (node 1) touches N pages placed on node 0; a thread bound to cpu 0
 * (node 0) touches N pages placed on node 1. Each buffer must show exactly N pages, every one
 * accessed from the thread's node, while the kernel confirms the pages lie on the other node.
 * Each thread then burns CPU; the per-node on-CPU time must cover each thread's CPU time on its
 * node, and the memory-only node 2 must have none.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "lab_sampler.h"

#define N	512
#define BUSY_NS 200000000ull

struct worker {
	int cpu;
	int mem_node;
	char *buf;
	uint64_t cpu_ns; /* the thread's CPU time */
	int err;
};

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	volatile uint64_t x = 0;

	w->err = lab_pin(w->cpu);
	if (w->err)
		return NULL;
	w->buf = lab_fresh_on(N, w->mem_node);
	lab_touch(w->buf, N, 1);
	lab_unbind(w->buf, N);
	while (thread_ns() < BUSY_NS)
		for (int i = 0; i < 10000; i++)
			x += (uint64_t)i;
	w->cpu_ns = thread_ns();
	return NULL;
}

static void check_buffer(const struct pagemig_snapshot *snap, const struct worker *w)
{
	size_t pages = 0, from_cpu_node = 0;
	int cpu_node = numa_node_of_cpu(w->cpu);

	for (size_t i = 0; i < snap->n_pages; i++) {
		const struct pagemig_page_score *p = &snap->pages[i];

		if (p->tgid != (uint32_t)getpid() || p->page < (uintptr_t)w->buf ||
		    p->page >= (uintptr_t)w->buf + N * LAB_PAGE)
			continue;
		pages++;
		from_cpu_node +=
			p->node == cpu_node && p->source == PAGEMIG_SAMPLE_FAULT && p->events == 1;
	}
	printf("%s - cpu %d (node %d) touched %d pages placed on node %d: %zu sampled, %zu "
	       "attributed to node %d; %zu of them really on node %d\n",
	       pages == N && from_cpu_node == N ? "ok" : "not ok", w->cpu, cpu_node, N, w->mem_node,
	       pages, from_cpu_node, cpu_node, lab_on_node(w->buf, N, w->mem_node), w->mem_node);
	CHECK_EQ(cpu_node, w->cpu);
	CHECK_EQ(pages, N);
	CHECK_EQ(from_cpu_node, N);
	CHECK_EQ(lab_on_node(w->buf, N, w->mem_node), N);
}

/* CPU time of the calling thread. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_attribution(void)
{
	struct pagemig_sampler *s = lab_sampler(PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
							PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU),
						PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
							PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU));
	struct worker w[2] = {{.cpu = 1, .mem_node = 0}, {.cpu = 0, .mem_node = 1}};
	const struct pagemig_snapshot *snap = NULL;
	uint64_t node_ns[3] = {0}, main_ns = thread_cpu_ns();
	pthread_t t[2];

	CHECK_EQ(pagemig_sampler_manage(s, getpid()), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].err, 0);
	}
	main_ns = thread_cpu_ns() - main_ns;
	CHECK_EQ(pagemig_sampler_drain(s, &snap), 0);
	for (int i = 0; i < 2; i++)
		check_buffer(snap, &w[i]);

	for (size_t i = 0; i < snap->n_oncpu; i++)
		if (snap->oncpu[i].tgid == (uint32_t)getpid() && snap->oncpu[i].node < 3)
			node_ns[snap->oncpu[i].node] += snap->oncpu[i].ns;
	printf("%s - on-CPU time: node 0 %.1f ms (thread on cpu 0: %.1f ms), node 1 %.1f ms "
	       "(thread on cpu 1: %.1f ms), node 2 %.1f ms\n",
	       node_ns[0] >= w[1].cpu_ns && node_ns[1] >= w[0].cpu_ns && !node_ns[2] ? "ok"
										     : "not ok",
	       node_ns[0] / 1e6, w[1].cpu_ns / 1e6, node_ns[1] / 1e6, w[0].cpu_ns / 1e6,
	       node_ns[2] / 1e6);
	/* Each node's time covers its pinned thread; the main thread (unpinned: its CPU time,
	 * main_ns, may fall on either node), the threads' start and exit (outside cpu_ns) and
	 * the sampler's own setup add the rest. The upper bound catches time counted twice or
	 * taken from other processes; under TCG on a busy host the clocks behind the two sides
	 * drift apart, so it allows half again plus 100 ms. */
	printf("  main thread: %.1f ms on a CPU meanwhile\n", main_ns / 1e6);
	CHECK(node_ns[1] >= w[0].cpu_ns);
	CHECK(node_ns[0] >= w[1].cpu_ns);
	CHECK(node_ns[1] < (w[0].cpu_ns + main_ns) * 3 / 2 + 100000000ull);
	CHECK(node_ns[0] < (w[1].cpu_ns + main_ns) * 3 / 2 + 100000000ull);
	CHECK_EQ(node_ns[2], 0);
	pagemig_sampler_free(s);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_attribution)};

	setvbuf(stdout, NULL, _IOLBF, 0);
	lab_need_nodes(2);
	if (numa_num_configured_cpus() < 2)
		SKIP_ALL("needs 2 CPUs");
	return check_run(tests, 1);
}
