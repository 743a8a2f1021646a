// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigctl against a real pagemigd, started here with a temporary configuration and socket,
 * once in observe mode and once in enforce mode:
 *   - every command, human and --json (parsed with json-c), with the fields the protocol
 *     documents;
 *   - a manual move of a child's range (enforce) and its refusal (observe);
 *   - pause, resume, reload (a good and a bad file);
 *   - a user outside the socket's group cannot connect; a member of a temporary group can read
 *     but gets EPERM for pause, resume, move and reload, and EACCES for another user's process;
 *   - garbage, truncated, oversized and zero-length frames are refused while other clients are
 *     served; silent clients neither block others nor stay forever; too many clients are cut;
 *   - the metrics (command and file) parse as strict Prometheus text;
 *   - SIGTERM stops the daemon with 0, leaving pagemig_up 0 in the metrics file.
 *
 * Usage: test_ctl_host PAGEMIGD PAGEMIGCTL (CTest passes both). Needs root; skips (77)
 * otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "check.h"
#include "prom_parse.h"
#include "proto.h"

static const char *pagemigd_bin, *ctl_bin;
static char dir[64], sock_path[100], conf_path[128], prom_path[128], log_path[128];
static char group_name[32];
static gid_t group_gid;
static bool have_group;
static bool outsider_can_run; /* uid 65534 can execute ctl_bin (see main) */
static pid_t daemon_pid = -1;
static bool observe;
static unsigned int http_port; /* metrics_listen */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- running things ------------------------------------------------------------------------ */

struct run {
	int status; /* exit status, or 128 + signal, or -1 on timeout */
	char out[262144];
	char err[16384];
};

/* Credentials to run pagemigctl with; uid 0 = as we are. */
struct as {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
};

static const struct as ROOT = {0};

static void drop_to(const struct as *as)
{
	if (!as->uid)
		return;
	if (setgroups(as->ngroups, as->groups) || setgid(as->gid) || setuid(as->uid))
		_exit(126);
}

/* Read both pipes until both close or the deadline passes. */
static void collect(int out, int err, struct run *r, int64_t deadline)
{
	size_t no = 0, ne = 0;
	struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN}};

	while ((p[0].fd >= 0 || p[1].fd >= 0) && now_ms() < deadline) {
		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *n = i ? &ne : &no, cap = i ? sizeof(r->err) : sizeof(r->out);
			ssize_t got;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			got = read(p[i].fd, buf + *n, cap - 1 - *n);
			if (got <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
			} else {
				*n += (size_t)got;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	r->out[no] = 0;
	r->err[ne] = 0;
}

/* Whether as may execute ctl_bin: every folder above it must be searchable by others. */
static bool can_execute(const struct as *as)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		drop_to(as);
		_exit(access(ctl_bin, X_OK) ? 1 : 0);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Run pagemigctl -s SOCK ARGS... (NULL-terminated) as as. */
static void ctl(struct run *r, const struct as *as, ...)
{
	const char *argv[32] = {ctl_bin, "-s", sock_path};
	int argc = 3, out[2], err[2], st;
	int64_t deadline = now_ms() + 60000;
	va_list ap;
	pid_t pid;

	va_start(ap, as);
	while (argc < 31 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		drop_to(as);
		execv(ctl_bin, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	collect(out[0], err[0], r, deadline);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			r->status = -1;
			return;
		}
		usleep(10000);
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct json_object *parse_json(const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
		  json_object_is_type(o, json_type_object);

	/* one document, then at most a newline */
	if (ok && strspn(text + json_tokener_get_parse_end(tok), "\n") !=
			  strlen(text + json_tokener_get_parse_end(tok)))
		ok = false;
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(o);
		fprintf(stderr, "not one JSON object:\n%s\n", text);
		return NULL;
	}
	return o;
}

static struct json_object *member(struct json_object *o, const char *k, json_type type)
{
	struct json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, type)) {
		fprintf(stderr, "member '%s' missing or not of type %s\n", k,
			json_type_to_name(type));
		return NULL;
	}
	return v;
}

/* The "error"."code" of a --json failure, or "". */
static const char *error_code(struct json_object *o)
{
	struct json_object *e = member(o, "error", json_type_object);
	struct json_object *c = member(e, "code", json_type_string);

	return c ? json_object_get_string(c) : "";
}

/* ---- the daemon -------------------------------------------------------------------------- */

