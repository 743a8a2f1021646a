// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * field_lab: the NUMA-lab side of the field benchmarks (bench/field, issue 9). A MANUAL lab case:
 * it runs only when named (bench/field/run.sh boots the guest with --tests field_lab).
 *
 * Its command line comes from the case's ARGS, or, when the kernel command line holds
 * field.args=A:B:C, from that (':' separates the arguments; run.sh uses it to choose the run):
 *
 *   field_lab exec [--pagemigd [--set SECTION.KEY=VALUE]...] PROG [ARG...] [--then PROG [ARG...]]...
 *       run /lab/bin/PROG with the arguments (bench-move, bench-process, field-small), then
 *       the next one, and print their output; the case fails when one of them does. With
 *       --pagemigd the daemon runs beside them, managing /lab/bin/bench-* (fast settings and
 *       the --set ones): what its sampler and audit cost the programs' own moves.
 *
 *   field_lab converge --workload static|phase|shared|tiering [--movers LIST] [--reps R]
 *                      [--seconds S] [--hot MIB] [--cold MIB] [--phase S] [--daemon-log]
 *                      [--set SECTION.KEY=VALUE]... [--probe pagemap|move_pages]
 *                      [--probe-cpu 0|1] [--skip K] [--crash-after K]
 *       for R repetitions, for every mover of LIST (order rotated every repetition), start the
 *       mover, start field-workload, and probe once a second for S seconds:
 *         - where every hot and cold page is (its frame's node from /proc/PID/pagemap, or with
 *           --probe move_pages one move_pages(2) query with nodes = NULL: the same independent
 *           probe for every mover, not the library under test; see "The probe" below);
 *         - on which CPU, hence node, each writer thread ran last (/proc/PID/task/TID/stat);
 *         - the workload's progress counter (passes).
 *       Movers: none; pagemigd (bench configuration: 1 s interval, 1 s re-arm, no rate limit);
 *       pagemigd-shipped (the shipped defaults, with a policy for the workload); nb1, nb2, nb3
 *       (kernel NUMA balancing with /proc/sys/kernel/numa_balancing = 1, 2, 3); numad (Debian's
 *       numad -i 5, when /usr/sbin/numad is in the image). Between runs everything is stopped
 *       and numa_balancing set back to 0. --daemon-log runs pagemigd at log level debug and
 *       prints its log after each run (FIELD-LOG lines): for looking into a run, not for timing.
 *       --set adds a setting to pagemigd's configuration, or replaces the run's own (for both
 *       pagemigd movers), e.g. --set migrate.call_budget=100ms. --probe-cpu: where the probe
 *       (this program) runs, cpu 0 by default. --skip K leaves out the first K runs of that
 *       order (run.sh resumes a case in a new guest after a guest crash: the runs the crashed
 *       guest finished are not run again). --crash-after K crashes the guest (sysrq 'c') once K
 *       runs have finished in it: how run.sh's resume is tested.
 *
 * Output (console, parsed by run.sh): FIELD-ENV (guest facts), FIELD-TS (one per probe),
 * FIELD-SUM (one per run), FIELD-NOTE (things worth knowing), all key=value.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "field_common.h"

#define BIN	  "/lab/bin/"
#define NUMAD	  "/usr/sbin/numad"
#define MAX_NODES 8
#define MAX_TIDS  16

static size_t ps;
static char dir[256];
static bool daemon_log; /* --daemon-log: pagemigd at debug level, its log printed after each run */
static long hz;

/* ---- small helpers ------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now_s();

	if (d > 0) {
		struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = 0;
	return 0;
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* children (movers, workload) run where the scheduler puts them, not on the probe's CPU */
static void unpin_self(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < CPU_SETSIZE && c < 1024; c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* utime + stime of a process or thread, in seconds; -1 when it is gone. field 39 = last CPU. */
static double proc_cpu(const char *stat_path, int *last_cpu)
{
	char buf[1024], *p;
	unsigned long ut = 0, st = 0;
	int cpu = -1;

	if (read_file(stat_path, buf, sizeof(buf)) || !(p = strrchr(buf, ')')))
		return -1;
	/* after ") ": field 3 (state) is the first; utime = 14, stime = 15, processor = 39 */
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
		   "%*u %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*d %d",
		   &ut, &st, &cpu) < 2)
		return -1;
	if (last_cpu)
		*last_cpu = cpu;
	return (double)(ut + st) / (double)hz;
}

static double pid_cpu(pid_t pid, double *sys)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) || !(p = strrchr(buf, ')')))
		return -1;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	if (sys)
		*sys = (double)st / (double)hz;
	return (double)(ut + st) / (double)hz;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* /proc/vmstat counters the movers move */
enum { V_MIG_OK, V_MIG_FAIL, V_NUMA_MIG, V_HINT, V_HINT_LOCAL, V_PTE, V_PROMOTE, V_DEMOTE_K,
       V_DEMOTE_D, V_THP_MIG, V__COUNT };
static const char *const vm_names[V__COUNT] = {
	"pgmigrate_success",	 "pgmigrate_fail",    "numa_pages_migrated",
	"numa_hint_faults",	 "numa_hint_faults_local", "numa_pte_updates",
	"pgpromote_success",	 "pgdemote_kswapd",   "pgdemote_direct",
	"thp_migration_success",
};
static const char *const vm_short[V__COUNT] = {
	"vm_migrated", "vm_migrate_fail", "vm_numa_migrated", "vm_hint_faults", "vm_hint_local",
	"vm_pte_updates", "vm_promoted", "vm_demoted_kswapd", "vm_demoted_direct", "vm_thp_migrated",
};

static void vmstat(unsigned long long v[V__COUNT])
{
	char name[64];
	unsigned long long x;
	FILE *f = fopen("/proc/vmstat", "r");

	memset(v, 0, sizeof(unsigned long long) * V__COUNT);
	while (f && fscanf(f, "%63s %llu", name, &x) == 2)
		for (int i = 0; i < V__COUNT; i++)
			if (!strcmp(name, vm_names[i]))
				v[i] = x;
	if (f)
		fclose(f);
}

