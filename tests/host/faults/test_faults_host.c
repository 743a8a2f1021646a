// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigd under faults on the running kernel (root; skipped otherwise):
 *
 *   bpf_load_fails     a BPF program is refused at load (bpf_fail_preload.so): the daemon runs
 *                      with the other sources and says which one is missing and why (log,
 *                      status, metrics)
 *   socket_dir_gone    the socket's directory is removed under the running daemon: it notices
 *                      within a cycle, says so, and listens again; a socket file replaced by
 *                      another file likewise
 *   stale_socket       the daemon is killed (SIGKILL) and leaves its socket behind: the next one
 *                      starts cleanly on the same path; a live daemon's socket is not taken
 *   config_replaced    the configuration file is replaced again and again while reloads run:
 *                      renamed over, every reload takes one whole file; rewritten in place, a
 *                      reload that reads it empty, or sees it change, refuses it; the daemon
 *                      never dies and ends on the last good file
 *
 *   test_faults_host PAGEMIGD BPF_FAIL_PRELOAD
 */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "harness.h"

static const char *pagemigd, *preload;

static struct json_object *status_of(const struct hd *h)
{
	struct json_object *r = NULL;

	if (hd_request(h->sock, "{\"version\":1,\"command\":\"status\"}", &r)) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

/* The state of source name in a status reply ("" when not found). */
static const char *source_state(struct json_object *st, const char *name, const char **detail)
{
	struct json_object *a = hd_result(st, "sources");

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i), *v;

		if (json_object_object_get_ex(s, "name", &v) &&
		    !strcmp(json_object_get_string(v), name)) {
			if (detail && json_object_object_get_ex(s, "detail", &v))
				*detail = json_object_get_string(v);
			return json_object_object_get_ex(s, "state", &v) ? json_object_get_string(v)
									 : "";
		}
	}
	return "";
}

static void test_bpf_load_fails(void)
{
	char env_preload[512];
	const char *env[] = {env_preload, "PAGEMIG_TEST_FAIL_BPF=on_switch", NULL};
	struct json_object *st, *m = NULL, *text;
	const char *detail = "";
	struct hd h;
	long long cycles = 0;

	snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s", preload);
	hd_init(&h, pagemigd, "faults");
	hd_write_conf(&h, "interval = 200ms\n", "[sampler]\nsources = fault,oncpu,softdirty\n",
		      0644);
	CHECK_EQ(hd_start_env(&h, env, NULL), 0);
	CHECK(hd_log_count(&h, "failing BPF_PROG_LOAD of 'on_switch'"));
	/* said once, with the source's name and why */
	CHECK_EQ(hd_log_count(&h, "source oncpu: failed"), 1);
	st = status_of(&h);
	CHECK(st != NULL);
	CHECK(!strcmp(source_state(st, "oncpu", &detail), "failed"));
	printf("  oncpu: failed: %s\n", detail);
	CHECK(strstr(detail, "Invalid argument") != NULL);
	/* the others run */
	CHECK(!strcmp(source_state(st, "fault", NULL), "active"));
	json_object_put(st);
	/* and the daemon carries on: cycles go by */
	usleep(700000);
	st = status_of(&h);
	if (st)
		cycles = json_object_get_int64(hd_result(st, "cycles"));
	CHECK(cycles >= 3);
	json_object_put(st);
	/* the metrics say it too */
	CHECK(hd_request(h.sock, "{\"version\":1,\"command\":\"metrics\"}", &m) == 0);
	text = hd_result(m, "text");
	CHECK(text && strstr(json_object_get_string(text),
			     "pagemig_sampler_source_state{source=\"oncpu\",state=\"failed\"} 1"));
	json_object_put(m);
	CHECK_EQ(hd_stop(&h), 0);
	if (check_failures)
		hd_print_log(&h);
	hd_cleanup(&h);
}