static void write_config(const char *extra)
{
	FILE *f = fopen(conf_path, "w");

	if (!f)
		abort();
	fprintf(f,
		"# written by test_ctl_host\n"
		"[daemon]\n"
		"interval = 300ms\n"
		"mode = %s\n"
		"metrics_file = %s\n",
		observe ? "observe" : "enforce", prom_path);
	if (have_group)
		fprintf(f, "socket_group = %s\n", group_name);
	if (http_port)
		fprintf(f, "metrics_listen = 127.0.0.1:%u\n", http_port);
	fputs(extra, f);
	fclose(f);
}

/* Connect as root; -errno when nothing answers. */
static int connect_raw(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static bool start_daemon(void)
{
	int64_t deadline = now_ms() + 30000;
	int fd;

	unlink(prom_path);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		int lf = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		dup2(lf, 1);
		dup2(lf, 2);
		execl(pagemigd_bin, pagemigd_bin, "--foreground", "--config", conf_path, "--socket",
		      sock_path, (char *)NULL);
		_exit(127);
	}
	while (now_ms() < deadline) {
		int st;

		if (waitpid(daemon_pid, &st, WNOHANG) == daemon_pid) {
			fprintf(stderr, "pagemigd exited at start (status %d); log in %s\n", st,
				log_path);
			daemon_pid = -1;
			return false;
		}
		fd = connect_raw();
		if (fd >= 0) {
			close(fd);
			return true;
		}
		usleep(50000);
	}
	fprintf(stderr, "pagemigd did not listen on %s within 30 s\n", sock_path);
	return false;
}

/* SIGTERM; returns the exit status, -1 when it did not stop within 5 s. */
static int stop_daemon(void)
{
	int64_t deadline = now_ms() + 5000;
	int st;

	if (daemon_pid < 0)
		return -1;
	kill(daemon_pid, SIGTERM);
	while (waitpid(daemon_pid, &st, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(daemon_pid, SIGKILL);
			waitpid(daemon_pid, &st, 0);
			daemon_pid = -1;
			return -1;
		}
		usleep(10000);
	}
	daemon_pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- a workload to move ------------------------------------------------------------------- */

struct workload {
	pid_t pid;
	uintptr_t addr;
	size_t len;
};

static struct workload start_workload(size_t len)
{
	struct workload w = {.len = len};
	int p[2];

	if (pipe(p))
		abort();
	w.pid = fork();
	if (w.pid == 0) {
		char *m =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		for (size_t i = 0; i < len; i += 4096)
			m[i] = (char)i;
		(void)!write(p[1], &m, sizeof(m));
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &w.addr, sizeof(w.addr)) != sizeof(w.addr))
		abort();
	close(p[0]);
	return w;
}

static void stop_workload(struct workload *w)
{
	kill(w->pid, SIGKILL);
	waitpid(w->pid, NULL, 0);
}

/* ---- raw protocol ---------------------------------------------------------------------------- */

static bool send_bytes(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n;
}

static bool send_frame(int fd, const char *payload, size_t n)
{
	uint8_t h[4];

	ctl_frame_put_len(h, (uint32_t)n);
	return send_bytes(fd, h, 4) && send_bytes(fd, payload, n);
}

/* One reply within ms; 0 and *r, or -1 (timeout, closed, malformed). */
static int recv_reply(int fd, int ms, struct ctl_reply *r)
{
	uint8_t h[4];
	size_t got = 0, len;
	char *buf;
	int64_t deadline = now_ms() + ms;

	memset(r, 0, sizeof(*r));
	while (got < 4) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			return -1;
		n = recv(fd, h + got, 4 - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	len = ctl_frame_get_len(h);
	if (!len || len > PAGEMIG_MAX_REPLY)
		return -1;
	buf = malloc(len);
	for (got = 0; got < len;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0 ||
		    (n = recv(fd, buf + got, len - got, 0)) <= 0) {
			free(buf);
			return -1;
		}
		got += (size_t)n;
	}
	got = (size_t)ctl_reply_decode(buf, len, r);
	free(buf);
	return got ? -1 : 0;
}

/* The connection is closed by the daemon within ms. */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	return poll(&p, 1, ms) > 0 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static const char status_req[] = "{\"version\":1,\"command\":\"status\"}";

/* A fresh client gets a status answer within ms. */
static bool status_works(int ms)
{
	struct ctl_reply r;
	int fd = connect_raw();
	bool ok;

	if (fd < 0)
		return false;
	ok = send_frame(fd, status_req, strlen(status_req)) && !recv_reply(fd, ms, &r) && r.ok;
	ctl_reply_free(&r);
	close(fd);
	return ok;
}

