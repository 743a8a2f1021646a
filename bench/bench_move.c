// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-move: migration throughput of pagemig_move() against raw move_pages(2) and libnuma's
 * numa_move_pages() on the same buffer, in the same run, alternating, with the same number of
 * entries per call. numa_move_pages() is a thin wrapper around the same system call, so the
 * numa/raw ratio is an A/A comparison: how far it strays from 1.00 is the run's noise floor.
 *
 * With two memory nodes every timed run moves the buffer from one node to the other; each
 * repetition flips the direction, and before every timed run the buffer is put back (untimed)
 * on the run's source node, so every method starts from the same placement and gets the same
 * directions. With one memory node every move targets the node the pages are on: the kernel
 * copies nothing and the benchmark measures per-call and per-page overhead only.
 *
 * After every run (untimed) a nodes=NULL query must find every page on the target and the
 * buffer's checksum must be unchanged, or the benchmark fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pagemig/pagemig.h"

#include "common.h"

#define SENTINEL       INT_MIN
#define MAX_LIST       16
#define MAX_N	       65536 /* pagemig clamps pages_per_call here */
#define PLACE_CHUNK    4096
#define QUERY_CHUNK    65536
#define TARGET_4K      0.97
#define TARGET_THP     1.00
#define TARGET_4K_MINN 512
#define TARGET_SMALL   5.0 /* pagemig_batch vs one move_pages(2) per request (issue: coalescing) */
#define SMALL_MAX      16  /* small requests carry 1..SMALL_MAX pages */

static const unsigned long default_sweep[] = {64, 256, 512, 1024, 4096};

enum method {
	M_PAGEMIG,  /* pagemig_move, pages_per_call = N, no budget, verification on */
	M_RAW,	    /* syscall(SYS_move_pages) */
	M_NUMA,	    /* numa_move_pages() */
	M_DEFAULTS, /* pagemig_move with opts = NULL */
	M_NOVERIFY, /* M_PAGEMIG + PAGEMIG_NO_VERIFY */
	M_NODEDUP,  /* M_PAGEMIG + PAGEMIG_NO_FOLIO_DEDUP */
	M__COUNT
};

struct method_info {
	const char *name; /* table row */
	const char *key;  /* RESULT field prefix, --extra name */
	const char *what;
	bool library;
};

static const struct method_info methods[M__COUNT] = {
	[M_PAGEMIG] = {"pagemig", "pagemig",
		       "pagemig_move(), pages_per_call=N, call_budget_us=UINT_MAX, verification on",
		       true},
	[M_RAW] = {"raw", "raw",
		   "syscall(SYS_move_pages, 0, N, ..., MPOL_MF_MOVE), status pre-filled", false},
	[M_NUMA] = {"numa", "numa", "numa_move_pages() (libnuma), N entries per call", false},
	[M_DEFAULTS] = {"pagemig-defaults", "defaults",
			"pagemig_move() with opts=NULL: the library's defaults", true},
	[M_NOVERIFY] = {"pagemig-noverify", "noverify", "as pagemig, plus PAGEMIG_NO_VERIFY", true},
	[M_NODEDUP] = {"pagemig-nodedup", "nodedup", "as pagemig, plus PAGEMIG_NO_FOLIO_DEDUP",
		       true},
};

enum kind { K_4K, K_THP, K__COUNT };

static const char *const kind_name[K__COUNT] = {"4k", "thp"};

struct config {
	unsigned long sizes[MAX_LIST]; /* MiB */
	size_t nsizes;
	unsigned long ns[MAX_LIST]; /* entries per call */
	size_t nns;
	unsigned long reps;
	unsigned long warmup;
	bool kinds[K__COUNT];
	bool enabled[M__COUNT];
	int node_a, node_b; /* the run alternates between these; equal: same-node mode */
	bool full_checksum;
	bool strict;
	bool verbose;
	long cpu; /* pin to this CPU, -1: no pinning */
	unsigned long small_mib; /* --small: buffer of the small-request case, 0: not run */
};

struct buffer {
	enum kind kind;
	size_t bytes;
	size_t npages;
	size_t ps;
	char *map;
	size_t map_len;
	char *base;
	void **pages;
	int *nodes;
	int *status;
	uint64_t sum;
	long thp_kb_before; /* AnonHugePages of the buffer before the runs, -1 unknown */
	long thp_kb_after;
};

/* What one method collected over the timed repetitions of one case. */
struct method_data {
	double *run_ns;	   /* per repetition */
	uint64_t *call_ns; /* per call (raw and numa) */
	size_t ncall;
	size_t call_cap;
	uint64_t max_call_ns;
	uint64_t call_ns_sum;
	unsigned long calls;
	/* pagemig's report, summed over timed runs */
	unsigned long entries;
	unsigned long queries;
	unsigned long frames_verified;
	unsigned long deduped;
	unsigned long retries;
	uint64_t kernel_ns;
	uint64_t wall_ns;
	long long migrated; /* /proc/vmstat pgmigrate_success, summed; -1 unknown */
	struct pagemig_report hist; /* pagemig: call_hist summed over the timed runs */
};

