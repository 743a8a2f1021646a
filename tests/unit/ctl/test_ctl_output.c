// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pagemigctl's human output: numbers with units, aligned tables that fit 80 columns, cells
 * that cannot carry terminal escapes, and each command's renderer on synthetic answers
 * (including answers missing fields, as an older or newer daemon may send).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"
#include "table.h"

static void test_units(void **state)
{
	char b[32];

	assert_string_equal(ctl_fmt_bytes(b, sizeof(b), 0), "0 B");
	assert_string_equal(ctl_fmt_bytes(b, sizeof(b), 1023), "1023 B");
	assert_string_equal(ctl_fmt_bytes(b, sizeof(b), 1536), "1.50 KiB");
	assert_string_equal(ctl_fmt_bytes(b, sizeof(b), 482ull << 20), "482.0 MiB");
	assert_string_equal(ctl_fmt_bytes(b, sizeof(b), 1000ull << 20), "1000 MiB");
	assert_string_equal(ctl_fmt_bytes(b, sizeof(b), 16ull << 30), "16.0 GiB");
	assert_string_equal(ctl_fmt_bytes(b, sizeof(b), UINT64_MAX), "16.0 EiB");

	assert_string_equal(ctl_fmt_duration(b, sizeof(b), 45), "45s");
	assert_string_equal(ctl_fmt_duration(b, sizeof(b), 243), "4m 3s");
	assert_string_equal(ctl_fmt_duration(b, sizeof(b), 7500), "2h 5m");
	assert_string_equal(ctl_fmt_duration(b, sizeof(b), 3 * 86400 + 4 * 3600 + 5), "3d 4h");

	assert_string_equal(ctl_fmt_ms(b, sizeof(b), 0.85), "850 us");
	assert_string_equal(ctl_fmt_ms(b, sizeof(b), 1.234), "1.23 ms");
	assert_string_equal(ctl_fmt_ms(b, sizeof(b), 12.34), "12.3 ms");
	assert_string_equal(ctl_fmt_ms(b, sizeof(b), 2100), "2.10 s");
	assert_string_equal(ctl_fmt_ms(b, sizeof(b), NAN), "n/a");

	assert_string_equal(ctl_fmt_share(b, sizeof(b), 0.875), "87.5%");
	assert_string_equal(ctl_fmt_share(b, sizeof(b), 1), "100.0%");
	assert_string_equal(ctl_fmt_share(b, sizeof(b), -1), "n/a");

	assert_string_equal(ctl_fmt_count(b, sizeof(b), 9999), "9999");
	assert_string_equal(ctl_fmt_count(b, sizeof(b), 12345), "12.3k");
	assert_string_equal(ctl_fmt_count(b, sizeof(b), 4560000), "4.56M");
	assert_string_equal(ctl_fmt_count(b, sizeof(b), 999999), "1.00M");
}

static void test_sanitize(void **state)
{
	char b[64];

	assert_string_equal(ctl_sanitize(b, sizeof(b), "plain"), "plain");
	/* an escape sequence in a process name prints harmlessly */
	assert_string_equal(ctl_sanitize(b, sizeof(b), "\x1b[2Jevil\r\n"), "?[2Jevil??");
	assert_string_equal(ctl_sanitize(b, sizeof(b), "caf\xc3\xa9"), "caf\xc3\xa9");
	assert_string_equal(ctl_sanitize(b, sizeof(b), "bad\xc3"), "bad?");
	assert_string_equal(ctl_sanitize(b, sizeof(b), "\xc2\x9b"), "?"); /* C1 CSI */
	assert_string_equal(ctl_sanitize(b, 4, "abcdef"), "abc");
	/* a multi-byte character that does not fit is left out whole */
	assert_string_equal(ctl_sanitize(b, 5, "abc\xc3\xa9"), "abc");
	assert_int_equal(ctl_text_width("caf\xc3\xa9"), 4);
}

/* Print t into a string. */
static char *print_table(struct ctl_table *t, unsigned int width)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	ctl_table_print(t, f, 0, width);
	fclose(f);
	return s;
}

static void assert_max_width(const char *text, size_t width)
{
	const char *line = text;

	while (*line) {
		size_t n = strcspn(line, "\n");
		char *l = strndup(line, n);

		if (ctl_text_width(l) > width)
			fail_msg("line wider than %zu: '%s'", width, l);
		if (n && l[n - 1] == ' ')
			fail_msg("trailing blank: '%s'", l);
		free(l);
		line += n + (line[n] == '\n');
	}
}

