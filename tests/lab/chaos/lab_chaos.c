// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Chaos in the NUMA lab: pagemigd is killed with SIGKILL in the middle of its migrations, 20
 * times, under workloads whose memory is checked (pagemig-workload: every word it writes is read
 * back at once, and both of its sets are checked against their patterns at SIGTERM, exit status
 * 0 = intact).
 *
 * Each round starts a workload with its memory on node 0 and its thread on cpu 1 (node 1), lets
 * the daemon start moving it, and kills the daemon at a random moment while pages are on their
 * way: by the policy (even rounds) or by a manual move of the whole process to node 2 (odd
 * rounds). Both are rate-limited to 4 MiB/s, so a migration lasts several seconds on any machine
 * and every kill lands between its first and its last page. The workload is then stopped and
 * must report its data intact; the daemon is started again on the socket the dead one left
 * behind and must answer at once. One more workload runs through all 20 rounds and is checked at
 * the end. Last, the restarted daemon must still do its job: a new workload's hot set ends up
 * local, and a SIGTERM stops it cleanly.
 *
 *   lab_chaos [ROUNDS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "harness.h"
#include "lab_workload.h"
#include "pagemig/pagemig.h"

#define BIN "/lab/bin/"

static size_t ps;
static char dir[200], conf[300], sock[300], logp[300];

/* Of 64 pages spread over both sets of w, how many are on node (a cheap look while polling). */
static size_t sample_on_node(const struct workload *w, int node)
{
	void *pages[64];
	int st[64];
	size_t c = 0;

	for (size_t i = 0; i < 64; i++) {
		size_t k = i % 2 ? (w->cold_bytes / ps) * i / 64 : (w->hot_bytes / ps) * i / 64;

		pages[i] = (void *)((i % 2 ? w->cold : w->hot) + k * ps);
	}
	if (pagemig_query(w->pid, 64, pages, st) == 0)
		for (size_t i = 0; i < 64; i++)
			c += st[i] == node;
	return c;
}

static pid_t start_daemon(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fd, STDERR_FILENO);
		execl(BIN "pagemigd", "pagemigd", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Seconds until the daemon answers on its socket (-1: not within 30 s). */
static double wait_ready(pid_t d)
{
	double t0 = hd_now();

	while (hd_now() - t0 < 30) {
		struct json_object *r = NULL;

		if (waitpid(d, NULL, WNOHANG) == d)
			return -1;
		if (hd_request(sock, "{\"version\":1,\"command\":\"status\"}", &r) == 0 &&
		    !strcmp(hd_code(r), "")) {
			json_object_put(r);
			return hd_now() - t0;
		}
		json_object_put(r);
		usleep(20000);
	}
	return -1;
}

static unsigned int rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (unsigned int)(x >> 11);
}

static size_t count_log(const char *needle)
{
	char line[1024];
	size_t hits = 0;
	FILE *f = fopen(logp, "r");

	while (f && fgets(line, sizeof(line), f))
		hits += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return hits;
}

static void dump_log(void)
{
	char line[1024];
	FILE *f = fopen(logp, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strstr(line, "libbpf"))
			printf("    | %s", line);
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	static const char *const w_args[] = {"--hot",	    "16", "--cold", "8", "--mem-node", "0",
					     "--alloc-cpu", "0",  "--cpu",  "1", NULL};
	static const char *const long_args[] = {"--hot",      "8", "--cold",	  "8",
						"--mem-node", "0", "--alloc-cpu", "0",
						"--cpu",      "1", NULL};
	int rounds = argc > 1 ? atoi(argv[1]) : 20, intact = 0, mid = 0, ready_fail = 0;
	int killed_policy = 0, killed_manual = 0;
	double ready_max = 0;
	struct workload lw;
	pid_t d;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ps = (size_t)sysconf(_SC_PAGESIZE);
	if (getenv("LAB_NODES") && atoi(getenv("LAB_NODES")) < 3)
		SKIP_ALL("needs 3 nodes");
	snprintf(dir, sizeof(dir), "%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	snprintf(conf, sizeof(conf), "%s/pagemig.conf", dir);
	snprintf(sock, sizeof(sock), "%s/pagemigd.sock", dir);
	snprintf(logp, sizeof(logp), "%s/pagemigd.log", dir);
	f = fopen(conf, "w");
	/* a migration of the 16 MiB hot set takes about four seconds at this rate */
	fprintf(f,
		"[daemon]\ninterval = 500ms\nsocket = %s\n"
		"[sampler]\nsources = fault,oncpu,softdirty\nrearm = 0\nhalf_life = 4s\n"
		"[migrate]\nrate = 4MiB/s\ncooldown = 60s\nmin_rss = 1MiB\n"
		"[policy work]\nexe = */pagemig-workload\ntype = locality\n"
		"[policy rest]\ntype = ignore\n",
		sock);
	fclose(f);

	lab_hold_daemon_tracepoints();
	start_workload(&lw, long_args);
	d = start_daemon();
	if (wait_ready(d) < 0) {
		printf("not ok - pagemigd did not start\n");
		dump_log();
		kill(lw.pid, SIGKILL);
		return 1;
	}

	for (int r = 0; r < rounds; r++) {
		struct workload w;
		bool manual = r % 2;
		size_t n_hot, n_all, moved = 0;
		double t0, ready;
		int target = manual ? 2 : 1, status, ws;
		const char *how;

		start_workload(&w, w_args);
		n_hot = w.hot_bytes / ps;
		n_all = n_hot + w.cold_bytes / ps;
		t0 = hd_now();
		if (manual) {
			/* a manual move of the whole process, answered when done: not waited for */
			char req[200];
			int fd = hd_connect(sock);

			snprintf(req, sizeof(req),
				 "{\"version\":1,\"command\":\"move\",\"args\":{\"pid\":%d,"
				 "\"node\":%d}}",
				 (int)w.pid, target);
			if (fd >= 0) {
				uint32_t len = (uint32_t)strlen(req);
				uint8_t hdr[4] = {len >> 24, len >> 16, len >> 8, len};

				(void)!send(fd, hdr, 4, MSG_NOSIGNAL);
				(void)!send(fd, req, len, MSG_NOSIGNAL);
			}
			/* once pages arrive, kill within the next 0.4 s */
			while (hd_now() - t0 < 30 && !sample_on_node(&w, target))
				usleep(5000);
			usleep(rnd() % 400000);
			kill(d, SIGKILL);
			moved = on_node(w.pid, w.hot, w.hot_bytes, target) +
				on_node(w.pid, w.cold, w.cold_bytes, target);
			if (fd >= 0)
				close(fd);
		} else {
			/* wait for the policy's first moves, then kill within the next 1.5 s */
			while (hd_now() - t0 < 30 && !sample_on_node(&w, target))
				usleep(10000);
			usleep(rnd() % 1500000);
			kill(d, SIGKILL);
			moved = on_node(w.pid, w.hot, w.hot_bytes, target);
		}
		waitpid(d, &ws, 0);
		how = manual ? "manual move to node 2" : "policy moves to node 1";
		/* caught in the middle: some pages moved, not all of them */
		if (moved > 0 && moved < (manual ? n_all : n_hot) * 95 / 100) {
			mid++;
			if (manual)
				killed_manual++;
			else
				killed_policy++;
		}
		status = stop_workload(&w);
		intact += status == 0;
		CHECK_EQ(status, 0);
		/* again, on the socket the killed daemon left behind */
		CHECK(access(sock, F_OK) == 0);
		d = start_daemon();
		ready = wait_ready(d);
		if (ready < 0)
			ready_fail++;
		else if (ready > ready_max)
			ready_max = ready;
		printf("  round %2d: %s, killed %.2f s in with %zu of %zu pages on node %d; "
		       "workload %s; restarted, answering after %.2f s\n",
		       r + 1, how, hd_now() - t0, moved, manual ? n_all : n_hot, target,
		       status == 0 ? "intact" : "CORRUPTED", ready);
	}
	printf("  %d rounds: %d workloads intact, %d kills in the middle of a migration (%d of "
	       "policy moves, %d of manual moves), restarts answering within %.2f s, %d not\n",
	       rounds, intact, mid, killed_policy, killed_manual, ready_max, ready_fail);
	CHECK_EQ(intact, rounds);
	CHECK_EQ(ready_fail, 0);
	CHECK(mid >= rounds * 9 / 10);
	CHECK_EQ(count_log("is not a socket"), 0);
	CHECK_EQ(count_log("Address already in use"), 0);

	/* the long-lived workload went through every kill */
	CHECK_EQ(stop_workload(&lw), 0);

	/* and the daemon still does its job */
	{
		struct workload w;
		double t0 = hd_now();
		size_t n;
		int ws;

		start_workload(&w, w_args);
		n = w.hot_bytes / ps;
		while (hd_now() - t0 < 60 && on_node(w.pid, w.hot, w.hot_bytes, 1) < n * 9 / 10)
			usleep(200000);
		printf("  after the last restart: %zu of %zu hot pages local after %.1f s\n",
		       on_node(w.pid, w.hot, w.hot_bytes, 1), n, hd_now() - t0);
		CHECK(on_node(w.pid, w.hot, w.hot_bytes, 1) >= n * 9 / 10);
		CHECK_EQ(stop_workload(&w), 0);
		kill(d, SIGTERM);
		waitpid(d, &ws, 0);
		CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
		CHECK(access(sock, F_OK) < 0);
	}
	if (check_failures)
		dump_log();
	printf("%s\n", check_failures ? "not ok - chaos" : "ok - chaos");
	return check_failures ? 1 : 0;
}
