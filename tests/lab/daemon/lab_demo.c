// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Quick start's demo on machines with fewer than two memory nodes: inside the lab guest,
 * pagemigd runs with the shipped /etc/pagemig.conf next to a workload whose memory sits on node 0
 * while its thread runs on cpu 1 (node 1). It prints what the daemon moves (its log) and, every
 * two seconds, where the workload's hot set is and the daemon's local-access share, until the hot
 * set is local or 120 s have passed.
 */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "lab_workload.h"
#include "pagemig/pagemig.h"

#define BIN "/lab/bin/"

static size_t ps;

/* The daemon's local-access share and pages moved, from pagemigctl --json status. */
static bool daemon_status(double *share, long long *moved)
{
	char out[65536];
	size_t n;
	struct json_object *o, *v;
	FILE *p = popen(BIN "pagemigctl --json status 2>/dev/null", "r");

	if (!p)
		return false;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	if (pclose(p) != 0 || !(o = json_tokener_parse(out)))
		return false;
	*share = json_object_object_get_ex(o, "local_access_share", &v) && v
			 ? json_object_get_double(v)
			 : -1;
	*moved = json_object_object_get_ex(o, "pages_moved", &v) ? json_object_get_int64(v) : 0;
	json_object_put(o);
	return true;
}

int main(void)
{
	uintptr_t hot, cold;
	size_t hot_bytes, cold_bytes, n;
	char line[512];
	int fds[2], ws;
	pid_t d, w;
	FILE *out;
	double t0, t, done_at = -1;
	struct timespec ts;

	ps = (size_t)sysconf(_SC_PAGESIZE);
	printf("\n=== pagemig demo: pagemigd with the shipped /etc/pagemig.conf ===\n"
	       "A workload keeps writing a 192 MiB hot set from cpu 1 (node 1) while that memory\n"
	       "sits on node 0; a 96 MiB cold set is written once. pagemigd should bring the hot\n"
	       "set to node 1 and leave the cold set alone.\n\n");
	lab_hold_daemon_tracepoints();
	fflush(stdout);
	d = fork();
	if (d == 0) {
		execl(BIN "pagemigd", "pagemigd", "-f", "-c", "/etc/pagemig.conf", NULL);
		_exit(127);
	}
	if (pipe(fds))
		return 1;
	w = fork();
	if (w == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execl(BIN "pagemig-workload", "pagemig-workload", "--hot", "192", "--cold", "96",
		      "--mem-node", "0", "--alloc-cpu", "0", "--cpu", "1", NULL);
		_exit(127);
	}
	close(fds[1]);
	out = fdopen(fds[0], "r");
	if (!fgets(line, sizeof(line), out) ||
	    sscanf(line, "pagemig-workload: pid=%*d hot=%lx:%zu cold=%lx:%zu", &hot, &hot_bytes,
		   &cold, &cold_bytes) != 4) {
		printf("the workload did not start\n");
		return 1;
	}
	n = hot_bytes / ps;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	for (;;) {
		double share = -1;
		long long moved = 0;
		size_t local;

		sleep(2);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t0;
		local = on_node(w, hot, hot_bytes, 1);
		daemon_status(&share, &moved);
		printf("demo: t=%5.1fs  hot set on node 1: %5.1f%%  cold set on node 0: %5.1f%%  "
		       "daemon: local-access share %s%.0f%%, %lld pages moved\n",
		       t, 100.0 * local / n,
		       100.0 * on_node(w, cold, cold_bytes, 0) / (cold_bytes / ps),
		       share < 0 ? "n/a " : "", share < 0 ? 0 : share * 100, moved);
		fflush(stdout);
		if (local >= n * 99 / 100 && done_at < 0)
			done_at = t;
		if ((done_at >= 0 && t >= done_at + 6) || t > 120)
			break;
	}
	kill(w, SIGTERM);
	waitpid(w, &ws, 0);
	kill(d, SIGTERM);
	waitpid(d, NULL, 0);
	if (done_at >= 0)
		printf("\n=== the hot set became local after %.0f s; the workload's data is %s "
		       "===\n",
		       done_at, WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? "intact" : "NOT intact");
	else
		printf("\n=== the hot set did not become local within 120 s ===\n");
	return done_at >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
}
