// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigd on the running kernel: --check-config, start with the sampler, status through
 * pagemigctl, reload of a good and of a bad configuration, observe mode, a settled process left
 * out of most plans, stop on SIGTERM within a second with exit status 0.
 *
 *   test_daemon_host PAGEMIGD PAGEMIGCTL
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

static const char *pagemigd, *pagemigctl;
static char dir[] = "/tmp/pagemigd-host-XXXXXX";
static char conf[300], sock[300], log_path[300];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_conf(const char *interval, const char *extra)
{
	FILE *f = fopen(conf, "w");

	fprintf(f,
		"[daemon]\ninterval = %s\nsocket = %s\n[policy big]\nmin_rss = 64MiB\n"
		"type = locality\n%s",
		interval, sock, extra ? extra : "");
	fclose(f);
}

/* pagemigctl --json status, parsed; NULL when it failed. */
static struct json_object *status(void)
{
	char cmd[700], out[65536];

	snprintf(cmd, sizeof(cmd), "%s --socket %s --json status 2>/dev/null", pagemigctl, sock);
	if (check_capture(cmd, out, sizeof(out)) != 0)
		return NULL;
	return json_tokener_parse(out);
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static long long get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static pid_t start(bool observe)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, STDERR_FILENO);
		execl(pagemigd, "pagemigd", "-f", "-c", conf, observe ? "--observe" : NULL, NULL);
		_exit(127);
	}
	/* ready once the socket answers */
	for (int i = 0; i < 100; i++) {
		struct json_object *s = status();

		if (s) {
			json_object_put(s);
			return pid;
		}
		usleep(100000);
	}
	return pid;
}

