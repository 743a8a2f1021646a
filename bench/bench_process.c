// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-process: whole-process moves. A child process holds a filled buffer; the benchmark moves
 * all of the child's memory between two nodes with pagemig_move_process() (library defaults
 * unless --budget-us / --pages-per-call say otherwise), with numactl's migratepages program
 * (executed as a user would run it) and with the migrate_pages(2) system call that migratepages
 * makes (libnuma's numa_migrate_pages(), no process start-up), alternating in one run. It reports
 * throughput, the ratios and the longest single move_pages(2) call pagemig made (target: every call
 * <= 20 ms), against which the migrate_pages(2) call, one call for the whole process, is the
 * contrast.
 *
 * Needs two memory nodes; on one node it says so and exits 77.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <numa.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pagemig/pagemig.h"

#include "common.h"

#define SENTINEL       INT_MIN
#define TARGET_RATIO   1.00
#define TARGET_CALL_MS 20.0

extern char **environ;

enum method { M_PAGEMIG, M_MIGRATEPAGES, M_SYSCALL, M__COUNT };

static const struct {
	const char *name;
	const char *key;
	const char *what;
} methods[M__COUNT] = {
	[M_PAGEMIG] = {"pagemig", "pagemig", "pagemig_move_process(pid, TO, opts, &report)"},
	[M_MIGRATEPAGES] = {"migratepages", "migratepages",
			    "numactl's migratepages PID FROM TO, started as a program"},
	[M_SYSCALL] = {"migrate_pages(2)", "syscall",
		       "numa_migrate_pages(pid, FROM, TO): the call migratepages makes"},
};

struct config {
	unsigned long size_mib;
	unsigned long reps;
	unsigned long warmup;
	bool thp;
	int move_all;		 /* -1 auto (as migrate_pages(2) does), 0 off, 1 on */
	unsigned long budget_us; /* pagemig call_budget_us, 0: library default */
	unsigned long ppc;	 /* pagemig pages_per_call, 0: library default */
	unsigned long threads;	 /* pagemig threads, 0: library default (1) */
	bool full_checksum;
	bool strict;
	bool verbose;
	int node_a, node_b;
	const char *migratepages; /* path, NULL when not found */
};

/* The child and what the parent knows of it. */
struct child {
	pid_t pid;
	int cmd_fd; /* parent -> child */
	int rsp_fd; /* child -> parent */
	uintptr_t base;
	size_t bytes;
	uint64_t sum;
	size_t npages;
	void **pages; /* the buffer's pages, in the child's address space */
	int *status;
};

struct hello {
	uintptr_t base;
	size_t bytes;
	uint64_t sum;
	int err;
};

struct method_data {
	double run_ns[1000];
	uint64_t max_call_ns; /* pagemig: its longest move call; others: the longest run */
	unsigned long calls;
	unsigned long pages_moved;
	unsigned long off_target;
	unsigned long shared;
	long long migrated; /* pgmigrate_success, summed; -1 unknown */
};

static const char *prog = "bench-process";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bench-process [OPTION]...\n"
		"\n"
		"Start a child process holding a filled buffer and move all of its memory\n"
		"between two memory nodes with pagemig_move_process() (library defaults\n"
		"unless set below), with numactl's migratepages PID FROM TO (executed as a\n"
		"program) and with the migrate_pages(2) call it makes (numa_migrate_pages()),\n"
		"alternating in one run. Prints throughput, the ratios and pagemig's longest\n"
		"single move_pages(2) call.\n"
		"Needs two memory nodes; with one it says so and exits 77.\n"
		"\n"
		"  -s, --size MIB            the child's buffer in MiB, 1..65536 (default 64)\n"
		"  -r, --reps R              timed repetitions per method, 1..1000 (default 7)\n"
		"  -w, --warmup W            untimed rounds of every method first, 0..100\n"
		"                            (default 1)\n"
		"      --thp                 back the buffer with transparent huge pages\n"
		"                            (MADV_HUGEPAGE; default MADV_NOHUGEPAGE)\n"
		"      --nodes A,B           the two memory nodes (default: the first two)\n"
		"      --budget-us US        pagemig's call_budget_us, 1..4294967295\n"
		"                            (4294967295 = UINT_MAX: no budget)\n"
		"                            (default: the library's, %d)\n"
		"      --pages-per-call N    pagemig's pages_per_call, 1..65536\n"
		"                            (default: the library's, %d)\n"
		"      --threads N           pagemig's threads (parts of the process moved at\n"
		"                            once), 1..64 (default: the library's, 1)\n"
		"      --move-all auto|on|off\n"
		"                            give pagemig PAGEMIG_MOVE_ALL (move pages shared\n"
		"                            with other processes too); auto: when this process\n"
		"                            has CAP_SYS_NICE, as migrate_pages(2) then does,\n"
		"                            so both do the same work (default auto)\n"
		"      --migratepages PATH   the migratepages program (default: found in PATH)\n"
		"      --full-checksum       checksum every byte after each run (default: 8 words\n"
		"                            of every 4 KiB page)\n"
		"      --strict              exit 3 when a target is missed\n"
		"  -v, --verbose             print every timed run\n"
		"  -h, --help                show this help\n"
		"\n"
		"Targets (issue 3): pagemig >= %.2fx migratepages; every move_pages(2) call of\n"
		"pagemig <= %.0f ms. MB/s counts the child's buffer (MB = 10^6 bytes).\n"
		"\n"
		"Exit status: 0 done (targets met or not), 1 a wrong result or an error, 2 usage\n"
		"error, 3 --strict and a target missed, 77 fewer than two memory nodes.\n",
		PAGEMIG_DEFAULT_CALL_BUDGET_US, PAGEMIG_DEFAULT_PAGES_PER_CALL, TARGET_RATIO,
		TARGET_CALL_MS);
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

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- the child --------------------------------------------------------------------------- */

