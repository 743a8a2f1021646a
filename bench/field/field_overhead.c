// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * field-overhead: pagemigd's own CPU and memory with 10, 100, 1000 managed processes (bench/field,
 * issue 9, case 4). Host (root): it needs the daemon's eBPF sampler.
 *
 * For every N of --procs it forks N small processes (comm "field-idle"; each maps --rss MiB,
 * touches it, then every second drops --touch of its pages (MADV_DONTNEED, round robin) and
 * writes them again, so the fault sampler has events even without soft-dirty), starts pagemigd with the shipped defaults plus a
 * locality policy matching comm field-idle (and min_rss 1 MiB so that the small processes
 * qualify), waits until `pagemigctl status` reports all N managed, lets it run --settle seconds,
 * then reads the daemon's utime + stime from /proc/PID/stat over --seconds and its VmRSS and
 * VmHWM. Repeated --reps times per N (a fresh daemon each time, the same processes).
 *
 * On a one-node host pagemigd samples, scans, plans and reports, but moves nothing (it says so at
 * start); the figure is the cost of watching, which is what it pays on a balanced machine.
 *
 * Output: one "RESULT case=overhead ..." line per run and a summary per N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *pagemigd = "pagemigd", *pagemigctl = "pagemigctl";
static char dir[256];
static long hz;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void idle_child(size_t mib, size_t touch)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = (mib << 20) / ps, next = 0;
	char *p;

	prctl(PR_SET_NAME, "field-idle");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	p = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	madvise(p, n * ps, MADV_NOHUGEPAGE);
	memset(p, 1, n * ps);
	for (;;) {
		/* drop and re-touch: a fresh page fault each, whether or not the kernel has
		 * soft-dirty tracking for the daemon to re-arm write faults with */
		for (size_t i = 0; i < touch; i++, next = (next + 1) % n) {
			madvise(p + next * ps, ps, MADV_DONTNEED);
			p[next * ps] = 1;
		}
		sleep(1);
	}
}

static int cpu_of(pid_t pid, double *cpu, long *rss, long *hwm)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	*cpu = (double)(ut + st) / (double)hz;
	if (rss) {
		char line[256];

		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		if ((f = fopen(path, "r"))) {
			while (fgets(line, sizeof(line), f)) {
				sscanf(line, "VmRSS: %ld", rss);
				sscanf(line, "VmHWM: %ld", hwm);
			}
			fclose(f);
		}
	}
	return 0;
}

