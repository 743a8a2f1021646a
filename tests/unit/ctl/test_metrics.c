// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigd's metrics: the Prometheus text writer, the daemon's families rendered from synthetic
 * states and checked by a strict parser of the format (which is itself tested on bad inputs),
 * the atomic textfile, and the HTTP listener driven through its epoll interface.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "prom_parse.h"

static void assert_valid(const char *text, size_t len)
{
	struct prom_result r;

	if (prom_check(text, len, "pagemig_", &r))
		fail_msg("invalid exposition at line %u: %s\n%s", r.line, r.error, text);
}

static double value_of(const char *text, const char *series)
{
	double v;

	if (prom_value(text, series, &v))
		fail_msg("no series %s", series);
	return v;
}

/* ---- the writer ------------------------------------------------------------------------- */

static void test_writer(void **state)
{
	struct metrics_text t;

	metrics_text_init(&t);
	metrics_family(&t, "pagemig_x_total", "counter", "Things with a \\ and a\nnewline.");
	metrics_u64(&t, NULL, 7, "a", "plain", "b", "q\"uo\\te\nnl", NULL);
	metrics_u64(&t, NULL, 18446744073709551615ull, NULL);
	metrics_family(&t, "pagemig_y", "gauge", "A gauge.");
	metrics_f64(&t, NULL, 0.5, NULL);
	metrics_f64(&t, NULL, NAN, "k", "nan", NULL);
	metrics_f64(&t, NULL, INFINITY, "k", "inf", NULL);
	assert_int_equal(t.err, 0);
	assert_string_equal(t.buf, "# HELP pagemig_x_total Things with a \\\\ and a\\nnewline.\n"
				   "# TYPE pagemig_x_total counter\n"
				   "pagemig_x_total{a=\"plain\",b=\"q\\\"uo\\\\te\\nnl\"} 7\n"
				   "pagemig_x_total 18446744073709551615\n"
				   "# HELP pagemig_y A gauge.\n"
				   "# TYPE pagemig_y gauge\n"
				   "pagemig_y 0.5\n"
				   "pagemig_y{k=\"nan\"} NaN\n"
				   "pagemig_y{k=\"inf\"} +Inf\n");
	assert_valid(t.buf, t.len);
	metrics_text_free(&t);

	/* invalid names are refused, not written */
	metrics_text_init(&t);
	metrics_family(&t, "9bad", "gauge", "x");
	assert_int_equal(t.err, -EINVAL);
	metrics_text_free(&t);
	metrics_text_init(&t);
	metrics_family(&t, "pagemig_ok", "gauge", "x");
	metrics_u64(&t, NULL, 1, "bad-label", "v", NULL);
	assert_int_equal(t.err, -EINVAL);
	metrics_text_free(&t);
	metrics_text_init(&t);
	metrics_u64(&t, NULL, 1, NULL); /* a sample before any family */
	assert_int_equal(t.err, -EINVAL);
	metrics_text_free(&t);

	assert_true(metrics_valid_name("pagemig_a:b_1"));
	assert_false(metrics_valid_name(""));
	assert_false(metrics_valid_name("a-b"));
	assert_true(metrics_valid_label("le"));
	assert_false(metrics_valid_label("__name__"));
	assert_false(metrics_valid_label("a:b"));
}