static void test_table(void **state)
{
	static const char *const h[] = {"PID", "COMM", "DETAIL"};
	static const unsigned int f[] = {CTL_COL_RIGHT, 0, CTL_COL_SHRINK};
	struct ctl_table *t = ctl_table_new(3, h, f);
	char *s;

	ctl_table_cell(t, "%d", 1);
	ctl_table_cell(t, "init");
	ctl_table_cell(t, "short");
	ctl_table_cell(t, "%d", 12345);
	ctl_table_cell(t, "stress-ng-vm");
	ctl_table_cell(t, "%s", "a very long detail that will not fit in a narrow terminal at all");
	assert_int_equal(ctl_table_rows(t), 2);

	s = print_table(t, 0);
	assert_string_equal(s, "  PID  COMM          DETAIL\n"
			       "    1  init          short\n"
			       "12345  stress-ng-vm  a very long detail that will not fit in a "
			       "narrow terminal at all\n");
	free(s);

	s = print_table(t, 40);
	assert_max_width(s, 40);
	assert_non_null(strstr(s, "...\n"));
	assert_non_null(strstr(s, "12345  stress-ng-vm  a very"));
	free(s);

	/* not shrinkable below the floor: wider than asked rather than useless */
	s = print_table(t, 10);
	assert_non_null(strstr(s, "stress-ng-vm"));
	free(s);
	ctl_table_free(t);
}

static void test_table_empty_last(void **state)
{
	static const char *const h[] = {"A", "NOTE"};
	struct ctl_table *t = ctl_table_new(2, h, NULL);
	char *s;

	ctl_table_cell(t, "x");
	ctl_table_cell(t, "%s", "");
	ctl_table_cell(t, "y");
	ctl_table_cell(t, "%s", "memory only");
	s = print_table(t, 0);
	assert_string_equal(s, "A  NOTE\nx\ny  memory only\n");
	free(s);
	ctl_table_free(t);
}

/* ---- renderers -------------------------------------------------------------------------- */

static char *render(const char *cmd, const char *json, unsigned int width, int *ret)
{
	struct json_object *o = json_tokener_parse(json);
	struct ctl_render_opts ro = {.width = width};
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	assert_non_null(o);
	*ret = ctl_render(cmd, o, f, &ro);
	fclose(f);
	json_object_put(o);
	return s;
}

static const char status_json[] =
	"{\"version\":\"0.1.0\",\"protocol\":1,\"mode\":\"enforce\",\"paused\":false,"
	"\"uptime_s\":11520,\"start_time\":0,\"config\":\"/etc/pagemig.conf\","
	"\"socket\":\"/run/pagemig/pagemigd.sock\",\"interval_ms\":5000,\"cycles\":2304,"
	"\"last_cycle_ms\":1.2,\"cycles_soon\":7,\"departures\":2,\"plans_skipped\":300,"
	"\"plans_topped_up\":4,\"nodes\":["
	"{\"id\":0,\"cpus\":\"0-15\",\"ncpus\":16,\"mem_total_bytes\":68719476736,"
	"\"mem_free_bytes\":34359738368,\"has_memory\":true,\"memory_only\":false,\"tier\":0,"
	"\"distances\":[10,21,30]},"
	"{\"id\":1,\"cpus\":\"16-31\",\"ncpus\":16,\"mem_total_bytes\":68719476736,"
	"\"mem_free_bytes\":1073741824,\"has_memory\":true,\"memory_only\":false,\"tier\":0,"
	"\"distances\":[21,10,30]},"
	"{\"id\":2,\"cpus\":\"\",\"ncpus\":0,\"mem_total_bytes\":274877906944,"
	"\"mem_free_bytes\":274877906944,\"has_memory\":true,\"memory_only\":true,\"tier\":1,"
	"\"distances\":[30,30,10]}],"
	"\"nothing_to_place\":false,\"sources\":["
	"{\"name\":\"fault\",\"state\":\"active\",\"detail\":\"raw_tp/page_fault_user, ring 8192 "
	"KiB, 65536 pages per interval\",\"error\":null},"
	"{\"name\":\"pmu\",\"state\":\"unavailable\",\"detail\":\"not available: no hardware PMU "
	"(no cpu/events/mem-loads and no ibs_op in /sys/bus/event_source/devices)\","
	"\"error\":\"ENODEV\"}],"
	"\"managed_processes\":12,\"pages_moved\":123456,\"pages_failed\":12,"
	"\"pages_moved_policy\":123400,\"pages_failed_policy\":12,\"pages_moved_manual\":56,"
	"\"pages_failed_manual\":0,\"bytes_moved\":529530880,\"pages_pending\":0,"
	"\"local_access_share\":0.875,\"move\":null,\"metrics_file\":null,\"status\":\"x\"}";

