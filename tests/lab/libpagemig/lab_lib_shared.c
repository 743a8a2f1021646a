// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lab cases 5 and 6: pages shared with another process.
 * 5. Private pages shared copy-on-write with a child: -EACCES without PAGEMIG_MOVE_ALL, moved
 *    for both processes with it.
 * 6. Shared anonymous memory (shmem) mapped by two processes: record what the kernel does and
 *    check that the library's classification matches where the pages really are.
 */
#include <signal.h>
#include <sys/wait.h>

#include "labutil.h"

#define N 64

/* A child that keeps the parent's mappings until its pipe closes. With touch it first writes
 * one byte per page of p (shmem: the same pages; private: breaks the sharing). */
static pid_t hold(char *p, bool touch, int *ret_fd)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds))
		exit(1);
	pid = fork();
	if (pid == 0) {
		close(fds[1]);
		if (touch)
			for (size_t i = 0; i < N; i++)
				p[i * ps] = 1;
		while (read(fds[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(fds[0]);
	usleep(200000);
	*ret_fd = fds[1];
	return pid;
}

static void release(pid_t pid, int fd)
{
	close(fd);
	waitpid(pid, NULL, 0);
}

static void test_cow_private(void)
{
	char *p = lab_buffer(N * ps, 0, false, 5);
	void **pages = lab_pages(p, N * ps);
	int *nodes = lab_nodes(N, 1), st[N], fd;
	struct pagemig_report rep;
	struct pagemig_opts all = {.sz = sizeof(all), .flags = PAGEMIG_MOVE_ALL};
	pid_t child = hold(p, false, &fd);

	pagemig_report_init(&rep);
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, NULL, &rep), N);
	for (int i = 0; i < N; i++)
		CHECK_EQ(st[i], -EACCES);
	CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_SHARED], N);
	CHECK_EQ(rep.first_by_step[PAGEMIG_STEP_PRE], N);
	CHECK_EQ(rep.retries, 0);
	CHECK_EQ(lab_count_on(0, pages, N, 0), N);
	printf("  copy-on-write pages without MOVE_ALL: %d x -EACCES, step pre, not retried\n", N);

	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, &all, NULL), 0);
	CHECK_EQ(lab_count_on(0, pages, N, 1), N);
	CHECK_EQ(lab_count_on(child, pages, N, 1), N); /* the child sees the same pages moved */
	CHECK(lab_pattern_ok(p, N * ps, 5));
	release(child, fd);
	free(pages);
	free(nodes);
}

static void test_shmem(void)
{
	char *p = mmap(NULL, N * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	void **pages = lab_pages(p, N * ps);
	int *nodes = lab_nodes(N, 1), st[N], where[N], fd;
	size_t moved = 0, eacces = 0;
	struct pagemig_report rep;
	pid_t child;

	memset(p, 9, N * ps);
	child = hold(p, true, &fd);
	pagemig_report_init(&rep);
	long ret = pagemig_move(0, N, pages, nodes, st, NULL, &rep);
	CHECK_EQ(pagemig_query(0, N, pages, where), 0);
	for (int i = 0; i < N; i++) {
		moved += where[i] == 1;
		eacces += st[i] == -EACCES;
		/* the library's word matches the kernel's placement */
		CHECK_EQ(st[i] == 1, where[i] == 1);
		if (st[i] != 1)
			CHECK_EQ(st[i], -EACCES);
	}
	CHECK_EQ(ret, N - (long)moved);
	CHECK_EQ(rep.by_outcome[PAGEMIG_OUT_SHARED], eacces);
	printf("  shmem mapped by two processes, no MOVE_ALL: %zu moved, %zu -EACCES "
	       "(kernel %s)\n",
	       moved, eacces, getenv("LAB_KERNEL") ? getenv("LAB_KERNEL") : "?");
	CHECK_EQ(lab_count_on(child, pages, N, 1), moved);

	struct pagemig_opts all = {.sz = sizeof(all), .flags = PAGEMIG_MOVE_ALL};
	CHECK_EQ(pagemig_move(0, N, pages, nodes, st, &all, NULL), 0);
	CHECK_EQ(lab_count_on(child, pages, N, 1), N);
	release(child, fd);
	free(pages);
	free(nodes);
}

int main(void)
{
	static const struct check_test tests[] = {
		CHECK_TEST(test_cow_private),
		CHECK_TEST(test_shmem),
	};

	lab_need_nodes(2);
	return check_run(tests, 2);
}