static int stop(pid_t pid, double *took)
{
	double t0 = now_s();
	int ws = 0;

	kill(pid, SIGTERM);
	waitpid(pid, &ws, 0);
	*took = now_s() - t0;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static bool log_has(const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(log_path, "r");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

static void test_check_config(void)
{
	char cmd[700], out[8192], bad[300];
	FILE *f;

	write_conf("2s", NULL);
	snprintf(cmd, sizeof(cmd), "%s --check-config -c %s 2>&1", pagemigd, conf);
	CHECK_EQ(check_capture(cmd, out, sizeof(out)), 0);

	/* three errors on three lines: every one reported as FILE:LINE: message */
	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	f = fopen(bad, "w");
	fprintf(f, "[daemon]\ninterval = 0s\nbogus = 1\n[policy x]\ntype = sideways\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --check-config -c %s 2>&1", pagemigd, bad);
	CHECK_EQ(check_capture(cmd, out, sizeof(out)), 1);
	for (int line = 2; line <= 5; line += (line == 3 ? 2 : 1)) {
		char want[320];

		snprintf(want, sizeof(want), "%s:%d: ", bad, line);
		if (!strstr(out, want)) {
			printf("  missing '%s' in:\n%s", want, out);
			CHECK(0);
		}
	}
	snprintf(cmd, sizeof(cmd), "%s --version", pagemigd);
	CHECK_EQ(check_capture(cmd, out, sizeof(out)), 0);
	CHECK(strstr(out, "pagemigd ") == out);
	snprintf(cmd, sizeof(cmd), "%s --bogus 2>/dev/null", pagemigd);
	CHECK(check_capture(cmd, out, sizeof(out)) != 0);
}

static void test_start_status_reload_stop(void)
{
	struct json_object *s, *sources, *nodes;
	double took;
	pid_t pid;
	bool fault_active = false;

	write_conf("2s", NULL);
	pid = start(false);
	s = status();
	CHECK(s != NULL);
	if (!s) {
		kill(pid, SIGKILL);
		return;
	}
	CHECK(strcmp(get_str(s, "mode"), "enforce") == 0);
	CHECK_EQ(get_int(s, "interval_ms"), 2000);
	CHECK(json_object_object_get_ex(s, "nodes", &nodes) &&
	      json_object_array_length(nodes) >= 1);
	CHECK(json_object_object_get_ex(s, "sources", &sources));
	for (size_t i = 0; sources && i < json_object_array_length(sources); i++) {
		struct json_object *src = json_object_array_get_idx(sources, i);

		if (!strcmp(get_str(src, "name"), "fault") &&
		    !strcmp(get_str(src, "state"), "active"))
			fault_active = true;
	}
	CHECK(fault_active); /* the sampler is loaded */
	json_object_put(s);

	/* a good change applies */
	write_conf("3s", NULL);
	kill(pid, SIGHUP);
	usleep(500000);
	s = status();
	CHECK(s && get_int(s, "interval_ms") == 3000);
	json_object_put(s);

	/* a bad file keeps the running configuration and says why */
	write_conf("3s", "[daemon]\nmode = sometimes\n");
	kill(pid, SIGHUP);
	usleep(500000);
	s = status();
	CHECK(s && get_int(s, "interval_ms") == 3000);
	CHECK(s && strstr(get_str(s, "status"), "reload failed"));
	json_object_put(s);
	CHECK(log_has("reloading"));
	CHECK(log_has(":8: ")); /* FILE:LINE of the bad key (or of the second [daemon]) */
	/* the status line keeps saying so through the next cycles, until a reload succeeds */
	usleep(3500000);
	s = status();
	CHECK(s && strstr(get_str(s, "status"), "reload failed"));
	json_object_put(s);
	write_conf("3s", NULL);
	kill(pid, SIGHUP);
	usleep(500000);
	s = status();
	CHECK(s && !strstr(get_str(s, "status"), "reload failed") &&
	      strstr(get_str(s, "status"), "processes"));
	json_object_put(s);

	CHECK_EQ(stop(pid, &took), 0);
	printf("  stopped in %.0f ms\n", took * 1000);
	CHECK(took < 1.0);
	CHECK(access(sock, F_OK) != 0); /* the socket is removed */
}

/*
 * A process with 64 MiB resident that touches 16 pages it never touched before every 3 s, until
 * killed. Those first-touch faults are what the sampler sees of it on any kernel (without
 * soft-dirty, as on some hosts, its later writes to the same pages are not sampled at all).
 */
static pid_t start_writer(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		size_t len = 64 << 20, fresh = len;
		volatile char *m = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			_exit(1);
		madvise((void *)m, 2 * len, MADV_NOHUGEPAGE); /* one fault per page */
		for (size_t o = 0; o < len; o += 4096)
			m[o] = 1;
		/* every 3 s: 16 new pages (first touches: allocations; accesses only on a kernel
		 * without soft-dirty, where they are all the sampler sees) and 16 pages written
		 * again (accesses, sampled once the daemon re-armed them) */
		for (char gen = 2;; gen++) {
			sleep(3);
			for (int i = 0; i < 16 && fresh < 2 * len; i++, fresh += 4096)
				m[fresh] = 1;
			for (size_t o = 0; o < 16 * 4096; o += 4096)
				m[o] = gen;
		}
	}
	return pid;
}

/* The settled flag of process pid in pagemigctl --json procs: 1, 0, or -1 when not listed. */
static int settled(pid_t pid)
{
	char cmd[700], out[65536];
	struct json_object *o, *procs, *v;
	int ret = -1;

	snprintf(cmd, sizeof(cmd), "%s --socket %s --json procs 2>/dev/null", pagemigctl, sock);
	if (check_capture(cmd, out, sizeof(out)) != 0 || !(o = json_tokener_parse(out)))
		return -1;
	if (json_object_object_get_ex(o, "processes", &procs))
		for (size_t i = 0; i < json_object_array_length(procs); i++) {
			struct json_object *p = json_object_array_get_idx(procs, i);

			if (get_int(p, "pid") == pid && json_object_object_get_ex(p, "settled", &v))
				ret = json_object_get_boolean(v);
		}
	json_object_put(o);
	return ret;
}

/*
 * A process with nothing to move (one node here) settles: then a cycle plans it again only when
 * an access of it was sampled since. Most cycles skip it, but not all: the writer's touches
 * every 3 s are sampled (first touches where there is no soft-dirty re-arming, else its writes
 * to old pages once a re-arm catches them: settled, at least every 8 rearm periods).
 */
static void test_settled_not_replanned(void)
{
	struct json_object *s0, *s1;
	long long skipped, cycles;
	double took, t0 = now_s();
	pid_t pid, writer = start_writer();
	char extra[200];
	FILE *f = fopen(conf, "w");

	snprintf(extra, sizeof(extra), "[policy writer]\npid = %d\ntype = locality\n", (int)writer);
	fprintf(f,
		"[daemon]\ninterval = 1s\nsocket = %s\n[sampler]\nrearm = 1s\n"
		"[migrate]\nmin_rss = 1MiB\n%s",
		sock, extra);
	fclose(f);
	pid = start(false);
	while (settled(writer) != 1 && now_s() - t0 < 30)
		usleep(250000);
	CHECK_EQ(settled(writer), 1);
	printf("  settled after %.1f s\n", now_s() - t0);
	s0 = status();
	sleep(12);
	s1 = status();
	CHECK(s0 && s1);
	if (s0 && s1) {
		skipped = get_int(s1, "plans_skipped") - get_int(s0, "plans_skipped");
		cycles = get_int(s1, "cycles") - get_int(s0, "cycles");
		printf("  %lld of %lld cycles did not plan it\n", skipped, cycles);
		CHECK(cycles >= 10);
		CHECK(skipped >= cycles / 2); /* settled, nothing new sampled */
		CHECK(skipped <= cycles - 1); /* planned again after sampled writes */
	}
	json_object_put(s0);
	json_object_put(s1);
	/* what an operator sees: the mark in procs, the counter in metrics */
	{
		static char out[1 << 20];
		char cmd[700], *m;

		snprintf(cmd, sizeof(cmd),
			 "%s --socket %s procs --sort pid; %s --socket %s metrics", pagemigctl,
			 sock, pagemigctl, sock);
		CHECK_EQ(check_capture(cmd, out, sizeof(out)), 0);
		CHECK(strstr(out, "*: settled") != NULL);
		m = strstr(out, "\npagemig_plans_skipped_total ");
		CHECK(m && strtoll(m + 29, NULL, 10) >= 5);
	}
	CHECK_EQ(stop(pid, &took), 0);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
}

static void test_observe(void)
{
	struct json_object *s;
	double took;
	pid_t pid;

	write_conf("1s", NULL);
	pid = start(true);
	sleep(2);
	s = status();
	CHECK(s && strcmp(get_str(s, "mode"), "observe") == 0);
	CHECK(s && get_int(s, "cycles") >= 2);
	CHECK(s && get_int(s, "pages_moved") == 0);
	json_object_put(s);
	CHECK_EQ(stop(pid, &took), 0);
}

int main(int argc, char **argv)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_check_config),
		CHECK_TEST(test_start_status_reload_stop),
		CHECK_TEST(test_observe),
		CHECK_TEST(test_settled_not_replanned),
	};
	int ret;

	if (argc != 3)
		SKIP_ALL("usage: test_daemon_host PAGEMIGD PAGEMIGCTL");
	if (geteuid() != 0)
		SKIP_ALL("needs root (BPF, move_pages on other processes)");
	pagemigd = argv[1];
	pagemigctl = argv[2];
	if (!mkdtemp(dir))
		return 1;
	snprintf(conf, sizeof(conf), "%s/pagemig.conf", dir);
	snprintf(sock, sizeof(sock), "%s/pagemigd.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/pagemigd.log", dir);
	ret = check_run(tests, sizeof(tests) / sizeof(tests[0]));
	if (ret) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "tail -30 %s", log_path);
		if (system(cmd) < 0)
			perror("tail");
	}
	return ret;
}
