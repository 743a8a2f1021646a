// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigctl in the NUMA lab: pagemigd runs in the guest with a configuration that manages no
 * process, a workload holds 32 MiB first touched on node 0, and
 *   - `pagemigctl move PID --to 1 --range A-B` moves exactly that range to node 1 (checked with
 *     the kernel's own answer, page by page), the rest stays on node 0;
 *   - `history` shows the move (source manual, pages moved, outcome);
 *   - `audit` shows the documented steps the kernel took for the moved pages (B4 then B16, on
 *     node 1), when the guest kernel has the migrate tracepoints;
 *   - a second move to the memory-only node 2 moves them again, answered with the report;
 *   - the metrics count the manual pages and parse as strict Prometheus text;
 *   - SIGTERM stops the daemon with 0 and the workload's data is intact.
 * The binaries come from /lab/bin (pagemig_lab_program()).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "labutil.h"
#include "prom_parse.h"

#define BIN  "/lab/bin/"
#define SIZE (32ul << 20)
#define SEED 7

static char sock_path[100], conf_path[128], log_path[128];

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run pagemigctl -s SOCK ARGS... (NULL-terminated); its stdout into out; exit status. */
static int ctl(char *out, size_t cap, ...)
{
	const char *argv[16] = {BIN "pagemigctl", "-s", sock_path};
	int argc = 3, p[2], st;
	size_t n = 0;
	va_list ap;
	pid_t pid;

	va_start(ap, cap);
	while (argc < 15 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe2(p, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t got = read(p[0], out + n, cap - 1 - n);

		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(p[0]);
	out[n] = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, k, &v);
	return v;
}

static pid_t start_daemon(void)
{
	int64_t deadline = now_ms() + 90000;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(BIN "pagemigd", "pagemigd", "--foreground", "--config", conf_path, "--socket",
		      sock_path, (char *)NULL);
		_exit(127);
	}
	while (now_ms() < deadline) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int st;

		snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(fd);
			return pid;
		}
		close(fd);
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(100000);
	}
	return -1;
}

static void print_log(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "cat %s", log_path);
	(void)!system(cmd);
}

