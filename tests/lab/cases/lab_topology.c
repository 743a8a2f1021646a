/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lab smoke case: the guest has the topology the lab promises and pages really move.
 *
 *   3 nodes: node 0 = cpu 0, node 1 = cpu 1, node 2 = memory only; distances 21 / 30 / 30
 *   2 nodes: node 0 = cpu 0, node 1 = cpu 1; distance 21
 *
 * Expected topology from --nodes N or $LAB_NODES (set by the guest init); without either the
 * case is not running in the lab and skips. Exit 0 pass, 1 fail, 77 skip.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                \
	do {                                            \
		int ok_ = (cond);                       \
		int errno_ = errno;                     \
		printf("%s - ", ok_ ? "ok" : "not ok"); \
		errno = errno_;                         \
		printf(__VA_ARGS__);                    \
		printf("\n");                           \
		if (!ok_)                               \
			failures++;                     \
	} while (0)

/* Node of the page at addr according to the kernel (move_pages with nodes == NULL). */
static int page_node(void *addr)
{
	void *pages[1] = {addr};
	int status[1] = {-1};

	if (move_pages(0, 1, pages, NULL, status, 0) < 0)
		return -errno;
	return status[0];
}

/* Move the page at addr to node; returns the per-page status (the node, or -errno). */
static int move_to(void *addr, int node)
{
	void *pages[1] = {addr};
	int nodes[1] = {node};
	int status[1] = {-1};

	if (move_pages(0, 1, pages, nodes, status, MPOL_MF_MOVE) < 0)
		return -errno;
	return status[0];
}

static int cpus_on_node(int node, int *first)
{
	struct bitmask *cpus = numa_allocate_cpumask();
	int n = 0;

	*first = -1;
	if (numa_node_to_cpus(node, cpus) == 0) {
		for (unsigned int c = 0; c < cpus->size; c++) {
			if (numa_bitmask_isbitset(cpus, c)) {
				if (*first < 0)
					*first = (int)c;
				n++;
			}
		}
	}
	numa_free_cpumask(cpus);
	return n;
}

static void check_topology(int expected)
{
	int nodes = numa_max_node() + 1;
	int with_memory = 0;

	CHECK(nodes == expected, "%d nodes (expected %d)", nodes, expected);
	for (int n = 0; n < nodes; n++) {
		long long free_bytes = 0;
		long long size = numa_node_size64(n, &free_bytes);
		int first_cpu;
		int ncpus = cpus_on_node(n, &first_cpu);

		printf("# node %d: %lld MiB (%lld MiB free), %d cpu(s)\n", n, size >> 20,
		       free_bytes >> 20, ncpus);
		if (size > 0)
			with_memory++;
		if (n < 2)
			CHECK(ncpus == 1 && first_cpu == n, "node %d has exactly cpu %d", n, n);
		else
			CHECK(ncpus == 0, "node %d has no CPUs", n);
	}
	CHECK(with_memory == expected, "%d nodes have memory (expected %d)", with_memory, expected);

	for (int a = 0; a < nodes; a++) {
		for (int b = 0; b < nodes; b++) {
			int want = a == b ? 10 : (a == 2 || b == 2) ? 30 : 21;
			int got = numa_distance(a, b);

			CHECK(got == want, "distance %d->%d is %d (expected %d)", a, b, got, want);
		}
	}
}

static uint64_t checksum(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static void check_move_pages(int nodes)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p =
		mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long node0 = 1;

	if (p == MAP_FAILED) {
		CHECK(0, "mmap one page: %s", strerror(errno));
		return;
	}
	/* First touch bound to node 0, then drop the policy (move_pages does not consult it). */
	int rc = mbind(p, psz, MPOL_BIND, &node0, sizeof(node0) * 8, 0);
	CHECK(rc == 0, "mbind MPOL_BIND node 0%s%s", rc ? ": " : "", rc ? strerror(errno) : "");
	for (size_t i = 0; i < psz; i++)
		p[i] = (unsigned char)(i * 7 + 3);
	rc = mbind(p, psz, MPOL_DEFAULT, NULL, 0, 0);
	CHECK(rc == 0, "mbind MPOL_DEFAULT%s%s", rc ? ": " : "", rc ? strerror(errno) : "");
	uint64_t sum = checksum(p, psz);

	int where = page_node(p);
	CHECK(where == 0, "touched page is on node 0 (query says %d)", where);

	int route3[] = {1, 2, 0, 2, 1, 0};
	int route2[] = {1, 0, 1, 0};
	int *route = nodes == 3 ? route3 : route2;
	int steps = nodes == 3 ? 6 : 4;

	for (int i = 0; i < steps; i++) {
		int st = move_to(p, route[i]);

		where = page_node(p);
		CHECK(st == route[i] && where == route[i],
		      "move_pages to node %d: status %d, query says %d", route[i], st, where);
	}
	CHECK(checksum(p, psz) == sum, "page content intact after %d moves", steps);
	munmap(p, psz);
}

static void check_balancing_off(void)
{
	FILE *f = fopen("/proc/sys/kernel/numa_balancing", "r");
	int v = -1;

	if (!f) {
		CHECK(0, "read /proc/sys/kernel/numa_balancing: %s", strerror(errno));
		return;
	}
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	CHECK(v == 0, "kernel NUMA balancing is off (numa_balancing = %d)", v);
}

int main(int argc, char **argv)
{
	const char *want = getenv("LAB_NODES");

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc)
			want = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--nodes 2|3]\n", argv[0]);
			return 2;
		}
	}
	if (!want) {
		printf("# SKIP: not in the NUMA lab (no --nodes and no LAB_NODES)\n");
		return 77;
	}
	int expected = atoi(want);
	if (expected != 2 && expected != 3) {
		fprintf(stderr, "lab_topology: expected topology must be 2 or 3 nodes, not '%s'\n",
			want);
		return 2;
	}
	if (numa_available() < 0) {
		printf("not ok - the kernel reports no NUMA support\n");
		return 1;
	}

	printf("# lab_topology: expecting %d nodes\n", expected);
	check_topology(expected);
	if (numa_max_node() + 1 >= expected)
		check_move_pages(expected);
	check_balancing_off();

	printf("# lab_topology: %s (%d failed check%s)\n", failures ? "FAIL" : "PASS", failures,
	       failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