static int cpu_node(int cpu)
{
	char path[96];

	if (cpu < 0)
		return -1;
	for (int n = 0; n < MAX_NODES; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/node%d", cpu, n);
		if (access(path, F_OK) == 0)
			return n;
	}
	return -1;
}

/* ---- the workload ------------------------------------------------------------------------- */

struct workload {
	pid_t pid;
	uintptr_t hot, cold;
	size_t hot_bytes, cold_bytes;
	int tids[MAX_TIDS], ntids;
	FILE *out;
	const struct field_counter *ctr;
};

static int start_workload(struct workload *w, const char *const args[])
{
	char line[1024], ctrpath[300], *t;
	const char *argv[40] = {BIN "field-workload", "--counter", ctrpath};
	int fds[2], i, fd;

	snprintf(ctrpath, sizeof(ctrpath), "%s/counter", dir);
	for (i = 0; args[i] && i < 36; i++)
		argv[i + 3] = args[i];
	argv[i + 3] = NULL;
	if (pipe(fds))
		return -1;
	w->pid = fork();
	if (w->pid == 0) {
		unpin_self();
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	w->out = fdopen(fds[0], "r");
	if (!fgets(line, sizeof(line), w->out) ||
	    sscanf(line, "field-workload: pid=%*d hot=%lx:%zu cold=%lx:%zu", &w->hot, &w->hot_bytes,
		   &w->cold, &w->cold_bytes) != 4 ||
	    !(t = strstr(line, "tids="))) {
		printf("FIELD-NOTE the workload did not start: %s\n", line);
		return -1;
	}
	for (w->ntids = 0, t += 5; *t && w->ntids < MAX_TIDS;) {
		char *end;

		w->tids[w->ntids++] = (int)strtol(t, &end, 10);
		if (*end != ',')
			break;
		t = end + 1;
	}
	fd = open(ctrpath, O_RDONLY);
	w->ctr = fd < 0 ? NULL : mmap(NULL, sizeof(*w->ctr), PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (w->ctr == MAP_FAILED)
		w->ctr = NULL;
	return w->ctr ? 0 : -1;
}

/* SIGTERM; the workload checks its data: exit status 0 = intact. */
static int stop_workload(struct workload *w)
{
	int ws = 0;
	char line[512];

	kill(w->pid, SIGTERM);
	while (fgets(line, sizeof(line), w->out))
		; /* its last line */
	waitpid(w->pid, &ws, 0);
	fclose(w->out);
	if (w->ctr)
		munmap((void *)w->ctr, sizeof(*w->ctr));
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* ---- movers ------------------------------------------------------------------------------- */

enum mover { M_NONE, M_PAGEMIGD, M_PAGEMIGD_SHIPPED, M_NB1, M_NB2, M_NB3, M_NUMAD, M__COUNT };
static const char *const mover_names[M__COUNT] = {
	"none", "pagemigd", "pagemigd-shipped", "nb1", "nb2", "nb3", "numad",
};

struct mover_state {
	enum mover m;
	pid_t pid; /* pagemigd or numad */
	char sock[300];
	double start_s; /* seconds from start to ready */
};

/* The executable the daemon's policy manages: the workload, or for exec --pagemigd the programs
 * run (bench-contended and its writer child). */
static const char *policy_exe = "*/field-workload";

static const char *policy_type(const char *workload)
{
	return strcmp(workload, "tiering") ? "locality" : "tiering";
}

/*
 * pagemigd's configuration for a run: (section, key, value) settings, written one section at a
 * time (the daemon refuses a section that appears twice). --set SECTION.KEY=VALUE settings come
 * first and win: a run's own setting of the same key is dropped.
 */
#define MAX_CONF 32
struct conf_setting {
	char section[32], key[48], value[160];
};
static struct conf_setting conf[MAX_CONF];
static size_t n_conf, n_set_options;

static int conf_set(const char *section, const char *key, const char *value)
{
	for (size_t i = 0; i < n_conf; i++)
		if (!strcmp(conf[i].section, section) && !strcmp(conf[i].key, key))
			return 0; /* an earlier --set has it */
	if (n_conf == MAX_CONF)
		return -1;
	snprintf(conf[n_conf].section, sizeof(conf[n_conf].section), "%s", section);
	snprintf(conf[n_conf].key, sizeof(conf[n_conf].key), "%s", key);
	snprintf(conf[n_conf].value, sizeof(conf[n_conf].value), "%s", value);
	n_conf++;
	return 0;
}

/* --set SECTION.KEY=VALUE */
static int parse_set_option(const char *arg)
{
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	char section[32], key[48];

	if (!dot || !eq || dot > eq || dot == arg || eq == dot + 1 ||
	    (size_t)(dot - arg) >= sizeof(section) || (size_t)(eq - dot - 1) >= sizeof(key)) {
		fprintf(stderr, "field_lab: --set '%s' is not SECTION.KEY=VALUE\n", arg);
		return -1;
	}
	snprintf(section, sizeof(section), "%.*s", (int)(dot - arg), arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
	if (conf_set(section, key, eq + 1)) {
		fprintf(stderr, "field_lab: more than %d --set options\n", MAX_CONF);
		return -1;
	}
	n_set_options = n_conf;
	return 0;
}

/* Every setting, grouped by section in the order the sections first appear. */
static void write_conf(FILE *f)
{
	for (size_t i = 0; i < n_conf; i++) {
		bool first = true;

		for (size_t j = 0; j < i && first; j++)
			first = strcmp(conf[j].section, conf[i].section) != 0;
		if (!first)
			continue;
		fprintf(f, "[%s]\n", conf[i].section);
		for (size_t j = i; j < n_conf; j++)
			if (!strcmp(conf[j].section, conf[i].section))
				fprintf(f, "%s = %s\n", conf[j].key, conf[j].value);
	}
}

static int start_pagemigd(struct mover_state *ms, const char *workload)
{
	char path[300], log[300], cmd[700];
	double t0 = now_s();
	FILE *f;

	snprintf(path, sizeof(path), "%s/pagemig.conf", dir);
	snprintf(log, sizeof(log), "%s/pagemigd.log", dir);
	snprintf(ms->sock, sizeof(ms->sock), "%s/pagemigd.sock", dir);
	if (!(f = fopen(path, "w")))
		return -1;
	n_conf = n_set_options; /* what --set gave; the run's own settings come after */
	conf_set("daemon", "socket", ms->sock);
	conf_set("daemon", "log_level", daemon_log ? "debug" : "info");
	if (ms->m == M_PAGEMIGD) {
		/* the lab tests' fast settings: decide every second, re-arm every second */
		conf_set("daemon", "interval", "1s");
		conf_set("sampler", "rearm", "1s");
		conf_set("sampler", "half_life", "4s");
		conf_set("migrate", "rate", "unlimited");
		conf_set("migrate", "cooldown", "30s");
		conf_set("migrate", "min_rss", "1MiB");
	} /* else the shipped defaults (interval 5 s, re-arm 10 s, 32 MiB/s, ...) */
	write_conf(f);
	fprintf(f,
		"[policy field]\nexe = %s\ntype = %s\n"
		"[policy rest]\ntype = ignore\n",
		policy_exe, policy_type(workload));
	fclose(f);
	ms->pid = fork();
	if (ms->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		unpin_self();
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		execl(BIN "pagemigd", "pagemigd", "-f", "-c", path, NULL);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), BIN "pagemigctl --socket %s --json status >/dev/null 2>&1",
		 ms->sock);
	while (now_s() - t0 < 120) {
		int ws;

		if (waitpid(ms->pid, &ws, WNOHANG) == ms->pid) {
			printf("FIELD-NOTE pagemigd exited at start\n");
			snprintf(cmd, sizeof(cmd), "tail -n 20 %s", log);
			if (system(cmd)) {
			}
			ms->pid = 0;
			return -1;
		}
		if (system(cmd) == 0) {
			ms->start_s = now_s() - t0;
			return 0;
		}
		usleep(200000);
	}
	printf("FIELD-NOTE pagemigd did not answer within 120 s\n");
	return -1;
}

static pid_t find_comm(const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && (e = readdir(d))) {
		char path[300], c[64];

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (read_file(path, c, sizeof(c)) == 0 && !strcmp(c, comm)) {
			found = atoi(e->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static int start_numad(struct mover_state *ms)
{
	double t0 = now_s();
	int ws;
	pid_t p;

	/* numad logs to /var/log/numad.log and needs /var/run for its pid file */
	mkdir("/var", 0755);
	mkdir("/var/log", 0755);
	mkdir("/var/run", 0755);
	unlink("/var/log/numad.log");
	unlink("/var/run/numad.pid");
	p = fork();
	if (p == 0) {
		char err[300];
		int fd;

		unpin_self();
		snprintf(err, sizeof(err), "%s/numad.stderr", dir);
		fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		/* -i 5: scan every 5 s at most (the anchor's setting); -d: say why it does what it
		 * does (log only); numad daemonizes */
		execl(NUMAD, "numad", "-i", "5", "-d", NULL);
		_exit(127);
	}
	waitpid(p, &ws, 0);
	while (now_s() - t0 < 10 && !(ms->pid = find_comm("numad")))
		usleep(100000);
	if (!ms->pid) {
		printf("FIELD-NOTE numad did not start (exit status %d)\n",
		       WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
		return -1;
	}
	ms->start_s = now_s() - t0;
	return 0;
}

static int set_balancing(int mode)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", mode);
	return write_file("/proc/sys/kernel/numa_balancing", v);
}

static int start_mover(struct mover_state *ms, const char *workload)
{
	ms->pid = 0;
	ms->start_s = 0;
	set_balancing(0);
	switch (ms->m) {
	case M_PAGEMIGD:
	case M_PAGEMIGD_SHIPPED:
		return start_pagemigd(ms, workload);
	case M_NB1:
	case M_NB2:
	case M_NB3:
		return set_balancing(ms->m == M_NB1 ? 1 : ms->m == M_NB2 ? 2 : 3);
	case M_NUMAD:
		return start_numad(ms);
	default:
		return 0;
	}
}

static void stop_mover(struct mover_state *ms)
{
	set_balancing(0);
	if (ms->pid > 0) {
		kill(ms->pid, SIGTERM);
		if (ms->m == M_NUMAD) {
			for (int i = 0; i < 50 && kill(ms->pid, 0) == 0; i++)
				usleep(100000);
			kill(ms->pid, SIGKILL);
		} else {
			waitpid(ms->pid, NULL, 0);
		}
	}
	ms->pid = 0;
}

/* pages_moved and decisions from pagemigctl --json status; audit totals. */
static double d_cycle_ms = -1;
static long long d_cycles = -1, d_planned = -1;

static void pagemigd_counts(const struct mover_state *ms, long long *moved, long long *failed,
			    long long *audit_records)
{
	char cmd[400], out[1 << 16];
	struct json_object *o, *v, *t;
	size_t n;
	FILE *p;

	*moved = *failed = *audit_records = d_cycles = d_planned = -1;
	d_cycle_ms = -1;
	snprintf(cmd, sizeof(cmd), BIN "pagemigctl --socket %s --json status 2>/dev/null", ms->sock);
	if ((p = popen(cmd, "r"))) {
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		pclose(p);
		if ((o = json_tokener_parse(out))) {
			if (json_object_object_get_ex(o, "pages_moved", &v))
				*moved = json_object_get_int64(v);
			if (json_object_object_get_ex(o, "pages_failed", &v))
				*failed = json_object_get_int64(v);
			if (json_object_object_get_ex(o, "last_cycle_ms", &v))
				d_cycle_ms = json_object_get_double(v);
			if (json_object_object_get_ex(o, "cycles", &v))
				d_cycles = json_object_get_int64(v);
			if (json_object_object_get_ex(o, "pages_planned", &v))
				d_planned = json_object_get_int64(v);
			json_object_put(o);
		}
	}
	snprintf(cmd, sizeof(cmd), BIN "pagemigctl --socket %s --json audit 2>/dev/null", ms->sock);
	if ((p = popen(cmd, "r"))) {
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		pclose(p);
		if ((o = json_tokener_parse(out))) {
			if (json_object_object_get_ex(o, "totals", &t) && t &&
			    json_object_object_get_ex(t, "records", &v))
				*audit_records = json_object_get_int64(v);
			json_object_put(o);
		}
	}
}

/* ---- one run ------------------------------------------------------------------------------ */

struct spec {
	const char *workload;
	int seconds, hot, cold, phase;
};

/*
 * The probe. move_pages(2) with nodes = NULL looks every page up on its own (VMA, page table,
 * folio reference): in this guest ~1.6 us a page, so the 278 528 pages of the 1 GiB case took
 * about half of cpu 0 every second, the CPU pagemigd runs on, while the kernel's balancing works
 * on the writer's CPU. /proc/PID/pagemap walks the page tables in one pass and gives each page's
 * frame number (root only), and a frame's node follows from the memory blocks each node holds
 * in sysfs. Both are independent of every mover; --probe chooses, pagemap by default, and the
 * two are compared on the first and last second of every run (FIELD-SUM probe_check).
 */
enum probe { PROBE_PAGEMAP, PROBE_MOVE_PAGES };
static enum probe probe = PROBE_PAGEMAP;
static int *block_node; /* memory block -> node, -1: none */
static size_t n_blocks;
static unsigned long long block_pages; /* pages per memory block */
static long long probe_fallbacks;      /* pagemap probes answered by move_pages(2) instead */

/* Which node each memory block belongs to, from /sys/devices/system/node/nodeN/memoryM. */
static int load_block_nodes(void)
{
	unsigned long long bytes = 0;
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "r");

	if (!f)
		return -errno;
	if (fscanf(f, "%llx", &bytes) != 1 || bytes < ps) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	block_pages = bytes / ps;
	for (int node = 0; node < MAX_NODES; node++) {
		char path[64];
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
		if (!(d = opendir(path)))
			continue;
		while ((de = readdir(d))) {
			unsigned long m;
			char *end;

			if (strncmp(de->d_name, "memory", 6) || !isdigit((unsigned char)de->d_name[6]))
				continue;
			m = strtoul(de->d_name + 6, &end, 10);
			if (*end)
				continue;
			if (m >= n_blocks) {
				size_t n = m + 1;
				int *nb = realloc(block_node, n * sizeof(*nb));

				if (!nb) {
					closedir(d);
					return -ENOMEM;
				}
				for (size_t i = n_blocks; i < n; i++)
					nb[i] = -1;
				block_node = nb;
				n_blocks = n;
			}
			block_node[m] = node;
		}
		closedir(d);
	}
	return n_blocks ? 0 : -ENOENT;
}

#define PM_PRESENT  (1ull << 63)
#define PM_PFN_MASK ((1ull << 55) - 1)

/* where every page of [addr, addr + bytes) is, from pagemap: st[i] = node or -ENOENT (not
 * present, or a migration or swap entry), -EFAULT when the frame is in no known block */
static int where_pagemap(pid_t pid, uintptr_t addr, size_t n, int *st)
{
	static uint64_t *pm;
	static size_t cap;
	char path[64];
	ssize_t got;
	int fd;

	if (n > cap) {
		uint64_t *np = realloc(pm, n * sizeof(*pm));

		if (!np)
			return -ENOMEM;
		pm = np;
		cap = n;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	got = pread(fd, pm, n * sizeof(*pm), (off_t)(addr / ps * sizeof(*pm)));
	close(fd);
	if (got != (ssize_t)(n * sizeof(*pm)))
		return got < 0 ? -errno : -EIO;
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = pm[i] & PM_PFN_MASK, b = pfn / block_pages;

		if (!(pm[i] & PM_PRESENT))
			st[i] = -ENOENT;
		else if (!pfn) /* present, but frame numbers hidden: no CAP_SYS_ADMIN */
			return -EPERM;
		else
			st[i] = b < n_blocks && block_node[b] >= 0 ? block_node[b] : -EFAULT;
	}
	return 0;
}

/* where every page of [addr, addr + bytes) is, from move_pages(2): st[i] = node or -errno */
static void where_move_pages(pid_t pid, uintptr_t addr, size_t n, void **pages, int *st)
{
	for (size_t i = 0; i < n; i++) {
		pages[i] = (void *)(addr + i * ps);
		st[i] = -1000;
	}
	if (syscall(SYS_move_pages, pid, n, pages, NULL, st, 0) < 0)
		for (size_t i = 0; i < n; i++)
			st[i] = -errno;
}

/* The probe's answer for [addr, addr + bytes); its time is added to *spent (seconds). */
static void where(pid_t pid, uintptr_t addr, size_t bytes, void **pages, int *st, double *spent)
{
	double t = now_s();
	size_t n = bytes / ps;

	if (probe != PROBE_PAGEMAP || where_pagemap(pid, addr, n, st)) {
		probe_fallbacks += probe == PROBE_PAGEMAP;
		where_move_pages(pid, addr, n, pages, st);
	}
	*spent += now_s() - t;
}

/*
 * Both probes on the same pages, one right after the other: pages both place on a node, and of
 * those the ones they place differently (a page can move in between; many mean a wrong probe).
 */
static void probe_check(pid_t pid, uintptr_t addr, size_t bytes, void **pages, long long *compared,
			long long *differ)
{
	size_t n = bytes / ps;
	int *a = calloc(n + 1, sizeof(int)), *b = calloc(n + 1, sizeof(int));

	if (a && b && !where_pagemap(pid, addr, n, a)) {
		where_move_pages(pid, addr, n, pages, b);
		for (size_t i = 0; i < n; i++)
			if (a[i] >= 0 && b[i] >= 0) {
				(*compared)++;
				*differ += a[i] != b[i];
			}
	}
	free(a);
	free(b);
}

/* The node the writers run on: all on one node, or -1 (shared across nodes, or unknown). */
static int writers_node(const struct workload *w)
{
	int node = -2;

	for (int i = 0; i < w->ntids; i++) {
		char path[96];
		int cpu = -1, n;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)w->pid, w->tids[i]);
		if (proc_cpu(path, &cpu) < 0)
			return -1;
		n = cpu_node(cpu);
		if (node == -2)
			node = n;
		else if (node != n)
			return -1;
	}
	return node < 0 ? -1 : node;
}

static void workload_args(const struct spec *s, const char **a)
{
	static char hot[16], cold[16], phase[16];
	int i = 0;

	snprintf(hot, sizeof(hot), "%d", s->hot);
	snprintf(cold, sizeof(cold), "%d", s->cold);
	snprintf(phase, sizeof(phase), "%d", s->phase);
	a[i++] = "--hot", a[i++] = hot, a[i++] = "--cold", a[i++] = cold;
	if (!strcmp(s->workload, "static")) {
		/* memory first touched on node 0, the thread then works from cpu 1 (node 1) */
		a[i++] = "--mem-node", a[i++] = "0", a[i++] = "--alloc-cpu", a[i++] = "0";
		a[i++] = "--cpu", a[i++] = "1";
	} else if (!strcmp(s->workload, "phase")) {
		/* cpu 1 first, then cpu 0, then cpu 1 ... every s->phase seconds */
		a[i++] = "--mem-node", a[i++] = "0", a[i++] = "--alloc-cpu", a[i++] = "0";
		a[i++] = "--cpu", a[i++] = "1,0", a[i++] = "--phase", a[i++] = phase;
	} else if (!strcmp(s->workload, "shared")) {
		/* two threads, one per node, both writing every page */
		a[i++] = "--mem-node", a[i++] = "0", a[i++] = "--alloc-cpu", a[i++] = "0";
		a[i++] = "--cpu", a[i++] = "0,1", a[i++] = "--threads", a[i++] = "2";
		a[i++] = "--shared";
	} else { /* tiering: hot and cold on the memory-only node, the thread on cpu 1 */
		a[i++] = "--mem-node", a[i++] = "2", a[i++] = "--alloc-cpu", a[i++] = "1";
		a[i++] = "--cpu", a[i++] = "1";
	}
	a[i] = NULL;
}

static int run_one(const struct spec *s, enum mover m, int rep, bool verbose_logs)
{
	struct mover_state ms = {.m = m};
	struct workload w = {0};
	const char *args[32];
	size_t nh, nc;
	void **pages;
	int *hst, *cst, *hprev, *cprev, *hinit, *cinit, *hchg, *cchg;
	unsigned long long v0[V__COUNT], v1[V__COUNT];
	double t0, mcpu0 = 0, mcpu1 = 0, wsys0 = 0, wsys1 = 0, wcpu0, wcpu1;
	double t90 = -1, t99 = -1, t100 = -1, max_local = 0, last_local = -1;
	double phase_t90[16];
	int nphase_t90 = 0, cur_local_node = -1, data, status = 0, last_node = -1;
	unsigned long long passes0, passes_end = 0, passes_half = 0;
	double phase_start = 0;
	bool phase_reached = false;
	long long needed = 0, chg_hot = 0, chg_cold = 0, late_chg = 0;
	long long check_compared = 0, check_differ = 0;
	double probe_t, probe_sum = 0;
	long long d_moved = -1, d_failed = -1, d_audit = -1;
	long mover_rss = -1;
	const char *w_ = s->workload, *m_ = mover_names[m];
	bool shared = !strcmp(w_, "shared"), tiering = !strcmp(w_, "tiering");

	d_cycle_ms = -1, d_cycles = d_planned = -1;
	printf("FIELD-RUN w=%s m=%s r=%d seconds=%d hot_mib=%d cold_mib=%d\n", w_, m_, rep,
	       s->seconds, s->hot, s->cold);
	fflush(stdout);
	if (start_mover(&ms, w_)) {
		stop_mover(&ms);
		printf("FIELD-SUM w=%s m=%s r=%d error=mover-start\n", w_, m_, rep);
		return -1;
	}
	workload_args(s, args);
	if (start_workload(&w, args)) {
		stop_mover(&ms);
		printf("FIELD-SUM w=%s m=%s r=%d error=workload-start\n", w_, m_, rep);
		return -1;
	}
	t0 = now_s();
	if (daemon_log) /* the daemon's debug lines carry this clock */
		printf("FIELD-NOTE workload started at monotonic %.3f s\n", t0);
	vmstat(v0);
	if (ms.pid > 0)
		mcpu0 = pid_cpu(ms.pid, NULL);
	wcpu0 = pid_cpu(w.pid, &wsys0);
	passes0 = atomic_load(&w.ctr->passes);

	nh = w.hot_bytes / ps;
	nc = w.cold_bytes / ps;
	pages = calloc(nh + nc + 1, sizeof(*pages));
	hst = calloc(nh + 1, sizeof(int)), hprev = calloc(nh + 1, sizeof(int));
	hinit = calloc(nh + 1, sizeof(int)), hchg = calloc(nh + 1, sizeof(int));
	cst = calloc(nc + 1, sizeof(int)), cprev = calloc(nc + 1, sizeof(int));
	cinit = calloc(nc + 1, sizeof(int)), cchg = calloc(nc + 1, sizeof(int));

	for (int sec = 0; sec <= s->seconds; sec++) {
		size_t hon[MAX_NODES] = {0}, con[MAX_NODES] = {0}, hoff = 0, near = 0, now_chg = 0;
		unsigned long long passes;
		double t, local = -1;
		int node;

		sleep_until(t0 + sec);
		t = now_s() - t0;
		node = writers_node(&w);
		if (probe == PROBE_PAGEMAP && (sec == 0 || sec == s->seconds))
			probe_check(w.pid, w.hot, w.hot_bytes, pages, &check_compared,
				    &check_differ);
		probe_t = 0;
		where(w.pid, w.hot, w.hot_bytes, pages, hst, &probe_t);
		if (nc)
			where(w.pid, w.cold, w.cold_bytes, pages, cst, &probe_t);
		probe_sum += probe_t;
		passes = atomic_load(&w.ctr->passes) - passes0;
		for (size_t i = 0; i < nh; i++) {
			if (hst[i] >= 0 && hst[i] < MAX_NODES)
				hon[hst[i]]++;
			else
				hoff++;
			/* a page caught in migration (migration entry) answers -ENOENT: keep the
			 * last node it was seen on, count the change when it shows up again */
			if (sec == 0)
				hinit[i] = hst[i];
			else if (hst[i] >= 0 && hprev[i] >= 0 && hst[i] != hprev[i]) {
				hchg[i]++;
				now_chg++;
			}
			if (hst[i] >= 0 || sec == 0)
				hprev[i] = hst[i];
		}
		chg_hot += (long long)now_chg;
		if (sec > s->seconds * 2 / 3)
			late_chg += (long long)now_chg;
		for (size_t i = 0; i < nc; i++) {
			if (cst[i] >= 0 && cst[i] < MAX_NODES)
				con[cst[i]]++;
			if (sec == 0)
				cinit[i] = cst[i];
			else if (cst[i] >= 0 && cprev[i] >= 0 && cst[i] != cprev[i]) {
				cchg[i]++;
				chg_cold++;
			}
			if (cst[i] >= 0 || sec == 0)
				cprev[i] = cst[i];
		}
		near = hon[0] + hon[1];
		if (node >= 0 && !shared) {
			local = (double)hon[node] / (double)nh;
			if (node != last_node) { /* start, or a phase change: count what must move */
				needed += (long long)(nh - hon[node]);
				if (last_node >= 0 && !phase_reached && nphase_t90 < 16)
					phase_t90[nphase_t90++] = -1; /* previous phase never got there */
				phase_start = t;
				phase_reached = false;
				cur_local_node = node;
			}
			if (!phase_reached && local >= 0.9) {
				phase_reached = true;
				if (nphase_t90 < 16)
					phase_t90[nphase_t90++] = t - phase_start;
			}
			last_node = node;
			if (local > max_local)
				max_local = local;
			if (t90 < 0 && local >= 0.9)
				t90 = t;
			if (t99 < 0 && local >= 0.99)
				t99 = t;
			if (t100 < 0 && hon[node] == nh)
				t100 = t;
			last_local = local;
		}
		printf("FIELD-TS w=%s m=%s r=%d t=%.2f node=%d local=%.4f near=%.4f "
		       "hot=%zu,%zu,%zu cold=%zu,%zu,%zu unknown=%zu changed=%zu passes=%llu "
		       "probe_ms=%.1f\n",
		       w_, m_, rep, t, node, local, (double)near / (double)nh, hon[0], hon[1],
		       hon[2], con[0], con[1], con[2], hoff, now_chg, passes, probe_t * 1e3);
		fflush(stdout);
		if (sec == s->seconds / 2)
			passes_half = passes;
		passes_end = passes;
	}
	if (!phase_reached && last_node >= 0 && nphase_t90 < 16)
		phase_t90[nphase_t90++] = -1;

	/* the end: mover and workload counters before anything stops */
	vmstat(v1);
	if (ms.pid > 0) {
		mcpu1 = pid_cpu(ms.pid, NULL);
		mover_rss = rss_kib(ms.pid);
	}
	wcpu1 = pid_cpu(w.pid, &wsys1);
	if (m == M_PAGEMIGD || m == M_PAGEMIGD_SHIPPED)
		pagemigd_counts(&ms, &d_moved, &d_failed, &d_audit);
	double elapsed = now_s() - t0;
	data = stop_workload(&w);
	if (m == M_NUMAD && verbose_logs) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd),
			 "echo 'FIELD-NOTE numad.log (decisions):'; grep -E "
			 "'moved|Advising|Moving|localized|Assigning|PICK|too recently|Registering' "
			 "/var/log/numad.log 2>&1 | head -n 25 | sed 's/^/FIELD-NOTE   /'; "
			 "cat %s/numad.stderr 2>/dev/null | head -n 5 | sed 's/^/FIELD-NOTE   /'",
			 dir);
		if (system(cmd)) {
		}
	}
	if ((m == M_PAGEMIGD || m == M_PAGEMIGD_SHIPPED) && verbose_logs) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd),
			 "echo 'FIELD-NOTE pagemigd.log (first lines):'; head -n 12 %s/pagemigd.log | "
			 "sed 's/^/FIELD-NOTE   /'",
			 dir);
		if (system(cmd)) {
		}
	}
	stop_mover(&ms);
	if ((m == M_PAGEMIGD || m == M_PAGEMIGD_SHIPPED) && daemon_log) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "sed 's/^/FIELD-LOG /' %s/pagemigd.log", dir);
		if (system(cmd)) {
		}
	}

	long long moved_hot = 0, repeated = 0, cold_moved_end = 0, cold_moved_any = 0;

	for (size_t i = 0; i < nh; i++) {
		moved_hot += hchg[i] > 0;
		repeated += hchg[i] > 1;
	}
	for (size_t i = 0; i < nc; i++) {
		cold_moved_any += cchg[i] > 0;
		cold_moved_end += cst[i] != cinit[i];
	}
	printf("FIELD-SUM w=%s m=%s r=%d seconds=%.1f hot_pages=%zu cold_pages=%zu "
	       "mover_start_s=%.2f t90=%.1f t99=%.1f t100=%.1f local_end=%.4f local_max=%.4f "
	       "needed=%lld changes_hot=%lld changes_cold=%lld pages_moved=%lld "
	       "pages_repeated=%lld late_changes=%lld cold_moved=%lld cold_off_home=%lld "
	       "passes=%llu passes_per_s=%.3f passes_per_s_2nd_half=%.3f "
	       "mover_cpu_s=%.3f mover_rss_kib=%ld wl_cpu_s=%.3f wl_sys_s=%.3f",
	       w_, m_, rep, elapsed, nh, nc, ms.start_s, t90, t99, t100, last_local, max_local,
	       needed, chg_hot, chg_cold, moved_hot, repeated, late_chg, cold_moved_any,
	       cold_moved_end, passes_end, (double)passes_end / s->seconds,
	       (double)(passes_end - passes_half) / (s->seconds - s->seconds / 2),
	       ms.pid >= 0 && mcpu0 >= 0 ? mcpu1 - mcpu0 : -1.0, mover_rss, wcpu1 - wcpu0,
	       wsys1 - wsys0);
	for (int i = 0; i < V__COUNT; i++)
		printf(" %s=%llu", vm_short[i], v1[i] - v0[i]);
	printf(" daemon_moved=%lld daemon_failed=%lld audit_records=%lld daemon_cycles=%lld "
	       "daemon_last_cycle_ms=%.1f daemon_planned=%lld phase_t90=",
	       d_moved, d_failed, d_audit, d_cycles, d_cycle_ms, d_planned);
	for (int i = 0; i < nphase_t90; i++)
		printf("%s%.1f", i ? "," : "", phase_t90[i]);
	if (!nphase_t90)
		printf("-");
	printf(" probe=%s probe_s=%.2f probe_fallbacks=%lld probe_check=%lld/%lld",
	       probe == PROBE_PAGEMAP ? "pagemap" : "move_pages", probe_sum, probe_fallbacks,
	       check_differ, check_compared);
	printf(" data=%s\n", data == 0 ? "ok" : "BAD");
	fflush(stdout);
	(void)cur_local_node;
	(void)tiering;
	if (data)
		status = -1;
	free(pages), free(hst), free(hprev), free(hinit), free(hchg);
	free(cst), free(cprev), free(cinit), free(cchg);
	return status;
}

