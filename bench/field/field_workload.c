// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * field-workload: the process whose placement the field benchmarks (bench/field, issue 9) watch.
 *
 * A hot set and a cold set are first touched on --mem-node (mbind, then the policy is reset to
 * the default so that later placement is the movers' business). --threads writer threads keep
 * writing the hot set (8 words of every 4 KiB page per pass, read back and checked); the cold set
 * is written once and checked at exit. Modes:
 *
 *   default   thread t runs on cpus[t % n] (--cpu LIST) and writes its own slice
 *   --shared  every thread writes every page (words interleaved by thread)
 *   --phase S every S seconds all threads move together to the next CPU of LIST
 *             (phase change: the memory they use stays where it is)
 *
 * Progress ("passes": completed passes over a thread's slice, summed over threads) and the
 * current phase are kept in a small shared file (--counter FILE) that the benchmark reads once
 * a second, so that measuring costs the workload nothing. The first stdout line gives the pid,
 * both sets' addresses and the writer threads' ids. SIGTERM/SIGINT (or --seconds) stop it: exit
 * 0 when every check passed, 3 when data was wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "field_common.h"

#define MAX_THREADS 16

static struct {
	size_t hot, cold;
	int mem_node, alloc_cpu, threads, ncpus;
	int cpus[MAX_THREADS];
	bool shared, thp;
	double phase, seconds;
	const char *counter;
} opt = {.hot = 64ul << 20, .cold = 0, .alloc_cpu = -1, .threads = 1};

static char *hot, *cold;
static struct field_counter *ctr, local_ctr;
static atomic_bool stop;
static atomic_int tids[MAX_THREADS];
static atomic_int ready;

static uint64_t pattern(size_t i, uint64_t gen)
{
	return (i * 0x9e3779b97f4a7c15ull) ^ (gen << 1) ^ 0x5bd1e995u;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *writer(void *arg)
{
	long t = (long)arg;
	uint64_t *w = (uint64_t *)hot;
	size_t words = opt.hot / 8, lo, hi, step, first;
	long phase = -1;
	double t0 = now_s();

	atomic_store(&tids[t], (int)syscall(SYS_gettid));
	if (opt.ncpus && opt.phase <= 0)
		pin(opt.cpus[t % opt.ncpus]);
	lo = opt.shared ? 0 : words * (size_t)t / (size_t)opt.threads;
	hi = opt.shared ? words : words * (size_t)(t + 1) / (size_t)opt.threads;
	step = (opt.shared ? (size_t)opt.threads : 1) * 64; /* 8 words per 4 KiB page */
	first = lo + (opt.shared ? (size_t)t : 0);
	atomic_fetch_add(&ready, 1);
	for (uint64_t gen = 1; !atomic_load(&stop); gen++) {
		if (opt.phase > 0) {
			long p = (long)((now_s() - t0) / opt.phase);

			if (p != phase) {
				phase = p;
				pin(opt.cpus[(size_t)p % (size_t)opt.ncpus]);
				if (t == 0)
					atomic_store(&ctr->phase, (uint64_t)p);
			}
		}
		for (size_t i = first; i < hi; i += step)
			w[i] = pattern(i, gen);
		for (size_t i = first; i < hi; i += step)
			if (w[i] != pattern(i, gen))
				atomic_fetch_add(&ctr->errors, 1);
		atomic_fetch_add(&ctr->passes, 1);
	}
	return NULL;
}

static char *alloc_on(size_t bytes, int node)
{
	unsigned long mask = 1ul << node;
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, opt.thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (mbind(p, bytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0) < 0)
		return NULL;
	memset(p, 0, bytes);
	mbind(p, bytes, MPOL_DEFAULT, NULL, 0, 0);
	return p;
}

static int parse_cpus(const char *s)
{
	char *end;

	for (opt.ncpus = 0; *s && opt.ncpus < MAX_THREADS;) {
		long v = strtol(s, &end, 10);

		if (end == s || v < 0 || v >= CPU_SETSIZE)
			return -1;
		opt.cpus[opt.ncpus++] = (int)v;
		s = *end == ',' ? end + 1 : end;
	}
	return opt.ncpus ? 0 : -1;
}

static void on_signal(int sig)
{
	atomic_store(&stop, true);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: field-workload [--hot MIB] [--cold MIB] [--mem-node N] [--alloc-cpu C]\n"
		   "        [--cpu LIST] [--threads N] [--shared] [--phase SECONDS] [--thp]\n"
		   "        [--counter FILE] [--seconds S]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"hot", 1, NULL, 'H'},	 {"cold", 1, NULL, 'C'},    {"mem-node", 1, NULL, 'm'},
		{"alloc-cpu", 1, NULL, 'a'}, {"cpu", 1, NULL, 'c'}, {"threads", 1, NULL, 't'},
		{"shared", 0, NULL, 's'},    {"phase", 1, NULL, 'p'}, {"thp", 0, NULL, 'T'},
		{"counter", 1, NULL, 'k'},   {"seconds", 1, NULL, 'S'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	pthread_t th[MAX_THREADS];
	uint64_t errors;
	double t0;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'H': opt.hot = strtoul(optarg, NULL, 10) << 20; break;
		case 'C': opt.cold = strtoul(optarg, NULL, 10) << 20; break;
		case 'm': opt.mem_node = atoi(optarg); break;
		case 'a': opt.alloc_cpu = atoi(optarg); break;
		case 'c':
			if (parse_cpus(optarg)) {
				fprintf(stderr, "field-workload: bad --cpu '%s'\n", optarg);
				return 2;
			}
			break;
		case 't': opt.threads = atoi(optarg); break;
		case 's': opt.shared = true; break;
		case 'p': opt.phase = strtod(optarg, NULL); break;
		case 'T': opt.thp = true; break;
		case 'k': opt.counter = optarg; break;
		case 'S': opt.seconds = strtod(optarg, NULL); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opt.threads < 1 || opt.threads > MAX_THREADS || !opt.hot ||
	    (opt.phase > 0 && !opt.ncpus) || opt.mem_node < 0 || opt.mem_node > 63) {
		usage(stderr);
		return 2;
	}
	ctr = &local_ctr;
	if (opt.counter) {
		int fd = open(opt.counter, O_RDWR | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || ftruncate(fd, sizeof(*ctr)) ||
		    (ctr = mmap(NULL, sizeof(*ctr), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
			    MAP_FAILED) {
			perror("field-workload: counter file");
			return 1;
		}
		close(fd);
	}
	if (opt.alloc_cpu >= 0)
		pin(opt.alloc_cpu);
	hot = alloc_on(opt.hot, opt.mem_node);
	cold = opt.cold ? alloc_on(opt.cold, opt.mem_node) : NULL;
	if (!hot || (opt.cold && !cold)) {
		perror("field-workload: allocating on the node");
		return 1;
	}
	for (size_t i = 0; i < opt.cold / 8; i++)
		((uint64_t *)cold)[i] = pattern(i, 7);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (long t = 0; t < opt.threads; t++)
		pthread_create(&th[t], NULL, writer, (void *)t);
	while (atomic_load(&ready) < opt.threads)
		usleep(1000);
	printf("field-workload: pid=%d hot=0x%lx:%zu cold=0x%lx:%zu node=%d tids=", (int)getpid(),
	       (unsigned long)hot, opt.hot, (unsigned long)cold, opt.cold, opt.mem_node);
	for (int t = 0; t < opt.threads; t++)
		printf("%s%d", t ? "," : "", atomic_load(&tids[t]));
	printf("\n");
	fflush(stdout);
	t0 = now_s();
	while (!atomic_load(&stop)) {
		usleep(100000);
		if (opt.seconds > 0 && now_s() - t0 >= opt.seconds)
			atomic_store(&stop, true);
	}
	for (int t = 0; t < opt.threads; t++)
		pthread_join(th[t], NULL);
	for (size_t i = 0; i < opt.cold / 8; i++)
		if (((uint64_t *)cold)[i] != pattern(i, 7))
			atomic_fetch_add(&ctr->errors, 1);
	errors = atomic_load(&ctr->errors);
	printf("field-workload: %lu passes, %lu errors\n", (unsigned long)atomic_load(&ctr->passes),
	       (unsigned long)errors);
	return errors ? 3 : 0;
}