static const char *prog = "bench-move";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench-move [OPTION]...\n"
		"\n"
		"Move one buffer with pagemig_move(), raw move_pages(2) and libnuma's\n"
		"numa_move_pages(), alternating the methods in one run with the same number of\n"
		"entries per call (N), and print throughput, per-call latency and the ratios\n"
		"pagemig/raw and numa/raw (the numa/raw A/A ratio is the noise floor: the\n"
		"larger of |1 - its median| and half its interquartile range).\n"
		"With two memory nodes every timed run moves the whole buffer from one node to\n"
		"the other; with one memory node it measures overhead only (every page is already\n"
		"on the target, nothing is copied).\n"
		"\n"
		"  -s, --size MIB[,MIB...]   buffer sizes in MiB, 1..65536 (default 64)\n"
		"  -n, --pages-per-call N[,N...]\n"
		"                            entries per move_pages(2) call, 1..%d\n"
		"                            (default 512)\n"
		"      --sweep               N = 64,256,512,1024,4096 (-n with that list)\n"
		"  -r, --reps R              timed repetitions per method, 1..1000 (default 7)\n"
		"  -w, --warmup W            untimed rounds of every method first, 0..100\n"
		"                            (default 1)\n"
		"  -c, --case 4k|thp|all     4 KiB pages (MADV_NOHUGEPAGE), transparent huge\n"
		"                            pages (MADV_HUGEPAGE, 2 MiB aligned), or both\n"
		"                            (default all)\n"
		"      --nodes A,B           memory nodes to move between (default: the first\n"
		"                            two memory nodes; A,A or one memory node: a\n"
		"                            same-node overhead run)\n"
		"      --extra LIST          extra pagemig variants, comma-separated, or none:\n"
		"                            defaults (opts=NULL), noverify (PAGEMIG_NO_VERIFY),\n"
		"                            nodedup (PAGEMIG_NO_FOLIO_DEDUP) (default: defaults)\n"
		"      --cpu CPU             pin the benchmark to this CPU (default: no pinning)\n"
		"      --full-checksum       checksum every byte after each run (default: 8 words\n"
		"                            of every 4 KiB page)\n"
		"      --small MIB           also run the small-request case: move a MIB buffer\n"
		"                            of 4 KiB pages in requests of 1..16 pages, one\n"
		"                            move_pages(2) per request vs pagemig_move() per\n"
		"                            request vs pagemig_batch (target: batch >= 5x)\n"
		"      --strict              exit 3 when a target is missed\n"
		"  -v, --verbose             print every timed run\n"
		"  -h, --help                show this help\n"
		"\n"
		"Targets (issue 2): pagemig >= %.2fx raw for 4 KiB pages at N >= %d with\n"
		"verification on; >= %.2fx for huge pages. They are defined for moves between\n"
		"nodes; a same-node run reports them against overhead only and says so.\n"
		"\n"
		"Output: a header, a table per case and one line per case starting with RESULT\n"
		"(key=value fields). MB = 10^6 bytes; pages/s counts 4 KiB pages.\n"
		"\n"
		"Exit status: 0 done (targets met or not), 1 a wrong result (a page off target,\n"
		"changed data) or an error, 2 usage error, 3 --strict and a target missed,\n"
		"77 move_pages(2) is not available or not permitted here.\n",
		MAX_N, TARGET_4K, TARGET_4K_MINN, TARGET_THP);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return BENCH_EXIT_USAGE;
}

/* ---- moving ------------------------------------------------------------------------------ */

static long raw_move(size_t k, void **pages, const int *nodes, int *status, int flags)
{
	return syscall(SYS_move_pages, 0, (unsigned long)k, pages, nodes, status, flags);
}

/* Ask where every page of the buffer is, into its status. Returns 0 or -errno. */
static int query_all(void *buffer)
{
	struct buffer *b = buffer;

	for (size_t off = 0; off < b->npages; off += QUERY_CHUNK) {
		size_t k = b->npages - off < QUERY_CHUNK ? b->npages - off : QUERY_CHUNK;

		for (size_t j = 0; j < k; j++)
			b->status[off + j] = SENTINEL;
		if (raw_move(k, b->pages + off, NULL, b->status + off, 0) < 0)
			return -errno;
	}
	return 0;
}

static void set_target(struct buffer *b, int node)
{
	for (size_t i = 0; i < b->npages; i++)
		b->nodes[i] = node;
}

/* Print where the pages are when they are not where they should be. */
static void describe_off(const struct buffer *b, int node)
{
	size_t off = 0, shown = 0;

	for (size_t i = 0; i < b->npages; i++)
		if (b->status[i] != node) {
			off++;
			if (shown < 5) {
				fprintf(stderr, "%s:   page %zu (%p): status %d\n", prog, i,
					b->pages[i], b->status[i]);
				shown++;
			}
		}
	fprintf(stderr, "%s:   %zu of %zu pages not on node %d\n", prog, off, b->npages, node);
}

/* Untimed: put the whole buffer on node (raw calls, a few passes), then check. */
static int place(struct buffer *b, int node)
{
	bool all = false;
	int err;

	set_target(b, node);
	for (int pass = 0; pass < 5 && !all; pass++) {
		if (pass)
			usleep(BENCH_SETTLE_US);
		for (size_t off = 0; off < b->npages; off += PLACE_CHUNK) {
			size_t k = b->npages - off < PLACE_CHUNK ? b->npages - off : PLACE_CHUNK;

			if (raw_move(k, b->pages + off, b->nodes + off, b->status + off,
				     MPOL_MF_MOVE) < 0)
				return -errno;
		}
		err = query_all(b);
		if (err)
			return err;
		all = true;
		for (size_t i = 0; i < b->npages && all; i++)
			all = b->status[i] == node;
	}
	if (all)
		return 0;
	fprintf(stderr, "%s: could not place the buffer on node %d before a run\n", prog, node);
	describe_off(b, node);
	return -EIO;
}

static size_t count_off(const void *buffer, int node)
{
	const struct buffer *b = buffer;
	size_t off = 0;

	for (size_t i = 0; i < b->npages; i++)
		off += b->status[i] != node;
	return off;
}

/* Pages that a query found off target and a later query on target: another mover (compaction,
 * NUMA balancing, khugepaged) had them under migration, which reads as -ENOENT. Per case. */
static unsigned long transients;
/* Pages pagemig_move() said were off target that the check found on target. Per case. */
static unsigned long false_off;

/*
 * Untimed: every page on node and the contents unchanged. A page under migration by someone
 * else reads as not present for a moment, so a mismatch is asked again a few times before it
 * counts as wrong.
 */
static int verify(struct buffer *b, int node, const struct config *cfg, const char *who)
{
	size_t first;
	long off = bench_settle_off(query_all, count_off, b, node, &first);
	int err = off < 0 ? (int)off : 0;

	if (err) {
		fprintf(stderr, "%s: verification query after %s: %s\n", prog, who, strerror(-err));
		return err;
	}
	if (off) {
		fprintf(stderr, "%s: WRONG RESULT after %s: pages not on target node %d\n", prog,
			who, node);
		describe_off(b, node);
		return -EIO;
	}
	if (first) {
		transients += first;
		printf("  note: after %s %zu page(s) read as off target and settled on target when "
		       "asked again (another mover had them under migration)\n",
		       who, first);
	}
	if (bench_checksum(b->base, b->bytes, cfg->full_checksum) != b->sum) {
		fprintf(stderr, "%s: WRONG RESULT after %s: buffer contents changed\n", prog, who);
		return -EIO;
	}
	return 0;
}

