// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab cases 7 and 13: other processes.
 * 7. Another process by pid; the process exits part-way (-ESRCH, no crash); a reused pid is
 *    refused.
 * 13. Whole-range and whole-process moves agree with numactl's migratepages on what ends where.
 * And whole-process, range and list moves from several threads at once (pagemig_opts.threads).
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "labutil.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define BYTES (16ul << 20)

/* A child with a buffer of BYTES (half of it asked for in huge pages) placed on node 0, that
 * lives until its pipe closes or it is killed. The parent unmaps its own copy, so the child's
 * pages are its alone (a page shared copy-on-write would need PAGEMIG_MOVE_ALL). */
static pid_t spawn_worker(char **ret_buf, int *ret_fd)
{
	char *buf = lab_buffer(BYTES, 0, false, 11);
	int fds[2];
	char c;
	pid_t pid;

	madvise(buf, BYTES / 2, MADV_HUGEPAGE);
	if (pipe(fds))
		exit(1);
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		while (read(fds[0], &c, 1) > 0)
			;
		_exit(lab_pattern_ok(buf, BYTES, 11) ? 0 : 3);
	}
	close(fds[0]);
	munmap(buf, BYTES);
	*ret_buf = buf;
	*ret_fd = fds[1];
	return pid;
}

/* Close the child's pipe and return its exit status (0: its buffer was intact). */
static int finish(pid_t pid, int fd)
{
	int ws = 0;

	close(fd);
	waitpid(pid, &ws, 0);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static void test_by_pid(void)
{
	char *buf;
	int fd;
	pid_t pid = spawn_worker(&buf, &fd);
	size_t n = BYTES / ps;
	void **pages = lab_pages(buf, BYTES);
	int *nodes = lab_nodes(n, 1), *st = malloc(n * sizeof(int));
	struct pagemig_report rep;

	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(pid, n, pages, nodes, st, NULL, &rep), 0);
	CHECK_EQ(lab_count_on(pid, pages, n, 1), n);
	CHECK_EQ(pagemig_move_range(pid, (uintptr_t)buf, (uintptr_t)buf + BYTES, 0, NULL, NULL), 0);
	CHECK_EQ(lab_count_on(pid, pages, n, 0), n);
	CHECK_EQ(finish(pid, fd), 0);
	free(pages);
	free(nodes);
	free(st);
}

static void test_exits_part_way(void)
{
	char *buf;
	int fd;
	pid_t pid = spawn_worker(&buf, &fd);
	size_t n = BYTES / ps, on = 0, cancelled = 0;
	void **pages = lab_pages(buf, BYTES);
	int *nodes = lab_nodes(n, 1), *st = malloc(n * sizeof(int));
	struct pagemig_opts slow = {.sz = sizeof(slow),
				    .pages_per_call = 64,
				    .rate_bytes_per_s = 16ul << 20, /* the whole move takes 1 s */
				    .flags = PAGEMIG_NO_FOLIO_DEDUP};
	struct pagemig_report rep;
	long ret;

	if (fork() == 0) {
		usleep(300000);
		kill(pid, SIGKILL);
		_exit(0);
	}
	pagemig_report_init(&rep);
	ret = pagemig_move(pid, n, pages, nodes, st, &slow, &rep);
	CHECK_EQ(ret, -ESRCH);
	CHECK_EQ(rep.call_error, -ESRCH);
	for (size_t i = 0; i < n; i++) {
		on += st[i] == 1;
		cancelled += st[i] == -ECANCELED;
	}
	printf("  process killed part-way: %zu pages moved before, %zu not attempted\n", on,
	       cancelled);
	CHECK(on > 0 && cancelled > 0);
	CHECK_EQ(on + cancelled, n);
	finish(pid, fd);
	wait(NULL);
	free(pages);
	free(nodes);
	free(st);
}

