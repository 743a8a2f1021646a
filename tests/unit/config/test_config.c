// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The configuration parser, value by value: every accepted form and its stored value, every
 * rejected one with its exact message, range edges, overflow, the file structure (sections,
 * duplicates, comments, line endings, long lines, NUL bytes), cross-key checks and warnings,
 * loading files, rendering round trips and the views for the policy engine and libpagemig.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static struct pagemig_config_diag diag;

static int parse(const char *text, struct pagemig_config *cfg)
{
	return pagemig_config_parse(text, strlen(text), "t.conf", cfg, &diag);
}

/* Message i of the last parse as it is printed. */
static const char *msg(unsigned int i)
{
	static char buf[PAGEMIG_CONFIG_MSG_MAX + 300];

	if (pagemig_config_diag_format(&diag, i, buf, sizeof(buf)) < 0)
		return "(no such message)";
	return buf;
}

static void dump_diag(const char *text)
{
	print_error("input:\n%s\n--- messages:\n", text);
	for (unsigned int i = 0; i < diag.n; i++)
		print_error("%s\n", msg(i));
}

#define FIELD(f) offsetof(struct pagemig_config, f), sizeof(((struct pagemig_config *)0)->f)

static uint64_t field_uint(const struct pagemig_config *c, size_t off, size_t width)
{
	const char *p = (const char *)c + off;
	uint64_t v64;
	uint32_t v32;
	uint8_t v8;

	switch (width) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

/* ---- accepted values ---------------------------------------------------------------------- */

struct good_uint {
	const char *text;
	size_t off, width;
	uint64_t want;
};

static const struct good_uint good_uints[] = {
	/* durations: units, edges, blanks, quotes */
	{"[daemon]\ninterval = 100ms", FIELD(interval_ms), 100},
	{"[daemon]\ninterval = 1h", FIELD(interval_ms), 3600000},
	{"[daemon]\ninterval = 500ms", FIELD(interval_ms), 500},
	{"[daemon]\ninterval = 5s", FIELD(interval_ms), 5000},
	{"[daemon]\ninterval = 2m", FIELD(interval_ms), 120000},
	{"[daemon]\ninterval = 2min", FIELD(interval_ms), 120000},
	{"[daemon]\ninterval = 100000us", FIELD(interval_ms), 100},
	{"[daemon]\ninterval = 3600000ms", FIELD(interval_ms), 3600000},
	{"[daemon]\ninterval = 5 s", FIELD(interval_ms), 5000},
	{"[daemon]\ninterval = \"5s\"", FIELD(interval_ms), 5000},
	{"[daemon]\ninterval=5s", FIELD(interval_ms), 5000},
	{"  [ daemon ]  \n\t interval\t=\t7s \t", FIELD(interval_ms), 7000},
	{"[daemon]\ninterval = 0005s", FIELD(interval_ms), 5000},
	{"[daemon]\nmode = observe", FIELD(mode), PAGEMIG_MODE_OBSERVE},
	{"[daemon]\nmode = OBSERVE", FIELD(mode), PAGEMIG_MODE_OBSERVE},
	{"[daemon]\nmode = enforce", FIELD(mode), PAGEMIG_MODE_ENFORCE},
	{"[daemon]\nlog_level = err", FIELD(log_level), LOG_ERR},
	{"[daemon]\nlog_level = warning", FIELD(log_level), LOG_WARNING},
	{"[daemon]\nlog_level = notice", FIELD(log_level), LOG_NOTICE},
	{"[daemon]\nlog_level = info", FIELD(log_level), LOG_INFO},
	{"[daemon]\nlog_level = Debug", FIELD(log_level), LOG_DEBUG},
	/* sampler */
	{"[sampler]\nsources = fault", FIELD(sampler.sources), 1u << PAGEMIG_SOURCE_FAULT},
	{"[sampler]\nsources = fault, pmu", FIELD(sampler.sources), 3},
	{"[sampler]\nsources=oncpu,audit", FIELD(sampler.sources),
	 (1u << PAGEMIG_SOURCE_ONCPU) | (1u << PAGEMIG_SOURCE_AUDIT)},
	{"[sampler]\nsources = fault, pmu, softdirty, numa_hint, oncpu, audit, audit_thp",
	 FIELD(sampler.sources), PAGEMIG_SOURCES_ALL},
	{"[sampler]\nsources = all", FIELD(sampler.sources), PAGEMIG_SOURCES_ALL},
	{"[sampler]\nsources = FAULT , Audit_THP", FIELD(sampler.sources),
	 (1u << PAGEMIG_SOURCE_FAULT) | (1u << PAGEMIG_SOURCE_AUDIT_THP)},
	{"[sampler]\nmax_pages = 1024", FIELD(sampler.max_pages), 1024},
	{"[sampler]\nmax_pages = 4194304", FIELD(sampler.max_pages), 4194304},
	{"[sampler]\nmax_processes = 1", FIELD(sampler.max_tgids), 1},
	{"[sampler]\nmax_processes = 65536", FIELD(sampler.max_tgids), 65536},
	{"[sampler]\nmax_oncpu = auto", FIELD(sampler.max_oncpu), 0},
	{"[sampler]\nmax_oncpu = AUTO", FIELD(sampler.max_oncpu), 0},
	{"[sampler]\nmax_oncpu = 16", FIELD(sampler.max_oncpu), 16},
	{"[sampler]\nmax_oncpu = 1048576", FIELD(sampler.max_oncpu), 1048576},
	{"[sampler]\nmax_movers = 1", FIELD(sampler.max_movers), 1},
	{"[sampler]\nmax_movers = 4096", FIELD(sampler.max_movers), 4096},
	{"[sampler]\naccess_ringbuf = 4KiB", FIELD(sampler.access_ring_bytes), 4096},
	{"[sampler]\naccess_ringbuf = 1GiB", FIELD(sampler.access_ring_bytes), 1u << 30},
	{"[sampler]\naccess_ringbuf = 1G", FIELD(sampler.access_ring_bytes), 1u << 30},
	{"[sampler]\nringbuf = 4096", FIELD(sampler.ringbuf_bytes), 4096},
	{"[sampler]\nringbuf = 4096B", FIELD(sampler.ringbuf_bytes), 4096},
	{"[sampler]\nringbuf = 64KiB", FIELD(sampler.ringbuf_bytes), 65536},
	{"[sampler]\nringbuf = 64K", FIELD(sampler.ringbuf_bytes), 65536},
	{"[sampler]\nringbuf = 64KB", FIELD(sampler.ringbuf_bytes), 64000},
	{"[sampler]\nringbuf = 2MiB", FIELD(sampler.ringbuf_bytes), 2u << 20},
	{"[sampler]\nringbuf = 2M", FIELD(sampler.ringbuf_bytes), 2u << 20},
	{"[sampler]\nringbuf = 2MB", FIELD(sampler.ringbuf_bytes), 2000000},
	{"[sampler]\nringbuf = 1GB", FIELD(sampler.ringbuf_bytes), 1000000000},
	{"[sampler]\nringbuf = 1 GiB", FIELD(sampler.ringbuf_bytes), 1u << 30},
	{"[sampler]\nmax_snapshot = auto", FIELD(sampler.max_snapshot), 0},
	{"[sampler]\nmax_snapshot = 1024", FIELD(sampler.max_snapshot), 1024},
	{"[sampler]\nmax_snapshot = 16777216", FIELD(sampler.max_snapshot), 16777216},
	{"[sampler]\nhalf_life = 1s", FIELD(sampler.half_life_ms), 1000},
	{"[sampler]\nhalf_life = 1h", FIELD(sampler.half_life_ms), 3600000},
	{"[sampler]\nrearm = 0", FIELD(sampler.rearm_ms), 0},
	{"[sampler]\nrearm = 0s", FIELD(sampler.rearm_ms), 0},
	{"[sampler]\nrearm = 1s", FIELD(sampler.rearm_ms), 1000},
	{"[sampler]\nrearm = 60m", FIELD(sampler.rearm_ms), 3600000},
	{"[sampler]\npmu_period = 100", FIELD(sampler.pmu_period), 100},
	{"[sampler]\npmu_period = 1000000000", FIELD(sampler.pmu_period), 1000000000},
	{"[sampler]\naudit_pages = 1024", FIELD(sampler.audit_pages), 1024},
	{"[sampler]\naudit_pages = 4194304", FIELD(sampler.audit_pages), 4194304},
	{"[sampler]\naudit_all = yes", FIELD(sampler.audit_all), 1},
	{"[sampler]\naudit_all = true", FIELD(sampler.audit_all), 1},
	{"[sampler]\naudit_all = on", FIELD(sampler.audit_all), 1},
	{"[sampler]\naudit_all = 1", FIELD(sampler.audit_all), 1},
	{"[sampler]\naudit_all = YES", FIELD(sampler.audit_all), 1},
	{"[sampler]\naudit_all = no", FIELD(sampler.audit_all), 0},
	{"[sampler]\naudit_all = false", FIELD(sampler.audit_all), 0},
	{"[sampler]\naudit_all = off", FIELD(sampler.audit_all), 0},
	{"[sampler]\naudit_all = 0", FIELD(sampler.audit_all), 0},
	/* migrate */
	{"[migrate]\nrate = 4KiB/s", FIELD(rate_bytes_per_s), 4096},
	{"[migrate]\nrate = 1TiB/s", FIELD(rate_bytes_per_s), UINT64_C(1) << 40},
	{"[migrate]\nrate = 200MB/s", FIELD(rate_bytes_per_s), 200000000},
	{"[migrate]\nrate = 50MiB/s", FIELD(rate_bytes_per_s), 50u << 20},
	{"[migrate]\nrate = 50 MiB/s", FIELD(rate_bytes_per_s), 50u << 20},
	{"[migrate]\nrate = 1048576/s", FIELD(rate_bytes_per_s), 1u << 20},
	{"[migrate]\nrate = unlimited", FIELD(rate_bytes_per_s), 0},
	{"[migrate]\nrate = Unlimited", FIELD(rate_bytes_per_s), 0},
	{"[migrate]\nrate = 0", FIELD(rate_bytes_per_s), 0},
	{"[migrate]\nrate = 0/s", FIELD(rate_bytes_per_s), 0},
	{"[migrate]\npages_per_call = 1", FIELD(pages_per_call), 1},
	{"[migrate]\npages_per_call = 65536", FIELD(pages_per_call), 65536},
	{"[migrate]\nthreads = 1", FIELD(threads), 1},
	{"[migrate]\nthreads = 64", FIELD(threads), 64},
	{"[migrate]\ncall_budget = 100us", FIELD(call_budget_us), 100},
	{"[migrate]\ncall_budget = 10s", FIELD(call_budget_us), 10000000},
	{"[migrate]\ncall_budget = 5ms", FIELD(call_budget_us), 5000},
	{"[migrate]\ncall_budget = unlimited", FIELD(call_budget_us), UINT_MAX},
	{"[migrate]\nmax_retries = 1", FIELD(max_retries), 1},
	{"[migrate]\nmax_retries = 100", FIELD(max_retries), 100},
	{"[migrate]\nretry_backoff = 10us", FIELD(backoff_us), 10},
	{"[migrate]\nretry_backoff = 1s", FIELD(backoff_us), 1000000},
	{"[migrate]\nverify = no", FIELD(verify), 0},
	{"[migrate]\nmove_shared = yes", FIELD(move_shared), 1},
	{"[migrate]\ncooldown = 0", FIELD(cooldown_ms), 0},
	{"[migrate]\ncooldown = 24h", FIELD(cooldown_ms), 86400000},
	{"[migrate]\ncooldown = 90s", FIELD(cooldown_ms), 90000},
	{"[migrate]\npingpong_intervals = 0", FIELD(pingpong_intervals), 0},
	{"[migrate]\npingpong_intervals = 1", FIELD(pingpong_intervals), 1},
	{"[migrate]\nfreeze = 1s", FIELD(freeze_ms), 1000},
	{"[migrate]\nfreeze = 24h", FIELD(freeze_ms), 86400000},
	{"[migrate]\npingpong_intervals = 1000", FIELD(pingpong_intervals), 1000},
	{"[migrate]\nmin_rss = 0", FIELD(min_rss), 0},
	{"[migrate]\nmin_rss = 1024TiB", FIELD(min_rss), UINT64_C(1) << 50},
	{"[migrate]\nmin_rss = 1T", FIELD(min_rss), UINT64_C(1) << 40},
	{"[migrate]\nmin_rss = 1TB", FIELD(min_rss), UINT64_C(1000000000000)},
	{"[migrate]\nmin_rss = 1G", FIELD(min_rss), UINT64_C(1) << 30},
	{"[migrate]\nmin_rss = 1GB", FIELD(min_rss), 1000000000},
	/* an empty value is the default */
	{"[daemon]\ninterval =", FIELD(interval_ms), 5000},
	{"[daemon]\ninterval = \"\"", FIELD(interval_ms), 5000},
	{"[migrate]\nrate =", FIELD(rate_bytes_per_s), 32u << 20},
};

static void test_good_uints(void **state)
{
	for (size_t i = 0; i < sizeof(good_uints) / sizeof(good_uints[0]); i++) {
		const struct good_uint *g = &good_uints[i];
		struct pagemig_config c;
		uint64_t got;

		if (parse(g->text, &c) != 0 || diag.errors) {
			dump_diag(g->text);
			fail();
		}
		got = field_uint(&c, g->off, g->width);
		if (got != g->want) {
			print_error("'%s': got %llu, want %llu\n", g->text, (unsigned long long)got,
				    (unsigned long long)g->want);
			fail();
		}
		pagemig_config_free(&c);
	}
}

struct good_double {
	const char *text;
	size_t off;
	double want;
};

static const struct good_double good_doubles[] = {
	{"[migrate]\nwatermark = 0%", offsetof(struct pagemig_config, watermark_pct), 0},
	{"[migrate]\nwatermark = 90%", offsetof(struct pagemig_config, watermark_pct), 90},
	{"[migrate]\nwatermark = 0.5%", offsetof(struct pagemig_config, watermark_pct), 0.5},
	{"[migrate]\nwatermark = 5 %", offsetof(struct pagemig_config, watermark_pct), 5},
	{"[migrate]\nwatermark = 12.345678%", offsetof(struct pagemig_config, watermark_pct),
	 12.345678},
	{"[migrate]\nwatermark = 89.999999%", offsetof(struct pagemig_config, watermark_pct),
	 89.999999},
	{"[sampler]\nmin_score = 0.001", offsetof(struct pagemig_config, sampler.min_score), 0.001},
	{"[sampler]\nmin_score = 1000", offsetof(struct pagemig_config, sampler.min_score), 1000},
	{"[sampler]\nmin_score = 1000.0", offsetof(struct pagemig_config, sampler.min_score), 1000},
	{"[sampler]\nmin_score = 0.05", offsetof(struct pagemig_config, sampler.min_score), 0.05},
	{"[sampler]\nmin_score = 00.50", offsetof(struct pagemig_config, sampler.min_score), 0.5},
};

static void test_good_doubles(void **state)
{
	for (size_t i = 0; i < sizeof(good_doubles) / sizeof(good_doubles[0]); i++) {
		const struct good_double *g = &good_doubles[i];
		struct pagemig_config c;
		double got;

		if (parse(g->text, &c) != 0 || diag.errors) {
			dump_diag(g->text);
			fail();
		}
		memcpy(&got, (const char *)&c + g->off, sizeof(got));
		if (got != g->want) {
			print_error("'%s': got %.9g, want %.9g\n", g->text, got, g->want);
			fail();
		}
	}
}

static void test_good_strings(void **state)
{
	struct pagemig_config c;
	char text[512], path[PAGEMIG_CONFIG_SOCKET_MAX];

	assert_int_equal(parse("[daemon]\nsocket = /run/x.sock\nsocket_group = adm\n"
			       "metrics_file = /var/lib/prometheus/node-exporter/pagemig.prom\n",
			       &c),
			 0);
	assert_int_equal(diag.n, 0);
	assert_string_equal(c.socket_path, "/run/x.sock");
	assert_string_equal(c.socket_group, "adm");
	assert_string_equal(c.metrics_file, "/var/lib/prometheus/node-exporter/pagemig.prom");

	/* groups: names with '_', '-', '.', a trailing '$', or numbers */
	static const char *const groups[] = {"_x", "a-b.c", "machine$", "0", "4294967295"};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		snprintf(text, sizeof(text), "[daemon]\nsocket_group = %s", groups[i]);
		assert_int_equal(parse(text, &c), 0);
		assert_string_equal(c.socket_group, groups[i]);
	}

	/* metrics endpoints on loopback addresses */
	static const char *const listens[] = {"127.0.0.1:9464", "127.1.2.3:0", "localhost:65535",
					      "LocalHost:1", "[::1]:9464"};
	for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
		snprintf(text, sizeof(text), "[daemon]\nmetrics_listen = %s", listens[i]);
		assert_int_equal(parse(text, &c), 0);
		assert_int_equal(diag.n, 0);
		assert_string_equal(c.metrics_listen, listens[i]);
	}

	/* the longest socket path: 107 bytes */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	snprintf(text, sizeof(text), "[daemon]\nsocket = %s", path);
	assert_int_equal(parse(text, &c), 0);
	assert_string_equal(c.socket_path, path);
	/* one more is too long */
	snprintf(text, sizeof(text), "[daemon]\nsocket = %sa", path);
	assert_int_equal(parse(text, &c), -EINVAL);
	assert_string_equal(msg(0), "t.conf:2: socket: the path is 108 bytes long; a socket path "
				    "holds at most 107");

	/* quotes keep blanks and '#' */
	assert_int_equal(
		parse("[policy p]\ntype = ignore\ncomm = \" a #b \"\nexe = \"/x/y # z\"", &c), 0);
	assert_int_equal(diag.n, 0);
	assert_string_equal(c.rules[0].match_comm, " a #b ");
	assert_string_equal(c.rules[0].match_exe, "/x/y # z");
	pagemig_config_free(&c);
	/* only the outer pair goes */
	assert_int_equal(parse("[policy p]\ntype = ignore\ncomm = \"\"x\"\"", &c), 0);
	assert_string_equal(c.rules[0].match_comm, "\"x\"");
	pagemig_config_free(&c);
	/* the default comes back with an empty value */
	assert_int_equal(parse("[daemon]\nsocket = \"\"", &c), 0);
	assert_string_equal(c.socket_path, "/run/pagemig/pagemigd.sock");
}