/* Send payload as a request on fd and expect an error reply with code. */
static void expect_error(int fd, const char *payload, const char *code)
{
	struct ctl_reply r;

	CHECK(send_frame(fd, payload, strlen(payload)));
	CHECK(recv_reply(fd, 5000, &r) == 0);
	CHECK(!r.ok);
	if (r.error_code && strcmp(r.error_code, code))
		fprintf(stderr, "for %s: got %s (%s), expected %s\n", payload, r.error_code,
			r.error_message, code);
	CHECK(r.error_code && !strcmp(r.error_code, code));
	ctl_reply_free(&r);
}

/* ---- the tests ----------------------------------------------------------------------------- */

static void test_status(void)
{
	struct run r;
	struct json_object *o, *nodes, *n0;

	ctl(&r, &ROOT, "status", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "pagemigd ") && strstr(r.out, "SOURCE"));
	CHECK(strstr(r.out, observe ? "observing" : "enforcing"));

	ctl(&r, &ROOT, "--json", "status", NULL);
	CHECK_EQ(r.status, 0);
	o = parse_json(r.out);
	CHECK(o);
	CHECK(member(o, "version", json_type_string));
	CHECK(!strcmp(json_object_get_string(member(o, "mode", json_type_string)),
		      observe ? "observe" : "enforce"));
	CHECK(member(o, "uptime_s", json_type_int));
	CHECK(member(o, "sources", json_type_array));
	CHECK(json_object_array_length(member(o, "sources", json_type_array)) >= 1);
	CHECK(member(o, "managed_processes", json_type_int));
	CHECK(member(o, "pages_moved", json_type_int));
	CHECK(member(o, "pages_failed", json_type_int));
	nodes = member(o, "nodes", json_type_array);
	CHECK(nodes && json_object_array_length(nodes) >= 1);
	n0 = nodes ? json_object_array_get_idx(nodes, 0) : NULL;
	CHECK(member(n0, "id", json_type_int));
	CHECK(member(n0, "cpus", json_type_string));
	CHECK(member(n0, "mem_total_bytes", json_type_int));
	CHECK(member(n0, "mem_free_bytes", json_type_int));
	CHECK(member(n0, "memory_only", json_type_boolean));
	CHECK(member(n0, "distances", json_type_array));
	json_object_put(o);
}

/* Every read-only command, human and JSON. */
static void test_read_commands(void)
{
	char self[16];
	struct {
		const char *args[4];
		const char *key; /* a member the JSON result has */
		json_type type;
	} cmds[] = {
		{{"status"}, "nodes", json_type_array},
		{{"nodes"}, "nodes", json_type_array},
		{{"procs"}, "processes", json_type_array},
		{{"procs", "--sort", "moved"}, "total", json_type_int},
		{{"proc", self}, "mappings", json_type_array},
		{{"proc", self, "--top", "5"}, "hot_pages", json_type_array},
		{{"history"}, "decisions", json_type_array},
		{{"history", "--limit", "3"}, "total", json_type_int},
		{{"audit"}, "movers", json_type_array},
		{{"config"}, "text", json_type_string},
		{{"config", "--changed"}, "text", json_type_string},
		{{"metrics"}, "text", json_type_string},
	};

	snprintf(self, sizeof(self), "%d", (int)getpid());
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *const *a = cmds[i].args;
		struct run r;
		struct json_object *o;

		ctl(&r, &ROOT, a[0], a[1], a[2], a[3], NULL);
		if (r.status)
			fprintf(stderr, "%s: exit %d: %s\n", a[0], r.status, r.err);
		CHECK_EQ(r.status, 0);
		CHECK(r.out[0]);
		ctl(&r, &ROOT, "--json", a[0], a[1], a[2], a[3], NULL);
		CHECK_EQ(r.status, 0);
		o = parse_json(r.out);
		CHECK(o);
		if (!member(o, cmds[i].key, cmds[i].type))
			fprintf(stderr, "in the answer to %s\n", a[0]);
		CHECK(member(o, cmds[i].key, cmds[i].type));
		json_object_put(o);
	}
}

