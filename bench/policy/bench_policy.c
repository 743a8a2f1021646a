// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-policy: the policy engine replayed at scale (issue 9, case 5). Builds synthetic
 * snapshots - by default 10 000 processes, 10 million sampled pages, 8 nodes of which 2 are
 * memory-only - and times decision cycles and their memory; then doubles processes and pages a
 * few times and reports how time and memory grow, against n log n.
 *
 * Each size runs in its own child process, so that its peak resident set (getrusage via wait4)
 * is its own. In the child:
 *   build      the input: processes with a home node, pages accessed from their home, another
 *              node or two, some without node data; residences partly misplaced; rules mixed
 *              (70% locality, 15% tiering, 10% pin, 5% ignore); near node 0 under its watermark
 *              so tiering demotes. Not timed as part of the cycle.
 *   cold cycle the first plan: the history is empty and learns every page.
 *   warm cycles after the previous plan's moves were "executed" (residences updated, history
 *              told), 2% of pages changed accessing node and 0.5% were moved by "another mover":
 *              the daemon's steady state. Reported as the median.
 * The plan's invariants (budget, watermarks, no move to where a page is) are checked every cycle:
 * exit status 1 when one does not hold.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"

#define PS	  4096ull
#define GIB	  (1024ull * 1024 * 1024)
#define MAX_REPS  64
#define MAX_SIZES 16

struct opts {
	size_t procs;
	size_t pages;
	int nodes;
	int far;
	int doublings;
	int reps;
	uint64_t rate_mb;
	uint64_t seed;
	const char *csv;
};

/* What one size measured (sent from the child through a pipe). */
struct result {
	size_t procs;
	size_t pages;
	size_t entries;
	double build_s;
	double cold_ms;
	double cold_cpu_ms; /* the thread's CPU time: less sensitive to other load */
	double warm_ms;	    /* median */
	double warm_min_ms;
	double warm_max_ms;
	double warm_cpu_ms; /* median */
	size_t moves;	    /* in the last warm cycle */
	size_t candidates;  /* in the last warm cycle */
	uint64_t other_moved;
	size_t history_bytes;
	size_t plan_bytes;
	size_t input_bytes;
	long peak_rss_kb; /* filled by the parent */
	int failed;	  /* an invariant did not hold */
};

/* ---- synthetic input ----------------------------------------------------------------------- */

struct world {
	struct pagemig_topology topo;
	struct pagemig_policy_rule rules[4];
	struct pagemig_policy_config cfg;
	struct pagemig_policy_proc *procs;
	struct pagemig_page_score *entries;
	int16_t *resident;
	struct pagemig_oncpu_score *oncpu;
	size_t n_procs, n_pages, n_entries;
	int n_near;
	uint64_t rng;
};

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64*: fast and the same everywhere */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static double rnd01(uint64_t *s)
{
	return (double)(rnd(s) >> 11) * 0x1.0p-53;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p) {
		fprintf(stderr, "bench-policy: out of memory (%zu x %zu bytes)\n", n, sz);
		exit(1);
	}
	return p;
}

static void build_topology(struct world *w, int nodes, int far)
{
	struct pagemig_topology *t = &w->topo;

	memset(t, 0, sizeof(*t));
	w->n_near = nodes - far;
	t->nr_nodes = t->nr_memory = nodes;
	t->max_node = nodes - 1;
	for (int i = 0; i < nodes; i++) {
		struct pagemig_topo_node *n = &t->node[i];
		bool f = i >= w->n_near;

		n->present = n->has_memory = true;
		n->memory_only = f;
		n->tier = f;
		n->ncpus = f ? 0 : 16;
		n->mem_total = f ? 256 * GIB : 64 * GIB;
		/* near nodes a quarter free, node 0 under its 5% watermark; far nodes half */
		n->mem_free = f ? 128 * GIB : i == 0 ? 2 * GIB : 16 * GIB;
		for (int j = 0; j < nodes; j++) {
			bool g = j >= w->n_near;

			t->distance[i][j] = (uint8_t)(i == j	 ? 10
						      : !f && !g ? 21
						      : f && g	 ? 40
								 : 32);
		}
		w->cfg.watermark_pct[i] = 5;
	}
}

