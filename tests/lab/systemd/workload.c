// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The workload of the systemd lab test: a process whose memory pagemigd's shipped policy
 * manages (above its 256 MiB min_rss), placed where locality would move it (memory on node 0,
 * the thread on the last CPU), and that can prove its memory intact.
 *
 *   workload --size MiB --ready FILE --result FILE
 *
 * Fills the buffer with a pattern derived from each word's offset, writes FILE --ready, then
 * keeps rewriting the same values (so its pages stay hot for the sampler and soft-dirty
 * re-arming sees writes) until SIGTERM. On SIGUSR1 it checks every word and writes
 * "intact PAGES on-node0=N on-node1=N ..." or "CORRUPT at OFFSET" to --result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_DEFAULT 0
#define MPOL_BIND    2

static volatile sig_atomic_t check_requested, stop;

static void on_usr1(int sig)
{
	(void)sig;
	check_requested = 1;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t pattern(size_t i)
{
	return (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15) ^ UINT64_C(0x5bd1e995);
}

static void write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return;
	}
	fputs(text, f);
	if (fclose(f) == 0)
		rename(tmp, path);
}

/* "intact PAGES on-node0=N ..." from a nodes=NULL move_pages() query of every page. */
static void check(uint64_t *buf, size_t words, size_t page, const char *result)
{
	size_t pages = words * 8 / page, counts[8] = {0}, other = 0;
	char text[512];
	int used;

	for (size_t i = 0; i < words; i++) {
		if (buf[i] != pattern(i)) {
			snprintf(text, sizeof(text), "CORRUPT at offset %zu\n", i * 8);
			write_file(result, text);
			return;
		}
	}
	for (size_t p = 0; p < pages;) {
		void *addr[512];
		int status[512];
		size_t n = pages - p < 512 ? pages - p : 512;

		for (size_t k = 0; k < n; k++)
			addr[k] = (char *)buf + (p + k) * page;
		if (syscall(SYS_move_pages, 0, n, addr, NULL, status, 0) < 0)
			break;
		for (size_t k = 0; k < n; k++) {
			if (status[k] >= 0 && status[k] < 8)
				counts[status[k]]++;
			else
				other++;
		}
		p += n;
	}
	used = snprintf(text, sizeof(text), "intact %zu", pages);
	for (int n = 0; n < 8; n++)
		if (counts[n])
			used += snprintf(text + used, sizeof(text) - (size_t)used, " on-node%d=%zu",
					 n, counts[n]);
	snprintf(text + used, sizeof(text) - (size_t)used, " unknown=%zu\n", other);
	write_file(result, text);
}

int main(int argc, char **argv)
{
	size_t mib = 288, page = (size_t)sysconf(_SC_PAGESIZE), words;
	const char *ready = NULL, *result = NULL;
	unsigned long node0 = 1;
	struct sigaction sa = {0};
	uint64_t *buf;
	cpu_set_t cpus;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--size"))
			mib = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--ready"))
			ready = argv[i + 1];
		else if (!strcmp(argv[i], "--result"))
			result = argv[i + 1];
	}
	if (!ready || !result || !mib) {
		fprintf(stderr, "usage: workload --size MiB --ready FILE --result FILE\n");
		return 2;
	}
	words = mib * 1024 * 1024 / 8;

	/* run on the last CPU (node 1 in the lab), memory from node 0 */
	CPU_ZERO(&cpus);
	CPU_SET(ncpu > 1 ? (int)ncpu - 1 : 0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		perror("sched_setaffinity");
	buf = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (syscall(SYS_set_mempolicy, MPOL_BIND, &node0, 8 * sizeof(node0)))
		perror("set_mempolicy(MPOL_BIND, node 0)");
	for (size_t i = 0; i < words; i++)
		buf[i] = pattern(i);
	/* default policy again: the memory may move from now on */
	if (syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0))
		perror("set_mempolicy(MPOL_DEFAULT)");

	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	write_file(ready, "ready\n");
	printf("workload: %zu MiB filled, pid %d\n", mib, (int)getpid());
	fflush(stdout);

	while (!stop) {
		/* one page in 16 per round, the same values again: hot, unchanged */
		for (size_t i = 0; i < words && !stop && !check_requested; i += page / 8 * 16)
			buf[i] = pattern(i);
		if (check_requested) {
			check_requested = 0;
			check(buf, words, page, result);
		}
		usleep(20000);
	}
	return 0;
}