static void test_good_policies(void **state)
{
	struct pagemig_config c;
	const char *text = "[policy ignore-sys]\n"
			   "cgroup = /system.slice\n"
			   "type = ignore\n"
			   "[policy db]\n"
			   "comm = postgres\n"
			   "exe = /usr/lib/postgresql/*/bin/postgres\n"
			   "type = pin\n"
			   "nodes = 0, 2-3\n"
			   "target = 2\n"
			   "[policy tier.big_1]\n"
			   "cgroup = /batch.slice\n"
			   "min_rss = 1GiB\n"
			   "type = tiering\n"
			   "hot_score = 4\n"
			   "cold_score = 0.125\n"
			   "[policy one]\n"
			   "pid = 4194304\n"
			   "type = locality\n"
			   "min_share = 1\n"
			   "hot_score = 0.001\n"
			   "[policy rest]\n"
			   "comm = x\n"
			   "min_rss = 2G\n"
			   "type = LOCALITY\n"
			   "min_share = 0.500001\n";

	if (parse(text, &c) != 0 || diag.n) {
		dump_diag(text);
		fail();
	}
	assert_int_equal(c.n_rules, 5);
	assert_string_equal(c.rules[0].name, "ignore-sys");
	assert_string_equal(c.rules[0].match_cgroup, "/system.slice");
	assert_int_equal(c.rules[0].type, PAGEMIG_POLICY_IGNORE);

	assert_string_equal(c.rules[1].name, "db");
	assert_string_equal(c.rules[1].match_comm, "postgres");
	assert_string_equal(c.rules[1].match_exe, "/usr/lib/postgresql/*/bin/postgres");
	assert_int_equal(c.rules[1].type, PAGEMIG_POLICY_PIN);
	assert_int_equal(c.rules[1].pin_nodes, 0xd);
	assert_int_equal(c.rules[1].pin_target, 2);

	assert_string_equal(c.rules[2].name, "tier.big_1");
	assert_int_equal(c.rules[2].match_min_rss, 1u << 30);
	assert_int_equal(c.rules[2].type, PAGEMIG_POLICY_TIERING);
	assert_true(c.rules[2].hot_score == 4.0);
	assert_true(c.rules[2].cold_score == 0.125);

	assert_int_equal(c.rules[3].match_pid, 4194304);
	assert_true(c.rules[3].min_share == 1.0);
	assert_true(c.rules[3].hot_score == 0.001);
	/* defaults of a rule */
	assert_true(c.rules[4].hot_score == 1.0);
	assert_true(c.rules[4].cold_score == 0.25);
	assert_int_equal(c.rules[4].pin_target, -1);
	assert_int_equal(c.rules[4].pin_nodes, 0);
	assert_true(c.rules[4].min_share == 0.500001);
	assert_int_equal(c.rules[4].match_pid, 0);
	assert_string_equal(c.rules[4].match_comm, "x");
	assert_string_equal(c.rules[3].match_comm, "");
	pagemig_config_free(&c);

	/* every node; nearest; node list with blanks */
	assert_int_equal(parse("[policy p]\ntype = pin\nnodes = 0-63\ntarget = nearest", &c), 0);
	assert_int_equal(c.rules[0].pin_nodes, UINT64_MAX);
	assert_int_equal(c.rules[0].pin_target, -1);
	pagemig_config_free(&c);
	assert_int_equal(parse("[policy p]\ntype = pin\nnodes = 63 , 1 - 2", &c), 0);
	assert_int_equal(c.rules[0].pin_nodes, (UINT64_C(1) << 63) | 6);
	pagemig_config_free(&c);

	/* cgroups: the root, a trailing slash */
	assert_int_equal(parse("[policy p]\ntype = ignore\ncgroup = /", &c), 0);
	pagemig_config_free(&c);
	assert_int_equal(parse("[policy p]\ntype = ignore\ncgroup = /a.slice/", &c), 0);
	pagemig_config_free(&c);
	/* the longest names */
	assert_int_equal(parse("[policy p]\ntype = ignore\ncomm = 123456789012345", &c), 0);
	pagemig_config_free(&c);
	assert_int_equal(
		parse("[policy 123456789012345678901234567890123456789012345678901234567890123]"
		      "\ntype = ignore",
		      &c),
		0);
	pagemig_config_free(&c);
}

/* ---- rejected values: the exact message ----------------------------------------------------- */

struct bad {
	const char *text;
	const char *want; /* the first message */
};