int main(void)
{
	static char out[1 << 20];
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int ready[2], st, rc;
	pid_t daemon, child;
	char *buf;
	char pid_s[16], range[64];
	void **pages;
	size_t n = SIZE / 4096, lo = n / 4, hi = n / 4 * 3;
	struct json_object *o, *a, *d = NULL;
	FILE *f;

	lab_need_nodes(3);
	snprintf(sock_path, sizeof(sock_path), "%s/pagemigd.sock", tmp);
	snprintf(conf_path, sizeof(conf_path), "%s/pagemig.conf", tmp);
	snprintf(log_path, sizeof(log_path), "%s/pagemigd.log", tmp);
	f = fopen(conf_path, "w");
	fprintf(f, "[daemon]\ninterval = 1s\nmode = enforce\n");
	fclose(f);

	/* the workload: 32 MiB of base pages first touched on node 0 */
	if (pipe(ready))
		abort();
	child = fork();
	if (child == 0) {
		sigset_t usr1;
		int sig;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		buf = lab_buffer(SIZE, 0, false, SEED);
		(void)!write(ready[1], &buf, sizeof(buf));
		close(ready[1]);
		/* at the end: did the data survive both moves? */
		sigwait(&usr1, &sig);
		_exit(lab_pattern_ok(buf, SIZE, SEED) ? 0 : 3);
	}
	if (read(ready[0], &buf, sizeof(buf)) != sizeof(buf))
		return 1;
	pages = lab_pages(buf, SIZE);
	CHECK_EQ(lab_count_on(child, pages, n, 0), n);

	daemon = start_daemon();
	if (daemon < 0) {
		printf("not ok - pagemigd did not start\n");
		print_log();
		kill(child, SIGKILL);
		return 1;
	}
	printf("ok - pagemigd listens on %s\n", sock_path);

	/* the middle half to node 1 */
	snprintf(pid_s, sizeof(pid_s), "%d", (int)child);
	snprintf(range, sizeof(range), "%lx-%lx", (unsigned long)(buf + lo * 4096),
		 (unsigned long)(buf + hi * 4096));
	rc = ctl(out, sizeof(out), "move", pid_s, "--to", "1", "--range", range, NULL);
	fputs(out, stdout);
	CHECK_EQ(rc, 0);
	CHECK_EQ(lab_count_on(child, pages + lo, hi - lo, 1), hi - lo);
	CHECK_EQ(lab_count_on(child, pages, lo, 0), lo);
	CHECK_EQ(lab_count_on(child, pages + hi, n - hi, 0), n - hi);
	printf("%s - the range is on node 1, the rest on node 0\n",
	       lab_count_on(child, pages + lo, hi - lo, 1) == hi - lo ? "ok" : "not ok");

	/* history */
	rc = ctl(out, sizeof(out), "history", NULL);
	fputs(out, stdout);
	CHECK_EQ(rc, 0);
	rc = ctl(out, sizeof(out), "--json", "history", "--pid", pid_s, NULL);
	CHECK_EQ(rc, 0);
	o = json_tokener_parse(out);
	a = get(o, "decisions");
	CHECK(a && json_object_array_length(a) == 1);
	if (a && json_object_array_length(a))
		d = json_object_array_get_idx(a, 0);
	CHECK(d && !strcmp(json_object_get_string(get(d, "source")), "manual"));
	CHECK(d && json_object_get_int(get(d, "to")) == 1);
	CHECK(d && json_object_get_int64(get(d, "pages_moved")) == (int64_t)(hi - lo));
	CHECK(d && !strcmp(json_object_get_string(get(d, "outcome")), "moved"));
	printf("%s - history shows the manual move of %zu pages to node 1\n",
	       d && json_object_get_int64(get(d, "pages_moved")) == (int64_t)(hi - lo) ? "ok"
										       : "not ok",
	       hi - lo);
	json_object_put(o);

	/* audit: the steps of the moved pages */
	rc = ctl(out, sizeof(out), "audit", NULL);
	fputs(out, stdout);
	CHECK_EQ(rc, 0);
	rc = ctl(out, sizeof(out), "--json", "audit", NULL);
	CHECK_EQ(rc, 0);
	o = json_tokener_parse(out);
	if (!json_object_get_boolean(get(o, "available"))) {
		printf("# the audit is not available on this kernel: %s\n",
		       json_object_get_string(get(o, "detail")));
	} else {
		struct json_object *mv = get(o, "last_manual_move"), *p = get(mv, "pages");
		size_t with_steps = 0, moved = 0;

		CHECK(p && json_object_array_length(p) > 0);
		for (size_t i = 0; p && i < json_object_array_length(p); i++) {
			struct json_object *e = json_object_array_get_idx(p, i);
			struct json_object *steps = get(e, "steps");

			if (!strcmp(json_object_get_string(get(e, "verdict")), "moved")) {
				moved++;
				CHECK(json_object_get_int(get(e, "node_after")) == 1);
			}
			if (steps && json_object_array_length(steps) >= 2 &&
			    !strcmp(json_object_get_string(json_object_array_get_idx(steps, 0)),
				    "B4") &&
			    !strcmp(json_object_get_string(json_object_array_get_idx(
					    steps, json_object_array_length(steps) - 1)),
				    "B16"))
				with_steps++;
		}
		CHECK(moved > 0);
		CHECK(with_steps > 0);
		printf("%s - audit: %zu of %zu followed pages moved, %zu with steps B4 .. B16\n",
		       moved && with_steps ? "ok" : "not ok", moved,
		       p ? json_object_array_length(p) : 0, with_steps);
	}
	json_object_put(o);

	/* again, to the memory-only node, answered with the library's report */
	rc = ctl(out, sizeof(out), "--json", "move", pid_s, "--to", "2", "--range", range, NULL);
	CHECK_EQ(rc, 0);
	o = json_tokener_parse(out);
	CHECK(json_object_get_boolean(get(o, "completed")));
	CHECK(json_object_get_int64(get(get(o, "report"), "pages_moved")) == (int64_t)(hi - lo));
	json_object_put(o);
	CHECK_EQ(lab_count_on(child, pages + lo, hi - lo, 2), hi - lo);

	/* the metrics */
	rc = ctl(out, sizeof(out), "metrics", NULL);
	CHECK_EQ(rc, 0);
	{
		struct prom_result res;
		double v = 0;

		CHECK(prom_check(out, strlen(out), "pagemig_", &res) == 0);
		if (res.error[0])
			printf("not ok - metrics line %u: %s\n", res.line, res.error);
		CHECK(prom_value(out,
				 "pagemig_pages_moved_total{policy=\"manual\",reason="
				 "\"manual\"}",
				 &v) == 0);
		CHECK(v == 2.0 * (double)(hi - lo));
		CHECK(prom_value(out, "pagemig_node_memory_free_bytes{node=\"2\"}", &v) == 0);
		printf("ok - metrics parse; %g manual pages counted\n", 2.0 * (double)(hi - lo));
	}

	kill(daemon, SIGTERM);
	waitpid(daemon, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	kill(child, SIGUSR1);
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("%s - the workload's data is intact\n",
	       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "not ok");
	if (check_failures)
		print_log();
	printf("%s\n", check_failures ? "FAIL" : "PASS");
	return check_failures ? 1 : 0;
}
