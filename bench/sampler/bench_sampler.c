// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-sampler: what the sampler costs the page-fault path of the processes it watches.
 *
 * Touches --size MiB of fresh pages (one write per 4 KiB page, no THP) in --chunk MiB chunks,
 * under four conditions that take turns chunk by chunk (rotating order), in one run:
 *
 *   none      nothing attached
 *   floor     an empty BPF program on exceptions:page_fault_user: what any BPF sampling of
 *             faults costs on this machine
 *   attached  the sampler's fault source loaded, this process not managed: the cost to every
 *             other process on the machine
 *   managed   this process managed: every fault recorded (the cost to a managed process)
 *
 * and reports ns per fault (median and quartiles over the chunks) and the ratio of each
 * condition to "none" (median over chunks of the per-chunk ratio, so slow drifts of the machine
 * cancel). The target is managed/none <= 1.05. Then the same for re-touching pages after their
 * soft-dirty bits were cleared (write-protect faults: what re-arming costs a write), where the
 * kernel has soft-dirty; and the sampler's memory at its configured limits.
 *
 * Every managed chunk is checked: the sampler must report exactly one sample per page touched,
 * nothing dropped. Exit status: 0, 1 on a wrong count or an error, 2 usage, 77 when BPF cannot be
 * used here. Needs root (BPF).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../common.h"
#include "bench_floor.skel.h"
#include "sampler.h"
#include "sampler_bench.h"

#define PAGE 4096ul

enum cond { NONE, FLOOR, ATTACHED, MANAGED, NCOND };
static const char *const cond_name[NCOND] = {"none", "floor", "attached", "managed"};

static unsigned long size_mib = 1024, chunk_mib = 64;
static char *map_chunk(size_t pages)
{
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * PAGE, MADV_NOHUGEPAGE);
	return p;
}

/* ns per page to write one byte into each page. */
static double touch(char *p, size_t pages, char v)
{
	uint64_t t0 = bench_now_ns();

	for (size_t i = 0; i < pages; i++)
		((volatile char *)p)[i * PAGE] = v;
	return (double)(bench_now_ns() - t0) / (double)pages;
}

static int clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

/* What is attached while one chunk runs. */
struct setup {
	struct bench_floor_bpf *floor;
	struct pagemig_sampler *s;
};

static const struct pagemig_sampler_config *sampler_config(void)
{
	static struct pagemig_sampler_config c;

	memset(&c, 0, sizeof(c));
	c.sz = sizeof(c);
	c.sources = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT);
	/* Room for a whole chunk between drains (the defaults otherwise). */
	c.max_pages = (unsigned int)(chunk_mib << 20) / PAGE;
	if (c.max_pages < PAGEMIG_SAMPLER_DEF_PAGES)
		c.max_pages = PAGEMIG_SAMPLER_DEF_PAGES;
	return &c;
}

static int attach(enum cond c, struct setup *st)
{
	int err = 0;

	memset(st, 0, sizeof(*st));
	switch (c) {
	case NONE:
		break;
	case FLOOR:
		st->floor = bench_floor_bpf__open_and_load();
		if (!st->floor)
			return -errno;
		err = bench_floor_bpf__attach(st->floor);
		break;
	case ATTACHED:
	case MANAGED:
		err = pagemig_sampler_new(sampler_config(), &st->s);
		if (err)
			return err;
		if (pagemig_sampler_sources(st->s)[PAGEMIG_SOURCE_FAULT].state !=
		    PAGEMIG_SOURCE_ACTIVE)
			return pagemig_sampler_sources(st->s)[PAGEMIG_SOURCE_FAULT].err ?: -ENODEV;
		if (c == MANAGED)
			err = pagemig_sampler_manage(st->s, getpid());
		break;
	case NCOND:
		break;
	}
	return err;
}

/* For a managed chunk: every page touched is one sample, nothing lost. */
static void check_samples(struct setup *st, const char *what, char *p, size_t pages)
{
	const struct pagemig_snapshot *snap = NULL;
	struct pagemig_sampler_stats ss;
	size_t seen = 0;

	if (!st->s || pagemig_sampler_drain(st->s, &snap))
		return;
	for (size_t i = 0; i < snap->n_pages; i++)
		seen += snap->pages[i].page >= (uintptr_t)p &&
			snap->pages[i].page < (uintptr_t)p + pages * PAGE && snap->pages[i].events;
	pagemig_sampler_stats(st->s, &ss);
	if (seen != pages || ss.ring_dropped || ss.table_dropped)
		sampler_bench_fail("%s: %zu of %zu pages sampled, %" PRIu64 " dropped (ring full), %" PRIu64
		     " dropped (table full)",
		     what, seen, pages, ss.ring_dropped, ss.table_dropped);
}

