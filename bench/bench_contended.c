// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-contended: what move_pages(2) costs per page while the process writes the pages it
 * moves, by entries per call. pagemigd moves the pages of running processes: in the lab's 1 GiB
 * convergence case a page cost 88-211 us under a writer on the other CPU against 25 us idle
 * (bench/field/observations.md). Whether that is a fixed cost per call (which larger calls
 * would spread) or a cost per page (which they would not) decides what the daemon can do.
 *
 * For every size of call in the sweep, in rotating order, the buffer is moved whole from one
 * node to the other in calls of that many entries, twice: once idle, once while a thread on
 * another CPU writes one word of every page, page after page, over and over. Reported per size
 * and condition: microseconds per page moved (median over the repetitions), call p50 and p99,
 * pages the kernel left behind, and the writer's passes per second. Raw system calls only: this
 * measures the kernel, not the library.
 *
 * Two ways in which the daemon's calls differ from a program moving its own buffer front to back
 * can be set: --stride K puts every K-th page into a call (the pages of one call lie K pages
 * apart, as the hottest pages of a large set can), and --target child moves the pages of a child
 * process by pid, the child writing them, as pagemigd moves a workload's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define MAX_LIST 16
#define MAX_REPS 100

static const unsigned long default_sweep[] = {16, 64, 256, 1024, 4096};

enum condition { C_IDLE, C_WRITER, C__COUNT };
static const char *const condition_name[C__COUNT] = {"idle", "writer"};

struct config {
	unsigned long mib;
	unsigned long sweep[MAX_LIST];
	size_t nsweep;
	unsigned long reps;
	long mover_cpu, writer_cpu;
	int node_a, node_b;
	unsigned long stride;
	bool child; /* the pages are a child's, moved by pid */
};

struct buffer {
	char *base;
	size_t npages, ps;
	void **pages; /* in the order they are moved (--stride) */
	int *nodes, *status;
	pid_t pid; /* whose pages: 0 this process, else the child's */
};

enum writer_mode { W_IDLE, W_WRITE, W_EXIT };

/* Shared with the child under --target child (MAP_SHARED), else with a thread. */
struct writer_ctl {
	atomic_int mode; /* enum writer_mode */
	atomic_ulong passes;
};

struct writer {
	pthread_t thread;
	struct buffer *buf;
	long cpu;
	struct writer_ctl *ctl;
};

/* One run's figures. */
struct run {
	double us_per_page;
	double call_p50_ms, call_p99_ms;
	size_t left_behind;
	double passes_per_s;
};