static void build(struct world *w, const struct opts *o, size_t procs, size_t pages)
{
	static const enum pagemig_policy_type types[4] = {
		PAGEMIG_POLICY_LOCALITY, PAGEMIG_POLICY_TIERING, PAGEMIG_POLICY_PIN,
		PAGEMIG_POLICY_IGNORE};
	size_t cap_entries = pages + pages / 4 + 16, e = 0, done = 0;
	uint32_t *weight = xcalloc(procs, sizeof(*weight));
	uint64_t wsum = 0;

	memset(w, 0, sizeof(*w));
	w->rng = o->seed | 1;
	build_topology(w, o->nodes, o->far);
	for (int i = 0; i < 4; i++) {
		snprintf(w->rules[i].name, sizeof(w->rules[i].name), "%s",
			 pagemig_policy_type_name(types[i]));
		w->rules[i].type = types[i];
		w->rules[i].pin_target = -1;
	}
	w->rules[2].pin_nodes = 0x3;
	w->cfg.rules = w->rules;
	w->cfg.n_rules = 4;
	w->cfg.rate_bytes_per_s = o->rate_mb * 1000 * 1000;
	w->cfg.cooldown_ms = 10000;
	w->cfg.pingpong_intervals = 4;

	w->n_procs = procs;
	w->procs = xcalloc(procs, sizeof(*w->procs));
	w->oncpu = xcalloc(procs * 2, sizeof(*w->oncpu));
	w->entries = xcalloc(cap_entries, sizeof(*w->entries));
	w->resident = xcalloc(cap_entries, sizeof(*w->resident));

	/* process sizes: skewed (1 to 64 units), summing to pages */
	for (size_t i = 0; i < procs; i++) {
		weight[i] = 1 + (uint32_t)(rnd(&w->rng) % 64);
		wsum += weight[i];
	}
	for (size_t i = 0; i < procs; i++) {
		struct pagemig_policy_proc *p = &w->procs[i];
		size_t n = i + 1 == procs ? pages - done : (size_t)(pages * weight[i] / wsum);
		uint64_t r = rnd(&w->rng) % 100;
		int home = (int)(rnd(&w->rng) % (uint64_t)w->n_near);
		int other =
			(home + 1 + (int)(rnd(&w->rng) % (uint64_t)(w->n_near - 1))) % w->n_near;
		uint64_t addr = 0x7f0000000000ull + (rnd(&w->rng) % 1024) * (1ull << 30);
		uint32_t tgid = (uint32_t)(1000 + i);

		done += n;
		p->tgid = (pid_t)tgid;
		p->rule = r < 70 ? 0 : r < 85 ? 1 : r < 95 ? 2 : 3;
		p->rss_pages = n * 2;
		p->pages = &w->entries[e];
		/* on-CPU: home 80%, another node 20% (sorted by node) */
		p->oncpu = &w->oncpu[2 * i];
		p->n_oncpu = 2;
		w->oncpu[2 * i] = (struct pagemig_oncpu_score){
			.tgid = tgid, .node = (uint32_t)(home < other ? home : other)};
		w->oncpu[2 * i + 1] = (struct pagemig_oncpu_score){
			.tgid = tgid, .node = (uint32_t)(home < other ? other : home)};
		w->oncpu[2 * i + (home < other ? 0 : 1)].score = 8e8;
		w->oncpu[2 * i + (home < other ? 1 : 0)].score = 2e8;

		for (size_t k = 0; k < n; k++) {
			double u = rnd01(&w->rng), score = -log(1.0 - rnd01(&w->rng) * 0.999);
			uint64_t v = rnd(&w->rng);
			int acc = u < 0.75 ? home : u < 0.85 ? other : -1;
			int res;

			addr += PS * (1 + (v % 8 == 0)); /* mostly contiguous */
			v >>= 3;
			/* residence: 60% where accessed (home), 25% another near node, 15% far */
			if (v % 100 < 60)
				res = acc >= 0 ? acc : home;
			else if (v % 100 < 85)
				res = (int)((v >> 8) % (uint64_t)w->n_near);
			else
				res = w->n_near +
				      (int)((v >> 8) % (uint64_t)(o->nodes - w->n_near));
			if (e + 2 > cap_entries) {
				fprintf(stderr, "bench-policy: entry estimate too low\n");
				exit(1);
			}
			if (u < 0.85 || u >= 0.97) {
				/* one accessing node (or, 3% of pages, none known) */
				w->entries[e] = (struct pagemig_page_score){
					.page = addr,
					.tgid = tgid,
					.node = (uint16_t)(u >= 0.97 ? PAGEMIG_SAMPLER_NODE_UNKNOWN
								     : acc),
					.seen = 3, /* a steady state: several intervals */
					.score = score};
				w->resident[e++] = (int16_t)res;
			} else {
				/* 12%: accessed from home and the other node */
				double split = rnd01(&w->rng);
				int lo = home < other ? home : other, hi = home ^ other ^ lo;

				w->entries[e] = (struct pagemig_page_score){.page = addr,
									    .tgid = tgid,
									    .node = (uint16_t)lo,
									    .seen = 3,
									    .score = score * split};
				w->resident[e++] = (int16_t)res;
				w->entries[e] =
					(struct pagemig_page_score){.page = addr,
								    .tgid = tgid,
								    .node = (uint16_t)hi,
								    .seen = 3,
								    .score = score * (1 - split)};
				w->resident[e++] = (int16_t)res;
			}
		}
		p->n_pages = (size_t)(&w->entries[e] - p->pages);
		p->resident = &w->resident[p->pages - w->entries];
	}
	w->n_pages = pages;
	w->n_entries = e;
	free(weight);
}