static const struct bad bads[] = {
	/* durations */
	{"[daemon]\ninterval = 0s", "t.conf:2: interval: '0s' is below the minimum 100ms"},
	{"[daemon]\ninterval = 0", "t.conf:2: interval: '0' is below the minimum 100ms"},
	{"[daemon]\ninterval = 99ms", "t.conf:2: interval: '99ms' is below the minimum 100ms"},
	{"[daemon]\ninterval = 3601s", "t.conf:2: interval: '3601s' is above the maximum 1h"},
	{"[daemon]\ninterval = 3600001ms",
	 "t.conf:2: interval: '3600001ms' is above the maximum 1h"},
	{"[daemon]\ninterval = 18446744073709551616ms",
	 "t.conf:2: interval: '18446744073709551616ms' is above the maximum 1h"},
	{"[daemon]\ninterval = 18446744073709551615h",
	 "t.conf:2: interval: '18446744073709551615h' is above the maximum 1h"},
	{"[daemon]\ninterval = 5",
	 "t.conf:2: interval: '5' has no unit; durations need one of us, ms, s, m, h (e.g. 5s)"},
	{"[daemon]\ninterval = -5s",
	 "t.conf:2: interval: '-5s' is negative; write a whole number and a unit (us, ms, s, m, "
	 "h), e.g. 500ms or 5s"},
	{"[daemon]\ninterval = +5s",
	 "t.conf:2: interval: '+5s' is not a duration; write a whole number and a unit (us, ms, s, "
	 "m, h), e.g. 500ms or 5s"},
	{"[daemon]\ninterval = 5S",
	 "t.conf:2: interval: '5S' is not a duration; write a whole number and a unit (us, ms, s, "
	 "m, h), e.g. 500ms or 5s"},
	{"[daemon]\ninterval = 1h1ms",
	 "t.conf:2: interval: '1h1ms' is not a duration; write a whole number and a unit (us, ms, "
	 "s, m, h), e.g. 500ms or 5s"},
	{"[daemon]\ninterval = 0x10s",
	 "t.conf:2: interval: '0x10s' is not a duration; write a whole number and a unit (us, ms, "
	 "s, m, h), e.g. 500ms or 5s"},
	{"[daemon]\ninterval = 1.5s",
	 "t.conf:2: interval: '1.5s' is not a whole number; use a smaller unit (1500ms, not 1.5s)"},
	{"[daemon]\ninterval = 1500us",
	 "t.conf:2: interval: '1500us' is not a whole number of milliseconds"},
	{"[daemon]\ninterval = 5s # five",
	 "t.conf:2: interval: '5s # five' is not a duration; write a whole number and a unit (us, "
	 "ms, s, m, h), e.g. 500ms or 5s (comments must be on a line of their own)"},
	{"[daemon]\ninterval = \"5s",
	 "t.conf:2: interval: the quote at the start of the value is not closed"},
	{"[daemon]\ninterval = \"",
	 "t.conf:2: interval: the quote at the start of the value is not "
	 "closed"},
	{"[sampler]\nhalf_life = 999ms", "t.conf:2: half_life: '999ms' is below the minimum 1s"},
	{"[sampler]\nhalf_life = 61m", "t.conf:2: half_life: '61m' is above the maximum 1h"},
	{"[sampler]\nrearm = 999ms",
	 "t.conf:2: rearm: '999ms' is below the minimum 1s (or 0: every interval)"},
	{"[sampler]\nrearm = 2h",
	 "t.conf:2: rearm: '2h' is above the maximum 1h (or 0: every interval)"},
	{"[migrate]\ncall_budget = 99us",
	 "t.conf:2: call_budget: '99us' is below the minimum 100us (or unlimited: no budget)"},
	{"[migrate]\ncall_budget = 10001ms",
	 "t.conf:2: call_budget: '10001ms' is above the maximum 10s (or unlimited: no budget)"},
	{"[migrate]\ncall_budget = none",
	 "t.conf:2: call_budget: 'none' is not a duration; write a whole number and a unit (us, "
	 "ms, s, m, h), e.g. 500ms or 5s"},
	{"[migrate]\nretry_backoff = 9us",
	 "t.conf:2: retry_backoff: '9us' is below the minimum 10us"},
	{"[migrate]\nretry_backoff = 1000001us",
	 "t.conf:2: retry_backoff: '1000001us' is above the maximum 1s"},
	{"[migrate]\ncooldown = 25h", "t.conf:2: cooldown: '25h' is above the maximum 24h"},
	{"[migrate]\ncooldown = 86400001ms",
	 "t.conf:2: cooldown: '86400001ms' is above the maximum 24h"},
	/* sizes */
	{"[sampler]\nringbuf = 4095", "t.conf:2: ringbuf: '4095' is below the minimum 4KiB"},
	{"[sampler]\nringbuf = 3KiB", "t.conf:2: ringbuf: '3KiB' is below the minimum 4KiB"},
	{"[sampler]\nringbuf = 1025MiB", "t.conf:2: ringbuf: '1025MiB' is above the maximum 1GiB"},
	{"[sampler]\nringbuf = 1073741825",
	 "t.conf:2: ringbuf: '1073741825' is above the maximum 1GiB"},
	{"[sampler]\nringbuf = 17179869184GiB",
	 "t.conf:2: ringbuf: '17179869184GiB' is above the maximum 1GiB"},
	{"[sampler]\nringbuf = 1.5MiB",
	 "t.conf:2: ringbuf: '1.5MiB' is not a whole number; use a smaller unit (1536MiB, not "
	 "1.5GiB)"},
	{"[sampler]\nringbuf = 1mb",
	 "t.conf:2: ringbuf: '1mb' is not a size; write a whole number of bytes with an optional "
	 "unit: K, KiB, M, MiB, G, GiB, T, TiB (powers of 1024) or KB, MB, GB, TB (powers of "
	 "1000)"},
	{"[sampler]\nringbuf = 1PiB",
	 "t.conf:2: ringbuf: '1PiB' is not a size; write a whole number of bytes with an optional "
	 "unit: K, KiB, M, MiB, G, GiB, T, TiB (powers of 1024) or KB, MB, GB, TB (powers of "
	 "1000)"},
	{"[sampler]\nringbuf = -1",
	 "t.conf:2: ringbuf: '-1' is negative; write a whole number of bytes with an optional "
	 "unit: "
	 "K, KiB, M, MiB, G, GiB, T, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000)"},
	{"[sampler]\naccess_ringbuf = 2GiB",
	 "t.conf:2: access_ringbuf: '2GiB' is above the maximum 1GiB"},
	{"[migrate]\nmin_rss = 1025TiB",
	 "t.conf:2: min_rss: '1025TiB' is above the maximum 1024TiB"},
	{"[migrate]\nmin_rss = 18446744073709551615",
	 "t.conf:2: min_rss: '18446744073709551615' is above the maximum 1024TiB"},
	/* rates */
	{"[migrate]\nrate = 4095/s",
	 "t.conf:2: rate: '4095/s' is below the minimum 4KiB/s (or unlimited or 0: no limit)"},
	{"[migrate]\nrate = 1025GiB/s",
	 "t.conf:2: rate: '1025GiB/s' is above the maximum 1TiB/s (or unlimited or 0: no limit)"},
	{"[migrate]\nrate = 50MB",
	 "t.conf:2: rate: '50MB' is not a rate; write it per second, e.g. 50MB/s"},
	{"[migrate]\nrate = 50MB/h",
	 "t.conf:2: rate: '50MB/h' is not a rate; write a size per second, e.g. 32MiB/s or "
	 "200MB/s"},
	{"[migrate]\nrate = /s",
	 "t.conf:2: rate: '/s' is not a rate; write a size per second, e.g. 32MiB/s or 200MB/s"},
	{"[migrate]\nrate = -1MB/s",
	 "t.conf:2: rate: '-1MB/s' is negative; write a size per second, e.g. 32MiB/s or 200MB/s"},
	/* numbers */
	{"[sampler]\nmax_pages = 1023", "t.conf:2: max_pages: '1023' is below the minimum 1024"},
	{"[sampler]\nmax_pages = 4194305", "t.conf:2: max_pages: '4194305' is above the maximum "
					   "4194304"},
	{"[sampler]\nmax_pages = 99999999999999999999999",
	 "t.conf:2: max_pages: '99999999999999999999999' is above the maximum 4194304"},
	{"[sampler]\nmax_pages = 64K",
	 "t.conf:2: max_pages: '64K' is not a whole number; write a whole number without sign or "
	 "unit"},
	{"[sampler]\nmax_pages = 1.5",
	 "t.conf:2: max_pages: '1.5' is not a whole number; write a whole number without sign or "
	 "unit"},
	{"[sampler]\nmax_pages = -1",
	 "t.conf:2: max_pages: '-1' is negative; write a whole number without sign or unit"},
	{"[sampler]\nmax_pages = auto",
	 "t.conf:2: max_pages: 'auto' is not a whole number; write a whole number without sign or "
	 "unit"},
	{"[sampler]\nmax_oncpu = 15",
	 "t.conf:2: max_oncpu: '15' is below the minimum 16 (or auto: max_processes x (nodes + "
	 "1))"},
	{"[sampler]\nmax_oncpu = 0",
	 "t.conf:2: max_oncpu: '0' is below the minimum 16 (or auto: max_processes x (nodes + "
	 "1))"},
	{"[sampler]\nmax_processes = 0", "t.conf:2: max_processes: '0' is below the minimum 1"},
	{"[sampler]\nmax_processes = 65537",
	 "t.conf:2: max_processes: '65537' is above the maximum 65536"},
	{"[sampler]\nmax_movers = 4097", "t.conf:2: max_movers: '4097' is above the maximum 4096"},
	{"[sampler]\nmax_snapshot = 1023",
	 "t.conf:2: max_snapshot: '1023' is below the minimum 1024 (or auto: max_pages)"},
	{"[sampler]\npmu_period = 99", "t.conf:2: pmu_period: '99' is below the minimum 100"},
	{"[sampler]\npmu_period = 1000000001",
	 "t.conf:2: pmu_period: '1000000001' is above the maximum 1000000000"},
	{"[sampler]\naudit_pages = 1023",
	 "t.conf:2: audit_pages: '1023' is below the minimum 1024"},
	{"[migrate]\npages_per_call = 0", "t.conf:2: pages_per_call: '0' is below the minimum 1"},
	{"[migrate]\nthreads = 0", "t.conf:2: threads: '0' is below the minimum 1"},
	{"[migrate]\nthreads = 65", "t.conf:2: threads: '65' is above the maximum 64"},
	{"[migrate]\npages_per_call = 65537",
	 "t.conf:2: pages_per_call: '65537' is above the maximum 65536"},
	{"[migrate]\nmax_retries = 0", "t.conf:2: max_retries: '0' is below the minimum 1"},
	{"[migrate]\nmax_retries = 101", "t.conf:2: max_retries: '101' is above the maximum 100"},
	{"[migrate]\npingpong_intervals = 1001",
	 "t.conf:2: pingpong_intervals: '1001' is above the maximum 1000 (or 0: no ping-pong "
	 "detection)"},
	{"[migrate]\nfreeze = 0", "t.conf:2: freeze: '0' is below the minimum 1s"},
	{"[migrate]\nfreeze = 1441m", "t.conf:2: freeze: '1441m' is above the maximum 24h"},
	{"[daemon]\nmetrics_listen = 9464",
	 "t.conf:2: metrics_listen: '9464' is not HOST:PORT; write e.g. 127.0.0.1:9464 or "
	 "[::1]:9464"},
	{"[daemon]\nmetrics_listen = 127.0.0.1:65536",
	 "t.conf:2: metrics_listen: '127.0.0.1:65536' is not HOST:PORT; write e.g. 127.0.0.1:9464 "
	 "or [::1]:9464"},
	{"[daemon]\nmetrics_listen = 127.0.0.1:",
	 "t.conf:2: metrics_listen: '127.0.0.1:' is not HOST:PORT; write e.g. 127.0.0.1:9464 or "
	 "[::1]:9464"},
	{"[daemon]\nmetrics_listen = ::1:9464",
	 "t.conf:2: metrics_listen: '::1:9464' is not HOST:PORT; write e.g. 127.0.0.1:9464 or "
	 "[::1]:9464"},
	{"[daemon]\nmetrics_listen = [::1]9464",
	 "t.conf:2: metrics_listen: '[::1]9464' is not HOST:PORT; write e.g. 127.0.0.1:9464 or "
	 "[::1]:9464"},
	{"[daemon]\nmetrics_listen = 127.0.0.256:1",
	 "t.conf:2: metrics_listen: '127.0.0.256:1' is not HOST:PORT; write e.g. 127.0.0.1:9464 or "
	 "[::1]:9464"},
	{"[daemon]\nmetrics_listen = 0.0.0.0:9464",
	 "t.conf:2: metrics_listen: '0.0.0.0:9464' is not a loopback address; the endpoint has no "
	 "authentication, so only 127.x.y.z, [::1] and localhost are allowed"},
	{"[daemon]\nmetrics_listen = [::]:9464",
	 "t.conf:2: metrics_listen: '[::]:9464' is not a loopback address; the endpoint has no "
	 "authentication, so only 127.x.y.z, [::1] and localhost are allowed"},
	/* decimals and percentages */
	{"[sampler]\nmin_score = 0.0009",
	 "t.conf:2: min_score: '0.0009' is below the minimum 0.001"},
	{"[sampler]\nmin_score = 1000.000001",
	 "t.conf:2: min_score: '1000.000001' is above the maximum 1000.0"},
	{"[sampler]\nmin_score = 0.0000001",
	 "t.conf:2: min_score: '0.0000001' has more than 6 decimal places"},
	{"[sampler]\nmin_score = 99999999999999999999999",
	 "t.conf:2: min_score: '99999999999999999999999' is above the maximum 1000.0"},
	{"[sampler]\nmin_score = 1e3",
	 "t.conf:2: min_score: '1e3' is not a decimal number; write e.g. 0.75"},
	{"[sampler]\nmin_score = .5",
	 "t.conf:2: min_score: '.5' is not a decimal number; write e.g. 0.75"},
	{"[sampler]\nmin_score = 5.",
	 "t.conf:2: min_score: '5.' is not a decimal number; write e.g. 0.75"},
	{"[sampler]\nmin_score = 0,5",
	 "t.conf:2: min_score: '0,5' is not a decimal number; write e.g. 0.75"},
	{"[sampler]\nmin_score = nan",
	 "t.conf:2: min_score: 'nan' is not a decimal number; write e.g. 0.75"},
	{"[sampler]\nmin_score = -0.1",
	 "t.conf:2: min_score: '-0.1' is negative; allowed: 0.001..1000.0"},
	{"[migrate]\nwatermark = 91%", "t.conf:2: watermark: '91%' is above the maximum 90%"},
	{"[migrate]\nwatermark = 90.000001%",
	 "t.conf:2: watermark: '90.000001%' is above the maximum 90%"},
	{"[migrate]\nwatermark = 5", "t.conf:2: watermark: '5' has no % sign; write e.g. 5%"},
	{"[migrate]\nwatermark = -1%", "t.conf:2: watermark: '-1%' is negative; allowed: 0%..90%"},
	{"[migrate]\nwatermark = abc%",
	 "t.conf:2: watermark: 'abc%' is not a percentage; write e.g. 5% or 0.5%"},
	{"[migrate]\nwatermark = 5%%",
	 "t.conf:2: watermark: '5%%' is not a percentage; write e.g. 5% or 0.5%"},
	{"[migrate]\nwatermark = %",
	 "t.conf:2: watermark: '%' is not a percentage; write e.g. 5% or 0.5%"},
	{"[migrate]\nwatermark.node3 = 95%",
	 "t.conf:2: watermark.node3: '95%' is above the maximum 90%"},
	{"[migrate]\nwatermark.node64 = 5%", "t.conf:2: watermark.node64: node ids are 0..63"},
	{"[migrate]\nwatermark.node99999999999999999999 = 5%",
	 "t.conf:2: watermark.node99999999999999999999: node ids are 0..63"},
	{"[migrate]\nwatermark.nodex = 5%",
	 "t.conf:2: unknown key 'watermark.nodex' in [migrate]; per-node watermarks are "
	 "watermark.node0 .. watermark.node63"},
	{"[migrate]\nwatermark.node = 5%",
	 "t.conf:2: unknown key 'watermark.node' in [migrate]; per-node watermarks are "
	 "watermark.node0 .. watermark.node63"},
	/* keywords and booleans */
	{"[daemon]\nmode = enforcing",
	 "t.conf:2: mode: unknown value 'enforcing'; allowed: enforce, observe"},
	{"[daemon]\nlog_level = loud",
	 "t.conf:2: log_level: unknown value 'loud'; allowed: err, warning, notice, info, debug"},
	{"[daemon]\nlog_level = 7",
	 "t.conf:2: log_level: unknown value '7'; allowed: err, warning, notice, info, debug"},
	{"[sampler]\naudit_all = maybe",
	 "t.conf:2: audit_all: 'maybe' is not a boolean; use yes/no, true/false, on/off or 1/0"},
	{"[migrate]\nverify = 2",
	 "t.conf:2: verify: '2' is not a boolean; use yes/no, true/false, on/off or 1/0"},
	{"[migrate]\nverify = yes ; sure",
	 "t.conf:2: verify: 'yes ; sure' is not a boolean; use yes/no, true/false, on/off or 1/0 "
	 "(comments must be on a line of their own)"},
	/* sources */
	{"[sampler]\nsources = fault, bogus",
	 "t.conf:2: sources: unknown source 'bogus'; sources are fault, pmu, softdirty, numa_hint, "
	 "oncpu, audit, audit_thp, or all"},
	{"[sampler]\nsources = fault, fault", "t.conf:2: sources: source 'fault' is listed twice"},
	{"[sampler]\nsources = all, fault",
	 "t.conf:2: sources: 'all' cannot be combined with other sources"},
	{"[sampler]\nsources = fault,,pmu",
	 "t.conf:2: sources: 'fault,,pmu' has an empty entry; list sources separated by commas"},
	{"[sampler]\nsources = fault,",
	 "t.conf:2: sources: 'fault,' has an empty entry; list sources separated by commas"},
	{"[sampler]\nsources = fault, ,pmu",
	 "t.conf:2: sources: 'fault, ,pmu' has an empty entry; list sources separated by commas"},
	{"[sampler]\nsources = fault pmu",
	 "t.conf:2: sources: unknown source 'fault pmu'; sources are fault, pmu, softdirty, "
	 "numa_hint, oncpu, audit, audit_thp, or all"},
	/* strings */
	{"[daemon]\nsocket = run/x.sock", "t.conf:2: socket: 'run/x.sock' is not an absolute path"},
	{"[daemon]\nsocket_group = 9abc",
	 "t.conf:2: socket_group: '9abc' is not a group name or number; names have letters, "
	 "digits, "
	 "'_', '-' and '.', start with a letter or '_' and are at most 32 bytes long"},
	{"[daemon]\nsocket_group = a b",
	 "t.conf:2: socket_group: 'a b' is not a group name or number; names have letters, digits, "
	 "'_', '-' and '.', start with a letter or '_' and are at most 32 bytes long"},
	{"[daemon]\nsocket_group = a23456789012345678901234567890123",
	 "t.conf:2: socket_group: 'a23456789012345678901234567890123' is not a group name or "
	 "number; names have letters, digits, '_', '-' and '.', start with a letter or '_' and are "
	 "at most 32 bytes long"},
	{"[daemon]\nmetrics_file = pagemig.prom",
	 "t.conf:2: metrics_file: 'pagemig.prom' is not an absolute path"},
	{"[daemon]\nsocket = /run/a\tb",
	 "t.conf:2: socket: the value contains a control character"},
	/* policies */
	{"[policy p]\ntype = local",
	 "t.conf:2: type: unknown value 'local'; allowed: locality, tiering, pin, ignore"},
	{"[policy p]\ntype = ignore\npid = 0", "t.conf:3: pid: '0' is below the minimum 1"},
	{"[policy p]\ntype = ignore\npid = 4194305",
	 "t.conf:3: pid: '4194305' is above the maximum 4194304"},
	{"[policy p]\ntype = ignore\npid = self",
	 "t.conf:3: pid: 'self' is not a whole number; write a whole number without sign or unit"},
	{"[policy p]\ntype = ignore\ncomm = 1234567890123456",
	 "t.conf:3: comm: '1234567890123456' is 16 bytes long; process names (/proc/PID/comm) have "
	 "at most 15"},
	{"[policy p]\ntype = ignore\nexe = java",
	 "t.conf:3: exe: 'java' can never match: /proc/PID/exe is an absolute path; start the "
	 "pattern with '/' or '*'"},
	{"[policy p]\ntype = ignore\ncgroup = system.slice",
	 "t.conf:3: cgroup: 'system.slice' is not a cgroup v2 path; write it from the cgroup root, "
	 "e.g. /system.slice/postgresql.service"},
	{"[policy p]\ntype = ignore\ncgroup = /a//b",
	 "t.conf:3: cgroup: '/a//b' is not a cgroup v2 path; write it from the cgroup root, e.g. "
	 "/system.slice/postgresql.service"},
	{"[policy p]\ntype = ignore\ncgroup = /a/../b",
	 "t.conf:3: cgroup: '/a/../b' is not a cgroup v2 path; write it from the cgroup root, e.g. "
	 "/system.slice/postgresql.service"},
	{"[policy p]\ntype = ignore\ncgroup = /a/./b",
	 "t.conf:3: cgroup: '/a/./b' is not a cgroup v2 path; write it from the cgroup root, e.g. "
	 "/system.slice/postgresql.service"},
	{"[policy p]\ntype = ignore\nmin_rss = 1.5G",
	 "t.conf:3: min_rss: '1.5G' is not a whole number; use a smaller unit (1536MiB, not "
	 "1.5GiB)"},
	{"[policy p]\ntype = locality\nmin_share = 0.5",
	 "t.conf:3: min_share: '0.5' must be above 0.5"},
	{"[policy p]\ntype = locality\nmin_share = 0.4",
	 "t.conf:3: min_share: '0.4' must be above 0.5"},
	{"[policy p]\ntype = locality\nmin_share = 1.000001",
	 "t.conf:3: min_share: '1.000001' is above the maximum 1.0"},
	{"[policy p]\ntype = locality\nhot_score = 0",
	 "t.conf:3: hot_score: '0' is below the minimum 0.001"},
	{"[policy p]\ntype = locality\nhot_score = 1000000.000001",
	 "t.conf:3: hot_score: '1000000.000001' is above the maximum 1000000.0"},
	{"[policy p]\ntype = tiering\ncold_score = 0.0001",
	 "t.conf:3: cold_score: '0.0001' is below the minimum 0.001"},
	{"[policy p]\ntype = pin\nnodes = x",
	 "t.conf:3: nodes: 'x' is not a node list; write node ids and ranges, e.g. 0,2-3"},
	{"[policy p]\ntype = pin\nnodes = 1,",
	 "t.conf:3: nodes: '1,' is not a node list; write node ids and ranges, e.g. 0,2-3"},
	{"[policy p]\ntype = pin\nnodes = 1-",
	 "t.conf:3: nodes: '1-' is not a node list; write node ids and ranges, e.g. 0,2-3"},
	{"[policy p]\ntype = pin\nnodes = -1",
	 "t.conf:3: nodes: '-1' is not a node list; write node ids and ranges, e.g. 0,2-3"},
	{"[policy p]\ntype = pin\nnodes = 0-64",
	 "t.conf:3: nodes: '0-64' names a node above 63; node ids are 0..63"},
	{"[policy p]\ntype = pin\nnodes = 64",
	 "t.conf:3: nodes: '64' names a node above 63; node ids are 0..63"},
	{"[policy p]\ntype = pin\nnodes = 99999999999999999999999",
	 "t.conf:3: nodes: '99999999999999999999999' names a node above 63; node ids are 0..63"},
	{"[policy p]\ntype = pin\nnodes = 3-1", "t.conf:3: nodes: the range 3-1 runs backwards"},
	{"[policy p]\ntype = pin\nnodes = 1,1", "t.conf:3: nodes: node 1 is listed twice"},
	{"[policy p]\ntype = pin\nnodes = 0,1-3,2", "t.conf:3: nodes: node 2 is listed twice"},
	{"[policy p]\ntype = pin\nnodes = 0\ntarget = 64",
	 "t.conf:4: target: '64' is not a node; allowed: 0..63 or nearest"},
	{"[policy p]\ntype = pin\nnodes = 0\ntarget = -1",
	 "t.conf:4: target: '-1' is not a node; allowed: 0..63 or nearest"},
	/* policy rules across keys */
	{"[policy p]\ntype = pin", "t.conf:2: policy 'p': type pin needs nodes = (the nodes to "
				   "keep its memory on, e.g. nodes "
				   "= 0-1)"},
	{"[policy p]\ntype = pin\nnodes =", "t.conf:2: policy 'p': type pin needs nodes = (the "
					    "nodes to keep its memory on, e.g. nodes "
					    "= 0-1)"},
	{"[policy p]\ntype = locality\nnodes = 0",
	 "t.conf:3: nodes: only pin policies take nodes; policy 'p' is locality"},
	{"[policy p]\ntype = locality\ntarget = 0",
	 "t.conf:3: target: only pin policies take target; policy 'p' is locality"},
	{"[policy p]\ncold_score = 0.1\ntype = locality",
	 "t.conf:2: cold_score: only tiering policies take cold_score; policy 'p' is locality"},
	{"[policy p]\ntype = pin\nnodes = 0\nhot_score = 2",
	 "t.conf:4: hot_score: only locality and tiering policies take hot_score; policy 'p' is "
	 "pin"},
	{"[policy p]\ntype = tiering\nmin_share = 0.8",
	 "t.conf:3: min_share: only locality policies take min_share; policy 'p' is tiering"},
	{"[policy p]\ntype = ignore\nhot_score = 2",
	 "t.conf:3: hot_score: only locality and tiering policies take hot_score; policy 'p' is "
	 "ignore"},
	{"[policy p]\ntype = pin\nnodes = 0-1\ntarget = 3",
	 "t.conf:4: target: node 3 is not one of nodes (0-1)"},
	{"[policy p]\ntype = tiering\ncold_score = 1",
	 "t.conf:3: cold_score 1.0 is not below hot_score 1.0; a page cannot be hot and cold at "
	 "once"},
	{"[policy p]\ntype = tiering\nhot_score = 0.2",
	 "t.conf:3: cold_score 0.25 is not below hot_score 0.2; a page cannot be hot and cold at "
	 "once"},
	{"[policy p]\ncomm = x",
	 "t.conf:1: policy 'p' has no type; add type = locality, tiering, pin or ignore"},
	{"[policy p]\ntype =",
	 "t.conf:1: policy 'p' has no type; add type = locality, tiering, pin or ignore"},
	/* structure */
	{"[daemon", "t.conf:1: section header '[daemon' has no closing ']'"},
	{"[daemon] # main",
	 "t.conf:1: section header '[daemon] # main' has no closing ']' (comments must be on a "
	 "line of their own)"},
	{"[foo]",
	 "t.conf:1: unknown section [foo]; sections are [daemon], [sampler], [migrate] and [policy "
	 "NAME]"},
	{"[]",
	 "t.conf:1: unknown section []; sections are [daemon], [sampler], [migrate] and [policy "
	 "NAME]"},
	{"[Daemon]", "t.conf:1: unknown section [Daemon]; did you mean [daemon]?"},
	{"[deamon]", "t.conf:1: unknown section [deamon]; did you mean [daemon]?"},
	{"[polcy x]", "t.conf:1: unknown section [polcy x]; did you mean [policy NAME]?"},
	{"[daemon x]", "t.conf:1: [daemon] takes no name ('x')"},
	{"[daemon]\n[daemon]",
	 "t.conf:2: section [daemon] appears twice (first at line 1); merge them"},
	{"[policy]", "t.conf:1: [policy] needs a name: [policy NAME]"},
	{"[policy a b]",
	 "t.conf:1: policy name 'a b' is not allowed; use 1-63 letters, digits, '_', '-' or '.'"},
	{"[policy a/b]",
	 "t.conf:1: policy name 'a/b' is not allowed; use 1-63 letters, digits, '_', '-' or '.'"},
	{"[policy 1234567890123456789012345678901234567890123456789012345678901234]",
	 "t.conf:1: policy name '1234567890123456789012345678901234567890123456789012...' is not "
	 "allowed; use 1-63 letters, digits, '_', '-' or '.'"},
	{"[policy a]\ntype = ignore\n[policy a]\ntype = ignore",
	 "t.conf:3: policy 'a' is defined twice (first at line 1)"},
	{"interval = 5s", "t.conf:1: 'interval' is outside any section; it belongs in [daemon]"},
	{"type = pin", "t.conf:1: 'type' is outside any section; it belongs in [policy NAME]"},
	{"foo = 1", "t.conf:1: 'foo' is outside any section (and no section has such a key)"},
	{"[daemon]\nfoo = 1",
	 "t.conf:2: unknown key 'foo' in [daemon]; known keys: interval, mode, socket, "
	 "socket_group, log_level, metrics_file, metrics_listen"},
	{"[daemon]\nintervl = 5s",
	 "t.conf:2: unknown key 'intervl' in [daemon]; did you mean 'interval'?"},
	{"[daemon]\nInterval = 5s",
	 "t.conf:2: unknown key 'Interval' in [daemon]; did you mean 'interval'?"},
	{"[daemon]\nrate = 1MiB/s",
	 "t.conf:2: unknown key 'rate' in [daemon]; 'rate' belongs in [migrate]"},
	{"[migrate]\ntype = pin",
	 "t.conf:2: unknown key 'type' in [migrate]; 'type' belongs in [policy NAME]"},
	{"[policy p]\ntype = ignore\ncom = x",
	 "t.conf:3: unknown key 'com' in [policy p]; did you mean 'comm'?"},
	{"[policy p]\ntype = ignore\nwatermark = 5%",
	 "t.conf:3: unknown key 'watermark' in [policy p]; 'watermark' belongs in [migrate]"},
	{"[daemon]\n= 5", "t.conf:2: missing key before '='"},
	{"[daemon]\njunk", "t.conf:2: expected 'key = value', a [section] header or a comment, not "
			   "'junk'"},
	{"[daemon]\ninterval: 5s",
	 "t.conf:2: expected 'key = value', a [section] header or a comment, not 'interval: 5s'; "
	 "use '=' between key and value"},
	{"[daemon]\ninterval = 5s\ninterval = 6s",
	 "t.conf:3: 'interval' is set twice in [daemon] (first at line 2)"},
	{"[daemon]\ninterval = 5s\n[daemon]\ninterval = 6s",
	 "t.conf:3: section [daemon] appears twice (first at line 1); merge them"},
	{"[daemon]\ninterval = 5s\ninterval =",
	 "t.conf:3: 'interval' is set twice in [daemon] (first at line 2)"},
	{"[migrate]\nwatermark.node1 = 5%\nwatermark.node1 = 6%",
	 "t.conf:3: 'watermark.node1' is set twice in [migrate] (first at line 2)"},
	{"[policy p]\ntype = ignore\ntype = pin",
	 "t.conf:3: 'type' is set twice in [policy p] (first at line 2)"},
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct pagemig_config c;

		memset(&c, 0x5a, sizeof(c));
		if (parse(bads[i].text, &c) != -EINVAL || diag.errors < 1 ||
		    strcmp(msg(0), bads[i].want)) {
			dump_diag(bads[i].text);
			print_error("want: %s\n", bads[i].want);
			fail();
		}
		assert_int_equal(diag.msg[0].severity, PAGEMIG_CONFIG_ERROR);
		/* the caller's configuration is left alone */
		for (size_t b = 0; b < sizeof(c); b++)
			assert_int_equal(((unsigned char *)&c)[b], 0x5a);
	}
}