static void test_socket_dir_gone(void)
{
	char sub[200], conf_extra[300], cmd[300];
	struct json_object *st;
	struct hd h;
	double t0;

	hd_init(&h, pagemigd, "faults");
	snprintf(sub, sizeof(sub), "%s/run", h.dir);
	snprintf(h.sock, sizeof(h.sock), "%s/run/pagemigd.sock", h.dir);
	snprintf(conf_extra, sizeof(conf_extra), "interval = 200ms\n");
	hd_write_conf(&h, conf_extra, NULL, 0644);
	CHECK_EQ(hd_start(&h), 0); /* creates run/ itself */

	/* a cleanup removes the whole directory */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sub);
	CHECK(system(cmd) == 0);
	t0 = hd_now();
	while (hd_now() - t0 < 5 && access(h.sock, F_OK) < 0)
		usleep(20000);
	printf("  socket back after %.2f s\n", hd_now() - t0);
	CHECK(hd_now() - t0 < 2);
	/* the file appears at bind(), a moment before the daemon listens and says so */
	CHECK(hd_log_wait(&h, "had vanished or been replaced", 3));
	st = status_of(&h);
	CHECK(st != NULL);
	json_object_put(st);
	CHECK_EQ(hd_log_count(&h, "had vanished or been replaced"), 1);

	/* the socket file replaced by something else (another file of that name) */
	CHECK(unlink(h.sock) == 0);
	hd_write_file(h.sock, "not a socket\n", 0644);
	CHECK(hd_log_wait(&h, "cannot be made again", 3));
	/* said once, not every cycle */
	usleep(600000);
	CHECK_EQ(hd_log_count(&h, "cannot be made again"), 1);
	/* gone again: the daemon listens again */
	CHECK(unlink(h.sock) == 0);
	t0 = hd_now();
	while (hd_now() - t0 < 5 && !(st = status_of(&h)))
		usleep(50000);
	CHECK(st != NULL);
	json_object_put(st);
	CHECK_EQ(hd_log_count(&h, "had vanished or been replaced"), 2);
	CHECK_EQ(hd_stop(&h), 0);
	/* its own socket removed at stop */
	CHECK(access(h.sock, F_OK) < 0);
	if (check_failures)
		hd_print_log(&h);
	hd_cleanup(&h);
}

static void test_stale_socket(void)
{
	struct hd h, other;
	int ws;

	hd_init(&h, pagemigd, "faults");
	hd_write_conf(&h, "interval = 200ms\n", NULL, 0644);
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(hd_start(&h), 0);
		kill(h.pid, SIGKILL);
		waitpid(h.pid, &ws, 0);
		h.pid = 0;
		CHECK(access(h.sock, F_OK) == 0); /* left behind */
	}
	CHECK_EQ(hd_start(&h), 0);
	/* a second daemon on the live socket refuses to start and leaves it alone */
	other = h;
	snprintf(other.log, sizeof(other.log), "%s/other.log", h.dir);
	other.pid = fork();
	if (other.pid == 0) {
		int fd = open(other.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		dup2(fd, STDERR_FILENO);
		execl(pagemigd, "pagemigd", "-f", "-c", other.conf, (char *)NULL);
		_exit(127);
	}
	waitpid(other.pid, &ws, 0);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 2);
	CHECK(hd_log_count(&other, "Address already in use"));
	{
		struct json_object *st = status_of(&h);

		CHECK(st != NULL);
		json_object_put(st);
	}
	CHECK_EQ(hd_stop(&h), 0);
	hd_cleanup(&h);
}

/* ---- the configuration replaced during reloads ------------------------------------------- */

static atomic_bool stop_writer;

struct writer {
	struct hd *h;
	bool torn; /* in place, in two halves: a reload may read half a file */
	char good[2][1024];
	unsigned long writes;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (unsigned long i = 0; !atomic_load(&stop_writer); i++) {
		const char *text = w->good[i % 2];

		if (w->torn) {
			int fd = open(w->h->conf, O_WRONLY | O_TRUNC | O_CLOEXEC);
			size_t n = strlen(text);

			if (fd >= 0) {
				(void)!write(fd, text, n / 3);
				usleep(300);
				(void)!write(fd, text + n / 3, n - n / 3);
				close(fd);
			}
		} else {
			hd_write_file(w->h->conf, text, 0644);
		}
		w->writes++;
		usleep(700);
	}
	return NULL;
}

/* The running configuration is good[0] or good[1], whole: 0 or 1; -1 for anything else. */
static int running(const struct hd *h)
{
	struct json_object *r = NULL;
	const char *text;
	int which = -1;

	if (hd_request(h->sock, "{\"version\":1,\"command\":\"config\"}", &r) == 0 &&
	    (text = json_object_get_string(hd_result(r, "text")))) {
		bool a = strstr(text, "interval = 1s") && strstr(text, "cooldown = 31s") &&
			 strstr(text, "[policy alpha]") && !strstr(text, "beta");
		bool b = strstr(text, "interval = 2s") && strstr(text, "cooldown = 32s") &&
			 strstr(text, "[policy beta]") && !strstr(text, "alpha");

		which = a ? 0 : b ? 1 : -1;
		if (which < 0)
			printf("  running neither file:\n%s\n", text);
	}
	json_object_put(r);
	return which;
}