/* The checker must catch what it is there to catch. */
static void test_checker_rejects(void **state)
{
	static const char *const bad[] = {
		/* no HELP */
		"# TYPE pagemig_a gauge\npagemig_a 1\n",
		/* TYPE after the sample */
		"# HELP pagemig_a x\npagemig_a 1\n# TYPE pagemig_a gauge\n",
		/* sample of an undeclared family */
		"pagemig_a 1\n",
		/* duplicate series, labels in another order */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a{x=\"1\",y=\"2\"} 1\n"
		"pagemig_a{y=\"2\",x=\"1\"} 2\n",
		/* interleaved families */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a 1\n# HELP pagemig_b x\n"
		"# TYPE pagemig_b gauge\npagemig_b 1\npagemig_a{z=\"1\"} 1\n",
		/* bad escape */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a{x=\"\\t\"} 1\n",
		/* bad value */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a one\n",
		/* timestamp */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a 1 1700000000\n",
		/* no final newline */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a 1",
		/* negative counter */
		"# HELP pagemig_a x\n# TYPE pagemig_a counter\npagemig_a -1\n",
		/* prefix */
		"# HELP other x\n# TYPE other gauge\nother 1\n",
		/* histogram: not cumulative, count != +Inf, no +Inf */
		"# HELP pagemig_h x\n# TYPE pagemig_h histogram\npagemig_h_bucket{le=\"1\"} 5\n"
		"pagemig_h_bucket{le=\"+Inf\"} 4\npagemig_h_sum 1\npagemig_h_count 4\n",
		"# HELP pagemig_h x\n# TYPE pagemig_h histogram\npagemig_h_bucket{le=\"+Inf\"} 4\n"
		"pagemig_h_sum 1\npagemig_h_count 5\n",
		"# HELP pagemig_h x\n# TYPE pagemig_h histogram\npagemig_h_bucket{le=\"1\"} 4\n"
		"pagemig_h_sum 1\npagemig_h_count 4\n",
		/* a gauge sample under a histogram-style name */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a_count 1\n",
		/* the same label twice */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\npagemig_a{x=\"1\",x=\"2\"} 1\n",
		/* blank line */
		"# HELP pagemig_a x\n# TYPE pagemig_a gauge\n\npagemig_a 1\n",
	};
	struct prom_result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!prom_check(bad[i], strlen(bad[i]), "pagemig_", &r))
			fail_msg("the checker accepted bad input %zu:\n%s", i, bad[i]);
	assert_int_equal(prom_check("", 0, "pagemig_", &r), 0);
}

/* ---- the daemon's families -------------------------------------------------------------- */

static struct pagemig_topology topo3(void)
{
	struct pagemig_topology t;

	memset(&t, 0, sizeof(t));
	t.nr_nodes = 3;
	t.nr_memory = 3;
	t.max_node = 2;
	for (int n = 0; n < 3; n++) {
		t.node[n].present = true;
		t.node[n].has_memory = true;
		t.node[n].mem_total = 1ull << 30;
		t.node[n].mem_free = (uint64_t)(n + 1) << 28;
		for (int m = 0; m < 3; m++)
			t.distance[n][m] = n == m ? 10 : n == 2 || m == 2 ? 30 : 21;
	}
	t.node[2].memory_only = true;
	return t;
}

static char *render(const struct pagemig_metrics_input *in, size_t *len)
{
	struct metrics_text t;

	metrics_text_init(&t);
	assert_int_equal(pagemig_metrics_render(in, &t), 0);
	*len = t.len;
	return t.buf;
}

static void test_render_full(void **state)
{
	struct pagemig_topology t = topo3();
	struct exec_counters c = {0};
	struct pagemig_plan plan = {0};
	struct pagemig_report manual;
	struct pagemig_source_status src[PAGEMIG_SOURCE__COUNT];
	struct pagemig_sampler_stats st = {0};
	struct pagemig_mig_counts mig[PAGEMIG_MR__COUNT] = {0};
	struct pagemig_audit_totals audit = {0};
	uint64_t managed_pages[PAGEMIG_TOPO_MAX_NODES] = {10, 20, 30};
	struct pagemig_metrics_input in = {
		.version = "1.2.3",
		.up = true,
		.observe = false,
		.start_time_s = 1700000000,
		.uptime_s = 60,
		.cycles = 12,
		.plans_skipped = 7,
		.plans_topped_up = 3,
		.departures = 5,
		.cycles_soon = 9,
		.last_cycle_s = 0.002,
		.cycle_buckets = {1, 5, 6},
		.cycle_sum_s = 0.05,
		.cycle_count = 12,
		.managed = 2,
		.local_share = 0.75,
		.node_managed_pages = managed_pages,
		.exec = &c,
		.pages_pending = 5,
		.plan = &plan,
		.manual_moves_ok = 1,
		.manual = &manual,
		.topo = &t,
		.sources = src,
		.sampler = &st,
		.migrations = mig,
		.audit = &audit,
		.control_clients = 1,
	};
	char *text;
	size_t len;

	c.decisions = 4;
	c.pages_moved = 100;
	c.moved_by_reason[PAGEMIG_REASON_LOCAL_PAGE] = 90;
	c.moved_by_reason[PAGEMIG_REASON_DEMOTE] = 10;
	c.moved_from_to[0][1] = 90;
	c.moved_from_to[1][2] = 10;
	c.by_outcome[PAGEMIG_OUT_BUSY] = 3;
	c.by_step[PAGEMIG_STEP_A1_ISOLATE] = 3;
	c.retries = 6;
	c.max_call_ns = 1500000;
	plan.skipped[PAGEMIG_SKIP_COOLDOWN] = 17;
	pagemig_report_init(&manual);
	manual.pages = 50;
	manual.pages_moved = 48;
	manual.pages_on_target = 48;
	manual.by_outcome[PAGEMIG_OUT_MIGRATE_FAILED] = 2;
	manual.by_step[PAGEMIG_STEP_B1_B7] = 4;
	for (int i = 0; i < PAGEMIG_SOURCE__COUNT; i++)
		src[i] = (struct pagemig_source_status){.source = i,
							.state = i ? PAGEMIG_SOURCE_UNAVAILABLE
								   : PAGEMIG_SOURCE_ACTIVE};
	st.samples[PAGEMIG_SAMPLE_FAULT] = 1000;
	st.ring_dropped = 2;
	st.flush_busy = 5;
	st.rearms_early = 4;
	st.rearms_grown = 6;
	st.rearms_skipped = 13;
	st.holds = 9;
	st.not_present[0] = 300;
	st.not_present[1] = 7;
	st.flush_missed = 1;
	mig[PAGEMIG_MR_NUMA_MISPLACED].succeeded = 77;
	mig[PAGEMIG_MR_SYSCALL].succeeded = 148;
	audit.batches_interleaved = 3;
	audit.set = 512;
	audit.remove = 512;

	text = render(&in, &len);
	assert_valid(text, len);
	assert_true(value_of(text, "pagemig_up") == 1);
	assert_true(value_of(text, "pagemig_plans_skipped_total") == 7);
	assert_true(value_of(text, "pagemig_plans_topped_up_total") == 3);
	assert_true(value_of(text, "pagemig_departures_total") == 5);
	assert_true(value_of(text, "pagemig_cycles_soon_total") == 9);
	{
		char series[128];

		snprintf(series, sizeof(series),
			 "pagemig_build_info{version=\"1.2.3\",libpagemig=\"%s\"}",
			 pagemig_version());
		assert_true(value_of(text, series) == 1);
	}
	assert_true(value_of(text, "pagemig_pages_moved_total{policy=\"locality\",reason="
				   "\"local_page\"}") == 90);
	assert_true(value_of(text, "pagemig_pages_moved_total{policy=\"tiering\",reason="
				   "\"demote\"}") == 10);
	assert_true(value_of(text, "pagemig_pages_moved_total{policy=\"manual\",reason="
				   "\"manual\"}") == 48);
	assert_true(value_of(text, "pagemig_pages_moved_by_node_total{from=\"0\",to=\"1\"}") == 90);
	assert_true(value_of(text, "pagemig_pages_moved_by_node_total{from=\"2\",to=\"0\"}") == 0);
	assert_true(value_of(text, "pagemig_pages_failed_total{source=\"policy\",outcome=\"busy\","
				   "errno=\"EBUSY\"}") == 3);
	assert_true(value_of(text, "pagemig_pages_failed_total{source=\"manual\",outcome="
				   "\"migrate_failed\",errno=\"EAGAIN\"}") == 2);
	assert_true(value_of(text, "pagemig_pages_failed_by_step_total{step=\"A1\"}") == 3);
	assert_true(value_of(text, "pagemig_manual_backouts_total{step=\"B1-B7\"}") == 4);
	assert_true(value_of(text, "pagemig_page_retries_total{source=\"policy\"}") == 6);
	assert_true(value_of(text, "pagemig_node_memory_free_bytes{node=\"2\"}") == 3 << 28);
	assert_true(value_of(text, "pagemig_node_managed_pages{node=\"1\"}") == 20);
	assert_true(value_of(text, "pagemig_local_access_ratio") == 0.75);
	assert_true(value_of(text, "pagemig_cycle_duration_seconds_bucket{le=\"0.005\"}") == 6);
	assert_true(value_of(text, "pagemig_cycle_duration_seconds_bucket{le=\"+Inf\"}") == 12);
	assert_true(value_of(text, "pagemig_cycle_duration_seconds_count") == 12);
	assert_true(value_of(text, "pagemig_sampler_events_total{source=\"fault\"}") == 1000);
	assert_true(value_of(text, "pagemig_sampler_dropped_total{source=\"access\",reason="
				   "\"ring_full\"}") == 2);
	assert_true(value_of(text, "pagemig_sampler_flush_deferred_total{reason=\"busy\"}") == 5);
	assert_true(value_of(text, "pagemig_sampler_rearms_early_total") == 4);
	assert_true(value_of(text, "pagemig_sampler_rearms_grown_total") == 6);
	assert_true(value_of(text, "pagemig_sampler_rearms_skipped_total") == 13);
	assert_true(value_of(text, "pagemig_sampler_rearm_holds_total") == 9);
	assert_true(value_of(text, "pagemig_sampler_not_present_faults_total{weighed=\"no\"}") ==
		    300);
	assert_true(value_of(text, "pagemig_sampler_not_present_faults_total{weighed=\"yes\"}") ==
		    7);
	assert_true(value_of(text, "pagemig_sampler_flush_deferred_total{reason=\"missed\"}") == 1);
	assert_true(value_of(text, "pagemig_sampler_source_state{source=\"fault\",state="
				   "\"active\"}") == 1);
	assert_true(value_of(text, "pagemig_kernel_migrated_pages_total{reason=\"numa_misplaced\","
				   "result=\"succeeded\"}") == 77);
	assert_true(value_of(text, "pagemig_plan_skipped_pages{why=\"cooldown\"}") == 17);
	assert_true(value_of(text, "pagemig_audit_calls_total{order=\"documented\"}") == 3);
	assert_true(value_of(text, "pagemig_move_call_max_seconds") == 0.0015);
	free(text);
}

static void test_render_sparse(void **state)
{
	struct pagemig_metrics_input in = {.version = "x", .up = true, .local_share = -1};
	char *text;
	size_t len;

	/* no sampler, no plan, no topology, unknown share: still valid, parts left out */
	text = render(&in, &len);
	assert_valid(text, len);
	assert_null(strstr(text, "pagemig_local_access_ratio"));
	assert_null(strstr(text, "pagemig_sampler_events_total"));
	assert_true(
		value_of(text, "pagemig_pages_moved_total{policy=\"manual\",reason=\"manual\"}") ==
		0);
	free(text);

	/* the file left at stop */
	in.up = false;
	text = render(&in, &len);
	assert_valid(text, len);
	assert_true(value_of(text, "pagemig_up") == 0);
	assert_null(strstr(text, "pagemig_cycles_total"));
	free(text);
}

/* ---- the file ------------------------------------------------------------------------------ */

static void test_file(void **state)
{
	char dir[] = "/tmp/pagemig-metrics-XXXXXX", path[128], tmp[140], buf[64];
	struct stat sb;
	mode_t old;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pagemig.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	old = umask(077);
	assert_int_equal(metrics_write_file(path, "first\n", 6), 0);
	assert_int_equal(metrics_write_file(path, "second\n", 7), 0);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644); /* the collector runs as another user */
	assert_int_equal(access(tmp, F_OK), -1);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	assert_memory_equal(buf, "second\n", 7);
	unlink(path);
	rmdir(dir);
	assert_int_equal(metrics_write_file("/nonexistent-dir/x.prom", "x", 1), -ENOENT);
}

/* ---- the HTTP listener ------------------------------------------------------------------ */

static int renders;

static char *render_cb(void *ctx, size_t *len)
{
	static const char body[] = "# HELP pagemig_up x\n# TYPE pagemig_up gauge\npagemig_up 1\n";

	renders++;
	*len = sizeof(body) - 1;
	return strdup(body);
}

/* Run the listener's side for up to ms milliseconds. */
static void pump(struct metrics_http *h, int epfd, int ms)
{
	struct epoll_event ev[8];
	int n;

	while ((n = epoll_wait(epfd, ev, 8, ms)) > 0)
		for (int i = 0; i < n; i++)
			if (metrics_http_owns(h, ev[i].data.fd))
				metrics_http_io(h, ev[i].data.fd, ev[i].events);
}

/* Send request on a new connection, serve it, return what came back. */
static char *exchange(struct metrics_http *h, int epfd, const char *req, size_t req_len)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(metrics_http_port(h))};
	static char buf[65536];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	pump(h, epfd, 50);
	if (req_len)
		assert_int_equal(send(fd, req, req_len, MSG_NOSIGNAL), (ssize_t)req_len);
	for (int i = 0; i < 40; i++) {
		ssize_t n;

		pump(h, epfd, 10);
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			break;
	}
	close(fd);
	buf[got] = 0;
	return buf;
}