/* The same value can be written in several sections' keys without the errors interfering. */
static void test_one_error_each(void **state)
{
	struct pagemig_config c;

	/* one problem, one message: an invalid type is not also "no type" */
	assert_int_equal(parse("[policy p]\ntype = local", &c), -EINVAL);
	assert_int_equal(diag.errors, 1);
	/* an invalid node list is not also "pin needs nodes" */
	assert_int_equal(parse("[policy p]\ntype = pin\nnodes = x", &c), -EINVAL);
	assert_int_equal(diag.errors, 1);
	/* keys under an unusable header are not checked */
	assert_int_equal(parse("[foo]\na = 1\nb = 2\n[policy a b]\nc = 3", &c), -EINVAL);
	assert_int_equal(diag.errors, 2);
	/* a duplicate policy's keys are still checked */
	assert_int_equal(parse("[policy a]\ntype = ignore\n[policy a]\ntype = bad", &c), -EINVAL);
	assert_int_equal(diag.errors, 2);
	assert_string_equal(msg(1), "t.conf:4: type: unknown value 'bad'; allowed: locality, "
				    "tiering, pin, ignore");
}

/* ---- many errors, structure, line endings ------------------------------------------------- */

static void test_many_errors(void **state)
{
	static const char text[] = "# pagemig.conf with a mistake on many lines\n"
				   "[daemon]\n"
				   "interval = 0s\n" /* 3 */
				   "mode = enforce\n"
				   "mode = observe\n" /* 5 */
				   "\n"
				   "[sampler]\n"
				   "sources = fault, bogus\n" /* 8 */
				   "half_life = 5\n"	      /* 9 */
				   "[samplr]\n"		      /* 10 */
				   "whatever = 1\n"
				   "[migrate]\n"
				   "rate = 50MB\n"	      /* 13 */
				   "watermark = 5\n"	      /* 14 */
				   "watermark.node2 = 95%\n"  /* 15 */
				   "pages_per_call = 65537\n" /* 16 */
				   "; a comment\n"
				   "[policy db]\n"
				   "type = pin\n" /* 19: needs nodes */
				   "[policy all]\n"
				   "type = locality\n"
				   "nodes = 0\n"   /* 22 */
				   "[policy db]\n" /* 23 */
				   "type = ignore\n"
				   "bogus\n"; /* 25 */
	static const char *const want[] = {
		"t.conf:3: interval: '0s' is below the minimum 100ms",
		"t.conf:5: 'mode' is set twice in [daemon] (first at line 4)",
		"t.conf:8: sources: unknown source 'bogus'; sources are fault, pmu, softdirty, "
		"numa_hint, oncpu, audit, audit_thp, or all",
		"t.conf:9: half_life: '5' has no unit; durations need one of us, ms, s, m, h (e.g. "
		"5s)",
		"t.conf:10: unknown section [samplr]; did you mean [sampler]?",
		"t.conf:13: rate: '50MB' is not a rate; write it per second, e.g. 50MB/s",
		"t.conf:14: watermark: '5' has no % sign; write e.g. 5%",
		"t.conf:15: watermark.node2: '95%' is above the maximum 90%",
		"t.conf:16: pages_per_call: '65537' is above the maximum 65536",
		"t.conf:19: policy 'db': type pin needs nodes = (the nodes to keep its memory on, "
		"e.g. "
		"nodes = 0-1)",
		"t.conf:20: warning: policy 'all' never applies: policy 'db' (line 18) comes first "
		"and "
		"matches every process it would match",
		"t.conf:22: nodes: only pin policies take nodes; policy 'all' is locality",
		"t.conf:23: policy 'db' is defined twice (first at line 18)",
		"t.conf:25: expected 'key = value', a [section] header or a comment, not 'bogus'",
	};
	struct pagemig_config c;

	assert_int_equal(parse(text, &c), -EINVAL);
	if (diag.n != sizeof(want) / sizeof(want[0]))
		dump_diag(text);
	assert_int_equal(diag.n, sizeof(want) / sizeof(want[0]));
	assert_int_equal(diag.errors, diag.n - 1);
	assert_int_equal(diag.warnings, 1);
	for (unsigned int i = 0; i < diag.n; i++)
		assert_string_equal(msg(i), want[i]);
}