/* Runs in the child: allocate and fill, report, then answer checksum requests until EOF. */
static void child_main(int cmd_fd, int rsp_fd, const struct config *cfg)
{
	size_t bytes = cfg->size_mib << 20, align = bench_pmd_size();
	struct hello h = {0};
	char *map, *base;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	map = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		h.err = errno;
		write_full(rsp_fd, &h, sizeof(h));
		_exit(1);
	}
	base = (char *)(((uintptr_t)map + align - 1) & ~(uintptr_t)(align - 1));
	madvise(base, bytes, cfg->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	bench_fill(base, bytes, cfg->size_mib * 17 + 1);
	h.base = (uintptr_t)base;
	h.bytes = bytes;
	h.sum = bench_checksum(base, bytes, cfg->full_checksum);
	if (write_full(rsp_fd, &h, sizeof(h)))
		_exit(1);
	while (read_full(cmd_fd, &c, 1) == 0) {
		uint64_t sum = bench_checksum(base, bytes, cfg->full_checksum);

		if (write_full(rsp_fd, &sum, sizeof(sum)))
			_exit(1);
	}
	_exit(0);
}

static int child_start(struct child *ch, const struct config *cfg)
{
	int cmd[2], rsp[2], err;
	struct hello h;

	memset(ch, 0, sizeof(*ch));
	ch->pid = -1;
	if (pipe2(cmd, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(rsp, O_CLOEXEC) < 0) {
		err = -errno;
		close(cmd[0]);
		close(cmd[1]);
		return err;
	}
	fflush(stdout);
	ch->pid = fork();
	if (ch->pid < 0) {
		err = -errno;
		close(cmd[0]);
		close(cmd[1]);
		close(rsp[0]);
		close(rsp[1]);
		return err;
	}
	if (ch->pid == 0) {
		close(cmd[1]);
		close(rsp[0]);
		child_main(cmd[0], rsp[1], cfg);
	}
	close(cmd[0]);
	close(rsp[1]);
	ch->cmd_fd = cmd[1];
	ch->rsp_fd = rsp[0];
	err = read_full(ch->rsp_fd, &h, sizeof(h));
	if (err)
		return err;
	if (h.err)
		return -h.err;
	ch->base = h.base;
	ch->bytes = h.bytes;
	ch->sum = h.sum;
	ch->npages = h.bytes / (size_t)sysconf(_SC_PAGESIZE);
	ch->pages = malloc(ch->npages * sizeof(*ch->pages));
	ch->status = malloc(ch->npages * sizeof(*ch->status));
	if (!ch->pages || !ch->status)
		return -ENOMEM;
	for (size_t i = 0; i < ch->npages; i++)
		ch->pages[i] = (void *)(ch->base + i * (size_t)sysconf(_SC_PAGESIZE));
	return 0;
}

static void child_stop(struct child *ch)
{
	if (ch->pid > 0) {
		close(ch->cmd_fd);
		close(ch->rsp_fd);
		while (waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(ch->pages);
	free(ch->status);
	memset(ch, 0, sizeof(*ch));
}

static int child_checksum(struct child *ch, uint64_t *sum)
{
	int err = write_full(ch->cmd_fd, "c", 1);

	return err ? err : read_full(ch->rsp_fd, sum, sizeof(*sum));
}

/* ---- placement and checks ---------------------------------------------------------------- */

static int query_buffer(void *child)
{
	struct child *ch = child;

	for (size_t i = 0; i < ch->npages; i++)
		ch->status[i] = SENTINEL;
	if (syscall(SYS_move_pages, ch->pid, ch->npages, ch->pages, NULL, ch->status, 0) < 0)
		return -errno;
	return 0;
}

static size_t count_off(const void *child, int node)
{
	const struct child *ch = child;
	size_t off = 0;

	for (size_t i = 0; i < ch->npages; i++)
		off += ch->status[i] != node;
	return off;
}

static struct bitmask *one_node(int node)
{
	struct bitmask *bm = numa_allocate_nodemask();

	if (bm)
		numa_bitmask_setbit(bm, (unsigned int)node);
	return bm;
}

static long migrate_syscall(pid_t pid, int from, int to)
{
	struct bitmask *f = one_node(from), *t = one_node(to);
	long ret = -ENOMEM;

	if (f && t) {
		ret = numa_migrate_pages(pid, f, t);
		if (ret < 0)
			ret = -errno;
	}
	if (f)
		numa_free_nodemask(f);
	if (t)
		numa_free_nodemask(t);
	return ret;
}

/* Untimed: every page of the child that can move onto node, the buffer certainly. */
static int place(struct child *ch, int node, const int *mem, int nmem)
{
	size_t off = 0;
	long ret;
	int err;

	for (int pass = 0; pass < 5; pass++) {
		if (pass)
			usleep(BENCH_SETTLE_US);
		for (int i = 0; i < nmem; i++) {
			if (mem[i] == node)
				continue;
			ret = migrate_syscall(ch->pid, mem[i], node);
			if (ret < 0) {
				fprintf(stderr,
					"%s: migrate_pages(2) placing the child on node %d: %s\n",
					prog, node, strerror((int)-ret));
				return (int)ret;
			}
		}
		err = query_buffer(ch);
		if (err)
			return err;
		off = count_off(ch, node);
		if (!off)
			return 0;
	}
	fprintf(stderr, "%s: could not place the child's buffer on node %d: %zu pages elsewhere\n",
		prog, node, off);
	return -EIO;
}

/* Pages that read off target once and on target when asked again (another mover had them under
 * migration, which reads as not present). */
static unsigned long transients;

static int verify(struct child *ch, int node, const char *who)
{
	uint64_t sum = 0;
	size_t first;
	long off = bench_settle_off(query_buffer, count_off, ch, node, &first);
	int err = off < 0 ? (int)off : 0;

	if (err) {
		fprintf(stderr, "%s: verification query after %s: %s\n", prog, who, strerror(-err));
		return err;
	}
	if (off) {
		fprintf(stderr,
			"%s: WRONG RESULT after %s: %ld of %zu buffer pages not on node %d\n", prog,
			who, off, ch->npages, node);
		return -EIO;
	}
	if (first) {
		transients += first;
		printf("  note: after %s %zu page(s) read as off target and settled on target when "
		       "asked again (another mover had them under migration)\n",
		       who, first);
	}
	err = child_checksum(ch, &sum);
	if (err) {
		fprintf(stderr, "%s: child did not answer: %s\n", prog, strerror(-err));
		return err;
	}
	if (sum != ch->sum) {
		fprintf(stderr, "%s: WRONG RESULT after %s: the child's buffer changed\n", prog,
			who);
		return -EIO;
	}
	return 0;
}

/* ---- the methods ------------------------------------------------------------------------- */

static int run_pagemig(const struct config *cfg, struct child *ch, int to, struct method_data *d,
		       uint64_t *ns)
{
	struct pagemig_opts o = {
		.sz = sizeof(o),
		.pages_per_call = (unsigned int)cfg->ppc,
		.call_budget_us = (unsigned int)cfg->budget_us,
		.flags = cfg->move_all == 1 ? PAGEMIG_MOVE_ALL : 0,
		.threads = (unsigned int)cfg->threads,
	};
	bool defaults = !cfg->ppc && !cfg->budget_us && cfg->move_all != 1 && !cfg->threads;
	struct pagemig_report rep;
	uint64_t t0;
	long ret;

	pagemig_report_init(&rep);
	t0 = bench_now_ns();
	ret = pagemig_move_process(ch->pid, to, defaults ? NULL : &o, &rep);
	*ns = bench_now_ns() - t0;
	if (ret < 0) {
		fprintf(stderr, "%s: pagemig_move_process failed: %s\n", prog, strerror((int)-ret));
		pagemig_report_print(stderr, &rep, "pagemig_move_process");
		return (int)ret;
	}
	if (d) {
		if (rep.max_call_ns > d->max_call_ns)
			d->max_call_ns = rep.max_call_ns;
		d->calls += rep.calls;
		d->pages_moved += rep.pages_moved;
		d->off_target += (unsigned long)ret;
		d->shared += rep.by_outcome[PAGEMIG_OUT_SHARED];
	}
	if (cfg->verbose)
		pagemig_report_print(stdout, &rep, "  pagemig_move_process");
	return 0;
}

static int run_migratepages(const struct config *cfg, struct child *ch, int from, int to,
			    uint64_t *ns)
{
	char spid[32], sfrom[16], sto[16];
	char *argv[] = {(char *)"migratepages", spid, sfrom, sto, NULL};
	uint64_t t0;
	pid_t pid;
	int st, err;

	snprintf(spid, sizeof(spid), "%d", (int)ch->pid);
	snprintf(sfrom, sizeof(sfrom), "%d", from);
	snprintf(sto, sizeof(sto), "%d", to);
	t0 = bench_now_ns();
	err = posix_spawn(&pid, cfg->migratepages, NULL, NULL, argv, environ);
	if (err) {
		fprintf(stderr, "%s: cannot start %s: %s\n", prog, cfg->migratepages,
			strerror(err));
		return -err;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*ns = bench_now_ns() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s: %s %s %s %s failed (status %#x)\n", prog, cfg->migratepages,
			spid, sfrom, sto, st);
		return -EIO;
	}
	return 0;
}

static int one_run(enum method m, const struct config *cfg, struct child *ch, int from, int to,
		   const int *mem, int nmem, struct method_data *d, size_t rep)
{
	long long vm0, vm1;
	uint64_t ns = 0;
	long ret;
	int err;

	err = place(ch, from, mem, nmem);
	if (err)
		return err;
	vm0 = bench_vmstat("pgmigrate_success");
	switch (m) {
	case M_PAGEMIG:
		err = run_pagemig(cfg, ch, to, d, &ns);
		break;
	case M_MIGRATEPAGES:
		err = run_migratepages(cfg, ch, from, to, &ns);
		break;
	default: {
		uint64_t t0 = bench_now_ns();

		ret = migrate_syscall(ch->pid, from, to);
		ns = bench_now_ns() - t0;
		if (ret < 0) {
			fprintf(stderr, "%s: migrate_pages(2): %s\n", prog, strerror((int)-ret));
			err = (int)ret;
		}
		break;
	}
	}
	vm1 = bench_vmstat("pgmigrate_success");
	if (err)
		return err;
	err = verify(ch, to, methods[m].name);
	if (err)
		return err;
	if (d) {
		d->run_ns[rep] = (double)ns;
		if (m != M_PAGEMIG && ns > d->max_call_ns)
			d->max_call_ns = ns;
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

/* ---- main -------------------------------------------------------------------------------- */

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	copy = strdup(path);
	if (!copy)
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *full;

		if (asprintf(&full, "%s/%s", *dir ? dir : ".", name) < 0)
			break;
		if (access(full, X_OK) == 0)
			found = full;
		else
			free(full);
	}
	free(copy);
	return found;
}

/* CAP_SYS_NICE in the effective set: migrate_pages(2) then moves shared pages as well. */
static bool has_cap_sys_nice(void)
{
	char line[256];
	unsigned long long caps = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", &caps) == 1;
	fclose(f);
	return found ? (caps >> 23) & 1 : geteuid() == 0;
}

/* Throughput of method over baseline, per repetition: baseline's time / method's time. */
static double ratio_paired(const struct method_data *baseline, const struct method_data *method,
			   size_t reps, struct bench_stats *st)
{
	double r[1000];

	for (size_t i = 0; i < reps; i++)
		r[i] = method->run_ns[i] > 0 ? baseline->run_ns[i] / method->run_ns[i] : 0;
	*st = bench_stats(r, reps);
	return st->median;
}

enum {
	OPT_THP = 256,
	OPT_NODES,
	OPT_MIGRATEPAGES,
	OPT_FULL,
	OPT_STRICT,
	OPT_BUDGET,
	OPT_PPC,
	OPT_THREADS,
	OPT_MOVE_ALL,
};

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{"size", required_argument, NULL, 's'},
		{"reps", required_argument, NULL, 'r'},
		{"warmup", required_argument, NULL, 'w'},
		{"thp", no_argument, NULL, OPT_THP},
		{"nodes", required_argument, NULL, OPT_NODES},
		{"migratepages", required_argument, NULL, OPT_MIGRATEPAGES},
		{"budget-us", required_argument, NULL, OPT_BUDGET},
		{"pages-per-call", required_argument, NULL, OPT_PPC},
		{"threads", required_argument, NULL, OPT_THREADS},
		{"move-all", required_argument, NULL, OPT_MOVE_ALL},
		{"full-checksum", no_argument, NULL, OPT_FULL},
		{"strict", no_argument, NULL, OPT_STRICT},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct config cfg = {.size_mib = 64, .reps = 7, .warmup = 1, .move_all = -1};
	bool nice_cap = has_cap_sys_nice();
	static struct method_data data[M__COUNT];
	enum method order[M__COUNT];
	const char *nodes_arg = NULL, *mp_arg = NULL;
	char *mp_found = NULL;
	int mem[BENCH_MAX_NODES], nmem, opt, rc = BENCH_EXIT_FAIL, err;
	size_t nm = 0;
	struct child ch = {.pid = -1};

	while ((opt = getopt_long(argc, argv, "s:r:w:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (bench_parse_ulong(optarg, 1, 65536, &cfg.size_mib))
				return usage_error("--size: '%s' is not a number in 1..65536 (MiB)",
						   optarg);
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
		case OPT_THP:
			cfg.thp = true;
			break;
		case OPT_NODES:
			nodes_arg = optarg;
			break;
		case OPT_MIGRATEPAGES:
			mp_arg = optarg;
			break;
		case OPT_BUDGET:
			if (bench_parse_ulong(optarg, 1, UINT_MAX, &cfg.budget_us))
				return usage_error("--budget-us: '%s' is not a number in "
						   "1..4294967295",
						   optarg);
			break;
		case OPT_MOVE_ALL:
			if (!strcmp(optarg, "auto"))
				cfg.move_all = -1;
			else if (!strcmp(optarg, "on"))
				cfg.move_all = 1;
			else if (!strcmp(optarg, "off"))
				cfg.move_all = 0;
			else
				return usage_error("--move-all: '%s' is not auto, on or off",
						   optarg);
			break;
		case OPT_THREADS:
			if (bench_parse_ulong(optarg, 1, 64, &cfg.threads))
				return usage_error("--threads: '%s' is not a number in 1..64",
						   optarg);
			break;
		case OPT_PPC:
			if (bench_parse_ulong(optarg, 1, 65536, &cfg.ppc))
				return usage_error("--pages-per-call: '%s' is not a number in "
						   "1..65536",
						   optarg);
			break;
		case OPT_FULL:
			cfg.full_checksum = true;
			break;
		case OPT_STRICT:
			cfg.strict = true;
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
	if (mp_arg && access(mp_arg, X_OK) < 0)
		return usage_error("--migratepages: '%s' is not an executable file", mp_arg);

	nmem = bench_memory_nodes(mem, BENCH_MAX_NODES);
	if (nodes_arg) {
		unsigned long v[2];
		size_t n;
		bool ok[2] = {false, false};

		if (bench_parse_list(nodes_arg, 0, INT_MAX, v, 2, &n) || n != 2 || v[0] == v[1])
			return usage_error("--nodes: '%s' is not two different node numbers A,B",
					   nodes_arg);
		for (int i = 0; i < nmem; i++)
			for (int j = 0; j < 2; j++)
				ok[j] |= mem[i] == (int)v[j];
		if (!ok[0] || !ok[1])
			return usage_error("--nodes: '%s' names a node without memory (or one this "
					   "process may not use)",
					   nodes_arg);
		cfg.node_a = (int)v[0];
		cfg.node_b = (int)v[1];
	} else if (nmem >= 2) {
		cfg.node_a = mem[0];
		cfg.node_b = mem[1];
	}

	bench_print_header(
		stdout, "bench-process: pagemig_move_process vs migratepages vs migrate_pages(2)",
		argc, argv, mem, nmem);
	if (nmem < 2) {
		printf("# bench-process needs at least two memory nodes; this machine has %d. "
		       "Nothing measured (run it in the NUMA lab).\n",
		       nmem);
		return BENCH_EXIT_SKIP;
	}
	if (mp_arg)
		cfg.migratepages = mp_arg;
	else
		cfg.migratepages = mp_found = find_in_path("migratepages");

	printf("# mode: CROSS NODE: repetitions alternate %d->%d and %d->%d; before every timed "
	       "run all of\n#   the child's memory is put on the run's source node (untimed, "
	       "migrate_pages(2))\n",
	       cfg.node_a, cfg.node_b, cfg.node_b, cfg.node_a);
	printf("# child buffer: %lu MiB, %s; reps: %lu timed (+%lu warm-up round%s), methods "
	       "alternate in rotating order\n",
	       cfg.size_mib, cfg.thp ? "MADV_HUGEPAGE" : "4 KiB pages (MADV_NOHUGEPAGE)", cfg.reps,
	       cfg.warmup, cfg.warmup == 1 ? "" : "s");
	printf("# pagemig options: pages_per_call %lu%s, call_budget_us ",
	       cfg.ppc ? cfg.ppc : PAGEMIG_DEFAULT_PAGES_PER_CALL, cfg.ppc ? "" : " (default)");
	if (cfg.budget_us == UINT_MAX)
		printf("UINT_MAX (no budget)\n");
	else
		printf("%lu%s\n", cfg.budget_us ? cfg.budget_us : PAGEMIG_DEFAULT_CALL_BUDGET_US,
		       cfg.budget_us ? "" : " (default)");
	printf("# pagemig threads: %lu%s\n", cfg.threads ? cfg.threads : 1,
	       cfg.threads ? "" : " (default)");
	if (cfg.move_all < 0)
		cfg.move_all = nice_cap;
	printf("# pagemig PAGEMIG_MOVE_ALL: %s; this process %s CAP_SYS_NICE, so migrate_pages(2) "
	       "%s\n",
	       cfg.move_all ? "on" : "off", nice_cap ? "has" : "lacks",
	       nice_cap ? "moves shared pages too (MPOL_MF_MOVE_ALL)"
			: "moves only pages mapped by the child alone");
	printf("# methods:\n");
	for (int m = 0; m < M__COUNT; m++) {
		if (m == M_MIGRATEPAGES && !cfg.migratepages) {
			printf("#   %-17s NOT FOUND in PATH (package numactl): not compared\n",
			       methods[m].name);
			continue;
		}
		order[nm++] = (enum method)m;
		printf("#   %-17s %s%s%s\n", methods[m].name, methods[m].what,
		       m == M_MIGRATEPAGES ? ": " : "",
		       m == M_MIGRATEPAGES ? cfg.migratepages : "");
	}
	fflush(stdout);

	err = child_start(&ch, &cfg);
	if (err) {
		fprintf(stderr, "%s: cannot start the child with a %lu MiB buffer: %s\n", prog,
			cfg.size_mib, strerror(-err));
		goto out;
	}
	for (size_t w = 0; w < cfg.warmup; w++)
		for (size_t i = 0; i < nm; i++) {
			err = one_run(order[i], &cfg, &ch, cfg.node_a, cfg.node_b, mem, nmem, NULL,
				      0);
			if (err)
				goto out;
		}
	for (size_t r = 0; r < cfg.reps; r++) {
		int from = r % 2 ? cfg.node_b : cfg.node_a, to = r % 2 ? cfg.node_a : cfg.node_b;

		for (size_t i = 0; i < nm; i++) {
			enum method m = order[(i + r) % nm];

			err = one_run(m, &cfg, &ch, from, to, mem, nmem, &data[m], r);
			if (err)
				goto out;
		}
	}

	long thp_kb = bench_anon_huge_kb(ch.pid, ch.base, ch.bytes);

	printf("\n== whole process, buffer %lu MiB (%zu pages of 4 KiB), node %d <-> %d\n",
	       cfg.size_mib, ch.npages, cfg.node_a, cfg.node_b);
	if (thp_kb < 0)
		printf("  THP backing of the buffer: unknown\n");
	else
		printf("  THP backing of the buffer (smaps AnonHugePages): %ld of %zu kB\n", thp_kb,
		       ch.bytes >> 10);
	printf("  %-17s %10s %9s %9s %6s %9s %11s %12s %12s\n", "method", "median ms", "min ms",
	       "max ms", "IQR", "MB/s", "pages/s", "longest", "pgmigrate");
	printf("  %-17s %10s %9s %9s %6s %9s %11s %12s %12s\n", "", "", "", "", "%med", "(median)",
	       "(median)", "call ms", "success/run");
	for (size_t i = 0; i < nm; i++) {
		enum method m = order[i];
		struct bench_stats st = bench_stats(data[m].run_ns, cfg.reps);
		double secs = st.median / 1e9;

		printf("  %-17s %10.3f %9.3f %9.3f %6.1f %9.1f %11.0f %12.3f %12.0f\n",
		       methods[m].name, st.median / 1e6, st.min / 1e6, st.max / 1e6,
		       st.median > 0 ? 100.0 * (st.q3 - st.q1) / st.median : 0,
		       secs > 0 ? (double)ch.bytes / secs / 1e6 : 0,
		       secs > 0 ? (double)ch.npages / secs : 0, (double)data[m].max_call_ns / 1e6,
		       data[m].migrated < 0 ? -1.0 : (double)data[m].migrated / (double)cfg.reps);
	}
	printf("  (longest call: pagemig's longest move_pages(2) call; for the others the whole "
	       "run,\n   which is one migrate_pages(2) call)\n");
	printf("  pagemig per run: %.1f move calls, %.0f pages moved, %.0f resident pages left "
	       "off target (%.0f shared with other processes)\n",
	       (double)data[M_PAGEMIG].calls / (double)cfg.reps,
	       (double)data[M_PAGEMIG].pages_moved / (double)cfg.reps,
	       (double)data[M_PAGEMIG].off_target / (double)cfg.reps,
	       (double)data[M_PAGEMIG].shared / (double)cfg.reps);

	struct bench_stats st_mp = {0}, st_sc;
	double r_mp = cfg.migratepages ? ratio_paired(&data[M_MIGRATEPAGES], &data[M_PAGEMIG],
						      cfg.reps, &st_mp)
				       : 0;
	double r_sc = ratio_paired(&data[M_SYSCALL], &data[M_PAGEMIG], cfg.reps, &st_sc);
	double max_call_ms = (double)data[M_PAGEMIG].max_call_ns / 1e6;
	bool met_ratio = cfg.migratepages && r_mp >= TARGET_RATIO;
	bool met_call = max_call_ms <= TARGET_CALL_MS;

	printf("  ratios (throughput; median of per-repetition pairs [min..max]):\n");
	if (cfg.migratepages)
		printf("    pagemig/migratepages     %6.3f [%.3f..%.3f]  target >= %.2f: %s\n",
		       r_mp, st_mp.min, st_mp.max, TARGET_RATIO, met_ratio ? "MET" : "MISSED");
	else
		printf("    pagemig/migratepages     n/a: migratepages not found\n");
	printf("    pagemig/migrate_pages(2) %6.3f [%.3f..%.3f]  (no process start-up in the "
	       "baseline)\n",
	       r_sc, st_sc.min, st_sc.max);
	printf("  longest pagemig move call %.3f ms: target <= %.0f ms %s\n", max_call_ms,
	       TARGET_CALL_MS, met_call ? "MET" : "MISSED");

	printf("RESULT case=process%s size_mib=%lu from=%d to=%d reps=%lu move_all=%s "
	       "pagemig_ppc=%lu pagemig_budget_us=%lu pagemig_threads=%lu",
	       cfg.thp ? "-thp" : "", cfg.size_mib, cfg.node_a, cfg.node_b, cfg.reps,
	       cfg.move_all ? "yes" : "no", cfg.ppc ? cfg.ppc : PAGEMIG_DEFAULT_PAGES_PER_CALL,
	       cfg.budget_us ? cfg.budget_us : PAGEMIG_DEFAULT_CALL_BUDGET_US,
	       cfg.threads ? cfg.threads : 1);
	for (size_t i = 0; i < nm; i++) {
		struct bench_stats st = bench_stats(data[order[i]].run_ns, cfg.reps);

		printf(" %s_mbps=%.1f", methods[order[i]].key,
		       st.median > 0 ? (double)ch.bytes / (st.median / 1e9) / 1e6 : 0);
	}
	printf(" transient_pages=%lu", transients);
	if (cfg.migratepages)
		printf(" ratio_pagemig_migratepages=%.3f", r_mp);
	else
		printf(" ratio_pagemig_migratepages=na");
	printf(" ratio_pagemig_syscall=%.3f pagemig_max_call_ms=%.3f call_target_ms=%.0f "
	       "call_met=%s target=%.2f met=%s\n",
	       r_sc, max_call_ms, TARGET_CALL_MS, met_call ? "yes" : "no", TARGET_RATIO,
	       cfg.migratepages ? (met_ratio ? "yes" : "no") : "n/a");
	rc = BENCH_EXIT_OK;
	if (cfg.strict && (!met_call || (cfg.migratepages && !met_ratio)))
		rc = BENCH_EXIT_MISSED;
out:
	child_stop(&ch);
	free(mp_found);
	return rc;
}