static void test_http(void **state)
{
	struct metrics_http *h = NULL;
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	char *r;

	/* only loopback addresses, well-formed */
	assert_int_equal(metrics_http_open("0.0.0.0:9464", render_cb, NULL, &h), -EADDRNOTAVAIL);
	assert_int_equal(metrics_http_open("10.1.2.3:9464", render_cb, NULL, &h), -EADDRNOTAVAIL);
	assert_int_equal(metrics_http_open("[::]:9464", render_cb, NULL, &h), -EADDRNOTAVAIL);
	assert_int_equal(metrics_http_open("127.0.0.1", render_cb, NULL, &h), -EINVAL);
	assert_int_equal(metrics_http_open("127.0.0.1:99999", render_cb, NULL, &h), -EINVAL);
	assert_int_equal(metrics_http_open("127.0.0.1:", render_cb, NULL, &h), -EINVAL);
	assert_int_equal(metrics_http_open("example.org:80", render_cb, NULL, &h), -EINVAL);
	assert_int_equal(metrics_http_open("", render_cb, NULL, &h), -EINVAL);
	assert_int_equal(metrics_http_open("localhost:0", render_cb, NULL, &h), 0);
	metrics_http_close(h);
	h = NULL;

	assert_int_equal(metrics_http_open("127.0.0.1:0", render_cb, NULL, &h), 0);
	assert_true(metrics_http_port(h) > 0);
	assert_int_equal(metrics_http_set_epoll(h, epfd), 0);

	r = exchange(h, epfd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 34);
	assert_non_null(strstr(r, "HTTP/1.0 200 OK\r\n"));
	assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
	{
		char cl[64];

		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n",
			 strlen("# HELP pagemig_up x\n# TYPE pagemig_up gauge\npagemig_up 1\n"));
		assert_non_null(strstr(r, cl));
	}
	assert_non_null(strstr(r, "\r\n\r\n# HELP pagemig_up x\n"));
	assert_int_equal(renders, 1);

	/* Prometheus' query string is fine */
	r = exchange(h, epfd, "GET /metrics?x=1 HTTP/1.0\r\n\r\n", 29);
	assert_non_null(strstr(r, "200 OK"));

	r = exchange(h, epfd, "HEAD /metrics HTTP/1.0\r\n\r\n", 26);
	assert_non_null(strstr(r, "200 OK"));
	assert_null(strstr(r, "# HELP"));

	r = exchange(h, epfd, "GET / HTTP/1.0\r\n\r\n", 18);
	assert_non_null(strstr(r, "404 Not Found"));
	r = exchange(h, epfd, "GET /metricsx HTTP/1.0\r\n\r\n", 26);
	assert_non_null(strstr(r, "404 Not Found"));
	r = exchange(h, epfd, "POST /metrics HTTP/1.0\r\n\r\n", 26);
	assert_non_null(strstr(r, "405"));
	r = exchange(h, epfd, "garbage\r\n\r\n", 11);
	assert_non_null(strstr(r, "400 Bad Request"));
	{
		char big[METRICS_HTTP_REQUEST_MAX + 100];

		memset(big, 'a', sizeof(big));
		memcpy(big, "GET /metrics HTTP/1.0\r\nX: ", 26);
		r = exchange(h, epfd, big, sizeof(big));
		assert_non_null(strstr(r, "431"));
	}

	/* a silent client is dropped at its deadline; others are served meanwhile */
	{
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons(metrics_http_port(h))};
		struct timespec ts;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		char c;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		pump(h, epfd, 50);
		r = exchange(h, epfd, "GET /metrics HTTP/1.0\r\n\r\n", 25);
		assert_non_null(strstr(r, "200 OK"));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		metrics_http_expire(h, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
					       METRICS_HTTP_TIMEOUT_MS + 1);
		assert_int_equal(recv(fd, &c, 1, 0), 0); /* closed by the server */
		close(fd);
	}
	assert_true(metrics_http_requests(h) >= 9);
	metrics_http_close(h);
	close(epfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer),	    cmocka_unit_test(test_checker_rejects),
		cmocka_unit_test(test_render_full), cmocka_unit_test(test_render_sparse),
		cmocka_unit_test(test_file),	    cmocka_unit_test(test_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