static void record_call(struct method_data *d, uint64_t ns)
{
	if (d->ncall < d->call_cap)
		d->call_ns[d->ncall++] = ns;
	d->call_ns_sum += ns;
	d->calls++;
	if (ns > d->max_call_ns)
		d->max_call_ns = ns;
}

/* raw or numa: N entries per call, status pre-filled, MPOL_MF_MOVE, nothing else. */
static int run_plain(enum method m, struct buffer *b, size_t n, struct method_data *d, uint64_t *ns)
{
	uint64_t t0 = bench_now_ns(), c0, c1;

	for (size_t off = 0; off < b->npages; off += n) {
		size_t k = b->npages - off < n ? b->npages - off : n;
		long ret;

		for (size_t j = 0; j < k; j++)
			b->status[off + j] = SENTINEL;
		c0 = bench_now_ns();
		if (m == M_RAW)
			ret = raw_move(k, b->pages + off, b->nodes + off, b->status + off,
				       MPOL_MF_MOVE);
		else
			ret = numa_move_pages(0, k, b->pages + off, b->nodes + off, b->status + off,
					      MPOL_MF_MOVE);
		c1 = bench_now_ns();
		if (ret < 0)
			return -errno;
		if (d)
			record_call(d, c1 - c0);
	}
	*ns = bench_now_ns() - t0;
	return 0;
}

static int run_pagemig(enum method m, struct buffer *b, size_t n, struct method_data *d,
		       uint64_t *ns, long *claimed_off)
{
	struct pagemig_opts o = {
		.sz = sizeof(o),
		.pages_per_call = (unsigned int)n,
		.call_budget_us = UINT_MAX,
	};
	struct pagemig_report rep;
	uint64_t t0;
	long ret;

	if (m == M_NOVERIFY)
		o.flags |= PAGEMIG_NO_VERIFY;
	if (m == M_NODEDUP)
		o.flags |= PAGEMIG_NO_FOLIO_DEDUP;
	pagemig_report_init(&rep);
	t0 = bench_now_ns();
	ret = pagemig_move(0, b->npages, b->pages, b->nodes, b->status, m == M_DEFAULTS ? NULL : &o,
			   &rep);
	*ns = bench_now_ns() - t0;
	*claimed_off = ret > 0 ? ret : 0;
	if (ret < 0) {
		fprintf(stderr, "%s: %s: pagemig_move failed: %s\n", prog, methods[m].name,
			strerror((int)-ret));
		pagemig_report_print(stderr, &rep, methods[m].name);
		return (int)ret;
	}
	if (ret > 0) {
		/* the check after the run decides whether they are off target */
		fprintf(stderr, "%s: %s: pagemig_move says %ld pages are off target\n", prog,
			methods[m].name, ret);
		pagemig_report_print(stderr, &rep, methods[m].name);
	}
	if (d) {
		d->calls += rep.calls;
		d->call_ns_sum += rep.kernel_ns;
		if (rep.max_call_ns > d->max_call_ns)
			d->max_call_ns = rep.max_call_ns;
		d->entries += rep.entries_sent;
		d->queries += rep.query_calls;
		d->frames_verified += rep.frames_verified;
		d->deduped += rep.folios_deduped;
		d->retries += rep.retries;
		d->kernel_ns += rep.kernel_ns;
		d->wall_ns += *ns;
		d->hist.sz = sizeof(d->hist);
		for (int i = 0; i < PAGEMIG_CALL_HIST_BUCKETS; i++)
			d->hist.call_hist[i] += rep.call_hist[i];
	}
	return 0;
}

/*
 * One run of method m: put the buffer on from (untimed), move it to `to` (timed), check
 * (untimed). d is NULL for warm-up rounds. Returns 0 or -errno.
 */
static int one_run(enum method m, struct buffer *b, size_t n, int from, int to,
		   const struct config *cfg, struct method_data *d, size_t rep)
{
	long long vm0, vm1;
	uint64_t ns = 0;
	long claimed_off = 0;
	int err;

	if (from != to) {
		err = place(b, from);
		if (err)
			return err;
	}
	set_target(b, to);
	vm0 = bench_vmstat("pgmigrate_success");
	if (methods[m].library)
		err = run_pagemig(m, b, n, d, &ns, &claimed_off);
	else
		err = run_plain(m, b, n, d, &ns);
	vm1 = bench_vmstat("pgmigrate_success");
	if (err) {
		if (!methods[m].library)
			fprintf(stderr, "%s: %s: move_pages failed: %s\n", prog, methods[m].name,
				strerror(-err));
		return err;
	}
	err = verify(b, to, cfg, methods[m].name);
	if (err)
		return err;
	if (claimed_off) {
		false_off += (unsigned long)claimed_off;
		printf("  WARNING: %s returned %ld (pages off target), but every page is on "
		       "target: "
		       "its verification raced another mover\n",
		       methods[m].name, claimed_off);
	}
	if (d) {
		d->run_ns[rep] = (double)ns;
		if (vm0 < 0 || vm1 < 0 || d->migrated < 0)
			d->migrated = -1;
		else
			d->migrated += vm1 - vm0;
		if (cfg->verbose)
			printf("  run %zu %-17s %d->%d %10.3f ms  pgmigrate_success %+lld\n", rep,
			       methods[m].name, from, to, (double)ns / 1e6,
			       vm0 < 0 || vm1 < 0 ? 0 : vm1 - vm0);
	}
	return 0;
}

/* ---- buffer ------------------------------------------------------------------------------ */

static void buffer_free(struct buffer *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	free(b->pages);
	free(b->nodes);
	free(b->status);
	memset(b, 0, sizeof(*b));
}

