// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daemon/procs.c: the scans' cache (procs_cache_read). A process seen before is read from its
 * stat alone while it is the same process running the same program; a new start time, a new
 * name or an old full read make a full read. Files under a private proc root in $TMPDIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "procs.h"

#define PID 4242

static char root[256];

static void put(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/%s", root, PID, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A stat line as the kernel prints it: comm, threads, start time, vsize (bytes), rss (pages). */
static void put_stat(const char *comm, int threads, unsigned long long start,
		     unsigned long long vsize, unsigned long long rss)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 %d 0 %llu %llu %llu "
		 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		 PID, comm, PID, PID, threads, start, vsize, rss);
	put("stat", text);
}

static void put_process(const char *comm, const char *cgroup)
{
	char text[256];

	put_stat(comm, 2, 777, 1 << 30, 100);
	snprintf(text, sizeof(text), "%s\n", comm);
	put("comm", text);
	snprintf(text, sizeof(text), "0::%s\n", cgroup);
	put("cgroup", text);
	put("status", "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nThreads:\t2\n"
		      "Mems_allowed_list:\t0-1\n");
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char dir[300];

	snprintf(root, sizeof(root), "%s/procs-cache.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/%d", root, PID);
	assert_int_equal(mkdir(dir, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* One scan: read PID at now_ms, end the scan. */
static int scan(struct procs_cache *c, uint64_t now_ms, struct proc_info *p)
{
	int err = procs_cache_read(c, root, PID, now_ms, 10000, p);

	procs_cache_end_scan(c);
	return err;
}

static void test_stat_only_while_unchanged(void **state)
{
	struct procs_cache c = {0};
	struct proc_info p;

	put_process("worker", "/a");
	assert_int_equal(scan(&c, 1000, &p), 0);
	assert_string_equal(p.cgroup, "/a");
	assert_string_equal(p.comm, "worker");
	assert_int_equal(c.full_reads, 1);
	/* the cgroup changes, the stat does not (but for its size): as read in full */
	put("cgroup", "0::/b\n");
	put_stat("worker", 3, 777, 1 << 30, 300);
	assert_int_equal(scan(&c, 2000, &p), 0);
	assert_int_equal(c.full_reads, 1);
	assert_int_equal(c.stat_reads, 1);
	assert_string_equal(p.cgroup, "/a");
	assert_int_equal(p.rss_bytes, 300 * (uint64_t)sysconf(_SC_PAGESIZE));
	assert_int_equal(p.threads, 3);
	assert_int_equal(p.uid, 1000);
	assert_int_equal(p.start_time, 777);
	/* ten seconds after the full read: read in full again, the move shows */
	assert_int_equal(scan(&c, 11000, &p), 0);
	assert_int_equal(c.full_reads, 2);
	assert_string_equal(p.cgroup, "/b");
	procs_cache_free(&c);
}

static void test_new_process_or_exec(void **state)
{
	struct procs_cache c = {0};
	struct proc_info p;

	put_process("worker", "/a");
	assert_int_equal(scan(&c, 1000, &p), 0);
	/* exec: a new name in stat */
	put_process("backup", "/b");
	assert_int_equal(scan(&c, 1500, &p), 0);
	assert_int_equal(c.full_reads, 2);
	assert_string_equal(p.comm, "backup");
	assert_string_equal(p.cgroup, "/b");
	/* another process under the pid: a new start time */
	put("cgroup", "0::/c\n");
	put_stat("backup", 1, 900, 1 << 30, 10);
	assert_int_equal(scan(&c, 1600, &p), 0);
	assert_int_equal(c.full_reads, 3);
	assert_string_equal(p.cgroup, "/c");
	/* a scan that did not see it forgets it */
	procs_cache_end_scan(&c);
	assert_int_equal(scan(&c, 1700, &p), 0);
	assert_int_equal(c.full_reads, 4);
	procs_cache_free(&c);
}

/* Kernel threads and zombies (vsize 0) are no processes to manage; a vanished one is -ESRCH. */
static void test_no_memory_gone(void **state)
{
	struct procs_cache c = {0};
	struct proc_info p;
	char path[512];

	put_process("worker", "/a");
	put_stat("worker", 1, 777, 0, 0);
	assert_int_equal(scan(&c, 1000, &p), -ENOENT);
	assert_int_equal(c.full_reads, 0);
	snprintf(path, sizeof(path), "%s/%d/stat", root, PID);
	unlink(path);
	assert_int_equal(scan(&c, 2000, &p), -ESRCH);
	procs_cache_free(&c);
}

/* The stat parser: a name with ')' and spaces, and text that is not a stat. */
static void test_parse_stat_fields(void **state)
{
	const char *odd = "12 (a) b (c) S 1 12 12 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 7 0 "
			  "55 4096 3 0\n";
	struct proc_stat st;

	assert_int_equal(procs_parse_stat_fields(odd, strlen(odd), &st), 0);
	assert_string_equal(st.comm, "a) b (c");
	assert_int_equal(st.threads, 7);
	assert_int_equal(st.start_time, 55);
	assert_int_equal(st.vsize, 4096);
	assert_int_equal(st.rss_pages, 3);
	assert_int_equal(procs_parse_stat_fields("12 (x) S 1", 10, &st), -EINVAL);
	assert_int_equal(procs_parse_stat_fields("12 x) S", 7, &st), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stat_only_while_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_process_or_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_memory_gone, setup, teardown),
		cmocka_unit_test(test_parse_stat_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