/* Replace the file for secs while reloads (SIGHUP, and the reload command) keep coming; check
 * the running configuration between them when atomic. */
static void storm(struct hd *h, struct writer *w, bool torn, double secs)
{
	int reloads = 0, checks = 0, mixed = 0;
	pthread_t t;

	w->torn = torn;
	w->writes = 0;
	atomic_store(&stop_writer, false);
	pthread_create(&t, NULL, writer_main, w);
	for (double t0 = hd_now(); hd_now() - t0 < secs; reloads++) {
		kill(h->pid, SIGHUP);
		usleep(3000);
		if (reloads % 10 == 0) {
			struct json_object *x = NULL;

			hd_request(h->sock, "{\"version\":1,\"command\":\"reload\"}", &x);
			json_object_put(x);
			if (!torn) {
				checks++;
				mixed += running(h) < 0;
			}
		}
	}
	atomic_store(&stop_writer, true);
	pthread_join(t, NULL);
	printf("  %s: %d reloads asked while the file was replaced %lu times; %d checks, %d not "
	       "one whole file\n",
	       torn ? "torn in-place writes" : "atomic renames", reloads, w->writes, checks,
	       mixed);
	CHECK_EQ(mixed, 0);
	CHECK(waitpid(h->pid, NULL, WNOHANG) == 0); /* alive */
}

static void test_config_replaced(void)
{
	struct writer w = {0};
	struct hd h;
	int taken, refused;

	hd_init(&h, pagemigd, "faults");
	w.h = &h;
	/* two good files that differ in every section, so that part of one is not the other */
	snprintf(w.good[0], sizeof(w.good[0]),
		 "[daemon]\nsocket = %s\ninterval = 1s\n[migrate]\ncooldown = 31s\n"
		 "[policy alpha]\ncomm = alpha-*\ntype = locality\n[policy rest]\ntype = ignore\n",
		 h.sock);
	snprintf(w.good[1], sizeof(w.good[1]),
		 "[daemon]\nsocket = %s\ninterval = 2s\n[migrate]\ncooldown = 32s\n"
		 "[policy beta]\ncomm = beta-*\ntype = locality\n[policy rest]\ntype = ignore\n",
		 h.sock);
	hd_write_file(h.conf, w.good[0], 0644);
	CHECK_EQ(hd_start(&h), 0);

	/* renamed over: every reload reads one whole file */
	storm(&h, &w, false, 3);
	CHECK(running(&h) >= 0);
	/* rewritten in place: a reload may read part of a file; it never dies of it */
	storm(&h, &w, true, 2);
	taken = hd_log_count(&h, "configuration reloaded");
	refused = hd_log_count(&h, "the running configuration stays");
	printf("  reloads taken: %d, refused: %d (file empty: %d, changed while read: %d)\n",
	       taken, refused, hd_log_count(&h, "is empty: is it being written"),
	       hd_log_count(&h, "changed while it was read"));
	CHECK(taken > 0);
	/* a file read empty is never taken for the defaults (no policies at all); one read while
	 * it changes is refused when that shows (a part read between two writes of the writer
	 * that parses is taken: replace the file atomically) */
	CHECK(hd_log_count(&h, "is empty: is it being written") > 0);
	CHECK(refused > 0);
	/* a good file and one more reload: that is what runs */
	hd_write_file(h.conf, w.good[1], 0644);
	kill(h.pid, SIGHUP);
	usleep(500000);
	CHECK_EQ(running(&h), 1);
	CHECK_EQ(hd_stop(&h), 0);
	hd_cleanup(&h);
}

int main(int argc, char **argv)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_bpf_load_fails),
		CHECK_TEST(test_socket_dir_gone),
		CHECK_TEST(test_stale_socket),
		CHECK_TEST(test_config_replaced),
	};

	if (argc < 3)
		SKIP_ALL("usage: test_faults_host PAGEMIGD BPF_FAIL_PRELOAD");
	if (geteuid() != 0)
		SKIP_ALL("needs root (BPF)");
	pagemigd = argv[1];
	preload = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
