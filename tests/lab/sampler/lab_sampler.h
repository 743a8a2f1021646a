/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the sampler's lab cases: a sampler that must have some sources, buffers
 * placed on a node, pinning, frame numbers. */
#ifndef PAGEMIG_LAB_SAMPLER_H
#define PAGEMIG_LAB_SAMPLER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <pagemig/pagemig.h>

#include "check.h"
#include "sampler.h"

#define LAB_PAGE 4096ul

static inline void lab_log(int level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level <= LOG_WARNING || getenv("PAGEMIG_TEST_VERBOSE"))
		printf("  sampler: %s\n", msg);
}

/* Skip unless the guest has n memory nodes. */
static inline void lab_need_nodes(int n)
{
	if (numa_available() < 0 || numa_num_configured_nodes() < n)
		SKIP_ALL("needs %d memory nodes", n);
}

/* A sampler with these sources; fails the case unless every one of `must` is active. */
static inline struct pagemig_sampler *lab_sampler(unsigned int sources, unsigned int must)
{
	struct pagemig_sampler_config c = {
		.sz = sizeof(c),
		.sources = sources,
		.ringbuf_bytes = 16u << 20,
		.log = lab_log,
	};
	const struct pagemig_source_status *st;
	struct pagemig_sampler *s = NULL;
	int err = pagemig_sampler_new(&c, &s);

	if (err) {
		printf("not ok - pagemig_sampler_new: %s\n", strerror(-err));
		exit(1);
	}
	st = pagemig_sampler_sources(s);
	printf("kernel %s:\n", getenv("LAB_KERNEL") ? getenv("LAB_KERNEL") : "?");
	for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++) {
		if (st[i].state == PAGEMIG_SOURCE_OFF)
			continue;
		printf("  source %-10s %-12s %s\n", pagemig_source_name(i),
		       pagemig_source_state_name(st[i].state), st[i].detail);
		if ((must & PAGEMIG_SOURCE_BIT(i)) && st[i].state != PAGEMIG_SOURCE_ACTIVE) {
			printf("not ok - source %s is not active\n", pagemig_source_name(i));
			exit(1);
		}
	}
	return s;
}

static inline int lab_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* npages fresh base pages (no THP), bound to node so that the first touch allocates there;
 * the policy is reset afterwards by the caller with lab_unbind(). */
static inline char *lab_fresh_on(size_t npages, int node)
{
	unsigned long mask = 1ul << node;
	char *p = mmap(NULL, npages * LAB_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	madvise(p, npages * LAB_PAGE, MADV_NOHUGEPAGE);
	if (mbind(p, npages * LAB_PAGE, MPOL_BIND, &mask, sizeof(mask) * 8, 0)) {
		perror("mbind");
		exit(1);
	}
	return p;
}

static inline void lab_unbind(char *p, size_t npages)
{
	mbind(p, npages * LAB_PAGE, MPOL_DEFAULT, NULL, 0, 0);
}

static inline void lab_touch(char *p, size_t npages, char v)
{
	for (size_t i = 0; i < npages; i++)
		((volatile char *)p)[i * LAB_PAGE] = v;
}

/* How many of the npages pages at p are on node (asking the kernel). */
static inline size_t lab_on_node(char *p, size_t npages, int node)
{
	void **pages = calloc(npages, sizeof(*pages));
	int *status = calloc(npages, sizeof(*status));
	size_t n = 0;

	for (size_t i = 0; pages && status && i < npages; i++)
		pages[i] = p + i * LAB_PAGE;
	if (pages && status && !pagemig_query(0, npages, pages, status))
		for (size_t i = 0; i < npages; i++)
			n += status[i] == node;
	free(pages);
	free(status);
	return n;
}

/* Frame of a page of this process (root: pagemap shows frame numbers), 0 if not present. */
static inline uint64_t lab_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / LAB_PAGE * sizeof(e))) !=
		    sizeof(e))
			e = 0;
		close(fd);
	}
	return (e >> 63) ? e & ((1ull << 55) - 1) : 0;
}

static inline double lab_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