static void test_too_many_errors(void **state)
{
	char *text = malloc(150 * 32), *out = NULL;
	size_t at = 0, len = 0;
	struct pagemig_config c;
	FILE *f;

	assert_non_null(text);
	at += (size_t)sprintf(text, "[daemon]\n");
	for (int i = 0; i < 150; i++)
		at += (size_t)sprintf(text + at, "bogus%d\n", i);
	assert_int_equal(pagemig_config_parse(text, at, "t.conf", &c, &diag), -EINVAL);
	assert_int_equal(diag.errors, 150);
	assert_int_equal(diag.n, PAGEMIG_CONFIG_DIAG_MAX);
	assert_string_equal(msg(99), "t.conf:101: expected 'key = value', a [section] header or a "
				     "comment, not 'bogus99'");
	assert_int_equal(pagemig_config_diag_format(&diag, 100, text, 10), -EINVAL);

	f = open_memstream(&out, &len);
	assert_non_null(f);
	pagemig_config_diag_print(f, &diag);
	fclose(f);
	assert_non_null(strstr(out, "t.conf:2: expected 'key = value', a [section] header or a "
				    "comment, not 'bogus0'\n"));
	assert_non_null(strstr(out, "\nt.conf: 50 more errors not shown\n"));
	free(out);
	free(text);
}