/* ---- subcommands -------------------------------------------------------------------------- */

static void env_line(void)
{
	char k[256] = "?", thp[256] = "?", tiers[512] = "", buf[256];
	DIR *d;
	struct dirent *e;

	read_file("/proc/sys/kernel/osrelease", k, sizeof(k));
	read_file("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	if ((d = opendir("/sys/devices/virtual/memory_tiering"))) {
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, "memory_tier", 11)) {
				char path[600];

				snprintf(path, sizeof(path),
					 "/sys/devices/virtual/memory_tiering/%s/nodelist", e->d_name);
				if (read_file(path, buf, sizeof(buf)) == 0)
					snprintf(tiers + strlen(tiers), sizeof(tiers) - strlen(tiers),
						 "%s%s=%s", tiers[0] ? ";" : "", e->d_name + 11, buf);
			}
		closedir(d);
	}
	for (char *p = thp; *p; p++)
		if (*p == ' ')
			*p = '_';
	printf("FIELD-ENV kernel=%s cpus=%ld hz=%ld thp=%s memory_tiers=%s numad=%s\n", k,
	       sysconf(_SC_NPROCESSORS_ONLN), hz, thp, tiers[0] ? tiers : "-",
	       access(NUMAD, X_OK) == 0 ? "yes" : "no");
	for (int n = 0; n < MAX_NODES; n++) {
		char path[96], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", n);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			long kb;

			if (sscanf(line, "Node %*d MemFree: %ld", &kb) == 1)
				printf("FIELD-ENV node=%d free_mib=%ld\n", n, kb / 1024);
		}
		fclose(f);
	}
	fflush(stdout);
}