static void free_world(struct world *w)
{
	free(w->procs);
	free(w->oncpu);
	free(w->entries);
	free(w->resident);
}

static size_t world_bytes(const struct world *w)
{
	return w->n_procs * (sizeof(*w->procs) + 2 * sizeof(*w->oncpu)) +
	       w->n_entries * (sizeof(*w->entries) + sizeof(*w->resident));
}

/* The executor's part: every planned page lands; the history is told. */
static void execute(struct world *w, const struct pagemig_plan *plan,
		    struct pagemig_policy_history *h, uint64_t now)
{
	for (size_t m = 0; m < plan->n_moves; m++) {
		const struct pagemig_plan_move *mv = &plan->moves[m];
		const struct pagemig_policy_proc *p = &w->procs[mv->tgid - 1000];
		size_t lo = 0, hi = p->n_pages;

		if (mv->page == PAGEMIG_PLAN_WHOLE_PROCESS)
			continue;
		while (lo < hi) { /* first entry of the page */
			size_t mid = (lo + hi) / 2;

			if (p->pages[mid].page < mv->page)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < p->n_pages && p->pages[k].page == mv->page; k++)
			w->resident[(size_t)(p->pages - w->entries) + k] = mv->to;
		pagemig_policy_history_moved(h, mv->tgid, mv->page, mv->from, mv->to, now);
	}
}

/* Between cycles: 2% of pages change accessing node, 0.5% are moved by someone else. */
static void perturb(struct world *w)
{
	for (size_t e = 0; e < w->n_entries; e++) {
		uint64_t v = rnd(&w->rng);

		if (v % 1000 < 20 && w->entries[e].node != PAGEMIG_SAMPLER_NODE_UNKNOWN &&
		    (e + 1 == w->n_entries || w->entries[e + 1].page != w->entries[e].page) &&
		    (e == 0 || w->entries[e - 1].page != w->entries[e].page))
			w->entries[e].node = (uint16_t)((v >> 10) % (uint64_t)w->n_near);
		else if (v % 1000 >= 995 && w->resident[e] >= 0)
			w->resident[e] = (int16_t)((v >> 10) % (uint64_t)w->topo.nr_nodes);
		/* the other entry of a two-node page follows its first */
		if (e > 0 && w->entries[e - 1].page == w->entries[e].page &&
		    w->entries[e - 1].tgid == w->entries[e].tgid)
			w->resident[e] = w->resident[e - 1];
	}
}