static void test_proc(void)
{
	struct workload w = start_workload(8 << 20);
	char pid[16];
	struct run r;
	struct json_object *o, *maps;
	bool found = false;

	snprintf(pid, sizeof(pid), "%d", (int)w.pid);
	/*
	 * numa_maps counts present pages: a page that compaction is migrating right now is not
	 * one of them, and on a busy host that happens. Such a shortfall must be gone when asked
	 * again; a wrong count stays.
	 */
	for (int attempt = 0; attempt < 5; attempt++) {
		int64_t pages = -1;

		ctl(&r, &ROOT, "--json", "proc", pid, NULL);
		o = parse_json(r.out);
		maps = member(o, "mappings", json_type_array);
		for (size_t i = 0; maps && i < json_object_array_length(maps); i++) {
			struct json_object *m = json_object_array_get_idx(maps, i);
			char start[24];

			snprintf(start, sizeof(start), "0x%lx", (unsigned long)w.addr);
			if (!strcmp(json_object_get_string(member(m, "start", json_type_string)),
				    start))
				pages = json_object_get_int64(member(m, "pages", json_type_int));
		}
		if (pages == 2048 || attempt == 4)
			break;
		printf("  proc: %lld of 2048 pages present, asking again\n", (long long)pages);
		json_object_put(o);
		usleep(200000);
	}
	CHECK_EQ(r.status, 0);
	for (size_t i = 0; maps && i < json_object_array_length(maps); i++) {
		struct json_object *m = json_object_array_get_idx(maps, i);
		char start[24];

		snprintf(start, sizeof(start), "0x%lx", (unsigned long)w.addr);
		if (!strcmp(json_object_get_string(member(m, "start", json_type_string)), start)) {
			found = true;
			CHECK_EQ(json_object_get_int64(member(m, "pages", json_type_int)), 2048);
			CHECK(member(m, "pages_per_node", json_type_array));
			CHECK(!strcmp(json_object_get_string(member(m, "kind", json_type_string)),
				      "anon"));
		}
	}
	CHECK(found);
	json_object_put(o);
	ctl(&r, &ROOT, "proc", pid, NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "START") && strstr(r.out, "RESIDENT"));
	stop_workload(&w);
	ctl(&r, &ROOT, "--json", "proc", pid, NULL);
	CHECK_EQ(r.status, 1);
	o = parse_json(r.out);
	CHECK(!strcmp(error_code(o), "ESRCH"));
	json_object_put(o);
}

static void test_move(void)
{
	struct workload w = start_workload(16 << 20);
	char pid[16], range[64], bad[64];
	struct run r;
	struct json_object *o, *rep;

	snprintf(pid, sizeof(pid), "%d", (int)w.pid);
	/* the middle half of the mapping */
	snprintf(range, sizeof(range), "%lx-%lx", (unsigned long)(w.addr + w.len / 4),
		 (unsigned long)(w.addr + w.len / 4 * 3));
	ctl(&r, &ROOT, "--json", "move", pid, "--to", "0", "--range", range, NULL);
	o = parse_json(r.out);
	if (observe) {
		CHECK_EQ(r.status, 1);
		CHECK(!strcmp(error_code(o), "ENOTSUP"));
		CHECK(strstr(r.err, "observe mode"));
		json_object_put(o);
		stop_workload(&w);
		return;
	}
	if (r.status)
		fprintf(stderr, "move: %s", r.err);
	CHECK_EQ(r.status, 0);
	CHECK(json_object_get_boolean(member(o, "completed", json_type_boolean)));
	rep = member(o, "report", json_type_object);
	/* every page of the range is resident and was on node 0 already (or moved there) */
	CHECK_EQ(json_object_get_int64(member(rep, "pages", json_type_int)), 2048);
	CHECK_EQ(json_object_get_int64(member(rep, "pages_on_target", json_type_int)), 2048);
	CHECK(member(rep, "by_outcome", json_type_object));
	CHECK(member(rep, "by_step", json_type_object));
	json_object_put(o);

	/* human: the library's report */
	ctl(&r, &ROOT, "move", pid, "--to", "0", "--range", range, NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "on target") && strstr(r.out, "outcomes:"));
	/* the whole process */
	ctl(&r, &ROOT, "move", pid, "--to", "0", NULL);
	CHECK_EQ(r.status, 0);

	/* refusals */
	snprintf(bad, sizeof(bad), "%lx-%lx", 0x1000ul, 0x2000ul);
	ctl(&r, &ROOT, "--json", "move", pid, "--to", "0", "--range", bad, NULL);
	CHECK_EQ(r.status, 1);
	o = parse_json(r.out);
	CHECK(!strcmp(error_code(o), "EINVAL"));
	json_object_put(o);
	ctl(&r, &ROOT, "--json", "move", pid, "--to", "63", NULL);
	CHECK_EQ(r.status, 1);
	o = parse_json(r.out);
	CHECK(!strcmp(error_code(o), "ENODEV"));
	json_object_put(o);
	ctl(&r, &ROOT, "move", "999999999", "--to", "0", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(strstr(r.err, "no process"));
	ctl(&r, &ROOT, "move", pid, NULL);
	CHECK_EQ(r.status, 2);
	ctl(&r, &ROOT, "move", pid, "--to", "0", "--range", "2000-1000", NULL);
	CHECK_EQ(r.status, 2);

	/* the moves are in the history, named manual, newest first */
	ctl(&r, &ROOT, "--json", "history", "--pid", pid, NULL);
	CHECK_EQ(r.status, 0);
	o = parse_json(r.out);
	{
		struct json_object *a = member(o, "decisions", json_type_array);
		struct json_object *d =
			a && json_object_array_length(a) ? json_object_array_get_idx(a, 0) : NULL;

		CHECK(a && json_object_array_length(a) == 3);
		CHECK(d && !strcmp(json_object_get_string(member(d, "source", json_type_string)),
				   "manual"));
		CHECK(d && json_object_get_int(member(d, "to", json_type_int)) == 0);
		CHECK(d && member(d, "outcome", json_type_string));
	}
	json_object_put(o);
	ctl(&r, &ROOT, "history", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "manual"));
	ctl(&r, &ROOT, "--json", "audit", NULL);
	CHECK_EQ(r.status, 0);
	o = parse_json(r.out);
	CHECK(member(o, "last_manual_move", json_type_object));
	json_object_put(o);
	ctl(&r, &ROOT, "--json", "status", NULL);
	o = parse_json(r.out);
	CHECK(json_object_get_int64(member(o, "pages_moved_manual", json_type_int)) >= 0);
	json_object_put(o);
	stop_workload(&w);
}

