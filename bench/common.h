/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the benchmarks: clocks, statistics, argument parsing, the machine header,
 * memory nodes, /proc readers and the buffer pattern with its checksum.
 */
#ifndef PAGEMIG_BENCH_COMMON_H
#define PAGEMIG_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every benchmark. */
#define BENCH_EXIT_OK	  0
#define BENCH_EXIT_FAIL	  1  /* a wrong result (pages off target, data changed) or an error */
#define BENCH_EXIT_USAGE  2  /* bad command line */
#define BENCH_EXIT_MISSED 3  /* --strict and a target was missed */
#define BENCH_EXIT_SKIP	  77 /* cannot measure here (CTest: skipped) */

#define BENCH_MAX_NODES 64

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Summary of a sample: median, quartiles (linear interpolation), extremes. */
struct bench_stats {
	double median;
	double q1;
	double q3;
	double min;
	double max;
};

/* Statistics of n values (n >= 1); v is not changed. */
struct bench_stats bench_stats(const double *v, size_t n);

/* The q-quantile (0..1, nearest rank) of n values; sorts v in place. 0 when n is 0. */
uint64_t bench_quantile_u64(uint64_t *v, size_t n, double q);

/* Parse an unsigned decimal in [min, max]. Returns 0 or -EINVAL / -ERANGE. */
int bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Parse a comma-separated list of unsigned decimals in [min, max], at most cap of them. */
int bench_parse_list(const char *s, unsigned long min, unsigned long max, unsigned long *out,
		     size_t cap, size_t *n);

/* The nodes this process may allocate memory on that have memory, ascending; returns how many
 * (at most max), 0 when libnuma says NUMA is unavailable. */
int bench_memory_nodes(int *nodes, int max);

/* Print the common header: program, what it compares, date (UTC), host, kernel, CPUs, memory
 * nodes, NUMA balancing, THP mode, the library version and the command line. */
void bench_print_header(FILE *out, const char *title, int argc, char *const argv[],
			const int *nodes, int nnodes);

/* A counter from /proc/vmstat, or -1 when it cannot be read. */
long long bench_vmstat(const char *key);

/* Kernel NUMA balancing setting (0, 1, 2...), or -1 when unknown. */
int bench_numa_balancing(void);

/* Size of a PMD huge page (from sysfs; 2 MiB when unknown). */
size_t bench_pmd_size(void);

/* Sum of AnonHugePages (kB) over the VMAs of /proc/PID/smaps (pid 0: self) that overlap
 * [start, start + len); -1 when smaps cannot be read. */
long bench_anon_huge_kb(int pid, uintptr_t start, size_t len);

/* 1 when /proc/self/pagemap shows PFNs (CAP_SYS_ADMIN) for the resident page at addr, 0 when
 * it shows zeros, -1 when it cannot be read or the page is not present. */
int bench_pfn_visible(const void *addr);

/* Fill bytes (a multiple of 8) with a pattern that differs in every word and every page. */
void bench_fill(void *buf, size_t bytes, uint64_t seed);

/* Checksum of the buffer: every word when full, else 8 words spread over each 4 KiB (first and
 * last word included), enough to see a page that was lost, swapped or zeroed. */
uint64_t bench_checksum(const void *buf, size_t bytes, bool full);

/* Re-queries of pages found off target, and the pause between them (bench_settle_off). */
#define BENCH_SETTLE_TRIES 20
#define BENCH_SETTLE_US	   2000

/*
 * How many pages are off target node after asking where they are (query(ctx), 0 or a negative
 * errno) and counting (count_off(ctx, node)), asked again up to BENCH_SETTLE_TRIES times while
 * some are: a page under migration by another mover reads as not present for a moment. *first
 * gets the count of the first query. Returns the last count, or query's error.
 */
long bench_settle_off(int (*query)(void *ctx), size_t (*count_off)(const void *ctx, int node),
		      void *ctx, int node, size_t *first);

#endif /* PAGEMIG_BENCH_COMMON_H */