/* What must hold for any plan. Returns the number of violations (and says which). */
static int check_plan(const struct world *w, const struct pagemig_plan *plan)
{
	uint64_t to[PAGEMIG_TOPO_MAX_NODES] = {0}, bytes = 0;
	int bad = 0;

	for (size_t m = 0; m < plan->n_moves; m++) {
		const struct pagemig_plan_move *mv = &plan->moves[m];

		if (mv->to == mv->from || mv->to < 0 || mv->to >= w->topo.nr_nodes) {
			if (!bad++)
				fprintf(stderr, "bench-policy: move %zu: %d -> %d\n", m, mv->from,
					mv->to);
		}
		if (w->rules[w->procs[mv->tgid - 1000].rule].type == PAGEMIG_POLICY_IGNORE)
			if (!bad++)
				fprintf(stderr, "bench-policy: an ignored process is moved\n");
		to[mv->to] += mv->npages * PS;
		bytes += mv->npages * PS;
	}
	if (bytes != plan->bytes || (plan->budget_bytes && bytes > plan->budget_bytes)) {
		bad++;
		fprintf(stderr, "bench-policy: %llu bytes planned, budget %llu\n",
			(unsigned long long)bytes, (unsigned long long)plan->budget_bytes);
	}
	for (int n = 0; n < w->topo.nr_nodes; n++) {
		const struct pagemig_topo_node *tn = &w->topo.node[n];
		uint64_t wm = (uint64_t)(w->cfg.watermark_pct[n] / 100 * (double)tn->mem_total);

		if (to[n] && (to[n] > tn->mem_free || tn->mem_free - to[n] < wm)) {
			bad++;
			fprintf(stderr, "bench-policy: node %d planned below its watermark\n", n);
		}
	}
	return bad;
}

/* ---- one size ------------------------------------------------------------------------------ */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void run_size(const struct opts *o, size_t procs, size_t pages, struct result *r)
{
	struct world w;
	struct pagemig_policy_history *h;
	struct pagemig_plan plan = {0};
	struct pagemig_policy_input in;
	struct pagemig_policy_history_stats hs;
	double t, cpu, warm[MAX_REPS], warm_cpu[MAX_REPS];
	uint64_t now = 3600 * 1000;
	int n_warm = 0;

	memset(r, 0, sizeof(*r));
	t = now_s();
	build(&w, o, procs, pages);
	r->build_s = now_s() - t;
	r->procs = procs;
	r->pages = pages;
	r->entries = w.n_entries;
	r->input_bytes = world_bytes(&w);
	/* room for every sampled page, as the daemon should size it */
	h = pagemig_policy_history_new(pages);
	if (!h) {
		fprintf(stderr, "bench-policy: out of memory for the history\n");
		exit(1);
	}
	for (int rep = 0; rep < o->reps; rep++) {
		int err;

		in = (struct pagemig_policy_input){
			.topo = &w.topo,
			.cfg = &w.cfg,
			.procs = w.procs,
			.n_procs = w.n_procs,
			.history = h,
			.now_ms = now,
			.interval_ms = 1000,
		};
		t = now_s();
		cpu = clock_s(CLOCK_THREAD_CPUTIME_ID);
		err = pagemig_policy_plan(&in, &plan);
		cpu = (clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu) * 1e3;
		t = (now_s() - t) * 1e3;
		if (err) {
			fprintf(stderr, "bench-policy: plan: %s\n", strerror(-err));
			exit(1);
		}
		r->failed += check_plan(&w, &plan);
		if (rep == 0) {
			r->cold_ms = t;
			r->cold_cpu_ms = cpu;
		} else {
			warm_cpu[n_warm] = cpu;
			warm[n_warm++] = t;
		}
		r->moves = plan.n_moves;
		r->candidates = plan.candidates;
		r->other_moved = plan.other_moved;
		execute(&w, &plan, h, now);
		perturb(&w);
		now += 1000;
	}
	if (n_warm) {
		qsort(warm, (size_t)n_warm, sizeof(*warm), cmp_double);
		r->warm_ms = warm[n_warm / 2];
		r->warm_min_ms = warm[0];
		r->warm_max_ms = warm[n_warm - 1];
		qsort(warm_cpu, (size_t)n_warm, sizeof(*warm_cpu), cmp_double);
		r->warm_cpu_ms = warm_cpu[n_warm / 2];
	} else {
		r->warm_ms = r->warm_min_ms = r->warm_max_ms = r->cold_ms;
		r->warm_cpu_ms = r->cold_cpu_ms;
	}
	pagemig_policy_history_stats(h, &hs);
	r->history_bytes = hs.bytes;
	r->plan_bytes = pagemig_plan_memory(&plan);
	pagemig_plan_free(&plan);
	pagemig_policy_history_free(h);
	free_world(&w);
}