static void test_pause_resume_reload(void)
{
	struct run r;
	struct json_object *o;

	ctl(&r, &ROOT, "pause", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "paused"));
	ctl(&r, &ROOT, "--json", "status", NULL);
	o = parse_json(r.out);
	CHECK(json_object_get_boolean(member(o, "paused", json_type_boolean)));
	json_object_put(o);
	ctl(&r, &ROOT, "--json", "pause", NULL);
	o = parse_json(r.out);
	CHECK(json_object_get_boolean(member(o, "was_paused", json_type_boolean)));
	json_object_put(o);
	ctl(&r, &ROOT, "resume", NULL);
	CHECK_EQ(r.status, 0);
	ctl(&r, &ROOT, "--json", "status", NULL);
	o = parse_json(r.out);
	CHECK(!json_object_get_boolean(member(o, "paused", json_type_boolean)));
	json_object_put(o);

	ctl(&r, &ROOT, "--json", "reload", NULL);
	CHECK_EQ(r.status, 0);
	o = parse_json(r.out);
	CHECK(member(o, "policies", json_type_int));
	CHECK(member(o, "warnings", json_type_array));
	json_object_put(o);

	/* a bad file: refused with its own message, the running configuration stays */
	write_config("[nosuchsection]\n");
	ctl(&r, &ROOT, "--json", "reload", NULL);
	CHECK_EQ(r.status, 1);
	o = parse_json(r.out);
	CHECK(!strcmp(error_code(o), "EINVAL"));
	CHECK(strstr(r.err, conf_path) && strstr(r.err, "running configuration stays"));
	json_object_put(o);
	CHECK(status_works(5000));
	write_config("");
	ctl(&r, &ROOT, "reload", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "reloaded"));
}

static void check_prom(const char *text, const char *what)
{
	struct prom_result res;
	double up = 0;

	if (prom_check(text, strlen(text), "pagemig_", &res)) {
		fprintf(stderr, "%s: invalid Prometheus text at line %u: %s\n", what, res.line,
			res.error);
		CHECK(!"strict Prometheus text");
		return;
	}
	CHECK(res.families > 20);
	CHECK(prom_value(text, "pagemig_up", &up) == 0 && up == 1);
}

/* A port nothing listens on now (the daemon takes it a moment later). */
static unsigned int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned int port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* GET path from the metrics listener; the whole response in buf. */
static bool http_get(const char *request, char *buf, size_t cap)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int64_t deadline = now_ms() + 5000;
	size_t n = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    !send_bytes(fd, request, strlen(request))) {
		close(fd);
		return false;
	}
	while (n < cap - 1 && now_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t got;

		if (poll(&p, 1, 500) <= 0)
			continue;
		got = recv(fd, buf + n, cap - 1 - n, 0);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = 0;
	return n > 0;
}