static void test_print(void **state)
{
	struct pagemig_config c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(parse("[daemon]\nmetrics_file = /x/m.txt\ninterval = 0s", &c), -EINVAL);
	f = open_memstream(&out, &len);
	pagemig_config_diag_print(f, &diag);
	fclose(f);
	assert_string_equal(out,
			    "t.conf:2: warning: metrics_file: '/x/m.txt' does not end in .prom; "
			    "node_exporter's textfile collector reads only *.prom files\n"
			    "t.conf:3: interval: '0s' is below the minimum 100ms\n");
	free(out);
}

static void test_empty_and_comments(void **state)
{
	static const char *const texts[] = {
		"",
		"\n",
		"\n\n\n",
		"# only a comment",
		"; only a comment\n",
		"   # indented comment\n\t; another\n",
		" \t \n",
		"\xef\xbb\xbf",
		"\xef\xbb\xbf# a BOM and a comment\n",
		"\r\n",
		"[daemon]\n[sampler]\n[migrate]\n",
	};
	struct pagemig_config c, d;

	pagemig_config_init(&d);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		memset(&c, 0, sizeof(c));
		if (parse(texts[i], &c) != 0 || diag.n) {
			dump_diag(texts[i]);
			fail();
		}
		assert_true(pagemig_config_equal(&c, &d));
		assert_int_equal(c.n_rules, 0);
		assert_null(c.rules);
	}
	/* text need not be NUL-terminated, and len is respected */
	assert_int_equal(pagemig_config_parse("[daemon]\ninterval = 7sXXX", 22, "t", &c, &diag), 0);
	assert_int_equal(c.interval_ms, 7000);
	/* NULL text with length 0, NULL diag */
	assert_int_equal(pagemig_config_parse(NULL, 0, NULL, &c, NULL), 0);
	assert_int_equal(pagemig_config_parse("[daemon]\nbad", 12, NULL, &c, NULL), -EINVAL);
}

static void test_line_endings(void **state)
{
	struct pagemig_config c;

	/* CRLF everywhere, including a quoted value and a header */
	assert_int_equal(parse("[daemon]\r\ninterval = 7s\r\nsocket = \"/run/a b\"\r\n"
			       "[policy p]\r\ntype = ignore\r\n",
			       &c),
			 0);
	assert_int_equal(diag.n, 0);
	assert_int_equal(c.interval_ms, 7000);
	assert_string_equal(c.socket_path, "/run/a b");
	assert_string_equal(c.rules[0].name, "p");
	pagemig_config_free(&c);
	/* no final newline */
	assert_int_equal(parse("[daemon]\ninterval = 8s", &c), 0);
	assert_int_equal(c.interval_ms, 8000);
	assert_int_equal(parse("[daemon]\r\ninterval = 9s\r", &c), 0);
	assert_int_equal(c.interval_ms, 9000);
	/* line numbers count CRLF lines and the last line without newline */
	assert_int_equal(parse("[daemon]\r\n\r\n\r\ninterval = 0s", &c), -EINVAL);
	assert_string_equal(msg(0), "t.conf:4: interval: '0s' is below the minimum 100ms");
	/* a lone CR inside a line is a control character, not a line end */
	assert_int_equal(parse("[daemon]\nsocket = /a\rb\n", &c), -EINVAL);
	assert_string_equal(msg(0), "t.conf:2: socket: the value contains a control character");
}

static void test_long_lines(void **state)
{
	char *text = malloc(3 * PAGEMIG_CONFIG_LINE_MAX);
	struct pagemig_config c;
	size_t n;

	assert_non_null(text);
	/* exactly PAGEMIG_CONFIG_LINE_MAX bytes: a comment is fine */
	memset(text, '#', PAGEMIG_CONFIG_LINE_MAX);
	strcpy(text + PAGEMIG_CONFIG_LINE_MAX, "\n[daemon]\ninterval = 6s\n");
	assert_int_equal(parse(text, &c), 0);
	assert_int_equal(c.interval_ms, 6000);
	/* the same with CRLF: the CR does not count */
	strcpy(text + PAGEMIG_CONFIG_LINE_MAX, "\r\n[daemon]\ninterval = 6s\n");
	assert_int_equal(parse(text, &c), 0);
	/* one byte more: an error, and parsing goes on */
	memset(text, '#', PAGEMIG_CONFIG_LINE_MAX + 1);
	strcpy(text + PAGEMIG_CONFIG_LINE_MAX + 1, "\n[daemon]\ninterval = 0s\n");
	assert_int_equal(parse(text, &c), -EINVAL);
	assert_int_equal(diag.errors, 2);
	assert_string_equal(msg(0), "t.conf:1: the line is 4097 bytes long; lines may have at most "
				    "4096");
	assert_string_equal(msg(1), "t.conf:3: interval: '0s' is below the minimum 100ms");
	/* a long value in a key line */
	n = (size_t)sprintf(text, "[policy p]\ntype = ignore\nexe = /");
	memset(text + n, 'x', PAGEMIG_CONFIG_LINE_MAX);
	text[n + PAGEMIG_CONFIG_LINE_MAX] = 0;
	assert_int_equal(parse(text, &c), -EINVAL);
	assert_string_equal(msg(0), "t.conf:3: the line is 4103 bytes long; lines may have at most "
				    "4096");
	/* a long value within the line limit: the key's own limit */
	n = (size_t)sprintf(text, "[policy p]\ntype = ignore\nexe = /");
	memset(text + n, 'x', 300);
	text[n + 300] = 0;
	assert_int_equal(parse(text, &c), -EINVAL);
	assert_string_equal(msg(0), "t.conf:3: exe: the pattern is 301 bytes long; at most 255 are "
				    "allowed");
	free(text);
}

static void test_nul_bytes(void **state)
{
	static const char text[] = "[daemon]\ninterval = 5s\0junk\nmode = observe\n\0\n";
	struct pagemig_config c;

	assert_int_equal(pagemig_config_parse(text, sizeof(text) - 1, "t.conf", &c, &diag),
			 -EINVAL);
	assert_int_equal(diag.errors, 2);
	assert_string_equal(msg(0),
			    "t.conf:2: the line contains a NUL byte (is this a text file?)");
	assert_string_equal(msg(1),
			    "t.conf:4: the line contains a NUL byte (is this a text file?)");
}

static void test_too_many_policies(void **state)
{
	char *text = malloc((PAGEMIG_CONFIG_RULES_MAX + 2) * 40);
	struct pagemig_config c;
	size_t at = 0;

	assert_non_null(text);
	for (int i = 0; i < PAGEMIG_CONFIG_RULES_MAX; i++)
		at += (size_t)sprintf(text + at, "[policy p%d]\ncomm = c%d\ntype = ignore\n", i, i);
	assert_int_equal(pagemig_config_parse(text, at, "t.conf", &c, &diag), 0);
	assert_int_equal(c.n_rules, PAGEMIG_CONFIG_RULES_MAX);
	assert_string_equal(c.rules[PAGEMIG_CONFIG_RULES_MAX - 1].name, "p1023");
	pagemig_config_free(&c);
	at += (size_t)sprintf(text + at, "[policy one-more]\ntype = ignore\n");
	assert_int_equal(pagemig_config_parse(text, at, "t.conf", &c, &diag), -EINVAL);
	assert_int_equal(diag.errors, 1);
	assert_string_equal(msg(0), "t.conf:3073: too many policies; at most 1024 are allowed");
	free(text);
}

/* ---- warnings ----------------------------------------------------------------------------- */

struct warning_case {
	const char *text;
	const char *want; /* the only message; NULL: none */
};