static void test_render_status(void **state)
{
	int ret;
	char *s = render("status", status_json, 80, &ret);

	assert_int_equal(ret, 0);
	assert_max_width(s, 80);
	assert_non_null(strstr(s, "pagemigd 0.1.0: enforcing, up 3h 12m"));
	assert_non_null(strstr(s, "12 managed processes, local access 87.5%"));
	assert_non_null(strstr(s, "7 brought forward, 2 departures; plans 300 skipped, 4 topped up"));
	assert_non_null(strstr(s, "pages moved 123456 (505.0 MiB), failed 12"));
	assert_non_null(strstr(s, "manually 56 moved"));
	assert_non_null(strstr(s, "64.0 GiB"));
	assert_non_null(strstr(s, "memory only"));
	assert_non_null(strstr(s, "10 21 30"));
	assert_non_null(strstr(s, "unavailable"));
	free(s);

	/* a daemon that sends almost nothing still gets a readable answer */
	s = render("status", "{}", 80, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(s, "pagemigd ?"));
	assert_null(strstr(s, "brought forward")); /* nothing to say: no line */
	free(s);
}

static void test_render_procs_history(void **state)
{
	int ret;
	char *s;

	s = render(
		"procs",
		"{\"processes\":[{\"pid\":4242,\"comm\":\"stress-ng-vm\",\"policy\":"
		"\"databases\",\"policy_type\":\"locality\",\"home_node\":1,\"rss_bytes\":"
		"1073741824,\"sampled_pages\":2052,\"pages_per_node\":[{\"node\":0,\"pages\":12},"
		"{\"node\":1,\"pages\":2040},{\"node\":2,\"pages\":0}],\"local_access_share\":"
		"0.98,\"pages_moved\":2040,\"pages_failed\":3,\"managed_s\":60}],\"total\":3,"
		"\"accounting_complete\":true}",
		80, &ret);
	assert_int_equal(ret, 0);
	assert_max_width(s, 80);
	assert_non_null(strstr(s, "4242"));
	assert_non_null(strstr(s, "0:12 1:2040"));
	assert_non_null(strstr(s, "98.0%"));
	assert_non_null(strstr(s, "1 of 3 managed processes shown"));
	assert_null(strstr(s, "settled"));
	free(s);

	/* a settled process: its home is marked, the mark explained */
	s = render("procs",
		   "{\"processes\":[{\"pid\":7,\"comm\":\"w\",\"policy\":\"p\",\"home_node\":1,"
		   "\"settled\":true},{\"pid\":8,\"comm\":\"v\",\"policy\":\"p\",\"home_node\":0,"
		   "\"settled\":false}],\"total\":2}",
		   80, &ret);
	assert_int_equal(ret, 0);
	assert_max_width(s, 80);
	assert_non_null(strstr(s, " 1* "));
	assert_null(strstr(s, " 0* "));
	assert_non_null(strstr(s, "*: settled"));
	assert_null(strstr(s, "+: held"));
	free(s);

	/* a held process: marked +, explained */
	s = render("procs",
		   "{\"processes\":[{\"pid\":7,\"comm\":\"w\",\"policy\":\"p\",\"home_node\":1,"
		   "\"held\":true,\"pending_moves\":200000}],\"total\":1}",
		   80, &ret);
	assert_int_equal(ret, 0);
	assert_max_width(s, 80);
	assert_non_null(strstr(s, " 1+ "));
	assert_non_null(strstr(s, "+: held"));
	free(s);

	s = render("history",
		   "{\"decisions\":[{\"source\":\"policy\",\"id\":7,\"time_ms\":1764106603123,"
		   "\"pid\":4242,\"comm\":\"stress-ng-vm\",\"policy\":\"databases\",\"reason\":"
		   "\"local_page\",\"from\":0,\"to\":1,\"pages_planned\":2048,\"pages_moved\":2040,"
		   "\"pages_failed\":8,\"observe\":false,\"outcome\":\"partial\",\"error\":null,"
		   "\"failed_step\":{\"label\":\"B6\",\"name\":\"refcount check\",\"number\":6,"
		   "\"documented\":true},\"failed_outcome\":\"migrate_failed\"},"
		   "{\"source\":\"manual\",\"id\":1,\"time_ms\":1764106600000,\"pid\":99,\"comm\":"
		   "\"w\",\"policy\":\"manual\",\"reason\":\"manual\",\"from\":null,\"to\":1,"
		   "\"pages_planned\":10,\"pages_moved\":10,\"pages_failed\":0,\"observe\":false,"
		   "\"outcome\":\"moved\",\"error\":null,\"failed_step\":null,\"failed_outcome\":"
		   "null}],\"total\":2}",
		   80, &ret);
	assert_int_equal(ret, 0);
	assert_max_width(s, 80);
	assert_non_null(strstr(s, "0->1"));
	assert_non_null(strstr(s, "->1 "));
	/* oldest first: the manual move (earlier) comes before the policy decision */
	assert_true(strstr(s, "manual") < strstr(s, "databases"));
	free(s);
	s = render("history",
		   "{\"decisions\":[{\"outcome\":\"partial\",\"pages_failed\":8,\"failed_step\":"
		   "{\"label\":\"B6\",\"name\":\"refcount check\"},\"failed_outcome\":"
		   "\"migrate_failed\"}]}",
		   0, &ret);
	assert_non_null(strstr(s, "partial: 8 failed at B6 refcount check (migrate_failed)"));
	free(s);
}