static void test_metrics(void)
{
	struct run r;
	struct json_object *o;
	char *file = NULL;
	size_t n = 0;
	FILE *f;
	double v = -1;

	ctl(&r, &ROOT, "metrics", NULL);
	CHECK_EQ(r.status, 0);
	check_prom(r.out, "pagemigctl metrics");
	CHECK(prom_value(r.out, "pagemig_observe_mode", &v) == 0 && v == observe);

	ctl(&r, &ROOT, "--json", "metrics", NULL);
	o = parse_json(r.out);
	check_prom(json_object_get_string(member(o, "text", json_type_string)), "--json metrics");
	json_object_put(o);

	/* over HTTP */
	if (http_port) {
		static char resp[262144];
		const char *body;

		CHECK(http_get("GET /metrics HTTP/1.0\r\n\r\n", resp, sizeof(resp)));
		CHECK(!strncmp(resp, "HTTP/1.0 200 OK\r\n", 17));
		CHECK(strstr(resp, "Content-Type: text/plain; version=0.0.4"));
		body = strstr(resp, "\r\n\r\n");
		CHECK(body);
		if (body)
			check_prom(body + 4, "GET /metrics");
		CHECK(http_get("GET /other HTTP/1.0\r\n\r\n", resp, sizeof(resp)));
		CHECK(strstr(resp, "404 Not Found"));
		ctl(&r, &ROOT, "--json", "status", NULL);
		o = parse_json(r.out);
		{
			char want[32];

			snprintf(want, sizeof(want), "127.0.0.1:%u", http_port);
			CHECK(!strcmp(json_object_get_string(
					      member(o, "metrics_listen", json_type_string)),
				      want));
		}
		json_object_put(o);
	}

	/* the textfile: written each cycle (300 ms) */
	usleep(700000);
	f = fopen(prom_path, "re");
	CHECK(f);
	if (f) {
		char buf[65536];

		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
		file = buf;
		check_prom(file, prom_path);
	}
}

static void test_outsider(void)
{
	struct as nobody = {.uid = 65534, .gid = 65534};
	struct run r;
	struct json_object *o;

	if (!outsider_can_run) {
		printf("skip: uid 65534 cannot execute %s\n", ctl_bin);
		return;
	}
	ctl(&r, &nobody, "status", NULL);
	CHECK_EQ(r.status, 4);
	CHECK(strstr(r.err, "permission denied") && strstr(r.err, "Run as root or join"));
	ctl(&r, &nobody, "--json", "pause", NULL);
	CHECK_EQ(r.status, 4);
	o = parse_json(r.out);
	CHECK(!strcmp(error_code(o), "EACCES"));
	json_object_put(o);
}

static void test_group_member(void)
{
	gid_t groups[1] = {group_gid};
	struct as member_of = {.uid = 65534, .gid = 65534, .groups = groups, .ngroups = 1};
	struct run r;
	struct json_object *o;
	char dpid[16];
	static const char *const writers[] = {"pause", "resume", "reload"};

	if (!have_group) {
		printf("skip: no temporary group (groupadd failed)\n");
		return;
	}
	if (!outsider_can_run) {
		printf("skip: uid 65534 cannot execute %s\n", ctl_bin);
		return;
	}
	ctl(&r, &member_of, "status", NULL);
	CHECK_EQ(r.status, 0);
	ctl(&r, &member_of, "--json", "history", NULL);
	CHECK_EQ(r.status, 0);
	ctl(&r, &member_of, "metrics", NULL);
	CHECK_EQ(r.status, 0);
	for (size_t i = 0; i < 3; i++) {
		ctl(&r, &member_of, "--json", writers[i], NULL);
		CHECK_EQ(r.status, 4);
		o = parse_json(r.out);
		CHECK(!strcmp(error_code(o), "EPERM"));
		CHECK(strstr(r.err, "run it as root"));
		json_object_put(o);
	}
	snprintf(dpid, sizeof(dpid), "%d", (int)daemon_pid);
	ctl(&r, &member_of, "--json", "move", dpid, "--to", "0", NULL);
	CHECK_EQ(r.status, 4);
	o = parse_json(r.out);
	CHECK(!strcmp(error_code(o), "EPERM"));
	json_object_put(o);
	/* root's process: its mappings are not for group members */
	ctl(&r, &member_of, "--json", "proc", dpid, NULL);
	CHECK_EQ(r.status, 4);
	o = parse_json(r.out);
	CHECK(!strcmp(error_code(o), "EACCES"));
	json_object_put(o);
	/* the daemon is still as it was */
	ctl(&r, &ROOT, "--json", "status", NULL);
	o = parse_json(r.out);
	CHECK(!json_object_get_boolean(member(o, "paused", json_type_boolean)));
	json_object_put(o);
}