static int buffer_alloc(struct buffer *b, enum kind kind, size_t mib, const struct config *cfg)
{
	size_t align = bench_pmd_size();
	uintptr_t start;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->ps = (size_t)sysconf(_SC_PAGESIZE);
	b->bytes = mib << 20;
	b->npages = b->bytes / b->ps;
	b->map_len = b->bytes + align;
	b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return -errno;
	}
	start = ((uintptr_t)b->map + align - 1) & ~(uintptr_t)(align - 1);
	b->base = (char *)start;
	if (madvise(b->base, b->bytes, kind == K_THP ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) < 0 &&
	    kind == K_THP)
		fprintf(stderr, "%s: madvise(MADV_HUGEPAGE): %s\n", prog, strerror(errno));
	b->pages = malloc(b->npages * sizeof(*b->pages));
	b->nodes = malloc(b->npages * sizeof(*b->nodes));
	b->status = malloc(b->npages * sizeof(*b->status));
	if (!b->pages || !b->nodes || !b->status)
		return -ENOMEM;
	for (size_t i = 0; i < b->npages; i++)
		b->pages[i] = b->base + i * b->ps;
	bench_fill(b->base, b->bytes, (uint64_t)mib * 31 + (uint64_t)kind);
	b->sum = bench_checksum(b->base, b->bytes, cfg->full_checksum);
	b->thp_kb_before = bench_anon_huge_kb(0, start, b->bytes);
	return 0;
}

/* ---- one case ---------------------------------------------------------------------------- */

static void data_free(struct method_data *d)
{
	free(d->run_ns);
	free(d->call_ns);
	memset(d, 0, sizeof(*d));
}

static int data_alloc(struct method_data *d, const struct config *cfg, size_t calls_per_run)
{
	memset(d, 0, sizeof(*d));
	d->run_ns = calloc(cfg->reps, sizeof(*d->run_ns));
	d->call_cap = cfg->reps * calls_per_run;
	d->call_ns = malloc(d->call_cap * sizeof(*d->call_ns));
	return d->run_ns && d->call_ns ? 0 : -ENOMEM;
}

struct ratio {
	struct bench_stats paired; /* per repetition: t_raw / t_method */
	double of_medians;	   /* median t_raw / median t_method */
};

static struct ratio ratio_to_raw(const struct method_data *raw, const struct method_data *m,
				 size_t reps)
{
	double *r = malloc(reps * sizeof(*r));
	struct ratio out = {0};
	struct bench_stats a = bench_stats(raw->run_ns, reps), b = bench_stats(m->run_ns, reps);

	out.of_medians = b.median > 0 ? a.median / b.median : 0;
	if (!r) {
		out.paired.median = out.paired.min = out.paired.max = out.of_medians;
		return out;
	}
	for (size_t i = 0; i < reps; i++)
		r[i] = m->run_ns[i] > 0 ? raw->run_ns[i] / m->run_ns[i] : 0;
	out.paired = bench_stats(r, reps);
	free(r);
	return out;
}

/* The A/A noise floor: how far numa/raw strays from 1.00 (its median), or half the spread of its
 * middle half (IQR / 2), whichever is larger. */
static double aa_noise(const struct ratio *aa)
{
	double off = aa->paired.median > 1 ? aa->paired.median - 1 : 1 - aa->paired.median;
	double half_iqr = (aa->paired.q3 - aa->paired.q1) / 2;

	return off > half_iqr ? off : half_iqr;
}

static void fmt_us(char *buf, size_t len, double ns, bool known)
{
	if (known)
		snprintf(buf, len, "%.1f", ns / 1e3);
	else
		snprintf(buf, len, "-");
}

static void print_row(enum method m, struct method_data *d, const struct buffer *b,
		      const struct config *cfg)
{
	struct bench_stats st = bench_stats(d->run_ns, cfg->reps);
	double secs = st.median / 1e9;
	char mean[32], p50[32], p99[32], max[32];
	bool per_call = !methods[m].library;

	fmt_us(mean, sizeof(mean), d->calls ? (double)d->call_ns_sum / (double)d->calls : 0,
	       d->calls > 0);
	if (per_call) {
		fmt_us(p50, sizeof(p50), (double)bench_quantile_u64(d->call_ns, d->ncall, 0.50),
		       d->ncall);
		fmt_us(p99, sizeof(p99), (double)bench_quantile_u64(d->call_ns, d->ncall, 0.99),
		       d->ncall);
	} else {
		/* pagemig: from its report's histogram (bucket upper edges, <= 19 % high) */
		fmt_us(p50, sizeof(p50), pagemig_report_call_us(&d->hist, 0.50) * 1e3, d->calls);
		fmt_us(p99, sizeof(p99), pagemig_report_call_us(&d->hist, 0.99) * 1e3, d->calls);
	}
	fmt_us(max, sizeof(max), (double)d->max_call_ns, d->calls > 0);
	printf("  %-17s %10.3f %9.3f %9.3f %6.1f %9.1f %11.0f %8.1f %9s %9s %9s %9s\n",
	       methods[m].name, st.median / 1e6, st.min / 1e6, st.max / 1e6,
	       st.median > 0 ? 100.0 * (st.q3 - st.q1) / st.median : 0,
	       secs > 0 ? (double)b->bytes / secs / 1e6 : 0,
	       secs > 0 ? (double)b->npages / secs : 0, (double)d->calls / (double)cfg->reps, mean,
	       p50, p99, max);
}

/* Say how much of the buffer huge pages back; returns the percentage after the runs (-1: unknown,
 * or the 4 KiB case). */
static double print_thp(const struct buffer *b)
{
	long full = (long)(b->bytes >> 10);
	double pct;

	if (b->kind != K_THP) {
		printf("  THP backing (smaps AnonHugePages): %ld kB (expected 0 with "
		       "MADV_NOHUGEPAGE)\n",
		       b->thp_kb_after);
		return -1;
	}
	if (b->thp_kb_before < 0 || b->thp_kb_after < 0) {
		printf("  THP backing: unknown (cannot read /proc/self/smaps)\n");
		return -1;
	}
	pct = 100.0 * (double)b->thp_kb_after / (double)full;
	printf("  THP backing (smaps AnonHugePages): %ld kB before the runs, %ld kB after, of "
	       "%ld kB (%.0f%%)\n",
	       b->thp_kb_before, b->thp_kb_after, full, pct);
	if (b->thp_kb_before == full && b->thp_kb_after == full)
		printf("  huge pages back the whole buffer throughout\n");
	else
		printf("  WARNING: huge pages do NOT back the whole buffer: this is not a pure THP "
		       "measurement\n");
	return pct;
}

static bool missed_any;

