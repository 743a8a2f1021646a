// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemig-workload: a process whose memory placement the lab tests and benchmarks watch.
 *
 * It allocates a hot set and a cold set, first-touched on --mem-node, then runs --threads
 * threads pinned to --cpu (or to the CPUs listed) that keep writing the hot set, each thread
 * its own slice, checking every word it wrote. The cold set is written once and never again.
 * On SIGTERM or SIGINT (or after --seconds) it checks both sets against their patterns and exits
 * 0 when intact, 3 when not. --report prints, once a second, how many hot and cold pages sit on
 * each node (a move_pages query) and the work done, as "t=... hot=n0,n1,n2 cold=... passes=...".
 * --shared makes the hot set shared by two threads on different CPUs (--cpu a,b). --pace M has
 * each thread write at most M MiB of its slice a second, so that the write faults that follow a
 * re-arm of a large set come over several seconds (the daemon's top-ups are about those).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16
#define MAX_NODES   8

static struct {
	size_t hot_bytes, cold_bytes;
	int mem_node;
	int cpus[MAX_THREADS];
	int ncpus;
	int threads;
	bool shared;
	bool report;
	double seconds;
	bool thp;
	int alloc_cpu;
	double cold_delay;
	double pace; /* MiB a second per thread, 0: as fast as it can */
} opt = {.hot_bytes = 64ul << 20, .cold_bytes = 64ul << 20, .threads = 1, .alloc_cpu = -1};

static char *hot, *cold;
static size_t ps;
static atomic_bool stop;
static atomic_ulong passes;
static atomic_ulong errors;

static uint64_t pattern(size_t i, uint64_t gen)
{
	return (i * 0x9e3779b97f4a7c15ull) ^ gen;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: pagemig-workload [--hot MIB] [--cold MIB] [--mem-node N] [--cpu LIST]\n"
		"                        [--threads N] [--shared] [--thp] [--seconds S] "
		"[--report]\n"
		"                        [--alloc-cpu C] [--cold-delay S] [--pace MIB]\n"
		"Keep writing a hot set from threads pinned to the CPUs in LIST (default: any),\n"
		"with the hot and cold sets first touched on node N (default 0). Exit 0 when the\n"
		"data is intact at SIGTERM/SIGINT or after S seconds, 3 when it is not.\n"
		"--alloc-cpu pins the main thread to CPU C (so first-touch faults come from its\n"
		"node). --cold-delay first-touches the cold set S seconds after start (so that a\n"
		"daemon already watching sees it). --pace writes at most MIB MiB a second per\n"
		"thread. The first output line gives the pid and both sets' addresses.\n");
}

/* With --pace: sleep until a thread that started at t0 may have written bytes. */
static void pace_wait(const struct timespec *t0, double bytes)
{
	double due = bytes / (opt.pace * 1048576.0), t;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	t = (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
	if (due > t)
		usleep((useconds_t)((due - t) * 1e6));
}

static void *writer(void *arg)
{
	long t = (long)arg;
	size_t words = opt.hot_bytes / 8, lo, hi;
	uint64_t *w = (uint64_t *)hot;
	/* one word in 64 is written: a MiB of the set every 2048 of them */
	double written = 0;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);

	if (opt.ncpus) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opt.cpus[t % opt.ncpus], &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	/* own slice, or (shared) every thread writes every page, words interleaved by thread */
	lo = opt.shared ? 0 : words * (size_t)t / (size_t)opt.threads;
	hi = opt.shared ? words : words * (size_t)(t + 1) / (size_t)opt.threads;
	for (uint64_t gen = 1; !atomic_load(&stop); gen++) {
		size_t step = opt.shared ? (size_t)opt.threads : 1,
		       first = opt.shared ? (size_t)t : 0;

		for (size_t i = lo + first, k = 1; i < hi; i += step * 64, k++) {
			w[i] = pattern(i, gen);
			if (opt.pace > 0 && k % 2048 == 0)
				pace_wait(&t0, written += 1048576.0 * (double)step);
		}
		for (size_t i = lo + first; i < hi; i += step * 64)
			if (w[i] != pattern(i, gen))
				atomic_fetch_add(&errors, 1);
		atomic_fetch_add(&passes, 1);
	}
	return NULL;
}

/* Map bytes bound to node; first-touch them now (and unbind) when touch is set, otherwise the
 * binding stays until touch_on() writes them. */
static char *alloc_on(size_t bytes, int node, bool touch)
{
	unsigned long mask = 1ul << node;
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, opt.thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (mbind(p, bytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0) < 0)
		return NULL;
	if (touch) {
		memset(p, 0, bytes);
		/* later placement is the mover's business */
		mbind(p, bytes, MPOL_DEFAULT, NULL, 0, 0);
	}
	return p;
}

