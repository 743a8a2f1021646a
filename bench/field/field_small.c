// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * field-small: small move requests (bench/field, issue 9, case 2).
 *
 * A caller has requests of k pages each (k = 1, 2, 4, 8, 16: scattered pages of one buffer, in a
 * shuffled order, as a daemon finds hot pages) and wants them moved. Five ways, alternating in
 * one run, each moving the whole buffer once per timed run:
 *
 *   raw            one move_pages(2) call per request (what the target compares with)
 *   pagemig        one pagemig_move() per request (library defaults: verification on)
 *   pagemig-batch  the library's coalescing: one pagemig_batch_add() per request into one
 *                  pagemig_batch (library defaults: it sends once batch_pages, 1024, are queued)
 *                  and pagemig_batch_flush() at the end; the batch's creation and release are
 *                  timed too. The case 2 ("through the library's coalescing").
 *   pagemig-queue  the caller appends requests to a queue of its own and hands it to ONE
 *                  pagemig_move() whenever it holds --queue pages (default 1024), and at the
 *                  end: coalescing as a caller does it without the batch API.
 *   raw-queue      the same queue, flushed with one raw move_pages(2): how much of the gain is
 *                  the batching itself (library cost at equal batching).
 *
 * With two memory nodes every run moves the buffer from one node to the other (direction
 * alternates per repetition; before each run the buffer is put on the source node, untimed).
 * With one memory node every move targets the node the pages are on: overhead only (syscall,
 * the per-call fixed cost, lookup, verification), the kernel copies nothing; the header says so.
 * After every run a query must find every page on the target (exit 1 otherwise).
 *
 * Output: a table per k and "RESULT case=small k=..." lines (key=value).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <numa.h>
#include <numaif.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "pagemig/pagemig.h"

enum { RAW, PM, PMB, PMQ, RAWQ, NMETH };
static const char *const meth[NMETH] = {"raw", "pagemig", "pagemig-batch", "pagemig-queue",
					"raw-queue"};

static size_t ps, npages, queue = 1024;
static char *buf;
static void **order;  /* pages in request order (shuffled) */
static int *nodes_a, *status_a;
static double *lat; /* per-call latencies of one run, µs */
static size_t nlat;
static unsigned long nsys; /* move_pages(2) calls of one run (moving and querying) */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_d);
	return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

static long raw_move(size_t n, void **pages, int node)
{
	for (size_t i = 0; i < n; i++)
		nodes_a[i] = node, status_a[i] = INT32_MIN;
	return syscall(SYS_move_pages, 0, n, pages, nodes_a, status_a, MPOL_MF_MOVE);
}

static long pm_move(size_t n, void **pages, int node)
{
	struct pagemig_report rep;
	long ret;

	for (size_t i = 0; i < n; i++)
		nodes_a[i] = node;
	pagemig_report_init(&rep);
	ret = pagemig_move(0, n, pages, nodes_a, status_a, NULL, &rep);
	nsys += rep.calls + rep.query_calls;
	return ret;
}

/* One timed run of method m with requests of k pages to node; returns µs. */
static double run(int m, size_t k, int node)
{
	double t0 = now_us(), c0;
	size_t qstart = 0;

	nlat = 0;
	nsys = 0;
	if (m == PMB) {
		/* the library's coalescing; per-call latency = each pagemig_batch_add() (most only
		 * queue, every 1024 pages one sends) and the final flush */
		struct pagemig_batch *b = pagemig_batch_new(0, NULL);
		struct pagemig_report rep;
		long left;

		if (!b) {
			perror("pagemig_batch_new");
			exit(1);
		}
		for (size_t r = 0; r < npages; r += k) {
			size_t n = npages - r < k ? npages - r : k;
			int e;

			c0 = now_us();
			e = pagemig_batch_add(b, order + r, n, node);
			lat[nlat++] = now_us() - c0;
			if (e < 0) {
				fprintf(stderr, "pagemig_batch_add: %s\n", strerror(-e));
				exit(1);
			}
		}
		pagemig_report_init(&rep);
		c0 = now_us();
		left = pagemig_batch_flush(b, &rep);
		lat[nlat++] = now_us() - c0;
		pagemig_batch_free(b);
		if (left != 0)
			fprintf(stderr, "pagemig_batch_flush: %ld\n", left);
		nsys = rep.calls + rep.query_calls;
		return now_us() - t0;
	}
	for (size_t r = 0; r < npages; r += k) {
		size_t n = npages - r < k ? npages - r : k;

		switch (m) {
		case RAW:
		case PM:
			c0 = now_us();
			if (m == RAW)
				raw_move(n, order + r, node);
			else
				pm_move(n, order + r, node);
			lat[nlat++] = now_us() - c0;
			nsys += m == RAW; /* pm_move() counts its own */
			break;
		default: /* queue: append (the pages are already contiguous in order[]), flush when full */
			if (r + n - qstart >= queue || r + n == npages) {
				c0 = now_us();
				if (m == RAWQ)
					raw_move(r + n - qstart, order + qstart, node);
				else
					pm_move(r + n - qstart, order + qstart, node);
				lat[nlat++] = now_us() - c0;
				nsys += m == RAWQ;
				qstart = r + n;
			}
		}
	}
	return now_us() - t0;
}