static const struct warning_case warnings[] = {
	{"[daemon]\nmetrics_file = /x/m.txt",
	 "t.conf:2: warning: metrics_file: '/x/m.txt' does not end in .prom; node_exporter's "
	 "textfile collector reads only *.prom files"},
	{"[daemon]\nmetrics_file = /x/.prom",
	 "t.conf:2: warning: metrics_file: '/x/.prom' does not end in .prom; node_exporter's "
	 "textfile collector reads only *.prom files"},
	{"[daemon]\nmetrics_file = /x/m.prom", NULL},
	{"[sampler]\nsources = softdirty, pmu",
	 "t.conf:2: warning: sources: softdirty re-arms write faults that only the fault source "
	 "sees; add fault"},
	{"[sampler]\nsources = numa_hint, oncpu",
	 "t.conf:2: warning: sources: numa_hint is seen through the fault source; add fault"},
	{"[sampler]\nsources = audit, audit_thp",
	 "t.conf:2: warning: sources: none of fault, pmu, oncpu: the policies have no access data "
	 "to act on"},
	{"[sampler]\nsources = oncpu", NULL},
	{"[daemon]\ninterval = 1m\n[sampler]\nhalf_life = 30s",
	 "t.conf:4: warning: half_life 30s is shorter than interval 1m: scores mostly decay away "
	 "between two plans"},
	{"[sampler]\nhalf_life = 30s\n[daemon]\ninterval = 1m",
	 "t.conf:4: warning: half_life 30s is shorter than interval 1m: scores mostly decay away "
	 "between two plans"},
	{"[daemon]\ninterval = 1m",
	 "t.conf:2: warning: half_life 10s is shorter than interval 1m: scores mostly decay away "
	 "between two plans"},
	/* policies that can never apply */
	{"[policy all]\ntype = locality\n[policy db]\ncomm = postgres\ntype = pin\nnodes = 0",
	 "t.conf:3: warning: policy 'db' never applies: policy 'all' (line 1) comes first and "
	 "matches every process it would match"},
	{"[policy all]\ncomm = *\ntype = locality\n[policy db]\ncomm = postgres\ntype = ignore",
	 "t.conf:4: warning: policy 'db' never applies: policy 'all' (line 1) comes first and "
	 "matches every process it would match"},
	{"[policy big]\nmin_rss = 1G\ntype = locality\n[policy bigger]\nmin_rss = 2G\ntype = "
	 "ignore",
	 "t.conf:4: warning: policy 'bigger' never applies: policy 'big' (line 1) comes first and "
	 "matches every process it would match"},
	{"[policy bigger]\nmin_rss = 2G\ntype = ignore\n[policy big]\nmin_rss = 1G\ntype = "
	 "locality",
	 NULL},
	{"[policy sys]\ncgroup = /system.slice/\ntype = ignore\n[policy pg]\ncgroup = "
	 "/system.slice/pg.service\ntype = locality",
	 "t.conf:4: warning: policy 'pg' never applies: policy 'sys' (line 1) comes first and "
	 "matches every process it would match"},
	{"[policy pg]\ncgroup = /system.slice/pg.service\ntype = locality\n[policy sys]\ncgroup = "
	 "/system.slice\ntype = ignore",
	 NULL},
	{"[policy a]\ncgroup = /a\ntype = ignore\n[policy ab]\ncgroup = /ab\ntype = ignore", NULL},
	{"[policy a]\ncomm = x\ntype = ignore\n[policy b]\ncomm = y\ntype = ignore", NULL},
	{"[policy a]\npid = 1\ntype = ignore\n[policy b]\npid = 1\ncomm = y\ntype = ignore",
	 "t.conf:4: warning: policy 'b' never applies: policy 'a' (line 1) comes first and matches "
	 "every process it would match"},
	{"[policy a]\nexe = /bin/*\ntype = ignore\n[policy b]\ntype = ignore", NULL},
	/* below the global floor: [migrate] min_rss is 32MiB by default */
	{"[policy small]\nmin_rss = 16MiB\ntype = locality",
	 "t.conf:2: warning: min_rss: 16MiB is below [migrate] min_rss 32MiB; processes smaller "
	 "than 32MiB are never managed"},
	{"[migrate]\nmin_rss = 1G\n[policy small]\nmin_rss = 16MiB\ntype = locality",
	 "t.conf:4: warning: min_rss: 16MiB is below [migrate] min_rss 1GiB (line 2); processes "
	 "smaller than 1GiB are never managed"},
	{"[policy small]\nmin_rss = 0\ntype = locality", NULL},
	/* a '#' after a blank in a string */
	{"[policy p]\ntype = ignore\nexe = /bin/x # the x",
	 "t.conf:3: warning: exe: the value '/bin/x # the x' contains a '#' or ';' after a blank: "
	 "comments must be on a line of their own; quote the value if it belongs there"},
	{"[policy p]\ntype = ignore\nexe = \"/bin/x # the x\"", NULL},
};

static void test_warnings(void **state)
{
	for (size_t i = 0; i < sizeof(warnings) / sizeof(warnings[0]); i++) {
		const struct warning_case *w = &warnings[i];
		struct pagemig_config c;

		if (parse(w->text, &c) != 0 || diag.errors || diag.n != (w->want ? 1 : 0) ||
		    (w->want && strcmp(msg(0), w->want))) {
			dump_diag(w->text);
			print_error("want: %s\n", w->want ? w->want : "(nothing)");
			fail();
		}
		if (w->want) {
			assert_int_equal(diag.warnings, 1);
			assert_int_equal(diag.msg[0].severity, PAGEMIG_CONFIG_WARNING);
		}
		pagemig_config_free(&c);
	}
}

/* ---- loading files ------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
	char dir[] = "/tmp/pagemig-config-XXXXXX", path[64];
	struct pagemig_config c;
	char *big;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pagemig.conf", dir);

	/* missing: -ENOENT, said clearly, the caller decides */
	assert_int_equal(pagemig_config_load(path, &c, &diag), -ENOENT);
	assert_int_equal(diag.errors, 1);
	assert_int_equal(diag.msg[0].line, 0);
	assert_string_equal(diag.name, path);
	assert_non_null(strstr(msg(0), ": cannot read the configuration: No such file or "
				       "directory"));
	assert_int_equal(pagemig_config_load(path, &c, NULL), -ENOENT);

	/* a directory */
	assert_int_equal(pagemig_config_load(dir, &c, &diag), -EISDIR);
	assert_non_null(strstr(msg(0), "cannot read the configuration: Is a directory"));

	/* a good file, its name in messages */
	write_file(path, "[daemon]\ninterval = 2s\nmetrics_file = /m\n", 41);
	assert_int_equal(pagemig_config_load(path, &c, &diag), 0);
	assert_int_equal(c.interval_ms, 2000);
	assert_int_equal(diag.warnings, 1);
	assert_int_equal(strncmp(msg(0), path, strlen(path)), 0);
	assert_string_equal(msg(0) + strlen(path),
			    ":3: warning: metrics_file: '/m' does not end in "
			    ".prom; node_exporter's textfile collector "
			    "reads only *.prom files");

	/* a bad file */
	write_file(path, "[daemon]\ninterval = 0s\n", 23);
	assert_int_equal(pagemig_config_load(path, &c, &diag), -EINVAL);
	assert_string_equal(msg(0) + strlen(path), ":2: interval: '0s' is below the minimum 100ms");

	/* empty: the defaults */
	write_file(path, "", 0);
	assert_int_equal(pagemig_config_load(path, &c, &diag), 0);
	assert_int_equal(c.interval_ms, 5000);

	/* larger than the limit; exactly the limit is read */
	big = malloc(PAGEMIG_CONFIG_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '\n', PAGEMIG_CONFIG_FILE_MAX + 1);
	write_file(path, big, PAGEMIG_CONFIG_FILE_MAX);
	assert_int_equal(pagemig_config_load(path, &c, &diag), 0);
	write_file(path, big, PAGEMIG_CONFIG_FILE_MAX + 1);
	assert_int_equal(pagemig_config_load(path, &c, &diag), -EFBIG);
	assert_string_equal(msg(0) + strlen(path), ": the file is larger than 1048576 bytes; is it "
						   "the right file?");
	free(big);

	/* unreadable (not for root, who reads anything) */
	if (geteuid() != 0) {
		write_file(path, "", 0);
		chmod(path, 0);
		assert_int_equal(pagemig_config_load(path, &c, &diag), -EACCES);
	}
	unlink(path);
	rmdir(dir);
}

/* ---- rendering, equality, copies, views --------------------------------------------------- */

static const char everything[] = "[daemon]\n"
				 "interval = 750ms\n"
				 "mode = observe\n"
				 "socket = \"/run/with blanks \"\n"
				 "socket_group = 1001\n"
				 "log_level = debug\n"
				 "metrics_file = /var/lib/node-exporter/p.prom\n"
				 "metrics_listen = [::1]:0\n"
				 "[sampler]\n"
				 "sources = fault, oncpu, audit_thp\n"
				 "max_pages = 2048\n"
				 "max_processes = 7\n"
				 "max_oncpu = 99\n"
				 "max_movers = 3\n"
				 "access_ringbuf = 1000000\n"
				 "ringbuf = 64KB\n"
				 "max_snapshot = 5000\n"
				 "half_life = 90s\n"
				 "min_score = 0.125\n"
				 "rearm = 0\n"
				 "pmu_period = 4001\n"
				 "audit_pages = 4096\n"
				 "audit_all = yes\n"
				 "[migrate]\n"
				 "rate = unlimited\n"
				 "pages_per_call = 512\n"
				 "call_budget = unlimited\n"
				 "threads = 3\n"
				 "max_retries = 7\n"
				 "retry_backoff = 1500us\n"
				 "verify = no\n"
				 "move_shared = yes\n"
				 "watermark = 2.5%\n"
				 "watermark.node0 = 10%\n"
				 "watermark.node63 = 0%\n"
				 "cooldown = 0\n"
				 "pingpong_intervals = 0\n"
				 "freeze = 90m\n"
				 "min_rss = 1000000\n"
				 "[policy sys]\n"
				 "cgroup = /system.slice\n"
				 "type = ignore\n"
				 "[policy db]\n"
				 "pid = 42\n"
				 "comm = \"\"pg \"\n"
				 "exe = \"/usr/bin/x ;y\"\n"
				 "type = pin\n"
				 "nodes = 0-2,5,63\n"
				 "target = 5\n"
				 "[policy tier]\n"
				 "exe = /opt/*\n"
				 "min_rss = 3GB\n"
				 "type = tiering\n"
				 "hot_score = 123456.5\n"
				 "cold_score = 0.002501\n"
				 "[policy loc]\n"
				 "comm = java\n"
				 "min_rss = 1TiB\n"
				 "type = locality\n"
				 "hot_score = 0.3\n"
				 "min_share = 0.999999\n";

static void round_trip(const struct pagemig_config *c, unsigned int flags)
{
	struct pagemig_config back;
	char *text = pagemig_config_render(c, flags);

	assert_non_null(text);
	if (pagemig_config_parse(text, strlen(text), "rendered", &back, &diag) != 0 || diag.n) {
		dump_diag(text);
		fail();
	}
	if (!pagemig_config_equal(c, &back)) {
		print_error("rendered:\n%s", text);
		fail();
	}
	pagemig_config_free(&back);
	free(text);
}

static void test_render_round_trip(void **state)
{
	struct pagemig_config c, d;
	char *text;

	/* defaults */
	pagemig_config_init(&d);
	round_trip(&d, 0);
	round_trip(&d, PAGEMIG_CONFIG_RENDER_CHANGED);
	text = pagemig_config_render(&d, PAGEMIG_CONFIG_RENDER_CHANGED);
	assert_string_equal(text, "");
	free(text);

	/* every key away from its default */
	if (parse(everything, &c) != 0 || diag.n) {
		dump_diag(everything);
		fail();
	}
	assert_false(pagemig_config_equal(&c, &d));
	assert_string_equal(c.socket_path, "/run/with blanks ");
	assert_string_equal(c.rules[1].match_comm, "\"pg ");
	round_trip(&c, 0);
	round_trip(&c, PAGEMIG_CONFIG_RENDER_CHANGED);

	/* the canonical form */
	text = pagemig_config_render(&c, PAGEMIG_CONFIG_RENDER_CHANGED);
	assert_non_null(strstr(text, "[daemon]\ninterval = 750ms\nmode = observe\n"
				     "socket = \"/run/with blanks \"\n"));
	assert_non_null(strstr(text, "\nsources = fault, oncpu, audit_thp\n"));
	assert_non_null(strstr(text, "\naccess_ringbuf = 1MB\nringbuf = 64KB\n"));
	assert_non_null(strstr(text, "\nhalf_life = 90s\nmin_score = 0.125\nrearm = 0\n"));
	assert_non_null(strstr(text, "\nrate = unlimited\n"));
	assert_non_null(strstr(text, "\nretry_backoff = 1500us\n"));
	assert_non_null(strstr(text, "\nwatermark = 2.5%\nwatermark.node0 = 10%\n"
				     "watermark.node63 = 0%\ncooldown = 0\n"));
	assert_non_null(strstr(text, "\nmin_rss = 1MB\n"));
	assert_non_null(strstr(text, "[policy db]\npid = 42\ncomm = \"\"pg \"\n"
				     "exe = \"/usr/bin/x ;y\"\ntype = pin\nnodes = 0-2,5,63\n"
				     "target = 5\n"));
	assert_non_null(strstr(text, "[policy tier]\nexe = /opt/*\nmin_rss = 3GB\ntype = tiering\n"
				     "hot_score = 123456.5\ncold_score = 0.002501\n"));
	assert_non_null(strstr(text, "[policy loc]\ncomm = java\nmin_rss = 1TiB\ntype = locality\n"
				     "hot_score = 0.3\nmin_share = 0.999999\n"));
	free(text);

	/* a full render shows every key of the sections and the applicable policy keys */
	text = pagemig_config_render(&d, 0);
	assert_non_null(strstr(text, "[daemon]\ninterval = 5s\n"));
	assert_non_null(strstr(text, "\nmetrics_file =\n"));
	assert_null(strstr(text, "watermark.node"));
	assert_null(strstr(text, "[policy"));
	free(text);

	/* equality notices single changes */
	assert_int_equal(pagemig_config_copy(&c, &d), 0);
	assert_true(pagemig_config_equal(&c, &d));
	d.rules[3].min_share = 0.9;
	assert_false(pagemig_config_equal(&c, &d));
	d.rules[3].min_share = c.rules[3].min_share;
	d.watermark_node_pct[63] = 1;
	assert_false(pagemig_config_equal(&c, &d));
	d.watermark_node_pct[63] = 0;
	d.watermark_node_pct[5] = 1; /* not an override: does not count */
	assert_true(pagemig_config_equal(&c, &d));
	strcpy(d.rules[0].name, "other");
	assert_false(pagemig_config_equal(&c, &d));
	pagemig_config_free(&d);
	assert_null(d.rules);
	assert_int_equal(d.n_rules, 0);
	pagemig_config_free(&d);
	pagemig_config_free(NULL);
	pagemig_config_free(&c);
}