static int parse_movers(const char *list, enum mover *out, int max)
{
	char buf[256], *save = NULL, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
		int m;

		for (m = 0; m < M__COUNT && strcmp(tok, mover_names[m]); m++)
			;
		if (m == M__COUNT) {
			fprintf(stderr, "field_lab: unknown mover '%s'\n", tok);
			return -1;
		}
		out[n++] = (enum mover)m;
	}
	return n;
}

/* a count option's value (0..1000000); prints why and returns -1 when it is not one */
static int parse_count(const char *arg, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > 1000000) {
		fprintf(stderr, "field_lab: '%s' is not a count (0..1000000)\n", arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* --crash-after: crash the kernel the way a guest oops ends (panic, QEMU exits) */
static void crash_guest(void)
{
	int fd;

	printf("FIELD-NOTE crashing the guest on request (--crash-after)\n");
	fflush(stdout);
	sync();
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0 && write(fd, "c", 1) == 1)
		pause(); /* not reached: the kernel panics */
	printf("FIELD-NOTE could not crash the guest: %s\n", strerror(errno));
	exit(1);
}

static int cmd_converge(int argc, char **argv)
{
	static const struct option lo[] = {
		{"workload", 1, NULL, 'w'}, {"movers", 1, NULL, 'm'}, {"reps", 1, NULL, 'r'},
		{"seconds", 1, NULL, 's'},  {"hot", 1, NULL, 'H'},    {"cold", 1, NULL, 'C'},
		{"phase", 1, NULL, 'p'},    {"daemon-log", 0, NULL, 'D'}, {"set", 1, NULL, 'S'},
		{"probe", 1, NULL, 'P'},    {"probe-cpu", 1, NULL, 'c'}, {"skip", 1, NULL, 'k'},
		{"crash-after", 1, NULL, 'K'}, {NULL, 0, NULL, 0},
	};
	struct spec s = {.workload = "static", .seconds = 60, .hot = 256, .cold = 64, .phase = 20};
	const char *movers = "none,pagemigd,nb1,numad";
	enum mover ml[M__COUNT * 2];
	int reps = 5, n, c, failures = 0, probe_cpu = 0, skip = 0, crash_after = -1, order = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'w': s.workload = optarg; break;
		case 'm': movers = optarg; break;
		case 'r': reps = atoi(optarg); break;
		case 's': s.seconds = atoi(optarg); break;
		case 'H': s.hot = atoi(optarg); break;
		case 'C': s.cold = atoi(optarg); break;
		case 'p': s.phase = atoi(optarg); break;
		case 'D': daemon_log = true; break;
		case 'S':
			if (parse_set_option(optarg))
				return 2;
			break;
		case 'P':
			if (!strcmp(optarg, "pagemap") || !strcmp(optarg, "move_pages")) {
				probe = strcmp(optarg, "pagemap") ? PROBE_MOVE_PAGES : PROBE_PAGEMAP;
				break;
			}
			fprintf(stderr, "field_lab: --probe must be pagemap or move_pages\n");
			return 2;
		case 'c':
			probe_cpu = atoi(optarg);
			if (probe_cpu < 0 || probe_cpu > 1) {
				fprintf(stderr, "field_lab: --probe-cpu must be 0 or 1\n");
				return 2;
			}
			break;
		case 'k':
		case 'K':
			if (parse_count(optarg, c == 'k' ? &skip : &crash_after))
				return 2;
			break;
		default: return 2;
		}
	}
	if (strcmp(s.workload, "static") && strcmp(s.workload, "phase") &&
	    strcmp(s.workload, "shared") && strcmp(s.workload, "tiering")) {
		fprintf(stderr, "field_lab: unknown workload '%s'\n", s.workload);
		return 2;
	}
	if ((n = parse_movers(movers, ml, M__COUNT * 2)) <= 0 || reps < 1 || s.seconds < 2)
		return 2;
	if (!strcmp(s.workload, "tiering") && access("/sys/devices/system/node/node2", F_OK)) {
		printf("SKIP: tiering needs the memory-only node 2 (3-node lab)\n");
		return 77;
	}
	if (probe == PROBE_PAGEMAP && (c = load_block_nodes())) {
		printf("FIELD-NOTE no node of memory blocks (%s): the probe is move_pages(2)\n",
		       strerror(-c));
		probe = PROBE_MOVE_PAGES;
	}
	env_line();
	/* the probe: by default on cpu 0, away from the single-node writers on cpu 1 - where
	 * pagemigd mostly runs, so the probe's time (20-170 ms a second) is taken from pagemigd
	 * and not from NUMA balancing, which works in the writers' faults. --probe-cpu 1 puts it
	 * beside the writers instead, whatever moves the pages */
	printf("FIELD-NOTE the probe runs on cpu %d\n", probe_cpu);
	pin_self(probe_cpu);
	if (skip)
		printf("FIELD-NOTE resumed: the first %d runs were done by an earlier guest\n", skip);
	for (int r = 1; r <= reps; r++)
		for (int i = 0; i < n; i++) {
			enum mover m = ml[(i + r - 1) % n]; /* rotate the order every repetition */

			if (order++ < skip)
				continue;
			if (crash_after >= 0 && order - skip > crash_after)
				crash_guest();
			if (m == M_NUMAD && access(NUMAD, X_OK)) {
				printf("FIELD-SUM w=%s m=numad r=%d error=numad-not-in-image\n",
				       s.workload, r);
				continue;
			}
			if (run_one(&s, m, r, r == 1))
				failures++;
			sleep(1);
		}
	printf("FIELD-DONE w=%s failures=%d\n", s.workload, failures);
	return failures ? 1 : 0;
}