/* Run one size in a child; its peak RSS is its own. Returns 0 or -1. */
static int run_child(const struct opts *o, size_t procs, size_t pages, struct result *r)
{
	struct rusage ru;
	int fd[2], status;
	pid_t pid;
	ssize_t n;

	if (pipe(fd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct result res;

		close(fd[0]);
		run_size(o, procs, pages, &res);
		n = write(fd[1], &res, sizeof(res));
		_exit(n == (ssize_t)sizeof(res) ? 0 : 1);
	}
	close(fd[1]);
	n = read(fd[0], r, sizeof(*r));
	close(fd[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) ||
	    n != (ssize_t)sizeof(*r)) {
		fprintf(stderr, "bench-policy: the run with %zu pages failed\n", pages);
		return -1;
	}
	r->peak_rss_kb = ru.ru_maxrss;
	return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench-policy [OPTIONS]\n"
		"Time the policy engine's decision cycle on synthetic snapshots, then double the\n"
		"processes and pages and show how time and memory grow.\n\n"
		"  --procs N       processes at the first size (10000)\n"
		"  --pages N       sampled pages at the first size (10000000)\n"
		"  --nodes N       NUMA nodes, 3..64 (8)\n"
		"  --far N         of which memory-only (2)\n"
		"  --doublings N   sizes after the first, each twice the one before (2)\n"
		"  --reps N        cycles per size: one cold, the rest warm (4)\n"
		"  --rate MB/s     the rate limit, 0 for none (256)\n"
		"  --seed N        random seed (1)\n"
		"  --csv FILE      also write the results as CSV\n"
		"  -h, --help      this text\n\n"
		"Exit status: 0 done, 1 a run failed or a plan broke an invariant, 2 usage.\n");
}

static int parse_num(const char *s, size_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > SIZE_MAX / 64)
		return -1;
	*ret = (size_t)v;
	return 0;
}