static int run_case(const struct config *cfg, enum kind kind, size_t mib, size_t n)
{
	struct method_data data[M__COUNT] = {0};
	enum method order[M__COUNT];
	size_t nm = 0, calls_per_run;
	struct buffer b;
	bool same = cfg->node_a == cfg->node_b;
	double thp_pct = -1;
	int err;

	transients = false_off = 0;
	for (int m = 0; m < M__COUNT; m++)
		if (cfg->enabled[m])
			order[nm++] = (enum method)m;

	err = buffer_alloc(&b, kind, mib, cfg);
	if (err) {
		fprintf(stderr, "%s: cannot set up a %zu MiB buffer: %s\n", prog, mib,
			strerror(-err));
		buffer_free(&b);
		return BENCH_EXIT_FAIL;
	}
	calls_per_run = (b.npages + n - 1) / n;
	for (size_t i = 0; i < nm; i++) {
		err = data_alloc(&data[order[i]], cfg, calls_per_run);
		if (err) {
			fprintf(stderr, "%s: out of memory\n", prog);
			goto out;
		}
	}

	printf("\n== case %s  size %zu MiB (%zu pages of 4 KiB)  N=%zu  ", kind_name[kind], mib,
	       b.npages, n);
	if (same)
		printf("same node %d -> %d: overhead only, nothing is copied\n", cfg->node_a,
		       cfg->node_a);
	else
		printf("node %d <-> %d: every timed run moves the whole buffer\n", cfg->node_a,
		       cfg->node_b);

	/* warm-up rounds: same sequence, nothing recorded */
	for (size_t w = 0; w < cfg->warmup; w++)
		for (size_t i = 0; i < nm; i++) {
			err = one_run(order[i], &b, n, cfg->node_a, cfg->node_b, cfg, NULL, 0);
			if (err)
				goto out;
		}

	/* timed: each repetition flips the direction and rotates the order of the methods */
	for (size_t r = 0; r < cfg->reps; r++) {
		int from = r % 2 ? cfg->node_b : cfg->node_a,
		    to = r % 2 ? cfg->node_a : cfg->node_b;

		for (size_t i = 0; i < nm; i++) {
			enum method m = order[(i + r) % nm];

			err = one_run(m, &b, n, from, to, cfg, &data[m], r);
			if (err)
				goto out;
		}
	}
	b.thp_kb_after = bench_anon_huge_kb(0, (uintptr_t)b.base, b.bytes);

	thp_pct = print_thp(&b);

	printf("  %-17s %10s %9s %9s %6s %9s %11s %8s %9s %9s %9s %9s\n", "method", "median ms",
	       "min ms", "max ms", "IQR", "MB/s", "pages/s", "calls", "call avg", "call p50",
	       "call p99", "call max");
	printf("  %-17s %10s %9s %9s %6s %9s %11s %8s %9s %9s %9s %9s\n", "", "", "", "", "%med",
	       "(median)", "(median)", "/run", "us", "us", "us", "us");
	for (size_t i = 0; i < nm; i++)
		print_row(order[i], &data[order[i]], &b, cfg);

	struct ratio r_pm = ratio_to_raw(&data[M_RAW], &data[M_PAGEMIG], cfg->reps);
	struct ratio r_aa = ratio_to_raw(&data[M_RAW], &data[M_NUMA], cfg->reps);
	double target = kind == K_THP ? TARGET_THP : TARGET_4K;
	bool applies = kind == K_THP || n >= TARGET_4K_MINN;
	bool met = r_pm.paired.median >= target;
	double noise = aa_noise(&r_aa);

	printf("  ratios (throughput vs raw; median of per-repetition pairs [min..max], and ratio "
	       "of medians):\n");
	for (size_t i = 0; i < nm; i++) {
		enum method m = order[i];
		struct ratio rr;

		if (m == M_RAW)
			continue;
		rr = ratio_to_raw(&data[M_RAW], &data[m], cfg->reps);
		printf("    %-17s/raw %6.3f [%.3f..%.3f]  of medians %.3f%s\n", methods[m].name,
		       rr.paired.median, rr.paired.min, rr.paired.max, rr.of_medians,
		       m == M_NUMA ? "  <- A/A: noise floor" : "");
	}
	if (applies)
		printf("  target pagemig/raw >= %.2f: %s (%.3f, margin %+.3f, A/A noise %.3f)%s\n",
		       target, met ? "MET" : "MISSED", r_pm.paired.median,
		       r_pm.paired.median - target, noise,
		       same ? "; same-node run: the target is defined for moves between nodes, "
			      "this is overhead only"
			    : "");
	else
		printf("  target: none at N < %d for 4 KiB pages\n", TARGET_4K_MINN);

	for (size_t i = 0; i < nm; i++) {
		enum method m = order[i];
		const struct method_data *d = &data[m];

		if (!methods[m].library)
			continue;
		printf("  %s per run: %.1f move calls, %.0f entries sent, %.1f queries, "
		       "%.0f pages verified from frames, "
		       "%.0f folio entries deduped, %.1f retries; move calls %.0f%% of its time\n",
		       methods[m].name, (double)d->calls / (double)cfg->reps,
		       (double)d->entries / (double)cfg->reps,
		       (double)d->queries / (double)cfg->reps,
		       (double)d->frames_verified / (double)cfg->reps,
		       (double)d->deduped / (double)cfg->reps,
		       (double)d->retries / (double)cfg->reps,
		       d->wall_ns ? 100.0 * (double)d->kernel_ns / (double)d->wall_ns : 0);
	}
	printf("  kernel pgmigrate_success per run:");
	for (size_t i = 0; i < nm; i++) {
		if (data[order[i]].migrated < 0)
			printf(" %s ?", methods[order[i]].name);
		else
			printf(" %s %.0f", methods[order[i]].name,
			       (double)data[order[i]].migrated / (double)cfg->reps);
	}
	printf("\n");

	if (transients || false_off)
		printf("  another mover was active: %lu page(s) read off target for a moment; "
		       "pagemig claimed %lu page(s) off target that were not\n",
		       transients, false_off);

	/* the machine-readable line */
	printf("RESULT case=%s size_mib=%zu n=%zu mode=%s from=%d to=%d reps=%lu", kind_name[kind],
	       mib, n, same ? "same-node" : "cross-node", cfg->node_a, cfg->node_b, cfg->reps);
	for (size_t i = 0; i < nm; i++) {
		enum method m = order[i];
		struct bench_stats st = bench_stats(data[m].run_ns, cfg->reps);

		printf(" %s_mbps=%.1f", methods[m].key,
		       st.median > 0 ? (double)b.bytes / (st.median / 1e9) / 1e6 : 0);
	}
	for (size_t i = 0; i < nm; i++) {
		enum method m = order[i];

		if (m != M_RAW)
			printf(" ratio_%s_raw=%.3f", methods[m].key,
			       ratio_to_raw(&data[M_RAW], &data[m], cfg->reps).paired.median);
	}
	printf(" transient_pages=%lu pagemig_false_off=%lu", transients, false_off);
	printf(" raw_call_p50_us=%.1f raw_call_p99_us=%.1f pagemig_call_max_us=%.1f",
	       (double)bench_quantile_u64(data[M_RAW].call_ns, data[M_RAW].ncall, 0.50) / 1e3,
	       (double)bench_quantile_u64(data[M_RAW].call_ns, data[M_RAW].ncall, 0.99) / 1e3,
	       (double)data[M_PAGEMIG].max_call_ns / 1e3);
	if (kind == K_THP)
		printf(" thp_backed_pct=%.0f", thp_pct);
	if (applies)
		printf(" target=%.2f met=%s noise=%.3f\n", target, met ? "yes" : "no", noise);
	else
		printf(" target=none met=n/a noise=%.3f\n", noise);
	fflush(stdout);
	if (applies && !met)
		missed_any = true;
	err = 0;
out:
	for (int m = 0; m < M__COUNT; m++)
		data_free(&data[m]);
	buffer_free(&b);
	if (err == -EPERM || err == -ENOSYS) {
		fprintf(stderr, "%s: move_pages(2) is not permitted or not available here (%s)\n",
			prog, strerror(-err));
		return BENCH_EXIT_SKIP;
	}
	return err ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}