static void test_bad_clients(void)
{
	struct ctl_reply r;
	uint8_t h[4];
	int fd, silent, half, many[40];

	/* garbage, then a good request on the same connection: the stream stays in sync */
	fd = connect_raw();
	expect_error(fd, "hello", "EPROTO");
	expect_error(fd, "[1,2]", "EPROTO");
	expect_error(fd, "{\"version\":2,\"command\":\"status\"}", "EPROTO");
	expect_error(fd, "{\"version\":1}", "EINVAL");
	expect_error(fd, "{\"version\":1,\"command\":\"nosuch\"}", "ENOSYS");
	expect_error(fd, "{\"version\":1,\"command\":\"status\",\"args\":[]}", "EINVAL");
	expect_error(fd, "{\"version\":1,\"command\":\"status\",\"args\":{\"x\":1}}", "EINVAL");
	expect_error(fd, "{\"version\":1,\"command\":\"history\",\"args\":{\"limit\":\"x\"}}",
		     "EINVAL");
	expect_error(fd, "{\"version\":1,\"command\":\"status\"} {}", "EPROTO");
	CHECK(send_frame(fd, status_req, strlen(status_req)));
	CHECK(recv_reply(fd, 5000, &r) == 0 && r.ok);
	ctl_reply_free(&r);
	close(fd);

	/* oversized: refused with E2BIG, then the connection is closed */
	fd = connect_raw();
	ctl_frame_put_len(h, 1u << 20);
	CHECK(send_bytes(fd, h, 4));
	CHECK(recv_reply(fd, 5000, &r) == 0 && !r.ok && !strcmp(r.error_code, "E2BIG"));
	ctl_reply_free(&r);
	CHECK(closed_within(fd, 5000));
	close(fd);
	/* a zero-length frame likewise */
	fd = connect_raw();
	ctl_frame_put_len(h, 0);
	CHECK(send_bytes(fd, h, 4));
	CHECK(recv_reply(fd, 5000, &r) == 0 && !r.ok && !strcmp(r.error_code, "E2BIG"));
	ctl_reply_free(&r);
	close(fd);

	/* truncated: a header for 100 bytes, 10 of them, hang up */
	fd = connect_raw();
	ctl_frame_put_len(h, 100);
	CHECK(send_bytes(fd, h, 4) && send_bytes(fd, "{\"version\"", 10));
	close(fd);
	CHECK(status_works(2000));

	/* silent clients (one with half a header) do not hold anyone up */
	silent = connect_raw();
	half = connect_raw();
	CHECK(silent >= 0 && half >= 0);
	CHECK(send_bytes(half, h, 2));
	{
		int64_t t0 = now_ms();

		CHECK(status_works(2000));
		CHECK(now_ms() - t0 < 1000);
	}

	/* more clients than the daemon keeps: the extra ones are cut, the daemon carries on */
	for (int i = 0; i < 40; i++)
		many[i] = connect_raw();
	usleep(200000);
	for (int i = 0; i < 40; i++)
		if (many[i] >= 0)
			close(many[i]);
	usleep(200000);
	CHECK(status_works(2000));

	/* a client that sends but never reads: others are served meanwhile */
	fd = connect_raw();
	for (int i = 0; i < 300; i++)
		if (!send_frame(fd, status_req, strlen(status_req)))
			break;
	CHECK(status_works(2000));
	close(fd);

	/* the silent ones are dropped after the idle timeout (10 s) */
	if (!observe) {
		CHECK(closed_within(silent, PAGEMIG_CONTROL_IDLE_MS + 3000));
		CHECK(closed_within(half, 2000));
	}
	close(silent);
	close(half);
	CHECK(status_works(2000));
}

static void test_usage(void)
{
	struct run r;

	ctl(&r, &ROOT, "--help", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "Exit status:") && strstr(r.out, "move PID --to NODE"));
	ctl(&r, &ROOT, "nosuch", NULL);
	CHECK_EQ(r.status, 2);
	CHECK(strstr(r.err, "unknown command"));
	ctl(&r, &ROOT, "status", "--to", "1", NULL);
	CHECK_EQ(r.status, 2);
	ctl(&r, &ROOT, "proc", NULL);
	CHECK_EQ(r.status, 2);
	ctl(&r, &ROOT, "history", "--limit", "0", NULL);
	CHECK_EQ(r.status, 2);
	{
		/* no daemon there */
		char saved[sizeof(sock_path)];

		memcpy(saved, sock_path, sizeof(saved));
		snprintf(sock_path, sizeof(sock_path), "%s/none.sock", dir);
		ctl(&r, &ROOT, "status", NULL);
		memcpy(sock_path, saved, sizeof(saved));
		CHECK_EQ(r.status, 3);
		CHECK(strstr(r.err, "systemctl status pagemigd"));
	}
}