static double nlogn(double n)
{
	return n * log2(n);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"procs", required_argument, NULL, 'p'},
						 {"pages", required_argument, NULL, 'n'},
						 {"nodes", required_argument, NULL, 'N'},
						 {"far", required_argument, NULL, 'f'},
						 {"doublings", required_argument, NULL, 'd'},
						 {"reps", required_argument, NULL, 'r'},
						 {"rate", required_argument, NULL, 'R'},
						 {"seed", required_argument, NULL, 's'},
						 {"csv", required_argument, NULL, 'c'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct opts o = {.procs = 10000,
			 .pages = 10000000,
			 .nodes = 8,
			 .far = 2,
			 .doublings = 2,
			 .reps = 4,
			 .rate_mb = 256,
			 .seed = 1};
	struct result res[MAX_SIZES];
	size_t v;
	int c, failed = 0, n_res = 0;
	FILE *csv = NULL;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'n':
		case 'N':
		case 'f':
		case 'd':
		case 'r':
		case 'R':
		case 's':
			if (parse_num(optarg, &v)) {
				fprintf(stderr, "bench-policy: bad number '%s'\n", optarg);
				return 2;
			}
			if (c == 'p')
				o.procs = v;
			else if (c == 'n')
				o.pages = v;
			else if (c == 'N')
				o.nodes = (int)(v > 64 ? 65 : v);
			else if (c == 'f')
				o.far = (int)(v > 64 ? 65 : v);
			else if (c == 'd')
				o.doublings = (int)(v > MAX_SIZES ? MAX_SIZES : v);
			else if (c == 'r')
				o.reps = (int)(v > MAX_REPS ? MAX_REPS + 1 : v);
			else if (c == 'R')
				o.rate_mb = v;
			else
				o.seed = v;
			break;
		case 'c':
			o.csv = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !o.procs || o.nodes < 3 || o.nodes > 64 || o.nodes - o.far < 2 ||
	    o.doublings > MAX_SIZES - 1 || !o.reps || o.reps > MAX_REPS || o.pages < o.procs) {
		fprintf(stderr,
			"bench-policy: bad arguments (nodes 3..64 with 2 near, reps <= %d, "
			"pages >= procs; see --help)\n",
			MAX_REPS);
		return 2;
	}
	if (o.csv && !(csv = fopen(o.csv, "w"))) {
		fprintf(stderr, "bench-policy: %s: %s\n", o.csv, strerror(errno));
		return 1;
	}

	printf("policy engine replay: %d nodes (%d memory-only), rate limit %llu MB/s, "
	       "%d cycles per size (1 cold, %d warm)\n\n",
	       o.nodes, o.far, (unsigned long long)o.rate_mb, o.reps, o.reps - 1);
	printf("%6s %9s %9s %8s %8s %8s %8s %8s %6s %9s %7s %8s %7s\n", "procs", "pages", "entries",
	       "cold ms", "cold cpu", "warm ms", "warm cpu", "ns/entry", "moves", "candidate",
	       "inputMB", "engineMB", "peakMB");
	if (csv)
		fprintf(csv, "procs,pages,entries,cold_ms,cold_cpu_ms,warm_ms,warm_min_ms,"
			     "warm_max_ms,warm_cpu_ms,moves,candidates,input_bytes,history_bytes,"
			     "plan_bytes,peak_rss_bytes,build_s\n");
	for (int d = 0; d <= o.doublings; d++) {
		struct result *r = &res[n_res];

		if (run_child(&o, o.procs << d, o.pages << d, r)) {
			failed = 1;
			break;
		}
		n_res++;
		failed |= r->failed != 0;
		printf("%6zu %9zu %9zu %8.1f %8.1f %8.1f %8.1f %8.1f %6zu %9zu %7.0f %8.0f %7.0f\n",
		       r->procs, r->pages, r->entries, r->cold_ms, r->cold_cpu_ms, r->warm_ms,
		       r->warm_cpu_ms, r->warm_cpu_ms * 1e6 / (double)r->entries, r->moves,
		       r->candidates, (double)r->input_bytes / 1048576.0,
		       (double)(r->history_bytes + r->plan_bytes) / 1048576.0,
		       (double)r->peak_rss_kb / 1024.0);
		if (csv)
			fprintf(csv,
				"%zu,%zu,%zu,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%zu,%zu,%zu,%zu,%zu,%ld,"
				"%.3f\n",
				r->procs, r->pages, r->entries, r->cold_ms, r->cold_cpu_ms,
				r->warm_ms, r->warm_min_ms, r->warm_max_ms, r->warm_cpu_ms,
				r->moves, r->candidates, r->input_bytes, r->history_bytes,
				r->plan_bytes, r->peak_rss_kb * 1024, r->build_s);
		fflush(stdout);
	}
	if (n_res > 1) {
		printf("\ngrowth per doubling: time = warm cycle CPU time; k in time ~ n^k for "
		       "n = entries\n(n log n gives k just above 1); memory = history + plan\n");
		printf("%9s -> %9s %8s %6s %10s %9s\n", "entries", "entries", "time x", "k",
		       "n log n x", "memory x");
		for (int i = 1; i < n_res; i++) {
			const struct result *a = &res[i - 1], *b = &res[i];
			double rn = (double)b->entries / (double)a->entries;
			double rt = b->warm_cpu_ms / a->warm_cpu_ms;
			double rm = (double)(b->history_bytes + b->plan_bytes) /
				    (double)(a->history_bytes + a->plan_bytes);

			printf("%9zu -> %9zu %8.2f %6.2f %10.2f %9.2f\n", a->entries, b->entries,
			       rt, log(rt) / log(rn),
			       nlogn((double)b->entries) / nlogn((double)a->entries), rm);
		}
	}
	if (csv)
		fclose(csv);
	if (failed)
		fprintf(stderr, "bench-policy: FAILED (see above)\n");
	return failed;
}