/* ---- main -------------------------------------------------------------------------------- */

/* ---- small requests (pagemig_batch) -------------------------------------------------------- */

enum small_method { S_RAW, S_PAGEMIG, S_BATCH, S__COUNT };

static const char *const small_name[S__COUNT] = {"raw-per-request", "pagemig-per-request",
						 "pagemig-batch"};

/* Request sizes, 1..SMALL_MAX pages, the same sequence for every method and run. */
static size_t small_len(size_t r)
{
	uint64_t x = (r + 1) * UINT64_C(0x9E3779B97F4A7C15);

	x ^= x >> 29;
	return 1 + (size_t)(x % SMALL_MAX);
}

/* Move the buffer to its target in requests of 1..SMALL_MAX consecutive pages. */
static int small_run(enum small_method m, struct buffer *b, int to, size_t *requests,
		     struct pagemig_report *rep)
{
	struct pagemig_batch *batch = NULL;
	size_t r = 0;
	long ret = 0;

	if (m == S_BATCH) {
		batch = pagemig_batch_new(0, NULL);
		if (!batch)
			return -errno;
	}
	for (size_t off = 0; off < b->npages; r++) {
		size_t k = small_len(r);

		if (k > b->npages - off)
			k = b->npages - off;
		if (m == S_RAW) {
			for (size_t j = 0; j < k; j++)
				b->status[off + j] = SENTINEL;
			ret = raw_move(k, b->pages + off, b->nodes + off, b->status + off,
				       MPOL_MF_MOVE);
			if (ret < 0)
				ret = -errno;
		} else if (m == S_PAGEMIG) {
			ret = pagemig_move(0, k, b->pages + off, b->nodes + off, b->status + off,
					   NULL, rep);
		} else {
			ret = pagemig_batch_add(batch, b->pages + off, k, to);
		}
		if (ret < 0)
			break;
		off += k;
	}
	if (batch) {
		if (ret >= 0)
			ret = pagemig_batch_flush(batch, rep);
		pagemig_batch_free(batch);
	}
	*requests = r;
	return ret < 0 ? (int)ret : 0;
}

/*
 * The coalescing case: a caller that submits 1..16 pages at a time. Every method moves the
 * whole buffer per run, request by request; the target is pagemig-batch >= 5x raw-per-request.
 */