/* Pages of [p, p + bytes) per node, "n0,n1,..." */
static void placement(const char *p, size_t bytes, char *out, size_t len)
{
	size_t n = bytes / ps, per[MAX_NODES] = {0}, off = 0;
	void **pages = malloc(n * sizeof(*pages));
	int *st = malloc(n * sizeof(*st));

	for (size_t i = 0; i < n; i++)
		pages[i] = (void *)(p + i * ps);
	if (move_pages(0, n, pages, NULL, st, 0) == 0)
		for (size_t i = 0; i < n; i++)
			if (st[i] >= 0 && st[i] < MAX_NODES)
				per[st[i]]++;
	for (int i = 0; i < MAX_NODES && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%zu", i ? "," : "", per[i]);
	free(pages);
	free(st);
}

static int parse_cpus(const char *s)
{
	char *end;

	opt.ncpus = 0;
	while (*s && opt.ncpus < MAX_THREADS) {
		opt.cpus[opt.ncpus++] = (int)strtol(s, &end, 10);
		if (end == s)
			return -1;
		s = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static void on_signal(int sig)
{
	atomic_store(&stop, true);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"hot", 1, NULL, 'H'},	      {"cold", 1, NULL, 'C'},
		{"mem-node", 1, NULL, 'm'},   {"cpu", 1, NULL, 'c'},
		{"threads", 1, NULL, 't'},    {"shared", 0, NULL, 's'},
		{"seconds", 1, NULL, 'S'},    {"report", 0, NULL, 'r'},
		{"thp", 0, NULL, 'T'},	      {"alloc-cpu", 1, NULL, 'a'},
		{"cold-delay", 1, NULL, 'D'}, {"pace", 1, NULL, 'p'},
		{"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	pthread_t th[MAX_THREADS];
	struct timespec t0, now;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'H':
			opt.hot_bytes = strtoul(optarg, NULL, 10) << 20;
			break;
		case 'C':
			opt.cold_bytes = strtoul(optarg, NULL, 10) << 20;
			break;
		case 'm':
			opt.mem_node = atoi(optarg);
			break;
		case 'c':
			if (parse_cpus(optarg)) {
				fprintf(stderr, "pagemig-workload: bad --cpu '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			opt.threads = atoi(optarg);
			break;
		case 's':
			opt.shared = true;
			break;
		case 'S':
			opt.seconds = strtod(optarg, NULL);
			break;
		case 'r':
			opt.report = true;
			break;
		case 'T':
			opt.thp = true;
			break;
		case 'a':
			opt.alloc_cpu = atoi(optarg);
			break;
		case 'D':
			opt.cold_delay = strtod(optarg, NULL);
			break;
		case 'p':
			opt.pace = strtod(optarg, NULL);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (opt.threads < 1 || opt.threads > MAX_THREADS || !opt.hot_bytes) {
		fprintf(stderr, "pagemig-workload: --threads 1..%d and a hot set are needed\n",
			MAX_THREADS);
		return 2;
	}
	ps = (size_t)sysconf(_SC_PAGESIZE);
	if (opt.alloc_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opt.alloc_cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	hot = alloc_on(opt.hot_bytes, opt.mem_node, true);
	cold = opt.cold_bytes ? alloc_on(opt.cold_bytes, opt.mem_node, opt.cold_delay <= 0) : NULL;
	if (!hot || (opt.cold_bytes && !cold)) {
		perror("pagemig-workload: allocating on the node");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (long t = 0; t < opt.threads; t++)
		pthread_create(&th[t], NULL, writer, (void *)t);
	printf("pagemig-workload: pid=%d hot=0x%lx:%zu cold=0x%lx:%zu node=%d\n", (int)getpid(),
	       (unsigned long)hot, opt.hot_bytes, (unsigned long)cold, opt.cold_bytes,
	       opt.mem_node);
	fflush(stdout);
	if (opt.cold_delay > 0)
		usleep((useconds_t)(opt.cold_delay * 1e6));
	for (size_t i = 0; i < opt.cold_bytes / 8; i++)
		((uint64_t *)cold)[i] = pattern(i, 7);
	if (opt.cold_delay > 0 && cold)
		mbind(cold, opt.cold_bytes, MPOL_DEFAULT, NULL, 0, 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!atomic_load(&stop)) {
		double t;

		usleep(opt.report ? 1000000 : 100000);
		clock_gettime(CLOCK_MONOTONIC, &now);
		t = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (opt.report) {
			char h[128], cl[128] = "-";

			placement(hot, opt.hot_bytes, h, sizeof(h));
			if (cold)
				placement(cold, opt.cold_bytes, cl, sizeof(cl));
			printf("t=%.1f hot=%s cold=%s passes=%lu\n", t, h, cl,
			       atomic_load(&passes));
			fflush(stdout);
		}
		if (opt.seconds > 0 && t >= opt.seconds)
			atomic_store(&stop, true);
	}
	for (int t = 0; t < opt.threads; t++)
		pthread_join(th[t], NULL);
	for (size_t i = 0; i < opt.cold_bytes / 8; i++)
		if (((uint64_t *)cold)[i] != pattern(i, 7))
			atomic_fetch_add(&errors, 1);
	printf("pagemig-workload: %lu passes, %lu errors\n", atomic_load(&passes),
	       atomic_load(&errors));
	return atomic_load(&errors) ? 3 : 0;
}
