// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-audit: what the migration audit costs the page moves it follows.
 *
 * Moves a buffer of --size MiB (4 KiB pages, no THP) between the first two memory nodes with
 * move_pages(2), --per-call pages a call, once per turn, under three conditions that take turns
 * (rotating order) for --rounds rounds, in one run:
 *
 *   none      the sampler with its on-CPU source only (sched_switch), not the audit
 *   attached  the on-CPU and audit sources, as pagemigd loads them, this process not audited:
 *             what every other mover (NUMA balancing, compaction) pays for the per-reason counts
 *   audited   this process an audited mover, as pagemigd is: both steps of every page (4 and
 *             16) recorded for the audit
 *
 * and reports microseconds per page spent in move_pages(2) (median and quartiles over the
 * rounds) and each condition over "none" (median of the per-round ratios, so that slow drifts
 * of a shared machine fall on all conditions alike). For "audited" also the time user space
 * took to read the records after each call (not in the figure above: pagemigd pays it between
 * calls). Every turn is checked: every page on its target after it, and the audit saw exactly
 * two steps a page when audited, none when not, nothing dropped.
 *
 * Needs root (BPF) and two memory nodes; exit status 0, 1 on a wrong result or an error, 2
 * usage, 77 when it cannot measure here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../common.h"
#include "sampler.h"
#include "sampler_bench.h"

#define PAGE 4096ul

enum cond { NONE, ATTACHED, AUDITED, NCOND };
static const char *const cond_name[NCOND] = {"none", "attached", "audited"};

static unsigned long size_mib = 64, per_call = 256, rounds = 5;
/* The buffer and the arrays of one move_pages(2) pass over it. */
struct buf {
	char *p;
	size_t pages;
	void **addr;
	int *node;
	int *status;
};

static struct pagemig_sampler *load(enum cond c, size_t pages)
{
	struct pagemig_sampler_config cfg = {
		.sz = sizeof(cfg),
		/* the audit shares its sched_switch program with the on-CPU source (when loaded) */
		.sources = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_ONCPU) |
			   (c == NONE ? 0 : PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_AUDIT)),
		/* room for a whole call's records: the ring is read after each call */
		.ringbuf_bytes = 16u << 20,
		.audit_pages = (unsigned int)pages,
	};
	struct pagemig_sampler *s = NULL;
	int err;

	err = pagemig_sampler_new(&cfg, &s);
	if (!err && c != NONE &&
	    pagemig_sampler_sources(s)[PAGEMIG_SOURCE_AUDIT].state != PAGEMIG_SOURCE_ACTIVE) {
		sampler_bench_fail("the audit source did not load: %s",
		     pagemig_sampler_sources(s)[PAGEMIG_SOURCE_AUDIT].detail);
		err = -ENODEV;
	}
	if (!err && c == AUDITED)
		err = pagemig_sampler_audit_mover(s, getpid(), true);
	if (err) {
		if (!sampler_bench_failed())
			sampler_bench_fail("loading the sampler: %s", strerror(-err));
		pagemig_sampler_free(s);
		return NULL;
	}
	return s;
}

/* Move every page to node `to`, per_call pages a call; us per page in the calls, *read_us
 * per page reading the audit's records after them. */
static double pass(struct buf *b, int to, struct pagemig_sampler *s, double *read_us)
{
	uint64_t in_calls = 0, reading = 0;

	for (size_t i = 0; i < b->pages; i++)
		b->node[i] = to;
	for (size_t i = 0; i < b->pages; i += per_call) {
		size_t n = b->pages - i < per_call ? b->pages - i : per_call;
		uint64_t t0 = bench_now_ns(), t1;

		if (move_pages(0, n, b->addr + i, b->node + i, b->status + i, MPOL_MF_MOVE))
			sampler_bench_fail("move_pages: %s", strerror(errno));
		t1 = bench_now_ns();
		in_calls += t1 - t0;
		if (s) {
			pagemig_sampler_audit_poll(s, 0);
			reading += bench_now_ns() - t1;
		}
	}
	*read_us = (double)reading / 1e3 / (double)b->pages;
	return (double)in_calls / 1e3 / (double)b->pages;
}

/* After a turn: every page on `to`, and the audit's count of what it saw. */
static void check(struct buf *b, int to, enum cond c, struct pagemig_sampler *s,
		  uint64_t events_before)
{
	struct pagemig_sampler_stats st;
	size_t off = 0;
	uint64_t steps;

	if (move_pages(0, b->pages, b->addr, NULL, b->status, 0))
		sampler_bench_fail("query: %s", strerror(errno));
	for (size_t i = 0; i < b->pages; i++)
		off += b->status[i] != to;
	if (off)
		sampler_bench_fail("%s: %zu of %zu pages not on node %d after the pass", cond_name[c], off,
		     b->pages, to);
	if (!s)
		return;
	pagemig_sampler_audit_poll(s, 0);
	pagemig_sampler_stats(s, &st);
	/* the records of the turn: a START and an END per call, two steps per page */
	steps = st.audit_events - events_before;
	if (c == AUDITED && (steps < 2 * b->pages || st.audit_dropped))
		sampler_bench_fail("audited: %" PRIu64 " records for %zu pages (at least %zu expected), %" PRIu64
		     " dropped",
		     steps, b->pages, 2 * b->pages, st.audit_dropped);
	if (c == ATTACHED && steps)
		sampler_bench_fail("attached: %" PRIu64 " records of a mover not audited", steps);
}