static void test_render_move(void **state)
{
	int ret;
	char *s = render(
		"move",
		"{\"id\":3,\"pid\":99,\"comm\":\"w\",\"node\":1,\"start\":\"0x7f0000000000\","
		"\"end\":\"0x7f0000200000\",\"completed\":true,\"error\":null,\"off_target\":0,"
		"\"elapsed_ms\":12,\"report\":{\"pages\":512,\"pages_on_target\":512,\"pages_"
		"moved\":"
		"500,\"bytes_moved\":2048000,\"by_outcome\":{\"moved\":500,\"already\":12},\"by_"
		"step\":"
		"{\"B1-B7\":3},\"first_by_step\":{\"B1-B7\":3},\"retries\":3,\"retry_rounds\":1,"
		"\"calls\":2,\"elapsed_ns\":12000000}}",
		0, &ret);

	assert_int_equal(ret, 0);
	/* the library's own report printer, fed from the JSON */
	assert_non_null(strstr(s, "manual move 3: process 99 (w) 0x7f0000000000-0x7f0000200000 "
				  "to node 1: completed"));
	assert_non_null(strstr(s, "512 pages: 512 on target (500 moved"));
	assert_non_null(strstr(s, "moved=500"));
	assert_non_null(strstr(s, "already=12"));
	assert_non_null(strstr(s, "B1-B7"));
	free(s);
}

static void test_render_others(void **state)
{
	int ret;
	char *s;

	s = render("config",
		   "{\"path\":\"/etc/pagemig.conf\",\"text\":\"[daemon]\\ninterval = "
		   "5s\\n\",\"changed_only\":false}",
		   0, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(s, "[daemon]\ninterval = 5s\n"));
	free(s);
	s = render("metrics", "{\"text\":\"# HELP a b\\n\"}", 0, &ret);
	assert_string_equal(s, "# HELP a b\n");
	free(s);
	s = render("pause", "{\"paused\":true,\"was_paused\":false,\"pages_dropped\":7}", 0, &ret);
	assert_non_null(strstr(s, "7 planned pages dropped"));
	free(s);
	s = render("audit", "{\"available\":false,\"detail\":\"no BPF\"}", 80, &ret);
	assert_non_null(strstr(s, "not running: no BPF"));
	free(s);
	s = render("nosuch", "{}", 0, &ret);
	assert_int_equal(ret, -ENOENT);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),	      cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_table),	      cmocka_unit_test(test_table_empty_last),
		cmocka_unit_test(test_render_status), cmocka_unit_test(test_render_procs_history),
		cmocka_unit_test(test_render_move),   cmocka_unit_test(test_render_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