/* Make the next fork get pid `want` (the lab runs as root in the initial pid namespace). */
static bool steer_next_pid(pid_t want)
{
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	char s[32];
	int len = snprintf(s, sizeof(s), "%d", (int)want - 1);
	bool ok = fd >= 0 && write(fd, s, (size_t)len) == len;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_pid_reuse_refused(void)
{
	char *buf;
	int fd, pidfd;
	pid_t pid = spawn_worker(&buf, &fd), again;
	size_t n = BYTES / ps;
	void **pages = lab_pages(buf, BYTES);
	int *nodes = lab_nodes(n, 1), *st = malloc(n * sizeof(int)), fds[2];
	struct pagemig_opts o = {.sz = sizeof(o), .flags = PAGEMIG_PIDFD};
	struct pagemig_report rep;
	char c;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	CHECK(pidfd >= 0);
	o.pidfd = pidfd;
	finish(pid, fd);

	/* another process takes the pid, with memory at the same addresses (forked from us) */
	if (pipe(fds) || !steer_next_pid(pid))
		SKIP_ALL("cannot steer pid allocation");
	again = fork();
	if (again == 0) {
		close(fds[1]);
		while (read(fds[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(fds[0]);
	CHECK_EQ(again, pid);
	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(pid, n, pages, nodes, st, &o, &rep), -ESRCH);
	CHECK(rep.pid_reused);
	CHECK_EQ(rep.calls, 0); /* refused before any call reached the new process */
	printf("  pid %d reused: refused, new process untouched\n", (int)pid);
	close(fds[1]);
	waitpid(again, NULL, 0);
	close(pidfd);
	free(pages);
	free(nodes);
	free(st);
}

/* Pages of the buffer per node in /proc/PID/numa_maps (N<node>= of every line in range). */
static void numa_maps_counts(pid_t pid, const char *buf, long counts[4])
{
	char path[64], line[1024];
	FILE *f;

	memset(counts, 0, 4 * sizeof(long));
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		uintptr_t a = strtoul(line, NULL, 16);

		if (a < (uintptr_t)buf || a >= (uintptr_t)buf + BYTES)
			continue;
		for (int node = 0; node < 4; node++) {
			char key[8], *k;

			snprintf(key, sizeof(key), " N%d=", node);
			k = strstr(line, key);
			if (k)
				counts[node] += strtol(k + strlen(key), NULL, 10);
		}
	}
	if (f)
		fclose(f);
}

static int run_migratepages(pid_t pid, int from, int to)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "migratepages %d %d %d", (int)pid, from, to);
	return system(cmd);
}

static void test_agrees_with_migratepages(void)
{
	char *buf;
	int fd;
	pid_t pid = spawn_worker(&buf, &fd);
	long ours[4], theirs[4];
	struct pagemig_report rep;

	if (access("/usr/bin/migratepages", X_OK) && access("/bin/migratepages", X_OK))
		SKIP_ALL("migratepages (numactl) is not in the image");
	pagemig_report_init(&rep);
	/* pages shared with us (libraries, copy-on-write) stay for both tools without MOVE_ALL */
	long ret = pagemig_move_process(pid, 1, NULL, &rep);
	CHECK(ret >= 0);
	CHECK_EQ(ret, rep.by_outcome[PAGEMIG_OUT_SHARED]);
	numa_maps_counts(pid, buf, ours);
	pagemig_report_print(stdout, &rep, "  pagemig_move_process");

	CHECK_EQ(run_migratepages(pid, 1, 0), 0);
	CHECK_EQ(run_migratepages(pid, 0, 1), 0);
	numa_maps_counts(pid, buf, theirs);
	printf("  buffer pages per node: pagemig %ld/%ld, migratepages %ld/%ld (node 0/1)\n",
	       ours[0], ours[1], theirs[0], theirs[1]);
	for (int node = 0; node < 4; node++)
		CHECK_EQ(ours[node], theirs[node]);
	CHECK_EQ(ours[1], (long)(BYTES / ps));
	CHECK_EQ(finish(pid, fd), 0);
}

/* A whole process and a range moved from 4 threads at once: everything ends on target, every
 * part made its own calls, the data is intact. */
static void test_threads(void)
{
	char *buf;
	int fd;
	pid_t pid = spawn_worker(&buf, &fd);
	size_t n = BYTES / ps;
	void **pages = lab_pages(buf, BYTES);
	struct pagemig_opts o = {.sz = sizeof(o), .threads = 4};
	struct pagemig_report rep;
	long ret;

	/* time in calls is summed over the threads: more than the wall time only if calls ran
	 * side by side (one thread's calls follow each other inside the operation). Under TCG on
	 * a busy host both vCPUs are not always running at once, so up to three tries (there and
	 * back) must show it once. */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (attempt) {
			pagemig_report_init(&rep);
			CHECK(pagemig_move_process(pid, 0, &o, &rep) >= 0);
		}
		pagemig_report_init(&rep);
		ret = pagemig_move_process(pid, 1, &o, &rep);
		pagemig_report_print(stdout, &rep, "  4 threads, pagemig_move_process");
		CHECK(ret >= 0);
		CHECK_EQ(ret, rep.by_outcome[PAGEMIG_OUT_SHARED]);
		CHECK(rep.calls >= 4);
		if (rep.kernel_ns > rep.elapsed_ns)
			break;
		printf("  try %d: %.1f ms in calls over %.1f ms: no calls side by side\n",
		       attempt + 1, rep.kernel_ns / 1e6, rep.elapsed_ns / 1e6);
	}
	CHECK(rep.kernel_ns > rep.elapsed_ns);
	CHECK_EQ(lab_count_on(pid, pages, n, 1), n);

	pagemig_report_init(&rep);
	ret = pagemig_move_range(pid, (uintptr_t)buf, (uintptr_t)buf + BYTES, 0, &o, &rep);
	CHECK_EQ(ret, 0);
	CHECK_EQ(rep.pages_on_target, n);
	CHECK(rep.calls >= 4);
	CHECK_EQ(lab_count_on(pid, pages, n, 0), n);
	CHECK_EQ(finish(pid, fd), 0);
	free(pages);
}