static void detach(struct setup *st)
{
	bench_floor_bpf__destroy(st->floor);
	pagemig_sampler_free(st->s);
}

/* Run nchunks chunks per condition, rotating the order; retouch: time the second write after
 * clearing soft-dirty instead of the first touch. ns[c][i] per fault. */
static int run(bool retouch, size_t nchunks, double *ns[NCOND])
{
	size_t pages = (chunk_mib << 20) / PAGE;

	for (size_t i = 0; i < nchunks; i++) {
		for (int k = 0; k < NCOND; k++) {
			enum cond c = (enum cond)((i + (size_t)k) % NCOND);
			struct setup st;
			char *p = map_chunk(pages);
			int err;

			if (!p)
				return -ENOMEM;
			if (retouch) {
				touch(p, pages, 1);
				err = clear_soft_dirty();
				if (err) {
					munmap(p, pages * PAGE);
					return err;
				}
			}
			err = attach(c, &st);
			if (err) {
				detach(&st);
				munmap(p, pages * PAGE);
				return err;
			}
			ns[c][i] = touch(p, pages, 2);
			if (c == MANAGED)
				check_samples(&st, retouch ? "re-touch" : "first touch", p, pages);
			detach(&st);
			munmap(p, pages * PAGE);
		}
	}
	return 0;
}

static void report(const char *title, size_t nchunks, double *ns[NCOND])
{
	double *ratio = calloc(nchunks, sizeof(*ratio));
	struct bench_stats none = bench_stats(ns[NONE], nchunks);

	printf("\n%s: %zu chunks of %lu MiB per condition\n", title, nchunks, chunk_mib);
	printf("  %-9s %10s %10s %10s   %-22s\n", "condition", "ns/fault", "q1", "q3",
	       "vs none (median, q1-q3)");
	for (int c = 0; c < NCOND; c++) {
		struct bench_stats t = bench_stats(ns[c], nchunks), r;

		for (size_t i = 0; ratio && i < nchunks; i++)
			ratio[i] = ns[c][i] / ns[NONE][i];
		r = ratio ? bench_stats(ratio, nchunks) : t;
		printf("  %-9s %10.0f %10.0f %10.0f   %.3f (%.3f-%.3f)%s\n", cond_name[c], t.median,
		       t.q1, t.q3, c == NONE ? 1.0 : r.median, c == NONE ? 1.0 : r.q1,
		       c == NONE ? 1.0 : r.q3,
		       c == MANAGED ? (r.median <= 1.05 ? "  target <= 1.05: met"
							: "  target <= 1.05: missed")
				    : "");
	}
	(void)none;
	free(ratio);
}

static void memory_report(void)
{
	const struct pagemig_sampler_config *c = sampler_config();
	struct pagemig_sampler_config def = {.sz = sizeof(def)}, big = def;
	struct pagemig_sampler_memory m, e;
	struct pagemig_sampler *s = NULL;
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	int nodes[BENCH_MAX_NODES], nn = bench_memory_nodes(nodes, BENCH_MAX_NODES);

	printf("\nsampler memory (MiB):  %-30s %8s %8s %8s %8s %8s %8s %8s %8s\n", "limits",
	       "access", "oncpu", "audit", "other", "aggreg.", "snapsh.", "audit-u", "total");
#define ROW(name, x)                                                                             \
	printf("                       %-30s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", \
	       name, (x).kernel_access / 1048576.0, (x).kernel_oncpu / 1048576.0,                \
	       (x).kernel_audit / 1048576.0, (x).kernel_other / 1048576.0,                       \
	       (x).user_drain / 1048576.0, (x).user_snapshot / 1048576.0,                        \
	       (x).user_audit / 1048576.0, (x).total / 1048576.0)
	if (!pagemig_sampler_new(c, &s) && !pagemig_sampler_memory(s, &m))
		ROW("this run (fault only), in use", m);
	pagemig_sampler_free(s);
	s = NULL;
	if (!pagemig_sampler_new(&def, &s) && !pagemig_sampler_memory(s, &m))
		ROW("defaults, every source, in use", m);
	pagemig_sampler_free(s);
	pagemig_sampler_estimate(&def, nn > 0 ? (unsigned int)nn : 1, (unsigned int)ncpus, &e);
	ROW("defaults, estimate", e);
	big.max_pages = 1u << 20;
	big.access_ring_bytes = 64u << 20;
	big.ringbuf_bytes = 16u << 20;
	big.max_tgids = 4096;
	pagemig_sampler_estimate(&big, nn > 0 ? (unsigned int)nn : 1, (unsigned int)ncpus, &e);
	ROW("1M pages, 64+16 MiB rings, 4096 procs", e);
#undef ROW
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: bench-sampler [--size MiB] [--chunk MiB]\n"
		     "  --size MiB   fresh memory touched per condition (default 1024)\n"
		     "  --chunk MiB  per turn; conditions alternate every chunk (default 64)\n"
		     "Needs root (BPF). See bench/sampler/README.md.\n");
}

