// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Helpers shared by the benchmarks (see common.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <numa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "pagemig/pagemig.h"

#include "common.h"

#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PM_PRESENT  (UINT64_C(1) << 63)

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Quantile q of n sorted values, linear interpolation between closest ranks. */
static double interp(const double *s, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;

	if (lo + 1 >= n)
		return s[n - 1];
	return s[lo] + (s[lo + 1] - s[lo]) * (pos - (double)lo);
}

struct bench_stats bench_stats(const double *v, size_t n)
{
	struct bench_stats st = {0};
	double *s;

	if (!n)
		return st;
	s = malloc(n * sizeof(*s));
	if (!s) {
		st.median = st.q1 = st.q3 = st.min = st.max = v[0];
		return st;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	st.min = s[0];
	st.max = s[n - 1];
	st.median = interp(s, n, 0.5);
	st.q1 = interp(s, n, 0.25);
	st.q3 = interp(s, n, 0.75);
	free(s);
	return st;
}

uint64_t bench_quantile_u64(uint64_t *v, size_t n, double q)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	/* nearest rank: the smallest value with at least q*n values at or below it */
	rank = (size_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

int bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = (unsigned long)v;
	return 0;
}

int bench_parse_list(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		     size_t cap, size_t *n)
{
	char *copy, *tok, *save = NULL;
	int err = 0;

	*n = 0;
	if (!s || !*s)
		return -EINVAL;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	/* strtok_r would accept "1,,2" and a trailing comma: refuse empty items instead */
	if (copy[0] == ',' || copy[strlen(copy) - 1] == ',' || strstr(copy, ",,"))
		err = -EINVAL;
	for (tok = strtok_r(copy, ",", &save); !err && tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == cap) {
			err = -E2BIG;
			break;
		}
		err = bench_parse_ulong(tok, min, max, &out[*n]);
		if (!err)
			(*n)++;
	}
	free(copy);
	return err;
}

int bench_memory_nodes(int *nodes, int max)
{
	int n = 0;

	if (numa_available() < 0)
		return 0;
	for (int node = 0; node <= numa_max_node() && n < max; node++) {
		long long free_bytes;

		if (!numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)node))
			continue;
		if (numa_node_size64(node, &free_bytes) <= 0)
			continue;
		nodes[n++] = node;
	}
	return n;
}

/* First line of a file without its newline, or "?" */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	else
		snprintf(buf, len, "?");
	fclose(f);
}

int bench_numa_balancing(void)
{
	char buf[32];

	read_line("/proc/sys/kernel/numa_balancing", buf, sizeof(buf));
	return buf[0] >= '0' && buf[0] <= '9' ? atoi(buf) : -1;
}

void bench_print_header(FILE *out, const char *title, int argc, char *const argv[],
			const int *nodes, int nnodes)
{
	char date[64] = "?", thp[128], defrag[128], load[128];
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm))
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	read_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	read_line("/sys/kernel/mm/transparent_hugepage/defrag", defrag, sizeof(defrag));
	read_line("/proc/loadavg", load, sizeof(load));

	fprintf(out, "# %s\n", title);
	fprintf(out, "# date: %s  host: %s\n", date, u.nodename);
	fprintf(out, "# kernel: %s %s (%s)\n", u.release, u.machine, u.version);
	fprintf(out, "# cpus online: %ld  memory nodes: %d (", sysconf(_SC_NPROCESSORS_ONLN),
		nnodes);
	for (int i = 0; i < nnodes; i++)
		fprintf(out, "%s%d", i ? "," : "", nodes[i]);
	fprintf(out, ")  numa_balancing: %d\n", bench_numa_balancing());
	fprintf(out, "# load average (1, 5, 15 min, runnable/total, last pid): %s\n", load);
	fprintf(out, "# THP enabled: %s  defrag: %s\n", thp, defrag);
	fprintf(out, "# libpagemig: %s  euid: %d\n", pagemig_version(), (int)geteuid());
	fprintf(out, "# command:");
	for (int i = 0; i < argc; i++)
		fprintf(out, " %s", argv[i]);
	fprintf(out, "\n");
}

long long bench_vmstat(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

size_t bench_pmd_size(void)
{
	char buf[64];
	unsigned long long v;

	read_line("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf, sizeof(buf));
	v = strtoull(buf, NULL, 10);
	if (v < 2 * (unsigned long long)sysconf(_SC_PAGESIZE) || (v & (v - 1)))
		v = 2u << 20;
	return (size_t)v;
}

long bench_anon_huge_kb(int pid, uintptr_t start, size_t len)
{
	char path[64], line[512];
	uintptr_t end = start + len;
	bool in = false;
	long sum = 0;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/smaps");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		long kb;

		/* a VMA header starts "lo-hi perms"; field lines are "Name:   value kB" */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo < end && hi > start;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			sum += kb;
	}
	fclose(f);
	return sum;
}

int bench_pfn_visible(const void *addr)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t e;
	ssize_t n;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / ps * sizeof(e)));
	close(fd);
	if (n != (ssize_t)sizeof(e) || !(e & PM_PRESENT))
		return -1;
	return (e & PM_PFN_MASK) != 0;
}

void bench_fill(void *buf, size_t bytes, uint64_t seed)
{
	uint64_t *w = buf;

	for (size_t i = 0; i < bytes / 8; i++)
		w[i] = (i + seed) * UINT64_C(0x9e3779b97f4a7c15) ^ (i >> 9);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * UINT64_C(0x100000001b3);
}

uint64_t bench_checksum(const void *buf, size_t bytes, bool full)
{
	const uint64_t *w = buf;
	size_t words = bytes / 8;
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	if (full) {
		for (size_t i = 0; i < words; i++)
			h = mix(h, w[i]);
		return h;
	}
	/* 512 words per 4 KiB: words 0, 73, 146, ..., 511 of each */
	for (size_t base = 0; base < words; base += 512)
		for (size_t k = 0; k < 8; k++) {
			size_t i = base + (k * 511) / 7;

			if (i < words)
				h = mix(h, w[i] + i);
		}
	return h;
}

long bench_settle_off(int (*query)(void *ctx), size_t (*count_off)(const void *ctx, int node),
		      void *ctx, int node, size_t *first)
{
	size_t off = 0;

	*first = 0;
	for (int attempt = 0; attempt <= BENCH_SETTLE_TRIES; attempt++) {
		int err;

		if (attempt)
			usleep(BENCH_SETTLE_US);
		err = query(ctx);
		if (err)
			return err;
		off = count_off(ctx, node);
		if (!attempt)
			*first = off;
		if (!off)
			break;
	}
	return (long)off;
}