/* managed_processes and last_cycle_ms from pagemigctl --json status; -1 when no answer */
static long status(const char *sock, double *cycle_ms, long *sampled)
{
	char cmd[600], out[1 << 16];
	struct json_object *o, *v;
	long managed = -1;
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s --socket %s --json status 2>/dev/null", pagemigctl, sock);
	if (!(p = popen(cmd, "r")))
		return -1;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	if (pclose(p) != 0 || !(o = json_tokener_parse(out)))
		return -1;
	if (json_object_object_get_ex(o, "managed_processes", &v))
		managed = json_object_get_int64(v);
	if (cycle_ms && json_object_object_get_ex(o, "last_cycle_ms", &v))
		*cycle_ms = json_object_get_double(v);
	json_object_put(o);
	if (sampled) {
		/* sampled pages of all processes */
		*sampled = 0;
		snprintf(cmd, sizeof(cmd), "%s --socket %s --json procs --limit 100000 2>/dev/null",
			 pagemigctl, sock);
		if ((p = popen(cmd, "r"))) {
			static char big[1 << 22];
			struct json_object *a, *e;

			n = fread(big, 1, sizeof(big) - 1, p);
			big[n] = 0;
			pclose(p);
			if ((o = json_tokener_parse(big))) {
				if (json_object_object_get_ex(o, "processes", &a))
					for (size_t i = 0; i < json_object_array_length(a); i++) {
						e = json_object_array_get_idx(a, i);
						if (json_object_object_get_ex(e, "sampled_pages", &v))
							*sampled += json_object_get_int64(v);
					}
				json_object_put(o);
			}
		}
	}
	return managed;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"procs", 1, NULL, 'n'},   {"seconds", 1, NULL, 's'}, {"reps", 1, NULL, 'r'},
		{"rss", 1, NULL, 'm'},	   {"touch", 1, NULL, 't'},   {"settle", 1, NULL, 'S'},
		{"pagemigd", 1, NULL, 'd'}, {"pagemigctl", 1, NULL, 'c'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t ns[16] = {10, 100, 1000}, nn = 3, mib = 2, touch = 16;
	int seconds = 60, reps = 3, settle = 12, c;
	struct utsname u;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *s = optarg, *end;

			for (nn = 0; *s && nn < 16; s = *end ? end + 1 : end)
				if (!(ns[nn++] = strtoul(s, &end, 10)) || end == s)
					return 2;
			break;
		}
		case 's': seconds = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'm': mib = strtoul(optarg, NULL, 10); break;
		case 't': touch = strtoul(optarg, NULL, 10); break;
		case 'S': settle = atoi(optarg); break;
		case 'd': pagemigd = optarg; break;
		case 'c': pagemigctl = optarg; break;
		case 'h':
			printf("Usage: field-overhead [--procs 10,100,1000] [--seconds 60] [--reps 3]\n"
			       "  [--rss MIB] [--touch PAGES/s] [--settle S] --pagemigd PATH "
			       "--pagemigctl PATH\n");
			return 0;
		default: return 2;
		}
	}
	if (geteuid()) {
		printf("field-overhead: needs root (pagemigd's eBPF sampler)\n");
		return 77;
	}
	hz = sysconf(_SC_CLK_TCK);
	snprintf(dir, sizeof(dir), "/tmp/field-overhead.%d", (int)getpid());
	mkdir(dir, 0755);
	uname(&u);
	printf("field-overhead: %s %s, %ld CPUs; each process %zu MiB, re-faults %zu pages/s; "
	       "pagemigd with the shipped defaults (interval 5 s, re-arm 10 s) + a locality "
	       "policy for comm field-idle; %d s measured after %d s settling, %d reps\n",
	       u.nodename, u.release, sysconf(_SC_NPROCESSORS_ONLN), mib, touch, seconds, settle,
	       reps);
	fflush(stdout);
	for (size_t ni = 0; ni < nn; ni++) {
		size_t n = ns[ni];
		pid_t *kids = calloc(n, sizeof(pid_t));
		double shares[64], kids_cpu_total = 0;
		long rsss[64];
		int got = 0;

		for (size_t i = 0; i < n; i++) {
			kids[i] = fork();
			if (kids[i] == 0)
				idle_child(mib, touch);
		}
		sleep(2 + (unsigned)(n / 200));
		for (int r = 1; r <= reps && r <= 64; r++) {
			char conf[300], sock[300], log[300];
			double c0, c1, t0, t1, cycle_ms = -1, k0 = 0, k1 = 0, x;
			long rss = -1, hwm = -1, managed = -1, sampled = -1;
			pid_t d;
			FILE *f;

			snprintf(conf, sizeof(conf), "%s/pagemig.conf", dir);
			snprintf(sock, sizeof(sock), "%s/sock", dir);
			snprintf(log, sizeof(log), "%s/pagemigd-%zu-%d.log", dir, n, r);
			f = fopen(conf, "w");
			fprintf(f,
				"[daemon]\nsocket = %s\nlog_level = notice\n[migrate]\nmin_rss = 1MiB\n"
				"[policy idle]\ncomm = field-idle\ntype = locality\n"
				"[policy rest]\ntype = ignore\n",
				sock);
			fclose(f);
			d = fork();
			if (d == 0) {
				int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

				/* if this benchmark is killed, the daemon goes too (the idle processes
				 * have PR_SET_PDEATHSIG SIGKILL): nothing is left running */
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				dup2(fd, 1);
				dup2(fd, 2);
				execl(pagemigd, "pagemigd", "-f", "-c", conf, NULL);
				_exit(127);
			}
			t0 = now_s();
			while (now_s() - t0 < 90 && (managed = status(sock, NULL, NULL)) < (long)n)
				usleep(500000);
			printf("  N=%zu rep %d: %ld managed after %.1f s\n", n, r, managed,
			       now_s() - t0);
			fflush(stdout);
			sleep((unsigned)settle);
			for (size_t i = 0; i < n; i++)
				if (cpu_of(kids[i], &x, NULL, NULL) == 0)
					k0 += x;
			cpu_of(d, &c0, NULL, NULL);
			t0 = now_s();
			sleep((unsigned)seconds);
			cpu_of(d, &c1, &rss, &hwm);
			t1 = now_s();
			for (size_t i = 0; i < n; i++)
				if (cpu_of(kids[i], &x, NULL, NULL) == 0)
					k1 += x;
			managed = status(sock, &cycle_ms, &sampled);
			kill(d, SIGTERM);
			waitpid(d, NULL, 0);
			shares[got] = (c1 - c0) / (t1 - t0);
			rsss[got++] = rss;
			kids_cpu_total += (k1 - k0) / (t1 - t0);
			printf("RESULT case=overhead procs=%zu rep=%d managed=%ld seconds=%.1f "
			       "cpu_s=%.3f cpu_pct=%.3f rss_kib=%ld hwm_kib=%ld last_cycle_ms=%.2f "
			       "sampled_pages=%ld procs_cpu_pct=%.3f\n",
			       n, r, managed, t1 - t0, c1 - c0, 100 * (c1 - c0) / (t1 - t0), rss, hwm,
			       cycle_ms, sampled, 100 * (k1 - k0) / (t1 - t0));
			fflush(stdout);
		}
		for (size_t i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		for (size_t i = 0; i < n; i++)
			waitpid(kids[i], NULL, 0);
		free(kids);
		(void)shares, (void)rsss, (void)kids_cpu_total;
	}
	return 0;
}
