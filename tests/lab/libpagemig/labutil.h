/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the libpagemig lab cases: buffers placed on a node, checksums, placement. */
#ifndef PAGEMIG_LABUTIL_H
#define PAGEMIG_LABUTIL_H

#include <numa.h>
#include <numaif.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "check.h"
#include "pagemig/pagemig.h"

#define HUGE_SZ (2ul << 20)

static size_t ps;

/* Skip unless the guest has at least n memory nodes; returns how many it has. */
static inline int lab_need_nodes(int n)
{
	int have;

	if (numa_available() < 0)
		SKIP_ALL("no NUMA support");
	have = numa_num_configured_nodes();
	if (have < n)
		SKIP_ALL("needs %d memory nodes, the machine has %d", n, have);
	ps = (size_t)sysconf(_SC_PAGESIZE);
	return have;
}

/* A 2 MiB-aligned anonymous buffer whose pages are first touched on node, filled with a
 * pattern derived from seed. thp: ask for transparent huge pages, else forbid them. */
static inline char *lab_buffer(size_t bytes, int node, bool thp, unsigned int seed)
{
	char *raw = mmap(NULL, bytes + HUGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char *p;
	unsigned long mask = 1ul << node;

	if (raw == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	p = (char *)(((uintptr_t)raw + HUGE_SZ - 1) & ~(uintptr_t)(HUGE_SZ - 1));
	madvise(p, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (mbind(p, bytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0)) {
		perror("mbind");
		exit(1);
	}
	for (size_t i = 0; i < bytes / 8; i++)
		((uint64_t *)p)[i] = (i + seed) * 0x9e3779b97f4a7c15ull;
	/* later moves are the library's business, not the policy's */
	mbind(p, bytes, MPOL_DEFAULT, NULL, 0, 0);
	return p;
}

static inline uint64_t lab_checksum(const char *p, size_t bytes)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < bytes / 8; i++)
		h = (h ^ ((const uint64_t *)p)[i]) * 1099511628211ull;
	return h;
}

/* The pattern lab_buffer() wrote is still there. */
static inline bool lab_pattern_ok(const char *p, size_t bytes, unsigned int seed)
{
	for (size_t i = 0; i < bytes / 8; i++)
		if (((const uint64_t *)p)[i] != (i + seed) * 0x9e3779b97f4a7c15ull)
			return false;
	return true;
}

/* Page addresses of [p, p + bytes). */
static inline void **lab_pages(char *p, size_t bytes)
{
	size_t n = bytes / ps;
	void **pages = malloc(n * sizeof(*pages));

	for (size_t i = 0; i < n; i++)
		pages[i] = p + i * ps;
	return pages;
}

static inline int *lab_nodes(size_t n, int node)
{
	int *nodes = malloc(n * sizeof(*nodes));

	for (size_t i = 0; i < n; i++)
		nodes[i] = node;
	return nodes;
}

/* How many of the n pages the kernel places on node (pid 0 = self). */
static inline size_t lab_count_on(pid_t pid, void **pages, size_t n, int node)
{
	int *st = malloc(n * sizeof(*st));
	size_t c = 0;

	if (pagemig_query(pid, n, pages, st) == 0)
		for (size_t i = 0; i < n; i++)
			c += st[i] == node;
	free(st);
	return c;
}

/* AnonHugePages of the mapping holding addr, in kB (-1 when not found). */
static inline long lab_anon_huge_kb(pid_t pid, const void *addr)
{
	char path[64], line[256];
	unsigned long lo, hi;
	bool in = false;
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid ? (int)pid : (int)getpid());
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

#endif