static int run_small(const struct config *cfg, size_t mib)
{
	double ns[S__COUNT][1000];
	struct pagemig_report rep[S__COUNT];
	struct buffer b;
	size_t requests = 0;
	double ratio[1000], ratio_pm[1000];
	int err = 0;

	err = buffer_alloc(&b, K_4K, mib, cfg);
	if (err) {
		fprintf(stderr, "%s: cannot set up a %zu MiB buffer: %s\n", prog, mib,
			strerror(-err));
		buffer_free(&b);
		return BENCH_EXIT_FAIL;
	}
	for (int m = 0; m < S__COUNT; m++)
		pagemig_report_init(&rep[m]);
	printf("\n== case small  size %zu MiB (%zu pages of 4 KiB) in requests of 1..%d pages  "
	       "node %d <-> %d\n",
	       mib, b.npages, SMALL_MAX, cfg->node_a, cfg->node_b);
	printf("  raw-per-request: one move_pages(2) per request; pagemig-per-request: one "
	       "pagemig_move() per request;\n  pagemig-batch: pagemig_batch_add() per request "
	       "(library defaults: sends at %d pages), one flush\n",
	       PAGEMIG_DEFAULT_BATCH_PAGES);
	for (size_t r = 0; r < cfg->warmup + cfg->reps && !err; r++) {
		bool timed = r >= cfg->warmup;
		int from = r % 2 ? cfg->node_b : cfg->node_a, to = r % 2 ? cfg->node_a : cfg->node_b;

		for (int i = 0; i < S__COUNT && !err; i++) {
			enum small_method m = (enum small_method)((i + r) % S__COUNT);
			uint64_t t0;

			if (from != to) {
				err = place(&b, from);
				if (err)
					break;
			}
			set_target(&b, to);
			t0 = bench_now_ns();
			err = small_run(m, &b, to, &requests, timed ? &rep[m] : NULL);
			if (timed)
				ns[m][r - cfg->warmup] = (double)(bench_now_ns() - t0);
			if (err) {
				fprintf(stderr, "%s: %s: %s\n", prog, small_name[m], strerror(-err));
				break;
			}
			err = verify(&b, to, cfg, small_name[m]);
		}
	}
	if (err) {
		buffer_free(&b);
		return BENCH_EXIT_FAIL;
	}
	printf("  %zu requests per run\n", requests);
	printf("  method                 median ms    min ms    max ms      MB/s   calls/run  "
	       "call p50 us  call p99 us\n");
	for (int m = 0; m < S__COUNT; m++) {
		struct bench_stats st = bench_stats(ns[m], cfg->reps);
		double secs = st.median / 1e9;
		char p50[32] = "-", p99[32] = "-";

		if (m != S_RAW && rep[m].calls) {
			snprintf(p50, sizeof(p50), "%.1f", pagemig_report_call_us(&rep[m], 0.5));
			snprintf(p99, sizeof(p99), "%.1f", pagemig_report_call_us(&rep[m], 0.99));
		}
		printf("  %-20s %11.3f %9.3f %9.3f %9.1f %11.1f %12s %12s\n", small_name[m],
		       st.median / 1e6, st.min / 1e6, st.max / 1e6,
		       secs > 0 ? (double)b.bytes / secs / 1e6 : 0,
		       m == S_RAW ? (double)requests
				  : (double)rep[m].calls / (double)cfg->reps,
		       p50, p99);
	}
	for (size_t r = 0; r < cfg->reps; r++) {
		ratio[r] = ns[S_RAW][r] / ns[S_BATCH][r];
		ratio_pm[r] = ns[S_RAW][r] / ns[S_PAGEMIG][r];
	}
	{
		struct bench_stats rb = bench_stats(ratio, cfg->reps);
		struct bench_stats rp = bench_stats(ratio_pm, cfg->reps);
		bool met = rb.median >= TARGET_SMALL;

		printf("  ratios (throughput vs raw-per-request; median of per-repetition pairs "
		       "[min..max]):\n");
		printf("    pagemig-batch       /raw  %.2f [%.2f..%.2f]  target >= %.1f: %s\n",
		       rb.median, rb.min, rb.max, TARGET_SMALL, met ? "MET" : "MISSED");
		printf("    pagemig-per-request /raw  %.2f [%.2f..%.2f]\n", rp.median, rp.min,
		       rp.max);
		printf("RESULT case=small size_mib=%zu requests=%zu reps=%lu from=%d to=%d "
		       "ratio_batch_raw=%.3f ratio_pagemig_raw=%.3f batch_calls=%.1f "
		       "batch_call_p99_us=%.1f target=%.1f met=%s\n",
		       mib, requests, cfg->reps, cfg->node_a, cfg->node_b, rb.median, rp.median,
		       (double)rep[S_BATCH].calls / (double)cfg->reps,
		       pagemig_report_call_us(&rep[S_BATCH], 0.99), TARGET_SMALL,
		       met ? "yes" : "no");
		if (!met)
			missed_any = true;
	}
	buffer_free(&b);
	return BENCH_EXIT_OK;
}

static int parse_extra(struct config *cfg, const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	cfg->enabled[M_DEFAULTS] = cfg->enabled[M_NOVERIFY] = cfg->enabled[M_NODEDUP] = false;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "none"))
			continue;
		err = -EINVAL;
		for (int m = M_DEFAULTS; m < M__COUNT; m++)
			if (!strcmp(tok, methods[m].key)) {
				cfg->enabled[m] = true;
				err = 0;
			}
	}
	free(copy);
	return err;
}

static int parse_nodes(struct config *cfg, const char *arg, const int *mem, int nmem)
{
	unsigned long v[2];
	size_t n;

	if (bench_parse_list(arg, 0, INT_MAX, v, 2, &n) || n != 2)
		return -EINVAL;
	for (size_t i = 0; i < 2; i++) {
		bool found = false;

		for (int j = 0; j < nmem; j++)
			found |= mem[j] == (int)v[i];
		if (!found)
			return -ENODEV;
	}
	cfg->node_a = (int)v[0];
	cfg->node_b = (int)v[1];
	return 0;
}