static int pin(long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Write one word of every page, page after page, while ctl says so; idle in between. */
static void write_loop(const struct buffer *b, struct writer_ctl *ctl)
{
	for (;;) {
		int mode = atomic_load_explicit(&ctl->mode, memory_order_relaxed);

		if (mode == W_EXIT)
			return;
		if (mode == W_IDLE) {
			usleep(1000);
			continue;
		}
		for (size_t i = 0; i < b->npages; i++)
			((volatile uint64_t *)(b->base + i * b->ps))[1]++;
		atomic_fetch_add_explicit(&ctl->passes, 1, memory_order_relaxed);
	}
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	if (pin(w->cpu))
		fprintf(stderr, "bench-contended: the writer cannot run on cpu %ld\n", w->cpu);
	write_loop(w->buf, w->ctl);
	return NULL;
}

static long move_pages_raw(pid_t pid, size_t n, void **pages, const int *nodes, int *status)
{
	return syscall(SYS_move_pages, pid, n, pages, nodes, status, MPOL_MF_MOVE);
}

/* Every page to node, in calls of at most per_call entries; call times into call_ns. */
static int move_all(struct buffer *b, int node, size_t per_call, uint64_t *call_ns, size_t *ncalls)
{
	size_t c = 0;

	for (size_t i = 0; i < b->npages; i++)
		b->nodes[i] = node;
	for (size_t i = 0; i < b->npages; i += per_call) {
		size_t n = b->npages - i < per_call ? b->npages - i : per_call;
		uint64_t t0 = bench_now_ns();

		if (move_pages_raw(b->pid, n, b->pages + i, b->nodes + i, b->status + i) < 0)
			return -errno;
		call_ns[c++] = bench_now_ns() - t0;
	}
	*ncalls = c;
	return 0;
}

/* Pages not on node, by a nodes=NULL query. */
static int count_off(struct buffer *b, int node, size_t *off)
{
	*off = 0;
	if (move_pages_raw(b->pid, b->npages, b->pages, NULL, b->status) < 0)
		return -errno;
	for (size_t i = 0; i < b->npages; i++)
		*off += b->status[i] != node;
	return 0;
}

static int one_run(struct buffer *b, struct writer_ctl *ctl, const struct config *cfg,
		   size_t per_call, enum condition c, int from, int to, uint64_t *call_ns,
		   struct run *r)
{
	struct writer w = {.buf = b, .cpu = cfg->writer_cpu, .ctl = ctl};
	size_t ncalls = 0, off;
	unsigned long passes0;
	uint64_t t0, t1;
	int err;

	if ((err = move_all(b, from, 4096, call_ns, &ncalls))) /* untimed: back to the start */
		return err;
	if (c == C_WRITER) {
		passes0 = atomic_load(&ctl->passes);
		atomic_store(&ctl->mode, W_WRITE);
		if (!b->pid && (err = -pthread_create(&w.thread, NULL, writer_main, &w)))
			return err;
		/* let it get going: the run should see it writing */
		while (atomic_load(&ctl->passes) < passes0 + 1)
			usleep(1000);
	}
	passes0 = atomic_load(&ctl->passes);
	t0 = bench_now_ns();
	err = move_all(b, to, per_call, call_ns, &ncalls);
	t1 = bench_now_ns();
	r->passes_per_s = (double)(atomic_load(&ctl->passes) - passes0) / ((double)(t1 - t0) / 1e9);
	if (c == C_WRITER) {
		/* the thread ends; the child idles until the next run */
		atomic_store(&ctl->mode, b->pid ? W_IDLE : W_EXIT);
		if (!b->pid)
			pthread_join(w.thread, NULL);
		atomic_store(&ctl->mode, W_IDLE);
	}
	if (err || (err = count_off(b, to, &off)))
		return err;
	r->left_behind = off;
	r->us_per_page = (double)(t1 - t0) / 1e3 / (double)(b->npages - off ? b->npages - off : 1);
	r->call_p50_ms = (double)bench_quantile_u64(call_ns, ncalls, 0.50) / 1e6;
	r->call_p99_ms = (double)bench_quantile_u64(call_ns, ncalls, 0.99) / 1e6;
	return 0;
}

/*
 * The child of --target child: fills the buffer on its own (its pages, not shared copy-on-write
 * with the parent, which never touches them), says so, then writes while ctl says so.
 */
static void child_main(struct buffer *b, struct writer_ctl *ctl, long cpu)
{
	if (pin(cpu))
		fprintf(stderr, "bench-contended: the child cannot run on cpu %ld\n", cpu);
	memset(b->base, 1, b->npages * b->ps);
	atomic_store(&ctl->passes, 1);
	write_loop(b, ctl);
	_exit(0);
}

static int setup(struct buffer *b, struct writer_ctl *ctl, const struct config *cfg)
{
	size_t bytes = cfg->mib << 20, groups;

	b->ps = (size_t)sysconf(_SC_PAGESIZE);
	b->npages = bytes / b->ps;
	b->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->base == MAP_FAILED)
		return -errno;
	/* 4 KiB pages: a huge page would be one entry of 512 and measure something else */
	if (madvise(b->base, bytes, MADV_NOHUGEPAGE))
		return -errno;
	b->pages = calloc(b->npages, sizeof(*b->pages));
	b->nodes = calloc(b->npages, sizeof(*b->nodes));
	b->status = calloc(b->npages, sizeof(*b->status));
	if (!b->pages || !b->nodes || !b->status)
		return -ENOMEM;
	/* every stride-th page in a row, then the same from the next page on, and so on */
	groups = (b->npages + cfg->stride - 1) / cfg->stride;
	for (size_t i = 0, k = 0; k < cfg->stride; k++)
		for (size_t g = 0; g < groups && g * cfg->stride + k < b->npages; g++)
			b->pages[i++] = b->base + (g * cfg->stride + k) * b->ps;
	if (!cfg->child) {
		memset(b->base, 1, bytes);
		return 0;
	}
	b->pid = fork();
	if (b->pid < 0)
		return -errno;
	if (b->pid == 0)
		child_main(b, ctl, cfg->writer_cpu);
	while (atomic_load(&ctl->passes) < 1) {
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid)
			return -ECHILD;
		usleep(1000);
	}
	return 0;
}

/* Bad usage: say what (what names the option, arg is what was given) and how to get help. */
static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "bench-contended: %s: '%s' is not valid\nTry 'bench-contended --help'.\n",
		what, arg);
	return BENCH_EXIT_USAGE;
}