/*
 * exec [--pagemigd [--set SECTION.KEY=VALUE]...] PROG ARG... [--then PROG ARG...]...: run each
 * in turn. With --pagemigd, pagemigd runs beside them (the lab tests' fast settings, a locality
 * policy for /lab/bin/bench-*, then the --set settings, e.g. daemon.mode=observe): what its
 * sampler and audit cost the programs' own moves.
 */
static int cmd_exec(int argc, char **argv)
{
	struct mover_state ms = {.m = M_PAGEMIGD};
	bool daemon = false;
	int failures = 0, i = 1;

	while (i < argc && (!strcmp(argv[i], "--pagemigd") || !strcmp(argv[i], "--set"))) {
		if (!strcmp(argv[i], "--pagemigd")) {
			daemon = true;
			i++;
			continue;
		}
		if (i + 1 >= argc || parse_set_option(argv[i + 1]))
			return 2;
		i += 2;
	}
	if (i >= argc)
		return 2;
	env_line();
	if (daemon) {
		policy_exe = "*/bench-*";
		if (start_pagemigd(&ms, "static")) {
			printf("FIELD-NOTE pagemigd did not start\n");
			return 1;
		}
		printf("FIELD-NOTE pagemigd runs beside the programs (%zu settings given)\n",
		       n_set_options);
	}
	while (i < argc) {
		char path[300];
		int j = i, ws;
		pid_t p;

		while (j < argc && strcmp(argv[j], "--then"))
			j++;
		argv[j < argc ? j : argc] = NULL; /* end of this command */
		snprintf(path, sizeof(path), BIN "%s", argv[i]);
		printf("FIELD-EXEC");
		for (int k = i; k < j; k++)
			printf(" %s", argv[k]);
		printf("\n");
		fflush(stdout);
		p = fork();
		if (p == 0) {
			execv(path, argv + i);
			_exit(127);
		}
		waitpid(p, &ws, 0);
		printf("FIELD-EXEC-END %s status=%d\n", argv[i], WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
		/* 0 done, 3 a target missed (--strict): both are results */
		if (!WIFEXITED(ws) || (WEXITSTATUS(ws) != 0 && WEXITSTATUS(ws) != 3))
			failures++;
		i = j + 1;
	}
	if (daemon) {
		long long moved = -1, failed = -1, audit = -1;

		pagemigd_counts(&ms, &moved, &failed, &audit);
		printf("FIELD-NOTE pagemigd beside them: moved %lld, audit records %lld\n", moved,
		       audit);
		stop_mover(&ms);
	}
	return failures ? 1 : 0;
}

/* field.args=A:B:C from the kernel command line, as an argv (argv[0] kept). */
static int cmdline_args(char *argv0, char ***out)
{
	static char buf[4096];
	static char *av[128];
	char *p, *q;
	int n = 0;

	if (read_file("/proc/cmdline", buf, sizeof(buf)) || !(p = strstr(buf, "field.args=")))
		return 0;
	p += strlen("field.args=");
	if ((q = strchr(p, ' ')))
		*q = 0;
	av[n++] = argv0;
	for (char *tok = strtok(p, ":"); tok && n < 127; tok = strtok(NULL, ":"))
		av[n++] = tok;
	av[n] = NULL;
	*out = av;
	return n;
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char **av;
	int n = cmdline_args(argv[0], &av);

	if (n > 0) {
		argc = n;
		argv = av;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ps = (size_t)sysconf(_SC_PAGESIZE);
	hz = sysconf(_SC_CLK_TCK);
	snprintf(dir, sizeof(dir), "%s", tmp ? tmp : "/tmp");
	if (argc < 2) {
		fprintf(stderr, "usage: field_lab exec PROG [ARG...] | converge [OPTION...]\n");
		return 2;
	}
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 1, argv + 1);
	if (!strcmp(argv[1], "converge")) {
		if (access(BIN "field-workload", X_OK)) {
			printf("SKIP: field-workload is not in the image\n");
			return 77;
		}
		return cmd_converge(argc - 1, argv + 1);
	}
	fprintf(stderr, "field_lab: unknown command '%s'\n", argv[1]);
	return 2;
}