/* Every rendered default is the table's default text, and parsing "key = default" changes
 * nothing. */
static void test_defaults_match_table(void **state)
{
	size_t n;
	const struct pagemig_config_key *k = pagemig_config_keys(&n);
	struct pagemig_config d, c;
	char *text, line[600];

	pagemig_config_init(&d);
	text = pagemig_config_render(&d, 0);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(k[i].section, "policy") || strchr(k[i].key, '<'))
			continue;
		snprintf(line, sizeof(line), "\n%s =%s%s\n", k[i].key, k[i].def[0] ? " " : "",
			 k[i].def);
		if (!strstr(text, line)) {
			print_error("'%s' not in\n%s", line, text);
			fail();
		}
		snprintf(line, sizeof(line), "[%s]\n%s = %s\n", k[i].section, k[i].key, k[i].def);
		assert_int_equal(parse(line, &c), 0);
		assert_true(pagemig_config_equal(&c, &d));
	}
	free(text);

	/* a policy with only its type: every other key at its default */
	for (size_t i = 0; i < n; i++) {
		const char *type = k[i].policy_types & (1u << PAGEMIG_POLICY_PIN) ? "pin\nnodes = 0"
				   : k[i].policy_types & (1u << PAGEMIG_POLICY_TIERING)
					   ? "tiering"
					   : "locality";
		struct pagemig_config e;

		if (strcmp(k[i].section, "policy") || !strcmp(k[i].key, "type") ||
		    !strcmp(k[i].key, "nodes"))
			continue;
		snprintf(line, sizeof(line), "[policy p]\ntype = %s\n", type);
		assert_int_equal(parse(line, &e), 0);
		snprintf(line, sizeof(line), "[policy p]\ntype = %s\n%s = %s\n", type, k[i].key,
			 k[i].def);
		assert_int_equal(parse(line, &c), 0);
		assert_true(pagemig_config_equal(&c, &e));
		pagemig_config_free(&c);
		pagemig_config_free(&e);
	}
}

/* The range column agrees with what the parser accepts: both ends of every "A..B" parse. */
static void test_table_ranges(void **state)
{
	size_t n;
	const struct pagemig_config_key *k = pagemig_config_keys(&n);
	char text[600], lo[64], hi[64];

	for (size_t i = 0; i < n; i++) {
		const char *dots = strstr(k[i].range, ".."), *s, *e;
		const char *key = strchr(k[i].key, '<') ? "watermark.node7" : k[i].key;
		struct pagemig_config c;

		if (!dots)
			continue;
		for (s = dots; s > k[i].range && s[-1] != ' '; s--)
			;
		snprintf(lo, sizeof(lo), "%.*s", (int)(dots - s), s);
		e = dots + 2 + strcspn(dots + 2, ", ");
		snprintf(hi, sizeof(hi), "%.*s", (int)(e - dots - 2), dots + 2);
		for (int end = 0; end < 2; end++) {
			const char *v = end ? hi : lo;

			char prefix[80];

			if (!strcmp(k[i].section, "policy"))
				snprintf(text, sizeof(text), "[policy p]\ntype = %s\n%s = %s\n",
					 k[i].policy_types & (1u << PAGEMIG_POLICY_LOCALITY)
						 ? "locality"
					 : k[i].policy_types & (1u << PAGEMIG_POLICY_TIERING)
						 ? "tiering"
						 : "pin",
					 key, v);
			else
				snprintf(text, sizeof(text), "[%s]\n%s = %s\n", k[i].section, key,
					 v);
			/* no complaint about the value itself (cross-key checks may object: a
			 * cold_score of 1000000.0 is not below any hot_score) */
			snprintf(prefix, sizeof(prefix), "%s: '", key);
			parse(text, &c);
			for (unsigned int m = 0; m < diag.n; m++)
				if (strstr(msg(m), prefix)) {
					dump_diag(text);
					fail();
				}
			if (!diag.errors)
				pagemig_config_free(&c);
		}
	}
}

static void test_key_table(void **state)
{
	size_t n, policy = 0;
	const struct pagemig_config_key *k = pagemig_config_keys(&n);
	static const char *const kinds[] = {"duration",	 "size",    "rate",	  "percent",
					    "decimal",	 "number",  "boolean",	  "keyword",
					    "path",	 "pattern", "group",	  "address",
					    "node list", "node",    "source list"};

	assert_non_null(k);
	assert_ptr_equal(pagemig_config_keys(NULL), k);
	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		bool kind_ok = false;

		assert_non_null(k[i].section);
		assert_true(!strcmp(k[i].section, "daemon") || !strcmp(k[i].section, "sampler") ||
			    !strcmp(k[i].section, "migrate") || !strcmp(k[i].section, "policy"));
		assert_true(k[i].key[0]);
		assert_non_null(k[i].def);
		assert_true(k[i].range[0]);
		assert_true(strlen(k[i].help) > 10);
		assert_non_null(k[i].priv);
		for (size_t j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++)
			kind_ok |= !strcmp(k[i].kind, kinds[j]);
		assert_true(kind_ok);
		if (!strcmp(k[i].section, "policy")) {
			policy++;
			assert_int_not_equal(k[i].policy_types, 0);
		} else {
			assert_int_equal(k[i].policy_types, 0);
		}
		for (size_t j = 0; j < i; j++)
			assert_false(!strcmp(k[i].section, k[j].section) &&
				     !strcmp(k[i].key, k[j].key));
		/* sections come in documentation order */
		if (i)
			assert_true(!strcmp(k[i].section, k[i - 1].section) ||
				    strcmp(k[i - 1].section, "policy"));
	}
	assert_int_equal(policy, 11);
	assert_string_equal(pagemig_mode_name(PAGEMIG_MODE_OBSERVE), "observe");
	assert_string_equal(pagemig_mode_name(PAGEMIG_MODE_ENFORCE), "enforce");
	assert_string_equal(pagemig_mode_name((enum pagemig_mode)7), "?");
}

static void test_views(void **state)
{
	struct pagemig_config c;
	struct pagemig_policy_config pc;
	struct pagemig_opts o;

	assert_int_equal(parse(everything, &c), 0);
	pagemig_config_policy(&c, &pc);
	assert_ptr_equal(pc.rules, c.rules);
	assert_int_equal(pc.n_rules, 4);
	assert_int_equal(pc.rate_bytes_per_s, 0);
	assert_int_equal(pc.cooldown_ms, 0);
	assert_int_equal(pc.pingpong_intervals, 0);
	assert_int_equal(pc.freeze_ms, 90 * 60 * 1000);
	assert_true(pc.watermark_pct[0] == 10);
	assert_true(pc.watermark_pct[1] == 2.5);
	assert_true(pc.watermark_pct[62] == 2.5);
	assert_true(pc.watermark_pct[63] == 0);

	pagemig_config_migrate_opts(&c, &o);
	assert_int_equal(o.sz, sizeof(o));
	assert_int_equal(o.flags, PAGEMIG_MOVE_ALL | PAGEMIG_NO_VERIFY);
	assert_int_equal(o.max_retries, 7);
	assert_int_equal(o.pages_per_call, 512);
	assert_int_equal(o.call_budget_us, UINT_MAX);
	assert_int_equal(o.threads, 3);
	assert_int_equal(o.backoff_us, 1500);
	assert_int_equal(o.rate_bytes_per_s, 0);
	assert_null(o.details);
	pagemig_config_free(&c);

	pagemig_config_init(&c);
	pagemig_config_migrate_opts(&c, &o);
	assert_int_equal(o.flags, 0);
	assert_int_equal(o.max_retries, PAGEMIG_DEFAULT_MAX_RETRIES);
	assert_int_equal(o.pages_per_call, PAGEMIG_DEFAULT_PAGES_PER_CALL);
	/* the daemon's own: a move call's fixed cost makes shorter calls much slower */
	assert_int_equal(o.call_budget_us, 20000);
	assert_int_equal(o.threads, 1);
	assert_int_equal(o.backoff_us, PAGEMIG_DEFAULT_BACKOFF_US);
	assert_int_equal(o.rate_bytes_per_s, 32u << 20);

	/* the sampler part agrees with the sampler's own defaults where it has them */
	assert_int_equal(c.sampler.sz, sizeof(c.sampler));
	assert_int_equal(c.sampler.sources, PAGEMIG_SOURCES_ALL);
	assert_int_equal(c.sampler.max_pages, PAGEMIG_SAMPLER_DEF_PAGES);
	assert_int_equal(c.sampler.max_tgids, PAGEMIG_SAMPLER_DEF_TGIDS);
	assert_int_equal(c.sampler.max_movers, PAGEMIG_SAMPLER_DEF_MOVERS);
	assert_int_equal(c.sampler.ringbuf_bytes, PAGEMIG_SAMPLER_DEF_RINGBUF);
	assert_int_equal(c.sampler.access_ring_bytes, PAGEMIG_SAMPLER_DEF_ACCESS_RING);
	assert_int_equal(c.sampler.half_life_ms, PAGEMIG_SAMPLER_DEF_HALF_LIFE_MS);
	assert_true(c.sampler.min_score == PAGEMIG_SAMPLER_DEF_MIN_SCORE);
	assert_int_equal(c.sampler.pmu_period, PAGEMIG_SAMPLER_DEF_PMU_PERIOD);
	assert_int_equal(c.sampler.audit_pages, PAGEMIG_SAMPLER_DEF_AUDIT_PAGES);
	assert_int_equal(c.sampler.max_oncpu, 0);
	assert_int_equal(c.sampler.max_snapshot, 0);
	assert_null(c.sampler.log);
	assert_null(c.sampler.sysfs_root);
	pagemig_config_policy(&c, &pc);
	assert_int_equal(pc.n_rules, 0);
	for (int i = 0; i < PAGEMIG_TOPO_MAX_NODES; i++)
		assert_true(pc.watermark_pct[i] == 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_uints),
		cmocka_unit_test(test_good_doubles),
		cmocka_unit_test(test_good_strings),
		cmocka_unit_test(test_good_policies),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_one_error_each),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_too_many_policies),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_render_round_trip),
		cmocka_unit_test(test_defaults_match_table),
		cmocka_unit_test(test_table_ranges),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