/* untimed: every page to node with raw calls of 1024, then check */
static size_t place(int node)
{
	size_t off = 0;

	for (size_t i = 0; i < npages; i += 1024)
		raw_move(npages - i < 1024 ? npages - i : 1024, order + i, node);
	for (size_t i = 0; i < npages; i += 1024) {
		size_t n = npages - i < 1024 ? npages - i : 1024;

		syscall(SYS_move_pages, 0, n, order + i, NULL, status_a, 0);
		for (size_t j = 0; j < n; j++)
			off += status_a[j] != node;
	}
	return off;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: field-small [--size MIB] [--reps R] [--k LIST] [--queue PAGES] "
		   "[--nodes A,B]\n"
		   "Small move requests of k pages: one move_pages(2) per request vs one\n"
		   "pagemig_move() per request vs the library's coalescing (one pagemig_batch_add()\n"
		   "per request, one pagemig_batch) vs a caller-side queue flushed with one\n"
		   "pagemig_move() (or one raw move_pages) per --queue pages (default 1024).\n"
		   "Defaults: 32 MiB, 5 reps, k = 1,2,4,8,16.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"size", 1, NULL, 's'}, {"reps", 1, NULL, 'r'},	 {"k", 1, NULL, 'k'},
		{"queue", 1, NULL, 'q'}, {"nodes", 1, NULL, 'n'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t size_mib = 32, ks[16] = {1, 2, 4, 8, 16}, nk = 5;
	int reps = 5, na = -1, nb = -1, c, mem_nodes = 0, first = -1, second = -1;
	struct utsname u;
	char la[64] = "?";
	FILE *f;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': size_mib = strtoul(optarg, NULL, 10); break;
		case 'r': reps = atoi(optarg); break;
		case 'q': queue = strtoul(optarg, NULL, 10); break;
		case 'n':
			if (sscanf(optarg, "%d,%d", &na, &nb) != 2) {
				usage(stderr);
				return 2;
			}
			break;
		case 'k': {
			char *s = optarg, *end;

			for (nk = 0; *s && nk < 16; s = *end ? end + 1 : end) {
				ks[nk++] = strtoul(s, &end, 10);
				if (end == s || !ks[nk - 1])
					return usage(stderr), 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!size_mib || reps < 1 || !queue || numa_available() < 0) {
		usage(stderr);
		return 2;
	}
	for (int n = 0; n <= numa_max_node(); n++)
		if (numa_node_size64(n, NULL) > 0) {
			mem_nodes++;
			if (first < 0)
				first = n;
			else if (second < 0)
				second = n;
		}
	if (na < 0) {
		na = first;
		nb = second < 0 ? first : second;
	}
	ps = (size_t)sysconf(_SC_PAGESIZE);
	npages = (size_mib << 20) / ps;
	buf = mmap(NULL, npages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return perror("mmap"), 1;
	madvise(buf, npages * ps, MADV_NOHUGEPAGE);
	memset(buf, 0x5a, npages * ps);
	order = calloc(npages, sizeof(*order));
	nodes_a = calloc(npages, sizeof(int));
	status_a = calloc(npages, sizeof(int));
	lat = calloc(npages + 1, sizeof(double)); /* one per request, and the batch's flush */
	srand(12345);
	for (size_t i = 0; i < npages; i++)
		order[i] = buf + i * ps;
	for (size_t i = npages - 1; i > 0; i--) { /* scattered requests: shuffle */
		size_t j = (size_t)rand() % (i + 1);
		void *t = order[i];

		order[i] = order[j], order[j] = t;
	}
	uname(&u);
	if ((f = fopen("/proc/loadavg", "r"))) {
		if (!fgets(la, sizeof(la), f))
			la[0] = 0;
		la[strcspn(la, "\n")] = 0;
		fclose(f);
	}
	printf("field-small: %s %s, %ld CPUs, %d memory node(s), loadavg %s, libpagemig %s\n",
	       u.nodename, u.release, sysconf(_SC_NPROCESSORS_ONLN), mem_nodes, la,
	       pagemig_version());
	printf("mode: %s; buffer %zu MiB (%zu pages of 4 KiB, MADV_NOHUGEPAGE), requests of k "
	       "scattered pages, queue flush at %zu pages, %d reps, method order rotated\n",
	       na == nb ? "SAME NODE (overhead only: nothing is copied)" : "CROSS NODE", size_mib,
	       npages, queue, reps);
	if (place(na)) {
		printf("cannot place the buffer on node %d\n", na);
		return 77;
	}
	for (size_t ki = 0; ki < nk; ki++) {
		size_t k = ks[ki];
		double t[NMETH][256], p50[NMETH][256], p99[NMETH][256], ratio[NMETH][256];
		unsigned long calls[NMETH] = {0}, sys[NMETH] = {0};
		int R = reps > 256 ? 256 : reps;

		for (int r = -1; r < R; r++) { /* r = -1: warm-up, untimed */
			int from = (r & 1) ? nb : na, to = (r & 1) ? na : nb;

			if (r < 0)
				from = na, to = nb;
			for (int i = 0; i < NMETH; i++) {
				int m = (i + (r < 0 ? 0 : r)) % NMETH;
				double us;

				if (place(from)) {
					printf("cannot place the buffer on node %d\n", from);
					return 1;
				}
				us = run(m, k, to);
				/* check: every page on the target */
				size_t off = 0;

				for (size_t j = 0; j < npages; j += 1024) {
					size_t n = npages - j < 1024 ? npages - j : 1024;

					syscall(SYS_move_pages, 0, n, order + j, NULL, status_a, 0);
					for (size_t x = 0; x < n; x++)
						off += status_a[x] != to;
				}
				if (off) {
					printf("WRONG: %s k=%zu left %zu pages off node %d\n", meth[m], k,
					       off, to);
					return 1;
				}
				if (r < 0)
					continue;
				t[m][r] = us;
				calls[m] = nlat;
				sys[m] = nsys;
				p50[m][r] = pct(lat, nlat, 0.50);
				p99[m][r] = pct(lat, nlat, 0.99);
			}
			if (r >= 0)
				for (int m = 0; m < NMETH; m++)
					ratio[m][r] = t[RAW][r] / t[m][r];
		}
		printf("\n== k=%zu pages per request (%zu requests)\n", k, (npages + k - 1) / k);
		printf("  %-14s %10s %10s %10s %12s %7s %9s %10s %10s %12s\n", "method", "median ms",
		       "min ms", "max ms", "pages/s", "calls", "syscalls", "call p50", "call p99",
		       "x raw (min..max)");
		double med[NMETH], rmed[NMETH], c50[NMETH], c99[NMETH];

		for (int m = 0; m < NMETH; m++) {
			double tt[256], rr[256], a50[256], a99[256], mn, mx, rmn, rmx;

			memcpy(tt, t[m], sizeof(double) * (size_t)R);
			memcpy(rr, ratio[m], sizeof(double) * (size_t)R);
			memcpy(a50, p50[m], sizeof(double) * (size_t)R);
			memcpy(a99, p99[m], sizeof(double) * (size_t)R);
			med[m] = pct(tt, (size_t)R, 0.5);
			mn = tt[0], mx = tt[R - 1];
			rmed[m] = pct(rr, (size_t)R, 0.5);
			rmn = rr[0], rmx = rr[R - 1];
			c50[m] = pct(a50, (size_t)R, 0.5);
			c99[m] = pct(a99, (size_t)R, 0.5);
			printf("  %-14s %10.1f %10.1f %10.1f %12.0f %7lu %9lu %8.1fus %8.1fus %6.2f "
			       "(%.2f..%.2f)\n",
			       meth[m], med[m] / 1e3, mn / 1e3, mx / 1e3, (double)npages / (med[m] / 1e6),
			       calls[m], sys[m], c50[m], c99[m], rmed[m], rmn, rmx);
		}
		printf("RESULT case=small mode=%s k=%zu pages=%zu queue=%zu reps=%d", na == nb ? "same-node" : "cross-node",
		       k, npages, queue, R);
		for (int m = 0; m < NMETH; m++) {
			char name[32];

			snprintf(name, sizeof(name), "%s", meth[m]);
			for (char *p = name; *p; p++)
				if (*p == '-')
					*p = '_';
			printf(" %s_pps=%.0f %s_call_p50_us=%.1f %s_call_p99_us=%.1f %s_syscalls=%lu "
			       "ratio_%s_raw=%.3f",
			       name, (double)npages / (med[m] / 1e6), name, c50[m], name, c99[m], name,
			       sys[m], name, rmed[m]);
		}
		/* the target is the library's coalescing (pagemig_batch) against raw per request */
		printf(" target=5.0 met=%s\n", rmed[PMB] >= 5.0 ? "yes" : "no");
		fflush(stdout);
	}
	return 0;
}