static void usage(void)
{
	printf("Usage: bench-contended [OPTION]...\n"
	       "The cost per page of move_pages(2) while another thread writes the pages, by\n"
	       "entries per call, against the same moves with nobody writing (needs two memory\n"
	       "nodes and two CPUs).\n\n"
	       "  -s, --size MIB          buffer size (default 64)\n"
	       "  -n, --sweep N[,N...]    entries per call (default 16,64,256,1024,4096)\n"
	       "  -r, --reps N            repetitions (default 3)\n"
	       "      --mover-cpu CPU     where the moves run (default 0)\n"
	       "      --writer-cpu CPU    where the writer runs (default 1)\n"
	       "      --nodes A,B         the two nodes (default: the first two with memory)\n"
	       "      --stride K          a call's pages lie K pages apart (default 1: adjacent)\n"
	       "      --target self|child whose pages: this process's (a thread writes them) or a\n"
	       "                          child's, moved by pid (the child writes them)\n"
	       "  -h, --help              this text\n\n"
	       "Exit status: 0 done, 1 error, 2 bad usage, 77 fewer than two memory nodes.\n");
}

static int parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option lo[] = {
		{"size", 1, NULL, 's'},	      {"sweep", 1, NULL, 'n'},	    {"reps", 1, NULL, 'r'},
		{"mover-cpu", 1, NULL, 'M'},  {"writer-cpu", 1, NULL, 'W'}, {"nodes", 1, NULL, 'N'},
		{"stride", 1, NULL, 'S'},     {"target", 1, NULL, 'T'},
		{"help", 0, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	unsigned long v, pair[2];
	size_t np;
	int c;

	while ((c = getopt_long(argc, argv, "s:n:r:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (bench_parse_ulong(optarg, 1, 65536, &cfg->mib))
				return usage_error("--size (1..65536 MiB)", optarg);
			break;
		case 'n':
			if (bench_parse_list(optarg, 1, 65536, cfg->sweep, MAX_LIST, &cfg->nsweep))
				return usage_error("--sweep (a list of 1..65536)", optarg);
			break;
		case 'r':
			if (bench_parse_ulong(optarg, 1, MAX_REPS, &cfg->reps))
				return usage_error("--reps (1..100)", optarg);
			break;
		case 'M':
		case 'W':
			if (bench_parse_ulong(optarg, 0, CPU_SETSIZE - 1, &v))
				return usage_error(c == 'M' ? "--mover-cpu" : "--writer-cpu", optarg);
			*(c == 'M' ? &cfg->mover_cpu : &cfg->writer_cpu) = (long)v;
			break;
		case 'N':
			if (bench_parse_list(optarg, 0, BENCH_MAX_NODES - 1, pair, 2, &np) || np != 2)
				return usage_error("--nodes (two node numbers A,B)", optarg);
			cfg->node_a = (int)pair[0];
			cfg->node_b = (int)pair[1];
			break;
		case 'S':
			if (bench_parse_ulong(optarg, 1, 1UL << 20, &cfg->stride))
				return usage_error("--stride (1..1048576 pages)", optarg);
			break;
		case 'T':
			if (strcmp(optarg, "self") && strcmp(optarg, "child"))
				return usage_error("--target (self or child)", optarg);
			cfg->child = !strcmp(optarg, "child");
			break;
		case 'h':
			usage();
			exit(BENCH_EXIT_OK);
		default:
			return BENCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("argument", argv[optind]);
	return 0;
}

/* The median of one field over n runs (bench_stats). */
static double median_of(struct run *runs, size_t n, size_t field_offset)
{
	double v[MAX_REPS];

	for (size_t i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&runs[i] + field_offset);
	return bench_stats(v, n).median;
}

int main(int argc, char **argv)
{
	struct config cfg = {.mib = 64, .reps = 3, .mover_cpu = 0, .writer_cpu = 1,
			     .node_a = -1, .node_b = -1, .stride = 1};
	static struct run runs[MAX_LIST][C__COUNT][MAX_REPS];
	struct buffer b = {0};
	struct writer_ctl *ctl;
	int mem[BENCH_MAX_NODES], nmem, err;
	uint64_t *call_ns;

	if ((err = parse_args(argc, argv, &cfg)))
		return err;
	if (!cfg.nsweep) {
		cfg.nsweep = sizeof(default_sweep) / sizeof(*default_sweep);
		memcpy(cfg.sweep, default_sweep, sizeof(default_sweep));
	}
	nmem = bench_memory_nodes(mem, BENCH_MAX_NODES);
	if (cfg.node_a < 0 && nmem >= 2) {
		cfg.node_a = mem[0];
		cfg.node_b = mem[1];
	}
	if (cfg.node_a < 0 || cfg.node_a == cfg.node_b) {
		printf("SKIP: bench-contended needs two memory nodes\n");
		return BENCH_EXIT_SKIP;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("SKIP: bench-contended needs two CPUs\n");
		return BENCH_EXIT_SKIP;
	}
	bench_print_header(stdout, "bench-contended: move_pages(2) per page, idle vs written", argc,
			   argv, mem, nmem);
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED)
		return BENCH_EXIT_FAIL;
	if (pin(cfg.mover_cpu) || (err = setup(&b, ctl, &cfg))) {
		fprintf(stderr, "bench-contended: setup: %s\n", strerror(err ? -err : errno));
		return BENCH_EXIT_FAIL;
	}
	if (!(call_ns = calloc(b.npages, sizeof(*call_ns))))
		return BENCH_EXIT_FAIL;
	printf("# %lu MiB of 4 KiB pages, nodes %d <-> %d, mover on cpu %ld, writer on cpu %ld, "
	       "pages %lu apart in a call, %s\n",
	       cfg.mib, cfg.node_a, cfg.node_b, cfg.mover_cpu, cfg.writer_cpu, cfg.stride,
	       cfg.child ? "a child's pages moved by pid, the child writing"
			 : "own pages, a thread writing");
	for (unsigned long r = 0; r < cfg.reps; r++) {
		int from = r % 2 ? cfg.node_b : cfg.node_a, to = r % 2 ? cfg.node_a : cfg.node_b;

		for (size_t k = 0; k < cfg.nsweep * C__COUNT; k++) {
			/* rotate the order every repetition: drifts fall on every cell alike */
			size_t slot = (k + r) % (cfg.nsweep * C__COUNT);
			size_t si = slot / C__COUNT;
			enum condition c = (enum condition)(slot % C__COUNT);
			struct run *out = &runs[si][c][r];

			err = one_run(&b, ctl, &cfg, cfg.sweep[si], c, from, to, call_ns, out);
			if (err) {
				fprintf(stderr, "bench-contended: %lu entries per call, %s: %s\n",
					cfg.sweep[si], condition_name[c], strerror(-err));
				goto stop_child;
			}
			printf("RUN rep=%lu per_call=%lu cond=%s us_per_page=%.2f call_p50_ms=%.3f "
			       "call_p99_ms=%.3f left_behind=%zu writer_passes_per_s=%.2f\n",
			       r + 1, cfg.sweep[si], condition_name[c], out->us_per_page,
			       out->call_p50_ms, out->call_p99_ms, out->left_behind,
			       out->passes_per_s);
			fflush(stdout);
		}
	}
	printf("\n| entries per call | idle us/page | writer us/page | writer / idle | "
	       "call p50 / p99 ms (idle) | call p50 / p99 ms (writer) | left behind (writer) | "
	       "writer passes/s |\n|---|---|---|---|---|---|---|---|\n");
	for (size_t si = 0; si < cfg.nsweep; si++) {
		struct run *idle = runs[si][C_IDLE], *wr = runs[si][C_WRITER];
		double ui = median_of(idle, cfg.reps, offsetof(struct run, us_per_page));
		double uw = median_of(wr, cfg.reps, offsetof(struct run, us_per_page));
		size_t left = 0;

		for (unsigned long r = 0; r < cfg.reps; r++)
			left += wr[r].left_behind;
		printf("| %lu | %.1f | %.1f | %.2f | %.2f / %.2f | %.2f / %.2f | %zu | %.2f |\n",
		       cfg.sweep[si], ui, uw, uw / ui,
		       median_of(idle, cfg.reps, offsetof(struct run, call_p50_ms)),
		       median_of(idle, cfg.reps, offsetof(struct run, call_p99_ms)),
		       median_of(wr, cfg.reps, offsetof(struct run, call_p50_ms)),
		       median_of(wr, cfg.reps, offsetof(struct run, call_p99_ms)), left,
		       median_of(wr, cfg.reps, offsetof(struct run, passes_per_s)));
	}
stop_child:
	if (b.pid > 0) {
		atomic_store(&ctl->mode, W_EXIT);
		waitpid(b.pid, NULL, 0);
	}
	return err ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}