/* A list of pages moved from 2 threads: each part makes its own calls, every page ends on its
 * target, and each page's details are at its own index (the parts write the caller's array). */
static void test_threads_list(void)
{
	char *buf;
	int fd;
	pid_t pid = spawn_worker(&buf, &fd);
	size_t n = BYTES / 2 / ps, sizes[] = {300, 586, 648, 1000, 2048};
	/* the 4 KiB half: the first half was asked for in huge pages */
	void **pages = lab_pages(buf + BYTES / 2, BYTES / 2);
	struct pagemig_page_detail *det = calloc(n, sizeof(*det));
	int *st = malloc(n * sizeof(int));
	int node = 1;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++, node ^= 1) {
		size_t m = sizes[k];
		int *nodes = lab_nodes(m, node);
		/* no budget, 2048 entries a call: one thread would send each list in one call,
		 * two threads send one each */
		struct pagemig_opts o = {.sz = sizeof(o),
					 .threads = 2,
					 .details = det,
					 .pages_per_call = 2048,
					 .call_budget_us = UINT_MAX};
		struct pagemig_report rep;
		long ret;

		memset(det, 0, n * sizeof(*det));
		pagemig_report_init(&rep);
		ret = pagemig_move(pid, m, pages, nodes, st, &o, &rep);
		printf("  %zu pages to node %d, 2 threads: %lu calls, %.1f ms in calls over %.1f ms\n",
		       m, node, rep.calls, rep.kernel_ns / 1e6, rep.elapsed_ns / 1e6);
		CHECK_EQ(ret, 0);
		CHECK_EQ(rep.pages_on_target, m);
		/* below 2 x 256 pages one thread does it all (retries may add calls) */
		CHECK(m < 512 ? rep.calls >= 1 : rep.calls >= 2);
		CHECK_EQ(lab_count_on(pid, pages, m, node), m);
		for (size_t i = 0; i < m; i++) {
			CHECK_EQ(st[i], node);
			CHECK(det[i].final.success);
		}
		free(nodes);
	}
	CHECK_EQ(finish(pid, fd), 0);
	free(pages);
	free(det);
	free(st);
}

int main(void)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_by_pid),
		CHECK_TEST(test_exits_part_way),
		CHECK_TEST(test_pid_reuse_refused),
		CHECK_TEST(test_agrees_with_migratepages),
		CHECK_TEST(test_threads),
		CHECK_TEST(test_threads_list),
	};

	lab_need_nodes(2);
	return check_run(tests, 6);
}