enum {
	OPT_SWEEP = 256,
	OPT_NODES,
	OPT_EXTRA,
	OPT_CPU,
	OPT_FULL,
	OPT_STRICT,
	OPT_SMALL,
};

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"size", required_argument, NULL, 's'},
		{"pages-per-call", required_argument, NULL, 'n'},
		{"sweep", no_argument, NULL, OPT_SWEEP},
		{"reps", required_argument, NULL, 'r'},
		{"warmup", required_argument, NULL, 'w'},
		{"case", required_argument, NULL, 'c'},
		{"nodes", required_argument, NULL, OPT_NODES},
		{"extra", required_argument, NULL, OPT_EXTRA},
		{"cpu", required_argument, NULL, OPT_CPU},
		{"full-checksum", no_argument, NULL, OPT_FULL},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"small", required_argument, NULL, OPT_SMALL},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct config cfg = {
		.sizes = {64},
		.nsizes = 1,
		.ns = {512},
		.nns = 1,
		.reps = 7,
		.warmup = 1,
		.kinds = {true, true},
		.enabled =
			{[M_PAGEMIG] = true, [M_RAW] = true, [M_NUMA] = true, [M_DEFAULTS] = true},
		.cpu = -1,
	};
	int mem[BENCH_MAX_NODES], nmem, opt, rc = BENCH_EXIT_OK;
	const char *nodes_arg = NULL;
	unsigned long v;

	while ((opt = getopt_long(argc, argv, "s:n:r:w:c:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (bench_parse_list(optarg, 1, 65536, cfg.sizes, MAX_LIST, &cfg.nsizes))
				return usage_error("--size: '%s' is not a list of 1..65536 MiB "
						   "(at most 16)",
						   optarg);
			break;
		case 'n':
			if (bench_parse_list(optarg, 1, MAX_N, cfg.ns, MAX_LIST, &cfg.nns))
				return usage_error("--pages-per-call: '%s' is not a list of "
						   "1..65536 (at most 16)",
						   optarg);
			break;
		case OPT_SWEEP:
			memcpy(cfg.ns, default_sweep, sizeof(default_sweep));
			cfg.nns = sizeof(default_sweep) / sizeof(default_sweep[0]);
			break;
		case 'r':
			if (bench_parse_ulong(optarg, 1, 1000, &cfg.reps))
				return usage_error("--reps: '%s' is not a number in 1..1000",
						   optarg);
			break;
		case 'w':
			if (bench_parse_ulong(optarg, 0, 100, &cfg.warmup))
				return usage_error("--warmup: '%s' is not a number in 0..100",
						   optarg);
			break;
		case 'c':
			cfg.kinds[K_4K] = !strcmp(optarg, "4k") || !strcmp(optarg, "all");
			cfg.kinds[K_THP] = !strcmp(optarg, "thp") || !strcmp(optarg, "all");
			if (!cfg.kinds[K_4K] && !cfg.kinds[K_THP])
				return usage_error("--case: '%s' is not 4k, thp or all", optarg);
			break;
		case OPT_NODES:
			nodes_arg = optarg;
			break;
		case OPT_EXTRA:
			if (parse_extra(&cfg, optarg))
				return usage_error("--extra: '%s' is not a list of defaults, "
						   "noverify, nodedup, or none",
						   optarg);
			break;
		case OPT_CPU:
			if (bench_parse_ulong(optarg, 0, CPU_SETSIZE - 1, &v))
				return usage_error("--cpu: '%s' is not a CPU number", optarg);
			cfg.cpu = (long)v;
			break;
		case OPT_FULL:
			cfg.full_checksum = true;
			break;
		case OPT_STRICT:
			cfg.strict = true;
			break;
		case OPT_SMALL:
			if (bench_parse_ulong(optarg, 0, 65536, &cfg.small_mib))
				return usage_error("--small: '%s' is not a number of MiB in 0..65536",
						   optarg);
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return BENCH_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return BENCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	nmem = bench_memory_nodes(mem, BENCH_MAX_NODES);
	if (nmem < 1) {
		fprintf(stderr, "%s: libnuma reports no NUMA support on this kernel\n", prog);
		return BENCH_EXIT_SKIP;
	}
	if (nodes_arg) {
		int err = parse_nodes(&cfg, nodes_arg, mem, nmem);

		if (err == -ENODEV)
			return usage_error("--nodes: '%s' names a node without memory (or one "
					   "this process may not use)",
					   nodes_arg);
		if (err)
			return usage_error("--nodes: '%s' is not two node numbers A,B", nodes_arg);
	} else {
		cfg.node_a = mem[0];
		cfg.node_b = nmem > 1 ? mem[1] : mem[0];
	}
	if (cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)cfg.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "%s: --cpu %ld: %s\n", prog, cfg.cpu, strerror(errno));
			return BENCH_EXIT_USAGE;
		}
	}

	bench_print_header(stdout,
			   "bench-move: pagemig_move vs raw move_pages(2) vs numa_move_pages(3)",
			   argc, argv, mem, nmem);
	if (cfg.node_a == cfg.node_b)
		printf("# mode: SAME NODE (%s)\n"
		       "#   every move targets node %d, where the pages already are; the kernel "
		       "copies\n"
		       "#   nothing. This measures per-call and per-page overhead only (syscall, "
		       "page\n"
		       "#   lookup, status handling, pagemig's verification), not migration "
		       "throughput.\n",
		       nmem == 1 ? "this machine has one memory node" : "--nodes A,A", cfg.node_a);
	else
		printf("# mode: CROSS NODE: repetitions alternate %d->%d and %d->%d; before every "
		       "timed run\n#   the buffer is put on the run's source node (untimed)\n",
		       cfg.node_a, cfg.node_b, cfg.node_b, cfg.node_a);
	printf("# reps: %lu timed (+%lu warm-up round%s), methods alternate in rotating order; "
	       "checksum: %s\n",
	       cfg.reps, cfg.warmup, cfg.warmup == 1 ? "" : "s",
	       cfg.full_checksum ? "every byte" : "8 words per 4 KiB page");
	printf("# cpu pinning: ");
	if (cfg.cpu >= 0)
		printf("cpu %ld\n", cfg.cpu);
	else
		printf("none\n");
	printf("# methods:\n");
	for (int m = 0; m < M__COUNT; m++)
		if (cfg.enabled[m])
			printf("#   %-17s %s\n", methods[m].name, methods[m].what);
	printf("#   raw and numa get every 4 KiB address, also for huge pages (a naive caller);\n"
	       "#   pagemig gets the same array (its folio dedup sends one entry per huge page)\n");
	printf("# per-call latency: raw/numa timed per call (p50/p99 over all calls); pagemig's\n"
	       "#   p50/p99 come from its report's histogram (bucket upper edges, up to 19%% high)\n");
	printf("# library defaults: pages_per_call %d, call_budget_us %d, verification on\n",
	       PAGEMIG_DEFAULT_PAGES_PER_CALL, PAGEMIG_DEFAULT_CALL_BUDGET_US);
	{
		/* whether pagemig can see PFNs, which its huge folio detection needs */
		char *probe = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				   -1, 0);
		int vis = -1;

		if (probe != MAP_FAILED) {
			probe[0] = 1;
			vis = bench_pfn_visible(probe);
			munmap(probe, 4096);
		}
		printf("# pagemap PFNs: %s\n",
		       vis == 1	  ? "visible (pagemig can detect huge folios)"
		       : vis == 0 ? "hidden (no CAP_SYS_ADMIN: pagemig cannot detect huge "
				    "folios, so it does not dedup them)"
				  : "unreadable");
	}
	fflush(stdout);

	for (int k = 0; k < K__COUNT && rc == BENCH_EXIT_OK; k++) {
		if (!cfg.kinds[k])
			continue;
		for (size_t s = 0; s < cfg.nsizes && rc == BENCH_EXIT_OK; s++)
			for (size_t i = 0; i < cfg.nns && rc == BENCH_EXIT_OK; i++)
				rc = run_case(&cfg, (enum kind)k, cfg.sizes[s], cfg.ns[i]);
	}
	if (rc == BENCH_EXIT_OK && cfg.small_mib)
		rc = run_small(&cfg, cfg.small_mib);
	if (rc == BENCH_EXIT_OK && cfg.strict && missed_any)
		rc = BENCH_EXIT_MISSED;
	return rc;
}
