// SPDX-License-Identifier: LGPL-2.1-or-later
/* Lab case 11: an unprivileged caller moving another user's process gets -EPERM, and
 * PAGEMIG_MOVE_ALL unprivileged gets -EPERM. */
#include <sys/wait.h>

#include "labutil.h"

#define N 16

static void test_unprivileged(void)
{
	char *p = lab_buffer(N * ps, 0, false, 8);
	void **pages = lab_pages(p, N * ps);
	int *nodes = lab_nodes(N, 1), fds[2], ws = 0;
	pid_t root_child, nobody;
	char c;

	if (pipe(fds))
		exit(1);
	root_child = fork();
	if (root_child == 0) {
		close(fds[1]);
		while (read(fds[0], &c, 1) > 0)
			;
		_exit(0);
	}
	nobody = fork();
	if (nobody == 0) {
		int st[N];
		struct pagemig_opts all = {.sz = sizeof(all), .flags = PAGEMIG_MOVE_ALL};
		int bad = 0;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (pagemig_move(root_child, N, pages, nodes, st, NULL, NULL) != -EPERM)
			bad |= 4;
		if (pagemig_move(0, N, pages, nodes, st, &all, NULL) != -EPERM)
			bad |= 8;
		/* its own pages, without MOVE_ALL, are its own business */
		if (pagemig_move(0, N, pages, nodes, st, NULL, NULL) < 0)
			bad |= 16;
		_exit(bad);
	}
	waitpid(nobody, &ws, 0);
	CHECK(WIFEXITED(ws));
	CHECK_EQ(WEXITSTATUS(ws), 0);
	CHECK_EQ(lab_count_on(root_child, pages, N, 0), N);
	close(fds[1]);
	waitpid(root_child, NULL, 0);
	free(pages);
	free(nodes);
}

int main(void)
{
	static const struct check_test tests[] = {CHECK_TEST(test_unprivileged)};

	lab_need_nodes(2);
	return check_run(tests, 1);
}