static void report(double *us[NCOND], double *read_us)
{
	double *ratio = calloc(rounds, sizeof(*ratio));
	struct bench_stats rd = bench_stats(read_us, rounds);

	printf("\nmoves of %lu MiB, %lu pages a call: %lu rounds, conditions in turn\n", size_mib,
	       per_call, rounds);
	printf("  %-9s %10s %8s %8s   %-22s\n", "condition", "us/page", "q1", "q3",
	       "vs none (median, q1-q3)");
	for (int c = 0; c < NCOND; c++) {
		struct bench_stats t = bench_stats(us[c], rounds), r = t;

		for (size_t i = 0; ratio && i < rounds; i++)
			ratio[i] = us[c][i] / us[NONE][i];
		if (ratio)
			r = bench_stats(ratio, rounds);
		printf("  %-9s %10.2f %8.2f %8.2f   %.3f (%.3f-%.3f)\n", cond_name[c], t.median,
		       t.q1, t.q3, c == NONE ? 1.0 : r.median, c == NONE ? 1.0 : r.q1,
		       c == NONE ? 1.0 : r.q3);
	}
	printf("  reading the audit's records after each call (audited): %.2f us/page "
	       "(q1 %.2f, q3 %.2f)\n",
	       rd.median, rd.q1, rd.q3);
	free(ratio);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: bench-audit [--size MiB] [--per-call N] [--rounds N]\n"
		     "  --size MiB      buffer moved between the first two memory nodes (default 64)\n"
		     "  --per-call N    pages per move_pages(2) call (default 256)\n"
		     "  --rounds N      turns of each condition (default 5)\n"
		     "Needs root (BPF) and two memory nodes. See bench/sampler/README.md.\n");
}

static int parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		unsigned long *v = !strcmp(argv[i], "--size")	    ? &size_mib
				   : !strcmp(argv[i], "--per-call") ? &per_call
				   : !strcmp(argv[i], "--rounds")   ? &rounds
								    : NULL;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(BENCH_EXIT_OK);
		}
		if (!v || i + 1 >= argc ||
		    bench_parse_ulong(argv[++i], 1, v == &size_mib ? 1 << 16 : 1 << 20, v)) {
			usage(stderr);
			return -EINVAL;
		}
	}
	return 0;
}

static int alloc_buf(struct buf *b)
{
	b->pages = (size_mib << 20) / PAGE;
	b->p = mmap(NULL, b->pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	b->addr = calloc(b->pages, sizeof(*b->addr));
	b->node = calloc(b->pages, sizeof(*b->node));
	b->status = calloc(b->pages, sizeof(*b->status));
	if (b->p == MAP_FAILED || !b->addr || !b->node || !b->status)
		return -ENOMEM;
	madvise(b->p, b->pages * PAGE, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < b->pages; i++) {
		b->p[i * PAGE] = 1;
		b->addr[i] = b->p + i * PAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	double *us[NCOND] = {0}, *read_us;
	int nodes[BENCH_MAX_NODES], nn, at = 0;
	struct buf b = {0};

	if (parse(argc, argv))
		return BENCH_EXIT_USAGE;
	sampler_bench_init("bench-audit");
	setvbuf(stdout, NULL, _IOLBF, 0);
	nn = bench_memory_nodes(nodes, BENCH_MAX_NODES);
	if (nn < 2) {
		printf("bench-audit: skipped: one memory node (the kernel moves nothing)\n");
		return BENCH_EXIT_SKIP;
	}
	bench_print_header(stdout, "bench-audit: move_pages(2) cost of the migration audit", argc,
			   argv, nodes, nn);
	read_us = calloc(rounds, sizeof(*read_us));
	for (int c = 0; c < NCOND; c++)
		us[c] = calloc(rounds, sizeof(double));
	if (!read_us || !us[NONE] || !us[ATTACHED] || !us[AUDITED] || alloc_buf(&b))
		return BENCH_EXIT_FAIL;

	/* Start on the first node; a first pass warms the kernel's paths up. */
	pass(&b, nodes[0], NULL, &(double){0});
	pass(&b, nodes[1], NULL, &(double){0});
	at = 1;
	for (size_t i = 0; i < rounds && !sampler_bench_failed(); i++) {
		for (int k = 0; k < NCOND && !sampler_bench_failed(); k++) {
			enum cond c = (enum cond)((i + (size_t)k) % NCOND);
			struct pagemig_sampler *s = load(c, b.pages);
			struct pagemig_sampler_stats st = {0};
			double rd = 0;
			int to = nodes[at ^ 1];

			if (!s)
				break;
			if (s)
				pagemig_sampler_stats(s, &st);
			us[c][i] = pass(&b, to, s, &rd);
			if (c == AUDITED)
				read_us[i] = rd;
			at ^= 1;
			check(&b, to, c, s, st.audit_events);
			pagemig_sampler_free(s);
		}
	}
	if (sampler_bench_failed()) {
		if (geteuid())
			return BENCH_EXIT_SKIP;
		return BENCH_EXIT_FAIL;
	}
	report(us, read_us);
	return BENCH_EXIT_OK;
}
