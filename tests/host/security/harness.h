/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-test harness for pagemigd (tests/host/security, faults, load): a private directory with a
 * configuration, a socket and a log; the daemon started and stopped; raw protocol requests
 * (docs/control-protocol.md) on the socket, also as another user. Header-only; json-c.
 */
#ifndef PAGEMIG_TEST_HARNESS_H
#define PAGEMIG_TEST_HARNESS_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct hd {
	const char *pagemigd;
	char dir[64];
	char conf[160];
	char sock[160];
	char log[160];
	pid_t pid;
};

static inline double hd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fresh directory /tmp/pagemig-NAME-XXXXXX, searchable by everyone (tests as other users). */
static inline void hd_init(struct hd *h, const char *pagemigd, const char *name)
{
	memset(h, 0, sizeof(*h));
	h->pagemigd = pagemigd;
	snprintf(h->dir, sizeof(h->dir), "/tmp/pagemig-%s-XXXXXX", name);
	if (!mkdtemp(h->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(h->dir, 0755);
	snprintf(h->conf, sizeof(h->conf), "%s/pagemig.conf", h->dir);
	snprintf(h->sock, sizeof(h->sock), "%s/pagemigd.sock", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/pagemigd.log", h->dir);
}

/* Write path with exactly this mode (not the umask's). */
static inline void hd_write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[4200];
	int fd;

	/* a new file renamed over the old one: a reader sees the old or the new, never half */
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		perror(path);
		exit(1);
	}
}

/* [daemon] with the socket in the test's directory, then extra. */
static inline void hd_write_conf(struct hd *h, const char *daemon_extra, const char *extra,
				 mode_t mode)
{
	char text[8192];

	snprintf(text, sizeof(text), "[daemon]\nsocket = %s\n%s%s", h->sock,
		 daemon_extra ? daemon_extra : "", extra ? extra : "");
	hd_write_file(h->conf, text, mode);
}

/* One request, one reply on a connected socket; the reply parsed into *ret. */
static inline int hd_roundtrip(int fd, const char *json, struct json_object **ret)
{
	uint32_t len = (uint32_t)strlen(json), n;
	uint8_t hdr[4] = {len >> 24, len >> 16, len >> 8, len};
	char *buf;
	size_t got = 0;

	*ret = NULL;
	if (send(fd, hdr, 4, MSG_NOSIGNAL) != 4 || send(fd, json, len, MSG_NOSIGNAL) != len)
		return -errno;
	while (got < 4) {
		ssize_t r = recv(fd, hdr + got, 4 - got, 0);

		if (r <= 0)
			return r ? -errno : -ECONNRESET;
		got += (size_t)r;
	}
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	buf = malloc(n + 1);
	for (got = 0; got < n;) {
		ssize_t r = recv(fd, buf + got, n - got, 0);

		if (r <= 0) {
			free(buf);
			return r ? -errno : -ECONNRESET;
		}
		got += (size_t)r;
	}
	buf[n] = 0;
	*ret = json_tokener_parse(buf);
	free(buf);
	return *ret ? 0 : -EPROTO;
}

static inline int hd_connect(const char *sock)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 10};

	if (strlen(sock) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Connect, ask, hang up. */
static inline int hd_request(const char *sock, const char *json, struct json_object **ret)
{
	int fd = hd_connect(sock), err;

	*ret = NULL;
	if (fd < 0)
		return fd;
	err = hd_roundtrip(fd, json, ret);
	close(fd);
	return err;
}

/* "EPERM" for an error reply, "" for success, "?" for anything else. */
static inline const char *hd_code(struct json_object *reply)
{
	struct json_object *ok, *e, *c;

	if (!reply || !json_object_object_get_ex(reply, "ok", &ok))
		return "?";
	if (json_object_get_boolean(ok))
		return "";
	if (json_object_object_get_ex(reply, "error", &e) &&
	    json_object_object_get_ex(e, "code", &c))
		return json_object_get_string(c);
	return "?";
}

/* reply.result.KEY (NULL when absent) */
static inline struct json_object *hd_result(struct json_object *reply, const char *key)
{
	struct json_object *r, *v;

	if (!reply || !json_object_object_get_ex(reply, "result", &r))
		return NULL;
	if (!key)
		return r;
	return json_object_object_get_ex(r, key, &v) ? v : NULL;
}

/* Start pagemigd -f -c CONF (with env entries "NAME=VALUE" added, NULL-terminated) and wait up
 * to 15 s for its socket to answer. Returns 0 when it answers, else the exit status (or -1). */
static inline int hd_start_env(struct hd *h, const char *const env[], const char *extra_arg)
{
	h->pid = fork();
	if (h->pid == 0) {
		int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		dup2(fd, STDERR_FILENO);
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execl(h->pagemigd, "pagemigd", "-f", "-c", h->conf, extra_arg, (char *)NULL);
		_exit(127);
	}
	for (double t0 = hd_now(); hd_now() - t0 < 15;) {
		struct json_object *r;
		int ws;

		if (waitpid(h->pid, &ws, WNOHANG) == h->pid) {
			h->pid = 0;
			return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
		}
		if (hd_request(h->sock, "{\"version\":1,\"command\":\"status\"}", &r) == 0) {
			json_object_put(r);
			return 0;
		}
		usleep(50000);
	}
	return -1;
}

static inline int hd_start(struct hd *h)
{
	return hd_start_env(h, NULL, NULL);
}

/* SIGTERM and wait: the exit status (128 + signal when killed). */
static inline int hd_stop(struct hd *h)
{
	int ws = 0;

	if (h->pid <= 0)
		return -1;
	kill(h->pid, SIGTERM);
	waitpid(h->pid, &ws, 0);
	h->pid = 0;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Lines of the daemon's log that contain needle. */
static inline int hd_log_count(const struct hd *h, const char *needle)
{
	char line[2048];
	int hits = 0;
	FILE *f = fopen(h->log, "r");

	while (f && fgets(line, sizeof(line), f))
		hits += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return hits;
}

/* Wait up to secs for needle to appear in the log. */
static inline bool hd_log_wait(const struct hd *h, const char *needle, double secs)
{
	for (double t0 = hd_now(); hd_now() - t0 < secs; usleep(50000))
		if (hd_log_count(h, needle))
			return true;
	return false;
}

static inline void hd_print_log(const struct hd *h)
{
	char line[2048];
	FILE *f = fopen(h->log, "r");

	while (f && fgets(line, sizeof(line), f))
		printf("    | %s", line);
	if (f)
		fclose(f);
}

/* Remove the test's directory and what is in it (one level). */
static inline void hd_cleanup(struct hd *h)
{
	char cmd[128];

	if (h->pid > 0)
		hd_stop(h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (strncmp(h->dir, "/tmp/pagemig-", 13) == 0)
		(void)!system(cmd);
}

/* Run fn(arg) in a child as uid/gid with the supplementary groups given; returns its exit
 * status (fn's return value). */
static inline int hd_as_user(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
			     int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int ws = 0;

	if (pid == 0) {
		if (setgroups(n_groups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
			perror("dropping to the test user");
			_exit(100);
		}
		fflush(stdout);
		_exit(fn(arg));
	}
	waitpid(pid, &ws, 0);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* The open descriptors of pid by kind, in one pass over /proc/PID/fd: pidfds (one per process
 * the daemon manages), transient ones (files under /proc and /sys it is reading right now), and
 * the others (its sockets, epoll, timers, BPF objects: constant while it runs). With list set,
 * each of the others is also printed there with what it points to. -1 on error. */
static inline int hd_fd_kinds(pid_t pid, int *pidfds, int *transient, int *others, FILE *list)
{
	char path[64], link[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*pidfds = *transient = *others = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char fdpath[384];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n < 0)
			continue; /* closed meanwhile */
		link[n] = 0;
		if (!strcmp(link, "anon_inode:[pidfd]"))
			++*pidfds;
		else if (!strncmp(link, "/proc/", 6) || !strncmp(link, "/sys/", 5))
			++*transient;
		else {
			++*others;
			if (list)
				fprintf(list, "    fd %s -> %s\n", de->d_name, link);
		}
	}
	closedir(d);
	return 0;
}

/* pid runs with AddressSanitizer (its quarantine keeps freed memory: RSS says little then). */
static inline bool hd_is_asan(pid_t pid)
{
	char path[64], line[512];
	bool asan = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	while (f && !asan && fgets(line, sizeof(line), f))
		asan = strstr(line, "libasan") != NULL;
	if (f)
		fclose(f);
	return asan;
}

/* VmRSS of pid in KiB. */
static inline long hd_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

#endif