static void test_stop(void)
{
	char buf[8192];
	size_t n;
	FILE *f;
	double up = 1;

	CHECK_EQ(stop_daemon(), 0);
	CHECK(access(sock_path, F_OK) < 0);
	f = fopen(prom_path, "re");
	CHECK(f);
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	CHECK(prom_value(buf, "pagemig_up", &up) == 0 && up == 0);
}

static void cleanup(void)
{
	char cmd[128];

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
	}
	if (have_group) {
		snprintf(cmd, sizeof(cmd), "groupdel %s", group_name);
		if (system(cmd))
			fprintf(stderr, "could not remove group %s\n", group_name);
		have_group = false;
	}
	unlink(sock_path); /* left behind by a daemon that died */
	unlink(conf_path);
	unlink(prom_path);
	unlink(log_path);
	rmdir(dir);
}

static void on_signal(int sig)
{
	cleanup();
	_exit(128 + sig);
}

int main(int argc, char **argv)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_status),       CHECK_TEST(test_read_commands),
		CHECK_TEST(test_proc),	       CHECK_TEST(test_move),
		CHECK_TEST(test_metrics),      CHECK_TEST(test_outsider),
		CHECK_TEST(test_group_member), CHECK_TEST(test_pause_resume_reload),
		CHECK_TEST(test_bad_clients),  CHECK_TEST(test_usage),
		CHECK_TEST(test_stop),
	};
	int failed = 0;
	char cmd[128];

	if (argc != 3) {
		fprintf(stderr, "usage: %s PAGEMIGD PAGEMIGCTL\n", argv[0]);
		return 2;
	}
	pagemigd_bin = argv[1];
	ctl_bin = argv[2];
	if (geteuid() != 0)
		SKIP_ALL("needs root (BPF, other users' credentials, groupadd)");
	if (access(pagemigd_bin, X_OK) || access(ctl_bin, X_OK))
		SKIP_ALL("%s or %s not built", pagemigd_bin, ctl_bin);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(cleanup);

	snprintf(dir, sizeof(dir), "/tmp/pagemig-ctl-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	/* others must reach the socket inside (its own mode decides who may connect) */
	chmod(dir, 0755);
	snprintf(sock_path, sizeof(sock_path), "%s/pagemigd.sock", dir);
	snprintf(conf_path, sizeof(conf_path), "%s/pagemig.conf", dir);
	snprintf(prom_path, sizeof(prom_path), "%s/pagemig.prom", dir);
	snprintf(log_path, sizeof(log_path), "%s/pagemigd.log", dir);
	/*
	 * A checkout in a folder only root may enter (mktemp -d makes 0700 ones) leaves uid 65534
	 * unable to start pagemigctl at all (exec fails, status 127): say so instead of failing
	 * on it. CI must run these cases.
	 */
	outsider_can_run = can_execute(&(struct as){.uid = 65534, .gid = 65534});
	if (!outsider_can_run) {
		fprintf(stderr,
			"%s: uid 65534 cannot execute %s (a folder above it is not "
			"searchable by others); the cases run as another user are %s\n",
			argv[0], ctl_bin, getenv("CI") ? "failed (CI is set)" : "skipped");
		if (getenv("CI"))
			return 1;
	}
	snprintf(group_name, sizeof(group_name), "pmctl%d", (int)getpid() % 100000);
	snprintf(cmd, sizeof(cmd), "groupadd %s 2>/dev/null", group_name);
	if (system(cmd) == 0) {
		struct group *g = getgrnam(group_name);

		have_group = g != NULL;
		group_gid = g ? g->gr_gid : 0;
	}

	for (int mode = 0; mode < 2; mode++) {
		observe = mode == 0;
		http_port = free_port();
		printf("# %s mode\n", observe ? "observe" : "enforce");
		write_config("");
		if (!start_daemon()) {
			char tail[256];

			snprintf(tail, sizeof(tail), "tail -20 %s >&2", log_path);
			(void)!system(tail);
			return 1;
		}
		failed |= check_run(tests, sizeof(tests) / sizeof(tests[0]));
		if (failed) {
			char tail[256];

			snprintf(tail, sizeof(tail), "tail -30 %s >&2", log_path);
			(void)!system(tail);
		}
		unlink(log_path);
	}
	return failed ? 1 : 0;
}