int main(int argc, char **argv)
{
	double *ns[NCOND] = {0}, *sd[NCOND] = {0};
	int nodes[BENCH_MAX_NODES], nn, err;
	struct pagemig_sampler *probe = NULL;
	bool softdirty;
	size_t nchunks;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (bench_parse_ulong(argv[++i], 1, 1 << 20, &size_mib))
				return usage(stderr), BENCH_EXIT_USAGE;
		} else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) {
			if (bench_parse_ulong(argv[++i], 1, 4096, &chunk_mib))
				return usage(stderr), BENCH_EXIT_USAGE;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return BENCH_EXIT_OK;
		} else {
			usage(stderr);
			return BENCH_EXIT_USAGE;
		}
	}
	if (chunk_mib > size_mib)
		chunk_mib = size_mib;
	nchunks = size_mib / chunk_mib;
	sampler_bench_init("bench-sampler");
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Can we sample faults here at all, and is there soft-dirty? */
	{
		struct pagemig_sampler_config pc = {
			.sz = sizeof(pc),
			.sources = PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_FAULT) |
				   PAGEMIG_SOURCE_BIT(PAGEMIG_SOURCE_SOFTDIRTY),
		};

		if (pagemig_sampler_new(&pc, &probe))
			return BENCH_EXIT_FAIL;
		if (pagemig_sampler_sources(probe)[PAGEMIG_SOURCE_FAULT].state !=
		    PAGEMIG_SOURCE_ACTIVE) {
			printf("bench-sampler: skipped: fault source: %s\n",
			       pagemig_sampler_sources(probe)[PAGEMIG_SOURCE_FAULT].detail);
			pagemig_sampler_free(probe);
			return BENCH_EXIT_SKIP;
		}
		softdirty = pagemig_sampler_sources(probe)[PAGEMIG_SOURCE_SOFTDIRTY].state !=
			    PAGEMIG_SOURCE_UNAVAILABLE;
		pagemig_sampler_free(probe);
	}

	nn = bench_memory_nodes(nodes, BENCH_MAX_NODES);
	bench_print_header(stdout, "bench-sampler: page-fault cost of the sampler", argc, argv,
			   nodes, nn);
	for (int c = 0; c < NCOND; c++) {
		ns[c] = calloc(nchunks, sizeof(double));
		sd[c] = calloc(nchunks, sizeof(double));
		if (!ns[c] || !sd[c])
			return BENCH_EXIT_FAIL;
	}

	/* Warm up: the first touches of a VM's memory cost the hypervisor's faults too. */
	{
		size_t pages = (chunk_mib << 20) / PAGE;

		for (int w = 0; w < 2; w++) {
			char *p = map_chunk(pages);

			if (p) {
				touch(p, pages, 1);
				munmap(p, pages * PAGE);
			}
		}
	}

	err = run(false, nchunks, ns);
	if (err) {
		sampler_bench_fail("first-touch run: %s", strerror(-err));
		return err == -EPERM ? BENCH_EXIT_SKIP : BENCH_EXIT_FAIL;
	}
	report("first touch of fresh pages", nchunks, ns);

	if (softdirty) {
		err = run(true, nchunks, sd);
		if (err)
			sampler_bench_fail("re-touch run: %s", strerror(-err));
		else
			report("re-touch after clearing soft-dirty (write-protect faults)", nchunks,
			       sd);
	} else {
		printf("\nre-touch after clearing soft-dirty: skipped, the kernel has no "
		       "soft-dirty "
		       "tracking\n");
	}
	memory_report();
	for (int c = 0; c < NCOND; c++) {
		free(ns[c]);
		free(sd[c]);
	}
	return sampler_bench_failed() ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}
